//! A tenant's design (its theme and its text overrides) as revisions.
//!
//! Every save is an immutable revision, numbered per tenant from 1. The
//! tenant's `theme` column and `texts` rows hold the published revision:
//! the public endpoints read only those, so a draft reaches no shop until
//! it is published, and publishing (or rolling back to) a revision copies
//! it there in one transaction, with an audit row. A save names the
//! revision its editor started from; if another was saved meanwhile, the
//! save is refused ([`StoreError::DesignMoved`]) instead of overwriting it.
//!
//! The older writes (`update_theme`, `put_texts`) save and publish a
//! revision in one step, so the history is complete whichever way a design
//! changed.
//!
//! What it is not: validation. Callers validate themes and texts first.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::Row as _;

use super::{Audit, Store, StoreError, TenantId, from_json, no_tenant, now, to_json};
use crate::i18n::Messages;
use crate::theme::Theme;

/// What a revision holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Design {
    /// The theme.
    pub theme: Theme,
    /// The text overrides by locale.
    #[serde(default)]
    pub texts: BTreeMap<String, Messages>,
}

/// One revision, with what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Revision {
    /// Its number, from 1.
    pub number: i64,
    /// Who saved it: an admin token id, `console:<subject> (<name>)`, `cli`.
    pub author: String,
    /// The note saved with it.
    pub note: String,
    /// When (Unix seconds).
    pub created_at: i64,
    /// The theme and texts.
    pub design: Design,
}

/// One revision in the history, without its contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RevisionSummary {
    /// Its number.
    pub number: i64,
    /// Who saved it.
    pub author: String,
    /// The note saved with it.
    pub note: String,
    /// When (Unix seconds).
    pub created_at: i64,
}

/// A tenant's design history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DesignHistory {
    /// The revision the public endpoints serve.
    pub published: i64,
    /// The newest revision: what a new save must start from.
    pub head: i64,
    /// Every revision, newest first.
    pub revisions: Vec<RevisionSummary>,
}

/// The most revisions a history lists.
const HISTORY_LIMIT: i64 = 500;

impl Store {
    /// The tenant's current text overrides as one JSON object by locale.
    pub(super) async fn texts_document(
        transaction: &mut sqlx::AnyConnection,
        id: TenantId,
    ) -> Result<String, StoreError> {
        // Built here, not with a JSON function, so that one SQL text serves
        // both databases; in locale order, one line.
        let rows =
            sqlx::query("SELECT locale, messages FROM texts WHERE tenant_id = $1 ORDER BY locale")
                .bind(id.0)
                .fetch_all(transaction)
                .await?;
        let mut texts = serde_json::Map::new();
        for row in rows {
            let messages: String = row.get("messages");
            texts.insert(row.get("locale"), serde_json::from_str(&messages)?);
        }
        Ok(serde_json::Value::Object(texts).to_string())
    }

