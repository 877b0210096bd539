//! Exact's OData v2 dialect: list envelopes in two forms, `/Date(ms)/` local times, padded codes,
//! amounts as decimals.

use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime};
use rust_decimal::Decimal;
use serde_json::Value;

/// One page of a list: its rows and the absolute URL of the next page, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub results: Vec<Value>,
    pub next: Option<String>,
}

/// Reads `{"d":{"results":[…],"__next":…}}` and the older bare `{"d":[…]}`.
pub fn list_page(body: Value) -> Result<ListPage, String> {
    let Value::Object(mut top) = body else {
        return Err("the answer is not a JSON object".into());
    };
    match top.remove("d") {
        Some(Value::Array(results)) => Ok(ListPage {
            results,
            next: None,
        }),
        Some(Value::Object(mut d)) => {
            let next = d
                .remove("__next")
                .and_then(|n| n.as_str().map(str::to_string));
            match d.remove("results") {
                Some(Value::Array(results)) => Ok(ListPage { results, next }),
                _ => Err("the answer has no d.results list".into()),
            }
        }
        _ => Err("the answer has no `d`".into()),
    }
}

/// `/Date(1725840000000)/` → the wall-clock time Exact meant (it writes local time as if UTC).
pub fn date(value: &Value) -> Option<NaiveDateTime> {
    let text = value.as_str()?;
    let inner = text.strip_prefix("/Date(")?.strip_suffix(")/")?;
    // Some writers add an offset (`/Date(123+0100)/`); the digits before it are the instant.
    let digits_end = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map(|(i, _)| i)
        .unwrap_or(inner.len());
    let ms: i64 = inner[..digits_end].parse().ok()?;
    DateTime::from_timestamp_millis(ms).map(|dt| dt.naive_utc())
}

/// A string with Exact's fixed-width padding removed; `None` for null or blank.
pub fn text(value: &Value) -> Option<String> {
    let trimmed = value.as_str()?.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// An amount as a decimal: from the JSON number's own digits, never through arithmetic on f64.
pub fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(n) => {
            let text = n.to_string();
            Decimal::from_str(&text)
                .or_else(|_| Decimal::from_scientific(&text))
                .ok()
        }
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        _ => None,
    }
}

/// An Int64 that may arrive as a number or a string (`Timestamp`).
pub fn int64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().trim_end_matches('L').parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_both_list_forms() {
        let page = list_page(
            json!({"d": {"results": [{"a": 1}], "__next": "https://x/y?$skiptoken=guid'1'"}}),
        )
        .unwrap();
        assert_eq!(page.results.len(), 1);
        assert_eq!(page.next.as_deref(), Some("https://x/y?$skiptoken=guid'1'"));
        let bare = list_page(json!({"d": [{"a": 1}, {"a": 2}]})).unwrap();
        assert_eq!((bare.results.len(), bare.next), (2, None));
        assert!(list_page(json!({"error": {}})).is_err());
    }

    #[test]
    fn dates_are_wall_clock_times() {
        let d = date(&json!("/Date(1725840000000)/")).unwrap();
        assert_eq!(d.to_string(), "2024-09-09 00:00:00");
        assert!(date(&json!(null)).is_none());
        assert!(date(&json!("2024-09-09")).is_none());
        assert_eq!(date(&json!("/Date(1725840000000+0200)/")).unwrap(), d);
    }

    #[test]
    fn codes_lose_their_padding_and_amounts_stay_exact() {
        assert_eq!(
            text(&json!("           1265594")).as_deref(),
            Some("1265594")
        );
        assert_eq!(text(&json!("VH ")).as_deref(), Some("VH"));
        assert_eq!(text(&json!("   ")), None);
        assert_eq!(decimal(&json!(-16.5)).unwrap().to_string(), "-16.5");
        assert_eq!(decimal(&json!(0.1)).unwrap().to_string(), "0.1");
        assert_eq!(
            decimal(&json!(1234567.89)).unwrap().to_string(),
            "1234567.89"
        );
        assert_eq!(int64(&json!("123")), Some(123));
        assert_eq!(int64(&json!(456)), Some(456));
    }
}
