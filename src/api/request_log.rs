//! The request log: one INFO line per request (method, route template, status, latency and
//! request id), the request id that error bodies quote as `correlationId` and that comes back
//! in `x-request-id`, and the request span every log line of a request carries. Its URI has
//! the OAuth callback's `code` and `state` values redacted: an authorization code in a log is
//! a credential.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Uri};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::trace::{HttpMakeClassifier, TraceLayer};
use tracing::Span;

/// Query parameters whose values never reach a log.
const REDACTED_PARAMS: [&str; 2] = ["code", "state"];

/// The header a request id arrives and leaves in.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a client; a longer one is replaced by our own.
const MAX_CLIENT_ID_LEN: usize = 64;

tokio::task_local! {
    /// The id of the request being answered, for the error bodies built while answering it.
    static REQUEST_ID: Arc<str>;
}

/// The id of the request this task is answering (`None` outside a request).
pub fn current_request_id() -> Option<Arc<str>> {
    REQUEST_ID.try_with(Arc::clone).ok()
}

/// The route template a request matched, handed from inside the router to [`log_request`].
#[derive(Debug, Clone)]
struct MatchedRoute(Arc<str>);

/// Inside the router (a route layer): notes on the response which route answered, so the
/// log and the metrics name the template (`/companies/{companyId}`), never a path with ids.
pub async fn tag_route(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| MatchedRoute(Arc::from(path.as_str())));
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}

/// A client's `x-request-id` if it is a short token of letters, digits and `-_.:`, else a
/// new one: the id goes into logs and error bodies, so nothing else is taken from outside.
fn request_id(request: &Request) -> Arc<str> {
    let given = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_CLIENT_ID_LEN
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        });
    match given {
        Some(id) => Arc::from(id),
        None => Arc::from(uuid::Uuid::new_v4().simple().to_string()),
    }
}

/// Outermost layer: gives the request its id (also in the request's `x-request-id`, which the
/// request span shows), answers it with the id in scope, then logs it at INFO, counts it for
/// `/metrics` and returns the id in `x-request-id`.
pub async fn log_request(mut request: Request, next: Next) -> Response {
    let id = request_id(&request);
    let header = HeaderValue::from_str(&id).expect("a request id is a valid header value");
    request
        .headers_mut()
        .insert(REQUEST_ID_HEADER, header.clone());
    let method = request.method().clone();
    let started = Instant::now();
    let mut response = REQUEST_ID.scope(id.clone(), next.run(request)).await;
    let elapsed = started.elapsed();
    let route = response
        .extensions()
        .get::<MatchedRoute>()
        .map_or("unmatched", |r| &r.0)
        .to_string();
    let status = response.status().as_u16();
    tracing::info!(
        request_id = %id,
        method = %method,
        route = %route,
        status,
        // Whole microseconds, so the figure reads 4.597, not 4.596801999999999.
        latency_ms = elapsed.as_micros() as f64 / 1000.0,
        "request"
    );
    crate::telemetry::http_request(method.as_str(), &route, status, elapsed);
    response.headers_mut().insert(REQUEST_ID_HEADER, header);
    response
}

/// The trace layer for the server: `TraceLayer::new_for_http` with a redacting span.
pub fn trace_layer() -> TraceLayer<HttpMakeClassifier, fn(&Request<axum::body::Body>) -> Span> {
    TraceLayer::new_for_http().make_span_with(request_span as fn(&Request<_>) -> Span)
}

/// The span of one request: its id, method, redacted URI, version, and the tenant once known.
pub fn request_span<B>(request: &axum::http::Request<B>) -> Span {
    let id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::debug_span!(
        "request",
        request_id = id,
        method = %request.method(),
        uri = %redacted_uri(request.uri()),
        version = ?request.version(),
        tenant.id = tracing::field::Empty,
    )
}

/// The URI with the values of `code` and `state` replaced by `[redacted]`.
pub fn redacted_uri(uri: &Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.to_string();
    };
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
            if REDACTED_PARAMS.contains(&decoded.as_ref()) {
                format!("{name}=[redacted]")
            } else {
                pair.to_string()
            }
        })
        .collect();
    format!("{}?{}", uri.path(), redacted.join("&"))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[test]
    fn code_and_state_values_are_redacted() {
        let uri: Uri = "/oauth/callback?code=s3cr3t&state=abc.def&error=x"
            .parse()
            .unwrap();
        assert_eq!(
            redacted_uri(&uri),
            "/oauth/callback?code=[redacted]&state=[redacted]&error=x"
        );
        let encoded: Uri = "/oauth/callback?%63ode=s3cr3t".parse().unwrap();
        assert_eq!(redacted_uri(&encoded), "/oauth/callback?%63ode=[redacted]");
        let plain: Uri = "/companies?page=2".parse().unwrap();
        assert_eq!(redacted_uri(&plain), "/companies?page=2");
    }

    /// Collects everything the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_request_log_never_shows_an_authorization_code() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = axum::Router::new()
            .route("/oauth/callback", get(|| async { "ok" }))
            .layer(trace_layer());
        let request =
            axum::http::Request::get("/oauth/callback?code=AUTHCODE123&state=STATE456.sig")
                .body(axum::body::Body::empty())
                .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(log.contains("started processing request"), "{log}");
        assert!(log.contains("code=[redacted]&state=[redacted]"), "{log}");
        assert!(!log.contains("AUTHCODE123"), "{log}");
        assert!(!log.contains("STATE456"), "{log}");
    }

    #[tokio::test]
    async fn every_request_is_logged_at_info_with_its_route_and_the_error_bodys_id() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = axum::Router::new()
            .route(
                "/companies/{companyId}",
                get(|| async { crate::api::error::ApiError::not_found("No such company") }),
            )
            .route_layer(axum::middleware::from_fn(tag_route))
            .layer(axum::middleware::from_fn(log_request));
        let request = axum::http::Request::get("/companies/5b1f0c2e-secret-path")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 404);
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["correlationId"], id.as_str(), "{body}");
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line = log
            .lines()
            .find(|l| l.contains(" INFO ") && l.contains(&id))
            .unwrap_or_else(|| panic!("no INFO line with the request id: {log}"));
        for part in [
            "method=GET",
            "route=/companies/{companyId}",
            "status=404",
            "latency_ms=",
        ] {
            assert!(line.contains(part), "{part} missing from {line}");
        }
        assert!(
            !log.contains("secret-path"),
            "a raw path reached the log: {log}"
        );

        // A client's own id is kept when it is a plain token, and replaced when it is not.
        let with_id = |id: &str| {
            axum::http::Request::get("/nowhere")
                .header("x-request-id", id)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let kept = app.clone().oneshot(with_id("trace-42")).await.unwrap();
        assert_eq!(kept.headers()["x-request-id"], "trace-42");
        let replaced = app.oneshot(with_id("a b\"c")).await.unwrap();
        assert_ne!(replaced.headers()["x-request-id"], "a b\"c");
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(log.contains("route=unmatched"), "{log}");
    }
}
