//! Exact's limits as pictures: calls a minute over the last hour against 60, and calls a day
//! over the last 30 days against 5,000, per division, as inline SVG drawn here (no script, no
//! chart library), from the per-minute call history the budget writes.

use maud::{Markup, html};

use crate::store::{DAY_MS, MINUTE_MS, day_start, minute_start};

/// Exact's documented limit per division and clock minute.
pub const PER_MINUTE_LIMIT: i64 = 60;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 150.0;
/// Room on the left for the axis labels, and below for the time labels.
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 18.0;

/// Calls in each of the 60 minutes up to `now` (oldest first).
pub fn per_minute(history: &[(i64, i64)], now: i64) -> Vec<i64> {
    let last = minute_start(now);
    (0..60)
        .rev()
        .map(|back| last - back * MINUTE_MS)
        .map(|minute| {
            history
                .iter()
                .filter(|(m, _)| *m == minute)
                .map(|(_, c)| c)
                .sum()
        })
        .collect()
}

/// Calls in each of the 30 UTC days up to `now` (oldest first).
pub fn per_day(history: &[(i64, i64)], now: i64) -> Vec<i64> {
    let today = day_start(now);
    (0..30)
        .rev()
        .map(|back| today - back * DAY_MS)
        .map(|day| {
            history
                .iter()
                .filter(|(m, _)| day_start(*m) == day)
                .map(|(_, c)| c)
                .sum()
        })
        .collect()
}

/// A bar per value with the limit as a dashed line; `first` and `last` label the time axis.
pub fn bar_chart(
    id: &str,
    title: &str,
    values: &[i64],
    limit: i64,
    first: &str,
    last: &str,
) -> Markup {
    let peak = values.iter().copied().max().unwrap_or(0);
    let top = (limit.max(peak) as f64 * 1.1).max(1.0);
    let plot_height = HEIGHT - BOTTOM;
    let y = |v: i64| plot_height - (v as f64 / top) * plot_height;
    let slot = (WIDTH - LEFT) / values.len().max(1) as f64;
    let summary = format!(
        "{title}: highest {peak} against a limit of {limit}; {} in all",
        values.iter().sum::<i64>()
    );
    html! {
        figure.plot {
            svg id=(id) role="img" aria-labelledby={ (id) "-title" } viewBox={ "0 0 " (WIDTH) " " (HEIGHT) }
                width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg" {
                title id={ (id) "-title" } { (summary) }
                line.axis x1=(LEFT) y1=(plot_height) x2=(WIDTH) y2=(plot_height) {}
                text.tick x=(LEFT - 4.0) y=(plot_height) text-anchor="end" { "0" }
                text.tick x=(LEFT - 4.0) y=(y(limit) + 4.0) text-anchor="end" { (limit) }
                @for (i, value) in values.iter().enumerate() {
                    @if *value > 0 {
                        rect.bar.over[*value >= limit] x=(format!("{:.1}", LEFT + i as f64 * slot + 1.0)) y=(format!("{:.1}", y(*value)))
                            width=(format!("{:.1}", (slot - 2.0).max(1.0))) height=(format!("{:.1}", plot_height - y(*value))) {
                            title { (value) }
                        }
                    }
                }
                line.limit x1=(LEFT) y1=(y(limit)) x2=(WIDTH) y2=(y(limit)) {}
                text.tick x=(LEFT) y=(HEIGHT - 4.0) { (first) }
                text.tick x=(WIDTH) y=(HEIGHT - 4.0) text-anchor="end" { (last) }
            }
            figcaption { (summary) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_and_days_fall_in_their_buckets() {
        let now = 100 * DAY_MS + 10 * MINUTE_MS + 5;
        let history = [
            (minute_start(now), 7),
            (minute_start(now) - MINUTE_MS, 3),
            (minute_start(now) - 61 * MINUTE_MS, 50),
            (day_start(now) - DAY_MS, 4),
        ];
        let minutes = per_minute(&history, now);
        assert_eq!(minutes.len(), 60);
        assert_eq!((minutes[59], minutes[58]), (7, 3));
        assert_eq!(
            minutes.iter().sum::<i64>(),
            10,
            "older than an hour is not drawn"
        );
        let days = per_day(&history, now);
        // 61 minutes before 00:10 is yesterday.
        assert_eq!((days[29], days[28]), (10, 54));
    }

    #[test]
    fn a_chart_names_its_peak_and_limit_and_marks_bars_at_the_limit() {
        let svg = bar_chart("c", "Calls a minute", &[0, 12, 60], 60, "-1h", "now").into_string();
        assert!(
            svg.contains("highest 60 against a limit of 60; 72 in all"),
            "{svg}"
        );
        assert_eq!(svg.matches("<rect").count(), 2);
        assert_eq!(svg.matches("class=\"bar over\"").count(), 1);
    }
}
