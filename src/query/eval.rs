//! Evaluating a parsed query against one record, and reading stored JSON scalars as the numbers
//! and dates they stand for (shared with `orderBy`).

use std::cmp::Ordering;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use serde_json::{Number, Value};

use super::{Comparison, Expr, Literal, Op};

/// The value at a property path of the record being tested (`None` when it has none there).
pub(super) type Fields<'f, 'v> = &'f dyn Fn(&[String]) -> Option<&'v Value>;

impl Expr {
    pub(super) fn matches<'v>(&self, field: Fields<'_, 'v>) -> bool {
        match self {
            Expr::Or(terms) => terms.iter().any(|t| t.matches(field)),
            Expr::And(terms) => terms.iter().all(|t| t.matches(field)),
            Expr::Compare(comparison) => comparison.matches(field),
        }
    }
}

impl Comparison {
    fn matches<'v>(&self, field: Fields<'_, 'v>) -> bool {
        let field = field(&self.path);
        let value = &self.value;
        match self.op {
            Op::Eq => equals(field, value),
            // The negation of `=`, so a null field is "not equal" to anything (see the module docs).
            Op::Ne => !equals(field, value),
            Op::Contains => contains(field, value),
            Op::Gt => order(field, value).is_some_and(Ordering::is_gt),
            Op::Lt => order(field, value).is_some_and(Ordering::is_lt),
            Op::Ge => order(field, value).is_some_and(Ordering::is_ge),
            Op::Le => order(field, value).is_some_and(Ordering::is_le),
        }
    }
}

/// The value at a dotted path; `None` when any step is missing or not an object.
pub(super) fn lookup<'v>(record: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(record, |value, key| value.get(key))
}

fn equals(field: Option<&Value>, literal: &Literal) -> bool {
    match field {
        Some(Value::Bool(b)) => literal.boolean == Some(*b),
        Some(Value::Number(n)) => {
            literal.number.is_some() && number_to_decimal(n) == literal.number
        }
        Some(Value::String(s)) => match (literal.date, parse_datetime(s)) {
            (Some(wanted), Some(stored)) => stored == wanted,
            _ => eq_ignore_case(s, literal),
        },
        // Null, missing, and objects or arrays, which a known path never reaches.
        _ => false,
    }
}

fn contains(field: Option<&Value>, literal: &Literal) -> bool {
    match field {
        Some(Value::String(s)) if s.is_ascii() && literal.text.is_ascii() => {
            s.to_ascii_lowercase().contains(&literal.lower)
        }
        Some(Value::String(s)) => s.to_lowercase().contains(&literal.lower),
        _ => false,
    }
}

/// How the stored field compares with the literal, when both are numbers or both dates.
fn order(field: Option<&Value>, literal: &Literal) -> Option<Ordering> {
    match field? {
        Value::Number(n) => Some(number_to_decimal(n)?.cmp(&literal.number?)),
        Value::String(s) => {
            if let Some(wanted) = literal.date {
                Some(parse_datetime(s)?.cmp(&wanted))
            } else {
                // A number kept as text (`"1001"`); other text has no order here.
                Some(decimal_text(s)?.cmp(&literal.number?))
            }
        }
        _ => None,
    }
}

fn eq_ignore_case(stored: &str, literal: &Literal) -> bool {
    if stored.is_ascii() && literal.text.is_ascii() {
        stored.eq_ignore_ascii_case(&literal.text)
    } else {
        stored.to_lowercase() == literal.lower
    }
}

/// A JSON number as an exact decimal. Floats go through their shortest round-trip text, so a
/// stored `100.10` is exactly `100.1`, not the binary fraction nearest to it. `None` beyond
/// Decimal's range (about 7.9e28).
pub(super) fn number_to_decimal(n: &Number) -> Option<Decimal> {
    if let Some(i) = n.as_i64() {
        return Some(Decimal::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Some(Decimal::from(u));
    }
    decimal_text(&n.to_string())
}

fn decimal_text(text: &str) -> Option<Decimal> {
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

/// Reads `YYYY-MM-DD` (midnight) or `YYYY-MM-DDTHH:MM:SS[.fff]` with an optional `Z` or `±hh:mm`.
/// Zoned times are converted to UTC; unzoned ones are taken as they are.
pub(super) fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    // Most text is not a date: refuse it before asking chrono.
    if bytes.len() < 10
        || !bytes[..4].iter().all(u8::is_ascii_digit)
        || bytes[4] != b'-'
        || bytes[7] != b'-'
    {
        return None;
    }
    if bytes.len() == 10 {
        return NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .map(|date| date.and_time(NaiveTime::MIN));
    }
    if bytes[10] != b'T' {
        return None;
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|zoned| zoned.naive_utc())
        })
}
