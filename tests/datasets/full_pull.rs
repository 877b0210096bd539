//! A full pull on request (`fullPull=true` on `data/queue/{key}` and `data/all`, a Ledgerline
//! extension): after incremental pulls, it reads every record again and flags those Exact no
//! longer has — deletions its deleted log has forgotten, which no incremental pull can see.

use reqwest::Method;
use serde_json::{Value, json};

use super::all_records;
use super::incremental::{REGIONS, assert_totals_match, books, by_id, calls, spent};
use super::world::World;

/// `POST path` as the world's tenant: the status and the JSON answer (null when empty).
async fn post(world: &World, path: &str) -> (u16, Value) {
    let response = world.api(Method::POST, path).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_full_pull_on_request_reads_everything_again_and_flags_what_exact_no_longer_has() {
    let world = World::start().await;
    let (name, key, app, region, division) = REGIONS[0];
    let company = world.linked_and_pulled(name, key, division).await;
    let at = |path: &str| format!("{region}/{division}/{path}");
    let first = calls(&world, region, app.0, division).await;

    // A malformed value is refused, naming the field, on both operations; nothing is queued.
    for path in [
        format!("/companies/{company}/data/all?fullPull=yes"),
        format!("/companies/{company}/data/queue/invoices?fullPull=1"),
    ] {
        let (status, body) = post(&world, &path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(
            body["validation"]["errors"][0]["itemId"], "fullPull",
            "{body}"
        );
    }
    assert_eq!(calls(&world, region, app.0, division).await, first);

    // A customer and an invoice deleted at Exact, and the deleted log forgotten (Exact keeps it
    // two months): an incremental pull cannot know.
    let created = books(
        &world,
        Method::POST,
        &at("Accounts"),
        Some(json!({"Name": "Forgotten Customer"})),
    )
    .await;
    let customer_key = created["key"].as_str().unwrap().to_string();
    let customer_id = customer_key
        .trim_start_matches("guid'")
        .trim_end_matches('\'')
        .to_string();
    let (status, _) = post(&world, &format!("/companies/{company}/data/all")).await;
    assert_eq!(status, 204);
    world.wait_for_pull(&company).await;
    let invoices = all_records(&world, &company, "invoices", 5000).await;
    let invoice_id = invoices[0]["id"].as_str().unwrap().to_string();
    books(
        &world,
        Method::DELETE,
        &at(&format!("SalesInvoices/guid'{invoice_id}'")),
        None,
    )
    .await;
    books(
        &world,
        Method::DELETE,
        &at(&format!("Accounts/{customer_key}")),
        None,
    )
    .await;
    books(&world, Method::POST, &at("forget-deletions"), None).await;

    // `fullPull=false` is the default: an incremental pull, which misses both deletions.
    let before = calls(&world, region, app.0, division).await;
    let (status, _) = post(
        &world,
        &format!("/companies/{company}/data/all?fullPull=false"),
    )
    .await;
    assert_eq!(status, 204);
    world.wait_for_pull(&company).await;
    let incremental = spent(&before, &calls(&world, region, app.0, division).await);
    assert_eq!(incremental.get("sync/Deleted"), Some(&1), "{incremental:?}");
    assert_eq!(
        incremental.get("sync/SalesInvoice/SalesInvoices"),
        Some(&1),
        "{incremental:?}"
    );
    let served = all_records(&world, &company, "invoices", 5000).await;
    assert_ne!(by_id(&served)[&invoice_id]["metadata"]["isDeleted"], true);

    // The full pull reads every sync endpoint as the first pull did, without the deleted log
    // (in a fresh minute of Exact's budget: the test does not wait for one).
    world.advance(61).await;
    let before = calls(&world, region, app.0, division).await;
    let (status, _) = post(
        &world,
        &format!("/companies/{company}/data/all?fullPull=true"),
    )
    .await;
    assert_eq!(status, 204);
    world.wait_for_pull(&company).await;
    let full = spent(&before, &calls(&world, region, app.0, division).await);
    eprintln!("first pull {first:?}; incremental {incremental:?}; full on request {full:?}");
    for endpoint in [
        "sync/CRM/Accounts",
        "sync/SalesInvoice/SalesInvoices",
        "sync/Financial/TransactionLines",
        "read/financial/ReceivablesList",
        "read/financial/PayablesList",
    ] {
        assert_eq!(
            full.get(endpoint),
            first.get(endpoint),
            "{endpoint}: {full:?}"
        );
    }
    assert_eq!(full.get("sync/Deleted"), None, "{full:?}");

    let summary = world
        .sandbox_json(&format!("books/{region}/{division}/summary"))
        .await;
    let invoices = all_records(&world, &company, "invoices", 5000).await;
    assert_eq!(by_id(&invoices)[&invoice_id]["metadata"]["isDeleted"], true);
    assert_totals_match(&invoices, &summary["invoices"], "amountDue", region);
    let customers = all_records(&world, &company, "customers", 5000).await;
    assert_eq!(
        by_id(&customers)[&customer_id]["metadata"]["isDeleted"],
        true
    );

    // One data type on request: only its own sources are read in full.
    world.advance(61).await;
    let before = calls(&world, region, app.0, division).await;
    let (status, pull) = post(
        &world,
        &format!("/companies/{company}/data/queue/customers?fullPull=true"),
    )
    .await;
    assert_eq!(status, 200, "{pull}");
    world.wait_for_pull(&company).await;
    let one = spent(&before, &calls(&world, region, app.0, division).await);
    assert_eq!(
        one.get("sync/CRM/Accounts"),
        first.get("sync/CRM/Accounts"),
        "{one:?}"
    );
    assert_eq!(one.get("sync/SalesInvoice/SalesInvoices"), None, "{one:?}");
}
