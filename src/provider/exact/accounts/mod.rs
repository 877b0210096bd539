//! Exact GL accounts → Codat's Account (data type `chartOfAccounts`).
//!
//! Read from `sync/Financial/GLAccounts` (1,000 rows a call); the balances are the sums of the
//! accounts' lines in `sync/Financial/TransactionLines` (see [`balances`]).
//!
//! | Exact | Account | why |
//! |---|---|---|
//! | `ID` | `id` | the GL account's GUID: what invoice and journal lines name in `accountRef.id` |
//! | `Code` | `nominalCode` | the code bookkeepers use |
//! | `Description` | `name`, `description` | Exact has one text; Codat sends it as both (its Exact UK note) |
//! | `Type`, `BalanceType`, `BalanceSide` | `type`, `fullyQualifiedCategory` | the table below |
//! | category + `Description` | `fullyQualifiedName` | `Liability.Current.VAT on Sales` |
//! | division `Currency` | `currency` | Exact keeps every GL account in the division's currency |
//! | Σ `TransactionLines.AmountDC` of the account | `currentBalance` | every year, type and status: the balance after entry, debit positive (Exact's sign); what `financial/ReportingBalance` sums per period (a sandbox test checks every account against it) |
//! | `IsBlocked` | `status` | blocked → `Archived`, else `Active` |
//! | `Type` 10, 12, 14, 16 | `isBankAccount` | cash, bank, credit card, payment service: the accounts money moves through |
//! | `Modified` | `sourceModifiedDate` | local time |
//!
//! `currentBalance` sums every year: Exact's year-end closing books the balance sheet's
//! closing (Type 327) and opening (328) lines, which cancel out across years, and moves the
//! year's result from the profit and loss accounts to equity, so the sum is the balance now for
//! both kinds of account. An account with no transactions has a balance of 0. The sign is
//! Exact's, debit positive, the convention of Codat's journal lines (`netAmount`); Codat does not
//! document a sign for `currentBalance` (UNCONFIRMED how it signs credit balances).
//!
//! # Pulls and what they cost (calls to Exact)
//!
//! The balances come from the general ledger, 1,000 lines a call, instead of
//! `financial/ReportingBalance`, 60 rows a call (14 calls at 10,000 sandbox invoices, on every
//! pull): a run that reads the lines in full for bills or journal entries has them for free, and
//! an incremental pull learns from the lines' Timestamps whether any balance moved at all.
//!
//! | pull | calls |
//! |---|---|
//! | in full | ⌈GL/1000⌉ + ⌈lines/1000⌉ (none when the run reads the ledger in full for bills or journal entries: its sums) + 1 to count ReportingBalance's rows (kept in the cursor) + `system/Divisions` (once a run) |
//! | nothing changed | `sync/Financial/GLAccounts` since the cursor (1) + the lines since it (1, or none when the run's ledger read covers it) + the run's `sync/Deleted` and `system/Divisions` (shared): 4 for the chart alone; in a run of everything only the GL accounts' call is the chart's own |
//! | lines changed or deleted (`EntityType` 1) | + every balance, from the run's full ledger read if any, else the cheaper of every line's `Timestamp,ID,GLAccount,AmountDC` (⌈lines/1000⌉) and every ReportingBalance row (⌈rows/60⌉), by the sizes in the cursor; + every GL account (⌈GL/1000⌉), all pushed (the sink rewrites only those that differ), absence meaning deletion |
//! | only GL accounts changed | + their balances: the run's full ledger read if any, else their own ReportingBalance rows (20 accounts a `$filter`) when the cursor's sizes say that costs no more than reading every balance, else every balance |
//! | a GL account deleted (`EntityType` 7) | nothing more: served with `metadata.isDeleted` |
//!
//! Why the balances of renamed or blocked accounts are read at all: their balance did not move,
//! but the provider cannot read the stored record to keep it, and a pushed record replaces it.
//! Their own ReportingBalance rows cost ⌈rows/60⌉ per 20 accounts (one call for a few accounts of a
//! sandbox division), every line ⌈lines/1000⌉; a renamed bank account with years of periods may
//! tip it, so the cursor's sizes decide. Only ReportingBalance's size is not known from a read the
//! pull makes anyway: the full pull counts it (`$top=1&$inlinecount=allpages`, one call).
//!
//! Why a changed line recomputes every balance rather than the touched accounts': a line moved to
//! another account names only its new one, and a deleted line (`sync/Deleted`) names none.
//!
//! # Exact's GL account types (EXACT.md §7), every one of them
//!
//! | `Type` | Exact | `type` | `fullyQualifiedCategory` |
//! |---|---|---|---|
//! | 10 | Cash | Asset | `Asset.Current` |
//! | 12 | Bank | Asset | `Asset.Current` |
//! | 14 | Credit card | Liability | `Liability.Current` |
//! | 16 | Payment services | Asset | `Asset.Current` |
//! | 20 | Accounts receivable | Asset | `Asset.Current` |
//! | 21 | Prepayment accounts receivable (advances from customers) | Liability | `Liability.Current` |
//! | 22 | Accounts payable | Liability | `Liability.Current` |
//! | 24 | VAT | by `BalanceSide`: D Asset, C Liability | `Asset.Current` / `Liability.Current` |
//! | 25 | Employees payable | Liability | `Liability.Current` |
//! | 26 | Prepaid expenses | Asset | `Asset.Current` |
//! | 27 | Accrued expenses | Liability | `Liability.Current` |
//! | 29 | Income taxes payable | Liability | `Liability.Current` |
//! | 30 | Fixed assets | Asset | `Asset.Fixed` |
//! | 32 | Other assets | Asset | `Asset.NonCurrent` |
//! | 35 | Accumulated depreciation | Asset | `Asset.Fixed` (a contra account: credit balance) |
//! | 40 | Inventory | Asset | `Asset.Current` |
//! | 50 | Capital stock | Equity | `Equity.Owners` |
//! | 52 | Retained earnings | Equity | `Equity.RetainedEarnings` |
//! | 55 | Long-term debt | Liability | `Liability.NonCurrent` |
//! | 60 | Current portion of debt | Liability | `Liability.Current` |
//! | 90 | General | by `BalanceType` and `BalanceSide`: B+D Asset, B+C Liability, W+D Expense, W+C Income | `Asset.Current`, `Liability.Current`, `Expense.Other`, `Income.Other` |
//! | 100 | Tax payable | Liability | `Liability.Current` |
//! | 110 | Revenue | Income | `Income.Revenue` |
//! | 111 | Cost of goods | Expense | `Expense.CostOfSales` |
//! | 120 | Other costs | Expense | `Expense.Operating` |
//! | 121 | Sales, general administrative expenses | Expense | `Expense.Operating` |
//! | 122 | Depreciation costs | Expense | `Expense.Operating` |
//! | 123 | Research and development | Expense | `Expense.Operating` |
//! | 125 | Employee costs | Expense | `Expense.Operating` |
//! | 126 | Employment costs | Expense | `Expense.Operating` |
//! | 130 | Exceptional costs | Expense | `Expense.Other` |
//! | 140 | Exceptional income | Income | `Income.Other` |
//! | 150 | Income taxes | Expense | `Expense.Tax` |
//! | 160 | Interest income | Income | `Income.Other` |
//! | 300 | Year-end reflection (the year's result carried to equity) | Equity | `Equity.CurrentYearEarnings` |
//! | 301 | Indirect year-end costing | Expense | `Expense.Other` |
//! | 302 | Direct year-end costing | Expense | `Expense.Other` |
//!
//! Any other `Type` (or a type 90 without its balance type and side) is Codat's `Unknown` with
//! no category, as Codat does for an account outside its category layout.

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::Deserialize;

