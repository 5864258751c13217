//! The admin API under `/api/`: JSON CRUD for tenants, themes and texts.
//!
//! Requests carry `Authorization: Bearer <admin token>`. Tokens are random,
//! shown once, stored as SHA-256 hashes, expire (30 days unless asked
//! otherwise), and are scoped: a tenant's token manages that tenant only
//! (403 elsewhere); an all-tenants token may also create tenants and tokens
//! and read the instance's audit log (`tokens.rs`). Writes are conditional:
//! `If-Match` with the ETag that was read, or 409 when the resource moved
//! on, so no update is lost. The OpenAPI document at `/api/openapi.json` is
//! generated from these handlers.
//!
//! This file has the router, the OpenAPI document, the [`Admin`] extractor
//! and the helpers every handler uses (the body, `If-Match`, ETags); the
//! handlers live by resource: `tenants.rs` (tenants and their audit log),
//! `themes.rs`, `texts.rs`, `snippet.rs` (the snippet and its CSP) and
//! `tokens.rs` (admin tokens and the instance's audit log).

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::OpenApi;

use crate::AppState;
use crate::error::{ApiError, ErrorResponses};
use crate::model::{TenantConfig, validate_slug};
use crate::store::{self, AdminToken, AuditEntry};
use crate::theme::Theme;

pub mod design;
pub mod events;
mod snippet;
mod tenants;
mod texts;
mod themes;
mod tokens;

pub use snippet::{SignInMode, Snippet, snippet_for};
pub use tenants::{NewTenant, TenantView, create_tenant_record};
pub use tokens::random_bytes;
pub use tokens::{DEFAULT_TOKEN_DAYS, NewAdminToken, create_admin_token, token_lifetime};

// `paths` names these operations without their module on purpose: utoipa
// tags an operation given as `module::handler` with the module's name, and
// of the admin API's operations only the token ones carry a tag (`tokens`).
pub use design::UPLOAD_BODY_BYTES;
use design::{
    __path_fonts, __path_history, __path_publish, __path_revision, __path_save, __path_upload_font,
};
use events::{
    __path_create_endpoint, __path_create_source, __path_delete_endpoint, __path_delete_source,
    __path_deliveries, __path_endpoints, __path_reconcile, __path_redeliver,
    __path_rotate_endpoint, __path_sources,
};
use snippet::__path_snippet;
use tenants::{
    __path_audit, __path_create_tenant, __path_delete_tenant, __path_get_tenant,
    __path_list_tenants, __path_put_tenant,
};
use texts::{__path_get_texts, __path_put_texts};
use themes::{__path_get_theme, __path_presets, __path_put_theme};

/// The OpenAPI document of the admin API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera admin API", description = "Tenants, themes and texts of the Tessera builder server."),
    paths(
        list_tenants, create_tenant, get_tenant, put_tenant, delete_tenant, get_theme, put_theme,
        get_texts, put_texts, audit, snippet, presets, history, revision, save, publish, fonts, upload_font,
        sources, create_source, delete_source, endpoints, create_endpoint, rotate_endpoint, delete_endpoint, deliveries, redeliver, reconcile,
        tokens::list_tokens, tokens::create_token, tokens::revoke_token, tokens::instance_audit
    ),
    components(schemas(TenantConfig, Theme, NewTenant, TenantView, Snippet, SignInMode, AuditEntry, crate::model::ProviderButton,
        AdminToken, tokens::TokenRequest, tokens::CreatedToken)),
    modifiers(&BearerAuth, &ErrorResponses)
)]
pub struct AdminApi;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "admin_token",
            Vec::<String>::new(),
        )]);
    }
}

/// The JSON Schema (2020-12) of a design, `{"theme", "texts"}`, as the
/// console's import, `tessera design save` and the API's save read it: the
/// admin API's own component schemas, whose `$ref`s point into `$defs`.
pub fn design_schema_document(public_url: &str) -> serde_json::Value {
    fn point_into_defs(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(members) => {
                for (name, member) in members.iter_mut() {
                    if name == "$ref"
                        && let serde_json::Value::String(target) = member
                    {
                        *target = target.replace("#/components/schemas/", "#/$defs/");
                    } else {
                        point_into_defs(member);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(point_into_defs),
            _ => {}
        }
    }
    let mut definitions = AdminApi::openapi()
        .components
        .and_then(|components| serde_json::to_value(components.schemas).ok())
        .unwrap_or_default();
    point_into_defs(&mut definitions);
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{public_url}/api/schemas/design.json"),
        "title": "A Tessera design: a theme and its text overrides by locale",
        "$ref": "#/$defs/Design",
        "$defs": definitions,
    })
}

