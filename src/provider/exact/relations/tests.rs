//! The relations mapping on rows shaped like Exact's `sync/CRM/Accounts` answers (EXACT.md §7:
//! padded codes, `/Date()/` local times, blanks for what is unknown), NL and UK.

use serde_json::{Value, json};

use super::*;
use crate::model::{Contact, PhoneNumber, PhoneNumberType};
use crate::provider::exact::row;

fn typed(value: Value) -> AccountRow {
    row::parse(value).unwrap()
}

/// A Dutch customer as `sync/CRM/Accounts` sends it.
fn nl_customer() -> Value {
    json!({
        "__metadata": {"uri": "…", "type": "Exact.Web.Api.Models.Sync.CRM.Account"},
        "Timestamp": "41280097",
        "ID": "3ba9d1d4-1e8a-4f5a-9e3c-0c0e2f1a7b11",
        "Code": "             10001",
        "Name": "Bakkerij de Vries B.V.",
        "Status": "C",
        "Type": "A",
        "IsSales": true,
        "IsSupplier": false,
        "IsPurchase": false,
        "Blocked": false,
        "Email": "info@bakkerijdevries.nl",
        "Phone": "+31 20 555 0123",
        "AddressLine1": "Kalverstraat 12",
        "AddressLine2": "",
        "AddressLine3": null,
        "City": "Amsterdam",
        "Postcode": "1012 NX",
        "State": null,
        "Country": "NL ",
        "CountryName": "Nederland",
        "VATNumber": "NL853746192B01",
        "ChamberOfCommerce": "34123456",
        "SalesCurrency": "EUR",
        "PurchaseCurrency": "EUR",
        "Modified": "/Date(1736935920000)/"
    })
}

/// A British supplier, blocked, that is also a customer (Status C), invoicing in GBP.
fn uk_supplier_and_customer() -> Value {
    json!({
        "Timestamp": 5120044,
        "ID": "9f0e7c2a-4b1d-4e3f-8a6b-2c1d0e9f8a77",
        "Code": "             20006",
        "Name": "Thames Office Supplies Ltd",
        "Status": "C",
        "Type": "A",
        "IsSales": true,
        "IsSupplier": true,
        "IsPurchase": true,
        "Blocked": true,
        "Email": "info@thamesofficesupplies.co.uk",
        "Phone": "+44 20 7946 0018",
        "AddressLine1": "Unit 4",
        "AddressLine2": "Riverside Park",
        "AddressLine3": "Wharf Road",
        "City": "London",
        "Postcode": "SE1 9PX",
        "State": "LND",
        "Country": "GB",
        "VATNumber": "GB123456782",
        "ChamberOfCommerce": "08123456",
        "SalesCurrency": "GBP",
        "PurchaseCurrency": "EUR",
        "Modified": "/Date(1739491200000)/"
    })
}

#[test]
fn an_nl_customer_maps_every_field_and_is_no_supplier() {
    let relation = map_relation(&typed(nl_customer()), &[]).unwrap();
    assert!(relation.supplier.is_none(), "IsSupplier is false");
    let customer = relation.customer.expect("Status C");
    assert_eq!(customer.id, "3ba9d1d4-1e8a-4f5a-9e3c-0c0e2f1a7b11");
    assert_eq!(
        customer.customer_name.as_deref(),
        Some("Bakkerij de Vries B.V.")
    );
    assert_eq!(
        customer.email_address.as_deref(),
        Some("info@bakkerijdevries.nl")
    );
    assert_eq!(customer.phone.as_deref(), Some("+31 20 555 0123"));
    assert_eq!(customer.default_currency.as_deref(), Some("EUR"));
    assert_eq!(customer.tax_number.as_deref(), Some("NL853746192B01"));
    assert_eq!(customer.registration_number.as_deref(), Some("34123456"));
    assert_eq!(customer.status, CustomerStatus::Active);
    assert_eq!(
        customer.source_modified_date.as_deref(),
        Some("2025-01-15T10:12:00"),
        "Exact's wall-clock time, without a zone"
    );
    assert_eq!(customer.metadata.is_deleted, Some(false));
    let address = Address {
        r#type: AddressType::Billing,
        line1: Some("Kalverstraat 12".into()),
        line2: None,
        city: Some("Amsterdam".into()),
        region: None,
        country: Some("NL".into()),
        postal_code: Some("1012 NX".into()),
    };
    assert_eq!(customer.addresses, vec![address]);
    assert!(customer.contacts.is_empty(), "no people in crm/Contacts");
    assert_eq!(customer.contact_name, None, "no main contact");
}

