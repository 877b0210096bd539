//! Mutations: create, update and delete records and record payments, keeping derived rows consistent.
//!
//! Mutable sets: Accounts, Contacts (see `contacts`), GLAccounts, SalesInvoices (with nested SalesInvoiceLines), PurchaseEntries
//! (with nested PurchaseEntryLines) and GeneralJournalEntries (with nested lines); every other set is
//! derived and answers `NotMutable`. Every change stamps `Modified` with the sandbox clock and bumps the
//! rowversion; derived rows are recomputed and diffed, so only rows that really change get a new one.
//! Changing an account's or GL account's name does not rewrite names already copied into documents.

use chrono::NaiveDate;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::chart::gl_type_description;
use super::division::{Division, Row};
use super::docs::{JournalDoc, Payment, PurchaseDoc, SalesDoc};
use super::generate::new_id;
use super::{BooksError, EntitySet, Key, contacts, input, journal, purchase, sales, wire};

fn invalid(msg: impl Into<String>) -> BooksError {
    BooksError::Invalid(msg.into())
}

fn guid_key(key: &Key) -> Result<Uuid, BooksError> {
    match key {
        Key::Guid(id) => Ok(*id),
        Key::Int(_) => Err(BooksError::NoSuchRecord),
    }
}

/// Recomputes and writes every row of a document.
fn refresh_sales(d: &mut Division, doc: SalesDoc) {
    let now = d.now_local();
    let rows = sales::rows(d, &doc);
    d.sync_owned(doc.head.id, rows, now, now);
    d.sales.insert(doc.head.id, doc);
}

fn refresh_purchase(d: &mut Division, doc: PurchaseDoc) {
    let now = d.now_local();
    let rows = purchase::rows(d, &doc);
    d.sync_owned(doc.head.id, rows, now, now);
    d.purchases.insert(doc.head.id, doc);
}

fn refresh_journal(d: &mut Division, doc: JournalDoc) {
    let now = d.now_local();
    let rows = journal::rows(d, &doc);
    d.sync_owned(doc.id, rows, now, now);
    d.journals.insert(doc.id, doc);
}

/// Payments only exist on booked documents and never exceed the total.
fn check_payments(total: i64, paid: i64, booked: bool) -> Result<(), BooksError> {
    if paid != 0 && !booked {
        return Err(invalid("the document has payments; it must stay processed"));
    }
    if paid != 0 && (total.signum() != paid.signum() || paid.abs() > total.abs()) {
        return Err(invalid("the payments exceed the new total"));
    }
    Ok(())
}

pub(crate) fn create(
    d: &mut Division,
    set: EntitySet,
    m: Map<String, Value>,
) -> Result<Key, BooksError> {
    match set {
        EntitySet::Accounts => write_account(d, None, m),
        EntitySet::GLAccounts => write_gl(d, None, m),
        EntitySet::Contacts => contacts::create(d, m),
        EntitySet::SalesInvoices => {
            let account = input::required_account(d, &m, "InvoiceTo")?;
            let head = input::new_header(
                d,
                account,
                "SalesCurrency",
                "PaymentConditionSales",
                20,
                8020,
            );
            let mut doc = SalesDoc {
                head,
                lines: Vec::new(),
            };
            input::apply_sales(d, &mut doc, &m, true)?;
            d.seq.invoice += 1;
            doc.head.number = 10_000 + d.seq.invoice;
            let id = doc.head.id;
            refresh_sales(d, doc);
            Ok(Key::Guid(id))
        }
        EntitySet::PurchaseEntries => {
            let account = input::required_account(d, &m, "Supplier")?;
            let head = input::new_header(
                d,
                account,
                "PurchaseCurrency",
                "PaymentConditionPurchase",
                20,
                30,
            );
            let mut doc = PurchaseDoc {
                head,
                lines: Vec::new(),
            };
            input::apply_purchase(d, &mut doc, &m, true)?;
            d.seq.purchase += 1;
            doc.head.number = 60_000 + d.seq.purchase;
            let id = doc.head.id;
            refresh_purchase(d, doc);
            Ok(Key::Guid(id))
        }
        EntitySet::GeneralJournalEntries => {
            let now = d.now_local();
            let mut doc = JournalDoc {
                id: new_id(&mut d.rng),
                number: 0,
                date: now.date(),
                status: 50,
                kind: 90,
                description: String::new(),
                created: now,
                modified: now,
                lines: Vec::new(),
            };
            input::apply_journal(d, &mut doc, &m, true)?;
            d.seq.journal += 1;
            doc.number = 90_000 + d.seq.journal;
            let id = doc.id;
            refresh_journal(d, doc);
            Ok(Key::Guid(id))
        }
        other => Err(BooksError::NotMutable(other)),
    }
}

