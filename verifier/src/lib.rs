//! Strict verification of JWT digital passports against a JSON Web Key Set.
//!
//! `tessera-verifier` turns an untrusted compact JWS into a [`Passport`] (the
//! verified claims) or a [`VerifyError`] with a stable code. The same code runs
//! natively, where signatures are checked by aws-lc-rs on keys parsed once
//! (the default feature `aws-lc`) or by a `ring`-backed
//! [`jsonwebtoken::crypto::CryptoProvider`] ([`RING_PROVIDER`]) alone
//! (`default-features = false, features = ["ring", "token-cache"]`), and in
//! WebAssembly,
//! where the host's WebCrypto or `node:crypto` checks them through
//! [`SignatureEngine`].
//!
//! Its defaults are strict: issuer and audience are required, `exp` is
//! required, `crit` and `b64: false` are refused, keys are chosen by exact
//! `kid` (or when exactly one fits), symmetric algorithms and `none` never
//! verify, RSA keys below 2048 bits are refused, ECDSA signatures must be raw
//! r||s, and duplicate JSON members are errors.
//!
//! What it is not: it does not sign or issue tokens, it does not decrypt JWE,
//! and its core does no I/O. Fetching keys from an issuer lives in the
//! `remote` feature ([`remote`]), the axum integration in the `axum` feature.
//!
//! ```
//! use tessera_verifier::{KeySet, Verifier};
//! let keys = KeySet::from_json(r#"{"keys":[]}"#)?;
//! let verifier = Verifier::builder()
//!     .issuer("https://id.example")
//!     .audience("shop-api")
//!     .key_set(keys)
//!     .build()?;
//! # #[cfg(feature = "ring")]
//! assert_eq!(verifier.verify("not-a-token").unwrap_err().code(), "ERR_JWS_INVALID");
//! # Ok::<(), tessera_verifier::VerifyError>(())
//! ```

#[cfg(feature = "aws-lc")]
mod aws_lc;
mod claims;
mod compact;
mod error;
pub mod jwks_cache;
mod jws;
mod keys;
pub mod location;
#[cfg(feature = "ring")]
mod ring_provider;
mod token_cache;
mod verifier;

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "remote")]
pub mod remote;
#[cfg(feature = "webcrypto")]
pub mod webcrypto;

pub use claims::{PERSONAL_DATA_CLAIMS, TimeClaims};
pub use compact::{
    DEFAULT_MAX_TOKEN_BYTES, Keep, Raw, TopLevel, UntrustedToken, Wanted, read_json_object,
    read_json_strictly,
};
pub use error::VerifyError;
pub use jsonwebtoken::Algorithm;
pub use jws::{JwsRules, VerifiedJws};
pub use keys::{
    KeyKind, KeySet, KeySetText, MAXIMUM_RSA_MODULUS_BITS, MINIMUM_RSA_MODULUS_BITS,
    SUPPORTED_ALGORITHMS, SkippedKey, VerificationKey, parse_algorithm,
};
#[cfg(feature = "ring")]
pub use ring_provider::{RING_PROVIDER, install_ring_provider};
pub use verifier::{
    Clock, Passport, PendingSignature, PersonalData, SignatureCheck, SignatureEngine,
    SignatureInput, Verifier, VerifierBuilder,
};
