//! The [`Verifier`]: configuration, key selection, signature check, claim rules
//! and the optional verified-token cache, in one place.
//!
//! The order of checks is fixed: size limit, form, header, algorithm and key,
//! signature, then claims. Claims are never judged before the signature is
//! known good, so an attacker learns nothing from claim errors on forged
//! tokens. This module does no I/O: keys arrive as a [`KeySet`] and the time
//! from a [`Clock`].

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use crate::claims::{self, TimeClaims, TimeRules};
use crate::compact::{self, DEFAULT_MAX_TOKEN_BYTES};
use crate::error::VerifyError;
use crate::jws::{self, JwsRules, SelectedKey, UnverifiedJws, VerifiedJws};
use crate::keys::{KeySet, SUPPORTED_ALGORITHMS, VerificationKey, parse_algorithm};
use crate::token_cache::{Digest, TokenCache};

/// Where the verifier reads the current time from.
#[derive(Clone, Default)]
pub enum Clock {
    /// The system clock (`std::time::SystemTime`). Not available on
    /// `wasm32-unknown-unknown`; hosts there pass [`Clock::Function`].
    #[default]
    System,
    /// A fixed Unix time in seconds, for tests and for the CLI's `--now`.
    Fixed(i64),
    /// A function returning Unix time in seconds.
    Function(fn() -> i64),
    /// A clock the caller moves by hand (tests, simulations).
    Manual(Arc<std::sync::atomic::AtomicI64>),
}

impl Clock {
    /// The current Unix time in seconds.
    pub fn now(&self) -> i64 {
        match self {
            Clock::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs() as i64),
            Clock::Fixed(seconds) => *seconds,
            Clock::Function(now) => now(),
            Clock::Manual(seconds) => seconds.load(std::sync::atomic::Ordering::SeqCst),
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clock::System => f.write_str("System"),
            Clock::Fixed(seconds) => write!(f, "Fixed({seconds})"),
            Clock::Function(_) => f.write_str("Function"),
            Clock::Manual(seconds) => write!(f, "Manual({seconds:?})"),
        }
    }
}

/// What to do with tokens that carry claims identifying a person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PersonalData {
    /// Accept them (the default, as most ID tokens carry some).
    #[default]
    Allow,
    /// Reject any token with a claim from [`crate::PERSONAL_DATA_CLAIMS`]: the
    /// zero-knowledge guard for shops that must never see such data.
    Reject,
}

/// Builds a [`Verifier`]. Issuer and audience are required unless the
/// explicitly dangerous opt-outs are used.
#[derive(Debug, Clone)]
#[must_use]
pub struct VerifierBuilder {
    issuers: Vec<String>,
    any_issuer: bool,
    audiences: Vec<String>,
    any_audience: bool,
    algorithms: Vec<Algorithm>,
    clock_tolerance: u64,
    max_token_age: Option<u64>,
    without_expiry: bool,
    expected_type: Option<String>,
    required_claims: Vec<String>,
    expected_subject: Option<String>,
    personal_data: PersonalData,
    max_token_bytes: usize,
    clock: Clock,
    #[cfg(feature = "token-cache")]
    cache_capacity: Option<usize>,
    key_set: KeySet,
}

impl Default for VerifierBuilder {
    fn default() -> Self {
        VerifierBuilder {
            issuers: Vec::new(),
            any_issuer: false,
            audiences: Vec::new(),
            any_audience: false,
            algorithms: SUPPORTED_ALGORITHMS.to_vec(),
            clock_tolerance: 0,
            max_token_age: None,
            without_expiry: false,
            expected_type: None,
            required_claims: Vec::new(),
            expected_subject: None,
            personal_data: PersonalData::Allow,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            clock: Clock::System,
            #[cfg(feature = "token-cache")]
            cache_capacity: None,
            key_set: KeySet::default(),
        }
    }
}

