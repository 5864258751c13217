//! OpenID Connect for a public client in the browser: discovery, the
//! Authorization Code flow with PKCE S256, and the callback. The code
//! exchange, the ID-token check and refresh-token rotation run in the
//! second wasm module (`tessera-widget-session`), which the loader fetches
//! only when a sign-in returns or a session must be renewed.
//!
//! Only the transient `state`, `nonce` and PKCE verifier survive the redirect
//! (in sessionStorage, removed on return); tokens stay in memory.

use wasm_bindgen::JsCast as _;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::json::Object;

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

/// What must survive the redirect to the IdP and back.
#[derive(Debug, Clone)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    redirect_uri: String,
}

impl Pending {
    fn to_json(&self) -> Object {
        Object::new()
            .with("state", self.state.as_str())
            .with("nonce", self.nonce.as_str())
            .with("verifier", self.verifier.as_str())
            .with("redirect_uri", self.redirect_uri.as_str())
    }

    fn from_json(document: &Object) -> Option<Pending> {
        Some(Pending {
            state: document.string("state")?,
            nonce: document.string("nonce")?,
            verifier: document.string("verifier")?,
            redirect_uri: document.string("redirect_uri")?,
        })
    }
}

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
            expires_at: document.number("expires_at")?,
            refresh_token: document.string("refresh_token"),
        })
    }

    /// The non-personal claims as an object.
    pub fn claims_object(&self) -> Object {
        Object::parse(&self.claims).unwrap_or_else(Object::new)
    }
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

fn random_text() -> Result<String, Failure> {
    let mut bytes = [0u8; 32];
    window()?
        .crypto()
        .and_then(|crypto| crypto.get_random_values_with_u8_array(&mut bytes))
        .map_err(|_| Failure::Configuration("crypto.getRandomValues is not available".into()))?;
    base64url(&bytes)
}

async fn sha256(text: &str) -> Result<Vec<u8>, Failure> {
    let subtle = window()?
        .crypto()
        .map_err(|_| {
            Failure::Configuration("WebCrypto is not available (https or localhost only)".into())
        })?
        .subtle();
    let digest = JsFuture::from(
        subtle
            .digest_with_str_and_u8_array("SHA-256", text.as_bytes())
            .map_err(|_| Failure::Configuration("SHA-256 is not available".into()))?,
    )
    .await
    .map_err(|_| Failure::Configuration("SHA-256 failed".into()))?;
    Ok(js_sys::Uint8Array::new(&digest).to_vec())
}

