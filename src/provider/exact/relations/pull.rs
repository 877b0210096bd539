//! The relations pull: ONE read of `sync/CRM/Accounts` and ONE of `sync/CRM/Contacts` per run,
//! whichever of customers and suppliers the run wants, each account mapped once with its people
//! and pushed to the data types it belongs to.
//!
//! Incremental: the accounts and the contacts changed after the cursor, then (with the run's one
//! read of the deleted log) the accounts deleted after it (`EntityType` 2). A changed contact
//! touches its relation: the relations touched only through their people are read by key
//! (`bulk/CRM/Accounts`), and every relation pushed again gets all its people read anew by
//! `Account` (`bulk/CRM/Contacts`), 20 relations a call — a record is whole or
//! not at all. A deleted contact (`EntityType` 5) is logged with its own GUID only, not its
//! relation's: each relation is stored with its people's GUIDs as upstream keys, so the store
//! says which relation a deleted contact belonged to, and only that one is re-read. The run
//! reads the relations in full (⌈accounts/1000⌉ + ⌈contacts/1000⌉ calls, what a first pull
//! costs) when so many relations changed that re-reading them by key would cost more calls than
//! that (the cursor keeps each endpoint's row count at the last full read to tell).
//! A changed account that is no longer a customer (or supplier) is reported deleted there, as a
//! full pull's absence would.

use std::collections::{BTreeMap, BTreeSet};

use super::super::ExactProvider;
use super::super::cursor::{self, SyncCursor};
use super::super::pull::{DeletedLog, Run};
use super::super::row;
use super::AccountRow;
use super::contacts::ContactRow;
use crate::provider::{DataType, PullError};

const ACCOUNTS: &str = "sync/CRM/Accounts";
const CONTACTS: &str = "sync/CRM/Contacts";
/// The data types Exact's accounts feed.
const RELATIONS: &[DataType] = &[DataType::Customers, DataType::Suppliers];

/// Not a position: the relations were stored with their people's GUIDs as upstream keys. A
/// cursor from before that pulls in full once, which stores them.
const CONTACT_KEYS: &str = "sync/CRM/Contacts.keys";

/// The sync endpoints a customers or suppliers cursor holds a position in.
pub(in crate::provider::exact) const CURSOR_ENDPOINTS: &[&str] = &[
    ACCOUNTS,
    CONTACTS,
    cursor::DELETED,
    cursor::DIVISION_MOVE,
    CONTACT_KEYS,
];

/// Not positions: the rows of each endpoint at the last full read, to tell whether re-reading
/// touched relations by key would cost more calls than reading them all.
const ACCOUNT_ROWS: &str = "sync/CRM/Accounts.rows";
const CONTACT_ROWS: &str = "sync/CRM/Contacts.rows";

/// Keys per `$filter` of a by-key re-read (see `pull::KEYS_PER_FILTER`).
const KEYS_PER_CALL: usize = super::super::pull::KEYS_PER_FILTER;

/// `sync/Deleted`'s EntityType for accounts and for contacts (EXACT.md §5).
const DELETED_ACCOUNTS: i64 = 2;
const DELETED_CONTACTS: i64 = 5;

/// Accounts and contacts changed since a cursor, waiting for the run's read of the deleted log.
pub(in crate::provider::exact) struct RelationChanges {
    accounts: Vec<AccountRow>,
    contacts: Vec<ContactRow>,
    /// Already past the rows read; the deleted log's position moves when it is applied.
    pub(in crate::provider::exact) cursor: SyncCursor,
}

/// People by the relation (`Account`) they belong to, each contact in its newest version.
#[derive(Default)]
struct People(BTreeMap<String, Vec<ContactRow>>);

impl People {
    fn group(rows: Vec<ContactRow>) -> People {
        let mut people = People::default();
        for row in latest(rows, |c| c.id.clone(), |c| c.timestamp) {
            if let Some(account) = row.account.clone() {
                people.0.entry(account).or_default().push(row);
            }
        }
        people
    }

    fn of(&self, account: &str) -> &[ContactRow] {
        self.0.get(account).map_or(&[], Vec::as_slice)
    }
}

/// A row changed while a read paged through comes again with a higher Timestamp: keeps each
/// id's newest version only (EXACT.md §5).
fn latest<T>(
    rows: Vec<T>,
    id: fn(&T) -> Option<String>,
    timestamp: fn(&T) -> Option<i64>,
) -> Vec<T> {
    let mut newest: BTreeMap<String, T> = BTreeMap::new();
    for row in rows {
        let Some(key) = id(&row) else { continue };
        match newest.get(&key) {
            Some(seen) if timestamp(seen) >= timestamp(&row) => {}
            _ => {
                newest.insert(key, row);
            }
        }
    }
    newest.into_values().collect()
}

