//! The data types Ledgerline serves, and the registry that says how each one is named, read,
//! queried and pulled. Everything above the providers (routes, OpenAPI, the sync engine,
//! `dataStatus`) walks [`DATASETS`] instead of naming data types one by one.
//!
//! Adding a data type: its model (a file in this folder), a [`DataType`] variant, one line in
//! [`DATASETS`]; then, in each provider, a typed row and a mapping (see `provider/exact/`).

use utoipa::ToSchema;
use utoipa::openapi::{RefOr, Schema};

use super::{Account, CompanyInfo, Invoice};

/// Collects a record's OpenAPI schemas: its own, named, and every one it refers to.
pub type SchemaCollector = fn(&mut Vec<(String, RefOr<Schema>)>);

/// The [`SchemaCollector`] of a model type.
pub fn schemas_of<T: ToSchema>(out: &mut Vec<(String, RefOr<Schema>)>) {
    out.push((T::name().into_owned(), T::schema()));
    T::schemas(out);
}

/// A data type, by what it is. Codat's names for it are in its [`DatasetSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataType {
    CompanyInfo,
    Accounts,
    Invoices,
}

/// How one data type is named, read, queried and pulled.
#[derive(Debug, Clone, Copy)]
pub struct DatasetSpec {
    pub data_type: DataType,
    /// Codat's data type key, used by `dataStatus`, `data/queue/{key}`, pull operations and sync
    /// settings (`chartOfAccounts` for accounts, `company` for company info).
    pub key: &'static str,
    /// The read path under `/companies/{companyId}/data/` (`accounts`, `info`).
    pub path: &'static str,
    /// One record's name in Codat's messages (`Could not resolve property x on Invoice`) and
    /// its OpenAPI schema's name.
    pub record_name: &'static str,
    /// The record's OpenAPI schemas ([`schemas_of`] its model type).
    pub schemas: SchemaCollector,
    /// What the documentation calls one record and several (`invoice`, `invoices`).
    pub noun: (&'static str, &'static str),
    /// The list operation's description: what a record is and where it comes from.
    pub about: &'static str,
    /// The path parameter of a get-one (`invoiceId`); `None` when the path serves a single
    /// record rather than a list (company info).
    pub id_param: Option<&'static str>,
    /// The property paths `query` and `orderBy` may name.
    pub query_paths: &'static [&'static str],
    /// Lower pulls first: data types that others refer to (customers, accounts) come before
    /// the ones that refer to them, so a fresh link never serves a dangling ref for long.
    pub pull_order: u8,
}

/// Every data type served, in pull order.
pub const DATASETS: &[DatasetSpec] = &[
    DatasetSpec {
        data_type: DataType::CompanyInfo,
        key: "company",
        path: "info",
        record_name: "CompanyInfo",
        schemas: schemas_of::<CompanyInfo>,
        noun: ("company info", "company info"),
        about: "The company behind the connection: its name, base currency, registration and \
                VAT numbers and address (a single record, no paging).",
        id_param: None,
        query_paths: CompanyInfo::QUERY_PATHS,
        pull_order: 1,
    },
    DatasetSpec {
        data_type: DataType::Accounts,
        key: "chartOfAccounts",
        path: "accounts",
        record_name: "Account",
        schemas: schemas_of::<Account>,
        noun: ("account", "accounts"),
        about: "The chart of accounts: every nominal (GL) account with its type, category, \
                status and current balance; the accounts other records' `accountRef` names.",
        id_param: Some("accountId"),
        query_paths: Account::QUERY_PATHS,
        pull_order: 5,
    },
    DatasetSpec {
        data_type: DataType::Invoices,
        key: "invoices",
        path: "invoices",
        record_name: "Invoice",
        schemas: schemas_of::<Invoice>,
        noun: ("invoice", "invoices"),
        about: "Sales invoices with their lines, what is still due on each, and their status \
            (credit notes are the `creditNotes` data type).",
        id_param: Some("invoiceId"),
        query_paths: Invoice::QUERY_PATHS,
        pull_order: 20,
    },
];

impl DataType {
    /// Every data type served, in pull order.
    pub fn all() -> impl Iterator<Item = DataType> {
        DATASETS.iter().map(|spec| spec.data_type)
    }

    /// Its registry entry.
    pub fn spec(self) -> &'static DatasetSpec {
        DATASETS
            .iter()
            .find(|spec| spec.data_type == self)
            .expect("every DataType has a line in DATASETS")
    }

    /// Codat's key (`invoices`, `chartOfAccounts`), used in dataStatus and pull operations.
    pub fn key(self) -> &'static str {
        self.spec().key
    }

    /// The data type with this Codat key.
    pub fn from_key(key: &str) -> Option<DataType> {
        DATASETS
            .iter()
            .find(|spec| spec.key == key)
            .map(|spec| spec.data_type)
    }

    /// The data type read at `/companies/{companyId}/data/{path}`.
    pub fn from_path(path: &str) -> Option<DataType> {
        DATASETS
            .iter()
            .find(|spec| spec.path == path)
            .map(|spec| spec.data_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_paths_are_unique_and_every_variant_is_registered() {
        let mut keys: Vec<_> = DATASETS.iter().map(|s| s.key).collect();
        let mut paths: Vec<_> = DATASETS.iter().map(|s| s.path).collect();
        keys.sort();
        keys.dedup();
        paths.sort();
        paths.dedup();
        assert_eq!(keys.len(), DATASETS.len());
        assert_eq!(paths.len(), DATASETS.len());
        for spec in DATASETS {
            assert_eq!(DataType::from_key(spec.key), Some(spec.data_type));
            assert_eq!(DataType::from_path(spec.path), Some(spec.data_type));
        }
        let orders: Vec<_> = DATASETS.iter().map(|s| s.pull_order).collect();
        assert!(
            orders.windows(2).all(|w| w[0] <= w[1]),
            "DATASETS is in pull order"
        );
    }
}
