//! The relations' people end to end, NL and UK: Exact's `crm/Contacts` read once a run through
//! `sync/CRM/Contacts` beside the accounts, served as each customer's and supplier's
//! `contactName` (the main contact's full name) and each customer's `contacts`, checked against
//! the sandbox's books; then a changed and a deleted contact arrive incrementally.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Value, json};

use super::all_records;
use super::incremental::{books, calls, pull_everything, spent};
use super::world::{NL_APP, UK_APP, World};

/// What the books say of one relation's people.
#[derive(Debug, Default)]
struct Expected {
    main: Option<String>,
    names: BTreeSet<String>,
}

/// Per relation (account GUID), its people as the sandbox's books hold them.
async fn expected_people(
    world: &World,
    region: &str,
    division: &str,
) -> BTreeMap<String, Expected> {
    let contacts = books(
        world,
        Method::GET,
        &format!("{region}/{division}/Contacts"),
        None,
    )
    .await;
    let accounts = books(
        world,
        Method::GET,
        &format!("{region}/{division}/Accounts"),
        None,
    )
    .await;
    let mut full_names = BTreeMap::new();
    let mut expected: BTreeMap<String, Expected> = BTreeMap::new();
    for contact in contacts.as_array().unwrap() {
        let name = contact["FullName"].as_str().unwrap().to_string();
        full_names.insert(contact["ID"].as_str().unwrap().to_string(), name.clone());
        expected
            .entry(contact["Account"].as_str().unwrap().to_string())
            .or_default()
            .names
            .insert(name);
    }
    for account in accounts.as_array().unwrap() {
        let id = account["ID"].as_str().unwrap().to_string();
        let entry = expected.entry(id).or_default();
        entry.main = account["MainContact"]
            .as_str()
            .map(|main| full_names[main].clone());
    }
    expected
}

