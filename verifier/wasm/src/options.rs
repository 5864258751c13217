//! The options object of `createVerifier`, read from the JSON text the JS
//! wrapper passes, with the verifier's strict reader (one reader of JSON
//! text in the package: a second, serde_json's own, cost 1.2 KB brotli).
//!
//! The object is read member by member from a `serde_json::Value` instead of
//! through `#[derive(Deserialize)]`: the derived visitors (with serde's
//! buffering for the one-or-many form of `issuer` and `audience`) were about
//! 16 KB of the package's wasm before compression, against the package's size
//! target. The rules are the derive's: every member may be left out; `null`
//! counts as absent where the option has no default (`typ`, `now`, `jwks`,
//! `remote`...), and is refused for a flag or `requiredClaims`, so that
//! `rejectPii: null` cannot pass for `false`; a member the package does not
//! know is refused by name.

use serde_json::{Map, Value};
use tessera_verifier::VerifyError;

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
    pub jwks: Option<Value>,
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

impl Options {
    /// Reads the options from their JSON text.
    pub(crate) fn from_json(text: &str) -> Result<Options, VerifyError> {
        let value =
            tessera_verifier::read_json_strictly(text, "options object").map_err(invalid)?;
        let mut options = Options::default();
        for (name, value) in members(value, "")? {
            let member = Member::new("", &name, value);
            match name.as_str() {
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
                "jwks" => options.jwks = member.value,
                "remote" => {
                    options.remote = member.value.map(RemoteOptions::from_value).transpose()?
                }
                _ => return Err(member.unknown()),
            }
        }
        Ok(options)
    }
}

impl RemoteOptions {
    fn from_value(value: Value) -> Result<RemoteOptions, VerifyError> {
        let mut options = RemoteOptions::default();
        for (name, value) in members(value, "remote")? {
            let member = Member::new("remote.", &name, value);
            match name.as_str() {
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

/// The members of an options object, in order, without a copy.
fn members(value: Value, name: &str) -> Result<Map<String, Value>, VerifyError> {
    match value {
        Value::Object(map) => Ok(map),
        _ if name.is_empty() => Err(invalid("the options must be an object".to_owned())),
        _ => Err(invalid(format!("`{name}` must be an object"))),
    }
}

/// One member being read; `None` is `null`.
struct Member<'n> {
    prefix: &'static str,
    name: &'n str,
    value: Option<Value>,
}

impl<'n> Member<'n> {
    fn new(prefix: &'static str, name: &'n str, value: Value) -> Self {
        let value = (!value.is_null()).then_some(value);
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
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(self.wrong("a string")),
        }
    }

    fn strings(self) -> Result<Option<Vec<String>>, VerifyError> {
        let wrong = || self.wrong("an array of strings");
        match self.value {
            None => Ok(None),
            Some(Value::Array(ref items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned).ok_or_else(wrong))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(wrong()),
        }
    }

    /// A string, or an array of strings.
    fn one_or_many(self) -> Result<Option<Vec<String>>, VerifyError> {
        match self.value {
            Some(Value::String(one)) => Ok(Some(vec![one])),
            Some(Value::Array(_)) | None => self.strings(),
            Some(_) => Err(self.wrong("a string or an array of strings")),
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
            None => Err(self.wrong("true or false")),
            Some(Value::Bool(flag)) => Ok(flag),
            Some(_) => Err(self.wrong("true or false")),
        }
    }

    /// A whole number from 0 up to what `T` holds.
    fn whole<T: TryFrom<u64>>(self) -> Result<Option<T>, VerifyError> {
        match &self.value {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .and_then(|number| T::try_from(number).ok())
                .map(Some)
                .ok_or_else(|| self.wrong("a whole number, 0 or more")),
        }
    }

    fn integer(self) -> Result<Option<i64>, VerifyError> {
        match &self.value {
            None => Ok(None),
            Some(value) => value
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.wrong("a whole number")),
        }
    }
}
