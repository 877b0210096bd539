//! The upstream call budget per (app, division), shared by every instance on the database, and
//! the per-connection lease that lets one pull run at a time use a connection.
//!
//! Every call is counted by one conditional UPDATE (`… WHERE used < limit`), which is atomic on
//! both databases: of several instances racing for the last call of a minute, one wins. Windows
//! roll inside the statement (a row whose `minute_start` is not the current minute counts as 0),
//! so no instance has to reset them.
//!
//! On-demand work goes before scheduled work within a minute: an on-demand caller that must wait
//! for the next minute marks the row (`on_demand_waiting_until`), scheduled callers are refused
//! while the mark stands, and each on-demand call made under the mark extends it by
//! [`ON_DEMAND_HOLD_MS`], so the on-demand pull keeps the minutes until it stops calling.

use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::{Store, StoreError};

pub const MINUTE_MS: i64 = 60_000;
pub const DAY_MS: i64 = 86_400_000;
/// How long the per-minute call history is kept: the portal draws 30 days, plus today.
pub const CALL_HISTORY_MS: i64 = 31 * DAY_MS;
/// How long an on-demand caller's mark outlives its last call (or its wait): enough to store a
/// page between two calls, short enough that scheduled work resumes soon after it.
pub const ON_DEMAND_HOLD_MS: i64 = 10_000;

/// One (app, division) budget as stored, or as it stands at an instant once rolled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallBudgetRow {
    pub minute_start: i64,
    pub minute_used: i64,
    pub minute_limit: i64,
    pub day_start: i64,
    pub day_used: i64,
    pub day_limit: i64,
    /// Exact said "no more until" (a 429, or remaining = 0), epoch ms; 0 when it did not.
    pub minute_blocked_until: i64,
    pub day_blocked_until: i64,
    /// An on-demand caller waits for (or is using) this division's minutes until then, epoch
    /// ms: scheduled callers wait too. 0 when none does.
    pub on_demand_waiting_until: i64,
}

impl CallBudgetRow {
    /// The budget as it stands at `now`: a window that has passed counts nothing.
    pub fn rolled(mut self, now: i64) -> Self {
        let minute = minute_start(now);
        if self.minute_start != minute {
            self.minute_start = minute;
            self.minute_used = 0;
        }
        let day = day_start(now);
        if self.day_start != day {
            self.day_start = day;
            self.day_used = 0;
        }
        self
    }

    /// When this minute's calls open again: the next clock minute, or later if Exact said so.
    pub fn minute_reopens_at(&self) -> i64 {
        self.minute_blocked_until.max(self.minute_start + MINUTE_MS)
    }

    /// Calls left today by the stricter of our count and Exact's.
    pub fn remaining_today(&self) -> i64 {
        (self.day_limit - self.day_used).max(0)
    }

    fn read(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(CallBudgetRow {
            minute_start: row.try_get("minute_start")?,
            minute_used: row.try_get("minute_used")?,
            minute_limit: row.try_get("minute_limit")?,
            day_start: row.try_get("day_start")?,
            day_used: row.try_get("day_used")?,
            day_limit: row.try_get("day_limit")?,
            minute_blocked_until: row.try_get("minute_blocked_until")?,
            day_blocked_until: row.try_get("day_blocked_until")?,
            on_demand_waiting_until: row.try_get("on_demand_waiting_until")?,
        })
    }
}

/// The clock-aligned minute `now` falls in.
pub fn minute_start(now: i64) -> i64 {
    now - now.rem_euclid(MINUTE_MS)
}

/// The UTC day `now` falls in.
pub fn day_start(now: i64) -> i64 {
    now - now.rem_euclid(DAY_MS)
}

/// The limits a budget starts with before Exact's headers say otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    pub per_minute: i64,
    pub per_day: i64,
}

/// What one answer's `X-RateLimit-*` headers said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObservedLimits {
    /// (limit, remaining) of the clock minute.
    pub minute: Option<(i64, i64)>,
    /// (limit, remaining) of the UTC day.
    pub day: Option<(i64, i64)>,
    /// Until when the minute, or the day, takes no call (epoch ms; 0 = not blocked).
    pub minute_blocked_until: i64,
    pub day_blocked_until: i64,
}

