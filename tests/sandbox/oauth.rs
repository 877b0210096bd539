//! OAuth as Exact does it: consent pages, codes, token lifetimes, rotation, client checks.

use ledgerline::sandbox::Region;
use ledgerline::sandbox::seed::RefreshGrace;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

/// The value of `<input … name="{name}" value="…">` in a page.
fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!(r#"name="{name}" value=""#))?;
    let rest = &html[at + name.len() + 15..];
    Some(html_unescape(&rest[..rest.find('"')?]))
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every hidden field of the page's form.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split(r#"<input type="hidden" name=""#)
        .skip(1)
        .filter_map(|chunk| {
            let name = &chunk[..chunk.find('"')?];
            Some((name.to_string(), input_value(html, name)?))
        })
        .collect()
}

#[tokio::test]
async fn the_consent_form_signs_in_grants_divisions_and_redirects_with_code_and_state() {
    let sb = start().await;
    let url = format!(
        "{}/api/oauth2/auth?client_id={NL_ID}&redirect_uri={}&response_type=code&state=s%201",
        sb.base(Region::Nl),
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let login = sb.http.get(&url).send().await.unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let html = login.text().await.unwrap();
    assert!(html.contains(r#"name="password""#), "a sign-in form");
    let action = format!("{}/api/oauth2/auth", sb.base(Region::Nl));
    let mut form = hidden_fields(&html);
    form.push(("username".into(), "demo".into()));
    form.push(("password".into(), "wrong".into()));
    let retry = sb
        .http
        .post(&action)
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(retry.contains("Invalid username or password"));
    form.pop();
    form.push(("password".into(), "demo".into()));
    let consent = sb
        .http
        .post(&action)
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        consent.contains(&format!(r#"name="division" value="{NL_MAIN}""#)),
        "{consent}"
    );
    assert!(consent.contains(&format!(r#"name="division" value="{NL_SECOND}""#)));
    assert!(
        !consent.contains(&format!(r#"value="{UK_MAIN}""#)),
        "UK divisions are not offered on NL"
    );
    let mut approve = hidden_fields(&consent);
    approve.push(("division".into(), NL_SECOND.to_string()));
    approve.push(("action".into(), "approve".into()));
    let redirect = sb.http.post(&action).form(&approve).send().await.unwrap();
    assert!(redirect.status().is_redirection());
    assert!(
        redirect.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(REDIRECT)
    );
    assert_eq!(location_param(&redirect, "state").as_deref(), Some("s 1"));
    let code = location_param(&redirect, "code").unwrap();
    assert!(code.starts_with("stampNL001.") && code.contains('!'));
    let resp = sb.exchange(Region::Nl, (NL_ID, NL_SECRET), &code).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(
        body["expires_in"],
        Value::String("600".into()),
        "expires_in is a string"
    );
    let access = body["access_token"].as_str().unwrap();
    assert!(access.starts_with("stampNL001."));
    let divisions = sb
        .api_json(Region::Nl, access, &format!("{NL_SECOND}/system/Divisions"))
        .await;
    let codes: Vec<i64> = divisions["d"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["Code"].as_i64().unwrap())
        .collect();
    assert_eq!(
        codes,
        vec![NL_SECOND as i64],
        "only the ticked division is granted"
    );
}

#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let sb = start().await;
    let url = format!(
        "{}/api/oauth2/auth?client_id={NL_ID}&redirect_uri={REDIRECT}&response_type=code&state=abc",
        sb.base(Region::Nl)
    );
    let html = sb
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let action = format!("{}/api/oauth2/auth", sb.base(Region::Nl));
    let mut form = hidden_fields(&html);
    form.extend([
        ("username".into(), "demo".into()),
        ("password".into(), "demo".into()),
    ]);
    let consent = sb
        .http
        .post(&action)
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut deny = hidden_fields(&consent);
    deny.push(("action".into(), "deny".into()));
    let redirect = sb.http.post(&action).form(&deny).send().await.unwrap();
    assert_eq!(
        location_param(&redirect, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(location_param(&redirect, "state").as_deref(), Some("abc"));
    assert_eq!(location_param(&redirect, "code"), None);
}

#[tokio::test]
async fn sandbox_user_approves_at_once_with_the_chosen_divisions() {
    let sb = start().await;
    let resp = sb
        .authorize(Region::Nl, NL_ID, "demo", Some(&NL_MAIN.to_string()))
        .await;
    assert_eq!(location_param(&resp, "state").as_deref(), Some("xyz"));
    let code = location_param(&resp, "code").unwrap();
    let t = tokens(sb.exchange(Region::Nl, (NL_ID, NL_SECRET), &code).await).await;
    let resp = sb
        .api(Region::Nl, &t.access, &format!("{NL_SECOND}/crm/Accounts"))
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(resp.headers()["reason"], "NoDivisionAccess");
    sb.api_json(Region::Nl, &t.access, &format!("{NL_MAIN}/crm/Accounts"))
        .await;
}

#[tokio::test]
async fn a_code_works_once_and_for_three_minutes() {
    let sb = start().await;
    let code = sb.code(Region::Nl, "demo", None).await;
    assert_eq!(
        sb.exchange(Region::Nl, (NL_ID, NL_SECRET), &code)
            .await
            .status(),
        StatusCode::OK
    );
    let reused = sb.exchange(Region::Nl, (NL_ID, NL_SECRET), &code).await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    let late = sb.code(Region::Nl, "demo", None).await;
    sb.advance(181).await;
    let resp = sb.exchange(Region::Nl, (NL_ID, NL_SECRET), &late).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn refresh_is_refused_before_570_seconds_then_rotates_and_the_old_token_dies() {
    let sb = start().await;
    let first = sb.connect(Region::Nl, "demo", None).await;
    sb.advance(569).await;
    let early = sb.refresh(Region::Nl, &first.refresh).await;
    assert_eq!(early.status(), StatusCode::UNAUTHORIZED);
    let body: Value = early.json().await.unwrap();
    assert_eq!(body["error_description"], "Access Token not expired");
    sb.advance(1).await;
    let second = tokens(sb.refresh(Region::Nl, &first.refresh).await).await;
    assert_ne!(second.refresh, first.refresh, "the refresh token rotates");
    let old = sb.refresh(Region::Nl, &first.refresh).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let body: Value = old.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized_client");
    assert_eq!(body["error_description"], "Old refresh token used.");
    // The first access token lapses 600 s after issue; the new one still works.
    sb.advance(31).await;
    assert_eq!(
        sb.api(Region::Nl, &first.access, "current/Me")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sb.api(Region::Nl, &second.access, "current/Me")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_grace_option_keeps_the_old_refresh_token_until_the_new_access_token_is_used() {
    let mut config = config();
    config.seed.options.refresh_grace = RefreshGrace::UntilNewUsed;
    let sb = start_with(config).await;
    let first = sb.connect(Region::Nl, "demo", None).await;
    sb.advance(600).await;
    let second = tokens(sb.refresh(Region::Nl, &first.refresh).await).await;
    sb.advance(600).await;
    let again = sb.refresh(Region::Nl, &first.refresh).await;
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "new access token not used yet"
    );
    let third = tokens(again).await;
    sb.api_json(Region::Nl, &third.access, "current/Me").await;
    sb.advance(600).await;
    assert_eq!(
        sb.refresh(Region::Nl, &first.refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    drop(second);
}

#[tokio::test]
async fn a_refresh_token_idle_for_30_days_expires() {
    let sb = start().await;
    let t = sb.connect(Region::Uk, "demo", None).await;
    sb.advance(30 * 86_400 + 1).await;
    let resp = sb.refresh(Region::Uk, &t.refresh).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("The refresh token expired at")
    );
}

#[tokio::test]
async fn wrong_client_credentials_are_a_400() {
    let sb = start().await;
    let code = sb.code(Region::Nl, "demo", None).await;
    let resp = sb
        .exchange(Region::Nl, (NL_ID, "not-the-secret"), &code)
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // The code survives a refused exchange.
    assert_eq!(
        sb.exchange(Region::Nl, (NL_ID, NL_SECRET), &code)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn credentials_of_one_region_fail_on_the_other() {
    let sb = start().await;
    let on_uk = sb.authorize(Region::Uk, NL_ID, "demo", None).await;
    assert_eq!(
        on_uk.status(),
        StatusCode::BAD_REQUEST,
        "NL client unknown on UK"
    );
    let nl_code = sb.code(Region::Nl, "demo", None).await;
    let resp = sb.exchange(Region::Uk, (NL_ID, NL_SECRET), &nl_code).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let nl = sb.connect(Region::Nl, "demo", None).await;
    assert_eq!(
        sb.api(Region::Uk, &nl.access, "current/Me").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_unapproved_app_can_be_authorized_by_its_owner_only() {
    let sb = start().await;
    let refused = sb.authorize(Region::Nl, DEV_ID, "demo", None).await;
    assert!(refused.status().is_redirection());
    assert_eq!(
        location_param(&refused, "error").as_deref(),
        Some("unauthorized_client")
    );
    let why = location_param(&refused, "error_description").unwrap();
    assert!(why.contains("request permission"), "{why}");
    assert_eq!(location_param(&refused, "code"), None);
    let owner = sb.authorize(Region::Nl, DEV_ID, "developer", None).await;
    let code = location_param(&owner, "code").expect("the owner may");
    assert_eq!(
        sb.exchange(Region::Nl, (DEV_ID, DEV_SECRET), &code)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn refusals_of_the_authorize_step_name_the_fix() {
    let sb = start().await;
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let page = |client: &str, redirect: &str, region: Region| {
        format!(
            "{}/api/oauth2/auth?client_id={client}&redirect_uri={}&response_type=code&state=s",
            sb.base(region),
            enc(redirect)
        )
    };
    // An id from a README placeholder: the page lists the apps this region knows.
    let unknown = sb
        .http
        .get(page(
            "1a2b3c4d-0000-4000-8000-0123456789ab",
            REDIRECT,
            Region::Nl,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let html = html_unescape(&unknown.text().await.unwrap());
    assert!(html.contains("Unknown client_id"), "{html}");
    assert!(html.contains(NL_ID), "the NL apps are listed: {html}");
    assert!(!html.contains(UK_ID), "only this region's apps: {html}");
    assert!(html.contains("/_sandbox/apps"), "{html}");
    // The UK app's id on NL: the page says which region it belongs to.
    let other = sb
        .http
        .get(page(UK_ID, REDIRECT, Region::Nl))
        .send()
        .await
        .unwrap();
    let html = html_unescape(&other.text().await.unwrap());
    assert!(html.contains("registered in the UK region"), "{html}");
    // Another redirect URI: the page quotes both and says how to change either.
    let moved = "http://0.0.0.0:8080/oauth/callback";
    let mismatch = sb
        .http
        .get(page(NL_ID, moved, Region::Nl))
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), StatusCode::BAD_REQUEST);
    let html = html_unescape(&mismatch.text().await.unwrap());
    assert!(html.contains(REDIRECT), "the registered URI: {html}");
    assert!(html.contains(moved), "the URI sent: {html}");
    assert!(html.contains("POST /_sandbox/apps"), "{html}");
    assert!(html.contains("LEDGERLINE_PUBLIC_URL"), "{html}");
}
