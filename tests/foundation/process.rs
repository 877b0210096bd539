//! The real binary as an operator runs it: start-up rules, logs, graceful shutdown.

use std::process::Stdio;
use std::time::Duration;

use ledgerline::demo::TenantApi;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_ledgerline");
const MASTER: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

pub(crate) fn ledgerline(data_dir: &std::path::Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEDGERLINE_DATA_DIR", data_dir)
        .env("LEDGERLINE_BIND", "127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Reads stdout until the "listens on" line; returns the base URL and every line read.
async fn wait_for_listening(child: &mut Child) -> (String, Vec<String>) {
    let stdout = child.stdout.as_mut().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.push(line.clone());
            if let Some(rest) = line.strip_prefix("Ledgerline listens on ") {
                return rest
                    .split(' ')
                    .next()
                    .unwrap()
                    .trim_end_matches('/')
                    .to_string();
            }
        }
        panic!("the server exited before listening: {seen:?}");
    })
    .await
    .expect("the server starts within 30 s");
    (found, seen)
}

pub(crate) async fn terminate(mut child: Child) -> (std::process::ExitStatus, String) {
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("graceful shutdown finishes")
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    (exit, stderr)
}

#[tokio::test]
async fn serve_refuses_to_start_without_a_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = ledgerline(dir.path(), &["serve"]).output().await.unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("LEDGERLINE_MASTER_KEY"), "{said}");
    assert!(said.contains("ledgerline demo"), "{said}");
}

