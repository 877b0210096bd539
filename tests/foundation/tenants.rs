//! Tenants, API keys and tenant isolation.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, expect_error};

#[tokio::test]
async fn admin_endpoints_need_the_admin_key() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, tenant_key) = server.new_tenant("Acme").await;

    let anonymous = server
        .client
        .get(format!("{}/admin/tenants", server.base))
        .send()
        .await
        .unwrap();
    expect_error(anonymous, 401).await;
    let as_tenant = server
        .as_tenant(Method::GET, "/admin/tenants", &tenant_key)
        .send()
        .await
        .unwrap();
    expect_error(as_tenant, 401).await;

    let listed: Value = server
        .as_admin(Method::GET, "/admin/tenants")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<_> = listed["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Acme"]);
    assert!(
        listed.to_string().find("apiKey").is_none(),
        "keys are shown only once"
    );
}

#[tokio::test]
async fn a_tenant_key_works_as_basic_and_bearer_and_dies_when_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (tenant_id, first_key) = server.new_tenant("Acme").await;

    let created = server
        .as_admin(Method::POST, &format!("/admin/tenants/{tenant_id}/apiKeys"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let second_key = created["apiKey"].as_str().unwrap();
    let second_id = created["id"].as_str().unwrap();
    assert_ne!(second_key, first_key);

    // Basic base64(key), as Codat's SDKs send it, and Bearer.
    for request in [
        server.as_tenant(Method::GET, "/companies", second_key),
        server
            .client
            .get(format!("{}/companies", server.base))
            .bearer_auth(second_key),
    ] {
        assert_eq!(request.send().await.unwrap().status(), 200);
    }

    let keys: Value = server
        .as_admin(Method::GET, &format!("/admin/tenants/{tenant_id}/apiKeys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys["results"].as_array().unwrap().len(), 2);
    assert!(
        !keys.to_string().contains(second_key),
        "listing never shows keys"
    );

    let revoked = server
        .as_admin(
            Method::DELETE,
            &format!("/admin/tenants/{tenant_id}/apiKeys/{second_id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let refused = server
        .as_tenant(Method::GET, "/companies", second_key)
        .send()
        .await
        .unwrap();
    expect_error(refused, 401).await;
    let still_works = server
        .as_tenant(Method::GET, "/companies", &first_key)
        .send()
        .await
        .unwrap();
    assert_eq!(still_works.status(), 200);

    let again = server
        .as_admin(
            Method::DELETE,
            &format!("/admin/tenants/{tenant_id}/apiKeys/{second_id}"),
        )
        .send()
        .await
        .unwrap();
    expect_error(again, 404).await;
    let unknown_tenant = server
        .as_admin(
            Method::POST,
            "/admin/tenants/00000000-0000-4000-8000-000000000000/apiKeys",
        )
        .send()
        .await
        .unwrap();
    expect_error(unknown_tenant, 404).await;
}

#[tokio::test]
async fn a_tenant_cannot_see_or_touch_another_tenants_companies_or_settings() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, key_a) = server.new_tenant("A").await;
    let (_, key_b) = server.new_tenant("B").await;
    let company_a = server.new_company(&key_a, "A's customer").await;
    let company_b = server.new_company(&key_b, "B's customer").await;

    for (own_key, other_company) in [(&key_b, &company_a), (&key_a, &company_b)] {
        let path = format!("/companies/{}", other_company["id"].as_str().unwrap());
        for (method, body) in [
            (Method::GET, None),
            (Method::PUT, Some(json!({"name": "stolen"}))),
            (Method::PATCH, Some(json!({"name": "stolen"}))),
            (Method::DELETE, None),
        ] {
            let mut request = server.as_tenant(method.clone(), &path, own_key);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let body = expect_error(request.send().await.unwrap(), 404).await;
            assert!(
                body["error"].as_str().unwrap().contains("No company"),
                "{method}"
            );
        }
        let listed: Value = server
            .as_tenant(Method::GET, "/companies", own_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["totalResults"], 1);
        assert_ne!(listed["results"][0]["id"], other_company["id"]);
    }
    // The other tenant's company survived every attempt.
    let still_there = server
        .as_tenant(
            Method::GET,
            &format!("/companies/{}", company_a["id"].as_str().unwrap()),
            &key_a,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(still_there.status(), 200);
    let body: Value = still_there.json().await.unwrap();
    assert_eq!(body["name"], "A's customer");

    // Settings are per tenant too.
    let put = server
        .as_tenant(Method::PUT, "/settings/integrations/exact-online-nl", &key_a)
        .json(&json!({"clientId": "1a2b3c4d-0000-4000-8000-0123456789ab", "clientSecret": "secretA1234"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let b_view: Value = server
        .as_tenant(
            Method::GET,
            "/settings/integrations/exact-online-nl",
            &key_b,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b_view["credentialsSet"], false);
    assert!(b_view["clientId"].is_null());
}
