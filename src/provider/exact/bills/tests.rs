//! The bill mapping on transaction lines shaped like Exact's sync answers (EXACT.md §7: `/Date()/`
//! local times, padded codes, debit positive), NL and UK; properties over random bills.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::*;
use crate::provider::exact::invoices::{VatCodeRow, vat_code};
use crate::provider::exact::row;

const SUPPLIER: &str = "5e0c2a1b-7d3f-4b9e-8a6c-1f2e3d4c5b6a";
const PAYABLE_GL: &str = "a1000000-0000-4000-8000-000000001600";
const COST_GL: &str = "a1000000-0000-4000-8000-000000004000";
const VAT_GL: &str = "a1000000-0000-4000-8000-000000001520";

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
    row::parse(value).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A division's VAT codes as `vat/VATCodes` gives them, and the GL accounts VAT is booked on.
fn vat(region: &str) -> (HashMap<String, VatCode>, BTreeSet<String>) {
    let codes = if region == "nl" {
        vec![
            ("IH ", "BTW inkopen hoog 21%", 0.21),
            ("IL ", "BTW inkopen laag 9%", 0.09),
        ]
    } else {
        vec![
            ("PS ", "Standard rated purchases 20%", 0.2),
            ("PZ ", "Zero rated purchases", 0.0),
        ]
    };
    let rows: Vec<VatCodeRow> = codes
        .into_iter()
        .map(|(code, description, pct)| {
            typed(
                json!({"Code": code, "Description": description, "Percentage": pct,
                         "GLToPay": VAT_GL, "GLToClaim": VAT_GL}),
            )
        })
        .collect();
    let accounts = rows
        .iter()
        .flat_map(|r| r.gl_to_pay.iter().chain(&r.gl_to_claim).cloned())
        .collect();
    let codes = rows
        .into_iter()
        .filter_map(vat_code)
        .map(|v| (v.code.clone(), v))
        .collect();
    (codes, accounts)
}

/// One `sync/Financial/TransactionLines` row of purchase entry `entry` (number 60001, journal 60).
fn line(
    entry: &str,
    n: i64,
    gl: &str,
    fc: f64,
    vat_fc: f64,
    vat_code: Option<&str>,
    currency: &str,
) -> Value {
    json!({
        "__metadata": {"uri": "…", "type": "Exact.Web.Api.Models.Sync.Financial.TransactionLine"},
        "Timestamp": "8812734",
        "ID": format!("00000000-0000-4000-8000-0000000000{n:02}"),
        "EntryID": entry,
        "EntryNumber": 60001,
        "LineNumber": n,
        "JournalCode": "60 ",
        "JournalDescription": "Inkoopboek",
        "Date": "/Date(1736899200000)/",
        "DueDate": "/Date(1739491200000)/",
        "GLAccount": gl,
        "GLAccountDescription": if gl == COST_GL { "Kantoorkosten" } else { "Crediteuren" },
        "Account": SUPPLIER,
        "AccountName": "Kantoorhandel Jansen",
        "AmountDC": fc,
        "AmountFC": fc,
        "AmountVATFC": vat_fc,
        "Currency": currency,
        "ExchangeRate": 1.0,
        "VATCode": vat_code,
        "VATPercentage": 0.21,
        "Description": "Kantoorartikelen januari",
        "InvoiceNumber": 60001,
        "YourRef": "INV-2025-0117",
        "Quantity": if gl == COST_GL { json!(2.0) } else { Value::Null },
        "CostCenter": null,
        "Status": 50,
        "Type": 30,
        "Created": "/Date(1736935920000)/",
        "Modified": "/Date(1736935920000)/",
    })
}

fn rows(values: Vec<Value>) -> Vec<TransactionLineRow> {
    values.into_iter().map(typed).collect()
}

fn payables(amount: Option<f64>) -> HashMap<String, Decimal> {
    let rows: Vec<PayableRow> = amount
        .into_iter()
        .map(|a| typed(json!({"HID": 4711, "JournalCode": "60 ", "EntryNumber": 60001, "Amount": a, "CurrencyCode": "EUR"})))
        .collect();
    outstanding_by_entry(&rows)
}

