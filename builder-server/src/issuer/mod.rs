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
//! limit. All of it (the key, codes, sessions, refresh families, rate
//! limits) lives in the database (`store/dev_issuer.rs`), so replicas of
//! one site act as one issuer: a code issued by one is redeemed at
//! another, and a refresh token spent at one is known spent at all.
//!
//! It is not for production: it runs only in `tessera dev` or behind
//! `--dangerous-dev-issuer`, and has no passwords.
//!
//! Protocol, HTTP and HTML live apart: `authorize.rs` checks authorization
//! requests and takes consent, `token.rs` grants tokens, `end_session.rs`
//! signs out; `keys.rs` holds the signing key, `cors.rs` which origins may read a token response, `pages.rs` the HTML,
//! and `error.rs` every refusal ([`IssuerError`]) with the answer it gets.
//! [`routes`] is mounted only when the issuer runs, with the issuer as its
//! state, so no handler asks whether it is enabled.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::AppState;

mod authorize;
mod cors;
mod end_session;
mod error;
mod keys;
pub use keys::pairwise_subject;
mod pages;
mod token;

pub use error::IssuerError;

/// The console's client id at the development issuer.
pub const CONSOLE_CLIENT_ID: &str = "tessera-console";

/// The ID-token claim the development issuer puts console roles in.
pub const CONSOLE_ROLES_CLAIM: &str = "tessera_roles";

use crate::model::{AudienceRequest, TenantConfig, TokenStorage};
pub use crate::store::PENDING_CODE_CAPACITY;
use crate::store::{TenantId, TenantRecord, Versioned};

use keys::Keys;

/// How long issued tokens live, in seconds.
pub const TOKEN_LIFETIME_SECONDS: i64 = 600;

/// The development issuer's keys and in-flight state.
#[derive(Clone)]
pub struct DevIssuer {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    /// The console's own client, when this issuer signs admins in too.
    console_client: Option<Arc<TenantRecord>>,
    keys: Keys,
    /// Token requests, and as many consent decisions, a minute per client
    /// address.
    per_minute: u32,
}

impl DevIssuer {
    /// Loads the issuer's key and pairwise secret from the database
    /// (creating them on first use, from the files an older release kept in
    /// `data_dir` when they are there), for an issuer at
    /// `{public_url}/dev/oidc`. Each client address may make
    /// `token_requests_per_minute` token requests and as many consent
    /// decisions a minute.
    pub async fn open(
        store: &crate::store::Store,
        data_dir: &Path,
        public_url: &str,
        token_requests_per_minute: u32,
    ) -> anyhow::Result<DevIssuer> {
        let keys = Keys::load(store, data_dir).await?;
        Ok(DevIssuer {
            inner: Arc::new(Inner {
                issuer: format!("{}/dev/oidc", public_url.trim_end_matches('/')),
                console_client: None,
                keys,
                per_minute: token_requests_per_minute,
            }),
        })
    }

