//! Codat's paging: `page` (from 1) and `pageSize` (1–5000, default 100) in, the
//! `results`/`pageNumber`/`pageSize`/`totalResults`/`_links` envelope out.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;

/// The largest page Codat allows.
pub const MAX_PAGE_SIZE: u32 = 5000;
/// The highest page number: Codat's `page` is a 32-bit integer.
pub const MAX_PAGE: u32 = i32::MAX as u32;
/// Codat's default page size.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// Paging parameters as they arrive: text, so that a bad value gets a message naming it.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    #[param(value_type = Option<i32>, minimum = 1, maximum = 2147483647, default = 1)]
    pub page: Option<String>,
    /// Records per page, 1 to 5000.
    #[param(value_type = Option<i32>, minimum = 1, maximum = 5000, default = 100)]
    pub page_size: Option<String>,
    /// Codat query language filter, e.g. `amountDue > 0 && status != paid`: operators
    /// `= != ~ > < >= <=`, `&&`, `||`, `{ }` grouping, dotted sub-properties
    /// (`customerRef.id = 61`), dates as `YYYY-MM-DD`; shorter than 2048 characters.
    /// Supported on every list; an unknown property is a 400 that names it.
    pub query: Option<String>,
    /// Property to order by, ascending, or descending with a `-` prefix (`-issueDate`);
    /// dotted sub-properties allowed. Supported where `query` is.
    pub order_by: Option<String>,
}

/// Characters left as they are in a query-string value (RFC 3986's unreserved set).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Validated paging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub page_size: u32,
}

impl Paging {
    /// Rows to skip before this page.
    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.page_size)
    }

    /// Rows on a page.
    pub fn limit(&self) -> i64 {
        i64::from(self.page_size)
    }
}

impl PageQuery {
    /// Checks `page` and `pageSize`; a bad value is a 400 that names it.
    pub fn paging(&self) -> Result<Paging, ApiError> {
        let page = parse_bounded("page", self.page.as_deref(), 1, 1, MAX_PAGE)?;
        let page_size = parse_bounded(
            "pageSize",
            self.page_size.as_deref(),
            DEFAULT_PAGE_SIZE,
            1,
            MAX_PAGE_SIZE,
        )?;
        Ok(Paging { page, page_size })
    }

    /// `&query=…&orderBy=…` as the client sent them (blank ones left out), encoded, for the
    /// envelope's page links: the next page must be the next page of the same list.
    pub fn filter_params(&self) -> String {
        [("query", &self.query), ("orderBy", &self.order_by)]
            .into_iter()
            .filter_map(|(name, value)| {
                let value = value.as_deref().filter(|v| !v.trim().is_empty())?;
                Some(format!(
                    "&{name}={}",
                    utf8_percent_encode(value, QUERY_VALUE)
                ))
            })
            .collect()
    }
}

fn parse_bounded(
    name: &str,
    raw: Option<&str>,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ApiError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    let must = || format!("must be a whole number from {min} to {max}, got '{raw}'");
    let value: i64 = raw
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid_field(name, must()))?;
    if value < i64::from(min) || value > i64::from(max) {
        return Err(ApiError::invalid_field(name, must()));
    }
    Ok(value as u32)
}

/// A root-relative link.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Link {
    pub href: String,
}

/// `self` and `current` always; `next` and `previous` only when those pages exist.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Links {
    #[serde(rename = "self")]
    pub self_: Link,
    pub current: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Link>,
}

/// Codat's paged envelope.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub results: Vec<T>,
    pub page_number: u32,
    pub page_size: u32,
    pub total_results: i64,
    #[serde(rename = "_links")]
    pub links: Links,
}

impl<T> Page<T> {
    /// Wraps one page of `results` out of `total`, linking from `path` (no query string).
    pub fn new(results: Vec<T>, total: i64, paging: Paging, path: &str) -> Self {
        Page {
            results,
            page_number: paging.page,
            page_size: paging.page_size,
            total_results: total,
            links: Links::new(total, paging, path, ""),
        }
    }

