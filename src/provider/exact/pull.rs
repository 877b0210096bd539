//! Pulls from Exact in the fewest calls: the sync endpoints (1,000 rows a page) with a `$select`
//! derived from each data set's typed row, and the small lists the mappings need beside them.
//!
//! A pull run reads each Exact source once, however many of the requested data types come from
//! it, and hands the mapped records to the sink page by page.
//!
//! Customers and suppliers = one read of `sync/CRM/Accounts` and one of `sync/CRM/Contacts`
//! (their people) for both (see `relations/`);
//! invoices and credit notes = one read of the sales invoices for both (see `invoices/`).
//!
//! Incremental pulls ([`PullMode::Since`], see `cursor`): the chart of accounts, customers and
//! suppliers, invoices and credit notes, bills and journal entries. Each source first reads its
//! sync endpoints from its positions (the payment terms once for invoices and bills; the chart
//! of accounts after the ledger, whose read of the transaction lines tells it whether a balance
//! moved); then the run reads `sync/Deleted` ONCE for all of them (after their sync reads, so
//! that a deletion it misses has a higher Timestamp than every row they read); then each applies
//! its changes and deletions, re-reading touched documents whole. Company info is always read in
//! full: one `system/Divisions` call, shared with the division move check.
//!
//! Order: the incremental sources' sync reads come first, then the chart of accounts is handed
//! on, before the data types whose lines name its accounts (invoices, bills, journal entries),
//! which follow in pull order. Full reads stream: each record is handed on once its rows have
//! passed, and a run holds a page or two of rows (see `stream`). A full read of the transaction
//! lines comes last and gives the accounts their balances without a call of their own (see
//! `accounts`), so in such a run the chart of accounts follows the entries: a data type pulled
//! for the first time is readable only once the whole run has completed, so readers still never
//! see an entry before its account then; a later full run shows an account created meanwhile
//! a few pages after the first entry naming it.
//!
//! Bills and journal entries = `sync/Financial/TransactionLines` (the general ledger, 1,000 rows
//! a call) grouped by `EntryID`, read once for both (see `transaction_lines`), with the VAT codes
//! (shared with invoices), `read/financial/PayablesList` for bills and the sales invoice ids (the
//! invoices' read when it was in the run, else `bulk/SalesInvoice/SalesInvoices`) for journal
//! entries.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::ExactProvider;
use super::budget::BudgetKey;
use super::cursor::{self, SyncCursor};
use super::invoices::VatCodeRow;
use super::row;
use crate::provider::{
    DataType, PageSink, ProviderError, PullError, PullMode, PullRequest, PulledPage, Session,
};

/// Records handed to the sink per page.
const RECORDS_PER_PAGE: usize = 1_000;

/// Conditions per `$filter` when re-reading records by key: keeps the URL well inside the 2,048
/// characters of a query string that IIS (Exact's host) accepts by default.
pub(super) const KEYS_PER_FILTER: usize = 20;

/// The data types Exact pulls incrementally, and the sync endpoints their cursors hold.
pub(super) const INCREMENTAL: [(DataType, &[&str]); 7] = [
    (DataType::Accounts, super::accounts::CURSOR_ENDPOINTS),
    (
        DataType::Customers,
        super::relations::pull::CURSOR_ENDPOINTS,
    ),
    (
        DataType::Suppliers,
        super::relations::pull::CURSOR_ENDPOINTS,
    ),
    (DataType::Invoices, super::invoices::pull::CURSOR_ENDPOINTS),
    (
        DataType::CreditNotes,
        super::invoices::pull::CURSOR_ENDPOINTS,
    ),
    (DataType::Bills, super::transaction_lines::CURSOR_ENDPOINTS),
    (
        DataType::JournalEntries,
        super::transaction_lines::CURSOR_ENDPOINTS,
    ),
];

/// How a source read by several data types is read in one run.
pub(super) enum SourceMode {
    /// Everything (when any of its data types is pulled in full: a superset for the others).
    Full,
    /// From the earliest of its data types' positions.
    Since(SyncCursor),
}

