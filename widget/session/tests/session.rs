//! The session module's ID-token check and its JSON interface, in headless
//! Chromium (`wasm-bindgen-test`): tokens are signed in the test with a
//! fresh WebCrypto ES256 key, so every case runs the real signature check,
//! and each case names the claims it changes and the answer it expects.
//! A renewal adopts what the first module heard other tabs announce. (The
//! code exchange and the rotation run end to end in
//! `tests/widget.test.mjs`; the rotation's lock and cross-tab answers have
//! unit tests in `src/rotation.rs`.)

#![cfg(target_arch = "wasm32")]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tessera_widget_session::{IdTokenRequest, check, complete_sign_in_json, refresh_session_json};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const ISSUER: &str = "https://idp.example.test";
const CLIENT_ID: &str = "shop-widget";
const NONCE: &str = "nonce-of-this-sign-in";

fn subtle() -> web_sys::SubtleCrypto {
    web_sys::window()
        .expect("a window")
        .crypto()
        .expect("WebCrypto")
        .subtle()
}

fn object(value: &Value) -> js_sys::Object {
    js_sys::JSON::parse(&value.to_string())
        .expect("JSON")
        .unchecked_into()
}

async fn resolved(promise: Result<js_sys::Promise, JsValue>) -> JsValue {
    JsFuture::from(promise.expect("a promise"))
        .await
        .expect("resolved")
}

/// A fresh P-256 key pair: the signing key and the public JWK (with a kid).
async fn key_pair() -> (web_sys::CryptoKey, Value) {
    let usages = js_sys::Array::of2(&"sign".into(), &"verify".into());
    let pair = resolved(subtle().generate_key_with_object(
        &object(&json!({"name": "ECDSA", "namedCurve": "P-256"})),
        true,
        &usages,
    ))
    .await;
    let key = |name: &str| -> web_sys::CryptoKey {
        js_sys::Reflect::get(&pair, &name.into())
            .expect("a key")
            .unchecked_into()
    };
    let exported = resolved(subtle().export_key("jwk", &key("publicKey"))).await;
    let mut jwk: Value = serde_json::from_str(
        &js_sys::JSON::stringify(&exported)
            .expect("a JWK")
            .as_string()
            .expect("text"),
    )
    .expect("JSON");
    jwk["kid"] = json!("test-key");
    jwk["alg"] = json!("ES256");
    jwk["use"] = json!("sig");
    for private_or_usage in ["d", "key_ops", "ext"] {
        jwk.as_object_mut()
            .expect("an object")
            .remove(private_or_usage);
    }
    (key("privateKey"), jwk)
}

