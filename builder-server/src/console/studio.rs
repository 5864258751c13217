//! The theme studio: every design token of a tenant's theme in one form,
//! each contrast pair the widget draws judged as it is edited, the
//! production widget previewing the draft in sandboxed frames, and drafts
//! saved as revisions that reach no shop until published; the history
//! lists them with their changes, to publish or roll back.
//!
//! A change reaches the previews without reloading: the page's script
//! posts the form to [`preview`], which answers the draft as CSS rules on
//! `tessera-login` ([`Theme::to_document_css`]) and its contrast pairs; the
//! script hands the CSS to each frame, whose copy of the same script
//! applies it as a constructed stylesheet (allowed under the snippet's
//! CSP, which forbids inline styles).
//!
//! What it is not: a second validator. Types, ranges and contrast are
//! `theme.rs`'s, the save is `store::design`'s; the studio only renders.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::session::{Access, ConsoleAdmin, SignedOut};
use super::{Frame, Signed, failure, page_under};
use crate::AppState;
use crate::admin::design::{validate_design, validate_note};
use crate::admin::{SignInMode, snippet_for};
use crate::error::ApiError;
use crate::extract::{Form, Path};
use crate::public::{preview_base, preview_signature, preview_signed};
use crate::store::{Design, StoreError};
use crate::theme::{ContrastPair, CustomFont, FontFace, FontStyle, Palette, Theme};
use crate::validation::ValidationError;

/// The studio's policy: the console's, and its own preview frames.
pub(super) fn studio_policy() -> String {
    format!("{}; frame-src 'self'", super::CONTENT_SECURITY_POLICY)
}

/// The studio's choices for the theme's enumerations, as their JSON names.
const COLOR_SCHEMES: &[&str] = &["light", "dark", "auto"];
const FONT_FAMILIES: &[&str] = &["system", "humanist", "rounded", "serif", "mono"];
const DENSITIES: &[&str] = &["compact", "comfortable", "spacious"];

/// How a preview frame draws the widget besides its palette and width.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Drawn {
    /// As a shop's page does.
    Plain,
    /// At 200% zoom (`zoom: 2` on the element), so its 560 pixels hold
    /// what 280 would.
    Zoomed,
    /// With the colours a forced-colours mode (Windows' contrast themes)
    /// puts in place of the theme's: the CSS system colours (`Canvas`,
    /// `CanvasText`, `ButtonFace`, `Highlight`...) on every palette token.
    /// Simulated: a page cannot switch the mode on for its frames, but the
    /// widget draws every colour from those tokens, so this shows what is
    /// left without the theme's colours (shape, borders, focus ring).
    ForcedColors,
}

/// The previews shown by default: (palette, locale, width in CSS pixels,
/// how drawn). The right-to-left ones use the tenant's first right-to-left
/// locale.
const PREVIEWS: [(&str, Option<&str>, u32, Drawn); 8] = [
    ("light", None, 360, Drawn::Plain),
    ("dark", None, 360, Drawn::Plain),
    ("light", Some("rtl"), 360, Drawn::Plain),
    ("dark", Some("rtl"), 360, Drawn::Plain),
    ("light", None, 280, Drawn::Plain),
    ("light", None, 560, Drawn::Plain),
    ("light", None, 561, Drawn::Zoomed),
    ("light", None, 360, Drawn::ForcedColors),
];

/// One input of the studio's form.
struct Input {
    /// The form name, also the element id: `radius`, `light_text`.
    name: String,
    /// The text id of its label, or the palette colour's own name.
    label: String,
    value: String,
    /// A select's options (empty for a text or colour input).
    choices: &'static [&'static str],
    error: Option<String>,
}

/// One contrast pair as a table row.
struct PairRow {
    id: String,
    palette: &'static str,
    foreground: &'static str,
    background: &'static str,
    ratio: String,
    needed: String,
    ok: bool,
    enforced: bool,
    /// The input the suggestion is for, and the suggested colour.
    suggestion: Option<(String, String)>,
}

