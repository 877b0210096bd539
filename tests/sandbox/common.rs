//! Shared helpers: a sandbox with small books and a frozen clock, and an OAuth shortcut.

#![allow(dead_code)]

use ledgerline::sandbox::books::{BooksConfig, DivisionSpec};
use ledgerline::sandbox::{ClockStart, Region, SandboxConfig, SandboxHandle, Seed, spawn};
use reqwest::{Response, StatusCode};
use serde_json::Value;

/// 2026-03-02T10:00:05Z: frozen, five seconds into a minute, so no real minute boundary splits a test.
pub const T0: i64 = 1_772_445_605_000;

/// The demo apps of the embedded seed.
pub const NL_ID: &str = "0f5a1c9e-7b1d-4c36-9a51-1e2d3c4b5a60";
pub const NL_SECRET: &str = "demo-nl-secret";
pub const UK_ID: &str = "1e6b2d0f-8c2e-4d47-8b62-2f3e4d5c6b71";
pub const UK_SECRET: &str = "demo-uk-secret";
pub const DEV_ID: &str = "2a7c3e1f-9d3f-4e58-9c73-3a4f5e6d7c82";
pub const DEV_SECRET: &str = "dev-nl-secret";
pub const REDIRECT: &str = "http://127.0.0.1:8080/oauth/callback";

/// Division codes of the small books.
pub const NL_MAIN: i32 = 101;
pub const NL_SECOND: i32 = 102;
pub const UK_MAIN: i32 = 201;

/// Small books: enough rows to page (130 invoices), few enough to stay fast in debug builds.
pub fn small_books() -> BooksConfig {
    let spec = |code, region, description: &str, customers, invoices| DivisionSpec {
        code,
        region,
        description: description.to_string(),
        customers,
        suppliers: 5,
        sales_invoices: invoices,
        purchase_entries: 12,
        journal_entries: 3,
        extra_gl_accounts: 0,
        transaction_lines: None,
    };
    BooksConfig {
        seed: 7,
        divisions: vec![
            spec(NL_MAIN, Region::Nl, "Test B.V.", 12, 130),
            spec(NL_SECOND, Region::Nl, "Test Holding B.V.", 4, 10),
            spec(UK_MAIN, Region::Uk, "Test Ltd", 6, 20),
        ],
    }
}

pub fn config() -> SandboxConfig {
    SandboxConfig {
        seed: Seed::demo(),
        books: small_books(),
        clock: ClockStart::Frozen(T0),
    }
}

/// A running sandbox and a client that does not follow redirects.
pub struct Sb {
    pub handle: SandboxHandle,
    pub http: reqwest::Client,
}

/// Tokens from a code exchange or refresh.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

pub async fn start() -> Sb {
    start_with(config()).await
}

pub async fn start_with(config: SandboxConfig) -> Sb {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let handle = spawn(config, listener).await.expect("sandbox starts");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Sb { handle, http }
}

pub fn creds(region: Region) -> (&'static str, &'static str) {
    match region {
        Region::Nl => (NL_ID, NL_SECRET),
        Region::Uk => (UK_ID, UK_SECRET),
    }
}

