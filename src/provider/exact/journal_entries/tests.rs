//! The journal entry mapping on transaction lines shaped like Exact's sync answers (EXACT.md §7),
//! NL and UK; the property that every entry balances.

use std::collections::HashMap;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::*;
use crate::model::ContactType;
use crate::provider::exact::row;

const CUSTOMER: &str = "3ba9d1d4-1e8a-4f5a-9e3c-0c0e2f1a7b11";
const INVOICE: &str = "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6";

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// One `sync/Financial/TransactionLines` row.
#[allow(clippy::too_many_arguments)]
fn line(
    entry: &str,
    kind: i64,
    journal: &str,
    n: i64,
    gl: &str,
    fc: f64,
    dc: f64,
    currency: &str,
    account: Option<&str>,
) -> Value {
    json!({
        "__metadata": {"uri": "…", "type": "Exact.Web.Api.Models.Sync.Financial.TransactionLine"},
        "Timestamp": "8812734",
        "ID": format!("00000000-0000-4000-8000-0000000000{n:02}"),
        "EntryID": entry,
        "EntryNumber": 1042,
        "LineNumber": n,
        "JournalCode": journal,
        "JournalDescription": format!("Journal {}", journal.trim()),
        "Date": "/Date(1736899200000)/",
        "GLAccount": gl,
        "GLAccountDescription": "Some account",
        "Account": account,
        "AccountName": account.map(|_| "Bakkerij de Vries"),
        "AmountDC": dc,
        "AmountFC": fc,
        "Currency": currency,
        "Description": format!("Line {n}"),
        "InvoiceNumber": if kind == 20 { json!(1042) } else { Value::Null },
        "Status": 50,
        "Type": kind,
        "Created": "/Date(1736935920000)/",
        "Modified": "/Date(1737022320000)/",
    })
}

fn rows(values: Vec<Value>) -> Vec<TransactionLineRow> {
    values.into_iter().map(|v| row::parse(v).unwrap()).collect()
}

fn invoice_ids() -> HashMap<String, String> {
    [("1042".to_string(), INVOICE.to_string())].into()
}

#[test]
fn an_nl_sales_entry_points_at_its_invoice_and_balances() {
    let ids = invoice_ids();
    let ctx = JournalContext {
        division_currency: "EUR",
        invoice_ids: &ids,
    };
    let entry = "e0000000-0000-4000-8000-000000000001";
    let je = map_journal_entry(
        &rows(vec![
            line(
                entry,
                20,
                "70 ",
                0,
                "gl-1300",
                121.0,
                121.0,
                "EUR",
                Some(CUSTOMER),
            ),
            line(
                entry,
                20,
                "70 ",
                1,
                "gl-8000",
                -100.0,
                -100.0,
                "EUR",
                Some(CUSTOMER),
            ),
            line(entry, 20, "70 ", 2, "gl-1500", -21.0, -21.0, "EUR", None),
        ]),
        &ctx,
    )
    .unwrap();
    assert_eq!(je.id, entry);
    let record = je.record_ref.as_ref().unwrap();
    assert_eq!(record.id.as_deref(), Some(INVOICE));
    assert_eq!(record.data_type, Some(JournalRecordType::Invoices));
    assert_eq!(
        je.journal_ref.as_ref().unwrap().id,
        "70",
        "the padded code trimmed"
    );
    assert_eq!(je.posted_on.as_deref(), Some("2025-01-15T00:00:00"));
    assert_eq!(je.created_on.as_deref(), Some("2025-01-15T10:12:00"));
    assert_eq!(je.updated_on.as_deref(), Some("2025-01-16T10:12:00"));
    assert_eq!(je.journal_lines.len(), 3);
    assert_eq!(
        je.journal_lines
            .iter()
            .map(|l| l.net_amount)
            .sum::<Decimal>(),
        Decimal::ZERO
    );
    assert_eq!(je.journal_lines[0].net_amount, dec("121"), "debit positive");
    let contact = je.journal_lines[0].contact_ref.as_ref().unwrap();
    assert_eq!(
        (contact.id.as_str(), contact.data_type),
        (CUSTOMER, Some(ContactType::Customers))
    );
    assert!(je.journal_lines[2].contact_ref.is_none());
    assert_eq!(
        je.journal_lines[1]
            .account_ref
            .as_ref()
            .unwrap()
            .id
            .as_deref(),
        Some("gl-8000")
    );
}

