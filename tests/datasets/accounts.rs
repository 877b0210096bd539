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

        // A pull of the chart costs one call per 1,000 GL accounts, one per 60 reporting
        // balance rows (a plain endpoint) and the division's row.
        let before = calls(&world.stats().await, region, client_id, division);
        pull_again(&world, &company, "chartOfAccounts").await;
        let used = calls(&world.stats().await, region, client_id, division) - before;
        let gl = books["counts"]["GLAccounts"].as_u64().unwrap();
        let reporting = books["reporting_balance_rows"].as_u64().unwrap();
        let floor = gl.div_ceil(1000) + reporting.div_ceil(60) + 1;
        assert_eq!(
            used, floor,
            "{region}: {used} calls for {gl} accounts and {reporting} balance rows"
        );
        println!("{region}: {gl} accounts, {reporting} reporting balance rows, {used} calls");

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
