//! The credit note mapping on rows shaped like Exact's sync answers (EXACT.md §7: credit notes
//! are sales invoices of `Type` 8021/8024 booked negative; `/Date()/` local times, padded codes,
//! fractions for rates), NL and UK.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::*;
use crate::provider::exact::invoices::tests::{dec, nl_vat, row, typed, uk_vat};
use crate::provider::exact::invoices::{InvoiceContext, VatCode};

const NOTE: &str = "5c3e2f1a-8b7d-4e6f-9a0b-1c2d3e4f5a6b";

fn map(
    rows: &[Value],
    vat: &HashMap<String, VatCode>,
    outstanding: &[(&str, &str)],
    division_currency: &str,
) -> Result<CreditNote, String> {
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
    map_credit_note(&rows, &ctx)
}

/// A processed NL credit note (8021) of two lines, 296.50 incl. VAT, of which 96.50 is still to
/// be settled: Exact books it negative, Codat reads it positive.
#[test]
fn nl_partly_settled_credit_note_maps_every_field_positive() {
    let rows = [
        row(
            NOTE, 25000031, 50, 8021, "EUR", 2, -1.0, 50.0, -50.0, "VL ", -4.5,
        ),
        row(
            NOTE, 25000031, 50, 8021, "EUR", 1, -2.0, 100.0, -200.0, "VH ", -42.0,
        ),
    ];
    let c = map(&rows, &nl_vat(), &[("25000031", "-96.50")], "EUR").unwrap();
    assert_eq!(c.id, NOTE);
    assert_eq!(c.credit_note_number.as_deref(), Some("25000031"));
    let customer = c.customer_ref.as_ref().unwrap();
    assert_eq!(customer.id, "3ba9d1d4-1e8a-4f5a-9e3c-0c0e2f1a7b11");
    assert_eq!(customer.company_name.as_deref(), Some("Bakkerij de Vries"));
    assert_eq!(c.issue_date.as_deref(), Some("2025-01-15T00:00:00"));
    assert_eq!(
        c.source_modified_date.as_deref(),
        Some("2025-01-15T10:12:00")
    );
    assert_eq!(c.currency, "EUR");
    assert_eq!(c.currency_rate, Some(Decimal::ONE));
    assert_eq!(
        (c.sub_total, c.total_tax_amount, c.total_amount),
        (dec("250"), dec("46.5"), dec("296.5"))
    );
    assert_eq!(c.remaining_credit, dec("96.50"));
    assert_eq!(c.status, CreditNoteStatus::PartiallyPaid);
    assert_eq!(
        (c.total_discount, c.discount_percentage),
        (Decimal::ZERO, Decimal::ZERO)
    );
    assert_eq!(c.note.as_deref(), Some("Consultancy January"));
    // Lines in LineNumber order, positive, with the division's real VAT rates.
    let first = &c.line_items[0];
    assert_eq!(first.description.as_deref(), Some("Line 1"));
    assert_eq!((first.quantity, first.unit_amount), (dec("2"), dec("100")));
    assert_eq!(
        (first.sub_total, first.tax_amount, first.total_amount),
        (Some(dec("200")), Some(dec("42")), Some(dec("242")))
    );
    let tax = first.tax_rate_ref.as_ref().unwrap();
    assert_eq!(
        (tax.id.as_deref(), tax.effective_tax_rate),
        (Some("VH"), Some(dec("21")))
    );
    assert_eq!(
        c.line_items[1]
            .tax_rate_ref
            .as_ref()
            .unwrap()
            .effective_tax_rate,
        Some(dec("9"))
    );
    assert_eq!(
        first.account_ref.as_ref().unwrap().id.as_deref(),
        Some("5a9e9a3c-7f6d-4c1e-9b2a-3d4e5f6a7b8c")
    );
}

