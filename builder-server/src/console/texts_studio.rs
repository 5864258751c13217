//! The texts editor: a tenant's words per locale, message by message, with
//! the English base and the built-in translation beside the tenant's
//! override; each override checked as it is typed (the same rules as the
//! API: known ids, printable, `{placeholder}` syntax and the English
//! text's placeholders); how complete each locale is; saved as a draft
//! revision of the design, like the theme.
//!
//! What it is not: the catalogue. Built-in translations are `i18n/*.ftl`;
//! overrides are checked by `i18n::validate_overrides`.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::session::{Access, ConsoleAdmin, SignedOut};
use super::studio::{Editing, PreviewFrame, studio_policy};
use super::{Frame, Signed, failure, page_under};
use crate::AppState;
use crate::admin::design::{validate_design, validate_note};
use crate::error::ApiError;
use crate::extract::{Form, Path, Query};
use crate::i18n::{self, Messages};
use crate::public::preview_signature;
use crate::store::{Design, StoreError};
use crate::validation::ValidationError;

/// One message as the editor shows it.
struct MessageRow {
    id: String,
    english: String,
    built_in: Option<String>,
    value: String,
    error: Option<String>,
}

/// How complete one locale is.
struct Completeness {
    locale: &'static str,
    /// Messages with a built-in translation or an override.
    translated: usize,
    total: usize,
    overrides: usize,
    chosen: bool,
}

#[derive(Template)]
#[template(path = "console/texts.html")]
struct TextsPage {
    frame: Frame,
    slug: String,
    csrf: String,
    base: i64,
    from: i64,
    locale: String,
    can_edit: bool,
    rows: Vec<MessageRow>,
    locales: Vec<Completeness>,
    note: String,
    problem: Option<String>,
    /// The revision's words in the widget: this locale and the
    /// pseudo-locale (to find what overflows).
    previews: Vec<PreviewFrame>,
}

#[derive(Debug, Deserialize)]
pub(super) struct TextsQuery {
    locale: Option<String>,
    revision: Option<i64>,
}

/// The form name of a message's override input.
fn input_name(id: &str) -> String {
    format!("message.{id}")
}

fn catalog() -> Result<&'static BTreeMap<String, Messages>, ApiError> {
    i18n::catalog().map_err(|why| ApiError::Internal(anyhow::anyhow!(why)))
}

fn checked_locale(locale: &str) -> Result<&'static str, ApiError> {
    i18n::BASE_LOCALES
        .iter()
        .find(|known| **known == locale)
        .copied()
        .ok_or_else(|| {
            ApiError::invalid(
                "locale",
                format!(
                    "`{locale}` is not a supported locale: {}",
                    i18n::BASE_LOCALES.join(", ")
                ),
            )
        })
}

#[allow(clippy::too_many_arguments)]
fn texts_page(
    frame: Frame,
    slug: &str,
    csrf: String,
    (base, from): (i64, i64),
    locale: &'static str,
    can_edit: bool,
    texts: &BTreeMap<String, Messages>,
    values: &HashMap<String, String>,
    error: Option<&ValidationError>,
    note: String,
    problem: Option<String>,
    signature: &str,
) -> Result<TextsPage, ApiError> {
    let catalog = catalog()?;
    let english = catalog.get("en").cloned().unwrap_or_default();
    let failed = error.and_then(|error| error.field.clone());
    let rows = english
        .iter()
        .map(|(id, text)| MessageRow {
            id: id.clone(),
            english: text.clone(),
            built_in: catalog
                .get(locale)
                .and_then(|messages| messages.get(id))
                .cloned(),
            value: values.get(&input_name(id)).cloned().unwrap_or_default(),
            error: error
                .filter(|_| failed.as_deref() == Some(&format!("texts.{locale}.{id}")))
                .map(|error| error.message.clone()),
        })
        .collect();
    let locales = i18n::BASE_LOCALES
        .iter()
        .map(|candidate| {
            let built_in = catalog.get(*candidate);
            let overrides = texts.get(*candidate);
            Completeness {
                locale: candidate,
                translated: english
                    .keys()
                    .filter(|id| {
                        built_in.is_some_and(|messages| messages.contains_key(*id))
                            || overrides.is_some_and(|messages| messages.contains_key(*id))
                    })
                    .count(),
                total: english.len(),
                overrides: overrides.map_or(0, BTreeMap::len),
                chosen: *candidate == locale,
            }
        })
        .collect();
    Ok(TextsPage {
        frame,
        slug: slug.to_owned(),
        csrf,
        base,
        from,
        locale: locale.to_owned(),
        can_edit,
        rows,
        locales,
        note,
        problem,
        previews: [locale, i18n::PSEUDO_LOCALE]
            .into_iter()
            .map(|shown| PreviewFrame::new(slug, (from, signature), "light", shown, 360))
            .collect(),
    })
}

/// The inputs' values for one locale's overrides.
fn values_of(overrides: Option<&Messages>) -> HashMap<String, String> {
    overrides
        .into_iter()
        .flatten()
        .map(|(id, text)| (input_name(id), text.clone()))
        .collect()
}

