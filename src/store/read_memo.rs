//! What every data read needs from the store, kept in memory so that a warm read makes no round
//! trip: the tenant an API key opens, the tenant that owns a company, and where each of a
//! company's data types stands (its version per connection, its last successful pull, whether a
//! pull runs).
//!
//! A change made through this store forgets the entries it touches as soon as it commits. Changes
//! made by other instances sharing the database arrive through the `read_changes` log (migration
//! 0008), which [`Store::follow_changes`] reads once a second ([`CHANGES_POLL_EVERY`]): that is
//! how stale another instance's memory may be. Nothing negative is remembered (an unknown key or
//! company always asks the database), so creating things needs no invalidation.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::future::Cache;
use sha2::{Digest, Sha256};
use sqlx::Row;
use uuid::Uuid;

use super::{Store, StoreError, TenantRow};

/// How often other instances' changes are read: the bound on how long this instance may serve
/// what another one changed.
pub const CHANGES_POLL_EVERY: Duration = Duration::from_secs(1);
/// Beyond this many changes since the last poll, forget everything instead of reading them.
const MAX_CHANGES_READ: i64 = 10_000;
/// Generations the log keeps (older ones are pruned by the pollers): far more than
/// [`MAX_CHANGES_READ`], so a poller never needs a pruned one.
const CHANGES_KEPT: i64 = 100_000;
/// A safety net: no entry is kept longer, whatever the log says.
const ENTRY_TTL: Duration = Duration::from_secs(300);
/// Entries per kind: a few hundred bytes each, so this bounds the memo to a few hundred MiB at
/// worst, far less in practice.
const MAX_ENTRIES: u64 = 200_000;

/// Something a reader may have remembered changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// An API key was revoked. Every key is forgotten: revocations are rare, and the log then
    /// never holds a key's digest.
    ApiKeys,
    /// A company was deleted.
    Company(Uuid),
    /// A company's datasets or pulls moved: a pull was queued, committed records, or ended.
    Datasets(Uuid),
    /// Pulls of any company ended (abandoned pulls given up in bulk).
    AllDatasets,
}

impl Change {
    fn kind_and_subject(&self) -> (&'static str, String) {
        match self {
            Change::ApiKeys => ("api_keys", "*".into()),
            Change::Company(id) => ("company", id.to_string()),
            Change::Datasets(id) => ("datasets", id.to_string()),
            Change::AllDatasets => ("datasets", "*".into()),
        }
    }

    fn parse(kind: &str, subject: &str) -> Option<Change> {
        match (kind, subject) {
            ("api_keys", _) => Some(Change::ApiKeys),
            ("datasets", "*") => Some(Change::AllDatasets),
            ("company", id) => Uuid::parse_str(id).ok().map(Change::Company),
            ("datasets", id) => Uuid::parse_str(id).ok().map(Change::Datasets),
            _ => None,
        }
    }
}

/// Where one data type of a company stands, as reads need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasetState {
    /// Per connection, the dataset's version (raised by every commit that changed records),
    /// ordered by connection.
    pub versions: Vec<(Uuid, i64)>,
    /// When the latest successful pull finished, on any connection: `None` until one has (then
    /// there is nothing to read yet).
    pub last_sync: Option<i64>,
    /// Whether a pull of it is queued or running.
    pub pull_running: bool,
    /// Identifies the records' content (see [`DatasetState::fingerprint_of`]).
    pub fingerprint: [u8; 16],
}

impl DatasetState {
    /// Identifies a data type's records from its versions: it changes whenever any
    /// connection's records change (and with the release, in case the served shape did), so the
    /// same value on any instance means the same records. A sum of versions would not do: two
    /// connections' versions may move apart and sum alike.
    pub fn fingerprint_of(data_type: &str, versions: &[(Uuid, i64)]) -> [u8; 16] {
        let mut digest = Sha256::new();
        digest.update(env!("CARGO_PKG_VERSION").as_bytes());
        digest.update([0]);
        digest.update(data_type.as_bytes());
        for (connection, version) in versions {
            digest.update(connection.as_bytes());
            digest.update(version.to_le_bytes());
        }
        let mut fingerprint = [0; 16];
        fingerprint.copy_from_slice(&digest.finalize()[..16]);
        fingerprint
    }
}

