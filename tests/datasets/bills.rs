//! Bills end to end, NL and UK: what Ledgerline serves equals the sandbox's books (count, totals
//! and amounts due per currency), each bill is the purchase entry of a supplier, and a pull of
//! bills alone costs about one call per 1,000 transaction lines.

use std::collections::{BTreeMap, HashSet};

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::Value;

use super::world::{NL_APP, UK_APP, World};
use super::{all_records, decimal};

/// Queues a pull of one data type, waits for it, and gives the upstream calls it made.
pub async fn pull_cost(
    world: &World,
    company: &str,
    key: &str,
    region: &str,
    client_id: &str,
    division: &str,
) -> u64 {
    let calls = |stats: Value| {
        stats["regions"][region]["apps"][client_id]["divisions"][division]["calls_total"]
            .as_u64()
            .unwrap()
    };
    let before = calls(world.stats().await);
    let queued: Value = world
        .api(
            Method::POST,
            &format!("/companies/{company}/data/queue/{key}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(queued["status"], "Queued", "{queued}");
    for _ in 0..300 {
        let status = world.wait_for_pull(company).await;
        if status[key]["latestSyncId"] == queued["id"] {
            return calls(world.stats().await) - before;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the {key} pull did not finish");
}

#[tokio::test]
async fn nl_and_uk_bills_match_the_sandbox_books() {
    let world = World::start().await;
    for (name, key, region, division, currency, client_id) in [
        (
            "Bills BV",
            "exact-online-nl",
            "nl",
            "101001",
            "EUR",
            NL_APP.0,
        ),
        (
            "Bills Ltd",
            "exact-online-uk",
            "uk",
            "201001",
            "GBP",
            UK_APP.0,
        ),
    ] {
        let company = world.linked_and_pulled(name, key, division).await;
        let linked = world.stats().await["regions"][region]["apps"][client_id]["divisions"]
            [division]["calls_total"]
            .as_u64()
            .unwrap();
        println!("{region}: the link's pull of every data type made {linked} calls");
        let bills = all_records(&world, &company, "bills", 41).await;
        let books = world
            .sandbox_json(&format!("books/{region}/{division}/summary"))
            .await;

        let ids: HashSet<_> = bills.iter().map(|b| b["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), bills.len(), "pages never overlap");
        let mut totals: BTreeMap<String, (u64, Decimal, Decimal)> = BTreeMap::new();
        let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
        for bill in &bills {
            let total = decimal(&bill["totalAmount"]);
            let due = decimal(&bill["amountDue"]);
            assert_eq!(
                total,
                decimal(&bill["subTotal"]) + decimal(&bill["taxAmount"]),
                "{bill}"
            );
            assert!(due >= Decimal::ZERO && due <= total, "{bill}");
            let status = bill["status"].as_str().unwrap();
            assert!(
                ["Open", "PartiallyPaid", "Paid"].contains(&status),
                "{bill}"
            );
            *statuses.entry(status.to_string()).or_default() += 1;
            assert!(!bill["lineItems"].as_array().unwrap().is_empty(), "{bill}");
            assert!(bill["supplierRef"]["id"].as_str().is_some(), "{bill}");
            let t = totals
                .entry(bill["currency"].as_str().unwrap().to_string())
                .or_default();
            t.0 += 1;
            t.1 += total;
            t.2 += due;
        }
        assert_eq!(
            statuses.len(),
            3,
            "{region}: open, part-paid and paid bills: {statuses:?}"
        );
        assert!(totals.contains_key(currency), "{region}: {totals:?}");
        let expected_currencies: Vec<_> = books["bills"].as_object().unwrap().keys().collect();
        assert_eq!(totals.keys().collect::<Vec<_>>(), expected_currencies);
        for (cur, (count, total, due)) in &totals {
            let expected = &books["bills"][cur];
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

        // Each bill is its purchase entry's journal entry, whose supplier line names the same
        // supplier.
        let journal = all_records(&world, &company, "journalEntries", 5000).await;
        let by_id: BTreeMap<&str, &Value> = journal
            .iter()
            .map(|j| (j["id"].as_str().unwrap(), j))
            .collect();
        for bill in &bills {
            let entry = by_id[bill["id"].as_str().unwrap()];
            assert_eq!(entry["recordRef"]["dataType"], "bills");
            assert!(
                entry["journalLines"].as_array().unwrap().iter().any(|l| {
                    l["contactRef"]["id"] == bill["supplierRef"]["id"]
                        && l["contactRef"]["dataType"] == "suppliers"
                }),
                "{bill}"
            );
        }

        // One by id, and a query with orderBy.
        let one = world
            .get_json(&format!(
                "/companies/{company}/data/bills/{}",
                bills[3]["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(one, bills[3]);
        let owed: Value = world
            .get_json(&format!(
                "/companies/{company}/data/bills?query=amountDue%20%3E%200&orderBy=-issueDate&pageSize=5000"
            ))
            .await;
        let owed_count = bills
            .iter()
            .filter(|b| decimal(&b["amountDue"]) > Decimal::ZERO)
            .count();
        assert_eq!(owed["totalResults"].as_u64().unwrap() as usize, owed_count);

        // A pull of bills alone: the transaction lines at 1,000 a call, payables, VAT codes and
        // the division.
        let calls = pull_cost(&world, &company, "bills", region, client_id, division).await;
        let again = all_records(&world, &company, "bills", 41).await;
        assert!(
            again == bills,
            "a pull of bills alone serves what the link's pull of everything did"
        );
        let lines = books["counts"]["TransactionLines"].as_u64().unwrap();
        let payables = books["counts"]["PayablesList"].as_u64().unwrap();
        let budget = lines.div_ceil(1000) + payables.div_ceil(1000) + 2;
        assert!(
            calls <= budget,
            "{calls} calls for {lines} lines (budget {budget})"
        );
        // What the purchase entry endpoints (60 rows a call, no sync variant) would have cost
        // for the same bills: the reason bills come from the transaction lines.
        let entries = books["counts"]["PurchaseEntries"].as_u64().unwrap();
        let entry_lines = books["counts"]["PurchaseEntryLines"].as_u64().unwrap();
        let by_entries =
            entries.div_ceil(60) + entry_lines.div_ceil(60) + payables.div_ceil(1000) + 2;
        println!(
            "{region}: {} bills; {lines} transaction lines → {calls} calls; \
             {entries} purchase entries + {entry_lines} lines would be {by_entries} calls",
            bills.len()
        );
        assert!(
            calls <= by_entries,
            "{calls} calls, {by_entries} through PurchaseEntries"
        );
    }
}
