//! Unit tests of the books generator and mutations: determinism, sums, VAT regimes, rowversions.

use std::collections::HashMap;

use serde_json::Value;

use super::*;

/// A small config: one NL and one UK division, big enough to hit every document kind.
fn small(seed: u64) -> BooksConfig {
    let spec = |code, region, n| DivisionSpec {
        code,
        region,
        description: format!("Test {code}"),
        customers: 25,
        suppliers: 10,
        sales_invoices: n,
        purchase_entries: n / 2,
        journal_entries: 12,
        extra_gl_accounts: 0,
        transaction_lines: None,
    };
    BooksConfig {
        seed,
        divisions: vec![spec(1, Region::Nl, 400), spec(2, Region::Uk, 300)],
    }
}

fn cents(v: Option<&Value>) -> i64 {
    (v.and_then(Value::as_f64).unwrap_or(f64::NAN) * 100.0).round() as i64
}

fn rows(b: &Books, div: i32, set: EntitySet) -> Vec<&Record> {
    b.table(div, set)
        .map(|t| t.iter_by_key(None).collect())
        .unwrap_or_default()
}

fn s<'a>(r: &'a Record, f: &str) -> &'a str {
    r.fields.get(f).and_then(Value::as_str).unwrap_or_default()
}

#[test]
fn same_seed_same_books_different_seed_different() {
    let (a, b, c) = (
        Books::generate(&small(7)),
        Books::generate(&small(7)),
        Books::generate(&small(8)),
    );
    for div in [1, 2] {
        for set in EntitySet::ALL {
            let (ta, tb) = (rows(&a, div, set), rows(&b, div, set));
            assert_eq!(ta, tb, "{set:?} differs for the same seed");
        }
        assert_ne!(
            rows(&a, div, EntitySet::SalesInvoices),
            rows(&c, div, EntitySet::SalesInvoices)
        );
    }
}

#[test]
fn invoice_lines_sum_to_their_header() {
    let b = Books::generate(&small(1));
    for div in [1, 2] {
        let mut sums: HashMap<&str, (i64, i64, i64, i64)> = HashMap::new();
        for l in rows(&b, div, EntitySet::SalesInvoiceLines) {
            let e = sums.entry(s(l, "InvoiceID")).or_default();
            e.0 += cents(l.fields.get("AmountFC"));
            e.1 += cents(l.fields.get("VATAmountFC"));
            e.2 += cents(l.fields.get("AmountDC"));
            e.3 += cents(l.fields.get("VATAmountDC"));
        }
        let headers = rows(&b, div, EntitySet::SalesInvoices);
        assert!(headers.len() >= 300);
        for h in headers {
            let (excl, vat, excl_dc, vat_dc) = sums[s(h, "InvoiceID")];
            assert_eq!(cents(h.fields.get("AmountFCExclVat")), excl);
            assert_eq!(cents(h.fields.get("VATAmountFC")), vat);
            assert_eq!(cents(h.fields.get("AmountFC")), excl + vat);
            assert_eq!(cents(h.fields.get("AmountDC")), excl_dc + vat_dc);
            assert_eq!(cents(h.fields.get("VATAmountDC")), vat_dc);
            if s(h, "Currency") == b.division(div).map_or("", |d| &d.currency) {
                assert_eq!(
                    cents(h.fields.get("AmountDC")),
                    excl + vat,
                    "DC = FC in the division currency"
                );
            }
        }
    }
}

#[test]
fn purchase_lines_sum_to_their_header() {
    let b = Books::generate(&small(2));
    for div in [1, 2] {
        let mut sums: HashMap<&str, (i64, i64)> = HashMap::new();
        for l in rows(&b, div, EntitySet::PurchaseEntryLines) {
            let e = sums.entry(s(l, "EntryID")).or_default();
            e.0 += cents(l.fields.get("AmountFC"));
            e.1 += cents(l.fields.get("VATAmountFC"));
        }
        for h in rows(&b, div, EntitySet::PurchaseEntries) {
            let (excl, vat) = sums[s(h, "EntryID")];
            assert_eq!(cents(h.fields.get("VATAmountFC")), vat);
            assert_eq!(cents(h.fields.get("AmountFC")), excl + vat);
        }
    }
}