async fn signed(key: &web_sys::CryptoKey, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD
        .encode(json!({"alg": "ES256", "kid": "test-key", "typ": "JWT"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{payload}");
    let signature = resolved(subtle().sign_with_object_and_u8_array(
        &object(&json!({"name": "ECDSA", "hash": "SHA-256"})),
        key,
        input.as_bytes(),
    ))
    .await;
    let signature = js_sys::Uint8Array::new(&signature).to_vec();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

fn good_claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "pseudonymous-subject",
        "nonce": NONCE,
        "iat": now(),
        "exp": now() + 300,
        "tier": "gold",
        // What Keycloak's defaults and other IdPs put in an ID token: every
        // end-user claim of OpenID Connect Core 1.0 section 5.1.
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "middle_name": "King",
        "nickname": "ada",
        "preferred_username": "ada.lovelace",
        "profile": "https://id.example/ada",
        "picture": "https://id.example/ada.png",
        "website": "https://ada.example",
        "email": "ada@example.test",
        "email_verified": true,
        "gender": "female",
        "birthdate": "1815-12-10",
        "zoneinfo": "Europe/London",
        "locale": "en-GB",
        "phone_number": "+44 20 7946 0000",
        "phone_number_verified": false,
        "address": {"country": "GB"},
        "updated_at": 1_800_000_000,
    })
}

/// Signs `claims` (good ones changed by `change`), asks [`check`] with the
/// request changed by `adjust`, and compares its answer, as the JSON the
/// first module reads, with `expected`.
async fn check_case(
    change: impl FnOnce(&mut Value),
    adjust: impl FnOnce(&mut Value),
    expected: impl FnOnce(&Value),
) {
    let (key, jwk) = key_pair().await;
    let mut claims = good_claims();
    change(&mut claims);
    let mut request = json!({
        "id_token": signed(&key, &claims).await,
        "jwks": json!({"keys": [jwk]}).to_string(),
        "issuer": ISSUER,
        "client_id": CLIENT_ID,
        "nonce": NONCE,
    });
    adjust(&mut request);
    let request: IdTokenRequest = serde_json::from_value(request).expect("a well-formed request");
    let answer = match check(request).await {
        Ok(checked) => json!({ "checked": checked }),
        Err(refused) => json!({ "refused": refused }),
    };
    expected(&answer);
}

fn refused_as(kind: &'static str, message_part: &'static str) -> impl FnOnce(&Value) {
    move |answer: &Value| {
        assert_eq!(answer["refused"]["kind"], kind, "{answer}");
        let message = answer["refused"]["message"].as_str().expect("a message");
        assert!(message.contains(message_part), "{message}");
        assert!(answer.get("checked").is_none());
    }
}

#[wasm_bindgen_test]
async fn a_good_token_comes_back_without_personal_data_or_nonce() {
    check_case(
        |_| {},
        |_| {},
        |answer| {
            let checked = &answer["checked"];
            assert_eq!(checked["subject"], "pseudonymous-subject");
            assert_eq!(checked["claims"]["tier"], "gold");
            assert!(checked["expires_at"].as_f64().expect("exp") > now() as f64);
            let mut kept: Vec<&String> = checked["claims"]
                .as_object()
                .expect("claims")
                .keys()
                .collect();
            kept.sort_unstable();
            // Only what a zero-knowledge shop may see is left.
            assert_eq!(
                kept,
                [
                    "aud",
                    "email_verified",
                    "exp",
                    "iat",
                    "iss",
                    "phone_number_verified",
                    "sub",
                    "tier"
                ],
                "{checked}"
            );
        },
    )
    .await;
}

#[wasm_bindgen_test]
async fn another_sign_ins_nonce_is_refused() {
    check_case(
        |claims| claims["nonce"] = json!("someone-elses"),
        |_| {},
        refused_as("invalid_token", "nonce"),
    )
    .await;
}

#[wasm_bindgen_test]
async fn an_expired_token_is_said_to_be_a_clock_problem() {
    check_case(
        |claims| claims["exp"] = json!(now() - 3600),
        |_| {},
        refused_as("clock_skew", "expired"),
    )
    .await;
}

#[wasm_bindgen_test]
async fn a_token_for_another_client_is_refused() {
    check_case(
        |claims| claims["aud"] = json!("another-shop"),
        |_| {},
        refused_as("invalid_token", "aud"),
    )
    .await;
}

#[wasm_bindgen_test]
async fn a_token_from_another_issuer_is_refused() {
    check_case(
        |claims| claims["iss"] = json!("https://elsewhere.example.test"),
        |_| {},
        refused_as("invalid_token", "iss"),
    )
    .await;
}

#[wasm_bindgen_test]
async fn a_token_signed_by_a_key_outside_the_key_set_is_refused() {
    let (_, other_jwk) = key_pair().await;
    check_case(
        |_| {},
        move |request| request["jwks"] = json!(json!({"keys": [other_jwk]}).to_string()),
        refused_as("invalid_token", "signature"),
    )
    .await;
}

#[wasm_bindgen_test]
async fn requests_of_the_wrong_shape_are_answered_not_thrown() {
    for answer in [
        complete_sign_in_json("{\"code\": 42}".into()).await,
        refresh_session_json("not JSON".into()).await,
    ] {
        let answer: Value = serde_json::from_str(&answer).expect("JSON");
        assert_eq!(answer["refused"]["kind"], "configuration", "{answer}");
        assert!(
            answer["refused"]["message"]
                .as_str()
                .is_some_and(|message| message.contains("asked wrongly")),
            "{answer}"
        );
    }
}

#[wasm_bindgen_test]
async fn a_token_endpoint_that_cannot_be_reached_is_said() {
    let request = json!({
        "token_endpoint": "http://127.0.0.1:9/token",
        "jwks_uri": "http://127.0.0.1:9/jwks",
        "issuer": ISSUER,
        "client_id": CLIENT_ID,
        "code": "code",
        "redirect_uri": "https://shop.example.test/",
        "verifier": "verifier",
        "nonce": NONCE,
    });
    let answer: Value =
        serde_json::from_str(&complete_sign_in_json(request.to_string()).await).expect("JSON");
    assert_eq!(answer["refused"]["kind"], "idp_unavailable", "{answer}");
}

fn session(access_token: &str, refresh_token: &str) -> Value {
    json!({
        "id_token": "header.payload.signature",
        "access_token": access_token,
        "subject": "pseudonymous-subject",
        "claims": {},
        "expires_at": 4_000_000_000.0,
        "refresh_token": refresh_token,
    })
}

/// A renewal request as the first module sends it, for a shared session
/// holding `refresh_token`, whose token endpoint is a closed loopback port:
/// only a rotation the request carries can make it succeed. `heard` are
/// rotations of the named old refresh tokens to the given access tokens,
/// sealed as other tabs seal them.
async fn renewal_request(refresh_token: &str, heard: &[(&str, &str)]) -> String {
    let tenant = format!("integration-{refresh_token}");
    let mut announcements = Vec::new();
    for (old_token, access_token) in heard {
        let rotated: tessera_widget_session::Session =
            serde_json::from_value(session(access_token, "rotated-refresh")).expect("a session");
        let old = fingerprint(old_token);
        let sealed = tessera_widget_session::seal::seal(&tenant, old_token, &old, &rotated)
            .await
            .expect("sealed");
        announcements.push(json!({ "old": old, "sealed": sealed }).to_string());
    }
    json!({
        "tenant": tenant,
        "token_endpoint": "http://127.0.0.1:9/token",
        "client_id": CLIENT_ID,
        "session": session("current-access", refresh_token),
        "shared": true,
        "heard": announcements,
    })
    .to_string()
}

/// The fingerprint other tabs name a refresh token by: the first 16 bytes
/// of its SHA-256, in hex.
fn fingerprint(token: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(token.as_bytes())[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[wasm_bindgen_test]
async fn a_rotation_the_first_module_heard_is_adopted_without_spending_the_token() {
    let heard = [("refresh-heard", "access-from-the-other-tab")];
    let request = renewal_request("refresh-heard", &heard).await;
    let answer: Value = serde_json::from_str(&refresh_session_json(request).await).expect("JSON");
    assert_eq!(
        answer["session"]["access_token"], "access-from-the-other-tab",
        "{answer}"
    );
    assert_eq!(
        answer["session"]["refresh_token"], "rotated-refresh",
        "{answer}"
    );

    // A rotation of another token does not count: the same request then
    // goes to the token endpoint, which cannot be reached.
    let unrelated = [("some-other-token", "access-from-the-other-tab")];
    let request = renewal_request("refresh-not-heard", &unrelated).await;
    let answer: Value = serde_json::from_str(&refresh_session_json(request).await).expect("JSON");
    assert_eq!(answer["refused"]["kind"], "idp_unavailable", "{answer}");
}

#[wasm_bindgen_test]
async fn something_heard_that_is_not_a_session_is_skipped_not_fatal() {
    // What another script of the origin posted on the channel: not a
    // sealed announcement, or a whole session in the clear (which any
    // listener could have made up). The renewal goes on to the token
    // endpoint (unreachable here) instead of being refused as a malformed
    // request, or adopting what it was told.
    let mut request: Value =
        serde_json::from_str(&renewal_request("refresh-garbage-heard", &[]).await).expect("JSON");
    let old = fingerprint("refresh-garbage-heard");
    request["heard"] = json!([
        json!({ "old": old, "session": { "access_token": 7 } }).to_string(),
        json!({ "old": old, "session": session("made-up", "made-up") }).to_string(),
        json!({ "old": old, "sealed": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }).to_string(),
        "not JSON",
    ]);
    let answer: Value =
        serde_json::from_str(&refresh_session_json(request.to_string()).await).expect("JSON");
    assert_eq!(answer["refused"]["kind"], "idp_unavailable", "{answer}");
}
