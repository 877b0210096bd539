//! The integrations a tenant can configure, read from the data files in `providers/`.
//!
//! The files are compiled into the binary, so a deployment is one file; they stay data so that
//! a new region is an edit to `providers/exact-online.toml`, not new code.

use serde::{Deserialize, Serialize};
use url::Url;
use utoipa::ToSchema;

const EXACT_ONLINE: &str = include_str!("../providers/exact-online.toml");

/// One upstream's description: OAuth rules, limits, scopes and regional hosts.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderSpec {
    pub provider: String,
    pub display_name: String,
    pub oauth: OAuthSpec,
    pub limits: LimitsSpec,
    pub scopes: Vec<Scope>,
    pub regions: Vec<RegionSpec>,
}

/// Where the OAuth endpoints are and the token rules the upstream enforces.
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthSpec {
    pub authorize_path: String,
    pub token_path: String,
    pub api_path: String,
    pub access_token_lifetime_secs: u64,
    pub refresh_not_before_secs: u64,
    pub refresh_margin_secs: u64,
    pub refresh_token_idle_days: u64,
    pub keep_alive_after_days: u64,
}

/// The upstream's call limits per company.
#[derive(Debug, Clone, Deserialize)]
pub struct LimitsSpec {
    pub calls_per_minute: u32,
    pub calls_per_day: u32,
    pub page_size: u32,
    pub bulk_page_size: u32,
}

/// A permission to tick in the upstream's app registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Scope {
    /// Functional area, e.g. `Financial`.
    pub area: String,
    /// What inside the area, e.g. `Receivables`.
    pub item: String,
    /// `Read` or `Manage`.
    pub access: String,
}

/// One regional host of the upstream: its own app registrations, currency and tax codes.
#[derive(Debug, Clone, Deserialize)]
pub struct RegionSpec {
    /// Our integration key, e.g. `exact-online-nl`.
    pub key: String,
    /// Codat's 4-character platform key, where Codat has one (`qudb`, `pbbf`).
    pub platform_key: Option<String>,
    pub region: String,
    pub name: String,
    pub base_url: Url,
    pub app_center_url: Option<Url>,
    pub currency: String,
    /// Environment variable that points this region at another host (the sandbox, in tests).
    pub base_url_env: String,
    /// Offered to tenants; `false` regions are described for later.
    pub enabled: bool,
}

/// Every integration Ledgerline knows, loaded once at start-up.
#[derive(Debug, Clone)]
pub struct Catalog {
    providers: Vec<ProviderSpec>,
}

/// An integration as the settings API and the connection flow see it.
#[derive(Debug, Clone)]
pub struct Integration<'a> {
    pub provider: &'a ProviderSpec,
    pub region: &'a RegionSpec,
}

impl Catalog {
    /// Parses the provider files compiled into the binary.
    pub fn load() -> Catalog {
        let exact: ProviderSpec =
            toml::from_str(EXACT_ONLINE).expect("providers/exact-online.toml is valid");
        Catalog {
            providers: vec![exact],
        }
    }

    /// The integrations offered to tenants, in file order.
    pub fn integrations(&self) -> impl Iterator<Item = Integration<'_>> {
        self.providers.iter().flat_map(|provider| {
            provider
                .regions
                .iter()
                .filter(|region| region.enabled)
                .map(move |region| Integration { provider, region })
        })
    }

    /// An offered integration by our key (`exact-online-nl`) or Codat's (`qudb`).
    pub fn integration(&self, key: &str) -> Option<Integration<'_>> {
        self.integrations().find(|i| {
            i.region.key.eq_ignore_ascii_case(key)
                || i.region
                    .platform_key
                    .as_deref()
                    .is_some_and(|p| p.eq_ignore_ascii_case(key))
        })
    }

    /// The keys of every offered integration, for error messages.
    pub fn keys(&self) -> Vec<&str> {
        self.integrations().map(|i| i.region.key.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_exact_nl_and_uk_and_describes_the_other_regions() {
        let catalog = Catalog::load();
        assert_eq!(catalog.keys(), vec!["exact-online-nl", "exact-online-uk"]);
        let regions = &catalog.providers[0].regions;
        for later in ["be", "de", "fr", "es", "us"] {
            assert!(regions.iter().any(|r| r.region == later && !r.enabled));
        }
    }

    #[test]
    fn finds_integrations_by_our_key_or_codats() {
        let catalog = Catalog::load();
        assert_eq!(
            catalog.integration("qudb").unwrap().region.key,
            "exact-online-nl"
        );
        assert_eq!(
            catalog
                .integration("PBBF")
                .unwrap()
                .region
                .base_url
                .as_str(),
            "https://start.exactonline.co.uk/"
        );
        assert!(catalog.integration("exact-online-be").is_none());
        assert!(catalog.integration("xero").is_none());
    }

    #[test]
    fn exact_token_rules_are_the_documented_ones() {
        let oauth = &Catalog::load().providers[0].oauth;
        assert_eq!(oauth.access_token_lifetime_secs, 600);
        assert_eq!(oauth.refresh_not_before_secs, 570);
    }
}
