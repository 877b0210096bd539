//! Customers and suppliers end to end: linked NL and UK companies, one read of Exact's
//! `sync/CRM/Accounts` feeding both, checked against the sandbox's books: counts by role and
//! blocked, accounts of both roles served in both, every invoice's customer served.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use super::all_records;
use super::world::{NL_APP, UK_APP, World};

/// Ids of the records whose `status` is `status`.
fn ids_with_status<'a>(records: &'a [Value], status: &str) -> HashSet<&'a str> {
    records
        .iter()
        .filter(|r| r["status"] == status)
        .map(|r| r["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn nl_and_uk_customers_and_suppliers_match_the_sandbox_books() {
    let world = World::start().await;
    world.configure("exact-online-nl", NL_APP, true).await;
    world.configure("exact-online-uk", UK_APP, true).await;
    for (name, key, region, division, currency, home, client_id) in [
        (
            "Relations BV",
            "exact-online-nl",
            "nl",
            "101001",
            "EUR",
            "NL",
            NL_APP.0,
        ),
        (
            "Relations Ltd",
            "exact-online-uk",
            "uk",
            "201001",
            "GBP",
            "GB",
            UK_APP.0,
        ),
    ] {
        let company = world.linked_and_pulled(name, key, division).await;
        let books = world
            .sandbox_json(&format!("books/{region}/{division}/summary"))
            .await;
        let expected = &books["relations"];
        let count = |field: &str| expected[field].as_u64().unwrap() as usize;

        let customers = all_records(&world, &company, "customers", 13).await;
        let suppliers = all_records(&world, &company, "suppliers", 7).await;
        assert_eq!(customers.len(), count("customers"), "{region} customers");
        assert_eq!(suppliers.len(), count("suppliers"), "{region} suppliers");

        let customer_ids: HashSet<&str> = customers
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        let supplier_ids: HashSet<&str> = suppliers
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert_eq!(customer_ids.len(), customers.len(), "pages never overlap");
        assert_eq!(supplier_ids.len(), suppliers.len(), "pages never overlap");
        let both = customer_ids.intersection(&supplier_ids).count();
        assert!(both > 0, "{region}: some accounts are both");
        assert_eq!(
            both,
            count("both"),
            "{region}: one id for an account of both roles"
        );

        // Blocked accounts are Archived, the rest Active.
        let archived_customers = ids_with_status(&customers, "Archived");
        let archived_suppliers = ids_with_status(&suppliers, "Archived");
        assert!(!archived_customers.is_empty() && !archived_suppliers.is_empty());
        assert_eq!(archived_customers.len(), count("blocked_customers"));
        assert_eq!(archived_suppliers.len(), count("blocked_suppliers"));
        assert_eq!(
            ids_with_status(&customers, "Active").len() + archived_customers.len(),
            customers.len()
        );

        // What Exact holds on every generated relation arrives, and nothing is null.
        let mut currencies: BTreeMap<String, usize> = BTreeMap::new();
        for customer in &customers {
            let text = customer.to_string();
            assert!(!text.contains("null"), "{text}");
            for field in ["customerName", "emailAddress", "phone"] {
                assert!(customer[field].is_string(), "{field}: {customer}");
            }
            // Home customers have both numbers; abroad ones may lack them (left out, not null).
            if customer["addresses"][0]["country"] == home {
                assert!(customer["taxNumber"].is_string(), "{customer}");
                assert!(customer["registrationNumber"].is_string(), "{customer}");
            }
            assert_eq!(customer["addresses"][0]["type"], "Billing", "{customer}");
            assert!(customer["contacts"].is_array(), "{customer}");
            assert!(customer["modifiedDate"].as_str().unwrap().ends_with('Z'));
            *currencies
                .entry(customer["defaultCurrency"].as_str().unwrap().into())
                .or_default() += 1;
        }
        assert!(
            currencies[currency] * 10 > customers.len() * 7,
            "{region}: customers mostly in {currency}: {currencies:?}"
        );
        for supplier in &suppliers {
            let text = supplier.to_string();
            assert!(!text.contains("null"), "{text}");
            assert!(supplier["supplierName"].is_string(), "{supplier}");
            assert_eq!(supplier["defaultCurrency"], currency, "{supplier}");
            assert!(supplier["registrationNumber"].is_string(), "{supplier}");
        }

        // Every invoice's customerRef is a customer Ledgerline serves.
        let invoices = all_records(&world, &company, "invoices", 500).await;
        assert!(!invoices.is_empty());
        for invoice in &invoices {
            let customer = invoice["customerRef"]["id"].as_str().unwrap();
            assert!(
                customer_ids.contains(customer),
                "{region}: invoice {} refers to {customer}, which is not a customer",
                invoice["id"]
            );
        }

        // One read of sync/CRM/Accounts fed both data types: ⌈rows/1000⌉ calls, not one read
        // per data type.
        let stats = world.stats().await;
        let calls = &stats["regions"][region]["apps"][client_id]["divisions"][division];
        let account_calls = calls["calls_by_endpoint"]["sync/CRM/Accounts"]
            .as_u64()
            .unwrap_or_else(|| panic!("{region}: sync/CRM/Accounts was read: {calls}"));
        let rows = books["counts"]["Accounts"].as_u64().unwrap();
        assert_ne!(rows % 1000, 0, "no trailing empty page to allow for");
        assert_eq!(
            account_calls,
            rows.div_ceil(1000),
            "{region}: calls of sync/CRM/Accounts for {rows} accounts"
        );
        assert_eq!(
            calls["calls_by_endpoint"]["crm/Accounts"],
            Value::Null,
            "no other read of the accounts"
        );

        // Get by id, and a customer is not a supplier by id unless it is both.
        let first = &customers[0];
        let id = first["id"].as_str().unwrap();
        let one = world
            .get_json(&format!("/companies/{company}/data/customers/{id}"))
            .await;
        assert_eq!(&one, first);
        let only_customer = customer_ids.difference(&supplier_ids).next().unwrap();
        let status = world
            .api(
                reqwest::Method::GET,
                &format!("/companies/{company}/data/suppliers/{only_customer}"),
            )
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404);
    }
}

