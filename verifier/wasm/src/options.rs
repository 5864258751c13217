//! The options object of `createVerifier`, read from the JSON text the JS
//! wrapper passes, with the verifier's strict reader (one reader of JSON
//! text in the package: a second, serde_json's own, cost 1.2 KB brotli).
//!
//! The object is read in one pass that keeps the values of the options this
//! package knows (`read_json_object`), member by member, instead of through
//! `#[derive(Deserialize)]`: the derived visitors (with serde's buffering
//! for the one-or-many form of `issuer` and `audience`) were about 16 KB of
//! the package's wasm before compression, against the package's size
//! target, and no `serde_json::Value` is built (the package carries none).
//! The rules are the derive's: every member may be left out; `null` counts
//! as absent where the option has no default (`typ`, `now`, `jwks`,
//! `remote`...), and is refused for a flag or `requiredClaims`, so that
//! `rejectPii: null` cannot pass for `false`; a member the package does not
//! know is refused by name. Members are checked in name order, so the first
//! problem reported is the first such member's. A number is a whole number
//! when it has no fraction (`1.0` is 1), as in JavaScript, which wrote it.

use tessera_verifier::{Keep, Raw, TopLevel, VerifyError, Wanted, read_json_object};

/// `createVerifier`'s options (see `index.d.ts` for what each does).
#[derive(Default)]
pub(crate) struct Options {
    pub issuer: Option<Vec<String>>,
    pub audience: Option<Vec<String>>,
    pub dangerously_accept_any_issuer: bool,
    pub dangerously_accept_any_audience: bool,
    pub algorithms: Option<Vec<String>>,
    pub clock_tolerance: Option<u64>,
    pub max_token_age: Option<u64>,
    pub typ: Option<String>,
    pub subject: Option<String>,
    pub required_claims: Vec<String>,
    pub reject_pii: bool,
    pub max_token_bytes: Option<usize>,
    pub cache_size: Option<usize>,
    pub now: Option<i64>,
    /// A JWKS or snapshot as JSON text (the wrapper turns an object into
    /// its text, so it is read as text is, strictly).
    pub jwks: Option<String>,
    pub remote: Option<RemoteOptions>,
}

/// `options.remote`.
#[derive(Default)]
pub(crate) struct RemoteOptions {
    /// Fetch keys from this JWKS URL; without it, discover from the issuer.
    pub jwks_uri: Option<String>,
    pub timeout_ms: Option<u64>,
    pub cooldown_seconds: Option<u64>,
    pub default_max_age_seconds: Option<u64>,
    pub stale_if_error_seconds: Option<u64>,
    pub dangerously_allow_http: bool,
}

/// The members of `options.remote`.
const REMOTE: Wanted = &[
    ("jwksUri", Keep::Value),
    ("timeoutMs", Keep::Value),
    ("cooldownSeconds", Keep::Value),
    ("defaultMaxAgeSeconds", Keep::Value),
    ("staleIfErrorSeconds", Keep::Value),
    ("dangerouslyAllowHttp", Keep::Value),
];

/// The members of the options object.
const OPTIONS: Wanted = &[
    ("issuer", Keep::Value),
    ("audience", Keep::Value),
    ("dangerouslyAcceptAnyIssuer", Keep::Value),
    ("dangerouslyAcceptAnyAudience", Keep::Value),
    ("algorithms", Keep::Value),
    ("clockTolerance", Keep::Value),
    ("maxTokenAge", Keep::Value),
    ("typ", Keep::Value),
    ("subject", Keep::Value),
    ("requiredClaims", Keep::Value),
    ("rejectPii", Keep::Value),
    ("maxTokenBytes", Keep::Value),
    ("cacheSize", Keep::Value),
    ("now", Keep::Value),
    ("jwks", Keep::Value),
    ("remote", Keep::Object(REMOTE)),
];

impl Options {
    /// Reads the options from their JSON text.
    pub(crate) fn from_json(text: &str) -> Result<Options, VerifyError> {
        let read = read_json_object(text, OPTIONS, "options object").map_err(invalid)?;
        let Some(object) = read else {
            return Err(invalid("the options must be an object".to_owned()));
        };
        let mut options = Options::default();
        for name in object.names() {
            let member = Member::new("", name, &object);
            match name.as_ref() {
                "issuer" => options.issuer = member.one_or_many()?,
                "audience" => options.audience = member.one_or_many()?,
                "dangerouslyAcceptAnyIssuer" => {
                    options.dangerously_accept_any_issuer = member.flag()?
                }
                "dangerouslyAcceptAnyAudience" => {
                    options.dangerously_accept_any_audience = member.flag()?
                }
                "algorithms" => options.algorithms = member.strings()?,
                "clockTolerance" => options.clock_tolerance = member.whole()?,
                "maxTokenAge" => options.max_token_age = member.whole()?,
                "typ" => options.typ = member.string()?,
                "subject" => options.subject = member.string()?,
                "requiredClaims" => {
                    options.required_claims = member
                        .not_null("an array of strings")?
                        .strings()?
                        .unwrap_or_default()
                }
                "rejectPii" => options.reject_pii = member.flag()?,
                "maxTokenBytes" => options.max_token_bytes = member.whole()?,
                "cacheSize" => options.cache_size = member.whole()?,
                "now" => options.now = member.integer()?,
                "jwks" => options.jwks = member.document()?,
                "remote" => {
                    options.remote = match member.value {
                        None => None,
                        Some(Raw::Object(remote)) => Some(RemoteOptions::read(remote)?),
                        Some(_) => return Err(member.wrong("an object")),
                    }
                }
                _ => return Err(member.unknown()),
            }
        }
        Ok(options)
    }
}

