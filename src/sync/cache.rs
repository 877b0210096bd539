//! What reads keep in memory between requests, bounded by bytes (`LEDGERLINE_CACHE_MAX_MIB`):
//! pages as the bytes sent (built once, then shared with every reader without a copy), single
//! records with their tags, record counts, and for queries the record ids and the values of the
//! queried fields as compact columns, with the positions each selection keeps.
//!
//! Nothing here holds a data type whole: a page or a record not cached is read from the store
//! (an indexed read of just that page), and a query reads only the fields it names. Every key
//! includes the dataset's fingerprint (from its versions, which every committed pull that
//! changed records raises), so a reader sees a new pull as soon as the store's memory of the
//! versions does; entries of older versions are never asked for again and age out. Concurrent
//! readers of something not cached share one load (moka's `try_get_with`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderValue;
use moka::future::Cache;
use uuid::Uuid;

use crate::store::{FieldColumn, StoreError};

/// The bound's default, in MiB.
pub const DEFAULT_CACHE_MAX_MIB: u64 = 256;
/// What an entry costs beyond its content: the key, moka's bookkeeping, the allocations.
const ENTRY_OVERHEAD: usize = 160;

/// One data type of one company as of one version: what every cached entry belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DatasetKey {
    pub company_id: Uuid,
    pub data_type: &'static str,
    pub fingerprint: [u8; 16],
}

/// Which part of a dataset an entry holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Part {
    /// A page's body: what decides its bytes besides the records (the list's filter
    /// parameters as the links echo them, the page number and size).
    Page {
        filter: Box<str>,
        page: u32,
        page_size: u32,
    },
    /// One record's body and tag.
    Record(Box<str>),
    /// How many records there are.
    Count,
    /// Every record's id, in order.
    Ids,
    /// The values at one property path, in id order.
    Field(Box<[String]>),
    /// The positions (in id order) a selection keeps, in its order.
    Selection(Box<str>),
}

type Key = (DatasetKey, Part);

#[derive(Debug, Clone)]
enum Entry {
    Body(Bytes),
    Tagged(Bytes, HeaderValue),
    Count(u64),
    Ids(Arc<Vec<Box<str>>>),
    Field(Arc<FieldColumn>),
    Positions(Arc<Vec<u32>>),
}

impl Entry {
    /// Bytes of memory the entry holds, roughly (never under).
    fn weight(&self) -> usize {
        match self {
            Entry::Body(bytes) => bytes.len(),
            Entry::Tagged(bytes, tag) => bytes.len() + tag.len(),
            Entry::Count(_) => 8,
            Entry::Ids(ids) => ids.iter().map(|id| id.len() + 16).sum(),
            Entry::Field(column) => column.iter().map(value_weight).sum(),
            Entry::Positions(positions) => 4 * positions.len(),
        }
    }
}

/// What one stored scalar takes in a column.
fn value_weight(value: &Option<serde_json::Value>) -> usize {
    const VALUE: usize = std::mem::size_of::<Option<serde_json::Value>>();
    match value {
        Some(serde_json::Value::String(text)) => VALUE + text.capacity(),
        _ => VALUE,
    }
}

fn key_weight((_, part): &Key) -> usize {
    match part {
        Part::Page { filter, .. } => filter.len(),
        Part::Record(id) => id.len(),
        Part::Field(path) => path.iter().map(|step| step.len() + 24).sum(),
        Part::Selection(text) => text.len(),
        Part::Count | Part::Ids => 0,
    }
}

/// How the cache has served so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups answered from memory.
    pub hits: u64,
    /// Lookups that had to load (from the store, or by computing a selection).
    pub misses: u64,
    /// Bytes held, as the bound counts them.
    pub weighted_bytes: u64,
    pub entries: u64,
    /// The bound.
    pub max_bytes: u64,
}

impl CacheStats {
    /// Hits out of every lookup (0 before any).
    pub fn hit_rate(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            0.0
        } else {
            self.hits as f64 / total as f64
        }
    }
}

