//! Exact's call budget per (app, division): 60 calls in each clock-aligned minute and
//! 5,000 per UTC day, corrected by the `X-RateLimit-*` headers of every answer.
//!
//! The counts live in the store (`upstream_call_budgets`), so every instance sharing a
//! PostgreSQL database spends one budget: a call is granted by one conditional UPDATE, and the
//! sum of all instances' calls stays inside Exact's limits. SQLite (one instance) works the same.
//!
//! Exact's reset headers are believed only within bounds: a clock minute never makes a call wait
//! more than [`MAX_MINUTE_WAIT_MS`], a day never past the next UTC midnight. A clock skewed by
//! hours (ours or Exact's) would otherwise park a pull for hours.
//!
//! A token-bucket limiter (governor) would allow a burst of 60 and then one a second, which
//! can put more than 60 calls in one clock minute: Exact counts per clock-aligned window, so
//! this counts the same way.
//!
//! Scheduled work may use the daily limit less a reserve (default 10 %) kept for on-demand work,
//! and goes after on-demand work within a minute: an on-demand call that waits for a division's
//! next minute marks the shared row, and scheduled calls of that division wait while the mark
//! stands (see `store::call_budget`).

use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::clock::{Clock, iso_utc};
use crate::provider::{CallPriority, ProviderError, RetryKind};
use crate::store::{
    CallBudgetRow, CallClaim, CallLimits, CallTake, DAY_MS, MINUTE_MS, ON_DEMAND_HOLD_MS,
    ObservedLimits, Store, StoreError,
};

/// The longest wait a minute window may impose: one clock minute and a second of slack.
pub const MAX_MINUTE_WAIT_MS: i64 = 61_000;
/// The share of the daily budget kept for on-demand work unless configured otherwise.
pub const DEFAULT_ON_DEMAND_RESERVE_PERCENT: u8 = 10;

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
fn day_limit_spent(limit: i64, now: i64, until: i64) -> ProviderError {
    ProviderError::RetryLater {
        kind: RetryKind::DayLimit,
        message: format!(
            "Exact's daily limit of {limit} calls for this company is spent; calls resume at {}",
            iso_utc(until)
        ),
        after: Some(Duration::from_millis((until - now).max(0) as u64)),
    }
}

/// Scheduled work reached the part of the day's budget kept for on-demand work.
fn reserve_reached(row: &CallBudgetRow, now: i64, until: i64) -> ProviderError {
    ProviderError::RetryLater {
        kind: RetryKind::DayLimit,
        message: format!(
            "scheduled pulls of this company have used their share of Exact's daily limit of {} \
             calls; the {} calls left today are kept for on-demand pulls, and scheduled pulls \
             resume at {}",
            row.day_limit,
            row.remaining_today(),
            iso_utc(until)
        ),
        after: Some(Duration::from_millis((until - now).max(0) as u64)),
    }
}

/// The budget could not be read or counted: the database failed, not Exact.
fn store_failed(error: StoreError) -> ProviderError {
    ProviderError::RetryLater {
        kind: RetryKind::Outage,
        message: format!("the upstream call budget could not be counted in the database: {error}"),
        after: Some(Duration::from_secs(5)),
    }
}

/// Whose budget a call spends: Exact counts per app and division; one Ledgerline tenant app
/// per region, so (integration key, division) names it. Tenants with apps of their own that
/// share a division then share one budget: stricter than Exact, never looser.
pub type BudgetKey = (String, String);

/// What the budget decided for one call.
#[derive(Debug)]
enum Decision {
    Go,
    WaitUntil(i64),
}

/// Counts calls per key in the store and makes callers wait for the next window instead of
/// earning a 429.
#[derive(Debug, Clone)]
pub struct CallBudget {
    clock: Clock,
    store: Store,
    limits: CallLimits,
    /// Percent of the daily limit kept for on-demand work.
    on_demand_reserve_percent: u8,
}

impl CallBudget {
    pub fn new(
        clock: Clock,
        store: Store,
        per_minute: u32,
        per_day: u32,
        on_demand_reserve_percent: u8,
    ) -> Self {
        CallBudget {
            clock,
            store,
            limits: CallLimits {
                per_minute: per_minute.into(),
                per_day: per_day.into(),
            },
            on_demand_reserve_percent: on_demand_reserve_percent.min(100),
        }
    }

