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
//! Credit notes (`Type` 8021 and 8024) are Codat's `creditNotes` data type, not invoices
//! ([`map_invoice`] answers [`Mapped::CreditNote`] for them): `super::credit_notes` maps them from
//! the same rows, with the same lines ([`sales_document`]), and the pull reads these endpoints
//! once for both. Direct invoices (8023) are invoices.
//!
//! Not mapped yet: `paidOnDate` (needs the payments data type), `paymentAllocations`,
//! `salesOrderRefs`, `withholdingTax` (always empty), Codat's `tracking` block (null).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::Deserialize;

pub(in crate::provider::exact) mod pull;

use super::row::de;
use crate::model::{
    AccountRef, CustomerRef, Invoice, InvoiceLineItem, InvoiceStatus, ItemRef, Metadata,
    TaxRateRef, TrackingCategoryRef, local_datetime,
};

/// One row of `sync/SalesInvoice/SalesInvoices`: one invoice line with its header's fields.
/// Only what the mapping reads; the pull's `$select` is these fields.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct SalesInvoiceRow {
    #[serde(deserialize_with = "de::int64")]
    pub timestamp: Option<i64>,
    #[serde(rename = "InvoiceID", deserialize_with = "de::text")]
    pub invoice_id: Option<String>,
    /// An `Edm.Int32` at Exact; read as text so that it keys the receivables either way.
    #[serde(deserialize_with = "de::text")]
    pub invoice_number: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub invoice_to: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub invoice_to_name: Option<String>,
    #[serde(deserialize_with = "de::date")]
    pub invoice_date: Option<NaiveDateTime>,
    #[serde(deserialize_with = "de::date")]
    pub due_date: Option<NaiveDateTime>,
    #[serde(deserialize_with = "de::text")]
    pub currency: Option<String>,
    #[serde(deserialize_with = "de::int64")]
    pub status: Option<i64>,
    #[serde(deserialize_with = "de::int64")]
    pub r#type: Option<i64>,
    #[serde(deserialize_with = "de::text")]
    pub description: Option<String>,
    #[serde(deserialize_with = "de::date")]
    pub modified: Option<NaiveDateTime>,
    #[serde(rename = "ID", deserialize_with = "de::text")]
    pub id: Option<String>,
    #[serde(deserialize_with = "de::int64")]
    pub line_number: Option<i64>,
    #[serde(deserialize_with = "de::text")]
    pub line_description: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub item: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub item_description: Option<String>,
    #[serde(deserialize_with = "de::decimal")]
    pub quantity: Option<Decimal>,
    #[serde(deserialize_with = "de::decimal")]
    pub unit_price: Option<Decimal>,
    #[serde(deserialize_with = "de::decimal")]
    pub net_price: Option<Decimal>,
    #[serde(deserialize_with = "de::decimal")]
    pub discount: Option<Decimal>,
    #[serde(rename = "AmountFC", deserialize_with = "de::decimal")]
    pub amount_fc: Option<Decimal>,
    #[serde(rename = "AmountDC", deserialize_with = "de::decimal")]
    pub amount_dc: Option<Decimal>,
    #[serde(rename = "VATAmountFC", deserialize_with = "de::decimal")]
    pub vat_amount_fc: Option<Decimal>,
    #[serde(rename = "VATCode", deserialize_with = "de::text")]
    pub vat_code: Option<String>,
    #[serde(rename = "VATPercentage", deserialize_with = "de::decimal")]
    pub vat_percentage: Option<Decimal>,
    #[serde(rename = "GLAccount", deserialize_with = "de::text")]
    pub gl_account: Option<String>,
    #[serde(rename = "GLAccountDescription", deserialize_with = "de::text")]
    pub gl_account_description: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub cost_center: Option<String>,
}

/// A `vat/VATCodes` row.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VatCodeRow {
    #[serde(deserialize_with = "de::text")]
    pub code: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub description: Option<String>,
    #[serde(deserialize_with = "de::decimal")]
    pub percentage: Option<Decimal>,
    /// The GL account the VAT owed is booked on (bills tell VAT lines from cost lines by it).
    #[serde(rename = "GLToPay", deserialize_with = "de::text")]
    pub gl_to_pay: Option<String>,
    /// The GL account the VAT to claim back is booked on.
    #[serde(rename = "GLToClaim", deserialize_with = "de::text")]
    pub gl_to_claim: Option<String>,
}

