//! Where keys may be fetched from: the one rule for key locations, OpenID
//! discovery URLs and the `jwks_uri` a discovery document names.
//!
//! Every surface that fetches keys (the native [`crate::remote`] adapter and
//! the WASM package's `fetch` adapter) calls these functions, so a URL that
//! one refuses the other refuses too. URLs are parsed with the `url` crate
//! (WHATWG URL parsing, the same as browsers'), never compared by text
//! prefix: `http://127.evil.example` is a domain name, not a loopback
//! address, and `http://127.0.0.1@evil.example` is `evil.example` with a
//! user name.
//!
//! What it is not: a fetcher. Nothing here performs I/O; the adapters fetch
//! the URLs these functions return.

use serde_json::Value;
use url::{Host, Url};

use crate::error::VerifyError;

/// The path OpenID Connect Discovery 1.0 section 4 appends to the issuer.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// Where the key set is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLocation {
    /// Discover `jwks_uri` from `{issuer}/.well-known/openid-configuration`.
    Discovery {
        /// The issuer URL; the discovery document must name exactly this issuer.
        issuer: String,
    },
    /// Fetch the JWKS from this URL directly.
    JwksUri(String),
}

impl KeyLocation {
    /// The first URL to fetch: the discovery document's for
    /// [`KeyLocation::Discovery`], the key set's for [`KeyLocation::JwksUri`].
    /// Refuses a location the fetchers must not use (see [`key_url`]).
    pub fn first_url(&self, transport: Transport) -> Result<Url, VerifyError> {
        match self {
            KeyLocation::Discovery { issuer } => discovery_url(issuer, transport),
            KeyLocation::JwksUri(uri) => key_url(uri, transport),
        }
    }
}

/// Whether plain `http://` may be used for hosts other than loopback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// `https://` everywhere; plain `http://` only to a loopback address
    /// (`localhost`, `127.0.0.0/8`, `[::1]`). The default.
    #[default]
    HttpsOrLoopback,
    /// Plain `http://` to any host. Keys fetched without TLS can be replaced
    /// by anyone on the path.
    DangerousAllowHttp,
}

fn invalid(reason: &str) -> VerifyError {
    VerifyError::InvalidConfiguration {
        reason: reason.to_owned(),
    }
}

/// Parses `text` as a URL that keys (or a discovery document) may be fetched
/// from: `https`, or `http` to a loopback host (any host with
/// [`Transport::DangerousAllowHttp`]); no user name or password; no
/// fragment.
pub fn key_url(text: &str, transport: Transport) -> Result<Url, VerifyError> {
    let url = Url::parse(text).map_err(|_| invalid("the key location is not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "the key location must not carry a user name or password",
        ));
    }
    if url.fragment().is_some() {
        return Err(invalid("the key location must not have a fragment"));
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if transport == Transport::DangerousAllowHttp || is_loopback(&url) => Ok(url),
        "http" => Err(invalid(
            "plain http is only allowed for loopback hosts (localhost, 127.0.0.0/8, [::1]); see dangerous_allow_http",
        )),
        _ => Err(invalid("the key location must be an https URL")),
    }
}

/// Whether the URL's host is a loopback address: the name `localhost`
/// exactly, an IPv4 address in `127.0.0.0/8`, or the IPv6 address `::1`.
/// A domain name that merely starts with `127.` or `localhost.` is not.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain == "localhost",
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

/// The discovery document's URL for `issuer` (OpenID Connect Discovery 1.0
/// section 4.1: the issuer with any trailing `/` removed, then
/// `/.well-known/openid-configuration`). The issuer must be a key location
/// (see [`key_url`]) with no query (section 3: "no query or fragment
/// components").
pub fn discovery_url(issuer: &str, transport: Transport) -> Result<Url, VerifyError> {
    let parsed = key_url(issuer, transport)?;
    if parsed.query().is_some() {
        return Err(invalid("the issuer must not have a query"));
    }
    let mut url = parsed;
    let path = format!("{}{DISCOVERY_PATH}", url.path().trim_end_matches('/'));
    url.set_path(&path);
    Ok(url)
}

/// The `jwks_uri` of a discovery document fetched for `issuer`, from the
/// document's bytes: the document is read strictly (no repeated members), it
/// must name exactly that issuer (section 4.3), and its `jwks_uri` must be a
/// key location under the same [`Transport`] rule. Failures are
/// `ERR_JWKS_UNAVAILABLE`: the configuration was fine, the issuer's answer
/// is not.
pub fn jwks_uri_from_discovery(
    document: &[u8],
    issuer: &str,
    transport: Transport,
) -> Result<Url, VerifyError> {
    let unavailable = |reason: &str| VerifyError::KeySetUnavailable {
        reason: reason.to_owned(),
    };
    let document = crate::compact::parse_strict(document).map_err(|problem| {
        VerifyError::KeySetUnavailable {
            reason: problem.describe("discovery document"),
        }
    })?;
    if document.get("issuer").and_then(Value::as_str) != Some(issuer) {
        return Err(unavailable(
            "the discovery document names a different issuer",
        ));
    }
    let jwks_uri = document
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| unavailable("the discovery document has no jwks_uri"))?;
    key_url(jwks_uri, transport)
        .map_err(|_| unavailable("the discovery document's jwks_uri is not an allowed URL"))
}

/// Whether the answer to a fetch of `requested` may be used when it came
/// from `answered` after redirects: never from `https` down to plain `http`,
/// and only from a URL [`key_url`] accepts. The native fetcher applies it to
/// each redirect before following it; a host's `fetch` follows redirects
/// itself, so the WASM package applies it to the final URL and refuses the
/// answer.
pub fn may_redirect(requested: &Url, answered: &Url, transport: Transport) -> bool {
    if requested.scheme() == "https" && answered.scheme() != "https" {
        return false;
    }
    key_url(answered.as_str(), transport).is_ok()
}
