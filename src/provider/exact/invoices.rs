//! Exact sales invoices → Codat's Invoice.
//!
//! Read from `sync/SalesInvoice/SalesInvoices` (one row per invoice line with the header's fields
//! copied onto it; 1,000 rows a call), plus two small lists: `vat/VATCodes` for each code's real
//! percentage and `read/financial/ReceivablesList` for what is still outstanding.
//!
//! | Exact | Invoice | why |
//! |---|---|---|
//! | `InvoiceID` | `id` | the invoice's GUID: stable, unlike the number |
//! | `InvoiceNumber` | `invoiceNumber` | the number people quote |
//! | `InvoiceTo`, `InvoiceToName` | `customerRef.id`, `.companyName` | who is billed (`OrderedBy` may differ) |
//! | `InvoiceDate`, `DueDate` | `issueDate`, `dueDate` | `/Date()/` is local wall-clock time, written without a zone |
//! | `Currency` | `currency` | |
//! | Σ `AmountDC` / Σ `AmountFC` of the lines | `currencyRate` | 1 in the division's own currency |
//! | `Description` | `note` | the header's free text |
//! | `Modified` (latest of the rows) | `sourceModifiedDate` | |
//! | line `Quantity`, `UnitPrice` | `quantity`, `unitAmount` | |
//! | line `(UnitPrice − NetPrice) × Quantity`, `Discount` × 100 | `discountAmount`, `discountPercentage` | Exact's `Discount` is a fraction |
//! | line `AmountFC`, `VATAmountFC` | `subTotal`, `taxAmount`; their sum `totalAmount` | amounts in the invoice's currency |
//! | line `VATCode` + `vat/VATCodes` | `taxRateRef {id, name, effectiveTaxRate}` | the rate is the code's percentage × 100, read from the division, never hard-coded |
//! | line `GLAccount`, `GLAccountDescription` | `accountRef` | the revenue account's GUID, the id the accounts data type uses |
//! | line `Item`, `ItemDescription` | `itemRef` | |
//! | line `CostCenter` | `trackingCategoryRefs` | Exact's cost centers are its tracking categories |
//! | line `LineDescription` | `description` | |
//! | Σ lines | `subTotal`, `totalTaxAmount`, `totalAmount` | so `totalAmount = subTotal + totalTaxAmount` always holds |
//! | `ReceivablesList.Amount` by `InvoiceNumber` | `amountDue` | processed invoices only; absent = nothing outstanding |
//!
//! `status` (CODAT.md §6): Exact `Status` 10 (draft) → `Draft`; 20 (open: created, not yet
//! processed into the ledger, so nothing can be paid against it) → `Submitted` with `amountDue =
//! totalAmount`; 50 (processed) → `Paid` when nothing is outstanding, `PartiallyPaid` when part
//! is, `Submitted` when all is. Exact has no cancelled state on a sales invoice (it cancels by
//! crediting), so `Void` is never produced. Any other status → `Unknown`.
//!
//! Credit notes (`Type` 8021 and 8024) are Codat's `creditNotes` data type, not invoices: they
//! come back as [`Mapped::CreditNote`] and the invoices pull leaves them out. Direct invoices
//! (8023) are invoices.
//!
//! Not mapped yet: `paidOnDate` (needs the payments data type), `paymentAllocations`,
//! `salesOrderRefs`, `withholdingTax` (always empty), Codat's `tracking` block (null).

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde_json::Value;

use super::odata;
use crate::model::{
    AccountRef, CustomerRef, Invoice, InvoiceLineItem, InvoiceStatus, ItemRef, Metadata,
    TaxRateRef, TrackingCategoryRef, local_datetime,
};

/// The fields the pull asks `sync/SalesInvoice/SalesInvoices` for: only what the mapping reads.
pub const SYNC_SELECT: &[&str] = &[
    "Timestamp",
    "InvoiceID",
    "InvoiceNumber",
    "InvoiceTo",
    "InvoiceToName",
    "InvoiceDate",
    "DueDate",
    "Currency",
    "Status",
    "Type",
    "Description",
    "Modified",
    "ID",
    "LineNumber",
    "LineDescription",
    "Item",
    "ItemDescription",
    "Quantity",
    "UnitPrice",
    "NetPrice",
    "Discount",
    "AmountFC",
    "AmountDC",
    "VATAmountFC",
    "VATCode",
    "VATPercentage",
    "GLAccount",
    "GLAccountDescription",
    "CostCenter",
];

