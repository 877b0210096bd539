//! The portal: per tenant, the Exact app's client id and secret for each region, and a switch.
//!
//! Disabling an integration stops new links and syncs for it; its connections and the data
//! already pulled are kept, and come back into use when it is enabled again.

use axum::Json;
use axum::extract::{Path, State};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Tenant;
use super::error::{ApiError, ApiResult, ErrorMessage};
use super::extract::ApiJson;
use super::time::iso_utc;
use crate::app::AppState;
use crate::catalog::{Integration, Scope};
use crate::crypto::{client_secret_context, secret_hint};
use crate::store::{IntegrationSettingRow, StoreError};

/// One integration's settings as the admin sees them. The secret itself is never returned.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationSettings {
    /// Ledgerline's integration key, e.g. `exact-online-nl`.
    pub key: String,
    /// Codat's platform key for the same integration (`qudb`, `pbbf`).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_key: Option<String>,
    /// Display name, e.g. `Exact (Netherlands)`.
    pub name: String,
    /// Region code: `nl` or `uk`.
    pub region: String,
    /// Whether new connections and syncs are allowed.
    pub enabled: bool,
    /// Whether a client id and secret have been entered.
    pub credentials_set: bool,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The end of the secret (at most a quarter of it, never more than four characters), e.g. `••••3f9a`.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_hint: Option<String>,
    /// Register this redirect URL in the app's registration in Exact's App Center.
    pub redirect_url: String,
    /// Where to register the app for this region.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_center_url: Option<String>,
    /// The scopes to tick in the app registration (Codat's recommendation).
    pub recommended_scopes: Vec<Scope>,
    /// When the settings last changed (UTC).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
}

/// The list of integrations.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntegrationSettingsList {
    pub integrations: Vec<IntegrationSettings>,
}

/// Credentials for one integration, and optionally whether to enable it now.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationCredentials {
    /// The app's client id from Exact's App Center (a GUID, braces optional). Required; an
    /// `Option` here so that its absence gets the same message as a blank one.
    #[schema(value_type = String, required = true, nullable = false,
        pattern = r"^(\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")]
    pub client_id: Option<String>,
    /// The app's client secret, without whitespace. Stored encrypted; never returned.
    #[schema(value_type = String, format = Password, required = true, nullable = false,
        pattern = r"^[^\s\u0000-\u001F\u007F-\u009F]+$")]
    pub client_secret: Option<SecretString>,
    /// Enable now (`true`) or later with the toggle (`false`, or leave out to keep the current state).
    pub enabled: Option<bool>,
}

/// The on/off switch.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct IntegrationToggle {
    pub enabled: bool,
}

/// Routes for the settings API.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_integration_settings))
        .routes(routes!(get_integration_settings, put_integration_settings))
        .routes(routes!(toggle_integration))
}

const TAG: &str = "Settings";

impl AppState {
    fn settings_view(
        &self,
        integration: &Integration<'_>,
        row: Option<&IntegrationSettingRow>,
    ) -> IntegrationSettings {
        IntegrationSettings {
            key: integration.region.key.clone(),
            platform_key: integration.region.platform_key.clone(),
            name: integration.region.name.clone(),
            region: integration.region.region.clone(),
            enabled: row.is_some_and(|r| r.enabled),
            credentials_set: row.is_some(),
            client_id: row.map(|r| r.client_id.clone()),
            client_secret_hint: row.map(|r| r.client_secret_hint.clone()),
            redirect_url: self.oauth_redirect_url(),
            app_center_url: integration
                .region
                .app_center_url
                .as_ref()
                .map(|u| u.to_string()),
            recommended_scopes: integration.provider.scopes.clone(),
            updated: row.map(|r| iso_utc(r.updated_at)),
        }
    }

    fn integration_or_404(&self, key: &str) -> ApiResult<Integration<'_>> {
        self.catalog.integration(key).ok_or_else(|| {
            ApiError::not_found(format!(
                "No integration '{key}'; the integrations are: {}",
                self.catalog.keys().join(", ")
            ))
        })
    }
}

/// List integration settings
///
/// Both Exact integrations, with what is set, the redirect URL to register and the scopes to ask for.
#[utoipa::path(get, path = "/settings/integrations", tag = TAG,
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "Every integration", body = IntegrationSettingsList),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
    ))]
pub(crate) async fn list_integration_settings(
    State(state): State<AppState>,
    tenant: Tenant,
) -> ApiResult<Json<IntegrationSettingsList>> {
    let rows = state.store.list_integration_settings(tenant.0.id).await?;
    let integrations = state
        .catalog
        .integrations()
        .map(|integration| {
            let row = rows
                .iter()
                .find(|r| r.integration_key == integration.region.key);
            state.settings_view(&integration, row)
        })
        .collect();
    Ok(Json(IntegrationSettingsList { integrations }))
}

/// Get integration settings
#[utoipa::path(get, path = "/settings/integrations/{integrationKey}", tag = TAG,
    params(("integrationKey" = String, Path, description = "`exact-online-nl` or `exact-online-uk`")),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The integration's settings", body = IntegrationSettings),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such integration", body = ErrorMessage),
    ))]
async fn get_integration_settings(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(key): Path<String>,
) -> ApiResult<Json<IntegrationSettings>> {
    let integration = state.integration_or_404(&key)?;
    let row = match state
        .store
        .get_integration_setting(tenant.0.id, &integration.region.key)
        .await
    {
        Ok(row) => Some(row),
        Err(StoreError::NotFound) => None,
        Err(other) => return Err(other.into()),
    };
    Ok(Json(state.settings_view(&integration, row.as_ref())))
}

