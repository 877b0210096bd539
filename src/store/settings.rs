//! Per-tenant integration settings: the Exact app's client id, its sealed secret, on or off.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

use super::{Store, StoreError, now_ms};

/// One integration's settings for one tenant. The secret stays sealed here; only the
/// API layer's hint ever leaves the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationSettingRow {
    pub integration_key: String,
    pub client_id: String,
    pub client_secret_sealed: String,
    pub client_secret_hint: String,
    pub enabled: bool,
    pub updated_at: i64,
}

fn from_row(row: &AnyRow) -> Result<IntegrationSettingRow, sqlx::Error> {
    Ok(IntegrationSettingRow {
        integration_key: row.try_get("integration_key")?,
        client_id: row.try_get("client_id")?,
        client_secret_sealed: row.try_get("client_secret_sealed")?,
        client_secret_hint: row.try_get("client_secret_hint")?,
        enabled: row.try_get::<i32, _>("enabled")? != 0,
        updated_at: row.try_get("updated_at")?,
    })
}

const COLUMNS: &str =
    "integration_key, client_id, client_secret_sealed, client_secret_hint, enabled, updated_at";

impl Store {
    /// Every integration the tenant has configured.
    pub async fn list_integration_settings(
        &self,
        tenant_id: Uuid,
    ) -> Result<Vec<IntegrationSettingRow>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM integration_settings WHERE tenant_id = $1 ORDER BY integration_key"
        )))
        .bind(tenant_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
    }

    /// One integration's settings, `NotFound` if never configured.
    pub async fn get_integration_setting(
        &self,
        tenant_id: Uuid,
        integration_key: &str,
    ) -> Result<IntegrationSettingRow, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM integration_settings WHERE tenant_id = $1 AND integration_key = $2"
        )))
        .bind(tenant_id.to_string())
        .bind(integration_key)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(from_row(&row)?)
    }

    /// Sets the credentials; `enabled: None` keeps the current switch (off for a new row).
    pub async fn upsert_integration_credentials(
        &self,
        tenant_id: Uuid,
        integration_key: &str,
        client_id: &str,
        client_secret_sealed: &str,
        client_secret_hint: &str,
        enabled: Option<bool>,
    ) -> Result<IntegrationSettingRow, StoreError> {
        sqlx::query(
            "INSERT INTO integration_settings \
               (tenant_id, integration_key, client_id, client_secret_sealed, client_secret_hint, enabled, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tenant_id, integration_key) DO UPDATE SET \
               client_id = excluded.client_id, \
               client_secret_sealed = excluded.client_secret_sealed, \
               client_secret_hint = excluded.client_secret_hint, \
               enabled = CASE WHEN $8 = 1 THEN excluded.enabled ELSE integration_settings.enabled END, \
               updated_at = excluded.updated_at",
        )
        .bind(tenant_id.to_string())
        .bind(integration_key)
        .bind(client_id)
        .bind(client_secret_sealed)
        .bind(client_secret_hint)
        .bind(i32::from(enabled.unwrap_or(false)))
        .bind(now_ms())
        .bind(i32::from(enabled.is_some()))
        .execute(&self.pool)
        .await?;
        self.get_integration_setting(tenant_id, integration_key)
            .await
    }

    /// Switches a configured integration on or off; `NotFound` if it has no credentials.
    pub async fn set_integration_enabled(
        &self,
        tenant_id: Uuid,
        integration_key: &str,
        enabled: bool,
    ) -> Result<IntegrationSettingRow, StoreError> {
        let done = sqlx::query(
            "UPDATE integration_settings SET enabled = $1, updated_at = $2 \
             WHERE tenant_id = $3 AND integration_key = $4",
        )
        .bind(i32::from(enabled))
        .bind(now_ms())
        .bind(tenant_id.to_string())
        .bind(integration_key)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.get_integration_setting(tenant_id, integration_key)
            .await
    }
}
