//! Codat's official SDKs against a running Ledgerline: the compatibility contract. The Python
//! SDKs (`codat-platform`, `codat-accounting`) and the npm ones (`@codat/accounting`,
//! `@codat/platform`, whose zod models refuse a `null` Codat's schema does not allow) read every
//! response through their own models. The server and the Exact sandbox run in-process; the check
//! scripts in `tests/sdk/` drive the SDKs over real HTTP and exit non-zero on any failure.
//!
//! The Python comes from `LEDGERLINE_SDK_PYTHON` (set by `.ci/run`), else `.venv-sdk/bin/python`;
//! the npm SDK from `tests/sdk/js/node_modules` (`npm ci` there; `.ci/run` does it), run with the
//! `node` on the PATH. Without them a test is skipped with a message, or fails when `CI` is set.

#[path = "common/mod.rs"]
mod common;
#[path = "connections/world.rs"]
mod world;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use world::World;

const INSTALL_HINT: &str = "python3 -m venv .venv-sdk && .venv-sdk/bin/pip install -r tests/sdk/requirements.txt \
     (or run .ci/run, which does this), or set LEDGERLINE_SDK_PYTHON to a Python that has them";

/// The Python to run the SDKs with, or why there is none.
fn sdk_python(repo: &Path) -> Result<PathBuf, String> {
    if let Some(python) = std::env::var_os("LEDGERLINE_SDK_PYTHON") {
        let python = PathBuf::from(python);
        return if python.exists() {
            Ok(python)
        } else {
            Err(format!(
                "LEDGERLINE_SDK_PYTHON is {} but that file does not exist",
                python.display()
            ))
        };
    }
    let venv = repo.join(".venv-sdk/bin/python");
    if venv.exists() {
        return Ok(venv);
    }
    Err(format!(
        "no Python with Codat's SDKs: LEDGERLINE_SDK_PYTHON is unset and {} does not exist",
        venv.display()
    ))
}

/// Checks the SDKs import in that Python, so a half-made venv says so plainly.
async fn sdks_importable(python: &Path) -> Result<(), String> {
    let output = tokio::process::Command::new(python)
        .args(["-c", "import codat_platform, codat_accounting"])
        .output()
        .await
        .map_err(|e| format!("{} does not run: {e}", python.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} cannot import codat_platform/codat_accounting:\n{}",
            python.display(),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// A missing SDK skips its test with a message; under CI (`CI` set) it fails instead.
fn skip_unless_ci(test: &str, why: &str, install: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{why}.\nCI must run {test}. Install: {install}");
    }
    // Straight to stderr: the test harness hides `eprintln!` of a passing test.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test} (tests/sdk.rs): {why}.\nInstall: {install}"
    );
}

/// The world the SDK checks read: an NL and a UK company linked with invoices pulled, and one
/// never pulled.
struct Companies {
    world: World,
    nl: String,
    uk: String,
    unpulled: String,
}

impl Companies {
    async fn start() -> Companies {
        let world = World::start().await;
        let nl = world
            .linked_and_pulled("Acme BV", "exact-online-nl", "101001")
            .await;
        let uk = world
            .linked_and_pulled("Acme Ltd", "exact-online-uk", "201001")
            .await;
        let unpulled = world.company("Not linked yet").await;
        Companies {
            world,
            nl,
            uk,
            unpulled,
        }
    }
}

/// Runs one check script (`tests/sdk/{script}`) with `program` (a Python, or node); panics with
/// its whole output unless it exits 0.
async fn run_script(program: &Path, script: &str, args: &[String]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sdk")
        .join(script);
    let dir = path
        .parent()
        .expect("scripts live in a folder")
        .to_path_buf();
    let output = tokio::process::Command::new(program)
        .arg(&path)
        .args(args)
        .current_dir(&dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .unwrap_or_else(|_| panic!("{script} did not finish within 120 s"))
        .unwrap_or_else(|e| panic!("{script} does not start: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Shown with --nocapture, and by the test harness when the test fails.
    println!("{stdout}");
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codat_python_sdks_read_every_response() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = match sdk_python(repo) {
        Ok(python) => match sdks_importable(&python).await {
            Ok(()) => python,
            Err(why) => panic!("{why}\nInstall them: {INSTALL_HINT}"),
        },
        Err(why) => return skip_unless_ci("the Codat Python SDK test", &why, INSTALL_HINT),
    };

    let Companies {
        world,
        nl,
        uk,
        unpulled,
    } = Companies::start().await;

    let common = vec![
        "--url".to_string(),
        world.server.base.clone(),
        "--key".to_string(),
        world.key.clone(),
    ];

    let mut platform = common.clone();
    platform.extend(["--linked".into(), nl.clone(), "--linked".into(), uk.clone()]);
    platform.push("--invoices".into());
    run_script(&python, "check_platform.py", &platform).await;

    let mut accounting = common;
    accounting.extend(["--unpulled".into(), unpulled]);
    accounting.extend(["--pulled".into(), nl, "--pulled".into(), uk]);
    accounting.push("--invoices".into());
    accounting.push("--accounts".into());
    run_script(&python, "check_accounting.py", &accounting).await;
}

const JS_INSTALL_HINT: &str =
    "install Node.js, then `npm ci` in tests/sdk/js (or run .ci/run, which does this)";

/// Why an npm SDK (`@codat/{package}`) cannot run here, if it cannot.
async fn js_sdk_missing(repo: &Path, package: &str) -> Option<String> {
    let node = tokio::process::Command::new("node")
        .arg("--version")
        .output()
        .await;
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("there is no `node` on the PATH".into());
    }
    let sdk = repo.join("tests/sdk/js/node_modules/@codat").join(package);
    (!sdk.exists()).then(|| format!("{} does not exist", sdk.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codat_npm_sdk_reads_invoices() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(why) = js_sdk_missing(repo, "accounting").await {
        return skip_unless_ci("the Codat npm SDK test", &why, JS_INSTALL_HINT);
    }

    let Companies {
        world,
        nl,
        uk,
        unpulled,
    } = Companies::start().await;
    let args = [
        "--url",
        &world.server.base,
        "--key",
        &world.key,
        "--unpulled",
        &unpulled,
        "--pulled",
        &nl,
        "--pulled",
        &uk,
    ]
    .map(String::from);
    run_script(Path::new("node"), "js/check_accounting.js", &args).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codat_npm_platform_sdk_reads_every_platform_answer() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(why) = js_sdk_missing(repo, "platform").await {
        return skip_unless_ci("the Codat npm platform SDK test", &why, JS_INSTALL_HINT);
    }
    let world = World::start().await;
    let linked = world
        .linked_and_pulled("Acme BV", "exact-online-nl", "101001")
        .await;
    // A company whose only connection waits for the end customer: `PendingAuth`.
    let unpulled = world.company("Not linked yet").await;
    world.connection(&unpulled, "exact-online-nl").await;
    let args = [
        "--url",
        &world.server.base,
        "--key",
        &world.key,
        "--linked",
        &linked,
        "--unpulled",
        &unpulled,
    ]
    .map(String::from);
    run_script(Path::new("node"), "js/check_platform.js", &args).await;
}
