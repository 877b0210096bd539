//! Measures the read path against the machine: warm `GET …/data/invoices?pageSize=100` on a
//! company of N sandbox invoices, driven by `wrk` at 64 connections, side by side in the same
//! run with a static route of the same server answering a pre-built body of the same size.
//! The ratio of the two is the figure to compare (the machine and its load change; the ratio
//! much less).
//!
//! The Exact sandbox and a Ledgerline server run in this process. A company is linked to one NL
//! division of N sales invoices through the link flow and every data type is pulled (both
//! clocks jump to the next minute when a minute's 60 calls are spent, as in `pull_bench`); then
//! the sandbox stops, and only the server and `wrk` are left running. The static route
//! (`/_bench/static`) exists only in this binary: it is mounted beside the API, behind the
//! same layers, through [`app::serve_with_routes`].
//!
//! Printed: the cold first page, then per target (static, page 1 of 100, a page by its
//! `ETag` answered 304, one invoice by id) requests/s, p50 and p99 latency and the ratio to the
//! static route, and the load average while it ran (other processes share the cores).
//!
//! Run: `cargo run --release --example read_bench [invoices] [--seconds S] [--postgres URL]`
//! (default 100,000 invoices, 10 s per target, SQLite in a temporary folder). Needs `wrk` on the
//! PATH (Debian: `apt-get install wrk`).

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use ledgerline::app::{self, KeyPolicy};
use ledgerline::clock::Clock;
use ledgerline::config::ServerConfig;
use ledgerline::demo::TenantApi;
use ledgerline::sandbox::books::{BooksConfig, DivisionSpec};
use ledgerline::sandbox::{self, ClockStart, Region, SandboxConfig, Seed};
use serde_json::{Value, json};
use tokio::net::TcpListener;

const DIVISION: i32 = 900_002;
const ADMIN_KEY: &str = "read-bench-admin-key";
const MASTER_KEY_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const CONNECTIONS: u32 = 64;

struct Args {
    invoices: u32,
    seconds: u32,
    postgres: Option<String>,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        invoices: 100_000,
        seconds: 10,
        postgres: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--postgres" => args.postgres = Some(it.next().context("--postgres needs a URL")?),
            "--seconds" => args.seconds = it.next().context("--seconds needs a number")?.parse()?,
            n => {
                args.invoices = n
                    .replace(['_', ','], "")
                    .parse()
                    .with_context(|| format!("not a number of invoices: {n}"))?
            }
        }
    }
    Ok(args)
}

/// One `wrk` run's figures.
#[derive(Debug, Clone, Copy)]
struct Load {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
    load_average: f64,
}

/// `1.23ms`, `812.00us`, `1.01s` in milliseconds.
fn wrk_duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => return None,
    })
}