/// Whose work a call does, as the budget ranks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallClaim {
    /// The share of the daily limit the caller may use, in percent (100 for on-demand work,
    /// less for scheduled work, which leaves the rest as the on-demand reserve).
    pub day_share_percent: i64,
    /// On-demand work: it goes before scheduled work within a minute.
    pub on_demand: bool,
}

impl CallClaim {
    /// On-demand work: the whole day, first in the minute.
    pub const ON_DEMAND: CallClaim = CallClaim {
        day_share_percent: 100,
        on_demand: true,
    };

    /// Scheduled work that may use `day_share_percent` of the day.
    pub fn scheduled(day_share_percent: i64) -> Self {
        CallClaim {
            day_share_percent,
            on_demand: false,
        }
    }
}

/// The outcome of asking for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallTake {
    /// Counted; the budget after the call.
    Granted(CallBudgetRow),
    /// Not counted: the budget as it stands (rolled), to tell a full minute from a spent day.
    Refused(CallBudgetRow),
}

const COLUMNS: &str = "minute_start, minute_used, minute_limit, day_start, day_used, day_limit, \
                       minute_blocked_until, day_blocked_until, on_demand_waiting_until";

impl Store {
    /// Makes sure the budget row exists (a first call for the division).
    async fn ensure_call_budget(
        &self,
        app: &str,
        division: &str,
        now: i64,
        limits: CallLimits,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO upstream_call_budgets (app, division, minute_start, minute_used, \
               minute_limit, day_start, day_used, day_limit, minute_blocked_until, day_blocked_until) \
             VALUES ($1, $2, $3, 0, $4, $5, 0, $6, 0, 0) ON CONFLICT (app, division) DO NOTHING",
        )
        .bind(app)
        .bind(division)
        .bind(minute_start(now))
        .bind(limits.per_minute)
        .bind(day_start(now))
        .bind(limits.per_day)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Counts one call against the (app, division) budget if the minute and the day allow it
    /// for `claim` (a scheduled call also waits while an on-demand caller's mark stands).
    pub async fn take_upstream_call(
        &self,
        app: &str,
        division: &str,
        now: i64,
        limits: CallLimits,
        claim: CallClaim,
    ) -> Result<CallTake, StoreError> {
        // The row exists after a division's first call: count first, and only when that is
        // refused make sure the row exists (another caller may just have created it) and retry.
        if let Some(granted) = self
            .try_take_upstream_call(app, division, now, claim)
            .await?
        {
            self.record_call_minute(app, division, now).await;
            return Ok(CallTake::Granted(granted));
        }
        self.ensure_call_budget(app, division, now, limits).await?;
        if let Some(granted) = self
            .try_take_upstream_call(app, division, now, claim)
            .await?
        {
            self.record_call_minute(app, division, now).await;
            return Ok(CallTake::Granted(granted));
        }
        let row = self
            .upstream_call_budget(app, division, now)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(CallTake::Refused(row))
    }

    /// Adds a granted call to its minute's history row and, when that row is new (once a
    /// minute, not on every call), drops the division's rows past [`CALL_HISTORY_MS`]. The
    /// history only draws pictures: a failure is logged, never allowed to refuse the call that
    /// the budget granted.
    async fn record_call_minute(&self, app: &str, division: &str, now: i64) {
        let recorded = async {
            let calls: i64 = sqlx::query_scalar(
                "INSERT INTO upstream_call_minutes (app, division, minute_start, calls) \
                 VALUES ($1, $2, $3, 1) ON CONFLICT (app, division, minute_start) \
                 DO UPDATE SET calls = upstream_call_minutes.calls + 1 RETURNING calls",
            )
            .bind(app)
            .bind(division)
            .bind(minute_start(now))
            .fetch_one(&self.pool)
            .await?;
            if calls > 1 {
                return Ok(());
            }
            sqlx::query(
                "DELETE FROM upstream_call_minutes \
                 WHERE app = $1 AND division = $2 AND minute_start < $3",
            )
            .bind(app)
            .bind(division)
            .bind(now - CALL_HISTORY_MS)
            .execute(&self.pool)
            .await
            .map(|_| ())
        };
        if let Err(error) = recorded.await {
            tracing::warn!(%error, division, "the call history could not be written");
        }
    }

