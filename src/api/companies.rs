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
use super::link_settings::validated_return_url;
use super::paging::{Links, Page, PageQuery};
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
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The page where your customer connects their accounting software (Codat's Link URL).
    pub redirect: String,
    /// Ledgerline extension: where the end customer is sent after the link flow, overriding
    /// the tenant's `linkReturnUrl` (`GET /settings/link`, which describes the placeholders
    /// and parameters). Not Codat's `redirect`, which is where the customer starts. Left out
    /// when the company has none of its own.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_return_url: Option<String>,
    /// When the company was created (UTC).
    pub created: String,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by_user_name: Option<String>,
    /// When data was last pulled for the company (UTC).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<String>,
    /// The company's connections (also at `/companies/{companyId}/connections`).
    pub data_connections: Vec<Connection>,
    pub products: Vec<String>,
    pub tags: BTreeMap<String, String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
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
        // Into the array: a company matches when one of its connections does (Codat's
        // querying example `dataConnections.status=PendingAuth`).
        "dataConnections.id",
        "dataConnections.integrationId",
        "dataConnections.integrationKey",
        "dataConnections.sourceId",
        "dataConnections.sourceType",
        "dataConnections.platformName",
        "dataConnections.status",
        "dataConnections.created",
        "dataConnections.lastSync",
    ];

    /// The company as `query` and `orderBy` see it: once per connection, with `dataConnections`
    /// that one connection, so that `dataConnections.status = Linked` asks whether any
    /// connection is Linked. A company without connections is seen once, without them.
    fn query_views(&self) -> Vec<serde_json::Value> {
        let mut company = serde_json::to_value(self).unwrap_or_default();
        let connections = company
            .as_object_mut()
            .and_then(|c| c.remove("dataConnections"))
            .and_then(|c| match c {
                serde_json::Value::Array(items) => Some(items),
                _ => None,
            })
            .unwrap_or_default();
        if connections.is_empty() {
            return vec![company];
        }
        connections
            .into_iter()
            .map(|connection| {
                let mut view = company.clone();
                view["dataConnections"] = connection;
                view
            })
            .collect()
    }
}

/// Codat's limits on tags: at most 10 per company, values of at most 100 characters.
const MAX_TAGS: usize = 10;
const MAX_TAG_VALUE_LEN: usize = 100;

fn validated_tags(tags: BTreeMap<String, String>) -> ApiResult<BTreeMap<String, String>> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::invalid_field(
            "tags",
            format!("at most {MAX_TAGS} tags per company, got {}", tags.len()),
        ));
    }
    let too_long: Vec<(String, String)> = tags
        .iter()
        .filter(|(_, value)| value.chars().count() > MAX_TAG_VALUE_LEN)
        .map(|(key, _)| {
            (
                format!("tags.{key}"),
                format!("must be at most {MAX_TAG_VALUE_LEN} characters"),
            )
        })
        .collect();
    if !too_long.is_empty() {
        return Err(ApiError::invalid_fields(too_long));
    }
    Ok(tags)
}

/// `?tags=` on the company list, Codat's way: a query over the tags themselves
/// (`region = uk && team = invoice-finance`; `=`, `!=`, `~`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TagsQuery {
    /// Filter by tags with Codat's query language, e.g. `region=uk && team=invoice-finance`.
    pub tags: Option<String>,
}

/// Where Codat documents no 400 (replacing or updating a company, every connection write), a
/// request it cannot take is refused with 403 (understood, and refused), keeping the message and
/// the field-level `validation`.
pub(crate) fn refused_body<T>(body: Result<T, ApiError>) -> ApiResult<T> {
    body.map_err(|error| {
        if error.status() == StatusCode::BAD_REQUEST {
            error.with_status(StatusCode::FORBIDDEN)
        } else {
            error
        }
    })
}

