//! One error shape for every failure: Codat's `ErrorMessage`, so Codat's SDKs raise their
//! typed error instead of a parsing error.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::StoreError;

/// Codat's error body. `canBeRetried` is a string (`"True"`, `"False"`, `"Unknown"`): Codat's
/// SDKs reject a JSON boolean there.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMessage {
    /// The HTTP status code, repeated.
    pub status_code: u16,
    /// The part of Ledgerline that answered (`PublicApi`).
    pub service: String,
    /// What went wrong, in words a developer can act on.
    pub error: String,
    /// Quote this when asking for help: it is on the server's log line too.
    pub correlation_id: String,
    /// Which fields were wrong, when the request body or parameters failed validation.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
    /// `True`, `False` or `Unknown`.
    pub can_be_retried: String,
    /// Always `0` for now, as in Codat's examples.
    pub detailed_error_code: i32,
}

/// Field-level validation results.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Validation {
    pub errors: Vec<ValidationItem>,
    pub warnings: Vec<ValidationItem>,
}

/// One invalid field.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationItem {
    /// The field, as a JSON path (`clientSecret`, `tags.region`) or parameter name (`pageSize`).
    pub item_id: String,
    pub message: String,
    pub validator_name: String,
}

/// An error on its way to becoming a Codat-shaped response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    validation: Option<Validation>,
    retry: &'static str,
    /// The internal cause of a 5xx: logged with the correlation id, never sent.
    cause: Option<String>,
    /// Seconds for a `Retry-After` header; 0 sends none (a plain u32 keeps the error small).
    retry_after: u32,
}

/// Handlers return `Result<T>`: errors become Codat-shaped responses.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// Any status with a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let retry = match status.as_u16() {
            429 | 502..=504 => "True",
            500 => "Unknown",
            _ => "False",
        };
        ApiError {
            status,
            message: message.into(),
            validation: None,
            retry,
            cause: None,
            retry_after: 0,
        }
    }

    /// 400 for one invalid field, named in `validation.errors[0].itemId` and in the message.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid_fields(vec![(field.to_string(), message.into())])
    }

    /// 400 for several invalid fields at once, so a form can show every problem together.
    pub fn invalid_fields(fields: Vec<(String, String)>) -> Self {
        let summary = fields
            .iter()
            .map(|(field, message)| format!("{field}: {message}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut error = ApiError::new(StatusCode::BAD_REQUEST, summary);
        error.validation = Some(Validation {
            errors: fields
                .into_iter()
                .map(|(item_id, message)| ValidationItem {
                    item_id,
                    message,
                    validator_name: "RequestValidation".into(),
                })
                .collect(),
            warnings: Vec::new(),
        });
        error
    }

    /// 400 without a particular field.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401: no key, or one we don't know.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 404 with a message that names what was looked for.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// 409: the request is valid but the resource is not in a state that allows it.
    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, message)
    }

    /// Says the same request may succeed later (`canBeRetried: "True"`), e.g. once a pull is done.
    pub fn retryable(mut self) -> Self {
        self.retry = "True";
        self
    }

    /// 500: logs `cause` under the correlation id and tells the client only that it failed.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut error = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error: the server failed to answer; quote the correlationId when reporting it",
        );
        error.cause = Some(cause.to_string());
        error
    }

    /// 429 with `Retry-After`: the client must wait that many seconds.
    pub fn too_many_requests(message: impl Into<String>, retry_after_secs: u32) -> Self {
        let mut error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, message);
        error.retry_after = retry_after_secs.max(1);
        error
    }

    /// 503: a dependency (the database) is down; worth retrying.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// The same error answered with another status (where Codat documents another code for
    /// the operation); the message and `validation` stay.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message sent to the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The invalid fields as (field, message) pairs, for a form that shows each next to its
    /// field; empty when the error names no field.
    pub fn field_errors(&self) -> Vec<(&str, &str)> {
        self.validation
            .iter()
            .flat_map(|v| &v.errors)
            .map(|item| (item.item_id.as_str(), item.message.as_str()))
            .collect()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::not_found("Not found"),
            StoreError::Database(sqlx::Error::PoolTimedOut) => {
                ApiError::unavailable("The database is not answering; try again shortly")
            }
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The request's id, so the body, the request log line and `x-request-id` agree.
        let correlation_id = super::request_log::current_request_id().map_or_else(
            || uuid::Uuid::new_v4().simple().to_string(),
            |id| id.to_string(),
        );
        if let Some(cause) = &self.cause {
            tracing::error!(
                correlation_id,
                status = self.status.as_u16(),
                cause,
                "request failed"
            );
        } else if self.status.is_server_error() {
            tracing::warn!(correlation_id, status = self.status.as_u16(), error = %self.message, "request failed");
        } else {
            tracing::debug!(correlation_id, status = self.status.as_u16(), error = %self.message, "request refused");
        }
        let body = ErrorMessage {
            status_code: self.status.as_u16(),
            service: "PublicApi".into(),
            error: self.message,
            correlation_id,
            validation: self.validation,
            can_be_retried: self.retry.into(),
            detailed_error_code: 0,
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.retry_after > 0 {
            let seconds = self.retry_after;
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
