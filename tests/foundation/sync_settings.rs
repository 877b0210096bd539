//! The sync settings store (Codat's `syncSettings`, per tenant and data type) and the facts the
//! scheduler reads from it, on SQLite always and on PostgreSQL when `TEST_DATABASE_URL` is set.
//! Two `Store`s on one database stand for two server instances.

use ledgerline::store::{NewCompany, Store, SyncSettingRow};

use crate::harness::PgTestDatabase;

fn setting(data_type: &str, hours: i32) -> SyncSettingRow {
    SyncSettingRow {
        data_type: data_type.into(),
        fetch_on_first_link: true,
        sync_schedule_hours: hours,
        sync_order: 0,
        sync_from_utc: None,
        sync_from_window: None,
        months_to_sync: None,
        is_locked: false,
    }
}

async fn exercise(a: &Store, b: &Store) {
    let (tenant, _) = a.create_tenant("Acme", "sync-hash-1").await.unwrap();
    let (other, _) = a.create_tenant("Other", "sync-hash-2").await.unwrap();
    assert!(a.sync_settings(tenant.id).await.unwrap().is_empty());

    // Every field round-trips, including the optional ones and the booleans stored as integers.
    let invoices = SyncSettingRow {
        fetch_on_first_link: false,
        sync_order: 3,
        sync_from_utc: Some(1_764_547_200_000),
        sync_from_window: Some(12),
        months_to_sync: Some(24),
        is_locked: true,
        ..setting("invoices", 6)
    };
    a.upsert_sync_settings(tenant.id, &[invoices.clone(), setting("bills", 48)], 1)
        .await
        .unwrap();
    assert_eq!(
        b.sync_settings(tenant.id).await.unwrap(),
        vec![setting("bills", 48), invoices.clone()],
        "ordered by data type, seen by the other instance"
    );

    // An upsert replaces the named data types and leaves the others.
    b.upsert_sync_settings(tenant.id, &[setting("invoices", 12)], 2)
        .await
        .unwrap();
    a.upsert_sync_settings(other.id, &[setting("customers", 1)], 2)
        .await
        .unwrap();
    assert_eq!(
        a.sync_settings(tenant.id).await.unwrap(),
        vec![setting("bills", 48), setting("invoices", 12)]
    );
    let all = b.all_sync_settings().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[&other.id], vec![setting("customers", 1)]);
    assert_eq!(all[&tenant.id].len(), 2);

    // Clearing is per tenant.
    a.clear_sync_settings(tenant.id).await.unwrap();
    assert!(b.sync_settings(tenant.id).await.unwrap().is_empty());
    assert_eq!(b.sync_settings(other.id).await.unwrap().len(), 1);

    // The latest queued pull per company and data type, whatever became of it.
    let company = a
        .create_company(
            tenant.id,
            &NewCompany {
                name: "Acme BV".into(),
                ..NewCompany::default()
            },
        )
        .await
        .unwrap();
    let connection = a
        .create_connection(tenant.id, company.id, "exact-online-nl")
        .await
        .unwrap();
    let first = a
        .create_pull_operation(company.id, connection.id, "invoices", 1_000)
        .await
        .unwrap()
        .unwrap();
    b.set_pull_status(first.id, "FetchError", 0, Some("failed"), Some(1_500))
        .await
        .unwrap();
    b.create_pull_operation(company.id, connection.id, "invoices", 2_000)
        .await
        .unwrap()
        .unwrap();
    a.create_pull_operation(company.id, connection.id, "bills", 3_000)
        .await
        .unwrap()
        .unwrap();
    let latest = b.latest_pull_requests().await.unwrap();
    assert_eq!(latest[&(company.id, "invoices".to_string())], 2_000);
    assert_eq!(latest[&(company.id, "bills".to_string())], 3_000);
}

#[tokio::test]
async fn sync_settings_are_stored_per_tenant_on_sqlite_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
    let (a, b) = (
        Store::connect(&url).await.unwrap(),
        Store::connect(&url).await.unwrap(),
    );
    exercise(&a, &b).await;

    if let Some(db) =
        PgTestDatabase::create("sync_settings_are_stored_per_tenant_on_sqlite_and_postgres").await
    {
        let a = Store::connect(&db.url).await.unwrap();
        let b = Store::connect(&db.url).await.unwrap();
        exercise(&a, &b).await;
        a.close().await;
        b.close().await;
        db.drop_database().await;
    }
}
