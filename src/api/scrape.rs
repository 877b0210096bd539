//! `GET /metrics`: Prometheus' scrape of this instance (see [`crate::telemetry`]), for the
//! metrics token or the admin key only: route and division ids are the operator's business.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::MetricsReader;
use super::error::{ApiError, ApiResult, ErrorMessage};
use crate::app::AppState;

/// The text format's content type, as Prometheus asks for it.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The scrape route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(metrics))
}

/// Prometheus metrics
///
/// Requests by route and status with latencies, upstream calls by integration, division and
/// outcome, 429s, token refreshes, pulls by data type and outcome with their duration and
/// records, each division's remaining call budget, each company's sync lag per data type,
/// and the read cache's size and hit rate. Needs `LEDGERLINE_METRICS_TOKEN` or the admin key
/// as `Authorization: Bearer <token>`.
#[utoipa::path(get, path = "/metrics", tag = "Admin",
    security(("operator_key" = [])),
    responses(
        (status = 200, description = "Prometheus text format", body = String,
         content_type = "text/plain; version=0.0.4"),
        (status = 401, description = "Neither the metrics token nor the admin key", body = ErrorMessage),
        (status = 503, description = "The database is not answering", body = ErrorMessage),
    ))]
async fn metrics(_reader: MetricsReader, State(state): State<AppState>) -> ApiResult<Response> {
    let text = crate::telemetry::render(&state)
        .await
        .map_err(ApiError::from)?;
    Ok(([(CONTENT_TYPE, TEXT_FORMAT)], text).into_response())
}
