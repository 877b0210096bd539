//! The OpenAPI document: served, complete, and identical to the checked-in copy.

use reqwest::Method;
use serde_json::Value;

use crate::harness::TestServer;

const REGENERATE: &str = "cargo run -- openapi --output openapi/openapi.json";

#[test]
fn the_checked_in_spec_is_fresh() {
    let generated = ledgerline::api::openapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        generated == checked_in,
        "openapi/openapi.json is stale: regenerate it with `{REGENERATE}` and commit it"
    );
}

#[test]
fn every_operation_documents_its_errors_and_credential() {
    let spec: Value = serde_json::from_str(&ledgerline::api::openapi_json()).unwrap();
    let schemes = &spec["components"]["securitySchemes"];
    assert_eq!(schemes["auth_header"]["type"], "http");
    assert_eq!(schemes["auth_header"]["scheme"], "bearer");
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let responses = operation["responses"].as_object().unwrap();
            if path != "/healthz" && path != "/readyz" {
                assert!(responses.contains_key("401"), "{method} {path} lacks 401");
                assert!(
                    operation["security"].is_array(),
                    "{method} {path} lacks security"
                );
            }
            for (code, response) in responses {
                if code.starts_with('4') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/ErrorMessage",
                        "{method} {path} {code}"
                    );
                }
            }
        }
    }
    assert!(operations >= 14, "only {operations} operations documented");
}

#[tokio::test]
async fn the_server_serves_the_spec_and_swagger_ui() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, key) = server.new_tenant("Acme").await;
    let spec: Value = server
        .as_tenant(Method::GET, "/openapi.json", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        spec,
        serde_json::from_str::<Value>(&ledgerline::api::openapi_json()).unwrap(),
        "the server serves the whole generated document, data types and input rules included"
    );
    assert!(spec["paths"]["/companies/{companyId}/data/invoices"]["get"].is_object());
    let docs = server
        .client
        .get(format!("{}/docs/", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger-ui"));
}

#[test]
fn swagger_offers_the_tenant_key_on_tenant_routes_and_the_admin_key_on_admin_routes_only() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let schemes = spec["components"]["securitySchemes"].as_object().unwrap();
    // Swagger UI's Authorize dialog lists the schemes in the document's order: tenant first.
    let names: Vec<&String> = schemes.keys().collect();
    assert_eq!(names, ["auth_header", "operator_key"]);
    for (name, scheme) in schemes {
        // A bearer scheme: a key pasted in the dialog is sent as `Bearer <key>`, not bare.
        assert_eq!(scheme["type"], "http", "{name}");
        assert_eq!(scheme["scheme"], "bearer", "{name}");
    }
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(security) = operation["security"].as_array() else {
                continue;
            };
            let offered: Vec<&str> = security
                .iter()
                .flat_map(|s| s.as_object().unwrap().keys())
                .map(String::as_str)
                .collect();
            let operator = path.starts_with("/admin") || path == "/metrics";
            let wanted = if operator {
                "operator_key"
            } else {
                "auth_header"
            };
            assert_eq!(offered, [wanted], "{method} {path}");
        }
    }
}
