//! The token engine: a valid access token for every linked connection, and never a lost
//! refresh token.
//!
//! Rules (Exact's, from `providers/exact-online.toml`): refresh at about expiry − 30 s and
//! never before 570 s after the last issue; each refresh rotates the refresh token, so the new
//! pair is stored — sealed, in the statement that releases the lease — before the new access
//! token is used. If the database does not take it, the pair is kept in memory and in an
//! unsaved-tokens file ([`super::fallback`]) before it is used, and written with retries until
//! the database takes it; until then the connection uses that pair and is never deauthorized.
//! A refresh request, once sent, runs to its end in a task of its own (with a timeout of
//! minutes) and its answer is kept whether or not its caller still waits. One refresh at a time per connection: a per-process lock keeps tasks of one
//! server in line, and a lease row (a conditional UPDATE, atomic on SQLite and PostgreSQL)
//! keeps several servers in line without holding a transaction open over an HTTP call.
//! A refused refresh token marks the connection `Deauthorized` with what to do; from then on
//! no call reaches the upstream until the end customer links again.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::app_credentials;
use super::fallback::{FallbackDir, UnsavedTokens};
use crate::catalog::OAuthSpec;
use crate::clock::Clock;
use crate::crypto::{MasterKey, token_context};
use crate::provider::{AccessTokens, ProviderError, ProviderRegistry, RetryKind, TokenGrant};
use crate::store::{ConnectionRow, ConnectionStatus, SealedTokens, Store, StoreError, TokenRow};
use crate::tasks::BackgroundTasks;

/// How long a refresher holds the lease without renewing it: a crashed one frees it within a
/// minute; a live one renews it every [`LEASE_RENEW_EVERY`] while its request is in flight.
const LEASE_MS: i64 = 60_000;
const LEASE_RENEW_EVERY: Duration = Duration::from_secs(15);
/// How long a caller waits for another server's refresh before giving up for now.
const WAIT_FOR_OTHER_MS: i64 = 90_000;

/// Why a refresh is attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshReason {
    /// The access token is about to expire.
    Due,
    /// The upstream refused the access token (401).
    Rejected,
    /// The connection has been idle long enough that its refresh token could die.
    KeepAlive,
}

/// Timing rules in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Rules {
    not_before_ms: i64,
    margin_ms: i64,
    keep_alive_after_ms: i64,
}

/// Hands out access tokens for connections. Cloning shares it.
#[derive(Clone)]
pub struct TokenEngine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    master_key: MasterKey,
    clock: Clock,
    registry: ProviderRegistry,
    rules: Rules,
    /// Identifies this server as a lease holder.
    owner: String,
    locks: parking_lot::Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>,
    /// Rotated pairs the database has not taken yet (also in `fallback`).
    unsaved: parking_lot::Mutex<HashMap<Uuid, UnsavedTokens>>,
    fallback: FallbackDir,
    tasks: BackgroundTasks,
}

impl std::fmt::Debug for TokenEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenEngine")
            .field("owner", &self.inner.owner)
            .finish()
    }
}

impl TokenEngine {
    pub fn new(
        store: Store,
        master_key: MasterKey,
        clock: Clock,
        registry: ProviderRegistry,
        oauth: &OAuthSpec,
        data_dir: &Path,
        tasks: BackgroundTasks,
    ) -> Self {
        TokenEngine {
            inner: Arc::new(Inner {
                store,
                master_key,
                clock,
                registry,
                rules: Rules {
                    not_before_ms: oauth.refresh_not_before_secs as i64 * 1000,
                    margin_ms: oauth.refresh_margin_secs as i64 * 1000,
                    keep_alive_after_ms: oauth.keep_alive_after_days as i64 * 86_400_000,
                },
                owner: format!("ledgerline-{}", Uuid::new_v4().simple()),
                locks: parking_lot::Mutex::new(HashMap::new()),
                unsaved: parking_lot::Mutex::new(HashMap::new()),
                fallback: FallbackDir::in_data_dir(data_dir),
                tasks,
            }),
        }
    }

