//! Codat's JournalEntry (`../shared/CODAT.md` §4.5): one entry of the general ledger with its
//! lines, which balance (debit positive, credit negative). Required there: a line's `netAmount`;
//! `journalRef.id` and `contactRef.id` whenever those refs are present.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::refs::{AccountRef, Metadata};

/// The journal (day book) an entry was posted in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JournalRef {
    pub id: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The kinds of record a journal entry can come from. Closed: Codat's SDK rejects any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum JournalRecordType {
    BankTransactions,
    BillCreditNotes,
    BillPayments,
    Bills,
    CreditNotes,
    DirectCosts,
    DirectIncomes,
    Invoices,
    JournalEntries,
    Payments,
    Transfers,
}

/// The record that created the entry (an invoice, a bill, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JournalRecordRef {
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_type: Option<JournalRecordType>,
}

/// Whether a line's contact is a customer or a supplier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ContactType {
    Customers,
    Suppliers,
}

/// The customer or supplier a line concerns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactRef {
    pub id: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_type: Option<ContactType>,
}

/// One line of a journal entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JournalLine {
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Debit positive, credit negative, in `currency`.
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub net_amount: Decimal,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_ref: Option<AccountRef>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_ref: Option<ContactRef>,
}

impl JournalEntry {
    /// The property paths `query` and `orderBy` may name: the scalar fields and those of its
    /// objects, never its lines.
    pub const QUERY_PATHS: &'static [&'static str] = &[
        "id",
        "description",
        "postedOn",
        "createdOn",
        "updatedOn",
        "journalRef.id",
        "journalRef.name",
        "recordRef.id",
        "recordRef.dataType",
        "modifiedDate",
        "sourceModifiedDate",
        "metadata.isDeleted",
    ];
}

/// A journal entry in Codat's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    /// The entry's id at the source.
    pub id: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The date the entry counts on in the ledger (local).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posted_on: Option<String>,
    /// When the entry was made at the source (local).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    /// When the source last changed it (local).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_on: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_ref: Option<JournalRef>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_ref: Option<JournalRecordRef>,
    pub journal_lines: Vec<JournalLine>,
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

    fn entry(some: bool) -> JournalEntry {
        let text = |t: &str| some.then(|| t.to_string());
        JournalEntry {
            id: "1".into(),
            description: text("Salaries"),
            posted_on: text("2025-01-01T00:00:00"),
            created_on: text("2025-01-01T00:00:00"),
            updated_on: text("2025-01-01T00:00:00"),
            journal_ref: some.then(|| JournalRef {
                id: "90".into(),
                name: text("General journal"),
            }),
            record_ref: some.then(|| JournalRecordRef {
                id: text("b"),
                data_type: Some(JournalRecordType::Bills),
            }),
            journal_lines: vec![JournalLine {
                description: None,
                net_amount: Decimal::ZERO,
                currency: None,
                account_ref: None,
                contact_ref: None,
            }],
            modified_date: text("2025-02-01T00:00:00Z"),
            source_modified_date: text("2025-02-01T00:00:00"),
            metadata: Metadata {
                is_deleted: some.then_some(false),
            },
            supplemental_data: None,
        }
    }

    #[test]
    fn fields_without_a_value_are_left_out_never_null() {
        let json = serde_json::to_string(&entry(false)).unwrap();
        assert!(!json.contains("null"), "{json}");
        assert_eq!(
            serde_json::from_str::<JournalEntry>(&json).unwrap(),
            entry(false)
        );
        let full = serde_json::to_value(entry(true)).unwrap();
        assert_eq!(
            full["recordRef"]["dataType"], "bills",
            "Codat's camelCase names"
        );
    }

    #[test]
    fn query_paths_are_exactly_the_scalar_paths_of_the_serialized_entry() {
        super::super::assert_query_paths_are_the_scalar_paths(
            &serde_json::to_value(entry(true)).unwrap(),
            JournalEntry::QUERY_PATHS,
        );
    }
}
