//! Widget assets: precompression, caching, CORS, integrity, and no external
//! URL in anything the server serves.

use axum::http::StatusCode;
use tessera_server::assets::is_content_hashed;

use crate::support::{Server, get};

#[tokio::test]
async fn precompressed_variants_by_accept_encoding() {
    let server = Server::start().await;
    let check = |accept: Option<&'static str>,
                 body: &'static [u8],
                 encoding: Option<&'static str>| (accept, body, encoding);
    let loader: &'static [u8] = b"/* loader */ import('./tessera-0123abcd.js');";
    for (accept, body, encoding) in [
        check(Some("gzip, deflate, br"), b"BROTLI-LOADER", Some("br")),
        check(Some("gzip"), b"GZIP-LOADER", Some("gzip")),
        check(Some("br;q=0, gzip"), b"GZIP-LOADER", Some("gzip")),
        check(Some("identity"), loader, None),
        check(None, loader, None),
    ] {
        let mut request = get("/widget/v1/tessera.js");
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        let response = server.call(request).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(response.body, body, "{accept:?}");
        assert_eq!(response.header("content-encoding"), encoding, "{accept:?}");
        assert_eq!(response.header("vary"), Some("accept-encoding"));
        assert_eq!(response.header("access-control-allow-origin"), Some("*"));
        assert_eq!(
            response.header("content-type"),
            Some("text/javascript; charset=utf-8")
        );
    }
}

#[tokio::test]
async fn hashed_files_are_immutable_and_etags_revalidate() {
    let server = Server::start().await;
    let wasm = server
        .call(get("/widget/v1/tessera-0123abcd.wasm").header("accept-encoding", "br"))
        .await;
    assert_eq!(
        wasm.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(
        wasm.header("cross-origin-resource-policy"),
        Some("cross-origin")
    );
    let loader = server.call(get("/widget/v1/tessera.js")).await;
    assert_eq!(
        loader.header("cache-control"),
        Some("public, max-age=300, must-revalidate")
    );
    let etag = loader.header("etag").unwrap().to_owned();
    let again = server
        .call(get("/widget/v1/tessera.js").header("if-none-match", &etag))
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(is_content_hashed("tessera-0123abcd.wasm") && !is_content_hashed("tessera.js"));
    assert!(!is_content_hashed("tessera-ABCDEF01.js"));
}

#[tokio::test]
async fn manifest_carries_sha384_integrity() {
    let server = Server::start().await;
    let manifest = server.call(get("/widget/v1/manifest.json")).await.json();
    let integrity = manifest["files"]["tessera.js"]["integrity"]
        .as_str()
        .unwrap();
    use base64::Engine as _;
    use sha2::Digest as _;
    let expected = format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(
            b"/* loader */ import('./tessera-0123abcd.js');"
        ))
    );
    assert_eq!(integrity, expected);
}

#[tokio::test]
async fn asset_names_are_checked() {
    let server = Server::start().await;
    for (uri, status) in [
        ("/widget/v1/..%2F..%2FCargo.toml", StatusCode::BAD_REQUEST),
        ("/widget/v1/.hidden", StatusCode::BAD_REQUEST),
        ("/widget/v1/missing.js", StatusCode::NOT_FOUND),
        ("/widget/v1/tessera.js.br", StatusCode::NOT_FOUND),
    ] {
        assert_eq!(server.call(get(uri)).await.status, status, "{uri}");
    }
}

/// Every HTML, CSS and JS response of the server, scanned for URLs that leave
/// this origin: no CDN, no remote fonts, nothing fetched from elsewhere.
#[tokio::test]
async fn no_external_urls_in_served_pages_styles_or_scripts() {
    let server = Server::start().await;
    let authorize = format!(
        "/dev/oidc/authorize?response_type=code&client_id=acme&redirect_uri={}&scope=openid&state=s&nonce=n&code_challenge={}&code_challenge_method=S256",
        crate::support::urlencode("https://shop.example/callback"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let uris = [
        "/t/acme/theme.css".to_owned(),
        "/t/globex/theme.css".to_owned(),
        "/widget/v1/tessera.js".to_owned(),
        authorize,
        "/dev/oidc/end_session".to_owned(),
    ];
    let mut scanned = 0;
    for uri in uris {
        let response = server.call(get(&uri)).await;
        let content_type = response
            .header("content-type")
            .unwrap_or_default()
            .to_owned();
        assert!(
            ["text/html", "text/css", "text/javascript"]
                .iter()
                .any(|t| content_type.starts_with(t)),
            "{uri}: {content_type}"
        );
        let text = response.text();
        for url in loaded_urls(&text) {
            let same_origin = !url.contains("://") && !url.starts_with("//")
                || url.starts_with(crate::support::PUBLIC_URL);
            assert!(same_origin, "{uri} loads {url}");
        }
        scanned += 1;
    }
    assert_eq!(scanned, 5);
}

/// Every URL a page, stylesheet or script would load: `src`, `href`,
/// `action`, `srcset`, `url(...)`, `@import` and module imports.
fn loaded_urls(text: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let lower = text.to_ascii_lowercase();
    for marker in [
        "src=", "href=", "action=", "srcset=", "url(", "@import", "import(", "from ",
    ] {
        let mut start = 0;
        while let Some(found) = lower[start..].find(marker) {
            let value_start = start + found + marker.len();
            let value: String = text[value_start..]
                .trim_start_matches([' ', '"', '\'', '('])
                .chars()
                .take_while(|c| !c.is_whitespace() && !"\"')>;".contains(*c))
                .collect();
            if !value.is_empty() {
                urls.push(value);
            }
            start = value_start;
        }
    }
    urls
}

#[test]
fn the_scanner_finds_what_it_must() {
    let found = loaded_urls(
        r#"<script src="https://cdn.example/x.js"></script><link href='//fonts.example/f.css'>
        <form action="https://evil.example/"></form> a { b: url(https://x.example/i.png) } @import "https://y.example/z.css";
        import("https://z.example/m.js"); <img src="/local.png">"#,
    );
    assert_eq!(found.len(), 7, "{found:?}");
    assert!(found.contains(&"//fonts.example/f.css".to_owned()));
}
