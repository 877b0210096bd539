//! Connections, the link flow and the token engine, over real HTTP against the Exact sandbox.

#[path = "../common/mod.rs"]
mod common;
mod world;

mod failures;
mod flow;
mod limits;
mod link_guard;
mod return_to_app;
mod scrape;
mod shared_budget;
mod tokens;
