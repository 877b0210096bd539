//! Exact's call budget per (region, division): 60 calls in each clock-aligned minute and
//! 5,000 per UTC day, corrected by the `X-RateLimit-*` headers of every answer.
//!
//! A token-bucket limiter (governor) would allow a burst of 60 and then one a second, which
//! can put more than 60 calls in one clock minute: Exact counts per clock-aligned window, so
//! this counts the same way.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use reqwest::header::HeaderMap;

use crate::clock::Clock;
use crate::provider::ProviderError;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

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
            let until = w.day_blocked_until.max(w.day_start + DAY_MS);
            return Err(ProviderError::RetryLater {
                message: format!(
                    "Exact's daily limit of {} calls for this company is spent; it resets at 00:00 UTC",
                    w.day_limit
                ),
                after: Some(Duration::from_millis((until - now).max(0) as u64)),
            });
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
                w.minute_blocked_until = w.minute_blocked_until.max(reset);
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
                w.day_blocked_until = w.day_blocked_until.max(reset);
            }
        }
    }

    /// After a 429: blocks the exceeded window until the reset its headers give (or the next
    /// window when they give none) and returns how long to wait.
    pub fn on_too_many_requests(&self, key: &BudgetKey, headers: &HeaderMap) -> Duration {
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
        Duration::from_millis((until - now).max(0) as u64 + 50)
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

    #[test]
    fn budgets_are_per_division() {
        let budget = CallBudget::new(Clock::default(), 1, 5000);
        budget.decide(&key()).unwrap();
        let other = ("exact-online-nl".to_string(), "456".to_string());
        assert!(matches!(budget.decide(&other).unwrap(), Decision::Go));
    }
}
