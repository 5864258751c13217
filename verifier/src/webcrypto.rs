//! WebCrypto (`crypto.subtle`) as a [`SignatureEngine`], for browsers,
//! Workers and any host that has it: the WASM package and the widget both
//! check signatures this way, because the host's native code is several times
//! faster than signature arithmetic compiled to wasm32. Imported keys are
//! cached per key set. It is compute, not I/O: nothing leaves the host.

use std::cell::RefCell;

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

use crate::error::VerifyError;
use crate::keys::VerificationKey;
use crate::verifier::{SignatureEngine, SignatureInput};
use jsonwebtoken::Algorithm;

fn configuration_error(reason: impl Into<String>) -> VerifyError {
    VerifyError::InvalidConfiguration {
        reason: reason.into(),
    }
}

/// A plain JavaScript object with these members, built member by member:
/// WebCrypto's parameter dictionaries, a public JWK, and the npm package's
/// errors, with no JSON text in between. Names are set as properties, so a
/// name `__proto__` would set the prototype: pass only known names.
pub fn js_object<'a>(members: impl IntoIterator<Item = (&'a str, JsValue)>) -> Object {
    let object = Object::new();
    for (name, value) in members {
        // Setting a member of a plain new object cannot throw.
        let _ = Reflect::set(&object, &JsValue::from_str(name), &value);
    }
    object
}

/// A key's public JWK ([`crate::VerificationKey::public_jwk_members`]) as
/// the JavaScript object WebCrypto imports.
pub fn jwk_object(members: &[(&'static str, String)]) -> Object {
    js_object(
        members
            .iter()
            .map(|(name, value)| (*name, JsValue::from_str(value))),
    )
}

fn subtle_crypto() -> Result<SubtleCrypto, VerifyError> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).unwrap_or(JsValue::UNDEFINED);
    let subtle = Reflect::get(&crypto, &"subtle".into()).unwrap_or(JsValue::UNDEFINED);
    if subtle.is_undefined() || subtle.is_null() {
        return Err(configuration_error(
            "WebCrypto (crypto.subtle) is not available; browsers offer it only in secure contexts (https or localhost)",
        ));
    }
    Ok(subtle.unchecked_into())
}

/// Keys a host imported, by key set generation, key index and algorithm:
/// the keys of one key set, so a handful, looked up by a scan. A `Vec`
/// rather than a `HashMap`, whose hashing would be most of the cost here and
/// adds kilobytes to the npm package.
pub struct ImportedKeys<V> {
    entries: RefCell<Vec<(KeyId, V)>>,
}

/// Which key was imported: key set generation, key index, algorithm.
pub type KeyId = (u64, usize, Algorithm);

impl<V: Clone> ImportedKeys<V> {
    /// An empty cache.
    pub fn new() -> ImportedKeys<V> {
        ImportedKeys {
            entries: RefCell::new(Vec::new()),
        }
    }

    /// The key imported for `id`, if any.
    pub fn get(&self, id: KeyId) -> Option<V> {
        self.entries
            .borrow()
            .iter()
            .find(|(key, _)| *key == id)
            .map(|(_, value)| value.clone())
    }

    /// Keeps `value` for `id`, and forgets the keys of older key sets: they
    /// are never asked for again.
    pub fn insert(&self, id: KeyId, value: V) {
        let mut entries = self.entries.borrow_mut();
        entries.retain(|((generation, _, _), _)| *generation == id.0);
        entries.push((id, value));
    }
}

impl<V: Clone> Default for ImportedKeys<V> {
    fn default() -> Self {
        ImportedKeys::new()
    }
}

/// WebCrypto as a [`SignatureEngine`], with imported keys cached.
pub struct WebCrypto {
    subtle: SubtleCrypto,
    imported: ImportedKeys<CryptoKey>,
    // The verify parameter objects, built once per algorithm.
    verify_parameters: RefCell<Vec<(Algorithm, Object)>>,
}

fn hash_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::RS384 | Algorithm::PS384 | Algorithm::ES384 => "SHA-384",
        Algorithm::RS512 | Algorithm::PS512 => "SHA-512",
        _ => "SHA-256",
    }
}

/// WebCrypto's parameters for the import and verify steps of one JWS
/// algorithm.
fn webcrypto_parameters(algorithm: Algorithm) -> (Object, Object) {
    let hash = hash_name(algorithm);
    let named = |name: &str, member: &'static str, value: JsValue| {
        js_object([("name", JsValue::from_str(name)), (member, value)])
    };
    let name_only = |name: &str| js_object([("name", JsValue::from_str(name))]);
    match algorithm {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => (
            named("RSASSA-PKCS1-v1_5", "hash", hash.into()),
            name_only("RSASSA-PKCS1-v1_5"),
        ),
        Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512 => {
            // RFC 7518 section 3.5: the salt is as long as the hash output.
            let salt_length: u32 = match hash {
                "SHA-384" => 48,
                "SHA-512" => 64,
                _ => 32,
            };
            (
                named("RSA-PSS", "hash", hash.into()),
                named("RSA-PSS", "saltLength", salt_length.into()),
            )
        }
        Algorithm::ES256 => (
            named("ECDSA", "namedCurve", "P-256".into()),
            named("ECDSA", "hash", "SHA-256".into()),
        ),
        Algorithm::ES384 => (
            named("ECDSA", "namedCurve", "P-384".into()),
            named("ECDSA", "hash", "SHA-384".into()),
        ),
        _ => (name_only("Ed25519"), name_only("Ed25519")),
    }
}

