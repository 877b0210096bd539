//! Every row of a sales invoice: header, lines, flattened sync rows and, once processed (status 50),
//! its sales entry, transaction lines, receivable, payment term and the bank entries of its payments.

use std::collections::BTreeMap;

use chrono::Datelike;
use serde_json::{Map, Value, json};

use super::chart::{Journal, Role};
use super::division::{Division, Row};
use super::docs::SalesDoc;
use super::entry::{self, EntryCtx, Side, TlLine};
use super::{EntitySet, wire};
use crate::sandbox::region::Region;

/// `StatusDescription` of a sales invoice status.
fn status_description(region: Region, status: i32) -> &'static str {
    match (region, status) {
        (Region::Nl, 10) => "Concept",
        (Region::Nl, 20) => "Open",
        (Region::Nl, _) => "Verwerkt",
        (Region::Uk, 10) => "Draft",
        (Region::Uk, 20) => "Open",
        (Region::Uk, _) => "Processed",
    }
}

/// `TypeDescription` of a sales invoice type.
fn type_description(region: Region, kind: i32) -> &'static str {
    match (region, kind) {
        (Region::Nl, 8021) => "Verkoopcreditnota",
        (Region::Nl, 8023) => "Directe verkoopfactuur",
        (Region::Nl, 8024) => "Directe verkoopcreditnota",
        (Region::Nl, _) => "Verkoopfactuur",
        (Region::Uk, 8021) => "Sales credit note",
        (Region::Uk, 8023) => "Direct sales invoice",
        (Region::Uk, 8024) => "Direct credit note",
        (Region::Uk, _) => "Sales invoice",
    }
}

/// The rows of one sales invoice, in a fixed order.
pub(crate) fn rows(d: &Division, doc: &SalesDoc) -> Vec<Row> {
    let h = &doc.head;
    let region = d.info.region;
    let t = doc.totals();
    let (_, customer_name) = entry::account_ref(d, Some(h.account));
    let (jcode, jdesc) = d.chart.journal(Journal::Sales);
    let header = wire::obj(json!({
        "InvoiceID": wire::guid(h.id),
        "InvoiceNumber": h.number,
        "InvoiceTo": wire::guid(h.account),
        "InvoiceToName": customer_name,
        "OrderedBy": wire::guid(h.account),
        "OrderedByName": customer_name,
        "DeliverTo": wire::guid(h.account),
        "DeliverToName": customer_name,
        "InvoiceDate": wire::date(h.date),
        "OrderDate": wire::date(h.date),
        "DueDate": wire::date(h.due),
        "Currency": h.currency,
        "Journal": jcode,
        "JournalDescription": jdesc,
        "Description": h.description,
        "YourRef": h.your_ref,
        "PaymentCondition": h.payment_condition,
        "PaymentReference": format!("{:016}", h.number),
        "Status": h.status,
        "StatusDescription": status_description(region, h.status),
        "Type": h.kind,
        "TypeDescription": type_description(region, h.kind),
        "AmountDiscount": wire::amount(0),
        "AmountDiscountExclVat": wire::amount(0),
    }));
    let mut rows = Vec::with_capacity(doc.lines.len() * 4 + 8);
    let mut head_fields = header.clone();
    head_fields.extend(wire::obj(json!({
        "AmountFC": wire::amount(t.incl_fc()),
        "AmountDC": wire::amount(t.incl_dc()),
        "AmountFCExclVat": wire::amount(t.excl_fc),
        "VATAmountFC": wire::amount(t.vat_fc),
        "VATAmountDC": wire::amount(t.vat_dc),
    })));
    rows.push(Row::guid(EntitySet::SalesInvoices, h.id, head_fields));
    let mut sync_rows = Vec::with_capacity(doc.lines.len());
    for (n, l) in doc.lines.iter().enumerate() {
        let a = l.amounts(h.rate);
        let (_, gl_desc) = entry::gl_ref(d, l.gl);
        let vat_desc = d.chart.vat_by_code(&l.vat).map_or("", |v| v.description);
        let line = wire::obj(json!({
            "ID": wire::guid(l.id),
            "InvoiceID": wire::guid(h.id),
            "LineNumber": n as i32 + 1,
            "Item": wire::guid(wire::derived_id(d.chart.role(Role::RevenueHigh), item_salt(&l.item_code))),
            "ItemCode": l.item_code,
            "ItemDescription": l.description,
            "Description": l.description,
            "Quantity": l.quantity,
            "UnitPrice": wire::amount(l.unit_price),
            "NetPrice": wire::amount(l.net_price()),
            "Discount": wire::number(l.discount),
            "AmountFC": wire::amount(a.excl_fc),
            "AmountDC": wire::amount(a.excl_dc),
            "VATAmountFC": wire::amount(a.vat_fc),
            "VATAmountDC": wire::amount(a.vat_dc),
            "VATCode": l.vat,
            "VATCodeDescription": vat_desc,
            "VATPercentage": wire::number(l.vat_pct),
            "GLAccount": wire::guid(l.gl),
            "GLAccountDescription": gl_desc,
            "CostCenter": Value::Null,
            "CostUnit": Value::Null,
        }));
        let mut flat: Map<String, Value> = header.clone();
        flat.extend(line.clone());
        // The flattened row keeps the header's Description; the line's is `LineDescription`.
        flat.insert("Description".into(), json!(h.description));
        flat.insert("LineDescription".into(), json!(l.description));
        flat.insert("AmountFCExclVat".into(), wire::amount(t.excl_fc));
        sync_rows.push(Row::guid(EntitySet::SyncSalesInvoices, l.id, flat));
        rows.push(Row::guid(EntitySet::SalesInvoiceLines, l.id, line));
    }
    rows.extend(sync_rows);
    if doc.is_booked() {
        rows.extend(booked_rows(d, doc));
    }
    rows
}

