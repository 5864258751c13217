//! CORS for the token endpoint: which page may read a token response.
//!
//! The server's own origin, or a shop origin of the tenant whose client is
//! calling; a preflight, which cannot name the client, is answered for any
//! tenant's shop origin. Every answer varies by `Origin`.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use crate::AppState;
use crate::store::TenantRecord;

/// The CORS origin to echo on a token response: the server's own, or a shop
/// origin of the tenant whose client is calling, so that one tenant's page
/// cannot read tokens of another tenant's client.
pub(super) async fn allowed_origin(
    state: &AppState,
    headers: &HeaderMap,
    client_id: Option<&str>,
) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    if origin == state.public_url() {
        return HeaderValue::from_str(origin).ok();
    }
    let tenant = state.tenant(client_id?).await.ok()?;
    if allows_origin(&tenant, origin) {
        return HeaderValue::from_str(origin).ok();
    }
    None
}

/// Whether `origin` is one of the tenant's shop origins.
fn allows_origin(tenant: &TenantRecord, origin: &str) -> bool {
    tenant
        .config
        .value
        .allowed_origins
        .iter()
        .any(|allowed| allowed == origin)
}

/// The CORS origin to echo on a preflight. A preflight has no body, so it
/// cannot name the client: any tenant's shop origin may send (a form POST
/// needs no preflight anyway), and only the response, checked against the
/// client's own tenant, decides whether the page may read it.
pub(super) async fn preflight_origin(state: &AppState, headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    if origin == state.public_url() {
        return HeaderValue::from_str(origin).ok();
    }
    for slug in state.store().tenant_slugs().await.ok()? {
        let tenant = state.store().tenant(&slug).await.ok()??;
        if allows_origin(&tenant, origin) {
            return HeaderValue::from_str(origin).ok();
        }
    }
    None
}

pub(super) fn with_cors(mut response: Response, origin: Option<HeaderValue>) -> Response {
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    // The answer depends on the origin whether or not it was allowed.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("origin"));
    response
}