#[tokio::test]
async fn secrets_and_keys_never_reach_the_log_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let admin_key = "admin-key-for-the-log-test-77";
    let secret = "LogTestSecretValue9z9z";
    let mut child = ledgerline(dir.path(), &["serve"])
        .env("LEDGERLINE_MASTER_KEY", MASTER)
        .env("LEDGERLINE_ADMIN_KEY", admin_key)
        .env("RUST_LOG", "trace")
        .spawn()
        .unwrap();
    let (base, _) = wait_for_listening(&mut child).await;
    let client = reqwest::Client::new();
    let tenant: Value = client
        .post(format!("{base}/admin/tenants"))
        .bearer_auth(admin_key)
        .json(&json!({"name": "Acme"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api_key = tenant["apiKey"].as_str().unwrap().to_string();
    for body in [
        json!({"clientId": "1a2b3c4d-0000-4000-8000-0123456789ab", "clientSecret": secret}),
        json!({"clientId": "1a2b3c4d-0000-4000-8000-0123456789ab", "clientSecret": format!("{secret} ")}),
    ] {
        client
            .put(format!("{base}/settings/integrations/exact-online-nl"))
            .bearer_auth(&api_key)
            .json(&body)
            .send()
            .await
            .unwrap();
    }
    client
        .get(format!("{base}/settings/integrations"))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap();

    let (exit, log) = terminate(child).await;
    assert!(
        exit.success(),
        "SIGTERM ends the server cleanly: {exit:?}\n{log}"
    );
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.len() > 1000, "trace logging was on");
    for (what, value) in [
        ("client secret", secret),
        ("API key", &api_key),
        ("admin key", admin_key),
        ("master key", MASTER),
    ] {
        assert!(!log.contains(value), "the {what} reached the log");
    }
}

#[tokio::test]
async fn demo_mode_generates_keys_once_and_keeps_data_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = ledgerline(dir.path(), &["demo"]).spawn().unwrap();
    let (base, lines) = wait_for_listening(&mut first).await;
    let text = lines.join("\n");
    assert!(text.contains("generated a master key"), "{text}");
    let admin_key = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("ll_").map(|k| format!("ll_{k}")))
        .expect("the admin key is printed on first start");
    let client = reqwest::Client::new();
    let tenant: Value = client
        .post(format!("{base}/admin/tenants"))
        .bearer_auth(&admin_key)
        .json(&json!({"name": "Acme"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api_key = tenant["apiKey"].as_str().unwrap().to_string();
    let put = client
        .put(format!("{base}/settings/integrations/exact-online-uk"))
        .bearer_auth(&api_key)
        .json(&json!({"clientId": "1a2b3c4d-0000-4000-8000-0123456789ab", "clientSecret": "restart-secret-abcd", "enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let (exit, _) = terminate(first).await;
    assert!(exit.success());

    let mut second = ledgerline(dir.path(), &["demo"]).spawn().unwrap();
    let (base, lines) = wait_for_listening(&mut second).await;
    let text = lines.join("\n");
    assert!(!text.contains("generated a master key"), "{text}");
    assert!(
        !text.contains(&admin_key),
        "the admin key is shown only once"
    );
    let tenants = client
        .get(format!("{base}/admin/tenants"))
        .bearer_auth(&admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(tenants.status(), 200, "the generated admin key still works");
    let settings: Value = client
        .get(format!("{base}/settings/integrations/exact-online-uk"))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings["enabled"], true);
    assert_eq!(settings["clientSecretHint"], "••••abcd");
    terminate(second).await;
}

#[tokio::test]
async fn serve_refuses_to_start_with_another_master_key_than_the_databases() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = ledgerline(dir.path(), &["serve"])
        .env("LEDGERLINE_MASTER_KEY", MASTER)
        .env("LEDGERLINE_ADMIN_KEY", "admin-key-for-the-key-check")
        .spawn()
        .unwrap();
    let (base, _) = wait_for_listening(&mut first).await;
    // An answered request shows the server is serving (and handles SIGTERM).
    reqwest::get(format!("{base}/openapi.json")).await.unwrap();
    let (exit, log) = terminate(first).await;
    assert!(exit.success(), "{exit:?}\n{log}");

    let other = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
    let output = ledgerline(dir.path(), &["serve"])
        .env("LEDGERLINE_MASTER_KEY", other)
        .output()
        .await
        .unwrap();
    assert!(!output.status.success(), "a wrong key must not start");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("not the key this database was set up with") && said.contains("original key"),
        "{said}"
    );

    // The right key still starts.
    let mut again = ledgerline(dir.path(), &["serve"])
        .env("LEDGERLINE_MASTER_KEY", MASTER)
        .spawn()
        .unwrap();
    let (base, _) = wait_for_listening(&mut again).await;
    reqwest::get(format!("{base}/openapi.json")).await.unwrap();
    terminate(again).await;
}

/// SIGTERM while a refresh is in flight (a slow token endpoint): the process waits for the
/// rotated pair to be stored before it exits.
#[tokio::test]
async fn sigterm_waits_for_a_refresh_in_flight_to_be_stored() {
    use ledgerline::sandbox::{self, Region, SandboxConfig};

    let dir = tempfile::tempdir().unwrap();
    // A free port for the server, so the sandbox app's redirect URL can name it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut config = SandboxConfig::demo();
    config.seed.redirect_apps_to(&base);
    let sandbox = sandbox::spawn(
        config,
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await
    .unwrap();
    let admin_key = "admin-key-for-the-shutdown-test";
    let mut child = ledgerline(dir.path(), &["serve"])
        .env("LEDGERLINE_MASTER_KEY", MASTER)
        .env("LEDGERLINE_ADMIN_KEY", admin_key)
        .env("LEDGERLINE_BIND", format!("127.0.0.1:{port}"))
        .env(
            "LEDGERLINE_EXACT_NL_URL",
            sandbox.base_url(Region::Nl).as_str(),
        )
        .env("LEDGERLINE_SHUTDOWN_GRACE_SECS", "20")
        .spawn()
        .unwrap();
    wait_for_listening(&mut child).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let tenant: Value = http
        .post(format!("{base}/admin/tenants"))
        .bearer_auth(admin_key)
        .json(&json!({"name": "Acme"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = tenant["apiKey"].as_str().unwrap().to_string();
    // The tenant's side goes through the same client the demo uses.
    let api = TenantApi {
        http: http.clone(),
        base: base.clone(),
        key: key.clone(),
    };
    api.send(
        Method::PUT,
        "/settings/integrations/exact-online-nl",
        Some(json!({"clientId": "0f5a1c9e-7b1d-4c36-9a51-1e2d3c4b5a60",
                    "clientSecret": "demo-nl-secret", "enabled": true})),
    )
    .await
    .unwrap();
    let company = api
        .send(Method::POST, "/companies", Some(json!({"name": "Acme BV"})))
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let connection = api
        .send(
            Method::POST,
            &format!("/companies/{company}/connections"),
            Some(json!({"platformKey": "exact-online-nl"})),
        )
        .await
        .unwrap();
    api.link_in_sandbox(&connection, 101001).await.unwrap();
    let pull_status = || async {
        let status = api
            .get(&format!("/companies/{company}/dataStatus"))
            .await
            .unwrap();
        status["invoices"]["currentStatus"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    for _ in 0..300 {
        if pull_status().await == "Complete" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(pull_status().await, "Complete");

    // Make the tokens due: ten minutes pass at the sandbox, and the stored pair is ten minutes older.
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("ledgerline.db").display()
    ))
    .await
    .unwrap();
    sqlx::query(
        "UPDATE connection_tokens SET issued_at = issued_at - 600000, expires_at = expires_at - 600000",
    )
    .execute(&db)
    .await
    .unwrap();
    let generation = || async {
        sqlx::query_scalar::<_, i64>("SELECT generation FROM connection_tokens")
            .fetch_one(&db)
            .await
            .unwrap()
    };
    let before = generation().await;
    let admin = sandbox.admin_url();
    http.post(admin.join("clock/advance").unwrap())
        .json(&json!({"seconds": 600}))
        .send()
        .await
        .unwrap();
    http.post(admin.join("faults").unwrap())
        .json(&json!({"kind": "latency", "ms": 3000, "path": "oauth2/token"}))
        .send()
        .await
        .unwrap();
    let queued = http
        .post(format!("{base}/companies/{company}/data/queue/invoices"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), 200);
    tokio::time::sleep(Duration::from_millis(800)).await; // the refresh is in flight

    let stopping = std::time::Instant::now();
    let (exit, log) = terminate(child).await;
    let waited = stopping.elapsed();
    assert!(exit.success(), "{exit:?}\n{log}");
    assert!(
        waited >= Duration::from_millis(1500),
        "SIGTERM waited only {waited:?}\n{log}"
    );
    assert!(
        log.contains("waiting for token refreshes to be stored and pulls to finish"),
        "{log}"
    );
    assert_eq!(
        generation().await,
        before + 1,
        "the rotated pair is stored\n{log}"
    );
    let stats: Value = http
        .get(admin.join("stats").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refreshes =
        &stats["regions"]["nl"]["apps"]["0f5a1c9e-7b1d-4c36-9a51-1e2d3c4b5a60"]["refreshes"];
    assert_eq!(refreshes["accepted"], 1, "{stats}");
}

#[tokio::test]
async fn start_up_names_the_upstreams_and_warns_of_an_unusable_public_url_and_forged_states() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = ledgerline(dir.path(), &["serve"])
        .env("LEDGERLINE_MASTER_KEY", MASTER)
        .env("LEDGERLINE_ADMIN_KEY", "admin-key-for-the-start-up-test")
        .env("LEDGERLINE_BIND", "0.0.0.0:0")
        .env("LEDGERLINE_EXACT_NL_URL", "http://127.0.0.1:9/nl-elsewhere")
        .spawn()
        .unwrap();
    let (base, _) = wait_for_listening(&mut child).await;
    let client = reqwest::Client::new();
    let forged = client
        .get(format!("{base}/oauth/callback?code=abc&state=not-ours.sig"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    let ok = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let (_, log) = terminate(child).await;
    let line = |needle: &str| {
        log.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in {log}"))
            .to_string()
    };
    let nl = line("http://127.0.0.1:9/nl-elsewhere");
    assert!(
        nl.contains("upstream in force") && nl.contains("exact-online-nl"),
        "{nl}"
    );
    let uk = line("integration=exact-online-uk");
    assert!(uk.contains("upstream in force"), "{uk}");
    let unusable = line("without LEDGERLINE_PUBLIC_URL");
    assert!(unusable.contains("WARN"), "{unusable}");
    let state = line("state was not issued by this server");
    assert!(state.contains("WARN"), "{state}");
    assert!(
        !log.contains("not-ours"),
        "the state's value is never logged"
    );
    let request = line("route=/healthz");
    assert!(
        request.contains("INFO") && request.contains("status=200"),
        "{request}"
    );
}
