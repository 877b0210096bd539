//! The end of the link flow as the end customer lives it: the callback answers 303 to a result
//! page (a reload or the back button shows the same result and records nothing), and with a
//! return URL set the customer goes back to the SaaS app with Codat's redirect parameters.

use reqwest::Method;
use serde_json::{Value, json};

use crate::world::{World, error_texts, location};

/// PUTs the tenant's link settings; returns the status and body.
async fn put_link_settings(world: &World, body: Value) -> (u16, Value) {
    let response = world
        .api(Method::PUT, "/settings/link")
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Follows a callback URL through the result page; returns where the customer ends up.
async fn landing(world: &World, callback: &str) -> String {
    let response = world.http.get(callback).send().await.unwrap();
    assert_eq!(response.status(), 303, "the callback redirects");
    let result = location(&response);
    let response = world.http.get(&result).send().await.unwrap();
    assert_eq!(
        response.status(),
        303,
        "the result page sends the customer on"
    );
    location(&response)
}

#[tokio::test]
async fn the_customer_returns_to_the_app_with_codats_parameters_on_success_and_refusal() {
    back_to_the_app(&World::start().await).await;
}

#[tokio::test]
async fn return_urls_are_kept_on_postgresql_too() {
    World::on_postgres("return URLs", back_to_the_app).await;
}

async fn back_to_the_app(world: &World) {
    assert_eq!(
        world.get_json("/settings/link").await,
        json!({"linkReturnUrl": null}),
        "no return URL until one is set"
    );
    // Only an absolute http(s) URL with known placeholders is taken; the 400 names the field.
    for bad in [
        "/exact/done",
        "ftp://app.example.com/done",
        "https://app.example.com/{customerId}",
    ] {
        let (status, body) = put_link_settings(world, json!({ "linkReturnUrl": bad })).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(
            body["validation"]["errors"][0]["itemId"], "linkReturnUrl",
            "{body}"
        );
    }
    let template = "https://app.example.com/exact/{companyId}/done?connection={connectionId}";
    let (status, body) = put_link_settings(world, json!({ "linkReturnUrl": template })).await;
    assert_eq!(
        (status, &body),
        (200, &json!({ "linkReturnUrl": template }))
    );
    assert_eq!(world.get_json("/settings/link").await, body);

    // Success: the tenant's URL, placeholders filled, statusCode=200.
    let company = world.company("Returning BV").await;
    let connection = world.connection(&company, "exact-online-nl").await;
    let id = connection["id"].as_str().unwrap();
    let callback = world
        .approve_quickly(&world.authorize_url(&connection).await, "demo", None)
        .await;
    assert_eq!(
        landing(world, &callback).await,
        format!("https://app.example.com/exact/{company}/done?connection={id}&statusCode=200")
    );
    assert_eq!(
        world.reload(&company, &connection).await["status"],
        "Linked"
    );

    // A company's own URL overrides the tenant's; a refusal is Codat's 403 "User cancelled.",
    // with what happened in statusText.
    let own = "http://localhost:3000/back/{statusCode}";
    let response = world
        .api(Method::POST, "/companies")
        .json(&json!({ "name": "Own URL BV", "linkReturnUrl": "javascript:alert(1)" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["validation"]["errors"][0]["itemId"], "linkReturnUrl");
    let created: Value = world
        .api(Method::POST, "/companies")
        .json(&json!({ "name": "Own URL BV", "linkReturnUrl": own }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["linkReturnUrl"], own);
    assert!(
        created["redirect"].as_str().unwrap().contains("/link/"),
        "Codat's redirect stays the Link URL: {created}"
    );
    let other = created["id"].as_str().unwrap();
    let connection = world.connection(other, "exact-online-nl").await;
    let callback = world.deny_through_the_forms(&connection).await;
    assert_eq!(
        landing(world, &callback).await,
        "http://localhost:3000/back/403?errorMessage=User%20cancelled.&statusText=AccessDenied"
    );
    let refused = world.reload(other, &connection).await;
    assert_eq!(refused["status"], "PendingAuth");
    assert_eq!(error_texts(&refused), ["AccessDenied"]);

    // PATCH null: back to the tenant's URL.
    let patched: Value = world
        .api(Method::PATCH, &format!("/companies/{other}"))
        .json(&json!({ "linkReturnUrl": null }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(patched.get("linkReturnUrl").is_none(), "{patched}");
    let connection = world.connection(other, "exact-online-uk").await;
    let callback = world
        .approve_quickly(&world.authorize_url(&connection).await, "demo", None)
        .await;
    let id = connection["id"].as_str().unwrap();
    assert_eq!(
        landing(world, &callback).await,
        format!("https://app.example.com/exact/{other}/done?connection={id}&statusCode=200")
    );
    // Removing the tenant's URL brings the result pages back.
    let (status, _) = put_link_settings(world, json!({ "linkReturnUrl": null })).await;
    assert_eq!(status, 200);
    assert_eq!(
        world.get_json("/settings/link").await,
        json!({"linkReturnUrl": null})
    );
}

#[tokio::test]
async fn a_reload_or_the_back_button_shows_the_same_result_and_records_no_error() {
    let world = World::start().await;
    let company = world.company("Reloading BV").await;
    let connection = world.connection(&company, "exact-online-nl").await;

    // A refusal first: one AccessDenied, however often its page is seen again.
    let denied = world.deny_through_the_forms(&connection).await;
    let (status, refused, result) = world.callback_to(&denied).await;
    assert_eq!(status, 403, "{refused}");
    let result = result.expect("a result page");
    for url in [&result, &denied] {
        let (status, again, _) = world.callback_to(url).await;
        assert_eq!((status, &again), (403, &refused), "{url}");
    }
    assert_eq!(
        error_texts(&world.reload(&company, &connection).await),
        ["AccessDenied"]
    );
    // The page speaks for the tenant, with the integration's wordmark, in plain words.
    assert!(
        refused.contains("<title>Not connected · Acme SaaS</title>"),
        "{refused}"
    );
    assert!(
        refused.contains("aria-label=\"Exact (Netherlands)\""),
        "{refused}"
    );
    assert!(refused.contains("What to do next"), "{refused}");
    assert!(
        refused.contains("start again from the link Acme SaaS gave you"),
        "{refused}"
    );

    // Then consent: Linked, and a reload of the result (or the callback URL again, as the
    // back button and Exact's consent page can send) shows "connected" and records nothing.
    let callback = world
        .approve_quickly(
            &world.authorize_url(&connection).await,
            "demo",
            Some("101002"),
        )
        .await;
    let (status, linked, result) = world.callback_to(&callback).await;
    assert_eq!(status, 200, "{linked}");
    assert!(linked.contains("You are connected"), "{linked}");
    assert!(linked.contains("is now connected to Acme SaaS"), "{linked}");
    let result = result.expect("a result page");
    let before = world.reload(&company, &connection).await;
    assert_eq!(before["status"], "Linked");
    for url in [&result, &callback, &result] {
        let (status, again, _) = world.callback_to(url).await;
        assert_eq!((status, &again), (200, &linked), "{url}");
    }
    let after = world.reload(&company, &connection).await;
    assert_eq!(after["status"], "Linked");
    assert_eq!(
        after["dataConnectionErrors"], before["dataConnectionErrors"],
        "no StateReplayed or any other error from a reload"
    );
    assert!(!error_texts(&after).contains(&"StateReplayed".to_string()));
    // The result page keeps the link pages' security headers.
    let response = world.http.get(&result).send().await.unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    // A made-up or altered result URL shows nothing of anyone's.
    let forged = result.replace("state=", "state=x");
    let response = world.http.get(&forged).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(!response.text().await.unwrap().contains("Acme SaaS"));
}

#[tokio::test]
async fn a_callback_that_never_finished_says_so_instead_of_waiting_forever() {
    let world = World::start().await;
    let company = world.company("Crashed BV").await;
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
    // A server used the state and stopped before it kept a result.
    let store = &world.server.state.store;
    let id = state.split('.').next().unwrap();
    let now = world.server.state.clock.now_ms();
    store.consume_link_state(id, now).await.unwrap();
    let result = world.server.state.link_result_url(&state);
    let response = world.http.get(&result).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["refresh"],
        "2",
        "the page reloads itself"
    );
    assert!(response.text().await.unwrap().contains("still finishing"));
    // The same callback again (the customer's reload) waits for that result, records nothing.
    let (status, page, _) = world.callback_to(&callback).await;
    assert_eq!(status, 200, "{page}");
    world.advance(6 * 60).await;
    let (status, page, _) = world.callback_to(&callback).await;
    assert_eq!(status, 500, "{page}");
    assert!(page.contains("could not be finished"), "{page}");
    let now = world.reload(&company, &connection).await;
    assert_eq!(now["status"], "PendingAuth");
    assert_eq!(now["dataConnectionErrors"], json!([]));
}

#[tokio::test]
async fn a_customer_whose_books_are_in_the_other_region_is_told_so() {
    let world = World::start().await;
    // A bookkeeper with no administration in Exact NL (all of theirs are in the UK).
    let user = json!({"username": "uk-only", "password": "pw", "full_name": "UK Bookkeeper",
                      "email": "uk@x.test", "divisions": {"nl": []}});
    let response = world
        .http
        .post(world.sandbox.admin_url().join("users").unwrap())
        .json(&user)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let company = world.company("Wrong Region Ltd").await;
    let connection = world.connection(&company, "exact-online-nl").await;
    let callback = world
        .approve_quickly(&world.authorize_url(&connection).await, "uk-only", None)
        .await;
    let (status, page) = world.callback(&callback).await;
    assert_eq!(status, 409, "{page}");
    assert!(
        page.contains("your administrations are in Exact (UK) rather than Exact (Netherlands)"),
        "{page}"
    );
    assert!(
        page.contains("ask Acme SaaS for a link to Exact (UK) instead"),
        "{page}"
    );
    let now = world.reload(&company, &connection).await;
    assert_eq!(error_texts(&now), ["NoCompanyGranted"]);
}
