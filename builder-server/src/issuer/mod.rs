//! The built-in development OpenID issuer, mounted at `/dev/oidc`.
//!
//! It lets Tessera run end to end on one machine with no IdP installed:
//! discovery, a JWKS with an ES256 key kept in the data folder, an authorize
//! page to pick or type a demo user and consent, a token endpoint
//! (authorization code with PKCE S256 required, exact `redirect_uri` match,
//! single-use codes valid 60 s, CORS for the shop origins of the calling
//! client's tenant, a rate limit per client address; with `offline_access`,
//! rotating refresh tokens whose reuse revokes their family) and
//! `end_session` (RP-Initiated Logout 1.0: `id_token_hint` or `client_id`,
//! back to a registered URI with `state`). Every tenant is a public client
//! whose `client_id` is its slug. Tokens carry a pairwise `sub` per tenant and
//! no personal data: the demo users' names and emails exist only on the
//! issuer's own page, as they would at a real IdP.
//!
//! Each sign-in with `offline_access` is a session, the `sid` of its ID
//! tokens: a reused refresh token, a replayed code and `end_session` with its
//! hint revoke its refresh tokens. Access and ID tokens are self-contained
//! JWTs checked offline, so they stay valid until they expire (10 minutes).
//! Everything in flight is bounded: at most `PENDING_CODE_CAPACITY` codes
//! wait (then consent answers 503), and consent has its own per-address
//! limit.
//!
//! It is not for production: it runs only in `tessera dev` or behind
//! `--dangerous-dev-issuer`, and has no passwords.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lru::LruCache;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Form, OAuthForm, Query};
use crate::store::TenantRecord;

/// How long an authorization code lives.
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// How long issued tokens live, in seconds.
pub const TOKEN_LIFETIME_SECONDS: i64 = 600;
/// How long a refresh token may wait to be used.
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(8 * 3600);

/// A demo user of the development issuer: the personal data stays here.
#[derive(Debug, Clone)]
struct DemoUser {
    id: &'static str,
    name: &'static str,
    email: &'static str,
}

const DEMO_USERS: [DemoUser; 3] = [
    DemoUser {
        id: "ada",
        name: "Ada Lovelace",
        email: "ada@example.test",
    },
    DemoUser {
        id: "grace",
        name: "Grace Hopper",
        email: "grace@example.test",
    },
    DemoUser {
        id: "alan",
        name: "Alan Turing",
        email: "alan@example.test",
    },
];

/// How many authorization codes may wait for redemption at once; past that,
/// consent answers 503 until the oldest expires or is redeemed.
pub const PENDING_CODE_CAPACITY: usize = 1024;
/// How long a redeemed code is remembered, so that its replay revokes what
/// was issued from it (RFC 6749 section 4.1.2): as long as its access token.
const REDEEMED_CODE_MEMORY: Duration = Duration::from_secs(TOKEN_LIFETIME_SECONDS as u64);
/// How many redeemed codes, refresh tokens and sessions are kept at most; past
/// that the oldest are forgotten first.
const REDEEMED_CODE_CAPACITY: usize = 4096;
const REFRESH_TOKEN_CAPACITY: usize = 65_536;
const SESSION_CAPACITY: usize = 16_384;
/// The window of the per-address rate limits.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// A sign-in that asked for `offline_access`: the family of its refresh
/// tokens, named by the `sid` of its ID tokens. Ending it (logout, a reused
/// refresh token, a replayed code) revokes every refresh token of the family.
#[derive(Debug, Clone)]
struct Session {
    tenant: String,
    user_id: String,
    scope: String,
    /// When the user consented, kept for every refreshed ID token (OpenID
    /// Connect Core 12.2).
    auth_time: i64,
    /// The last issue of a refresh token: the session expires
    /// `REFRESH_TOKEN_LIFETIME` after it.
    refreshed: Instant,
}

/// A refresh token (issued only with `offline_access`). Each is single use:
/// using it rotates it, and using it a second time revokes its whole family,
/// as the OAuth 2.0 Security BCP asks of public clients.
#[derive(Debug, Clone)]
struct RefreshGrant {
    session: String,
    issued: Instant,
    used: bool,
}

#[derive(Debug, Clone)]
struct PendingCode {
    tenant: String,
    user_id: String,
    redirect_uri: String,
    code_challenge: String,
    nonce: Option<String>,
    scope: String,
    auth_time: i64,
    issued: Instant,
}

/// A code already exchanged, and the session issued from it.
#[derive(Debug, Clone)]
struct RedeemedCode {
    session: String,
    redeemed: Instant,
}

/// Codes, refresh tokens and sessions in flight. Each cache is kept in the
/// order its entries expire (insertion order, or the last refresh for
/// sessions), so expired entries leave from the old end in amortized O(1)
/// and nothing is scanned.
struct Ledger {
    pending: LruCache<String, PendingCode>,
    redeemed: LruCache<String, RedeemedCode>,
    refresh_tokens: LruCache<String, RefreshGrant>,
    sessions: LruCache<String, Session>,
}

/// The answer to a consent when `PENDING_CODE_CAPACITY` codes are waiting.
#[derive(Debug, thiserror::Error)]
#[error("too many sign-ins are waiting for their code to be redeemed")]
struct CodesFull {
    /// Until the oldest waiting code expires.
    retry_after: Duration,
}

