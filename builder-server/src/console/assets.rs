//! The console's stylesheet and script: compiled into the binary, served
//! from our origin under content-hashed names (cached for a year), and
//! named in the pages with their Subresource Integrity values.

use std::sync::OnceLock;

use base64::Engine as _;
use sha2::{Digest as _, Sha256, Sha384};

/// One file the console pages load.
#[derive(Debug)]
pub struct Asset {
    /// The path the pages link to: `/console/static/console-<hash>.<ext>`.
    pub href: String,
    /// `sha384-...`.
    pub integrity: String,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The bytes.
    pub body: &'static [u8],
}

impl Asset {
    fn new(extension: &str, content_type: &'static str, body: &'static str) -> Asset {
        let hash = crate::http::hex(&Sha256::digest(body.as_bytes()));
        Asset {
            href: format!(
                "/console/static/console-{}.{extension}",
                hash.get(..10).unwrap_or(&hash)
            ),
            integrity: format!(
                "sha384-{}",
                base64::engine::general_purpose::STANDARD.encode(Sha384::digest(body.as_bytes()))
            ),
            content_type,
            body: body.as_bytes(),
        }
    }
}

/// The stylesheet.
pub fn stylesheet() -> &'static Asset {
    static CSS: OnceLock<Asset> = OnceLock::new();
    CSS.get_or_init(|| {
        Asset::new(
            "css",
            "text/css; charset=utf-8",
            include_str!("../../console/console.css"),
        )
    })
}

/// The script (an ES module).
pub fn script() -> &'static Asset {
    static JS: OnceLock<Asset> = OnceLock::new();
    JS.get_or_init(|| {
        Asset::new(
            "js",
            "text/javascript; charset=utf-8",
            include_str!("../../console/console.js"),
        )
    })
}

/// The asset served at `/console/static/{name}`.
pub fn by_name(name: &str) -> Option<&'static Asset> {
    [stylesheet(), script()]
        .into_iter()
        .find(|asset| asset.href.rsplit('/').next() == Some(name))
}
