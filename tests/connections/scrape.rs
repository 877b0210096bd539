//! `/metrics` through a real pull against the sandbox: it parses as Prometheus text, and the
//! budget gauges, pull and upstream counters, refreshes and sync lag move as the pull runs.
//! Counters are process-wide (tests in this binary run side by side), so they are compared
//! before and after; the budget and lag gauges are per division and company, so they are read.

use std::time::Duration;

use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{MetricsExposition, PrometheusType, PrometheusValue};
use reqwest::Method;
use serde_json::Value;

use crate::world::{ADMIN_KEY, World};

type Exposition = MetricsExposition<PrometheusType, PrometheusValue>;

/// Scrapes `/metrics` with the admin key and parses it as Prometheus would.
async fn scrape(world: &World) -> Exposition {
    let response = world
        .http
        .get(format!("{}/metrics", world.server.base))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    parse_prometheus(&text).unwrap_or_else(|e| panic!("/metrics does not parse: {e:?}\n{text}"))
}

/// Every sample of the family `name` as (labels, value); a histogram gives its count.
fn samples(exposition: &Exposition, name: &str) -> Vec<(Vec<(String, String)>, f64)> {
    let Some(family) = exposition.families.get(name) else {
        return Vec::new();
    };
    family
        .iter_samples()
        .map(|sample| {
            let labels = sample
                .get_labelset()
                .expect("a parsed sample has its family's label names")
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let value = match &sample.value {
                PrometheusValue::Unknown(n) | PrometheusValue::Gauge(n) => n.as_f64(),
                PrometheusValue::Counter(c) => c.value.as_f64(),
                PrometheusValue::Histogram(h) => h.count.map_or(0.0, |c| c as f64),
                PrometheusValue::Summary(s) => s.count.map_or(0.0, |c| c as f64),
            };
            (labels, value)
        })
        .collect()
}

/// The value of the sample of `name` whose labels include every pair of `labels`, or `None`.
fn value(exposition: &Exposition, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples(exposition, name)
        .into_iter()
        .find(|(have, _)| {
            labels
                .iter()
                .all(|(k, v)| have.iter().any(|(hk, hv)| hk == k && hv == v))
        })
        .map(|(_, value)| value)
}

/// Queues a pull of invoices and waits for it to end; returns its status.
async fn pull_invoices(world: &World, company: &str) -> String {
    let queued: Value = world
        .api(
            Method::POST,
            &format!("/companies/{company}/data/queue/invoices"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = queued["id"].as_str().unwrap().to_string();
    for _ in 0..300 {
        let pull = world
            .get_json(&format!("/companies/{company}/data/history/{id}"))
            .await;
        let status = pull["status"].as_str().unwrap_or("").to_string();
        if !matches!(status.as_str(), "Queued" | "Fetching" | "Mapping") {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the pull did not end");
}

#[tokio::test]
async fn budget_gauges_and_pull_counters_move_after_a_pull_through_the_sandbox() {
    gauges_and_counters_move(&World::start().await).await;
}

/// The same on PostgreSQL: the budget and sync-lag reads are SQL of their own.
#[tokio::test]
async fn budget_gauges_and_sync_lag_are_read_from_postgresql_too() {
    World::on_postgres(
        "budget_gauges_and_sync_lag_are_read_from_postgresql_too",
        gauges_and_counters_move,
    )
    .await;
}

async fn gauges_and_counters_move(world: &World) {
    let nl = [("integration", "exact-online-nl"), ("division", "101002")];
    let complete = [("data_type", "invoices"), ("outcome", "Complete")];
    let calls_ok = [
        ("integration", "exact-online-nl"),
        ("division", "101002"),
        ("outcome", "ok"),
    ];
    let before = scrape(world).await;
    assert_eq!(
        value(&before, "ledgerline_upstream_budget_day_remaining", &nl),
        None,
        "no budget before the division's first call"
    );

    let company = world
        .linked_and_pulled("Metrics BV", "exact-online-nl", "101002")
        .await;
    let after_link = scrape(world).await;
    let day_limit = value(&after_link, "ledgerline_upstream_budget_day_limit", &nl)
        .expect("the division's budget is shown");
    let day_left = value(&after_link, "ledgerline_upstream_budget_day_remaining", &nl).unwrap();
    assert!(
        day_left < day_limit,
        "the first pulls spent some of the day: {day_left} of {day_limit}"
    );
    let minute_left = value(
        &after_link,
        "ledgerline_upstream_budget_minute_remaining",
        &nl,
    )
    .unwrap();
    assert!((0.0..=60.0).contains(&minute_left), "{minute_left}");
    let lag = value(
        &after_link,
        "ledgerline_sync_lag_seconds",
        &[("company_id", &company), ("data_type", "invoices")],
    )
    .expect("the company's invoices have a sync lag");
    assert!((0.0..60.0).contains(&lag), "just pulled: {lag} s");
    let counted = |exposition: &Exposition, name: &str, labels: &[(&str, &str)]| {
        value(exposition, name, labels).unwrap_or(0.0)
    };
    assert!(
        counted(&after_link, "ledgerline_pulls_total", &complete)
            > counted(&before, "ledgerline_pulls_total", &complete)
    );
    assert!(
        counted(&after_link, "ledgerline_upstream_calls_total", &calls_ok)
            > counted(&before, "ledgerline_upstream_calls_total", &calls_ok)
    );

    // Another pull, after Exact's 570 s: it refreshes the token first, and spends more of the
    // day's budget.
    world.advance(600).await;
    let refreshed = [("integration", "exact-online-nl"), ("outcome", "success")];
    assert_eq!(pull_invoices(world, &company).await, "Complete");
    let after_pull = scrape(world).await;
    assert!(
        value(&after_pull, "ledgerline_upstream_budget_day_remaining", &nl).unwrap() < day_left,
        "the pull spent more of the day"
    );
    assert!(
        counted(&after_pull, "ledgerline_token_refreshes_total", &refreshed)
            > counted(&after_link, "ledgerline_token_refreshes_total", &refreshed)
    );
    assert!(
        counted(&after_pull, "ledgerline_pulls_total", &complete)
            > counted(&after_link, "ledgerline_pulls_total", &complete)
    );
    let durations = "ledgerline_pull_duration_seconds";
    assert!(
        counted(&after_pull, durations, &complete) > counted(&after_link, durations, &complete),
        "the pull's duration was recorded"
    );
    assert!(
        counted(
            &after_pull,
            "ledgerline_pull_records_total",
            &[("data_type", "invoices")]
        ) > 0.0
    );

    // Requests are counted by route template, never by a path with ids in it.
    let status_route = [
        ("route", "/companies/{companyId}/dataStatus"),
        ("status", "200"),
    ];
    assert!(counted(&after_pull, "ledgerline_http_requests_total", &status_route) > 0.0);
    for name in [
        "ledgerline_http_requests_total",
        "ledgerline_http_request_duration_seconds",
    ] {
        for (labels, _) in samples(&after_pull, name) {
            for (_, label) in labels {
                assert!(!label.contains(&company), "a raw path in a label: {label}");
            }
        }
    }
    assert!(value(&after_pull, "ledgerline_cache_hit_ratio", &[]).is_some());
}
