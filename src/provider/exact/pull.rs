//! Pulls from Exact in the fewest calls: the sync endpoints (1,000 rows a page) with a `$select`
//! derived from each data set's typed row, and the small lists the mappings need beside them.
//!
//! A pull run reads each Exact source once, however many of the requested data types come from
//! it, and hands the mapped records to the sink page by page.
//!
//! Invoices = `vat/VATCodes` (one call: real percentages per code) + `read/financial/ReceivablesList`
//! (what is still outstanding, per invoice number) + `sync/SalesInvoice/SalesInvoices` (one row
//! per invoice line, header fields copied onto each), grouped by `InvoiceID` and mapped. An
//! invoice's lines may sit on different pages, so its rows are all read (typed, compact) before
//! the invoices are mapped and handed on, 1,000 a page.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::de::DeserializeOwned;
use url::Url;

use super::ExactProvider;
use super::budget::BudgetKey;
use super::invoices::{
    self, InvoiceContext, Mapped, ReceivableRow, SalesInvoiceRow, VatCode, VatCodeRow,
};
use super::row;
use crate::provider::{
    DataType, PageSink, ProviderError, PullError, PullMode, PullRequest, PulledPage, Session,
};

/// Records handed to the sink per page.
const RECORDS_PER_PAGE: usize = 1_000;

/// One pull run's position: the calls made since the last page handed on.
struct Run<'s, 'a> {
    session: &'s Session<'a>,
    division: String,
    sink: &'s mut dyn PageSink,
    calls_since_page: u32,
}

impl Run<'_, '_> {
    /// Hands a page on, charging it the calls made since the previous one.
    async fn deliver(&mut self, mut page: PulledPage) -> Result<(), PullError> {
        page.upstream_calls = std::mem::take(&mut self.calls_since_page);
        self.sink.page(page).await?;
        Ok(())
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
        };
        if wanted.contains(&DataType::Invoices) {
            self.pull_sales_invoices(&mut run).await?;
        }
        Ok(())
    }

    /// The first page of `path` in the run's division.
    fn division_url(
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
    async fn typed_page<T: DeserializeOwned>(
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
    async fn typed_list<T: DeserializeOwned>(
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

    /// Every sales invoice of the run's division, mapped to Codat's Invoice.
    async fn pull_sales_invoices(&self, run: &mut Run<'_, '_>) -> Result<(), PullError> {
        let division_currency = self.division_currency(run).await?;
        let vat_codes: HashMap<String, VatCode> = self
            .typed_list::<VatCodeRow>(run, "vat/VATCodes", None)
            .await?
            .into_iter()
            .filter_map(invoices::vat_code)
            .map(|code| (code.code.clone(), code))
            .collect();
        let receivables = self
            .typed_list::<ReceivableRow>(run, "read/financial/ReceivablesList", None)
            .await?;
        let outstanding = invoices::outstanding_by_invoice(&receivables);
        let rows = self
            .typed_list::<SalesInvoiceRow>(
                run,
                "sync/SalesInvoice/SalesInvoices",
                Some("Timestamp gt 0L"),
            )
            .await?;

        let cursor = rows.iter().filter_map(|r| r.timestamp).max();
        // The groups own their rows, so each invoice's rows are freed as soon as it is mapped.
        let mut by_invoice: BTreeMap<String, Vec<SalesInvoiceRow>> = BTreeMap::new();
        for row in rows {
            if let Some(id) = row.invoice_id.clone() {
                by_invoice.entry(id).or_default().push(row);
            }
        }
        let context = InvoiceContext {
            division_currency: &division_currency,
            vat_codes: &vat_codes,
            outstanding: &outstanding,
        };
        let mut page = PulledPage::new(DataType::Invoices);
        for (id, lines) in by_invoice {
            match invoices::map_invoice(&lines, &context) {
                Ok(Mapped::Invoice(invoice)) => {
                    let json = serde_json::to_value(&*invoice).map_err(|e| {
                        ProviderError::Upstream(format!("invoice {id} could not be written: {e}"))
                    })?;
                    page.upserts.push((id, json));
                }
                // Credit notes are Codat's `creditNotes` data type, not invoices.
                Ok(Mapped::CreditNote { .. }) => {}
                Err(why) => {
                    tracing::warn!(invoice = %id, %why, "an Exact sales invoice could not be mapped; skipped");
                }
            }
            if page.upserts.len() == RECORDS_PER_PAGE {
                let full = std::mem::replace(&mut page, PulledPage::new(DataType::Invoices));
                run.deliver(full).await?;
            }
        }
        // The cursor goes with the last page: only then is everything before it stored.
        page.cursor = cursor.map(|c| c.to_string());
        run.deliver(page).await
    }

    /// The division's own currency, from `system/Divisions`.
    async fn division_currency(&self, run: &mut Run<'_, '_>) -> Result<String, ProviderError> {
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(default, rename_all = "PascalCase")]
        struct DivisionRow {
            #[serde(deserialize_with = "row::de::int64")]
            code: Option<i64>,
            #[serde(deserialize_with = "row::de::text")]
            currency: Option<String>,
        }
        let division = run.division.clone();
        let rows = self
            .typed_list::<DivisionRow>(run, "system/Divisions", None)
            .await?;
        rows.into_iter()
            .find(|row| row.code.map(|c| c.to_string()).as_deref() == Some(division.as_str()))
            .and_then(|row| row.currency)
            .ok_or_else(|| ProviderError::Upstream(format!("division {division} has no currency")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
