//! Reading pulled data in Codat's shapes (`/companies/{companyId}/data/invoices`), queueing pulls,
//! and their status (`dataStatus`, `data/history`). Reads come from the sync engine's cache of
//! the store: they never call the upstream.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::auth::Tenant;
use super::companies::load_company;
use super::error::{ApiError, ApiResult, ErrorMessage};
use super::extract::ApiQuery;
use super::paging::{Links, Page, PageQuery};
use super::selection::Selection;
use super::time::iso_utc;
use crate::app::AppState;
use crate::model::Invoice;
use crate::provider::DataType;
use crate::store::PullOperationRow;
use crate::sync::QueueError;
use crate::sync::cache::{CachedDataset, DataCache, Lookup};

/// Codat's PullOperation: one queued or finished pull of a data type.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PullOperation {
    /// The dataset id.
    pub id: Uuid,
    pub company_id: Uuid,
    pub connection_id: Uuid,
    pub data_type: String,
    /// Codat's DatasetStatus: `Queued`, `Fetching`, `Complete`, `FetchError`, `AuthError`, …
    pub status: String,
    pub requested: String,
    pub progress: i32,
    pub is_completed: bool,
    pub is_errored: bool,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_description: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl PullOperation {
    /// What `query` and `orderBy` may name on `/data/history`.
    pub const QUERY_PATHS: &'static [&'static str] = &[
        "id",
        "companyId",
        "connectionId",
        "dataType",
        "status",
        "requested",
        "progress",
        "isCompleted",
        "isErrored",
        "completed",
        "statusDescription",
        "errorMessage",
    ];
}

/// Codat's DataStatus for one data type.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataStatus {
    pub data_type: String,
    pub current_status: String,
    /// `0001-01-01T00:00:00` until a pull succeeds (Codat's SDK requires the field).
    pub last_successful_sync: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_sync_id: Option<Uuid>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_successful_sync_id: Option<Uuid>,
}

/// `?connectionId=` on the queue endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueQuery {
    pub connection_id: Option<String>,
}

fn pull_view(row: &PullOperationRow) -> PullOperation {
    let is_completed = row.status == "Complete";
    let is_errored = row.status.ends_with("Error") || row.status == "NotSupported";
    PullOperation {
        id: row.id,
        company_id: row.company_id,
        connection_id: row.connection_id,
        data_type: row.data_type.clone(),
        status: row.status.clone(),
        requested: iso_utc(row.requested_at),
        progress: row.progress,
        is_completed,
        is_errored,
        completed: row.completed_at.map(iso_utc),
        status_description: row.status_description.clone(),
        error_message: row.error_message.clone(),
    }
}

/// Routes for data, queueing and status.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invoices))
        .routes(routes!(get_invoice))
        .routes(routes!(queue_data_type))
        .routes(routes!(queue_all))
        .routes(routes!(data_status))
        .routes(routes!(list_pull_operations))
        .routes(routes!(get_pull_operation))
}

const DATA_TAG: &str = "Accounting data";
const PULL_TAG: &str = "Pulls";

fn not_synced(data_type: DataType) -> ApiError {
    ApiError::conflict(format!(
        "The data set has not been requested or is still syncing: queue it with \
         POST /companies/{{companyId}}/data/queue/{} and watch /dataStatus",
        data_type.key()
    ))
}

