//! `GET /integrations` and `GET /integrations/{platformKey}` in Codat's Integration shape.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::auth::Tenant;
use super::error::{ApiError, ApiResult, ErrorMessage};
use super::extract::ApiQuery;
use super::paging::{Page, PageQuery};
use super::selection::Selection;
use crate::app::AppState;
use crate::catalog::Integration as CatalogIntegration;

/// An integration, as Codat describes one.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    /// Codat's platform key (`qudb` = Exact NL, `pbbf` = Exact UK).
    pub key: String,
    pub logo_url: String,
    pub name: String,
    /// Whether the tenant has switched it on (settings API).
    pub enabled: bool,
    pub source_id: Uuid,
    pub source_type: String,
    pub integration_id: Uuid,
    pub is_offline_connector: bool,
    pub is_beta: bool,
    pub data_provided_by: String,
    pub datatype_features: Vec<serde_json::Value>,
}

impl Integration {
    /// What `query` and `orderBy` may name on `/integrations`.
    pub const QUERY_PATHS: &'static [&'static str] = &[
        "key",
        "logoUrl",
        "name",
        "enabled",
        "sourceId",
        "sourceType",
        "integrationId",
        "isOfflineConnector",
        "isBeta",
        "dataProvidedBy",
    ];
}

/// Stable ids derived from the integration key, so they never change between servers.
pub fn integration_id(key: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("ledgerline:integration:{key}").as_bytes(),
    )
}

/// The source id Codat pairs with an integration.
pub fn source_id(key: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("ledgerline:source:{key}").as_bytes(),
    )
}

impl AppState {
    /// Codat's platform key for an integration (ours if Codat has none).
    pub fn platform_key(&self, integration_key: &str) -> String {
        self.catalog
            .integration(integration_key)
            .and_then(|i| i.region.platform_key.clone())
            .unwrap_or_else(|| integration_key.to_string())
    }

    fn integration_view(&self, integration: &CatalogIntegration<'_>, enabled: bool) -> Integration {
        let key = &integration.region.key;
        Integration {
            key: self.platform_key(key),
            logo_url: self.logo_url(),
            name: integration.region.name.clone(),
            enabled,
            source_id: source_id(key),
            source_type: "Accounting".into(),
            integration_id: integration_id(key),
            is_offline_connector: false,
            is_beta: false,
            data_provided_by: integration.provider.display_name.clone(),
            datatype_features: Vec::new(),
        }
    }

    fn logo_url(&self) -> String {
        format!(
            "{}/logos/exact-online.svg",
            self.public_url.as_str().trim_end_matches('/')
        )
    }
}

/// Routes for integrations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_integrations))
        .routes(routes!(get_integration))
}

/// A small logo for integration lists (the real marks are the upstreams' trademarks).
pub async fn logo() -> impl IntoResponse {
    const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" fill="#e2001a"/><text x="32" y="42" font-family="Arial,sans-serif" font-size="28" font-weight="bold" fill="#fff" text-anchor="middle">EO</text></svg>"##;
    ([(CONTENT_TYPE, "image/svg+xml")], SVG)
}

const TAG: &str = "Integrations";

/// List integrations
///
/// Exact NL and UK in Codat's Integration shape; `enabled` follows the tenant's settings.
#[utoipa::path(get, path = "/integrations", tag = TAG, params(PageQuery),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The integrations", body = Page<Integration>),
        (status = 400, description = "Invalid paging, query or orderBy", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
    ))]
async fn list_integrations(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Integration>>> {
    let paging = query.paging()?;
    let selection = Selection::parse("Integration", Integration::QUERY_PATHS, &query)?;
    let settings = state.store.list_integration_settings(tenant.0.id).await?;
    let all: Vec<Integration> = state
        .catalog
        .integrations()
        .map(|i| {
            let enabled = settings
                .iter()
                .any(|s| s.integration_key == i.region.key && s.enabled);
            state.integration_view(&i, enabled)
        })
        .collect();
    let (results, total) = selection.page(all, paging);
    Ok(Json(Page::filtered(
        results,
        total,
        paging,
        "/integrations",
        &query,
    )))
}

/// Get integration
#[utoipa::path(get, path = "/integrations/{platformKey}", tag = TAG,
    params(("platformKey" = String, Path, description = "`qudb`, `pbbf`, `exact-online-nl` or `exact-online-uk`")),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The integration", body = Integration),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such integration", body = ErrorMessage),
    ))]
async fn get_integration(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(key): Path<String>,
) -> ApiResult<Json<Integration>> {
    let integration = state
        .catalog
        .integration(&key)
        .ok_or_else(|| ApiError::not_found(format!("No integration with platform key {key}")))?;
    let enabled = state
        .store
        .get_integration_setting(tenant.0.id, &integration.region.key)
        .await
        .is_ok_and(|s| s.enabled);
    Ok(Json(state.integration_view(&integration, enabled)))
}
