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
        let state = AppState::new(store, PUBLIC_URL.into(), assets, Some(issuer), limits);
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

/// A throwaway PostgreSQL cluster for a test: `initdb` in a temporary
/// folder, started on a free loopback port with trust authentication for
/// the user `tessera`, stopped at once (and its folder removed) on drop.
/// PostgreSQL refuses to run as root, so as root it runs as the
/// `postgres` user. Needs Debian's `postgresql` (`cargo xtask setup`).
pub struct Postgres {
    dir: PathBuf,
    /// `postgres://tessera@127.0.0.1:<port>/postgres`.
    pub url: String,
    owner: Option<String>,
}

impl Postgres {
    fn tool(name: &str) -> PathBuf {
        let installed = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|version| version.path().join("bin").join(name))
            .find(|path| path.exists());
        installed.unwrap_or_else(|| PathBuf::from(name))
    }

    fn run(&self, tool: &str, args: &[&str]) -> std::process::Output {
        let mut command = match &self.owner {
            Some(owner) => {
                let mut command = std::process::Command::new("runuser");
                command.args(["-u", owner, "--"]).arg(Self::tool(tool));
                command
            }
            None => std::process::Command::new(Self::tool(tool)),
        };
        command.args(args).output().unwrap_or_else(|error| {
            panic!("cannot run {tool} (cargo xtask setup installs PostgreSQL): {error}")
        })
    }

    pub fn start() -> Postgres {
        let dir = temp_dir("postgres");
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|output| output.stdout.starts_with(b"0\n"));
        let owner = root.then(|| "postgres".to_owned());
        if let Some(owner) = &owner {
            let chown = std::process::Command::new("chown")
                .arg(format!("{owner}:"))
                .arg(&dir)
                .status()
                .unwrap();
            assert!(chown.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Postgres {
            url: format!("postgres://tessera@127.0.0.1:{port}/postgres"),
            dir,
            owner,
        };
        let data = cluster.dir.join("data");
        let data = data.to_str().unwrap().to_owned();
        let init = cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "tessera",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
        );
        assert!(
            init.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c max_connections=300",
            cluster.dir.display()
        );
        let log = cluster.dir.join("log");
        let started = cluster.run(
            "pg_ctl",
            &[
                "-D",
                &data,
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        assert!(
            started.status.success(),
            "pg_ctl start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        cluster
    }
}

impl Postgres {
    /// The URL of the database `name` in this cluster.
    pub fn database_url(&self, name: &str) -> String {
        let server = self.url.strip_suffix("/postgres").unwrap_or(&self.url);
        format!("{server}/{name}")
    }

    /// A new, empty database in this cluster; returns its URL.
    pub async fn new_database(&self) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let admin = sqlx::PgPool::connect(&self.url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        self.database_url(&name)
    }

    fn stop(&self) {
        let data = self.dir.join("data");
        let _ = self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The cluster this test process shares between its tests on PostgreSQL:
/// started by the first that asks. A static is never dropped, so a small
/// shell watches this process and stops the cluster once it is gone,
/// however it ended (even killed).
fn shared_cluster() -> &'static Postgres {
    static CLUSTER: OnceLock<Postgres> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let cluster = Postgres::start();
        let data = cluster.dir.join("data");
        let mut stop = vec![
            Postgres::tool("pg_ctl").display().to_string(),
            "-D".to_owned(),
            data.display().to_string(),
            "-m".to_owned(),
            "immediate".to_owned(),
            "-w".to_owned(),
            "stop".to_owned(),
        ];
        if let Some(owner) = &cluster.owner {
            stop.splice(
                0..0,
                [
                    "runuser".to_owned(),
                    "-u".to_owned(),
                    owner.clone(),
                    "--".to_owned(),
                ],
            );
        }
        let quoted = |words: &[String]| {
            words
                .iter()
                .map(|word| format!("'{}'", word.replace('\'', "'\\''")))
                .collect::<Vec<_>>()
                .join(" ")
        };
        // In the background of a shell that exits at once: the watchdog is
        // nobody's child here, so nothing waits on it.
        let watchdog = format!(
            "(while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop}; rm -rf {dir}) \
             </dev/null >/dev/null 2>&1 &",
            pid = std::process::id(),
            stop = quoted(&stop),
            dir = quoted(&[cluster.dir.display().to_string()]),
        );
        let started = std::process::Command::new("sh")
            .args(["-c", &watchdog])
            .status()
            .expect("cannot start the cluster's watchdog");
        assert!(started.success(), "the cluster's watchdog did not start");
        cluster
    })
}

/// A new, empty database in this test process's PostgreSQL cluster (the
/// one [`test_store`] uses on PostgreSQL), whichever store the suite runs
/// on: for tests of several replicas, which only PostgreSQL has.
pub async fn postgres_database() -> String {
    shared_cluster().new_database().await
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