/// A small stable number per item code, so the same item gets the same `Item` GUID.
fn item_salt(code: &str) -> u64 {
    code.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Sales entry, entry lines, transaction lines, receivable, payment term and payment entries.
fn booked_rows(d: &Division, doc: &SalesDoc) -> Vec<Row> {
    let h = &doc.head;
    let t = doc.totals();
    let entry_id = wire::derived_id(h.id, 1);
    let credit = doc.is_credit();
    let nl = d.info.region == Region::Nl;
    let (jcode, jdesc) = d.chart.journal(Journal::Sales);
    let (_, customer_name) = entry::account_ref(d, Some(h.account));
    let mut rows = Vec::new();
    rows.push(Row::guid(
        EntitySet::SalesEntries,
        entry_id,
        wire::obj(json!({
            "EntryID": wire::guid(entry_id),
            "EntryNumber": h.number,
            "InvoiceNumber": h.number,
            "Customer": wire::guid(h.account),
            "CustomerName": customer_name,
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
            "PaymentReference": format!("{:016}", h.number),
            "ReportingYear": h.date.year(),
            "ReportingPeriod": h.date.month(),
            "Reversal": false,
            "Status": 50,
            "StatusDescription": if nl { "Verwerkt" } else { "Processed" },
            "Type": if credit { 21 } else { 20 },
            "TypeDescription": if credit { "Creditnota" } else { "Sales entry" },
        })),
    ));
    let mut tl = vec![];
    // Line 0: the receivable, debit for an invoice (the total incl. VAT).
    tl.push(TlLine {
        gl: d.chart.role(Role::Receivable),
        account: Some(h.account),
        fc: t.incl_fc(),
        dc: t.incl_dc(),
        vat: None,
        description: h.description.clone(),
        quantity: None,
    });
    // VAT per code, collected in a BTreeMap so the line order is stable.
    let mut vat: BTreeMap<String, (i64, i64, i64, f64)> = BTreeMap::new();
    for (n, l) in doc.lines.iter().enumerate() {
        let a = l.amounts(h.rate);
        let id = wire::derived_id(l.id, 2);
        let (gl_code, gl_desc) = entry::gl_ref(d, l.gl);
        rows.push(Row::guid(
            EntitySet::SalesEntryLines,
            id,
            wire::obj(json!({
                "ID": wire::guid(id),
                "EntryID": wire::guid(entry_id),
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
            fc: -a.excl_fc,
            dc: -a.excl_dc,
            vat: Some((l.vat.clone(), l.vat_pct, -a.vat_fc, -a.excl_fc)),
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
            .map_or(d.chart.role(Role::VatPayHigh), |v| v.gl_pay);
        tl.push(TlLine {
            gl,
            account: None,
            fc: -vfc,
            dc: -vdc,
            vat: Some((code, pct, -vfc, -base)),
            description: h.description.clone(),
            quantity: None,
        });
    }
    let e = EntryCtx {
        entry_id,
        entry_number: h.number,
        journal: Journal::Sales,
        date: h.date,
        currency: h.currency.clone(),
        rate: h.rate,
        status: 50,
        kind: if credit { 21 } else { 20 },
        description: h.description.clone(),
        invoice_number: Some(h.number),
        your_ref: h.your_ref.clone(),
        due: Some(h.due),
    };
    let tls = entry::transaction_lines(d, &e, &tl);
    let open_tl = match &tls[0].key {
        super::Key::Guid(id) => *id,
        super::Key::Int(_) => entry_id,
    };
    rows.extend(tls);
    rows.extend(entry::open_item(
        d,
        Side::Receivable,
        h,
        t,
        entry_id,
        open_tl,
        Journal::Sales,
    ));
    for p in &h.payments {
        rows.extend(entry::payment_rows(d, Side::Receivable, h, p));
    }
    rows
}