    /// Seals a fresh grant as stored tokens issued now.
    pub fn seal(&self, connection_id: Uuid, grant: &TokenGrant) -> SealedTokens {
        let issued_at = self.inner.clock.now_ms();
        let key = &self.inner.master_key;
        SealedTokens {
            access_token_sealed: key.seal(
                grant.access_token.expose_secret(),
                &token_context(connection_id, "access"),
            ),
            refresh_token_sealed: key.seal(
                grant.refresh_token.expose_secret(),
                &token_context(connection_id, "refresh"),
            ),
            issued_at,
            expires_at: issued_at + grant.expires_in_secs as i64 * 1000,
        }
    }

    fn open(
        &self,
        connection_id: Uuid,
        sealed: &str,
        which: &str,
    ) -> Result<SecretString, ProviderError> {
        self.inner
            .master_key
            .open(sealed, &token_context(connection_id, which))
            .map_err(|e| ProviderError::Upstream(format!("stored token unreadable: {e}")))
    }

    /// The tokens a provider uses for one connection.
    pub fn for_connection(&self, connection: &ConnectionRow) -> ConnectionTokens {
        ConnectionTokens {
            engine: self.clone(),
            connection: connection.clone(),
            handed_out: parking_lot::Mutex::new(None),
        }
    }

    /// A valid access token for a linked connection, refreshing it when due.
    pub async fn access_token(
        &self,
        connection: &ConnectionRow,
    ) -> Result<SecretString, ProviderError> {
        self.access_token_and_generation(connection)
            .await
            .map(|(token, _)| token)
    }

    /// The token and the generation it belongs to (so a later 401 refreshes only that one).
    async fn access_token_and_generation(
        &self,
        connection: &ConnectionRow,
    ) -> Result<(SecretString, i64), ProviderError> {
        ensure_usable(connection)?;
        let row = self.tokens(connection.id).await?;
        if self.inner.clock.now_ms() < row.tokens.expires_at - self.inner.rules.margin_ms {
            let token = self.open(connection.id, &row.tokens.access_token_sealed, "access")?;
            return Ok((token, row.generation));
        }
        self.refresh(connection, row.generation, RefreshReason::Due)
            .await?;
        let row = self.tokens(connection.id).await?;
        let token = self.open(connection.id, &row.tokens.access_token_sealed, "access")?;
        Ok((token, row.generation))
    }

