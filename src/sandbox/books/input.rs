//! Applies a create/update body in Exact's wire form to a source document, validating it.
//!
//! Writable header fields are applied; computed and read-only fields (numbers, amounts, names,
//! descriptions of codes) are ignored, as they are derived. A nested line collection
//! (`SalesInvoiceLines`, `PurchaseEntryLines`, `GeneralJournalEntryLines`, bare array or
//! `{"results": […]}`) replaces all lines; a line that names an existing line `ID` keeps it.

use chrono::{Duration, NaiveDate};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::chart::Rate;
use super::division::Division;
use super::docs::{
    Header, JournalDoc, JournalLine, PurchaseDoc, PurchaseLine, SalesDoc, SalesLine,
};
use super::generate::{base_rate, condition_days, new_id};
use super::{BooksError, EntitySet, Key, wire};

fn invalid(msg: impl Into<String>) -> BooksError {
    BooksError::Invalid(msg.into())
}

fn get_str(m: &Map<String, Value>, k: &str) -> Result<Option<String>, BooksError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("{k}: expected a string"))),
    }
}

fn get_i32(m: &Map<String, Value>, k: &str, allowed: &[i32]) -> Result<Option<i32>, BooksError> {
    let Some(v) = m.get(k).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let n = v
        .as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
    match n.and_then(|n| i32::try_from(n).ok()) {
        Some(n) if allowed.contains(&n) => Ok(Some(n)),
        _ => Err(invalid(format!("{k}: expected one of {allowed:?}"))),
    }
}

fn get_f64(m: &Map<String, Value>, k: &str) -> Result<Option<f64>, BooksError> {
    let Some(v) = m.get(k).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|f: &f64| f.is_finite())
        .map(Some)
        .ok_or_else(|| invalid(format!("{k}: expected a number")))
}

fn get_cents(m: &Map<String, Value>, k: &str) -> Result<Option<i64>, BooksError> {
    Ok(get_f64(m, k)?.map(|f| wire::round_cents(f * 100.0)))
}

fn get_date(m: &Map<String, Value>, k: &str) -> Result<Option<NaiveDate>, BooksError> {
    let Some(v) = m.get(k).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    wire::parse_datetime(v)
        .map(|t| Some(t.date()))
        .ok_or_else(|| invalid(format!("{k}: expected /Date(ms)/ or yyyy-mm-dd")))
}

fn get_guid(m: &Map<String, Value>, k: &str) -> Result<Option<Uuid>, BooksError> {
    let Some(v) = m.get(k).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    wire::parse_guid(v)
        .map(Some)
        .ok_or_else(|| invalid(format!("{k}: expected a GUID")))
}

/// An existing account GUID from a field.
fn get_account(d: &Division, m: &Map<String, Value>, k: &str) -> Result<Option<Uuid>, BooksError> {
    match get_guid(m, k)? {
        Some(id) if d.table(EntitySet::Accounts).get(&Key::Guid(id)).is_none() => {
            Err(invalid(format!("{k}: no such account")))
        }
        other => Ok(other),
    }
}

/// An existing GL account GUID from a field.
fn get_gl(d: &Division, m: &Map<String, Value>, k: &str) -> Result<Option<Uuid>, BooksError> {
    match get_guid(m, k)? {
        Some(id) if d.table(EntitySet::GLAccounts).get(&Key::Guid(id)).is_none() => {
            Err(invalid(format!("{k}: no such GL account")))
        }
        other => Ok(other),
    }
}

/// The nested line objects, if the body has them.
fn lines_of<'a>(
    m: &'a Map<String, Value>,
    k: &str,
) -> Result<Option<Vec<&'a Map<String, Value>>>, BooksError> {
    let arr = match m.get(k) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(a)) => a,
        Some(Value::Object(o)) => match o.get("results") {
            Some(Value::Array(a)) => a,
            _ => return Err(invalid(format!("{k}: expected an array"))),
        },
        Some(_) => return Err(invalid(format!("{k}: expected an array"))),
    };
    let lines: Option<Vec<_>> = arr.iter().map(Value::as_object).collect();
    let lines = lines.ok_or_else(|| invalid(format!("{k}: expected objects")))?;
    if lines.is_empty() {
        return Err(invalid(format!("{k}: at least one line is required")));
    }
    Ok(Some(lines))
}