/// Every entry's transaction lines sum to zero (FC and DC) and point at existing GL accounts.
fn assert_ledger_balances(b: &Books, div: i32) {
    let gl = b.table(div, EntitySet::GLAccounts).expect("division");
    let mut sums: HashMap<&str, (i64, i64)> = HashMap::new();
    for t in rows(b, div, EntitySet::TransactionLines) {
        let e = sums.entry(s(t, "EntryID")).or_default();
        e.0 += cents(t.fields.get("AmountFC"));
        e.1 += cents(t.fields.get("AmountDC"));
        let id = uuid::Uuid::parse_str(s(t, "GLAccount")).expect("GLAccount guid");
        assert!(gl.get(&Key::Guid(id)).is_some(), "unknown GL account {id}");
    }
    assert!(sums.len() > 100);
    for (entry, (fc, dc)) in sums {
        assert_eq!((fc, dc), (0, 0), "entry {entry} does not balance");
    }
}

#[test]
fn transaction_lines_of_each_entry_sum_to_zero() {
    let b = Books::generate(&small(3));
    for div in [1, 2] {
        assert_ledger_balances(&b, div);
        for kind in [20, 21, 30, 40, 90, 10] {
            assert!(
                rows(&b, div, EntitySet::TransactionLines)
                    .iter()
                    .any(|t| t.fields["Type"] == kind),
                "no type {kind}"
            );
        }
    }
}

/// Outstanding per invoice number from the books: header total plus the payment lines booked on the
/// receivable (or payable) account.
fn outstanding_by_number(
    b: &Books,
    div: i32,
    header_set: EntitySet,
    number_field: &str,
    gl_type: i64,
) -> HashMap<i64, i64> {
    let open_gl: Vec<&str> = rows(b, div, EntitySet::GLAccounts)
        .into_iter()
        .filter(|g| g.fields["Type"] == gl_type)
        .map(|g| s(g, "ID"))
        .collect();
    let mut out: HashMap<i64, i64> = HashMap::new();
    for h in rows(b, div, header_set) {
        if header_set == EntitySet::SalesInvoices && h.fields["Status"] != 50 {
            continue;
        }
        *out.entry(h.fields[number_field].as_i64().unwrap_or_default())
            .or_default() += cents(h.fields.get("AmountFC"));
    }
    for t in rows(b, div, EntitySet::TransactionLines) {
        if t.fields["Type"] == 40 && open_gl.contains(&s(t, "GLAccount")) {
            let n = t.fields["InvoiceNumber"].as_i64().unwrap_or_default();
            // Receipts credit the receivable (negative); payments debit the payable (positive).
            let sign = if gl_type == 20 { 1 } else { -1 };
            *out.get_mut(&n).expect("payment of a known document") +=
                sign * cents(t.fields.get("AmountFC"));
        }
    }
    out
}

#[test]
fn receivables_and_payables_are_totals_minus_payments() {
    let b = Books::generate(&small(4));
    for div in [1, 2] {
        for (header, number, gl_type, list, line_type) in [
            (
                EntitySet::SalesInvoices,
                "InvoiceNumber",
                20,
                EntitySet::ReceivablesList,
                20,
            ),
            (
                EntitySet::PurchaseEntries,
                "EntryNumber",
                22,
                EntitySet::PayablesList,
                22,
            ),
        ] {
            let expected = outstanding_by_number(&b, div, header, number, gl_type);
            let listed: HashMap<i64, i64> = rows(&b, div, list)
                .iter()
                .map(|r| {
                    (
                        r.fields["InvoiceNumber"].as_i64().unwrap_or_default(),
                        cents(r.fields.get("Amount")),
                    )
                })
                .collect();
            let open: HashMap<i64, i64> = expected
                .iter()
                .filter(|(_, a)| **a != 0)
                .map(|(n, a)| (*n, *a))
                .collect();
            assert_eq!(listed, open, "{list:?}");
            let terms: Vec<&Record> = rows(&b, div, EntitySet::PaymentTerms)
                .into_iter()
                .filter(|t| t.fields["LineType"] == line_type)
                .collect();
            assert_eq!(
                terms.len(),
                expected.len(),
                "one payment term per open item, paid or not"
            );
            let (mut paid, mut partial, mut unpaid) = (0, 0, 0);
            for t in terms {
                let n = t.fields["InvoiceNumber"].as_i64().unwrap_or_default();
                let total = cents(t.fields.get("AmountFC"));
                assert_eq!(t.fields["IsFullyPaid"], expected[&n] == 0);
                match expected[&n] {
                    0 => paid += 1,
                    o if o == total => unpaid += 1,
                    _ => partial += 1,
                }
            }
            assert!(
                paid > 0 && partial > 0 && unpaid > 0,
                "{list:?}: paid {paid}, partial {partial}, open {unpaid}"
            );
        }
    }
}

