//! Widget texts. An input starting with `{` is a tenant admin's upload, read
//! as the admin API reads it (a JSON object of message id to text) and checked
//! by `validate_overrides`, then merged with `messages_for`; anything else is
//! Fluent source given to `resolve_source`, the parser and resolver of the
//! shipped `.ftl` files. Neither may panic. Seeds: i18n/*.ftl and overrides.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_server::i18n::{self, Messages};

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&b'{') {
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
    } else if let Ok(source) = std::str::from_utf8(data) {
        let _ = i18n::resolve_source("en", source);
    }
});
