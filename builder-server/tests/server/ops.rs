//! Operations: health, readiness, metrics, security headers, and restarts
//! that lose nothing.

use axum::http::{Method, StatusCode};
use serde_json::json;
use tessera_server::config;
use tessera_server::store::{Backend, Store};

use crate::support::{Server, get, request, temp_dir, test_store};

#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = Server::start().await;
    assert_eq!(server.call(get("/healthz")).await.status, StatusCode::OK);
    assert_eq!(server.call(get("/readyz")).await.text(), "ready\n");
    server.call(get("/t/nobody/theme.css")).await;
    let metrics = server.call(get("/metrics")).await;
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = metrics.text();
    assert!(
        text.contains("tessera_http_requests_total{class=\"2xx\"}"),
        "{text}"
    );
    assert!(
        !text.contains("tessera_http_requests_total{class=\"4xx\"} 0"),
        "{text}"
    );
}

#[tokio::test]
async fn security_headers() {
    let server = Server::start().await;
    let css = server.call(get("/t/acme/theme.css")).await;
    assert_eq!(css.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(css.header("referrer-policy"), Some("no-referrer"));
    let page = server.call(get("/dev/oidc/end_session")).await;
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
}

#[tokio::test]
async fn restart_loses_nothing() {
    let dir = temp_dir("restart");
    let database = dir.join("tessera.sqlite3");
    let first_keys;
    {
        let server = Server::with_store(Store::open(&database).await.unwrap(), &dir).await;
        let acme = server.acme.clone();
        let theme = server
            .call(get("/api/tenants/acme/theme").token(&acme))
            .await
            .json();
        let mut changed = theme.clone();
        changed["radius"] = json!("4px");
        let put = server
            .call(
                request(Method::PUT, "/api/tenants/acme/theme")
                    .token(&acme)
                    .header("if-match", "\"t1\"")
                    .json(&changed),
            )
            .await;
        assert_eq!(put.status, StatusCode::OK);
        let texts = server
            .call(
                request(Method::PUT, "/api/tenants/acme/texts/de")
                    .token(&acme)
                    .header("if-match", "\"x0\"")
                    .json(&json!({"sign-in": "Rein"})),
            )
            .await;
        assert_eq!(texts.status, StatusCode::OK);
        first_keys = server.state.dev_issuer().unwrap().jwks();
        server.state.store().close().await;
    }
    let server = Server::with_store(Store::open(&database).await.unwrap(), &dir).await;
    let theme = server
        .call(get("/api/tenants/acme/theme").token(&server.acme))
        .await;
    assert_eq!(
        (theme.header("etag"), theme.json()["radius"].as_str()),
        (Some("\"t2\""), Some("4px"))
    );
    assert_eq!(
        server.call(get("/t/acme/i18n/de.json")).await.json()["messages"]["sign-in"],
        "Rein"
    );
    // The issuer's key survived too: the same kid.
    assert_eq!(first_keys, server.state.dev_issuer().unwrap().jwks());
}

#[tokio::test]
async fn the_issuer_key_an_older_release_kept_in_files_is_adopted() {
    use ring::signature::KeyPair as _;
    let dir = temp_dir("key-files");
    let random = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &random,
    )
    .unwrap();
    std::fs::write(dir.join("dev-issuer-es256.p8"), pkcs8.as_ref()).unwrap();
    std::fs::write(dir.join("dev-issuer-pairwise.secret"), [7u8; 32]).unwrap();
    let key = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8.as_ref(),
        &random,
    )
    .unwrap();
    let store = test_store().await;
    let issuer = tessera_server::issuer::DevIssuer::open(&store, &dir, "http://x", 5)
        .await
        .unwrap();
    use base64::Engine as _;
    let x =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&key.public_key().as_ref()[1..33]);
    assert_eq!(issuer.jwks()["keys"][0]["x"], x.as_str());
    assert_eq!(
        issuer.pairwise_subject("acme", "ada"),
        tessera_server::issuer::pairwise_subject(&[7u8; 32], "acme", "ada")
    );
    // Kept in the database: without the files, the same key.
    let again =
        tessera_server::issuer::DevIssuer::open(&store, &temp_dir("no-files"), "http://x", 5)
            .await
            .unwrap();
    assert_eq!(again.jwks(), issuer.jwks());
}

