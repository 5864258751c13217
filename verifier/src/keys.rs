//! JSON Web Key Sets: which keys may verify a token, and which one does.
//!
//! A [`KeySet`] is built from a JWKS document and keeps only keys that can
//! verify signatures with an asymmetric algorithm this crate supports, as
//! `jsonwebtoken` [`DecodingKey`]s. Keys of other kinds (encryption keys,
//! symmetric keys, curves we do not support) are skipped with a recorded
//! reason rather than failing the whole set, because real providers publish
//! mixed sets. Each key is read into a small flat struct rather than
//! `jsonwebtoken::jwk::Jwk`, whose flattened untagged enums cost tens of
//! kilobytes in the WASM package and map unknown values to catch-alls where we
//! need a reason. This module does no I/O and no signature arithmetic.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use std::borrow::Cow;

use crate::compact::{Keep, Raw, TopLevel, Wanted};
use crate::error::{VerifyError, printable};

/// RSA moduli shorter than this are refused (NIST SP 800-131A).
pub const MINIMUM_RSA_MODULUS_BITS: usize = 2048;
/// RSA moduli longer than this are refused; ring verifies up to 8192 bits.
pub const MAXIMUM_RSA_MODULUS_BITS: usize = 8192;

/// The asymmetric JWS algorithms this verifier accepts.
pub const SUPPORTED_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Parses a JWS `alg` name into a supported asymmetric algorithm.
pub fn parse_algorithm(name: &str) -> Result<Algorithm, VerifyError> {
    let refused = |reason| VerifyError::AlgorithmNotAllowed {
        algorithm: printable(name),
        reason,
    };
    match name {
        "none" => Err(refused("unsecured tokens are never accepted")),
        "HS256" | "HS384" | "HS512" => Err(refused(
            "symmetric algorithms are never accepted from a key set",
        )),
        _ => {
            let algorithm: Algorithm = name
                .parse()
                .map_err(|_| refused("the algorithm is not supported"))?;
            if SUPPORTED_ALGORITHMS.contains(&algorithm) {
                Ok(algorithm)
            } else {
                Err(refused("the algorithm is not supported"))
            }
        }
    }
}

/// The kind of public key, which decides the algorithms it can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// An RSA key, for RS* and PS*.
    Rsa {
        /// The modulus length in bits.
        modulus_bits: usize,
    },
    /// A P-256 key, for ES256.
    EcP256,
    /// A P-384 key, for ES384.
    EcP384,
    /// An Ed25519 key, for EdDSA.
    Ed25519,
}

impl KeyKind {
    /// Whether a key of this kind can verify `algorithm`.
    pub fn fits(self, algorithm: Algorithm) -> bool {
        match self {
            KeyKind::Rsa { .. } => matches!(
                algorithm,
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ),
            KeyKind::EcP256 => algorithm == Algorithm::ES256,
            KeyKind::EcP384 => algorithm == Algorithm::ES384,
            KeyKind::Ed25519 => algorithm == Algorithm::EdDSA,
        }
    }

    /// The exact signature length for this key, when the algorithm fixes it.
    pub fn signature_length(self) -> usize {
        match self {
            KeyKind::Rsa { modulus_bits } => modulus_bits.div_ceil(8),
            KeyKind::EcP256 => 64,
            KeyKind::EcP384 => 96,
            KeyKind::Ed25519 => 64,
        }
    }
}

