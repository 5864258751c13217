//! Storage: the only module that knows SQL.
//!
//! SQLite through sqlx, with migrations embedded in the binary, WAL journaling
//! and foreign keys on. Every write runs in one transaction together with its
//! audit row. Versioned resources use optimistic concurrency: a write names
//! the version it read and fails with a conflict when the row moved on, so no
//! update is lost. Keeping SQL here means a Postgres store can follow by
//! reimplementing this module alone.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr as _;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Serialize, de::DeserializeOwned};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row as _, SqlitePool};

use crate::error::ApiError;
use crate::i18n::Messages;
use crate::model::TenantConfig;
use crate::theme::Theme;

/// A stored value with the version it was read at.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// The version, which an ETag carries.
    pub version: i64,
}

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantRecord {
    /// The slug.
    pub slug: String,
    /// The configuration and its version.
    pub config: Versioned<TenantConfig>,
    /// The theme and its version.
    pub theme: Versioned<Theme>,
}

/// An admin token's identity (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminToken {
    /// The public id, also the actor name in the audit log.
    pub id: String,
    /// The only tenant it may manage, or `None` for every tenant.
    pub tenant: Option<String>,
}

/// One audit log row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Unix seconds.
    pub at: i64,
    /// Who: an admin token id, or `cli`.
    pub actor: String,
    /// What: `create`, `update` or `delete`.
    pub action: String,
    /// Which resource: `tenant`, `theme`, `texts/{locale}`, `admin-token`.
    pub resource: String,
    /// The JSON before the change.
    pub before: Option<String>,
    /// The JSON after the change.
    pub after: Option<String>,
}

/// A tenant's slug and a locale.
type TextsKey = (String, String);

/// The database.
///
/// Reads of tenants and texts are answered from an in-memory cache that every
/// write through this type updates or clears, so public endpoints (theme.css,
/// texts) do not touch SQLite per request. One process owns a database file.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    tenants: Arc<RwLock<HashMap<String, Arc<TenantRecord>>>>,
    texts: Arc<RwLock<HashMap<TextsKey, Versioned<Messages>>>>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

fn to_json<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|error| ApiError::Internal(error.into()))
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|error| ApiError::Internal(error.into()))
}

fn stale(what: &str) -> ApiError {
    ApiError::Conflict(format!(
        "the {what} changed since you read it: read it again and reapply your change"
    ))
}