/// Base64url without padding (RFC 4648 section 5), through the browser's
/// `btoa`: it takes a "binary string" of one character per byte.
fn base64url(bytes: &[u8]) -> Result<String, Failure> {
    let binary: String = bytes.iter().map(|&byte| char::from(byte)).collect();
    let encoded = window()?
        .btoa(&binary)
        .map_err(|_| Failure::Configuration("btoa refused the bytes".into()))?;
    Ok(encoded
        .chars()
        .filter(|&character| character != '=')
        .map(|character| match character {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect())
}

fn storage() -> Result<web_sys::Storage, Failure> {
    window()?
        .session_storage()
        .ok()
        .flatten()
        .ok_or_else(|| Failure::Configuration("sessionStorage is not available".into()))
}

fn pending_key(tenant: &str) -> String {
    format!("tessera.pending.{tenant}")
}

fn encode(text: &str) -> String {
    js_sys::encode_uri_component(text)
        .as_string()
        .unwrap_or_default()
}

/// The registered redirect URI for this page: the one equal to the page's
/// origin and path, else the first.
pub fn redirect_uri(config: &TenantConfig) -> Result<String, Failure> {
    let location = window()?.location();
    let here = format!(
        "{}{}",
        location.origin().unwrap_or_default(),
        location.pathname().unwrap_or_default()
    );
    config
        .redirect_uris
        .iter()
        .find(|uri| **uri == here)
        .or_else(|| config.redirect_uris.first())
        .cloned()
        .ok_or_else(|| Failure::Configuration("the tenant has no redirect URI".into()))
}

/// Starts a sign-in: remembers state, nonce and verifier, and returns the
/// authorization URL to go to.
pub async fn authorization_url(
    tenant: &str,
    config: &TenantConfig,
    discovery: &Discovery,
    ui_locale: &str,
    hint: Option<(&str, &str)>,
    mode: Mode,
) -> Result<String, Failure> {
    let state_prefix = match mode {
        Mode::Redirect => "",
        Mode::Popup => POPUP_STATE_PREFIX,
    };
    let pending = Pending {
        state: format!("{state_prefix}{}", random_text()?),
        nonce: random_text()?,
        verifier: random_text()? + &random_text()?,
        redirect_uri: redirect_uri(config)?,
    };
    let challenge = base64url(&sha256(&pending.verifier).await?)?;
    let mut url = format!(
        "{}?response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&nonce={}&code_challenge={}&code_challenge_method=S256&ui_locales={}",
        discovery.authorization_endpoint,
        encode(&config.client_id),
        encode(&pending.redirect_uri),
        encode(
            &js_sys::Array::from_iter(config.scopes.iter().map(|scope| JsValue::from_str(scope)))
                .join(" ")
                .as_string()
                .unwrap_or_default()
        ),
        encode(&pending.state),
        encode(&pending.nonce),
        challenge,
        encode(ui_locale),
    );
    if let Some((parameter, value)) = hint {
        url.push_str(&format!("&{}={}", encode(parameter), encode(value)));
    }
    storage()?
        .set_item(&pending_key(tenant), &pending.to_json().text())
        .map_err(|_| Failure::Configuration("sessionStorage is full or blocked".into()))?;
    Ok(url)
}

/// How the widget takes the customer to the IdP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The page itself goes to the IdP and comes back (the default).
    Redirect,
    /// A popup goes to the IdP; its callback is relayed to the page.
    Popup,
}

/// Marks the `state` of a popup sign-in, so that the page loaded in the
/// popup knows to hand the callback to its opener instead of completing it.
const POPUP_STATE_PREFIX: &str = "popup.";

/// The message type a popup relays its callback with.
const POPUP_MESSAGE: &str = "tessera:callback";

/// The callback parameters in the page's URL, if this is a callback.
#[derive(Debug, Clone)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

impl Callback {
    fn to_json(&self) -> Object {
        Object::new()
            .with_optional("code", self.code.as_deref())
            .with_optional("state", self.state.as_deref())
            .with_optional("error", self.error.as_deref())
    }

    fn from_json(document: &Object) -> Callback {
        Callback {
            code: document.string("code"),
            state: document.string("state"),
            error: document.string("error"),
        }
    }
}

/// In the popup: hands a popup sign-in's callback to the page that opened it
/// (same origin only, by `postMessage`'s target origin) and closes the popup.
/// Returns `false`, touching nothing, when this is not such a popup.
pub fn relay_to_opener(callback: &Callback) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let popup_state = callback
        .state
        .as_deref()
        .is_some_and(|state| state.starts_with(POPUP_STATE_PREFIX));
    let opener = window.opener().unwrap_or(JsValue::NULL);
    if !popup_state || opener.is_null() || opener.is_undefined() {
        return false;
    }
    let Ok(origin) = window.location().origin() else {
        return false;
    };
    let message = Object::new()
        .with("type", POPUP_MESSAGE)
        .with("callback", callback.to_json());
    let opener: web_sys::Window = opener.unchecked_into();
    // The target origin is this page's own: a foreign opener receives nothing.
    if opener.post_message(message.value(), &origin).is_err() {
        return false;
    }
    let _ = window.close();
    true
}

/// In the page: opens the sign-in popup. It must run inside the click
/// handler, while the browser still counts the click as user activation.
pub fn open_popup() -> Result<web_sys::Window, Failure> {
    window()?
        .open_with_url_and_target_and_features(
            "about:blank",
            "tessera-login",
            "popup,width=520,height=680",
        )
        .ok()
        .flatten()
        .ok_or(Failure::PopupBlocked)
}

/// In the page: waits for the popup's relayed callback. Only a message from
/// this page's origin and from this very popup counts; closing the popup
/// first is a cancellation.
pub async fn popup_callback(popup: &web_sys::Window) -> Result<Callback, Failure> {
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::closure::Closure;

    let window = window()?;
    let origin = window.location().origin().unwrap_or_default();
    let resolver: Rc<RefCell<Option<js_sys::Function>>> = Rc::default();
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        *resolver.borrow_mut() = Some(resolve);
    });
    let finish = {
        let resolver = resolver.clone();
        move || {
            if let Some(resolve) = resolver.borrow().as_ref() {
                let _ = resolve.call0(&JsValue::NULL);
            }
        }
    };
    let received: Rc<RefCell<Option<Callback>>> = Rc::default();
    let on_message = {
        let received = received.clone();
        let popup = JsValue::from(popup.clone());
        let finish = finish.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let from_popup = event
                .source()
                .is_some_and(|source| JsValue::from(source) == popup);
            if event.origin() != origin || !from_popup {
                return;
            }
            let Some(message) = Object::from_value(event.data()) else {
                return;
            };
            if message.string("type").as_deref() == Some(POPUP_MESSAGE)
                && let Some(callback) = message.object("callback")
            {
                *received.borrow_mut() = Some(Callback::from_json(&callback));
                finish();
            }
        })
    };
    let on_tick = {
        let popup = popup.clone();
        Closure::<dyn FnMut()>::new(move || {
            if popup.closed().unwrap_or(true) {
                finish();
            }
        })
    };
    let _ = window.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    let interval = window
        .set_interval_with_callback_and_timeout_and_arguments_0(
            on_tick.as_ref().unchecked_ref(),
            400,
        )
        .unwrap_or_default();
    let _ = JsFuture::from(promise).await;
    window.clear_interval_with_handle(interval);
    let _ =
        window.remove_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    drop((on_message, on_tick));
    let _ = popup.close();
    let callback = received.take();
    callback.ok_or(Failure::Cancelled)
}

