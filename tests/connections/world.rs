//! A test world: the Exact sandbox and a Ledgerline server pointed at it, a tenant with both
//! Exact integrations configured with the sandbox's demo apps, and helpers to walk the link flow.

#![allow(dead_code)]

use std::time::Duration;

use base64::Engine;
use ledgerline::app::{self, AppState, KeyPolicy};
use ledgerline::config::ServerConfig;
use ledgerline::provider::Session;
use ledgerline::sandbox::{self, SandboxConfig, SandboxHandle, Seed};
use ledgerline::store::ConnectionRow;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;
use uuid::Uuid;

pub const ADMIN_KEY: &str = "world-admin-key";
pub const MASTER_KEY_HEX: &str = "8899aabbccddeeff00112233445566778899aabbccddeeff0011223344556677";
pub const NL_APP: (&str, &str) = ("0f5a1c9e-7b1d-4c36-9a51-1e2d3c4b5a60", "demo-nl-secret");
pub const UK_APP: (&str, &str) = ("1e6b2d0f-8c2e-4d47-8b62-2f3e4d5c6b71", "demo-uk-secret");
pub const UNAPPROVED_NL_APP: (&str, &str) =
    ("2a7c3e1f-9d3f-4e58-9c73-3a4f5e6d7c82", "dev-nl-secret");

/// One Ledgerline server (several may share a database).
pub struct Server {
    pub base: String,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// What a world starts with.
pub struct WorldOptions {
    pub database_url: Option<String>,
    pub seed: Seed,
}

impl Default for WorldOptions {
    fn default() -> Self {
        WorldOptions {
            database_url: None,
            seed: Seed::demo(),
        }
    }
}

pub struct World {
    pub sandbox: SandboxHandle,
    pub server: Server,
    pub key: String,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    pub database_url: String,
}

/// Starts a Ledgerline server on `listener` against the sandbox.
pub async fn start_server(
    listener: TcpListener,
    database_url: &str,
    sandbox: &SandboxHandle,
    data_dir: &std::path::Path,
) -> Server {
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = ServerConfig::for_data_dir(data_dir);
    config.database_url = Some(database_url.to_string());
    config.admin_key = Some(ADMIN_KEY.into());
    config.master_key = Some(MASTER_KEY_HEX.into());
    config.upstream_urls = sandbox.upstream_urls();
    let (state, _) = app::build_state(&config, Url::parse(&base).unwrap(), KeyPolicy::Required)
        .await
        .unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(app::serve(listener, state.clone(), async move {
        let _ = rx.await;
    }));
    Server {
        base,
        state,
        shutdown: Some(tx),
    }
}

impl World {
    /// Runs `scenario` in a world on a fresh PostgreSQL database named after `test`, then drops
    /// that database; skipped, saying so, when `TEST_DATABASE_URL` is unset.
    pub async fn on_postgres(test: &str, scenario: impl AsyncFnOnce(&World)) {
        let Some(db) = crate::common::PgTestDatabase::create(test).await else {
            return;
        };
        let world = World::start_with(WorldOptions {
            database_url: Some(db.url.clone()),
            ..WorldOptions::default()
        })
        .await;
        scenario(&world).await;
        drop(world);
        db.drop_database().await;
    }

    pub async fn start() -> World {
        Self::start_with(WorldOptions::default()).await
    }

