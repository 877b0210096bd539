//! Codat's published OpenAPI documents as the judge of our live answers. `tests/codat_oas/
//! codat_oas.json` holds, for every operation Ledgerline shares with Codat, the response codes
//! Codat documents and each response's body schema (extracted from github.com/codatio/oas by
//! `tests/codat_oas/extract.py`, commit recorded in the file). Every answer here — lists with
//! several page sizes, gets, `query`/`orderBy`, and each error — must use a code Codat documents
//! for that operation and validate against Codat's schema: required fields present, types,
//! closed enums, and no `null` where Codat does not allow one.

#[path = "common/mod.rs"]
mod common;
#[path = "connections/world.rs"]
mod world;

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};
use world::World;

/// Codat's facts, one validator per documented (operation, status) with a JSON body.
struct Contract {
    operations: Value,
    validators: BTreeMap<(String, String), jsonschema::Validator>,
}

impl Contract {
    fn load() -> Contract {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/codat_oas/codat_oas.json"
        );
        let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(
            fixture["source"]["commit"].as_str().map(str::len),
            Some(40),
            "the fixture records the codatio/oas commit it was extracted from"
        );
        let operations = fixture["operations"].clone();
        let mut validators = BTreeMap::new();
        for (id, operation) in operations.as_object().unwrap() {
            for (code, schema) in operation["responses"].as_object().unwrap() {
                if schema.is_object() {
                    let validator = jsonschema::validator_for(schema).unwrap_or_else(|e| {
                        panic!("{id} {code}: Codat's schema does not load: {e}")
                    });
                    validators.insert((id.clone(), code.clone()), validator);
                }
            }
        }
        Contract {
            operations,
            validators,
        }
    }

    /// The answer's status is one Codat documents for `operation`, and its body (if Codat
    /// documents one) validates against Codat's schema. Returns the body.
    fn check(&self, operation: &str, what: &str, status: u16, body: &str) -> Value {
        let responses = &self.operations[operation]["responses"];
        assert!(responses.is_object(), "{operation} is not in the fixture");
        let code = status.to_string();
        assert!(
            responses.get(&code).is_some(),
            "{operation} ({what}) answered {status}, which Codat does not document for it \
             (Codat documents {:?}): {body}",
            responses.as_object().unwrap().keys().collect::<Vec<_>>()
        );
        let value: Value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(body)
                .unwrap_or_else(|e| panic!("{operation} ({what}): not JSON ({e}): {body}"))
        };
        if let Some(validator) = self.validators.get(&(operation.to_string(), code)) {
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| format!("at {}: {e}", e.instance_path()))
                .take(10)
                .collect();
            assert!(
                errors.is_empty(),
                "{operation} ({what}) {status} breaks Codat's schema:\n{}\nbody: {}",
                errors.join("\n"),
                body.chars().take(2000).collect::<String>()
            );
        }
        value
    }
}

