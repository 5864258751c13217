//! The builder console at `/console/`: the admins' pages, rendered on the
//! server with askama templates (compile-time checked, auto-escaping),
//! styled and scripted only by files from our own origin under a CSP
//! without `'unsafe-inline'` or `'unsafe-eval'`, in English and Russian.
//!
//! Today it signs admins in with one-time login links (`session`), lists
//! tenants with their live health (`health`), shows a tenant's
//! configuration and snippet, deletes a tenant after the admin types its
//! slug, and reads the audit log with filters and before/after changes.
//!
//! What it is not: a second API. Every change goes through the same store
//! methods (and audit rows) as the admin API; the console only renders.

mod assets;
mod checks;
mod design;
mod events;
mod guides;
mod health;
pub mod oidc;
pub mod session;
mod studio;
mod texts;
mod texts_studio;
mod try_sign_in;

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::admin::{
    NewTenant, SignInMode, create_admin_token, create_tenant_record, snippet_for, token_lifetime,
};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::model::{AudienceRequest, ProviderButton, ProviderIcon, TenantConfig, TokenStorage};
use crate::store::StoreError;
use crate::validation::ValidationError;

use self::session::{Access, ConsoleAdmin};
pub use self::session::{LINK_MINUTES, create_login_link};
use self::texts::Texts;
use self::try_sign_in::try_url;

/// The policy of every console page: our own origin only, nothing inline.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The console's routes, and `/` sending browsers to it.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/") }))
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(tenants))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", axum::routing::post(logout))
        .route("/console/oidc/start", axum::routing::post(oidc_start))
        .route("/console/oidc/callback", get(oidc_callback))
        .route("/console/audit", get(audit))
        .route("/console/tenants/{tenant}", get(tenant))
        .route("/console/tenants/{tenant}/health", get(tenant_health))
        .route(
            "/console/tenants/{tenant}/delete",
            get(delete_page).post(delete),
        )
        .route("/console/tenants/{tenant}/edit", get(edit_page).post(edit))
        .route("/console/tenants/{tenant}/export", get(export))
        .route(
            "/console/tenants/{tenant}/studio",
            get(studio::page).post(studio::submit),
        )
        .route(
            "/console/tenants/{tenant}/studio/preview",
            axum::routing::post(studio::preview),
        )
        .route(
            "/console/tenants/{tenant}/studio/logo",
            axum::routing::post(studio::logo),
        )
        .route(
            "/console/tenants/{tenant}/studio/font",
            axum::routing::post(studio::font).layer(axum::extract::DefaultBodyLimit::max(
                crate::admin::UPLOAD_BODY_BYTES,
            )),
        )
        .route(
            "/console/tenants/{tenant}/studio/font/remove",
            axum::routing::post(studio::remove_face),
        )
        .route("/console/tenants/{tenant}/events", get(events::page))
        .route(
            "/console/tenants/{tenant}/events/sources",
            axum::routing::post(events::create_source),
        )
        .route(
            "/console/tenants/{tenant}/events/sources/{id}/delete",
            axum::routing::post(events::delete_source),
        )
        .route(
            "/console/tenants/{tenant}/events/endpoints",
            axum::routing::post(events::create_endpoint),
        )
        .route(
            "/console/tenants/{tenant}/events/endpoints/{id}/rotate",
            axum::routing::post(events::rotate_endpoint),
        )
        .route(
            "/console/tenants/{tenant}/events/endpoints/{id}/delete",
            axum::routing::post(events::delete_endpoint),
        )
        .route(
            "/console/tenants/{tenant}/events/deliveries/{id}/redeliver",
            axum::routing::post(events::redeliver),
        )
        .route(
            "/console/tenants/{tenant}/studio/frame",
            get(studio::preview_frame),
        )
        .route(
            "/console/tenants/{tenant}/texts",
            get(texts_studio::page).post(texts_studio::save),
        )
        .route(
            "/console/tenants/{tenant}/texts/check",
            axum::routing::post(texts_studio::check),
        )
        .route("/console/tenants/{tenant}/design", get(design::history))
        .route(
            "/console/tenants/{tenant}/design/publish",
            axum::routing::post(design::publish),
        )
        .route(
            "/console/tenants/{tenant}/design/import",
            axum::routing::post(design::import),
        )
        .route(
            "/console/tenants/{tenant}/design/copy",
            axum::routing::post(design::copy),
        )
        .route(
            "/console/tenants/{tenant}/design/{revision}/export",
            get(design::export),
        )
        .route("/console/tenants/{tenant}/try", get(try_sign_in::page))
        .route(
            "/console/tenants/{tenant}/try/passport",
            axum::routing::post(try_sign_in::passport),
        )
        .route(
            "/console/tenants/{tenant}/try/register",
            axum::routing::post(try_sign_in::register),
        )
        .route("/console/import", get(import_page).post(import))
        .route("/console/new", get(new_page).post(new_create))
        .route("/console/new/check", axum::routing::post(new_check))
        .route("/console/tokens", get(tokens).post(create_token))
        .route(
            "/console/tokens/{id}/revoke",
            axum::routing::post(revoke_token),
        )
        .route("/console/guides/{name}", get(guide))
        .route("/console/static/{file}", get(asset))
}

/// What every page's frame needs: texts, assets, and who is signed in.
pub struct Frame {
    t: Texts,
    lang: &'static str,
    css_href: &'static str,
    css_integrity: &'static str,
    js_href: &'static str,
    js_integrity: &'static str,
    admin: Option<FrameAdmin>,
    section: &'static str,
    /// A `Set-Cookie` that remembers a language chosen with `?lang=`.
    remember_language: Option<String>,
}

struct FrameAdmin {
    display_name: String,
    csrf: String,
    /// Owners see the admin tokens, import, and deletion.
    owner: bool,
}

impl Frame {
    fn new(
        state: &AppState,
        headers: &HeaderMap,
        chosen: Option<&str>,
        admin: Option<&ConsoleAdmin>,
        section: &'static str,
    ) -> Frame {
        let remembered = session::cookie_value(headers, session::LANGUAGE_COOKIE);
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok());
        let t = texts::negotiate(chosen.or(remembered.as_deref()), accept);
        let (css, js) = (assets::stylesheet(), assets::script());
        Frame {
            t,
            lang: t.locale(),
            css_href: &css.href,
            css_integrity: &css.integrity,
            js_href: &js.href,
            js_integrity: &js.integrity,
            admin: admin.map(|admin| FrameAdmin {
                display_name: admin.session.display_name.clone(),
                csrf: admin.session.csrf.clone(),
                owner: admin.is_owner(),
            }),
            section,
            remember_language: chosen
                .filter(|chosen| t.locale() == *chosen)
                .map(|chosen| session::language_cookie(state, chosen)),
        }
    }
}

