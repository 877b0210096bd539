//! `orderBy`: `field` ascending, `-field` descending, dotted paths allowed, several fields
//! separated by commas (an extension; Codat documents one).
//!
//! Values order as what they stand for: numbers numerically, ISO dates chronologically, other
//! text case-insensitively. Null and missing values come last in both directions, so the first
//! page of `-dueDate` shows the latest due dates rather than invoices without one.

use std::cmp::{Ordering, Reverse};

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde_json::Value;

use super::QueryError;
use super::eval::{lookup, number_to_decimal, parse_datetime};
use super::parse::property_path;

/// A parsed `orderBy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    fields: Vec<SortField>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SortField {
    path: Vec<String>,
    descending: bool,
}

impl OrderBy {
    /// Parses `text` (`-issueDate`, `customerRef.companyName`); `known` as for
    /// [`Query::parse`](super::Query::parse). Blank text orders nothing.
    pub fn parse(text: &str, known: &dyn Fn(&str) -> bool) -> Result<OrderBy, QueryError> {
        if text.trim().is_empty() {
            return Ok(OrderBy { fields: Vec::new() });
        }
        let fields = text
            .split(',')
            .map(|field| {
                let field = field.trim();
                let (descending, name) = match field.strip_prefix('-') {
                    Some(name) => (true, name),
                    None => (false, field),
                };
                let path = property_path(name, known).map_err(|e| {
                    e.into_query_error(name, &format!("in orderBy '{}'", text.trim()))
                })?;
                Ok(SortField { path, descending })
            })
            .collect::<Result<_, QueryError>>()?;
        Ok(OrderBy { fields })
    }

    /// Whether no field was given.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Every property path the order names (split at its dots).
    pub fn paths(&self) -> Vec<Vec<String>> {
        self.fields.iter().map(|field| field.path.clone()).collect()
    }

    /// How two records compare under this order (`Equal` when every field ties).
    pub fn compare(&self, a: &Value, b: &Value) -> Ordering {
        self.sort_key(a).cmp(&self.sort_key(b))
    }

    /// The record's position in this order as a value: sort a large set by its keys, computed
    /// once per record, rather than by [`compare`](Self::compare), which reads both records
    /// on every comparison.
    pub fn sort_key(&self, record: &Value) -> SortKey {
        self.sort_key_fields(&|path| lookup(record, path))
    }

    /// [`sort_key`](Self::sort_key) of a record given the value at each path the order names
    /// (`None` when the record has none there), as for
    /// [`Query::matches_fields`](super::Query::matches_fields).
    pub fn sort_key_fields<'v>(&self, value: &dyn Fn(&[String]) -> Option<&'v Value>) -> SortKey {
        SortKey(
            self.fields
                .iter()
                .map(|field| match value(&field.path).and_then(Scalar::of) {
                    None => KeyPart::Missing,
                    Some(scalar) if field.descending => KeyPart::Descending(Reverse(scalar)),
                    Some(scalar) => KeyPart::Ascending(scalar),
                })
                .collect(),
        )
    }
}

/// A record's sort position under one [`OrderBy`]; keys from different orders do not compare
/// meaningfully.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SortKey(Vec<KeyPart>);

/// One field of a key. Variant order puts `Missing` after any value, whatever the direction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum KeyPart {
    Ascending(Scalar),
    Descending(Reverse<Scalar>),
    Missing,
}

/// A stored value as it sorts. Variant order decides between kinds, which a field rarely mixes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Scalar {
    Bool(bool),
    Number(Decimal),
    Date(NaiveDateTime),
    /// Lower-cased.
    Text(String),
}

impl Scalar {
    fn of(value: &Value) -> Option<Scalar> {
        match value {
            Value::Bool(b) => Some(Scalar::Bool(*b)),
            Value::Number(n) => Some(Scalar::Number(number_to_decimal(n).unwrap_or_else(|| {
                // Beyond Decimal's range: clamp to the end of the range it lies past.
                if n.as_f64().is_some_and(|f| f < 0.0) {
                    Decimal::MIN
                } else {
                    Decimal::MAX
                }
            }))),
            Value::String(s) => Some(match parse_datetime(s) {
                Some(date) => Scalar::Date(date),
                None => Scalar::Text(s.to_lowercase()),
            }),
            Value::Null | Value::Array(_) | Value::Object(_) => None,
        }
    }
}
