//! Introspection counters for `GET /_sandbox/stats`: per region, app and division, so tests and
//! benchmarks can prove a client stayed inside Exact's limits.

use std::collections::BTreeMap;

use serde::Serialize;
use uuid::Uuid;

use super::clock::MINUTE_MS;
use super::region::Region;
use super::tokens::Refusal;

/// Every counter, as served by the admin API.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    /// Per region.
    pub regions: BTreeMap<Region, RegionStats>,
    /// Data calls in flight per grant (see [`Stats::enter_call`]).
    #[serde(skip)]
    in_flight: BTreeMap<u64, u64>,
}

/// One region's counters.
#[derive(Debug, Default, Serialize)]
pub struct RegionStats {
    /// Calls without a valid token (no app to charge them to).
    pub unauthenticated_calls: u64,
    /// Per app client id.
    pub apps: BTreeMap<Uuid, AppStats>,
}

/// One app's counters in one region.
#[derive(Debug, Default, Serialize)]
pub struct AppStats {
    /// Token refreshes.
    pub refreshes: RefreshStats,
    /// Per division code; `current/Me` counts under "none".
    pub divisions: BTreeMap<String, DivisionStats>,
}

/// Refreshes accepted and refused, by reason.
#[derive(Debug, Default, Serialize)]
pub struct RefreshStats {
    /// New pairs issued.
    pub accepted: u64,
    /// Refused: earlier than 570 s after the last issue.
    pub refused_too_early: u64,
    /// Refused: a rotated-out refresh token.
    pub refused_old_token: u64,
    /// Refused: idle for 30 days.
    pub refused_expired: u64,
    /// Refused: unknown or revoked token.
    pub refused_other: u64,
}

/// One (app, division)'s calls.
#[derive(Debug, Default, Serialize)]
pub struct DivisionStats {
    /// Every call, refused ones included (they were made).
    pub calls_total: u64,
    /// Calls per UTC day (`YYYY-MM-DD`).
    pub calls_per_day: BTreeMap<String, u64>,
    /// The most calls seen in any clock minute.
    pub max_calls_in_a_minute: u64,
    /// 429s served (by the limiter or by a fault).
    pub rate_limited: u64,
    /// Every call per endpoint (e.g. `sync/CRM/Accounts`), refused ones included: what a pull
    /// spent on each source.
    pub calls_by_endpoint: BTreeMap<String, u64>,
    /// Responses with status ≥ 400, per endpoint (e.g. `crm/Accounts`).
    pub errors_by_endpoint: BTreeMap<String, u64>,
    /// The most calls to this division ever in flight at once with the tokens of one grant
    /// (one consent: one client connection). A client that reads one connection from one place
    /// at a time never exceeds 1; two pulls of one connection at once show as 2 (the more
    /// surely, the longer calls take: add latency).
    pub max_concurrent_calls_of_one_grant: u64,
    /// Calls that began while another call with the tokens of the same grant was in flight
    /// (0 for a client that reads each connection one call at a time).
    pub overlapping_calls_of_one_grant: u64,
    #[serde(skip)]
    minute: i64,
    #[serde(skip)]
    minute_calls: u64,
}

/// One data-API call to record.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// Region served.
    pub region: Region,
    /// The calling app, if its token was valid.
    pub client_id: Option<Uuid>,
    /// Division in the URL (`None` for `current/Me`).
    pub division: Option<i32>,
    /// The endpoint path, without division or key.
    pub endpoint: &'a str,
    /// Response status.
    pub status: u16,
    /// Sandbox time (epoch ms).
    pub now: i64,
}

impl Stats {
    /// Records one data-API call.
    pub fn record_call(&mut self, call: Call<'_>) {
        let region = self.regions.entry(call.region).or_default();
        let Some(client_id) = call.client_id else {
            region.unauthenticated_calls += 1;
            return;
        };
        let key = call
            .division
            .map_or_else(|| "none".to_string(), |d| d.to_string());
        let d = region
            .apps
            .entry(client_id)
            .or_default()
            .divisions
            .entry(key)
            .or_default();
        d.calls_total += 1;
        *d.calls_by_endpoint
            .entry(call.endpoint.to_string())
            .or_default() += 1;
        let day = chrono::DateTime::from_timestamp_millis(call.now)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        *d.calls_per_day.entry(day).or_default() += 1;
        let minute = call.now.div_euclid(MINUTE_MS);
        if d.minute != minute {
            d.minute = minute;
            d.minute_calls = 0;
        }
        d.minute_calls += 1;
        d.max_calls_in_a_minute = d.max_calls_in_a_minute.max(d.minute_calls);
        if call.status == 429 {
            d.rate_limited += 1;
        }
        if call.status >= 400 {
            *d.errors_by_endpoint
                .entry(call.endpoint.to_string())
                .or_default() += 1;
        }
    }

    /// A data call to `division` with a token of grant `grant` (of app `client_id`) begins;
    /// [`Stats::leave_call`] when it has been answered.
    pub fn enter_call(&mut self, region: Region, client_id: Uuid, division: i32, grant: u64) {
        let in_flight = self.in_flight.entry(grant).or_default();
        *in_flight += 1;
        let now = *in_flight;
        let d = self
            .regions
            .entry(region)
            .or_default()
            .apps
            .entry(client_id)
            .or_default()
            .divisions
            .entry(division.to_string())
            .or_default();
        d.max_concurrent_calls_of_one_grant = d.max_concurrent_calls_of_one_grant.max(now);
        if now > 1 {
            d.overlapping_calls_of_one_grant += 1;
        }
    }

    /// A call [`Stats::enter_call`] counted has been answered (or given up).
    pub fn leave_call(&mut self, grant: u64) {
        if let Some(n) = self.in_flight.get_mut(&grant) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.in_flight.remove(&grant);
            }
        }
    }

    /// Records a refresh attempt by a known app.
    pub fn record_refresh(
        &mut self,
        region: Region,
        client_id: Uuid,
        outcome: Result<(), &Refusal>,
    ) {
        let r = &mut self
            .regions
            .entry(region)
            .or_default()
            .apps
            .entry(client_id)
            .or_default()
            .refreshes;
        match outcome {
            Ok(()) => r.accepted += 1,
            Err(Refusal::TooEarly) => r.refused_too_early += 1,
            Err(Refusal::OldToken) => r.refused_old_token += 1,
            Err(Refusal::Expired { .. }) => r.refused_expired += 1,
            Err(Refusal::InvalidGrant(_)) => r.refused_other += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_overlapping_another_of_the_same_grant_are_counted_and_others_are_not() {
        let mut stats = Stats::default();
        let app = Uuid::new_v4();
        let division = |stats: &Stats| {
            let d = &stats.regions[&Region::Nl].apps[&app].divisions["7"];
            (
                d.max_concurrent_calls_of_one_grant,
                d.overlapping_calls_of_one_grant,
            )
        };
        // One after the other, and two grants at once: no overlap.
        stats.enter_call(Region::Nl, app, 7, 1);
        stats.leave_call(1);
        stats.enter_call(Region::Nl, app, 7, 1);
        stats.enter_call(Region::Nl, app, 7, 2);
        assert_eq!(division(&stats), (1, 0));
        // A second call of grant 1 while its first is in flight.
        stats.enter_call(Region::Nl, app, 7, 1);
        assert_eq!(division(&stats), (2, 1));
        stats.leave_call(1);
        stats.leave_call(1);
        stats.leave_call(2);
        stats.enter_call(Region::Nl, app, 7, 1);
        assert_eq!(division(&stats), (2, 1), "all answered: no overlap since");
    }
}