/// The read cache of every company's data, bounded by bytes.
#[derive(Clone)]
pub struct DataCache {
    cache: Cache<Key, Entry>,
    max_bytes: u64,
    hits: Arc<AtomicU64>,
    misses: Arc<AtomicU64>,
}

impl std::fmt::Debug for DataCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataCache")
            .field("entries", &self.cache.entry_count())
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

/// A loader's error, shared by the readers that waited on it.
fn unshare(error: Arc<StoreError>) -> StoreError {
    match &*error {
        StoreError::NotFound => StoreError::NotFound,
        other => StoreError::Database(sqlx::Error::Protocol(other.to_string())),
    }
}

impl DataCache {
    /// A cache holding up to `max_bytes`, counted by what each entry holds.
    pub fn new(max_bytes: u64) -> Self {
        DataCache {
            cache: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &Key, entry: &Entry| {
                    (key_weight(key) + entry.weight() + ENTRY_OVERHEAD).min(u32::MAX as usize)
                        as u32
                })
                // Old versions are never asked for again; let them go.
                .time_to_idle(Duration::from_secs(15 * 60))
                .build(),
            max_bytes,
            hits: Arc::default(),
            misses: Arc::default(),
        }
    }

    /// How the cache has served, and what it holds.
    pub async fn stats(&self) -> CacheStats {
        self.cache.run_pending_tasks().await;
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            weighted_bytes: self.cache.weighted_size(),
            entries: self.cache.entry_count(),
            max_bytes: self.max_bytes,
        }
    }

    /// The cached entry, or `load`'s (one load per key at a time; a failed load is not kept).
    async fn get(
        &self,
        key: Key,
        load: impl Future<Output = Result<Entry, StoreError>>,
    ) -> Result<Entry, StoreError> {
        let entry = self
            .cache
            .entry(key)
            .or_try_insert_with(load)
            .await
            .map_err(unshare)?;
        let counter = if entry.is_fresh() {
            &self.misses
        } else {
            &self.hits
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(entry.into_value())
    }

    /// A page's body, built by `build` when not cached.
    pub async fn page(
        &self,
        dataset: &DatasetKey,
        filter: &str,
        page: u32,
        page_size: u32,
        build: impl Future<Output = Result<Bytes, StoreError>>,
    ) -> Result<Bytes, StoreError> {
        let part = Part::Page {
            filter: filter.into(),
            page,
            page_size,
        };
        match self
            .get((dataset.clone(), part), async {
                build.await.map(Entry::Body)
            })
            .await?
        {
            Entry::Body(bytes) => Ok(bytes),
            other => Err(mismatch(&other)),
        }
    }

    /// A page's body if it is cached (a hit), without building it otherwise.
    pub async fn cached_page(
        &self,
        dataset: &DatasetKey,
        filter: &str,
        page: u32,
        page_size: u32,
    ) -> Option<Bytes> {
        let part = Part::Page {
            filter: filter.into(),
            page,
            page_size,
        };
        match self.cache.get(&(dataset.clone(), part)).await {
            Some(Entry::Body(bytes)) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(bytes)
            }
            _ => None,
        }
    }

    /// One record's body and tag; `load` answers `NotFound` for an id not stored (not kept).
    pub async fn record(
        &self,
        dataset: &DatasetKey,
        id: &str,
        load: impl Future<Output = Result<(Bytes, HeaderValue), StoreError>>,
    ) -> Result<(Bytes, HeaderValue), StoreError> {
        let loaded = async { load.await.map(|(body, tag)| Entry::Tagged(body, tag)) };
        match self
            .get((dataset.clone(), Part::Record(id.into())), loaded)
            .await?
        {
            Entry::Tagged(body, tag) => Ok((body, tag)),
            other => Err(mismatch(&other)),
        }
    }

    /// How many records the dataset has.
    pub async fn count(
        &self,
        dataset: &DatasetKey,
        load: impl Future<Output = Result<u64, StoreError>>,
    ) -> Result<u64, StoreError> {
        match self
            .get((dataset.clone(), Part::Count), async {
                load.await.map(Entry::Count)
            })
            .await?
        {
            Entry::Count(n) => Ok(n),
            other => Err(mismatch(&other)),
        }
    }

    /// Every record's id in order, if cached.
    pub async fn cached_ids(&self, dataset: &DatasetKey) -> Option<Arc<Vec<Box<str>>>> {
        match self.cache.get(&(dataset.clone(), Part::Ids)).await {
            Some(Entry::Ids(ids)) => Some(ids),
            _ => None,
        }
    }

    /// The positions a selection keeps, computed by `select` when not cached.
    pub async fn selection(
        &self,
        dataset: &DatasetKey,
        selection: &str,
        select: impl Future<Output = Result<Vec<u32>, StoreError>>,
    ) -> Result<Arc<Vec<u32>>, StoreError> {
        let part = Part::Selection(selection.into());
        match self
            .get((dataset.clone(), part), async {
                select.await.map(|p| Entry::Positions(Arc::new(p)))
            })
            .await?
        {
            Entry::Positions(positions) => Ok(positions),
            other => Err(mismatch(&other)),
        }
    }

    /// The ids and the columns of `paths`, those not cached read by `load(missing paths)`,
    /// which answers the ids and the missing columns in order.
    pub async fn fields<F, Fut>(
        &self,
        dataset: &DatasetKey,
        paths: &[Vec<String>],
        load: F,
    ) -> Result<(Arc<Vec<Box<str>>>, Vec<Arc<FieldColumn>>), StoreError>
    where
        F: Fn(Vec<Vec<String>>) -> Fut,
        Fut: Future<Output = Result<(Vec<Box<str>>, Vec<FieldColumn>), StoreError>>,
    {
        let field_key = |path: &Vec<String>| {
            (
                dataset.clone(),
                Part::Field(path.clone().into_boxed_slice()),
            )
        };
        let mut columns: Vec<Option<Arc<FieldColumn>>> = Vec::with_capacity(paths.len());
        for path in paths {
            columns.push(match self.cache.get(&field_key(path)).await {
                Some(Entry::Field(column)) => Some(column),
                _ => None,
            });
        }
        let ids = self.cached_ids(dataset).await;
        let missing: Vec<Vec<String>> = paths
            .iter()
            .zip(&columns)
            .filter(|(_, column)| column.is_none())
            .map(|(path, _)| path.clone())
            .collect();
        let counter = if missing.is_empty() && ids.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let (Some(ids), true) = (&ids, missing.is_empty()) {
            let columns = columns.into_iter().map(|c| c.expect("every column cached"));
            return Ok((Arc::clone(ids), columns.collect()));
        }
        // One read of the store for the ids and every missing column.
        let (loaded_ids, loaded) = load(missing.clone()).await?;
        let cached_match = ids.as_ref().is_none_or(|ids| **ids == loaded_ids)
            && columns
                .iter()
                .flatten()
                .all(|column| column.len() == loaded_ids.len());
        if !cached_match {
            // A pull committed between the cached reads and this one: read everything again
            // from one snapshot, and keep none of it (the version is already gone).
            let (ids, columns) = load(paths.to_vec()).await?;
            return Ok((Arc::new(ids), columns.into_iter().map(Arc::new).collect()));
        }
        let ids = match ids {
            Some(ids) => ids,
            None => {
                let ids = Arc::new(loaded_ids);
                self.cache
                    .insert((dataset.clone(), Part::Ids), Entry::Ids(Arc::clone(&ids)))
                    .await;
                ids
            }
        };
        let mut loaded = missing.iter().zip(loaded);
        let mut filled = Vec::with_capacity(paths.len());
        for column in columns {
            filled.push(match column {
                Some(column) => column,
                None => {
                    let (path, column) = loaded.next().ok_or_else(|| {
                        StoreError::Database(sqlx::Error::Protocol(
                            "the store answered fewer columns than asked".into(),
                        ))
                    })?;
                    let column = Arc::new(column);
                    self.cache
                        .insert(field_key(path), Entry::Field(Arc::clone(&column)))
                        .await;
                    column
                }
            });
        }
        Ok((ids, filled))
    }
}

