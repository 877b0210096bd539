//! Ledger rows shared by sales, purchases and journals: transaction lines, outstanding items,
//! payment terms and the bank entries of payments.

use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};
use uuid::Uuid;

use super::chart::{Journal, Role};
use super::division::{Division, Row};
use super::docs::{Amounts, Header, Payment};
use super::{EntitySet, Key, wire};

/// Which side of the books an open item is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// Customer owes us: ReceivablesList, PaymentTerms LineType 20.
    Receivable,
    /// We owe a supplier: PayablesList, PaymentTerms LineType 22.
    Payable,
}

/// The fields every transaction line of one entry shares.
pub(crate) struct EntryCtx {
    pub entry_id: Uuid,
    pub entry_number: i32,
    pub journal: Journal,
    pub date: NaiveDate,
    pub currency: String,
    pub rate: f64,
    pub status: i32,
    /// TransactionLines.Type: 20/21 sales, 30/31 purchase, 40 cash flow, 90 other, 10 opening.
    pub kind: i32,
    pub description: String,
    pub invoice_number: Option<i32>,
    pub your_ref: String,
    pub due: Option<NaiveDate>,
}

/// One transaction line to book.
pub(crate) struct TlLine {
    pub gl: Uuid,
    pub account: Option<Uuid>,
    pub fc: i64,
    pub dc: i64,
    /// (padded code, percentage, VAT amount FC, VAT base FC)
    pub vat: Option<(String, f64, i64, i64)>,
    pub description: String,
    pub quantity: Option<f64>,
}

/// (code, name) of a relation, code padded as on the wire.
pub(crate) fn account_ref(d: &Division, id: Option<Uuid>) -> (Value, Value) {
    match id {
        Some(id) => (
            Value::String(d.field_str(EntitySet::Accounts, id, "Code")),
            Value::String(d.field_str(EntitySet::Accounts, id, "Name")),
        ),
        None => (Value::Null, Value::Null),
    }
}

/// (code, description) of a GL account.
pub(crate) fn gl_ref(d: &Division, id: Uuid) -> (String, String) {
    (
        d.field_str(EntitySet::GLAccounts, id, "Code"),
        d.field_str(EntitySet::GLAccounts, id, "Description"),
    )
}

/// The transaction lines of an entry; IDs derive from the entry ID and line number.
pub(crate) fn transaction_lines(d: &Division, e: &EntryCtx, lines: &[TlLine]) -> Vec<Row> {
    let (jcode, jdesc) = d.chart.journal(e.journal);
    lines
        .iter()
        .enumerate()
        .map(|(n, l)| {
            let id = wire::derived_id(e.entry_id, 100 + n as u64);
            let (gl_code, gl_desc) = gl_ref(d, l.gl);
            let (acc_code, acc_name) = account_ref(d, l.account);
            let (vat_code, vat_pct, vat_fc, vat_base) = match &l.vat {
                Some((c, p, v, b)) => (
                    Value::String(c.clone()),
                    wire::number(*p),
                    wire::amount(*v),
                    wire::amount(*b),
                ),
                None => (
                    Value::Null,
                    Value::from(0),
                    wire::amount(0),
                    wire::amount(0),
                ),
            };
            let fields = json!({
                "ID": wire::guid(id),
                "EntryID": wire::guid(e.entry_id),
                "EntryNumber": e.entry_number,
                "LineNumber": n as i32,
                "JournalCode": jcode,
                "JournalDescription": jdesc,
                "Date": wire::date(e.date),
                "FinancialYear": e.date.year(),
                "FinancialPeriod": e.date.month(),
                "GLAccount": wire::guid(l.gl),
                "GLAccountCode": gl_code,
                "GLAccountDescription": gl_desc,
                "Account": wire::opt_guid(l.account),
                "AccountCode": acc_code,
                "AccountName": acc_name,
                "AmountDC": wire::amount(l.dc),
                "AmountFC": wire::amount(l.fc),
                "AmountVATFC": vat_fc,
                "AmountVATBaseFC": vat_base,
                "Currency": e.currency,
                "ExchangeRate": wire::number(e.rate),
                "VATCode": vat_code,
                "VATPercentage": vat_pct,
                "Description": l.description,
                "InvoiceNumber": e.invoice_number,
                "YourRef": e.your_ref,
                "DueDate": e.due.map_or(Value::Null, wire::date),
                "PaymentReference": Value::Null,
                "Quantity": l.quantity,
                "CostCenter": Value::Null,
                "CostCenterDescription": Value::Null,
                "Status": e.status,
                "Type": e.kind,
            });
            Row::guid(EntitySet::TransactionLines, id, wire::obj(fields))
        })
        .collect()
}

/// Splits a DC amount proportionally to an FC part, so the parts of a payment sum to its whole.
pub(crate) fn dc_of(fc: i64, rate: f64) -> i64 {
    wire::round_cents(fc as f64 * rate)
}