/// A typed row's `$select` for a `bulk/` endpoint, which has no `Timestamp`.
fn bulk_select<T: serde::de::DeserializeOwned>() -> String {
    row::select::<T>()
        .split(',')
        .filter(|f| *f != "Timestamp")
        .collect::<Vec<_>>()
        .join(",")
}

/// The calls of re-reading changed relations by key (the `touched` accounts, then the people of
/// every relation pushed) against those of reading all of them, by the row counts the cursor
/// kept from the last full read.
fn rereading_costs(changed: usize, touched: usize, cursor: &SyncCursor) -> (usize, usize) {
    let by_key = touched.div_ceil(KEYS_PER_CALL) + (changed + touched).div_ceil(KEYS_PER_CALL);
    let in_full = [ACCOUNT_ROWS, CONTACT_ROWS]
        .iter()
        .map(|rows| (cursor.at(rows).max(1) as usize).div_ceil(1000))
        .sum();
    (by_key, in_full)
}

fn guid(id: &str) -> String {
    format!("guid'{id}'")
}

impl ExactProvider {
    /// Every account of the run's division with its people, as the customers and suppliers in
    /// `wanted`.
    pub(in crate::provider::exact) async fn pull_relations(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
    ) -> Result<(), PullError> {
        let cursor = self.fresh_cursor(run).await?;
        self.read_relations_in_full(run, wanted, cursor).await
    }

    /// Reads every account and contact and pushes the relations, finishing at `cursor` moved
    /// past them.
    async fn read_relations_in_full(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
        mut cursor: SyncCursor,
    ) -> Result<(), PullError> {
        let accounts = self
            .sync_rows::<AccountRow>(run, ACCOUNTS, 0, |r| r.timestamp)
            .await?;
        let contacts = self
            .sync_rows::<ContactRow>(run, CONTACTS, 0, |r| r.timestamp)
            .await?;
        cursor.advance(ACCOUNTS, Some(accounts.max.unwrap_or(0)));
        cursor.advance(CONTACTS, Some(contacts.max.unwrap_or(0)));
        cursor.set(ACCOUNT_ROWS, accounts.rows.len() as i64);
        cursor.set(CONTACT_ROWS, contacts.rows.len() as i64);
        cursor.set(CONTACT_KEYS, 1);
        // Deletions before the first call show as absence; later ones have higher Timestamps
        // than the first page of the accounts, read first.
        cursor.advance(cursor::DELETED, Some(accounts.first_page_max.unwrap_or(0)));
        let people = People::group(contacts.rows);
        self.push_relations(run, wanted, accounts.rows, &people, false)
            .await?;
        run.finish_wanted(RELATIONS, wanted, cursor.to_text()).await
    }

    /// The accounts and contacts changed after `cursor` (the deleted log comes later, once for
    /// the run).
    pub(in crate::provider::exact) async fn read_relations_since(
        &self,
        run: &mut Run<'_, '_>,
        mut cursor: SyncCursor,
    ) -> Result<RelationChanges, PullError> {
        let accounts = self
            .sync_rows::<AccountRow>(run, ACCOUNTS, cursor.at(ACCOUNTS), |r| r.timestamp)
            .await?;
        let contacts = self
            .sync_rows::<ContactRow>(run, CONTACTS, cursor.at(CONTACTS), |r| r.timestamp)
            .await?;
        cursor.advance(ACCOUNTS, accounts.max);
        cursor.advance(CONTACTS, contacts.max);
        Ok(RelationChanges {
            accounts: accounts.rows,
            contacts: contacts.rows,
            cursor,
        })
    }

