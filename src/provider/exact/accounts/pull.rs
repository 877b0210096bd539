//! The chart of accounts pull: the division's currency (memoized per run), then
//! `financial/ReportingBalance` (every row, once: the balances) and `sync/Financial/GLAccounts`
//! (1,000 rows a call), each account mapped with its balance.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::super::ExactProvider;
use super::super::pull::Run;
use super::{AccountContext, GlAccountRow, ReportingBalanceRow};
use crate::provider::{DataType, PullError};

impl ExactProvider {
    /// Every GL account of the run's division, mapped to Codat's Account.
    pub(in crate::provider::exact) async fn pull_gl_accounts(
        &self,
        run: &mut Run<'_, '_>,
    ) -> Result<(), PullError> {
        let division_currency = self.division_currency(run).await?;
        let reporting = self
            .typed_list::<ReportingBalanceRow>(run, "financial/ReportingBalance", None)
            .await?;
        let balances: HashMap<String, Decimal> = super::balances_by_account(&reporting);
        drop(reporting);
        let rows = self
            .typed_list::<GlAccountRow>(run, "sync/Financial/GLAccounts", Some("Timestamp gt 0L"))
            .await?;
        let cursor = rows.iter().filter_map(|r| r.timestamp).max();
        let context = AccountContext {
            division_currency: &division_currency,
            balances: &balances,
        };
        for row in &rows {
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
        run.finish(DataType::Accounts, cursor.map(|c| c.to_string()))
            .await
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