/// Set integration credentials
///
/// Sets the client id and secret of the tenant's Exact app for this region, and optionally
/// enables the integration at once. The secret is encrypted at rest and never returned.
#[utoipa::path(put, path = "/settings/integrations/{integrationKey}", tag = TAG,
    request_body = IntegrationCredentials,
    params(("integrationKey" = String, Path, description = "`exact-online-nl` or `exact-online-uk`")),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The saved settings", body = IntegrationSettings),
        (status = 400, description = "A field is missing, blank, contains whitespace or is not a GUID; `validation` names it", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such integration", body = ErrorMessage),
    ))]
pub(crate) async fn put_integration_settings(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<IntegrationCredentials>,
) -> ApiResult<Json<IntegrationSettings>> {
    let integration = state.integration_or_404(&key)?;
    let (client_id, client_secret) = validate_credentials(&body)?;
    let integration_key = &integration.region.key;
    let sealed = state.master_key.seal(
        client_secret.expose_secret(),
        &client_secret_context(tenant.0.id, integration_key),
    );
    let row = state
        .store
        .upsert_integration_credentials(
            tenant.0.id,
            integration_key,
            &client_id,
            &sealed,
            &secret_hint(&client_secret),
            body.enabled,
        )
        .await?;
    tracing::info!(integration = %integration_key, enabled = row.enabled, "integration credentials set");
    Ok(Json(state.settings_view(&integration, Some(&row))))
}

/// Checks both fields and reports every problem at once, each naming its field.
fn validate_credentials(body: &IntegrationCredentials) -> ApiResult<(String, SecretString)> {
    let mut problems = Vec::new();
    let client_id = body.client_id.as_deref().unwrap_or_default();
    let secret = body
        .client_secret
        .as_ref()
        .map(|s| s.expose_secret())
        .unwrap_or_default();
    for (field, value) in [("clientId", client_id), ("clientSecret", secret)] {
        if let Some(problem) = key_problem(value) {
            problems.push((field.to_string(), problem));
        }
    }
    if !client_id.is_empty() && key_problem(client_id).is_none() && !looks_like_guid(client_id) {
        problems.push((
            "clientId".to_string(),
            "must be a GUID such as 1a2b3c4d-0000-4000-8000-0123456789ab, as shown in Exact's App Center"
                .to_string(),
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid_fields(problems));
    }
    Ok((
        client_id.to_string(),
        SecretString::from(secret.to_string()),
    ))
}

fn key_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return Some("is required and must not be empty".into());
    }
    if value.chars().any(char::is_whitespace) {
        let where_ = if value.trim() != value {
            "at the start or end"
        } else {
            "inside it"
        };
        return Some(format!(
            "contains whitespace {where_}; Exact's keys never contain spaces, so this is \
             probably a copy-paste slip: paste the key again without spaces"
        ));
    }
    None
}

/// `8-4-4-4-12` hex digits, with or without the braces Exact's App Center shows.
fn looks_like_guid(value: &str) -> bool {
    let bare = value
        .strip_prefix('{')
        .and_then(|v| v.strip_suffix('}'))
        .unwrap_or(value);
    let groups: Vec<&str> = bare.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Switch an integration on or off
///
/// Enabling needs credentials first (409 otherwise). Disabling stops new links and syncs
/// and keeps existing connections and data.
#[utoipa::path(put, path = "/settings/integrations/{integrationKey}/enabled", tag = TAG,
    request_body = IntegrationToggle,
    params(("integrationKey" = String, Path, description = "`exact-online-nl` or `exact-online-uk`")),
    security(("auth_header" = [])),
    responses(
        (status = 200, description = "The integration's settings", body = IntegrationSettings),
        (status = 400, description = "Invalid body", body = ErrorMessage),
        (status = 401, description = "Missing or unknown API key", body = ErrorMessage),
        (status = 404, description = "No such integration", body = ErrorMessage),
        (status = 409, description = "Enabling an integration that has no credentials", body = ErrorMessage),
    ))]
pub(crate) async fn toggle_integration(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(key): Path<String>,
    ApiJson(toggle): ApiJson<IntegrationToggle>,
) -> ApiResult<Json<IntegrationSettings>> {
    let integration = state.integration_or_404(&key)?;
    let integration_key = &integration.region.key;
    match state
        .store
        .set_integration_enabled(tenant.0.id, integration_key, toggle.enabled)
        .await
    {
        Ok(row) => {
            tracing::info!(integration = %integration_key, enabled = row.enabled, "integration switched");
            Ok(Json(state.settings_view(&integration, Some(&row))))
        }
        Err(StoreError::NotFound) if toggle.enabled => Err(ApiError::conflict(format!(
            "{} cannot be enabled: no clientId and clientSecret are set. Register an app in Exact's \
             App Center, then PUT /settings/integrations/{integration_key} with its clientId and clientSecret",
            integration.region.name
        ))),
        Err(StoreError::NotFound) => Ok(Json(state.settings_view(&integration, None))),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_with_and_without_braces_pass() {
        assert!(looks_like_guid("1a2b3c4d-0000-4000-8000-0123456789ab"));
        assert!(looks_like_guid("{1A2B3C4D-0000-4000-8000-0123456789AB}"));
        assert!(!looks_like_guid("1a2b3c4d00004000800001234567890ab"));
        assert!(!looks_like_guid("1a2b3c4d-0000-4000-8000-0123456789ag"));
        assert!(!looks_like_guid("{1a2b3c4d-0000-4000-8000-0123456789ab"));
    }

    #[test]
    fn whitespace_messages_say_where() {
        assert!(key_problem(" abc").unwrap().contains("start or end"));
        assert!(key_problem("ab c").unwrap().contains("inside"));
        assert!(
            key_problem("ab\tc")
                .unwrap()
                .contains("never contain spaces")
        );
        assert!(key_problem("abc").is_none());
    }
}
