//! Tenants: what a shop configures, and the validation every value passes.
//!
//! A `TenantConfig` arrives as JSON through the admin API or the CLI; it is
//! checked field by field, and a failure names the field and what is allowed.
//! Nothing here touches storage or HTTP: failures are [`ValidationError`]s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::i18n::BASE_LOCALES;
use crate::urls::{IssuerUrl, Origin, UrlError, parse_web_url};
use crate::validation::ValidationError;

/// Checks a tenant slug: 3 to 32 characters, lowercase letters, digits and
/// inner hyphens. Slugs appear in URLs and file-like paths, so nothing else.
pub fn validate_slug(slug: &str) -> Result<(), ValidationError> {
    let bytes = slug.as_bytes();
    let allowed = |byte: &u8| byte.is_ascii_lowercase() || byte.is_ascii_digit() || *byte == b'-';
    let ok = (3..=32).contains(&bytes.len())
        && bytes.iter().all(allowed)
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-');
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            "slug",
            "a tenant slug has 3 to 32 characters: lowercase letters, digits and inner hyphens",
        ))
    }
}

/// An icon for a provider button, from the widget's built-in set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderIcon {
    /// No icon.
    None,
    /// A generic key.
    Key,
    /// A passkey symbol.
    Passkey,
    /// A building (a company directory).
    Building,
    /// An envelope (a one-time link by email, handled by the IdP).
    Envelope,
}

/// A sign-in button that sends a hint to the IdP (e.g. Keycloak's
/// `kc_idp_hint`) so it skips its own chooser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderButton {
    /// The button's label (1 to 60 characters).
    pub label: String,
    /// The button's icon.
    pub icon: ProviderIcon,
    /// The authorization request parameter carrying the hint.
    pub hint_parameter: String,
    /// The hint's value.
    pub hint_value: String,
}

/// Where the widget keeps tokens in the browser.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenStorage {
    /// In memory only: gone when the page closes (the default).
    #[default]
    Memory,
    /// In sessionStorage, surviving reloads of the tab.
    SessionStorage,
}

/// How the widget asks the IdP for an access token meant for the tenant's
/// `audience`. IdPs differ: without the right request, Logto and Auth0 hand
/// out an opaque token the shop's API cannot verify.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AudienceRequest {
    /// Nothing is sent: the IdP adds the audience itself (Keycloak's
    /// audience mapper; ZITADEL's project scope or Entra ID's `api://`
    /// scope, listed in `scopes`). The default.
    #[default]
    None,
    /// An RFC 8707 resource indicator, `resource=<audience>`, on the
    /// authorization request and on every token request (Logto).
    Resource,
    /// `audience=<audience>` on the authorization request (Auth0).
    Audience,
}

impl AudienceRequest {
    /// The parameters the authorization request adds for `audience`.
    pub fn authorization_parameters(self, audience: &str) -> BTreeMap<&'static str, String> {
        match self {
            AudienceRequest::None => BTreeMap::new(),
            AudienceRequest::Resource => BTreeMap::from([("resource", audience.to_owned())]),
            AudienceRequest::Audience => BTreeMap::from([("audience", audience.to_owned())]),
        }
    }

    /// The parameters every token request (code and refresh) adds.
    pub fn token_parameters(self, audience: &str) -> BTreeMap<&'static str, String> {
        match self {
            AudienceRequest::Resource => BTreeMap::from([("resource", audience.to_owned())]),
            AudienceRequest::None | AudienceRequest::Audience => BTreeMap::new(),
        }
    }

    /// The form value: `none`, `resource` or `audience`.
    pub fn as_str(self) -> &'static str {
        match self {
            AudienceRequest::None => "none",
            AudienceRequest::Resource => "resource",
            AudienceRequest::Audience => "audience",
        }
    }

    /// Reads [`AudienceRequest::as_str`]'s values.
    pub fn parse(value: &str) -> Option<AudienceRequest> {
        [
            AudienceRequest::None,
            AudienceRequest::Resource,
            AudienceRequest::Audience,
        ]
        .into_iter()
        .find(|request| request.as_str() == value)
    }
}