/// The query parameter `name` of a redirect's Location.
pub fn location_param(resp: &Response, name: &str) -> Option<String> {
    let loc = resp.headers().get("location")?.to_str().ok()?;
    let url = url::Url::parse(loc).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl Sb {
    pub fn base(&self, region: Region) -> String {
        self.handle.base_url(region).to_string()
    }

    pub fn admin(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.handle.admin_url(),
            path.trim_start_matches('/')
        )
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        self.http
            .get(self.admin(path))
            .send()
            .await
            .expect("admin")
            .json()
            .await
            .expect("json")
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Response {
        self.http
            .post(self.admin(path))
            .json(&body)
            .send()
            .await
            .expect("admin")
    }

    pub async fn advance(&self, seconds: i64) {
        let r = self
            .admin_post("clock/advance", serde_json::json!({"seconds": seconds}))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }

    /// `GET {region}/api/oauth2/auth` with the `sandbox_user` shortcut; returns the redirect.
    pub async fn authorize(
        &self,
        region: Region,
        client_id: &str,
        user: &str,
        divisions: Option<&str>,
    ) -> Response {
        let mut url =
            url::Url::parse(&format!("{}/api/oauth2/auth", self.base(region))).expect("url");
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("response_type", "code")
            .append_pair("state", "xyz")
            .append_pair("sandbox_user", user);
        if let Some(d) = divisions {
            url.query_pairs_mut().append_pair("sandbox_divisions", d);
        }
        self.http.get(url).send().await.expect("authorize")
    }

    pub async fn code(&self, region: Region, user: &str, divisions: Option<&str>) -> String {
        let resp = self
            .authorize(region, creds(region).0, user, divisions)
            .await;
        assert_eq!(resp.status(), StatusCode::FOUND, "Exact redirects with 302");
        location_param(&resp, "code").expect("code in redirect")
    }

    pub async fn token_call(&self, region: Region, form: &[(&str, &str)]) -> Response {
        let url = format!("{}/api/oauth2/token", self.base(region));
        self.http
            .post(url)
            .form(form)
            .send()
            .await
            .expect("token call")
    }

    pub async fn exchange(&self, region: Region, client: (&str, &str), code: &str) -> Response {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", client.0),
            ("client_secret", client.1),
        ];
        self.token_call(region, &form).await
    }

    pub async fn refresh(&self, region: Region, refresh_token: &str) -> Response {
        let (id, secret) = creds(region);
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", id),
            ("client_secret", secret),
        ];
        self.token_call(region, &form).await
    }

    /// Authorizes the demo app for `user` and exchanges the code.
    pub async fn connect(&self, region: Region, user: &str, divisions: Option<&str>) -> Tokens {
        let code = self.code(region, user, divisions).await;
        let resp = self.exchange(region, creds(region), &code).await;
        assert_eq!(resp.status(), StatusCode::OK);
        tokens(resp).await
    }

    /// `GET {region}/api/v1/{path}` with the bearer token and `Accept: application/json`.
    pub async fn api(&self, region: Region, token: &str, path: &str) -> Response {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}/api/v1/{path}", self.base(region))
        };
        self.http
            .get(url)
            .bearer_auth(token)
            .header("Accept", "application/json")
            .send()
            .await
            .expect("api call")
    }

    /// Like `api`, asserting 200 and returning the JSON.
    pub async fn api_json(&self, region: Region, token: &str, path: &str) -> Value {
        let resp = self.api(region, token, path).await;
        let status = resp.status();
        let body = resp.text().await.expect("body");
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        serde_json::from_str(&body).expect("json")
    }

    /// Follows `__next` from `path` to the end; returns every row and the number of pages.
    pub async fn all_pages(&self, region: Region, token: &str, path: &str) -> (Vec<Value>, usize) {
        let mut rows = Vec::new();
        let mut pages = 0;
        let mut next = Some(path.to_string());
        while let Some(p) = next {
            let page = self.api_json(region, token, &p).await;
            pages += 1;
            rows.extend(
                page["d"]["results"]
                    .as_array()
                    .expect("results")
                    .iter()
                    .cloned(),
            );
            next = page["d"]["__next"].as_str().map(str::to_string);
        }
        (rows, pages)
    }

    /// Row counts per entity set, from the books summary.
    pub async fn summary(&self, region: Region, division: i32) -> Value {
        let prefix = if region == Region::Nl { "nl" } else { "uk" };
        self.admin_get(&format!("books/{prefix}/{division}/summary"))
            .await
    }
}

pub async fn tokens(resp: Response) -> Tokens {
    let body: Value = resp.json().await.expect("token json");
    Tokens {
        access: body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string(),
        refresh: body["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_string(),
    }
}

/// `error.message.value` of an Exact error body.
pub async fn error_text(resp: Response) -> String {
    let body: Value = resp.json().await.expect("error json");
    body["error"]["message"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
