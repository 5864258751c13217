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
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::sync::OnceLock;

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
    /// The header's JSON text as signed, read strictly.
    pub(crate) header_json: Vec<u8>,
    /// The header as a map, made only when asked for (`header()`).
    header_map: OnceLock<Map<String, Value>>,
    pub(crate) payload: Vec<u8>,
    pub(crate) algorithm: String,
    pub(crate) key_id: Option<String>,
    /// The `typ` parameter, when the header has one.
    pub(crate) media_type: Option<String>,
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
        // Everything before the signature's dot (found again rather than
        // sliced by length, which would keep a panic path and with it Rust's
        // Debug formatting in the npm package).
        let Some((signing_input, _)) = token.rsplit_once('.') else {
            return Err(VerifyError::malformed(
                "a compact JWS has exactly three dot-separated segments",
            ));
        };

        let header_bytes = decode_segment(header_b64, "header")?;
        let header = read_object(&header_bytes, HEADER_PARAMETERS, "header")?;
        let payload_bytes = decode_segment(payload_b64, "payload")?;
        let signature = decode_segment(signature_b64, "signature")?;
        if signature.is_empty() {
            return Err(VerifyError::malformed("the signature segment is empty"));
        }

        let algorithm = match header.get("alg") {
            Some(Raw::Str(alg)) => alg.clone().into_owned(),
            Some(_) => return Err(VerifyError::malformed("header `alg` must be a string")),
            None => return Err(VerifyError::malformed("header `alg` is missing")),
        };
        let key_id = match header.get("kid") {
            Some(Raw::Str(kid)) => Some(kid.clone().into_owned()),
            Some(_) => return Err(VerifyError::malformed("header `kid` must be a string")),
            None => None,
        };
        check_header_extensions(&header)?;
        let media_type = match header.get("typ") {
            Some(Raw::Str(typ)) => Some(typ.clone().into_owned()),
            _ => None,
        };
        drop(header);

        Ok(UntrustedToken {
            signing_input,
            signature,
            header_json: header_bytes,
            header_map: OnceLock::new(),
            payload: payload_bytes,
            algorithm,
            key_id,
            media_type,
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
        object_once(&self.header_map, &self.header_json)
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
fn check_header_extensions(header: &TopLevel<'_>) -> Result<(), VerifyError> {
    if header.get("crit").is_some() {
        // RFC 7515 section 4.1.11: a recipient that does not understand every
        // listed extension must reject the token. We implement no extensions,
        // and an empty or malformed list is invalid anyway.
        return Err(VerifyError::UnsupportedHeader {
            parameter: "crit",
            reason: "no critical header extensions are supported",
        });
    }
    match header.get("b64") {
        None | Some(Raw::Bool(true)) => {}
        Some(Raw::Bool(false)) => {
            return Err(VerifyError::UnsupportedHeader {
                parameter: "b64",
                reason: "unencoded payloads (RFC 7797) are not supported",
            });
        }
        Some(_) => return Err(VerifyError::malformed("header `b64` must be a boolean")),
    }
    if let Some(typ) = header.get("typ")
        && !matches!(typ, Raw::Str(_))
    {
        return Err(VerifyError::malformed("header `typ` must be a string"));
    }
    Ok(())
}

/// The header parameters the verifier reads; the others are only checked
/// for form.
const HEADER_PARAMETERS: Wanted = &[
    ("alg", Keep::Value),
    ("kid", Keep::Value),
    ("typ", Keep::Value),
    ("b64", Keep::Value),
    ("crit", Keep::Value),
];

fn decode_segment(segment: &str, part: &'static str) -> Result<Vec<u8>, VerifyError> {
    // URL_SAFE_NO_PAD rejects padding, whitespace, the standard alphabet and
    // non-canonical trailing bits, which is exactly the strictness RFC 7515
    // asks for.
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| VerifyError::malformed(format!("the {part} is not canonical base64url")))
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

/// Reads one JSON text the way tokens are read (see [`parse_strict`]) into
/// a `serde_json::Value`, for a caller's own documents. The error is a
/// sentence about `part` ("the options are not valid JSON").
pub fn read_json_strictly(text: &str, part: &str) -> Result<Value, String> {
    parse_strict(text.as_bytes()).map_err(|problem| problem.describe(part))
}

/// Reads one JSON object the way tokens are read (see [`parse_strict`]),
/// keeping the member names and the values of the `wanted` members, without
/// building a map: for a caller's own documents, such as the npm package's
/// options. `None` when the text is JSON but not an object; the error is a
/// sentence about `part`.
pub fn read_json_object<'t>(
    text: &'t str,
    wanted: Wanted,
    part: &str,
) -> Result<Option<TopLevel<'t>>, String> {
    read_document(text.as_bytes(), wanted).map_err(|problem| problem.describe(part))
}

