//! Background work a stopping server waits for: token refreshes (and the writes of their rotated
//! pairs) and pulls. Each is spawned through a tracker so that shutdown can wait for it.

use std::time::Duration;

use tokio_util::task::TaskTracker;

/// The trackers of one server. Cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct BackgroundTasks {
    /// Token refreshes in flight and rotated pairs waiting for the database.
    pub refreshes: TaskTracker,
    /// Pulls running.
    pub pulls: TaskTracker,
}

impl BackgroundTasks {
    /// Waits up to `grace` for every refresh and pull, saying what it waits for; returns whether
    /// everything finished in time. Nothing new may be spawned afterwards.
    pub async fn drain(&self, grace: Duration) -> bool {
        self.refreshes.close();
        self.pulls.close();
        let (refreshes, pulls) = (self.refreshes.len(), self.pulls.len());
        if refreshes + pulls == 0 {
            return true;
        }
        tracing::info!(
            refreshes,
            pulls,
            grace_secs = grace.as_secs(),
            "waiting for token refreshes to be stored and pulls to finish"
        );
        let both = async {
            self.refreshes.wait().await;
            self.pulls.wait().await;
        };
        match tokio::time::timeout(grace, both).await {
            Ok(()) => {
                tracing::info!(refreshes, pulls, "background work finished");
                true
            }
            Err(_) => {
                tracing::warn!(
                    refreshes = self.refreshes.len(),
                    pulls = self.pulls.len(),
                    "stopping with work still running after the shutdown grace; rotated tokens \
                     not stored yet stay in the unsaved-tokens file and are stored at the next start"
                );
                false
            }
        }
    }
}
