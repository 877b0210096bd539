//! Reading pulled data in Codat's shapes (`/companies/{companyId}/data/invoices`), queueing pulls,
//! and their status (`dataStatus`, `data/history`). Reads come from the store, a page or a
//! record at a time, through the sync engine's bounded cache: they never call the upstream, and
//! never load a data type whole.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::auth::Tenant;
use super::companies::{company_id_for_read, load_company};
use super::error::{ApiError, ApiResult, ErrorMessage};
use super::etag::{entity_tag, none_match_hits, not_modified, tagged};
use super::extract::ApiQuery;
use super::paging::{Links, Page, PageQuery, Paging};
use super::selection::Selection;
use super::time::iso_utc;
use crate::app::AppState;
use crate::model::DATASETS;
use crate::provider::DataType;
use crate::store::StoreError;
use crate::store::{DatasetState, PullOperationRow};
use crate::sync::cache::DatasetKey;
use crate::sync::{QueueError, QueueOptions};

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
    /// Ledgerline extension: records stored so far (inserted, updated or unchanged).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<i64>,
    /// Ledgerline extension: calls made to the upstream (Exact) so far.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_calls: Option<i64>,
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

/// `?connectionId=` and `?fullPull=` on the queue endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueQuery {
    pub connection_id: Option<String>,
    pub full_pull: Option<String>,
}

/// `?fullPull=` on `data/all`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueAllQuery {
    pub full_pull: Option<String>,
}

/// What `fullPull` says, validated: absent is `false` (pull since the stored cursors, Codat's
/// behaviour, which has no such parameter).
fn full_pull(raw: Option<&str>) -> ApiResult<bool> {
    match raw {
        None => Ok(false),
        Some(text) if text.eq_ignore_ascii_case("true") => Ok(true),
        Some(text) if text.eq_ignore_ascii_case("false") => Ok(false),
        Some(text) => Err(ApiError::invalid_field(
            "fullPull",
            format!("must be true or false, got '{}'", text.escape_default()),
        )),
    }
}

/// The OpenAPI description of `fullPull`.
const FULL_PULL_DOC: &str = "Ledgerline extension (Codat has no such parameter): `true` reads every \
    record from the upstream instead of only what changed since the last pull, and flags records \
    the upstream no longer has as deleted (`metadata.isDeleted`) — for instance deletions older \
    than Exact's two-month deleted log. It costs a first pull's calls. Default `false`. A pull \
    of the data type already running is returned as it is.";

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
        records: row.records,
        upstream_calls: row.upstream_calls,
    }
}

/// Routes for data, queueing and status.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // Every data type's reads, documented by `document_datasets`.
        .route("/companies/{companyId}/data/{dataset}", get(list_dataset))
        .route(
            "/companies/{companyId}/data/{dataset}/{recordId}",
            get(get_dataset_record),
        )
        .routes(routes!(queue_data_type))
        .routes(routes!(queue_all))
        .routes(routes!(data_status))
        .routes(routes!(list_pull_operations))
        .routes(routes!(get_pull_operation))
}

const DATA_TAG: &str = "Accounting data";
const PULL_TAG: &str = "Pulls";

/// Response header on every data read: when the data type's latest successful pull finished
/// (UTC, as `dataStatus`'s `lastSuccessfulSync`); absent until one has.
pub const LAST_SYNC_HEADER: &str = "ledgerline-last-sync";
/// Response header on every data read: `true` while a pull of the data type is queued or running.
pub const PULL_RUNNING_HEADER: &str = "ledgerline-pull-running";

/// How fresh a company's data type is: sent with every data read as headers, and what decides
/// the answer to a read of a data type not pulled yet. From the store's memory: no round trip
/// when warm.
struct Freshness {
    company_id: Uuid,
    data_type: DataType,
    /// Its versions, last successful pull and whether a pull runs.
    state: DatasetState,
}

impl Freshness {
    async fn of(state: &AppState, company_id: Uuid, data_type: DataType) -> ApiResult<Self> {
        let states = state.store.dataset_states(company_id).await?;
        Ok(Freshness {
            company_id,
            data_type,
            state: states.get(data_type.key()).cloned().unwrap_or_default(),
        })
    }