/// One public key that may verify signatures.
#[derive(Debug, Clone)]
pub struct VerificationKey {
    key_id: Option<String>,
    kind: KeyKind,
    algorithm: Option<Algorithm>,
    decoding_key: DecodingKey,
    /// The public JWK's members, all strings (see `to_public_jwk`).
    public_members: Vec<(&'static str, String)>,
    /// The key as aws-lc parsed it, per algorithm, shared by the key set's
    /// clones.
    #[cfg(feature = "aws-lc")]
    parsed: std::sync::Arc<crate::aws_lc::ParsedKeys>,
}

impl VerificationKey {
    /// The key's `kid`, when it has one.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }
    /// The kind of key.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }
    /// The key's `alg`, when the JWK pins one.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.algorithm
    }
    /// The key in `jsonwebtoken`'s form, for a [`jsonwebtoken::crypto::CryptoProvider`].
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding_key
    }
    /// The key's public members only (`kty` with `n`, `e` or `crv`, `x`,
    /// `y`), for hosts that import it into their own crypto engine: WebCrypto
    /// refuses imports whose `alg` or `key_ops` disagree with the requested
    /// use, and the verifier has enforced those itself.
    ///
    /// Made on each call, as a JSON object; the members themselves are kept
    /// (see [`VerificationKey::public_jwk_members`]).
    pub fn to_public_jwk(&self) -> Value {
        let members = self.public_members.iter();
        Value::Object(
            members
                .map(|(name, value)| ((*name).to_owned(), Value::from(value.as_str())))
                .collect(),
        )
    }

    /// [`VerificationKey::to_public_jwk`]'s members in order, without a JSON
    /// value: what the npm package hands WebCrypto.
    pub fn public_jwk_members(&self) -> &[(&'static str, String)] {
        &self.public_members
    }

    /// Checks a raw signature natively: the algorithm must fit the key and
    /// the signature must have exactly the length the key implies (so
    /// DER-encoded ECDSA signatures fail) before any arithmetic happens. The
    /// arithmetic is ring's through [`crate::RING_PROVIDER`], or, with the
    /// `aws-lc` feature, aws-lc's on a key parsed once.
    #[cfg(feature = "ring")]
    pub fn verify_signature(
        &self,
        algorithm: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        self.check_signature_shape(algorithm, signature)?;
        #[cfg(feature = "aws-lc")]
        return self
            .parsed
            .verify(&self.public_members, algorithm, message, signature);
        #[cfg(not(feature = "aws-lc"))]
        let verifier =
            (crate::ring_provider::RING_PROVIDER.verifier_factory)(&algorithm, &self.decoding_key)
                .map_err(|_| VerifyError::SignatureInvalid)?;
        #[cfg(not(feature = "aws-lc"))]
        verifier
            .verify(message, &signature.to_vec())
            .map_err(|_| VerifyError::SignatureInvalid)
    }

    /// The checks every signature engine runs before its arithmetic.
    pub fn check_signature_shape(
        &self,
        algorithm: Algorithm,
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        if !self.accepts(algorithm) {
            return Err(VerifyError::AlgorithmNotAllowed {
                algorithm: format!("{algorithm:?}"),
                reason: "the algorithm does not fit the key",
            });
        }
        if signature.len() != self.kind.signature_length() {
            return Err(VerifyError::SignatureInvalid);
        }
        Ok(())
    }

    /// Whether this key may verify a token signed with `algorithm`.
    pub fn accepts(&self, algorithm: Algorithm) -> bool {
        self.kind.fits(algorithm) && self.algorithm.is_none_or(|pinned| pinned == algorithm)
    }
}

/// A key from the document that was not kept, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedKey {
    /// The key's `kid`, when it has one.
    pub key_id: Option<String>,
    /// Why it cannot verify signatures here.
    pub reason: &'static str,
}

/// The usable signature keys of one JSON Web Key Set.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<VerificationKey>,
    skipped: Vec<SkippedKey>,
    /// The text the set was read from.
    text: KeySetText,
    generation: u64,
}

/// The JSON text a [`KeySet`] was read from, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySetText {
    /// A JWKS document.
    Jwks(String),
    /// A [`crate::jwks_cache::JwksSnapshot`], whose `jwks` member is the
    /// JWKS document.
    Snapshot(String),
}

impl Default for KeySetText {
    fn default() -> Self {
        KeySetText::Jwks(String::new())
    }
}

