//! The sales invoices pull, for invoices and credit notes alike: `vat/VATCodes` (one call: real
//! percentages per code) + `read/financial/ReceivablesList` (what is still outstanding, per
//! invoice number) + `sync/SalesInvoice/SalesInvoices` (one row per invoice line, header fields
//! copied onto each), grouped by `InvoiceID` and mapped. The side lists come first, so that each
//! invoice is mapped and handed on as soon as its rows have passed: an invoice's lines may sit
//! on different pages, and a line edited later comes far after its siblings, so the rows are
//! grouped across pages and a late invoice is re-read whole (see `stream`); a pull holds a page
//! or two of rows. Exact charges per call, so one read feeds both data types, and each is handed
//! on only when the run asks for it.
//!
//! The receivables are read before the rows, so a payment registered while the rows stream (a
//! few minutes for 100,000 invoices at Exact's 60 calls a minute) may miss both that read and
//! the cursor's payment-terms position (which the rows' and the terms' Timestamps set, as
//! before): its invoice shows it once the invoice or its payment term changes again, or at the
//! next full pull.
//!
//! Incremental (from a cursor holding a position in the sync endpoints below):
//! - `sync/SalesInvoice/SalesInvoices` after the cursor names the invoices whose rows changed,
//!   and `sync/Cashflow/PaymentTerms` after it (receivables, `LineType` 20) the invoice numbers
//!   whose payments moved — an amount due changes through payments that never touch the invoice;
//! - a changed row may be one line of several, so every touched invoice is re-read whole: its
//!   lines from `bulk/SalesInvoice/SalesInvoiceLines` by `InvoiceID` (its header from a changed
//!   row, or from `bulk/SalesInvoice/SalesInvoices` by number when only a payment touched it),
//!   `KEYS_PER_FILTER` invoices a call; one that is gone is reported deleted;
//! - `sync/Deleted` (EntityType 13, the run's one read) gives the deleted invoices;
//! - the side lists (VAT codes, receivables, the division's currency) are read only when some
//!   invoice was touched: nothing changed costs the two sync reads and the run's deleted log.
//!
//! Not seen incrementally: a line removed from an invoice without changing its totals (Exact
//! logs the line's ID, which names no invoice); the next full pull corrects it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::super::ExactProvider;
use super::super::cursor::{self, SyncCursor};
use super::super::pull::{DeletedLog, Run};
use super::super::row::de;
use super::super::stream::Groups;
use super::{InvoiceContext, Mapped, ReceivableRow, SalesInvoiceRow, VatCode};
use crate::provider::exact::credit_notes::map_credit_note;
use crate::provider::{DataType, PullError};

const SALES_INVOICES: &str = "sync/SalesInvoice/SalesInvoices";
/// The data types the sales invoices feed.
const SALES: &[DataType] = &[DataType::Invoices, DataType::CreditNotes];
use super::super::cursor::PAYMENT_TERMS;

/// The sync endpoints an invoices or credit notes cursor holds a position in.
pub(in crate::provider::exact) const CURSOR_ENDPOINTS: &[&str] = &[
    SALES_INVOICES,
    PAYMENT_TERMS,
    cursor::DELETED,
    cursor::DIVISION_MOVE,
];

/// `sync/Deleted`'s EntityType for sales invoices (EXACT.md §5).
const DELETED_SALES_INVOICES: i64 = 13;

/// `PaymentTerms.LineType` of a receivable (EXACT.md §5).
const RECEIPT: i64 = 20;

/// A `bulk/SalesInvoice/SalesInvoices` row: the header fields a flattened sync row carries.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct SalesInvoiceHeaderRow {
    #[serde(rename = "InvoiceID", deserialize_with = "de::text")]
    invoice_id: Option<String>,
    #[serde(deserialize_with = "de::text")]
    invoice_number: Option<String>,
    #[serde(deserialize_with = "de::text")]
    invoice_to: Option<String>,
    #[serde(deserialize_with = "de::text")]
    invoice_to_name: Option<String>,
    #[serde(deserialize_with = "de::date")]
    invoice_date: Option<NaiveDateTime>,
    #[serde(deserialize_with = "de::date")]
    due_date: Option<NaiveDateTime>,
    #[serde(deserialize_with = "de::text")]
    currency: Option<String>,
    #[serde(deserialize_with = "de::int64")]
    status: Option<i64>,
    #[serde(deserialize_with = "de::int64")]
    r#type: Option<i64>,
    #[serde(deserialize_with = "de::text")]
    description: Option<String>,
    #[serde(deserialize_with = "de::date")]
    modified: Option<NaiveDateTime>,
}

