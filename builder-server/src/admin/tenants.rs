//! Tenants in the admin API: list, create, read, replace and delete a
//! tenant's configuration, and read its audit log.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Admin, Body, etag, if_match, parse_json, with_etag};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::Path;
use crate::model::{TenantConfig, validate_slug};
use crate::store::AuditEntry;
use crate::theme::{self, Theme};

/// A tenant as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    /// The slug.
    pub slug: String,
    /// The configuration.
    pub config: TenantConfig,
}

/// A tenant to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// The slug: 3 to 32 lowercase letters, digits and inner hyphens.
    pub slug: String,
    /// The configuration.
    pub config: TenantConfig,
    /// A built-in theme to start from (default `auto`), unless `theme` is given.
    #[serde(default)]
    pub theme_preset: Option<String>,
    /// A complete theme.
    #[serde(default)]
    pub theme: Option<Theme>,
}

/// Creates a tenant from a validated request.
pub async fn create_tenant_record(
    state: &AppState,
    actor: &str,
    request: NewTenant,
) -> Result<crate::store::TenantRecord, ApiError> {
    validate_slug(&request.slug)?;
    let config = request.config.validated()?;
    let theme = match (request.theme, request.theme_preset) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "theme",
                "give `theme` or `theme_preset`, not both",
            ));
        }
        (Some(theme), None) => theme,
        (None, preset) => {
            let name = preset.unwrap_or_else(|| "auto".to_owned());
            theme::preset(&name).ok_or_else(|| {
                ApiError::invalid(
                    "theme_preset",
                    format!(
                        "no built-in theme `{name}`; choose one of: {}",
                        theme::PRESETS.map(|(name, _)| name).join(", ")
                    ),
                )
            })?
        }
    };
    theme.validate()?;
    Ok(state
        .store()
        .create_tenant(actor, &request.slug, &config, &theme)
        .await?)
}

#[utoipa::path(get, path = "/api/tenants", responses((status = 200, description = "The slugs this token manages")))]
pub(super) async fn list_tenants(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<Vec<String>>, ApiError> {
    let slugs = state.store().tenant_slugs().await?;
    Ok(Json(
        slugs
            .into_iter()
            .filter(|slug| admin.may_manage(slug).is_ok())
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/tenants", request_body = NewTenant,
    responses((status = 201, body = TenantView), (status = 400), (status = 403), (status = 409)))]
pub(super) async fn create_tenant(
    State(state): State<AppState>,
    admin: Admin,
    body: Body,
) -> Result<Response, ApiError> {
    if admin.0.tenant.is_some() {
        return Err(ApiError::Forbidden(
            "only an all-tenants admin token may create tenants".into(),
        ));
    }
    let request: NewTenant = parse_json(&body, "tenant")?;
    let record = create_tenant_record(&state, admin.actor(), request).await?;
    Ok(with_etag(
        StatusCode::CREATED,
        etag('c', record.config.version),
        &TenantView {
            slug: record.slug.clone(),
            config: record.config.value.clone(),
        },
    ))
}

#[utoipa::path(get, path = "/api/tenants/{tenant}", responses((status = 200, body = TenantView), (status = 404)))]
pub(super) async fn get_tenant(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    admin.manages(&slug)?;
    let record = state.tenant(&slug).await?;
    Ok(with_etag(
        StatusCode::OK,
        etag('c', record.config.version),
        &TenantView {
            slug: record.slug.clone(),
            config: record.config.value.clone(),
        },
    ))
}

#[utoipa::path(put, path = "/api/tenants/{tenant}", request_body = TenantConfig,
    responses((status = 200, body = TenantView), (status = 400), (status = 409), (status = 428)))]
pub(super) async fn put_tenant(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    admin.manages(&slug)?;
    let expected = if_match(&headers, 'c')?;
    let config: TenantConfig = parse_json(&body, "tenant configuration")?;
    let config = config.validated()?;
    let version = state
        .store()
        .update_config(admin.actor(), &slug, expected, &config)
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        etag('c', version),
        &TenantView { slug, config },
    ))
}

#[utoipa::path(delete, path = "/api/tenants/{tenant}", responses((status = 204), (status = 409), (status = 428)))]
pub(super) async fn delete_tenant(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    admin.manages(&slug)?;
    let expected = if_match(&headers, 'c')?;
    state
        .store()
        .delete_tenant(admin.actor(), &slug, expected)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/tenants/{tenant}/audit", responses((status = 200, body = Vec<AuditEntry>)))]
pub(super) async fn audit(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    admin.manages(&slug)?;
    let tenant = state.tenant(&slug).await?;
    Ok(Json(state.store().audit_log(tenant.id, 200).await?))
}