/// One request, checked against the contract; returns status and body.
async fn call(
    world: &World,
    contract: &Contract,
    operation: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = world.api(method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value = contract.check(operation, path, status, &text);
    (status, value)
}

/// Every page of a list, at a page size, each page checked.
async fn every_page(
    world: &World,
    contract: &Contract,
    operation: &str,
    path: &str,
    page_size: u32,
) -> Vec<Value> {
    let mut all = vec![];
    for page in 1.. {
        let separator = if path.contains('?') { '&' } else { '?' };
        let (status, body) = call(
            world,
            contract,
            operation,
            Method::GET,
            &format!("{path}{separator}page={page}&pageSize={page_size}"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{path} page {page}: {body}");
        all.extend(body["results"].as_array().unwrap().iter().cloned());
        if body["_links"]["next"].is_null() {
            break;
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shared_operation_answers_as_codats_published_openapi_says() {
    let contract = Contract::load();
    let world = World::start().await;
    let nl = world
        .linked_and_pulled("Acme BV", "exact-online-nl", "101001")
        .await;
    let unpulled = world.company("Not linked yet").await;
    let pending = world.connection(&unpulled, "exact-online-nl").await;
    let pending_id = pending["id"].as_str().unwrap().to_string();
    let missing = "00000000-0000-4000-8000-000000000000";
    let c = &contract;
    let w = &world;

    // Companies.
    let (status, created) = call(
        w,
        c,
        "create-company",
        Method::POST,
        "/companies",
        Some(json!({"name": "Tagged", "tags": {"region": "uk", "team": "finance"}})),
    )
    .await;
    assert_eq!(status, 200);
    let tagged = created["id"].as_str().unwrap().to_string();
    for (body, expected) in [
        (json!({"description": "no name"}), 400),
        (json!({"name": "x", "tags": {"k": "v".repeat(101)}}), 400),
    ] {
        let (status, _) = call(
            w,
            c,
            "create-company",
            Method::POST,
            "/companies",
            Some(body),
        )
        .await;
        assert_eq!(status, expected);
    }
    for size in [1, 2, 100] {
        let companies = every_page(w, c, "list-companies", "/companies", size).await;
        assert_eq!(companies.len(), 3);
    }
    for (query, expected) in [
        (
            "query=dataConnections.status%3DPendingAuth",
            vec!["Not linked yet"],
        ),
        (
            "query=dataConnections.status%3DLinked&orderBy=-name",
            vec!["Acme BV"],
        ),
        ("tags=region%3Duk%20%26%26%20team~fin", vec!["Tagged"]),
        ("orderBy=-name", vec!["Tagged", "Not linked yet", "Acme BV"]),
    ] {
        let (status, body) = call(
            w,
            c,
            "list-companies",
            Method::GET,
            &format!("/companies?{query}"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{query}: {body}");
        let names: Vec<&str> = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, expected, "{query}");
    }
    for query in [
        "pageSize=0",
        "query=name%20%3D",
        "query=nothing%3D1",
        "tags=%3D%3D",
    ] {
        let (status, _) = call(
            w,
            c,
            "list-companies",
            Method::GET,
            &format!("/companies?{query}"),
            None,
        )
        .await;
        assert_eq!(status, 400, "{query}");
    }
    let (status, _) = call(
        w,
        c,
        "get-company",
        Method::GET,
        &format!("/companies/{nl}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        w,
        c,
        "get-company",
        Method::GET,
        &format!("/companies/{missing}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let tagged_path = format!("/companies/{tagged}");
    for (operation, method, body, expected) in [
        (
            "replace-company",
            Method::PUT,
            json!({"name": "Tagged Ltd"}),
            200,
        ),
        (
            "replace-company",
            Method::PUT,
            json!(["not", "an", "object"]),
            403,
        ),
        (
            "update-company",
            Method::PATCH,
            json!({"description": "d"}),
            200,
        ),
        ("update-company", Method::PATCH, json!("text"), 403),
        (
            "update-company",
            Method::PATCH,
            json!({"tags": (0..11).map(|i| (format!("k{i}"), json!("v"))).collect::<serde_json::Map<_, _>>()}),
            403,
        ),
    ] {
        let (status, answer) = call(w, c, operation, method, &tagged_path, Some(body)).await;
        assert_eq!(status, expected, "{operation}: {answer}");
    }

    // Connections.
    let connections_path = format!("/companies/{nl}/connections");
    for size in [1, 100] {
        every_page(w, c, "list-connections", &connections_path, size).await;
    }
    let (status, _) = call(
        w,
        c,
        "list-connections",
        Method::GET,
        &format!("{connections_path}?query=status%3DLinked&orderBy=-created"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        w,
        c,
        "list-connections",
        Method::GET,
        &format!("/companies/{missing}/connections"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (_, linked) = call(
        w,
        c,
        "list-connections",
        Method::GET,
        &connections_path,
        None,
    )
    .await;
    let linked = linked["results"][0].clone();
    let linked_id = linked["id"].as_str().unwrap();
    let (status, _) = call(
        w,
        c,
        "create-connection",
        Method::POST,
        &format!("/companies/{unpulled}/connections"),
        Some(json!({"platformKey": "gbol"})),
    )
    .await;
    assert_eq!(status, 404, "unknown platform key");
    let (status, extra) = call(
        w,
        c,
        "create-connection",
        Method::POST,
        &format!("/companies/{unpulled}/connections"),
        Some(json!({"platformKey": "pbbf"})),
    )
    .await;
    assert_eq!(status, 200);
    let one = |company: &str, id: &str| format!("/companies/{company}/connections/{id}");
    let (status, _) = call(
        w,
        c,
        "get-connection",
        Method::GET,
        &one(&nl, linked_id),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        w,
        c,
        "get-connection",
        Method::GET,
        &one(&nl, missing),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let authorization = format!("{}/authorization", one(&nl, linked_id));
    for (body, expected) in [
        (json!({}), 403),
        (json!({"upstreamCompanyId": "999999"}), 403),
        (json!({"upstreamCompanyId": "101001"}), 200),
    ] {
        let (status, answer) = call(
            w,
            c,
            "update-connection-authorization",
            Method::PUT,
            &authorization,
            Some(body),
        )
        .await;
        assert_eq!(status, expected, "{answer}");
    }
    let (status, _) = call(
        w,
        c,
        "unlink-connection",
        Method::PATCH,
        &one(&unpulled, &pending_id),
        Some(json!({"status": "Unlinked"})),
    )
    .await;
    assert_eq!(status, 403, "a PendingAuth connection cannot be unlinked");
    let (status, _) = call(
        w,
        c,
        "delete-connection",
        Method::DELETE,
        &one(&unpulled, extra["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, 200);

    // Integrations.
    for size in [1, 100] {
        every_page(w, c, "list-integrations", "/integrations", size).await;
    }
    let (status, _) = call(
        w,
        c,
        "list-integrations",
        Method::GET,
        "/integrations?query=key%3Dqudb",
        None,
    )
    .await;
    assert_eq!(status, 200);
    for (key, expected) in [("qudb", 200), ("pbbf", 200), ("gbol", 404)] {
        let (status, _) = call(
            w,
            c,
            "get-integration",
            Method::GET,
            &format!("/integrations/{key}"),
            None,
        )
        .await;
        assert_eq!(status, expected, "{key}");
    }

    // Pulls: refresh twice in a row (the second answers the running pull), status, history.
    let queue = format!("/companies/{nl}/data/queue/invoices");
    let (status, first) = call(w, c, "refresh-data-type", Method::POST, &queue, None).await;
    assert_eq!(status, 200);
    let (status, second) = call(w, c, "refresh-data-type", Method::POST, &queue, None).await;
    assert_eq!(
        status, 200,
        "a refresh of a running pull answers it: {second}"
    );
    if first["id"] != second["id"] {
        // An incremental pull can end between the two requests: then, and only then, the
        // second refresh queues a pull of its own.
        let (status, earlier) = call(
            w,
            c,
            "get-pull-operation",
            Method::GET,
            &format!(
                "/companies/{nl}/data/history/{}",
                first["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            earlier["isCompleted"], true,
            "a second refresh while a pull runs answers the running pull: {first} {second}"
        );
    }
    w.wait_for_pull(&nl).await;
    for (path, expected) in [
        (format!("/companies/{unpulled}/data/queue/invoices"), 404),
        (format!("/companies/{nl}/data/queue/bankFeeds"), 404),
        (format!("/companies/{missing}/data/queue/invoices"), 404),
    ] {
        let (status, _) = call(w, c, "refresh-data-type", Method::POST, &path, None).await;
        assert_eq!(status, expected, "{path}");
    }
    let (status, _) = call(
        w,
        c,
        "refresh-company-data",
        Method::POST,
        &format!("/companies/{nl}/data/all"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(
        w,
        c,
        "refresh-company-data",
        Method::POST,
        &format!("/companies/{unpulled}/data/all"),
        None,
    )
    .await;
    assert_eq!(status, 404, "nothing linked");
    w.wait_for_pull(&nl).await;
    for company in [&nl, &unpulled] {
        let (status, _) = call(
            w,
            c,
            "get-company-data-status",
            Method::GET,
            &format!("/companies/{company}/dataStatus"),
            None,
        )
        .await;
        assert_eq!(status, 200);
    }
    let history = format!("/companies/{nl}/data/history");
    for size in [1, 2, 100] {
        let pulls = every_page(w, c, "list-pull-operations", &history, size).await;
        assert!(pulls.len() >= 2);
    }
    let (status, pulls) = call(
        w,
        c,
        "list-pull-operations",
        Method::GET,
        &format!("{history}?query=status%3DComplete&orderBy=requested"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let pull_id = pulls["results"][0]["id"].as_str().unwrap();
    let (status, _) = call(
        w,
        c,
        "list-pull-operations",
        Method::GET,
        &format!("{history}?query=isCompleted%3D"),
        None,
    )
    .await;
    assert_eq!(status, 400);
    for (id, expected) in [(pull_id, 200), (missing, 404)] {
        let (status, _) = call(
            w,
            c,
            "get-pull-operation",
            Method::GET,
            &format!("{history}/{id}"),
            None,
        )
        .await;
        assert_eq!(status, expected);
    }

    // Invoices: a filter and an order of their own, on top of what every data type does below.
    let invoices = format!("/companies/{nl}/data/invoices");
    let (status, unpaid) = call(
        w,
        c,
        "list-accounting-invoices",
        Method::GET,
        &format!("{invoices}?query=amountDue%20%3E%200&orderBy=-issueDate&pageSize=20"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(!unpaid["results"].as_array().unwrap().is_empty());

    // Every data type served, list and get, against Codat's operations of the same name.
    for spec in ledgerline::model::DATASETS {
        check_data_type(w, c, spec, &nl, &unpulled, missing).await;
    }

    // A disabled integration refuses new pulls with 403 (Codat documents no 409 here).
    w.configure("exact-online-nl", world::NL_APP, false).await;
    let (status, refused) = call(w, c, "refresh-data-type", Method::POST, &queue, None).await;
    assert_eq!(status, 403, "{refused}");
    let (status, _) = call(
        w,
        c,
        "refresh-company-data",
        Method::POST,
        &format!("/companies/{nl}/data/all"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    w.configure("exact-online-nl", world::NL_APP, true).await;

    // Unlinking last: the NL company's pulls are done.
    let (status, unlinked) = call(
        w,
        c,
        "unlink-connection",
        Method::PATCH,
        &one(&nl, linked_id),
        Some(json!({"status": "Unlinked"})),
    )
    .await;
    assert_eq!(
        (status, unlinked["status"].as_str()),
        (200, Some("Unlinked"))
    );
    for (company, expected) in [(&tagged, 204), (&tagged, 404)] {
        let (status, _) = call(
            w,
            c,
            "delete-company",
            Method::DELETE,
            &format!("/companies/{company}"),
            None,
        )
        .await;
        assert_eq!(status, expected);
    }
    // Sync settings: Codat's shape on the way out, and Codat's body (as its SDKs send it) in.
    let (status, settings) = call(
        w,
        c,
        "get-profile-syncSettings",
        Method::GET,
        "/profile/syncSettings",
        None,
    )
    .await;
    assert_eq!(status, 200, "{settings}");
    let (status, _) = call(
        w,
        c,
        "update-profile-syncSettings",
        Method::POST,
        "/profile/syncSettings",
        Some(json!({
            "clientId": settings["clientId"],
            "settings": [{"dataType": "invoices", "fetchOnFirstLink": true, "syncSchedule": 12,
                          "syncOrder": 0, "syncFromUtc": "2020-01-01T12:00:00.000Z",
                          "syncFromWindow": 24, "monthsToSync": 24, "isLocked": false}],
            "overridesDefaults": true
        })),
    )
    .await;
    assert_eq!(status, 204);
    let (_, settings) = call(
        w,
        c,
        "get-profile-syncSettings",
        Method::GET,
        "/profile/syncSettings",
        None,
    )
    .await;
    assert_eq!(settings["overridesDefaults"], true);
    // And without a key, every operation's 401 is Codat's too.
    let response = world
        .http
        .get(format!("{}/companies", world.server.base))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    contract.check(
        "list-companies",
        "no key",
        status,
        &response.text().await.unwrap(),
    );
    assert_eq!(status, 401);
}

/// A schema's properties and required names, `allOf` parts merged and `$ref`s (ours) resolved.
fn flatten(spec: &Value, schema: &Value) -> (serde_json::Map<String, Value>, Vec<String>) {
    let schema = resolve(spec, schema);
    let mut properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut required: Vec<String> = schema["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|n| n.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        let (more, more_required) = flatten(spec, part);
        properties.extend(more);
        required.extend(more_required);
    }
    (properties, required)
}

/// Follows `#/components/schemas/…` references of our document; one `oneOf`/`anyOf` arm that is
/// not `null` stands for the whole.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return resolve(spec, &spec["components"]["schemas"][name]);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(arms) = schema[key].as_array() {
            let real: Vec<&Value> = arms.iter().filter(|a| a["type"] != "null").collect();
            if real.len() == 1 {
                return resolve(spec, real[0]);
            }
        }
    }
    schema
}

/// The JSON types a schema allows, `null` included when it is nullable.
fn types(schema: &Value) -> Vec<String> {
    let mut out: Vec<String> = match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        _ => vec![],
    };
    for key in ["oneOf", "anyOf"] {
        if schema[key]
            .as_array()
            .is_some_and(|arms| arms.iter().any(|a| a["type"] == "null"))
        {
            out.push("null".into());
        }
    }
    out
}

fn is_extension(schema: &Value) -> bool {
    schema["description"]
        .as_str()
        .is_some_and(|d| d.contains("Ledgerline extension"))
}

/// Our schema at `path` against Codat's: every field Codat requires we require, our types and
/// enum values are Codat's, we allow `null` only where Codat does, and a field Codat does not
/// have is marked as our extension.
fn compare_schema(
    spec: &Value,
    ours: &Value,
    codat: &Value,
    path: &str,
    problems: &mut Vec<String>,
) {
    let ours = resolve(spec, ours);
    let (our_types, codat_types) = (types(ours), types(codat));
    if !codat_types.is_empty() {
        for t in &our_types {
            let compatible = codat_types.contains(t)
                || (t == "integer" && codat_types.contains(&"number".into()));
            if !compatible {
                problems.push(format!(
                    "{path}: type {t} where Codat allows {codat_types:?}"
                ));
            }
        }
    }
    if let (Some(our_enum), Some(codat_enum)) = (ours["enum"].as_array(), codat["enum"].as_array())
    {
        for value in our_enum {
            if !codat_enum.contains(value) {
                problems.push(format!("{path}: enum value {value} is not Codat's"));
            }
        }
    }
    if !ours["items"].is_null() && !codat["items"].is_null() {
        compare_schema(
            spec,
            &ours["items"],
            &codat["items"],
            &format!("{path}[]"),
            problems,
        );
    }
    let (our_properties, our_required) = flatten(spec, ours);
    let (codat_properties, codat_required) = flatten(&Value::Null, codat);
    // A free-form object of ours (`tracking`, `paymentAllocations` items, `datatypeFeatures`
    // items: always absent or empty here) promises nothing to compare.
    if codat_properties.is_empty() || our_properties.is_empty() {
        return;
    }
    for name in &codat_required {
        if !our_required.contains(name) {
            problems.push(format!(
                "{path}.{name}: Codat requires it, our document does not"
            ));
        }
    }
    for (name, schema) in &our_properties {
        match codat_properties.get(name) {
            Some(theirs) => {
                compare_schema(spec, schema, theirs, &format!("{path}.{name}"), problems)
            }
            None if is_extension(schema) => {}
            None => problems.push(format!(
                "{path}.{name}: not in Codat's schema and not described as a Ledgerline extension"
            )),
        }
    }
}

/// Codat's operation ids for a data type's list and get (`list-accounting-journal-entries`,
/// `get-accounting-journal-entry`; a single-record data type has only the get).
fn codat_operations(spec: &ledgerline::model::DatasetSpec) -> (String, String) {
    let kebab = |noun: &str| noun.replace(' ', "-");
    (
        format!("list-accounting-{}", kebab(spec.noun.1)),
        format!("get-accounting-{}", kebab(spec.noun.0)),
    )
}

/// One data type's reads as Codat documents them: every page at several sizes (sorted when the
/// data type can be), bad input, unknown and unpulled companies, and gets by id.
async fn check_data_type(
    w: &World,
    c: &Contract,
    spec: &ledgerline::model::DatasetSpec,
    pulled: &str,
    unpulled: &str,
    missing: &str,
) {
    let (list_op, get_op) = codat_operations(spec);
    let path = format!("/companies/{pulled}/data/{}", spec.path);
    let Some(_) = spec.id_param else {
        let (status, _) = call(w, c, &get_op, Method::GET, &path, None).await;
        assert_eq!(status, 200, "{path}");
        for (path, expected) in [
            (format!("/companies/{missing}/data/{}", spec.path), 404),
            (format!("/companies/{unpulled}/data/{}", spec.path), 409),
        ] {
            let (status, _) = call(w, c, &get_op, Method::GET, &path, None).await;
            assert_eq!(status, expected, "{path}");
        }
        return;
    };
    // Codat's accounting envelope allows `pageSize` up to 2000 in its answers, though the
    // parameter goes to 5000: pages of 2000 are the largest both agree on.
    let all = every_page(w, c, &list_op, &path, 2000).await;
    assert!(!all.is_empty(), "the demo division has {}", spec.key);
    let sorted = if spec.query_paths.contains(&"id") {
        format!("{path}?orderBy=-id")
    } else {
        path.clone()
    };
    for size in [1, 7, 100] {
        let page = every_page(w, c, &list_op, &sorted, size).await;
        assert_eq!(page.len(), all.len(), "{sorted} at {size} a page");
    }
    for (bad, expected) in [
        (format!("{path}?query=id%20%3E"), 400),
        (format!("{path}?pageSize=5001"), 400),
        (format!("/companies/{missing}/data/{}", spec.path), 404),
        (format!("/companies/{unpulled}/data/{}", spec.path), 409),
    ] {
        let (status, _) = call(w, c, &list_op, Method::GET, &bad, None).await;
        assert_eq!(status, expected, "{bad}");
    }
    for record in all.iter().take(25) {
        let id = record["id"].as_str().unwrap();
        let (status, got) = call(w, c, &get_op, Method::GET, &format!("{path}/{id}"), None).await;
        assert_eq!((status, &got), (200, record));
    }
    for (bad, expected) in [
        (format!("{path}/no-such-record"), 404),
        (format!("/companies/{unpulled}/data/{}/1", spec.path), 409),
    ] {
        let (status, _) = call(w, c, &get_op, Method::GET, &bad, None).await;
        assert_eq!(status, expected, "{bad}");
    }
}

/// Whether `path` is a data path Ledgerline serves (`/companies/{companyId}/data/invoices/…`), or
/// not a data path at all. Codat's fixture holds every accounting data type; the ones not in
/// `DATASETS` yet are skipped.
fn serves_data_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/companies/{companyId}/data/") else {
        return true;
    };
    let first = rest.split('/').next().unwrap_or_default();
    ["queue", "all", "history"].contains(&first)
        || ledgerline::model::DataType::from_path(first).is_some()
}

/// Our OpenAPI document against Codat's for every operation we share: parameters (names, where,
/// required, types, limits, enums), response codes, and the bodies' fields (required, types,
/// enums, nullability). What we add is described as a Ledgerline extension.
#[test]
fn our_openapi_agrees_with_codats_for_every_shared_operation() {
    let contract = Contract::load();
    let spec: Value = serde_json::from_str(&ledgerline::api::openapi_json()).unwrap();
    let mut problems = vec![];
    for (id, codat) in contract.operations.as_object().unwrap() {
        let method = codat["method"].as_str().unwrap().to_lowercase();
        let path = codat["path"].as_str().unwrap();
        let ours = &spec["paths"][path][&method];
        if ours.is_null() && !serves_data_path(path) {
            // A data type Ledgerline does not serve yet: nothing to compare.
            continue;
        }
        if ours.is_null() {
            problems.push(format!("{id}: {method} {path} is not in our document"));
            continue;
        }
        let codat_parameters = codat["parameters"].as_array().unwrap();
        let our_parameters = ours["parameters"].as_array().cloned().unwrap_or_default();
        for theirs in codat_parameters {
            let name = theirs["name"].as_str().unwrap();
            let Some(mine) = our_parameters.iter().find(|p| p["name"] == name) else {
                problems.push(format!("{id}: parameter {name} missing"));
                continue;
            };
            if mine["in"] != theirs["in"]
                || mine["required"].as_bool().unwrap_or(false) != theirs["required"]
            {
                problems.push(format!(
                    "{id}: parameter {name} is not in/required as Codat's"
                ));
            }
            let (m, t) = (&mine["schema"], &theirs["schema"]);
            let our_types: Vec<String> = types(m).into_iter().filter(|t| t != "null").collect();
            let their_types: Vec<String> = types(t).into_iter().filter(|t| t != "null").collect();
            if !their_types.is_empty() && our_types != their_types {
                problems.push(format!(
                    "{id}: parameter {name} is {our_types:?}, Codat's {their_types:?}"
                ));
            }
            for limit in ["minimum", "maximum", "default"] {
                if m[limit] != t[limit] && !t[limit].is_null() {
                    problems.push(format!(
                        "{id}: parameter {name} {limit} {} where Codat's is {}",
                        m[limit], t[limit]
                    ));
                }
            }
            if let (Some(ours), Some(codats)) = (m["enum"].as_array(), t["enum"].as_array()) {
                if ours.iter().any(|v| !codats.contains(v)) {
                    problems.push(format!("{id}: parameter {name} has values Codat's has not"));
                }
            }
        }
        for mine in &our_parameters {
            let name = mine["name"].as_str().unwrap();
            if !codat_parameters.iter().any(|p| p["name"] == name) && !is_extension(mine) {
                problems.push(format!(
                    "{id}: parameter {name} is ours alone and not marked as an extension"
                ));
            }
        }
        let codat_responses = codat["responses"].as_object().unwrap();
        for (code, response) in ours["responses"].as_object().unwrap() {
            if !codat_responses.contains_key(code) && !is_extension(response) {
                problems.push(format!("{id}: we document {code}, Codat does not (and it is not marked as an extension)"));
            }
            let body = &response["content"]["application/json"]["schema"];
            if let (false, Some(theirs)) = (
                body.is_null(),
                codat_responses.get(code).filter(|s| s.is_object()),
            ) {
                compare_schema(&spec, body, theirs, &format!("{id} {code}"), &mut problems);
            }
        }
    }
    // Every operation Codat does not have belongs to a tag described as our extension.
    let shared: Vec<(String, String)> = contract
        .operations
        .as_object()
        .unwrap()
        .values()
        .map(|o| {
            (
                o["method"].as_str().unwrap().to_lowercase(),
                o["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let extension_tags: Vec<&Value> = spec["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| is_extension(t))
        .map(|t| &t["name"])
        .collect();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let ours_alone = !shared.contains(&(method.clone(), path.clone()));
            let marked = operation["tags"]
                .as_array()
                .is_some_and(|tags| tags.iter().any(|t| extension_tags.contains(&t)));
            if ours_alone && !marked {
                problems.push(format!(
                    "{method} {path}: not Codat's, and not marked as a Ledgerline extension"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} disagreements:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
