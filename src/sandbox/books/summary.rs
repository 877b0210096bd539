//! Per-division totals that tests compare Ledgerline's API figures against.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::EntitySet;
use super::division::Division;

/// Totals of one currency's documents.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CurrencyTotals {
    /// Number of documents.
    pub count: u64,
    /// Sum of `AmountFC` incl. VAT, every status included.
    pub amount_fc: f64,
    /// Sum still outstanding (the ReceivablesList / PayablesList `Amount`s).
    pub outstanding_fc: f64,
    /// Sum not yet paid, drafts and unprocessed documents included (total − payments).
    pub unpaid_fc: f64,
}

/// The relations (`crm/Accounts`) by role, as Exact defines them: a customer has `Status` C or
/// `IsSales`, a supplier has `IsSupplier`; one account may be both. Blocked ones are included in
/// every count and also counted apart.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RelationCounts {
    pub customers: u64,
    pub suppliers: u64,
    /// Accounts that are customer and supplier at once.
    pub both: u64,
    pub blocked_customers: u64,
    pub blocked_suppliers: u64,
}

/// The people of the relations (`crm/Contacts`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ContactCounts {
    pub contacts: u64,
    /// Relations with at least one contact.
    pub relations_with_contacts: u64,
    /// Relations whose `MainContact` names one of their contacts.
    pub relations_with_main_contact: u64,
    /// Contacts of customers (`AccountIsCustomer`) and of suppliers; one of both roles counts
    /// in both.
    pub of_customers: u64,
    pub of_suppliers: u64,
    pub without_email: u64,
    pub without_phone: u64,
}

/// Totals of one currency's financial entries.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct JournalTotals {
    /// Number of entries.
    pub count: u64,
    /// Number of lines.
    pub lines: u64,
    /// Sum of the debit `AmountFC`s (the credits sum to minus this).
    pub debit_fc: f64,
}

/// What a division holds: row counts per set and per-currency totals.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BooksSummary {
    /// Division code.
    pub division: i32,
    /// Division currency.
    pub currency: String,
    /// Division name (`system/Divisions.Description`).
    pub name: String,
    /// The division's VAT number.
    pub vat_number: String,
    /// The division's chamber of commerce (KvK / Companies House) number.
    pub registration_number: String,
    /// Rows per entity set, by set name.
    pub counts: BTreeMap<String, usize>,
    /// Sales invoices per currency, credit notes included.
    pub sales_invoices: BTreeMap<String, CurrencyTotals>,
    /// Sales invoices proper per currency (types 8020 and 8023).
    pub invoices: BTreeMap<String, CurrencyTotals>,
    /// Sales credit notes per currency (types 8021 and 8024).
    pub credit_notes: BTreeMap<String, CurrencyTotals>,
    /// Purchase entries per currency.
    pub purchase_entries: BTreeMap<String, CurrencyTotals>,
    /// Customers and suppliers among the accounts.
    pub relations: RelationCounts,
    /// The relations' contacts.
    pub contacts: ContactCounts,
    /// Bills per currency: purchase entries proper (type 30), credit notes (31) left out.
    pub bills: BTreeMap<String, CurrencyTotals>,
    /// Financial entries (the `TransactionLines` grouped by `EntryID`) per entry currency.
    pub journal_entries: BTreeMap<String, JournalTotals>,
    /// Per GL account (by ID): the sum of its transaction lines' `AmountDC`, debit positive.
    /// Accounts without lines are absent.
    pub gl_balances: BTreeMap<String, f64>,
    /// GL accounts that are blocked (`IsBlocked`).
    pub blocked_gl_accounts: usize,
    /// Rows `financial/ReportingBalance` serves.
    pub reporting_balance_rows: usize,
    /// Number of `sync/Deleted` rows.
    pub deleted: usize,
    /// Highest rowversion handed out.
    pub last_timestamp: i64,
}

pub(crate) fn summarize(d: &Division) -> BooksSummary {
    let counts = EntitySet::ALL
        .iter()
        .map(|s| (s.name().to_owned(), d.table(*s).len()))
        .collect();
    // Sum in cents so the totals are exact, then present them as 2-decimal numbers.
    let mut sales = Tally::default();
    let mut invoices = Tally::default();
    let mut credit_notes = Tally::default();
    for doc in d.sales.values() {
        let total = doc.totals().incl_fc();
        let unpaid = total - doc.head.paid_fc();
        let outstanding = if doc.is_booked() { unpaid } else { 0 };
        let currency = &doc.head.currency;
        sales.add(currency, total, outstanding, unpaid);
        let kind = if doc.is_credit() {
            &mut credit_notes
        } else {
            &mut invoices
        };
        kind.add(currency, total, outstanding, unpaid);
    }
    let mut purchases = Tally::default();
    let mut bills = Tally::default();
    for doc in d.purchases.values() {
        let total = doc.totals().incl_fc();
        let unpaid = total - doc.head.paid_fc();
        purchases.add(&doc.head.currency, total, unpaid, unpaid);
        if doc.head.kind == 30 {
            bills.add(&doc.head.currency, total, unpaid, unpaid);
        }
    }
    let mut gl_cents: BTreeMap<String, i64> = BTreeMap::new();
    for line in d.table(EntitySet::TransactionLines).records() {
        let gl = line.fields.value("GLAccount");
        let amount = line.fields.value("AmountDC").and_then(|v| v.as_f64());
        if let (Some(serde_json::Value::String(gl)), Some(amount)) = (gl, amount) {
            *gl_cents.entry(gl).or_default() += (amount * 100.0).round() as i64;
        }
    }
    let blocked_gl_accounts = d
        .table(EntitySet::GLAccounts)
        .records()
        .filter(|g| g.fields.value("IsBlocked") == Some(serde_json::Value::Bool(true)))
        .count();
    BooksSummary {
        division: d.info.code,
        currency: d.info.currency.clone(),
        name: d.info.description.clone(),
        vat_number: d.info.vat_number.clone(),
        registration_number: d.info.chamber_of_commerce.clone(),
        gl_balances: gl_cents
            .into_iter()
            .map(|(gl, cents)| (gl, cents as f64 / 100.0))
            .collect(),
        blocked_gl_accounts,
        reporting_balance_rows: super::reporting::reporting_balance(d).len(),
        counts,
        sales_invoices: sales.present(),
        invoices: invoices.present(),
        credit_notes: credit_notes.present(),
        purchase_entries: purchases.present(),
        relations: relations(d),
        contacts: contacts(d),
        bills: bills.present(),
        journal_entries: journal_totals(d),
        deleted: d.deleted.len(),
        last_timestamp: d.last_ts,
    }
}

