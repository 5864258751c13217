//! The console: sign-in by one-time link, the session cookie and its
//! timeouts' storage, CSRF, the pages' CSP and escaping, languages.

use axum::http::{Method, StatusCode};
use tessera_server::console::{CONTENT_SECURITY_POLICY, create_login_link};

use super::support::*;

/// Signs in with a fresh login link; returns the session's `Cookie` header.
async fn signed_in(server: &Server) -> String {
    let path = create_login_link(server.state.store(), "test", 10)
        .await
        .unwrap();
    let token = path.split_once("token=").unwrap().1.to_owned();
    let response = server
        .call(request(Method::POST, "/console/login").form(&[("token", &token)]))
        .await;
    assert_eq!(
        response.status,
        StatusCode::SEE_OTHER,
        "{}",
        response.text()
    );
    let cookie = response.header("set-cookie").unwrap().to_owned();
    cookie.split(';').next().unwrap().to_owned()
}

fn csrf_of(page: &str) -> String {
    let start = page.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    page[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_root_and_a_stranger_are_sent_to_sign_in() {
    let server = Server::start().await;
    let root = server.call(get("/")).await;
    assert_eq!(root.status, StatusCode::SEE_OTHER);
    assert_eq!(root.header("location"), Some("/console/"));
    let console = server.call(get("/console/")).await;
    assert_eq!(console.status, StatusCode::SEE_OTHER);
    assert_eq!(console.header("location"), Some("/console/login"));
    let health = server.call(get("/console/tenants/acme/health")).await;
    assert_eq!(health.status, StatusCode::SEE_OTHER);
    // A cookie that names no session is no better.
    let forged = server
        .call(get("/console/").header("cookie", "tessera_console=made-up"))
        .await;
    assert_eq!(forged.header("location"), Some("/console/login"));
}

#[tokio::test]
async fn a_login_link_signs_in_once_into_a_strict_cookie() {
    let server = Server::start().await;
    let path = create_login_link(server.state.store(), "test", 10)
        .await
        .unwrap();
    // Opening the link spends nothing: link previews fetch links.
    let page = server.call(get(&path)).await;
    assert_eq!(page.status, StatusCode::OK);
    let token = path.split_once("token=").unwrap().1.to_owned();
    assert!(page.text().contains(&token));
    let first = server
        .call(request(Method::POST, "/console/login").form(&[("token", &token)]))
        .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let cookie = first.header("set-cookie").unwrap();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=43200",
    ] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing from {cookie}"
        );
    }
    // On loopback over http a Secure cookie would never come back.
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(
        !cookie.contains(&token),
        "the link's secret is not the session's"
    );
    let again = server
        .call(request(Method::POST, "/console/login").form(&[("token", &token)]))
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.header("set-cookie").is_none());
    assert!(again.text().contains("already used or expired"));
    // The creation is audited; the secret is not in the log.
    let log = server.state.store().instance_audit_log(10).await.unwrap();
    assert!(
        log.iter()
            .any(|entry| entry.resource == "console-login-link")
    );
    assert!(
        log.iter()
            .all(|entry| !entry.after.clone().unwrap_or_default().contains(&token))
    );
}

#[tokio::test]
async fn an_expired_link_and_a_bad_lifetime_are_refused() {
    let server = Server::start().await;
    assert!(
        create_login_link(server.state.store(), "test", 0)
            .await
            .is_err()
    );
    assert!(
        create_login_link(server.state.store(), "test", 61)
            .await
            .is_err()
    );
    let spent = server
        .call(request(Method::POST, "/console/login").form(&[("token", "not-a-link")]))
        .await;
    assert_eq!(spent.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pages_load_only_our_files_under_a_strict_policy() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    let page = server
        .call(get("/console/").header("cookie", &cookie))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let policy = page.header("content-security-policy").unwrap();
    assert_eq!(policy, CONTENT_SECURITY_POLICY);
    assert!(!policy.contains("unsafe"), "{policy}");
    assert_eq!(page.header("cache-control"), Some("no-store"));
    // Not `no-referrer`: browsers then post the console's forms with
    // `Origin: null`, which the CSRF check refuses.
    assert_eq!(page.header("referrer-policy"), Some("same-origin"));
    let html = page.text();
    assert!(html.contains("acme") && html.contains("globex"), "{html}");
    assert!(
        !html.contains("style=") && !html.contains("<style"),
        "inline style"
    );
    // The stylesheet and script it names are ours, and match their pins.
    for (attribute, kind) in [
        ("href=\"/console/static/console-", "css"),
        ("src=\"/console/static/console-", "js"),
    ] {
        let start =
            html.find(attribute).unwrap() + attribute.len() - "/console/static/console-".len();
        let href = html[start..].split('"').next().unwrap();
        assert!(href.ends_with(kind), "{href}");
        let asset = server.call(get(href)).await;
        assert_eq!(asset.status, StatusCode::OK);
        assert!(asset.header("cache-control").unwrap().contains("immutable"));
        use base64::Engine as _;
        use sha2::Digest as _;
        let integrity = format!(
            "sha384-{}",
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&asset.body))
        );
        assert!(
            html.contains(&integrity),
            "{href} is not pinned by {integrity}"
        );
    }
    assert_eq!(
        server.call(get("/console/static/evil.js")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn what_tenants_wrote_is_escaped() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    let current = server
        .call(get("/api/tenants/acme").token(&server.root))
        .await;
    let mut config = current.json()["config"].clone();
    config["display_name"] = "<script>alert(1)</script> & Co".into();
    let updated = server
        .call(
            request(Method::PUT, "/api/tenants/acme")
                .token(&server.root)
                .header("if-match", current.header("etag").unwrap())
                .json(&config),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text());
    for path in ["/console/", "/console/tenants/acme"] {
        let html = server
            .call(get(path).header("cookie", &cookie))
            .await
            .text();
        assert!(!html.contains("<script>alert"), "{path}: {html}");
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; Co"),
            "{path}"
        );
    }
    // The audit log shows the change as a before/after pair, escaped too.
    let audit = server
        .call(get("/console/audit?tenant=acme&action=update").header("cookie", &cookie))
        .await
        .text();
    assert!(audit.contains("display_name"), "{audit}");
    assert!(audit.contains("Shop acme") && !audit.contains("<script>alert"));
}

