//! The seeded generator: chart, relations and ~18 months of documents for one division.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use uuid::Uuid;

use super::chart::{Chart, Rate, Role};
use super::division::{Division, Row};
use super::docs::{
    Header, JournalDoc, JournalLine, Payment, PurchaseDoc, PurchaseLine, SalesDoc, SalesLine,
};
use super::{
    ANCHOR_DATE, DivisionInfo, DivisionSpec, EntitySet, contacts, journal, names, purchase, sales,
    wire,
};
use crate::sandbox::region::Region;

/// How far back the generated documents go.
const HISTORY_DAYS: i64 = 548;

/// A random GUID from the division's RNG (deterministic, unlike `Uuid::new_v4`).
pub(crate) fn new_id(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid()
}

/// The first day of the generated history.
pub(crate) fn history_start() -> NaiveDate {
    ANCHOR_DATE - Duration::days(HISTORY_DAYS)
}

fn at(date: NaiveDate, rng: &mut ChaCha8Rng) -> NaiveDateTime {
    date.and_time(
        NaiveTime::from_hms_opt(
            rng.gen_range(8..18),
            rng.gen_range(0..60),
            rng.gen_range(0..60),
        )
        .unwrap_or_default(),
    )
}

/// A payment condition: (code, days).
pub(crate) fn condition_days(code: &str) -> i64 {
    code.trim().parse().unwrap_or(30)
}

/// FC→DC rate of a foreign currency in the region, varied slightly per document.
pub(crate) fn base_rate(region: Region, currency: &str) -> f64 {
    match (region, currency) {
        (Region::Nl, "USD") => 0.92,
        (Region::Nl, "GBP") => 1.17,
        (Region::Uk, "EUR") => 0.85,
        (Region::Uk, "USD") => 0.79,
        _ => 1.0,
    }
}

