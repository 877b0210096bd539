//! OData v2 as Exact speaks it: the `{"d":{"results":[…],"__next":…}}` envelope, key-ordered paging
//! with `$skiptoken` (60 a page; 1000 on bulk), Timestamp-ordered sync paging (1000 a page),
//! `$select`, `$filter`, `$top`, `$skip`, `$inlinecount` and single entities by key.

pub mod error;
pub mod filter;
pub mod order;
pub mod query;
pub mod rows;

use std::borrow::Cow;

use serde::Serialize;

use super::books::Key;
use error::ApiError;
use filter::{Expr, Literal, Op};
use order::SortKey;
use query::QueryOptions;
use rows::{RowIter, RowStyle, RowView, Rows};

/// How a listing pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// Key order, `$skiptoken` = last key, this many rows a page.
    ByKey(usize),
    /// Timestamp order, `$skiptoken` = last Timestamp, this many rows a page; `$filter` may only be
    /// `Timestamp gt NL` (plus `EntityType eq N` when `entity_type_filter`).
    ByTimestamp {
        /// Rows a page.
        page: usize,
        /// `sync/Deleted` also filters on EntityType.
        entity_type_filter: bool,
    },
}

/// The result of a listing, serialised as Exact's envelope.
#[derive(Debug, Serialize)]
pub struct Page<'a> {
    /// `__count` (a string, as LEAP types it), with `$inlinecount=allpages`.
    #[serde(rename = "__count", skip_serializing_if = "Option::is_none")]
    pub count: Option<String>,
    /// The rows.
    pub results: Vec<RowView<'a>>,
    /// Absolute link to the next page; absent on the last.
    #[serde(rename = "__next", skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Lists one page of `rows` under the request's options; `resource_url` is the absolute URL of the
/// collection (no query), used for `__next`.
pub fn list<'a>(
    rows: &'a Rows<'a>,
    paging: Paging,
    q: &'a QueryOptions,
    style: RowStyle<'a>,
    resource_url: &str,
) -> Result<Page<'a>, ApiError> {
    check_select(rows, q, &style)?;
    let after_key = match (paging, q.skiptoken.as_deref()) {
        (Paging::ByKey(_), Some(t)) if q.orderby.is_empty() => Some(parse_key_token(t)?),
        _ => None,
    };
    type NextToken<'t> = Box<dyn Fn(&RowView<'_>) -> String + 't>;
    let (iter, page_size, next_token): (RowIter<'a, '_>, usize, NextToken<'_>) = match paging {
        Paging::ByKey(page) if !q.orderby.is_empty() => {
            let order = q.orderby.as_slice();
            let after = q
                .skiptoken
                .as_deref()
                .map(|t| SortKey::parse_token(t, order))
                .transpose()?;
            let filter = q.filter.as_ref();
            let mut sorted: Vec<(SortKey, Cow<'a, _>)> = rows
                .by_key(None)
                .filter(|r| filter.is_none_or(|f| f.matches(&r.fields)))
                .map(|r| (SortKey::of(&r, order), r))
                .collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0, order));
            let start = after.map_or(0, |after| {
                sorted.partition_point(|(k, _)| k.cmp(&after, order).is_le())
            });
            let iter = sorted.into_iter().skip(start).map(|(_, r)| r);
            let token = move |r: &RowView<'_>| SortKey::of(&r.record, order).token();
            (Box::new(iter), page, Box::new(token))
        }
        Paging::ByKey(page) => {
            let filter = q.filter.as_ref();
            let iter = rows
                .by_key(after_key.as_ref())
                .filter(move |r| filter.is_none_or(|f| f.matches(&r.fields)));
            (
                Box::new(iter),
                page,
                Box::new(|r: &RowView<'_>| r.record.key.odata_literal()),
            )
        }
        Paging::ByTimestamp {
            page,
            entity_type_filter,
        } => {
            let (since, entity_type) = sync_filter(q.filter.as_ref(), entity_type_filter)?;
            let after = match q.skiptoken.as_deref() {
                Some(t) => since.max(parse_timestamp_token(t)?),
                None => since,
            };
            let iter = rows.by_timestamp(after).filter(move |r| {
                entity_type.is_none_or(|t| {
                    r.fields.value("EntityType").and_then(|v| v.as_i64()) == Some(t)
                })
            });
            if !q.orderby.is_empty() {
                return Err(ApiError::query_syntax());
            }
            (
                Box::new(iter),
                page,
                Box::new(|r: &RowView<'_>| format!("{}L", r.record.timestamp)),
            )
        }
    };
    let count = if q.inlinecount {
        Some(count_all(rows, paging, q)?.to_string())
    } else {
        None
    };
    let mut iter = iter.skip(q.skip.unwrap_or(0));
    let want = q.top.map_or(page_size, |t| t.min(page_size));
    let mut results: Vec<RowView<'a>> = Vec::with_capacity(want.min(1000));
    for record in iter.by_ref().take(want) {
        results.push(RowView { record, style });
    }
    let more = iter.next().is_some();
    let top_left = q.top.map(|t| t - results.len());
    let next = match (results.last(), more, top_left) {
        (Some(last), true, None) => Some(q.next_url(resource_url, &next_token(last), None)),
        (Some(last), true, Some(left)) if left > 0 => {
            Some(q.next_url(resource_url, &next_token(last), Some(left)))
        }
        _ => None,
    };
    Ok(Page {
        count,
        results,
        next,
    })
}