impl PairRow {
    fn of(pair: &ContrastPair) -> PairRow {
        PairRow {
            id: format!(
                "pair-{}-{}-{}",
                pair.palette, pair.foreground, pair.background
            ),
            palette: pair.palette,
            foreground: pair.foreground,
            background: pair.background,
            ratio: format!("{:.2}:1", pair.ratio),
            needed: format!("{}:1", pair.needed),
            ok: pair.passes,
            enforced: pair.enforced,
            suggestion: pair.suggestion.map(|color| {
                (
                    format!("{}_{}", pair.palette, pair.foreground),
                    color.to_string(),
                )
            }),
        }
    }
}

/// One preview frame.
#[derive(Clone)]
pub(super) struct PreviewFrame {
    pub(super) src: String,
    pub(super) title: String,
    pub(super) width: u32,
}

impl PreviewFrame {
    /// The frame of `revision` of `slug` in `palette` and `locale`.
    pub(super) fn new(
        slug: &str,
        (revision, signature): (i64, &str),
        palette: &str,
        locale: &str,
        width: u32,
    ) -> PreviewFrame {
        Self::drawn(
            slug,
            (revision, signature),
            palette,
            locale,
            width,
            Drawn::Plain,
        )
    }

    fn drawn(
        slug: &str,
        (revision, signature): (i64, &str),
        palette: &str,
        locale: &str,
        width: u32,
        drawn: Drawn,
    ) -> PreviewFrame {
        let (parameter, title) = match drawn {
            Drawn::Plain => ("", format!("{palette} · {locale} · {width}px")),
            Drawn::Zoomed => ("&zoom=2", format!("{palette} · {locale} · 200%")),
            Drawn::ForcedColors => (
                "&forced-colors=1",
                format!("{locale} · {width}px · forced colours (simulated)"),
            ),
        };
        PreviewFrame {
            src: format!(
                "/console/tenants/{slug}/studio/frame?theme={palette}&locale={}&revision={revision}&signature={signature}{parameter}",
                url::form_urlencoded::byte_serialize(locale.as_bytes()).collect::<String>(),
            ),
            title,
            width,
        }
    }
}

