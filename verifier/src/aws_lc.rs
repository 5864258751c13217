//! Signature arithmetic through aws-lc-rs, behind the `aws-lc` feature
//! (native only: aws-lc does not build for wasm32).
//!
//! ring rebuilds an RSA key's Montgomery context on every check and has no
//! way to keep a parsed public key, which holds RS256 at about three quarters
//! of OpenSSL's rate. aws-lc-rs keeps a [`ParsedPublicKey`], so each key is
//! parsed once per algorithm, on first use, and reused by every later check.
//! The rules do not change: the caller ([`crate::VerificationKey`]) has
//! already checked that the algorithm fits the key and that the signature
//! has exactly the key's length.

use std::sync::OnceLock;

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;

use crate::error::VerifyError;
use crate::keys::SUPPORTED_ALGORITHMS;

/// One key's parsed forms, one slot per supported algorithm, filled on first
/// use. A slot holding `None` records that aws-lc refused the key for that
/// algorithm, so it is not parsed again.
#[derive(Default)]
pub(crate) struct ParsedKeys([OnceLock<Option<ParsedPublicKey>>; SUPPORTED_ALGORITHMS.len()]);

impl std::fmt::Debug for ParsedKeys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parsed = self.0.iter().filter(|slot| slot.get().is_some()).count();
        write!(formatter, "ParsedKeys({parsed} parsed)")
    }
}

impl ParsedKeys {
    /// Verifies `signature` over `message` with the key whose public JWK
    /// members are `public_jwk`.
    pub(crate) fn verify(
        &self,
        public_jwk: &[(&'static str, String)],
        algorithm: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        let slot = SUPPORTED_ALGORITHMS
            .iter()
            .position(|supported| *supported == algorithm)
            .ok_or(VerifyError::SignatureInvalid)?;
        self.0[slot]
            .get_or_init(|| parse(public_jwk, algorithm))
            .as_ref()
            .ok_or(VerifyError::SignatureInvalid)?
            .verify_sig(message, signature)
            .map_err(|_| VerifyError::SignatureInvalid)
    }
}

fn member(public_jwk: &[(&'static str, String)], name: &str) -> Option<Vec<u8>> {
    let (_, value) = public_jwk.iter().find(|(member, _)| *member == name)?;
    URL_SAFE_NO_PAD.decode(value).ok()
}

/// Parses the key for `algorithm`; `None` when aws-lc refuses it.
fn parse(public_jwk: &[(&'static str, String)], algorithm: Algorithm) -> Option<ParsedPublicKey> {
    let rsa = |parameters: &'static signature::RsaParameters| {
        let components = RsaPublicKeyComponents {
            n: member(public_jwk, "n")?,
            e: member(public_jwk, "e")?,
        };
        components.to_parsed_public_key(parameters).ok()
    };
    let elliptic = |parameters: &'static signature::EcdsaVerificationAlgorithm| {
        // The uncompressed point: 0x04 || x || y.
        let mut point = vec![0x04];
        point.extend(member(public_jwk, "x")?);
        point.extend(member(public_jwk, "y")?);
        ParsedPublicKey::new(parameters, point).ok()
    };
    match algorithm {
        Algorithm::RS256 => rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
        Algorithm::RS384 => rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
        Algorithm::RS512 => rsa(&signature::RSA_PKCS1_2048_8192_SHA512),
        Algorithm::PS256 => rsa(&signature::RSA_PSS_2048_8192_SHA256),
        Algorithm::PS384 => rsa(&signature::RSA_PSS_2048_8192_SHA384),
        Algorithm::PS512 => rsa(&signature::RSA_PSS_2048_8192_SHA512),
        Algorithm::ES256 => elliptic(&signature::ECDSA_P256_SHA256_FIXED),
        Algorithm::ES384 => elliptic(&signature::ECDSA_P384_SHA384_FIXED),
        Algorithm::EdDSA => {
            ParsedPublicKey::new(&signature::ED25519, member(public_jwk, "x")?).ok()
        }
        _ => None,
    }
}