    /// How the store ranks a call of `priority`: its share of the daily limit, and whether it
    /// goes first in the minute.
    fn claim(&self, priority: CallPriority) -> CallClaim {
        match priority {
            CallPriority::OnDemand => CallClaim::ON_DEMAND,
            CallPriority::Scheduled => {
                CallClaim::scheduled(100 - i64::from(self.on_demand_reserve_percent))
            }
        }
    }

    async fn decide(
        &self,
        key: &BudgetKey,
        priority: CallPriority,
    ) -> Result<Decision, ProviderError> {
        let now = self.clock.now_ms();
        let claim = self.claim(priority);
        let share = claim.day_share_percent;
        let take = self
            .store
            .take_upstream_call(&key.0, &key.1, now, self.limits, claim)
            .await
            .map_err(store_failed)?;
        let w = match take {
            CallTake::Granted(_) => return Ok(Decision::Go),
            CallTake::Refused(w) => w,
        };
        if w.day_used >= w.day_limit || w.day_blocked_until > now {
            let until = capped_day_reset(now, w.day_blocked_until.max(w.day_start + DAY_MS));
            return Err(day_limit_spent(w.day_limit, now, until));
        }
        if w.day_used * 100 >= w.day_limit * share {
            return Err(reserve_reached(&w, now, next_utc_midnight(now)));
        }
        let minute_open = w.minute_used < w.minute_limit && w.minute_blocked_until <= now;
        if !claim.on_demand && w.on_demand_waiting_until > now {
            // On-demand work waits for (or is using) this division's minutes: it goes first.
            let until = if minute_open {
                w.on_demand_waiting_until
            } else {
                w.on_demand_waiting_until.max(w.minute_reopens_at())
            };
            return Ok(Decision::WaitUntil(capped_minute_reset(now, until)));
        }
        if minute_open {
            // The window opened between the count and the read (Exact raised the limit): retry.
            return Ok(Decision::WaitUntil(now));
        }
        let until = capped_minute_reset(now, w.minute_reopens_at());
        if claim.on_demand {
            // Scheduled callers of the division wait until this one has had the next minute.
            self.store
                .mark_on_demand_waiting(&key.0, &key.1, until + ON_DEMAND_HOLD_MS)
                .await
                .map_err(store_failed)?;
        }
        Ok(Decision::WaitUntil(until))
    }