/// Exact's sales invoice types that are credit notes.
const CREDIT_NOTE_TYPES: [i64; 2] = [8021, 8024];

/// A division's VAT code with its real rate.
#[derive(Debug, Clone, PartialEq)]
pub struct VatCode {
    /// Trimmed code (Exact pads it to 3 characters).
    pub code: String,
    pub description: Option<String>,
    /// In percent (21 for 21%).
    pub percentage: Option<Decimal>,
}

/// A `vat/VATCodes` row; `None` without a code.
pub fn vat_code(row: &Value) -> Option<VatCode> {
    Some(VatCode {
        code: odata::text(&row["Code"])?,
        description: odata::text(&row["Description"]),
        percentage: odata::decimal(&row["Percentage"]).map(fraction_to_percent),
    })
}

/// What is still outstanding per invoice number, summed over the `ReceivablesList` rows.
pub fn outstanding_by_invoice(rows: &[Value]) -> HashMap<String, Decimal> {
    let mut outstanding: HashMap<String, Decimal> = HashMap::new();
    for row in rows {
        let number = odata::int64(&row["InvoiceNumber"])
            .map(|n| n.to_string())
            .or_else(|| odata::text(&row["InvoiceNumber"]));
        if let (Some(number), Some(amount)) = (number, odata::decimal(&row["Amount"])) {
            *outstanding.entry(number).or_default() += amount;
        }
    }
    outstanding
}

/// What the mapping needs besides the invoice's own rows.
#[derive(Debug, Clone, Copy)]
pub struct InvoiceContext<'a> {
    /// The division's own currency (its `currencyRate` is 1).
    pub division_currency: &'a str,
    /// VAT codes by trimmed code.
    pub vat_codes: &'a HashMap<String, VatCode>,
    /// Outstanding amounts by invoice number (see [`outstanding_by_invoice`]).
    pub outstanding: &'a HashMap<String, Decimal>,
}

/// An Exact sales invoice, mapped.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    Invoice(Box<Invoice>),
    /// A credit note: Codat's `creditNotes`, not served as an invoice.
    CreditNote {
        id: String,
    },
}

/// Maps one invoice from its sync rows (one per line, header fields on each).
pub fn map_invoice(rows: &[&Value], ctx: &InvoiceContext<'_>) -> Result<Mapped, String> {
    let head = *rows.first().ok_or("an invoice without rows")?;
    let id = odata::text(&head["InvoiceID"]).ok_or("no InvoiceID")?;
    if odata::int64(&head["Type"]).is_some_and(|t| CREDIT_NOTE_TYPES.contains(&t)) {
        return Ok(Mapped::CreditNote { id });
    }
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| odata::int64(&r["LineNumber"]).unwrap_or(i64::MAX));

    let mut line_items = Vec::with_capacity(rows.len());
    let (mut sub_total, mut tax, mut amount_dc) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut total_discount = None::<Decimal>;
    for row in &rows {
        let line = map_line(row, ctx).map_err(|e| format!("line {}: {e}", row["LineNumber"]))?;
        sub_total += line.sub_total.unwrap_or_default();
        tax += line.tax_amount.unwrap_or_default();
        amount_dc += odata::decimal(&row["AmountDC"]).unwrap_or_default();
        if let Some(d) = line.discount_amount {
            total_discount = Some(total_discount.unwrap_or_default() + d);
        }
        line_items.push(line);
    }
    let total = sub_total + tax;

    let currency = odata::text(&head["Currency"]).unwrap_or_else(|| ctx.division_currency.into());
    let currency_rate = if currency == ctx.division_currency {
        Some(Decimal::ONE)
    } else if !sub_total.is_zero() {
        Some((amount_dc / sub_total).round_dp(6))
    } else {
        None
    };
    let number = odata::int64(&head["InvoiceNumber"])
        .map(|n| n.to_string())
        .or_else(|| odata::text(&head["InvoiceNumber"]));
    let (status, amount_due) = status_and_due(head, number.as_deref(), total, ctx);
    let issue_date = odata::date(&head["InvoiceDate"]).ok_or("no InvoiceDate")?;
    let source_modified = rows
        .iter()
        .filter_map(|r| odata::date(&r["Modified"]))
        .max();

    Ok(Mapped::Invoice(Box::new(Invoice {
        id,
        invoice_number: number,
        customer_ref: odata::text(&head["InvoiceTo"]).map(|customer| CustomerRef {
            id: customer,
            company_name: odata::text(&head["InvoiceToName"]),
        }),
        sales_order_refs: vec![],
        issue_date: local_datetime(issue_date),
        due_date: odata::date(&head["DueDate"]).map(local_datetime),
        paid_on_date: None,
        modified_date: None,
        source_modified_date: source_modified.map(local_datetime),
        currency,
        currency_rate,
        line_items,
        payment_allocations: vec![],
        withholding_tax: vec![],
        total_discount,
        sub_total: Some(sub_total),
        additional_tax_amount: None,
        additional_tax_percentage: None,
        total_tax_amount: tax,
        total_amount: total,
        amount_due,
        discount_percentage: None,
        status,
        note: odata::text(&head["Description"]),
        metadata: Metadata {
            is_deleted: Some(false),
        },
        supplemental_data: None,
    })))
}

