//! The sales invoices pull, for invoices and credit notes alike: `vat/VATCodes` (one call: real
//! percentages per code) + `read/financial/ReceivablesList` (what is still outstanding, per
//! invoice number) + `sync/SalesInvoice/SalesInvoices` (one row per invoice line, header fields
//! copied onto each), grouped by `InvoiceID` and mapped. An invoice's lines may sit on different
//! pages, so its rows are all read (typed, compact) before the invoices are mapped and handed on.
//! Exact charges per call, so one read feeds both data types, and each is handed on only when
//! the run asks for it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::super::ExactProvider;
use super::super::pull::Run;
use super::{InvoiceContext, Mapped, ReceivableRow, SalesInvoiceRow, VatCode};
use crate::provider::exact::credit_notes::map_credit_note;
use crate::provider::{DataType, PullError};

impl ExactProvider {
    /// Every sales invoice of the run's division, mapped to Codat's Invoice or CreditNote by its
    /// type, for those of the two data types in `wanted`.
    pub(in crate::provider::exact) async fn pull_sales_invoices(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
    ) -> Result<(), PullError> {
        let invoices = wanted.contains(&DataType::Invoices);
        let credit_notes = wanted.contains(&DataType::CreditNotes);
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
        let skipped = |id: &str, why: &str| {
            tracing::warn!(invoice = %id, %why, "an Exact sales invoice could not be mapped; skipped");
        };
        for (id, lines) in by_invoice {
            if lines.first().is_some_and(super::is_credit_note) {
                if credit_notes {
                    match map_credit_note(&lines, &context) {
                        Ok(note) => run.push(DataType::CreditNotes, id, &note).await?,
                        Err(why) => skipped(&id, &why),
                    }
                }
            } else if invoices {
                match super::map_invoice(&lines, &context) {
                    Ok(Mapped::Invoice(invoice)) => {
                        run.push(DataType::Invoices, id, &*invoice).await?
                    }
                    // Not reached: the rows are no credit note.
                    Ok(Mapped::CreditNote { .. }) => {}
                    Err(why) => skipped(&id, &why),
                }
            }
        }
        let cursor = cursor.map(|c| c.to_string());
        for data_type in [DataType::Invoices, DataType::CreditNotes]
            .into_iter()
            .filter(|d| wanted.contains(d))
        {
            run.finish(data_type, cursor.clone()).await?;
        }
        Ok(())
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
