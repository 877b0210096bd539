//! The read path at scale (issue 11), on SQLite and PostgreSQL: pages and records served
//! straight from the store (a server that never cached them) equal those a warm cache serves,
//! byte for byte; queries evaluated over the columns the store extracts keep exactly the
//! results the query language gives on the records themselves.

use ledgerline::api::paging::PageQuery;
use ledgerline::api::selection::Selection;
use ledgerline::config::ServerConfig;
use ledgerline::model::invoice::Invoice;
use ledgerline::store::{PulledRecords, Store};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::PgTestDatabase;
use crate::harness::TestServer;

/// Invoices whose queried fields vary every way the language tells apart: integers, decimals
/// (`100.10`, `1e2`, negatives), numbers kept as text, case and accents in text, dates with and
/// without a time or a zone, text that is not a date, nulls, missing fields and objects.
fn varied_invoices(n: usize) -> Vec<Value> {
    let currencies = [
        json!("EUR"),
        json!("eur"),
        json!("GBP"),
        Value::Null,
        json!("Ünï"),
    ];
    let amounts = [
        json!(0),
        json!(100.10),
        json!(1e2),
        json!(-0.5),
        json!(1.0),
        json!(12345678901234u64),
        Value::Null,
        json!("250"),
    ];
    let dates = [
        json!("2025-01-15T00:00:00"),
        json!("2025-01-15"),
        json!("2025-01-15T10:00:00+02:00"),
        json!("2024-12-31T23:59:59.5"),
        json!("soon"),
        Value::Null,
    ];
    (0..n)
        .map(|i| {
            let status = ["Paid", "Submitted", "PartiallyPaid"][i % 3];
            let customer = format!("Klant {}", ["Ünï", "abc", "ABC"][i % 3]);
            let mut invoice = json!({
                "id": format!("inv-{:05}", (i * 7919) % 100_000),
                "invoiceNumber": format!("INV-{i}"),
                "currency": currencies[i % currencies.len()],
                "amountDue": amounts[i % amounts.len()],
                "totalAmount": amounts[(i / 3) % amounts.len()],
                "issueDate": dates[i % dates.len()],
                "status": status,
                "customerRef": {"id": (i % 5).to_string(), "companyName": customer},
                "lineItems": [{"unitAmount": i, "description": "line"}],
                "metadata": {"isDeleted": if i % 11 == 0 { json!(true) } else { Value::Null }},
            });
            match i % 13 {
                0 => {
                    invoice.as_object_mut().unwrap().remove("currency");
                }
                1 => invoice["customerRef"] = Value::Null,
                2 => invoice["note"] = json!({"not": "a scalar"}),
                _ => {}
            }
            invoice
        })
        .collect()
}

/// `(query, orderBy)` pairs over the varied invoices.
const SELECTIONS: &[(&str, &str)] = &[
    ("amountDue > 0 && currency = EUR", "-issueDate"),
    ("currency = eur || status = paid", ""),
    ("issueDate >= 2025-01-15", "issueDate"),
    ("issueDate = 2025-01-15", ""),
    ("customerRef.id = 3", "-amountDue"),
    ("customerRef.companyName ~ ünï", "customerRef.companyName"),
    ("metadata.isDeleted != true", "totalAmount,-issueDate"),
    ("", "-totalAmount"),
    ("", "currency"),
    (
        "{amountDue <= 100.1 || amountDue > 1000} && currency != GBP",
        "-currency,issueDate",
    ),
    ("totalAmount > 200", "-id"),
    ("note = x", ""),
    ("amountDue = 100", "id"),
];

fn params(query: &str, order_by: &str) -> PageQuery {
    PageQuery {
        query: Some(query.into()),
        order_by: Some(order_by.into()),
        ..PageQuery::default()
    }
}

/// A tenant's company on `server` whose invoices are `invoices`, committed as a finished pull.
async fn seeded(server: &TestServer, url: &str, invoices: Vec<Value>) -> (String, String) {
    let (_, key) = server.new_tenant("Read scale").await;
    let company = server.new_company(&key, "Many invoices").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let store = Store::connect(url).await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let company_id = Uuid::parse_str(&company).unwrap();
    let pull = store
        .create_pull_operation(company_id, Uuid::new_v4(), "invoices", now)
        .await
        .unwrap()
        .unwrap();
    let records = invoices
        .into_iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r))
        .collect();
    let pulled = PulledRecords {
        records,
        cursor: None,
        upstream_calls: 0,
    };
    store.commit_pull(&pull, pulled, now).await.unwrap();
    store.close().await;
    (company, key)
}

