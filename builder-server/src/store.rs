//! Storage: the only module that knows SQL.
//!
//! SQLite (the embedded default) or PostgreSQL (several replicas), chosen by
//! the database URL, both through sqlx's `Any` driver: one SQL text serves
//! both (`$1` placeholders, which SQLite binds by number too, and only
//! syntax both accept), and each has its own migrations embedded in the
//! binary (`migrations/` and `migrations/postgres/`, the same tables and
//! columns). SQLite runs with WAL journaling and foreign keys on.
//!
//! Every write runs in one transaction together with its audit row, and
//! takes the write lock before it reads: `BEGIN IMMEDIATE` on SQLite, a
//! transaction-scoped advisory lock on PostgreSQL (so every replica's
//! writes queue behind each other exactly as one process's do). Concurrent
//! writers queue (up to the busy timeout) instead of failing when another
//! write committed between their read and their write. A write runs
//! to its end on its own task even when the request that asked for it is
//! gone, so its cache invalidation never goes missing. Versioned resources
//! use optimistic concurrency: a write names the version it read and fails
//! with a conflict when the row moved on, so no update is lost. No SQL
//! lives outside this module.
//!
//! Failures are [`StoreError`]s; this module knows nothing of HTTP.

mod console;
mod design;
mod dev_issuer;
mod events;
mod fonts;
mod replicas;

pub use console::{ConsoleFlow, ConsoleSession, NewConsoleSession};
pub use design::{Design, DesignHistory, Revision, RevisionSummary};
pub use dev_issuer::{
    CODE_LIFETIME_SECONDS, CodesFull, DevSession, PENDING_CODE_CAPACITY, PendingCode,
    REFRESH_LIFETIME_SECONDS, RefreshRefused,
};
pub use events::{
    Attempt, DueDelivery, EventDelivery, EventEndpoint, EventSource, NewEventSource, Receipt,
    ReceivingSource, SubjectMapping,
};
pub use fonts::FontFile;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use serde::{Serialize, de::DeserializeOwned};
use sqlx::AnyPool;
use sqlx::Row as _;
use sqlx::any::AnyPoolOptions;
use tokio::sync::oneshot;

use crate::i18n::Messages;
use crate::model::TenantConfig;
use crate::theme::Theme;

/// The SQLite database's file name in the data folder.
pub const DATABASE_FILE: &str = "tessera.sqlite3";

/// How long a write waits for another connection's write lock by default.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The advisory lock every PostgreSQL write takes for its transaction: the
/// replicas' single writer lock (any fixed number; this one spells `tsra`).
const POSTGRES_WRITE_LOCK: i64 = 0x7473_7261;

/// Which database a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One file, one process: `tessera dev` and small sites.
    Sqlite,
    /// One server, any number of replicas.
    Postgres,
}

/// How to reach the database and how much of it to use.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// `sqlite://<path>` or `postgres://user@host/database?sslmode=...`.
    pub url: String,
    /// The most connections this process holds.
    pub max_connections: u32,
    /// How long connecting (and waiting for a free connection) may take.
    pub connect_timeout: Duration,
    /// How long a write waits for another write's lock.
    pub busy_timeout: Duration,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redacted(&self.url))
            .field("max_connections", &self.max_connections)
            .field("connect_timeout", &self.connect_timeout)
            .field("busy_timeout", &self.busy_timeout)
            .finish()
    }
}

impl DatabaseSettings {
    /// The SQLite file at `path`, created when missing.
    pub fn sqlite_file(path: &Path) -> anyhow::Result<DatabaseSettings> {
        let path = std::path::absolute(path)
            .with_context(|| format!("{} is not a usable path", path.display()))?;
        let url = url::Url::from_file_path(&path)
            .map_err(|()| anyhow::anyhow!("{} is not a usable path", path.display()))?;
        Ok(DatabaseSettings {
            // The path as the URL spells it: percent-encoded, which
            // sqlx decodes.
            url: format!("sqlite://{}?mode=rwc", url.path()),
            max_connections: 4,
            connect_timeout: Duration::from_secs(10),
            busy_timeout: BUSY_TIMEOUT,
        })
    }

    /// The backend the URL names, or why it names none.
    pub fn backend(&self) -> anyhow::Result<Backend> {
        let url = url::Url::parse(&self.url);
        match url.as_ref().map(url::Url::scheme) {
            Ok("sqlite") => Ok(Backend::Sqlite),
            Ok("postgres" | "postgresql") => Ok(Backend::Postgres),
            _ => anyhow::bail!(
                "the database URL must start with sqlite:// or postgres://, not `{}`",
                redacted(&self.url)
            ),
        }
    }
}

