//! Rate limits per (app, division): 60 a clock minute, a daily budget, the six headers, Me exempt.

use ledgerline::sandbox::Region;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

const MINUTELY: [&str; 3] = [
    "x-ratelimit-minutely-limit",
    "x-ratelimit-minutely-remaining",
    "x-ratelimit-minutely-reset",
];
const DAILY: [&str; 3] = [
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
];

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn the_61st_call_in_a_minute_is_a_429_with_only_the_minutely_headers() {
    let sb = start().await;
    let t = sb.connect(Region::Nl, "demo", None).await;
    let path = format!("{NL_MAIN}/crm/Accounts?$top=1");
    for i in 1..=60 {
        let resp = sb.api(Region::Nl, &t.access, &path).await;
        assert_eq!(resp.status(), StatusCode::OK, "call {i}");
        for h in MINUTELY.iter().chain(&DAILY) {
            assert!(header(&resp, h).is_some(), "{h} on call {i}");
        }
        assert_eq!(
            header(&resp, "x-ratelimit-minutely-remaining"),
            Some((60 - i).to_string())
        );
        if i == 1 {
            let minute_end = (T0 / 60_000 + 1) * 60_000;
            assert_eq!(
                header(&resp, "x-ratelimit-minutely-reset"),
                Some(minute_end.to_string()),
                "clock-aligned, epoch ms"
            );
            let day_end = (T0 / 86_400_000 + 1) * 86_400_000;
            assert_eq!(
                header(&resp, "x-ratelimit-reset"),
                Some(day_end.to_string()),
                "00:00 UTC"
            );
            assert_eq!(header(&resp, "x-ratelimit-limit").as_deref(), Some("5000"));
        }
    }
    let refused = sb.api(Region::Nl, &t.access, &path).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        header(&refused, "x-ratelimit-minutely-remaining").as_deref(),
        Some("0")
    );
    for h in DAILY {
        assert!(
            header(&refused, h).is_none(),
            "{h} must not be on a minutely 429"
        );
    }
    // Another division has its own budget; current/Me is exempt.
    assert_eq!(
        sb.api(Region::Nl, &t.access, &format!("{NL_SECOND}/crm/Accounts"))
            .await
            .status(),
        StatusCode::OK
    );
    let me = sb.api(Region::Nl, &t.access, "current/Me").await;
    assert_eq!(me.status(), StatusCode::OK);
    assert!(header(&me, "x-ratelimit-minutely-remaining").is_none());
    sb.advance(55).await; // 10:00:05 + 55 s = the next clock minute
    let again = sb.api(Region::Nl, &t.access, &path).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        header(&again, "x-ratelimit-minutely-remaining").as_deref(),
        Some("59")
    );
}

#[tokio::test]
async fn the_daily_limit_refuses_with_only_the_daily_headers_until_utc_midnight() {
    let sb = start().await;
    let app = json!({"region": "uk", "name": "Small budget", "redirect_uri": REDIRECT, "owner": "demo",
                     "approved": true, "daily_limit": 5});
    let created: serde_json::Value = sb.admin_post("apps", app).await.json().await.unwrap();
    let (id, secret) = (
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    );
    let code = location_param(&sb.authorize(Region::Uk, id, "demo", None).await, "code").unwrap();
    let t = tokens(sb.exchange(Region::Uk, (id, secret), &code).await).await;
    let path = format!("{UK_MAIN}/financial/GLAccounts?$top=1");
    for i in 1..=5 {
        let resp = sb.api(Region::Uk, &t.access, &path).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            header(&resp, "x-ratelimit-remaining"),
            Some((5 - i).to_string())
        );
    }
    sb.advance(120).await; // a new minute does not help
    let refused = sb.api(Region::Uk, &t.access, &path).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        header(&refused, "x-ratelimit-remaining").as_deref(),
        Some("0")
    );
    for h in MINUTELY {
        assert!(
            header(&refused, h).is_none(),
            "{h} must not be on a daily 429"
        );
    }
    let reset: i64 = header(&refused, "x-ratelimit-reset")
        .unwrap()
        .parse()
        .unwrap();
    sb.advance((reset - (T0 + 120_000)) / 1000).await;
    // The access token lapsed meanwhile; a refresh gives a new one.
    let fresh = sb
        .token_call(
            Region::Uk,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &t.refresh),
                ("client_id", id),
                ("client_secret", secret),
            ],
        )
        .await;
    let fresh = tokens(fresh).await;
    assert_eq!(
        sb.api(Region::Uk, &fresh.access, &path).await.status(),
        StatusCode::OK
    );
}
