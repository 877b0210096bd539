//! `ledgerline demo`: the first thing a newcomer runs. Starts the Exact sandbox in-process and the
//! server beside it, sets up a demo tenant with the sandbox's NL and UK apps, connects one company
//! per region through the real link flow, pulls every data type, and prints ready commands.
//!
//! Everything goes through the server's own HTTP API, as a SaaS app would use it.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::app::{self, KeyPolicy};
use crate::config::ServerConfig;
use crate::crypto::{hash_api_key, new_api_key};
use crate::model::{DATASETS, DataType};
use crate::sandbox::{self, Region, SandboxConfig};

/// What the demo writes to `./data/demo.json`, and reuses on the next start.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoFile {
    pub base_url: String,
    pub api_key: String,
    pub tenant_id: String,
    pub companies: Vec<DemoCompany>,
    /// The operator's admin key, when the demo knows it (it generated it, or was given it):
    /// a demo's data folder holds its master key too, so this adds no exposure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_key: Option<String>,
}

/// One demo company.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoCompany {
    pub id: String,
    pub name: String,
    pub integration: String,
    pub division: i32,
    /// One of its invoices, for the banner's "get one invoice" command.
    #[serde(default)]
    pub sample_invoice_id: Option<String>,
}

/// Which company to create for each region, and the sandbox division it reads.
const COMPANIES: [(&str, &str, Region, i32); 2] = [
    (
        "Demo Company NL B.V.",
        "exact-online-nl",
        Region::Nl,
        101001,
    ),
    ("Demo Company UK Ltd", "exact-online-uk", Region::Uk, 201001),
];

/// Runs the demo until SIGINT/SIGTERM.
pub async fn run(mut config: ServerConfig) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let public_url = config.public_url_or(listener.local_addr()?);
    if let Some(warning) = config.public_url_warning(listener.local_addr()?) {
        tracing::warn!("{warning}");
    }
    let base = public_url.as_str().trim_end_matches('/').to_string();

    let mut sandbox_config = SandboxConfig::demo();
    sandbox_config.seed.redirect_apps_to(&base);
    let sandbox = sandbox::spawn(sandbox_config, TcpListener::bind("127.0.0.1:0").await?).await?;
    // The sandbox keeps its tokens beside the database, so that what was linked before a
    // restart (the demo's companies and any the user linked) still works after it.
    let sandbox_kept = sandbox.keep_tokens_in(config.data_dir.join("sandbox-tokens.json"))?;
    config.upstream_urls.extend(sandbox.upstream_urls());

    let (state, notes) =
        app::build_state(&config, public_url.clone(), KeyPolicy::GenerateIfMissing).await?;
    if notes.generated_master_key {
        println!(
            "Demo mode: generated a master key into {} (set LEDGERLINE_MASTER_KEY in production).",
            config.data_dir.join("master.key").display()
        );
    }
    if let Some(admin_key) = &notes.generated_admin_key {
        println!(
            "Generated the admin key (shown once; set LEDGERLINE_ADMIN_KEY to choose your own):\n  {admin_key}"
        );
    }
    println!("Ledgerline listens on {base}/ (Swagger UI: {base}/docs); setting up the demo…");
    let store = state.store.clone();
    // Ctrl-C or SIGTERM may come while the demo is still being set up: then stop cleanly
    // instead of reporting the set-up's requests that the stopping server refused.
    let (stopping_tx, mut stopping) = tokio::sync::watch::channel(false);
    let signal = async move {
        app::shutdown_signal().await;
        let _ = stopping_tx.send(true);
    };
    let server = tokio::spawn(app::serve(listener, state, signal));

    let demo_path = config.data_dir.join("demo.json");
    let set_up_demo = set_up(&store, &base, &sandbox, &demo_path, sandbox_kept);
    let ready = tokio::select! {
        biased;
        _ = stopping.wait_for(|stop| *stop) => None,
        demo = set_up_demo => Some(demo),
    };
    match ready {
        Some(Ok(mut demo)) => {
            demo.admin_key = config
                .admin_key
                .clone()
                .or(notes.generated_admin_key.clone())
                .or(previous_admin_key(&demo_path));
            std::fs::write(&demo_path, serde_json::to_string_pretty(&demo)?)?;
            std::fs::write(config.data_dir.join("demo.env"), shell_env(&demo))?;
            println!("{}", banner(&demo, &sandbox, &demo_path));
        }
        Some(Err(e)) if !*stopping.borrow() => return Err(e),
        _ => println!("Stopped before the demo was set up; it finishes on the next start."),
    }
    server.await??;
    sandbox.shutdown().await;
    Ok(())
}