pub(crate) fn update(
    d: &mut Division,
    set: EntitySet,
    key: &Key,
    m: Map<String, Value>,
) -> Result<(), BooksError> {
    let id = guid_key(key);
    match set {
        EntitySet::Accounts => write_account(d, Some(id?), m).map(drop),
        EntitySet::GLAccounts => write_gl(d, Some(id?), m).map(drop),
        EntitySet::Contacts => contacts::update(d, id?, m),
        EntitySet::SalesInvoices => {
            let mut doc = d.sales.get(&id?).cloned().ok_or(BooksError::NoSuchRecord)?;
            input::apply_sales(d, &mut doc, &m, false)?;
            check_payments(doc.totals().incl_fc(), doc.head.paid_fc(), doc.is_booked())?;
            doc.head.modified = d.now_local();
            refresh_sales(d, doc);
            Ok(())
        }
        EntitySet::PurchaseEntries => {
            let mut doc = d
                .purchases
                .get(&id?)
                .cloned()
                .ok_or(BooksError::NoSuchRecord)?;
            input::apply_purchase(d, &mut doc, &m, false)?;
            check_payments(doc.totals().incl_fc(), doc.head.paid_fc(), true)?;
            doc.head.modified = d.now_local();
            refresh_purchase(d, doc);
            Ok(())
        }
        EntitySet::GeneralJournalEntries => {
            let mut doc = d
                .journals
                .get(&id?)
                .cloned()
                .ok_or(BooksError::NoSuchRecord)?;
            input::apply_journal(d, &mut doc, &m, false)?;
            doc.modified = d.now_local();
            refresh_journal(d, doc);
            Ok(())
        }
        other => Err(BooksError::NotMutable(other)),
    }
}

pub(crate) fn delete(d: &mut Division, set: EntitySet, key: &Key) -> Result<(), BooksError> {
    let id = guid_key(key);
    match set {
        EntitySet::Accounts => {
            let id = id?;
            d.table(set).get(key).ok_or(BooksError::NoSuchRecord)?;
            let used = d.sales.values().any(|s| s.head.account == id)
                || d.purchases.values().any(|p| p.head.account == id)
                || d.journals
                    .values()
                    .any(|j| j.lines.iter().any(|l| l.account == Some(id)));
            if used {
                return Err(invalid(
                    "the account is used in transactions and cannot be deleted",
                ));
            }
            // Its people go with it, each logged.
            contacts::delete_of(d, id);
            d.remove(set, key);
            Ok(())
        }
        EntitySet::Contacts => contacts::delete(d, id?),
        EntitySet::GLAccounts => {
            let id = id?;
            d.table(set).get(key).ok_or(BooksError::NoSuchRecord)?;
            let used = d.chart.gl.iter().any(|g| g.id == id)
                || d.sales.values().any(|s| s.lines.iter().any(|l| l.gl == id))
                || d.purchases
                    .values()
                    .any(|p| p.lines.iter().any(|l| l.gl == id))
                || d.journals
                    .values()
                    .any(|j| j.lines.iter().any(|l| l.gl == id));
            if used {
                return Err(invalid("the G/L account is in use and cannot be deleted"));
            }
            d.remove(set, key);
            Ok(())
        }
        EntitySet::SalesInvoices => {
            let id = id?;
            d.sales.remove(&id).ok_or(BooksError::NoSuchRecord)?;
            d.drop_owned(id);
            Ok(())
        }
        EntitySet::PurchaseEntries => {
            let id = id?;
            d.purchases.remove(&id).ok_or(BooksError::NoSuchRecord)?;
            d.drop_owned(id);
            Ok(())
        }
        EntitySet::GeneralJournalEntries => {
            let id = id?;
            d.journals.remove(&id).ok_or(BooksError::NoSuchRecord)?;
            d.drop_owned(id);
            Ok(())
        }
        other => Err(BooksError::NotMutable(other)),
    }
}

