//! URLs and origins a tenant configures: one parser and one loopback rule.
//!
//! Every URL the server accepts (a tenant's issuer, redirect URIs and allowed
//! origins, the server's own `public_url`, endpoints read from an IdP's
//! discovery document) is parsed here with the `url` crate (the WHATWG URL
//! Standard, as browsers parse it), never by text prefix. Plain `http` is
//! allowed only on loopback: the host `localhost` exactly, an IPv4 address in
//! 127.0.0.0/8, or `[::1]`. A host name that merely starts with `127.` or
//! `localhost.` is a name anyone can register, so it is not loopback.
//!
//! What it is not: HTTP. Failures are [`UrlError`]s; the caller names the
//! field and turns them into a response.

use std::fmt;

use url::{Host, Url};

/// The longest URL accepted, in bytes.
const MAX_LENGTH: usize = 2048;

/// Why a URL or origin is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Over the length limit, or with spaces or control characters (which
    /// the URL parser would silently drop).
    #[error("it is too long or contains spaces or control characters")]
    Unreadable,
    /// Not an absolute URL.
    #[error("it is not an absolute URL ({0})")]
    NotAbsolute(url::ParseError),
    /// Neither https nor http.
    #[error("the scheme must be https")]
    Scheme,
    /// Plain http to a host that is not loopback.
    #[error("plain http is only allowed for localhost, 127.0.0.0/8 and [::1]")]
    PlainHttp,
    /// A user name or password before the host.
    #[error("user info (`name@`) is not allowed")]
    UserInfo,
    /// A `#fragment`.
    #[error("fragments are not allowed")]
    Fragment,
    /// A `?query` where none is allowed (an issuer, an origin).
    #[error("a query is not allowed here")]
    Query,
    /// An origin with a path.
    #[error("it is not an origin: drop the path (e.g. https://shop.example)")]
    NotOrigin,
}

/// Whether `host` is loopback: `localhost` exactly, an IPv4 address in
/// 127.0.0.0/8, or the IPv6 address `::1`.
pub fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        // The parser has lowercased and IDNA-mapped the name already.
        Host::Domain(name) => *name == "localhost",
        Host::Ipv4(address) => address.is_loopback(),
        Host::Ipv6(address) => address.is_loopback(),
    }
}

/// Parses an absolute https URL (http on loopback) without user info or
/// fragment: the rule every URL a browser or this server calls must pass.
pub fn parse_web_url(text: &str) -> Result<Url, UrlError> {
    if text.len() > MAX_LENGTH || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlError::Unreadable);
    }
    let url = Url::parse(text).map_err(UrlError::NotAbsolute)?;
    let host = url.host().ok_or(UrlError::Scheme)?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => return Err(UrlError::PlainHttp),
        _ => return Err(UrlError::Scheme),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::UserInfo);
    }
    if url.fragment().is_some() {
        return Err(UrlError::Fragment);
    }
    Ok(url)
}

/// A web origin (scheme, host, port), held in the form browsers send in the
/// `Origin` header: lowercase, no default port, no trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin(String);

impl Origin {
    /// Parses an origin; a trailing `/` is tolerated, any other path is not.
    pub fn parse(text: &str) -> Result<Origin, UrlError> {
        let url = parse_web_url(text)?;
        if url.query().is_some() {
            return Err(UrlError::Query);
        }
        if url.path() != "/" {
            return Err(UrlError::NotOrigin);
        }
        Ok(Origin::of(&url))
    }

    /// The origin of a URL that passed [`parse_web_url`].
    pub fn of(url: &Url) -> Origin {
        Origin(url.origin().ascii_serialization())
    }

    /// The origin as text, e.g. `https://shop.example:8443`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// An OpenID issuer identifier: an https URL (http on loopback) with no
/// query or fragment (OpenID Connect Discovery 1.0, section 2). The text is
/// kept exactly as given, because tokens' `iss` must match it exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerUrl {
    text: String,
    url: Url,
}

