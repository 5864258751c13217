//! The Tessera verifier compiled to WebAssembly for browsers, Node 20+ and
//! Worker-style runtimes: the npm package `@tessera/verifier`.
//!
//! Every rule is `tessera-verifier`'s own; this crate adds only what a host
//! provides. Signatures are checked by the host's native crypto, with
//! imported keys cached per key set, because native code is several times
//! faster than signature arithmetic compiled to wasm32: a synchronous host
//! engine where the runtime has one (`node:crypto` in Node and Bun, passed in
//! by the JS wrapper), otherwise WebCrypto (`crypto.subtle`), whose every
//! call is an asynchronous round trip.
//!
//! Nothing here awaits. Every export answers at once, and whatever must be
//! waited for is handed to the JavaScript wrapper (`js/core.js`), which
//! awaits it and comes back: [`WasmVerifier::verify_sync`] answers with the
//! passport, a WebCrypto check under way ([`PendingCheck`]), a key import
//! under way ([`KeyImport`]), or `null` when keys must be fetched first.
//! Remote key sets are fetched by the wrapper with the host's `fetch`, one
//! step at a time, while this side decides everything about them: when to
//! fetch, from which URL, whether a redirect or an answer is acceptable, and
//! the same cache policy as the native adapter
//! ([`tessera_verifier::jwks_cache`]). So the package carries no executor
//! for Rust futures.
//!
//! What it is not: the JavaScript API. `js/core.js` wraps [`WasmVerifier`]
//! in an idiomatic promise-based API with typed errors, and that is what users
//! import.

mod options;

/// Talc instead of Rust's default dlmalloc: smaller in the module and
/// faster at the many small allocations a token's reading makes. Each
/// instance of the module is single-threaded (no shared memory).
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

use std::cell::RefCell;

use js_sys::{Function, Promise};
use tessera_verifier::jwks_cache::{
    JwksCachePolicy, JwksCacheState, Plan, SNAPSHOT_FORMAT, max_age_from_cache_control,
    read_document_or_snapshot,
};
use tessera_verifier::location::{
    KeyLocation, Transport, WebUrl, jwks_uri_from_discovery, key_url, may_redirect,
    snapshot_jwks_uri,
};
use tessera_verifier::webcrypto::{
    ImportedKeys, KeyId, WebCrypto, import_refused, js_object, jwk_object,
};
use tessera_verifier::{
    Algorithm, Clock, KeySet, KeySetText, Passport, PendingSignature, PersonalData, SignatureCheck,
    SignatureInput, TimeClaims, VerificationKey, Verifier, VerifyError,
};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;

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
    /// The algorithms the host leaves to WebCrypto (ECDSA in Deno, PS in
    /// workerd), if any.
    #[wasm_bindgen(method, getter, js_name = webCrypto)]
    fn web_crypto(this: &HostCrypto) -> Option<Vec<String>>;
}

fn now_seconds() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

/// What the wrapper turns into the `VerifyError` users see: `message`,
/// `code`, and `claim` when the error names one. A plain object, not an
/// `Error`, so a rejected token captures one stack (the `VerifyError`'s), not
/// two.
fn to_js_error(error: &VerifyError) -> JsValue {
    let members = [
        ("message", JsValue::from(error.to_string())),
        ("code", JsValue::from_str(error.code())),
    ];
    let claim = error
        .claim()
        .map(|claim| ("claim", JsValue::from_str(claim)));
    js_object(members.into_iter().chain(claim)).into()
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
                    .import_key(&jwk_object(key.public_jwk_members()))
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
    /// WebCrypto is importing the key first; the promise resolves to it.
    Importing(KeyId, Promise),
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
                None => match web.start_import(input.key, input.algorithm) {
                    Ok(promise) => Begun::Importing(
                        (input.key_set_generation, input.key_index, input.algorithm),
                        promise,
                    ),
                    Err(error) => Begun::Answered(Err(error)),
                },
                Some(Ok(promise)) => Begun::Awaiting(promise),
                Some(Err(error)) => Begun::Answered(Err(error)),
            },
        }
    }
}

