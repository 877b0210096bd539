//! The sandbox seed: registered apps, users and the options for Exact's UNCONFIRMED behaviours.
//!
//! The embedded `seed.toml` is the default; `ledgerline sandbox --seed-file PATH` replaces it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::region::Region;

/// The default seed, with the documented demo apps and users.
pub const DEFAULT_SEED: &str = include_str!("seed.toml");

/// Every scope the demo apps hold: Codat's recommended set for Exact (CODAT.md §6).
pub const ALL_SCOPES: &[&str] = &[
    "crm.accounts.manage",
    "sales.invoices.manage",
    "purchase.invoices.manage",
    "logistics.items.manage",
    "financial.generalledgers.read",
    "financial.accounting.read",
    "financial.receivables.read",
    "financial.payables.read",
    "financial.costcenters.read",
    "organization.administration.read",
    "documents.manage",
];

/// Apps, users and options, as read from a seed file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Behaviours the public record leaves open.
    #[serde(default)]
    pub options: Options,
    /// Registered apps (per region).
    #[serde(default)]
    pub apps: Vec<App>,
    /// Users who can sign in on the consent page.
    #[serde(default)]
    pub users: Vec<User>,
}

impl Seed {
    /// Registers every app's redirect URI at the Ledgerline server whose base URL is `base`,
    /// so that consent comes back to its `/oauth/callback`.
    pub fn redirect_apps_to(&mut self, base: &str) {
        for app in &mut self.apps {
            app.redirect_uri = format!("{base}/oauth/callback");
        }
    }

    /// The embedded default seed.
    pub fn demo() -> Self {
        Seed::parse(DEFAULT_SEED).expect("the embedded seed.toml parses")
    }

    /// Parses a seed file's text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let seed: Seed = toml::from_str(text)?;
        seed.validate()?;
        Ok(seed)
    }

    /// Reads and parses a seed file.
    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading seed file {}: {e}", path.display()))?;
        Seed::parse(&text)
    }

    fn validate(&self) -> anyhow::Result<()> {
        for app in &self.apps {
            if !self.users.iter().any(|u| u.username == app.owner) {
                anyhow::bail!(
                    "app {} names owner {:?}, who is not a seeded user",
                    app.name,
                    app.owner
                );
            }
        }
        Ok(())
    }
}

/// Options for facts EXACT.md marks UNCONFIRMED; the defaults follow the most likely reading.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// What happens to the previous refresh token after a refresh.
    pub refresh_grace: RefreshGrace,
    /// How the 60-a-minute window is placed.
    pub minute_window: MinuteWindow,
    /// Whether sync endpoints answer 400 without `$select` (every reference client sends one).
    pub sync_requires_select: bool,
    /// Write the Int64 `Timestamp` of sync rows as a string, as OData v2 verbose JSON does (LEAP
    /// types it `Int64String`); `false` writes a JSON number.
    pub timestamp_as_string: bool,
    /// The error a non-owner gets when authorizing an app not yet approved for production.
    pub unapproved_app_message: String,
    /// Rows a page on `read/…` services. Exact says "most READ services don't have such
    /// limitations" as the 60-row CRUD pages (KB-RESTR); the real figure is UNCONFIRMED, so it
    /// is an option, 1000 like bulk and sync by default.
    pub read_page_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            refresh_grace: RefreshGrace::Strict,
            minute_window: MinuteWindow::ClockAligned,
            sync_requires_select: false,
            timestamp_as_string: true,
            unapproved_app_message:
                "This app has not been approved by Exact Online for use by other \
                companies yet. The app owner must request permission in the App Center first."
                    .into(),
            read_page_size: 1000,
        }
    }
}

/// The old-refresh-token rule (EXACT.md §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshGrace {
    /// The previous refresh token dies the moment a refresh succeeds (PQ #300, KB-LIM).
    Strict,
    /// The previous refresh token keeps working until the new access token is first used (INV 1419).
    UntilNewUsed,
}

/// Where minute windows start (EXACT.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinuteWindow {
    /// Windows start on whole clock minutes (observed reset values).
    ClockAligned,
    /// A window starts at the first call after the previous one ended (FRETJE's assumption).
    FirstCall,
}

/// An app registered in one region's App Center.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// The region whose App Center holds the registration; other regions don't know it.
    pub region: Region,
    /// Display name.
    pub name: String,
    /// The OAuth client id.
    #[serde(default = "Uuid::new_v4")]
    pub client_id: Uuid,
    /// The OAuth client secret.
    #[serde(default = "random_secret")]
    pub client_secret: String,
    /// The only redirect URI the authorize and token calls accept.
    pub redirect_uri: String,
    /// Scopes granted in the registration, e.g. `financial.accounting.read`.
    #[serde(default = "all_scopes")]
    pub scopes: Vec<String>,
    /// Key for the HashCode of webhook payloads.
    #[serde(default = "random_secret")]
    pub webhook_secret: String,
    /// The username of the app's owner, the only user who may authorize it before approval.
    pub owner: String,
    /// Approved by Exact for production use (other companies may connect).
    #[serde(default)]
    pub approved: bool,
    /// Calls a minute per division (Exact: 60; older apps carry other values).
    #[serde(default = "default_minutely")]
    pub minutely_limit: u32,
    /// Calls a day per division (Exact: 5,000).
    #[serde(default = "default_daily")]
    pub daily_limit: u32,
}

/// A user who can sign in on the consent page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Sign-in name.
    pub username: String,
    /// Sign-in password (plain: it is a sandbox).
    pub password: String,
    /// `Me.FullName`.
    pub full_name: String,
    /// `Me.Email`.
    pub email: String,
    /// `Me.UserID`.
    #[serde(default = "Uuid::new_v4")]
    pub user_id: Uuid,
    /// Divisions the user may grant, per region; a region left out means every division there.
    #[serde(default)]
    pub divisions: BTreeMap<Region, Vec<i32>>,
    /// `Me.CurrentDivision` per region (the division last open in the web UI: it may lie outside
    /// a grant, as on Exact); default: the first division the user may grant.
    #[serde(default)]
    pub current_division: BTreeMap<Region, i32>,
}

fn random_secret() -> String {
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .take(24)
        .map(char::from)
        .collect()
}

fn all_scopes() -> Vec<String> {
    ALL_SCOPES.iter().map(|s| s.to_string()).collect()
}

fn default_minutely() -> u32 {
    60
}

fn default_daily() -> u32 {
    5_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_seed_has_a_demo_app_per_region() {
        let seed = Seed::demo();
        for region in Region::ALL {
            assert!(
                seed.apps.iter().any(|a| a.region == region && a.approved),
                "{region:?}"
            );
        }
        assert_eq!(seed.options.refresh_grace, RefreshGrace::Strict);
        assert_eq!(seed.options.minute_window, MinuteWindow::ClockAligned);
    }

    #[test]
    fn an_app_owned_by_nobody_is_refused() {
        let text = r#"
            [[apps]]
            region = "nl"
            name = "x"
            redirect_uri = "http://127.0.0.1/cb"
            owner = "ghost"
        "#;
        assert!(Seed::parse(text).is_err());
    }
}
