//! The chart of accounts pull, in full or since a cursor (the rules and call costs are in the
//! module doc of `accounts`).
//!
//! In full: the balances (from the run's full read of the transaction lines, else one read of
//! their `Timestamp,ID,GLAccount,AmountDC`), then `sync/Financial/GLAccounts`, each account
//! mapped with its balance, and ReportingBalance's row count (one call), which the cursor keeps
//! beside the lines' and the accounts' for choosing later reads.
//!
//! Incremental: the GL accounts changed after the cursor and whether any transaction line
//! changed (the run's read of the lines when it made one from the cursor's position or earlier,
//! else one `$select=Timestamp` read), then, with the run's one read of the deleted log, the GL
//! accounts deleted (`EntityType` 7) and lines deleted (1) after it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::Decimal;

use super::super::ExactProvider;
use super::super::cursor::{self, SyncCursor};
use super::super::pull::{DeletedLog, KEYS_PER_FILTER, Run};
use super::super::transaction_lines::{DELETED_TRANSACTION_LINES, TRANSACTION_LINES};
use super::balances::{self, LineAmountRow, LineStampRow, LineSums};
use super::{AccountContext, GlAccountRow, ReportingBalanceRow};
use crate::provider::{DataType, PullError};

/// `sync/Financial/GLAccounts`.
const GL_ACCOUNTS: &str = "sync/Financial/GLAccounts";

/// The sync endpoints a chart of accounts cursor holds a position in.
pub(in crate::provider::exact) const CURSOR_ENDPOINTS: &[&str] = &[
    GL_ACCOUNTS,
    TRANSACTION_LINES,
    cursor::DELETED,
    cursor::DIVISION_MOVE,
];

/// `sync/Deleted`'s EntityType for GL accounts (EXACT.md §5).
const DELETED_GL_ACCOUNTS: i64 = 7;

/// Exact's summary of the lines per account and period (60 rows a call).
const REPORTING_BALANCE: &str = "financial/ReportingBalance";

/// Not endpoints: how many rows each balance source held when last read or counted, kept in the
/// cursor (see [`Sizes`]).
const LINES_ROWS: &str = "sync/Financial/TransactionLines.rows";
const REPORTING_ROWS: &str = "financial/ReportingBalance.rows";
const GL_ROWS: &str = "sync/Financial/GLAccounts.rows";

/// Rows a call: a sync endpoint, and ReportingBalance (a plain endpoint).
const SYNC_PAGE: i64 = 1_000;
const REPORTING_PAGE: i64 = 60;

/// How a recompute of balances reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BalanceRead {
    /// Every line's amount: ⌈lines/1000⌉ calls.
    Lines,
    /// Every ReportingBalance row: ⌈rows/60⌉ calls.
    Reporting,
    /// The ReportingBalance rows of the changed accounts, [`KEYS_PER_FILTER`] accounts a filter.
    ReportingOf,
}

/// The balance sources' sizes when last read or counted (0: unknown), from the cursor.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    lines: i64,
    reporting: i64,
    gl_accounts: i64,
}

fn calls_for(rows: i64, per_call: i64) -> i64 {
    ((rows + per_call - 1) / per_call).max(1)
}

impl Sizes {
    fn of(cursor: &SyncCursor) -> Sizes {
        Sizes {
            lines: cursor.at(LINES_ROWS),
            reporting: cursor.at(REPORTING_ROWS),
            gl_accounts: cursor.at(GL_ROWS),
        }
    }

    /// The cheaper read of every balance. Lines when ReportingBalance's size is unknown.
    fn every_balance(&self) -> (BalanceRead, i64) {
        let lines = calls_for(self.lines, SYNC_PAGE);
        match self.reporting {
            0 => (BalanceRead::Lines, lines),
            rows => {
                let reporting = calls_for(rows, REPORTING_PAGE);
                if reporting < lines {
                    (BalanceRead::Reporting, reporting)
                } else {
                    (BalanceRead::Lines, lines)
                }
            }
        }
    }

