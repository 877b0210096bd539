//! OData query options as Exact reads them (`$select $filter $orderby $expand $top $skip
//! $skiptoken $inlinecount`),
//! and the absolute `__next` link that carries them on (EXACT.md §4).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::error::ApiError;
use super::filter::{self, Expr};
use super::order::{self, OrderBy};

/// Characters left readable in `__next` (`$skiptoken=guid'…'` as Exact writes it).
const QUERY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b',')
    .remove(b':')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'*')
    .remove(b'/');

/// The parsed query string of a data request.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    /// Every option in request order (decoded), to rebuild `__next`.
    pub pairs: Vec<(String, String)>,
    /// `$select` fields; `None` = every field (also for `*`).
    pub select: Option<Vec<String>>,
    /// `$filter`, parsed.
    pub filter: Option<Expr>,
    /// `$top`.
    pub top: Option<usize>,
    /// `$skip` (older endpoints only on Exact; accepted everywhere here).
    pub skip: Option<usize>,
    /// `$skiptoken`, raw.
    pub skiptoken: Option<String>,
    /// `$inlinecount=allpages`.
    pub inlinecount: bool,
    /// Whether `$select` was given at all (bulk and some endpoints require it).
    pub has_select: bool,
    /// `$orderby` terms; empty = key order.
    pub orderby: Vec<OrderBy>,
    /// `$expand`: the line collection to answer inline (Exact expands only those).
    pub expand: Option<String>,
}

impl QueryOptions {
    /// Parses a raw query string; unknown `$` options and malformed values are query-syntax errors.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut q = QueryOptions::default();
        let Some(raw) = raw else { return Ok(q) };
        for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            let (key, value) = (key.into_owned(), value.into_owned());
            match key.as_str() {
                "$select" => {
                    q.has_select = true;
                    let fields: Vec<String> = value
                        .split(',')
                        .map(|f| f.trim().to_string())
                        .filter(|f| !f.is_empty())
                        .collect();
                    if fields.is_empty() {
                        return Err(ApiError::query_syntax());
                    }
                    if !fields.iter().any(|f| f == "*") {
                        q.select = Some(fields);
                    }
                }
                "$filter" => {
                    q.filter = Some(filter::parse(&value).map_err(|_| ApiError::query_syntax())?)
                }
                "$top" => q.top = Some(value.trim().parse().map_err(|_| ApiError::query_syntax())?),
                "$skip" => {
                    q.skip = Some(value.trim().parse().map_err(|_| ApiError::query_syntax())?)
                }
                "$skiptoken" => q.skiptoken = Some(value.clone()),
                "$inlinecount" => match value.as_str() {
                    "allpages" => q.inlinecount = true,
                    "none" => {}
                    _ => return Err(ApiError::query_syntax()),
                },
                "$format" if value == "json" => {}
                "$orderby" => q.orderby = order::parse(&value)?,
                "$expand" => q.expand = Some(value.trim().to_string()),
                k if k.starts_with('$') => return Err(ApiError::query_syntax()),
                _ => {}
            }
            q.pairs.push((key, value));
        }
        Ok(q)
    }

    /// The absolute URL of the next page: every original option, with `$skiptoken` replaced and
    /// `$top` lowered to what remains (Exact: `$top=100` → 60 rows + `__next` with `$top=40`).
    pub fn next_url(&self, resource_url: &str, skiptoken: &str, top_left: Option<usize>) -> String {
        let mut out = String::from(resource_url);
        let mut first = true;
        let mut push = |k: &str, v: &str| {
            out.push(if first { '?' } else { '&' });
            first = false;
            out.push_str(&utf8_percent_encode(k, QUERY_ENCODE).to_string());
            out.push('=');
            out.push_str(&utf8_percent_encode(v, QUERY_ENCODE).to_string());
        };
        for (k, v) in &self.pairs {
            match k.as_str() {
                "$skiptoken" | "$skip" => {}
                "$top" => {
                    if let Some(left) = top_left {
                        push(k, &left.to_string());
                    }
                }
                _ => push(k, v),
            }
        }
        push("$skiptoken", skiptoken);
        out
    }

    /// Whether `field` survives `$select`.
    pub fn selects(&self, field: &str) -> bool {
        self.select
            .as_ref()
            .is_none_or(|s| s.iter().any(|f| f == field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_keeps_options_and_lowers_top() {
        let q = QueryOptions::parse(Some("$select=ID,Code&$filter=Status+eq+20&$top=100")).unwrap();
        let next = q.next_url("http://h/nl/api/v1/1/crm/Accounts", "guid'ab'", Some(40));
        assert_eq!(
            next,
            "http://h/nl/api/v1/1/crm/Accounts?$select=ID,Code&$filter=Status%20eq%2020&$top=40&$skiptoken=guid'ab'"
        );
    }

    #[test]
    fn unknown_system_options_are_syntax_errors() {
        assert!(QueryOptions::parse(Some("$bogus=1")).is_err());
        assert!(QueryOptions::parse(Some("$top=abc")).is_err());
        assert!(QueryOptions::parse(Some("custom=1")).is_ok());
    }
}
