//! When to fetch a remote key set again, and the snapshot file format.
//!
//! This is the decision logic only: [`JwksCacheState`] is told when fetches
//! happened and answers what to do next, with the time always passed in. The
//! native adapter ([`crate::remote`]) and the WASM package's `fetch` adapter
//! both drive it, so they cache the same way. Nothing here performs I/O.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::compact::{Keep, Raw, TopLevel, Wanted};
use crate::error::{VerifyError, printable};
use crate::keys::{JWK_MEMBERS, JWKS_MEMBERS, KeySet, KeySetText};

/// How a remote key set is cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksCachePolicy {
    /// How long a fetched set is fresh when the response has no usable
    /// `Cache-Control: max-age` (default 600 s).
    pub default_max_age_seconds: u64,
    /// The least time between two fetch attempts (default 30 s): an unknown
    /// `kid` may trigger a fetch at most once per cooldown, so that tokens
    /// with random `kid`s cannot flood the issuer; while the set is stale or
    /// the issuer failed, a fetch is attempted at most once per cooldown; and
    /// a set is fresh for at least this long, whatever `Cache-Control` says
    /// (`no-cache`, `no-store` and `max-age=0` would otherwise mean a fetch
    /// per verification).
    pub cooldown_seconds: u64,
    /// How long one fetch may take (default 5000 ms).
    pub timeout_milliseconds: u64,
    /// How long past its freshness a set may still be used while the issuer
    /// cannot be reached (stale-if-error; default 86 400 s, one day).
    pub stale_if_error_seconds: u64,
}

impl Default for JwksCachePolicy {
    fn default() -> Self {
        JwksCachePolicy {
            default_max_age_seconds: 600,
            cooldown_seconds: 30,
            timeout_milliseconds: 5000,
            stale_if_error_seconds: 86_400,
        }
    }
}

/// How usable the cached key set is at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Nothing has been fetched yet.
    Missing,
    /// Within its max-age: use it without fetching.
    Fresh,
    /// Past its max-age but within the stale-if-error window: use it, and
    /// refresh it when a fetch is due.
    Stale,
    /// Past the stale-if-error window: unusable; fetch, and fail if the fetch
    /// fails.
    Expired,
}

/// What a verification should do about the key set, decided by
/// [`JwksCacheState::plan`] and [`JwksCacheState::plan_for_unknown_key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Verify with the cached set; fetch nothing.
    Use,
    /// Verify with the cached (stale) set at once, and start one fetch that
    /// nobody waits for (stale-while-revalidate). Call
    /// [`JwksCacheState::begin_attempt`] before starting it, so that no other
    /// caller starts another.
    UseAndRefresh,
    /// There is no usable set (or the token's key is unknown): fetch, and
    /// verify when the fetch ends. Callers that find a fetch under way join it.
    Fetch,
    /// A fetch is under way: wait for it, then plan again.
    Wait,
    /// There is no usable set and the last fetch failed less than a cooldown
    /// ago: fail at once with that fetch's error instead of fetching again.
    Unavailable,
}

/// What the cache knows about past fetches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JwksCacheState {
    fetched_at: Option<i64>,
    max_age_seconds: u64,
    last_attempt_at: Option<i64>,
    attempting: bool,
}

impl JwksCacheState {
    /// A state for a set that was fetched (or imported from a snapshot) at
    /// `fetched_at` and is fresh for `max_age_seconds`.
    pub fn fetched(fetched_at: i64, max_age_seconds: u64) -> Self {
        JwksCacheState {
            fetched_at: Some(fetched_at),
            max_age_seconds,
            last_attempt_at: Some(fetched_at),
            attempting: false,
        }
    }