/// Generates one division.
pub(crate) fn division(seed: u64, spec: &DivisionSpec, is_main: bool) -> Division {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (spec.code as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let root = new_id(&mut rng);
    let (country, _) = names::home(spec.region);
    let vat_number = names::vat_number(&mut rng, country);
    // The company's own details come from a stream of their own, so adding one never changes
    // the books generated from `rng`.
    let mut own = ChaCha8Rng::seed_from_u64(seed ^ (spec.code as u64) ^ 0x000C_04DA_71E5);
    let (street, city, postcode) = names::address(&mut own, spec.region);
    let email = names::email(&spec.description, country);
    let info = DivisionInfo {
        code: spec.code,
        region: spec.region,
        description: spec.description.clone(),
        currency: spec.region.currency().to_owned(),
        country: country.to_owned(),
        vat_number,
        hid: i64::from(spec.code),
        is_main,
        chamber_of_commerce: names::chamber(&mut own, spec.region),
        address_line1: street,
        city,
        postcode,
        phone: names::phone(&mut own, spec.region),
        website: format!(
            "https://www.{}",
            email.rsplit('@').next().unwrap_or_default()
        ),
        email,
        created: (history_start() - Duration::days(30))
            .and_time(NaiveTime::from_hms_opt(8, 30, 0).unwrap_or_default()),
        move_date: None,
    };
    let now = ANCHOR_DATE
        .and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default())
        .and_utc();
    let chart = Chart::new(spec.region, root);
    let mut d = Division::new(info, chart, rng, now);
    let setup = (history_start() - Duration::days(30))
        .and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default());
    let code = d.info.code;
    let gl_rows: Vec<Row> = d
        .chart
        .gl
        .iter()
        .map(|g| Row::guid(EntitySet::GLAccounts, g.id, d.chart.gl_fields(g, code)))
        .collect();
    let vat_rows: Vec<Row> = d
        .chart
        .vat
        .iter()
        .map(|v| Row::guid(EntitySet::VATCodes, v.id, d.chart.vat_fields(v, code)))
        .collect();
    let extra_rows = extra_gl_rows(&d, spec.extra_gl_accounts, root);
    for row in gl_rows.into_iter().chain(vat_rows).chain(extra_rows) {
        d.insert(row, setup, setup);
    }
    // The relations' people come from a stream of their own too (see `contacts`).
    let mut people = ChaCha8Rng::seed_from_u64(seed ^ (spec.code as u64) ^ 0x0000_C047_AC75);
    let customers: Vec<Uuid> = (0..spec.customers)
        .map(|i| relation(&mut d, &mut people, true, i, spec.customers, setup))
        .collect();
    let suppliers: Vec<Uuid> = (0..spec.suppliers)
        .map(|i| relation(&mut d, &mut people, false, i, spec.suppliers, setup))
        .collect();
    d.seq.account_code = 90_000;
    let mut docs: Vec<(NaiveDateTime, Doc)> = Vec::new();
    if !customers.is_empty() {
        let mut dates: Vec<NaiveDate> = (0..spec.sales_invoices)
            .map(|_| random_date(&mut d.rng))
            .collect();
        dates.sort();
        // Customers invoiced so far, in the order of their first invoice.
        let mut invoiced: Vec<Uuid> = Vec::new();
        for date in dates {
            let doc = sales_doc(&mut d, &customers, &invoiced, date);
            if !doc.is_credit() && !invoiced.contains(&doc.head.account) {
                invoiced.push(doc.head.account);
            }
            docs.push((doc.head.created, Doc::Sales(doc)));
        }
    }
    if !suppliers.is_empty() {
        let mut dates: Vec<NaiveDate> = (0..spec.purchase_entries)
            .map(|_| random_date(&mut d.rng))
            .collect();
        dates.sort();
        for date in dates {
            let doc = purchase_doc(&mut d, &suppliers, date);
            docs.push((doc.head.created, Doc::Purchase(doc)));
        }
    }
    for i in 0..spec.journal_entries {
        let doc = journal_doc(&mut d, i);
        docs.push((doc.created, Doc::Journal(doc)));
    }
    if let Some(target) = spec.transaction_lines {
        fit_ledger(&d, &mut docs, target);
    }
    // Insert in creation order so rowversions rise with Created, as they would in Exact.
    docs.sort_by_key(|(created, _)| *created);
    for (_, doc) in docs {
        match doc {
            Doc::Sales(s) => {
                let rows = sales::rows(&d, &s);
                d.sync_owned(s.head.id, rows, s.head.created, s.head.modified);
                d.sales.insert(s.head.id, s);
            }
            Doc::Purchase(p) => {
                let rows = purchase::rows(&d, &p);
                d.sync_owned(p.head.id, rows, p.head.created, p.head.modified);
                d.purchases.insert(p.head.id, p);
            }
            Doc::Journal(j) => {
                let rows = journal::rows(&d, &j);
                d.sync_owned(j.id, rows, j.created, j.modified);
                d.journals.insert(j.id, j);
            }
        }
    }
    d
}

enum Doc {
    Sales(SalesDoc),
    Purchase(PurchaseDoc),
    Journal(JournalDoc),
}

impl Doc {
    /// The transaction lines the document posts.
    fn ledger_lines(&self, d: &Division) -> u32 {
        let rows = match self {
            Doc::Sales(s) => sales::rows(d, s),
            Doc::Purchase(p) => purchase::rows(d, p),
            Doc::Journal(j) => journal::rows(d, j),
        };
        rows.iter()
            .filter(|r| r.set == EntitySet::TransactionLines)
            .count() as u32
    }
}

/// `count` cost accounts beside the chart, never posted to: codes `60001`… (five digits, so
/// never one of the chart's), typed as the chart's first expense account.
fn extra_gl_rows(d: &Division, count: u32, root: Uuid) -> Vec<Row> {
    let Some(like) = d.chart.gl.iter().find(|g| g.role == Role::Expense) else {
        return Vec::new();
    };
    let what = match d.info.region {
        Region::Nl => "Overige kosten",
        Region::Uk => "Sundry expenses",
    };
    (0..count)
        .map(|i| {
            let id = wire::derived_id(root, 10_000 + u64::from(i));
            let code = format!("{}", 60_001 + i);
            let fields = wire::obj(json!({
                "ID": wire::guid(id),
                "Code": code,
                "Description": format!("{what} {}", i + 1),
                "SearchCode": code,
                "Type": like.kind,
                "TypeDescription": super::chart::gl_type_description(like.kind),
                "BalanceSide": like.side,
                "BalanceType": like.balance,
                "IsBlocked": false,
                "VATCode": Value::Null,
                "Costcenter": Value::Null,
                "Costunit": Value::Null,
                "Division": d.info.code,
            }));
            Row::guid(EntitySet::GLAccounts, id, fields)
        })
        .collect()
}