pub mod balances;
pub(super) mod pull;

pub(super) use pull::CURSOR_ENDPOINTS;

use super::row::de;
use crate::model::refs::Metadata;
use crate::model::{Account, AccountStatus, AccountType, local_datetime};

/// A `sync/Financial/GLAccounts` row.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct GlAccountRow {
    #[serde(deserialize_with = "de::int64")]
    pub timestamp: Option<i64>,
    #[serde(rename = "ID", deserialize_with = "de::text")]
    pub id: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub code: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub description: Option<String>,
    #[serde(deserialize_with = "de::int64")]
    pub r#type: Option<i64>,
    /// `B` balance sheet, `W` profit and loss.
    #[serde(deserialize_with = "de::text")]
    pub balance_type: Option<String>,
    /// `D` debit, `C` credit.
    #[serde(deserialize_with = "de::text")]
    pub balance_side: Option<String>,
    #[serde(deserialize_with = "de::flag")]
    pub is_blocked: Option<bool>,
    #[serde(deserialize_with = "de::date")]
    pub modified: Option<NaiveDateTime>,
}

/// A `financial/ReportingBalance` row: one group's sum, in the division's currency.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ReportingBalanceRow {
    #[serde(rename = "GLAccount", deserialize_with = "de::text")]
    pub gl_account: Option<String>,
    #[serde(deserialize_with = "de::decimal")]
    pub amount: Option<Decimal>,
}

