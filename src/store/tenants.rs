//! Tenants (the SaaS companies that run on Ledgerline), their API keys and the admin credential.

use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::read_memo::Change;
use super::{Store, StoreError, now_ms};

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    pub id: Uuid,
    pub name: String,
    pub created_at: i64,
}

/// An API key as stored: never the key itself, only its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub created_at: i64,
}

fn tenant_from_row(row: &AnyRow) -> Result<TenantRow, sqlx::Error> {
    Ok(TenantRow {
        id: parse_uuid(row.try_get("id")?)?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

fn api_key_from_row(row: &AnyRow) -> Result<ApiKeyRow, sqlx::Error> {
    Ok(ApiKeyRow {
        id: parse_uuid(row.try_get("id")?)?,
        tenant_id: parse_uuid(row.try_get("tenant_id")?)?,
        created_at: row.try_get("created_at")?,
    })
}

/// Ids are stored as text so that both databases share one schema.
pub(crate) fn parse_uuid(text: String) -> Result<Uuid, sqlx::Error> {
    Uuid::parse_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

impl Store {
    /// The digest of the operator's admin key, if one was generated earlier.
    pub async fn admin_key_hash(&self) -> Result<Option<String>, StoreError> {
        let hash = sqlx::query_scalar("SELECT key_hash FROM admin_credential WHERE id = 'admin'")
            .fetch_optional(&self.pool)
            .await?;
        Ok(hash)
    }

    /// Records the digest of a newly generated admin key.
    pub async fn set_admin_key_hash(&self, hash: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_credential (id, key_hash, created_at) VALUES ('admin', $1, $2)",
        )
        .bind(hash)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Creates a tenant together with its first API key, in one transaction.
    pub async fn create_tenant(
        &self,
        name: &str,
        first_key_hash: &str,
    ) -> Result<(TenantRow, ApiKeyRow), StoreError> {
        let now = now_ms();
        let tenant = TenantRow {
            id: Uuid::new_v4(),
            name: name.to_string(),
            created_at: now,
        };
        let key = ApiKeyRow {
            id: Uuid::new_v4(),
            tenant_id: tenant.id,
            created_at: now,
        };
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(tenant.id.to_string())
            .bind(&tenant.name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        insert_api_key(&mut tx, &key, first_key_hash).await?;
        tx.commit().await?;
        Ok((tenant, key))
    }

    /// Every tenant, oldest first.
    pub async fn list_tenants(&self) -> Result<Vec<TenantRow>, StoreError> {
        let rows = sqlx::query("SELECT id, name, created_at FROM tenants ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(tenant_from_row).collect::<Result<_, _>>()?)
    }

    /// One tenant by id.
    pub async fn get_tenant(&self, id: Uuid) -> Result<TenantRow, StoreError> {
        let row = sqlx::query("SELECT id, name, created_at FROM tenants WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(tenant_from_row(&row)?)
    }

    /// The tenant's return URL template for the end of the link flow, if one is set.
    pub async fn tenant_link_return_url(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        let url: Option<Option<String>> =
            sqlx::query_scalar("SELECT link_return_url FROM tenants WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        url.ok_or(StoreError::NotFound)
    }

    /// Sets (or, with `None`, clears) the tenant's return URL template.
    pub async fn set_tenant_link_return_url(
        &self,
        id: Uuid,
        url: Option<&str>,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE tenants SET link_return_url = $1 WHERE id = $2")
            .bind(url)
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Adds an API key to an existing tenant.
    pub async fn create_api_key(
        &self,
        tenant_id: Uuid,
        key_hash: &str,
    ) -> Result<ApiKeyRow, StoreError> {
        self.get_tenant(tenant_id).await?;
        let key = ApiKeyRow {
            id: Uuid::new_v4(),
            tenant_id,
            created_at: now_ms(),
        };
        let mut tx = self.begin_write().await?;
        insert_api_key(&mut tx, &key, key_hash).await?;
        tx.commit().await?;
        Ok(key)
    }

    /// The tenant's keys (their ids and ages, never the keys).
    pub async fn list_api_keys(&self, tenant_id: Uuid) -> Result<Vec<ApiKeyRow>, StoreError> {
        self.get_tenant(tenant_id).await?;
        let rows = sqlx::query(
            "SELECT id, tenant_id, created_at FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id",
        )
        .bind(tenant_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(api_key_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Revokes one key of one tenant; `NotFound` if that tenant has no such key.
    pub async fn delete_api_key(&self, tenant_id: Uuid, key_id: Uuid) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM api_keys WHERE id = $1 AND tenant_id = $2")
            .bind(key_id.to_string())
            .bind(tenant_id.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // Every instance must stop taking the key.
        Store::log_change(&mut tx, &Change::ApiKeys).await?;
        tx.commit().await?;
        self.forget(&Change::ApiKeys).await;
        Ok(())
    }

    /// The tenant an API key (given by its digest) belongs to.
    pub async fn tenant_by_key_hash(&self, key_hash: &str) -> Result<TenantRow, StoreError> {
        let row = sqlx::query(
            "SELECT t.id, t.name, t.created_at FROM tenants t \
             JOIN api_keys k ON k.tenant_id = t.id WHERE k.key_hash = $1",
        )
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(tenant_from_row(&row)?)
    }
}

async fn insert_api_key(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    key: &ApiKeyRow,
    key_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, key_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(key.id.to_string())
    .bind(key.tenant_id.to_string())
    .bind(key_hash)
    .bind(key.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
