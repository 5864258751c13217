//! Widget assets served from this server's own origin.
//!
//! At start-up every file of `dist/widget/` is read into memory with its
//! precompressed `.br` and `.gz` siblings, its ETag and its sha384 integrity
//! value; requests are then answered without touching the disk. Content-hashed
//! names (`tessera-3f9a1c2b.wasm`) are `immutable` for a year; the loader
//! (`tessera.js`) revalidates, because the snippet points at its stable name.
//! CORS is open: any shop origin may load these public files.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use sha2::{Digest, Sha384};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Path as UrlPath;

/// One served file and its variants.
#[derive(Debug, Clone)]
struct Asset {
    content_type: &'static str,
    identity: bytes_body::Body,
    brotli: Option<bytes_body::Body>,
    gzip: Option<bytes_body::Body>,
    etag: HeaderValue,
    integrity: String,
    immutable: bool,
}

mod bytes_body {
    /// Cheaply clonable bytes.
    pub type Body = axum::body::Bytes;
}

/// The widget's files, in memory.
#[derive(Debug, Clone, Default)]
pub struct Assets {
    files: Arc<HashMap<String, Asset>>,
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("map") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Whether a file name carries a content hash: `name-<8+ hex>.ext`.
pub fn is_content_hashed(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default();
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        hash.len() >= 8
            && hash
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

impl Assets {
    /// Loads `dir` (usually `dist/widget`). A missing folder yields an empty
    /// set: the server runs, and asset requests say how to build the widget.
    pub fn load(dir: &Path) -> anyhow::Result<Assets> {
        let mut files = HashMap::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(Assets::default());
        };
        for entry in entries {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            if !path.is_file() || name.ends_with(".br") || name.ends_with(".gz") {
                continue;
            }
            let identity = std::fs::read(&path)?;
            let sibling = |suffix: &str| std::fs::read(dir.join(format!("{name}{suffix}"))).ok();
            let integrity = format!(
                "sha384-{}",
                base64::engine::general_purpose::STANDARD.encode(Sha384::digest(&identity))
            );
            let etag = HeaderValue::from_str(&crate::http::etag_of(&identity))?;
            files.insert(
                name.clone(),
                Asset {
                    content_type: content_type(&name),
                    brotli: sibling(".br").map(Into::into),
                    gzip: sibling(".gz").map(Into::into),
                    identity: identity.into(),
                    etag,
                    integrity,
                    immutable: is_content_hashed(&name),
                },
            );
        }
        Ok(Assets {
            files: Arc::new(files),
        })
    }

    /// The sha384 integrity value of a file, for `<script integrity>`.
    pub fn integrity(&self, name: &str) -> Option<&str> {
        self.files.get(name).map(|asset| asset.integrity.as_str())
    }

    /// The widget's content-hashed stylesheet (`tessera-<hash>.css`), which
    /// the loader links.
    pub fn stylesheet(&self) -> Option<&str> {
        self.files
            .keys()
            .map(String::as_str)
            .find(|name| name.ends_with(".css") && is_content_hashed(name))
    }

    /// Every file's name and integrity value.
    pub fn manifest(&self) -> serde_json::Value {
        let mut files: Vec<_> = self.files.iter().collect();
        files.sort_by(|a, b| a.0.cmp(b.0));
        let entries: serde_json::Map<String, serde_json::Value> = files
            .into_iter()
            .map(|(name, asset)| {
                (
                    name.clone(),
                    serde_json::json!({"integrity": asset.integrity, "bytes": asset.identity.len()}),
                )
            })
            .collect();
        serde_json::json!({ "files": entries })
    }
}

/// The asset routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/widget/v1/manifest.json", get(manifest))
        .route("/widget/v1/{file}", get(asset))
}

async fn manifest(State(state): State<AppState>, headers: HeaderMap) -> Response {
    crate::http::conditional_response(
        &headers,
        "application/json",
        "public, max-age=60, must-revalidate",
        state.assets().manifest().to_string().into_bytes(),
    )
}

fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case(coding) && !refused
        })
}

async fn asset(
    State(state): State<AppState>,
    UrlPath(file): UrlPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if file.is_empty()
        || file.len() > 128
        || file.starts_with('.')
        || !file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(ApiError::invalid("file", "not an asset name"));
    }
    let Some(asset) = state.assets().files.get(&file) else {
        let hint = if state.assets().files.is_empty() {
            " (no widget is built: run `cargo xtask dist`)"
        } else {
            ""
        };
        return Err(ApiError::NotFound(format!("no asset `{file}`{hint}")));
    };
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| value.as_bytes() == asset.etag.as_bytes());
    let (body, encoding) = if not_modified {
        (None, None)
    } else if let (Some(brotli), true) = (&asset.brotli, accepts(&headers, "br")) {
        (Some(brotli.clone()), Some("br"))
    } else if let (Some(gzip), true) = (&asset.gzip, accepts(&headers, "gzip")) {
        (Some(gzip.clone()), Some("gzip"))
    } else {
        (Some(asset.identity.clone()), None)
    };
    let mut response = match body {
        None => StatusCode::NOT_MODIFIED.into_response(),
        Some(body) => body.into_response(),
    };
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    if let Some(encoding) = encoding {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    out.insert(header::ETAG, asset.etag.clone());
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if asset.immutable {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=300, must-revalidate"
        }),
    );
    out.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    out.insert(
        axum::http::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    Ok(response)
}