/// Leaves processed sales invoices unprocessed (status 20: no entry, no payment) until the
/// documents post `target` transaction lines, or as few above it as they allow: a benchmark's
/// ledger can then be smaller than its invoices would make it. Taken in the order of their ids
/// (random), so that the unprocessed ones are spread over the history.
fn fit_ledger(d: &Division, docs: &mut [(NaiveDateTime, Doc)], target: u32) {
    let mut total: u32 = docs.iter().map(|(_, doc)| doc.ledger_lines(d)).sum();
    let mut order: Vec<(Uuid, usize, u32)> = docs
        .iter()
        .enumerate()
        .filter_map(|(i, (_, doc))| match doc {
            Doc::Sales(s) if s.head.status == 50 => Some((s.head.id, i, doc.ledger_lines(d))),
            _ => None,
        })
        .collect();
    order.sort();
    let mut unprocess = std::collections::BTreeSet::new();
    for &(_, i, lines) in &order {
        // One that would take the ledger below the target stays; a smaller one may fit.
        if total > target && lines > 0 && total - lines >= target {
            unprocess.insert(i);
            total -= lines;
        }
    }
    // Still above (every remaining invoice posts more lines than are over): swap one left
    // processed for one of `gap` lines fewer that was not.
    let gap = total - target.min(total);
    if gap > 0 {
        let left_out: HashMap<u32, usize> = order
            .iter()
            .filter(|(_, i, _)| unprocess.contains(i))
            .map(|&(_, i, lines)| (lines, i))
            .collect();
        let swap = order.iter().find_map(|&(_, i, lines)| {
            let back = left_out.get(&lines.checked_sub(gap)?)?;
            (!unprocess.contains(&i)).then_some((i, *back))
        });
        if let Some((out, back)) = swap {
            unprocess.insert(out);
            unprocess.remove(&back);
        }
    }
    for i in unprocess {
        if let Doc::Sales(s) = &mut docs[i].1 {
            s.head.status = 20;
            s.head.payments.clear();
            s.head.modified = s.head.created;
        }
    }
}

fn random_date(rng: &mut ChaCha8Rng) -> NaiveDate {
    history_start() + Duration::days(rng.gen_range(0..=HISTORY_DAYS))
}

/// Inserts a customer (`is_customer`) or supplier with its contacts (drawn from `people`); about
/// one customer in ten is abroad. As in real books, some relations are both (a customer we also
/// buy from, a supplier we also sell to) and some are blocked; neither choice draws from the RNG,
/// so the rest of the books stay the same.
fn relation(
    d: &mut Division,
    people: &mut ChaCha8Rng,
    is_customer: bool,
    i: u32,
    of: u32,
    created: NaiveDateTime,
) -> Uuid {
    let also_other_role = if is_customer { i % 8 == 4 } else { i % 6 == 5 };
    let (sells, buys) = (
        is_customer || also_other_role,
        !is_customer || also_other_role,
    );
    let blocked = i % 9 == 7;
    let region = d.info.region;
    let rng = &mut d.rng;
    let id = new_id(rng);
    let name = names::company(rng, region);
    let abroad = is_customer && of >= 5 && i % 10 == 9;
    let (country, country_name, currency, city_override) = if abroad {
        let f = names::foreign(region);
        let (c, n, cur, city) = f[(i as usize / 10) % f.len()];
        (c, n, cur, Some(city))
    } else {
        let (c, n) = names::home(region);
        (c, n, region.currency(), None)
    };
    let (street, city, postcode) = names::address(rng, region);
    let code = if is_customer { 10_001 + i } else { 20_001 + i };
    let condition = if rng.gen_bool(0.8) { "30" } else { "14" };
    let code = wire::account_code(&code.to_string());
    let email = names::email(&name, country);
    let people = contacts::generate(
        people,
        region,
        &mut d.seq.contact,
        &contacts::Relation {
            id,
            name: &name,
            code: &code,
            is_customer: sells,
            is_supplier: buys,
            email: &email,
            country,
            index: i,
        },
    );
    let main_contact = people
        .first()
        .map_or(Value::Null, |p| p.fields["ID"].clone());
    let fields = json!({
        "ID": wire::guid(id),
        "Code": code,
        "Name": name,
        "SearchCode": name.chars().filter(|c| c.is_ascii_alphanumeric()).take(10).collect::<String>().to_uppercase(),
        "Status": if sells { "C" } else { "A" },
        "Type": "A",
        "IsSales": sells,
        "IsSupplier": buys,
        "IsPurchase": buys,
        "Blocked": blocked,
        "Email": email,
        "Phone": names::phone(rng, region),
        "Website": Value::Null,
        "AddressLine1": street,
        "AddressLine2": Value::Null,
        "AddressLine3": Value::Null,
        "City": city_override.map_or(city, str::to_owned),
        "Postcode": postcode,
        "State": Value::Null,
        "Country": country,
        "CountryName": country_name,
        "VATNumber": names::vat_number(rng, country),
        "ChamberOfCommerce": if abroad { String::new() } else { names::chamber(rng, region) },
        "SalesCurrency": currency,
        "PurchaseCurrency": region.currency(),
        "SalesVATCode": if sells { Value::String(d.chart.vat_for("S", if abroad { Rate::Zero } else { Rate::High }).code.clone()) } else { Value::Null },
        "PurchaseVATCode": if buys { Value::String(d.chart.vat_for("P", Rate::High).code.clone()) } else { Value::Null },
        "PaymentConditionSales": if sells { Value::from(condition) } else { Value::Null },
        "PaymentConditionPurchase": if buys { Value::from(condition) } else { Value::Null },
        "StartDate": wire::date(created.date()),
        "EndDate": Value::Null,
        "MainContact": main_contact,
    });
    d.insert(
        Row::guid(EntitySet::Accounts, id, wire::obj(fields)),
        created,
        created,
    );
    for person in people {
        d.insert(person, created, created);
    }
    id
}