struct Remote {
    issuer: Option<String>,
    jwks_uri: RefCell<Option<String>>,
    policy: JwksCachePolicy,
    transport: Transport,
    state: RefCell<JwksCacheState>,
    // The document the wrapper is fetching for the attempt under way.
    step: RefCell<Option<Step>>,
    // Why the last fetch failed, handed to callers while a cooldown passes.
    last_error: RefCell<Option<VerifyError>>,
    // The wrapper's function that starts a fetch in the background
    // (stale-while-revalidate) unless one is under way.
    start_refresh: Function,
}

/// One document of a fetch: OpenID discovery, or the key set itself.
struct Step {
    url: String,
    discovery: bool,
    // Whether `answered` accepted the answer's status and final URL.
    answer_accepted: bool,
}

struct Inner {
    verifier: Verifier,
    engine: Engine,
    remote: Option<Remote>,
}

/// A key WebCrypto is importing for a token: the JS wrapper awaits `promise`,
/// hands the key to `installKey`, and verifies the token again.
#[wasm_bindgen]
pub struct KeyImport {
    id: KeyId,
    promise: Promise,
}

#[wasm_bindgen]
impl KeyImport {
    /// Resolves to the imported key; rejects when the runtime cannot import
    /// it.
    #[wasm_bindgen(getter)]
    pub fn promise(&self) -> Promise {
        self.promise.clone()
    }
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
    inner: Inner,
}

#[wasm_bindgen]
impl WasmVerifier {
    /// Builds a verifier from the JSON text of the options object, with the
    /// host's synchronous engine when there is one. `start_refresh()` is the
    /// wrapper's background fetch of a stale remote key set: it calls
    /// `beginFetch` unless a fetch is under way, and waits for nothing.
    #[wasm_bindgen(constructor)]
    pub fn new(
        options_json: &str,
        host: Option<HostCrypto>,
        start_refresh: Function,
    ) -> Result<WasmVerifier, JsValue> {
        Self::build(options_json, host, start_refresh).map_err(|error| to_js_error(&error))
    }

    fn build(
        options_json: &str,
        host: Option<HostCrypto>,
        start_refresh: Function,
    ) -> Result<WasmVerifier, VerifyError> {
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
            // members (an object given has lost them already, to JSON.parse,
            // and comes as its JSON text).
            let (key_set, snapshot) = read_document_or_snapshot(&document)?;
            if let Some(snapshot) = snapshot {
                fetched_at = Some(snapshot.fetched_at);
                snapshot_uri = snapshot.jwks_uri;
            }
            builder = builder.key_set(key_set);
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
                let jwks_uri = match (remote.jwks_uri, snapshot_uri) {
                    (Some(uri), _) => Some(uri),
                    (None, Some(uri)) => {
                        // Checked like any key location before it is ever
                        // requested.
                        snapshot_jwks_uri::<HostUrl>(&uri, transport)?;
                        Some(uri)
                    }
                    (None, None) => None,
                };
                Some(Remote {
                    issuer,
                    jwks_uri: RefCell::new(jwks_uri),
                    policy,
                    transport,
                    state: RefCell::new(state),
                    step: RefCell::new(None),
                    last_error: RefCell::new(None),
                    start_refresh,
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
            inner: Inner {
                verifier,
                engine,
                remote,
            },
        })
    }

