//! Exact's limits and faults: 5xx and 429 recovered, and never more than 60 calls a minute.

use std::time::Duration;

use serde_json::{Value, json};

use crate::world::{NL_APP, World};

fn division_stats(stats: &Value, division: &str) -> Value {
    stats["regions"]["nl"]["apps"][NL_APP.0]["divisions"][division].clone()
}

async fn wait_for(world: &World, what: &str, check: impl Fn(&Value) -> bool) {
    for _ in 0..150 {
        if check(&world.stats().await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}: {}", world.stats().await);
}

async fn linked(world: &World) -> (String, Value) {
    let company = world.company("Acme").await;
    let connection = world.connection(&company, "exact-online-nl").await;
    let (status, page) = world.link(&connection, Some("101001")).await;
    assert_eq!(status, 200, "{page}");
    // Linking queues the first pull; let it finish so that faults and counts meet only the
    // calls a test makes.
    world.wait_for_pull(&company).await;
    (company, connection)
}

#[tokio::test]
async fn server_errors_during_linking_are_retried() {
    let world = World::start().await;
    world
        .fault(json!({"kind": "status", "status": 503, "path": "system/Divisions", "count": 2}))
        .await;
    let (company, connection) = linked(&world).await;
    assert_eq!(
        world.reload(&company, &connection).await["status"],
        "Linked"
    );
    let stats = world.stats().await;
    let errors = stats.to_string();
    assert!(
        errors.contains("503")
            || division_stats(&stats, "101001")["errors_by_endpoint"]
                .as_object()
                .is_some_and(|e| !e.is_empty()),
        "{stats}"
    );
}

#[tokio::test]
async fn a_429_waits_for_the_window_to_reset() {
    let world = World::start().await;
    let (_, connection) = linked(&world).await;
    let row = world.row(&connection).await;
    world
        .fault(json!({"kind": "status", "status": 429, "path": "system/Divisions", "count": 1}))
        .await;
    let call = {
        let row = row.clone();
        let server_state = world.server.state.clone();
        tokio::spawn(async move {
            let provider = server_state
                .registry
                .provider(&row.integration_key)
                .unwrap();
            let tokens = server_state.tokens.for_connection(&row);
            let session = ledgerline::provider::Session {
                integration_key: &row.integration_key,
                upstream_company_id: None,
                tokens: &tokens,
                priority: ledgerline::provider::CallPriority::OnDemand,
            };
            provider
                .companies(&session)
                .await
                .map(|r| r.companies.len())
        })
    };
    wait_for(&world, "the 429", |s| {
        division_stats(s, "101001")["rate_limited"] == 1
    })
    .await;
    assert!(
        !call.is_finished(),
        "the call waits for the next window instead of failing"
    );
    world.advance(61).await;
    let divisions = tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(divisions, 1);
}

#[tokio::test]
async fn seventy_calls_never_exceed_sixty_in_a_minute() {
    let world = World::start().await;
    let (_, connection) = linked(&world).await;
    // The link's pull of every data type spends a third of its minute: start in a fresh one.
    world.advance(60).await;
    let before = division_stats(&world.stats().await, "101001")["calls_total"]
        .as_u64()
        .unwrap();
    let row = world.row(&connection).await;
    let state = world.server.state.clone();
    let calls = tokio::spawn(async move {
        let provider = state.registry.provider(&row.integration_key).unwrap();
        let tokens = state.tokens.for_connection(&row);
        let session = ledgerline::provider::Session {
            integration_key: &row.integration_key,
            upstream_company_id: None,
            tokens: &tokens,
            priority: ledgerline::provider::CallPriority::OnDemand,
        };
        for n in 0..70 {
            provider
                .companies(&session)
                .await
                .unwrap_or_else(|e| panic!("call {n}: {e}"));
        }
    });
    wait_for(&world, "the first minute's calls", |s| {
        division_stats(s, "101001")["calls_total"]
            .as_u64()
            .unwrap_or(0)
            >= before + 50
    })
    .await;
    // Let the budget hold the rest back, then open the next window.
    tokio::time::sleep(Duration::from_millis(500)).await;
    world.advance(60).await;
    tokio::time::timeout(Duration::from_secs(60), calls)
        .await
        .unwrap()
        .unwrap();
    let stats = division_stats(&world.stats().await, "101001");
    assert_eq!(
        stats["calls_total"].as_u64().unwrap(),
        before + 70,
        "the link's and the pull's calls, and seventy more: {stats}"
    );
    assert!(
        stats["max_calls_in_a_minute"].as_u64().unwrap() <= 60,
        "{stats}"
    );
    assert_eq!(stats["rate_limited"], 0, "{stats}");
}

/// A 429 whose headers say the day resets in three days (a skewed clock) ends the pull as
/// `RateLimitError` at once, with when calls resume (the next UTC midnight at the latest),
/// instead of leaving it `Fetching` for days.
#[tokio::test]
async fn absurd_reset_headers_end_a_pull_as_rate_limited_with_the_resume_time() {
    let world = World::start().await;
    let (company, _) = linked(&world).await;
    world
        .fault(
            json!({"kind": "rate_limited", "window": "daily", "reset_in_secs": 3 * 86_400,
                      "path": "sync/SalesInvoice", "count": 5}),
        )
        .await;
    let queued = world
        .api(
            reqwest::Method::POST,
            &format!("/companies/{company}/data/queue/invoices"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), 200);
    let started = std::time::Instant::now();
    let status = loop {
        let status: Value = world
            .get_json(&format!("/companies/{company}/dataStatus"))
            .await;
        let current = status["invoices"]["currentStatus"].as_str().unwrap_or("");
        if !matches!(current, "Queued" | "Fetching" | "Mapping") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the pull still waits on a reset days away: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        status["invoices"]["currentStatus"], "RateLimitError",
        "{status}"
    );
    let history = world
        .get_json(&format!("/companies/{company}/data/history"))
        .await;
    let midnight = {
        let now = world.server.state.clock.now_ms();
        let next = now - now.rem_euclid(86_400_000) + 86_400_000;
        chrono::DateTime::from_timestamp_millis(next)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    assert!(
        history
            .to_string()
            .contains(&format!("resume at {midnight}")),
        "the error names the resume time {midnight}: {history}"
    );
}
