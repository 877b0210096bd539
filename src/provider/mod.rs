//! The provider layer: what any accounting upstream must do, and the registry that picks the
//! implementation for an integration key. Nothing outside `provider/exact/` knows Exact exists;
//! the rest of Ledgerline speaks only the types in this module.

pub mod exact;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use url::Url;

use crate::catalog::{Catalog, RegionSpec};
use crate::clock::Clock;
pub use crate::model::DataType;

/// A tenant's app registration at the upstream (client id and secret for one region).
#[derive(Debug, Clone)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// Tokens the upstream issued.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub access_token: SecretString,
    pub refresh_token: SecretString,
    /// Seconds until the access token expires.
    pub expires_in_secs: u64,
}

/// A company inside the upstream (Exact: a division) that a grant reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamCompany {
    pub id: String,
    pub name: String,
    pub currency: Option<String>,
}

/// What a grant reaches: its companies, and which one the upstream calls current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantReach {
    pub companies: Vec<UpstreamCompany>,
    /// The upstream's idea of the current company; may be outside `companies`.
    pub current: Option<String>,
}

/// Gives a provider a valid access token for one connection, refreshing when needed.
#[async_trait]
pub trait AccessTokens: Send + Sync {
    /// A token believed valid now.
    async fn access_token(&self) -> Result<SecretString, ProviderError>;
    /// The upstream refused `rejected` (401): refresh once and return the new token.
    async fn after_rejection(&self) -> Result<SecretString, ProviderError>;
}

/// One connection's view of the upstream: which integration, which upstream company, its tokens.
pub struct Session<'a> {
    pub integration_key: &'a str,
    /// The pinned upstream company; `None` before one is chosen (during linking).
    pub upstream_company_id: Option<&'a str>,
    pub tokens: &'a dyn AccessTokens,
    /// Whose work the session's calls do: it decides whether they may use the daily reserve.
    pub priority: CallPriority,
}

/// Whose work an upstream call does. On-demand work (a request, a link, a queued pull) may spend
/// the whole daily budget; scheduled work stops at the reserve kept for on-demand work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CallPriority {
    #[default]
    OnDemand,
    Scheduled,
}

/// What the caller must do about a failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// The end customer must reconnect (refresh token dead, consent withdrawn).
    #[error("the end customer must reconnect: {0}")]
    Reconnect(String),
    /// The tenant's admin must fix something (client credentials, scopes, app approval).
    #[error("the integration's settings need attention: {0}")]
    AdminAction(String),
    /// The authorization code was refused (expired, reused, or for another redirect).
    #[error("the authorization code was refused: {0}")]
    CodeRejected(String),
    /// The upstream refuses a refresh this early; the current access token is still valid.
    #[error("the upstream refuses a token refresh this early")]
    RefreshTooEarly,
    /// Limits or outages: try again later (after the given wait, if known).
    #[error("try again later: {message}")]
    RetryLater {
        /// Which limit or failure: a pull shows limits as `RateLimitError`.
        kind: RetryKind,
        message: String,
        after: Option<Duration>,
    },
    /// The upstream answered something we could not use.
    #[error("upstream error: {0}")]
    Upstream(String),
    /// The provider does not offer this (yet).
    #[error("not supported: {0}")]
    Unsupported(String),
}

/// Why the upstream must be tried again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryKind {
    /// The per-minute call limit is spent.
    MinuteLimit,
    /// The per-day call limit is spent.
    DayLimit,
    /// The upstream (or something on the way to it) failed or did not answer.
    Outage,
}

impl RetryKind {
    /// Whether this is one of the upstream's call limits (as opposed to a failure).
    pub fn is_limit(self) -> bool {
        matches!(self, RetryKind::MinuteLimit | RetryKind::DayLimit)
    }
}

/// What is left of an upstream company's daily call limit, as this server counts it (corrected by
/// the upstream's own rate-limit headers on every answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallAllowance {
    pub remaining_today: u32,
    pub per_day: u32,
}