/// Payments for a booked document: older ones are mostly paid, recent ones mostly open.
fn payments(
    d: &mut Division,
    total_fc: i64,
    date: NaiveDate,
    due: NaiveDate,
    immediate: bool,
) -> Vec<Payment> {
    let rng = &mut d.rng;
    let old = due < ANCHOR_DATE - Duration::days(30);
    let roll: f64 = rng.r#gen();
    let share = if immediate {
        1.0
    } else if old {
        [1.0, 0.5, 0.0][(roll > 0.8) as usize + (roll > 0.9) as usize]
    } else {
        [1.0, 0.5, 0.0][(roll > 0.3) as usize + (roll > 0.45) as usize]
    };
    if share == 0.0 || total_fc == 0 {
        return Vec::new();
    }
    let pay_date = |rng: &mut ChaCha8Rng| {
        (date + Duration::days(if immediate { 0 } else { rng.gen_range(3..60) })).min(ANCHOR_DATE)
    };
    let mut out = Vec::new();
    let first = if share < 1.0 {
        wire::round_cents(total_fc as f64 * rng.gen_range(0.3..0.7))
    } else {
        total_fc
    };
    let (eid, date1) = (new_id(rng), pay_date(rng));
    d.seq.bank += 1;
    out.push(Payment {
        entry_id: eid,
        entry_number: 200_000 + d.seq.bank,
        date: date1,
        amount_fc: first,
    });
    out
}