fn contacts(d: &Division) -> ContactCounts {
    let mut counts = ContactCounts::default();
    let mut accounts = std::collections::BTreeSet::new();
    let mut mains = std::collections::BTreeSet::new();
    for contact in d.table(EntitySet::Contacts).records() {
        let value = |name: &str| contact.fields.value(name).unwrap_or(Value::Null);
        let flag = |name: &str| value(name) == Value::Bool(true);
        counts.contacts += 1;
        counts.of_customers += u64::from(flag("AccountIsCustomer"));
        counts.of_suppliers += u64::from(flag("AccountIsSupplier"));
        counts.without_email += u64::from(value("Email").is_null());
        counts.without_phone += u64::from(value("Phone").is_null() && value("Mobile").is_null());
        accounts.insert(value("Account").to_string());
        mains.insert(value("ID").as_str().unwrap_or_default().to_owned());
    }
    counts.relations_with_contacts = accounts.len() as u64;
    counts.relations_with_main_contact = d
        .table(EntitySet::Accounts)
        .records()
        .filter(|a| {
            a.fields
                .value("MainContact")
                .is_some_and(|m| m.as_str().is_some_and(|m| mains.contains(m)))
        })
        .count() as u64;
    counts
}

fn relations(d: &Division) -> RelationCounts {
    let mut counts = RelationCounts::default();
    for account in d.table(EntitySet::Accounts).records() {
        let flag = |name: &str| account.fields.value(name) == Some(Value::Bool(true));
        let status_customer = account.fields.value("Status") == Some(Value::from("C"));
        let customer = status_customer || flag("IsSales");
        let supplier = flag("IsSupplier");
        let blocked = flag("Blocked");
        counts.customers += u64::from(customer);
        counts.suppliers += u64::from(supplier);
        counts.both += u64::from(customer && supplier);
        counts.blocked_customers += u64::from(customer && blocked);
        counts.blocked_suppliers += u64::from(supplier && blocked);
    }
    counts
}

/// Entries, lines and debits per entry currency, from the transaction lines as served.
fn journal_totals(d: &Division) -> BTreeMap<String, JournalTotals> {
    let cents = |v: Option<Value>| {
        v.and_then(|v| v.as_f64())
            .map_or(0, |x| (x * 100.0).round() as i64)
    };
    // (currency, lines, debit cents) per entry
    let mut entries: BTreeMap<String, (String, u64, i64)> = BTreeMap::new();
    for row in d.table(EntitySet::TransactionLines).iter_by_key(None) {
        let entry = row.fields.value("EntryID").map(|v| v.to_string());
        let currency = row
            .fields
            .value("Currency")
            .and_then(|v| v.as_str().map(str::to_owned));
        let amount = cents(row.fields.value("AmountFC"));
        let e = entries
            .entry(entry.unwrap_or_default())
            .or_insert_with(|| (currency.unwrap_or_default(), 0, 0));
        e.1 += 1;
        e.2 += amount.max(0);
    }
    let mut totals: BTreeMap<String, (u64, u64, i64)> = BTreeMap::new();
    for (currency, lines, debit) in entries.into_values() {
        let t = totals.entry(currency).or_default();
        t.0 += 1;
        t.1 += lines;
        t.2 += debit;
    }
    totals
        .into_iter()
        .map(|(currency, (count, lines, debit))| {
            let t = JournalTotals {
                count,
                lines,
                debit_fc: debit as f64 / 100.0,
            };
            (currency, t)
        })
        .collect()
}

/// Per-currency sums in cents: count, total, outstanding, unpaid.
#[derive(Default)]
struct Tally(BTreeMap<String, (u64, i64, i64, i64)>);

impl Tally {
    fn add(&mut self, currency: &str, total: i64, outstanding: i64, unpaid: i64) {
        let t = self.0.entry(currency.to_owned()).or_default();
        t.0 += 1;
        t.1 += total;
        t.2 += outstanding;
        t.3 += unpaid;
    }

    fn present(self) -> BTreeMap<String, CurrencyTotals> {
        let money = |cents: i64| cents as f64 / 100.0;
        self.0
            .into_iter()
            .map(|(currency, (count, total, outstanding, unpaid))| {
                let totals = CurrencyTotals {
                    count,
                    amount_fc: money(total),
                    outstanding_fc: money(outstanding),
                    unpaid_fc: money(unpaid),
                };
                (currency, totals)
            })
            .collect()
    }
}
