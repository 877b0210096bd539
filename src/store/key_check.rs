//! The master key check value (see `crate::key_check`).

use sqlx::Row;
use uuid::Uuid;

use super::{Store, StoreError, now_ms};

impl Store {
    /// The sealed check value, if one was stored.
    pub async fn master_key_check(&self) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT sealed FROM master_key_check WHERE id = 'master'")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Stores the check value unless another server stored one first.
    pub async fn set_master_key_check(&self, sealed: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO master_key_check (id, sealed, created_at) VALUES ('master', $1, $2) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(sealed)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One stored client secret (tenant, integration key, sealed value), if any: a database
    /// from before the check value existed is checked against it.
    pub async fn any_sealed_client_secret(
        &self,
    ) -> Result<Option<(Uuid, String, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT tenant_id, integration_key, client_secret_sealed FROM integration_settings \
             ORDER BY tenant_id, integration_key LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok((
                super::tenants::parse_uuid(row.try_get("tenant_id")?)?,
                row.try_get("integration_key")?,
                row.try_get("client_secret_sealed")?,
            ))
        })
        .transpose()
    }
}
