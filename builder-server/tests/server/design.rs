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
