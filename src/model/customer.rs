//! Codat's Customer (`../shared/CODAT.md` §4.2): someone the company sells to, with their
//! addresses and contacts. Only `status` is required (and each address's and contact's own
//! `type`/`status`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::address::Address;
use super::refs::Metadata;

/// Whether a customer (or one of its contacts) is in use. Closed: Codat's SDK rejects any other
/// value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum CustomerStatus {
    Unknown,
    Active,
    /// Kept for history, not to be used for new business (Exact: blocked).
    Archived,
}

impl CustomerStatus {
    /// Every value Codat allows.
    pub const ALL: [CustomerStatus; 3] = [
        CustomerStatus::Unknown,
        CustomerStatus::Active,
        CustomerStatus::Archived,
    ];
}

/// What kind of line a phone number is. Closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum PhoneNumberType {
    Primary,
    Landline,
    Mobile,
    Fax,
    Unknown,
}

/// One phone number of a contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumber {
    pub r#type: PhoneNumberType,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

/// A way to reach the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub status: CustomerStatus,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub phone: Vec<PhoneNumber>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// When the source last changed the contact (local time).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_date: Option<String>,
}

impl Customer {
    /// The property paths `query` and `orderBy` may name: the scalar fields and those of its
    /// objects, never its arrays (`addresses`, `contacts`).
    pub const QUERY_PATHS: &'static [&'static str] = &[
        "id",
        "customerName",
        "contactName",
        "emailAddress",
        "phone",
        "defaultCurrency",
        "taxNumber",
        "registrationNumber",
        "status",
        "modifiedDate",
        "sourceModifiedDate",
        "metadata.isDeleted",
    ];
}

/// A customer in Codat's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// The customer's id at the source (the id invoices' `customerRef.id` holds).
    pub id: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    /// The person to talk to.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// ISO 4217 code of the currency the customer is invoiced in by default.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_currency: Option<String>,
    /// VAT number.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_number: Option<String>,
    /// Company registration (KvK, Companies House) number.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_number: Option<String>,
    pub status: CustomerStatus,
    pub addresses: Vec<Address>,
    pub contacts: Vec<Contact>,
    /// When Ledgerline last saw the record change (UTC); set by the store on every change.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_date: Option<String>,
    /// When the source last changed the record (local time).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_modified_date: Option<String>,
    pub metadata: Metadata,
    #[schema(nullable = false, value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplemental_data: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::super::address::AddressType;
    use super::*;

    fn customer(some: bool) -> Customer {
        let text = |t: &str| some.then(|| t.to_string());
        Customer {
            id: "c".into(),
            customer_name: text("Acme"),
            contact_name: text("Ann"),
            email_address: text("a@acme.nl"),
            phone: text("+31 20 123 4567"),
            default_currency: text("EUR"),
            tax_number: text("NL123456789B01"),
            registration_number: text("12345678"),
            status: CustomerStatus::Active,
            addresses: vec![Address {
                r#type: AddressType::Billing,
                line1: text("Dam 1"),
                line2: None,
                city: None,
                region: None,
                country: None,
                postal_code: None,
            }],
            contacts: vec![Contact {
                status: CustomerStatus::Active,
                name: None,
                email: None,
                phone: vec![],
                address: None,
                modified_date: None,
            }],
            modified_date: text("2025-02-01T00:00:00Z"),
            source_modified_date: text("2025-02-01T00:00:00"),
            metadata: Metadata {
                is_deleted: some.then_some(false),
            },
            supplemental_data: None,
        }
    }

    /// Codat leaves out what has no value: no `null` anywhere in a customer.
    #[test]
    fn fields_without_a_value_are_left_out_never_null() {
        let json = serde_json::to_string(&customer(false)).unwrap();
        assert_eq!(
            json,
            r#"{"id":"c","status":"Active","addresses":[{"type":"Billing"}],"contacts":[{"status":"Active","phone":[]}],"metadata":{}}"#
        );
        let back: Customer = serde_json::from_str(&json).unwrap();
        assert_eq!(back, customer(false));
    }

    #[test]
    fn query_paths_are_exactly_the_scalar_paths_of_the_serialized_customer() {
        super::super::assert_query_paths_are_the_scalar_paths(
            &serde_json::to_value(customer(true)).unwrap(),
            Customer::QUERY_PATHS,
        );
    }
}