async fn set_up(
    store: &crate::store::Store,
    base: &str,
    sandbox: &sandbox::SandboxHandle,
    demo_path: &Path,
    sandbox_kept: bool,
) -> anyhow::Result<DemoFile> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()?;
    let previous: Option<DemoFile> = std::fs::read_to_string(demo_path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    let (tenant_id, api_key) = match &previous {
        Some(p) if key_works(&http, base, &p.api_key).await => {
            (p.tenant_id.clone(), p.api_key.clone())
        }
        _ => {
            let key = new_api_key();
            let (tenant, _) = store
                .create_tenant("Demo tenant", &hash_api_key(key.expose_secret()))
                .await?;
            (tenant.id.to_string(), key.expose_secret().to_string())
        }
    };
    let api = TenantApi {
        http: http.clone(),
        base: base.to_string(),
        key: api_key.clone(),
    };
    for app in sandbox
        .apps()
        .iter()
        .filter(|a| a.approved && a.owner == "demo")
    {
        let integration = match app.region {
            Region::Nl => "exact-online-nl",
            Region::Uk => "exact-online-uk",
        };
        api.send(reqwest::Method::PUT, &format!("/settings/integrations/{integration}"), Some(json!({
            "clientId": app.client_id.to_string(), "clientSecret": app.client_secret, "enabled": true
        })))
        .await?;
    }
    let mut companies = Vec::new();
    for (name, integration, region, division) in COMPANIES {
        let existing = previous
            .as_ref()
            .and_then(|p| p.companies.iter().find(|c| c.integration == integration))
            .map(|c| c.id.clone());
        let id = match existing {
            Some(id) if api.get(&format!("/companies/{id}")).await.is_ok() => id,
            _ => api
                .send(
                    reqwest::Method::POST,
                    "/companies",
                    Some(json!({"name": name})),
                )
                .await?["id"]
                .as_str()
                .context("a company id")?
                .to_string(),
        };
        connect(&api, &id, integration, region, division, sandbox_kept).await?;
        let newest = api
            .get(&format!(
                "/companies/{id}/data/invoices?pageSize=1&orderBy=-issueDate"
            ))
            .await?;
        companies.push(DemoCompany {
            sample_invoice_id: newest["results"][0]["id"].as_str().map(String::from),
            id,
            name: name.into(),
            integration: integration.into(),
            division,
        });
    }
    Ok(DemoFile {
        base_url: base.into(),
        api_key,
        tenant_id,
        companies,
        admin_key: None,
    })
}

/// Links the company to its region through the link flow (the sandbox's consent shortcut
/// stands in for the end customer), then waits for the first pull of every data type.
async fn connect(
    api: &TenantApi,
    company: &str,
    integration: &str,
    region: Region,
    division: i32,
    sandbox_kept: bool,
) -> anyhow::Result<()> {
    let connections = api
        .get(&format!("/companies/{company}/connections"))
        .await?;
    let connection = match connections["results"].as_array().and_then(|all| {
        all.iter()
            .find(|c| c["connectionInfo"]["integrationKey"] == integration)
    }) {
        Some(c) => c.clone(),
        None => {
            api.send(
                reqwest::Method::POST,
                &format!("/companies/{company}/connections"),
                Some(json!({"platformKey": integration})),
            )
            .await?
        }
    };
    // A sandbox that kept its tokens still honours a Linked connection's; one that started
    // afresh does not, so the demo links again. A Linked connection's linkUrl no longer
    // starts a consent: ask for a re-link URL, as a SaaS app would.
    let mut connection = connection;
    if connection["status"] == "Linked" && sandbox_kept {
        return wait_for_first_pulls(api, company).await;
    }
    if connection["status"] == "Linked" {
        let id = connection["id"].as_str().context("a connection id")?;
        let relink = api
            .send(
                reqwest::Method::POST,
                &format!("/companies/{company}/connections/{id}/relink"),
                None,
            )
            .await?;
        connection["linkUrl"] = relink["linkUrl"].clone();
    }
    api.link_in_sandbox(&connection, division)
        .await
        .with_context(|| format!("linking {company} to {region:?}"))?;
    wait_for_first_pulls(api, company).await
}

