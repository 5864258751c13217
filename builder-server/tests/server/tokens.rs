//! Admin tokens: listed, created, revoked, expired and their last use
//! recorded, through the admin API; their creation and revocation in the
//! instance's audit log; `tessera dev`'s session token ending with it.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::admin::{create_admin_token, token_lifetime};
use tessera_server::store::{Store, now};

use crate::support::{Req, Server, get, request, temp_dir};

/// One request and the status (and error field) it must get.
async fn check(server: &Server, cases: Vec<(&str, Req, StatusCode, Option<&str>)>) {
    let mut failures = Vec::new();
    for (name, request, status, field) in cases {
        let response = server.call(request).await;
        let field_ok = field.is_none_or(|field| response.json()["error"]["field"] == field);
        if response.status != status || !field_ok {
            failures.push(format!("{name}: {} {}", response.status, response.text()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn ids(tokens: &Value) -> Vec<String> {
    tokens
        .as_array()
        .unwrap()
        .iter()
        .map(|token| token["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn tokens_are_listed_created_and_revoked() {
    let server = Server::start().await;
    let (root, acme) = (server.root.clone(), server.acme.clone());
    let post = |body: Value| {
        request(Method::POST, "/api/admin-tokens")
            .token(&root)
            .json(&body)
    };
    check(
        &server,
        vec![
            (
                "no token",
                get("/api/admin-tokens"),
                StatusCode::UNAUTHORIZED,
                None,
            ),
            (
                "a tenant's token cannot create tokens",
                request(Method::POST, "/api/admin-tokens")
                    .token(&acme)
                    .json(&json!({"tenant": "acme", "label": "mine"})),
                StatusCode::FORBIDDEN,
                None,
            ),
            (
                "zero days",
                post(json!({"label": "x", "expires_in_days": 0})),
                StatusCode::BAD_REQUEST,
                Some("expires_in_days"),
            ),
            (
                "over a year",
                post(json!({"label": "x", "expires_in_days": 366})),
                StatusCode::BAD_REQUEST,
                Some("expires_in_days"),
            ),
            (
                "negative days",
                post(json!({"label": "x", "expires_in_days": -1})),
                StatusCode::BAD_REQUEST,
                None,
            ),
            (
                "empty label",
                post(json!({"label": " "})),
                StatusCode::BAD_REQUEST,
                Some("label"),
            ),
            (
                "control characters in the label",
                post(json!({"label": "a\u{1b}[31m"})),
                StatusCode::BAD_REQUEST,
                Some("label"),
            ),
            (
                "unknown field",
                post(json!({"label": "x", "scope": "all"})),
                StatusCode::BAD_REQUEST,
                None,
            ),
            (
                "bad tenant slug",
                post(json!({"label": "x", "tenant": "../x"})),
                StatusCode::BAD_REQUEST,
                Some("slug"),
            ),
            (
                "unknown tenant",
                post(json!({"label": "x", "tenant": "nobody"})),
                StatusCode::NOT_FOUND,
                None,
            ),
            (
                "malformed id",
                request(Method::DELETE, "/api/admin-tokens/x'y").token(&root),
                StatusCode::BAD_REQUEST,
                Some("id"),
            ),
            (
                "unknown id",
                request(Method::DELETE, "/api/admin-tokens/tok_000000000000").token(&root),
                StatusCode::NOT_FOUND,
                None,
            ),
            (
                "a tenant's token cannot read the instance log",
                get("/api/audit").token(&acme),
                StatusCode::FORBIDDEN,
                None,
            ),
        ],
    )
    .await;

    // Created: the secret once, the rest as listed; it works at once.
    let created = server
        .call(post(
            json!({"tenant": "acme", "label": "deploy bot", "expires_in_days": 7}),
        ))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let created = created.json();
    let (id, secret) = (
        created["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    );
    assert!(secret.starts_with("tsa_") && id.starts_with("tok_"));
    assert_eq!(
        (
            &created["tenant"],
            &created["label"],
            &created["last_used_at"]
        ),
        (&json!("acme"), &json!("deploy bot"), &Value::Null)
    );
    let week = now() + 7 * 86_400;
    assert!((week - 5..=week).contains(&created["expires_at"].as_i64().unwrap()));
    assert_eq!(
        server
            .call(get("/api/tenants/acme").token(&secret))
            .await
            .status,
        StatusCode::OK
    );

    // Listed: all of them for an all-tenants token, the tenant's own for a
    // tenant's token; never a secret.
    let all = server.call(get("/api/admin-tokens").token(&root)).await;
    assert!(!all.text().contains("tsa_"), "{}", all.text());
    let all = all.json();
    assert_eq!(all.as_array().unwrap().len(), 3);
    let own = server
        .call(get("/api/admin-tokens").token(&acme))
        .await
        .json();
    assert_eq!(own.as_array().unwrap().len(), 2);
    assert!(
        own.as_array()
            .unwrap()
            .iter()
            .all(|token| token["tenant"] == "acme")
    );
    let root_id = all
        .as_array()
        .unwrap()
        .iter()
        .find(|token| token["tenant"].is_null())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let month = now() + 30 * 86_400;
    assert!(all.as_array().unwrap().iter().all(|token| {
        let expires = token["expires_at"].as_i64().unwrap();
        token["id"] == id.as_str() || (month - 5..=month).contains(&expires)
    }));
    // The lists were asked for with these tokens, so they were used now.
    let used = server
        .call(get("/api/admin-tokens").token(&root))
        .await
        .json();
    for token in used.as_array().unwrap() {
        let last_used = token["last_used_at"].as_i64();
        assert!(
            last_used.is_some_and(|at| now() - at < 5),
            "every token was used just now: {token}"
        );
    }

    // Revoked: a tenant's token may revoke its own tenant's tokens, not
    // others'; a revoked token no longer works.
    let not_yours = server
        .call(request(Method::DELETE, &format!("/api/admin-tokens/{root_id}")).token(&acme))
        .await;
    assert_eq!(not_yours.status, StatusCode::NOT_FOUND);
    let revoked = server
        .call(request(Method::DELETE, &format!("/api/admin-tokens/{id}")).token(&acme))
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text());
    assert_eq!(
        server
            .call(get("/api/tenants/acme").token(&secret))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert!(
        !ids(&server
            .call(get("/api/admin-tokens").token(&root))
            .await
            .json())
        .contains(&id)
    );

    // Audited: a tenant's tokens in its log, every token in the instance's,
    // all-tenants tokens (no tenant) included; ids, never secrets.
    let tenant_log = server
        .call(get("/api/tenants/acme/audit").token(&acme))
        .await
        .json();
    let has = |log: &Value, action: &str, tenant: Value| {
        log.as_array().unwrap().iter().any(|entry| {
            entry["action"] == action
                && entry["resource"] == "admin-token"
                && entry["tenant"] == tenant
        })
    };
    assert!(has(&tenant_log, "create", json!("acme")));
    assert!(has(&tenant_log, "revoke", json!("acme")));
    let instance = server.call(get("/api/audit").token(&root)).await;
    assert!(!instance.text().contains("tsa_"));
    let instance = instance.json();
    assert!(
        has(&instance, "create", Value::Null),
        "the root token's creation"
    );
    assert!(has(&instance, "revoke", json!("acme")));
    assert!(instance.as_array().unwrap().iter().any(|entry| {
        entry["action"] == "revoke" && entry["before"].as_str().unwrap().contains(&id)
    }));
}

#[tokio::test]
async fn expired_tokens_stop_working_and_last_use_is_written_once_a_minute() {
    let server = Server::start().await;
    let store = server.state.store().clone();
    let expired = create_admin_token(&server.state, "test", None, "short", Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        server
            .call(get("/api/tenants").token(&expired.secret))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Still listed (expired), until revoked.
    let listed = store.admin_tokens(None).await.unwrap();
    assert!(listed.iter().any(|token| token.id == expired.id));

    let fresh = create_admin_token(
        &server.state,
        "test",
        None,
        "fresh",
        token_lifetime(None).unwrap(),
    )
    .await
    .unwrap();
    let last_used = |store: Store, id: String| async move {
        store
            .admin_tokens(None)
            .await
            .unwrap()
            .into_iter()
            .find(|token| token.id == id)
            .unwrap()
            .last_used_at
    };
    assert_eq!(last_used(store.clone(), fresh.id.clone()).await, None);
    // (touched at, then last_used_at)
    for (at, expected) in [
        (1_000, 1_000),
        (1_030, 1_000),
        (1_059, 1_000),
        (1_060, 1_060),
        (1_100, 1_060),
    ] {
        store.touch_admin_token(&fresh.id, at).await.unwrap();
        assert_eq!(
            last_used(store.clone(), fresh.id.clone()).await,
            Some(expected),
            "touched at {at}"
        );
    }
}

/// A free loopback port (free when asked, at least).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 GET with a bearer token; the status code.
fn status_of(port: u16, path: &str, token: &str) -> u16 {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn the_dev_session_token_ends_with_the_process() {
    let dir = temp_dir("dev-token");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["dev", "--port", &port.to_string(), "--data-dir"])
        .arg(dir.join("data"))
        .arg("--widget-dir")
        .arg(dir.join("no-widget"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let token = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.split_whitespace()
                .find(|word| word.starts_with("tsa_"))
                .map(str::to_owned)
        })
        .expect("the banner prints the session's admin token");
    assert_eq!(status_of(port, "/api/tenants", &token), 200);
    // Meanwhile it expires within the hour, unless renewed.
    let database = dir.join("data").join("tessera.sqlite3");
    {
        let store = Store::open(&database).await.unwrap();
        let session = store
            .admin_tokens(None)
            .await
            .unwrap()
            .into_iter()
            .find(|token| token.label == "tessera dev session")
            .unwrap();
        assert!(session.expires_at <= now() + 3600, "{session:?}");
        store.close().await;
    }
    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    assert!(child.wait().unwrap().success());
    let store = Store::open(&database).await.unwrap();
    assert!(store.admin_tokens(None).await.unwrap().is_empty());
    let log = store.instance_audit_log(100).await.unwrap();
    assert!(
        log.iter()
            .any(|entry| entry.action == "revoke" && entry.actor == "tessera-dev"),
        "{log:?}"
    );
    store.close().await;
}