/// A UK direct credit note (8024) in GBP, by what the receivables still hold.
#[test]
fn uk_direct_credit_note_status_follows_the_credit_left() {
    let rows = |status| {
        vec![
            row(
                NOTE, 4002, status, 8024, "GBP", 1, -3.0, 10.0, -30.0, "SR ", -6.0,
            ),
            row(
                NOTE, 4002, status, 8024, "GBP", 2, -1.0, 20.0, -20.0, "RR ", -1.0,
            ),
            row(
                NOTE, 4002, status, 8024, "GBP", 3, -1.0, 5.0, -5.0, "ZR ", 0.0,
            ),
        ]
    };
    let outcome = |status, outstanding: &[(&str, &str)]| {
        let c = map(&rows(status), &uk_vat(), outstanding, "GBP").unwrap();
        assert_eq!(c.total_amount, dec("62"));
        (c.status, c.remaining_credit)
    };
    assert_eq!(
        outcome(50, &[]),
        (CreditNoteStatus::Paid, Decimal::ZERO),
        "not in the receivables: all used"
    );
    assert_eq!(
        outcome(50, &[("4002", "-62.00")]),
        (CreditNoteStatus::Submitted, dec("62"))
    );
    assert_eq!(
        outcome(50, &[("4002", "-20"), ("4003", "-5")]),
        (CreditNoteStatus::PartiallyPaid, dec("20"))
    );
    assert_eq!(
        outcome(50, &[("4002", "-70")]),
        (CreditNoteStatus::Submitted, dec("62")),
        "never more than the note"
    );
    assert_eq!(
        outcome(50, &[("4002", "5")]),
        (CreditNoteStatus::Paid, Decimal::ZERO),
        "used beyond its amount: nothing left"
    );
    assert_eq!(outcome(10, &[]), (CreditNoteStatus::Draft, dec("62")));
    assert_eq!(
        outcome(20, &[]),
        (CreditNoteStatus::Submitted, dec("62")),
        "open: not in the ledger yet, nothing settled against it"
    );
    assert_eq!(outcome(30, &[]), (CreditNoteStatus::Unknown, dec("62")));

    let c = map(&rows(50), &uk_vat(), &[], "GBP").unwrap();
    let rates: Vec<_> = c
        .line_items
        .iter()
        .map(|l| l.tax_rate_ref.as_ref().unwrap().effective_tax_rate.unwrap())
        .collect();
    assert_eq!(rates, [dec("20"), dec("5"), dec("0")]);
    assert_eq!(
        c.line_items[2].tax_amount,
        Some(Decimal::ZERO),
        "a zero-rated line"
    );
    let json = serde_json::to_string(&c).unwrap();
    assert!(
        !json.contains(":-0"),
        "no negative zero on the wire: {json}"
    );
}

#[test]
fn line_discounts_are_positive_and_summed() {
    let mut r = row(
        NOTE, 77, 50, 8021, "EUR", 1, -2.0, 100.0, -180.0, "VH ", -37.8,
    );
    r["NetPrice"] = json!(90.0);
    r["Discount"] = json!(0.1);
    let c = map(&[r], &nl_vat(), &[("77", "-217.80")], "EUR").unwrap();
    let line = &c.line_items[0];
    assert_eq!(
        (line.discount_amount, line.discount_percentage),
        (Some(dec("20")), Some(dec("10")))
    );
    assert_eq!(c.total_discount, dec("20"));
    assert_eq!(c.sub_total, dec("180"));
    assert_eq!(c.status, CreditNoteStatus::Submitted);
}

#[test]
fn foreign_currency_credit_notes_carry_a_positive_rate() {
    let mut r = row(
        NOTE, 12, 50, 8021, "USD", 1, -1.0, 100.0, -100.0, "V0 ", 0.0,
    );
    r["AmountDC"] = json!(-92.5);
    let c = map(&[r], &nl_vat(), &[], "EUR").unwrap();
    assert_eq!(c.currency, "USD");
    assert_eq!(c.currency_rate, Some(dec("0.925")));
}

#[test]
fn invoices_are_not_credit_notes_and_missing_fields_are_refused() {
    for kind in [8020, 8023] {
        let r = row(NOTE, 1, 50, kind, "EUR", 1, 1.0, 100.0, 100.0, "VH ", 21.0);
        assert!(map(&[r], &nl_vat(), &[], "EUR").is_err(), "{kind}");
    }
    let mut r = row(
        NOTE, 1, 50, 8021, "EUR", 1, -1.0, 100.0, -100.0, "VH ", -21.0,
    );
    r["InvoiceDate"] = Value::Null;
    assert_eq!(
        map(&[r], &nl_vat(), &[], "EUR").unwrap_err(),
        "no InvoiceDate"
    );
}