/// The name Codat's query errors give one record of the data type, and the paths it can query.
fn queryable(data_type: DataType) -> (&'static str, &'static [&'static str]) {
    match data_type {
        DataType::Invoices => ("Invoice", Invoice::QUERY_PATHS),
    }
}

/// The positions in `dataset.records` a selection returns, or `None` for all of them in order.
/// Parsing, filtering and sorting a big dataset takes a while: it runs off the async workers.
/// The dataset remembers recent selections, so paging through one costs one filter and sort.
async fn select(
    cache: &DataCache,
    dataset: &Arc<CachedDataset>,
    selection: Selection,
) -> ApiResult<Option<Arc<Vec<usize>>>> {
    if selection.is_everything() {
        return Ok(None);
    }
    let had_view = dataset.has_query_view();
    let positions = tokio::task::spawn_blocking({
        let dataset = Arc::clone(dataset);
        move || dataset.selection(selection.key(), || selection.apply(dataset.query_view()))
    })
    .await
    .map_err(ApiError::internal)?;
    if !had_view {
        // The parsed view now takes memory too: let the cache's bound count it.
        cache.reweigh(dataset).await;
    }
    Ok(Some(positions))
}

/// Answers one page of a data type's records, in Codat's envelope, straight from cached JSON.
async fn list_records(
    state: &AppState,
    tenant: &Tenant,
    company_id: &str,
    data_type: DataType,
    params: PageQuery,
) -> ApiResult<Response> {
    let paging = params.paging()?;
    let (dataset_name, paths) = queryable(data_type);
    let selection = Selection::parse(dataset_name, paths, &params)?;
    let company = load_company(state, tenant, company_id).await?;
    let Lookup::Ready(dataset) = state
        .cache
        .dataset(&state.store, company.id, data_type.key())
        .await?
    else {
        return Err(not_synced(data_type));
    };
    let selected = select(&state.cache, &dataset, selection).await?;
    let total = selected
        .as_ref()
        .map_or(dataset.records.len(), |positions| positions.len());
    let start = (paging.offset() as usize).min(total);
    let end = (start + paging.page_size as usize).min(total);
    let page: Vec<&str> = match &selected {
        None => dataset.records[start..end]
            .iter()
            .map(|(_, json)| &**json)
            .collect(),
        Some(positions) => positions[start..end]
            .iter()
            .map(|&position| &*dataset.records[position].1)
            .collect(),
    };
    let path = format!("/companies/{}/data/{}", company.id, data_type.key());
    let links = Links::new(total as i64, paging, &path, &params.filter_params());
    let links = serde_json::to_string(&links).expect("links serialise");
    let mut body =
        String::with_capacity(page.iter().map(|json| json.len() + 1).sum::<usize>() + 256);
    body.push_str("{\"results\":[");
    for (i, json) in page.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(json);
    }
    body.push_str(&format!(
        "],\"pageNumber\":{},\"pageSize\":{},\"totalResults\":{total},\"_links\":{links}}}",
        paging.page, paging.page_size
    ));
    Ok(([(CONTENT_TYPE, "application/json")], body).into_response())
}

async fn get_record(
    state: &AppState,
    tenant: &Tenant,
    company_id: &str,
    data_type: DataType,
    record_id: &str,
) -> ApiResult<Response> {
    let company = load_company(state, tenant, company_id).await?;
    let Lookup::Ready(dataset) = state
        .cache
        .dataset(&state.store, company.id, data_type.key())
        .await?
    else {
        return Err(not_synced(data_type));
    };
    let json = dataset.get(record_id).ok_or_else(|| {
        ApiError::not_found(format!(
            "No data available for {} for ID {record_id}",
            data_type.key()
        ))
    })?;
    Ok(([(CONTENT_TYPE, "application/json")], json.to_string()).into_response())
}

/// List invoices
///
/// The company's invoices in Codat's shape, pulled from Exact and served from Ledgerline's store.
/// Filter with `query` (`amountDue > 0 && dueDate < 2025-01-01`) and sort with `orderBy`
/// (`-issueDate`); without `orderBy` invoices come in id order. 409 until the first pull has
/// completed.
#[utoipa::path(get, path = "/companies/{companyId}/data/invoices", tag = DATA_TAG,
    params(("companyId" = String, Path, description = "The company's id"), PageQuery),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "A page of invoices", body = Page<Invoice>),
        (status = 400, description = "Invalid paging, query or orderBy", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company", body = ErrorMessage),
        (status = 409, description = "Invoices have not been pulled yet", body = ErrorMessage),
    ))]
async fn list_invoices(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(company_id): Path<String>,
    ApiQuery(params): ApiQuery<PageQuery>,
) -> ApiResult<Response> {
    list_records(&state, &tenant, &company_id, DataType::Invoices, params).await
}