    /// How usable the cached set is at `now`.
    pub fn freshness(&self, now: i64, policy: &JwksCachePolicy) -> Freshness {
        let Some(fetched_at) = self.fetched_at else {
            return Freshness::Missing;
        };
        let age = u64::try_from(now.saturating_sub(fetched_at)).unwrap_or(0);
        if age < self.max_age_seconds {
            Freshness::Fresh
        } else if age
            < self
                .max_age_seconds
                .saturating_add(policy.stale_if_error_seconds)
        {
            Freshness::Stale
        } else {
            Freshness::Expired
        }
    }

    /// Whether a cooldown has passed since the last fetch attempt.
    fn cooled_down(&self, now: i64, policy: &JwksCachePolicy) -> bool {
        self.last_attempt_at.is_none_or(|last| {
            u64::try_from(now.saturating_sub(last)).unwrap_or(0) >= policy.cooldown_seconds
        })
    }

    /// What a verification at `now` should do before checking its token.
    ///
    /// While the set is stale every verification uses it at once and at
    /// most one fetch per cooldown refreshes it in the background, so an
    /// issuer that is down or slow costs no verification any time. Without
    /// a usable set, callers fetch; once that fetch has failed, they fail at
    /// once until a cooldown has passed.
    pub fn plan(&self, now: i64, policy: &JwksCachePolicy) -> Plan {
        match self.freshness(now, policy) {
            Freshness::Fresh => Plan::Use,
            Freshness::Stale if self.attempting || !self.cooled_down(now, policy) => Plan::Use,
            Freshness::Stale => Plan::UseAndRefresh,
            Freshness::Missing | Freshness::Expired if self.attempting => Plan::Wait,
            Freshness::Missing | Freshness::Expired if self.cooled_down(now, policy) => Plan::Fetch,
            Freshness::Missing | Freshness::Expired => Plan::Unavailable,
        }
    }

    /// What a verification at `now` should do when its token names a key the
    /// set does not have: fetch at most once per cooldown ([`Plan::Fetch`]),
    /// join a fetch under way ([`Plan::Wait`]), or give up on it
    /// ([`Plan::Use`]: the token fails with `ERR_JWKS_NO_MATCHING_KEY`).
    pub fn plan_for_unknown_key(&self, now: i64, policy: &JwksCachePolicy) -> Plan {
        if self.attempting {
            Plan::Wait
        } else if self.cooled_down(now, policy) {
            Plan::Fetch
        } else {
            Plan::Use
        }
    }

    /// Records that a fetch starts at `now`; until it ends, [`Self::plan`]
    /// starts no other.
    pub fn begin_attempt(&mut self, now: i64) {
        self.attempting = true;
        self.last_attempt_at = Some(now);
    }

    /// Whether a fetch is under way.
    pub fn attempting(&self) -> bool {
        self.attempting
    }

    /// Records a successful fetch at `now` whose response allowed
    /// `max_age_seconds`; the set is fresh for at least a cooldown.
    pub fn record_success(&mut self, now: i64, max_age_seconds: u64, policy: &JwksCachePolicy) {
        self.fetched_at = Some(now);
        self.max_age_seconds = max_age_seconds.max(policy.cooldown_seconds);
        self.last_attempt_at = Some(now);
        self.attempting = false;
    }

    /// Records a failed fetch at `now`; the cached set (if any) is kept.
    pub fn record_failure(&mut self, now: i64) {
        self.last_attempt_at = Some(now);
        self.attempting = false;
    }

    /// When the cached set was fetched.
    pub fn fetched_at(&self) -> Option<i64> {
        self.fetched_at
    }
}

/// The freshness lifetime a `Cache-Control` header grants: `max-age` when
/// given, zero for `no-store` or `no-cache`, otherwise the policy's default.
/// The result is capped at one day so a typo cannot pin keys for years;
/// [`JwksCacheState::record_success`] raises anything under the cooldown to
/// the cooldown.
pub fn max_age_from_cache_control(header: Option<&str>, policy: &JwksCachePolicy) -> u64 {
    const CAP: u64 = 86_400;
    let Some(header) = header else {
        return policy.default_max_age_seconds;
    };
    let mut max_age = None;
    for directive in header.split(',') {
        let directive = directive.trim().to_ascii_lowercase();
        if directive == "no-store" || directive == "no-cache" {
            return 0;
        }
        if let Some(value) = directive.strip_prefix("max-age=") {
            max_age = value.trim_matches('"').parse::<u64>().ok();
        }
    }
    max_age.unwrap_or(policy.default_max_age_seconds).min(CAP)
}