async fn design_schema(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Json<serde_json::Value> {
    Json(design_schema_document(state.public_url()))
}

/// The admin API's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/schemas/design.json", get(design_schema))
        .route("/api/themes", get(themes::presets))
        .route(
            "/api/tenants",
            get(tenants::list_tenants).post(tenants::create_tenant),
        )
        .route(
            "/api/tenants/{tenant}",
            get(tenants::get_tenant)
                .put(tenants::put_tenant)
                .delete(tenants::delete_tenant),
        )
        .route(
            "/api/tenants/{tenant}/theme",
            get(themes::get_theme).put(themes::put_theme),
        )
        .route(
            "/api/tenants/{tenant}/texts/{locale}",
            get(texts::get_texts).put(texts::put_texts),
        )
        .route("/api/tenants/{tenant}/design", get(design::history))
        .route(
            "/api/tenants/{tenant}/design/revisions",
            axum::routing::post(design::save),
        )
        .route(
            "/api/tenants/{tenant}/design/revisions/{revision}",
            get(design::revision),
        )
        .route(
            "/api/tenants/{tenant}/design/publish",
            axum::routing::post(design::publish),
        )
        .route(
            "/api/tenants/{tenant}/fonts",
            get(design::fonts)
                .post(design::upload_font)
                .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_BODY_BYTES)),
        )
        .route(
            "/api/tenants/{tenant}/event-sources",
            get(events::sources).post(events::create_source),
        )
        .route(
            "/api/tenants/{tenant}/event-sources/{id}",
            delete(events::delete_source),
        )
        .route(
            "/api/tenants/{tenant}/event-sources/{id}/reconcile",
            axum::routing::post(events::reconcile),
        )
        .route(
            "/api/tenants/{tenant}/event-endpoints",
            get(events::endpoints).post(events::create_endpoint),
        )
        .route(
            "/api/tenants/{tenant}/event-endpoints/{id}",
            delete(events::delete_endpoint),
        )
        .route(
            "/api/tenants/{tenant}/event-endpoints/{id}/rotate",
            axum::routing::post(events::rotate_endpoint),
        )
        .route(
            "/api/tenants/{tenant}/event-deliveries",
            get(events::deliveries),
        )
        .route(
            "/api/tenants/{tenant}/event-deliveries/{id}/redeliver",
            axum::routing::post(events::redeliver),
        )
        .route("/api/tenants/{tenant}/audit", get(tenants::audit))
        .route("/api/tenants/{tenant}/snippet", get(snippet::snippet))
        .route(
            "/api/admin-tokens",
            get(tokens::list_tokens).post(tokens::create_token),
        )
        .route("/api/admin-tokens/{id}", delete(tokens::revoke_token))
        .route("/api/audit", get(tokens::instance_audit))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(AdminApi::openapi())
}

/// An authenticated admin.
#[derive(Debug, Clone)]
pub struct Admin(AdminToken);

impl Admin {
    /// Checks the slug's form, then that this token manages that tenant.
    fn manages(&self, slug: &str) -> Result<(), ApiError> {
        validate_slug(slug)?;
        self.may_manage(slug)
    }

    fn may_manage(&self, slug: &str) -> Result<(), ApiError> {
        match &self.0.tenant {
            None => Ok(()),
            Some(own) if own == slug => Ok(()),
            Some(_) => Err(ApiError::Forbidden(format!(
                "this admin token does not manage tenant `{slug}`"
            ))),
        }
    }

    fn actor(&self) -> &str {
        &self.0.id
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or(ApiError::Unauthenticated)?;
        let (scheme, secret) = value.split_once(' ').ok_or(ApiError::Unauthenticated)?;
        if !scheme.eq_ignore_ascii_case("bearer") || !secret.starts_with("tsa_") {
            return Err(ApiError::Unauthenticated);
        }
        let hash = Sha256::digest(secret.trim().as_bytes());
        let token = state
            .store()
            .admin_token(&hash)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        // Last use is recorded to the minute: at most one write per token
        // and minute, and a failure to record it fails no request.
        let now = store::now();
        if token
            .last_used_at
            .is_none_or(|at| now.saturating_sub(at) >= 60)
            && let Err(error) = state.store().touch_admin_token(&token.id, now).await
        {
            tracing::warn!(token = %token.id, error = %error, "could not record an admin token's use");
        }
        Ok(Admin(token))
    }
}

/// A request body read within the server's limit; an oversized or broken
/// body becomes an `ApiError` like every other failure.
pub struct Body(pub(super) Bytes);

impl axum::extract::FromRequest<AppState> for Body {
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        Bytes::from_request(request, state)
            .await
            .map(Body)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(state.body_limit())
                } else {
                    ApiError::invalid("body", "the request body could not be read")
                }
            })
    }
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &Body, what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(&body.0).map_err(|error| ApiError::Invalid {
        field: None,
        message: format!("the {what} is not valid: {error}"),
    })
}

fn etag(prefix: char, version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{prefix}{version}\""))
        .unwrap_or(HeaderValue::from_static("\"0\""))
}

/// The version an `If-Match` header names, which must carry `prefix`.
fn if_match(headers: &HeaderMap, prefix: char) -> Result<i64, ApiError> {
    let value = headers
        .get(header::IF_MATCH)
        .ok_or(ApiError::PreconditionRequired)?
        .to_str()
        .map_err(|_| ApiError::invalid("If-Match", "not an ETag"))?;
    value
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .strip_prefix(prefix)
        // Digits only: no sign, no space, nothing i64 cannot hold.
        .filter(|version| !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|version| version.parse().ok())
        .ok_or_else(|| ApiError::invalid("If-Match", "not an ETag this resource gave out"))
}

fn with_etag<T: Serialize>(status: StatusCode, tag: HeaderValue, body: &T) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::ETAG, tag);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
