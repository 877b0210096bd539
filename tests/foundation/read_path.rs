//! The read path's memory: what a warm read takes from memory (API keys, companies, datasets'
//! versions and freshness) follows changes made through another instance on the same store
//! within the change log's poll bound, on SQLite and PostgreSQL; a revoked key stops working;
//! `ETag` and `If-None-Match` on lists, gets and company info.

use std::time::{Duration, Instant};

use ledgerline::config::ServerConfig;
use ledgerline::store::{PulledRecords, Store};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::PgTestDatabase;
use crate::harness::TestServer;

/// How long another instance may take to see a change: the poll bound (1 s) plus a request's
/// time and some slack for a loaded machine.
const SEEN_WITHIN: Duration = Duration::from_millis(2500);

/// Commits a finished pull of `records` for a company, as a pull on some instance would.
async fn commit(store: &Store, company: Uuid, connection: Uuid, data_type: &str, records: Value) {
    let now = chrono::Utc::now().timestamp_millis();
    let pull = store
        .create_pull_operation(company, connection, data_type, now)
        .await
        .unwrap()
        .expect("no pull running");
    let records = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r.clone()))
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
}

async fn get(server: &TestServer, path: &str, key: &str, etag: Option<&str>) -> Response {
    let mut request = server.as_tenant(Method::GET, path, key);
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    request.send().await.unwrap()
}

fn etag_of(response: &Response) -> String {
    response
        .headers()
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_string()
}