/// Drops the entries older than `lifetime` from the old end of `cache`, whose
/// entries are in the order they expire.
fn drop_expired<V>(
    cache: &mut LruCache<String, V>,
    now: Instant,
    lifetime: Duration,
    since: impl Fn(&V) -> Instant,
) {
    while let Some((_, oldest)) = cache.peek_lru() {
        if now.saturating_duration_since(since(oldest)) < lifetime {
            break;
        }
        cache.pop_lru();
    }
}

fn capacity(entries: usize) -> NonZeroUsize {
    NonZeroUsize::new(entries).unwrap_or(NonZeroUsize::MIN)
}

impl Ledger {
    fn new() -> Self {
        Ledger {
            pending: LruCache::new(capacity(PENDING_CODE_CAPACITY)),
            redeemed: LruCache::new(capacity(REDEEMED_CODE_CAPACITY)),
            refresh_tokens: LruCache::new(capacity(REFRESH_TOKEN_CAPACITY)),
            sessions: LruCache::new(capacity(SESSION_CAPACITY)),
        }
    }

    /// Records a consent's code, unless `PENDING_CODE_CAPACITY` unexpired
    /// codes are waiting.
    fn add_code(&mut self, code: String, pending: PendingCode) -> Result<(), CodesFull> {
        drop_expired(&mut self.pending, pending.issued, CODE_LIFETIME, |p| {
            p.issued
        });
        if let Some((_, oldest)) = self.pending.peek_lru()
            && self.pending.len() >= PENDING_CODE_CAPACITY
        {
            let age = pending.issued.saturating_duration_since(oldest.issued);
            return Err(CodesFull {
                retry_after: CODE_LIFETIME.saturating_sub(age),
            });
        }
        self.pending.push(code, pending);
        Ok(())
    }

    /// Takes a code out (single use, whether or not the rest checks out).
    fn take_code(&mut self, code: &str) -> Option<PendingCode> {
        self.pending.pop(code)
    }

    /// Remembers that `code` was exchanged for `session`'s tokens.
    fn redeemed(&mut self, code: String, session: &str, now: Instant) {
        drop_expired(&mut self.redeemed, now, REDEEMED_CODE_MEMORY, |r| {
            r.redeemed
        });
        let session = session.to_owned();
        self.redeemed.push(
            code,
            RedeemedCode {
                session,
                redeemed: now,
            },
        );
    }

    /// A code presented again: revokes the session issued from it, if any.
    fn replayed(&mut self, code: &str) -> bool {
        let Some(redeemed) = self.redeemed.pop(code) else {
            return false;
        };
        self.sessions.pop(&redeemed.session);
        true
    }

    fn start_session(&mut self, id: String, session: Session) {
        drop_expired(
            &mut self.sessions,
            session.refreshed,
            REFRESH_TOKEN_LIFETIME,
            |s| s.refreshed,
        );
        self.sessions.push(id, session);
    }

    /// Ends a session: its refresh tokens are refused from now on.
    fn end_session(&mut self, id: &str) {
        self.sessions.pop(id);
    }

    fn add_refresh_token(&mut self, token: String, session: &str, now: Instant) {
        drop_expired(&mut self.refresh_tokens, now, REFRESH_TOKEN_LIFETIME, |g| {
            g.issued
        });
        if let Some(live) = self.sessions.get_mut(session) {
            live.refreshed = now;
        }
        let grant = RefreshGrant {
            session: session.to_owned(),
            issued: now,
            used: false,
        };
        self.refresh_tokens.push(token, grant);
    }

    /// Spends a refresh token for `client_id`, answering its session.
    fn spend_refresh_token(
        &mut self,
        token: &str,
        client_id: Option<&str>,
        now: Instant,
    ) -> Result<(String, Session), RefreshRefused> {
        drop_expired(&mut self.refresh_tokens, now, REFRESH_TOKEN_LIFETIME, |g| {
            g.issued
        });
        drop_expired(&mut self.sessions, now, REFRESH_TOKEN_LIFETIME, |s| {
            s.refreshed
        });
        let grant = self
            .refresh_tokens
            .peek_mut(token)
            .ok_or(RefreshRefused::Unknown)?;
        let session = self
            .sessions
            .peek(&grant.session)
            .ok_or(RefreshRefused::Unknown)?;
        if client_id != Some(session.tenant.as_str()) {
            // Another client's token: refused without spending it.
            return Err(RefreshRefused::OtherClient);
        }
        if grant.used {
            let id = grant.session.clone();
            self.sessions.pop(&id);
            tracing::warn!("a spent refresh token was presented again: its family is revoked");
            return Err(RefreshRefused::Reused);
        }
        grant.used = true;
        Ok((grant.session.clone(), session.clone()))
    }
}

/// Why a refresh token is refused.
#[derive(Debug, thiserror::Error)]
enum RefreshRefused {
    #[error("the refresh token is unknown, expired or revoked")]
    Unknown,
    #[error("the refresh token was issued to another client")]
    OtherClient,
    #[error("the refresh token was already used; the session is revoked")]
    Reused,
}

/// Fixed one-minute windows of requests per client address. The map is swept
/// at most once a window, so a request costs amortized O(1).
struct RateLimit {
    per_minute: u32,
    windows: Mutex<Windows>,
}

struct Windows {
    counts: HashMap<IpAddr, (Instant, u32)>,
    swept: Instant,
}

