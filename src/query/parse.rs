//! The `query` parser: recursive descent over the text, with errors that say at which character
//! what was expected.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::eval::parse_datetime;
use super::{Comparison, DEFAULT_DATASET, Expr, Literal, MAX_QUERY_LENGTH, Op, Query, QueryError};

/// Deeper nesting than this is refused rather than risking the stack on hostile input.
const MAX_DEPTH: usize = 32;

/// Parses a whole query; blank text keeps everything.
pub(super) fn query(text: &str, known: &dyn Fn(&str) -> bool) -> Result<Query, QueryError> {
    let length = text.chars().count();
    if length >= MAX_QUERY_LENGTH {
        return Err(QueryError::Malformed(format!(
            "The query is {length} characters long; it must be shorter than {MAX_QUERY_LENGTH}."
        )));
    }
    if text.trim().is_empty() {
        return Ok(Query { root: None });
    }
    let mut parser = Parser {
        text,
        pos: 0,
        depth: 0,
        known,
    };
    let root = parser.or()?;
    parser.skip_whitespace();
    match parser.peek() {
        None => Ok(Query { root: Some(root) }),
        Some('}') => Err(parser.malformed("found '}' without a matching '{'")),
        Some(_) => Err(parser.malformed(&format!(
            "expected && or || but found '{}' (quote values that contain spaces)",
            parser.rest_preview()
        ))),
    }
}

/// Reads a property path (`customerRef.id`) and checks it exists; used by `orderBy` too.
/// Returns the path split at its dots.
pub(super) fn property_path(
    text: &str,
    known: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>, PathError> {
    if text.is_empty() {
        return Err(PathError::Empty);
    }
    if let Some(bad) = text.chars().find(|c| !is_path_char(*c)) {
        return Err(PathError::BadChar(bad));
    }
    let segments: Vec<String> = text.split('.').map(String::from).collect();
    if segments.iter().any(String::is_empty) {
        return Err(PathError::EmptySegment);
    }
    if !known(text) {
        return Err(PathError::Unknown);
    }
    Ok(segments)
}

/// Why a property path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PathError {
    Empty,
    BadChar(char),
    /// `a..b`, `.a` or `a.`.
    EmptySegment,
    Unknown,
}

impl PathError {
    /// The error for `path`, as Codat words it.
    pub(super) fn into_query_error(self, path: &str, at: &str) -> QueryError {
        let detail = match self {
            PathError::Empty => format!("Expected a property name {at}."),
            PathError::BadChar(c) => {
                format!("Property names are letters, digits, '_' and '.'; found '{c}' {at}.")
            }
            PathError::EmptySegment => {
                format!("The property path '{path}' {at} has an empty part.")
            }
            PathError::Unknown => {
                return QueryError::UnknownProperty {
                    property: path.to_string(),
                    dataset: DEFAULT_DATASET.to_string(),
                };
            }
        };
        QueryError::Malformed(detail)
    }
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// Reads a value as every type it could be meant as.
pub(super) fn literal(text: String) -> Literal {
    let boolean = match text.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    Literal {
        lower: text.to_lowercase(),
        number: decimal_literal(&text),
        date: parse_datetime(&text),
        boolean,
        text,
    }
}

/// `-?digits[.digits]` as an exact decimal; anything else (exponents, `1_000`) is not a number.
fn decimal_literal(text: &str) -> Option<Decimal> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return None;
    }
    Decimal::from_str(text).ok()
}

struct Parser<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    pos: usize,
    /// Open braces around `pos`.
    depth: usize,
    known: &'a dyn Fn(&str) -> bool,
}

