//! One entity set's rows, indexed by key (plain/bulk paging) and by Timestamp (sync paging).

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::fields::{Encoder, Pool};
use super::{Fields, Key, Record};

/// The rows of one entity set in one division.
#[derive(Debug, Clone)]
pub struct Table {
    rows: BTreeMap<Key, Record>,
    /// Timestamp → key; rowversions are unique per division, so one key per timestamp.
    by_ts: BTreeMap<i64, Key>,
    /// Compacts rows: the set's layouts and the division's string pool.
    encoder: Encoder,
}

impl Table {
    /// An empty table whose pooled strings go to `pool` (one pool per division).
    pub(crate) fn new(pool: Arc<Pool>) -> Table {
        Table {
            rows: BTreeMap::new(),
            by_ts: BTreeMap::new(),
            encoder: Encoder::new(pool),
        }
    }

    /// The compact form of a row for this table (not stored).
    pub(crate) fn encode(&mut self, fields: &Map<String, Value>) -> Fields {
        self.encoder.encode(fields)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row with this key.
    pub fn get(&self, key: &Key) -> Option<&Record> {
        self.rows.get(key)
    }

    /// Rows in key order, strictly after `after` (the `$skiptoken`), or from the start.
    pub fn iter_by_key(&self, after: Option<&Key>) -> impl Iterator<Item = &Record> {
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.rows.range((lower, Bound::Unbounded)).map(|(_, r)| r)
    }

    /// Rows in Timestamp order with a Timestamp strictly greater than `after` (`Timestamp gt after`).
    pub fn iter_by_timestamp(&self, after: i64) -> impl Iterator<Item = &Record> {
        self.by_ts
            .range((Bound::Excluded(after), Bound::Unbounded))
            .filter_map(|(_, k)| self.rows.get(k))
    }

    /// Inserts or replaces a row, keeping the timestamp index in step.
    pub(crate) fn put(&mut self, record: Record) {
        if let Some(old) = self.rows.get(&record.key) {
            self.by_ts.remove(&old.timestamp);
        }
        self.by_ts.insert(record.timestamp, record.key.clone());
        self.rows.insert(record.key.clone(), record);
    }

    /// Removes a row.
    pub(crate) fn remove(&mut self, key: &Key) -> Option<Record> {
        let old = self.rows.remove(key)?;
        self.by_ts.remove(&old.timestamp);
        Some(old)
    }

    /// Rows in key order (crate-internal shorthand).
    pub(crate) fn records(&self) -> impl Iterator<Item = &Record> {
        self.rows.values()
    }
}
