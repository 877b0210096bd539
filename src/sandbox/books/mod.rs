//! Deterministic, consistent accounting books for sandbox divisions, held as tables in Exact's wire form.
//!
//! `Books::generate` makes the same books, byte for byte, for the same `BooksConfig`. Every row is
//! built as a `serde_json::Map` in Exact's wire form (see `wire`) and stored compactly (see `fields`:
//! names shared per table, values as tagged bytes, strings pooled per division); derived rows (entries, transaction lines,
//! outstanding items, payment terms, flattened sync rows) are recomputed from their source document on
//! every mutation, so the books always add up. Conventions that Exact leaves open:
//!
//! - Amounts are rounded to cents; debit is positive and credit negative in transaction lines.
//! - `ReceivablesList.Amount` / `PayablesList.Amount` = what is still outstanding, in the document's
//!   currency (`CurrencyCode`), positive when the customer owes us / we owe the supplier, negative for
//!   credit notes. Fully paid documents have no row.
//! - `PaymentTerms.AmountFC/AmountDC` = the full term amount with the same sign convention;
//!   `IsFullyPaid` and `Status` (20 open, 50 matched) say whether it is settled.
//! - `SyncSalesInvoices` rows follow picqer's `SyncSalesInvoice` docblocks: per line, `AmountFC`,
//!   `AmountDC`, `VATAmountFC`, `VATAmountDC` are the **line's** amounts (excl. VAT for AmountFC);
//!   the header total excl. VAT is `AmountFCExclVat` ("only supported for header" in Exact); the header's
//!   other fields (InvoiceNumber, InvoiceTo, dates, Currency, Status, Type, …) are copied onto every line.
//! - Deletions are logged with Exact's `sync/Deleted` EntityType codes: 1 TransactionLines, 2 Accounts,
//!   5 Contacts, 7 GLAccounts, 10 PaymentTerms, 13 SalesInvoices (the header's InvoiceID and each line's ID of the
//!   flattened sync rows). Other sets have no code in Exact and are not logged.

mod chart;
mod contacts;
mod division;
mod docs;
mod entry;
mod fields;
mod generate;
mod input;
mod journal;
mod mutate;
mod names;
mod purchase;
mod reporting;
mod sales;
mod summary;
mod table;
mod wire;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_mutate;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::region::Region;
use division::Division;
pub(crate) use fields::Cell;
pub use fields::{FieldSource, Fields};
pub use summary::{BooksSummary, CurrencyTotals, JournalTotals};
pub use table::Table;

/// The fixed date the generated books end on: documents are dated in the ~18 months before it, so
/// the same seed gives the same books whatever day it is.
pub const ANCHOR_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2026, 6, 30) {
    Some(d) => d,
    None => panic!("valid anchor date"),
};

/// What to generate: a seed and the divisions.
#[derive(Clone, Debug)]
pub struct BooksConfig {
    /// The RNG seed: same seed, same books.
    pub seed: u64,
    /// The divisions to generate, each in its region's currency and VAT regime.
    pub divisions: Vec<DivisionSpec>,
}

/// One division to generate and how much to put in it.
#[derive(Clone, Debug)]
pub struct DivisionSpec {
    /// Exact's division code (Int32).
    pub code: i32,
    /// NL (EUR, Dutch VAT) or UK (GBP, UK VAT).
    pub region: Region,
    /// The division's name (`system/Divisions.Description`).
    pub description: String,
    /// Number of customer accounts.
    pub customers: u32,
    /// Number of supplier accounts.
    pub suppliers: u32,
    /// Number of sales invoices (all statuses and types).
    pub sales_invoices: u32,
    /// Number of purchase entries.
    pub purchase_entries: u32,
    /// Number of general journal entries.
    pub journal_entries: u32,
    /// GL accounts beside the region's chart (no postings): a chart of a benchmark's size.
    pub extra_gl_accounts: u32,
    /// The transaction lines wanted: sales invoices are left unprocessed (status 20, no entry,
    /// no payment) until the ledger holds this many lines, as near as the documents allow.
    /// `None` processes them as drawn (~6 lines an invoice).
    pub transaction_lines: Option<u32>,
}