impl SourceMode {
    /// The mode for the source feeding `members`; `None` when the run wants none of them.
    fn of(request: &PullRequest, members: &[DataType]) -> Option<SourceMode> {
        let modes: Vec<&PullMode> = request
            .iter()
            .filter(|(d, _)| members.contains(d))
            .map(|(_, mode)| mode)
            .collect();
        if modes.is_empty() {
            return None;
        }
        let cursors: Option<Vec<SyncCursor>> = modes
            .iter()
            .map(|mode| match mode {
                PullMode::Full => None,
                PullMode::Since(text) => SyncCursor::parse(text),
            })
            .collect();
        Some(match cursors {
            Some(cursors) => SourceMode::Since(SyncCursor::earliest(&cursors)),
            None => SourceMode::Full,
        })
    }
}

/// What a read of a sync endpoint gave.
pub(super) struct SyncRead<T> {
    pub rows: Vec<T>,
    /// The highest Timestamp read.
    pub max: Option<i64>,
    /// The highest Timestamp of the first page: no later than the division's rowversion when
    /// the read began, so every row changed or deleted after that has a higher one.
    pub first_page_max: Option<i64>,
}

/// A `sync/Deleted` row: a record Exact deleted, by its GUID and entity type (EXACT.md §5).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct DeletedRow {
    #[serde(deserialize_with = "row::de::int64")]
    pub timestamp: Option<i64>,
    #[serde(deserialize_with = "row::de::text")]
    pub entity_key: Option<String>,
    #[serde(deserialize_with = "row::de::int64")]
    pub entity_type: Option<i64>,
}

/// The deleted log read once in a run: rows after `since`, and the highest Timestamp read.
pub(super) struct DeletedLog {
    pub rows: Vec<DeletedRow>,
    pub max: Option<i64>,
}

impl DeletedLog {
    /// The keys of `entity_type` deleted after `cursor`'s deleted-log position, and the cursor
    /// moved past this read.
    pub(super) fn keys_after(&self, entity_type: i64, cursor: &mut SyncCursor) -> BTreeSet<String> {
        let after = cursor.at(cursor::DELETED);
        let keys = self
            .rows
            .iter()
            .filter(|r| r.entity_type == Some(entity_type) && r.timestamp > Some(after))
            .filter_map(|r| r.entity_key.clone())
            .collect();
        cursor.advance(cursor::DELETED, self.max);
        keys
    }

    /// Whether the log holds a deletion of `entity_type` after the deleted-log position `after`.
    pub(super) fn any_after(&self, entity_type: i64, after: i64) -> bool {
        self.rows
            .iter()
            .any(|r| r.entity_type == Some(entity_type) && r.timestamp > Some(after))
    }
}

/// One pull run: where it reads, where its pages go, the calls made since the last page, and
/// what the run has read once for several data types.
pub(super) struct Run<'s, 'a> {
    session: &'s Session<'a>,
    division: String,
    sink: &'s mut dyn PageSink,
    calls_since_page: u32,
    /// Pages being filled, per data type.
    pending: BTreeMap<DataType, PulledPage>,
    /// Data types asked for changes that this run reads in full after all (see
    /// [`PulledPage::read_in_full`]).
    in_full: BTreeSet<DataType>,
    /// `sync/Cashflow/PaymentTerms` after the earliest position any source of the run needs,
    /// read once for the invoices and the bills.
    payment_terms: Option<(i64, SyncRead<PaymentTermRow>)>,
    /// The division's `system/Divisions` row, read at most once a run.
    division_row: Option<super::company_info::DivisionRow>,
    /// The division's VAT codes, read at most once a run (invoices and bills both need them).
    vat_codes: Option<Vec<VatCodeRow>>,
    /// Sales invoice ids (`InvoiceID`) by invoice number, from whichever read of the sales
    /// invoices came first in the run (journal entries point at the invoice behind them).
    invoice_ids: Option<HashMap<String, String>>,
    /// Every sync read of the run: its endpoint, the position it read from and the highest
    /// Timestamp it saw, so that a data type can learn whether an endpoint changed without
    /// reading it again (see [`Run::seen_after`]).
    sync_reads: Vec<(String, i64, Option<i64>)>,
}

impl Run<'_, '_> {
    /// The division the run reads (Exact's division code).
    pub(super) fn division_code(&self) -> &str {
        &self.division
    }

