//! Journal entries end to end, NL and UK: every entry of the sandbox's ledger once, balancing,
//! with per-currency debits equal to the books, record refs that resolve to the invoices and bills
//! Ledgerline serves, and a pull that costs about one call per 1,000 transaction lines.

use std::collections::{BTreeMap, HashSet};

use rust_decimal::Decimal;

use super::bills::pull_cost;
use super::world::{NL_APP, UK_APP, World};
use super::{all_records, decimal};

#[tokio::test]
async fn nl_and_uk_journal_entries_match_the_sandbox_ledger() {
    let world = World::start().await;
    for (name, key, region, division, client_id) in [
        ("Ledger BV", "exact-online-nl", "nl", "101001", NL_APP.0),
        ("Ledger Ltd", "exact-online-uk", "uk", "201001", UK_APP.0),
    ] {
        let company = world.linked_and_pulled(name, key, division).await;
        let entries = all_records(&world, &company, "journalEntries", 500).await;
        let books = world
            .sandbox_json(&format!("books/{region}/{division}/summary"))
            .await;

        let mut totals: BTreeMap<String, (u64, u64, Decimal)> = BTreeMap::new();
        for entry in &entries {
            let lines = entry["journalLines"].as_array().unwrap();
            assert!(lines.len() >= 2, "{entry}");
            let sum: Decimal = lines.iter().map(|l| decimal(&l["netAmount"])).sum();
            assert_eq!(sum, Decimal::ZERO, "the entry balances: {entry}");
            assert!(entry["journalRef"]["id"].as_str().is_some(), "{entry}");
            assert!(entry["postedOn"].as_str().is_some(), "{entry}");
            for line in lines {
                assert!(line["accountRef"]["id"].as_str().is_some(), "{entry}");
            }
            let t = totals
                .entry(lines[0]["currency"].as_str().unwrap().to_string())
                .or_default();
            t.0 += 1;
            t.1 += lines.len() as u64;
            t.2 += lines
                .iter()
                .map(|l| decimal(&l["netAmount"]))
                .filter(|a| *a > Decimal::ZERO)
                .sum::<Decimal>();
        }
        let expected: Vec<_> = books["journal_entries"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(totals.keys().collect::<Vec<_>>(), expected);
        for (cur, (count, lines, debit)) in &totals {
            let e = &books["journal_entries"][cur];
            assert_eq!(
                *count,
                e["count"].as_u64().unwrap(),
                "{region} {cur} entries"
            );
            assert_eq!(*lines, e["lines"].as_u64().unwrap(), "{region} {cur} lines");
            assert_eq!(*debit, decimal(&e["debit_fc"]), "{region} {cur} debits");
        }

        // Record refs resolve to the invoices and bills served.
        let ids = |path: &'static str| {
            let world = &world;
            let company = company.clone();
            async move {
                all_records(world, &company, path, 5000)
                    .await
                    .iter()
                    .map(|r| r["id"].as_str().unwrap().to_string())
                    .collect::<HashSet<String>>()
            }
        };
        let (invoices, bills) = (ids("invoices").await, ids("bills").await);
        let mut refs: BTreeMap<String, u64> = BTreeMap::new();
        for entry in &entries {
            let Some(data_type) = entry["recordRef"]["dataType"].as_str() else {
                continue;
            };
            let id = entry["recordRef"]["id"].as_str().unwrap();
            *refs.entry(data_type.to_string()).or_default() += 1;
            match data_type {
                "invoices" => assert!(invoices.contains(id), "{entry}"),
                "bills" => assert!(bills.contains(id), "{entry}"),
                "creditNotes" | "billCreditNotes" => {
                    assert!(!invoices.contains(id) && !bills.contains(id), "{entry}")
                }
                other => panic!("recordRef to {other}: {entry}"),
            }
        }
        assert_eq!(refs.get("bills").copied().unwrap_or(0), bills.len() as u64);
        assert!(refs.get("invoices").copied().unwrap_or(0) > 0, "{refs:?}");

        // A pull of journal entries alone: the transaction lines at 1,000 a call, the invoice
        // numbers at 1,000 a call, and the division.
        let calls = pull_cost(
            &world,
            &company,
            "journalEntries",
            region,
            client_id,
            division,
        )
        .await;
        let again = all_records(&world, &company, "journalEntries", 500).await;
        assert!(
            again == entries,
            "a pull of journal entries alone (invoice ids from the bulk headers) serves what the link's pull of everything did"
        );
        let lines = books["counts"]["TransactionLines"].as_u64().unwrap();
        let invoices = books["counts"]["SalesInvoices"].as_u64().unwrap();
        let budget = lines.div_ceil(1000) + invoices.div_ceil(1000) + 1;
        println!(
            "{region}: {} entries, {lines} transaction lines: {calls} calls",
            entries.len()
        );
        assert!(
            calls <= budget,
            "{calls} calls for {lines} lines (budget {budget})"
        );
    }
}