impl BooksConfig {
    /// A small default: two NL divisions and one UK division with a few hundred invoices each.
    pub fn demo() -> Self {
        let spec = |code, region, description: &str, invoices| DivisionSpec {
            code,
            region,
            description: description.to_owned(),
            customers: 40,
            suppliers: 20,
            sales_invoices: invoices,
            purchase_entries: invoices / 2,
            journal_entries: 30,
            extra_gl_accounts: 0,
            transaction_lines: None,
        };
        BooksConfig {
            seed: 42,
            divisions: vec![
                spec(101001, Region::Nl, "Ledgerline Demo B.V.", 300),
                spec(101002, Region::Nl, "Ledgerline Holding B.V.", 200),
                spec(201001, Region::Uk, "Ledgerline Demo Ltd", 300),
            ],
        }
    }
}

/// The tables the sandbox serves, one per Exact entity set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntitySet {
    /// `crm/Accounts` (key `ID`).
    Accounts,
    /// `salesinvoice/SalesInvoices` (key `InvoiceID`).
    SalesInvoices,
    /// `salesinvoice/SalesInvoiceLines` (key `ID`).
    SalesInvoiceLines,
    /// `salesentry/SalesEntries` (key `EntryID`).
    SalesEntries,
    /// `salesentry/SalesEntryLines` (key `ID`).
    SalesEntryLines,
    /// `purchaseentry/PurchaseEntries` (key `EntryID`).
    PurchaseEntries,
    /// `purchaseentry/PurchaseEntryLines` (key `ID`).
    PurchaseEntryLines,
    /// `financial/GLAccounts` (key `ID`).
    GLAccounts,
    /// `financialtransaction/TransactionLines` (key `ID`).
    TransactionLines,
    /// `generaljournalentry/GeneralJournalEntries` (key `EntryID`).
    GeneralJournalEntries,
    /// `generaljournalentry/GeneralJournalEntryLines` (key `ID`).
    GeneralJournalEntryLines,
    /// `read/financial/ReceivablesList` (key `HID`, Int64).
    ReceivablesList,
    /// `read/financial/PayablesList` (key `HID`, Int64).
    PayablesList,
    /// `vat/VATCodes` (key `ID`).
    VATCodes,
    /// `sync/Cashflow/PaymentTerms` rows (key `ID`).
    PaymentTerms,
    /// `sync/SalesInvoice/SalesInvoices`: one row per invoice line (key = line `ID`), header fields flattened in.
    SyncSalesInvoices,
    /// `crm/Contacts` (key `ID`): the people of a relation (`Account`).
    Contacts,
}

impl EntitySet {
    /// Every entity set, in a fixed order.
    pub const ALL: [EntitySet; 17] = [
        EntitySet::Accounts,
        EntitySet::SalesInvoices,
        EntitySet::SalesInvoiceLines,
        EntitySet::SalesEntries,
        EntitySet::SalesEntryLines,
        EntitySet::PurchaseEntries,
        EntitySet::PurchaseEntryLines,
        EntitySet::GLAccounts,
        EntitySet::TransactionLines,
        EntitySet::GeneralJournalEntries,
        EntitySet::GeneralJournalEntryLines,
        EntitySet::ReceivablesList,
        EntitySet::PayablesList,
        EntitySet::VATCodes,
        EntitySet::PaymentTerms,
        EntitySet::SyncSalesInvoices,
        EntitySet::Contacts,
    ];

    /// The entity set's name, as used in summaries and messages (`"SalesInvoices"`).
    pub fn name(self) -> &'static str {
        match self {
            EntitySet::Accounts => "Accounts",
            EntitySet::SalesInvoices => "SalesInvoices",
            EntitySet::SalesInvoiceLines => "SalesInvoiceLines",
            EntitySet::SalesEntries => "SalesEntries",
            EntitySet::SalesEntryLines => "SalesEntryLines",
            EntitySet::PurchaseEntries => "PurchaseEntries",
            EntitySet::PurchaseEntryLines => "PurchaseEntryLines",
            EntitySet::GLAccounts => "GLAccounts",
            EntitySet::TransactionLines => "TransactionLines",
            EntitySet::GeneralJournalEntries => "GeneralJournalEntries",
            EntitySet::GeneralJournalEntryLines => "GeneralJournalEntryLines",
            EntitySet::ReceivablesList => "ReceivablesList",
            EntitySet::PayablesList => "PayablesList",
            EntitySet::VATCodes => "VATCodes",
            EntitySet::PaymentTerms => "PaymentTerms",
            EntitySet::SyncSalesInvoices => "SyncSalesInvoices",
            EntitySet::Contacts => "Contacts",
        }
    }

    /// The name of the key field in `Record.fields` (`ID`, `InvoiceID`, `EntryID` or `HID`).
    pub fn key_field(self) -> &'static str {
        match self {
            EntitySet::SalesInvoices => "InvoiceID",
            EntitySet::SalesEntries
            | EntitySet::PurchaseEntries
            | EntitySet::GeneralJournalEntries => "EntryID",
            EntitySet::ReceivablesList | EntitySet::PayablesList => "HID",
            _ => "ID",
        }
    }

    /// The `sync/Deleted` EntityType code (EXACT.md §5) logged when a row of this set is deleted.
    pub fn deleted_entity_type(self) -> Option<i32> {
        match self {
            EntitySet::TransactionLines => Some(1),
            EntitySet::Accounts => Some(2),
            EntitySet::Contacts => Some(5),
            EntitySet::GLAccounts => Some(7),
            EntitySet::PaymentTerms => Some(10),
            EntitySet::SalesInvoices | EntitySet::SyncSalesInvoices => Some(13),
            _ => None,
        }
    }
}