/// Codat's status and the amount still due, from Exact's status and the receivables.
fn status_and_due(
    head: &Value,
    number: Option<&str>,
    total: Decimal,
    ctx: &InvoiceContext<'_>,
) -> (InvoiceStatus, Decimal) {
    match odata::int64(&head["Status"]) {
        Some(10) => (InvoiceStatus::Draft, total),
        Some(20) => (InvoiceStatus::Submitted, total),
        Some(50) => {
            let outstanding = number
                .and_then(|n| ctx.outstanding.get(n))
                .copied()
                .unwrap_or_default();
            // Overpaid or over-credited counts as nothing due; never more than the invoice.
            let (low, high) = if total >= Decimal::ZERO {
                (Decimal::ZERO, total)
            } else {
                (total, Decimal::ZERO)
            };
            let due = outstanding.clamp(low, high);
            (InvoiceStatus::from_amount_due(due.abs(), total.abs()), due)
        }
        _ => (InvoiceStatus::Unknown, total),
    }
}

fn map_line(row: &Value, ctx: &InvoiceContext<'_>) -> Result<InvoiceLineItem, String> {
    let quantity = odata::decimal(&row["Quantity"]).ok_or("no Quantity")?;
    let unit_amount = odata::decimal(&row["UnitPrice"]).ok_or("no UnitPrice")?;
    let net_price = odata::decimal(&row["NetPrice"]);
    let sub_total = odata::decimal(&row["AmountFC"])
        .unwrap_or_else(|| (quantity * net_price.unwrap_or(unit_amount)).round_dp(2));
    let tax_amount = odata::decimal(&row["VATAmountFC"]).unwrap_or_default();
    let discount_amount = net_price.map(|net| ((unit_amount - net) * quantity).round_dp(2));

    let tax_rate_ref = odata::text(&row["VATCode"]).map(|code| {
        let known = ctx.vat_codes.get(&code);
        TaxRateRef {
            name: known.and_then(|v| v.description.clone()),
            // The division's code table is the truth; the line's own percentage is the fallback.
            effective_tax_rate: known
                .and_then(|v| v.percentage)
                .or_else(|| odata::decimal(&row["VATPercentage"]).map(fraction_to_percent)),
            id: Some(code),
        }
    });
    Ok(InvoiceLineItem {
        description: odata::text(&row["LineDescription"]),
        unit_amount,
        quantity,
        discount_amount,
        discount_percentage: odata::decimal(&row["Discount"]).map(fraction_to_percent),
        sub_total: Some(sub_total),
        tax_amount: Some(tax_amount),
        total_amount: Some(sub_total + tax_amount),
        account_ref: odata::text(&row["GLAccount"]).map(|gl| AccountRef {
            id: Some(gl),
            name: odata::text(&row["GLAccountDescription"]),
        }),
        tax_rate_ref,
        item_ref: odata::text(&row["Item"]).map(|item| ItemRef {
            id: item,
            name: odata::text(&row["ItemDescription"]),
        }),
        tracking_category_refs: odata::text(&row["CostCenter"])
            .map(|cc| TrackingCategoryRef { id: cc, name: None })
            .into_iter()
            .collect(),
        is_direct_income: None,
        tracking: None,
    })
}

/// Exact writes rates as fractions (0.21); Codat as percentages (21).
fn fraction_to_percent(fraction: Decimal) -> Decimal {
    (fraction * Decimal::ONE_HUNDRED).normalize()
}

#[cfg(test)]
#[path = "invoices_tests.rs"]
mod tests;