/// `GET /console/tenants/{slug}/texts[?locale=&revision=]`.
pub(super) async fn page(
    State(state): State<AppState>,
    Signed { admin, mut frame }: Signed,
    Path(slug): Path<String>,
    Query(query): Query<TextsQuery>,
) -> Response {
    if let Err(error) = admin.require(&slug, Access::View) {
        return failure(frame, error);
    }
    let tenant = match state.tenant(&slug).await {
        Ok(tenant) => tenant,
        Err(error) => return failure(frame, error),
    };
    let locale = match checked_locale(
        query
            .locale
            .as_deref()
            .unwrap_or(&tenant.config.value.default_locale),
    ) {
        Ok(locale) => locale,
        Err(error) => return failure(frame, error),
    };
    let editing = match Editing::load(&state, &slug, query.revision).await {
        Ok(editing) => editing,
        Err(error) => return failure(frame, error),
    };
    let (from, history) = (editing.revision.number, &editing);
    let texts = editing.revision.design.texts.clone();
    let cookie = frame.remember_language.take();
    match texts_page(
        frame,
        &tenant.slug,
        admin.session.csrf.clone(),
        (history.head, from),
        locale,
        admin.access(&tenant.slug) == Access::Edit,
        &texts,
        &values_of(texts.get(locale)),
        None,
        String::new(),
        None,
        &preview_signature(&state, &tenant, from),
    ) {
        Ok(page) => page_under(StatusCode::OK, cookie, page.render(), &studio_policy()),
        Err(error) => error.into_response(),
    }
}

/// `POST /console/tenants/{slug}/texts`: saves the locale's overrides (the
/// non-empty inputs) as a new draft revision, the theme and other locales
/// as they were in the revision the form came from.
pub(super) async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Result<Response, SignedOut> {
    admin.check_csrf(values.get("csrf").map_or("", String::as_str))?;
    let frame = Frame::new(&state, &headers, None, Some(&admin), "tenants");
    if let Err(error) = admin.require(&slug, Access::Edit) {
        return Ok(failure(frame, error));
    }
    let number = |name: &str| values.get(name).and_then(|value| value.parse::<i64>().ok());
    let (Some(base), Some(from)) = (number("base"), number("from")) else {
        return Ok(failure(
            frame,
            ApiError::invalid(
                "base",
                "the form lost its revision numbers: reload the page",
            ),
        ));
    };
    let locale = match checked_locale(values.get("locale").map_or("", String::as_str)) {
        Ok(locale) => locale,
        Err(error) => return Ok(failure(frame, error)),
    };
    let revision = match state.store().design_revision(&slug, from).await {
        Ok(revision) => revision,
        Err(error) => return Ok(failure(frame, error.into())),
    };
    let overrides: Messages = values
        .iter()
        .filter_map(|(name, value)| {
            let id = name.strip_prefix("message.")?;
            let value = value.trim();
            (!value.is_empty()).then(|| (id.to_owned(), value.to_owned()))
        })
        .collect();
    let mut texts = revision.design.texts.clone();
    if overrides.is_empty() {
        texts.remove(locale);
    } else {
        texts.insert(locale.to_owned(), overrides);
    }
    let note = values.get("note").cloned().unwrap_or_default();
    let signature = match state.tenant(&slug).await {
        Ok(tenant) => preview_signature(&state, &tenant, from),
        Err(error) => return Ok(failure(frame, error)),
    };
    let render = |frame: Frame,
                  status: StatusCode,
                  error: Option<&ValidationError>,
                  problem: Option<String>| {
        match texts_page(
            frame,
            &slug,
            admin.session.csrf.clone(),
            (base, from),
            locale,
            true,
            &texts,
            &values,
            error,
            note.clone(),
            problem,
            &signature,
        ) {
            Ok(page) => page_under(status, None, page.render(), &studio_policy()),
            Err(error) => error.into_response(),
        }
    };
    let design = Design {
        theme: revision.design.theme,
        texts: texts.clone(),
    };
    if let Err(ApiError::Invalid { field, message }) =
        validate_note(&note).and_then(|()| validate_design(&design))
    {
        let error = ValidationError { field, message };
        return Ok(render(frame, StatusCode::BAD_REQUEST, Some(&error), None));
    }
    match state
        .store()
        .save_design(&admin.actor(), &slug, base, &design, note.trim())
        .await
    {
        Ok(number) => Ok(Redirect::to(&format!(
            "/console/tenants/{slug}/texts?locale={locale}&revision={number}"
        ))
        .into_response()),
        Err(moved @ StoreError::DesignMoved { .. }) => Ok(render(
            frame,
            StatusCode::CONFLICT,
            None,
            Some(moved.to_string()),
        )),
        Err(error) => Ok(failure(frame, error.into())),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct CheckForm {
    csrf: String,
    id: String,
    text: String,
}

/// What the editor's script shows beside an override as it is typed.
#[derive(Debug, Serialize)]
pub(super) struct CheckAnswer {
    /// Why the save would refuse it; absent when it would not.
    error: Option<String>,
}

/// `POST /console/tenants/{slug}/texts/check`: one override checked by the
/// rules a save applies, saving nothing.
pub(super) async fn check(
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    Form(form): Form<CheckForm>,
) -> Result<axum::Json<CheckAnswer>, Response> {
    admin
        .check_csrf(&form.csrf)
        .map_err(IntoResponse::into_response)?;
    admin
        .require(&slug, Access::View)
        .map_err(IntoResponse::into_response)?;
    let error = if form.text.trim().is_empty() {
        None
    } else {
        let one = Messages::from([(form.id, form.text.trim().to_owned())]);
        i18n::validate_overrides(&one)
            .err()
            .map(|error| ApiError::from(error).to_string())
    };
    Ok(axum::Json(CheckAnswer { error }))
}
