//! Companies in Codat's shape: create, read, replace, update, delete, and paging.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestServer, expect_error, invalid_fields};

#[tokio::test]
async fn companies_have_codats_shape_and_full_crud() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, key) = server.new_tenant("Acme").await;

    let created = server
        .as_tenant(Method::POST, "/companies", &key)
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"name":"  Acme BV ","description":"first","tags":{"region":"nl"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let company: Value = created.json().await.unwrap();
    let id = company["id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert_eq!(company["name"], "Acme BV", "names are trimmed");
    assert_eq!(company["description"], "first");
    assert_eq!(company["tags"]["region"], "nl");
    assert_eq!(company["redirect"], format!("{}/link/{id}", server.base));
    assert!(company["created"].as_str().unwrap().ends_with('Z'));
    assert!(company["dataConnections"].as_array().unwrap().is_empty());
    let keys = company.as_object().unwrap();
    for absent in ["lastSync", "createdByUserName", "referenceParentCompany"] {
        assert!(
            !keys.contains_key(absent),
            "{absent}: left out, never null, as Codat does"
        );
    }

    let path = format!("/companies/{id}");
    let fetched: Value = server
        .as_tenant(Method::GET, &path, &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, company);

    let patched: Value = server
        .as_tenant(Method::PATCH, &path, &key)
        .json(&json!({"description": "second"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["name"], "Acme BV", "PATCH keeps fields not sent");
    assert_eq!(patched["description"], "second");
    assert_eq!(patched["tags"]["region"], "nl");

    let cleared: Value = server
        .as_tenant(Method::PATCH, &path, &key)
        .json(&json!({"description": null}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(cleared["description"].is_null(), "null clears");

    let replaced: Value = server
        .as_tenant(Method::PUT, &path, &key)
        .json(&json!({"name": "Acme Holding"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replaced["name"], "Acme Holding");
    assert!(replaced["description"].is_null());
    assert!(
        replaced["tags"].as_object().unwrap().is_empty(),
        "PUT replaces"
    );
    assert_eq!(replaced["created"], company["created"]);

    for (method, body) in [
        (Method::PUT, json!({"name": "   "})),
        (Method::PATCH, json!({"name": ""})),
        (Method::POST, json!({"name": "x".repeat(501)})),
    ] {
        // Codat documents 400 for creating a company, and none for replacing or updating one.
        let code = if method == Method::POST { 400 } else { 403 };
        let target = if method == Method::POST {
            "/companies".to_string()
        } else {
            path.clone()
        };
        let response = server
            .as_tenant(method, &target, &key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            invalid_fields(&expect_error(response, code).await),
            vec!["name"]
        );
    }

    let deleted = server
        .as_tenant(Method::DELETE, &path, &key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(deleted.text().await.unwrap().is_empty());
    let gone = server
        .as_tenant(Method::GET, &path, &key)
        .send()
        .await
        .unwrap();
    expect_error(gone, 404).await;
    let not_a_uuid = server
        .as_tenant(Method::GET, "/companies/not-a-uuid", &key)
        .send()
        .await
        .unwrap();
    expect_error(not_a_uuid, 404).await;
}

#[tokio::test]
async fn company_pages_cover_every_company_once_with_codat_links() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, key) = server.new_tenant("Acme").await;
    let mut created = HashSet::new();
    for n in 0..7 {
        let company = server.new_company(&key, &format!("Company {n}")).await;
        created.insert(company["id"].as_str().unwrap().to_string());
    }

    let mut seen = Vec::new();
    for page in 1..=3 {
        let body: Value = server
            .as_tenant(
                Method::GET,
                &format!("/companies?page={page}&pageSize=3"),
                &key,
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["pageNumber"], page);
        assert_eq!(body["pageSize"], 3);
        assert_eq!(body["totalResults"], 7);
        assert_eq!(body["_links"]["self"]["href"], "/companies");
        assert_eq!(
            body["_links"]["current"]["href"],
            format!("/companies?page={page}&pageSize=3")
        );
        assert_eq!(
            body["_links"].get("next").is_some(),
            page < 3,
            "page {page}"
        );
        assert_eq!(
            body["_links"].get("previous").is_some(),
            page > 1,
            "page {page}"
        );
        for company in body["results"].as_array().unwrap() {
            seen.push(company["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(seen.len(), 7, "no company twice");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), created);

    let past_the_end: Value = server
        .as_tenant(Method::GET, "/companies?page=9&pageSize=3", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(past_the_end["results"].as_array().unwrap().is_empty());
    assert_eq!(past_the_end["totalResults"], 7);

    let default: Value = server
        .as_tenant(Method::GET, "/companies", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(default["pageSize"], 100);
    assert_eq!(default["results"].as_array().unwrap().len(), 7);

    for (query, field) in [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("pageSize=0", "pageSize"),
        ("pageSize=5001", "pageSize"),
        ("pageSize=-3", "pageSize"),
    ] {
        let response = server
            .as_tenant(Method::GET, &format!("/companies?{query}"), &key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            invalid_fields(&expect_error(response, 400).await),
            vec![field],
            "{query}"
        );
    }
}

#[tokio::test]
async fn companies_filter_by_query_and_sort_by_order_by() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, key) = server.new_tenant("Acme").await;
    for (name, region) in [("Bakker BV", "nl"), ("Acme Ltd", "uk"), ("Zeeman BV", "nl")] {
        let response = server
            .as_tenant(Method::POST, "/companies", &key)
            .json(&json!({"name": name, "tags": {"region": region}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let list = |query: &str| {
        let request = server.as_tenant(Method::GET, &format!("/companies?{query}"), &key);
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let names = |body: &Value| -> Vec<String> {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };

    let (status, body) = list("query=tags.region%3Dnl&orderBy=-name&pageSize=1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["totalResults"], 2,
        "only what the filter keeps: {body}"
    );
    assert_eq!(names(&body), ["Zeeman BV"]);
    assert_eq!(
        body["_links"]["next"]["href"],
        "/companies?page=2&pageSize=1&query=tags.region%3Dnl&orderBy=-name",
        "the next page is the next page of the same selection"
    );
    let (_, body) = list("query=tags.region%3Dnl&orderBy=-name&pageSize=1&page=2").await;
    assert_eq!(names(&body), ["Bakker BV"]);

    let (_, body) = list("query=name~ltd%20%7C%7C%20name%3D%27ZEEMAN%20BV%27&orderBy=name").await;
    assert_eq!(names(&body), ["Acme Ltd", "Zeeman BV"]);

    let (status, body) = list("query=region%3Dnl").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "Error parsing query - Could not resolve property region on Company"
    );
    let (status, body) = list("orderBy=dataConnections.status").await;
    assert_eq!(
        status, 400,
        "no sorting by a property inside an array: {body}"
    );
}

#[tokio::test]
async fn tags_are_limited_and_filtered_as_codat_documents() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(&dir).await;
    let (_, key) = server.new_tenant("Acme").await;
    let create = |body: Value| {
        server
            .as_tenant(Method::POST, "/companies", &key)
            .json(&body)
            .send()
    };
    let eleven: serde_json::Map<String, Value> =
        (0..11).map(|i| (format!("k{i}"), json!("v"))).collect();
    let refused = expect_error(
        create(json!({"name": "A", "tags": eleven})).await.unwrap(),
        400,
    )
    .await;
    assert_eq!(invalid_fields(&refused), vec!["tags"]);
    let refused = expect_error(
        create(json!({"name": "A", "tags": {"note": "x".repeat(101)}}))
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(invalid_fields(&refused), vec!["tags.note"]);
    let ten: serde_json::Map<String, Value> = (0..10)
        .map(|i| (format!("k{i}"), json!("v".repeat(100))))
        .collect();
    assert_eq!(
        create(json!({"name": "Ten", "tags": ten}))
            .await
            .unwrap()
            .status(),
        200
    );
    for (name, tags) in [
        (
            "UK finance",
            json!({"region": "uk", "team": "invoice-finance"}),
        ),
        ("UK sales", json!({"region": "uk", "team": "sales"})),
        (
            "NL finance",
            json!({"region": "nl", "team": "invoice-finance"}),
        ),
    ] {
        assert_eq!(
            create(json!({"name": name, "tags": tags}))
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let names = |query: &'static str| {
        let request = server.as_tenant(Method::GET, &format!("/companies?{query}"), &key);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            let names: Vec<String> = body["results"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .map(|c| c["name"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            (status, names, body)
        }
    };
    // Codat's own example: `region = uk && owningTeam = invoice-finance`.
    let (status, found, _) = names("tags=region%3Duk%20%26%26%20team%3Dinvoice-finance").await;
    assert_eq!((status, found), (200, vec!["UK finance".to_string()]));
    let (_, found, _) = names("tags=team~finance&orderBy=-name").await;
    assert_eq!(found, ["UK finance", "NL finance"]);
    let (_, found, _) = names("tags=region!%3Duk").await;
    assert_eq!(
        found,
        ["Ten", "NL finance"],
        "a company without the tag is not equal to it"
    );
    let (_, found, body) = names("tags=team~finance&pageSize=1").await;
    assert_eq!(found, ["UK finance"]);
    assert_eq!(body["totalResults"], 2);
    assert_eq!(
        body["_links"]["next"]["href"], "/companies?page=2&pageSize=1&tags=team~finance",
        "the next page keeps the tags filter"
    );
    let (status, _, body) = names("tags=region%3D").await;
    assert_eq!(status, 400);
    assert_eq!(invalid_fields(&body), vec!["tags"]);
}
