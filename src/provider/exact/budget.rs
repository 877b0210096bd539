//! Exact's call budget per (region, division): 60 calls in each clock-aligned minute and
//! 5,000 per UTC day, corrected by the `X-RateLimit-*` headers of every answer.
//!
//! Exact's reset headers are believed only within bounds: a clock minute never makes a call wait
//! more than [`MAX_MINUTE_WAIT_MS`], a day never past the next UTC midnight. A clock skewed by
//! hours (ours or Exact's) would otherwise park a pull for hours.
//!
//! A token-bucket limiter (governor) would allow a burst of 60 and then one a second, which
//! can put more than 60 calls in one clock minute: Exact counts per clock-aligned window, so
//! this counts the same way.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use reqwest::header::HeaderMap;

use crate::clock::{Clock, iso_utc};
use crate::provider::{ProviderError, RetryKind};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
/// The longest wait a minute window may impose: one clock minute and a second of slack.
pub const MAX_MINUTE_WAIT_MS: i64 = 61_000;

/// The next UTC midnight after `now` (epoch ms): when Exact's daily window resets.
fn next_utc_midnight(now: i64) -> i64 {
    now - now.rem_euclid(DAY_MS) + DAY_MS
}

/// A minutely reset as Exact gave it, but never further away than [`MAX_MINUTE_WAIT_MS`].
fn capped_minute_reset(now: i64, reset: i64) -> i64 {
    reset.min(now + MAX_MINUTE_WAIT_MS)
}

/// A daily reset as Exact gave it, but never past the next UTC midnight.
fn capped_day_reset(now: i64, reset: i64) -> i64 {
    reset.min(next_utc_midnight(now))
}

/// The daily limit is spent: come back at `until` (epoch ms).
fn day_limit_spent(limit: u32, now: i64, until: i64) -> ProviderError {
    ProviderError::RetryLater {
        kind: RetryKind::DayLimit,
        message: format!(
            "Exact's daily limit of {limit} calls for this company is spent; calls resume at {}",
            iso_utc(until)
        ),
        after: Some(Duration::from_millis((until - now).max(0) as u64)),
    }
}

/// Whose budget a call spends: Exact counts per app and division; one Ledgerline tenant app
/// per region, so (integration key, division) names it within one server.
pub type BudgetKey = (String, String);

#[derive(Debug, Clone)]
struct Windows {
    minute_start: i64,
    minute_used: u32,
    minute_limit: u32,
    day_start: i64,
    day_used: u32,
    day_limit: u32,
    /// Exact said "no more until" (a 429 or remaining = 0).
    minute_blocked_until: i64,
    day_blocked_until: i64,
}

/// Counts calls per key and makes callers wait for the next window instead of earning a 429.
#[derive(Debug)]
pub struct CallBudget {
    clock: Clock,
    per_minute: u32,
    per_day: u32,
    windows: Mutex<HashMap<BudgetKey, Windows>>,
}

/// What the budget decided for one call.
enum Decision {
    Go,
    WaitUntil(i64),
}

