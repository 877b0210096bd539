//! Reading stored records without loading a data type whole: a page in id order, one record, a
//! count, records by id, and the values of a few property paths across every record (what a
//! `query` or `orderBy` needs), extracted by the database so that only those values travel.
//!
//! Every read uses the primary key `(company_id, data_type, record_id)`: pages walk it in order,
//! and a page deep in a big data type starts at a known id instead of skipping rows.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use serde_json::Value;
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

use super::{Backend, Store, StoreError};

/// A stored scalar at one property path of every record, in id order: `None` where the record
/// has nothing there (missing, or null, which no comparison or order tells apart from missing).
pub type FieldColumn = Vec<Option<Value>>;

impl Store {
    /// Up to `limit` records' JSON, in id order, from the `offset`-th.
    pub async fn record_page(
        &self,
        company_id: Uuid,
        data_type: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT data FROM records WHERE company_id = $1 AND data_type = $2 \
             ORDER BY record_id LIMIT $3 OFFSET $4",
        )
        .bind(company_id.to_string())
        .bind(data_type)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Up to `limit` records' JSON in id order, from the record with id `from` on: a page deep
    /// in a data type without walking past the rows before it.
    pub async fn record_page_from(
        &self,
        company_id: Uuid,
        data_type: &str,
        from: &str,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT data FROM records WHERE company_id = $1 AND data_type = $2 \
             AND record_id >= $3 ORDER BY record_id LIMIT $4",
        )
        .bind(company_id.to_string())
        .bind(data_type)
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many records of the data type are stored (deleted ones included: they are served
    /// flagged).
    pub async fn record_count(&self, company_id: Uuid, data_type: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM records WHERE company_id = $1 AND data_type = $2",
        )
        .bind(company_id.to_string())
        .bind(data_type)
        .fetch_one(&self.pool)
        .await?)
    }

    /// One record's JSON.
    pub async fn record(
        &self,
        company_id: Uuid,
        data_type: &str,
        record_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT data FROM records WHERE company_id = $1 AND data_type = $2 AND record_id = $3",
        )
        .bind(company_id.to_string())
        .bind(data_type)
        .bind(record_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The JSON of those of `ids` that are stored, by id.
    pub async fn records_by_id(
        &self,
        company_id: Uuid,
        data_type: &str,
        ids: &[&str],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut found = HashMap::with_capacity(ids.len());
        // Well inside both databases' parameter limits.
        for chunk in ids.chunks(500) {
            let placeholders: Vec<String> =
                (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "SELECT record_id, data FROM records WHERE company_id = $1 AND data_type = $2 \
                 AND record_id IN ({})",
                placeholders.join(",")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql))
                .bind(company_id.to_string())
                .bind(data_type);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                found.insert(row.try_get("record_id")?, row.try_get("data")?);
            }
        }
        Ok(found)
    }

    /// Every record's id in order, and the value at each of `paths` (property paths split at
    /// their dots, each step a plain name) of every record, as columns in the same order. The
    /// database extracts the values, so the records' text never leaves it.
    pub async fn record_fields(
        &self,
        company_id: Uuid,
        data_type: &str,
        paths: &[Vec<String>],
    ) -> Result<(Vec<Box<str>>, Vec<FieldColumn>), StoreError> {
        for step in paths.iter().flatten() {
            if step.is_empty() || !step.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(StoreError::Database(sqlx::Error::Protocol(format!(
                    "a record field path step must be a plain name, got '{}'",
                    step.escape_default()
                ))));
            }
        }
        // Each value as JSON text (SQLite's `->`, PostgreSQL's `#>` on jsonb), read back by
        // serde_json: the same numbers, strings and dates a parsed record holds.
        let extract: Vec<String> = paths
            .iter()
            .enumerate()
            .map(|(i, path)| match self.backend {
                Backend::Sqlite => format!("data -> '$.{}' AS f{i}", path.join(".")),
                Backend::Postgres => {
                    format!("(data::jsonb #> '{{{}}}')::text AS f{i}", path.join(","))
                }
            })
            .collect();
        let columns = std::iter::once("record_id".to_string())
            .chain(extract)
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns} FROM records WHERE company_id = $1 AND data_type = $2 ORDER BY record_id"
        );
        let company = company_id.to_string();
        let mut rows = sqlx::query(AssertSqlSafe(sql))
            .bind(&company)
            .bind(data_type)
            .fetch(&self.pool);
        let mut ids = Vec::new();
        let mut fields: Vec<FieldColumn> = vec![Vec::new(); paths.len()];
        while let Some(row) = rows.try_next().await? {
            let id: String = row.try_get(0)?;
            ids.push(id.into_boxed_str());
            for (i, column) in fields.iter_mut().enumerate() {
                let text: Option<String> = row.try_get(i + 1)?;
                column.push(text.and_then(|text| scalar(&text)));
            }
        }
        for column in &mut fields {
            column.shrink_to_fit();
        }
        ids.shrink_to_fit();
        Ok((ids, fields))
    }
}

/// A stored value as a query sees it: scalars only (a known path never ends on an object or
/// array), null as nothing.
fn scalar(json: &str) -> Option<Value> {
    match serde_json::from_str(json).ok()? {
        Value::Null | Value::Array(_) | Value::Object(_) => None,
        value => Some(value),
    }
}
