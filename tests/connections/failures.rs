//! Every failure of the link flow ends on a page for the end customer, an error entry for the
//! developer, and a connection that is not half-linked.

use serde_json::Value;

use crate::world::{UNAPPROVED_NL_APP, World, error_texts};

/// Asserts the page, the recorded error and that the connection did not become Linked.
async fn assert_failed(
    world: &World,
    company: &str,
    connection: &Value,
    page: (u16, String),
    status: u16,
    says: &str,
    error: &str,
) {
    assert_eq!(page.0, status, "{}", page.1);
    assert!(
        page.1.contains(says),
        "the page should say {says:?}: {}",
        page.1
    );
    assert!(page.1.to_lowercase().starts_with("<!doctype html>"));
    let now = world.reload(company, connection).await;
    assert_eq!(now["status"], "PendingAuth", "nothing half-linked");
    assert!(
        error_texts(&now).contains(&error.to_string()),
        "{:?}",
        error_texts(&now)
    );
    let entry = now["dataConnectionErrors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["statusText"] == error)
        .unwrap();
    assert_eq!(entry["status"], "Active");
    assert!(
        entry["errorMessage"].as_str().unwrap().len() > 20,
        "the developer is told what to do"
    );
    let row = world.row(connection).await;
    assert!(
        world.server.state.store.get_tokens(row.id).await.is_err(),
        "no tokens stored"
    );
}

#[tokio::test]
async fn consent_denied_at_exact() {
    let world = World::start().await;
    let company = world.company("Acme").await;
    let connection = world.connection(&company, "exact-online-nl").await;
    let page = world
        .callback(&world.deny_through_the_forms(&connection).await)
        .await;
    assert_failed(
        &world,
        &company,
        &connection,
        page,
        403,
        "You chose not to give Acme SaaS access",
        "AccessDenied",
    )
    .await;
}

#[tokio::test]
async fn app_not_yet_approved_by_exact_for_production() {
    let world = World::start().await;
    world
        .configure("exact-online-nl", UNAPPROVED_NL_APP, true)
        .await;
    let company = world.company("Acme").await;
    let connection = world.connection(&company, "exact-online-nl").await;
    let authorize = world.authorize_url(&connection).await;
    let callback = world.approve_quickly(&authorize, "demo", None).await;
    let page = world.callback(&callback).await;
    assert_failed(
        &world,
        &company,
        &connection,
        page,
        403,
        "not yet approved",
        "AppNotApproved",
    )
    .await;
    let entry = &world.reload(&company, &connection).await["dataConnectionErrors"][0];
    assert!(
        entry["errorMessage"]
            .as_str()
            .unwrap()
            .contains("request permission"),
        "{entry}"
    );
}

#[tokio::test]
async fn authorization_code_expired_or_reused() {
    let world = World::start().await;
    let company = world.company("Acme").await;
    let connection = world.connection(&company, "exact-online-nl").await;

    // Expired: Exact's codes live 3 minutes.
    let callback = world
        .approve_quickly(&world.authorize_url(&connection).await, "demo", None)
        .await;
    world.advance(181).await;
    let page = world.callback(&callback).await;
    assert_failed(
        &world,
        &company,
        &connection,
        page,
        400,
        "took too long",
        "CodeRejected",
    )
    .await;

    // Reused: a code already exchanged, returned with a fresh state.
    let first = world
        .approve_quickly(&world.authorize_url(&connection).await, "demo", None)
        .await;
    let second = world
        .approve_quickly(&world.authorize_url(&connection).await, "demo", None)
        .await;
    let (status, _) = world.callback(&first).await;
    assert_eq!(status, 200, "the first code links");
    let code_of_first = first
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let code_of_second = second
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let replayed_code = second.replace(code_of_second, code_of_first);
    let (status, page) = world.callback(&replayed_code).await;
    assert_eq!(status, 400, "{page}");
    let now = world.reload(&company, &connection).await;
    assert_eq!(
        now["status"], "Linked",
        "a failed re-link keeps the working link"
    );
    assert!(
        error_texts(&now)
            .iter()
            .filter(|e| *e == "CodeRejected")
            .count()
            >= 1
    );
}

#[tokio::test]
async fn wrong_client_credentials() {
    let world = World::start().await;
    world
        .configure(
            "exact-online-nl",
            (crate::world::NL_APP.0, "not-the-secret"),
            true,
        )
        .await;
    let company = world.company("Acme").await;
    let connection = world.connection(&company, "exact-online-nl").await;
    let callback = world
        .approve_quickly(&world.authorize_url(&connection).await, "demo", None)
        .await;
    let page = world.callback(&callback).await;
    assert_failed(
        &world,
        &company,
        &connection,
        page,
        409,
        "did not accept Acme SaaS's app details",
        "ClientCredentialsRejected",
    )
    .await;
}

#[tokio::test]
async fn state_tampered_replayed_or_expired() {
    let world = World::start().await;
    let company = world.company("Acme").await;
    let connection = world.connection(&company, "exact-online-nl").await;

    let callback = world
        .approve_quickly(&world.authorize_url(&connection).await, "demo", None)
        .await;
    let state = callback
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let tampered = callback.replace(&state, &format!("{}x", &state[..state.len() - 1]));
    let page = world.callback(&tampered).await;
    assert_failed(
        &world,
        &company,
        &connection,
        page,
        400,
        "changed on the way",
        "InvalidState",
    )
    .await;

    let garbage = callback.replace(&state, "made-up.state");
    let (status, page) = world.callback(&garbage).await;
    assert_eq!(status, 400, "{page}");

    let (status, first, _) = world.callback_to(&callback).await;
    assert_eq!(status, 200, "the untampered state still works: {first}");
    // Opening the callback again (the back button, a reload of a page that did not redirect)
    // shows the same result and records nothing more; the state links nothing twice.
    let before = world.reload(&company, &connection).await;
    let (status, again, _) = world.callback_to(&callback).await;
    assert_eq!((status, &again), (200, &first));
    let now = world.reload(&company, &connection).await;
    assert_eq!(now["status"], "Linked");
    assert_eq!(
        now["dataConnectionErrors"], before["dataConnectionErrors"],
        "a repeated callback records no error"
    );

    // Expired: more than 15 minutes between leaving and coming back.
    let other = world.connection(&company, "exact-online-uk").await;
    let authorize = world.authorize_url(&other).await;
    world
        .server
        .state
        .clock
        .advance(std::time::Duration::from_secs(16 * 60));
    let callback = world.approve_quickly(&authorize, "demo", None).await;
    let page = world.callback(&callback).await;
    assert_failed(
        &world,
        &company,
        &other,
        page,
        400,
        "longer than 15 minutes",
        "StateExpired",
    )
    .await;
}