pub(crate) fn record_payment(
    d: &mut Division,
    set: EntitySet,
    key: &Key,
    amount_fc: f64,
    date: Option<NaiveDate>,
) -> Result<(), BooksError> {
    let id = guid_key(key)?;
    let amount = wire::round_cents(amount_fc * 100.0);
    if amount == 0 {
        return Err(invalid("the payment amount must not be zero"));
    }
    let date = date.unwrap_or_else(|| d.now_local().date());
    d.seq.bank += 1;
    let payment = Payment {
        entry_id: new_id(&mut d.rng),
        entry_number: 200_000 + d.seq.bank,
        date,
        amount_fc: amount,
    };
    match set {
        EntitySet::SalesInvoices => {
            let mut doc = d.sales.get(&id).cloned().ok_or(BooksError::NoSuchRecord)?;
            if !doc.is_booked() {
                return Err(invalid("only processed invoices (Status 50) can be paid"));
            }
            doc.head.payments.push(payment);
            check_payments(doc.totals().incl_fc(), doc.head.paid_fc(), true)?;
            doc.head.modified = d.now_local();
            refresh_sales(d, doc);
            touch_payment_term(d, id);
            Ok(())
        }
        EntitySet::PurchaseEntries => {
            let mut doc = d
                .purchases
                .get(&id)
                .cloned()
                .ok_or(BooksError::NoSuchRecord)?;
            doc.head.payments.push(payment);
            check_payments(doc.totals().incl_fc(), doc.head.paid_fc(), true)?;
            doc.head.modified = d.now_local();
            refresh_purchase(d, doc);
            touch_payment_term(d, id);
            Ok(())
        }
        other => Err(BooksError::NotMutable(other)),
    }
}

/// A payment moves the document's payment term (`sync/Cashflow/PaymentTerms`), as at Exact, even
/// when the term's fields come out the same: that is how a sync client learns the amount due moved.
fn touch_payment_term(d: &mut Division, document: Uuid) {
    let now = d.now_local();
    let term = Key::Guid(super::wire::derived_id(document, 3));
    d.touch(EntitySet::PaymentTerms, &term, now);
}

/// Creates (`id` None) or patches a `crm/Accounts` row. Writable: every field of the row but `ID`.
fn write_account(
    d: &mut Division,
    id: Option<Uuid>,
    m: Map<String, Value>,
) -> Result<Key, BooksError> {
    let (id, mut fields) = match id {
        Some(id) => (
            id,
            d.table(EntitySet::Accounts)
                .get(&Key::Guid(id))
                .ok_or(BooksError::NoSuchRecord)?
                .fields
                .to_map(),
        ),
        None => {
            let name = m
                .get("Name")
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| invalid("Name is required"))?;
            d.seq.account_code += 1;
            let id = new_id(&mut d.rng);
            let is_customer = m.get("IsSupplier") != Some(&Value::Bool(true));
            (id, blank_account(d, id, name, is_customer))
        }
    };
    for (k, v) in m {
        let Some(old) = fields.get(&k) else { continue };
        if k == "ID" || k == "Created" || k == "Modified" || k == "Division" {
            continue;
        }
        let ok = matches!(
            (old, &v),
            (Value::Bool(_), Value::Bool(_))
                | (
                    Value::String(_) | Value::Null,
                    Value::String(_) | Value::Null
                )
        );
        if !ok {
            return Err(invalid(format!("{k}: wrong type")));
        }
        let v = match (k.as_str(), v) {
            ("Code", Value::String(c)) => Value::String(wire::account_code(&c)),
            (_, v) => v,
        };
        fields.insert(k, v);
    }
    let now = d.now_local();
    d.upsert(Row::guid(EntitySet::Accounts, id, fields), now, now);
    Ok(Key::Guid(id))
}

