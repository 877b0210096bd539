//! A server instance killed in the middle of a full pull (SIGKILL, between pages): its pages
//! stay stored, its lease expires, and another instance on the same database takes the pull
//! over, finishing it in full. What is served then equals the sandbox's books.

use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use ledgerline::sandbox::Region;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::all_records;
use super::incremental::{REGIONS, assert_totals_match, books, by_id, calls, spent};
use super::world::{ADMIN_KEY, MASTER_KEY_HEX, World};

/// `ledgerline serve` as its own process on the world's database and sandbox; its base URL.
async fn spawn_server(world: &World, data_dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ledgerline"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEDGERLINE_DATA_DIR", data_dir)
        .env("LEDGERLINE_BIND", "127.0.0.1:0")
        .env("DATABASE_URL", &world.database_url)
        .env("LEDGERLINE_MASTER_KEY", MASTER_KEY_HEX)
        .env("LEDGERLINE_ADMIN_KEY", ADMIN_KEY)
        .env(
            "LEDGERLINE_EXACT_NL_URL",
            world.sandbox.base_url(Region::Nl).as_str(),
        )
        .env(
            "LEDGERLINE_EXACT_UK_URL",
            world.sandbox.base_url(Region::Uk).as_str(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("Ledgerline listens on ") {
                return rest
                    .split(' ')
                    .next()
                    .unwrap()
                    .trim_end_matches('/')
                    .to_string();
            }
        }
        panic!("the second server exited before listening");
    })
    .await
    .expect("the second server starts");
    // Keep reading its output so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base)
}

/// The pull of `data_type` that `dataStatus` names latest.
async fn latest_pull(world: &World, company: &str, data_type: &str) -> Value {
    let status = world
        .get_json(&format!("/companies/{company}/dataStatus"))
        .await;
    let id = status[data_type]["latestSyncId"]
        .as_str()
        .unwrap()
        .to_string();
    world
        .get_json(&format!("/companies/{company}/data/history/{id}"))
        .await
}

async fn killed_mid_pull_and_taken_over(world: &World) {
    let (name, key, app, region, division) = REGIONS[0];
    let company = world.linked_and_pulled(name, key, division).await;
    let first = calls(world, region, app.0, division).await;
    let at = |path: &str| format!("{region}/{division}/{path}");
    let first_invoices = latest_pull(world, &company, "invoices").await["id"].clone();

    // Changes in the books that the killed pull reads (an invoice deleted) and that it never
    // reaches (a bill paid).
    let invoices = all_records(world, &company, "invoices", 5000).await;
    let deleted_invoice = invoices[0]["id"].as_str().unwrap().to_string();
    books(
        world,
        Method::DELETE,
        &at(&format!("SalesInvoices/guid'{deleted_invoice}'")),
        None,
    )
    .await;
    let bills = all_records(world, &company, "bills", 5000).await;
    let unpaid = bills
        .iter()
        .find(|b| b["status"] != "Paid" && b["amountDue"].as_f64().unwrap() > 1.0)
        .expect("the books hold unpaid bills");
    let bill_id = unpaid["id"].as_str().unwrap().to_string();
    books(
        world,
        Method::POST,
        &at(&format!("PurchaseEntries/guid'{bill_id}'/payments")),
        Some(json!({"amount": 1.0})),
    )
    .await;

    // A second server, its own process, pulls everything in full; Exact stalls on the
    // transaction lines, which bills and journal entries come from, the last in pull order.
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn_server(world, dir.path()).await;
    world
        .fault(json!({"kind": "latency", "ms": 600_000, "path": "Financial/TransactionLines"}))
        .await;
    let response = world
        .http
        .post(format!("{base}/companies/{company}/data/all?fullPull=true"))
        .header(
            "Authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(&world.key)
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    // Kill it once the invoices' pages are stored and it waits for Exact's next answer.
    let mut stalled = false;
    for _ in 0..600 {
        let faults: Value = world
            .http
            .get(world.sandbox.admin_url().join("faults").unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let pull = latest_pull(world, &company, "invoices").await;
        let stored = pull["id"] != first_invoices && pull["records"].as_i64().unwrap_or(0) > 0;
        if stored && faults.as_array().is_some_and(|f| f.is_empty()) {
            assert_eq!(pull["status"], "Fetching", "{pull}");
            stalled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        stalled,
        "the second server stored the invoices and reached the transaction lines"
    );
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let killed_invoices = latest_pull(world, &company, "invoices").await;

    // Its lease and heartbeats lapse; this server's pull then takes the connection over. The
    // killed pull was full: its pages stored new cursors, but it never ended, so the takeover
    // finishes it in full (only a full pull's end flags what Exact no longer has).
    world.advance(91).await;
    let before = calls(world, region, app.0, division).await;
    let response = world
        .api(Method::POST, &format!("/companies/{company}/data/all"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    world.wait_for_pull(&company).await;
    let takeover = spent(&before, &calls(world, region, app.0, division).await);
    eprintln!("the takeover after the kill: {takeover:?}");
    for endpoint in [
        "sync/SalesInvoice/SalesInvoices",
        "sync/Financial/TransactionLines",
    ] {
        assert_eq!(
            takeover.get(endpoint),
            first.get(endpoint),
            "the killed full pull is finished in full: {takeover:?}"
        );
    }
    let id = killed_invoices["id"].as_str().unwrap();
    let given_up = world
        .get_json(&format!("/companies/{company}/data/history/{id}"))
        .await;
    assert_ne!(given_up["status"], "Fetching", "{given_up}");
    assert_ne!(given_up["status"], "Complete", "{given_up}");

    let summary = world
        .sandbox_json(&format!("books/{region}/{division}/summary"))
        .await;
    let invoices = all_records(world, &company, "invoices", 5000).await;
    assert_totals_match(&invoices, &summary["invoices"], "amountDue", region);
    assert_eq!(
        by_id(&invoices)[&deleted_invoice]["metadata"]["isDeleted"],
        true
    );
    let bills = all_records(world, &company, "bills", 5000).await;
    let paid = by_id(&bills)[&bill_id]["amountDue"].as_f64().unwrap();
    let before = unpaid["amountDue"].as_f64().unwrap();
    assert!((before - paid - 1.0).abs() < 1e-9, "{before} → {paid}");
}

#[tokio::test]
async fn a_server_killed_mid_pull_is_taken_over_on_sqlite() {
    let world = World::start().await;
    killed_mid_pull_and_taken_over(&world).await;
}

#[tokio::test]
async fn a_server_killed_mid_pull_is_taken_over_on_postgres() {
    World::on_postgres(
        "a_server_killed_mid_pull_is_taken_over_on_postgres",
        killed_mid_pull_and_taken_over,
    )
    .await;
}
