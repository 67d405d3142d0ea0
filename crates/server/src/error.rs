//! The one error type of the HTTP layer: a status, a stable code and a
//! message, rendered as `{"error": {"code": ..., "message": ...}}`.
//!
//! Why: every refusal (bad JSON, bad signature, unknown run) must reach the
//! caller as a clear 4xx, and nothing a client sends may become a panic.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use warden_store::StoreError;

/// An HTTP error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What went wrong, for a human.
    pub message: String,
}

impl ApiError {
    /// An error with a status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }
    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    /// 401: who is asking is not established.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    /// 403: the caller may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    /// 409: the request conflicts with the current state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }
    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(..) => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            StoreError::Conflict(_) => ApiError::conflict(e.to_string()),
            StoreError::InProgress(_) => ApiError::new(StatusCode::CONFLICT, "run_in_progress", e.to_string()),
            // 409, not 429: waiting does not help, deleting something (or a run ending) does.
            StoreError::LimitExceeded(..) => ApiError::new(StatusCode::CONFLICT, "limit_exceeded", e.to_string()),
            StoreError::Backend(_) => ApiError::internal(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

/// Parses a JSON body, naming the line, column and field of any error.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request("empty body: a JSON object is expected"));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!("invalid JSON body at line {} column {}: {e}", e.line(), e.column()))
    })
}