/// Codat's type and category of an Exact GL account, from its `Type` (and, where the type
/// leaves it open, `BalanceType` and `BalanceSide`): the table in this module's documentation.
pub fn classify(
    kind: Option<i64>,
    balance_type: Option<&str>,
    balance_side: Option<&str>,
) -> (AccountType, Option<&'static str>) {
    use AccountType::{Asset, Equity, Expense, Income, Liability};
    let (account_type, category) = match kind {
        Some(10 | 12 | 16 | 20 | 26 | 40) => (Asset, "Asset.Current"),
        Some(14 | 21 | 22 | 25 | 27 | 29 | 60 | 100) => (Liability, "Liability.Current"),
        Some(24) => match balance_side {
            Some("D") => (Asset, "Asset.Current"),
            Some("C") => (Liability, "Liability.Current"),
            _ => return (AccountType::Unknown, None),
        },
        Some(30 | 35) => (Asset, "Asset.Fixed"),
        Some(32) => (Asset, "Asset.NonCurrent"),
        Some(50) => (Equity, "Equity.Owners"),
        Some(52) => (Equity, "Equity.RetainedEarnings"),
        Some(55) => (Liability, "Liability.NonCurrent"),
        Some(90) => match (balance_type, balance_side) {
            (Some("B"), Some("D")) => (Asset, "Asset.Current"),
            (Some("B"), Some("C")) => (Liability, "Liability.Current"),
            (Some("W"), Some("D")) => (Expense, "Expense.Other"),
            (Some("W"), Some("C")) => (Income, "Income.Other"),
            _ => return (AccountType::Unknown, None),
        },
        Some(110) => (Income, "Income.Revenue"),
        Some(111) => (Expense, "Expense.CostOfSales"),
        Some(120 | 121 | 122 | 123 | 125 | 126) => (Expense, "Expense.Operating"),
        Some(130 | 301 | 302) => (Expense, "Expense.Other"),
        Some(140 | 160) => (Income, "Income.Other"),
        Some(150) => (Expense, "Expense.Tax"),
        Some(300) => (Equity, "Equity.CurrentYearEarnings"),
        _ => return (AccountType::Unknown, None),
    };
    (account_type, Some(category))
}

/// Exact's GL account types that money moves through: cash, bank, credit card, payment service.
const BANK_TYPES: [i64; 4] = [10, 12, 14, 16];

/// Every `Type` Exact documents for a GL account (EXACT.md §7).
pub const EXACT_GL_TYPES: [i64; 37] = [
    10, 12, 14, 16, 20, 21, 22, 24, 25, 26, 27, 29, 30, 32, 35, 40, 50, 52, 55, 60, 90, 100, 110,
    111, 120, 121, 122, 123, 125, 126, 130, 140, 150, 160, 300, 301, 302,
];

/// What the mapping needs besides the GL account's own row.
#[derive(Debug, Clone, Copy)]
pub struct AccountContext<'a> {
    /// The division's currency: every GL account is kept in it.
    pub division_currency: &'a str,
    /// The balance per GL account ID (lower case, see [`balances`]); an account without
    /// transactions has none.
    pub balances: &'a std::collections::HashMap<String, Decimal>,
}

/// Maps one GL account.
pub fn map_account(row: &GlAccountRow, ctx: &AccountContext<'_>) -> Result<Account, String> {
    let id = row.id.clone().ok_or("no ID")?;
    let (account_type, category) = classify(
        row.r#type,
        row.balance_type.as_deref(),
        row.balance_side.as_deref(),
    );
    let name = row.description.clone();
    let fully_qualified_name = category.map(|c| match &name {
        Some(name) => format!("{c}.{name}"),
        None => c.to_string(),
    });
    let current_balance = ctx
        .balances
        .get(&id.to_ascii_lowercase())
        .copied()
        .unwrap_or_default();
    Ok(Account {
        nominal_code: row.code.clone(),
        description: name.clone(),
        name,
        fully_qualified_category: category.map(str::to_string),
        fully_qualified_name,
        currency: ctx.division_currency.to_string(),
        current_balance: Some(current_balance),
        r#type: account_type,
        status: if row.is_blocked == Some(true) {
            AccountStatus::Archived
        } else {
            AccountStatus::Active
        },
        is_bank_account: row.r#type.is_some_and(|t| BANK_TYPES.contains(&t)),
        modified_date: None,
        source_modified_date: row.modified.map(local_datetime),
        metadata: Metadata {
            is_deleted: Some(false),
        },
        supplemental_data: None,
        id,
    })
}

#[cfg(test)]
mod tests;
