//! Exact financial entries → Codat's JournalEntry.
//!
//! Read from the general ledger, `sync/Financial/TransactionLines` (1,000 rows a call), grouped
//! by `EntryID`: every entry of every journal (sales, purchase, bank, general). The same read
//! feeds the bills when both are pulled in one run.
//!
//! | Exact | JournalEntry | why |
//! |---|---|---|
//! | `EntryID` | `id` | the entry's GUID |
//! | first line's `Description` | `description` | line 0 carries the entry's text |
//! | `Date` | `postedOn` | the date it counts on in the ledger |
//! | `Created` (earliest), `Modified` (latest) | `createdOn`, `updatedOn`, `sourceModifiedDate` | local wall-clock times |
//! | `JournalCode`, `JournalDescription` | `journalRef.id`, `.name` | Exact is a multi-journal ledger |
//! | `Type` 20 / 21 + `InvoiceNumber` | `recordRef` `invoices` / `creditNotes` with the sales invoice's `InvoiceID` | the id those data types use |
//! | `Type` 30 / 31 | `recordRef` `bills` / `billCreditNotes` with the `EntryID` | a purchase entry's id is its entry's |
//! | line `AmountFC` (or `AmountDC`, see below) | line `netAmount` | debit positive, credit negative, as Exact |
//! | line `Currency` | line `currency` | |
//! | line `GLAccount`, `GLAccountDescription` | line `accountRef` | the GL account's GUID, the accounts data type's id |
//! | line `Account` | line `contactRef` (`customers` on sales entries, `suppliers` on purchase entries) | the relation's account GUID |
//! | line `Description` | line `description` | |
//!
//! The lines balance: an entry is in one currency and its `AmountFC`s sum to zero, so those are
//! the net amounts. Should an entry's `AmountFC`s not balance (an exchange-rate difference is
//! booked in the division's currency only), its `AmountDC`s are used, in the division's currency.
//! Bank entries (`Type` 40) have no record behind them that Ledgerline serves yet (payments and
//! bill payments), so they carry no `recordRef`; nor do general journal entries.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::transaction_lines::{TransactionLineRow, entry_type};
use crate::model::{
    AccountRef, ContactRef, ContactType, JournalEntry, JournalLine, JournalRecordRef,
    JournalRecordType, JournalRef, Metadata, local_datetime,
};

/// What the mapping needs besides the entry's own rows.
#[derive(Debug, Clone, Copy)]
pub struct JournalContext<'a> {
    /// The division's own currency.
    pub division_currency: &'a str,
    /// Sales invoice ids (`InvoiceID`) by invoice number.
    pub invoice_ids: &'a HashMap<String, String>,
}

/// Maps one entry from its transaction lines (in line order).
pub fn map_journal_entry(
    rows: &[TransactionLineRow],
    ctx: &JournalContext<'_>,
) -> Result<JournalEntry, String> {
    let head = rows.first().ok_or("an entry without lines")?;
    let id = head.entry_id.clone().ok_or("no EntryID")?;
    let kind = head.r#type;

    let fc: Option<Vec<Decimal>> = rows.iter().map(|r| r.amount_fc).collect();
    let in_own_currency = fc
        .as_ref()
        .is_some_and(|a| a.iter().sum::<Decimal>().is_zero());
    let contact_type = match kind {
        Some(entry_type::SALES_ENTRY | entry_type::SALES_CREDIT_NOTE) => {
            Some(ContactType::Customers)
        }
        Some(entry_type::PURCHASE_ENTRY | entry_type::PURCHASE_CREDIT_NOTE) => {
            Some(ContactType::Suppliers)
        }
        _ => None,
    };
    let journal_lines = rows
        .iter()
        .map(|row| {
            let (net_amount, currency) = if in_own_currency {
                (row.amount_fc, row.currency.clone())
            } else {
                (row.amount_dc, Some(ctx.division_currency.to_string()))
            };
            Ok(JournalLine {
                description: row.description.clone(),
                net_amount: net_amount.ok_or("a line without an amount")?,
                currency,
                account_ref: row.gl_account.clone().map(|gl| AccountRef {
                    id: Some(gl),
                    name: row.gl_account_description.clone(),
                }),
                contact_ref: row.account.clone().map(|account| ContactRef {
                    id: account,
                    data_type: contact_type,
                }),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;

    let sales_invoice = || {
        head.invoice_number
            .as_ref()
            .and_then(|n| ctx.invoice_ids.get(n))
            .cloned()
    };
    let record_ref = match kind {
        Some(entry_type::SALES_ENTRY) => {
            sales_invoice().map(|i| record(i, JournalRecordType::Invoices))
        }
        Some(entry_type::SALES_CREDIT_NOTE) => {
            sales_invoice().map(|i| record(i, JournalRecordType::CreditNotes))
        }
        Some(entry_type::PURCHASE_ENTRY) => Some(record(id.clone(), JournalRecordType::Bills)),
        Some(entry_type::PURCHASE_CREDIT_NOTE) => {
            Some(record(id.clone(), JournalRecordType::BillCreditNotes))
        }
        _ => None,
    };
    let updated = rows.iter().filter_map(|r| r.modified).max();
    Ok(JournalEntry {
        description: head.description.clone(),
        posted_on: head.date.map(local_datetime),
        created_on: rows
            .iter()
            .filter_map(|r| r.created)
            .min()
            .map(local_datetime),
        updated_on: updated.map(local_datetime),
        journal_ref: head.journal_code.clone().map(|code| JournalRef {
            id: code,
            name: head.journal_description.clone(),
        }),
        record_ref,
        journal_lines,
        modified_date: None,
        source_modified_date: updated.map(local_datetime),
        metadata: Metadata {
            is_deleted: Some(false),
        },
        supplemental_data: None,
        id,
    })
}

fn record(id: String, data_type: JournalRecordType) -> JournalRecordRef {
    JournalRecordRef {
        id: Some(id),
        data_type: Some(data_type),
    }
}

#[cfg(test)]
mod tests;
