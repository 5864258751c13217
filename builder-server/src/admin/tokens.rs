//! Admin tokens in the admin API: list, create, revoke, and the instance's
//! audit log, where the creation and revocation of all-tenants tokens (which
//! belong to no tenant) can be read.
//!
//! An all-tenants token sees and revokes every token and is the only one that
//! creates tokens or reads the instance log; a tenant's token sees and revokes
//! its own tenant's tokens (itself included). A token's secret is shown once,
//! in the answer that creates it.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{Admin, Body, parse_json};
use crate::AppState;
use crate::error::ApiError;
use crate::model::validate_slug;
use crate::store::{self, AdminToken, AdminTokenSpec, AuditEntry};

/// How long a token lives when its creator does not say (days).
pub const DEFAULT_TOKEN_DAYS: u32 = 30;

/// The longest lifetime a token may ask for (days).
const MAX_TOKEN_DAYS: u32 = 365;

/// A token's lifetime from a number of days (the default when `None`),
/// refused outside 1 to 365.
pub fn token_lifetime(days: Option<u32>) -> Result<Duration, ApiError> {
    let days = days.unwrap_or(DEFAULT_TOKEN_DAYS);
    if !(1..=MAX_TOKEN_DAYS).contains(&days) {
        return Err(ApiError::invalid(
            "expires_in_days",
            format!("a token lives 1 to {MAX_TOKEN_DAYS} days"),
        ));
    }
    Ok(Duration::from_secs(u64::from(days) * 86_400))
}

/// A newly made admin token: the secret is shown only here.
pub struct NewAdminToken {
    /// The public id (in the audit log).
    pub id: String,
    /// The bearer secret.
    pub secret: String,
    /// The token as stored.
    pub token: AdminToken,
}

/// `N` bytes from the system's random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut bytes = [0u8; N];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("the system random source failed")))?;
    Ok(bytes)
}

/// Creates an admin token for one tenant, or for all with `None`, valid for
/// `lifetime` (see [`token_lifetime`]).
pub async fn create_admin_token(
    state: &AppState,
    actor: &str,
    tenant: Option<&str>,
    label: &str,
    lifetime: Duration,
) -> Result<NewAdminToken, ApiError> {
    if let Some(slug) = tenant {
        validate_slug(slug)?;
    }
    if label.trim().is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control)
    {
        return Err(ApiError::invalid(
            "label",
            "a label has 1 to 100 printable characters",
        ));
    }
    let id = format!("tok_{}", crate::http::hex(&random_bytes::<6>()?));
    let secret = format!(
        "tsa_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)
    );
    let hash = Sha256::digest(secret.as_bytes());
    let seconds = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
    let spec = AdminTokenSpec {
        id: &id,
        tenant,
        label,
        expires_at: store::now().saturating_add(seconds),
    };
    let token = state
        .store()
        .create_admin_token(actor, &spec, &hash)
        .await?;
    Ok(NewAdminToken { id, secret, token })
}

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The tenant it manages; absent or `null` for every tenant.
    #[serde(default)]
    pub tenant: Option<String>,
    /// A note saying what it is for (1 to 100 characters).
    pub label: String,
    /// How many days it lives: 1 to 365, 30 when absent.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// A created token: the only answer that shows its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The bearer secret (`tsa_...`); it is not stored and not shown again.
    pub secret: String,
    /// The token as stored.
    #[serde(flatten)]
    pub token: AdminToken,
}

impl Admin {
    fn all_tenants_only(&self, what: &str) -> Result<(), ApiError> {
        match self.0.tenant {
            None => Ok(()),
            Some(_) => Err(ApiError::Forbidden(format!(
                "only an all-tenants admin token may {what}"
            ))),
        }
    }
}

#[utoipa::path(get, path = "/api/admin-tokens",
    responses((status = 200, body = Vec<AdminToken>, description = "The tokens this token may see, expired ones included")))]
pub(super) async fn list_tokens(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<Vec<AdminToken>>, ApiError> {
    let tokens = state
        .store()
        .admin_tokens(admin.0.tenant.as_deref())
        .await?;
    Ok(Json(tokens))
}

#[utoipa::path(post, path = "/api/admin-tokens", request_body = TokenRequest,
    responses((status = 201, body = CreatedToken), (status = 400), (status = 403), (status = 404)))]
pub(super) async fn create_token(
    State(state): State<AppState>,
    admin: Admin,
    body: Body,
) -> Result<Response, ApiError> {
    admin.all_tenants_only("create admin tokens")?;
    let request: TokenRequest = parse_json(&body, "token request")?;
    let lifetime = token_lifetime(request.expires_in_days)?;
    let created = create_admin_token(
        &state,
        admin.actor(),
        request.tenant.as_deref(),
        &request.label,
        lifetime,
    )
    .await?;
    let body = CreatedToken {
        secret: created.secret,
        token: created.token,
    };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

#[utoipa::path(delete, path = "/api/admin-tokens/{id}",
    responses((status = 204, description = "Revoked"), (status = 400), (status = 404)))]
pub(super) async fn revoke_token(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let well_formed = id.len() <= 40
        && id.starts_with("tok_")
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !well_formed {
        return Err(ApiError::invalid(
            "id",
            "an admin token id looks like tok_0123456789ab",
        ));
    }
    state
        .store()
        .revoke_admin_token(admin.actor(), &id, admin.0.tenant.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/audit",
    responses((status = 200, body = Vec<AuditEntry>, description = "The instance's audit log, newest first: every tenant's changes and every admin token created or revoked"), (status = 403)))]
pub(super) async fn instance_audit(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    admin.all_tenants_only("read the instance's audit log")?;
    Ok(Json(state.store().instance_audit_log(500).await?))
}
