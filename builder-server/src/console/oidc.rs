//! Admins' sign-in at an OpenID provider named in the settings: the
//! Authorization Code flow with PKCE, run by the server (the `openidconnect`
//! crate), with the admin's console roles read from a claim of the ID token.
//!
//! The flow in flight is kept in the store under the SHA-256 of its `state`,
//! with the PKCE verifier, the nonce, and the SHA-256 of a cookie only the
//! starting browser holds (`SameSite=Lax`, so it rides the IdP's redirect
//! back): a callback from another browser, a replayed callback, or one
//! after ten minutes is refused. The ID token is checked by `openidconnect`
//! (signature by the IdP's keys, issuer, audience, expiry, nonce).
//!
//! What it is not: customers' sign-in (that is the widget's, in the browser)
//! or a general OAuth client; it asks for `openid profile` and nothing else.

use std::time::Duration;

use base64::Engine as _;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse as _,
};
use serde_json::Value;

use super::session::hash;
use crate::AppState;
use crate::store::{ConsoleFlow, now};

/// How long a sign-in may take at the IdP.
pub const FLOW_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// The cookie that binds a sign-in in flight to its browser.
pub const FLOW_COOKIE: &str = "tessera_console_flow";

/// The admins' IdP, from the settings (`[console]` in `tessera serve`'s
/// file; the development issuer in `tessera dev`).
#[derive(Debug, Clone)]
pub struct ConsoleIdp {
    /// The issuer URL.
    pub issuer: String,
    /// The console's client id there.
    pub client_id: String,
    /// The client secret, for a confidential client; `None` for a public
    /// client (PKCE protects both).
    pub client_secret: Option<String>,
    /// The ID-token claim holding the admin's console roles: `owner`,
    /// `editor:<tenant>`, `viewer:<tenant>`, as an array or space-separated.
    pub roles_claim: String,
}

/// Why a console sign-in at the IdP failed: said to the admin, without
/// secrets.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The IdP could not be used (discovery, exchange): the reason.
    #[error("the identity provider could not be used: {0}")]
    Idp(String),
    /// The IdP answered with an error (the admin cancelled, or was refused).
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    /// The callback belongs to no sign-in of this browser.
    #[error("this sign-in is unknown, expired, already used, or was started in another browser")]
    UnknownFlow,
    /// The ID token did not verify.
    #[error("the identity provider's ID token did not verify: {0}")]
    InvalidToken(String),
    /// The admin has no console role.
    #[error("your account has no console role (claim `{0}`): ask an owner to grant you one")]
    NoRole(String),
    /// The store failed.
    #[error("the sign-in could not be recorded")]
    Store(#[from] crate::store::StoreError),
}

/// An HTTP client for the IdP that follows no redirect (the `openidconnect`
/// crate's advice against SSRF) and gives up after ten seconds.
fn http_client() -> Result<reqwest::Client, SignInError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|error| SignInError::Idp(error.to_string()))
}

fn redirect_uri(state: &AppState) -> String {
    format!("{}/console/oidc/callback", state.public_url())
}

/// The console's client at `idp`, from the IdP's discovery document
/// (fetched each time: admins sign in rarely, and the IdP may move).
async fn client(
    state: &AppState,
    idp: &ConsoleIdp,
    http: &reqwest::Client,
) -> Result<
    CoreClient<
        EndpointSet,
        EndpointNotSet,
        EndpointNotSet,
        EndpointNotSet,
        EndpointMaybeSet,
        EndpointMaybeSet,
    >,
    SignInError,
> {
    let idp_error = |error: &dyn std::fmt::Display| SignInError::Idp(error.to_string());
    let issuer = IssuerUrl::new(idp.issuer.clone()).map_err(|error| idp_error(&error))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|error| idp_error(&error))?;
    let redirect = RedirectUrl::new(redirect_uri(state)).map_err(|error| idp_error(&error))?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(idp.client_id.clone()),
        idp.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(redirect))
}

