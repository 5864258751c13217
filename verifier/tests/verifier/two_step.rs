//! The sans-I/O pair a host with an asynchronous engine drives itself:
//! `begin_signature_check` runs every rule before the signature and hands
//! over the key and bytes; `complete_signature_check` takes the verdict.

use tessera_verifier::{SignatureCheck, Verifier};

use crate::support::{b64, builder, good_claims, token};

/// Begins a check whose engine is ring's arithmetic, and returns the pending
/// check with the engine's verdict.
fn begin(
    verifier: &Verifier,
    jwt: &str,
) -> Result<(tessera_verifier::PendingSignature, bool), tessera_verifier::VerifyError> {
    match verifier.begin_signature_check(jwt, |input| {
        Ok(input
            .key
            .verify_signature(input.algorithm, input.message, input.signature)
            .is_ok())
    })? {
        SignatureCheck::Started(pending, valid) => Ok((pending, valid)),
        SignatureCheck::Cached(_) => panic!("no cache is configured"),
    }
}

#[test]
fn a_good_token_completes_to_its_passport() {
    let verifier = builder().build().unwrap();
    let (pending, valid) = begin(&verifier, &token("ES256", &good_claims())).unwrap();
    assert!(valid);
    let passport = verifier.complete_signature_check(pending, valid).unwrap();
    assert_eq!(
        passport,
        verifier.verify(&token("ES256", &good_claims())).unwrap()
    );
}

#[test]
fn a_false_verdict_is_an_invalid_signature() {
    let verifier = builder().build().unwrap();
    let jwt = token("ES256", &good_claims());
    let forged = format!("{}.{}", &jwt[..jwt.rfind('.').unwrap()], b64([7; 64]));
    let (pending, valid) = begin(&verifier, &forged).unwrap();
    assert!(!valid);
    let error = verifier
        .complete_signature_check(pending, valid)
        .unwrap_err();
    assert_eq!(error.code(), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
}

#[test]
fn rules_before_the_signature_end_the_check_before_the_engine() {
    let verifier = builder().build().unwrap();
    let jwt = token("ES256", &good_claims());
    // A signature of the wrong length never reaches the engine.
    let short = format!("{}.{}", &jwt[..jwt.rfind('.').unwrap()], b64([7; 10]));
    let outcome = verifier.begin_signature_check(&short, |_| -> Result<(), _> {
        panic!("the engine was asked about a malformed signature")
    });
    assert!(outcome.is_err());
}

#[test]
fn claim_rules_apply_after_the_verdict() {
    let verifier = builder().build().unwrap();
    let mut claims = good_claims();
    claims["iss"] = serde_json::json!("https://someone.else.example");
    let (pending, valid) = begin(&verifier, &token("ES256", &claims)).unwrap();
    assert!(valid);
    let error = verifier
        .complete_signature_check(pending, valid)
        .unwrap_err();
    assert_eq!(error.code(), "ERR_JWT_CLAIM_VALIDATION_FAILED");
}

#[test]
fn a_check_begun_by_another_verifier_is_refused() {
    let lenient = builder().dangerous_accept_any_issuer().build().unwrap();
    let strict = builder().build().unwrap();
    let mut claims = good_claims();
    claims["iss"] = serde_json::json!("https://someone.else.example");
    let (pending, valid) = begin(&lenient, &token("ES256", &claims)).unwrap();
    let error = strict.complete_signature_check(pending, valid).unwrap_err();
    assert_eq!(error.code(), "ERR_CONFIGURATION_INVALID");
}
