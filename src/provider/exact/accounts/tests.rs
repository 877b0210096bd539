//! The GL account mapping on rows shaped like Exact's answers (EXACT.md §7: `/Date()/` local
//! times, `Type` codes, `B`/`W` and `D`/`C`), NL and UK.

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::*;
use crate::provider::exact::row;

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
    row::parse(value).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A `sync/Financial/GLAccounts` row as Exact sends it.
fn gl(id: &str, code: &str, description: &str, kind: i64, side: &str, balance: &str) -> Value {
    json!({
        "__metadata": {"uri": "https://start.exactonline.nl/api/v1/101001/sync/Financial/GLAccounts(1L)",
                       "type": "Exact.Web.Api.Models.Sync.Financial.GLAccount"},
        "Timestamp": 18412, "ID": id, "Code": code, "Description": description, "Type": kind,
        "BalanceSide": side, "BalanceType": balance, "IsBlocked": false,
        "Modified": "/Date(1717243200000)/",
    })
}

fn balances(rows: &[(&str, f64)]) -> HashMap<String, Decimal> {
    let rows: Vec<ReportingBalanceRow> = rows
        .iter()
        .map(|(gl, amount)| {
            typed(
                json!({"ID": 7, "GLAccount": gl, "Amount": amount, "ReportingYear": 2026,
                         "ReportingPeriod": 3, "Type": 20, "Status": 50}),
            )
        })
        .collect();
    balances::from_reporting(&rows)
}

const NL_BANK: &str = "3f5d0a4e-6b1c-4a8e-9d2f-1c0b7e6a5d41";
const NL_VAT: &str = "8a2b6c1d-0e3f-4a5b-8c7d-9e0f1a2b3c4d";