impl WebCrypto {
    /// The host's WebCrypto, or an error saying why it is missing.
    pub fn new() -> Result<WebCrypto, VerifyError> {
        Ok(WebCrypto {
            subtle: subtle_crypto()?,
            imported: ImportedKeys::new(),
            verify_parameters: RefCell::new(Vec::new()),
        })
    }

    async fn import(
        &self,
        key: &VerificationKey,
        cache_key: KeyId,
    ) -> Result<CryptoKey, VerifyError> {
        if let Some(imported) = self.imported.get(cache_key) {
            return Ok(imported);
        }
        let imported: CryptoKey = JsFuture::from(self.start_import(key, cache_key.2)?)
            .await
            .map_err(|_| import_refused())?
            .unchecked_into();
        self.install(cache_key, imported.clone());
        Ok(imported)
    }

    /// Starts importing `key` for `algorithm`, for a host that awaits the
    /// promise itself and hands the key to [`WebCrypto::install`]. The
    /// promise rejects when the runtime cannot import the key
    /// ([`import_refused`] says so).
    pub fn start_import(
        &self,
        key: &VerificationKey,
        algorithm: Algorithm,
    ) -> Result<Promise, VerifyError> {
        let (import_parameters, _) = webcrypto_parameters(algorithm);
        let usages = js_sys::Array::of1(&"verify".into());
        self.subtle
            .import_key_with_object(
                "jwk",
                &jwk_object(key.public_jwk_members()),
                &import_parameters,
                false,
                &usages,
            )
            .map_err(|_| import_refused())
    }

    /// Keeps a key [`WebCrypto::start_import`] imported, for the checks of
    /// its key set.
    pub fn install(&self, id: KeyId, key: CryptoKey) {
        self.imported.insert(id, key);
    }
}

/// The error for a key the runtime's WebCrypto would not import.
pub fn import_refused() -> VerifyError {
    configuration_error(
        "this runtime's WebCrypto cannot import the key (Ed25519 needs a recent runtime)",
    )
}

impl SignatureEngine for WebCrypto {
    async fn verify_signature(
        &self,
        key: &VerificationKey,
        key_set_generation: u64,
        key_index: usize,
        algorithm: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, VerifyError> {
        let imported = self
            .import(key, (key_set_generation, key_index, algorithm))
            .await?;
        let promise = self.verify_promise(&imported, algorithm, message, signature)?;
        let outcome = JsFuture::from(promise)
            .await
            .map_err(|_| VerifyError::SignatureInvalid)?;
        Ok(outcome.as_bool() == Some(true))
    }
}

impl WebCrypto {
    /// Starts `crypto.subtle.verify` at once when the key was imported
    /// before, for a host that awaits the promise itself (see
    /// [`Verifier::begin_signature_check`]); `None` when the key must be
    /// imported first ([`WebCrypto::start_import`], or
    /// [`SignatureEngine::verify_signature`], which imports it itself).
    /// The promise resolves to `true` for a good signature.
    ///
    /// [`Verifier::begin_signature_check`]: crate::Verifier::begin_signature_check
    pub fn start_verify(&self, input: &SignatureInput<'_>) -> Option<Result<Promise, VerifyError>> {
        let imported =
            self.imported
                .get((input.key_set_generation, input.key_index, input.algorithm))?;
        Some(self.verify_promise(&imported, input.algorithm, input.message, input.signature))
    }

    fn verify_promise(
        &self,
        imported: &CryptoKey,
        algorithm: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<Promise, VerifyError> {
        let known = self
            .verify_parameters
            .borrow()
            .iter()
            .find(|(known, _)| *known == algorithm)
            .map(|(_, parameters)| parameters.clone());
        let parameters = match known {
            Some(parameters) => parameters,
            None => {
                let (_, parameters) = webcrypto_parameters(algorithm);
                self.verify_parameters
                    .borrow_mut()
                    .push((algorithm, parameters.clone()));
                parameters
            }
        };
        self.subtle
            .verify_with_object_and_buffer_source_and_buffer_source(
                &parameters,
                imported,
                &Uint8Array::from(signature),
                &Uint8Array::from(message),
            )
            .map_err(|_| VerifyError::SignatureInvalid)
    }
}
