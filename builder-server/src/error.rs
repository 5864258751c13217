//! Every failure of the server, and the response it becomes.
//!
//! Handlers return `Result<_, ApiError>`; `IntoResponse` turns an error into a
//! JSON body `{"error": {"code": ..., "message": ..., "field": ...}}` with the
//! right status. Messages explain what to fix and never echo secrets; internal
//! errors are logged with detail and answered with a generic message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// A failure that becomes an HTTP response.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is invalid; `field` names the offending input when known.
    #[error("{message}")]
    Invalid {
        /// Which input is wrong (a JSON path such as `theme.light.primary`).
        field: Option<String>,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// No such resource.
    #[error("{0}")]
    NotFound(String),
    /// No credentials, or credentials that are not valid.
    #[error("a valid admin token is required (Authorization: Bearer ...)")]
    Unauthenticated,
    /// Valid credentials without the right to do this.
    #[error("{0}")]
    Forbidden(String),
    /// The resource changed since the client read it, or already exists.
    #[error("{0}")]
    Conflict(String),
    /// A value is valid but taken: another resource holds it.
    #[error("{message}")]
    Taken {
        /// Which input holds the taken value.
        field: String,
        /// What is taken and what to do.
        message: String,
    },
    /// A conditional write came without `If-Match`.
    #[error("send If-Match with the ETag you read, so that no update is lost")]
    PreconditionRequired,
    /// The request body is over the limit (in bytes).
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// Something broke inside; details are in the log, not in the response.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// An invalid-input error about `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Conflict(_) | ApiError::Taken { .. } => (StatusCode::CONFLICT, "conflict"),
            ApiError::PreconditionRequired => {
                (StatusCode::PRECONDITION_REQUIRED, "precondition_required")
            }
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(message) => ApiError::NotFound(message),
            StoreError::AudienceTaken(_) => ApiError::Taken {
                field: "audience".into(),
                message: error.to_string(),
            },
            // Busy: the write did not happen; like a conflict, read and retry.
            StoreError::Stale(_)
            | StoreError::TenantExists(_)
            | StoreError::Duplicate(_)
            | StoreError::Busy(_) => ApiError::Conflict(error.to_string()),
            StoreError::Database(_) | StoreError::Json(_) | StoreError::Interrupted(_) => {
                ApiError::Internal(error.into())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(error) = &self {
            tracing::error!(error = %format!("{error:#}"), "internal error");
        }
        let mut body = json!({"code": code, "message": self.to_string()});
        if let ApiError::Invalid {
            field: Some(field), ..
        }
        | ApiError::Taken { field, .. } = &self
        {
            body["field"] = json!(field);
        }
        let mut response = (status, Json(json!({ "error": body }))).into_response();
        if matches!(self, ApiError::Unauthenticated) {
            response.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
