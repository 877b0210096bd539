//! The relations pull: ONE read of `sync/CRM/Accounts` per run, whichever of customers and
//! suppliers the run wants, each account mapped once and pushed to the data types it belongs to.

use std::collections::{BTreeMap, BTreeSet};

use super::super::ExactProvider;
use super::super::pull::Run;
use super::AccountRow;
use crate::provider::{DataType, PullError};

impl ExactProvider {
    /// Every account of the run's division, as the customers and suppliers in `wanted`.
    pub(in crate::provider::exact) async fn pull_relations(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
    ) -> Result<(), PullError> {
        let (customers, suppliers) = (
            wanted.contains(&DataType::Customers),
            wanted.contains(&DataType::Suppliers),
        );
        let rows = self
            .typed_list::<AccountRow>(run, "sync/CRM/Accounts", Some("Timestamp gt 0L"))
            .await?;
        let cursor = rows.iter().filter_map(|r| r.timestamp).max();
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
                    if let Some(customer) = relation.customer.filter(|_| customers) {
                        run.push(DataType::Customers, id.clone(), &customer).await?;
                    }
                    if let Some(supplier) = relation.supplier.filter(|_| suppliers) {
                        run.push(DataType::Suppliers, id, &supplier).await?;
                    }
                }
                Err(why) => {
                    tracing::warn!(account = %id, %why, "an Exact account could not be mapped; skipped");
                }
            }
        }
        let cursor = cursor.map(|c| c.to_string());
        if customers {
            run.finish(DataType::Customers, cursor.clone()).await?;
        }
        if suppliers {
            run.finish(DataType::Suppliers, cursor).await?;
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