    /// Also signs admins in to the console: a built-in public client
    /// [`CONSOLE_CLIENT_ID`] redirecting to `{public_url}/console/oidc/callback`,
    /// whose ID tokens carry the demo user's name and the `owner` role in
    /// [`CONSOLE_ROLES_CLAIM`]. Call before the issuer is shared.
    pub fn with_console_client(mut self, public_url: &str) -> anyhow::Result<Self> {
        let public_url = public_url.trim_end_matches('/');
        let config = TenantConfig {
            display_name: "Tessera console".into(),
            issuer: self.inner.issuer.clone(),
            client_id: CONSOLE_CLIENT_ID.into(),
            audience: CONSOLE_CLIENT_ID.into(),
            audience_request: AudienceRequest::None,
            allowed_origins: vec![public_url.to_owned()],
            redirect_uris: vec![format!("{public_url}/console/oidc/callback")],
            scopes: vec!["openid".into()],
            default_locale: "en".into(),
            enabled_locales: vec!["en".into()],
            providers: Vec::new(),
            token_storage: TokenStorage::Memory,
        };
        let client = TenantRecord {
            id: TenantId::BUILT_IN,
            slug: CONSOLE_CLIENT_ID.into(),
            config: Versioned {
                value: config,
                version: 1,
            },
            theme: Versioned {
                value: crate::theme::preset("light")
                    .ok_or_else(|| anyhow::anyhow!("the built-in light theme is missing"))?,
                version: 1,
            },
        };
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.console_client = Some(Arc::new(client));
        }
        Ok(self)
    }

    /// The client `client_id`: the console's built-in one, or a tenant.
    pub(crate) async fn client(
        &self,
        state: &AppState,
        client_id: &str,
    ) -> Result<Arc<TenantRecord>, crate::error::ApiError> {
        match &self.inner.console_client {
            Some(console) if client_id == CONSOLE_CLIENT_ID => Ok(console.clone()),
            _ => state.tenant(client_id).await,
        }
    }

    /// The issuer identifier, `{public_url}/dev/oidc`.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The public key set.
    pub fn jwks(&self) -> serde_json::Value {
        self.inner.keys.jwks()
    }

    /// The pairwise subject of `user_id` at `tenant`: an HMAC, so tenants
    /// cannot correlate a customer across shops.
    pub fn pairwise_subject(&self, tenant: &str, user_id: &str) -> String {
        self.inner.keys.pairwise_subject(tenant, user_id)
    }

    fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// Counts a request of kind `bucket` from `address` (none: a caller
    /// without a socket, such as an in-process test) and says whether it is
    /// within the per-minute limit.
    async fn allow(
        &self,
        state: &AppState,
        bucket: &str,
        address: Option<std::net::IpAddr>,
    ) -> Result<bool, IssuerError> {
        let Some(address) = address else {
            return Ok(true);
        };
        Ok(state
            .store()
            .dev_rate_allow(
                bucket,
                &address.to_string(),
                self.inner.per_minute,
                crate::store::now(),
            )
            .await?)
    }
}

/// What the issuer's handlers share: the server's state, and the issuer
/// that this router exists only with.
#[derive(Clone)]
struct IssuerState {
    app: AppState,
    issuer: DevIssuer,
}

impl FromRef<IssuerState> for AppState {
    fn from_ref(state: &IssuerState) -> AppState {
        state.app.clone()
    }
}

impl FromRef<IssuerState> for DevIssuer {
    fn from_ref(state: &IssuerState) -> DevIssuer {
        state.issuer.clone()
    }
}

/// The development issuer's routes, for a server that runs `issuer`.
pub fn routes(state: &AppState, issuer: DevIssuer) -> Router<AppState> {
    Router::new()
        .route("/dev/oidc/.well-known/openid-configuration", get(discovery))
        .route("/dev/oidc/jwks", get(jwks))
        .route(
            "/dev/oidc/authorize",
            get(authorize::authorize_page).post(authorize::authorize_decision),
        )
        .route(
            "/dev/oidc/token",
            post(token::token).options(token::token_preflight),
        )
        .route("/dev/oidc/end_session", get(end_session::end_session))
        .with_state(IssuerState {
            app: state.clone(),
            issuer,
        })
}

/// The discovery document. ID tokens are signed with ES256 only, not RS256,
/// although OpenID Connect Core 15.1 asks OPs to implement RS256: the issuer
/// signs with ring, which cannot generate RSA keys; making one needs another
/// crypto library (aws-lc-rs, a C build) or the pure-Rust `rsa` crate (seconds
/// per key in debug builds, where every test server makes its own key); and
/// with no per-client `id_token_signed_response_alg` the issuer could only
/// switch every tenant to RS256 at once. Clients that read discovery
/// (openid-client, oidc-client-ts) accept ES256, as the interop test shows.
async fn discovery(State(issuer): State<DevIssuer>) -> Response {
    let issuer = issuer.issuer();
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
    public_document(response)
}

async fn jwks(State(issuer): State<DevIssuer>) -> Response {
    public_document(axum::Json(issuer.jwks()).into_response())
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

/// A redirect (303) to `uri` with `parameters` added to its query.
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

/// The system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("the system random source failed")]
pub struct RandomUnavailable;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
