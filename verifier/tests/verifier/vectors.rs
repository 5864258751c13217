//! Conformance: Wycheproof JWS and signature-layer vectors, the RFC 7520 JOSE
//! cookbook, and tokens signed by other implementations.
//!
//! Deliberate deviations from a vector's verdict are listed in `DEVIATIONS`
//! with their reason, and each must be rejected with the stated code; a
//! deviation that stops happening fails the test so the list stays true.

use hex_literal_free::hex;
use serde_json::{Value, json};
use tessera_verifier::{Algorithm, JwsRules, KeySet};

use crate::support::read_json;

/// Vectors whose "valid" verdict this verifier refuses on purpose, by tcId,
/// with the code it must refuse them with and the reason.
const DEVIATIONS: [(&[u64], &str, &str); 4] = [
    (
        &[1, 348, 352, 357, 358, 359, 376, 377],
        "ERR_JOSE_ALG_NOT_ALLOWED",
        "HS256: symmetric algorithms are never accepted from a key set",
    ),
    (
        &[372, 373],
        "ERR_JWS_INVALID",
        "HS256 with a character outside base64url that a lenient decoder skips: \
         we refuse the character (and would refuse the algorithm next)",
    ),
    (
        &[347, 351],
        "ERR_JOSE_ALG_NOT_ALLOWED",
        "ES512 (P-521) is outside the supported set: RS*, PS*, ES256, ES384, EdDSA",
    ),
    (
        &[346, 350],
        "ERR_JOSE_ALG_NOT_ALLOWED",
        "a PS384 signature under a JWK whose `alg` pins PS256: a JWK's alg must match",
    ),
];

mod hex_literal_free {
    pub fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }
}

#[test]
fn wycheproof_json_web_signature() {
    let suite = read_json("wycheproof/json_web_signature_test.json");
    let (mut agreed, mut deviated) = (0, 0);
    let mut failures = Vec::new();
    for group in suite["testGroups"].as_array().unwrap() {
        let key = group.get("public").unwrap_or(&group["private"]);
        let key_set = KeySet::from_value(json!({ "keys": [key] })).unwrap();
        for case in group["tests"].as_array().unwrap() {
            let id = &case["tcId"];
            let expected = case["result"].as_str().unwrap();
            assert_ne!(
                expected, "acceptable",
                "tcId {id}: no acceptable cases are expected"
            );
            // JSON-serialized cases arrive as objects; a compact-only verifier
            // cannot even be handed them, which is a rejection.
            let Some(jws) = case["jws"].as_str() else {
                assert_eq!(expected, "invalid", "tcId {id}");
                agreed += 1;
                continue;
            };
            let outcome = key_set.verify_jws(jws, &JwsRules::default());
            let id_number = id.as_u64().unwrap();
            let deviation = DEVIATIONS
                .iter()
                .find(|(ids, _, _)| ids.contains(&id_number));
            match (expected, &outcome, deviation) {
                ("valid", Ok(_), None) | ("invalid", Err(_), None) => agreed += 1,
                ("valid", Err(error), Some((_, code, _))) if error.code() == *code => deviated += 1,
                _ => failures.push(format!(
                    "tcId {id} ({}): expected {expected}, got {outcome:?}",
                    case["comment"]
                )),
            }
        }
    }
    println!("wycheproof JWS: {agreed} agreed, {deviated} documented deviations");
    assert!(failures.is_empty(), "{failures:#?}");
    let listed: usize = DEVIATIONS.iter().map(|(ids, _, _)| ids.len()).sum();
    assert_eq!(deviated, listed, "a listed deviation no longer happens");
    assert!(agreed > 350, "only {agreed} cases ran");
}

