//! Where an incremental pull resumes: per Exact sync endpoint a data type reads, the highest
//! `Timestamp` seen (EXACT.md §5), written as a small JSON object
//! (`{"sync/CRM/Accounts":1234,"sync/Deleted":1200}`).
//!
//! Rowversions rise per division across every endpoint, which the positions rely on: a row
//! changed or deleted after a call has a higher `Timestamp` than every row that call returned.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `sync/Deleted`: the deleted log, read once per run for every incremental data type.
pub const DELETED: &str = "sync/Deleted";

/// `sync/Cashflow/PaymentTerms`: open items, read once per run for invoices and bills.
pub const PAYMENT_TERMS: &str = "sync/Cashflow/PaymentTerms";

/// Not an endpoint: the division's `DivisionMoveDate` (epoch ms, 0 for none) when the positions
/// were taken. A different one now means Exact regenerated every Timestamp: start over.
pub const DIVISION_MOVE: &str = "system/Divisions.DivisionMoveDate";

/// Per endpoint, the highest `Timestamp` already applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SyncCursor(BTreeMap<String, i64>);

impl SyncCursor {
    /// A stored cursor; `None` when it is not one (e.g. the bare number older pulls stored).
    pub fn parse(text: &str) -> Option<SyncCursor> {
        serde_json::from_str(text).ok()
    }

    /// Whether the cursor has a position for every endpoint in `endpoints`.
    pub fn covers(&self, endpoints: &[&str]) -> bool {
        endpoints.iter().all(|e| self.0.contains_key(*e))
    }

    /// The position in `endpoint` (0: from the start).
    pub fn at(&self, endpoint: &str) -> i64 {
        self.0.get(endpoint).copied().unwrap_or(0)
    }

    /// Moves the position in `endpoint` forward to `timestamp` (never back).
    pub fn advance(&mut self, endpoint: &str, timestamp: Option<i64>) {
        if let Some(timestamp) = timestamp {
            let at = self.0.entry(endpoint.to_string()).or_insert(timestamp);
            *at = (*at).max(timestamp);
        }
    }

    /// Sets a value that is not a position (see [`DIVISION_MOVE`]).
    pub fn set(&mut self, key: &str, value: i64) {
        self.0.insert(key.to_string(), value);
    }

    /// The earliest position of each endpoint over several cursors: reading from there covers
    /// them all (data types sharing one read may stand at different positions).
    pub fn earliest<'c>(cursors: impl IntoIterator<Item = &'c SyncCursor>) -> SyncCursor {
        let mut out: BTreeMap<String, i64> = BTreeMap::new();
        for cursor in cursors {
            for (endpoint, at) in &cursor.0 {
                let e = out.entry(endpoint.clone()).or_insert(*at);
                *e = (*e).min(*at);
            }
        }
        SyncCursor(out)
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("a map of numbers serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_older_bare_numbers_are_not_cursors() {
        let mut cursor = SyncCursor::default();
        cursor.advance("sync/CRM/Accounts", Some(12));
        cursor.advance("sync/CRM/Accounts", Some(7));
        cursor.advance(DELETED, Some(3));
        cursor.advance(DELETED, None);
        let text = cursor.to_text();
        assert_eq!(text, r#"{"sync/CRM/Accounts":12,"sync/Deleted":3}"#);
        assert_eq!(SyncCursor::parse(&text), Some(cursor.clone()));
        assert!(cursor.covers(&["sync/CRM/Accounts", DELETED]));
        assert!(!cursor.covers(&["sync/Cashflow/PaymentTerms"]));
        assert_eq!(SyncCursor::parse("12345"), None);
    }

    #[test]
    fn the_earliest_of_several_cursors_covers_each() {
        let a = SyncCursor::parse(r#"{"x":5,"y":9}"#).unwrap();
        let b = SyncCursor::parse(r#"{"x":7,"y":2}"#).unwrap();
        assert_eq!(
            SyncCursor::earliest([&a, &b]),
            SyncCursor::parse(r#"{"x":5,"y":2}"#).unwrap()
        );
    }
}
