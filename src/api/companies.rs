//! Companies in Codat's shape: `POST/GET /companies`, `GET/PUT/PATCH/DELETE /companies/{companyId}`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::auth::Tenant;
use super::connections::Connection;
use super::error::{ApiError, ApiResult, ErrorMessage};
use super::extract::{ApiJson, ApiQuery};
use super::paging::{Page, PageQuery};
use super::selection::Selection;
use super::time::iso_utc;
use crate::app::AppState;
use crate::store::{CompanyRow, NewCompany, StoreError};

/// A company: one of your customers, whose accounting data Ledgerline reads.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Company {
    /// Ledgerline's id for the company (a UUID).
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// The page where your customer connects their accounting software.
    pub redirect: String,
    /// When the company was created (UTC).
    pub created: String,
    pub created_by_user_name: Option<String>,
    /// When data was last pulled for the company (UTC).
    pub last_sync: Option<String>,
    /// The company's connections (also at `/companies/{companyId}/connections`).
    pub data_connections: Vec<Connection>,
    pub products: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub reference_parent_company: Option<serde_json::Value>,
    pub reference_subsidiary_companies: Vec<serde_json::Value>,
}

impl Company {
    /// What `query` and `orderBy` may name on `/companies` (`tags.{key}` for any tag).
    pub const QUERY_PATHS: &'static [&'static str] = &[
        "id",
        "name",
        "description",
        "redirect",
        "created",
        "createdByUserName",
        "lastSync",
        "tags.*",
    ];
}

/// What a client sends to create or replace a company.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyRequestBody {
    /// The company's name; required and not blank.
    pub name: String,
    pub description: Option<String>,
    /// Free-form string labels, e.g. `{"region": "uk"}`.
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
}

/// A partial update: only the fields sent are changed.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyUpdateBody {
    pub name: Option<String>,
    /// `null` clears the description.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub tags: Option<BTreeMap<String, String>>,
}

/// Tells "absent" (keep) from `null` (clear) in a PATCH body.
fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

const MAX_NAME_LEN: usize = 500;

fn validated_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::invalid_field(
            "name",
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    Ok(name.to_string())
}

impl CompanyRequestBody {
    fn validated(self) -> ApiResult<NewCompany> {
        Ok(NewCompany {
            name: validated_name(&self.name)?,
            description: self.description,
            tags: self.tags.unwrap_or_default(),
        })
    }
}

/// Parses a company id from the path; anything that is not one of the tenant's is a 404.
pub fn parse_company_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| company_not_found(raw))
}

fn company_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("No company was found with ID {id}"))
}

/// Loads one of the tenant's companies or answers Codat's 404.
pub async fn load_company(
    state: &AppState,
    tenant: &Tenant,
    raw_id: &str,
) -> ApiResult<CompanyRow> {
    let id = parse_company_id(raw_id)?;
    match state.store.get_company(tenant.0.id, id).await {
        Err(StoreError::NotFound) => Err(company_not_found(raw_id)),
        other => Ok(other?),
    }
}

impl AppState {
    /// A stored company in Codat's shape, with its connections.
    async fn company(&self, row: CompanyRow) -> ApiResult<Company> {
        let (connections, _) = self
            .store
            .list_connections(row.tenant_id, row.id, 0, 1000)
            .await?;
        Ok(Company {
            data_connections: connections
                .iter()
                .map(|c| self.connection_view(c))
                .collect(),
            redirect: self.link_url(row.id),
            id: row.id,
            name: row.name,
            description: row.description,
            created: iso_utc(row.created_at),
            created_by_user_name: None,
            last_sync: row.last_sync.map(iso_utc),
            products: Vec::new(),
            tags: row.tags,
            reference_parent_company: None,
            reference_subsidiary_companies: Vec::new(),
        })
    }
}

/// Routes for companies.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_companies, create_company))
        .routes(routes!(
            get_company,
            replace_company,
            update_company,
            delete_company
        ))
}

const TAG: &str = "Companies";

/// List companies
///
/// Your companies, oldest first, in Codat's paged envelope.
#[utoipa::path(get, path = "/companies", tag = TAG, params(PageQuery),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "A page of companies", body = Page<Company>),
        (status = 400, description = "Invalid paging, query or orderBy", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
    ))]
