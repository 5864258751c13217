//! Who is signed in to the console: login links, the session cookie, the
//! timeouts and the CSRF check.
//!
//! A session is a random secret in a cookie (`HttpOnly`, `SameSite=Strict`,
//! `Path=/console`, `Secure` unless the server is on loopback); the store
//! keeps its SHA-256. It ends after [`IDLE_TIMEOUT`] without use or
//! [`ABSOLUTE_TIMEOUT`] after sign-in. Every state-changing form carries
//! the session's CSRF token, and a POST whose `Origin` is not ours is
//! refused before anything else.
//!
//! A session carries roles: `owner` (every tenant, tenants' creation and
//! deletion, admin tokens, the whole audit log), or per tenant
//! `editor:<slug>` (view and edit that tenant) and `viewer:<slug>` (view
//! it), space-separated. A login link signs in an owner.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest as _, Sha256};

use crate::AppState;
use crate::error::ApiError;
use crate::store::{ConsoleSession, NewConsoleSession, Store, now};
use crate::urls::Origin;

/// The session cookie's name.
pub const COOKIE: &str = "tessera_console";

/// The cookie that remembers the console language.
pub const LANGUAGE_COOKIE: &str = "tessera_console_lang";

/// A session unused for this long has ended.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// A session ends this long after sign-in, however busy.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(12 * 60 * 60);

/// How long a login link works by default.
pub const LINK_MINUTES: u32 = 10;

/// A 256-bit secret, base64url.
fn random_text() -> Result<String, ApiError> {
    Ok(base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        crate::admin::random_bytes::<32>()?,
    ))
}

/// How the store keeps a secret the browser presents: its SHA-256.
pub(super) fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// Creates a one-time login link valid for `minutes` (1 to 60) and returns
/// its path (`/console/login?token=...`); audited as `actor`.
pub async fn create_login_link(
    store: &Store,
    actor: &str,
    minutes: u32,
) -> Result<String, ApiError> {
    if !(1..=60).contains(&minutes) {
        return Err(ApiError::invalid(
            "minutes",
            "a login link lives 1 to 60 minutes",
        ));
    }
    let secret = random_text()?;
    let expires_at = now().saturating_add(i64::from(minutes) * 60);
    store
        .create_console_link(actor, &hash(&secret), expires_at)
        .await?;
    Ok(format!("/console/login?token={secret}"))
}

/// Spends a login link and opens an owner's session for it; the new
/// cookie's value, or `None` when the link is unknown, spent or expired.
pub async fn redeem_login_link(state: &AppState, secret: &str) -> Result<Option<String>, ApiError> {
    let cookie = random_text()?;
    let csrf = random_text()?;
    let opened = state
        .store()
        .redeem_console_link(
            &hash(secret.trim()),
            &NewConsoleSession {
                id_hash: &hash(&cookie),
                csrf: &csrf,
                subject: "login-link",
                display_name: "Owner",
                role: "owner",
            },
        )
        .await?;
    Ok(opened.then_some(cookie))
}

/// The `Set-Cookie` value for a new session (or, with `None`, one that
/// removes it).
pub fn session_cookie(state: &AppState, value: Option<&str>) -> String {
    let mut cookie = cookie::Cookie::build((COOKIE, value.unwrap_or_default().to_owned()))
        .path("/console")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(!on_loopback(state));
    cookie = match value {
        Some(_) => cookie.max_age(cookie::time::Duration::seconds(seconds(ABSOLUTE_TIMEOUT))),
        None => cookie.max_age(cookie::time::Duration::ZERO),
    };
    cookie.build().to_string()
}

/// Opens a console session for an admin who signed in at the IdP; the new
/// cookie's value.
pub async fn open_session(
    state: &AppState,
    signed_in: &super::oidc::SignedIn,
) -> Result<String, ApiError> {
    let cookie = random_text()?;
    let csrf = random_text()?;
    state
        .store()
        .create_console_session(&NewConsoleSession {
            id_hash: &hash(&cookie),
            csrf: &csrf,
            subject: &signed_in.subject,
            display_name: &signed_in.display_name,
            role: &signed_in.roles,
        })
        .await?;
    Ok(cookie)
}

/// The `Set-Cookie` value binding a sign-in in flight to this browser (or,
/// with `None`, removing it). `SameSite=Lax`: it must come back with the
/// IdP's redirect, a top-level navigation from another site.
pub fn flow_cookie(state: &AppState, value: Option<&str>) -> String {
    let lifetime = match value {
        Some(_) => cookie::time::Duration::seconds(seconds(super::oidc::FLOW_LIFETIME)),
        None => cookie::time::Duration::ZERO,
    };
    cookie::Cookie::build((
        super::oidc::FLOW_COOKIE,
        value.unwrap_or_default().to_owned(),
    ))
    .path("/console/oidc")
    .http_only(true)
    .same_site(cookie::SameSite::Lax)
    .secure(!on_loopback(state))
    .max_age(lifetime)
    .build()
    .to_string()
}

/// Whether a request's `Origin`, when it has one, is this server's.
pub fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let ours = url::Url::parse(state.public_url()).map(|url| Origin::of(&url));
    let theirs = origin.to_str().ok().map(Origin::parse);
    matches!((ours, theirs), (Ok(ours), Some(Ok(theirs))) if ours == theirs)
}

