//! The invoice mapping on rows shaped like Exact's sync answers (EXACT.md: `/Date()/` local
//! times, padded codes, fractions for rates), NL and UK.

use std::collections::HashMap;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::*;
use crate::provider::exact::row;

/// An Exact JSON row read as the typed row the pull reads.
pub(in crate::provider::exact) fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
    row::parse(value).unwrap()
}

pub(in crate::provider::exact) fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub(in crate::provider::exact) fn nl_vat() -> HashMap<String, VatCode> {
    [
        json!({"Code": "VH ", "Description": "BTW verkopen hoog 21%", "Percentage": 0.21}),
        json!({"Code": "VL ", "Description": "BTW verkopen laag 9%", "Percentage": 0.09}),
        json!({"Code": "V0 ", "Description": "BTW verkopen 0%", "Percentage": 0}),
    ]
    .into_iter()
    .filter_map(|v| vat_code(typed(v)))
    .map(|v| (v.code.clone(), v))
    .collect()
}

pub(in crate::provider::exact) fn uk_vat() -> HashMap<String, VatCode> {
    [
        json!({"Code": "SR ", "Description": "Standard rated sales 20%", "Percentage": 0.2}),
        json!({"Code": "RR ", "Description": "Reduced rate sales 5%", "Percentage": 0.05}),
        json!({"Code": "ZR ", "Description": "Zero rated", "Percentage": 0.0}),
    ]
    .into_iter()
    .filter_map(|v| vat_code(typed(v)))
    .map(|v| (v.code.clone(), v))
    .collect()
}

/// One sync row: the header's fields with one line's.
#[allow(clippy::too_many_arguments)]
pub(in crate::provider::exact) fn row(
    invoice: &str,
    number: i64,
    status: i64,
    kind: i64,
    currency: &str,
    line: i64,
    qty: f64,
    price: f64,
    amount: f64,
    vat_code: &str,
    vat: f64,
) -> Value {
    json!({
        "__metadata": {"uri": "…", "type": "Exact.Web.Api.Models.Sync.SalesInvoice.SalesInvoice"},
        "Timestamp": "41280097",
        "InvoiceID": invoice,
        "InvoiceNumber": number,
        "InvoiceTo": "3ba9d1d4-1e8a-4f5a-9e3c-0c0e2f1a7b11",
        "InvoiceToName": "Bakkerij de Vries",
        "InvoiceDate": "/Date(1736899200000)/",
        "DueDate": "/Date(1739491200000)/",
        "Currency": currency,
        "Status": status,
        "Type": kind,
        "Description": "Consultancy January",
        "Modified": "/Date(1736935920000)/",
        "ID": format!("00000000-0000-4000-8000-00000000000{line}"),
        "LineNumber": line,
        "LineDescription": format!("Line {line}"),
        "Item": "9c1f0b7e-5b1d-4b8a-8e0f-6a1e2d3c4b5a",
        "ItemDescription": "Consulting",
        "Quantity": qty,
        "UnitPrice": price,
        "NetPrice": price,
        "Discount": 0,
        "AmountFC": amount,
        "AmountDC": amount,
        "VATAmountFC": vat,
        "VATCode": vat_code,
        "VATPercentage": 0.21,
        "GLAccount": "5a9e9a3c-7f6d-4c1e-9b2a-3d4e5f6a7b8c",
        "GLAccountDescription": "Omzet diensten",
        "CostCenter": null,
    })
}

fn map(
    rows: &[Value],
    vat: &HashMap<String, VatCode>,
    outstanding: &[(&str, &str)],
    division_currency: &str,
) -> Mapped {
    let outstanding: HashMap<String, Decimal> = outstanding
        .iter()
        .map(|(n, a)| (n.to_string(), dec(a)))
        .collect();
    let ctx = InvoiceContext {
        division_currency,
        vat_codes: vat,
        outstanding: &outstanding,
    };
    let rows: Vec<SalesInvoiceRow> = rows.iter().cloned().map(typed).collect();
    map_invoice(&rows, &ctx).unwrap()
}

fn invoice(mapped: Mapped) -> Invoice {
    match mapped {
        Mapped::Invoice(i) => *i,
        other => panic!("expected an invoice, got {other:?}"),
    }
}

const INV: &str = "7b28a1f4-2c4e-4a8e-9f4a-1d2c3b4a5e6f";

