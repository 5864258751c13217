//! The SVG logo sanitizer: any markup given to `sanitize_svg` must be
//! accepted or refused with a field error, never panic. Seeds: a logo that
//! passes and logos it must refuse (script, handlers, `url(`, `data:`,
//! entities, processing instructions).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_server::theme::sanitize_svg;

fuzz_target!(|data: &[u8]| {
    let Ok(markup) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = sanitize_svg(markup) {
        let _ = error.to_string();
    }
});
