//! A tenant's health as the console shows it: is its IdP's discovery
//! document reachable and consistent, and does its key set hold keys the
//! verifier can use (and with which algorithms)?
//!
//! The check is the verifier's own: a `RemoteVerifier` for the tenant's
//! issuer fetches discovery and keys under every rule a shop's backend
//! applies (exact issuer, key URL rules, strict JSON, key shapes), so a
//! tenant the console calls healthy is one whose passports can verify.

use serde::Serialize;
use tessera_verifier::Verifier;
use tessera_verifier::remote::{KeyLocation, RemoteVerifier};

/// What the console's script shows in a health cell.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Discovery and keys are usable.
    pub ok: bool,
    /// How many keys the verifier can use.
    pub keys: usize,
    /// Their algorithms.
    pub algorithms: Vec<String>,
    /// What failed, for the admin (no secrets: issuer URLs and reasons).
    pub problem: String,
    /// When this was checked (Unix seconds).
    pub checked_at: i64,
}

/// A verifier for tokens of `issuer` meant for `audience`, its keys found
/// through discovery, as a shop's backend would set one up.
pub fn remote(issuer: &str, audience: &str) -> Result<RemoteVerifier, String> {
    let rules = Verifier::builder().issuer(issuer).audience(audience);
    RemoteVerifier::builder(
        rules,
        KeyLocation::Discovery {
            issuer: issuer.to_owned(),
        },
    )
    .build()
    .map_err(|error| error.to_string())
}

/// Checks the IdP at `issuer` now, for tokens meant for `audience`.
pub async fn check(issuer: &str, audience: &str) -> Health {
    let checked_at = crate::store::now();
    let failed = |problem: String| Health {
        ok: false,
        keys: 0,
        algorithms: Vec::new(),
        problem,
        checked_at,
    };
    let remote = match remote(issuer, audience) {
        Ok(remote) => remote,
        Err(problem) => return failed(problem),
    };
    if let Err(error) = remote.refresh().await {
        return failed(error.to_string());
    }
    let key_set = remote.verifier().key_set();
    let mut algorithms: Vec<String> = key_set
        .keys()
        .iter()
        .filter_map(|key| key.algorithm())
        .map(|algorithm| format!("{algorithm:?}"))
        .collect();
    algorithms.sort();
    algorithms.dedup();
    let keys = key_set.keys().len();
    if keys == 0 {
        return failed(format!(
            "the key set holds no key the verifier can use ({} skipped)",
            key_set.skipped().len()
        ));
    }
    Health {
        ok: true,
        keys,
        algorithms,
        problem: String::new(),
        checked_at,
    }
}