/// `url` without its password, for messages and logs.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(not a URL)".to_owned(),
    }
}

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such tenant (or token); the message names it.
    #[error("{0}")]
    NotFound(String),
    /// A versioned resource moved on since the caller read it.
    #[error("the {0} changed since you read it: read it again and reapply your change")]
    Stale(&'static str),
    /// Someone saved the design since the editor started from `base`.
    #[error(
        "revision {head} of the design was saved by {author} since you started from revision {base}: \
         open it, reapply your changes and save again (nothing of yours was lost or overwritten)"
    )]
    DesignMoved {
        /// The revision the editor started from.
        base: i64,
        /// The newest revision.
        head: i64,
        /// Who saved it.
        author: String,
    },
    /// A theme names a font file the tenant does not have.
    #[error(
        "the font face of weight {weight} names the file {file}, which this tenant does not have: \
         upload the WOFF2 file first (the studio, POST /api/tenants/{{tenant}}/fonts, or \
         `tessera design font`), then save again"
    )]
    MissingFont {
        /// The file's digest.
        file: String,
        /// The face's weight, to tell which.
        weight: u16,
    },
    /// A tenant with this slug exists.
    #[error("tenant `{0}` already exists")]
    TenantExists(String),
    /// Another tenant of the same issuer already uses this audience.
    #[error(
        "another tenant of this issuer already uses the audience `{0}`: each tenant needs its own, \
         or one tenant's access tokens would be accepted for another's"
    )]
    AudienceTaken(String),
    /// A uniqueness rule of the schema refused the write.
    #[error("this already exists")]
    Duplicate(#[source] sqlx::Error),
    /// Other writes held the database for longer than the busy timeout.
    #[error("the database is busy with other writes: try again")]
    Busy(#[source] sqlx::Error),
    /// The database failed.
    #[error("the database failed")]
    Database(#[source] sqlx::Error),
    /// A stored document could not be read or written as JSON.
    #[error("a stored document is not valid JSON")]
    Json(#[from] serde_json::Error),
    /// A write's task ended without an answer (a panic, or shutdown).
    #[error("a write was interrupted")]
    Interrupted(#[from] tokio::task::JoinError),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        // Extended result codes: the primary code is the low byte.
        const SQLITE_BUSY: i64 = 5;
        const SQLITE_LOCKED: i64 = 6;
        // PostgreSQL's SQLSTATEs for a lock not granted in time, a
        // serialization failure and a deadlock: all mean "try again".
        const POSTGRES_BUSY: [&str; 3] = ["55P03", "40001", "40P01"];
        match &error {
            sqlx::Error::PoolTimedOut => StoreError::Busy(error),
            sqlx::Error::Database(database)
                if database
                    .code()
                    .is_some_and(|code| POSTGRES_BUSY.contains(&code.as_ref())) =>
            {
                StoreError::Busy(error)
            }
            sqlx::Error::Database(database) => {
                let code = database
                    .code()
                    .and_then(|code| code.parse::<i64>().ok())
                    .map(|code| code & 0xff);
                if matches!(code, Some(SQLITE_BUSY | SQLITE_LOCKED)) {
                    StoreError::Busy(error)
                } else if database.is_unique_violation() {
                    StoreError::Duplicate(error)
                } else {
                    StoreError::Database(error)
                }
            }
            _ => StoreError::Database(error),
        }
    }
}

/// A stored value with the version it was read at.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// The version, which an ETag carries.
    pub version: i64,
}

/// A tenant's identity: never reused, so a tenant created again under a
/// deleted tenant's slug shares nothing with it (texts, tokens, cached
/// documents, audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(i64);

impl TenantId {
    /// An id no stored tenant has (stored ids start at 1): for the clients
    /// the development issuer knows without a tenant, such as the console.
    pub const BUILT_IN: TenantId = TenantId(0);
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantRecord {
    /// The identity.
    pub id: TenantId,
    /// The slug.
    pub slug: String,
    /// The configuration and its version.
    pub config: Versioned<TenantConfig>,
    /// The theme and its version.
    pub theme: Versioned<Theme>,
}

/// An admin token as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AdminToken {
    /// The public id, also the actor name in the audit log.
    pub id: String,
    /// The slug of the only tenant it may manage, or `null` for every tenant.
    pub tenant: Option<String>,
    /// A note saying what it is for.
    pub label: String,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// When it stops working (Unix seconds).
    pub expires_at: i64,
    /// When it was last used, to the minute (Unix seconds), if ever.
    pub last_used_at: Option<i64>,
}

/// A new admin token's description; the secret's hash travels beside it.
#[derive(Debug, Clone)]
pub struct AdminTokenSpec<'a> {
    /// The public id.
    pub id: &'a str,
    /// The tenant it manages, or `None` for every tenant.
    pub tenant: Option<&'a str>,
    /// A note saying what it is for.
    pub label: &'a str,
    /// When it stops working (Unix seconds).
    pub expires_at: i64,
}

/// One audit log row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Unix seconds.
    pub at: i64,
    /// Who: an admin token id, `cli` or `tessera-dev`.
    pub actor: String,
    /// What: `create`, `update`, `delete` or `revoke`.
    pub action: String,
    /// The tenant's slug, or `null` for the instance (all-tenants tokens).
    pub tenant: Option<String>,
    /// Which resource: `tenant`, `theme`, `texts/{locale}`, `admin-token`.
    pub resource: String,
    /// The JSON before the change.
    pub before: Option<String>,
    /// The JSON after the change.
    pub after: Option<String>,
}

