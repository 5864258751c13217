//! The snippet a shop owner pastes, and the Content-Security-Policy their
//! page needs for it: `connect-src` comes from the IdP's discovery document
//! (`discovery.rs`).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Admin;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::urls::IssuerUrl;

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
pub(super) struct SnippetQuery {
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
    // The preloads start what the widget's first view needs (its document:
    // texts, configuration, signed-out markup, negotiated from
    // Accept-Language; the two stylesheets) while the script is still
    // loading: the loader's requests for the same addresses take those
    // responses.
    let tenant = html_attribute(slug);
    let origin = html_attribute(server);
    let mut html = format!(
        "<script type=\"module\" src=\"{server}/widget/v1/tessera.js\" integrity=\"{integrity}\" crossorigin=\"anonymous\"></script>\n\
         <tessera-login tenant=\"{tenant}\" server=\"{origin}\"{}></tessera-login>\n\
         <link rel=\"preload\" href=\"{origin}/t/{tenant}/start/auto.json\" as=\"fetch\" crossorigin=\"anonymous\">\n\
         <link rel=\"preload\" href=\"{origin}/t/{tenant}/theme.css\" as=\"style\">",
        match mode {
            SignInMode::Redirect => "",
            SignInMode::Popup => " mode=\"popup\"",
        },
    );
    if let Some(stylesheet) = state.assets().stylesheet() {
        html.push_str(&format!(
            "\n<link rel=\"preload\" href=\"{origin}/widget/v1/{}\" as=\"style\">",
            html_attribute(stylesheet)
        ));
    }
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
    // A theme's own font, from `fonts.css` linked in the page's document.
    directives.insert("font-src".to_owned(), server.to_owned());
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
pub(super) async fn snippet(
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