impl VerifierBuilder {
    /// Accepts tokens whose `iss` equals `issuer` (may be called more than once).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }
    /// Accepts tokens whose `aud` names `audience` (may be called more than once).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }
    /// Skips the issuer check. Only for keys that a single issuer owns.
    pub fn dangerous_accept_any_issuer(mut self) -> Self {
        self.any_issuer = true;
        self
    }
    /// Skips the audience check, accepting tokens minted for other applications.
    pub fn dangerous_accept_any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }
    /// Restricts the accepted algorithms (by JWS name, such as `ES256`).
    pub fn algorithms<I, S>(mut self, names: I) -> Result<Self, VerifyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut algorithms = Vec::new();
        for name in names {
            let name = name.as_ref();
            let algorithm =
                parse_algorithm(name).map_err(|_| VerifyError::InvalidConfiguration {
                    reason: format!("`{name}` is not a supported asymmetric JWS algorithm"),
                })?;
            algorithms.push(algorithm);
        }
        if algorithms.is_empty() {
            return Err(VerifyError::InvalidConfiguration {
                reason: "the algorithm allowlist is empty".into(),
            });
        }
        self.algorithms = algorithms;
        Ok(self)
    }
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat` (default 0).
    pub fn clock_tolerance_seconds(mut self, seconds: u64) -> Self {
        self.clock_tolerance = seconds;
        self
    }
    /// Rejects tokens issued (`iat`) longer ago than this; `iat` becomes required.
    pub fn max_token_age_seconds(mut self, seconds: u64) -> Self {
        self.max_token_age = Some(seconds);
        self
    }
    /// For Security Event Tokens (RFC 8417, as Shared Signals profiles
    /// them), which carry no `exp`: a token *with* `exp` is refused, and
    /// the age limit of [`max_token_age_seconds`](Self::max_token_age_seconds)
    /// (which `build` then requires) bounds how old one may be instead.
    pub fn without_expiry(mut self) -> Self {
        self.without_expiry = true;
        self
    }
    /// Requires the header `typ`, compared after removing `application/`.
    pub fn expected_type(mut self, media_type: impl Into<String>) -> Self {
        self.expected_type = Some(claims::normalize_media_type(&media_type.into()));
        self
    }
    /// Requires a claim to be present.
    pub fn required_claim(mut self, name: impl Into<String>) -> Self {
        self.required_claims.push(name.into());
        self
    }
    /// Requires `sub` to equal this value.
    pub fn expected_subject(mut self, subject: impl Into<String>) -> Self {
        self.expected_subject = Some(subject.into());
        self
    }
    /// Decides what happens to tokens with personal-data claims.
    pub fn personal_data(mut self, policy: PersonalData) -> Self {
        self.personal_data = policy;
        self
    }
    /// The largest token accepted, in bytes (default 16 KiB), checked before
    /// anything is decoded.
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        self.max_token_bytes = bytes;
        self
    }
    /// Where the current time comes from (default: the system clock).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }
    /// Keeps up to `capacity` verified tokens in an LRU cache keyed by the
    /// SHA-256 of the whole token. A hit re-checks every time-based claim.
    /// Needs the `token-cache` feature (on by default).
    #[cfg(feature = "token-cache")]
    pub fn verified_token_cache(mut self, capacity: usize) -> Self {
        self.cache_capacity = Some(capacity);
        self
    }
    /// The keys to verify with. They can be replaced later with
    /// [`Verifier::replace_key_set`].
    pub fn key_set(mut self, key_set: KeySet) -> Self {
        self.key_set = key_set;
        self
    }

    /// Checks the configuration and builds the verifier.
    pub fn build(self) -> Result<Verifier, VerifyError> {
        let invalid = |reason: &str| VerifyError::InvalidConfiguration {
            reason: reason.to_owned(),
        };
        if self.issuers.is_empty() && !self.any_issuer {
            return Err(invalid(
                "no issuer is configured (use dangerous_accept_any_issuer to skip the check)",
            ));
        }
        if self.audiences.is_empty() && !self.any_audience {
            return Err(invalid(
                "no audience is configured (use dangerous_accept_any_audience to skip the check)",
            ));
        }
        if self.without_expiry && self.max_token_age.is_none() {
            return Err(invalid(
                "a verifier of tokens without `exp` needs max_token_age_seconds",
            ));
        }
        if self.max_token_bytes == 0 {
            return Err(invalid("the token size limit must be above zero"));
        }
        #[cfg(feature = "token-cache")]
        let cache = match self.cache_capacity {
            None => None,
            Some(capacity) => {
                let capacity = std::num::NonZeroUsize::new(capacity)
                    .ok_or_else(|| invalid("the token cache capacity must be above zero"))?;
                Some(TokenCache::new(capacity))
            }
        };
        #[cfg(not(feature = "token-cache"))]
        let cache = None;
        Ok(Verifier {
            rules: Rules {
                issuers: self.issuers,
                audiences: self.audiences,
                jws: JwsRules {
                    algorithms: self.algorithms,
                    max_token_bytes: self.max_token_bytes,
                },
                time: TimeRules {
                    clock_tolerance: self.clock_tolerance,
                    max_token_age: self.max_token_age,
                    without_expiry: self.without_expiry,
                },
                expected_type: self.expected_type,
                required_claims: self.required_claims,
                expected_subject: self.expected_subject,
                personal_data: self.personal_data,
            },
            clock: self.clock,
            generation: AtomicU64::new(self.key_set.generation()),
            id: NEXT_VERIFIER_ID.fetch_add(1, Ordering::Relaxed),
            key_set: RwLock::new(Arc::new(self.key_set)),
            cache,
        })
    }
}

#[derive(Debug)]
struct Rules {
    issuers: Vec<String>,
    audiences: Vec<String>,
    jws: JwsRules,
    time: TimeRules,
    expected_type: Option<String>,
    required_claims: Vec<String>,
    expected_subject: Option<String>,
    personal_data: PersonalData,
}

/// The verified claims of a token: a digital passport.
///
/// Only [`Verifier`] creates a `Passport`, after the signature and every
/// configured rule passed. Its `Debug` output shows claim names, never values,
/// so that logging a passport cannot leak personal data. Clones share one
/// allocation, so the token cache hands out copies for free.
#[derive(Clone)]
pub struct Passport {
    inner: Arc<PassportInner>,
}

struct PassportInner {
    // `{"header":…,"claims":…}` from the token's own JSON texts.
    json_text: String,
    // Where the header's text ends in `json_text`.
    header_end: usize,
    algorithm: Algorithm,
    times: TimeClaims,
    // The header and claims as maps, made only when asked for: the npm
    // package hands `json_text` to JavaScript and never builds them.
    header: OnceLock<Map<String, Value>>,
    claims: OnceLock<Map<String, Value>>,
}

/// What a passport's text has before the header's JSON.
const HEADER_OPENING: &str = "{\"header\":";
/// What stands between the header's JSON and the claims' JSON.
const CLAIMS_OPENING: &str = ",\"claims\":";

impl PartialEq for Passport {
    fn eq(&self, other: &Self) -> bool {
        self.header() == other.header()
            && self.claims() == other.claims()
            && self.inner.algorithm == other.inner.algorithm
    }
}

impl Passport {
    /// The pseudonymous subject (`sub`), when the token has one.
    pub fn subject(&self) -> Option<&str> {
        self.claims().get("sub").and_then(Value::as_str)
    }
    /// The issuer (`iss`), when the token has one.
    pub fn issuer(&self) -> Option<&str> {
        self.claims().get("iss").and_then(Value::as_str)
    }
    /// The audiences (`aud`), as a list whether the token used a string or an array.
    pub fn audiences(&self) -> Vec<&str> {
        match self.claims().get("aud") {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
    /// The expiry (`exp`) in Unix seconds; present on a passport unless the
    /// verifier was built [`without_expiry`](VerifierBuilder::without_expiry)
    /// (then 0).
    pub fn expires_at(&self) -> f64 {
        self.inner.times.expires_at.unwrap_or(0.0)
    }
    /// The time claims (`exp`, `nbf`, `iat`).
    pub fn time_claims(&self) -> TimeClaims {
        self.inner.times
    }
    /// One claim by name.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims().get(name)
    }
    /// All verified claims (made into a map on first use).
    pub fn claims(&self) -> &Map<String, Value> {
        let text = self.inner.json_text.as_bytes();
        let start = self.inner.header_end + CLAIMS_OPENING.len();
        let claims = text
            .get(start..text.len().saturating_sub(1))
            .unwrap_or_default();
        compact::object_once(&self.inner.claims, claims)
    }
    /// The verified protected header (made into a map on first use).
    pub fn header(&self) -> &Map<String, Value> {
        let header = self
            .inner
            .json_text
            .as_bytes()
            .get(HEADER_OPENING.len()..self.inner.header_end)
            .unwrap_or_default();
        compact::object_once(&self.inner.header, header)
    }
    /// The algorithm the signature was verified with.
    pub fn algorithm(&self) -> Algorithm {
        self.inner.algorithm
    }
    /// `{"header": {...}, "claims": {...}}`, as the CLI prints it.
    pub fn to_json(&self) -> Value {
        serde_json::json!({ "header": self.header(), "claims": self.claims() })
    }

    /// [`Passport::to_json`]'s value as text, made of the header's and the
    /// payload's JSON exactly as they were signed: the issuer's member
    /// order, spacing, escapes and number spelling, with nothing serialized
    /// again. So it equals `to_json()` as a value, not as text. Both were
    /// read strictly before they were trusted, so each is one JSON object
    /// with no repeated member. (A decimal written with more digits than an
    /// `f64` holds may be read one unit in the last place apart by a
    /// correctly rounding reader such as `JSON.parse` and by serde_json's
    /// faster one; integers up to 2^53 read the same everywhere.)
    pub fn to_json_text(&self) -> &str {
        &self.inner.json_text
    }
}

impl fmt::Debug for Passport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passport")
            .field("algorithm", &self.inner.algorithm)
            .field("claim_names", &self.claims().keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// `{"header":…,"claims":…}` from two JSON texts that were read strictly
/// (so each is one JSON object, and UTF-8): joined, not serialized again.
fn passport_json(header: &[u8], claims: &[u8]) -> Result<String, VerifyError> {
    let mut text = Vec::with_capacity(
        HEADER_OPENING.len() + header.len() + CLAIMS_OPENING.len() + claims.len() + 1,
    );
    text.extend_from_slice(HEADER_OPENING.as_bytes());
    text.extend_from_slice(header);
    text.extend_from_slice(CLAIMS_OPENING.as_bytes());
    text.extend_from_slice(claims);
    text.push(b'}');
    String::from_utf8(text).map_err(|_| VerifyError::malformed("the token's JSON is not UTF-8"))
}

/// A signature check that a host performs with its own crypto engine, such as
/// WebCrypto in a browser. Native code uses [`Verifier::verify`] instead.
///
/// Implementations must really verify: the verifier trusts the answer.
pub trait SignatureEngine {
    /// Verifies `signature` over `message` with `key` and `algorithm`.
    /// `key_set_generation` and `key_index` identify the key stably, so an
    /// engine can cache whatever it imported.
    fn verify_signature(
        &self,
        key: &VerificationKey,
        key_set_generation: u64,
        key_index: usize,
        algorithm: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> impl Future<Output = Result<bool, VerifyError>>;
}

/// What a host engine is given to check a signature (see
/// [`Verifier::begin_signature_check`]).
pub struct SignatureInput<'a> {
    /// The key the token's header chose.
    pub key: &'a VerificationKey,
    /// With `key_index`, names the key stably, so an engine can cache
    /// whatever it imported.
    pub key_set_generation: u64,
    /// The key's place in its key set.
    pub key_index: usize,
    /// The token's algorithm, allowed by the rules and fitting the key.
    pub algorithm: Algorithm,
    /// The signing input: the token's first two segments.
    pub message: &'a [u8],
    /// The decoded signature, of the algorithm's shape.
    pub signature: &'a [u8],
}

/// A token that passed every rule before its signature, waiting for a host
/// engine's verdict: hand it to [`Verifier::complete_signature_check`].
pub struct PendingSignature {
    /// The `id` of the verifier that began the check.
    verifier: u64,
    jws: UnverifiedJws,
    now: i64,
    cache_key: Option<CacheKey>,
}

/// What a host engine is given for `selected`, once the signature has the
/// shape its algorithm and key call for.
fn signature_input<'a>(
    selected: &'a SelectedKey<'_>,
    key_set: &'a KeySet,
) -> Result<SignatureInput<'a>, VerifyError> {
    let key = &key_set.keys()[selected.key_index];
    key.check_signature_shape(selected.algorithm, selected.token.signature())?;
    Ok(SignatureInput {
        key,
        key_set_generation: key_set.generation(),
        key_index: selected.key_index,
        algorithm: selected.algorithm,
        message: selected.token.signing_input(),
        signature: selected.token.signature(),
    })
}

/// What [`Verifier::begin_signature_check`] did.
pub enum SignatureCheck<T> {
    /// The verified-token cache answered; no signature is checked.
    Cached(Passport),
    /// The host's check is under way (`T`, what `start` returned).
    Started(PendingSignature, T),
}

/// Verifies compact JWS tokens against a key set and a fixed set of rules.
///
/// Build one with [`Verifier::builder`], share it (it is `Send + Sync`), and
/// call [`Verifier::verify`] for each token.
#[derive(Debug)]
pub struct Verifier {
    rules: Rules,
    clock: Clock,
    key_set: RwLock<Arc<KeySet>>,
    /// The generation of the key set in `key_set`, readable without its lock.
    generation: AtomicU64,
    cache: Option<TokenCache>,
    /// Tells this verifier's [`PendingSignature`]s from another's.
    id: u64,
}

/// Each verifier's `id`.
static NEXT_VERIFIER_ID: AtomicU64 = AtomicU64::new(1);

/// The steps before the signature check, shared by every signature backend.
// Lives on the stack for one verification and is matched at once: boxing the
// larger variant would cost an allocation per token for nothing.
#[allow(clippy::large_enum_variant)]
enum Prepared<'t> {
    Cached(Passport),
    Check {
        selected: SelectedKey<'t>,
        key_set: Arc<KeySet>,
        cache_key: Option<CacheKey>,
    },
}

/// Where a verified token goes in the cache: its digest, and the generation
/// of the key set that is verifying it.
#[derive(Clone, Copy)]
struct CacheKey {
    digest: Digest,
    generation: u64,
}

impl Verifier {
    /// Starts building a verifier.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::default()
    }

    /// The key set in use.
    pub fn key_set(&self) -> Arc<KeySet> {
        Arc::clone(
            &self
                .key_set
                .read()
                .unwrap_or_else(|poison| poison.into_inner()),
        )
    }

    /// Replaces the key set (after a JWKS refresh) and empties the token cache,
    /// so that tokens signed by a withdrawn key stop verifying at once. A
    /// verification still running with the old set does not put its
    /// passport into the emptied cache: entries are stamped with the key
    /// set's generation, and one verified by an older set is neither
    /// inserted nor served.
    pub fn replace_key_set(&self, key_set: KeySet) {
        let generation = key_set.generation();
        *self
            .key_set
            .write()
            .unwrap_or_else(|poison| poison.into_inner()) = Arc::new(key_set);
        // Stored before the cache is emptied: an insert that read the old
        // generation holds the cache's lock, so the clear below removes it.
        self.generation.store(generation, Ordering::SeqCst);
        if let Some(cache) = &self.cache {
            cache.clear();
        }
    }

    /// The current time as this verifier sees it.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Verifies a token with the ring provider and returns its passport.
    #[cfg(feature = "ring")]
    pub fn verify(&self, token: &str) -> Result<Passport, VerifyError> {
        let now = self.clock.now();
        match self.prepare(token, now)? {
            Prepared::Cached(passport) => Ok(passport),
            Prepared::Check {
                selected,
                key_set,
                cache_key,
            } => {
                key_set.keys()[selected.key_index].verify_signature(
                    selected.algorithm,
                    selected.token.signing_input(),
                    selected.token.signature(),
                )?;
                self.finish(selected.into_verified(), now, cache_key)
            }
        }
    }

    /// Verifies a token with a host's signature engine (WebCrypto in the WASM
    /// package) and returns its passport. Every rule is the same as in
    /// `Verifier::verify`.
    pub async fn verify_with_engine<E: SignatureEngine>(
        &self,
        token: &str,
        engine: &E,
    ) -> Result<Passport, VerifyError> {
        let now = self.clock.now();
        match self.prepare(token, now)? {
            Prepared::Cached(passport) => Ok(passport),
            Prepared::Check {
                selected,
                key_set,
                cache_key,
            } => {
                let input = signature_input(&selected, &key_set)?;
                let valid = engine
                    .verify_signature(
                        input.key,
                        input.key_set_generation,
                        input.key_index,
                        input.algorithm,
                        input.message,
                        input.signature,
                    )
                    .await?;
                let pending = PendingSignature {
                    verifier: self.id,
                    jws: selected.into_unverified(),
                    now,
                    cache_key,
                };
                self.complete_signature_check(pending, valid)
            }
        }
    }

    /// The first half of [`Verifier::verify_with_engine`], for a host whose
    /// engine answers later and that drives its own wait (the npm package
    /// awaits WebCrypto's promise in JavaScript, with no Rust future around
    /// it): every rule before the signature, the signature's shape, then
    /// `start` with the key and the bytes. `start` begins the host's check
    /// and returns a handle to it; an error from it ends the verification.
    pub fn begin_signature_check<T>(
        &self,
        token: &str,
        start: impl FnOnce(SignatureInput<'_>) -> Result<T, VerifyError>,
    ) -> Result<SignatureCheck<T>, VerifyError> {
        let now = self.clock.now();
        match self.prepare(token, now)? {
            Prepared::Cached(passport) => Ok(SignatureCheck::Cached(passport)),
            Prepared::Check {
                selected,
                key_set,
                cache_key,
            } => {
                let handle = start(signature_input(&selected, &key_set)?)?;
                let pending = PendingSignature {
                    verifier: self.id,
                    jws: selected.into_unverified(),
                    now,
                    cache_key,
                };
                Ok(SignatureCheck::Started(pending, handle))
            }
        }
    }

    /// The second half: the host engine's verdict on the signature, then
    /// every claim rule, exactly as [`Verifier::verify_with_engine`] applies
    /// them. `valid` must be the engine's verdict on exactly the input
    /// `start` was given; a check another verifier began is refused.
    pub fn complete_signature_check(
        &self,
        pending: PendingSignature,
        valid: bool,
    ) -> Result<Passport, VerifyError> {
        if pending.verifier != self.id {
            return Err(VerifyError::InvalidConfiguration {
                reason: "the signature check was begun by another verifier".into(),
            });
        }
        if !valid {
            return Err(VerifyError::SignatureInvalid);
        }
        // The clock is read again: an engine may take a while.
        let now = self.clock.now().max(pending.now);
        self.finish(pending.jws.into_verified(), now, pending.cache_key)
    }

    /// Answers from the verified-token cache alone: `Some` when the token is
    /// cached (its time-based claims re-checked now), `None` when it is not or
    /// no cache is configured: a cache hit without a round trip through an
    /// asynchronous signature engine.
    #[cfg(feature = "token-cache")]
    pub fn cached(&self, token: &str) -> Option<Result<Passport, VerifyError>> {
        self.cache.as_ref()?;
        match self.cache_lookup(token, self.clock.now()) {
            (_, Some(outcome)) => Some(outcome),
            (_, None) => None,
        }
    }

    /// The generation of the current key set: it changes whenever the set is
    /// replaced. A cache kept outside the verifier stamps what it stores with
    /// the generation read *before* the verification began.
    pub fn key_set_generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Whether a passport verified under key set `generation`, with these
    /// time claims, would still be answered from the cache now: the key set
    /// has not been replaced since, and the time rules pass at this moment.
    /// The npm package's own cache asks this on every hit, so its time rules
    /// are this crate's.
    pub fn still_valid(&self, times: TimeClaims, generation: u64) -> bool {
        generation == self.key_set_generation()
            && claims::check_time_claims(times, self.clock.now(), self.rules.time).is_ok()
    }

    /// The cache key of `token` and, on a hit, the re-checked passport.
    #[allow(clippy::type_complexity)]
    fn cache_lookup(
        &self,
        token: &str,
        now: i64,
    ) -> (Option<Digest>, Option<Result<Passport, VerifyError>>) {
        let Some(cache) = &self.cache else {
            return (None, None);
        };
        let (digest, hit) = cache.lookup(token, self.generation.load(Ordering::SeqCst));
        let outcome = hit.map(|passport| {
            claims::check_time_claims(passport.time_claims(), now, self.rules.time)
                .map(|()| passport)
        });
        (Some(digest), outcome)
    }

    fn prepare<'t>(&self, token: &'t str, now: i64) -> Result<Prepared<'t>, VerifyError> {
        let digest = match self.cache_lookup(token, now) {
            (_, Some(outcome)) => return outcome.map(Prepared::Cached),
            (digest, None) => digest,
        };
        let key_set = self.key_set();
        let cache_key = digest.map(|digest| CacheKey {
            digest,
            generation: key_set.generation(),
        });
        let selected = jws::select_key(token, &key_set, &self.rules.jws)?;
        Ok(Prepared::Check {
            selected,
            key_set,
            cache_key,
        })
    }

    /// Applies every claim rule to a token whose signature verified.
    fn finish(
        &self,
        jws: VerifiedJws,
        now: i64,
        cache_key: Option<CacheKey>,
    ) -> Result<Passport, VerifyError> {
        let rules = &self.rules;
        if let Some(expected) = &rules.expected_type
            && jws.media_type().map(claims::normalize_media_type).as_ref() != Some(expected)
        {
            return Err(VerifyError::claim_invalid(
                "typ",
                "the header `typ` is not the expected type",
            ));
        }
        let (header_json, payload, algorithm) = jws.into_parts();
        let claim_set = compact::read_object(&payload, claims::REGISTERED_CLAIMS, "payload")?;
        claims::check_claim_types(&claim_set)?;
        claims::check_time(&claim_set, now, rules.time)?;
        if !rules.issuers.is_empty() {
            match claims::string_claim(&claim_set, "iss") {
                None => return Err(claims::missing("iss")),
                Some(issuer) if !rules.issuers.iter().any(|wanted| wanted == issuer) => {
                    return Err(VerifyError::claim_invalid("iss", "unexpected issuer"));
                }
                Some(_) => {}
            }
        }
        if !rules.audiences.is_empty() {
            match claim_set.get("aud") {
                None => return Err(claims::missing("aud")),
                Some(audience) if !claims::audience_matches(audience, &rules.audiences) => {
                    return Err(VerifyError::claim_invalid("aud", "unexpected audience"));
                }
                Some(_) => {}
            }
        }
        if let Some(expected) = &rules.expected_subject {
            match claims::string_claim(&claim_set, "sub") {
                None => return Err(claims::missing("sub")),
                Some(subject) if subject != expected => {
                    return Err(VerifyError::claim_invalid("sub", "unexpected subject"));
                }
                Some(_) => {}
            }
        }
        if let Some(name) = rules
            .required_claims
            .iter()
            .find(|name| !claim_set.has(name))
        {
            return Err(claims::missing(name));
        }
        if rules.personal_data == PersonalData::Reject
            && let Some(name) = claims::first_personal_data_claim(&claim_set)
        {
            return Err(VerifyError::PersonalDataClaim {
                claim: name.to_owned(),
            });
        }
        let times = TimeClaims::of(&claim_set);
        drop(claim_set);
        let passport = Passport {
            inner: Arc::new(PassportInner {
                json_text: passport_json(&header_json, &payload)?,
                header_end: HEADER_OPENING.len() + header_json.len(),
                algorithm,
                times,
                header: OnceLock::new(),
                claims: OnceLock::new(),
            }),
        };
        if let (Some(cache), Some(key)) = (&self.cache, cache_key) {
            // Checked under the cache's lock: see `replace_key_set`.
            cache.insert(
                key.digest,
                key.generation,
                &self.generation,
                passport.clone(),
            );
        }
        Ok(passport)
    }
}