/// The outstanding-item row (only while something is outstanding) and the payment-term row of a
/// booked document. `entry_id` is the entry the item belongs to, `open_tl` its receivable/payable line.
pub(crate) fn open_item(
    d: &Division,
    side: Side,
    h: &Header,
    t: Amounts,
    entry_id: Uuid,
    open_tl: Uuid,
    journal: Journal,
) -> Vec<Row> {
    let (jcode, jdesc) = d.chart.journal(journal);
    let (acc_code, acc_name) = account_ref(d, Some(h.account));
    let total_fc = t.incl_fc();
    let outstanding = total_fc - h.paid_fc();
    let mut rows = Vec::with_capacity(2);
    let (set, line_type, gl) = match side {
        Side::Receivable => (
            EntitySet::ReceivablesList,
            20,
            d.chart.role(Role::Receivable),
        ),
        Side::Payable => (EntitySet::PayablesList, 22, d.chart.role(Role::Payable)),
    };
    if outstanding != 0 {
        let mut f = wire::obj(json!({
            "HID": h.hid,
            "AccountId": wire::guid(h.account),
            "AccountCode": acc_code,
            "AccountName": acc_name,
            "Amount": wire::amount(outstanding),
            "AmountInTransit": wire::amount(0),
            "CurrencyCode": h.currency,
            "Description": h.description,
            "DueDate": wire::date(h.due),
            "EntryNumber": h.number,
            "InvoiceDate": wire::date(h.date),
            "InvoiceNumber": h.number,
            "JournalCode": jcode,
            "JournalDescription": jdesc,
            "YourRef": h.your_ref,
        }));
        if side == Side::Payable {
            f.insert("ApprovalStatus".into(), Value::from(1));
        }
        rows.push(Row {
            set,
            key: Key::Int(h.hid),
            fields: f,
        });
    }
    let (gl_code, gl_desc) = gl_ref(d, gl);
    let last_paid = h.payments.iter().map(|p| p.date).max();
    let fully = outstanding == 0;
    let id = wire::derived_id(h.id, 3);
    let fields = json!({
        "ID": wire::guid(id),
        "Account": wire::guid(h.account),
        "AccountCode": acc_code,
        "AccountName": acc_name,
        "AmountDC": wire::amount(t.incl_dc()),
        "AmountFC": wire::amount(total_fc),
        "Currency": h.currency,
        "Description": h.description,
        "DueDate": wire::date(h.due),
        "EndDate": if fully { last_paid.map_or(Value::Null, wire::date) } else { Value::Null },
        "EntryDate": wire::date(h.date),
        "EntryNumber": h.number,
        "GLAccount": wire::guid(gl),
        "GLAccountCode": gl_code,
        "GLAccountDescription": gl_desc,
        "InvoiceDate": wire::date(h.date),
        "InvoiceNumber": h.number,
        "IsFullyPaid": fully,
        "Journal": jcode,
        "JournalDescription": jdesc,
        "LastPaymentDate": last_paid.map_or(Value::Null, wire::date),
        "LineType": line_type,
        "PaymentCondition": h.payment_condition,
        "PaymentDays": (h.due - h.date).num_days(),
        "PaymentMethod": "B",
        "RateFC": wire::number(h.rate),
        "Status": if fully { 50 } else { 20 },
        "TransactionAmountDC": wire::amount(t.incl_dc()),
        "TransactionAmountFC": wire::amount(total_fc),
        "TransactionDueDate": wire::date(h.due),
        "TransactionEntryID": wire::guid(entry_id),
        "TransactionID": wire::guid(open_tl),
        "TransactionIsReversal": false,
        "TransactionReportingPeriod": h.date.month(),
        "TransactionReportingYear": h.date.year(),
        "TransactionStatus": 50,
        "TransactionType": h.kind,
        "YourRef": h.your_ref,
    });
    rows.push(Row::guid(EntitySet::PaymentTerms, id, wire::obj(fields)));
    rows
}

/// The bank entry of one payment: bank against the receivable/payable account, summing to zero.
pub(crate) fn payment_rows(d: &Division, side: Side, h: &Header, p: &Payment) -> Vec<Row> {
    let nl = d.info.region == crate::sandbox::region::Region::Nl;
    let (open_gl, sign, what) = match side {
        Side::Receivable => (
            d.chart.role(Role::Receivable),
            1,
            if nl {
                "Ontvangst factuur"
            } else {
                "Receipt invoice"
            },
        ),
        Side::Payable => (
            d.chart.role(Role::Payable),
            -1,
            if nl {
                "Betaling factuur"
            } else {
                "Payment invoice"
            },
        ),
    };
    let e = EntryCtx {
        entry_id: p.entry_id,
        entry_number: p.entry_number,
        journal: Journal::Bank,
        date: p.date,
        currency: h.currency.clone(),
        rate: h.rate,
        status: 50,
        kind: 40,
        description: format!("{what} {}", h.number),
        invoice_number: Some(h.number),
        your_ref: h.your_ref.clone(),
        due: None,
    };
    let (fc, dc) = (sign * p.amount_fc, sign * dc_of(p.amount_fc, h.rate));
    let line = |gl, account, fc, dc| TlLine {
        gl,
        account,
        fc,
        dc,
        vat: None,
        description: e.description.clone(),
        quantity: None,
    };
    let lines = [
        line(d.chart.role(Role::Bank), None, fc, dc),
        line(open_gl, Some(h.account), -fc, -dc),
    ];
    transaction_lines(d, &e, &lines)
}
