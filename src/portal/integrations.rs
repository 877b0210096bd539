//! The Integrations page: Exact NL and UK with their state, the redirect URL to register, the
//! scopes to tick, the credentials form and the switch. Every read and write goes through the
//! settings API's own handlers, so the rules and messages are the API's.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use secrecy::SecretString;
use serde::Deserialize;

use super::pages::{self, Section, copy_box, csrf_field, field_error, names_field, problem_banner};
use super::session::Session;
use crate::api::error::ApiError;
use crate::api::extract::ApiJson;
use crate::api::link_settings::{self, LinkSettings};
use crate::api::settings::{self, IntegrationCredentials, IntegrationSettings, IntegrationToggle};
use crate::app::AppState;

/// `?notice=` after a redirect.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

/// The credentials form as the browser sends it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsForm {
    csrf: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    /// The "enable now" box: sent only when ticked.
    enable_now: Option<String>,
}

/// The switch as the browser sends it.
#[derive(Debug, Deserialize)]
pub struct ToggleForm {
    csrf: String,
    enabled: String,
}

/// The link settings form.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkSettingsForm {
    csrf: String,
    #[serde(default)]
    link_return_url: String,
}

/// A failed form, re-shown next to the integration it was for.
struct Failed<'a> {
    key: &'a str,
    error: ApiError,
    client_id: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<NoticeQuery>,
) -> Response {
    render(&state, &session, query.notice.as_deref(), None).await
}

pub async fn save_credentials(
    State(state): State<AppState>,
    session: Session,
    Path(key): Path<String>,
    Form(form): Form<CredentialsForm>,
) -> Response {
    if let Err(refused) = session.check_csrf(&form.csrf) {
        return refused.into_response();
    }
    let body = IntegrationCredentials {
        client_id: Some(form.client_id.clone()),
        client_secret: Some(SecretString::from(form.client_secret)),
        enabled: form.enable_now.map(|_| true),
    };
    match settings::put_integration_settings(
        State(state.clone()),
        session.tenant.clone(),
        Path(key.clone()),
        ApiJson(body),
    )
    .await
    {
        Ok(_) => see_other("/portal/integrations?notice=saved"),
        Err(error) => {
            let failed = Failed {
                key: &key,
                error,
                client_id: Some(form.client_id),
            };
            render(&state, &session, None, Some(failed)).await
        }
    }
}

pub async fn toggle(
    State(state): State<AppState>,
    session: Session,
    Path(key): Path<String>,
    Form(form): Form<ToggleForm>,
) -> Response {
    if let Err(refused) = session.check_csrf(&form.csrf) {
        return refused.into_response();
    }
    let enabled = form.enabled == "true";
    match settings::toggle_integration(
        State(state.clone()),
        session.tenant.clone(),
        Path(key.clone()),
        ApiJson(IntegrationToggle { enabled }),
    )
    .await
    {
        Ok(_) if enabled => see_other("/portal/integrations?notice=enabled"),
        Ok(_) => see_other("/portal/integrations?notice=disabled"),
        Err(error) => {
            let failed = Failed {
                key: &key,
                error,
                client_id: None,
            };
            render(&state, &session, None, Some(failed)).await
        }
    }
}

pub async fn save_link_settings(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<LinkSettingsForm>,
) -> Response {
    if let Err(refused) = session.check_csrf(&form.csrf) {
        return refused.into_response();
    }
    // An emptied field removes the URL (the API's `null`).
    let url = Some(form.link_return_url.trim().to_string()).filter(|u| !u.is_empty());
    let removed = url.is_none();
    match link_settings::put_link_settings(
        State(state.clone()),
        session.tenant.clone(),
        ApiJson(LinkSettings {
            link_return_url: url,
        }),
    )
    .await
    {
        Ok(_) if removed => see_other("/portal/integrations?notice=return-url-removed"),
        Ok(_) => see_other("/portal/integrations?notice=return-url-saved"),
        Err(error) => {
            let failed = Failed {
                key: LINK_SETTINGS,
                error,
                client_id: Some(form.link_return_url),
            };
            render(&state, &session, None, Some(failed)).await
        }
    }
}

/// The `key` of a failed link settings form (no integration is called so).
const LINK_SETTINGS: &str = "link-settings";

/// POST/redirect/GET: a reload after saving shows the page, not a resubmission.
pub fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_string())]).into_response()
}

async fn render(
    state: &AppState,
    session: &Session,
    notice: Option<&str>,
    failed: Option<Failed<'_>>,
) -> Response {
    let list =
        match settings::list_integration_settings(State(state.clone()), session.tenant.clone())
            .await
        {
            Ok(list) => list.0,
            Err(error) => return error.into_response(),
        };
    let link = match link_settings::get_link_settings(State(state.clone()), session.tenant.clone())
        .await
    {
        Ok(link) => link.0,
        Err(error) => return error.into_response(),
    };
    // A failure for a key that is no integration shows above them all.
    let stray = failed
        .as_ref()
        .filter(|f| f.key != LINK_SETTINGS && !list.integrations.iter().any(|i| i.key == f.key))
        .map(|f| &f.error);
    let status = match &failed {
        Some(f) => f.error.status(),
        None => StatusCode::OK,
    };
    let body = html! {
        h1 { "Integrations" }
        (pages::notice_banner(notice))
        (problem_banner(stray))
        p.hint { "Register an app in Exact's App Center for each region you offer, paste its client id and secret here, and enable it now or later." }
        div.grid {
            @for integration in &list.integrations {
                (card(session, integration, failed.as_ref().filter(|f| f.key == integration.key)))
            }
        }
        (link_card(session, &link, failed.as_ref().filter(|f| f.key == LINK_SETTINGS)))
    };
    (
        status,
        pages::layout(
            "Integrations",
            Some(session),
            Some(Section::Integrations),
            body,
        ),
    )
        .into_response()
}

