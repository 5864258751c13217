//! The Tessera verifier compiled to WebAssembly for browsers, Node 20+ and
//! Worker-style runtimes: the npm package `@tessera/verifier`.
//!
//! Every rule is `tessera-verifier`'s own; this crate adds only what a host
//! provides. Signatures are checked by the host's native crypto through
//! [`SignatureEngine`], with imported keys cached per key set, because native
//! code is several times faster than signature arithmetic compiled to wasm32:
//! a synchronous host engine where the runtime has one (`node:crypto` in Node
//! and Bun, passed in by the JS wrapper), otherwise WebCrypto
//! (`crypto.subtle`), whose every call is an asynchronous round trip. With a
//! synchronous engine, and for cache hits, [`WasmVerifier::verify_sync`]
//! answers without any promise. Remote key sets are fetched with the host's
//! `fetch`, under the same cache policy as the native adapter
//! ([`tessera_verifier::jwks_cache`]).
//!
//! What it is not: the JavaScript API. `js/index.js` wraps [`WasmVerifier`]
//! in an idiomatic promise-based API with typed errors, and that is what users
//! import.

mod options;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Object, Promise, Reflect};
use serde_json::Value;
use tessera_verifier::jwks_cache::{
    JwksCachePolicy, JwksCacheState, JwksSnapshot, Plan, key_set_from_document_or_snapshot,
    max_age_from_cache_control,
};
use tessera_verifier::location::{
    KeyLocation, Transport, WebUrl, jwks_uri_from_discovery, key_url, may_redirect,
};
use tessera_verifier::webcrypto::{ImportedKeys, WebCrypto};
use tessera_verifier::{
    Algorithm, Clock, KeySet, Passport, PendingSignature, PersonalData, SignatureCheck,
    SignatureEngine, SignatureInput, TimeClaims, VerificationKey, Verifier, VerifyError,
};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use web_sys::Response;

use crate::options::Options;

/// The largest discovery or JWKS document accepted, in bytes.
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// The runtime's own WHATWG `URL` as the key-location rules' parser: the
/// same standard as the `url` crate the native verifier uses, without its
/// size in the package.
struct HostUrl(web_sys::Url);

impl WebUrl for HostUrl {
    fn parse(text: &str) -> Option<Self> {
        web_sys::Url::new(text).ok().map(HostUrl)
    }
    fn scheme(&self) -> String {
        // `protocol` is the scheme followed by its `:`.
        let protocol = self.0.protocol();
        protocol.strip_suffix(':').unwrap_or(&protocol).to_owned()
    }
    fn has_credentials(&self) -> bool {
        !self.0.username().is_empty() || !self.0.password().is_empty()
    }
    fn host(&self) -> String {
        self.0.hostname()
    }
    fn has_query(&self) -> bool {
        !self.0.search().is_empty()
    }
    fn has_fragment(&self) -> bool {
        !self.0.hash().is_empty()
    }
    fn path(&self) -> String {
        self.0.pathname()
    }
    fn set_path(&mut self, path: &str) {
        self.0.set_pathname(path);
    }
    fn href(&self) -> String {
        self.0.href()
    }
}

