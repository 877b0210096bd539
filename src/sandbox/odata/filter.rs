//! The `$filter` subset Exact supports: `eq ne gt ge lt le and or`, parentheses, `trim(Field)`,
//! the text functions its docs use (`substringof('text', Field)`, `startswith(Field, 'text')`,
//! `endswith(Field, 'text')`, alone or compared with `true`/`false`), and literals `'text'`,
//! `guid'…'`, `datetime'…'` (fractional seconds and a trailing `Z` as clients write them),
//! `datetimeoffset'…'`, `123L`, numbers, `true`/`false`, `null`. Anything else (other
//! functions, field-vs-field, arithmetic) is a query-syntax error, as on Exact.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::super::books::FieldSource;

impl FieldSource for Map<String, Value> {
    fn field(&self, name: &str) -> Option<Cow<'_, Value>> {
        self.get(name).map(Cow::Borrowed)
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

/// A literal on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `'text'`
    Str(String),
    /// `guid'…'`, lower-cased.
    Guid(String),
    /// `datetime'…'` as epoch ms of the wall-clock time read as UTC (Exact's `/Date(ms)/` convention).
    DateTime(i64),
    /// `123L` or `123`.
    Int(i64),
    /// `1.5`
    Num(f64),
    /// `true` / `false`
    Bool(bool),
    /// `null`
    Null,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a and b`
    And(Box<Expr>, Box<Expr>),
    /// `a or b`
    Or(Box<Expr>, Box<Expr>),
    /// `substringof('text', Field)`, `startswith(Field, 'text')` or `endswith(Field, 'text')`,
    /// optionally `eq true`/`eq false` (or `ne`): case-insensitive, as Exact's collation is.
    Text {
        /// Which function.
        function: TextFunction,
        /// Field name.
        field: String,
        /// The text looked for.
        text: String,
        /// Whether a match is wanted (`eq false` / `ne true` want a non-match).
        wanted: bool,
    },
    /// `Field op literal` or `trim(Field) op literal`.
    Cmp {
        /// Field name.
        field: String,
        /// Wrapped in `trim()`.
        trim: bool,
        /// Operator.
        op: Op,
        /// Right-hand side.
        value: Literal,
    },
}

/// The OData v2 text functions Exact's documentation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFunction {
    /// `substringof('text', Field)`: the field contains the text.
    SubstringOf,
    /// `startswith(Field, 'text')`
    StartsWith,
    /// `endswith(Field, 'text')`
    EndsWith,
}

impl TextFunction {
    fn named(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "substringof" => Some(TextFunction::SubstringOf),
            "startswith" => Some(TextFunction::StartsWith),
            "endswith" => Some(TextFunction::EndsWith),
            _ => None,
        }
    }

    fn holds(self, value: &str, text: &str) -> bool {
        let (value, text) = (value.to_lowercase(), text.to_lowercase());
        match self {
            TextFunction::SubstringOf => value.contains(&text),
            TextFunction::StartsWith => value.starts_with(&text),
            TextFunction::EndsWith => value.ends_with(&text),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Lit(Literal),
    Open,
    Close,
    Comma,
}

/// The filter could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError;

/// Parses a `$filter` value.
pub fn parse(text: &str) -> Result<Expr, SyntaxError> {
    let toks = tokenize(text)?;
    let mut pos = 0;
    let expr = parse_or(&toks, &mut pos)?;
    if pos != toks.len() {
        return Err(SyntaxError);
    }
    Ok(expr)
}

/// Comma-separated literals, as in a composite `$skiptoken` (`datetime'…',guid'…'`).
pub fn parse_literals(text: &str) -> Result<Vec<Literal>, SyntaxError> {
    let toks = tokenize(text)?;
    let mut literals = Vec::new();
    for (i, tok) in toks.iter().enumerate() {
        match (i % 2, tok) {
            (0, Tok::Lit(l)) => literals.push(l.clone()),
            (1, Tok::Comma) if i + 1 < toks.len() => {}
            _ => return Err(SyntaxError),
        }
    }
    Ok(literals)
}

fn tokenize(text: &str) -> Result<Vec<Tok>, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            toks.push(Tok::Open);
            i += 1;
        } else if c == ')' {
            toks.push(Tok::Close);
            i += 1;
        } else if c == ',' {
            toks.push(Tok::Comma);
            i += 1;
        } else if c == '\'' {
            let (s, next) = quoted(&chars, i)?;
            toks.push(Tok::Lit(Literal::Str(s)));
            i = next;
        } else if c.is_ascii_digit() || c == '-' {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let num: String = chars[start..i].iter().collect();
            let suffix = chars.get(i).copied();
            let lit = match suffix {
                Some('L') | Some('l') => {
                    i += 1;
                    Literal::Int(num.parse().map_err(|_| SyntaxError)?)
                }
                Some('M' | 'm' | 'D' | 'd' | 'F' | 'f') => {
                    i += 1;
                    Literal::Num(num.parse().map_err(|_| SyntaxError)?)
                }
                _ if num.contains('.') => Literal::Num(num.parse().map_err(|_| SyntaxError)?),
                _ => Literal::Int(num.parse().map_err(|_| SyntaxError)?),
            };
            if chars.get(i).is_some_and(|c| c.is_alphanumeric()) {
                return Err(SyntaxError);
            }
            toks.push(Tok::Lit(lit));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '/')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if chars.get(i) == Some(&'\'') {
                let (s, next) = quoted(&chars, i)?;
                i = next;
                toks.push(Tok::Lit(typed_literal(&word, &s)?));
            } else {
                toks.push(match word.as_str() {
                    "true" => Tok::Lit(Literal::Bool(true)),
                    "false" => Tok::Lit(Literal::Bool(false)),
                    "null" => Tok::Lit(Literal::Null),
                    _ => Tok::Ident(word),
                });
            }
        } else {
            return Err(SyntaxError);
        }
    }
    Ok(toks)
}

/// Reads `'…'` starting at `chars[i] == '\''`, with `''` as an escaped quote.
fn quoted(chars: &[char], mut i: usize) -> Result<(String, usize), SyntaxError> {
    let mut s = String::new();
    i += 1;
    loop {
        match chars.get(i) {
            None => return Err(SyntaxError),
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                s.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((s, i + 1)),
            Some(c) => {
                s.push(*c);
                i += 1;
            }
        }
    }
}

fn typed_literal(kind: &str, text: &str) -> Result<Literal, SyntaxError> {
    match kind.to_ascii_lowercase().as_str() {
        "guid" => {
            let id = uuid::Uuid::parse_str(text).map_err(|_| SyntaxError)?;
            Ok(Literal::Guid(id.to_string()))
        }
        // Clients write UTC's `Z`; Exact's dates are wall-clock times, so it changes nothing.
        "datetime" => parse_datetime(text.strip_suffix(['Z', 'z']).unwrap_or(text))
            .map(Literal::DateTime)
            .ok_or(SyntaxError),
        // An instant with its offset: compared at UTC, as Exact's `/Date(ms)/` values read.
        "datetimeoffset" => chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| Literal::DateTime(t.timestamp_millis()))
            .map_err(|_| SyntaxError),
        _ => Err(SyntaxError),
    }
}

/// `2017-05-31`, `2017-05-31T00:00`, `…T00:00:00` or `…T00:00:00.123`, as ms of the naive time.
pub fn parse_datetime(text: &str) -> Option<i64> {
    use chrono::{NaiveDate, NaiveDateTime};
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

fn parse_or(toks: &[Tok], pos: &mut usize) -> Result<Expr, SyntaxError> {
    let mut left = parse_and(toks, pos)?;
    while matches!(toks.get(*pos), Some(Tok::Ident(w)) if w == "or") {
        *pos += 1;
        left = Expr::Or(Box::new(left), Box::new(parse_and(toks, pos)?));
    }
    Ok(left)
}

fn parse_and(toks: &[Tok], pos: &mut usize) -> Result<Expr, SyntaxError> {
    let mut left = parse_primary(toks, pos)?;
    while matches!(toks.get(*pos), Some(Tok::Ident(w)) if w == "and") {
        *pos += 1;
        left = Expr::And(Box::new(left), Box::new(parse_primary(toks, pos)?));
    }
    Ok(left)
}

fn parse_primary(toks: &[Tok], pos: &mut usize) -> Result<Expr, SyntaxError> {
    let (field, trim) = match toks.get(*pos) {
        Some(Tok::Open) => {
            *pos += 1;
            let inner = parse_or(toks, pos)?;
            if toks.get(*pos) != Some(&Tok::Close) {
                return Err(SyntaxError);
            }
            *pos += 1;
            return Ok(inner);
        }
        Some(Tok::Ident(w)) if w == "trim" => {
            match (toks.get(*pos + 1), toks.get(*pos + 2), toks.get(*pos + 3)) {
                (Some(Tok::Open), Some(Tok::Ident(f)), Some(Tok::Close)) => {
                    *pos += 4;
                    (f.clone(), true)
                }
                _ => return Err(SyntaxError),
            }
        }
        Some(Tok::Ident(w)) if toks.get(*pos + 1) == Some(&Tok::Open) => {
            let function = TextFunction::named(w).ok_or(SyntaxError)?;
            return parse_text_function(function, toks, pos);
        }
        Some(Tok::Ident(w)) if !is_keyword(w) => {
            *pos += 1;
            (w.clone(), false)
        }
        _ => return Err(SyntaxError),
    };
    let op = match toks.get(*pos) {
        Some(Tok::Ident(w)) => match w.as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return Err(SyntaxError),
        },
        _ => return Err(SyntaxError),
    };
    let value = match toks.get(*pos + 1) {
        Some(Tok::Lit(l)) => l.clone(),
        _ => return Err(SyntaxError),
    };
    *pos += 2;
    Ok(Expr::Cmp {
        field,
        trim,
        op,
        value,
    })
}

/// `function(…)` at `toks[*pos]`, then an optional `eq|ne true|false`.
fn parse_text_function(
    function: TextFunction,
    toks: &[Tok],
    pos: &mut usize,
) -> Result<Expr, SyntaxError> {
    let args = toks.get(*pos + 2..*pos + 5).ok_or(SyntaxError)?;
    let (field, text) = match (function, args) {
        (TextFunction::SubstringOf, [Tok::Lit(Literal::Str(t)), Tok::Comma, Tok::Ident(f)])
        | (
            TextFunction::StartsWith | TextFunction::EndsWith,
            [Tok::Ident(f), Tok::Comma, Tok::Lit(Literal::Str(t))],
        ) if !is_keyword(f) => (f.clone(), t.clone()),
        _ => return Err(SyntaxError),
    };
    if toks.get(*pos + 5) != Some(&Tok::Close) {
        return Err(SyntaxError);
    }
    *pos += 6;
    let mut wanted = true;
    if let Some(Tok::Ident(op)) = toks.get(*pos)
        && (op == "eq" || op == "ne")
    {
        let Some(Tok::Lit(Literal::Bool(b))) = toks.get(*pos + 1) else {
            return Err(SyntaxError);
        };
        wanted = *b == (op == "eq");
        *pos += 2;
    }
    Ok(Expr::Text {
        function,
        field,
        text,
        wanted,
    })
}

fn is_keyword(w: &str) -> bool {
    matches!(
        w,
        "and" | "or" | "not" | "eq" | "ne" | "gt" | "ge" | "lt" | "le" | "trim"
    )
}

impl Expr {
    /// Whether a row (fields in Exact's wire form) matches.
    pub fn matches<R: FieldSource + ?Sized>(&self, row: &R) -> bool {
        match self {
            Expr::And(a, b) => a.matches(row) && b.matches(row),
            Expr::Or(a, b) => a.matches(row) || b.matches(row),
            Expr::Cmp {
                field,
                trim,
                op,
                value,
            } => compare(row.field(field).as_deref(), *trim, *op, value),
            Expr::Text {
                function,
                field,
                text,
                wanted,
            } => {
                let found = match row.field(field).as_deref() {
                    Some(Value::String(s)) => function.holds(s, text),
                    _ => false,
                };
                found == *wanted
            }
        }
    }

    /// Every field the filter names.
    pub fn fields(&self) -> Vec<&str> {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                let mut v = a.fields();
                v.extend(b.fields());
                v
            }
            Expr::Cmp { field, .. } | Expr::Text { field, .. } => vec![field.as_str()],
        }
    }
}

fn compare(field: Option<&Value>, trim: bool, op: Op, lit: &Literal) -> bool {
    use std::cmp::Ordering;
    let field = field.unwrap_or(&Value::Null);
    let ord: Option<Ordering> = match (field, lit) {
        (Value::Null, Literal::Null) => Some(Ordering::Equal),
        (Value::Null, _) | (_, Literal::Null) => return matches!(op, Op::Ne),
        (Value::String(s), Literal::Str(l)) => {
            let s = if trim { s.trim() } else { s.as_str() };
            // Exact runs on SQL Server with a case-insensitive collation.
            Some(s.to_lowercase().cmp(&l.to_lowercase()))
        }
        (Value::String(s), Literal::Guid(g)) => Some(s.to_lowercase().cmp(g)),
        (Value::String(s), Literal::DateTime(ms)) => wire_date_ms(s).map(|v| v.cmp(ms)),
        (Value::String(s), Literal::Int(i)) => s.trim().parse::<i64>().ok().map(|v| v.cmp(i)),
        (Value::Number(n), Literal::Int(i)) => match n.as_i64() {
            Some(v) => Some(v.cmp(i)),
            None => n.as_f64().and_then(|v| v.partial_cmp(&(*i as f64))),
        },
        (Value::Number(n), Literal::Num(x)) => n.as_f64().and_then(|v| v.partial_cmp(x)),
        (Value::Bool(b), Literal::Bool(l)) => Some(b.cmp(l)),
        _ => None,
    };
    let Some(ord) = ord else { return false };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
    }
}

/// The ms inside `/Date(ms)/`.
pub fn wire_date_ms(s: &str) -> Option<i64> {
    s.strip_prefix("/Date(")?.strip_suffix(")/")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn parses_exacts_literals_and_precedence() {
        let e = parse("Timestamp gt 12345L and (Status eq 20 or trim(Code) eq '25')").unwrap();
        assert!(e.matches(&row(
            json!({"Timestamp": 20000, "Status": 50, "Code": "   25"})
        )));
        assert!(!e.matches(&row(json!({"Timestamp": 100, "Status": 20, "Code": "25"}))));
        let g = parse("ID eq guid'7B28A6C4-0F55-4B8C-9C52-11E0C3F1D0AA'").unwrap();
        assert!(g.matches(&row(json!({"ID": "7b28a6c4-0f55-4b8c-9c52-11e0c3f1d0aa"}))));
        let d = parse("InvoiceDate ge datetime'2024-09-09T00:00:00'").unwrap();
        assert!(d.matches(&row(json!({"InvoiceDate": "/Date(1725840000000)/"}))));
        assert!(
            parse("Name eq 'O''Brien'")
                .unwrap()
                .matches(&row(json!({"Name": "o'brien"})))
        );
    }

    #[test]
    fn reads_dates_and_text_functions_as_clients_write_them() {
        let at = row(json!({"Modified": "/Date(1577836800000)/", "Name": "De Vries B.V."}));
        for date in [
            "Modified ge datetime'2020-01-01T00:00:00'",
            "Modified ge datetime'2020-01-01T00:00:00Z'",
            "Modified ge datetime'2020-01-01T00:00:00.000Z'",
            "Modified ge datetimeoffset'2020-01-01T00:00:00Z'",
            "Modified ge datetimeoffset'2020-01-01T01:00:00+01:00'",
        ] {
            assert!(parse(date).unwrap().matches(&at), "{date}");
        }
        assert!(
            !parse("Modified gt datetime'2020-01-01T00:00:00.001Z'")
                .unwrap()
                .matches(&at)
        );
        for (filter, expected) in [
            ("substringof('vries', Name)", true),
            ("substringof('vries', Name) eq true", true),
            ("substringof('vries', Name) eq false", false),
            ("startswith(Name, 'de ')", true),
            ("startswith(Name, 'B.V.')", false),
            (
                "endswith(Name, 'b.v.') and Modified gt datetime'2019-12-31'",
                true,
            ),
            ("endswith(Name, 'b.v.') ne true", false),
            ("startswith(Missing, 'x')", false),
        ] {
            assert_eq!(parse(filter).unwrap().matches(&at), expected, "{filter}");
        }
    }

    #[test]
    fn refuses_what_exact_refuses() {
        for bad in [
            "substringof(Name, 'a')",
            "tolower(Name) eq 'a'",
            "startswith(Name, 'a') eq 1",
            "Name eq Code",
            "Amount add 1 eq 2",
            "Name eq",
            "not Blocked",
            "x eq 'open",
        ] {
            assert_eq!(parse(bad), Err(SyntaxError), "{bad}");
        }
    }
}