#[test]
fn vat_rates_and_currencies_follow_the_region() {
    let b = Books::generate(&small(5));
    for (div, currency, rates) in [(1, "EUR", [0.21, 0.09, 0.0]), (2, "GBP", [0.20, 0.05, 0.0])] {
        assert_eq!(b.division(div).map(|d| d.currency.as_str()), Some(currency));
        for v in rows(&b, div, EntitySet::VATCodes) {
            let p = v.fields["Percentage"].as_f64().unwrap_or(-1.0);
            assert!(rates.contains(&p), "rate {p}");
            assert_eq!(s(v, "Code").len(), 3, "VAT code padded to 3");
        }
        let mut seen = Vec::new();
        for l in rows(&b, div, EntitySet::SalesInvoiceLines) {
            let p = l.fields["VATPercentage"].as_f64().unwrap_or(-1.0);
            assert!(rates.contains(&p), "line rate {p}");
            if !seen.contains(&p.to_bits()) {
                seen.push(p.to_bits());
            }
        }
        assert_eq!(seen.len(), 3, "every rate is used");
        let invoices = rows(&b, div, EntitySet::SalesInvoices);
        let domestic = invoices
            .iter()
            .filter(|i| s(i, "Currency") == currency)
            .count();
        assert!(domestic * 10 > invoices.len() * 7, "mostly {currency}");
        assert!(
            domestic < invoices.len(),
            "a few invoices in a foreign currency"
        );
    }
}

#[test]
fn codes_are_padded_and_dates_are_wall_clock_midnight() {
    let b = Books::generate(&small(6));
    for a in rows(&b, 1, EntitySet::Accounts) {
        let code = s(a, "Code");
        assert_eq!(code.len(), 18);
        assert!(code.starts_with(' ') && !code.ends_with(' '));
    }
    let start = ANCHOR_DATE - chrono::Duration::days(560);
    for i in rows(&b, 1, EntitySet::SalesInvoices) {
        let d = s(i, "InvoiceDate");
        let ms: i64 = d
            .trim_start_matches("/Date(")
            .trim_end_matches(")/")
            .parse()
            .expect("/Date(ms)/");
        assert_eq!(ms % 86_400_000, 0, "date-only fields sit on midnight");
        let date = chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.date_naive())
            .expect("valid");
        assert!(date >= start && date <= ANCHOR_DATE);
    }
}

#[test]
fn sync_rows_flatten_every_invoice_line() {
    let b = Books::generate(&small(9));
    let lines = rows(&b, 1, EntitySet::SalesInvoiceLines);
    let sync = b.table(1, EntitySet::SyncSalesInvoices).expect("table");
    assert_eq!(sync.len(), lines.len());
    for l in lines {
        let r = sync.get(&l.key).expect("sync row per line");
        let h = b
            .table(1, EntitySet::SalesInvoices)
            .and_then(|t| {
                t.get(&Key::Guid(
                    uuid::Uuid::parse_str(s(l, "InvoiceID")).unwrap_or_default(),
                ))
            })
            .expect("header");
        assert_eq!(
            r.fields["AmountFC"], l.fields["AmountFC"],
            "AmountFC is the line's"
        );
        for f in [
            "InvoiceNumber",
            "InvoiceTo",
            "InvoiceDate",
            "DueDate",
            "Currency",
            "Status",
            "Type",
            "AmountFCExclVat",
        ] {
            assert_eq!(r.fields[f], h.fields[f], "{f} copied from the header");
        }
    }
}

