//! The Exact Online sandbox over real HTTP (issue 3): one test per rule, against `spawn` on 127.0.0.1:0.

#[path = "sandbox/common.rs"]
mod common;

#[path = "sandbox/oauth.rs"]
mod oauth;

#[path = "sandbox/data.rs"]
mod data;

#[path = "sandbox/limits.rs"]
mod limits;

#[path = "sandbox/faults.rs"]
mod faults;

#[path = "sandbox/admin.rs"]
mod admin;

#[path = "sandbox/documented.rs"]
mod documented;
