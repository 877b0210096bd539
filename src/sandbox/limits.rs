//! Exact's rate limits per (app, division): a minute window and a UTC-day window, with the six
//! `X-RateLimit-*` headers in epoch milliseconds (EXACT.md §6).

use std::collections::HashMap;

use uuid::Uuid;

use super::clock::{DAY_MS, MINUTE_MS};
use super::region::Region;
use super::seed::MinuteWindow;

/// Whose budget a call spends.
pub type LimitKey = (Region, Uuid, i32);

/// The outcome of counting one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Served: all six headers.
    Allowed(Vec<(&'static str, String)>),
    /// Refused with 429: only the exceeded window's three headers.
    Refused(Vec<(&'static str, String)>),
}

#[derive(Debug, Clone, Copy)]
struct Windows {
    minute_start: i64,
    minute_count: u32,
    day: i64,
    day_count: u32,
}

/// Counters of every (app, division) budget.
#[derive(Debug, Default)]
pub struct Limiter {
    windows: HashMap<LimitKey, Windows>,
}

impl Limiter {
    /// Counts a call at `now` against the key's budget, or refuses it. Refused calls don't spend
    /// budget (Exact rejects them before they run).
    pub fn check(
        &mut self,
        key: LimitKey,
        limits: (u32, u32),
        mode: MinuteWindow,
        now: i64,
    ) -> Verdict {
        let (minutely, daily) = limits;
        let aligned = now - now.rem_euclid(MINUTE_MS);
        let day = now.div_euclid(DAY_MS);
        let w = self.windows.entry(key).or_insert(Windows {
            minute_start: match mode {
                MinuteWindow::ClockAligned => aligned,
                MinuteWindow::FirstCall => now,
            },
            minute_count: 0,
            day,
            day_count: 0,
        });
        match mode {
            MinuteWindow::ClockAligned if w.minute_start != aligned => {
                w.minute_start = aligned;
                w.minute_count = 0;
            }
            MinuteWindow::FirstCall if now >= w.minute_start + MINUTE_MS => {
                w.minute_start = now;
                w.minute_count = 0;
            }
            _ => {}
        }
        if w.day != day {
            w.day = day;
            w.day_count = 0;
        }
        let minute_reset = w.minute_start + MINUTE_MS;
        let day_reset = (w.day + 1) * DAY_MS;
        if w.day_count >= daily {
            return Verdict::Refused(daily_headers(daily, 0, day_reset));
        }
        if w.minute_count >= minutely {
            return Verdict::Refused(minutely_headers(minutely, 0, minute_reset));
        }
        w.minute_count += 1;
        w.day_count += 1;
        let mut headers = daily_headers(daily, daily - w.day_count, day_reset);
        headers.extend(minutely_headers(
            minutely,
            minutely - w.minute_count,
            minute_reset,
        ));
        Verdict::Allowed(headers)
    }
}

fn daily_headers(limit: u32, remaining: u32, reset: i64) -> Vec<(&'static str, String)> {
    vec![
        ("X-RateLimit-Limit", limit.to_string()),
        ("X-RateLimit-Remaining", remaining.to_string()),
        ("X-RateLimit-Reset", reset.to_string()),
    ]
}

fn minutely_headers(limit: u32, remaining: u32, reset: i64) -> Vec<(&'static str, String)> {
    vec![
        ("X-RateLimit-Minutely-Limit", limit.to_string()),
        ("X-RateLimit-Minutely-Remaining", remaining.to_string()),
        ("X-RateLimit-Minutely-Reset", reset.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_683_879_505_000; // 08:18:25Z, as in PQ #609

    fn header(v: &Verdict, name: &str) -> Option<String> {
        let (Verdict::Allowed(h) | Verdict::Refused(h)) = v;
        h.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn resets_fall_on_the_whole_minute_and_utc_midnight() {
        let mut l = Limiter::default();
        let v = l.check(
            (Region::Nl, Uuid::nil(), 1),
            (60, 5000),
            MinuteWindow::ClockAligned,
            T0,
        );
        assert_eq!(
            header(&v, "X-RateLimit-Minutely-Reset").as_deref(),
            Some("1683879540000")
        );
        assert_eq!(
            header(&v, "X-RateLimit-Reset").as_deref(),
            Some("1683936000000")
        );
        assert_eq!(
            header(&v, "X-RateLimit-Minutely-Remaining").as_deref(),
            Some("59")
        );
    }

    #[test]
    fn first_call_windows_start_at_the_first_call() {
        let mut l = Limiter::default();
        let key = (Region::Nl, Uuid::nil(), 1);
        let v = l.check(key, (1, 5000), MinuteWindow::FirstCall, T0);
        assert_eq!(
            header(&v, "X-RateLimit-Minutely-Reset"),
            Some((T0 + MINUTE_MS).to_string())
        );
        assert!(matches!(
            l.check(key, (1, 5000), MinuteWindow::FirstCall, T0 + 59_000),
            Verdict::Refused(_)
        ));
        assert!(matches!(
            l.check(key, (1, 5000), MinuteWindow::FirstCall, T0 + 60_000),
            Verdict::Allowed(_)
        ));
    }
}
