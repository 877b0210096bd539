//! The Exact Online regions the sandbox serves, each under its own path prefix.

use serde::{Deserialize, Serialize};

/// An Exact Online region: a separate host with its own app registrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// start.exactonline.nl: EUR, Dutch VAT (21 %, 9 %, 0 %).
    Nl,
    /// start.exactonline.co.uk: GBP, UK VAT (20 %, 5 %, 0 %).
    Uk,
}

impl Region {
    /// Every region the sandbox serves.
    pub const ALL: [Region; 2] = [Region::Nl, Region::Uk];

    /// The path prefix the region is served under (`/nl`, `/uk`).
    pub fn path_prefix(self) -> &'static str {
        match self {
            Region::Nl => "nl",
            Region::Uk => "uk",
        }
    }

    /// The region served under a path prefix (`nl`, `uk`; case-insensitive).
    pub fn from_prefix(prefix: &str) -> Option<Region> {
        Region::ALL
            .into_iter()
            .find(|r| r.path_prefix().eq_ignore_ascii_case(prefix))
    }

    /// The division's default currency.
    pub fn currency(self) -> &'static str {
        match self {
            Region::Nl => "EUR",
            Region::Uk => "GBP",
        }
    }
}