/// Codat's required fields are always written, as JSON numbers, and nothing is `null`.
#[test]
fn serialized_credit_notes_have_codats_required_fields_and_numbers() {
    let rows = [row(
        NOTE, 1, 50, 8021, "EUR", 1, -2.0, 100.0, -200.0, "VH ", -42.0,
    )];
    let json =
        serde_json::to_value(map(&rows, &nl_vat(), &[("1", "-242")], "EUR").unwrap()).unwrap();
    for field in [
        "status",
        "subTotal",
        "totalTaxAmount",
        "totalAmount",
        "totalDiscount",
        "discountPercentage",
        "remainingCredit",
    ] {
        assert!(
            json[field].is_number() || field == "status",
            "{field}: {json}"
        );
    }
    assert_eq!(json["totalAmount"], json!(242.0));
    assert_eq!(json["remainingCredit"], json!(242.0));
    assert_eq!(json["status"], "Submitted");
    assert_eq!(json["lineItems"][0]["quantity"], json!(2.0));
    assert_eq!(json["metadata"], json!({"isDeleted": false}));
    assert!(!json.to_string().contains("null"), "{json}");
}

/// Properties over random NL and UK credit notes: `totalAmount = subTotal + totalTaxAmount`,
/// `0 ≤ remainingCredit ≤ totalAmount`, every amount positive, the status one of Codat's values
/// and agreeing with what is left.
#[test]
fn random_credit_notes_keep_codats_invariants() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let regions = [
        (
            nl_vat(),
            "EUR",
            [("VH ", 21), ("VL ", 9), ("V0 ", 0)],
            [8021, 8024],
        ),
        (
            uk_vat(),
            "GBP",
            [("SR ", 20), ("RR ", 5), ("ZR ", 0)],
            [8021, 8024],
        ),
    ];
    for n in 0..2000 {
        let (vat, currency, codes, kinds) = &regions[n % 2];
        let status = [10, 20, 50][rng.gen_range(0..3)];
        let kind = kinds[rng.gen_range(0..2)];
        let mut rows = vec![];
        let mut total_cents = 0i64;
        for line in 1..=rng.gen_range(1..6) {
            let qty = rng.gen_range(1..20);
            let price_cents = rng.gen_range(1..100_000i64);
            let amount = qty * price_cents;
            let (code, pct) = codes[rng.gen_range(0..3)];
            let vat_cents = (amount * pct + 50) / 100;
            total_cents += amount + vat_cents;
            rows.push(row(
                NOTE,
                n as i64,
                status,
                kind,
                currency,
                line,
                -(qty as f64),
                price_cents as f64 / 100.0,
                -(amount as f64) / 100.0,
                code,
                -(vat_cents as f64) / 100.0,
            ));
        }
        // What the receivables still hold: nothing, all, part, or more than the note.
        let left_cents = match rng.gen_range(0..4) {
            0 => 0,
            1 => total_cents,
            2 => rng.gen_range(0..=total_cents),
            _ => -rng.gen_range(1..1000),
        };
        let outstanding = Decimal::new(-left_cents, 2).to_string();
        let number = n.to_string();
        let c = map(&rows, vat, &[(&number, &outstanding)], currency).unwrap();
        assert_eq!(c.total_amount, c.sub_total + c.total_tax_amount, "{c:?}");
        assert_eq!(c.total_amount, Decimal::new(total_cents, 2));
        assert!(
            Decimal::ZERO <= c.remaining_credit && c.remaining_credit <= c.total_amount,
            "{c:?}"
        );
        assert!(CreditNoteStatus::ALL.contains(&c.status));
        let expected = match status {
            10 => CreditNoteStatus::Draft,
            20 => CreditNoteStatus::Submitted,
            _ => CreditNoteStatus::from_remaining_credit(c.remaining_credit, c.total_amount),
        };
        assert_eq!(c.status, expected);
        assert!(c.line_items.iter().all(|l| l.quantity > Decimal::ZERO
            && l.sub_total.unwrap() >= Decimal::ZERO
            && l.tax_amount.unwrap() >= Decimal::ZERO));
        let line_sum: Decimal = c.line_items.iter().map(|l| l.total_amount.unwrap()).sum();
        assert_eq!(line_sum, c.total_amount, "lines sum to the header");
    }
}
