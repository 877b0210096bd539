//! Prometheus metrics: what the code counts as it runs (requests, upstream calls, refreshes,
//! pulls) through the `metrics` facade, and what is read from the store when `/metrics` is
//! scraped (budgets, sync lag, the read cache).
//!
//! Labels carry ids and fixed words only (route templates, integration keys, Exact division
//! codes, company ids, data types, outcomes): never a name, a path with ids in it, or a token.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::app::AppState;
use crate::store::StoreError;

/// Latency buckets for HTTP requests (seconds): a warm read is a millisecond, a cold query a
/// second, and the request timeout 30.
const HTTP_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];
/// Pull durations (seconds): an unchanged pull takes a second, a first pull of big books an hour.
const PULL_BUCKETS: [f64; 10] = [
    0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0,
];
/// How often histogram samples are folded in when nobody scrapes, so memory stays bounded.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's recorder: installed once, shared by every server in the process (tests run
/// several; their counters add up, which is why tests compare before and after).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = || {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("ledgerline_http_request_duration_seconds".into()),
                    &HTTP_BUCKETS,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("ledgerline_pull_duration_seconds".into()),
                        &PULL_BUCKETS,
                    )
                })
                .expect("the bucket lists are not empty")
        };
        match builder().install_recorder() {
            Ok(handle) => handle,
            Err(e) => {
                // Another recorder owns the facade (an embedding program's): /metrics then
                // shows only what is read at scrape time.
                tracing::warn!(error = %e, "the metrics recorder could not be installed");
                builder().build_recorder().handle()
            }
        }
    })
}

/// One HTTP request answered: by method, route template and status.
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let labels = [
        ("method", method.to_string()),
        ("route", route.to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!("ledgerline_http_requests_total", &labels).increment(1);
    metrics::histogram!("ledgerline_http_request_duration_seconds", &labels[..2])
        .record(elapsed.as_secs_f64());
}

/// How one upstream attempt ended, as the `outcome` label says it.
pub fn upstream_outcome(status: Option<u16>) -> &'static str {
    match status {
        None => "no_answer",
        Some(200..=299) => "ok",
        Some(401) => "unauthorized",
        Some(429) => "rate_limited",
        Some(400..=499) => "client_error",
        Some(_) => "server_error",
    }
}

/// One call sent upstream (each retry is a call): `division` is empty for calls not made in
/// one (the user's `current/Me`).
pub fn upstream_call(integration: &str, division: &str, status: Option<u16>) {
    let labels = [
        ("integration", integration.to_string()),
        ("division", division.to_string()),
        ("outcome", upstream_outcome(status).to_string()),
    ];
    metrics::counter!("ledgerline_upstream_calls_total", &labels).increment(1);
    if status == Some(429) {
        metrics::counter!("ledgerline_upstream_429_total", &labels[..2]).increment(1);
    }
}

/// One token refresh that reached the upstream: `success`, `rejected` (the connection must be
/// linked again), `too_early` or `error`.
pub fn token_refresh(integration: &str, outcome: &'static str) {
    metrics::counter!(
        "ledgerline_token_refreshes_total",
        "integration" => integration.to_string(),
        "outcome" => outcome,
    )
    .increment(1);
}

/// One pull ended: `outcome` is Codat's status (`Complete`, `FetchError`, `AuthError`, …).
pub fn pull_ended(data_type: &str, outcome: &str) {
    metrics::counter!(
        "ledgerline_pulls_total",
        "data_type" => data_type.to_string(),
        "outcome" => outcome.to_string(),
    )
    .increment(1);
}

/// How long a pull ran and how many records it read.
pub fn pull_measured(data_type: &str, outcome: &str, elapsed: Duration, records: u64) {
    metrics::histogram!(
        "ledgerline_pull_duration_seconds",
        "data_type" => data_type.to_string(),
        "outcome" => outcome.to_string(),
    )
    .record(elapsed.as_secs_f64());
    metrics::counter!(
        "ledgerline_pull_records_total",
        "data_type" => data_type.to_string(),
    )
    .increment(records);
}