/// Reads one JSON value the way tokens are read: a member repeated in any
/// object is refused instead of "last one wins" (RFC 7515 section 5.2 and
/// RFC 8725 section 3.11 on ambiguous JSON), and nothing may follow the value.
/// What reads documents for the rules is [`read_document`]; this builds the
/// values native callers ask for (`KeySet::to_document`, a passport's maps,
/// [`read_json_strictly`]).
pub(crate) fn parse_strict(bytes: &[u8]) -> Result<Value, JsonProblem> {
    let repeats = Repeats::default();
    read_strictly(bytes, StrictValueVisitor(&repeats), &repeats)
}

/// Walks `bytes` as one JSON value with `visitor`, which notes repeated
/// members in `repeats`, and nothing may follow it.
fn read_strictly<'de, V: Visitor<'de>>(
    bytes: &'de [u8],
    visitor: V,
    repeats: &Repeats,
) -> Result<V::Value, JsonProblem> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let read = deserializer.deserialize_any(visitor);
    // A repeat comes first: the text may be cut off or wrong after it.
    if let Some((_, member)) = repeats.first.take() {
        return Err(JsonProblem::Duplicate(format!(
            "has a duplicate member `{member}`"
        )));
    }
    let read = read.map_err(|_| JsonProblem::Invalid)?;
    deserializer.end().map_err(|_| JsonProblem::TrailingData)?;
    Ok(read)
}

/// Builds a `serde_json::Value` like serde_json does, except that a repeated
/// member name in any object is noted in [`Repeats`], and the document
/// refused, instead of "last one wins".
struct StrictValueVisitor<'a>(&'a Repeats);

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
            let place = self.0.place();
            if map.contains_key(&key) {
                self.0.note(&key, place);
            }
            let value = access.next_value_seed(StrictSeed(self.0))?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

struct StrictSeed<'a>(&'a Repeats);

impl<'de> de::DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictValueVisitor(self.0))
    }
}

/// `cell`'s map of the JSON object `json`, made on first use. `json` was
/// read strictly before it was kept, so it is one object; were it not, the
/// map is empty rather than a panic.
pub(crate) fn object_once<'c>(
    cell: &'c OnceLock<Map<String, Value>>,
    json: &[u8],
) -> &'c Map<String, Value> {
    cell.get_or_init(|| match parse_strict(json) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    })
}

