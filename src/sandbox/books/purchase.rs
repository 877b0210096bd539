//! Every row of a purchase entry: header, lines, transaction lines, payable, payment term and the bank
//! entries of its payments. Purchase entries are booked at status 20 (open) and 50 (processed) alike.

use std::collections::BTreeMap;

use chrono::Datelike;
use serde_json::{Value, json};

use super::chart::{Journal, Role};
use super::division::{Division, Row};
use super::docs::{Amounts, PurchaseDoc};
use super::entry::{self, EntryCtx, Side, TlLine};
use super::{EntitySet, Key, wire};
use crate::sandbox::region::Region;

/// The rows of one purchase entry, in a fixed order.
pub(crate) fn rows(d: &Division, doc: &PurchaseDoc) -> Vec<Row> {
    let h = &doc.head;
    let t = doc.totals();
    let nl = d.info.region == Region::Nl;
    let credit = h.kind == 31;
    let (jcode, jdesc) = d.chart.journal(Journal::Purchase);
    let (_, supplier_name) = entry::account_ref(d, Some(h.account));
    let mut rows = Vec::with_capacity(doc.lines.len() * 3 + 6);
    rows.push(Row::guid(
        EntitySet::PurchaseEntries,
        h.id,
        wire::obj(json!({
            "EntryID": wire::guid(h.id),
            "EntryNumber": h.number,
            "InvoiceNumber": h.number,
            "Supplier": wire::guid(h.account),
            "SupplierName": supplier_name,
            "EntryDate": wire::date(h.date),
            "DueDate": wire::date(h.due),
            "Journal": jcode,
            "JournalDescription": jdesc,
            "Currency": h.currency,
            "Rate": wire::number(h.rate),
            "AmountDC": wire::amount(t.incl_dc()),
            "AmountFC": wire::amount(t.incl_fc()),
            "VATAmountDC": wire::amount(t.vat_dc),
            "VATAmountFC": wire::amount(t.vat_fc),
            "Description": h.description,
            "YourRef": h.your_ref,
            "PaymentCondition": h.payment_condition,
            "PaymentReference": Value::Null,
            "ReportingYear": h.date.year(),
            "ReportingPeriod": h.date.month(),
            "Reversal": false,
            "Status": h.status,
            "StatusDescription": match (nl, h.status) { (true, 50) => "Verwerkt", (false, 50) => "Processed", _ => "Open" },
            "Type": h.kind,
            "TypeDescription": match (nl, credit) {
                (true, false) => "Inkoopboeking", (true, true) => "Inkoopcreditnota",
                (false, false) => "Purchase entry", (false, true) => "Purchase credit note",
            },
        })),
    ));
    let mut tl = vec![TlLine {
        gl: d.chart.role(Role::Payable),
        account: Some(h.account),
        fc: -t.incl_fc(),
        dc: -t.incl_dc(),
        vat: None,
        description: h.description.clone(),
        quantity: None,
    }];
    let mut vat: BTreeMap<String, (i64, i64, i64, f64)> = BTreeMap::new();
    for (n, l) in doc.lines.iter().enumerate() {
        let a = Amounts::of(l.amount_fc, l.vat_pct, h.rate);
        let (gl_code, gl_desc) = entry::gl_ref(d, l.gl);
        rows.push(Row::guid(
            EntitySet::PurchaseEntryLines,
            l.id,
            wire::obj(json!({
                "ID": wire::guid(l.id),
                "EntryID": wire::guid(h.id),
                "LineNumber": n as i32 + 1,
                "GLAccount": wire::guid(l.gl),
                "GLAccountCode": gl_code,
                "GLAccountDescription": gl_desc,
                "AmountFC": wire::amount(a.excl_fc),
                "AmountDC": wire::amount(a.excl_dc),
                "VATCode": l.vat,
                "VATPercentage": wire::number(l.vat_pct),
                "VATAmountFC": wire::amount(a.vat_fc),
                "VATAmountDC": wire::amount(a.vat_dc),
                "VATBaseAmountFC": wire::amount(a.excl_fc),
                "VATBaseAmountDC": wire::amount(a.excl_dc),
                "Description": l.description,
                "Quantity": l.quantity,
                "CostCenter": Value::Null,
            })),
        ));
        tl.push(TlLine {
            gl: l.gl,
            account: Some(h.account),
            fc: a.excl_fc,
            dc: a.excl_dc,
            vat: Some((l.vat.clone(), l.vat_pct, a.vat_fc, a.excl_fc)),
            description: l.description.clone(),
            quantity: Some(l.quantity),
        });
        let e = vat.entry(l.vat.clone()).or_insert((0, 0, 0, l.vat_pct));
        e.0 += a.vat_fc;
        e.1 += a.vat_dc;
        e.2 += a.excl_fc;
    }
    for (code, (vfc, vdc, base, pct)) in vat {
        if vfc == 0 && vdc == 0 {
            continue;
        }
        let gl = d
            .chart
            .vat_by_code(&code)
            .map_or(d.chart.role(Role::VatClaim), |v| v.gl_claim);
        tl.push(TlLine {
            gl,
            account: None,
            fc: vfc,
            dc: vdc,
            vat: Some((code, pct, vfc, base)),
            description: h.description.clone(),
            quantity: None,
        });
    }
    // The purchase entry's own EntryID is the transaction lines' EntryID, as in Exact.
    let e = EntryCtx {
        entry_id: h.id,
        entry_number: h.number,
        journal: Journal::Purchase,
        date: h.date,
        currency: h.currency.clone(),
        rate: h.rate,
        status: h.status,
        kind: h.kind,
        description: h.description.clone(),
        invoice_number: Some(h.number),
        your_ref: h.your_ref.clone(),
        due: Some(h.due),
    };
    let tls = entry::transaction_lines(d, &e, &tl);
    let open_tl = match &tls[0].key {
        Key::Guid(id) => *id,
        Key::Int(_) => h.id,
    };
    rows.extend(tls);
    rows.extend(entry::open_item(
        d,
        Side::Payable,
        h,
        t,
        h.id,
        open_tl,
        Journal::Purchase,
    ));
    for p in &h.payments {
        rows.extend(entry::payment_rows(d, Side::Payable, h, p));
    }
    rows
}
