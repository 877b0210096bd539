//! `query` and `orderBy` on the invoice list through HTTP: filtered totals and pages, sorted
//! pages, links that keep the filter, and Codat's 400s.

#[path = "../common/mod.rs"]
mod common;
#[path = "../connections/world.rs"]
mod world;

use ledgerline::store::PulledRecords;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use world::World;

/// A company whose invoices are exactly `invoices`, committed as a finished pull straight into
/// the store: the HTTP side of querying does not depend on the upstream.
async fn seeded_company(world: &World, invoices: Vec<Value>) -> String {
    let company = world.company("Seeded").await;
    let connection = world.connection(&company, "exact-online-nl").await;
    let store = &world.server.state.store;
    let company_id = Uuid::parse_str(&company).unwrap();
    let connection_id = Uuid::parse_str(connection["id"].as_str().unwrap()).unwrap();
    let now = chrono::Utc::now().timestamp();
    let pull = store
        .create_pull_operation(company_id, connection_id, "invoices", now)
        .await
        .unwrap()
        .expect("no other pull is running");
    let records = invoices
        .into_iter()
        .map(|invoice| (invoice["id"].as_str().unwrap().to_string(), invoice))
        .collect();
    store
        .commit_pull(
            &pull,
            PulledRecords {
                records,
                cursor: None,
                upstream_calls: 0,
            },
            now,
        )
        .await
        .unwrap();
    company
}

fn invoice(id: &str, status: &str, total: f64, due: f64, issued: &str, customer: &str) -> Value {
    json!({"id": id, "invoiceNumber": format!("INV-{id}"), "status": status,
           "totalAmount": total, "amountDue": due, "issueDate": issued,
           "customerRef": {"id": customer, "companyName": format!("Customer {customer}")},
           "lineItems": [{"unitAmount": total}], "metadata": {"isDeleted": null}})
}

#[tokio::test]
async fn seeded_invoices_filter_sort_and_page_through_http() {
    let world = World::start().await;
    let company = seeded_company(
        &world,
        vec![
            invoice("a1", "Paid", 100.10, 0.0, "2025-01-15T00:00:00", "61"),
            invoice("a2", "Submitted", 250.0, 250.0, "2025-01-15T13:04:02", "62"),
            invoice(
                "a3",
                "PartiallyPaid",
                49.99,
                10.5,
                "2024-12-31T23:30:00",
                "61",
            ),
            invoice("a4", "Submitted", 250.0, 250.0, "2025-03-01T08:00:00", "70"),
            invoice("a5", "Paid", 5.0, 0.0, "2025-02-01T00:00:00", "61"),
        ],
    )
    .await;
    let list = |params: &str| format!("/companies/{company}/data/invoices?{params}");

    let (status, page) = get(&world, &list("query=amountDue%3E0&pageSize=2")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["totalResults"], 3);
    assert_eq!(ids(page["results"].as_array().unwrap()), ["a2", "a3"]);
    assert_eq!(
        page["_links"]["next"]["href"],
        format!("/companies/{company}/data/invoices?page=2&pageSize=2&query=amountDue%3E0")
    );
    assert!(
        page["results"][0]["lineItems"].is_array(),
        "records are served whole"
    );

    let (_, page) = get(&world, &list("page=2&pageSize=2&query=amountDue%3E0")).await;
    assert_eq!(ids(page["results"].as_array().unwrap()), ["a4"]);
    assert_eq!(
        page["_links"]["previous"]["href"],
        format!("/companies/{company}/data/invoices?page=1&pageSize=2&query=amountDue%3E0")
    );

    // Ties (a2 and a4) stay in id order; orderBy alone keeps every record.
    let (sorted, total) = all(&world, &company, "&orderBy=-totalAmount").await;
    assert_eq!(total, 5);
    assert_eq!(ids(&sorted), ["a2", "a4", "a1", "a3", "a5"]);

    let (both, total) = all(
        &world,
        &company,
        "&query=customerRef.id%3D61%20%26%26%20status%21%3Dpartiallypaid&orderBy=issueDate",
    )
    .await;
    assert_eq!(total, 2);
    assert_eq!(ids(&both), ["a1", "a5"]);

    let (_, page) = get(&world, &list("query=status%3Dvoid")).await;
    assert_eq!(page["totalResults"], 0);
    assert_eq!(page["results"], json!([]));
    let (_, page) = get(&world, &list("query=%20&orderBy=")).await;
    assert_eq!(page["totalResults"], 5, "blank parameters filter nothing");
}