#[test]
fn a_uk_account_of_both_roles_is_a_customer_and_a_supplier_under_one_id() {
    let relation = map_relation(&typed(uk_supplier_and_customer()), &[]).unwrap();
    let customer = relation.customer.expect("Status C and IsSales");
    let supplier = relation.supplier.expect("IsSupplier");
    assert_eq!(customer.id, supplier.id);
    assert_eq!(
        supplier.supplier_name.as_deref(),
        Some("Thames Office Supplies Ltd")
    );
    // Each side's own currency.
    assert_eq!(customer.default_currency.as_deref(), Some("GBP"));
    assert_eq!(supplier.default_currency.as_deref(), Some("EUR"));
    assert_eq!(supplier.tax_number.as_deref(), Some("GB123456782"));
    assert_eq!(supplier.registration_number.as_deref(), Some("08123456"));
    // Blocked is archived on both sides.
    assert_eq!(customer.status, CustomerStatus::Archived);
    assert_eq!(supplier.status, SupplierStatus::Archived);
    let address = &supplier.addresses[0];
    assert_eq!(address.line2.as_deref(), Some("Riverside Park, Wharf Road"));
    assert_eq!(address.region.as_deref(), Some("LND"));
    assert_eq!(address.postal_code.as_deref(), Some("SE1 9PX"));
    assert_eq!(customer.addresses, supplier.addresses);
}

#[test]
fn the_role_comes_from_status_c_or_is_sales_and_from_is_supplier() {
    let role = |status: &str, sales: bool, supplier: bool| {
        let mut row = nl_customer();
        row["Status"] = json!(status);
        row["IsSales"] = json!(sales);
        row["IsSupplier"] = json!(supplier);
        let r = map_relation(&typed(row), &[]).unwrap();
        (r.customer.is_some(), r.supplier.is_some())
    };
    assert_eq!(role("C", false, false), (true, false), "Status C alone");
    assert_eq!(role("A", true, false), (true, false), "IsSales alone");
    assert_eq!(role("A", false, true), (false, true), "a supplier only");
    assert_eq!(
        role("P", false, false),
        (false, false),
        "a prospect is neither"
    );
    assert_eq!(
        role("S", false, false),
        (false, false),
        "a suspect is neither"
    );
    // Exact also sends booleans as 0/1 on some endpoints.
    let mut row = nl_customer();
    row["IsSupplier"] = json!(1);
    row["Blocked"] = json!(1);
    let r = map_relation(&typed(row), &[]).unwrap();
    assert_eq!(r.supplier.unwrap().status, SupplierStatus::Archived);
}

#[test]
fn missing_and_blank_fields_are_absent_never_null() {
    let row = json!({
        "Timestamp": "7", "ID": "0c1d2e3f-0000-4000-8000-000000000001", "Name": "Kaal BV",
        "Status": "C", "IsSales": true, "IsSupplier": true, "Blocked": false,
        "Email": "", "Phone": "   ", "AddressLine1": null, "City": "", "Country": "  ",
        "VATNumber": "", "ChamberOfCommerce": null, "SalesCurrency": ""
    });
    let relation = map_relation(&typed(row), &[]).unwrap();
    let customer = relation.customer.unwrap();
    assert!(
        customer.addresses.is_empty(),
        "no part of an address, no address"
    );
    assert!(customer.contacts.is_empty(), "no people, no contacts");
    let json = serde_json::to_string(&customer).unwrap();
    assert!(!json.contains("null"), "{json}");
    assert_eq!(
        json,
        r#"{"id":"0c1d2e3f-0000-4000-8000-000000000001","customerName":"Kaal BV","status":"Active","addresses":[],"contacts":[],"metadata":{"isDeleted":false}}"#
    );
    let supplier = serde_json::to_string(&relation.supplier.unwrap()).unwrap();
    assert_eq!(
        supplier,
        r#"{"id":"0c1d2e3f-0000-4000-8000-000000000001","supplierName":"Kaal BV","status":"Active","addresses":[],"metadata":{"isDeleted":false}}"#
    );
    // Without Blocked Exact did not say: Unknown, inside Codat's enum.
    let unsure = typed(json!({"ID": "x", "IsSupplier": true}));
    let supplier = map_relation(&unsure, &[]).unwrap().supplier.unwrap();
    assert_eq!(supplier.status, SupplierStatus::Unknown);
    assert!(SupplierStatus::ALL.contains(&supplier.status));
    // An account without an ID cannot be referred to: an error, not a record.
    assert!(map_relation(&typed(json!({"Name": "No id", "Status": "C"})), &[]).is_err());
}

