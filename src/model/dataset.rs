//! The data types Ledgerline serves, and the registry that says how each one is named, read,
//! queried and pulled. Everything above the providers (routes, OpenAPI, the sync engine,
//! `dataStatus`) walks [`DATASETS`] instead of naming data types one by one.
//!
//! Adding a data type: its model (a file in this folder), a [`DataType`] variant, one line in
//! [`DATASETS`]; then, in each provider, a typed row and a mapping (see `provider/exact/`).

use utoipa::ToSchema;
use utoipa::openapi::{RefOr, Schema};

use super::{Account, Bill, CompanyInfo, CreditNote, Customer, Invoice, JournalEntry, Supplier};

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
    Customers,
    Suppliers,
    Invoices,
    CreditNotes,
    Bills,
    JournalEntries,
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
        data_type: DataType::Customers,
        key: "customers",
        path: "customers",
        record_name: "Customer",
        schemas: schemas_of::<Customer>,
        noun: ("customer", "customers"),
        about: "The people and businesses the company sells to, with their addresses, contact \
                details, tax and registration numbers; blocked ones are `Archived`.",
        id_param: Some("customerId"),
        query_paths: Customer::QUERY_PATHS,
        pull_order: 10,
    },
    DatasetSpec {
        data_type: DataType::Suppliers,
        key: "suppliers",
        path: "suppliers",
        record_name: "Supplier",
        schemas: schemas_of::<Supplier>,
        noun: ("supplier", "suppliers"),
        about: "The businesses the company buys from, with their addresses, contact details, tax \
                and registration numbers; blocked ones are `Archived`. A relation that is both \
                customer and supplier is in both data types under the same id.",
        id_param: Some("supplierId"),
        query_paths: Supplier::QUERY_PATHS,
        pull_order: 11,
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
    DatasetSpec {
        data_type: DataType::CreditNotes,
        key: "creditNotes",
        path: "creditNotes",
        record_name: "CreditNote",
        schemas: schemas_of::<CreditNote>,
        noun: ("credit note", "credit notes"),
        about: "Credit notes issued to customers, with their lines and the credit still to be \
            used; amounts are positive.",
        id_param: Some("creditNoteId"),
        query_paths: CreditNote::QUERY_PATHS,
        pull_order: 21,
    },
    DatasetSpec {
        data_type: DataType::Bills,
        key: "bills",
        path: "bills",
        record_name: "Bill",
        schemas: schemas_of::<Bill>,
        noun: ("bill", "bills"),
        about: "Purchase invoices from suppliers with their lines, what is still due on each, and \
            their status (purchase credit notes are not bills).",
        id_param: Some("billId"),
        query_paths: Bill::QUERY_PATHS,
        pull_order: 30,
    },
    DatasetSpec {
        data_type: DataType::JournalEntries,
        key: "journalEntries",
        path: "journalEntries",
        record_name: "JournalEntry",
        schemas: schemas_of::<JournalEntry>,
        noun: ("journal entry", "journal entries"),
        about: "Every entry of the general ledger (sales, purchases, bank and general journal) with \
            its balancing lines and the record it came from.",
        id_param: Some("journalEntryId"),
        query_paths: JournalEntry::QUERY_PATHS,
        pull_order: 40,
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