impl CallBudget {
    pub fn new(clock: Clock, per_minute: u32, per_day: u32) -> Self {
        CallBudget {
            clock,
            per_minute,
            per_day,
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn fresh(&self, now: i64) -> Windows {
        Windows {
            minute_start: now - now.rem_euclid(MINUTE_MS),
            minute_used: 0,
            minute_limit: self.per_minute,
            day_start: now - now.rem_euclid(DAY_MS),
            day_used: 0,
            day_limit: self.per_day,
            minute_blocked_until: 0,
            day_blocked_until: 0,
        }
    }

    fn roll(w: &mut Windows, now: i64) {
        let minute_start = now - now.rem_euclid(MINUTE_MS);
        if minute_start != w.minute_start {
            w.minute_start = minute_start;
            w.minute_used = 0;
        }
        let day_start = now - now.rem_euclid(DAY_MS);
        if day_start != w.day_start {
            w.day_start = day_start;
            w.day_used = 0;
        }
    }

    fn decide(&self, key: &BudgetKey) -> Result<Decision, ProviderError> {
        let now = self.clock.now_ms();
        let mut all = self.windows.lock();
        let w = all.entry(key.clone()).or_insert_with(|| self.fresh(now));
        Self::roll(w, now);
        if w.day_used >= w.day_limit || w.day_blocked_until > now {
            let until = capped_day_reset(now, w.day_blocked_until.max(w.day_start + DAY_MS));
            return Err(day_limit_spent(w.day_limit, now, until));
        }
        if w.minute_used >= w.minute_limit || w.minute_blocked_until > now {
            let until = w.minute_blocked_until.max(w.minute_start + MINUTE_MS);
            return Ok(Decision::WaitUntil(until));
        }
        w.minute_used += 1;
        w.day_used += 1;
        Ok(Decision::Go)
    }

    /// Spends one call, waiting for the next minute window if this one is used up.
    /// Fails at once when the day's budget is spent.
    pub async fn acquire(&self, key: &BudgetKey) -> Result<(), ProviderError> {
        loop {
            match self.decide(key)? {
                Decision::Go => return Ok(()),
                Decision::WaitUntil(until) => {
                    tracing::debug!(
                        division = %key.1,
                        wait_ms = until - self.clock.now_ms(),
                        "waiting for Exact's next minute window"
                    );
                    self.clock.sleep_until(until + 50).await;
                }
            }
        }
    }

    /// Adopts what Exact says about the windows: its counts win over ours when higher.
    pub fn observe(&self, key: &BudgetKey, headers: &HeaderMap) {
        let header = |name: &str| -> Option<i64> {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
        };
        let now = self.clock.now_ms();
        let mut all = self.windows.lock();
        let w = all.entry(key.clone()).or_insert_with(|| self.fresh(now));
        Self::roll(w, now);
        if let (Some(limit), Some(remaining)) = (
            header("X-RateLimit-Minutely-Limit"),
            header("X-RateLimit-Minutely-Remaining"),
        ) {
            w.minute_limit = limit.clamp(1, u32::MAX as i64) as u32;
            let used = (limit - remaining).clamp(0, u32::MAX as i64) as u32;
            w.minute_used = w.minute_used.max(used);
            if remaining <= 0 {
                let reset =
                    header("X-RateLimit-Minutely-Reset").unwrap_or(w.minute_start + MINUTE_MS);
                w.minute_blocked_until =
                    w.minute_blocked_until.max(capped_minute_reset(now, reset));
            }
        }
        if let (Some(limit), Some(remaining)) =
            (header("X-RateLimit-Limit"), header("X-RateLimit-Remaining"))
        {
            w.day_limit = limit.clamp(1, u32::MAX as i64) as u32;
            let used = (limit - remaining).clamp(0, u32::MAX as i64) as u32;
            w.day_used = w.day_used.max(used);
            if remaining <= 0 {
                let reset = header("X-RateLimit-Reset").unwrap_or(w.day_start + DAY_MS);
                w.day_blocked_until = w.day_blocked_until.max(capped_day_reset(now, reset));
            }
        }
    }

    /// After a 429: blocks the exceeded window until the reset its headers give (or the next
    /// window when they give none, and never beyond the caps) and returns how long to wait. A
    /// wait longer than a minute window is not slept: it is a `DayLimit` error with the time
    /// calls resume.
    pub fn on_too_many_requests(
        &self,
        key: &BudgetKey,
        headers: &HeaderMap,
    ) -> Result<Duration, ProviderError> {
        self.observe(key, headers);
        let now = self.clock.now_ms();
        let mut all = self.windows.lock();
        let w = all.entry(key.clone()).or_insert_with(|| self.fresh(now));
        let daily = headers.contains_key("X-RateLimit-Reset")
            && !headers.contains_key("X-RateLimit-Minutely-Reset");
        let until = if daily {
            w.day_blocked_until.max(now + 1000)
        } else {
            let until = w.minute_blocked_until.max(w.minute_start + MINUTE_MS);
            w.minute_blocked_until = until;
            until
        };
        if until - now > MAX_MINUTE_WAIT_MS {
            return Err(day_limit_spent(w.day_limit, now, until));
        }
        Ok(Duration::from_millis((until - now).max(0) as u64 + 50))
    }

    /// The clock the budget counts with.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Calls left today and the day's limit, by our count as Exact's headers last corrected it
    /// (for status pages). A key never called yet is not added.
    pub fn remaining_today(&self, key: &BudgetKey) -> (u32, u32) {
        let now = self.clock.now_ms();
        let all = self.windows.lock();
        let Some(w) = all.get(key) else {
            return (self.per_day, self.per_day);
        };
        let mut w = w.clone();
        Self::roll(&mut w, now);
        (w.day_limit.saturating_sub(w.day_used), w.day_limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> BudgetKey {
        ("exact-online-nl".into(), "123".into())
    }

    #[tokio::test]
    async fn sixty_calls_pass_and_the_sixty_first_waits_for_the_next_window() {
        let budget = CallBudget::new(Clock::default(), 60, 5000);
        for _ in 0..60 {
            assert!(matches!(budget.decide(&key()).unwrap(), Decision::Go));
        }
        match budget.decide(&key()).unwrap() {
            Decision::WaitUntil(until) => assert_eq!(until % MINUTE_MS, 0, "a clock-aligned reset"),
            Decision::Go => panic!("the 61st call in a minute must wait"),
        }
        budget.clock.advance(Duration::from_secs(60));
        assert!(matches!(budget.decide(&key()).unwrap(), Decision::Go));
    }

    #[test]
    fn the_daily_budget_refuses_with_the_wait_until_midnight() {
        let budget = CallBudget::new(Clock::default(), 1000, 3);
        for _ in 0..3 {
            budget.decide(&key()).unwrap();
        }
        match budget.decide(&key()) {
            Err(ProviderError::RetryLater {
                after: Some(after), ..
            }) => {
                assert!(after <= Duration::from_millis(DAY_MS as u64))
            }
            _ => panic!("expected RetryLater"),
        }
    }

    #[test]
    fn headers_from_exact_override_a_lower_local_count() {
        let budget = CallBudget::new(Clock::default(), 60, 5000);
        let mut headers = HeaderMap::new();
        headers.insert("X-RateLimit-Minutely-Limit", "60".parse().unwrap());
        headers.insert("X-RateLimit-Minutely-Remaining", "0".parse().unwrap());
        let reset = budget.clock.now_ms() + 30_000;
        headers.insert(
            "X-RateLimit-Minutely-Reset",
            reset.to_string().parse().unwrap(),
        );
        headers.insert("X-RateLimit-Limit", "5000".parse().unwrap());
        headers.insert("X-RateLimit-Remaining", "4000".parse().unwrap());
        budget.observe(&key(), &headers);
        assert!(matches!(
            budget.decide(&key()).unwrap(),
            Decision::WaitUntil(_)
        ));
        assert_eq!(budget.remaining_today(&key()), (4000, 5000));
    }

    fn headers(pairs: &[(&'static str, i64)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.to_string().parse().unwrap());
        }
        headers
    }

    #[test]
    fn a_minutely_reset_hours_away_waits_at_most_61_seconds() {
        let budget = CallBudget::new(Clock::default(), 60, 5000);
        let now = budget.clock.now_ms();
        let skewed = headers(&[
            ("X-RateLimit-Minutely-Limit", 60),
            ("X-RateLimit-Minutely-Remaining", 0),
            ("X-RateLimit-Minutely-Reset", now + 3 * 3_600_000),
        ]);
        let wait = budget.on_too_many_requests(&key(), &skewed).unwrap();
        assert!(wait <= Duration::from_millis(61_100), "{wait:?}");
        match budget.decide(&key()).unwrap() {
            Decision::WaitUntil(until) => assert!(until <= now + 61_100, "{}", until - now),
            Decision::Go => panic!("the window is blocked"),
        }
    }

    #[test]
    fn a_daily_reset_days_away_ends_at_the_next_utc_midnight_without_sleeping() {
        let budget = CallBudget::new(Clock::default(), 60, 5000);
        let now = budget.clock.now_ms();
        let skewed = headers(&[
            ("X-RateLimit-Limit", 5000),
            ("X-RateLimit-Remaining", 0),
            ("X-RateLimit-Reset", now + 3 * DAY_MS),
        ]);
        let midnight = next_utc_midnight(now);
        for outcome in [
            budget.on_too_many_requests(&key(), &skewed).map(|_| ()),
            budget.decide(&key()).map(|_| ()),
        ] {
            match outcome {
                Err(ProviderError::RetryLater {
                    kind: RetryKind::DayLimit,
                    message,
                    after: Some(after),
                }) => {
                    assert!(message.contains(&iso_utc(midnight)), "{message}");
                    assert!(message.ends_with("T00:00:00Z"), "{message}");
                    assert!(after <= Duration::from_millis((midnight - now) as u64));
                }
                other => panic!("expected a DayLimit until midnight, got {other:?}"),
            }
        }
    }

    #[test]
    fn resets_within_bounds_are_believed() {
        let now = 1_700_000_000_000;
        assert_eq!(capped_minute_reset(now, now + 20_000), now + 20_000);
        assert_eq!(
            capped_minute_reset(now, now + 600_000),
            now + MAX_MINUTE_WAIT_MS
        );
        assert_eq!(capped_day_reset(now, now + 3_600_000), now + 3_600_000);
        assert_eq!(
            capped_day_reset(now, now + 5 * DAY_MS),
            next_utc_midnight(now)
        );
        assert_eq!(next_utc_midnight(now) % DAY_MS, 0);
        assert!(next_utc_midnight(now) > now && next_utc_midnight(now) - now <= DAY_MS);
    }

    #[test]
    fn budgets_are_per_division() {
        let budget = CallBudget::new(Clock::default(), 1, 5000);
        budget.decide(&key()).unwrap();
        let other = ("exact-online-nl".to_string(), "456".to_string());
        assert!(matches!(budget.decide(&other).unwrap(), Decision::Go));
    }
}
