//! The key-set reader: any document given to `KeySet::from_json` must end in
//! a key set or an error, and selecting a key from what was read must not
//! panic. Seeds: the key sets the verifier's tests build.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_verifier::{KeySet, SUPPORTED_ALGORITHMS};

fuzz_target!(|data: &[u8]| {
    let Ok(document) = std::str::from_utf8(data) else {
        return;
    };
    match KeySet::from_json(document) {
        Ok(key_set) => {
            for key in key_set.keys() {
                let _ = (key.key_id(), key.kind(), key.algorithm(), key.public_jwk());
                if let Some(kid) = key.key_id() {
                    let _ = key_set.contains_key_id(kid);
                }
            }
            for skipped in key_set.skipped() {
                let _ = format!("{skipped:?}");
            }
            for algorithm in SUPPORTED_ALGORITHMS {
                let _ = key_set.select(None, algorithm);
                if let Some(kid) = key_set.keys().first().and_then(|key| key.key_id()) {
                    let _ = key_set.select(Some(kid), algorithm);
                }
            }
        }
        Err(error) => {
            let _ = (error.code(), error.to_string());
        }
    }
});
