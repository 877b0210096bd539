//! Bad input and key guessing never reach a 500 or go unanswered: control characters, non-JSON
//! bodies, out-of-range pages and brute-forced keys get a 4xx in Codat's error shape.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{PgTestDatabase, TestServer, expect_error, invalid_fields};

/// Every endpoint that stores strings refuses control characters, naming the field.
async fn control_characters_are_refused(server: &TestServer) {
    let (_, key) = server.new_tenant("Acme").await;
    let company = server.new_company(&key, "Acme BV").await;
    let company_path = format!("/companies/{}", company["id"].as_str().unwrap());
    // A company update answers 403 where others answer 400: Codat documents no 400 for it.
    let cases: Vec<(reqwest::RequestBuilder, Value, &str, u16)> = vec![
        (
            server.as_tenant(Method::POST, "/companies", &key),
            json!({"name": "Acme\u{0}BV"}),
            "name",
            400,
        ),
        (
            server.as_tenant(Method::POST, "/companies", &key),
            json!({"name": "Acme", "tags": {"region": "n\u{1b}l"}}),
            "tags.region",
            400,
        ),
        (
            server.as_tenant(Method::PATCH, &company_path, &key),
            json!({"description": "a\u{0}b"}),
            "description",
            403,
        ),
        (
            server.as_tenant(Method::PUT, "/settings/integrations/exact-online-nl", &key),
            json!({"clientId": "1a2b3c4d-0000-4000-8000-0123456789ab", "clientSecret": "x\u{0}y"}),
            "clientSecret",
            400,
        ),
        (
            server.as_admin(Method::POST, "/admin/tenants"),
            json!({"name": "Evil\u{0}Corp"}),
            "name",
            400,
        ),
    ];
    for (request, body, field, status) in cases {
        let response = request.json(&body).send().await.unwrap();
        let error = expect_error(response, status).await;
        assert_eq!(invalid_fields(&error), vec![field], "{body}");
    }
    // Nothing was stored, and the company is unchanged.
    let unchanged: Value = server
        .as_tenant(Method::GET, &company_path, &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(unchanged["description"].is_null(), "{unchanged}");
    // Line breaks and tabs are text, not control characters to refuse.
    let response = server
        .as_tenant(Method::PATCH, &company_path, &key)
        .json(&json!({"description": "two\nlines\tand a tab"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // A NUL in a query parameter is refused too.
    let response = server
        .as_tenant(Method::GET, "/companies?query=name%3Da%00b", &key)
        .send()
        .await
        .unwrap();
    let error = expect_error(response, 400).await;
    assert_eq!(invalid_fields(&error), vec!["query"]);
}

#[tokio::test]
async fn control_characters_are_a_400_naming_the_field_on_sqlite_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    control_characters_are_refused(&server).await;
    server.stop().await;

    if let Some(db) = PgTestDatabase::create("control_characters_are_a_400_naming_the_field").await
    {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ledgerline::config::ServerConfig::for_data_dir(dir.path());
        config.database_url = Some(db.url.clone());
        let server = TestServer::start_with(config).await;
        control_characters_are_refused(&server).await;
        server.stop().await;
        db.drop_database().await;
    }
}

#[tokio::test]
async fn a_non_json_body_is_415_but_an_empty_body_may_carry_any_content_type() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (tenant, key) = server.new_tenant("Acme").await;
    for content_type in [
        "text/plain",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
    ] {
        let response = server
            .as_tenant(Method::POST, "/companies", &key)
            .header("content-type", content_type)
            .body(r#"{"name":"Acme BV"}"#)
            .send()
            .await
            .unwrap();
        expect_error(response, 415).await;
    }
    // Codat's SDKs label body-less requests application/octet-stream.
    let response = server
        .as_admin(Method::POST, &format!("/admin/tenants/{tenant}/apiKeys"))
        .header("content-type", "application/octet-stream")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    // An empty body where JSON is needed is still a 400 that says so.
    let response = server
        .as_tenant(Method::POST, "/companies", &key)
        .header("content-type", "application/octet-stream")
        .send()
        .await
        .unwrap();
    expect_error(response, 400).await;
}

#[tokio::test]
async fn pages_beyond_a_32_bit_integer_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, key) = server.new_tenant("Acme").await;
    let response = server
        .as_tenant(Method::GET, "/companies?page=2147483648", &key)
        .send()
        .await
        .unwrap();
    let error = expect_error(response, 400).await;
    assert_eq!(invalid_fields(&error), vec!["page"]);
    let response = server
        .as_tenant(Method::GET, "/companies?page=2147483647", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn guessing_keys_is_throttled_per_address_and_successes_are_not_counted() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, key) = server.new_tenant("Acme").await;
    // Successful requests, however many, never count.
    for _ in 0..100 {
        let response = server
            .as_tenant(Method::GET, "/companies", &key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let mut statuses = Vec::new();
    for i in 0..40 {
        let response = if i % 2 == 0 {
            server
                .as_tenant(Method::GET, "/companies", &format!("ll_guess{i}"))
                .send()
                .await
                .unwrap()
        } else {
            server
                .client
                .get(format!("{}/admin/tenants", server.base))
                .bearer_auth(format!("admin-guess-{i}"))
                .send()
                .await
                .unwrap()
        };
        let status = response.status().as_u16();
        if status == 429 {
            let retry_after: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry_after), "{retry_after}");
            let body = expect_error(response, 429).await;
            assert_eq!(body["canBeRetried"], "True");
        }
        statuses.push(status);
    }
    assert!(statuses[..30].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[30..].iter().all(|s| *s == 429), "{statuses:?}");
    // Once throttled, even the right key waits: a guess that succeeds must not be told apart.
    let response = server
        .as_tenant(Method::GET, "/companies", &key)
        .send()
        .await
        .unwrap();
    expect_error(response, 429).await;
}

#[tokio::test]
async fn metrics_need_the_metrics_token_or_the_admin_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ledgerline::config::ServerConfig::for_data_dir(dir.path());
    config.metrics_token = Some("scrape-token-4242".into());
    let server = crate::harness::TestServer::start_with(config).await;
    let (_, tenant_key) = server.new_tenant("Acme").await;
    let metrics = |token: Option<&str>| {
        let request = server.client.get(format!("{}/metrics", server.base));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
    };
    crate::harness::expect_error(metrics(None).await.unwrap(), 401).await;
    crate::harness::expect_error(metrics(Some(&tenant_key)).await.unwrap(), 401).await;
    crate::harness::expect_error(metrics(Some("scrape-token-4243")).await.unwrap(), 401).await;
    for token in ["scrape-token-4242", crate::harness::ADMIN_KEY] {
        let response = metrics(Some(token)).await.unwrap();
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        let parsed = openmetrics_parser::prometheus::parse_prometheus(&text)
            .unwrap_or_else(|e| panic!("/metrics does not parse: {e:?}\n{text}"));
        // The request log counted the 401s above by route template.
        let requests = &parsed.families["ledgerline_http_requests_total"];
        assert!(
            requests.iter_samples().any(|sample| {
                let labels: Vec<(String, String)> = sample
                    .get_labelset()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                labels.contains(&("route".into(), "/metrics".into()))
                    && labels.contains(&("status".into(), "401".into()))
            }),
            "{text}"
        );
        assert!(text.contains("ledgerline_cache_hit_ratio"), "{text}");
    }
}

#[tokio::test]
async fn the_bare_address_leads_to_the_portal_and_errors_quote_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = crate::harness::TestServer::start(&dir).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let root = client
        .get(format!("{}/", server.base))
        .send()
        .await
        .unwrap();
    assert!(root.status().is_redirection(), "{}", root.status());
    assert_eq!(root.headers()["location"], "/portal");
    let refused = client
        .get(format!("{}/companies", server.base))
        .header("x-request-id", "client-trace-7")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.headers()["x-request-id"], "client-trace-7");
    let body = crate::harness::expect_error(refused, 401).await;
    assert_eq!(body["correlationId"], "client-trace-7");
}
