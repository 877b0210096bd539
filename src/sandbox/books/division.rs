//! One division's state: tables, rowversion counter, deleted log, source documents and the row diffing
//! that keeps derived rows in step with them.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::chart::Chart;
use super::docs::{JournalDoc, PurchaseDoc, SalesDoc};
use super::fields::Pool;
use super::{DeletedRecord, DivisionInfo, EntitySet, Key, Record, Table, wire};

/// A row to put into a table.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub set: EntitySet,
    pub key: Key,
    pub fields: Map<String, Value>,
}

impl Row {
    /// A GUID-keyed row.
    pub fn guid(set: EntitySet, id: Uuid, fields: Map<String, Value>) -> Row {
        Row {
            set,
            key: Key::Guid(id),
            fields,
        }
    }
}

/// Running numbers of a division.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counters {
    pub invoice: i32,
    pub purchase: i32,
    pub journal: i32,
    pub bank: i32,
    pub hid: i64,
    pub account_code: u32,
    /// `crm/Contacts.HID`.
    pub contact: i32,
}

/// A division's books.
#[derive(Debug)]
pub(crate) struct Division {
    pub info: DivisionInfo,
    tables: Vec<Table>,
    pub deleted: Vec<DeletedRecord>,
    pub last_ts: i64,
    /// Sandbox clock for mutations.
    pub now: DateTime<Utc>,
    /// Continues after generation so created keys are deterministic too.
    pub rng: ChaCha8Rng,
    pub chart: Chart,
    pub sales: HashMap<Uuid, SalesDoc>,
    pub purchases: HashMap<Uuid, PurchaseDoc>,
    pub journals: HashMap<Uuid, JournalDoc>,
    /// Every row a document produced (its own header and lines included), to diff on recompute.
    pub owned: HashMap<Uuid, Vec<(EntitySet, Key)>>,
    pub seq: Counters,
}

fn idx(set: EntitySet) -> usize {
    set as usize
}

impl Division {
    /// An empty division.
    pub fn new(info: DivisionInfo, chart: Chart, rng: ChaCha8Rng, now: DateTime<Utc>) -> Division {
        let pool = std::sync::Arc::new(Pool::default());
        Division {
            info,
            tables: EntitySet::ALL.map(|_| Table::new(pool.clone())).to_vec(),
            deleted: Vec::new(),
            last_ts: 0,
            now,
            rng,
            chart,
            sales: HashMap::new(),
            purchases: HashMap::new(),
            journals: HashMap::new(),
            owned: HashMap::new(),
            seq: Counters::default(),
        }
    }

    /// A table.
    pub fn table(&self, set: EntitySet) -> &Table {
        &self.tables[idx(set)]
    }

    /// The sandbox clock as local wall-clock time.
    pub fn now_local(&self) -> NaiveDateTime {
        wire::local(self.info.region, self.now)
    }

    fn next_ts(&mut self) -> i64 {
        self.last_ts += 1;
        self.last_ts
    }

    /// Inserts a new row (or replaces one) with fresh Created/Modified and a new rowversion.
    pub fn insert(&mut self, row: Row, created: NaiveDateTime, modified: NaiveDateTime) {
        let Row {
            set,
            key,
            mut fields,
        } = row;
        fields.insert("Created".into(), wire::datetime(created));
        fields.insert("Modified".into(), wire::datetime(modified));
        fields.insert("Division".into(), Value::from(self.info.code));
        let timestamp = self.next_ts();
        let table = &mut self.tables[idx(set)];
        let fields = table.encode(&fields);
        table.put(Record {
            key,
            timestamp,
            fields,
        });
    }