    /// The sales invoice ids by number a full read of the sales invoices gave in this run.
    pub(super) fn invoice_ids(&self) -> Option<&HashMap<String, String>> {
        self.invoice_ids.as_ref()
    }

    /// Keeps the sales invoice ids by number that a read of the sales invoices gave, so that a
    /// later data type of the run need not read them again.
    pub(super) fn remember_invoice_ids(&mut self, ids: HashMap<String, String>) {
        self.invoice_ids = Some(ids);
    }

    /// The highest Timestamp after position `at` that a read of the sync endpoint `path` earlier
    /// in the run saw (`Some(None)`: it saw none, nothing changed); `None` when the run read it
    /// from no position at or before `at`.
    pub(super) fn seen_after(&self, path: &str, at: i64) -> Option<Option<i64>> {
        let mut covered = false;
        let mut highest = None;
        for (_, _, max) in self
            .sync_reads
            .iter()
            .filter(|(read, since, _)| read == path && *since <= at)
        {
            covered = true;
            highest = highest.max(max.filter(|m| *m > at));
        }
        covered.then_some(highest)
    }

    /// Notes a read of the sync endpoint `path` from `since` that saw Timestamps up to `max`.
    pub(super) fn note_sync_read(&mut self, path: &str, since: i64, max: Option<i64>) {
        self.sync_reads.push((path.to_string(), since, max));
    }

    /// Hands a page on, charging it the calls made since the previous one.
    async fn deliver(&mut self, mut page: PulledPage) -> Result<(), PullError> {
        page.upstream_calls = std::mem::take(&mut self.calls_since_page);
        self.sink.page(page).await?;
        Ok(())
    }

    /// Adds one mapped record of `data_type` (written in the common model's JSON) to its page,
    /// and hands the page on once it holds [`RECORDS_PER_PAGE`].
    pub(super) async fn push<T: Serialize>(
        &mut self,
        data_type: DataType,
        id: String,
        record: &T,
    ) -> Result<(), PullError> {
        self.push_keyed(data_type, id, record, Vec::new()).await
    }

    /// [`Run::push`] with the upstream keys of the record's parts (its transaction lines, its
    /// contact persons), for [`Run::stored_ids`] to find it by in a later pull.
    pub(super) async fn push_keyed<T: Serialize>(
        &mut self,
        data_type: DataType,
        id: String,
        record: &T,
        keys: Vec<String>,
    ) -> Result<(), PullError> {
        let json = serde_json::to_value(record).map_err(|e| {
            ProviderError::Upstream(format!(
                "{} {id} could not be written: {e}",
                data_type.key()
            ))
        })?;
        let page = self
            .pending
            .entry(data_type)
            .or_insert_with(|| new_page(&self.in_full, data_type));
        page.keys
            .extend(keys.into_iter().map(|key| (id.clone(), key)));
        page.upserts.push((id, json));
        if page.upserts.len() >= RECORDS_PER_PAGE {
            let full = self.pending.remove(&data_type).expect("just filled");
            self.deliver(full).await?;
        }
        Ok(())
    }