    /// Like [`Page::new`], for a list the client filtered or sorted: the page links keep the
    /// request's `query` and `orderBy`.
    pub fn filtered(
        results: Vec<T>,
        total: i64,
        paging: Paging,
        path: &str,
        params: &PageQuery,
    ) -> Self {
        Page {
            links: Links::new(total, paging, path, &params.filter_params()),
            ..Page::new(results, total, paging, path)
        }
    }
}

impl Links {
    /// `self` (the path), `current`, and `next`/`previous` where those pages exist. `extra` is
    /// appended to every page link (the encoded `query`/`orderBy` the client sent).
    pub fn new(total: i64, paging: Paging, path: &str, extra: &str) -> Self {
        let href = |page: u32| Link {
            href: format!("{path}?page={page}&pageSize={}{extra}", paging.page_size),
        };
        let pages = (total + i64::from(paging.page_size) - 1) / i64::from(paging.page_size);
        Links {
            self_: Link {
                href: path.to_string(),
            },
            current: href(paging.page),
            next: (i64::from(paging.page) < pages).then(|| href(paging.page + 1)),
            previous: (paging.page > 1).then(|| href((paging.page - 1).min(pages.max(1) as u32))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(page: Option<&str>, size: Option<&str>) -> PageQuery {
        PageQuery {
            page: page.map(String::from),
            page_size: size.map(String::from),
            ..PageQuery::default()
        }
    }

    #[test]
    fn defaults_are_page_one_of_a_hundred() {
        assert_eq!(
            query(None, None).paging().unwrap(),
            Paging {
                page: 1,
                page_size: 100
            }
        );
    }

    #[test]
    fn out_of_range_values_name_the_parameter() {
        for (page, size, field) in [
            (Some("0"), None, "page"),
            (Some("-1"), None, "page"),
            (Some("x"), None, "page"),
            (None, Some("0"), "pageSize"),
            (None, Some("5001"), "pageSize"),
            (None, Some("1.5"), "pageSize"),
        ] {
            let error = query(page, size).paging().unwrap_err();
            assert!(error.message().starts_with(field), "{}", error.message());
        }
    }

    #[test]
    fn filter_params_are_echoed_encoded_and_blank_ones_dropped() {
        let params = PageQuery {
            query: Some("{amountDue > 0 || status=paid} && note~'a b'".into()),
            order_by: Some("-issueDate".into()),
            ..PageQuery::default()
        };
        assert_eq!(
            params.filter_params(),
            "&query=%7BamountDue%20%3E%200%20%7C%7C%20status%3Dpaid%7D%20%26%26%20note~%27a%20b%27\
             &orderBy=-issueDate"
        );
        let blank = PageQuery {
            query: Some("  ".into()),
            order_by: Some(String::new()),
            ..PageQuery::default()
        };
        assert_eq!(blank.filter_params(), "");
        let links = Links::new(
            30,
            Paging {
                page: 2,
                page_size: 10,
            },
            "/c",
            &PageQuery {
                order_by: Some("customerRef.id".into()),
                ..PageQuery::default()
            }
            .filter_params(),
        );
        assert_eq!(
            links.next.unwrap().href,
            "/c?page=3&pageSize=10&orderBy=customerRef.id"
        );
        assert_eq!(
            links.previous.unwrap().href,
            "/c?page=1&pageSize=10&orderBy=customerRef.id"
        );
    }

    #[test]
    fn links_appear_only_for_pages_that_exist() {
        let paging = Paging {
            page: 2,
            page_size: 10,
        };
        let page = Page::new(vec![0; 10], 25, paging, "/companies");
        assert_eq!(page.links.self_.href, "/companies");
        assert_eq!(page.links.current.href, "/companies?page=2&pageSize=10");
        assert_eq!(
            page.links.next.unwrap().href,
            "/companies?page=3&pageSize=10"
        );
        assert_eq!(
            page.links.previous.unwrap().href,
            "/companies?page=1&pageSize=10"
        );
        let last = Page::new(vec![0; 5], 25, Paging { page: 3, ..paging }, "/c");
        assert!(last.links.next.is_none());
        let first = Page::new(vec![0; 10], 25, Paging { page: 1, ..paging }, "/c");
        assert!(first.links.previous.is_none());
    }
}
