//! The widget's ID-token check, built as a second WebAssembly module.
//!
//! A visitor who never signs in never needs `tessera-verifier`, its key
//! parsing or its strict JSON reader, so they are not in the widget's first
//! module: the loader fetches this one (pinned by its own integrity value)
//! only when a sign-in comes back with a code. It does one thing, [`check`]:
//! verify the ID token the token endpoint sent against the IdP's key set,
//! issuer, client id and this sign-in's nonce, and hand back the subject,
//! the expiry and the claims with every personal-data claim removed.
//!
//! It is not a general verifier (the npm package `@tessera/verifier` is) and
//! does no I/O: the widget fetches the key set and passes its text in.
//!
//! The interface is one JSON text in, one JSON text out ([`check_id_token`]),
//! so that the first module needs no bindings for this one's types.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tessera_verifier::webcrypto::WebCrypto;
use tessera_verifier::{Clock, KeySet, PERSONAL_DATA_CLAIMS, Verifier, VerifyError};
use wasm_bindgen::prelude::wasm_bindgen;

/// What the widget asks: the ID token, the IdP's key set (the JWKS document),
/// and what the token must name.
#[derive(Debug, Deserialize)]
pub struct Request {
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
}

/// Why the check failed: `kind` is one the widget maps to its own failures
/// (`clock_skew`, `invalid_token`, `configuration`); `message` is for
/// developers and carries the verifier's stable code.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Refusal {
    /// `clock_skew`, `invalid_token` or `configuration`.
    pub kind: &'static str,
    /// A readable explanation, never token contents.
    pub message: String,
}

impl Refusal {
    fn invalid(message: String) -> Refusal {
        Refusal {
            kind: "invalid_token",
            message,
        }
    }
}

fn now_seconds() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Verifies `request.id_token`: the signature through the key set (WebCrypto),
/// `iss`, `aud` = client id, `exp`/`nbf`/`iat` against this device's clock,
/// a `sub`, and the nonce of this sign-in.
pub async fn check(request: Request) -> Result<Checked, Refusal> {
    let key_set =
        KeySet::from_json(&request.jwks).map_err(|error| Refusal::invalid(error.to_string()))?;
    let configuration = |message: String| Refusal {
        kind: "configuration",
        message,
    };
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
            VerifyError::Expired { .. } => Refusal {
                kind: "clock_skew",
                message: error.to_string(),
            },
            VerifyError::ClaimInvalid { ref claim, .. } if claim == "nbf" || claim == "iat" => {
                Refusal {
                    kind: "clock_skew",
                    message: error.to_string(),
                }
            }
            other => Refusal::invalid(format!("{}: {other}", other.code())),
        })?;
    if passport.claim("nonce").and_then(Value::as_str) != Some(request.nonce.as_str()) {
        return Err(Refusal::invalid(
            "the ID token's nonce is not this sign-in's".into(),
        ));
    }
    let mut claims = passport.claims().clone();
    for personal in PERSONAL_DATA_CLAIMS {
        claims.remove(personal);
    }
    claims.remove("nonce");
    Ok(Checked {
        subject: passport.subject().unwrap_or_default().to_owned(),
        expires_at: passport.expires_at(),
        claims,
    })
}

/// The module's one export: a [`Request`] as JSON in; `{"checked": Checked}`
/// or `{"refused": Refusal}` as JSON out. It never throws: a request that is
/// not JSON of the right shape is refused as `configuration`.
#[wasm_bindgen(js_name = checkIdToken)]
pub async fn check_id_token(request: String) -> String {
    let answer = match serde_json::from_str::<Request>(&request) {
        Ok(request) => match check(request).await {
            Ok(checked) => serde_json::json!({ "checked": checked }),
            Err(refusal) => serde_json::json!({ "refused": refusal }),
        },
        Err(error) => serde_json::json!({ "refused": Refusal {
            kind: "configuration",
            message: format!("the ID-token check was asked wrongly: {error}"),
        }}),
    };
    answer.to_string()
}