impl Store {
    /// Opens (creating if needed) the database file and migrates it.
    pub async fn open(path: &Path) -> anyhow::Result<Store> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        Self::connect(options, 4).await
    }

    /// An in-memory database, for tests.
    pub async fn in_memory() -> anyhow::Result<Store> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        // One connection: every in-memory connection would be its own database.
        Self::connect(options, 1).await
    }

    async fn connect(options: SqliteConnectOptions, connections: u32) -> anyhow::Result<Store> {
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store {
            pool,
            tenants: Arc::default(),
            texts: Arc::default(),
        })
    }

    /// Forgets what the caches hold about a tenant; called by every write.
    fn forget(&self, slug: &str) {
        self.tenants
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(slug);
        self.texts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(tenant, _), _| tenant != slug);
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    async fn audit(
        transaction: &mut sqlx::SqliteConnection,
        actor: &str,
        action: &str,
        tenant: Option<&str>,
        resource: &str,
        before: Option<String>,
        after: Option<String>,
    ) -> Result<(), ApiError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, tenant, resource, before, after) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(now())
        .bind(actor)
        .bind(action)
        .bind(tenant)
        .bind(resource)
        .bind(before)
        .bind(after)
        .execute(transaction)
        .await?;
        Ok(())
    }

    /// Creates a tenant; fails with a conflict when the slug is taken.
    pub async fn create_tenant(
        &self,
        actor: &str,
        slug: &str,
        config: &TenantConfig,
        theme: &Theme,
    ) -> Result<TenantRecord, ApiError> {
        let mut transaction = self.pool.begin().await?;
        let exists = sqlx::query("SELECT 1 FROM tenants WHERE slug = ?")
            .bind(slug)
            .fetch_optional(&mut *transaction)
            .await?;
        if exists.is_some() {
            return Err(ApiError::Conflict(format!(
                "tenant `{slug}` already exists"
            )));
        }
        let (config_json, theme_json) = (to_json(config)?, to_json(theme)?);
        sqlx::query(
            "INSERT INTO tenants (slug, config, config_version, theme, theme_version, created_at, updated_at) \
             VALUES (?, ?, 1, ?, 1, ?, ?)",
        )
        .bind(slug)
        .bind(&config_json)
        .bind(&theme_json)
        .bind(now())
        .bind(now())
        .execute(&mut *transaction)
        .await?;
        let after = to_json(&serde_json::json!({"config": config, "theme": theme}))?;
        Self::audit(
            &mut transaction,
            actor,
            "create",
            Some(slug),
            "tenant",
            None,
            Some(after),
        )
        .await?;
        transaction.commit().await?;
        self.forget(slug);
        Ok(TenantRecord {
            slug: slug.to_owned(),
            config: Versioned {
                value: config.clone(),
                version: 1,
            },
            theme: Versioned {
                value: theme.clone(),
                version: 1,
            },
        })
    }

    /// A tenant by slug.
    pub async fn tenant(&self, slug: &str) -> Result<Option<Arc<TenantRecord>>, ApiError> {
        if let Some(record) = self
            .tenants
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(slug)
        {
            return Ok(Some(Arc::clone(record)));
        }
        let record = self.tenant_from_database(slug).await?.map(Arc::new);
        if let Some(record) = &record {
            self.tenants
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(slug.to_owned(), Arc::clone(record));
        }
        Ok(record)
    }

    async fn tenant_from_database(&self, slug: &str) -> Result<Option<TenantRecord>, ApiError> {
        let row = sqlx::query(
            "SELECT slug, config, config_version, theme, theme_version FROM tenants WHERE slug = ?",
        )
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(TenantRecord {
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
    pub async fn tenant_slugs(&self) -> Result<Vec<String>, ApiError> {
        let rows = sqlx::query("SELECT slug FROM tenants ORDER BY slug")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|row| row.get("slug")).collect())
    }

    /// Replaces a tenant's configuration if it is still at `expected_version`.
    pub async fn update_config(
        &self,
        actor: &str,
        slug: &str,
        expected_version: i64,
        config: &TenantConfig,
    ) -> Result<i64, ApiError> {
        self.update_column(actor, slug, expected_version, "config", to_json(config)?)
            .await
    }

    /// Replaces a tenant's theme if it is still at `expected_version`.
    pub async fn update_theme(
        &self,
        actor: &str,
        slug: &str,
        expected_version: i64,
        theme: &Theme,
    ) -> Result<i64, ApiError> {
        self.update_column(actor, slug, expected_version, "theme", to_json(theme)?)
            .await
    }

    async fn update_column(
        &self,
        actor: &str,
        slug: &str,
        expected_version: i64,
        column: &'static str,
        value: String,
    ) -> Result<i64, ApiError> {
        // `column` is one of two literals above, never user input.
        let select = format!(
            "SELECT {column} AS value, {column}_version AS version FROM tenants WHERE slug = ?"
        );
        let update = format!(
            "UPDATE tenants SET {column} = ?, {column}_version = {column}_version + 1, updated_at = ? \
             WHERE slug = ? AND {column}_version = ?"
        );
        let mut transaction = self.pool.begin().await?;
        let row = sqlx::query(&select)
            .bind(slug)
            .fetch_optional(&mut *transaction)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no tenant `{slug}`")))?;
        let (before, version): (String, i64) = (row.get("value"), row.get("version"));
        if version != expected_version {
            return Err(stale(column));
        }
        let changed = sqlx::query(&update)
            .bind(&value)
            .bind(now())
            .bind(slug)
            .bind(expected_version)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        if changed != 1 {
            return Err(stale(column));
        }
        Self::audit(
            &mut transaction,
            actor,
            "update",
            Some(slug),
            column,
            Some(before),
            Some(value),
        )
        .await?;
        transaction.commit().await?;
        self.forget(slug);
        Ok(expected_version + 1)
    }

    /// Deletes a tenant (and its texts and tokens) if still at `expected_version`.
    pub async fn delete_tenant(
        &self,
        actor: &str,
        slug: &str,
        expected_version: i64,
    ) -> Result<(), ApiError> {
        let mut transaction = self.pool.begin().await?;
        let row = sqlx::query("SELECT config, config_version FROM tenants WHERE slug = ?")
            .bind(slug)
            .fetch_optional(&mut *transaction)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no tenant `{slug}`")))?;
        if row.get::<i64, _>("config_version") != expected_version {
            return Err(stale("tenant"));
        }
        sqlx::query("DELETE FROM tenants WHERE slug = ?")
            .bind(slug)
            .execute(&mut *transaction)
            .await?;
        Self::audit(
            &mut transaction,
            actor,
            "delete",
            Some(slug),
            "tenant",
            Some(row.get("config")),
            None,
        )
        .await?;
        transaction.commit().await?;
        self.forget(slug);
        Ok(())
    }

    /// A tenant's overrides for one locale (version 0 when there are none).
    pub async fn texts(&self, slug: &str, locale: &str) -> Result<Versioned<Messages>, ApiError> {
        let key = (slug.to_owned(), locale.to_owned());
        if let Some(texts) = self
            .texts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(texts.clone());
        }
        let texts = self.texts_from_database(slug, locale).await?;
        self.texts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, texts.clone());
        Ok(texts)
    }

    async fn texts_from_database(
        &self,
        slug: &str,
        locale: &str,
    ) -> Result<Versioned<Messages>, ApiError> {
        let row =
            sqlx::query("SELECT messages, version FROM texts WHERE tenant = ? AND locale = ?")
                .bind(slug)
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
    ) -> Result<i64, ApiError> {
        let mut transaction = self.pool.begin().await?;
        let current =
            sqlx::query("SELECT messages, version FROM texts WHERE tenant = ? AND locale = ?")
                .bind(slug)
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
            return Err(stale("texts"));
        }
        let after = to_json(messages)?;
        sqlx::query(
            "INSERT INTO texts (tenant, locale, messages, version) VALUES (?, ?, ?, ?) \
             ON CONFLICT (tenant, locale) DO UPDATE SET messages = excluded.messages, version = excluded.version",
        )
        .bind(slug)
        .bind(locale)
        .bind(&after)
        .bind(version + 1)
        .execute(&mut *transaction)
        .await?;
        let resource = format!("texts/{locale}");
        Self::audit(
            &mut transaction,
            actor,
            "update",
            Some(slug),
            &resource,
            before,
            Some(after),
        )
        .await?;
        transaction.commit().await?;
        self.forget(slug);
        Ok(version + 1)
    }

    /// Stores a new admin token's hash.
    pub async fn create_admin_token(
        &self,
        actor: &str,
        id: &str,
        token_hash: &[u8],
        tenant: Option<&str>,
        label: &str,
    ) -> Result<(), ApiError> {
        let mut transaction = self.pool.begin().await?;
        if let Some(slug) = tenant {
            let exists = sqlx::query("SELECT 1 FROM tenants WHERE slug = ?")
                .bind(slug)
                .fetch_optional(&mut *transaction)
                .await?;
            if exists.is_none() {
                return Err(ApiError::NotFound(format!("no tenant `{slug}`")));
            }
        }
        sqlx::query(
            "INSERT INTO admin_tokens (id, token_hash, tenant, label, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(token_hash)
        .bind(tenant)
        .bind(label)
        .bind(now())
        .execute(&mut *transaction)
        .await?;
        let after = serde_json::json!({"id": id, "tenant": tenant, "label": label}).to_string();
        Self::audit(
            &mut transaction,
            actor,
            "create",
            tenant,
            "admin-token",
            None,
            Some(after),
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// The admin token with this hash, if any.
    pub async fn admin_token(&self, token_hash: &[u8]) -> Result<Option<AdminToken>, ApiError> {
        let row = sqlx::query("SELECT id, tenant FROM admin_tokens WHERE token_hash = ?")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| AdminToken {
            id: row.get("id"),
            tenant: row.get("tenant"),
        }))
    }

    /// A tenant's audit log, newest first.
    pub async fn audit_log(&self, slug: &str, limit: i64) -> Result<Vec<AuditEntry>, ApiError> {
        let rows = sqlx::query(
            "SELECT at, actor, action, resource, before, after FROM audit_log \
             WHERE tenant = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(slug)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| AuditEntry {
                at: row.get("at"),
                actor: row.get("actor"),
                action: row.get("action"),
                resource: row.get("resource"),
                before: row.get("before"),
                after: row.get("after"),
            })
            .collect())
    }

    /// Closes the pool, flushing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
