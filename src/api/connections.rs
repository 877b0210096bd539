//! Connections in Codat's shapes and status codes: create (`PendingAuth` with a `linkUrl`),
//! list, get, delete, unlink, and choose which upstream company (Exact division) to read.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::auth::Tenant;
use super::companies::{load_company, refused_body};
use super::error::{ApiError, ApiResult, ErrorMessage};
use super::extract::{ApiJson, ApiQuery};
use super::integrations::{integration_id, source_id};
use super::paging::{Page, PageQuery};
use super::selection::Selection;
use super::time::iso_utc;
use crate::app::AppState;
use crate::store::{ConnectionRow, ConnectionStatus, StoreError};

/// A company's connection to an accounting platform.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub id: Uuid,
    pub integration_id: Uuid,
    /// Codat's platform key: `qudb` (Exact NL) or `pbbf` (Exact UK).
    pub integration_key: String,
    pub source_id: Uuid,
    /// Always `Accounting` here.
    pub source_type: String,
    pub platform_name: String,
    /// Send the end customer here to connect (or, when `Deauthorized`, reconnect). Once the
    /// connection is `Linked` it no longer starts a consent: request a re-link URL with
    /// `POST …/relink` to change the administration.
    pub link_url: String,
    pub status: ConnectionStatus,
    pub created: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<String>,
    pub data_connection_errors: Vec<DataConnectionError>,
    /// Codat's free-form map; its keys are Ledgerline's: `integrationKey`, `region`, and once linked `upstreamCompanyId`/`upstreamCompanyName`
    /// (the Exact division) and `availableUpstreamCompanies` (`code: name` pairs, `; `-separated),
    /// and `upstreamCallsRemainingToday` of `upstreamCallsPerDay`: Exact's daily limit for the
    /// division as this server counts it, corrected by Exact's headers on every answer.
    pub connection_info: BTreeMap<String, String>,
}

impl Connection {
    /// What `query` and `orderBy` may name on a company's connections.
    pub const QUERY_PATHS: &'static [&'static str] = &[
        "id",
        "integrationId",
        "integrationKey",
        "sourceId",
        "sourceType",
        "platformName",
        "linkUrl",
        "status",
        "created",
        "lastSync",
        "connectionInfo.*",
    ];
}

/// A problem with a connection and what to do about it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataConnectionError {
    pub status_code: String,
    pub status_text: String,
    pub error_message: String,
    pub errored_on_utc: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_on_utc: Option<String>,
    /// `Active` or `Resolved`.
    pub status: String,
}

/// What a client sends to create a connection.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRequest {
    /// `exact-online-nl`, `exact-online-uk`, or Codat's `qudb` / `pbbf`.
    pub platform_key: String,
}

/// Codat's unlink body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ConnectionStatusUpdate {
    /// Only `Unlinked` is accepted.
    #[schema(value_type = String, pattern = "^Unlinked$")]
    pub status: String,
}

impl AppState {
    /// A stored connection in Codat's shape.
    pub async fn connection_view(&self, row: &ConnectionRow) -> Connection {
        let integration = self.catalog.integration(&row.integration_key);
        let mut info = BTreeMap::new();
        info.insert("integrationKey".to_string(), row.integration_key.clone());
        if let Some(i) = &integration {
            info.insert("region".to_string(), i.region.region.clone());
        }
        if let Some(company) = &row.upstream_company {
            info.insert("upstreamCompanyId".to_string(), company.id.clone());
            info.insert("upstreamCompanyName".to_string(), company.name.clone());
            let allowance = match self.registry.provider(&row.integration_key) {
                Some(provider) => {
                    provider
                        .call_allowance(&row.integration_key, &company.id)
                        .await
                }
                None => None,
            };
            if let Some(allowance) = allowance {
                info.insert(
                    "upstreamCallsRemainingToday".to_string(),
                    allowance.remaining_today.to_string(),
                );
                info.insert(
                    "upstreamCallsPerDay".to_string(),
                    allowance.per_day.to_string(),
                );
            }
        }
        if !row.available_companies.is_empty() {
            let list = row
                .available_companies
                .iter()
                .map(|c| format!("{}: {}", c.id, c.name))
                .collect::<Vec<_>>()
                .join("; ");
            info.insert("availableUpstreamCompanies".to_string(), list);
        }
        Connection {
            id: row.id,
            integration_id: integration_id(&row.integration_key),
            integration_key: self.platform_key(&row.integration_key),
            source_id: source_id(&row.integration_key),
            source_type: "Accounting".into(),
            platform_name: integration
                .map(|i| i.region.name.clone())
                .unwrap_or_else(|| row.integration_key.clone()),
            link_url: self.connection_link_url(row.id),
            status: row.status,
            created: iso_utc(row.created_at),
            last_sync: row.last_sync.map(iso_utc),
            data_connection_errors: row
                .errors
                .iter()
                .map(|e| DataConnectionError {
                    status_code: e.status_code.clone(),
                    status_text: e.status_text.clone(),
                    error_message: e.error_message.clone(),
                    errored_on_utc: iso_utc(e.errored_at),
                    resolved_on_utc: e.resolved_at.map(iso_utc),
                    status: if e.resolved_at.is_some() {
                        "Resolved"
                    } else {
                        "Active"
                    }
                    .into(),
                })
                .collect(),
            connection_info: info,
        }
    }
}

