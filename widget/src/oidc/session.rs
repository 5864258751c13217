//! The signed-in session: what the widget holds ([`Session`]); how one is
//! made from a callback and renewed, by asking the session module
//! (`completeSignIn`, `refreshSession`, through the loader's
//! `tesseraSession`); keeping it across reloads when the tenant opts in
//! (sessionStorage, without the ID token); and the URL that ends it at the
//! IdP (RP-Initiated Logout 1.0).
//!
//! What it is not: the checks. The code exchange, the ID token's
//! verification and refresh-token rotation run in the session module
//! (`tessera-widget-session`); this file asks and reads the answer. When a
//! session is renewed, and what the page is told, is decided outside
//! `oidc`.

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::callback::{Callback, Pending, pending_key};
use super::pkce::redirect_uri;
use super::{Discovery, Failure, TenantConfig, encode, now_seconds, storage};
use crate::json::Object;

/// A signed-in session, in memory (or sessionStorage when the tenant opts in).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The verified ID token, the hint for ending the session. It may carry
    /// the user's personal data (Keycloak's defaults put name, email and
    /// phone in it), so it stays in this tab's memory: never in
    /// sessionStorage, never sent to other tabs. A session restored from
    /// sessionStorage has none and signs out with `client_id` alone.
    pub id_token: Option<String>,
    pub access_token: String,
    pub subject: String,
    /// The ID token's claims without any that identify a person, as a JSON
    /// object's text (a `String`, so that a session can live in a signal).
    pub claims: String,
    /// The names of the personal-data claims the ID token carried and the
    /// session module removed (never their values).
    pub withheld: Vec<String>,
    pub expires_at: f64,
    /// Present when the IdP offers refresh-token rotation (`offline_access`).
    pub refresh_token: Option<String>,
}

impl Session {
    /// The session as kept in sessionStorage and sent between tabs.
    pub fn to_json(&self) -> Object {
        Object::new()
            .with_optional("id_token", self.id_token.as_deref())
            .with("access_token", self.access_token.as_str())
            .with("subject", self.subject.as_str())
            .with("claims", self.claims_object())
            .with("withheld", self.withheld_array())
            .with("expires_at", self.expires_at)
            .with_optional("refresh_token", self.refresh_token.as_deref())
    }

    /// Reads what [`Session::to_json`] wrote.
    pub fn from_json(document: &Object) -> Option<Session> {
        Some(Session {
            id_token: document.string("id_token"),
            access_token: document.string("access_token")?,
            subject: document.string("subject")?,
            claims: document.object("claims")?.text(),
            withheld: document.strings("withheld"),
            expires_at: document.number("expires_at")?,
            refresh_token: document.string("refresh_token"),
        })
    }

    /// [`Session::withheld`] as an array.
    pub fn withheld_array(&self) -> js_sys::Array {
        self.withheld
            .iter()
            .map(|name| JsValue::from_str(name))
            .collect()
    }

    /// The non-personal claims as an object.
    pub fn claims_object(&self) -> Object {
        Object::parse(&self.claims).unwrap_or_else(Object::new)
    }
}

/// Completes a sign-in from the callback.
pub async fn complete(
    tenant: &str,
    config: &TenantConfig,
    discovery: &Discovery,
    callback: Callback,
) -> Result<Session, Failure> {
    let storage = storage()?;
    let key = pending_key(tenant);
    let pending = storage
        .get_item(&key)
        .ok()
        .flatten()
        .and_then(|text| Pending::from_json(&Object::parse(&text)?));
    let _ = storage.remove_item(&key);
    let pending = pending.ok_or(Failure::StateMismatch)?;
    if callback.state.as_deref() != Some(pending.state.as_str()) {
        return Err(Failure::StateMismatch);
    }
    if let Some(error) = callback.error {
        return Err(if error == "access_denied" {
            Failure::Cancelled
        } else {
            Failure::IdpUnavailable(format!("the identity provider answered {error}"))
        });
    }
    let code = callback.code.ok_or(Failure::StateMismatch)?;
    in_session_module(
        "completeSignIn",
        &Object::new()
            .with("token_endpoint", discovery.token_endpoint.as_str())
            .with("jwks_uri", discovery.jwks_uri.as_str())
            .with("issuer", discovery.issuer.as_str())
            .with("client_id", config.client_id.as_str())
            .with("code", code)
            .with("redirect_uri", pending.redirect_uri)
            .with("verifier", pending.verifier)
            .with("nonce", pending.nonce)
            .with("token_parameters", config.token_parameters_object()),
    )
    .await
}

