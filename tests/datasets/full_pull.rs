//! A full pull on request (`fullPull=true` on `data/queue/{key}` and `data/all`, a Ledgerline
//! extension): after incremental pulls, it reads every record again and flags those Exact no
//! longer has — deletions its deleted log has forgotten, which no incremental pull can see.

use ledgerline::model::DataType;
use ledgerline::sync::QueueOptions;
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

/// Codat's `syncFromUtc`: invoices modified at Exact before it are not stored, and those an
/// earlier pull stored are flagged deleted when a full pull reads them again; other data types
/// keep their history.
#[tokio::test]
async fn sync_from_utc_leaves_older_invoices_out_and_a_full_pull_applies_it_to_stored_ones() {
    let world = World::start().await;
    let (name, key, _, _, division) = REGIONS[0];
    let company = world.linked_and_pulled(name, key, division).await;
    let invoices = all_records(&world, &company, "invoices", 5000).await;
    let customers_before = all_records(&world, &company, "customers", 5000).await;
    let mut dates: Vec<String> = invoices
        .iter()
        .map(|i| i["sourceModifiedDate"].as_str().unwrap().to_string())
        .collect();
    dates.sort();
    // A cut between two distinct dates, with invoices on both sides.
    let cut = dates[dates.len() / 2].clone();
    let older: Vec<&Value> = invoices
        .iter()
        .filter(|i| i["sourceModifiedDate"].as_str().unwrap() < cut.as_str())
        .collect();
    assert!(!older.is_empty() && older.len() < invoices.len(), "{cut}");

    let response = world
        .api(Method::POST, "/profile/syncSettings")
        .json(&json!({
            "clientId": uuid::Uuid::nil(),
            "overridesDefaults": true,
            "settings": [{"dataType": "invoices", "fetchOnFirstLink": true, "syncSchedule": 24,
                          "syncOrder": 0, "syncFromUtc": format!("{cut}Z"),
                          "monthsToSync": 1}],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "{}", response.text().await.unwrap());
    world.advance(61).await;
    let (status, _) = post(
        &world,
        &format!("/companies/{company}/data/all?fullPull=true"),
    )
    .await;
    assert_eq!(status, 204);
    world.wait_for_pull(&company).await;

    let after = all_records(&world, &company, "invoices", 5000).await;
    let served = by_id(&after);
    for invoice in &invoices {
        let id = invoice["id"].as_str().unwrap();
        let date = invoice["sourceModifiedDate"].as_str().unwrap();
        let deleted = served[id]["metadata"]["isDeleted"] == true;
        assert_eq!(
            deleted,
            date < cut.as_str(),
            "{id} modified {date}, cut {cut}"
        );
    }
    // The other data types keep their whole history (`monthsToSync` limits nothing served).
    let customers = all_records(&world, &company, "customers", 5000).await;
    assert_eq!(customers.len(), customers_before.len());
    assert!(customers.iter().all(|c| c["metadata"]["isDeleted"] != true));
}

/// A full pull cut short after some data types' pages (and their new cursors) are stored: the
/// next pull, though not asked to be full, finishes it in full — only a full pull's end flags
/// what Exact no longer has — and the one after is incremental again.
#[tokio::test]
async fn a_full_pull_cut_short_between_pages_is_finished_in_full_by_the_next_pull() {
    let world = World::start().await;
    let (name, key, app, region, division) = REGIONS[0];
    let company = world.linked_and_pulled(name, key, division).await;
    let at = |path: &str| format!("{region}/{division}/{path}");
    let first = calls(&world, region, app.0, division).await;

    // An invoice deleted at Exact and the deleted log forgotten: only absence from a full read
    // can tell.
    let invoices = all_records(&world, &company, "invoices", 5000).await;
    let invoice_id = invoices[0]["id"].as_str().unwrap().to_string();
    books(
        &world,
        Method::DELETE,
        &at(&format!("SalesInvoices/guid'{invoice_id}'")),
        None,
    )
    .await;
    books(&world, Method::POST, &at("forget-deletions"), None).await;

    // The full pull stores the invoices (pages and cursor), then Exact fails on the payables,
    // which the bills read after them: every retry refused, the run stops there.
    world
        .fault(json!({"kind": "status", "status": 503, "path": "read/financial/PayablesList", "count": 5}))
        .await;
    world.advance(61).await;
    let id = uuid::Uuid::parse_str(&company).unwrap();
    let state = &world.server.state;
    let tenant = state.store.company_by_id(id).await.unwrap().tenant_id;
    let all: Vec<DataType> = DataType::all().collect();
    let options = QueueOptions {
        full: true,
        ..QueueOptions::default()
    };
    let queued = state
        .sync
        .queue_many_with(tenant, id, &all, None, options)
        .await
        .unwrap();
    assert_eq!(queued.len(), all.len());
    for pull in queued {
        let pull = state.sync.wait(id, pull.id).await.unwrap();
        if pull.data_type == "invoices" {
            assert_ne!(pull.status, "Complete", "{pull:?}");
            assert!(
                pull.records.unwrap_or(0) > 0,
                "the invoices' pages were stored: {pull:?}"
            );
        }
    }
    let served = all_records(&world, &company, "invoices", 5000).await;
    assert_ne!(
        by_id(&served)[&invoice_id]["metadata"]["isDeleted"],
        true,
        "a full pull that did not end derives nothing from absence"
    );

    // The next pull, asked for changes only, finishes the full pull: every source read in full.
    world.advance(61).await;
    let before = calls(&world, region, app.0, division).await;
    let (status, _) = post(&world, &format!("/companies/{company}/data/all")).await;
    assert_eq!(status, 204);
    world.wait_for_pull(&company).await;
    let resumed = spent(&before, &calls(&world, region, app.0, division).await);
    eprintln!("first pull {first:?}; after the cut-short full pull {resumed:?}");
    for endpoint in [
        "sync/SalesInvoice/SalesInvoices",
        "sync/Financial/TransactionLines",
        "read/financial/PayablesList",
    ] {
        assert_eq!(
            resumed.get(endpoint),
            first.get(endpoint),
            "{endpoint}: {resumed:?}"
        );
    }
    let served = all_records(&world, &company, "invoices", 5000).await;
    assert_eq!(by_id(&served)[&invoice_id]["metadata"]["isDeleted"], true);
    let summary = world
        .sandbox_json(&format!("books/{region}/{division}/summary"))
        .await;
    assert_totals_match(&served, &summary["invoices"], "amountDue", region);

    // Done: the pull after it is incremental again.
    world.advance(61).await;
    let before = calls(&world, region, app.0, division).await;
    let (status, _) = post(&world, &format!("/companies/{company}/data/all")).await;
    assert_eq!(status, 204);
    world.wait_for_pull(&company).await;
    let quiet = spent(&before, &calls(&world, region, app.0, division).await);
    for endpoint in [
        "sync/SalesInvoice/SalesInvoices",
        "sync/Financial/TransactionLines",
    ] {
        assert_eq!(quiet.get(endpoint), Some(&1), "{endpoint}: {quiet:?}");
    }
}
