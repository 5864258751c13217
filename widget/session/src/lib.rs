//! The widget's session module: its second WebAssembly module, which holds
//! everything that only a sign-in or a signed-in session needs.
//!
//! A visitor who never signs in needs none of it: not the verifier with its
//! key parsing and strict JSON reader, not the token endpoint, not the
//! cross-tab refresh machinery. So the loader fetches this module (pinned by
//! its own integrity value) only when a sign-in returns to the page or a
//! session must be renewed, and the first module, which every page view
//! downloads, stays small. It does:
//!
//! - [`complete_sign_in`]: exchange the authorization code at the token
//!   endpoint (a public client with PKCE), fetch the IdP's key set, and check
//!   the ID token ([`check`]: signature, `iss`, `aud` = client id, time
//!   claims, `sub`, this sign-in's nonce), returning a [`Session`] whose
//!   claims have every personal-data claim removed;
//! - [`refresh_session`]: rotate the session's refresh token under a Web
//!   Lock, sharing rotations with other tabs (module `rotation`), sealed
//!   for the tabs that hold the old token (module `seal`); what the
//!   first module heard other tabs announce before this module was loaded
//!   comes with the request ([`Renewal::heard`]).
//!
//! What it is not: the widget. It renders nothing, keeps no session and
//! fires no event; the first module asks, and decides what the answer means.
//! The interface is JSON text in and out ([`complete_sign_in_json`],
//! [`refresh_session_json`]), so the first module, which has no serde, needs
//! no bindings for these types, and a failure is an answer, never a throw.

mod id_token;
mod rotation;

/// Talc instead of Rust's default dlmalloc: smaller in the module and
/// faster at many small allocations. Each instance of the module is
/// single-threaded (no shared memory).
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
pub mod seal;
mod token_endpoint;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::wasm_bindgen;

pub use crate::id_token::{Checked, IdTokenRequest, check};

/// Why a request was refused: `kind` is one the widget maps to its own
/// failures (`idp_unavailable`, `invalid_token`, `clock_skew`,
/// `configuration`, `session_expired`); `message` is for developers and
/// never carries token contents.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Refusal {
    /// One of the kinds above.
    pub kind: &'static str,
    /// A readable explanation.
    pub message: String,
}

impl Refusal {
    pub(crate) fn new(kind: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            kind,
            message: message.into(),
        }
    }
}

/// A signed-in session as the widget keeps it (the same fields as the first
/// module's `Session`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The verified ID token: the hint for ending the session. It may carry
    /// the user's personal data, so it lives in the tab's memory only: it is
    /// never stored, and never sent to other tabs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The access token the page's API calls carry.
    pub access_token: String,
    /// The pseudonymous subject.
    pub subject: String,
    /// The ID token's claims without personal data and without the nonce.
    pub claims: Map<String, Value>,
    /// The names (never the values) of the personal-data claims the ID
    /// token carried and the widget removed: what the IdP should stop
    /// sending.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
    /// When the access token expires, in seconds since the epoch.
    pub expires_at: f64,
    /// Present when the IdP offers refresh-token rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// A sign-in that came back with a code: where to exchange it, and what
/// this sign-in sent (kept by the first module across the redirect).
#[derive(Debug, Deserialize)]
pub struct SignInReturn {
    /// The IdP's token endpoint.
    pub token_endpoint: String,
    /// The IdP's key set address.
    pub jwks_uri: String,
    /// The issuer the discovery document names.
    pub issuer: String,
    /// The tenant's client id.
    pub client_id: String,
    /// The authorization code from the callback.
    pub code: String,
    /// The redirect URI the sign-in used.
    pub redirect_uri: String,
    /// The PKCE verifier of this sign-in.
    pub verifier: String,
    /// The nonce of this sign-in.
    pub nonce: String,
    /// Parameters the tenant adds to token requests (an RFC 8707
    /// `resource`, for IdPs that issue the shop's token only when asked).
    #[serde(default)]
    pub token_parameters: BTreeMap<String, String>,
}

/// A session to renew.
#[derive(Debug, Deserialize)]
pub struct Renewal {
    /// The tenant: names the lock and the channel shared with other tabs.
    pub tenant: String,
    /// The IdP's token endpoint.
    pub token_endpoint: String,
    /// The tenant's client id.
    pub client_id: String,
    /// The session whose refresh token is to be rotated.
    pub session: Session,
    /// Whether the session may be in other tabs too (it is kept in
    /// sessionStorage, which a duplicated tab copies): only then are
    /// rotations shared with other tabs.
    #[serde(default)]
    pub shared: bool,
    /// Rotations the first module heard other tabs announce (it listens
    /// from the moment it holds a shared renewable session), as the texts
    /// it heard on the channel: `{"old": fingerprint, "sealed": ...}`. Any
    /// script of the page's origin can post there, so a text that is not
    /// such an announcement is skipped instead of failing the renewal, and
    /// one that does not open with this session's refresh token is ignored.
    #[serde(default)]
    pub heard: Vec<String>,
    /// Parameters the tenant adds to token requests, as at sign-in.
    #[serde(default)]
    pub token_parameters: BTreeMap<String, String>,
}

/// Exchanges the code and checks the ID token.
pub async fn complete_sign_in(request: SignInReturn) -> Result<Session, Refusal> {
    token_endpoint::exchange_code(&request).await
}

/// A fresh session for `request.session`: one another tab already rotated
/// to, or a rotation made here, under the refresh token's Web Lock.
pub async fn refresh_session(request: Renewal) -> Result<Session, Refusal> {
    rotation::refresh(&request).await
}

fn parse_request<T: for<'de> Deserialize<'de>>(request: &str, what: &str) -> Result<T, Refusal> {
    serde_json::from_str(request).map_err(|error| {
        Refusal::new(
            "configuration",
            format!("the session module was asked wrongly for {what}: {error}"),
        )
    })
}

fn reply(outcome: Result<Session, Refusal>) -> String {
    match outcome {
        Ok(session) => serde_json::json!({ "session": session }),
        Err(refusal) => serde_json::json!({ "refused": refusal }),
    }
    .to_string()
}

/// [`complete_sign_in`] for the first module: a [`SignInReturn`] as JSON in;
/// `{"session": Session}` or `{"refused": Refusal}` as JSON out.
#[wasm_bindgen(js_name = completeSignIn)]
pub async fn complete_sign_in_json(request: String) -> String {
    match parse_request::<SignInReturn>(&request, "a sign-in") {
        Ok(request) => reply(complete_sign_in(request).await),
        Err(refusal) => reply(Err(refusal)),
    }
}

/// [`refresh_session`] for the first module: a [`Renewal`] as JSON in;
/// `{"session": Session}` or `{"refused": Refusal}` as JSON out.
#[wasm_bindgen(js_name = refreshSession)]
pub async fn refresh_session_json(request: String) -> String {
    match parse_request::<Renewal>(&request, "a renewal") {
        Ok(request) => reply(refresh_session(request).await),
        Err(refusal) => reply(Err(refusal)),
    }
}
