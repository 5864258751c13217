//! The `tessera` builder server.
//!
//! One axum service that admins theme widgets through (the admin API), that
//! serves every widget asset, theme and text from its own origin (no CDN, so
//! it works air-gapped), and that in development issues passports itself
//! from a built-in OpenID issuer. [`app`] builds the whole `Router` from an
//! [`AppState`], so tests drive it with `tower::ServiceExt::oneshot` exactly
//! as `main` serves it.
//!
//! What it is not: an identity provider for production (the development
//! issuer runs only in `tessera dev` or with `--dangerous-dev-issuer`), and it
//! never stores customers' personal data.

pub mod admin;
pub mod assets;
pub mod config;
pub mod dev_issuer;
pub mod discovery;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod model;
pub mod ops;
pub mod store;
pub mod theme;
pub mod urls;
pub mod validation;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::assets::Assets;
use crate::dev_issuer::DevIssuer;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::store::{Store, TenantRecord};

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// A rendered public document, kept until its source's version changes.
#[derive(Clone)]
struct Rendered {
    version: i64,
    body: axum::body::Bytes,
    etag: HeaderValue,
}

struct Inner {
    storefront: Option<Router>,
    rendered: std::sync::RwLock<std::collections::HashMap<String, Rendered>>,
    store: Store,
    public_url: String,
    assets: Assets,
    dev_issuer: Option<DevIssuer>,
    metrics: ops::Metrics,
    limits: config::Limits,
    discovery: discovery::DiscoveryClient,
}

impl AppState {
    /// Assembles the state. `dev_issuer` is `Some` only in development.
    pub fn new(
        store: Store,
        public_url: String,
        assets: Assets,
        dev_issuer: Option<DevIssuer>,
        limits: config::Limits,
    ) -> Self {
        AppState {
            inner: Arc::new(Inner {
                storefront: None,
                rendered: Default::default(),
                store,
                public_url: public_url.trim_end_matches('/').to_owned(),
                assets,
                dev_issuer,
                metrics: ops::Metrics::default(),
                limits,
                discovery: Default::default(),
            }),
        }
    }

    /// Mounts a storefront `Router` at `/demo` (the demo shop of
    /// `demo-storefront`); its routes pass the same layers as the rest.
    /// Call before the state is shared.
    #[must_use]
    pub fn with_storefront(mut self, storefront: Router) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.storefront = Some(storefront);
        }
        self
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// This server's public origin, e.g. `https://auth.shop.example`.
    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// The widget assets.
    pub fn assets(&self) -> &Assets {
        &self.inner.assets
    }

    /// The development issuer, when enabled.
    pub fn dev_issuer(&self) -> Option<&DevIssuer> {
        self.inner.dev_issuer.as_ref()
    }

    /// The largest request body accepted, in bytes.
    pub fn body_limit(&self) -> usize {
        self.inner.limits.body_bytes
    }

    /// Reads IdPs' discovery documents for the snippet's CSP.
    pub fn discovery(&self) -> &discovery::DiscoveryClient {
        &self.inner.discovery
    }

    /// Request counters for `/metrics`.
    pub fn metrics(&self) -> &ops::Metrics {
        &self.inner.metrics
    }

    /// A tenant, or 404 (after checking the slug's form, so a path traversal
    /// attempt gets a 400 that says why).
    pub async fn tenant(&self, slug: &str) -> Result<Arc<TenantRecord>, ApiError> {
        model::validate_slug(slug)?;
        self.store()
            .tenant(slug)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no tenant `{slug}`")))
    }
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    let limits = state.inner.limits;
    let public = Router::new()
        .route("/t/{tenant}/config.json", get(widget_config))
        .route("/t/{tenant}/theme.css", get(theme_css))
        .route("/t/{tenant}/logo", get(logo))
        .route("/t/{tenant}/i18n/{file}", get(texts));
    // Routes that wait on the database or compute get a timeout; in-memory
    // public routes answer at once and skip the per-request timer.
    let mut working = admin::routes().merge(ops::routes());
    if state.dev_issuer().is_some() {
        working = working.merge(dev_issuer::routes());
    }
    let mut router = Router::new()
        .merge(public)
        .merge(assets::routes())
        .merge(ops::with_timeout(working, limits));
    if let Some(storefront) = &state.inner.storefront {
        router = router.nest_service("/demo", storefront.clone());
    }
    let router = router
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .fallback(|| async {
            ApiError::NotFound(
                "no such endpoint (the admin API is described at /api/openapi.json)".into(),
            )
        });
    ops::layers(router.with_state(state.clone()), state, limits)
}

/// A strong ETag over a body.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", &hex(&digest)[..32])
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl AppState {
    /// The rendered document `key` at `version`, rendering it only when the
    /// cached one is another version; returns the body and its ETag. A
    /// render never replaces a newer version's.
    fn rendered(
        &self,
        key: &str,
        version: i64,
        render: impl FnOnce() -> Vec<u8>,
    ) -> (axum::body::Bytes, HeaderValue) {
        let cache = &self.inner.rendered;
        if let Some(hit) = cache.read().unwrap_or_else(|p| p.into_inner()).get(key)
            && hit.version == version
        {
            return (hit.body.clone(), hit.etag.clone());
        }
        let body: axum::body::Bytes = render().into();
        let etag = strong_etag(&body);
        let mut cache = cache.write().unwrap_or_else(|p| p.into_inner());
        if cache.get(key).is_none_or(|cached| cached.version < version) {
            let rendered = Rendered {
                version,
                body: body.clone(),
                etag: etag.clone(),
            };
            cache.insert(key.to_owned(), rendered);
        }
        (body, etag)
    }
}