    /// The connection's current pair: a rotated pair not stored yet wins over the stored one
    /// (and is offered to the database again first).
    async fn tokens(&self, connection_id: Uuid) -> Result<TokenRow, ProviderError> {
        if let Some(unsaved) = self.unsaved_pair(connection_id) {
            if !self.try_store_unsaved(&unsaved).await {
                return Ok(TokenRow {
                    tokens: unsaved.tokens,
                    generation: unsaved.replaces_generation + 1,
                    lease_owner: None,
                    lease_until: None,
                });
            }
        }
        self.inner
            .store
            .get_tokens(connection_id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => {
                    ProviderError::Reconnect("the connection holds no tokens".into())
                }
                other => ProviderError::Upstream(format!("store: {other}")),
            })
    }

    fn local_lock(&self, connection_id: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        self.inner
            .locks
            .lock()
            .entry(connection_id)
            .or_default()
            .clone()
    }

    /// Refreshes the connection's tokens unless someone already did since `seen_generation`.
    pub async fn refresh(
        &self,
        connection: &ConnectionRow,
        seen_generation: i64,
        reason: RefreshReason,
    ) -> Result<SecretString, ProviderError> {
        let serialised = self.local_lock(connection.id).lock_owned().await;
        let inner = &self.inner;
        if let Some(unsaved) = self.unsaved_pair(connection.id) {
            if !self.try_store_unsaved(&unsaved).await {
                // Refreshing would need the database, and the pair in hand is fresh.
                if seen_generation <= unsaved.replaces_generation {
                    return self.open(connection.id, &unsaved.tokens.access_token_sealed, "access");
                }
                return Err(ProviderError::RetryLater {
                    kind: RetryKind::Outage,
                    message: "the connection's last rotated tokens are not stored yet (the \
                              database is unreachable)"
                        .into(),
                    after: Some(Duration::from_secs(5)),
                });
            }
        }
        // The caller's copy may be stale: a connection deauthorized meanwhile must not spend
        // another refresh (no silent retry loop against a dead refresh token).
        let current = inner
            .store
            .connection_by_id(connection.id)
            .await
            .map_err(|e| ProviderError::Upstream(format!("store: {e}")))?;
        ensure_usable(&current)?;
        let give_up_at = inner.clock.now_ms() + WAIT_FOR_OTHER_MS;
        loop {
            let row = self.tokens(connection.id).await?;
            let now = inner.clock.now_ms();
            let access = || self.open(connection.id, &row.tokens.access_token_sealed, "access");
            if row.generation != seen_generation {
                return access(); // another task or server refreshed meanwhile
            }
            if now < row.tokens.issued_at + inner.rules.not_before_ms {
                // Exact would answer "Access Token not expired".
                return match reason {
                    RefreshReason::Rejected => Err(ProviderError::Upstream(format!(
                        "Exact refused an access token issued {} s ago; it allows a refresh only \
                         after {} s",
                        (now - row.tokens.issued_at) / 1000,
                        inner.rules.not_before_ms / 1000
                    ))),
                    _ => access(),
                };
            }
            if inner
                .store
                .try_acquire_token_lease(connection.id, &inner.owner, now, now + LEASE_MS)
                .await
                .map_err(|e| ProviderError::Upstream(format!("store: {e}")))?
            {
                // The request runs to its end in its own task, holding the local lock, even if
                // this caller stops waiting: its answer is stored whoever waits for it.
                let engine = self.clone();
                let connection = connection.clone();
                let task = inner.tasks.refreshes.spawn(async move {
                    let _serialised = serialised;
                    engine
                        .refresh_holding_lease(&connection, seen_generation)
                        .await
                });
                return task.await.unwrap_or_else(|e| {
                    Err(ProviderError::Upstream(format!(
                        "the token refresh failed: {e}"
                    )))
                });
            }
            if now > give_up_at {
                return Err(ProviderError::RetryLater {
                    kind: RetryKind::Outage,
                    message: "another server is refreshing this connection's tokens".into(),
                    after: Some(Duration::from_secs(5)),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn refresh_holding_lease(
        &self,
        connection: &ConnectionRow,
        seen_generation: i64,
    ) -> Result<SecretString, ProviderError> {
        let inner = &self.inner;
        let prepared = async {
            // Re-read inside the lease: the pair may have rotated between our read and the lease.
            let row = self.tokens(connection.id).await?;
            if row.generation != seen_generation {
                return Ok(Err(row));
            }
            let refresh_token =
                self.open(connection.id, &row.tokens.refresh_token_sealed, "refresh")?;
            let provider = inner
                .registry
                .provider(&connection.integration_key)
                .ok_or_else(|| ProviderError::Unsupported(connection.integration_key.clone()))?;
            let app = app_credentials(
                &inner.store,
                &inner.master_key,
                connection.tenant_id,
                &connection.integration_key,
            )
            .await?;
            Ok(Ok((row, refresh_token, provider, app)))
        }
        .await;
        let (row, refresh_token, provider, app) = match prepared {
            Ok(Ok(prepared)) => prepared,
            Ok(Err(newer)) => {
                self.release_lease(connection.id).await;
                return self.open(connection.id, &newer.tokens.access_token_sealed, "access");
            }
            Err(e) => {
                self.release_lease(connection.id).await;
                return Err(e);
            }
        };
        // From here Exact may rotate: whatever it answers is kept.
        let outcome = {
            let request = provider.refresh(&connection.integration_key, &app, &refresh_token);
            tokio::pin!(request);
            loop {
                tokio::select! {
                    outcome = &mut request => break outcome,
                    () = tokio::time::sleep(LEASE_RENEW_EVERY) => {
                        let until = inner.clock.now_ms() + LEASE_MS;
                        if let Err(e) = inner.store.extend_token_lease(connection.id, &inner.owner, until).await {
                            tracing::warn!(connection.id = %connection.id, error = %e, "the refresh lease could not be renewed");
                        }
                    }
                }
            }
        };
        crate::telemetry::token_refresh(
            &connection.integration_key,
            match &outcome {
                Ok(_) => "success",
                Err(ProviderError::Reconnect(_)) => "rejected",
                Err(ProviderError::RefreshTooEarly) => "too_early",
                Err(_) => "error",
            },
        );
        match outcome {
            Ok(grant) => {
                let unsaved = UnsavedTokens {
                    connection_id: connection.id,
                    replaces_generation: seen_generation,
                    tokens: self.seal(connection.id, &grant),
                };
                self.keep_rotated(unsaved).await;
                tracing::info!(connection.id = %connection.id, "tokens refreshed");
                Ok(grant.access_token)
            }
            Err(ProviderError::Reconnect(why)) => {
                // A refused token is dead only if it is still the newest: another server may
                // have stored a newer pair after our lease ran out.
                if let Ok(now) = self.tokens(connection.id).await {
                    if now.generation != row.generation {
                        self.release_lease(connection.id).await;
                        return self.open(connection.id, &now.tokens.access_token_sealed, "access");
                    }
                }
                let message = format!(
                    "{why}. The end customer must connect again: send them to this connection's linkUrl."
                );
                tracing::warn!(connection.id = %connection.id, %message, "connection deauthorized");
                if let Err(e) = inner
                    .store
                    .deauthorize_connection(connection.id, &message)
                    .await
                {
                    // The next call meets the same refusal and tries again to record it.
                    tracing::error!(connection.id = %connection.id, error = %e, "the deauthorization could not be stored");
                }
                self.release_lease(connection.id).await;
                Err(ProviderError::Reconnect(message))
            }
            Err(ProviderError::RefreshTooEarly) => {
                self.release_lease(connection.id).await;
                self.open(connection.id, &row.tokens.access_token_sealed, "access")
            }
            Err(other) => {
                self.release_lease(connection.id).await;
                Err(other)
            }
        }
    }

    /// Gives the lease back, trying a few times; if the database stays away, the lease runs
    /// out by itself within [`LEASE_MS`].
    async fn release_lease(&self, connection_id: Uuid) {
        let inner = &self.inner;
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_times(3)
            .build();
        loop {
            match inner
                .store
                .release_token_lease(connection_id, &inner.owner)
                .await
            {
                Ok(()) => return,
                Err(e) => match backoff.next() {
                    Some(delay) => tokio::time::sleep(delay).await,
                    None => {
                        tracing::warn!(connection.id = %connection_id, error = %e, "the refresh lease could not be released; it runs out within a minute");
                        return;
                    }
                },
            }
        }
    }

    fn unsaved_pair(&self, connection_id: Uuid) -> Option<UnsavedTokens> {
        self.inner.unsaved.lock().get(&connection_id).cloned()
    }

    /// Offers an unsaved pair to the database once. True when it is done with: stored, or
    /// superseded by a newer stored pair. False when the database failed (the pair is kept).
    async fn try_store_unsaved(&self, unsaved: &UnsavedTokens) -> bool {
        let inner = &self.inner;
        let id = unsaved.connection_id;
        match inner
            .store
            .store_rotated_tokens(
                id,
                &inner.owner,
                unsaved.replaces_generation,
                &unsaved.tokens,
            )
            .await
        {
            Ok(stored) => {
                if !stored {
                    tracing::warn!(connection.id = %id, "a rotated pair was not stored: a newer one is");
                }
                let mut all = inner.unsaved.lock();
                if all.get(&id) == Some(unsaved) {
                    all.remove(&id);
                }
                drop(all);
                inner.fallback.remove(id);
                true
            }
            Err(e) => {
                tracing::warn!(connection.id = %id, error = %e, "the database did not take a rotated token pair");
                false
            }
        }
    }

    /// Stores a pair Exact just issued; if the database does not take it, keeps it in memory and
    /// in the unsaved-tokens file, and writes it with retries until the database does.
    async fn keep_rotated(&self, unsaved: UnsavedTokens) {
        if !self.try_store_unsaved(&unsaved).await {
            self.keep_until_stored(unsaved);
        }
    }

    /// Keeps a pair the database refused in memory and in the unsaved-tokens file, and writes
    /// it with retries until the database takes it.
    fn keep_until_stored(&self, unsaved: UnsavedTokens) {
        let inner = &self.inner;
        let id = unsaved.connection_id;
        match inner.fallback.save(&unsaved) {
            Ok(path) => {
                tracing::warn!(connection.id = %id, path = %path.display(), "rotated tokens kept in the unsaved-tokens file until the database takes them")
            }
            Err(e) => {
                tracing::error!(connection.id = %id, error = %e, "rotated tokens could not be written to the unsaved-tokens file; they are kept in memory only")
            }
        }
        inner.unsaved.lock().insert(id, unsaved.clone());
        let engine = self.clone();
        inner.tasks.refreshes.spawn(async move {
            let backoff = ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(200))
                .with_max_delay(Duration::from_secs(10))
                .without_max_times()
                .with_jitter()
                .build();
            for delay in backoff {
                tokio::time::sleep(delay).await;
                let Some(current) = engine.unsaved_pair(id) else {
                    return; // a caller stored it meanwhile
                };
                if engine.try_store_unsaved(&current).await {
                    tracing::info!(connection.id = %id, "rotated tokens stored after a database failure");
                    return;
                }
            }
        });
    }

    /// Replays the unsaved-tokens files of an earlier run into the database (at start-up);
    /// those it cannot store yet are retried as after a refresh. Returns how many it settled
    /// (stored, or dropped as older than the stored pair).
    pub async fn recover_unsaved_tokens(&self) -> usize {
        let mut settled = 0;
        for unsaved in self.inner.fallback.load_all() {
            if self.try_store_unsaved(&unsaved).await {
                settled += 1;
            } else {
                self.keep_until_stored(unsaved);
            }
        }
        settled
    }

    /// Refreshes every linked connection idle long enough that its refresh token could die
    /// (Exact: 30 days) — dormant customers never have to reconnect. Returns how many it refreshed.
    pub async fn keep_alive_once(&self) -> usize {
        let inner = &self.inner;
        let before = inner.clock.now_ms() - inner.rules.keep_alive_after_ms;
        let ids = match inner.store.linked_connections_issued_before(before).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "keep-alive could not list connections");
                return 0;
            }
        };
        let mut refreshed = 0;
        for id in ids {
            let Ok(connection) = inner.store.connection_by_id(id).await else {
                continue;
            };
            let Ok(row) = inner.store.get_tokens(id).await else {
                continue;
            };
            match self
                .refresh(&connection, row.generation, RefreshReason::KeepAlive)
                .await
            {
                Ok(_) => refreshed += 1,
                Err(e) => {
                    tracing::warn!(connection.id = %id, error = %e, "keep-alive refresh failed")
                }
            }
        }
        refreshed
    }

    /// Runs [`TokenEngine::keep_alive_once`] every `every`, forever.
    pub async fn keep_alive_loop(self, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            let refreshed = self.keep_alive_once().await;
            if refreshed > 0 {
                tracing::info!(refreshed, "keep-alive refreshed idle connections");
            }
        }
    }
}