fn blank_account(d: &Division, id: Uuid, name: &str, is_customer: bool) -> Map<String, Value> {
    let mut f = wire::obj(json!({
        "ID": wire::guid(id), "Code": wire::account_code(&d.seq.account_code.to_string()), "Name": name,
        "SearchCode": Value::Null, "Status": if is_customer { "C" } else { "A" }, "Type": "A",
        "IsSales": is_customer, "IsSupplier": !is_customer, "IsPurchase": !is_customer, "Blocked": false,
        "SalesCurrency": d.info.currency, "PurchaseCurrency": d.info.currency, "Country": d.info.country,
        "StartDate": wire::date(d.now_local().date()),
    }));
    for k in [
        "Email",
        "Phone",
        "Website",
        "AddressLine1",
        "AddressLine2",
        "AddressLine3",
        "City",
        "Postcode",
        "State",
        "CountryName",
        "VATNumber",
        "ChamberOfCommerce",
        "SalesVATCode",
        "PurchaseVATCode",
        "PaymentConditionSales",
        "PaymentConditionPurchase",
        "EndDate",
        "MainContact",
    ] {
        f.insert(k.into(), Value::Null);
    }
    f
}

/// Creates or patches a `financial/GLAccounts` row; `Code` must stay unique.
fn write_gl(d: &mut Division, id: Option<Uuid>, m: Map<String, Value>) -> Result<Key, BooksError> {
    let (id, mut fields) = match id {
        Some(id) => (
            id,
            d.table(EntitySet::GLAccounts)
                .get(&Key::Guid(id))
                .ok_or(BooksError::NoSuchRecord)?
                .fields
                .to_map(),
        ),
        None => {
            let id = new_id(&mut d.rng);
            for k in ["Code", "Description"] {
                if !m.get(k).is_some_and(Value::is_string) {
                    return Err(invalid(format!("{k} is required")));
                }
            }
            let f = json!({ "ID": wire::guid(id), "SearchCode": Value::Null, "Type": 90, "BalanceSide": "D", "BalanceType": "B",
                "IsBlocked": false, "VATCode": Value::Null, "Costcenter": Value::Null, "Costunit": Value::Null });
            (id, wire::obj(f))
        }
    };
    for k in [
        "Code",
        "Description",
        "SearchCode",
        "BalanceSide",
        "BalanceType",
        "VATCode",
        "Costcenter",
        "Costunit",
    ] {
        match m.get(k) {
            Some(v @ (Value::String(_) | Value::Null)) => drop(fields.insert(k.into(), v.clone())),
            Some(_) => return Err(invalid(format!("{k}: expected a string"))),
            None => {}
        }
    }
    if let Some(t) = m.get("Type") {
        fields.insert(
            "Type".into(),
            Value::from(
                t.as_i64()
                    .ok_or_else(|| invalid("Type: expected a number"))?,
            ),
        );
    }
    if let Some(b) = m.get("IsBlocked") {
        fields.insert(
            "IsBlocked".into(),
            Value::Bool(
                b.as_bool()
                    .ok_or_else(|| invalid("IsBlocked: expected a boolean"))?,
            ),
        );
    }
    let kind = fields.get("Type").and_then(Value::as_i64).unwrap_or(90);
    fields.insert(
        "TypeDescription".into(),
        Value::from(gl_type_description(kind as i32)),
    );
    let code = fields.get("Code").cloned();
    let clash = d
        .table(EntitySet::GLAccounts)
        .records()
        .any(|r| r.key != Key::Guid(id) && r.fields.value("Code") == code);
    if clash {
        return Err(invalid("Code: a G/L account with this code already exists"));
    }
    let now = d.now_local();
    d.upsert(Row::guid(EntitySet::GLAccounts, id, fields), now, now);
    Ok(Key::Guid(id))
}
