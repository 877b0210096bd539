//! The table of Exact endpoints the sandbox serves: path → entity set, kind (plain, bulk, sync),
//! key field, OData type name, required scope and Exact's per-endpoint rules.

use super::books::EntitySet;

/// How an endpoint pages and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// CRUD/read endpoints: 60 rows a page in key order.
    Plain,
    /// `bulk/…`: 1000 rows a page, `$select` required.
    Bulk,
    /// `sync/…`: 1000 rows a page in `Timestamp` order, filter only `Timestamp gt NL`.
    Sync,
    /// `read/…` services: like plain endpoints, with larger pages (the seed's `read_page_size`).
    Read,
}

impl Kind {
    /// Rows per page; `read_page_size` is the seed option for `read/…` services.
    pub fn page_size(self, read_page_size: usize) -> usize {
        match self {
            Kind::Plain => 60,
            Kind::Read => read_page_size.max(1),
            Kind::Bulk | Kind::Sync => 1000,
        }
    }
}

/// Where an endpoint's rows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A books table.
    Set(EntitySet),
    /// The division's deleted log (`sync/Deleted`).
    Deleted,
    /// The granted divisions (`system/Divisions`).
    Divisions,
    /// The division's transaction lines summed per period and account
    /// (`financial/ReportingBalance`).
    ReportingBalance,
}

/// One endpoint of the data API.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// Path after `/api/v1/{division}/`, in Exact's spelling.
    pub path: &'static str,
    /// Row source.
    pub source: Source,
    /// Paging and filtering rules.
    pub kind: Kind,
    /// The key field named in `__metadata.uri` and by-key URLs.
    pub key_field: &'static str,
    /// `__metadata.type` after `Exact.Web.Api.Models.`.
    pub type_name: &'static str,
    /// App scope needed (`.read`; the matching `.manage` also satisfies it). `None`: any app.
    pub scope: Option<&'static str>,
    /// Answers the bare `{"d":[…]}` list form (recorded for vat/VATCodes).
    pub bare_list: bool,
    /// 400 "Please add a $select or a $top=1 statement…" without either (PQ-README).
    pub needs_select_or_top: bool,
    /// Deferred line collection rendered as `{"__deferred":{"uri":…}}`.
    pub lines: Option<&'static str>,
}

const fn ep(
    path: &'static str,
    set: EntitySet,
    kind: Kind,
    key: &'static str,
    ty: &'static str,
    scope: &'static str,
) -> Endpoint {
    Endpoint {
        path,
        source: Source::Set(set),
        kind,
        key_field: key,
        type_name: ty,
        scope: Some(scope),
        bare_list: false,
        needs_select_or_top: false,
        lines: None,
    }
}

const CRM: &str = "crm.accounts.read";
const SALES: &str = "sales.invoices.read";
const ACCOUNTING: &str = "financial.accounting.read";
const LEDGERS: &str = "financial.generalledgers.read";
const RECEIVABLES: &str = "financial.receivables.read";
const PAYABLES: &str = "financial.payables.read";

use EntitySet as S;
use Kind::{Bulk, Plain, Read, Sync};

