//! The chart of accounts (`chartOfAccounts`, read at `/data/accounts`) and company info
//! (`company`, read at `/data/info`) from Exact NL and UK, against the sandbox's books.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::Value;

use super::world::{self, NL_APP, UK_APP, World};
use super::{all_records, decimal};

const COMPANIES: [(&str, &str, &str, &str, &str, &str); 2] = [
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
];

const TYPES: [&str; 6] = [
    "Unknown",
    "Asset",
    "Expense",
    "Income",
    "Liability",
    "Equity",
];

async fn world() -> World {
    let world = World::start().await;
    world
        .configure("exact-online-nl", world::NL_APP, true)
        .await;
    world
        .configure("exact-online-uk", world::UK_APP, true)
        .await;
    world
}

/// Calls made so far per Exact endpoint of one division.
async fn calls_by_endpoint(
    world: &World,
    region: &str,
    client_id: &str,
    division: &str,
) -> BTreeMap<String, u64> {
    let stats = world.stats().await;
    let by_endpoint =
        &stats["regions"][region]["apps"][client_id]["divisions"][division]["calls_by_endpoint"];
    serde_json::from_value(by_endpoint.clone()).unwrap_or_default()
}

/// The calls between two readings of [`calls_by_endpoint`].
fn spent(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

/// A call to the sandbox's books admin API; the answer's JSON (null when empty).
async fn books_call(world: &World, method: Method, path: &str, body: Option<Value>) -> Value {
    let url = world
        .sandbox
        .admin_url()
        .join(&format!("books/{path}"))
        .unwrap();
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn calls(stats: &Value, region: &str, client_id: &str, division: &str) -> u64 {
    stats["regions"][region]["apps"][client_id]["divisions"][division]["calls_total"]
        .as_u64()
        .unwrap_or_default()
}

/// Queues one data type's pull and waits for that pull operation to complete.
async fn pull_again(world: &World, company: &str, key: &str) {
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
    let id = queued["id"].as_str().unwrap().to_string();
    for _ in 0..300 {
        let operation = world
            .get_json(&format!("/companies/{company}/data/history/{id}"))
            .await;
        if operation["isCompleted"] == true {
            assert_eq!(operation["status"], "Complete", "{operation}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the {key} pull did not finish");
}

#[tokio::test]
async fn the_chart_of_accounts_matches_the_books_and_every_invoice_line_names_an_account() {
    let world = world().await;
    for (name, key, region, division, currency, client_id) in COMPANIES {
        let company = world.linked_and_pulled(name, key, division).await;
        let books = world
            .sandbox_json(&format!("books/{region}/{division}/summary"))
            .await;
        let accounts = all_records(&world, &company, "accounts", 13).await;

        // Every GL account once, in Codat's shape.
        assert_eq!(
            accounts.len() as u64,
            books["counts"]["GLAccounts"].as_u64().unwrap(),
            "{region}: one account per GL account"
        );
        let ids: HashSet<&str> = accounts.iter().map(|a| a["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), accounts.len(), "{region}: pages never overlap");
        let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
        for account in &accounts {
            let kind = account["type"].as_str().unwrap();
            assert!(TYPES.contains(&kind), "{account}");
            assert_ne!(
                kind, "Unknown",
                "every type in the books is mapped: {account}"
            );
            *by_type.entry(kind).or_default() += 1;
            let category = account["fullyQualifiedCategory"].as_str().unwrap();
            assert!(category.starts_with(&format!("{kind}.")), "{account}");
            assert_eq!(
                account["fullyQualifiedName"].as_str().unwrap(),
                format!("{category}.{}", account["name"].as_str().unwrap())
            );
            assert_eq!(account["currency"], currency, "{account}");
            assert!(account["nominalCode"].is_string(), "{account}");
            assert!(["Active", "Archived"].contains(&account["status"].as_str().unwrap()));
            assert!(account["isBankAccount"].is_boolean(), "{account}");
        }
        assert_eq!(
            by_type.len(),
            5,
            "{region}: every kind of account: {by_type:?}"
        );
        let archived = accounts
            .iter()
            .filter(|a| a["status"] == "Archived")
            .count() as u64;
        assert_eq!(archived, books["blocked_gl_accounts"].as_u64().unwrap());
        assert!(archived > 0);
        let banks = accounts
            .iter()
            .filter(|a| a["isBankAccount"] == true)
            .count();
        assert_eq!(
            banks, 4,
            "{region}: cash, bank, credit card, payment service"
        );

        // Balances: each account's is the sum of its transaction lines in the books.
        let balances = books["gl_balances"].as_object().unwrap();
        let mut total = Decimal::ZERO;
        for account in &accounts {
            let id = account["id"].as_str().unwrap();
            let expected = balances.get(id).map(decimal).unwrap_or_default();
            assert_eq!(
                decimal(&account["currentBalance"]),
                expected,
                "{region} {}: balance",
                account["name"]
            );
            total += decimal(&account["currentBalance"]);
        }
        assert!(
            balances.len() > 10,
            "{region}: the books post to many accounts"
        );
        assert_eq!(total, Decimal::ZERO, "{region}: the ledger balances");

        // Refs resolve: every invoice line's account is one of the accounts.
        let invoices = all_records(&world, &company, "invoices", 500).await;
        let mut lines = 0;
        for invoice in &invoices {
            for line in invoice["lineItems"].as_array().unwrap() {
                let account = line["accountRef"]["id"].as_str().unwrap();
                assert!(ids.contains(account), "{region}: line account {account}");
                lines += 1;
            }
        }
        assert!(lines > 100, "{region}: {lines} invoice lines checked");

        // Nothing changed: a second pull of the chart asks each endpoint it reads once (the
        // division's row for its move date, the GL accounts and the lines since the cursor, the
        // deleted log) and rewrites nothing.
        let before = calls_by_endpoint(&world, region, client_id, division).await;
        pull_again(&world, &company, "chartOfAccounts").await;
        let unchanged = spent(
            &before,
            &calls_by_endpoint(&world, region, client_id, division).await,
        );
        let expected: BTreeMap<String, u64> = [
            "system/Divisions",
            "sync/Financial/GLAccounts",
            "sync/Financial/TransactionLines",
            "sync/Deleted",
        ]
        .into_iter()
        .map(|e| (e.to_string(), 1))
        .collect();
        assert_eq!(unchanged, expected, "{region}: an unchanged pull");
        assert_eq!(
            all_records(&world, &company, "accounts", 13).await,
            accounts,
            "{region}: nothing rewritten"
        );

        // In full (here after a division move): one call per 1,000 GL accounts and per 1,000
        // lines (their amounts only), the division's row, and ReportingBalance's row count
        // (one call: the cursor keeps it for choosing the cheaper read later).
        books_call(
            &world,
            Method::POST,
            &format!("{region}/{division}/move"),
            None,
        )
        .await;
        let before = calls_by_endpoint(&world, region, client_id, division).await;
        pull_again(&world, &company, "chartOfAccounts").await;
        let full = spent(
            &before,
            &calls_by_endpoint(&world, region, client_id, division).await,
        );
        let gl = books["counts"]["GLAccounts"].as_u64().unwrap();
        let lines = books["counts"]["TransactionLines"].as_u64().unwrap();
        let used: u64 = full.values().sum();
        assert!(
            used <= gl.div_ceil(1000) + lines.div_ceil(1000) + 2,
            "{region}: {used} calls for {gl} accounts and {lines} lines: {full:?}"
        );
        assert_eq!(
            full.get("sync/Financial/TransactionLines"),
            Some(&lines.div_ceil(1000))
        );
        assert_eq!(full.get("financial/ReportingBalance"), Some(&1), "{full:?}");
        assert_eq!(
            all_records(&world, &company, "accounts", 13).await,
            accounts,
            "{region}: the full pull finds the same chart"
        );
        println!(
            "{region}: {gl} accounts, {lines} lines: {full:?} in full, {unchanged:?} unchanged"
        );

        // Query and order, and one by id.
        let banks = world
            .get_json(&format!(
                "/companies/{company}/data/accounts?query=isBankAccount%3Dtrue&orderBy=-nominalCode"
            ))
            .await;
        let results = banks["results"].as_array().unwrap();
        assert_eq!(results.len(), 4);
        let codes: Vec<&str> = results
            .iter()
            .map(|a| a["nominalCode"].as_str().unwrap())
            .collect();
        assert!(codes.windows(2).all(|w| w[0] >= w[1]), "{codes:?}");
        let one = world
            .get_json(&format!(
                "/companies/{company}/data/accounts/{}",
                accounts[3]["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(one, accounts[3]);
    }
}

#[tokio::test]
async fn company_info_is_the_division_and_costs_no_call_of_its_own() {
    let world = world().await;
    for (name, key, region, division, currency, client_id) in COMPANIES {
        let company = world.linked_and_pulled(name, key, division).await;
        let books = world
            .sandbox_json(&format!("books/{region}/{division}/summary"))
            .await;
        let info = world
            .get_json(&format!("/companies/{company}/data/info"))
            .await;
        assert_eq!(info["companyName"], books["name"], "{info}");
        assert_eq!(info["baseCurrency"], currency);
        assert_eq!(info["baseCurrency"], books["currency"]);
        assert_eq!(info["accountingPlatformRef"], division);
        assert_eq!(info["taxNumber"], books["vat_number"]);
        assert_eq!(info["registrationNumber"], books["registration_number"]);
        let address = &info["addresses"][0];
        assert_eq!(address["type"], "Billing", "{info}");
        assert!(
            address["line1"].is_string() && address["city"].is_string(),
            "{info}"
        );
        assert_eq!(address["country"], if region == "nl" { "NL" } else { "GB" });
        assert_eq!(info["phoneNumbers"][0]["type"], "Primary");
        let json = info.to_string();
        assert!(!json.contains("null"), "{json}");

        // A single record: no id path, and a pull is one call (the division's row).
        let by_id = world
            .api(
                Method::GET,
                &format!("/companies/{company}/data/info/{division}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(by_id.status(), 404);
        let before = calls(&world.stats().await, region, client_id, division);
        pull_again(&world, &company, "company").await;
        let used = calls(&world.stats().await, region, client_id, division) - before;
        assert_eq!(used, 1, "{region}: system/Divisions once");
    }
}

/// Served accounts by id.
fn by_id(accounts: &[Value]) -> BTreeMap<String, Value> {
    accounts
        .iter()
        .map(|a| (a["id"].as_str().unwrap().to_string(), a.clone()))
        .collect()
}

/// The books' balance of each GL account (0 for one without lines).
fn book_balances(books: &Value) -> BTreeMap<String, Decimal> {
    books["gl_balances"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, amount)| (id.to_ascii_lowercase(), decimal(amount)))
        .collect()
}

fn assert_balances_match(accounts: &[Value], books: &Value, what: &str) {
    let expected = book_balances(books);
    for account in accounts
        .iter()
        .filter(|a| a["metadata"]["isDeleted"] != true)
    {
        let id = account["id"].as_str().unwrap().to_ascii_lowercase();
        assert_eq!(
            decimal(&account["currentBalance"]),
            expected.get(&id).copied().unwrap_or_default(),
            "{what} {}: balance",
            account["name"]
        );
    }
}

#[tokio::test]
async fn the_chart_of_accounts_follows_postings_and_gl_account_changes_incrementally() {
    let world = world().await;
    for (name, key, region, division, _, client_id) in COMPANIES {
        let company = world.linked_and_pulled(name, key, division).await;
        let at = |path: &str| format!("{region}/{division}/{path}");
        let summary_path = format!("books/{region}/{division}/summary");
        let summary = || world.sandbox_json(&summary_path);
        let accounts = all_records(&world, &company, "accounts", 500).await;
        assert_balances_match(&accounts, &summary().await, region);
        let before_posting = by_id(&accounts);

        // A posting in the books moves exactly the two accounts it touches.
        let mut ids: Vec<&String> = before_posting.keys().collect();
        ids.sort();
        let (debit, credit) = (ids[2].clone(), ids[5].clone());
        books_call(
            &world,
            Method::POST,
            &at("GeneralJournalEntries"),
            Some(serde_json::json!({
                "Description": "Incremental posting",
                "GeneralJournalEntryLines": [
                    {"GLAccount": debit, "AmountFC": 123.45},
                    {"GLAccount": credit, "AmountFC": -123.45},
                ],
            })),
        )
        .await;
        let before = calls_by_endpoint(&world, region, client_id, division).await;
        pull_again(&world, &company, "chartOfAccounts").await;
        let posted = spent(
            &before,
            &calls_by_endpoint(&world, region, client_id, division).await,
        );
        let accounts = all_records(&world, &company, "accounts", 500).await;
        let after_posting = by_id(&accounts);
        assert_eq!(after_posting.len(), before_posting.len());
        for (id, account) in &after_posting {
            let moved = decimal(&account["currentBalance"])
                - decimal(&before_posting[id]["currentBalance"]);
            let expected = if *id == debit {
                Decimal::new(12345, 2)
            } else if *id == credit {
                Decimal::new(-12345, 2)
            } else {
                Decimal::ZERO
            };
            assert_eq!(moved, expected, "{region} {}", account["name"]);
            if expected == Decimal::ZERO {
                assert_eq!(account, &before_posting[id], "{region}: not rewritten");
            }
        }
        assert_balances_match(&accounts, &summary().await, region);
        assert_eq!(posted.get("financial/ReportingBalance"), None, "{posted:?}");
        println!("{region}: after a posting {posted:?}");

        // A renamed and a blocked GL account arrive with their balances, no line read in full.
        let (renamed, blocked) = (ids[7].clone(), ids[9].clone());
        assert_eq!(before_posting[&blocked]["status"], "Active");
        books_call(
            &world,
            Method::PATCH,
            &at(&format!("GLAccounts/guid'{renamed}'")),
            Some(serde_json::json!({"Description": "Renamed incrementally"})),
        )
        .await;
        books_call(
            &world,
            Method::PATCH,
            &at(&format!("GLAccounts/guid'{blocked}'")),
            Some(serde_json::json!({"IsBlocked": true})),
        )
        .await;
        let before = calls_by_endpoint(&world, region, client_id, division).await;
        pull_again(&world, &company, "chartOfAccounts").await;
        let changed = spent(
            &before,
            &calls_by_endpoint(&world, region, client_id, division).await,
        );
        let accounts = all_records(&world, &company, "accounts", 500).await;
        let served = by_id(&accounts);
        assert_eq!(served[&renamed]["name"], "Renamed incrementally");
        assert_eq!(
            served[&renamed]["currentBalance"],
            after_posting[&renamed]["currentBalance"]
        );
        assert_eq!(served[&blocked]["status"], "Archived");
        assert_eq!(
            served[&blocked]["currentBalance"],
            after_posting[&blocked]["currentBalance"]
        );
        assert_eq!(
            changed.get("sync/Financial/TransactionLines"),
            Some(&1),
            "{region}: only the check for changed lines: {changed:?}"
        );
        assert_eq!(changed.get("financial/ReportingBalance"), Some(&1));
        assert_balances_match(&accounts, &summary().await, region);
        println!("{region}: after two GL account changes {changed:?}");

        // A new GL account arrives; deleted, it is served as deleted.
        let created = books_call(
            &world,
            Method::POST,
            &at("GLAccounts"),
            Some(serde_json::json!({"Code": "9876", "Description": "Short-lived"})),
        )
        .await;
        let new_key = created["key"].as_str().unwrap().to_string();
        let new_id = new_key
            .trim_start_matches("guid'")
            .trim_end_matches('\'')
            .to_string();
        pull_again(&world, &company, "chartOfAccounts").await;
        let served = by_id(&all_records(&world, &company, "accounts", 500).await);
        assert_eq!(served[&new_id]["name"], "Short-lived");
        assert_eq!(decimal(&served[&new_id]["currentBalance"]), Decimal::ZERO);
        books_call(
            &world,
            Method::DELETE,
            &at(&format!("GLAccounts/{new_key}")),
            None,
        )
        .await;
        pull_again(&world, &company, "chartOfAccounts").await;
        let accounts = all_records(&world, &company, "accounts", 500).await;
        let served = by_id(&accounts);
        assert_eq!(served[&new_id]["metadata"]["isDeleted"], true, "{region}");
        assert_eq!(
            accounts
                .iter()
                .filter(|a| a["metadata"]["isDeleted"] != true)
                .count() as u64,
            summary().await["counts"]["GLAccounts"].as_u64().unwrap()
        );
    }
}