async fn get(world: &World, path: &str) -> (u16, Value) {
    let response = world.api(Method::GET, path).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Every invoice the list returns for these extra parameters, following `next` links.
async fn all(world: &World, company: &str, params: &str) -> (Vec<Value>, u64) {
    let mut href = format!("/companies/{company}/data/invoices?page=1&pageSize=7{params}");
    let mut invoices = Vec::new();
    loop {
        let (status, page) = get(world, &href).await;
        assert_eq!(status, 200, "{href}: {page}");
        assert_eq!(page["_links"]["current"]["href"], href.as_str());
        invoices.extend(page["results"].as_array().unwrap().iter().cloned());
        match page["_links"]["next"]["href"].as_str() {
            Some(next) => {
                assert!(next.ends_with(params), "{next} keeps {params}");
                href = next.to_string();
            }
            None => return (invoices, page["totalResults"].as_u64().unwrap()),
        }
    }
}

fn decimal(value: &Value) -> Decimal {
    value.to_string().parse().unwrap()
}

fn ids(invoices: &[Value]) -> Vec<&str> {
    invoices.iter().map(|i| i["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn invoices_filter_and_sort_through_http() {
    let world = World::start().await;
    let company = world
        .linked_and_pulled("Acme BV", "exact-online-nl", "101001")
        .await;
    let (everything, total) = all(&world, &company, "").await;
    assert_eq!(everything.len() as u64, total);

    // Filtered: totalResults and every page count only what passes.
    let (due, due_total) = all(&world, &company, "&query=amountDue%20%3E%200").await;
    let expected: Vec<_> = everything
        .iter()
        .filter(|i| decimal(&i["amountDue"]) > Decimal::ZERO)
        .cloned()
        .collect();
    assert!(!expected.is_empty() && expected.len() < everything.len());
    assert_eq!(ids(&due), ids(&expected), "id order without orderBy");
    assert_eq!(due_total, expected.len() as u64);

    // Case-insensitive enums, && with braces.
    let (paid, _) = all(
        &world,
        &company,
        "&query=%7Bstatus%3Dpaid%7D%26%26amountDue%3D0",
    )
    .await;
    assert!(paid.iter().all(|i| i["status"] == "Paid"));
    assert_eq!(
        paid.len(),
        everything.iter().filter(|i| i["status"] == "Paid").count()
    );

    // Sorted descending, ties in id order, across pages.
    let (sorted, _) = all(&world, &company, "&orderBy=-totalAmount").await;
    let mut expected = everything.clone();
    expected.sort_by(|a, b| decimal(&b["totalAmount"]).cmp(&decimal(&a["totalAmount"])));
    assert_eq!(ids(&sorted), ids(&expected));

    // Both at once.
    let (both, _) = all(&world, &company, "&query=amountDue%3E0&orderBy=issueDate").await;
    assert_eq!(both.len(), due.len());
    assert!(
        both.windows(2)
            .all(|w| w[0]["issueDate"].as_str() <= w[1]["issueDate"].as_str())
    );
}

#[tokio::test]
async fn bad_queries_are_400s_in_codats_words() {
    let world = World::start().await;
    let company = world.company("Acme BV").await;
    let list = format!("/companies/{company}/data/invoices");
    for (params, message) in [
        (
            "query=lineItems.unitAmount%3D700",
            "Error parsing query - Could not resolve property lineItems.unitAmount on Invoice",
        ),
        (
            "orderBy=-isCompleted",
            "Error parsing query - Could not resolve property isCompleted on Invoice",
        ),
        (
            "query=status%20paid",
            "Error parsing query - Malformed query. At character 8: expected an operator",
        ),
        (
            "query=amountDue%3E0%20%26%26",
            "Error parsing query - Malformed query. At character 15: expected a property name",
        ),
    ] {
        let (status, body) = get(&world, &format!("{list}?{params}")).await;
        assert_eq!(status, 400, "{params}: {body}");
        assert_eq!(body["statusCode"], 400);
        let error = body["error"].as_str().unwrap();
        assert!(error.starts_with(message), "{params}: {error}");
    }
    let long = format!("{list}?query=note%3D{}", "x".repeat(2048));
    let (status, body) = get(&world, &long).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("shorter than 2048")
    );
}