/// Get invoice
#[utoipa::path(get, path = "/companies/{companyId}/data/invoices/{invoiceId}", tag = DATA_TAG,
    params(
        ("companyId" = String, Path, description = "The company's id"),
        ("invoiceId" = String, Path, description = "The invoice's id (Exact's InvoiceID)"),
    ),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The invoice", body = Invoice),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company or invoice", body = ErrorMessage),
        (status = 409, description = "Invoices have not been pulled yet", body = ErrorMessage),
    ))]
async fn get_invoice(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((company_id, invoice_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    get_record(
        &state,
        &tenant,
        &company_id,
        DataType::Invoices,
        &invoice_id,
    )
    .await
}

fn data_type_or_404(key: &str) -> ApiResult<DataType> {
    DataType::from_key(key).ok_or_else(|| {
        ApiError::not_found(format!(
            "Datatype {key} not supported by Ledgerline yet; supported: {}",
            DataType::all()
                .map(|d| d.key())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// Refusals in the codes Codat documents for its queue operations: nothing linked is a 404 (the
/// data connection is not there), a disabled integration a 403.
fn queue_error(error: QueueError) -> ApiError {
    match error {
        QueueError::NoLinkedConnection(message) => ApiError::not_found(message),
        QueueError::Disabled(message) => ApiError::new(StatusCode::FORBIDDEN, message),
        QueueError::AlreadyRunning(running) => ApiError::internal(format!(
            "a running pull {} reached the error path",
            running.id
        )),
        QueueError::Store(e) => e.into(),
    }
}

/// Queue a pull
///
/// Pulls one data type now from the company's linked connection (or `connectionId`). Answers
/// 200 with the queued PullOperation, or with the running one when a pull of the data type is
/// already under way (queueing is idempotent). 404 when the company has no linked connection
/// (or not `connectionId`), 403 when the integration is disabled in the tenant's settings.
#[utoipa::path(post, path = "/companies/{companyId}/data/queue/{dataType}", tag = PULL_TAG,
    params(
        ("companyId" = String, Path, description = "The company's id"),
        ("dataType" = String, Path, description = "`invoices`"),
        ("connectionId" = Option<String>, Query, description = "Pull from this connection"),
    ),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The queued pull, or the one already running", body = PullOperation),
        (status = 400, description = "A malformed parameter (for instance a control character in `connectionId`)", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 403, description = "The integration is disabled in the tenant's settings", body = ErrorMessage),
        (status = 404, description = "No such company, no linked connection, or an unsupported data type", body = ErrorMessage),
    ))]
async fn queue_data_type(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((company_id, data_type)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> ApiResult<Json<PullOperation>> {
    let company = load_company(&state, &tenant, &company_id).await?;
    let data_type = data_type_or_404(&data_type)?;
    let connection_id = match query.connection_id.as_deref() {
        Some(raw) => Some(
            Uuid::parse_str(raw)
                .map_err(|_| ApiError::not_found(format!("Data connection {raw} not found")))?,
        ),
        None => None,
    };
    match state
        .sync
        .queue(tenant.0.id, company.id, data_type, connection_id)
        .await
    {
        Ok(pull) => Ok(Json(pull_view(&pull))),
        Err(QueueError::AlreadyRunning(running)) => Ok(Json(pull_view(&running))),
        Err(other) => Err(queue_error(other)),
    }
}

/// Queue every data type
///
/// Answers 204 once every supported data type is queued (or already running); 404 when the
/// company has no linked connection, 403 when its integration is disabled.
#[utoipa::path(post, path = "/companies/{companyId}/data/all", tag = PULL_TAG,
    params(("companyId" = String, Path, description = "The company's id")),
    security(("auth_header" = [])),
    responses(
        (status = 204, description = "Queued"),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 403, description = "The integration is disabled in the tenant's settings", body = ErrorMessage),
        (status = 404, description = "No such company, or no linked connection", body = ErrorMessage),
    ))]
async fn queue_all(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(company_id): Path<String>,
) -> ApiResult<StatusCode> {
    let company = load_company(&state, &tenant, &company_id).await?;
    let all: Vec<DataType> = DataType::all().collect();
    state
        .sync
        .queue_many(tenant.0.id, company.id, &all, None)
        .await
        .map_err(queue_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Data status
///
/// Per data type ever queued: the latest pull's status and the last successful one.
#[utoipa::path(get, path = "/companies/{companyId}/dataStatus", tag = PULL_TAG,
    params(("companyId" = String, Path, description = "The company's id")),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "Status per data type", body = BTreeMap<String, DataStatus>),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company", body = ErrorMessage),
    ))]
async fn data_status(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(company_id): Path<String>,
) -> ApiResult<Json<BTreeMap<String, DataStatus>>> {
    let company = load_company(&state, &tenant, &company_id).await?;
    let (pulls, _) = state
        .store
        .list_pull_operations(company.id, 0, 1000)
        .await?;
    let datasets = state.store.datasets(company.id).await?;
    let mut statuses = BTreeMap::new();
    for data_type in DataType::all() {
        let key = data_type.key();
        // Pulls are newest first.
        let Some(latest) = pulls.iter().find(|p| p.data_type == key) else {
            continue;
        };
        let last_success = datasets
            .iter()
            .filter(|d| d.data_type == key)
            .filter_map(|d| {
                d.last_successful_sync
                    .map(|at| (at, d.latest_successful_sync_id.clone()))
            })
            .max_by_key(|(at, _)| *at);
        statuses.insert(
            key.to_string(),
            DataStatus {
                data_type: key.to_string(),
                current_status: latest.status.clone(),
                last_successful_sync: last_success
                    .as_ref()
                    .map(|(at, _)| iso_utc(*at))
                    .unwrap_or_else(|| "0001-01-01T00:00:00".into()),
                latest_sync_id: Some(latest.id),
                latest_successful_sync_id: last_success
                    .and_then(|(_, id)| id)
                    .and_then(|id| Uuid::parse_str(&id).ok()),
            },
        );
    }
    Ok(Json(statuses))
}

/// List pull operations
#[utoipa::path(get, path = "/companies/{companyId}/data/history", tag = PULL_TAG,
    params(("companyId" = String, Path, description = "The company's id"), PageQuery),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "A page of pulls, newest first", body = Page<PullOperation>),
        (status = 400, description = "Invalid paging, query or orderBy", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company", body = ErrorMessage),
    ))]