/// How much of a data type a pull asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullMode {
    /// Every record. Records the upstream no longer returns are flagged deleted once the pull
    /// has completed — absence means deletion only here.
    Full,
    /// What changed since this cursor (the opaque position an earlier page gave), with the
    /// deletions the upstream reports.
    Since(String),
}

/// What one pull run asks for: data types of one connection, each with its mode. A provider
/// reads each upstream source once per run, even when several data types come from it.
pub type PullRequest = [(DataType, PullMode)];

/// One page of changes to one data type, handed to the [`PageSink`] before the next is read.
#[derive(Debug, Clone)]
pub struct PulledPage {
    pub data_type: DataType,
    /// `(record id, record JSON in the common model)`.
    pub upserts: Vec<(String, serde_json::Value)>,
    /// Ids the upstream reported deleted.
    pub deleted: Vec<String>,
    /// `(record id, upstream key)`: the keys the upstream names parts of this page's records by
    /// (in its deleted log, say), for [`PageSink::stored_ids`] to find the records by later.
    pub keys: Vec<(String, String)>,
    /// Where a later pull resumes once this page is stored; `None` keeps the previous one.
    pub cursor: Option<String>,
    /// Upstream calls made since the previous page (of any data type).
    pub upstream_calls: u32,
    /// The provider, asked [`PullMode::Since`], reads this data type in full after all (its
    /// change log cannot say what changed): records it does not deliver in this run were
    /// deleted upstream, as after a [`PullMode::Full`] pull. Set on its first page.
    pub read_in_full: bool,
}

impl PulledPage {
    /// An empty page of `data_type`, to fill.
    pub fn new(data_type: DataType) -> Self {
        PulledPage {
            data_type,
            upserts: Vec::new(),
            deleted: Vec::new(),
            keys: Vec::new(),
            cursor: None,
            upstream_calls: 0,
            read_in_full: false,
        }
    }
}

/// Where a provider delivers pages: Ledgerline's store, which commits each page (records,
/// deletions and cursor together) before the provider reads on.
#[async_trait]
pub trait PageSink: Send {
    async fn page(&mut self, page: PulledPage) -> Result<(), SinkError>;

    /// The already stored records of `data_type` (of this run's connection) that upstream
    /// `keys` belong to, as `(key, record id)`; keys of no stored record are left out. Read
    /// only: an incremental pull finds the records its upstream's deleted log names only by a
    /// part (a line, a contact person) without reading everything again. Pages not handed on
    /// yet are not seen, nor are data types the run does not pull.
    async fn stored_ids(
        &mut self,
        data_type: DataType,
        keys: &[String],
    ) -> Result<Vec<(String, String)>, SinkError>;
}

/// Why a sink refused a page. Never the upstream's fault, so never a [`ProviderError`].
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The server is shutting down: the pages so far are stored, the pull stops here.
    #[error("the server is shutting down")]
    Stopped,
    /// The page could not be stored.
    #[error("the pulled data could not be stored: {0}")]
    Store(String),
}

