//! Exact sales credit notes → Codat's CreditNote.
//!
//! A credit note at Exact is a sales invoice of `Type` 8021 (credit note) or 8024 (direct credit
//! note), so it comes from the invoices' own read: `sync/SalesInvoice/SalesInvoices` (one row per
//! line, header fields on each), `vat/VATCodes` and `read/financial/ReceivablesList`, read once a
//! run for both data types (`super::invoices::pull`). The header and lines are mapped as an
//! invoice's ([`sales_document`]); what differs is the sign and what is left to settle.
//!
//! Exact books a credit note negative (`Quantity`, `AmountFC`, `VATAmountFC`, `AmountDC` below
//! zero, `UnitPrice` positive); Codat writes credit notes positive. So every quantity and amount
//! of the invoice mapping is negated, and the unit price kept.
//!
//! | Exact | CreditNote | why |
//! |---|---|---|
//! | `InvoiceID` | `id` | the credit note's GUID |
//! | `InvoiceNumber` | `creditNoteNumber` | the number people quote (credit notes share the invoices' numbering) |
//! | `InvoiceTo`, `InvoiceToName` | `customerRef.id`, `.companyName` | the customer credited: an id of the customers data type, as on invoices |
//! | `InvoiceDate` | `issueDate` | local wall-clock time, written without a zone |
//! | `Currency`, Σ `AmountDC` / Σ `AmountFC` | `currency`, `currencyRate` | as on invoices (both sums negative, the rate positive) |
//! | `Description` | `note` | the header's free text |
//! | `Modified` (latest of the rows) | `sourceModifiedDate` | |
//! | lines | `lineItems` | the invoice line mapping, with `quantity`, `discountAmount`, `subTotal`, `taxAmount`, `totalAmount` negated; `unitAmount`, `discountPercentage`, `taxRateRef`, `accountRef`, `itemRef`, `trackingCategoryRefs` as on invoices |
//! | − Σ lines | `subTotal`, `totalTaxAmount`, `totalAmount` | `totalAmount = subTotal + totalTaxAmount` always holds |
//! | − Σ line discounts | `totalDiscount` | 0 without line discounts (Codat requires it) |
//! | — | `discountPercentage` | 0: Exact has no discount on a sales invoice's header, only on its lines |
//! | − `ReceivablesList.Amount` by `InvoiceNumber` | `remainingCredit` | the list holds what is still to be settled, negative for a credit note; no row = nothing left |
//!
//! `status` (as on invoices, by what is left instead of what is due): Exact `Status` 10 (draft)
//! → `Draft`; 20 (open, not yet processed into the ledger: nothing can be settled against it) →
//! `Submitted` with `remainingCredit = totalAmount`; 50 (processed) → `Paid` when nothing is
//! left, `PartiallyPaid` when part is, `Submitted` when all is. `remainingCredit` is clamped to
//! `0 ≤ remainingCredit ≤ totalAmount` (a note used beyond its amount has nothing left). Exact
//! has no cancelled state, so `Void` is never produced. Any other status → `Unknown`.
//!
//! Not mapped yet: `allocatedOnDate` and `paymentAllocations` (need the payments data type),
//! `withholdingTax` (always empty), the additional tax fields, Codat's `tracking` block.

use rust_decimal::Decimal;

use super::invoices::{InvoiceContext, SalesInvoiceRow, is_credit_note, sales_document};
use crate::model::{CreditNote, CreditNoteLineItem, CreditNoteStatus, Metadata, local_datetime};

/// Maps one credit note from its sync rows (one per line, header fields on each).
pub fn map_credit_note(
    rows: &[SalesInvoiceRow],
    ctx: &InvoiceContext<'_>,
) -> Result<CreditNote, String> {
    let head = rows.first().ok_or("a credit note without rows")?;
    if !is_credit_note(head) {
        return Err(format!("Type {:?} is not a credit note", head.r#type));
    }
    let doc = sales_document(rows, ctx)?;
    let sub_total = as_credit(doc.sub_total);
    let tax = as_credit(doc.tax);
    let total = sub_total + tax;
    let (status, remaining_credit) = status_and_remaining(doc.head, total, doc.outstanding(ctx));
    Ok(CreditNote {
        id: doc.id,
        credit_note_number: doc.number,
        customer_ref: doc.customer_ref,
        issue_date: Some(local_datetime(doc.issue_date)),
        allocated_on_date: None,
        modified_date: None,
        source_modified_date: doc.source_modified.map(local_datetime),
        currency: doc.currency,
        currency_rate: doc.currency_rate,
        line_items: doc.line_items.into_iter().map(credit_line).collect(),
        payment_allocations: vec![],
        withholding_tax: vec![],
        total_discount: as_credit(doc.total_discount.unwrap_or_default()),
        sub_total,
        additional_tax_amount: None,
        additional_tax_percentage: None,
        total_tax_amount: tax,
        total_amount: total,
        remaining_credit,
        discount_percentage: Decimal::ZERO,
        status,
        note: head.description.clone(),
        metadata: Metadata {
            is_deleted: Some(false),
        },
        supplemental_data: None,
    })
}

/// Codat's status and the credit left, from Exact's status and what the receivables still hold
/// (`outstanding`, negative for a credit note).
fn status_and_remaining(
    head: &SalesInvoiceRow,
    total: Decimal,
    outstanding: Decimal,
) -> (CreditNoteStatus, Decimal) {
    match head.status {
        Some(10) => (CreditNoteStatus::Draft, total),
        Some(20) => (CreditNoteStatus::Submitted, total),
        Some(50) => {
            let (low, high) = if total >= Decimal::ZERO {
                (Decimal::ZERO, total)
            } else {
                (total, Decimal::ZERO)
            };
            let remaining = as_credit(outstanding).clamp(low, high);
            (
                CreditNoteStatus::from_remaining_credit(remaining.abs(), total.abs()),
                remaining,
            )
        }
        _ => (CreditNoteStatus::Unknown, total),
    }
}

/// An invoice line of Exact's negative credit note, written positive as Codat's credit note line.
fn credit_line(line: CreditNoteLineItem) -> CreditNoteLineItem {
    CreditNoteLineItem {
        quantity: as_credit(line.quantity),
        discount_amount: line.discount_amount.map(as_credit),
        sub_total: line.sub_total.map(as_credit),
        tax_amount: line.tax_amount.map(as_credit),
        total_amount: line.total_amount.map(as_credit),
        ..line
    }
}

/// An amount of Exact's credit note (negative) as Codat writes it: negated, never a negative zero.
fn as_credit(exact: Decimal) -> Decimal {
    let negated = -exact;
    if negated.is_zero() {
        Decimal::ZERO
    } else {
        negated
    }
}

#[cfg(test)]
mod tests;