#[test]
fn nl_processed_partly_paid_invoice_maps_every_field() {
    let rows = [
        row(
            INV, 25000017, 50, 8020, "EUR", 2, 1.0, 50.0, 50.0, "VL ", 4.5,
        ),
        row(
            INV, 25000017, 50, 8020, "EUR", 1, 2.0, 100.0, 200.0, "VH ", 42.0,
        ),
    ];
    let i = invoice(map(&rows, &nl_vat(), &[("25000017", "96.50")], "EUR"));
    assert_eq!(i.id, INV);
    assert_eq!(i.invoice_number.as_deref(), Some("25000017"));
    assert_eq!(
        i.customer_ref.as_ref().unwrap().company_name.as_deref(),
        Some("Bakkerij de Vries")
    );
    assert_eq!(
        i.issue_date, "2025-01-15T00:00:00",
        "/Date()/ read as local wall-clock time"
    );
    assert_eq!(i.due_date.as_deref(), Some("2025-02-14T00:00:00"));
    assert_eq!(
        i.source_modified_date.as_deref(),
        Some("2025-01-15T10:12:00")
    );
    assert_eq!(i.currency, "EUR");
    assert_eq!(i.currency_rate, Some(Decimal::ONE));
    assert_eq!(i.sub_total, Some(dec("250")));
    assert_eq!(i.total_tax_amount, dec("46.5"));
    assert_eq!(i.total_amount, dec("296.5"));
    assert_eq!(i.amount_due, dec("96.50"));
    assert_eq!(i.status, InvoiceStatus::PartiallyPaid);
    assert_eq!(i.note.as_deref(), Some("Consultancy January"));
    // Lines in LineNumber order, with the division's real VAT rates.
    assert_eq!(i.line_items[0].description.as_deref(), Some("Line 1"));
    let tax = i.line_items[0].tax_rate_ref.as_ref().unwrap();
    assert_eq!(tax.id.as_deref(), Some("VH"), "padded codes are trimmed");
    assert_eq!(tax.effective_tax_rate, Some(dec("21")));
    assert_eq!(
        i.line_items[1]
            .tax_rate_ref
            .as_ref()
            .unwrap()
            .effective_tax_rate,
        Some(dec("9"))
    );
    assert_eq!(i.line_items[0].total_amount, Some(dec("242")));
    assert_eq!(
        i.line_items[0]
            .account_ref
            .as_ref()
            .unwrap()
            .name
            .as_deref(),
        Some("Omzet diensten")
    );
    assert_eq!(
        i.line_items[0].item_ref.as_ref().unwrap().name.as_deref(),
        Some("Consulting")
    );
}

#[test]
fn uk_invoice_in_gbp_with_uk_rates_and_statuses_by_what_is_outstanding() {
    let rows = |status| {
        vec![
            row(
                INV, 4001, status, 8023, "GBP", 1, 3.0, 10.0, 30.0, "SR ", 6.0,
            ),
            row(
                INV, 4001, status, 8023, "GBP", 2, 1.0, 20.0, 20.0, "RR ", 1.0,
            ),
            row(INV, 4001, status, 8023, "GBP", 3, 1.0, 5.0, 5.0, "ZR ", 0.0),
        ]
    };
    let paid = invoice(map(&rows(50), &uk_vat(), &[], "GBP"));
    assert_eq!(paid.currency, "GBP");
    assert_eq!(paid.total_amount, dec("62"));
    assert_eq!(
        (paid.status, paid.amount_due),
        (InvoiceStatus::Paid, Decimal::ZERO)
    );
    let rates: Vec<_> = paid
        .line_items
        .iter()
        .map(|l| l.tax_rate_ref.as_ref().unwrap().effective_tax_rate.unwrap())
        .collect();
    assert_eq!(rates, [dec("20"), dec("5"), dec("0")]);

    let open = invoice(map(&rows(50), &uk_vat(), &[("4001", "62.00")], "GBP"));
    assert_eq!(
        (open.status, open.amount_due),
        (InvoiceStatus::Submitted, dec("62"))
    );
    let overpaid = invoice(map(&rows(50), &uk_vat(), &[("4001", "-5")], "GBP"));
    assert_eq!(
        (overpaid.status, overpaid.amount_due),
        (InvoiceStatus::Paid, Decimal::ZERO)
    );
    let draft = invoice(map(&rows(10), &uk_vat(), &[], "GBP"));
    assert_eq!(
        (draft.status, draft.amount_due),
        (InvoiceStatus::Draft, dec("62"))
    );
    let unprocessed = invoice(map(&rows(20), &uk_vat(), &[], "GBP"));
    assert_eq!(
        (unprocessed.status, unprocessed.amount_due),
        (InvoiceStatus::Submitted, dec("62")),
        "an open invoice is not in the ledger yet: nothing paid against it"
    );
}

