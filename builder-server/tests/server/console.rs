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

/// The form fields of `page`'s edit form, as a browser would submit them.
fn edit_fields(page: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for name in [
        "csrf",
        "version",
        "display_name",
        "issuer",
        "client_id",
        "audience",
        "scopes",
        "default_locale",
        "enabled_locales",
    ] {
        let marker = format!("name=\"{name}\" value=\"");
        let start = page
            .find(&marker)
            .unwrap_or_else(|| panic!("{name} in {page}"))
            + marker.len();
        fields.push((
            name.to_owned(),
            page[start..].split('"').next().unwrap().to_owned(),
        ));
    }
    for name in ["redirect_uris", "allowed_origins", "providers"] {
        let marker = format!("name=\"{name}\" rows=\"3\">");
        let start = page.find(&marker).unwrap() + marker.len();
        let value = page[start..].split("</textarea>").next().unwrap();
        fields.push((
            name.to_owned(),
            value.replace("&#58;", ":").replace("&#47;", "/"),
        ));
    }
    for (name, choice) in [("token_storage", "memory"), ("audience_request", "none")] {
        assert!(page.contains(&format!("<option value=\"{choice}\" selected>")));
        fields.push((name.to_owned(), choice.to_owned()));
    }
    fields
}

async fn post_edit(server: &Server, cookie: &str, fields: &[(String, String)]) -> Resp {
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    server
        .call(
            request(Method::POST, "/console/tenants/acme/edit")
                .header("cookie", cookie)
                .form(&borrowed),
        )
        .await
}

fn with(fields: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(field, old)| {
            (
                field.clone(),
                if field == name {
                    value.to_owned()
                } else {
                    old.clone()
                },
            )
        })
        .collect()
}

#[tokio::test]
async fn editing_shows_the_message_beside_its_field_and_saves_nothing_half() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    let form = server
        .call(get("/console/tenants/acme/edit").header("cookie", &cookie))
        .await
        .text();
    let fields = edit_fields(&form);
    let before = server.state.store().tenant("acme").await.unwrap().unwrap();
    // A bad redirect URI: the form comes back as typed, the message beside
    // that field, and nothing changed (not even the good name beside it).
    let bad = with(
        &with(
            &fields,
            "redirect_uris",
            "https://shop.example/ok\njavascript:alert(1)",
        ),
        "display_name",
        "Renamed",
    );
    let refused = post_edit(&server, &cookie, &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let html = refused.text();
    assert!(
        html.contains("aria-describedby=\"redirect_uris-error\""),
        "{html}"
    );
    assert!(html.contains("id=\"redirect_uris-error\""));
    assert!(html.contains("value=\"Renamed\""), "the typed values stay");
    let after = server.state.store().tenant("acme").await.unwrap().unwrap();
    assert_eq!(after.config, before.config);
    // A good edit is saved and audited under the console admin.
    let good = with(&fields, "display_name", "Acme Renamed");
    let saved = post_edit(&server, &cookie, &good).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let after = server.state.store().tenant("acme").await.unwrap().unwrap();
    assert_eq!(after.config.value.display_name, "Acme Renamed");
    assert_eq!(
        after.config.value.redirect_uris,
        before.config.value.redirect_uris
    );
    // The same form again is stale: saved by someone else meanwhile.
    let stale = post_edit(&server, &cookie, &with(&fields, "display_name", "Lost")).await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST);
    assert!(stale.text().contains("nothing was saved"));
    let entries = server.state.store().instance_audit_log(3).await.unwrap();
    assert_eq!(entries[0].actor, "console:login-link (Owner)");
    // Without the CSRF token: refused.
    let forged = post_edit(&server, &cookie, &with(&fields, "csrf", "x")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_tenant_exported_is_imported_again_and_bad_documents_create_nothing() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    let exported = server
        .call(get("/console/tenants/acme/export").header("cookie", &cookie))
        .await;
    assert_eq!(exported.status, StatusCode::OK);
    assert!(
        exported
            .header("content-disposition")
            .unwrap()
            .contains("acme.json")
    );
    let mut document = exported.json();
    document["slug"] = "acme-copy".into();
    // Its audience must be its own (unique per issuer).
    document["config"]["audience"] = "acme-copy-api".into();
    let page = server
        .call(get("/console/import").header("cookie", &cookie))
        .await
        .text();
    let csrf = csrf_of(&page);
    let import = |text: String| {
        let (cookie, csrf) = (cookie.clone(), csrf.clone());
        let server = &server;
        async move {
            server
                .call(
                    request(Method::POST, "/console/import")
                        .header("cookie", &cookie)
                        .form(&[("csrf", &csrf), ("document", &text)]),
                )
                .await
        }
    };
    let slugs_before = server.state.store().tenant_slugs().await.unwrap();
    for bad in [
        "not json".to_owned(),
        document.to_string().replace("acme-copy-api", "acme-api"),
    ] {
        let refused = import(bad.clone()).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(refused.text().contains("role=\"alert\""));
        assert_eq!(
            server.state.store().tenant_slugs().await.unwrap(),
            slugs_before
        );
    }
    let created = import(document.to_string()).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text());
    assert_eq!(
        created.header("location"),
        Some("/console/tenants/acme-copy")
    );
    let copy = server
        .state
        .store()
        .tenant("acme-copy")
        .await
        .unwrap()
        .unwrap();
    let original = server.state.store().tenant("acme").await.unwrap().unwrap();
    assert_eq!(copy.theme.value, original.theme.value);
}

