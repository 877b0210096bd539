//! When pulls run and how fresh reads say they are: Codat's sync settings (round trip and
//! validation), scheduled pulls as the clock moves, `fetchOnFirstLink`, the 409 while a first
//! pull runs, and the freshness headers on every data read.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::world::World;

const LAST_SYNC: &str = "ledgerline-last-sync";
const PULL_RUNNING: &str = "ledgerline-pull-running";

async fn post_settings(world: &World, body: Value) -> (u16, Value) {
    let response = world
        .api(Method::POST, "/profile/syncSettings")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn settings_of(world: &World, data_type: &str) -> Value {
    let all = world.get_json("/profile/syncSettings").await;
    all["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["dataType"] == data_type)
        .cloned()
        .unwrap_or_else(|| panic!("no setting for {data_type}: {all}"))
}

fn setting(data_type: &str, schedule: i64, fetch_on_first_link: bool) -> Value {
    json!({"dataType": data_type, "fetchOnFirstLink": fetch_on_first_link,
           "syncSchedule": schedule, "syncOrder": 0})
}

/// How many pulls of `data_type` the company's history holds.
async fn pulls_of(world: &World, company: &str, data_type: &str) -> Vec<Value> {
    let history = world
        .get_json(&format!("/companies/{company}/data/history?pageSize=1000"))
        .await;
    history["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["dataType"] == data_type)
        .cloned()
        .collect()
}

/// Waits until `data_type`'s latest pull is Complete; returns the company's dataStatus.
async fn wait_complete(world: &World, company: &str, data_type: &str) -> Value {
    for _ in 0..300 {
        let status = world
            .get_json(&format!("/companies/{company}/dataStatus"))
            .await;
        if status[data_type]["currentStatus"] == "Complete" {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the {data_type} pull did not complete");
}

/// A linked NL company, whatever its sync settings fetch on link.
async fn linked(world: &World, name: &str) -> String {
    let company = world.company(name).await;
    let connection = world.connection(&company, "exact-online-nl").await;
    let (status, page) = world.link(&connection, Some("101001")).await;
    assert_eq!(status, 200, "{page}");
    company
}

#[tokio::test]
async fn sync_settings_round_trip_and_refuse_invalid_fields_by_name() {
    let world = World::start().await;
    let defaults = world.get_json("/profile/syncSettings").await;
    assert_eq!(defaults["overridesDefaults"], false);
    let listed = defaults["settings"].as_array().unwrap();
    assert_eq!(listed.len(), ledgerline::model::DATASETS.len());
    for s in listed {
        assert_eq!(
            (&s["syncSchedule"], &s["fetchOnFirstLink"]),
            (&json!(24), &json!(true))
        );
    }
    let client_id = defaults["clientId"].clone();

    let mut invoices = setting("invoices", 6, false);
    invoices["syncFromUtc"] = json!("2020-01-01T12:00:00.000Z");
    invoices["monthsToSync"] = json!(12);
    let (status, _) = post_settings(
        &world,
        json!({"clientId": client_id, "settings": [invoices], "overridesDefaults": true}),
    )
    .await;
    assert_eq!(status, 204);
    let stored = settings_of(&world, "invoices").await;
    assert_eq!(stored["syncSchedule"], 6);
    assert_eq!(stored["fetchOnFirstLink"], false);
    assert_eq!(stored["syncFromUtc"], "2020-01-01T12:00:00Z");
    assert_eq!(stored["monthsToSync"], 12);
    assert_eq!(
        settings_of(&world, "customers").await["syncSchedule"],
        24,
        "others keep theirs"
    );
    assert_eq!(
        world.get_json("/profile/syncSettings").await["overridesDefaults"],
        true
    );

    // Each invalid field is named.
    for (bad, field) in [
        (setting("invoices", 0, true), "settings[0].syncSchedule"),
        (setting("bankFeeds", 24, true), "settings[0].dataType"),
        (
            json!({"dataType": "invoices", "syncSchedule": 24, "syncOrder": 0}),
            "settings[0].fetchOnFirstLink",
        ),
        (
            json!({"dataType": "invoices", "fetchOnFirstLink": true, "syncSchedule": 24, "syncOrder": 0,
                "syncFromUtc": "yesterday"}),
            "settings[0].syncFromUtc",
        ),
        (
            json!({"dataType": "invoices", "fetchOnFirstLink": true, "syncSchedule": 24, "syncOrder": 0,
                "syncFromWindow": null}),
            "settings[0].syncFromWindow",
        ),
        (
            json!({"dataType": "invoices", "fetchOnFirstLink": true, "syncSchedule": 2.5, "syncOrder": 0}),
            "settings[0].syncSchedule",
        ),
    ] {
        let (status, body) = post_settings(
            &world,
            json!({"clientId": client_id, "settings": [bad], "overridesDefaults": true}),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["validation"]["errors"][0]["itemId"], field, "{body}");
        assert!(body["error"].as_str().unwrap().contains(field), "{body}");
    }
    assert_eq!(
        settings_of(&world, "invoices").await["syncSchedule"],
        6,
        "a refused update changes nothing"
    );
    // A whole number written with a fraction is still one (JSON Schema's integers include it).
    let (status, body) = post_settings(
        &world,
        json!({"clientId": client_id, "overridesDefaults": true, "settings": [
            {"dataType": "invoices", "fetchOnFirstLink": false, "syncSchedule": 8.0, "syncOrder": 3.0}]}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(settings_of(&world, "invoices").await["syncSchedule"], 8);

    // overridesDefaults false puts every data type back to the defaults.
    let (status, _) = post_settings(
        &world,
        json!({"clientId": client_id, "settings": [], "overridesDefaults": false}),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(world.get_json("/profile/syncSettings").await, defaults);
}

/// `isLocked`: a locked setting changes only when the same request unlocks it
/// (`isLocked: false`); resending it unchanged is fine and keeps the lock, and going back to the
/// defaults is refused while a setting is locked. Refusals are 409s naming the field.
#[tokio::test]
async fn a_locked_setting_changes_only_when_the_request_unlocks_it() {
    let world = World::start().await;
    let client_id = world.get_json("/profile/syncSettings").await["clientId"].clone();
    let post = |settings: Value, overrides: bool| {
        let body =
            json!({"clientId": client_id, "settings": settings, "overridesDefaults": overrides});
        let world = &world;
        async move { post_settings(world, body).await }
    };
    let mut locked = setting("invoices", 6, true);
    locked["isLocked"] = json!(true);
    assert_eq!(post(json!([locked.clone()]), true).await.0, 204);
    assert_eq!(settings_of(&world, "invoices").await["isLocked"], true);

    // A change without unlocking: refused, naming the setting's isLocked; nothing changes,
    // not even the other data type posted beside it.
    let (status, body) = post(
        json!([setting("customers", 12, true), setting("invoices", 1, true)]),
        true,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["validation"]["errors"][0]["itemId"], "settings[1].isLocked",
        "{body}"
    );
    assert!(
        body["error"].as_str().unwrap().contains("invoices"),
        "{body}"
    );
    assert_eq!(settings_of(&world, "invoices").await["syncSchedule"], 6);
    assert_eq!(settings_of(&world, "customers").await["syncSchedule"], 24);
    // `isLocked: true` with a change is no unlock either.
    let mut relock = setting("invoices", 2, true);
    relock["isLocked"] = json!(true);
    assert_eq!(post(json!([relock]), true).await.0, 409);

    // The same values again, with or without isLocked: accepted, still locked.
    assert_eq!(
        post(json!([setting("invoices", 6, true)]), true).await.0,
        204
    );
    assert_eq!(settings_of(&world, "invoices").await["isLocked"], true);
    assert_eq!(post(json!([locked]), true).await.0, 204);

    // Back to the defaults while locked: refused, naming overridesDefaults.
    let (status, body) = post(json!([]), false).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["validation"]["errors"][0]["itemId"], "overridesDefaults",
        "{body}"
    );
    assert_eq!(settings_of(&world, "invoices").await["syncSchedule"], 6);

    // Unlocking in the same request changes it; then anything goes.
    let mut unlocked = setting("invoices", 1, false);
    unlocked["isLocked"] = json!(false);
    assert_eq!(post(json!([unlocked]), true).await.0, 204);
    let stored = settings_of(&world, "invoices").await;
    assert_eq!(
        (&stored["syncSchedule"], &stored["isLocked"]),
        (&json!(1), &json!(false))
    );
    assert_eq!(
        post(json!([setting("invoices", 3, true)]), true).await.0,
        204
    );
    assert_eq!(post(json!([]), false).await.0, 204);
    assert_eq!(settings_of(&world, "invoices").await["syncSchedule"], 24);
}

#[tokio::test]
async fn a_due_schedule_queues_a_pull_and_one_not_due_does_not() {
    let world = World::start().await;
    let client_id = world.get_json("/profile/syncSettings").await["clientId"].clone();
    let (status, _) = post_settings(
        &world,
        json!({"clientId": client_id, "settings": [setting("invoices", 2, true)]}),
    )
    .await;
    assert_eq!(status, 204);
    let company = world
        .linked_and_pulled("Scheduled BV", "exact-online-nl", "101001")
        .await;
    assert_eq!(pulls_of(&world, &company, "invoices").await.len(), 1);

    // An hour on: nothing is due (invoices every 2 hours, the rest daily).
    world.advance(3600).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        pulls_of(&world, &company, "invoices").await.len(),
        1,
        "not due yet"
    );

    // Past two hours: the invoices are pulled again, and only they.
    world.advance(3700).await;
    let mut second = vec![];
    for _ in 0..100 {
        second = pulls_of(&world, &company, "invoices").await;
        if second.len() == 2 && second[0]["status"] == "Complete" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(second.len(), 2, "the due invoices were queued: {second:?}");
    assert_eq!(second[0]["status"], "Complete", "{second:?}");
    assert!(
        second[0]["upstreamCalls"].as_i64().unwrap() > 0,
        "{second:?}"
    );
    // Nothing changed at Exact since the link: the scheduled pull is incremental and brings none.
    assert_eq!(second[0]["records"].as_i64(), Some(0), "{second:?}");
    assert_eq!(
        pulls_of(&world, &company, "customers").await.len(),
        1,
        "customers are due daily"
    );

    // A day on, everything is due.
    world.advance(24 * 3600).await;
    for _ in 0..100 {
        if pulls_of(&world, &company, "customers").await.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(pulls_of(&world, &company, "customers").await.len(), 2);
    world.wait_for_pull(&company).await;
}

#[tokio::test]
async fn fetch_on_first_link_false_leaves_the_data_type_to_its_schedule() {
    let world = World::start().await;
    let client_id = world.get_json("/profile/syncSettings").await["clientId"].clone();
    let (status, _) = post_settings(
        &world,
        json!({"clientId": client_id, "settings": [setting("invoices", 24, false)]}),
    )
    .await;
    assert_eq!(status, 204);
    let company = linked(&world, "Later BV").await;
    let status = wait_complete(&world, &company, "customers").await;
    wait_complete(&world, &company, "journalEntries").await;
    assert!(
        status.get("invoices").is_none(),
        "invoices were not queued on link: {status}"
    );
    assert!(pulls_of(&world, &company, "invoices").await.is_empty());
    let response = world
        .api(Method::GET, &format!("/companies/{company}/data/invoices"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(response.headers()[PULL_RUNNING], "false");
    assert!(response.headers().get(LAST_SYNC).is_none());
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("has not been pulled yet"),
        "{body}"
    );
    assert_eq!(body["canBeRetried"], "False");

    // Its schedule counts from the link: a day later it is pulled.
    world.advance(24 * 3600 + 60).await;
    wait_complete(&world, &company, "invoices").await;
}

#[tokio::test]
async fn a_read_during_the_first_pull_says_it_is_running_and_may_be_retried() {
    let world = World::start().await;
    // The invoices' endpoint answers slowly, so their first pull is still running when read.
    world
        .fault(json!({"kind": "latency", "ms": 3000, "path": "SalesInvoice", "count": 5}))
        .await;
    let company = linked(&world, "Busy BV").await;
    let response = world
        .api(Method::GET, &format!("/companies/{company}/data/invoices"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(response.headers()[PULL_RUNNING], "true");
    assert!(response.headers().get(LAST_SYNC).is_none());
    let body: Value = response.json().await.unwrap();
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("first pull of invoices is running"),
        "{body}"
    );
    assert!(!message.contains("queue it"), "{body}");
    assert_eq!(body["canBeRetried"], "True");
    world.wait_for_pull(&company).await;
}

#[tokio::test]
async fn every_data_read_says_when_its_data_was_pulled_and_whether_a_pull_runs() {
    let world = World::start().await;
    let company = world
        .linked_and_pulled("Fresh BV", "exact-online-nl", "101001")
        .await;
    let status = world
        .get_json(&format!("/companies/{company}/dataStatus"))
        .await;
    let invoices = crate::all_records(&world, &company, "invoices", 50).await;
    let id = invoices[0]["id"].as_str().unwrap();
    for (path, key) in [
        ("invoices".to_string(), "invoices"),
        (format!("invoices/{id}"), "invoices"),
        ("info".to_string(), "company"),
    ] {
        let response = world
            .api(Method::GET, &format!("/companies/{company}/data/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert_eq!(
            headers[LAST_SYNC].to_str().unwrap(),
            status[key]["lastSuccessfulSync"].as_str().unwrap(),
            "{path}: the header agrees with dataStatus"
        );
        assert_eq!(headers[PULL_RUNNING], "false", "{path}");
    }
    // While a refresh runs, the old data is served and the header says a pull is running.
    world
        .fault(json!({"kind": "latency", "ms": 2000, "path": "SalesInvoice", "count": 5}))
        .await;
    let queued = world
        .api(
            Method::POST,
            &format!("/companies/{company}/data/queue/invoices"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), 200);
    let response = world
        .api(Method::GET, &format!("/companies/{company}/data/invoices"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[PULL_RUNNING], "true");
    assert_eq!(
        response.headers()[LAST_SYNC].to_str().unwrap(),
        status["invoices"]["lastSuccessfulSync"].as_str().unwrap()
    );
    world.wait_for_pull(&company).await;
}

#[tokio::test]
async fn a_scheduled_pull_that_fails_says_why_in_words() {
    let world = World::start().await;
    let company = world
        .linked_and_pulled("Dormant BV", "exact-online-nl", "101001")
        .await;
    // 31 days on, Exact's refresh token has died: the scheduled pull cannot run.
    world.advance(31 * 86_400).await;
    let mut failed = None;
    for _ in 0..100 {
        let pulls = pulls_of(&world, &company, "invoices").await;
        if pulls.len() == 2 && pulls[0]["isErrored"] == true {
            failed = Some(pulls[0].clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let failed = failed.expect("the scheduled pull was queued and failed");
    assert_eq!(failed["status"], "AuthError", "{failed}");
    let message = failed["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("end customer must reconnect") && message.contains("linkUrl"),
        "{failed}"
    );
    // The data pulled before stays readable, and says how old it is.
    let response = world
        .api(Method::GET, &format!("/companies/{company}/data/invoices"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[PULL_RUNNING], "false");
    assert!(response.headers().get(LAST_SYNC).is_some());
}
