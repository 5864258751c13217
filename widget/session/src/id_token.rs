//! The ID-token check: `tessera-verifier` through WebCrypto, then the
//! personal-data claims removed. It does no I/O: the key set arrives as
//! text.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tessera_verifier::webcrypto::WebCrypto;
use tessera_verifier::{Clock, KeySet, PERSONAL_DATA_CLAIMS, Verifier, VerifyError};

use crate::Refusal;

/// An ID token and what it must name.
#[derive(Debug, Deserialize)]
pub struct IdTokenRequest {
    /// The compact ID token from the token endpoint.
    pub id_token: String,
    /// The IdP's JWKS document as fetched from its `jwks_uri`, unparsed:
    /// the verifier's strict reader parses it (duplicate members refused).
    pub jwks: String,
    /// The issuer the discovery document names.
    pub issuer: String,
    /// The tenant's client id: the token's audience.
    pub client_id: String,
    /// The nonce this sign-in sent.
    pub nonce: String,
}

/// A verified ID token, reduced to what the page may see.
#[derive(Debug, Serialize)]
pub struct Checked {
    /// The pseudonymous subject.
    pub subject: String,
    /// `exp`, in seconds since the epoch.
    pub expires_at: f64,
    /// The token's claims without personal data and without the nonce.
    pub claims: Map<String, Value>,
    /// The names of the personal-data claims that were removed.
    pub withheld: Vec<String>,
}

pub(crate) fn now_seconds() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Verifies `request.id_token`: the signature through the key set (WebCrypto),
/// `iss`, `aud` = client id, `exp`/`nbf`/`iat` against this device's clock,
/// a `sub`, and the nonce of this sign-in. An expired or not-yet-valid token
/// is refused as `clock_skew`: a token fresh from the token endpoint that
/// fails its time checks says the device's clock is off.
pub async fn check(request: IdTokenRequest) -> Result<Checked, Refusal> {
    let invalid = |message: String| Refusal::new("invalid_token", message);
    let key_set = KeySet::from_json(&request.jwks).map_err(|error| invalid(error.to_string()))?;
    let configuration = |message: String| Refusal::new("configuration", message);
    let verifier = Verifier::builder()
        .issuer(&request.issuer)
        .audience(&request.client_id)
        .required_claim("nonce")
        .required_claim("sub")
        .clock(Clock::Function(now_seconds))
        .key_set(key_set)
        .build()
        .map_err(|error| configuration(error.to_string()))?;
    let engine = WebCrypto::new().map_err(|error| configuration(error.to_string()))?;
    let passport = verifier
        .verify_with_engine(&request.id_token, &engine)
        .await
        .map_err(|error| match error {
            VerifyError::Expired { .. } => Refusal::new("clock_skew", error.to_string()),
            VerifyError::ClaimInvalid { ref claim, .. } if claim == "nbf" || claim == "iat" => {
                Refusal::new("clock_skew", error.to_string())
            }
            other => invalid(format!("{}: {other}", other.code())),
        })?;
    if passport.claim("nonce").and_then(Value::as_str) != Some(request.nonce.as_str()) {
        return Err(invalid("the ID token's nonce is not this sign-in's".into()));
    }
    let mut claims = passport.claims().clone();
    let mut withheld = Vec::new();
    for personal in PERSONAL_DATA_CLAIMS {
        if claims.remove(personal).is_some() {
            withheld.push(personal.to_owned());
        }
    }
    claims.remove("nonce");
    Ok(Checked {
        subject: passport.subject().unwrap_or_default().to_owned(),
        expires_at: passport.expires_at(),
        claims,
        withheld,
    })
}