/// Suppliers queued on their own read the accounts once more and leave the customers as they
/// were: a run pushes only the data types it was asked for.
#[tokio::test]
async fn suppliers_pulled_alone_read_the_accounts_once_and_leave_customers_alone() {
    let world = World::start().await;
    world.configure("exact-online-nl", NL_APP, true).await;
    let company = world
        .linked_and_pulled("Once BV", "exact-online-nl", "101001")
        .await;
    let accounts_calls = |stats: &Value| {
        stats["regions"]["nl"]["apps"][NL_APP.0]["divisions"]["101001"]["calls_by_endpoint"]
            ["sync/CRM/Accounts"]
            .as_u64()
            .unwrap()
    };
    let status_of = |status: &Value, key: &str| status[key]["lastSuccessfulSync"].clone();
    let before_calls = accounts_calls(&world.stats().await);
    let before = world
        .get_json(&format!("/companies/{company}/dataStatus"))
        .await;
    world.advance(60).await;
    let response = world
        .api(
            reqwest::Method::POST,
            &format!("/companies/{company}/data/queue/suppliers"),
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let after = world.wait_for_pull(&company).await;
    assert_eq!(accounts_calls(&world.stats().await) - before_calls, 1);
    assert_ne!(
        status_of(&after, "suppliers"),
        status_of(&before, "suppliers")
    );
    assert_eq!(
        status_of(&after, "customers"),
        status_of(&before, "customers"),
        "customers were not pulled"
    );
    let suppliers = all_records(&world, &company, "suppliers", 100).await;
    let books = world.sandbox_json("books/nl/101001/summary").await;
    assert_eq!(
        suppliers.len() as u64,
        books["relations"]["suppliers"].as_u64().unwrap()
    );
}
