//! Where keys may be fetched from: the one rule for key locations, OpenID
//! discovery URLs and the `jwks_uri` a discovery document names.
//!
//! Every surface that fetches keys (the native [`crate::remote`] adapter and
//! the WASM package's `fetch` adapter) calls these functions, so a URL that
//! one refuses the other refuses too. URLs are split by a WHATWG URL parser
//! ([`WebUrl`]: the `url` crate natively, the runtime's own `URL` in the npm
//! package, which spares the package the `url` crate's size), never compared
//! by text prefix: `http://127.evil.example` is a domain name, not a
//! loopback address, and `http://127.0.0.1@evil.example` is `evil.example`
//! with a user name. The shared cases (`key_locations` in
//! `verifier/tests/cases.json`) hold both parsers to the same verdicts.
//!
//! What it is not: a fetcher or a parser. Nothing here performs I/O; the
//! adapters fetch the URLs these functions return.

use std::net::Ipv4Addr;

use crate::compact::{Keep, Raw, Wanted};
use crate::error::VerifyError;

/// The path OpenID Connect Discovery 1.0 section 4 appends to the issuer.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// A URL as a WHATWG URL parser splits it (the URL Standard, which the `url`
/// crate and every JavaScript runtime's `URL` implement).
pub trait WebUrl: Sized {
    /// Parses `text` as an absolute URL; `None` when it is not one.
    fn parse(text: &str) -> Option<Self>;
    /// The scheme, lowercase, without the `:`.
    fn scheme(&self) -> String;
    /// Whether the URL carries a user name or a password.
    fn has_credentials(&self) -> bool;
    /// The host as the standard serializes it: a lowercase ASCII domain, an
    /// IPv4 address in dotted decimal, or an IPv6 address in brackets;
    /// empty when there is none.
    fn host(&self) -> String;
    /// Whether the URL has a non-empty query.
    fn has_query(&self) -> bool;
    /// Whether the URL has a non-empty fragment.
    fn has_fragment(&self) -> bool;
    /// The path.
    fn path(&self) -> String;
    /// Replaces the path.
    fn set_path(&mut self, path: &str);
    /// The whole URL, serialized.
    fn href(&self) -> String;
}

