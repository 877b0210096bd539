//! The store as a pull run's [`PageSink`]: each page commits on arrival (records, deletions,
//! cursor and counters in one transaction), and when the provider is done each pull operation
//! completes — a full pull flagging what it never saw as deleted — or fails with a status that
//! says why in Codat's words.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use async_trait::async_trait;

use crate::clock::{Clock, iso_utc};
use crate::provider::{
    DataType, PageSink, ProviderError, PullError, PulledPage, RetryKind, SinkError,
};
use crate::store::{CommitCounts, PageRecords, PullOperationRow, Store, StoreError};

const DAY_MS: i64 = 86_400_000;

/// One pull operation of the run, while its pages arrive.
struct OpenPull {
    pull: PullOperationRow,
    /// Every id delivered, for a full pull: what is missing at the end was deleted upstream.
    seen: Option<HashSet<String>>,
    /// Records modified upstream before this instant (epoch ms) are not stored: the tenant's
    /// `syncFromUtc`/`syncFromWindow` (see [`super::window`]).
    sync_from: Option<i64>,
    counts: CommitCounts,
    pages: u32,
    upstream_calls: u32,
    /// When the run began expecting it, for the pull duration `/metrics` shows.
    started: Instant,
}

impl OpenPull {
    /// Records read so far, stored or found unchanged.
    fn records(&self) -> u64 {
        (self.counts.inserted + self.counts.updated + self.counts.unchanged) as u64
    }
}

pub(super) struct StoreSink {
    store: Store,
    clock: Clock,
    /// Set when the server shuts down: the page being stored completes, then the run stops.
    stopping: Arc<AtomicBool>,
    open: BTreeMap<DataType, OpenPull>,
}

impl StoreSink {
    pub(super) fn new(store: Store, clock: Clock, stopping: Arc<AtomicBool>) -> Self {
        StoreSink {
            store,
            clock,
            stopping,
            open: BTreeMap::new(),
        }
    }

    /// Expects pages of `data_type` for `pull`; `full` when absence at the end means deletion;
    /// records modified upstream before `sync_from` are left out.
    pub(super) fn expect(
        &mut self,
        data_type: DataType,
        pull: PullOperationRow,
        full: bool,
        sync_from: Option<i64>,
    ) {
        self.open.insert(
            data_type,
            OpenPull {
                pull,
                seen: full.then(HashSet::new),
                sync_from,
                counts: CommitCounts::default(),
                pages: 0,
                upstream_calls: 0,
                started: Instant::now(),
            },
        );
    }

    /// Ends one pull operation in an error status, logging if even that cannot be stored.
    pub(super) async fn fail(&self, pull: &PullOperationRow, status: &str, message: &str) {
        crate::telemetry::pull_ended(&pull.data_type, status);
        let now = self.clock.now_ms();
        if let Err(e) = self
            .store
            .set_pull_status(pull.id, status, 0, Some(message), Some(now))
            .await
        {
            tracing::error!(error = %e, pull.id = %pull.id, status, "a failed pull's status could not be stored");
        }
    }

    /// Completes every pull of the run: the provider delivered all their pages.
    pub(super) async fn finish_all(self) {
        let now = self.clock.now_ms();
        for (data_type, open) in &self.open {
            match self
                .store
                .finish_pull(&open.pull, open.seen.as_ref(), now)
                .await
            {
                Ok(finished) => {
                    crate::telemetry::pull_ended(data_type.key(), "Complete");
                    crate::telemetry::pull_measured(
                        data_type.key(),
                        "Complete",
                        open.started.elapsed(),
                        open.records(),
                    );
                    tracing::info!(
                        company.id = %open.pull.company_id, data_type = data_type.key(),
                        pages = open.pages, upstream_calls = open.upstream_calls,
                        inserted = open.counts.inserted, updated = open.counts.updated,
                        unchanged = open.counts.unchanged,
                        deleted = open.counts.deleted + finished.deleted, "pull complete"
                    )
                }
                Err(StoreError::NotFound) => tracing::warn!(
                    company.id = %open.pull.company_id, data_type = data_type.key(),
                    "a pull finished after it was given up as abandoned; it was not completed"
                ),
                Err(e) => {
                    tracing::error!(error = %e, data_type = data_type.key(), "a pull could not be completed");
                    self.fail(
                        &open.pull,
                        "InternalError",
                        "the pulled data could not be stored",
                    )
                    .await;
                }
            }
        }
    }

    /// Ends every pull of the run with the status that says why the run stopped.
    pub(super) async fn fail_all(self, error: &PullError) {
        let (status, message) = status_of(error, self.clock.now_ms());
        for (data_type, open) in &self.open {
            tracing::warn!(
                company.id = %open.pull.company_id, data_type = data_type.key(), status,
                pages_stored = open.pages, %error, "pull failed"
            );
            crate::telemetry::pull_measured(
                data_type.key(),
                status,
                open.started.elapsed(),
                open.records(),
            );
            self.fail(&open.pull, status, &message).await;
        }
    }
}