    /// Verifies as far as can be done now. Returns the JSON text of the
    /// passport (a synchronous engine), a [`PendingCheck`] (WebCrypto with
    /// the key imported: await its `promise`, then call `completeCheck`), a
    /// [`KeyImport`] (await its `promise`, call `installKey`, then verify
    /// again), or `null` when the keys must be fetched first (`beginFetch`,
    /// then verify again). With `may_fetch` false, keys that cannot be had
    /// now are an error rather than `null`. Throws the error.
    #[wasm_bindgen(js_name = verifySync)]
    pub fn verify_sync(&self, token: &str, may_fetch: bool) -> Result<JsValue, JsValue> {
        let inner = &self.inner;
        match keys_now(inner) {
            Keys::Usable => {}
            Keys::Fetch if may_fetch => return Ok(JsValue::NULL),
            Keys::Fetch | Keys::Unavailable => {
                return Err(to_js_error(
                    &inner
                        .remote
                        .as_ref()
                        .map_or_else(|| configuration_error("no key set"), last_error),
                ));
            }
        }
        let started = inner
            .verifier
            .begin_signature_check(token, |input| Ok(inner.engine.begin(&input)));
        let json = |passport: Passport| JsValue::from(passport.to_json_text());
        let outcome = match started {
            Err(error) => Err(error),
            Ok(SignatureCheck::Cached(passport)) => Ok(json(passport)),
            Ok(SignatureCheck::Started(pending, Begun::Answered(valid))) => valid
                .and_then(|valid| inner.verifier.complete_signature_check(pending, valid))
                .map(json),
            Ok(SignatureCheck::Started(_, Begun::Importing(id, promise))) => {
                Ok(KeyImport { id, promise }.into())
            }
            Ok(SignatureCheck::Started(pending, Begun::Awaiting(promise))) => {
                Ok(PendingCheck { pending, promise }.into())
            }
        };
        match outcome {
            Err(VerifyError::NoMatchingKey { .. }) if may_fetch && may_refetch(inner) => {
                Ok(JsValue::NULL)
            }
            Ok(answer) => Ok(answer),
            Err(error) => Err(to_js_error(&error)),
        }
    }

