//! Codat's Supplier (`../shared/CODAT.md` §4.7): someone the company buys from. Only `status` is
//! required (and each address's `type`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::address::Address;
use super::refs::Metadata;

/// Whether a supplier is in use. Closed: Codat's SDK rejects any other value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum SupplierStatus {
    Unknown,
    Active,
    /// Kept for history, not to be used for new business (Exact: blocked).
    Archived,
}

impl SupplierStatus {
    /// Every value Codat allows.
    pub const ALL: [SupplierStatus; 3] = [
        SupplierStatus::Unknown,
        SupplierStatus::Active,
        SupplierStatus::Archived,
    ];
}

impl Supplier {
    /// The property paths `query` and `orderBy` may name: the scalar fields and those of its
    /// objects, never its arrays (`addresses`).
    pub const QUERY_PATHS: &'static [&'static str] = &[
        "id",
        "supplierName",
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

/// A supplier in Codat's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Supplier {
    /// The supplier's id at the source (the id bills' `supplierRef.id` holds).
    pub id: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_name: Option<String>,
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
    /// ISO 4217 code of the currency the supplier bills in by default.
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
    pub status: SupplierStatus,
    pub addresses: Vec<Address>,
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
    use super::*;

    fn supplier(some: bool) -> Supplier {
        let text = |t: &str| some.then(|| t.to_string());
        Supplier {
            id: "s".into(),
            supplier_name: text("Bolt Ltd"),
            contact_name: text("Bob"),
            email_address: text("b@bolt.co.uk"),
            phone: text("+44 20 1234 5678"),
            default_currency: text("GBP"),
            tax_number: text("GB123456789"),
            registration_number: text("01234567"),
            status: SupplierStatus::Archived,
            addresses: vec![],
            modified_date: text("2025-02-01T00:00:00Z"),
            source_modified_date: text("2025-02-01T00:00:00"),
            metadata: Metadata {
                is_deleted: some.then_some(false),
            },
            supplemental_data: None,
        }
    }

    /// Codat leaves out what has no value: no `null` anywhere in a supplier.
    #[test]
    fn fields_without_a_value_are_left_out_never_null() {
        let json = serde_json::to_string(&supplier(false)).unwrap();
        assert_eq!(
            json,
            r#"{"id":"s","status":"Archived","addresses":[],"metadata":{}}"#
        );
        let back: Supplier = serde_json::from_str(&json).unwrap();
        assert_eq!(back, supplier(false));
    }

    #[test]
    fn query_paths_are_exactly_the_scalar_paths_of_the_serialized_supplier() {
        super::super::assert_query_paths_are_the_scalar_paths(
            &serde_json::to_value(supplier(true)).unwrap(),
            Supplier::QUERY_PATHS,
        );
    }
}