/// A member's value as the verifier's rules look at it: its JSON type, and
/// the value itself when it is a boolean, a number, a string or an array of
/// strings. Strings are borrowed from the document unless they hold escapes.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw<'de> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as a double (as `serde_json::Value::as_f64` reads it).
    Number(f64),
    /// A string.
    Str(Cow<'de, str>),
    /// An array of strings only (an empty array too).
    Strings(Vec<Cow<'de, str>>),
    /// The object [`read_object`] reads, or one kept with [`Keep::Object`]
    /// or [`Keep::Items`] (other nested objects are `Other`).
    Object(TopLevel<'de>),
    /// The items of an array kept with [`Keep::Items`].
    Items(Vec<Raw<'de>>),
    /// An array holding something besides strings (its items not kept).
    Array,
    /// A nested object not asked for.
    Other,
}

impl Raw<'_> {
    /// A number without a fraction that an `i64` holds (`1.0` is 1, as in
    /// JavaScript; 2^63 and beyond are not).
    pub fn whole_number(&self) -> Option<i64> {
        match self {
            Raw::Number(number)
                if number.fract() == 0.0 && (i64::MIN as f64..i64::MAX as f64).contains(number) =>
            {
                Some(*number as i64)
            }
            _ => None,
        }
    }
}

/// How [`read_object`] keeps the value of a member it was asked for.
#[derive(Debug, Clone, Copy)]
pub enum Keep {
    /// As [`Raw`] holds it (a nested object is [`Raw::Other`]).
    Value,
    /// An object, read for these members ([`Raw::Object`]).
    Object(Wanted),
    /// An array, each object in it read for these members ([`Raw::Items`]).
    Items(Wanted),
}

/// The members of an object that [`read_object`] keeps, and how.
pub type Wanted = &'static [(&'static str, Keep)];

/// One JSON object read strictly in a single pass, without building a map:
/// every member name (sorted) and the values of the names asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct TopLevel<'de> {
    names: Vec<Cow<'de, str>>,
    values: Vec<(&'static str, Raw<'de>)>,
}

impl<'de> TopLevel<'de> {
    /// Every member name, sorted.
    pub fn names(&self) -> &[Cow<'de, str>] {
        &self.names
    }

    /// The value of `name`, one of the names the object was read for.
    pub fn get(&self, name: &str) -> Option<&Raw<'de>> {
        self.values
            .iter()
            .find_map(|(wanted, value)| (*wanted == name).then_some(value))
    }

    /// Whether the object has a member named `name`.
    pub fn has(&self, name: &str) -> bool {
        self.names
            .binary_search_by(|held| held.as_ref().cmp(name))
            .is_ok()
    }
}

/// Reads `bytes` as one JSON object with the strictness of [`parse_strict`]
/// (the same errors, about `part`), keeping only the member names and the
/// values of the `wanted` members.
pub(crate) fn read_object<'de>(
    bytes: &'de [u8],
    wanted: Wanted,
    part: &'static str,
) -> Result<TopLevel<'de>, VerifyError> {
    read_document(bytes, wanted)
        .map_err(|problem| VerifyError::malformed(problem.describe(part)))?
        .ok_or_else(|| VerifyError::malformed(format!("the {part} is not a JSON object")))
}

/// [`read_object`] for a caller that words its own errors: the object, or
/// `None` when the document is JSON but not an object.
pub(crate) fn read_document(
    bytes: &[u8],
    wanted: Wanted,
) -> Result<Option<TopLevel<'_>>, JsonProblem> {
    let repeats = Repeats::default();
    let visitor = RawVisitor {
        repeats: &repeats,
        keep: Keep::Object(wanted),
    };
    Ok(match read_strictly(bytes, visitor, &repeats)? {
        Raw::Object(object) => Some(object),
        _ => None,
    })
}

/// The repeated members a strict walk has met: how many member names it
/// has read (each name's place in the document), and the first repeat by
/// place, its name printable. [`read_strictly`] refuses the document once
/// it is walked. The walk goes on past a repeat rather than stop with an
/// error: serde's only way to make one from a visitor is serde_json's
/// `Error::custom`, whose message parsing (a substring search) was 1 KB of
/// the npm package.
#[derive(Default)]
struct Repeats {
    names: Cell<usize>,
    first: Cell<Option<(usize, String)>>,
}

impl Repeats {
    /// The place in the document of the member name read now.
    fn place(&self) -> usize {
        let place = self.names.get();
        self.names.set(place.saturating_add(1));
        place
    }

