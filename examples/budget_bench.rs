//! Two Ledgerline instances on one PostgreSQL database pull 20 companies linked to 4 shared
//! Exact divisions for N minutes, on schedule and on demand, against the Exact sandbox with its
//! real limits; the bench then prints what the sandbox saw (issue #10's third benchmark):
//!
//! - per division, the most calls in one clock minute (Exact allows 60),
//! - the 429s the sandbox answered (must be 0: the shared budget keeps every instance inside),
//! - duplicate concurrent pulls of one connection (must be 0), measured by the sandbox itself:
//!   division calls that began while another call with the tokens of the same consent (one
//!   connection) was in flight. A pull run reads one call at a time, so two runs of one
//!   connection at once show as overlapping calls; every data call is delayed (`--latency-ms`,
//!   default 100) so that any overlap lasts long enough to be seen.
//!
//! Everything runs in this process: the sandbox (4 NL divisions of `--invoices` invoices each,
//! real clock), and two servers (instance A and B) sharing a scratch database created on the
//! PostgreSQL server of `--postgres` (default `postgres://postgres@127.0.0.1:5432/test`) and
//! dropped at the end. One tenant, its Exact NL app, 20 companies each with its own connection
//! linked through instance A's link flow (5 per division, so 5 consents share each division's
//! budget). Every data type's `syncSchedule` is 1 hour, and each instance runs a scheduler whose
//! hour lasts `--hour-secs` (default 60: `Scheduler::for_benchmarks`, which no server setting
//! reaches) and which looks every 10 s; beside that, on-demand pulls (`data/all` or
//! `data/queue/{dataType}` of a random company, at a random instance) every 1–10 s.
//!
//! The figures are counts, so a debug build does: `cargo run --example budget_bench`
//! (`--minutes 2` for a short run). It asserts nothing; it prints `OK` or `OVER` per figure.

#[path = "bench_common/mod.rs"]
mod bench_common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ledgerline::app::{self, KeyPolicy};
use ledgerline::config::ServerConfig;
use ledgerline::demo::TenantApi;
use ledgerline::model::DataType;
use ledgerline::sandbox::books::{BooksConfig, DivisionSpec};
use ledgerline::sandbox::{self, ClockStart, Region, SandboxConfig, Seed};
use ledgerline::sync::schedule::Scheduler;
use rand::Rng;
use serde_json::{Value, json};
use tokio::net::TcpListener;

const ADMIN_KEY: &str = "budget-bench-admin-key";
const MASTER_KEY_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const FIRST_DIVISION: i32 = 910_001;

struct Args {
    minutes: f64,
    postgres: String,
    companies: usize,
    divisions: usize,
    invoices: u32,
    hour_secs: u64,
    latency_ms: u64,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        minutes: 10.0,
        postgres: "postgres://postgres@127.0.0.1:5432/test".into(),
        companies: 20,
        divisions: 4,
        invoices: 500,
        hour_secs: 60,
        latency_ms: 100,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--minutes" => args.minutes = value("--minutes")?.parse()?,
            "--postgres" => args.postgres = value("--postgres")?,
            "--companies" => args.companies = value("--companies")?.parse()?,
            "--divisions" => args.divisions = value("--divisions")?.parse()?,
            "--invoices" => args.invoices = value("--invoices")?.parse()?,
            "--hour-secs" => args.hour_secs = value("--hour-secs")?.parse()?,
            "--latency-ms" => args.latency_ms = value("--latency-ms")?.parse()?,
            other => bail!(
                "unknown argument {other}; use --minutes N, --postgres URL, --companies N, \
                 --divisions N, --invoices N, --hour-secs N, --latency-ms N"
            ),
        }
    }
    if args.divisions == 0 || args.companies == 0 {
        bail!("--companies and --divisions must be at least 1");
    }
    Ok(args)
}

/// A scratch database on the PostgreSQL server of `server_url`, dropped by [`Scratch::drop_it`].
struct Scratch {
    server_url: String,
    name: String,
    url: String,
}

