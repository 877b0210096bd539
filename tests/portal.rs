//! The portal: cross-tenant isolation over plain HTTP (always), and the whole admin journey in
//! a real headless Chromium driven by Python selenium (`tests/portal/portal_check.py`).
//!
//! The browser test needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium`
//! and `chromium-driver`) and a Python with selenium: `LEDGERLINE_PORTAL_PYTHON` (set by
//! `.ci/run`), else `.venv-portal/bin/python`. Without them it is skipped with a message, or
//! fails when `CI` is set. Screenshots (the portal's pages and the end customer's link result
//! pages) go to `target/portal-screenshots/`.

#[path = "common/mod.rs"]
mod common;
#[path = "connections/world.rs"]
mod world;

use std::io::Write;
use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::{Value, json};
use world::{ADMIN_KEY, NL_APP, World};

const INSTALL_HINT: &str = "apt-get install -y chromium chromium-driver; python3 -m venv .venv-portal && \
     .venv-portal/bin/pip install -r tests/portal/requirements.txt (or run .ci/run, which does both)";

/// A second tenant, with nothing configured: its API key.
async fn new_tenant(world: &World, name: &str) -> String {
    let tenant: Value = world
        .http
        .post(format!("{}/admin/tenants", world.server.base))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tenant["apiKey"].as_str().unwrap().to_string()
}

