//! The invoices pull: `vat/VATCodes` (one call: real percentages per code) +
//! `read/financial/ReceivablesList` (what is still outstanding, per invoice number) +
//! `sync/SalesInvoice/SalesInvoices` (one row per invoice line, header fields copied onto each),
//! grouped by `InvoiceID` and mapped. An invoice's lines may sit on different pages, so its rows
//! are all read (typed, compact) before the invoices are mapped and handed on.

use std::collections::{BTreeMap, HashMap};

use super::super::ExactProvider;
use super::super::pull::Run;
use super::{InvoiceContext, Mapped, ReceivableRow, SalesInvoiceRow, VatCode};
use crate::provider::{DataType, PullError};

impl ExactProvider {
    /// Every sales invoice of the run's division, mapped to Codat's Invoice.
    pub(in crate::provider::exact) async fn pull_sales_invoices(
        &self,
        run: &mut Run<'_, '_>,
    ) -> Result<(), PullError> {
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
        let outstanding = super::outstanding_by_invoice(&receivables);
        let rows = self
            .typed_list::<SalesInvoiceRow>(
                run,
                "sync/SalesInvoice/SalesInvoices",
                Some("Timestamp gt 0L"),
            )
            .await?;

        let cursor = rows.iter().filter_map(|r| r.timestamp).max();
        run.remember_invoice_ids(
            rows.iter()
                .filter_map(|r| Some((r.invoice_number.clone()?, r.invoice_id.clone()?)))
                .collect(),
        );
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
        for (id, lines) in by_invoice {
            match super::map_invoice(&lines, &context) {
                Ok(Mapped::Invoice(invoice)) => run.push(DataType::Invoices, id, &*invoice).await?,
                // Credit notes are Codat's `creditNotes` data type, not invoices.
                Ok(Mapped::CreditNote { .. }) => {}
                Err(why) => {
                    tracing::warn!(invoice = %id, %why, "an Exact sales invoice could not be mapped; skipped");
                }
            }
        }
        run.finish(DataType::Invoices, cursor.map(|c| c.to_string()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::SalesInvoiceRow;
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
}