    /// Calls counted per clock minute for (app, division) since `since` (epoch ms), oldest
    /// first, as (minute start, calls); minutes without calls are left out.
    pub async fn upstream_call_history(
        &self,
        app: &str,
        division: &str,
        since: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT minute_start, calls FROM upstream_call_minutes \
             WHERE app = $1 AND division = $2 AND minute_start >= $3 ORDER BY minute_start",
        )
        .bind(app)
        .bind(division)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("minute_start")?, row.try_get("calls")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Counts the call if the row exists and allows it: the budget after the call.
    async fn try_take_upstream_call(
        &self,
        app: &str,
        division: &str,
        now: i64,
        claim: CallClaim,
    ) -> Result<Option<CallBudgetRow>, StoreError> {
        // $7 = 1 for on-demand work: it ignores the mark and, while the mark stands, extends it
        // to $8; scheduled work ($7 = 0) waits for the mark to pass.
        let granted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE upstream_call_budgets SET \
               minute_used = CASE WHEN minute_start = $3 THEN minute_used + 1 ELSE 1 END, \
               minute_start = $3, \
               day_used = CASE WHEN day_start = $4 THEN day_used + 1 ELSE 1 END, \
               day_start = $4, \
               on_demand_waiting_until = CASE \
                 WHEN $7 = 1 AND on_demand_waiting_until > $6 AND on_demand_waiting_until < $8 \
                 THEN $8 ELSE on_demand_waiting_until END \
             WHERE app = $1 AND division = $2 \
               AND (CASE WHEN minute_start = $3 THEN minute_used ELSE 0 END) < minute_limit \
               AND (CASE WHEN day_start = $4 THEN day_used ELSE 0 END) * 100 < day_limit * $5 \
               AND minute_blocked_until <= $6 AND day_blocked_until <= $6 \
               AND ($7 = 1 OR on_demand_waiting_until <= $6) \
             RETURNING {COLUMNS}"
        )))
        .bind(app)
        .bind(division)
        .bind(minute_start(now))
        .bind(day_start(now))
        .bind(claim.day_share_percent.clamp(0, 100))
        .bind(now)
        .bind(i64::from(claim.on_demand))
        .bind(now + ON_DEMAND_HOLD_MS)
        .fetch_optional(&self.pool)
        .await?;
        Ok(granted.map(|row| CallBudgetRow::read(&row)).transpose()?)
    }

    /// Adopts what Exact's headers say: a higher count than ours wins (calls we did not make or
    /// lost track of), its limits replace ours, and a window it closed stays closed. One
    /// statement; the row is created first only when missing.
    pub async fn observe_upstream_limits(
        &self,
        app: &str,
        division: &str,
        now: i64,
        limits: CallLimits,
        observed: &ObservedLimits,
    ) -> Result<(), StoreError> {
        if !self
            .try_observe_upstream_limits(app, division, now, observed)
            .await?
        {
            self.ensure_call_budget(app, division, now, limits).await?;
            self.try_observe_upstream_limits(app, division, now, observed)
                .await?;
        }
        Ok(())
    }

    /// [`Store::observe_upstream_limits`] on an existing row; false when the row is missing.
    async fn try_observe_upstream_limits(
        &self,
        app: &str,
        division: &str,
        now: i64,
        observed: &ObservedLimits,
    ) -> Result<bool, StoreError> {
        // (seen, used, limit) per window; `seen` = 0 leaves the window's count as it is.
        let window = |w: Option<(i64, i64)>| match w {
            Some((limit, remaining)) => (1_i64, (limit - remaining).max(0), limit.max(1)),
            None => (0, 0, 1),
        };
        let (minute_seen, minute_used, minute_limit) = window(observed.minute);
        let (day_seen, day_used, day_limit) = window(observed.day);
        let done = sqlx::query(
            "UPDATE upstream_call_budgets SET \
               minute_used = CASE WHEN $4 = 0 THEN minute_used \
                                  WHEN minute_start = $3 AND minute_used > $5 THEN minute_used \
                                  ELSE $5 END, \
               minute_start = CASE WHEN $4 = 0 THEN minute_start ELSE $3 END, \
               minute_limit = CASE WHEN $4 = 0 THEN minute_limit ELSE $6 END, \
               day_used = CASE WHEN $8 = 0 THEN day_used \
                               WHEN day_start = $7 AND day_used > $9 THEN day_used \
                               ELSE $9 END, \
               day_start = CASE WHEN $8 = 0 THEN day_start ELSE $7 END, \
               day_limit = CASE WHEN $8 = 0 THEN day_limit ELSE $10 END, \
               minute_blocked_until = CASE WHEN minute_blocked_until > $11 \
                                           THEN minute_blocked_until ELSE $11 END, \
               day_blocked_until = CASE WHEN day_blocked_until > $12 \
                                        THEN day_blocked_until ELSE $12 END \
             WHERE app = $1 AND division = $2",
        )
        .bind(app)
        .bind(division)
        .bind(minute_start(now))
        .bind(minute_seen)
        .bind(minute_used)
        .bind(minute_limit)
        .bind(day_start(now))
        .bind(day_seen)
        .bind(day_used)
        .bind(day_limit)
        .bind(observed.minute_blocked_until)
        .bind(observed.day_blocked_until)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks that an on-demand caller waits for this division's minutes until `until` (a later
    /// mark already stored is kept): scheduled callers wait for it to pass.
    pub async fn mark_on_demand_waiting(
        &self,
        app: &str,
        division: &str,
        until: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE upstream_call_budgets SET on_demand_waiting_until = \
               CASE WHEN on_demand_waiting_until > $3 THEN on_demand_waiting_until ELSE $3 END \
             WHERE app = $1 AND division = $2",
        )
        .bind(app)
        .bind(division)
        .bind(until)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Closes the minute and/or the day until the given instants (0 leaves one as it is); a
    /// later block already stored is kept.
    pub async fn block_upstream_calls(
        &self,
        app: &str,
        division: &str,
        minute_until: i64,
        day_until: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE upstream_call_budgets SET \
               minute_blocked_until = CASE WHEN minute_blocked_until > $3 \
                                           THEN minute_blocked_until ELSE $3 END, \
               day_blocked_until = CASE WHEN day_blocked_until > $4 THEN day_blocked_until ELSE $4 END \
             WHERE app = $1 AND division = $2",
        )
        .bind(app)
        .bind(division)
        .bind(minute_until)
        .bind(day_until)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The (app, division) budget as it stands at `now`; `None` before its first call.
    pub async fn upstream_call_budget(
        &self,
        app: &str,
        division: &str,
        now: i64,
    ) -> Result<Option<CallBudgetRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM upstream_call_budgets WHERE app = $1 AND division = $2"
        )))
        .bind(app)
        .bind(division)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|row| CallBudgetRow::read(&row))
            .transpose()?
            .map(|row| row.rolled(now)))
    }

    /// Every (app, division) budget as it stands at `now`, for `/metrics`.
    pub async fn upstream_call_budgets(
        &self,
        now: i64,
    ) -> Result<Vec<(String, String, CallBudgetRow)>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT app, division, {COLUMNS} FROM upstream_call_budgets ORDER BY app, division"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("app")?,
                    row.try_get("division")?,
                    CallBudgetRow::read(row)?.rolled(now),
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Takes the connection's pull lease for `owner` until `until`, unless another owner holds
    /// a lease that has not expired by `now`. One upsert, atomic on both databases.
    pub async fn try_take_pull_lease(
        &self,
        connection_id: Uuid,
        owner: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO pull_leases (connection_id, owner, lease_until) VALUES ($1, $2, $3) \
             ON CONFLICT (connection_id) DO UPDATE SET owner = excluded.owner, \
               lease_until = excluded.lease_until \
             WHERE pull_leases.owner = excluded.owner OR pull_leases.lease_until < $4",
        )
        .bind(connection_id.to_string())
        .bind(owner)
        .bind(until)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Keeps `owner`'s lease alive; false when it was lost (expired and taken over).
    pub async fn extend_pull_lease(
        &self,
        connection_id: Uuid,
        owner: &str,
        until: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE pull_leases SET lease_until = $1 WHERE connection_id = $2 AND owner = $3",
        )
        .bind(until)
        .bind(connection_id.to_string())
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives the lease back (only `owner`'s).
    pub async fn release_pull_lease(
        &self,
        connection_id: Uuid,
        owner: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM pull_leases WHERE connection_id = $1 AND owner = $2")
            .bind(connection_id.to_string())
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Drops every pull lease: at start-up on SQLite, which one server uses alone, every lease
    /// left was held by runs of the last process (like its unfinished pulls).
    pub async fn release_all_pull_leases(&self) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM pull_leases")
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