impl RateLimit {
    fn new(per_minute: u32) -> Self {
        RateLimit {
            per_minute,
            windows: Mutex::new(Windows {
                counts: HashMap::new(),
                swept: Instant::now(),
            }),
        }
    }

    /// Counts a request from `address` (none: a caller without a socket,
    /// such as an in-process test) and says whether it is within the limit.
    fn allow(&self, address: Option<IpAddr>) -> bool {
        let Some(address) = address else { return true };
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if now.saturating_duration_since(windows.swept) >= RATE_WINDOW {
            windows
                .counts
                .retain(|_, (started, _)| now.saturating_duration_since(*started) < RATE_WINDOW);
            windows.swept = now;
        }
        let (started, count) = windows.counts.entry(address).or_insert((now, 0));
        if now.saturating_duration_since(*started) >= RATE_WINDOW {
            (*started, *count) = (now, 0);
        }
        *count = count.saturating_add(1);
        *count <= self.per_minute
    }
}

/// The system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("the system random source failed")]
pub struct RandomUnavailable;

impl From<RandomUnavailable> for ApiError {
    fn from(error: RandomUnavailable) -> Self {
        ApiError::Internal(error.into())
    }
}

/// 256 random bits, base64url: codes, refresh tokens, session ids, `jti`s
/// and the consent page's style nonce.
fn random_token() -> Result<String, RandomUnavailable> {
    random_token_from(|bytes| {
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), bytes)
    })
}

fn random_token_from(
    fill: impl FnOnce(&mut [u8]) -> Result<(), ring::error::Unspecified>,
) -> Result<String, RandomUnavailable> {
    let mut bytes = [0u8; 32];
    fill(&mut bytes).map_err(|_| RandomUnavailable)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Seconds since the Unix epoch.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// The development issuer's keys and in-flight state.
#[derive(Clone)]
pub struct DevIssuer {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    pkcs8: Vec<u8>,
    key_id: String,
    public_jwk: serde_json::Value,
    verification_key: jsonwebtoken::DecodingKey,
    pairwise_secret: [u8; 32],
    ledger: Mutex<Ledger>,
    token_requests: RateLimit,
    consents: RateLimit,
}

fn read_or_create(
    path: &Path,
    create: impl FnOnce() -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<Vec<u8>> {
    if let Ok(bytes) = std::fs::read(path) {
        return Ok(bytes);
    }
    let bytes = create()?;
    std::fs::write(path, &bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(bytes)
}

impl DevIssuer {
    /// Loads the issuer's key and pairwise secret from `data_dir`, creating
    /// them on first use, for an issuer at `{public_url}/dev/oidc`. Each
    /// client address may make `token_requests_per_minute` token requests
    /// and as many consent decisions a minute.
    pub fn open(
        data_dir: &Path,
        public_url: &str,
        token_requests_per_minute: u32,
    ) -> anyhow::Result<DevIssuer> {
        tessera_verifier::install_ring_provider();
        let random = ring::rand::SystemRandom::new();
        let pkcs8 = read_or_create(&data_dir.join("dev-issuer-es256.p8"), || {
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random)
                .map(|document| document.as_ref().to_vec())
                .map_err(|_| anyhow::anyhow!("cannot generate the development issuer's key"))
        })?;
        let secret = read_or_create(&data_dir.join("dev-issuer-pairwise.secret"), || {
            let mut bytes = vec![0u8; 32];
            ring::rand::SecureRandom::fill(&random, &mut bytes)
                .map_err(|_| anyhow::anyhow!("the system random source failed"))?;
            Ok(bytes)
        })?;
        let key_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &random)
            .map_err(|_| anyhow::anyhow!("the development issuer's key file is damaged"))?;
        let point = key_pair.public_key().as_ref();
        let (x, y) = (
            URL_SAFE_NO_PAD.encode(&point[1..33]),
            URL_SAFE_NO_PAD.encode(&point[33..65]),
        );
        // RFC 7638 thumbprint as the kid: stable for the same key.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let key_id = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        let verification_key = jsonwebtoken::DecodingKey::from_ec_components(&x, &y)
            .map_err(|_| anyhow::anyhow!("the development issuer's key file is damaged"))?;
        let public_jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": key_id,
                                "use": "sig", "alg": "ES256"});
        let mut pairwise_secret = [0u8; 32];
        if secret.len() != 32 {
            anyhow::bail!("the development issuer's pairwise secret file is damaged");
        }
        pairwise_secret.copy_from_slice(&secret);
        Ok(DevIssuer {
            inner: Arc::new(Inner {
                issuer: format!("{}/dev/oidc", public_url.trim_end_matches('/')),
                pkcs8,
                key_id,
                public_jwk,
                verification_key,
                pairwise_secret,
                ledger: Mutex::new(Ledger::new()),
                token_requests: RateLimit::new(token_requests_per_minute),
                consents: RateLimit::new(token_requests_per_minute),
            }),
        })
    }

    /// The issuer identifier, `{public_url}/dev/oidc`.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The public key set.
    pub fn jwks(&self) -> serde_json::Value {
        json!({ "keys": [self.inner.public_jwk] })
    }

    /// The pairwise subject of `user_id` at `tenant`: an HMAC, so tenants
    /// cannot correlate a customer across shops.
    pub fn pairwise_subject(&self, tenant: &str, user_id: &str) -> String {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.inner.pairwise_secret);
        let tag = ring::hmac::sign(&key, format!("{tenant}\0{user_id}").as_bytes());
        URL_SAFE_NO_PAD.encode(&tag.as_ref()[..20])
    }

    fn sign(&self, typ: &str, claims: &serde_json::Value) -> Result<String, ApiError> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.inner.key_id.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(
            &header,
            claims,
            &jsonwebtoken::EncodingKey::from_ec_der(&self.inner.pkcs8),
        )
        .map_err(|error| ApiError::Internal(anyhow::anyhow!("cannot sign a token: {error}")))
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.inner.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads an `id_token_hint`: an ID token this issuer signed, expired or
    /// not (RP-Initiated Logout 1.0 section 2 accepts expired hints).
    fn read_id_token_hint(&self, hint: &str) -> Result<HintClaims, HintRefused> {
        let header = jsonwebtoken::decode_header(hint).map_err(|_| HintRefused::Malformed)?;
        if header.typ.as_deref() != Some("JWT") {
            return Err(HintRefused::NotAnIdToken);
        }
        let mut rules = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        rules.validate_exp = false;
        rules.validate_nbf = false;
        rules.validate_aud = false;
        rules.set_issuer(&[self.issuer()]);
        rules.set_required_spec_claims(&["iss", "sub", "aud"]);
        jsonwebtoken::decode::<HintClaims>(hint, &self.inner.verification_key, &rules)
            .map(|data| data.claims)
            .map_err(|_| HintRefused::NotOurs)
    }
}

