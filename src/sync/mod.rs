//! The sync engine: queues pulls, runs them through the provider, commits their records, and
//! keeps the bounded read cache (pages, records, query columns) that reads are served from.
//! Reads never call the upstream.

pub mod cache;
mod lease;
pub mod schedule;
mod sink;
pub mod window;

use lease::PullLease;

use sink::StoreSink;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use uuid::Uuid;

use crate::clock::Clock;
use crate::connections::tokens::TokenEngine;
use crate::provider::{
    CallPriority, DataType, ProviderError, ProviderRegistry, PullError, PullMode, Session,
    SinkError,
};
use crate::store::{Backend, ConnectionRow, ConnectionStatus, PullOperationRow, Store, StoreError};

/// Exact keeps its deleted log for two months: a cursor older than this (the last successful
/// pull's age, with a margin for short months) may have missed deletions, so the pull is full.
const INCREMENTAL_FOR_MS: i64 = 55 * 24 * 3600 * 1000;

/// How often a running pull tells the database it is alive.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(15);
/// A pull silent for this long was abandoned by a server that stopped: any instance may give it
/// up and queue a new one.
const ABANDONED_AFTER_MS: i64 = 90_000;

/// Why a pull could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The company has no linked connection (or not the one asked for) to pull from.
    #[error("{0}")]
    NoLinkedConnection(String),
    /// The connection's integration is switched off in the tenant's settings.
    #[error("{0}")]
    Disabled(String),
    /// A pull of this data type is already running: this one. Queueing is idempotent, so
    /// callers answer with it as Codat does.
    #[error("a pull of {} is already running: {}", .0.data_type, .0.id)]
    AlreadyRunning(Box<PullOperationRow>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a pull is queued: whose work it is, and whether it must read everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueOptions {
    /// On-demand work may spend the daily reserve and goes before scheduled work.
    pub priority: CallPriority,
    /// Read every record even when a stored cursor could resume (the caller asked for it):
    /// records the upstream no longer returns are then flagged deleted, which catches
    /// deletions its change log has forgotten (Exact keeps it two months).
    pub full: bool,
}

/// Queues and runs pulls. Cloning shares it.
#[derive(Clone)]
pub struct SyncEngine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    tokens: TokenEngine,
    registry: ProviderRegistry,
    clock: Clock,
    /// Set on shutdown: running pulls stop after the page they are storing.
    stopping: Arc<AtomicBool>,
    tasks: crate::tasks::BackgroundTasks,
}

impl std::fmt::Debug for SyncEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SyncEngine")
    }
}

impl SyncEngine {
    pub fn new(
        store: Store,
        tokens: TokenEngine,
        registry: ProviderRegistry,
        clock: Clock,
        tasks: crate::tasks::BackgroundTasks,
    ) -> Self {
        SyncEngine {
            inner: Arc::new(Inner {
                store,
                tokens,
                registry,
                clock,
                stopping: Arc::new(AtomicBool::new(false)),
                tasks,
            }),
        }
    }

    /// Gives up pulls abandoned by a server that stopped. At start-up on SQLite, which one server
    /// uses alone, that is every unfinished pull; otherwise those whose heartbeat stopped.
    pub async fn fail_abandoned_pulls(&self, at_start_up: bool) -> Result<u64, StoreError> {
        let store = &self.inner.store;
        let now = self.inner.clock.now_ms();
        let stale_before = if at_start_up && store.backend() == Backend::Sqlite {
            // The last process's connection leases went with it: don't make new runs wait
            // for them to expire.
            store.release_all_pull_leases().await?;
            i64::MAX
        } else {
            now - ABANDONED_AFTER_MS
        };
        store.fail_abandoned_pulls(now, stale_before).await
    }

    /// Queues a pull of `data_type` from one of the company's linked connections (the given
    /// one, or the first linked) and starts it in the background.
    pub async fn queue(
        &self,
        tenant_id: Uuid,
        company_id: Uuid,
        data_type: DataType,
        connection_id: Option<Uuid>,
    ) -> Result<PullOperationRow, QueueError> {
        self.queue_with(
            tenant_id,
            company_id,
            data_type,
            connection_id,
            QueueOptions::default(),
        )
        .await
    }