    /// The tag of a list answer: what decides its bytes is the records and the request.
    fn page_tag(&self, uri: &Uri) -> HeaderValue {
        let request = uri.path_and_query().map_or("", |pq| pq.as_str());
        entity_tag(&[&self.state.fingerprint, request.as_bytes()])
    }

    /// Adds the freshness headers to an answer (the records, or the 409 before the first pull).
    fn stamp(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        if let Some(at) = self.state.last_sync
            && let Ok(value) = HeaderValue::from_str(&iso_utc(at))
        {
            headers.insert(HeaderName::from_static(LAST_SYNC_HEADER), value);
        }
        headers.insert(
            HeaderName::from_static(PULL_RUNNING_HEADER),
            HeaderValue::from_static(if self.state.pull_running {
                "true"
            } else {
                "false"
            }),
        );
        response
    }

    /// What identifies the data type's records as of now in the read cache, or the 409 that
    /// says why there are none to read yet.
    async fn dataset(&self, state: &AppState) -> ApiResult<DatasetKey> {
        if self.state.last_sync.is_none() {
            return Err(self.not_synced(state).await);
        }
        Ok(DatasetKey {
            company_id: self.company_id,
            data_type: self.data_type.key(),
            fingerprint: self.state.fingerprint,
        })
    }

    /// The 409 for a data type with nothing to read yet, saying why: its first pull is running
    /// (retry), its last pull failed (and why), or it was never queued.
    async fn not_synced(&self, state: &AppState) -> ApiError {
        let (company, key) = (self.company_id, self.data_type.key());
        // Not a warm read: ask the store for the running pull's progress.
        let running = state.store.running_pull(company, key).await.ok().flatten();
        if let Some(pull) = &running {
            return ApiError::conflict(format!(
                "The first pull of {key} is running ({}% done, queued {}): the data can be read \
                 once it completes. Retry shortly, or follow it at \
                 GET /companies/{company}/data/history/{}",
                pull.progress,
                iso_utc(pull.requested_at),
                pull.id
            ))
            .retryable();
        }
        let latest = state
            .store
            .list_pull_operations(company, 0, 1000)
            .await
            .map(|(pulls, _)| pulls.into_iter().find(|p| p.data_type == key))
            .unwrap_or_default();
        match latest {
            Some(pull) if pull.status != "Complete" => ApiError::conflict(format!(
                "The pull of {key} failed ({}): {} Queue it again with \
                 POST /companies/{company}/data/queue/{key} once that is resolved",
                pull.status,
                pull.error_message
                    .as_deref()
                    .unwrap_or("no reason was recorded.")
            )),
            _ => ApiError::conflict(format!(
                "{key} has not been pulled yet: queue it with \
                 POST /companies/{company}/data/queue/{key} and watch /dataStatus"
            )),
        }
    }
}

/// Pages deeper than this start from a known id (the cached ids) rather than an offset,
/// which the store walks row by row.
const DEEP_OFFSET: i64 = 1_000;

/// The positions (in id order) a selection keeps, in its order: computed over columns of the
/// fields it reads (read from the store once per dataset version and field, then cached), and
/// kept per selection, so paging through one costs one filter and sort.
async fn select(
    state: &AppState,
    dataset: &DatasetKey,
    selection: Selection,
) -> Result<(Arc<Vec<Box<str>>>, Arc<Vec<u32>>), StoreError> {
    let store = &state.store;
    let read = |paths: Vec<Vec<String>>| async move {
        store
            .record_fields(dataset.company_id, dataset.data_type, &paths)
            .await
    };
    let key = selection.key().to_string();
    let positions = state
        .cache
        .selection(dataset, &key, async {
            let paths = selection.paths();
            let (ids, columns) = state.cache.fields(dataset, &paths, read).await?;
            // Filtering and sorting 100,000 records takes milliseconds: off the workers.
            tokio::task::spawn_blocking(move || {
                let field = |position: usize, path: &[String]| {
                    let column = paths.iter().position(|p| p == path)?;
                    columns[column].get(position)?.as_ref()
                };
                selection
                    .apply_fields(ids.len(), field)
                    .into_iter()
                    .map(|position| position as u32)
                    .collect()
            })
            .await
            .map_err(|e| StoreError::Database(sqlx::Error::Protocol(e.to_string())))
        })
        .await?;
    let ids = match state.cache.cached_ids(dataset).await {
        Some(ids) => ids,
        None => state.cache.fields(dataset, &[], read).await?.0,
    };
    Ok((ids, positions))
}