/// Where to send the admin to sign in, and the value of the cookie that
/// binds the flow to this browser. The flow is kept in the store.
pub async fn start(state: &AppState, idp: &ConsoleIdp) -> Result<(String, String), SignInError> {
    let http = http_client()?;
    let client = client(state, idp, &http).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let browser = CsrfToken::new_random().secret().clone();
    let lifetime = i64::try_from(FLOW_LIFETIME.as_secs()).unwrap_or(600);
    state
        .store()
        .start_console_flow(&ConsoleFlow {
            state_hash: hash(csrf.secret()),
            browser_hash: hash(&browser),
            verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
            expires_at: now().saturating_add(lifetime),
        })
        .await?;
    Ok((url.to_string(), browser))
}

/// Who signed in: the IdP's subject, a name for the page and the audit
/// log, and the console roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The subject at the IdP.
    pub subject: String,
    /// `name`, else `preferred_username`, else the subject.
    pub display_name: String,
    /// The roles, space-separated.
    pub roles: String,
}

/// Finishes a sign-in from the IdP's callback.
pub async fn finish(
    state: &AppState,
    idp: &ConsoleIdp,
    code: &str,
    flow_state: &str,
    browser: Option<&str>,
) -> Result<SignedIn, SignInError> {
    let flow = state
        .store()
        .take_console_flow(&hash(flow_state))
        .await?
        .ok_or(SignInError::UnknownFlow)?;
    if browser.map(hash) != Some(flow.browser_hash.clone()) {
        return Err(SignInError::UnknownFlow);
    }
    let http = http_client()?;
    let client = client(state, idp, &http).await?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|error| SignInError::Idp(error.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier))
        .request_async(&http)
        .await
        .map_err(|error| SignInError::Idp(error.to_string()))?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| SignInError::InvalidToken("the token response has no ID token".into()))?;
    let verifier = client.id_token_verifier().set_allowed_algs(vec![
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::RsaSsaPssSha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        CoreJwsSigningAlgorithm::EdDsa,
    ]);
    let claims = id_token
        .claims(&verifier, &Nonce::new(flow.nonce))
        .map_err(|error| SignInError::InvalidToken(error.to_string()))?;
    let subject = claims.subject().to_string();
    // The signature, issuer, audience, expiry and nonce are checked: the
    // payload's other members can be read as they are.
    let payload = id_token
        .to_string()
        .split('.')
        .nth(1)
        .and_then(|segment| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(segment)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .unwrap_or(Value::Null);
    let roles = roles_from_claim(payload.get(&idp.roles_claim));
    if roles.is_empty() {
        return Err(SignInError::NoRole(idp.roles_claim.clone()));
    }
    let display_name = ["name", "preferred_username"]
        .iter()
        .find_map(|claim| payload.get(*claim).and_then(Value::as_str))
        .map(|name| name.chars().filter(|c| !c.is_control()).take(100).collect())
        .unwrap_or_else(|| subject.clone());
    Ok(SignedIn {
        subject,
        display_name,
        roles,
    })
}

/// The console roles in a claim's value (an array of strings, or one
/// space-separated string): `owner`, `editor:<tenant>`, `viewer:<tenant>`;
/// anything else is ignored. Space-separated, deduplicated.
pub fn roles_from_claim(value: Option<&Value>) -> String {
    let words: Vec<&str> = match value {
        Some(Value::String(text)) => text.split_whitespace().collect(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut roles: Vec<&str> = words
        .into_iter()
        .filter(|role| match role.split_once(':') {
            None => *role == "owner",
            Some(("editor" | "viewer", slug)) => crate::model::validate_slug(slug).is_ok(),
            Some(_) => false,
        })
        .collect();
    roles.sort_unstable();
    roles.dedup();
    roles.join(" ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::roles_from_claim;

    #[test]
    fn roles_are_read_strictly_from_an_array_or_a_string() {
        assert_eq!(roles_from_claim(Some(&json!(["owner"]))), "owner");
        assert_eq!(
            roles_from_claim(Some(&json!("viewer:globex editor:acme viewer:globex"))),
            "editor:acme viewer:globex"
        );
        // Unknown roles, bad slugs and other types are not roles.
        assert_eq!(
            roles_from_claim(Some(&json!([
                "admin",
                "editor:../x",
                "editor:",
                "owner:acme",
                7
            ]))),
            ""
        );
        assert_eq!(roles_from_claim(Some(&json!({"owner": true}))), "");
        assert_eq!(roles_from_claim(None), "");
    }
}
