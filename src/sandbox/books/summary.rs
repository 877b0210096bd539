//! Per-division totals that tests compare Ledgerline's API figures against.

use std::collections::BTreeMap;

use serde::Serialize;

use super::EntitySet;
use super::division::Division;

/// Totals of one currency's documents.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CurrencyTotals {
    /// Number of documents.
    pub count: u64,
    /// Sum of `AmountFC` incl. VAT, every status included.
    pub amount_fc: f64,
    /// Sum still outstanding (the ReceivablesList / PayablesList `Amount`s).
    pub outstanding_fc: f64,
}

/// What a division holds: row counts per set and per-currency totals.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BooksSummary {
    /// Division code.
    pub division: i32,
    /// Division currency.
    pub currency: String,
    /// Rows per entity set, by set name.
    pub counts: BTreeMap<String, usize>,
    /// Sales invoices per currency.
    pub sales_invoices: BTreeMap<String, CurrencyTotals>,
    /// Purchase entries per currency.
    pub purchase_entries: BTreeMap<String, CurrencyTotals>,
    /// Number of `sync/Deleted` rows.
    pub deleted: usize,
    /// Highest rowversion handed out.
    pub last_timestamp: i64,
}

pub(crate) fn summarize(d: &Division) -> BooksSummary {
    let counts = EntitySet::ALL
        .iter()
        .map(|s| (s.name().to_owned(), d.table(*s).len()))
        .collect();
    // Sum in cents so the totals are exact, then present them as 2-decimal numbers.
    let mut sales: BTreeMap<String, (u64, i64, i64)> = BTreeMap::new();
    for doc in d.sales.values() {
        let t = sales.entry(doc.head.currency.clone()).or_default();
        let total = doc.totals().incl_fc();
        t.0 += 1;
        t.1 += total;
        if doc.is_booked() {
            t.2 += total - doc.head.paid_fc();
        }
    }
    let mut purchases: BTreeMap<String, (u64, i64, i64)> = BTreeMap::new();
    for doc in d.purchases.values() {
        let t = purchases.entry(doc.head.currency.clone()).or_default();
        let total = doc.totals().incl_fc();
        t.0 += 1;
        t.1 += total;
        t.2 += total - doc.head.paid_fc();
    }
    let present = |m: BTreeMap<String, (u64, i64, i64)>| {
        m.into_iter()
            .map(|(c, (count, amount, open))| {
                (
                    c,
                    CurrencyTotals {
                        count,
                        amount_fc: amount as f64 / 100.0,
                        outstanding_fc: open as f64 / 100.0,
                    },
                )
            })
            .collect()
    };
    BooksSummary {
        division: d.info.code,
        currency: d.info.currency.clone(),
        counts,
        sales_invoices: present(sales),
        purchase_entries: present(purchases),
        deleted: d.deleted.len(),
        last_timestamp: d.last_ts,
    }
}