/// The 1-minute load average (what else ran on the cores meanwhile, `wrk` and this server
/// included).
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Drives `url` with `wrk` (2 threads, 64 connections) for `seconds`, after a 2 s warm-up.
fn wrk(url: &str, headers: &[String], seconds: u32) -> anyhow::Result<Load> {
    let run = |seconds: u32| -> anyhow::Result<String> {
        let mut command = Command::new("wrk");
        command.args([
            "-t2",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{seconds}s"),
            "--latency",
        ]);
        for header in headers {
            command.args(["-H", header]);
        }
        let output = command
            .arg(url)
            .output()
            .context("running wrk (Debian: apt-get install wrk)")?;
        if !output.status.success() {
            bail!("wrk failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    run(2)?;
    let text = run(seconds)?;
    let load_average = load_average();
    let field = |prefix: &str| -> Option<&str> {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .map(str::trim)
    };
    let requests_per_second = field("Requests/sec:")
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("no Requests/sec in wrk's output:\n{text}"))?;
    let percentile = |p: &str| {
        field(p)
            .and_then(wrk_duration_ms)
            .with_context(|| format!("no {p} latency in wrk's output:\n{text}"))
    };
    let non_2xx = field("Non-2xx or 3xx responses:")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Ok(Load {
        requests_per_second,
        p50_ms: percentile("50%")?,
        p99_ms: percentile("99%")?,
        non_2xx,
        load_average,
    })
}

async fn get_json(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let response = http.get(url).send().await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("GET {url} answered {status}: {text}");
    }
    Ok(serde_json::from_str(&text)?)
}

/// Moves the sandbox's and Ledgerline's clocks to the next whole minute whenever the division
/// has made a minute's calls, so that Exact's 60/minute costs the seeding no real waiting.
fn warp_clocks(
    http: reqwest::Client,
    admin: url::Url,
    clock: Clock,
    client_id: String,
    per_minute: u64,
) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    tokio::spawn(async move {
        let mut counted = 0u64;
        while !stopped.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let Ok(stats) = get_json(&http, admin.join("stats").unwrap().as_str()).await else {
                continue;
            };
            let calls = stats["regions"]["nl"]["apps"][&client_id]["divisions"]
                [DIVISION.to_string()]["calls_total"]
                .as_u64()
                .unwrap_or(0);
            if calls < counted + per_minute {
                continue;
            }
            let Ok(now) = get_json(&http, admin.join("clock").unwrap().as_str()).await else {
                continue;
            };
            let now = now["now_ms"].as_i64().unwrap_or_default();
            let secs = ((60_000 - now.rem_euclid(60_000)) as u64).div_ceil(1000) + 1;
            let moved = http
                .post(admin.join("clock/advance").unwrap())
                .json(&json!({"seconds": secs}))
                .send()
                .await;
            if moved.is_ok_and(|r| r.status().is_success()) {
                clock.advance(Duration::from_secs(secs));
                counted = calls;
            }
        }
    });
    stop
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .init();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(600))
        .build()?;

    // The sandbox, with Exact's real limits.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut seed = Seed::demo();
    seed.redirect_apps_to(&base);
    let app = seed
        .apps
        .iter()
        .find(|a| a.region == Region::Nl && a.approved)
        .context("the demo NL app")?
        .clone();
    let books = BooksConfig {
        seed: 1,
        divisions: vec![DivisionSpec {
            code: DIVISION,
            region: Region::Nl,
            description: "Read Bench B.V.".into(),
            customers: 2_000,
            suppliers: 300,
            sales_invoices: args.invoices,
            purchase_entries: 1_000,
            journal_entries: 100,
            extra_gl_accounts: 0,
            transaction_lines: None,
        }],
    };
    println!(
        "read_bench: {} invoices, {} connections, {} s per target",
        args.invoices, CONNECTIONS, args.seconds
    );
    let sandbox = sandbox::spawn(
        SandboxConfig {
            seed,
            books,
            clock: ClockStart::Real,
        },
        TcpListener::bind("127.0.0.1:0").await?,
    )
    .await?;

    // The server, with the static route beside the API.
    let dir = tempfile::tempdir()?;
    let database_url = args.postgres.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("ledgerline.db").display()
        )
    });
    let mut config = ServerConfig::for_data_dir(dir.path());
    config.database_url = Some(database_url);
    config.admin_key = Some(ADMIN_KEY.into());
    config.master_key = Some(MASTER_KEY_HEX.into());
    config.upstream_urls = sandbox.upstream_urls();
    let (state, _) =
        app::build_state(&config, url::Url::parse(&base)?, KeyPolicy::Required).await?;
    // Filled once the real page is known, so that both answer the same number of bytes.
    let static_body: Arc<OnceLock<Bytes>> = Arc::default();
    let extra = axum::Router::new().route(
        "/_bench/static",
        axum::routing::get({
            let body = static_body.clone();
            move || {
                let body = body.get().cloned().unwrap_or_default();
                async move { ([(CONTENT_TYPE, "application/json")], body) }
            }
        }),
    );
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::serve_with_routes(
        listener,
        state.clone(),
        extra,
        async move {
            let _ = stopped.await;
        },
    ));

    // Seed: a tenant, a company linked to the division, every data type pulled.
    let started = Instant::now();
    let api = TenantApi::new_tenant(
        &http,
        &base,
        ADMIN_KEY,
        "exact-online-nl",
        &app.client_id.to_string(),
        &app.client_secret,
    )
    .await?;
    let (company, connection) = api
        .company_with_connection("Read Bench B.V.", "exact-online-nl")
        .await?;
    let warp = warp_clocks(
        http.clone(),
        sandbox.admin_url(),
        state.clock.clone(),
        app.client_id.to_string(),
        u64::from(app.minutely_limit),
    );
    api.link_in_sandbox(&connection, DIVISION).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    api.wait_for_every_data_type(&company).await?;
    warp.store(true, Ordering::Relaxed);
    // Reads never call Exact: the sandbox's books only take memory from here on.
    sandbox.shutdown().await;
    println!("seeded in {:.0} s", started.elapsed().as_secs_f64());

    // A cold first page (the dataset is not cached yet), then the page the load reads.
    let list = format!("{base}/companies/{company}/data/invoices");
    let page_url = format!("{list}?page=1&pageSize=100");
    let cold = Instant::now();
    let response = http.get(&page_url).bearer_auth(&api.key).send().await?;
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let page = response.bytes().await?;
    let cold = cold.elapsed();
    let parsed: Value = serde_json::from_slice(&page)?;
    let total = parsed["totalResults"].as_u64().unwrap_or_default();
    let first_id = parsed["results"][0]["id"]
        .as_str()
        .context("an invoice on page 1")?
        .to_string();
    static_body
        .set(page.clone())
        .expect("the static body is set once");
    println!(
        "cold first page: {:.1} ms ({total} invoices, page of 100 = {} bytes)",
        cold.as_secs_f64() * 1000.0,
        page.len()
    );

    let auth = format!("Authorization: Bearer {}", api.key);
    let mut targets: Vec<(String, String, Vec<String>)> = vec![
        (
            "static route, same bytes".into(),
            format!("{base}/_bench/static"),
            vec![],
        ),
        (
            "GET invoices?page=1&pageSize=100".into(),
            page_url.clone(),
            vec![auth.clone()],
        ),
    ];
    if let Some(etag) = &etag {
        targets.push((
            "… with If-None-Match (304)".into(),
            page_url.clone(),
            vec![auth.clone(), format!("If-None-Match: {etag}")],
        ));
    }
    targets.push((
        "GET invoices/{id}".into(),
        format!("{list}/{first_id}"),
        vec![auth.clone()],
    ));
    let mut rows = Vec::new();
    for (name, url, headers) in &targets {
        let load = wrk(url, headers, args.seconds)?;
        println!("  {name}: {load:?}");
        rows.push((name.clone(), load));
    }
    let static_rps = rows[0].1.requests_per_second;
    println!(
        "\n| target ({} connections, {} s) | requests/s | p50 | p99 | vs static | non-2xx/3xx | load avg |",
        CONNECTIONS, args.seconds
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, load) in &rows {
        println!(
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {:.0} % | {} | {:.1} |",
            load.requests_per_second,
            load.p50_ms,
            load.p99_ms,
            100.0 * load.requests_per_second / static_rps,
            load.non_2xx,
            load.load_average
        );
    }
    let _ = stop_server.send(());
    let _ = server.await;
    Ok(())
}
