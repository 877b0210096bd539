//! Ledgerline: an open-source, self-hostable unified accounting API (Codat-compatible)
//! with Exact Online NL and UK behind a provider trait.
//!
//! The module tree is the architecture, read from the outside in:
//! `cli` → `app` (state, start-up, serving) → `api` (HTTP in Codat's wire format) →
//! `store` (sqlx: SQLite or PostgreSQL) and `crypto` (secrets at rest). `catalog` lists the
//! integrations a tenant can configure, read from the data files in `providers/`.
//! `sandbox` is a local stand-in for Exact Online.

pub mod api;
pub mod app;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod crypto;
pub mod demo;
pub mod html_headers;
pub mod key_check;
pub mod model;
pub mod portal;
pub mod provider;
pub mod query;
pub mod sandbox;
pub mod store;
pub mod sync;
pub mod tasks;
pub mod telemetry;
