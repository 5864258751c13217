//! A server on a fresh database with a development issuer, fixture widget
//! assets, and helpers to call it. The database is in-memory SQLite, or a
//! fresh PostgreSQL database with `TESSERA_TEST_DATABASE=postgres` (see
//! [`test_store`]).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::{Value, json};
use tessera_server::admin::{NewTenant, create_admin_token, create_tenant_record, token_lifetime};
use tessera_server::assets::Assets;
use tessera_server::config::Limits;
use tessera_server::issuer::DevIssuer;
use tessera_server::model::TenantConfig;
use tessera_server::store::{DatabaseSettings, Store};
use tessera_server::{AppState, app};
use tower::ServiceExt as _;

pub const PUBLIC_URL: &str = "http://127.0.0.1:9";

/// A fresh, unique temporary folder.
pub fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tessera-test-{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A widget folder as `cargo xtask dist` would write it.
pub fn fixture_assets() -> PathBuf {
    let dir = temp_dir("widget");
    write_widget(&dir);
    dir
}

/// A `dist/` folder holding [`fixture_assets`]' files in `widget/`, as
/// `tessera serve` reads it.
pub fn fixture_dist() -> PathBuf {
    let dist = temp_dir("dist");
    std::fs::create_dir_all(dist.join("widget")).unwrap();
    write_widget(&dist.join("widget"));
    dist
}

fn write_widget(dir: &std::path::Path) {
    let loader = b"/* loader */ import('./tessera-0123abcd.js');".to_vec();
    std::fs::write(dir.join("tessera.js"), &loader).unwrap();
    std::fs::write(dir.join("tessera.js.br"), b"BROTLI-LOADER").unwrap();
    std::fs::write(dir.join("tessera.js.gz"), b"GZIP-LOADER").unwrap();
    std::fs::write(dir.join("tessera-0123abcd.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.join("tessera-0123abcd.wasm.br"), b"BROTLI-WASM").unwrap();
}

pub fn demo_config(slug: &str, issuer: &str) -> TenantConfig {
    serde_json::from_value(json!({
        "display_name": format!("Shop {slug}"),
        "issuer": issuer,
        "client_id": slug,
        "audience": format!("{slug}-api"),
        "allowed_origins": ["https://shop.example"],
        "redirect_uris": ["https://shop.example/callback"],
        "default_locale": "en",
        "enabled_locales": ["en", "de", "ar", "pt-BR", "zh-CN", "en-XA"],
    }))
    .unwrap()
}

pub struct Server {
    pub state: AppState,
    /// All-tenants admin token.
    pub root: String,
    /// Admin token of tenant `acme` only.
    pub acme: String,
    pub issuer: String,
}

impl Server {
    pub async fn start() -> Server {
        Self::with_store(test_store().await, &temp_dir("data")).await
    }

    pub async fn with_store(store: Store, data_dir: &std::path::Path) -> Server {
        let limits = Limits {
            body_bytes: 16 * 1024,
            request_timeout_seconds: 5,
            token_requests_per_minute: 30,
        };
        let issuer = DevIssuer::open(
            &store,
            data_dir,
            PUBLIC_URL,
            limits.token_requests_per_minute,
        )
        .await
        .unwrap();
        let assets = Assets::load(&fixture_assets()).unwrap();
        let issuer_url = issuer.issuer().to_owned();
        let state = AppState::new(store, PUBLIC_URL.into(), assets, Some(issuer), limits)
            .with_stored_preview_key()
            .await
            .unwrap();
        for slug in ["acme", "globex"] {
            if state.store().tenant(slug).await.unwrap().is_none() {
                let request = NewTenant {
                    slug: slug.into(),
                    config: demo_config(slug, &issuer_url),
                    theme_preset: Some("light".into()),
                    theme: None,
                };
                create_tenant_record(&state, "test", request).await.unwrap();
            }
        }
        let root = create_admin_token(&state, "test", None, "root", token_lifetime(None).unwrap())
            .await
            .unwrap()
            .secret;
        let acme = create_admin_token(
            &state,
            "test",
            Some("acme"),
            "acme",
            token_lifetime(None).unwrap(),
        )
        .await
        .unwrap()
        .secret;
        Server {
            state,
            root,
            acme,
            issuer: issuer_url,
        }
    }

    /// Sends one request through `app(state)`.
    pub async fn call(&self, request: Req) -> Resp {
        let mut builder = Request::builder().method(request.method).uri(&request.uri);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(token) = &request.token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let mut http_request = builder.body(Body::from(request.body)).unwrap();
        if let Some(peer) = request.peer {
            http_request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
        }
        let response = app(self.state.clone()).oneshot(http_request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
            .await
            .unwrap();
        Resp {
            status,
            headers,
            body: bytes.to_vec(),
        }
    }
}

pub struct Req {
    peer: Option<std::net::SocketAddr>,
    method: Method,
    uri: String,
    headers: Vec<(String, String)>,
    token: Option<String>,
    body: Vec<u8>,
}

pub fn get(uri: &str) -> Req {
    Req {
        peer: None,
        method: Method::GET,
        uri: uri.into(),
        headers: Vec::new(),
        token: None,
        body: Vec::new(),
    }
}

pub fn request(method: Method, uri: &str) -> Req {
    Req { method, ..get(uri) }
}

impl Req {
    /// The client address, as `axum::serve` records it.
    pub fn peer(mut self, address: &str) -> Self {
        self.peer = Some(address.parse().unwrap());
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.into());
        self
    }
    pub fn json(mut self, body: &Value) -> Self {
        self.body = body.to_string().into_bytes();
        self.header("content-type", "application/json")
    }
    pub fn raw(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        let encoded: Vec<String> = fields
            .iter()
            .map(|(name, value)| format!("{name}={}", urlencode(value)))
            .collect();
        self.body = encoded.join("&").into_bytes();
        self.header("content-type", "application/x-www-form-urlencoded")
    }
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The error code of a JSON error body.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

pub use tessera_testkit::Postgres;

/// A new, empty database in `cluster`; answers its URL.
pub fn new_database(cluster: &Postgres) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!("test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    cluster.create_database(&name).unwrap()
}

/// The cluster this test process shares between its tests on PostgreSQL:
/// started by the first that asks, stopped once the process is gone
/// (however it ended; a static is never dropped).
fn shared_cluster() -> &'static Postgres {
    static CLUSTER: OnceLock<Postgres> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let cluster = Postgres::start().unwrap();
        cluster.stop_when_process_ends(std::process::id()).unwrap();
        cluster
    })
}

/// A new, empty database in this test process's PostgreSQL cluster (the
/// one [`test_store`] uses on PostgreSQL), whichever store the suite runs
/// on: for tests of several replicas, which only PostgreSQL has.
pub async fn postgres_database() -> String {
    new_database(shared_cluster())
}

/// A replica on the PostgreSQL database `url`.
pub async fn replica(url: &str) -> Store {
    Store::connect(&DatabaseSettings {
        url: url.to_owned(),
        max_connections: 4,
        connect_timeout: Duration::from_secs(10),
        busy_timeout: tessera_server::store::BUSY_TIMEOUT,
    })
    .await
    .unwrap()
}

/// Which store the suite runs on: `TESSERA_TEST_DATABASE=postgres` for
/// PostgreSQL (`cargo xtask test` runs the suite a second time so),
/// anything else for SQLite.
pub fn on_postgres() -> bool {
    std::env::var("TESSERA_TEST_DATABASE").as_deref() == Ok("postgres")
}

/// A fresh store: in-memory SQLite, or with [`on_postgres`] a new database
/// in this process's PostgreSQL cluster.
pub async fn test_store() -> Store {
    if !on_postgres() {
        return Store::in_memory().await.unwrap();
    }
    replica(&postgres_database().await).await
}
