//! The development issuer's keys: an ES256 signing key and the pairwise
//! secret, both kept in the database (created on first use), so tokens
//! and subjects survive a restart and every replica signs with one key.
//!
//! What it is not: a key store for production. There is one key, never
//! rotated.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::IssuerError;
use crate::store::Store;

/// The signing key, its public half, and the pairwise secret.
pub(super) struct Keys {
    pkcs8: Vec<u8>,
    key_id: String,
    public_jwk: serde_json::Value,
    verification_key: jsonwebtoken::DecodingKey,
    pairwise_secret: [u8; 32],
}

impl Keys {
    /// Loads the key and the pairwise secret from the database, creating
    /// them on first use: from the files an older release kept in
    /// `data_dir` when they are there (so its tokens and subjects stay
    /// valid), else new ones. Every replica on one database gets the same.
    pub(super) async fn load(store: &Store, data_dir: &Path) -> anyhow::Result<Keys> {
        tessera_verifier::install_ring_provider();
        let random = ring::rand::SystemRandom::new();
        let (key_file, secret_file) = (
            std::fs::read(data_dir.join("dev-issuer-es256.p8")).ok(),
            std::fs::read(data_dir.join("dev-issuer-pairwise.secret")).ok(),
        );
        let candidate = match (key_file, secret_file) {
            (Some(key), Some(secret)) => (key, secret),
            _ => {
                let key = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random)
                    .map_err(|_| anyhow::anyhow!("cannot generate the development issuer's key"))?
                    .as_ref()
                    .to_vec();
                let mut secret = vec![0u8; 32];
                ring::rand::SecureRandom::fill(&random, &mut secret)
                    .map_err(|_| anyhow::anyhow!("the system random source failed"))?;
                (key, secret)
            }
        };
        let (pkcs8, secret) = store.dev_issuer_keys(candidate).await.map_err(|error| {
            anyhow::anyhow!("cannot read the development issuer's key: {error}")
        })?;
        let key_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &random)
            .map_err(|_| anyhow::anyhow!("the development issuer's stored key is damaged"))?;
        let point = key_pair.public_key().as_ref();
        let (x, y) = (
            URL_SAFE_NO_PAD.encode(&point[1..33]),
            URL_SAFE_NO_PAD.encode(&point[33..65]),
        );
        // RFC 7638 thumbprint as the kid: stable for the same key.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let key_id = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        let verification_key = jsonwebtoken::DecodingKey::from_ec_components(&x, &y)
            .map_err(|_| anyhow::anyhow!("the development issuer's stored key is damaged"))?;
        let public_jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": key_id,
                                "use": "sig", "alg": "ES256"});
        let mut pairwise_secret = [0u8; 32];
        if secret.len() != 32 {
            anyhow::bail!("the development issuer's stored pairwise secret is damaged");
        }
        pairwise_secret.copy_from_slice(&secret);
        Ok(Keys {
            pkcs8,
            key_id,
            public_jwk,
            verification_key,
            pairwise_secret,
        })
    }

    /// The public key set.
    pub(super) fn jwks(&self) -> serde_json::Value {
        json!({ "keys": [self.public_jwk] })
    }

    /// The pairwise subject of `user_id` at `tenant`: an HMAC, so tenants
    /// cannot correlate a customer across shops.
    pub(super) fn pairwise_subject(&self, tenant: &str, user_id: &str) -> String {
        pairwise_subject(&self.pairwise_secret, tenant, user_id)
    }

    /// Signs `claims` as a JWS of type `typ` with the ES256 key.
    pub(super) fn sign(
        &self,
        typ: &str,
        claims: &serde_json::Value,
    ) -> Result<String, IssuerError> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(
            &header,
            claims,
            &jsonwebtoken::EncodingKey::from_ec_der(&self.pkcs8),
        )
        .map_err(IssuerError::Signing)
    }

    /// Reads an `id_token_hint`: an ID token this key signed for `issuer`,
    /// expired or not (RP-Initiated Logout 1.0 section 2 accepts expired
    /// hints).
    pub(super) fn read_id_token_hint(
        &self,
        issuer: &str,
        hint: &str,
    ) -> Result<HintClaims, HintRefused> {
        let header = jsonwebtoken::decode_header(hint).map_err(|_| HintRefused::Malformed)?;
        if header.typ.as_deref() != Some("JWT") {
            return Err(HintRefused::NotAnIdToken);
        }
        let mut rules = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        rules.validate_exp = false;
        rules.validate_nbf = false;
        rules.validate_aud = false;
        rules.set_issuer(&[issuer]);
        rules.set_required_spec_claims(&["iss", "sub", "aud"]);
        jsonwebtoken::decode::<HintClaims>(hint, &self.verification_key, &rules)
            .map(|data| data.claims)
            .map_err(|_| HintRefused::NotOurs)
    }
}

/// What `end_session` reads from an `id_token_hint`.
#[derive(Debug, Deserialize)]
pub(super) struct HintClaims {
    /// The client the ID token was issued to.
    pub(super) aud: String,
    /// The session, absent from tokens issued without one.
    pub(super) sid: Option<String>,
}

/// Why an `id_token_hint` is refused.
#[derive(Debug, thiserror::Error)]
pub(super) enum HintRefused {
    #[error("id_token_hint is not a token")]
    Malformed,
    #[error("id_token_hint is not an ID token")]
    NotAnIdToken,
    #[error("id_token_hint is not an ID token this issuer signed")]
    NotOurs,
}

/// A pairwise subject: base64url (no padding) of the first 20 bytes of
/// HMAC-SHA256 under `secret` of `<sector>` NUL `<user id>`. The
/// development issuer's (its sector is the tenant's slug), and the mapping
/// an event source applies to an IdP that computes its pairwise subjects
/// the same way.
pub fn pairwise_subject(secret: &[u8], sector: &str, user_id: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let tag = ring::hmac::sign(&key, format!("{sector}\0{user_id}").as_bytes());
    URL_SAFE_NO_PAD.encode(&tag.as_ref()[..20])
}