/// A `read/financial/ReceivablesList` row: something still to be received.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ReceivableRow {
    #[serde(deserialize_with = "de::text")]
    pub invoice_number: Option<String>,
    #[serde(deserialize_with = "de::decimal")]
    pub amount: Option<Decimal>,
}

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

/// A `vat/VATCodes` row's code; `None` without a code.
pub fn vat_code(row: VatCodeRow) -> Option<VatCode> {
    Some(VatCode {
        code: row.code?,
        description: row.description,
        percentage: row.percentage.map(fraction_to_percent),
    })
}

/// What is still outstanding per invoice number, summed over the `ReceivablesList` rows.
pub fn outstanding_by_invoice(rows: &[ReceivableRow]) -> HashMap<String, Decimal> {
    let mut outstanding: HashMap<String, Decimal> = HashMap::new();
    for row in rows {
        if let (Some(number), Some(amount)) = (&row.invoice_number, row.amount) {
            *outstanding.entry(number.clone()).or_default() += amount;
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

/// Whether an Exact sales invoice is a credit note (`Type` 8021 or 8024), Codat's `creditNotes`.
pub fn is_credit_note(head: &SalesInvoiceRow) -> bool {
    head.r#type.is_some_and(|t| CREDIT_NOTE_TYPES.contains(&t))
}

/// What an Exact sales invoice's rows give alike for an invoice and a credit note: its header,
/// its lines (in `LineNumber` order) and their sums, in Exact's signs (a credit note's lines
/// are negative there).
#[derive(Debug, Clone)]
pub struct SalesDocument<'r> {
    /// The first row: the header's fields.
    pub head: &'r SalesInvoiceRow,
    pub id: String,
    pub number: Option<String>,
    pub customer_ref: Option<CustomerRef>,
    pub issue_date: NaiveDateTime,
    /// The latest `Modified` of the rows.
    pub source_modified: Option<NaiveDateTime>,
    pub currency: String,
    pub currency_rate: Option<Decimal>,
    pub line_items: Vec<InvoiceLineItem>,
    /// Σ line `subTotal`.
    pub sub_total: Decimal,
    /// Σ line `taxAmount`.
    pub tax: Decimal,
    /// Σ line `discountAmount`; `None` when no line says.
    pub total_discount: Option<Decimal>,
}

impl SalesDocument<'_> {
    /// Including tax: `subTotal + totalTaxAmount`, always.
    pub fn total(&self) -> Decimal {
        self.sub_total + self.tax
    }

    /// What the receivables say is still outstanding on it (0 when it has no row there).
    pub fn outstanding(&self, ctx: &InvoiceContext<'_>) -> Decimal {
        self.number
            .as_deref()
            .and_then(|n| ctx.outstanding.get(n))
            .copied()
            .unwrap_or_default()
    }
}

/// The header, lines and sums of one sales invoice from its sync rows (one per line, header
/// fields on each), whether it is an invoice or a credit note.
pub fn sales_document<'r>(
    rows: &'r [SalesInvoiceRow],
    ctx: &InvoiceContext<'_>,
) -> Result<SalesDocument<'r>, String> {
    let head = rows.first().ok_or("an invoice without rows")?;
    let id = head.invoice_id.clone().ok_or("no InvoiceID")?;
    let mut rows: Vec<&SalesInvoiceRow> = rows.iter().collect();
    rows.sort_by_key(|r| r.line_number.unwrap_or(i64::MAX));

    let mut line_items = Vec::with_capacity(rows.len());
    let (mut sub_total, mut tax, mut amount_dc) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut total_discount = None::<Decimal>;
    for row in &rows {
        let line = map_line(row, ctx).map_err(|e| {
            format!(
                "line {}: {e}",
                row.line_number.map_or("?".into(), |n| n.to_string())
            )
        })?;
        sub_total += line.sub_total.unwrap_or_default();
        tax += line.tax_amount.unwrap_or_default();
        amount_dc += row.amount_dc.unwrap_or_default();
        if let Some(d) = line.discount_amount {
            total_discount = Some(total_discount.unwrap_or_default() + d);
        }
        line_items.push(line);
    }

    let currency = head
        .currency
        .clone()
        .unwrap_or_else(|| ctx.division_currency.into());
    let currency_rate = if currency == ctx.division_currency {
        Some(Decimal::ONE)
    } else if !sub_total.is_zero() {
        Some((amount_dc / sub_total).round_dp(6))
    } else {
        None
    };
    let issue_date = head.invoice_date.ok_or("no InvoiceDate")?;
    Ok(SalesDocument {
        head,
        id,
        number: head.invoice_number.clone(),
        customer_ref: head.invoice_to.clone().map(|customer| CustomerRef {
            id: customer,
            company_name: head.invoice_to_name.clone(),
        }),
        issue_date,
        source_modified: rows.iter().filter_map(|r| r.modified).max(),
        currency,
        currency_rate,
        line_items,
        sub_total,
        tax,
        total_discount,
    })
}

