//! Black-box tests of the foundation: a real server over HTTP on an ephemeral port.

#[path = "../common/mod.rs"]
mod common;
mod harness;

mod call_budget;
mod companies;
mod errors;
mod hardening;
mod openapi;
mod process;
mod read_path;
mod read_scale;
mod readme;
mod settings;
mod store;
mod sync_settings;
mod tenants;
