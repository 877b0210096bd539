//! The sandbox router: each region under its path prefix (`/nl`, `/uk`) with Exact's OAuth and
//! data paths, pending faults applied in front of them, and the admin API under `/_sandbox`.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::timeout::TimeoutLayer;

use super::faults::{FaultAction, LimitWindow};
use super::odata::error::ApiError;
use super::region::Region;
use super::state::Shared;
use super::stats::Call;
use super::{admin, api, oauth};

/// Every route of the sandbox.
pub fn router(state: Shared) -> Router {
    let regions = Router::new()
        .route(
            "/{region}/api/oauth2/auth",
            get(oauth::authorize)
                .post(oauth::authorize_form)
                .layer(middleware::map_response(
                    crate::html_headers::for_consent_page,
                )),
        )
        .route("/{region}/api/oauth2/token", post(oauth::token))
        .route("/{region}/api/v1/{*rest}", get(api::data))
        .layer(middleware::from_fn_with_state(state.clone(), apply_faults))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_concurrent_calls,
        ));
    Router::new()
        .merge(regions)
        .nest("/_sandbox", admin::router())
        // Graceful shutdown waits for in-flight requests; this bounds the wait (latency faults included).
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .with_state(state)
}

/// Counts a division data call in flight per grant, for as long as it takes (fault latency
/// included): `max_concurrent_calls_of_one_grant` in the stats.
async fn count_concurrent_calls(
    State(state): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    let mut parts = path.splitn(5, '/');
    let (prefix, division) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(prefix), Some("api"), Some("v1"), Some(division)) => (prefix, division),
        _ => return next.run(request).await,
    };
    let (Some(region), Ok(division)) = (Region::from_prefix(prefix), division.parse::<i32>())
    else {
        return next.run(request).await;
    };
    let token = super::api::bearer_token(request.headers());
    let now = state.clock.now_ms();
    let Some((grant, client_id)) =
        token.and_then(|t| state.tokens.lock().peek_grant(t, region, now))
    else {
        return next.run(request).await;
    };
    /// Leaves the count however the call ends (a client that stops waiting drops it).
    struct InFlight(Shared, u64);
    impl Drop for InFlight {
        fn drop(&mut self) {
            self.0.stats.lock().leave_call(self.1);
        }
    }
    state
        .stats
        .lock()
        .enter_call(region, client_id, division, grant);
    let _in_flight = InFlight(state.clone(), grant);
    next.run(request).await
}

/// Applies pending faults to a region request: a delay, then a status or a dropped connection.
async fn apply_faults(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    let (prefix, rest) = path.split_once('/').unwrap_or((path, ""));
    let Some(region) = Region::from_prefix(prefix) else {
        return next.run(request).await;
    };
    let rest = rest.to_string();
    let (latency, action) = state.faults.lock().take(region, &rest);
    if let Some(ms) = latency {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let Some(action) = action else {
        return next.run(request).await;
    };
    let response = match action {
        FaultAction::Status { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = match status.as_u16() {
                429 => "Too many requests.",
                503 => "Service Unavailable",
                _ => "An unexpected error occurred (sandbox fault).",
            };
            ApiError::new(status, message).into_response()
        }
        FaultAction::RateLimited {
            window,
            reset_in_ms,
        } => {
            let (limit, prefix) = match window {
                LimitWindow::Minutely => (60, "X-RateLimit-Minutely-"),
                LimitWindow::Daily => (5000, "X-RateLimit-"),
            };
            let reset = state.clock.now_ms().saturating_add(reset_in_ms);
            let mut response =
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests.").into_response();
            for (name, value) in [
                ("Limit", limit.to_string()),
                ("Remaining", "0".to_string()),
                ("Reset", reset.to_string()),
            ] {
                let name = header::HeaderName::from_bytes(format!("{prefix}{name}").as_bytes())
                    .expect("a valid header name");
                let value = header::HeaderValue::from_str(&value).expect("digits");
                response.headers_mut().insert(name, value);
            }
            response
        }
        FaultAction::LateAnswer { ms } => {
            let response = next.run(request).await;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            return response;
        }
        FaultAction::Latency { .. } => return next.run(request).await,
        FaultAction::Drop => dropped(),
    };
    record_fault(&state, region, &rest, &request, response.status().as_u16());
    response
}

/// A response whose body fails at once: hyper aborts the connection, so the client sees a
/// connection closed before a complete message.
fn dropped() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault",
        ))
    });
    let mut response = Response::new(Body::from_stream(failing));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Charges a faulted data call to its app and division, so stats show injected 429s too.
fn record_fault(state: &Shared, region: Region, rest: &str, request: &Request, status: u16) {
    let Some(after) = rest.strip_prefix("api/v1/") else {
        return;
    };
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.get(7..))
        .unwrap_or_default();
    let now = state.clock.now_ms();
    let client_id = state.tokens.lock().peek(token.trim(), region, now);
    let (division, endpoint) = after.split_once('/').unwrap_or((after, ""));
    let endpoint = endpoint.split('(').next().unwrap_or_default();
    let endpoint = super::entities::lookup(endpoint).map_or(endpoint, |e| e.path);
    state.stats.lock().record_call(Call {
        region,
        client_id,
        division: division.parse().ok(),
        endpoint,
        status,
        now,
    });
}