async fn load_connection(
    state: &AppState,
    tenant: &Tenant,
    company_id: &str,
    connection_id: &str,
) -> ApiResult<ConnectionRow> {
    let company = load_company(state, tenant, company_id).await?;
    let not_found = || ApiError::not_found(format!("Data connection {connection_id} not found"));
    let id = Uuid::parse_str(connection_id).map_err(|_| not_found())?;
    match state
        .store
        .get_connection(tenant.0.id, company.id, id)
        .await
    {
        Err(StoreError::NotFound) => Err(not_found()),
        other => Ok(other?),
    }
}

/// Routes for connections.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_connections, create_connection))
        .routes(routes!(
            get_connection,
            delete_connection,
            unlink_connection
        ))
        .routes(routes!(update_authorization))
        .routes(routes!(relink_connection))
}

/// A link URL that re-links a connection, for a limited time.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RelinkUrl {
    /// Send the end customer here to consent again (possibly to another administration).
    pub link_url: String,
    /// When `linkUrl` stops working (ISO 8601, UTC).
    pub expires_at: String,
}

/// Request a re-link URL
///
/// A `Linked` connection's `linkUrl` does not start a new consent, so that nobody holding it
/// can re-link the connection. To let the end customer consent again (for instance to another
/// administration), request this URL with your API key and send it to them; it works for one hour.
#[utoipa::path(post, path = "/companies/{companyId}/connections/{connectionId}/relink", tag = "Link flow",
    params(
        ("companyId" = String, Path, description = "The company's id"),
        ("connectionId" = String, Path, description = "The connection's id"),
    ),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The re-link URL", body = RelinkUrl),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company or connection", body = ErrorMessage),
        (status = 409, description = "The connection was unlinked", body = ErrorMessage),
    ))]
async fn relink_connection(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((company_id, connection_id)): Path<(String, String)>,
) -> ApiResult<Json<RelinkUrl>> {
    let row = load_connection(&state, &tenant, &company_id, &connection_id).await?;
    if row.status == ConnectionStatus::Unlinked {
        return Err(ApiError::conflict(
            "This data connection was unlinked and cannot be linked again; create a new one",
        ));
    }
    let (token, expires) = state.linker.relink_token(row.id);
    Ok(Json(RelinkUrl {
        link_url: format!("{}?relink={token}", state.connection_link_url(row.id)),
        expires_at: iso_utc(expires),
    }))
}

const TAG: &str = "Connections";

/// List connections
#[utoipa::path(get, path = "/companies/{companyId}/connections", tag = TAG,
    params(("companyId" = String, Path, description = "The company's id"), PageQuery),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "A page of connections", body = Page<Connection>),
        (status = 400, description = "Invalid paging, query or orderBy", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company", body = ErrorMessage),
    ))]