/// Why a pull run ended early.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// One accounting upstream. One implementation serves all its regions.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Where to send the end customer to consent.
    fn authorize_url(
        &self,
        integration_key: &str,
        app: &AppCredentials,
        redirect_url: &str,
        state: &str,
    ) -> Result<Url, ProviderError>;

    /// Trades an authorization code for tokens.
    async fn exchange_code(
        &self,
        integration_key: &str,
        app: &AppCredentials,
        redirect_url: &str,
        code: &str,
    ) -> Result<TokenGrant, ProviderError>;

    /// Trades a refresh token for a new pair (the old refresh token may die with it).
    async fn refresh(
        &self,
        integration_key: &str,
        app: &AppCredentials,
        refresh_token: &SecretString,
    ) -> Result<TokenGrant, ProviderError>;

    /// The upstream companies a grant reaches.
    async fn companies(&self, session: &Session<'_>) -> Result<GrantReach, ProviderError>;

    /// A cheap call that proves the connection still works.
    async fn health_check(&self, session: &Session<'_>) -> Result<(), ProviderError>;

    /// What is left today of the upstream's call limit for one upstream company; `None` when
    /// the upstream has no such limit.
    async fn call_allowance(
        &self,
        integration_key: &str,
        upstream_company_id: &str,
    ) -> Option<CallAllowance> {
        let _ = (integration_key, upstream_company_id);
        None
    }

    /// Whether `data_type` can be pulled [`PullMode::Since`] the stored `cursor` (a cursor an
    /// earlier pull of it gave). `false` makes the caller pull it in full: the provider has no
    /// incremental read for it, or the cursor cannot resume one (an older cursor format).
    fn can_pull_since(&self, data_type: DataType, cursor: &str) -> bool {
        let _ = (data_type, cursor);
        false
    }

    /// Pulls the requested data types of the session's upstream company, page by page into
    /// `sink`. Returns once every requested data type is complete; the caller then ends each
    /// (for a [`PullMode::Full`] one, flagging what was not seen as deleted).
    async fn pull(
        &self,
        session: &Session<'_>,
        request: &PullRequest,
        sink: &mut dyn PageSink,
    ) -> Result<(), PullError> {
        let _ = (session, sink);
        let keys: Vec<&str> = request.iter().map(|(d, _)| d.key()).collect();
        Err(ProviderError::Unsupported(format!(
            "{} is not available from this platform",
            keys.join(", ")
        ))
        .into())
    }
}

/// Where upstream call budgets are counted and how much of each day is kept for on-demand work.
#[derive(Debug, Clone)]
pub struct UpstreamBudget {
    /// Shared by every instance on the same database.
    pub store: crate::store::Store,
    /// Percent of each daily limit that scheduled work leaves for on-demand work.
    pub on_demand_reserve_percent: u8,
}

/// Picks the provider for an integration key and knows each region's base URL.
#[derive(Clone)]
pub struct ProviderRegistry {
    by_integration: HashMap<String, Arc<dyn Provider>>,
}

impl std::fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderRegistry")
            .field(
                "integrations",
                &self.by_integration.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl ProviderRegistry {
    /// Builds every provider the catalog describes. `overrides` (integration key → base URL)
    /// win over each region's environment variable, which wins over the real host.
    pub fn new(
        catalog: &Catalog,
        overrides: &HashMap<String, Url>,
        clock: Clock,
        budget: &UpstreamBudget,
    ) -> Self {
        let http = upstream_http_client();
        let mut by_integration: HashMap<String, Arc<dyn Provider>> = HashMap::new();
        let exact_regions: Vec<(RegionSpec, Url)> = catalog
            .integrations()
            .filter(|i| i.provider.provider == exact::PROVIDER_NAME)
            .map(|i| (i.region.clone(), base_url(i.region, overrides)))
            .collect();
        for (region, url) in &exact_regions {
            // Which host each integration really talks to: a stray variable pointing
            // production at a sandbox (or the reverse) shows at start-up.
            tracing::info!(integration = %region.key, upstream = %url, "upstream in force");
        }
        if let Some(spec) = catalog
            .integrations()
            .find(|i| i.provider.provider == exact::PROVIDER_NAME)
        {
            let provider: Arc<dyn Provider> = Arc::new(exact::ExactProvider::new(
                spec.provider.clone(),
                exact_regions.clone(),
                http,
                clock,
                budget,
            ));
            for (region, _) in exact_regions {
                by_integration.insert(region.key, provider.clone());
            }
        }
        ProviderRegistry { by_integration }
    }

    /// The provider behind an integration key.
    pub fn provider(&self, integration_key: &str) -> Option<Arc<dyn Provider>> {
        self.by_integration.get(integration_key).cloned()
    }
}

fn base_url(region: &RegionSpec, overrides: &HashMap<String, Url>) -> Url {
    overrides
        .get(&region.key)
        .cloned()
        .or_else(|| {
            std::env::var(&region.base_url_env)
                .ok()
                .and_then(|v| Url::parse(&v).ok())
        })
        .unwrap_or_else(|| region.base_url.clone())
}

/// The one HTTP client every upstream call goes through: pooled connections and timeouts,
/// so a hung upstream never holds a task forever.
fn upstream_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("ledgerline/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds")
}
