//! Codat's `query` filter language and `orderBy` for the data list endpoints, evaluated against
//! records in Codat's JSON shape.
//!
//! # The language (Codat's docs, "Querying")
//!
//! ```text
//! query      := or
//! or         := and { "||" and }          // && binds tighter than ||
//! and        := term { "&&" term }
//! term       := "{" or "}" | comparison
//! comparison := path op value             // whitespace around op is optional
//! path       := name { "." name }         // customerRef.id; never through an array
//! op         := "=" | "!=" | "~" | ">" | "<" | ">=" | "<="
//! value      := 'quoted' | "quoted" | unquoted text up to whitespace, "}", "&&" or "||"
//! ```
//!
//! A value is read as whatever the stored field needs: a number (compared exactly, as
//! decimals), `true`/`false`, a date (`YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM:SS[.fff][Z|±hh:mm]`),
//! or text. Text and enums compare case-insensitively (`status=paid` matches `Paid`); `~` means
//! "contains" and works on text only; `>`, `<`, `>=`, `<=` take numbers and dates only.
//!
//! Dates: a date-only value means midnight of that day, so a stored `2025-01-15T00:00:00`
//! equals `2025-01-15`. A time with a zone is converted to UTC; one without a zone (how Codat
//! sends business dates) is taken as it is.
//!
//! Nulls: Codat does not query null fields, so a null or missing field matches no comparison —
//! except `!=`, which is always the exact negation of `=`. That keeps Codat's documented idiom
//! `metadata.isDeleted!=true` returning records whose `isDeleted` is null.
//!
//! Errors carry Codat's messages, `Error parsing query - Malformed query.` (followed by where
//! and what was expected) and `Error parsing query - Could not resolve property X on Invoice`.

mod eval;
mod order;
mod parse;
#[cfg(test)]
mod tests;

use chrono::NaiveDateTime;
use rust_decimal::Decimal;

pub use order::{OrderBy, SortKey};

/// Codat refuses queries of this many characters or more.
pub const MAX_QUERY_LENGTH: usize = 2048;

/// What Codat's message calls the queried type until [`QueryError::on`] names it.
const DEFAULT_DATASET: &str = "Dataset";

/// A parsed `query`: which records to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// `None` for an empty query, which keeps every record.
    root: Option<Expr>,
}

impl Query {
    /// Parses `text`. `known(path)` says whether a dotted property path exists on the data
    /// type's model; it should refuse paths through arrays, which Codat does not query.
    /// Blank text is a query that keeps everything.
    pub fn parse(text: &str, known: &dyn Fn(&str) -> bool) -> Result<Query, QueryError> {
        parse::query(text, known)
    }

    /// Whether the query keeps every record (it was blank).
    pub fn is_empty(&self) -> bool {
        self.root.is_none()
    }

    /// Whether `record` passes the filter.
    pub fn matches(&self, record: &serde_json::Value) -> bool {
        self.matches_fields(&|path| eval::lookup(record, path))
    }

    /// Whether a record passes the filter, given the value at each property path the query
    /// names (`None` when the record has none there): the same test as [`Query::matches`]
    /// without the record itself, for records kept as columns of their queried fields.
    pub fn matches_fields<'v>(
        &self,
        field: &dyn Fn(&[String]) -> Option<&'v serde_json::Value>,
    ) -> bool {
        self.root.as_ref().is_none_or(|root| root.matches(field))
    }

    /// Every property path the query names (split at its dots), each once.
    pub fn paths(&self) -> Vec<Vec<String>> {
        let mut paths = Vec::new();
        if let Some(root) = &self.root {
            root.collect_paths(&mut paths);
        }
        paths
    }
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
enum Expr {
    /// Any of these; never fewer than two.
    Or(Vec<Expr>),
    /// All of these; never fewer than two.
    And(Vec<Expr>),
    Compare(Comparison),
}

impl Expr {
    fn collect_paths(&self, paths: &mut Vec<Vec<String>>) {
        match self {
            Expr::Or(terms) | Expr::And(terms) => {
                terms.iter().for_each(|term| term.collect_paths(paths))
            }
            Expr::Compare(comparison) => {
                if !paths.contains(&comparison.path) {
                    paths.push(comparison.path.clone());
                }
            }
        }
    }
}

/// `path op value`.
#[derive(Debug, Clone, PartialEq)]
struct Comparison {
    /// The property path split at its dots.
    path: Vec<String>,
    op: Op,
    value: Literal,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Contains,
    Gt,
    Lt,
    Ge,
    Le,
}

impl Op {
    /// As written in a query.
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Contains => "~",
            Op::Gt => ">",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Le => "<=",
        }
    }

    /// Whether the operator orders values (so it needs a number or a date).
    fn is_ordering(self) -> bool {
        matches!(self, Op::Gt | Op::Lt | Op::Ge | Op::Le)
    }
}

/// A value from the query, read every way it could be meant: which reading applies depends on
/// the stored field it is compared with.
#[derive(Debug, Clone, PartialEq)]
struct Literal {
    text: String,
    /// `text` lower-cased once, for case-insensitive text comparisons.
    lower: String,
    number: Option<Decimal>,
    date: Option<NaiveDateTime>,
    boolean: Option<bool>,
}

/// Why a `query` or `orderBy` was refused; `Display` is Codat's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The text does not follow the grammar; the detail says where and what was expected.
    #[error("Error parsing query - Malformed query. {0}")]
    Malformed(String),
    /// The path does not exist on the model, or goes through an array.
    #[error("Error parsing query - Could not resolve property {property} on {dataset}")]
    UnknownProperty { property: String, dataset: String },
}

impl QueryError {
    /// Names the queried data set in the message (`Invoice`), as Codat does.
    pub fn on(self, dataset: &str) -> QueryError {
        match self {
            QueryError::UnknownProperty { property, .. } => QueryError::UnknownProperty {
                property,
                dataset: dataset.to_string(),
            },
            malformed => malformed,
        }
    }
}