#[test]
fn credit_notes_are_not_invoices() {
    for kind in [8021, 8024] {
        let rows = [row(
            INV, 9001, 50, kind, "EUR", 1, -1.0, 100.0, -100.0, "VH ", -21.0,
        )];
        assert_eq!(
            map(&rows, &nl_vat(), &[], "EUR"),
            Mapped::CreditNote { id: INV.into() }
        );
    }
}

#[test]
fn foreign_currency_invoices_carry_their_rate() {
    let mut r = row(INV, 12, 50, 8020, "USD", 1, 1.0, 100.0, 100.0, "V0 ", 0.0);
    r["AmountDC"] = json!(92.5);
    let i = invoice(map(&[r], &nl_vat(), &[("12", "100")], "EUR"));
    assert_eq!(i.currency, "USD");
    assert_eq!(i.currency_rate, Some(dec("0.925")));
}

#[test]
fn unknown_vat_code_falls_back_to_the_lines_percentage() {
    let r = row(INV, 13, 10, 8020, "EUR", 1, 1.0, 100.0, 100.0, "XX ", 21.0);
    let i = invoice(map(&[r], &nl_vat(), &[], "EUR"));
    let tax = i.line_items[0].tax_rate_ref.clone().unwrap();
    assert_eq!(
        (tax.id.as_deref(), tax.name, tax.effective_tax_rate),
        (Some("XX"), None, Some(dec("21")))
    );
}

#[test]
fn rows_without_what_codat_requires_are_refused_with_a_reason() {
    let mut r = row(INV, 14, 50, 8020, "EUR", 1, 1.0, 100.0, 100.0, "VH ", 21.0);
    r["InvoiceDate"] = Value::Null;
    let outstanding = HashMap::new();
    let vat = nl_vat();
    let ctx = InvoiceContext {
        division_currency: "EUR",
        vat_codes: &vat,
        outstanding: &outstanding,
    };
    assert_eq!(
        map_invoice(&[typed(r.clone())], &ctx).unwrap_err(),
        "no InvoiceDate"
    );
    let mut r = row(INV, 14, 50, 8020, "EUR", 1, 1.0, 100.0, 100.0, "VH ", 21.0);
    r["Quantity"] = Value::Null;
    assert!(
        map_invoice(&[typed(r.clone())], &ctx)
            .unwrap_err()
            .contains("no Quantity")
    );
}

#[test]
fn outstanding_sums_every_receivable_of_an_invoice() {
    let rows = [
        json!({"InvoiceNumber": 17, "Amount": 10.5}),
        json!({"InvoiceNumber": 17, "Amount": 4.5}),
        json!({"InvoiceNumber": 18, "Amount": "3.25"}),
    ];
    let rows: Vec<ReceivableRow> = rows.into_iter().map(typed).collect();
    let o = outstanding_by_invoice(&rows);
    assert_eq!(o["17"], dec("15.0"));
    assert_eq!(o["18"], dec("3.25"));
}

#[test]
fn serialized_invoices_have_codats_required_fields_and_numbers() {
    let rows = [row(
        INV, 1, 50, 8020, "EUR", 1, 2.0, 100.0, 200.0, "VH ", 42.0,
    )];
    let json =
        serde_json::to_value(invoice(map(&rows, &nl_vat(), &[("1", "242")], "EUR"))).unwrap();
    for field in [
        "issueDate",
        "totalTaxAmount",
        "totalAmount",
        "amountDue",
        "status",
    ] {
        assert!(!json[field].is_null(), "{field} is required: {json}");
    }
    assert_eq!(json["totalAmount"], json!(242.0), "money is a JSON number");
    assert_eq!(json["status"], "Submitted");
    assert_eq!(
        json["lineItems"][0]["taxRateRef"]["effectiveTaxRate"],
        json!(21.0)
    );
    assert_eq!(json["metadata"], json!({"isDeleted": false}));
    assert!(json["paymentAllocations"].as_array().unwrap().is_empty());
}

