//! A real Ledgerline server on an ephemeral port, backed by a temporary SQLite file (or a
//! fresh PostgreSQL database), and a client that speaks to it over HTTP.

use base64::Engine;
use ledgerline::app::{self, KeyPolicy};
use ledgerline::config::ServerConfig;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN_KEY: &str = "test-admin-key-0123456789";
pub const MASTER_KEY_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// A running server. Dropping it stops the server; the data folder lives as long as `dir`.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    /// A server on a new temporary SQLite database.
    pub async fn start(dir: &tempfile::TempDir) -> TestServer {
        Self::start_with(ServerConfig::for_data_dir(dir.path())).await
    }

    /// A server with the given configuration (admin and master keys filled in if unset).
    pub async fn start_with(mut config: ServerConfig) -> TestServer {
        config
            .admin_key
            .get_or_insert_with(|| ADMIN_KEY.to_string());
        config
            .master_key
            .get_or_insert_with(|| MASTER_KEY_HEX.to_string());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let (state, _notes) = app::build_state(
            &config,
            url::Url::parse(&base).unwrap(),
            KeyPolicy::Required,
        )
        .await
        .expect("server state builds");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(app::serve(listener, state, async move {
            let _ = rx.await;
        }));
        TestServer {
            base,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Stops the server gracefully and waits until it has closed the database.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// A request with a tenant key sent as Codat's SDKs send it: `Basic base64(key)`.
    pub fn as_tenant(&self, method: Method, path: &str, key: &str) -> RequestBuilder {
        let basic = base64::engine::general_purpose::STANDARD.encode(key);
        self.client
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", format!("Basic {basic}"))
    }

    /// A request with the admin key.
    pub fn as_admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(ADMIN_KEY)
    }

    /// Creates a tenant; returns its id and first API key.
    pub async fn new_tenant(&self, name: &str) -> (String, String) {
        let response = self
            .as_admin(Method::POST, "/admin/tenants")
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        (
            body["id"].as_str().unwrap().to_string(),
            body["apiKey"].as_str().unwrap().to_string(),
        )
    }

    /// Creates a company for a tenant; returns its JSON.
    pub async fn new_company(&self, key: &str, name: &str) -> Value {
        let response = self
            .as_tenant(Method::POST, "/companies", key)
            .json(&json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "creating a company answers 200");
        response.json().await.unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Reads a response that must be an error in Codat's shape; returns the body.
pub async fn expect_error(response: Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "error content type was {content_type:?}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["statusCode"], status, "{body}");
    assert_eq!(body["service"], "PublicApi");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    assert!(body["correlationId"].as_str().is_some(), "{body}");
    assert!(body["canBeRetried"].is_string(), "{body}");
    assert!(body["detailedErrorCode"].is_i64(), "{body}");
    body
}

/// The fields named in an error's `validation.errors`.
pub fn invalid_fields(body: &Value) -> Vec<String> {
    body["validation"]["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["itemId"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub use crate::common::PgTestDatabase;
