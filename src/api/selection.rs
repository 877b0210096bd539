//! Codat's `query` and `orderBy` on list endpoints: which records a list returns, in which
//! order. The language itself lives in `crate::query`; this module turns a request's parameters
//! into a selection and applies it, to datasets (over columns of the fields it reads) and to the
//! small lists (companies, connections, integrations, pull history) that are filtered in memory.

use serde::Serialize;
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use super::paging::{PageQuery, Paging};
use crate::query::{OrderBy, Query, QueryError};

/// Which records a list returns and in which order, from `query` and `orderBy`.
pub struct Selection {
    filter: Query,
    order: OrderBy,
    /// The texts it was parsed from: what identifies its result for a given dataset.
    key: String,
}

impl Selection {
    /// Parses the request's `query` and `orderBy` against the property paths a record of
    /// `dataset` (Codat's name for it in errors, e.g. `Invoice`) has; a path ending in `.*`
    /// admits any key below it (free-form maps such as a company's `tags`). A bad query is a
    /// 400 in Codat's words.
    pub fn parse(dataset: &str, paths: &[&str], params: &PageQuery) -> ApiResult<Selection> {
        let known = |path: &str| {
            paths.iter().any(|known| match known.strip_suffix('*') {
                Some(prefix) => path.len() > prefix.len() && path.starts_with(prefix),
                None => *known == path,
            })
        };
        let refuse = |error: QueryError| ApiError::bad_request(error.on(dataset).to_string());
        let (query, order_by) = (
            params.query.as_deref().unwrap_or("").trim(),
            params.order_by.as_deref().unwrap_or("").trim(),
        );
        Ok(Selection {
            filter: Query::parse(query, &known).map_err(refuse)?,
            order: OrderBy::parse(order_by, &known).map_err(refuse)?,
            key: format!("{query}\u{0}{order_by}"),
        })
    }

    /// Identifies the selection's result within one dataset (its `query` and `orderBy`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether every record is returned in its natural order, so no record needs parsing.
    pub fn is_everything(&self) -> bool {
        self.filter.is_empty() && self.order.is_empty()
    }

    /// The positions of the records that pass the filter, in order. Ties (and every record
    /// without `orderBy`) keep their natural order, so pages never overlap.
    pub fn apply(&self, records: &[Value]) -> Vec<usize> {
        let kept = records
            .iter()
            .enumerate()
            .filter(|(_, record)| self.filter.matches(record));
        if self.order.is_empty() {
            return kept.map(|(position, _)| position).collect();
        }
        // Each record's key is computed once; the position breaks ties.
        let mut keyed: Vec<_> = kept
            .map(|(position, record)| (self.order.sort_key(record), position))
            .collect();
        keyed.sort_unstable();
        keyed.into_iter().map(|(_, position)| position).collect()
    }

    /// Every property path the selection reads (its filter's and its order's), each once.
    pub fn paths(&self) -> Vec<Vec<String>> {
        let mut paths = self.filter.paths();
        for path in self.order.paths() {
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        paths
    }

    /// [`apply`](Self::apply) to `count` records known only by the values at the paths the
    /// selection reads: `field(position, path)` is the record's value there (`None` when it
    /// has none). Same result as `apply` on the records themselves.
    pub fn apply_fields<'v>(
        &self,
        count: usize,
        field: impl Fn(usize, &[String]) -> Option<&'v Value>,
    ) -> Vec<usize> {
        let kept = (0..count)
            .filter(|&position| self.filter.matches_fields(&|path| field(position, path)));
        if self.order.is_empty() {
            return kept.collect();
        }
        let mut keyed: Vec<_> = kept
            .map(|position| {
                let key = self.order.sort_key_fields(&|path| field(position, path));
                (key, position)
            })
            .collect();
        keyed.sort_unstable();
        keyed.into_iter().map(|(_, position)| position).collect()
    }

    /// One page of a list held in memory, filtered and sorted, and the filtered total.
    pub fn page<T: Serialize>(&self, items: Vec<T>, paging: Paging) -> (Vec<T>, i64) {
        let positions: Vec<usize> = if self.is_everything() {
            (0..items.len()).collect()
        } else {
            let values: Vec<Value> = items
                .iter()
                .map(|item| serde_json::to_value(item).unwrap_or_default())
                .collect();
            self.apply(&values)
        };
        let total = positions.len() as i64;
        let start = (paging.offset() as usize).min(positions.len());
        let end = (start + paging.page_size as usize).min(positions.len());
        let mut items: Vec<Option<T>> = items.into_iter().map(Some).collect();
        let page = positions[start..end]
            .iter()
            .filter_map(|&position| items[position].take())
            .collect();
        (page, total)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(query: &str, order_by: &str) -> PageQuery {
        PageQuery {
            query: Some(query.into()),
            order_by: Some(order_by.into()),
            ..PageQuery::default()
        }
    }

    const PATHS: &[&str] = &["name", "n", "tags.*"];

    fn items() -> Vec<Value> {
        vec![
            json!({"name": "b", "n": 2, "tags": {"region": "uk"}}),
            json!({"name": "a", "n": 3, "tags": {"region": "nl"}}),
            json!({"name": "c", "n": 1, "tags": {}}),
        ]
    }

    #[test]
    fn pages_of_a_filtered_sorted_list_count_only_what_passes() {
        let selection = Selection::parse("Thing", PATHS, &params("n > 1", "-n")).unwrap();
        let paging = Paging {
            page: 1,
            page_size: 1,
        };
        let (page, total) = selection.page(items(), paging);
        assert_eq!((page, total), (vec![items()[1].clone()], 2));
        let (page, _) = selection.page(
            items(),
            Paging {
                page: 2,
                page_size: 1,
            },
        );
        assert_eq!(page, vec![items()[0].clone()]);
        let (page, _) = selection.page(
            items(),
            Paging {
                page: 3,
                page_size: 1,
            },
        );
        assert!(page.is_empty());
    }

    #[test]
    fn wildcard_paths_admit_map_keys_and_nothing_else() {
        let selection = Selection::parse("Thing", PATHS, &params("tags.region = NL", "")).unwrap();
        let (page, total) = selection.page(
            items(),
            Paging {
                page: 1,
                page_size: 10,
            },
        );
        assert_eq!((page, total), (vec![items()[1].clone()], 1));
        for bad in ["tags = x", "tagsx = 1", "other = 1"] {
            let error = Selection::parse("Thing", PATHS, &params(bad, ""))
                .err()
                .unwrap();
            assert!(
                error.message().contains("Could not resolve property"),
                "{bad}: {}",
                error.message()
            );
        }
    }

    #[test]
    fn no_query_keeps_the_natural_order() {
        let selection = Selection::parse("Thing", PATHS, &params(" ", "")).unwrap();
        assert!(selection.is_everything());
        let (page, total) = selection.page(
            items(),
            Paging {
                page: 1,
                page_size: 2,
            },
        );
        assert_eq!((page, total), (items()[..2].to_vec(), 3));
    }
}