async fn body(server: &TestServer, key: &str, path: &str) -> (u16, Vec<u8>) {
    let response = server
        .as_tenant(Method::GET, path, key)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

async fn cold_and_warm_answers_are_the_same_bytes(config: ServerConfig) {
    let url = config.database_url();
    let warm = TestServer::start_with(config.clone()).await;
    let invoices = varied_invoices(1_300);
    let (company, key) = seeded(&warm, &url, invoices.clone()).await;
    let list = format!("/companies/{company}/data/invoices");
    let mut paths = vec![
        format!("{list}"),
        format!("{list}?page=2&pageSize=50"),
        // Past the last page: an empty page, the total still right.
        format!("{list}?page=99&pageSize=50"),
        format!("{list}?page=150&pageSize=8"),
        format!("{list}/inv-00000"),
        format!("{list}/inv-07919"),
    ];
    for (query, order_by) in SELECTIONS {
        let encoded = params(query, order_by).filter_params();
        paths.push(format!("{list}?page=1&pageSize=40{encoded}"));
        paths.push(format!("{list}?page=3&pageSize=25{encoded}"));
    }
    // The warm server answers every path twice: the second answer comes from its cache.
    let mut warm_answers = Vec::new();
    for path in &paths {
        let first = body(&warm, &key, path).await;
        let again = body(&warm, &key, path).await;
        assert_eq!(
            first.0,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&first.1)
        );
        assert_eq!(
            first, again,
            "{path}: a cached answer differs from the built one"
        );
        warm_answers.push(first);
    }
    // A second server on the same store has nothing cached: each answer comes straight from
    // the store, first the deep page without the ids, then (after a query read them) with.
    let cold = TestServer::start_with(config).await;
    for (path, answer) in paths.iter().zip(&warm_answers) {
        assert_eq!(
            &body(&cold, &key, path).await,
            answer,
            "{path}: cold and warm answers differ"
        );
    }
    let deep = format!("{list}?page=150&pageSize=8");
    let other_dir = tempfile::tempdir().unwrap();
    let from_ids = TestServer::start_with({
        let mut config = ServerConfig::for_data_dir(other_dir.path());
        config.database_url = Some(url.clone());
        config
    })
    .await;
    let queried = body(&from_ids, &key, &paths[6]).await;
    assert_eq!(queried.0, 200);
    assert_eq!(
        body(&from_ids, &key, &deep).await,
        warm_answers[3],
        "a deep page read from a known id equals one read by offset"
    );

    // Every page of the plain list, in order, is every record in id order.
    let page: Value = serde_json::from_slice(&warm_answers[0].1).unwrap();
    assert_eq!(page["totalResults"], 1_300);
    let mut ids: Vec<String> = invoices
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let deep: Value = serde_json::from_slice(&warm_answers[3].1).unwrap();
    let deep_ids: Vec<&str> = deep["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(deep_ids, ids[149 * 8..150 * 8]);
    // A missing record is Codat's 404, from the store as from memory.
    assert_eq!(body(&cold, &key, &format!("{list}/nope")).await.0, 404);
    assert_eq!(body(&cold, &key, &format!("{list}/nope")).await.0, 404);
    from_ids.stop().await;
    cold.stop().await;
    warm.stop().await;
}

#[tokio::test]
async fn cold_and_warm_answers_are_the_same_bytes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    cold_and_warm_answers_are_the_same_bytes(ServerConfig::for_data_dir(dir.path())).await;
}

#[tokio::test]
async fn cold_and_warm_answers_are_the_same_bytes_on_postgres() {
    let Some(db) = PgTestDatabase::create("cold_and_warm_answers_are_the_same_bytes").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::for_data_dir(dir.path());
    config.database_url = Some(db.url.clone());
    cold_and_warm_answers_are_the_same_bytes(config).await;
    db.drop_database().await;
}

/// Each selection over columns the store extracted keeps what it keeps over the parsed
/// records, in the same order.
async fn columns_select_what_records_select(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with({
        let mut config = ServerConfig::for_data_dir(dir.path());
        config.database_url = Some(url.to_string());
        config
    })
    .await;
    let (company, _) = seeded(&server, url, varied_invoices(400)).await;
    let company = Uuid::parse_str(&company).unwrap();
    let store = Store::connect(url).await.unwrap();
    let stored = store.load_records(company, "invoices").await.unwrap();
    let records: Vec<Value> = stored
        .iter()
        .map(|(_, json)| serde_json::from_str(json).unwrap())
        .collect();
    for (query, order_by) in SELECTIONS {
        let selection =
            Selection::parse("Invoice", Invoice::QUERY_PATHS, &params(query, order_by)).unwrap();
        let paths = selection.paths();
        let (ids, columns) = store
            .record_fields(company, "invoices", &paths)
            .await
            .unwrap();
        assert_eq!(
            ids.iter().map(|id| &**id).collect::<Vec<_>>(),
            stored.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>()
        );
        let from_columns = selection.apply_fields(ids.len(), |position, path| {
            let column = paths.iter().position(|p| p == path)?;
            columns[column][position].as_ref()
        });
        let from_records = selection.apply(&records);
        assert!(
            !from_records.is_empty() || query.starts_with("note"),
            "{query} keeps something"
        );
        assert_eq!(
            from_columns, from_records,
            "query {query:?} orderBy {order_by:?}"
        );
    }
    store.close().await;
    server.stop().await;
}

#[tokio::test]
async fn columns_select_what_records_select_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display());
    columns_select_what_records_select(&url).await;
}

#[tokio::test]
async fn columns_select_what_records_select_on_postgres() {
    let Some(db) = PgTestDatabase::create("columns_select_what_records_select").await else {
        return;
    };
    columns_select_what_records_select(&db.url).await;
    db.drop_database().await;
}

/// A cache bound of nothing keeps nothing: every answer is read from the store, and is the same.
#[tokio::test]
async fn answers_are_the_same_with_a_cache_of_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::for_data_dir(dir.path());
    config.cache_max_mib = 0;
    cold_and_warm_answers_are_the_same_bytes(config).await;
}
