//! The admin API: authentication, tenant scoping, validation, optimistic
//! concurrency, the audit log, the snippet and the OpenAPI document.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Req, Server, demo_config, get, request};

/// One request and the status (and error code) it must get.
struct Case {
    name: &'static str,
    request: Req,
    status: StatusCode,
    code: Option<&'static str>,
}

async fn check(server: &Server, cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in cases {
        let response = server.call(case.request).await;
        let code_ok = case.code.is_none_or(|code| response.code() == code);
        if response.status != case.status || !code_ok {
            failures.push(format!(
                "{}: {} {}",
                case.name,
                response.status,
                response.text()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn case(name: &'static str, request: Req, status: StatusCode, code: Option<&'static str>) -> Case {
    Case {
        name,
        request,
        status,
        code,
    }
}

#[tokio::test]
async fn authentication_and_tenant_scope() {
    let server = Server::start().await;
    let acme = server.acme.clone();
    let root = server.root.clone();
    check(
        &server,
        vec![
            case(
                "no token",
                get("/api/tenants/acme"),
                StatusCode::UNAUTHORIZED,
                Some("unauthenticated"),
            ),
            case(
                "garbage token",
                get("/api/tenants/acme").token("tsa_nope"),
                StatusCode::UNAUTHORIZED,
                None,
            ),
            case(
                "wrong scheme",
                get("/api/tenants/acme").header("authorization", "Basic eDp5"),
                StatusCode::UNAUTHORIZED,
                None,
            ),
            case(
                "own tenant",
                get("/api/tenants/acme").token(&acme),
                StatusCode::OK,
                None,
            ),
            case(
                "other tenant",
                get("/api/tenants/globex").token(&acme),
                StatusCode::FORBIDDEN,
                Some("forbidden"),
            ),
            case(
                "other tenant's theme",
                get("/api/tenants/globex/theme").token(&acme),
                StatusCode::FORBIDDEN,
                None,
            ),
            case(
                "other tenant's texts",
                request(Method::PUT, "/api/tenants/globex/texts/de")
                    .token(&acme)
                    .header("if-match", "\"x0\"")
                    .json(&json!({})),
                StatusCode::FORBIDDEN,
                None,
            ),
            case(
                "tenant token cannot create tenants",
                request(Method::POST, "/api/tenants")
                    .token(&acme)
                    .json(&json!({})),
                StatusCode::FORBIDDEN,
                None,
            ),
            case(
                "root sees other tenants",
                get("/api/tenants/globex").token(&root),
                StatusCode::OK,
                None,
            ),
            case(
                "unknown tenant",
                get("/api/tenants/nobody").token(&root),
                StatusCode::NOT_FOUND,
                Some("not_found"),
            ),
            case(
                "bad slug",
                get("/api/tenants/Bad_Slug").token(&root),
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
            ),
            case(
                "traversal",
                get("/api/tenants/..%2F..%2Fetc").token(&root),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "unknown route",
                get("/api/nothing"),
                StatusCode::NOT_FOUND,
                Some("not_found"),
            ),
        ],
    )
    .await;
    let listed = server.call(get("/api/tenants").token(&acme)).await.json();
    assert_eq!(listed, json!(["acme"]));
    let listed = server.call(get("/api/tenants").token(&root)).await.json();
    assert_eq!(listed, json!(["acme", "globex"]));
}

#[tokio::test]
async fn bad_input_is_explained() {
    let server = Server::start().await;
    let root = server.root.clone();
    let mut config = serde_json::to_value(demo_config("newshop", &server.issuer)).unwrap();
    let with = |field: &str, value: Value| {
        let mut c = config.clone();
        c[field] = value;
        json!({"slug": "newshop", "config": c})
    };
    let post = |body: Value| {
        request(Method::POST, "/api/tenants")
            .token(&root)
            .json(&body)
    };
    check(
        &server,
        vec![
            case(
                "malformed JSON",
                request(Method::POST, "/api/tenants")
                    .token(&root)
                    .raw("{\"slug\":"),
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
            ),
            case(
                "unknown field",
                post(json!({"slug": "newshop", "config": config, "colour": 1})),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "bad slug",
                post(json!({"slug": "-x-", "config": config})),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "http issuer off loopback",
                post(with("issuer", json!("http://id.example"))),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "origin with a path",
                post(with("allowed_origins", json!(["https://shop.example/x"]))),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "javascript redirect",
                post(with("redirect_uris", json!(["javascript:alert(1)"]))),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "no openid scope",
                post(with("scopes", json!(["email"]))),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "a scope with a space in it",
                post(with("scopes", json!(["openid", "a b"]))),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "a scope with a quote",
                post(with("scopes", json!(["openid", "a\"b"]))),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "a resource indicator that is no URI",
                post(with("audience_request", json!("resource"))),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "an unknown audience request",
                post(with("audience_request", json!("header"))),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "unknown locale",
                post(with("enabled_locales", json!(["en", "xx"]))),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "default not enabled",
                post(with("default_locale", json!("fr"))),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "unknown preset",
                post(json!({"slug": "newshop", "config": config, "theme_preset": "neon"})),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "oversized body",
                post(json!({"slug": "newshop", "config": config, "pad": "x".repeat(20_000)})),
                StatusCode::PAYLOAD_TOO_LARGE,
                Some("payload_too_large"),
            ),
            case(
                "duplicate slug",
                post(json!({"slug": "acme", "config": config})),
                StatusCode::CONFLICT,
                Some("conflict"),
            ),
        ],
    )
    .await;
    let error = server
        .call(post(with("enabled_locales", json!(["en", "xx"]))))
        .await
        .json();
    assert_eq!(error["error"]["field"], "enabled_locales[1]");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`xx` is not a supported locale")
    );
    config["display_name"] = json!("New shop");
    let created = server
        .call(post(
            json!({"slug": "newshop", "config": config, "theme_preset": "forest"}),
        ))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.header("etag"), Some("\"c1\""));
}

#[tokio::test]
async fn optimistic_concurrency_loses_no_update() {
    let server = Server::start().await;
    let acme = server.acme.clone();
    let read = server.call(get("/api/tenants/acme").token(&acme)).await;
    let etag = read.header("etag").unwrap().to_owned();
    let mut config = read.json()["config"].clone();
    config["display_name"] = json!("Acme, first edit");
    let put = |config: &Value, etag: Option<&str>| {
        let request = request(Method::PUT, "/api/tenants/acme")
            .token(&acme)
            .json(config);
        match etag {
            Some(tag) => request.header("if-match", tag),
            None => request,
        }
    };
    let missing = server.call(put(&config, None)).await;
    assert_eq!(missing.status, StatusCode::PRECONDITION_REQUIRED);
    // Only the digits an ETag of ours carries: no sign, no space, nothing
    // past i64 (whose + 1 would overflow).
    for malformed in [
        "\"c+1\"",
        "\"c-1\"",
        "\"c 1\"",
        "\"c\"",
        "\"c9223372036854775808\"",
        "\"c99999999999999999999999\"",
    ] {
        let refused = server.call(put(&config, Some(malformed))).await;
        assert_eq!(
            (refused.status, refused.code().as_str()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{malformed}"
        );
    }
    let first = server.call(put(&config, Some(&etag))).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(first.header("etag"), Some("\"c2\""));
    // A second writer still holding the old ETag must not overwrite it.
    config["display_name"] = json!("Acme, stale edit");
    let stale = server.call(put(&config, Some(&etag))).await;
    assert_eq!(
        (stale.status, stale.code().as_str()),
        (StatusCode::CONFLICT, "conflict")
    );
    let now = server
        .call(get("/api/tenants/acme").token(&acme))
        .await
        .json();
    assert_eq!(now["config"]["display_name"], "Acme, first edit");
    // Editing the theme does not conflict with the configuration.
    let theme = server
        .call(get("/api/tenants/acme/theme").token(&acme))
        .await;
    assert_eq!(theme.header("etag"), Some("\"t1\""));
    let wrong_kind = server
        .call(
            request(Method::PUT, "/api/tenants/acme/theme")
                .token(&acme)
                .header("if-match", "\"c2\"")
                .json(&theme.json()),
        )
        .await;
    assert_eq!(
        wrong_kind.status,
        StatusCode::BAD_REQUEST,
        "an ETag of another resource"
    );
    let updated = server
        .call(
            request(Method::PUT, "/api/tenants/acme/theme")
                .token(&acme)
                .header("if-match", "\"t1\"")
                .json(&theme.json()),
        )
        .await;
    assert_eq!(updated.header("etag"), Some("\"t2\""));
    // Texts start at version 0.
    let texts = server
        .call(
            request(Method::PUT, "/api/tenants/acme/texts/de")
                .token(&acme)
                .header("if-match", "\"x0\"")
                .json(&json!({"sign-in": "Jetzt anmelden"})),
        )
        .await;
    assert_eq!(
        (texts.status, texts.header("etag")),
        (StatusCode::OK, Some("\"x1\"")),
        "{}",
        texts.text()
    );
    let again = server
        .call(
            request(Method::PUT, "/api/tenants/acme/texts/de")
                .token(&acme)
                .header("if-match", "\"x0\"")
                .json(&json!({"sign-in": "Los"})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn every_change_is_audited() {
    let server = Server::start().await;
    let acme = server.acme.clone();
    let theme = server
        .call(get("/api/tenants/acme/theme").token(&acme))
        .await
        .json();
    let mut changed = theme.clone();
    changed["radius"] = json!("12px");
    server
        .call(
            request(Method::PUT, "/api/tenants/acme/theme")
                .token(&acme)
                .header("if-match", "\"t1\"")
                .json(&changed),
        )
        .await;
    let log = server
        .call(get("/api/tenants/acme/audit").token(&acme))
        .await
        .json();
    let newest = &log[0];
    assert_eq!(newest["action"], "update");
    assert_eq!(newest["resource"], "theme");
    assert!(newest["actor"].as_str().unwrap().starts_with("tok_"));
    assert!(newest["before"].as_str().unwrap().contains("\"8px\""));
    assert!(newest["after"].as_str().unwrap().contains("\"12px\""));
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["action"] == "create" && entry["resource"] == "tenant")
    );
    // Tokens never appear in the audit log, only their ids.
    assert!(!serde_json::to_string(&log).unwrap().contains(&acme));
}

#[tokio::test]
async fn text_overrides_are_validated_and_served() {
    let server = Server::start().await;
    let acme = server.acme.clone();
    let put = |body: Value| {
        request(Method::PUT, "/api/tenants/acme/texts/de")
            .token(&acme)
            .header("if-match", "\"x0\"")
            .json(&body)
    };
    check(
        &server,
        vec![
            case(
                "unknown id",
                put(json!({"no-such-message": "x"})),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "lost placeholder",
                put(json!({"sign-in-with": "Weiter"})),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "empty",
                put(json!({"sign-in": " "})),
                StatusCode::BAD_REQUEST,
                None,
            ),
            case(
                "unknown locale",
                request(Method::PUT, "/api/tenants/acme/texts/xx")
                    .token(&acme)
                    .header("if-match", "\"x0\"")
                    .json(&json!({})),
                StatusCode::BAD_REQUEST,
                None,
            ),
        ],
    )
    .await;
    let ok = server
        .call(put(json!({"sign-in-with": "Mit {provider} anmelden"})))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let served = server.call(get("/t/acme/i18n/de.json")).await.json();
    assert_eq!(
        served["messages"]["sign-in-with"],
        "Mit {provider} anmelden"
    );
    assert_eq!(served["messages"]["sign-out"], "Abmelden");
}

#[tokio::test]
async fn delete_needs_the_current_etag() {
    let server = Server::start().await;
    let root = server.root.clone();
    let stale = server
        .call(
            request(Method::DELETE, "/api/tenants/globex")
                .token(&root)
                .header("if-match", "\"c9\""),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let gone = server
        .call(
            request(Method::DELETE, "/api/tenants/globex")
                .token(&root)
                .header("if-match", "\"c1\""),
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.call(get("/t/globex/theme.css")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn snippet_pins_integrity_and_prints_the_csp() {
    let server = Server::start().await;
    let snippet = server
        .call(get("/api/tenants/acme/snippet").token(&server.acme))
        .await
        .json();
    let integrity = server
        .state
        .assets()
        .integrity("tessera.js")
        .unwrap()
        .to_owned();
    let html = snippet["html"].as_str().unwrap();
    assert!(
        html.contains(&format!("integrity=\"{integrity}\"")),
        "{html}"
    );
    assert!(html.contains("crossorigin=\"anonymous\""));
    assert!(html.starts_with("<script type=\"module\" "), "{html}");
    assert!(
        html.contains(
            "<tessera-login tenant=\"acme\" server=\"http://127.0.0.1:9\"></tessera-login>"
        )
    );
    // What the first view needs starts loading with the script.
    assert!(
        html.contains(
            "\n<link rel=\"preload\" href=\"http://127.0.0.1:9/t/acme/start/auto.json\" as=\"fetch\" crossorigin=\"anonymous\">\n\
             <link rel=\"preload\" href=\"http://127.0.0.1:9/t/acme/theme.css\" as=\"style\">"
        ),
        "{html}"
    );
    let stylesheet = server.state.assets().stylesheet();
    if let Some(stylesheet) = stylesheet {
        assert!(html.ends_with(&format!(
            "\n<link rel=\"preload\" href=\"http://127.0.0.1:9/widget/v1/{stylesheet}\" as=\"style\">"
        )));
    }
    let csp = &snippet["content_security_policy"];
    assert_eq!(csp["script-src"], "http://127.0.0.1:9 'wasm-unsafe-eval'");
    assert_eq!(csp["style-src"], "http://127.0.0.1:9");
    assert_eq!(
        csp["connect-src"], "http://127.0.0.1:9",
        "the dev issuer is this origin"
    );
}

#[tokio::test]
async fn openapi_document_is_generated_from_the_code() {
    let server = Server::start().await;
    let document = server.call(get("/api/openapi.json")).await.json();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/tenants",
        "/api/tenants/{tenant}",
        "/api/tenants/{tenant}/theme",
        "/api/tenants/{tenant}/texts/{locale}",
        "/api/tenants/{tenant}/snippet",
        "/api/admin-tokens",
        "/api/admin-tokens/{id}",
        "/api/audit",
    ] {
        assert!(document["paths"].get(path).is_some(), "{path} missing");
    }
    for schema in ["Theme", "AdminToken", "TokenRequest", "CreatedToken"] {
        assert!(
            document["components"]["schemas"].get(schema).is_some(),
            "{schema}"
        );
    }
    assert!(
        document["components"]["securitySchemes"]
            .get("admin_token")
            .is_some()
    );
}

#[tokio::test]
async fn public_config_presets_and_text_reads() {
    let server = Server::start().await;
    // What the widget reads: public values only, cacheable, open CORS.
    let config = server.call(get("/t/acme/config.json")).await;
    assert_eq!(config.status, StatusCode::OK);
    assert_eq!(config.header("access-control-allow-origin"), Some("*"));
    assert!(config.header("etag").is_some());
    let body = config.json();
    assert_eq!(body["client_id"], "acme");
    assert_eq!(body["scopes"], json!(["openid"]));
    assert_eq!(body["token_storage"], "memory");
    // The shop's name is public (the logo's text alternative); admin
    // bookkeeping is not.
    assert_eq!(body["display_name"], "Shop acme");
    for internal in ["audit", "version", "created_at"] {
        assert!(
            body.get(internal).is_none(),
            "{internal} is not for the widget"
        );
    }
    assert_eq!(
        server.call(get("/t/nobody/config.json")).await.status,
        StatusCode::NOT_FOUND
    );

    // The presets, for admins choosing a starting point.
    let presets = server
        .call(get("/api/themes").token(&server.acme))
        .await
        .json();
    for name in ["light", "dark", "auto", "high-contrast", "forest", "mono"] {
        assert!(presets[name]["light"]["primary"].is_string(), "{name}");
    }
    assert_eq!(
        server.call(get("/api/themes")).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Reading overrides: version 0 and empty until written.
    let empty = server
        .call(get("/api/tenants/acme/texts/de").token(&server.acme))
        .await;
    assert_eq!(
        (empty.header("etag"), empty.json()),
        (Some("\"x0\""), json!({}))
    );
    let written = server
        .call(
            request(Method::PUT, "/api/tenants/acme/texts/de")
                .token(&server.acme)
                .header("if-match", "\"x0\"")
                .json(&json!({"dismiss": "Zumachen"})),
        )
        .await;
    assert_eq!(written.status, StatusCode::OK);
    let read = server
        .call(get("/api/tenants/acme/texts/de").token(&server.acme))
        .await;
    assert_eq!(
        (read.header("etag"), read.json()),
        (Some("\"x1\""), json!({"dismiss": "Zumachen"}))
    );
    assert_eq!(
        server
            .call(get("/api/tenants/acme/texts/xx").token(&server.acme))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}
