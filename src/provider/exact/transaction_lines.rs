//! Exact's general ledger, `sync/Financial/TransactionLines` (1,000 rows a call): one row per
//! line of every financial entry (sales, purchases, bank, general journal), the lines of one
//! `EntryID` summing to zero (debit positive). Bills and journal entries are both read from it,
//! so a pull run that wants both reads it once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::ExactProvider;
use super::accounts::balances::LineSums;
use super::accounts::pull::FullBalances;
use super::bills::{self, BillContext, PayableRow};
use super::cursor::{self, PAYMENT_TERMS, SyncCursor};
use super::invoices::{VatCode, vat_code};
use super::journal_entries::{self, JournalContext};
use super::pull::{DeletedLog, Run};
use super::row::{self, de};
use super::stream::Groups;
use crate::provider::{DataType, PullError};

/// One row of `sync/Financial/TransactionLines`. Only what the mappings read; the pull's
/// `$select` is these fields.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct TransactionLineRow {
    #[serde(deserialize_with = "de::int64")]
    pub timestamp: Option<i64>,
    #[serde(rename = "ID", deserialize_with = "de::text")]
    pub id: Option<String>,
    #[serde(rename = "EntryID", deserialize_with = "de::text")]
    pub entry_id: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub entry_number: Option<String>,
    #[serde(deserialize_with = "de::int64")]
    pub line_number: Option<i64>,
    #[serde(deserialize_with = "de::text")]
    pub journal_code: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub journal_description: Option<String>,
    #[serde(deserialize_with = "de::date")]
    pub date: Option<NaiveDateTime>,
    #[serde(deserialize_with = "de::date")]
    pub due_date: Option<NaiveDateTime>,
    #[serde(rename = "GLAccount", deserialize_with = "de::text")]
    pub gl_account: Option<String>,
    #[serde(rename = "GLAccountDescription", deserialize_with = "de::text")]
    pub gl_account_description: Option<String>,
    /// The customer or supplier (an Exact account GUID).
    #[serde(deserialize_with = "de::text")]
    pub account: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub account_name: Option<String>,
    #[serde(rename = "AmountDC", deserialize_with = "de::decimal")]
    pub amount_dc: Option<Decimal>,
    #[serde(rename = "AmountFC", deserialize_with = "de::decimal")]
    pub amount_fc: Option<Decimal>,
    #[serde(rename = "AmountVATFC", deserialize_with = "de::decimal")]
    pub amount_vat_fc: Option<Decimal>,
    #[serde(deserialize_with = "de::text")]
    pub currency: Option<String>,
    #[serde(deserialize_with = "de::decimal")]
    pub exchange_rate: Option<Decimal>,
    #[serde(rename = "VATCode", deserialize_with = "de::text")]
    pub vat_code: Option<String>,
    #[serde(rename = "VATPercentage", deserialize_with = "de::decimal")]
    pub vat_percentage: Option<Decimal>,
    #[serde(deserialize_with = "de::text")]
    pub description: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub invoice_number: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub your_ref: Option<String>,
    #[serde(deserialize_with = "de::decimal")]
    pub quantity: Option<Decimal>,
    #[serde(deserialize_with = "de::text")]
    pub cost_center: Option<String>,
    #[serde(deserialize_with = "de::int64")]
    pub status: Option<i64>,
    #[serde(deserialize_with = "de::int64")]
    pub r#type: Option<i64>,
    #[serde(deserialize_with = "de::date")]
    pub created: Option<NaiveDateTime>,
    #[serde(deserialize_with = "de::date")]
    pub modified: Option<NaiveDateTime>,
}

/// Exact's transaction types (`Type`) an entry can have that Codat names a record for.
pub mod entry_type {
    pub const SALES_ENTRY: i64 = 20;
    pub const SALES_CREDIT_NOTE: i64 = 21;
    pub const PURCHASE_ENTRY: i64 = 30;
    pub const PURCHASE_CREDIT_NOTE: i64 = 31;
}

/// The rows of each entry, by `EntryID`, each entry's rows in line order.
pub fn by_entry(rows: Vec<TransactionLineRow>) -> BTreeMap<String, Vec<TransactionLineRow>> {
    let mut entries: BTreeMap<String, Vec<TransactionLineRow>> = BTreeMap::new();
    for row in rows {
        if let Some(id) = row.entry_id.clone() {
            entries.entry(id).or_default().push(row);
        }
    }
    for lines in entries.values_mut() {
        lines.sort_by_key(|r| r.line_number.unwrap_or(i64::MAX));
    }
    entries
}