impl RemoteOptions {
    fn read(object: &TopLevel<'_>) -> Result<RemoteOptions, VerifyError> {
        let mut options = RemoteOptions::default();
        for name in object.names() {
            let member = Member::new("remote.", name, object);
            match name.as_ref() {
                "jwksUri" => options.jwks_uri = member.string()?,
                "timeoutMs" => options.timeout_ms = member.whole()?,
                "cooldownSeconds" => options.cooldown_seconds = member.whole()?,
                "defaultMaxAgeSeconds" => options.default_max_age_seconds = member.whole()?,
                "staleIfErrorSeconds" => options.stale_if_error_seconds = member.whole()?,
                "dangerouslyAllowHttp" => options.dangerously_allow_http = member.flag()?,
                _ => return Err(member.unknown()),
            }
        }
        Ok(options)
    }
}

fn invalid(reason: String) -> VerifyError {
    VerifyError::InvalidConfiguration {
        reason: format!("invalid options: {reason}"),
    }
}

/// One member being read; `None` is `null` (or a member the reader was not
/// asked to keep, which is refused as unknown before its value is read).
struct Member<'r, 'de> {
    prefix: &'static str,
    name: &'r str,
    value: Option<&'r Raw<'de>>,
}

impl<'r, 'de> Member<'r, 'de> {
    fn new(prefix: &'static str, name: &'r str, object: &'r TopLevel<'de>) -> Self {
        let value = object.get(name).filter(|value| **value != Raw::Null);
        Member {
            prefix,
            name,
            value,
        }
    }

    fn wrong(&self, what: &str) -> VerifyError {
        invalid(format!("`{}{}` must be {what}", self.prefix, self.name))
    }

    fn unknown(&self) -> VerifyError {
        invalid(format!("unknown option `{}{}`", self.prefix, self.name))
    }

    fn string(self) -> Result<Option<String>, VerifyError> {
        match self.value {
            None => Ok(None),
            Some(Raw::Str(text)) => Ok(Some(text.to_string())),
            Some(_) => Err(self.wrong("a string")),
        }
    }

    fn strings(self) -> Result<Option<Vec<String>>, VerifyError> {
        match self.value {
            None => Ok(None),
            Some(Raw::Strings(items)) => {
                Ok(Some(items.iter().map(|item| item.to_string()).collect()))
            }
            Some(_) => Err(self.wrong("an array of strings")),
        }
    }

    /// A string, or an array of strings.
    fn one_or_many(self) -> Result<Option<Vec<String>>, VerifyError> {
        match self.value {
            Some(Raw::Str(one)) => Ok(Some(vec![one.to_string()])),
            Some(Raw::Strings(_) | Raw::Array) | None => self.strings(),
            Some(_) => Err(self.wrong("a string or an array of strings")),
        }
    }

    /// A key set's JSON text. The wrapper hands over an object (or any other
    /// value) as its JSON text, so only a string arrives; anything else is
    /// refused as a key set without keys, as the text of a number would be.
    fn document(self) -> Result<Option<String>, VerifyError> {
        match self.value {
            None => Ok(None),
            Some(Raw::Str(text)) => Ok(Some(text.to_string())),
            Some(_) => Err(VerifyError::InvalidKeySet {
                reason: "the document has no `keys` array".to_owned(),
            }),
        }
    }

    /// Refuses `null` for an option with a default.
    fn not_null(self, what: &str) -> Result<Self, VerifyError> {
        match self.value {
            None => Err(self.wrong(what)),
            Some(_) => Ok(self),
        }
    }

    fn flag(self) -> Result<bool, VerifyError> {
        match self.value {
            Some(Raw::Bool(flag)) => Ok(*flag),
            _ => Err(self.wrong("true or false")),
        }
    }

    /// A whole number from 0 up to what `T` holds.
    fn whole<T: TryFrom<u64>>(self) -> Result<Option<T>, VerifyError> {
        match self.value {
            None => Ok(None),
            Some(value) => count(value)
                .and_then(|number| T::try_from(number).ok())
                .map(Some)
                .ok_or_else(|| self.wrong("a whole number, 0 or more")),
        }
    }

    fn integer(self) -> Result<Option<i64>, VerifyError> {
        match self.value {
            None => Ok(None),
            Some(value) => value
                .whole_number()
                .map(Some)
                .ok_or_else(|| self.wrong("a whole number")),
        }
    }
}

/// A number without a fraction from 0 to what a `u64` holds.
fn count(value: &Raw<'_>) -> Option<u64> {
    match value {
        // 2^64 itself does not fit.
        Raw::Number(number) if number.fract() == 0.0 && (0.0..u64::MAX as f64).contains(number) => {
            Some(*number as u64)
        }
        _ => None,
    }
}
