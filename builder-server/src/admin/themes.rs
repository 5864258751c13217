//! Themes in the admin API: the built-in presets, and a tenant's theme to
//! read and replace (`theme.rs` validates it).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Admin, Body, etag, if_match, with_etag};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::Path;
use crate::theme::{self, Theme};

#[utoipa::path(get, path = "/api/themes", responses((status = 200, description = "The built-in theme presets")))]
pub(super) async fn presets(_admin: Admin) -> Json<serde_json::Value> {
    let presets: serde_json::Map<String, serde_json::Value> = theme::PRESETS
        .iter()
        .filter_map(|(name, _)| {
            Some((
                (*name).to_owned(),
                serde_json::to_value(theme::preset(name)?).ok()?,
            ))
        })
        .collect();
    Json(serde_json::Value::Object(presets))
}

#[utoipa::path(get, path = "/api/tenants/{tenant}/theme", responses((status = 200, body = Theme)))]
pub(super) async fn get_theme(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    admin.manages(&slug)?;
    let record = state.tenant(&slug).await?;
    Ok(with_etag(
        StatusCode::OK,
        etag('t', record.theme.version),
        &record.theme.value,
    ))
}

#[utoipa::path(put, path = "/api/tenants/{tenant}/theme", request_body = Theme,
    responses((status = 200, body = Theme), (status = 400), (status = 409), (status = 428)))]
pub(super) async fn put_theme(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    admin.manages(&slug)?;
    let expected = if_match(&headers, 't')?;
    let theme = theme::theme_from_json(&body.0)?;
    let version = state
        .store()
        .update_theme(admin.actor(), &slug, expected, &theme)
        .await?;
    Ok(with_etag(StatusCode::OK, etag('t', version), &theme))
}