/// Keeps a line's ID when the body names one of the document's existing lines.
fn line_id(
    d: &mut Division,
    m: &Map<String, Value>,
    existing: &[Uuid],
) -> Result<Uuid, BooksError> {
    Ok(match get_guid(m, "ID")? {
        Some(id) if existing.contains(&id) => id,
        _ => new_id(&mut d.rng),
    })
}

/// Applies the header fields shared by sales and purchases.
#[allow(clippy::too_many_arguments)]
fn apply_header(
    d: &Division,
    h: &mut Header,
    m: &Map<String, Value>,
    account_field: &str,
    date_field: &str,
    statuses: &[i32],
    kinds: &[i32],
    creating: bool,
) -> Result<(), BooksError> {
    let mut redate = creating;
    if let Some(a) = get_account(d, m, account_field)? {
        h.account = a;
    }
    if let Some(date) = get_date(m, date_field)? {
        h.date = date;
        redate = true;
    }
    if let Some(c) = get_str(m, "PaymentCondition")? {
        h.payment_condition = c;
        redate = true;
    }
    match get_date(m, "DueDate")? {
        Some(due) => h.due = due,
        None if redate => h.due = h.date + Duration::days(condition_days(&h.payment_condition)),
        None => {}
    }
    if let Some(c) = get_str(m, "Currency")? {
        let c = c.trim().to_uppercase();
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid("Currency: expected an ISO code"));
        }
        h.rate = base_rate(d.info.region, &c);
        h.currency = c;
    }
    if let Some(s) = get_i32(m, "Status", statuses)? {
        h.status = s;
    }
    if let Some(k) = get_i32(m, "Type", kinds)? {
        h.kind = k;
    }
    if let Some(s) = get_str(m, "Description")? {
        h.description = s;
    }
    if let Some(s) = get_str(m, "YourRef")? {
        h.your_ref = s;
    }
    Ok(())
}

/// A blank header for a new document of `account`, dated today on the sandbox clock.
pub(crate) fn new_header(
    d: &mut Division,
    account: Uuid,
    currency_field: &str,
    condition_field: &str,
    status: i32,
    kind: i32,
) -> Header {
    let now = d.now_local();
    let currency = Some(d.field_str(EntitySet::Accounts, account, currency_field))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| d.info.currency.clone());
    let condition = Some(d.field_str(EntitySet::Accounts, account, condition_field))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "30".into());
    let hid = d.next_hid();
    Header {
        id: new_id(&mut d.rng),
        number: 0,
        account,
        date: now.date(),
        due: now.date(),
        rate: base_rate(d.info.region, &currency),
        currency,
        status,
        kind,
        description: String::new(),
        your_ref: String::new(),
        payment_condition: condition,
        hid,
        created: now,
        modified: now,
        payments: Vec::new(),
    }
}

/// The account named by a create body (required).
pub(crate) fn required_account(
    d: &Division,
    m: &Map<String, Value>,
    k: &str,
) -> Result<Uuid, BooksError> {
    get_account(d, m, k)?.ok_or_else(|| invalid(format!("{k} is required")))
}

/// Applies a body to a sales invoice.
pub(crate) fn apply_sales(
    d: &mut Division,
    doc: &mut SalesDoc,
    m: &Map<String, Value>,
    creating: bool,
) -> Result<(), BooksError> {
    apply_header(
        d,
        &mut doc.head,
        m,
        "InvoiceTo",
        "InvoiceDate",
        &[10, 20, 50],
        &[8020, 8021, 8023, 8024],
        creating,
    )?;
    let Some(lines) = lines_of(m, "SalesInvoiceLines")? else {
        return if creating {
            Err(invalid("SalesInvoiceLines: at least one line is required"))
        } else {
            Ok(())
        };
    };
    let existing: Vec<Uuid> = doc.lines.iter().map(|l| l.id).collect();
    let default_vat = Some(d.field_str(EntitySet::Accounts, doc.head.account, "SalesVATCode"))
        .filter(|c| !c.trim().is_empty());
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        let vat_code = get_str(l, "VATCode")?
            .or_else(|| default_vat.clone())
            .unwrap_or_else(|| d.chart.vat_for("S", Rate::High).code.clone());
        let vat = d
            .chart
            .vat_by_code(&vat_code)
            .filter(|v| v.tx == "S")
            .ok_or_else(|| invalid("VATCode: no such sales VAT code"))?
            .clone();
        let quantity = get_f64(l, "Quantity")?.unwrap_or(1.0);
        let unit_price = match (get_cents(l, "UnitPrice")?, get_cents(l, "AmountFC")?) {
            (Some(p), _) => p,
            (None, Some(a)) if quantity != 0.0 => wire::round_cents(a as f64 / quantity),
            _ => return Err(invalid("SalesInvoiceLines: UnitPrice is required")),
        };
        out.push(SalesLine {
            id: line_id(d, l, &existing)?,
            item_code: get_str(l, "ItemCode")?.unwrap_or_default(),
            description: get_str(l, "Description")?.unwrap_or_default(),
            quantity,
            unit_price,
            discount: get_f64(l, "Discount")?.unwrap_or(0.0),
            gl: get_gl(d, l, "GLAccount")?.unwrap_or_else(|| d.chart.revenue(vat.rate)),
            vat: vat.code,
            vat_pct: vat.pct,
        });
    }
    doc.lines = out;
    Ok(())
}

