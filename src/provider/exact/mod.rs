//! Exact Online: one implementation for every region (NL, UK, …); what differs per region
//! (host, app registrations, currency) comes from `providers/exact-online.toml`.

pub mod accounts;
pub mod bills;
pub mod budget;
pub mod client;
pub mod company_info;
pub mod credit_notes;
pub mod cursor;
pub mod invoices;
pub mod journal_entries;
pub mod oauth;
pub mod odata;
mod pull;
pub mod relations;
pub mod row;
mod stream;
pub mod transaction_lines;

use std::collections::HashMap;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use self::budget::CallBudget;
use self::client::ApiClient;
use self::oauth::GrantKind;
use crate::catalog::{ProviderSpec, RegionSpec};
use crate::clock::Clock;
use crate::provider::{
    AppCredentials, CallAllowance, GrantReach, PageSink, Provider, ProviderError, PullError,
    PullRequest, Session, TokenGrant, UpstreamBudget, UpstreamCompany,
};

/// The provider name in `providers/exact-online.toml`.
pub const PROVIDER_NAME: &str = "exact-online";

/// Exact Online, all regions.
#[derive(Debug)]
pub struct ExactProvider {
    spec: ProviderSpec,
    /// Integration key → base URL (the real host, or an override such as the sandbox).
    base_urls: HashMap<String, Url>,
    api: ApiClient,
    budget: CallBudget,
}

impl ExactProvider {
    pub fn new(
        spec: ProviderSpec,
        regions: Vec<(RegionSpec, Url)>,
        http: reqwest::Client,
        clock: Clock,
        budget: &UpstreamBudget,
    ) -> Self {
        let budget = CallBudget::new(
            clock,
            budget.store.clone(),
            spec.limits.calls_per_minute,
            spec.limits.calls_per_day,
            budget.on_demand_reserve_percent,
        );
        ExactProvider {
            base_urls: regions.into_iter().map(|(r, url)| (r.key, url)).collect(),
            spec,
            api: ApiClient { http },
            budget,
        }
    }

    /// `{base}{path}`: a base may carry a path of its own (the sandbox's `/nl`).
    fn url(&self, integration_key: &str, path: &str) -> Result<Url, ProviderError> {
        let base = self.base_urls.get(integration_key).ok_or_else(|| {
            ProviderError::Unsupported(format!("no Exact region for {integration_key}"))
        })?;
        let joined = format!("{}{path}", base.as_str().trim_end_matches('/'));
        Url::parse(&joined).map_err(|e| ProviderError::Upstream(format!("bad URL {joined}: {e}")))
    }

    fn api_url(&self, integration_key: &str, path: &str) -> Result<Url, ProviderError> {
        self.url(
            integration_key,
            &format!("{}/{path}", self.spec.oauth.api_path),
        )
    }

    async fn token_request(
        &self,
        integration_key: &str,
        app: &AppCredentials,
        kind: GrantKind,
        form: &[(&str, &str)],
    ) -> Result<TokenGrant, ProviderError> {
        let token_url = self.url(integration_key, &self.spec.oauth.token_path)?;
        oauth::request_tokens(
            &self.api.http,
            &token_url,
            app,
            kind,
            form,
            self.spec.oauth.access_token_lifetime_secs,
        )
        .await
    }

    /// `current/Me`: the user's current division. Exact does not count it against the limits.
    async fn current_division(&self, session: &Session<'_>) -> Result<Option<i64>, ProviderError> {
        let mut url = self.api_url(session.integration_key, "current/Me")?;
        url.query_pairs_mut()
            .append_pair("$select", "CurrentDivision");
        let body = self.api.get(session, &self.budget, None, &url).await?;
        let page = odata::list_page(body).map_err(ProviderError::Upstream)?;
        Ok(page
            .results
            .first()
            .and_then(|me| odata::int64(&me["CurrentDivision"])))
    }
}

#[async_trait]
impl Provider for ExactProvider {
    fn authorize_url(
        &self,
        integration_key: &str,
        app: &AppCredentials,
        redirect_url: &str,
        state: &str,
    ) -> Result<Url, ProviderError> {
        let mut url = self.url(integration_key, &self.spec.oauth.authorize_path)?;
        url.query_pairs_mut()
            .append_pair("client_id", &app.client_id)
            .append_pair("redirect_uri", redirect_url)
            .append_pair("response_type", "code")
            .append_pair("state", state)
            // Let the end customer pick the account they mean, even when signed in elsewhere.
            .append_pair("force_login", "0");
        Ok(url)
    }

    async fn exchange_code(
        &self,
        integration_key: &str,
        app: &AppCredentials,
        redirect_url: &str,
        code: &str,
    ) -> Result<TokenGrant, ProviderError> {
        self.token_request(
            integration_key,
            app,
            GrantKind::AuthorizationCode,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_url),
            ],
        )
        .await
    }

    async fn refresh(
        &self,
        integration_key: &str,
        app: &AppCredentials,
        refresh_token: &SecretString,
    ) -> Result<TokenGrant, ProviderError> {
        self.token_request(
            integration_key,
            app,
            GrantKind::RefreshToken,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
            ],
        )
        .await
    }

    /// The divisions the grant reaches (`system/Divisions` lists only those).
    async fn companies(&self, session: &Session<'_>) -> Result<GrantReach, ProviderError> {
        let current = self.current_division(session).await?;
        // Exact does not validate the division in this path, so the current one always works.
        let path_division = current.unwrap_or(0).to_string();
        let mut url = self.api_url(
            session.integration_key,
            &format!("{path_division}/system/Divisions"),
        )?;
        url.query_pairs_mut()
            .append_pair("$select", "Code,Description,Currency");
        let budget_key = (session.integration_key.to_string(), path_division);
        let rows = self
            .api
            .get_all(session, &self.budget, Some(&budget_key), url)
            .await?;
        let companies = rows
            .iter()
            .filter_map(|row: &Value| {
                Some(UpstreamCompany {
                    id: odata::int64(&row["Code"])?.to_string(),
                    name: odata::text(&row["Description"]).unwrap_or_default(),
                    currency: odata::text(&row["Currency"]),
                })
            })
            .collect();
        Ok(GrantReach {
            companies,
            current: current.map(|c| c.to_string()),
        })
    }

    async fn health_check(&self, session: &Session<'_>) -> Result<(), ProviderError> {
        self.current_division(session).await.map(|_| ())
    }

    async fn call_allowance(
        &self,
        integration_key: &str,
        upstream_company_id: &str,
    ) -> Option<CallAllowance> {
        let key = (integration_key.to_string(), upstream_company_id.to_string());
        match self.budget.remaining_today(&key).await {
            Ok((remaining_today, per_day)) => Some(CallAllowance {
                remaining_today,
                per_day,
            }),
            Err(error) => {
                tracing::warn!(%error, "the remaining call budget could not be read");
                None
            }
        }
    }

    /// The data types in `pull::INCREMENTAL`, from a cursor of the current format holding a
    /// position for each sync endpoint they read (see `pull`).
    fn can_pull_since(&self, data_type: crate::provider::DataType, cursor: &str) -> bool {
        pull::INCREMENTAL
            .iter()
            .find(|(d, _)| *d == data_type)
            .is_some_and(|(_, endpoints)| {
                cursor::SyncCursor::parse(cursor).is_some_and(|c| c.covers(endpoints))
            })
    }

    async fn pull(
        &self,
        session: &Session<'_>,
        request: &PullRequest,
        sink: &mut dyn PageSink,
    ) -> Result<(), PullError> {
        self.pull_data(session, request, sink).await
    }
}
