//! The link URLs are public, so what they can do is limited: a Linked connection is not
//! re-linked by whoever holds its linkUrl, OAuth states do not pile up, and the pages cannot
//! be framed or leak their address.

use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use crate::world::{World, location};

#[tokio::test]
async fn a_strangers_get_of_a_linked_connections_link_url_cannot_relink_it() {
    let world = World::start().await;
    let company = world.company("Acme").await;
    let connection = world.connection(&company, "exact-online-nl").await;
    let (status, _) = world.link(&connection, Some("101001,101002")).await;
    assert_eq!(status, 200);
    let before = world.reload(&company, &connection).await;
    assert_eq!(before["status"], "Linked");
    let division = before["connectionInfo"]["upstreamCompanyId"].clone();

    // The stranger opens the linkUrl: no consent starts, a plain page says it is linked.
    let link_url = connection["linkUrl"].as_str().unwrap();
    let response = world.http.get(link_url).send().await.unwrap();
    assert_eq!(response.status(), 409);
    assert!(response.headers().get("location").is_none());
    let page = response.text().await.unwrap();
    assert!(page.contains("Already connected"), "{page}");
    // A forged or expired relink token does not help either.
    for forged in ["9999999999999.00", "1.abc", "nonsense"] {
        let response = world
            .http
            .get(format!("{link_url}?relink={forged}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 409, "{forged}");
    }
    let after = world.reload(&company, &connection).await;
    assert_eq!(after["status"], "Linked");
    assert_eq!(after["connectionInfo"]["upstreamCompanyId"], division);

    // The company's public page does not hand out the Linked connection's link.
    let page = world
        .http
        .get(format!("{}/link/{company}", world.server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Connected"), "{page}");
    assert!(!page.contains(link_url), "{page}");

    // The tenant asks, with its key, for a re-link URL: it starts a consent again.
    let id = connection["id"].as_str().unwrap();
    let relink_path = format!("/companies/{company}/connections/{id}/relink");
    let anonymous = world
        .http
        .post(format!("{}{relink_path}", world.server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let relink: Value = world
        .api(Method::POST, &relink_path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let relink_url = relink["linkUrl"].as_str().unwrap();
    assert!(relink_url.starts_with(link_url), "{relink}");
    assert!(relink["expiresAt"].as_str().unwrap().ends_with('Z'));
    let response = world.http.get(relink_url).send().await.unwrap();
    assert_eq!(
        response.status(),
        302,
        "the tenant's re-link URL leads to Exact"
    );
    let callback = world
        .approve_quickly(&location(&response), "demo", Some("101002"))
        .await;
    let (status, page) = world.callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    // After an hour the re-link URL no longer works.
    world.advance(3601).await;
    let response = world.http.get(relink_url).send().await.unwrap();
    assert_eq!(response.status(), 409);
}

#[tokio::test]
async fn a_deauthorized_connection_still_relinks_from_its_link_url() {
    let world = World::start().await;
    let company = world.company("Acme").await;
    let connection = world.connection(&company, "exact-online-nl").await;
    world.link(&connection, None).await;
    let id = Uuid::parse_str(connection["id"].as_str().unwrap()).unwrap();
    world
        .server
        .state
        .store
        .set_connection_status(id, ledgerline::store::ConnectionStatus::Deauthorized)
        .await
        .unwrap();
    let (status, page) = world.link(&connection, None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        world.reload(&company, &connection).await["status"],
        "Linked"
    );
}

#[tokio::test]
async fn link_states_are_capped_per_connection_and_purged_after_expiry() {
    let world = World::start().await;
    let company = world.company("Acme").await;
    let connection = world.connection(&company, "exact-online-nl").await;
    let id = Uuid::parse_str(connection["id"].as_str().unwrap()).unwrap();
    let store = &world.server.state.store;
    let mut authorize_urls = Vec::new();
    for _ in 0..30 {
        authorize_urls.push(world.authorize_url(&connection).await);
    }
    let cap = ledgerline::store::MAX_LINK_STATES_PER_CONNECTION;
    assert_eq!(store.link_state_count(id).await.unwrap(), cap);
    // The newest state still links; the oldest was dropped.
    let newest = authorize_urls.last().unwrap();
    let callback = world.approve_quickly(newest, "demo", None).await;
    let (status, page) = world.callback(&callback).await;
    assert_eq!(status, 200, "{page}");
    let id_other = world.connection(&company, "exact-online-uk").await;
    let other = Uuid::parse_str(id_other["id"].as_str().unwrap()).unwrap();
    world.authorize_url(&id_other).await;
    assert_eq!(store.link_state_count(other).await.unwrap(), 1);

    // A day after they expired, states are purged by the next insert.
    world.advance(15 * 60 + 24 * 3600 + 60).await;
    world.authorize_url(&id_other).await;
    assert_eq!(store.link_state_count(id).await.unwrap(), 0);
    assert_eq!(store.link_state_count(other).await.unwrap(), 1);
}

#[tokio::test]
async fn html_pages_forbid_framing_scripts_and_referrers() {
    let world = World::start().await;
    let company = world.company("Acme").await;
    let connection = world.connection(&company, "exact-online-nl").await;
    let link_url = connection["linkUrl"].as_str().unwrap().to_string();
    let authorize = world.authorize_url(&connection).await;
    for url in [
        format!("{}/link/{company}", world.server.base),
        link_url,
        format!("{}/oauth/callback?state=nope", world.server.base),
        authorize,
    ] {
        let response = world.http.get(&url).send().await.unwrap();
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{url}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{url}: {csp}");
        assert!(!csp.contains("script-src"), "{url}: {csp}");
        assert_eq!(headers["x-frame-options"], "DENY", "{url}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{url}");
    }
    // Swagger UI keeps working: /docs is not given the pages' policy.
    let docs = world
        .http
        .get(format!("{}/docs/", world.server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.headers().get("content-security-policy").is_none());
}