async fn list_connections(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(company_id): Path<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Connection>>> {
    let paging = query.paging()?;
    let selection = Selection::parse("Connection", Connection::QUERY_PATHS, &query)?;
    let company = load_company(&state, &tenant, &company_id).await?;
    // A company has a handful of connections: select the page in memory.
    let (rows, _) = state
        .store
        .list_connections(tenant.0.id, company.id, 0, i64::MAX)
        .await?;
    let mut connections = Vec::with_capacity(rows.len());
    for row in &rows {
        connections.push(state.connection_view(row).await);
    }
    let (results, total) = selection.page(connections, paging);
    let path = format!("/companies/{}/connections", company.id);
    Ok(Json(Page::filtered(results, total, paging, &path, &query)))
}

/// Create connection
///
/// Creates a `PendingAuth` connection; send the end customer to its `linkUrl`. Answers 200,
/// as Codat does. An unknown platform key is a 404; a disabled or unconfigured integration, or a
/// body that is not `{"platformKey": …}`, a 403 that says what to do (Codat documents no 400 or
/// 409 here).
#[utoipa::path(post, path = "/companies/{companyId}/connections", tag = TAG,
    request_body = ConnectionRequest,
    params(("companyId" = String, Path, description = "The company's id")),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The new connection", body = Connection),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 403, description = "The integration is disabled or has no credentials, or the body is not `{\"platformKey\": …}`", body = ErrorMessage),
        (status = 404, description = "No such company, or an unknown platform key", body = ErrorMessage),
    ))]
pub(crate) async fn create_connection(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(company_id): Path<String>,
    body: Result<ApiJson<ConnectionRequest>, ApiError>,
) -> ApiResult<Json<Connection>> {
    let company = load_company(&state, &tenant, &company_id).await?;
    let ApiJson(body) = refused_body(body)?;
    let integration = state
        .catalog
        .integration(body.platform_key.trim())
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "No integration with platform key '{}': use one of {} (or Codat's qudb, pbbf)",
                body.platform_key,
                state.catalog.keys().join(", ")
            ))
        })?;
    let key = integration.region.key.clone();
    let setting = match state.store.get_integration_setting(tenant.0.id, &key).await {
        Ok(setting) => Some(setting),
        Err(StoreError::NotFound) => None,
        Err(other) => return Err(other.into()),
    };
    match setting {
        None => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "{} is not configured: the tenant's admin must set the Exact app's clientId and \
                 clientSecret with PUT /settings/integrations/{key} and enable it",
                    integration.region.name
                ),
            ));
        }
        Some(s) if !s.enabled => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "{} is disabled: the tenant's admin must enable it with \
                 PUT /settings/integrations/{key}/enabled {{\"enabled\": true}}",
                    integration.region.name
                ),
            ));
        }
        Some(_) => {}
    }
    let row = state
        .store
        .create_connection(tenant.0.id, company.id, &key)
        .await?;
    tracing::info!(company.id = %company.id, connection.id = %row.id, integration = %key, "connection created");
    Ok(Json(state.connection_view(&row).await))
}

/// Get connection
#[utoipa::path(get, path = "/companies/{companyId}/connections/{connectionId}", tag = TAG,
    params(
        ("companyId" = String, Path, description = "The company's id"),
        ("connectionId" = String, Path, description = "The connection's id"),
    ),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The connection", body = Connection),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company or connection", body = ErrorMessage),
    ))]
async fn get_connection(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((company_id, connection_id)): Path<(String, String)>,
) -> ApiResult<Json<Connection>> {
    let row = load_connection(&state, &tenant, &company_id, &connection_id).await?;
    Ok(Json(state.connection_view(&row).await))
}

/// Delete connection
///
/// Deletes the connection and its tokens. Answers 200 with no body, as Codat does.
#[utoipa::path(delete, path = "/companies/{companyId}/connections/{connectionId}", tag = TAG,
    params(
        ("companyId" = String, Path, description = "The company's id"),
        ("connectionId" = String, Path, description = "The connection's id"),
    ),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "Deleted"),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company or connection", body = ErrorMessage),
    ))]
async fn delete_connection(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((company_id, connection_id)): Path<(String, String)>,
) -> ApiResult<()> {
    let row = load_connection(&state, &tenant, &company_id, &connection_id).await?;
    state.store.delete_connection(row.id).await?;
    tracing::info!(connection.id = %row.id, "connection deleted");
    Ok(())
}