/// Waits until every data type of `company` has been pulled once.
async fn wait_for_first_pulls(api: &TenantApi, company: &str) -> anyhow::Result<()> {
    for _ in 0..600 {
        let status = api.get(&format!("/companies/{company}/dataStatus")).await?;
        let mut done = true;
        for data_type in DataType::all() {
            match status[data_type.key()]["currentStatus"].as_str() {
                Some("Complete") => {}
                Some(s) if s.ends_with("Error") => {
                    bail!("the first pull of {} failed: {status}", data_type.key())
                }
                _ => done = false,
            }
        }
        if done {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the first pulls did not finish within a minute")
}

/// Ledgerline's own API as one tenant uses it: the demo (and the benchmarks) go through it exactly
/// as a SaaS app would.
pub struct TenantApi {
    pub http: reqwest::Client,
    /// The server's base URL, without a trailing slash.
    pub base: String,
    /// The tenant's API key, sent as a bearer token.
    pub key: String,
}

impl TenantApi {
    /// A new tenant made with the admin key, its integration `platform_key` switched on with the
    /// given Exact app: the benchmarks' starting point.
    pub async fn new_tenant(
        http: &reqwest::Client,
        base: &str,
        admin_key: &str,
        platform_key: &str,
        client_id: &str,
        client_secret: &str,
    ) -> anyhow::Result<TenantApi> {
        let tenant = http
            .post(format!("{base}/admin/tenants"))
            .bearer_auth(admin_key)
            .json(&json!({"name": "Bench tenant"}))
            .send()
            .await?
            .json::<Value>()
            .await?;
        let api = TenantApi {
            http: http.clone(),
            base: base.to_string(),
            key: tenant["apiKey"].as_str().context("an API key")?.to_string(),
        };
        api.send(
            reqwest::Method::PUT,
            &format!("/settings/integrations/{platform_key}"),
            Some(json!({"clientId": client_id, "clientSecret": client_secret, "enabled": true})),
        )
        .await?;
        Ok(api)
    }

    /// A new company named `name` with one (not yet linked) connection to `platform_key`: the
    /// company's id and the connection as the API answered it.
    pub async fn company_with_connection(
        &self,
        name: &str,
        platform_key: &str,
    ) -> anyhow::Result<(String, Value)> {
        let company = self
            .send(
                reqwest::Method::POST,
                "/companies",
                Some(json!({ "name": name })),
            )
            .await?["id"]
            .as_str()
            .context("a company id")?
            .to_string();
        let connection = self
            .send(
                reqwest::Method::POST,
                &format!("/companies/{company}/connections"),
                Some(json!({ "platformKey": platform_key })),
            )
            .await?;
        Ok((company, connection))
    }

    /// Waits until every data type's latest pull of `company` is complete; a pull that ended
    /// in an error is an error.
    pub async fn wait_for_every_data_type(&self, company: &str) -> anyhow::Result<()> {
        loop {
            let status = self
                .get(&format!("/companies/{company}/dataStatus"))
                .await?;
            let mut done = true;
            for data_type in DataType::all() {
                match status[data_type.key()]["currentStatus"].as_str() {
                    Some("Complete") => {}
                    Some(s) if s.ends_with("Error") => {
                        bail!("the {} pull ended {s}", data_type.key())
                    }
                    _ => done = false,
                }
            }
            if done {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// GETs `path` and reads the JSON answer; a non-2xx answer is an error that quotes it.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// Follows a connection's `linkUrl` to the Exact sandbox and consents there at once as its
    /// `demo` user for `division` (the sandbox's `sandbox_user` shortcut), back to our callback.
    pub async fn link_in_sandbox(&self, connection: &Value, division: i32) -> anyhow::Result<()> {
        let link_url = connection["linkUrl"].as_str().context("a linkUrl")?;
        let authorize = location(self.http.get(link_url).send().await?)?;
        let approve = format!("{authorize}&sandbox_user=demo&sandbox_divisions={division}");
        let callback = location(self.http.get(approve).send().await?)?;
        // The callback answers 303 to the result page.
        let result = location(self.http.get(callback).send().await?)?;
        let page = self.http.get(result).send().await?;
        if !page.status().is_success() {
            bail!("the link flow failed: {}", page.text().await?);
        }
        Ok(())
    }

    /// Sends `body` (if any) as JSON and reads the JSON answer (null when empty); a non-2xx
    /// answer is an error that quotes it.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{method} {path} answered {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// The admin key an earlier start wrote to `demo.json` (the key is printed only once).
fn previous_admin_key(demo_path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(demo_path).ok()?;
    serde_json::from_str::<DemoFile>(&text).ok()?.admin_key
}

/// `demo.env`: the running demo as shell variables (`. ./data/demo.env`), which the README's
/// curl walk-through starts from: `BASE`, `ADMIN` (when known), and the demo tenant's key
/// and companies.
fn shell_env(demo: &DemoFile) -> String {
    let mut out =
        String::from("# Written by `ledgerline demo` at each start: `. ./data/demo.env`\n");
    out.push_str(&format!("BASE={}\n", demo.base_url));
    if let Some(admin) = &demo.admin_key {
        out.push_str(&format!("ADMIN={}\n", shell_quote(admin)));
    }
    out.push_str(&format!("DEMO_KEY={}\n", demo.api_key));
    for company in &demo.companies {
        let region = company
            .integration
            .trim_start_matches("exact-online-")
            .to_uppercase();
        out.push_str(&format!("DEMO_{region}_COMPANY={}\n", company.id));
    }
    out
}

/// `text` as one shell word: single-quoted, its own single quotes closed and escaped.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

async fn key_works(http: &reqwest::Client, base: &str, key: &str) -> bool {
    http.get(format!("{base}/companies?pageSize=1"))
        .bearer_auth(key)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

fn location(response: reqwest::Response) -> anyhow::Result<String> {
    Ok(response
        .headers()
        .get("location")
        .context("expected a redirect")?
        .to_str()?
        .to_string())
}

fn banner(demo: &DemoFile, sandbox: &sandbox::SandboxHandle, demo_path: &Path) -> String {
    let base = &demo.base_url;
    let key = &demo.api_key;
    let mut out = format!(
        "\nLedgerline demo is ready.\n\n  API:          {base}\n  Swagger UI:   {base}/docs  (Authorize → auth_header: paste the API key)\n  \
         Exact sandbox: http://{}  (NL {}, UK {})\n  API key:      {key}\n  Saved in:     {}\n\n",
        sandbox.addr(),
        sandbox.base_url(Region::Nl),
        sandbox.base_url(Region::Uk),
        demo_path.display()
    );
    let curl = |path: &str| format!("  curl -s -H 'Authorization: Bearer {key}' '{base}{path}'\n");
    for company in &demo.companies {
        let id = &company.id;
        out.push_str(&format!(
            "{} ({}, division {}): {id}\n",
            company.name, company.integration, company.division
        ));
        out.push_str("  List invoices:\n");
        out.push_str(&curl(&format!("/companies/{id}/data/invoices?pageSize=5")));
        if let Some(invoice) = &company.sample_invoice_id {
            out.push_str("  Get one invoice:\n");
            out.push_str(&curl(&format!("/companies/{id}/data/invoices/{invoice}")));
        }
        out.push_str("  Unpaid invoices, latest due first (query and orderBy, URL-encoded):\n");
        out.push_str(&curl(&format!(
            "/companies/{id}/data/invoices?query=amountDue%20%3E%200&orderBy=-dueDate&pageSize=5"
        )));
        for spec in DATASETS
            .iter()
            .filter(|spec| spec.data_type != DataType::Invoices)
        {
            let (one, many) = spec.noun;
            match spec.id_param {
                Some(_) => {
                    out.push_str(&format!("  List {many}:\n"));
                    out.push_str(&curl(&format!(
                        "/companies/{id}/data/{}?pageSize=5",
                        spec.path
                    )));
                }
                None => {
                    out.push_str(&format!("  Get {one}:\n"));
                    out.push_str(&curl(&format!("/companies/{id}/data/{}", spec.path)));
                }
            }
        }
        out.push('\n');
    }
    out.push_str("Press Ctrl-C to stop.\n");
    out
}
