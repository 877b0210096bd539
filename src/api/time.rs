//! How instants are written on the wire: UTC, `YYYY-MM-DDTHH:MM:SSZ`, as Codat writes its own.

pub use crate::clock::iso_utc;

#[cfg(test)]
mod tests {
    #[test]
    fn writes_utc_with_a_z() {
        assert_eq!(super::iso_utc(1_706_692_500_000), "2024-01-31T09:15:00Z");
    }
}
