//! Theme tokens as a tenant admin uploads them: any body given to
//! `theme_from_json` (parsing, ranges, contrast, the logo checks) must end in
//! a theme or a field error, and an accepted theme must render as CSS (for
//! a page's `:host` and for the studio's previews) and report its contrast
//! pairs. Seeds:
//! the preset themes of themes/ as JSON, with an SVG and a PNG logo.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_server::theme::{Logos, theme_from_json};

fuzz_target!(|data: &[u8]| {
    match theme_from_json(data) {
        Ok(theme) => {
            let _ = theme.to_css(Logos {
                light: Some("https://cdn.example/t/shop/logo.svg"),
                dark: Some("https://cdn.example/t/shop/logo.svg?scheme=dark"),
            });
            let _ = theme.to_document_css();
            let _ = theme.contrast_pairs();
            let _ = theme.light.derive_dark();
            let _ = serde_json::to_vec(&theme);
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