    /// The cheapest read of `accounts` accounts' balances: their ReportingBalance rows (as many
    /// as an average account has, each) or every balance.
    fn some_balances(&self, accounts: usize) -> BalanceRead {
        let (every, every_calls) = self.every_balance();
        let per_account = match (self.reporting, self.gl_accounts) {
            (0, _) | (_, 0) => return BalanceRead::ReportingOf,
            (rows, gl) => rows as f64 / gl as f64,
        };
        let filtered: i64 = (0..accounts)
            .step_by(KEYS_PER_FILTER)
            .map(|start| {
                let chunk = (accounts - start).min(KEYS_PER_FILTER) as f64;
                calls_for((chunk * per_account).ceil() as i64, REPORTING_PAGE)
            })
            .sum();
        if filtered <= every_calls {
            BalanceRead::ReportingOf
        } else {
            every
        }
    }
}

/// GL accounts changed since a cursor, waiting for the run's read of the deleted log.
pub(in crate::provider::exact) struct AccountChanges {
    rows: Vec<GlAccountRow>,
    /// The highest Timestamp of a line changed after the cursor, if any (a deleted line shows
    /// in the log instead).
    lines_changed: Option<i64>,
    /// The run reads the lines in full later: whether one changed is known from that read.
    lines_pending: bool,
    /// Already past the rows read; the deleted log's position moves when it is applied.
    pub(in crate::provider::exact) cursor: SyncCursor,
}

/// Balances summed from a full read of the lines, with that read's size and Timestamps: the
/// run's read for bills and journal entries, or one of the lines' amounts alone.
pub(in crate::provider::exact) struct FullBalances {
    pub balances: HashMap<String, Decimal>,
    pub rows: i64,
    pub max: Option<i64>,
    pub first_page_max: Option<i64>,
}

impl ExactProvider {
    /// Every GL account of the run's division with its balance; `ledger` is what the run's full
    /// read of the transaction lines summed, when it made one.
    pub(in crate::provider::exact) async fn pull_gl_accounts(
        &self,
        run: &mut Run<'_, '_>,
        ledger: Option<FullBalances>,
    ) -> Result<(), PullError> {
        let sums = self.balances_in_full(run, ledger).await?;
        let read = self
            .sync_rows::<GlAccountRow>(run, GL_ACCOUNTS, 0, |r| r.timestamp)
            .await?;
        let mut cursor = self.fresh_cursor(run).await?;
        cursor.advance(GL_ACCOUNTS, Some(read.max.unwrap_or(0)));
        cursor.advance(TRANSACTION_LINES, Some(sums.max.unwrap_or(0)));
        // Deletions before either read show as absence (of the account, or of the line from
        // its sum); later ones have higher Timestamps than both reads' first pages.
        let deleted_from = [read.first_page_max, sums.first_page_max]
            .into_iter()
            .flatten()
            .min();
        cursor.advance(cursor::DELETED, Some(deleted_from.unwrap_or(0)));
        cursor.set(LINES_ROWS, sums.rows);
        cursor.set(GL_ROWS, read.rows.len() as i64);
        let reporting_rows = self.row_count(run, REPORTING_BALANCE, "ID").await?;
        cursor.set(REPORTING_ROWS, reporting_rows);
        self.push_accounts(run, read.rows, &sums.balances, &BTreeSet::new())
            .await?;
        run.finish(DataType::Accounts, Some(cursor.to_text())).await
    }

    /// The GL accounts changed after `cursor`, and whether any line moved a balance (the
    /// deleted log comes later, once for the run).
    /// `lines_later`: the run reads the lines in full after this, which then tells.
    pub(in crate::provider::exact) async fn read_gl_accounts_since(
        &self,
        run: &mut Run<'_, '_>,
        mut cursor: SyncCursor,
        lines_later: bool,
    ) -> Result<AccountChanges, PullError> {
        let read = self
            .sync_rows::<GlAccountRow>(run, GL_ACCOUNTS, cursor.at(GL_ACCOUNTS), |r| r.timestamp)
            .await?;
        cursor.advance(GL_ACCOUNTS, read.max);
        let at = cursor.at(TRANSACTION_LINES);
        let seen = run.seen_after(TRANSACTION_LINES, at);
        let lines_changed = match seen {
            Some(seen) => seen,
            None if lines_later => None,
            None => {
                self.sync_rows::<LineStampRow>(run, TRANSACTION_LINES, at, |r| r.timestamp)
                    .await?
                    .max
            }
        };
        Ok(AccountChanges {
            rows: read.rows,
            lines_changed,
            lines_pending: lines_later && seen.is_none(),
            cursor,
        })
    }

