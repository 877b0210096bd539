//! The link flow: from a connection's `linkUrl` to the upstream's consent page and back.
//!
//! The `state` handed to the upstream is `{id}.{signature}`: the id names a single-use row
//! that expires after 15 minutes, and the signature (HMAC under a key derived from the master
//! key) binds it to its connection, so a tampered or replayed state is recognised. Every
//! failure ends on a page for the end customer and an error entry for the developer; a
//! connection only becomes `Linked` together with its tokens, in one transaction.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::SecretString;
use url::Url;
use uuid::Uuid;

use super::app_credentials;
use super::tokens::TokenEngine;
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::crypto::MasterKey;
use crate::provider::{
    AccessTokens, AppCredentials, ProviderError, ProviderRegistry, Session, TokenGrant,
};
use crate::store::{
    ConnectionRow, ConnectionStatus, LinkStateUse, Store, StoreError, UpstreamCompanyRef,
};

/// How long an end customer has between leaving for the upstream and coming back.
const STATE_TTL_MS: i64 = 15 * 60_000;

/// How long a re-link URL the tenant requested through the API stays usable.
pub const RELINK_TTL_MS: i64 = 60 * 60_000;

/// A page shown to the end customer, in words a bookkeeper understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPage {
    pub status: u16,
    pub title: String,
    pub message: String,
}

impl LinkPage {
    fn new(status: u16, title: &str, message: impl Into<String>) -> Self {
        LinkPage {
            status,
            title: title.to_string(),
            message: message.into(),
        }
    }
}

/// How the callback ended: the page to show and, on success, the connection just linked.
#[derive(Debug)]
pub struct LinkOutcome {
    pub page: LinkPage,
    pub linked: Option<ConnectionRow>,
}

impl From<LinkPage> for LinkOutcome {
    fn from(page: LinkPage) -> Self {
        LinkOutcome { page, linked: None }
    }
}

/// What the upstream sent back to the callback.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Runs the link flow. Cloning shares everything.
#[derive(Clone)]
pub struct Linker {
    pub store: Store,
    pub master_key: MasterKey,
    pub clock: Clock,
    pub registry: ProviderRegistry,
    pub catalog: Arc<Catalog>,
    pub engine: TokenEngine,
    /// Our OAuth callback URL, as registered in the tenant's upstream app.
    pub redirect_url: String,
}

impl std::fmt::Debug for Linker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker")
            .field("redirect_url", &self.redirect_url)
            .finish()
    }
}

/// A failure: the page for the end customer and, when known, the entry for the developer.
struct Failure {
    page: LinkPage,
    record: Option<(&'static str, &'static str, String)>,
}

fn fail(status: u16, title: &str, page: &str) -> Failure {
    Failure {
        page: LinkPage::new(status, title, page),
        record: None,
    }
}

impl Failure {
    fn recorded(
        mut self,
        code: &'static str,
        text: &'static str,
        developer: impl Into<String>,
    ) -> Self {
        self.record = Some((code, text, developer.into()));
        self
    }
}

impl Linker {
    /// A token that lets the connection's `linkUrl` start a new consent although the
    /// connection is `Linked`: `{expires_ms}.{signature}`, issued only to the tenant's API key.
    pub fn relink_token(&self, connection_id: Uuid) -> (String, i64) {
        let expires = self.clock.now_ms() + RELINK_TTL_MS;
        let signature = self
            .master_key
            .sign(&relink_message(connection_id, expires));
        (format!("{expires}.{signature}"), expires)
    }

    fn relink_allowed(&self, connection_id: Uuid, token: Option<&str>) -> bool {
        let Some((expires, signature)) = token.and_then(|t| t.split_once('.')) else {
            return false;
        };
        let Ok(expires) = expires.parse::<i64>() else {
            return false;
        };
        expires > self.clock.now_ms()
            && self
                .master_key
                .verify(&relink_message(connection_id, expires), signature)
    }