#[test]
fn summary_matches_the_tables() {
    let b = Books::generate(&small(10));
    let sum = b.summary(1).expect("summary");
    assert_eq!(sum.counts["SalesInvoices"], 400);
    assert_eq!(
        sum.counts["TransactionLines"],
        b.table(1, EntitySet::TransactionLines)
            .map_or(0, Table::len)
    );
    let invoices = rows(&b, 1, EntitySet::SalesInvoices);
    let eur: i64 = invoices
        .iter()
        .filter(|i| s(i, "Currency") == "EUR")
        .map(|i| cents(i.fields.get("AmountFC")))
        .sum();
    assert_eq!(
        (sum.sales_invoices["EUR"].amount_fc * 100.0).round() as i64,
        eur
    );
    let open: i64 = rows(&b, 1, EntitySet::ReceivablesList)
        .iter()
        .filter(|r| s(r, "CurrencyCode") == "EUR")
        .map(|r| cents(r.fields.get("Amount")))
        .sum();
    assert_eq!(
        (sum.sales_invoices["EUR"].outstanding_fc * 100.0).round() as i64,
        open
    );
    assert_eq!(
        sum.purchase_entries.values().map(|t| t.count).sum::<u64>(),
        200
    );
}

/// Credit notes credit customers already invoiced, and some are only partly settled (a
/// receivable left, smaller than the note), as the credit notes data type needs.
#[test]
fn credit_notes_credit_invoiced_customers_and_some_are_partly_settled() {
    let b = Books::generate(&small(11));
    for div in [1, 2] {
        let mut invoices = rows(&b, div, EntitySet::SalesInvoices);
        // `/Date(ms)/` strings of the same length sort by date; the number breaks ties.
        invoices.sort_by_key(|r| {
            (
                s(r, "InvoiceDate").to_string(),
                r.fields["InvoiceNumber"].as_i64().unwrap_or_default(),
            )
        });
        let kind = |r: &Record| r.fields["Type"].as_i64().unwrap_or_default();
        let mut invoiced = std::collections::HashSet::new();
        let mut notes = HashMap::new();
        for r in &invoices {
            if matches!(kind(r), 8021 | 8024) {
                assert!(
                    invoiced.contains(s(r, "InvoiceTo")),
                    "credit note {} of a customer not invoiced before",
                    r.fields["InvoiceNumber"]
                );
                notes.insert(
                    r.fields["InvoiceNumber"].as_i64().unwrap_or_default(),
                    cents(r.fields.get("AmountFC")),
                );
            } else {
                invoiced.insert(s(r, "InvoiceTo").to_string());
            }
        }
        assert!(!notes.is_empty(), "division {div} has credit notes");
        let partly = rows(&b, div, EntitySet::ReceivablesList)
            .iter()
            .filter(|r| {
                let left = cents(r.fields.get("Amount"));
                notes
                    .get(&r.fields["InvoiceNumber"].as_i64().unwrap_or_default())
                    .is_some_and(|total| *total < left && left < 0)
            })
            .count();
        assert!(partly > 0, "division {div} has partly settled credit notes");
    }
}

#[test]
fn relations_include_accounts_of_both_roles_and_blocked_ones() {
    let b = Books::generate(&small(11));
    for div in [1, 2] {
        let accounts = rows(&b, div, EntitySet::Accounts);
        let flag = |r: &Record, f: &str| r.fields.get(f) == Some(&Value::Bool(true));
        let customer = |r: &Record| s(r, "Status") == "C" || flag(r, "IsSales");
        let both = accounts
            .iter()
            .filter(|r| customer(r) && flag(r, "IsSupplier"))
            .count();
        let sum = b.summary(div).expect("summary").relations;
        // 25 customers (3 also suppliers) and 10 suppliers (1 also a customer).
        assert_eq!((sum.customers, sum.suppliers, sum.both), (26, 13, 4));
        assert_eq!(sum.both as usize, both);
        assert!(
            sum.blocked_customers > 0 && sum.blocked_suppliers > 0,
            "{sum:?}"
        );
        for r in &accounts {
            // An account that buys has the purchase side filled in, one that sells the sales side.
            assert_eq!(flag(r, "IsSupplier"), !s(r, "PurchaseVATCode").is_empty());
            assert_eq!(customer(r), !s(r, "PaymentConditionSales").is_empty());
        }
    }
}