    /// Hands on the changed relations (by their accounts or their people) and the deleted ones.
    pub(in crate::provider::exact) async fn apply_relations(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
        changes: RelationChanges,
        deleted: &DeletedLog,
    ) -> Result<(), PullError> {
        let RelationChanges {
            accounts,
            contacts,
            mut cursor,
        } = changes;
        let deleted_contacts = deleted.keys_after(DELETED_CONTACTS, &mut cursor.clone());
        let deleted_accounts = deleted.keys_after(DELETED_ACCOUNTS, &mut cursor.clone());
        // Several rows of one relation are left for `push_relations` to reduce to its newest.
        let mut accounts = accounts;
        // Relations touched only through their people (changed ones, and deleted ones the store
        // says whose they were): their accounts by key.
        let changed: BTreeSet<String> = accounts.iter().filter_map(|a| a.id.clone()).collect();
        let mut touched: BTreeSet<String> =
            contacts.iter().filter_map(|c| c.account.clone()).collect();
        for data_type in RELATIONS.iter().filter(|d| wanted.contains(d)) {
            touched.extend(run.stored_ids(*data_type, &deleted_contacts).await?);
        }
        let touched: Vec<String> = touched
            .into_iter()
            .filter(|a| !changed.contains(a) && !deleted_accounts.contains(a))
            .collect();
        let (by_key, in_full) = rereading_costs(changed.len(), touched.len(), &cursor);
        if by_key > in_full {
            tracing::info!(
                division = %run.division_code(),
                by_key,
                in_full,
                "reading the relations in full"
            );
            for data_type in RELATIONS.iter().filter(|d| wanted.contains(d)) {
                run.read_in_full(*data_type);
            }
            // The full read covers every deletion logged so far: the log's position moves past
            // this read of it, so the same deletion never asks for a full read again.
            cursor.advance(cursor::DELETED, deleted.max);
            return self.read_relations_in_full(run, wanted, cursor).await;
        }
        cursor.advance(cursor::DELETED, deleted.max);
        if !touched.is_empty() {
            accounts.extend(
                self.typed_list_by_selecting::<AccountRow>(
                    run,
                    "bulk/CRM/Accounts",
                    &bulk_select::<AccountRow>(),
                    "ID",
                    &touched,
                    guid,
                )
                .await?,
            );
        }
        // Every relation pushed again with all its people, read anew.
        let ids: Vec<String> = accounts.iter().filter_map(|a| a.id.clone()).collect();
        let people = if ids.is_empty() {
            People::default()
        } else {
            People::group(
                self.typed_list_by_selecting::<ContactRow>(
                    run,
                    "bulk/CRM/Contacts",
                    &bulk_select::<ContactRow>(),
                    "Account",
                    &ids,
                    guid,
                )
                .await?,
            )
        };
        self.push_relations(run, wanted, accounts, &people, true)
            .await?;
        for id in deleted_accounts {
            run.delete_wanted(RELATIONS, wanted, &id);
        }
        run.finish_wanted(RELATIONS, wanted, cursor.to_text()).await
    }

    /// Maps and pushes accounts with their people; `report_lost_roles` reports an account that
    /// is not (or no longer) a customer or supplier as deleted there (in an incremental pull,
    /// absence says nothing).
    async fn push_relations(
        &self,
        run: &mut Run<'_, '_>,
        wanted: &BTreeSet<DataType>,
        rows: Vec<AccountRow>,
        people: &People,
        report_lost_roles: bool,
    ) -> Result<(), PullError> {
        let (customers, suppliers) = (
            wanted.contains(&DataType::Customers),
            wanted.contains(&DataType::Suppliers),
        );
        for row in latest(rows, |a| a.id.clone(), |a| a.timestamp) {
            let Some(id) = row.id.clone() else { continue };
            // Exact's deleted log names a deleted contact by its own GUID only.
            let people_ids: Vec<String> =
                people.of(&id).iter().filter_map(|c| c.id.clone()).collect();
            match super::map_relation(&row, people.of(&id)) {
                Ok(relation) => {
                    match relation.customer.filter(|_| customers) {
                        Some(customer) => {
                            run.push_keyed(
                                DataType::Customers,
                                id.clone(),
                                &customer,
                                people_ids.clone(),
                            )
                            .await?
                        }
                        None if customers && report_lost_roles => {
                            run.delete(DataType::Customers, id.clone())
                        }
                        None => {}
                    }
                    match relation.supplier.filter(|_| suppliers) {
                        Some(supplier) => {
                            run.push_keyed(DataType::Suppliers, id.clone(), &supplier, people_ids)
                                .await?
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
    use super::*;
    use crate::provider::exact::row;

    #[test]
    fn changed_relations_are_reread_by_key_only_while_that_costs_fewer_calls_than_all() {
        let mut cursor = SyncCursor::default();
        cursor.set(ACCOUNT_ROWS, 1_500);
        cursor.set(CONTACT_ROWS, 2_200);
        // All of them: 2 + 3 calls.
        assert_eq!(rereading_costs(0, 0, &cursor), (0, 5));
        assert_eq!(rereading_costs(20, 0, &cursor), (1, 5));
        // 20 accounts touched through their people: 1 call for them, 2 for 40 relations' people.
        assert_eq!(rereading_costs(20, 20, &cursor), (3, 5));
        assert_eq!(
            rereading_costs(120, 0, &cursor),
            (6, 5),
            "more than all: read all"
        );
        // A cursor without counts reads all as soon as by key costs more than two calls.
        assert_eq!(rereading_costs(41, 0, &SyncCursor::default()), (3, 2));
    }

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