    /// Where to send the end customer who opened the connection's `linkUrl` (with the
    /// `relink` token the tenant requested, if any).
    pub async fn start(&self, connection_id: Uuid, relink: Option<&str>) -> Result<Url, LinkPage> {
        let connection = match self.store.connection_by_id(connection_id).await {
            Ok(c) => c,
            Err(_) => {
                return Err(LinkPage::new(
                    404,
                    "Link not found",
                    "This connection link is not valid. Ask the app that sent you here for a new one.",
                ));
            }
        };
        // A Linked connection is re-linked only with the tenant's say-so: otherwise anyone
        // holding the linkUrl could point it at another administration.
        if connection.status == ConnectionStatus::Linked
            && !self.relink_allowed(connection.id, relink)
        {
            return Err(LinkPage::new(
                409,
                "Already connected",
                "This accounting connection is already set up; there is nothing more to do. \
                 If it needs changing, ask the app that sent you here for a new link.",
            ));
        }
        match self.start_for(&connection).await {
            Ok(url) => Ok(url),
            Err(failure) => Err(self.record(&connection, failure).await),
        }
    }

    async fn start_for(&self, connection: &ConnectionRow) -> Result<Url, Failure> {
        if connection.status == ConnectionStatus::Unlinked {
            return Err(fail(
                409,
                "Connection closed",
                "This connection was closed by the app that sent you here. Ask them for a new link.",
            ));
        }
        let key = &connection.integration_key;
        let name = self.integration_name(key);
        let setting = self
            .store
            .get_integration_setting(connection.tenant_id, key)
            .await
            .ok();
        if !setting.as_ref().is_some_and(|s| s.enabled) {
            return Err(fail(409, "Not available", &format!("Connecting to {name} is switched off right now. Please contact the app that sent you here."))
                .recorded("409", "IntegrationDisabled", format!(
                    "The end customer opened the linkUrl, but {key} is disabled or has no credentials: \
                     PUT /settings/integrations/{key} and enable it, then send the linkUrl again"
                )));
        }
        let app = self.app(connection).await?;
        let provider = self.provider(key)?;
        let mut random = [0u8; 18];
        rand::rngs::OsRng.fill_bytes(&mut random);
        let id = URL_SAFE_NO_PAD.encode(random);
        let state = format!(
            "{id}.{}",
            self.master_key.sign(&state_message(&id, connection.id))
        );
        let now = self.clock.now_ms();
        self.store
            .create_link_state(&id, connection.id, now, now + STATE_TTL_MS)
            .await
            .map_err(|e| internal(&e.to_string()))?;
        provider
            .authorize_url(key, &app, &self.redirect_url, &state)
            .map_err(|e| internal(&e.to_string()))
    }

    /// Completes the flow when the upstream redirects back.
    pub async fn finish(&self, params: CallbackParams) -> LinkOutcome {
        self.finish_page(params).await
    }

    async fn finish_page(&self, params: CallbackParams) -> LinkOutcome {
        let Some(state) = params.state.as_deref().filter(|s| !s.is_empty()) else {
            return LinkPage::new(
                400,
                "Link not valid",
                "This page was opened without the information it needs. Start again from the app that sent you here.",
            )
            .into();
        };
        let (id, signature) = state.split_once('.').unwrap_or((state, ""));
        let connection_id = match self.store.consume_link_state_peek(id).await {
            Ok(Some(connection_id)) => connection_id,
            found => {
                // Never a state we issued (forged, or from another server): worth an
                // operator's look, and no connection to record it on. The value is not logged.
                tracing::warn!(
                    lookup_failed = found.is_err(),
                    "OAuth callback refused: its state was not issued by this server"
                );
                return LinkPage::new(
                    400,
                    "Link not valid",
                    "This sign-in link is not valid. Start again from the app that sent you here.",
                )
                .into();
            }
        };
        let Ok(connection) = self.store.connection_by_id(connection_id).await else {
            return LinkPage::new(
                404,
                "Link not found",
                "This connection no longer exists. Ask the app that sent you here for a new link.",
            )
            .into();
        };
        let outcome = self.finish_for(&connection, id, signature, &params).await;
        match outcome {
            Ok(page) => LinkOutcome {
                page,
                linked: Some(connection),
            },
            Err(failure) => self.record(&connection, failure).await.into(),
        }
    }

