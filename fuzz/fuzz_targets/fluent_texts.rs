//! Widget texts as a tenant admin uploads them: any body is read as the admin
//! API reads it (a JSON object of message id to text), checked by
//! `validate_overrides` and, when accepted, merged over a base locale with
//! `messages_for`. None of it may panic. Seeds: the texts of each i18n/*.ftl
//! file as an upload, and uploads the check refuses.
//!
//! Fluent source itself (`resolve_source`) is not fuzzed: only the `.ftl`
//! files embedded at build time reach it, and fluent-syntax 0.12.0 panics on
//! some malformed source (projectfluent/fluent-rs#389, e.g. `a={"\ǔ"`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_server::i18n::{self, Messages};

fuzz_target!(|data: &[u8]| {
    let Ok(overrides) = serde_json::from_slice::<Messages>(data) else {
        return;
    };
    match i18n::validate_overrides(&overrides) {
        Ok(()) => {
            let _ = i18n::messages_for("de", Some(&overrides));
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
