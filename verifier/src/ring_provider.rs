//! A [`jsonwebtoken::crypto::CryptoProvider`] backed by `ring`.
//!
//! jsonwebtoken 11 ships providers for aws-lc-rs (which does not build for
//! wasm32) and RustCrypto (whose `rsa` crate carries RUSTSEC-2023-0071). This
//! one uses `ring` for RSA PKCS#1 v1.5, RSA-PSS, ECDSA P-256/P-384 with fixed
//! (r||s) signatures and Ed25519. It deliberately implements no HMAC: this
//! crate never verifies symmetric signatures, so the provider cannot either.
//!
//! The verifier calls [`RING_PROVIDER`] directly and never installs it as the
//! process default, so a library user keeps control of that global. Apps that
//! also sign with jsonwebtoken (the development issuer does) may call
//! [`install_ring_provider`].

use jsonwebtoken::DecodingKeyKind;
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::signature;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, KeyPair as _};

/// The ring-backed provider.
pub static RING_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: rsa_components_from_private_key,
        rsa_pub_components_from_public_key: |_| {
            Err(ErrorKind::Provider("RSA public keys in DER form are not supported".into()).into())
        },
        ec_pub_components_from_private_key: ec_components_from_private_key,
        ed_pub_components_from_private_key: ed_components_from_private_key,
        compute_digest,
    },
};

/// Installs [`RING_PROVIDER`] as jsonwebtoken's process-wide default, so that
/// `jsonwebtoken::encode` and `decode` use ring. Does nothing when a provider
/// is already installed.
pub fn install_ring_provider() {
    // An error only means another provider was installed first, which is the
    // caller's deliberate choice.
    let _ = RING_PROVIDER.install_default();
}

fn unsupported() -> Error {
    ErrorKind::Provider("this algorithm is not supported by the ring provider".into()).into()
}

enum RingVerifier {
    Rsa {
        algorithm: Algorithm,
        parameters: &'static sig::RsaParameters,
        modulus: Vec<u8>,
        exponent: Vec<u8>,
    },
    Fixed {
        algorithm: Algorithm,
        parameters: &'static dyn sig::VerificationAlgorithm,
        public_key: Vec<u8>,
    },
}

impl signature::Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let outcome = match self {
            RingVerifier::Rsa {
                parameters,
                modulus,
                exponent,
                ..
            } => sig::RsaPublicKeyComponents {
                n: modulus,
                e: exponent,
            }
            .verify(parameters, message, signature),
            RingVerifier::Fixed {
                parameters,
                public_key,
                ..
            } => sig::UnparsedPublicKey::new(*parameters, public_key).verify(message, signature),
        };
        outcome.map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        match self {
            RingVerifier::Rsa { algorithm, .. } | RingVerifier::Fixed { algorithm, .. } => {
                *algorithm
            }
        }
    }
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    let algorithm = *algorithm;
    let rsa = |parameters| match key.kind() {
        DecodingKeyKind::RsaModulusExponent { n, e } => Ok(Box::new(RingVerifier::Rsa {
            algorithm,
            parameters,
            modulus: n.clone(),
            exponent: e.clone(),
        }) as Box<dyn JwtVerifier>),
        DecodingKeyKind::SecretOrDer(_) => Err(Error::from(ErrorKind::InvalidKeyFormat)),
    };
    let fixed = |parameters| match key.kind() {
        DecodingKeyKind::SecretOrDer(bytes) => Ok(Box::new(RingVerifier::Fixed {
            algorithm,
            parameters,
            public_key: bytes.clone(),
        }) as Box<dyn JwtVerifier>),
        DecodingKeyKind::RsaModulusExponent { .. } => Err(Error::from(ErrorKind::InvalidKeyFormat)),
    };
    match algorithm {
        Algorithm::RS256 => rsa(&sig::RSA_PKCS1_2048_8192_SHA256),
        Algorithm::RS384 => rsa(&sig::RSA_PKCS1_2048_8192_SHA384),
        Algorithm::RS512 => rsa(&sig::RSA_PKCS1_2048_8192_SHA512),
        Algorithm::PS256 => rsa(&sig::RSA_PSS_2048_8192_SHA256),
        Algorithm::PS384 => rsa(&sig::RSA_PSS_2048_8192_SHA384),
        Algorithm::PS512 => rsa(&sig::RSA_PSS_2048_8192_SHA512),
        Algorithm::ES256 => fixed(&sig::ECDSA_P256_SHA256_FIXED),
        Algorithm::ES384 => fixed(&sig::ECDSA_P384_SHA384_FIXED),
        Algorithm::EdDSA => fixed(&sig::ED25519),
        _ => Err(unsupported()),
    }
}

enum RingSigner {
    Rsa {
        algorithm: Algorithm,
        encoding: &'static dyn sig::RsaEncoding,
        key_pair: sig::RsaKeyPair,
    },
    Ecdsa {
        algorithm: Algorithm,
        key_pair: sig::EcdsaKeyPair,
    },
    Ed25519(sig::Ed25519KeyPair),
}