/// Asks `ask` until it says yes; returns how long that took, failing past [`SEEN_WITHIN`].
async fn seen_within<F: std::future::Future<Output = bool>>(
    what: &str,
    mut ask: impl FnMut() -> F,
) -> Duration {
    let started = Instant::now();
    loop {
        if ask().await {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < SEEN_WITHIN,
            "{what}: not seen within {SEEN_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Two server instances on one store, and a third store handle making pulls' changes.
async fn changes_through_one_instance_reach_the_other(config: ServerConfig) {
    let url = config.database_url();
    let one = TestServer::start_with(config.clone()).await;
    let other = TestServer::start_with(config).await;
    let pulls = Store::connect(&url).await.unwrap();

    let (tenant, key) = one.new_tenant("Two instances").await;
    let second: Value = one
        .as_admin(Method::POST, &format!("/admin/tenants/{tenant}/apiKeys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (second_id, second_key) = (
        second["id"].as_str().unwrap().to_string(),
        second["apiKey"].as_str().unwrap().to_string(),
    );
    let company = one.new_company(&key, "Shared").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let company_id = Uuid::parse_str(&company).unwrap();
    let connection = Uuid::new_v4();
    commit(
        &pulls,
        company_id,
        connection,
        "invoices",
        json!([{"id": "a", "totalAmount": 1}, {"id": "b", "totalAmount": 2}]),
    )
    .await;
    let list = format!("/companies/{company}/data/invoices");

    // The other instance remembers the key, the company and the dataset's state.
    let first = get(&other, &list, &second_key, None).await;
    assert_eq!(first.status(), 200);
    let first_tag = etag_of(&first);
    assert_eq!(first.headers()["ledgerline-pull-running"], "false");
    assert_eq!(
        get(&other, &list, &second_key, Some(&first_tag))
            .await
            .status(),
        304
    );

    // A pull queued elsewhere shows on its headers, and its records once committed.
    let queued = pulls
        .create_pull_operation(company_id, connection, "invoices", 1)
        .await
        .unwrap()
        .unwrap();
    let took = seen_within("a pull queued elsewhere", || async {
        get(&other, &list, &second_key, None).await.headers()["ledgerline-pull-running"] == "true"
    })
    .await;
    eprintln!("a queued pull seen after {took:?}");
    pulls
        .set_pull_status(queued.id, "FetchError", 0, Some("test"), Some(2))
        .await
        .unwrap();
    commit(
        &pulls,
        company_id,
        connection,
        "invoices",
        json!([{"id": "a", "totalAmount": 1}, {"id": "b", "totalAmount": 3}]),
    )
    .await;
    let took = seen_within("records committed elsewhere", || async {
        let response = get(&other, &list, &second_key, Some(&first_tag)).await;
        response.status() == 200 && etag_of(&response) != first_tag
    })
    .await;
    eprintln!("new records seen after {took:?}");
    let page: Value = get(&other, &list, &second_key, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["results"][1]["totalAmount"], 3);

    // A key revoked through one instance stops working there at once, and on the other within
    // the bound.
    let revoked = one
        .as_admin(
            Method::DELETE,
            &format!("/admin/tenants/{tenant}/apiKeys/{second_id}"),
        )
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success(), "{}", revoked.status());
    assert_eq!(get(&one, &list, &second_key, None).await.status(), 401);
    let took = seen_within("a key revoked elsewhere", || async {
        get(&other, &list, &second_key, None).await.status() == 401
    })
    .await;
    eprintln!("revocation seen after {took:?}");
    assert_eq!(get(&other, &list, &key, None).await.status(), 200);

    // A company deleted through one instance is gone from the other.
    let deleted = one
        .as_tenant(Method::DELETE, &format!("/companies/{company}"), &key)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());
    seen_within("a company deleted elsewhere", || async {
        get(&other, &list, &key, None).await.status() == 404
    })
    .await;

    pulls.close().await;
    one.stop().await;
    other.stop().await;
}

#[tokio::test]
async fn changes_through_one_instance_reach_another_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    changes_through_one_instance_reach_the_other(ServerConfig::for_data_dir(dir.path())).await;
}

#[tokio::test]
async fn changes_through_one_instance_reach_another_on_postgres() {
    let Some(db) =
        PgTestDatabase::create("changes_through_one_instance_reach_another_on_postgres").await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::for_data_dir(dir.path());
    config.database_url = Some(db.url.clone());
    changes_through_one_instance_reach_the_other(config).await;
    db.drop_database().await;
}

#[tokio::test]
async fn data_answers_carry_an_etag_and_if_none_match_answers_304() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig::for_data_dir(dir.path());
    let url = config.database_url();
    let server = TestServer::start_with(config).await;
    let pulls = Store::connect(&url).await.unwrap();
    let (_, key) = server.new_tenant("Tags").await;
    let company = server.new_company(&key, "Tagged").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let company_id = Uuid::parse_str(&company).unwrap();
    let connection = Uuid::new_v4();
    let invoices =
        |b_total: i64| json!([{"id": "a", "totalAmount": 1}, {"id": "b", "totalAmount": b_total}]);
    commit(&pulls, company_id, connection, "invoices", invoices(2)).await;
    commit(
        &pulls,
        company_id,
        connection,
        "company",
        json!([{"id": "info", "companyName": "Tagged"}]),
    )
    .await;

    let paths = [
        format!("/companies/{company}/data/invoices?page=1&pageSize=1"),
        format!("/companies/{company}/data/invoices/b"),
        format!("/companies/{company}/data/info"),
    ];
    let mut tags = Vec::new();
    for path in &paths {
        let answer = get(&server, path, &key, None).await;
        assert_eq!(answer.status(), 200, "{path}");
        let tag = etag_of(&answer);
        assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
        // The same request again: the same tag.
        assert_eq!(
            etag_of(&get(&server, path, &key, None).await),
            tag,
            "{path}"
        );
        let unchanged = get(&server, path, &key, Some(&tag)).await;
        assert_eq!(unchanged.status(), 304, "{path}");
        assert_eq!(etag_of(&unchanged), tag);
        assert!(unchanged.headers().contains_key("ledgerline-last-sync"));
        assert!(
            unchanged.bytes().await.unwrap().is_empty(),
            "304 has no body"
        );
        // A weak or listed tag matches too; another tag does not.
        assert_eq!(
            get(&server, path, &key, Some(&format!("\"x\", W/{tag}")))
                .await
                .status(),
            304
        );
        assert_eq!(get(&server, path, &key, Some("\"x\"")).await.status(), 200);
        tags.push(tag);
    }
    // Another page is another tag.
    let page_two = format!("/companies/{company}/data/invoices?page=2&pageSize=1");
    assert_ne!(etag_of(&get(&server, &page_two, &key, None).await), tags[0]);

    // A change of invoice b: new tags for the page and for b, and a 200 for the old ones.
    commit(&pulls, company_id, connection, "invoices", invoices(5)).await;
    for (path, tag) in paths.iter().zip(&tags).take(2) {
        let changed = seen_within("the change", || async {
            get(&server, path, &key, Some(tag)).await.status() == 200
        })
        .await;
        assert!(changed < SEEN_WITHIN);
        assert_ne!(&etag_of(&get(&server, path, &key, None).await), tag);
    }
    // Company info did not change: its tag holds.
    assert_eq!(
        get(&server, &paths[2], &key, Some(&tags[2])).await.status(),
        304
    );
    pulls.close().await;
    server.stop().await;
}
