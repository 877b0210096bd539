//! The time the token engine and the upstream budget reason with: the system clock, plus an
//! offset that tests move forward together with the sandbox's clock to cover hours and days.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Epoch milliseconds as people and Codat read an instant: `2024-01-31T09:15:00Z`.
pub fn iso_utc(epoch_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(epoch_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A clock shared by every part of one server. Cloning shares the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis() + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Sleeps until this clock reads `until_ms`. Checks in short steps, so a test that moves
    /// the clock forward releases the sleeper at once.
    pub async fn sleep_until(&self, until_ms: i64) {
        loop {
            let left = until_ms - self.now_ms();
            if left <= 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(left.min(200) as u64)).await;
        }
    }

    /// Sleeps `duration` of this clock's time.
    pub async fn sleep(&self, duration: Duration) {
        self.sleep_until(self.now_ms() + duration.as_millis() as i64)
            .await;
    }

    /// Moves this clock forward (tests only need forward).
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}
