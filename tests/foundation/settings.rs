//! The settings API: validation, secrecy of the client secret, and the on/off switch.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, expect_error, invalid_fields};

const CLIENT_ID: &str = "1a2b3c4d-0000-4000-8000-0123456789ab";
const SECRET: &str = "Zq8sUnIqUeSeCrEt4242";

async fn put_credentials(
    server: &TestServer,
    key: &str,
    integration: &str,
    body: Value,
) -> reqwest::Response {
    server
        .as_tenant(
            Method::PUT,
            &format!("/settings/integrations/{integration}"),
            key,
        )
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn lists_both_exact_integrations_with_redirect_url_and_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, key) = server.new_tenant("Acme").await;
    let body: Value = server
        .as_tenant(Method::GET, "/settings/integrations", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let integrations = body["integrations"].as_array().unwrap();
    let keys: Vec<_> = integrations
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["exact-online-nl", "exact-online-uk"]);
    for (integration, name, region) in [
        (&integrations[0], "Exact (Netherlands)", "nl"),
        (&integrations[1], "Exact (UK)", "uk"),
    ] {
        assert_eq!(integration["name"], name);
        assert_eq!(integration["region"], region);
        assert_eq!(integration["enabled"], false);
        assert_eq!(integration["credentialsSet"], false);
        assert_eq!(
            integration["redirectUrl"],
            format!("{}/oauth/callback", server.base)
        );
        let scopes = integration["recommendedScopes"].as_array().unwrap();
        assert!(scopes.iter().any(|s| s["area"] == "Financial"
            && s["item"] == "Receivables"
            && s["access"] == "Read"));
    }
    let unknown = server
        .as_tenant(Method::GET, "/settings/integrations/xero", &key)
        .send()
        .await
        .unwrap();
    let body = expect_error(unknown, 404).await;
    assert!(body["error"].as_str().unwrap().contains("exact-online-nl"));
}

#[tokio::test]
async fn credentials_are_validated_field_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, key) = server.new_tenant("Acme").await;
    let cases = [
        (
            json!({"clientSecret": SECRET}),
            vec!["clientId"],
            "required",
        ),
        (
            json!({"clientId": CLIENT_ID}),
            vec!["clientSecret"],
            "required",
        ),
        (
            json!({"clientId": "", "clientSecret": ""}),
            vec!["clientId", "clientSecret"],
            "empty",
        ),
        (
            json!({"clientId": format!("{CLIENT_ID} "), "clientSecret": SECRET}),
            vec!["clientId"],
            "start or end",
        ),
        (
            json!({"clientId": CLIENT_ID, "clientSecret": format!(" {SECRET}")}),
            vec!["clientSecret"],
            "start or end",
        ),
        (
            json!({"clientId": CLIENT_ID, "clientSecret": "abc def"}),
            vec!["clientSecret"],
            "inside",
        ),
        (
            json!({"clientId": CLIENT_ID, "clientSecret": "abc\ndef"}),
            vec!["clientSecret"],
            "spaces",
        ),
        (
            json!({"clientId": "not-a-guid", "clientSecret": SECRET}),
            vec!["clientId"],
            "GUID",
        ),
        (
            json!({"clientId": 42, "clientSecret": SECRET}),
            vec!["clientId"],
            "invalid type",
        ),
        (
            json!({"clientId": CLIENT_ID, "clientSecret": SECRET, "enabled": "yes"}),
            vec!["enabled"],
            "invalid type",
        ),
    ];
    for (body, fields, says) in cases {
        let response = put_credentials(&server, &key, "exact-online-nl", body.clone()).await;
        let error = expect_error(response, 400).await;
        assert_eq!(invalid_fields(&error), fields, "{body}");
        assert!(
            error["error"].as_str().unwrap().contains(says),
            "{body} → {error}"
        );
    }
    // Nothing was stored by the refused attempts.
    let view: Value = server
        .as_tenant(Method::GET, "/settings/integrations/exact-online-nl", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["credentialsSet"], false);
    // Braces, as Exact's App Center shows the id, are fine.
    let ok = put_credentials(
        &server,
        &key,
        "exact-online-uk",
        json!({"clientId": format!("{{{}}}", CLIENT_ID.to_uppercase()), "clientSecret": SECRET}),
    )
    .await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn the_secret_is_never_returned_and_is_encrypted_in_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, key) = server.new_tenant("Acme").await;
    let response = put_credentials(
        &server,
        &key,
        "exact-online-nl",
        json!({"clientId": CLIENT_ID, "clientSecret": SECRET}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains(SECRET));
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["clientSecretHint"], "••••4242");
    assert_eq!(body["clientId"], CLIENT_ID);
    assert_eq!(body["credentialsSet"], true);
    assert_eq!(body["enabled"], false, "enable later is the default");

    for path in [
        "/settings/integrations",
        "/settings/integrations/exact-online-nl",
        "/openapi.json",
    ] {
        let text = server
            .as_tenant(Method::GET, path, &key)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!text.contains(SECRET), "{path} leaked the secret");
    }

    server.stop().await;
    for file in ["ledgerline.db", "ledgerline.db-wal"] {
        let path = dir.path().join(file);
        if let Ok(bytes) = std::fs::read(&path) {
            let haystack = String::from_utf8_lossy(&bytes);
            assert!(
                !haystack.contains(SECRET),
                "{file} holds the secret in clear"
            );
            assert!(
                !haystack.contains(&SECRET[..8]),
                "{file} holds part of the secret"
            );
        }
    }
    assert!(dir.path().join("ledgerline.db").exists());
}

#[tokio::test]
async fn the_switch_needs_credentials_to_enable_and_keeps_them_when_off() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, key) = server.new_tenant("Acme").await;
    let toggle = |enabled: bool| {
        server
            .as_tenant(
                Method::PUT,
                "/settings/integrations/exact-online-uk/enabled",
                &key,
            )
            .json(&json!({ "enabled": enabled }))
            .send()
    };
    let refused = expect_error(toggle(true).await.unwrap(), 409).await;
    let message = refused["error"].as_str().unwrap();
    assert!(
        message.contains("clientId") && message.contains("clientSecret"),
        "{message}"
    );

    // Disabling what was never set is harmless.
    assert_eq!(toggle(false).await.unwrap().status(), 200);

    let set = put_credentials(
        &server,
        &key,
        "exact-online-uk",
        json!({"clientId": CLIENT_ID, "clientSecret": SECRET, "enabled": true}),
    )
    .await;
    let set: Value = set.json().await.unwrap();
    assert_eq!(set["enabled"], true, "enable now");

    let off: Value = toggle(false).await.unwrap().json().await.unwrap();
    assert_eq!(off["enabled"], false);
    assert_eq!(off["credentialsSet"], true);
    assert_eq!(off["clientSecretHint"], "••••4242");

    // Re-entering credentials without `enabled` keeps the switch where it was.
    let again: Value = put_credentials(
        &server,
        &key,
        "exact-online-uk",
        json!({"clientId": CLIENT_ID, "clientSecret": "another-secret-9999"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(again["enabled"], false);
    assert_eq!(again["clientSecretHint"], "••••9999");
    let on: Value = toggle(true).await.unwrap().json().await.unwrap();
    assert_eq!(on["enabled"], true);
    let bad = server
        .as_tenant(
            Method::PUT,
            "/settings/integrations/exact-online-uk/enabled",
            &key,
        )
        .json(&json!({ "enabled": "on" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        invalid_fields(&expect_error(bad, 400).await),
        vec!["enabled"]
    );
}