    /// Hands on what changed: every account with fresh balances when a line changed, else the
    /// changed accounts with theirs; and the deleted accounts.
    pub(in crate::provider::exact) async fn apply_gl_accounts(
        &self,
        run: &mut Run<'_, '_>,
        changes: AccountChanges,
        deleted: &DeletedLog,
        ledger: Option<FullBalances>,
    ) -> Result<(), PullError> {
        let AccountChanges {
            rows,
            mut lines_changed,
            lines_pending,
            mut cursor,
        } = changes;
        if lines_pending {
            // The run's full read of the lines came after the accounts' changes were read.
            lines_changed = run
                .seen_after(TRANSACTION_LINES, cursor.at(TRANSACTION_LINES))
                .flatten();
        }
        let lines_deleted =
            deleted.any_after(DELETED_TRANSACTION_LINES, cursor.at(cursor::DELETED));
        let gone = deleted.keys_after(DELETED_GL_ACCOUNTS, &mut cursor);
        let sizes = Sizes::of(&cursor);
        if lines_changed.is_some() || lines_deleted {
            // Balances moved, and which ones is unknown (a line moved between accounts names
            // only its new one; a deleted line names none): all of them, every account pushed
            // (the sink rewrites only those that differ), absence meaning deletion.
            let balances = match (&ledger, sizes.every_balance().0) {
                (None, BalanceRead::Reporting) => {
                    let rows = self
                        .typed_list::<ReportingBalanceRow>(run, REPORTING_BALANCE, None)
                        .await?;
                    cursor.set(REPORTING_ROWS, rows.len() as i64);
                    // It holds every line up to the changes seen, and maybe later ones, which
                    // the next pull sees again.
                    cursor.advance(TRANSACTION_LINES, lines_changed);
                    balances::from_reporting(&rows)
                }
                _ => {
                    let sums = self.balances_in_full(run, ledger).await?;
                    cursor.set(LINES_ROWS, sums.rows);
                    cursor.advance(TRANSACTION_LINES, sums.max);
                    sums.balances
                }
            };
            let all = self
                .sync_rows::<GlAccountRow>(run, GL_ACCOUNTS, 0, |r| r.timestamp)
                .await?;
            cursor.advance(GL_ACCOUNTS, all.max);
            cursor.set(GL_ROWS, all.rows.len() as i64);
            run.read_in_full(DataType::Accounts);
            self.push_accounts(run, all.rows, &balances, &gone).await?;
        } else if !rows.is_empty() {
            // No line changed: the changed accounts' balances are as they were, but the store's
            // are not ours to read. The run's full read of the lines when it has one, else the
            // cheapest read (see the module doc); the lines position stays either way, so a
            // line changed meanwhile is recomputed next time.
            let ids: Vec<String> = rows
                .iter()
                .filter_map(|r| r.id.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let balances = match (&ledger, sizes.some_balances(ids.len())) {
                (Some(_), _) | (None, BalanceRead::Lines) => {
                    self.balances_in_full(run, ledger).await?.balances
                }
                (None, BalanceRead::Reporting) => {
                    let rows = self
                        .typed_list::<ReportingBalanceRow>(run, REPORTING_BALANCE, None)
                        .await?;
                    balances::from_reporting(&rows)
                }
                (None, BalanceRead::ReportingOf) => {
                    let rows = self
                        .typed_list_by::<ReportingBalanceRow>(
                            run,
                            REPORTING_BALANCE,
                            "GLAccount",
                            &ids,
                            |id| format!("guid'{id}'"),
                        )
                        .await?;
                    balances::from_reporting(&rows)
                }
            };
            self.push_accounts(run, rows, &balances, &gone).await?;
        }
        for id in gone {
            run.delete(DataType::Accounts, id);
        }
        run.finish(DataType::Accounts, Some(cursor.to_text())).await
    }

    /// Every account's balance: what the run's full read of the lines summed when it made one,
    /// else one read of the lines' amounts (1,000 a call), summed page by page.
    async fn balances_in_full(
        &self,
        run: &mut Run<'_, '_>,
        ledger: Option<FullBalances>,
    ) -> Result<FullBalances, PullError> {
        if let Some(sums) = ledger {
            return Ok(sums);
        }
        let mut pages =
            self.sync_pages::<LineAmountRow>(run, TRANSACTION_LINES, 0, |r| r.timestamp)?;
        let mut sums = LineSums::default();
        while let Some(page) = pages.next(self, run).await? {
            for line in &page {
                sums.add(line);
            }
        }
        Ok(FullBalances {
            balances: sums.balances(),
            rows: pages.rows,
            max: pages.max,
            first_page_max: pages.first_page_max,
        })
    }

    /// Maps and pushes GL accounts (each once, its newest version) but the deleted ones.
    async fn push_accounts(
        &self,
        run: &mut Run<'_, '_>,
        rows: Vec<GlAccountRow>,
        balances: &HashMap<String, Decimal>,
        gone: &BTreeSet<String>,
    ) -> Result<(), PullError> {
        let division_currency = self.division_currency(run).await?;
        let context = AccountContext {
            division_currency: &division_currency,
            balances,
        };
        // A row changed while the read paged through comes again with a higher Timestamp.
        let mut latest: BTreeMap<String, GlAccountRow> = BTreeMap::new();
        for row in rows {
            let Some(id) = row.id.clone() else { continue };
            if gone.contains(&id) {
                continue;
            }
            match latest.get(&id) {
                Some(seen) if seen.timestamp >= row.timestamp => {}
                _ => {
                    latest.insert(id, row);
                }
            }
        }
        for row in latest.values() {
            match super::map_account(row, &context) {
                Ok(account) => {
                    run.push(DataType::Accounts, account.id.clone(), &account)
                        .await?
                }
                Err(why) => {
                    tracing::warn!(?row.id, %why, "an Exact GL account could not be mapped; skipped");
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{GlAccountRow, ReportingBalanceRow};
    use super::{BalanceRead, Sizes};
    use crate::provider::exact::row;

    #[test]
    fn every_balance_is_read_from_the_cheaper_source() {
        // The sandbox's small books: 2,600 lines (3 calls), 500 summary rows (9 calls).
        let small = Sizes {
            lines: 2_600,
            reporting: 507,
            gl_accounts: 47,
        };
        assert_eq!(small.every_balance(), (BalanceRead::Lines, 3));
        // 10,000 invoices: 61,000 lines (61 calls), 840 summary rows (14 calls).
        let big = Sizes {
            lines: 61_000,
            reporting: 840,
            gl_accounts: 47,
        };
        assert_eq!(big.every_balance(), (BalanceRead::Reporting, 14));
        // ReportingBalance never counted: the lines.
        let unknown = Sizes {
            reporting: 0,
            ..big
        };
        assert_eq!(unknown.every_balance(), (BalanceRead::Lines, 61));
    }

    #[test]
    fn a_few_changed_accounts_read_their_summary_rows_and_many_read_every_balance() {
        let small = Sizes {
            lines: 2_600,
            reporting: 507,
            gl_accounts: 47,
        };
        // ~11 rows an account: 2 accounts, one call.
        assert_eq!(small.some_balances(2), BalanceRead::ReportingOf);
        // 40 accounts: 2 filters of ~216 rows, 4 calls each, against 3 for every line.
        assert_eq!(small.some_balances(40), BalanceRead::Lines);
        // 500 accounts of 30 summary rows each, 20,000 lines: one account's rows are one call.
        let wide = Sizes {
            lines: 20_000,
            reporting: 15_000,
            gl_accounts: 500,
        };
        assert_eq!(wide.some_balances(1), BalanceRead::ReportingOf);
        assert_eq!(wide.some_balances(100), BalanceRead::Lines);
    }

    #[test]
    fn the_selects_are_derived_from_the_typed_rows() {
        assert_eq!(
            row::select::<GlAccountRow>(),
            "Timestamp,ID,Code,Description,Type,BalanceType,BalanceSide,IsBlocked,Modified"
        );
        assert_eq!(row::select::<ReportingBalanceRow>(), "GLAccount,Amount");
    }
}
