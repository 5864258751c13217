//! The request extractors every handler uses: axum's `Path`, `Query` and
//! `Form`, whose rejections answer the server's JSON error ([`ApiError`])
//! instead of axum's plain text.
//!
//! Each wrapper has the same shape as axum's (`Query(value)`), so a handler
//! switches by importing it from here. They work in any router whose state
//! holds the [`AppState`] (`AppState: FromRef<S>`), such as the development
//! issuer's. The token endpoint of the
//! development issuer answers OAuth's own error shape instead
//! (`{"error": "invalid_request", "error_description": ...}`, RFC 6749 5.2),
//! through [`OAuthForm`].

use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// The longest part of axum's rejection text kept in a message (it may quote
/// what the client sent).
const MAX_DETAIL: usize = 200;

fn shortened(text: &str) -> String {
    let short: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_DETAIL)
        .collect();
    if short.len() < text.len() {
        format!("{short}...")
    } else {
        short
    }
}

/// A rejection's status and text as an [`ApiError`] about `field`.
fn rejected<S>(state: &S, field: &str, status: StatusCode, text: &str) -> ApiError
where
    AppState: FromRef<S>,
{
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge(AppState::from_ref(state).body_limit())
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(shortened(text)),
        status if status.is_server_error() => {
            ApiError::Internal(anyhow::anyhow!("extractor failed: {text}"))
        }
        _ => ApiError::invalid(field, shortened(text)),
    }
}

/// The URL path's parameters, or 400 with the JSON error.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection: PathRejection| {
                rejected(state, "path", rejection.status(), &rejection.body_text())
            })
    }
}

/// The query string, or 400 with the JSON error (e.g. a parameter given
/// twice).
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection: QueryRejection| {
                rejected(state, "query", rejection.status(), &rejection.body_text())
            })
    }
}

/// An `application/x-www-form-urlencoded` body, or the JSON error (400, 413
/// or 415).
#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        axum::extract::Form::<T>::from_request(request, state)
            .await
            .map(|axum::extract::Form(value)| Form(value))
            .map_err(|rejection: FormRejection| form_rejected(state, &rejection))
    }
}

fn form_rejected<S>(state: &S, rejection: &FormRejection) -> ApiError
where
    AppState: FromRef<S>,
{
    // axum answers 422 for a body that does not fit the fields; to clients
    // that is a bad request like any other.
    let status = match rejection.status() {
        StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
        status => status,
    };
    rejected(state, "body", status, &rejection.body_text())
}

/// A form body for an OAuth endpoint: a rejection answers OAuth's error
/// shape (`invalid_request`, RFC 6749 5.2), `Cache-Control: no-store`.
#[derive(Debug, Clone, Copy, Default)]
pub struct OAuthForm<T>(pub T);

/// A form an OAuth endpoint could not read, answered in OAuth's shape.
#[derive(Debug)]
pub struct OAuthRejection(ApiError);

impl IntoResponse for OAuthRejection {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let mut response = (
            status,
            axum::Json(serde_json::json!({
                "error": "invalid_request",
                "error_description": self.0.to_string(),
            })),
        )
            .into_response();
        response.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        response
    }
}

impl<T, S> FromRequest<S> for OAuthForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = OAuthRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, OAuthRejection> {
        axum::extract::Form::<T>::from_request(request, state)
            .await
            .map(|axum::extract::Form(value)| OAuthForm(value))
            .map_err(|rejection| OAuthRejection(form_rejected(state, &rejection)))
    }
}