    async fn finish_for(
        &self,
        connection: &ConnectionRow,
        id: &str,
        signature: &str,
        params: &CallbackParams,
    ) -> Result<LinkPage, Failure> {
        if !self
            .master_key
            .verify(&state_message(id, connection.id), signature)
        {
            return Err(fail(400, "Link not valid", "This sign-in link was altered and cannot be used. Start again from the app that sent you here.")
                .recorded("400", "InvalidState", "The OAuth callback carried a state whose signature does not match (tampered). Nothing was linked; send the end customer the linkUrl again"));
        }
        match self.store.consume_link_state(id, self.clock.now_ms()).await {
            Ok(LinkStateUse::Fresh(_)) => {}
            Ok(LinkStateUse::AlreadyUsed(_)) => {
                return Err(fail(400, "Link already used", "This sign-in link was already used. If you are not connected yet, start again from the app that sent you here.")
                    .recorded("400", "StateReplayed", "The OAuth callback was replayed with a state that was already used; the second attempt was refused. If the connection is not Linked, send the end customer the linkUrl again"));
            }
            Ok(LinkStateUse::Expired(_)) => {
                return Err(fail(400, "Link expired", "You took longer than 15 minutes to finish signing in. Please start again from the app that sent you here.")
                    .recorded("400", "StateExpired", "The end customer returned from the upstream after the 15-minute state expired. Send them the linkUrl again"));
            }
            Ok(LinkStateUse::Unknown) | Err(_) => {
                return Err(fail(
                    400,
                    "Link not valid",
                    "This sign-in link is not valid. Start again from the app that sent you here.",
                ));
            }
        }
        let name = self.integration_name(&connection.integration_key);
        if let Some(error) = params.error.as_deref() {
            return Err(upstream_refusal(
                &name,
                error,
                params.error_description.as_deref(),
            ));
        }
        let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
            return Err(fail(
                400,
                "Something went wrong",
                &format!("{name} did not send the sign-in confirmation back. Please start again."),
            )
            .recorded(
                "400",
                "MissingCode",
                "The OAuth callback carried neither a code nor an error",
            ));
        };
        let key = &connection.integration_key;
        let app = self.app(connection).await?;
        let provider = self.provider(key)?;
        let grant = provider
            .exchange_code(key, &app, &self.redirect_url, code)
            .await
            .map_err(|e| provider_failure(&name, e))?;
        let tokens = FixedTokens(grant.clone());
        let session = Session {
            integration_key: key,
            upstream_company_id: None,
            tokens: &tokens,
            priority: crate::provider::CallPriority::OnDemand,
        };
        let reach = provider
            .companies(&session)
            .await
            .map_err(|e| provider_failure(&name, e))?;
        let mut available: Vec<UpstreamCompanyRef> = reach
            .companies
            .iter()
            .map(|c| UpstreamCompanyRef {
                id: c.id.clone(),
                name: c.name.clone(),
            })
            .collect();
        available.sort_by(|a, b| a.id.cmp(&b.id));
        let pinned = pick_company(connection, &available, reach.current.as_deref()).ok_or_else(|| {
            fail(409, "No administration chosen", &format!("You did not give access to any administration in {name}. Please start again and tick at least one."))
                .recorded("409", "NoCompanyGranted", "The end customer's consent reaches no administration (division); send them the linkUrl again")
        })?;
        let sealed = self.engine.seal(connection.id, &grant);
        self.store
            .link_connection(connection.id, &sealed, &pinned, &available)
            .await
            .map_err(|e| internal(&e.to_string()))?;
        tracing::info!(connection.id = %connection.id, upstream.company = %pinned.id, "connection linked");
        Ok(LinkPage::new(
            200,
            "Connected",
            format!(
                "Your {name} administration \u{201c}{}\u{201d} is now connected. You can close this window.",
                pinned.name
            ),
        ))
    }

    async fn record(&self, connection: &ConnectionRow, failure: Failure) -> LinkPage {
        if let Some((code, text, message)) = failure.record {
            tracing::warn!(connection.id = %connection.id, status = text, %message, "link failed");
            if let Err(e) = self
                .store
                .add_connection_error(connection.id, code, text, &message)
                .await
            {
                tracing::error!(error = %e, "could not record a connection error");
            }
        }
        failure.page
    }

    async fn app(&self, connection: &ConnectionRow) -> Result<AppCredentials, Failure> {
        app_credentials(
            &self.store,
            &self.master_key,
            connection.tenant_id,
            &connection.integration_key,
        )
        .await
        .map_err(|e| {
            fail(409, "Not available", "This connection is not set up correctly. Please contact the app that sent you here.")
                .recorded("409", "IntegrationNotConfigured", e.to_string())
        })
    }

    fn provider(&self, key: &str) -> Result<Arc<dyn crate::provider::Provider>, Failure> {
        self.registry
            .provider(key)
            .ok_or_else(|| internal(&format!("no provider for {key}")))
    }

    fn integration_name(&self, key: &str) -> String {
        self.catalog
            .integration(key)
            .map(|i| i.region.name.clone())
            .unwrap_or_else(|| key.to_string())
    }
}

