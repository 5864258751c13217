//! Theme tokens as a tenant admin uploads them: any body given to
//! `theme_from_json` (parsing, ranges, contrast, the logo checks) must end in
//! a theme or a field error, and an accepted theme must render as CSS. Seeds:
//! the preset themes of themes/ as JSON, with an SVG and a PNG logo.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_server::theme::theme_from_json;

fuzz_target!(|data: &[u8]| {
    match theme_from_json(data) {
        Ok(theme) => {
            let _ = theme.to_css(Some("https://cdn.example/t/shop/logo.svg"));
            let _ = serde_json::to_vec(&theme);
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