/// Properties over random invoices: totals add up, `0 ≤ amountDue ≤ totalAmount`, and the
/// status is always one of Codat's values and agrees with `amountDue`.
#[test]
fn random_invoices_keep_codats_invariants() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let vat = nl_vat();
    let codes = [("VH ", 21), ("VL ", 9), ("V0 ", 0)];
    for n in 0..2000 {
        let status = [10, 20, 50][rng.gen_range(0..3)];
        let lines = rng.gen_range(1..6);
        let mut rows = vec![];
        let mut total_cents = 0i64;
        for line in 1..=lines {
            let qty = rng.gen_range(1..20) as f64;
            let price_cents = rng.gen_range(1..100_000) as i64;
            let amount = (qty as i64) * price_cents;
            let (code, pct) = codes[rng.gen_range(0..3)];
            let vat_cents = (amount * pct + 50) / 100;
            total_cents += amount + vat_cents;
            rows.push(row(
                INV,
                n,
                status,
                8020,
                "EUR",
                line,
                qty,
                price_cents as f64 / 100.0,
                amount as f64 / 100.0,
                code,
                vat_cents as f64 / 100.0,
            ));
        }
        let paid_cents = match rng.gen_range(0..4) {
            0 => 0,
            1 => total_cents,
            2 => rng.gen_range(0..=total_cents),
            _ => total_cents + rng.gen_range(1..1000),
        };
        let outstanding = format!("{}", Decimal::new(total_cents - paid_cents, 2));
        let number = n.to_string();
        let i = invoice(map(&rows, &vat, &[(&number, &outstanding)], "EUR"));
        assert_eq!(
            i.total_amount,
            i.sub_total.unwrap() + i.total_tax_amount,
            "{i:?}"
        );
        assert_eq!(i.total_amount, Decimal::new(total_cents, 2));
        assert!(
            Decimal::ZERO <= i.amount_due && i.amount_due <= i.total_amount,
            "{i:?}"
        );
        assert!(InvoiceStatus::ALL.contains(&i.status));
        let expected = match status {
            10 => InvoiceStatus::Draft,
            20 => InvoiceStatus::Submitted,
            _ => InvoiceStatus::from_amount_due(i.amount_due, i.total_amount),
        };
        assert_eq!(i.status, expected);
        let line_sum: Decimal = i.line_items.iter().map(|l| l.total_amount.unwrap()).sum();
        assert_eq!(line_sum, i.total_amount, "lines sum to the header");
    }
}

/// The header fields of a recorded real answer (NIT `get-sales-invoice.test.json`, Exact FR,
/// 2026: invoice 24700006, 1.00 + 0.20 VAT, processed, paid) flattened onto one line the way
/// `sync/SalesInvoice/SalesInvoices` returns it.
#[test]
fn a_recorded_exact_invoice_maps_with_its_dates_and_amounts() {
    let row = json!({
        "InvoiceID": "7b282ae4-d920-46b0-87fd-3da21b818780",
        "InvoiceNumber": 24700006,
        "InvoiceDate": "/Date(1725840000000)/",
        "DueDate": "/Date(1725840000000)/",
        "Status": 50,
        "AmountDC": 1.2,
        "AmountFC": 1,
        "AmountFCExclVat": 1,
        "Currency": "EUR",
        "Description": "1234",
        "Type": 8020,
        "Modified": "/Date(1725882549703)/",
        "InvoiceTo": "a58c29d9-ef92-40f1-b817-31b36990898c",
        "InvoiceToName": "Foobar2 Updated",
        "VATAmountFC": 0.2,
        "Timestamp": "5123",
        "ID": "0b0f4a7e-1c8e-4a57-9d93-6a5f0e3b2c11",
        "LineNumber": 1,
        "Quantity": 1,
        "UnitPrice": 1,
        "NetPrice": 1,
        "VATCode": "VH ",
        "VATPercentage": 0.2,
    });
    let i = invoice(map(&[row], &nl_vat(), &[], "EUR"));
    assert_eq!(i.invoice_number.as_deref(), Some("24700006"));
    assert_eq!(i.issue_date, "2024-09-09T00:00:00");
    assert_eq!(
        i.source_modified_date.as_deref(),
        Some("2024-09-09T11:49:09")
    );
    assert_eq!(
        (i.sub_total, i.total_tax_amount, i.total_amount),
        (Some(dec("1")), dec("0.2"), dec("1.2"))
    );
    assert_eq!(
        (i.status, i.amount_due),
        (InvoiceStatus::Paid, Decimal::ZERO),
        "not in the receivables: paid"
    );
    assert_eq!(
        i.customer_ref.unwrap().company_name.as_deref(),
        Some("Foobar2 Updated")
    );
}
