//! The tenant's link settings: where the end customer is sent back after the link flow.
//!
//! A Ledgerline extension. Codat keeps this in its Portal (Settings > Auth flow > Redirects);
//! its company `redirect` field is something else (the company's Link URL, where the customer
//! starts), so the setting is named `linkReturnUrl`, here and on a company that overrides it.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Tenant;
use super::error::{ApiError, ApiResult, ErrorMessage};
use super::extract::ApiJson;
use crate::app::AppState;
use crate::connections::return_url;

/// What happens after the end customer finishes (or abandons) the link flow.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkSettings {
    /// Ledgerline extension (not Codat's company `redirect`, which is the Link URL itself):
    /// where the end customer is sent after consent, on success and on failure. An absolute
    /// `https://` or `http://` URL; `{companyId}`, `{connectionId}`, `{statusCode}`,
    /// `{errorMessage}` and `{statusText}` are replaced. Codat's redirect parameters are added
    /// as query parameters unless placed: `statusCode` (200 connected, 403 the customer
    /// declined, 500 anything else), and on failure `errorMessage` (Codat's words: `User
    /// cancelled.` or `Unknown error occurred.`) and `statusText` (what happened, as in the
    /// connection's `dataConnectionErrors[].statusText`, e.g. `StateExpired`). A company's own
    /// `linkReturnUrl` overrides it. `null`: no return; Ledgerline's result page says what
    /// happened and what to do next. Left out of a PUT: `null`.
    #[serde(default)]
    #[schema(
        max_length = 2000,
        example = "https://app.example.com/exact/{companyId}/connected?connection={connectionId}"
    )]
    pub link_return_url: Option<String>,
}

/// Checks a return URL template, naming `field` in the 400.
pub fn validated_return_url(field: &str, url: Option<String>) -> ApiResult<Option<String>> {
    match url {
        None => Ok(None),
        Some(url) => match return_url::validate(&url) {
            Ok(()) => Ok(Some(url)),
            Err(problem) => Err(ApiError::invalid_field(field, problem)),
        },
    }
}

/// Writes [`return_url::PATTERN`] on every `linkReturnUrl` of a request body, so that the
/// document states what the server takes (a pattern must be a literal in `#[schema]`).
pub fn document(spec: &mut serde_json::Value) {
    for schema in ["LinkSettings", "CompanyRequestBody", "CompanyUpdateBody"] {
        if let Some(field) = spec
            .pointer_mut(&format!(
                "/components/schemas/{schema}/properties/linkReturnUrl"
            ))
            .and_then(serde_json::Value::as_object_mut)
        {
            field.insert("pattern".into(), return_url::PATTERN.into());
        }
    }
}

/// Routes for the link settings.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_link_settings, put_link_settings))
}

const TAG: &str = "Settings";

/// Get link settings
///
/// Ledgerline extension: where the end customer goes after the link flow.
#[utoipa::path(get, path = "/settings/link", tag = TAG,
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The link settings", body = LinkSettings),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
    ))]
pub(crate) async fn get_link_settings(
    State(state): State<AppState>,
    tenant: Tenant,
) -> ApiResult<Json<LinkSettings>> {
    let url = state.store.tenant_link_return_url(tenant.0.id).await?;
    Ok(Json(LinkSettings {
        link_return_url: url,
    }))
}

/// Set link settings
///
/// Ledgerline extension: sets (or, with `null`, removes) the tenant's return URL for the end
/// of the link flow. A company's own `linkReturnUrl` overrides it.
#[utoipa::path(put, path = "/settings/link", tag = TAG, request_body = LinkSettings,
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The saved link settings", body = LinkSettings),
        (status = 400, description = "`linkReturnUrl` is not an absolute http(s) URL, or uses an unknown placeholder; `validation` names it", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
    ))]
pub(crate) async fn put_link_settings(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<LinkSettings>,
) -> ApiResult<Json<LinkSettings>> {
    let url = validated_return_url("linkReturnUrl", body.link_return_url)?;
    state
        .store
        .set_tenant_link_return_url(tenant.0.id, url.as_deref())
        .await?;
    tracing::info!(set = url.is_some(), "link return URL changed");
    Ok(Json(LinkSettings {
        link_return_url: url,
    }))
}
