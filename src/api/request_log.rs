//! The request span every log line of a request carries. Its URI has the OAuth callback's
//! `code` and `state` values redacted: an authorization code in a log is a credential.

use axum::http::{Request, Uri};
use tower_http::trace::{HttpMakeClassifier, TraceLayer};
use tracing::Span;

/// Query parameters whose values never reach a log.
const REDACTED_PARAMS: [&str; 2] = ["code", "state"];

/// The trace layer for the server: `TraceLayer::new_for_http` with a redacting span.
pub fn trace_layer() -> TraceLayer<HttpMakeClassifier, fn(&Request<axum::body::Body>) -> Span> {
    TraceLayer::new_for_http().make_span_with(request_span as fn(&Request<_>) -> Span)
}

/// The span of one request: method, redacted URI, version, and the tenant once known.
pub fn request_span<B>(request: &Request<B>) -> Span {
    tracing::debug_span!(
        "request",
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
        let request = Request::get("/oauth/callback?code=AUTHCODE123&state=STATE456.sig")
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
}