#[tokio::test]
async fn deleting_needs_the_session_s_csrf_token_and_the_slug() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    let form = server
        .call(get("/console/tenants/globex/delete").header("cookie", &cookie))
        .await
        .text();
    let csrf = csrf_of(&form);
    // Without the token, with another, or from another origin: refused.
    for (token, origin) in [
        ("", None),
        ("forged", None),
        (csrf.as_str(), Some("https://evil.example")),
    ] {
        let mut attempt = request(Method::POST, "/console/tenants/globex/delete")
            .header("cookie", &cookie)
            .form(&[("csrf", token), ("confirm", "globex")]);
        if let Some(origin) = origin {
            attempt = attempt.header("origin", origin);
        }
        assert_eq!(
            server.call(attempt).await.status,
            StatusCode::FORBIDDEN,
            "{token} {origin:?}"
        );
    }
    // The wrong slug: refused with the field's message, nothing deleted.
    let wrong = server
        .call(
            request(Method::POST, "/console/tenants/globex/delete")
                .header("cookie", &cookie)
                .form(&[("csrf", &csrf), ("confirm", "acme")]),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.text().contains("aria-invalid=\"true\""));
    assert!(
        server
            .state
            .store()
            .tenant("globex")
            .await
            .unwrap()
            .is_some()
    );
    let done = server
        .call(
            request(Method::POST, "/console/tenants/globex/delete")
                .header("cookie", &cookie)
                .header("origin", PUBLIC_URL)
                .form(&[("csrf", &csrf), ("confirm", "globex")]),
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    assert!(
        server
            .state
            .store()
            .tenant("globex")
            .await
            .unwrap()
            .is_none()
    );
    let log = server.state.store().instance_audit_log(5).await.unwrap();
    assert!(
        log.iter()
            .any(|entry| entry.action == "delete" && entry.actor == "console:login-link (Owner)"),
        "{log:?}"
    );
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    let page = server
        .call(get("/console/").header("cookie", &cookie))
        .await
        .text();
    let out = server
        .call(
            request(Method::POST, "/console/logout")
                .header("cookie", &cookie)
                .form(&[("csrf", &csrf_of(&page))]),
        )
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = server
        .call(get("/console/").header("cookie", &cookie))
        .await;
    assert_eq!(after.header("location"), Some("/console/login"));
}

#[tokio::test]
async fn the_console_speaks_russian_when_asked() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    let by_browser = server
        .call(
            get("/console/")
                .header("cookie", &cookie)
                .header("accept-language", "ru-RU,ru;q=0.9"),
        )
        .await
        .text();
    assert!(by_browser.contains("lang=\"ru\"") && by_browser.contains("Магазины"));
    // A choice made with ?lang= is remembered in a cookie of its own.
    let chosen = server.call(get("/console/login?lang=ru")).await;
    let remembered = chosen.header("set-cookie").unwrap();
    assert!(
        remembered.starts_with("tessera_console_lang=ru;"),
        "{remembered}"
    );
    let english = server
        .call(get("/console/login").header("accept-language", "de"))
        .await
        .text();
    assert!(english.contains("lang=\"en\"") && english.contains("Sign in to the console"));
}

#[tokio::test]
async fn health_is_the_verifier_s_own_check() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    // The development issuer of the test server listens nowhere: its
    // discovery cannot be fetched, and the check says so.
    let health = server
        .call(get("/console/tenants/acme/health").header("cookie", &cookie))
        .await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.text());
    let health = health.json();
    assert_eq!(health["ok"], false);
    assert!(!health["problem"].as_str().unwrap().is_empty());
    let unknown = server
        .call(get("/console/tenants/nobody/health").header("cookie", &cookie))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_session_ends_when_idle_or_too_old() {
    use tessera_server::store::{NewConsoleSession, now};
    let server = Server::start().await;
    let store = server.state.store();
    let session = |id: &'static [u8]| NewConsoleSession {
        id_hash: id,
        csrf: "c",
        subject: "s",
        display_name: "d",
        role: "owner",
    };
    store
        .create_console_session(&session(b"fresh"))
        .await
        .unwrap();
    let at = now();
    assert!(
        store
            .console_session(b"fresh", at - 60, at - 60)
            .await
            .unwrap()
            .is_some()
    );
    // Unused since before the idle limit: gone, and stays gone.
    assert!(
        store
            .console_session(b"fresh", at - 60, at + 1)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .console_session(b"fresh", at - 60, at - 60)
            .await
            .unwrap()
            .is_none()
    );
    // Created before the absolute limit, however recently used: gone.
    store
        .create_console_session(&session(b"old"))
        .await
        .unwrap();
    assert!(
        store
            .console_session(b"old", at + 1, at - 60)
            .await
            .unwrap()
            .is_none()
    );
}