impl SalesInvoiceHeaderRow {
    /// The header as a flattened row without line fields.
    fn into_row(self) -> SalesInvoiceRow {
        SalesInvoiceRow {
            invoice_id: self.invoice_id,
            invoice_number: self.invoice_number,
            invoice_to: self.invoice_to,
            invoice_to_name: self.invoice_to_name,
            invoice_date: self.invoice_date,
            due_date: self.due_date,
            currency: self.currency,
            status: self.status,
            r#type: self.r#type,
            description: self.description,
            modified: self.modified,
            ..SalesInvoiceRow::default()
        }
    }
}

/// A `bulk/SalesInvoice/SalesInvoiceLines` row: the line fields of a flattened sync row (the
/// line's text is `Description` here, `LineDescription` there).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct SalesInvoiceLineRow {
    #[serde(rename = "ID", deserialize_with = "de::text")]
    id: Option<String>,
    #[serde(rename = "InvoiceID", deserialize_with = "de::text")]
    invoice_id: Option<String>,
    #[serde(deserialize_with = "de::int64")]
    line_number: Option<i64>,
    #[serde(deserialize_with = "de::text")]
    description: Option<String>,
    #[serde(deserialize_with = "de::text")]
    item: Option<String>,
    #[serde(deserialize_with = "de::text")]
    item_description: Option<String>,
    #[serde(deserialize_with = "de::decimal")]
    quantity: Option<Decimal>,
    #[serde(deserialize_with = "de::decimal")]
    unit_price: Option<Decimal>,
    #[serde(deserialize_with = "de::decimal")]
    net_price: Option<Decimal>,
    #[serde(deserialize_with = "de::decimal")]
    discount: Option<Decimal>,
    #[serde(rename = "AmountFC", deserialize_with = "de::decimal")]
    amount_fc: Option<Decimal>,
    #[serde(rename = "AmountDC", deserialize_with = "de::decimal")]
    amount_dc: Option<Decimal>,
    #[serde(rename = "VATAmountFC", deserialize_with = "de::decimal")]
    vat_amount_fc: Option<Decimal>,
    #[serde(rename = "VATCode", deserialize_with = "de::text")]
    vat_code: Option<String>,
    #[serde(rename = "VATPercentage", deserialize_with = "de::decimal")]
    vat_percentage: Option<Decimal>,
    #[serde(rename = "GLAccount", deserialize_with = "de::text")]
    gl_account: Option<String>,
    #[serde(rename = "GLAccountDescription", deserialize_with = "de::text")]
    gl_account_description: Option<String>,
    #[serde(deserialize_with = "de::text")]
    cost_center: Option<String>,
    #[serde(deserialize_with = "de::date")]
    modified: Option<NaiveDateTime>,
}

/// One line under its header, as the flattened sync row Exact would give: the mapping reads
/// re-read invoices exactly as it reads a full pull's.
fn flatten(header: &SalesInvoiceRow, line: SalesInvoiceLineRow) -> SalesInvoiceRow {
    SalesInvoiceRow {
        timestamp: None,
        modified: header.modified.max(line.modified),
        id: line.id,
        line_number: line.line_number,
        line_description: line.description,
        item: line.item,
        item_description: line.item_description,
        quantity: line.quantity,
        unit_price: line.unit_price,
        net_price: line.net_price,
        discount: line.discount,
        amount_fc: line.amount_fc,
        amount_dc: line.amount_dc,
        vat_amount_fc: line.vat_amount_fc,
        vat_code: line.vat_code,
        vat_percentage: line.vat_percentage,
        gl_account: line.gl_account,
        gl_account_description: line.gl_account_description,
        cost_center: line.cost_center,
        ..header.clone()
    }
}

/// Sales invoices touched since a cursor, waiting for the run's read of the deleted log.
pub(in crate::provider::exact) struct SalesChanges {
    /// The newest changed row of each touched invoice, by `InvoiceID` (its header fields).
    headers: BTreeMap<String, SalesInvoiceRow>,
    /// Invoice numbers whose receivable's payment term moved.
    paid_numbers: BTreeSet<String>,
    /// Already past the rows read; the deleted log's position moves when it is applied.
    pub(in crate::provider::exact) cursor: SyncCursor,
}