fn ensure_usable(connection: &ConnectionRow) -> Result<(), ProviderError> {
    match connection.status {
        ConnectionStatus::Linked => Ok(()),
        ConnectionStatus::Deauthorized => Err(ProviderError::Reconnect(
            "the connection is Deauthorized: the end customer must follow its linkUrl again".into(),
        )),
        ConnectionStatus::PendingAuth => Err(ProviderError::Reconnect(
            "the connection is not linked yet: send the end customer to its linkUrl".into(),
        )),
        ConnectionStatus::Unlinked => Err(ProviderError::Unsupported(
            "the connection was unlinked".into(),
        )),
    }
}

/// One connection's tokens, as a provider sees them.
pub struct ConnectionTokens {
    engine: TokenEngine,
    connection: ConnectionRow,
    /// The generation of the last token handed out: a 401 refreshes that one, not a newer one.
    handed_out: parking_lot::Mutex<Option<i64>>,
}

#[async_trait]
impl AccessTokens for ConnectionTokens {
    async fn access_token(&self) -> Result<SecretString, ProviderError> {
        let (token, generation) = self
            .engine
            .access_token_and_generation(&self.connection)
            .await?;
        *self.handed_out.lock() = Some(generation);
        Ok(token)
    }

    async fn after_rejection(&self) -> Result<SecretString, ProviderError> {
        let handed_out = *self.handed_out.lock();
        let seen = match handed_out {
            Some(generation) => generation,
            None => self.engine.tokens(self.connection.id).await?.generation,
        };
        let token = self
            .engine
            .refresh(&self.connection, seen, RefreshReason::Rejected)
            .await?;
        *self.handed_out.lock() = None;
        Ok(token)
    }
}
