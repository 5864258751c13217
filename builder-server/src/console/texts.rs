//! The console's words in English and Russian, from Fluent files resolved
//! by the same code as the widget's texts (`i18n::resolve_source`).
//!
//! What it is not: the widget's catalogue. Console texts are not tenant
//! texts and no admin overrides them.

use std::sync::OnceLock;

use crate::i18n::{self, Messages};

/// The console's languages, the first being the base.
pub const LOCALES: [&str; 2] = ["en", "ru"];

const SOURCES: [(&str, &str); 2] = [
    ("en", include_str!("../../console/en.ftl")),
    ("ru", include_str!("../../console/ru.ftl")),
];

fn catalog() -> &'static [(&'static str, Messages)] {
    static CATALOG: OnceLock<Vec<(&'static str, Messages)>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(locale, source)| {
                // The files ship in the binary and a test parses them: a
                // broken one shows message ids rather than stopping the
                // server.
                let messages = i18n::resolve_source(locale, source).unwrap_or_else(|error| {
                    tracing::error!(%error, "a console text file does not parse");
                    Messages::new()
                });
                (*locale, messages)
            })
            .collect()
    })
}

/// The console's texts in one language.
#[derive(Debug, Clone, Copy)]
pub struct Texts {
    locale: &'static str,
}

impl Texts {
    /// The texts of `locale` (one of [`LOCALES`]; anything else is English).
    pub fn new(locale: &str) -> Texts {
        Texts {
            locale: LOCALES
                .iter()
                .find(|known| **known == locale)
                .copied()
                .unwrap_or(LOCALES[0]),
        }
    }

    /// The language tag.
    pub fn locale(&self) -> &'static str {
        self.locale
    }

    /// The message `id`, in English when this language lacks it, else the id.
    pub fn get<'a>(&self, id: &'a str) -> &'a str
    where
        'static: 'a,
    {
        let find = |locale: &str| {
            catalog()
                .iter()
                .find(|(known, _)| *known == locale)
                .and_then(|(_, messages)| messages.get(id))
                .map(String::as_str)
        };
        find(self.locale).or_else(|| find(LOCALES[0])).unwrap_or(id)
    }
}

/// The console language for a request: `?lang=`, then the cookie that
/// remembers it, then `Accept-Language`, then English.
pub fn negotiate(explicit: Option<&str>, accept_language: Option<&str>) -> Texts {
    let enabled: Vec<String> = LOCALES.iter().map(|locale| (*locale).to_owned()).collect();
    Texts::new(&i18n::negotiate(
        explicit,
        None,
        accept_language,
        &enabled,
        LOCALES[0],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_parse_and_say_the_same_things() {
        let ids = |locale: &str| -> Vec<String> {
            let (_, source) = SOURCES.iter().find(|(known, _)| *known == locale).unwrap();
            i18n::resolve_source(locale, source)
                .unwrap()
                .into_keys()
                .collect()
        };
        assert!(ids("en").len() > 40);
        assert_eq!(ids("en"), ids("ru"));
        assert_eq!(Texts::new("ru").get("sign-out"), "Выйти");
        assert_eq!(Texts::new("xx").get("sign-out"), "Sign out");
        assert_eq!(Texts::new("en").get("no-such-id"), "no-such-id");
    }

    #[test]
    fn language_comes_from_the_choice_then_the_browser() {
        assert_eq!(negotiate(Some("ru"), Some("en")).locale(), "ru");
        assert_eq!(
            negotiate(None, Some("ru-RU,ru;q=0.9,en;q=0.5")).locale(),
            "ru"
        );
        assert_eq!(negotiate(Some("klingon"), Some("de")).locale(), "en");
    }
}