impl<'a> Parser<'a> {
    /// `and { "||" and }`
    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut terms = vec![self.and()?];
        while self.eat_connector("||")? {
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one term")
        } else {
            Expr::Or(terms)
        })
    }

    /// `term { "&&" term }`
    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut terms = vec![self.term()?];
        while self.eat_connector("&&")? {
            terms.push(self.term()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one term")
        } else {
            Expr::And(terms)
        })
    }

    /// `"{" or "}" | comparison`
    fn term(&mut self) -> Result<Expr, QueryError> {
        self.skip_whitespace();
        if self.peek() != Some('{') {
            return self.comparison().map(Expr::Compare);
        }
        if self.depth == MAX_DEPTH {
            return Err(self.malformed(&format!("braces nest deeper than {MAX_DEPTH} levels")));
        }
        let open = self.pos;
        self.pos += 1;
        self.depth += 1;
        let inner = self.or()?;
        self.skip_whitespace();
        if self.peek() != Some('}') {
            let at = self.position_of(open);
            return Err(match self.peek() {
                None => QueryError::Malformed(format!(
                    "The '{{' at character {at} is never closed with '}}'."
                )),
                Some(_) => self.malformed(&format!(
                    "expected && or || or '}}' but found '{}' (quote values that contain spaces)",
                    self.rest_preview()
                )),
            });
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(inner)
    }

    /// `path op value`
    fn comparison(&mut self) -> Result<Comparison, QueryError> {
        self.skip_whitespace();
        let start = self.pos;
        let path_text = self.take_while(is_path_char);
        if path_text.is_empty() {
            return Err(match self.peek() {
                None => self.malformed("expected a property name but the query ended"),
                Some(_) => self.malformed(&format!(
                    "expected a property name but found '{}'",
                    self.rest_preview()
                )),
            });
        }
        let at = format!("at character {}", self.position_of(start));
        let path =
            property_path(path_text, self.known).map_err(|e| e.into_query_error(path_text, &at))?;
        self.skip_whitespace();
        let op = self.operator().ok_or_else(|| {
            self.malformed(&format!(
                "expected an operator (=, !=, ~, >, <, >=, <=) after '{path_text}'"
            ))
        })?;
        let value_start = {
            self.skip_whitespace();
            self.pos
        };
        let value = literal(self.value(op)?);
        if op.is_ordering() && value.number.is_none() && value.date.is_none() {
            return Err(QueryError::Malformed(format!(
                "'{}' compares numbers and dates (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS) only; \
                 '{}' at character {} is neither.",
                op.symbol(),
                value.text,
                self.position_of(value_start)
            )));
        }
        Ok(Comparison { path, op, value })
    }

    /// The longest operator at `pos`.
    fn operator(&mut self) -> Option<Op> {
        let rest = &self.text[self.pos..];
        let (op, len) = [
            ("!=", Op::Ne),
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("=", Op::Eq),
            ("~", Op::Contains),
            (">", Op::Gt),
            ("<", Op::Lt),
        ]
        .into_iter()
        .find(|(symbol, _)| rest.starts_with(symbol))
        .map(|(symbol, op)| (op, symbol.len()))?;
        self.pos += len;
        Some(op)
    }

    /// A quoted or unquoted value after `op` (whitespace already skipped).
    fn value(&mut self, op: Op) -> Result<String, QueryError> {
        let expected = || format!("expected a value after '{}'", op.symbol());
        match self.peek() {
            None => Err(self.malformed(&format!("{} but the query ended", expected()))),
            Some(quote @ ('\'' | '"')) => self.quoted(quote),
            Some(c) if "=!<>~{}".contains(c) || self.at_connector() => Err(self.malformed(
                &format!("{} but found '{}'", expected(), self.rest_preview()),
            )),
            Some(_) => {
                let start = self.pos;
                while let Some(c) = self.peek() {
                    if c.is_whitespace() || c == '}' || self.at_connector() {
                        break;
                    }
                    self.pos += c.len_utf8();
                }
                Ok(self.text[start..self.pos].to_string())
            }
        }
    }

    /// A value in `quote`s; a backslash escapes the next character (`'O\'Brien'`).
    fn quoted(&mut self, quote: char) -> Result<String, QueryError> {
        let open = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(QueryError::Malformed(format!(
                    "The {quote} at character {} is never closed.",
                    self.position_of(open)
                )));
            };
            self.pos += c.len_utf8();
            match c {
                '\\' => {
                    if let Some(escaped) = self.peek() {
                        self.pos += escaped.len_utf8();
                        value.push(escaped);
                    }
                }
                c if c == quote => return Ok(value),
                c => value.push(c),
            }
        }
    }

    /// Consumes `connector` (`&&` or `||`) if it comes next; a lone `&` or `|` is an error.
    fn eat_connector(&mut self, connector: &str) -> Result<bool, QueryError> {
        self.skip_whitespace();
        let rest = &self.text[self.pos..];
        if rest.starts_with(connector) {
            self.pos += connector.len();
            return Ok(true);
        }
        let single = &connector[..1];
        if rest.starts_with(single) && !self.at_connector() {
            return Err(self.malformed(&format!("expected '{connector}' but found '{single}'")));
        }
        Ok(false)
    }

    fn at_connector(&self) -> bool {
        let rest = &self.text[self.pos..];
        rest.starts_with("&&") || rest.starts_with("||")
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn skip_whitespace(&mut self) {
        self.take_while(char::is_whitespace);
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let text = self.text;
        let start = self.pos;
        let rest = &text[start..];
        let len = rest.find(|c| !keep(c)).unwrap_or(rest.len());
        self.pos += len;
        &text[start..self.pos]
    }

    /// A few characters from `pos`, to show in a message.
    fn rest_preview(&self) -> String {
        let rest: String = self.text[self.pos..].chars().take(20).collect();
        if rest.len() < self.text.len() - self.pos {
            format!("{rest}…")
        } else {
            rest
        }
    }

    /// The 1-based character position of byte offset `pos`.
    fn position_of(&self, pos: usize) -> usize {
        self.text[..pos].chars().count() + 1
    }

    /// A malformed-query error at the current position.
    fn malformed(&self, what: &str) -> QueryError {
        QueryError::Malformed(format!(
            "At character {}: {what}.",
            self.position_of(self.pos)
        ))
    }
}
