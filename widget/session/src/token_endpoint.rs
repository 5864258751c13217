//! The IdP's token endpoint, as a public client: the code exchange (with
//! the PKCE verifier) and refresh-token rotation.

use std::collections::BTreeMap;

use serde::Deserialize;
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::id_token::{IdTokenRequest, check, now_seconds};
use crate::{Refusal, Session, SignInReturn};

/// What a token endpoint answers.
#[derive(Deserialize)]
struct Tokens {
    #[serde(default)]
    id_token: Option<String>,
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<f64>,
}

/// How long a token request may take before it counts as the IdP being
/// unreachable (and is retried later), in milliseconds.
const REQUEST_TIMEOUT_MILLISECONDS: u32 = 10_000;

/// An OAuth error response (RFC 6749 section 5.2).
#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
}

fn unavailable(message: impl Into<String>) -> Refusal {
    Refusal::new("idp_unavailable", message)
}

fn window() -> Result<web_sys::Window, Refusal> {
    web_sys::window().ok_or_else(|| Refusal::new("configuration", "no window"))
}

fn encode(text: &str) -> String {
    js_sys::encode_uri_component(text)
        .as_string()
        .unwrap_or_default()
}

/// The tenant's extra token-request parameters, as `&name=value` pairs; a
/// name the request itself sets is skipped, so none can be replaced.
fn extra(parameters: &BTreeMap<String, String>) -> String {
    const OWN: [&str; 6] = [
        "grant_type",
        "code",
        "redirect_uri",
        "client_id",
        "code_verifier",
        "refresh_token",
    ];
    parameters
        .iter()
        .filter(|(name, _)| !OWN.contains(&name.as_str()))
        .map(|(name, value)| format!("&{}={}", encode(name), encode(value)))
        .collect()
}

async fn post_form(endpoint: &str, body: &str) -> Result<web_sys::Response, Refusal> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let headers = web_sys::Headers::new().map_err(|_| Refusal::new("configuration", "headers"))?;
    let _ = headers.set("content-type", "application/x-www-form-urlencoded");
    init.set_headers(&headers);
    // A slow IdP is an unreachable one: the request is given up, and the
    // widget tries again later.
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(
        REQUEST_TIMEOUT_MILLISECONDS,
    )));
    Ok(
        JsFuture::from(window()?.fetch_with_str_and_init(endpoint, &init))
            .await
            .map_err(|_| unavailable("cannot reach the token endpoint"))?
            .unchecked_into(),
    )
}

async fn text_of(url: &str, response: web_sys::Response) -> Result<String, Refusal> {
    if !response.ok() {
        return Err(unavailable(format!("{url} answered {}", response.status())));
    }
    Ok(
        JsFuture::from(response.text().map_err(|_| unavailable("unreadable"))?)
            .await
            .map_err(|_| unavailable("unreadable"))?
            .as_string()
            .unwrap_or_default(),
    )
}

async fn tokens_from(endpoint: &str, response: web_sys::Response) -> Result<Tokens, Refusal> {
    serde_json::from_str(&text_of(endpoint, response).await?).map_err(|_| {
        Refusal::new(
            "configuration",
            format!("{endpoint} is not the expected JSON"),
        )
    })
}

async fn fetch_text(url: &str) -> Result<String, Refusal> {
    let response: web_sys::Response = JsFuture::from(window()?.fetch_with_str(url))
        .await
        .map_err(|_| unavailable(format!("cannot reach {url}")))?
        .unchecked_into();
    text_of(url, response).await
}