    /// [`SyncEngine::queue`] with options (a full pull on request). A pull of the data type
    /// already running is returned as it is, whatever its mode.
    pub async fn queue_with(
        &self,
        tenant_id: Uuid,
        company_id: Uuid,
        data_type: DataType,
        connection_id: Option<Uuid>,
        options: QueueOptions,
    ) -> Result<PullOperationRow, QueueError> {
        let queued = self
            .queue_many_with(tenant_id, company_id, &[data_type], connection_id, options)
            .await?;
        match queued.into_iter().next() {
            Some(pull) => Ok(pull),
            // The running pull may finish between the refused insert and this read: then queue
            // again rather than report a pull that is no longer running.
            None => match self
                .inner
                .store
                .running_pull(company_id, data_type.key())
                .await?
            {
                Some(running) => Err(QueueError::AlreadyRunning(Box::new(running))),
                None => {
                    Box::pin(self.queue_with(
                        tenant_id,
                        company_id,
                        data_type,
                        connection_id,
                        options,
                    ))
                    .await
                }
            },
        }
    }

    /// Queues pulls of several data types from one linked connection and runs them as one pull
    /// run, in pull order, so that data types read from the same upstream source share its
    /// reads. Data types already being pulled are left to that pull; returns the queued ones.
    /// The pulls are on-demand work: they may spend the daily reserve of the upstream budget.
    pub async fn queue_many(
        &self,
        tenant_id: Uuid,
        company_id: Uuid,
        data_types: &[DataType],
        connection_id: Option<Uuid>,
    ) -> Result<Vec<PullOperationRow>, QueueError> {
        self.queue_many_as(
            tenant_id,
            company_id,
            data_types,
            connection_id,
            CallPriority::OnDemand,
        )
        .await
    }

    /// [`SyncEngine::queue_many`] for work of the given priority: a scheduler queues with
    /// [`CallPriority::Scheduled`], so its pulls stop at the share of each division's daily
    /// budget kept for on-demand pulls (`--on-demand-reserve`).
    pub async fn queue_many_as(
        &self,
        tenant_id: Uuid,
        company_id: Uuid,
        data_types: &[DataType],
        connection_id: Option<Uuid>,
        priority: CallPriority,
    ) -> Result<Vec<PullOperationRow>, QueueError> {
        let options = QueueOptions {
            priority,
            full: false,
        };
        self.queue_many_with(tenant_id, company_id, data_types, connection_id, options)
            .await
    }

    /// [`SyncEngine::queue_many`] with options: the priority, and a full pull on request.
    pub async fn queue_many_with(
        &self,
        tenant_id: Uuid,
        company_id: Uuid,
        data_types: &[DataType],
        connection_id: Option<Uuid>,
        options: QueueOptions,
    ) -> Result<Vec<PullOperationRow>, QueueError> {
        let store = &self.inner.store;
        let what = data_types
            .iter()
            .map(|d| d.key())
            .collect::<Vec<_>>()
            .join(", ");
        let (connections, _) = store
            .list_connections(tenant_id, company_id, 0, 1000)
            .await?;
        let connection = connections
            .into_iter()
            .filter(|c| connection_id.is_none_or(|id| c.id == id))
            .find(|c| c.status == ConnectionStatus::Linked)
            .ok_or_else(|| {
                QueueError::NoLinkedConnection(format!(
                    "Cannot queue {what} for {company_id}: the company has no Linked connection{}; send the \
                     end customer the connection's linkUrl",
                    connection_id.map(|id| format!(" {id}")).unwrap_or_default()
                ))
            })?;
        let enabled = store
            .get_integration_setting(tenant_id, &connection.integration_key)
            .await
            .is_ok_and(|s| s.enabled);
        if !enabled {
            return Err(QueueError::Disabled(format!(
                "Cannot queue {what}: {} is disabled in the tenant's settings (its data stays readable)",
                connection.integration_key
            )));
        }
        self.fail_abandoned_pulls(false).await?;
        let mut ordered = data_types.to_vec();
        ordered.sort_by_key(|d| (d.spec().pull_order, *d));
        ordered.dedup();
        let mut queued = Vec::new();
        for data_type in ordered {
            // The store refuses a second running pull, whichever request or server instance asks.
            if let Some(pull) = store
                .create_pull_operation(
                    company_id,
                    connection.id,
                    data_type.key(),
                    self.inner.clock.now_ms(),
                )
                .await?
            {
                queued.push(pull);
            }
        }
        if !queued.is_empty() {
            let engine = self.clone();
            let run = queued.clone();
            // Through the tracker, so that a stopping server waits for the pull's current commit.
            self.inner
                .tasks
                .pulls
                .spawn(async move { engine.run(run, connection, options).await });
        }
        Ok(queued)
    }

