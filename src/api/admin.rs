//! The operator's endpoints: tenants and their API keys, authenticated with the admin key.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::auth::Admin;
use super::error::{ApiError, ApiResult, ErrorMessage};
use super::extract::ApiJson;
use super::time::iso_utc;
use crate::app::AppState;
use crate::crypto::{hash_api_key, new_api_key};
use crate::store::{ApiKeyRow, StoreError, TenantRow};

/// A tenant: a SaaS company using Ledgerline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tenant {
    pub id: Uuid,
    pub name: String,
    pub created: String,
}

/// A new tenant with its first API key. The key is shown this once and stored only hashed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedTenant {
    pub id: Uuid,
    pub name: String,
    pub created: String,
    /// The tenant's first API key: shown once, keep it safe.
    pub api_key: String,
    pub api_key_id: Uuid,
}

/// The tenants.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantList {
    pub results: Vec<Tenant>,
}

/// What the operator sends to create a tenant.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewTenant {
    #[schema(min_length = 1)]
    pub name: String,
}

/// An API key's metadata (the key itself is never shown again).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: Uuid,
    pub created: String,
}

/// A new API key, shown once.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKey {
    pub id: Uuid,
    pub created: String,
    /// The key: shown once, keep it safe.
    pub api_key: String,
}

/// A tenant's API keys.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyList {
    pub results: Vec<ApiKey>,
}

fn tenant_view(row: TenantRow) -> Tenant {
    Tenant {
        id: row.id,
        name: row.name,
        created: iso_utc(row.created_at),
    }
}

fn key_view(row: ApiKeyRow) -> ApiKey {
    ApiKey {
        id: row.id,
        created: iso_utc(row.created_at),
    }
}

fn tenant_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("No tenant was found with ID {id}"))
}

fn parse_tenant_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| tenant_not_found(raw))
}

fn or_tenant_not_found<T>(result: Result<T, StoreError>, id: &str) -> ApiResult<T> {
    match result {
        Err(StoreError::NotFound) => Err(tenant_not_found(id)),
        other => Ok(other?),
    }
}

/// Routes for the operator.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tenants, create_tenant))
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(delete_api_key))
}

const TAG: &str = "Admin";

/// Create tenant
///
/// Creates a tenant and its first API key, shown once in `apiKey`.
#[utoipa::path(post, path = "/admin/tenants", tag = TAG, request_body = NewTenant,
    security(("operator_key" = [])),
    responses(
        (status = 201, description = "The tenant and its first key", body = CreatedTenant),
        (status = 400, description = "Invalid body; `validation` names the field", body = ErrorMessage),
        (status = 401, description = "Missing or wrong admin key", body = ErrorMessage),
    ))]
async fn create_tenant(
    State(state): State<AppState>,
    _admin: Admin,
    ApiJson(body): ApiJson<NewTenant>,
) -> ApiResult<(StatusCode, Json<CreatedTenant>)> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    let key = new_api_key();
    let (tenant, key_row) = state
        .store
        .create_tenant(name, &hash_api_key(key.expose_secret()))
        .await?;
    tracing::info!(tenant.id = %tenant.id, "tenant created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedTenant {
            id: tenant.id,
            name: tenant.name,
            created: iso_utc(tenant.created_at),
            api_key: key.expose_secret().to_string(),
            api_key_id: key_row.id,
        }),
    ))
}

/// List tenants
#[utoipa::path(get, path = "/admin/tenants", tag = TAG,
    security(("operator_key" = [])),
    responses(
        (status = 200, description = "Every tenant", body = TenantList),
        (status = 401, description = "Missing or wrong admin key", body = ErrorMessage),
    ))]
async fn list_tenants(State(state): State<AppState>, _admin: Admin) -> ApiResult<Json<TenantList>> {
    let results = state
        .store
        .list_tenants()
        .await?
        .into_iter()
        .map(tenant_view)
        .collect();
    Ok(Json(TenantList { results }))
}

/// Create API key
///
/// Adds an API key to a tenant, shown once in `apiKey`. Use it to rotate keys without downtime.
#[utoipa::path(post, path = "/admin/tenants/{tenantId}/apiKeys", tag = TAG,
    params(("tenantId" = String, Path, description = "The tenant's id")),
    security(("operator_key" = [])),
    responses(
        (status = 201, description = "The new key", body = CreatedApiKey),
        (status = 401, description = "Missing or wrong admin key", body = ErrorMessage),
        (status = 404, description = "No such tenant", body = ErrorMessage),
    ))]
async fn create_api_key(
    State(state): State<AppState>,
    _admin: Admin,
    Path(tenant_id): Path<String>,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    let id = parse_tenant_id(&tenant_id)?;
    let key = new_api_key();
    let row = or_tenant_not_found(
        state
            .store
            .create_api_key(id, &hash_api_key(key.expose_secret()))
            .await,
        &tenant_id,
    )?;
    tracing::info!(tenant.id = %id, api_key.id = %row.id, "api key created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            id: row.id,
            created: iso_utc(row.created_at),
            api_key: key.expose_secret().to_string(),
        }),
    ))
}

/// List API keys
///
/// The tenant's keys: ids and creation times only.
#[utoipa::path(get, path = "/admin/tenants/{tenantId}/apiKeys", tag = TAG,
    params(("tenantId" = String, Path, description = "The tenant's id")),
    security(("operator_key" = [])),
    responses(
        (status = 200, description = "The keys", body = ApiKeyList),
        (status = 401, description = "Missing or wrong admin key", body = ErrorMessage),
        (status = 404, description = "No such tenant", body = ErrorMessage),
    ))]
async fn list_api_keys(
    State(state): State<AppState>,
    _admin: Admin,
    Path(tenant_id): Path<String>,
) -> ApiResult<Json<ApiKeyList>> {
    let id = parse_tenant_id(&tenant_id)?;
    let rows = or_tenant_not_found(state.store.list_api_keys(id).await, &tenant_id)?;
    Ok(Json(ApiKeyList {
        results: rows.into_iter().map(key_view).collect(),
    }))
}

/// Delete API key
///
/// Revokes a key at once. Answers 204.
#[utoipa::path(delete, path = "/admin/tenants/{tenantId}/apiKeys/{keyId}", tag = TAG,
    params(
        ("tenantId" = String, Path, description = "The tenant's id"),
        ("keyId" = String, Path, description = "The key's id"),
    ),
    security(("operator_key" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Missing or wrong admin key", body = ErrorMessage),
        (status = 404, description = "No such tenant or key", body = ErrorMessage),
    ))]
async fn delete_api_key(
    State(state): State<AppState>,
    _admin: Admin,
    Path((tenant_id, key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let tenant = parse_tenant_id(&tenant_id)?;
    let not_found = || ApiError::not_found(format!("Tenant {tenant_id} has no API key {key_id}"));
    let key = Uuid::parse_str(&key_id).map_err(|_| not_found())?;
    match state.store.delete_api_key(tenant, key).await {
        Ok(()) => {
            tracing::info!(tenant.id = %tenant, api_key.id = %key, "api key revoked");
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::NotFound) => Err(not_found()),
        Err(other) => Err(other.into()),
    }
}