#[test]
fn every_status_and_address_type_produced_is_inside_codats_enums() {
    for row in [nl_customer(), uk_supplier_and_customer()] {
        for blocked in [json!(true), json!(false), Value::Null] {
            let mut row = row.clone();
            row["Blocked"] = blocked;
            row["IsSupplier"] = json!(true);
            let r = map_relation(&typed(row), &[]).unwrap();
            let customer = r.customer.unwrap();
            let supplier = r.supplier.unwrap();
            assert!(CustomerStatus::ALL.contains(&customer.status));
            assert!(SupplierStatus::ALL.contains(&supplier.status));
            for address in customer.addresses.iter().chain(&supplier.addresses) {
                assert!(AddressType::ALL.contains(&address.r#type));
            }
        }
    }
}

fn person(value: Value) -> ContactRow {
    row::parse(value).unwrap()
}

/// The people of the Dutch customer as `sync/CRM/Contacts` sends them: the main contact with a
/// tussenvoegsel, a colleague with a mobile, a fax and an address of her own, and one with
/// neither e-mail nor phone.
fn nl_people() -> Vec<ContactRow> {
    let account = "3ba9d1d4-1e8a-4f5a-9e3c-0c0e2f1a7b11";
    vec![
        person(json!({
            "Timestamp": "41280110", "ID": "a1000000-0000-4000-8000-000000000002",
            "Account": account, "IsMainContact": false, "FullName": "Anouk Bakker",
            "FirstName": "Anouk", "MiddleName": null, "LastName": "Bakker",
            "Email": "anouk.bakker@bakkerijdevries.nl", "Phone": null, "Mobile": "+31 6 1234 5678",
            "BusinessFax": "+31 20 555 0199", "AddressStreet": "Prinsengracht",
            "AddressStreetNumber": "263", "AddressStreetNumberSuffix": "A", "AddressLine2": "",
            "City": "Amsterdam", "State": null, "Postcode": "1016 GV", "Country": "NL ",
            "Modified": "/Date(1736935920000)/"
        })),
        person(json!({
            "Timestamp": "41280100", "ID": "a1000000-0000-4000-8000-000000000001",
            "Account": account, "IsMainContact": true, "FullName": "Pieter van der Meer",
            "FirstName": "Pieter", "MiddleName": "van der", "LastName": "Meer",
            "Email": "pieter.meer@bakkerijdevries.nl", "Phone": "+31 20 555 0124",
            "Mobile": null, "BusinessFax": null, "AddressStreet": null, "City": null,
            "Country": null, "Modified": "/Date(1736935920000)/"
        })),
        person(json!({
            "Timestamp": "41280120", "ID": "a1000000-0000-4000-8000-000000000003",
            "Account": account, "IsMainContact": false, "FullName": "",
            "FirstName": "Daan", "MiddleName": "de", "LastName": "Vries",
            "Email": "", "Phone": null, "Mobile": null, "Modified": "/Date(1736935920000)/"
        })),
    ]
}

#[test]
fn an_nl_customer_names_its_main_contact_and_lists_its_people_main_first() {
    let mut row = nl_customer();
    row["MainContact"] = json!("a1000000-0000-4000-8000-000000000001");
    row["IsSupplier"] = json!(true);
    let relation = map_relation(&typed(row), &nl_people()).unwrap();
    let customer = relation.customer.unwrap();
    let supplier = relation.supplier.unwrap();
    assert_eq!(
        customer.contact_name.as_deref(),
        Some("Pieter van der Meer")
    );
    assert_eq!(supplier.contact_name, customer.contact_name);
    let names: Vec<Option<&str>> = customer
        .contacts
        .iter()
        .map(|c| c.name.as_deref())
        .collect();
    assert_eq!(
        names,
        [
            Some("Pieter van der Meer"),
            Some("Anouk Bakker"),
            Some("Daan de Vries")
        ],
        "the main contact first, then by name; a blank FullName is composed from its parts"
    );
    let anouk = &customer.contacts[1];
    assert_eq!(
        anouk,
        &Contact {
            status: CustomerStatus::Active,
            name: Some("Anouk Bakker".into()),
            email: Some("anouk.bakker@bakkerijdevries.nl".into()),
            phone: vec![
                PhoneNumber {
                    r#type: PhoneNumberType::Mobile,
                    number: Some("+31 6 1234 5678".into())
                },
                PhoneNumber {
                    r#type: PhoneNumberType::Fax,
                    number: Some("+31 20 555 0199".into())
                },
            ],
            address: Some(Address {
                r#type: AddressType::Unknown,
                line1: Some("Prinsengracht 263A".into()),
                line2: None,
                city: Some("Amsterdam".into()),
                region: None,
                country: Some("NL".into()),
                postal_code: Some("1016 GV".into()),
            }),
            modified_date: Some("2025-01-15T10:12:00".into()),
        }
    );
    let pieter = &customer.contacts[0];
    assert_eq!(
        pieter.phone,
        vec![PhoneNumber {
            r#type: PhoneNumberType::Primary,
            number: Some("+31 20 555 0124".into())
        }]
    );
    assert_eq!(pieter.address, None, "no part of an address, no address");
    let daan = serde_json::to_string(&customer.contacts[2]).unwrap();
    assert_eq!(
        daan,
        r#"{"status":"Active","name":"Daan de Vries","phone":[],"modifiedDate":"2025-01-15T10:12:00"}"#,
        "no e-mail, no phone: left out, never null"
    );
}

#[test]
fn a_uk_relation_without_main_contact_guid_falls_back_to_is_main_contact() {
    let account = "9f0e7c2a-4b1d-4e3f-8a6b-2c1d0e9f8a77";
    let people = vec![
        person(json!({
            "Timestamp": 5120050, "ID": "b2000000-0000-4000-8000-000000000001",
            "Account": account, "IsMainContact": 1, "FullName": "Oliver O'Brien",
            "FirstName": "Oliver", "LastName": "O'Brien",
            "Email": "oliver.obrien@thamesofficesupplies.co.uk", "Phone": "+44 20 7946 0019",
            "AddressStreet": "Wharf Road", "AddressStreetNumber": "4", "City": "London",
            "Postcode": "SE1 9PX", "State": "LND", "Country": "GB",
            "Modified": "/Date(1739491200000)/"
        })),
        person(json!({
            "Timestamp": 5120051, "ID": "b2000000-0000-4000-8000-000000000002",
            "Account": account, "IsMainContact": 0, "FullName": "Amelia Clarke",
            "Email": null, "Phone": "", "Mobile": "+44 7700 900123"
        })),
    ];
    let relation = map_relation(&typed(uk_supplier_and_customer()), &people).unwrap();
    let customer = relation.customer.unwrap();
    assert_eq!(customer.contact_name.as_deref(), Some("Oliver O'Brien"));
    assert_eq!(
        relation.supplier.unwrap().contact_name.as_deref(),
        Some("Oliver O'Brien")
    );
    assert_eq!(customer.contacts.len(), 2);
    let oliver = &customer.contacts[0];
    assert_eq!(
        oliver.status,
        CustomerStatus::Active,
        "even of a blocked relation"
    );
    let address = oliver.address.as_ref().unwrap();
    assert_eq!(address.line1.as_deref(), Some("Wharf Road 4"));
    assert_eq!(address.region.as_deref(), Some("LND"));
    assert_eq!(
        customer.contacts[1].phone,
        vec![PhoneNumber {
            r#type: PhoneNumberType::Mobile,
            number: Some("+44 7700 900123".into())
        }]
    );
    // A MainContact naming nobody among its people, and nobody flagged: no contactName.
    let mut row = uk_supplier_and_customer();
    row["MainContact"] = json!("b2000000-0000-4000-8000-00000000dead");
    let unflagged: Vec<ContactRow> = people
        .into_iter()
        .map(|mut p| {
            p.is_main_contact = Some(false);
            p
        })
        .collect();
    let relation = map_relation(&typed(row), &unflagged).unwrap();
    assert_eq!(relation.customer.unwrap().contact_name, None);
    // Every phone type produced is inside Codat's enum.
    for contact in contacts::map_contacts(None, &nl_people()) {
        for phone in contact.phone {
            assert!(matches!(
                phone.r#type,
                PhoneNumberType::Primary | PhoneNumberType::Mobile | PhoneNumberType::Fax
            ));
        }
    }
}

#[test]
fn the_contact_select_is_derived_from_the_typed_row() {
    let select = row::select::<ContactRow>();
    for field in [
        "Timestamp",
        "ID",
        "Account",
        "IsMainContact",
        "FullName",
        "MiddleName",
        "BusinessFax",
    ] {
        assert!(select.split(',').any(|f| f == field), "{field} in {select}");
    }
    assert!(
        row::select::<AccountRow>()
            .split(',')
            .any(|f| f == "MainContact")
    );
}
