//! Widget texts: Fluent base locales, tenant overrides, negotiation, and the
//! resolved JSON the widget reads.
//!
//! Base locales are `i18n/*.ftl`, embedded in the binary and parsed with
//! `fluent-bundle` at start-up (a broken file fails start-up, not a request).
//! For the widget every message is resolved to plain text; variables become
//! `{name}` markers the widget fills in, so it carries no Fluent runtime. The
//! pseudo-locale `en-XA` is generated from English: accented, bracketed and
//! about 40% longer, so untranslated strings and truncation show at a glance.
//! Negotiation (explicit, then `ui_locales`, then `Accept-Language`) uses
//! `fluent-langneg` against the tenant's enabled locales.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use fluent_langneg::{NegotiationStrategy, negotiate_languages};
use unic_langid::LanguageIdentifier;

use crate::validation::ValidationError;

/// The base locales, as `i18n/{locale}.ftl`, plus the pseudo-locale.
pub const BASE_LOCALES: [&str; 13] = [
    "en",
    "ru",
    "de",
    "fr",
    "es",
    "uk",
    "pl",
    "tr",
    "ar",
    "zh-CN",
    "ja",
    "pt-BR",
    PSEUDO_LOCALE,
];

/// The generated pseudo-locale.
pub const PSEUDO_LOCALE: &str = "en-XA";

/// Locales written right to left.
const RIGHT_TO_LEFT: [&str; 1] = ["ar"];

const SOURCES: [(&str, &str); 12] = [
    ("en", include_str!("../../i18n/en.ftl")),
    ("ru", include_str!("../../i18n/ru.ftl")),
    ("de", include_str!("../../i18n/de.ftl")),
    ("fr", include_str!("../../i18n/fr.ftl")),
    ("es", include_str!("../../i18n/es.ftl")),
    ("uk", include_str!("../../i18n/uk.ftl")),
    ("pl", include_str!("../../i18n/pl.ftl")),
    ("tr", include_str!("../../i18n/tr.ftl")),
    ("ar", include_str!("../../i18n/ar.ftl")),
    ("zh-CN", include_str!("../../i18n/zh-CN.ftl")),
    ("ja", include_str!("../../i18n/ja.ftl")),
    ("pt-BR", include_str!("../../i18n/pt-BR.ftl")),
];

/// Resolved messages of one locale: message id to text with `{var}` markers.
pub type Messages = BTreeMap<String, String>;

/// Every base locale, resolved. Built once; an error here is a bug in the
/// shipped `.ftl` files and is reported by `catalog()`.
fn resolved() -> &'static Result<BTreeMap<String, Messages>, String> {
    static CATALOG: OnceLock<Result<BTreeMap<String, Messages>, String>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut catalog = BTreeMap::new();
        for (locale, source) in SOURCES {
            catalog.insert(locale.to_owned(), resolve_source(locale, source)?);
        }
        let english = catalog.get("en").cloned().unwrap_or_default();
        catalog.insert(PSEUDO_LOCALE.to_owned(), pseudo(&english));
        Ok(catalog)
    })
}

/// Parses and resolves one Fluent source.
pub fn resolve_source(locale: &str, source: &str) -> Result<Messages, String> {
    let resource = FluentResource::try_new(source.to_owned())
        .map_err(|(_, errors)| format!("{locale}.ftl does not parse: {errors:?}"))?;
    let language: LanguageIdentifier = locale
        .parse()
        .map_err(|_| format!("`{locale}` is not a language tag"))?;
    let mut bundle = FluentBundle::new(vec![language]);
    // The widget inserts values itself; Unicode isolation marks would leak in.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(&resource)
        .map_err(|errors| format!("{locale}.ftl has duplicate messages: {errors:?}"))?;
    let mut messages = Messages::new();
    for entry in resource.entries() {
        let fluent_syntax::ast::Entry::Message(message) = entry else {
            continue;
        };
        let id = message.id.name;
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            continue;
        };
        // Every variable resolves to its own `{name}` marker.
        let mut arguments = FluentArgs::new();
        for element in &pattern.elements {
            if let fluent_syntax::ast::PatternElement::Placeable {
                expression:
                    fluent_syntax::ast::Expression::Inline(
                        fluent_syntax::ast::InlineExpression::VariableReference { id },
                    ),
            } = element
            {
                arguments.set(id.name, FluentValue::from(format!("{{{}}}", id.name)));
            }
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&arguments), &mut errors);
        if !errors.is_empty() {
            return Err(format!(
                "{locale}.ftl: message `{id}` does not resolve: {errors:?}"
            ));
        }
        messages.insert(id.to_owned(), text.into_owned());
    }
    Ok(messages)
}

/// The resolved base catalog, or why the shipped files are broken.
pub fn catalog() -> Result<&'static BTreeMap<String, Messages>, String> {
    resolved().as_ref().map_err(Clone::clone)
}

