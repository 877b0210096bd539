//! Exact's general ledger, `sync/Financial/TransactionLines` (1,000 rows a call): one row per
//! line of every financial entry (sales, purchases, bank, general journal), the lines of one
//! `EntryID` summing to zero (debit positive). Bills and journal entries are both read from it,
//! so a pull run that wants both reads it once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::ExactProvider;
use super::bills::{self, BillContext, PayableRow};
use super::invoices::{VatCode, vat_code};
use super::journal_entries::{self, JournalContext};
use super::pull::Run;
use super::row::de;
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

impl ExactProvider {
    /// Bills and/or journal entries (`wanted`) from one read of the transaction lines, plus the
    /// small lists each needs: VAT codes and payables for bills, invoice ids for journal entries.
    pub(in crate::provider::exact) async fn pull_transaction_lines(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
    ) -> Result<(), PullError> {
        let division_currency = self.division_currency(run).await?;
        let want_bills = wanted.contains(&DataType::Bills);
        let want_journals = wanted.contains(&DataType::JournalEntries);

        let mut vat_codes: HashMap<String, VatCode> = HashMap::new();
        let mut vat_accounts: BTreeSet<String> = BTreeSet::new();
        let mut outstanding = HashMap::new();
        if want_bills {
            for row in self.vat_code_rows(run).await? {
                vat_accounts.extend(row.gl_to_pay.iter().chain(&row.gl_to_claim).cloned());
                if let Some(code) = vat_code(row) {
                    vat_codes.insert(code.code.clone(), code);
                }
            }
            let payables = self
                .typed_list::<PayableRow>(run, "read/financial/PayablesList", None)
                .await?;
            outstanding = bills::outstanding_by_entry(&payables);
        }
        let invoice_ids = if want_journals {
            self.invoice_ids_by_number(run).await?
        } else {
            HashMap::new()
        };
        let rows = self
            .typed_list::<TransactionLineRow>(
                run,
                "sync/Financial/TransactionLines",
                Some("Timestamp gt 0L"),
            )
            .await?;
        let cursor = rows.iter().filter_map(|r| r.timestamp).max();

        let bill_context = BillContext {
            division_currency: &division_currency,
            vat_codes: &vat_codes,
            vat_accounts: &vat_accounts,
            outstanding: &outstanding,
        };
        let journal_context = JournalContext {
            division_currency: &division_currency,
            invoice_ids: &invoice_ids,
        };
        for (id, lines) in by_entry(rows) {
            if want_bills && bills::is_bill(&lines) {
                match bills::map_bill(&lines, &bill_context) {
                    Ok(bill) => run.push(DataType::Bills, id.clone(), &bill).await?,
                    Err(why) => {
                        tracing::warn!(entry = %id, %why, "an Exact purchase entry could not be mapped; skipped");
                    }
                }
            }
            if want_journals {
                match journal_entries::map_journal_entry(&lines, &journal_context) {
                    Ok(entry) => run.push(DataType::JournalEntries, id, &entry).await?,
                    Err(why) => {
                        tracing::warn!(entry = %id, %why, "an Exact financial entry could not be mapped; skipped");
                    }
                }
            }
        }
        let cursor = cursor.map(|c| c.to_string());
        for data_type in wanted {
            run.finish(*data_type, cursor.clone()).await?;
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
