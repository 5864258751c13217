//! OpenID Connect for a public client in the browser: discovery, the
//! Authorization Code flow with PKCE S256, and the callback. The code
//! exchange, the ID-token check and refresh-token rotation run in the
//! second wasm module (`tessera-widget-session`), which the loader fetches
//! only when a sign-in returns or a session must be renewed.
//!
//! Only the transient `state`, `nonce` and PKCE verifier survive the redirect
//! (in sessionStorage, removed on return); tokens stay in memory.
//!
//! This file holds what every step shares: the tenant's configuration,
//! the IdP's discovery document, [`Failure`], [`Mode`] and fetching JSON.
//! The steps are its parts: `pkce` builds the authorization request,
//! `callback` takes the IdP's answer from the URL, `popup` carries it from
//! a sign-in popup to the page, and `session` turns it into a [`Session`]
//! through the session module, renews it, keeps it and ends it.
//!
//! What it is not: the widget. Nothing here renders, dispatches an event
//! or decides when a session is renewed; the rest of the crate does, with
//! what these functions return.

mod callback;
mod pkce;
mod popup;
mod session;

use wasm_bindgen::JsCast as _;
use wasm_bindgen_futures::JsFuture;

use crate::json::Object;

pub use callback::{forget_pending, take_callback};
pub use pkce::authorization_url;
pub use popup::{open_popup, popup_callback, relay_to_opener};
pub use session::{Session, complete, end_session_url, refresh, remember, remembered};

/// Why sign-in failed, with the stable code the page sees in `tessera:error`
/// and the message id the widget shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The tenant or element is not set up correctly.
    Configuration(String),
    /// The IdP (or this server) cannot be reached.
    IdpUnavailable(String),
    /// The user cancelled or denied at the IdP.
    Cancelled,
    /// The callback does not belong to a sign-in this page started.
    StateMismatch,
    /// The tokens look valid but the device's clock disagrees with the IdP's.
    ClockSkew,
    /// The tokens did not verify.
    InvalidToken(String),
    /// The shop's API refused the passport (expired or revoked): the
    /// customer must sign in again.
    SessionExpired,
    /// The browser blocked the sign-in popup.
    PopupBlocked,
}

impl Failure {
    /// The stable code for `tessera:error`.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Configuration(_) => "configuration",
            Failure::IdpUnavailable(_) => "idp_unavailable",
            Failure::Cancelled => "cancelled",
            Failure::StateMismatch => "state_mismatch",
            Failure::ClockSkew => "clock_skew",
            Failure::InvalidToken(_) => "invalid_token",
            Failure::SessionExpired => "session_expired",
            Failure::PopupBlocked => "popup_blocked",
        }
    }

    /// The message id in the server's texts.
    pub fn message_id(&self) -> &'static str {
        match self {
            Failure::Configuration(_) => "error-configuration",
            Failure::IdpUnavailable(_) => "error-idp-unavailable",
            Failure::Cancelled => "error-cancelled",
            Failure::StateMismatch => "error-state-mismatch",
            Failure::ClockSkew => "error-clock-skew",
            Failure::InvalidToken(_) => "error-generic",
            Failure::SessionExpired => "error-session-expired",
            Failure::PopupBlocked => "error-popup-blocked",
        }
    }

    /// Detail for developers (never shown to customers, never PII).
    pub fn detail(&self) -> String {
        match self {
            Failure::Configuration(detail)
            | Failure::IdpUnavailable(detail)
            | Failure::InvalidToken(detail) => detail.clone(),
            Failure::Cancelled => "the sign-in was cancelled at the identity provider".into(),
            Failure::StateMismatch => {
                "the callback's state does not match this page's sign-in".into()
            }
            Failure::ClockSkew => {
                "the token's time claims disagree with this device's clock".into()
            }
            Failure::SessionExpired => "a request with the passport was answered 401".into(),
            Failure::PopupBlocked => "window.open returned no window".into(),
        }
    }
}

/// The tenant's public configuration (`/t/{tenant}/config.json`).
#[derive(Debug, Clone)]
pub struct TenantConfig {
    pub issuer: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub allowed_origins: Vec<String>,
    /// `memory` (default) or `session_storage` (the tenant opted in to keep
    /// the session across reloads of the tab).
    pub token_storage: String,
    pub providers: Vec<Provider>,
    /// The shop's name: the logo's text alternative.
    pub display_name: String,
    /// Whether the tenant's theme has a logo (`--tessera-logo`).
    pub logo: bool,
    /// Added to the authorization request (`resource` or `audience`: how
    /// the tenant's IdP is asked for a token meant for the shop's API).
    pub authorization_parameters: Vec<(String, String)>,
    /// Added to every token request (an RFC 8707 `resource`).
    pub token_parameters: Vec<(String, String)>,
}

impl TenantConfig {
    /// [`TenantConfig::token_parameters`] as the session module reads them.
    pub fn token_parameters_object(&self) -> Object {
        self.token_parameters
            .iter()
            .fold(Object::new(), |object, (name, value)| {
                object.with(name, value.as_str())
            })
    }
}

impl TenantConfig {
    /// Whether a session may be in more than one tab: only when it is kept
    /// in sessionStorage, which a duplicated tab copies. Only then are
    /// rotations shared with other tabs.
    pub fn shares_sessions(&self) -> bool {
        self.token_storage == "session_storage"
    }