    /// Notes that `name`, at `place`, repeats an earlier member of its
    /// object; the earliest such place is kept.
    fn note(&self, name: &str, place: usize) {
        let first = match self.first.take() {
            Some(noted) if noted.0 < place => noted,
            _ => (place, printable(name)),
        };
        self.first.set(Some(first));
    }
}

/// The member names of one object with their places, checked for repeats
/// when the object ends: one sort, O(n log n) however many members an
/// untrusted document's object has (a sorted insertion for each name would
/// move the names after it: O(n^2) for a half-megabyte key set).
#[derive(Default)]
struct Members<'de>(Vec<(Cow<'de, str>, usize)>);

impl<'de> Members<'de> {
    fn push(&mut self, name: Cow<'de, str>, repeats: &Repeats) {
        self.0.push((name, repeats.place()));
    }

    /// The names, sorted, after noting the object's first repeat.
    fn finish(self, repeats: &Repeats) -> Vec<Cow<'de, str>> {
        // A heap sort: std's slice sorts were 1.9 KB of the npm package.
        let sorted = std::collections::BinaryHeap::from(self.0).into_sorted_vec();
        let first = sorted
            .windows(2)
            .filter_map(|pair| match pair {
                [one, two] if one.0 == two.0 => Some(two),
                _ => None,
            })
            .min_by_key(|(_, place)| *place);
        if let Some((name, place)) = first {
            repeats.note(name, *place);
        }
        sorted.into_iter().map(|(name, _)| name).collect()
    }
}

/// A member name, borrowed from the document unless it holds escapes.
struct Name;

impl<'de> de::DeserializeSeed<'de> for Name {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// Any JSON value, walked with the strictness of [`parse_strict`] and kept
/// as far as [`Raw`] holds it and `keep` asks.
#[derive(Clone, Copy)]
struct RawVisitor<'c> {
    repeats: &'c Repeats,
    keep: Keep,
}

impl<'c> RawVisitor<'c> {
    fn with(self, keep: Keep) -> RawVisitor<'c> {
        RawVisitor {
            repeats: self.repeats,
            keep,
        }
    }
}

