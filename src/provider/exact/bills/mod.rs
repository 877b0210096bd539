//! Exact purchase entries → Codat's Bill.
//!
//! Read from the general ledger, `sync/Financial/TransactionLines` (1,000 rows a call), the rows
//! of `Type` 30 (purchase entry) grouped by `EntryID`, plus `vat/VATCodes` (percentages, and the
//! GL accounts VAT is booked on) and `read/financial/PayablesList` (what is still owed).
//!
//! Why not `purchaseentry/PurchaseEntries` + `PurchaseEntryLines`: those are plain endpoints, 60
//! rows a call and no sync variant, so a division with N bills of L lines costs ⌈N/60⌉ + ⌈NL/60⌉
//! calls, against ⌈all lines/1,000⌉ for the transaction lines, which the journal entries read
//! anyway (the same read serves both in one run).
//!
//! An entry's lines (Exact books a purchase entry as): line 0 is the creditor line, the total
//! including VAT on the payable account (credit, negative); the lines on a VAT code's `GLToPay` /
//! `GLToClaim` account are the VAT; every other line is a cost line (debit, positive) carrying
//! its own VAT in `AmountVATFC`.
//!
//! | Exact | Bill | why |
//! |---|---|---|
//! | `EntryID` | `id` | the purchase entry's GUID (also its journal entry's id) |
//! | `YourRef` | `reference` | the supplier's invoice number |
//! | `Account`, `AccountName` | `supplierRef.id`, `.supplierName` | the supplier's account GUID, the suppliers data type's id |
//! | `Date`, `DueDate` | `issueDate`, `dueDate` | local wall-clock dates |
//! | `Currency`, Σ cost `AmountDC` / Σ cost `AmountFC` | `currency`, `currencyRate` | 1 in the division's own currency; as the invoices (`ExchangeRate` without cost lines) |
//! | creditor line `Description` | `note` | |
//! | `Modified` (latest of the rows) | `sourceModifiedDate` | |
//! | cost line `AmountFC`, `AmountVATFC` | line `subTotal`, `taxAmount`; their sum `totalAmount` | in the bill's currency |
//! | cost line `Quantity` (1 if absent), `AmountFC` / quantity | `quantity`, `unitAmount` | |
//! | cost line `GLAccount`, `GLAccountDescription` | `accountRef` | the GL account's GUID, the accounts data type's id |
//! | cost line `VATCode` + `vat/VATCodes` | `taxRateRef {id, name, effectiveTaxRate}` | the division's percentage, never hard-coded |
//! | cost line `CostCenter` | `trackingCategoryRefs` | |
//! | cost line `LineNumber`, `Description` | `lineNumber`, `description` | |
//! | Σ cost lines, Σ VAT lines | `subTotal`, `taxAmount`; `totalAmount` = their sum | equals the creditor line |
//! | `PayablesList.Amount` by (`JournalCode`, `EntryNumber`) | `amountDue` | clamped to 0 ≤ amountDue ≤ totalAmount; absent = nothing owed |
//!
//! `status`: a purchase entry in the transaction lines is booked (`Status` 20 open or 50
//! processed; Exact keeps rejected ones, status 5, out of the ledger), so it is `Paid` when
//! nothing is owed, `PartiallyPaid` when part is, `Open` when all is; any other status is
//! `Unknown`. Purchase credit notes (`Type` 31) are Codat's `billCreditNotes`, not bills.
//!
//! Not mapped: `purchaseOrderRefs`, `paymentAllocations` (need purchase orders and bill
//! payments), `withholdingTax` (always empty), `itemRef` (purchase entries carry no item).

use std::collections::{BTreeSet, HashMap};

use rust_decimal::Decimal;
use serde::Deserialize;

use super::invoices::VatCode;
use super::row::de;
use super::transaction_lines::{TransactionLineRow, entry_type};
use crate::model::{
    AccountRef, Bill, BillLineItem, BillStatus, Metadata, SupplierRef, TaxRateRef,
    TrackingCategoryRef, local_datetime,
};

/// A `read/financial/PayablesList` row: something still owed to a supplier.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct PayableRow {
    #[serde(deserialize_with = "de::text")]
    pub journal_code: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub entry_number: Option<String>,
    #[serde(deserialize_with = "de::decimal")]
    pub amount: Option<Decimal>,
}

/// The key an entry's outstanding items go by: an entry number is unique within its journal.
fn entry_key(journal: Option<&str>, entry_number: Option<&str>) -> Option<String> {
    Some(format!("{}/{}", journal?, entry_number?))
}

/// What is still owed per entry, summed over the `PayablesList` rows (a split payment term
/// gives several).
pub fn outstanding_by_entry(rows: &[PayableRow]) -> HashMap<String, Decimal> {
    let mut outstanding: HashMap<String, Decimal> = HashMap::new();
    for row in rows {
        let key = entry_key(row.journal_code.as_deref(), row.entry_number.as_deref());
        if let (Some(key), Some(amount)) = (key, row.amount) {
            *outstanding.entry(key).or_default() += amount;
        }
    }
    outstanding
}

