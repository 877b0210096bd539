//! Exact's rows as typed structs: each data set's file declares the fields it reads as a
//! `#[derive(Deserialize)]` struct with Exact's field names, and the `$select` of its pull is
//! derived from that struct — the list of fields asked for can never drift from the fields read.
//!
//! Exact's wire types need care, so every field goes through one of the readers in [`de`]:
//! padded codes are trimmed and blank ones are absent, `/Date(ms)/` is local wall-clock time,
//! amounts are exact decimals, `Edm.Int64` may come as a number or a string.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// The `$select` list for a typed row: its fields, by Exact's names, comma-separated.
pub fn select<T: DeserializeOwned>() -> String {
    serde_aux::serde_introspection::serde_introspect::<T>().join(",")
}

/// Reads one row; a row Exact sent in a shape we cannot read is an upstream error.
pub fn parse<T: DeserializeOwned>(row: Value) -> Result<T, String> {
    serde_json::from_value(row).map_err(|e| format!("an Exact row could not be read: {e}"))
}

/// `deserialize_with` readers for Exact's wire types; each accepts null and absence (with
/// `#[serde(default)]`) as `None`.
pub mod de {
    use chrono::NaiveDateTime;
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    use super::super::odata;

    fn value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    /// Text without Exact's fixed-width padding; blank is `None`.
    pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let v = value(d)?;
        // Codes such as invoice numbers may be numbers on some endpoints.
        Ok(odata::text(&v).or_else(|| odata::int64(&v).map(|n| n.to_string())))
    }

    /// `/Date(ms)/` as the wall-clock time Exact meant.
    pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        Ok(odata::date(&value(d)?))
    }

    /// An amount, exactly.
    pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        Ok(odata::decimal(&value(d)?))
    }

    /// An `Edm.Int64`/`Edm.Int32`, as a number or a string.
    pub fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Ok(odata::int64(&value(d)?))
    }

    /// A boolean, also when written as 0/1.
    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        Ok(match value(d)? {
            Value::Bool(b) => Some(b),
            other => odata::int64(&other).map(|n| n != 0),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(default, rename_all = "PascalCase")]
    #[derive(Default)]
    struct Probe {
        #[serde(rename = "ID", deserialize_with = "de::text")]
        id: Option<String>,
        #[serde(deserialize_with = "de::date")]
        modified: Option<chrono::NaiveDateTime>,
        #[serde(rename = "AmountDC", deserialize_with = "de::decimal")]
        amount_dc: Option<rust_decimal::Decimal>,
        #[serde(deserialize_with = "de::int64")]
        timestamp: Option<i64>,
        #[serde(deserialize_with = "de::flag")]
        blocked: Option<bool>,
    }

    #[test]
    fn the_select_list_is_the_structs_fields_by_exacts_names() {
        assert_eq!(select::<Probe>(), "ID,Modified,AmountDC,Timestamp,Blocked");
    }

    #[test]
    fn rows_read_exacts_wire_types() {
        let row: Probe = parse(json!({
            "ID": "  ", "Modified": "/Date(1725840000000)/", "AmountDC": 12.345,
            "Timestamp": "123456L", "Blocked": 1, "Unasked": "ignored"
        }))
        .unwrap();
        assert_eq!(row.id, None, "a blank code is absent");
        assert_eq!(row.modified.unwrap().to_string(), "2024-09-09 00:00:00");
        assert_eq!(row.amount_dc.unwrap().to_string(), "12.345");
        assert_eq!(row.timestamp, Some(123456));
        assert_eq!(row.blocked, Some(true));
        let empty: Probe = parse(json!({"ID": null})).unwrap();
        assert!(empty.id.is_none() && empty.timestamp.is_none() && empty.blocked.is_none());
    }
}