/// Hands every key set a distinct number, so that caches of imported keys
/// (WebCrypto's) can tell one set from the next.
static NEXT_GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl KeySet {
    /// Builds a key set from a JWKS JSON document.
    ///
    /// The document is read with the same strict reader as tokens: a member
    /// repeated in any object (two `keys`, a key with two `n`) is refused
    /// rather than "last one wins". Fails when the document is not a JWKS.
    /// Individual keys that cannot be used are skipped (see
    /// [`KeySet::skipped`]); a set with no usable key at all is still
    /// returned, and every token will then fail with
    /// `ERR_JWKS_NO_MATCHING_KEY`.
    pub fn from_json(document: &str) -> Result<Self, VerifyError> {
        Self::from_slice(document.as_bytes())
    }

    /// [`KeySet::from_json`] for a document's bytes, as fetched.
    ///
    /// The document is read in one strict pass that keeps only the JWK
    /// members this verifier reads (`compact::read_document`), without
    /// building a `serde_json::Value`: the npm package carries no JSON value
    /// type at all.
    pub fn from_slice(document: &[u8]) -> Result<Self, VerifyError> {
        let read = crate::compact::read_document(document, JWKS_MEMBERS)
            .map_err(|problem| VerifyError::invalid_key_set(problem.describe("key set")))?;
        // Read as JSON already, so this holds; checked rather than assumed.
        let text = std::str::from_utf8(document)
            .map_err(|_| VerifyError::invalid_key_set("the key set is not UTF-8"))?;
        Self::from_read(read.as_ref(), KeySetText::Jwks(text.to_owned()))
    }

    /// Builds a key set from a JWKS document read by `compact::read_document`
    /// with [`JWKS_MEMBERS`] (`None`: the document is not an object), from
    /// `text`.
    pub(crate) fn from_read(
        read: Option<&TopLevel<'_>>,
        text: KeySetText,
    ) -> Result<Self, VerifyError> {
        let Some(Raw::Items(raw_keys)) = read.and_then(|document| document.get("keys")) else {
            return Err(VerifyError::invalid_key_set(
                "the document has no `keys` array",
            ));
        };
        let mut set = KeySet::default();
        for raw in raw_keys {
            let key_id = match raw {
                Raw::Object(members) => match members.get("kid") {
                    Some(Raw::Str(key_id)) => Some(printable(key_id)),
                    _ => None,
                },
                _ => None,
            };
            // Parse one key at a time so that one odd key cannot hide the others.
            match RawJwk::read(raw) {
                Ok(jwk) => match usable_key(jwk) {
                    Ok(key) => set.keys.push(key),
                    Err(reason) => set.skipped.push(SkippedKey { key_id, reason }),
                },
                Err(reason) => set.skipped.push(SkippedKey { key_id, reason }),
            }
        }
        set.text = text;
        set.generation = NEXT_GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(set)
    }

    /// Builds a key set from an already parsed JWKS document. A parsed
    /// `Value` no longer shows repeated members; read text with
    /// [`KeySet::from_json`].
    pub fn from_value(document: Value) -> Result<Self, VerifyError> {
        Self::from_json(&document.to_string())
    }

    /// Parses the document with `jsonwebtoken`'s own type, for callers that
    /// already hold one.
    pub fn from_jwk_set(set: &JwkSet) -> Result<Self, VerifyError> {
        let text = serde_json::to_string(set)
            .map_err(|_| VerifyError::invalid_key_set("the key set cannot be serialized"))?;
        Self::from_json(&text)
    }

    /// The usable keys.
    pub fn keys(&self) -> &[VerificationKey] {
        &self.keys
    }

    /// The keys that were skipped, and why.
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }

    /// The JWKS document this set was built from, as given (made from
    /// [`KeySet::text`] on each call; `null` for `KeySet::default()`).
    pub fn to_document(&self) -> Value {
        let (KeySetText::Jwks(text) | KeySetText::Snapshot(text)) = &self.text;
        let read = crate::compact::parse_strict(text.as_bytes()).unwrap_or_default();
        match (&self.text, read) {
            (KeySetText::Snapshot(_), Value::Object(mut snapshot)) => {
                snapshot.remove("jwks").unwrap_or_default()
            }
            (_, read) => read,
        }
    }

    /// The JSON text this set was read from, as given: a JWKS, or a snapshot
    /// holding one. The npm package hands JavaScript `JSON.parse` of it
    /// rather than carry a JSON value type.
    pub fn text(&self) -> &KeySetText {
        &self.text
    }

    /// Whether `other` holds the same usable keys (each key's `kid`, `alg`
    /// and public members, in order) and skipped the same ones. A fetched
    /// set that is the same is not installed: the one in use stays, with
    /// the keys imported and the tokens cached for it.
    pub fn same_keys(&self, other: &KeySet) -> bool {
        self.skipped == other.skipped
            && self.keys.len() == other.keys.len()
            && self.keys.iter().zip(&other.keys).all(|(one, other)| {
                one.key_id == other.key_id
                    && one.algorithm == other.algorithm
                    && one.public_members == other.public_members
            })
    }

    /// A number that differs between any two key sets built in this process.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether a key with this `kid` is in the set.
    pub fn contains_key_id(&self, key_id: &str) -> bool {
        self.keys.iter().any(|key| key.key_id() == Some(key_id))
    }

    /// Chooses the key that verifies a token with this `kid` and `algorithm`.
    ///
    /// With a `kid`, only the keys with exactly that `kid` are considered.
    /// RFC 7517 section 4.5 lets a set give one `kid` to several keys (of
    /// different types, as equivalent alternatives): the one among them that
    /// fits the algorithm is chosen, and when several fit, the token is
    /// refused with `ERR_JWKS_MULTIPLE_MATCHING_KEYS` rather than tried
    /// against each. Without a `kid`, a key is chosen only when exactly one
    /// key of the set fits the algorithm, so that a token cannot pick among
    /// keys by trial.
    pub fn select(
        &self,
        key_id: Option<&str>,
        algorithm: Algorithm,
    ) -> Result<(usize, &VerificationKey), VerifyError> {
        match key_id {
            Some(kid) => {
                let mut named = self
                    .keys
                    .iter()
                    .enumerate()
                    .filter(|(_, key)| key.key_id() == Some(kid))
                    .peekable();
                if named.peek().is_none() {
                    return Err(VerifyError::NoMatchingKey {
                        kid: Some(printable(kid)),
                    });
                }
                let mut fitting = named.filter(|(_, key)| key.accepts(algorithm));
                match (fitting.next(), fitting.count()) {
                    (Some(found), 0) => Ok(found),
                    (Some(_), others) => Err(VerifyError::MultipleMatchingKeys {
                        candidates: others + 1,
                    }),
                    (None, _) => Err(VerifyError::AlgorithmNotAllowed {
                        algorithm: format!("{algorithm:?}"),
                        reason: "the algorithm does not fit the key with this `kid`",
                    }),
                }
            }
            None => {
                let mut fitting = self
                    .keys
                    .iter()
                    .enumerate()
                    .filter(|(_, key)| key.accepts(algorithm));
                match (fitting.next(), fitting.count()) {
                    (Some(found), 0) => Ok(found),
                    (Some(_), others) => Err(VerifyError::MultipleMatchingKeys {
                        candidates: others + 1,
                    }),
                    (None, _) => Err(VerifyError::NoMatchingKey { kid: None }),
                }
            }
        }
    }
}