    /// Spends one call, waiting for the next minute window if this one is used up.
    /// Fails at once when the day's budget (for scheduled work: less the reserve) is spent.
    pub async fn acquire(
        &self,
        key: &BudgetKey,
        priority: CallPriority,
    ) -> Result<(), ProviderError> {
        loop {
            match self.decide(key, priority).await? {
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

    /// What an answer's headers say about the windows, with resets capped.
    fn read_headers(&self, now: i64, headers: &HeaderMap) -> ObservedLimits {
        let header = |name: &str| -> Option<i64> {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
        };
        let mut observed = ObservedLimits::default();
        if let (Some(limit), Some(remaining)) = (
            header("X-RateLimit-Minutely-Limit"),
            header("X-RateLimit-Minutely-Remaining"),
        ) {
            observed.minute = Some((limit, remaining));
            if remaining <= 0 {
                let reset = header("X-RateLimit-Minutely-Reset")
                    .unwrap_or(crate::store::minute_start(now) + MINUTE_MS);
                observed.minute_blocked_until = capped_minute_reset(now, reset);
            }
        }
        if let (Some(limit), Some(remaining)) =
            (header("X-RateLimit-Limit"), header("X-RateLimit-Remaining"))
        {
            observed.day = Some((limit, remaining));
            if remaining <= 0 {
                let reset =
                    header("X-RateLimit-Reset").unwrap_or(crate::store::day_start(now) + DAY_MS);
                observed.day_blocked_until = capped_day_reset(now, reset);
            }
        }
        observed
    }

    /// Adopts what Exact says about the windows: its counts win over ours when higher. The
    /// call was made whatever the database says, so a failure to store this is only logged.
    pub async fn observe(&self, key: &BudgetKey, headers: &HeaderMap) {
        if let Err(error) = self.try_observe(key, headers).await {
            tracing::warn!(%error, division = %key.1, "Exact's rate-limit headers could not be stored");
        }
    }

    async fn try_observe(&self, key: &BudgetKey, headers: &HeaderMap) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let observed = self.read_headers(now, headers);
        if observed == ObservedLimits::default() {
            return Ok(());
        }
        self.store
            .observe_upstream_limits(&key.0, &key.1, now, self.limits, &observed)
            .await
    }

    /// After a 429: blocks the exceeded window until the reset its headers give (or the next
    /// window when they give none, and never beyond the caps) and returns how long to wait. A
    /// wait longer than a minute window is not slept: it is a `DayLimit` error with the time
    /// calls resume.
    pub async fn on_too_many_requests(
        &self,
        key: &BudgetKey,
        headers: &HeaderMap,
    ) -> Result<Duration, ProviderError> {
        let now = self.clock.now_ms();
        let observed = self.read_headers(now, headers);
        self.store
            .observe_upstream_limits(&key.0, &key.1, now, self.limits, &observed)
            .await
            .map_err(store_failed)?;
        let daily = headers.contains_key("X-RateLimit-Reset")
            && !headers.contains_key("X-RateLimit-Minutely-Reset");
        let w = self
            .store
            .upstream_call_budget(&key.0, &key.1, now)
            .await
            .map_err(store_failed)?
            .ok_or_else(|| store_failed(StoreError::NotFound))?;
        let until = if daily {
            w.day_blocked_until.max(now + 1000)
        } else {
            let until = w.minute_reopens_at();
            self.store
                .block_upstream_calls(&key.0, &key.1, until, 0)
                .await
                .map_err(store_failed)?;
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

    /// Calls left today and the day's limit, by the shared count as Exact's headers last
    /// corrected it (for status pages). A key never called yet has its whole budget.
    pub async fn remaining_today(&self, key: &BudgetKey) -> Result<(u32, u32), StoreError> {
        let now = self.clock.now_ms();
        let row = self.store.upstream_call_budget(&key.0, &key.1, now).await?;
        let clamp = |n: i64| n.clamp(0, u32::MAX as i64) as u32;
        Ok(match row {
            Some(w) => (clamp(w.remaining_today()), clamp(w.day_limit)),
            None => (clamp(self.limits.per_day), clamp(self.limits.per_day)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> BudgetKey {
        ("exact-online-nl".into(), "123".into())
    }

    /// A budget on a fresh SQLite store (kept alive by the returned folder).
    async fn budget(per_minute: u32, per_day: u32) -> (CallBudget, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display());
        let store = Store::connect(&url).await.unwrap();
        let budget = CallBudget::new(
            Clock::default(),
            store,
            per_minute,
            per_day,
            DEFAULT_ON_DEMAND_RESERVE_PERCENT,
        );
        (budget, dir)
    }

    async fn go(budget: &CallBudget, key: &BudgetKey) -> Result<Decision, ProviderError> {
        budget.decide(key, CallPriority::OnDemand).await
    }

    #[tokio::test]
    async fn sixty_calls_pass_and_the_sixty_first_waits_for_the_next_window() {
        let (budget, _dir) = budget(60, 5000).await;
        // Start at the top of a minute so that the 60 calls share one window.
        let now = budget.clock.now_ms();
        budget.clock.advance(Duration::from_millis(
            (MINUTE_MS - now.rem_euclid(MINUTE_MS)) as u64,
        ));
        for _ in 0..60 {
            assert!(matches!(go(&budget, &key()).await.unwrap(), Decision::Go));
        }
        match go(&budget, &key()).await.unwrap() {
            Decision::WaitUntil(until) => assert_eq!(until % MINUTE_MS, 0, "a clock-aligned reset"),
            Decision::Go => panic!("the 61st call in a minute must wait"),
        }
        budget.clock.advance(Duration::from_secs(60));
        assert!(matches!(go(&budget, &key()).await.unwrap(), Decision::Go));
    }

    #[tokio::test]
    async fn the_daily_budget_refuses_with_the_wait_until_midnight() {
        let (budget, _dir) = budget(1000, 3).await;
        for _ in 0..3 {
            go(&budget, &key()).await.unwrap();
        }
        match go(&budget, &key()).await {
            Err(ProviderError::RetryLater {
                after: Some(after), ..
            }) => {
                assert!(after <= Duration::from_millis(DAY_MS as u64))
            }
            other => panic!("expected RetryLater, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn scheduled_work_stops_at_the_reserve_and_on_demand_work_may_use_it() {
        let (budget, _dir) = budget(1000, 20).await;
        for _ in 0..18 {
            let decided = budget.decide(&key(), CallPriority::Scheduled).await;
            assert!(matches!(decided, Ok(Decision::Go)), "{decided:?}");
        }
        match budget.decide(&key(), CallPriority::Scheduled).await {
            Err(ProviderError::RetryLater {
                kind: RetryKind::DayLimit,
                message,
                ..
            }) => assert!(message.contains("kept for on-demand pulls"), "{message}"),
            other => panic!("scheduled work must stop at the 10 % reserve: {other:?}"),
        }
        for _ in 0..2 {
            assert!(matches!(go(&budget, &key()).await.unwrap(), Decision::Go));
        }
        assert!(go(&budget, &key()).await.is_err(), "the day is spent");
        assert_eq!(budget.remaining_today(&key()).await.unwrap(), (0, 20));
    }

    #[tokio::test]
    async fn headers_from_exact_override_a_lower_local_count() {
        let (budget, _dir) = budget(60, 5000).await;
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
        budget.observe(&key(), &headers).await;
        assert!(matches!(
            go(&budget, &key()).await.unwrap(),
            Decision::WaitUntil(_)
        ));
        assert_eq!(budget.remaining_today(&key()).await.unwrap(), (4000, 5000));
    }

    #[tokio::test]
    async fn a_lower_count_from_exact_does_not_undo_ours() {
        let (budget, _dir) = budget(60, 5000).await;
        for _ in 0..5 {
            go(&budget, &key()).await.unwrap();
        }
        budget
            .observe(
                &key(),
                &headers(&[("X-RateLimit-Limit", 5000), ("X-RateLimit-Remaining", 4999)]),
            )
            .await;
        assert_eq!(budget.remaining_today(&key()).await.unwrap(), (4995, 5000));
    }

    fn headers(pairs: &[(&'static str, i64)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.to_string().parse().unwrap());
        }
        headers
    }

    #[tokio::test]
    async fn a_minutely_reset_hours_away_waits_at_most_61_seconds() {
        let (budget, _dir) = budget(60, 5000).await;
        let now = budget.clock.now_ms();
        let skewed = headers(&[
            ("X-RateLimit-Minutely-Limit", 60),
            ("X-RateLimit-Minutely-Remaining", 0),
            ("X-RateLimit-Minutely-Reset", now + 3 * 3_600_000),
        ]);
        let wait = budget.on_too_many_requests(&key(), &skewed).await.unwrap();
        assert!(wait <= Duration::from_millis(61_100), "{wait:?}");
        match go(&budget, &key()).await.unwrap() {
            Decision::WaitUntil(until) => assert!(until <= now + 61_100, "{}", until - now),
            Decision::Go => panic!("the window is blocked"),
        }
    }

    #[tokio::test]
    async fn a_daily_reset_days_away_ends_at_the_next_utc_midnight_without_sleeping() {
        let (budget, _dir) = budget(60, 5000).await;
        let now = budget.clock.now_ms();
        let skewed = headers(&[
            ("X-RateLimit-Limit", 5000),
            ("X-RateLimit-Remaining", 0),
            ("X-RateLimit-Reset", now + 3 * DAY_MS),
        ]);
        let midnight = next_utc_midnight(now);
        let first = budget
            .on_too_many_requests(&key(), &skewed)
            .await
            .map(|_| ());
        let second = go(&budget, &key()).await.map(|_| ());
        for outcome in [first, second] {
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

    #[tokio::test]
    async fn budgets_are_per_division() {
        let (budget, _dir) = budget(1, 5000).await;
        go(&budget, &key()).await.unwrap();
        let other = ("exact-online-nl".to_string(), "456".to_string());
        assert!(matches!(go(&budget, &other).await.unwrap(), Decision::Go));
    }
}
