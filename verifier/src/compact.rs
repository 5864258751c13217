//! Strict parsing of the JWS compact serialization into an [`UntrustedToken`].
//!
//! This module checks form, not trust: the size limit before any decoding,
//! exactly three segments, canonical base64url without padding or whitespace,
//! JSON objects without duplicate member names (at any depth), and the types
//! of the header parameters it reads. It knows nothing about keys or claims'
//! meaning; an [`UntrustedToken`] only becomes a [`crate::Passport`] through
//! [`crate::Verifier`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::fmt;

use crate::error::{VerifyError, printable};

/// The default limit on a token's length in bytes, checked before decoding.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;

/// A token that has been parsed but not verified. Nothing in it can be trusted.
///
/// It exists so that code which has only parsed a token cannot mistake it for a
/// verified [`crate::Passport`]: the two are different types, and only the
/// verifier turns one into the other.
#[derive(Debug, Clone)]
pub struct UntrustedToken<'a> {
    pub(crate) signing_input: &'a str,
    pub(crate) signature: Vec<u8>,
    pub(crate) header: Map<String, Value>,
    /// The header's JSON text as signed: read strictly into `header`.
    pub(crate) header_json: Vec<u8>,
    pub(crate) payload: Vec<u8>,
    pub(crate) algorithm: String,
    pub(crate) key_id: Option<String>,
}

impl<'a> UntrustedToken<'a> {
    /// Parses `token` strictly, rejecting anything longer than `max_bytes`.
    pub fn parse(token: &'a str, max_bytes: usize) -> Result<Self, VerifyError> {
        if token.len() > max_bytes {
            return Err(VerifyError::TokenTooLarge {
                length: token.len(),
                limit: max_bytes,
            });
        }
        let mut segments = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(VerifyError::malformed(
                "a compact JWS has exactly three dot-separated segments",
            ));
        };
        let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];

        let header_bytes = decode_segment(header_b64, "header")?;
        let header = parse_object(&header_bytes, "header")?;
        let payload_bytes = decode_segment(payload_b64, "payload")?;
        let signature = decode_segment(signature_b64, "signature")?;
        if signature.is_empty() {
            return Err(VerifyError::malformed("the signature segment is empty"));
        }

        let algorithm = match header.get("alg") {
            Some(Value::String(alg)) => alg.clone(),
            Some(_) => return Err(VerifyError::malformed("header `alg` must be a string")),
            None => return Err(VerifyError::malformed("header `alg` is missing")),
        };
        let key_id = match header.get("kid") {
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(VerifyError::malformed("header `kid` must be a string")),
            None => None,
        };
        check_header_extensions(&header)?;

        Ok(UntrustedToken {
            signing_input,
            signature,
            header,
            header_json: header_bytes,
            payload: payload_bytes,
            algorithm,
            key_id,
        })
    }

    /// The `alg` header parameter, unverified.
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    /// The `kid` header parameter, unverified.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// The protected header, unverified.
    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// The decoded payload, unverified.
    pub fn unverified_payload(&self) -> &[u8] {
        &self.payload
    }

    /// The bytes the signature covers: `BASE64URL(header) '.' BASE64URL(payload)`.
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input.as_bytes()
    }

    /// The decoded signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}

/// Rejects header parameters that would change how the token must be processed
/// in ways this verifier does not implement.
fn check_header_extensions(header: &Map<String, Value>) -> Result<(), VerifyError> {
    if header.contains_key("crit") {
        // RFC 7515 section 4.1.11: a recipient that does not understand every
        // listed extension must reject the token. We implement no extensions,
        // and an empty or malformed list is invalid anyway.
        return Err(VerifyError::UnsupportedHeader {
            parameter: "crit",
            reason: "no critical header extensions are supported",
        });
    }
    match header.get("b64") {
        None | Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => {
            return Err(VerifyError::UnsupportedHeader {
                parameter: "b64",
                reason: "unencoded payloads (RFC 7797) are not supported",
            });
        }
        Some(_) => return Err(VerifyError::malformed("header `b64` must be a boolean")),
    }
    if let Some(typ) = header.get("typ")
        && !typ.is_string()
    {
        return Err(VerifyError::malformed("header `typ` must be a string"));
    }
    Ok(())
}

fn decode_segment(segment: &str, part: &'static str) -> Result<Vec<u8>, VerifyError> {
    // URL_SAFE_NO_PAD rejects padding, whitespace, the standard alphabet and
    // non-canonical trailing bits, which is exactly the strictness RFC 7515
    // asks for.
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| VerifyError::malformed(format!("the {part} is not canonical base64url")))
}

pub(crate) fn parse_object(
    bytes: &[u8],
    part: &'static str,
) -> Result<Map<String, Value>, VerifyError> {
    match parse_strict(bytes).map_err(|problem| VerifyError::malformed(problem.describe(part)))? {
        Value::Object(map) => Ok(map),
        _ => Err(VerifyError::malformed(format!(
            "the {part} is not a JSON object"
        ))),
    }
}

/// Why [`parse_strict`] refused a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JsonProblem {
    /// Not JSON at all.
    Invalid,
    /// An object repeats a member (the text names it, shortened).
    Duplicate(String),
    /// Something follows the value.
    TrailingData,
}

impl JsonProblem {
    /// The problem as a sentence about `part` ("the header", "the key set").
    pub(crate) fn describe(&self, part: &str) -> String {
        match self {
            JsonProblem::Invalid => format!("the {part} is not valid JSON"),
            JsonProblem::Duplicate(text) => format!("the {part} {text}"),
            JsonProblem::TrailingData => format!("the {part} has trailing data"),
        }
    }
}

/// Reads one JSON text the way tokens are read (see [`parse_strict`]): for
/// a caller's own documents, such as the npm package's options. The error
/// is a sentence about `part` ("the options are not valid JSON").
pub fn read_json_strictly(text: &str, part: &str) -> Result<Value, String> {
    parse_strict(text.as_bytes()).map_err(|problem| problem.describe(part))
}

/// Reads one JSON value the way tokens are read: a member repeated in any
/// object is refused instead of "last one wins" (RFC 7515 section 5.2 and
/// RFC 8725 section 3.11 on ambiguous JSON), and nothing may follow the value.
/// Key sets and discovery documents go through here too.
pub(crate) fn parse_strict(bytes: &[u8]) -> Result<Value, JsonProblem> {
    // The repeated member, named here rather than in serde_json's error
    // text, which would have to be formatted and taken apart again.
    let duplicate = Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = deserializer
        .deserialize_any(StrictValueVisitor(&duplicate))
        .map_err(|_| match duplicate.take() {
            Some(member) => JsonProblem::Duplicate(format!("has a duplicate member `{member}`")),
            None => JsonProblem::Invalid,
        })?;
    deserializer.end().map_err(|_| JsonProblem::TrailingData)?;
    Ok(value)
}

/// Builds a `serde_json::Value` like serde_json does, except that a repeated
/// member name in any object is an error instead of "last one wins"; the
/// member's name (printable) is left in the cell.
struct StrictValueVisitor<'a>(&'a Cell<Option<String>>);

impl<'de> Visitor<'de> for StrictValueVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictSeed(self.0))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                self.0.set(Some(printable(&key)));
                return Err(de::Error::custom("duplicate member"));
            }
            let value = access.next_value_seed(StrictSeed(self.0))?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

struct StrictSeed<'a>(&'a Cell<Option<String>>);

impl<'de> de::DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictValueVisitor(self.0))
    }
}