    /// Writes a row: inserts it if new; if it exists and any field differs, keeps `Created`, sets
    /// `Modified` and bumps the rowversion; leaves it alone if nothing changed.
    pub fn upsert(&mut self, row: Row, created: NaiveDateTime, modified: NaiveDateTime) {
        let Some(old) = self.tables[idx(row.set)].get(&row.key) else {
            return self.insert(row, created, modified);
        };
        let kept: Vec<(&str, Value)> = ["Created", "Modified"]
            .into_iter()
            .filter_map(|f| old.fields.value(f).map(|v| (f, v)))
            .collect();
        let Row {
            set,
            key,
            mut fields,
        } = row;
        for (f, v) in kept {
            fields.insert(f.into(), v);
        }
        fields.insert("Division".into(), Value::from(self.info.code));
        let table = &mut self.tables[idx(set)];
        let same = table.encode(&fields);
        if table.get(&key).is_some_and(|old| old.fields == same) {
            return;
        }
        fields.insert("Modified".into(), wire::datetime(modified));
        let timestamp = self.next_ts();
        let table = &mut self.tables[idx(set)];
        let fields = table.encode(&fields);
        table.put(Record {
            key,
            timestamp,
            fields,
        });
    }

    /// Re-stamps an existing row (new `Modified` and rowversion) although none of its fields
    /// changed: Exact moves a payment term's Timestamp whenever a payment is matched to it, even
    /// one that leaves every field we serve as it was (a second part-payment on the same day).
    pub fn touch(&mut self, set: EntitySet, key: &Key, modified: NaiveDateTime) {
        let Some(old) = self.tables[idx(set)].get(key) else {
            return;
        };
        let mut fields = old.fields.to_map();
        fields.insert("Modified".into(), wire::datetime(modified));
        let timestamp = self.next_ts();
        let table = &mut self.tables[idx(set)];
        let fields = table.encode(&fields);
        table.put(Record {
            key: key.clone(),
            timestamp,
            fields,
        });
    }

    /// Deletes a row, logging it in `sync/Deleted` when its set has an EntityType code.
    pub fn remove(&mut self, set: EntitySet, key: &Key) -> Option<Record> {
        let old = self.tables[idx(set)].remove(key)?;
        if let (Some(entity_type), Key::Guid(entity_key)) = (set.deleted_entity_type(), key) {
            self.log_deleted(*entity_key, entity_type);
        }
        Some(old)
    }

    fn log_deleted(&mut self, entity_key: Uuid, entity_type: i32) {
        let timestamp = self.next_ts();
        let id = wire::derived_id(entity_key, 0xDE1E_7E00 + timestamp as u64);
        let deleted_date_ms = wire::wall_ms(self.now_local());
        self.deleted.push(DeletedRecord {
            id,
            entity_key,
            entity_type,
            timestamp,
            deleted_date_ms,
        });
    }

    /// Replaces the rows a document owns by `rows`: new rows are inserted, changed rows updated,
    /// rows no longer produced deleted (and logged). Used for generation and for every mutation.
    pub fn sync_owned(
        &mut self,
        owner: Uuid,
        rows: Vec<Row>,
        created: NaiveDateTime,
        modified: NaiveDateTime,
    ) {
        let old = self.owned.remove(&owner).unwrap_or_default();
        let keep: Vec<(EntitySet, Key)> = rows.iter().map(|r| (r.set, r.key.clone())).collect();
        // Delete first, so a deletion's rowversion precedes the inserts that replace it.
        for (set, key) in &old {
            if !keep.contains(&(*set, key.clone())) {
                self.remove(*set, key);
            }
        }
        for row in rows {
            self.upsert(row, created, modified);
        }
        if !keep.is_empty() {
            self.owned.insert(owner, keep);
        }
    }

    /// Deletes every row a document owns.
    pub fn drop_owned(&mut self, owner: Uuid) {
        for (set, key) in self.owned.remove(&owner).unwrap_or_default() {
            self.remove(set, &key);
        }
    }

    /// A string field of a row (empty when missing).
    pub fn field_str(&self, set: EntitySet, id: Uuid, field: &str) -> String {
        self.table(set)
            .get(&Key::Guid(id))
            .and_then(|r| r.fields.value(field))
            .and_then(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// Next HID for an outstanding-item row.
    pub fn next_hid(&mut self) -> i64 {
        self.seq.hid += 1;
        self.seq.hid
    }
}
