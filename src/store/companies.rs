//! Companies: a tenant's end customers, each of which will hold connections to an accounting upstream.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

use super::read_memo::Change;
use super::tenants::parse_uuid;
use super::{Store, StoreError, now_ms};

/// A company as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub created_at: i64,
    pub last_sync: Option<i64>,
    /// Where the end customer goes after the link flow, overriding the tenant's template.
    pub link_return_url: Option<String>,
}

/// The fields a client sets on a company.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewCompany {
    pub name: String,
    pub description: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub link_return_url: Option<String>,
}

fn from_row(row: &AnyRow) -> Result<CompanyRow, sqlx::Error> {
    let tags: String = row.try_get("tags")?;
    Ok(CompanyRow {
        id: parse_uuid(row.try_get("id")?)?,
        tenant_id: parse_uuid(row.try_get("tenant_id")?)?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        tags: serde_json::from_str(&tags).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        created_at: row.try_get("created_at")?,
        last_sync: row.try_get("last_sync")?,
        link_return_url: row.try_get("link_return_url")?,
    })
}

const COLUMNS: &str =
    "id, tenant_id, name, description, tags, created_at, last_sync, link_return_url";

fn tags_json(tags: &BTreeMap<String, String>) -> String {
    serde_json::to_string(tags).expect("a string map always serialises")
}

impl Store {
    /// Creates a company for a tenant.
    pub async fn create_company(
        &self,
        tenant_id: Uuid,
        company: &NewCompany,
    ) -> Result<CompanyRow, StoreError> {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO companies (id, tenant_id, name, description, tags, created_at, link_return_url) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(tenant_id.to_string())
        .bind(&company.name)
        .bind(company.description.as_deref())
        .bind(tags_json(&company.tags))
        .bind(now_ms())
        .bind(company.link_return_url.as_deref())
        .execute(&self.pool)
        .await?;
        self.get_company(tenant_id, id).await
    }

    /// One of the tenant's companies; another tenant's company is `NotFound`.
    pub async fn get_company(&self, tenant_id: Uuid, id: Uuid) -> Result<CompanyRow, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM companies WHERE id = $1 AND tenant_id = $2"
        )))
        .bind(id.to_string())
        .bind(tenant_id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(from_row(&row)?)
    }

    /// A company by id alone: for the public link page, which carries no API key.
    pub async fn company_by_id(&self, id: Uuid) -> Result<CompanyRow, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM companies WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(from_row(&row)?)
    }

    /// A page of the tenant's companies in creation order, and how many there are in all.
    pub async fn list_companies(
        &self,
        tenant_id: Uuid,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<CompanyRow>, i64), StoreError> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM companies WHERE tenant_id = $1")
            .bind(tenant_id.to_string())
            .fetch_one(&self.pool)
            .await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM companies WHERE tenant_id = $1 \
             ORDER BY created_at, id LIMIT $2 OFFSET $3"
        )))
        .bind(tenant_id.to_string())
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let companies = rows.iter().map(from_row).collect::<Result<_, _>>()?;
        Ok((companies, total))
    }

    /// Replaces a company's name, description, tags and return URL.
    pub async fn update_company(
        &self,
        tenant_id: Uuid,
        id: Uuid,
        company: &NewCompany,
    ) -> Result<CompanyRow, StoreError> {
        let done = sqlx::query(
            "UPDATE companies SET name = $1, description = $2, tags = $3, link_return_url = $4 \
             WHERE id = $5 AND tenant_id = $6",
        )
        .bind(&company.name)
        .bind(company.description.as_deref())
        .bind(tags_json(&company.tags))
        .bind(company.link_return_url.as_deref())
        .bind(id.to_string())
        .bind(tenant_id.to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.get_company(tenant_id, id).await
    }

    /// Deletes a company; `NotFound` if the tenant has no such company.
    pub async fn delete_company(&self, tenant_id: Uuid, id: Uuid) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM companies WHERE id = $1 AND tenant_id = $2")
            .bind(id.to_string())
            .bind(tenant_id.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Store::log_change(&mut tx, &Change::Company(id)).await?;
        tx.commit().await?;
        self.forget(&Change::Company(id)).await;
        Ok(())
    }
}
