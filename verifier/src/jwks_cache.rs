//! When to fetch a remote key set again, and the snapshot file format.
//!
//! This is the decision logic only: [`JwksCacheState`] is told when fetches
//! happened and answers what to do next, with the time always passed in. The
//! native adapter ([`crate::remote`]) and the WASM package's `fetch` adapter
//! both drive it, so they cache the same way. Nothing here performs I/O.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::VerifyError;
use crate::keys::KeySet;

/// How a remote key set is cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksCachePolicy {
    /// How long a fetched set is fresh when the response has no usable
    /// `Cache-Control: max-age` (default 600 s).
    pub default_max_age_seconds: u64,
    /// How long after a fetch an unknown `kid` may trigger another one
    /// (default 30 s), so that tokens with random `kid`s cannot flood the issuer.
    pub unknown_key_cooldown_seconds: u64,
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
            unknown_key_cooldown_seconds: 30,
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
    /// Past its max-age but within the stale-if-error window: fetch, and fall
    /// back to it if the fetch fails.
    Stale,
    /// Past the stale-if-error window: fetch, and fail if the fetch fails.
    Expired,
}

/// What the cache knows about past fetches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JwksCacheState {
    fetched_at: Option<i64>,
    max_age_seconds: u64,
    last_attempt_at: Option<i64>,
}

impl JwksCacheState {
    /// A state for a set that was fetched (or imported from a snapshot) at
    /// `fetched_at` and is fresh for `max_age_seconds`.
    pub fn fetched(fetched_at: i64, max_age_seconds: u64) -> Self {
        JwksCacheState {
            fetched_at: Some(fetched_at),
            max_age_seconds,
            last_attempt_at: Some(fetched_at),
        }
    }

    /// How usable the cached set is at `now`.
    pub fn freshness(&self, now: i64, policy: &JwksCachePolicy) -> Freshness {
        let Some(fetched_at) = self.fetched_at else {
            return Freshness::Missing;
        };
        let age = now.saturating_sub(fetched_at).max(0) as u64;
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

    /// Whether a token with an unknown `kid` may trigger a fetch at `now`.
    pub fn may_fetch_for_unknown_key(&self, now: i64, policy: &JwksCachePolicy) -> bool {
        self.last_attempt_at.is_none_or(|last| {
            now.saturating_sub(last) >= policy.unknown_key_cooldown_seconds as i64
        })
    }

    /// Records a successful fetch at `now` whose response allowed `max_age_seconds`.
    pub fn record_success(&mut self, now: i64, max_age_seconds: u64) {
        self.fetched_at = Some(now);
        self.max_age_seconds = max_age_seconds;
        self.last_attempt_at = Some(now);
    }

    /// Records a failed fetch at `now`; the cached set (if any) is kept.
    pub fn record_failure(&mut self, now: i64) {
        self.last_attempt_at = Some(now);
    }

    /// When the cached set was fetched.
    pub fn fetched_at(&self) -> Option<i64> {
        self.fetched_at
    }
}

/// The freshness lifetime a `Cache-Control` header grants: `max-age` when
/// given, zero for `no-store` or `no-cache`, otherwise the policy's default.
/// The result is capped at one day so a typo cannot pin keys for years.
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwksSnapshot {
    /// Always [`SNAPSHOT_FORMAT`].
    pub format: String,
    /// The issuer the keys belong to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Where the keys were fetched from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Unix time of the fetch.
    pub fetched_at: i64,
    /// The JWKS document as the issuer served it.
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
            jwks: key_set.document().clone(),
        }
    }

    /// Serializes the snapshot as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a snapshot, checking its format.
    pub fn from_json(text: &str) -> Result<Self, VerifyError> {
        let snapshot: JwksSnapshot = serde_json::from_str(text).map_err(|error| {
            VerifyError::invalid_key_set(format!("not a key set snapshot: {error}"))
        })?;
        if snapshot.format != SNAPSHOT_FORMAT {
            return Err(VerifyError::invalid_key_set(format!(
                "unknown snapshot format, expected `{SNAPSHOT_FORMAT}`"
            )));
        }
        Ok(snapshot)
    }

    /// The key set inside the snapshot.
    pub fn key_set(&self) -> Result<KeySet, VerifyError> {
        KeySet::from_value(self.jwks.clone())
    }
}

/// Reads a key set from a file's text that is either a JWKS document or a
/// [`JwksSnapshot`].
pub fn key_set_from_document_or_snapshot(text: &str) -> Result<KeySet, VerifyError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|_| VerifyError::invalid_key_set("the document is not valid JSON"))?;
    if value.get("format").is_some() {
        JwksSnapshot::from_json(text)?.key_set()
    } else {
        KeySet::from_value(value)
    }
}