/// What `end_session` reads from an `id_token_hint`.
#[derive(Debug, Deserialize)]
struct HintClaims {
    /// The client the ID token was issued to.
    aud: String,
    /// The session, absent from tokens issued without one.
    sid: Option<String>,
}

/// Why an `id_token_hint` is refused.
#[derive(Debug, thiserror::Error)]
enum HintRefused {
    #[error("id_token_hint is not a token")]
    Malformed,
    #[error("id_token_hint is not an ID token")]
    NotAnIdToken,
    #[error("id_token_hint is not an ID token this issuer signed")]
    NotOurs,
}

/// The development issuer's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dev/oidc/.well-known/openid-configuration", get(discovery))
        .route("/dev/oidc/jwks", get(jwks))
        .route(
            "/dev/oidc/authorize",
            get(authorize_page).post(authorize_decision),
        )
        .route(
            "/dev/oidc/token",
            axum::routing::post(token).options(token_preflight),
        )
        .route("/dev/oidc/end_session", get(end_session))
}

fn issuer_of(state: &AppState) -> Result<&DevIssuer, ApiError> {
    state
        .dev_issuer()
        .ok_or_else(|| ApiError::NotFound("the development issuer is not enabled".into()))
}

/// The discovery document. ID tokens are signed with ES256 only, not RS256,
/// although OpenID Connect Core 15.1 asks OPs to implement RS256: the issuer
/// signs with ring, which cannot generate RSA keys; making one needs another
/// crypto library (aws-lc-rs, a C build) or the pure-Rust `rsa` crate (seconds
/// per key in debug builds, where every test server makes its own key); and
/// with no per-client `id_token_signed_response_alg` the issuer could only
/// switch every tenant to RS256 at once. Clients that read discovery
/// (openid-client, oidc-client-ts) accept ES256, as the interop test shows.
async fn discovery(State(state): State<AppState>) -> Result<Response, ApiError> {
    let issuer = issuer_of(&state)?.issuer().to_owned();
    let response = axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/end_session"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": ["openid", "offline_access"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "auth_time", "azp", "sid"],
        "ui_locales_supported": crate::i18n::BASE_LOCALES,
        "authorization_response_iss_parameter_supported": true,
    }))
    .into_response();
    Ok(public_document(response))
}

async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let response = axum::Json(issuer_of(&state)?.jwks()).into_response();
    Ok(public_document(response))
}

/// Discovery and JWKS are public and cacheable from any origin.
fn public_document(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// The parameters of an authorization request.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizeRequest {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    ui_locales: Option<String>,
}

/// An authorization request that passed every check.
struct ValidAuthorize {
    tenant: std::sync::Arc<TenantRecord>,
    redirect_uri: String,
    scope: String,
    code_challenge: String,
}

/// Errors before the redirect URI is trusted are shown as a page; never
/// redirect to an unchecked URI.
fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in error</title></head>\
         <body><main><h1>Sign-in error</h1><p>{}</p></main></body></html>",
        escape(message)
    );
    (status, Html(body)).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn redirect_with(uri: &str, parameters: &[(&str, &str)]) -> Response {
    let mut url = uri.to_owned();
    for (index, (name, value)) in parameters.iter().enumerate() {
        url.push(if index == 0 && !uri.contains('?') {
            '?'
        } else {
            '&'
        });
        url.push_str(name);
        url.push('=');
        url.push_str(&percent_encode(value));
    }
    Redirect::to(&url).into_response()
}

fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

