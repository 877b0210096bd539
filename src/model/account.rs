//! Codat's Account (`../shared/CODAT.md` §4.4, data type key `chartOfAccounts`): one nominal
//! (GL) account of the company's chart. Codat's SDK requires no field; `type`, `status` and
//! `isBankAccount` are closed or plain values it validates, so they are always sent.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::refs::Metadata;

/// What an account is in the accounting equation. Closed: Codat's SDK rejects any other value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum AccountType {
    /// Outside the category layout Codat knows (its `fullyQualifiedCategory` is then absent).
    Unknown,
    Asset,
    Expense,
    Income,
    Liability,
    Equity,
}

impl AccountType {
    /// Every value Codat allows.
    pub const ALL: [AccountType; 6] = [
        AccountType::Unknown,
        AccountType::Asset,
        AccountType::Expense,
        AccountType::Income,
        AccountType::Liability,
        AccountType::Equity,
    ];
}

/// Whether the account is in use. Closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AccountStatus {
    Unknown,
    Active,
    /// Blocked at the source: kept for history, no new postings.
    Archived,
    Pending,
}

impl Account {
    /// The property paths `query` and `orderBy` may name: every scalar field and those of
    /// `metadata`.
    pub const QUERY_PATHS: &'static [&'static str] = &[
        "id",
        "nominalCode",
        "name",
        "description",
        "fullyQualifiedCategory",
        "fullyQualifiedName",
        "currency",
        "currentBalance",
        "type",
        "status",
        "isBankAccount",
        "modifiedDate",
        "sourceModifiedDate",
        "metadata.isDeleted",
    ];
}

/// A nominal account in Codat's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The account's id at the source; what `accountRef.id` of other records names.
    pub id: String,
    /// The code bookkeepers use (not unique in Codat's model).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nominal_code: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `Type.Category` path, e.g. `Asset.Current.Bank`, `Income.Revenue`.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fully_qualified_category: Option<String>,
    /// The category path with the account's name last.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fully_qualified_name: Option<String>,
    /// ISO 4217: the currency the account is kept in.
    pub currency: String,
    /// The balance in `currency`, debit positive.
    #[serde(with = "rust_decimal::serde::float_option", default)]
    #[schema(nullable = false, value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_balance: Option<Decimal>,
    #[serde(rename = "type")]
    pub r#type: AccountType,
    pub status: AccountStatus,
    /// A bank, cash, credit card or payment service account.
    pub is_bank_account: bool,
    /// When Ledgerline last saw the record change (UTC); set by the store on every change.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_date: Option<String>,
    /// When the source last changed the record (local time).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_modified_date: Option<String>,
    pub metadata: Metadata,
    #[schema(nullable = false, value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplemental_data: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(some: bool) -> Account {
        let text = |t: &str| some.then(|| t.to_string());
        Account {
            id: "1".into(),
            nominal_code: text("1100"),
            name: text("Bank"),
            description: text("Bank"),
            fully_qualified_category: text("Asset.Current.Bank"),
            fully_qualified_name: text("Asset.Current.Bank.Bank"),
            currency: "EUR".into(),
            current_balance: some.then_some(Decimal::ONE),
            r#type: AccountType::Asset,
            status: AccountStatus::Active,
            is_bank_account: true,
            modified_date: text("2025-02-01T00:00:00Z"),
            source_modified_date: text("2025-02-01T00:00:00"),
            metadata: Metadata {
                is_deleted: some.then_some(false),
            },
            supplemental_data: None,
        }
    }

    #[test]
    fn fields_without_a_value_are_left_out_never_null() {
        let json = serde_json::to_string(&account(false)).unwrap();
        assert_eq!(
            json,
            r#"{"id":"1","currency":"EUR","type":"Asset","status":"Active","isBankAccount":true,"metadata":{}}"#
        );
        let back: Account = serde_json::from_str(&json).unwrap();
        assert_eq!(back, account(false));
    }

    #[test]
    fn query_paths_are_exactly_the_scalar_paths_of_the_serialized_account() {
        super::super::assert_query_paths_are_the_scalar_paths(
            &serde_json::to_value(account(true)).unwrap(),
            Account::QUERY_PATHS,
        );
    }
}