/// The format name written into every snapshot.
pub const SNAPSHOT_FORMAT: &str = "tessera-jwks-snapshot/1";

/// A key set saved to a file for offline and air-gapped sites: export it where
/// the issuer is reachable, copy it over, import it where it is not.
/// Written with serde; read only with [`JwksSnapshot::from_json`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JwksSnapshot {
    /// Always [`SNAPSHOT_FORMAT`].
    pub format: String,
    /// The issuer the keys belong to, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Where the keys were fetched from, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Unix time of the fetch. Read as a JSON number without a fraction
    /// (`1.0` is 1, as in JavaScript).
    pub fetched_at: i64,
    /// The JWKS document as the issuer served it. When a later fetch brings
    /// the same keys in other text, the set in use is kept, and with it this
    /// text (see `KeySet::same_keys`).
    pub jwks: Value,
}

impl JwksSnapshot {
    /// A snapshot of `key_set`.
    pub fn of(
        key_set: &KeySet,
        issuer: Option<String>,
        jwks_uri: Option<String>,
        fetched_at: i64,
    ) -> Self {
        JwksSnapshot {
            format: SNAPSHOT_FORMAT.to_owned(),
            issuer,
            jwks_uri,
            fetched_at,
            jwks: key_set.to_document(),
        }
    }

    /// Serializes the snapshot as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The snapshot as a JSON value: the members `to_json` writes (a test
    /// holds the two equal), built member by member.
    pub fn to_value(&self) -> Value {
        let mut members = Map::new();
        members.insert("format".into(), self.format.clone().into());
        if let Some(issuer) = &self.issuer {
            members.insert("issuer".into(), issuer.clone().into());
        }
        if let Some(jwks_uri) = &self.jwks_uri {
            members.insert("jwks_uri".into(), jwks_uri.clone().into());
        }
        members.insert("fetched_at".into(), self.fetched_at.into());
        members.insert("jwks".into(), self.jwks.clone());
        Value::Object(members)
    }

    /// Reads a snapshot, checking its format. Read strictly, like a key set:
    /// a repeated member anywhere is refused. Its `jwks` is read as a key set
    /// here, so a snapshot without a `keys` array fails now rather than at
    /// [`JwksSnapshot::key_set`].
    pub fn from_json(text: &str) -> Result<Self, VerifyError> {
        let read = read_source(text, "snapshot")?;
        let (key_set, origin) = snapshot(read.as_ref(), text)?;
        Ok(JwksSnapshot {
            format: SNAPSHOT_FORMAT.to_owned(),
            issuer: origin.issuer,
            jwks_uri: origin.jwks_uri,
            fetched_at: origin.fetched_at,
            jwks: key_set.to_document(),
        })
    }

    /// The key set inside the snapshot.
    pub fn key_set(&self) -> Result<KeySet, VerifyError> {
        KeySet::from_value(self.jwks.clone())
    }
}

/// What a snapshot says besides its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotOrigin {
    /// The issuer the keys belong to, when known.
    pub issuer: Option<String>,
    /// Where the keys were fetched from, when known.
    pub jwks_uri: Option<String>,
    /// Unix time of the fetch.
    pub fetched_at: i64,
}

/// Reads a key set from a file's text that is either a JWKS document or a
/// [`JwksSnapshot`].
pub fn key_set_from_document_or_snapshot(text: &str) -> Result<KeySet, VerifyError> {
    read_document_or_snapshot(text).map(|(key_set, _)| key_set)
}

