//! What the server refuses at its boundary: URLs that only look like
//! loopback, hint parameters that would duplicate protocol parameters,
//! malformed queries, forms and paths (always the JSON error), and the CSP
//! the snippet derives from the IdP's discovery document.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Req, Server, demo_config, get, request};

/// Creates tenant `slug` with `change` applied to a valid configuration.
async fn create(
    server: &Server,
    slug: &str,
    change: impl FnOnce(&mut Value),
) -> (StatusCode, Value) {
    let mut config = serde_json::to_value(demo_config(slug, &server.issuer)).unwrap();
    change(&mut config);
    let response = server
        .call(
            request(Method::POST, "/api/tenants")
                .token(&server.root)
                .json(&json!({"slug": slug, "config": config})),
        )
        .await;
    (response.status, response.json())
}

/// Where a URL goes in a tenant's configuration.
#[derive(Debug, Clone, Copy)]
enum Place {
    Issuer,
    RedirectUri,
    Origin,
}

/// Tries every URL in every place: `None` must be accepted (201), `Some`
/// refused with 400 naming that field.
async fn check_urls(server: &Server, cases: &[(&str, Option<&str>)]) {
    let mut failures = Vec::new();
    let mut count = 0;
    for (url, refused) in cases {
        for place in [Place::Issuer, Place::RedirectUri, Place::Origin] {
            count += 1;
            let slug = format!("url-case-{count}");
            let (field, value) = match place {
                Place::Issuer => ("issuer", json!(url)),
                Place::RedirectUri => ("redirect_uris", json!([format!("{url}/callback")])),
                Place::Origin => ("allowed_origins", json!([url])),
            };
            let (status, body) = create(server, &slug, |config| config[field] = value).await;
            let expected_field = match place {
                Place::Issuer => "issuer",
                Place::RedirectUri => "redirect_uris[0]",
                Place::Origin => "allowed_origins[0]",
            };
            let ok = match refused {
                None => status == StatusCode::CREATED,
                Some(reason) => {
                    status == StatusCode::BAD_REQUEST
                        && body["error"]["field"] == expected_field
                        && body["error"]["message"]
                            .as_str()
                            .is_some_and(|message| message.contains(reason))
                }
            };
            if !ok {
                failures.push(format!("{url} as {place:?}: {status} {body}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn loopback_is_an_address_not_a_prefix() {
    let server = Server::start().await;
    let plain_http = Some("plain http is only allowed");
    check_urls(
        &server,
        &[
            ("http://127.evil.example", plain_http),
            ("http://127.0.0.1.evil.example", plain_http),
            ("http://localhost.attacker.example", plain_http),
            ("http://127.0.0.1@evil.example", plain_http),
            ("https://127.0.0.1@evil.example", Some("user info")),
            ("https://user:pw@shop.example", Some("user info")),
            ("http://[::2]:8080", plain_http),
            ("http://id.example", plain_http),
            ("ftp://id.example", Some("the scheme must be https")),
            ("http://127.0.0.1:8080", None),
            ("http://127.1.2.3", None),
            ("http://localhost:3000", None),
            ("HTTP://LOCALHOST:3000", None),
            ("http://[::1]:8080", None),
            ("HTTPS://Shop.Example", None),
            ("https://shop.example:8443", None),
        ],
    )
    .await;
}

#[tokio::test]
async fn origins_are_kept_as_browsers_send_them() {
    let server = Server::start().await;
    let (status, body) = create(&server, "casing", |config| {
        config["allowed_origins"] = json!(["HTTPS://Shop.Example:443/", "http://[::1]:8080"]);
    })
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["config"]["allowed_origins"],
        json!(["https://shop.example", "http://[::1]:8080"])
    );
    // The development issuer's CORS compares the browser's Origin header
    // with the stored origins: it now finds the one typed in capitals.
    let preflight = server
        .call(
            request(Method::OPTIONS, "/dev/oidc/token")
                .header("origin", "http://[::1]:8080")
                .header("access-control-request-method", "POST"),
        )
        .await;
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://[::1]:8080")
    );
}

#[tokio::test]
async fn public_url_needs_a_real_loopback_address_for_http() {
    let dir = crate::support::temp_dir("settings");
    let path = dir.join("tessera.toml");
    let mut failures = Vec::new();
    for (public_url, accepted) in [
        ("http://127.evil.example", false),
        ("http://localhost.attacker.example", false),
        ("https://auth.shop.example/x", false),
        ("https://Auth.Shop.Example/", true),
        ("http://127.0.0.1:8080", true),
    ] {
        std::fs::write(
            &path,
            format!(
                "listen = \"127.0.0.1:8080\"\npublic_url = \"{public_url}\"\ndata_dir = \"data\"\n"
            ),
        )
        .unwrap();
        let loaded = tessera_server::config::load(&path, &|_| None);
        if loaded.is_ok() != accepted {
            failures.push(format!("{public_url}: {loaded:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    std::fs::write(
        &path,
        "listen = \"127.0.0.1:8080\"\npublic_url = \"https://Auth.Shop.Example/\"\ndata_dir = \"data\"\n",
    )
    .unwrap();
    let loaded = tessera_server::config::load(&path, &|_| None).unwrap();
    assert_eq!(loaded.public_url, "https://auth.shop.example");
}

#[tokio::test]
async fn hint_parameters_cannot_name_protocol_parameters() {
    let server = Server::start().await;
    let reserved = [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "ui_locales",
        "response_mode",
        "request",
        "request_uri",
        "claims",
        "id_token_hint",
        "client_secret",
    ];
    let allowed = [
        "kc_idp_hint",
        "login_hint",
        "domain_hint",
        "prompt",
        "acr_values",
    ];
    let mut failures = Vec::new();
    let cases = reserved
        .iter()
        .map(|name| (name, false))
        .chain(allowed.iter().map(|name| (name, true)));
    for (index, (parameter, accepted)) in cases.enumerate() {
        let slug = format!("hint-case-{index}");
        let (status, body) = create(&server, &slug, |config| {
            config["providers"] = json!([
                {"label": "Company", "icon": "building", "hint_parameter": parameter, "hint_value": "corp"}
            ]);
        })
        .await;
        let ok = if accepted {
            status == StatusCode::CREATED
        } else {
            status == StatusCode::BAD_REQUEST
                && body["error"]["field"] == "providers[0].hint_parameter"
                && body["error"]["message"]
                    .as_str()
                    .is_some_and(|message| message.contains("protocol parameter"))
        };
        if !ok {
            failures.push(format!("{parameter}: {status} {body}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The error shape a response must have.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// `{"error": {"code": ..., "message": ...}}`.
    Api(&'static str),
    /// OAuth's `{"error": ..., "error_description": ...}`.
    OAuth,
}

async fn check_errors(server: &Server, cases: Vec<(&str, Req, StatusCode, Shape)>) {
    let mut failures = Vec::new();
    for (name, request, status, shape) in cases {
        let response = server.call(request).await;
        let body: Option<Value> = serde_json::from_slice(&response.body).ok();
        let json_type = response
            .header("content-type")
            .is_some_and(|value| value.starts_with("application/json"));
        let shape_ok = body.as_ref().is_some_and(|body| match shape {
            Shape::Api(code) => {
                body["error"]["code"] == code && body["error"]["message"].is_string()
            }
            Shape::OAuth => {
                body["error"] == "invalid_request" && body["error_description"].is_string()
            }
        });
        if response.status != status || !json_type || !shape_ok {
            failures.push(format!("{name}: {} {}", response.status, response.text()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn malformed_requests_get_the_json_error() {
    let server = Server::start().await;
    let root = server.root.clone();
    let bad = StatusCode::BAD_REQUEST;
    let invalid = Shape::Api("invalid_request");
    let form = |uri: &str, body: &str| {
        request(Method::POST, uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .raw(body.to_owned())
    };
    let text = |uri: &str| {
        request(Method::POST, uri)
            .header("content-type", "text/plain")
            .raw("grant_type=authorization_code")
    };
    check_errors(
        &server,
        vec![
            (
                "texts: ui_locales twice",
                get("/t/acme/i18n/auto.json?ui_locales=a&ui_locales=b"),
                bad,
                invalid,
            ),
            (
                "public path not UTF-8",
                get("/t/%FF%FE/config.json"),
                bad,
                invalid,
            ),
            (
                "asset path not UTF-8",
                get("/widget/v1/%FF.js"),
                bad,
                invalid,
            ),
            (
                "admin path not UTF-8",
                get("/api/tenants/%FF/theme").token(&root),
                bad,
                invalid,
            ),
            (
                "snippet: unknown mode",
                get("/api/tenants/acme/snippet?mode=sideways").token(&root),
                bad,
                invalid,
            ),
            (
                "snippet: mode twice",
                get("/api/tenants/acme/snippet?mode=popup&mode=redirect").token(&root),
                bad,
                invalid,
            ),
            (
                "snippet: unknown parameter",
                get("/api/tenants/acme/snippet?colour=red").token(&root),
                bad,
                invalid,
            ),
            (
                "authorize: state twice",
                get("/dev/oidc/authorize?client_id=acme&state=a&state=b"),
                bad,
                invalid,
            ),
            (
                "end_session: state twice",
                get("/dev/oidc/end_session?state=a&state=b"),
                bad,
                invalid,
            ),
            (
                "consent form: decision twice",
                form("/dev/oidc/authorize", "decision=allow&decision=deny"),
                bad,
                invalid,
            ),
            (
                "consent form: not a form",
                text("/dev/oidc/authorize"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Shape::Api("unsupported_media_type"),
            ),
            (
                "token: grant_type twice",
                form(
                    "/dev/oidc/token",
                    "grant_type=authorization_code&grant_type=refresh_token",
                ),
                bad,
                Shape::OAuth,
            ),
            (
                "token: not a form",
                text("/dev/oidc/token"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Shape::OAuth,
            ),
            (
                "admin: method not allowed",
                request(Method::PATCH, "/api/tenants").token(&root),
                StatusCode::METHOD_NOT_ALLOWED,
                Shape::Api("method_not_allowed"),
            ),
            (
                "public: method not allowed",
                request(Method::DELETE, "/t/acme/config.json"),
                StatusCode::METHOD_NOT_ALLOWED,
                Shape::Api("method_not_allowed"),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_request_past_its_deadline_gets_the_json_error() {
    let server = Server::start().await;
    let limits = tessera_server::config::Limits {
        request_timeout_seconds: 1,
        ..Default::default()
    };
    let slow = axum::Router::new().route(
        "/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            "late"
        }),
    );
    let app = tessera_server::ops::with_timeout(slow, limits).with_state(server.state.clone());
    let response = tower::ServiceExt::oneshot(
        app,
        axum::http::Request::get("/slow")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "timeout", "{body}");
}

#[tokio::test]
async fn the_openapi_document_describes_every_error() {
    let server = Server::start().await;
    let document = server.call(get("/api/openapi.json")).await.json();
    let error_ref = json!({"$ref": "#/components/schemas/ErrorBody"});
    let mut failures = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            for status in ["400", "401", "403", "404", "413", "500"] {
                if !responses.contains_key(status) {
                    failures.push(format!("{method} {path}: {status} not documented"));
                }
            }
            for (status, response) in responses {
                if status.as_str() >= "400"
                    && response["content"]["application/json"]["schema"] != error_ref
                {
                    failures.push(format!("{method} {path}: {status} without ErrorBody"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(document["components"]["schemas"]["ErrorBody"].is_object());
}

/// A stand-in IdP on a loopback port that serves `document(issuer)` as its
/// discovery document and counts the fetches.
async fn discovery_server(
    document: impl Fn(&str) -> Value + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let fetches = Arc::new(AtomicUsize::new(0));
    let counted = fetches.clone();
    let body = document(&issuer);
    let app = axum::Router::new().route(
        "/.well-known/openid-configuration",
        axum::routing::get(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            async move { axum::Json(body) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (issuer, fetches)
}

/// A loopback address nobody listens on.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

async fn snippet_with_issuer(server: &Server, slug: &str, issuer: &str) -> Value {
    let (status, body) = create(server, slug, |config| config["issuer"] = json!(issuer)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let response = server
        .call(get(&format!("/api/tenants/{slug}/snippet")).token(&server.root))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()
}

#[tokio::test]
async fn the_printed_csp_lets_the_widget_reach_every_idp_endpoint() {
    let server = Server::start().await;
    // Like Google: the token endpoint and the key set on other origins.
    let (issuer, fetches) = discovery_server(|issuer| {
        let port = issuer.rsplit(':').next().unwrap().to_owned();
        json!({
            "issuer": issuer,
            "authorization_endpoint": "https://accounts.example/o/auth",
            "token_endpoint": format!("http://localhost:{port}/token"),
            "jwks_uri": "https://keys.example/certs",
            "end_session_endpoint": "https://accounts.example/logout",
            "userinfo_endpoint": "https://userinfo.example/v1",
        })
    })
    .await;
    let port = issuer.rsplit(':').next().unwrap().to_owned();
    let snippet = snippet_with_issuer(&server, "spread", &issuer).await;
    assert_eq!(
        snippet["content_security_policy"]["connect-src"],
        format!("{issuer} http://localhost:{port} https://keys.example http://127.0.0.1:9"),
        "{snippet}"
    );
    assert_eq!(snippet["warnings"], json!([]));
    let header = snippet["content_security_policy_header"].as_str().unwrap();
    assert!(header.contains("connect-src http://127.0.0.1:"), "{header}");
    // Kept: a second snippet does not fetch again.
    server
        .call(get("/api/tenants/spread/snippet?mode=popup").token(&server.root))
        .await;
    assert_eq!(fetches.load(Ordering::SeqCst), 1);

    // A document that would widen the policy to plain http off loopback, or
    // that names another issuer, is not followed, and the snippet says so.
    let (downgrade, _) = discovery_server(|issuer| {
        json!({"issuer": issuer, "authorization_endpoint": "https://a.example/auth",
               "token_endpoint": "http://token.example/token", "jwks_uri": "https://keys.example/certs"})
    })
    .await;
    let (impostor, _) = discovery_server(|_| {
        json!({"issuer": "https://other.example", "authorization_endpoint": "https://a.example/auth",
               "token_endpoint": "https://a.example/token", "jwks_uri": "https://a.example/certs"})
    })
    .await;
    let unreachable = closed_port().await;
    for (index, (issuer, reason)) in [
        (&downgrade, "`token_endpoint` is not allowed"),
        (&impostor, "not the tenant's issuer"),
        (&unreachable, "could not be fetched"),
    ]
    .into_iter()
    .enumerate()
    {
        let snippet = snippet_with_issuer(&server, &format!("fallback-{index}"), issuer).await;
        assert_eq!(
            snippet["content_security_policy"]["connect-src"],
            format!("{issuer} http://127.0.0.1:9"),
            "{snippet}"
        );
        let warning = snippet["warnings"][0].as_str().unwrap_or_default();
        assert!(
            warning.contains("discovery document could not be read") && warning.contains(reason),
            "{issuer}: {snippet}"
        );
    }
}
