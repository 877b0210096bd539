//! The sandbox's injectable clock: real (or frozen) time plus an offset the admin API moves forward.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds in one minute, the rate-limit window.
pub const MINUTE_MS: i64 = 60_000;
/// Milliseconds in one day, the daily rate-limit window (UTC days).
pub const DAY_MS: i64 = 86_400_000;

/// Where the sandbox clock starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClockStart {
    /// Follow the machine's clock (plus any advance).
    #[default]
    Real,
    /// Stand still at this UTC instant (epoch ms) until advanced: tests use it so a real minute
    /// boundary can never split a rate-limit test in two.
    Frozen(i64),
}

/// A clock that tests move forward instead of waiting (token expiry, code expiry, rate windows).
#[derive(Debug)]
pub struct Clock {
    frozen_at: Option<i64>,
    offset_ms: AtomicI64,
}

impl Clock {
    /// A clock starting as configured.
    pub fn new(start: ClockStart) -> Self {
        let frozen_at = match start {
            ClockStart::Real => None,
            ClockStart::Frozen(ms) => Some(ms),
        };
        Clock {
            frozen_at,
            offset_ms: AtomicI64::new(0),
        }
    }

    /// Sandbox time now, in UTC epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        let base = self.frozen_at.unwrap_or_else(real_now_ms);
        base + self.offset_ms.load(Ordering::SeqCst)
    }

    /// Moves sandbox time forward (never backward: tokens and windows assume monotonic time).
    pub fn advance(&self, ms: i64) -> i64 {
        self.offset_ms.fetch_add(ms.max(0), Ordering::SeqCst);
        self.now_ms()
    }

    /// Whether the clock stands still between advances.
    pub fn is_frozen(&self) -> bool {
        self.frozen_at.is_some()
    }
}

fn real_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Formats epoch ms as RFC 3339 UTC, for admin output and error texts.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_advanced() {
        let clock = Clock::new(ClockStart::Frozen(1_000));
        assert_eq!(clock.now_ms(), 1_000);
        assert_eq!(clock.advance(500), 1_500);
        assert_eq!(clock.advance(-10), 1_500, "time never goes back");
    }
}
