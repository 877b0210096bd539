//! Measures a big invoices pull and the reads after it, end to end over HTTP: the Exact sandbox
//! and a Ledgerline server run in this process, a company is linked to one NL division of N sales
//! invoices through the link flow, and the bench prints
//!
//! - the first pull: wall time, upstream calls (the pull's own count and the sandbox's), sync
//!   rows and invoices, calls per 1,000 rows, the store's size on disk, and the process's memory;
//! - reads: a cold first page (read from the store by its primary key), warm pages of 100 and
//!   5,000, a deep page, a GET by id, `query=amountDue > 0` cold (reads the queried fields as
//!   columns) and warm (the selection is remembered), `orderBy=-issueDate`; p50/p95 over
//!   repetitions;
//! - a second pull with nothing changed upstream: its cost, and that it changes no record;
//! - per data type, the first pull's records and calls (`data/history`);
//! - a pull of everything after 50 invoices changed, 10 paid in full and 5 deleted in the books:
//!   its calls per endpoint (the same count as the unchanged one), and whether the served
//!   invoices then equal the books (count, total and amount due per currency).
//!
//! Exact's real limits stay on (60 calls a clock minute, 5,000 a UTC day, for the sandbox and for
//! Ledgerline's budget). So that a pull of 300+ calls does not take 5+ real minutes, the bench
//! moves both clocks (the sandbox's and Ledgerline's, by the same amount) to the next whole minute
//! whenever the division has spent a minute's 60 calls: the limits are obeyed in clock time, and
//! the figures say how many clock minutes the pull would span against real Exact. `--real-time`
//! waits the real minutes instead.
//!
//! Memory: the sandbox (holding the generated books) and the server share this process, so the
//! bench prints the resident size before the server starts, then resets the peak
//! (`/proc/self/clear_refs`) and reads it (`VmHWM`) after the pull and after the reads.
//!
//! Run: `cargo run --release --example pull_bench [invoices] [--postgres URL] [--real-time]
//! [--gl-accounts N] [--transaction-lines N] [--issue-sizes]` (`--issue-sizes`: issue #10's
//! first-pull division, 10,000 invoices, 500 GL accounts, 20,000 transaction lines, some
//! invoices left unprocessed so that the ledger is that size)
//! (default the sync engine's benchmark division, issue #10: 10,000 invoices, 2,000 relations
//! (1,700 customers, 300 suppliers), the sandbox's chart of accounts, 1,000 purchase entries and
//! 100 journal entries; SQLite in a temporary folder; with `--postgres` use an empty database).
//! It prints figures and asserts nothing (it says when served data and books disagree). `RUST_LOG=ledgerline=debug` adds the
//! server's log (the budget's waits, each pull's counts). At 100,000 invoices the process needs
//! about 4 GB of memory, 0.85 GB of it the sandbox's generated books.

#[path = "bench_common/mod.rs"]
mod bench_common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ledgerline::app::{self, KeyPolicy};
use ledgerline::clock::Clock;
use ledgerline::config::ServerConfig;
use ledgerline::demo::TenantApi;
use ledgerline::sandbox::books::{Books, BooksConfig, DivisionSpec, EntitySet};
use ledgerline::sandbox::{self, ClockStart, Region, SandboxConfig, SandboxHandle, Seed};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use uuid::Uuid;

const DIVISION: i32 = 900_001;
const ADMIN_KEY: &str = "pull-bench-admin-key";
const MASTER_KEY_HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
/// Repetitions of each warm read.
const REPS: usize = 20;

