//! The chart of accounts pull, in full or since a cursor (the rules and call costs are in the
//! module doc of `accounts`).
//!
//! In full: the balances (from the run's full read of the transaction lines, else one read of
//! their `Timestamp,ID,GLAccount,AmountDC`), then `sync/Financial/GLAccounts`, each account
//! mapped with its balance.
//!
//! Incremental: the GL accounts changed after the cursor and whether any transaction line
//! changed (the run's read of the lines when it made one from the cursor's position or earlier,
//! else one `$select=Timestamp` read), then, with the run's one read of the deleted log, the GL
//! accounts deleted (`EntityType` 7) and lines deleted (1) after it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::Decimal;

use super::super::ExactProvider;
use super::super::cursor::{self, SyncCursor};
use super::super::pull::{DeletedLog, KEYS_PER_FILTER, Run, SyncRead};
use super::super::transaction_lines::{
    DELETED_TRANSACTION_LINES, TRANSACTION_LINES, TransactionLineRow,
};
use super::balances::{self, LineAmountRow, LineStampRow};
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

/// GL accounts changed since a cursor, waiting for the run's read of the deleted log.
pub(in crate::provider::exact) struct AccountChanges {
    rows: Vec<GlAccountRow>,
    /// Whether a transaction line changed after the cursor (a deleted one shows in the log).
    lines_changed: bool,
    /// Already past the rows read; the deleted log's position moves when it is applied.
    pub(in crate::provider::exact) cursor: SyncCursor,
}

/// Balances summed from a full read of the lines, with that read's Timestamps.
struct FullBalances {
    balances: HashMap<String, Decimal>,
    max: Option<i64>,
    first_page_max: Option<i64>,
}

impl ExactProvider {
    /// Every GL account of the run's division with its balance; `ledger` is the run's full read
    /// of the transaction lines when it made one.
    pub(in crate::provider::exact) async fn pull_gl_accounts(
        &self,
        run: &mut Run<'_, '_>,
        ledger: Option<&SyncRead<TransactionLineRow>>,
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
        self.push_accounts(run, read.rows, &sums.balances, &BTreeSet::new())
            .await?;
        run.finish(DataType::Accounts, Some(cursor.to_text())).await
    }

    /// The GL accounts changed after `cursor`, and whether any line moved a balance (the
    /// deleted log comes later, once for the run).
    pub(in crate::provider::exact) async fn read_gl_accounts_since(
        &self,
        run: &mut Run<'_, '_>,
        mut cursor: SyncCursor,
    ) -> Result<AccountChanges, PullError> {
        let read = self
            .sync_rows::<GlAccountRow>(run, GL_ACCOUNTS, cursor.at(GL_ACCOUNTS), |r| r.timestamp)
            .await?;
        cursor.advance(GL_ACCOUNTS, read.max);
        let at = cursor.at(TRANSACTION_LINES);
        let lines_changed = match run.changed_after(TRANSACTION_LINES, at) {
            Some(changed) => changed,
            None => self
                .sync_rows::<LineStampRow>(run, TRANSACTION_LINES, at, |r| r.timestamp)
                .await?
                .max
                .is_some(),
        };
        Ok(AccountChanges {
            rows: read.rows,
            lines_changed,
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
        ledger: Option<&SyncRead<TransactionLineRow>>,
    ) -> Result<(), PullError> {
        let AccountChanges {
            rows,
            lines_changed,
            mut cursor,
        } = changes;
        let lines_deleted =
            deleted.any_after(DELETED_TRANSACTION_LINES, cursor.at(cursor::DELETED));
        let gone = deleted.keys_after(DELETED_GL_ACCOUNTS, &mut cursor);
        if lines_changed || lines_deleted {
            // Balances moved, and which ones is unknown (a line moved between accounts names
            // only its new one; a deleted line names none): all of them, every account pushed
            // (the sink rewrites only those that differ), absence meaning deletion.
            let sums = self.balances_in_full(run, ledger).await?;
            cursor.advance(TRANSACTION_LINES, sums.max);
            let all = self
                .sync_rows::<GlAccountRow>(run, GL_ACCOUNTS, 0, |r| r.timestamp)
                .await?;
            cursor.advance(GL_ACCOUNTS, all.max);
            run.read_in_full(DataType::Accounts);
            self.push_accounts(run, all.rows, &sums.balances, &gone)
                .await?;
        } else if !rows.is_empty() {
            // No line changed: the changed accounts' balances are as they were, but the store's
            // are not ours to read. The cheaper of two correct reads (see the module doc).
            let ids: Vec<String> = rows
                .iter()
                .filter_map(|r| r.id.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let balances = if ids.len() <= KEYS_PER_FILTER {
                let reporting = self
                    .typed_list_by::<ReportingBalanceRow>(
                        run,
                        "financial/ReportingBalance",
                        "GLAccount",
                        &ids,
                        |id| format!("guid'{id}'"),
                    )
                    .await?;
                balances::from_reporting(&reporting)
            } else {
                // The lines position stays: a line changed meanwhile is recomputed next time.
                self.balances_in_full(run, ledger).await?.balances
            };
            self.push_accounts(run, rows, &balances, &gone).await?;
        }
        for id in gone {
            run.delete(DataType::Accounts, id);
        }
        run.finish(DataType::Accounts, Some(cursor.to_text())).await
    }

    /// Every account's balance: from the run's full read of the lines when it has one, else
    /// one read of the lines' amounts (1,000 a call).
    async fn balances_in_full(
        &self,
        run: &mut Run<'_, '_>,
        ledger: Option<&SyncRead<TransactionLineRow>>,
    ) -> Result<FullBalances, PullError> {
        Ok(match ledger {
            Some(read) => FullBalances {
                balances: balances::from_lines(&read.rows),
                max: read.max,
                first_page_max: read.first_page_max,
            },
            None => {
                let read = self
                    .sync_rows::<LineAmountRow>(run, TRANSACTION_LINES, 0, |r| r.timestamp)
                    .await?;
                FullBalances {
                    balances: balances::from_lines(&read.rows),
                    max: read.max,
                    first_page_max: read.first_page_max,
                }
            }
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
    use crate::provider::exact::row;

    #[test]
    fn the_selects_are_derived_from_the_typed_rows() {
        assert_eq!(
            row::select::<GlAccountRow>(),
            "Timestamp,ID,Code,Description,Type,BalanceType,BalanceSide,IsBlocked,Modified"
        );
        assert_eq!(row::select::<ReportingBalanceRow>(), "GLAccount,Amount");
    }
}
