//! The verified-token cache: hits are re-checked against the clock, the key is
//! the whole token, and a key set change empties it.

use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::json;
use tessera_verifier::{Clock, KeySet};

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