/// A sales invoice or credit note dated `date`. A credit note credits a customer already
/// invoiced (`invoiced`, in the order of their first invoice): the drawn customer if invoiced,
/// else the latest one invoiced; with nobody invoiced yet the document is an invoice.
fn sales_doc(d: &mut Division, customers: &[Uuid], invoiced: &[Uuid], date: NaiveDate) -> SalesDoc {
    let region = d.info.region;
    let mut customer = customers[d.rng.gen_range(0..customers.len())];
    let rng = &mut d.rng;
    let roll: f64 = rng.r#gen();
    let mut kind = if roll < 0.88 {
        8020
    } else if roll < 0.95 {
        8021
    } else if roll < 0.98 {
        8023
    } else {
        8024
    };
    if matches!(kind, 8021 | 8024) && !invoiced.contains(&customer) {
        match invoiced.last() {
            Some(last) => customer = *last,
            None => kind = if kind == 8021 { 8020 } else { 8023 },
        }
    }
    let currency = d.field_str(EntitySet::Accounts, customer, "SalesCurrency");
    let abroad = d.field_str(EntitySet::Accounts, customer, "Country") != names::home(region).0;
    let rng = &mut d.rng;
    let recent = date > ANCHOR_DATE - Duration::days(30);
    let s: f64 = rng.r#gen();
    let status = if recent {
        if s < 0.7 {
            50
        } else if s < 0.9 {
            20
        } else {
            10
        }
    } else if s < 0.95 {
        50
    } else if s < 0.99 {
        20
    } else {
        10
    };
    let direct = matches!(kind, 8023 | 8024);
    let condition = if direct {
        "00".to_owned()
    } else {
        d.field_str(EntitySet::Accounts, customer, "PaymentConditionSales")
    };
    let base = base_rate(region, &currency);
    let rate = if base == 1.0 {
        1.0
    } else {
        (base * d.rng.gen_range(0.97..1.03) * 10_000.0).round() / 10_000.0
    };
    let sign = if matches!(kind, 8021 | 8024) {
        -1.0
    } else {
        1.0
    };
    let n_lines = [1, 1, 1, 1, 2, 2, 2, 3, 3, 4][d.rng.gen_range(0..10)];
    let lines: Vec<SalesLine> = (0..n_lines)
        .map(|_| {
            let rng = &mut d.rng;
            let (item, desc, price, rate_class) = names::product(rng, region);
            let rate_class = if abroad { Rate::Zero } else { rate_class };
            let vat = d.chart.vat_for("S", rate_class);
            let quantity = if price < 10_000 {
                f64::from(rng.gen_range(1..=40))
            } else {
                f64::from(rng.gen_range(1..=5))
            };
            SalesLine {
                id: new_id(rng),
                item_code: item.to_owned(),
                description: desc.to_owned(),
                quantity: sign * quantity,
                unit_price: price,
                discount: if rng.gen_bool(0.15) { 0.1 } else { 0.0 },
                vat: vat.code.clone(),
                vat_pct: vat.pct,
                gl: d.chart.revenue(rate_class),
            }
        })
        .collect();
    d.seq.invoice += 1;
    let number = 10_000 + d.seq.invoice;
    let id = new_id(&mut d.rng);
    let created = at(date, &mut d.rng);
    let due = date + Duration::days(condition_days(&condition));
    let what = if region == Region::Nl {
        "Factuur"
    } else {
        "Invoice"
    };
    let description = format!(
        "{what} {} {}",
        names::month(region, chrono::Datelike::month(&date)),
        chrono::Datelike::year(&date)
    );
    let your_ref = if d.rng.gen_bool(0.4) {
        format!("PO-{}", d.rng.gen_range(1000..99999))
    } else {
        String::new()
    };
    let hid = d.next_hid();
    let mut doc = SalesDoc {
        head: Header {
            id,
            number,
            account: customer,
            date,
            due,
            currency,
            rate,
            status,
            kind,
            description,
            your_ref,
            payment_condition: condition,
            hid,
            created,
            modified: created,
            payments: vec![],
        },
        lines,
    };
    if status == 50 {
        doc.head.payments = payments(d, doc.totals().incl_fc(), date, due, direct);
        if let Some(last) = doc.head.payments.iter().map(|p| p.date).max() {
            doc.head.modified = doc
                .head
                .modified
                .max(last.and_time(NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default()));
        }
    }
    doc
}