async fn validate_authorize(
    state: &AppState,
    request: &AuthorizeRequest,
) -> Result<ValidAuthorize, Response> {
    let client_id = request
        .client_id
        .as_deref()
        .ok_or_else(|| error_page(StatusCode::BAD_REQUEST, "client_id is missing"))?;
    let tenant = state
        .tenant(client_id)
        .await
        .map_err(|_| error_page(StatusCode::BAD_REQUEST, "client_id is not a known tenant"))?;
    let redirect_uri = request
        .redirect_uri
        .as_deref()
        .ok_or_else(|| error_page(StatusCode::BAD_REQUEST, "redirect_uri is missing"))?;
    if !tenant
        .config
        .value
        .redirect_uris
        .iter()
        .any(|uri| uri == redirect_uri)
    {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "redirect_uri is not registered for this client (exact match required)",
        ));
    }
    // From here on errors go back to the client, as RFC 6749 4.1.2.1 says.
    let back = |error: &str, description: &str| {
        let mut parameters = vec![("error", error), ("error_description", description)];
        if let Some(state) = request.state.as_deref() {
            parameters.push(("state", state));
        }
        redirect_with(redirect_uri, &parameters)
    };
    if request.response_type.as_deref() != Some("code") {
        return Err(back(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    let scope = request.scope.clone().unwrap_or_default();
    if !scope.split_whitespace().any(|s| s == "openid") {
        return Err(back("invalid_scope", "the scope must include openid"));
    }
    if request.code_challenge_method.as_deref() != Some("S256") {
        return Err(back(
            "invalid_request",
            "PKCE with code_challenge_method=S256 is required",
        ));
    }
    let challenge = request.code_challenge.clone().unwrap_or_default();
    if challenge.len() != 43 || URL_SAFE_NO_PAD.decode(&challenge).is_err() {
        return Err(back(
            "invalid_request",
            "code_challenge must be BASE64URL(SHA256(verifier))",
        ));
    }
    Ok(ValidAuthorize {
        tenant,
        redirect_uri: redirect_uri.to_owned(),
        scope,
        code_challenge: challenge,
    })
}

async fn authorize_page(
    State(state): State<AppState>,
    Query(request): Query<AuthorizeRequest>,
) -> Response {
    if issuer_of(&state).is_err() {
        return error_page(
            StatusCode::NOT_FOUND,
            "the development issuer is not enabled",
        );
    }
    let valid = match validate_authorize(&state, &request).await {
        Ok(valid) => valid,
        Err(response) => return response,
    };
    let style_nonce = match random_token() {
        Ok(token) => token,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let hidden = |name: &str, value: &Option<String>| match value {
        Some(value) => format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(value)
        ),
        None => String::new(),
    };
    let forwarded = [
        ("response_type", &request.response_type),
        ("client_id", &request.client_id),
        ("redirect_uri", &request.redirect_uri),
        ("scope", &request.scope),
        ("state", &request.state),
        ("nonce", &request.nonce),
        ("code_challenge", &request.code_challenge),
        ("code_challenge_method", &request.code_challenge_method),
    ]
    .iter()
    .map(|(name, value)| hidden(name, value))
    .collect::<String>();
    let users = DEMO_USERS
        .iter()
        .enumerate()
        .map(|(index, user)| {
            format!(
                "<label class=\"user\"><input type=\"radio\" name=\"user\" value=\"{}\"{}> {} <small>{}</small></label>",
                user.id,
                if index == 0 { " checked" } else { "" },
                escape(user.name),
                escape(user.email)
            )
        })
        .collect::<String>();
    let shop = escape(&valid.tenant.config.value.display_name);
    let lang = request
        .ui_locales
        .as_deref()
        .and_then(|locales| locales.split_whitespace().next())
        .filter(|tag| tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or("en");
    let body = format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development sign-in</title>
<style nonce="{style_nonce}">
body {{ font-family: system-ui, sans-serif; background: #f1f5f9; color: #0f172a; margin: 0; }}
main {{ max-width: 28rem; margin: 3rem auto; background: #fff; border: 1px solid #cbd5e1; border-radius: 12px; padding: 1.5rem; }}
.user {{ display: block; padding: .5rem 0; }} small {{ color: #475569; }}
button {{ font: inherit; padding: .5rem 1rem; border-radius: 8px; border: 1px solid #1d4ed8; margin-right: .5rem; }}
.allow {{ background: #1d4ed8; color: #fff; }} .deny {{ background: #fff; color: #1d4ed8; }}
button:focus-visible, input:focus-visible {{ outline: 3px solid #1d4ed8; outline-offset: 2px; }}
.note {{ color: #475569; font-size: .875rem; }}
</style></head>
<body><main>
<h1>Development sign-in</h1>
<p><strong>{shop}</strong> asks to sign you in. It will receive a pseudonym only: never the name or email below.</p>
<form method="post" action="/dev/oidc/authorize">
{forwarded}
<fieldset><legend>Demo user</legend>{users}
<label class="user"><input type="radio" name="user" value="typed"> Someone else: <input name="typed_name" aria-label="Demo user name" maxlength="40"></label>
</fieldset>
<p><button class="allow" type="submit" name="decision" value="allow">Allow</button>
<button class="deny" type="submit" name="decision" value="deny">Deny</button></p>
<p class="note">This issuer exists for development only and asks for no password.</p>
</form></main></body></html>"#
    );
    let redirect_origin = valid
        .redirect_uri
        .split('/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    let policy = format!(
        "default-src 'none'; style-src 'nonce-{style_nonce}'; form-action 'self' {redirect_origin}; frame-ancestors 'none'; base-uri 'none'"
    );
    let mut response = Html(body).into_response();
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The consent form's fields: the original request plus the choice.
#[derive(Debug, Deserialize)]
struct Decision {
    decision: String,
    user: Option<String>,
    typed_name: Option<String>,
    #[serde(flatten)]
    request: AuthorizeRequest,
}

async fn authorize_decision(
    State(state): State<AppState>,
    connection: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<Decision>,
) -> Response {
    let issuer = match issuer_of(&state) {
        Ok(issuer) => issuer.clone(),
        Err(_) => {
            return error_page(
                StatusCode::NOT_FOUND,
                "the development issuer is not enabled",
            );
        }
    };
    // Unauthenticated and each allowed one stores a code: limited per address.
    if !issuer.inner.consents.allow(connection.map(|c| c.0.0.ip())) {
        state.metrics().record_rate_limited();
        return too_many("too many sign-in decisions from this address");
    }
    // The hidden fields came back from the browser: check them all again.
    let valid = match validate_authorize(&state, &form.request).await {
        Ok(valid) => valid,
        Err(response) => return response,
    };
    let mut parameters = Vec::new();
    if form.decision != "allow" {
        parameters.push(("error", "access_denied".to_owned()));
        parameters.push((
            "error_description",
            "the user denied the request".to_owned(),
        ));
    } else {
        let user_id = match form.user.as_deref() {
            Some("typed") => {
                let name = form.typed_name.unwrap_or_default();
                let name = name.trim();
                if name.is_empty()
                    || name.chars().count() > 40
                    || name.chars().any(char::is_control)
                {
                    return error_page(
                        StatusCode::BAD_REQUEST,
                        "type a demo user name of 1 to 40 characters",
                    );
                }
                format!("typed:{}", name.to_lowercase())
            }
            Some(id) if DEMO_USERS.iter().any(|user| user.id == id) => id.to_owned(),
            _ => return error_page(StatusCode::BAD_REQUEST, "choose a demo user"),
        };
        let code = match random_token() {
            Ok(code) => code,
            Err(error) => return ApiError::from(error).into_response(),
        };
        let pending = PendingCode {
            tenant: valid.tenant.slug.clone(),
            user_id,
            redirect_uri: valid.redirect_uri.clone(),
            code_challenge: valid.code_challenge.clone(),
            nonce: form.request.nonce.clone(),
            scope: valid.scope.clone(),
            auth_time: unix_now(),
            issued: Instant::now(),
        };
        if let Err(full) = issuer.ledger().add_code(code.clone(), pending) {
            let mut response = oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                &full.to_string(),
            );
            let seconds = full
                .retry_after
                .saturating_add(Duration::from_millis(999))
                .as_secs()
                .max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
        parameters.push(("code", code));
    }
    if let Some(client_state) = &form.request.state {
        parameters.push(("state", client_state.clone()));
    }
    parameters.push(("iss", issuer.issuer().to_owned()));
    let borrowed: Vec<(&str, &str)> = parameters.iter().map(|(n, v)| (*n, v.as_str())).collect();
    // 303 so the browser follows with a GET.
    let mut response = redirect_with(&valid.redirect_uri, &borrowed);
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
}

/// 429 with `Retry-After` for a client over its per-address limit.
fn too_many(description: &str) -> Response {
    let mut response = oauth_error(StatusCode::TOO_MANY_REQUESTS, "slow_down", description);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    response
}

/// The token request's form fields.
#[derive(Debug, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    code: Option<String>,
    refresh_token: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    code_verifier: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The CORS origin to echo on a token response: the server's own, or a shop
/// origin of the tenant whose client is calling, so that one tenant's page
/// cannot read tokens of another tenant's client.
async fn allowed_origin(
    state: &AppState,
    headers: &HeaderMap,
    client_id: Option<&str>,
) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    if origin == state.public_url() {
        return HeaderValue::from_str(origin).ok();
    }
    let tenant = state.tenant(client_id?).await.ok()?;
    if allows_origin(&tenant, origin) {
        return HeaderValue::from_str(origin).ok();
    }
    None
}

/// Whether `origin` is one of the tenant's shop origins.
fn allows_origin(tenant: &crate::store::TenantRecord, origin: &str) -> bool {
    tenant
        .config
        .value
        .allowed_origins
        .iter()
        .any(|allowed| allowed == origin)
}

/// The CORS origin to echo on a preflight. A preflight has no body, so it
/// cannot name the client: any tenant's shop origin may send (a form POST
/// needs no preflight anyway), and only the response, checked against the
/// client's own tenant, decides whether the page may read it.
async fn preflight_origin(state: &AppState, headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    if origin == state.public_url() {
        return HeaderValue::from_str(origin).ok();
    }
    for slug in state.store().tenant_slugs().await.ok()? {
        let tenant = state.store().tenant(&slug).await.ok()??;
        if allows_origin(&tenant, origin) {
            return HeaderValue::from_str(origin).ok();
        }
    }
    None
}

fn with_cors(mut response: Response, origin: Option<HeaderValue>) -> Response {
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    // The answer depends on the origin whether or not it was allowed.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("origin"));
    response
}

async fn token_preflight(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let origin = preflight_origin(&state, &headers).await;
    with_cors(StatusCode::NO_CONTENT.into_response(), origin)
}

async fn token(
    State(state): State<AppState>,
    connection: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    OAuthForm(request): OAuthForm<TokenRequest>,
) -> Response {
    let origin = allowed_origin(&state, &headers, request.client_id.as_deref()).await;
    let response = token_response(&state, connection.map(|c| c.0.0.ip()), request).await;
    with_cors(response, origin)
}

async fn token_response(
    state: &AppState,
    address: Option<IpAddr>,
    request: TokenRequest,
) -> Response {
    let issuer = match issuer_of(state) {
        Ok(issuer) => issuer.clone(),
        Err(error) => return error.into_response(),
    };
    if !issuer.inner.token_requests.allow(address) {
        state.metrics().record_rate_limited();
        return too_many("too many token requests");
    }
    match request.grant_type.as_deref() {
        Some("authorization_code") => authorization_code_grant(state, &issuer, request).await,
        Some("refresh_token") => refresh_token_grant(state, &issuer, request).await,
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "the grant_type is authorization_code or refresh_token",
        ),
    }
}

async fn authorization_code_grant(
    state: &AppState,
    issuer: &DevIssuer,
    request: TokenRequest,
) -> Response {
    let code = request.code.unwrap_or_default();
    // Single use: the code is removed whether or not the rest checks out.
    let pending = issuer.ledger().take_code(&code);
    let Some(pending) = pending else {
        // RFC 6749 4.1.2: a code used twice revokes the tokens issued from
        // it. Its refresh tokens are revoked here; its access and ID tokens
        // are self-contained JWTs checked offline and expire on their own.
        if issuer.ledger().replayed(&code) {
            tracing::warn!("a redeemed code was presented again: its session is revoked");
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "the code was already used; the tokens issued from it are revoked",
            );
        }
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the code is unknown or already used",
        );
    };
    if pending.issued.elapsed() >= CODE_LIFETIME {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "the code expired");
    }
    if request.client_id.as_deref() != Some(pending.tenant.as_str()) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the code was issued to another client",
        );
    }
    if request.redirect_uri.as_deref() != Some(pending.redirect_uri.as_str()) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        );
    }
    let verifier = request.code_verifier.unwrap_or_default();
    let verifier_ok = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if !verifier_ok || challenge != pending.code_challenge {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the code_verifier does not match the code_challenge",
        );
    }
    let tenant = match state.store().tenant(&pending.tenant).await {
        Ok(Some(tenant)) => tenant,
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "the client no longer exists",
            );
        }
    };
    let sid = match random_token() {
        Ok(sid) => sid,
        Err(error) => return ApiError::from(error).into_response(),
    };
    if offline_access(&pending.scope) {
        let now = Instant::now();
        let mut ledger = issuer.ledger();
        let session = Session {
            tenant: pending.tenant.clone(),
            user_id: pending.user_id.clone(),
            scope: pending.scope.clone(),
            auth_time: pending.auth_time,
            refreshed: now,
        };
        ledger.start_session(sid.clone(), session);
        ledger.redeemed(code, &sid, now);
    }
    let authentication = Authentication {
        user_id: &pending.user_id,
        scope: &pending.scope,
        auth_time: pending.auth_time,
        sid: &sid,
    };
    issue_tokens(issuer, &tenant, &authentication, pending.nonce.as_deref())
}

fn offline_access(scope: &str) -> bool {
    scope.split_whitespace().any(|s| s == "offline_access")
}

/// Rotates a refresh token: the presented one is spent, a new one of the same
/// family is issued. A spent token presented again revokes the family.
async fn refresh_token_grant(
    state: &AppState,
    issuer: &DevIssuer,
    request: TokenRequest,
) -> Response {
    let presented = request.refresh_token.unwrap_or_default();
    let spent = issuer.ledger().spend_refresh_token(
        &presented,
        request.client_id.as_deref(),
        Instant::now(),
    );
    let (sid, session) = match spent {
        Ok(spent) => spent,
        Err(refused) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                &refused.to_string(),
            );
        }
    };
    let Ok(Some(tenant)) = state.store().tenant(&session.tenant).await else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the client no longer exists",
        );
    };
    let authentication = Authentication {
        user_id: &session.user_id,
        scope: &session.scope,
        auth_time: session.auth_time,
        sid: &sid,
    };
    issue_tokens(issuer, &tenant, &authentication, None)
}

/// The sign-in that tokens are issued for: the same for every token of a
/// refresh family.
struct Authentication<'a> {
    user_id: &'a str,
    scope: &'a str,
    /// When the user consented (OpenID Connect Core 12.2 keeps it).
    auth_time: i64,
    /// The session: the `sid` claim and the refresh family.
    sid: &'a str,
}