/// The summary's bills are the purchase entries proper, and its journal entries are every booked
/// document's entry (processed sales invoices, purchase entries, payments, general journals),
/// each balancing.
#[test]
fn summary_counts_bills_and_every_financial_entry() {
    let b = Books::generate(&small(10));
    for div in [1, 2] {
        let sum = b.summary(div).expect("summary");
        let entries = rows(&b, div, EntitySet::PurchaseEntries);
        let bills = entries.iter().filter(|e| e.fields["Type"] == 30).count() as u64;
        assert!(
            bills > 0 && (bills as usize) < entries.len(),
            "bills and credit notes"
        );
        assert_eq!(sum.bills.values().map(|t| t.count).sum::<u64>(), bills);
        let part_paid = sum
            .bills
            .values()
            .any(|t| t.unpaid_fc > 0.0 && t.unpaid_fc < t.amount_fc);
        assert!(part_paid, "some bills are still (partly) unpaid");

        let d = &b.divisions[&div];
        let booked_sales = d.sales.values().filter(|s| s.is_booked()).count();
        let payments: usize = d
            .sales
            .values()
            .filter(|s| s.is_booked())
            .map(|s| s.head.payments.len())
            .chain(d.purchases.values().map(|p| p.head.payments.len()))
            .sum();
        let expected = booked_sales + d.purchases.len() + payments + d.journals.len();
        assert_eq!(
            sum.journal_entries.values().map(|t| t.count).sum::<u64>(),
            expected as u64
        );
        assert_eq!(
            sum.journal_entries.values().map(|t| t.lines).sum::<u64>(),
            sum.counts["TransactionLines"] as u64
        );
        let mut balance: HashMap<String, i64> = HashMap::new();
        for t in rows(&b, div, EntitySet::TransactionLines) {
            *balance.entry(s(t, "EntryID").to_owned()).or_default() +=
                cents(t.fields.get("AmountFC"));
        }
        assert!(balance.values().all(|b| *b == 0), "every entry balances");
    }
}

/// Transaction lines carry Exact's cost center fields (null when the line has none), so a
/// `$select` naming them is served.
#[test]
fn transaction_lines_carry_cost_centers() {
    let b = Books::generate(&small(3));
    for div in [1, 2] {
        for t in rows(&b, div, EntitySet::TransactionLines) {
            assert!(t.fields.get("CostCenter").is_some(), "{:?}", t.key);
            assert!(t.fields.get("CostCenterDescription").is_some());
        }
    }
}

#[test]
fn a_benchmark_division_gets_its_chart_size_and_ledger_size() {
    let mut config = small(9);
    config.divisions.truncate(1);
    let drawn = Books::generate(&config);
    let chart = drawn.table(1, EntitySet::GLAccounts).unwrap().len();
    let lines = drawn.table(1, EntitySet::TransactionLines).unwrap().len() as u32;
    let spec = &mut config.divisions[0];
    spec.extra_gl_accounts = 100;
    spec.transaction_lines = Some(lines / 2);
    let sized = Books::generate(&config);
    assert_eq!(
        sized.table(1, EntitySet::GLAccounts).unwrap().len(),
        chart + 100
    );
    let codes: std::collections::HashSet<&str> = rows(&sized, 1, EntitySet::GLAccounts)
        .iter()
        .map(|r| s(r, "Code"))
        .collect();
    assert_eq!(codes.len(), chart + 100, "no code twice");
    assert_eq!(
        sized.table(1, EntitySet::TransactionLines).unwrap().len() as u32,
        lines / 2,
        "exactly the lines asked for"
    );
    // The same invoices, some of them unprocessed now; the books still add up.
    assert_eq!(
        sized.table(1, EntitySet::SalesInvoices).unwrap().len(),
        drawn.table(1, EntitySet::SalesInvoices).unwrap().len()
    );
    let summary = sized.summary(1).unwrap();
    assert!(summary.counts["SalesInvoices"] > 0);
}