#[test]
fn serve_settings_are_checked() {
    let dir = temp_dir("settings");
    let path = dir.join("tessera.toml");
    std::fs::write(&path, "listen = \"nope\"\n").unwrap();
    let error = config::load(&path, &|_| None).unwrap_err().to_string();
    assert!(
        error.contains("`listen`")
            && error.contains("`public_url`")
            && error.contains("`data_dir`"),
        "{error}"
    );
    std::fs::write(&path, "listen = \"127.0.0.1:0\"\npublic_url = \"https://auth.shop.example\"\ndata_dir = \"/tmp/x\"\n").unwrap();
    let settings = config::load(&path, &|name| {
        (name == "TESSERA_PUBLIC_URL").then(|| "https://other.example".to_owned())
    })
    .unwrap();
    assert_eq!(
        settings.public_url, "https://other.example",
        "the environment overrides the file"
    );
    // The database: SQLite in the data folder by default; a PostgreSQL URL
    // elsewhere gets verified TLS and the password from its file.
    assert_eq!(settings.database.backend().unwrap(), Backend::Sqlite);
    assert!(
        settings
            .database
            .url
            .ends_with("/tmp/x/tessera.sqlite3?mode=rwc"),
        "{}",
        settings.database.url
    );
    let secret = dir.join("db-password");
    std::fs::write(&secret, "s3cret\n").unwrap();
    let base = "listen = \"127.0.0.1:0\"\npublic_url = \"https://auth.shop.example\"\ndata_dir = \"/tmp/x\"\n";
    std::fs::write(
        &path,
        format!(
            "{base}[database]\nurl = \"postgres://tessera@db.internal/tessera\"\npassword_file = \"{}\"\nmax_connections = 3\n",
            secret.display()
        ),
    )
    .unwrap();
    let settings = config::load(&path, &|_| None).unwrap();
    assert_eq!(
        settings.database.url,
        "postgres://tessera:s3cret@db.internal/tessera?sslmode=verify-full"
    );
    assert_eq!(settings.database.max_connections, 3);
    assert!(
        !format!("{:?}", settings.database).contains("s3cret"),
        "the password is not printed"
    );
    // A loopback server, or an sslmode the operator chose, is left alone;
    // the environment overrides the file.
    let settings = config::load(&path, &|name| {
        (name == "TESSERA_DATABASE_URL")
            .then(|| "postgres://tessera@127.0.0.1:5432/tessera".to_owned())
    })
    .unwrap();
    assert_eq!(
        settings.database.url,
        "postgres://tessera:s3cret@127.0.0.1:5432/tessera"
    );
    for (database, expected) in [
        (
            "url = \"mysql://db/x\"",
            "must be sqlite://... or postgres://",
        ),
        ("url = \"not a url\"", "`database.url` is not a URL"),
        (
            "url = \"postgres://db/x\"\npassword_file = \"/nonexistent\"",
            "`database.password_file` /nonexistent cannot be read",
        ),
        ("max_connections = 0", "`database.max_connections`"),
    ] {
        std::fs::write(&path, format!("{base}[database]\n{database}\n")).unwrap();
        let error = format!("{:#}", config::load(&path, &|_| None).unwrap_err());
        assert!(error.contains(expected), "{database}: {error}");
    }
    std::fs::write(&path, "listen = \"127.0.0.1:0\"\ncolour = 1\n").unwrap();
    assert!(
        config::load(&path, &|_| None)
            .unwrap_err()
            .to_string()
            .contains("not a valid settings file")
    );
}

#[tokio::test]
async fn a_storefront_mounts_at_demo() {
    let server = Server::start().await;
    let shop = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { axum::response::Html("<h1>Shop</h1>") }),
    );
    let state = server.state.clone();
    // A fresh state, because mounting happens before the state is shared.
    let mounted = tessera_server::AppState::new(
        state.store().clone(),
        crate::support::PUBLIC_URL.into(),
        state.assets().clone(),
        None,
        config::Limits::default(),
    )
    .with_storefront(shop);
    let response = tower::ServiceExt::oneshot(
        tessera_server::app(mounted),
        axum::http::Request::builder()
            .uri("/demo/")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers().get("x-frame-options").unwrap(),
        "DENY",
        "the shop passes the same layers"
    );
    assert_eq!(
        server.call(get("/demo/")).await.status,
        StatusCode::NOT_FOUND,
        "nothing mounted by default"
    );
}
