//! Codat's CreditNote (`../shared/CODAT.md` §4.7): a note crediting a customer, with its lines
//! and what is left of the credit. Required there: `status`, `subTotal`, `totalTaxAmount`,
//! `totalAmount`, `totalDiscount`, `discountPercentage`, `remainingCredit`; on lines `quantity`
//! and `unitAmount`. Everything else may be left out.
//!
//! Amounts are positive: the data type says it is a credit, so a credit note of 100 has
//! `totalAmount` 100 (where the source books −100), and `remainingCredit` is what the customer
//! can still use, `0 ≤ remainingCredit ≤ totalAmount`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::invoice::{InvoiceLineItem, WithholdingTaxItem};
use super::refs::{CustomerRef, Metadata};

/// Where a credit note stands. Closed: Codat's SDK rejects any other value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum CreditNoteStatus {
    Unknown,
    /// Not yet issued; not in the ledger.
    Draft,
    /// Issued and none of it used: `remainingCredit == totalAmount`.
    Submitted,
    /// Fully used (allocated or refunded): `remainingCredit == 0`.
    Paid,
    /// Cancelled or deleted.
    Void,
    /// `0 < remainingCredit < totalAmount`.
    PartiallyPaid,
}

impl CreditNoteStatus {
    /// Every value Codat allows.
    pub const ALL: [CreditNoteStatus; 6] = [
        CreditNoteStatus::Unknown,
        CreditNoteStatus::Draft,
        CreditNoteStatus::Submitted,
        CreditNoteStatus::Paid,
        CreditNoteStatus::Void,
        CreditNoteStatus::PartiallyPaid,
    ];

    /// The status an issued credit note has by what is left of it.
    pub fn from_remaining_credit(remaining: Decimal, total: Decimal) -> CreditNoteStatus {
        if remaining.is_zero() {
            CreditNoteStatus::Paid
        } else if remaining < total {
            CreditNoteStatus::PartiallyPaid
        } else {
            CreditNoteStatus::Submitted
        }
    }
}

/// One line of a credit note. Codat's `CreditNoteLineItem` has exactly the fields of an invoice
/// line (SDK-A 0.36.0), so it is the same type; its amounts are positive like the note's.
pub type CreditNoteLineItem = InvoiceLineItem;

impl CreditNote {
    /// The property paths `query` and `orderBy` may name: the scalar fields and those of its
    /// objects, never its arrays (`lineItems`, `paymentAllocations`, …).
    pub const QUERY_PATHS: &'static [&'static str] = &[
        "id",
        "creditNoteNumber",
        "customerRef.id",
        "customerRef.companyName",
        "issueDate",
        "allocatedOnDate",
        "modifiedDate",
        "sourceModifiedDate",
        "currency",
        "currencyRate",
        "totalDiscount",
        "subTotal",
        "additionalTaxAmount",
        "additionalTaxPercentage",
        "totalTaxAmount",
        "totalAmount",
        "remainingCredit",
        "discountPercentage",
        "status",
        "note",
        "metadata.isDeleted",
    ];
}

/// A credit note in Codat's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditNote {
    /// The credit note's id at the source.
    pub id: String,
    /// The number people use.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_note_number: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<CustomerRef>,
    /// Local business date, `YYYY-MM-DDTHH:MM:SS`.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_date: Option<String>,
    /// When the credit was last allocated (needs the payments data type).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocated_on_date: Option<String>,
    /// When Ledgerline last saw the record change (UTC); set by the store on every change.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_date: Option<String>,
    /// When the source last changed the record (local time).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_modified_date: Option<String>,
    pub currency: String,
    /// Rate to the company's base currency.
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(nullable = false, value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_rate: Option<Decimal>,
    pub line_items: Vec<CreditNoteLineItem>,
    /// Where the credit went (needs the payments data type; empty until then).
    #[schema(value_type = Vec<Object>)]
    pub payment_allocations: Vec<serde_json::Value>,
    pub withholding_tax: Vec<WithholdingTaxItem>,
    /// Value of the lines' discounts.
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub total_discount: Decimal,
    /// Excluding tax.
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub sub_total: Decimal,
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(nullable = false, value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_tax_amount: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(nullable = false, value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_tax_percentage: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub total_tax_amount: Decimal,
    /// Including tax.
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub total_amount: Decimal,
    /// What the customer can still use.
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub remaining_credit: Decimal,
    /// A discount on the whole note, in percent (5 for 5%); line discounts are on the lines.
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub discount_percentage: Decimal,
    pub status: CreditNoteStatus,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub metadata: Metadata,
    #[schema(nullable = false, value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplemental_data: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credit_note(some: bool) -> CreditNote {
        let text = |t: &str| some.then(|| t.to_string());
        let number = || some.then_some(Decimal::ONE);
        CreditNote {
            id: "1".into(),
            credit_note_number: text("C1"),
            customer_ref: some.then(|| CustomerRef {
                id: "c".into(),
                company_name: text("Acme"),
            }),
            issue_date: text("2025-01-01T00:00:00"),
            allocated_on_date: text("2025-02-01T00:00:00"),
            modified_date: text("2025-02-01T00:00:00Z"),
            source_modified_date: text("2025-02-01T00:00:00"),
            currency: "EUR".into(),
            currency_rate: number(),
            line_items: vec![],
            payment_allocations: vec![],
            withholding_tax: vec![],
            total_discount: Decimal::ZERO,
            sub_total: Decimal::ZERO,
            additional_tax_amount: number(),
            additional_tax_percentage: number(),
            total_tax_amount: Decimal::ZERO,
            total_amount: Decimal::ZERO,
            remaining_credit: Decimal::ZERO,
            discount_percentage: Decimal::ZERO,
            status: CreditNoteStatus::Paid,
            note: text("n"),
            metadata: Metadata {
                is_deleted: some.then_some(false),
            },
            supplemental_data: None,
        }
    }

    /// Codat leaves out what has no value: no `null` anywhere, and Codat's required fields are
    /// always there.
    #[test]
    fn fields_without_a_value_are_left_out_never_null() {
        let json = serde_json::to_string(&credit_note(false)).unwrap();
        assert_eq!(
            json,
            r#"{"id":"1","currency":"EUR","lineItems":[],"paymentAllocations":[],"withholdingTax":[],"totalDiscount":0.0,"subTotal":0.0,"totalTaxAmount":0.0,"totalAmount":0.0,"remainingCredit":0.0,"discountPercentage":0.0,"status":"Paid","metadata":{}}"#
        );
        let back: CreditNote = serde_json::from_str(&json).unwrap();
        assert_eq!(back, credit_note(false));
    }

    /// The query paths and the serialized shape cannot drift apart.
    #[test]
    fn query_paths_are_exactly_the_scalar_paths_of_the_serialized_credit_note() {
        super::super::assert_query_paths_are_the_scalar_paths(
            &serde_json::to_value(credit_note(true)).unwrap(),
            CreditNote::QUERY_PATHS,
        );
    }

    #[test]
    fn status_follows_what_is_left_of_the_credit() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(
            CreditNoteStatus::from_remaining_credit(d("0"), d("10")),
            CreditNoteStatus::Paid
        );
        assert_eq!(
            CreditNoteStatus::from_remaining_credit(d("4"), d("10")),
            CreditNoteStatus::PartiallyPaid
        );
        assert_eq!(
            CreditNoteStatus::from_remaining_credit(d("10"), d("10")),
            CreditNoteStatus::Submitted
        );
    }
}