/// Unlink connection
///
/// `{"status": "Unlinked"}`: severs a `Linked` connection; data already pulled stays readable.
#[utoipa::path(patch, path = "/companies/{companyId}/connections/{connectionId}", tag = TAG,
    request_body = ConnectionStatusUpdate,
    params(
        ("companyId" = String, Path, description = "The company's id"),
        ("connectionId" = String, Path, description = "The connection's id"),
    ),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The unlinked connection", body = Connection),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 403, description = "Only Linked connections can be unlinked, and only to `Unlinked`", body = ErrorMessage),
        (status = 404, description = "No such company or connection", body = ErrorMessage),
    ))]
async fn unlink_connection(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((company_id, connection_id)): Path<(String, String)>,
    body: Result<ApiJson<ConnectionStatusUpdate>, ApiError>,
) -> ApiResult<Json<Connection>> {
    let row = load_connection(&state, &tenant, &company_id, &connection_id).await?;
    let ApiJson(body) = refused_body(body)?;
    if body.status != "Unlinked" {
        return Err(ApiError::invalid_field(
            "status",
            format!("only 'Unlinked' can be set, got '{}'", body.status),
        )
        .with_status(StatusCode::FORBIDDEN));
    }
    if row.status != ConnectionStatus::Linked {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "Only Linked data connections can be unlinked; this one is {}",
                row.status.as_str()
            ),
        ));
    }
    state
        .store
        .set_connection_status(row.id, ConnectionStatus::Unlinked)
        .await?;
    let row = state.store.connection_by_id(row.id).await?;
    Ok(Json(state.connection_view(&row).await))
}

/// Choose the upstream company
///
/// When the end customer's consent reaches several Exact divisions, the connection reads the
/// one in `connectionInfo.upstreamCompanyId` (Exact's current division if granted, else the
/// lowest code). Send `{"upstreamCompanyId": "<division code>"}` to read another of
/// `connectionInfo.availableUpstreamCompanies` (Codat's free-form authorization body).
#[utoipa::path(put, path = "/companies/{companyId}/connections/{connectionId}/authorization", tag = TAG,
    request_body(content = Object, description = "`{\"upstreamCompanyId\": \"123456\"}`"),
    params(
        ("companyId" = String, Path, description = "The company's id"),
        ("connectionId" = String, Path, description = "The connection's id"),
    ),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The connection", body = Connection),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 403, description = "Missing or unavailable upstreamCompanyId, or the connection is not linked yet", body = ErrorMessage),
        (status = 404, description = "No such company or connection", body = ErrorMessage),
    ))]
async fn update_authorization(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((company_id, connection_id)): Path<(String, String)>,
    body: Result<ApiJson<BTreeMap<String, Value>>, ApiError>,
) -> ApiResult<Json<Connection>> {
    let row = load_connection(&state, &tenant, &company_id, &connection_id).await?;
    let ApiJson(body) = refused_body(body)?;
    refused_body(choose_upstream(&state, row, body).await)
}

/// Codat documents no 400 or 409 for the authorization update: its refusals become 403.
async fn choose_upstream(
    state: &AppState,
    row: ConnectionRow,
    body: BTreeMap<String, Value>,
) -> ApiResult<Json<Connection>> {
    let wanted = match body.get("upstreamCompanyId") {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(ApiError::invalid_field(
                "upstreamCompanyId",
                "is required: the Exact division code to read, one of connectionInfo.availableUpstreamCompanies",
            ));
        }
    };
    if row.available_companies.is_empty() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "The connection is not linked yet: the end customer must complete the linkUrl first",
        ));
    }
    let Some(company) = row.available_companies.iter().find(|c| c.id == wanted) else {
        return Err(ApiError::invalid_field(
            "upstreamCompanyId",
            format!(
                "{wanted} is not among the administrations the end customer granted: {}",
                row.available_companies
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    state.store.set_upstream_company(row.id, company).await?;
    let row = state.store.connection_by_id(row.id).await?;
    Ok(Json(state.connection_view(&row).await))
}