impl ExactProvider {
    /// Every sales invoice of the run's division, mapped to Codat's Invoice or CreditNote by its
    /// type, for those of the two data types in `wanted`, handed on as its rows stream past.
    pub(in crate::provider::exact) async fn pull_sales_invoices(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
    ) -> Result<(), PullError> {
        let sides = self.sales_sides(run).await?;
        let mut pages =
            self.sync_pages::<SalesInvoiceRow>(run, SALES_INVOICES, 0, |r| r.timestamp)?;
        let mut groups: Groups<SalesInvoiceRow> = Groups::default();
        let mut ids: HashMap<String, String> = HashMap::new();
        while let Some(rows) = pages.next(self, run).await? {
            for row in rows {
                if let (Some(number), Some(id)) = (&row.invoice_number, &row.invoice_id)
                    && !ids.contains_key(number)
                {
                    ids.insert(number.clone(), id.clone());
                }
                if let Some(id) = row.invoice_id.clone() {
                    groups.add(id, row);
                }
            }
            for (id, lines) in groups.take_idle() {
                self.push_invoice(run, wanted, &sides, id, lines, false)
                    .await?;
            }
        }
        for (id, lines) in groups.take_all() {
            self.push_invoice(run, wanted, &sides, id, lines, false)
                .await?;
        }
        // Invoices with a line changed after the others were handed on: whole again.
        let late = groups.take_late();
        if !late.is_empty() {
            tracing::debug!(
                invoices = late.len(),
                "sales invoices with late lines: re-read whole"
            );
            let ids: Vec<String> = late.keys().cloned().collect();
            let mut by_invoice = self.invoices_whole(run, &late).await?;
            for id in ids {
                match by_invoice.remove(&id) {
                    Some(lines) => {
                        self.push_invoice(run, wanted, &sides, id, lines, true)
                            .await?
                    }
                    None => run.delete_wanted(SALES, wanted, &id),
                }
            }
        }
        run.remember_invoice_ids(ids);
        let mut cursor = self.fresh_cursor(run).await?;
        cursor.advance(SALES_INVOICES, Some(pages.max.unwrap_or(0)));
        // Deletions before the first call show as absence; later ones have higher Timestamps.
        cursor.advance(cursor::DELETED, Some(pages.first_page_max.unwrap_or(0)));
        // The payment terms' position: the rows' latest Timestamp, moved on by the terms that
        // moved after them (one call, as a rule), so that the next incremental pull does not
        // re-read invoices whose payments this pull already has (see the module doc for a
        // payment registered while the rows streamed).
        let (_, terms_max) = self
            .payment_terms_since(run, pages.max.unwrap_or(0))
            .await?;
        cursor.advance(PAYMENT_TERMS, Some(pages.max.unwrap_or(0)));
        cursor.advance(PAYMENT_TERMS, terms_max);
        run.finish_wanted(SALES, wanted, cursor.to_text()).await
    }

    /// The invoices touched after `cursor`: changed rows and moved payment terms (the deleted
    /// log comes later, once for the run).
    pub(in crate::provider::exact) async fn read_sales_since(
        &self,
        run: &mut Run<'_, '_>,
        mut cursor: SyncCursor,
    ) -> Result<SalesChanges, PullError> {
        let rows = self
            .sync_rows::<SalesInvoiceRow>(run, SALES_INVOICES, cursor.at(SALES_INVOICES), |r| {
                r.timestamp
            })
            .await?;
        let (terms, terms_max) = self
            .payment_terms_since(run, cursor.at(PAYMENT_TERMS))
            .await?;
        cursor.advance(SALES_INVOICES, rows.max);
        cursor.advance(PAYMENT_TERMS, terms_max);
        let mut headers: BTreeMap<String, SalesInvoiceRow> = BTreeMap::new();
        for row in rows.rows {
            let Some(id) = row.invoice_id.clone() else {
                continue;
            };
            match headers.get(&id) {
                Some(seen) if seen.timestamp >= row.timestamp => {}
                _ => {
                    headers.insert(id, row);
                }
            }
        }
        let paid_numbers = terms
            .into_iter()
            .filter(|t| t.line_type == Some(RECEIPT))
            .filter_map(|t| t.invoice_number)
            .collect();
        Ok(SalesChanges {
            headers,
            paid_numbers,
            cursor,
        })
    }

