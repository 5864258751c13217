//! Every failure of the server, and the response it becomes.
//!
//! Handlers return `Result<_, ApiError>`; `IntoResponse` turns an error into a
//! JSON body `{"error": {"code": ..., "message": ..., "field": ...}}` with the
//! right status. Messages explain what to fix and never echo secrets; internal
//! errors are logged with detail and answered with a generic message.
//!
//! Lower layers return errors of their own ([`ValidationError`],
//! [`TextsError`], [`StoreError`]) and name no HTTP status; the `From`
//! conversions here decide what each becomes, as in axum's error-handling
//! example.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n::TextsError;
use crate::store::StoreError;
use crate::validation::ValidationError;

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
    /// The request body is not of a type the endpoint reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The request took longer than the server allows.
    #[error("the request took too long; try again")]
    Timeout,
    /// The path exists, the method does not.
    #[error("this endpoint does not answer this method")]
    MethodNotAllowed,
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
            ApiError::Conflict(_) | ApiError::Taken { .. } => (StatusCode::CONFLICT, "conflict"),
            ApiError::PreconditionRequired => {
                (StatusCode::PRECONDITION_REQUIRED, "precondition_required")
            }
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Timeout => (StatusCode::REQUEST_TIMEOUT, "timeout"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        ApiError::Invalid {
            field: error.field,
            message: error.message,
        }
    }
}

impl ApiError {
    /// The same error; an invalid field is named inside `parent`.
    pub fn within(self, parent: &str) -> Self {
        match self {
            ApiError::Invalid { field, message } => ApiError::Invalid {
                field: Some(match field {
                    Some(field) => format!("{parent}.{field}"),
                    None => parent.to_owned(),
                }),
                message,
            },
            other => other,
        }
    }
}

impl From<TextsError> for ApiError {
    fn from(error: TextsError) -> Self {
        match error {
            TextsError::Invalid(invalid) => invalid.into(),
            TextsError::BrokenCatalog(why) => ApiError::Internal(anyhow::anyhow!(why)),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(message) => ApiError::NotFound(message),
            StoreError::MissingFont { .. } => ApiError::invalid("font", error.to_string()),
            StoreError::AudienceTaken(_) => ApiError::Taken {
                field: "audience".into(),
                message: error.to_string(),
            },
            // Busy: the write did not happen; like a conflict, read and retry.
            StoreError::Stale(_)
            | StoreError::DesignMoved { .. }
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
        let field = match &self {
            ApiError::Invalid { field, .. } => field.clone(),
            ApiError::Taken { field, .. } => Some(field.clone()),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message: self.to_string(),
                field,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if matches!(self, ApiError::Unauthenticated) {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// Every error response's body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, for people and programs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code (`invalid_request`, `not_found`, `unauthenticated`, ...).
    pub code: String,
    /// What is wrong and what to do, in English.
    pub message: String,
    /// The offending input, for `invalid_request` when known (a JSON path
    /// such as `theme.light.primary`, or `query`, `path`, `body`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Documents [`ErrorBody`] on every operation's error responses, and the
/// errors any admin request may get (bad path or query, no or wrong token,
/// another tenant, unknown tenant, body too large, timeout, internal).
pub struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::PartialSchema as _;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, schema) in [
            ("ErrorBody", ErrorBody::schema()),
            ("ErrorDetail", ErrorDetail::schema()),
        ] {
            components.schemas.insert(name.to_owned(), schema);
        }
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        let common = [
            ("400", "The request is invalid"),
            ("401", "No valid admin token"),
            ("403", "The token does not manage this tenant"),
            ("404", "No such tenant"),
            ("408", "The request took too long"),
            ("413", "The request body is too large"),
            ("500", "Internal error"),
        ];
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                for (status, description) in common {
                    responses.insert(status.to_owned(), error(description).into());
                }
                for (status, response) in responses.iter_mut() {
                    if status.as_str() >= "400" {
                        let description = match response {
                            utoipa::openapi::RefOr::T(response)
                                if !response.description.is_empty() =>
                            {
                                response.description.clone()
                            }
                            _ => "Error".to_owned(),
                        };
                        *response = error(&description).into();
                    }
                }
            }
        }
    }
}
