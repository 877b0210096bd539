//! The common model's data types end to end, one module per data type: linked NL and UK
//! companies, their pulls through Exact's endpoints, and what Ledgerline serves checked against
//! the sandbox's books (counts, per-currency totals, refs that resolve, upstream calls per pull).
//! Invoices, the first data type, have their own binary (`tests/invoices/`).

#[path = "../common/mod.rs"]
mod common;
#[path = "../connections/world.rs"]
mod world;

mod big_pull;
mod bills;
mod contacts;
mod credit_notes;
mod customers;
mod full_pull;
mod incremental;
mod journal_entries;
mod refs;
mod schedules;
mod takeover;

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::Value;

use world::World;

mod accounts;

/// Every record of a company's data type (`path` as in `/data/{path}`), read page by page; the
/// envelope's `totalResults` is checked against what was read.
pub async fn all_records(world: &World, company: &str, path: &str, page_size: usize) -> Vec<Value> {
    let mut records = Vec::new();
    let mut page = 1;
    loop {
        let response = world
            .api(
                Method::GET,
                &format!("/companies/{company}/data/{path}?page={page}&pageSize={page_size}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "/data/{path} page {page}");
        let body: Value = response.json().await.unwrap();
        records.extend(body["results"].as_array().unwrap().iter().cloned());
        if body["_links"].get("next").is_none() {
            assert_eq!(records.len() as u64, body["totalResults"].as_u64().unwrap());
            return records;
        }
        page += 1;
    }
}

/// A JSON number as a decimal, exactly as written.
#[allow(dead_code)] // for the data types' totals
pub fn decimal(value: &Value) -> Decimal {
    value
        .to_string()
        .parse()
        .unwrap_or_else(|_| panic!("{value} is not a number"))
}

#[tokio::test]
async fn a_data_path_ledgerline_does_not_serve_is_404_naming_the_ones_it_does() {
    let world = World::start().await;
    world
        .configure("exact-online-nl", world::NL_APP, true)
        .await;
    let company = world
        .linked_and_pulled("Paths BV", "exact-online-nl", "101001")
        .await;
    for path in ["bankFeeds", "nosuch/1"] {
        let response = world
            .api(Method::GET, &format!("/companies/{company}/data/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        let message = body["error"].as_str().unwrap_or_default();
        for spec in ledgerline::model::DATASETS {
            assert!(message.contains(spec.path), "{path}: {body}");
        }
    }
    // Every served data type reads through the same routes, page by page.
    for spec in ledgerline::model::DATASETS
        .iter()
        .filter(|s| s.id_param.is_some())
    {
        let records = all_records(&world, &company, spec.path, 7).await;
        assert!(!records.is_empty(), "{} pulled on link", spec.key);
        let first = records[0]["id"].as_str().unwrap();
        let one = world
            .get_json(&format!("/companies/{company}/data/{}/{first}", spec.path))
            .await;
        assert_eq!(one, records[0]);
    }
}

/// A page's `_links` lead back to the same data type's read path (`/data/accounts`), which is
/// not always its dataStatus key (`chartOfAccounts`): following `next` must work.
#[tokio::test]
async fn page_links_follow_the_read_path_of_every_data_type() {
    let world = World::start().await;
    world
        .configure("exact-online-nl", world::NL_APP, true)
        .await;
    let company = world
        .linked_and_pulled("Links BV", "exact-online-nl", "101001")
        .await;
    for spec in ledgerline::model::DATASETS
        .iter()
        .filter(|s| s.id_param.is_some())
    {
        let first = world
            .get_json(&format!(
                "/companies/{company}/data/{}?pageSize=1",
                spec.path
            ))
            .await;
        let path = format!("/companies/{company}/data/{}", spec.path);
        assert_eq!(
            first["_links"]["self"]["href"],
            path.as_str(),
            "{}",
            spec.key
        );
        let next = first["_links"]["next"]["href"].as_str().unwrap();
        let second = world.get_json(next).await;
        assert_eq!(second["pageNumber"], 2, "{} next: {next}", spec.key);
    }
}
