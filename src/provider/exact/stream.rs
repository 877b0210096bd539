//! Sync endpoints read page by page, and their rows grouped by document across page boundaries,
//! so that a full pull holds a page or two of rows, never the division's whole history (issue
//! #11: a pull of 100,000 invoices held every row and peaked 1.6 GiB).
//!
//! A sync endpoint answers in Timestamp order. A document's rows (an invoice's lines, a
//! financial entry's lines) are written together, so they arrive next to each other, possibly
//! split by a page boundary. A row changed later (one line of an invoice edited) moves to the
//! end with a new Timestamp, away from its siblings. [`Groups`] therefore holds a document open
//! while its rows keep coming, hands it on once [`WINDOW`] rows have passed without one, and
//! remembers the released documents (a 64-bit hash each): a row of a released document that
//! comes later makes it *late*, and its pull re-reads that document whole (the bulk endpoints,
//! 20 documents a call) and hands it on again. A division read for the first time has no late
//! documents unless lines were edited after their document was written.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};

use serde::de::DeserializeOwned;
use url::Url;

use super::ExactProvider;
use super::pull::Run;
use super::row;
use crate::provider::ProviderError;

/// Rows that pass without a row of a document before it is handed on: a page. A document
/// written at once (every row next to the others) is never late; a page more of rows held is
/// the price of tolerating a little interleaving.
pub(super) const WINDOW: u64 = 1_000;

/// A read of a sync endpoint after `since`, one page (1,000 rows) at a time.
pub(super) struct SyncPages<T> {
    path: String,
    since: i64,
    next: Option<Url>,
    timestamp: fn(&T) -> Option<i64>,
    /// The highest Timestamp read so far.
    pub max: Option<i64>,
    /// The highest Timestamp of the first page: no later than the division's rowversion when
    /// the read began, so every row changed or deleted after that has a higher one.
    pub first_page_max: Option<i64>,
    /// Rows read so far.
    pub rows: i64,
    pages: u32,
    done: bool,
}

impl<T: DeserializeOwned> SyncPages<T> {
    /// The next page's rows; `None` once the endpoint has no more (the read is then noted in
    /// the run, see [`Run::note_sync_read`]).
    pub(super) async fn next(
        &mut self,
        exact: &ExactProvider,
        run: &mut Run<'_, '_>,
    ) -> Result<Option<Vec<T>>, ProviderError> {
        let Some(url) = self.next.take() else {
            if !self.done {
                self.done = true;
                run.note_sync_read(&self.path, self.since, self.max);
            }
            return Ok(None);
        };
        let (page, next) = exact.typed_page::<T>(run, &url).await?;
        let page_max = page.iter().filter_map(self.timestamp).max();
        if self.pages == 0 {
            self.first_page_max = page_max;
        }
        self.pages += 1;
        self.max = self.max.max(page_max);
        self.rows += page.len() as i64;
        self.next = next;
        Ok(Some(page))
    }
}

impl ExactProvider {
    /// Starts a read of the sync endpoint `path` after `since`, with `$select` of the row's
    /// fields; nothing is called until [`SyncPages::next`].
    pub(super) fn sync_pages<T: DeserializeOwned>(
        &self,
        run: &Run<'_, '_>,
        path: &str,
        since: i64,
        timestamp: fn(&T) -> Option<i64>,
    ) -> Result<SyncPages<T>, ProviderError> {
        let select = row::select::<T>();
        let filter = format!("Timestamp gt {since}L");
        let url = self.division_url(
            run,
            path,
            &[("$select", select.as_str()), ("$filter", filter.as_str())],
        )?;
        Ok(SyncPages {
            path: path.to_string(),
            since,
            next: Some(url),
            timestamp,
            max: None,
            first_page_max: None,
            rows: 0,
            pages: 0,
            done: false,
        })
    }
}

/// A document whose rows are still coming.
struct Open<R> {
    /// The position (rows added before it) of its first and last row.
    first: u64,
    last: u64,
    rows: Vec<R>,
}

/// Rows grouped by document as a Timestamp-ordered read delivers them (see the module doc).
pub(super) struct Groups<R> {
    open: HashMap<String, Open<R>>,
    /// Hashes of the documents handed on: 8 bytes a document, so that a late row is known.
    released: HashSet<u64>,
    /// Documents with a row after their release: the newest such row of each.
    late: BTreeMap<String, R>,
    added: u64,
}