    /// Re-reads every touched invoice whole, hands on those that still exist and reports the
    /// deleted ones.
    pub(in crate::provider::exact) async fn apply_sales(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
        changes: SalesChanges,
        deleted: &DeletedLog,
    ) -> Result<(), PullError> {
        let SalesChanges {
            mut headers,
            paid_numbers,
            mut cursor,
        } = changes;
        let deleted_ids = deleted.keys_after(DELETED_SALES_INVOICES, &mut cursor);
        // Invoices touched only by a payment: their headers by number.
        let known_numbers: BTreeSet<&String> = headers
            .values()
            .filter_map(|h| h.invoice_number.as_ref())
            .collect();
        let unknown: Vec<String> = paid_numbers
            .iter()
            .filter(|n| !known_numbers.contains(n) && n.parse::<i64>().is_ok())
            .cloned()
            .collect();
        if !unknown.is_empty() {
            let read = self
                .typed_list_by::<SalesInvoiceHeaderRow>(
                    run,
                    "bulk/SalesInvoice/SalesInvoices",
                    "InvoiceNumber",
                    &unknown,
                    |n| n.to_string(),
                )
                .await?;
            for header in read {
                if let Some(id) = header.invoice_id.clone() {
                    headers.entry(id).or_insert_with(|| header.into_row());
                }
            }
        }
        let ids: Vec<String> = headers.keys().cloned().collect();
        let by_invoice = self.invoices_whole(run, &headers).await?;
        // Touched, but without lines now: gone since the sync read (or never a whole invoice).
        let gone = ids.into_iter().filter(|id| !by_invoice.contains_key(id));
        let mut to_delete: BTreeSet<String> = deleted_ids;
        to_delete.extend(gone);
        self.push_sales(run, wanted, by_invoice, true).await?;
        for id in to_delete {
            run.delete_wanted(SALES, wanted, &id);
        }
        run.finish_wanted(SALES, wanted, cursor.to_text()).await
    }

    /// Every line of the invoices in `headers` (by `InvoiceID`, each with a header row), from
    /// `bulk/SalesInvoice/SalesInvoiceLines` ([`KEYS_PER_FILTER`] invoices a call), flattened
    /// under its header as a sync row; an invoice without lines is absent.
    ///
    /// [`KEYS_PER_FILTER`]: super::super::pull::KEYS_PER_FILTER
    async fn invoices_whole(
        &self,
        run: &mut Run<'_, '_>,
        headers: &BTreeMap<String, SalesInvoiceRow>,
    ) -> Result<BTreeMap<String, Vec<SalesInvoiceRow>>, PullError> {
        let ids: Vec<String> = headers.keys().cloned().collect();
        let mut by_invoice: BTreeMap<String, Vec<SalesInvoiceRow>> = BTreeMap::new();
        if ids.is_empty() {
            return Ok(by_invoice);
        }
        let mut lines = self
            .typed_list_by::<SalesInvoiceLineRow>(
                run,
                "bulk/SalesInvoice/SalesInvoiceLines",
                "InvoiceID",
                &ids,
                |id| format!("guid'{id}'"),
            )
            .await?;
        lines.sort_by_key(|l| l.line_number.unwrap_or(i64::MAX));
        for line in lines {
            let Some(header) = line.invoice_id.as_ref().and_then(|id| headers.get(id)) else {
                continue;
            };
            let row = flatten(header, line);
            if let Some(id) = row.invoice_id.clone() {
                by_invoice.entry(id).or_default().push(row);
            }
        }
        Ok(by_invoice)
    }

    /// What mapping an invoice needs besides its rows: the division's currency, its VAT codes
    /// and the receivables (what is outstanding per invoice number).
    async fn sales_sides(&self, run: &mut Run<'_, '_>) -> Result<SalesSides, PullError> {
        let division_currency = self.division_currency(run).await?;
        let vat_codes: HashMap<String, VatCode> = self
            .vat_code_rows(run)
            .await?
            .into_iter()
            .filter_map(super::vat_code)
            .map(|code| (code.code.clone(), code))
            .collect();
        let receivables = self
            .typed_list::<ReceivableRow>(run, "read/financial/ReceivablesList", None)
            .await?;
        Ok(SalesSides {
            division_currency,
            vat_codes,
            outstanding: super::outstanding_by_invoice(&receivables),
        })
    }