fn mismatch(entry: &Entry) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(format!(
        "the read cache held {entry:?} where another kind of entry belongs"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(n: u8) -> DatasetKey {
        DatasetKey {
            company_id: Uuid::from_u128(u128::from(n)),
            data_type: "invoices",
            fingerprint: [n; 16],
        }
    }

    #[tokio::test]
    async fn a_page_is_built_once_and_then_shared() {
        let cache = DataCache::new(1 << 20);
        let body = cache
            .page(&dataset(1), "", 1, 100, async {
                Ok(Bytes::from_static(b"page"))
            })
            .await
            .unwrap();
        let again = cache
            .page(&dataset(1), "", 1, 100, async { unreachable!("cached") })
            .await
            .unwrap();
        assert_eq!(body, again);
        // The same bytes, not a copy.
        assert_eq!(body.as_ptr(), again.as_ptr());
        let other_page = cache
            .page(&dataset(1), "", 2, 100, async {
                Ok(Bytes::from_static(b"two"))
            })
            .await
            .unwrap();
        assert_eq!(other_page, "two");
        let stats = cache.stats().await;
        assert_eq!((stats.hits, stats.misses), (1, 2));
    }

    #[tokio::test]
    async fn a_failed_load_is_not_kept() {
        let cache = DataCache::new(1 << 20);
        let missing = cache
            .record(&dataset(1), "x", async { Err(StoreError::NotFound) })
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound)));
        let (body, _) = cache
            .record(&dataset(1), "x", async {
                Ok((Bytes::from_static(b"{}"), HeaderValue::from_static("\"t\"")))
            })
            .await
            .unwrap();
        assert_eq!(body, "{}");
    }

    #[tokio::test]
    async fn the_bound_holds_whatever_is_cached() {
        let bound = 1 << 20;
        let cache = DataCache::new(bound);
        // 64 pages of 64 KiB: four times the bound.
        for n in 0..64u32 {
            cache
                .page(&dataset(1), "", n + 1, 100, async {
                    Ok(Bytes::from(vec![b'x'; 64 * 1024]))
                })
                .await
                .unwrap();
        }
        let column: FieldColumn = (0..20_000)
            .map(|n| Some(serde_json::Value::String(format!("text {n}"))))
            .collect();
        let weight = Entry::Field(Arc::new(column.clone())).weight();
        assert!(weight > 20_000 * 32, "a column weighs its values: {weight}");
        cache
            .fields(&dataset(2), &[vec!["name".into()]], |_| {
                let column = column.clone();
                async { Ok((vec!["a".into(); 20_000], vec![column])) }
            })
            .await
            .unwrap();
        let stats = cache.stats().await;
        assert!(
            stats.weighted_bytes <= bound,
            "{} bytes held under a bound of {bound}",
            stats.weighted_bytes
        );
        assert!(stats.entries > 0);
    }

    #[tokio::test]
    async fn fields_read_only_the_columns_not_cached() {
        let cache = DataCache::new(1 << 20);
        let path = |name: &str| vec![name.to_string()];
        let ids = || vec![Box::from("a"), Box::from("b")];
        let column = |n: i64| vec![Some(serde_json::json!(n)), None];
        let (got_ids, columns) = cache
            .fields(&dataset(1), &[path("x")], |missing| async move {
                assert_eq!(missing, [vec!["x".to_string()]]);
                Ok((ids(), vec![column(1)]))
            })
            .await
            .unwrap();
        assert_eq!(*got_ids, ids());
        assert_eq!(*columns[0], column(1));
        let (_, columns) = cache
            .fields(&dataset(1), &[path("y"), path("x")], |missing| async move {
                assert_eq!(missing, [vec!["y".to_string()]], "x is cached");
                Ok((ids(), vec![column(2)]))
            })
            .await
            .unwrap();
        assert_eq!((&*columns[0], &*columns[1]), (&column(2), &column(1)));
        let (_, columns) = cache
            .fields(&dataset(1), &[path("x"), path("y")], |_| async {
                unreachable!("all cached")
            })
            .await
            .unwrap();
        assert_eq!((&*columns[0], &*columns[1]), (&column(1), &column(2)));
    }
}
