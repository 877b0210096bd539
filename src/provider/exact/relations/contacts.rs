//! Exact's people of a relation (`crm/Contacts`, read through `sync/CRM/Contacts`) → Codat's
//! customer `contacts` and the customer's or supplier's `contactName`.
//!
//! | Exact (`crm/Contacts`) | Codat | why |
//! |---|---|---|
//! | `Account` | — | the relation (`crm/Accounts.ID`) the contact belongs to: its customer and/or supplier |
//! | relation's `MainContact` = `ID` | `contactName` (customer and supplier) | the main contact's full name; when the relation names none, the contact flagged `IsMainContact`; no main contact, no `contactName` |
//! | `FullName`, else `FirstName` `MiddleName` `LastName` | `contacts[].name` | Exact composes `FullName` from the parts (NL names carry a `MiddleName` such as "van der") |
//! | `Email` | `contacts[].email` | `BusinessEmail` holds the same value |
//! | `Phone` | `contacts[].phone[]` `Primary` | the contact's business number |
//! | `Mobile` | `contacts[].phone[]` `Mobile` | |
//! | `BusinessFax` | `contacts[].phone[]` `Fax` | |
//! | `AddressStreet` `AddressStreetNumber``AddressStreetNumberSuffix`, `AddressLine2`, `City`, `State`, `Postcode`, `Country` | `contacts[].address` (`Unknown`) | only when Exact holds one of its parts; a person's own address is neither billing nor delivery |
//! | — | `contacts[].status` | `Active`: Exact lists the people of a relation, blocked or not |
//! | `Modified` | `contacts[].modifiedDate` | local wall-clock time |
//!
//! A customer's `contacts` are its people, the main contact first and then by name; a relation
//! without people has none (its own `Email` and `Phone` stay on the customer's `emailAddress` and
//! `phone`). Codat's Supplier has no `contacts`, only `contactName`.

use chrono::NaiveDateTime;
use serde::Deserialize;

use super::super::row::de;
use crate::model::{
    Address, AddressType, Contact, CustomerStatus, PhoneNumber, PhoneNumberType, local_datetime,
};

/// One row of `sync/CRM/Contacts` (and of `bulk/CRM/Contacts`, without `Timestamp`). Only what
/// the mapping reads; the pull's `$select` is these fields.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ContactRow {
    #[serde(deserialize_with = "de::int64")]
    pub timestamp: Option<i64>,
    #[serde(rename = "ID", deserialize_with = "de::text")]
    pub id: Option<String>,
    /// The relation's GUID.
    #[serde(deserialize_with = "de::text")]
    pub account: Option<String>,
    #[serde(deserialize_with = "de::flag")]
    pub is_main_contact: Option<bool>,
    #[serde(deserialize_with = "de::text")]
    pub full_name: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub first_name: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub middle_name: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub last_name: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub email: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub phone: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub mobile: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub business_fax: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub address_street: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub address_street_number: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub address_street_number_suffix: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub address_line2: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub city: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub state: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub postcode: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub country: Option<String>,
    #[serde(deserialize_with = "de::date")]
    pub modified: Option<NaiveDateTime>,
}

impl ContactRow {
    /// The contact's name as Exact shows it: `FullName`, else its parts.
    pub fn name(&self) -> Option<String> {
        self.full_name.clone().or_else(|| {
            let parts: Vec<&str> = [&self.first_name, &self.middle_name, &self.last_name]
                .into_iter()
                .filter_map(|p| p.as_deref())
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
    }
}

/// The relation's main contact among its people: the one `MainContact` names, else the one
/// flagged `IsMainContact`.
pub fn main_contact<'c>(
    main_contact_id: Option<&str>,
    people: &'c [ContactRow],
) -> Option<&'c ContactRow> {
    main_contact_id
        .and_then(|main| people.iter().find(|p| p.id.as_deref() == Some(main)))
        .or_else(|| people.iter().find(|p| p.is_main_contact == Some(true)))
}

/// A relation's people as Codat's contacts: the main contact first, then by name.
pub fn map_contacts(main_contact_id: Option<&str>, people: &[ContactRow]) -> Vec<Contact> {
    let main = main_contact(main_contact_id, people).and_then(|m| m.id.clone());
    let mut ordered: Vec<&ContactRow> = people.iter().collect();
    ordered.sort_by_key(|p| (p.id != main, p.name(), p.id.clone()));
    ordered.into_iter().map(map_contact).collect()
}

/// One person as Codat's Contact.
pub fn map_contact(row: &ContactRow) -> Contact {
    let phone = [
        (PhoneNumberType::Primary, &row.phone),
        (PhoneNumberType::Mobile, &row.mobile),
        (PhoneNumberType::Fax, &row.business_fax),
    ]
    .into_iter()
    .filter_map(|(r#type, number)| {
        number.clone().map(|number| PhoneNumber {
            r#type,
            number: Some(number),
        })
    })
    .collect();
    Contact {
        status: CustomerStatus::Active,
        name: row.name(),
        email: row.email.clone(),
        phone,
        address: address(row),
        modified_date: row.modified.map(local_datetime),
    }
}

/// The person's own address; `None` when Exact holds none of its parts.
fn address(row: &ContactRow) -> Option<Address> {
    let number = match (
        &row.address_street_number,
        &row.address_street_number_suffix,
    ) {
        (Some(n), Some(s)) => Some(format!("{n}{s}")),
        (n, _) => n.clone(),
    };
    let line1 = match (&row.address_street, number) {
        (Some(street), Some(number)) => Some(format!("{street} {number}")),
        (street, number) => street.clone().or(number),
    };
    Address {
        r#type: AddressType::Unknown,
        line1,
        line2: row.address_line2.clone(),
        city: row.city.clone(),
        region: row.state.clone(),
        country: row.country.clone(),
        postal_code: row.postcode.clone(),
    }
    .unless_empty()
}