/// A signed-in admin's page: who, and the page's frame in their language
/// (`?lang=` included), for the section the path is in.
struct Signed {
    admin: ConsoleAdmin,
    frame: Frame,
}

impl axum::extract::FromRequestParts<AppState> for Signed {
    type Rejection = session::SignedOut;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, session::SignedOut> {
        let admin = ConsoleAdmin::from_request_parts(parts, state).await?;
        let chosen = parts.uri.query().and_then(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == "lang")
                .map(|(_, value)| value.into_owned())
        });
        let path = parts.uri.path();
        let section = if path.starts_with("/console/tokens") {
            "tokens"
        } else if path.starts_with("/console/audit") {
            "audit"
        } else {
            "tenants"
        };
        let frame = Frame::new(
            state,
            &parts.headers,
            chosen.as_deref(),
            Some(&admin),
            section,
        );
        Ok(Signed { admin, frame })
    }
}

/// A rendered page with the console's headers.
fn page(
    status: StatusCode,
    frame_cookie: Option<String>,
    html: Result<String, askama::Error>,
) -> Response {
    page_under(status, frame_cookie, html, CONTENT_SECURITY_POLICY)
}

/// A rendered page with the console's headers and `policy` as its CSP.
fn page_under(
    status: StatusCode,
    frame_cookie: Option<String>,
    html: Result<String, askama::Error>,
    policy: &str,
) -> Response {
    let html = match html {
        Ok(html) => html,
        Err(error) => {
            return ApiError::Internal(anyhow::anyhow!("a console template failed: {error}"))
                .into_response();
        }
    };
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    match HeaderValue::from_str(policy) {
        Ok(policy) => headers.insert(header::CONTENT_SECURITY_POLICY, policy),
        Err(_) => headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // `same-origin`, not `no-referrer`: with the latter, browsers send
    // `Origin: null` on the console's own form posts, which the CSRF check
    // refuses.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(cookie) = frame_cookie.and_then(|cookie| HeaderValue::from_str(&cookie).ok()) {
        headers.append(header::SET_COOKIE, cookie);
    }
    response
}

fn page_with<T: Template>(status: StatusCode, cookie: Option<String>, template: &T) -> Response {
    page(status, cookie, template.render())
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage<'a> {
    frame: Frame,
    title: &'a str,
    message: String,
}

/// An error as a console page, with the status the API would answer.
fn failure(mut frame: Frame, error: ApiError) -> Response {
    let message = error.to_string();
    let status = error.into_response().status();
    let title = if status == StatusCode::NOT_FOUND {
        frame.t.get("not-found")
    } else {
        frame.t.get("error-title")
    };
    let cookie = frame.remember_language.take();
    page_with(
        status,
        cookie,
        &MessagePage {
            frame,
            title,
            message,
        },
    )
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    frame: Frame,
    token: Option<String>,
    spent: bool,
    /// The admins' IdP's host, when one is set.
    idp: Option<String>,
    /// Why the last sign-in at the IdP failed.
    problem: Option<String>,
}

fn idp_host(state: &AppState) -> Option<String> {
    state
        .console_idp()
        .and_then(|idp| url::Url::parse(&idp.issuer).ok())
        .and_then(|url| url.host_str().map(str::to_owned))
}