/// A company's data types by key (`invoices`); absent ones were never queued.
pub type CompanyDatasets = HashMap<String, DatasetState>;

/// The remembered answers, and a count of forgettings so that an answer read from the database
/// while something changed is not kept.
pub(crate) struct ReadMemo {
    tenants_by_key: Cache<String, TenantRow>,
    company_owners: Cache<Uuid, Uuid>,
    datasets: Cache<Uuid, Arc<CompanyDatasets>>,
    epoch: AtomicU64,
}

impl std::fmt::Debug for ReadMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadMemo")
            .field("keys", &self.tenants_by_key.entry_count())
            .field("companies", &self.company_owners.entry_count())
            .field("datasets", &self.datasets.entry_count())
            .finish()
    }
}

fn bounded<K, V>() -> Cache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(MAX_ENTRIES)
        .time_to_live(ENTRY_TTL)
        .build()
}

impl Default for ReadMemo {
    fn default() -> Self {
        ReadMemo {
            tenants_by_key: bounded(),
            company_owners: bounded(),
            datasets: bounded(),
            epoch: AtomicU64::new(0),
        }
    }
}

/// A loader's error, shared by the readers that waited on it.
fn unshare(error: Arc<StoreError>) -> StoreError {
    match &*error {
        StoreError::NotFound => StoreError::NotFound,
        other => StoreError::Database(sqlx::Error::Protocol(other.to_string())),
    }
}

impl ReadMemo {
    /// The remembered answer, or `load`'s (one load per key at a time), remembered unless
    /// something was forgotten meanwhile: then the answer may predate the change.
    async fn get<K, V>(
        &self,
        cache: &Cache<K, V>,
        key: K,
        load: impl Future<Output = Result<V, StoreError>>,
    ) -> Result<V, StoreError>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        if let Some(value) = cache.get(&key).await {
            return Ok(value);
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        let value = cache
            .try_get_with(key.clone(), load)
            .await
            .map_err(unshare)?;
        if self.epoch.load(Ordering::Acquire) != epoch {
            cache.invalidate(&key).await;
        }
        Ok(value)
    }

    async fn forget(&self, change: &Change) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        match change {
            Change::ApiKeys => self.tenants_by_key.invalidate_all(),
            Change::Company(id) => {
                self.company_owners.invalidate(id).await;
                self.datasets.invalidate(id).await;
            }
            Change::Datasets(id) => self.datasets.invalidate(id).await,
            Change::AllDatasets => self.datasets.invalidate_all(),
        }
    }

    fn forget_everything(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.tenants_by_key.invalidate_all();
        self.company_owners.invalidate_all();
        self.datasets.invalidate_all();
    }
}

impl Store {
    /// The tenant an API key (given by its digest) opens, remembered.
    pub async fn tenant_by_api_key(&self, key_hash: &str) -> Result<TenantRow, StoreError> {
        self.memo
            .get(
                &self.memo.tenants_by_key,
                key_hash.to_string(),
                self.tenant_by_key_hash(key_hash),
            )
            .await
    }

    /// The tenant that owns a company, remembered; `NotFound` if there is no such company.
    pub async fn company_owner(&self, company_id: Uuid) -> Result<Uuid, StoreError> {
        self.memo
            .get(&self.memo.company_owners, company_id, async move {
                Ok(self.company_by_id(company_id).await?.tenant_id)
            })
            .await
    }

    /// Where each of a company's data types stands, remembered.
    pub async fn dataset_states(
        &self,
        company_id: Uuid,
    ) -> Result<Arc<CompanyDatasets>, StoreError> {
        self.memo
            .get(&self.memo.datasets, company_id, async move {
                let mut states = CompanyDatasets::new();
                for row in self.datasets(company_id).await? {
                    let state = states.entry(row.data_type).or_default();
                    state.versions.push((row.connection_id, row.version));
                    state.last_sync = state.last_sync.max(row.last_successful_sync);
                }
                let running: Vec<String> = sqlx::query_scalar(
                    "SELECT DISTINCT data_type FROM pull_operations WHERE company_id = $1 \
                     AND status IN ('Queued', 'Fetching', 'Mapping')",
                )
                .bind(company_id.to_string())
                .fetch_all(&self.pool)
                .await?;
                for data_type in running {
                    states.entry(data_type).or_default().pull_running = true;
                }
                for (data_type, state) in &mut states {
                    state.fingerprint = DatasetState::fingerprint_of(data_type, &state.versions);
                }
                Ok(Arc::new(states))
            })
            .await
    }

