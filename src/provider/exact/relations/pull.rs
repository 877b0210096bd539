//! The relations pull: ONE read of `sync/CRM/Accounts` per run, whichever of customers and
//! suppliers the run wants, each account mapped once and pushed to the data types it belongs to.
//!
//! Incremental: the accounts changed after the cursor, then (with the run's one read of the
//! deleted log) the accounts deleted after it (`EntityType` 2). A changed account that is no
//! longer a customer (or supplier) is reported deleted there, as a full pull's absence would.

use std::collections::{BTreeMap, BTreeSet};

use super::super::ExactProvider;
use super::super::cursor::{self, SyncCursor};
use super::super::pull::{DeletedLog, Run};
use super::AccountRow;
use crate::provider::{DataType, PullError};

const ACCOUNTS: &str = "sync/CRM/Accounts";
/// The data types Exact's accounts feed.
const RELATIONS: &[DataType] = &[DataType::Customers, DataType::Suppliers];

/// The sync endpoints a customers or suppliers cursor holds a position in.
pub(in crate::provider::exact) const CURSOR_ENDPOINTS: &[&str] =
    &[ACCOUNTS, cursor::DELETED, cursor::DIVISION_MOVE];

/// `sync/Deleted`'s EntityType for accounts (EXACT.md §5).
const DELETED_ACCOUNTS: i64 = 2;

/// Accounts changed since a cursor, waiting for the run's read of the deleted log.
pub(in crate::provider::exact) struct RelationChanges {
    rows: Vec<AccountRow>,
    /// Already past the rows read; the deleted log's position moves when it is applied.
    pub(in crate::provider::exact) cursor: SyncCursor,
}

impl ExactProvider {
    /// Every account of the run's division, as the customers and suppliers in `wanted`.
    pub(in crate::provider::exact) async fn pull_relations(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
    ) -> Result<(), PullError> {
        let read = self
            .sync_rows::<AccountRow>(run, ACCOUNTS, 0, |r| r.timestamp)
            .await?;
        let mut cursor = self.fresh_cursor(run).await?;
        cursor.advance(ACCOUNTS, Some(read.max.unwrap_or(0)));
        // Deletions before the first call show as absence; later ones have higher Timestamps.
        cursor.advance(cursor::DELETED, Some(read.first_page_max.unwrap_or(0)));
        self.push_relations(run, wanted, read.rows, false).await?;
        run.finish_wanted(RELATIONS, wanted, cursor.to_text()).await
    }

    /// The accounts changed after `cursor` (the deleted log comes later, once for the run).
    pub(in crate::provider::exact) async fn read_relations_since(
        &self,
        run: &mut Run<'_, '_>,
        mut cursor: SyncCursor,
    ) -> Result<RelationChanges, PullError> {
        let read = self
            .sync_rows::<AccountRow>(run, ACCOUNTS, cursor.at(ACCOUNTS), |r| r.timestamp)
            .await?;
        cursor.advance(ACCOUNTS, read.max);
        Ok(RelationChanges {
            rows: read.rows,
            cursor,
        })
    }

    /// Hands on the changed accounts and the deleted ones.
    pub(in crate::provider::exact) async fn apply_relations(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
        changes: RelationChanges,
        deleted: &DeletedLog,
    ) -> Result<(), PullError> {
        let RelationChanges { rows, mut cursor } = changes;
        self.push_relations(run, wanted, rows, true).await?;
        for id in deleted.keys_after(DELETED_ACCOUNTS, &mut cursor) {
            run.delete_wanted(RELATIONS, wanted, &id);
        }
        run.finish_wanted(RELATIONS, wanted, cursor.to_text()).await
    }

    /// Maps and pushes accounts; `report_lost_roles` reports an account that is not (or no longer)
    /// a customer or supplier as deleted there (in an incremental pull, absence says nothing).
    async fn push_relations(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
        rows: Vec<AccountRow>,
        report_lost_roles: bool,
    ) -> Result<(), PullError> {
        let (customers, suppliers) = (
            wanted.contains(&DataType::Customers),
            wanted.contains(&DataType::Suppliers),
        );
        // A row changed while the run paged through comes again with a higher Timestamp: keep
        // its newest version only (EXACT.md §5).
        let mut latest: BTreeMap<String, AccountRow> = BTreeMap::new();
        for row in rows {
            let Some(id) = row.id.clone() else { continue };
            match latest.get(&id) {
                Some(seen) if seen.timestamp >= row.timestamp => {}
                _ => {
                    latest.insert(id, row);
                }
            }
        }
        for (id, row) in latest {
            match super::map_relation(&row) {
                Ok(relation) => {
                    match relation.customer.filter(|_| customers) {
                        Some(customer) => {
                            run.push(DataType::Customers, id.clone(), &customer).await?
                        }
                        None if customers && report_lost_roles => {
                            run.delete(DataType::Customers, id.clone())
                        }
                        None => {}
                    }
                    match relation.supplier.filter(|_| suppliers) {
                        Some(supplier) => {
                            run.push(DataType::Suppliers, id.clone(), &supplier).await?
                        }
                        None if suppliers && report_lost_roles => {
                            run.delete(DataType::Suppliers, id)
                        }
                        None => {}
                    }
                }
                Err(why) => {
                    tracing::warn!(account = %id, %why, "an Exact account could not be mapped; skipped");
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::AccountRow;
    use crate::provider::exact::row;

    #[test]
    fn the_account_select_is_derived_from_the_typed_row() {
        let select = row::select::<AccountRow>();
        for field in [
            "Timestamp",
            "ID",
            "Status",
            "IsSales",
            "IsSupplier",
            "Blocked",
            "VATNumber",
            "ChamberOfCommerce",
            "AddressLine1",
        ] {
            assert!(select.split(',').any(|f| f == field), "{field} in {select}");
        }
    }
}