/// The `Set-Cookie` value that remembers the console language.
pub fn language_cookie(state: &AppState, locale: &str) -> String {
    cookie::Cookie::build((LANGUAGE_COOKIE, locale.to_owned()))
        .path("/console")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(!on_loopback(state))
        .max_age(cookie::time::Duration::days(365))
        .build()
        .to_string()
}

/// Whether this server is reached on loopback (where browsers do not send
/// `Secure` cookies over plain http).
fn on_loopback(state: &AppState) -> bool {
    url::Url::parse(state.public_url()).is_ok_and(|url| {
        url.scheme() == "http"
            && url
                .host()
                .is_some_and(|host| crate::urls::is_loopback(&host))
    })
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

/// A signed-in console admin (an extractor): a page asked without one is
/// sent to the sign-in page.
#[derive(Debug, Clone)]
pub struct ConsoleAdmin {
    /// The stored session.
    pub session: ConsoleSession,
    id_hash: Vec<u8>,
}

/// What a console admin may do with one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Nothing: the tenant is not even listed.
    None,
    /// See its configuration, health, snippet, export and audit rows.
    View,
    /// Also change its configuration.
    Edit,
}

impl ConsoleAdmin {
    fn roles(&self) -> impl Iterator<Item = &str> {
        self.session.role.split_whitespace()
    }

    /// An owner manages every tenant, creates and deletes tenants, and
    /// manages admin tokens.
    pub fn is_owner(&self) -> bool {
        self.roles().any(|role| role == "owner")
    }

    /// What this admin may do with tenant `slug`.
    pub fn access(&self, slug: &str) -> Access {
        if self.is_owner() {
            return Access::Edit;
        }
        self.roles()
            .filter_map(|role| match role.split_once(':') {
                Some(("editor", of)) if of == slug => Some(Access::Edit),
                Some(("viewer", of)) if of == slug => Some(Access::View),
                _ => None,
            })
            .max()
            .unwrap_or(Access::None)
    }

    /// `Ok` when this admin has at least `needed` on `slug`, else the
    /// refusal the page shows (a tenant it may not see is not found).
    pub fn require(&self, slug: &str, needed: Access) -> Result<(), ApiError> {
        match self.access(slug) {
            Access::None => Err(ApiError::NotFound(format!("no tenant `{slug}`"))),
            have if have >= needed => Ok(()),
            _ => Err(ApiError::Forbidden(format!(
                "your console role lets you view tenant `{slug}`, not change it"
            ))),
        }
    }

    /// `Ok` for an owner, else the refusal the page shows.
    pub fn require_owner(&self) -> Result<(), ApiError> {
        if self.is_owner() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "only the instance's owners may do this".into(),
            ))
        }
    }

    /// The name the audit log records: display name and subject.
    pub fn actor(&self) -> String {
        format!(
            "console:{} ({})",
            self.session.subject, self.session.display_name
        )
    }

    /// Checks a form's CSRF token against the session's (in constant time).
    pub fn check_csrf(&self, presented: &str) -> Result<(), SignedOut> {
        let expected = self.session.csrf.as_bytes();
        #[allow(deprecated)]
        let equal = ring::constant_time::verify_slices_are_equal(expected, presented.as_bytes());
        equal.map_err(|_| SignedOut::Csrf)
    }

    /// Ends the session.
    pub async fn sign_out(&self, state: &AppState) -> Result<(), ApiError> {
        Ok(state.store().end_console_session(&self.id_hash).await?)
    }
}

/// Why a console request was turned away.
#[derive(Debug)]
pub enum SignedOut {
    /// No session, or it ended: sign in again.
    NoSession,
    /// A form without this session's CSRF token, or from another origin.
    Csrf,
    /// The store failed.
    Failed(ApiError),
}

impl IntoResponse for SignedOut {
    fn into_response(self) -> Response {
        match self {
            SignedOut::NoSession => Redirect::to("/console/login").into_response(),
            SignedOut::Csrf => (
                axum::http::StatusCode::FORBIDDEN,
                "This form is out of date or comes from another site: reload the page and try again.",
            )
                .into_response(),
            SignedOut::Failed(error) => error.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for ConsoleAdmin {
    type Rejection = SignedOut;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, SignedOut> {
        // A state-changing request from another origin is refused before
        // its session is even looked at (SameSite=Strict already keeps
        // the cookie off it; this holds for browsers that send Origin).
        if parts.method != axum::http::Method::GET && !same_origin(state, &parts.headers) {
            return Err(SignedOut::Csrf);
        }
        let secret = cookie_value(&parts.headers, COOKIE).ok_or(SignedOut::NoSession)?;
        let id_hash = hash(&secret);
        let at = now();
        let session = state
            .store()
            .console_session(
                &id_hash,
                at.saturating_sub(seconds(ABSOLUTE_TIMEOUT)),
                at.saturating_sub(seconds(IDLE_TIMEOUT)),
            )
            .await
            .map_err(|error| SignedOut::Failed(error.into()))?
            .ok_or(SignedOut::NoSession)?;
        Ok(ConsoleAdmin { session, id_hash })
    }
}
