//! One case per rule of the verifier, each run through `check`: a token built
//! from raw header and payload text, a verifier configuration, and the
//! expected outcome (`Ok` or an error code, with the claim it names).

use serde_json::{Value, json};
use tessera_verifier::{PersonalData, Verifier, VerifierBuilder};

use crate::support::{self, AUDIENCE, ISSUER, NOW, b64, builder, good_claims, keys, sign_raw};

enum Expect {
    Ok,
    Error(&'static str),
    ErrorOnClaim(&'static str, &'static str),
}

struct Case {
    name: &'static str,
    alg: &'static str,
    header: Value,
    claims: Value,
    config: fn(VerifierBuilder) -> VerifierBuilder,
    expect: Expect,
}

fn case(name: &'static str) -> Case {
    Case {
        name,
        alg: "ES256",
        header: json!({"alg": "ES256", "kid": "p256", "typ": "JWT"}),
        claims: good_claims(),
        config: |builder| builder,
        expect: Expect::Ok,
    }
}

impl Case {
    fn alg(mut self, alg: &'static str, kid: &str) -> Self {
        self.alg = alg;
        self.header = json!({"alg": alg, "kid": kid});
        self
    }
    fn header(mut self, header: Value) -> Self {
        self.header = header;
        self
    }
    fn claim(mut self, name: &str, value: Value) -> Self {
        self.claims[name] = value;
        self
    }
    fn without(mut self, name: &str) -> Self {
        self.claims.as_object_mut().unwrap().remove(name);
        self
    }
    fn config(mut self, config: fn(VerifierBuilder) -> VerifierBuilder) -> Self {
        self.config = config;
        self
    }
    fn fails(mut self, code: &'static str) -> Self {
        self.expect = Expect::Error(code);
        self
    }
    fn fails_on(mut self, code: &'static str, claim: &'static str) -> Self {
        self.expect = Expect::ErrorOnClaim(code, claim);
        self
    }
}

fn check(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in cases {
        let (key, _) = keys().for_algorithm(case.alg);
        let token = sign_raw(
            key,
            case.alg,
            &case.header.to_string(),
            &case.claims.to_string(),
        );
        let verifier = (case.config)(builder()).build().unwrap();
        let outcome = verifier.verify(&token);
        let good = match (&case.expect, &outcome) {
            (Expect::Ok, Ok(passport)) => passport.subject() == case.claims["sub"].as_str(),
            (Expect::Error(code), Err(error)) => error.code() == *code,
            (Expect::ErrorOnClaim(code, claim), Err(error)) => {
                error.code() == *code && error.claim() == Some(claim)
            }
            _ => false,
        };
        if !good {
            failures.push(format!(
                "{}: got {:?}",
                case.name,
                outcome.map_err(|e| (e.code(), e.to_string()))
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_algorithm_verifies() {
    check(vec![
        case("RS256").alg("RS256", "rsa"),
        case("RS384").alg("RS384", "rsa"),
        case("RS512").alg("RS512", "rsa"),
        case("PS256").alg("PS256", "rsa"),
        case("PS384").alg("PS384", "rsa"),
        case("PS512").alg("PS512", "rsa"),
        case("ES256").alg("ES256", "p256"),
        case("ES384").alg("ES384", "p384"),
        case("EdDSA").alg("EdDSA", "ed25519"),
    ]);
}

#[test]
fn algorithm_must_fit_key_and_allowlist() {
    check(vec![
        case("ES384 header on the P-256 key")
            .header(json!({"alg": "ES384", "kid": "p256"}))
            .fails("ERR_JOSE_ALG_NOT_ALLOWED"),
        case("RS256 header on the Ed25519 key")
            .alg("RS256", "ed25519")
            .fails("ERR_JOSE_ALG_NOT_ALLOWED"),
        case("none")
            .header(json!({"alg": "none"}))
            .fails("ERR_JOSE_ALG_NOT_ALLOWED"),
        case("HS256")
            .header(json!({"alg": "HS256", "kid": "p256"}))
            .fails("ERR_JOSE_ALG_NOT_ALLOWED"),
        case("unknown alg")
            .header(json!({"alg": "ES999"}))
            .fails("ERR_JOSE_ALG_NOT_ALLOWED"),
        case("outside the allowlist")
            .config(|b| b.algorithms(["EdDSA"]).unwrap())
            .fails("ERR_JOSE_ALG_NOT_ALLOWED"),
        case("inside the allowlist").config(|b| b.algorithms(["ES256", "EdDSA"]).unwrap()),
        case("alg is not a string")
            .header(json!({"alg": 256, "kid": "p256"}))
            .fails("ERR_JWS_INVALID"),
    ]);
}

#[test]
fn jwk_alg_pins_the_algorithm() {
    // The RSA key pinned to PS256 must refuse an RS256 signature it could
    // mathematically verify.
    let mut jwks = keys().jwks();
    jwks["keys"][0]["alg"] = json!("PS256");
    let verifier = builder()
        .key_set(tessera_verifier::KeySet::from_value(jwks).unwrap())
        .build()
        .unwrap();
    let rs256 = support::token("RS256", &good_claims());
    assert_eq!(
        verifier.verify(&rs256).unwrap_err().code(),
        "ERR_JOSE_ALG_NOT_ALLOWED"
    );
    let ps256 = support::token("PS256", &good_claims());
    assert!(verifier.verify(&ps256).is_ok());
}

#[test]
fn time_claims() {
    check(vec![
        case("exp missing")
            .without("exp")
            .fails_on("ERR_JWT_CLAIM_VALIDATION_FAILED", "exp"),
        case("exp now")
            .claim("exp", json!(NOW))
            .fails_on("ERR_JWT_EXPIRED", "exp"),
        case("exp past")
            .claim("exp", json!(NOW - 1))
            .fails_on("ERR_JWT_EXPIRED", "exp"),
        case("exp past within tolerance")
            .claim("exp", json!(NOW - 5))
            .config(|b| b.clock_tolerance_seconds(10)),
        case("exp fractional future").claim("exp", json!(NOW as f64 + 0.5)),
        case("nbf future")
            .claim("nbf", json!(NOW + 1))
            .fails_on("ERR_JWT_CLAIM_VALIDATION_FAILED", "nbf"),
        case("nbf future within tolerance")
            .claim("nbf", json!(NOW + 5))
            .config(|b| b.clock_tolerance_seconds(10)),
        case("max age exceeded")
            .claim("iat", json!(NOW - 61))
            .config(|b| b.max_token_age_seconds(60))
            .fails_on("ERR_JWT_EXPIRED", "iat"),
        case("max age kept")
            .claim("iat", json!(NOW - 60))
            .config(|b| b.max_token_age_seconds(60)),
        case("max age needs iat")
            .without("iat")
            .config(|b| b.max_token_age_seconds(60))
            .fails_on("ERR_JWT_CLAIM_VALIDATION_FAILED", "iat"),
        case("iat in the future with max age")
            .claim("iat", json!(NOW + 30))
            .config(|b| b.max_token_age_seconds(60))
            .fails_on("ERR_JWT_CLAIM_VALIDATION_FAILED", "iat"),
        // Security Event Tokens carry no `exp`; their age is bounded by `iat`.
        case("without expiry: no exp, recent iat")
            .without("exp")
            .claim("iat", json!(NOW - 30))
            .config(|b| b.without_expiry().max_token_age_seconds(60)),
        case("without expiry: an exp is refused")
            .claim("iat", json!(NOW - 30))
            .config(|b| b.without_expiry().max_token_age_seconds(60))
            .fails_on("ERR_JWT_CLAIM_VALIDATION_FAILED", "exp"),
        case("without expiry: too old")
            .without("exp")
            .claim("iat", json!(NOW - 61))
            .config(|b| b.without_expiry().max_token_age_seconds(60))
            .fails_on("ERR_JWT_EXPIRED", "iat"),
    ]);
}

#[test]
fn without_expiry_needs_a_maximum_age() {
    let built = tessera_verifier::Verifier::builder()
        .issuer("https://issuer.example")
        .audience("api")
        .without_expiry()
        .build();
    assert_eq!(built.unwrap_err().code(), "ERR_CONFIGURATION_INVALID");
}

#[test]
fn claim_types_are_strict() {
    check(vec![
        case("exp as string")
            .claim("exp", json!((NOW + 300).to_string()))
            .fails_on("ERR_JWT_INVALID", "exp"),
        case("nbf as bool")
            .claim("nbf", json!(true))
            .fails_on("ERR_JWT_INVALID", "nbf"),
        case("iat as array")
            .claim("iat", json!([NOW]))
            .fails_on("ERR_JWT_INVALID", "iat"),
        case("iss as number")
            .claim("iss", json!(1))
            .fails_on("ERR_JWT_INVALID", "iss"),
        case("sub as object")
            .claim("sub", json!({"id": 1}))
            .fails_on("ERR_JWT_INVALID", "sub"),
        case("aud as number")
            .claim("aud", json!(7))
            .fails_on("ERR_JWT_INVALID", "aud"),
        case("aud array with a number")
            .claim("aud", json!([AUDIENCE, 7]))
            .fails_on("ERR_JWT_INVALID", "aud"),
    ]);
}

#[test]
fn issuer_audience_subject_and_required_claims() {
    check(vec![
        case("iss missing")
            .without("iss")
            .fails_on("ERR_JWT_CLAIM_VALIDATION_FAILED", "iss"),
        case("iss other")
            .claim("iss", json!("https://evil.example"))
            .fails_on("ERR_JWT_CLAIM_VALIDATION_FAILED", "iss"),
        case("aud missing")
            .without("aud")
            .fails_on("ERR_JWT_CLAIM_VALIDATION_FAILED", "aud"),
        case("aud other")
            .claim("aud", json!("other-api"))
            .fails_on("ERR_JWT_CLAIM_VALIDATION_FAILED", "aud"),
        case("aud array containing ours").claim("aud", json!(["other-api", AUDIENCE])),
        case("aud array without ours")
            .claim("aud", json!(["other-api"]))
            .fails_on("ERR_JWT_CLAIM_VALIDATION_FAILED", "aud"),
        case("expected subject").config(|b| b.expected_subject("pairwise-7f3a")),
        case("unexpected subject")
            .config(|b| b.expected_subject("someone-else"))
            .fails_on("ERR_JWT_CLAIM_VALIDATION_FAILED", "sub"),
        case("required claim present").config(|b| b.required_claim("roles")),
        case("required claim missing")
            .config(|b| b.required_claim("tenant"))
            .fails_on("ERR_JWT_CLAIM_VALIDATION_FAILED", "tenant"),
        case("any audience when dangerously allowed")
            .without("aud")
            .config(|_| {
                Verifier::builder()
                    .issuer(ISSUER)
                    .dangerous_accept_any_audience()
                    .clock(tessera_verifier::Clock::Fixed(NOW))
                    .key_set(keys().key_set())
            }),
    ]);
}

#[test]
fn issuer_and_audience_are_required_configuration() {
    let no_issuer = Verifier::builder().audience(AUDIENCE).build().unwrap_err();
    assert_eq!(no_issuer.code(), "ERR_CONFIGURATION_INVALID");
    let no_audience = Verifier::builder().issuer(ISSUER).build().unwrap_err();
    assert_eq!(no_audience.code(), "ERR_CONFIGURATION_INVALID");
    let bad_allowlist = Verifier::builder().algorithms(["HS256"]).unwrap_err();
    assert_eq!(bad_allowlist.code(), "ERR_CONFIGURATION_INVALID");
}

#[test]
fn typ_check() {
    check(vec![
        case("typ matches").config(|b| b.expected_type("JWT")),
        case("typ with application/ prefix")
            .header(json!({"alg": "ES256", "kid": "p256", "typ": "application/at+jwt"}))
            .config(|b| b.expected_type("at+jwt")),
        case("typ case-insensitive")
            .header(json!({"alg": "ES256", "kid": "p256", "typ": "AT+JWT"}))
            .config(|b| b.expected_type("application/at+jwt")),
        case("typ differs")
            .config(|b| b.expected_type("at+jwt"))
            .fails_on("ERR_JWT_CLAIM_VALIDATION_FAILED", "typ"),
        case("typ missing")
            .header(json!({"alg": "ES256", "kid": "p256"}))
            .config(|b| b.expected_type("at+jwt"))
            .fails_on("ERR_JWT_CLAIM_VALIDATION_FAILED", "typ"),
        case("typ not a string")
            .header(json!({"alg": "ES256", "kid": "p256", "typ": 1}))
            .fails("ERR_JWS_INVALID"),
    ]);
}

#[test]
fn header_extensions() {
    check(vec![
        case("crit with unknown")
            .header(json!({"alg": "ES256", "kid": "p256", "crit": ["exp"], "exp": 1}))
            .fails("ERR_JOSE_NOT_SUPPORTED"),
        case("crit empty")
            .header(json!({"alg": "ES256", "kid": "p256", "crit": []}))
            .fails("ERR_JOSE_NOT_SUPPORTED"),
        case("b64 false")
            .header(json!({"alg": "ES256", "kid": "p256", "b64": false, "crit": ["b64"]}))
            .fails("ERR_JOSE_NOT_SUPPORTED"),
        case("b64 false without crit")
            .header(json!({"alg": "ES256", "kid": "p256", "b64": false}))
            .fails("ERR_JOSE_NOT_SUPPORTED"),
        case("kid not a string")
            .header(json!({"alg": "ES256", "kid": 5}))
            .fails("ERR_JWS_INVALID"),
    ]);
}

#[test]
fn embedded_keys_never_pick_the_key() {
    // An attacker signs with their own key and offers it in `jwk`, `jku`, `x5u`
    // and `x5c`; the verifier must ignore all of them.
    let attacker = support::keys().p384.public_jwk("attacker");
    let header = json!({"alg": "ES384", "jwk": attacker, "jku": "https://evil.example/jwks",
                        "x5u": "https://evil.example/cert", "x5c": ["MIIB"]});
    // Signed with the P-384 key, which is in the set under kid p384; without a
    // kid and with exactly one P-384 key, that one is chosen: this proves the
    // header's jwk is not what verifies. Now remove p384 from the set:
    let (key, _) = keys().for_algorithm("ES384");
    let token = sign_raw(
        key,
        "ES384",
        &header.to_string(),
        &good_claims().to_string(),
    );
    let mut jwks = keys().jwks();
    jwks["keys"]
        .as_array_mut()
        .unwrap()
        .retain(|key| key["kid"] != "p384");
    let verifier = builder()
        .key_set(tessera_verifier::KeySet::from_value(jwks).unwrap())
        .build()
        .unwrap();
    assert_eq!(
        verifier.verify(&token).unwrap_err().code(),
        "ERR_JWKS_NO_MATCHING_KEY"
    );
}

#[test]
fn key_choice() {
    let mut two_p256 = keys().jwks();
    let mut copy = two_p256["keys"][1].clone();
    copy["kid"] = json!("p256-copy");
    two_p256["keys"].as_array_mut().unwrap().push(copy);
    let ambiguous = builder()
        .key_set(tessera_verifier::KeySet::from_value(two_p256).unwrap())
        .build()
        .unwrap();
    let (key, _) = keys().for_algorithm("ES256");
    let no_kid = sign_raw(
        key,
        "ES256",
        r#"{"alg":"ES256"}"#,
        &good_claims().to_string(),
    );
    assert_eq!(
        ambiguous.verify(&no_kid).unwrap_err().code(),
        "ERR_JWKS_MULTIPLE_MATCHING_KEYS"
    );
    // Exactly one P-256 key: chosen without a kid.
    assert!(builder().build().unwrap().verify(&no_kid).is_ok());
    check(vec![
        case("unknown kid")
            .header(json!({"alg": "ES256", "kid": "nope"}))
            .fails("ERR_JWKS_NO_MATCHING_KEY"),
        case("kid is exact, not a prefix")
            .header(json!({"alg": "ES256", "kid": "p25"}))
            .fails("ERR_JWKS_NO_MATCHING_KEY"),
    ]);
}

/// Key sets are read with the tokens' strict reader: a repeated member is
/// refused, wherever it is, instead of "last one wins".
#[test]
fn key_sets_are_read_strictly() {
    let p256 = keys().p256.public_jwk("p256").to_string();
    let inner = p256.trim_start_matches('{').trim_end_matches('}');
    let check = |name: &str, document: String, expected: Option<&str>| {
        let outcome = tessera_verifier::KeySet::from_json(&document);
        match expected {
            None => assert!(outcome.is_ok(), "{name}: {outcome:?}"),
            Some(text) => {
                let error = outcome.expect_err(name);
                assert_eq!(error.code(), "ERR_JWKS_INVALID", "{name}");
                assert!(error.to_string().contains(text), "{name}: {error}");
            }
        }
    };
    check("one key", format!(r#"{{"keys":[{p256}]}}"#), None);
    check(
        "two `keys` arrays, the second a decoy",
        format!(r#"{{"keys":[],"keys":[{p256}]}}"#),
        Some("duplicate member `keys`"),
    );
    check(
        "a key with two `x`",
        format!(r#"{{"keys":[{{{inner},"x":"AAAA"}}]}}"#),
        Some("duplicate member `x`"),
    );
    check(
        "a key with two `kid`",
        format!(r#"{{"keys":[{{{inner},"kid":"other"}}]}}"#),
        Some("duplicate member `kid`"),
    );
    check(
        "trailing data",
        format!(r#"{{"keys":[{p256}]}} {{}}"#),
        Some("trailing data"),
    );
    // Snapshots go through the same reader.
    let snapshot = format!(
        r#"{{"format":"tessera-jwks-snapshot/1","fetched_at":1,"fetched_at":2,"jwks":{{"keys":[{p256}]}}}}"#
    );
    let error = tessera_verifier::jwks_cache::JwksSnapshot::from_json(&snapshot).unwrap_err();
    assert!(
        error.to_string().contains("duplicate member `fetched_at`"),
        "{error}"
    );
    let error =
        tessera_verifier::jwks_cache::key_set_from_document_or_snapshot(&snapshot).unwrap_err();
    assert_eq!(error.code(), "ERR_JWKS_INVALID");
}

#[test]
fn a_callers_own_document_is_read_as_strictly_as_a_token() {
    let read = |text: &str| tessera_verifier::read_json_strictly(text, "options object");
    assert_eq!(
        read(r#"{"issuer":"a","audience":["b"]}"#).unwrap(),
        json!({"issuer": "a", "audience": ["b"]})
    );
    let duplicate = read(r#"{"remote":{"timeoutMs":1,"timeoutMs":9}}"#).unwrap_err();
    assert!(
        duplicate.starts_with("the options object has a duplicate member `timeoutMs`"),
        "{duplicate}"
    );
    assert_eq!(
        read("{} []").unwrap_err(),
        "the options object has trailing data"
    );
    assert_eq!(
        read("{").unwrap_err(),
        "the options object is not valid JSON"
    );
}

/// Several keys may share a `kid` (RFC 7517 section 4.5: keys of different
/// types as equivalent alternatives). Every key with the token's `kid` is
/// considered: the one that fits the algorithm verifies, and when several
/// fit, the token is refused rather than tried against each.
#[test]
fn duplicate_kids() {
    let named = |jwks: Vec<Value>| {
        builder()
            .key_set(tessera_verifier::KeySet::from_value(json!({ "keys": jwks })).unwrap())
            .build()
            .unwrap()
    };
    let claims = good_claims().to_string();
    let signed = |alg: &str| {
        let (key, _) = keys().for_algorithm(alg);
        sign_raw(
            key,
            alg,
            &format!(r#"{{"alg":"{alg}","kid":"shared"}}"#),
            &claims,
        )
    };
    // An RSA key and a P-256 key under one kid: each token finds its own,
    // whichever comes first in the set.
    let mixed = [
        keys().rsa.public_jwk("shared"),
        keys().p256.public_jwk("shared"),
    ];
    for order in [mixed.to_vec(), mixed.iter().rev().cloned().collect()] {
        let verifier = named(order);
        assert!(verifier.verify(&signed("ES256")).is_ok());
        assert!(verifier.verify(&signed("RS256")).is_ok());
        assert_eq!(
            verifier.verify(&signed("ES384")).unwrap_err().code(),
            "ERR_JOSE_ALG_NOT_ALLOWED"
        );
    }
    // Two keys that both fit under one kid: ambiguous, refused (even when,
    // as here, they happen to be the same key).
    let ambiguous = named(vec![
        keys().p256.public_jwk("shared"),
        keys().p256.public_jwk("shared"),
    ]);
    assert_eq!(
        ambiguous.verify(&signed("ES256")).unwrap_err().code(),
        "ERR_JWKS_MULTIPLE_MATCHING_KEYS"
    );
}

#[test]
fn unusable_keys_are_skipped() {
    let p256 = keys().p256.public_jwk("k");
    let with = |extra: Value| {
        let mut jwk = p256.clone();
        for (name, value) in extra.as_object().unwrap() {
            jwk[name] = value.clone();
        }
        tessera_verifier::KeySet::from_value(json!({ "keys": [jwk] })).unwrap()
    };
    assert_eq!(with(json!({"use": "sig"})).keys().len(), 1);
    assert_eq!(with(json!({"use": "enc"})).keys().len(), 0);
    assert_eq!(with(json!({"key_ops": ["verify"]})).keys().len(), 1);
    assert_eq!(with(json!({"key_ops": ["sign"]})).keys().len(), 0);
    assert_eq!(with(json!({"alg": "ES384"})).keys().len(), 0);
    assert_eq!(with(json!({"alg": "HS256"})).keys().len(), 0);
    assert_eq!(with(json!({"crv": "P-384"})).keys().len(), 0);
    // Members of the wrong type make the key unusable; `null` is absent.
    assert_eq!(with(json!({"use": null, "alg": null})).keys().len(), 1);
    for wrong in [
        json!({"kid": 7}),
        json!({"use": ["sig"]}),
        json!({"key_ops": "verify"}),
        json!({"key_ops": ["verify", 1]}),
        json!({"alg": false}),
        json!({"x": 1.5}),
        json!({"kty": null}),
    ] {
        let set = with(wrong.clone());
        assert_eq!(set.keys().len(), 0, "{wrong}");
        assert_eq!(
            set.skipped()[0].reason,
            "the key is not a valid JWK",
            "{wrong}"
        );
    }
    // A symmetric key and a short RSA modulus are skipped with a reason.
    let odd = tessera_verifier::KeySet::from_value(json!({"keys": [
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
        {"kty": "RSA", "kid": "short", "e": "AQAB", "n": b64([0xc3u8; 128])},
        {"kty": "EC", "crv": "secp256k1", "kid": "k1", "x": b64([1u8; 32]), "y": b64([2u8; 32])},
    ]}))
    .unwrap();
    assert!(odd.keys().is_empty());
    let reasons: Vec<_> = odd.skipped().iter().map(|s| s.reason).collect();
    assert!(reasons[0].contains("symmetric"), "{reasons:?}");
    assert!(reasons[1].contains("2048"), "{reasons:?}");
    assert_eq!(odd.skipped().len(), 3);
    assert_eq!(
        tessera_verifier::KeySet::from_json("[]")
            .unwrap_err()
            .code(),
        "ERR_JWKS_INVALID"
    );
}

#[test]
fn ecdsa_signatures_must_be_raw_fixed_length() {
    let (key, _) = keys().for_algorithm("ES256");
    let good = sign_raw(
        key,
        "ES256",
        r#"{"alg":"ES256","kid":"p256"}"#,
        &good_claims().to_string(),
    );
    let (input, signature) = good.rsplit_once('.').unwrap();
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap();
    // DER: SEQUENCE { INTEGER r, INTEGER s } with positive-sign padding.
    let integer = |bytes: &[u8]| {
        let mut out = vec![0x02, 33, 0x00];
        out.extend_from_slice(bytes);
        out
    };
    let mut body = integer(&raw[..32]);
    body.extend(integer(&raw[32..]));
    let mut der = vec![0x30, body.len() as u8];
    der.extend(body);
    let verifier = builder().build().unwrap();
    let der_token = format!("{input}.{}", b64(&der));
    assert_eq!(
        verifier.verify(&der_token).unwrap_err().code(),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
    );
    let padded = format!("{input}.{}", b64([&raw[..], &[0]].concat()));
    assert_eq!(
        verifier.verify(&padded).unwrap_err().code(),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
    );
    assert!(verifier.verify(&good).is_ok());
}

#[test]
fn compact_form_is_strict() {
    let verifier = builder().build().unwrap();
    let good = support::token("ES256", &good_claims());
    let (header, rest) = good.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let code = |token: &str| verifier.verify(token).map(|_| ()).map_err(|e| e.code());
    assert_eq!(code(&good), Ok(()));
    for (name, token) in [
        ("two segments", format!("{header}.{payload}")),
        ("four segments", format!("{good}.x")),
        ("padding", format!("{header}=.{payload}.{signature}")),
        ("whitespace", format!("{header}.{payload} .{signature}")),
        ("line break", format!("{header}.\n{payload}.{signature}")),
        (
            "standard alphabet +",
            format!("{header}.{payload}.+{}", &signature[1..]),
        ),
        (
            "standard alphabet /",
            format!("{header}.{payload}./{}", &signature[1..]),
        ),
        ("empty signature", format!("{header}.{payload}.")),
        (
            "JSON serialization",
            json!({"payload": payload, "protected": header, "signature": signature}).to_string(),
        ),
    ] {
        assert_eq!(code(&token), Err("ERR_JWS_INVALID"), "{name}");
    }
    // Non-canonical trailing bits in the last character.
    let mut tweaked = signature.to_owned();
    let last = tweaked.pop().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.find(last).unwrap();
    tweaked.push(alphabet.as_bytes()[index ^ 1] as char);
    assert!(code(&format!("{header}.{payload}.{tweaked}")).is_err());
}

#[test]
fn duplicate_members_are_rejected() {
    let claims = good_claims().to_string();
    let duplicate_claim = claims.replacen('{', r#"{"sub":"admin","#, 1);
    let (key, _) = keys().for_algorithm("ES256");
    let verifier = builder().build().unwrap();
    let dup_header = sign_raw(
        key,
        "ES256",
        r#"{"alg":"ES256","kid":"p256","kid":"rsa"}"#,
        &claims,
    );
    let error = verifier.verify(&dup_header).unwrap_err();
    assert_eq!(error.code(), "ERR_JWS_INVALID");
    assert!(
        error.to_string().contains("duplicate member `kid`"),
        "{error}"
    );
    let dup_payload = sign_raw(
        key,
        "ES256",
        r#"{"alg":"ES256","kid":"p256"}"#,
        &duplicate_claim,
    );
    assert_eq!(
        verifier.verify(&dup_payload).unwrap_err().code(),
        "ERR_JWS_INVALID"
    );
    let nested = claims.replacen('{', r#"{"cnf":{"a":1,"a":2},"#, 1);
    let dup_nested = sign_raw(key, "ES256", r#"{"alg":"ES256","kid":"p256"}"#, &nested);
    assert_eq!(
        verifier.verify(&dup_nested).unwrap_err().code(),
        "ERR_JWS_INVALID"
    );
    let not_object = sign_raw(key, "ES256", r#"{"alg":"ES256","kid":"p256"}"#, "[1,2]");
    assert_eq!(
        verifier.verify(&not_object).unwrap_err().code(),
        "ERR_JWS_INVALID"
    );
}

#[test]
fn size_limit_comes_before_decoding() {
    let verifier = builder().build().unwrap();
    let huge = "a".repeat(16 * 1024 + 1);
    let error = verifier.verify(&huge).unwrap_err();
    assert_eq!(error.code(), "ERR_JWT_TOO_LARGE");
    let padded = good_claims();
    let mut big = padded.clone();
    big["pad"] = json!("x".repeat(3000));
    let token = support::token("ES256", &big);
    let small = builder().max_token_bytes(1024).build().unwrap();
    assert_eq!(
        small.verify(&token).unwrap_err().code(),
        "ERR_JWT_TOO_LARGE"
    );
    assert!(verifier.verify(&token).is_ok());
}

/// Every end-user claim of OpenID Connect Core 1.0 section 5.1 except `sub`
/// and the `*_verified` booleans is personal data.
#[test]
fn personal_data_is_every_core_end_user_claim() {
    const CORE_5_1: [&str; 20] = [
        "sub",
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "email",
        "email_verified",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "phone_number",
        "phone_number_verified",
        "address",
        "updated_at",
    ];
    let mut expected: Vec<&str> = CORE_5_1
        .into_iter()
        .filter(|name| *name != "sub" && !name.ends_with("_verified"))
        .collect();
    let mut listed = tessera_verifier::PERSONAL_DATA_CLAIMS.to_vec();
    expected.sort_unstable();
    listed.sort_unstable();
    assert_eq!(listed, expected);
}

#[test]
fn personal_data_guard() {
    let reject = |b: VerifierBuilder| b.personal_data(PersonalData::Reject);
    let mut cases = vec![
        case("pseudonymous token passes").config(reject),
        case("verified booleans pass")
            .claim("email_verified", json!(true))
            .claim("phone_number_verified", json!(false))
            .claim("scope", json!("openid orders"))
            .config(reject),
        case("PII allowed by default").claim("email", json!("ann@example.com")),
    ];
    for name in tessera_verifier::PERSONAL_DATA_CLAIMS {
        let mut c = case("personal claim")
            .claim(name, json!("x"))
            .config(reject);
        c.expect = Expect::ErrorOnClaim("ERR_JWT_PERSONAL_DATA", name);
        cases.push(c);
    }
    check(cases);
}

#[test]
fn signature_must_match() {
    let verifier = builder().build().unwrap();
    for alg in ["RS256", "PS384", "ES256", "ES384", "EdDSA"] {
        let good = support::token(alg, &good_claims());
        assert!(verifier.verify(&good).is_ok(), "{alg}");
        // Swap the payload for another one: the signature no longer covers it.
        let (header, rest) = good.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let mut other = good_claims();
        other["sub"] = json!("admin");
        let forged = format!("{header}.{}.{signature}", b64(other.to_string()));
        assert_eq!(
            verifier.verify(&forged).unwrap_err().code(),
            "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
            "{alg}"
        );
    }
}

#[test]
fn errors_carry_no_token_content() {
    let verifier = builder().build().unwrap();
    let mut claims = good_claims();
    claims["exp"] = json!(NOW - 1);
    claims["email"] = json!("ann@example.com");
    let error = verifier
        .verify(&support::token("ES256", &claims))
        .unwrap_err();
    assert!(!error.to_string().contains("ann@"), "{error}");
    let passport = verifier.verify(&support::token("ES256", &json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "s", "exp": NOW + 5, "email": "ann@example.com"
    }))).unwrap();
    let debug = format!("{passport:?}");
    assert!(
        !debug.contains("ann@") && debug.contains("email"),
        "{debug}"
    );
    // A hostile kid is shortened and stripped of control characters.
    let (key, _) = keys().for_algorithm("ES256");
    let kid = format!("evil\n{}", "k".repeat(500));
    let token = sign_raw(
        key,
        "ES256",
        &json!({"alg": "ES256", "kid": kid}).to_string(),
        &good_claims().to_string(),
    );
    let message = verifier.verify(&token).unwrap_err().to_string();
    assert!(!message.contains('\n') && message.len() < 200, "{message}");
}

/// The behavioural cases shared with the WASM package's Node tests
/// (`verifier/tests/cases.json`), so both surfaces are held to the same verdicts.
#[test]
fn shared_cases() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases.json");
    let suite: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(suite["now"], json!(NOW));
    let mut failures = Vec::new();
    let cases = suite["cases"].as_array().unwrap();
    for case in cases {
        let alg = case["alg"].as_str().unwrap();
        let (key, _) = keys().for_algorithm(alg);
        let token = sign_raw(
            key,
            alg,
            &case["header"].to_string(),
            &case["claims"].to_string(),
        );
        let mut verifier = builder();
        let options = &case["options"];
        if let Some(names) = options["algorithms"].as_array() {
            verifier = verifier
                .algorithms(names.iter().map(|n| n.as_str().unwrap()))
                .unwrap();
        }
        if let Some(seconds) = options["clockTolerance"].as_u64() {
            verifier = verifier.clock_tolerance_seconds(seconds);
        }
        if let Some(seconds) = options["maxTokenAge"].as_u64() {
            verifier = verifier.max_token_age_seconds(seconds);
        }
        if let Some(media_type) = options["typ"].as_str() {
            verifier = verifier.expected_type(media_type);
        }
        if let Some(subject) = options["subject"].as_str() {
            verifier = verifier.expected_subject(subject);
        }
        for claim in options["requiredClaims"].as_array().into_iter().flatten() {
            verifier = verifier.required_claim(claim.as_str().unwrap());
        }
        if options["rejectPii"] == json!(true) {
            verifier = verifier.personal_data(PersonalData::Reject);
        }
        if let Some(bytes) = options["maxTokenBytes"].as_u64() {
            verifier = verifier.max_token_bytes(bytes as usize);
        }
        let outcome = verifier.build().unwrap().verify(&token);
        let expect = &case["expect"];
        let good = match &outcome {
            Ok(passport) => {
                expect["ok"] == json!(true) && passport.subject() == case["claims"]["sub"].as_str()
            }
            Err(error) => {
                expect["code"].as_str() == Some(error.code())
                    && expect["claim"].as_str() == error.claim()
            }
        };
        if !good {
            failures.push(format!(
                "{}: got {:?}",
                case["name"],
                outcome.map_err(|e| e.code())
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(cases.len() >= 40, "only {} shared cases", cases.len());
}

/// A passport's JSON text is the signed header and payload as they were
/// written (the issuer's member order, spacing and number spelling), and
/// reads back as the same claims.
#[test]
fn passport_text_is_the_signed_json_verbatim() {
    let (key, kid) = keys().for_algorithm("ES256");
    let header = format!(r#"{{"typ":"JWT", "kid":"{kid}","alg":"ES256"}}"#);
    let payload = format!(
        r#"{{"sub":"pairwise-7f3a","iss":"{ISSUER}","exp":{},"aud":"{AUDIENCE}","n":1.50,"e":"caf\u00e9 \"q\""}}"#,
        NOW + 300
    );
    let token = sign_raw(key, "ES256", &header, &payload);
    let passport = builder().build().unwrap().verify(&token).unwrap();
    let text = passport.to_json_text();
    assert_eq!(text, format!(r#"{{"header":{header},"claims":{payload}}}"#));
    let read: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(read, passport.to_json());
    assert_eq!(read["claims"]["e"], "café \"q\"");
}