#[test]
fn an_nl_purchase_entry_partly_paid_is_a_partially_paid_bill() {
    let (codes, accounts) = vat("nl");
    let outstanding = payables(Some(100.0));
    let ctx = BillContext {
        division_currency: "EUR",
        vat_codes: &codes,
        vat_accounts: &accounts,
        outstanding: &outstanding,
    };
    let entry = "9b2f0c1d-3e4a-4b5c-8d6e-7f8091a2b3c4";
    let bill = map_bill(
        &rows(vec![
            line(entry, 0, PAYABLE_GL, -363.0, 0.0, None, "EUR"),
            line(entry, 1, COST_GL, 200.0, 42.0, Some("IH "), "EUR"),
            line(entry, 2, COST_GL, 100.0, 21.0, Some("IH "), "EUR"),
            line(entry, 3, VAT_GL, 63.0, 63.0, Some("IH "), "EUR"),
        ]),
        &ctx,
    )
    .unwrap();
    assert_eq!(bill.id, entry);
    assert_eq!(bill.reference.as_deref(), Some("INV-2025-0117"));
    assert_eq!(bill.supplier_ref.as_ref().unwrap().id, SUPPLIER);
    assert_eq!(bill.issue_date, "2025-01-15T00:00:00");
    assert_eq!(bill.due_date.as_deref(), Some("2025-02-14T00:00:00"));
    assert_eq!(
        (bill.sub_total, bill.tax_amount, bill.total_amount),
        (dec("300"), dec("63"), dec("363"))
    );
    assert_eq!(bill.amount_due, dec("100"));
    assert_eq!(bill.status, BillStatus::PartiallyPaid);
    assert_eq!(bill.currency_rate, Some(Decimal::ONE));
    assert_eq!(bill.line_items.len(), 2, "the VAT line is no line item");
    let first = &bill.line_items[0];
    assert_eq!((first.quantity, first.unit_amount), (dec("2"), dec("100")));
    assert_eq!(first.total_amount, Some(dec("242")));
    assert_eq!(
        first.account_ref.as_ref().unwrap().id.as_deref(),
        Some(COST_GL)
    );
    let rate = first.tax_rate_ref.as_ref().unwrap();
    assert_eq!(
        (rate.id.as_deref(), rate.effective_tax_rate),
        (Some("IH"), Some(dec("21")))
    );
    assert_eq!(first.line_number.as_deref(), Some("1"));
}

#[test]
fn a_uk_purchase_entry_is_open_when_all_is_owed_and_paid_when_nothing_is() {
    let (codes, accounts) = vat("uk");
    let entry = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    let lines = rows(vec![
        line(entry, 0, PAYABLE_GL, -120.0, 0.0, None, "GBP"),
        line(entry, 1, COST_GL, 100.0, 20.0, Some("PS "), "GBP"),
        line(entry, 2, VAT_GL, 20.0, 20.0, Some("PS "), "GBP"),
    ]);
    for (owed, status, due) in [
        (Some(120.0), BillStatus::Open, "120"),
        (None, BillStatus::Paid, "0"),
        (Some(500.0), BillStatus::Open, "120"),
    ] {
        let outstanding = payables(owed);
        let ctx = BillContext {
            division_currency: "GBP",
            vat_codes: &codes,
            vat_accounts: &accounts,
            outstanding: &outstanding,
        };
        let bill = map_bill(&lines, &ctx).unwrap();
        assert_eq!(
            (bill.status, bill.amount_due),
            (status, dec(due)),
            "{owed:?}"
        );
        assert_eq!(bill.currency, "GBP");
        assert_eq!(
            bill.line_items[0]
                .tax_rate_ref
                .as_ref()
                .unwrap()
                .effective_tax_rate,
            Some(dec("20"))
        );
    }
}

#[test]
fn a_bill_in_a_foreign_currency_has_the_rate_of_its_booked_amounts() {
    let (codes, accounts) = vat("nl");
    let outstanding = HashMap::new();
    let ctx = BillContext {
        division_currency: "EUR",
        vat_codes: &codes,
        vat_accounts: &accounts,
        outstanding: &outstanding,
    };
    let entry = "3c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    let mut cost = line(entry, 1, COST_GL, 100.0, 21.0, Some("IH "), "USD");
    cost["AmountDC"] = json!(92.5);
    let bill = map_bill(
        &rows(vec![
            line(entry, 0, PAYABLE_GL, -121.0, 0.0, None, "USD"),
            cost,
        ]),
        &ctx,
    )
    .unwrap();
    assert_eq!(bill.currency, "USD");
    assert_eq!(bill.currency_rate, Some(dec("0.925")));
    assert_eq!(bill.status, BillStatus::Paid, "nothing in the payables");
}