/// Where end customers go after the link flow: the tenant's return URL.
fn link_card(session: &Session, link: &LinkSettings, failed: Option<&Failed<'_>>) -> Markup {
    let error = failed.map(|f| &f.error);
    let value = failed
        .and_then(|f| f.client_id.clone())
        .or_else(|| link.link_return_url.clone())
        .unwrap_or_default();
    html! {
        section.card aria-labelledby="link-settings-title" {
            h2 id="link-settings-title" { "After linking: back to your app" }
            p.hint {
                "When an end customer has given (or refused) consent at Exact, send them back to your app. "
                code { "{companyId}" } " and " code { "{connectionId}" } " are filled in, and "
                code { "statusCode" } " (200 connected, 403 declined, 500 other), "
                code { "errorMessage" } " and " code { "statusText" } " are added, as Codat's redirects do. "
                "Leave it empty to show Ledgerline's result page instead. A company's own return URL (API: "
                code { "linkReturnUrl" } ") overrides this one."
            }
            (problem_banner(error))
            form method="post" action="/portal/settings/link" {
                (csrf_field(session))
                label for="linkReturnUrl" { "Return URL" }
                input type="text" inputmode="url" id="linkReturnUrl" name="linkReturnUrl" value=(value)
                    placeholder="https://app.example.com/exact/{companyId}/done" autocomplete="off"
                    aria-invalid=(names_field(error, "linkReturnUrl")) aria-describedby="linkReturnUrl-error";
                (field_error(error, "linkReturnUrl", "linkReturnUrl-error"))
                div.actions { button type="submit" { "Save return URL" } }
            }
        }
    }
}

fn card(
    session: &Session,
    integration: &IntegrationSettings,
    failed: Option<&Failed<'_>>,
) -> Markup {
    let key = &integration.key;
    let error = failed.map(|f| &f.error);
    let (state_class, state_text) = match (integration.credentials_set, integration.enabled) {
        (false, _) => ("missing", "Missing credentials"),
        (true, true) => ("on", "On"),
        (true, false) => ("off", "Off"),
    };
    let client_id = failed
        .and_then(|f| f.client_id.clone())
        .or_else(|| integration.client_id.clone())
        .unwrap_or_default();
    let id = |what: &str| format!("{key}-{what}");
    html! {
        section.card aria-labelledby=(id("title")) {
            h2 id=(id("title")) { (integration.name) " " span.badge.(state_class) data-state=(state_class) { (state_text) } }
            (problem_banner(error))
            (copy_box(&id("redirect"), "Redirect URL to register in the App Center", &integration.redirect_url))
            @if let Some(url) = &integration.app_center_url {
                p.hint { "Register the app at " a href=(url) rel="noreferrer" { (url) } }
            }
            details {
                summary { "Recommended scopes" }
                table {
                    thead { tr { th scope="col" { "Area" } th scope="col" { "Item" } th scope="col" { "Access" } } }
                    tbody {
                        @for scope in &integration.recommended_scopes {
                            tr { td { (scope.area) } td { (scope.item) } td { (scope.access) } }
                        }
                    }
                }
            }
            form method="post" action={ "/portal/integrations/" (key) "/credentials" } {
                (csrf_field(session))
                label for=(id("clientId")) { "Client id" }
                input type="text" id=(id("clientId")) name="clientId" value=(client_id) autocomplete="off"
                    aria-invalid=(names_field(error, "clientId")) aria-describedby=(id("clientId-error"));
                (field_error(error, "clientId", &id("clientId-error")))
                label for=(id("clientSecret")) { "Client secret" }
                input type="password" id=(id("clientSecret")) name="clientSecret" autocomplete="new-password"
                    placeholder=[integration.client_secret_hint.as_deref()]
                    aria-invalid=(names_field(error, "clientSecret")) aria-describedby=(id("clientSecret-error"));
                (field_error(error, "clientSecret", &id("clientSecret-error")))
                @if let Some(hint) = &integration.client_secret_hint {
                    p.hint { "A secret is set (" (hint) "); it is never shown again. Enter it again to change the client id." }
                }
                @if !integration.enabled {
                    label.inline for=(id("enableNow")) {
                        input type="checkbox" id=(id("enableNow")) name="enableNow" value="true";
                        "Enable now"
                    }
                }
                div.actions { button type="submit" { "Save credentials" } }
            }
            form method="post" action={ "/portal/integrations/" (key) "/enabled" } {
                (csrf_field(session))
                div.actions {
                    @if integration.enabled {
                        input type="hidden" name="enabled" value="false";
                        button.secondary type="submit" { "Disable " (integration.name) }
                    } @else {
                        input type="hidden" name="enabled" value="true";
                        button.secondary type="submit" { "Enable " (integration.name) }
                    }
                }
            }
        }
    }
}