/// Everything a tenant configures except its theme and texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// The shop's name as shown to admins.
    pub display_name: String,
    /// The OpenID issuer URL (https, or http on loopback for development).
    pub issuer: String,
    /// The widget's OAuth client id at the issuer (a public client).
    pub client_id: String,
    /// The API audience access tokens are issued for.
    pub audience: String,
    /// How the widget asks the IdP for a token with that audience.
    #[serde(default)]
    pub audience_request: AudienceRequest,
    /// Shop origins allowed to host the widget (`https://shop.example`).
    pub allowed_origins: Vec<String>,
    /// Exact redirect URIs registered at the issuer.
    pub redirect_uris: Vec<String>,
    /// Scopes requested; `openid` only by default, so no email, no profile.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The locale used when negotiation finds nothing better.
    pub default_locale: String,
    /// The locales offered.
    pub enabled_locales: Vec<String>,
    /// Extra sign-in buttons with IdP hints.
    #[serde(default)]
    pub providers: Vec<ProviderButton>,
    /// Where the widget keeps tokens.
    #[serde(default)]
    pub token_storage: TokenStorage,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".to_owned()]
}

fn text(field: &str, value: &str, max: usize) -> Result<(), ValidationError> {
    if value.trim().is_empty() || value.chars().count() > max || value.chars().any(char::is_control)
    {
        return Err(ValidationError::new(
            field,
            format!("must be 1 to {max} printable characters"),
        ));
    }
    Ok(())
}

/// Quotes attacker-chosen text in a message: shortened, on one line.
fn quoted(text: &str) -> String {
    let short: String = text.chars().take(100).filter(|c| !c.is_control()).collect();
    if short.len() < text.len() {
        format!("`{short}...`")
    } else {
        format!("`{short}`")
    }
}

/// Parses `text` with `parse`, naming `field` when it fails.
fn url_field<T>(
    field: &str,
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, UrlError>,
) -> Result<T, ValidationError> {
    parse(text).map_err(|why| {
        ValidationError::new(field, format!("{} is not allowed: {why}", quoted(text)))
    })
}

/// Authorization request parameters a provider button's hint may not name:
/// the ones the widget sends itself (widget/src/oidc/pkce.rs,
/// `authorization_url`), which would then go twice, and those that would
/// replace or widen the request (RFC 6749 4.1.1, OpenID Connect Core 3.1.2.1
/// and 5.5, RFC 9101 JAR, RFC 9126 PAR, RFC 8707 resource indicators, RFC
/// 9396, RFC 9449 DPoP).
pub const RESERVED_HINT_PARAMETERS: &[&str] = &[
    // Sent by the widget.
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "ui_locales",
    // Would change how the answer comes back, or replace the whole request.
    "response_mode",
    "request",
    "request_uri",
    "registration",
    // Would ask for more than the tenant configured (claims, audiences, grants).
    "claims",
    "resource",
    "authorization_details",
    "id_token_hint",
    "dpop_jkt",
    // Client authentication and token-endpoint parameters never belong here.
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "code",
    "code_verifier",
    "grant_type",
    "refresh_token",
];

fn token_like(field: &str, value: &str) -> Result<(), ValidationError> {
    let ok = !value.is_empty()
        && value.len() <= 200
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:~".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            "use 1 to 200 characters: letters, digits and - _ . : ~",
        ))
    }
}

/// A scope as RFC 6749 section 3.3 defines one: printable ASCII without
/// space, `"` or `\`, so Entra ID's `api://<app-id>/<scope>` and ZITADEL's
/// `urn:zitadel:iam:org:project:id:<id>:aud` fit.
fn scope_token(field: &str, value: &str) -> Result<(), ValidationError> {
    let ok = !value.is_empty()
        && value.len() <= 200
        && value
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            "a scope is 1 to 200 printable ASCII characters without spaces, `\"` or `\\` (RFC 6749 section 3.3)",
        ))
    }
}

