//! Which origins the widget fetches from, read from an IdP's discovery
//! document, so that the snippet's `connect-src` lets exactly those through.
//!
//! The widget fetches three things from the IdP (widget/src/view.rs and
//! widget/session/src/token_endpoint.rs): the discovery document at the
//! issuer, the `token_endpoint` and the `jwks_uri`. The authorization and
//! end-session endpoints are navigations, which `connect-src` does not
//! govern, and the widget never calls `userinfo`. IdPs such as Google keep
//! the token endpoint and the key set on other hosts than the issuer, so the
//! issuer's origin alone is not enough.
//!
//! The document is fetched by this server (https only, or http on loopback;
//! no redirects; a timeout and a size limit) and the answer is kept for an
//! hour. Failures are not kept: the next request tries again.
//!
//! What it is not: a verifier of the document beyond what the CSP needs, and
//! not HTTP-facing: failures are [`DiscoveryError`]s.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::urls::{IssuerUrl, Origin, UrlError, parse_web_url};

/// How long one fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(4);
/// The largest discovery document read, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// How long a document's origins are kept.
pub const KEEP_FOR: Duration = Duration::from_secs(3600);

/// Why the discovery document could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The issuer is not a URL the server may fetch.
    #[error("the issuer is not allowed: {0}")]
    Issuer(UrlError),
    /// No answer (refused, timed out, TLS failed).
    #[error("{url} could not be fetched: {reason}")]
    Unreachable {
        /// The discovery URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// An answer other than 200 (redirects are not followed).
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The discovery URL.
        url: String,
        /// The status received.
        status: u16,
    },
    /// Larger than [`MAX_DOCUMENT_BYTES`].
    #[error("{url} is larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge {
        /// The discovery URL.
        url: String,
    },
    /// Not a JSON object with the members the widget needs.
    #[error("{url} is not a discovery document: {reason}")]
    Malformed {
        /// The discovery URL.
        url: String,
        /// What is missing or wrong.
        reason: String,
    },
}

/// The origins the widget fetches from for one issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOrigins {
    /// The issuer's origin first, then the token endpoint's and the key
    /// set's when they differ; no duplicates.
    pub origins: Vec<Origin>,
}

/// Fetches discovery documents and keeps what they say.
pub struct DiscoveryClient {
    /// `None` when no TLS backend could be set up.
    client: Option<reqwest::Client>,
    kept: Mutex<HashMap<String, (Instant, ConnectOrigins)>>,
}

impl Default for DiscoveryClient {
    fn default() -> Self {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
            .build()
            .ok();
        DiscoveryClient {
            client,
            kept: Mutex::default(),
        }
    }
}

impl DiscoveryClient {
    /// The origins the widget fetches from when it signs in at `issuer`.
    pub async fn connect_origins(
        &self,
        issuer: &IssuerUrl,
    ) -> Result<ConnectOrigins, DiscoveryError> {
        let key = issuer.as_str().to_owned();
        if let Some((at, origins)) = self
            .kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            && at.elapsed() < KEEP_FOR
        {
            return Ok(origins.clone());
        }
        let origins = self.fetch(issuer).await?;
        self.kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, (Instant::now(), origins.clone()));
        Ok(origins)
    }

    async fn fetch(&self, issuer: &IssuerUrl) -> Result<ConnectOrigins, DiscoveryError> {
        let url = issuer.discovery_url();
        let shown = url.to_string();
        let unreachable = |error: reqwest::Error| DiscoveryError::Unreachable {
            url: shown.clone(),
            reason: without_url(&error),
        };
        let client = self
            .client
            .as_ref()
            .ok_or_else(|| DiscoveryError::Unreachable {
                url: shown.clone(),
                reason: "the HTTP client could not be set up".to_owned(),
            })?;
        let mut response = client
            .get(url.clone())
            .header(axum::http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(unreachable)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(DiscoveryError::Status {
                url: shown,
                status: response.status().as_u16(),
            });
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(DiscoveryError::TooLarge { url: shown });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(DiscoveryError::TooLarge { url: shown });
            }
            body.extend_from_slice(&chunk);
        }
        origins_from_document(issuer, &body)
            .map_err(|reason| DiscoveryError::Malformed { url: shown, reason })
    }
}

/// A reqwest error's description without the URL (the caller names it).
fn without_url(error: &reqwest::Error) -> String {
    let mut reason = if error.is_timeout() {
        format!("no answer within {} s", FETCH_TIMEOUT.as_secs())
    } else if error.is_connect() {
        "the connection failed".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason = format!("{reason}: {cause}");
        source = cause.source();
    }
    reason
}

/// Reads the origins out of a discovery document's bytes.
pub fn origins_from_document(issuer: &IssuerUrl, body: &[u8]) -> Result<ConnectOrigins, String> {
    let document: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| "it is not JSON".to_owned())?;
    let member = |name: &str| {
        document
            .get(name)
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| format!("`{name}` is missing"))
    };
    // The widget refuses a document that names another issuer (OpenID
    // Connect Discovery 1.0, section 4.3); so does the CSP.
    if member("issuer")? != issuer.as_str() {
        return Err("its `issuer` is not the tenant's issuer".to_owned());
    }
    let mut origins = vec![issuer.origin()];
    for name in ["token_endpoint", "jwks_uri"] {
        let url = parse_web_url(member(name)?)
            .map_err(|why| format!("its `{name}` is not allowed: {why}"))?;
        let origin = Origin::of(&url);
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(ConnectOrigins { origins })
}
