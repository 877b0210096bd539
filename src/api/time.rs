//! How instants are written on the wire: UTC, `YYYY-MM-DDTHH:MM:SSZ`, as Codat writes its own.

use chrono::{SecondsFormat, TimeZone, Utc};

/// Epoch milliseconds → `2024-01-31T09:15:00Z`.
pub fn iso_utc(epoch_ms: i64) -> String {
    Utc.timestamp_millis_opt(epoch_ms)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_utc_with_a_z() {
        assert_eq!(super::iso_utc(1_706_692_500_000), "2024-01-31T09:15:00Z");
    }
}