fn purchase_doc(d: &mut Division, suppliers: &[Uuid], date: NaiveDate) -> PurchaseDoc {
    let region = d.info.region;
    let supplier = suppliers[d.rng.gen_range(0..suppliers.len())];
    let condition = d.field_str(EntitySet::Accounts, supplier, "PaymentConditionPurchase");
    let mut gls = d.chart.all(Role::Expense);
    gls.push(d.chart.role(Role::CostOfSales));
    let kind = if d.rng.gen_bool(0.05) { 31 } else { 30 };
    let recent = date > ANCHOR_DATE - Duration::days(45);
    let status = if d.rng.gen_bool(if recent { 0.5 } else { 0.9 }) {
        50
    } else {
        20
    };
    let sign = if kind == 31 { -1 } else { 1 };
    let n_lines = d.rng.gen_range(1..=3);
    let lines: Vec<PurchaseLine> = (0..n_lines)
        .map(|_| {
            let gl = gls[d.rng.gen_range(0..gls.len())];
            let r: f64 = d.rng.r#gen();
            let vat = d.chart.vat_for(
                "P",
                if r < 0.8 {
                    Rate::High
                } else if r < 0.9 {
                    Rate::Low
                } else {
                    Rate::Zero
                },
            );
            let desc = d.field_str(EntitySet::GLAccounts, gl, "Description");
            PurchaseLine {
                id: new_id(&mut d.rng),
                description: format!(
                    "{desc} {}",
                    names::month(region, chrono::Datelike::month(&date))
                ),
                gl,
                amount_fc: sign * d.rng.gen_range(2_000..250_000),
                quantity: 1.0,
                vat: vat.code.clone(),
                vat_pct: vat.pct,
            }
        })
        .collect();
    d.seq.purchase += 1;
    let number = 60_000 + d.seq.purchase;
    let id = new_id(&mut d.rng);
    let created = at(date, &mut d.rng);
    let due = date + Duration::days(condition_days(&condition));
    let your_ref = format!("INV-{}", d.rng.gen_range(10_000..999_999));
    let description = lines
        .first()
        .map(|l| l.description.clone())
        .unwrap_or_default();
    let hid = d.next_hid();
    let mut doc = PurchaseDoc {
        head: Header {
            id,
            number,
            account: supplier,
            date,
            due,
            currency: region.currency().to_owned(),
            rate: 1.0,
            status,
            kind,
            description,
            your_ref,
            payment_condition: condition,
            hid,
            created,
            modified: created,
            payments: vec![],
        },
        lines,
    };
    doc.head.payments = payments(d, doc.totals().incl_fc(), date, due, false);
    if let Some(last) = doc.head.payments.iter().map(|p| p.date).max() {
        doc.head.modified = doc
            .head
            .modified
            .max(last.and_time(NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default()));
    }
    doc
}

/// Entry 0 is the opening balance; the others are wages, depreciation and interest bookings.
fn journal_doc(d: &mut Division, i: u32) -> JournalDoc {
    let region = d.info.region;
    let nl = region == Region::Nl;
    let c = &d.chart;
    let (date, kind, description, pairs): (NaiveDate, i32, String, Vec<(Uuid, i64)>) = if i == 0 {
        let bank = d.rng.gen_range(2_000_000..8_000_000);
        let assets = d.rng.gen_range(1_000_000..5_000_000);
        let capital = 1_800_000;
        let loan = (bank + assets) / 3;
        let lines = vec![
            (c.role(Role::Bank), bank),
            (c.role(Role::FixedAssets), assets),
            (c.role(Role::Capital), -capital),
            (c.role(Role::Loan), -loan),
            (c.role(Role::Retained), -(bank + assets - capital - loan)),
        ];
        (
            history_start(),
            10,
            (if nl { "Beginbalans" } else { "Opening balance" }).to_owned(),
            lines,
        )
    } else {
        let date = random_date(&mut d.rng);
        let amount = d.rng.gen_range(50_000..1_500_000);
        let month = names::month(region, chrono::Datelike::month(&date));
        let (debit, credit, what) = match i % 3 {
            0 => (
                c.role(Role::Wages),
                c.role(Role::Bank),
                if nl { "Salarissen" } else { "Salaries" },
            ),
            1 => (
                c.role(Role::Depreciation),
                c.role(Role::AccumDepreciation),
                if nl { "Afschrijving" } else { "Depreciation" },
            ),
            _ => (
                c.role(Role::Bank),
                c.role(Role::Interest),
                if nl { "Rente" } else { "Interest" },
            ),
        };
        (
            date,
            90,
            format!("{what} {month}"),
            vec![(debit, amount), (credit, -amount)],
        )
    };
    let lines = pairs
        .into_iter()
        .map(|(gl, amount)| JournalLine {
            id: new_id(&mut d.rng),
            gl,
            account: None,
            amount,
            description: description.clone(),
        })
        .collect();
    d.seq.journal += 1;
    let created = at(date, &mut d.rng);
    let status = if date > ANCHOR_DATE - Duration::days(20) {
        20
    } else {
        50
    };
    JournalDoc {
        id: new_id(&mut d.rng),
        number: 90_000 + d.seq.journal,
        date,
        status,
        kind,
        description,
        created,
        modified: created,
        lines,
    }
}