/// Signs an ID token and an access token (and, with `offline_access`, a
/// refresh token of the session) for a sign-in at `tenant`.
fn issue_tokens(
    issuer: &DevIssuer,
    tenant: &TenantRecord,
    authentication: &Authentication<'_>,
    nonce_claim: Option<&str>,
) -> Response {
    match signed_tokens(issuer, tenant, authentication, nonce_claim) {
        Ok(body) => {
            let mut response = axum::Json(body).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => error.into_response(),
    }
}

fn signed_tokens(
    issuer: &DevIssuer,
    tenant: &TenantRecord,
    authentication: &Authentication<'_>,
    nonce_claim: Option<&str>,
) -> Result<serde_json::Value, ApiError> {
    let now = unix_now();
    let subject = issuer.pairwise_subject(&tenant.slug, authentication.user_id);
    let mut id_claims = json!({
        "iss": issuer.issuer(), "sub": subject, "aud": tenant.slug, "azp": tenant.slug,
        "iat": now, "auth_time": authentication.auth_time, "sid": authentication.sid,
        "exp": now + TOKEN_LIFETIME_SECONDS,
    });
    if let Some(nonce) = nonce_claim {
        id_claims["nonce"] = json!(nonce);
    }
    // RFC 9068 section 2.2: iss, exp, aud, sub, client_id, iat, jti.
    let access_claims = json!({
        "iss": issuer.issuer(), "sub": subject, "aud": tenant.config.value.audience,
        "client_id": tenant.slug, "scope": authentication.scope, "iat": now,
        "exp": now + TOKEN_LIFETIME_SECONDS, "jti": random_token()?,
    });
    let mut body = json!({
        "access_token": issuer.sign("at+jwt", &access_claims)?,
        "id_token": issuer.sign("JWT", &id_claims)?,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECONDS,
        "scope": authentication.scope,
    });
    if offline_access(authentication.scope) {
        let refresh_token = random_token()?;
        issuer.ledger().add_refresh_token(
            refresh_token.clone(),
            authentication.sid,
            Instant::now(),
        );
        body["refresh_token"] = json!(refresh_token);
    }
    Ok(body)
}

#[derive(Debug, Deserialize)]
struct EndSession {
    post_logout_redirect_uri: Option<String>,
    client_id: Option<String>,
    state: Option<String>,
    id_token_hint: Option<String>,
}

/// RP-Initiated Logout 1.0: ends the hinted session (its refresh tokens are
/// revoked) and returns to a `post_logout_redirect_uri` registered for the
/// client, named by `client_id` or by the hint's `aud`.
async fn end_session(State(state): State<AppState>, Query(request): Query<EndSession>) -> Response {
    let Ok(issuer) = issuer_of(&state) else {
        return error_page(
            StatusCode::NOT_FOUND,
            "the development issuer is not enabled",
        );
    };
    let hint = match request.id_token_hint.as_deref() {
        None => None,
        Some(hint) => match issuer.read_id_token_hint(hint) {
            Ok(hint) => Some(hint),
            Err(refused) => return error_page(StatusCode::BAD_REQUEST, &refused.to_string()),
        },
    };
    // Section 2: with both, client_id must be the hint's audience.
    let client_id = match (request.client_id.as_deref(), &hint) {
        (Some(client_id), Some(hint)) if client_id != hint.aud => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "client_id is not the client id_token_hint was issued to",
            );
        }
        (Some(client_id), _) => Some(client_id),
        (None, Some(hint)) => Some(hint.aud.as_str()),
        (None, None) => None,
    };
    if let Some(sid) = hint.as_ref().and_then(|hint| hint.sid.as_deref()) {
        issuer.ledger().end_session(sid);
    }
    // Only a URI registered for the client is followed.
    if let (Some(uri), Some(client_id)) = (&request.post_logout_redirect_uri, client_id)
        && let Ok(tenant) = state.tenant(client_id).await
        && tenant
            .config
            .value
            .redirect_uris
            .iter()
            .any(|registered| registered == uri)
    {
        let parameters: Vec<(&str, &str)> = request
            .state
            .as_deref()
            .map(|s| vec![("state", s)])
            .unwrap_or_default();
        return redirect_with(uri, &parameters);
    }
    Html(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed out</title></head>\
         <body><main><h1>You are signed out</h1></main></body></html>",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(issued: Instant) -> PendingCode {
        PendingCode {
            tenant: "acme".into(),
            user_id: "ada".into(),
            redirect_uri: "https://shop.example/callback".into(),
            code_challenge: String::new(),
            nonce: None,
            scope: "openid".into(),
            auth_time: 0,
            issued,
        }
    }

    #[test]
    fn a_failed_random_fill_is_an_error() {
        let failed = random_token_from(|_| Err(ring::error::Unspecified));
        assert!(matches!(failed, Err(RandomUnavailable)));
        let filled = random_token_from(|bytes| {
            bytes.fill(7);
            Ok(())
        })
        .unwrap();
        assert_eq!(filled.len(), 43);
        assert_ne!(random_token().unwrap(), random_token().unwrap());
    }

    #[test]
    fn expired_codes_make_room_and_a_full_ledger_refuses() {
        let start = Instant::now();
        let mut ledger = Ledger::new();
        for index in 0..PENDING_CODE_CAPACITY {
            ledger
                .add_code(format!("code-{index}"), pending(start))
                .unwrap();
        }
        // Full, and nothing expired yet: refused, with the time to wait.
        let half = start + CODE_LIFETIME / 2;
        let full = ledger
            .add_code("one-more".into(), pending(half))
            .unwrap_err();
        assert_eq!(full.retry_after, CODE_LIFETIME / 2);
        assert_eq!(ledger.pending.len(), PENDING_CODE_CAPACITY);
        // Once the codes expired, they leave and the new one fits.
        let later = start + CODE_LIFETIME;
        ledger.add_code("fresh".into(), pending(later)).unwrap();
        assert_eq!(ledger.pending.len(), 1);
        assert!(ledger.take_code("code-0").is_none());
        assert!(ledger.take_code("fresh").is_some());
    }
}
