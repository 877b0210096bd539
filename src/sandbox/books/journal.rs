//! Every row of a general journal entry: header, lines and one transaction line per line.

use serde_json::{Value, json};

use super::chart::Journal;
use super::division::{Division, Row};
use super::docs::JournalDoc;
use super::entry::{self, EntryCtx, TlLine};
use super::{EntitySet, wire};
use crate::sandbox::region::Region;

/// The rows of one journal entry, in a fixed order.
pub(crate) fn rows(d: &Division, doc: &JournalDoc) -> Vec<Row> {
    let nl = d.info.region == Region::Nl;
    let (jcode, jdesc) = d.chart.journal(Journal::General);
    let currency = d.info.currency.clone();
    let mut rows = Vec::with_capacity(doc.lines.len() * 2 + 1);
    rows.push(Row::guid(
        EntitySet::GeneralJournalEntries,
        doc.id,
        wire::obj(json!({
            "EntryID": wire::guid(doc.id),
            "EntryNumber": doc.number,
            "JournalCode": jcode,
            "JournalDescription": jdesc,
            "FinancialYear": chrono::Datelike::year(&doc.date),
            "FinancialPeriod": chrono::Datelike::month(&doc.date),
            "Currency": currency,
            "ExchangeRate": wire::number(1.0),
            "Description": doc.description,
            "Reversal": false,
            "Status": doc.status,
            "StatusDescription": match (nl, doc.status) { (true, 50) => "Verwerkt", (false, 50) => "Processed", _ => "Open" },
            "Type": doc.kind,
            "TypeDescription": match (nl, doc.kind) {
                (true, 10) => "Beginbalans", (false, 10) => "Opening balance",
                (true, _) => "Overige", (false, _) => "Other",
            },
        })),
    ));
    for (n, l) in doc.lines.iter().enumerate() {
        let (gl_code, gl_desc) = entry::gl_ref(d, l.gl);
        let (acc_code, acc_name) = entry::account_ref(d, l.account);
        rows.push(Row::guid(
            EntitySet::GeneralJournalEntryLines,
            l.id,
            wire::obj(json!({
                "ID": wire::guid(l.id),
                "EntryID": wire::guid(doc.id),
                "LineNumber": n as i32 + 1,
                "Date": wire::date(doc.date),
                "GLAccount": wire::guid(l.gl),
                "GLAccountCode": gl_code,
                "GLAccountDescription": gl_desc,
                "Account": wire::opt_guid(l.account),
                "AccountCode": acc_code,
                "AccountName": acc_name,
                "AmountDC": wire::amount(l.amount),
                "AmountFC": wire::amount(l.amount),
                "AmountVATDC": wire::amount(0),
                "AmountVATFC": wire::amount(0),
                "VATCode": Value::Null,
                "VATType": Value::Null,
                "Description": l.description,
                "CostCenter": Value::Null,
            })),
        ));
    }
    let e = EntryCtx {
        entry_id: doc.id,
        entry_number: doc.number,
        journal: Journal::General,
        date: doc.date,
        currency,
        rate: 1.0,
        status: doc.status,
        kind: doc.kind,
        description: doc.description.clone(),
        invoice_number: None,
        your_ref: String::new(),
        due: None,
    };
    let tl: Vec<TlLine> = doc
        .lines
        .iter()
        .map(|l| TlLine {
            gl: l.gl,
            account: l.account,
            fc: l.amount,
            dc: l.amount,
            vat: None,
            description: l.description.clone(),
            quantity: None,
        })
        .collect();
    rows.extend(entry::transaction_lines(d, &e, &tl));
    rows
}