#[tokio::test]
async fn admin_tokens_are_created_once_shown_and_revoked() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    let page = server
        .call(get("/console/tokens").header("cookie", &cookie))
        .await
        .text();
    let csrf = csrf_of(&page);
    let create = |days: &'static str| {
        let (cookie, csrf) = (cookie.clone(), csrf.clone());
        let server = &server;
        async move {
            server
                .call(
                    request(Method::POST, "/console/tokens")
                        .header("cookie", &cookie)
                        .form(&[
                            ("csrf", &csrf),
                            ("tenant", "acme"),
                            ("label", "ci"),
                            ("days", days),
                        ]),
                )
                .await
        }
    };
    assert_eq!(create("0").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(create("many").await.status, StatusCode::BAD_REQUEST);
    let created = create("7").await;
    assert_eq!(created.status, StatusCode::OK);
    let html = created.text();
    let start = html.find("<pre><code>").unwrap() + "<pre><code>".len();
    let secret = html[start..].split('<').next().unwrap().to_owned();
    assert!(secret.starts_with("tsa_"), "{secret}");
    // The token works on the API, for its tenant only.
    assert_eq!(
        server
            .call(get("/api/tenants/acme").token(&secret))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        server
            .call(get("/api/tenants/globex").token(&secret))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The list never shows a secret again.
    let listed = server
        .call(get("/console/tokens").header("cookie", &cookie))
        .await
        .text();
    assert!(!listed.contains(&secret));
    let tokens = server
        .state
        .store()
        .admin_tokens(Some("acme"))
        .await
        .unwrap();
    let id = tokens
        .iter()
        .find(|token| token.label == "ci")
        .unwrap()
        .id
        .clone();
    let revoked = server
        .call(
            request(Method::POST, &format!("/console/tokens/{id}/revoke"))
                .header("cookie", &cookie)
                .form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        server
            .call(get("/api/tenants/acme").token(&secret))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

/// A session with `role`, as a sign-in at the admins' IdP would open it;
/// returns its `Cookie` header.
async fn signed_in_as(server: &Server, role: &str) -> String {
    use sha2::Digest as _;
    let secret = format!("secret-of-{}", role.replace([' ', ':'], "-"));
    let hash = sha2::Sha256::digest(secret.as_bytes()).to_vec();
    server
        .state
        .store()
        .create_console_session(&tessera_server::store::NewConsoleSession {
            id_hash: &hash,
            csrf: "csrf-token",
            subject: "idp-subject",
            display_name: "Grace",
            role,
        })
        .await
        .unwrap();
    format!("tessera_console={secret}")
}

#[tokio::test]
async fn roles_limit_what_an_admin_sees_and_changes() {
    let server = Server::start().await;
    let editor = signed_in_as(&server, "editor:acme viewer:globex").await;
    let page = |path: &'static str, cookie: &String| {
        let cookie = cookie.clone();
        let server = &server;
        async move { server.call(get(path).header("cookie", &cookie)).await }
    };
    // Both tenants are listed; only acme is editable; owner pages are not theirs.
    let list = page("/console/", &editor).await.text();
    assert!(list.contains("/console/tenants/acme") && list.contains("/console/tenants/globex"));
    assert!(!list.contains("/console/import") && !list.contains("/console/tokens"));
    assert_eq!(
        page("/console/tenants/acme/edit", &editor).await.status,
        StatusCode::OK
    );
    assert_eq!(
        page("/console/tenants/globex/edit", &editor).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        page("/console/tenants/globex", &editor).await.status,
        StatusCode::OK
    );
    for owners_only in [
        "/console/tokens",
        "/console/import",
        "/console/tenants/acme/delete",
    ] {
        assert_eq!(
            page(owners_only, &editor).await.status,
            StatusCode::FORBIDDEN,
            "{owners_only}"
        );
    }
    let refused = server
        .call(
            request(Method::POST, "/console/tenants/acme/delete")
                .header("cookie", &editor)
                .form(&[("csrf", "csrf-token"), ("confirm", "acme")]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(server.state.store().tenant("acme").await.unwrap().is_some());
    // A viewer of one tenant does not even learn that the other exists.
    let viewer = signed_in_as(&server, "viewer:globex").await;
    let list = page("/console/", &viewer).await.text();
    assert!(!list.contains("/console/tenants/acme") && list.contains("/console/tenants/globex"));
    assert_eq!(
        page("/console/tenants/acme", &viewer).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        page("/console/tenants/acme/health", &viewer).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        page("/console/tenants/acme/export", &viewer).await.status,
        StatusCode::NOT_FOUND
    );
    let audit = page("/console/audit", &viewer).await.text();
    assert!(
        audit.contains(">globex<") && !audit.contains(">acme<"),
        "{audit}"
    );
    // No role at all: nothing is listed.
    let nobody = signed_in_as(&server, "").await;
    assert!(
        !page("/console/", &nobody)
            .await
            .text()
            .contains("/console/tenants/")
    );
}

#[tokio::test]
async fn an_idp_callback_counts_only_once_in_the_browser_that_started_it() {
    use sha2::Digest as _;
    use tessera_server::console::oidc::{ConsoleIdp, SignInError, finish};
    use tessera_server::store::{ConsoleFlow, now};
    let server = Server::start().await;
    let hash = |text: &str| sha2::Sha256::digest(text.as_bytes()).to_vec();
    // The IdP is unreachable: a flow that passed the binding would fail
    // there, with another error.
    let idp = ConsoleIdp {
        issuer: "http://127.0.0.1:9/idp".into(),
        client_id: "tessera-console".into(),
        client_secret: None,
        roles_claim: "tessera_roles".into(),
    };
    let flow = |state: &str, expires_at: i64| ConsoleFlow {
        state_hash: hash(state),
        browser_hash: hash("this-browser"),
        verifier: "v".repeat(43),
        nonce: "n".into(),
        expires_at,
    };
    let store = server.state.store();
    store
        .start_console_flow(&flow("s1", now() + 600))
        .await
        .unwrap();
    let other_browser = finish(&server.state, &idp, "code", "s1", Some("another-browser")).await;
    assert!(
        matches!(other_browser, Err(SignInError::UnknownFlow)),
        "{other_browser:?}"
    );
    // The attempt spent it: the right browser cannot use it afterwards.
    let spent = finish(&server.state, &idp, "code", "s1", Some("this-browser")).await;
    assert!(matches!(spent, Err(SignInError::UnknownFlow)), "{spent:?}");
    store
        .start_console_flow(&flow("s2", now() - 1))
        .await
        .unwrap();
    let expired = finish(&server.state, &idp, "code", "s2", Some("this-browser")).await;
    assert!(
        matches!(expired, Err(SignInError::UnknownFlow)),
        "{expired:?}"
    );
    // A live flow in the right browser gets as far as the IdP.
    store
        .start_console_flow(&flow("s3", now() + 600))
        .await
        .unwrap();
    let reached = finish(&server.state, &idp, "code", "s3", Some("this-browser")).await;
    assert!(matches!(reached, Err(SignInError::Idp(_))), "{reached:?}");
}

#[tokio::test]
async fn test_sign_in_runs_the_snippet_under_its_own_policy() {
    let server = Server::start().await;
    let url = format!("{PUBLIC_URL}/console/tenants/acme/try");
    // The IdP's return to the popup carries no Strict cookie: the page
    // still renders the pasted widget (to hand the callback to its
    // opener), and nothing else.
    let returning = server
        .call(get("/console/tenants/acme/try?code=c&state=popup.s"))
        .await;
    assert_eq!(returning.status, StatusCode::OK, "{}", returning.text());
    let html = returning.text();
    assert!(html.contains("<tessera-login tenant=\"acme\""), "{html}");
    assert!(html.contains("mode=\"popup\""), "{html}");
    assert!(
        !html.contains("data-try"),
        "no passport panel without a session"
    );
    let policy = returning.header("content-security-policy").unwrap();
    for directive in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "'wasm-unsafe-eval'",
    ] {
        assert!(policy.contains(directive), "{directive} missing: {policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    // Signed in: the passport panel, and the page is not yet a redirect
    // URI of the tenant, which the console says, and offers to fix.
    let cookie = signed_in(&server).await;
    let page = server
        .call(get("/console/tenants/acme/try").header("cookie", &cookie))
        .await
        .text();
    assert!(page.contains("data-try=\"/console/tenants/acme/try/passport\""));
    assert!(page.contains(&format!("<code>{url}</code>")), "{page}");
    let csrf = csrf_of(&page);
    let forged = server
        .call(
            request(Method::POST, "/console/tenants/acme/try/register")
                .header("cookie", &cookie)
                .header("origin", PUBLIC_URL)
                .form(&[("csrf", "forged")]),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let registered = server
        .call(
            request(Method::POST, "/console/tenants/acme/try/register")
                .header("cookie", &cookie)
                .header("origin", PUBLIC_URL)
                .form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::SEE_OTHER,
        "{}",
        registered.text()
    );
    let config = server
        .state
        .tenant("acme")
        .await
        .unwrap()
        .config
        .value
        .clone();
    assert_eq!(
        config.redirect_uris,
        ["https://shop.example/callback".to_owned(), url.clone()]
    );
    let log = server.state.store().instance_audit_log(10).await.unwrap();
    assert!(
        log.iter()
            .any(|row| row.action == "update" && row.actor.starts_with("console:")),
        "the change is audited"
    );
    let page = server
        .call(get("/console/tenants/acme/try").header("cookie", &cookie))
        .await
        .text();
    assert!(
        !page.contains(&format!("<code>{url}</code>")),
        "registered now"
    );
}

#[tokio::test]
async fn test_sign_in_verifies_only_what_the_widget_attached() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    let page = server
        .call(get("/console/tenants/acme/try").header("cookie", &cookie))
        .await
        .text();
    let csrf = csrf_of(&page);
    let ask = |token: Option<&str>, csrf: &str| {
        let mut ask = request(Method::POST, "/console/tenants/acme/try/passport")
            .header("cookie", &cookie)
            .header("origin", PUBLIC_URL);
        if let Some(token) = token {
            ask = ask.header("authorization", &format!("Bearer {token}"));
        }
        ask.form(&[("csrf", csrf), ("withheld", "email,made-up,name")])
    };
    let without = server.call(ask(None, &csrf)).await;
    assert_eq!(without.status, StatusCode::OK);
    let without = without.json();
    assert_eq!(without["ok"], false);
    assert_eq!(without["problem"], "the widget attached no access token");
    // Only names known as personal data come back.
    assert_eq!(without["withheld"], serde_json::json!(["email", "name"]));
    // A token the tenant's IdP did not sign is refused as the shop's API
    // would refuse it; the answer is not 401 (which would end the widget's
    // session) but the reason.
    let forged = server.call(ask(Some("e30.e30.c2ln"), &csrf)).await;
    assert_eq!(forged.status, StatusCode::OK);
    let forged = forged.json();
    assert_eq!(forged["ok"], false);
    assert!(!forged["problem"].as_str().unwrap().is_empty());
    let stale = server.call(ask(None, "forged")).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_audience_request_reaches_the_widget_s_configuration() {
    let server = Server::start().await;
    let mut config = server.state.tenant("acme").await.unwrap().config.clone();
    config.value.audience_request = tessera_server::model::AudienceRequest::Resource;
    // A resource indicator is an absolute URI (RFC 8707).
    assert_eq!(
        config
            .value
            .clone()
            .validated()
            .unwrap_err()
            .field
            .as_deref(),
        Some("audience")
    );
    config.value.audience = "https://api.acme.example".into();
    // Entra ID's and ZITADEL's audience scopes are scopes like any other.
    config.value.scopes = vec![
        "openid".into(),
        "api://0b6c3f4e-1111-2222-3333-444455556666/orders.read".into(),
        "urn:zitadel:iam:org:project:id:123:aud".into(),
    ];
    let config_value = config.value.clone().validated().unwrap();
    server
        .state
        .store()
        .update_config("test", "acme", config.version, &config_value)
        .await
        .unwrap();
    let public = server.call(get("/t/acme/config.json")).await.json();
    assert_eq!(
        public["authorization_parameters"],
        serde_json::json!({"resource": "https://api.acme.example"})
    );
    assert_eq!(
        public["scopes"][1],
        "api://0b6c3f4e-1111-2222-3333-444455556666/orders.read"
    );
    assert_eq!(
        public["token_parameters"],
        serde_json::json!({"resource": "https://api.acme.example"})
    );
    let globex = server.call(get("/t/globex/config.json")).await.json();
    assert_eq!(globex["authorization_parameters"], serde_json::json!({}));
}

#[tokio::test]
async fn provider_buttons_come_from_the_preset_and_are_edited_as_lines() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    let page = server
        .call(get("/console/new").header("cookie", &cookie))
        .await
        .text();
    let csrf = csrf_of(&page);
    // The wizard's last step, as its form sends it, with Logto's preset
    // and the Google and Microsoft buttons ticked.
    let created = server
        .call(
            request(Method::POST, "/console/new")
                .header("cookie", &cookie)
                .header("origin", PUBLIC_URL)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("preset", "logto"),
                    ("issuer", server.issuer.as_str()),
                    ("origin", "https://wizard.example"),
                    ("audience", "https://api.wizard.example"),
                    ("client_id", "wizard"),
                    ("slug", "wizard"),
                    ("display_name", "Wizard"),
                    ("redirect_uris", "https://wizard.example/"),
                    ("scopes", "openid"),
                    ("audience_request", "resource"),
                    ("provider_google", "on"),
                    ("provider_microsoft", "on"),
                ]),
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text());
    let config = server
        .state
        .tenant("wizard")
        .await
        .unwrap()
        .config
        .value
        .clone();
    let hints: Vec<_> = config
        .providers
        .iter()
        .map(|button| {
            format!(
                "{} {}={}",
                button.label, button.hint_parameter, button.hint_value
            )
        })
        .collect();
    assert_eq!(
        hints,
        [
            "Google direct_sign_in=social:google",
            "Microsoft direct_sign_in=social:azuread"
        ]
    );
    assert_eq!(
        config.audience_request,
        tessera_server::model::AudienceRequest::Resource
    );
    // Without the box, the test page is not a redirect URI.
    assert_eq!(config.redirect_uris, ["https://wizard.example/"]);

    // The edit form shows them one per line and takes them back.
    let edit = server
        .call(get("/console/tenants/acme/edit").header("cookie", &cookie))
        .await
        .text();
    let fields = edit_fields(&edit);
    let saved = post_edit(
        &server,
        &cookie,
        &with(
            &fields,
            "providers",
            "Google | kc_idp_hint=google\nGitHub | kc_idp_hint=github",
        ),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let providers = server
        .state
        .tenant("acme")
        .await
        .unwrap()
        .config
        .value
        .providers
        .clone();
    assert_eq!(providers.len(), 2);
    assert_eq!(providers[1].hint_value, "github");
    // A line without a hint, and a protocol parameter as the hint, come
    // back beside the field, and nothing is saved.
    let edit = server
        .call(get("/console/tenants/acme/edit").header("cookie", &cookie))
        .await
        .text();
    assert!(
        edit.contains("Google | kc_idp_hint=google\nGitHub | kc_idp_hint=github"),
        "{edit}"
    );
    let fields = edit_fields(&edit);
    for (lines, says) in [
        ("Google", "line 1: write `Label | parameter=value`"),
        ("Google | scope=email", "protocol parameter"),
    ] {
        let refused = post_edit(&server, &cookie, &with(&fields, "providers", lines)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        let html = refused.text();
        assert!(html.contains("id=\"providers-error\""), "{html}");
        assert!(html.contains(says), "{says}: {html}");
    }
    let providers = server
        .state
        .tenant("acme")
        .await
        .unwrap()
        .config
        .value
        .providers
        .clone();
    assert_eq!(providers.len(), 2, "nothing saved");
}

#[tokio::test]
async fn the_studio_previews_a_draft_without_saving_it() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    let page = server
        .call(get("/console/tenants/acme/studio").header("cookie", &cookie))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let policy = page.header("content-security-policy").unwrap().to_owned();
    assert!(
        policy.ends_with("frame-src 'self'") && !policy.contains("unsafe"),
        "{policy}"
    );
    let html = page.text();
    let csrf = csrf_of(&html);
    assert!(
        html.contains("name=\"light_primary\" value=\"#1d4ed8\""),
        "{html}"
    );
    let preview = |fields: &[(&str, &str)]| {
        let mut form = vec![("csrf", csrf.as_str()), ("from", "1")];
        form.extend_from_slice(fields);
        request(Method::POST, "/console/tenants/acme/studio/preview")
            .header("cookie", &cookie)
            .header("origin", PUBLIC_URL)
            .form(&form)
    };
    let violet = server
        .call(preview(&[("light_primary", "#7c3aed")]))
        .await
        .json();
    let css = violet["css"].as_str().unwrap();
    assert!(
        css.contains("tessera-login[theme=\"light\"] {")
            && css.contains("--tessera-primary: #7c3aed;"),
        "{css}"
    );
    assert!(violet["field"].is_null());
    // A pale text: the CSS still comes (the previews show it), with the
    // refusal the save would meet and a suggestion in its pair.
    let pale = server
        .call(preview(&[("light_text", "#eeeeee")]))
        .await
        .json();
    assert_eq!(pale["field"], "light_text");
    let pair = pale["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pair| {
            pair["palette"] == "light"
                && pair["foreground"] == "text"
                && pair["background"] == "background"
        })
        .unwrap()
        .clone();
    assert!(
        pair["ratio"].as_f64().unwrap() < 4.5 && pair["suggestion"].is_string(),
        "{pair}"
    );
    // Not a colour: no CSS, the input named.
    let wrong = server
        .call(preview(&[("dark_border", "red; x")]))
        .await
        .json();
    assert_eq!(
        (wrong["field"].as_str(), wrong["css"].as_str()),
        (Some("dark_border"), Some(""))
    );
    // Nothing was saved, nothing published.
    let history = server.state.store().design_history("acme").await.unwrap();
    assert_eq!((history.head, history.published), (1, 1));
    // Deriving the dark palette fills it in, passing, without saving.
    let derived = server
        .call(
            request(Method::POST, "/console/tenants/acme/studio")
                .header("cookie", &cookie)
                .header("origin", PUBLIC_URL)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("base", "1"),
                    ("from", "1"),
                    ("action", "derive"),
                    ("light_background", "#fff8e7"),
                ]),
        )
        .await;
    assert_eq!(derived.status, StatusCode::OK, "{}", derived.text());
    let derived = derived.text();
    assert!(
        !derived.contains("data-state=\"failed\" data-enforced=\"true\""),
        "derived dark passes every enforced pair"
    );
    let marker = "name=\"dark_background\" value=\"";
    let start = derived.find(marker).unwrap() + marker.len();
    let dark_background = &derived[start..start + 7];
    assert_ne!(
        dark_background, "#0b1220",
        "the dark palette was derived, not kept"
    );
    assert_eq!(
        server
            .state
            .store()
            .design_history("acme")
            .await
            .unwrap()
            .head,
        1
    );
}

#[tokio::test]
async fn a_preview_frame_shows_a_signed_draft_under_the_snippet_s_policy() {
    let server = Server::start().await;
    // A draft with a violet primary and German words, not published.
    let first = server
        .state
        .store()
        .design_revision("acme", 1)
        .await
        .unwrap();
    let mut design = first.design.clone();
    design.theme.light.primary = tessera_server::theme::Color::from_hex("#7c3aed").unwrap();
    design.texts.insert(
        "de".into(),
        std::collections::BTreeMap::from([("sign-in".to_owned(), "Rein".to_owned())]),
    );
    let draft = server
        .state
        .store()
        .save_design("test", "acme", 1, &design, "draft")
        .await
        .unwrap();
    let tenant = server.state.tenant("acme").await.unwrap();
    let signature = tessera_server::public::preview_signature(&server.state, &tenant, draft);
    let frame = server
        .call(get(&format!(
            "/console/tenants/acme/studio/frame?theme=dark&locale=de&revision={draft}&signature={signature}"
        )))
        .await;
    assert_eq!(frame.status, StatusCode::OK, "{}", frame.text());
    let html = frame.text();
    let base = format!("{PUBLIC_URL}/preview/{draft}/{signature}");
    assert!(
        html.contains(&format!("server=\"{base}\" theme=\"dark\" locale=\"de\"")),
        "{html}"
    );
    let policy = frame.header("content-security-policy").unwrap();
    assert!(
        policy.contains("frame-ancestors 'self'") && policy.contains("'wasm-unsafe-eval'"),
        "{policy}"
    );
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    // The preview address serves the draft; the public one does not.
    let path = base.strip_prefix(PUBLIC_URL).unwrap();
    let css = server.call(get(&format!("{path}/t/acme/theme.css"))).await;
    assert_eq!(css.header("cache-control"), Some("no-store"));
    assert!(css.text().contains("#7c3aed"));
    assert!(
        !server
            .call(get("/t/acme/theme.css"))
            .await
            .text()
            .contains("#7c3aed")
    );
    let words = server
        .call(get(&format!("{path}/t/acme/i18n/de.json")))
        .await
        .json();
    assert_eq!(words["messages"]["sign-in"], "Rein");
    // The pseudo-locale, enabled or not, to find what overflows.
    let pseudo = server
        .call(get(&format!("{path}/t/acme/i18n/en-XA.json")))
        .await
        .json();
    assert_eq!(pseudo["locale"], "en-XA");
    let config = server
        .call(get(&format!("{path}/t/acme/config.json")))
        .await
        .json();
    assert_eq!(config["tenant"], "acme");
    // Another revision, another tenant, or a made-up signature: nothing.
    let other = tessera_server::public::preview_signature(&server.state, &tenant, 1);
    let globex = server.state.tenant("globex").await.unwrap();
    let foreign = tessera_server::public::preview_signature(&server.state, &globex, draft);
    for bad in [
        format!("/preview/{draft}/{other}/t/acme/theme.css"),
        format!("/preview/{draft}/{foreign}/t/acme/theme.css"),
        format!("/preview/{draft}/AAAA/t/acme/theme.css"),
        format!(
            "/console/tenants/acme/studio/frame?theme=dark&locale=de&revision={draft}&signature=AAAA"
        ),
    ] {
        assert_eq!(
            server.call(get(&bad)).await.status,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
    for bad in [
        format!(
            "/console/tenants/acme/studio/frame?theme=neon&locale=de&revision={draft}&signature={signature}"
        ),
        format!(
            "/console/tenants/acme/studio/frame?theme=dark&locale=xx&revision={draft}&signature={signature}"
        ),
        "/console/tenants/acme/studio/frame?theme=dark&locale=de".to_owned(),
    ] {
        assert_eq!(
            server.call(get(&bad)).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn texts_are_edited_per_locale_checked_as_typed_and_saved_as_drafts() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    let page = server
        .call(get("/console/tenants/acme/texts?locale=de").header("cookie", &cookie))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    let csrf = csrf_of(&html);
    assert!(html.contains("id=\"message-sign-in-with\""), "{html}");
    assert!(
        html.contains("Continue with {provider}"),
        "the English base: {html}"
    );
    assert!(html.contains("aria-current=\"page\">de</a>"), "{html}");
    let check = |text: &str| {
        request(Method::POST, "/console/tenants/acme/texts/check")
            .header("cookie", &cookie)
            .header("origin", PUBLIC_URL)
            .form(&[
                ("csrf", csrf.as_str()),
                ("id", "sign-in-with"),
                ("text", text),
            ])
    };
    let fine = server.call(check("Weiter mit {provider}")).await.json();
    assert!(fine["error"].is_null(), "{fine}");
    for broken in [
        "Weiter mit {anbieter}",
        "Weiter mit {provider",
        "Weiter mit",
    ] {
        let answer = server.call(check(broken)).await.json();
        assert!(
            answer["error"].as_str().unwrap().contains("placeholder"),
            "{broken}: {answer}"
        );
    }
    let save = |text: &str, base: &str| {
        request(Method::POST, "/console/tenants/acme/texts")
            .header("cookie", &cookie)
            .header("origin", PUBLIC_URL)
            .form(&[
                ("csrf", csrf.as_str()),
                ("base", base),
                ("from", "1"),
                ("locale", "de"),
                ("note", "German words"),
                ("message.sign-in-with", text),
                ("message.sign-in", ""),
            ])
    };
    // Refused beside its field; nothing saved.
    let refused = server.call(save("Weiter mit {anbieter}", "1")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let html = refused.text();
    assert!(html.contains("id=\"message-sign-in-with\" name=\"message.sign-in-with\" value=\"Weiter mit {anbieter}\""), "kept as typed: {html}");
    assert!(
        !html.contains("id=\"message-sign-in-with-error\" hidden"),
        "{html}"
    );
    assert_eq!(
        server
            .state
            .store()
            .design_history("acme")
            .await
            .unwrap()
            .head,
        1
    );
    // Saved as a draft: empty inputs are no override.
    let saved = server.call(save("Anmelden über {provider}", "1")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let draft = server
        .state
        .store()
        .design_revision("acme", 2)
        .await
        .unwrap();
    assert_eq!(
        draft.design.texts["de"],
        std::collections::BTreeMap::from([(
            "sign-in-with".to_owned(),
            "Anmelden über {provider}".to_owned()
        )])
    );
    let live = server.call(get("/t/acme/i18n/de.json")).await.json();
    assert_ne!(
        live["messages"]["sign-in-with"], "Anmelden über {provider}",
        "a draft"
    );
    // A second save from revision 1 conflicts and keeps what was typed.
    let conflict = server.call(save("Mit {provider} weiter", "1")).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert!(conflict.text().contains("value=\"Mit {provider} weiter\""));
}

#[tokio::test]
async fn designs_are_exported_imported_and_copied_between_tenants_as_drafts() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    let history = server
        .call(get("/console/tenants/acme/design").header("cookie", &cookie))
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text());
    let html = history.text();
    let csrf = csrf_of(&html);
    assert!(
        html.contains("<option value=\"globex\">globex</option>"),
        "a copy target: {html}"
    );
    let exported = server
        .call(get("/console/tenants/acme/design/1/export").header("cookie", &cookie))
        .await;
    assert_eq!(exported.status, StatusCode::OK);
    assert_eq!(
        exported.header("content-disposition"),
        Some("attachment; filename=\"acme-design-1.json\"")
    );
    let mut design = exported.json();
    design["theme"]["light"]["primary"] = serde_json::json!("#7c3aed");
    let import = |document: String| {
        request(Method::POST, "/console/tenants/acme/design/import")
            .header("cookie", &cookie)
            .header("origin", PUBLIC_URL)
            .form(&[
                ("csrf", csrf.as_str()),
                ("base", "1"),
                ("note", "imported"),
                ("design", document.as_str()),
            ])
    };
    for (broken, says) in [
        ("{\"theme\": 1}".to_owned(), "not a design"),
        (
            design
                .to_string()
                .replace("#7c3aed", "#fffffe")
                .replace("\"text\":\"#0f172a\"", "\"text\":\"#fffffe\""),
            "below WCAG AA",
        ),
    ] {
        let refused = server.call(import(broken)).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{}",
            refused.text()
        );
        assert!(refused.text().contains(says), "{says}: {}", refused.text());
    }
    assert_eq!(
        server
            .state
            .store()
            .design_history("acme")
            .await
            .unwrap()
            .head,
        1
    );
    let imported = server.call(import(design.to_string())).await;
    assert_eq!(
        imported.status,
        StatusCode::SEE_OTHER,
        "{}",
        imported.text()
    );
    let second = server
        .state
        .store()
        .design_revision("acme", 2)
        .await
        .unwrap();
    assert_eq!(second.design.theme.light.primary.to_string(), "#7c3aed");
    assert_eq!(second.note, "imported");
    // Copied to globex as a draft there, from globex's newest revision.
    let copied = server
        .call(
            request(Method::POST, "/console/tenants/acme/design/copy")
                .header("cookie", &cookie)
                .header("origin", PUBLIC_URL)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("revision", "2"),
                    ("target", "globex"),
                ]),
        )
        .await;
    assert_eq!(copied.status, StatusCode::SEE_OTHER, "{}", copied.text());
    assert_eq!(
        copied.header("location"),
        Some("/console/tenants/globex/design")
    );
    let globex = server.state.store().design_history("globex").await.unwrap();
    assert_eq!((globex.head, globex.published), (2, 1));
    assert_eq!(globex.revisions[0].note, "copied from acme, revision 2");
    let copy = server
        .state
        .store()
        .design_revision("globex", 2)
        .await
        .unwrap();
    assert_eq!(copy.design, second.design);
}

#[tokio::test]
async fn the_events_page_adds_sources_and_endpoints_and_redelivers() {
    let server = Server::start().await;
    let cookie = signed_in(&server).await;
    let page = server
        .call(get("/console/tenants/acme/events").header("cookie", &cookie))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let csrf = csrf_of(&page.text());
    let post = |path: &str, fields: Vec<(&str, &str)>| {
        let mut fields = fields;
        fields.push(("csrf", &csrf));
        let request = request(Method::POST, path)
            .header("cookie", &cookie)
            .form(&fields);
        server.call(request)
    };
    let added = post(
        "/console/tenants/acme/events/sources",
        vec![
            ("label", "Logto prod"),
            ("format", "logto"),
            ("secret", "hook-key"),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    // A source of a JWT format with a secret is refused, saying why.
    let refused = post(
        "/console/tenants/acme/events/sources",
        vec![
            ("label", "x"),
            ("format", "back-channel-logout"),
            ("secret", "k"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text().contains("issuer"), "{}", refused.text());
    // An endpoint: its secret is shown once, on this answer only.
    let endpoint = post(
        "/console/tenants/acme/events/endpoints",
        vec![("url", "http://127.0.0.1:9/hooks")],
    )
    .await;
    assert_eq!(endpoint.status, StatusCode::OK);
    let shown = endpoint.text();
    let start = shown.find("whsec_").expect("the secret is shown");
    let secret = shown[start..].split('<').next().unwrap().to_owned();
    let page = server
        .call(get("/console/tenants/acme/events").header("cookie", &cookie))
        .await
        .text();
    assert!(
        page.contains("Logto prod") && page.contains("/events/src_"),
        "{page}"
    );
    assert!(!page.contains(&secret), "the secret is not shown again");
    // An event received, its delivery failing (nothing listens), then
    // delivered again on request.
    let source = server
        .state
        .store()
        .event_sources("acme")
        .await
        .unwrap()
        .remove(0);
    let body = serde_json::json!({"event": "User.Deleted",
        "createdAt": tessera_server::http::rfc3339(tessera_server::store::now()), "data": {"id": "u-7"}})
    .to_string();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"hook-key");
    let signature = tessera_server::http::hex(ring::hmac::sign(&key, body.as_bytes()).as_ref());
    let received = server
        .call(
            request(Method::POST, &format!("/events/{}", source.id))
                .header("logto-signature-sha-256", &signature)
                .raw(body),
        )
        .await;
    assert_eq!(received.status, StatusCode::OK, "{}", received.text());
    tessera_server::events::relay::deliver_due(&server.state).await;
    let delivery = server
        .state
        .store()
        .event_deliveries("acme", None, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!((delivery.state.as_str(), delivery.attempts), ("pending", 1));
    let page = server
        .call(get("/console/tenants/acme/events").header("cookie", &cookie))
        .await
        .text();
    assert!(
        page.contains(&delivery.id) && page.contains("user.deleted"),
        "{page}"
    );
    let again = post(
        &format!(
            "/console/tenants/acme/events/deliveries/{}/redeliver",
            delivery.id
        ),
        vec![],
    )
    .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    let audit = server
        .state
        .store()
        .audit_log(server.state.tenant("acme").await.unwrap().id, 20)
        .await
        .unwrap();
    assert!(audit.iter().any(|entry| entry.action == "redeliver"));
    assert!(
        audit
            .iter()
            .any(|entry| entry.resource == "event_source" && entry.action == "create")
    );
}
