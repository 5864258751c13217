//! The public tenant endpoints the widget reads, from any shop's page:
//! `/t/{tenant}/config.json`, `theme.css`, `logo`, `i18n/{locale}.json`,
//! and for a theme with its own font `fonts.css` and `fonts/{digest}.woff2`.
//!
//! Public values only, cacheable, with strong ETags; `theme.css` is rendered
//! once per theme version ([`RenderedDocuments`]). What it is not: the
//! widget's code (`assets.rs`) or anything an admin changes (`admin/`).

use std::collections::HashMap;
use std::sync::RwLock;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::http::{conditional_response, conditional_response_with_etag, strong_etag};
use crate::store::{Revision, TenantRecord};
use crate::{i18n, theme};

/// The public tenant routes, and the same documents for a draft revision
/// under a signed preview address ([`preview_base`]).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/config.json", get(widget_config))
        .route("/t/{tenant}/theme.css", get(theme_css))
        .route("/t/{tenant}/logo", get(logo))
        .route("/t/{tenant}/i18n/{file}", get(texts))
        .route("/t/{tenant}/start/{file}", get(start))
        .route("/t/{tenant}/fonts.css", get(fonts_css))
        .route("/t/{tenant}/fonts/{file}", get(font_file))
        .route(
            "/preview/{revision}/{signature}/t/{tenant}/config.json",
            get(preview_config),
        )
        .route(
            "/preview/{revision}/{signature}/t/{tenant}/theme.css",
            get(preview_theme_css),
        )
        .route(
            "/preview/{revision}/{signature}/t/{tenant}/logo",
            get(preview_logo),
        )
        .route(
            "/preview/{revision}/{signature}/t/{tenant}/i18n/{file}",
            get(preview_texts),
        )
        .route(
            "/preview/{revision}/{signature}/t/{tenant}/start/{file}",
            get(preview_start),
        )
        .route(
            "/preview/{revision}/{signature}/t/{tenant}/fonts.css",
            get(preview_fonts_css),
        )
        .route(
            "/preview/{revision}/{signature}/t/{tenant}/fonts/{file}",
            get(preview_font_file),
        )
}

/// The preview address of `revision` of `tenant`: a widget whose `server`
/// is this reads that revision's theme, logo and texts instead of the
/// published ones. The address is signed (HMAC-SHA256 of the tenant's id
/// and the revision under a key of this process), so a draft is seen only
/// by whom the console gave the address; nothing published changes.
pub fn preview_base(state: &AppState, tenant: &TenantRecord, revision: i64) -> String {
    format!(
        "{}/preview/{revision}/{}",
        state.public_url(),
        preview_signature(state, tenant, revision)
    )
}