/// Exchanges the code, then checks the ID token against the IdP's key set.
pub async fn exchange_code(request: &SignInReturn) -> Result<Session, Refusal> {
    let body = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&client_id={}&code_verifier={}{}",
        encode(&request.code),
        encode(&request.redirect_uri),
        encode(&request.client_id),
        encode(&request.verifier),
        extra(&request.token_parameters)
    );
    let response = post_form(&request.token_endpoint, &body).await?;
    let tokens = tokens_from(&request.token_endpoint, response).await?;
    let id_token = tokens
        .id_token
        .ok_or_else(|| Refusal::new("invalid_token", "the token endpoint sent no ID token"))?;
    // The key set goes to the verifier as text, for its strict reader.
    let jwks = fetch_text(&request.jwks_uri).await?;
    let checked = check(IdTokenRequest {
        id_token: id_token.clone(),
        jwks,
        issuer: request.issuer.clone(),
        client_id: request.client_id.clone(),
        nonce: request.nonce.clone(),
    })
    .await?;
    Ok(Session {
        id_token: Some(id_token),
        // The session's expiry is the access token's, which is what the
        // page's API calls carry; the ID token's `exp` is its own (IdPs
        // often give the two different lifetimes). Without `expires_in`,
        // the ID token's is the only one known.
        expires_at: tokens
            .expires_in
            .map_or(checked.expires_at, access_token_expiry),
        access_token: tokens.access_token,
        subject: checked.subject,
        claims: checked.claims,
        withheld: checked.withheld,
        refresh_token: tokens.refresh_token,
    })
}

/// What a refused refresh means. `invalid_grant` (the token was revoked,
/// expired or already used) and an unreadable refusal end the session: it
/// cannot be renewed. Another OAuth error (`invalid_client`,
/// `unauthorized_client`...) is the tenant's set-up, and ends it too, said
/// as such. Everything else (429, 5xx, no answer) is the IdP being
/// unavailable for now: the caller keeps the session and tries again.
async fn refused(token_endpoint: &str, response: web_sys::Response) -> Refusal {
    let expired = Refusal::new("session_expired", "the refresh token was refused");
    let Ok(text) = response.text() else {
        return expired;
    };
    let text = JsFuture::from(text)
        .await
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default();
    match serde_json::from_str::<ErrorResponse>(&text) {
        Ok(ErrorResponse { error }) if error != "invalid_grant" => Refusal::new(
            "configuration",
            format!("{token_endpoint} refused the refresh: {error}"),
        ),
        _ => expired,
    }
}

/// Rotates the session's refresh token at the token endpoint. The subject
/// and claims stay those of the verified ID token; the access token, its
/// lifetime and the refresh token are new. A refusal is read by
/// [`refused`]; a token endpoint that does not answer in time, or answers
/// 429 or 5xx, is `idp_unavailable`.
pub async fn rotate(
    token_endpoint: &str,
    client_id: &str,
    parameters: &BTreeMap<String, String>,
    session: &Session,
) -> Result<Session, Refusal> {
    let refresh_token = session
        .refresh_token
        .as_deref()
        .ok_or_else(|| Refusal::new("session_expired", "the session has no refresh token"))?;
    let body = format!(
        "grant_type=refresh_token&refresh_token={}&client_id={}{}",
        encode(refresh_token),
        encode(client_id),
        extra(parameters)
    );
    let response = post_form(token_endpoint, &body).await?;
    if response.status() == 400 || response.status() == 401 {
        return Err(refused(token_endpoint, response).await);
    }
    let tokens = tokens_from(token_endpoint, response).await?;
    let expires_at = access_token_expiry(tokens.expires_in.unwrap_or(300.0));
    Ok(Session {
        // The first ID token stays: it is the one that was verified, and the
        // hint for ending the session.
        id_token: session.id_token.clone(),
        access_token: tokens.access_token,
        subject: session.subject.clone(),
        claims: session.claims.clone(),
        withheld: session.withheld.clone(),
        expires_at,
        refresh_token: tokens
            .refresh_token
            .or_else(|| session.refresh_token.clone()),
    })
}

/// When an access token that the token endpoint gave `expires_in` seconds
/// expires, with the lifetime held between 30 s and a day.
fn access_token_expiry(expires_in: f64) -> f64 {
    now_seconds() as f64 + expires_in.clamp(30.0, 86_400.0)
}
