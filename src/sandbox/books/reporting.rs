//! `financial/ReportingBalance`: Exact's summary of the financial transactions, one row per
//! (ReportingYear, ReportingPeriod, G/L account, cost center, cost unit, transaction Type, Status)
//! with the sum of the amounts (division currency, debit positive), the debit and credit sums and
//! the number of transactions grouped. Built on request from the division's transaction lines, so
//! it agrees with them after any mutation, the way Exact's own summary does.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use uuid::Uuid;

use super::division::Division;
use super::{EntitySet, Key, Record, wire};

/// Cents of an amount field (0 when missing).
fn cents(v: Option<Value>) -> i64 {
    wire::round_cents(v.and_then(|v| v.as_f64()).unwrap_or_default() * 100.0)
}

fn int(v: Option<Value>) -> i64 {
    v.and_then(|v| v.as_i64()).unwrap_or_default()
}

/// What one group sums: amount, debit, credit (cents) and the number of lines.
#[derive(Default)]
struct Sums {
    amount: i64,
    debit: i64,
    credit: i64,
    count: i64,
}

/// The rows of `financial/ReportingBalance`, in key order.
pub(crate) fn reporting_balance(d: &Division) -> Vec<Record> {
    // (year, period, GL account, Type, Status) → sums. The sandbox books no cost centers or
    // cost units, so those parts of Exact's grouping are always empty.
    let mut groups: BTreeMap<(i64, i64, Uuid, i64, i64), Sums> = BTreeMap::new();
    for line in d.table(EntitySet::TransactionLines).records() {
        let f = &line.fields;
        let Some(gl) = f.value("GLAccount").as_ref().and_then(wire::parse_guid) else {
            continue;
        };
        let key = (
            int(f.value("FinancialYear")),
            int(f.value("FinancialPeriod")),
            gl,
            int(f.value("Type")),
            int(f.value("Status")),
        );
        let amount = cents(f.value("AmountDC"));
        let sums = groups.entry(key).or_default();
        sums.amount += amount;
        if amount >= 0 {
            sums.debit += amount;
        } else {
            sums.credit -= amount;
        }
        sums.count += 1;
    }
    let gl_accounts = d.table(EntitySet::GLAccounts);
    let mut rows: Vec<Record> = groups
        .into_iter()
        .map(|((year, period, gl, kind, status), sums)| {
            let id = group_id(year, period, gl, kind, status);
            let account = gl_accounts.get(&Key::Guid(gl));
            let field = |name: &str| account.and_then(|a| a.fields.value(name));
            let fields = wire::obj(json!({
                "ID": id,
                "Amount": wire::amount(sums.amount),
                "AmountCredit": wire::amount(sums.credit),
                "AmountDebit": wire::amount(sums.debit),
                "BalanceType": field("BalanceType"),
                "CostCenterCode": Value::Null,
                "CostCenterDescription": Value::Null,
                "CostUnitCode": Value::Null,
                "CostUnitDescription": Value::Null,
                "Count": sums.count,
                "Division": d.info.code,
                "GLAccount": wire::guid(gl),
                "GLAccountCode": field("Code"),
                "GLAccountDescription": field("Description"),
                "ReportingPeriod": period,
                "ReportingYear": year,
                "Status": status,
                "Type": kind,
            }));
            Record::from_map(Key::Int(id), 0, &fields)
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    rows
}

/// A group's `ID` (Int64): stable for the same grouping, whatever else changes in the books.
fn group_id(year: i64, period: i64, gl: Uuid, kind: i64, status: i64) -> i64 {
    let salt =
        ((year as u64) << 40) ^ ((period as u64) << 32) ^ ((kind as u64) << 8) ^ status as u64;
    let mixed = wire::derived_id(gl, salt).as_u64_pair().0;
    // Positive and within JavaScript's safe integers, as Exact's record ids are.
    (mixed >> 11) as i64
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use super::super::chart::gl_type_description;
    use super::super::{Books, BooksConfig, DivisionSpec};
    use super::*;
    use crate::sandbox::region::Region;

    fn books() -> Books {
        let spec = |code, region| DivisionSpec {
            code,
            region,
            description: format!("Test {code}"),
            customers: 10,
            suppliers: 5,
            sales_invoices: 80,
            purchase_entries: 40,
            journal_entries: 10,
            extra_gl_accounts: 0,
            transaction_lines: None,
        };
        Books::generate(&BooksConfig {
            seed: 7,
            divisions: vec![spec(1, Region::Nl), spec(2, Region::Uk)],
        })
    }

    fn cents_of(record: &Record, field: &str) -> i64 {
        cents(record.fields.value(field))
    }

    #[test]
    fn balances_sum_the_transaction_lines_per_account_and_ids_are_unique() {
        let books = books();
        for division in [1, 2] {
            let mut from_lines: HashMap<String, (i64, i64)> = HashMap::new();
            let lines = books.table(division, EntitySet::TransactionLines).unwrap();
            for line in lines.records() {
                let gl = line.fields.value("GLAccount").unwrap();
                let e = from_lines
                    .entry(gl.as_str().unwrap().to_owned())
                    .or_default();
                e.0 += cents(line.fields.value("AmountDC"));
                e.1 += 1;
            }
            let rows = books.reporting_balance(division).unwrap();
            let mut from_rows: HashMap<String, (i64, i64)> = HashMap::new();
            let mut ids = BTreeSet::new();
            for row in &rows {
                let gl = row.fields.value("GLAccount").unwrap();
                let e = from_rows
                    .entry(gl.as_str().unwrap().to_owned())
                    .or_default();
                e.0 += cents_of(row, "Amount");
                e.1 += int(row.fields.value("Count"));
                assert_eq!(
                    cents_of(row, "Amount"),
                    cents_of(row, "AmountDebit") - cents_of(row, "AmountCredit")
                );
                assert!(ids.insert(row.key.clone()), "duplicate ID");
                assert!(
                    row.fields
                        .value("BalanceType")
                        .is_some_and(|b| b == "B" || b == "W")
                );
            }
            assert_eq!(from_rows, from_lines);
            assert!(rows.windows(2).all(|w| w[0].key < w[1].key), "key order");
            assert!(rows.len() > 100, "{} rows: periods × accounts", rows.len());
        }
    }

    #[test]
    fn the_charts_hold_every_gl_account_type_exact_has_and_a_blocked_account() {
        let books = books();
        // Every type the connector's mapping table names, each with Exact's own description.
        let every: BTreeSet<i64> = crate::provider::exact::accounts::EXACT_GL_TYPES.into();
        for kind in &every {
            assert!(*kind == 90 || gl_type_description(*kind as i32) != "General");
        }
        for division in [1, 2] {
            let gl = books.table(division, EntitySet::GLAccounts).unwrap();
            let types: BTreeSet<i64> = gl.records().map(|g| int(g.fields.value("Type"))).collect();
            assert_eq!(types, every, "division {division}");
            assert_eq!(books.summary(division).unwrap().blocked_gl_accounts, 1);
        }
    }
}