#[test]
fn an_nl_bank_account_with_its_balance_summed_from_reporting_balance() {
    let balances = balances(&[
        (NL_BANK, 1500.25),
        (NL_BANK, -200.10),
        // Exact writes GUIDs in either case; the sum is per account all the same.
        (&NL_BANK.to_uppercase(), 10.0),
        (NL_VAT, -42.0),
    ]);
    let ctx = AccountContext {
        division_currency: "EUR",
        balances: &balances,
    };
    let account = map_account(&typed(gl(NL_BANK, "1100", "Bank", 12, "D", "B")), &ctx).unwrap();
    assert_eq!(account.id, NL_BANK);
    assert_eq!(account.nominal_code.as_deref(), Some("1100"));
    assert_eq!(account.name.as_deref(), Some("Bank"));
    assert_eq!(account.description.as_deref(), Some("Bank"));
    assert_eq!(account.r#type, AccountType::Asset);
    assert_eq!(
        account.fully_qualified_category.as_deref(),
        Some("Asset.Current")
    );
    assert_eq!(
        account.fully_qualified_name.as_deref(),
        Some("Asset.Current.Bank")
    );
    assert_eq!(account.currency, "EUR");
    assert_eq!(account.current_balance, Some(dec("1310.15")));
    assert_eq!(account.status, AccountStatus::Active);
    assert!(account.is_bank_account);
    assert_eq!(
        account.source_modified_date.as_deref(),
        Some("2024-06-01T12:00:00")
    );

    let vat = map_account(
        &typed(gl(NL_VAT, "1500", "Te betalen btw hoog", 24, "C", "B")),
        &ctx,
    )
    .unwrap();
    assert_eq!(
        (vat.r#type, vat.current_balance),
        (AccountType::Liability, Some(dec("-42")))
    );
    assert!(!vat.is_bank_account);
}

#[test]
fn a_uk_blocked_expense_account_without_transactions_is_archived_with_a_zero_balance() {
    let mut row = gl(
        "0d6e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a",
        "7301",
        "Motor Expenses (old)",
        120,
        "D",
        "W",
    );
    row["IsBlocked"] = json!(true);
    let none = HashMap::new();
    let ctx = AccountContext {
        division_currency: "GBP",
        balances: &none,
    };
    let account = map_account(&typed(row), &ctx).unwrap();
    assert_eq!(account.status, AccountStatus::Archived);
    assert_eq!(account.r#type, AccountType::Expense);
    assert_eq!(
        account.fully_qualified_name.as_deref(),
        Some("Expense.Operating.Motor Expenses (old)")
    );
    assert_eq!(account.current_balance, Some(Decimal::ZERO));
    assert_eq!(account.currency, "GBP");
    // Written in Codat's shape.
    let json = serde_json::to_value(&account).unwrap();
    assert_eq!(json["type"], "Expense");
    assert_eq!(json["status"], "Archived");
    assert_eq!(json["isBankAccount"], false);
    assert_eq!(json["currentBalance"], 0.0);
}

#[test]
fn uk_revenue_and_vat_on_purchases() {
    let none = HashMap::new();
    let ctx = AccountContext {
        division_currency: "GBP",
        balances: &none,
    };
    let sales = map_account(
        &typed(gl(NL_BANK, "4000", "Sales - Standard Rate", 110, "C", "W")),
        &ctx,
    )
    .unwrap();
    assert_eq!(sales.r#type, AccountType::Income);
    assert_eq!(
        sales.fully_qualified_category.as_deref(),
        Some("Income.Revenue")
    );
    let claim = map_account(
        &typed(gl(NL_VAT, "2201", "VAT on Purchases", 24, "D", "B")),
        &ctx,
    )
    .unwrap();
    assert_eq!(claim.r#type, AccountType::Asset);
}

/// Every type Exact documents maps inside Codat's enum, to a category under that type, whatever
/// its balance type and side.
#[test]
fn every_exact_gl_type_maps_to_a_codat_type_and_a_category_under_it() {
    for kind in EXACT_GL_TYPES {
        for balance_type in ["B", "W"] {
            for side in ["D", "C"] {
                let (account_type, category) = classify(Some(kind), Some(balance_type), Some(side));
                assert!(AccountType::ALL.contains(&account_type));
                assert_ne!(account_type, AccountType::Unknown, "type {kind}");
                let category = category.unwrap_or_else(|| panic!("type {kind} has a category"));
                let root = serde_json::to_value(account_type).unwrap();
                assert!(
                    category.starts_with(&format!("{}.", root.as_str().unwrap())),
                    "type {kind}: {category} is not under {root}"
                );
            }
        }
    }
    // The profit and loss types are Income or Expense, the balance sheet ones never are.
    for kind in [110, 111, 120, 121, 122, 123, 125, 126, 130, 140, 150, 160] {
        let (t, _) = classify(Some(kind), Some("W"), Some("D"));
        assert!(
            matches!(t, AccountType::Income | AccountType::Expense),
            "{kind}"
        );
    }
    for kind in [10, 12, 20, 22, 30, 50, 52, 55] {
        let (t, _) = classify(Some(kind), Some("B"), Some("D"));
        assert!(
            !matches!(t, AccountType::Income | AccountType::Expense),
            "{kind}"
        );
    }
}

#[test]
fn types_that_depend_on_the_balance_side_follow_it() {
    assert_eq!(
        classify(Some(24), Some("B"), Some("D")).0,
        AccountType::Asset
    );
    assert_eq!(
        classify(Some(24), Some("B"), Some("C")).0,
        AccountType::Liability
    );
    assert_eq!(
        classify(Some(90), Some("B"), Some("D")).0,
        AccountType::Asset
    );
    assert_eq!(
        classify(Some(90), Some("B"), Some("C")).0,
        AccountType::Liability
    );
    assert_eq!(
        classify(Some(90), Some("W"), Some("D")).0,
        AccountType::Expense
    );
    assert_eq!(
        classify(Some(90), Some("W"), Some("C")).0,
        AccountType::Income
    );
    assert_eq!(
        classify(Some(90), None, Some("C")),
        (AccountType::Unknown, None)
    );
    assert_eq!(
        classify(Some(24), Some("B"), None),
        (AccountType::Unknown, None)
    );
}

#[test]
fn an_unknown_type_code_is_unknown_without_a_category() {
    for kind in [Some(0), Some(11), Some(999), Some(-1), None] {
        assert_eq!(
            classify(kind, Some("B"), Some("D")),
            (AccountType::Unknown, None)
        );
    }
    let none = HashMap::new();
    let ctx = AccountContext {
        division_currency: "EUR",
        balances: &none,
    };
    let account = map_account(&typed(gl(NL_BANK, "9999", "Nieuw", 999, "D", "B")), &ctx).unwrap();
    assert_eq!(account.r#type, AccountType::Unknown);
    assert_eq!(account.fully_qualified_category, None);
    assert_eq!(account.fully_qualified_name, None);
    let json = serde_json::to_string(&account).unwrap();
    assert!(!json.contains("null"), "{json}");
}

#[test]
fn only_cash_bank_credit_card_and_payment_service_accounts_are_bank_accounts() {
    let none = HashMap::new();
    let ctx = AccountContext {
        division_currency: "EUR",
        balances: &none,
    };
    let bank: Vec<i64> = EXACT_GL_TYPES
        .into_iter()
        .filter(|kind| {
            map_account(&typed(gl(NL_BANK, "1", "x", *kind, "D", "B")), &ctx)
                .unwrap()
                .is_bank_account
        })
        .collect();
    assert_eq!(bank, [10, 12, 14, 16]);
}

#[test]
fn a_row_without_an_id_is_refused() {
    let none = HashMap::new();
    let ctx = AccountContext {
        division_currency: "EUR",
        balances: &none,
    };
    let mut row = gl(NL_BANK, "1100", "Bank", 12, "D", "B");
    row["ID"] = Value::Null;
    assert!(map_account(&typed(row), &ctx).is_err());
}