impl Scratch {
    async fn create(server_url: &str) -> anyhow::Result<Scratch> {
        sqlx::any::install_default_drivers();
        let name = format!("budget_bench_{}", uuid::Uuid::new_v4().simple());
        let pool = sqlx::AnyPool::connect(server_url)
            .await
            .with_context(|| format!("PostgreSQL at {server_url}"))?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await?;
        pool.close().await;
        let mut url = url::Url::parse(server_url)?;
        url.set_path(&format!("/{name}"));
        Ok(Scratch {
            server_url: server_url.to_string(),
            name,
            url: url.to_string(),
        })
    }

    async fn drop_it(&self) -> anyhow::Result<()> {
        let pool = sqlx::AnyPool::connect(&self.server_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&pool)
        .await?;
        pool.close().await;
        Ok(())
    }
}

/// One server instance on the shared database.
struct Instance {
    base: String,
    state: app::AppState,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
    scheduler: tokio::task::JoinHandle<()>,
}

async fn instance(
    database_url: &str,
    sandbox: &sandbox::SandboxHandle,
    listener: TcpListener,
    hour: Duration,
) -> anyhow::Result<Instance> {
    let base = format!("http://{}", listener.local_addr()?);
    let dir = tempfile::tempdir()?;
    let mut config = ServerConfig::for_data_dir(dir.path());
    config.database_url = Some(database_url.to_string());
    config.admin_key = Some(ADMIN_KEY.into());
    config.master_key = Some(MASTER_KEY_HEX.into());
    config.upstream_urls = sandbox.upstream_urls();
    let (state, _) =
        app::build_state(&config, url::Url::parse(&base)?, KeyPolicy::Required).await?;
    // Scheduled pulls within minutes: the server's own scheduler (hours of an hour) is there
    // too, and finds nothing due in a run this short.
    let scheduler = tokio::spawn(
        Scheduler::new(
            state.sync.clone(),
            state.store.clone(),
            state.clock.clone(),
            Duration::from_secs(30),
        )
        .for_benchmarks(hour, Duration::from_secs(10))
        .run(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app::serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
    Ok(Instance {
        base,
        state,
        stop,
        served,
        scheduler,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    bench_common::quiet_logs();
    let http = bench_common::http_client(Duration::from_secs(120))?;
    let scratch = Scratch::create(&args.postgres).await?;
    println!(
        "budget_bench: {} companies on {} divisions of {} invoices, two instances on {} for {} minutes",
        args.companies, args.divisions, args.invoices, scratch.name, args.minutes
    );
    let outcome = run(&args, &http, &scratch).await;
    if let Err(e) = scratch.drop_it().await {
        eprintln!(
            "the scratch database {} could not be dropped: {e}",
            scratch.name
        );
    }
    outcome
}

async fn run(args: &Args, http: &reqwest::Client, scratch: &Scratch) -> anyhow::Result<()> {
    // The sandbox: 4 NL divisions, real clock and Exact's real limits.
    let listener_a = TcpListener::bind("127.0.0.1:0").await?;
    let base_a = format!("http://{}", listener_a.local_addr()?);
    let mut seed = Seed::demo();
    // Links go through instance A: the app's redirect is A's callback.
    seed.redirect_apps_to(&base_a);
    let app = bench_common::demo_nl_app(&seed)?;
    let codes: Vec<i32> = (0..args.divisions as i32)
        .map(|i| FIRST_DIVISION + i)
        .collect();
    let books = BooksConfig {
        seed: 7,
        divisions: codes
            .iter()
            .map(|code| DivisionSpec {
                code: *code,
                region: Region::Nl,
                description: format!("Shared division {code}"),
                customers: 150,
                suppliers: 50,
                sales_invoices: args.invoices,
                purchase_entries: args.invoices / 4,
                journal_entries: 30,
                extra_gl_accounts: 0,
                transaction_lines: None,
            })
            .collect(),
    };
    let sandbox = sandbox::spawn(
        SandboxConfig {
            seed,
            books,
            clock: ClockStart::Real,
        },
        TcpListener::bind("127.0.0.1:0").await?,
    )
    .await?;
    let admin = sandbox.admin_url();
    if args.latency_ms > 0 {
        // Every data call takes this long at least: an overlap of two reads of one connection
        // lasts long enough for the sandbox to see it.
        let fault = json!({"kind": "latency", "ms": args.latency_ms, "path": "api/v1/",
                           "count": u32::MAX});
        let answer = http.post(admin.join("faults")?).json(&fault).send().await?;
        if !answer.status().is_success() {
            bail!("the latency fault was refused: {}", answer.text().await?);
        }
    }

    // Two instances on the scratch database, one after the other (the first migrates it).
    let hour = Duration::from_secs(args.hour_secs);
    let a = instance(&scratch.url, &sandbox, listener_a, hour).await?;
    let b = instance(
        &scratch.url,
        &sandbox,
        TcpListener::bind("127.0.0.1:0").await?,
        hour,
    )
    .await?;
    let api_a = TenantApi::new_tenant(
        http,
        &a.base,
        ADMIN_KEY,
        "exact-online-nl",
        &app.client_id.to_string(),
        &app.client_secret,
    )
    .await?;
    let api_b = TenantApi {
        http: http.clone(),
        base: b.base.clone(),
        key: api_a.key.clone(),
    };
    // Every data type every (bench) hour.
    let client_id = api_a.get("/profile/syncSettings").await?["clientId"].clone();
    let settings: Vec<Value> = DataType::all()
        .map(|d| json!({"dataType": d.key(), "fetchOnFirstLink": true, "syncSchedule": 1, "syncOrder": 0}))
        .collect();
    api_a
        .send(
            reqwest::Method::POST,
            "/profile/syncSettings",
            Some(json!({"clientId": client_id, "settings": settings, "overridesDefaults": true})),
        )
        .await?;

    // 20 companies, each linked to one of the divisions (5 consents per division).
    let started = Instant::now();
    let mut companies = Vec::new();
    for i in 0..args.companies {
        let division = codes[i % codes.len()];
        let (company, connection) = api_a
            .company_with_connection(&format!("Bench company {i}"), "exact-online-nl")
            .await?;
        api_a.link_in_sandbox(&connection, division).await?;
        companies.push(company);
    }
    println!(
        "linked {} companies in {:.1} s; pulling for {} minutes",
        companies.len(),
        started.elapsed().as_secs_f64(),
        args.minutes
    );

    // On demand: a random company's pull of everything or of one data type, at a random
    // instance, every 1–10 s.
    let stop = Arc::new(AtomicBool::new(false));
    let queued = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let on_demand = tokio::spawn({
        let (stop, queued, refused) = (stop.clone(), queued.clone(), refused.clone());
        let apis = [api_a.clone_handle(), api_b.clone_handle()];
        let companies = companies.clone();
        let data_types: Vec<DataType> = DataType::all().collect();
        async move {
            while !stop.load(Ordering::Relaxed) {
                let (wait, api, path) = {
                    let mut rng = rand::thread_rng();
                    let company = &companies[rng.gen_range(0..companies.len())];
                    let path = if rng.gen_bool(0.5) {
                        format!("/companies/{company}/data/all")
                    } else {
                        let d = data_types[rng.gen_range(0..data_types.len())];
                        format!("/companies/{company}/data/queue/{}", d.key())
                    };
                    (
                        Duration::from_millis(rng.gen_range(1_000..10_000)),
                        &apis[rng.gen_range(0..2)],
                        path,
                    )
                };
                tokio::time::sleep(wait).await;
                match api.send(reqwest::Method::POST, &path, None).await {
                    Ok(_) => queued.fetch_add(1, Ordering::Relaxed),
                    Err(_) => refused.fetch_add(1, Ordering::Relaxed),
                };
            }
        }
    });

    // Progress once a minute.
    let run_for = Duration::from_secs_f64(args.minutes * 60.0);
    let began = Instant::now();
    while began.elapsed() < run_for {
        let left = run_for.saturating_sub(began.elapsed());
        tokio::time::sleep(left.min(Duration::from_secs(60))).await;
        let stats = bench_common::get_json(http, admin.join("stats")?).await?;
        let divisions = &stats["regions"]["nl"]["apps"][app.client_id.to_string()]["divisions"];
        let line: Vec<String> = codes
            .iter()
            .map(|c| {
                let d = &divisions[c.to_string()];
                format!(
                    "{c}: {} calls, max {}/min, {} 429s, {} overlapping",
                    d["calls_total"],
                    d["max_calls_in_a_minute"],
                    d["rate_limited"],
                    d["overlapping_calls_of_one_grant"]
                )
            })
            .collect();
        println!(
            "  {:>4.1} min: {}",
            began.elapsed().as_secs_f64() / 60.0,
            line.join("; ")
        );
    }
    stop.store(true, Ordering::Relaxed);
    on_demand.await?;

    // What the sandbox saw.
    let stats = bench_common::get_json(http, admin.join("stats")?).await?;
    let divisions = &stats["regions"]["nl"]["apps"][app.client_id.to_string()]["divisions"];
    let mut worst_minute = 0;
    let mut too_many = 0;
    let mut overlap = 0;
    let mut overlapping = 0;
    let mut total = 0;
    println!(
        "\n| division | calls | most in a clock minute | 429s | calls overlapping another of the same consent |"
    );
    println!("|---|---|---|---|---|");
    for code in &codes {
        let d = &divisions[code.to_string()];
        let n = |field: &str| d[field].as_u64().unwrap_or(0);
        worst_minute = worst_minute.max(n("max_calls_in_a_minute"));
        too_many += n("rate_limited");
        overlap = overlap.max(n("max_concurrent_calls_of_one_grant"));
        overlapping += n("overlapping_calls_of_one_grant");
        total += n("calls_total");
        println!(
            "| {code} | {} | {} | {} | {} |",
            n("calls_total"),
            n("max_calls_in_a_minute"),
            n("rate_limited"),
            n("overlapping_calls_of_one_grant")
        );
    }
    // What the instances did, from the shared store.
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut pulls = 0;
    for company in &companies {
        let id = uuid::Uuid::parse_str(company)?;
        let (rows, _) = a.state.store.list_pull_operations(id, 0, 100_000).await?;
        pulls += rows.len();
        for row in rows {
            *by_status.entry(row.status).or_default() += 1;
        }
    }
    let verdict = |ok: bool| if ok { "OK" } else { "OVER" };
    println!();
    println!("calls to the sandbox: {total}");
    println!(
        "pull operations: {pulls} ({by_status:?}); on-demand requests: {} accepted, {} refused",
        queued.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed)
    );
    println!(
        "largest count of calls in one clock minute, any division: {worst_minute} (≤ 60: {})",
        verdict(worst_minute <= 60)
    );
    println!("429s: {too_many} (0: {})", verdict(too_many == 0));
    println!(
        "duplicate concurrent pulls of one connection: calls that began while another of the same \
         consent was in flight {overlapping}, most in flight at once {overlap} (0 and 1: {})",
        verdict(overlapping == 0 && overlap <= 1)
    );

    for instance in [a, b] {
        let _ = instance.stop.send(());
        instance.scheduler.abort();
        instance.served.await??;
    }
    sandbox.shutdown().await;
    Ok(())
}

/// A second handle on the same tenant's API (the same key and server).
trait CloneHandle {
    fn clone_handle(&self) -> TenantApi;
}

impl CloneHandle for TenantApi {
    fn clone_handle(&self) -> TenantApi {
        TenantApi {
            http: self.http.clone(),
            base: self.base.clone(),
            key: self.key.clone(),
        }
    }
}
