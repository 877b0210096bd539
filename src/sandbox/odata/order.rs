//! `$orderby` on regular endpoints, and the composite `$skiptoken` that pages under it: the last
//! row's ordered values then its key, e.g. `datetime'2018-09-21T04:18:55.617',guid'cbdd…'`, as
//! Exact writes it (EXACT.md §4). Nulls sort first and text ignores case, as on Exact's SQL
//! Server; ties fall back to the key, so every row has one place and paging never skips or
//! repeats one.

use std::cmp::Ordering;

use serde_json::Value;

use super::super::books::{Key, Record};
use super::error::ApiError;
use super::filter::{self, Literal, wire_date_ms};

/// One `$orderby` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// Field name.
    pub field: String,
    /// `desc`.
    pub descending: bool,
}

/// Parses `Field [asc|desc], …`.
pub fn parse(text: &str) -> Result<Vec<OrderBy>, ApiError> {
    text.split(',')
        .map(|term| {
            let mut words = term.split_whitespace();
            let field = words.next().ok_or_else(ApiError::query_syntax)?;
            let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(_) => return Err(ApiError::query_syntax()),
            };
            let plain = field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if words.next().is_some() || !plain {
                return Err(ApiError::query_syntax());
            }
            Ok(OrderBy {
                field: field.to_string(),
                descending,
            })
        })
        .collect()
}

/// Where a row sorts: its ordered fields' values, then its key.
#[derive(Debug, Clone)]
pub struct SortKey {
    values: Vec<Literal>,
    key: Key,
}

impl SortKey {
    /// The sort key of a row under `order`.
    pub fn of(record: &Record, order: &[OrderBy]) -> SortKey {
        SortKey {
            values: order
                .iter()
                .map(|o| literal_of(record.fields.value(&o.field)))
                .collect(),
            key: record.key.clone(),
        }
    }

    /// Compares two sort keys under `order`.
    pub fn cmp(&self, other: &SortKey, order: &[OrderBy]) -> Ordering {
        for ((a, b), o) in self.values.iter().zip(&other.values).zip(order) {
            let ord = literal_cmp(a, b);
            let ord = if o.descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        self.key.cmp(&other.key)
    }

    /// The `$skiptoken` that resumes after this row.
    pub fn token(&self) -> String {
        let mut parts: Vec<String> = self.values.iter().map(literal_text).collect();
        parts.push(self.key.odata_literal());
        parts.join(",")
    }

    /// Reads a `$skiptoken` written by [`SortKey::token`] for `order`.
    pub fn parse_token(token: &str, order: &[OrderBy]) -> Result<SortKey, ApiError> {
        let mut literals = filter::parse_literals(token).map_err(|_| ApiError::query_syntax())?;
        let key = match literals.pop() {
            Some(Literal::Guid(g)) => {
                Key::Guid(uuid::Uuid::parse_str(&g).map_err(|_| ApiError::query_syntax())?)
            }
            Some(Literal::Int(n)) => Key::Int(n),
            _ => return Err(ApiError::query_syntax()),
        };
        if literals.len() != order.len() {
            return Err(ApiError::query_syntax());
        }
        Ok(SortKey {
            values: literals,
            key,
        })
    }
}

/// A field's wire value as the literal it compares as: `/Date(ms)/` as a date, GUID text as a
/// GUID.
fn literal_of(value: Option<Value>) -> Literal {
    match value {
        Some(Value::String(s)) => {
            if let Some(ms) = wire_date_ms(&s) {
                Literal::DateTime(ms)
            } else if let Ok(id) = uuid::Uuid::parse_str(&s) {
                Literal::Guid(id.to_string())
            } else {
                Literal::Str(s)
            }
        }
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => Literal::Int(i),
            None => Literal::Num(n.as_f64().unwrap_or(0.0)),
        },
        Some(Value::Bool(b)) => Literal::Bool(b),
        _ => Literal::Null,
    }
}

/// A total order over literals: null first, numbers by value, text without case.
fn literal_cmp(a: &Literal, b: &Literal) -> Ordering {
    use Literal::*;
    let rank = |l: &Literal| match l {
        Null => 0,
        Bool(_) => 1,
        Int(_) | Num(_) => 2,
        DateTime(_) => 3,
        Guid(_) => 4,
        Str(_) => 5,
    };
    match (a, b) {
        (Bool(x), Bool(y)) => x.cmp(y),
        (Int(x), Int(y)) => x.cmp(y),
        (Int(_) | Num(_), Int(_) | Num(_)) => number(a).total_cmp(&number(b)),
        (DateTime(x), DateTime(y)) => x.cmp(y),
        (Guid(x), Guid(y)) => x.cmp(y),
        (Str(x), Str(y)) => x
            .to_lowercase()
            .cmp(&y.to_lowercase())
            .then_with(|| x.cmp(y)),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn number(l: &Literal) -> f64 {
    match l {
        Literal::Int(i) => *i as f64,
        Literal::Num(x) => *x,
        _ => 0.0,
    }
}

/// A literal as OData text, read back by [`filter::parse_literals`].
fn literal_text(l: &Literal) -> String {
    match l {
        Literal::Null => "null".into(),
        Literal::Bool(b) => b.to_string(),
        Literal::Int(i) => i.to_string(),
        Literal::Num(x) => format!("{x:?}M"),
        Literal::DateTime(ms) => chrono::DateTime::from_timestamp_millis(*ms).map_or_else(
            || "null".into(),
            |t| format!("datetime'{}'", t.format("%Y-%m-%dT%H:%M:%S%.3f")),
        ),
        Literal::Guid(g) => format!("guid'{g}'"),
        Literal::Str(s) => format!("'{}'", s.replace('\'', "''")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terms_and_refuses_the_rest() {
        assert_eq!(
            parse("Modified desc, Name").unwrap(),
            vec![
                OrderBy {
                    field: "Modified".into(),
                    descending: true
                },
                OrderBy {
                    field: "Name".into(),
                    descending: false
                },
            ]
        );
        for bad in ["", "Name sideways", "Name asc desc", "trim(Name)", "Name,"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_literal_survives_its_token() {
        let order = parse("A, B desc, C, D, E, F, G").unwrap();
        let key = SortKey {
            values: vec![
                Literal::Null,
                Literal::Str("O'Brien, Jansen & Co".into()),
                Literal::DateTime(1_537_503_535_617),
                Literal::Int(-42),
                Literal::Num(12.5),
                Literal::Guid("cbdd0e6c-1b54-4f1c-9a51-1e2d3c4b5a60".into()),
                Literal::Bool(true),
            ],
            key: Key::Guid(uuid::Uuid::nil()),
        };
        let token = key.token();
        assert!(
            token.contains("datetime'2018-09-21T04:18:55.617'"),
            "{token}"
        );
        let back = SortKey::parse_token(&token, &order).unwrap();
        assert_eq!(back.values, key.values);
        assert_eq!(back.cmp(&key, &order), Ordering::Equal);
    }
}