/// The JSON of one page of records: read from the store by position (an indexed read of just
/// that page), or for a selection, by the ids at its positions. Also the total.
async fn page_records(
    state: &AppState,
    dataset: &DatasetKey,
    selection: Selection,
    paging: Paging,
) -> Result<(Vec<String>, u64), StoreError> {
    let (company, data_type) = (dataset.company_id, dataset.data_type);
    if selection.is_everything() {
        let total = state
            .cache
            .count(dataset, async {
                Ok(state.store.record_count(company, data_type).await? as u64)
            })
            .await?;
        let (offset, limit) = (paging.offset(), paging.limit());
        if offset >= total as i64 {
            return Ok((Vec::new(), total));
        }
        let ids = if offset >= DEEP_OFFSET {
            state.cache.cached_ids(dataset).await
        } else {
            None
        };
        let records = match ids.as_ref().and_then(|ids| ids.get(offset as usize)) {
            Some(from) => {
                state
                    .store
                    .record_page_from(company, data_type, from, limit)
                    .await?
            }
            None => {
                state
                    .store
                    .record_page(company, data_type, offset, limit)
                    .await?
            }
        };
        return Ok((records, total));
    }
    let (ids, positions) = select(state, dataset, selection).await?;
    let total = positions.len() as u64;
    let start = (paging.offset() as usize).min(positions.len());
    let end = (start + paging.page_size as usize).min(positions.len());
    let wanted: Vec<&str> = positions[start..end]
        .iter()
        .filter_map(|&position| ids.get(position as usize).map(|id| &**id))
        .collect();
    let mut found = state
        .store
        .records_by_id(company, data_type, &wanted)
        .await?;
    // A record gone since the ids were read (a later version) is left out, as it would be there.
    let records = wanted.iter().filter_map(|id| found.remove(*id)).collect();
    Ok((records, total))
}

/// Codat's envelope around records' JSON, as the bytes sent.
fn page_body(records: &[String], total: u64, paging: Paging, links: &Links) -> Bytes {
    let links = serde_json::to_string(links).expect("links serialise");
    let mut body =
        String::with_capacity(records.iter().map(|json| json.len() + 1).sum::<usize>() + 256);
    body.push_str("{\"results\":[");
    for (i, json) in records.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(json);
    }
    body.push_str(&format!(
        "],\"pageNumber\":{},\"pageSize\":{},\"totalResults\":{total},\"_links\":{links}}}",
        paging.page, paging.page_size
    ));
    Bytes::from(body)
}

/// Answers one page of a data type's records, in Codat's envelope: the page's bytes are built
/// once per dataset version, selection and page, then served from the cache without a copy.
async fn list_records(
    state: &AppState,
    freshness: &Freshness,
    params: PageQuery,
    request: (&Uri, &HeaderMap),
) -> ApiResult<Response> {
    let paging = params.paging()?;
    let spec = freshness.data_type.spec();
    let (uri, headers) = request;
    let tag = freshness.page_tag(uri);
    let answer = |body: Bytes| {
        tagged(
            ([(CONTENT_TYPE, "application/json")], body).into_response(),
            tag.clone(),
        )
    };
    // What the links echo decides the bytes (with the page): the filter parameters as sent.
    let filter = params.filter_params();
    let synced = freshness.state.last_sync.is_some();
    if synced {
        // Built before, so its query and orderBy were valid: served as it is.
        let dataset = freshness.dataset(state).await?;
        if let Some(body) = state
            .cache
            .cached_page(&dataset, &filter, paging.page, paging.page_size)
            .await
        {
            if none_match_hits(headers, &tag) {
                return Ok(not_modified(tag));
            }
            return Ok(answer(body));
        }
    }
    let selection = Selection::parse(spec.record_name, spec.query_paths, &params)?;
    // Unchanged since the client's copy: no need to select or build anything.
    if synced && none_match_hits(headers, &tag) {
        return Ok(not_modified(tag));
    }
    let dataset = freshness.dataset(state).await?;
    let body = state
        .cache
        .page(&dataset, &filter, paging.page, paging.page_size, async {
            let (records, total) = page_records(state, &dataset, selection, paging).await?;
            let path = format!("/companies/{}/data/{}", dataset.company_id, spec.path);
            let links = Links::new(total as i64, paging, &path, &filter);
            Ok(page_body(&records, total, paging, &links))
        })
        .await?;
    Ok(answer(body))
}