/// Starts a sign-in at the admins' IdP: a POST from our own origin (a
/// page elsewhere cannot start one in this browser).
async fn oidc_start(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let frame = Frame::new(&state, &headers, None, None, "login");
    if !session::same_origin(&state, &headers) {
        return session::SignedOut::Csrf.into_response();
    }
    let Some(idp) = state.console_idp() else {
        return failure(
            frame,
            ApiError::NotFound("no identity provider is set for admins".into()),
        );
    };
    match oidc::start(&state, idp).await {
        Ok((url, browser)) => {
            let mut response = Redirect::to(&url).into_response();
            if let Ok(value) = HeaderValue::from_str(&session::flow_cookie(&state, Some(&browser)))
            {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(error) => login_problem(&state, &headers, StatusCode::BAD_GATEWAY, &error),
    }
}

fn login_problem(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    error: &oidc::SignInError,
) -> Response {
    tracing::warn!(%error, "a console sign-in at the identity provider failed");
    page_with(
        status,
        None,
        &LoginPage {
            frame: Frame::new(state, headers, None, None, "login"),
            token: None,
            spent: false,
            idp: idp_host(state),
            problem: Some(error.to_string()),
        },
    )
}

#[derive(Debug, Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/continue.html")]
struct ContinuePage {
    frame: Frame,
}

/// The IdP's answer. The session cookie is `SameSite=Strict`, which
/// browsers withhold from a redirect chain that began on the IdP's site,
/// so the page answers with a same-origin refresh to the console instead
/// of a redirect.
async fn oidc_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let Some(idp) = state.console_idp().cloned() else {
        return failure(
            Frame::new(&state, &headers, None, None, "login"),
            ApiError::NotFound("no identity provider is set for admins".into()),
        );
    };
    let outcome = match (callback.error, callback.code, callback.state) {
        (Some(error), _, _) => Err(oidc::SignInError::Refused(
            error
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(64)
                .collect(),
        )),
        (None, Some(code), Some(flow_state)) => {
            let browser = session::cookie_value(&headers, oidc::FLOW_COOKIE);
            oidc::finish(&state, &idp, &code, &flow_state, browser.as_deref()).await
        }
        _ => Err(oidc::SignInError::UnknownFlow),
    };
    let signed_in = match outcome {
        Ok(signed_in) => signed_in,
        Err(error) => return login_problem(&state, &headers, StatusCode::BAD_REQUEST, &error),
    };
    let cookie = match session::open_session(&state, &signed_in).await {
        Ok(cookie) => cookie,
        Err(error) => return failure(Frame::new(&state, &headers, None, None, "login"), error),
    };
    let mut response = page_with(
        StatusCode::OK,
        None,
        &ContinuePage {
            frame: Frame::new(&state, &headers, None, None, "login"),
        },
    );
    for value in [
        session::session_cookie(&state, Some(&cookie)),
        session::flow_cookie(&state, None),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    token: Option<String>,
    lang: Option<String>,
}

/// The sign-in page. A link's token is not spent by opening it (link
/// previews and scanners fetch links): the admin presses Sign in.
async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let mut frame = Frame::new(&state, &headers, query.lang.as_deref(), None, "login");
    let cookie = frame.remember_language.take();
    let page = LoginPage {
        frame,
        token: query
            .token
            .filter(|token| !token.is_empty() && token.len() <= 128),
        spent: false,
        idp: idp_host(&state),
        problem: None,
    };
    page_with(StatusCode::OK, cookie, &page)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    match session::redeem_login_link(&state, &form.token).await {
        Ok(Some(cookie)) => {
            let mut response = Redirect::to("/console/").into_response();
            if let Ok(value) =
                HeaderValue::from_str(&session::session_cookie(&state, Some(&cookie)))
            {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Ok(None) => page_with(
            StatusCode::BAD_REQUEST,
            None,
            &LoginPage {
                frame: Frame::new(&state, &headers, None, None, "login"),
                token: None,
                spent: true,
                idp: idp_host(&state),
                problem: None,
            },
        ),
        Err(error) => failure(Frame::new(&state, &headers, None, None, "login"), error),
    }
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    admin: ConsoleAdmin,
    Form(form): Form<CsrfForm>,
) -> Result<Response, session::SignedOut> {
    admin.check_csrf(&form.csrf)?;
    admin
        .sign_out(&state)
        .await
        .map_err(session::SignedOut::Failed)?;
    let mut response = Redirect::to("/console/login").into_response();
    if let Ok(value) = HeaderValue::from_str(&session::session_cookie(&state, None)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

struct TenantRow {
    slug: String,
    display_name: String,
    issuer: String,
}

#[derive(Template)]
#[template(path = "console/tenants.html")]
struct TenantsPage {
    frame: Frame,
    tenants: Vec<TenantRow>,
    notice: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
struct TenantsQuery {
    lang: Option<String>,
    /// `deleted` after a deletion.
    notice: Option<String>,
}

async fn tenants(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Query(query): Query<TenantsQuery>,
) -> Response {
    let frame = Frame::new(
        &state,
        &headers,
        query.lang.as_deref(),
        Some(&admin),
        "tenants",
    );
    let slugs = match state.store().tenant_slugs().await {
        Ok(slugs) => slugs,
        Err(error) => return failure(frame, error.into()),
    };
    let mut rows = Vec::with_capacity(slugs.len());
    for slug in slugs {
        if admin.access(&slug) == Access::None {
            continue;
        }
        // A tenant deleted meanwhile is simply not listed.
        if let Ok(Some(tenant)) = state.store().tenant(&slug).await {
            rows.push(TenantRow {
                slug: tenant.slug.clone(),
                display_name: tenant.config.value.display_name.clone(),
                issuer: tenant.config.value.issuer.clone(),
            });
        }
    }
    let notice = (query.notice.as_deref() == Some("deleted")).then(|| frame.t.get("deleted"));
    let mut page = TenantsPage {
        frame,
        tenants: rows,
        notice,
    };
    let cookie = page.frame.remember_language.take();
    page_with(StatusCode::OK, cookie, &page)
}

struct SnippetView {
    html: String,
    csp: String,
}

#[derive(Template)]
#[template(path = "console/tenant.html")]
struct TenantPage {
    frame: Frame,
    /// The admin may change this tenant.
    can_edit: bool,
    slug: String,
    config: TenantConfig,
    storage: String,
    snippet: Option<SnippetView>,
}

async fn tenant(
    State(state): State<AppState>,
    Signed { admin, frame }: Signed,
    Path(slug): Path<String>,
) -> Response {
    if let Err(error) = admin.require(&slug, Access::View) {
        return failure(frame, error);
    }
    let tenant = match state.tenant(&slug).await {
        Ok(tenant) => tenant,
        Err(error) => return failure(frame, error),
    };
    let config = tenant.config.value.clone();
    let snippet = snippet_for(&state, &tenant.slug, &config.issuer, SignInMode::Redirect)
        .await
        .ok()
        .map(|snippet| SnippetView {
            html: snippet.html,
            csp: snippet.content_security_policy_header,
        });
    let storage = serde_json::to_value(config.token_storage)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut page = TenantPage {
        frame,
        can_edit: admin.access(&tenant.slug) == Access::Edit,
        slug: tenant.slug.clone(),
        config,
        storage,
        snippet,
    };
    let cookie = page.frame.remember_language.take();
    page_with(StatusCode::OK, cookie, &page)
}

async fn tenant_health(
    State(state): State<AppState>,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
) -> Result<axum::Json<health::Health>, ApiError> {
    admin.require(&slug, Access::View)?;
    let tenant = state.tenant(&slug).await?;
    Ok(axum::Json(
        health::check(&tenant.config.value.issuer, &tenant.config.value.audience).await,
    ))
}

#[derive(Template)]
#[template(path = "console/delete.html")]
struct DeletePage {
    frame: Frame,
    slug: String,
    csrf: String,
    mismatch: bool,
}

async fn delete_page(
    State(state): State<AppState>,
    Signed { admin, frame }: Signed,
    Path(slug): Path<String>,
) -> Response {
    if let Err(error) = admin.require_owner() {
        return failure(frame, error);
    }
    let tenant = match state.tenant(&slug).await {
        Ok(tenant) => tenant,
        Err(error) => return failure(frame, error),
    };
    let mut page = DeletePage {
        frame,
        slug: tenant.slug.clone(),
        csrf: admin.session.csrf.clone(),
        mismatch: false,
    };
    let cookie = page.frame.remember_language.take();
    page_with(StatusCode::OK, cookie, &page)
}

#[derive(Debug, Deserialize)]
struct DeleteForm {
    csrf: String,
    confirm: String,
}

async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Result<Response, session::SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let frame = Frame::new(&state, &headers, None, Some(&admin), "tenants");
    if let Err(error) = admin.require_owner() {
        return Ok(failure(frame, error));
    }
    let tenant = match state.tenant(&slug).await {
        Ok(tenant) => tenant,
        Err(error) => return Ok(failure(frame, error)),
    };
    if form.confirm.trim() != tenant.slug {
        return Ok(page_with(
            StatusCode::BAD_REQUEST,
            None,
            &DeletePage {
                frame,
                slug: tenant.slug.clone(),
                csrf: admin.session.csrf.clone(),
                mismatch: true,
            },
        ));
    }
    if let Err(error) = state
        .store()
        .delete_tenant(&admin.actor(), &tenant.slug, tenant.config.version)
        .await
    {
        return Ok(failure(frame, error.into()));
    }
    Ok(Redirect::to("/console/?notice=deleted").into_response())
}

/// One input of the tenant form.
struct Field {
    name: &'static str,
    label: &'static str,
    value: String,
    multiline: bool,
    /// A select's options (empty for a text input).
    choices: &'static [&'static str],
    hint: Option<&'static str>,
    error: Option<String>,
}

impl Field {
    /// The same field as a select of `choices`.
    fn choosing(mut self, choices: &'static [&'static str]) -> Field {
        self.choices = choices;
        self
    }
}

const TOKEN_STORAGE_CHOICES: &[&str] = &["memory", "session_storage"];
const AUDIENCE_REQUEST_CHOICES: &[&str] = &["none", "resource", "audience"];

/// The tenant form's inputs as submitted (or as stored).
#[derive(Debug, Clone, Deserialize)]
struct ConfigForm {
    display_name: String,
    issuer: String,
    client_id: String,
    audience: String,
    audience_request: String,
    redirect_uris: String,
    allowed_origins: String,
    scopes: String,
    default_locale: String,
    enabled_locales: String,
    token_storage: String,
    /// One provider button per line: `Label | parameter=value`.
    providers: String,
}

/// The provider buttons as the edit form shows them.
fn provider_lines(providers: &[ProviderButton]) -> String {
    providers
        .iter()
        .map(|button| {
            format!(
                "{} | {}={}",
                button.label, button.hint_parameter, button.hint_value
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads [`provider_lines`]' format; icons are kept from `current` where
/// the label is unchanged.
fn parse_provider_lines(
    text: &str,
    current: &[ProviderButton],
) -> Result<Vec<ProviderButton>, ValidationError> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .enumerate()
        .map(|(index, line)| {
            let parsed = line.split_once('|').and_then(|(label, hint)| {
                let (parameter, value) = hint.trim().split_once('=')?;
                Some((label.trim(), parameter.trim(), value.trim()))
            });
            let Some((label, parameter, value)) = parsed else {
                return Err(ValidationError::new(
                    format!("providers[{index}]"),
                    format!("line {}: write `Label | parameter=value`", index + 1),
                ));
            };
            Ok(ProviderButton {
                label: label.to_owned(),
                icon: current
                    .iter()
                    .find(|button| button.label == label)
                    .map_or(ProviderIcon::None, |button| button.icon),
                hint_parameter: parameter.to_owned(),
                hint_value: value.to_owned(),
            })
        })
        .collect()
}

impl ConfigForm {
    fn of(config: &TenantConfig) -> ConfigForm {
        ConfigForm {
            display_name: config.display_name.clone(),
            issuer: config.issuer.clone(),
            client_id: config.client_id.clone(),
            audience: config.audience.clone(),
            audience_request: config.audience_request.as_str().to_owned(),
            redirect_uris: config.redirect_uris.join("\n"),
            allowed_origins: config.allowed_origins.join("\n"),
            scopes: config.scopes.join(" "),
            default_locale: config.default_locale.clone(),
            enabled_locales: config.enabled_locales.join(", "),
            token_storage: match config.token_storage {
                TokenStorage::Memory => "memory",
                TokenStorage::SessionStorage => "session_storage",
            }
            .to_owned(),
            providers: provider_lines(&config.providers),
        }
    }

    /// The configuration the form describes, on top of `current` (whose
    /// provider icons the form keeps), validated.
    fn config(&self, current: &TenantConfig) -> Result<TenantConfig, ValidationError> {
        let lines = |text: &str| -> Vec<String> {
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let token_storage = match self.token_storage.as_str() {
            "memory" => TokenStorage::Memory,
            "session_storage" => TokenStorage::SessionStorage,
            _ => {
                return Err(ValidationError::new(
                    "token_storage",
                    "must be memory or session_storage",
                ));
            }
        };
        let audience_request = AudienceRequest::parse(&self.audience_request).ok_or_else(|| {
            ValidationError::new("audience_request", "must be none, resource or audience")
        })?;
        TenantConfig {
            display_name: self.display_name.trim().to_owned(),
            issuer: self.issuer.trim().to_owned(),
            client_id: self.client_id.trim().to_owned(),
            audience: self.audience.trim().to_owned(),
            audience_request,
            redirect_uris: lines(&self.redirect_uris),
            allowed_origins: lines(&self.allowed_origins),
            scopes: self.scopes.split_whitespace().map(str::to_owned).collect(),
            default_locale: self.default_locale.trim().to_owned(),
            enabled_locales: self
                .enabled_locales
                .split(',')
                .map(str::trim)
                .filter(|locale| !locale.is_empty())
                .map(str::to_owned)
                .collect(),
            providers: parse_provider_lines(&self.providers, &current.providers)?,
            token_storage,
        }
        .validated()
    }

    /// The inputs, with `error` beside the one it names.
    fn fields(self, error: Option<&ValidationError>) -> Vec<Field> {
        let named = |name: &str| {
            error
                .filter(|error| {
                    error.field.as_deref().is_some_and(|field| {
                        field == name
                            || field.starts_with(&format!("{name}["))
                            || field.starts_with(&format!("{name}."))
                    })
                })
                .map(|error| error.message.clone())
        };
        let field = |name, label, value, multiline, hint| Field {
            name,
            label,
            value,
            multiline,
            choices: &[],
            hint,
            error: named(name),
        };
        vec![
            field(
                "display_name",
                "field-display-name",
                self.display_name,
                false,
                None,
            ),
            field("issuer", "field-issuer", self.issuer, false, None),
            field("client_id", "field-client-id", self.client_id, false, None),
            field("audience", "field-audience", self.audience, false, None),
            field(
                "audience_request",
                "field-audience-request",
                self.audience_request,
                false,
                Some("hint-audience-request"),
            )
            .choosing(AUDIENCE_REQUEST_CHOICES),
            field(
                "redirect_uris",
                "field-redirect-uris",
                self.redirect_uris,
                true,
                Some("hint-one-per-line"),
            ),
            field(
                "allowed_origins",
                "field-allowed-origins",
                self.allowed_origins,
                true,
                Some("hint-one-per-line"),
            ),
            field(
                "scopes",
                "field-scopes",
                self.scopes,
                false,
                Some("hint-space-separated"),
            ),
            field(
                "default_locale",
                "field-default-locale",
                self.default_locale,
                false,
                None,
            ),
            field(
                "enabled_locales",
                "field-enabled-locales",
                self.enabled_locales,
                false,
                Some("hint-comma-separated"),
            ),
            field(
                "token_storage",
                "field-token-storage",
                self.token_storage,
                false,
                None,
            )
            .choosing(TOKEN_STORAGE_CHOICES),
            field(
                "providers",
                "field-providers",
                self.providers,
                true,
                Some("hint-providers"),
            ),
        ]
    }
}

#[derive(Template)]
#[template(path = "console/edit.html")]
struct EditPage {
    frame: Frame,
    slug: String,
    csrf: String,
    version: i64,
    fields: Vec<Field>,
    problem: Option<String>,
}

async fn edit_page(
    State(state): State<AppState>,
    Signed { admin, mut frame }: Signed,
    Path(slug): Path<String>,
) -> Response {
    if let Err(error) = admin.require(&slug, Access::Edit) {
        return failure(frame, error);
    }
    let tenant = match state.tenant(&slug).await {
        Ok(tenant) => tenant,
        Err(error) => return failure(frame, error),
    };
    let cookie = frame.remember_language.take();
    let page = EditPage {
        frame,
        slug: tenant.slug.clone(),
        csrf: admin.session.csrf.clone(),
        version: tenant.config.version,
        fields: ConfigForm::of(&tenant.config.value).fields(None),
        problem: None,
    };
    page_with(StatusCode::OK, cookie, &page)
}

#[derive(Debug, Deserialize)]
struct EditForm {
    csrf: String,
    version: i64,
    #[serde(flatten)]
    config: ConfigForm,
}

/// Saves the form, or shows it again as submitted with the message next to
/// the field it is about; nothing is saved unless everything is valid and
/// the tenant has not changed since the form was opened.
async fn edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    Form(form): Form<EditForm>,
) -> Result<Response, session::SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let frame = Frame::new(&state, &headers, None, Some(&admin), "tenants");
    if let Err(error) = admin.require(&slug, Access::Edit) {
        return Ok(failure(frame, error));
    }
    let tenant = match state.tenant(&slug).await {
        Ok(tenant) => tenant,
        Err(error) => return Ok(failure(frame, error)),
    };
    let refused = |frame: Frame, error: Option<ValidationError>, problem: Option<String>| {
        page_with(
            StatusCode::BAD_REQUEST,
            None,
            &EditPage {
                slug: tenant.slug.clone(),
                csrf: admin.session.csrf.clone(),
                version: form.version,
                problem,
                fields: form.config.clone().fields(error.as_ref()),
                frame,
            },
        )
    };
    let config = match form.config.config(&tenant.config.value) {
        Ok(config) => config,
        Err(error) => return Ok(refused(frame, Some(error), None)),
    };
    match state
        .store()
        .update_config(&admin.actor(), &tenant.slug, form.version, &config)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/console/tenants/{}", tenant.slug)).into_response()),
        Err(StoreError::Stale(_)) => {
            let problem = frame.t.get("edit-stale").to_owned();
            Ok(refused(frame, None, Some(problem)))
        }
        Err(error @ StoreError::AudienceTaken(_)) => {
            let message = error.to_string();
            Ok(refused(
                frame,
                Some(ValidationError::new("audience", message)),
                None,
            ))
        }
        Err(error) => Ok(failure(frame, error.into())),
    }
}

/// A tenant as a JSON file the import page (or `POST /api/tenants`) takes.
async fn export(
    State(state): State<AppState>,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&slug, Access::View)?;
    let tenant = state.tenant(&slug).await?;
    let document = serde_json::json!({
        "slug": tenant.slug,
        "config": tenant.config.value,
        "theme": tenant.theme.value,
    });
    let body = serde_json::to_string_pretty(&document)
        .map_err(|error| ApiError::Internal(error.into()))?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}.json\"", tenant.slug))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[derive(Template)]
#[template(path = "console/import.html")]
struct ImportPage {
    frame: Frame,
    csrf: String,
    document: String,
    problem: Option<String>,
}

async fn import_page(Signed { admin, mut frame }: Signed) -> Response {
    if let Err(error) = admin.require_owner() {
        return failure(frame, error);
    }
    let cookie = frame.remember_language.take();
    let page = ImportPage {
        frame,
        csrf: admin.session.csrf.clone(),
        document: String::new(),
        problem: None,
    };
    page_with(StatusCode::OK, cookie, &page)
}

#[derive(Debug, Deserialize)]
struct ImportForm {
    csrf: String,
    document: String,
}

async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Form(form): Form<ImportForm>,
) -> Result<Response, session::SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let frame = Frame::new(&state, &headers, None, Some(&admin), "tenants");
    if let Err(error) = admin.require_owner() {
        return Ok(failure(frame, error));
    }
    let created = match serde_json::from_str::<NewTenant>(&form.document) {
        Ok(request) => create_tenant_record(&state, &admin.actor(), request).await,
        Err(error) => Err(ApiError::invalid(
            "document",
            format!("not a tenant document: {error}"),
        )),
    };
    match created {
        Ok(record) => {
            Ok(Redirect::to(&format!("/console/tenants/{}", record.slug)).into_response())
        }
        Err(error) => Ok(page_with(
            StatusCode::BAD_REQUEST,
            None,
            &ImportPage {
                frame,
                csrf: admin.session.csrf.clone(),
                document: form.document,
                problem: Some(error.to_string()),
            },
        )),
    }
}