/// Takes this widget's sign-in callback from the URL: `code`/`state`/`error`,
/// removed (with `iss`, `error_description`, `session_state`) by
/// `history.replaceState`. Only a callback this tab is waiting for is taken:
/// one whose `state` is the pending sign-in's of `tenant`, or, in a sign-in
/// popup (a page with an opener), one whose `state` marks a popup sign-in,
/// which the opener checks against its own pending sign-in. Any other
/// `code` or `error` in the URL (a shop's coupon `?code=SUMMER10`, a payment
/// provider's `?error=...`) belongs to someone else and is left untouched.
pub fn take_callback(tenant: &str) -> Option<Callback> {
    let window = web_sys::window()?;
    let href = window.location().href().ok()?;
    let url = web_sys::Url::new(&href).ok()?;
    let parameters = url.search_params();
    let callback = Callback {
        code: parameters.get("code"),
        state: parameters.get("state"),
        error: parameters.get("error"),
    };
    if callback.code.is_none() && callback.error.is_none() {
        return None;
    }
    let state = callback.state.as_deref()?;
    let opener = window.opener().unwrap_or(JsValue::NULL);
    let in_popup =
        state.starts_with(POPUP_STATE_PREFIX) && !opener.is_null() && !opener.is_undefined();
    if !in_popup && pending_state(tenant).as_deref() != Some(state) {
        return None;
    }
    for name in [
        "code",
        "state",
        "iss",
        "error",
        "error_description",
        "session_state",
    ] {
        parameters.delete(name);
    }
    let _ = window
        .history()
        .ok()?
        .replace_state_with_url(&JsValue::NULL, "", Some(&url.href()));
    Some(callback)
}

/// The `state` of the sign-in this tab started for `tenant`, if any.
fn pending_state(tenant: &str) -> Option<String> {
    let text = storage().ok()?.get_item(&pending_key(tenant)).ok()??;
    Object::parse(&text)?.string("state")
}

