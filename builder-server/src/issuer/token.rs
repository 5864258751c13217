//! The token endpoint, `/dev/oidc/token`: the authorization code grant
//! (PKCE S256, exact `redirect_uri`, single-use codes) and the refresh
//! token grant (rotation; a reused token revokes its family), rate limited
//! per address, with CORS for the calling client's shop origins.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::cors::{allowed_origin, preflight_origin, with_cors};
use super::{DevIssuer, IssuerError, TOKEN_LIFETIME_SECONDS, random_token, unix_now};
use crate::AppState;
use crate::extract::OAuthForm;
use crate::store::{CODE_LIFETIME_SECONDS, DevSession, TenantRecord};

/// The token request's form fields.
#[derive(Debug, Deserialize)]
pub(super) struct TokenRequest {
    grant_type: Option<String>,
    code: Option<String>,
    refresh_token: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    code_verifier: Option<String>,
}

pub(super) async fn token_preflight(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let origin = preflight_origin(&state, &headers).await;
    with_cors(StatusCode::NO_CONTENT.into_response(), origin)
}

pub(super) async fn token(
    State(state): State<AppState>,
    State(issuer): State<DevIssuer>,
    connection: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    OAuthForm(request): OAuthForm<TokenRequest>,
) -> Response {
    let origin = allowed_origin(&state, &headers, request.client_id.as_deref()).await;
    let address = connection.map(|c| c.0.0.ip());
    let response = token_response(&state, &issuer, address, request)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    with_cors(response, origin)
}

async fn token_response(
    state: &AppState,
    issuer: &DevIssuer,
    address: Option<IpAddr>,
    request: TokenRequest,
) -> Result<Response, IssuerError> {
    if !issuer.allow(state, "token", address).await? {
        state.metrics().record_rate_limited();
        return Err(IssuerError::SlowDown("too many token requests"));
    }
    match request.grant_type.as_deref() {
        Some("authorization_code") => authorization_code_grant(state, issuer, request).await,
        Some("refresh_token") => refresh_token_grant(state, issuer, request).await,
        _ => Err(IssuerError::UnsupportedGrantType),
    }
}

fn invalid_grant(description: &str) -> IssuerError {
    IssuerError::InvalidGrant(description.to_owned())
}

async fn authorization_code_grant(
    state: &AppState,
    issuer: &DevIssuer,
    request: TokenRequest,
) -> Result<Response, IssuerError> {
    let code = request.code.unwrap_or_default();
    // Single use: the code is removed whether or not the rest checks out.
    // RFC 6749 4.1.2: a code used twice revokes the tokens issued from it.
    // Its refresh tokens are revoked by the store; its access and ID tokens
    // are self-contained JWTs checked offline and expire on their own.
    let taken = state.store().dev_take_code(&code, unix_now()).await?;
    let pending = match taken {
        Ok(pending) => pending,
        Err(replayed) => {
            if replayed {
                tracing::warn!("a redeemed code was presented again: its session is revoked");
                return Err(invalid_grant(
                    "the code was already used; the tokens issued from it are revoked",
                ));
            }
            return Err(invalid_grant("the code is unknown or already used"));
        }
    };
    if unix_now().saturating_sub(pending.issued_at) >= CODE_LIFETIME_SECONDS {
        return Err(invalid_grant("the code expired"));
    }
    if request.client_id.as_deref() != Some(pending.tenant.as_str()) {
        return Err(invalid_grant("the code was issued to another client"));
    }
    if request.redirect_uri.as_deref() != Some(pending.redirect_uri.as_str()) {
        return Err(invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    let verifier = request.code_verifier.unwrap_or_default();
    let verifier_ok = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if !verifier_ok || challenge != pending.code_challenge {
        return Err(invalid_grant(
            "the code_verifier does not match the code_challenge",
        ));
    }
    let Ok(tenant) = issuer.client(state, &pending.tenant).await else {
        return Err(invalid_grant("the client no longer exists"));
    };
    let sid = random_token()?;
    if offline_access(&pending.scope) {
        let session = DevSession {
            tenant: pending.tenant.clone(),
            user_id: pending.user_id.clone(),
            scope: pending.scope.clone(),
            auth_time: pending.auth_time,
        };
        state
            .store()
            .dev_start_session(&sid, &code, session, unix_now())
            .await?;
    }
    let authentication = Authentication {
        user_id: &pending.user_id,
        scope: &pending.scope,
        auth_time: pending.auth_time,
        sid: &sid,
    };
    issue_tokens(
        state,
        issuer,
        &tenant,
        &authentication,
        pending.nonce.as_deref(),
    )
    .await
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
) -> Result<Response, IssuerError> {
    let presented = request.refresh_token.unwrap_or_default();
    let spent = state
        .store()
        .dev_spend_refresh_token(&presented, request.client_id.as_deref(), unix_now())
        .await?;
    let (sid, session) = spent.map_err(|refused| invalid_grant(&refused.to_string()))?;
    let Ok(tenant) = issuer.client(state, &session.tenant).await else {
        return Err(invalid_grant("the client no longer exists"));
    };
    let authentication = Authentication {
        user_id: &session.user_id,
        scope: &session.scope,
        auth_time: session.auth_time,
        sid: &sid,
    };
    issue_tokens(state, issuer, &tenant, &authentication, None).await
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
async fn issue_tokens(
    state: &AppState,
    issuer: &DevIssuer,
    tenant: &TenantRecord,
    authentication: &Authentication<'_>,
    nonce_claim: Option<&str>,
) -> Result<Response, IssuerError> {
    let body = signed_tokens(state, issuer, tenant, authentication, nonce_claim).await?;
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn signed_tokens(
    state: &AppState,
    issuer: &DevIssuer,
    tenant: &TenantRecord,
    authentication: &Authentication<'_>,
    nonce_claim: Option<&str>,
) -> Result<serde_json::Value, IssuerError> {
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
    // The console's client (admins, not customers) gets who signed in and
    // their console role: every demo user is an owner of this instance.
    if tenant.slug == super::CONSOLE_CLIENT_ID {
        let name = super::authorize::DEMO_USERS
            .iter()
            .find(|user| user.id == authentication.user_id)
            .map_or(authentication.user_id, |user| user.name);
        id_claims["name"] = json!(name);
        id_claims[super::CONSOLE_ROLES_CLAIM] = json!(["owner"]);
    }
    // RFC 9068 section 2.2: iss, exp, aud, sub, client_id, iat, jti.
    let access_claims = json!({
        "iss": issuer.issuer(), "sub": subject, "aud": tenant.config.value.audience,
        "client_id": tenant.slug, "scope": authentication.scope, "iat": now,
        "exp": now + TOKEN_LIFETIME_SECONDS, "jti": random_token()?,
    });
    let mut body = json!({
        "access_token": issuer.keys().sign("at+jwt", &access_claims)?,
        "id_token": issuer.keys().sign("JWT", &id_claims)?,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECONDS,
        "scope": authentication.scope,
    });
    if offline_access(authentication.scope) {
        let refresh_token = random_token()?;
        state
            .store()
            .dev_add_refresh_token(&refresh_token, authentication.sid, unix_now())
            .await?;
        body["refresh_token"] = json!(refresh_token);
    }
    Ok(body)
}