/// Entries released whole by a streamed read (see `stream`), each in line order.
fn in_line_order(
    entries: Vec<(String, Vec<TransactionLineRow>)>,
) -> BTreeMap<String, Vec<TransactionLineRow>> {
    entries
        .into_iter()
        .map(|(id, mut lines)| {
            lines.sort_by_key(|r| r.line_number.unwrap_or(i64::MAX));
            (id, lines)
        })
        .collect()
}

/// `sync/Financial/TransactionLines`.
pub(super) const TRANSACTION_LINES: &str = "sync/Financial/TransactionLines";
/// The data types the transaction lines feed.
const LEDGER: &[DataType] = &[DataType::Bills, DataType::JournalEntries];

/// Not a position: the entries were stored with their lines' IDs as upstream keys (see
/// [`ExactProvider::apply_ledger`]). A cursor from before that pulls in full once, which stores
/// them.
const LINE_KEYS: &str = "sync/Financial/TransactionLines.keys";

/// The sync endpoints a bills or journal entries cursor holds a position in.
pub(super) const CURSOR_ENDPOINTS: &[&str] = &[
    TRANSACTION_LINES,
    PAYMENT_TERMS,
    cursor::DELETED,
    cursor::DIVISION_MOVE,
    LINE_KEYS,
];

/// `sync/Deleted`'s EntityType for transaction lines (EXACT.md §5).
pub(super) const DELETED_TRANSACTION_LINES: i64 = 1;

/// `PaymentTerms.LineType` of a payable (EXACT.md §5).
const PAYMENT: i64 = 22;

/// Entries touched since a cursor, waiting for the run's read of the deleted log.
pub(super) struct LedgerChanges {
    /// Entries with a changed line, and bills whose payment term moved.
    touched: BTreeSet<String>,
    /// Already past the rows read; the deleted log's position moves when it is applied.
    pub(super) cursor: SyncCursor,
}

/// What mapping entries needs besides their lines, read only when there is something to map.
struct LedgerSides {
    division_currency: String,
    vat_codes: HashMap<String, VatCode>,
    vat_accounts: BTreeSet<String>,
    outstanding: HashMap<String, Decimal>,
    invoice_ids: HashMap<String, String>,
}

impl ExactProvider {
    /// Bills and/or journal entries (`wanted`) from a full read of the transaction lines, each
    /// entry handed on once its lines have streamed past (see `stream`), after the small lists
    /// each needs: VAT codes and payables for bills, invoice ids for journal entries. With
    /// `sum_balances`, the GL accounts' balances are summed from the same lines (see
    /// `accounts::balances`).
    ///
    /// The payables are read before the lines, so a payment registered while the lines stream
    /// may miss both that read and the cursor's payment-terms position, as for the invoices (see
    /// `invoices::pull`).
    pub(in crate::provider::exact) async fn stream_transaction_lines(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
        sum_balances: bool,
    ) -> Result<Option<FullBalances>, PullError> {
        let sides = self.ledger_sides(run, wanted, None).await?;
        let mut pages =
            self.sync_pages::<TransactionLineRow>(run, TRANSACTION_LINES, 0, |r| r.timestamp)?;
        let mut groups: Groups<TransactionLineRow> = Groups::default();
        let mut sums = sum_balances.then(LineSums::default);
        while let Some(rows) = pages.next(self, run).await? {
            for row in rows {
                if let Some(sums) = &mut sums {
                    sums.add(&row);
                }
                if let Some(id) = row.entry_id.clone() {
                    groups.add(id, row);
                }
            }
            let whole = in_line_order(groups.take_idle());
            self.push_entries(run, wanted, whole, &sides, false).await?;
        }
        let whole = in_line_order(groups.take_all());
        self.push_entries(run, wanted, whole, &sides, false).await?;
        // Entries with a line changed after the others were handed on: whole again.
        let late: Vec<String> = groups.take_late().into_keys().collect();
        if !late.is_empty() {
            tracing::debug!(
                entries = late.len(),
                "entries with late lines: re-read whole"
            );
            let entries = self.entries_whole(run, &late).await?;
            for id in late.iter().filter(|id| !entries.contains_key(*id)) {
                for data_type in wanted {
                    run.delete(*data_type, id.clone());
                }
            }
            self.push_entries(run, wanted, entries, &sides, true)
                .await?;
        }
        // A payment after the lines' read has a higher Timestamp than the payment terms
        // position (see the sales pull).
        let mut cursor = self.fresh_cursor(run).await?;
        cursor.set(LINE_KEYS, 1);
        cursor.advance(TRANSACTION_LINES, Some(pages.max.unwrap_or(0)));
        cursor.advance(cursor::DELETED, Some(pages.first_page_max.unwrap_or(0)));
        let (_, terms_max) = self
            .payment_terms_since(run, pages.max.unwrap_or(0))
            .await?;
        cursor.advance(PAYMENT_TERMS, Some(pages.max.unwrap_or(0)));
        cursor.advance(PAYMENT_TERMS, terms_max);
        run.finish_wanted(LEDGER, wanted, cursor.to_text()).await?;
        Ok(sums.map(|sums| FullBalances {
            balances: sums.balances(),
            rows: pages.rows,
            max: pages.max,
            first_page_max: pages.first_page_max,
        }))
    }

