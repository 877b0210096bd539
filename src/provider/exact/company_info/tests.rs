//! The company info mapping on `system/Divisions` rows shaped like Exact's (PQ
//! `SystemDivision.php` fields), NL and UK.

use serde_json::{Value, json};

use super::*;
use crate::provider::exact::row;

fn typed(value: Value) -> DivisionRow {
    row::parse(value).unwrap()
}

#[test]
fn an_nl_division() {
    let row = typed(json!({
        "__metadata": {"uri": "https://start.exactonline.nl/api/v1/101001/system/Divisions(101001)",
                       "type": "Exact.Web.Api.Models.System.Division"},
        "Code": 101001, "Description": "Ledgerline Demo B.V.", "Currency": "EUR", "Country": "NL",
        "VATNumber": "NL123456789B01", "ChamberOfCommerceNumber": "12345678",
        "AddressLine1": "Keizersgracht 12", "AddressLine2": null, "AddressLine3": "  ",
        "City": "Amsterdam", "Postcode": "1015 CX", "State": null, "Phone": "+31 20 123 4567",
        "Website": "https://www.ledgerline.nl", "Created": "/Date(1700000000000)/",
        "Hid": 101001, "Status": 1,
    }));
    let info = map_company_info(&row);
    assert_eq!(info.company_name.as_deref(), Some("Ledgerline Demo B.V."));
    assert_eq!(info.accounting_platform_ref.as_deref(), Some("101001"));
    assert_eq!(info.base_currency.as_deref(), Some("EUR"));
    assert_eq!(info.registration_number.as_deref(), Some("12345678"));
    assert_eq!(info.tax_number.as_deref(), Some("NL123456789B01"));
    assert_eq!(info.created_date.as_deref(), Some("2023-11-14T22:13:20"));
    assert_eq!(
        info.addresses,
        vec![Address {
            r#type: AddressType::Billing,
            line1: Some("Keizersgracht 12".into()),
            line2: None,
            city: Some("Amsterdam".into()),
            region: None,
            country: Some("NL".into()),
            postal_code: Some("1015 CX".into()),
        }]
    );
    assert_eq!(info.phone_numbers[0].r#type, PhoneNumberType::Primary);
    assert_eq!(
        info.web_links[0].url.as_deref(),
        Some("https://www.ledgerline.nl")
    );
    let json = serde_json::to_string(&info).unwrap();
    assert!(!json.contains("null"), "{json}");
}

#[test]
fn a_uk_division_with_its_lines_joined_and_a_bare_one() {
    let row = typed(json!({
        "Code": 201001, "Description": "Ledgerline Demo Ltd", "Currency": "GBP", "Country": "GB",
        "VATNumber": "GB123456789", "ChamberOfCommerceNumber": "01234567",
        "AddressLine1": "1 High Street", "AddressLine2": "Unit 4", "AddressLine3": "Old Town",
        "City": "Bristol", "Postcode": "BS1 4DJ", "State": "Avon",
    }));
    let info = map_company_info(&row);
    assert_eq!(info.base_currency.as_deref(), Some("GBP"));
    assert_eq!(info.registration_number.as_deref(), Some("01234567"));
    let address = &info.addresses[0];
    assert_eq!(address.line2.as_deref(), Some("Unit 4, Old Town"));
    assert_eq!(address.region.as_deref(), Some("Avon"));
    assert!(info.phone_numbers.is_empty() && info.web_links.is_empty());

    // A division row with nothing but its code: no invented address, nothing null.
    let bare = map_company_info(&typed(json!({"Code": 201002})));
    assert!(bare.addresses.is_empty());
    assert_eq!(bare.company_name, None);
    assert_eq!(
        serde_json::to_string(&bare).unwrap(),
        r#"{"accountingPlatformRef":"201002","addresses":[],"phoneNumbers":[],"webLinks":[]}"#
    );
}

#[test]
fn the_division_select_is_derived_from_the_typed_row() {
    let select = row::select::<DivisionRow>();
    for field in [
        "Code",
        "Currency",
        "VATNumber",
        "ChamberOfCommerceNumber",
        "AddressLine1",
    ] {
        assert!(select.split(',').any(|f| f == field), "{field} in {select}");
    }
}