    /// The stored records of `data_type` that upstream `keys` (given to [`Run::push_keyed`]
    /// by an earlier pull) belong to: a read of the store, no upstream call.
    pub(super) async fn stored_ids(
        &mut self,
        data_type: DataType,
        keys: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, PullError> {
        if keys.is_empty() {
            return Ok(BTreeSet::new());
        }
        let keys: Vec<String> = keys.iter().cloned().collect();
        let found = self.sink.stored_ids(data_type, &keys).await?;
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }

    /// `data_type`, asked for changes, is read in full in this run: its pages say so.
    pub(super) fn read_in_full(&mut self, data_type: DataType) {
        self.in_full.insert(data_type);
    }

    /// Reports a record of `data_type` deleted upstream (or no longer of this data type). An id
    /// the store does not hold is ignored there.
    pub(super) fn delete(&mut self, data_type: DataType, id: String) {
        self.pending
            .entry(data_type)
            .or_insert_with(|| new_page(&self.in_full, data_type))
            .deleted
            .push(id);
    }

    /// Reports `id` deleted in those of `data_types` (read from one source) the run asked for.
    pub(super) fn delete_wanted(
        &mut self,
        data_types: &[DataType],
        wanted: &BTreeSet<DataType>,
        id: &str,
    ) {
        for data_type in data_types.iter().filter(|d| wanted.contains(d)) {
            self.delete(*data_type, id.to_string());
        }
    }

    /// [`Run::finish`] for those of `data_types` (read from one source) the run asked for, all
    /// at the source's cursor.
    pub(super) async fn finish_wanted(
        &mut self,
        data_types: &[DataType],
        wanted: &BTreeSet<DataType>,
        cursor: String,
    ) -> Result<(), PullError> {
        for data_type in data_types.iter().filter(|d| wanted.contains(d)) {
            self.finish(*data_type, Some(cursor.clone())).await?;
        }
        Ok(())
    }

    /// Hands on the last page of `data_type` (empty if need be) with the cursor after it: the
    /// cursor goes with the last page, since only then is everything before it stored.
    pub(super) async fn finish(
        &mut self,
        data_type: DataType,
        cursor: Option<String>,
    ) -> Result<(), PullError> {
        let mut page = self
            .pending
            .remove(&data_type)
            .unwrap_or_else(|| new_page(&self.in_full, data_type));
        page.cursor = cursor;
        self.deliver(page).await
    }
}

fn new_page(in_full: &BTreeSet<DataType>, data_type: DataType) -> PulledPage {
    PulledPage {
        read_in_full: in_full.contains(&data_type),
        ..PulledPage::new(data_type)
    }
}

/// A `sync/Cashflow/PaymentTerms` row: which document's open item moved (EXACT.md §5).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct PaymentTermRow {
    #[serde(deserialize_with = "row::de::int64")]
    pub timestamp: Option<i64>,
    /// The sales invoice's number (receivables).
    #[serde(deserialize_with = "row::de::text")]
    pub invoice_number: Option<String>,
    /// The financial entry (`EntryID` of its transaction lines) the term belongs to.
    #[serde(rename = "TransactionEntryID", deserialize_with = "row::de::text")]
    pub transaction_entry_id: Option<String>,
    /// 20 receipt (receivable), 22 payment (payable).
    #[serde(deserialize_with = "row::de::int64")]
    pub line_type: Option<i64>,
}

