//! Pulls from Exact in the fewest calls: the sync endpoints (1,000 rows a page) with a `$select`
//! derived from each data set's typed row, and the small lists the mappings need beside them.
//!
//! A pull run reads each Exact source once, however many of the requested data types come from
//! it, and hands the mapped records to the sink page by page.
//!
//! Customers and suppliers = one read of `sync/CRM/Accounts` for both (see `relations/`);
//! invoices and credit notes = one read of the sales invoices for both (see `invoices/`).
//!
//! Bills and journal entries = `sync/Financial/TransactionLines` (the general ledger, 1,000 rows
//! a call) grouped by `EntryID`, read once for both (see `transaction_lines`), with the VAT codes
//! (shared with invoices), `read/financial/PayablesList` for bills and the sales invoice ids (the
//! invoices' read when it was in the run, else `bulk/SalesInvoice/SalesInvoices`) for journal
//! entries.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::ExactProvider;
use super::budget::BudgetKey;
use super::invoices::VatCodeRow;
use super::row;
use crate::provider::{
    DataType, PageSink, ProviderError, PullError, PullMode, PullRequest, PulledPage, Session,
};

/// Records handed to the sink per page.
const RECORDS_PER_PAGE: usize = 1_000;

/// One pull run: where it reads, where its pages go, the calls made since the last page, and
/// what the run has read once for several data types.
pub(super) struct Run<'s, 'a> {
    session: &'s Session<'a>,
    division: String,
    sink: &'s mut dyn PageSink,
    calls_since_page: u32,
    /// Pages being filled, per data type.
    pending: BTreeMap<DataType, PulledPage>,
    /// The division's `system/Divisions` row, read at most once a run.
    division_row: Option<super::company_info::DivisionRow>,
    /// The division's VAT codes, read at most once a run (invoices and bills both need them).
    vat_codes: Option<Vec<VatCodeRow>>,
    /// Sales invoice ids (`InvoiceID`) by invoice number, from whichever read of the sales
    /// invoices came first in the run (journal entries point at the invoice behind them).
    invoice_ids: Option<HashMap<String, String>>,
}

impl Run<'_, '_> {
    /// The division the run reads (Exact's division code).
    pub(super) fn division_code(&self) -> &str {
        &self.division
    }

    /// Keeps the sales invoice ids by number that a read of the sales invoices gave, so that a
    /// later data type of the run need not read them again.
    pub(super) fn remember_invoice_ids(&mut self, ids: HashMap<String, String>) {
        self.invoice_ids = Some(ids);
    }

    /// Hands a page on, charging it the calls made since the previous one.
    async fn deliver(&mut self, mut page: PulledPage) -> Result<(), PullError> {
        page.upstream_calls = std::mem::take(&mut self.calls_since_page);
        self.sink.page(page).await?;
        Ok(())
    }

    /// Adds one mapped record of `data_type` (written in the common model's JSON) to its page,
    /// and hands the page on once it holds [`RECORDS_PER_PAGE`].
    pub(super) async fn push<T: Serialize>(
        &mut self,
        data_type: DataType,
        id: String,
        record: &T,
    ) -> Result<(), PullError> {
        let json = serde_json::to_value(record).map_err(|e| {
            ProviderError::Upstream(format!(
                "{} {id} could not be written: {e}",
                data_type.key()
            ))
        })?;
        let page = self
            .pending
            .entry(data_type)
            .or_insert_with(|| PulledPage::new(data_type));
        page.upserts.push((id, json));
        if page.upserts.len() >= RECORDS_PER_PAGE {
            let full = self.pending.remove(&data_type).expect("just filled");
            self.deliver(full).await?;
        }
        Ok(())
    }

    /// Hands on the last page of `data_type` (empty if need be) with the cursor after it: the
    /// cursor goes with the last page, since only then is everything before it stored.
    pub(super) async fn finish(
        &mut self,
        data_type: DataType,
        cursor: Option<String>,
    ) -> Result<(), PullError> {
        let mut page = self
            .pending
            .remove(&data_type)
            .unwrap_or_else(|| PulledPage::new(data_type));
        page.cursor = cursor;
        self.deliver(page).await
    }
}

impl ExactProvider {
    /// Runs one pull: each requested data type from its source, in the request's order.
    pub(super) async fn pull_data(
        &self,
        session: &Session<'_>,
        request: &PullRequest,
        sink: &mut dyn PageSink,
    ) -> Result<(), PullError> {
        if let Some((data_type, _)) = request
            .iter()
            .find(|(_, mode)| matches!(mode, PullMode::Since(_)))
        {
            // Invoices' amounts due move through payments that never touch the invoice rows:
            // an incremental pull needs the payment terms beside them (issue: sync engine).
            return Err(ProviderError::Unsupported(format!(
                "incremental pulls of {} from Exact",
                data_type.key()
            ))
            .into());
        }
        let division = session
            .upstream_company_id
            .ok_or_else(|| {
                ProviderError::Upstream("the connection has no division pinned yet".into())
            })?
            .to_string();
        let wanted: BTreeSet<DataType> = request.iter().map(|(d, _)| *d).collect();
        let mut run = Run {
            session,
            division,
            sink,
            calls_since_page: 0,
            pending: BTreeMap::new(),
            division_row: None,
            vat_codes: None,
            invoice_ids: None,
        };
        if wanted.contains(&DataType::CompanyInfo) {
            self.pull_company_info(&mut run).await?;
        }
        if wanted.contains(&DataType::Accounts) {
            self.pull_gl_accounts(&mut run).await?;
        }
        if wanted.contains(&DataType::Customers) || wanted.contains(&DataType::Suppliers) {
            self.pull_relations(&mut run, &wanted).await?;
        }
        // Invoices and credit notes are both Exact sales invoices: one read for either or both.
        if wanted.contains(&DataType::Invoices) || wanted.contains(&DataType::CreditNotes) {
            self.pull_sales_invoices(&mut run, &wanted).await?;
        }
        // Bills and journal entries both come from the transaction lines: one read for both.
        let from_transaction_lines: BTreeSet<DataType> =
            [DataType::Bills, DataType::JournalEntries]
                .into_iter()
                .filter(|d| wanted.contains(d))
                .collect();
        if !from_transaction_lines.is_empty() {
            self.pull_transaction_lines(&mut run, &from_transaction_lines)
                .await?;
        }
        // A new data type: its source's pull here, once however many data types it feeds.
        Ok(())
    }