fn strong_etag(body: &[u8]) -> HeaderValue {
    HeaderValue::from_str(&etag_of(body)).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// Answers 304 when `If-None-Match` already names the body's ETag, otherwise
/// the body with the ETag and cache policy.
pub fn cached_response(
    request_headers: &HeaderMap,
    content_type: &'static str,
    cache_control: &'static str,
    body: Vec<u8>,
) -> Response {
    let etag = strong_etag(&body);
    response_with_etag(
        request_headers,
        content_type,
        cache_control,
        body.into(),
        etag,
    )
}

/// Like [`cached_response`], with the ETag already known.
fn response_with_etag(
    request_headers: &HeaderMap,
    content_type: &'static str,
    cache_control: &'static str,
    body: axum::body::Bytes,
    etag: HeaderValue,
) -> Response {
    let matches = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|tag| tag.trim().as_bytes() == etag.as_bytes() || tag.trim() == "*")
        });
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    // Shops on any origin load these from their pages.
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// What the widget needs to start: public values only.
async fn widget_config(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant = state.tenant(&slug).await?;
    let config = &tenant.config.value;
    let body = serde_json::json!({
        "tenant": tenant.slug,
        "issuer": config.issuer,
        "client_id": config.client_id,
        "audience": config.audience,
        "scopes": config.scopes,
        "redirect_uris": config.redirect_uris,
        "allowed_origins": config.allowed_origins,
        "default_locale": config.default_locale,
        "enabled_locales": config.enabled_locales,
        "providers": config.providers,
        "token_storage": config.token_storage,
    });
    Ok(cached_response(
        &headers,
        "application/json",
        "public, max-age=60, must-revalidate",
        body.to_string().into_bytes(),
    ))
}

async fn theme_css(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant = state.tenant(&slug).await?;
    let theme = &tenant.theme.value;
    // Keyed by the tenant's id: a tenant created again under a deleted
    // tenant's slug starts again at version 1.
    let key = format!("theme:{}", tenant.id);
    let (body, etag) = state.rendered(&key, tenant.theme.version, || {
        theme
            .to_css(theme.logo.as_ref().map(|_| "logo"))
            .into_bytes()
    });
    Ok(response_with_etag(
        &headers,
        "text/css; charset=utf-8",
        "public, max-age=60, must-revalidate",
        body,
        etag,
    ))
}

async fn logo(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    use base64::Engine as _;
    let tenant = state.tenant(&slug).await?;
    let (content_type, body) = match &tenant.theme.value.logo {
        None => return Err(ApiError::NotFound(format!("tenant `{slug}` has no logo"))),
        Some(theme::Logo::Svg { markup }) => ("image/svg+xml", markup.clone().into_bytes()),
        Some(theme::Logo::Png { base64 }) => (
            "image/png",
            base64::engine::general_purpose::STANDARD
                .decode(base64)
                .map_err(|error| ApiError::Internal(error.into()))?,
        ),
    };
    let mut response = cached_response(&headers, content_type, "public, max-age=300", body);
    // Even a sanitised SVG opened directly must not run anything.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct TextsQuery {
    ui_locales: Option<String>,
}

/// `GET /t/{tenant}/i18n/{locale}.json`: `{locale}` may be a tag or `auto`;
/// negotiation then tries `ui_locales`, then `Accept-Language`.
async fn texts(
    State(state): State<AppState>,
    Path((slug, file)): Path<(String, String)>,
    Query(query): Query<TextsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let requested = file
        .strip_suffix(".json")
        .ok_or_else(|| ApiError::NotFound("texts are served as {locale}.json".into()))?;
    if requested.is_empty()
        || requested.len() > 35
        || !requested
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(ApiError::invalid(
            "locale",
            "a locale is a language tag such as de or pt-BR",
        ));
    }
    let tenant = state.tenant(&slug).await?;
    let config = &tenant.config.value;
    let explicit = (requested != "auto").then_some(requested);
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    let locale = i18n::negotiate(
        explicit,
        query.ui_locales.as_deref(),
        accept,
        &config.enabled_locales,
        &config.default_locale,
    );
    let overrides = state.store().texts(&tenant, &locale).await?;
    let messages = i18n::messages_for(&locale, Some(&overrides.value))
        .map_err(|error| ApiError::Internal(anyhow::anyhow!(error)))?;
    let body = serde_json::json!({
        "locale": locale,
        "dir": if i18n::is_right_to_left(&locale) { "rtl" } else { "ltr" },
        "messages": messages,
    });
    let mut response = cached_response(
        &headers,
        "application/json",
        "public, max-age=60, must-revalidate",
        body.to_string().into_bytes(),
    );
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-language"));
    Ok(response)
}