    /// Appends a revision and returns its number.
    pub(super) async fn append_revision(
        transaction: &mut sqlx::AnyConnection,
        id: TenantId,
        actor: &str,
        note: &str,
        theme: &str,
        texts: &str,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO design_revisions (tenant_id, number, theme, texts, author, note, created_at) \
             SELECT $1, COALESCE(MAX(number), 0) + 1, $2, $3, $4, $5, $6 \
             FROM design_revisions WHERE tenant_id = $7 RETURNING number",
        )
        .bind(id.0)
        .bind(theme)
        .bind(texts)
        .bind(actor)
        .bind(note)
        .bind(now())
        .bind(id.0)
        .fetch_one(transaction)
        .await?;
        Ok(row.get("number"))
    }

    /// Saves and publishes the tenant's current theme and texts as a new
    /// revision: for the writes that change the published design directly.
    pub(super) async fn record_published(
        transaction: &mut sqlx::AnyConnection,
        id: TenantId,
        actor: &str,
        note: &str,
    ) -> Result<i64, StoreError> {
        let theme: String = sqlx::query("SELECT theme FROM tenants WHERE id = $1")
            .bind(id.0)
            .fetch_one(&mut *transaction)
            .await?
            .get("theme");
        let texts = Self::texts_document(&mut *transaction, id).await?;
        let number =
            Self::append_revision(&mut *transaction, id, actor, note, &theme, &texts).await?;
        sqlx::query("UPDATE tenants SET published_revision = $1 WHERE id = $2")
            .bind(number)
            .bind(id.0)
            .execute(&mut *transaction)
            .await?;
        Ok(number)
    }

    /// The tenant's design history.
    pub async fn design_history(&self, slug: &str) -> Result<DesignHistory, StoreError> {
        let tenant = sqlx::query("SELECT id, published_revision FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| no_tenant(slug))?;
        let rows = sqlx::query(
            "SELECT number, author, note, created_at FROM design_revisions \
             WHERE tenant_id = $1 ORDER BY number DESC LIMIT $2",
        )
        .bind(tenant.get::<i64, _>("id"))
        .bind(HISTORY_LIMIT)
        .fetch_all(&self.pool)
        .await?;
        let revisions: Vec<RevisionSummary> = rows
            .iter()
            .map(|row| RevisionSummary {
                number: row.get("number"),
                author: row.get("author"),
                note: row.get("note"),
                created_at: row.get("created_at"),
            })
            .collect();
        Ok(DesignHistory {
            published: tenant.get("published_revision"),
            head: revisions.first().map_or(0, |newest| newest.number),
            revisions,
        })
    }

    /// One revision of the tenant's design.
    pub async fn design_revision(&self, slug: &str, number: i64) -> Result<Revision, StoreError> {
        let row = sqlx::query(
            "SELECT design_revisions.number, design_revisions.author, design_revisions.note, \
             design_revisions.created_at, design_revisions.theme, design_revisions.texts \
             FROM design_revisions JOIN tenants ON tenants.id = design_revisions.tenant_id \
             WHERE tenants.slug = $1 AND design_revisions.number = $2",
        )
        .bind(slug)
        .bind(number)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| {
            StoreError::NotFound(format!("tenant `{slug}` has no design revision {number}"))
        })?;
        Ok(Revision {
            number: row.get("number"),
            author: row.get("author"),
            note: row.get("note"),
            created_at: row.get("created_at"),
            design: Design {
                theme: from_json(row.get::<&str, _>("theme"))?,
                texts: from_json(row.get::<&str, _>("texts"))?,
            },
        })
    }

    /// Saves `design` as the next revision if the newest is still `base`
    /// (the one the editor started from); publishes nothing.
    pub async fn save_design(
        &self,
        actor: &str,
        slug: &str,
        base: i64,
        design: &Design,
        note: &str,
    ) -> Result<i64, StoreError> {
        self.check_font_files(slug, &design.theme).await?;
        let (store, actor, slug_owned, note) = (
            self.clone(),
            actor.to_owned(),
            slug.to_owned(),
            note.to_owned(),
        );
        let (theme, texts) = (to_json(&design.theme)?, to_json(&design.texts)?);
        // Nothing public changes: the caches stay.
        self.detached(None, async move {
            let mut transaction = store.begin_write().await?;
            let id = Self::tenant_id(&mut transaction, &slug_owned).await?;
            let newest = sqlx::query(
                "SELECT number, author FROM design_revisions WHERE tenant_id = $1 \
                 ORDER BY number DESC LIMIT 1",
            )
            .bind(id.0)
            .fetch_optional(&mut *transaction)
            .await?;
            let head = newest.as_ref().map_or(0, |row| row.get::<i64, _>("number"));
            if head != base {
                return Err(StoreError::DesignMoved {
                    base,
                    head,
                    author: newest.map(|row| row.get("author")).unwrap_or_default(),
                });
            }
            let number =
                Self::append_revision(&mut transaction, id, &actor, &note, &theme, &texts).await?;
            Audit {
                actor: &actor,
                action: "save",
                tenant: Some((id, &slug_owned)),
                resource: "design",
                before: Some(to_json(&serde_json::json!({ "revision": head }))?),
                after: Some(to_json(
                    &serde_json::json!({ "revision": number, "note": note }),
                )?),
            }
            .write(&mut transaction)
            .await?;
            transaction.commit().await?;
            Ok(number)
        })
        .await
    }

    /// Publishes revision `number`: the public endpoints serve it from the
    /// moment this returns. Publishing an older revision than the one
    /// published is audited as a rollback.
    pub async fn publish_design(
        &self,
        actor: &str,
        slug: &str,
        number: i64,
    ) -> Result<(), StoreError> {
        let (store, actor, slug_owned) = (self.clone(), actor.to_owned(), slug.to_owned());
        self.detached(Some(slug.to_owned()), async move {
            let mut transaction = store.begin_write().await?;
            let tenant = sqlx::query("SELECT id, published_revision FROM tenants WHERE slug = $1")
                .bind(&slug_owned)
                .fetch_optional(&mut *transaction)
                .await?
                .ok_or_else(|| no_tenant(&slug_owned))?;
            let id = TenantId(tenant.get("id"));
            let published: i64 = tenant.get("published_revision");
            let revision = sqlx::query(
                "SELECT theme, texts FROM design_revisions WHERE tenant_id = $1 AND number = $2",
            )
            .bind(id.0)
            .bind(number)
            .fetch_optional(&mut *transaction)
            .await?
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "tenant `{slug_owned}` has no design revision {number}"
                ))
            })?;
            let theme: String = revision.get("theme");
            let texts: BTreeMap<String, Messages> = from_json(revision.get::<&str, _>("texts"))?;
            sqlx::query(
                "UPDATE tenants SET theme = $1, theme_version = theme_version + 1, \
                 published_revision = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(&theme)
            .bind(number)
            .bind(now())
            .bind(id.0)
            .execute(&mut *transaction)
            .await?;
            // Locales the revision has no overrides for lose theirs; the
            // others are replaced, each a version further (so an editor of
            // one locale's texts sees the change).
            let stored: Vec<String> =
                sqlx::query_scalar("SELECT locale FROM texts WHERE tenant_id = $1")
                    .bind(id.0)
                    .fetch_all(&mut *transaction)
                    .await?;
            for locale in stored.iter().filter(|locale| !texts.contains_key(*locale)) {
                sqlx::query("DELETE FROM texts WHERE tenant_id = $1 AND locale = $2")
                    .bind(id.0)
                    .bind(locale)
                    .execute(&mut *transaction)
                    .await?;
            }
            for (locale, messages) in &texts {
                sqlx::query(
                    "INSERT INTO texts (tenant_id, locale, messages, version) VALUES ($1, $2, $3, 1) \
                     ON CONFLICT (tenant_id, locale) DO UPDATE SET messages = excluded.messages, \
                     version = texts.version + 1",
                )
                .bind(id.0)
                .bind(locale)
                .bind(to_json(messages)?)
                .execute(&mut *transaction)
                .await?;
            }
            Audit {
                actor: &actor,
                action: if number < published { "rollback" } else { "publish" },
                tenant: Some((id, &slug_owned)),
                resource: "design",
                before: Some(to_json(&serde_json::json!({ "revision": published }))?),
                after: Some(to_json(&serde_json::json!({ "revision": number }))?),
            }
            .write(&mut transaction)
            .await?;
            transaction.commit().await?;
            Ok(())
        })
        .await
    }
}