async fn list_companies(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Company>>> {
    let paging = query.paging()?;
    let selection = Selection::parse("Company", Company::QUERY_PATHS, &query)?;
    if selection.is_everything() {
        let (rows, total) = state
            .store
            .list_companies(tenant.0.id, paging.offset(), paging.limit())
            .await?;
        let mut results = Vec::with_capacity(rows.len());
        for row in rows {
            results.push(state.company(row).await?);
        }
        return Ok(Json(Page::new(results, total, paging, "/companies")));
    }
    // A filtered list is selected in memory: a tenant's companies are few enough.
    let (rows, _) = state.store.list_companies(tenant.0.id, 0, i64::MAX).await?;
    let mut companies = Vec::with_capacity(rows.len());
    for row in rows {
        companies.push(state.company(row).await?);
    }
    let (results, total) = selection.page(companies, paging);
    Ok(Json(Page::filtered(
        results,
        total,
        paging,
        "/companies",
        &query,
    )))
}

/// Create company
///
/// Creates a company for one of your customers. Answers 200, as Codat does.
#[utoipa::path(post, path = "/companies", tag = TAG, request_body = CompanyRequestBody,
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The new company", body = Company),
        (status = 400, description = "Invalid body; `validation` names the field", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 413, description = "Body too large", body = ErrorMessage),
    ))]
async fn create_company(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<CompanyRequestBody>,
) -> ApiResult<Json<Company>> {
    let row = state
        .store
        .create_company(tenant.0.id, &body.validated()?)
        .await?;
    tracing::info!(company.id = %row.id, "company created");
    Ok(Json(state.company(row).await?))
}

/// Get company
#[utoipa::path(get, path = "/companies/{companyId}", tag = TAG,
    params(("companyId" = String, Path, description = "The company's id")),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The company", body = Company),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company for this tenant", body = ErrorMessage),
    ))]
async fn get_company(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(company_id): Path<String>,
) -> ApiResult<Json<Company>> {
    let row = load_company(&state, &tenant, &company_id).await?;
    Ok(Json(state.company(row).await?))
}

/// Replace company
///
/// Replaces name, description and tags (fields left out are cleared).
#[utoipa::path(put, path = "/companies/{companyId}", tag = TAG, request_body = CompanyRequestBody,
    params(("companyId" = String, Path, description = "The company's id")),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The updated company", body = Company),
        (status = 400, description = "Invalid body; `validation` names the field", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company for this tenant", body = ErrorMessage),
    ))]
async fn replace_company(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(company_id): Path<String>,
    ApiJson(body): ApiJson<CompanyRequestBody>,
) -> ApiResult<Json<Company>> {
    let existing = load_company(&state, &tenant, &company_id).await?;
    let row = state
        .store
        .update_company(tenant.0.id, existing.id, &body.validated()?)
        .await?;
    Ok(Json(state.company(row).await?))
}

/// Update company
///
/// Changes only the fields sent.
#[utoipa::path(patch, path = "/companies/{companyId}", tag = TAG, request_body = CompanyUpdateBody,
    params(("companyId" = String, Path, description = "The company's id")),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The updated company", body = Company),
        (status = 400, description = "Invalid body; `validation` names the field", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company for this tenant", body = ErrorMessage),
    ))]
async fn update_company(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(company_id): Path<String>,
    ApiJson(body): ApiJson<CompanyUpdateBody>,
) -> ApiResult<Json<Company>> {
    let existing = load_company(&state, &tenant, &company_id).await?;
    let changed = NewCompany {
        name: match &body.name {
            Some(name) => validated_name(name)?,
            None => existing.name,
        },
        description: body.description.unwrap_or(existing.description),
        tags: body.tags.unwrap_or(existing.tags),
    };
    let row = state
        .store
        .update_company(tenant.0.id, existing.id, &changed)
        .await?;
    Ok(Json(state.company(row).await?))
}

/// Delete company
///
/// Deletes the company and everything Ledgerline holds for it. Answers 204.
#[utoipa::path(delete, path = "/companies/{companyId}", tag = TAG,
    params(("companyId" = String, Path, description = "The company's id")),
    security(("auth_header" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company for this tenant", body = ErrorMessage),
    ))]
async fn delete_company(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(company_id): Path<String>,
) -> ApiResult<StatusCode> {
    let existing = load_company(&state, &tenant, &company_id).await?;
    state.store.delete_company(tenant.0.id, existing.id).await?;
    tracing::info!(company.id = %existing.id, "company deleted");
    Ok(StatusCode::NO_CONTENT)
}
