//! The one error type of the verifier, with stable machine-readable codes.
//!
//! Every rejection carries a code such as `ERR_JWT_EXPIRED` that is the same in
//! Rust ([`VerifyError::code`]), in JavaScript (`error.code` of the npm
//! package) and in the JSON output of the `tessera-verify` CLI. Codes follow
//! the names the `jose` npm package made familiar where one exists. Codes are
//! part of the public API: they are never renamed, only added.
//!
//! Messages are for people and may change. They never contain the token, a
//! claim's value or key material, so they are safe to log.

use std::fmt;

/// Why a token, a key set or a configuration was rejected.
///
/// Match on [`VerifyError::code`] (stable) rather than on the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token is longer than the configured size limit; nothing was decoded.
    #[error("token is {length} bytes, over the limit of {limit} bytes")]
    TokenTooLarge {
        /// The token's length in bytes.
        length: usize,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The token is not a well-formed JWS in compact serialization.
    #[error("malformed token: {reason}")]
    Malformed {
        /// What is wrong with it.
        reason: String,
    },
    /// The payload is not a JSON object, or a registered claim has the wrong type.
    #[error("invalid claims: claim `{claim}` {reason}")]
    InvalidClaimType {
        /// The claim whose type is wrong.
        claim: String,
        /// What type was expected.
        reason: &'static str,
    },
    /// A protected header parameter asks for something this verifier does not do
    /// (`crit`, `b64: false`).
    #[error("unsupported header parameter `{parameter}`: {reason}")]
    UnsupportedHeader {
        /// The header parameter.
        parameter: &'static str,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The header's `alg` is unknown, symmetric, `none`, outside the allowlist, or
    /// does not fit the chosen key.
    #[error("algorithm `{algorithm}` is not allowed: {reason}")]
    AlgorithmNotAllowed {
        /// The algorithm named by the token header.
        algorithm: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// No key in the key set fits the token.
    #[error("no key in the key set matches the token{}", kid_suffix(.kid))]
    NoMatchingKey {
        /// The token's `kid`, when it has one.
        kid: Option<String>,
    },
    /// The token has no `kid` and more than one key fits it.
    #[error("the token has no `kid` and {candidates} keys could verify it")]
    MultipleMatchingKeys {
        /// How many keys fit.
        candidates: usize,
    },
    /// The signature does not verify with the chosen key.
    #[error("signature verification failed")]
    SignatureInvalid,
    /// The token is expired (`exp`), or older than the maximum token age (`iat`).
    #[error("token expired: `{claim}` check failed")]
    Expired {
        /// `exp` or `iat`.
        claim: &'static str,
    },
    /// A claim is missing or does not have the expected value.
    #[error("claim `{claim}` check failed: {reason}")]
    ClaimInvalid {
        /// The claim that failed.
        claim: String,
        /// What was expected.
        reason: &'static str,
    },
    /// The token carries a claim that identifies a person while `reject_pii` is on.
    #[error("claim `{claim}` identifies a person and personal data is rejected")]
    PersonalDataClaim {
        /// The offending claim name.
        claim: String,
    },
    /// A JSON Web Key Set (or snapshot) could not be used.
    #[error("invalid key set: {reason}")]
    InvalidKeySet {
        /// What is wrong with it.
        reason: String,
    },
    /// Fetching keys from the issuer failed and no usable cached keys remain.
    #[error("key set unavailable: {reason}")]
    KeySetUnavailable {
        /// What went wrong.
        reason: String,
    },
    /// Fetching keys did not finish in time and no usable cached keys remain.
    #[error("key set fetch timed out")]
    KeySetTimeout,
    /// The verifier configuration is invalid.
    #[error("invalid verifier configuration: {reason}")]
    InvalidConfiguration {
        /// What is wrong with it.
        reason: String,
    },
}

fn kid_suffix(kid: &Option<String>) -> String {
    match kid {
        Some(kid) => format!(" (kid `{}`)", Printable(kid)),
        None => String::new(),
    }
}

/// Renders attacker-controlled text for messages: at most 64 characters, no
/// control characters, so a log line cannot be forged or flooded.
struct Printable<'a>(&'a str);

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars().take(64) {
            if c.is_control() {
                write!(f, "\u{fffd}")?;
            } else {
                write!(f, "{c}")?;
            }
        }
        if self.0.chars().count() > 64 {
            write!(f, "…")?;
        }
        Ok(())
    }
}

/// Shortens attacker-controlled text (a claim name, an algorithm) before it is
/// stored in an error.
pub(crate) fn printable(text: &str) -> String {
    Printable(text).to_string()
}

impl VerifyError {
    /// The stable code of this error, such as `ERR_JWT_EXPIRED`.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::TokenTooLarge { .. } => "ERR_JWT_TOO_LARGE",
            VerifyError::Malformed { .. } => "ERR_JWS_INVALID",
            VerifyError::InvalidClaimType { .. } => "ERR_JWT_INVALID",
            VerifyError::UnsupportedHeader { .. } => "ERR_JOSE_NOT_SUPPORTED",
            VerifyError::AlgorithmNotAllowed { .. } => "ERR_JOSE_ALG_NOT_ALLOWED",
            VerifyError::NoMatchingKey { .. } => "ERR_JWKS_NO_MATCHING_KEY",
            VerifyError::MultipleMatchingKeys { .. } => "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
            VerifyError::SignatureInvalid => "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
            VerifyError::Expired { .. } => "ERR_JWT_EXPIRED",
            VerifyError::ClaimInvalid { .. } => "ERR_JWT_CLAIM_VALIDATION_FAILED",
            VerifyError::PersonalDataClaim { .. } => "ERR_JWT_PERSONAL_DATA",
            VerifyError::InvalidKeySet { .. } => "ERR_JWKS_INVALID",
            VerifyError::KeySetUnavailable { .. } => "ERR_JWKS_UNAVAILABLE",
            VerifyError::KeySetTimeout => "ERR_JWKS_TIMEOUT",
            VerifyError::InvalidConfiguration { .. } => "ERR_CONFIGURATION_INVALID",
        }
    }

    /// The claim this error is about, when it is about one.
    pub fn claim(&self) -> Option<&str> {
        match self {
            VerifyError::Expired { claim } => Some(claim),
            VerifyError::ClaimInvalid { claim, .. }
            | VerifyError::InvalidClaimType { claim, .. }
            | VerifyError::PersonalDataClaim { claim } => Some(claim),
            _ => None,
        }
    }

    /// Whether the failure is the key source's rather than the token's: the
    /// issuer could not be reached in time, or served no usable key set, and
    /// no usable cached keys remain. Nothing is known about the token then;
    /// a server answers `503 Service Unavailable`, not 401, so that clients
    /// retry instead of ending the session.
    pub fn is_key_source_failure(&self) -> bool {
        matches!(
            self,
            VerifyError::KeySetUnavailable { .. }
                | VerifyError::KeySetTimeout
                | VerifyError::InvalidKeySet { .. }
        )
    }

    pub(crate) fn malformed(reason: impl Into<String>) -> Self {
        VerifyError::Malformed {
            reason: reason.into(),
        }
    }

    pub(crate) fn claim_invalid(claim: &str, reason: &'static str) -> Self {
        VerifyError::ClaimInvalid {
            claim: printable(claim),
            reason,
        }
    }

    pub(crate) fn invalid_key_set(reason: impl Into<String>) -> Self {
        VerifyError::InvalidKeySet {
            reason: reason.into(),
        }
    }
}