#[cfg(feature = "url")]
impl WebUrl for url::Url {
    fn parse(text: &str) -> Option<Self> {
        url::Url::parse(text).ok()
    }
    fn scheme(&self) -> String {
        url::Url::scheme(self).to_owned()
    }
    fn has_credentials(&self) -> bool {
        !self.username().is_empty() || self.password().is_some()
    }
    fn host(&self) -> String {
        match url::Url::host(self) {
            Some(url::Host::Domain(domain)) => domain.to_owned(),
            Some(url::Host::Ipv4(address)) => address.to_string(),
            Some(url::Host::Ipv6(address)) => format!("[{address}]"),
            None => String::new(),
        }
    }
    fn has_query(&self) -> bool {
        self.query().is_some_and(|query| !query.is_empty())
    }
    fn has_fragment(&self) -> bool {
        self.fragment().is_some_and(|fragment| !fragment.is_empty())
    }
    fn path(&self) -> String {
        url::Url::path(self).to_owned()
    }
    fn set_path(&mut self, path: &str) {
        url::Url::set_path(self, path);
    }
    fn href(&self) -> String {
        self.as_str().to_owned()
    }
}

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
    pub fn first_url<U: WebUrl>(&self, transport: Transport) -> Result<U, VerifyError> {
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
pub fn key_url<U: WebUrl>(text: &str, transport: Transport) -> Result<U, VerifyError> {
    let url = U::parse(text).ok_or_else(|| invalid("the key location is not a URL"))?;
    if url.has_credentials() {
        return Err(invalid(
            "the key location must not carry a user name or password",
        ));
    }
    if url.has_fragment() {
        return Err(invalid("the key location must not have a fragment"));
    }
    match url.scheme().as_str() {
        "https" if !url.host().is_empty() => Ok(url),
        "http" if transport == Transport::DangerousAllowHttp || is_loopback(&url) => Ok(url),
        "http" => Err(invalid(
            "plain http is only allowed for loopback hosts (localhost, 127.0.0.0/8, [::1]); see dangerous_allow_http",
        )),
        _ => Err(invalid("the key location must be an https URL")),
    }
}

/// Whether the URL's host is a loopback address: the name `localhost`
/// exactly, an IPv4 address in `127.0.0.0/8`, or the IPv6 address `::1`.
/// A domain name that merely starts with `127.` or `localhost.` is not: the
/// host is read as the parser serialized it, and only an address that
/// parses as one counts.
pub fn is_loopback<U: WebUrl>(url: &U) -> bool {
    let host = url.host();
    // `::1` is the one IPv6 loopback address, and the standard serializes
    // every IPv6 address in one shortest form (`[0:0::1]` is `[::1]`), so
    // the serialized host is compared rather than parsed again (which would
    // bring an IPv6 parser into the npm package).
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<Ipv4Addr>()
            .is_ok_and(|address| address.is_loopback())
}

/// The discovery document's URL for `issuer` (OpenID Connect Discovery 1.0
/// section 4.1: the issuer with any trailing `/` removed, then
/// `/.well-known/openid-configuration`). The issuer must be a key location
/// (see [`key_url`]) with no query (section 3: "no query or fragment
/// components").
pub fn discovery_url<U: WebUrl>(issuer: &str, transport: Transport) -> Result<U, VerifyError> {
    let mut url: U = key_url(issuer, transport)?;
    if url.has_query() {
        return Err(invalid("the issuer must not have a query"));
    }
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
pub fn jwks_uri_from_discovery<U: WebUrl>(
    document: &[u8],
    issuer: &str,
    transport: Transport,
) -> Result<U, VerifyError> {
    let unavailable = |reason: &str| VerifyError::KeySetUnavailable {
        reason: reason.to_owned(),
    };
    const READ: Wanted = &[("issuer", Keep::Value), ("jwks_uri", Keep::Value)];
    let document = crate::compact::read_document(document, READ).map_err(|problem| {
        VerifyError::KeySetUnavailable {
            reason: problem.describe("discovery document"),
        }
    })?;
    let text = |name: &str| match document.as_ref()?.get(name)? {
        Raw::Str(text) => Some(text.as_ref()),
        _ => None,
    };
    if text("issuer") != Some(issuer) {
        return Err(unavailable(
            "the discovery document names a different issuer",
        ));
    }
    let jwks_uri =
        text("jwks_uri").ok_or_else(|| unavailable("the discovery document has no jwks_uri"))?;
    key_url(jwks_uri, transport)
        .map_err(|_| unavailable("the discovery document's jwks_uri is not an allowed URL"))
}

/// Checks the `jwks_uri` a snapshot recorded before a verifier adopts it:
/// it is a key location like any other, so it is refused before it could
/// ever be requested.
pub fn snapshot_jwks_uri<U: WebUrl>(text: &str, transport: Transport) -> Result<U, VerifyError> {
    key_url(text, transport).map_err(|error| {
        let reason = match error {
            VerifyError::InvalidConfiguration { reason } => reason,
            other => other.to_string(),
        };
        invalid(&format!("the snapshot's jwks_uri is refused: {reason}"))
    })
}

/// Whether the answer to a fetch of `requested` may be used when it came
/// from `answered` after redirects: never from `https` down to plain `http`,
/// and only from a URL [`key_url`] accepts. The native fetcher applies it to
/// each redirect before following it; a host's `fetch` follows redirects
/// itself, so the WASM package applies it to the final URL and refuses the
/// answer.
pub fn may_redirect<U: WebUrl>(requested: &U, answered: &U, transport: Transport) -> bool {
    if requested.scheme() == "https" && answered.scheme() != "https" {
        return false;
    }
    key_url::<U>(&answered.href(), transport).is_ok()
}