/// Accents vowels, pads by about 40% and brackets the text, keeping `{var}`
/// markers intact.
fn pseudo(english: &Messages) -> Messages {
    english
        .iter()
        .map(|(id, text)| {
            let mut out = String::from("⟦");
            let mut in_marker = false;
            let mut letters = 0;
            for c in text.chars() {
                match c {
                    '{' => in_marker = true,
                    '}' => in_marker = false,
                    _ => {}
                }
                if in_marker || c == '}' {
                    out.push(c);
                    continue;
                }
                letters += 1;
                out.push(match c {
                    'a' => 'á',
                    'e' => 'é',
                    'i' => 'í',
                    'o' => 'ö',
                    'u' => 'ü',
                    'A' => 'Å',
                    'E' => 'É',
                    'O' => 'Ø',
                    'c' => 'ç',
                    'n' => 'ñ',
                    other => other,
                });
            }
            out.push(' ');
            out.push_str(&"·".repeat(letters * 2 / 5));
            out.push('⟧');
            (id.clone(), out)
        })
        .collect()
}

/// Whether a locale is written right to left.
pub fn is_right_to_left(locale: &str) -> bool {
    RIGHT_TO_LEFT
        .iter()
        .any(|rtl| locale == *rtl || locale.starts_with(&format!("{rtl}-")))
}

/// Picks the best enabled locale for the explicit choice, then `ui_locales`
/// (space-separated), then `Accept-Language`, falling back to `default`.
pub fn negotiate(
    explicit: Option<&str>,
    ui_locales: Option<&str>,
    accept_language: Option<&str>,
    enabled: &[String],
    default: &str,
) -> String {
    let available: Vec<fluent_langneg::LanguageIdentifier> = enabled
        .iter()
        .filter_map(|locale| locale.parse().ok())
        .collect();
    let parse = |tags: Vec<&str>| -> Vec<fluent_langneg::LanguageIdentifier> {
        tags.into_iter()
            .filter_map(|tag| tag.trim().parse().ok())
            .collect()
    };
    let accept: Vec<&str> = accept_language
        .map(|header| {
            // Accept-Language is ordered by q-value; items without q count as 1.
            let mut items: Vec<(f32, &str)> = header
                .split(',')
                .filter_map(|item| {
                    let mut parts = item.split(';');
                    let tag = parts.next()?.trim();
                    let q = parts
                        .find_map(|part| part.trim().strip_prefix("q="))
                        .and_then(|q| q.parse().ok())
                        .unwrap_or(1.0);
                    (tag != "*" && q > 0.0).then_some((q, tag))
                })
                .collect();
            items.sort_by(|a, b| b.0.total_cmp(&a.0));
            items.into_iter().map(|(_, tag)| tag).collect()
        })
        .unwrap_or_default();
    let candidates = [
        explicit.map(|tag| vec![tag]).unwrap_or_default(),
        ui_locales
            .map(|list| list.split_whitespace().collect())
            .unwrap_or_default(),
        accept,
    ];
    for requested in candidates {
        let requested = parse(requested);
        if requested.is_empty() {
            continue;
        }
        let matched =
            negotiate_languages(&requested, &available, None, NegotiationStrategy::Lookup);
        if let Some(best) = matched.first() {
            return best.to_string();
        }
    }
    default.to_owned()
}

/// The messages for `locale` with the tenant's overrides applied; a message
/// missing from a base locale falls back to English.
pub fn messages_for(locale: &str, overrides: Option<&Messages>) -> Result<Messages, String> {
    let catalog = catalog()?;
    let mut messages = catalog.get("en").cloned().unwrap_or_default();
    if let Some(base) = catalog.get(locale) {
        messages.extend(base.clone());
    }
    if let Some(overrides) = overrides {
        messages.extend(overrides.clone());
    }
    Ok(messages)
}

/// Why tenant texts are refused.
#[derive(Debug, thiserror::Error)]
pub enum TextsError {
    /// An override does not pass a check.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The base texts shipped in the binary are broken; start-up checks
    /// them (`catalog`), so a request should never see this.
    #[error("{0}")]
    BrokenCatalog(String),
}

/// Checks tenant overrides: known message ids, plain text, the same `{var}`
/// markers as English, at most 500 characters each.
pub fn validate_overrides(overrides: &Messages) -> Result<(), TextsError> {
    let english = catalog()
        .map_err(TextsError::BrokenCatalog)?
        .get("en")
        .cloned()
        .unwrap_or_default();
    for (id, text) in overrides {
        let Some(reference) = english.get(id) else {
            return Err(ValidationError::new(
                id.clone(),
                format!(
                    "unknown message id; known ids: {}",
                    english.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
            .into());
        };
        if text.trim().is_empty()
            || text.chars().count() > 500
            || text.chars().any(|c| c.is_control() && c != '\n')
        {
            return Err(
                ValidationError::new(id.clone(), "must be 1 to 500 printable characters").into(),
            );
        }
        // Every `{` opens one placeholder, a name closed by `}`.
        let balanced = text.split('{').skip(1).all(|part| {
            part.split_once('}').is_some_and(|(name, _)| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            })
        }) && text.matches('{').count() == text.matches('}').count();
        if !balanced {
            return Err(ValidationError::new(
                id.clone(),
                format!(
                    "a placeholder is written {{name}}, with a brace on each side; keep those of the English text: `{reference}`"
                ),
            )
            .into());
        }
        let markers = |s: &str| {
            let mut found: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|part| part.split_once('}').map(|(name, _)| name.to_owned()))
                .collect();
            found.sort();
            found
        };
        if markers(text) != markers(reference) {
            return Err(ValidationError::new(
                id.clone(),
                format!("must keep the placeholders of the English text: `{reference}`"),
            )
            .into());
        }
    }
    Ok(())
}
