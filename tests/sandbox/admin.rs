//! The admin API: apps with credentials, re-registration, clock, stats.

use ledgerline::sandbox::Region;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn apps_are_listed_with_credentials_and_can_be_re_registered() {
    let sb = start().await;
    let apps = sb.admin_get("apps").await;
    let nl = apps
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["client_id"] == NL_ID)
        .expect("demo NL app");
    assert_eq!(nl["client_secret"], NL_SECRET);
    assert_eq!(nl["redirect_uri"], REDIRECT);
    let mut changed = nl.clone();
    changed["redirect_uri"] = json!("http://127.0.0.1:9999/cb");
    assert_eq!(
        sb.admin_post("apps", changed).await.status(),
        StatusCode::CREATED
    );
    let old_uri = sb.authorize(Region::Nl, NL_ID, "demo", None).await;
    assert_eq!(
        old_uri.status(),
        StatusCode::BAD_REQUEST,
        "the old redirect URI no longer matches"
    );
    let url = format!(
        "{}/api/oauth2/auth?client_id={NL_ID}&redirect_uri=http://127.0.0.1:9999/cb&response_type=code&sandbox_user=demo",
        sb.base(Region::Nl)
    );
    let resp = sb.http.get(url).send().await.unwrap();
    assert!(
        resp.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("http://127.0.0.1:9999/cb?code=")
    );
}

#[tokio::test]
async fn users_can_be_added_and_sign_in() {
    let sb = start().await;
    let user = json!({"username": "ann", "password": "pw", "full_name": "Ann", "email": "ann@x.test",
                      "divisions": {"nl": [NL_SECOND]}});
    assert_eq!(
        sb.admin_post("users", user).await.status(),
        StatusCode::CREATED
    );
    let t = sb.connect(Region::Nl, "ann", None).await;
    let divs = sb
        .api_json(
            Region::Nl,
            &t.access,
            &format!("{NL_SECOND}/system/Divisions"),
        )
        .await;
    assert_eq!(divs["d"]["results"].as_array().unwrap().len(), 1);
    let refused = sb
        .authorize(Region::Nl, NL_ID, "ann", Some(&NL_MAIN.to_string()))
        .await;
    assert_eq!(
        refused.status(),
        StatusCode::BAD_REQUEST,
        "ann may not grant 101"
    );
}

#[tokio::test]
async fn the_clock_moves_forward_only_when_told() {
    let sb = start().await;
    assert_eq!(sb.admin_get("clock").await["now_ms"], json!(T0));
    let r: Value = sb
        .admin_post("clock/advance", json!({"minutes": 2, "seconds": 1}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["now_ms"], json!(T0 + 121_000));
}

#[tokio::test]
async fn stats_count_calls_minutes_429s_refreshes_and_errors() {
    let sb = start().await;
    let t = sb.connect(Region::Nl, "demo", None).await;
    let path = format!("{NL_MAIN}/crm/Accounts?$top=1");
    for _ in 0..61 {
        sb.api(Region::Nl, &t.access, &path).await;
    }
    sb.advance(60).await;
    sb.api(
        Region::Nl,
        &t.access,
        &format!("{NL_MAIN}/crm/Accounts?$filter=bogus("),
    )
    .await;
    sb.api(Region::Nl, &t.access, "current/Me").await;
    assert_eq!(
        sb.refresh(Region::Nl, &t.refresh).await.status(),
        StatusCode::UNAUTHORIZED,
        "too early"
    );
    sb.advance(600).await;
    let fresh = tokens(sb.refresh(Region::Nl, &t.refresh).await).await;
    assert_eq!(
        sb.refresh(Region::Nl, &t.refresh).await.status(),
        StatusCode::UNAUTHORIZED,
        "old token"
    );
    drop(fresh);
    let stats = sb.admin_get("stats").await;
    let app = &stats["regions"]["nl"]["apps"][NL_ID];
    let div = &app["divisions"][NL_MAIN.to_string()];
    assert_eq!(div["calls_total"], 62);
    assert_eq!(div["calls_per_day"]["2026-03-02"], 62);
    assert_eq!(div["max_calls_in_a_minute"], 61);
    assert_eq!(div["rate_limited"], 1);
    assert_eq!(
        div["errors_by_endpoint"]["crm/Accounts"], 2,
        "the 429 and the 400"
    );
    assert_eq!(
        div["calls_by_endpoint"],
        json!({"crm/Accounts": 62}),
        "every call, refused ones included, under its endpoint"
    );
    assert_eq!(app["divisions"]["none"]["calls_total"], 1, "current/Me");
    assert_eq!(app["refreshes"]["accepted"], 1);
    assert_eq!(app["refreshes"]["refused_too_early"], 1);
    assert_eq!(app["refreshes"]["refused_old_token"], 1);
}

#[tokio::test]
async fn books_summary_and_mutations_go_through_the_admin_api() {
    let sb = start().await;
    let before = sb.summary(Region::Nl, NL_MAIN).await;
    assert_eq!(before["division"], NL_MAIN);
    assert_eq!(before["currency"], "EUR");
    let wrong_region = sb
        .http
        .get(sb.admin(&format!("books/uk/{NL_MAIN}/summary")))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_region.status(), StatusCode::NOT_FOUND);
    let unknown = sb
        .admin_post(&format!("books/nl/{NL_MAIN}/NoSuchSet"), json!({}))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}
