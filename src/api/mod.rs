//! The HTTP API in Codat's wire format: one module per resource, each registering its routes
//! together with their OpenAPI documentation.

pub mod admin;
pub mod auth;
pub mod companies;
pub mod connections;
pub mod data;
pub mod error;
pub mod etag;
pub mod extract;
pub mod health;
pub mod input_rules;
pub mod integrations;
pub mod link;
pub mod link_settings;
pub mod paging;
pub mod request_log;
pub mod scrape;
pub mod selection;
pub mod settings;
pub mod sync_settings;
pub mod time;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::header::CONTENT_TYPE;
use axum::http::{Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;
use error::ApiError;

/// The document that utoipa fills from every handler's `#[utoipa::path]`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ledgerline",
        description = "A self-hostable unified accounting API in Codat's wire format, with \
                       Exact Online NL and UK behind it. Authenticate with \
                       `Authorization: Basic <base64 of your API key>` (what Codat's SDKs send) \
                       or `Authorization: Bearer <key>`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "Companies", description = "Your customers, whose accounting data you read"),
        (name = "Connections", description = "A company's links to Exact NL or UK, and the end customer's linkUrl"),
        (name = "Integrations", description = "The accounting platforms on offer"),
        (name = "Accounting data", description = "Pulled data in Codat's shapes, served from Ledgerline's store"),
        (name = "Pulls", description = "Queue pulls and follow their status"),
        (name = "Sync settings", description = "How often each data type is refreshed on schedule, and whether a new link pulls it"),
        (name = "Link flow", description = "Ledgerline extension (not in Codat's API): fresh link URLs for the end customer"),
        (name = "Settings", description = "Ledgerline extension (not in Codat's API): per-tenant integration settings, the portal"),
        (name = "Admin", description = "Ledgerline extension (not in Codat's API): tenants and API keys, for the operator"),
        (name = "Health", description = "Ledgerline extension (not in Codat's API): liveness and database reachability"),
    )
)]
struct ApiDoc;

/// Declares the two credentials: tenants' API keys (`auth_header`, Codat's name for it) on
/// tenant operations and the operator's key (`operator_key`) on admin ones. Both are HTTP
/// bearer schemes, so a key pasted into Swagger UI's Authorize dialog is sent as
/// `Bearer <key>`; their names sort the tenant's first in that dialog.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let bearer = |description: &str| {
            let mut http = Http::new(HttpAuthScheme::Bearer);
            http.description = Some(description.to_string());
            SecurityScheme::Http(http)
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "auth_header",
            bearer(
                "Your tenant API key (`ll_…`), for every operation but the operator's: paste \
                 the key itself. Sent as `Authorization: Bearer <key>`; \
                 `Basic <base64 of the key>`, what Codat's SDKs send, works too.",
            ),
        );
        components.add_security_scheme(
            "operator_key",
            bearer(
                "The operator's admin key (`LEDGERLINE_ADMIN_KEY`), for `/admin/…` and \
                 `/metrics` only (which also takes `LEDGERLINE_METRICS_TOKEN`).",
            ),
        );
    }
}

fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(admin::router())
        .merge(scrape::router())
        .merge(settings::router())
        .merge(link_settings::router())
        .merge(companies::router())
        .merge(connections::router())
        .merge(integrations::router())
        .merge(data::router())
        .merge(sync_settings::router())
}

/// The OpenAPI document, as generated from the code: every handler's `#[utoipa::path]`, the
/// data types' reads from the registry, the answers every operation can give, and the input
/// rules every handler enforces.
pub fn openapi() -> serde_json::Value {
    let mut spec = documented_routes().split_for_parts().1;
    data::document_datasets(&mut spec);
    sync_settings::document(&mut spec);
    document_shared_errors(&mut spec);
    let mut spec = serde_json::to_value(spec).expect("the OpenAPI document serialises");
    link_settings::document(&mut spec);
    input_rules::document(&mut spec);
    spec
}

/// Answers every operation can give whatever its handler does, added once here: 429 when
/// the caller's address sent too many wrong keys (any operation that takes a key), and 415
/// when a body is not labelled JSON (any operation that takes a body).
fn document_shared_errors(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorMessage")))
                    .build(),
            )
            .build()
    };
    for item in spec.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                responses.entry("429".into()).or_insert_with(|| {
                    error("Too many wrong keys from this address; wait `Retry-After` seconds")
                        .into()
                });
            }
            if operation.request_body.is_some() {
                responses.entry("415".into()).or_insert_with(|| {
                    error(
                        "Ledgerline extension: the body is not labelled `Content-Type: application/json`",
                    ).into()
                });
            }
        }
    }
}

/// The OpenAPI document as the pretty JSON checked in at `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let mut json = serde_json::to_string_pretty(&openapi()).expect("JSON serialises");
    json.push('\n');
    json
}

/// Every route, with Swagger UI at `/docs` and the spec at `/openapi.json`.
pub fn router(state: AppState) -> Router {
    let (routes, _) = documented_routes().split_for_parts();
    routes
        // A newcomer who opens the bare address lands on the portal's sign-in.
        .route(
            "/",
            axum::routing::get(|| async { axum::response::Redirect::to("/portal") }),
        )
        .merge(link::router())
        .merge(crate::portal::router())
        .merge(
            SwaggerUi::new("/docs")
                .external_urls_from_iter_unchecked([("/openapi.json", openapi())]),
        )
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(json_errors))
        .with_state(state)
}

async fn unknown_route(request: Request<Body>) -> ApiError {
    ApiError::not_found(format!(
        "No route {} {}; see /docs for the API",
        request.method(),
        request.uri().path()
    ))
}

async fn method_not_allowed(request: Request<Body>) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} is not allowed on {}; see /docs for the methods it takes",
            request.method(),
            request.uri().path()
        ),
    )
}

/// The safety net: any error that left a layer or extractor as plain text or no body (a
/// timeout, a body limit, a bad path parameter) is rewritten into Codat's JSON error shape.
async fn json_errors(request: Request<Body>, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // Rewrite only bodies nobody shaped on purpose: empty or plain text. JSON is ours
    // already, and HTML is the end customer's link pages.
    let unshaped = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !unshaped {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("Request failed")
            .to_string()
    } else {
        text
    };
    let mut rewritten = ApiError::new(status, message).into_response();
    for (name, value) in parts.headers.iter() {
        if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}
