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

/// A callback that has kept no result this long after it began never will (its server stopped):
/// far longer than a callback takes, retries and a wait for Exact's minute limit included.
const UNFINISHED_AFTER_MS: i64 = 5 * 60_000;

/// How long a re-link URL the tenant requested through the API stays usable.
pub const RELINK_TTL_MS: i64 = 60 * 60_000;

/// A page shown to the end customer, in words a bookkeeper understands: what happened and
/// what to do next. `{app}` in the text stands for the tenant's name (the app that sent the
/// customer here), filled in when the page is drawn. Stored as JSON with its state, so that
/// the result page and a repeated callback show it again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkPage {
    pub status: u16,
    pub title: String,
    pub message: String,
    /// What to do next; empty when there is nothing to do.
    #[serde(default)]
    pub next: String,
    /// The error recorded on the connection (`dataConnectionErrors[].statusText`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
}

impl LinkPage {
    pub fn new(status: u16, title: &str, message: impl Into<String>, next: &str) -> Self {
        LinkPage {
            status,
            title: title.to_string(),
            message: message.into(),
            next: next.to_string(),
            status_text: None,
        }
    }

    /// Whether the link flow ended with a working connection.
    pub fn linked(&self) -> bool {
        self.status == 200 && self.status_text.is_none()
    }

    /// The outcome in Codat's redirect parameters.
    pub fn redirect_outcome(&self) -> super::return_url::RedirectOutcome {
        match &self.status_text {
            None if self.status == 200 => super::return_url::RedirectOutcome::success(),
            Some(text) => super::return_url::RedirectOutcome::failure(text),
            None => super::return_url::RedirectOutcome::failure("UnknownError"),
        }
    }
}

/// The link page for a link id that is not ours.
pub fn not_found_page() -> LinkPage {
    LinkPage::new(
        404,
        "This link does not work",
        "This link is not valid, or it was replaced by a newer one.",
        "Ask {app} for a new link.",
    )
}

/// How the callback ended.
#[derive(Debug)]
pub enum CallbackAnswer {
    /// Go to the result page of this `state` (POST/redirect/GET): the first callback's result
    /// is stored with the state, so a reload or the back button shows it again. `linked` is
    /// the connection this callback linked (not a repeat's).
    Result {
        state: String,
        linked: Option<ConnectionRow>,
    },
    /// Show this page here: there is no state of ours to keep a result with.
    Page(LinkPage),
}

impl From<LinkPage> for CallbackAnswer {
    fn from(page: LinkPage) -> Self {
        CallbackAnswer::Page(page)
    }
}

/// What the result page of a `state` shows.
#[derive(Debug)]
pub enum LinkResult {
    /// The state is not ours, or was altered.
    Unknown,
    /// A callback with this state is still running.
    Pending,
    /// A callback used this state but never finished (its server stopped mid-way).
    Unfinished,
    /// The link flow ended: its page, and the connection it was for.
    Done {
        page: Box<LinkPage>,
        connection: Box<ConnectionRow>,
    },
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
    /// Boxed: a `Failure` is the error of most steps here, and should be small to return.
    page: Box<LinkPage>,
    record: Option<(&'static str, &'static str, String)>,
}