/// Applies a body to a purchase entry.
pub(crate) fn apply_purchase(
    d: &mut Division,
    doc: &mut PurchaseDoc,
    m: &Map<String, Value>,
    creating: bool,
) -> Result<(), BooksError> {
    apply_header(
        d,
        &mut doc.head,
        m,
        "Supplier",
        "EntryDate",
        &[20, 50],
        &[30, 31],
        creating,
    )?;
    let Some(lines) = lines_of(m, "PurchaseEntryLines")? else {
        return if creating {
            Err(invalid("PurchaseEntryLines: at least one line is required"))
        } else {
            Ok(())
        };
    };
    let existing: Vec<Uuid> = doc.lines.iter().map(|l| l.id).collect();
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        let vat = match get_str(l, "VATCode")? {
            Some(c) => d
                .chart
                .vat_by_code(&c)
                .filter(|v| v.tx == "P")
                .ok_or_else(|| invalid("VATCode: no such purchase VAT code"))?,
            None => d.chart.vat_for("P", Rate::High),
        }
        .clone();
        out.push(PurchaseLine {
            id: line_id(d, l, &existing)?,
            description: get_str(l, "Description")?.unwrap_or_default(),
            gl: get_gl(d, l, "GLAccount")?
                .ok_or_else(|| invalid("PurchaseEntryLines: GLAccount is required"))?,
            amount_fc: get_cents(l, "AmountFC")?
                .ok_or_else(|| invalid("PurchaseEntryLines: AmountFC is required"))?,
            quantity: get_f64(l, "Quantity")?.unwrap_or(1.0),
            vat: vat.code,
            vat_pct: vat.pct,
        });
    }
    doc.lines = out;
    Ok(())
}

/// Applies a body to a journal entry; its lines must sum to zero.
pub(crate) fn apply_journal(
    d: &mut Division,
    doc: &mut JournalDoc,
    m: &Map<String, Value>,
    creating: bool,
) -> Result<(), BooksError> {
    if let Some(s) = get_i32(m, "Status", &[20, 50])? {
        doc.status = s;
    }
    if let Some(k) = get_i32(m, "Type", &[10, 90])? {
        doc.kind = k;
    }
    if let Some(s) = get_str(m, "Description")? {
        doc.description = s;
    }
    if let Some(date) = get_date(m, "Date")? {
        doc.date = date;
    }
    let Some(lines) = lines_of(m, "GeneralJournalEntryLines")? else {
        return if creating {
            Err(invalid(
                "GeneralJournalEntryLines: at least one line is required",
            ))
        } else {
            Ok(())
        };
    };
    if let (false, Some(date)) = (m.contains_key("Date"), get_date(lines[0], "Date")?) {
        doc.date = date;
    }
    let existing: Vec<Uuid> = doc.lines.iter().map(|l| l.id).collect();
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        let amount = match get_cents(l, "AmountFC")? {
            Some(a) => a,
            None => get_cents(l, "AmountDC")?
                .ok_or_else(|| invalid("GeneralJournalEntryLines: AmountFC is required"))?,
        };
        out.push(JournalLine {
            id: line_id(d, l, &existing)?,
            gl: get_gl(d, l, "GLAccount")?
                .ok_or_else(|| invalid("GeneralJournalEntryLines: GLAccount is required"))?,
            account: get_account(d, l, "Account")?,
            amount,
            description: get_str(l, "Description")?.unwrap_or_else(|| doc.description.clone()),
        });
    }
    if out.iter().map(|l| l.amount).sum::<i64>() != 0 {
        return Err(invalid(
            "GeneralJournalEntryLines: debit and credit do not balance",
        ));
    }
    doc.lines = out;
    Ok(())
}