/// The signature of the preview address of `revision` of `tenant`.
pub fn preview_signature(state: &AppState, tenant: &TenantRecord, revision: i64) -> String {
    use base64::Engine as _;
    let tag = ring::hmac::sign(
        state.preview_key(),
        format!("{}:{revision}", tenant.id).as_bytes(),
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
}

/// Whether `signature` is the one [`preview_signature`] makes.
pub fn preview_signed(
    state: &AppState,
    tenant: &TenantRecord,
    revision: i64,
    signature: &str,
) -> bool {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .is_ok_and(|tag| {
            ring::hmac::verify(
                state.preview_key(),
                format!("{}:{revision}", tenant.id).as_bytes(),
                &tag,
            )
            .is_ok()
        })
}

/// The tenant and revision a preview address names, if its signature holds.
async fn previewed(
    state: &AppState,
    revision: i64,
    signature: &str,
    slug: &str,
) -> Result<(std::sync::Arc<TenantRecord>, Revision), ApiError> {
    let tenant = state.tenant(slug).await?;
    if !preview_signed(state, &tenant, revision, signature) {
        return Err(ApiError::NotFound("no such preview".into()));
    }
    let revision = state.store().design_revision(slug, revision).await?;
    Ok((tenant, revision))
}

/// Preview documents are not kept by browsers or proxies.
fn uncached(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn preview_config(
    State(state): State<AppState>,
    Path((revision, signature, slug)): Path<(i64, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (tenant, revision) = previewed(&state, revision, &signature, &slug).await?;
    let body = config_document(&tenant, &revision.design.theme);
    Ok(uncached(conditional_response(
        &headers,
        "application/json",
        "no-store",
        body.to_string().into_bytes(),
    )))
}

async fn preview_theme_css(
    State(state): State<AppState>,
    Path((number, signature, slug)): Path<(i64, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (tenant, revision) = previewed(&state, number, &signature, &slug).await?;
    let theme = &revision.design.theme;
    let base = preview_base(&state, &tenant, number);
    let (light, dark) = logo_urls(&base, &tenant.slug, theme, None)?;
    Ok(uncached(conditional_response(
        &headers,
        "text/css; charset=utf-8",
        "no-store",
        theme
            .to_css(theme::Logos {
                light: light.as_deref(),
                dark: dark.as_deref(),
            })
            .into_bytes(),
    )))
}

async fn preview_logo(
    State(state): State<AppState>,
    Path((revision, signature, slug)): Path<(i64, String, String)>,
    Query(query): Query<LogoQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, revision) = previewed(&state, revision, &signature, &slug).await?;
    let logo = query.chosen(&revision.design.theme);
    logo_response(&headers, logo, &slug).map(uncached)
}

async fn preview_start(
    State(state): State<AppState>,
    Path((revision, signature, slug, file)): Path<(i64, String, String, String)>,
    Query(query): Query<TextsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let requested = requested_locale(&file)?;
    let (tenant, revision) = previewed(&state, revision, &signature, &slug).await?;
    let locale = preview_locale(&tenant, requested, &query, &headers);
    let texts = texts_document(&locale, revision.design.texts.get(&locale))?;
    let body = start_document(&tenant, &revision.design.theme, texts);
    Ok(uncached(conditional_response(
        &headers,
        "application/json",
        "no-store",
        body.to_string().into_bytes(),
    )))
}

/// The locale of a preview: any base locale the studio asks for, enabled
/// or not (the pseudo-locale, to find what overflows), else negotiated.
fn preview_locale(
    tenant: &TenantRecord,
    requested: &str,
    query: &TextsQuery,
    headers: &HeaderMap,
) -> String {
    match i18n::BASE_LOCALES.iter().find(|known| **known == requested) {
        Some(known) => (*known).to_owned(),
        None => negotiated(tenant, requested, query, headers),
    }
}

async fn preview_texts(
    State(state): State<AppState>,
    Path((revision, signature, slug, file)): Path<(i64, String, String, String)>,
    Query(query): Query<TextsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let requested = requested_locale(&file)?;
    let (tenant, revision) = previewed(&state, revision, &signature, &slug).await?;
    let locale = preview_locale(&tenant, requested, &query, &headers);
    texts_response(
        &headers,
        &texts_document(&locale, revision.design.texts.get(&locale))?,
    )
    .map(uncached)
}

/// A rendered public document, kept until its source's version changes.
#[derive(Clone)]
struct Rendered {
    version: i64,
    body: Bytes,
    etag: HeaderValue,
}

/// The public documents rendered so far, by key.
#[derive(Default)]
pub(crate) struct RenderedDocuments {
    documents: RwLock<HashMap<String, Rendered>>,
}

impl RenderedDocuments {
    /// The rendered document `key` at `version`, rendering it only when the
    /// cached one is another version; returns the body and its ETag. A
    /// render never replaces a newer version's.
    fn get_or_render(
        &self,
        key: &str,
        version: i64,
        render: impl FnOnce() -> Vec<u8>,
    ) -> (Bytes, HeaderValue) {
        let cache = &self.documents;
        if let Some(hit) = cache.read().unwrap_or_else(|p| p.into_inner()).get(key)
            && hit.version == version
        {
            return (hit.body.clone(), hit.etag.clone());
        }
        let body: Bytes = render().into();
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

/// What the widget needs to start: public values only.
async fn widget_config(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant = state.tenant(&slug).await?;
    let body = config_document(&tenant, &tenant.theme.value);
    Ok(conditional_response(
        &headers,
        "application/json",
        "public, max-age=60, must-revalidate",
        body.to_string().into_bytes(),
    ))
}

/// The widget's configuration of `tenant`, showing `theme` (the published
/// one, or a previewed revision's).
fn config_document(tenant: &TenantRecord, theme: &theme::Theme) -> serde_json::Value {
    let config = &tenant.config.value;
    serde_json::json!({
        "tenant": tenant.slug,
        "issuer": config.issuer,
        "client_id": config.client_id,
        "audience": config.audience,
        // How the IdP is asked for a token meant for the audience.
        "authorization_parameters": config.audience_request.authorization_parameters(&config.audience),
        "token_parameters": config.audience_request.token_parameters(&config.audience),
        "scopes": config.scopes,
        "redirect_uris": config.redirect_uris,
        "allowed_origins": config.allowed_origins,
        "default_locale": config.default_locale,
        "enabled_locales": config.enabled_locales,
        "providers": config.providers,
        "token_storage": config.token_storage,
        // The logo's text alternative, and whether the theme has one.
        "display_name": config.display_name,
        "logo": theme.logo.is_some(),
        // Whether the loader links `fonts.css` from the page's document,
        // and the family it declares, whose faces the first view waits for.
        "fonts": theme.font.is_some(),
        "font_family": theme.font.as_ref().map(theme::CustomFont::css_name),
    })
}

/// Where `slug`'s logos are served under `base` (the public URL, or a
/// preview address), for the theme's logo and its dark palette's own, when
/// it has them; `version` (the theme's) makes a new logo a new address.
/// Serialized by the `url` crate, which percent-encodes quotes, so they are
/// safe in a CSS string.
fn logo_urls(
    base: &str,
    slug: &str,
    theme: &theme::Theme,
    version: Option<i64>,
) -> Result<(Option<String>, Option<String>), ApiError> {
    let url = |dark: bool| -> Result<String, ApiError> {
        let mut url = url::Url::parse(&format!("{base}/"))
            .and_then(|base| base.join(&format!("t/{slug}/logo")))
            .map_err(|error| {
                ApiError::Internal(anyhow::anyhow!(
                    "the public URL cannot hold a logo: {error}"
                ))
            })?;
        if let Some(version) = version {
            url.query_pairs_mut().append_pair("v", &version.to_string());
        }
        if dark {
            url.query_pairs_mut().append_pair("scheme", "dark");
        }
        Ok(url.into())
    };
    Ok((
        theme.logo.as_ref().map(|_| url(false)).transpose()?,
        theme.logo_dark.as_ref().map(|_| url(true)).transpose()?,
    ))
}

/// `?scheme=dark` asks for the dark palette's logo; `v` only makes a new
/// logo a new address.
#[derive(Debug, Deserialize)]
struct LogoQuery {
    #[serde(default)]
    scheme: Option<String>,
    #[serde(default, rename = "v")]
    _version: Option<String>,
}

impl LogoQuery {
    /// The logo asked for: the dark one when asked and present, else the
    /// theme's logo.
    fn chosen<'a>(&self, theme: &'a theme::Theme) -> Option<&'a theme::Logo> {
        match self.scheme.as_deref() {
            Some("dark") => theme.logo_dark.as_ref().or(theme.logo.as_ref()),
            _ => theme.logo.as_ref(),
        }
    }
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
    // The logo's address is absolute: a `url()` inside a custom property
    // resolves against the stylesheet that *uses* the property (the
    // widget's own, or the page itself in the single-file variant), not
    // against this one. The version makes a new logo a new address.
    let (light, dark) = logo_urls(
        state.public_url(),
        &tenant.slug,
        theme,
        Some(tenant.theme.version),
    )?;
    Ok(rendered_css(
        &state,
        &headers,
        &key,
        tenant.theme.version,
        || {
            theme
                .to_css(theme::Logos {
                    light: light.as_deref(),
                    dark: dark.as_deref(),
                })
                .into_bytes()
        },
    ))
}

/// A stylesheet rendered once per theme `version` under `key`, answered
/// with its ETag to any origin.
fn rendered_css(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    version: i64,
    render: impl FnOnce() -> Vec<u8>,
) -> Response {
    let (body, etag) = state
        .rendered_documents()
        .get_or_render(key, version, render);
    conditional_response_with_etag(
        headers,
        "text/css; charset=utf-8",
        "public, max-age=60, must-revalidate",
        body,
        etag,
    )
}

/// Where `slug`'s font file `file` is served under `base` (the public URL,
/// or a preview address).
fn font_url(base: &str, slug: &str, file: &str) -> String {
    url::Url::parse(&format!("{base}/"))
        .and_then(|base| base.join(&format!("t/{slug}/fonts/{file}.woff2")))
        .map_or_else(
            |_| format!("{base}/t/{slug}/fonts/{file}.woff2"),
            String::from,
        )
}

/// `fonts.css`: the `@font-face` rules of the published theme's own font,
/// for the page's document (a shadow root ignores them).
async fn fonts_css(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant = state.tenant(&slug).await?;
    let Some(font) = &tenant.theme.value.font else {
        return Err(no_font(&slug));
    };
    let key = format!("fonts:{}", tenant.id);
    Ok(rendered_css(
        &state,
        &headers,
        &key,
        tenant.theme.version,
        || {
            font.to_font_face_css(|file| font_url(state.public_url(), &tenant.slug, file))
                .into_bytes()
        },
    ))
}

fn no_font(slug: &str) -> ApiError {
    ApiError::NotFound(format!("tenant `{slug}` has no font of its own"))
}

/// `fonts/{digest}.woff2`: one of the published theme's font files. The
/// digest names the bytes for good, so it is cached for a year.
async fn font_file(
    State(state): State<AppState>,
    Path((slug, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant = state.tenant(&slug).await?;
    font_response(&state, &headers, &tenant, &tenant.theme.value, &file).await
}

/// The font file `name` (`<digest>.woff2`) if `theme` uses it.
async fn font_response(
    state: &AppState,
    headers: &HeaderMap,
    tenant: &TenantRecord,
    theme: &theme::Theme,
    name: &str,
) -> Result<Response, ApiError> {
    let file = name
        .strip_suffix(".woff2")
        .filter(|file| {
            theme::is_digest(file) && theme.font.as_ref().is_some_and(|font| font.has_file(file))
        })
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "tenant `{}` has no font file `{name}`",
                tenant.slug
            ))
        })?;
    let bytes = state
        .store()
        .font_file(&tenant.slug, file)
        .await?
        .ok_or_else(|| no_font(&tenant.slug))?;
    // The file's name is its digest: the ETag without hashing it again.
    let etag = HeaderValue::from_str(&format!("\"{file}\"")).map_err(|error| {
        ApiError::Internal(anyhow::anyhow!("a font digest is a header value: {error}"))
    })?;
    Ok(conditional_response_with_etag(
        headers,
        "font/woff2",
        "public, max-age=31536000, immutable",
        bytes.into(),
        etag,
    ))
}

async fn preview_fonts_css(
    State(state): State<AppState>,
    Path((number, signature, slug)): Path<(i64, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (tenant, revision) = previewed(&state, number, &signature, &slug).await?;
    let Some(font) = &revision.design.theme.font else {
        return Err(no_font(&slug));
    };
    let base = preview_base(&state, &tenant, number);
    Ok(uncached(conditional_response(
        &headers,
        "text/css; charset=utf-8",
        "no-store",
        font.to_font_face_css(|file| font_url(&base, &tenant.slug, file))
            .into_bytes(),
    )))
}

async fn preview_font_file(
    State(state): State<AppState>,
    Path((number, signature, slug, file)): Path<(i64, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (tenant, revision) = previewed(&state, number, &signature, &slug).await?;
    font_response(&state, &headers, &tenant, &revision.design.theme, &file)
        .await
        .map(uncached)
}

async fn logo(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<LogoQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant = state.tenant(&slug).await?;
    logo_response(&headers, query.chosen(&tenant.theme.value), &slug)
}

/// A logo as served: its type, and a policy under which even a sanitised
/// SVG opened directly runs nothing.
fn logo_response(
    headers: &HeaderMap,
    logo: Option<&theme::Logo>,
    slug: &str,
) -> Result<Response, ApiError> {
    use base64::Engine as _;
    let (content_type, body) = match logo {
        None => return Err(ApiError::NotFound(format!("tenant `{slug}` has no logo"))),
        Some(theme::Logo::Svg { markup }) => ("image/svg+xml", markup.clone().into_bytes()),
        Some(theme::Logo::Png { base64 }) => (
            "image/png",
            base64::engine::general_purpose::STANDARD
                .decode(base64)
                .map_err(|error| ApiError::Internal(error.into()))?,
        ),
    };
    let mut response = conditional_response(headers, content_type, "public, max-age=300", body);
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
    let (_, texts) = published_texts(&state, &slug, &file, &query, &headers).await?;
    texts_response(&headers, &texts)
}

/// The published texts `{locale}.json` asks for, with the tenant's
/// overrides, and the tenant.
async fn published_texts(
    state: &AppState,
    slug: &str,
    file: &str,
    query: &TextsQuery,
    headers: &HeaderMap,
) -> Result<(std::sync::Arc<TenantRecord>, TextsDocument), ApiError> {
    let requested = requested_locale(file)?;
    let tenant = state.tenant(slug).await?;
    let locale = negotiated(&tenant, requested, query, headers);
    let overrides = state.store().texts(&tenant, &locale).await?;
    let texts = texts_document(&locale, Some(&overrides.value))?;
    Ok((tenant, texts))
}

/// A response negotiated from `Accept-Language` says so to caches.
fn varying_by_language(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-language"));
    response
}

/// `GET /t/{tenant}/start/{locale}.json`: everything the widget's first
/// paint needs in one request: the texts (negotiated as for `i18n/`), the
/// configuration, and the signed-out view rendered from both
/// ([`first_view`](crate::first_view)). The loader shows the view at once
/// and hands texts and configuration to the WebAssembly when it arrives.
async fn start(
    State(state): State<AppState>,
    Path((slug, file)): Path<(String, String)>,
    Query(query): Query<TextsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (tenant, texts) = published_texts(&state, &slug, &file, &query, &headers).await?;
    let body = start_document(&tenant, &tenant.theme.value, texts);
    Ok(varying_by_language(conditional_response(
        &headers,
        "application/json",
        "public, max-age=60, must-revalidate",
        body.to_string().into_bytes(),
    )))
}

/// `{texts, config, view}`: see [`start`].
fn start_document(
    tenant: &TenantRecord,
    theme: &theme::Theme,
    texts: TextsDocument,
) -> serde_json::Value {
    let view = crate::first_view::signed_out(
        &tenant.config.value,
        theme.logo.is_some(),
        &texts.locale,
        texts.dir,
        &texts.messages,
    );
    serde_json::json!({
        "texts": texts,
        "config": config_document(tenant, theme),
        "view": view,
    })
}

/// The locale `{locale}.json` names: a language tag, or `auto`.
fn requested_locale(file: &str) -> Result<&str, ApiError> {
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
    Ok(requested)
}

/// The tenant's locale for a request: the one asked for when enabled,
/// then `ui_locales`, then `Accept-Language`, then the default.
fn negotiated(
    tenant: &TenantRecord,
    requested: &str,
    query: &TextsQuery,
    headers: &HeaderMap,
) -> String {
    let config = &tenant.config.value;
    let explicit = (requested != "auto").then_some(requested);
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    i18n::negotiate(
        explicit,
        query.ui_locales.as_deref(),
        accept,
        &config.enabled_locales,
        &config.default_locale,
    )
}

/// The texts of one locale, as the widget reads them.
#[derive(serde::Serialize)]
struct TextsDocument {
    locale: String,
    dir: &'static str,
    messages: i18n::Messages,
}

/// The texts of `locale` with `overrides` applied.
fn texts_document(
    locale: &str,
    overrides: Option<&i18n::Messages>,
) -> Result<TextsDocument, ApiError> {
    let messages = i18n::messages_for(locale, overrides)
        .map_err(|error| ApiError::Internal(anyhow::anyhow!(error)))?;
    Ok(TextsDocument {
        locale: locale.to_owned(),
        dir: if i18n::is_right_to_left(locale) {
            "rtl"
        } else {
            "ltr"
        },
        messages,
    })
}

/// The texts of `locale` with `overrides` applied, as a response.
fn texts_response(headers: &HeaderMap, texts: &TextsDocument) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(texts).map_err(|error| ApiError::Internal(error.into()))?;
    Ok(varying_by_language(conditional_response(
        headers,
        "application/json",
        "public, max-age=60, must-revalidate",
        body,
    )))
}