    pub async fn start_with(options: WorldOptions) -> World {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut seed = options.seed;
        seed.redirect_apps_to(&base);
        let mut config = SandboxConfig::demo();
        config.seed = seed;
        let sandbox = sandbox::spawn(config, TcpListener::bind("127.0.0.1:0").await.unwrap())
            .await
            .unwrap();
        let database_url = options.database_url.unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("ledgerline.db").display()
            )
        });
        let server = start_server(listener, &database_url, &sandbox, dir.path()).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let tenant: Value = http
            .post(format!("{base}/admin/tenants"))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({"name": "Acme SaaS"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let world = World {
            sandbox,
            server,
            key: tenant["apiKey"].as_str().unwrap().to_string(),
            http,
            dir,
            database_url,
        };
        world.configure("exact-online-nl", NL_APP, true).await;
        world.configure("exact-online-uk", UK_APP, true).await;
        world
    }

    /// Sets an integration's credentials and switch.
    pub async fn configure(&self, integration: &str, app: (&str, &str), enabled: bool) {
        let response = self
            .api(
                Method::PUT,
                &format!("/settings/integrations/{integration}"),
            )
            .json(&json!({"clientId": app.0, "clientSecret": app.1, "enabled": enabled}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    /// A request to our API as the tenant (Basic base64(key), as Codat's SDKs send it).
    pub fn api(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let basic = base64::engine::general_purpose::STANDARD.encode(&self.key);
        self.http
            .request(method, format!("{}{path}", self.server.base))
            .header("Authorization", format!("Basic {basic}"))
    }

    pub async fn company(&self, name: &str) -> String {
        let company: Value = self
            .api(Method::POST, "/companies")
            .json(&json!({"name": name}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        company["id"].as_str().unwrap().to_string()
    }

    /// Creates a connection; returns its JSON.
    pub async fn connection(&self, company: &str, platform_key: &str) -> Value {
        let response = self
            .api(Method::POST, &format!("/companies/{company}/connections"))
            .json(&json!({"platformKey": platform_key}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "creating a connection answers 200");
        response.json().await.unwrap()
    }

    /// The connection as the API shows it now.
    pub async fn reload(&self, company: &str, connection: &Value) -> Value {
        let id = connection["id"].as_str().unwrap();
        self.get_json(&format!("/companies/{company}/connections/{id}"))
            .await
    }

    /// Follows a linkUrl to the sandbox's authorize URL.
    pub async fn authorize_url(&self, connection: &Value) -> String {
        let response = self
            .http
            .get(connection["linkUrl"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302, "the linkUrl redirects to Exact");
        location(&response)
    }

    /// Approves at the sandbox at once (`sandbox_user`) and returns the callback URL it sends back to.
    pub async fn approve_quickly(
        &self,
        authorize_url: &str,
        user: &str,
        divisions: Option<&str>,
    ) -> String {
        let mut url = format!("{authorize_url}&sandbox_user={user}");
        if let Some(divisions) = divisions {
            url.push_str(&format!("&sandbox_divisions={divisions}"));
        }
        let response = self.http.get(url).send().await.unwrap();
        assert_eq!(response.status(), 302, "the sandbox redirects back");
        location(&response)
    }

    /// Opens our callback and follows its 303 to the result page, as a browser does; returns
    /// the page's status and HTML (the callback's own page when it shows one directly).
    pub async fn callback(&self, url: &str) -> (u16, String) {
        let (status, html, _) = self.callback_to(url).await;
        (status, html)
    }

    /// As [`World::callback`], also returning the result page's URL (`None` when the
    /// callback showed its page directly).
    pub async fn callback_to(&self, url: &str) -> (u16, String, Option<String>) {
        let response = self.http.get(url).send().await.unwrap();
        if response.status() != 303 {
            let status = response.status().as_u16();
            return (status, response.text().await.unwrap(), None);
        }
        let result = location(&response);
        assert!(
            result.starts_with(&format!("{}/link/result?state=", self.server.base)),
            "the callback redirects to its result page: {result}"
        );
        let response = self.http.get(&result).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap(), Some(result))
    }

    /// Signs in at the sandbox's forms as `demo` and presses Deny; returns the callback URL
    /// Exact sends the customer back to (with `error=access_denied`).
    pub async fn deny_through_the_forms(&self, connection: &Value) -> String {
        let authorize = self.authorize_url(connection).await;
        let form_url = authorize.split('?').next().unwrap().to_string();
        let html = self
            .http
            .get(&authorize)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut fields = hidden_fields(&html);
        fields.extend([
            ("username".to_string(), "demo".to_string()),
            ("password".to_string(), "demo".to_string()),
        ]);
        let html = self
            .http
            .post(&form_url)
            .form(&fields)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut fields = hidden_fields(&html);
        fields.push(("action".into(), "deny".into()));
        let back = self
            .http
            .post(&form_url)
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(back.status(), 302, "the sandbox redirects back");
        location(&back)
    }

    /// The whole flow with the sandbox shortcut; returns the final page.
    pub async fn link(&self, connection: &Value, divisions: Option<&str>) -> (u16, String) {
        let authorize = self.authorize_url(connection).await;
        let callback = self.approve_quickly(&authorize, "demo", divisions).await;
        self.callback(&callback).await
    }

    /// GETs one of our endpoints with the tenant's key and reads the JSON answer.
    pub async fn get_json(&self, path: &str) -> Value {
        self.api(Method::GET, path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A new company linked to a region's division through the consent shortcut, with its first
    /// pull of every data type complete.
    pub async fn linked_and_pulled(
        &self,
        name: &str,
        platform_key: &str,
        division: &str,
    ) -> String {
        let company = self.company(name).await;
        let connection = self.connection(&company, platform_key).await;
        let (status, page) = self.link(&connection, Some(division)).await;
        assert_eq!(status, 200, "linking {name} through the sandbox: {page}");
        self.wait_for_pull(&company).await;
        company
    }

    /// Waits for the pulls of every data type Ledgerline serves to complete (a link queues them
    /// all); returns the company's dataStatus.
    pub async fn wait_for_pull(&self, company: &str) -> Value {
        for _ in 0..300 {
            let status: Value = self
                .get_json(&format!("/companies/{company}/dataStatus"))
                .await;
            let mut done = true;
            for data_type in ledgerline::model::DataType::all() {
                match status[data_type.key()]["currentStatus"].as_str() {
                    Some("Complete") => {}
                    Some(s) if s.ends_with("Error") => {
                        panic!("the {} pull failed: {status}", data_type.key())
                    }
                    _ => done = false,
                }
            }
            if done {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the pulls did not finish");
    }

    /// Moves both clocks (the sandbox's and Ledgerline's) forward.
    pub async fn advance(&self, seconds: u64) {
        self.advance_sandbox(seconds).await;
        self.server
            .state
            .clock
            .advance(Duration::from_secs(seconds));
    }

    /// Moves only the sandbox's clock.
    pub async fn advance_sandbox(&self, seconds: u64) {
        let response = self
            .http
            .post(self.sandbox.admin_url().join("clock/advance").unwrap())
            .json(&json!({"seconds": seconds}))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }

    pub async fn stats(&self) -> Value {
        self.sandbox_json("stats").await
    }

    /// GETs one of the sandbox's admin endpoints (`stats`, `books/nl/101001/summary`, …).
    pub async fn sandbox_json(&self, path: &str) -> Value {
        self.http
            .get(self.sandbox.admin_url().join(path).unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn fault(&self, fault: Value) {
        let response = self
            .http
            .post(self.sandbox.admin_url().join("faults").unwrap())
            .json(&fault)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap()
        );
    }

    /// The stored connection row (for driving the token engine and provider directly).
    pub async fn row(&self, connection: &Value) -> ConnectionRow {
        let id = Uuid::parse_str(connection["id"].as_str().unwrap()).unwrap();
        self.server.state.store.connection_by_id(id).await.unwrap()
    }

    /// A counted upstream call (`system/Divisions`) through the provider, as a sync would make.
    pub async fn upstream_call(
        &self,
        server: &Server,
        row: &ConnectionRow,
    ) -> Result<usize, ledgerline::provider::ProviderError> {
        let provider = server
            .state
            .registry
            .provider(&row.integration_key)
            .unwrap();
        let tokens = server.state.tokens.for_connection(row);
        let session = Session {
            integration_key: &row.integration_key,
            upstream_company_id: row.upstream_company.as_ref().map(|c| c.id.as_str()),
            tokens: &tokens,
            priority: ledgerline::provider::CallPriority::OnDemand,
        };
        provider
            .companies(&session)
            .await
            .map(|reach| reach.companies.len())
    }
}

/// Refreshes accepted and refused for one app, from the sandbox's stats.
pub fn refreshes(stats: &Value, region: &str, client_id: &str) -> Value {
    stats["regions"][region]["apps"][client_id]["refreshes"].clone()
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_string()
}

/// The `<input type="hidden">` fields of an HTML form, decoded.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input")
        .skip(1)
        .filter(|tag| tag.contains("type=\"hidden\""))
        .filter_map(|tag| {
            Some((
                attribute(tag, "name")?,
                attribute(tag, "value").unwrap_or_default(),
            ))
        })
        .collect()
}

/// The values of the checkboxes named `name`.
pub fn checkbox_values(html: &str, name: &str) -> Vec<String> {
    html.split("<input")
        .skip(1)
        .filter(|tag| {
            tag.contains("type=\"checkbox\"") && attribute(tag, "name").as_deref() == Some(name)
        })
        .filter_map(|tag| attribute(tag, "value"))
        .collect()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = start + tag[start..].find('"')?;
    Some(html_escape::decode_html_entities(&tag[start..end]).to_string())
}

/// The errors recorded on a connection, by `statusText`.
pub fn error_texts(connection: &Value) -> Vec<String> {
    connection["dataConnectionErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["statusText"].as_str().unwrap().to_string())
        .collect()
}
