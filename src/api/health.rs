//! `GET /healthz`: is the server up, and can it reach its database?

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;

/// The server's health.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: String,
    /// `reachable` or `unreachable`.
    pub database: String,
}

/// Routes for health checks.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz))
}

/// Health check
///
/// 200 when the database answers, 503 when it does not. Needs no key.
#[utoipa::path(get, path = "/healthz", tag = "Health",
    responses(
        (status = 200, description = "Healthy", body = Health),
        (status = 503, description = "The database is unreachable", body = Health),
    ))]
async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let reachable = tokio::time::timeout(std::time::Duration::from_secs(3), state.store.ping())
        .await
        .unwrap_or(false);
    let (status, word, database) = if reachable {
        (StatusCode::OK, "ok", "reachable")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "degraded", "unreachable")
    };
    (
        status,
        Json(Health {
            status: word.into(),
            database: database.into(),
        }),
    )
}
