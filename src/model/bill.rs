//! Codat's Bill (`../shared/CODAT.md` §4.3): a purchase invoice from a supplier with its lines, as
//! the accounting SDK reads it. Required there: `issueDate`, `subTotal`, `taxAmount`,
//! `totalAmount`, `status`; on lines `quantity` and `unitAmount`. Everything else may be null.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::invoice::WithholdingTaxItem;
use super::refs::{AccountRef, ItemRef, Metadata, TaxRateRef, TrackingCategoryRef};

/// Where a bill stands. Closed: Codat's SDK rejects any other value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum BillStatus {
    Unknown,
    /// Booked and nothing paid: `amountDue == totalAmount`.
    Open,
    /// `0 < amountDue < totalAmount`.
    PartiallyPaid,
    /// Nothing outstanding (`amountDue == 0`).
    Paid,
    /// Rejected or cancelled.
    Void,
    /// Not yet in the ledger.
    Draft,
}

impl BillStatus {
    /// Every value Codat allows.
    pub const ALL: [BillStatus; 6] = [
        BillStatus::Unknown,
        BillStatus::Open,
        BillStatus::PartiallyPaid,
        BillStatus::Paid,
        BillStatus::Void,
        BillStatus::Draft,
    ];

    /// The status of a booked bill by what is still due (both ≥ 0).
    pub fn from_amount_due(amount_due: Decimal, total: Decimal) -> BillStatus {
        if amount_due.is_zero() {
            BillStatus::Paid
        } else if amount_due < total {
            BillStatus::PartiallyPaid
        } else {
            BillStatus::Open
        }
    }
}

/// The supplier a bill is from. `id` is required whenever the reference is present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SupplierRef {
    pub id: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_name: Option<String>,
}

/// A purchase order a bill came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseOrderRef {
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_order_number: Option<String>,
}

/// One line of a bill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillLineItem {
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The line's position on the bill (a string at Codat).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_number: Option<String>,
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub unit_amount: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub quantity: Decimal,
    /// Excluding tax.
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(nullable = false, value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_total: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(nullable = false, value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_amount: Option<Decimal>,
    /// Including tax.
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(nullable = false, value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_amount: Option<Decimal>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_ref: Option<AccountRef>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_rate_ref: Option<TaxRateRef>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_ref: Option<ItemRef>,
    pub tracking_category_refs: Vec<TrackingCategoryRef>,
}

impl Bill {
    /// The property paths `query` and `orderBy` may name: the scalar fields and those of its
    /// objects, never its arrays, which Codat does not query into.
    pub const QUERY_PATHS: &'static [&'static str] = &[
        "id",
        "reference",
        "supplierRef.id",
        "supplierRef.supplierName",
        "issueDate",
        "dueDate",
        "modifiedDate",
        "sourceModifiedDate",
        "currency",
        "currencyRate",
        "subTotal",
        "taxAmount",
        "totalAmount",
        "amountDue",
        "status",
        "note",
        "metadata.isDeleted",
    ];
}

/// A bill (purchase invoice) in Codat's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Bill {
    /// The bill's id at the source.
    pub id: String,
    /// The reference people use (the supplier's invoice number).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_ref: Option<SupplierRef>,
    pub purchase_order_refs: Vec<PurchaseOrderRef>,
    /// Local business date, `YYYY-MM-DDTHH:MM:SS`.
    pub issue_date: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
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
    pub line_items: Vec<BillLineItem>,
    pub withholding_tax: Vec<WithholdingTaxItem>,
    /// Excluding tax.
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub sub_total: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub tax_amount: Decimal,
    /// Including tax.
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub total_amount: Decimal,
    /// Still outstanding.
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub amount_due: Decimal,
    pub status: BillStatus,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Payments allocated to the bill (needs the bill payments data type; empty until then).
    #[schema(value_type = Vec<Object>)]
    pub payment_allocations: Vec<serde_json::Value>,
    pub metadata: Metadata,
    #[schema(nullable = false, value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplemental_data: Option<serde_json::Value>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn bill(some: bool) -> Bill {
        let text = |t: &str| some.then(|| t.to_string());
        Bill {
            id: "1".into(),
            reference: text("INV-1"),
            supplier_ref: some.then(|| SupplierRef {
                id: "s".into(),
                supplier_name: text("Acme"),
            }),
            purchase_order_refs: vec![],
            issue_date: "2025-01-01T00:00:00".into(),
            due_date: text("2025-02-01T00:00:00"),
            modified_date: text("2025-02-01T00:00:00Z"),
            source_modified_date: text("2025-02-01T00:00:00"),
            currency: "EUR".into(),
            currency_rate: some.then_some(Decimal::ONE),
            line_items: vec![BillLineItem {
                description: None,
                line_number: None,
                unit_amount: Decimal::ONE,
                quantity: Decimal::ONE,
                sub_total: None,
                tax_amount: None,
                total_amount: None,
                account_ref: None,
                tax_rate_ref: None,
                item_ref: None,
                tracking_category_refs: vec![],
            }],
            withholding_tax: vec![],
            sub_total: Decimal::ONE,
            tax_amount: Decimal::ZERO,
            total_amount: Decimal::ONE,
            amount_due: Decimal::ONE,
            status: BillStatus::Open,
            note: text("n"),
            payment_allocations: vec![],
            metadata: Metadata {
                is_deleted: some.then_some(false),
            },
            supplemental_data: None,
        }
    }

    #[test]
    fn fields_without_a_value_are_left_out_never_null() {
        let json = serde_json::to_string(&bill(false)).unwrap();
        assert!(!json.contains("null"), "{json}");
        let back: Bill = serde_json::from_str(&json).unwrap();
        assert_eq!(back, bill(false));
    }

    #[test]
    fn query_paths_are_exactly_the_scalar_paths_of_the_serialized_bill() {
        super::super::assert_query_paths_are_the_scalar_paths(
            &serde_json::to_value(bill(true)).unwrap(),
            Bill::QUERY_PATHS,
        );
    }
}
