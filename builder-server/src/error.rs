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
    /// A conditional write came without `If-Match`.
    #[error("send If-Match with the ETag you read, so that no update is lost")]
    PreconditionRequired,
    /// The request body is not of a type the endpoint reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
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

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::PreconditionRequired => {
                (StatusCode::PRECONDITION_REQUIRED, "precondition_required")
            }
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::Internal(error.into())
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
        } = &self
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