struct TokenRow {
    id: String,
    tenant: String,
    label: String,
    expires: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "console/tokens.html")]
struct TokensPage {
    frame: Frame,
    csrf: String,
    tokens: Vec<TokenRow>,
    slugs: Vec<String>,
    created: Option<String>,
    problem: Option<String>,
}

async fn tokens_page(
    state: &AppState,
    frame: Frame,
    admin: &ConsoleAdmin,
    created: Option<String>,
    problem: Option<String>,
) -> Response {
    let (tokens, slugs) = match (
        state.store().admin_tokens(None).await,
        state.store().tenant_slugs().await,
    ) {
        (Ok(tokens), Ok(slugs)) => (tokens, slugs),
        (Err(error), _) | (_, Err(error)) => return failure(frame, error.into()),
    };
    let all = frame.t.get("tokens-all-tenants").to_owned();
    let never = frame.t.get("tokens-never").to_owned();
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = TokensPage {
        csrf: admin.session.csrf.clone(),
        tokens: tokens
            .into_iter()
            .map(|token| TokenRow {
                tenant: token.tenant.unwrap_or_else(|| all.clone()),
                expires: timestamp(token.expires_at),
                last_used: token.last_used_at.map_or_else(|| never.clone(), timestamp),
                id: token.id,
                label: token.label,
            })
            .collect(),
        slugs,
        created,
        problem,
        frame,
    };
    page_with(status, None, &page)
}

