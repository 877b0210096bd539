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
    pub id: Option<String>,
    /// Always `salesOrders`.
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
    pub description: Option<String>,
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub unit_amount: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    #[schema(value_type = f64)]
    pub quantity: Decimal,
    /// Discount given on the line, in money.
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(value_type = Option<f64>)]
    pub discount_amount: Option<Decimal>,
    /// Discount in percent (5 for 5%).
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(value_type = Option<f64>)]
    pub discount_percentage: Option<Decimal>,
    /// Including discounts, excluding tax.
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(value_type = Option<f64>)]
    pub sub_total: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(value_type = Option<f64>)]
    pub tax_amount: Option<Decimal>,
    /// Including tax.
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(value_type = Option<f64>)]
    pub total_amount: Option<Decimal>,
    pub account_ref: Option<AccountRef>,
    pub tax_rate_ref: Option<TaxRateRef>,
    pub item_ref: Option<ItemRef>,
    pub tracking_category_refs: Vec<TrackingCategoryRef>,
    pub is_direct_income: Option<bool>,
    /// Codat's tracking block; null unless every required member is known.
    #[schema(value_type = Option<Object>)]
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
    pub invoice_number: Option<String>,
    pub customer_ref: Option<CustomerRef>,
    pub sales_order_refs: Vec<SalesOrderRef>,
    /// Local business date, `YYYY-MM-DDTHH:MM:SS`.
    pub issue_date: String,
    pub due_date: Option<String>,
    pub paid_on_date: Option<String>,
    /// When Ledgerline last saw the record change (UTC); set by the store on every change.
    pub modified_date: Option<String>,
    /// When the source last changed the record (local time).
    pub source_modified_date: Option<String>,
    pub currency: String,
    /// Rate to the company's base currency.
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(value_type = Option<f64>)]
    pub currency_rate: Option<Decimal>,
    pub line_items: Vec<InvoiceLineItem>,
    /// Payments allocated to the invoice (needs the payments data type; empty until then).
    #[schema(value_type = Vec<Object>)]
    pub payment_allocations: Vec<serde_json::Value>,
    pub withholding_tax: Vec<WithholdingTaxItem>,
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(value_type = Option<f64>)]
    pub total_discount: Option<Decimal>,
    /// Excluding tax.
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(value_type = Option<f64>)]
    pub sub_total: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(value_type = Option<f64>)]
    pub additional_tax_amount: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(value_type = Option<f64>)]
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
    #[schema(value_type = Option<f64>)]
    pub discount_percentage: Option<Decimal>,
    pub status: InvoiceStatus,
    pub note: Option<String>,
    pub metadata: Metadata,
    #[schema(value_type = Option<Object>)]
    pub supplemental_data: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query paths and the serialized shape cannot drift apart: every path exists, and every
    /// scalar field is queryable.
    #[test]
    fn query_paths_are_exactly_the_scalar_paths_of_the_serialized_invoice() {
        let invoice = Invoice {
            id: "1".into(),
            invoice_number: None,
            customer_ref: Some(CustomerRef {
                id: "c".into(),
                company_name: None,
            }),
            sales_order_refs: vec![],
            issue_date: "2025-01-01T00:00:00".into(),
            due_date: None,
            paid_on_date: None,
            modified_date: None,
            source_modified_date: None,
            currency: "EUR".into(),
            currency_rate: None,
            line_items: vec![],
            payment_allocations: vec![],
            withholding_tax: vec![],
            total_discount: None,
            sub_total: None,
            additional_tax_amount: None,
            additional_tax_percentage: None,
            total_tax_amount: Decimal::ZERO,
            total_amount: Decimal::ZERO,
            amount_due: Decimal::ZERO,
            discount_percentage: None,
            status: InvoiceStatus::Draft,
            note: None,
            metadata: Metadata::default(),
            supplemental_data: None,
        };
        let json = serde_json::to_value(&invoice).unwrap();
        let mut scalar_paths = vec![];
        for (key, value) in json.as_object().unwrap() {
            match value {
                serde_json::Value::Array(_) => {}
                serde_json::Value::Object(inner) => {
                    scalar_paths.extend(inner.keys().map(|k| format!("{key}.{k}")))
                }
                // supplementalData is free-form: nothing fixed to query.
                serde_json::Value::Null if key == "supplementalData" => {}
                _ => scalar_paths.push(key.clone()),
            }
        }
        scalar_paths.sort();
        let mut declared: Vec<String> =
            Invoice::QUERY_PATHS.iter().map(|p| p.to_string()).collect();
        declared.sort();
        assert_eq!(declared, scalar_paths);
    }
}