/// One record's JSON, tagged by its content, or 304 when the client holds that already.
fn record_answer(body: Bytes, tag: HeaderValue, headers: &HeaderMap) -> Response {
    if none_match_hits(headers, &tag) {
        return not_modified(tag);
    }
    tagged(
        ([(CONTENT_TYPE, "application/json")], body).into_response(),
        tag,
    )
}

/// A record's body and its tag (from its content).
fn tagged_record(json: String) -> (Bytes, HeaderValue) {
    let tag = entity_tag(&[json.as_bytes()]);
    (Bytes::from(json), tag)
}

async fn get_record(
    state: &AppState,
    freshness: &Freshness,
    record_id: &str,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let dataset = freshness.dataset(state).await?;
    let loaded = state
        .cache
        .record(&dataset, record_id, async {
            let json = state
                .store
                .record(dataset.company_id, dataset.data_type, record_id)
                .await?
                .ok_or(StoreError::NotFound)?;
            Ok(tagged_record(json))
        })
        .await;
    let (body, tag) = match loaded {
        Ok(record) => record,
        // Codat's words name the read path (`accounts`), not the dataStatus key.
        Err(StoreError::NotFound) => {
            return Err(ApiError::not_found(format!(
                "No data available for {} for ID {record_id}",
                freshness.data_type.spec().path
            )));
        }
        Err(other) => return Err(other.into()),
    };
    Ok(record_answer(body, tag, headers))
}

