//! Exact's error responses: `{"error":{"code":"","message":{"lang":"","value":…}}}` plus headers.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The text Exact answers for a `$filter` (or other query option) it cannot parse.
pub const QUERY_SYNTAX: &str = "Bad Request - Error in query syntax.";

/// An error response of the data API in Exact's shape (code and lang are empty strings:
/// their real values are UNCONFIRMED).
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error.message.value`.
    pub message: String,
    /// Extra headers (`Reason`, rate-limit headers).
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// An error with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// 400 "Bad Request - Error in query syntax.".
    pub fn query_syntax() -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, QUERY_SYNTAX)
    }

    /// 400 with another message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 for an unknown resource or key.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": "", "message": {"lang": "", "value": self.message}}});
        let mut response = (self.status, axum::Json(body)).into_response();
        add_headers(&mut response, &self.headers);
        response
    }
}

/// Adds `(name, value)` headers given in Exact's capitalisation to a response.
pub fn add_headers(response: &mut Response, headers: &[(&'static str, String)]) {
    for (name, value) in headers {
        // `from_bytes` lower-cases Exact's spelling, as HTTP/2 and the `http` crate require.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
}