impl<R> Default for Groups<R> {
    fn default() -> Self {
        Groups {
            open: HashMap::new(),
            released: HashSet::new(),
            late: BTreeMap::new(),
            added: 0,
        }
    }
}

fn key_hash(key: &str) -> u64 {
    // SipHash with fixed keys: the same key always hashes alike within the read.
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

impl<R> Groups<R> {
    /// Adds a row of document `key`, in the order the read delivered it.
    pub(super) fn add(&mut self, key: String, row: R) {
        let at = self.added;
        self.added += 1;
        if let Some(open) = self.open.get_mut(&key) {
            open.last = at;
            open.rows.push(row);
        } else if self.released.contains(&key_hash(&key)) {
            self.late.insert(key, row);
        } else {
            self.open.insert(
                key,
                Open {
                    first: at,
                    last: at,
                    rows: vec![row],
                },
            );
        }
    }

    /// The documents no row of which came among the last [`WINDOW`] rows, in the order their
    /// first rows came: presumed whole, and released.
    pub(super) fn take_idle(&mut self) -> Vec<(String, Vec<R>)> {
        let before = self.added.saturating_sub(WINDOW);
        let idle: Vec<String> = self
            .open
            .iter()
            .filter(|(_, open)| open.last < before)
            .map(|(key, _)| key.clone())
            .collect();
        self.release(idle)
    }

    /// Every open document, at the end of the read.
    pub(super) fn take_all(&mut self) -> Vec<(String, Vec<R>)> {
        let all: Vec<String> = self.open.keys().cloned().collect();
        self.release(all)
    }

    fn release(&mut self, keys: Vec<String>) -> Vec<(String, Vec<R>)> {
        let mut groups: Vec<(u64, String, Vec<R>)> = keys
            .into_iter()
            .filter_map(|key| {
                let open = self.open.remove(&key)?;
                self.released.insert(key_hash(&key));
                Some((open.first, key, open.rows))
            })
            .collect();
        groups.sort_by_key(|(first, _, _)| *first);
        groups
            .into_iter()
            .map(|(_, key, rows)| (key, rows))
            .collect()
    }

    /// The late documents (each with its newest late row), to re-read whole; call after
    /// [`Groups::take_all`].
    pub(super) fn take_late(&mut self) -> BTreeMap<String, R> {
        std::mem::take(&mut self.late)
    }

    /// Rows held now (for tests and logs).
    #[cfg(test)]
    fn held(&self) -> usize {
        self.open.values().map(|o| o.rows.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(groups: &[(String, Vec<u32>)]) -> Vec<&str> {
        groups.iter().map(|(k, _)| k.as_str()).collect()
    }

    #[test]
    fn a_document_split_by_a_page_boundary_is_handed_on_whole_once_rows_pass_it() {
        let mut groups = Groups::default();
        // Page 1 ends inside document b.
        groups.add("a".into(), 1);
        groups.add("a".into(), 2);
        groups.add("b".into(), 3);
        assert!(groups.take_idle().is_empty(), "within the window");
        // Page 2: the rest of b, then WINDOW rows of other documents.
        groups.add("b".into(), 4);
        for i in 0..WINDOW {
            groups.add(format!("c{i}"), 5);
        }
        let idle = groups.take_idle();
        assert_eq!(keys(&idle), ["a", "b"]);
        assert_eq!(idle[1].1, [3, 4]);
        assert_eq!(groups.held(), WINDOW as usize);
        let rest = groups.take_all();
        assert_eq!(rest.len(), WINDOW as usize);
        assert_eq!(groups.held(), 0);
        assert!(groups.take_late().is_empty());
    }

    #[test]
    fn a_row_of_a_released_document_makes_it_late_with_its_newest_row() {
        let mut groups = Groups::default();
        groups.add("a".into(), 1);
        for i in 0..WINDOW {
            groups.add(format!("x{i}"), 0);
        }
        assert_eq!(keys(&groups.take_idle()), ["a"]);
        // Two lines of a edited later: they come at the end.
        groups.add("a".into(), 7);
        groups.add("a".into(), 8);
        groups.take_all();
        let late = groups.take_late();
        assert_eq!(late.len(), 1);
        assert_eq!(late["a"], 8);
    }
}