async fn list_pull_operations(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(company_id): Path<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<PullOperation>>> {
    let paging = query.paging()?;
    let selection = Selection::parse("PullOperation", PullOperation::QUERY_PATHS, &query)?;
    let company = load_company(&state, &tenant, &company_id).await?;
    let path = format!("/companies/{}/data/history", company.id);
    if selection.is_everything() {
        let (rows, total) = state
            .store
            .list_pull_operations(company.id, paging.offset(), paging.limit())
            .await?;
        let results = rows.iter().map(pull_view).collect();
        return Ok(Json(Page::new(results, total, paging, &path)));
    }
    let (rows, _) = state
        .store
        .list_pull_operations(company.id, 0, i64::MAX)
        .await?;
    let (results, total) = selection.page(rows.iter().map(pull_view).collect(), paging);
    Ok(Json(Page::filtered(results, total, paging, &path, &query)))
}

/// Get pull operation
#[utoipa::path(get, path = "/companies/{companyId}/data/history/{datasetId}", tag = PULL_TAG,
    params(
        ("companyId" = String, Path, description = "The company's id"),
        ("datasetId" = String, Path, description = "The pull operation's id"),
    ),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The pull", body = PullOperation),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company or pull", body = ErrorMessage),
    ))]
async fn get_pull_operation(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((company_id, dataset_id)): Path<(String, String)>,
) -> ApiResult<Json<PullOperation>> {
    let company = load_company(&state, &tenant, &company_id).await?;
    let not_found = || ApiError::not_found(format!("No pull operation {dataset_id}"));
    let id = Uuid::parse_str(&dataset_id).map_err(|_| not_found())?;
    let row = state
        .store
        .get_pull_operation(company.id, id)
        .await
        .map_err(|_| not_found())?;
    Ok(Json(pull_view(&row)))
}
