//! Codat's sync settings per tenant and data type, and the facts the scheduler reads to decide
//! what is due: when each company's data type was last queued.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

use super::tenants::parse_uuid;
use super::{Store, StoreError};

/// One data type's sync setting as stored (Codat's `SyncSetting`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSettingRow {
    pub data_type: String,
    pub fetch_on_first_link: bool,
    /// Hours between scheduled refreshes.
    pub sync_schedule_hours: i32,
    pub sync_order: i32,
    pub sync_from_utc: Option<i64>,
    pub sync_from_window: Option<i32>,
    pub months_to_sync: Option<i32>,
    pub is_locked: bool,
}

const COLUMNS: &str = "data_type, fetch_on_first_link, sync_schedule_hours, sync_order, \
                       sync_from_utc, sync_from_window, months_to_sync, is_locked";

fn from_row(row: &AnyRow) -> Result<SyncSettingRow, sqlx::Error> {
    Ok(SyncSettingRow {
        data_type: row.try_get("data_type")?,
        fetch_on_first_link: row.try_get::<i32, _>("fetch_on_first_link")? != 0,
        sync_schedule_hours: row.try_get("sync_schedule_hours")?,
        sync_order: row.try_get("sync_order")?,
        sync_from_utc: row.try_get("sync_from_utc")?,
        sync_from_window: row.try_get("sync_from_window")?,
        months_to_sync: row.try_get("months_to_sync")?,
        is_locked: row.try_get::<i32, _>("is_locked")? != 0,
    })
}

impl Store {
    /// The tenant's stored settings (data types without a row have the defaults).
    pub async fn sync_settings(&self, tenant_id: Uuid) -> Result<Vec<SyncSettingRow>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM sync_settings WHERE tenant_id = $1 ORDER BY data_type"
        )))
        .bind(tenant_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
    }

    /// Every tenant's stored settings, for the scheduler.
    pub async fn all_sync_settings(
        &self,
    ) -> Result<HashMap<Uuid, Vec<SyncSettingRow>>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT tenant_id, {COLUMNS} FROM sync_settings"
        )))
        .fetch_all(&self.pool)
        .await?;
        let mut by_tenant: HashMap<Uuid, Vec<SyncSettingRow>> = HashMap::new();
        for row in &rows {
            let tenant = parse_uuid(row.try_get("tenant_id")?)?;
            by_tenant.entry(tenant).or_default().push(from_row(row)?);
        }
        Ok(by_tenant)
    }

    /// Stores the given data types' settings (others keep theirs), in one transaction.
    pub async fn upsert_sync_settings(
        &self,
        tenant_id: Uuid,
        settings: &[SyncSettingRow],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for s in settings {
            sqlx::query(
                "INSERT INTO sync_settings (tenant_id, data_type, fetch_on_first_link, \
                   sync_schedule_hours, sync_order, sync_from_utc, sync_from_window, \
                   months_to_sync, is_locked, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (tenant_id, data_type) DO UPDATE SET \
                   fetch_on_first_link = excluded.fetch_on_first_link, \
                   sync_schedule_hours = excluded.sync_schedule_hours, \
                   sync_order = excluded.sync_order, sync_from_utc = excluded.sync_from_utc, \
                   sync_from_window = excluded.sync_from_window, \
                   months_to_sync = excluded.months_to_sync, is_locked = excluded.is_locked, \
                   updated_at = excluded.updated_at",
            )
            .bind(tenant_id.to_string())
            .bind(&s.data_type)
            .bind(i32::from(s.fetch_on_first_link))
            .bind(s.sync_schedule_hours)
            .bind(s.sync_order)
            .bind(s.sync_from_utc)
            .bind(s.sync_from_window)
            .bind(s.months_to_sync)
            .bind(i32::from(s.is_locked))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the tenant's settings: every data type is back to the defaults.
    pub async fn clear_sync_settings(&self, tenant_id: Uuid) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sync_settings WHERE tenant_id = $1")
            .bind(tenant_id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Per company and data type, when its latest pull was queued (whatever became of it): the
    /// scheduler counts the next refresh from there.
    pub async fn latest_pull_requests(&self) -> Result<HashMap<(Uuid, String), i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT company_id, data_type, MAX(requested_at) AS latest FROM pull_operations \
             GROUP BY company_id, data_type",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut latest = HashMap::new();
        for row in &rows {
            let company = parse_uuid(row.try_get("company_id")?)?;
            latest.insert((company, row.try_get("data_type")?), row.try_get("latest")?);
        }
        Ok(latest)
    }
}
