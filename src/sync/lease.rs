//! One pull run per connection at a time, whichever instance runs it: a run takes the
//! connection's lease (a row with an expiry) before it calls the upstream, renews it with its
//! heartbeat, and gives it back when done. A run of a dead instance stops renewing, so its lease
//! expires and another instance's run takes over.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use uuid::Uuid;

use crate::clock::Clock;
use crate::store::{Store, StoreError};

/// How long a lease lasts without renewal: as long as a pull's heartbeat may stay silent.
pub(super) const LEASE_MS: i64 = super::ABANDONED_AFTER_MS;
/// How often a run waiting for another run's lease asks again.
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// A connection's pull lease, held by one run.
#[derive(Debug)]
pub(super) struct PullLease {
    store: Store,
    clock: Clock,
    connection_id: Uuid,
    owner: String,
}

impl PullLease {
    /// Waits until the connection's lease is free (or expired) and takes it. `None` when the
    /// server is stopping first.
    pub(super) async fn wait_for(
        store: &Store,
        clock: &Clock,
        connection_id: Uuid,
        stopping: &AtomicBool,
    ) -> Result<Option<PullLease>, StoreError> {
        let lease = PullLease {
            store: store.clone(),
            clock: clock.clone(),
            connection_id,
            owner: Uuid::new_v4().to_string(),
        };
        let mut waited = false;
        loop {
            let now = clock.now_ms();
            if store
                .try_take_pull_lease(connection_id, &lease.owner, now, now + LEASE_MS)
                .await?
            {
                return Ok(Some(lease));
            }
            if stopping.load(Ordering::Relaxed) {
                return Ok(None);
            }
            if !waited {
                tracing::info!(%connection_id, "another pull of this connection is running; waiting for it");
                waited = true;
            }
            tokio::time::sleep(RETRY_EVERY).await;
        }
    }

    /// Keeps the lease alive; false when it expired and another run took it.
    pub(super) async fn renew(&self) -> Result<bool, StoreError> {
        self.store
            .extend_pull_lease(
                self.connection_id,
                &self.owner,
                self.clock.now_ms() + LEASE_MS,
            )
            .await
    }

    /// Renews the lease every `every`, and returns once it was lost (expired and taken over).
    pub(super) async fn renew_until_lost(&self, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            match self.renew().await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::error!(connection_id = %self.connection_id,
                        "this run's pull lease expired and another run took it over");
                    return;
                }
                // The database may be back before the lease expires.
                Err(error) => tracing::warn!(%error, "a pull lease could not be renewed"),
            }
        }
    }

    /// Gives the lease back so that a waiting run starts at once.
    pub(super) async fn release(self) {
        if let Err(error) = self
            .store
            .release_pull_lease(self.connection_id, &self.owner)
            .await
        {
            tracing::warn!(%error, connection_id = %self.connection_id,
                "a pull lease could not be released; it expires by itself");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_run_waits_for_a_live_lease_and_notices_when_its_own_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("l.db").display());
        let store = Store::connect(&url).await.unwrap();
        let clock = Clock::default();
        let connection = Uuid::new_v4();
        let stopping = AtomicBool::new(false);
        let first = PullLease::wait_for(&store, &clock, connection, &stopping)
            .await
            .unwrap()
            .unwrap();
        // A second run waits while the first holds the lease, and starts once it is released.
        let second = tokio::spawn({
            let (store, clock) = (store.clone(), clock.clone());
            async move {
                let stopping = AtomicBool::new(false);
                PullLease::wait_for(&store, &clock, connection, &stopping)
                    .await
                    .unwrap()
                    .unwrap()
            }
        });
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(!second.is_finished(), "the lease is held");
        assert!(first.renew().await.unwrap());
        first.release().await;
        let second = tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .unwrap()
            .unwrap();
        // The holder stalls past the expiry: another run takes over, and the holder notices.
        clock.advance(Duration::from_millis(LEASE_MS as u64 + 1));
        let now = clock.now_ms();
        assert!(
            store
                .try_take_pull_lease(connection, "another", now, now + LEASE_MS)
                .await
                .unwrap()
        );
        tokio::time::timeout(
            Duration::from_secs(5),
            second.renew_until_lost(Duration::from_millis(10)),
        )
        .await
        .expect("a lost lease ends the renewals");
    }
}
