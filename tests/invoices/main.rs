//! Invoices end to end: linked NL and UK companies, their first pull through Exact's sync
//! endpoints, and the totals Ledgerline serves checked against the sandbox's books.

#[path = "../common/mod.rs"]
mod common;
#[path = "../connections/world.rs"]
mod world;

use std::collections::{BTreeMap, HashSet};

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::Value;

use world::{NL_APP, UK_APP, World};

/// Every invoice of a company, read page by page.
async fn all_invoices(world: &World, company: &str, page_size: usize) -> Vec<Value> {
    let mut invoices = Vec::new();
    let mut page = 1;
    loop {
        let body: Value = world
            .api(
                Method::GET,
                &format!("/companies/{company}/data/invoices?page={page}&pageSize={page_size}"),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let results = body["results"].as_array().unwrap();
        invoices.extend(results.iter().cloned());
        if body["_links"].get("next").is_none() {
            assert_eq!(
                invoices.len() as u64,
                body["totalResults"].as_u64().unwrap()
            );
            return invoices;
        }
        page += 1;
    }
}

fn decimal(value: &Value) -> Decimal {
    value
        .to_string()
        .parse()
        .unwrap_or_else(|_| panic!("{value} is not a number"))
}

#[tokio::test]
async fn nl_and_uk_invoices_match_the_sandbox_books() {
    let world = World::start().await;
    for (name, key, region, division, currency, client_id) in [
        (
            "Acme BV",
            "exact-online-nl",
            "nl",
            "101001",
            "EUR",
            NL_APP.0,
        ),
        (
            "Acme Ltd",
            "exact-online-uk",
            "uk",
            "201001",
            "GBP",
            UK_APP.0,
        ),
    ] {
        let company = world.linked_and_pulled(name, key, division).await;
        let invoices = all_invoices(&world, &company, 37).await;
        let books = world
            .sandbox_json(&format!("books/{region}/{division}/summary"))
            .await;

        // Every invoice once, in Codat's shape.
        let ids: HashSet<_> = invoices
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), invoices.len(), "pages never overlap");
        let mut totals: BTreeMap<String, (u64, Decimal, Decimal)> = BTreeMap::new();
        for invoice in &invoices {
            let total = decimal(&invoice["totalAmount"]);
            let due = decimal(&invoice["amountDue"]);
            assert_eq!(
                total,
                decimal(&invoice["subTotal"]) + decimal(&invoice["totalTaxAmount"]),
                "{invoice}"
            );
            assert!(due >= Decimal::ZERO && due <= total, "{invoice}");
            assert!(
                ["Draft", "Submitted", "PartiallyPaid", "Paid"]
                    .contains(&invoice["status"].as_str().unwrap())
            );
            let t = totals
                .entry(invoice["currency"].as_str().unwrap().to_string())
                .or_default();
            t.0 += 1;
            t.1 += total;
            t.2 += due;
        }
        assert!(
            totals.contains_key(currency),
            "{region} invoices are in {currency}: {totals:?}"
        );
        for (cur, (count, total, due)) in &totals {
            let expected = &books["invoices"][cur];
            assert_eq!(
                *count,
                expected["count"].as_u64().unwrap(),
                "{region} {cur} count"
            );
            assert_eq!(
                *total,
                decimal(&expected["amount_fc"]),
                "{region} {cur} totalAmount"
            );
            assert_eq!(
                *due,
                decimal(&expected["unpaid_fc"]),
                "{region} {cur} amountDue"
            );
        }
        let expected_count: u64 = books["invoices"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v["count"].as_u64().unwrap())
            .sum();
        assert_eq!(
            invoices.len() as u64,
            expected_count,
            "totalResults equals the sandbox's invoice count"
        );

        // The invoices' own pull costs about one call per 1,000 rows (the link pulled every
        // data type; a second pull of invoices alone is measured).
        let calls_of = |stats: &Value| {
            stats["regions"][region]["apps"][client_id]["divisions"][division]["calls_total"]
                .as_u64()
                .unwrap()
        };
        let before = calls_of(&world.stats().await);
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
        let status = world.wait_for_pull(&company).await;
        assert_eq!(status["invoices"]["latestSyncId"], queued["id"]);
        let calls = calls_of(&world.stats().await);
        let invoice_calls = calls - before;
        let sync_rows = books["counts"]["SyncSalesInvoices"].as_u64().unwrap();
        let receivables = books["counts"]["ReceivablesList"].as_u64().unwrap();
        let budget = sync_rows.div_ceil(1000) + receivables.div_ceil(1000) + 3 + 1;
        assert!(
            invoice_calls <= budget,
            "{invoice_calls} upstream calls for {sync_rows} rows (budget {budget})"
        );

        // The connection shows what is left of Exact's daily limit.
        let connections = world
            .get_json(&format!("/companies/{company}/connections"))
            .await;
        let info = &connections["results"][0]["connectionInfo"];
        let remaining: u64 = info["upstreamCallsRemainingToday"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(info["upstreamCallsPerDay"], "5000", "{info}");
        assert!(
            remaining < 5000 && remaining >= 5000 - calls,
            "{remaining} left after {calls} calls"
        );

        // One invoice by id, and Codat's errors around it.
        let first = &invoices[0];
        let one: Value = world
            .api(
                Method::GET,
                &format!(
                    "/companies/{company}/data/invoices/{}",
                    first["id"].as_str().unwrap()
                ),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(&one, first);
        let missing = world
            .api(
                Method::GET,
                &format!("/companies/{company}/data/invoices/nope"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
    }
}

#[tokio::test]
async fn invoices_are_409_until_pulled_and_pulls_are_queued_and_tracked() {
    let world = World::start().await;
    let company = world.company("Not linked").await;
    let before = world
        .api(Method::GET, &format!("/companies/{company}/data/invoices"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        before.status(),
        409,
        "never an empty list that looks like no invoices"
    );
    let queue = world
        .api(
            Method::POST,
            &format!("/companies/{company}/data/queue/invoices"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        queue.status(),
        404,
        "nothing linked to pull from: Codat documents 404"
    );
    let unsupported = world
        .api(
            Method::POST,
            &format!("/companies/{company}/data/queue/bankFeeds"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unsupported.status(), 404);

    let company = world
        .linked_and_pulled("Acme BV", "exact-online-nl", "101001")
        .await;
    let first = all_invoices(&world, &company, 5000).await;
    let queued: Value = world
        .api(
            Method::POST,
            &format!("/companies/{company}/data/queue/invoices"),
        )
        .header("content-type", "application/octet-stream")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queued["status"], "Queued");
    assert_eq!(queued["dataType"], "invoices");
    let status = world.wait_for_pull(&company).await;
    assert_eq!(status["invoices"]["latestSyncId"], queued["id"]);
    let again = all_invoices(&world, &company, 5000).await;
    assert_eq!(
        first, again,
        "a pull that saw no change changes nothing, modifiedDate included"
    );

    let history: Value = world
        .get_json(&format!("/companies/{company}/data/history"))
        .await;
    // The link's pull of every data type, then the invoices' own.
    assert_eq!(
        history["totalResults"],
        ledgerline::model::DATASETS.len() + 1
    );
    assert_eq!(history["results"][0]["isCompleted"], true);
    let bad_page = world
        .api(
            Method::GET,
            &format!("/companies/{company}/data/invoices?pageSize=5001"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad_page.status(), 400);
    let unknown_company = world
        .api(
            Method::GET,
            "/companies/00000000-0000-4000-8000-000000000000/data/invoices",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_company.status(), 404);
}
