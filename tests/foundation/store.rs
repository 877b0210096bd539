//! The store on SQLite always, and on PostgreSQL when `TEST_DATABASE_URL` is set.

use ledgerline::store::{NewCompany, Store, StoreError};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{PgTestDatabase, TestServer};

async fn exercise(store: &Store) {
    let (tenant, key) = store.create_tenant("Acme", "hash-1").await.unwrap();
    let (other, _) = store.create_tenant("Other", "hash-2").await.unwrap();
    assert_eq!(
        store.tenant_by_key_hash("hash-1").await.unwrap().id,
        tenant.id
    );
    assert!(matches!(
        store.tenant_by_key_hash("nope").await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store.create_tenant("Dup", "hash-1").await.is_err(),
        "key digests are unique"
    );
    assert_eq!(store.list_tenants().await.unwrap().len(), 2);

    let mut company = NewCompany {
        name: "Acme BV".into(),
        description: Some("d".into()),
        ..NewCompany::default()
    };
    company.tags.insert("region".into(), "nl".into());
    let row = store.create_company(tenant.id, &company).await.unwrap();
    assert_eq!(store.get_company(tenant.id, row.id).await.unwrap(), row);
    assert!(matches!(
        store.get_company(other.id, row.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_company(other.id, row.id).await,
        Err(StoreError::NotFound)
    ));
    let (page, total) = store.list_companies(tenant.id, 0, 10).await.unwrap();
    assert_eq!((page.len(), total), (1, 1));

    let set = store
        .upsert_integration_credentials(
            tenant.id,
            "exact-online-nl",
            "cid",
            "sealed",
            "••••x",
            None,
        )
        .await
        .unwrap();
    assert!(!set.enabled);
    let on = store
        .set_integration_enabled(tenant.id, "exact-online-nl", true)
        .await
        .unwrap();
    assert!(on.enabled);
    let kept = store
        .upsert_integration_credentials(
            tenant.id,
            "exact-online-nl",
            "cid2",
            "sealed2",
            "••••y",
            None,
        )
        .await
        .unwrap();
    assert!(kept.enabled, "new credentials keep the switch");
    assert_eq!(kept.client_id, "cid2");
    assert!(matches!(
        store
            .set_integration_enabled(other.id, "exact-online-nl", true)
            .await,
        Err(StoreError::NotFound)
    ));

    // Ten concurrent requests for the same pull: the database lets exactly one through, on
    // any number of server instances; once it ends, the next may start.
    let connection = uuid::Uuid::new_v4();
    let attempts = futures_util::future::join_all(
        (0..10).map(|n| store.create_pull_operation(row.id, connection, "invoices", 1_000 + n)),
    )
    .await;
    let queued: Vec<_> = attempts.into_iter().filter_map(|a| a.unwrap()).collect();
    assert_eq!(queued.len(), 1, "exactly one pull runs at a time");
    assert!(
        store
            .create_pull_operation(row.id, connection, "customers", 2_000)
            .await
            .unwrap()
            .is_some(),
        "other data types are not held back"
    );
    store
        .set_pull_status(queued[0].id, "FetchError", 0, Some("test"), Some(3_000))
        .await
        .unwrap();
    let running = store
        .create_pull_operation(row.id, connection, "invoices", 4_000)
        .await
        .unwrap()
        .expect("the failed pull no longer holds the company back");

    // A pull whose server keeps its heartbeat is left alone; a silent one is given up, and its
    // late result can no longer be stored over newer data.
    store.pull_heartbeat(running.id, 5_000).await.unwrap();
    assert_eq!(
        store.fail_abandoned_pulls(9_000, 4_500).await.unwrap(),
        1,
        "the customers pull of 2_000 is silent"
    );
    assert_eq!(store.fail_abandoned_pulls(9_000, 5_000).await.unwrap(), 0);
    assert_eq!(store.fail_abandoned_pulls(9_000, 5_001).await.unwrap(), 1);
    let late = store
        .commit_pull(
            &running,
            ledgerline::store::PulledRecords {
                records: vec![("1".into(), json!({"id": "1"}))],
                cursor: None,
                upstream_calls: 1,
            },
            9_500,
        )
        .await;
    assert!(matches!(late, Err(StoreError::NotFound)), "{late:?}");
    assert!(
        store
            .load_records(row.id, "invoices")
            .await
            .unwrap()
            .is_empty()
    );

    // Pulls commit page by page: the cursor lands with its page, a data type becomes readable
    // only when its pull finishes, and absence means deletion only after a full pull.
    let kind = "journalEntries";
    let page = |upserts: Vec<(&str, Value)>, deleted: Vec<&str>, cursor: Option<&str>| {
        ledgerline::store::PageRecords {
            upserts: upserts
                .into_iter()
                .map(|(id, v)| (id.to_string(), v))
                .collect(),
            deleted: deleted.into_iter().map(str::to_string).collect(),
            cursor: cursor.map(str::to_string),
            upstream_calls: 1,
            progress: 50,
            ..Default::default()
        }
    };
    let live = |records: Vec<(String, String)>| -> Vec<String> {
        records
            .into_iter()
            .filter(|(_, json)| !json.contains(r#""isDeleted":true"#))
            .map(|(id, _)| id)
            .collect()
    };
    let full = store
        .create_pull_operation(row.id, connection, kind, 10_000)
        .await
        .unwrap()
        .unwrap();
    let first = vec![("a", json!({"id": "a"})), ("b", json!({"id": "b"}))];
    store
        .commit_page(&full, page(first, vec![], None), 10_001)
        .await
        .unwrap();
    store
        .commit_page(
            &full,
            page(vec![("c", json!({"id": "c"}))], vec![], Some("7")),
            10_002,
        )
        .await
        .unwrap();
    let mine = |datasets: Vec<ledgerline::store::DatasetRow>| {
        datasets.into_iter().find(|d| d.data_type == kind).unwrap()
    };
    let before = mine(store.datasets(row.id).await.unwrap());
    assert_eq!(
        before.cursor.as_deref(),
        Some("7"),
        "the cursor lands with its page"
    );
    assert_eq!(
        before.last_successful_sync, None,
        "not readable before the pull finishes"
    );
    let seen = ["a", "b", "c"].map(String::from).into_iter().collect();
    store.finish_pull(&full, Some(&seen), 10_003).await.unwrap();
    assert!(
        mine(store.datasets(row.id).await.unwrap())
            .last_successful_sync
            .is_some()
    );

    let since = store
        .create_pull_operation(row.id, connection, kind, 11_000)
        .await
        .unwrap()
        .unwrap();
    let counts = store
        .commit_page(
            &since,
            page(vec![("a", json!({"id": "a", "v": 2}))], vec!["b"], None),
            11_001,
        )
        .await
        .unwrap();
    assert_eq!((counts.updated, counts.deleted), (1, 1), "{counts:?}");
    store.finish_pull(&since, None, 11_002).await.unwrap();
    assert_eq!(
        live(store.load_records(row.id, kind).await.unwrap()),
        ["a", "c"],
        "an incremental pull deletes what the upstream reports, not what it did not send"
    );
    let again = store
        .create_pull_operation(row.id, connection, kind, 12_000)
        .await
        .unwrap()
        .unwrap();
    let counts = store
        .commit_page(
            &again,
            page(vec![("a", json!({"id": "a", "v": 2}))], vec![], None),
            12_001,
        )
        .await
        .unwrap();
    assert_eq!(counts.unchanged, 1, "an identical record is not rewritten");
    let seen = ["a"].map(String::from).into_iter().collect();
    let finished = store
        .finish_pull(&again, Some(&seen), 12_002)
        .await
        .unwrap();
    assert_eq!(finished.deleted, 1);
    assert_eq!(live(store.load_records(row.id, kind).await.unwrap()), ["a"]);

    // Upstream keys: a page stores its records' parts' keys; a lookup finds the records by
    // them (only this connection's, only this data type's); a key moved to another record
    // follows it.
    let keyed = store
        .create_pull_operation(row.id, connection, kind, 13_000)
        .await
        .unwrap()
        .unwrap();
    let mut with_keys = page(
        vec![("a", json!({"id": "a", "v": 2})), ("d", json!({"id": "d"}))],
        vec![],
        None,
    );
    with_keys.keys = [("a", "line-1"), ("a", "line-2"), ("d", "line-3")]
        .map(|(r, k)| (r.to_string(), k.to_string()))
        .to_vec();
    store.commit_page(&keyed, with_keys, 13_001).await.unwrap();
    let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut found = store
        .record_ids_by_keys(
            row.id,
            connection,
            kind,
            &keys(&["line-2", "line-3", "nope"]),
        )
        .await
        .unwrap();
    found.sort();
    assert_eq!(
        found,
        [("line-2", "a"), ("line-3", "d")].map(|(k, r)| (k.to_string(), r.to_string()))
    );
    assert!(
        store
            .record_ids_by_keys(row.id, connection, "bills", &keys(&["line-2"]))
            .await
            .unwrap()
            .is_empty()
    );
    let mut moved = page(vec![("d", json!({"id": "d"}))], vec![], None);
    moved.keys = vec![("d".into(), "line-2".into())];
    store.commit_page(&keyed, moved, 13_002).await.unwrap();
    assert_eq!(
        store
            .record_ids_by_keys(row.id, connection, kind, &keys(&["line-2"]))
            .await
            .unwrap(),
        [("line-2".to_string(), "d".to_string())]
    );
    store.finish_pull(&keyed, None, 13_003).await.unwrap();

    // A full pull begun and cut short leaves the next pull full, whatever cursor its pages
    // stored; a completed full pull clears that.
    let pending = |store: &Store| {
        let store = store.clone();
        async move { mine(store.datasets(row.id).await.unwrap()).full_pull_pending }
    };
    assert!(!pending(store).await);
    let cut = store
        .create_pull_operation(row.id, connection, kind, 14_000)
        .await
        .unwrap()
        .unwrap();
    store.begin_full_pull(&cut).await.unwrap();
    store
        .commit_page(&cut, page(vec![], vec![], Some("8")), 14_001)
        .await
        .unwrap();
    store
        .set_pull_status(cut.id, "FetchError", 0, Some("cut"), Some(14_002))
        .await
        .unwrap();
    assert!(pending(store).await);
    let incremental = store
        .create_pull_operation(row.id, connection, kind, 15_000)
        .await
        .unwrap()
        .unwrap();
    store.finish_pull(&incremental, None, 15_001).await.unwrap();
    assert!(pending(store).await, "only a full pull's end clears it");
    let full = store
        .create_pull_operation(row.id, connection, kind, 16_000)
        .await
        .unwrap()
        .unwrap();
    let mut read_in_full = page(vec![("a", json!({"id": "a", "v": 2}))], vec![], None);
    read_in_full.full = true;
    store
        .commit_page(&full, read_in_full, 16_001)
        .await
        .unwrap();
    let seen = ["a", "d"].map(String::from).into_iter().collect();
    store.finish_pull(&full, Some(&seen), 16_002).await.unwrap();
    assert!(!pending(store).await);

    store.delete_api_key(tenant.id, key.id).await.unwrap();
    assert!(matches!(
        store.tenant_by_key_hash("hash-1").await,
        Err(StoreError::NotFound)
    ));
    store.delete_company(tenant.id, row.id).await.unwrap();
    assert!(store.ping().await);
}

#[tokio::test]
async fn the_store_behaves_the_same_on_sqlite_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let sqlite = Store::connect(&url).await.unwrap();
    exercise(&sqlite).await;
    // Migrations are idempotent: opening again applies nothing twice.
    Store::connect(&url).await.unwrap();

    if let Some(db) =
        PgTestDatabase::create("the_store_behaves_the_same_on_sqlite_and_postgres").await
    {
        let postgres = Store::connect(&db.url).await.unwrap();
        exercise(&postgres).await;
        Store::connect(&db.url).await.unwrap();
        postgres.close().await;
        db.drop_database().await;
    }
}

#[tokio::test]
async fn the_api_works_end_to_end_on_postgres() {
    let Some(db) = PgTestDatabase::create("the_api_works_end_to_end_on_postgres").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = ledgerline::config::ServerConfig::for_data_dir(dir.path());
    config.database_url = Some(db.url.clone());
    let server = TestServer::start_with(config).await;
    let (_, key) = server.new_tenant("Acme").await;
    let company = server.new_company(&key, "Acme BV").await;
    let listed: Value = server
        .as_tenant(Method::GET, "/companies", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["results"][0]["id"], company["id"]);
    let put = server
        .as_tenant(Method::PUT, "/settings/integrations/exact-online-nl", &key)
        .json(&json!({"clientId": "1a2b3c4d-0000-4000-8000-0123456789ab", "clientSecret": "pg-secret-1234", "enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    server.stop().await;
    assert!(
        !dir.path().join("ledgerline.db").exists(),
        "PostgreSQL was used, not SQLite"
    );
    db.drop_database().await;
}

#[tokio::test]
async fn data_survives_a_restart_on_the_same_folder() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, key) = server.new_tenant("Acme").await;
    let company = server.new_company(&key, "Acme BV").await;
    server.stop().await;

    let server = TestServer::start(&dir).await;
    let fetched: Value = server
        .as_tenant(
            Method::GET,
            &format!("/companies/{}", company["id"].as_str().unwrap()),
            &key,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["name"], "Acme BV");
}

/// A pull commits while other writes land on SQLite (a heartbeat every few milliseconds): the
/// commit waits its turn instead of failing with "database is locked".
#[tokio::test]
async fn a_pull_commits_while_other_writes_land() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let store = Store::connect(&url).await.unwrap();
    let (tenant, _) = store.create_tenant("Acme", "hash").await.unwrap();
    let company = store
        .create_company(
            tenant.id,
            &NewCompany {
                name: "Acme BV".into(),
                ..NewCompany::default()
            },
        )
        .await
        .unwrap();
    let connection = uuid::Uuid::new_v4();
    for round in 0..3 {
        let pull = store
            .create_pull_operation(company.id, connection, "invoices", round)
            .await
            .unwrap()
            .unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = tokio::spawn({
            let (store, stop, id) = (store.clone(), stop.clone(), pull.id);
            async move {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    store.pull_heartbeat(id, n).await.unwrap();
                    n += 1;
                    tokio::task::yield_now().await;
                }
            }
        });
        let records = (0..3_000)
            .map(|i| (format!("{round}-{i:05}"), json!({"id": i, "round": round})))
            .collect();
        let committed = store
            .commit_pull(
                &pull,
                ledgerline::store::PulledRecords {
                    records,
                    cursor: None,
                    upstream_calls: 1,
                },
                10_000 + round,
            )
            .await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        writer.await.unwrap();
        assert!(committed.is_ok(), "round {round}: {committed:?}");
    }
}
