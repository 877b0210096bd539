//! Pulled records, the datasets they form, and the pull operations that fill them.
//!
//! A pull commits page by page: each page's records, deletions, cursor and the operation's
//! counters in one transaction, so a crash leaves whole pages behind, never half of one, and
//! the cursor never runs ahead of the records it covers. A data type only becomes readable when
//! its first pull has finished ([`Store::finish_pull`]).

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

use super::read_memo::Change;
use super::tenants::parse_uuid;
use super::{Store, StoreError};
use crate::clock::iso_utc;

/// Rows per multi-row INSERT: well inside both databases' parameter limits.
const BATCH: usize = 300;

/// A Codat PullOperation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullOperationRow {
    pub id: Uuid,
    pub company_id: Uuid,
    pub connection_id: Uuid,
    pub data_type: String,
    /// Codat's DatasetStatus (`Queued`, `Fetching`, `Complete`, `FetchError`, …).
    pub status: String,
    pub requested_at: i64,
    pub completed_at: Option<i64>,
    pub progress: i32,
    pub status_description: Option<String>,
    pub error_message: Option<String>,
    pub records: Option<i64>,
    pub upstream_calls: Option<i64>,
    /// When the server running the pull last said it was still at it.
    pub heartbeat_at: Option<i64>,
}

/// Where one data type of one connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRow {
    pub data_type: String,
    pub connection_id: Uuid,
    pub cursor: Option<String>,
    pub version: i64,
    pub last_successful_sync: Option<i64>,
    pub latest_sync_id: Option<String>,
    pub latest_successful_sync_id: Option<String>,
    /// A full pull began and has not completed: the next pull must be full (see
    /// [`Store::begin_full_pull`]).
    pub full_pull_pending: bool,
}

/// What a committed pull changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitCounts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
}

/// A full pull's result in one piece, ready to commit (seeding and tests; pulls go page by page).
#[derive(Debug, Clone)]
pub struct PulledRecords {
    /// `(record id, record JSON)`; `modifiedDate` is filled in here, on change.
    pub records: Vec<(String, Value)>,
    pub cursor: Option<String>,
    pub upstream_calls: i64,
}

/// One page of a pull, ready to commit.
#[derive(Debug, Clone, Default)]
pub struct PageRecords {
    /// `(record id, record JSON)`; `modifiedDate` is filled in here, on change.
    pub upserts: Vec<(String, Value)>,
    /// Ids the upstream reported deleted.
    pub deleted: Vec<String>,
    /// `(record id, upstream key)`: keys the upstream names parts of these records by (see
    /// [`Store::record_ids_by_keys`]).
    pub keys: Vec<(String, String)>,
    /// Where the next pull resumes; `None` keeps the stored one.
    pub cursor: Option<String>,
    pub upstream_calls: i64,
    /// The pull's progress (0–100) once this page is stored.
    pub progress: i32,
    /// The page belongs to a full read: until the pull completes, the next one must be full.
    pub full: bool,
}

const PULL_COLUMNS: &str = "id, company_id, connection_id, data_type, status, requested_at, completed_at, \
                            progress, status_description, error_message, records, upstream_calls, heartbeat_at";

fn pull_from_row(row: &AnyRow) -> Result<PullOperationRow, sqlx::Error> {
    Ok(PullOperationRow {
        id: parse_uuid(row.try_get("id")?)?,
        company_id: parse_uuid(row.try_get("company_id")?)?,
        connection_id: parse_uuid(row.try_get("connection_id")?)?,
        data_type: row.try_get("data_type")?,
        status: row.try_get("status")?,
        requested_at: row.try_get("requested_at")?,
        completed_at: row.try_get("completed_at")?,
        progress: row.try_get("progress")?,
        status_description: row.try_get("status_description")?,
        error_message: row.try_get("error_message")?,
        records: row.try_get("records")?,
        upstream_calls: row.try_get("upstream_calls")?,
        heartbeat_at: row.try_get("heartbeat_at")?,
    })
}

