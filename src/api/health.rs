//! `GET /healthz`: is the server up, and can it reach its database? `GET /readyz`: may it take
//! traffic (database reachable and every migration of this binary applied)?

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
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
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

/// Whether the server may take traffic.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    /// `ready` or `notReady`.
    pub status: String,
    /// `reachable` or `unreachable`.
    pub database: String,
    /// Versions of this binary's migrations the database has not applied (empty when ready;
    /// left out when the database cannot be asked).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_migrations: Option<Vec<i64>>,
}

/// Readiness check
///
/// 200 when the database answers and every migration this binary carries is applied; 503
/// otherwise, saying which. For a load balancer or an orchestrator's readiness probe. Needs no key.
#[utoipa::path(get, path = "/readyz", tag = "Health",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "The database is unreachable or migrations are pending", body = Readiness),
    ))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let pending = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        state.store.pending_migrations(),
    )
    .await
    .ok()
    .and_then(Result::ok);
    let ready = pending.as_ref().is_some_and(Vec::is_empty);
    (
        if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(Readiness {
            status: if ready { "ready" } else { "notReady" }.into(),
            database: if pending.is_some() {
                "reachable"
            } else {
                "unreachable"
            }
            .into(),
            pending_migrations: pending,
        }),
    )
}