impl IssuerUrl {
    /// Parses an issuer identifier.
    pub fn parse(text: &str) -> Result<IssuerUrl, UrlError> {
        let url = parse_web_url(text)?;
        if url.query().is_some() {
            return Err(UrlError::Query);
        }
        Ok(IssuerUrl {
            text: text.to_owned(),
            url,
        })
    }

    /// The issuer exactly as configured.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The issuer's origin.
    pub fn origin(&self) -> Origin {
        Origin::of(&self.url)
    }

    /// Where its discovery document is: the issuer's path (without a
    /// trailing `/`) followed by `/.well-known/openid-configuration`
    /// (OpenID Connect Discovery 1.0, section 4).
    pub fn discovery_url(&self) -> Url {
        let mut url = self.url.clone();
        let path = format!(
            "{}/.well-known/openid-configuration",
            self.url.path().trim_end_matches('/')
        );
        url.set_path(&path);
        url
    }
}

impl fmt::Display for IssuerUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One input and what each parser makes of it: `Ok(origin)` or the error.
    fn check(cases: &[(&str, Result<&str, UrlError>)]) {
        let mut failures = Vec::new();
        for (input, expected) in cases {
            let got = parse_web_url(input).map(|url| Origin::of(&url));
            let got = got.as_ref().map(Origin::as_str).map_err(Clone::clone);
            if &got != expected {
                failures.push(format!("{input}: got {got:?}, expected {expected:?}"));
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn one_loopback_rule() {
        use UrlError::*;
        check(&[
            ("https://id.example", Ok("https://id.example")),
            ("HTTPS://ID.Example:443/x", Ok("https://id.example")),
            ("http://localhost:8080/cb", Ok("http://localhost:8080")),
            ("HTTP://LOCALHOST", Ok("http://localhost")),
            ("http://127.0.0.1:9/", Ok("http://127.0.0.1:9")),
            ("http://127.8.9.10", Ok("http://127.8.9.10")),
            ("http://[::1]:3000", Ok("http://[::1]:3000")),
            ("http://127.evil.example", Err(PlainHttp)),
            ("http://127.0.0.1.evil.example", Err(PlainHttp)),
            ("http://localhost.attacker.example", Err(PlainHttp)),
            ("http://localhost.", Err(PlainHttp)),
            ("http://127.0.0.1@evil.example", Err(PlainHttp)),
            ("https://127.0.0.1@evil.example", Err(UserInfo)),
            ("http://[::2]", Err(PlainHttp)),
            ("http://128.0.0.1", Err(PlainHttp)),
            ("http://id.example", Err(PlainHttp)),
            ("ftp://id.example", Err(Scheme)),
            ("javascript:alert(1)", Err(Scheme)),
            ("https://id.example/#x", Err(Fragment)),
            ("https://id.example/ x", Err(Unreadable)),
            ("https://id.\texample", Err(Unreadable)),
            (
                "//id.example",
                Err(NotAbsolute(url::ParseError::RelativeUrlWithoutBase)),
            ),
        ]);
    }

    #[test]
    fn origins_and_issuers() {
        assert_eq!(
            Origin::parse("https://Shop.Example/").unwrap().as_str(),
            "https://shop.example"
        );
        assert_eq!(
            Origin::parse("https://shop.example/x"),
            Err(UrlError::NotOrigin)
        );
        assert_eq!(Origin::parse("https://shop.example?"), Err(UrlError::Query));
        let issuer = IssuerUrl::parse("https://id.example/realms/shop/").unwrap();
        assert_eq!(issuer.as_str(), "https://id.example/realms/shop/");
        assert_eq!(
            issuer.discovery_url().as_str(),
            "https://id.example/realms/shop/.well-known/openid-configuration"
        );
        assert_eq!(
            IssuerUrl::parse("https://id.example")
                .unwrap()
                .discovery_url()
                .as_str(),
            "https://id.example/.well-known/openid-configuration"
        );
        assert_eq!(
            IssuerUrl::parse("https://id.example/?x=1"),
            Err(UrlError::Query)
        );
    }
}
