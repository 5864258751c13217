//! HTTP helpers the public documents, the widget assets and the admin API
//! share: strong ETags and conditional `GET` answers (`304 Not Modified`).
//!
//! What it is not: a cache. Callers keep what they render (see
//! `public::RenderedDocuments`); these functions only answer a request for
//! a body they are given.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// A strong ETag over a body.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", &hex(&digest)[..32])
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// [`etag_of`] as a header value.
pub(crate) fn strong_etag(body: &[u8]) -> HeaderValue {
    HeaderValue::from_str(&etag_of(body)).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// Answers 304 when `If-None-Match` already names the body's ETag, otherwise
/// the body with the ETag and cache policy.
pub fn conditional_response(
    request_headers: &HeaderMap,
    content_type: &'static str,
    cache_control: &'static str,
    body: Vec<u8>,
) -> Response {
    let etag = strong_etag(&body);
    conditional_response_with_etag(
        request_headers,
        content_type,
        cache_control,
        body.into(),
        etag,
    )
}

/// Like [`conditional_response`], with the ETag already known.
pub(crate) fn conditional_response_with_etag(
    request_headers: &HeaderMap,
    content_type: &'static str,
    cache_control: &'static str,
    body: axum::body::Bytes,
    etag: HeaderValue,
) -> Response {
    let matches = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|tag| tag.trim().as_bytes() == etag.as_bytes() || tag.trim() == "*")
        });
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    // Shops on any origin load these from their pages.
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// Unix seconds as an RFC 3339 UTC time (`2026-01-15T10:21:33Z`); a time
/// out of range is written as the epoch.
pub fn rfc3339(seconds: i64) -> String {
    let time = time::OffsetDateTime::from_unix_timestamp(seconds)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}