/// The whole `/metrics` text: what was counted, then this instance's view of the store and
/// its cache at this instant.
pub async fn render(state: &AppState) -> Result<String, StoreError> {
    let mut text = handle().render();
    let now = state.clock.now_ms();
    let mut family = Family::new(&mut text);

    let budgets = state.store.upstream_call_budgets(now).await?;
    let remaining = |limit: i64, used: i64, blocked_until: i64| {
        if blocked_until > now {
            0
        } else {
            (limit - used).max(0)
        }
    };
    family.gauge(
        "ledgerline_upstream_budget_minute_remaining",
        "Calls left in this clock minute for an (integration, division) budget, by the count \
         every instance shares",
        budgets.iter().map(|(app, division, row)| {
            (
                budget_labels(app, division),
                remaining(row.minute_limit, row.minute_used, row.minute_blocked_until) as f64,
            )
        }),
    );
    family.gauge(
        "ledgerline_upstream_budget_day_remaining",
        "Calls left in this UTC day for an (integration, division) budget",
        budgets.iter().map(|(app, division, row)| {
            (
                budget_labels(app, division),
                remaining(row.day_limit, row.day_used, row.day_blocked_until) as f64,
            )
        }),
    );
    family.gauge(
        "ledgerline_upstream_budget_day_limit",
        "The daily call limit of an (integration, division) budget, as the upstream last said",
        budgets
            .iter()
            .map(|(app, division, row)| (budget_labels(app, division), row.day_limit as f64)),
    );

    let syncs = state.store.last_successful_syncs().await?;
    let company_ids: Vec<String> = syncs.iter().map(|s| s.0.to_string()).collect();
    family.gauge(
        "ledgerline_sync_lag_seconds",
        "Seconds since the last successful pull of a company's data type",
        syncs
            .iter()
            .zip(&company_ids)
            .map(|((_, data_type, at), id)| {
                (
                    vec![
                        ("company_id", id.as_str()),
                        ("data_type", data_type.as_str()),
                    ],
                    ((now - at).max(0) as f64) / 1000.0,
                )
            }),
    );

    let cache = state.cache.stats().await;
    let single = |value: f64| std::iter::once((Vec::new(), value));
    family.gauge(
        "ledgerline_cache_entries",
        "Entries (pages, records, counts, query columns) held by this instance's read cache",
        single(cache.entries as f64),
    );
    family.gauge(
        "ledgerline_cache_weighted_bytes",
        "Bytes the read cache counts against its bound",
        single(cache.weighted_bytes as f64),
    );
    family.counter(
        "ledgerline_cache_hits_total",
        "Reads served from this instance's cache",
        single(cache.hits as f64),
    );
    family.counter(
        "ledgerline_cache_misses_total",
        "Reads that had to load from the store or compute a selection",
        single(cache.misses as f64),
    );
    let lookups = cache.hits + cache.misses;
    family.gauge(
        "ledgerline_cache_hit_ratio",
        "Hits over lookups since the start (1 before the first lookup)",
        single(if lookups == 0 {
            1.0
        } else {
            cache.hits as f64 / lookups as f64
        }),
    );
    Ok(text)
}

/// Writes metric families in Prometheus' text format.
struct Family<'a> {
    out: &'a mut String,
}

impl<'a> Family<'a> {
    fn new(out: &'a mut String) -> Self {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        Family { out }
    }

    fn gauge<'l>(
        &mut self,
        name: &str,
        help: &str,
        samples: impl Iterator<Item = (Vec<(&'l str, &'l str)>, f64)>,
    ) {
        self.write(name, "gauge", help, samples);
    }

    fn counter<'l>(
        &mut self,
        name: &str,
        help: &str,
        samples: impl Iterator<Item = (Vec<(&'l str, &'l str)>, f64)>,
    ) {
        self.write(name, "counter", help, samples);
    }

    fn write<'l>(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        samples: impl Iterator<Item = (Vec<(&'l str, &'l str)>, f64)>,
    ) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            self.out.push_str(name);
            if !labels.is_empty() {
                let pairs: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                let _ = write!(self.out, "{{{}}}", pairs.join(","));
            }
            let _ = writeln!(self.out, " {value}");
        }
    }
}

/// A label value as the text format wants it: backslash, quote and newline escaped.
/// The labels of an (integration, division) budget's gauges.
fn budget_labels<'a>(app: &'a str, division: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![("integration", app), ("division", division)]
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_written_in_the_text_format() {
        let mut out = String::new();
        let mut family = Family::new(&mut out);
        family.gauge(
            "x_remaining",
            "Calls left",
            vec![(vec![("division", "10\"1")], 59.0)].into_iter(),
        );
        assert_eq!(
            out,
            "# HELP x_remaining Calls left\n# TYPE x_remaining gauge\nx_remaining{division=\"10\\\"1\"} 59\n"
        );
    }

    #[test]
    fn outcomes_name_the_kind_of_answer() {
        assert_eq!(upstream_outcome(Some(200)), "ok");
        assert_eq!(upstream_outcome(Some(429)), "rate_limited");
        assert_eq!(upstream_outcome(Some(503)), "server_error");
        assert_eq!(upstream_outcome(Some(404)), "client_error");
        assert_eq!(upstream_outcome(None), "no_answer");
    }
}
