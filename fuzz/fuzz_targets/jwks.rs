//! The key-set reader: any document given to `KeySet::from_json` must end in
//! a key set or an error, and selecting a key from what was read must not
//! panic. Seeds: the key sets the verifier's tests build.
//!
//! It also holds the two strict JSON readers to one verdict on every input:
//! the one-pass reader the rules use (`read_json_object`) and the one that
//! builds a `serde_json::Value` (`read_json_strictly`) must accept and
//! refuse the same documents, with the same error (the same repeated member
//! named), and find the same member names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tessera_verifier::jwks_cache::read_document_or_snapshot;
use tessera_verifier::{
    Keep, KeySet, SUPPORTED_ALGORITHMS, Wanted, read_json_object, read_json_strictly,
};

/// Something of every kind the one-pass reader keeps.
const WANTED: Wanted = &[
    ("keys", Keep::Items(&[("kid", Keep::Value)])),
    ("jwks", Keep::Object(&[("keys", Keep::Value)])),
    ("format", Keep::Value),
];

fuzz_target!(|data: &[u8]| {
    let Ok(document) = std::str::from_utf8(data) else {
        return;
    };
    match (
        read_json_strictly(document, "document"),
        read_json_object(document, WANTED, "document"),
    ) {
        (Ok(Value::Object(map)), Ok(Some(object))) => {
            let names = object.names().iter().map(|name| name.as_ref());
            assert!(map.keys().map(String::as_str).eq(names), "{document}");
        }
        (Ok(value), Ok(None)) => assert!(!value.is_object(), "{document}"),
        (Err(by_value), Err(one_pass)) => assert_eq!(by_value, one_pass, "{document}"),
        (by_value, one_pass) => panic!(
            "the readers disagree on {document}: {:?} / {:?}",
            by_value.map(|_| ()),
            one_pass.map(|read| read.is_some())
        ),
    }
    if let Err(error) = read_document_or_snapshot(document) {
        let _ = (error.code(), error.to_string());
    }
    match KeySet::from_json(document) {
        Ok(key_set) => {
            for key in key_set.keys() {
                let _ = (key.key_id(), key.kind(), key.algorithm(), key.to_public_jwk());
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