/// The members of a JWK this verifier reads; the others are ignored.
pub(crate) const JWK_MEMBERS: Wanted = &[
    ("kty", Keep::Value),
    ("kid", Keep::Value),
    ("use", Keep::Value),
    ("key_ops", Keep::Value),
    ("alg", Keep::Value),
    ("crv", Keep::Value),
    ("n", Keep::Value),
    ("e", Keep::Value),
    ("x", Keep::Value),
    ("y", Keep::Value),
];

/// What `compact::read_document` keeps of a JWKS: its keys' members.
pub(crate) const JWKS_MEMBERS: Wanted = &[("keys", Keep::Items(JWK_MEMBERS))];

/// A public JWK's members, all strings (decoded already, so present).
fn public_jwk(members: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    members
        .iter()
        .map(|(name, value)| (*name, (*value).to_owned()))
        .collect()
}

/// The JWK members this verifier reads; everything else is ignored.
struct RawJwk {
    kty: String,
    kid: Option<String>,
    public_key_use: Option<String>,
    key_ops: Option<Vec<String>>,
    alg: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

impl RawJwk {
    /// Reads the members by hand rather than with a derived deserializer,
    /// whose type errors bring float formatting into the WASM package. A
    /// member that is absent or `null` is not given; one of another type
    /// makes the key unusable.
    fn read(value: &Raw<'_>) -> Result<RawJwk, &'static str> {
        const INVALID: &str = "the key is not a valid JWK";
        let Raw::Object(members) = value else {
            return Err(INVALID);
        };
        let text = |name: &str| match members.get(name) {
            None | Some(Raw::Null) => Ok(None),
            Some(Raw::Str(text)) => Ok(Some(text.as_ref().to_owned())),
            Some(_) => Err(INVALID),
        };
        let key_ops = match members.get("key_ops") {
            None | Some(Raw::Null) => None,
            Some(Raw::Strings(operations)) => Some(operations.iter().map(Cow::to_string).collect()),
            Some(_) => return Err(INVALID),
        };
        Ok(RawJwk {
            kty: text("kty")?.ok_or(INVALID)?,
            kid: text("kid")?,
            public_key_use: text("use")?,
            key_ops,
            alg: text("alg")?,
            crv: text("crv")?,
            n: text("n")?,
            e: text("e")?,
            x: text("x")?,
            y: text("y")?,
        })
    }
}

fn decode_member(value: &Option<String>, problem: &'static str) -> Result<Vec<u8>, &'static str> {
    URL_SAFE_NO_PAD
        .decode(value.as_deref().ok_or(problem)?)
        .map_err(|_| problem)
}

fn usable_key(jwk: RawJwk) -> Result<VerificationKey, &'static str> {
    if jwk
        .public_key_use
        .as_deref()
        .is_some_and(|usage| usage != "sig")
    {
        return Err("the key's `use` is not `sig`");
    }
    if let Some(operations) = &jwk.key_ops
        && !operations.iter().any(|operation| operation == "verify")
    {
        return Err("the key's `key_ops` does not include `verify`");
    }
    let algorithm = match &jwk.alg {
        None => None,
        Some(pinned) => Some(
            parse_algorithm(pinned)
                .map_err(|_| "the key's `alg` is not a supported asymmetric signature algorithm")?,
        ),
    };
    let (kind, decoding_key, public_jwk) = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("RSA", _) => {
            let modulus = decode_member(&jwk.n, "the RSA modulus `n` is missing or not base64url")?;
            let exponent =
                decode_member(&jwk.e, "the RSA exponent `e` is missing or not base64url")?;
            let modulus_bits = bit_length(&modulus);
            if modulus_bits < MINIMUM_RSA_MODULUS_BITS {
                return Err("the RSA modulus is shorter than 2048 bits");
            }
            if modulus_bits > MAXIMUM_RSA_MODULUS_BITS {
                return Err("the RSA modulus is longer than 8192 bits");
            }
            if bit_length(&exponent) < 2 || exponent.last().is_none_or(|last| last & 1 == 0) {
                return Err("the RSA exponent is not an odd number above 1");
            }
            (
                KeyKind::Rsa { modulus_bits },
                DecodingKey::from_rsa_raw_components(&modulus, &exponent),
                public_jwk(&[
                    ("kty", "RSA"),
                    ("n", jwk.n.as_deref().unwrap_or_default()),
                    ("e", jwk.e.as_deref().unwrap_or_default()),
                ]),
            )
        }
        ("EC", Some(curve @ ("P-256" | "P-384"))) => {
            let (kind, length) = if curve == "P-256" {
                (KeyKind::EcP256, 32)
            } else {
                (KeyKind::EcP384, 48)
            };
            let x = decode_member(&jwk.x, "the EC coordinate `x` is missing or not base64url")?;
            let y = decode_member(&jwk.y, "the EC coordinate `y` is missing or not base64url")?;
            if x.len() != length || y.len() != length {
                return Err("an EC coordinate has the wrong length for its curve");
            }
            // The uncompressed SEC1 point, as ring expects it.
            let mut point = Vec::with_capacity(1 + 2 * length);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (
                kind,
                DecodingKey::from_ec_der(&point),
                public_jwk(&[
                    ("kty", "EC"),
                    ("crv", curve),
                    ("x", jwk.x.as_deref().unwrap_or_default()),
                    ("y", jwk.y.as_deref().unwrap_or_default()),
                ]),
            )
        }
        ("EC", _) => return Err("the elliptic curve is not supported"),
        ("OKP", Some("Ed25519")) => {
            let x = decode_member(&jwk.x, "the Ed25519 key `x` is missing or not base64url")?;
            if x.len() != 32 {
                return Err("the Ed25519 key is not 32 bytes");
            }
            (
                KeyKind::Ed25519,
                DecodingKey::from_ed_der(&x),
                public_jwk(&[
                    ("kty", "OKP"),
                    ("crv", "Ed25519"),
                    ("x", jwk.x.as_deref().unwrap_or_default()),
                ]),
            )
        }
        ("OKP", _) => return Err("the OKP curve is not supported"),
        ("oct", _) => return Err("symmetric keys are never used from a key set"),
        _ => return Err("the key type is not supported"),
    };
    if let Some(pinned) = algorithm
        && !kind.fits(pinned)
    {
        return Err("the key's `alg` does not fit its key type");
    }
    Ok(VerificationKey {
        key_id: jwk.kid,
        kind,
        algorithm,
        decoding_key,
        public_members: public_jwk,
        #[cfg(feature = "aws-lc")]
        parsed: std::sync::Arc::default(),
    })
}

/// The length in bits of a big-endian number, saturating (a number too
/// long to count is longer than any limit it is compared with).
fn bit_length(big_endian: &[u8]) -> usize {
    let significant = big_endian
        .iter()
        .position(|byte| *byte != 0)
        .and_then(|first| Some((big_endian.len() - first, big_endian.get(first)?)));
    match significant {
        Some((bytes, leading)) => bytes
            .saturating_mul(8)
            .saturating_sub(leading.leading_zeros() as usize),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 32 bytes of zeros and of ones, base64url: P-256 coordinates in form.
    const ZEROS: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const ONES: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";

    fn set(keys: &[(&str, &str)], around: &str) -> KeySet {
        let keys: Vec<String> = keys
            .iter()
            .map(|(kid, x)| {
                format!(r#"{{"kty":"EC","crv":"P-256","kid":"{kid}","x":"{x}","y":"{ZEROS}"}}"#)
            })
            .collect();
        KeySet::from_json(&format!(r#"{{{around}"keys":[{}]}}"#, keys.join(","))).unwrap()
    }

    #[test]
    fn a_set_is_the_same_when_its_keys_are_however_its_text_differs() {
        let one = set(&[("a", ZEROS)], "");
        let rewritten = set(&[("a", ZEROS)], r#" "issuer_note": [1, 2], "#);
        assert_eq!(one.keys().len(), 1);
        assert_ne!(one.text(), rewritten.text());
        assert!(one.same_keys(&rewritten));
        for different in [
            set(&[("b", ZEROS)], ""),
            set(&[("a", ONES)], ""),
            set(&[("a", ZEROS), ("b", ONES)], ""),
            set(&[], ""),
        ] {
            assert!(!one.same_keys(&different), "{:?}", different.text());
        }
    }
}
