//! Every failure answers in Codat's JSON error shape: never a 500, never plain text or HTML.

use reqwest::Method;
use serde_json::json;

use crate::harness::{TestServer, expect_error, invalid_fields};

#[tokio::test]
async fn malformed_requests_get_4xx_in_codats_error_shape() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, key) = server.new_tenant("Acme").await;

    // Malformed JSON, an empty body, wrong types, missing fields, unknown nested types.
    for (body, status, field) in [
        ("{\"name\":", 400, None),
        ("not json", 400, None),
        ("", 400, None),
        ("{\"name\": 12}", 400, Some("name")),
        ("{}", 400, Some("name")),
        ("{\"name\":\"x\",\"tags\":{\"a\":1}}", 400, Some("tags.a")),
        ("[1,2]", 400, None),
    ] {
        let response = server
            .as_tenant(Method::POST, "/companies", &key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let error = expect_error(response, status).await;
        if let Some(field) = field {
            assert_eq!(invalid_fields(&error), vec![field], "{body}");
        }
    }

    // Oversized bodies.
    let huge = json!({"name": "x".repeat(400 * 1024)});
    let response = server
        .as_tenant(Method::POST, "/companies", &key)
        .json(&huge)
        .send()
        .await
        .unwrap();
    expect_error(response, 413).await;

    // Unknown routes and wrong methods, with and without a key.
    let unknown = server
        .as_tenant(Method::GET, "/nowhere", &key)
        .send()
        .await
        .unwrap();
    expect_error(unknown, 404).await;
    let wrong_method = server
        .as_tenant(Method::PATCH, "/companies", &key)
        .send()
        .await
        .unwrap();
    expect_error(wrong_method, 405).await;
    let anonymous_wrong_method = server
        .client
        .delete(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    expect_error(anonymous_wrong_method, 405).await;

    // Bad credentials in every form.
    for header in [
        "Basic !!!notbase64",
        "Basic ",
        "Bearer",
        "Token abc",
        "Basic bm9wZQ==",
    ] {
        let response = server
            .client
            .get(format!("{}/companies", server.base))
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        expect_error(response, 401).await;
    }
}

#[tokio::test]
async fn health_reports_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let response = server
        .client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["database"], "reachable");
}
