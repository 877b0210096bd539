//! Credit notes end to end: NL and UK companies linked and pulled, their credit notes checked
//! against the sandbox's books (counts, per-currency totals and credit left), their customers
//! against the invoices', and the cost of reading Exact's sales invoices once for both data
//! types.

use std::collections::{BTreeMap, HashSet};

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::Value;

use super::world::{NL_APP, UK_APP, World};
use super::{all_records, decimal};

/// Codat's credit note statuses (SDK-A 0.36.0).
const CODAT_STATUSES: [&str; 6] = [
    "Unknown",
    "Draft",
    "Submitted",
    "Paid",
    "Void",
    "PartiallyPaid",
];

/// Calls the pull made so far to one Exact endpoint of a division.
fn calls_to(stats: &Value, region: &str, client_id: &str, division: &str, endpoint: &str) -> u64 {
    stats["regions"][region]["apps"][client_id]["divisions"][division]["calls_by_endpoint"]
        [endpoint]
        .as_u64()
        .unwrap_or(0)
}

/// The pages one read of `rows` rows costs at Exact's 1,000 rows a call.
fn pages(rows: u64) -> u64 {
    rows.div_ceil(1000).max(1)
}

#[tokio::test]
async fn nl_and_uk_credit_notes_match_the_sandbox_books() {
    let world = World::start().await;
    let mut statuses_seen = HashSet::new();
    for (name, key, app, region, division) in [
        ("Credit BV", "exact-online-nl", NL_APP, "nl", "101001"),
        ("Credit Ltd", "exact-online-uk", UK_APP, "uk", "201001"),
    ] {
        world.configure(key, app, true).await;
        let company = world.linked_and_pulled(name, key, division).await;
        let books = world
            .sandbox_json(&format!("books/{region}/{division}/summary"))
            .await;
        let notes = all_records(&world, &company, "creditNotes", 23).await;
        assert!(!notes.is_empty(), "{region}: the books hold credit notes");

        // Every credit note once, positive, adding up, inside Codat's enums.
        let ids: HashSet<_> = notes.iter().map(|n| n["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), notes.len(), "pages never overlap");
        let mut totals: BTreeMap<String, (u64, Decimal, Decimal)> = BTreeMap::new();
        for note in &notes {
            let total = decimal(&note["totalAmount"]);
            let left = decimal(&note["remainingCredit"]);
            assert_eq!(
                total,
                decimal(&note["subTotal"]) + decimal(&note["totalTaxAmount"]),
                "{note}"
            );
            assert!(
                total > Decimal::ZERO,
                "Codat writes credit notes positive: {note}"
            );
            assert!(Decimal::ZERO <= left && left <= total, "{note}");
            let status = note["status"].as_str().unwrap();
            assert!(CODAT_STATUSES.contains(&status), "{note}");
            statuses_seen.insert(status.to_string());
            for line in note["lineItems"].as_array().unwrap() {
                assert!(decimal(&line["quantity"]) > Decimal::ZERO, "{line}");
            }
            let t = totals
                .entry(note["currency"].as_str().unwrap().to_string())
                .or_default();
            t.0 += 1;
            t.1 += total;
            t.2 += left;
        }
        let expected = books["credit_notes"].as_object().unwrap();
        assert_eq!(
            totals.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{region}: the currencies of the books' credit notes"
        );
        for (currency, (count, total, left)) in &totals {
            let books = &expected[currency];
            assert_eq!(
                *count,
                books["count"].as_u64().unwrap(),
                "{region} {currency}"
            );
            // The books sum Exact's amounts, which are negative on a credit note.
            assert_eq!(
                *total,
                -decimal(&books["amount_fc"]),
                "{region} {currency} totalAmount"
            );
            assert_eq!(
                *left,
                -decimal(&books["unpaid_fc"]),
                "{region} {currency} remainingCredit"
            );
        }

        // Credit notes are no longer invoices, and every credited customer is one invoiced.
        let invoices = all_records(&world, &company, "invoices", 500).await;
        let invoice_count: u64 = books["invoices"]
            .as_object()
            .unwrap()
            .values()
            .map(|t| t["count"].as_u64().unwrap())
            .sum();
        assert_eq!(invoices.len() as u64, invoice_count);
        let invoice_ids: HashSet<_> = invoices.iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert!(ids.is_disjoint(&invoice_ids));
        let customers: HashSet<_> = invoices
            .iter()
            .filter_map(|i| i["customerRef"]["id"].as_str())
            .collect();
        for note in &notes {
            let customer = note["customerRef"]["id"].as_str().unwrap();
            assert!(customers.contains(customer), "{customer} of {note}");
        }

        // The link pulled invoices and credit notes in one run: Exact's sales invoices, the VAT
        // codes and the receivables were each read once for both.
        let client_id = app.0;
        let stats = world.stats().await;
        let calls = |endpoint| calls_to(&stats, region, client_id, division, endpoint);
        let sync_rows = books["counts"]["SyncSalesInvoices"].as_u64().unwrap();
        let receivables = books["counts"]["ReceivablesList"].as_u64().unwrap();
        assert_eq!(
            calls("sync/SalesInvoice/SalesInvoices"),
            pages(sync_rows),
            "{region}: {sync_rows} sales invoice rows read once"
        );
        assert_eq!(calls("read/financial/ReceivablesList"), pages(receivables));
        assert_eq!(calls("vat/VATCodes"), 1);

        // One credit note by id, and with Codat's query and orderBy.
        let first = &notes[0];
        let id = first["id"].as_str().unwrap();
        let one = world
            .get_json(&format!("/companies/{company}/data/creditNotes/{id}"))
            .await;
        assert_eq!(&one, first);
        let open: Value = world
            .get_json(&format!(
                "/companies/{company}/data/creditNotes?query=remainingCredit%20%3E%200&orderBy=-totalAmount&pageSize=5000"
            ))
            .await;
        let open = open["results"].as_array().unwrap();
        assert_eq!(
            open.len(),
            notes
                .iter()
                .filter(|n| decimal(&n["remainingCredit"]) > Decimal::ZERO)
                .count()
        );
        assert!(
            open.windows(2)
                .all(|w| decimal(&w[0]["totalAmount"]) >= decimal(&w[1]["totalAmount"]))
        );
        let missing = world
            .api(
                Method::GET,
                &format!("/companies/{company}/data/creditNotes/nope"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
    }
    for status in ["Submitted", "PartiallyPaid", "Paid"] {
        assert!(
            statuses_seen.contains(status),
            "the books hold {status} credit notes: {statuses_seen:?}"
        );
    }
}

/// A pull of credit notes alone reads the sales invoices once more and leaves the invoices as
/// they were (a run hands on only the data types it was asked for).
#[tokio::test]
async fn a_credit_notes_pull_alone_reads_once_and_leaves_invoices_alone() {
    let world = World::start().await;
    world.configure("exact-online-nl", NL_APP, true).await;
    let company = world
        .linked_and_pulled("Alone BV", "exact-online-nl", "101001")
        .await;
    let books = world.sandbox_json("books/nl/101001/summary").await;
    let invoices = all_records(&world, &company, "invoices", 5000).await;
    let notes = all_records(&world, &company, "creditNotes", 5000).await;
    let before = world.stats().await;
    let status_before = world
        .get_json(&format!("/companies/{company}/dataStatus"))
        .await;

    let queued: Value = world
        .api(
            Method::POST,
            &format!("/companies/{company}/data/queue/creditNotes"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queued["dataType"], "creditNotes", "{queued}");
    let status = world.wait_for_pull(&company).await;
    assert_eq!(status["creditNotes"]["latestSyncId"], queued["id"]);
    assert_eq!(
        status["invoices"], status_before["invoices"],
        "invoices were not pulled"
    );

    let after = world.stats().await;
    let endpoint = "sync/SalesInvoice/SalesInvoices";
    let sync_rows = books["counts"]["SyncSalesInvoices"].as_u64().unwrap();
    assert_eq!(
        calls_to(&after, "nl", NL_APP.0, "101001", endpoint)
            - calls_to(&before, "nl", NL_APP.0, "101001", endpoint),
        pages(sync_rows)
    );
    assert_eq!(
        all_records(&world, &company, "invoices", 5000).await,
        invoices
    );
    assert_eq!(
        all_records(&world, &company, "creditNotes", 5000).await,
        notes
    );
}
