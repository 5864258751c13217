//! The admin API under `/api/`: JSON CRUD for tenants, themes and texts.
//!
//! Requests carry `Authorization: Bearer <admin token>`. Tokens are random,
//! shown once, stored as SHA-256 hashes, expire (30 days unless asked
//! otherwise), and are scoped: a tenant's token manages that tenant only
//! (403 elsewhere); an all-tenants token may also create tenants and tokens
//! and read the instance's audit log (`tokens.rs`). Writes are conditional: `If-Match` with the ETag that was read,
//! or 409 when the resource moved on, so no update is lost. The OpenAPI
//! document at `/api/openapi.json` is generated from these handlers.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorResponses};
use crate::extract::{Path, Query};
use crate::i18n::{self, Messages};
use crate::model::{TenantConfig, validate_slug};
use crate::store::{self, AdminToken, AdminTokenSpec, AuditEntry};
use crate::theme::{self, Theme};
use crate::urls::IssuerUrl;

mod tokens;

pub use tokens::{DEFAULT_TOKEN_DAYS, token_lifetime};

/// The OpenAPI document of the admin API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera admin API", description = "Tenants, themes and texts of the Tessera builder server."),
    paths(
        list_tenants, create_tenant, get_tenant, put_tenant, delete_tenant, get_theme, put_theme,
        get_texts, put_texts, audit, snippet, presets,
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

/// The admin API's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/themes", get(presets))
        .route("/api/tenants", get(list_tenants).post(create_tenant))
        .route(
            "/api/tenants/{tenant}",
            get(get_tenant).put(put_tenant).delete(delete_tenant),
        )
        .route("/api/tenants/{tenant}/theme", get(get_theme).put(put_theme))
        .route(
            "/api/tenants/{tenant}/texts/{locale}",
            get(get_texts).put(put_texts),
        )
        .route("/api/tenants/{tenant}/audit", get(audit))
        .route("/api/tenants/{tenant}/snippet", get(snippet))
        .merge(tokens::routes())
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(AdminApi::openapi())
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

fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
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
    lifetime: std::time::Duration,
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
pub struct Body(Bytes);

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

#[utoipa::path(get, path = "/api/themes", responses((status = 200, description = "The built-in theme presets")))]
async fn presets(_admin: Admin) -> Json<serde_json::Value> {
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

#[utoipa::path(get, path = "/api/tenants", responses((status = 200, description = "The slugs this token manages")))]
async fn list_tenants(
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
async fn create_tenant(
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
async fn get_tenant(
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
async fn put_tenant(
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
async fn delete_tenant(
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

#[utoipa::path(get, path = "/api/tenants/{tenant}/theme", responses((status = 200, body = Theme)))]
async fn get_theme(
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
async fn put_theme(
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
async fn get_texts(
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
async fn put_texts(
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

#[utoipa::path(get, path = "/api/tenants/{tenant}/audit", responses((status = 200, body = Vec<AuditEntry>)))]
async fn audit(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    admin.manages(&slug)?;
    let tenant = state.tenant(&slug).await?;
    Ok(Json(state.store().audit_log(tenant.id, 200).await?))
}

/// What a shop owner pastes, and the Content-Security-Policy their page needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct Snippet {
    /// The HTML to paste.
    pub html: String,
    /// CSP directives to add to the shop's policy, by directive name.
    pub content_security_policy: std::collections::BTreeMap<String, String>,
    /// The same directives as one header value.
    pub content_security_policy_header: String,
    /// What the server could not check, e.g. that the IdP's discovery
    /// document could not be read, so `connect-src` holds only the issuer's
    /// origin and sign-in may fail if its endpoints live elsewhere.
    pub warnings: Vec<String>,
}

fn html_attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// How the pasted widget signs in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignInMode {
    /// The page goes to the IdP and comes back (the default).
    #[default]
    Redirect,
    /// A popup goes to the IdP; the page stays.
    Popup,
}

/// The snippet endpoint's query.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnippetQuery {
    #[serde(default)]
    mode: SignInMode,
}

/// Builds the snippet for a tenant, or explains why it cannot yet.
///
/// `connect-src` names every origin the widget fetches from: this server,
/// and the issuer's discovery document, token endpoint and key set (read
/// from the IdP's discovery document; see [`crate::discovery`]).
pub async fn snippet_for(
    state: &AppState,
    slug: &str,
    issuer: &str,
    mode: SignInMode,
) -> Result<Snippet, ApiError> {
    let integrity = state.assets().integrity("tessera.js").ok_or_else(|| {
        ApiError::Conflict(
            "the widget is not built, so the snippet has no integrity value yet: run `cargo xtask dist`"
                .into(),
        )
    })?;
    let server = state.public_url();
    let html = format!(
        "<script type=\"module\" src=\"{server}/widget/v1/tessera.js\" integrity=\"{integrity}\" crossorigin=\"anonymous\"></script>\n\
         <tessera-login tenant=\"{}\" server=\"{}\"{}></tessera-login>",
        html_attribute(slug),
        html_attribute(server),
        match mode {
            SignInMode::Redirect => "",
            SignInMode::Popup => " mode=\"popup\"",
        }
    );
    // Stored before the URL rule tightened: the admin must fix it first.
    let issuer = IssuerUrl::parse(issuer).map_err(|why| {
        ApiError::invalid(
            "issuer",
            format!("the tenant's issuer is not allowed: {why}"),
        )
    })?;
    let mut warnings = Vec::new();
    let built_in = state
        .dev_issuer()
        .is_some_and(|dev| dev.issuer() == issuer.as_str());
    let mut connect: Vec<String> = if built_in {
        // The development issuer serves every endpoint from this origin.
        vec![issuer.origin().to_string()]
    } else {
        match state.discovery().connect_origins(&issuer).await {
            Ok(found) => found.origins.iter().map(ToString::to_string).collect(),
            Err(error) => {
                warnings.push(format!(
                    "the IdP's discovery document could not be read ({error}), so connect-src holds only the issuer's origin: if its token endpoint or key set live on another origin, add them, or sign-in fails under this policy"
                ));
                vec![issuer.origin().to_string()]
            }
        }
    };
    if !connect.iter().any(|origin| origin == server) {
        connect.push(server.to_owned());
    }
    let mut directives = std::collections::BTreeMap::new();
    directives.insert(
        "script-src".to_owned(),
        format!("{server} 'wasm-unsafe-eval'"),
    );
    directives.insert("connect-src".to_owned(), connect.join(" "));
    directives.insert("style-src".to_owned(), server.to_owned());
    directives.insert("img-src".to_owned(), server.to_owned());
    let header = directives
        .iter()
        .map(|(name, value)| format!("{name} {value}"))
        .collect::<Vec<_>>()
        .join("; ");
    Ok(Snippet {
        html,
        content_security_policy: directives,
        content_security_policy_header: header,
        warnings,
    })
}

#[utoipa::path(
    get,
    path = "/api/tenants/{tenant}/snippet",
    params(("mode" = Option<SignInMode>, Query, description = "redirect (default) or popup")),
    responses((status = 200, body = Snippet), (status = 400), (status = 409))
)]
async fn snippet(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    Query(query): Query<SnippetQuery>,
) -> Result<Json<Snippet>, ApiError> {
    admin.manages(&slug)?;
    let record = state.tenant(&slug).await?;
    Ok(Json(
        snippet_for(&state, &slug, &record.config.value.issuer, query.mode).await?,
    ))
}