fn hash(value: &Value) -> String {
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

impl Store {
    /// Queues a pull; `None` when one of the same data type is already queued or running for
    /// the company (on any server instance).
    pub async fn create_pull_operation(
        &self,
        company_id: Uuid,
        connection_id: Uuid,
        data_type: &str,
        now: i64,
    ) -> Result<Option<PullOperationRow>, StoreError> {
        let id = Uuid::new_v4();
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO pull_operations (id, company_id, connection_id, data_type, status, requested_at) \
             VALUES ($1, $2, $3, $4, 'Queued', $5)",
        )
        .bind(id.to_string())
        .bind(company_id.to_string())
        .bind(connection_id.to_string())
        .bind(data_type)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {
                let change = Change::Datasets(company_id);
                Store::log_change(&mut tx, &change).await?;
                tx.commit().await?;
                self.forget(&change).await;
                self.get_pull_operation(company_id, id).await.map(Some)
            }
            // The partial unique index `pull_operations_one_running` refused a second pull.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// One of a company's pulls.
    pub async fn get_pull_operation(
        &self,
        company_id: Uuid,
        id: Uuid,
    ) -> Result<PullOperationRow, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {PULL_COLUMNS} FROM pull_operations WHERE id = $1 AND company_id = $2"
        )))
        .bind(id.to_string())
        .bind(company_id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(pull_from_row(&row)?)
    }

    /// A page of a company's pulls, newest first, and how many there are.
    pub async fn list_pull_operations(
        &self,
        company_id: Uuid,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<PullOperationRow>, i64), StoreError> {
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM pull_operations WHERE company_id = $1")
                .bind(company_id.to_string())
                .fetch_one(&self.pool)
                .await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {PULL_COLUMNS} FROM pull_operations WHERE company_id = $1 \
             ORDER BY requested_at DESC, id LIMIT $2 OFFSET $3"
        )))
        .bind(company_id.to_string())
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok((
            rows.iter().map(pull_from_row).collect::<Result<_, _>>()?,
            total,
        ))
    }

    /// A pull of this data type still running for the company, if any.
    pub async fn running_pull(
        &self,
        company_id: Uuid,
        data_type: &str,
    ) -> Result<Option<PullOperationRow>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {PULL_COLUMNS} FROM pull_operations WHERE company_id = $1 AND data_type = $2 \
             AND status IN ('Queued', 'Fetching', 'Mapping') ORDER BY requested_at DESC LIMIT 1"
        )))
        .bind(company_id.to_string())
        .bind(data_type)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(pull_from_row).transpose()?)
    }

    /// Moves a pull along (`Fetching`, `Mapping`) or ends it in an error status.
    pub async fn set_pull_status(
        &self,
        id: Uuid,
        status: &str,
        progress: i32,
        error: Option<&str>,
        completed_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let company: Option<String> = sqlx::query_scalar(
            "UPDATE pull_operations SET status = $1, progress = $2, error_message = $3, completed_at = $4 \
             WHERE id = $5 RETURNING company_id",
        )
        .bind(status)
        .bind(progress)
        .bind(error)
        .bind(completed_at)
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        // Whether a pull runs is on every read's headers.
        let change = match company {
            Some(company) => Change::Datasets(parse_uuid(company)?),
            None => return Ok(()),
        };
        Store::log_change(&mut tx, &change).await?;
        tx.commit().await?;
        self.forget(&change).await;
        Ok(())
    }

    /// The running pull is still alive (its server calls this while it runs).
    pub async fn pull_heartbeat(&self, id: Uuid, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE pull_operations SET heartbeat_at = $1 \
             WHERE id = $2 AND status IN ('Queued', 'Fetching', 'Mapping')",
        )
        .bind(now)
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Pulls whose server stopped saying it runs them (no heartbeat since `stale_before`): they
    /// will never finish, so say so. Pulls other server instances are still running stay.
    pub async fn fail_abandoned_pulls(
        &self,
        now: i64,
        stale_before: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE pull_operations SET status = 'InternalError', completed_at = $1, \
               error_message = 'The server running this pull stopped; queue it again' \
             WHERE status IN ('Queued', 'Fetching', 'Mapping') \
               AND COALESCE(heartbeat_at, requested_at) < $2",
        )
        .bind(now)
        .bind(stale_before)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() > 0 {
            Store::log_change(&mut tx, &Change::AllDatasets).await?;
        }
        tx.commit().await?;
        if done.rows_affected() > 0 {
            self.forget(&Change::AllDatasets).await;
        }
        Ok(done.rows_affected())
    }

    /// Every dataset of a company.
    pub async fn datasets(&self, company_id: Uuid) -> Result<Vec<DatasetRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT data_type, connection_id, cursor, version, last_successful_sync, latest_sync_id, \
               latest_successful_sync_id, full_pull_pending FROM datasets WHERE company_id = $1 \
             ORDER BY data_type, connection_id",
        )
        .bind(company_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DatasetRow {
                    data_type: row.try_get("data_type")?,
                    connection_id: parse_uuid(row.try_get("connection_id")?)?,
                    cursor: row.try_get("cursor")?,
                    version: row.try_get("version")?,
                    last_successful_sync: row.try_get("last_successful_sync")?,
                    latest_sync_id: row.try_get("latest_sync_id")?,
                    latest_successful_sync_id: row.try_get("latest_successful_sync_id")?,
                    full_pull_pending: row.try_get::<i32, _>("full_pull_pending")? != 0,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Per company and data type, when its latest successful pull finished (epoch ms), for
    /// the sync lag `/metrics` shows; data types never pulled are left out.
    pub async fn last_successful_syncs(&self) -> Result<Vec<(Uuid, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT company_id, data_type, MAX(last_successful_sync) AS last_sync FROM datasets \
             WHERE last_successful_sync IS NOT NULL GROUP BY company_id, data_type \
             ORDER BY company_id, data_type",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    parse_uuid(row.try_get("company_id")?)?,
                    row.try_get("data_type")?,
                    row.try_get("last_sync")?,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Every stored record of a data type (deleted ones flagged inside), ordered by id.
    pub async fn load_records(
        &self,
        company_id: Uuid,
        data_type: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT record_id, data FROM records WHERE company_id = $1 AND data_type = $2 ORDER BY record_id",
        )
        .bind(company_id.to_string())
        .bind(data_type)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("record_id")?, row.try_get("data")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// A full pull of the data type begins: until one completes ([`Store::finish_pull`] with
    /// what it saw), [`DatasetRow::full_pull_pending`] says the next pull must be full too, even
    /// if this one's pages stored a new cursor — only a full pull's end derives deletions from
    /// absence. Nothing to mark before the data type's first pull (no cursor: full anyway).
    pub async fn begin_full_pull(&self, pull: &PullOperationRow) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE datasets SET full_pull_pending = 1 \
             WHERE company_id = $1 AND data_type = $2 AND connection_id = $3",
        )
        .bind(pull.company_id.to_string())
        .bind(&pull.data_type)
        .bind(pull.connection_id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The stored records of `data_type` from `connection_id` that `keys` (upstream keys a
    /// page stored with them, see [`PageRecords::keys`]) belong to: `(key, record id)` for each
    /// key found. One indexed lookup per [`BATCH`] keys.
    pub async fn record_ids_by_keys(
        &self,
        company_id: Uuid,
        connection_id: Uuid,
        data_type: &str,
        keys: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(BATCH) {
            let placeholders: Vec<String> =
                (0..chunk.len()).map(|i| format!("${}", i + 4)).collect();
            let sql = format!(
                "SELECT upstream_key, record_id FROM record_keys \
                 WHERE company_id = $1 AND data_type = $2 AND connection_id = $3 \
                   AND upstream_key IN ({})",
                placeholders.join(",")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql))
                .bind(company_id.to_string())
                .bind(data_type)
                .bind(connection_id.to_string());
            for key in chunk {
                query = query.bind(key);
            }
            for row in query.fetch_all(&self.pool).await? {
                found.push((row.try_get("upstream_key")?, row.try_get("record_id")?));
            }
        }
        Ok(found)
    }

    /// Commits one page of a running pull: upserts what changed (records identical to the
    /// stored ones keep their `modifiedDate`), flags reported deletions, stores the cursor and
    /// adds to the operation's counters — in one transaction. `NotFound` when the pull is no
    /// longer running (given up as abandoned): its data must not land over newer data.
    pub async fn commit_page(
        &self,
        pull: &PullOperationRow,
        page: PageRecords,
        now: i64,
    ) -> Result<CommitCounts, StoreError> {
        let company = pull.company_id.to_string();
        let connection = pull.connection_id.to_string();
        let mut tx = self.begin_write().await?;
        // First, so that a given-up pull writes nothing (and holds the write lock briefly).
        let running = sqlx::query(
            "UPDATE pull_operations SET records = COALESCE(records, 0) + $1, \
               upstream_calls = COALESCE(upstream_calls, 0) + $2, heartbeat_at = $3, \
               status = 'Fetching', progress = $5 \
             WHERE id = $4 AND status IN ('Queued', 'Fetching', 'Mapping')",
        )
        .bind(page.upserts.len() as i64)
        .bind(page.upstream_calls)
        .bind(now)
        .bind(pull.id.to_string())
        .bind(page.progress)
        .execute(&mut *tx)
        .await?;
        if running.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }

        let mut counts = CommitCounts::default();
        for ids in page.upserts.chunks(BATCH) {
            let existing = stored_hashes(&mut tx, pull, ids.iter().map(|(id, _)| id)).await?;
            let mut changed: Vec<(String, String, String)> = Vec::new();
            for (id, record) in ids {
                let content_hash = hash(record);
                match existing.get(id) {
                    Some((old, false)) if *old == content_hash => {
                        counts.unchanged += 1;
                        continue;
                    }
                    Some(_) => counts.updated += 1,
                    None => counts.inserted += 1,
                }
                let mut record = record.clone();
                if let Some(object) = record.as_object_mut() {
                    object.insert("modifiedDate".into(), Value::String(iso_utc(now)));
                }
                changed.push((id.clone(), record.to_string(), content_hash));
            }
            if !changed.is_empty() {
                upsert_batch(&mut tx, pull, &changed, now).await?;
            }
        }
        for ids in page.deleted.chunks(BATCH) {
            let existing = stored_hashes(&mut tx, pull, ids.iter()).await?;
            for id in ids {
                if matches!(existing.get(id), Some((_, false))) {
                    flag_deleted(&mut tx, &company, &pull.data_type, id, now).await?;
                    counts.deleted += 1;
                }
            }
        }
        // One row per key (the last record named wins): a statement may not upsert a row twice.
        let keys: Vec<(String, String)> = page
            .keys
            .into_iter()
            .map(|(record, key)| (key, record))
            .collect::<HashMap<_, _>>()
            .into_iter()
            .map(|(key, record)| (record, key))
            .collect();
        for keys in keys.chunks(BATCH) {
            upsert_keys(&mut tx, pull, keys).await?;
        }
        let changes = counts.inserted + counts.updated + counts.deleted;
        sqlx::query(
            "INSERT INTO datasets (company_id, data_type, connection_id, cursor, version, full_pull_pending) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (company_id, data_type, connection_id) DO UPDATE SET \
               cursor = COALESCE(excluded.cursor, datasets.cursor), \
               version = datasets.version + excluded.version, \
               full_pull_pending = CASE WHEN excluded.full_pull_pending = 1 THEN 1 \
                                        ELSE datasets.full_pull_pending END",
        )
        .bind(&company)
        .bind(&pull.data_type)
        .bind(&connection)
        .bind(page.cursor.as_deref())
        .bind(i64::from(changes > 0))
        .bind(i32::from(page.full))
        .execute(&mut *tx)
        .await?;
        // A new version is a new copy for readers; a page that changed nothing is none.
        let change = Change::Datasets(pull.company_id);
        if changes > 0 {
            Store::log_change(&mut tx, &change).await?;
        }
        tx.commit().await?;
        if changes > 0 {
            self.forget(&change).await;
        }
        Ok(counts)
    }

    /// Completes a pull whose pages are all committed. After a full pull, `seen` holds every id
    /// it delivered: the connection's other records of the data type are gone upstream and are
    /// flagged deleted. The data type is readable from here on.
    pub async fn finish_pull(
        &self,
        pull: &PullOperationRow,
        seen: Option<&HashSet<String>>,
        now: i64,
    ) -> Result<CommitCounts, StoreError> {
        let company = pull.company_id.to_string();
        let connection = pull.connection_id.to_string();
        let mut tx = self.begin_write().await?;
        let completed = sqlx::query(
            "UPDATE pull_operations SET status = 'Complete', progress = 100, completed_at = $1, \
               records = COALESCE(records, 0), upstream_calls = COALESCE(upstream_calls, 0) \
             WHERE id = $2 AND status IN ('Queued', 'Fetching', 'Mapping')",
        )
        .bind(now)
        .bind(pull.id.to_string())
        .execute(&mut *tx)
        .await?;
        if completed.rows_affected() != 1 {
            // Given up as abandoned meanwhile: dropping `tx` rolls everything back.
            return Err(StoreError::NotFound);
        }
        let mut counts = CommitCounts::default();
        if let Some(seen) = seen {
            let live: Vec<String> = sqlx::query_scalar(
                "SELECT record_id FROM records \
                 WHERE company_id = $1 AND data_type = $2 AND connection_id = $3 AND deleted = 0",
            )
            .bind(&company)
            .bind(&pull.data_type)
            .bind(&connection)
            .fetch_all(&mut *tx)
            .await?;
            for id in live.iter().filter(|id| !seen.contains(*id)) {
                flag_deleted(&mut tx, &company, &pull.data_type, id, now).await?;
                counts.deleted += 1;
            }
        }
        // A completed full pull is what a pending one was waiting for.
        sqlx::query(
            "INSERT INTO datasets (company_id, data_type, connection_id, version, \
               last_successful_sync, latest_sync_id, latest_successful_sync_id) \
             VALUES ($1, $2, $3, $6, $4, $5, $5) \
             ON CONFLICT (company_id, data_type, connection_id) DO UPDATE SET \
               version = datasets.version + excluded.version, \
               last_successful_sync = excluded.last_successful_sync, \
               latest_sync_id = excluded.latest_sync_id, \
               latest_successful_sync_id = excluded.latest_successful_sync_id, \
               full_pull_pending = CASE WHEN $7 = 1 THEN 0 ELSE datasets.full_pull_pending END",
        )
        .bind(&company)
        .bind(&pull.data_type)
        .bind(&connection)
        .bind(now)
        .bind(pull.id.to_string())
        .bind(i64::from(counts.deleted > 0))
        .bind(i32::from(seen.is_some()))
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE companies SET last_sync = $1 WHERE id = $2")
            .bind(now)
            .bind(&company)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE connections SET last_sync = $1 WHERE id = $2")
            .bind(now)
            .bind(&connection)
            .execute(&mut *tx)
            .await?;
        let change = Change::Datasets(pull.company_id);
        Store::log_change(&mut tx, &change).await?;
        tx.commit().await?;
        self.forget(&change).await;
        Ok(counts)
    }

    /// Commits a whole full pull as one page and completes it.
    pub async fn commit_pull(
        &self,
        pull: &PullOperationRow,
        pulled: PulledRecords,
        now: i64,
    ) -> Result<CommitCounts, StoreError> {
        let seen: HashSet<String> = pulled.records.iter().map(|(id, _)| id.clone()).collect();
        let mut counts = self
            .commit_page(
                pull,
                PageRecords {
                    upserts: pulled.records,
                    deleted: Vec::new(),
                    keys: Vec::new(),
                    cursor: pulled.cursor,
                    upstream_calls: pulled.upstream_calls,
                    progress: 90,
                    full: true,
                },
                now,
            )
            .await?;
        counts.deleted += self.finish_pull(pull, Some(&seen), now).await?.deleted;
        Ok(counts)
    }
}

/// The stored hash and deleted flag of those of `ids` the connection holds.
async fn stored_hashes<'i>(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    pull: &PullOperationRow,
    ids: impl Iterator<Item = &'i String>,
) -> Result<HashMap<String, (String, bool)>, sqlx::Error> {
    let ids: Vec<&String> = ids.collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 4)).collect();
    let sql = format!(
        "SELECT record_id, content_hash, deleted FROM records \
         WHERE company_id = $1 AND data_type = $2 AND connection_id = $3 AND record_id IN ({})",
        placeholders.join(",")
    );
    let mut query = sqlx::query(AssertSqlSafe(sql))
        .bind(pull.company_id.to_string())
        .bind(&pull.data_type)
        .bind(pull.connection_id.to_string());
    for id in ids {
        query = query.bind(id);
    }
    query
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get::<String, _>("record_id")?,
                (
                    row.try_get::<String, _>("content_hash")?,
                    row.try_get::<i32, _>("deleted")? != 0,
                ),
            ))
        })
        .collect()
}

