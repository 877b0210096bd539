//! The README's curl walk-through, run as written against `ledgerline demo`, and a restart of
//! the demo on the same data folder that keeps what the walk-through linked working.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

use crate::process::{ledgerline, terminate};

/// The `sh` block under "Walk-through with curl" in README.md.
fn walk_through() -> String {
    let readme = include_str!("../../README.md");
    let section = &readme[readme
        .find("## Walk-through with curl")
        .expect("the README has its walk-through")..];
    let start = section.find("```sh\n").expect("a sh block") + "```sh\n".len();
    let end = start + section[start..].find("```").expect("the block ends");
    section[start..end].to_string()
}

/// Reads the demo's stdout until it says it is ready; returns what it printed.
async fn wait_until_ready(child: &mut Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.push(line.clone());
            if line.contains("Ledgerline demo is ready") {
                return;
            }
        }
        panic!("the demo exited before it was ready: {seen:?}");
    })
    .await
    .unwrap_or_else(|_| panic!("the demo is ready within 2 minutes: {seen:?}"));
    // Keep draining, so the demo never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    seen.join("\n")
}

/// Runs `script` in `dir` with bash, as a user pasting it would; panics with its output if it
/// fails or hangs.
async fn run_script(dir: &std::path::Path, script: &str) -> String {
    let output = tokio::time::timeout(
        Duration::from_secs(180),
        tokio::process::Command::new("bash")
            .args(["-e", "-c", script])
            .current_dir(dir)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the walk-through finishes within 3 minutes")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "the walk-through failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn the_readme_walk_through_works_verbatim_against_the_demo_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut first = ledgerline(&data, &["demo"])
        .current_dir(dir.path())
        .spawn()
        .unwrap();
    wait_until_ready(&mut first).await;

    // The block as written, then the values it set, for the restart below.
    let script = format!(
        "{}\necho; echo \"WALKED KEY=$KEY COMPANY=$COMPANY\"\n",
        walk_through()
    );
    let said = run_script(dir.path(), &script).await;
    let (key, company) = said
        .lines()
        .find_map(|l| l.strip_prefix("WALKED KEY="))
        .and_then(|rest| rest.split_once(" COMPANY="))
        .map(|(k, c)| (k.to_string(), c.to_string()))
        .expect("the walk-through set KEY and COMPANY");
    assert!(key.starts_with("ll_"), "KEY came from the answer: {said}");
    assert!(!company.is_empty(), "{said}");
    assert!(
        said.contains("\"key\":\"exact-online-nl\""),
        "step 2 lists the integrations: {said}"
    );
    assert!(
        said.contains("\"issueDate\""),
        "step 6 lists the company's invoices: {said}"
    );
    let client = reqwest::Client::new();
    let base = std::fs::read_to_string(data.join("demo.env"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("BASE=").map(String::from))
        .expect("demo.env names BASE");
    let invoices: Value = client
        .get(format!(
            "{base}/companies/{company}/data/invoices?pageSize=1"
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        invoices["totalResults"].as_u64().unwrap_or(0) > 0,
        "the linked company has invoices: {invoices}"
    );
    let (exit, _) = terminate(first).await;
    assert!(exit.success());

    // The same data folder again: the company the walk-through linked (which the demo does
    // not link again itself) is still Linked and pulls.
    let mut second = ledgerline(&data, &["demo"])
        .current_dir(dir.path())
        .spawn()
        .unwrap();
    wait_until_ready(&mut second).await;
    let env = std::fs::read_to_string(data.join("demo.env")).unwrap();
    let base = env
        .lines()
        .find_map(|l| l.strip_prefix("BASE="))
        .expect("demo.env names BASE")
        .to_string();
    let get = |path: String| {
        let request = client.get(format!("{base}{path}")).bearer_auth(&key);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let connections = get(format!("/companies/{company}/connections")).await;
    assert_eq!(
        connections["results"][0]["status"], "Linked",
        "{connections}"
    );
    let queued: Value = client
        .post(format!("{base}/companies/{company}/data/queue/invoices"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pull = queued["id"]
        .as_str()
        .expect("a pull was queued")
        .to_string();
    let mut status = Value::Null;
    for _ in 0..300 {
        let history = get(format!("/companies/{company}/data/history")).await;
        status = history["results"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["id"] == pull.as_str()))
            .map(|p| p["status"].clone())
            .unwrap_or(Value::Null);
        if status != "Queued" && status != "Fetching" && status != "Mapping" && !status.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "Complete", "the pull after the restart completed");
    let connections = get(format!("/companies/{company}/connections")).await;
    assert_eq!(
        connections["results"][0]["status"], "Linked",
        "{connections}"
    );
    terminate(second).await;
}