/// A fresh session for `current`, from the session module: one another tab
/// already rotated to (this tab may have heard it, module `rotations`), or a
/// rotation of its refresh token made here under the token's Web Lock. A
/// refused refresh ends the session.
pub async fn refresh(
    tenant: &str,
    config: &TenantConfig,
    discovery: &Discovery,
    current: &Session,
) -> Result<Session, Failure> {
    in_session_module(
        "refreshSession",
        &Object::new()
            .with("tenant", tenant)
            .with("token_endpoint", discovery.token_endpoint.as_str())
            .with("client_id", config.client_id.as_str())
            .with("session", current.to_json())
            .with("shared", config.shares_sessions())
            .with("heard", crate::rotations::heard(tenant))
            .with("token_parameters", config.token_parameters_object()),
    )
    .await
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The loader's `tesseraSession`: fetches and instantiates the session
    /// module (`tessera-widget-session`) on first use and calls its export
    /// `operation` with a JSON request. The name resolves in the module that
    /// carries both this glue and the loader (`dist/widget/tessera.js`).
    #[wasm_bindgen(js_name = tesseraSession, catch)]
    fn session_module(operation: &str, request: &str) -> Result<js_sys::Promise, JsValue>;
}

/// Asks the session module: its answer is `{"session": Session}` or
/// `{"refused": {kind, message}}` (see `tessera_widget_session`).
async fn in_session_module(operation: &str, request: &Object) -> Result<Session, Failure> {
    let unavailable =
        || Failure::IdpUnavailable("the session module could not be loaded from the server".into());
    let promise = session_module(operation, &request.text()).map_err(|_| unavailable())?;
    let answer = JsFuture::from(promise)
        .await
        .map_err(|_| unavailable())?
        .as_string()
        .and_then(|text| Object::parse(&text))
        .ok_or_else(unavailable)?;
    if let Some(refused) = answer.object("refused") {
        let message = refused.string("message").unwrap_or_default();
        return Err(match refused.string("kind").as_deref() {
            Some("clock_skew") => Failure::ClockSkew,
            Some("configuration") => Failure::Configuration(message),
            Some("idp_unavailable") => Failure::IdpUnavailable(message),
            Some("session_expired") => Failure::SessionExpired,
            _ => Failure::InvalidToken(message),
        });
    }
    answer
        .object("session")
        .and_then(|session| Session::from_json(&session))
        .ok_or_else(unavailable)
}

/// The URL that ends the session at the IdP, when it has one (RP-Initiated
/// Logout 1.0): `client_id` and `post_logout_redirect_uri`, and the ID
/// token as `id_token_hint` when this tab still holds it in memory.
pub fn end_session_url(
    config: &TenantConfig,
    discovery: &Discovery,
    session: &Session,
) -> Option<String> {
    let endpoint = discovery.end_session_endpoint.as_ref()?;
    let back = redirect_uri(config).ok()?;
    let hint = session
        .id_token
        .as_deref()
        .map(|token| format!("id_token_hint={}&", encode(token)))
        .unwrap_or_default();
    Some(format!(
        "{endpoint}?{hint}post_logout_redirect_uri={}&client_id={}",
        encode(&back),
        encode(&config.client_id)
    ))
}

fn session_key(tenant: &str) -> String {
    format!("tessera.session.{tenant}")
}

/// Keeps the session in sessionStorage when the tenant opted in; never in
/// localStorage, and never without the opt-in.
pub fn remember(tenant: &str, config: &TenantConfig, session: Option<&Session>) {
    let Ok(storage) = storage() else { return };
    match session {
        Some(session) if config.token_storage == "session_storage" => {
            // Every script of the page can read sessionStorage: the ID token,
            // which may carry personal data, is not stored.
            let stored = Session {
                id_token: None,
                ..session.clone()
            };
            let _ = storage.set_item(&session_key(tenant), &stored.to_json().text());
        }
        _ => {
            let _ = storage.remove_item(&session_key(tenant));
        }
    }
}