    /// Keeps the key a [`KeyImport`] resolved to (`undefined` when its
    /// promise rejected, which throws the reason).
    #[wasm_bindgen(js_name = installKey)]
    pub fn install_key(&self, request: KeyImport, key: JsValue) -> Result<(), JsValue> {
        if key.is_undefined() || key.is_null() {
            return Err(to_js_error(&import_refused()));
        }
        let web = match &self.inner.engine {
            Engine::WebCrypto(web) | Engine::Mixed { web, .. } => web,
            Engine::Sync(_) => return Ok(()),
        };
        web.install(request.id, key.unchecked_into());
        Ok(())
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

    /// Starts fetching the remote key set: records the attempt and returns
    /// the first URL to GET (OpenID discovery, or the key set's own URL).
    /// The wrapper then reports each answer to `answered` and `fetched`, or
    /// a failure to `fetchFailed`, until `fetched` returns nothing.
    #[wasm_bindgen(js_name = beginFetch)]
    pub fn begin_fetch(&self) -> Result<String, JsValue> {
        begin_fetch(&self.inner).map_err(|error| to_js_error(&error))
    }

    /// Checks an answer's status and final URL before its body is read:
    /// `url` is where a host's `fetch` ended after following redirects
    /// (empty when the runtime does not say). Throws, and records the
    /// failure, for an answer keys may not come from.
    pub fn answered(&self, url: &str, status: u16) -> Result<(), JsValue> {
        let inner = &self.inner;
        check_answer(inner, url, status).map_err(|error| to_js_error(&fail(inner, error)))
    }

    /// Takes the body of the document asked for: returns the next URL to
    /// GET (the key set, after discovery), or nothing once the key set is
    /// installed. Throws, and records the failure, for a document that is
    /// not what was asked for.
    pub fn fetched(
        &self,
        body: &[u8],
        cache_control: Option<String>,
    ) -> Result<Option<String>, JsValue> {
        let inner = &self.inner;
        take_document(inner, body, cache_control.as_deref())
            .map_err(|error| to_js_error(&fail(inner, error)))
    }

    /// Records that the fetch under way failed in the host, and returns the
    /// error to throw. `kind` says how: `timeout`, `too-large`, `cut-off`,
    /// `unreadable`, or anything else for an issuer that cannot be reached.
    #[wasm_bindgen(js_name = fetchFailed)]
    pub fn fetch_failed(&self, kind: &str) -> JsValue {
        let unavailable = |reason: &str| VerifyError::KeySetUnavailable {
            reason: reason.to_owned(),
        };
        let error = match kind {
            "timeout" => VerifyError::KeySetTimeout,
            "too-large" => too_large(),
            "cut-off" => unavailable("the response was cut off"),
            "unreadable" => unavailable("the response cannot be read"),
            _ => unavailable("cannot reach the issuer"),
        };
        to_js_error(&fail(&self.inner, error))
    }

    /// How long one fetch may take, and how many bytes a document may have.
    #[wasm_bindgen(js_name = fetchLimits)]
    pub fn fetch_limits(&self) -> Vec<f64> {
        let timeout = self
            .inner
            .remote
            .as_ref()
            .map_or(0, |remote| remote.policy.timeout_milliseconds);
        // `AbortSignal.timeout` takes at most 2^32 - 1 milliseconds.
        let timeout = timeout.min(u64::from(u32::MAX));
        vec![timeout as f64, MAX_DOCUMENT_BYTES as f64]
    }

    /// The current key set as a snapshot object for offline use (what
    /// `JSON.parse` makes of the snapshot's JSON, with `JwksSnapshot`'s
    /// members), or `undefined` before any remote fetch. Made as an object
    /// rather than as text, the key set by `JSON.parse` of the text it was
    /// read from: the package carries no JSON serializer and no JSON value.
    pub fn snapshot(&self) -> Option<JsValue> {
        let remote = self.inner.remote.as_ref()?;
        let fetched_at = remote.state.borrow().fetched_at()?;
        let key_set = self.inner.verifier.key_set();
        // The text was read as JSON when the set was made.
        let jwks = match key_set.text() {
            KeySetText::Jwks(text) => js_sys::JSON::parse(text).ok()?,
            KeySetText::Snapshot(text) => {
                js_sys::Reflect::get(&js_sys::JSON::parse(text).ok()?, &"jwks".into()).ok()?
            }
        };
        let text = |value: Option<String>| value.map(|text| JsValue::from_str(&text));
        let members = [
            ("format", Some(JsValue::from_str(SNAPSHOT_FORMAT))),
            ("issuer", text(remote.issuer.clone())),
            ("jwks_uri", text(remote.jwks_uri.borrow().clone())),
            ("fetched_at", Some(JsValue::from_f64(fetched_at as f64))),
            ("jwks", Some(jwks)),
        ];
        let present = members
            .into_iter()
            .filter_map(|(name, value)| Some((name, value?)));
        Some(js_object(present).into())
    }
}

/// What a verification can do about its keys now.
enum Keys {
    /// Use the key set: given keys; remote keys while fresh, or while stale
    /// with a refresh started in the background.
    Usable,
    /// Fetch first (or join the fetch under way).
    Fetch,
    /// The last fetch failed less than a cooldown ago: fail with its error.
    Unavailable,
}

fn keys_now(inner: &Inner) -> Keys {
    let Some(remote) = &inner.remote else {
        return Keys::Usable;
    };
    let plan = remote
        .state
        .borrow()
        .plan(inner.verifier.now(), &remote.policy);
    match plan {
        Plan::Use => Keys::Usable,
        Plan::UseAndRefresh => {
            refresh_in_background(remote);
            Keys::Usable
        }
        Plan::Fetch | Plan::Wait => Keys::Fetch,
        Plan::Unavailable => Keys::Unavailable,
    }
}

/// Whether the key set may be used at once (see [`Keys::Usable`]).
fn keys_usable_now(inner: &Inner) -> bool {
    matches!(keys_now(inner), Keys::Usable)
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

fn too_large() -> VerifyError {
    VerifyError::KeySetUnavailable {
        reason: format!("the document is larger than {MAX_DOCUMENT_BYTES} bytes"),
    }
}

/// Whether a token whose key is unknown may wait for a fetch: one under way,
/// or a new one when a cooldown has passed.
fn may_refetch(inner: &Inner) -> bool {
    inner.remote.as_ref().is_some_and(|remote| {
        remote
            .state
            .borrow()
            .plan_for_unknown_key(inner.verifier.now(), &remote.policy)
            != Plan::Use
    })
}

/// Has the wrapper start the fetch that refreshes a stale set, and does not
/// wait for it. Only the wrapper begins attempts (`beginFetch`), when it
/// has none under way, so an attempt is never begun that nobody drives; a
/// failure is recorded like any other.
fn refresh_in_background(remote: &Remote) {
    // The call re-enters `beginFetch`; no borrow is held across it.
    let _ = remote.start_refresh.call0(&JsValue::NULL);
}

/// Records a fetch attempt and returns its first URL.
fn begin_fetch(inner: &Inner) -> Result<String, VerifyError> {
    let remote = inner
        .remote
        .as_ref()
        .ok_or_else(|| configuration_error("this verifier has no remote key set"))?;
    remote
        .state
        .borrow_mut()
        .begin_attempt(inner.verifier.now());
    let known = remote.jwks_uri.borrow().clone();
    let step = match (known, &remote.issuer) {
        (Some(url), _) => key_url::<HostUrl>(&url, remote.transport).map(|url| Step {
            url: url.href(),
            discovery: false,
            answer_accepted: false,
        }),
        (None, Some(issuer)) => KeyLocation::Discovery {
            issuer: issuer.clone(),
        }
        .first_url::<HostUrl>(remote.transport)
        .map(|url| Step {
            url: url.href(),
            discovery: true,
            answer_accepted: false,
        }),
        (None, None) => Err(VerifyError::KeySetUnavailable {
            reason: "no key location is known".into(),
        }),
    };
    let step = step.map_err(|error| fail(inner, error))?;
    let url = step.url.clone();
    *remote.step.borrow_mut() = Some(step);
    Ok(url)
}

/// Refuses an answer that a redirect brought from a URL keys may not come
/// from (a host's `fetch` follows redirects itself), or that is not a
/// success.
fn check_answer(inner: &Inner, answered: &str, status: u16) -> Result<(), VerifyError> {
    let unavailable = |reason: String| VerifyError::KeySetUnavailable { reason };
    let no_fetch = || unavailable("no fetch is under way".into());
    let remote = inner.remote.as_ref().ok_or_else(no_fetch)?;
    let mut step = remote.step.borrow_mut();
    let step = step.as_mut().ok_or_else(no_fetch)?;
    let requested: HostUrl = key_url(&step.url, remote.transport)?;
    if !answered.is_empty() {
        let allowed = key_url::<HostUrl>(answered, Transport::DangerousAllowHttp)
            .is_ok_and(|answered| may_redirect(&requested, &answered, remote.transport));
        if !allowed {
            return Err(unavailable(
                "the issuer redirected to a URL keys may not be fetched from".into(),
            ));
        }
    }
    if !(200..300).contains(&status) {
        return Err(unavailable(format!("the issuer answered {status}")));
    }
    step.answer_accepted = true;
    Ok(())
}

/// Reads the document of the step under way: after discovery, moves on to
/// the key set and returns its URL; a key set is installed (an unchanged one
/// keeps its generation and its imported keys).
fn take_document(
    inner: &Inner,
    body: &[u8],
    cache_control: Option<&str>,
) -> Result<Option<String>, VerifyError> {
    let no_fetch = || VerifyError::KeySetUnavailable {
        reason: "no fetch is under way".into(),
    };
    let remote = inner.remote.as_ref().ok_or_else(no_fetch)?;
    let step = remote.step.borrow_mut().take().ok_or_else(no_fetch)?;
    if !step.answer_accepted {
        return Err(VerifyError::KeySetUnavailable {
            reason: "the answer was not checked before its body was read".into(),
        });
    }
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(too_large());
    }
    if step.discovery {
        let issuer = remote.issuer.as_deref().ok_or_else(no_fetch)?;
        let url = jwks_uri_from_discovery::<HostUrl>(body, issuer, remote.transport)?.href();
        *remote.step.borrow_mut() = Some(Step {
            url: url.clone(),
            discovery: false,
            answer_accepted: false,
        });
        return Ok(Some(url));
    }
    let key_set = KeySet::from_slice(body)?;
    if !key_set.same_keys(&inner.verifier.key_set()) {
        inner.verifier.replace_key_set(key_set);
    }
    let max_age = max_age_from_cache_control(cache_control, &remote.policy);
    remote
        .state
        .borrow_mut()
        .record_success(inner.verifier.now(), max_age, &remote.policy);
    *remote.jwks_uri.borrow_mut() = Some(step.url);
    *remote.last_error.borrow_mut() = None;
    Ok(None)
}

/// Records that the attempt under way failed with `error`, once, and
/// returns the error.
fn fail(inner: &Inner, error: VerifyError) -> VerifyError {
    if let Some(remote) = &inner.remote {
        let mut state = remote.state.borrow_mut();
        if state.attempting() {
            state.record_failure(inner.verifier.now());
            *remote.last_error.borrow_mut() = Some(error.clone());
            *remote.step.borrow_mut() = None;
        }
    }
    error
}
