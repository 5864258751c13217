//! The compact token parser and the whole verification behind it: any text
//! given to `UntrustedToken::parse` and to `Verifier::verify` (fixed key set,
//! fixed clock, the shared cases' issuer and audience) must end in a value or
//! an error, never a panic. Seeds: every case of verifier/tests/cases.json,
//! signed with the keys of fuzz/fixtures/jwks.json.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tessera_verifier::{Clock, DEFAULT_MAX_TOKEN_BYTES, KeySet, UntrustedToken, Verifier};

static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
    tessera_verifier::install_ring_provider();
    let key_set = KeySet::from_json(include_str!("../fixtures/jwks.json"))
        .expect("fuzz/fixtures/jwks.json is a valid key set");
    Verifier::builder()
        .issuer("https://id.example")
        .audience("shop-api")
        .clock(Clock::Fixed(1_800_000_000))
        .key_set(key_set)
        .build()
        .expect("the fuzzing verifier's configuration is valid")
});

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(untrusted) = UntrustedToken::parse(token, DEFAULT_MAX_TOKEN_BYTES) {
        let _ = (
            untrusted.algorithm(),
            untrusted.key_id(),
            untrusted.header(),
        );
        let _ = (untrusted.signing_input(), untrusted.signature());
        let _ = serde_json::from_slice::<serde_json::Value>(untrusted.unverified_payload());
    }
    match VERIFIER.verify(token) {
        Ok(passport) => {
            let _ = (passport.subject(), passport.audiences(), passport.to_json());
        }
        // The message quotes attacker-chosen text, shortened: format it too.
        Err(error) => {
            let _ = (error.code(), error.claim(), error.to_string());
        }
    }
});