/// What the caches hold. `generation` grows with every write; a cache miss
/// notes it before reading the database and fills the cache only if it has
/// not moved since, so a read that raced a write never outlives it.
#[derive(Debug, Default)]
struct Cache {
    generation: u64,
    tenants: HashMap<String, Arc<TenantRecord>>,
    texts: HashMap<(TenantId, String), CachedTexts>,
}

/// A tenant's texts for one locale, with the slug that writes invalidate by.
#[derive(Debug)]
struct CachedTexts {
    slug: String,
    texts: Versioned<Messages>,
}

/// A test's hold on the next cache fill; see [`Store::pause_next_cache_fill`].
#[doc(hidden)]
#[derive(Debug)]
pub struct CacheFillPause {
    reached: oneshot::Receiver<()>,
    release: oneshot::Sender<()>,
}

impl CacheFillPause {
    /// Waits until a cache miss has read the database and stopped.
    pub async fn reached(&mut self) {
        let _ = (&mut self.reached).await;
    }

    /// Lets the stopped cache miss go on.
    pub fn release(self) {
        let _ = self.release.send(());
    }
}

type PausePoint = (oneshot::Sender<()>, oneshot::Receiver<()>);

/// The database.
///
/// Reads of tenants and texts are answered from an in-memory cache that every
/// write through this type invalidates, so public endpoints (theme.css,
/// texts) do not touch SQLite per request. One process owns a database file.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    busy_timeout: Duration,
    cache: Arc<RwLock<Cache>>,
    pause: Arc<Mutex<Option<PausePoint>>>,
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    Ok(serde_json::to_string(value)?)
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    Ok(serde_json::from_str(text)?)
}

fn no_tenant(slug: &str) -> StoreError {
    StoreError::NotFound(format!("no tenant `{slug}`"))
}

fn audit_entry(row: &sqlx::any::AnyRow) -> AuditEntry {
    AuditEntry {
        at: row.get("at"),
        actor: row.get("actor"),
        action: row.get("action"),
        tenant: row.get("tenant"),
        resource: row.get("resource"),
        before: row.get("before"),
        after: row.get("after"),
    }
}

fn admin_token_from(row: &sqlx::any::AnyRow) -> AdminToken {
    AdminToken {
        id: row.get("id"),
        tenant: row.get("slug"),
        label: row.get("label"),
        created_at: row.get("created_at"),
        expires_at: row.get("expires_at"),
        last_used_at: row.get("last_used_at"),
    }
}

const ADMIN_TOKEN_COLUMNS: &str = "admin_tokens.id, tenants.slug, admin_tokens.label, \
     admin_tokens.created_at, admin_tokens.expires_at, admin_tokens.last_used_at \
     FROM admin_tokens LEFT JOIN tenants ON tenants.id = admin_tokens.tenant_id";

/// One audit row, written in the transaction of the change it describes.
struct Audit<'a> {
    actor: &'a str,
    action: &'a str,
    tenant: Option<(TenantId, &'a str)>,
    resource: &'a str,
    before: Option<String>,
    after: Option<String>,
}

impl Audit<'_> {
    async fn write(self, transaction: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, tenant_id, tenant, resource, before, after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(now())
        .bind(self.actor)
        .bind(self.action)
        .bind(self.tenant.map(|(id, _)| id.0))
        .bind(self.tenant.map(|(_, slug)| slug))
        .bind(self.resource)
        .bind(self.before)
        .bind(self.after)
        .execute(transaction)
        .await?;
        Ok(())
    }
}

impl Store {
    /// Opens (creating if needed) the database file and migrates it.
    pub async fn open(path: &Path) -> anyhow::Result<Store> {
        Self::open_with_busy_timeout(path, BUSY_TIMEOUT).await
    }

    /// Like [`Store::open`], with writes waiting at most `busy_timeout` for
    /// another connection's write lock (then they fail with
    /// [`StoreError::Busy`]).
    pub async fn open_with_busy_timeout(
        path: &Path,
        busy_timeout: Duration,
    ) -> anyhow::Result<Store> {
        Self::connect(&DatabaseSettings {
            busy_timeout,
            ..DatabaseSettings::sqlite_file(path)?
        })
        .await
    }

    /// An in-memory SQLite database, for tests.
    pub async fn in_memory() -> anyhow::Result<Store> {
        Self::connect(&DatabaseSettings {
            url: "sqlite::memory:".to_owned(),
            // One connection: every in-memory connection would be its own
            // database.
            max_connections: 1,
            connect_timeout: Duration::from_secs(10),
            busy_timeout: BUSY_TIMEOUT,
        })
        .await
    }