impl signature::Signer<Vec<u8>> for RingSigner {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let random = SystemRandom::new();
        match self {
            RingSigner::Rsa {
                encoding, key_pair, ..
            } => {
                let mut signature = vec![0; key_pair.public().modulus_len()];
                key_pair
                    .sign(*encoding, &random, message, &mut signature)
                    .map_err(|_| signature::Error::new())?;
                Ok(signature)
            }
            RingSigner::Ecdsa { key_pair, .. } => key_pair
                .sign(&random, message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| signature::Error::new()),
            RingSigner::Ed25519(key_pair) => Ok(key_pair.sign(message).as_ref().to_vec()),
        }
    }
}

impl JwtSigner for RingSigner {
    fn algorithm(&self) -> Algorithm {
        match self {
            RingSigner::Rsa { algorithm, .. } | RingSigner::Ecdsa { algorithm, .. } => *algorithm,
            RingSigner::Ed25519(_) => Algorithm::EdDSA,
        }
    }
}

fn rsa_key_pair(der: &[u8]) -> Result<sig::RsaKeyPair, Error> {
    sig::RsaKeyPair::from_pkcs8(der)
        .or_else(|_| sig::RsaKeyPair::from_der(der))
        .map_err(|error| ErrorKind::InvalidRsaKey(error.to_string()).into())
}

fn ecdsa_parameters(algorithm: Algorithm) -> Option<&'static sig::EcdsaSigningAlgorithm> {
    match algorithm {
        Algorithm::ES256 => Some(&sig::ECDSA_P256_SHA256_FIXED_SIGNING),
        Algorithm::ES384 => Some(&sig::ECDSA_P384_SHA384_FIXED_SIGNING),
        _ => None,
    }
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    let algorithm = *algorithm;
    let der = key.as_bytes();
    let rsa = |encoding| {
        Ok(Box::new(RingSigner::Rsa {
            algorithm,
            encoding,
            key_pair: rsa_key_pair(der)?,
        }) as Box<dyn JwtSigner>)
    };
    match algorithm {
        Algorithm::RS256 => rsa(&sig::RSA_PKCS1_SHA256),
        Algorithm::RS384 => rsa(&sig::RSA_PKCS1_SHA384),
        Algorithm::RS512 => rsa(&sig::RSA_PKCS1_SHA512),
        Algorithm::PS256 => rsa(&sig::RSA_PSS_SHA256),
        Algorithm::PS384 => rsa(&sig::RSA_PSS_SHA384),
        Algorithm::PS512 => rsa(&sig::RSA_PSS_SHA512),
        Algorithm::ES256 | Algorithm::ES384 => {
            let parameters = ecdsa_parameters(algorithm).ok_or_else(unsupported)?;
            let key_pair = sig::EcdsaKeyPair::from_pkcs8(parameters, der, &SystemRandom::new())
                .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?;
            Ok(Box::new(RingSigner::Ecdsa {
                algorithm,
                key_pair,
            }))
        }
        Algorithm::EdDSA => {
            let key_pair = sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                .map_err(|_| Error::from(ErrorKind::InvalidEddsaKey))?;
            Ok(Box::new(RingSigner::Ed25519(key_pair)))
        }
        _ => Err(unsupported()),
    }
}

fn rsa_components_from_private_key(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let key_pair = rsa_key_pair(der)?;
    let components: sig::RsaPublicKeyComponents<Vec<u8>> = key_pair.public().into();
    Ok((components.n, components.e))
}

fn ec_components_from_private_key(
    der: &[u8],
    algorithm: Algorithm,
) -> Result<(EllipticCurve, Vec<u8>, Vec<u8>), Error> {
    let (curve, coordinate_length) = match algorithm {
        Algorithm::ES256 => (EllipticCurve::P256, 32),
        Algorithm::ES384 => (EllipticCurve::P384, 48),
        _ => return Err(ErrorKind::InvalidEcdsaKey.into()),
    };
    let parameters = ecdsa_parameters(algorithm).ok_or_else(unsupported)?;
    let key_pair = sig::EcdsaKeyPair::from_pkcs8(parameters, der, &SystemRandom::new())
        .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?;
    let point = key_pair.public_key().as_ref();
    let (x, y) = point[1..].split_at(coordinate_length);
    Ok((curve, x.to_vec(), y.to_vec()))
}

fn ed_components_from_private_key(der: &[u8], curve: &EllipticCurve) -> Result<Vec<u8>, Error> {
    if *curve != EllipticCurve::Ed25519 {
        return Err(ErrorKind::InvalidEddsaKey.into());
    }
    let key_pair = sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
        .map_err(|_| Error::from(ErrorKind::InvalidEddsaKey))?;
    Ok(key_pair.public_key().as_ref().to_vec())
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>, Error> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &ring::digest::SHA256,
        ThumbprintHash::SHA384 => &ring::digest::SHA384,
        ThumbprintHash::SHA512 => &ring::digest::SHA512,
        _ => return Err(unsupported()),
    };
    Ok(ring::digest::digest(algorithm, data).as_ref().to_vec())
}