#[test]
fn a_uk_purchase_entry_points_at_its_bill_and_a_general_journal_at_nothing() {
    let ids = HashMap::new();
    let ctx = JournalContext {
        division_currency: "GBP",
        invoice_ids: &ids,
    };
    let entry = "e0000000-0000-4000-8000-000000000002";
    let je = map_journal_entry(
        &rows(vec![
            line(
                entry,
                30,
                "60 ",
                0,
                "gl-2100",
                -120.0,
                -120.0,
                "GBP",
                Some("s-1"),
            ),
            line(
                entry,
                30,
                "60 ",
                1,
                "gl-5000",
                100.0,
                100.0,
                "GBP",
                Some("s-1"),
            ),
            line(entry, 30, "60 ", 2, "gl-2201", 20.0, 20.0, "GBP", None),
        ]),
        &ctx,
    )
    .unwrap();
    let record = je.record_ref.unwrap();
    assert_eq!(
        (record.id.as_deref(), record.data_type),
        (Some(entry), Some(JournalRecordType::Bills))
    );
    assert_eq!(
        je.journal_lines[0].contact_ref.as_ref().unwrap().data_type,
        Some(ContactType::Suppliers)
    );
    assert_eq!(je.journal_lines[0].currency.as_deref(), Some("GBP"));

    let general = "e0000000-0000-4000-8000-000000000003";
    let je = map_journal_entry(
        &rows(vec![
            line(
                general, 90, "90 ", 0, "gl-7000", 2500.0, 2500.0, "GBP", None,
            ),
            line(
                general, 90, "90 ", 1, "gl-1200", -2500.0, -2500.0, "GBP", None,
            ),
        ]),
        &ctx,
    )
    .unwrap();
    assert!(je.record_ref.is_none());
    assert_eq!(je.journal_ref.unwrap().name.as_deref(), Some("Journal 90"));
    // A sales entry whose invoice is unknown has no recordRef rather than a dangling one.
    let je = map_journal_entry(
        &rows(vec![line(
            general, 20, "70 ", 0, "gl", 0.0, 0.0, "GBP", None,
        )]),
        &ctx,
    )
    .unwrap();
    assert!(je.record_ref.is_none());
}

#[test]
fn an_entry_unbalanced_in_its_own_currency_is_given_in_the_division_currency() {
    let ids = HashMap::new();
    let ctx = JournalContext {
        division_currency: "EUR",
        invoice_ids: &ids,
    };
    let entry = "e0000000-0000-4000-8000-000000000004";
    // An exchange-rate difference: nothing in USD, a gain in EUR.
    let je = map_journal_entry(
        &rows(vec![
            line(entry, 82, "90 ", 0, "gl-1300", 0.0, 3.17, "USD", None),
            line(entry, 82, "90 ", 1, "gl-8900", 10.0, -3.17, "USD", None),
        ]),
        &ctx,
    )
    .unwrap();
    assert_eq!(je.journal_lines[0].net_amount, dec("3.17"));
    assert_eq!(je.journal_lines[1].currency.as_deref(), Some("EUR"));
}

/// Random balanced entries of every type, NL and UK: the mapped lines always sum to zero, and
/// the record refs stay inside Codat's list.
#[test]
fn property_every_journal_entry_balances() {
    let mut rng = ChaCha8Rng::seed_from_u64(40);
    let ids = invoice_ids();
    for i in 0..500 {
        let (currency, kind) = (
            if i % 2 == 0 { "EUR" } else { "GBP" },
            [10, 20, 21, 30, 31, 40, 90][rng.gen_range(0..7)],
        );
        let ctx = JournalContext {
            division_currency: currency,
            invoice_ids: &ids,
        };
        let entry = format!("00000000-0000-4000-8000-{i:012}");
        let mut values = vec![];
        let mut sum = 0i64;
        for n in 1..rng.gen_range(2..7) {
            let cents: i64 = rng.gen_range(-1_000_000..1_000_000);
            sum += cents;
            let a = cents as f64 / 100.0;
            values.push(line(&entry, kind, "90 ", n, "gl", a, a, currency, None));
        }
        let a = -sum as f64 / 100.0;
        values.insert(
            0,
            line(&entry, kind, "90 ", 0, "gl", a, a, currency, Some(CUSTOMER)),
        );
        let je = map_journal_entry(&rows(values), &ctx).unwrap();
        assert_eq!(
            je.journal_lines
                .iter()
                .map(|l| l.net_amount)
                .sum::<Decimal>(),
            Decimal::ZERO
        );
        let json = serde_json::to_value(&je).unwrap();
        if let Some(data_type) = json["recordRef"]["dataType"].as_str() {
            assert!(
                ["billCreditNotes", "bills", "creditNotes", "invoices"].contains(&data_type),
                "{data_type}"
            );
        }
    }
}
