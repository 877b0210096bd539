//! Pulls from Exact in the fewest calls: the sync endpoints (1,000 rows a page) with `$select`
//! of only the mapped fields, and the small lists the mapping needs beside them.
//!
//! Invoices = `vat/VATCodes` (one call: real percentages per code) + `read/financial/ReceivablesList`
//! (what is still outstanding, per invoice number) + `sync/SalesInvoice/SalesInvoices` (one row
//! per invoice line, header fields copied onto each), grouped by `InvoiceID` and mapped.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::budget::BudgetKey;
use super::invoices::{self, InvoiceContext, Mapped};
use super::{ExactProvider, odata};
use crate::provider::{ProviderError, Pulled, Session};

impl ExactProvider {
    /// Every row of `path` in the session's pinned division, following `__next`; each page
    /// passes the division's budget and adds to `calls`.
    async fn division_rows(
        &self,
        session: &Session<'_>,
        path: &str,
        query: &[(&str, &str)],
        calls: &mut u32,
    ) -> Result<Vec<Value>, ProviderError> {
        let division = session.upstream_company_id.ok_or_else(|| {
            ProviderError::Upstream("the connection has no division pinned yet".into())
        })?;
        let mut url = self.api_url(session.integration_key, &format!("{division}/{path}"))?;
        url.query_pairs_mut().extend_pairs(query);
        let key: BudgetKey = (session.integration_key.to_string(), division.to_string());
        self.api
            .get_all_counted(session, &self.budget, Some(&key), url, calls)
            .await
    }

    /// Every sales invoice of the session's division, mapped to Codat's Invoice.
    pub(super) async fn pull_invoices(
        &self,
        session: &Session<'_>,
    ) -> Result<Pulled, ProviderError> {
        let mut calls = 0u32;
        let division_currency = self.division_currency(session, &mut calls).await?;

        let vat_rows = self
            .division_rows(
                session,
                "vat/VATCodes",
                &[("$select", "Code,Description,Percentage")],
                &mut calls,
            )
            .await?;
        let vat_codes: HashMap<String, invoices::VatCode> = vat_rows
            .iter()
            .filter_map(invoices::vat_code)
            .map(|code| (code.code.clone(), code))
            .collect();

        let receivables = self
            .division_rows(
                session,
                "read/financial/ReceivablesList",
                &[("$select", "InvoiceNumber,Amount")],
                &mut calls,
            )
            .await?;
        let outstanding = invoices::outstanding_by_invoice(&receivables);

        let select = invoices::SYNC_SELECT.join(",");
        let rows = self
            .division_rows(
                session,
                "sync/SalesInvoice/SalesInvoices",
                &[("$select", &select), ("$filter", "Timestamp gt 0L")],
                &mut calls,
            )
            .await?;

        let cursor = rows
            .iter()
            .filter_map(|r| odata::int64(&r["Timestamp"]))
            .max();
        // The groups own their rows, so each invoice's rows are freed as soon as it is mapped:
        // a big division never holds every upstream row and every mapped record at once.
        let mut by_invoice: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for row in rows {
            if let Some(id) = odata::text(&row["InvoiceID"]) {
                by_invoice.entry(id).or_default().push(row);
            }
        }
        let context = InvoiceContext {
            division_currency: &division_currency,
            vat_codes: &vat_codes,
            outstanding: &outstanding,
        };
        let mut records = Vec::with_capacity(by_invoice.len());
        for (id, lines) in by_invoice {
            let lines: Vec<&Value> = lines.iter().collect();
            match invoices::map_invoice(&lines, &context) {
                Ok(Mapped::Invoice(invoice)) => {
                    let json = serde_json::to_value(&*invoice).map_err(|e| {
                        ProviderError::Upstream(format!("invoice {id} could not be written: {e}"))
                    })?;
                    records.push((id, json));
                }
                // Credit notes are Codat's `creditNotes` data type, not invoices.
                Ok(Mapped::CreditNote { .. }) => {}
                Err(why) => {
                    tracing::warn!(invoice = %id, %why, "an Exact sales invoice could not be mapped; skipped");
                }
            }
        }
        Ok(Pulled {
            records,
            cursor: cursor.map(|c| c.to_string()),
            upstream_calls: calls,
        })
    }

    /// The division's own currency, from `system/Divisions`.
    async fn division_currency(
        &self,
        session: &Session<'_>,
        calls: &mut u32,
    ) -> Result<String, ProviderError> {
        let division = session.upstream_company_id.unwrap_or_default();
        let rows = self
            .division_rows(
                session,
                "system/Divisions",
                &[("$select", "Code,Currency")],
                calls,
            )
            .await?;
        rows.iter()
            .find(|row| {
                odata::int64(&row["Code"]).map(|c| c.to_string()).as_deref() == Some(division)
            })
            .and_then(|row| odata::text(&row["Currency"]))
            .ok_or_else(|| ProviderError::Upstream(format!("division {division} has no currency")))
    }
}
