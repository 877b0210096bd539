//! The token engine: a valid access token for every linked connection, and never a lost
//! refresh token.
//!
//! Rules (Exact's, from `providers/exact-online.toml`): refresh at about expiry − 30 s and
//! never before 570 s after the last issue; each refresh rotates the refresh token, so the new
//! pair is stored — sealed, in the statement that releases the lease — before the new access
//! token is used. One refresh at a time per connection: a per-process lock keeps tasks of one
//! server in line, and a lease row (a conditional UPDATE, atomic on SQLite and PostgreSQL)
//! keeps several servers in line without holding a transaction open over an HTTP call.
//! A refused refresh token marks the connection `Deauthorized` with what to do; from then on
//! no call reaches the upstream until the end customer links again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::app_credentials;
use crate::catalog::OAuthSpec;
use crate::clock::Clock;
use crate::crypto::{MasterKey, token_context};
use crate::provider::{AccessTokens, ProviderError, ProviderRegistry, RetryKind, TokenGrant};
use crate::store::{ConnectionRow, ConnectionStatus, SealedTokens, Store, StoreError};

/// How long a refresher may hold the lease: far longer than the HTTP client's 30 s timeout,
/// so a live refresher never loses it; a crashed one frees it within a minute.
const LEASE_MS: i64 = 60_000;
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

    async fn tokens(&self, connection_id: Uuid) -> Result<crate::store::TokenRow, ProviderError> {
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
        let lock = self.local_lock(connection.id);
        let _serialised = lock.lock().await;
        let inner = &self.inner;
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
                return self
                    .refresh_holding_lease(connection, seen_generation)
                    .await;
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
        let release = || inner.store.release_token_lease(connection.id, &inner.owner);
        // Re-read inside the lease: the pair may have rotated between our read and the lease.
        let row = self.tokens(connection.id).await?;
        if row.generation != seen_generation {
            let _ = release().await;
            return self.open(connection.id, &row.tokens.access_token_sealed, "access");
        }
        let refresh_token =
            self.open(connection.id, &row.tokens.refresh_token_sealed, "refresh")?;
        let outcome = async {
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
            provider
                .refresh(&connection.integration_key, &app, &refresh_token)
                .await
        }
        .await;
        match outcome {
            Ok(grant) => {
                let sealed = self.seal(connection.id, &grant);
                let stored = inner
                    .store
                    .store_rotated_tokens(connection.id, &inner.owner, &sealed)
                    .await
                    .map_err(|e| ProviderError::Upstream(format!("store: {e}")))?;
                if !stored {
                    tracing::error!(connection.id = %connection.id, "refresh lease lost before the rotated tokens were stored");
                    return Err(ProviderError::Upstream(
                        "the refresh lease expired before the new tokens were stored".into(),
                    ));
                }
                tracing::info!(connection.id = %connection.id, "tokens refreshed");
                Ok(grant.access_token)
            }
            Err(ProviderError::Reconnect(why)) => {
                let message = format!(
                    "{why}. The end customer must connect again: send them to this connection's linkUrl."
                );
                tracing::warn!(connection.id = %connection.id, %message, "connection deauthorized");
                let _ = inner
                    .store
                    .deauthorize_connection(connection.id, &message)
                    .await;
                let _ = release().await;
                Err(ProviderError::Reconnect(message))
            }
            Err(ProviderError::RefreshTooEarly) => {
                let _ = release().await;
                self.open(connection.id, &row.tokens.access_token_sealed, "access")
            }
            Err(other) => {
                let _ = release().await;
                Err(other)
            }
        }
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