impl ExactProvider {
    /// Runs one pull: each requested data type from its source, in the request's order.
    pub(super) async fn pull_data(
        &self,
        session: &Session<'_>,
        request: &PullRequest,
        sink: &mut dyn PageSink,
    ) -> Result<(), PullError> {
        if let Some((data_type, _)) = request.iter().find(|(d, mode)| {
            matches!(mode, PullMode::Since(_)) && !INCREMENTAL.iter().any(|(i, _)| i == d)
        }) {
            // `can_pull_since` never offers these: asking anyway is the caller's bug.
            return Err(ProviderError::Unsupported(format!(
                "incremental pulls of {} from Exact",
                data_type.key()
            ))
            .into());
        }
        let division = session
            .upstream_company_id
            .ok_or_else(|| {
                ProviderError::Upstream("the connection has no division pinned yet".into())
            })?
            .to_string();
        let wanted: BTreeSet<DataType> = request.iter().map(|(d, _)| *d).collect();
        let mut run = Run {
            session,
            division,
            sink,
            calls_since_page: 0,
            pending: BTreeMap::new(),
            in_full: BTreeSet::new(),
            payment_terms: None,
            division_row: None,
            vat_codes: None,
            invoice_ids: None,
            sync_reads: Vec::new(),
        };
        if wanted.contains(&DataType::CompanyInfo) {
            self.pull_company_info(&mut run).await?;
        }
        let ledger_types = [DataType::Bills, DataType::JournalEntries];
        let relation_types = [DataType::Customers, DataType::Suppliers];
        let sales_types = [DataType::Invoices, DataType::CreditNotes];
        let account_types = [DataType::Accounts];
        let mut modes = [
            SourceMode::of(request, &relation_types),
            SourceMode::of(request, &sales_types),
            SourceMode::of(request, &ledger_types),
            SourceMode::of(request, &account_types),
        ];
        // A division move regenerated every Timestamp: positions taken before it mean nothing.
        if modes
            .iter()
            .any(|m| matches!(m, Some(SourceMode::Since(_))))
        {
            let moved_at = self.division_moved_at(&mut run).await?;
            for (mode, types) in modes.iter_mut().zip([
                &relation_types[..],
                &sales_types,
                &ledger_types,
                &account_types,
            ]) {
                if let Some(SourceMode::Since(cursor)) = mode
                    && cursor.at(cursor::DIVISION_MOVE) != moved_at
                {
                    tracing::info!(division = %run.division, "the division moved: pulling in full");
                    *mode = Some(SourceMode::Full);
                    for data_type in types.iter().filter(|d| wanted.contains(d)) {
                        run.read_in_full(*data_type);
                    }
                }
            }
        }
        let [relations_mode, sales_mode, ledger_mode, accounts_mode] = modes;
        let in_full = |mode: &Option<SourceMode>| matches!(mode, Some(SourceMode::Full));
        let (relations_in_full, sales_in_full, accounts_in_full) = (
            in_full(&relations_mode),
            in_full(&sales_mode),
            in_full(&accounts_mode),
        );
        // The payment terms once, from the earliest position the invoices and bills need.
        let terms_since = [&sales_mode, &ledger_mode]
            .into_iter()
            .filter_map(|mode| match mode {
                Some(SourceMode::Since(cursor)) => Some(cursor.at(cursor::PAYMENT_TERMS)),
                _ => None,
            })
            .min();
        if let Some(since) = terms_since {
            self.payment_terms_since(&mut run, since).await?;
        }
        // The incremental sources read their changes first: customers and suppliers from one
        // read of the accounts, invoices and credit notes from one of the sales invoices.
        let relations = match relations_mode {
            Some(SourceMode::Since(cursor)) => {
                Some(self.read_relations_since(&mut run, cursor).await?)
            }
            _ => None,
        };
        let sales = match sales_mode {
            Some(SourceMode::Since(cursor)) => Some(self.read_sales_since(&mut run, cursor).await?),
            _ => None,
        };
        // Bills and journal entries both come from the transaction lines: one read for both,
        // in full or of the changes. A full read streams last, handing the entries on as it goes
        // and summing the accounts' balances (see `transaction_lines`).
        let from_transaction_lines: BTreeSet<DataType> = ledger_types
            .into_iter()
            .filter(|d| wanted.contains(d))
            .collect();
        let ledger_in_full = matches!(ledger_mode, Some(SourceMode::Full));
        let ledger = match ledger_mode {
            Some(SourceMode::Since(cursor)) => {
                Some(self.read_ledger_since(&mut run, cursor).await?)
            }
            _ => None,
        };
        // The GL accounts' changes, after the ledger's read of its changes, which tells them
        // whether any line moved a balance (a full read, later, tells them then).
        let accounts = match accounts_mode {
            Some(SourceMode::Since(cursor)) => Some(
                self.read_gl_accounts_since(&mut run, cursor, ledger_in_full)
                    .await?,
            ),
            _ => None,
        };
        // The deleted log once, after every incremental source's sync reads.
        let since = relations
            .iter()
            .map(|r| r.cursor.at(cursor::DELETED))
            .chain(sales.iter().map(|s| s.cursor.at(cursor::DELETED)))
            .chain(ledger.iter().map(|l| l.cursor.at(cursor::DELETED)))
            .chain(accounts.iter().map(|a| a.cursor.at(cursor::DELETED)))
            .min();
        let deleted = match since {
            Some(since) => Some(self.deleted_log(&mut run, since).await?),
            None => None,
        };
        // The chart of accounts before the data types that refer to it, unless the run reads
        // the ledger in full: its balances are then summed from that read and it follows it.
        let mut accounts = Some((accounts_in_full, accounts));
        if !ledger_in_full {
            self.chart_of_accounts(&mut run, accounts.take(), &deleted, None)
                .await?;
        }
        match (relations_in_full, relations, &deleted) {
            (true, _, _) => self.pull_relations(&mut run, &wanted).await?,
            (_, Some(changes), Some(deleted)) => {
                self.apply_relations(&mut run, &wanted, changes, deleted)
                    .await?
            }
            _ => {}
        }
        match (sales_in_full, sales, &deleted) {
            (true, _, _) => self.pull_sales_invoices(&mut run, &wanted).await?,
            (_, Some(changes), Some(deleted)) => {
                self.apply_sales(&mut run, &wanted, changes, deleted)
                    .await?
            }
            _ => {}
        }
        match (ledger_in_full, ledger, &deleted) {
            (true, _, _) => {
                let sum_balances = accounts
                    .as_ref()
                    .is_some_and(|(in_full, changes)| *in_full || changes.is_some());
                let balances = self
                    .stream_transaction_lines(&mut run, &from_transaction_lines, sum_balances)
                    .await?;
                self.chart_of_accounts(&mut run, accounts.take(), &deleted, balances)
                    .await?;
            }
            (false, Some(changes), Some(deleted)) => {
                self.apply_ledger(&mut run, &from_transaction_lines, changes, deleted)
                    .await?
            }
            _ => {}
        }
        // A new data type: its source's pull here, once however many data types it feeds.
        Ok(())
    }

