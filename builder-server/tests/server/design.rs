//! A tenant's design as revisions: drafts that no shop sees, publishing and
//! rolling back as one switch with audit rows, conflicts instead of
//! overwrites, and the older theme and texts writes kept in the history.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::support::*;

fn design_of(server_theme: &Value, texts: Value) -> Value {
    json!({"theme": server_theme, "texts": texts})
}

async fn save(server: &Server, base: i64, design: Value, note: &str) -> Resp {
    server
        .call(
            request(Method::POST, "/api/tenants/acme/design/revisions")
                .token(&server.root)
                .json(&json!({"base": base, "note": note, "design": design})),
        )
        .await
}

async fn publish(server: &Server, revision: i64) -> Resp {
    server
        .call(
            request(Method::POST, "/api/tenants/acme/design/publish")
                .token(&server.root)
                .json(&json!({"revision": revision})),
        )
        .await
}

async fn primary_in_css(server: &Server) -> bool {
    server
        .call(get("/t/acme/theme.css"))
        .await
        .text()
        .contains("#7c3aed")
}

#[tokio::test]
async fn a_draft_is_private_until_published_and_rollback_restores() {
    let server = Server::start().await;
    let history = server
        .call(get("/api/tenants/acme/design").token(&server.root))
        .await
        .json();
    assert_eq!(
        (history["published"].as_i64(), history["head"].as_i64()),
        (Some(1), Some(1))
    );
    let first = server
        .call(get("/api/tenants/acme/design/revisions/1").token(&server.root))
        .await
        .json();
    let mut theme = first["design"]["theme"].clone();
    theme["light"]["primary"] = json!("#7c3aed");
    let saved = save(
        &server,
        1,
        design_of(&theme, json!({"de": {"sign-in": "Rein"}})),
        "violet",
    )
    .await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text());
    assert_eq!(saved.json()["revision"], 2);
    // A draft: the shop's theme and texts have not changed.
    assert!(!primary_in_css(&server).await);
    let german = server.call(get("/t/acme/i18n/de.json")).await.json();
    assert_ne!(german["messages"]["sign-in"], "Rein");
    // Published: both change at once.
    let published = publish(&server, 2).await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text());
    assert_eq!(published.json()["published"], 2);
    assert!(primary_in_css(&server).await);
    let german = server.call(get("/t/acme/i18n/de.json")).await.json();
    assert_eq!(german["messages"]["sign-in"], "Rein");
    // Rolled back: revision 1 again, texts included.
    assert_eq!(publish(&server, 1).await.status, StatusCode::OK);
    assert!(!primary_in_css(&server).await);
    let german = server.call(get("/t/acme/i18n/de.json")).await.json();
    assert_ne!(german["messages"]["sign-in"], "Rein");
    let actions: Vec<(String, String)> = server
        .state
        .store()
        .audit_log(server.state.tenant("acme").await.unwrap().id, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|entry| entry.resource == "design")
        .map(|entry| (entry.action, entry.after.unwrap_or_default()))
        .collect();
    assert_eq!(
        actions,
        [
            ("rollback".to_owned(), "{\"revision\":1}".to_owned()),
            ("publish".to_owned(), "{\"revision\":2}".to_owned()),
            (
                "save".to_owned(),
                "{\"note\":\"violet\",\"revision\":2}".to_owned()
            ),
        ]
    );
    let history = server
        .call(get("/api/tenants/acme/design").token(&server.root))
        .await
        .json();
    assert_eq!(
        (history["published"].as_i64(), history["head"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(history["revisions"][0]["note"], "violet");
    assert_eq!(
        history["revisions"][0]["author"]
            .as_str()
            .map(|a| a.starts_with("tok_")),
        Some(true)
    );
}

#[tokio::test]
async fn two_editors_get_a_conflict_never_an_overwrite() {
    let server = Server::start().await;
    let theme = server
        .call(get("/api/tenants/acme/design/revisions/1").token(&server.root))
        .await
        .json()["design"]["theme"]
        .clone();
    // Both started from revision 1; the first save wins, the second is told.
    assert_eq!(
        save(&server, 1, design_of(&theme, json!({})), "first")
            .await
            .status,
        StatusCode::CREATED
    );
    let second = save(&server, 1, design_of(&theme, json!({})), "second").await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert!(
        second
            .text()
            .contains("revision 2 of the design was saved by tok_"),
        "{}",
        second.text()
    );
    let history = server
        .call(get("/api/tenants/acme/design").token(&server.root))
        .await
        .json();
    assert_eq!(history["head"], 2, "the second save wrote nothing");
}

#[tokio::test]
async fn a_bad_design_is_refused_beside_its_field_and_saves_nothing() {
    let server = Server::start().await;
    let theme = server
        .call(get("/api/tenants/acme/design/revisions/1").token(&server.root))
        .await
        .json()["design"]["theme"]
        .clone();
    let mut pale = theme.clone();
    pale["light"]["text"] = json!("#eeeeee");
    for (design, field) in [
        (design_of(&pale, json!({})), "theme.light.text"),
        (design_of(&theme, json!({"xx": {}})), "texts.xx"),
        (
            design_of(&theme, json!({"de": {"sign-in": "Rein {"}})),
            "texts.de.sign-in",
        ),
        (
            design_of(&theme, json!({"de": {"no-such-message": "x"}})),
            "texts.de.no-such-message",
        ),
    ] {
        let refused = save(&server, 1, design, "bad").await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{field}: {}",
            refused.text()
        );
        assert_eq!(
            refused.json()["error"]["field"],
            field,
            "{}",
            refused.text()
        );
    }
    let contrast = save(&server, 1, design_of(&pale, json!({})), "bad")
        .await
        .json();
    assert!(
        contrast["error"]["message"]
            .as_str()
            .unwrap()
            .contains("would pass"),
        "the refusal suggests a colour: {contrast}"
    );
    let history = server
        .call(get("/api/tenants/acme/design").token(&server.root))
        .await
        .json();
    assert_eq!(history["head"], 1);
    // Another tenant's token sees nothing of it.
    let other = server
        .call(get("/api/tenants/globex/design").token(&server.acme))
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let missing = server
        .call(get("/api/tenants/acme/design/revisions/9").token(&server.root))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(publish(&server, 9).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_older_writes_save_and_publish_a_revision() {
    let server = Server::start().await;
    let texts = server
        .call(
            request(Method::PUT, "/api/tenants/acme/texts/de")
                .token(&server.root)
                .header("if-match", "\"x0\"")
                .json(&json!({"sign-in": "Rein"})),
        )
        .await;
    assert_eq!(texts.status, StatusCode::OK, "{}", texts.text());
    let history = server
        .call(get("/api/tenants/acme/design").token(&server.root))
        .await
        .json();
    assert_eq!(
        (history["published"].as_i64(), history["head"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(history["revisions"][0]["note"], "texts/de replaced");
    let second = server
        .call(get("/api/tenants/acme/design/revisions/2").token(&server.root))
        .await
        .json();
    assert_eq!(second["design"]["texts"]["de"]["sign-in"], "Rein");
}

/// Source Code Pro Medium (SIL Open Font License, beside the file).
const FONT: &[u8] = include_bytes!("../../../tests/fixtures/fonts/SourceCodePro-Medium.woff2");

/// A WOFF2 header for a file of `size` bytes: passes the upload's check.
fn synthetic_woff2(size: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; size];
    bytes[..4].copy_from_slice(b"wOF2");
    bytes[4..8].copy_from_slice(&0x0001_0000u32.to_be_bytes());
    bytes[8..12].copy_from_slice(&u32::try_from(size).unwrap().to_be_bytes());
    bytes[12..14].copy_from_slice(&3u16.to_be_bytes());
    bytes[20..24].copy_from_slice(&16u32.to_be_bytes());
    bytes
}

async fn upload_font(server: &Server, content_type: &str, bytes: Vec<u8>) -> Resp {
    server
        .call(
            request(Method::POST, "/api/tenants/acme/fonts")
                .token(&server.root)
                .header("content-type", content_type)
                .raw(bytes),
        )
        .await
}

#[tokio::test]
async fn a_font_is_uploaded_named_by_a_draft_and_served_once_published() {
    let server = Server::start().await;
    // Uploads: the type, the format and the size are checked.
    let untyped = upload_font(&server, "application/octet-stream", FONT.to_vec()).await;
    assert_eq!(untyped.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let not_a_font = upload_font(&server, "font/woff2", b"<svg/>".repeat(20)).await;
    assert_eq!(
        not_a_font.status,
        StatusCode::BAD_REQUEST,
        "{}",
        not_a_font.text()
    );
    assert!(
        not_a_font.text().contains("not a WOFF2 font"),
        "{}",
        not_a_font.text()
    );
    let uploaded = upload_font(&server, "font/woff2", FONT.to_vec()).await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.text());
    let file = uploaded.json()["file"].as_str().unwrap().to_owned();
    assert_eq!(file, tessera_server::theme::font_digest(FONT));
    assert_eq!(uploaded.json()["size"], FONT.len());
    // The same file again: the same name, one audit row.
    let again = upload_font(&server, "font/woff2", FONT.to_vec()).await;
    assert_eq!(again.json()["file"], file.as_str());
    // Larger than the API's body limit (64 KiB) yet within the font's.
    let large = upload_font(&server, "font/woff2", synthetic_woff2(300 * 1024)).await;
    assert_eq!(large.status, StatusCode::CREATED, "{}", large.text());
    let too_large = upload_font(&server, "font/woff2", synthetic_woff2(520 * 1024)).await;
    assert!(too_large.text().contains("512 KiB"), "{}", too_large.text());
    let listed = server
        .call(get("/api/tenants/acme/fonts").token(&server.root))
        .await
        .json();
    assert_eq!(listed.as_array().map(Vec::len), Some(2));

    // A theme naming a file the tenant lacks is refused, naming the fix.
    let mut theme = server
        .call(get("/api/tenants/acme/design/revisions/1").token(&server.root))
        .await
        .json()["design"]["theme"]
        .clone();
    theme["font"] =
        json!({"family": "Source Code Pro", "faces": [{"weight": 500, "file": "0".repeat(64)}]});
    let missing = save(&server, 1, design_of(&theme, json!({})), "font").await;
    assert_eq!(
        missing.status,
        StatusCode::BAD_REQUEST,
        "{}",
        missing.text()
    );
    assert_eq!(missing.json()["error"]["field"], "theme.font");
    assert!(missing.text().contains("upload the WOFF2 file first"));
    theme["font"]["faces"][0]["file"] = json!(file);
    let saved = save(&server, 1, design_of(&theme, json!({})), "font").await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text());

    // A draft: nothing public names or serves the font.
    let config = server.call(get("/t/acme/config.json")).await.json();
    assert_eq!(config["fonts"], false);
    assert_eq!(config["font_family"], Value::Null);
    assert_eq!(
        server.call(get("/t/acme/fonts.css")).await.status,
        StatusCode::NOT_FOUND
    );
    let path = format!("/t/acme/fonts/{file}.woff2");
    assert_eq!(server.call(get(&path)).await.status, StatusCode::NOT_FOUND);
    // Its preview address serves both.
    let tenant = server.state.tenant("acme").await.unwrap();
    let preview = tessera_server::public::preview_base(&server.state, &tenant, 2);
    let preview = preview.strip_prefix(server.state.public_url()).unwrap();
    let preview_css = server
        .call(get(&format!("{preview}/t/acme/fonts.css")))
        .await;
    assert_eq!(preview_css.status, StatusCode::OK);
    assert!(
        preview_css
            .text()
            .contains(&format!("{preview}/t/acme/fonts/{file}.woff2"))
    );
    let preview_font = server.call(get(&format!("{preview}{path}"))).await;
    assert_eq!(preview_font.body, FONT);

    // Published: the configuration says so, the rules name the file, the
    // theme's stack starts with the family, and the file is served for
    // good to any origin.
    assert_eq!(publish(&server, 2).await.status, StatusCode::OK);
    let config = server.call(get("/t/acme/config.json")).await.json();
    assert_eq!(config["fonts"], true);
    let family = format!("Source Code Pro {}", &file[..8]);
    assert_eq!(config["font_family"], family.as_str());
    let rules = server.call(get("/t/acme/fonts.css")).await.text();
    assert!(
        rules.contains(&format!("font-family: \"{family}\";")),
        "{rules}"
    );
    assert!(
        rules.contains(&format!("{}{path}", server.state.public_url())),
        "{rules}"
    );
    assert!(rules.contains("font-weight: 500;"));
    let css = server.call(get("/t/acme/theme.css")).await.text();
    assert!(
        css.contains(&format!("--tessera-font-family: \"{family}\", system-ui")),
        "{css}"
    );
    let served = server.call(get(&path)).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body, FONT);
    assert_eq!(served.headers["content-type"], "font/woff2");
    assert_eq!(
        served.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(served.headers["access-control-allow-origin"], "*");
    // A stored file the published theme does not name stays private, and
    // a name that is no digest is not looked up.
    let other = listed[1]["file"].as_str().unwrap();
    let unnamed = server
        .call(get(&format!("/t/acme/fonts/{other}.woff2")))
        .await;
    assert_eq!(unnamed.status, StatusCode::NOT_FOUND);
    assert_eq!(
        server.call(get("/t/acme/fonts/..%2F.woff2")).await.status,
        StatusCode::NOT_FOUND
    );
    // The snippet's policy lets the page load it.
    let snippet = server
        .call(get("/api/tenants/acme/snippet").token(&server.root))
        .await
        .json();
    assert_eq!(
        snippet["content_security_policy"]["font-src"],
        server.state.public_url()
    );
    // Each new file was audited once.
    let uploads = server
        .state
        .store()
        .audit_log(tenant.id, 20)
        .await
        .unwrap()
        .into_iter()
        .filter(|entry| entry.resource == "font" && entry.action == "upload")
        .count();
    assert_eq!(uploads, 2);
}
