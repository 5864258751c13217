//! Test sign-in: the snippet a shop pastes, on a console page, signs in at
//! the tenant's real IdP in a popup, and the console shows the passport
//! the IdP issued, as the shop's API would verify it, flagging every
//! personal-data claim the IdP sends (in the access token, or in the ID
//! token, whose personal claims the widget withholds from the page and
//! reports by name).
//!
//! The page is the tenant's redirect URI [`try_url`], which the tenant and
//! its IdP must list, like any shop page. The popup's return from the IdP
//! is a cross-site navigation that carries no `SameSite=Strict` session
//! cookie, so the page also renders without a session: then it shows only
//! the widget, which hands the callback to the console page that opened
//! the popup. It holds nothing a shop's page does not show anyway.
//!
//! What it is not: a way to the tokens. The console's script never sees
//! them; `Tessera.fetch` attaches the access token to the one same-origin
//! request that asks the server to verify it, and the answer holds claim
//! names and the values of non-personal claims only.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_verifier::PERSONAL_DATA_CLAIMS;

use super::session::{Access, ConsoleAdmin, SignedOut};
use super::{Frame, failure, health, page_under};
use crate::AppState;
use crate::admin::{SignInMode, snippet_for};
use crate::error::ApiError;
use crate::extract::Path;
use crate::store::StoreError;

/// The console's test sign-in page for `slug`: a redirect URI to register
/// at the tenant and at its IdP.
pub fn try_url(state: &AppState, slug: &str) -> String {
    format!("{}/console/tenants/{slug}/try", state.public_url())
}

/// The page's policy: the snippet's own directives (so the page doubles as
/// a check of the policy a shop is told to set), and the console's
/// restrictions for everything else.
pub(super) fn policy(directives: &BTreeMap<String, String>) -> String {
    let mut policy = vec![
        "default-src 'none'".to_owned(),
        "form-action 'self'".to_owned(),
        "frame-ancestors 'none'".to_owned(),
        "base-uri 'none'".to_owned(),
    ];
    policy.extend(
        directives
            .iter()
            .map(|(directive, value)| format!("{directive} {value}")),
    );
    policy.join("; ")
}

#[derive(Template)]
#[template(path = "console/try.html")]
struct TryPage {
    frame: Frame,
    slug: String,
    /// The snippet as a shop pastes it (popup mode), built by
    /// [`snippet_for`] with its attributes escaped.
    snippet: String,
    /// Signed in with access to the tenant: the passport panel is shown.
    console: bool,
    /// This page is one of the tenant's redirect URIs.
    registered: bool,
    url: String,
    can_edit: bool,
    csrf: String,
}