async fn tokens(State(state): State<AppState>, Signed { admin, mut frame }: Signed) -> Response {
    if let Err(error) = admin.require_owner() {
        return failure(frame, error);
    }
    let cookie = frame.remember_language.take();
    let mut response = tokens_page(&state, frame, &admin, None, None).await;
    if let Some(value) = cookie.and_then(|cookie| HeaderValue::from_str(&cookie).ok()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    csrf: String,
    tenant: String,
    label: String,
    days: String,
}

/// Creates a token and shows its secret once, on this response only.
async fn create_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Form(form): Form<TokenForm>,
) -> Result<Response, session::SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let frame = Frame::new(&state, &headers, None, Some(&admin), "tokens");
    if let Err(error) = admin.require_owner() {
        return Ok(failure(frame, error));
    }
    let tenant = Some(form.tenant.trim()).filter(|tenant| !tenant.is_empty());
    let created = match form.days.trim().parse::<u32>() {
        Ok(days) => match token_lifetime(Some(days)) {
            Ok(lifetime) => {
                create_admin_token(&state, &admin.actor(), tenant, &form.label, lifetime).await
            }
            Err(error) => Err(error),
        },
        Err(_) => Err(ApiError::invalid(
            "days",
            "a whole number of days, 1 to 365",
        )),
    };
    Ok(match created {
        Ok(token) => tokens_page(&state, frame, &admin, Some(token.secret), None).await,
        Err(error) => tokens_page(&state, frame, &admin, None, Some(error.to_string())).await,
    })
}