#[wasm_bindgen]
extern "C" {
    // The global `fetch`, present in browsers, Node 18+ and Workers alike.
    #[wasm_bindgen(js_name = fetch)]
    fn host_fetch(input: &str, init: &JsValue) -> Promise;

    /// A synchronous signature engine from the host (the JS wrapper builds one
    /// on `node:crypto`): `importKey(jwk)` returns an opaque key and
    /// `verify(alg, key, data, signature)` returns a boolean.
    pub type HostCrypto;
    #[wasm_bindgen(method, catch, js_name = importKey)]
    fn import_key(this: &HostCrypto, jwk: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn verify(
        this: &HostCrypto,
        algorithm: &str,
        key: &JsValue,
        data: &[u8],
        signature: &[u8],
    ) -> Result<bool, JsValue>;
    /// The algorithms the host leaves to WebCrypto (Deno's ECDSA), if any.
    #[wasm_bindgen(method, getter, js_name = webCrypto)]
    fn web_crypto(this: &HostCrypto) -> Option<Vec<String>>;
}

fn now_seconds() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

/// Builds the JS error the wrapper rethrows: an `Error` with `code` (and
/// `claim` when the error names one).
fn to_js_error(error: &VerifyError) -> JsValue {
    let js_error = js_sys::Error::new(&error.to_string());
    js_error.set_name("TesseraVerifyError");
    let _ = Reflect::set(&js_error, &"code".into(), &error.code().into());
    if let Some(claim) = error.claim() {
        let _ = Reflect::set(&js_error, &"claim".into(), &claim.into());
    }
    js_error.into()
}

fn js_object(value: &Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap_or(JsValue::UNDEFINED)
}

fn configuration_error(reason: impl Into<String>) -> VerifyError {
    // Only the crate's constructors exist for most variants; configuration
    // errors are built through the builder's validation path.
    VerifyError::InvalidConfiguration {
        reason: reason.into(),
    }
}

/// A host's synchronous engine, with imported keys cached.
struct SyncHost {
    host: HostCrypto,
    imported: ImportedKeys<JsValue>,
}

impl SyncHost {
    fn verify_now(
        &self,
        key: &VerificationKey,
        cache_key: (u64, usize, Algorithm),
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, VerifyError> {
        let algorithm = cache_key.2;
        let imported = match self.imported.get(cache_key) {
            Some(imported) => imported,
            None => {
                let imported = self
                    .host
                    .import_key(&js_object(key.public_jwk()))
                    .map_err(|_| configuration_error("the host cannot import the key"))?;
                self.imported.insert(cache_key, imported.clone());
                imported
            }
        };
        let name = format!("{algorithm:?}");
        // A host that throws (a malformed signature, say) has not verified.
        Ok(self
            .host
            .verify(&name, &imported, message, signature)
            .unwrap_or(false))
    }
}

/// The engine a verifier uses: synchronous where the host offers one.
enum Engine {
    Sync(SyncHost),
    WebCrypto(WebCrypto),
    /// A synchronous engine that leaves some algorithms to WebCrypto: Deno's
    /// `node:crypto` checks ECDSA at about half the rate of its WebCrypto.
    Mixed {
        host: SyncHost,
        web: WebCrypto,
        web_algorithms: Vec<Algorithm>,
    },
}

/// How an engine's check of one signature began, without a Rust future.
enum Begun {
    /// A synchronous engine answered.
    Answered(Result<bool, VerifyError>),
    /// WebCrypto is checking; the promise resolves to the verdict.
    Awaiting(Promise),
    /// The key must be imported first (the asynchronous `verify`).
    NotReady,
}

/// Which of an engine's two checks `algorithm` goes to.
enum Route<'e> {
    Host(&'e SyncHost),
    Web(&'e WebCrypto),
}

impl Engine {
    fn route(&self, algorithm: Algorithm) -> Route<'_> {
        match self {
            Engine::Sync(host) => Route::Host(host),
            Engine::WebCrypto(web) => Route::Web(web),
            Engine::Mixed {
                host,
                web,
                web_algorithms,
            } => {
                if web_algorithms.contains(&algorithm) {
                    Route::Web(web)
                } else {
                    Route::Host(host)
                }
            }
        }
    }

    fn begin(&self, input: &SignatureInput<'_>) -> Begun {
        match self.route(input.algorithm) {
            Route::Host(host) => Begun::Answered(host.verify_now(
                input.key,
                (input.key_set_generation, input.key_index, input.algorithm),
                input.message,
                input.signature,
            )),
            Route::Web(web) => match web.start_verify(input) {
                None => Begun::NotReady,
                Some(Ok(promise)) => Begun::Awaiting(promise),
                Some(Err(error)) => Begun::Answered(Err(error)),
            },
        }
    }
}

impl SignatureEngine for Engine {
    async fn verify_signature(
        &self,
        key: &VerificationKey,
        key_set_generation: u64,
        key_index: usize,
        algorithm: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, VerifyError> {
        match self.route(algorithm) {
            Route::Web(web) => {
                web.verify_signature(
                    key,
                    key_set_generation,
                    key_index,
                    algorithm,
                    message,
                    signature,
                )
                .await
            }
            Route::Host(host) => host.verify_now(
                key,
                (key_set_generation, key_index, algorithm),
                message,
                signature,
            ),
        }
    }
}

struct Remote {
    issuer: Option<String>,
    jwks_uri: RefCell<Option<String>>,
    policy: JwksCachePolicy,
    transport: Transport,
    state: RefCell<JwksCacheState>,
    // The fetch under way, shared by every caller that needs it.
    in_flight: RefCell<Option<Promise>>,
    // Why the last fetch failed, handed to callers while a cooldown passes.
    last_error: RefCell<Option<VerifyError>>,
}

struct Inner {
    verifier: Verifier,
    engine: Engine,
    remote: Option<Remote>,
}

/// A token whose signature WebCrypto is checking: the JS wrapper awaits
/// `promise` itself, which costs less than a Rust future around it.
#[wasm_bindgen]
pub struct PendingCheck {
    pending: PendingSignature,
    promise: Promise,
}

#[wasm_bindgen]
impl PendingCheck {
    /// Resolves to `true` for a good signature.
    #[wasm_bindgen(getter)]
    pub fn promise(&self) -> Promise {
        self.promise.clone()
    }
}

/// A verifier for one issuer and audience; build it with `createVerifier` from
/// the JS wrapper.
#[wasm_bindgen]
pub struct WasmVerifier {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl WasmVerifier {
    /// Builds a verifier from the JSON text of the options object, with the
    /// host's synchronous engine when there is one.
    #[wasm_bindgen(constructor)]
    pub fn new(options_json: &str, host: Option<HostCrypto>) -> Result<WasmVerifier, JsValue> {
        Self::build(options_json, host).map_err(|error| to_js_error(&error))
    }

    fn build(options_json: &str, host: Option<HostCrypto>) -> Result<WasmVerifier, VerifyError> {
        let options = Options::from_json(options_json)?;
        let issuers = options.issuer.unwrap_or_default();
        let mut builder = Verifier::builder()
            .clock(match options.now {
                Some(fixed) => Clock::Fixed(fixed),
                None => Clock::Function(now_seconds),
            })
            .clock_tolerance_seconds(options.clock_tolerance.unwrap_or(0));
        for issuer in &issuers {
            builder = builder.issuer(issuer);
        }
        for audience in options.audience.unwrap_or_default() {
            builder = builder.audience(audience);
        }
        if options.dangerously_accept_any_issuer {
            builder = builder.dangerous_accept_any_issuer();
        }
        if options.dangerously_accept_any_audience {
            builder = builder.dangerous_accept_any_audience();
        }
        if let Some(algorithms) = options.algorithms {
            builder = builder.algorithms(algorithms)?;
        }
        if let Some(seconds) = options.max_token_age {
            builder = builder.max_token_age_seconds(seconds);
        }
        if let Some(media_type) = options.typ {
            builder = builder.expected_type(media_type);
        }
        if let Some(subject) = options.subject {
            builder = builder.expected_subject(subject);
        }
        for claim in options.required_claims {
            builder = builder.required_claim(claim);
        }
        if options.reject_pii {
            builder = builder.personal_data(PersonalData::Reject);
        }
        if let Some(bytes) = options.max_token_bytes {
            builder = builder.max_token_bytes(bytes);
        }
        // The wrapper keeps the cache of parsed passports (core.js); the
        // crate's own cache is not built in (no `token-cache` feature).
        if options.cache_size == Some(0) {
            return Err(configuration_error(
                "the token cache capacity must be above zero",
            ));
        }
        let mut fetched_at = None;
        let mut snapshot_uri = None;
        if let Some(document) = options.jwks {
            // Text is read by the strict reader, which refuses repeated
            // members; an object has lost them already in JSON.parse.
            let text = match document {
                Value::String(text) => text,
                object => object.to_string(),
            };
            if let Ok(snapshot) = JwksSnapshot::from_json(&text) {
                fetched_at = Some(snapshot.fetched_at);
                snapshot_uri = snapshot.jwks_uri.clone();
            }
            builder = builder.key_set(key_set_from_document_or_snapshot(&text)?);
        } else if options.remote.is_none() {
            return Err(configuration_error(
                "give `jwks` (a JWKS or snapshot) or `remote` (fetch from the issuer)",
            ));
        }
        let verifier = builder.build()?;
        let remote = match options.remote {
            None => None,
            Some(remote) => {
                let defaults = JwksCachePolicy::default();
                let policy = JwksCachePolicy {
                    default_max_age_seconds: remote
                        .default_max_age_seconds
                        .unwrap_or(defaults.default_max_age_seconds),
                    cooldown_seconds: remote.cooldown_seconds.unwrap_or(defaults.cooldown_seconds),
                    timeout_milliseconds: remote
                        .timeout_ms
                        .unwrap_or(defaults.timeout_milliseconds),
                    stale_if_error_seconds: remote
                        .stale_if_error_seconds
                        .unwrap_or(defaults.stale_if_error_seconds),
                };
                let issuer = match (&remote.jwks_uri, issuers.as_slice()) {
                    (Some(_), _) => None,
                    (None, [one]) => Some(one.clone()),
                    (None, _) => {
                        return Err(configuration_error(
                            "discovery needs exactly one issuer (or give remote.jwksUri)",
                        ));
                    }
                };
                let transport = if remote.dangerously_allow_http {
                    Transport::DangerousAllowHttp
                } else {
                    Transport::HttpsOrLoopback
                };
                let location = match (&remote.jwks_uri, &issuer) {
                    (Some(uri), _) => KeyLocation::JwksUri(uri.clone()),
                    (None, Some(issuer)) => KeyLocation::Discovery {
                        issuer: issuer.clone(),
                    },
                    (None, None) => unreachable_location()?,
                };
                location.first_url::<HostUrl>(transport)?;
                let state = match fetched_at {
                    Some(at) => JwksCacheState::fetched(at, policy.default_max_age_seconds),
                    None => JwksCacheState::default(),
                };
                Some(Remote {
                    issuer,
                    jwks_uri: RefCell::new(remote.jwks_uri.or(snapshot_uri)),
                    policy,
                    transport,
                    state: RefCell::new(state),
                    in_flight: RefCell::new(None),
                    last_error: RefCell::new(None),
                })
            }
        };
        let engine = match host {
            None => Engine::WebCrypto(WebCrypto::new()?),
            Some(host) => {
                let web_algorithms = host
                    .web_crypto()
                    .unwrap_or_default()
                    .iter()
                    .map(|name| tessera_verifier::parse_algorithm(name))
                    .collect::<Result<Vec<_>, _>>()?;
                let host = SyncHost {
                    host,
                    imported: ImportedKeys::new(),
                };
                if web_algorithms.is_empty() {
                    Engine::Sync(host)
                } else {
                    Engine::Mixed {
                        host,
                        web: WebCrypto::new()?,
                        web_algorithms,
                    }
                }
            }
        };
        Ok(WasmVerifier {
            inner: Rc::new(Inner {
                verifier,
                engine,
                remote,
            }),
        })
    }

    /// Verifies without a Rust future when that is possible. Returns the
    /// JSON text of the passport (a synchronous engine), a [`PendingCheck`]
    /// (WebCrypto with the key imported: await its `promise`, then call
    /// `completeCheck`), or `undefined` when the asynchronous `verify` is
    /// needed (keys to fetch or to import); throws the error.
    #[wasm_bindgen(js_name = verifySync)]
    pub fn verify_sync(&self, token: &str) -> Result<JsValue, JsValue> {
        let inner = &self.inner;
        if !keys_usable_now(inner) {
            return Ok(JsValue::UNDEFINED);
        }
        let started = inner
            .verifier
            .begin_signature_check(token, |input| Ok(inner.engine.begin(&input)));
        let json = |passport: Passport| JsValue::from(passport.to_json_text());
        let outcome = match started {
            Err(error) => Some(Err(error)),
            Ok(SignatureCheck::Cached(passport)) => Some(Ok(json(passport))),
            Ok(SignatureCheck::Started(pending, Begun::Answered(valid))) => Some(
                valid
                    .and_then(|valid| inner.verifier.complete_signature_check(pending, valid))
                    .map(json),
            ),
            Ok(SignatureCheck::Started(_, Begun::NotReady)) => None,
            Ok(SignatureCheck::Started(pending, Begun::Awaiting(promise))) => {
                Some(Ok(PendingCheck { pending, promise }.into()))
            }
        };
        match outcome {
            None => Ok(JsValue::UNDEFINED),
            Some(Err(VerifyError::NoMatchingKey { .. })) if may_refetch(inner) => {
                Ok(JsValue::UNDEFINED)
            }
            Some(Ok(answer)) => Ok(answer),
            Some(Err(error)) => Err(to_js_error(&error)),
        }
    }

    /// Finishes what `verifySync` began: `valid` is what WebCrypto's promise
    /// resolved to (`false` when it rejected). Returns the passport's JSON
    /// text or throws the error.
    #[wasm_bindgen(js_name = completeCheck)]
    pub fn complete_check(&self, check: PendingCheck, valid: bool) -> Result<String, JsValue> {
        self.inner
            .verifier
            .complete_signature_check(check.pending, valid)
            .map(|passport| passport.to_json_text().to_owned())
            .map_err(|error| to_js_error(&error))
    }

    /// The generation of the current key set, for the JS wrapper's cache to
    /// stamp an entry with before it verifies.
    #[wasm_bindgen(js_name = keySetGeneration)]
    pub fn key_set_generation(&self) -> f64 {
        // Generations count key-set replacements from 1: far below 2^53.
        self.inner.verifier.key_set_generation() as f64
    }

    /// Whether the JS wrapper's cache may answer with a passport verified
    /// under key set `generation` with these time claims (NaN for an absent
    /// one): the same checks as a hit in the verifier's own cache, after the
    /// same look at the remote key set as `verifySync`. The time rules stay
    /// in Rust; the wrapper keeps only the parsed passports, so a hit costs
    /// no token copy, no digest and no JSON.
    #[wasm_bindgen(js_name = stillValid)]
    pub fn still_valid(&self, generation: f64, exp: f64, nbf: f64, iat: f64) -> bool {
        let inner = &self.inner;
        if !keys_usable_now(inner) {
            return false;
        }
        let number = |value: f64| (!value.is_nan()).then_some(value);
        let times = TimeClaims {
            expires_at: number(exp),
            not_before: number(nbf),
            issued_at: number(iat),
        };
        generation >= 0.0 && inner.verifier.still_valid(times, generation as u64)
    }

    /// Verifies a token; resolves to the JSON text `{"header":..,"claims":..}`
    /// or rejects with an `Error` carrying `code`.
    pub fn verify(&self, token: String) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            match verify(&inner, &token).await {
                Ok(passport) => Ok(JsValue::from(passport.to_json_text().to_owned())),
                Err(error) => Err(to_js_error(&error)),
            }
        })
    }

    /// Fetches the remote key set now.
    pub fn refresh(&self) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            if inner.remote.is_none() {
                return Err(to_js_error(&configuration_error(
                    "this verifier has no remote key set",
                )));
            }
            refresh(&inner).await.map_err(|error| to_js_error(&error))?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The current key set as a snapshot (JSON text) for offline use, or
    /// `undefined` before any remote fetch.
    pub fn snapshot(&self) -> Option<String> {
        let remote = self.inner.remote.as_ref()?;
        let fetched_at = remote.state.borrow().fetched_at()?;
        Some(
            JwksSnapshot::of(
                &self.inner.verifier.key_set(),
                remote.issuer.clone(),
                remote.jwks_uri.borrow().clone(),
                fetched_at,
            )
            .to_json(),
        )
    }
}

/// Whether the key set may be used at once, without waiting for a fetch:
/// always for given keys; for remote keys, while fresh, or while stale with a
/// refresh started in the background.
fn keys_usable_now(inner: &Rc<Inner>) -> bool {
    let Some(remote) = &inner.remote else {
        return true;
    };
    let plan = remote
        .state
        .borrow()
        .plan(inner.verifier.now(), &remote.policy);
    match plan {
        Plan::Use => true,
        Plan::UseAndRefresh => {
            refresh_in_background(inner);
            true
        }
        Plan::Fetch | Plan::Wait | Plan::Unavailable => false,
    }
}

async fn verify(inner: &Rc<Inner>, token: &str) -> Result<Passport, VerifyError> {
    if let Some(remote) = &inner.remote {
        let plan = remote
            .state
            .borrow()
            .plan(inner.verifier.now(), &remote.policy);
        match plan {
            Plan::Use => {}
            // Stale-while-revalidate: the stale set answers now.
            Plan::UseAndRefresh => refresh_in_background(inner),
            Plan::Fetch | Plan::Wait => refresh(inner).await?,
            Plan::Unavailable => return Err(last_error(remote)),
        }
    }
    match inner
        .verifier
        .verify_with_engine(token, &inner.engine)
        .await
    {
        Err(VerifyError::NoMatchingKey { .. }) if may_refetch(inner) => {
            refresh(inner).await?;
            inner
                .verifier
                .verify_with_engine(token, &inner.engine)
                .await
        }
        outcome => outcome,
    }
}

fn last_error(remote: &Remote) -> VerifyError {
    remote
        .last_error
        .borrow()
        .clone()
        .unwrap_or_else(|| VerifyError::KeySetUnavailable {
            reason: "the issuer could not be reached".into(),
        })
}

fn unreachable_location() -> Result<KeyLocation, VerifyError> {
    Err(configuration_error(
        "discovery needs exactly one issuer (or give remote.jwksUri)",
    ))
}

/// Whether a token whose key is unknown may wait for a fetch: one under way,
/// or a new one when a cooldown has passed.
fn may_refetch(inner: &Inner) -> bool {
    inner.remote.as_ref().is_some_and(|remote| {
        remote.in_flight.borrow().is_some()
            || remote
                .state
                .borrow()
                .plan_for_unknown_key(inner.verifier.now(), &remote.policy)
                != Plan::Use
    })
}

/// Starts the fetch that refreshes a stale set, and does not wait for it.
fn refresh_in_background(inner: &Rc<Inner>) {
    let Some(remote) = &inner.remote else {
        return;
    };
    if remote.in_flight.borrow().is_some() {
        return;
    }
    let fetch = start_fetch(inner);
    // Nobody awaits it; a failure is recorded in the state.
    drop(fetch);
}

/// Joins the fetch under way, or starts one.
async fn refresh(inner: &Rc<Inner>) -> Result<(), VerifyError> {
    let Some(remote) = &inner.remote else {
        return Ok(());
    };
    let existing = remote.in_flight.borrow().clone();
    let promise = match existing {
        Some(promise) => promise,
        None => start_fetch(inner),
    };
    let outcome = JsFuture::from(promise).await.unwrap_or(JsValue::NULL);
    match outcome.as_string() {
        None => Ok(()),
        Some(_) => Err(last_error(remote)),
    }
}

/// Starts a fetch and records it as the one under way.
fn start_fetch(inner: &Rc<Inner>) -> Promise {
    let Some(remote) = &inner.remote else {
        return Promise::resolve(&JsValue::NULL);
    };
    remote
        .state
        .borrow_mut()
        .begin_attempt(inner.verifier.now());
    let task_inner = Rc::clone(inner);
    let promise = future_to_promise(async move {
        let outcome = fetch_and_install(&task_inner).await;
        if let Some(remote) = &task_inner.remote {
            *remote.in_flight.borrow_mut() = None;
        }
        // Every waiter reads the error itself from `last_error`.
        Ok(match outcome {
            Ok(()) => JsValue::NULL,
            Err(error) => JsValue::from(error.code()),
        })
    });
    *remote.in_flight.borrow_mut() = Some(promise.clone());
    promise
}

async fn fetch_and_install(inner: &Inner) -> Result<(), VerifyError> {
    let Some(remote) = &inner.remote else {
        return Ok(());
    };
    let outcome = fetch_key_set(remote).await;
    let now = inner.verifier.now();
    let mut state = remote.state.borrow_mut();
    match outcome {
        Ok((key_set, max_age, jwks_uri)) => {
            // An unchanged set keeps its generation, its imported keys and
            // its verified-token cache.
            if key_set.document() != inner.verifier.key_set().document() {
                inner.verifier.replace_key_set(key_set);
            }
            state.record_success(now, max_age, &remote.policy);
            *remote.jwks_uri.borrow_mut() = Some(jwks_uri);
            *remote.last_error.borrow_mut() = None;
            Ok(())
        }
        Err(error) => {
            state.record_failure(now);
            *remote.last_error.borrow_mut() = Some(error.clone());
            Err(error)
        }
    }
}

async fn fetch_key_set(remote: &Remote) -> Result<(KeySet, u64, String), VerifyError> {
    let known = remote.jwks_uri.borrow().clone();
    let jwks_uri = match (known, &remote.issuer) {
        (Some(uri), _) => uri,
        (None, Some(issuer)) => {
            let url: HostUrl = KeyLocation::Discovery {
                issuer: issuer.clone(),
            }
            .first_url(remote.transport)?;
            let (document, _) = fetch_bytes(&url.href(), remote).await?;
            jwks_uri_from_discovery::<HostUrl>(&document, issuer, remote.transport)?.href()
        }
        (None, None) => {
            return Err(VerifyError::KeySetUnavailable {
                reason: "no key location is known".into(),
            });
        }
    };
    let (document, cache_control) = fetch_bytes(&jwks_uri, remote).await?;
    let key_set = KeySet::from_slice(&document)?;
    let max_age = max_age_from_cache_control(cache_control.as_deref(), &remote.policy);
    Ok((key_set, max_age, jwks_uri))
}

/// GETs a document with the host's `fetch`: refuses an answer that a
/// redirect brought from a URL keys may not come from (a host's `fetch`
/// follows redirects itself), and reads the body chunk by chunk, cancelling
/// the read as soon as it passes [`MAX_DOCUMENT_BYTES`].
async fn fetch_bytes(url: &str, remote: &Remote) -> Result<(Vec<u8>, Option<String>), VerifyError> {
    let unavailable = |reason: String| VerifyError::KeySetUnavailable { reason };
    let requested: HostUrl = key_url(url, remote.transport)?;
    let init = Object::new();
    let timeout = u32::try_from(remote.policy.timeout_milliseconds).unwrap_or(u32::MAX);
    let signal = web_sys::AbortSignal::timeout_with_u32(timeout);
    let _ = Reflect::set(&init, &"signal".into(), &signal);
    let headers = Object::new();
    let _ = Reflect::set(&headers, &"accept".into(), &"application/json".into());
    let _ = Reflect::set(&init, &"headers".into(), &headers);
    let timeout_or = |error: JsValue, otherwise: &str| {
        let name = Reflect::get(&error, &"name".into())
            .ok()
            .and_then(|name| name.as_string());
        match name.as_deref() {
            Some("TimeoutError") | Some("AbortError") => VerifyError::KeySetTimeout,
            _ => unavailable(otherwise.to_owned()),
        }
    };
    let response: Response = JsFuture::from(host_fetch(url, &init))
        .await
        .map_err(|error| timeout_or(error, "cannot reach the issuer"))?
        .unchecked_into();
    let answered = response.url();
    if !answered.is_empty() {
        let allowed = key_url::<HostUrl>(&answered, Transport::DangerousAllowHttp)
            .is_ok_and(|answered| may_redirect(&requested, &answered, remote.transport));
        if !allowed {
            return Err(unavailable(
                "the issuer redirected to a URL keys may not be fetched from".into(),
            ));
        }
    }
    if !response.ok() {
        return Err(unavailable(format!(
            "the issuer answered {}",
            response.status()
        )));
    }
    let too_large = || {
        unavailable(format!(
            "the document is larger than {MAX_DOCUMENT_BYTES} bytes"
        ))
    };
    let cache_control = response.headers().get("cache-control").ok().flatten();
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|length| length.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_DOCUMENT_BYTES as u64) {
        return Err(too_large());
    }
    let Some(stream) = response.body() else {
        return Ok((Vec::new(), cache_control));
    };
    let reader: web_sys::ReadableStreamDefaultReader = stream
        .get_reader()
        .dyn_into()
        .map_err(|_| unavailable("the response cannot be read".into()))?;
    let mut body = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|error| timeout_or(error, "the response was cut off"))?;
        let done = Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|done| done.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        let bytes = Reflect::get(&chunk, &"value".into())
            .ok()
            .and_then(|value| value.dyn_into::<js_sys::Uint8Array>().ok())
            .ok_or_else(|| unavailable("the response is not bytes".into()))?;
        let length = bytes.length() as usize;
        if body.len().saturating_add(length) > MAX_DOCUMENT_BYTES {
            // Stop the transfer: nothing more is read from the issuer.
            let _ = reader.cancel();
            return Err(too_large());
        }
        let start = body.len();
        body.resize(start + length, 0);
        bytes.copy_to(&mut body[start..]);
    }
    Ok((body, cache_control))
}
