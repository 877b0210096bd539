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

#[path = "bench_common/mod.rs"]
mod bench_common;

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
    /// Memory mode: this many companies of `invoices` each, read round-robin.
    companies: Option<u32>,
    /// The cache bound (LEDGERLINE_CACHE_MAX_MIB).
    cache_mib: u64,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        invoices: 100_000,
        seconds: 10,
        postgres: None,
        companies: None,
        cache_mib: ledgerline::sync::cache::DEFAULT_CACHE_MAX_MIB,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--postgres" => args.postgres = Some(it.next().context("--postgres needs a URL")?),
            "--seconds" => args.seconds = it.next().context("--seconds needs a number")?.parse()?,
            "--companies" => {
                args.companies = Some(it.next().context("--companies needs a number")?.parse()?)
            }
            "--cache-mib" => {
                args.cache_mib = it.next().context("--cache-mib needs a number")?.parse()?
            }
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

/// How `wrk` drives a target.
struct Drive<'a> {
    headers: &'a [String],
    seconds: u32,
    connections: u32,
    /// A Lua script choosing each request's path.
    script: Option<&'a std::path::Path>,
}

/// Drives `url` with `wrk` (2 threads, 64 connections) for `seconds`, after a 2 s warm-up.
fn wrk(url: &str, headers: &[String], seconds: u32) -> anyhow::Result<Load> {
    wrk_with(
        url,
        &Drive {
            headers,
            seconds,
            connections: CONNECTIONS,
            script: None,
        },
    )
}

/// Drives `url` with `wrk` as `drive` says, after a 2 s warm-up.
fn wrk_with(url: &str, drive: &Drive) -> anyhow::Result<Load> {
    let (headers, seconds) = (drive.headers, drive.seconds);
    let run = |seconds: u32| -> anyhow::Result<String> {
        let mut command = Command::new("wrk");
        command.args([
            &format!("-t{}", drive.connections.min(2)),
            &format!("-c{}", drive.connections),
            &format!("-d{seconds}s"),
            "--latency",
        ]);
        if let Some(script) = drive.script {
            command.args(["-s", &script.display().to_string()]);
        }
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
            let Ok(stats) =
                bench_common::get_json(&http, admin.join("stats").unwrap().as_str()).await
            else {
                continue;
            };
            let calls = stats["regions"]["nl"]["apps"][&client_id]["divisions"]
                [DIVISION.to_string()]["calls_total"]
                .as_u64()
                .unwrap_or(0);
            if calls < counted + per_minute {
                continue;
            }
            let Ok(now) =
                bench_common::get_json(&http, admin.join("clock").unwrap().as_str()).await
            else {
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
    bench_common::quiet_logs();
    let http = bench_common::http_client(Duration::from_secs(600))?;

    // The sandbox, with Exact's real limits.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut seed = Seed::demo();
    seed.redirect_apps_to(&base);
    let app = bench_common::demo_nl_app(&seed)?;
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

    // The server that pulls; the reads go to a restarted one.
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
    config.cache_max_mib = args.cache_mib;
    let (state, _) =
        app::build_state(&config, url::Url::parse(&base)?, KeyPolicy::Required).await?;
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));

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
    let mut companies = vec![company.clone()];
    if let Some(count) = args.companies {
        companies.extend(copy_company(&api, &state.store, &company, count - 1).await?);
    }
    println!(
        "seeded {} compan{} in {:.0} s",
        companies.len(),
        if companies.len() == 1 { "y" } else { "ies" },
        started.elapsed().as_secs_f64()
    );
    let _ = stop_server.send(());
    server.await??;
    drop(state);

    // A restart: a new server on the same store, nothing in memory, the static route beside
    // the API.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
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
    let api = TenantApi {
        http: http.clone(),
        base: base.clone(),
        key: api.key,
    };
    if args.companies.is_some() {
        memory(&args, &api, &state.cache, &companies, &static_body).await?;
    } else {
        read_one_company(&args, &api, &company, &static_body).await?;
    }
    let _ = stop_server.send(());
    let _ = server.await;
    Ok(())
}