    /// Logs `change` in the transaction that makes it, for other instances. Call it last before
    /// the commit: it holds the log's one counter row until then. After the commit, call
    /// [`Store::forget`] for this instance.
    pub(crate) async fn log_change(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        change: &Change,
    ) -> Result<(), sqlx::Error> {
        let (kind, subject) = change.kind_and_subject();
        sqlx::query("UPDATE read_generation SET generation = generation + 1 WHERE id = 1")
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "INSERT INTO read_changes (generation, kind, subject, changed_at) \
             SELECT generation, $1, $2, $3 FROM read_generation WHERE id = 1",
        )
        .bind(kind)
        .bind(subject)
        .bind(super::now_ms())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Forgets what a committed change touched, in this instance.
    pub(crate) async fn forget(&self, change: &Change) {
        self.memo.forget(change).await;
    }

    /// The log's latest generation.
    async fn read_generation(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT generation FROM read_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await
    }

    /// Forgets what changed in the log after generation `seen`; returns the generation now seen.
    async fn apply_changes(&self, seen: i64) -> Result<i64, sqlx::Error> {
        let latest = self.read_generation().await?;
        if latest == seen {
            return Ok(seen);
        }
        if latest - seen > MAX_CHANGES_READ || latest < seen {
            self.memo.forget_everything();
            return Ok(latest);
        }
        let rows = sqlx::query(
            "SELECT kind, subject FROM read_changes WHERE generation > $1 AND generation <= $2",
        )
        .bind(seen)
        .bind(latest)
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            let (kind, subject): (String, String) = (row.try_get(0)?, row.try_get(1)?);
            match Change::parse(&kind, &subject) {
                Some(change) => self.memo.forget(&change).await,
                // Written by a newer release: be safe.
                None => self.memo.forget_everything(),
            }
        }
        Ok(latest)
    }

    /// Follows the changes other instances log, every [`CHANGES_POLL_EVERY`], until dropped.
    /// When the database cannot be read, everything is forgotten (a revoked key must not keep
    /// working because this instance lost sight of the log) and reads ask the database again.
    pub async fn follow_changes(self) {
        let mut seen = loop {
            match self.read_generation().await {
                Ok(generation) => break generation,
                Err(_) => tokio::time::sleep(CHANGES_POLL_EVERY).await,
            }
        };
        // Anything remembered before the first read of the generation may be older than it.
        self.memo.forget_everything();
        let mut ticks = tokio::time::interval(CHANGES_POLL_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        for round in 0u64.. {
            ticks.tick().await;
            match self.apply_changes(seen).await {
                Ok(latest) => seen = latest,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the change log: forgetting cached reads");
                    self.memo.forget_everything();
                }
            }
            // Now and then (every ten minutes or so), drop what no poller needs any more.
            if round % 600 == 599
                && let Err(error) = sqlx::query("DELETE FROM read_changes WHERE generation < $1")
                    .bind(seen - CHANGES_KEPT)
                    .execute(&self.pool)
                    .await
            {
                tracing::warn!(%error, "cannot prune the change log");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_back_as_logged() {
        let company = Uuid::new_v4();
        for change in [
            Change::ApiKeys,
            Change::Company(company),
            Change::Datasets(company),
            Change::AllDatasets,
        ] {
            let (kind, subject) = change.kind_and_subject();
            assert_eq!(Change::parse(kind, &subject), Some(change));
        }
        assert_eq!(Change::parse("datasets", "not an id"), None);
    }

    #[test]
    fn the_fingerprint_moves_with_any_connections_version() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let of = |data_type, va, vb| DatasetState::fingerprint_of(data_type, &[(a, va), (b, vb)]);
        // Sums alike, contents not.
        assert_ne!(of("invoices", 2, 3), of("invoices", 3, 2));
        assert_ne!(of("invoices", 2, 3), of("bills", 2, 3));
        assert_eq!(of("invoices", 2, 3), of("invoices", 2, 3));
    }
}
