//! The store sink: when the server stops mid-pull, the page being stored completes, the run stops
//! at that page boundary, and the pull ends saying so — nothing half-written, nothing flagged
//! deleted, and the data type not marked as freshly pulled; and a failed pull says why in words.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use super::{StoreSink, status_of};
use crate::clock::Clock;
use crate::provider::{
    DataType, PageSink, ProviderError, PullError, PulledPage, RetryKind, SinkError,
};
use crate::store::{NewCompany, PulledRecords, Store};

fn page(ids: &[&str]) -> PulledPage {
    let mut page = PulledPage::new(DataType::Invoices);
    page.upserts = ids
        .iter()
        .map(|id| (id.to_string(), json!({"id": id})))
        .collect();
    page.upstream_calls = 1;
    page
}

#[tokio::test]
async fn a_stopping_server_ends_a_pull_at_a_page_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let store = Store::connect(&url).await.unwrap();
    let (tenant, _) = store.create_tenant("Acme", "digest").await.unwrap();
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
    let connection = store
        .create_connection(tenant.id, company.id, "exact-online-nl")
        .await
        .unwrap();
    let clock = Clock::default();
    // Records an earlier pull stored: a full pull that is cut short must not flag them deleted.
    let earlier = store
        .create_pull_operation(company.id, connection.id, "invoices", clock.now_ms())
        .await
        .unwrap()
        .unwrap();
    store
        .commit_pull(
            &earlier,
            PulledRecords {
                records: vec![("old".to_string(), json!({"id": "old"}))],
                cursor: None,
                upstream_calls: 1,
            },
            clock.now_ms(),
        )
        .await
        .unwrap();
    let synced_before = store.datasets(company.id).await.unwrap()[0].last_successful_sync;

    let pull = store
        .create_pull_operation(company.id, connection.id, "invoices", clock.now_ms())
        .await
        .unwrap()
        .unwrap();
    let stopping = Arc::new(AtomicBool::new(false));
    let mut sink = StoreSink::new(store.clone(), clock, stopping.clone());
    sink.expect(DataType::Invoices, pull.clone(), true, None);

    sink.page(page(&["a", "b"])).await.unwrap();
    stopping.store(true, Ordering::Relaxed);
    // The page in hand when the server stops is stored whole; then the run is told to stop.
    let stopped = sink.page(page(&["c", "d"])).await;
    assert!(matches!(stopped, Err(SinkError::Stopped)), "{stopped:?}");
    sink.fail_all(&PullError::Sink(SinkError::Stopped)).await;

    let ids: Vec<String> = store
        .load_records(company.id, "invoices")
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, json)| !json.contains(r#""isDeleted":true"#))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        ids,
        ["a", "b", "c", "d", "old"],
        "whole pages, nothing deleted"
    );
    let ended = store.get_pull_operation(company.id, pull.id).await.unwrap();
    assert_eq!(ended.status, "InternalError");
    assert!(
        ended
            .error_message
            .as_deref()
            .is_some_and(|m| m.contains("server stopped") && m.contains("Queue it again")),
        "{ended:?}"
    );
    assert_eq!(
        store.datasets(company.id).await.unwrap()[0].last_successful_sync,
        synced_before,
        "a cut-short pull is not a successful one"
    );
}

#[test]
fn a_failed_pull_says_what_to_do_in_words() {
    let (status, message) = status_of(
        &PullError::Provider(ProviderError::Reconnect("refresh token expired".into())),
        0,
    );
    assert_eq!(status, "AuthError");
    assert!(message.contains("end customer must reconnect") && message.contains("linkUrl"));

    // 2024-01-31T09:15:00Z: a spent day resumes at the next UTC midnight.
    let now = 1_706_692_500_000;
    let day = PullError::Provider(ProviderError::RetryLater {
        kind: RetryKind::DayLimit,
        message: "429".into(),
        after: None,
    });
    let (status, message) = status_of(&day, now);
    assert_eq!(status, "RateLimitError");
    assert!(
        message.contains("daily") && message.contains("resume at 2024-02-01T00:00:00Z"),
        "{message}"
    );
    let minute = PullError::Provider(ProviderError::RetryLater {
        kind: RetryKind::MinuteLimit,
        message: "429".into(),
        after: Some(std::time::Duration::from_secs(30)),
    });
    let (_, message) = status_of(&minute, now);
    assert!(
        message.contains("resume at 2024-01-31T09:15:30Z"),
        "{message}"
    );
}