/// Signs in to the portal over HTTP: the session cookie (`name=value`).
async fn sign_in(world: &World, key: &str) -> String {
    let response = world
        .http
        .post(format!("{}/portal/sign-in", world.server.base))
        .form(&[("apiKey", key)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/portal"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "http public URL: {cookie}");
    assert!(!cookie.contains(key), "the key itself is in the cookie");
    cookie.split(';').next().unwrap().to_string()
}

/// GETs a portal page with a session: status and HTML.
async fn page(world: &World, cookie: &str, path: &str) -> (u16, String) {
    let response = world
        .http
        .get(format!("{}{path}", world.server.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// POSTs a portal form with a session.
async fn post(world: &World, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = world
        .http
        .post(format!("{}{path}", world.server.base))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn csrf(html: &str) -> String {
    let re = regex::Regex::new(r#"name="csrf" value="([^"]+)""#).unwrap();
    re.captures(html).expect("a form with a csrf field")[1].to_string()
}

#[tokio::test]
async fn a_session_of_one_tenant_never_shows_or_changes_another_tenants_anything() {
    let world = World::start().await;
    // Tenant A (the world's): a company named so that it is easy to spot in a page.
    let company: Value = world
        .api(Method::POST, "/companies")
        .json(&json!({ "name": "Secret Customer of A" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let company_id = company["id"].as_str().unwrap();
    let key_b = new_tenant(&world, "Tenant B").await;
    let cookie_b = sign_in(&world, &key_b).await;
    let (_, integrations) = page(&world, &cookie_b, "/portal/integrations").await;
    let token = csrf(&integrations);
    // B's own pages: A's settings (NL and UK enabled with A's client ids) are not B's.
    assert_eq!(integrations.matches("Missing credentials").count(), 2);
    assert!(!integrations.contains(NL_APP.0), "A's client id shown to B");
    let (_, list) = page(&world, &cookie_b, "/portal/companies").await;
    assert!(!list.contains("Secret Customer of A"));
    let (_, search) = page(&world, &cookie_b, "/portal/companies?search=Secret").await;
    assert!(!search.contains("Secret Customer of A"));
    // URL manipulation: A's company id in B's session is as unknown as a made-up one.
    let (status, detail) = page(
        &world,
        &cookie_b,
        &format!("/portal/companies/{company_id}"),
    )
    .await;
    assert_eq!(status, 404);
    assert!(!detail.contains("Secret Customer of A"));
    let (status, _) = post(
        &world,
        &cookie_b,
        &format!("/portal/companies/{company_id}/connections"),
        &[("csrf", &token), ("platformKey", "exact-online-nl")],
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = post(
        &world,
        &cookie_b,
        &format!("/portal/companies/{company_id}/pull"),
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(status, 404);
    let a_company = world.get_json(&format!("/companies/{company_id}")).await;
    assert_eq!(
        a_company["dataConnections"],
        json!([]),
        "B added a connection to A's company"
    );
    // B switching off "its" NL touches nothing of A's.
    let (status, _) = post(
        &world,
        &cookie_b,
        "/portal/integrations/exact-online-nl/enabled",
        &[("csrf", &token), ("enabled", "false")],
    )
    .await;
    assert_eq!(status, 303);
    let a_settings = world
        .get_json("/settings/integrations/exact-online-nl")
        .await;
    assert_eq!(a_settings["enabled"], json!(true));
    // A form without B's token is refused, even from B's own session.
    let (status, _) = post(
        &world,
        &cookie_b,
        "/portal/companies",
        &[("csrf", "forged"), ("name", "X")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(&world, &cookie_b, "/portal/companies", &[("name", "X")]).await;
    assert!(status == 422 || status == 400 || status == 403, "{status}");
    // A tampered cookie is no session.
    let tampered = format!("{}x", cookie_b);
    let (status, _) = page(&world, &tampered, "/portal/companies").await;
    assert_eq!(status, 303);
}

#[tokio::test]
async fn a_linked_connection_shows_its_divisions_calls_against_exacts_limits() {
    plots_of_calls(&World::start().await).await;
}

#[tokio::test]
async fn the_call_history_and_its_plots_work_on_postgresql_too() {
    World::on_postgres("the portal's plots", plots_of_calls).await;
}

/// Links and pulls a company, then checks the history and both pictures count its calls.
async fn plots_of_calls(world: &World) {
    let company = world
        .linked_and_pulled("Plotted BV", "exact-online-nl", "101001")
        .await;
    // The budget kept each counted call in the per-minute history the plots read.
    let history = world
        .server
        .state
        .store
        .upstream_call_history("exact-online-nl", "101001", 0)
        .await
        .unwrap();
    let calls: i64 = history.iter().map(|(_, calls)| calls).sum();
    assert!(calls > 0, "no calls recorded: {history:?}");
    let cookie = sign_in(world, &world.key).await;
    let (status, html) = page(world, &cookie, &format!("/portal/companies/{company}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<svg id=\"minutes-"), "no per-minute plot");
    assert!(html.contains("<svg id=\"days-"), "no per-day plot");
    // Both pictures count today's calls, each against its limit.
    assert!(
        html.contains(&format!("against a limit of 60; {calls} in all")),
        "{html}"
    );
    assert!(
        html.contains(&format!("against a limit of 5000; {calls} in all")),
        "{html}"
    );
    assert!(
        !html.contains("id=\"link-"),
        "a Linked connection offers no link URL"
    );
    // The pull history as a timeline: a focusable bar per finished pull, one per data type.
    let data_types = ledgerline::model::DataType::all().count();
    assert!(html.contains("<svg id=\"pulls-"), "no pull timeline");
    assert_eq!(
        html.matches("class=\"pull ok\" tabindex=\"0\"").count(),
        data_types,
        "{html}"
    );
    assert!(
        html.contains(&format!("{data_types} pulls of {data_types} data types")),
        "{html}"
    );

    // Deauthorized: the reason, what to do, and the link URL to send again.
    let connections = world
        .get_json(&format!("/companies/{company}/connections"))
        .await;
    let id = connections["results"][0]["id"].as_str().unwrap();
    world
        .server
        .state
        .store
        .deauthorize_connection(
            id.parse().unwrap(),
            "Exact refused the refresh token: reconnect",
        )
        .await
        .unwrap();
    let (_, html) = page(world, &cookie, &format!("/portal/companies/{company}")).await;
    assert!(html.contains("data-status=\"Deauthorized\""), "{html}");
    assert!(
        html.contains("Exact refused the refresh token: reconnect"),
        "{html}"
    );
    assert!(html.contains("must follow the link URL again"), "{html}");
    assert!(
        html.contains(&format!("id=\"link-{id}\"")),
        "no link URL to copy"
    );
}

#[tokio::test]
async fn readyz_says_ready_when_the_database_is_up_and_migrated() {
    let world = World::start().await;
    let response = world
        .http
        .get(format!("{}/readyz", world.server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"status": "ready", "database": "reachable", "pendingMigrations": []})
    );
    world.server.state.store.close().await;
    let response = world
        .http
        .get(format!("{}/readyz", world.server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "notReady");
    assert_eq!(body["database"], "unreachable");
}

/// The Python with selenium, or why there is none.
fn portal_python(repo: &Path) -> Result<PathBuf, String> {
    if let Some(python) = std::env::var_os("LEDGERLINE_PORTAL_PYTHON") {
        return Ok(PathBuf::from(python));
    }
    let venv = repo.join(".venv-portal/bin/python");
    if venv.exists() {
        return Ok(venv);
    }
    Err(format!(
        "no Python with selenium: LEDGERLINE_PORTAL_PYTHON is unset and {} does not exist",
        venv.display()
    ))
}

fn skip_unless_ci(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{why}.\nCI must run the portal's browser test. Install: {INSTALL_HINT}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED the portal browser test (tests/portal.rs): {why}.\nInstall: {INSTALL_HINT}"
    );
}

#[tokio::test]
async fn an_admin_sets_up_exact_and_links_a_company_in_a_real_browser() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = match portal_python(repo) {
        Ok(python) => python,
        Err(why) => return skip_unless_ci(&why),
    };
    for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        if !Path::new(tool).exists() {
            return skip_unless_ci(&format!("{tool} is missing"));
        }
    }
    let world = World::start().await;
    let key = new_tenant(&world, "Browser SaaS").await;
    let shots = repo.join("target/portal-screenshots");
    let output = tokio::process::Command::new(&python)
        .arg(repo.join("tests/portal/portal_check.py"))
        .args([&world.server.base, &key, NL_APP.0, NL_APP.1])
        .arg(&shots)
        .output()
        .await
        .expect("the Python runs");
    assert!(
        output.status.success(),
        "the browser check failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for shot in [
        "05-link-refused",
        "06-link-connected",
        "07-company-linked",
        "09-integrations-return-url",
    ] {
        assert!(shots.join(format!("{shot}.png")).exists(), "{shot}");
    }
}

/// The sign-in form counts wrong keys against the API's per-address limit: guessing keys there
/// is stopped as it is on the API, even for a right key sent after the limit.
#[tokio::test]
async fn wrong_keys_at_the_sign_in_form_are_limited_per_address() {
    let world = World::start().await;
    let sign_in_status = |key: String| {
        let world = &world;
        async move {
            world
                .http
                .post(format!("{}/portal/sign-in", world.server.base))
                .form(&[("apiKey", key)])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for attempt in 0..30 {
        assert_eq!(
            sign_in_status(format!("wrong-key-{attempt}")).await,
            401,
            "attempt {attempt}"
        );
    }
    assert_eq!(sign_in_status(world.key.clone()).await, 429);
    let response = world
        .http
        .get(format!("{}/companies", world.server.base))
        .bearer_auth(&world.key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429, "the API shares the address's limit");
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_public_url_is_https() {
    use tower::ServiceExt;
    let dir = tempfile::tempdir().unwrap();
    let mut config = ledgerline::config::ServerConfig::for_data_dir(dir.path());
    config.database_url = Some(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("ledgerline.db").display()
    ));
    config.admin_key = Some(ADMIN_KEY.into());
    config.master_key = Some(world::MASTER_KEY_HEX.into());
    let public = url::Url::parse("https://ledgerline.example").unwrap();
    let (state, _) =
        ledgerline::app::build_state(&config, public, ledgerline::app::KeyPolicy::Required)
            .await
            .unwrap();
    let app = ledgerline::api::router(state);
    let request = |method: &str, uri: &str, content_type: &str, body: String| {
        axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", content_type)
            .header("authorization", format!("Bearer {ADMIN_KEY}"))
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let response = app
        .clone()
        .oneshot(request(
            "POST",
            "/admin/tenants",
            "application/json",
            json!({"name": "Https SaaS"}).to_string(),
        ))
        .await
        .unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let tenant: Value = serde_json::from_slice(&bytes).unwrap();
    let key = tenant["apiKey"].as_str().unwrap();
    let response = app
        .oneshot(request(
            "POST",
            "/portal/sign-in",
            "application/x-www-form-urlencoded",
            format!("apiKey={key}"),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
}

/// A company's own return URL from its portal page: the API's rule and message next to the
/// field, saved for the API to show, and out of reach of another tenant's session.
#[tokio::test]
async fn a_companys_own_return_url_is_set_from_its_page() {
    let world = World::start().await;
    let company = world.company("Own Return BV").await;
    let cookie = sign_in(&world, &world.key).await;
    let (_, html) = page(&world, &cookie, &format!("/portal/companies/{company}")).await;
    let token = csrf(&html);
    let path = format!("/portal/companies/{company}/return-url");
    let (status, html) = post(
        &world,
        &cookie,
        &path,
        &[("csrf", &token), ("linkReturnUrl", "ftp://example.com/x")],
    )
    .await;
    assert_eq!(status, 403, "Codat documents no 400 on a company update");
    assert!(html.contains("id=\"company-return-url-error\""), "{html}");
    assert!(html.contains("https://"), "{html}");
    let url = "https://app.example.com/c/{companyId}";
    let (status, _) = post(
        &world,
        &cookie,
        &path,
        &[("csrf", &token), ("linkReturnUrl", url)],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        world.get_json(&format!("/companies/{company}")).await["linkReturnUrl"],
        url
    );
    // Another tenant's session cannot touch it.
    let key_b = new_tenant(&world, "Tenant B").await;
    let cookie_b = sign_in(&world, &key_b).await;
    let (_, html_b) = page(&world, &cookie_b, "/portal/companies").await;
    let (status, _) = post(
        &world,
        &cookie_b,
        &path,
        &[("csrf", &csrf(&html_b)), ("linkReturnUrl", "")],
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        world.get_json(&format!("/companies/{company}")).await["linkReturnUrl"],
        url
    );
    // Emptied: back to the tenant's.
    let (status, _) = post(
        &world,
        &cookie,
        &path,
        &[("csrf", &token), ("linkReturnUrl", "")],
    )
    .await;
    assert_eq!(status, 303);
    assert!(world.get_json(&format!("/companies/{company}")).await["linkReturnUrl"].is_null());
}