    /// Reads the server's document; `issuer` and `client_id` are required,
    /// scopes default to `openid` alone.
    pub fn from_json(document: &Object) -> Option<TenantConfig> {
        let mut scopes = document.strings("scopes");
        if scopes.is_empty() {
            scopes.push("openid".into());
        }
        Some(TenantConfig {
            issuer: document.string("issuer")?,
            client_id: document.string("client_id")?,
            scopes,
            redirect_uris: document.strings("redirect_uris"),
            allowed_origins: document.strings("allowed_origins"),
            token_storage: document.string("token_storage").unwrap_or_default(),
            display_name: document.string("display_name").unwrap_or_default(),
            logo: document.boolean("logo").unwrap_or(false),
            authorization_parameters: document
                .object("authorization_parameters")
                .map(|parameters| parameters.string_members())
                .unwrap_or_default(),
            token_parameters: document
                .object("token_parameters")
                .map(|parameters| parameters.string_members())
                .unwrap_or_default(),
            providers: document
                .objects("providers")
                .iter()
                .filter_map(Provider::from_json)
                .collect(),
        })
    }
}

/// A sign-in button that passes an IdP hint.
#[derive(Debug, Clone)]
pub struct Provider {
    pub label: String,
    pub hint_parameter: String,
    pub hint_value: String,
}

impl Provider {
    fn from_json(document: &Object) -> Option<Provider> {
        Some(Provider {
            label: document.string("label")?,
            hint_parameter: document.string("hint_parameter")?,
            hint_value: document.string("hint_value")?,
        })
    }
}

/// The parts of the IdP's discovery document the widget uses.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub end_session_endpoint: Option<String>,
}

impl Discovery {
    /// Reads a discovery document; every endpoint but `end_session_endpoint`
    /// is required.
    pub fn from_json(document: &Object) -> Option<Discovery> {
        Some(Discovery {
            issuer: document.string("issuer")?,
            authorization_endpoint: document.string("authorization_endpoint")?,
            token_endpoint: document.string("token_endpoint")?,
            jwks_uri: document.string("jwks_uri")?,
            end_session_endpoint: document.string("end_session_endpoint"),
        })
    }
}

/// How the widget takes the customer to the IdP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The page itself goes to the IdP and comes back (the default).
    Redirect,
    /// A popup goes to the IdP; its callback is relayed to the page.
    Popup,
}

fn window() -> Result<web_sys::Window, Failure> {
    web_sys::window().ok_or_else(|| Failure::Configuration("no window".into()))
}

pub fn now_seconds() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

/// GETs a JSON object; network failures are the IdP's (or server's)
/// unavailability.
pub async fn fetch_json(url: &str) -> Result<Object, Failure> {
    let response: web_sys::Response = JsFuture::from(window()?.fetch_with_str(url))
        .await
        .map_err(|_| Failure::IdpUnavailable(format!("cannot reach {url}")))?
        .unchecked_into();
    read_json(url, response).await
}

/// The failure for a document that is not what the widget expects.
pub fn unexpected(what: &str) -> Failure {
    Failure::Configuration(format!("{what} is not the expected JSON"))
}

/// A JSON object from a fetch someone else started (the loader's): `what`
/// names it in failures.
pub async fn fetched_json(what: &str, response: js_sys::Promise) -> Result<Object, Failure> {
    let response: web_sys::Response = JsFuture::from(response)
        .await
        .map_err(|_| Failure::IdpUnavailable(format!("cannot reach the server for {what}")))?
        .unchecked_into();
    read_json(what, response).await
}

async fn read_json(url: &str, response: web_sys::Response) -> Result<Object, Failure> {
    Object::parse(&read_text(url, response).await?).ok_or_else(|| unexpected(url))
}

async fn read_text(url: &str, response: web_sys::Response) -> Result<String, Failure> {
    if !response.ok() {
        return Err(Failure::IdpUnavailable(format!(
            "{url} answered {}",
            response.status()
        )));
    }
    Ok(JsFuture::from(
        response
            .text()
            .map_err(|_| Failure::IdpUnavailable("unreadable".into()))?,
    )
    .await
    .map_err(|_| Failure::IdpUnavailable("unreadable".into()))?
    .as_string()
    .unwrap_or_default())
}

fn storage() -> Result<web_sys::Storage, Failure> {
    window()?
        .session_storage()
        .ok()
        .flatten()
        .ok_or_else(|| Failure::Configuration("sessionStorage is not available".into()))
}

fn encode(text: &str) -> String {
    js_sys::encode_uri_component(text)
        .as_string()
        .unwrap_or_default()
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn tenant_configuration_needs_issuer_and_client_and_defaults_to_openid_alone() {
        let read = |text: &str| TenantConfig::from_json(&Object::parse(text).expect("JSON"));
        assert!(read(r#"{"client_id": "shop"}"#).is_none(), "no issuer");
        assert!(
            read(r#"{"issuer": "https://idp.example.test"}"#).is_none(),
            "no client"
        );
        let config = read(
            r#"{"issuer": "https://idp.example.test", "client_id": "shop",
                "providers": [{"label": "Bank", "hint_parameter": "idp_hint", "hint_value": "bank"},
                              {"label": "half a provider"}]}"#,
        )
        .expect("enough to sign in");
        assert_eq!(config.scopes, ["openid"]);
        assert_eq!(config.token_storage, "");
        assert!(config.allowed_origins.is_empty());
        assert_eq!(
            config.providers.len(),
            1,
            "the incomplete provider is left out"
        );
        assert_eq!(config.providers[0].hint_value, "bank");
    }
}
