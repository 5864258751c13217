//! Settings for `tessera serve`: a TOML file, overridable by environment
//! variables, checked before anything starts.
//!
//! Every problem is reported at once, with the setting's name in the file and
//! in the environment, so an operator fixes a broken deployment in one pass.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::Deserialize;

use crate::store::{DATABASE_FILE, DatabaseSettings};

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The largest request body, in bytes.
    pub body_bytes: usize,
    /// How long one request may take, in seconds.
    pub request_timeout_seconds: u64,
    /// Development issuer token requests per minute per client address (and
    /// as many consent decisions, counted apart).
    pub token_requests_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 64 * 1024,
            request_timeout_seconds: 10,
            token_requests_per_minute: 60,
        }
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The settings file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    public_url: Option<String>,
    data_dir: Option<PathBuf>,
    dist_dir: Option<PathBuf>,
    log_format: Option<LogFormat>,
    #[serde(default)]
    limits: Limits,
    console: Option<ConsoleFile>,
    #[serde(default)]
    database: DatabaseFile,
}

/// `[database]`: where the store lives. Without `url`, SQLite in
/// `data_dir`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct DatabaseFile {
    url: Option<String>,
    /// A file holding the PostgreSQL password, kept out of the URL.
    password_file: Option<PathBuf>,
    max_connections: u32,
    connect_timeout_seconds: u64,
    busy_timeout_seconds: u64,
}

impl Default for DatabaseFile {
    fn default() -> Self {
        DatabaseFile {
            url: None,
            password_file: None,
            max_connections: 10,
            connect_timeout_seconds: 10,
            busy_timeout_seconds: crate::store::BUSY_TIMEOUT.as_secs(),
        }
    }
}

/// The checked database URL: a PostgreSQL URL gets the password from
/// `password_file`, and TLS with the server's certificate verified
/// (`sslmode=verify-full`) unless it names an `sslmode` or a loopback host.
fn database_url(database: &DatabaseFile) -> Result<Option<String>, String> {
    let Some(text) = &database.url else {
        return Ok(None);
    };
    let mut url =
        url::Url::parse(text).map_err(|why| format!("`database.url` is not a URL ({why})"))?;
    match url.scheme() {
        "sqlite" => return Ok(Some(text.clone())),
        "postgres" | "postgresql" => {}
        other => {
            return Err(format!(
                "`database.url` must be sqlite://... or postgres://..., not {other}://"
            ));
        }
    }
    if let Some(file) = &database.password_file {
        let password = std::fs::read_to_string(file)
            .ok()
            .map(|text| text.trim_end_matches(['\r', '\n']).to_owned())
            .filter(|password| !password.is_empty())
            .ok_or_else(|| {
                format!(
                    "`database.password_file` {} cannot be read or is empty",
                    file.display()
                )
            })?;
        url.set_password(Some(&password))
            .map_err(|()| "`database.url` cannot carry a password".to_owned())?;
    }
    // A postgres:// URL is not a special scheme, so its host comes as text
    // even when it is an address.
    let loopback = match url.host_str() {
        None => true,
        Some(host) => {
            host == "localhost"
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|address| address.is_loopback())
        }
    };
    if !loopback && !url.query_pairs().any(|(key, _)| key == "sslmode") {
        url.query_pairs_mut().append_pair("sslmode", "verify-full");
    }
    Ok(Some(url.into()))
}

/// `[console]`: the OpenID provider console admins sign in at.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsoleFile {
    issuer: String,
    client_id: String,
    /// A file holding the client secret (a confidential client); without
    /// it the console is a public client (PKCE either way).
    client_secret_file: Option<PathBuf>,
    #[serde(default = "default_roles_claim")]
    roles_claim: String,
}

fn default_roles_claim() -> String {
    "tessera_roles".to_owned()
}

/// Checked settings for `tessera serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The public origin browsers use to reach this server.
    pub public_url: String,
    /// Where the database and keys live.
    pub data_dir: PathBuf,
    /// Where the built widget assets are (`dist/`).
    pub dist_dir: PathBuf,
    /// Log format.
    pub log_format: LogFormat,
    /// Request limits.
    pub limits: Limits,
    /// The IdP console admins sign in at, when set.
    pub console_idp: Option<crate::console::oidc::ConsoleIdp>,
    /// The database: SQLite in `data_dir` unless `[database] url` says
    /// otherwise.
    pub database: DatabaseSettings,
}

