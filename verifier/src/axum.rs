//! An axum/tower [`PassportLayer`] that admits only requests with a valid
//! bearer passport, and the [`Passport`] extractor for handlers behind it.
//!
//! Failures answer `401 Unauthorized` with `WWW-Authenticate: Bearer
//! error="invalid_token"` (RFC 6750 section 3.1), or a bare `Bearer`
//! challenge when no token was sent, and no other detail: the reason a token
//! failed is for the server's operators, not for whoever sent it. When the
//! keys themselves cannot be had (the issuer is down or answers too slowly
//! and no usable cached set remains), nothing is known about the token: the
//! layer answers `503 Service Unavailable` with `Retry-After`, never 401, so
//! that clients keep the session and retry. The layer never logs tokens or
//! claims.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::header::{AUTHORIZATION, CACHE_CONTROL, RETRY_AFTER, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{HeaderValue, Request, StatusCode};

use crate::error::VerifyError;
use crate::verifier::Passport;

/// Anything that can turn a bearer token into a [`Passport`].
pub trait TokenVerifier: Send + Sync + 'static {
    /// Verifies `token`.
    fn verify_token<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Passport, VerifyError>> + Send + 'a>>;
}

#[cfg(feature = "ring")]
impl TokenVerifier for crate::Verifier {
    fn verify_token<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Passport, VerifyError>> + Send + 'a>> {
        Box::pin(std::future::ready(self.verify(token)))
    }
}

#[cfg(feature = "remote")]
impl TokenVerifier for crate::remote::RemoteVerifier {
    fn verify_token<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Passport, VerifyError>> + Send + 'a>> {
        Box::pin(self.verify(token))
    }
}

/// Verifies the `Authorization: Bearer` token of every request and stores the
/// [`Passport`] in the request's extensions.
#[derive(Clone)]
pub struct PassportLayer {
    verifier: Arc<dyn TokenVerifier>,
    retry_after_seconds: u32,
}

/// The `Retry-After` a 503 carries by default: the key cache's default
/// cooldown, after which a failed fetch is tried again.
pub const DEFAULT_RETRY_AFTER_SECONDS: u32 = 30;

impl PassportLayer {
    /// A layer that verifies with `verifier`.
    pub fn new(verifier: Arc<dyn TokenVerifier>) -> Self {
        PassportLayer {
            verifier,
            retry_after_seconds: DEFAULT_RETRY_AFTER_SECONDS,
        }
    }

    /// The `Retry-After` seconds of the 503 answered while keys are
    /// unavailable (default [`DEFAULT_RETRY_AFTER_SECONDS`]).
    pub fn retry_after_seconds(mut self, seconds: u32) -> Self {
        self.retry_after_seconds = seconds;
        self
    }
}

impl<S> tower::Layer<S> for PassportLayer {
    type Service = PassportService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        PassportService {
            inner,
            verifier: Arc::clone(&self.verifier),
            retry_after_seconds: self.retry_after_seconds,
        }
    }
}

/// The service [`PassportLayer`] wraps around a handler.
#[derive(Clone)]
pub struct PassportService<S> {
    inner: S,
    verifier: Arc<dyn TokenVerifier>,
    retry_after_seconds: u32,
}

impl<S, B> tower::Service<Request<B>> for PassportService<S>
where
    S: tower::Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone that was polled ready is the one that must be called.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let verifier = Arc::clone(&self.verifier);
        let retry_after_seconds = self.retry_after_seconds;
        Box::pin(async move {
            let token = match bearer_token(request.headers()) {
                Ok(token) => token,
                Err(rejection) => return Ok(rejection.into_response()),
            };
            match verifier.verify_token(&token).await {
                Ok(passport) => {
                    request.extensions_mut().insert(passport);
                    inner.call(request).await
                }
                Err(error) if error.is_key_source_failure() => Ok(KeysUnavailable {
                    retry_after_seconds,
                }
                .into_response()),
                Err(_) => Ok(Unauthorized::InvalidToken.into_response()),
            }
        })
    }
}

/// Why a request was turned away with 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unauthorized {
    /// No bearer token was sent.
    MissingToken,
    /// A token was sent and did not verify (or the header was malformed).
    InvalidToken,
}

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        let challenge = match self {
            Unauthorized::MissingToken => "Bearer",
            Unauthorized::InvalidToken => "Bearer error=\"invalid_token\"",
        };
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        let headers = response.headers_mut();
        headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// The answer while the keys cannot be had: `503 Service Unavailable` with
/// `Retry-After`, and no other detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeysUnavailable {
    /// Seconds after which the client may retry.
    pub retry_after_seconds: u32,
}

impl IntoResponse for KeysUnavailable {
    fn into_response(self) -> Response {
        let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
        let headers = response.headers_mut();
        headers.insert(RETRY_AFTER, HeaderValue::from(self.retry_after_seconds));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

fn bearer_token(headers: &http::HeaderMap) -> Result<String, Unauthorized> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(if headers.contains_key(AUTHORIZATION) {
            Unauthorized::InvalidToken
        } else {
            Unauthorized::MissingToken
        });
    };
    let text = value.to_str().map_err(|_| Unauthorized::InvalidToken)?;
    let (scheme, token) = text.split_once(' ').ok_or(Unauthorized::InvalidToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(Unauthorized::InvalidToken);
    }
    Ok(token.to_owned())
}

impl<S: Send + Sync> FromRequestParts<S> for Passport {
    type Rejection = Unauthorized;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Only PassportLayer puts a Passport here, after verifying it.
        parts
            .extensions
            .get::<Passport>()
            .cloned()
            .ok_or(Unauthorized::MissingToken)
    }
}