async fn upsert_batch(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    pull: &PullOperationRow,
    rows: &[(String, String, String)],
    now: i64,
) -> Result<(), sqlx::Error> {
    let (company, connection) = (pull.company_id.to_string(), pull.connection_id.to_string());
    let mut sql = String::from(
        "INSERT INTO records (company_id, data_type, record_id, connection_id, data, content_hash, \
         modified_at, deleted) VALUES ",
    );
    for i in 0..rows.len() {
        let p = i * 7;
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${}, 0)",
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5,
            p + 6,
            p + 7
        ));
    }
    sql.push_str(
        " ON CONFLICT (company_id, data_type, record_id) DO UPDATE SET connection_id = excluded.connection_id, \
         data = excluded.data, content_hash = excluded.content_hash, modified_at = excluded.modified_at, deleted = 0",
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for (id, data, content_hash) in rows {
        query = query
            .bind(&company)
            .bind(&pull.data_type)
            .bind(id)
            .bind(&connection)
            .bind(data)
            .bind(content_hash)
            .bind(now);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Maps upstream keys to their records. A key stays after its part is gone upstream: a later
/// deletion of it then leads a pull to re-read a record that still exists, which costs a call
/// but never loses one. Unchanged mappings are not rewritten.
async fn upsert_keys(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    pull: &PullOperationRow,
    keys: &[(String, String)],
) -> Result<(), sqlx::Error> {
    let (company, connection) = (pull.company_id.to_string(), pull.connection_id.to_string());
    let mut sql = String::from(
        "INSERT INTO record_keys (company_id, data_type, upstream_key, connection_id, record_id) VALUES ",
    );
    for i in 0..keys.len() {
        let p = i * 5;
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${})",
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5
        ));
    }
    sql.push_str(
        " ON CONFLICT (company_id, data_type, upstream_key) DO UPDATE SET \
         connection_id = excluded.connection_id, record_id = excluded.record_id \
         WHERE record_keys.record_id <> excluded.record_id \
            OR record_keys.connection_id <> excluded.connection_id",
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for (record_id, key) in keys {
        query = query
            .bind(&company)
            .bind(&pull.data_type)
            .bind(key)
            .bind(&connection)
            .bind(record_id);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Codat keeps records deleted upstream, flagged `metadata.isDeleted = true`.
async fn flag_deleted(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    company: &str,
    data_type: &str,
    id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let data: String = sqlx::query_scalar(
        "SELECT data FROM records WHERE company_id = $1 AND data_type = $2 AND record_id = $3",
    )
    .bind(company)
    .bind(data_type)
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    let mut record: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
    if let Some(object) = record.as_object_mut() {
        object.insert("metadata".into(), serde_json::json!({"isDeleted": true}));
        object.insert("modifiedDate".into(), Value::String(iso_utc(now)));
    }
    sqlx::query(
        "UPDATE records SET data = $1, deleted = 1, modified_at = $2 \
         WHERE company_id = $3 AND data_type = $4 AND record_id = $5",
    )
    .bind(record.to_string())
    .bind(now)
    .bind(company)
    .bind(data_type)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
