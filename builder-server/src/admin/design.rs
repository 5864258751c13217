//! A tenant's design (theme and texts) as revisions in the admin API: the
//! history, one revision, saving a draft, and publishing or rolling back
//! (`store::design` keeps them).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Admin, Body, parse_json};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::Path;
use crate::i18n;
use crate::store::{Design, DesignHistory, FontFile, Revision, StoreError};

/// The longest note a revision keeps, in characters.
pub const MAX_NOTE_CHARS: usize = 500;

/// Checks a design before it is saved: the theme's ranges, contrast and
/// logo, each locale's name, and each override's Fluent syntax and
/// placeables. The field names the failing part (`theme.light.text`,
/// `texts.de.sign-in`).
pub fn validate_design(design: &Design) -> Result<(), ApiError> {
    design
        .theme
        .validate()
        .map_err(|error| error.within("theme"))?;
    for (locale, messages) in &design.texts {
        if !i18n::BASE_LOCALES.contains(&locale.as_str()) {
            return Err(ApiError::invalid(
                format!("texts.{locale}"),
                format!(
                    "`{locale}` is not a supported locale: {}",
                    i18n::BASE_LOCALES.join(", ")
                ),
            ));
        }
        i18n::validate_overrides(messages)
            .map_err(|error| ApiError::from(error).within(&format!("texts.{locale}")))?;
    }
    Ok(())
}

/// Checks a revision's note: at most [`MAX_NOTE_CHARS`] printable characters.
pub fn validate_note(note: &str) -> Result<(), ApiError> {
    if note.chars().count() > MAX_NOTE_CHARS || note.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "note",
            format!("a note has at most {MAX_NOTE_CHARS} printable characters"),
        ));
    }
    Ok(())
}

/// A draft to save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveRequest {
    /// The revision the editor started from: the save is refused (409) if
    /// another was saved since.
    pub base: i64,
    /// What changed, for the history.
    #[serde(default)]
    pub note: String,
    /// The theme and texts.
    pub design: Design,
}

/// A saved draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct Saved {
    /// The new revision's number.
    pub revision: i64,
}

/// Which revision to publish.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// The revision; an older one than the published one rolls back.
    pub revision: i64,
}

#[utoipa::path(get, path = "/api/tenants/{tenant}/design",
    responses((status = 200, body = DesignHistory), (status = 404)))]
pub(super) async fn history(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
) -> Result<Json<DesignHistory>, ApiError> {
    admin.manages(&slug)?;
    Ok(Json(state.store().design_history(&slug).await?))
}

#[utoipa::path(get, path = "/api/tenants/{tenant}/design/revisions/{revision}",
    responses((status = 200, body = Revision), (status = 404)))]
pub(super) async fn revision(
    State(state): State<AppState>,
    admin: Admin,
    Path((slug, number)): Path<(String, i64)>,
) -> Result<Json<Revision>, ApiError> {
    admin.manages(&slug)?;
    Ok(Json(state.store().design_revision(&slug, number).await?))
}

#[utoipa::path(post, path = "/api/tenants/{tenant}/design/revisions", request_body = SaveRequest,
    responses((status = 201, body = Saved), (status = 400), (status = 409)))]
pub(super) async fn save(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    body: Body,
) -> Result<(StatusCode, Json<Saved>), ApiError> {
    admin.manages(&slug)?;
    let request: SaveRequest = parse_json(&body, "design")?;
    validate_note(&request.note)?;
    validate_design(&request.design)?;
    let revision = state
        .store()
        .save_design(
            admin.actor(),
            &slug,
            request.base,
            &request.design,
            &request.note,
        )
        .await
        .map_err(|error| match error {
            missing @ StoreError::MissingFont { .. } => ApiError::from(missing).within("theme"),
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, Json(Saved { revision })))
}

#[utoipa::path(post, path = "/api/tenants/{tenant}/design/publish", request_body = PublishRequest,
    responses((status = 200, body = DesignHistory), (status = 404)))]
pub(super) async fn publish(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    body: Body,
) -> Result<Json<DesignHistory>, ApiError> {
    admin.manages(&slug)?;
    let request: PublishRequest = parse_json(&body, "request")?;
    state
        .store()
        .publish_design(admin.actor(), &slug, request.revision)
        .await?;
    Ok(Json(state.store().design_history(&slug).await?))
}

/// The largest upload body a font route reads: the largest font file, and
/// room for a form's other fields.
pub const UPLOAD_BODY_BYTES: usize = crate::theme::MAX_FONT_BYTES + 64 * 1024;

#[utoipa::path(get, path = "/api/tenants/{tenant}/fonts",
    responses((status = 200, body = Vec<FontFile>), (status = 404)))]
pub(super) async fn fonts(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
) -> Result<Json<Vec<FontFile>>, ApiError> {
    admin.manages(&slug)?;
    Ok(Json(state.store().font_files(&slug).await?))
}

/// Uploads a WOFF2 file (the raw body, `Content-Type: font/woff2`); a
/// theme then names it by the digest answered. The same file again answers
/// the same digest.
#[utoipa::path(post, path = "/api/tenants/{tenant}/fonts",
    request_body(content = Vec<u8>, content_type = "font/woff2"),
    responses((status = 201, body = FontFile), (status = 400), (status = 413), (status = 415)))]
pub(super) async fn upload_font(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<FontFile>), ApiError> {
    admin.manages(&slug)?;
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if content_type != "font/woff2" {
        return Err(ApiError::UnsupportedMediaType(
            "send the WOFF2 file as the body, with Content-Type: font/woff2".into(),
        ));
    }
    crate::theme::check_woff2(&body.0[..])?;
    let file = state
        .store()
        .put_font_file(admin.actor(), &slug, body.0.to_vec())
        .await?;
    Ok((StatusCode::CREATED, Json(file)))
}