/// `GET`s `url` with the tenant's key: the time to the last byte, the `ETag` and the body.
async fn timed_get(
    api: &TenantApi,
    url: &str,
) -> anyhow::Result<(Duration, Option<String>, Bytes)> {
    let started = Instant::now();
    let response = api.http.get(url).bearer_auth(&api.key).send().await?;
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response.bytes().await?;
    let took = started.elapsed();
    if !status.is_success() {
        bail!(
            "GET {url} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok((took, etag, body))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The query the issue measures, `amountDue > {floor} && currency = EUR` by `-issueDate`,
/// encoded for a URL.
const QUERY_PARAMS: &str =
    "query=amountDue%20%3E%200%20%26%26%20currency%20%3D%20EUR&orderBy=-issueDate";

/// One company of many invoices after a restart: cold reads, then each target under `wrk`
/// beside the static route, then queries never seen before.
async fn read_one_company(
    args: &Args,
    api: &TenantApi,
    company: &str,
    static_body: &OnceLock<Bytes>,
) -> anyhow::Result<()> {
    let base = &api.base;
    let list = format!("{base}/companies/{company}/data/invoices");
    let page_url = format!("{list}?page=1&pageSize=100");
    // Cold, in a restarted server: the first page, one invoice by id, the first query.
    let (cold_page, etag, page) = timed_get(api, &page_url).await?;
    let parsed: Value = serde_json::from_slice(&page)?;
    let total = parsed["totalResults"].as_u64().unwrap_or_default();
    let first_id = parsed["results"][0]["id"]
        .as_str()
        .context("an invoice on page 1")?
        .to_string();
    let other_id = parsed["results"][57]["id"]
        .as_str()
        .context("57 invoices on page 1")?
        .to_string();
    let (cold_get, _, _) = timed_get(api, &format!("{list}/{other_id}")).await?;
    let (cold_query, _, queried) = timed_get(api, &format!("{list}?{QUERY_PARAMS}")).await?;
    let queried: Value = serde_json::from_slice(&queried)?;
    let (next_query, _, _) = timed_get(
        api,
        &format!(
            "{list}?query=amountDue%20%3E%201%20%26%26%20currency%20%3D%20EUR&orderBy=-issueDate"
        ),
    )
    .await?;
    let (deep_page, _, _) = timed_get(api, &format!("{list}?page=900&pageSize=100")).await?;
    static_body
        .set(page.clone())
        .map_err(|_| anyhow::anyhow!("the static body is set once"))?;
    println!(
        "after a restart: first page {:.1} ms ({total} invoices, page of 100 = {} bytes), \
         GET by id {:.1} ms, first query {:.1} ms ({} match), a second new query {:.1} ms, \
         page 900 {:.1} ms",
        ms(cold_page),
        page.len(),
        ms(cold_get),
        ms(cold_query),
        queried["totalResults"],
        ms(next_query),
        ms(deep_page),
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
    targets.push((
        "a query's page 1 (seen before)".into(),
        format!("{list}?{QUERY_PARAMS}"),
        vec![auth.clone()],
    ));
    let mut rows = Vec::new();
    for (name, url, headers) in &targets {
        let load = wrk(url, headers, args.seconds)?;
        println!("  {name}: {load:?}");
        rows.push((name.clone(), CONNECTIONS, load));
    }
    // Queries never seen before, one at a time: each request's floor differs, so every one is
    // filtered and sorted anew (over the columns the first query read).
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("new_queries.lua");
    std::fs::write(
        &script,
        format!(
            r#"
local n = 0
local seed = 0
init = function(args) seed = math.random(1, 99999) end
request = function()
  n = n + 1
  return wrk.format("GET", "/companies/{company}/data/invoices?query=amountDue%20%3E%200." .. seed .. "0" .. n .. "%20%26%26%20currency%20%3D%20EUR&orderBy=-issueDate")
end
"#
        ),
    )?;
    let load = wrk_with(
        &format!("{base}/"),
        &Drive {
            headers: std::slice::from_ref(&auth),
            seconds: args.seconds,
            connections: 1,
            script: Some(&script),
        },
    )?;
    println!("  new queries, 1 connection: {load:?}");
    rows.push(("a new query each request".into(), 1, load));
    print_table(args, &rows);
    Ok(())
}

fn print_table(args: &Args, rows: &[(String, u32, Load)]) {
    let static_rps = rows[0].2.requests_per_second;
    println!(
        "\n| target ({} s each) | connections | requests/s | p50 | p99 | vs static | non-2xx/3xx | load avg |",
        args.seconds
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, connections, load) in rows {
        println!(
            "| {name} | {connections} | {:.0} | {:.2} ms | {:.2} ms | {:.0} % | {} | {:.1} |",
            load.requests_per_second,
            load.p50_ms,
            load.p99_ms,
            100.0 * load.requests_per_second / static_rps,
            load.non_2xx,
            load.load_average
        );
    }
}

/// `count` more companies holding the same records as `company` (their own copies, as pulled),
/// made through the API and committed straight into the store: a big tenant without pulling
/// each from the sandbox.
async fn copy_company(
    api: &TenantApi,
    store: &ledgerline::store::Store,
    company: &str,
    count: u32,
) -> anyhow::Result<Vec<String>> {
    use ledgerline::store::PulledRecords;
    let source = uuid::Uuid::parse_str(company)?;
    let mut by_type = Vec::new();
    for data_type in ["invoices", "company"] {
        let records: Vec<(String, Value)> = store
            .load_records(source, data_type)
            .await?
            .into_iter()
            .map(|(id, json)| Ok((id, serde_json::from_str(&json)?)))
            .collect::<anyhow::Result<_>>()?;
        by_type.push((data_type, records));
    }
    let mut companies = Vec::new();
    for n in 0..count {
        let (copy, _) = api
            .company_with_connection(&format!("Copy {n}"), "exact-online-nl")
            .await?;
        let id = uuid::Uuid::parse_str(&copy)?;
        for (data_type, records) in &by_type {
            let now = chrono::Utc::now().timestamp_millis();
            let pull = store
                .create_pull_operation(id, uuid::Uuid::new_v4(), data_type, now)
                .await?
                .context("no pull running")?;
            let pulled = PulledRecords {
                records: records.clone(),
                cursor: None,
                upstream_calls: 0,
            };
            store.commit_pull(&pull, pulled, now).await?;
        }
        companies.push(copy);
    }
    Ok(companies)
}

/// The process's resident memory now and at its peak so far, in MiB.
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Many companies read round-robin (page 1 of each, and an invoice of each): the process's
/// memory against the cache bound, and the cache's hit rate.
async fn memory(
    args: &Args,
    api: &TenantApi,
    cache: &ledgerline::sync::cache::DataCache,
    companies: &[String],
    static_body: &OnceLock<Bytes>,
) -> anyhow::Result<()> {
    let base = &api.base;
    let first = format!(
        "{base}/companies/{}/data/invoices?page=1&pageSize=100",
        companies[0]
    );
    let (_, _, page) = timed_get(api, &first).await?;
    static_body
        .set(page.clone())
        .map_err(|_| anyhow::anyhow!("the static body is set once"))?;
    let (idle, _) = rss_mib();
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("round_robin.lua");
    let paths: Vec<String> = companies
        .iter()
        .map(|c| format!("  \"/companies/{c}/data/invoices?page=1&pageSize=100\","))
        .collect();
    std::fs::write(
        &script,
        format!(
            r#"
local paths = {{
{}
}}
local i = 0
init = function(args) i = math.random(1, #paths) end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"#,
            paths.join("\n")
        ),
    )?;
    // The process's memory, sampled while `wrk` runs.
    let peak = Arc::new(std::sync::Mutex::new(0f64));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = tokio::spawn({
        let (peak, sampling) = (peak.clone(), sampling.clone());
        async move {
            while sampling.load(Ordering::Relaxed) {
                let (now, _) = rss_mib();
                {
                    let mut peak = peak.lock().unwrap();
                    *peak = peak.max(now);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    let auth = format!("Authorization: Bearer {}", api.key);
    let round_robin = tokio::task::spawn_blocking({
        let (base, auth, script, seconds) =
            (base.clone(), auth.clone(), script.clone(), args.seconds);
        move || {
            wrk_with(
                &format!("{base}/"),
                &Drive {
                    headers: std::slice::from_ref(&auth),
                    seconds,
                    connections: CONNECTIONS,
                    script: Some(&script),
                },
            )
        }
    })
    .await??;
    sampling.store(false, Ordering::Relaxed);
    sampler.await?;
    let stats = cache.stats().await;
    let (after, _) = rss_mib();
    let static_load = wrk(&format!("{base}/_bench/static"), &[], args.seconds)?;
    let peak = *peak.lock().unwrap();
    println!(
        "{} companies × {} invoices, page 1 of each read round-robin at {CONNECTIONS} \
         connections; cache bound {} MiB",
        companies.len(),
        args.invoices,
        args.cache_mib
    );
    println!(
        "RSS: {idle:.0} MiB before the reads, peak {peak:.0} MiB while they ran, {after:.0} MiB \
         after (bound + 150 = {} MiB)",
        args.cache_mib + 150
    );
    println!(
        "cache: {:.1} % hits ({} hits, {} misses), {:.0} MiB held in {} entries",
        100.0 * stats.hit_rate(),
        stats.hits,
        stats.misses,
        stats.weighted_bytes as f64 / 1048576.0,
        stats.entries
    );
    print_table(
        args,
        &[
            ("static route, same bytes".into(), CONNECTIONS, static_load),
            (
                "page 1 of each company, round-robin".into(),
                CONNECTIONS,
                round_robin,
            ),
        ],
    );
    Ok(())
}
