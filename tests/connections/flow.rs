//! The happy paths: connect NL and UK through the sandbox's consent form, pick a division.

use reqwest::Method;
use serde_json::{Value, json};

use crate::world::{World, checkbox_values, hidden_fields, location};

/// Walks the sandbox's real forms: sign in, tick one division, Approve.
async fn connect_through_the_forms(
    world: &World,
    connection: &Value,
    division: &str,
) -> (u16, String) {
    let authorize = world.authorize_url(connection).await;
    let login = world.http.get(&authorize).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let html = login.text().await.unwrap();
    assert!(html.contains("name=\"password\""), "a sign-in form");
    let form_url = authorize.split('?').next().unwrap().to_string();
    let mut fields = hidden_fields(&html);
    fields.push(("username".into(), "demo".into()));
    fields.push(("password".into(), "demo".into()));
    let consent = world
        .http
        .post(&form_url)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), 200);
    let html = consent.text().await.unwrap();
    let divisions = checkbox_values(&html, "division");
    assert!(divisions.contains(&division.to_string()), "{divisions:?}");
    let mut fields = hidden_fields(&html);
    fields.push(("division".into(), division.into()));
    fields.push(("action".into(), "approve".into()));
    let back = world
        .http
        .post(&form_url)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 302);
    let callback = location(&back);
    assert!(
        callback.starts_with(&format!("{}/oauth/callback?", world.server.base)),
        "{callback}"
    );
    world.callback(&callback).await
}