    /// How much of each data type to pull from `connection`: since its stored cursor when an
    /// earlier pull of it completed, the cursor is younger than the upstream's deleted log and
    /// the provider can resume from it; otherwise in full (first link, old or foreign cursor,
    /// a full pull asked for, or one that began and never completed).
    async fn pull_modes(
        &self,
        connection: &ConnectionRow,
        data_types: &[DataType],
        full: bool,
    ) -> Result<Vec<PullMode>, StoreError> {
        if full {
            return Ok(vec![PullMode::Full; data_types.len()]);
        }
        let inner = &self.inner;
        let provider = inner.registry.provider(&connection.integration_key);
        let datasets = inner.store.datasets(connection.company_id).await?;
        let now = inner.clock.now_ms();
        Ok(data_types
            .iter()
            .map(|data_type| {
                let dataset = datasets
                    .iter()
                    .find(|d| d.connection_id == connection.id && d.data_type == data_type.key());
                // A full pull cut short must be finished in full: its pages may have stored a
                // new cursor, but only its end flags what it never saw as deleted.
                let resumable = dataset.filter(|d| !d.full_pull_pending).and_then(|d| {
                    let fresh = d
                        .last_successful_sync
                        .is_some_and(|at| now - at < INCREMENTAL_FOR_MS);
                    d.cursor.clone().filter(|_| fresh)
                });
                match (resumable, &provider) {
                    (Some(cursor), Some(provider))
                        if provider.can_pull_since(*data_type, &cursor) =>
                    {
                        PullMode::Since(cursor)
                    }
                    _ => PullMode::Full,
                }
            })
            .collect())
    }

    /// Runs queued pulls of one connection to completion (or to the error status each pull
    /// operation records), each data type since its cursor or in full (see [`Self::pull_modes`])
    /// at the options' priority. The run first takes the connection's pull lease, so that one
    /// run at a time, on any instance, pulls a connection; its pulls stay `Queued` (and
    /// heartbeating) while another run holds it.
    async fn run(
        &self,
        pulls: Vec<PullOperationRow>,
        connection: ConnectionRow,
        options: QueueOptions,
    ) {
        let inner = &self.inner;
        let sink = StoreSink::new(
            inner.store.clone(),
            inner.clock.clone(),
            inner.stopping.clone(),
        );
        let _heartbeat = AbortOnDrop(tokio::spawn({
            let (store, clock) = (inner.store.clone(), inner.clock.clone());
            let ids: Vec<Uuid> = pulls.iter().map(|p| p.id).collect();
            async move {
                loop {
                    for id in &ids {
                        if let Err(e) = store.pull_heartbeat(*id, clock.now_ms()).await {
                            tracing::warn!(error = %e, "a pull's heartbeat could not be stored");
                        }
                    }
                    tokio::time::sleep(HEARTBEAT_EVERY).await;
                }
            }
        }));
        let lease = match PullLease::wait_for(
            &inner.store,
            &inner.clock,
            connection.id,
            &inner.stopping,
        )
        .await
        {
            Ok(Some(lease)) => lease,
            // Stopping: the queued pulls are given up like any a stop cut off.
            Ok(None) => return,
            Err(e) => {
                tracing::error!(error = %e, connection.id = %connection.id, "a pull lease could not be taken");
                for pull in &pulls {
                    sink.fail(
                        pull,
                        "InternalError",
                        "the database could not be reached to start the pull; queue it again",
                    )
                    .await;
                }
                return;
            }
        };
        self.run_leased(pulls, &connection, options, sink, &lease)
            .await;
        lease.release().await;
    }