/// Codat's DatasetStatus for a pull that ended early, and the message that goes with it.
fn status_of(error: &PullError, now_ms: i64) -> (&'static str, String) {
    let status = match error {
        PullError::Provider(ProviderError::Reconnect(_)) => "AuthError",
        PullError::Provider(ProviderError::AdminAction(_)) => "PermissionsError",
        PullError::Provider(ProviderError::RetryLater { kind, .. }) if kind.is_limit() => {
            "RateLimitError"
        }
        PullError::Provider(ProviderError::Unsupported(_)) => "NotSupported",
        PullError::Provider(_) => "FetchError",
        // Not the upstream's fault: say so rather than blame the fetch.
        PullError::Sink(_) => "InternalError",
    };
    let message = match error {
        PullError::Sink(SinkError::Stopped) => {
            "The server stopped during this pull; the pages before it are stored. Queue it again."
                .to_string()
        }
        PullError::Provider(ProviderError::Reconnect(why)) => format!(
            "The end customer must reconnect: their consent at the upstream no longer works \
             ({why}). Send them the connection's linkUrl; pulls resume once they have linked again."
        ),
        PullError::Provider(ProviderError::RetryLater {
            kind,
            after,
            message: detail,
        }) if kind.is_limit() => {
            let (which, resume) = match kind {
                RetryKind::DayLimit => (
                    "daily",
                    // Exact's day limit resets at midnight UTC.
                    after.map_or_else(
                        || (now_ms.div_euclid(DAY_MS) + 1) * DAY_MS,
                        |wait| now_ms + wait.as_millis() as i64,
                    ),
                ),
                _ => (
                    "per-minute",
                    now_ms + after.map_or(60_000, |wait| wait.as_millis() as i64),
                ),
            };
            format!(
                "The upstream's {which} call limit for this company is spent; pulls can resume \
                 at {} ({detail}). The pages before it are stored; queue it again then (or let \
                 the schedule do it).",
                iso_utc(resume)
            )
        }
        other => other.to_string(),
    };
    (status, message)
}

#[async_trait]
impl PageSink for StoreSink {
    async fn page(&mut self, mut page: PulledPage) -> Result<(), SinkError> {
        let Some(open) = self.open.get_mut(&page.data_type) else {
            // A provider reading a shared source may offer more than was asked: not ours to store.
            return Ok(());
        };
        if let Some(from) = open.sync_from {
            // Before the window: not stored, and flagged deleted if an earlier pull stored it.
            let (kept, before): (Vec<_>, Vec<_>) = std::mem::take(&mut page.upserts)
                .into_iter()
                .partition(|(_, record)| super::window::within(record, from));
            page.upserts = kept;
            page.deleted.extend(before.into_iter().map(|(id, _)| id));
        }
        if page.read_in_full && open.seen.is_none() {
            // Asked for changes, read in full: absence at the end means deletion after all.
            open.seen = Some(HashSet::new());
        }
        if let Some(seen) = &mut open.seen {
            seen.extend(page.upserts.iter().map(|(id, _)| id.clone()));
        }
        let calls = page.upstream_calls;
        // Pages arrive without a known total: creep towards 90 %, the rest is completion.
        let pages = open.pages + 1;
        let progress = 10 + (80 * pages / (pages + 4)) as i32;
        let counts = self
            .store
            .commit_page(
                &open.pull,
                PageRecords {
                    upserts: page.upserts,
                    deleted: page.deleted,
                    keys: page.keys,
                    cursor: page.cursor,
                    upstream_calls: i64::from(calls),
                    progress,
                    full: open.seen.is_some(),
                },
                self.clock.now_ms(),
            )
            .await
            .map_err(|e| match e {
                StoreError::NotFound => {
                    SinkError::Store("the pull was given up as abandoned meanwhile".into())
                }
                other => SinkError::Store(other.to_string()),
            })?;
        open.pages = pages;
        open.upstream_calls += calls;
        open.counts.inserted += counts.inserted;
        open.counts.updated += counts.updated;
        open.counts.unchanged += counts.unchanged;
        open.counts.deleted += counts.deleted;
        if self.stopping.load(Ordering::Relaxed) {
            return Err(SinkError::Stopped);
        }
        Ok(())
    }

    async fn stored_ids(
        &mut self,
        data_type: DataType,
        keys: &[String],
    ) -> Result<Vec<(String, String)>, SinkError> {
        let Some(open) = self.open.get(&data_type) else {
            return Ok(Vec::new());
        };
        self.store
            .record_ids_by_keys(
                open.pull.company_id,
                open.pull.connection_id,
                data_type.key(),
                keys,
            )
            .await
            .map_err(|e| SinkError::Store(e.to_string()))
    }
}

#[cfg(test)]
#[path = "sink_tests.rs"]
mod tests;
