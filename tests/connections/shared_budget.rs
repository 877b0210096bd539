//! Two server instances on one database spend one call budget per Exact division and never
//! pull one connection at the same time.

use std::time::Duration;

use base64::Engine;
use ledgerline::model::DataType;
use ledgerline::provider::CallPriority;
use ledgerline::store::PullOperationRow;
use reqwest::Method;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::world::{NL_APP, Server, World, start_server};

const DIVISION: &str = "101001";

fn division_stats(stats: &Value) -> Value {
    stats["regions"]["nl"]["apps"][NL_APP.0]["divisions"][DIVISION].clone()
}

/// A request to `server`'s API as the world's tenant.
async fn get_on(world: &World, server: &Server, path: &str) -> Value {
    let basic = base64::engine::general_purpose::STANDARD.encode(&world.key);
    let response = world
        .http
        .request(Method::GET, format!("{}{path}", server.base))
        .header("Authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "GET {path}");
    response.json().await.unwrap()
}

async fn queue_on(world: &World, server: &Server, company: &str, data_type: &str) -> Value {
    let basic = base64::engine::general_purpose::STANDARD.encode(&world.key);
    let response = world
        .http
        .request(
            Method::POST,
            format!("{}/companies/{company}/data/queue/{data_type}", server.base),
        )
        .header("Authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "queueing {data_type}");
    response.json().await.unwrap()
}

/// Moves the sandbox's clock and both servers' clocks together.
async fn advance_all(world: &World, second: &Server, seconds: u64) {
    world.advance(seconds).await;
    second.state.clock.advance(Duration::from_secs(seconds));
}

/// Moves every clock to the first fifth of a second of a clock minute, so that what follows
/// has a whole minute window before time moves it on. The sandbox's clock moves in seconds.
async fn to_the_start_of_a_minute(world: &World, second: &Server) {
    while world.server.state.clock.now_ms() % 1000 > 200 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let now = world.server.state.clock.now_ms();
    advance_all(world, second, 60 - ((now / 1000) % 60) as u64).await;
}

async fn pull_status(world: &World, company: &str, pull: &Value) -> String {
    let id = pull["id"].as_str().unwrap();
    let pull = world
        .get_json(&format!("/companies/{company}/data/history/{id}"))
        .await;
    pull["status"].as_str().unwrap().to_string()
}

fn running(status: &str) -> bool {
    matches!(status, "Fetching" | "Mapping")
}

async fn two_instances_share_the_budget_and_the_lease(world: &World) {
    let company = world
        .linked_and_pulled("Acme", "exact-online-nl", DIVISION)
        .await;
    let second = start_server(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        &world.database_url,
        &world.sandbox,
        world.dir.path(),
    )
    .await;
    let connections = world
        .get_json(&format!("/companies/{company}/connections"))
        .await;
    let connection = connections["results"][0].clone();
    let row = world.row(&connection).await;

    to_the_start_of_a_minute(world, &second).await;
    // 59 of the minute's 60 calls, spent by both instances.
    let before = division_stats(&world.stats().await)["calls_total"]
        .as_u64()
        .unwrap();
    for n in 0..59 {
        let server = if n % 2 == 0 { &world.server } else { &second };
        world.upstream_call(server, &row).await.unwrap();
    }
    // Each instance queues a pull of another data type of the same connection (each needs
    // several calls): one run holds the connection's lease, spends the minute's last call and
    // waits for the next minute; the other run's pull stays queued.
    let (invoices, bills) = tokio::join!(
        queue_on(world, &world.server, &company, "invoices"),
        queue_on(world, &second, &company, "bills"),
    );
    for _ in 0..100 {
        let calls = division_stats(&world.stats().await)["calls_total"]
            .as_u64()
            .unwrap();
        if calls >= before + 60 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stats = division_stats(&world.stats().await);
    assert_eq!(
        stats["calls_total"].as_u64().unwrap(),
        before + 60,
        "the instances together stop at the minute's 60 calls: {stats}"
    );
    assert_eq!(stats["rate_limited"], 0, "{stats}");
    let statuses = [
        pull_status(world, &company, &invoices).await,
        pull_status(world, &company, &bills).await,
    ];
    assert_eq!(
        statuses.iter().filter(|s| running(s)).count(),
        1,
        "one run pulls the connection, the other waits: {statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| *s == "Queued").count(),
        1,
        "{statuses:?}"
    );

    // The next minute lets the first run finish and the second take the lease after it.
    advance_all(world, &second, 61).await;
    let mut done = false;
    for _ in 0..200 {
        let statuses = [
            pull_status(world, &company, &invoices).await,
            pull_status(world, &company, &bills).await,
        ];
        assert!(
            !statuses.iter().all(|s| running(s)),
            "two runs pulled one connection at once: {statuses:?}"
        );
        if statuses.iter().all(|s| s == "Complete") {
            done = true;
            break;
        }
        assert!(
            !statuses.iter().any(|s| s.ends_with("Error")),
            "{statuses:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(done, "both pulls complete once the minute turns");
    let stats = division_stats(&world.stats().await);
    assert!(
        stats["max_calls_in_a_minute"].as_u64().unwrap() <= 60,
        "{stats}"
    );
    assert_eq!(stats["rate_limited"], 0, "{stats}");
    assert!(
        stats["calls_by_endpoint"]["read/financial/PayablesList"]
            .as_u64()
            .unwrap()
            >= 1
    );

    // Both instances show the one shared count of what is left today.
    let remaining = |view: &Value| -> u64 {
        view["connectionInfo"]["upstreamCallsRemainingToday"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let path = format!(
        "/companies/{company}/connections/{}",
        connection["id"].as_str().unwrap()
    );
    let (on_first, on_second) = (
        remaining(&world.get_json(&path).await),
        remaining(&get_on(world, &second, &path).await),
    );
    assert_eq!(on_first, on_second);
    assert!(on_first <= 5000 - 60, "{on_first}");
}

#[tokio::test]
async fn two_servers_on_one_sqlite_database_share_the_budget_and_pull_a_connection_once() {
    let world = World::start().await;
    two_instances_share_the_budget_and_the_lease(&world).await;
}

#[tokio::test]
async fn two_servers_on_one_postgres_database_share_the_budget_and_pull_a_connection_once() {
    World::on_postgres(
        "two_servers_on_one_postgres_database_share_the_budget_and_pull_a_connection_once",
        two_instances_share_the_budget_and_the_lease,
    )
    .await;
}

/// Scheduled pulls (queued with `CallPriority::Scheduled`) stop at the reserve of the day's
/// budget; on-demand pulls of the same division may spend it.
#[tokio::test]
async fn scheduled_pulls_stop_at_the_on_demand_reserve() {
    let world = World::start().await;
    let company = world
        .linked_and_pulled("Acme", "exact-online-nl", DIVISION)
        .await;
    let state = &world.server.state;
    // Exact says 4,600 of the 5,000 calls are spent today: past the 90 % scheduled work may use.
    let observed = ledgerline::store::ObservedLimits {
        day: Some((5000, 400)),
        ..Default::default()
    };
    state
        .store
        .observe_upstream_limits(
            "exact-online-nl",
            DIVISION,
            state.clock.now_ms(),
            ledgerline::store::CallLimits {
                per_minute: 60,
                per_day: 5000,
            },
            &observed,
        )
        .await
        .unwrap();
    let tenant = state.store.list_tenants().await.unwrap()[0].id;
    let company_id = uuid::Uuid::parse_str(&company).unwrap();
    let invoices = ledgerline::model::DataType::from_key("invoices").unwrap();
    let scheduled = state
        .sync
        .queue_many_as(
            tenant,
            company_id,
            &[invoices],
            None,
            ledgerline::provider::CallPriority::Scheduled,
        )
        .await
        .unwrap();
    let pull = state.sync.wait(company_id, scheduled[0].id).await.unwrap();
    assert_eq!(pull.status, "RateLimitError", "{pull:?}");
    let message = pull.error_message.unwrap_or_default();
    assert!(message.contains("kept for on-demand pulls"), "{message}");
    assert!(message.contains("T00:00:00Z"), "says when: {message}");

    let on_demand = state
        .sync
        .queue(tenant, company_id, invoices, None)
        .await
        .unwrap();
    let pull = state.sync.wait(company_id, on_demand.id).await.unwrap();
    assert_eq!(pull.status, "Complete", "{pull:?}");
    let connection = world
        .get_json(&format!("/companies/{company}/connections"))
        .await["results"][0]
        .clone();
    let remaining: u64 = connection["connectionInfo"]["upstreamCallsRemainingToday"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(remaining < 400, "the shared count: {remaining}");
}

/// The status of a pull by its row, read from the store.
async fn pull_row(world: &World, pull: &PullOperationRow) -> PullOperationRow {
    world
        .server
        .state
        .store
        .get_pull_operation(pull.company_id, pull.id)
        .await
        .unwrap()
}

/// Two pulls on one division, each on its own server instance: a scheduled one (company info,
/// one call) and an on-demand one (every data type, many calls), both waiting for the next
/// minute. When it opens, the on-demand pull goes first and completes before the scheduled
/// pull makes its call, which then follows.
async fn on_demand_pulls_go_before_scheduled_ones_in_the_minute(world: &World) {
    let scheduled_company = world
        .linked_and_pulled("Scheduled BV", "exact-online-nl", DIVISION)
        .await;
    let on_demand_company = world
        .linked_and_pulled("On Demand BV", "exact-online-nl", DIVISION)
        .await;
    let second = start_server(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        &world.database_url,
        &world.sandbox,
        world.dir.path(),
    )
    .await;
    let connection = world
        .get_json(&format!("/companies/{scheduled_company}/connections"))
        .await["results"][0]
        .clone();
    let row = world.row(&connection).await;
    let tenant = row.tenant_id;
    let id = |company: &str| uuid::Uuid::parse_str(company).unwrap();

    // The division's minute is spent.
    to_the_start_of_a_minute(world, &second).await;
    for _ in 0..60 {
        world.upstream_call(&world.server, &row).await.unwrap();
    }
    // The scheduled pull waits first, on the second instance; then the on-demand one.
    let scheduled = second
        .state
        .sync
        .queue_many_as(
            tenant,
            id(&scheduled_company),
            &[DataType::from_key("company").unwrap()],
            None,
            CallPriority::Scheduled,
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all: Vec<DataType> = DataType::all().collect();
    let on_demand = world
        .server
        .state
        .sync
        .queue_many(tenant, id(&on_demand_company), &all, None)
        .await
        .unwrap();
    assert_eq!(on_demand.len(), all.len());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stats = division_stats(&world.stats().await);
    let calls_before = stats["calls_total"].as_u64().unwrap();

    advance_all(world, &second, 61).await;
    let mut on_demand_done = false;
    for _ in 0..400 {
        let mut statuses = Vec::new();
        for pull in &on_demand {
            statuses.push(pull_row(world, pull).await.status);
        }
        assert!(
            !statuses.iter().any(|s| s.ends_with("Error")),
            "{statuses:?}"
        );
        if statuses.iter().all(|s| s == "Complete") {
            on_demand_done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        on_demand_done,
        "the on-demand pull completes in the new minute"
    );
    let waiting = pull_row(world, &scheduled[0]).await;
    assert_ne!(
        waiting.status, "Complete",
        "the scheduled pull yielded the minute to the on-demand one: {waiting:?}"
    );
    let stats = division_stats(&world.stats().await);
    // The on-demand pull's calls were made in the new minute (a second pull of every data type:
    // one call per Exact endpoint, since nothing changed).
    assert!(
        stats["calls_total"].as_u64().unwrap() > calls_before + 5,
        "{stats}"
    );

    // Once the on-demand pull stops calling, the scheduled one goes on.
    advance_all(world, &second, 11).await;
    let pull = second
        .state
        .sync
        .wait(id(&scheduled_company), scheduled[0].id)
        .await
        .unwrap();
    assert_eq!(pull.status, "Complete", "{pull:?}");
    let stats = division_stats(&world.stats().await);
    assert_eq!(stats["rate_limited"], 0, "{stats}");
    assert!(
        stats["max_calls_in_a_minute"].as_u64().unwrap() <= 60,
        "{stats}"
    );
}

#[tokio::test]
async fn on_demand_pulls_go_before_scheduled_ones_on_sqlite() {
    let world = World::start().await;
    on_demand_pulls_go_before_scheduled_ones_in_the_minute(&world).await;
}

#[tokio::test]
async fn on_demand_pulls_go_before_scheduled_ones_on_postgres() {
    World::on_postgres(
        "on_demand_pulls_go_before_scheduled_ones_on_postgres",
        on_demand_pulls_go_before_scheduled_ones_in_the_minute,
    )
    .await;
}