/// The remembered session, when the tenant opted in and it has not expired.
pub fn remembered(tenant: &str, config: &TenantConfig) -> Option<Session> {
    if config.token_storage != "session_storage" {
        return None;
    }
    let storage = storage().ok()?;
    let session = Session::from_json(&Object::parse(
        &storage.get_item(&session_key(tenant)).ok()??,
    )?)?;
    if session.expires_at <= now_seconds() as f64 {
        let _ = storage.remove_item(&session_key(tenant));
        return None;
    }
    Some(session)
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::oidc::storage;
    use crate::test_support::{
        local_storage_length, parameters, session, tenant_config, unreachable_discovery,
    };

    #[wasm_bindgen_test]
    fn session_is_kept_only_when_the_tenant_opts_in_and_never_in_local_storage() {
        let local_before = local_storage_length();
        let check = |token_storage: &str, kept: bool| {
            let tenant = format!("unit-keep-{token_storage}");
            let config = tenant_config(token_storage, &[]);
            remember(
                &tenant,
                &config,
                Some(&session("token-1", Some("refresh-1"), 600.0)),
            );
            let stored = storage()
                .expect("sessionStorage")
                .get_item(&session_key(&tenant))
                .expect("readable");
            assert_eq!(stored.is_some(), kept, "stored with {token_storage:?}");
            assert!(
                !stored
                    .unwrap_or_default()
                    .contains("header.payload.signature"),
                "the ID token, which may carry personal data, is never stored"
            );
            let restored = remembered(&tenant, &config);
            if let Some(restored) = &restored {
                assert_eq!(restored.id_token, None);
                let discovery = Discovery {
                    end_session_endpoint: Some("https://idp.example.test/logout".into()),
                    ..unreachable_discovery()
                };
                let logout = end_session_url(&config, &discovery, restored).expect("a logout URL");
                let logout = parameters(&logout);
                assert_eq!(logout.get("id_token_hint"), None);
                assert_eq!(logout.get("client_id").as_deref(), Some("shop-widget"));
                assert!(logout.get("post_logout_redirect_uri").is_some());
                // The tab that signed in still holds it in memory: it is the hint.
                let in_memory = session("token-1", None, 600.0);
                let logout = end_session_url(&config, &discovery, &in_memory).expect("a URL");
                assert_eq!(
                    parameters(&logout).get("id_token_hint").as_deref(),
                    Some("header.payload.signature")
                );
            }
            assert_eq!(
                restored.map(|session| session.access_token),
                kept.then(|| "token-1".to_owned()),
                "restored with {token_storage:?}"
            );
            remember(&tenant, &config, None);
            assert_eq!(
                storage()
                    .expect("sessionStorage")
                    .get_item(&session_key(&tenant)),
                Ok(None),
                "forgotten on sign-out"
            );
        };
        check("memory", false);
        check("", false);
        check("local_storage", false);
        check("session_storage", true);
        assert_eq!(
            local_storage_length(),
            local_before,
            "nothing goes to localStorage"
        );
    }

    #[wasm_bindgen_test]
    fn expired_remembered_session_is_dropped() {
        let tenant = "unit-expired";
        let config = tenant_config("session_storage", &[]);
        remember(tenant, &config, Some(&session("token-1", None, -5.0)));
        assert!(remembered(tenant, &config).is_none());
        assert_eq!(
            storage()
                .expect("sessionStorage")
                .get_item(&session_key(tenant)),
            Ok(None)
        );
    }

    #[wasm_bindgen_test]
    fn a_session_reads_back_as_it_was_written() {
        let mut written = session("access", Some("refresh"), 600.0);
        written.claims = r#"{"tier":"gold","roles":["buyer"]}"#.into();
        let read = Session::from_json(&Object::parse(&written.to_json().text()).expect("JSON"))
            .expect("a session");
        assert_eq!(read, written);
        let mut without_refresh = written.clone();
        without_refresh.refresh_token = None;
        let read = Session::from_json(&without_refresh.to_json()).expect("a session");
        assert_eq!(read.refresh_token, None);
    }
}