    /// Every line of the entries `ids`, from `bulk/Financial/TransactionLines` (20 entries a
    /// call), by entry in line order; an entry without lines is absent.
    async fn entries_whole(
        &self,
        run: &mut Run<'_, '_>,
        ids: &[String],
    ) -> Result<BTreeMap<String, Vec<TransactionLineRow>>, PullError> {
        // The bulk endpoint has no Timestamp: the sync row's fields but that one.
        let select = row::select::<TransactionLineRow>()
            .split(',')
            .filter(|f| *f != "Timestamp")
            .collect::<Vec<_>>()
            .join(",");
        let rows = self
            .typed_list_by_selecting::<TransactionLineRow>(
                run,
                "bulk/Financial/TransactionLines",
                &select,
                "EntryID",
                ids,
                |id| format!("guid'{id}'"),
            )
            .await?;
        Ok(by_entry(rows))
    }

    /// The entries touched after `cursor`: changed lines and moved payables (the deleted log
    /// comes later, once for the run).
    pub(in crate::provider::exact) async fn read_ledger_since(
        &self,
        run: &mut Run<'_, '_>,
        mut cursor: SyncCursor,
    ) -> Result<LedgerChanges, PullError> {
        let rows = self
            .sync_rows::<TransactionLineRow>(
                run,
                TRANSACTION_LINES,
                cursor.at(TRANSACTION_LINES),
                |r| r.timestamp,
            )
            .await?;
        let (terms, terms_max) = self
            .payment_terms_since(run, cursor.at(PAYMENT_TERMS))
            .await?;
        cursor.advance(TRANSACTION_LINES, rows.max);
        cursor.advance(PAYMENT_TERMS, terms_max);
        let mut touched: BTreeSet<String> =
            rows.rows.into_iter().filter_map(|r| r.entry_id).collect();
        touched.extend(
            terms
                .into_iter()
                .filter(|t| t.line_type == Some(PAYMENT))
                .filter_map(|t| t.transaction_entry_id),
        );
        Ok(LedgerChanges { touched, cursor })
    }

    /// Re-reads every touched entry whole and hands it on, or reports it deleted. Exact logs a
    /// deleted entry as its deleted lines, which name no entry: the stored entries those lines
    /// belong to (their IDs are the records' upstream keys) are touched too, and one that is
    /// gone is reported deleted — no read of the whole ledger.
    pub(in crate::provider::exact) async fn apply_ledger(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
        changes: LedgerChanges,
        deleted: &DeletedLog,
    ) -> Result<(), PullError> {
        let LedgerChanges {
            mut touched,
            mut cursor,
        } = changes;
        let lines_deleted = deleted.keys_after(DELETED_TRANSACTION_LINES, &mut cursor);
        for data_type in LEDGER.iter().filter(|d| wanted.contains(d)) {
            touched.extend(run.stored_ids(*data_type, &lines_deleted).await?);
        }
        let ids: Vec<String> = touched.into_iter().collect();
        if !ids.is_empty() {
            let entries = self.entries_whole(run, &ids).await?;
            let numbers: BTreeSet<String> = entries
                .values()
                .flatten()
                .filter_map(|r| r.invoice_number.clone())
                .collect();
            let sides = self.ledger_sides(run, wanted, Some(&numbers)).await?;
            for id in ids.iter().filter(|id| !entries.contains_key(*id)) {
                for data_type in wanted {
                    run.delete(*data_type, id.clone());
                }
            }
            self.push_entries(run, wanted, entries, &sides, true)
                .await?;
        }
        run.finish_wanted(LEDGER, wanted, cursor.to_text()).await
    }

