//! Connections of a company to an upstream, and the errors recorded against them.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

use super::tenants::parse_uuid;
use super::{Store, StoreError, now_ms};

/// Codat's connection statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ConnectionStatus {
    /// Created; the end customer has not completed the upstream's consent yet.
    PendingAuth,
    /// Usable.
    Linked,
    /// Severed by the client; data already pulled stays readable.
    Unlinked,
    /// Was linked, but the upstream no longer accepts its tokens: the end customer must reconnect.
    Deauthorized,
}

impl ConnectionStatus {
    /// The stored (and wire) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::PendingAuth => "PendingAuth",
            ConnectionStatus::Linked => "Linked",
            ConnectionStatus::Unlinked => "Unlinked",
            ConnectionStatus::Deauthorized => "Deauthorized",
        }
    }
}

impl FromStr for ConnectionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "PendingAuth" => ConnectionStatus::PendingAuth,
            "Linked" => ConnectionStatus::Linked,
            "Unlinked" => ConnectionStatus::Unlinked,
            "Deauthorized" => ConnectionStatus::Deauthorized,
            other => return Err(format!("unknown connection status {other}")),
        })
    }
}

/// An upstream company (Exact: a division) a grant reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamCompanyRef {
    pub id: String,
    pub name: String,
}

/// A recorded problem with a connection (Codat's `dataConnectionErrors`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionErrorRow {
    pub status_code: String,
    pub status_text: String,
    pub error_message: String,
    pub errored_at: i64,
    pub resolved_at: Option<i64>,
}

/// A connection as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub company_id: Uuid,
    pub integration_key: String,
    pub status: ConnectionStatus,
    pub upstream_company: Option<UpstreamCompanyRef>,
    pub available_companies: Vec<UpstreamCompanyRef>,
    pub created_at: i64,
    pub linked_at: Option<i64>,
    pub last_sync: Option<i64>,
    pub errors: Vec<ConnectionErrorRow>,
}

const COLUMNS: &str = "id, tenant_id, company_id, integration_key, status, upstream_company_id, \
                       upstream_company_name, available_companies, created_at, linked_at, last_sync";

fn decode_error(e: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

fn from_row(row: &AnyRow) -> Result<ConnectionRow, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let upstream_id: Option<String> = row.try_get("upstream_company_id")?;
    let upstream_name: Option<String> = row.try_get("upstream_company_name")?;
    let available: String = row.try_get("available_companies")?;
    Ok(ConnectionRow {
        id: parse_uuid(row.try_get("id")?)?,
        tenant_id: parse_uuid(row.try_get("tenant_id")?)?,
        company_id: parse_uuid(row.try_get("company_id")?)?,
        integration_key: row.try_get("integration_key")?,
        status: status
            .parse()
            .map_err(|e: String| decode_error(std::io::Error::other(e)))?,
        upstream_company: upstream_id.map(|id| UpstreamCompanyRef {
            id,
            name: upstream_name.unwrap_or_default(),
        }),
        available_companies: serde_json::from_str(&available).map_err(decode_error)?,
        created_at: row.try_get("created_at")?,
        linked_at: row.try_get("linked_at")?,
        last_sync: row.try_get("last_sync")?,
        errors: Vec::new(),
    })
}

impl Store {
    /// Creates a `PendingAuth` connection.
    pub async fn create_connection(
        &self,
        tenant_id: Uuid,
        company_id: Uuid,
        integration_key: &str,
    ) -> Result<ConnectionRow, StoreError> {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO connections (id, tenant_id, company_id, integration_key, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(tenant_id.to_string())
        .bind(company_id.to_string())
        .bind(integration_key)
        .bind(ConnectionStatus::PendingAuth.as_str())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        self.connection_by_id(id).await
    }

    /// A connection by id alone: for the OAuth callback, which carries no API key.
    pub async fn connection_by_id(&self, id: Uuid) -> Result<ConnectionRow, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM connections WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let mut connection = from_row(&row)?;
        connection.errors = self.connection_errors(id).await?;
        Ok(connection)
    }

    /// One of a company's connections, scoped to the tenant.
    pub async fn get_connection(
        &self,
        tenant_id: Uuid,
        company_id: Uuid,
        id: Uuid,
    ) -> Result<ConnectionRow, StoreError> {
        let connection = self.connection_by_id(id).await?;
        if connection.tenant_id != tenant_id || connection.company_id != company_id {
            return Err(StoreError::NotFound);
        }
        Ok(connection)
    }