/// Reads `path`, applies `TESSERA_*` environment overrides from `environment`,
/// and checks the result.
pub fn load(
    path: &Path,
    environment: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<ServeConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the settings file {}", path.display()))?;
    let mut file: File = toml::from_str(&text)
        .with_context(|| format!("{} is not a valid settings file", path.display()))?;
    if let Some(value) = environment("TESSERA_LISTEN") {
        file.listen = Some(value);
    }
    if let Some(value) = environment("TESSERA_PUBLIC_URL") {
        file.public_url = Some(value);
    }
    if let Some(value) = environment("TESSERA_DATA_DIR") {
        file.data_dir = Some(value.into());
    }
    if let Some(value) = environment("TESSERA_DATABASE_URL") {
        file.database.url = Some(value);
    }
    if let Some(value) = environment("TESSERA_DIST_DIR") {
        file.dist_dir = Some(value.into());
    }
    if let Some(value) = environment("TESSERA_LOG_FORMAT") {
        file.log_format = Some(match value.as_str() {
            "json" => LogFormat::Json,
            "text" => LogFormat::Text,
            other => bail!("TESSERA_LOG_FORMAT must be `json` or `text`, not `{other}`"),
        });
    }
    let mut problems = Vec::new();
    let listen = match file.listen.as_deref().map(str::parse::<SocketAddr>) {
        Some(Ok(address)) => Some(address),
        Some(Err(_)) => {
            problems.push(
                "`listen` (TESSERA_LISTEN) must be an address such as 0.0.0.0:8080".to_owned(),
            );
            None
        }
        None => {
            problems.push("`listen` (TESSERA_LISTEN) is required, e.g. 0.0.0.0:8080".to_owned());
            None
        }
    };
    let public_url = match file.public_url.as_deref().map(crate::urls::Origin::parse) {
        Some(Ok(origin)) => Some(origin),
        Some(Err(why)) => {
            problems.push(format!(
                "`public_url` (TESSERA_PUBLIC_URL) must be an https origin without a path: {why}"
            ));
            None
        }
        None => {
            problems.push(
                "`public_url` (TESSERA_PUBLIC_URL) is required, e.g. https://auth.shop.example"
                    .to_owned(),
            );
            None
        }
    };
    if file.data_dir.is_none() {
        problems.push("`data_dir` (TESSERA_DATA_DIR) is required".to_owned());
    }
    if file.limits.body_bytes == 0 || file.limits.request_timeout_seconds == 0 {
        problems.push(
            "`limits.body_bytes` and `limits.request_timeout_seconds` must be above 0".to_owned(),
        );
    }
    if file.database.max_connections == 0
        || file.database.connect_timeout_seconds == 0
        || file.database.busy_timeout_seconds == 0
    {
        problems.push(
            "`database.max_connections`, `database.connect_timeout_seconds` and \
             `database.busy_timeout_seconds` must be above 0"
                .to_owned(),
        );
    }
    let database_url = database_url(&file.database).unwrap_or_else(|problem| {
        problems.push(problem);
        None
    });
    let mut console_idp = None;
    if let Some(console) = file.console {
        if let Err(why) = crate::urls::IssuerUrl::parse(&console.issuer) {
            problems.push(format!(
                "`console.issuer` must be an OpenID issuer URL: {why}"
            ));
        }
        if console.client_id.trim().is_empty() || console.roles_claim.trim().is_empty() {
            problems
                .push("`console.client_id` and `console.roles_claim` must not be empty".to_owned());
        }
        let client_secret = match &console.client_secret_file {
            Some(secret_file) => match std::fs::read_to_string(secret_file) {
                Ok(secret) if !secret.trim().is_empty() => Some(secret.trim().to_owned()),
                _ => {
                    problems.push(format!(
                        "`console.client_secret_file` {} cannot be read or is empty",
                        secret_file.display()
                    ));
                    None
                }
            },
            None => None,
        };
        console_idp = Some(crate::console::oidc::ConsoleIdp {
            issuer: console.issuer,
            client_id: console.client_id,
            client_secret,
            roles_claim: console.roles_claim,
        });
    }
    if !problems.is_empty() {
        bail!(
            "{} cannot be used:\n  - {}",
            path.display(),
            problems.join("\n  - ")
        );
    }
    let data_dir = file.data_dir.unwrap_or_default();
    let database = match database_url {
        Some(url) => DatabaseSettings {
            url,
            max_connections: file.database.max_connections,
            connect_timeout: Duration::from_secs(file.database.connect_timeout_seconds),
            busy_timeout: Duration::from_secs(file.database.busy_timeout_seconds),
        },
        None => DatabaseSettings {
            max_connections: file.database.max_connections,
            connect_timeout: Duration::from_secs(file.database.connect_timeout_seconds),
            busy_timeout: Duration::from_secs(file.database.busy_timeout_seconds),
            ..DatabaseSettings::sqlite_file(&data_dir.join(DATABASE_FILE))?
        },
    };
    Ok(ServeConfig {
        database,
        listen: listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
        public_url: public_url
            .map(|origin| origin.to_string())
            .unwrap_or_default(),
        data_dir,
        dist_dir: file.dist_dir.unwrap_or_else(|| PathBuf::from("dist")),
        log_format: file.log_format.unwrap_or_default(),
        limits: file.limits,
        console_idp,
    })
}