impl<'de> de::DeserializeSeed<'de> for RawVisitor<'_> {
    type Value = Raw<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Raw<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RawVisitor<'_> {
    type Value = Raw<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Raw<'de>, E> {
        Ok(Raw::Bool(v))
    }
    // As `Value::as_f64` reads a number.
    fn visit_i64<E>(self, v: i64) -> Result<Raw<'de>, E> {
        Ok(Raw::Number(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Raw<'de>, E> {
        Ok(Raw::Number(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Raw<'de>, E> {
        Ok(Raw::Number(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Raw<'de>, E> {
        Ok(Raw::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw<'de>, E> {
        Ok(Raw::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_unit<E>(self) -> Result<Raw<'de>, E> {
        Ok(Raw::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw<'de>, A::Error> {
        if let Keep::Items(wanted) = self.keep {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element_seed(self.with(Keep::Object(wanted)))? {
                items.push(item);
            }
            return Ok(Raw::Items(items));
        }
        let mut strings = Some(Vec::new());
        while let Some(item) = seq.next_element_seed(self.with(Keep::Value))? {
            match (&mut strings, item) {
                (Some(strings), Raw::Str(text)) => strings.push(text),
                _ => strings = None,
            }
        }
        Ok(strings.map_or(Raw::Array, Raw::Strings))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Raw<'de>, A::Error> {
        let mut members = Members::default();
        let mut values = Vec::new();
        let walked = self.members(&mut access, &mut members, &mut values);
        // Checked even when the text goes wrong further on, so that a repeat
        // before the fault is the error reported.
        let names = members.finish(self.repeats);
        walked?;
        Ok(match self.keep {
            Keep::Object(_) => Raw::Object(TopLevel { names, values }),
            Keep::Value | Keep::Items(_) => Raw::Other,
        })
    }
}

impl<'de> RawVisitor<'_> {
    /// Reads an object's members into `members`, and the values asked for
    /// into `values`.
    fn members<A: MapAccess<'de>>(
        self,
        access: &mut A,
        members: &mut Members<'de>,
        values: &mut Vec<(&'static str, Raw<'de>)>,
    ) -> Result<(), A::Error> {
        let wanted = match self.keep {
            Keep::Object(wanted) => wanted,
            Keep::Value | Keep::Items(_) => &[],
        };
        while let Some(name) = access.next_key_seed(Name)? {
            let kept = wanted.iter().find(|(wanted, _)| *wanted == name).copied();
            members.push(name, self.repeats);
            // A member not asked for is walked (for its repeats) as a value.
            let keep = kept.map_or(Keep::Value, |(_, keep)| keep);
            let value = access.next_value_seed(self.with(keep))?;
            if let Some((kept, _)) = kept {
                values.push((kept, value));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the map-free reader makes of `text`, as the claim rules see it.
    fn map_free(text: &str) -> Result<(Vec<String>, Option<Raw<'_>>), String> {
        read_object(text.as_bytes(), &[("aud", Keep::Value)], "payload")
            .map(|read| {
                let names = read.names.iter().map(|name| name.to_string()).collect();
                (names, read.get("aud").cloned())
            })
            .map_err(|error| error.to_string())
    }

    /// What the map reader makes of `text`: the same view, from a `Value`.
    fn from_map(text: &str) -> Result<(Vec<String>, Option<Raw<'_>>), String> {
        let error = |text: String| VerifyError::malformed(text).to_string();
        let Value::Object(map) =
            parse_strict(text.as_bytes()).map_err(|problem| error(problem.describe("payload")))?
        else {
            return Err(error("the payload is not a JSON object".into()));
        };
        let aud = map.get("aud").map(|aud| match aud {
            Value::Null => Raw::Null,
            Value::Bool(v) => Raw::Bool(*v),
            Value::Number(n) => Raw::Number(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Raw::Str(Cow::Owned(s.clone())),
            Value::Array(items) if items.iter().all(Value::is_string) => Raw::Strings(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|s| Cow::Owned(s.to_owned()))
                    .collect(),
            ),
            Value::Array(_) => Raw::Array,
            Value::Object(_) => Raw::Other,
        });
        Ok((map.keys().cloned().collect(), aud))
    }

    #[test]
    fn the_map_free_reader_refuses_and_reads_what_the_map_reader_does() {
        let many: String = (0..300).map(|n| format!("\"m{n}\":{n},")).collect();
        let documents = [
            r#"{"aud":"shop","sub":"a"}"#.to_owned(),
            r#"{"aud":["a","b\u0063"],"x":[1,{"y":null}]}"#.to_owned(),
            r#"{"aud":[],"exp":1.5e3}"#.to_owned(),
            r#"{"aud":["a",1]}"#.to_owned(),
            r#"{"aud":{"a":1}}"#.to_owned(),
            r#"{"aud":null,"b":true}"#.to_owned(),
            r#"{"aud":18446744073709551615}"#.to_owned(),
            // Repeats, also behind an escape and inside arrays and objects.
            r#"{"sub":"a","sub":"b"}"#.to_owned(),
            r#"{"a\u0062":1,"ab":2}"#.to_owned(),
            r#"{"x":[{"a":1},{"b":1,"b":2}]}"#.to_owned(),
            r#"{"x":{"y":{"z":1,"z":1}}}"#.to_owned(),
            format!("{{{many}\"m7\":0}}"),
            format!("{{{many}\"last\":0}}"),
            // Not one object.
            "[1,2]".to_owned(),
            "\"text\"".to_owned(),
            "null".to_owned(),
            "{} {}".to_owned(),
            "{\"a\":1".to_owned(),
            "{\"a\":1e400}".to_owned(),
            "{\"a\":\"\\ud800\"}".to_owned(),
            String::new(),
        ];
        for document in &documents {
            assert_eq!(map_free(document), from_map(document), "{document}");
        }
        assert_eq!(
            map_free(r#"{"a\u0062":1,"ab":2}"#).unwrap_err(),
            "malformed token: the payload has a duplicate member `ab`"
        );
    }

    #[test]
    fn nested_objects_and_arrays_of_objects_are_kept_as_asked_and_read_as_strictly() {
        const ITEM: Wanted = &[("k", Keep::Value)];
        const WANTED: Wanted = &[
            ("items", Keep::Items(ITEM)),
            ("inner", Keep::Object(ITEM)),
            ("plain", Keep::Value),
        ];
        let text = r#"{"items":[{"k":"a","z":1},2,{"k":[1]}],"inner":{"k":true},"plain":{"k":1}}"#;
        let read = read_document(text.as_bytes(), WANTED).unwrap().unwrap();
        let Some(Raw::Items(items)) = read.get("items") else {
            panic!("{:?}", read.get("items"));
        };
        let keys: Vec<_> = items
            .iter()
            .map(|item| match item {
                Raw::Object(object) => (object.names().len(), object.get("k").cloned()),
                other => (0, Some(other.clone())),
            })
            .collect();
        assert_eq!(
            keys,
            [
                (2, Some(Raw::Str("a".into()))),
                (0, Some(Raw::Number(2.0))),
                (1, Some(Raw::Array)),
            ]
        );
        let Some(Raw::Object(inner)) = read.get("inner") else {
            panic!("{:?}", read.get("inner"));
        };
        assert_eq!(inner.get("k"), Some(&Raw::Bool(true)));
        // Asked for as a value, a nested object is only its type.
        assert_eq!(read.get("plain"), Some(&Raw::Other));
        // A repeat inside a kept item or object is refused like any other.
        for repeated in [
            r#"{"items":[{"k":"a"},{"k":"a","k":"b"}]}"#,
            r#"{"inner":{"x":1,"x":2}}"#,
        ] {
            assert!(
                matches!(
                    read_document(repeated.as_bytes(), WANTED),
                    Err(JsonProblem::Duplicate(_))
                ),
                "{repeated}"
            );
        }
        assert_eq!(read_document(b"[1]", WANTED).unwrap(), None);
    }

    #[test]
    fn a_large_object_is_checked_whole_and_its_first_repeat_named() {
        // Names in descending order: each would be a sorted insertion at
        // the front, the worst case of checking them one by one.
        let names: String = (0..20_000)
            .rev()
            .map(|n| format!("\"m{n:05}\":0,"))
            .collect();
        let whole = format!("{{{names}\"a\":0}}");
        let read = read_document(whole.as_bytes(), &[]).unwrap().unwrap();
        assert_eq!(read.names().len(), 20_001);
        assert!(read.names().is_sorted());
        let repeated = format!("{{{names}\"m00007\":1,\"m00003\":1}}");
        assert_eq!(
            read_document(repeated.as_bytes(), &[]).unwrap_err(),
            JsonProblem::Duplicate("has a duplicate member `m00007`".into())
        );
    }

    #[test]
    fn the_first_repeat_is_named_even_when_the_text_goes_wrong_after_it() {
        for (text, named) in [
            (r#"{"b":1,"b":2,"a":1,"a":2}"#, "b"),
            (r#"{"x":{"z":1,"z":2},"y":[{"a":1,"a":2}]}"#, "z"),
            (r#"{"a":1,"a":2,"#, "a"),
            (r#"{"a":1,"a":2} trailing"#, "a"),
        ] {
            let expected = JsonProblem::Duplicate(format!("has a duplicate member `{named}`"));
            assert_eq!(
                parse_strict(text.as_bytes()).unwrap_err(),
                expected,
                "{text}"
            );
            assert_eq!(
                read_document(text.as_bytes(), &[("a", Keep::Value)]).unwrap_err(),
                expected,
                "{text}"
            );
        }
        assert_eq!(
            parse_strict(br#"{"a":1,"b":2,"#).unwrap_err(),
            JsonProblem::Invalid
        );
    }
}