/// Every endpoint served under `/api/v1/{division}/`.
pub static ENDPOINTS: &[Endpoint] = &[
    ep("crm/Accounts", S::Accounts, Plain, "ID", "Account", CRM),
    ep("crm/Contacts", S::Contacts, Plain, "ID", "Contact", CRM),
    Endpoint {
        lines: Some("SalesInvoiceLines"),
        ..ep(
            "salesinvoice/SalesInvoices",
            S::SalesInvoices,
            Plain,
            "InvoiceID",
            "SalesInvoice",
            SALES,
        )
    },
    ep(
        "salesinvoice/SalesInvoiceLines",
        S::SalesInvoiceLines,
        Plain,
        "ID",
        "SalesInvoiceLine",
        SALES,
    ),
    Endpoint {
        lines: Some("SalesEntryLines"),
        ..ep(
            "salesentry/SalesEntries",
            S::SalesEntries,
            Plain,
            "EntryID",
            "SalesEntry",
            ACCOUNTING,
        )
    },
    ep(
        "salesentry/SalesEntryLines",
        S::SalesEntryLines,
        Plain,
        "ID",
        "SalesEntryLine",
        ACCOUNTING,
    ),
    Endpoint {
        lines: Some("PurchaseEntryLines"),
        needs_select_or_top: true,
        ..ep(
            "purchaseentry/PurchaseEntries",
            S::PurchaseEntries,
            Plain,
            "EntryID",
            "PurchaseEntry",
            ACCOUNTING,
        )
    },
    ep(
        "purchaseentry/PurchaseEntryLines",
        S::PurchaseEntryLines,
        Plain,
        "ID",
        "PurchaseEntryLine",
        ACCOUNTING,
    ),
    ep(
        "financial/GLAccounts",
        S::GLAccounts,
        Plain,
        "ID",
        "GLAccount",
        LEDGERS,
    ),
    ep(
        "financialtransaction/TransactionLines",
        S::TransactionLines,
        Plain,
        "ID",
        "TransactionLine",
        ACCOUNTING,
    ),
    Endpoint {
        lines: Some("GeneralJournalEntryLines"),
        needs_select_or_top: true,
        ..ep(
            "generaljournalentry/GeneralJournalEntries",
            S::GeneralJournalEntries,
            Plain,
            "EntryID",
            "GeneralJournalEntry",
            ACCOUNTING,
        )
    },
    ep(
        "generaljournalentry/GeneralJournalEntryLines",
        S::GeneralJournalEntryLines,
        Plain,
        "ID",
        "GeneralJournalEntryLine",
        ACCOUNTING,
    ),
    ep(
        "read/financial/ReceivablesList",
        S::ReceivablesList,
        Read,
        "HID",
        "Read.Financial.ReceivablesListItem",
        RECEIVABLES,
    ),
    ep(
        "read/financial/PayablesList",
        S::PayablesList,
        Read,
        "HID",
        "Read.Financial.PayablesListItem",
        PAYABLES,
    ),
    Endpoint {
        bare_list: true,
        ..ep(
            "vat/VATCodes",
            S::VATCodes,
            Plain,
            "ID",
            "VATCode",
            ACCOUNTING,
        )
    },
    ep(
        "bulk/CRM/Accounts",
        S::Accounts,
        Bulk,
        "ID",
        "Bulk.CRM.Account",
        CRM,
    ),
    ep(
        "bulk/CRM/Contacts",
        S::Contacts,
        Bulk,
        "ID",
        "Bulk.CRM.Contact",
        CRM,
    ),
    ep(
        "bulk/Financial/GLAccounts",
        S::GLAccounts,
        Bulk,
        "ID",
        "Bulk.Financial.GLAccount",
        LEDGERS,
    ),
    ep(
        "bulk/Financial/TransactionLines",
        S::TransactionLines,
        Bulk,
        "ID",
        "Bulk.Financial.TransactionLine",
        ACCOUNTING,
    ),
    ep(
        "bulk/SalesInvoice/SalesInvoices",
        S::SalesInvoices,
        Bulk,
        "InvoiceID",
        "Bulk.SalesInvoice.SalesInvoice",
        SALES,
    ),
    ep(
        "bulk/SalesInvoice/SalesInvoiceLines",
        S::SalesInvoiceLines,
        Bulk,
        "ID",
        "Bulk.SalesInvoice.SalesInvoiceLine",
        SALES,
    ),
    ep(
        "sync/CRM/Accounts",
        S::Accounts,
        Sync,
        "Timestamp",
        "Sync.CRM.Account",
        CRM,
    ),
    ep(
        "sync/CRM/Contacts",
        S::Contacts,
        Sync,
        "Timestamp",
        "Sync.CRM.Contact",
        CRM,
    ),
    ep(
        "sync/Financial/GLAccounts",
        S::GLAccounts,
        Sync,
        "Timestamp",
        "Sync.Financial.GLAccount",
        LEDGERS,
    ),
    ep(
        "sync/Financial/TransactionLines",
        S::TransactionLines,
        Sync,
        "Timestamp",
        "Sync.Financial.TransactionLine",
        ACCOUNTING,
    ),
    ep(
        "sync/SalesInvoice/SalesInvoices",
        S::SyncSalesInvoices,
        Sync,
        "Timestamp",
        "Sync.SalesInvoice.SalesInvoice",
        SALES,
    ),
    ep(
        "sync/Cashflow/PaymentTerms",
        S::PaymentTerms,
        Sync,
        "Timestamp",
        "Sync.Cashflow.PaymentTerm",
        RECEIVABLES,
    ),
    Endpoint {
        source: Source::Deleted,
        scope: None,
        ..ep(
            "sync/Deleted",
            S::Accounts,
            Sync,
            "Timestamp",
            "Sync.Deleted",
            CRM,
        )
    },
    Endpoint {
        source: Source::ReportingBalance,
        ..ep(
            "financial/ReportingBalance",
            S::TransactionLines,
            Plain,
            "ID",
            "ReportingBalance",
            ACCOUNTING,
        )
    },
    Endpoint {
        source: Source::Divisions,
        scope: Some("organization.administration.read"),
        ..ep(
            "system/Divisions",
            S::Accounts,
            Plain,
            "Code",
            "System.Division",
            CRM,
        )
    },
];

/// The endpoint for a path after the division (matched case-insensitively, as Exact does).
pub fn lookup(path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS.iter().find(|e| e.path.eq_ignore_ascii_case(path))
}

/// Whether an app's scopes cover `needed` (`x.read` is covered by `x.read` or `x.manage`).
pub fn scope_granted(app_scopes: &[String], needed: Option<&str>) -> bool {
    let Some(needed) = needed else { return true };
    let base = needed.strip_suffix(".read").unwrap_or(needed);
    app_scopes
        .iter()
        .any(|s| s == needed || s.strip_suffix(".manage") == Some(base))
}

/// The entity set named (case-insensitively) like its variant, e.g. `SalesInvoices`.
pub fn set_by_name(name: &str) -> Option<EntitySet> {
    EntitySet::ALL
        .iter()
        .copied()
        .find(|s| s.name().eq_ignore_ascii_case(name))
}