    /// The side lists: VAT codes and payables for bills, sales invoice ids for journal entries
    /// (all of them, or those of `invoice_numbers` when re-reading a few entries).
    async fn ledger_sides(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
        invoice_numbers: Option<&BTreeSet<String>>,
    ) -> Result<LedgerSides, PullError> {
        let mut sides = LedgerSides {
            division_currency: self.division_currency(run).await?,
            vat_codes: HashMap::new(),
            vat_accounts: BTreeSet::new(),
            outstanding: HashMap::new(),
            invoice_ids: HashMap::new(),
        };
        if wanted.contains(&DataType::Bills) {
            for row in self.vat_code_rows(run).await? {
                sides
                    .vat_accounts
                    .extend(row.gl_to_pay.iter().chain(&row.gl_to_claim).cloned());
                if let Some(code) = vat_code(row) {
                    sides.vat_codes.insert(code.code.clone(), code);
                }
            }
            let payables = self
                .typed_list::<PayableRow>(run, "read/financial/PayablesList", None)
                .await?;
            sides.outstanding = bills::outstanding_by_entry(&payables);
        }
        if wanted.contains(&DataType::JournalEntries) {
            sides.invoice_ids = match invoice_numbers {
                None => self.invoice_ids_by_number(run).await?,
                Some(numbers) => self.invoice_ids_of(run, numbers).await?,
            };
        }
        Ok(sides)
    }

    /// Sales invoice ids of a few invoice numbers (the run's full list when it has one).
    async fn invoice_ids_of(
        &self,
        run: &mut Run<'_, '_>,
        numbers: &BTreeSet<String>,
    ) -> Result<HashMap<String, String>, PullError> {
        let numbers: Vec<String> = numbers
            .iter()
            .filter(|n| n.parse::<i64>().is_ok())
            .cloned()
            .collect();
        if numbers.is_empty() {
            return Ok(HashMap::new());
        }
        if let Some(ids) = run.invoice_ids() {
            return Ok(ids.clone());
        }
        #[derive(Debug, Default, Deserialize)]
        #[serde(default, rename_all = "PascalCase")]
        struct InvoiceNumberRow {
            #[serde(rename = "InvoiceID", deserialize_with = "de::text")]
            invoice_id: Option<String>,
            #[serde(deserialize_with = "de::text")]
            invoice_number: Option<String>,
        }
        let rows = self
            .typed_list_by::<InvoiceNumberRow>(
                run,
                "bulk/SalesInvoice/SalesInvoices",
                "InvoiceNumber",
                &numbers,
                |n| n.to_string(),
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r.invoice_number?, r.invoice_id?)))
            .collect())
    }

    /// Maps whole entries and pushes them; in an incremental pull an entry that is not (or no
    /// longer) a bill is reported deleted there, as a full pull's absence would.
    async fn push_entries(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
        entries: BTreeMap<String, Vec<TransactionLineRow>>,
        sides: &LedgerSides,
        incremental: bool,
    ) -> Result<(), PullError> {
        let want_bills = wanted.contains(&DataType::Bills);
        let want_journals = wanted.contains(&DataType::JournalEntries);
        let bill_context = BillContext {
            division_currency: &sides.division_currency,
            vat_codes: &sides.vat_codes,
            vat_accounts: &sides.vat_accounts,
            outstanding: &sides.outstanding,
        };
        let journal_context = JournalContext {
            division_currency: &sides.division_currency,
            invoice_ids: &sides.invoice_ids,
        };
        for (id, lines) in entries {
            // Exact's deleted log names a deleted entry by its lines' IDs only.
            let line_ids: Vec<String> = lines.iter().filter_map(|l| l.id.clone()).collect();
            if want_bills && bills::is_bill(&lines) {
                match bills::map_bill(&lines, &bill_context) {
                    Ok(bill) => {
                        run.push_keyed(DataType::Bills, id.clone(), &bill, line_ids.clone())
                            .await?
                    }
                    Err(why) => {
                        tracing::warn!(entry = %id, %why, "an Exact purchase entry could not be mapped; skipped");
                    }
                }
            } else if want_bills && incremental {
                run.delete(DataType::Bills, id.clone());
            }
            if want_journals {
                match journal_entries::map_journal_entry(&lines, &journal_context) {
                    Ok(entry) => {
                        run.push_keyed(DataType::JournalEntries, id, &entry, line_ids)
                            .await?
                    }
                    Err(why) => {
                        tracing::warn!(entry = %id, %why, "an Exact financial entry could not be mapped; skipped");
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::TransactionLineRow;
    use crate::provider::exact::row;

    #[test]
    fn the_transaction_line_select_is_derived_from_the_typed_row() {
        let select = row::select::<TransactionLineRow>();
        for field in [
            "Timestamp",
            "EntryID",
            "AmountFC",
            "AmountVATFC",
            "GLAccount",
            "JournalCode",
        ] {
            assert!(select.split(',').any(|f| f == field), "{field} in {select}");
        }
    }
}