/// What a client sends to create or replace a company.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyRequestBody {
    /// The company's name; required and not blank.
    #[schema(min_length = 1, max_length = 500)]
    pub name: String,
    pub description: Option<String>,
    /// Free-form string labels, e.g. `{"region": "uk"}`: at most 10, values of at most 100
    /// characters.
    #[serde(default)]
    #[schema(schema_with = tags_schema)]
    pub tags: Option<BTreeMap<String, String>>,
    /// Ledgerline extension: this company's own return URL after the link flow, overriding
    /// the tenant's `linkReturnUrl` (see `PUT /settings/link` for placeholders and parameters).
    /// Not Codat's `redirect`.
    #[serde(default)]
    #[schema(
        max_length = 2000,
        example = "https://app.example.com/customers/42/exact-done"
    )]
    pub link_return_url: Option<String>,
}

/// `tags` as Codat limits them: at most [`MAX_TAGS`], values of at most [`MAX_TAG_VALUE_LEN`]
/// characters.
fn tags_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Object,
            Type::Null,
        ]))
        .description(Some(
            "Free-form string labels, e.g. `{\"region\": \"uk\"}`: at most 10, values of at \
             most 100 characters.",
        ))
        .max_properties(Some(MAX_TAGS))
        .additional_properties(Some(AdditionalProperties::RefOr(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(MAX_TAG_VALUE_LEN))
                .into(),
        )))
        .property_names(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

/// A partial update: only the fields sent are changed.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyUpdateBody {
    #[schema(min_length = 1, max_length = 500)]
    pub name: Option<String>,
    /// `null` clears the description.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[schema(schema_with = tags_schema)]
    pub tags: Option<BTreeMap<String, String>>,
    /// Ledgerline extension: the company's own return URL after the link flow; `null` goes
    /// back to the tenant's.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub link_return_url: Option<Option<String>>,
}

/// Tells "absent" (keep) from `null` (clear) in a PATCH body.
fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

const MAX_NAME_LEN: usize = 500;