#[test]
fn a_purchase_credit_note_is_no_bill_and_an_unknown_status_is_unknown() {
    let entry = "2c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    let mut values = vec![
        line(entry, 0, PAYABLE_GL, 121.0, 0.0, None, "EUR"),
        line(entry, 1, COST_GL, -100.0, -21.0, Some("IH "), "EUR"),
    ];
    for v in &mut values {
        v["Type"] = json!(31);
    }
    assert!(!is_bill(&rows(values.clone())));
    for v in &mut values {
        v["Type"] = json!(30);
        v["Status"] = json!(99);
    }
    let (codes, accounts) = vat("nl");
    let outstanding = HashMap::new();
    let ctx = BillContext {
        division_currency: "EUR",
        vat_codes: &codes,
        vat_accounts: &accounts,
        outstanding: &outstanding,
    };
    let lines = rows(values);
    assert!(is_bill(&lines));
    assert_eq!(map_bill(&lines, &ctx).unwrap().status, BillStatus::Unknown);
}

/// Random NL and UK bills with random payments: 0 ≤ amountDue ≤ totalAmount, totalAmount =
/// subTotal + taxAmount = the creditor line, the status inside Codat's list and consistent.
#[test]
fn property_amount_due_within_total_and_totals_add_up() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for i in 0..400 {
        let region = if i % 2 == 0 { "nl" } else { "uk" };
        let (codes, accounts) = vat(region);
        let code = if region == "nl" { "IH " } else { "PS " };
        let pct = if region == "nl" { 21 } else { 20 };
        let entry = format!("00000000-0000-4000-8000-{i:012}");
        let mut values = vec![];
        let (mut net, mut tax) = (0i64, 0i64);
        for n in 1..=rng.gen_range(1..4) {
            let cents: i64 = rng.gen_range(100..500_000);
            let vat_cents = cents * pct / 100;
            net += cents;
            tax += vat_cents;
            values.push(line(
                &entry,
                n,
                COST_GL,
                cents as f64 / 100.0,
                vat_cents as f64 / 100.0,
                Some(code),
                "EUR",
            ));
        }
        values.push(line(
            &entry,
            9,
            VAT_GL,
            tax as f64 / 100.0,
            tax as f64 / 100.0,
            Some(code),
            "EUR",
        ));
        values.insert(
            0,
            line(
                &entry,
                0,
                PAYABLE_GL,
                -((net + tax) as f64) / 100.0,
                0.0,
                None,
                "EUR",
            ),
        );
        let owed = match rng.gen_range(0..4) {
            0 => None,
            1 => Some((net + tax) as f64 / 100.0),
            2 => Some(rng.gen_range(1..(net + tax)) as f64 / 100.0),
            _ => Some(-5.0),
        };
        let outstanding = payables(owed);
        let ctx = BillContext {
            division_currency: "EUR",
            vat_codes: &codes,
            vat_accounts: &accounts,
            outstanding: &outstanding,
        };
        let lines = rows(values);
        let bill = map_bill(&lines, &ctx).unwrap();
        assert!(
            bill.amount_due >= Decimal::ZERO && bill.amount_due <= bill.total_amount,
            "{bill:?}"
        );
        assert_eq!(bill.total_amount, bill.sub_total + bill.tax_amount);
        assert_eq!(
            -bill.total_amount,
            lines[0].amount_fc.unwrap(),
            "the creditor line"
        );
        assert!(BillStatus::ALL.contains(&bill.status));
        let expected = BillStatus::from_amount_due(bill.amount_due, bill.total_amount);
        assert_eq!(bill.status, expected);
        let line_sum: Decimal = bill.line_items.iter().filter_map(|l| l.total_amount).sum();
        assert_eq!(
            line_sum, bill.total_amount,
            "the lines carry the whole bill"
        );
    }
}