    /// The chart of accounts, in full or its changes (`accounts`: whether in full, and the
    /// changes read), with the balances a full read of the ledger in this run summed, if any.
    async fn chart_of_accounts(
        &self,
        run: &mut Run<'_, '_>,
        accounts: Option<(bool, Option<super::accounts::pull::AccountChanges>)>,
        deleted: &Option<DeletedLog>,
        ledger: Option<super::accounts::pull::FullBalances>,
    ) -> Result<(), PullError> {
        match (accounts, deleted) {
            (Some((true, _)), _) => self.pull_gl_accounts(run, ledger).await?,
            (Some((_, Some(changes))), Some(deleted)) => {
                self.apply_gl_accounts(run, changes, deleted, ledger)
                    .await?
            }
            _ => {}
        }
        Ok(())
    }

    /// The first page of `path` in the run's division.
    pub(super) fn division_url(
        &self,
        run: &Run<'_, '_>,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Url, ProviderError> {
        let mut url = self.api_url(
            run.session.integration_key,
            &format!("{}/{path}", run.division),
        )?;
        url.query_pairs_mut().extend_pairs(query);
        Ok(url)
    }

    /// One page of a list in the run's division, read as typed rows, through the budget.
    pub(super) async fn typed_page<T: DeserializeOwned>(
        &self,
        run: &mut Run<'_, '_>,
        url: &Url,
    ) -> Result<(Vec<T>, Option<Url>), ProviderError> {
        let key: BudgetKey = (
            run.session.integration_key.to_string(),
            run.division.clone(),
        );
        let page = self
            .api
            .get_page(run.session, &self.budget, Some(&key), url)
            .await?;
        run.calls_since_page += 1;
        let rows = page
            .results
            .into_iter()
            .map(row::parse)
            .collect::<Result<Vec<T>, String>>()
            .map_err(ProviderError::Upstream)?;
        Ok((rows, page.next))
    }

    /// How many rows a list of the run's division holds: one call (`$top=1` with
    /// `$inlinecount=allpages`, EXACT.md §4), whatever its page size.
    pub(super) async fn row_count(
        &self,
        run: &mut Run<'_, '_>,
        path: &str,
        key_field: &str,
    ) -> Result<i64, ProviderError> {
        let url = self.division_url(
            run,
            path,
            &[
                ("$select", key_field),
                ("$top", "1"),
                ("$inlinecount", "allpages"),
            ],
        )?;
        let budget_key: BudgetKey = (
            run.session.integration_key.to_string(),
            run.division.clone(),
        );
        let body = self
            .api
            .get(run.session, &self.budget, Some(&budget_key), &url)
            .await?;
        run.calls_since_page += 1;
        let count = &body["d"]["__count"];
        count
            .as_i64()
            .or_else(|| count.as_str().and_then(|c| c.parse().ok()))
            .ok_or_else(|| ProviderError::Upstream(format!("{path} answered no __count")))
    }

    /// Every row of a list in the run's division, typed, with `$select` of the row's fields.
    pub(super) async fn typed_list<T: DeserializeOwned>(
        &self,
        run: &mut Run<'_, '_>,
        path: &str,
        filter: Option<&str>,
    ) -> Result<Vec<T>, ProviderError> {
        self.typed_list_selecting(run, path, &row::select::<T>(), filter)
            .await
    }

    /// Every row of a list in the run's division, typed, with the given `$select`.
    pub(super) async fn typed_list_selecting<T: DeserializeOwned>(
        &self,
        run: &mut Run<'_, '_>,
        path: &str,
        select: &str,
        filter: Option<&str>,
    ) -> Result<Vec<T>, ProviderError> {
        let mut query = vec![("$select", select)];
        if let Some(filter) = filter {
            query.push(("$filter", filter));
        }
        let mut url = Some(self.division_url(run, path, &query)?);
        let mut rows = Vec::new();
        while let Some(this) = url {
            let (page, next) = self.typed_page::<T>(run, &this).await?;
            rows.extend(page);
            url = next;
        }
        Ok(rows)
    }

    /// Every row of a sync endpoint changed after `since`, typed, with `$select` of the row's
    /// fields (1,000 a call, in Timestamp order): for reads that are small, or must be whole
    /// before they are used (changes since a cursor); a full read streams (see `stream`).
    pub(super) async fn sync_rows<T: DeserializeOwned>(
        &self,
        run: &mut Run<'_, '_>,
        path: &str,
        since: i64,
        timestamp: fn(&T) -> Option<i64>,
    ) -> Result<SyncRead<T>, ProviderError> {
        let mut pages = self.sync_pages(run, path, since, timestamp)?;
        let mut rows = Vec::new();
        while let Some(page) = pages.next(self, run).await? {
            rows.extend(page);
        }
        Ok(SyncRead {
            rows,
            max: pages.max,
            first_page_max: pages.first_page_max,
        })
    }

    /// The division's `DivisionMoveDate` as a cursor holds it (epoch ms, 0 for none).
    pub(super) async fn division_moved_at(
        &self,
        run: &mut Run<'_, '_>,
    ) -> Result<i64, ProviderError> {
        Ok(self
            .division_row(run)
            .await?
            .division_move_date
            .map_or(0, |at| at.and_utc().timestamp_millis()))
    }

    /// A full read's cursor before its positions: the division's move date.
    pub(super) async fn fresh_cursor(
        &self,
        run: &mut Run<'_, '_>,
    ) -> Result<SyncCursor, ProviderError> {
        let mut cursor = SyncCursor::default();
        cursor.set(cursor::DIVISION_MOVE, self.division_moved_at(run).await?);
        Ok(cursor)
    }

    /// The payment terms changed after `since`: read once a run from the earliest position
    /// asked (the run asks that first, see `pull_data`), then filtered for each asker.
    pub(super) async fn payment_terms_since(
        &self,
        run: &mut Run<'_, '_>,
        since: i64,
    ) -> Result<(Vec<PaymentTermRow>, Option<i64>), ProviderError> {
        let covered = run
            .payment_terms
            .as_ref()
            .is_some_and(|(from, _)| *from <= since);
        if !covered {
            let read = self
                .sync_rows::<PaymentTermRow>(run, "sync/Cashflow/PaymentTerms", since, |r| {
                    r.timestamp
                })
                .await?;
            run.payment_terms = Some((since, read));
        }
        let (_, read) = run.payment_terms.as_ref().expect("read above");
        let rows = read
            .rows
            .iter()
            .filter(|r| r.timestamp > Some(since))
            .cloned()
            .collect();
        Ok((rows, read.max))
    }

    /// `sync/Deleted` after `since`, every entity type in one read.
    async fn deleted_log(
        &self,
        run: &mut Run<'_, '_>,
        since: i64,
    ) -> Result<DeletedLog, ProviderError> {
        let read = self
            .sync_rows::<DeletedRow>(run, cursor::DELETED, since, |r| r.timestamp)
            .await?;
        Ok(DeletedLog {
            rows: read.rows,
            max: read.max,
        })
    }

    /// Every row of a list whose `field` is one of `values` (each written as an OData literal by
    /// `literal`), read [`KEYS_PER_FILTER`] values a filter.
    pub(super) async fn typed_list_by<T: DeserializeOwned>(
        &self,
        run: &mut Run<'_, '_>,
        path: &str,
        field: &str,
        values: &[String],
        literal: fn(&str) -> String,
    ) -> Result<Vec<T>, ProviderError> {
        self.typed_list_by_selecting(run, path, &row::select::<T>(), field, values, literal)
            .await
    }

    /// [`Self::typed_list_by`] with the given `$select`.
    pub(super) async fn typed_list_by_selecting<T: DeserializeOwned>(
        &self,
        run: &mut Run<'_, '_>,
        path: &str,
        select: &str,
        field: &str,
        values: &[String],
        literal: fn(&str) -> String,
    ) -> Result<Vec<T>, ProviderError> {
        let mut rows = Vec::new();
        for chunk in values.chunks(KEYS_PER_FILTER) {
            let filter = chunk
                .iter()
                .map(|v| format!("{field} eq {}", literal(v)))
                .collect::<Vec<_>>()
                .join(" or ");
            rows.extend(
                self.typed_list_selecting::<T>(run, path, select, Some(&filter))
                    .await?,
            );
        }
        Ok(rows)
    }

    /// The division's VAT codes, from `vat/VATCodes` (one call, the first time a run asks).
    pub(super) async fn vat_code_rows(
        &self,
        run: &mut Run<'_, '_>,
    ) -> Result<Vec<VatCodeRow>, ProviderError> {
        if let Some(rows) = &run.vat_codes {
            return Ok(rows.clone());
        }
        let rows = self
            .typed_list::<VatCodeRow>(run, "vat/VATCodes", None)
            .await?;
        run.vat_codes = Some(rows.clone());
        Ok(rows)
    }

    /// Sales invoice ids by invoice number. The invoices pull hands them over when it ran in
    /// this run; otherwise one read of `bulk/SalesInvoice/SalesInvoices` (headers, 1,000 a
    /// call) with just the two fields.
    pub(super) async fn invoice_ids_by_number(
        &self,
        run: &mut Run<'_, '_>,
    ) -> Result<HashMap<String, String>, ProviderError> {
        if let Some(ids) = &run.invoice_ids {
            return Ok(ids.clone());
        }
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(default, rename_all = "PascalCase")]
        struct InvoiceNumberRow {
            #[serde(rename = "InvoiceID", deserialize_with = "row::de::text")]
            invoice_id: Option<String>,
            #[serde(deserialize_with = "row::de::text")]
            invoice_number: Option<String>,
        }
        let rows = self
            .typed_list::<InvoiceNumberRow>(run, "bulk/SalesInvoice/SalesInvoices", None)
            .await?;
        let ids: HashMap<String, String> = rows
            .into_iter()
            .filter_map(|r| Some((r.invoice_number?, r.invoice_id?)))
            .collect();
        run.invoice_ids = Some(ids.clone());
        Ok(ids)
    }

    /// The division's `system/Divisions` row (one call, the first time a run asks): its
    /// currency for every data type, and company info.
    pub(super) async fn division_row(
        &self,
        run: &mut Run<'_, '_>,
    ) -> Result<super::company_info::DivisionRow, ProviderError> {
        if let Some(row) = &run.division_row {
            return Ok(row.clone());
        }
        let division = run.division.clone();
        let rows = self
            .typed_list::<super::company_info::DivisionRow>(run, "system/Divisions", None)
            .await?;
        let row = rows
            .into_iter()
            .find(|row| row.code.map(|c| c.to_string()).as_deref() == Some(division.as_str()))
            .ok_or_else(|| {
                ProviderError::Upstream(format!("division {division} is not in system/Divisions"))
            })?;
        run.division_row = Some(row.clone());
        Ok(row)
    }

    /// The division's own currency, from its `system/Divisions` row (memoized per run).
    pub(super) async fn division_currency(
        &self,
        run: &mut Run<'_, '_>,
    ) -> Result<String, ProviderError> {
        let division = run.division.clone();
        self.division_row(run)
            .await?
            .currency
            .ok_or_else(|| ProviderError::Upstream(format!("division {division} has no currency")))
    }
}
