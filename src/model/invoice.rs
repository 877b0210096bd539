//! Codat's Invoice (`../shared/CODAT.md` §4.1): a sales invoice with its lines, as the accounting
//! SDK reads it. Required there: `issueDate`, `totalTaxAmount`, `totalAmount`, `amountDue`,
//! `status`; on lines `quantity` and `unitAmount`. Everything else may be null.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::refs::{AccountRef, CustomerRef, ItemRef, Metadata, TaxRateRef, TrackingCategoryRef};

/// Where an invoice stands. Closed: Codat's SDK rejects any other value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum InvoiceStatus {
    Unknown,
    /// Not yet submitted; not in the ledger.
    Draft,
    /// Sent and nothing paid: `amountDue == totalAmount`.
    Submitted,
    /// `0 < amountDue < totalAmount`.
    PartiallyPaid,
    /// Nothing outstanding (`amountDue == 0`), credited or overpaid included.
    Paid,
    /// Cancelled, written off or deleted.
    Void,
}

impl InvoiceStatus {
    /// Every value Codat allows.
    pub const ALL: [InvoiceStatus; 6] = [
        InvoiceStatus::Unknown,
        InvoiceStatus::Draft,
        InvoiceStatus::Submitted,
        InvoiceStatus::PartiallyPaid,
        InvoiceStatus::Paid,
        InvoiceStatus::Void,
    ];

    /// The status an issued invoice has by what is still due.
    pub fn from_amount_due(amount_due: Decimal, total: Decimal) -> InvoiceStatus {
        if amount_due.is_zero() {
            InvoiceStatus::Paid
        } else if amount_due < total {
            InvoiceStatus::PartiallyPaid
        } else {
            InvoiceStatus::Submitted
        }
    }
}

/// A sales order the invoice came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesOrderRef {
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Always `salesOrders`.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
}

/// Tax withheld at source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WithholdingTaxItem {
    pub name: String,
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub amount: Decimal,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLineItem {
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub unit_amount: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub quantity: Decimal,
    /// Discount given on the line, in money.
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(nullable = false, value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_amount: Option<Decimal>,
    /// Discount in percent (5 for 5%).
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(nullable = false, value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_percentage: Option<Decimal>,
    /// Including discounts, excluding tax.
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
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_direct_income: Option<bool>,
    /// Codat's tracking block; null unless every required member is known.
    #[schema(nullable = false, value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking: Option<serde_json::Value>,
}

impl Invoice {
    /// The property paths `query` and `orderBy` may name: the scalar fields and those of its
    /// objects, never its arrays (`lineItems`, `paymentAllocations`, …), which Codat does not
    /// query into.
    pub const QUERY_PATHS: &'static [&'static str] = &[
        "id",
        "invoiceNumber",
        "customerRef.id",
        "customerRef.companyName",
        "issueDate",
        "dueDate",
        "paidOnDate",
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
        "amountDue",
        "discountPercentage",
        "status",
        "note",
        "metadata.isDeleted",
    ];
}

/// A sales invoice in Codat's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    /// The invoice's id at the source.
    pub id: String,
    /// The number people use.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<CustomerRef>,
    pub sales_order_refs: Vec<SalesOrderRef>,
    /// Local business date, `YYYY-MM-DDTHH:MM:SS`.
    pub issue_date: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_on_date: Option<String>,
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
    pub line_items: Vec<InvoiceLineItem>,
    /// Payments allocated to the invoice (needs the payments data type; empty until then).
    #[schema(value_type = Vec<Object>)]
    pub payment_allocations: Vec<serde_json::Value>,
    pub withholding_tax: Vec<WithholdingTaxItem>,
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(nullable = false, value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_discount: Option<Decimal>,
    /// Excluding tax.
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(nullable = false, value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_total: Option<Decimal>,
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
    /// Still outstanding.
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub amount_due: Decimal,
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(nullable = false, value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_percentage: Option<Decimal>,
    pub status: InvoiceStatus,
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

    fn invoice(some: bool) -> Invoice {
        let text = |t: &str| some.then(|| t.to_string());
        let number = || some.then_some(Decimal::ONE);
        Invoice {
            id: "1".into(),
            invoice_number: text("F1"),
            customer_ref: some.then(|| CustomerRef {
                id: "c".into(),
                company_name: text("Acme"),
            }),
            sales_order_refs: vec![],
            issue_date: "2025-01-01T00:00:00".into(),
            due_date: text("2025-02-01T00:00:00"),
            paid_on_date: text("2025-02-01T00:00:00"),
            modified_date: text("2025-02-01T00:00:00Z"),
            source_modified_date: text("2025-02-01T00:00:00"),
            currency: "EUR".into(),
            currency_rate: number(),
            line_items: vec![InvoiceLineItem {
                description: None,
                unit_amount: Decimal::ONE,
                quantity: Decimal::ONE,
                discount_amount: None,
                discount_percentage: None,
                sub_total: None,
                tax_amount: None,
                total_amount: None,
                account_ref: None,
                tax_rate_ref: None,
                item_ref: None,
                tracking_category_refs: vec![],
                is_direct_income: None,
                tracking: None,
            }],
            payment_allocations: vec![],
            withholding_tax: vec![],
            total_discount: number(),
            sub_total: number(),
            additional_tax_amount: number(),
            additional_tax_percentage: number(),
            total_tax_amount: Decimal::ZERO,
            total_amount: Decimal::ZERO,
            amount_due: Decimal::ZERO,
            discount_percentage: number(),
            status: InvoiceStatus::Draft,
            note: text("n"),
            metadata: Metadata {
                is_deleted: some.then_some(false),
            },
            supplemental_data: None,
        }
    }

    /// Codat leaves out what has no value: no `null` anywhere in an invoice.
    #[test]
    fn fields_without_a_value_are_left_out_never_null() {
        let json = serde_json::to_string(&invoice(false)).unwrap();
        assert!(!json.contains("null"), "{json}");
        assert_eq!(
            json,
            r#"{"id":"1","salesOrderRefs":[],"issueDate":"2025-01-01T00:00:00","currency":"EUR","lineItems":[{"unitAmount":1.0,"quantity":1.0,"trackingCategoryRefs":[]}],"paymentAllocations":[],"withholdingTax":[],"totalTaxAmount":0.0,"totalAmount":0.0,"amountDue":0.0,"status":"Draft","metadata":{}}"#
        );
        // And it reads back the same.
        let back: Invoice = serde_json::from_str(&json).unwrap();
        assert_eq!(back, invoice(false));
    }

    /// The query paths and the serialized shape cannot drift apart: every path exists, and every
    /// scalar field is queryable.
    #[test]
    fn query_paths_are_exactly_the_scalar_paths_of_the_serialized_invoice() {
        super::super::assert_query_paths_are_the_scalar_paths(
            &serde_json::to_value(invoice(true)).unwrap(),
            Invoice::QUERY_PATHS,
        );
    }
}
