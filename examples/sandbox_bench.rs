//! Times the sandbox serving 1000-row sync pages over HTTP from a division of 100,000 invoices.
//!
//! Run with `cargo run --release --example sandbox_bench [invoices]`; it prints figures, asserts nothing.

use std::time::{Duration, Instant};

use ledgerline::sandbox::books::{BooksConfig, DivisionSpec};
use ledgerline::sandbox::{ClockStart, Region, SandboxConfig, Seed, spawn};

const DIVISION: i32 = 900_001;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let invoices: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut seed = Seed::demo();
    for app in &mut seed.apps {
        // The bench measures serving speed, not Exact's limits.
        app.minutely_limit = u32::MAX;
        app.daily_limit = u32::MAX;
    }
    let books = BooksConfig {
        seed: 1,
        divisions: vec![DivisionSpec {
            code: DIVISION,
            region: Region::Nl,
            description: "Bench B.V.".into(),
            customers: 2_000,
            suppliers: 300,
            sales_invoices: invoices,
            purchase_entries: invoices / 10,
            journal_entries: 100,
            extra_gl_accounts: 0,
            transaction_lines: None,
        }],
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let started = Instant::now();
    let sb = spawn(
        SandboxConfig {
            seed,
            books,
            clock: ClockStart::Real,
        },
        listener,
    )
    .await?;
    println!(
        "generated {invoices} invoices and started in {:.2?}",
        started.elapsed()
    );
    print_memory("after generation");

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let base = sb.base_url(Region::Nl);
    let app = sb
        .apps()
        .into_iter()
        .find(|a| a.region == Region::Nl && a.approved)
        .expect("demo NL app");
    let auth = format!(
        "{base}/api/oauth2/auth?client_id={}&redirect_uri={}&response_type=code&sandbox_user=demo",
        app.client_id, app.redirect_uri
    );
    let redirect = http.get(auth).send().await?;
    let location = url::Url::parse(redirect.headers()["location"].to_str()?)?;
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let client_id = app.client_id.to_string();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", app.redirect_uri.as_str()),
        ("client_id", client_id.as_str()),
        ("client_secret", app.client_secret.as_str()),
    ];
    let token: serde_json::Value = http
        .post(format!("{base}/api/oauth2/token"))
        .form(&form)
        .send()
        .await?
        .json()
        .await?;
    let access = token["access_token"]
        .as_str()
        .expect("access token")
        .to_string();

    for (label, first) in [
        (
            "sync/SalesInvoice/SalesInvoices",
            format!(
                "{base}/api/v1/{DIVISION}/sync/SalesInvoice/SalesInvoices?$select=ID,InvoiceID,InvoiceNumber,AmountFC,VATAmountFC,InvoiceDate,Timestamp&$filter=Timestamp gt 1L"
            ),
        ),
        (
            "sync/Financial/TransactionLines (all fields)",
            format!(
                "{base}/api/v1/{DIVISION}/sync/Financial/TransactionLines?$filter=Timestamp gt 1L"
            ),
        ),
        (
            "bulk/SalesInvoice/SalesInvoices",
            format!(
                "{base}/api/v1/{DIVISION}/bulk/SalesInvoice/SalesInvoices?$select=InvoiceID,InvoiceNumber,AmountFC,Status"
            ),
        ),
    ] {
        let mut times: Vec<Duration> = Vec::new();
        let mut next = Some(first);
        let mut rows = 0usize;
        while let Some(url) = next.take() {
            if times.len() == 30 {
                break;
            }
            let t = Instant::now();
            let body = http
                .get(&url)
                .bearer_auth(&access)
                .header("Accept", "application/json")
                .send()
                .await?
                .bytes()
                .await?;
            times.push(t.elapsed());
            let page: serde_json::Value = serde_json::from_slice(&body)?;
            rows += page["d"]["results"].as_array().map_or(0, Vec::len);
            next = page["d"]["__next"].as_str().map(str::to_string);
            if times.len() == 1 {
                println!("{label}: first page {} KiB", body.len() / 1024);
            }
        }
        times.sort();
        println!(
            "{label}: {} pages, {rows} rows; per 1000-row page over HTTP: min {:.2?}, median {:.2?}, max {:.2?}",
            times.len(),
            times[0],
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
    print_memory("after paging");
    sb.shutdown().await;
    Ok(())
}

/// Peak and current resident memory of this process (Linux `/proc/self/status`), books included.
fn print_memory(when: &str) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map_or_else(|| "?".to_string(), |v| v.trim().to_string())
    };
    println!(
        "memory {when}: peak RSS (VmHWM) {}, RSS (VmRSS) {}",
        field("VmHWM:"),
        field("VmRSS:")
    );
}