struct Args {
    invoices: u32,
    postgres: Option<String>,
    real_time: bool,
    /// GL accounts in all (the chart plus extra ones); `None`: the chart alone.
    gl_accounts: Option<u32>,
    /// Transaction lines in the ledger; `None`: as the invoices make it.
    transaction_lines: Option<u32>,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        invoices: 10_000,
        postgres: None,
        real_time: false,
        gl_accounts: None,
        transaction_lines: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--postgres" => args.postgres = Some(it.next().context("--postgres needs a URL")?),
            "--real-time" => args.real_time = true,
            "--gl-accounts" => {
                args.gl_accounts = Some(it.next().context("--gl-accounts needs N")?.parse()?)
            }
            "--transaction-lines" => {
                args.transaction_lines =
                    Some(it.next().context("--transaction-lines needs N")?.parse()?)
            }
            // Issue #10's first-pull benchmark division.
            "--issue-sizes" => {
                args.invoices = 10_000;
                args.gl_accounts = Some(500);
                args.transaction_lines = Some(20_000);
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

/// The figures, printed as a table at the end.
#[derive(Default)]
struct Table(Vec<(String, String)>);

impl Table {
    fn add(&mut self, what: impl Into<String>, figure: impl Into<String>) {
        let (what, figure) = (what.into(), figure.into());
        println!("  {what}: {figure}");
        self.0.push((what, figure));
    }

    fn print(&self) {
        let width = self
            .0
            .iter()
            .map(|(w, _)| w.chars().count())
            .max()
            .unwrap_or(0);
        println!("\n| {:width$} | figure |", "what");
        println!("|{}|--------|", "-".repeat(width + 2));
        for (what, figure) in &self.0 {
            println!("| {what:width$} | {figure} |");
        }
    }
}

/// A `/proc/self/status` field in KiB (`VmRSS`, `VmHWM`).
fn proc_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
}

/// Resets the process's peak resident size to the current one (Linux `clear_refs` 5).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn ms(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}

fn p50_p95(mut times: Vec<Duration>) -> String {
    times.sort();
    let n = times.len();
    let p95 = times[(n * 95).div_ceil(100).max(1) - 1];
    format!("p50 {} / p95 {} (n={n})", ms(times[n / 2]), ms(p95))
}

/// Moves the sandbox's and Ledgerline's clocks to the next whole minute each time the division
/// has made a minute's worth of calls, so the 60/minute limit costs no real waiting.
struct Warp {
    stop: Arc<AtomicBool>,
    jumps: Arc<AtomicU64>,
    jumped_secs: Arc<AtomicU64>,
}

impl Warp {
    fn start(
        http: reqwest::Client,
        sandbox: &SandboxHandle,
        clock: Clock,
        client_id: String,
        per_minute: u64,
    ) -> Warp {
        let warp = Warp {
            stop: Arc::default(),
            jumps: Arc::default(),
            jumped_secs: Arc::default(),
        };
        let (stop, jumps, jumped_secs) = (
            warp.stop.clone(),
            warp.jumps.clone(),
            warp.jumped_secs.clone(),
        );
        let admin = sandbox.admin_url();
        tokio::spawn(async move {
            let mut counted = 0u64;
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let Ok(stats) =
                    bench_common::get_json(&http, admin.join("stats").unwrap().as_str()).await
                else {
                    continue;
                };
                let calls = division_calls(&stats, &client_id);
                // Ledgerline's budget stops the division at `per_minute` calls in a clock minute:
                // once that many were made since the last jump, it is waiting (or soon will be).
                if calls < counted + per_minute {
                    continue;
                }
                let Ok(now) =
                    bench_common::get_json(&http, admin.join("clock").unwrap().as_str()).await
                else {
                    continue;
                };
                let now = now["now_ms"].as_i64().unwrap_or_default();
                let to_next_minute = 60_000 - now.rem_euclid(60_000);
                let secs = (to_next_minute as u64).div_ceil(1000) + 1;
                // The sandbox first: Ledgerline must not call into a window the sandbox has not
                // opened yet (that would earn a 429).
                let moved = http
                    .post(admin.join("clock/advance").unwrap())
                    .json(&json!({"seconds": secs}))
                    .send()
                    .await;
                if moved.is_ok_and(|r| r.status().is_success()) {
                    clock.advance(Duration::from_secs(secs));
                    jumps.fetch_add(1, Ordering::Relaxed);
                    jumped_secs.fetch_add(secs, Ordering::Relaxed);
                    counted = calls;
                }
            }
        });
        warp
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    fn summary(&self) -> (u64, u64) {
        (
            self.jumps.load(Ordering::Relaxed),
            self.jumped_secs.load(Ordering::Relaxed),
        )
    }
}

/// The sandbox's count of data calls our app made to the bench division.
fn division_calls(stats: &Value, client_id: &str) -> u64 {
    stats["regions"]["nl"]["apps"][client_id]["divisions"][DIVISION.to_string()]["calls_total"]
        .as_u64()
        .unwrap_or(0)
}

/// Timed reads through our API, as the tenant.
trait TimedReads {
    async fn timed(&self, path: &str) -> anyhow::Result<(Duration, Body)>;
    async fn repeat(
        &self,
        reps: usize,
        path: impl Fn(usize) -> String,
    ) -> anyhow::Result<(Vec<Duration>, usize)>;
}

impl TimedReads for TenantApi {
    /// One timed GET; returns the time to the whole body and the body.
    async fn timed(&self, path: &str) -> anyhow::Result<(Duration, Body)> {
        let started = Instant::now();
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        let elapsed = started.elapsed();
        if !status.is_success() {
            bail!(
                "GET {path} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok((elapsed, Body(body.to_vec())))
    }

    /// `reps` timed GETs of the paths `path(i)`.
    async fn repeat(
        &self,
        reps: usize,
        path: impl Fn(usize) -> String,
    ) -> anyhow::Result<(Vec<Duration>, usize)> {
        let mut times = Vec::with_capacity(reps);
        let mut bytes = 0;
        for i in 0..reps {
            let (t, body) = self.timed(&path(i)).await?;
            times.push(t);
            bytes = body.0.len();
        }
        Ok((times, bytes))
    }
}

/// A response body.
struct Body(Vec<u8>);

impl Body {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.0).unwrap_or_default()
    }
}

/// The sandbox's count of calls per endpoint our app made to the bench division.
fn endpoint_calls(stats: &Value, client_id: &str) -> BTreeMap<String, u64> {
    stats["regions"]["nl"]["apps"][client_id]["divisions"][DIVISION.to_string()]
        ["calls_by_endpoint"]
        .as_object()
        .map(|calls| {
            calls
                .iter()
                .map(|(endpoint, n)| (endpoint.clone(), n.as_u64().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

/// Each endpoint's calls against issue #10's bound for a first pull, ⌈rows/1000⌉ + 5, with the
/// rows the books hold (endpoints of no entity set count as 1 row), and whether all are within.
fn within_bound(calls: &BTreeMap<String, u64>, summary: &Value) -> String {
    let set_of = |endpoint: &str| match endpoint {
        "sync/Financial/TransactionLines" => Some("TransactionLines"),
        "sync/SalesInvoice/SalesInvoices" => Some("SyncSalesInvoices"),
        "sync/CRM/Accounts" => Some("Accounts"),
        "sync/CRM/Contacts" => Some("Contacts"),
        "sync/Financial/GLAccounts" => Some("GLAccounts"),
        "sync/Cashflow/PaymentTerms" => Some("PaymentTerms"),
        "read/financial/ReceivablesList" => Some("ReceivablesList"),
        "read/financial/PayablesList" => Some("PayablesList"),
        "vat/VATCodes" => Some("VATCodes"),
        _ => None,
    };
    let mut all_within = true;
    let mut parts: Vec<String> = calls
        .iter()
        .map(|(endpoint, n)| {
            let rows = set_of(endpoint)
                .and_then(|set| summary["counts"][set].as_u64())
                .unwrap_or(1);
            let bound = rows.div_ceil(1000) + 5;
            all_within &= *n <= bound;
            format!("{endpoint} {n}/{bound} ({rows})")
        })
        .collect();
    parts.push(if all_within {
        "all within".into()
    } else {
        "NOT all within".into()
    });
    parts.join(", ")
}

/// `after − before` per endpoint, as `endpoint n` pairs, most calls first.
fn calls_between(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> String {
    let mut calls: Vec<(u64, &str)> = after
        .iter()
        .map(|(endpoint, n)| {
            (
                n - before.get(endpoint).copied().unwrap_or(0),
                endpoint.as_str(),
            )
        })
        .filter(|(n, _)| *n > 0)
        .collect();
    calls.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    calls
        .iter()
        .map(|(n, endpoint)| format!("{endpoint} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Waits for a pull to leave the running states; returns it.
async fn wait_for(
    state: &app::AppState,
    company: Uuid,
    pull: Uuid,
) -> anyhow::Result<ledgerline::store::PullOperationRow> {
    loop {
        let row = state.store.get_pull_operation(company, pull).await?;
        if !matches!(row.status.as_str(), "Queued" | "Fetching" | "Mapping") {
            if row.status != "Complete" {
                bail!(
                    "the pull ended {}: {}",
                    row.status,
                    row.error_message.unwrap_or_default()
                );
            }
            return Ok(row);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// What the stored records weigh: their count, and the invoices' JSON bytes and count.
async fn record_weights(pool: &sqlx::AnyPool) -> anyhow::Result<(i64, i64, i64)> {
    let records: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM records")
        .fetch_one(pool)
        .await?;
    let (invoices, json): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(LENGTH(data)), 0) AS BIGINT) FROM records \
         WHERE data_type = 'invoices'",
    )
    .fetch_one(pool)
    .await?;
    Ok((records, invoices, json))
}

/// The store's size: SQLite's files, or PostgreSQL's `records` table and database; and per
/// sales invoice of the books (`invoices`, credit notes included): the whole store's bytes over
/// them, since every data type's records grow with the invoices.
async fn store_size(
    database_url: &str,
    sqlite_file: &Path,
    invoices: u64,
) -> anyhow::Result<String> {
    let pool = sqlx::AnyPool::connect(database_url).await?;
    let (records, invoice_records, invoice_json) = record_weights(&pool).await?;
    let per_invoice = |bytes: u64| bytes as f64 / invoices.max(1) as f64;
    let weights = format!(
        "{records} records; an invoice's JSON {:.0} bytes on average",
        invoice_json as f64 / invoice_records.max(1) as f64
    );
    if database_url.starts_with("sqlite") {
        let wal = sqlite_file.with_extension("db-wal");
        let sizes = || (file_size(sqlite_file), file_size(&wal));
        let (main, log) = sizes();
        // What a pull leaves in the WAL is the figure; then a checkpoint, for the data's size.
        // The committing connection may be checkpointing already: then ask again.
        let mut checkpointed = false;
        for _ in 0..20 {
            let busy: i32 = sqlx::query_scalar("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&pool)
                .await?;
            if busy == 0 {
                checkpointed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let (after, _) = sizes();
        pool.close().await;
        return Ok(format!(
            "{:.1} MiB (ledgerline.db {:.1} MiB + WAL {:.1} MiB); after a checkpoint {:.1} MiB{}, \
             {:.0} bytes per invoice; {weights}",
            (main + log) as f64 / 1048576.0,
            main as f64 / 1048576.0,
            log as f64 / 1048576.0,
            after as f64 / 1048576.0,
            if checkpointed {
                ""
            } else {
                " (checkpoint stayed busy)"
            },
            per_invoice(after),
        ));
    }
    let table: i64 = sqlx::query_scalar("SELECT pg_total_relation_size('records')")
        .fetch_one(&pool)
        .await?;
    let database: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok(format!(
        "records table {:.1} MiB (pg_total_relation_size: with its indexes and TOAST), database \
         {:.1} MiB; {:.0} bytes per invoice (records table), {:.0} (database); {weights}",
        table as f64 / 1048576.0,
        database as f64 / 1048576.0,
        per_invoice(table as u64),
        per_invoice(database as u64),
    ))
}

/// Records of the company whose `modifiedDate` moved after `since` (Ledgerline clock ms).
async fn records_modified_after(
    database_url: &str,
    company: Uuid,
    since: i64,
) -> anyhow::Result<i64> {
    let pool = sqlx::AnyPool::connect(database_url).await?;
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM records WHERE company_id = $1 AND modified_at > $2",
    )
    .bind(company.to_string())
    .bind(since)
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    Ok(count)
}

/// Every invoice the company serves, page by page.
async fn all_invoices(api: &TenantApi, company: &str) -> anyhow::Result<Vec<Value>> {
    let mut all = Vec::new();
    for page in 1.. {
        let body = api
            .get(&format!(
                "/companies/{company}/data/invoices?page={page}&pageSize=5000"
            ))
            .await?;
        all.extend(body["results"].as_array().into_iter().flatten().cloned());
        if body["_links"].get("next").is_none() {
            break;
        }
    }
    Ok(all)
}

/// "equal", or how the served invoices (not deleted) differ from the books' summary.
fn compare_with_books(served: &[Value], books: &Value) -> String {
    use rust_decimal::Decimal;
    let decimal = |v: &Value| v.to_string().parse::<Decimal>().unwrap_or_default();
    let mut totals: BTreeMap<String, (u64, Decimal, Decimal)> = BTreeMap::new();
    for invoice in served.iter().filter(|i| i["metadata"]["isDeleted"] != true) {
        let t = totals
            .entry(invoice["currency"].as_str().unwrap_or_default().to_string())
            .or_default();
        t.0 += 1;
        t.1 += decimal(&invoice["totalAmount"]);
        t.2 += decimal(&invoice["amountDue"]);
    }
    let expected: BTreeMap<String, (u64, Decimal, Decimal)> = books
        .as_object()
        .into_iter()
        .flatten()
        .map(|(currency, e)| {
            (
                currency.clone(),
                (
                    e["count"].as_u64().unwrap_or(0),
                    decimal(&e["amount_fc"]),
                    decimal(&e["unpaid_fc"]),
                ),
            )
        })
        .collect();
    if totals == expected {
        format!(
            "equal ({} invoices)",
            totals.values().map(|t| t.0).sum::<u64>()
        )
    } else {
        format!("DIFFERENT: served {totals:?}, books {expected:?}")
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    bench_common::quiet_logs();
    let mut table = Table::default();
    let http = bench_common::http_client(Duration::from_secs(600))?;

    // The sandbox, with Exact's real limits.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut seed = Seed::demo();
    seed.redirect_apps_to(&base);
    let app = bench_common::demo_nl_app(&seed)?;
    let spec = DivisionSpec {
        code: DIVISION,
        region: Region::Nl,
        description: "Bench B.V.".into(),
        customers: 1_700,
        suppliers: 300,
        sales_invoices: args.invoices,
        purchase_entries: 1_000,
        journal_entries: 100,
        extra_gl_accounts: 0,
        transaction_lines: args.transaction_lines,
    };
    // The region's chart alone (no documents), to make up the GL accounts asked for.
    let chart = Books::generate(&BooksConfig {
        seed: 1,
        divisions: vec![DivisionSpec {
            customers: 0,
            suppliers: 0,
            sales_invoices: 0,
            purchase_entries: 0,
            journal_entries: 0,
            transaction_lines: None,
            ..spec.clone()
        }],
    })
    .table(DIVISION, EntitySet::GLAccounts)
    .map_or(0, |t| t.len() as u32);
    let books = BooksConfig {
        seed: 1,
        divisions: vec![DivisionSpec {
            extra_gl_accounts: args.gl_accounts.map_or(0, |n| n.saturating_sub(chart)),
            ..spec
        }],
    };
    println!(
        "pull_bench: {} invoices, {}, limits {} calls/minute and {} calls/day",
        args.invoices,
        if args.real_time {
            "real time (waits the real minutes)"
        } else {
            "clock warp (both clocks jump to the next minute when a minute's calls are spent)"
        },
        app.minutely_limit,
        app.daily_limit
    );
    let started = Instant::now();
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
    let summary = bench_common::get_json(
        &http,
        admin
            .join(&format!("books/nl/{DIVISION}/summary"))?
            .as_str(),
    )
    .await?;
    let sync_rows = summary["counts"]["SyncSalesInvoices"].as_u64().unwrap_or(0);
    let receivables = summary["counts"]["ReceivablesList"].as_u64().unwrap_or(0);
    let count = |set: &str| summary["counts"][set].as_u64().unwrap_or(0);
    println!("sandbox:");
    table.add("sandbox books generated", ms(started.elapsed()));
    table.add(
        "sandbox rows (sync invoice lines / receivables)",
        format!("{sync_rows} / {receivables}"),
    );
    table.add(
        "sandbox division: invoices / relations / GL accounts / transaction lines",
        format!(
            "{} / {} / {} / {}",
            count("SalesInvoices"),
            count("Accounts"),
            count("GLAccounts"),
            count("TransactionLines")
        ),
    );
    let rss_before_server = proc_kib("VmRSS");
    table.add(
        "RSS before the server (sandbox + books)",
        mib(rss_before_server),
    );

    // The server.
    let dir = tempfile::tempdir()?;
    let sqlite_file = dir.path().join("ledgerline.db");
    let database_url = args
        .postgres
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", sqlite_file.display()));
    let mut config = ServerConfig::for_data_dir(dir.path());
    config.database_url = Some(database_url.clone());
    config.admin_key = Some(ADMIN_KEY.into());
    config.master_key = Some(MASTER_KEY_HEX.into());
    config.upstream_urls = sandbox.upstream_urls();
    let (state, _) =
        app::build_state(&config, url::Url::parse(&base)?, KeyPolicy::Required).await?;
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::serve(listener, state.clone(), async move {
        let _ = stopped.await;
    }));
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
        .company_with_connection("Bench B.V.", "exact-online-nl")
        .await?;
    let company_id = Uuid::parse_str(&company)?;

    let warp = (!args.real_time).then(|| {
        Warp::start(
            http.clone(),
            &sandbox,
            state.clock.clone(),
            app.client_id.to_string(),
            u64::from(app.minutely_limit),
        )
    });
    // The idle server (and the sandbox holding its books), measured before the link: what the
    // pull's peak is compared with (issue #11: < 300 MiB above it at 100,000 invoices).
    let rss_idle = proc_kib("VmRSS");
    table.add(
        "RSS of the idle server (sandbox + books + server)",
        mib(rss_idle),
    );
    let peak_reset = reset_peak();

    // Link (the sandbox's consent shortcut); the first pull starts by itself.
    let started = Instant::now();
    api.link_in_sandbox(&connection, DIVISION).await?;
    let first = loop {
        let status = api.get(&format!("/companies/{company}/dataStatus")).await?;
        if let Some(id) = status["invoices"]["latestSyncId"].as_str() {
            break Uuid::parse_str(id)?;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let first = wait_for(&state, company_id, first).await?;
    api.wait_for_every_data_type(&company).await?;
    let pull_wall = started.elapsed();
    let stats = bench_common::get_json(&http, admin.join("stats")?.as_str()).await?;
    let link_endpoints = endpoint_calls(&stats, &app.client_id.to_string());
    let sandbox_calls = division_calls(&stats, &app.client_id.to_string());
    let division_stats = &stats["regions"]["nl"]["apps"][app.client_id.to_string()]["divisions"]
        [DIVISION.to_string()];
    let calls = first.upstream_calls.unwrap_or_default();
    let invoices = first.records.unwrap_or_default();
    println!("first pull:");
    table.add("first pull: wall time (link → Complete)", ms(pull_wall));
    table.add(
        "first pull: clock time (requested → completed)",
        ms(Duration::from_millis(
            (first.completed_at.unwrap_or_default() - first.requested_at).max(0) as u64,
        )),
    );
    if let Some(warp) = &warp {
        let (jumps, secs) = warp.summary();
        table.add(
            "first pull: clock jumps (warp)",
            format!("{jumps} jumps, {secs} s skipped"),
        );
    }
    table.add(
        "first pull: upstream calls (the invoices' count / sandbox, division, every data type)",
        format!("{calls} / {sandbox_calls}"),
    );
    table.add(
        "first pull of every data type: calls per endpoint (sandbox, link included)",
        calls_between(&BTreeMap::new(), &link_endpoints),
    );
    table.add(
        "first pull: calls per endpoint / ⌈rows/1000⌉ + 5 (rows)",
        within_bound(&link_endpoints, &summary),
    );
    table.add(
        "first pull: at 60/minute, at least",
        format!(
            "{:.1} clock minutes; {:.1} % of the 5,000/day",
            calls as f64 / 60.0,
            calls as f64 / 50.0
        ),
    );
    table.add(
        "first pull: max calls in a minute / 429s (sandbox)",
        format!(
            "{} / {}",
            division_stats["max_calls_in_a_minute"], division_stats["rate_limited"]
        ),
    );
    table.add(
        "first pull: rows / invoices stored",
        format!("{sync_rows} / {invoices}"),
    );
    table.add(
        "first pull: calls per 1,000 sync rows",
        format!("{:.2}", calls as f64 * 1000.0 / sync_rows.max(1) as f64),
    );
    table.add(
        "store size after the first pull",
        store_size(&database_url, &sqlite_file, count("SalesInvoices")).await?,
    );
    table.add(
        if peak_reset {
            "peak RSS during link + pull (VmHWM)"
        } else {
            "peak RSS since start (VmHWM; could not reset)"
        },
        mib(proc_kib("VmHWM")),
    );
    table.add(
        "  above the idle server (the pull, and the sandbox serving its pages)",
        mib(proc_kib("VmHWM")
            .zip(rss_idle)
            .map(|(peak, idle)| peak.saturating_sub(idle))),
    );
    table.add(
        "  of which above the sandbox's (server + the sandbox serving the pages)",
        mib(proc_kib("VmHWM")
            .zip(rss_before_server)
            .map(|(peak, before)| peak.saturating_sub(before))),
    );
    table.add("RSS after the pull", mib(proc_kib("VmRSS")));

    // Reads.
    println!("reads:");
    let peak_reset = reset_peak();
    let list = format!("/companies/{company}/data/invoices");
    let (cold, body) = api.timed(&format!("{list}?page=1&pageSize=100")).await?;
    let total = body.json()["totalResults"].as_u64().unwrap_or(0) as usize;
    table.add(
        "read: first page, cold (read from the store by its primary key)",
        ms(cold),
    );
    table.add("RSS after the cold read", mib(proc_kib("VmRSS")));
    let (times, bytes) = api
        .repeat(REPS, |_| format!("{list}?page=1&pageSize=100"))
        .await?;
    table.add(
        format!("read: page 1 of 100, warm ({} KiB)", bytes / 1024),
        p50_p95(times),
    );
    let big_pages = total.div_ceil(5000).clamp(1, 3);
    let (times, bytes) = api
        .repeat(REPS, |i| {
            format!("{list}?page={}&pageSize=5000", i % big_pages + 1)
        })
        .await?;
    table.add(
        format!("read: a page of 5000, warm ({} KiB)", bytes / 1024),
        p50_p95(times),
    );
    let deep = total.div_ceil(100).max(1);
    let (times, _) = api
        .repeat(REPS, |i| {
            format!("{list}?page={}&pageSize=100", deep.saturating_sub(i).max(1))
        })
        .await?;
    table.add(
        format!("read: deep pages of 100 (from page {deep} back)"),
        p50_p95(times),
    );
    let (_, body) = api
        .timed(&format!("{list}?page={}&pageSize=100", (deep / 2).max(1)))
        .await?;
    let ids: Vec<String> = body.json()["results"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|r| r["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if !ids.is_empty() {
        let (times, _) = api
            .repeat(REPS, |i| format!("{list}/{}", ids[i % ids.len()]))
            .await?;
        table.add("read: GET one invoice by id", p50_p95(times));
    }
    let due = "query=amountDue%20%3E%200";
    let (cold, body) = api
        .timed(&format!("{list}?{due}&page=1&pageSize=100"))
        .await?;
    let due_total = body.json()["totalResults"].as_u64().unwrap_or(0);
    table.add(
        format!(
            "read: query=amountDue > 0, page 1, cold ({due_total} match; reads the queried fields as columns)"
        ),
        ms(cold),
    );
    table.add("RSS after the first query", mib(proc_kib("VmRSS")));
    let (times, _) = api
        .repeat(REPS, |i| {
            format!("{list}?{due}&page={}&pageSize=100", i + 2)
        })
        .await?;
    table.add(
        "read: query=amountDue > 0, next pages (selection remembered)",
        p50_p95(times),
    );
    let (cold, body) = api
        .timed(&format!(
            "{list}?query=totalAmount%20%3E%20500&page=1&pageSize=100"
        ))
        .await?;
    table.add(
        format!(
            "read: another query (totalAmount > 500, {} match), page 1, its column read",
            body.json()["totalResults"]
        ),
        ms(cold),
    );
    let order = "orderBy=-issueDate";
    let (cold, _) = api
        .timed(&format!("{list}?{order}&page=1&pageSize=100"))
        .await?;
    table.add(
        "read: orderBy=-issueDate, page 1, first ask (sorts)",
        ms(cold),
    );
    let (times, _) = api
        .repeat(REPS, |i| {
            format!("{list}?{order}&page={}&pageSize=100", i + 2)
        })
        .await?;
    table.add("read: orderBy=-issueDate, next pages", p50_p95(times));
    table.add(
        if peak_reset {
            "peak RSS during the reads (VmHWM)"
        } else {
            "peak RSS since start (VmHWM; could not reset)"
        },
        mib(proc_kib("VmHWM")),
    );
    table.add("RSS after the reads", mib(proc_kib("VmRSS")));

    // A second pull, nothing changed upstream.
    println!("second pull:");
    let warp_before = warp.as_ref().map(Warp::summary);
    let version = |datasets: Vec<ledgerline::store::DatasetRow>| {
        datasets
            .iter()
            .filter(|d| d.data_type == "invoices")
            .map(|d| d.version)
            .sum::<i64>()
    };
    let version_before = version(state.store.datasets(company_id).await?);
    let sandbox_before = sandbox_calls;
    let started = Instant::now();
    let queued = api
        .send(
            reqwest::Method::POST,
            &format!("/companies/{company}/data/queue/invoices"),
            None,
        )
        .await?;
    let second = Uuid::parse_str(queued["id"].as_str().context("a pull id")?)?;
    let second = wait_for(&state, company_id, second).await?;
    let wall = started.elapsed();
    let stats = bench_common::get_json(&http, admin.join("stats")?.as_str()).await?;
    let invoices_endpoints = endpoint_calls(&stats, &app.client_id.to_string());
    // And every data type, nothing changed either.
    let everything_started = Instant::now();
    api.send(
        reqwest::Method::POST,
        &format!("/companies/{company}/data/all"),
        None,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    api.wait_for_every_data_type(&company).await?;
    let everything_wall = everything_started.elapsed();
    let everything_stats = bench_common::get_json(&http, admin.join("stats")?.as_str()).await?;
    table.add(
        "second pull of every data type (data/all), nothing changed: wall time",
        ms(everything_wall),
    );
    table.add(
        "  calls per endpoint (sandbox)",
        calls_between(
            &invoices_endpoints,
            &endpoint_calls(&everything_stats, &app.client_id.to_string()),
        ),
    );
    let sandbox_calls = division_calls(&stats, &app.client_id.to_string()) - sandbox_before;
    let version_after = version(state.store.datasets(company_id).await?);
    let changed =
        records_modified_after(&database_url, company_id, first.completed_at.unwrap_or(0)).await?;
    table.add("second pull: wall time", ms(wall));
    if let (Some(warp), Some((jumps_before, secs_before))) = (&warp, warp_before) {
        let (jumps, secs) = warp.summary();
        table.add(
            "second pull: clock jumps (warp)",
            format!(
                "{} jumps, {} s skipped",
                jumps - jumps_before,
                secs - secs_before
            ),
        );
    }
    table.add(
        "  the invoices' own second pull, calls per endpoint (sandbox)",
        calls_between(&link_endpoints, &invoices_endpoints),
    );
    table.add(
        "second pull of invoices: upstream calls (pull's count / sandbox)",
        format!(
            "{} / {sandbox_calls}",
            second.upstream_calls.unwrap_or_default()
        ),
    );
    table.add(
        "second pull: records seen / modified / dataset version",
        format!(
            "{} / {changed} / {version_before} → {version_after}",
            second.records.unwrap_or_default()
        ),
    );
    table.add("RSS after the second pull", mib(proc_kib("VmRSS")));
    table.add(
        "peak RSS since the reads began (VmHWM)",
        mib(proc_kib("VmHWM")),
    );
    let refreshes = &stats["regions"]["nl"]["apps"][app.client_id.to_string()]["refreshes"];
    table.add(
        "token refreshes accepted / refused too early (sandbox)",
        format!(
            "{} / {}",
            refreshes["accepted"], refreshes["refused_too_early"]
        ),
    );

    // The first pull, per data type (the link's pulls in data/history).
    let history = api
        .get(&format!(
            "/companies/{company}/data/history?page=1&pageSize=100"
        ))
        .await?;
    let mut first_pulls: BTreeMap<String, (i64, i64, String)> = BTreeMap::new();
    for pull in history["results"].as_array().into_iter().flatten() {
        let requested = pull["requested"].as_str().unwrap_or_default().to_string();
        let data_type = pull["dataType"].as_str().unwrap_or_default().to_string();
        let row = (
            pull["records"].as_i64().unwrap_or(0),
            pull["upstreamCalls"].as_i64().unwrap_or(0),
            requested.clone(),
        );
        // The earliest pull of each data type is the link's.
        if first_pulls.get(&data_type).is_none_or(|r| requested < r.2) {
            first_pulls.insert(data_type, row);
        }
    }
    table.add(
        "first pull per data type: records / upstream calls (a shared read counts once, on the data type it feeds first)",
        first_pulls
            .iter()
            .map(|(d, (records, calls, _))| format!("{d} {records} / {calls}"))
            .collect::<Vec<_>>()
            .join(", "),
    );

    // Changes in the books: 50 invoices changed, 10 paid in full, 5 deleted; then a pull of
    // everything.
    println!("after changes:");
    let served = all_invoices(&api, &company).await?;
    let mut changed_ids = served.iter().filter_map(|i| i["id"].as_str());
    let books_path = |tail: &str| {
        admin
            .join(&format!("books/nl/{DIVISION}/{tail}"))
            .map(|u| u.to_string())
    };
    for id in changed_ids.by_ref().take(50) {
        let url = books_path(&format!("SalesInvoices/guid'{id}'"))?;
        let response = http
            .patch(&url)
            .json(&json!({"Description": "Changed for pull_bench"}))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("PATCH {url}: {}", response.text().await?);
        }
    }
    // Paid in full: open invoices the books can take a payment on (Exact pays processed ones).
    let mut unpaid: Vec<(String, f64)> = Vec::new();
    let open = served.iter().skip(50).filter(|i| {
        matches!(i["status"].as_str(), Some("Submitted" | "PartiallyPaid"))
            && i["amountDue"].as_f64().unwrap_or(0.0) > 0.0
    });
    for invoice in open {
        if unpaid.len() == 10 {
            break;
        }
        let id = invoice["id"].as_str().unwrap_or_default().to_string();
        let due = invoice["amountDue"].as_f64().unwrap_or(0.0);
        let url = books_path(&format!("SalesInvoices/guid'{id}'/payments"))?;
        let response = http.post(&url).json(&json!({"amount": due})).send().await?;
        if response.status().is_success() {
            unpaid.push((id, due));
        }
    }
    let paid: Vec<&str> = unpaid.iter().map(|(id, _)| id.as_str()).collect();
    let deleted: Vec<String> = served
        .iter()
        .skip(50)
        .filter_map(|i| i["id"].as_str())
        .filter(|id| !paid.contains(id))
        .take(5)
        .map(str::to_string)
        .collect();
    for id in &deleted {
        let url = books_path(&format!("SalesInvoices/guid'{id}'"))?;
        let response = http.delete(&url).send().await?;
        if !response.status().is_success() {
            bail!("DELETE {url}: {}", response.text().await?);
        }
    }
    let before_changes = endpoint_calls(&everything_stats, &app.client_id.to_string());
    let started = Instant::now();
    api.send(
        reqwest::Method::POST,
        &format!("/companies/{company}/data/all"),
        None,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    api.wait_for_every_data_type(&company).await?;
    let changes_wall = started.elapsed();
    let stats = bench_common::get_json(&http, admin.join("stats")?.as_str()).await?;
    table.add(
        format!(
            "pull of every data type after 50 invoices changed, {} paid, {} deleted: wall time",
            unpaid.len(),
            deleted.len()
        ),
        ms(changes_wall),
    );
    table.add(
        "  calls per endpoint (sandbox)",
        calls_between(
            &before_changes,
            &endpoint_calls(&stats, &app.client_id.to_string()),
        ),
    );
    let summary = bench_common::get_json(
        &http,
        admin
            .join(&format!("books/nl/{DIVISION}/summary"))?
            .as_str(),
    )
    .await?;
    let served = all_invoices(&api, &company).await?;
    table.add(
        "  served invoices vs the books (count, total, amount due per currency)",
        compare_with_books(&served, &summary["invoices"]),
    );

    if let Some(warp) = &warp {
        warp.stop();
    }
    table.print();
    let _ = stop_server.send(());
    let _ = server.await;
    sandbox.shutdown().await;
    Ok(())
}