fn fail(status: u16, title: &str, message: &str, next: &str) -> Failure {
    Failure {
        page: Box::new(LinkPage::new(status, title, message, next)),
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
        self.page.status_text = Some(text.to_string());
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
            Err(_) => return Err(not_found_page()),
        };
        // A Linked connection is re-linked only with the tenant's say-so: otherwise anyone
        // holding the linkUrl could point it at another administration.
        if connection.status == ConnectionStatus::Linked
            && !self.relink_allowed(connection.id, relink)
        {
            let name = self.integration_name(&connection.integration_key);
            return Err(LinkPage::new(
                409,
                "Already connected",
                format!("Your {name} administration is already connected to {{app}}."),
                "There is nothing more to do. If it needs changing, ask {app} for a new link.",
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
                "{app} has closed this connection, so it cannot be used any more.",
                "If you still want to connect, ask {app} for a new link.",
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
            return Err(fail(409, "Not available right now", &format!("{{app}} has switched off connecting to {name} for the moment. Nothing was shared."), "Please try again later, or ask {app} when it will be available.")
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

    /// Completes the flow when the upstream redirects back. The first callback with a state
    /// does the work and keeps its result with the state; any later one (a reload, the back
    /// button, a double submit) is sent to that same result and records nothing.
    pub async fn finish(&self, params: CallbackParams) -> CallbackAnswer {
        let invalid = || {
            LinkPage::new(
                400,
                "This link does not work",
                "This page was opened without the details it needs, so nothing was connected.",
                "Start again from the link {app} gave you.",
            )
        };
        let Some(state) = params.state.as_deref().filter(|s| !s.is_empty()) else {
            return invalid().into();
        };
        let (id, signature) = state.split_once('.').unwrap_or((state, ""));
        let stored = match self.store.link_state(id).await {
            Ok(Some(stored)) => stored,
            found => {
                // Never a state we issued (forged, or from another server): worth an
                // operator's look, and no connection to record it on. The value is not logged.
                tracing::warn!(
                    lookup_failed = found.is_err(),
                    "OAuth callback refused: its state was not issued by this server"
                );
                return invalid().into();
            }
        };
        let Ok(connection) = self.store.connection_by_id(stored.connection_id).await else {
            return not_found_page().into();
        };
        if !self
            .master_key
            .verify(&state_message(id, connection.id), signature)
        {
            let failure = fail(400, "This link does not work", "The sign-in link was changed on the way, so it cannot be used and nothing was connected.", "Start again from the link {app} gave you.")
                .recorded("400", "InvalidState", "The OAuth callback carried a state whose signature does not match (tampered). Nothing was linked; send the end customer the linkUrl again");
            return self.record(&connection, failure).await.into();
        }
        let result = |linked| CallbackAnswer::Result {
            state: state.to_string(),
            linked,
        };
        if stored.result.is_some() {
            tracing::info!(connection.id = %connection.id, "OAuth callback repeated (reload or back button): showing its result again");
            return result(None);
        }
        let outcome = match self.store.consume_link_state(id, self.clock.now_ms()).await {
            Ok(LinkStateUse::Fresh(_)) => self.finish_for(&connection, &params).await,
            // Another callback with this state is still at work: its result page will show.
            Ok(LinkStateUse::AlreadyUsed(_)) => return result(None),
            Ok(LinkStateUse::Expired(_)) => Err(fail(400, "The link has expired", "You took longer than 15 minutes to finish signing in, so nothing was connected.", "Please start again from the link {app} gave you.")
                .recorded("400", "StateExpired", "The end customer returned from the upstream after the 15-minute state expired. Send them the linkUrl again")),
            Ok(LinkStateUse::Unknown) | Err(_) => return invalid().into(),
        };
        let (page, linked) = match outcome {
            Ok(page) => (page, Some(connection.clone())),
            Err(failure) => (self.record(&connection, failure).await, None),
        };
        let json = serde_json::to_string(&page).expect("a page always serialises");
        if let Err(e) = self.store.set_link_state_result(id, &json).await {
            // The customer still sees what happened, only not again on a reload.
            tracing::error!(error = %e, "could not keep the link result");
            return CallbackAnswer::Page(page);
        }
        result(linked)
    }

    /// What the result page of `state` shows; nothing is changed or recorded.
    pub async fn result(&self, state: &str) -> LinkResult {
        let (id, signature) = state.split_once('.').unwrap_or((state, ""));
        let Ok(Some(stored)) = self.store.link_state(id).await else {
            return LinkResult::Unknown;
        };
        if !self
            .master_key
            .verify(&state_message(id, stored.connection_id), signature)
        {
            return LinkResult::Unknown;
        }
        let Ok(connection) = self.store.connection_by_id(stored.connection_id).await else {
            return LinkResult::Unknown;
        };
        match stored
            .result
            .as_deref()
            .map(serde_json::from_str::<LinkPage>)
        {
            Some(Ok(page)) => LinkResult::Done {
                page: Box::new(page),
                connection: Box::new(connection),
            },
            Some(Err(e)) => {
                tracing::error!(error = %e, "a stored link result cannot be read");
                LinkResult::Unknown
            }
            None => match stored.used_at {
                None => LinkResult::Unknown,
                Some(used) if self.clock.now_ms() - used < UNFINISHED_AFTER_MS => {
                    LinkResult::Pending
                }
                Some(_) => LinkResult::Unfinished,
            },
        }
    }

    async fn finish_for(
        &self,
        connection: &ConnectionRow,
        params: &CallbackParams,
    ) -> Result<LinkPage, Failure> {
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
                &format!(
                    "{name} did not send the sign-in confirmation back, so nothing was connected."
                ),
                "Please start again from the link {app} gave you.",
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
            let other = self.other_region_name(key);
            fail(409, "No administration was shared", &format!("{name} did not give access to any administration, so nothing was connected. Either none was ticked, or your administrations are in {other} rather than {name}."), &format!("Start again from the link {{app}} gave you and tick your administration. If your books are kept in {other}, ask {{app}} for a link to {other} instead."))
                .recorded("409", "NoCompanyGranted", "The end customer's consent reaches no administration (division): none ticked, or their divisions are in the other Exact region; send them the linkUrl again, or a linkUrl for the other region")
        })?;
        let sealed = self.engine.seal(connection.id, &grant);
        self.store
            .link_connection(connection.id, &sealed, &pinned, &available)
            .await
            .map_err(|e| internal(&e.to_string()))?;
        tracing::info!(connection.id = %connection.id, upstream.company = %pinned.id, "connection linked");
        Ok(LinkPage::new(
            200,
            "You are connected",
            format!(
                "Your {name} administration \u{201c}{}\u{201d} is now connected to {{app}}, which can now see its accounting data.",
                pinned.name
            ),
            "There is nothing more to do: you can close this window. To stop sharing later, ask {app}, or remove the app's access in Exact.",
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
        *failure.page
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
            let name = self.integration_name(&connection.integration_key);
            credentials_page(&name).recorded("409", "IntegrationNotConfigured", e.to_string())
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

    /// The same provider's other region ("Exact (UK)" for NL), for a customer in the wrong one.
    fn other_region_name(&self, key: &str) -> String {
        let Some(this) = self.catalog.integration(key) else {
            return "another region".into();
        };
        self.catalog
            .integrations()
            .find(|i| {
                i.provider.display_name == this.provider.display_name
                    && i.region.key != this.region.key
            })
            .map(|i| i.region.name.clone())
            .unwrap_or_else(|| "another region".into())
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
        "Something went wrong on our side, so nothing was connected.",
        "Please try again in a few minutes from the link {app} gave you.",
    )
}

/// The app's own credentials were refused or are missing: nothing the customer can fix.
fn credentials_page(name: &str) -> Failure {
    fail(
        409,
        "Not connected: the app is not set up",
        &format!(
            "{name} did not accept {{app}}'s app details, so nothing was connected. This is not something you did wrong, and nothing was shared."
        ),
        "{app} has been told what to fix. Please let them know, and try again once they say it works.",
    )
}

/// The upstream redirected back with an error instead of a code.
fn upstream_refusal(name: &str, error: &str, description: Option<&str>) -> Failure {
    let said = description.unwrap_or(error);
    match error {
        "access_denied" => fail(403, "Not connected", &format!("You chose not to give {{app}} access to your {name} administration. Nothing was shared."), "If you change your mind, start again from the link {app} gave you.")
            .recorded("403", "AccessDenied", format!("The end customer declined consent at {name}. Send them the linkUrl again if they change their mind")),
        "unauthorized_client" => fail(403, "Not available yet", &format!("{name} has not yet approved {{app}} for use by other companies, so it cannot connect to your administration yet. Nothing was shared."), "Please let {app} know; you can connect once Exact has approved their app.")
            .recorded("403", "AppNotApproved", format!(
                "{name} refused the consent: the app is not approved for production use ({said}). The app's owner must request \
                 permission in Exact's App Center before other companies can connect; until then only the app owner can sign in"
            )),
        _ => fail(400, "Not connected", &format!("{name} could not complete the sign-in, so nothing was connected."), "Please start again from the link {app} gave you.")
            .recorded("400", "UpstreamError", format!("{name} redirected back with error '{error}': {said}")),
    }
}

/// A failed code exchange or first call, as the end customer and the developer should see it.
fn provider_failure(name: &str, error: ProviderError) -> Failure {
    match error {
        ProviderError::CodeRejected(why) => fail(
            400,
            "The sign-in has expired",
            &format!(
                "The sign-in at {name} took too long or was already used, so nothing was connected."
            ),
            "Please start again from the link {app} gave you.",
        )
        .recorded("400", "CodeRejected", why),
        ProviderError::AdminAction(why) => {
            credentials_page(name).recorded("401", "ClientCredentialsRejected", why)
        }
        ProviderError::RetryLater { message, .. } => fail(
            503,
            "Try again later",
            &format!("{name} cannot be reached right now, so nothing was connected."),
            "Please try again in a few minutes from the link {app} gave you.",
        )
        .recorded("503", "UpstreamUnavailable", message),
        other => fail(
            502,
            "Something went wrong",
            &format!("{name} answered in a way we did not expect, so nothing was connected."),
            "Please try again later from the link {app} gave you.",
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
