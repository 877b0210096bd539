//! A connection's OAuth tokens (sealed) and the lease that lets one refresher at a time rotate them.

use sqlx::Row;
use uuid::Uuid;

use super::{Store, StoreError, now_ms};

/// A token pair as stored: sealed with the master key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedTokens {
    pub access_token_sealed: String,
    pub refresh_token_sealed: String,
    /// When the access token was issued (epoch ms).
    pub issued_at: i64,
    /// When it expires (epoch ms).
    pub expires_at: i64,
}

/// The stored pair with its bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub tokens: SealedTokens,
    /// Rises by one on every rotation.
    pub generation: i64,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
}

impl Store {
    /// A connection's tokens.
    pub async fn get_tokens(&self, connection_id: Uuid) -> Result<TokenRow, StoreError> {
        let row = sqlx::query(
            "SELECT access_token_sealed, refresh_token_sealed, issued_at, expires_at, generation, \
               lease_owner, lease_until FROM connection_tokens WHERE connection_id = $1",
        )
        .bind(connection_id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(TokenRow {
            tokens: SealedTokens {
                access_token_sealed: row.try_get("access_token_sealed")?,
                refresh_token_sealed: row.try_get("refresh_token_sealed")?,
                issued_at: row.try_get("issued_at")?,
                expires_at: row.try_get("expires_at")?,
            },
            generation: row.try_get("generation")?,
            lease_owner: row.try_get("lease_owner")?,
            lease_until: row.try_get("lease_until")?,
        })
    }

    /// Takes the refresh lease if nobody holds a live one. A single conditional UPDATE is
    /// atomic on both databases, so exactly one of several racing instances wins.
    pub async fn try_acquire_token_lease(
        &self,
        connection_id: Uuid,
        owner: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE connection_tokens SET lease_owner = $1, lease_until = $2 \
             WHERE connection_id = $3 AND (lease_until IS NULL OR lease_until < $4)",
        )
        .bind(owner)
        .bind(until)
        .bind(connection_id.to_string())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives the lease back without changing the tokens.
    pub async fn release_token_lease(
        &self,
        connection_id: Uuid,
        owner: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE connection_tokens SET lease_owner = NULL, lease_until = NULL \
             WHERE connection_id = $1 AND lease_owner = $2",
        )
        .bind(connection_id.to_string())
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stores a rotated pair over the generation whose refresh token was spent for it, and
    /// releases `owner`'s lease, in one statement. Returns false when the stored generation has
    /// moved on (the pair was not stored: a newer one is).
    pub async fn store_rotated_tokens(
        &self,
        connection_id: Uuid,
        owner: &str,
        replaces_generation: i64,
        tokens: &SealedTokens,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE connection_tokens SET access_token_sealed = $1, refresh_token_sealed = $2, \
               issued_at = $3, expires_at = $4, generation = generation + 1, \
               lease_owner = CASE WHEN lease_owner = $5 THEN NULL ELSE lease_owner END, \
               lease_until = CASE WHEN lease_owner = $5 THEN NULL ELSE lease_until END, \
               updated_at = $6 \
             WHERE connection_id = $7 AND generation = $8",
        )
        .bind(&tokens.access_token_sealed)
        .bind(&tokens.refresh_token_sealed)
        .bind(tokens.issued_at)
        .bind(tokens.expires_at)
        .bind(owner)
        .bind(now_ms())
        .bind(connection_id.to_string())
        .bind(replaces_generation)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Keeps `owner`'s lease alive while its refresh request is still in flight.
    pub async fn extend_token_lease(
        &self,
        connection_id: Uuid,
        owner: &str,
        until: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE connection_tokens SET lease_until = $1 \
             WHERE connection_id = $2 AND lease_owner = $3",
        )
        .bind(until)
        .bind(connection_id.to_string())
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Linked connections whose tokens were last issued before `issued_before` (keep-alive).
    pub async fn linked_connections_issued_before(
        &self,
        issued_before: i64,
    ) -> Result<Vec<Uuid>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT c.id FROM connections c JOIN connection_tokens t ON t.connection_id = c.id \
             WHERE c.status = 'Linked' AND t.issued_at < $1 ORDER BY t.issued_at",
        )
        .bind(issued_before)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids
            .into_iter()
            .map(super::tenants::parse_uuid)
            .collect::<Result<_, _>>()?)
    }

    /// Records an OAuth `state` handed to the upstream. Anyone may open a link URL, so each
    /// insert also purges states a day past their expiry (kept that long to tell "expired"
    /// or "already used" from "unknown") and keeps at most `MAX_LINK_STATES_PER_CONNECTION`
    /// per connection, dropping the oldest.
    pub async fn create_link_state(
        &self,
        id: &str,
        connection_id: Uuid,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM link_states WHERE expires_at < $1")
            .bind(now - LINK_STATE_KEPT_AFTER_EXPIRY_MS)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM link_states WHERE connection_id = $1 AND id NOT IN \
             (SELECT id FROM link_states WHERE connection_id = $2 \
              ORDER BY created_at DESC, id DESC LIMIT $3)",
        )
        .bind(connection_id.to_string())
        .bind(connection_id.to_string())
        .bind(MAX_LINK_STATES_PER_CONNECTION - 1)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO link_states (id, connection_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(connection_id.to_string())
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many OAuth states a connection holds (for tests and diagnostics).
    pub async fn link_state_count(&self, connection_id: Uuid) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM link_states WHERE connection_id = $1")
                .bind(connection_id.to_string())
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// The connection a `state` id was issued for and the result its first callback stored,
    /// without using it up.
    pub async fn link_state(&self, id: &str) -> Result<Option<LinkStateRow>, StoreError> {
        let row =
            sqlx::query("SELECT connection_id, used_at, result FROM link_states WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(LinkStateRow {
            connection_id: super::tenants::parse_uuid(row.try_get("connection_id")?)?,
            used_at: row.try_get("used_at")?,
            result: row.try_get("result")?,
        }))
    }

    /// Keeps what the callback with this `state` ended in, for the result page and for a
    /// repeated callback (a reload, the back button) to show it again.
    pub async fn set_link_state_result(&self, id: &str, result: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE link_states SET result = $1 WHERE id = $2")
            .bind(result)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Uses up a `state`: succeeds once, before it expires. The conditional UPDATE makes a
    /// replay lose even when two callbacks race.
    pub async fn consume_link_state(&self, id: &str, now: i64) -> Result<LinkStateUse, StoreError> {
        let done = sqlx::query(
            "UPDATE link_states SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(now)
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let row =
            sqlx::query("SELECT connection_id, used_at, expires_at FROM link_states WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else {
            return Ok(LinkStateUse::Unknown);
        };
        let connection_id = super::tenants::parse_uuid(row.try_get("connection_id")?)?;
        if done.rows_affected() == 1 {
            return Ok(LinkStateUse::Fresh(connection_id));
        }
        let used_at: Option<i64> = row.try_get("used_at")?;
        Ok(if used_at.is_some() {
            LinkStateUse::AlreadyUsed(connection_id)
        } else {
            LinkStateUse::Expired(connection_id)
        })
    }
}

/// The most OAuth states one connection keeps: enough for a customer's retries and tabs.
pub const MAX_LINK_STATES_PER_CONNECTION: i64 = 20;
/// States are kept this long after they expire, then purged.
const LINK_STATE_KEPT_AFTER_EXPIRY_MS: i64 = 24 * 3_600_000;

/// A stored OAuth `state`: its connection and, once a callback used it, the result (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStateRow {
    pub connection_id: Uuid,
    /// When a callback first used it.
    pub used_at: Option<i64>,
    pub result: Option<String>,
}

/// What happened when a `state` was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStateUse {
    /// First use, in time.
    Fresh(Uuid),
    /// Replayed.
    AlreadyUsed(Uuid),
    /// Too late.
    Expired(Uuid),
    /// Never issued here.
    Unknown,
}
