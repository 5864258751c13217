//! A tenant's font files, by digest (see `theme::fonts`).
//!
//! Files are only ever added: a digest names the same bytes for the
//! tenant's life, so a check that a theme's files exist holds without a
//! transaction around it, and any revision published again finds its
//! fonts.

use sqlx::Row as _;

use super::{Audit, Store, StoreError, now, to_json};
use crate::theme::{Theme, font_digest};

/// A stored font file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FontFile {
    /// Its SHA-256 in lowercase hex: what a theme's `font.faces[].file`
    /// names.
    pub file: String,
    /// Its size in bytes.
    pub size: i64,
    /// When it was first uploaded (Unix seconds).
    pub created_at: i64,
}

impl Store {
    /// Stores `bytes` (already checked to be WOFF2) for the tenant and
    /// answers its digest; uploading the same file again changes nothing.
    pub async fn put_font_file(
        &self,
        actor: &str,
        slug: &str,
        bytes: Vec<u8>,
    ) -> Result<FontFile, StoreError> {
        let (store, actor, slug_owned) = (self.clone(), actor.to_owned(), slug.to_owned());
        let file = font_digest(&bytes);
        self.detached(None, async move {
            let mut transaction = store.begin_write().await?;
            let id = Self::tenant_id(&mut transaction, &slug_owned).await?;
            let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
            let inserted = sqlx::query(
                "INSERT INTO font_files (tenant_id, digest, bytes, author, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(id.0)
            .bind(&file)
            .bind(bytes)
            .bind(&actor)
            .bind(now())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if inserted > 0 {
                Audit {
                    actor: &actor,
                    action: "upload",
                    tenant: Some((id, &slug_owned)),
                    resource: "font",
                    before: None,
                    after: Some(to_json(&serde_json::json!({ "file": file, "size": size }))?),
                }
                .write(&mut transaction)
                .await?;
            }
            let row = sqlx::query(
                "SELECT length(bytes) AS size, created_at FROM font_files \
                 WHERE tenant_id = $1 AND digest = $2",
            )
            .bind(id.0)
            .bind(&file)
            .fetch_one(&mut *transaction)
            .await?;
            transaction.commit().await?;
            Ok(FontFile {
                file,
                size: row.get("size"),
                created_at: row.get("created_at"),
            })
        })
        .await
    }

    /// The tenant's font files, oldest first.
    pub async fn font_files(&self, slug: &str) -> Result<Vec<FontFile>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        let id = Self::tenant_id(&mut connection, slug).await?;
        let rows = sqlx::query(
            "SELECT digest, length(bytes) AS size, created_at FROM font_files \
             WHERE tenant_id = $1 ORDER BY created_at, digest",
        )
        .bind(id.0)
        .fetch_all(&mut *connection)
        .await?;
        Ok(rows
            .iter()
            .map(|row| FontFile {
                file: row.get("digest"),
                size: row.get("size"),
                created_at: row.get("created_at"),
            })
            .collect())
    }

    /// The bytes of the tenant's font file `file`, if it has it.
    pub async fn font_file(&self, slug: &str, file: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query(
            "SELECT font_files.bytes FROM font_files \
             JOIN tenants ON tenants.id = font_files.tenant_id \
             WHERE tenants.slug = $1 AND font_files.digest = $2",
        )
        .bind(slug)
        .bind(file)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| row.get("bytes")))
    }

    /// Refuses `theme` if it names a font file the tenant does not have.
    pub(super) async fn check_font_files(
        &self,
        slug: &str,
        theme: &Theme,
    ) -> Result<(), StoreError> {
        let Some(font) = &theme.font else {
            return Ok(());
        };
        let stored = self.font_files(slug).await?;
        match font
            .faces
            .iter()
            .find(|face| !stored.iter().any(|file| file.file == face.file))
        {
            Some(face) => Err(StoreError::MissingFont {
                file: face.file.clone(),
                weight: face.weight,
            }),
            None => Ok(()),
        }
    }

    /// Copies the font files `theme` names from tenant `from` to `to` (for
    /// a design copied between them); files `to` has stay as they are.
    pub async fn copy_font_files(
        &self,
        actor: &str,
        from: &str,
        to: &str,
        theme: &Theme,
    ) -> Result<(), StoreError> {
        let Some(font) = &theme.font else {
            return Ok(());
        };
        for face in &font.faces {
            if let Some(bytes) = self.font_file(from, &face.file).await? {
                self.put_font_file(actor, to, bytes).await?;
            }
        }
        Ok(())
    }
}
