//! The authorization endpoint, `/dev/oidc/authorize`: `GET` checks the
//! request and shows the consent page, `POST` takes the user's decision and
//! sends the code (or the refusal) back to the client.
//!
//! Until the client and its redirect URI are checked, a refusal is shown to
//! the user; after, it goes back to the client (RFC 6749 4.1.2.1). Consent
//! decisions are rate limited per address, since each stores a code.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::{DevIssuer, IssuerError, pages, random_token, redirect_with, unix_now};
use crate::AppState;
use crate::extract::{Form, Query};
use crate::store::PendingCode;
use crate::store::TenantRecord;

/// A demo user of the development issuer: the personal data stays here.
#[derive(Debug, Clone)]
pub(super) struct DemoUser {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    pub(super) email: &'static str,
}

pub(super) const DEMO_USERS: [DemoUser; 3] = [
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

/// The parameters of an authorization request.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct AuthorizeRequest {
    pub(super) response_type: Option<String>,
    pub(super) client_id: Option<String>,
    pub(super) redirect_uri: Option<String>,
    pub(super) scope: Option<String>,
    pub(super) state: Option<String>,
    pub(super) nonce: Option<String>,
    pub(super) code_challenge: Option<String>,
    pub(super) code_challenge_method: Option<String>,
    pub(super) ui_locales: Option<String>,
}

/// An authorization request that passed every check.
struct ValidAuthorize {
    tenant: Arc<TenantRecord>,
    redirect_uri: String,
    scope: String,
    code_challenge: String,
}

async fn validate_authorize(
    state: &AppState,
    issuer: &DevIssuer,
    request: &AuthorizeRequest,
) -> Result<ValidAuthorize, IssuerError> {
    let shown = |message: &str| IssuerError::ShownToUser(message.to_owned());
    let client_id = request
        .client_id
        .as_deref()
        .ok_or_else(|| shown("client_id is missing"))?;
    let tenant = issuer
        .client(state, client_id)
        .await
        .map_err(|_| shown("client_id is not a known tenant"))?;
    let redirect_uri = request
        .redirect_uri
        .as_deref()
        .ok_or_else(|| shown("redirect_uri is missing"))?;
    if !tenant
        .config
        .value
        .redirect_uris
        .iter()
        .any(|uri| uri == redirect_uri)
    {
        return Err(shown(
            "redirect_uri is not registered for this client (exact match required)",
        ));
    }
    // From here on errors go back to the client, as RFC 6749 4.1.2.1 says.
    let back = |error: &'static str, description: &'static str| IssuerError::BackToClient {
        redirect_uri: redirect_uri.to_owned(),
        error,
        description,
        state: request.state.clone(),
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

pub(super) async fn authorize_page(
    State(state): State<AppState>,
    State(issuer): State<DevIssuer>,
    Query(request): Query<AuthorizeRequest>,
) -> Result<Response, IssuerError> {
    let valid = validate_authorize(&state, &issuer, &request).await?;
    let style_nonce = random_token()?;
    let body = pages::consent(
        &request,
        &valid.tenant.config.value.display_name,
        &style_nonce,
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
    Ok(response)
}

/// The consent form's fields: the original request plus the choice.
#[derive(Debug, Deserialize)]
pub(super) struct Decision {
    decision: String,
    user: Option<String>,
    typed_name: Option<String>,
    #[serde(flatten)]
    request: AuthorizeRequest,
}

pub(super) async fn authorize_decision(
    State(state): State<AppState>,
    State(issuer): State<DevIssuer>,
    connection: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<Decision>,
) -> Result<Response, IssuerError> {
    // Unauthenticated and each allowed one stores a code: limited per address.
    if !issuer
        .allow(&state, "consent", connection.map(|c| c.0.0.ip()))
        .await?
    {
        state.metrics().record_rate_limited();
        return Err(IssuerError::SlowDown(
            "too many sign-in decisions from this address",
        ));
    }
    // The hidden fields came back from the browser: check them all again.
    let valid = validate_authorize(&state, &issuer, &form.request).await?;
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
                    return Err(IssuerError::ShownToUser(
                        "type a demo user name of 1 to 40 characters".into(),
                    ));
                }
                format!("typed:{}", name.to_lowercase())
            }
            Some(id) if DEMO_USERS.iter().any(|user| user.id == id) => id.to_owned(),
            _ => return Err(IssuerError::ShownToUser("choose a demo user".into())),
        };
        let code = random_token()?;
        let pending = PendingCode {
            tenant: valid.tenant.slug.clone(),
            user_id,
            redirect_uri: valid.redirect_uri.clone(),
            code_challenge: valid.code_challenge.clone(),
            nonce: form.request.nonce.clone(),
            scope: valid.scope.clone(),
            auth_time: unix_now(),
            issued_at: unix_now(),
        };
        state.store().dev_add_code(&code, pending).await??;
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
    Ok(response)
}