#[tokio::test]
async fn a_company_connects_to_exact_nl_and_another_to_exact_uk_through_the_consent_forms() {
    let world = World::start().await;
    let integrations: Value = world.get_json("/integrations").await;
    let keys: Vec<_> = integrations["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["key"].as_str().unwrap(), i["enabled"].as_bool().unwrap()))
        .collect();
    assert_eq!(keys, vec![("qudb", true), ("pbbf", true)]);

    for (company_name, platform_key, division, currency_region, name) in [
        (
            "Acme BV",
            "exact-online-nl",
            "101002",
            "nl",
            "Exact (Netherlands)",
        ),
        ("Acme Ltd", "pbbf", "201001", "uk", "Exact (UK)"),
    ] {
        let company = world.company(company_name).await;
        let connection = world.connection(&company, platform_key).await;
        assert_eq!(connection["status"], "PendingAuth");
        assert_eq!(connection["platformName"], name);
        assert_eq!(connection["sourceType"], "Accounting");
        assert_eq!(connection["connectionInfo"]["region"], currency_region);
        assert!(
            connection["linkUrl"]
                .as_str()
                .unwrap()
                .starts_with(&world.server.base)
        );

        let (status, page) = connect_through_the_forms(&world, &connection, division).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("You are connected"), "{page}");

        let linked = world.reload(&company, &connection).await;
        assert_eq!(linked["status"], "Linked");
        assert_eq!(
            linked["connectionInfo"]["upstreamCompanyId"], division,
            "pinned to the ticked division"
        );
        assert_eq!(
            linked["connectionInfo"]["availableUpstreamCompanies"]
                .as_str()
                .unwrap()
                .matches(':')
                .count(),
            1,
            "only the ticked division was granted"
        );
        assert!(
            linked["dataConnectionErrors"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        let company_json: Value = world.get_json(&format!("/companies/{company}")).await;
        assert_eq!(company_json["dataConnections"][0]["id"], connection["id"]);
        assert_eq!(company_json["dataConnections"][0]["status"], "Linked");
    }
    let stats = world.stats().await;
    assert_eq!(
        crate::world::refreshes(&stats, "nl", crate::world::NL_APP.0)["accepted"],
        0
    );
}

#[tokio::test]
async fn a_grant_of_several_divisions_pins_one_and_the_app_can_choose_another() {
    let world = World::start().await;
    let company = world.company("Acme Holding").await;
    let connection = world.connection(&company, "qudb").await;
    let (status, _) = world.link(&connection, Some("101001,101002")).await;
    assert_eq!(status, 200);
    let linked = world.reload(&company, &connection).await;
    let pinned = linked["connectionInfo"]["upstreamCompanyId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(pinned == "101001" || pinned == "101002");
    let available = linked["connectionInfo"]["availableUpstreamCompanies"]
        .as_str()
        .unwrap();
    assert!(
        available.contains("101001") && available.contains("101002"),
        "{available}"
    );

    let other = if pinned == "101001" {
        "101002"
    } else {
        "101001"
    };
    let path = format!(
        "/companies/{company}/connections/{}/authorization",
        connection["id"].as_str().unwrap()
    );
    let chosen: Value = world
        .api(Method::PUT, &path)
        .json(&json!({"upstreamCompanyId": other}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(chosen["connectionInfo"]["upstreamCompanyId"], other);
    let refused = world
        .api(Method::PUT, &path)
        .json(&json!({"upstreamCompanyId": "201001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "Codat documents no 400 here");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["validation"]["errors"][0]["itemId"],
        "upstreamCompanyId"
    );
}

#[tokio::test]
async fn connections_list_unlink_and_delete_as_codat_does() {
    let world = World::start().await;
    let company = world.company("Acme").await;
    let pending = world.connection(&company, "exact-online-nl").await;
    let linked = world.connection(&company, "exact-online-uk").await;
    world.link(&linked, None).await;

    let page: Value = world
        .api(
            Method::GET,
            &format!("/companies/{company}/connections?pageSize=1"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["totalResults"], 2);
    assert_eq!(page["results"].as_array().unwrap().len(), 1);
    assert!(page["_links"]["next"].is_object());

    let unlink = |id: &str| {
        world
            .api(
                Method::PATCH,
                &format!("/companies/{company}/connections/{id}"),
            )
            .json(&json!({"status": "Unlinked"}))
            .send()
    };
    let refused = unlink(pending["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(
        refused.status(),
        403,
        "only Linked connections can be unlinked (Codat documents no 409 here)"
    );
    let unlinked: Value = unlink(linked["id"].as_str().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unlinked["status"], "Unlinked");
    let bad = world
        .api(
            Method::PATCH,
            &format!(
                "/companies/{company}/connections/{}",
                pending["id"].as_str().unwrap()
            ),
        )
        .json(&json!({"status": "Linked"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 403, "Codat documents no 400 here");

    let deleted = world
        .api(
            Method::DELETE,
            &format!(
                "/companies/{company}/connections/{}",
                pending["id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let gone = world
        .api(
            Method::GET,
            &format!(
                "/companies/{company}/connections/{}",
                pending["id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let unknown = world
        .api(Method::POST, &format!("/companies/{company}/connections"))
        .json(&json!({"platformKey": "gbol"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        unknown.status(),
        404,
        "an unknown platform key is not found"
    );
}

#[tokio::test]
async fn a_disabled_or_unconfigured_integration_refuses_new_links_and_keeps_connections() {
    let world = World::start().await;
    let company = world.company("Acme").await;
    let connection = world.connection(&company, "exact-online-nl").await;
    world
        .configure("exact-online-nl", crate::world::NL_APP, false)
        .await;

    let refused = world
        .api(Method::POST, &format!("/companies/{company}/connections"))
        .json(&json!({"platformKey": "exact-online-nl"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "Codat documents no 409 here");
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("/settings/integrations/exact-online-nl/enabled"),
        "{body}"
    );

    let page = world
        .http
        .get(connection["linkUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 409);
    assert!(page.text().await.unwrap().contains("switched off"));
    let kept = world.reload(&company, &connection).await;
    assert_eq!(kept["status"], "PendingAuth", "the connection is kept");
    assert_eq!(
        crate::world::error_texts(&kept),
        vec!["IntegrationDisabled"]
    );

    world
        .configure("exact-online-nl", crate::world::NL_APP, true)
        .await;
    let (status, _) = world.link(&connection, None).await;
    assert_eq!(status, 200, "enabled again, the same connection links");
    let linked = world.reload(&company, &connection).await;
    assert_eq!(linked["status"], "Linked");
    assert_eq!(linked["dataConnectionErrors"][0]["status"], "Resolved");

    // A tenant without UK credentials gets a 409 that says what to set.
    let anonymous_tenant: Value = world
        .http
        .post(format!("{}/admin/tenants", world.server.base))
        .bearer_auth(crate::world::ADMIN_KEY)
        .json(&json!({"name": "Other"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = anonymous_tenant["apiKey"].as_str().unwrap();
    let other_company: Value = world
        .http
        .post(format!("{}/companies", world.server.base))
        .bearer_auth(key)
        .json(&json!({"name": "X"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let unconfigured = world
        .http
        .post(format!(
            "{}/companies/{}/connections",
            world.server.base,
            other_company["id"].as_str().unwrap()
        ))
        .bearer_auth(key)
        .json(&json!({"platformKey": "pbbf"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unconfigured.status(), 403);
    let body: Value = unconfigured.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("clientSecret"),
        "{body}"
    );
}