    /// Connects to the database `settings` name and brings its schema up
    /// to this binary's; refuses, saying why, a database that cannot be
    /// reached or whose schema is newer than this binary.
    pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = settings.backend()?;
        let busy_milliseconds = settings.busy_timeout.as_millis();
        let pool = AnyPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.connect_timeout)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        for pragma in [
                            "PRAGMA journal_mode = WAL".to_owned(),
                            "PRAGMA synchronous = NORMAL".to_owned(),
                            "PRAGMA foreign_keys = ON".to_owned(),
                            format!("PRAGMA busy_timeout = {busy_milliseconds}"),
                        ] {
                            sqlx::query(&pragma).execute(&mut *connection).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(&settings.url)
            .await
            .with_context(|| {
                format!(
                    "cannot reach the database at {} (within {} s)",
                    redacted(&settings.url),
                    settings.connect_timeout.as_secs()
                )
            })?;
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        // Replicas starting together: sqlx takes the database's lock while
        // it migrates, so the schema is brought up once.
        migrator.run(&pool).await.map_err(|error| match error {
            sqlx::migrate::MigrateError::VersionMissing(version) => anyhow::anyhow!(
                "the database at {} has migration {version}, which this binary does not know \
                 (it knows up to {}): its schema is newer than this tessera; run the newer \
                 release, or restore the backup taken before the upgrade",
                redacted(&settings.url),
                migrator
                    .iter()
                    .map(|migration| migration.version)
                    .max()
                    .unwrap_or(0)
            ),
            other => anyhow::Error::new(other).context(format!(
                "cannot bring the database at {} up to this binary's schema",
                redacted(&settings.url)
            )),
        })?;
        let store = Store {
            pool,
            backend,
            busy_timeout: settings.busy_timeout,
            cache: Arc::default(),
            pause: Arc::default(),
        };
        if backend == Backend::Postgres {
            // Ends by itself once the store is closed.
            drop(replicas::follow(store.clone(), settings.url.clone()));
        }
        Ok(store)
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Test support: the next cache miss stops after it read the database
    /// and before it fills the cache, until the returned pause is released,
    /// so a test can put a write in exactly there.
    #[doc(hidden)]
    pub fn pause_next_cache_fill(&self) -> CacheFillPause {
        let (reached_sender, reached) = oneshot::channel();
        let (release, release_receiver) = oneshot::channel();
        *self.pause.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((reached_sender, release_receiver));
        CacheFillPause { reached, release }
    }

    async fn before_cache_fill(&self) {
        let pause = self.pause.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((reached, release)) = pause {
            let _ = reached.send(());
            let _ = release.await;
        }
    }

    /// Fills the cache, unless a write happened since `generation` was read.
    fn fill(&self, generation: u64, fill: impl FnOnce(&mut Cache)) {
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        if cache.generation == generation {
            fill(&mut cache);
        }
    }

    /// Forgets what the caches hold about the tenant `id` (another
    /// replica changed it).
    fn forget_tenant(&self, id: TenantId) {
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        cache.generation = cache.generation.wrapping_add(1);
        cache.tenants.retain(|_, record| record.id != id);
        cache.texts.retain(|(tenant, _), _| *tenant != id);
    }

    /// Forgets everything the caches hold.
    fn forget_everything(&self) {
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        cache.generation = cache.generation.wrapping_add(1);
        cache.tenants.clear();
        cache.texts.clear();
    }

    /// The generation of the cached tables (PostgreSQL's `cache_generation`
    /// sequence; see `replicas`).
    async fn cache_generation(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM cache_generation",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Forgets what the caches hold about a tenant; called by every write
    /// after it committed (or failed).
    fn forget(&self, slug: &str) {
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        cache.generation = cache.generation.wrapping_add(1);
        cache.tenants.remove(slug);
        cache.texts.retain(|_, texts| texts.slug != slug);
    }

    /// Runs a write on its own task, so that it runs to its end (commit and
    /// cache invalidation) even when the caller stops waiting.
    async fn detached<T: Send + 'static>(
        &self,
        slug: Option<String>,
        write: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        tokio::spawn(async move {
            let result = write.await;
            if let Some(slug) = slug {
                store.forget(&slug);
            }
            result
        })
        .await?
    }

    /// Runs `work` in one write transaction (the writer lock taken first)
    /// on its own task, as [`Store::detached`] does, and commits it when
    /// `work` succeeds.
    async fn write<T: Send + 'static>(
        &self,
        work: impl for<'c> FnOnce(
            &'c mut sqlx::AnyConnection,
        ) -> std::pin::Pin<
            Box<dyn Future<Output = Result<T, StoreError>> + Send + 'c>,
        > + Send
        + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        self.detached(None, async move {
            let mut transaction = store.begin_write().await?;
            let value = work(&mut transaction).await?;
            transaction.commit().await?;
            Ok(value)
        })
        .await
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        match self.backend {
            Backend::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres => {
                let mut transaction = self.pool.begin().await?;
                // Whole milliseconds: PostgreSQL reads a bare number so.
                sqlx::query(&format!(
                    "SET LOCAL lock_timeout = {}",
                    self.busy_timeout.as_millis().max(1)
                ))
                .execute(&mut *transaction)
                .await?;
                // In FROM: the function returns `void`, a type the `Any`
                // driver does not read.
                sqlx::query("SELECT 1 AS locked FROM pg_advisory_xact_lock($1)")
                    .bind(POSTGRES_WRITE_LOCK)
                    .execute(&mut *transaction)
                    .await?;
                Ok(transaction)
            }
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// The id of the tenant `slug` within a write.
    async fn tenant_id(
        transaction: &mut sqlx::AnyConnection,
        slug: &str,
    ) -> Result<TenantId, StoreError> {
        let row = sqlx::query("SELECT id FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_optional(transaction)
            .await?
            .ok_or_else(|| no_tenant(slug))?;
        Ok(TenantId(row.get("id")))
    }

    /// Refuses an audience another tenant (not `except`) uses on this issuer.
    async fn check_audience(
        transaction: &mut sqlx::AnyConnection,
        config: &TenantConfig,
        except: Option<TenantId>,
    ) -> Result<(), StoreError> {
        let taken = sqlx::query(
            "SELECT 1 FROM tenants WHERE issuer = $1 AND audience = $2 AND id IS DISTINCT FROM $3",
        )
        .bind(&config.issuer)
        .bind(&config.audience)
        .bind(except.map(|id| id.0))
        .fetch_optional(transaction)
        .await?;
        match taken {
            Some(_) => Err(StoreError::AudienceTaken(config.audience.clone())),
            None => Ok(()),
        }
    }

    /// Creates a tenant; fails when the slug is taken, or the audience on
    /// this issuer.
    pub async fn create_tenant(
        &self,
        actor: &str,
        slug: &str,
        config: &TenantConfig,
        theme: &Theme,
    ) -> Result<TenantRecord, StoreError> {
        // A new tenant has no font files yet.
        if let Some(face) = theme.font.as_ref().and_then(|font| font.faces.first()) {
            return Err(StoreError::MissingFont {
                file: face.file.clone(),
                weight: face.weight,
            });
        }
        let (store, actor, slug_owned) = (self.clone(), actor.to_owned(), slug.to_owned());
        let (config, theme) = (config.clone(), theme.clone());
        self.detached(Some(slug.to_owned()), async move {
            store
                .create_tenant_now(&actor, &slug_owned, config, theme)
                .await
        })
        .await
    }

    async fn create_tenant_now(
        &self,
        actor: &str,
        slug: &str,
        config: TenantConfig,
        theme: Theme,
    ) -> Result<TenantRecord, StoreError> {
        let mut transaction = self.begin_write().await?;
        let exists = sqlx::query("SELECT 1 FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&mut *transaction)
            .await?;
        if exists.is_some() {
            return Err(StoreError::TenantExists(slug.to_owned()));
        }
        Self::check_audience(&mut transaction, &config, None).await?;
        let (config_json, theme_json) = (to_json(&config)?, to_json(&theme)?);
        let id = sqlx::query(
            "INSERT INTO tenants (slug, issuer, audience, config, config_version, theme, theme_version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, 1, $6, $7) RETURNING id",
        )
        .bind(slug)
        .bind(&config.issuer)
        .bind(&config.audience)
        .bind(&config_json)
        .bind(&theme_json)
        .bind(now())
        .bind(now())
        .fetch_one(&mut *transaction)
        .await?;
        let id = TenantId(id.get("id"));
        // Revision 1 of its design, published (the column's default).
        Self::append_revision(&mut transaction, id, actor, "created", &theme_json, "{}").await?;
        let after = to_json(&serde_json::json!({"config": config, "theme": theme}))?;
        Audit {
            actor,
            action: "create",
            tenant: Some((id, slug)),
            resource: "tenant",
            before: None,
            after: Some(after),
        }
        .write(&mut transaction)
        .await?;
        transaction.commit().await?;
        Ok(TenantRecord {
            id,
            slug: slug.to_owned(),
            config: Versioned {
                value: config,
                version: 1,
            },
            theme: Versioned {
                value: theme,
                version: 1,
            },
        })
    }

    /// A tenant by slug.
    pub async fn tenant(&self, slug: &str) -> Result<Option<Arc<TenantRecord>>, StoreError> {
        let generation = {
            let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
            if let Some(record) = cache.tenants.get(slug) {
                return Ok(Some(Arc::clone(record)));
            }
            cache.generation
        };
        let record = self.tenant_from_database(slug).await?.map(Arc::new);
        self.before_cache_fill().await;
        if let Some(record) = &record {
            self.fill(generation, |cache| {
                cache.tenants.insert(slug.to_owned(), Arc::clone(record));
            });
        }
        Ok(record)
    }

    async fn tenant_from_database(&self, slug: &str) -> Result<Option<TenantRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, slug, config, config_version, theme, theme_version FROM tenants WHERE slug = $1",
        )
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(TenantRecord {
            id: TenantId(row.get("id")),
            slug: row.get("slug"),
            config: Versioned {
                value: from_json(row.get::<&str, _>("config"))?,
                version: row.get("config_version"),
            },
            theme: Versioned {
                value: from_json(row.get::<&str, _>("theme"))?,
                version: row.get("theme_version"),
            },
        }))
    }

    /// Every tenant's slug, sorted.
    pub async fn tenant_slugs(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT slug FROM tenants ORDER BY slug")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|row| row.get("slug")).collect())
    }

    /// Replaces a tenant's configuration if it is still at `expected_version`
    /// (and its audience is not another tenant's on the same issuer).
    pub async fn update_config(
        &self,
        actor: &str,
        slug: &str,
        expected_version: i64,
        config: &TenantConfig,
    ) -> Result<i64, StoreError> {
        let (store, actor, slug_owned) = (self.clone(), actor.to_owned(), slug.to_owned());
        let config = config.clone();
        self.detached(Some(slug.to_owned()), async move {
            let value = to_json(&config)?;
            store
                .update_column(
                    &actor,
                    &slug_owned,
                    expected_version,
                    Column::Config(&config),
                    value,
                )
                .await
        })
        .await
    }

    /// Replaces a tenant's theme if it is still at `expected_version`.
    pub async fn update_theme(
        &self,
        actor: &str,
        slug: &str,
        expected_version: i64,
        theme: &Theme,
    ) -> Result<i64, StoreError> {
        self.check_font_files(slug, theme).await?;
        let (store, actor, slug_owned) = (self.clone(), actor.to_owned(), slug.to_owned());
        let value = to_json(theme)?;
        self.detached(Some(slug.to_owned()), async move {
            store
                .update_column(&actor, &slug_owned, expected_version, Column::Theme, value)
                .await
        })
        .await
    }

    async fn update_column(
        &self,
        actor: &str,
        slug: &str,
        expected_version: i64,
        column: Column<'_>,
        value: String,
    ) -> Result<i64, StoreError> {
        let name = column.name();
        // `name` is one of two literals, never user input.
        let select = format!(
            "SELECT id, {name} AS value, {name}_version AS version FROM tenants WHERE slug = $1"
        );
        let mut transaction = self.begin_write().await?;
        let row = sqlx::query(&select)
            .bind(slug)
            .fetch_optional(&mut *transaction)
            .await?
            .ok_or_else(|| no_tenant(slug))?;
        let id = TenantId(row.get("id"));
        let (before, version): (String, i64) = (row.get("value"), row.get("version"));
        if version != expected_version {
            return Err(StoreError::Stale(name));
        }
        let changed = match column {
            Column::Config(config) => {
                Self::check_audience(&mut transaction, config, Some(id)).await?;
                sqlx::query(
                    "UPDATE tenants SET config = $1, issuer = $2, audience = $3, \
                     config_version = config_version + 1, updated_at = $4 \
                     WHERE id = $5 AND config_version = $6",
                )
                .bind(&value)
                .bind(&config.issuer)
                .bind(&config.audience)
            }
            Column::Theme => sqlx::query(
                "UPDATE tenants SET theme = $1, theme_version = theme_version + 1, updated_at = $2 \
                 WHERE id = $3 AND theme_version = $4",
            )
            .bind(&value),
        }
        .bind(now())
        .bind(id.0)
        .bind(expected_version)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if changed != 1 {
            return Err(StoreError::Stale(name));
        }
        if let Column::Theme = column {
            Self::record_published(&mut transaction, id, actor, "theme replaced").await?;
        }
        Audit {
            actor,
            action: "update",
            tenant: Some((id, slug)),
            resource: name,
            before: Some(before),
            after: Some(value),
        }
        .write(&mut transaction)
        .await?;
        transaction.commit().await?;
        Ok(expected_version.saturating_add(1))
    }

    /// Deletes a tenant (and its texts and tokens) if still at `expected_version`.
    pub async fn delete_tenant(
        &self,
        actor: &str,
        slug: &str,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        let (store, actor, slug_owned) = (self.clone(), actor.to_owned(), slug.to_owned());
        self.detached(Some(slug.to_owned()), async move {
            store
                .delete_tenant_now(&actor, &slug_owned, expected_version)
                .await
        })
        .await
    }

    async fn delete_tenant_now(
        &self,
        actor: &str,
        slug: &str,
        expected_version: i64,
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        let row = sqlx::query("SELECT id, config, config_version FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&mut *transaction)
            .await?
            .ok_or_else(|| no_tenant(slug))?;
        if row.get::<i64, _>("config_version") != expected_version {
            return Err(StoreError::Stale("tenant"));
        }
        let id = TenantId(row.get("id"));
        sqlx::query("DELETE FROM tenants WHERE id = $1")
            .bind(id.0)
            .execute(&mut *transaction)
            .await?;
        Audit {
            actor,
            action: "delete",
            tenant: Some((id, slug)),
            resource: "tenant",
            before: Some(row.get("config")),
            after: None,
        }
        .write(&mut transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// A tenant's overrides for one locale (version 0 when there are none).
    pub async fn texts(
        &self,
        tenant: &TenantRecord,
        locale: &str,
    ) -> Result<Versioned<Messages>, StoreError> {
        let key = (tenant.id, locale.to_owned());
        let generation = {
            let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
            if let Some(cached) = cache.texts.get(&key) {
                return Ok(cached.texts.clone());
            }
            cache.generation
        };
        let texts = self.texts_from_database(tenant.id, locale).await?;
        self.before_cache_fill().await;
        self.fill(generation, |cache| {
            let cached = CachedTexts {
                slug: tenant.slug.clone(),
                texts: texts.clone(),
            };
            cache.texts.insert(key, cached);
        });
        Ok(texts)
    }

    async fn texts_from_database(
        &self,
        tenant: TenantId,
        locale: &str,
    ) -> Result<Versioned<Messages>, StoreError> {
        let row =
            sqlx::query("SELECT messages, version FROM texts WHERE tenant_id = $1 AND locale = $2")
                .bind(tenant.0)
                .bind(locale)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some(row) => Versioned {
                value: from_json(row.get::<&str, _>("messages"))?,
                version: row.get("version"),
            },
            None => Versioned {
                value: Messages::new(),
                version: 0,
            },
        })
    }

    /// Replaces a tenant's overrides for one locale if still at `expected_version`.
    pub async fn put_texts(
        &self,
        actor: &str,
        slug: &str,
        locale: &str,
        expected_version: i64,
        messages: &Messages,
    ) -> Result<i64, StoreError> {
        let (store, actor, slug_owned) = (self.clone(), actor.to_owned(), slug.to_owned());
        let (locale, after) = (locale.to_owned(), to_json(messages)?);
        self.detached(Some(slug.to_owned()), async move {
            store
                .put_texts_now(&actor, &slug_owned, &locale, expected_version, after)
                .await
        })
        .await
    }

    async fn put_texts_now(
        &self,
        actor: &str,
        slug: &str,
        locale: &str,
        expected_version: i64,
        after: String,
    ) -> Result<i64, StoreError> {
        let mut transaction = self.begin_write().await?;
        let id = Self::tenant_id(&mut transaction, slug).await?;
        let current =
            sqlx::query("SELECT messages, version FROM texts WHERE tenant_id = $1 AND locale = $2")
                .bind(id.0)
                .bind(locale)
                .fetch_optional(&mut *transaction)
                .await?;
        let (before, version) = match &current {
            Some(row) => (
                Some(row.get::<String, _>("messages")),
                row.get::<i64, _>("version"),
            ),
            None => (None, 0),
        };
        if version != expected_version {
            return Err(StoreError::Stale("texts"));
        }
        sqlx::query(
            "INSERT INTO texts (tenant_id, locale, messages, version) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, locale) DO UPDATE SET messages = excluded.messages, version = excluded.version",
        )
        .bind(id.0)
        .bind(locale)
        .bind(&after)
        .bind(version.saturating_add(1))
        .execute(&mut *transaction)
        .await?;
        let resource = format!("texts/{locale}");
        Self::record_published(&mut transaction, id, actor, &format!("{resource} replaced"))
            .await?;
        Audit {
            actor,
            action: "update",
            tenant: Some((id, slug)),
            resource: &resource,
            before,
            after: Some(after),
        }
        .write(&mut transaction)
        .await?;
        transaction.commit().await?;
        Ok(version.saturating_add(1))
    }

    /// Stores a new admin token's hash; the creation is audited under its
    /// tenant, or for the instance when it manages every tenant.
    pub async fn create_admin_token(
        &self,
        actor: &str,
        token: &AdminTokenSpec<'_>,
        token_hash: &[u8],
    ) -> Result<AdminToken, StoreError> {
        let (store, actor) = (self.clone(), actor.to_owned());
        let (id, tenant, label) = (
            token.id.to_owned(),
            token.tenant.map(str::to_owned),
            token.label.to_owned(),
        );
        let (expires_at, hash) = (token.expires_at, token_hash.to_vec());
        self.detached(None, async move {
            let token = AdminTokenSpec {
                id: &id,
                tenant: tenant.as_deref(),
                label: &label,
                expires_at,
            };
            store.create_admin_token_now(&actor, &token, &hash).await
        })
        .await
    }

    async fn create_admin_token_now(
        &self,
        actor: &str,
        token: &AdminTokenSpec<'_>,
        token_hash: &[u8],
    ) -> Result<AdminToken, StoreError> {
        let mut transaction = self.begin_write().await?;
        let tenant = match token.tenant {
            Some(slug) => Some((Self::tenant_id(&mut transaction, slug).await?, slug)),
            None => None,
        };
        let created_at = now();
        sqlx::query(
            "INSERT INTO admin_tokens (id, token_hash, tenant_id, label, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token.id)
        .bind(token_hash)
        .bind(tenant.map(|(id, _)| id.0))
        .bind(token.label)
        .bind(created_at)
        .bind(token.expires_at)
        .execute(&mut *transaction)
        .await?;
        let stored = AdminToken {
            id: token.id.to_owned(),
            tenant: token.tenant.map(str::to_owned),
            label: token.label.to_owned(),
            created_at,
            expires_at: token.expires_at,
            last_used_at: None,
        };
        Audit {
            actor,
            action: "create",
            tenant,
            resource: "admin-token",
            before: None,
            after: Some(to_json(&stored)?),
        }
        .write(&mut transaction)
        .await?;
        transaction.commit().await?;
        Ok(stored)
    }

    /// The unexpired admin token with this hash, if any.
    pub async fn admin_token(&self, token_hash: &[u8]) -> Result<Option<AdminToken>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ADMIN_TOKEN_COLUMNS} WHERE admin_tokens.token_hash = $1 AND admin_tokens.expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(admin_token_from))
    }

    /// Records that a token was used at `at`, unless that was already
    /// recorded less than a minute before: at most one write per token and
    /// minute. Not audited.
    pub async fn touch_admin_token(&self, id: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE admin_tokens SET last_used_at = $1 \
             WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $1 - 60)",
        )
        .bind(at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Moves a token's expiry (what keeps `tessera dev`'s session token
    /// alive while that process runs). Not audited.
    pub async fn renew_admin_token(&self, id: &str, expires_at: i64) -> Result<(), StoreError> {
        let changed = sqlx::query("UPDATE admin_tokens SET expires_at = $1 WHERE id = $2")
            .bind(expires_at)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound(format!("no admin token `{id}`")));
        }
        Ok(())
    }

    /// Admin tokens, expired ones included, oldest first: every token, or
    /// those of one tenant.
    pub async fn admin_tokens(&self, tenant: Option<&str>) -> Result<Vec<AdminToken>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ADMIN_TOKEN_COLUMNS} WHERE $1 IS NULL OR tenants.slug = $1 \
             ORDER BY admin_tokens.created_at, admin_tokens.id"
        ))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(admin_token_from).collect())
    }

    /// Revokes (deletes) an admin token; with `of_tenant`, only if it belongs
    /// to that tenant. Audited like its creation.
    pub async fn revoke_admin_token(
        &self,
        actor: &str,
        id: &str,
        of_tenant: Option<&str>,
    ) -> Result<(), StoreError> {
        let (store, actor, id) = (self.clone(), actor.to_owned(), id.to_owned());
        let of_tenant = of_tenant.map(str::to_owned);
        self.detached(None, async move {
            store
                .revoke_admin_token_now(&actor, &id, of_tenant.as_deref())
                .await
        })
        .await
    }

    async fn revoke_admin_token_now(
        &self,
        actor: &str,
        id: &str,
        of_tenant: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "SELECT {ADMIN_TOKEN_COLUMNS} WHERE admin_tokens.id = $1 \
             AND ($2 IS NULL OR tenants.slug = $2)"
        ))
        .bind(id)
        .bind(of_tenant)
        .fetch_optional(&mut *transaction)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no admin token `{id}`")))?;
        let tenant_id: Option<i64> =
            sqlx::query_scalar("SELECT tenant_id FROM admin_tokens WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *transaction)
                .await?;
        let token = admin_token_from(&row);
        sqlx::query("DELETE FROM admin_tokens WHERE id = $1")
            .bind(id)
            .execute(&mut *transaction)
            .await?;
        Audit {
            actor,
            action: "revoke",
            tenant: tenant_id
                .zip(token.tenant.as_deref())
                .map(|(id, slug)| (TenantId(id), slug)),
            resource: "admin-token",
            before: Some(to_json(&token)?),
            after: None,
        }
        .write(&mut transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// A tenant's audit log, newest first: the rows of this tenant, never of
    /// an earlier tenant that had its slug.
    pub async fn audit_log(
        &self,
        tenant: TenantId,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, actor, action, tenant, resource, before, after FROM audit_log \
             WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(tenant.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(audit_entry).collect())
    }

    /// The whole instance's audit log, newest first: every tenant's rows,
    /// deleted tenants' included, and the rows of no tenant (all-tenants
    /// admin tokens created and revoked).
    pub async fn instance_audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, actor, action, tenant, resource, before, after FROM audit_log \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(audit_entry).collect())
    }

    /// Closes the pool, flushing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Which versioned column of a tenant a write replaces.
#[derive(Clone, Copy)]
enum Column<'a> {
    Config(&'a TenantConfig),
    Theme,
}

impl Column<'_> {
    fn name(self) -> &'static str {
        match self {
            Column::Config(_) => "config",
            Column::Theme => "theme",
        }
    }
}