/// `$inlinecount`: every row matching `$filter`, ignoring paging.
fn count_all(rows: &Rows<'_>, paging: Paging, q: &QueryOptions) -> Result<usize, ApiError> {
    Ok(match paging {
        Paging::ByKey(_) => rows
            .by_key(None)
            .filter(|r| q.filter.as_ref().is_none_or(|f| f.matches(&r.fields)))
            .count(),
        Paging::ByTimestamp {
            entity_type_filter, ..
        } => {
            let (since, entity_type) = sync_filter(q.filter.as_ref(), entity_type_filter)?;
            rows.by_timestamp(since)
                .filter(|r| {
                    entity_type.is_none_or(|t| {
                        r.fields.value("EntityType").and_then(|v| v.as_i64()) == Some(t)
                    })
                })
                .count()
        }
    })
}

/// Sync endpoints accept only `Timestamp gt NL` (and `EntityType eq N` on sync/Deleted).
fn sync_filter(
    filter: Option<&Expr>,
    entity_type_allowed: bool,
) -> Result<(i64, Option<i64>), ApiError> {
    let ts = |e: &Expr| match e {
        Expr::Cmp {
            field,
            trim: false,
            op: Op::Gt,
            value: Literal::Int(n),
        } if field == "Timestamp" => Some(*n),
        _ => None,
    };
    let et = |e: &Expr| match e {
        Expr::Cmp {
            field,
            trim: false,
            op: Op::Eq,
            value: Literal::Int(n),
        } if field == "EntityType" => Some(*n),
        _ => None,
    };
    match filter {
        None => Ok((0, None)),
        Some(e) if ts(e).is_some() => Ok((ts(e).unwrap_or(0), None)),
        Some(Expr::And(a, b)) if entity_type_allowed => match (ts(a), et(b), ts(b), et(a)) {
            (Some(t), Some(n), _, _) | (_, _, Some(t), Some(n)) => Ok((t, Some(n))),
            _ => Err(ApiError::query_syntax()),
        },
        Some(_) => Err(ApiError::query_syntax()),
    }
}

/// 400 for a `$select` naming a field the entity lacks: neither documented by Exact nor in a
/// sample row.
fn check_select(rows: &Rows<'_>, q: &QueryOptions, style: &RowStyle<'_>) -> Result<(), ApiError> {
    let (Some(select), Some(fields)) = (&q.select, rows.sample_fields()) else {
        return Ok(());
    };
    for f in select {
        let known = fields.iter().any(|k| k == f)
            || style.documented.iter().any(|d| d.name == f)
            || (style.sync && f == "Timestamp")
            || style.lines == Some(f.as_str());
        if !known {
            return Err(ApiError::bad_request(format!(
                "Property '{f}' does not exist."
            )));
        }
    }
    Ok(())
}

/// Parses a key `$skiptoken` or by-key literal: `guid'…'`, `123L`, a bare GUID or integer.
pub fn parse_key_token(token: &str) -> Result<Key, ApiError> {
    let t = token.trim();
    if let Some(inner) = t.strip_prefix("guid'").and_then(|r| r.strip_suffix('\'')) {
        return uuid::Uuid::parse_str(inner)
            .map(Key::Guid)
            .map_err(|_| ApiError::query_syntax());
    }
    if let Ok(id) = uuid::Uuid::parse_str(t) {
        return Ok(Key::Guid(id));
    }
    t.trim_end_matches(['L', 'l'])
        .parse()
        .map(Key::Int)
        .map_err(|_| ApiError::query_syntax())
}

fn parse_timestamp_token(token: &str) -> Result<i64, ApiError> {
    token
        .trim()
        .trim_end_matches(['L', 'l'])
        .parse()
        .map_err(|_| ApiError::query_syntax())
}

/// One row as `{"d":{…}}` (by key), or the bare list form `{"d":[…]}`.
pub fn single<'a>(record: &'a super::books::Record, style: RowStyle<'a>) -> RowView<'a> {
    RowView {
        record: Cow::Borrowed(record),
        style,
    }
}
