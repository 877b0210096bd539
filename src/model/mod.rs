//! The common model: Codat's data types as Ledgerline serves them, whatever the upstream.
//!
//! Providers map their records into these types; the API serves them unchanged. Field names,
//! required fields and closed enums follow Codat's accounting SDK (`../shared/CODAT.md` §4), so
//! Codat's official SDKs read our responses as their own. Money is `Decimal`, never a float: it
//! is written as a JSON number (Codat's wire format) only at the edge.
//!
//! # Absent, never `null` (the convention for every dataset and platform resource)
//!
//! Codat leaves out an optional field that has no value, and its newest SDKs (`@codat/platform`
//! 6, zod-validated) reject a `null` where Codat's schema does not allow one. So every optional
//! field of a response type is written
//!
//! ```ignore
//! #[schema(nullable = false)]
//! #[serde(skip_serializing_if = "Option::is_none")]
//! pub due_date: Option<String>,
//! ```
//!
//! (with `value_type`/`with` as the type needs: `#[schema(nullable = false, value_type =
//! Option<f64>)]`), so that the answer leaves it out and our OpenAPI document says it is optional
//! but never null. Send `null` only where Codat's schema declares the field nullable *and*
//! Codat's own examples send `null`: then drop both attributes and say why in a comment.
//! Arrays (`lineItems`, `addresses`, …) are always sent, empty when there is nothing. Fields
//! Codat requires are not `Option`. `tests/codat_oas/` holds Codat's published response schemas
//! and `tests/codat_contract.rs` validates live answers against them: run it for a new dataset.

pub mod account;
pub mod address;
pub mod bill;
pub mod company_info;
pub mod credit_note;
pub mod customer;
pub mod dataset;
pub mod invoice;
pub mod journal_entry;
pub mod refs;
pub mod supplier;

pub use account::{Account, AccountStatus, AccountType};
pub use address::{Address, AddressType};
pub use bill::{Bill, BillLineItem, BillStatus, SupplierRef};
pub use company_info::{CompanyInfo, WebLink, WebLinkType};
pub use credit_note::{CreditNote, CreditNoteLineItem, CreditNoteStatus};
pub use customer::{Contact, Customer, CustomerStatus, PhoneNumber, PhoneNumberType};
pub use dataset::{DATASETS, DataType, DatasetSpec};
pub use invoice::{Invoice, InvoiceLineItem, InvoiceStatus};
pub use journal_entry::{
    ContactRef, ContactType, JournalEntry, JournalLine, JournalRecordRef, JournalRecordType,
    JournalRef,
};
pub use refs::{AccountRef, CustomerRef, ItemRef, Metadata, TaxRateRef, TrackingCategoryRef};
pub use supplier::{Supplier, SupplierStatus};

/// A business date or time as Codat writes one that the source gives without a zone:
/// `YYYY-MM-DDTHH:MM:SS`, local to the business.
pub fn local_datetime(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Test support: a model's `QUERY_PATHS` are exactly the scalar paths of a serialized record
/// with every field set (its scalar fields and those of its objects; arrays are not queryable),
/// so that what `query`/`orderBy` may name and the wire shape cannot drift apart.
#[cfg(test)]
pub(crate) fn assert_query_paths_are_the_scalar_paths(json: &serde_json::Value, declared: &[&str]) {
    let mut scalar_paths = vec![];
    for (key, value) in json.as_object().expect("a record is an object") {
        match value {
            serde_json::Value::Array(_) => {}
            serde_json::Value::Object(inner) => {
                scalar_paths.extend(inner.keys().map(|k| format!("{key}.{k}")))
            }
            _ => scalar_paths.push(key.clone()),
        }
    }
    scalar_paths.sort();
    let mut declared: Vec<String> = declared.iter().map(|p| p.to_string()).collect();
    declared.sort();
    assert_eq!(declared, scalar_paths);
}
