//! Codat's advanced sync settings that limit how much history a pull stores: `syncFromUtc` and
//! `syncFromWindow` (months back from now). Codat: "only data with a modifiedDate in that
//! timeframe will be synced. Records with a modifiedDate before syncFromUtc will not be
//! returned", for every data type except the financial statements; records already stored
//! that fall before a setting introduced later are deleted.
//!
//! - **Which date.** A record's upstream modification date (`sourceModifiedDate`, Exact's
//!   `Modified`): the date an upstream change log selects by. Ledgerline's own `modifiedDate` is
//!   when a pull saw the record change, always "now" for a record first stored, so it could not
//!   select history. Exact writes local time without an offset; it is compared as UTC (an hour
//!   or two off at the window's edge).
//! - **Which data types.** Every list data type whose records carry `sourceModifiedDate`:
//!   customers, suppliers, accounts, invoices, credit notes, bills and journal entries (Codat
//!   advises against limiting reference data, but applies the setting where it is set). Not
//!   company info, one record with no history. `monthsToSync` is, at Codat, the history of the
//!   financial statements (balance sheet, profit and loss, cash flow), which Ledgerline does not
//!   serve: it is stored and returned, and limits nothing.
//! - **Records outside the window** are not stored, and one stored by an earlier pull is flagged
//!   deleted (`metadata.isDeleted`) when a pull delivers it again; a full pull
//!   (`fullPull=true`) applies a new setting to everything stored, as absence from it flags the
//!   rest.

use chrono::{DateTime, Months, NaiveDateTime};
use serde_json::Value;

use crate::provider::DataType;
use crate::store::SyncSettingRow;

/// The earliest upstream modification date a pull of `data_type` stores under `setting` at
/// `now` (epoch ms); `None` stores everything.
pub fn sync_from(data_type: DataType, setting: &SyncSettingRow, now_ms: i64) -> Option<i64> {
    if data_type == DataType::CompanyInfo {
        return None;
    }
    let window = setting
        .sync_from_window
        .filter(|months| *months > 0)
        .and_then(|months| {
            DateTime::from_timestamp_millis(now_ms)?
                .checked_sub_months(Months::new(months as u32))
                .map(|at| at.timestamp_millis())
        });
    match (setting.sync_from_utc, window) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Whether a record (in the common model) is inside the window starting at `from`. A record
/// without a readable `sourceModifiedDate` is kept: nothing says it is older.
pub fn within(record: &Value, from: i64) -> bool {
    record
        .get("sourceModifiedDate")
        .and_then(Value::as_str)
        .and_then(parse_date_time)
        .is_none_or(|at| at >= from)
}

/// An RFC 3339 date-time, or one without an offset (read as UTC), in epoch ms.
fn parse_date_time(text: &str) -> Option<i64> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.timestamp_millis());
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|at| at.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn setting(from_utc: Option<i64>, window: Option<i32>) -> SyncSettingRow {
        SyncSettingRow {
            data_type: "invoices".into(),
            fetch_on_first_link: true,
            sync_schedule_hours: 24,
            sync_order: 0,
            sync_from_utc: from_utc,
            sync_from_window: window,
            months_to_sync: Some(3),
            is_locked: false,
        }
    }

    const JAN_2026: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    const JUL_2026: i64 = 1_782_864_000_000; // 2026-07-01T00:00:00Z

    #[test]
    fn the_later_of_sync_from_utc_and_the_window_wins() {
        let invoices = DataType::Invoices;
        assert_eq!(sync_from(invoices, &setting(None, None), JUL_2026), None);
        assert_eq!(
            sync_from(invoices, &setting(None, Some(0)), JUL_2026),
            None,
            "a window of 0 months limits nothing"
        );
        assert_eq!(
            sync_from(invoices, &setting(None, Some(6)), JUL_2026),
            Some(JAN_2026)
        );
        assert_eq!(
            sync_from(invoices, &setting(Some(JAN_2026 + 1), Some(6)), JUL_2026),
            Some(JAN_2026 + 1)
        );
        assert_eq!(
            sync_from(invoices, &setting(Some(JAN_2026 - 1), Some(6)), JUL_2026),
            Some(JAN_2026)
        );
        assert_eq!(
            sync_from(
                DataType::CompanyInfo,
                &setting(Some(JAN_2026), None),
                JUL_2026
            ),
            None,
            "company info has no history to limit"
        );
    }

    #[test]
    fn records_are_selected_by_their_upstream_modification_date() {
        let at = |text: &str| json!({"id": "1", "sourceModifiedDate": text});
        assert!(within(&at("2026-01-01T00:00:00"), JAN_2026));
        assert!(!within(&at("2025-12-31T23:59:59.997"), JAN_2026));
        assert!(within(&at("2026-01-01T01:00:00+01:00"), JAN_2026));
        assert!(!within(&at("2025-12-31T23:00:00Z"), JAN_2026));
        assert!(within(&json!({"id": "1"}), JAN_2026), "no date: kept");
        assert!(within(&at("not a date"), JAN_2026), "unreadable: kept");
    }
}