#[derive(Template)]
#[template(path = "console/studio.html")]
struct StudioPage {
    frame: Frame,
    slug: String,
    csrf: String,
    /// The newest revision when the page was made: a save starts from it.
    base: i64,
    /// The revision the form's values came from (its texts are kept).
    from: i64,
    published: i64,
    can_edit: bool,
    general: Vec<Input>,
    /// The light and dark palettes' inputs, with their legends' text ids.
    palettes: Vec<(&'static str, Vec<Input>)>,
    pairs: Vec<PairRow>,
    previews: Vec<PreviewFrame>,
    /// Why the previews show no right-to-left frame, when they do not.
    no_rtl: bool,
    note: String,
    problem: Option<String>,
    /// The theme's own font's family, and its faces.
    font_family: String,
    font_faces: Vec<FaceRow>,
}

/// One face of the theme's own font, as the studio lists it.
struct FaceRow {
    weight: u16,
    style: &'static str,
    /// The file's digest's first 12 digits.
    file: String,
}

/// An enumeration's JSON name (`comfortable`).
fn json_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The form's values for `theme`.
fn values_of(theme: &Theme) -> HashMap<String, String> {
    let mut values = HashMap::new();
    values.insert("color_scheme".into(), json_name(&theme.color_scheme));
    values.insert("font_family".into(), json_name(&theme.font_family));
    values.insert("density".into(), json_name(&theme.density));
    values.insert("radius".into(), theme.radius.to_string());
    values.insert("type_scale".into(), theme.type_scale.to_string());
    for (palette, colors) in [
        ("light", theme.light.colors()),
        ("dark", theme.dark.colors()),
    ] {
        for (color, value) in colors {
            values.insert(format!("{palette}_{color}"), value.to_string());
        }
    }
    values
}

/// Reads the form into a theme on top of `base` (whose name and logo the
/// form does not edit). Each input is checked on its own first, so a
/// refusal names it; then the whole theme is checked when `validate`.
fn theme_from(values: &HashMap<String, String>, base: &Theme) -> Result<Theme, ValidationError> {
    let text = |name: &str| values.get(name).map(|value| value.trim().to_owned());
    let mut document =
        serde_json::to_value(base).map_err(|error| ValidationError::whole(error.to_string()))?;
    let choose = |name: &str, choices: &[&str], document: &mut Value| {
        if let Some(value) = text(name) {
            if !choices.contains(&value.as_str()) {
                return Err(ValidationError::new(
                    name,
                    format!("choose one of {}", choices.join(", ")),
                ));
            }
            document[name] = Value::String(value);
        }
        Ok(())
    };
    choose("color_scheme", COLOR_SCHEMES, &mut document)?;
    choose("font_family", FONT_FAMILIES, &mut document)?;
    choose("density", DENSITIES, &mut document)?;
    if let Some(radius) = text("radius") {
        serde_json::from_value::<crate::theme::Radius>(Value::String(radius.clone()))
            .map_err(|error| ValidationError::new("radius", error.to_string()))?;
        document["radius"] = Value::String(radius);
    }
    if let Some(scale) = text("type_scale") {
        let number: f64 = scale
            .parse()
            .ok()
            .filter(|number: &f64| number.is_finite())
            .ok_or_else(|| {
                ValidationError::new("type_scale", "a number from 0.75 to 1.5, such as 1")
            })?;
        document["type_scale"] = Value::from(number);
    }
    for palette in ["light", "dark"] {
        for color in Palette::NAMES {
            let name = format!("{palette}_{color}");
            if let Some(value) = text(&name) {
                if crate::theme::Color::from_hex(&value).is_none() {
                    return Err(ValidationError::new(
                        format!("{palette}.{color}"),
                        "a colour is written #rgb or #rrggbb",
                    ));
                }
                document[palette][color] = Value::String(value);
            }
        }
    }
    // Every input was checked above; what is left is the type's own.
    let theme: Theme = serde_json::from_value(document)
        .map_err(|error| ValidationError::whole(format!("invalid theme: {error}")))?;
    Ok(theme)
}

/// The form id of a validation error's field (`light.text` is `light_text`).
fn input_id(error: &ValidationError) -> Option<String> {
    error.field.as_ref().map(|field| field.replace('.', "_"))
}

impl StudioPage {
    #[allow(clippy::too_many_arguments)]
    fn new(
        frame: Frame,
        slug: &str,
        csrf: String,
        (base, from, published): (i64, i64, i64),
        can_edit: bool,
        values: &HashMap<String, String>,
        theme: Option<&Theme>,
        error: Option<&ValidationError>,
        previews: (Vec<PreviewFrame>, bool),
        note: String,
        problem: Option<String>,
    ) -> StudioPage {
        let failed = error.and_then(input_id);
        let input = |name: &str, label: &str, choices: &'static [&'static str]| Input {
            name: name.to_owned(),
            label: label.to_owned(),
            value: values.get(name).cloned().unwrap_or_default(),
            choices,
            error: error
                .filter(|_| failed.as_deref() == Some(name))
                .map(|error| error.message.clone()),
        };
        let general = vec![
            input("color_scheme", "studio-color-scheme", COLOR_SCHEMES),
            input("font_family", "studio-font-family", FONT_FAMILIES),
            input("density", "studio-density", DENSITIES),
            input("radius", "studio-radius", &[]),
            input("type_scale", "studio-type-scale", &[]),
        ];
        let palette = |palette: &str| -> Vec<Input> {
            Palette::NAMES
                .iter()
                .map(|color| input(&format!("{palette}_{color}"), color, &[]))
                .collect()
        };
        let pairs = theme
            .map(|theme| theme.contrast_pairs().iter().map(PairRow::of).collect())
            .unwrap_or_default();
        let font = theme.and_then(|theme| theme.font.as_ref());
        let font_faces = font
            .map(|font| {
                font.faces
                    .iter()
                    .map(|face| FaceRow {
                        weight: face.weight,
                        style: face.style.name(),
                        file: face.file.chars().take(12).collect(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        StudioPage {
            frame,
            slug: slug.to_owned(),
            csrf,
            base,
            from,
            published,
            can_edit,
            general,
            palettes: vec![
                ("studio-light", palette("light")),
                ("studio-dark", palette("dark")),
            ],
            pairs,
            previews: previews.0,
            no_rtl: previews.1,
            note,
            problem,
            font_family: font.map(|font| font.family.clone()).unwrap_or_default(),
            font_faces,
        }
    }
}

/// The preview frames of revision `revision` of a tenant whose enabled
/// locales are `locales`; `signature` signs its preview address.
fn previews(
    slug: &str,
    (revision, signature): (i64, &str),
    locales: &[String],
    default_locale: &str,
) -> (Vec<PreviewFrame>, bool) {
    let rtl = locales
        .iter()
        .find(|locale| crate::i18n::is_right_to_left(locale));
    let frames = PREVIEWS
        .iter()
        .filter_map(|(palette, direction, width, drawn)| {
            let locale = match direction {
                Some(_) => rtl?.as_str(),
                None => default_locale,
            };
            Some(PreviewFrame::drawn(
                slug,
                (revision, signature),
                palette,
                locale,
                *width,
                *drawn,
            ))
        })
        .collect();
    (frames, rtl.is_none())
}

#[derive(Debug, Deserialize)]
pub(super) struct StudioQuery {
    revision: Option<i64>,
}

/// What an editor of a tenant's design starts from: the newest revision
/// (which a save must name), the published one, and the revision shown
/// (`revision`, else the newest).
pub(super) struct Editing {
    pub(super) head: i64,
    pub(super) published: i64,
    pub(super) revision: crate::store::Revision,
}

impl Editing {
    pub(super) async fn load(
        state: &AppState,
        slug: &str,
        revision: Option<i64>,
    ) -> Result<Editing, ApiError> {
        let history = state.store().design_history(slug).await?;
        let number = revision.unwrap_or(history.head);
        Ok(Editing {
            head: history.head,
            published: history.published,
            revision: state.store().design_revision(slug, number).await?,
        })
    }
}

/// `GET /console/tenants/{slug}/studio[?revision=N]`.
pub(super) async fn page(
    State(state): State<AppState>,
    Signed { admin, mut frame }: Signed,
    Path(slug): Path<String>,
    crate::extract::Query(query): crate::extract::Query<StudioQuery>,
) -> Response {
    if let Err(error) = admin.require(&slug, Access::View) {
        return failure(frame, error);
    }
    let tenant = match state.tenant(&slug).await {
        Ok(tenant) => tenant,
        Err(error) => return failure(frame, error),
    };
    let editing = match Editing::load(&state, &slug, query.revision).await {
        Ok(editing) => editing,
        Err(error) => return failure(frame, error),
    };
    let (from, history) = (editing.revision.number, &editing);
    let theme = editing.revision.design.theme.clone();
    let config = &tenant.config.value;
    let cookie = frame.remember_language.take();
    let page = StudioPage::new(
        frame,
        &tenant.slug,
        admin.session.csrf.clone(),
        (history.head, from, history.published),
        admin.access(&tenant.slug) == Access::Edit,
        &values_of(&theme),
        Some(&theme),
        None,
        previews(
            &tenant.slug,
            (from, &preview_signature(&state, &tenant, from)),
            &config.enabled_locales,
            &config.default_locale,
        ),
        String::new(),
        None,
    );
    page_under(StatusCode::OK, cookie, page.render(), &studio_policy())
}

/// `POST /console/tenants/{slug}/studio`: `action` is `save`, `derive`
/// (the dark palette made from the light one, not saved) or `check`.
pub(super) async fn submit(
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
    let tenant = match state.tenant(&slug).await {
        Ok(tenant) => tenant,
        Err(error) => return Ok(failure(frame, error)),
    };
    let number = |name: &str| values.get(name).and_then(|value| value.parse::<i64>().ok());
    let (Some(base), Some(from)) = (number("base"), number("from")) else {
        return Ok(failure(
            frame,
            ApiError::invalid(
                "base",
                "the form lost its revision numbers: reload the studio",
            ),
        ));
    };
    let (published, revision) = match Editing::load(&state, &slug, Some(from)).await {
        Ok(editing) => (editing.published, editing.revision),
        Err(error) => return Ok(failure(frame, error)),
    };
    let note = values.get("note").cloned().unwrap_or_default();
    let config = &tenant.config.value;
    let frames = previews(
        &tenant.slug,
        (from, &preview_signature(&state, &tenant, from)),
        &config.enabled_locales,
        &config.default_locale,
    );
    let render = |frame: Frame,
                  status: StatusCode,
                  values: &HashMap<String, String>,
                  theme: Option<&Theme>,
                  error: Option<&ValidationError>,
                  problem: Option<String>| {
        page_under(
            status,
            None,
            StudioPage::new(
                frame,
                &tenant.slug,
                admin.session.csrf.clone(),
                (base, from, published),
                true,
                values,
                theme,
                error,
                frames.clone(),
                note.clone(),
                problem,
            )
            .render(),
            &studio_policy(),
        )
    };
    let mut theme = match theme_from(&values, &revision.design.theme) {
        Ok(theme) => theme,
        Err(error) => {
            return Ok(render(
                frame,
                StatusCode::BAD_REQUEST,
                &values,
                None,
                Some(&error),
                None,
            ));
        }
    };
    match values.get("action").map(String::as_str) {
        Some("derive") => {
            theme.dark = theme.light.derive_dark();
            let derived = values_of(&theme);
            let mut merged = values.clone();
            merged.extend(
                derived
                    .into_iter()
                    .filter(|(name, _)| name.starts_with("dark_")),
            );
            return Ok(render(
                frame,
                StatusCode::OK,
                &merged,
                Some(&theme),
                None,
                None,
            ));
        }
        Some("save") => {}
        _ => {
            let error = theme.validate().err();
            let status = if error.is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            return Ok(render(
                frame,
                status,
                &values,
                Some(&theme),
                error.as_ref(),
                None,
            ));
        }
    }
    if let Err(error) = theme.validate() {
        return Ok(render(
            frame,
            StatusCode::BAD_REQUEST,
            &values,
            Some(&theme),
            Some(&error),
            None,
        ));
    }
    let design = Design {
        theme: theme.clone(),
        texts: revision.design.texts,
    };
    let checked = validate_note(&note).and_then(|()| validate_design(&design));
    if let Err(ApiError::Invalid { field, message }) = checked {
        let error = ValidationError { field, message };
        return Ok(render(
            frame,
            StatusCode::BAD_REQUEST,
            &values,
            Some(&theme),
            Some(&error),
            None,
        ));
    }
    match state
        .store()
        .save_design(&admin.actor(), &tenant.slug, base, &design, note.trim())
        .await
    {
        Ok(number) => Ok(Redirect::to(&format!(
            "/console/tenants/{}/studio?revision={number}",
            tenant.slug
        ))
        .into_response()),
        Err(moved @ StoreError::DesignMoved { .. }) => Ok(render(
            frame,
            StatusCode::CONFLICT,
            &values,
            Some(&theme),
            None,
            Some(moved.to_string()),
        )),
        Err(error) => Ok(failure(frame, error.into())),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct LogoForm {
    csrf: String,
    base: i64,
    from: i64,
    /// `light` (the theme's logo) or `dark` (the dark palette's own).
    palette: String,
    /// The logo as JSON (`{"type": "svg", "markup"}` or `{"type": "png",
    /// "base64"}`, as the page's script reads the chosen file); empty
    /// removes it.
    #[serde(default)]
    logo: String,
}

/// `POST /console/tenants/{slug}/studio/logo`: the revision the studio
/// shows with a logo set or removed, saved as a new draft (a logo is sent
/// on its own, so the form of tokens stays small for the live previews).
pub(super) async fn logo(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    Form(form): Form<LogoForm>,
) -> Result<Response, SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let frame = Frame::new(&state, &headers, None, Some(&admin), "tenants");
    if let Err(error) = admin.require(&slug, Access::Edit) {
        return Ok(failure(frame, error));
    }
    let saved = async {
        let logo = if form.logo.trim().is_empty() {
            None
        } else {
            Some(
                serde_json::from_str::<crate::theme::Logo>(&form.logo).map_err(|error| {
                    ApiError::invalid("logo", format!("not an SVG or PNG logo: {error}"))
                })?,
            )
        };
        let mut design = state
            .store()
            .design_revision(&slug, form.from)
            .await?
            .design;
        let note = match (form.palette.as_str(), logo.is_some()) {
            ("light", true) => "logo set",
            ("light", false) => "logo removed",
            ("dark", true) => "dark logo set",
            ("dark", false) => "dark logo removed",
            _ => return Err(ApiError::invalid("palette", "light or dark")),
        };
        if form.palette == "dark" {
            design.theme.logo_dark = logo;
        } else {
            design.theme.logo = logo;
        }
        validate_design(&design)?;
        Ok(state
            .store()
            .save_design(&admin.actor(), &slug, form.base, &design, note)
            .await?)
    }
    .await;
    match saved {
        Ok(number) => Ok(Redirect::to(&format!(
            "/console/tenants/{slug}/studio?revision={number}"
        ))
        .into_response()),
        Err(error) => Ok(failure(frame, error)),
    }
}

/// Saves `change` of the theme of revision `from` as a draft after `base`,
/// with `note`, and answers the studio showing it.
async fn save_theme_change(
    state: &AppState,
    admin: &ConsoleAdmin,
    slug: &str,
    (base, from): (i64, i64),
    note: &str,
    change: impl FnOnce(&mut Theme) -> Result<(), ApiError>,
) -> Result<Response, ApiError> {
    let mut design = state.store().design_revision(slug, from).await?.design;
    change(&mut design.theme)?;
    validate_design(&design)?;
    let number = state
        .store()
        .save_design(&admin.actor(), slug, base, &design, note)
        .await?;
    Ok(Redirect::to(&format!("/console/tenants/{slug}/studio?revision={number}")).into_response())
}

/// `POST /console/tenants/{slug}/studio/font` (`multipart/form-data`): a
/// WOFF2 file stored for the tenant and added to the theme's own font as
/// the face of the weight and style given (replacing one of both), saved
/// as a new draft. `family` names (or renames) the font.
pub(super) async fn font(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, SignedOut> {
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut file: Option<axum::body::Bytes> = None;
    let read = async {
        while let Some(field) = multipart.next_field().await? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                file = Some(field.bytes().await?);
            } else if fields.len() < 16 {
                fields.insert(name, field.text().await?);
            }
        }
        Ok::<(), axum::extract::multipart::MultipartError>(())
    }
    .await;
    admin.check_csrf(fields.get("csrf").map_or("", String::as_str))?;
    let frame = Frame::new(&state, &headers, None, Some(&admin), "tenants");
    if let Err(error) = admin.require(&slug, Access::Edit) {
        return Ok(failure(frame, error));
    }
    let saved = async {
        read.map_err(|error| {
            ApiError::invalid("file", format!("the upload could not be read: {error}"))
        })?;
        let number = |name: &str| -> Result<i64, ApiError> {
            fields
                .get(name)
                .and_then(|value| value.parse().ok())
                .ok_or_else(|| ApiError::invalid(name, "a revision number"))
        };
        let (base, from) = (number("base")?, number("from")?);
        let weight: u16 = fields
            .get("weight")
            .and_then(|value| value.parse().ok())
            .ok_or_else(|| ApiError::invalid("weight", "100 to 900, in hundreds"))?;
        let style = match fields.get("style").map(String::as_str) {
            Some("italic") => FontStyle::Italic,
            _ => FontStyle::Normal,
        };
        let family = fields
            .get("family")
            .map(|family| family.trim().to_owned())
            .unwrap_or_default();
        let bytes = file
            .filter(|bytes| !bytes.is_empty())
            .ok_or_else(|| ApiError::invalid("file", "choose a WOFF2 file"))?;
        crate::theme::check_woff2(&bytes)?;
        let stored = state
            .store()
            .put_font_file(&admin.actor(), &slug, bytes.to_vec())
            .await?;
        let note = format!("font face {weight} {} set", style.name());
        save_theme_change(&state, &admin, &slug, (base, from), &note, |theme| {
            let font = theme.font.get_or_insert_with(|| CustomFont {
                family: family.clone(),
                faces: Vec::new(),
            });
            font.family = family;
            font.faces
                .retain(|face| face.weight != weight || face.style != style);
            font.faces.push(FontFace {
                weight,
                style,
                file: stored.file,
            });
            font.faces
                .sort_by_key(|face| (face.weight, face.style == FontStyle::Italic));
            Ok(())
        })
        .await
    }
    .await;
    Ok(saved.unwrap_or_else(|error| failure(frame, error)))
}

#[derive(Debug, Deserialize)]
pub(super) struct RemoveFaceForm {
    csrf: String,
    base: i64,
    from: i64,
    weight: u16,
    style: FontStyle,
}

/// `POST /console/tenants/{slug}/studio/font/remove`: the face of that
/// weight and style taken out of the theme's own font (the font with its
/// last face), saved as a new draft. The file stays stored, for the
/// revisions that name it.
pub(super) async fn remove_face(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    Form(form): Form<RemoveFaceForm>,
) -> Result<Response, SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let frame = Frame::new(&state, &headers, None, Some(&admin), "tenants");
    if let Err(error) = admin.require(&slug, Access::Edit) {
        return Ok(failure(frame, error));
    }
    let note = format!("font face {} {} removed", form.weight, form.style.name());
    let saved = save_theme_change(
        &state,
        &admin,
        &slug,
        (form.base, form.from),
        &note,
        |theme| {
            if let Some(font) = &mut theme.font {
                font.faces
                    .retain(|face| face.weight != form.weight || face.style != form.style);
                if font.faces.is_empty() {
                    theme.font = None;
                }
            }
            Ok(())
        },
    )
    .await;
    Ok(saved.unwrap_or_else(|error| failure(frame, error)))
}

/// What the studio's script gets for a changed form.
#[derive(Debug, Serialize)]
pub(super) struct Preview {
    /// The draft as rules on `tessera-login`, empty when an input is wrong.
    css: String,
    /// Every contrast pair.
    pairs: Vec<ContrastPair>,
    /// The form id of the input the server would refuse, and why.
    field: Option<String>,
    message: Option<String>,
}

/// `POST /console/tenants/{slug}/studio/preview`: the draft's CSS and
/// contrast pairs for the previews and the table, saving nothing.
pub(super) async fn preview(
    State(state): State<AppState>,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Result<axum::Json<Preview>, Response> {
    admin
        .check_csrf(values.get("csrf").map_or("", String::as_str))
        .map_err(IntoResponse::into_response)?;
    admin
        .require(&slug, Access::View)
        .map_err(IntoResponse::into_response)?;
    let from = values
        .get("from")
        .and_then(|value| value.parse::<i64>().ok())
        .unwrap_or(1);
    let revision = state
        .store()
        .design_revision(&slug, from)
        .await
        .map_err(|error| ApiError::from(error).into_response())?;
    Ok(axum::Json(
        match theme_from(&values, &revision.design.theme) {
            Ok(theme) => {
                let refusal = theme.validate().err();
                Preview {
                    css: theme.to_document_css(),
                    pairs: theme.contrast_pairs(),
                    field: refusal.as_ref().and_then(input_id),
                    message: refusal.map(|error| error.message),
                }
            }
            Err(error) => Preview {
                css: String::new(),
                pairs: Vec::new(),
                field: input_id(&error),
                message: Some(error.message),
            },
        },
    ))
}

#[derive(Template)]
#[template(path = "console/preview.html")]
struct PreviewPage {
    lang: &'static str,
    css_href: &'static str,
    css_integrity: &'static str,
    js_href: &'static str,
    js_integrity: &'static str,
    widget_src: String,
    integrity: String,
    server: String,
    slug: String,
    theme: &'static str,
    locale: String,
    zoomed: bool,
    forced_colors: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct FrameQuery {
    theme: String,
    locale: String,
    /// The revision shown, and the signature of its preview address.
    revision: i64,
    signature: String,
    /// `2` draws the widget at 200% zoom.
    #[serde(default)]
    zoom: Option<u8>,
    /// `1` draws it in the system colours of a forced-colours mode.
    #[serde(default, rename = "forced-colors")]
    forced_colors: Option<u8>,
}

/// `GET /console/tenants/{slug}/studio/frame?theme=&locale=`: the
/// production widget as the snippet puts it on a page, under the snippet's
/// CSP, taking the studio's draft from the page that frames it. It holds
/// nothing a shop's page does not show, so it needs no session (the frame
/// is sandboxed, without the console's origin).
pub(super) async fn preview_frame(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    crate::extract::Query(query): crate::extract::Query<FrameQuery>,
) -> Result<Response, ApiError> {
    let theme = match query.theme.as_str() {
        "light" => "light",
        "dark" => "dark",
        _ => return Err(ApiError::invalid("theme", "light or dark")),
    };
    let tenant = state.tenant(&slug).await?;
    // Any base locale: the pseudo-locale finds what overflows.
    if !crate::i18n::BASE_LOCALES.contains(&query.locale.as_str()) {
        return Err(ApiError::invalid("locale", "one of the base locales"));
    }
    if !preview_signed(&state, &tenant, query.revision, &query.signature) {
        return Err(ApiError::NotFound("no such preview".into()));
    }
    let snippet = snippet_for(
        &state,
        &tenant.slug,
        &tenant.config.value.issuer,
        SignInMode::Popup,
    )
    .await?;
    let integrity = state
        .assets()
        .integrity("tessera.js")
        .unwrap_or_default()
        .to_owned();
    let (css, js) = (super::assets::stylesheet(), super::assets::script());
    let page = PreviewPage {
        lang: "en",
        css_href: &css.href,
        css_integrity: &css.integrity,
        js_href: &js.href,
        js_integrity: &js.integrity,
        widget_src: format!("{}/widget/v1/tessera.js", state.public_url()),
        integrity,
        server: preview_base(&state, &tenant, query.revision),
        slug: tenant.slug.clone(),
        theme,
        locale: query.locale,
        zoomed: query.zoom == Some(2),
        forced_colors: query.forced_colors == Some(1),
    };
    // Framed by the studio only: same origin, no other ancestor.
    let policy = super::try_sign_in::policy(&snippet.content_security_policy)
        .replace("frame-ancestors 'none'", "frame-ancestors 'self'");
    Ok(page_under(StatusCode::OK, None, page.render(), &policy))
}
