//! Persistence through sqlx: SQLite embedded by default, PostgreSQL for several instances.
//!
//! One `Store` serves both through sqlx's `Any` driver: the queries are written in the SQL the
//! two share (`$1` placeholders work in both), so the API never sees a dialect. Where the
//! dialects must differ (row locks), `Store::backend` tells which one is in use.

mod call_budget;
mod companies;
mod connections;
mod datasets;
mod key_check;
mod read_memo;
mod records;
mod settings;
mod sync_settings;
mod tenants;
mod tokens;

pub use call_budget::{
    CallBudgetRow, CallClaim, CallLimits, CallTake, DAY_MS, MINUTE_MS, ON_DEMAND_HOLD_MS,
    ObservedLimits, day_start, minute_start,
};
pub use companies::{CompanyRow, NewCompany};
pub use connections::{ConnectionErrorRow, ConnectionRow, ConnectionStatus, UpstreamCompanyRef};
pub use datasets::{CommitCounts, DatasetRow, PageRecords, PullOperationRow, PulledRecords};
pub use read_memo::{CHANGES_POLL_EVERY, CompanyDatasets, DatasetState};
pub use records::FieldColumn;
pub use settings::IntegrationSettingRow;
pub use sync_settings::SyncSettingRow;
pub use tenants::{ApiKeyRow, TenantRow};
pub use tokens::{
    LinkStateRow, LinkStateUse, MAX_LINK_STATES_PER_CONNECTION, SealedTokens, TokenRow,
};

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

/// The migrations compiled into this binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What can go wrong in the store, in terms the API can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist (or belongs to another tenant).
    #[error("not found")]
    NotFound,
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed at start-up.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

/// The database handle shared by every request. Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// What reads need, remembered (see [`read_memo`]).
    memo: Arc<read_memo::ReadMemo>,
}

impl Store {
    /// Opens the database at `url` (`sqlite://…` or `postgres://…`) and applies the migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let pool = AnyPoolOptions::new()
            // PostgreSQL counts connections across every instance; SQLite has one writer anyway.
            .max_connections(match backend {
                Backend::Postgres => 10,
                Backend::Sqlite => 5,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Wait for the writer instead of failing with SQLITE_BUSY.
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        if backend == Backend::Sqlite {
            // WAL lets readers run beside the writer; the setting is kept in the file.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        MIGRATOR.run(&pool).await?;
        Ok(Store {
            pool,
            backend,
            memo: Arc::default(),
        })
    }

    /// Which database this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that read first and writes later fails with
    /// "database is locked" when another writer (a heartbeat, a request) committed in between,
    /// where an immediate one simply waits its turn.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// SQLite: copies the write-ahead log into the database and truncates it to zero bytes
    /// (`wal_checkpoint(TRUNCATE)`), for after a pull. SQLite's automatic checkpoints (every
    /// 1,000 pages) reuse the log but never shrink it, so without this the `-wal` file stays at
    /// the size of the biggest burst of writes: a pull's pages, when readers kept a checkpoint
    /// from completing. It waits for running readers at most the busy timeout, holding up new
    /// writers meanwhile; when readers still hold it, the log stays and the next pull's
    /// checkpoint tries again. PostgreSQL: nothing to do.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let busy: i32 = sqlx::query_scalar("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&self.pool)
            .await?;
        if busy != 0 {
            tracing::debug!("readers kept the write-ahead log from being truncated");
        }
        Ok(())
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// The versions of this binary's migrations that the database has not applied
    /// successfully (empty when it is up to date): another instance may have been started
    /// with an older binary, or a migration failed half-way.
    pub async fn pending_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_all(&self.pool)
                .await?;
        Ok(MIGRATOR
            .iter()
            .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
            .map(|m| m.version)
            .collect())
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since the Unix epoch: how instants are stored.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