async fn revoke_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, session::SignedOut> {
    admin.check_csrf(&form.csrf)?;
    if let Err(error) = admin.require_owner() {
        return Ok(failure(
            Frame::new(&state, &headers, None, Some(&admin), "tokens"),
            error,
        ));
    }
    Ok(
        match state
            .store()
            .revoke_admin_token(&admin.actor(), &id, None)
            .await
        {
            Ok(()) => Redirect::to("/console/tokens").into_response(),
            Err(error) => failure(
                Frame::new(&state, &headers, None, Some(&admin), "tokens"),
                error.into(),
            ),
        },
    )
}

#[derive(Template)]
#[template(path = "console/guide.html")]
struct GuidePage {
    frame: Frame,
    name: String,
    /// Rendered by `guides` from the guide's Markdown, raw HTML escaped.
    html: &'static str,
}

/// `GET /console/guides/{name}`: one of the guides of `docs/idp/`.
async fn guide(Signed { mut frame, .. }: Signed, Path(name): Path<String>) -> Response {
    let Some(html) = guides::guide(&name) else {
        return failure(frame, ApiError::NotFound(format!("no guide `{name}`")));
    };
    let cookie = frame.remember_language.take();
    page_with(StatusCode::OK, cookie, &GuidePage { frame, name, html })
}

/// The identity providers the wizard knows, with their guides in
/// `docs/idp/`.
const PRESETS: [Preset; 7] = [
    Preset {
        id: "logto",
        audience_request: AudienceRequest::Resource,
        name: "Logto",
        guide: "logto.md",
    },
    Preset {
        id: "zitadel",
        audience_request: AudienceRequest::None,
        name: "ZITADEL",
        guide: "zitadel.md",
    },
    Preset {
        id: "keycloak",
        audience_request: AudienceRequest::None,
        name: "Keycloak",
        guide: "keycloak.md",
    },
    Preset {
        id: "auth0",
        audience_request: AudienceRequest::Audience,
        name: "Auth0",
        guide: "auth0.md",
    },
    Preset {
        id: "entra-id",
        audience_request: AudienceRequest::None,
        name: "Microsoft Entra ID",
        guide: "entra-id.md",
    },
    Preset {
        id: "google",
        audience_request: AudienceRequest::None,
        name: "Google",
        guide: "google.md",
    },
    Preset {
        id: "generic",
        audience_request: AudienceRequest::None,
        name: "Any OpenID provider",
        guide: "generic.md",
    },
];

/// The sign-in buttons the wizard offers for well-known providers.
const PROVIDERS: [(&str, &str); 4] = [
    ("google", "Google"),
    ("github", "GitHub"),
    ("microsoft", "Microsoft"),
    ("apple", "Apple"),
];

/// The hint (`parameter`, `value`) that makes the IdP of `preset` skip its
/// own chooser and go straight to `provider`, with the names each IdP gives
/// them by default (the guides in `docs/idp/` say where to check them).
/// None where the IdP has no such parameter for it: ZITADEL picks an IdP by
/// a scope, Google and Entra ID are themselves the provider.
fn provider_hint(preset: &str, provider: &str) -> Option<(&'static str, &'static str)> {
    Some(match (preset, provider) {
        // Logto's direct sign-in, `social:<connector target>`.
        ("logto", "google") => ("direct_sign_in", "social:google"),
        ("logto", "github") => ("direct_sign_in", "social:github"),
        ("logto", "microsoft") => ("direct_sign_in", "social:azuread"),
        ("logto", "apple") => ("direct_sign_in", "social:apple"),
        // Keycloak's identity provider alias.
        ("keycloak", "google") => ("kc_idp_hint", "google"),
        ("keycloak", "github") => ("kc_idp_hint", "github"),
        ("keycloak", "microsoft") => ("kc_idp_hint", "microsoft"),
        ("keycloak", "apple") => ("kc_idp_hint", "apple"),
        // Auth0's connection names.
        ("auth0", "google") => ("connection", "google-oauth2"),
        ("auth0", "github") => ("connection", "github"),
        ("auth0", "microsoft") => ("connection", "windowslive"),
        ("auth0", "apple") => ("connection", "apple"),
        // Entra ID's federation with Google.
        ("entra-id", "google") => ("domain_hint", "google.com"),
        _ => return None,
    })
}

/// One provider button the wizard offers for the chosen preset.
struct ProviderChoice {
    id: &'static str,
    label: &'static str,
    hint: String,
    chosen: bool,
}

struct Preset {
    id: &'static str,
    /// How its IdP is asked for a token with the shop's audience.
    audience_request: AudienceRequest,
    name: &'static str,
    guide: &'static str,
}

struct CheckRow {
    what: &'static str,
    ok: bool,
    detail: String,
}

#[derive(Template)]
#[template(path = "console/new.html")]
struct NewPage {
    frame: Frame,
    csrf: String,
    presets: &'static [Preset],
    /// The provider buttons this preset can offer.
    provider_choices: Vec<ProviderChoice>,
    /// The preset's guide, rendered.
    guide_html: &'static str,
    preset: String,
    guide: &'static str,
    client_id: String,
    issuer: String,
    origin: String,
    audience: String,
    checks: Vec<CheckRow>,
    ready: bool,
    fields: Vec<Field>,
    problem: Option<String>,
}

/// The wizard's inputs, as far as they were filled in.
#[derive(Debug, Clone, Default, Deserialize)]
struct NewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    preset: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    origin: String,
    #[serde(default)]
    audience: String,
    slug: Option<String>,
    display_name: Option<String>,
    client_id: Option<String>,
    redirect_uris: Option<String>,
    scopes: Option<String>,
    audience_request: Option<String>,
    /// `on` when the console's test sign-in page is to be a redirect URI.
    try_sign_in: Option<String>,
    /// `on` for each provider button wanted.
    provider_google: Option<String>,
    provider_github: Option<String>,
    provider_microsoft: Option<String>,
    provider_apple: Option<String>,
}