    /// Maps whole invoices (rows grouped by `InvoiceID`) and pushes each to its data type. The
    /// side lists are read here, so only when there is something to map.
    async fn push_sales(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
        by_invoice: BTreeMap<String, Vec<SalesInvoiceRow>>,
        incremental: bool,
    ) -> Result<(), PullError> {
        if incremental && by_invoice.is_empty() {
            return Ok(());
        }
        let sides = self.sales_sides(run).await?;
        for (id, lines) in by_invoice {
            self.push_invoice(run, wanted, &sides, id, lines, incremental)
                .await?;
        }
        Ok(())
    }

    /// Maps one whole invoice and pushes it to its data type (invoice or credit note, by its
    /// type). `again`: it may have been handed on before, under the other type (its type
    /// changed): it is reported deleted there.
    async fn push_invoice(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
        sides: &SalesSides,
        id: String,
        lines: Vec<SalesInvoiceRow>,
        again: bool,
    ) -> Result<(), PullError> {
        let context = InvoiceContext {
            division_currency: &sides.division_currency,
            vat_codes: &sides.vat_codes,
            outstanding: &sides.outstanding,
        };
        let skipped = |id: &str, why: &str| {
            tracing::warn!(invoice = %id, %why, "an Exact sales invoice could not be mapped; skipped");
        };
        let credit_note = lines.first().is_some_and(super::is_credit_note);
        let (this, other) = if credit_note {
            (DataType::CreditNotes, DataType::Invoices)
        } else {
            (DataType::Invoices, DataType::CreditNotes)
        };
        if again && wanted.contains(&other) {
            run.delete(other, id.clone());
        }
        if !wanted.contains(&this) {
            return Ok(());
        }
        if credit_note {
            match map_credit_note(&lines, &context) {
                Ok(note) => run.push(DataType::CreditNotes, id, &note).await?,
                Err(why) => skipped(&id, &why),
            }
        } else {
            match super::map_invoice(&lines, &context) {
                Ok(Mapped::Invoice(invoice)) => run.push(DataType::Invoices, id, &*invoice).await?,
                // Not reached: the rows are no credit note.
                Ok(Mapped::CreditNote { .. }) => {}
                Err(why) => skipped(&id, &why),
            }
        }
        Ok(())
    }
}

/// The side lists an invoice's mapping reads (see [`InvoiceContext`]).
struct SalesSides {
    division_currency: String,
    vat_codes: HashMap<String, VatCode>,
    outstanding: HashMap<String, Decimal>,
}

#[cfg(test)]
mod tests {
    use super::super::SalesInvoiceRow;
    use super::{SalesInvoiceHeaderRow, SalesInvoiceLineRow, flatten};
    use crate::provider::exact::row;

    #[test]
    fn the_invoice_select_is_derived_from_the_typed_row() {
        let select = row::select::<SalesInvoiceRow>();
        for field in [
            "Timestamp",
            "InvoiceID",
            "AmountDC",
            "VATAmountFC",
            "GLAccount",
            "CostCenter",
        ] {
            assert!(select.split(',').any(|f| f == field), "{field} in {select}");
        }
        assert!(!select.contains("__metadata"));
    }

    #[test]
    fn a_re_read_line_flattens_under_its_header_like_a_sync_row() {
        let header: SalesInvoiceHeaderRow = row::parse(serde_json::json!({
            "InvoiceID": "8f1c0000-0000-4000-8000-000000000001", "InvoiceNumber": 10042,
            "InvoiceTo": "a1", "Currency": "EUR", "Status": 50, "Type": 8020,
            "Description": "Header text", "Modified": "/Date(1700000000000)/"
        }))
        .unwrap();
        let line: SalesInvoiceLineRow = row::parse(serde_json::json!({
            "ID": "l1", "InvoiceID": "8f1c0000-0000-4000-8000-000000000001", "LineNumber": 2,
            "Description": "Line text", "AmountFC": 100.5, "VATCode": "2  ",
            "Modified": "/Date(1700000360000)/"
        }))
        .unwrap();
        let flat = flatten(&header.into_row(), line);
        assert_eq!(flat.invoice_number.as_deref(), Some("10042"));
        assert_eq!(flat.description.as_deref(), Some("Header text"));
        assert_eq!(flat.line_description.as_deref(), Some("Line text"));
        assert_eq!(flat.line_number, Some(2));
        assert_eq!(flat.amount_fc, Some("100.5".parse().unwrap()));
        // The later of the two: what a sync row's Modified would show.
        assert_eq!(
            flat.modified.map(|m| m.and_utc().timestamp()),
            Some(1_700_000_360)
        );
    }
}
