//! Every way the development issuer refuses or fails a request, and the
//! answer each one gets.
//!
//! The issuer answers in the shapes its protocols fix, not the admin API's
//! JSON error: OAuth's `{"error", "error_description"}` (RFC 6749 5.2) from
//! the token endpoint and for consent limits, a redirect back to the client
//! once its redirect URI is trusted (RFC 6749 4.1.2.1), and a page for the
//! user before that. Only a broken random source or signer becomes an
//! [`ApiError`] (500, details in the log).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{RandomUnavailable, pages, redirect_with};
use crate::error::ApiError;
use crate::store::CodesFull;

/// A refused or failed request to the development issuer.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// A request that cannot go back to the client, because its client or
    /// redirect URI is not checked yet (or it is a sign-out): shown to the
    /// user on an error page (400), never sent to an unchecked URI.
    #[error("{0}")]
    ShownToUser(String),
    /// An authorization request refused after its redirect URI was checked:
    /// the error goes back to the client (RFC 6749 4.1.2.1), with `state`.
    #[error("{description}")]
    BackToClient {
        /// The client's registered redirect URI.
        redirect_uri: String,
        /// The OAuth error code.
        error: &'static str,
        /// What is wrong.
        description: &'static str,
        /// The client's `state`, returned as given.
        state: Option<String>,
    },
    /// A token request whose code or refresh token does not check out.
    #[error("{0}")]
    InvalidGrant(String),
    /// A token request for a grant the issuer does not offer.
    #[error("the grant_type is authorization_code or refresh_token")]
    UnsupportedGrantType,
    /// A client address over its per-minute limit: 429, retry in a minute.
    #[error("{0}")]
    SlowDown(&'static str),
    /// Too many codes wait for redemption: 503 until the oldest expires.
    #[error(transparent)]
    CodesFull(#[from] CodesFull),
    /// The system's random source failed.
    #[error(transparent)]
    Random(#[from] RandomUnavailable),
    /// A token could not be signed.
    #[error("cannot sign a token: {0}")]
    Signing(#[source] jsonwebtoken::errors::Error),
    /// The database that keeps codes and sessions failed (or is busy).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// OAuth's error answer (RFC 6749 5.2), never cached.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl IntoResponse for IssuerError {
    fn into_response(self) -> Response {
        let description = self.to_string();
        match self {
            IssuerError::ShownToUser(message) => (
                StatusCode::BAD_REQUEST,
                axum::response::Html(pages::error_page(&message)),
            )
                .into_response(),
            IssuerError::BackToClient {
                redirect_uri,
                error,
                description,
                state,
            } => {
                let mut parameters = vec![("error", error), ("error_description", description)];
                if let Some(state) = state.as_deref() {
                    parameters.push(("state", state));
                }
                redirect_with(&redirect_uri, &parameters)
            }
            IssuerError::InvalidGrant(_) => {
                oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", &description)
            }
            IssuerError::UnsupportedGrantType => oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &description,
            ),
            IssuerError::SlowDown(_) => {
                let mut response =
                    oauth_error(StatusCode::TOO_MANY_REQUESTS, "slow_down", &description);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
                response
            }
            IssuerError::CodesFull(full) => {
                let mut response = oauth_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    &description,
                );
                let seconds = full.retry_after_seconds.max(1);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                response
            }
            IssuerError::Random(error) => ApiError::Internal(error.into()).into_response(),
            IssuerError::Store(error) => ApiError::from(error).into_response(),
            IssuerError::Signing(error) => {
                ApiError::Internal(anyhow::anyhow!("cannot sign a token: {error}")).into_response()
            }
        }
    }
}