/// The names of a customer's served contacts.
fn names(customer: &Value) -> BTreeSet<String> {
    customer["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn nl_and_uk_contact_names_and_contacts_match_the_books_at_one_read_per_1000() {
    let world = World::start().await;
    world.configure("exact-online-nl", NL_APP, true).await;
    world.configure("exact-online-uk", UK_APP, true).await;
    for (name, key, region, division, client_id) in [
        ("People BV", "exact-online-nl", "nl", "101001", NL_APP.0),
        ("People Ltd", "exact-online-uk", "uk", "201001", UK_APP.0),
    ] {
        let company = world.linked_and_pulled(name, key, division).await;
        let summary = world
            .sandbox_json(&format!("books/{region}/{division}/summary"))
            .await;
        let counts = &summary["contacts"];
        let expected = expected_people(&world, region, division).await;

        let customers = all_records(&world, &company, "customers", 100).await;
        let suppliers = all_records(&world, &company, "suppliers", 100).await;
        let mut served_contacts = 0;
        let (mut several, mut none, mut without_email, mut without_phone) = (0, 0, 0, 0);
        for customer in &customers {
            let id = customer["id"].as_str().unwrap();
            let books = &expected[id];
            assert_eq!(
                customer["contactName"].as_str(),
                books.main.as_deref(),
                "{region}: {customer}"
            );
            assert_eq!(names(customer), books.names, "{region}: {customer}");
            let contacts = customer["contacts"].as_array().unwrap();
            served_contacts += contacts.len() as u64;
            match contacts.len() {
                0 => none += 1,
                1 => {}
                _ => several += 1,
            }
            if let Some(main) = &books.main {
                assert_eq!(contacts[0]["name"], main.as_str(), "the main contact first");
            }
            for contact in contacts {
                assert_eq!(contact["status"], "Active", "{contact}");
                assert!(!contact.to_string().contains("null"), "{contact}");
                without_email += u64::from(contact.get("email").is_none());
                without_phone += u64::from(contact["phone"].as_array().unwrap().is_empty());
                for phone in contact["phone"].as_array().unwrap() {
                    let kind = phone["type"].as_str().unwrap();
                    assert!(["Primary", "Mobile", "Fax"].contains(&kind), "{contact}");
                }
                if let Some(address) = contact.get("address") {
                    assert_eq!(address["type"], "Unknown", "{contact}");
                }
                assert!(contact["modifiedDate"].is_string(), "{contact}");
            }
        }
        assert_eq!(
            served_contacts,
            counts["of_customers"].as_u64().unwrap(),
            "{region}: every customer's contact, once"
        );
        assert!(
            several > 0 && none > 0,
            "{region}: {several} with several, {none} with none"
        );
        assert!(without_email > 0 && without_phone > 0, "{region}");
        let with_name = customers
            .iter()
            .chain(&suppliers)
            .filter(|r| r["contactName"].is_string())
            .count();
        assert!(with_name > 0, "{region}");
        for supplier in &suppliers {
            let id = supplier["id"].as_str().unwrap();
            assert_eq!(
                supplier["contactName"].as_str(),
                expected[id].main.as_deref(),
                "{region}: {supplier}"
            );
            assert!(
                supplier.get("contacts").is_none(),
                "Codat's Supplier has none"
            );
        }
        let relations_with_main = customers
            .iter()
            .chain(&suppliers)
            .filter(|r| r["contactName"].is_string())
            .map(|r| r["id"].as_str().unwrap())
            .collect::<BTreeSet<_>>()
            .len() as u64;
        assert_eq!(
            relations_with_main,
            counts["relations_with_main_contact"].as_u64().unwrap(),
            "{region}: every relation's main contact named"
        );

        // One read of sync/CRM/Contacts: ⌈rows/1000⌉ calls, and no other read of the contacts.
        let calls = calls(&world, region, client_id, division).await;
        let rows = summary["counts"]["Contacts"].as_u64().unwrap();
        assert_eq!(rows, counts["contacts"].as_u64().unwrap());
        assert_ne!(rows % 1000, 0, "no trailing empty page to allow for");
        assert_eq!(
            calls["sync/CRM/Contacts"],
            rows.div_ceil(1000),
            "{region}: {calls:?}"
        );
        for other in ["crm/Contacts", "bulk/CRM/Contacts", "bulk/CRM/Accounts"] {
            assert!(!calls.contains_key(other), "{region}: {calls:?}");
        }
    }
}

#[tokio::test]
async fn a_changed_and_a_deleted_contact_arrive_incrementally_nl_and_uk() {
    let world = World::start().await;
    world.configure("exact-online-nl", NL_APP, true).await;
    world.configure("exact-online-uk", UK_APP, true).await;
    for (name, key, region, division, client_id) in [
        (
            "Changing People BV",
            "exact-online-nl",
            "nl",
            "101001",
            NL_APP.0,
        ),
        (
            "Changing People Ltd",
            "exact-online-uk",
            "uk",
            "201001",
            UK_APP.0,
        ),
    ] {
        let company = world.linked_and_pulled(name, key, division).await;
        let at = |path: &str| format!("{region}/{division}/{path}");
        let customers = all_records(&world, &company, "customers", 5000).await;
        let by_id = |records: &[Value]| -> BTreeMap<String, Value> {
            records
                .iter()
                .map(|r| (r["id"].as_str().unwrap().to_string(), r.clone()))
                .collect()
        };
        // A customer with several people: its main contact is renamed, another one deleted.
        let busy = customers
            .iter()
            .find(|c| c["contacts"].as_array().unwrap().len() >= 2)
            .expect("some customers have several contacts");
        let busy_id = busy["id"].as_str().unwrap().to_string();
        let untouched = customers
            .iter()
            .find(|c| c["id"] != busy["id"] && !c["contacts"].as_array().unwrap().is_empty())
            .unwrap()
            .clone();
        let people = books(
            &world,
            Method::GET,
            &at(&format!("Contacts?$filter=Account eq guid'{busy_id}'")),
            None,
        )
        .await;
        let people = people.as_array().unwrap();
        let main = people.iter().find(|p| p["IsMainContact"] == true).unwrap();
        let other = people.iter().find(|p| p["IsMainContact"] == false).unwrap();
        let main_id = main["ID"].as_str().unwrap();
        let other_name = other["FullName"].as_str().unwrap().to_string();

        books(
            &world,
            Method::PATCH,
            &at(&format!("Contacts/guid'{main_id}'")),
            Some(json!({"FirstName": "Renamed", "Email": "renamed@example.com"})),
        )
        .await;
        // `modifiedDate` has whole seconds: let one pass, so a rewrite shows in it.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let before = calls(&world, region, client_id, division).await;
        pull_everything(&world, &company).await;
        let spent_on_change = spent(&before, &calls(&world, region, client_id, division).await);
        eprintln!("{region}: after a changed contact: {spent_on_change:?}");
        for (endpoint, n) in [
            ("sync/CRM/Accounts", 1),
            ("sync/CRM/Contacts", 1),
            ("bulk/CRM/Accounts", 1),
            ("bulk/CRM/Contacts", 1),
        ] {
            assert_eq!(
                spent_on_change.get(endpoint),
                Some(&n),
                "{region}: {spent_on_change:?}"
            );
        }
        let served = by_id(&all_records(&world, &company, "customers", 5000).await);
        let renamed = &served[&busy_id];
        let renamed_name = renamed["contactName"].as_str().unwrap();
        assert!(renamed_name.starts_with("Renamed "), "{region}: {renamed}");
        assert_eq!(renamed["contacts"][0]["name"], renamed_name);
        assert_eq!(renamed["contacts"][0]["email"], "renamed@example.com");
        assert_eq!(
            renamed["contacts"].as_array().unwrap().len(),
            people.len(),
            "{region}: the relation pushed whole, every person in it"
        );
        assert_ne!(renamed["modifiedDate"], busy["modifiedDate"]);
        let untouched_id = untouched["id"].as_str().unwrap();
        assert_eq!(
            served[untouched_id], untouched,
            "{region}: others as they were"
        );

        books(
            &world,
            Method::DELETE,
            &at(&format!("Contacts/guid'{}'", other["ID"].as_str().unwrap())),
            None,
        )
        .await;
        let before = calls(&world, region, client_id, division).await;
        pull_everything(&world, &company).await;
        let spent_on_delete = spent(&before, &calls(&world, region, client_id, division).await);
        eprintln!("{region}: after a deleted contact: {spent_on_delete:?}");
        // The deleted log names the contact, not its relation; the store knows whose it was:
        // only that relation is re-read (its account and its people by key), no full read.
        for (endpoint, n) in [
            ("sync/CRM/Accounts", 1),
            ("sync/CRM/Contacts", 1),
            ("sync/Deleted", 1),
            ("bulk/CRM/Accounts", 1),
            ("bulk/CRM/Contacts", 1),
        ] {
            assert_eq!(
                spent_on_delete.get(endpoint),
                Some(&n),
                "{region}: {spent_on_delete:?}"
            );
        }
        let customers_now = all_records(&world, &company, "customers", 5000).await;
        let served = by_id(&customers_now);
        let busy_now = &served[&busy_id];
        assert_eq!(
            busy_now["contacts"].as_array().unwrap().len(),
            people.len() - 1,
            "{region}: {busy_now}"
        );
        assert!(
            !names(busy_now).contains(&other_name),
            "{region}: {busy_now}"
        );
        assert_eq!(
            busy_now["contactName"], renamed_name,
            "the main contact stays"
        );
        assert_eq!(
            served[untouched_id], untouched,
            "{region}: others not rewritten"
        );

        // A second pull finds nothing new: the deletion is not applied again.
        let before = calls(&world, region, client_id, division).await;
        pull_everything(&world, &company).await;
        let quiet = spent(&before, &calls(&world, region, client_id, division).await);
        assert_eq!(
            quiet.get("sync/CRM/Contacts"),
            Some(&1),
            "{region}: {quiet:?}"
        );
        assert_eq!(
            quiet.get("sync/CRM/Accounts"),
            Some(&1),
            "{region}: {quiet:?}"
        );
        assert_eq!(
            all_records(&world, &company, "customers", 5000).await,
            customers_now
        );
    }
}

/// When more relations changed than re-reading them by key pays for (20 a call, against
/// ⌈rows/1000⌉ for all), the run reads them all instead: the calls stay at the floor.
#[tokio::test]
async fn many_changed_relations_are_read_in_full_not_twenty_a_call() {
    let world = World::start().await;
    world.configure("exact-online-nl", NL_APP, true).await;
    let (region, division) = ("nl", "101001");
    let company = world
        .linked_and_pulled("Mass Change BV", "exact-online-nl", division)
        .await;
    let accounts = books(
        &world,
        Method::GET,
        &format!("{region}/{division}/Accounts"),
        None,
    )
    .await;
    let accounts = accounts.as_array().unwrap();
    let contacts = books(
        &world,
        Method::GET,
        &format!("{region}/{division}/Contacts"),
        None,
    )
    .await;
    let floor = (accounts.len() as u64).div_ceil(1000)
        + (contacts.as_array().unwrap().len() as u64).div_ceil(1000);
    // Enough changed relations that their people by key (20 a call) would cost more than the
    // floor.
    let changes = floor as usize * 20 + 1;
    assert!(accounts.len() >= changes, "{} accounts", accounts.len());
    for account in &accounts[..changes] {
        let id = account["ID"].as_str().unwrap();
        books(
            &world,
            Method::PATCH,
            &format!("{region}/{division}/Accounts/guid'{id}'"),
            Some(json!({"Website": "https://changed.example"})),
        )
        .await;
    }
    let before = calls(&world, region, NL_APP.0, division).await;
    pull_everything(&world, &company).await;
    let spent = spent(&before, &calls(&world, region, NL_APP.0, division).await);
    eprintln!("{region}: after {changes} changed relations: {spent:?}");
    assert!(!spent.contains_key("bulk/CRM/Contacts"), "{spent:?}");
    let relations = spent["sync/CRM/Accounts"] + spent["sync/CRM/Contacts"];
    assert_eq!(
        relations,
        2 + floor,
        "one incremental read each, then all: {spent:?}"
    );
    let expected = expected_people(&world, region, division).await;
    for customer in all_records(&world, &company, "customers", 5000).await {
        let books = &expected[customer["id"].as_str().unwrap()];
        assert_eq!(customer["contactName"].as_str(), books.main.as_deref());
        assert_eq!(names(&customer), books.names);
    }
}
