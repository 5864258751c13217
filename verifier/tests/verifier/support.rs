//! Keys, key sets and a raw signer for building test tokens, including tokens
//! that no well-behaved library would produce (duplicate members, `crit`...).

use std::path::PathBuf;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair as _};
use serde_json::{Value, json};
use tessera_verifier::{Clock, KeySet, Verifier, VerifierBuilder};

pub const ISSUER: &str = "https://id.example";
pub const AUDIENCE: &str = "shop-api";
/// The fixed "now" of every rule test.
pub const NOW: i64 = 1_800_000_000;

pub fn testvectors() -> PathBuf {
    let dir = std::env::var_os("TESSERA_TESTVECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testvectors")
        });
    assert!(
        dir.is_dir(),
        "test vectors not found at {} (set TESSERA_TESTVECTORS)",
        dir.display()
    );
    dir
}

pub fn read_json(relative: &str) -> Value {
    let path = testvectors().join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text).unwrap()
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub enum SigningKey {
    Rsa(signature::RsaKeyPair),
    Ecdsa(signature::EcdsaKeyPair, &'static str),
    Ed25519(signature::Ed25519KeyPair),
}

impl SigningKey {
    pub fn sign(&self, alg: &str, message: &[u8]) -> Vec<u8> {
        let random = SystemRandom::new();
        match self {
            SigningKey::Rsa(key) => {
                let encoding: &'static dyn signature::RsaEncoding = match alg {
                    "RS256" => &signature::RSA_PKCS1_SHA256,
                    "RS384" => &signature::RSA_PKCS1_SHA384,
                    "RS512" => &signature::RSA_PKCS1_SHA512,
                    "PS256" => &signature::RSA_PSS_SHA256,
                    "PS384" => &signature::RSA_PSS_SHA384,
                    "PS512" => &signature::RSA_PSS_SHA512,
                    other => panic!("not an RSA algorithm: {other}"),
                };
                let mut out = vec![0; key.public().modulus_len()];
                key.sign(encoding, &random, message, &mut out).unwrap();
                out
            }
            SigningKey::Ecdsa(key, _) => key.sign(&random, message).unwrap().as_ref().to_vec(),
            SigningKey::Ed25519(key) => key.sign(message).as_ref().to_vec(),
        }
    }

    pub fn public_jwk(&self, kid: &str) -> Value {
        match self {
            SigningKey::Rsa(key) => {
                let public: signature::RsaPublicKeyComponents<Vec<u8>> = key.public().into();
                json!({"kty": "RSA", "kid": kid, "n": b64(public.n), "e": b64(public.e)})
            }
            SigningKey::Ecdsa(key, curve) => {
                let point = key.public_key().as_ref();
                let half = (point.len() - 1) / 2;
                json!({"kty": "EC", "crv": curve, "kid": kid,
                       "x": b64(&point[1..1 + half]), "y": b64(&point[1 + half..])})
            }
            SigningKey::Ed25519(key) => {
                json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(key.public_key())})
            }
        }
    }
}

fn ecdsa(algorithm: &'static signature::EcdsaSigningAlgorithm, curve: &'static str) -> SigningKey {
    let random = SystemRandom::new();
    let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(algorithm, &random).unwrap();
    SigningKey::Ecdsa(
        signature::EcdsaKeyPair::from_pkcs8(algorithm, pkcs8.as_ref(), &random).unwrap(),
        curve,
    )
}

/// The RFC 7520 cookbook's 2048-bit RSA key, since ring cannot generate RSA keys.
pub fn cookbook_rsa() -> SigningKey {
    let jwk = read_json("jose-cookbook/jwk/3_4.rsa_private_key.json");
    let part = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
    let components = ring::rsa::KeyPairComponents {
        public_key: ring::rsa::PublicKeyComponents {
            n: part("n"),
            e: part("e"),
        },
        d: part("d"),
        p: part("p"),
        q: part("q"),
        dP: part("dp"),
        dQ: part("dq"),
        qInv: part("qi"),
    };
    SigningKey::Rsa(signature::RsaKeyPair::from_components(&components).unwrap())
}

pub struct Keys {
    pub rsa: SigningKey,
    pub p256: SigningKey,
    pub p384: SigningKey,
    pub ed25519: SigningKey,
}

/// One key per kind, made once per test run.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let random = SystemRandom::new();
        let ed = signature::Ed25519KeyPair::generate_pkcs8(&random).unwrap();
        Keys {
            rsa: cookbook_rsa(),
            p256: ecdsa(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256"),
            p384: ecdsa(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384"),
            ed25519: SigningKey::Ed25519(
                signature::Ed25519KeyPair::from_pkcs8(ed.as_ref()).unwrap(),
            ),
        }
    })
}

impl Keys {
    /// The signing key and kid for an algorithm.
    pub fn for_algorithm(&self, alg: &str) -> (&SigningKey, &'static str) {
        match alg {
            "ES256" => (&self.p256, "p256"),
            "ES384" => (&self.p384, "p384"),
            "EdDSA" => (&self.ed25519, "ed25519"),
            _ => (&self.rsa, "rsa"),
        }
    }

    pub fn jwks(&self) -> Value {
        json!({"keys": [
            self.rsa.public_jwk("rsa"),
            self.p256.public_jwk("p256"),
            self.p384.public_jwk("p384"),
            self.ed25519.public_jwk("ed25519"),
        ]})
    }

    pub fn key_set(&self) -> KeySet {
        KeySet::from_value(self.jwks()).unwrap()
    }
}

/// Signs raw header and payload JSON text, exactly as given.
pub fn sign_raw(key: &SigningKey, alg: &str, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let signature = key.sign(alg, input.as_bytes());
    format!("{input}.{}", b64(signature))
}

/// A token with `alg`, the matching `kid`, and the given claims.
pub fn token(alg: &str, claims: &Value) -> String {
    let (key, kid) = keys().for_algorithm(alg);
    let header = json!({"alg": alg, "kid": kid, "typ": "JWT"});
    sign_raw(key, alg, &header.to_string(), &claims.to_string())
}

/// Claims that pass the default rules at [`NOW`].
pub fn good_claims() -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "pairwise-7f3a", "exp": NOW + 300,
           "iat": NOW - 10, "nbf": NOW - 10, "roles": ["customer"]})
}

/// The builder every rule test starts from: strict defaults at a fixed time.
pub fn builder() -> VerifierBuilder {
    Verifier::builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(Clock::Fixed(NOW))
        .key_set(keys().key_set())
}