impl NewForm {
    /// Whether the admin asked for the button of `provider`.
    fn wants(&self, provider: &str) -> bool {
        let chosen = match provider {
            "google" => &self.provider_google,
            "github" => &self.provider_github,
            "microsoft" => &self.provider_microsoft,
            "apple" => &self.provider_apple,
            _ => &None,
        };
        chosen.as_deref() == Some("on")
    }

    /// The buttons asked for, with the preset's hints.
    fn providers(&self) -> Vec<ProviderButton> {
        PROVIDERS
            .iter()
            .filter(|(id, _)| self.wants(id))
            .filter_map(|(id, label)| {
                let (parameter, value) = provider_hint(&self.preset, id)?;
                Some(ProviderButton {
                    label: (*label).to_owned(),
                    icon: ProviderIcon::None,
                    hint_parameter: parameter.to_owned(),
                    hint_value: value.to_owned(),
                })
            })
            .collect()
    }

    fn page(
        self,
        frame: Frame,
        csrf: String,
        checks: Vec<checks::Check>,
        error: Option<&ValidationError>,
        problem: Option<String>,
    ) -> NewPage {
        let preset = PRESETS
            .iter()
            .find(|preset| preset.id == self.preset)
            .unwrap_or(&PRESETS[PRESETS.len() - 1]);
        let provider_choices: Vec<ProviderChoice> = PROVIDERS
            .iter()
            .filter_map(|(id, label)| {
                let (parameter, value) = provider_hint(preset.id, id)?;
                Some(ProviderChoice {
                    id,
                    label,
                    hint: format!("{parameter}={value}"),
                    chosen: self.wants(id),
                })
            })
            .collect();
        let ready = ["check-discovery", "check-code-flow", "check-keys"]
            .iter()
            .all(|needed| checks.iter().any(|check| check.what == *needed && check.ok));
        let named = |name: &str| {
            error
                .filter(|error| {
                    error.field.as_deref().is_some_and(|field| {
                        field == name
                            || field == format!("config.{name}")
                            || field.starts_with(&format!("{name}["))
                            || field.starts_with(&format!("config.{name}["))
                    })
                })
                .map(|error| error.message.clone())
        };
        let origin = self.origin.trim().trim_end_matches('/').to_owned();
        let field = |name: &'static str,
                     label,
                     value: Option<String>,
                     fallback: String,
                     multiline,
                     hint| Field {
            name,
            label,
            value: value.unwrap_or(fallback),
            multiline,
            choices: &[],
            hint,
            error: named(name),
        };
        let fields = vec![
            field("slug", "field-slug", self.slug, String::new(), false, None),
            field(
                "display_name",
                "field-display-name",
                self.display_name,
                String::new(),
                false,
                None,
            ),
            field(
                "redirect_uris",
                "field-redirect-uris",
                self.redirect_uris,
                format!("{origin}/"),
                true,
                Some("hint-one-per-line"),
            ),
            field(
                "scopes",
                "field-scopes",
                self.scopes,
                "openid".into(),
                false,
                Some("hint-space-separated"),
            ),
            field(
                "audience_request",
                "field-audience-request",
                self.audience_request,
                preset.audience_request.as_str().into(),
                false,
                Some("hint-audience-request"),
            )
            .choosing(AUDIENCE_REQUEST_CHOICES),
        ];
        NewPage {
            frame,
            csrf,
            provider_choices,
            guide_html: guides::guide(preset.guide).unwrap_or_default(),
            presets: &PRESETS,
            preset: preset.id.to_owned(),
            guide: preset.guide,
            client_id: self.client_id.clone().unwrap_or_default().trim().to_owned(),
            issuer: self.issuer.trim().to_owned(),
            origin,
            audience: self.audience.trim().to_owned(),
            checks: checks
                .into_iter()
                .map(|check| CheckRow {
                    what: check.what,
                    ok: check.ok,
                    detail: check.detail,
                })
                .collect(),
            ready,
            fields,
            problem,
        }
    }
}

async fn new_page(Signed { admin, mut frame }: Signed) -> Response {
    if let Err(error) = admin.require_owner() {
        return failure(frame, error);
    }
    let cookie = frame.remember_language.take();
    let page = NewForm::default().page(frame, admin.session.csrf.clone(), Vec::new(), None, None);
    page_with(StatusCode::OK, cookie, &page)
}

/// Checks the IdP live and, when it can serve a tenant, offers the rest
/// of the form.
async fn new_check(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Form(form): Form<NewForm>,
) -> Result<Response, session::SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let frame = Frame::new(&state, &headers, None, Some(&admin), "tenants");
    if let Err(error) = admin.require_owner() {
        return Ok(failure(frame, error));
    }
    let issuer = form.issuer.trim();
    let origin = form.origin.trim().trim_end_matches('/');
    // The same rules as a tenant's: an issuer URL and a web origin.
    let refused = if let Err(why) = crate::urls::IssuerUrl::parse(issuer) {
        Some(format!("{}: {why}", frame.t.get("field-issuer")))
    } else if let Err(why) = crate::urls::Origin::parse(origin) {
        Some(format!("{}: {why}", frame.t.get("new-origin")))
    } else {
        None
    };
    let checks = match refused {
        Some(_) => Vec::new(),
        None => {
            checks::check(
                &form.preset,
                issuer,
                origin,
                form.audience.trim(),
                form.client_id.as_deref().unwrap_or_default().trim(),
            )
            .await
        }
    };
    let status = if refused.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = form.page(frame, admin.session.csrf.clone(), checks, None, refused);
    Ok(page_with(status, None, &page))
}