/// Maps one invoice from its sync rows (one per line, header fields on each).
pub fn map_invoice(rows: &[SalesInvoiceRow], ctx: &InvoiceContext<'_>) -> Result<Mapped, String> {
    let head = rows.first().ok_or("an invoice without rows")?;
    let id = head.invoice_id.clone().ok_or("no InvoiceID")?;
    if is_credit_note(head) {
        return Ok(Mapped::CreditNote { id });
    }
    let doc = sales_document(rows, ctx)?;
    let total = doc.total();
    let (status, amount_due) = status_and_due(doc.head, total, doc.outstanding(ctx));

    Ok(Mapped::Invoice(Box::new(Invoice {
        id: doc.id,
        invoice_number: doc.number,
        customer_ref: doc.customer_ref,
        sales_order_refs: vec![],
        issue_date: local_datetime(doc.issue_date),
        due_date: head.due_date.map(local_datetime),
        paid_on_date: None,
        modified_date: None,
        source_modified_date: doc.source_modified.map(local_datetime),
        currency: doc.currency,
        currency_rate: doc.currency_rate,
        line_items: doc.line_items,
        payment_allocations: vec![],
        withholding_tax: vec![],
        total_discount: doc.total_discount,
        sub_total: Some(doc.sub_total),
        additional_tax_amount: None,
        additional_tax_percentage: None,
        total_tax_amount: doc.tax,
        total_amount: total,
        amount_due,
        discount_percentage: None,
        status,
        note: head.description.clone(),
        metadata: Metadata {
            is_deleted: Some(false),
        },
        supplemental_data: None,
    })))
}

/// Codat's status and the amount still due, from Exact's status and the receivables.
fn status_and_due(
    head: &SalesInvoiceRow,
    total: Decimal,
    outstanding: Decimal,
) -> (InvoiceStatus, Decimal) {
    match head.status {
        Some(10) => (InvoiceStatus::Draft, total),
        Some(20) => (InvoiceStatus::Submitted, total),
        Some(50) => {
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

fn map_line(row: &SalesInvoiceRow, ctx: &InvoiceContext<'_>) -> Result<InvoiceLineItem, String> {
    let quantity = row.quantity.ok_or("no Quantity")?;
    let unit_amount = row.unit_price.ok_or("no UnitPrice")?;
    let net_price = row.net_price;
    let sub_total = row
        .amount_fc
        .unwrap_or_else(|| (quantity * net_price.unwrap_or(unit_amount)).round_dp(2));
    let tax_amount = row.vat_amount_fc.unwrap_or_default();
    let discount_amount = net_price.map(|net| ((unit_amount - net) * quantity).round_dp(2));

    let tax_rate_ref = row.vat_code.clone().map(|code| {
        let known = ctx.vat_codes.get(&code);
        TaxRateRef {
            name: known.and_then(|v| v.description.clone()),
            // The division's code table is the truth; the line's own percentage is the fallback.
            effective_tax_rate: known
                .and_then(|v| v.percentage)
                .or_else(|| row.vat_percentage.map(fraction_to_percent)),
            id: Some(code),
        }
    });
    Ok(InvoiceLineItem {
        description: row.line_description.clone(),
        unit_amount,
        quantity,
        discount_amount,
        discount_percentage: row.discount.map(fraction_to_percent),
        sub_total: Some(sub_total),
        tax_amount: Some(tax_amount),
        total_amount: Some(sub_total + tax_amount),
        account_ref: row.gl_account.clone().map(|gl| AccountRef {
            id: Some(gl),
            name: row.gl_account_description.clone(),
        }),
        tax_rate_ref,
        item_ref: row.item.clone().map(|item| ItemRef {
            id: item,
            name: row.item_description.clone(),
        }),
        tracking_category_refs: row
            .cost_center
            .clone()
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
pub(super) mod tests;
