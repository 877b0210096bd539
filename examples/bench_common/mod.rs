//! The start every benchmark shares: quiet logging, an HTTP client that does not follow
//! redirects (the link flow's redirects are the benchmark's to follow), and the sandbox's demo
//! NL app. Included by each example with `#[path]`; not an example itself (no `main.rs`).

#![allow(dead_code)]

use std::time::Duration;

use anyhow::{Context, bail};
use ledgerline::sandbox::{App, Region, Seed};
use serde_json::Value;

/// Logs off unless asked: `RUST_LOG=ledgerline=debug` shows the budget's waits and the pulls.
pub fn quiet_logs() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .init();
}

/// A client that leaves redirects to the caller, giving up after `timeout`.
pub fn http_client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()?)
}

/// The seed's approved NL app, the one every benchmark links through.
pub fn demo_nl_app(seed: &Seed) -> anyhow::Result<App> {
    Ok(seed
        .apps
        .iter()
        .find(|a| a.region == Region::Nl && a.approved)
        .context("the demo NL app")?
        .clone())
}

/// `GET url` as JSON; any status but 2xx is an error carrying the body.
pub async fn get_json(http: &reqwest::Client, url: impl reqwest::IntoUrl) -> anyhow::Result<Value> {
    let url = url.into_url()?;
    let response = http.get(url.clone()).send().await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("GET {url} answered {status}: {text}");
    }
    Ok(serde_json::from_str(&text)?)
}
