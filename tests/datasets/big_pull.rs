//! A first pull across many sync pages (issue #11): invoices are mapped and stored as their rows
//! stream past, grouped across page boundaries, and an invoice with a line edited after it was
//! written (its row far from its siblings) is re-read whole; the served invoices and credit
//! notes are exactly the books'. And the SQLite write-ahead log does not stay at the pulled
//! data's size once the pull has committed.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use super::all_records;
use super::incremental::{REGIONS, assert_totals_match, books, by_id, calls};
use super::world::World;

/// Rows a sync page holds (Exact's and the sandbox's).
const SYNC_PAGE: usize = 1_000;

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

#[tokio::test]
async fn a_pull_across_many_pages_serves_exactly_the_books_invoices() {
    let world = World::start().await;
    for (name, key, app, region, division) in REGIONS {
        let at = |path: &str| format!("{region}/{division}/{path}");
        let sync_rows = || async {
            // In the order Exact pages them.
            let mut rows = books(&world, Method::GET, &at("SyncSalesInvoices"), None)
                .await
                .as_array()
                .unwrap()
                .clone();
            rows.sort_by_key(|r| r["Timestamp"].as_i64().unwrap());
            rows
        };
        let generated = sync_rows().await;

        // A new invoice of two lines; then more than two pages of other invoices' rows after it
        // (new invoices); then its second line is reworded: that line's row comes more than two
        // pages after its sibling's, which is handed on before it comes.
        let created = books(
            &world,
            Method::POST,
            &at("SalesInvoices"),
            Some(json!({
                "InvoiceTo": generated[0]["InvoiceTo"], "Status": 50, "Description": "Late line",
                "SalesInvoiceLines": [
                    {"Description": "first", "Quantity": 2, "UnitPrice": 50},
                    {"Description": "second", "Quantity": 1, "UnitPrice": 30},
                ],
            })),
        )
        .await;
        let edited = created["key"]
            .as_str()
            .unwrap()
            .trim_start_matches("guid'")
            .trim_end_matches('\'')
            .to_string();
        for n in 0..(2 * SYNC_PAGE + 100) / 2 {
            books(
                &world,
                Method::POST,
                &at("SalesInvoices"),
                Some(json!({
                    "InvoiceTo": generated[n % generated.len()]["InvoiceTo"], "Status": 50,
                    "Description": format!("Filler {n}"),
                    "SalesInvoiceLines": [
                        {"Description": "one", "Quantity": 1, "UnitPrice": 10 + n % 7},
                        {"Description": "two", "Quantity": 3, "UnitPrice": 5},
                    ],
                })),
            )
            .await;
        }
        let lines = books(
            &world,
            Method::GET,
            &at(&format!(
                "SalesInvoiceLines?$filter=InvoiceID eq guid'{edited}'"
            )),
            None,
        )
        .await;
        let mut lines = lines.as_array().unwrap().clone();
        lines.sort_by_key(|l| l["LineNumber"].as_i64());
        let body: Vec<Value> = lines
            .iter()
            .map(|l| {
                let second = l["Description"] == "second";
                json!({
                    "ID": l["ID"],
                    "Description": if second { "second, reworded" } else { "first" },
                    "Quantity": l["Quantity"],
                    "UnitPrice": l["UnitPrice"],
                })
            })
            .collect();
        books(
            &world,
            Method::PATCH,
            &at(&format!("SalesInvoices/guid'{edited}'")),
            Some(json!({"SalesInvoiceLines": body})),
        )
        .await;

        let rows = sync_rows().await;
        assert!(rows.len() > 2 * SYNC_PAGE, "{region}: {} rows", rows.len());
        let positions = |invoice: &str| -> Vec<usize> {
            rows.iter()
                .enumerate()
                .filter(|(_, r)| r["InvoiceID"] == invoice)
                .map(|(i, _)| i)
                .collect()
        };
        let late_positions = positions(&edited);
        assert!(
            late_positions[1] - late_positions[0] > 2 * SYNC_PAGE,
            "{region}: the reworded line's row is pages after its sibling's: {late_positions:?}"
        );
        // An invoice whose lines straddle the first page boundary.
        let straddling = rows[SYNC_PAGE - 1]["InvoiceID"]
            .as_str()
            .unwrap()
            .to_string();
        let straddling_at = positions(&straddling);
        assert!(
            straddling_at.first() < Some(&SYNC_PAGE) && straddling_at.last() >= Some(&SYNC_PAGE),
            "{region}: the invoice at the boundary has lines on both pages: {straddling_at:?}"
        );
        let straddling_lines = straddling_at.len();

        let company = world.linked_and_pulled(name, key, division).await;
        let spent = calls(&world, region, app.0, division).await;
        let summary = world
            .sandbox_json(&format!("books/{region}/{division}/summary"))
            .await;
        assert_eq!(
            spent["sync/SalesInvoice/SalesInvoices"],
            rows.len().div_ceil(SYNC_PAGE) as u64,
            "{region}: one read of the sync rows: {spent:?}"
        );
        assert_eq!(
            spent.get("bulk/SalesInvoice/SalesInvoiceLines"),
            Some(&1),
            "{region}: the invoice with the late line, re-read whole: {spent:?}"
        );

        let invoices = all_records(&world, &company, "invoices", 5000).await;
        let notes = all_records(&world, &company, "creditNotes", 5000).await;
        assert_totals_match(&invoices, &summary["invoices"], "amountDue", region);
        assert_totals_match(&notes, &summary["credit_notes"], "remainingCredit", region);
        let served: BTreeSet<&str> = invoices
            .iter()
            .chain(&notes)
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        let in_books: BTreeSet<&str> = rows
            .iter()
            .map(|r| r["InvoiceID"].as_str().unwrap())
            .collect();
        assert_eq!(served, in_books, "{region}: every invoice once, no other");

        let all: Vec<Value> = invoices.iter().chain(&notes).cloned().collect();
        let by_id = by_id(&all);
        let straddler = &by_id[straddling.as_str()];
        assert_eq!(
            straddler["lineItems"].as_array().unwrap().len(),
            straddling_lines,
            "{region}: {straddler}"
        );
        let late = &by_id[edited.as_str()];
        let descriptions: Vec<&str> = late["lineItems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["description"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            descriptions,
            ["first", "second, reworded"],
            "{region}: {late}"
        );
    }

    // The pulls committed some megabytes through the write-ahead log; it was checkpointed
    // and truncated after them instead of staying at that size.
    let db = world.dir.path().join("ledgerline.db");
    let wal = world.dir.path().join("ledgerline.db-wal");
    assert!(file_size(&db) > 4 << 20, "{} bytes", file_size(&db));
    assert!(
        file_size(&wal) < 1 << 20,
        "the WAL holds {} bytes beside a database of {}",
        file_size(&wal),
        file_size(&db)
    );
}