    /// The body of a run that holds the connection's lease.
    async fn run_leased(
        &self,
        pulls: Vec<PullOperationRow>,
        connection: &ConnectionRow,
        options: QueueOptions,
        mut sink: StoreSink,
        lease: &PullLease,
    ) {
        let inner = &self.inner;
        // Full or since the stored cursor, decided once the lease is held: a run that waited
        // for another one starts from where that one left the cursors.
        let data_types: Vec<DataType> = pulls
            .iter()
            .filter_map(|p| DataType::from_key(&p.data_type))
            .collect();
        let modes = match self.pull_modes(connection, &data_types, options.full).await {
            Ok(modes) => modes,
            Err(e) => {
                // Unknown state: a full pull is always correct, only dearer.
                tracing::warn!(error = %e, "stored cursors could not be read; pulling in full");
                vec![PullMode::Full; data_types.len()]
            }
        };
        let mut modes = data_types.into_iter().zip(modes);
        let settings = match inner.store.sync_settings(connection.tenant_id).await {
            Ok(settings) => settings,
            Err(e) => {
                // Storing more history than asked is the safe side of a failed read.
                tracing::warn!(error = %e, "sync settings could not be read; storing all history");
                Vec::new()
            }
        };
        let now = inner.clock.now_ms();
        let mut request = Vec::new();
        for pull in pulls {
            let Some(data_type) = DataType::from_key(&pull.data_type) else {
                sink.fail(&pull, "NotSupported", "this data type is not served")
                    .await;
                continue;
            };
            if let Err(e) = inner
                .store
                .set_pull_status(pull.id, "Fetching", 10, None, None)
                .await
            {
                tracing::error!(error = %e, pull.id = %pull.id, "a pull could not be started");
                continue;
            }
            let mode = modes
                .find(|(d, _)| *d == data_type)
                .map_or(PullMode::Full, |(_, mode)| mode);
            let sync_from = settings
                .iter()
                .find(|s| s.data_type == data_type.key())
                .and_then(|setting| window::sync_from(data_type, setting, now));
            if mode == PullMode::Full
                && let Err(e) = inner.store.begin_full_pull(&pull).await
            {
                // Without the mark, a pull cut short might resume incrementally and never flag
                // what is gone: don't start it.
                tracing::error!(error = %e, pull.id = %pull.id, "a full pull could not be marked begun");
                sink.fail(
                    &pull,
                    "InternalError",
                    "the database could not be reached to start the pull; queue it again",
                )
                .await;
                continue;
            }
            sink.expect(data_type, pull, mode == PullMode::Full, sync_from);
            request.push((data_type, mode));
        }
        if request.is_empty() {
            return;
        }
        let outcome = async {
            let provider = inner
                .registry
                .provider(&connection.integration_key)
                .ok_or_else(|| ProviderError::Unsupported(connection.integration_key.clone()))?;
            let tokens = inner.tokens.for_connection(connection);
            let session = Session {
                integration_key: &connection.integration_key,
                upstream_company_id: connection.upstream_company.as_ref().map(|c| c.id.as_str()),
                tokens: &tokens,
                priority: options.priority,
            };
            // A run whose lease another instance took over (its renewals failed for longer
            // than the lease lasts) stops, so that two runs never pull the connection at once.
            tokio::select! {
                outcome = provider.pull(&session, &request, &mut sink) => outcome,
                () = lease.renew_until_lost(HEARTBEAT_EVERY) => Err(PullError::Sink(SinkError::Store(
                    "this server's pull lease on the connection expired and another server's \
                     pull took over"
                        .into(),
                ))),
            }
        }
        .await;
        match outcome {
            Ok(()) => sink.finish_all().await,
            Err(error) => sink.fail_all(&error).await,
        }
        // The run's pages went through SQLite's write-ahead log: fold it into the database and
        // truncate it, rather than leave a file the size of the biggest run's writes.
        if let Err(e) = inner.store.checkpoint().await {
            tracing::warn!(error = %e, "the write-ahead log could not be checkpointed after a pull");
        }
    }

    /// Asks running pulls to stop once the page they are storing is committed (shutdown).
    pub fn stop_pulls(&self) {
        self.inner.stopping.store(true, Ordering::Relaxed);
    }

    /// Waits until a pull has finished, for callers that need the data now (the demo, tests).
    pub async fn wait(
        &self,
        company_id: Uuid,
        pull_id: Uuid,
    ) -> Result<PullOperationRow, StoreError> {
        loop {
            let pull = self
                .inner
                .store
                .get_pull_operation(company_id, pull_id)
                .await?;
            if !matches!(pull.status.as_str(), "Queued" | "Fetching" | "Mapping") {
                return Ok(pull);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Stops a background task when its owner is done with it, however the owner ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