/// `GET /companies/{companyId}/data/{path}`: a page of a data type's records, or the one record
/// of a single-record data type (company info). Documented per data type by [`document_datasets`].
async fn list_dataset(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((company_id, path)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<PageQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let data_type = data_type_at(&path)?;
    let company_id = company_id_for_read(&state, &tenant, &company_id).await?;
    let freshness = Freshness::of(&state, company_id, data_type).await?;
    let answer = if data_type.spec().id_param.is_none() {
        single_record(&state, &freshness, &headers).await
    } else {
        list_records(&state, &freshness, params, (&uri, &headers)).await
    };
    Ok(freshness.stamp(answer.into_response()))
}

/// `GET /companies/{companyId}/data/{path}/{id}`: one record by id.
async fn get_dataset_record(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((company_id, path, record_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let data_type = data_type_at(&path)?;
    if data_type.spec().id_param.is_none() {
        return Err(ApiError::not_found(format!(
            "/data/{path} is a single record: read it without an id"
        )));
    }
    let company_id = company_id_for_read(&state, &tenant, &company_id).await?;
    let freshness = Freshness::of(&state, company_id, data_type).await?;
    let answer = get_record(&state, &freshness, &record_id, &headers).await;
    Ok(freshness.stamp(answer.into_response()))
}

/// The data type read at `/data/{path}`, or Codat's 404 for one Ledgerline does not serve.
fn data_type_at(path: &str) -> ApiResult<DataType> {
    DataType::from_path(path).ok_or_else(|| {
        ApiError::not_found(format!(
            "No data type is read at /data/{path}; Ledgerline serves: {}",
            DATASETS
                .iter()
                .map(|spec| spec.path)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// Answers the one record of a single-record data type (company info), stored under its own
/// key like any other record.
async fn single_record(
    state: &AppState,
    freshness: &Freshness,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let dataset = freshness.dataset(state).await?;
    let loaded = state
        .cache
        .record(&dataset, "", async {
            let mut first = state
                .store
                .record_page(dataset.company_id, dataset.data_type, 0, 1)
                .await?;
            Ok(tagged_record(first.pop().ok_or(StoreError::NotFound)?))
        })
        .await;
    let (body, tag) = match loaded {
        Ok(record) => record,
        Err(StoreError::NotFound) => return Err(freshness.not_synced(state).await),
        Err(other) => return Err(other.into()),
    };
    Ok(record_answer(body, tag, headers))
}

/// Adds every data type's read operations to the OpenAPI document, from [`DATASETS`]: a list
/// (or, for a single-record data type, a get) and a get by id, each with the data type's own
/// schema, the way a handler's `#[utoipa::path]` would, without a handler per data type.
pub fn document_datasets(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::IntoParams;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};

    let json = |description: &str, schema: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(schema)))
                    .build(),
            )
            .build()
    };
    // Every data read says how fresh its data is (Ledgerline extension).
    let fresh =
        |description: &str, schema: &str| {
            use utoipa::openapi::header::HeaderBuilder;
            let mut response = json(description, schema);
            response.headers.insert(
            "Ledgerline-Last-Sync".into(),
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).format(Some(
                    SchemaFormat::KnownFormat(KnownFormat::DateTime),
                ))))
                .description(Some(
                    "Ledgerline extension: when the data type's latest successful pull finished \
                     (UTC, as dataStatus's lastSuccessfulSync); absent until one has",
                ))
                .build()
                .into(),
        );
            response.headers.insert(
            "Ledgerline-Pull-Running".into(),
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(["true", "false"])),
                ))
                .description(Some(
                    "Ledgerline extension: whether a pull of the data type is queued or running",
                ))
                .build()
                .into(),
        );
            response
        };
    // Every data answer is tagged, and a current tag in `If-None-Match` answers 304.
    let tagged = |mut response: utoipa::openapi::Response| {
        use utoipa::openapi::header::HeaderBuilder;
        response.headers.insert(
            "ETag".into(),
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some(
                    "Ledgerline extension: changes whenever the answer's content does; send it back in \
                     `If-None-Match` to get a 304 while it holds",
                ))
                .build()
                .into(),
        );
        response
    };
    let not_modified = tagged(
        ResponseBuilder::new()
            .description(
                "Ledgerline extension: not modified since the `If-None-Match` tag; no body",
            )
            .build(),
    );
    let if_none_match = ParameterBuilder::new()
        .name("If-None-Match")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Ledgerline extension: the `ETag` of an earlier answer; 304 if it is still current",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build();
    let path_param = |name: &str, description: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build()
    };
    let integer = |format: KnownFormat| {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    let components = openapi.components.get_or_insert_with(Default::default);
    for spec in DATASETS {
        let mut schemas = vec![];
        (spec.schemas)(&mut schemas);
        for (name, schema) in schemas {
            components.schemas.insert(name, schema);
        }
    }
    for spec in DATASETS {
        let (one, many) = spec.noun;
        let list_path = format!("/companies/{{companyId}}/data/{}", spec.path);
        let company = path_param("companyId", "The company's id");
        let not_pulled = format!(
            "The {many} have not been pulled yet: the first pull is running (`canBeRetried` \
             is `True`), failed (the message says why), or was never queued"
        );
        let not_pulled = not_pulled.as_str();
        let operation = OperationBuilder::new()
            .tag(DATA_TAG)
            .security(SecurityRequirement::new(
                "auth_header",
                Vec::<String>::new(),
            ))
            .response("401", json("Missing or unknown API key", "ErrorMessage"))
            .build();
        let operation = || OperationBuilder::from(operation.clone());
        let Some(id_param) = spec.id_param else {
            // A single record: no paging, no id.
            let get = operation()
                .summary(Some(format!("Get {one}")))
                .description(Some(spec.about))
                .operation_id(Some(format!("get_{}", spec.key)))
                .parameter(company)
                .parameter(if_none_match.clone())
                .response(
                    "200",
                    tagged(fresh(&format!("The {one}"), spec.record_name)),
                )
                .response("304", not_modified.clone())
                .response("404", json("No such company", "ErrorMessage"))
                .response("409", fresh(not_pulled, "ErrorMessage"));
            openapi
                .paths
                .add_path_operation(&list_path, vec![HttpMethod::Get], get);
            continue;
        };
        let page_schema = format!("Page_{}", spec.record_name);
        let envelope = ObjectBuilder::new()
            .description(Some("Codat's paged envelope."))
            .property(
                "results",
                ArrayBuilder::new().items(Ref::from_schema_name(spec.record_name)),
            )
            .required("results")
            .property("pageNumber", integer(KnownFormat::Int32).minimum(Some(0)))
            .required("pageNumber")
            .property("pageSize", integer(KnownFormat::Int32).minimum(Some(0)))
            .required("pageSize")
            .property("totalResults", integer(KnownFormat::Int64))
            .required("totalResults")
            .property("_links", Ref::from_schema_name("Links"))
            .required("_links");
        openapi
            .components
            .get_or_insert_with(Default::default)
            .schemas
            .insert(page_schema.clone(), envelope.into());
        let mut list = operation()
            .summary(Some(format!("List {many}")))
            .description(Some(format!(
                "{} Filter with `query` and sort with `orderBy`; without `orderBy` {many} come \
                 in id order. 409 until the first pull has completed.",
                spec.about
            )))
            .operation_id(Some(format!("list_{}", spec.key)))
            .parameter(company.clone());
        for parameter in PageQuery::into_params(|| Some(ParameterIn::Query)) {
            list = list.parameter(parameter);
        }
        let list = list
            .parameter(if_none_match.clone())
            .response(
                "200",
                tagged(fresh(&format!("A page of {many}"), &page_schema)),
            )
            .response("304", not_modified.clone())
            .response(
                "400",
                json("Invalid paging, query or orderBy", "ErrorMessage"),
            )
            .response("404", json("No such company", "ErrorMessage"))
            .response("409", fresh(not_pulled, "ErrorMessage"));
        openapi
            .paths
            .add_path_operation(&list_path, vec![HttpMethod::Get], list);
        let get = operation()
            .summary(Some(format!("Get {one}")))
            .operation_id(Some(format!("get_{}", one.replace(' ', "_"))))
            .parameter(company)
            .parameter(path_param(id_param, &format!("The {one}'s id")))
            .parameter(if_none_match.clone())
            .response(
                "200",
                tagged(fresh(&format!("The {one}"), spec.record_name)),
            )
            .response("304", not_modified.clone())
            .response(
                "404",
                json(&format!("No such company or {one}"), "ErrorMessage"),
            )
            .response("409", fresh(not_pulled, "ErrorMessage"));
        openapi.paths.add_path_operation(
            format!("{list_path}/{{{id_param}}}"),
            vec![HttpMethod::Get],
            get,
        );
    }
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
/// The pull reads what changed since the last one; `fullPull=true` reads everything.
#[utoipa::path(post, path = "/companies/{companyId}/data/queue/{dataType}", tag = PULL_TAG,
    params(
        ("companyId" = String, Path, description = "The company's id"),
        ("dataType" = String, Path, description = "`invoices`"),
        ("connectionId" = Option<String>, Query, description = "Pull from this connection"),
        ("fullPull" = Option<bool>, Query, description = FULL_PULL_DOC),
    ),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The queued pull, or the one already running", body = PullOperation),
        (status = 400, description = "A malformed parameter (for instance a control character in `connectionId`, or `fullPull` neither true nor false)", body = ErrorMessage),
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
    let options = QueueOptions {
        full: full_pull(query.full_pull.as_deref())?,
        ..QueueOptions::default()
    };
    let connection_id = match query.connection_id.as_deref() {
        Some(raw) => Some(
            Uuid::parse_str(raw)
                .map_err(|_| ApiError::not_found(format!("Data connection {raw} not found")))?,
        ),
        None => None,
    };
    match state
        .sync
        .queue_with(tenant.0.id, company.id, data_type, connection_id, options)
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
/// company has no linked connection, 403 when its integration is disabled. The pulls read what
/// changed since the last ones; `fullPull=true` reads everything.
#[utoipa::path(post, path = "/companies/{companyId}/data/all", tag = PULL_TAG,
    params(
        ("companyId" = String, Path, description = "The company's id"),
        ("fullPull" = Option<bool>, Query, description = FULL_PULL_DOC),
    ),
    security(("auth_header" = [])),
    responses(
        (status = 204, description = "Queued"),
        (status = 400, description = "`fullPull` neither true nor false", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 403, description = "The integration is disabled in the tenant's settings", body = ErrorMessage),
        (status = 404, description = "No such company, or no linked connection", body = ErrorMessage),
    ))]
pub(crate) async fn queue_all(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(company_id): Path<String>,
    ApiQuery(query): ApiQuery<QueueAllQuery>,
) -> ApiResult<StatusCode> {
    let company = load_company(&state, &tenant, &company_id).await?;
    let options = QueueOptions {
        full: full_pull(query.full_pull.as_deref())?,
        ..QueueOptions::default()
    };
    let all: Vec<DataType> = DataType::all().collect();
    state
        .sync
        .queue_many_with(tenant.0.id, company.id, &all, None, options)
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
