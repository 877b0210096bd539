//! The sync engine: queues pulls, runs them through the provider, commits their records, and
//! keeps per-company cached copies that reads are served from. Reads never call the upstream.

pub mod cache;

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::clock::Clock;
use crate::connections::tokens::TokenEngine;
use crate::provider::{DataType, ProviderError, ProviderRegistry, Session};
use crate::store::{Backend, ConnectionRow, ConnectionStatus, PullOperationRow, Store, StoreError};

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
    ) -> Self {
        SyncEngine {
            inner: Arc::new(Inner {
                store,
                tokens,
                registry,
                clock,
            }),
        }
    }

    /// Gives up pulls abandoned by a server that stopped. At start-up on SQLite, which one server
    /// uses alone, that is every unfinished pull; otherwise those whose heartbeat stopped.
    pub async fn fail_abandoned_pulls(&self, at_start_up: bool) -> Result<u64, StoreError> {
        let store = &self.inner.store;
        let now = self.inner.clock.now_ms();
        let stale_before = if at_start_up && store.backend() == Backend::Sqlite {
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
        let store = &self.inner.store;
        let (connections, _) = store
            .list_connections(tenant_id, company_id, 0, 1000)
            .await?;
        let connection = connections
            .into_iter()
            .filter(|c| connection_id.is_none_or(|id| c.id == id))
            .find(|c| c.status == ConnectionStatus::Linked)
            .ok_or_else(|| {
                QueueError::NoLinkedConnection(format!(
                    "Cannot queue {} for {company_id}: the company has no Linked connection{}; send the \
                     end customer the connection's linkUrl",
                    data_type.key(),
                    connection_id.map(|id| format!(" {id}")).unwrap_or_default()
                ))
            })?;
        let enabled = store
            .get_integration_setting(tenant_id, &connection.integration_key)
            .await
            .is_ok_and(|s| s.enabled);
        if !enabled {
            return Err(QueueError::Disabled(format!(
                "Cannot queue {}: {} is disabled in the tenant's settings (its data stays readable)",
                data_type.key(),
                connection.integration_key
            )));
        }
        self.fail_abandoned_pulls(false).await?;
        // The store refuses a second running pull, whichever request or server instance asks.
        let Some(pull) = store
            .create_pull_operation(
                company_id,
                connection.id,
                data_type.key(),
                self.inner.clock.now_ms(),
            )
            .await?
        else {
            // The running pull may finish between the refused insert and this read: then queue
            // again rather than report a pull that is no longer running.
            return match store.running_pull(company_id, data_type.key()).await? {
                Some(running) => Err(QueueError::AlreadyRunning(Box::new(running))),
                None => Box::pin(self.queue(tenant_id, company_id, data_type, connection_id)).await,
            };
        };
        let engine = self.clone();
        let queued = pull.clone();
        tokio::spawn(async move { engine.run(queued, connection, data_type).await });
        Ok(pull)
    }

    /// Runs one pull to completion (or to an error status the pull operation records).
    pub async fn run(
        &self,
        pull: PullOperationRow,
        connection: ConnectionRow,
        data_type: DataType,
    ) {
        let inner = &self.inner;
        let _ = inner
            .store
            .set_pull_status(pull.id, "Fetching", 10, None, None)
            .await;
        let _heartbeat = AbortOnDrop(tokio::spawn({
            let (store, clock, id) = (inner.store.clone(), inner.clock.clone(), pull.id);
            async move {
                loop {
                    if let Err(e) = store.pull_heartbeat(id, clock.now_ms()).await {
                        tracing::warn!(error = %e, "a pull's heartbeat could not be stored");
                    }
                    tokio::time::sleep(HEARTBEAT_EVERY).await;
                }
            }
        }));
        let outcome = async {
            let provider = inner
                .registry
                .provider(&connection.integration_key)
                .ok_or_else(|| ProviderError::Unsupported(connection.integration_key.clone()))?;
            let tokens = inner.tokens.for_connection(&connection);
            let session = Session {
                integration_key: &connection.integration_key,
                upstream_company_id: connection.upstream_company.as_ref().map(|c| c.id.as_str()),
                tokens: &tokens,
            };
            provider.pull(&session, data_type).await
        }
        .await;
        let now = inner.clock.now_ms();
        match outcome {
            Ok(pulled) => {
                let count = pulled.records.len();
                let calls = pulled.upstream_calls;
                let committed = inner
                    .store
                    .commit_pull(
                        &pull,
                        crate::store::PulledRecords {
                            records: pulled.records,
                            cursor: pulled.cursor,
                            upstream_calls: i64::from(pulled.upstream_calls),
                        },
                        now,
                    )
                    .await;
                match committed {
                    Ok(counts) => tracing::info!(
                        company.id = %pull.company_id, data_type = data_type.key(), records = count,
                        upstream_calls = calls, inserted = counts.inserted, updated = counts.updated,
                        deleted = counts.deleted, "pull complete"
                    ),
                    Err(StoreError::NotFound) => tracing::warn!(
                        company.id = %pull.company_id, data_type = data_type.key(),
                        "a pull finished after it was given up as abandoned; its data was dropped"
                    ),
                    Err(e) => {
                        tracing::error!(error = %e, "a pull could not be stored");
                        let _ = inner
                            .store
                            .set_pull_status(
                                pull.id,
                                "InternalError",
                                0,
                                Some("the pulled data could not be stored"),
                                Some(now),
                            )
                            .await;
                    }
                }
            }
            Err(error) => {
                let status = match &error {
                    ProviderError::Reconnect(_) => "AuthError",
                    ProviderError::AdminAction(_) => "PermissionsError",
                    ProviderError::RetryLater { message, .. }
                        if message.contains("limit") || message.contains("429") =>
                    {
                        "RateLimitError"
                    }
                    ProviderError::Unsupported(_) => "NotSupported",
                    _ => "FetchError",
                };
                tracing::warn!(company.id = %pull.company_id, data_type = data_type.key(), status, %error, "pull failed");
                let _ = inner
                    .store
                    .set_pull_status(pull.id, status, 0, Some(&error.to_string()), Some(now))
                    .await;
            }
        }
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