/// Creates the tenant the wizard describes; a refusal comes back with its
/// message beside the field, and nothing is created.
async fn new_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Form(form): Form<NewForm>,
) -> Result<Response, session::SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let frame = Frame::new(&state, &headers, None, Some(&admin), "tenants");
    if let Err(error) = admin.require_owner() {
        return Ok(failure(frame, error));
    }
    let origin = form.origin.trim().trim_end_matches('/').to_owned();
    let lines = |text: &Option<String>| -> Vec<String> {
        text.as_deref()
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let slug = form.slug.clone().unwrap_or_default().trim().to_owned();
    let mut redirect_uris = lines(&form.redirect_uris);
    // The console's own page for trying sign-in, when asked for (a bad slug
    // is refused below, beside its field).
    if form.try_sign_in.as_deref() == Some("on") && crate::model::validate_slug(&slug).is_ok() {
        let url = try_url(&state, &slug);
        if !redirect_uris.contains(&url) {
            redirect_uris.push(url);
        }
    }
    let audience_request =
        AudienceRequest::parse(form.audience_request.as_deref().unwrap_or("none"));
    let request = NewTenant {
        slug,
        config: TenantConfig {
            display_name: form
                .display_name
                .clone()
                .unwrap_or_default()
                .trim()
                .to_owned(),
            issuer: form.issuer.trim().to_owned(),
            client_id: form.client_id.clone().unwrap_or_default().trim().to_owned(),
            audience: form.audience.trim().to_owned(),
            audience_request: audience_request.unwrap_or_default(),
            allowed_origins: vec![origin],
            redirect_uris,
            scopes: form
                .scopes
                .as_deref()
                .unwrap_or("openid")
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            default_locale: "en".into(),
            enabled_locales: vec!["en".into(), "ru".into()],
            providers: form.providers(),
            token_storage: TokenStorage::Memory,
        },
        theme_preset: None,
        theme: None,
    };
    let created = match audience_request {
        Some(_) => create_tenant_record(&state, &admin.actor(), request).await,
        None => Err(ApiError::invalid(
            "audience_request",
            "must be none, resource or audience",
        )),
    };
    match created {
        Ok(record) => {
            Ok(Redirect::to(&format!("/console/tenants/{}", record.slug)).into_response())
        }
        Err(ApiError::Invalid { field, message }) => {
            let error = ValidationError {
                field,
                message: message.clone(),
            };
            // The checks passed to get here; the form is offered again.
            let passed = ["check-discovery", "check-code-flow", "check-keys"]
                .into_iter()
                .map(|what| checks::Check {
                    what,
                    ok: true,
                    detail: String::new(),
                })
                .collect();
            let page = form.page(
                frame,
                admin.session.csrf.clone(),
                passed,
                Some(&error),
                Some(message),
            );
            Ok(page_with(StatusCode::BAD_REQUEST, None, &page))
        }
        Err(error) => Ok(failure(frame, error)),
    }
}

/// One changed leaf of an audited document.
struct Change {
    path: String,
    before: String,
    after: String,
}

struct AuditRow {
    when: String,
    actor: String,
    action: String,
    tenant: String,
    resource: String,
    changes: Vec<Change>,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    frame: Frame,
    slugs: Vec<String>,
    actions: [&'static str; 4],
    tenant: Option<String>,
    action: Option<String>,
    entries: Vec<AuditRow>,
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    lang: Option<String>,
    tenant: Option<String>,
    action: Option<String>,
}

/// How many audit rows the page reads.
const AUDIT_ROWS: i64 = 500;

async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Query(query): Query<AuditQuery>,
) -> Response {
    let frame = Frame::new(
        &state,
        &headers,
        query.lang.as_deref(),
        Some(&admin),
        "audit",
    );
    let (entries, slugs) = match (
        state.store().instance_audit_log(AUDIT_ROWS).await,
        state.store().tenant_slugs().await,
    ) {
        (Ok(entries), Ok(slugs)) => (entries, slugs),
        (Err(error), _) | (_, Err(error)) => return failure(frame, error.into()),
    };
    let tenant = query.tenant.filter(|tenant| !tenant.is_empty());
    let action = query.action.filter(|action| !action.is_empty());
    // An owner reads every row; anyone else only the rows of tenants they
    // may see (instance rows, such as all-tenants tokens, are the owners').
    let visible = |slug: Option<&str>| {
        admin.is_owner() || slug.is_some_and(|slug| admin.access(slug) != Access::None)
    };
    let slugs: Vec<String> = slugs
        .into_iter()
        .filter(|slug| visible(Some(slug)))
        .collect();
    let entries = entries
        .into_iter()
        .filter(|entry| visible(entry.tenant.as_deref()))
        .filter(|entry| tenant.is_none() || entry.tenant == tenant)
        .filter(|entry| action.is_none() || action.as_deref() == Some(entry.action.as_str()))
        .map(|entry| AuditRow {
            when: timestamp(entry.at),
            changes: changes(entry.before.as_deref(), entry.after.as_deref()),
            actor: entry.actor,
            action: entry.action,
            tenant: entry.tenant.unwrap_or_default(),
            resource: entry.resource,
        })
        .collect();
    let mut page = AuditPage {
        frame,
        slugs,
        actions: ["create", "update", "delete", "revoke"],
        tenant,
        action,
        entries,
    };
    let cookie = page.frame.remember_language.take();
    page_with(StatusCode::OK, cookie, &page)
}

/// Unix seconds as an RFC 3339 UTC time.
fn timestamp(at: i64) -> String {
    cookie::time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|time| {
            time.format(&cookie::time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| at.to_string())
}

/// The leaves that differ between two audited JSON documents, by path.
fn changes(before: Option<&str>, after: Option<&str>) -> Vec<Change> {
    fn flatten(prefix: String, value: &Value, into: &mut BTreeMap<String, String>) {
        match value {
            Value::Object(members) if !members.is_empty() => {
                for (key, member) in members {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    flatten(path, member, into);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for (index, item) in items.iter().enumerate() {
                    flatten(format!("{prefix}[{index}]"), item, into);
                }
            }
            leaf => {
                let mut text = leaf.to_string();
                if text.chars().count() > 200 {
                    text = text.chars().take(200).chain(['…']).collect();
                }
                into.insert(prefix, text);
            }
        }
    }
    let leaves = |document: Option<&str>| {
        let mut leaves = BTreeMap::new();
        if let Some(value) = document.and_then(|text| serde_json::from_str::<Value>(text).ok()) {
            flatten(String::new(), &value, &mut leaves);
        }
        leaves
    };
    let (before, after) = (leaves(before), leaves(after));
    let mut paths: Vec<&String> = before.keys().chain(after.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter(|path| before.get(*path) != after.get(*path))
        .map(|path| Change {
            path: path.clone(),
            before: before.get(path).cloned().unwrap_or_default(),
            after: after.get(path).cloned().unwrap_or_default(),
        })
        .collect()
}

async fn asset(Path(file): Path<String>) -> Response {
    let Some(asset) = assets::by_name(&file) else {
        return ApiError::NotFound(format!("no console file `{file}`")).into_response();
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    // Public files; the studio's sandboxed preview frames (an opaque
    // origin) load them with CORS, which Subresource Integrity needs.
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_list_the_leaves_that_differ() {
        let found = changes(
            Some(r#"{"a":1,"b":{"c":"x","d":[1,2]},"gone":true}"#),
            Some(r#"{"a":1,"b":{"c":"y","d":[1,3]},"new":null}"#),
        );
        let paths: Vec<(&str, &str, &str)> = found
            .iter()
            .map(|change| {
                (
                    change.path.as_str(),
                    change.before.as_str(),
                    change.after.as_str(),
                )
            })
            .collect();
        assert_eq!(
            paths,
            [
                ("b.c", "\"x\"", "\"y\""),
                ("b.d[1]", "2", "3"),
                ("gone", "true", ""),
                ("new", "", "null"),
            ]
        );
        assert!(changes(None, Some("not json")).is_empty());
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
    }
}
