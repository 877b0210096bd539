//! A connection's recent pulls as a timeline: one lane per data type, one bar per pull from
//! its request to its end, coloured by outcome. Inline SVG drawn here (no script); each bar
//! is focusable and says what it shows, and a table below carries the same facts as text.

use maud::{Markup, html};

use crate::clock::iso_utc;
use crate::store::PullOperationRow;

const WIDTH: f64 = 640.0;
/// Room on the left for the data type names, below for the time labels.
const LEFT: f64 = 118.0;
const BOTTOM: f64 = 20.0;
const LANE: f64 = 22.0;
/// A pull shorter than a pixel is still drawn wide enough to see and to click.
const MIN_BAR: f64 = 4.0;

/// How a pull ended, as a word and a CSS class.
fn outcome(pull: &PullOperationRow) -> (&'static str, &'static str) {
    match pull.status.as_str() {
        "Complete" => ("Complete", "ok"),
        "Queued" | "Fetching" | "Mapping" | "ValidatingQueue" => ("Running", "running"),
        s if s.ends_with("Error") || s == "NotSupported" => ("Failed", "failed"),
        _ => ("Other", "other"),
    }
}

/// "0.4 s", "1.5 s", "12 s", "3 min 5 s".
pub fn duration(ms: i64) -> String {
    match ms {
        ..10_000 => format!("{:.1} s", ms.max(0) as f64 / 1000.0),
        10_000..60_000 => format!("{} s", ms / 1000),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// One line about a pull, for its bar's label and the table.
fn describe(pull: &PullOperationRow, now: i64) -> String {
    let (word, _) = outcome(pull);
    let took = match pull.completed_at {
        Some(end) => format!("took {}", duration(end - pull.requested_at)),
        None => format!("running for {}", duration(now - pull.requested_at)),
    };
    let mut text = format!(
        "{}: {word}, requested {}, {took}",
        pull.data_type,
        iso_utc(pull.requested_at)
    );
    if let Some(records) = pull.records {
        text.push_str(&format!(", {records} records"));
    }
    if let Some(calls) = pull.upstream_calls {
        text.push_str(&format!(", {calls} Exact calls"));
    }
    if let Some(error) = &pull.error_message {
        text.push_str(&format!(" ({error})"));
    }
    text
}

/// The timeline of `pulls` (one connection's, any order) up to `now`; `id` names the SVG.
pub fn pull_timeline(id: &str, pulls: &[PullOperationRow], now: i64) -> Markup {
    let mut pulls: Vec<&PullOperationRow> = pulls.iter().collect();
    pulls.sort_by_key(|p| (p.requested_at, p.id));
    let mut lanes: Vec<&str> = Vec::new();
    for pull in &pulls {
        if !lanes.contains(&pull.data_type.as_str()) {
            lanes.push(&pull.data_type);
        }
    }
    let start = pulls.first().map_or(now, |p| p.requested_at);
    let end = pulls
        .iter()
        .map(|p| p.completed_at.unwrap_or(now))
        .max()
        .unwrap_or(now)
        .max(start + 1);
    let span = (end - start) as f64;
    let x = |t: i64| LEFT + (t - start) as f64 / span * (WIDTH - LEFT - MIN_BAR);
    let height = lanes.len() as f64 * LANE + BOTTOM;
    let failed = pulls.iter().filter(|p| outcome(p).1 == "failed").count();
    let summary = format!(
        "{} pulls of {} data types between {} and {}; {failed} failed",
        pulls.len(),
        lanes.len(),
        iso_utc(start),
        iso_utc(end)
    );
    html! {
        figure.plot.timeline {
            svg id=(id) role="group" aria-labelledby={ (id) "-title" }
                viewBox={ "0 0 " (WIDTH) " " (height) } width="100%"
                preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg" {
                title id={ (id) "-title" } { "Pull history: " (summary) }
                @for (lane, data_type) in lanes.iter().enumerate() {
                    @let y = lane as f64 * LANE;
                    line.axis x1=(LEFT) y1=(y + LANE) x2=(WIDTH) y2=(y + LANE) {}
                    text.tick x=(LEFT - 6.0) y=(y + LANE * 0.68) text-anchor="end" { (data_type) }
                }
                @for pull in &pulls {
                    @let lane = lanes.iter().position(|l| *l == pull.data_type).unwrap_or(0);
                    @let from = x(pull.requested_at);
                    @let width = (x(pull.completed_at.unwrap_or(now)) - from).max(MIN_BAR);
                    @let label = describe(pull, now);
                    // Focusable, so a keyboard reaches each pull and hears what it was.
                    g.pull.(outcome(pull).1) tabindex="0" role="img" aria-label=(label) {
                        title { (label) }
                        rect x=(format!("{from:.1}")) y=(format!("{:.1}", lane as f64 * LANE + 4.0))
                            width=(format!("{width:.1}")) height=(format!("{:.1}", LANE - 8.0)) rx="2" {}
                    }
                }
                text.tick x=(LEFT) y=(height - 5.0) { (iso_utc(start)) }
                text.tick x=(WIDTH) y=(height - 5.0) text-anchor="end" { (iso_utc(end)) }
            }
            figcaption {
                (summary) ". "
                span.key.ok { "complete" } " "
                span.key.running { "running" } " "
                span.key.failed { "failed" }
            }
            details {
                summary { "The pulls as a table" }
                table {
                    thead { tr {
                        th scope="col" { "Data type" } th scope="col" { "Requested (UTC)" }
                        th scope="col" { "Took" } th scope="col" { "Outcome" }
                        th scope="col" { "Records" } th scope="col" { "Exact calls" }
                    } }
                    tbody {
                        @for pull in pulls.iter().rev() {
                            tr {
                                td { (pull.data_type) }
                                td { (iso_utc(pull.requested_at)) }
                                td { (pull.completed_at.map_or_else(|| "running".to_string(), |end| duration(end - pull.requested_at))) }
                                td {
                                    (pull.status)
                                    @if let Some(error) = &pull.error_message { ": " (error) }
                                }
                                td { (pull.records.map_or_else(|| "–".to_string(), |r| r.to_string())) }
                                td { (pull.upstream_calls.map_or_else(|| "–".to_string(), |c| c.to_string())) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn pull(data_type: &str, status: &str, at: i64, took: Option<i64>) -> PullOperationRow {
        PullOperationRow {
            id: Uuid::new_v4(),
            company_id: Uuid::nil(),
            connection_id: Uuid::nil(),
            data_type: data_type.into(),
            status: status.into(),
            requested_at: at,
            completed_at: took.map(|t| at + t),
            progress: 100,
            status_description: None,
            error_message: (status == "FetchError").then(|| "Exact answered 500".into()),
            records: Some(12),
            upstream_calls: Some(3),
            heartbeat_at: None,
        }
    }

    #[test]
    fn each_pull_is_a_focusable_bar_in_its_data_types_lane_with_the_same_facts_in_a_table() {
        let pulls = [
            pull("invoices", "Complete", 1_000, Some(1_500)),
            pull("bills", "FetchError", 2_000, Some(300)),
            pull("invoices", "Fetching", 9_000, None),
        ];
        let svg = pull_timeline("t", &pulls, 10_000).into_string();
        assert_eq!(svg.matches("tabindex=\"0\"").count(), 3, "{svg}");
        assert_eq!(svg.matches("class=\"pull ok\"").count(), 1);
        assert_eq!(svg.matches("class=\"pull failed\"").count(), 1);
        assert_eq!(svg.matches("class=\"pull running\"").count(), 1);
        // Two lanes, invoices first (its first pull came first).
        assert!(svg.find(">invoices</text>").unwrap() < svg.find(">bills</text>").unwrap());
        assert!(
            svg.contains("invoices: Complete, requested 1970-01-01T00:00:01Z, took 1.5 s, 12 records, 3 Exact calls"),
            "{svg}"
        );
        assert!(svg.contains("bills: Failed") && svg.contains("(Exact answered 500)"));
        assert!(svg.contains("3 pulls of 2 data types") && svg.contains("1 failed"));
        assert_eq!(
            svg.matches("<tr>").count(),
            4,
            "a header and a row per pull"
        );
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(420), "0.4 s");
        assert_eq!(duration(12_300), "12 s");
        assert_eq!(duration(185_000), "3 min 5 s");
    }
}
