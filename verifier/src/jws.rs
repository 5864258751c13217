//! The JWS layer: a compact token, a key set and an algorithm allowlist in; a
//! verified header and payload out. It knows nothing of claims, which are the
//! JWT layer's business ([`crate::Verifier`]).

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};
use std::sync::OnceLock;

use crate::compact::{DEFAULT_MAX_TOKEN_BYTES, UntrustedToken, object_once};
use crate::error::VerifyError;
use crate::keys::{KeySet, SUPPORTED_ALGORITHMS, parse_algorithm};

/// The rules of the JWS layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwsRules {
    /// The algorithms accepted (default: every supported asymmetric one).
    pub algorithms: Vec<Algorithm>,
    /// The largest token accepted, in bytes, checked before any decoding.
    pub max_token_bytes: usize,
}

impl Default for JwsRules {
    fn default() -> Self {
        JwsRules {
            algorithms: SUPPORTED_ALGORITHMS.to_vec(),
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        }
    }
}

/// A JWS whose signature verified. Its payload is arbitrary bytes.
#[derive(Debug, Clone)]
pub struct VerifiedJws {
    header_json: Vec<u8>,
    header_map: OnceLock<Map<String, Value>>,
    media_type: Option<String>,
    payload: Vec<u8>,
    algorithm: Algorithm,
}

impl PartialEq for VerifiedJws {
    fn eq(&self, other: &Self) -> bool {
        self.header() == other.header()
            && self.payload == other.payload
            && self.algorithm == other.algorithm
    }
}

impl VerifiedJws {
    /// The protected header.
    pub fn header(&self) -> &Map<String, Value> {
        object_once(&self.header_map, &self.header_json)
    }
    /// The header's `typ`, when it has one.
    pub fn media_type(&self) -> Option<&str> {
        self.media_type.as_deref()
    }
    /// The verified payload.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
    /// The algorithm that verified it.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
    /// The header's JSON text as signed, the payload and the algorithm.
    pub(crate) fn into_parts(self) -> (Vec<u8>, Vec<u8>, Algorithm) {
        (self.header_json, self.payload, self.algorithm)
    }
}

/// A parsed token whose key has been chosen; only the signature is left to check.
pub(crate) struct SelectedKey<'t> {
    pub token: UntrustedToken<'t>,
    pub algorithm: Algorithm,
    pub key_index: usize,
}

impl SelectedKey<'_> {
    /// Only once the signature verified (with ring's arithmetic).
    #[cfg(feature = "ring")]
    pub(crate) fn into_verified(self) -> VerifiedJws {
        self.into_unverified().into_verified()
    }

    /// What is kept of the token while a host checks its signature.
    pub(crate) fn into_unverified(self) -> UnverifiedJws {
        UnverifiedJws {
            header_json: self.token.header_json,
            media_type: self.token.media_type,
            payload: self.token.payload,
            algorithm: self.algorithm,
        }
    }
}

/// A parsed JWS whose signature a host engine is still checking.
pub(crate) struct UnverifiedJws {
    header_json: Vec<u8>,
    media_type: Option<String>,
    payload: Vec<u8>,
    algorithm: Algorithm,
}

impl UnverifiedJws {
    /// Only once the signature verified.
    pub(crate) fn into_verified(self) -> VerifiedJws {
        VerifiedJws {
            header_json: self.header_json,
            header_map: OnceLock::new(),
            media_type: self.media_type,
            payload: self.payload,
            algorithm: self.algorithm,
        }
    }
}

/// Parses `token`, checks its algorithm against the rules and chooses its key.
pub(crate) fn select_key<'t>(
    token: &'t str,
    key_set: &KeySet,
    rules: &JwsRules,
) -> Result<SelectedKey<'t>, VerifyError> {
    let untrusted = UntrustedToken::parse(token, rules.max_token_bytes)?;
    let algorithm = parse_algorithm(untrusted.algorithm())?;
    if !rules.algorithms.contains(&algorithm) {
        return Err(VerifyError::AlgorithmNotAllowed {
            algorithm: untrusted.algorithm().to_owned(),
            reason: "the algorithm is not in the verifier's allowlist",
        });
    }
    let (key_index, _) = key_set.select(untrusted.key_id(), algorithm)?;
    Ok(SelectedKey {
        token: untrusted,
        algorithm,
        key_index,
    })
}

impl KeySet {
    /// Verifies a compact JWS (any payload) with this key set, using ring.
    #[cfg(feature = "ring")]
    pub fn verify_jws(&self, token: &str, rules: &JwsRules) -> Result<VerifiedJws, VerifyError> {
        let selected = select_key(token, self, rules)?;
        self.keys()[selected.key_index].verify_signature(
            selected.algorithm,
            selected.token.signing_input(),
            selected.token.signature(),
        )?;
        Ok(selected.into_verified())
    }
}