/// Reads text that is either a JWKS document or a [`JwksSnapshot`], strictly
/// (a repeated member anywhere is refused): the key set, and what the
/// snapshot says of it when it was one. One pass reads the document, without
/// building a `serde_json::Value`.
pub fn read_document_or_snapshot(
    text: &str,
) -> Result<(KeySet, Option<SnapshotOrigin>), VerifyError> {
    let read = read_source(text, "document")?;
    match read.as_ref() {
        Some(document) if document.has("format") => {
            let (key_set, origin) = snapshot(Some(document), text)?;
            Ok((key_set, Some(origin)))
        }
        _ => Ok((
            KeySet::from_read(read.as_ref(), KeySetText::Jwks(text.to_owned()))?,
            None,
        )),
    }
}

/// What [`read_source`] keeps: a snapshot's members, with its `jwks` read
/// for its keys, and a JWKS's keys.
const SOURCE_MEMBERS: Wanted = &[
    ("format", Keep::Value),
    ("issuer", Keep::Value),
    ("jwks_uri", Keep::Value),
    ("fetched_at", Keep::Value),
    ("jwks", Keep::Object(JWKS_MEMBERS)),
    ("keys", Keep::Items(JWK_MEMBERS)),
];

/// Reads a JWKS or a snapshot strictly; `None` when it is not an object.
fn read_source<'t>(text: &'t str, part: &str) -> Result<Option<TopLevel<'t>>, VerifyError> {
    crate::compact::read_document(text.as_bytes(), SOURCE_MEMBERS)
        .map_err(|problem| VerifyError::invalid_key_set(problem.describe(part)))
}

/// The key set and origin of a snapshot [`read_source`] read from `text`.
/// Its members are checked in name order, so the first problem reported is
/// the first member's.
fn snapshot(
    read: Option<&TopLevel<'_>>,
    text: &str,
) -> Result<(KeySet, SnapshotOrigin), VerifyError> {
    const WHOLE_SECONDS: &str = "`fetched_at` must be a whole number of seconds";
    let invalid =
        |problem: &str| VerifyError::invalid_key_set(format!("not a key set snapshot: {problem}"));
    let Some(members) = read else {
        return Err(invalid("it is not a JSON object"));
    };
    let string = |name: &str| match members.get(name) {
        None | Some(Raw::Null) => Ok(None),
        Some(Raw::Str(text)) => Ok(Some(text.as_ref())),
        Some(_) => Err(invalid(&format!("`{name}` must be a string"))),
    };
    let fetched_at = || {
        members
            .get("fetched_at")
            .and_then(Raw::whole_number)
            .ok_or_else(|| invalid(WHOLE_SECONDS))
    };
    for name in members.names() {
        match name.as_ref() {
            "format" | "issuer" | "jwks_uri" => {
                string(name)?;
            }
            "fetched_at" => {
                fetched_at()?;
            }
            "jwks" => {}
            unknown => {
                return Err(invalid(&format!("unknown member `{}`", printable(unknown))));
            }
        }
    }
    let format = string("format")?.ok_or_else(|| invalid("`format` is missing"))?;
    if format != SNAPSHOT_FORMAT {
        return Err(VerifyError::invalid_key_set(format!(
            "unknown snapshot format, expected `{SNAPSHOT_FORMAT}`"
        )));
    }
    let fetched_at = fetched_at()?;
    let jwks = match members.get("jwks") {
        None => return Err(invalid("`jwks` is missing")),
        Some(Raw::Object(jwks)) => Some(jwks),
        Some(_) => None,
    };
    let origin = SnapshotOrigin {
        issuer: string("issuer")?.map(str::to_owned),
        jwks_uri: string("jwks_uri")?.map(str::to_owned),
        fetched_at,
    };
    let key_set = KeySet::from_read(jwks, KeySetText::Snapshot(text.to_owned()))?;
    Ok((key_set, origin))
}
