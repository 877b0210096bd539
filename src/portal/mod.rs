//! The portal: a tenant admin's web pages over the settings API, served by the binary.
//!
//! Server-rendered with maud (templates checked by the compiler, HTML-escaped by default, no
//! template files to ship), one stylesheet and one small script compiled in, no CDN. Every page
//! calls the API's own handlers, so a rule or message changed there shows here too.

mod companies;
mod integrations;
mod pages;
mod plots;
mod session;
mod timeline;

use axum::Form;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::html;
use serde::Deserialize;

use crate::app::AppState;
use crate::store::StoreError;
pub use session::Session;

const STYLESHEET: &str = include_str!("portal.css");
const SCRIPT: &str = include_str!("portal.js");

/// The portal's routes (kept out of the OpenAPI document: they are pages, not an API).
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/portal", get(home))
        .route("/portal/", get(home))
        .route("/portal/sign-in", get(sign_in_page).post(sign_in))
        .route("/portal/sign-out", post(sign_out))
        .route("/portal/integrations", get(integrations::page))
        .route(
            "/portal/integrations/{key}/credentials",
            post(integrations::save_credentials),
        )
        .route(
            "/portal/integrations/{key}/enabled",
            post(integrations::toggle),
        )
        .route(
            "/portal/settings/link",
            post(integrations::save_link_settings),
        )
        .route(
            "/portal/companies",
            get(companies::list).post(companies::create),
        )
        .route("/portal/companies/{companyId}", get(companies::detail))
        .route(
            "/portal/companies/{companyId}/connections",
            post(companies::connect),
        )
        .route(
            "/portal/companies/{companyId}/return-url",
            post(companies::save_return_url),
        )
        .route(
            "/portal/companies/{companyId}/pull",
            post(companies::queue_pull),
        )
        .route("/portal/assets/portal.css", get(stylesheet))
        .route("/portal/assets/portal.js", get(script))
        .layer(axum::middleware::map_response(
            crate::html_headers::for_portal,
        ))
}

async fn home(session: Result<Session, Response>) -> Response {
    match session {
        Ok(_) => integrations::see_other("/portal/integrations"),
        Err(_) => integrations::see_other("/portal/sign-in"),
    }
}

async fn stylesheet() -> impl IntoResponse {
    asset("text/css; charset=utf-8", STYLESHEET)
}

async fn script() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignInForm {
    #[serde(default)]
    api_key: String,
}

async fn sign_in_page() -> Response {
    sign_in_form(None, StatusCode::OK)
}

fn sign_in_form(problem: Option<&str>, status: StatusCode) -> Response {
    let body = html! {
        section.card.signin aria-labelledby="sign-in" {
            h1 id="sign-in" { "Sign in to the portal" }
            p.hint { "Use your tenant's API key, as given to you by whoever runs Ledgerline." }
            form method="post" action="/portal/sign-in" {
                label for="apiKey" { "API key" }
                input type="password" id="apiKey" name="apiKey" autocomplete="current-password" required
                    aria-invalid=(problem.is_some()) aria-describedby="apiKey-error";
                @if let Some(problem) = problem {
                    p.field-error id="apiKey-error" role="alert" { (problem) }
                }
                div.actions { button type="submit" { "Sign in" } }
            }
        }
    };
    (status, pages::layout("Sign in", None, None, body)).into_response()
}

async fn sign_in(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    Form(form): Form<SignInForm>,
) -> Response {
    // The sign-in form takes no CSRF token (there is no session yet); SameSite=Strict and
    // form-action 'self' keep another site from signing a browser in to its own tenant.
    // Wrong keys count against the same per-address limit as the API's, so the form is no
    // way around it for guessing keys.
    let address = crate::api::auth::client_address(&parts);
    if state.auth_failures.check(address).is_err() {
        return sign_in_form(
            Some("Too many wrong API keys from this address: wait a minute, then try again."),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    match session::sign_in(&state, &form.api_key).await {
        Ok((tenant, cookie)) => {
            tracing::info!(tenant.id = %tenant.0.id, "portal sign-in");
            let mut response = integrations::see_other("/portal/integrations");
            response.headers_mut().insert(SET_COOKIE, cookie);
            response
        }
        Err(StoreError::NotFound) => {
            state.auth_failures.failed(address);
            sign_in_form(
                Some("This API key is incorrect or has been revoked."),
                StatusCode::UNAUTHORIZED,
            )
        }
        Err(other) => crate::api::error::ApiError::from(other).into_response(),
    }
}

/// The sign-out form's body.
#[derive(Debug, Deserialize)]
struct SignOutForm {
    csrf: String,
}

async fn sign_out(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<SignOutForm>,
) -> Response {
    if let Err(refused) = session.check_csrf(&form.csrf) {
        return refused.into_response();
    }
    let mut response = integrations::see_other("/portal/sign-in");
    response
        .headers_mut()
        .insert(SET_COOKIE, session::sign_out_cookie(&state));
    response
}