fn relink_message(connection_id: Uuid, expires: i64) -> String {
    format!("relink:{connection_id}:{expires}")
}

fn state_message(id: &str, connection_id: Uuid) -> String {
    format!("link-state:{id}:{connection_id}")
}

fn internal(detail: &str) -> Failure {
    tracing::error!(detail, "link flow failed internally");
    fail(
        500,
        "Something went wrong",
        "Something went wrong on our side. Please try again in a few minutes.",
    )
}

/// The upstream redirected back with an error instead of a code.
fn upstream_refusal(name: &str, error: &str, description: Option<&str>) -> Failure {
    let said = description.unwrap_or(error);
    match error {
        "access_denied" => fail(403, "Not connected", &format!("You chose not to give access to {name}. Nothing was shared. If you change your mind, start again from the app that sent you here."))
            .recorded("403", "AccessDenied", format!("The end customer declined consent at {name}. Send them the linkUrl again if they change their mind")),
        "unauthorized_client" => fail(403, "Not available yet", &format!("{name} has not yet approved this app for use by other companies, so it cannot connect to your administration yet. Please let the app that sent you here know."))
            .recorded("403", "AppNotApproved", format!(
                "{name} refused the consent: the app is not approved for production use ({said}). The app's owner must request \
                 permission in Exact's App Center before other companies can connect; until then only the app owner can sign in"
            )),
        _ => fail(400, "Not connected", &format!("{name} could not complete the sign-in. Please start again from the app that sent you here."))
            .recorded("400", "UpstreamError", format!("{name} redirected back with error '{error}': {said}")),
    }
}

/// A failed code exchange or first call, as the end customer and the developer should see it.
fn provider_failure(name: &str, error: ProviderError) -> Failure {
    match error {
        ProviderError::CodeRejected(why) => fail(
            400,
            "Sign-in expired",
            &format!(
                "The sign-in at {name} took too long or was already used. Please start again."
            ),
        )
        .recorded("400", "CodeRejected", why),
        ProviderError::AdminAction(why) => fail(
            409,
            "Not available",
            "This connection is not set up correctly. Please contact the app that sent you here.",
        )
        .recorded("401", "ClientCredentialsRejected", why),
        ProviderError::RetryLater { message, .. } => fail(
            503,
            "Try again later",
            &format!("{name} is not reachable right now. Please try again in a few minutes."),
        )
        .recorded("503", "UpstreamUnavailable", message),
        other => fail(
            502,
            "Something went wrong",
            &format!("{name} answered in a way we did not expect. Please try again later."),
        )
        .recorded("502", "UpstreamError", other.to_string()),
    }
}

/// Keeps the company the connection had (a re-link), else the upstream's current one if the
/// grant reaches it, else the lowest id.
fn pick_company(
    connection: &ConnectionRow,
    available: &[UpstreamCompanyRef],
    current: Option<&str>,
) -> Option<UpstreamCompanyRef> {
    let find = |id: &str| available.iter().find(|c| c.id == id).cloned();
    connection
        .upstream_company
        .as_ref()
        .and_then(|c| find(&c.id))
        .or_else(|| current.and_then(find))
        .or_else(|| available.first().cloned())
}

/// The tokens of a grant not stored yet (during linking).
struct FixedTokens(TokenGrant);

#[async_trait]
impl AccessTokens for FixedTokens {
    async fn access_token(&self) -> Result<SecretString, ProviderError> {
        Ok(self.0.access_token.clone())
    }
    async fn after_rejection(&self) -> Result<SecretString, ProviderError> {
        Err(ProviderError::Upstream(
            "the upstream refused the token it had just issued".into(),
        ))
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        internal(&e.to_string())
    }
}
