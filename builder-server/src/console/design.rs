//! A tenant's design history in the console: every revision with its
//! author, time, note and what it changed from the one before; publishing
//! or rolling back; a revision exported as JSON, a JSON design imported as
//! a draft (validated like any save), and a revision copied to another
//! tenant as a draft there.
//!
//! What it is not: the store's rules. Conflicts and the published switch
//! are `store::design`'s; validation is `admin::design`'s.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::session::{Access, ConsoleAdmin, SignedOut};
use super::{Frame, Signed, changes, failure, page_with};
use crate::AppState;
use crate::admin::design::{validate_design, validate_note};
use crate::error::ApiError;
use crate::extract::{Form, Path};
use crate::store::Design;

#[derive(Debug, Deserialize)]
pub(super) struct PublishForm {
    csrf: String,
    revision: i64,
}

/// `POST /console/tenants/{slug}/design/publish`: publishes (or rolls back
/// to) a revision.
pub(super) async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    Form(form): Form<PublishForm>,
) -> Result<Response, SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let frame = Frame::new(&state, &headers, None, Some(&admin), "tenants");
    if let Err(error) = admin.require(&slug, Access::Edit) {
        return Ok(failure(frame, error));
    }
    match state
        .store()
        .publish_design(&admin.actor(), &slug, form.revision)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/console/tenants/{slug}/design")).into_response()),
        Err(error) => Ok(failure(frame, error.into())),
    }
}

/// One revision in the history page.
struct HistoryRow {
    number: i64,
    author: String,
    at: String,
    note: String,
    published: bool,
    /// Publishing it rolls back (it is older than the published one).
    older: bool,
    changes: Vec<super::Change>,
}

#[derive(Template)]
#[template(path = "console/design.html")]
struct HistoryPage {
    frame: Frame,
    slug: String,
    csrf: String,
    can_edit: bool,
    rows: Vec<HistoryRow>,
    /// The newest revision: an import starts from it.
    head: i64,
    /// Other tenants this admin edits: where a revision can be copied.
    targets: Vec<String>,
    problem: Option<String>,
}

/// How many revisions the history page shows, newest first.
const HISTORY_ROWS: usize = 50;

/// `GET /console/tenants/{slug}/design`: the revisions with what each
/// changed from the one before it.
pub(super) async fn history(
    State(state): State<AppState>,
    Signed { admin, mut frame }: Signed,
    Path(slug): Path<String>,
) -> Response {
    if let Err(error) = admin.require(&slug, Access::View) {
        return failure(frame, error);
    }
    let history = match state.store().design_history(&slug).await {
        Ok(history) => history,
        Err(error) => return failure(frame, error.into()),
    };
    let mut documents: BTreeMap<i64, String> = BTreeMap::new();
    let shown: Vec<_> = history.revisions.iter().take(HISTORY_ROWS + 1).collect();
    for summary in &shown {
        match state.store().design_revision(&slug, summary.number).await {
            Ok(revision) => {
                let text = serde_json::to_string(&revision.design).unwrap_or_default();
                documents.insert(revision.number, text);
            }
            Err(error) => return failure(frame, error.into()),
        }
    }
    let rows = shown
        .iter()
        .take(HISTORY_ROWS)
        .map(|summary| {
            let before = documents
                .range(..summary.number)
                .next_back()
                .map(|(_, text)| text.as_str());
            HistoryRow {
                number: summary.number,
                author: summary.author.clone(),
                at: super::timestamp(summary.created_at),
                note: summary.note.clone(),
                published: summary.number == history.published,
                older: summary.number < history.published,
                changes: changes(before, documents.get(&summary.number).map(String::as_str)),
            }
        })
        .collect();
    let mut targets = state.store().tenant_slugs().await.unwrap_or_default();
    targets.retain(|target| *target != slug && admin.access(target) == Access::Edit);
    let cookie = frame.remember_language.take();
    let page = HistoryPage {
        frame,
        can_edit: admin.access(&slug) == Access::Edit,
        csrf: admin.session.csrf.clone(),
        head: history.head,
        targets,
        slug,
        rows,
        problem: None,
    };
    page_with(StatusCode::OK, cookie, &page)
}

/// `GET /console/tenants/{slug}/design/{revision}/export`: a revision's
/// design as the JSON file `import` (and `tessera design save`) read.
pub(super) async fn export(
    State(state): State<AppState>,
    admin: ConsoleAdmin,
    Path((slug, number)): Path<(String, i64)>,
) -> Result<Response, ApiError> {
    admin.require(&slug, Access::View)?;
    let revision = state.store().design_revision(&slug, number).await?;
    let body = serde_json::to_string_pretty(&revision.design)
        .map_err(|error| ApiError::Internal(error.into()))?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(disposition) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{slug}-design-{number}.json\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(super) struct ImportForm {
    csrf: String,
    base: i64,
    design: String,
    #[serde(default)]
    note: String,
}

/// The largest design document the import takes, in bytes.
const MAX_IMPORT_BYTES: usize = 256 * 1024;

/// `POST /console/tenants/{slug}/design/import`: a JSON design saved as a
/// draft, validated like any save; a refusal names the field.
pub(super) async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    Form(form): Form<ImportForm>,
) -> Result<Response, SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let frame = Frame::new(&state, &headers, None, Some(&admin), "tenants");
    if let Err(error) = admin.require(&slug, Access::Edit) {
        return Ok(failure(frame, error));
    }
    let parsed = if form.design.len() > MAX_IMPORT_BYTES {
        Err(ApiError::invalid(
            "design",
            "the design is larger than 256 KiB",
        ))
    } else {
        serde_json::from_str::<Design>(&form.design).map_err(|error| {
            ApiError::invalid(
                "design",
                format!("not a design ({{\"theme\", \"texts\"}}): {error}"),
            )
        })
    };
    let saved = match parsed.and_then(|design| {
        validate_note(&form.note)?;
        validate_design(&design)?;
        Ok(design)
    }) {
        Ok(design) => state
            .store()
            .save_design(&admin.actor(), &slug, form.base, &design, form.note.trim())
            .await
            .map_err(ApiError::from),
        Err(error) => Err(error),
    };
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("/console/tenants/{slug}/design")).into_response()),
        Err(error) => Ok(failure(frame, error)),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct CopyForm {
    csrf: String,
    revision: i64,
    target: String,
}

/// `POST /console/tenants/{slug}/design/copy`: a revision of this tenant
/// saved as a draft of another (from that tenant's newest revision).
pub(super) async fn copy(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    Form(form): Form<CopyForm>,
) -> Result<Response, SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let frame = Frame::new(&state, &headers, None, Some(&admin), "tenants");
    let allowed = admin
        .require(&slug, Access::View)
        .and_then(|()| admin.require(&form.target, Access::Edit));
    if let Err(error) = allowed {
        return Ok(failure(frame, error));
    }
    let copied = async {
        let revision = state.store().design_revision(&slug, form.revision).await?;
        let head = state.store().design_history(&form.target).await?.head;
        let note = format!("copied from {slug}, revision {}", form.revision);
        // The font files the theme names go with it.
        state
            .store()
            .copy_font_files(&admin.actor(), &slug, &form.target, &revision.design.theme)
            .await?;
        state
            .store()
            .save_design(&admin.actor(), &form.target, head, &revision.design, &note)
            .await
    }
    .await;
    match copied {
        Ok(_) => {
            Ok(Redirect::to(&format!("/console/tenants/{}/design", form.target)).into_response())
        }
        Err(error) => Ok(failure(frame, error.into())),
    }
}
