//! Texts in the admin API: a tenant's overrides of the widget's messages,
//! per locale, to read and replace (`i18n.rs` validates them).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Admin, Body, etag, if_match, parse_json, with_etag};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::Path;
use crate::i18n::{self, Messages};

fn check_locale(locale: &str) -> Result<(), ApiError> {
    if i18n::BASE_LOCALES.contains(&locale) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "locale",
            format!(
                "`{locale}` is not a supported locale: {}",
                i18n::BASE_LOCALES.join(", ")
            ),
        ))
    }
}

#[utoipa::path(get, path = "/api/tenants/{tenant}/texts/{locale}",
    responses((status = 200, description = "The tenant's overrides for this locale")))]
pub(super) async fn get_texts(
    State(state): State<AppState>,
    admin: Admin,
    Path((slug, locale)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.manages(&slug)?;
    check_locale(&locale)?;
    let tenant = state.tenant(&slug).await?;
    let texts = state.store().texts(&tenant, &locale).await?;
    Ok(with_etag(
        StatusCode::OK,
        etag('x', texts.version),
        &texts.value,
    ))
}

#[utoipa::path(put, path = "/api/tenants/{tenant}/texts/{locale}",
    request_body = std::collections::BTreeMap<String, String>,
    responses((status = 200), (status = 400), (status = 409), (status = 428)))]
pub(super) async fn put_texts(
    State(state): State<AppState>,
    admin: Admin,
    Path((slug, locale)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    admin.manages(&slug)?;
    check_locale(&locale)?;
    let expected = if_match(&headers, 'x')?;
    let messages: Messages = parse_json(&body, "texts")?;
    i18n::validate_overrides(&messages)?;
    state.tenant(&slug).await?;
    let version = state
        .store()
        .put_texts(admin.actor(), &slug, &locale, expected, &messages)
        .await?;
    Ok(with_etag(StatusCode::OK, etag('x', version), &messages))
}
