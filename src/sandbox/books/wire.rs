//! Exact's wire forms: `/Date(ms)/` in local wall-clock time, cent amounts, padded codes, derived GUIDs.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::sandbox::region::Region;

/// Local wall-clock time of the region (CET/CEST for NL, UK time for UK), read from a UTC instant.
pub(crate) fn local(region: Region, at: DateTime<Utc>) -> NaiveDateTime {
    match region {
        Region::Nl => at
            .with_timezone(&chrono_tz::Europe::Amsterdam)
            .naive_local(),
        Region::Uk => at.with_timezone(&chrono_tz::Europe::London).naive_local(),
    }
}

/// Milliseconds of a wall-clock time read as if it were UTC (Exact's `/Date(ms)/` convention).
pub(crate) fn wall_ms(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_millis()
}

/// A date-only field: midnight of the day.
pub(crate) fn date(d: NaiveDate) -> Value {
    Value::String(format!(
        "/Date({})/",
        wall_ms(d.and_time(chrono::NaiveTime::MIN))
    ))
}

/// A date-and-time field in local wall-clock time.
pub(crate) fn datetime(t: NaiveDateTime) -> Value {
    Value::String(format!("/Date({})/", wall_ms(t)))
}

/// Parses `/Date(ms)/`, `2024-01-31` or `2024-01-31T10:00:00` into a wall-clock time.
pub(crate) fn parse_datetime(v: &Value) -> Option<NaiveDateTime> {
    let s = v.as_str()?;
    if let Some(ms) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        let ms: i64 = ms.split(['+', '-']).next()?.parse().ok()?;
        return DateTime::from_timestamp_millis(ms).map(|t| t.naive_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.and_time(chrono::NaiveTime::MIN));
    }
    NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f").ok()
}

/// An amount in cents as a JSON number with two decimals.
pub(crate) fn amount(cents: i64) -> Value {
    // cents / 100 as f64 prints as the shortest decimal, e.g. 12.34, never 12.340000000000002.
    serde_json::Number::from_f64(cents as f64 / 100.0).map_or(Value::Null, Value::Number)
}

/// Rounds a float amount of cents to whole cents.
pub(crate) fn round_cents(x: f64) -> i64 {
    x.round() as i64
}

/// A rate or percentage rounded to 6 decimals, as a JSON number.
pub(crate) fn number(x: f64) -> Value {
    let r = (x * 1_000_000.0).round() / 1_000_000.0;
    serde_json::Number::from_f64(r).map_or(Value::Null, Value::Number)
}

/// `crm/Accounts.Code`: 18 characters, right-aligned.
pub(crate) fn account_code(code: &str) -> String {
    format!("{:>18}", code.trim())
}

/// `vat/VATCodes.Code`: 3 characters, left-aligned and space-padded.
pub(crate) fn vat_code(code: &str) -> String {
    format!("{:<3}", code.trim())
}

/// A lowercase GUID string.
pub(crate) fn guid(id: Uuid) -> Value {
    Value::String(id.to_string())
}

/// An optional GUID: the string, or null.
pub(crate) fn opt_guid(id: Option<Uuid>) -> Value {
    id.map_or(Value::Null, guid)
}

/// Parses a GUID field (`"…"` or `"guid'…'"`).
pub(crate) fn parse_guid(v: &Value) -> Option<Uuid> {
    let s = v.as_str()?.trim();
    let s = s
        .strip_prefix("guid'")
        .and_then(|r| r.strip_suffix('\''))
        .unwrap_or(s);
    Uuid::parse_str(s).ok()
}

/// A stable GUID derived from a parent GUID and a role number, so that derived rows keep their ID
/// when their document is recomputed. SplitMix64 mixing; collisions are as unlikely as for v4.
pub(crate) fn derived_id(parent: Uuid, role: u64) -> Uuid {
    let (hi, lo) = parent.as_u64_pair();
    let a = splitmix(hi ^ splitmix(role.wrapping_add(0x9e37_79b9)));
    let b = splitmix(lo ^ splitmix(a ^ role));
    uuid::Builder::from_random_bytes(((u128::from(a) << 64) | u128::from(b)).to_be_bytes())
        .into_uuid()
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Takes a `json!({…})` object's map.
pub(crate) fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