fn validated_name(name: &str) -> ApiResult<String> {
    // The length as sent, as the spec's `maxLength` counts it.
    if name.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::invalid_field(
            "name",
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    Ok(name.to_string())
}

impl CompanyRequestBody {
    fn validated(self) -> ApiResult<NewCompany> {
        Ok(NewCompany {
            name: validated_name(&self.name)?,
            description: self.description,
            tags: validated_tags(self.tags.unwrap_or_default())?,
            link_return_url: validated_return_url("linkReturnUrl", self.link_return_url)?,
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

/// The id of one of the tenant's companies, or Codat's 404, from what the store remembers: a
/// data read needs no more, and no round trip when warm.
pub async fn company_id_for_read(
    state: &AppState,
    tenant: &Tenant,
    raw_id: &str,
) -> ApiResult<Uuid> {
    let id = parse_company_id(raw_id)?;
    match state.store.company_owner(id).await {
        Ok(owner) if owner == tenant.0.id => Ok(id),
        Ok(_) | Err(StoreError::NotFound) => Err(company_not_found(raw_id)),
        Err(other) => Err(other.into()),
    }
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
        let mut data_connections = Vec::with_capacity(connections.len());
        for connection in &connections {
            data_connections.push(self.connection_view(connection).await);
        }
        Ok(Company {
            data_connections,
            redirect: self.link_url(row.id),
            link_return_url: row.link_return_url,
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
#[utoipa::path(get, path = "/companies", tag = TAG, params(PageQuery, TagsQuery),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "A page of companies", body = Page<Company>),
        (status = 400, description = "Invalid paging, query, orderBy or tags", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
    ))]
pub(crate) async fn list_companies(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(query): ApiQuery<PageQuery>,
    ApiQuery(tags): ApiQuery<TagsQuery>,
) -> ApiResult<Json<Page<Company>>> {
    let paging = query.paging()?;
    let selection = Selection::parse("Company", Company::QUERY_PATHS, &query)?;
    // `query` may look into a company's connections; `orderBy` may not (which one would sort?).
    if let Some(path) = query.order_by.as_deref().and_then(|o| {
        o.split(',').find(|p| {
            p.trim()
                .trim_start_matches('-')
                .starts_with("dataConnections.")
        })
    }) {
        return Err(ApiError::bad_request(format!(
            "Error parsing query - Could not resolve property {} on Company",
            path.trim().trim_start_matches('-')
        )));
    }
    // Tag keys are the properties of a tags query: any name is one.
    let tags_filter = Selection::parse(
        "Company tags",
        &["*"],
        &PageQuery {
            query: tags.tags.clone(),
            ..PageQuery::default()
        },
    )
    .map_err(|e| ApiError::invalid_field("tags", e.message().to_string()))?;
    if selection.is_everything() && tags_filter.is_everything() {
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
        let company = state.company(row).await?;
        let tags = serde_json::to_value(&company.tags).unwrap_or_default();
        if tags_filter.is_everything() || !tags_filter.apply(&[tags]).is_empty() {
            companies.push(company);
        }
    }
    let (owners, views): (Vec<usize>, Vec<serde_json::Value>) = companies
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.query_views().into_iter().map(move |v| (i, v)))
        .unzip();
    let mut seen = vec![false; companies.len()];
    let order: Vec<usize> = selection
        .apply(&views)
        .into_iter()
        .map(|position| owners[position])
        .filter(|&company| !std::mem::replace(&mut seen[company], true))
        .collect();
    let total = order.len() as i64;
    let start = (paging.offset() as usize).min(order.len());
    let end = (start + paging.page_size as usize).min(order.len());
    let mut companies: Vec<Option<Company>> = companies.into_iter().map(Some).collect();
    let results = order[start..end]
        .iter()
        .filter_map(|&i| companies[i].take())
        .collect();
    // The page links keep the tags filter too, encoded as `query` is.
    let tags_param = PageQuery {
        query: tags.tags,
        ..PageQuery::default()
    }
    .filter_params()
    .replacen("&query=", "&tags=", 1);
    let links = Links::new(
        total,
        paging,
        "/companies",
        &format!("{}{tags_param}", query.filter_params()),
    );
    Ok(Json(Page {
        links,
        ..Page::new(results, total, paging, "/companies")
    }))
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
        (status = 413, description = "Body too large (a Ledgerline extension: Codat documents no 413)", body = ErrorMessage),
    ))]
pub(crate) async fn create_company(
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
pub(crate) async fn get_company(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(company_id): Path<String>,
) -> ApiResult<Json<Company>> {
    let row = load_company(&state, &tenant, &company_id).await?;
    Ok(Json(state.company(row).await?))
}

/// Replace company
///
/// Replaces name, description, tags and `linkReturnUrl` (fields left out are cleared).
#[utoipa::path(put, path = "/companies/{companyId}", tag = TAG, request_body = CompanyRequestBody,
    params(("companyId" = String, Path, description = "The company's id")),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The updated company", body = Company),
        (status = 403, description = "A body that cannot be taken (not an object, a blank name, too many or too long tags); `validation` names the field. Codat documents no 400 here", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company for this tenant", body = ErrorMessage),
    ))]
async fn replace_company(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(company_id): Path<String>,
    body: Result<ApiJson<CompanyRequestBody>, ApiError>,
) -> ApiResult<Json<Company>> {
    let existing = load_company(&state, &tenant, &company_id).await?;
    let ApiJson(body) = refused_body(body)?;
    let changed = refused_body(body.validated())?;
    let row = state
        .store
        .update_company(tenant.0.id, existing.id, &changed)
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
        (status = 403, description = "A body that cannot be taken (not an object, a blank name, too many or too long tags); `validation` names the field. Codat documents no 400 here", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such company for this tenant", body = ErrorMessage),
    ))]
pub(crate) async fn update_company(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(company_id): Path<String>,
    body: Result<ApiJson<CompanyUpdateBody>, ApiError>,
) -> ApiResult<Json<Company>> {
    let existing = load_company(&state, &tenant, &company_id).await?;
    let ApiJson(body) = refused_body(body)?;
    let changed = NewCompany {
        name: match &body.name {
            Some(name) => refused_body(validated_name(name))?,
            None => existing.name,
        },
        description: body.description.unwrap_or(existing.description),
        tags: match body.tags {
            Some(tags) => refused_body(validated_tags(tags))?,
            None => existing.tags,
        },
        link_return_url: match body.link_return_url {
            Some(url) => refused_body(validated_return_url("linkReturnUrl", url))?,
            None => existing.link_return_url,
        },
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