    /// The first page of `path` in the run's division.
    pub(super) fn division_url(
        &self,
        run: &Run<'_, '_>,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Url, ProviderError> {
        let mut url = self.api_url(
            run.session.integration_key,
            &format!("{}/{path}", run.division),
        )?;
        url.query_pairs_mut().extend_pairs(query);
        Ok(url)
    }

    /// One page of a list in the run's division, read as typed rows, through the budget.
    pub(super) async fn typed_page<T: DeserializeOwned>(
        &self,
        run: &mut Run<'_, '_>,
        url: &Url,
    ) -> Result<(Vec<T>, Option<Url>), ProviderError> {
        let key: BudgetKey = (
            run.session.integration_key.to_string(),
            run.division.clone(),
        );
        let page = self
            .api
            .get_page(run.session, &self.budget, Some(&key), url)
            .await?;
        run.calls_since_page += 1;
        let rows = page
            .results
            .into_iter()
            .map(row::parse)
            .collect::<Result<Vec<T>, String>>()
            .map_err(ProviderError::Upstream)?;
        Ok((rows, page.next))
    }

    /// Every row of a list in the run's division, typed, with `$select` of the row's fields.
    pub(super) async fn typed_list<T: DeserializeOwned>(
        &self,
        run: &mut Run<'_, '_>,
        path: &str,
        filter: Option<&str>,
    ) -> Result<Vec<T>, ProviderError> {
        let select = row::select::<T>();
        let mut query = vec![("$select", select.as_str())];
        if let Some(filter) = filter {
            query.push(("$filter", filter));
        }
        let mut url = Some(self.division_url(run, path, &query)?);
        let mut rows = Vec::new();
        while let Some(this) = url {
            let (page, next) = self.typed_page::<T>(run, &this).await?;
            rows.extend(page);
            url = next;
        }
        Ok(rows)
    }

    /// The division's VAT codes, from `vat/VATCodes` (one call, the first time a run asks).
    pub(super) async fn vat_code_rows(
        &self,
        run: &mut Run<'_, '_>,
    ) -> Result<Vec<VatCodeRow>, ProviderError> {
        if let Some(rows) = &run.vat_codes {
            return Ok(rows.clone());
        }
        let rows = self
            .typed_list::<VatCodeRow>(run, "vat/VATCodes", None)
            .await?;
        run.vat_codes = Some(rows.clone());
        Ok(rows)
    }

    /// Sales invoice ids by invoice number. The invoices pull hands them over when it ran in
    /// this run; otherwise one read of `bulk/SalesInvoice/SalesInvoices` (headers, 1,000 a
    /// call) with just the two fields.
    pub(super) async fn invoice_ids_by_number(
        &self,
        run: &mut Run<'_, '_>,
    ) -> Result<HashMap<String, String>, ProviderError> {
        if let Some(ids) = &run.invoice_ids {
            return Ok(ids.clone());
        }
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(default, rename_all = "PascalCase")]
        struct InvoiceNumberRow {
            #[serde(rename = "InvoiceID", deserialize_with = "row::de::text")]
            invoice_id: Option<String>,
            #[serde(deserialize_with = "row::de::text")]
            invoice_number: Option<String>,
        }
        let rows = self
            .typed_list::<InvoiceNumberRow>(run, "bulk/SalesInvoice/SalesInvoices", None)
            .await?;
        let ids: HashMap<String, String> = rows
            .into_iter()
            .filter_map(|r| Some((r.invoice_number?, r.invoice_id?)))
            .collect();
        run.invoice_ids = Some(ids.clone());
        Ok(ids)
    }

    /// The division's `system/Divisions` row (one call, the first time a run asks): its
    /// currency for every data type, and company info.
    pub(super) async fn division_row(
        &self,
        run: &mut Run<'_, '_>,
    ) -> Result<super::company_info::DivisionRow, ProviderError> {
        if let Some(row) = &run.division_row {
            return Ok(row.clone());
        }
        let division = run.division.clone();
        let rows = self
            .typed_list::<super::company_info::DivisionRow>(run, "system/Divisions", None)
            .await?;
        let row = rows
            .into_iter()
            .find(|row| row.code.map(|c| c.to_string()).as_deref() == Some(division.as_str()))
            .ok_or_else(|| {
                ProviderError::Upstream(format!("division {division} is not in system/Divisions"))
            })?;
        run.division_row = Some(row.clone());
        Ok(row)
    }

    /// The division's own currency, from its `system/Divisions` row (memoized per run).
    pub(super) async fn division_currency(
        &self,
        run: &mut Run<'_, '_>,
    ) -> Result<String, ProviderError> {
        let division = run.division.clone();
        self.division_row(run)
            .await?
            .currency
            .ok_or_else(|| ProviderError::Upstream(format!("division {division} has no currency")))
    }
}