/// `GET /console/tenants/{slug}/try`.
pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    admin: Result<ConsoleAdmin, SignedOut>,
    Path(slug): Path<String>,
) -> Response {
    let admin = match admin {
        Ok(admin) => Some(admin),
        Err(SignedOut::NoSession) => None,
        Err(other) => return other.into_response(),
    };
    let chosen = query.as_deref().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "lang")
            .map(|(_, value)| value.into_owned())
    });
    let mut frame = Frame::new(
        &state,
        &headers,
        chosen.as_deref(),
        admin.as_ref(),
        "tenants",
    );
    if let Some(admin) = &admin
        && let Err(error) = admin.require(&slug, Access::View)
    {
        return failure(frame, error);
    }
    let tenant = match state.tenant(&slug).await {
        Ok(tenant) => tenant,
        Err(error) => return failure(frame, error),
    };
    let snippet = match snippet_for(
        &state,
        &tenant.slug,
        &tenant.config.value.issuer,
        SignInMode::Popup,
    )
    .await
    {
        Ok(snippet) => snippet,
        Err(error) => return failure(frame, error),
    };
    let url = try_url(&state, &tenant.slug);
    let cookie = frame.remember_language.take();
    let page = TryPage {
        slug: tenant.slug.clone(),
        snippet: snippet.html,
        console: admin.is_some(),
        registered: tenant.config.value.redirect_uris.contains(&url),
        url,
        can_edit: admin
            .as_ref()
            .is_some_and(|admin| admin.access(&tenant.slug) == Access::Edit),
        csrf: admin
            .as_ref()
            .map(|admin| admin.session.csrf.clone())
            .unwrap_or_default(),
        frame,
    };
    page_under(
        StatusCode::OK,
        cookie,
        page.render(),
        &policy(&snippet.content_security_policy),
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct PassportForm {
    csrf: String,
    /// The names of the personal-data claims the widget withheld from the
    /// page (its passport's `withheld`), comma-separated.
    #[serde(default)]
    withheld: String,
}

/// One claim of the passport, as the console shows it.
#[derive(Debug, Serialize)]
pub(super) struct ClaimRow {
    name: String,
    /// The value as JSON text; empty for a personal-data claim, whose
    /// value the console does not show.
    value: String,
    personal: bool,
}

/// What the console's script shows after a test sign-in.
#[derive(Debug, Serialize)]
pub(super) struct TryResult {
    /// The access token verified as the shop's API would verify it.
    ok: bool,
    /// Why not, when it did not.
    problem: String,
    subject: String,
    /// The access token's claims.
    claims: Vec<ClaimRow>,
    /// Personal-data claims the IdP put into the ID token (the widget kept
    /// them from the page), by name.
    withheld: Vec<String>,
}

/// `POST /console/tenants/{slug}/try/passport`, with the access token the
/// widget attached: verified for the tenant's issuer and audience, under
/// every rule a shop's backend applies, and shown claim by claim.
pub(super) async fn passport(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    Form(form): Form<PassportForm>,
) -> Result<axum::Json<TryResult>, Response> {
    admin
        .check_csrf(&form.csrf)
        .map_err(IntoResponse::into_response)?;
    admin
        .require(&slug, Access::View)
        .map_err(IntoResponse::into_response)?;
    let tenant = state
        .tenant(&slug)
        .await
        .map_err(IntoResponse::into_response)?;
    // Only names this server knows as personal data: the text comes from
    // the page, and what the console shows is its own.
    let withheld: Vec<String> = form
        .withheld
        .split(',')
        .map(str::trim)
        .filter(|name| PERSONAL_DATA_CLAIMS.contains(name))
        .map(str::to_owned)
        .collect();
    let mut result = TryResult {
        ok: false,
        problem: String::new(),
        subject: String::new(),
        claims: Vec::new(),
        withheld,
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(token) = token else {
        result.problem = "the widget attached no access token".into();
        return Ok(axum::Json(result));
    };
    let config = &tenant.config.value;
    let verified = match health::remote(&config.issuer, &config.audience) {
        Ok(remote) => remote
            .verify(token)
            .await
            .map_err(|error| error.to_string()),
        Err(problem) => Err(problem),
    };
    match verified {
        Ok(passport) => {
            result.ok = true;
            result.subject = passport.subject().unwrap_or_default().to_owned();
            result.claims = passport
                .claims()
                .iter()
                .map(|(name, value)| {
                    let personal = PERSONAL_DATA_CLAIMS.contains(&name.as_str());
                    ClaimRow {
                        name: name.clone(),
                        value: if personal {
                            String::new()
                        } else {
                            value_text(value)
                        },
                        personal,
                    }
                })
                .collect();
        }
        // Not 401: `Tessera.fetch` would take that for a rejected passport
        // and end the session; the admin reads why instead.
        Err(problem) => result.problem = problem,
    }
    Ok(axum::Json(result))
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct RegisterForm {
    csrf: String,
}

/// `POST /console/tenants/{slug}/try/register`: adds the test page to the
/// tenant's redirect URIs (an audited change, like any edit).
pub(super) async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    Form(form): Form<RegisterForm>,
) -> Result<Response, SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let frame = Frame::new(&state, &headers, None, Some(&admin), "tenants");
    if let Err(error) = admin.require(&slug, Access::Edit) {
        return Ok(failure(frame, error));
    }
    let tenant = match state.tenant(&slug).await {
        Ok(tenant) => tenant,
        Err(error) => return Ok(failure(frame, error)),
    };
    let url = try_url(&state, &tenant.slug);
    let mut config = tenant.config.value.clone();
    if !config.redirect_uris.contains(&url) {
        config.redirect_uris.push(url);
        let config = match config.validated() {
            Ok(config) => config,
            Err(error) => return Ok(failure(frame, error.into())),
        };
        let written = state
            .store()
            .update_config(&admin.actor(), &tenant.slug, tenant.config.version, &config)
            .await;
        match written {
            Ok(_) => {}
            Err(StoreError::Stale(_)) => {
                let message = frame.t.get("edit-stale").to_owned();
                return Ok(failure(frame, ApiError::Conflict(message)));
            }
            Err(error) => return Ok(failure(frame, error.into())),
        }
    }
    Ok(Redirect::to(&format!("/console/tenants/{}/try", tenant.slug)).into_response())
}