/// What the mapping needs besides the entry's own rows.
#[derive(Debug, Clone, Copy)]
pub struct BillContext<'a> {
    /// The division's own currency (its `currencyRate` is 1).
    pub division_currency: &'a str,
    /// VAT codes by trimmed code.
    pub vat_codes: &'a HashMap<String, VatCode>,
    /// The GL accounts VAT is booked on (every code's `GLToPay` and `GLToClaim`).
    pub vat_accounts: &'a BTreeSet<String>,
    /// Outstanding amounts by entry (see [`outstanding_by_entry`]).
    pub outstanding: &'a HashMap<String, Decimal>,
}

/// Whether an entry's rows are a purchase entry (a bill), not a purchase credit note.
pub fn is_bill(rows: &[TransactionLineRow]) -> bool {
    rows.first()
        .is_some_and(|r| r.r#type == Some(entry_type::PURCHASE_ENTRY))
}

/// Maps one purchase entry from its transaction lines (in line order).
pub fn map_bill(rows: &[TransactionLineRow], ctx: &BillContext<'_>) -> Result<Bill, String> {
    let head = rows
        .iter()
        .find(|r| r.line_number == Some(0))
        .ok_or("no creditor line (line 0)")?;
    let id = head.entry_id.clone().ok_or("no EntryID")?;
    let is_vat = |r: &TransactionLineRow| {
        r.gl_account
            .as_ref()
            .is_some_and(|gl| ctx.vat_accounts.contains(gl))
    };
    let mut line_items = Vec::new();
    let (mut sub_total, mut sub_total_dc, mut tax) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for row in rows.iter().filter(|r| r.line_number != Some(0)) {
        let amount = row.amount_fc.ok_or("a line without AmountFC")?;
        if is_vat(row) {
            tax += amount;
        } else {
            sub_total += amount;
            sub_total_dc += row.amount_dc.unwrap_or_default();
            line_items.push(map_line(row, amount, ctx));
        }
    }
    let total = sub_total + tax;
    let currency = head
        .currency
        .clone()
        .unwrap_or_else(|| ctx.division_currency.into());
    // As the invoices do: what one unit of the bill's currency is in the division's.
    let currency_rate = if currency == ctx.division_currency {
        Some(Decimal::ONE)
    } else if !sub_total.is_zero() {
        Some((sub_total_dc / sub_total).round_dp(6))
    } else {
        head.exchange_rate
    };
    let outstanding = entry_key(head.journal_code.as_deref(), head.entry_number.as_deref())
        .and_then(|key| ctx.outstanding.get(&key))
        .copied()
        .unwrap_or_default();
    let (status, amount_due) = match head.status {
        Some(20 | 50) => {
            // Overpaid counts as nothing due; never more than the bill.
            let (low, high) = if total >= Decimal::ZERO {
                (Decimal::ZERO, total)
            } else {
                (total, Decimal::ZERO)
            };
            let due = outstanding.clamp(low, high);
            (BillStatus::from_amount_due(due.abs(), total.abs()), due)
        }
        _ => (BillStatus::Unknown, total.max(Decimal::ZERO)),
    };
    let issue_date = head.date.ok_or("no Date")?;
    Ok(Bill {
        id,
        reference: head.your_ref.clone(),
        supplier_ref: head.account.clone().map(|supplier| SupplierRef {
            id: supplier,
            supplier_name: head.account_name.clone(),
        }),
        purchase_order_refs: vec![],
        issue_date: local_datetime(issue_date),
        due_date: head.due_date.map(local_datetime),
        modified_date: None,
        source_modified_date: rows
            .iter()
            .filter_map(|r| r.modified)
            .max()
            .map(local_datetime),
        currency,
        currency_rate,
        line_items,
        withholding_tax: vec![],
        sub_total,
        tax_amount: tax,
        total_amount: total,
        amount_due,
        status,
        note: head.description.clone(),
        payment_allocations: vec![],
        metadata: Metadata {
            is_deleted: Some(false),
        },
        supplemental_data: None,
    })
}

fn map_line(row: &TransactionLineRow, amount: Decimal, ctx: &BillContext<'_>) -> BillLineItem {
    let quantity = row
        .quantity
        .filter(|q| !q.is_zero())
        .unwrap_or(Decimal::ONE);
    let tax_amount = row.amount_vat_fc.unwrap_or_default();
    let tax_rate_ref = row.vat_code.clone().map(|code| {
        let known = ctx.vat_codes.get(&code);
        TaxRateRef {
            name: known.and_then(|v| v.description.clone()),
            effective_tax_rate: known.and_then(|v| v.percentage).or_else(|| {
                row.vat_percentage
                    .map(|f| (f * Decimal::ONE_HUNDRED).normalize())
            }),
            id: Some(code),
        }
    });
    BillLineItem {
        description: row.description.clone(),
        line_number: row.line_number.map(|n| n.to_string()),
        unit_amount: (amount / quantity).round_dp(4).normalize(),
        quantity,
        sub_total: Some(amount),
        tax_amount: Some(tax_amount),
        total_amount: Some(amount + tax_amount),
        account_ref: row.gl_account.clone().map(|gl| AccountRef {
            id: Some(gl),
            name: row.gl_account_description.clone(),
        }),
        tax_rate_ref,
        item_ref: None,
        tracking_category_refs: row
            .cost_center
            .clone()
            .map(|cc| TrackingCategoryRef { id: cc, name: None })
            .into_iter()
            .collect(),
    }
}

#[cfg(test)]
mod tests;
