//! Faults on demand: statuses, latency, dropped connections, revoked tokens.

use std::time::{Duration, Instant};

use ledgerline::sandbox::Region;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn the_next_n_calls_to_a_path_answer_the_chosen_status() {
    let sb = start().await;
    let t = sb.connect(Region::Nl, "demo", None).await;
    for (status, count) in [(503, 2), (500, 1), (429, 1)] {
        let r = sb
            .admin_post(
                "faults",
                json!({"kind": "status", "status": status, "path": "crm/accounts", "count": count}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let path = format!("{NL_MAIN}/crm/Accounts?$top=1");
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(sb.api(Region::Nl, &t.access, &path).await.status().as_u16());
    }
    assert_eq!(seen, vec![503, 503, 500, 429, 200]);
    // Other paths are untouched.
    let other = sb
        .admin_post(
            "faults",
            json!({"kind": "status", "status": 500, "path": "GLAccounts"}),
        )
        .await;
    assert_eq!(other.status(), StatusCode::CREATED);
    assert_eq!(
        sb.api(Region::Nl, &t.access, &path).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        sb.api(
            Region::Nl,
            &t.access,
            &format!("{NL_MAIN}/financial/GLAccounts")
        )
        .await
        .status()
        .as_u16(),
        500
    );
}

#[tokio::test]
async fn latency_delays_the_matching_call() {
    let sb = start().await;
    let t = sb.connect(Region::Nl, "demo", None).await;
    sb.admin_post(
        "faults",
        json!({"kind": "latency", "ms": 300, "path": "current/me"}),
    )
    .await;
    let started = Instant::now();
    assert_eq!(
        sb.api(Region::Nl, &t.access, "current/Me").await.status(),
        StatusCode::OK
    );
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "delayed by at least the fault"
    );
}

#[tokio::test]
async fn a_dropped_connection_gives_no_complete_response() {
    let sb = start().await;
    let t = sb.connect(Region::Nl, "demo", None).await;
    sb.admin_post("faults", json!({"kind": "drop", "path": "crm/Accounts"}))
        .await;
    let url = format!("{}/api/v1/{NL_MAIN}/crm/Accounts", sb.base(Region::Nl));
    let outcome = match sb
        .http
        .get(&url)
        .bearer_auth(&t.access)
        .header("Accept", "application/json")
        .send()
        .await
    {
        Err(_) => Err(()),
        Ok(resp) => resp.bytes().await.map(|_| ()).map_err(|_| ()),
    };
    assert!(outcome.is_err(), "the connection must fail");
    assert_eq!(
        sb.api(Region::Nl, &t.access, &format!("{NL_MAIN}/crm/Accounts"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn revoking_a_connection_kills_its_access_and_refresh_tokens() {
    let sb = start().await;
    let t = sb.connect(Region::Nl, "demo", None).await;
    let r = sb
        .admin_post(
            "faults",
            json!({"kind": "revoke", "region": "nl", "client_id": NL_ID}),
        )
        .await;
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["revoked"], 1);
    assert_eq!(
        sb.api(Region::Nl, &t.access, "current/Me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    sb.advance(600).await;
    let refresh = sb.refresh(Region::Nl, &t.refresh).await;
    assert_eq!(refresh.status(), StatusCode::BAD_REQUEST);
}
