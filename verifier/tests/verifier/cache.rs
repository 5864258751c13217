//! The verified-token cache: hits are re-checked against the clock, the key is
//! the whole token, and a key set change empties it.

use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::json;
use tessera_verifier::{Clock, KeySet, TimeClaims};

use crate::support::{NOW, b64, builder, good_claims, token};

static MOVING_NOW: AtomicI64 = AtomicI64::new(NOW);

fn moving_clock() -> i64 {
    MOVING_NOW.load(Ordering::SeqCst)
}

#[test]
fn hits_recheck_time_claims() {
    let verifier = builder()
        .clock(Clock::Function(moving_clock))
        .verified_token_cache(16)
        .build()
        .unwrap();
    let mut claims = good_claims();
    claims["exp"] = json!(NOW + 10);
    let jwt = token("ES256", &claims);
    MOVING_NOW.store(NOW, Ordering::SeqCst);
    let first = verifier.verify(&jwt).unwrap();
    let second = verifier.verify(&jwt).unwrap();
    assert_eq!(first, second);
    // The cached entry must not outlive `exp`.
    MOVING_NOW.store(NOW + 10, Ordering::SeqCst);
    assert_eq!(verifier.verify(&jwt).unwrap_err().code(), "ERR_JWT_EXPIRED");
}

#[test]
fn the_whole_token_is_the_key() {
    // fast-jwt's GHSA-rp9m-7r4c-75qg: a cache keyed on part of the token let a
    // forged signature ride on a cached good one.
    let verifier = builder().verified_token_cache(16).build().unwrap();
    let jwt = token("EdDSA", &good_claims());
    assert!(verifier.verify(&jwt).is_ok());
    let (signed, _) = jwt.rsplit_once('.').unwrap();
    let forged = format!("{signed}.{}", b64([7u8; 64]));
    assert_eq!(
        verifier.verify(&forged).unwrap_err().code(),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
    );
    assert!(verifier.verify(&jwt).is_ok());
}

#[test]
fn replacing_keys_empties_the_cache() {
    let verifier = builder().verified_token_cache(16).build().unwrap();
    let jwt = token("ES384", &good_claims());
    assert!(verifier.verify(&jwt).is_ok());
    verifier.replace_key_set(KeySet::from_json(r#"{"keys":[]}"#).unwrap());
    assert_eq!(
        verifier.verify(&jwt).unwrap_err().code(),
        "ERR_JWKS_NO_MATCHING_KEY"
    );
}

#[test]
fn capacity_is_bounded_and_must_be_positive() {
    assert_eq!(
        builder()
            .verified_token_cache(0)
            .build()
            .unwrap_err()
            .code(),
        "ERR_CONFIGURATION_INVALID"
    );
    let verifier = builder().verified_token_cache(2).build().unwrap();
    for n in 0..10 {
        let mut claims = good_claims();
        claims["n"] = json!(n);
        assert!(verifier.verify(&token("ES256", &claims)).is_ok());
    }
}

/// An engine that checks the signature with ring, but first withdraws every
/// key: the key set is replaced while the verification is in flight, as a
/// JWKS refresh on another task would.
struct WithdrawsKeysMidway<'a> {
    verifier: &'a tessera_verifier::Verifier,
}

impl tessera_verifier::SignatureEngine for WithdrawsKeysMidway<'_> {
    async fn verify_signature(
        &self,
        key: &tessera_verifier::VerificationKey,
        _key_set_generation: u64,
        _key_index: usize,
        algorithm: tessera_verifier::Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, tessera_verifier::VerifyError> {
        self.verifier
            .replace_key_set(KeySet::from_json(r#"{"keys":[]}"#).unwrap());
        Ok(key.verify_signature(algorithm, message, signature).is_ok())
    }
}

#[tokio::test]
async fn a_verification_in_flight_during_a_key_change_is_not_cached() {
    let verifier = builder().verified_token_cache(16).build().unwrap();
    let jwt = token("ES256", &good_claims());
    let engine = WithdrawsKeysMidway {
        verifier: &verifier,
    };
    // The token verified with the key it was checked against...
    assert!(verifier.verify_with_engine(&jwt, &engine).await.is_ok());
    // ...but that key is gone now, so no cached passport may outlive it.
    assert!(verifier.cached(&jwt).is_none(), "a stale insert was kept");
    assert_eq!(
        verifier.verify(&jwt).unwrap_err().code(),
        "ERR_JWKS_NO_MATCHING_KEY"
    );
}

static OTHER_NOW: AtomicI64 = AtomicI64::new(NOW);

fn other_clock() -> i64 {
    OTHER_NOW.load(Ordering::SeqCst)
}

#[test]
fn still_valid_follows_the_clock_and_the_key_set() {
    // What the npm package's cache asks on every hit.
    let verifier = builder()
        .clock(Clock::Function(other_clock))
        .clock_tolerance_seconds(5)
        .max_token_age_seconds(100)
        .build()
        .unwrap();
    let mut claims = good_claims();
    claims["exp"] = json!(NOW + 10);
    claims["nbf"] = json!(NOW - 1);
    claims["iat"] = json!(NOW - 1);
    let jwt = token("ES256", &claims);
    let generation = verifier.key_set_generation();
    OTHER_NOW.store(NOW, Ordering::SeqCst);
    verifier.verify(&jwt).unwrap();
    let times = TimeClaims {
        expires_at: Some((NOW + 10) as f64),
        not_before: Some((NOW - 1) as f64),
        issued_at: Some((NOW - 1) as f64),
    };
    assert!(verifier.still_valid(times, generation));
    // The tolerance counts, as on the first verification.
    OTHER_NOW.store(NOW + 14, Ordering::SeqCst);
    assert!(verifier.still_valid(times, generation));
    OTHER_NOW.store(NOW + 15, Ordering::SeqCst);
    assert!(!verifier.still_valid(times, generation), "exp + tolerance");
    OTHER_NOW.store(NOW - 7, Ordering::SeqCst);
    assert!(!verifier.still_valid(times, generation), "nbf - tolerance");
    OTHER_NOW.store(NOW, Ordering::SeqCst);
    let no_exp = TimeClaims {
        expires_at: None,
        ..times
    };
    assert!(!verifier.still_valid(no_exp, generation), "exp is required");
    let old = TimeClaims {
        issued_at: Some((NOW - 200) as f64),
        ..times
    };
    assert!(!verifier.still_valid(old, generation), "max token age");
    verifier.replace_key_set(KeySet::from_json(r#"{"keys":[]}"#).unwrap());
    assert!(!verifier.still_valid(times, generation), "key set replaced");
    assert!(verifier.still_valid(times, verifier.key_set_generation()));
}
