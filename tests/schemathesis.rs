//! schemathesis, with every check, against a running Ledgerline: every operation, the tenant's
//! with a tenant key and the operator's with the admin key, must answer as our OpenAPI document
//! says (status codes, bodies, and the input rules: what the document allows is accepted, what it
//! refuses is refused). `tests/schemathesis/schemathesis.toml` holds the run's settings and says
//! why each one is there.
//!
//! schemathesis comes from `LEDGERLINE_SCHEMATHESIS` (set by `.ci/run`), else
//! `.venv-st/bin/schemathesis`. Without it the test is skipped with a message, or fails when `CI`
//! is set.

#[path = "common/mod.rs"]
mod common;
#[path = "connections/world.rs"]
mod world;

use std::io::Write;
use std::path::{Path, PathBuf};

use world::World;

const INSTALL: &str = "python3 -m venv .venv-st && .venv-st/bin/pip install -r \
                       tests/schemathesis/requirements.txt (or run .ci/run)";

fn schemathesis() -> Option<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("LEDGERLINE_SCHEMATHESIS")
        .map(PathBuf::from)
        .or_else(|| Some(repo.join(".venv-st/bin/schemathesis")))
        .filter(|path| path.exists())
}

/// Runs schemathesis over the operations of `tags` (`--include-tag`) or all but them
/// (`--exclude-tag`), authenticated with `key`; panics with its report unless it finds nothing.
async fn run(program: &Path, base: &str, key: &str, tag_filter: (&str, &str)) {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis/schemathesis.toml");
    let output = tokio::process::Command::new(program)
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{base}/openapi.json")])
        .args(["--checks", "all", "--max-examples", "15", "--seed", "1"])
        // A company schemathesis has just created has no linked connection, so queueing its
        // pulls answers 404 ("no linked connection"), the code Codat documents for that; this
        // check reads any 404 after a create as "the created resource is missing".
        .args(["--exclude-checks", "ensure_resource_availability"])
        .args(["--header", &format!("Authorization: Bearer {key}")])
        .args([tag_filter.0, tag_filter.1])
        .env("NO_COLOR", "1")
        // Its cache and reports go to a folder of the run's, not into the checkout.
        .current_dir(std::env::temp_dir())
        .kill_on_drop(true)
        .output()
        .await
        .expect("schemathesis runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schemathesis {} {} found problems:\n{report}",
        tag_filter.0,
        tag_filter.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_with_every_check() {
    let Some(program) = schemathesis() else {
        let why = "schemathesis is not installed";
        if std::env::var_os("CI").is_some() {
            panic!("{why}. Install: {INSTALL}");
        }
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED tests/schemathesis.rs: {why}. Install: {INSTALL}"
        );
        return;
    };
    let world = World::start().await;
    // A linked company with data, so the data operations have something to answer.
    world
        .linked_and_pulled("Acme BV", "exact-online-nl", "101001")
        .await;
    let base = &world.server.base;
    run(&program, base, &world.key, ("--exclude-tag", "Admin")).await;
    run(&program, base, world::ADMIN_KEY, ("--include-tag", "Admin")).await;
}