/// Forgets a sign-in that will not complete (the popup was closed).
pub fn forget_pending(tenant: &str) {
    if let Ok(storage) = storage() {
        let _ = storage.remove_item(&pending_key(tenant));
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
            .with("nonce", pending.nonce),
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
            .with("heard", crate::rotations::heard(tenant)),
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
    use crate::test_support::{
        local_storage_length, page_address, session, tenant_config, unreachable_discovery, window,
    };

    fn parameters(url: &str) -> web_sys::UrlSearchParams {
        web_sys::Url::new(url).expect("a URL").search_params()
    }

    fn pending(tenant: &str) -> Pending {
        let text = storage()
            .expect("sessionStorage")
            .get_item(&pending_key(tenant))
            .expect("readable")
            .expect("the pending sign-in is stored");
        Pending::from_json(&Object::parse(&text).expect("stored as JSON"))
            .expect("a pending sign-in")
    }

    #[wasm_bindgen_test]
    fn base64url_is_rfc_4648_section_5_without_padding() {
        for (bytes, expected) in [
            (&b""[..], ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (&[0xfb, 0xff], "-_8"),
            (&[0x00, 0x80, 0xfe], "AID-"),
        ] {
            assert_eq!(base64url(bytes).expect("btoa"), expected, "{bytes:?}");
        }
    }

    #[wasm_bindgen_test]
    async fn pkce_challenge_matches_rfc_7636_appendix_b() {
        let digest = sha256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
            .await
            .expect("WebCrypto digests");
        assert_eq!(
            base64url(&digest).expect("btoa"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[wasm_bindgen_test]
    async fn authorization_request_carries_pkce_s256_state_nonce_and_only_openid() {
        let tenant = "unit-authorize";
        let local_before = local_storage_length();
        let config = tenant_config("memory", &[]);
        let discovery = unreachable_discovery();
        let url = authorization_url(tenant, &config, &discovery, "ar", None, Mode::Redirect)
            .await
            .expect("an authorization URL");
        assert!(url.starts_with("https://idp.example.test/authorize?"));
        let query = parameters(&url);
        let first = pending(tenant);
        let expected = [
            ("response_type", "code".to_owned()),
            ("client_id", "shop-widget".to_owned()),
            ("redirect_uri", page_address()),
            ("scope", "openid".to_owned()),
            ("code_challenge_method", "S256".to_owned()),
            ("ui_locales", "ar".to_owned()),
            ("state", first.state.clone()),
            ("nonce", first.nonce.clone()),
            (
                "code_challenge",
                base64url(&sha256(&first.verifier).await.expect("a digest")).expect("btoa"),
            ),
        ];
        for (name, value) in expected {
            assert_eq!(query.get(name), Some(value), "parameter {name}");
        }
        // RFC 7636 section 4.1: 43 to 128 characters; state and nonce carry
        // 256 random bits each.
        assert!((43..=128).contains(&first.verifier.len()));
        assert_eq!(first.state.len(), 43);
        assert_eq!(first.nonce.len(), 43);
        assert_eq!(first.redirect_uri, page_address());

        let hint = Some(("kc_idp_hint", "google"));
        let url = authorization_url(tenant, &config, &discovery, "en", hint, Mode::Popup)
            .await
            .expect("an authorization URL");
        let second = pending(tenant);
        assert_eq!(
            parameters(&url).get("kc_idp_hint").as_deref(),
            Some("google")
        );
        assert!(second.state.starts_with(POPUP_STATE_PREFIX));
        assert_ne!(second.state, first.state);
        assert_ne!(second.nonce, first.nonce);
        assert_ne!(second.verifier, first.verifier);

        forget_pending(tenant);
        assert_eq!(
            storage()
                .expect("sessionStorage")
                .get_item(&pending_key(tenant)),
            Ok(None)
        );
        assert_eq!(
            local_storage_length(),
            local_before,
            "nothing goes to localStorage"
        );
    }

    /// Makes this tab wait for a sign-in of `tenant` with `state`.
    fn wait_for(tenant: &str, state: &str) {
        let pending = Pending {
            state: state.to_owned(),
            nonce: "n".to_owned(),
            verifier: "v".to_owned(),
            redirect_uri: "https://shop.example/".to_owned(),
        };
        storage()
            .expect("sessionStorage")
            .set_item(&pending_key(tenant), &pending.to_json().text())
            .expect("stored");
    }

    #[wasm_bindgen_test]
    fn other_peoples_code_and_error_parameters_are_left_alone() {
        let history = window().history().expect("history");
        let original = window().location().href().expect("an address");
        for (pending, query) in [
            (None, "?code=SUMMER10"),
            (None, "?code=SUMMER10&state=the-state"),
            (None, "?error=payment_declined&state=psp-123"),
            (Some("the-state"), "?code=SUMMER10"),
            (Some("the-state"), "?code=c&state=another-state"),
            (Some("the-state"), "?error=payment_declined&state=psp-123"),
            // A popup's state, but this page has no opener: not a popup.
            (None, "?code=c&state=popup.x"),
        ] {
            forget_pending("callbacks");
            if let Some(state) = pending {
                wait_for("callbacks", state);
            }
            history
                .replace_state_with_url(&JsValue::NULL, "", Some(query))
                .expect("replaceState");
            assert!(take_callback("callbacks").is_none(), "{pending:?} {query}");
            assert_eq!(
                window().location().search().as_deref(),
                Ok(query),
                "the URL is untouched: {pending:?} {query}"
            );
        }
        forget_pending("callbacks");
        history
            .replace_state_with_url(&JsValue::NULL, "", Some(&original))
            .expect("replaceState");
    }

    #[wasm_bindgen_test]
    fn callback_is_taken_from_the_url_and_the_url_cleaned() {
        let history = window().history().expect("history");
        let original = window().location().href().expect("an address");
        wait_for("callbacks", "the-state");
        history
            .replace_state_with_url(
                &JsValue::NULL,
                "",
                Some("?keep=1&code=the-code&state=the-state&iss=https%3A%2F%2Fidp&session_state=s#part"),
            )
            .expect("replaceState");
        let callback = take_callback("callbacks").expect("a callback");
        assert_eq!(callback.code.as_deref(), Some("the-code"));
        assert_eq!(callback.state.as_deref(), Some("the-state"));
        assert_eq!(callback.error, None);
        assert_eq!(window().location().search().as_deref(), Ok("?keep=1"));
        assert_eq!(window().location().hash().as_deref(), Ok("#part"));
        assert!(
            take_callback("callbacks").is_none(),
            "a callback is taken once"
        );

        wait_for("callbacks", "s");
        history
            .replace_state_with_url(&JsValue::NULL, "", Some("?error=access_denied&state=s"))
            .expect("replaceState");
        let callback = take_callback("callbacks").expect("an error callback");
        assert_eq!(callback.error.as_deref(), Some("access_denied"));
        assert_eq!(window().location().search().as_deref(), Ok(""));
        forget_pending("callbacks");
        history
            .replace_state_with_url(&JsValue::NULL, "", Some(&original))
            .expect("replaceState");
    }

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