/// A record's key: a GUID for almost every set, an Int64 `HID` for the outstanding-item lists.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// `guid'…'` keys.
    Guid(uuid::Uuid),
    /// Int64 keys (`123L`).
    Int(i64),
}

impl Key {
    /// The key as an OData literal: `guid'…'` or `123L` (also the `$skiptoken` form).
    pub fn odata_literal(&self) -> String {
        match self {
            Key::Guid(id) => format!("guid'{id}'"),
            Key::Int(n) => format!("{n}L"),
        }
    }
}

/// One row of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The row's key (also present in `fields` under `EntitySet::key_field`).
    pub key: Key,
    /// The division's rowversion at the row's last insert or update.
    pub timestamp: i64,
    /// Every field in Exact's wire form, `Created`/`Modified`/`Division` included; no `__metadata` or
    /// `Timestamp`. Held compactly (see `fields`): `fields.value(name)` or `fields.to_map()` to read.
    pub fields: Fields,
}

impl Record {
    /// A standalone record from a `Map` (rows built per request, such as `system/Divisions`).
    pub fn from_map(key: Key, timestamp: i64, fields: &Map<String, Value>) -> Record {
        Record {
            key,
            timestamp,
            fields: Fields::from_map(fields),
        }
    }
}

/// One `sync/Deleted` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletedRecord {
    /// The deleted-log row's own ID.
    pub id: uuid::Uuid,
    /// The GUID of the deleted record.
    pub entity_key: uuid::Uuid,
    /// Exact's EntityType code (EXACT.md §5).
    pub entity_type: i32,
    /// The division's rowversion at the deletion.
    pub timestamp: i64,
    /// `DeletedDate` as `/Date(ms)/` milliseconds (local wall-clock read as UTC).
    pub deleted_date_ms: i64,
}

/// A division as `system/Divisions` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DivisionInfo {
    /// Division code.
    pub code: i32,
    /// Region the division lives in.
    pub region: Region,
    /// Division name.
    pub description: String,
    /// Division currency (EUR or GBP).
    pub currency: String,
    /// Country code (NL or GB).
    pub country: String,
    /// The division's own VAT number.
    pub vat_number: String,
    /// Exact's `Hid` (Int64).
    pub hid: i64,
    /// `IsMainDivision`: the first division of each region.
    pub is_main: bool,
    /// `ChamberOfCommerceNumber` (KvK or Companies House number).
    pub chamber_of_commerce: String,
    /// `AddressLine1`.
    pub address_line1: String,
    /// `City`.
    pub city: String,
    /// `Postcode`.
    pub postcode: String,
    /// `Phone`.
    pub phone: String,
    /// `Email`.
    pub email: String,
    /// `Website`.
    pub website: String,
    /// `Created`: when the division was set up (local wall-clock time).
    pub created: chrono::NaiveDateTime,
    /// `DivisionMoveDate`: when Exact last moved the division between databases (local time).
    pub move_date: Option<chrono::NaiveDateTime>,
}

/// Why a books mutation was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BooksError {
    /// No division with that code (HTTP 404).
    #[error("division not found")]
    NoSuchDivision,
    /// No record with that key (HTTP 404).
    #[error("record not found")]
    NoSuchRecord,
    /// The entity set is read-only in the sandbox (HTTP 400).
    #[error("{} cannot be changed through this endpoint", .0.name())]
    NotMutable(EntitySet),
    /// The body failed validation (HTTP 400); the text says why.
    #[error("{0}")]
    Invalid(String),
}

/// The generated books of every division, plus the mutations on them.
#[derive(Debug)]
pub struct Books {
    divisions: BTreeMap<i32, Division>,
}