/// Runs one Wycheproof signature-layer file through `verify_signature`.
fn check_signature_vectors(file: &str, algorithm: Algorithm) {
    let suite = read_json(&format!("wycheproof/{file}"));
    let (mut ran, mut acceptable_accepted, mut acceptable_rejected) = (0, 0, 0);
    let mut failures = Vec::new();
    for group in suite["testGroups"].as_array().unwrap() {
        let jwk = group
            .get("publicKeyJwk")
            .or(group.get("keyJwk"))
            .cloned()
            .unwrap_or_else(|| ec_jwk_from_coordinates(&group["publicKey"]));
        let key_set = KeySet::from_value(json!({ "keys": [jwk] })).unwrap();
        assert_eq!(
            key_set.keys().len(),
            1,
            "{file}: key skipped: {:?}",
            key_set.skipped()
        );
        let key = &key_set.keys()[0];
        for case in group["tests"].as_array().unwrap() {
            ran += 1;
            let message = hex(case["msg"].as_str().unwrap());
            let signature = hex(case["sig"].as_str().unwrap());
            let accepted = key
                .verify_signature(algorithm, &message, &signature)
                .is_ok();
            match (case["result"].as_str().unwrap(), accepted) {
                ("valid", true) | ("invalid", false) => {}
                // "acceptable" leaves the verdict to the implementation; ring's
                // strict choice is recorded in the output rather than asserted.
                ("acceptable", true) => acceptable_accepted += 1,
                ("acceptable", false) => acceptable_rejected += 1,
                (expected, _) => failures.push(format!(
                    "tcId {} ({}): expected {expected}",
                    case["tcId"], case["comment"]
                )),
            }
        }
    }
    println!(
        "{file}: {ran} cases; acceptable: {acceptable_accepted} accepted, {acceptable_rejected} rejected"
    );
    assert!(failures.is_empty(), "{file}: {failures:#?}");
    assert!(ran > 50, "{file}: only {ran} cases ran");
}

/// Some ECDSA groups give only the affine coordinates in hex.
fn ec_jwk_from_coordinates(public_key: &Value) -> Value {
    let (curve, length) = match public_key["curve"].as_str().unwrap() {
        "secp256r1" => ("P-256", 32),
        "secp384r1" => ("P-384", 48),
        other => panic!("unexpected curve {other}"),
    };
    let coordinate = |name: &str| {
        let bytes = hex(public_key[name].as_str().unwrap());
        let trimmed = &bytes[bytes.len().saturating_sub(length)..];
        let mut padded = vec![0; length - trimmed.len()];
        padded.extend_from_slice(trimmed);
        crate::support::b64(padded)
    };
    json!({"kty": "EC", "crv": curve, "x": coordinate("wx"), "y": coordinate("wy")})
}

#[test]
fn wycheproof_rsa_pkcs1_2048_sha256() {
    check_signature_vectors("rsa_signature_2048_sha256_test.json", Algorithm::RS256);
}

#[test]
fn wycheproof_rsa_pss_2048_sha256() {
    check_signature_vectors("rsa_pss_2048_sha256_mgf1_32_test.json", Algorithm::PS256);
}

#[test]
fn wycheproof_ecdsa_p256_p1363() {
    check_signature_vectors("ecdsa_secp256r1_sha256_p1363_test.json", Algorithm::ES256);
}

#[test]
fn wycheproof_ecdsa_p384_p1363() {
    check_signature_vectors("ecdsa_secp384r1_sha384_p1363_test.json", Algorithm::ES384);
}

#[test]
fn wycheproof_ed25519() {
    check_signature_vectors("ed25519_test.json", Algorithm::EdDSA);
}

#[test]
fn rfc7520_cookbook_signatures() {
    // (file, expected code or None for success)
    let cases = [
        ("4_1.rsa_v15_signature.json", None),
        ("4_2.rsa-pss_signature.json", None),
        ("4_3.ecdsa_signature.json", Some("ERR_JOSE_ALG_NOT_ALLOWED")),
        (
            "4_4.hmac-sha2_integrity_protection.json",
            Some("ERR_JOSE_ALG_NOT_ALLOWED"),
        ),
    ];
    let public = read_json("jose-cookbook/jwk/3_3.rsa_public_key.json");
    let key_set = KeySet::from_value(json!({ "keys": [public] })).unwrap();
    for (file, expected) in cases {
        let example = read_json(&format!("jose-cookbook/jws/{file}"));
        let compact = example["output"]["compact"].as_str().unwrap();
        let outcome = key_set.verify_jws(compact, &JwsRules::default());
        match (expected, outcome) {
            (None, Ok(jws)) => {
                assert_eq!(
                    jws.payload(),
                    example["input"]["payload"].as_str().unwrap().as_bytes()
                );
            }
            (Some(code), Err(error)) => assert_eq!(error.code(), code, "{file}"),
            (expected, outcome) => panic!("{file}: expected {expected:?}, got {outcome:?}"),
        }
    }
    // The flattened and general JSON serializations (4.5 to 4.8) are refused:
    // only the compact form is accepted.
    let general = read_json("jose-cookbook/jws/4_8.multiple_signatures.json");
    let text = general["output"]["json"].to_string();
    let error = key_set.verify_jws(&text, &JwsRules::default()).unwrap_err();
    assert_eq!(error.code(), "ERR_JWS_INVALID");
}