impl TenantConfig {
    /// Checks every field and returns the configuration with its origins in
    /// the form browsers send them (`HTTPS://Shop.Example/` becomes
    /// `https://shop.example`); the error names the first bad field.
    pub fn validated(mut self) -> Result<Self, ValidationError> {
        text("display_name", &self.display_name, 100)?;
        url_field("issuer", &self.issuer, IssuerUrl::parse)?;
        token_like("client_id", &self.client_id)?;
        text("audience", &self.audience, 200)?;
        if self.audience_request == AudienceRequest::Resource {
            // RFC 8707 section 2: an absolute URI without a fragment.
            match url::Url::parse(&self.audience) {
                Ok(resource) if resource.fragment().is_none() => {}
                _ => {
                    return Err(ValidationError::new(
                        "audience",
                        "a resource indicator (audience_request = resource) must be an absolute URI without a fragment, such as https://api.shop.example",
                    ));
                }
            }
        }
        if self.allowed_origins.len() > 50 {
            return Err(ValidationError::new(
                "allowed_origins",
                "at most 50 origins",
            ));
        }
        for (index, origin) in self.allowed_origins.iter_mut().enumerate() {
            let field = format!("allowed_origins[{index}]");
            *origin = url_field(&field, origin, Origin::parse)?.to_string();
        }
        if self.redirect_uris.is_empty() || self.redirect_uris.len() > 50 {
            return Err(ValidationError::new(
                "redirect_uris",
                "give 1 to 50 redirect URIs",
            ));
        }
        for (index, uri) in self.redirect_uris.iter().enumerate() {
            // Kept as given: the issuer matches redirect URIs exactly.
            url_field(&format!("redirect_uris[{index}]"), uri, parse_web_url)?;
        }
        if !self.scopes.iter().any(|scope| scope == "openid") {
            return Err(ValidationError::new(
                "scopes",
                "the scopes must include `openid`",
            ));
        }
        if self.scopes.len() > 20 {
            return Err(ValidationError::new("scopes", "at most 20 scopes"));
        }
        for (index, scope) in self.scopes.iter().enumerate() {
            scope_token(&format!("scopes[{index}]"), scope)?;
        }
        if self.enabled_locales.is_empty() {
            return Err(ValidationError::new(
                "enabled_locales",
                "enable at least one locale",
            ));
        }
        for (index, locale) in self.enabled_locales.iter().enumerate() {
            if !BASE_LOCALES.contains(&locale.as_str()) {
                return Err(ValidationError::new(
                    format!("enabled_locales[{index}]"),
                    format!(
                        "`{locale}` is not a supported locale: {}",
                        BASE_LOCALES.join(", ")
                    ),
                ));
            }
        }
        if !self.enabled_locales.contains(&self.default_locale) {
            return Err(ValidationError::new(
                "default_locale",
                "the default locale must be one of the enabled locales",
            ));
        }
        if self.providers.len() > 10 {
            return Err(ValidationError::new(
                "providers",
                "at most 10 provider buttons",
            ));
        }
        for (index, provider) in self.providers.iter().enumerate() {
            text(&format!("providers[{index}].label"), &provider.label, 60)?;
            let parameter = &provider.hint_parameter;
            let parameter_ok = !parameter.is_empty()
                && parameter.len() <= 40
                && parameter
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !parameter_ok {
                return Err(ValidationError::new(
                    format!("providers[{index}].hint_parameter"),
                    "use 1 to 40 characters: lowercase letters, digits and _ (e.g. kc_idp_hint)",
                ));
            }
            if RESERVED_HINT_PARAMETERS.contains(&parameter.as_str()) {
                return Err(ValidationError::new(
                    format!("providers[{index}].hint_parameter"),
                    format!(
                        "`{parameter}` is a protocol parameter the widget sets itself or that would change the request; use the IdP's hint parameter (e.g. kc_idp_hint, login_hint, domain_hint)"
                    ),
                ));
            }
            token_like(
                &format!("providers[{index}].hint_value"),
                &provider.hint_value,
            )?;
        }
        Ok(self)
    }
}
