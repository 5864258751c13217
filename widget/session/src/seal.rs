//! Sealing a rotation for the tabs that hold the refresh token it replaced,
//! and for no one else.
//!
//! Any script of the shop's origin can open the tenant's rotation channel
//! and read or post what goes over it. So an announcement carries the new
//! session sealed (AES-256-GCM through WebCrypto) under a key only a holder
//! of the *old* refresh token can derive (HKDF-SHA-256 of the old token,
//! named after the tenant), and bound to the old token's fingerprint as
//! additional data. A listener without the old token reads nothing and can
//! forge nothing; one that has it could already have spent it, so the
//! channel gives nobody more than they had.
//!
//! What it is not: the adoption rule. An opened announcement is still only
//! adopted for the same sign-in (see `rotation`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::Session;

/// The AES-GCM nonce length WebCrypto and NIST SP 800-38D recommend.
const IV_BYTES: usize = 12;

fn subtle() -> Option<web_sys::SubtleCrypto> {
    let crypto: web_sys::Crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
        .ok()
        .filter(|crypto| crypto.is_object())?
        .unchecked_into();
    Some(crypto.subtle())
}

async fn resolved(promise: Result<js_sys::Promise, JsValue>) -> Option<JsValue> {
    JsFuture::from(promise.ok()?).await.ok()
}

/// The sealing key of the rotation that replaced `refresh_token`.
async fn key(
    subtle: &web_sys::SubtleCrypto,
    tenant: &str,
    refresh_token: &str,
) -> Option<web_sys::CryptoKey> {
    let secret = js_sys::Uint8Array::from(refresh_token.as_bytes());
    let base: web_sys::CryptoKey = resolved(subtle.import_key_with_str(
        "raw",
        &secret,
        "HKDF",
        false,
        &js_sys::Array::of1(&"deriveKey".into()),
    ))
    .await?
    .unchecked_into();
    let info = js_sys::Uint8Array::from(format!("tessera rotation v1 {tenant}").as_bytes());
    let salt = js_sys::Uint8Array::new_with_length(0);
    let hkdf = web_sys::HkdfParams::new_with_str("HKDF", "SHA-256", &info, &salt);
    let aes = web_sys::AesDerivedKeyParams::new("AES-GCM", 256);
    Some(
        resolved(subtle.derive_key_with_object_and_object(
            &hkdf,
            &base,
            &aes,
            false,
            &js_sys::Array::of2(&"encrypt".into(), &"decrypt".into()),
        ))
        .await?
        .unchecked_into(),
    )
}

fn parameters(iv: &[u8], old: &str) -> web_sys::AesGcmParams {
    let parameters = web_sys::AesGcmParams::new("AES-GCM", &js_sys::Uint8Array::from(iv));
    parameters.set_additional_data(&js_sys::Uint8Array::from(old.as_bytes()));
    parameters
}

/// `session` sealed for the holders of `refresh_token`, whose fingerprint
/// is `old`: base64url of the IV and the ciphertext. `None` when the
/// browser has no WebCrypto (then nothing is announced).
pub async fn seal(
    tenant: &str,
    refresh_token: &str,
    old: &str,
    session: &Session,
) -> Option<String> {
    let subtle = subtle()?;
    let key = key(&subtle, tenant, refresh_token).await?;
    let mut iv = [0_u8; IV_BYTES];
    getrandom::getrandom(&mut iv).ok()?;
    let plaintext = serde_json::to_vec(session).ok()?;
    let ciphertext =
        resolved(subtle.encrypt_with_object_and_u8_array(&parameters(&iv, old), &key, &plaintext))
            .await?;
    let mut sealed = iv.to_vec();
    sealed.extend(js_sys::Uint8Array::new(&ciphertext).to_vec());
    Some(URL_SAFE_NO_PAD.encode(sealed))
}

/// The session in `sealed`, when it was sealed for the holders of
/// `refresh_token` under the fingerprint `old`; `None` for anything else
/// (another key, another fingerprint, altered bytes, not a session).
pub async fn open(tenant: &str, refresh_token: &str, old: &str, sealed: &str) -> Option<Session> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    let (iv, ciphertext) = bytes.split_at_checked(IV_BYTES)?;
    let subtle = subtle()?;
    let key = key(&subtle, tenant, refresh_token).await?;
    let plaintext =
        resolved(subtle.decrypt_with_object_and_u8_array(&parameters(iv, old), &key, ciphertext))
            .await?;
    serde_json::from_slice(&js_sys::Uint8Array::new(&plaintext).to_vec()).ok()
}