    /// A page of a company's connections, oldest first, and how many there are.
    pub async fn list_connections(
        &self,
        tenant_id: Uuid,
        company_id: Uuid,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<ConnectionRow>, i64), StoreError> {
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM connections WHERE tenant_id = $1 AND company_id = $2",
        )
        .bind(tenant_id.to_string())
        .bind(company_id.to_string())
        .fetch_one(&self.pool)
        .await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM connections WHERE tenant_id = $1 AND company_id = $2 \
             ORDER BY created_at, id LIMIT $3 OFFSET $4"
        )))
        .bind(tenant_id.to_string())
        .bind(company_id.to_string())
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let mut connections = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut connection = from_row(row)?;
            connection.errors = self.connection_errors(connection.id).await?;
            connections.push(connection);
        }
        Ok((connections, total))
    }

    /// Every connection in a given status (for the keep-alive and start-up checks).
    pub async fn connections_with_status(
        &self,
        status: ConnectionStatus,
    ) -> Result<Vec<ConnectionRow>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM connections WHERE status = $1 ORDER BY created_at, id"
        )))
        .bind(status.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
    }

    /// Deletes a connection and its tokens.
    pub async fn delete_connection(&self, id: Uuid) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for table in ["connection_tokens", "connection_errors", "link_states"] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE connection_id = $1"
            )))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        let done = sqlx::query("DELETE FROM connections WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Sets a connection's status; `Unlinked` and `Deauthorized` also drop its tokens' lease.
    pub async fn set_connection_status(
        &self,
        id: Uuid,
        status: ConnectionStatus,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE connections SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Pins the connection to another of the upstream companies its grant reaches.
    pub async fn set_upstream_company(
        &self,
        id: Uuid,
        company: &UpstreamCompanyRef,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE connections SET upstream_company_id = $1, upstream_company_name = $2 WHERE id = $3",
        )
        .bind(&company.id)
        .bind(&company.name)
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records an active error against a connection.
    pub async fn add_connection_error(
        &self,
        id: Uuid,
        status_code: &str,
        status_text: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO connection_errors \
               (id, connection_id, status_code, status_text, error_message, errored_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(id.to_string())
        .bind(status_code)
        .bind(status_text)
        .bind(message)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A connection's errors, oldest first.
    pub async fn connection_errors(&self, id: Uuid) -> Result<Vec<ConnectionErrorRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT status_code, status_text, error_message, errored_at, resolved_at \
             FROM connection_errors WHERE connection_id = $1 ORDER BY errored_at, id",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ConnectionErrorRow {
                    status_code: row.try_get("status_code")?,
                    status_text: row.try_get("status_text")?,
                    error_message: row.try_get("error_message")?,
                    errored_at: row.try_get("errored_at")?,
                    resolved_at: row.try_get("resolved_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Links a connection: tokens, pinned upstream company and status in one transaction,
    /// so a connection is never `Linked` without tokens nor holds tokens while pending.
    pub async fn link_connection(
        &self,
        id: Uuid,
        tokens: &super::SealedTokens,
        pinned: &UpstreamCompanyRef,
        available: &[UpstreamCompanyRef],
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM connection_tokens WHERE connection_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO connection_tokens (connection_id, access_token_sealed, refresh_token_sealed, \
               issued_at, expires_at, generation, updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6)",
        )
        .bind(id.to_string())
        .bind(&tokens.access_token_sealed)
        .bind(&tokens.refresh_token_sealed)
        .bind(tokens.issued_at)
        .bind(tokens.expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE connections SET status = $1, upstream_company_id = $2, upstream_company_name = $3, \
               available_companies = $4, linked_at = $5 WHERE id = $6",
        )
        .bind(ConnectionStatus::Linked.as_str())
        .bind(&pinned.id)
        .bind(&pinned.name)
        .bind(serde_json::to_string(available).expect("serialisable"))
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE connection_errors SET resolved_at = $1 WHERE connection_id = $2 AND resolved_at IS NULL",
        )
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks a connection `Deauthorized` and records why, in one transaction.
    pub async fn deauthorize_connection(&self, id: Uuid, message: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE connections SET status = $1 WHERE id = $2")
            .bind(ConnectionStatus::Deauthorized.as_str())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO connection_errors \
               (id, connection_id, status_code, status_text, error_message, errored_at) \
             VALUES ($1, $2, '401', 'Unauthorized', $3, $4)",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(id.to_string())
        .bind(message)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