impl Books {
    /// Generates the books; deterministic for a config.
    pub fn generate(cfg: &BooksConfig) -> Books {
        let mut main_seen = std::collections::HashSet::new();
        let divisions = cfg
            .divisions
            .iter()
            .map(|spec| {
                let is_main = main_seen.insert(spec.region);
                (spec.code, generate::division(cfg.seed, spec, is_main))
            })
            .collect();
        Books { divisions }
    }

    /// Every division, by code.
    pub fn divisions(&self) -> impl Iterator<Item = &DivisionInfo> {
        self.divisions.values().map(|d| &d.info)
    }

    /// One division.
    pub fn division(&self, code: i32) -> Option<&DivisionInfo> {
        self.divisions.get(&code).map(|d| &d.info)
    }

    /// A division's table of one entity set.
    pub fn table(&self, division: i32, set: EntitySet) -> Option<&Table> {
        self.divisions.get(&division).map(|d| d.table(set))
    }

    /// A division's `sync/Deleted` log, ascending timestamp (empty for an unknown division).
    pub fn deleted(&self, division: i32) -> &[DeletedRecord] {
        self.divisions.get(&division).map_or(&[], |d| &d.deleted)
    }

    /// The highest rowversion handed out in a division so far.
    pub fn last_timestamp(&self, division: i32) -> Option<i64> {
        self.divisions.get(&division).map(|d| d.last_ts)
    }

    /// Sets the sandbox clock used for `Created`/`Modified`/`DeletedDate` of later mutations
    /// (default: the anchor date at noon). The core calls this with its injectable clock.
    pub fn set_now(&mut self, now: DateTime<Utc>) {
        for d in self.divisions.values_mut() {
            d.now = now;
        }
    }

    /// Creates a record; returns its key. See `mutate` for the accepted fields.
    pub fn create(
        &mut self,
        division: i32,
        set: EntitySet,
        fields: Map<String, Value>,
    ) -> Result<Key, BooksError> {
        mutate::create(self.div_mut(division)?, set, fields)
    }

    /// Patches a record (fields present in `patch` replace the stored ones); derived rows follow.
    pub fn update(
        &mut self,
        division: i32,
        set: EntitySet,
        key: &Key,
        patch: Map<String, Value>,
    ) -> Result<(), BooksError> {
        mutate::update(self.div_mut(division)?, set, key, patch)
    }

    /// Deletes a record and its derived rows, logging `sync/Deleted` rows.
    pub fn delete(&mut self, division: i32, set: EntitySet, key: &Key) -> Result<(), BooksError> {
        mutate::delete(self.div_mut(division)?, set, key)
    }

    /// Records a payment of `amount_fc` (document currency, same sign as the document) against a
    /// sales invoice (`SalesInvoices`, status 50) or purchase entry (`PurchaseEntries`), dated `date`
    /// (default: today on the sandbox clock). Outstanding items, payment terms and cash transaction
    /// lines follow. Refused when it would pay more than is outstanding.
    pub fn record_payment(
        &mut self,
        division: i32,
        set: EntitySet,
        key: &Key,
        amount_fc: f64,
        date: Option<NaiveDate>,
    ) -> Result<(), BooksError> {
        mutate::record_payment(self.div_mut(division)?, set, key, amount_fc, date)
    }

    /// Records a move of the division between Exact's databases now (`DivisionMoveDate`). Exact
    /// regenerates every sync Timestamp then; the sandbox keeps them (a client must start over
    /// either way, which is what a test of the move checks).
    pub fn move_division(&mut self, division: i32) -> Result<(), BooksError> {
        let d = self.div_mut(division)?;
        d.info.move_date = Some(d.now_local());
        Ok(())
    }

    /// Empties the division's deleted log, as Exact does with deletions older than two months.
    pub fn forget_deletions(&mut self, division: i32) -> Result<(), BooksError> {
        self.div_mut(division)?.deleted.clear();
        Ok(())
    }

    /// A division's `financial/ReportingBalance` rows, summed from its transaction lines now.
    pub fn reporting_balance(&self, division: i32) -> Option<Vec<Record>> {
        self.divisions
            .get(&division)
            .map(reporting::reporting_balance)
    }

    /// Counts per set and per-currency totals, for tests that compare Ledgerline's figures.
    pub fn summary(&self, division: i32) -> Option<BooksSummary> {
        self.divisions.get(&division).map(summary::summarize)
    }

    fn div_mut(&mut self, division: i32) -> Result<&mut Division, BooksError> {
        self.divisions
            .get_mut(&division)
            .ok_or(BooksError::NoSuchDivision)
    }
}
