//! The failure of every check on what an admin or the CLI sends: which
//! input is wrong and what is allowed.
//!
//! `model`, `theme` and `i18n` return a [`ValidationError`]; `error.rs`
//! turns it into the API's `invalid_request` answer with `From`. What it is
//! not: an HTTP error. Nothing here knows a status code.

/// An input that does not pass a check; `field` names it when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// Which input is wrong (a JSON path such as `theme.light.primary`).
    pub field: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl ValidationError {
    /// A failed check of `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationError {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// A failed check of the whole input (e.g. JSON that does not parse).
    pub fn whole(message: impl Into<String>) -> Self {
        ValidationError {
            field: None,
            message: message.into(),
        }
    }

    /// The same failure with a field under `from` named under `to` instead
    /// (`logo.markup` as `logo_dark.markup`).
    pub fn renamed(self, from: &str, to: &str) -> Self {
        ValidationError {
            field: self.field.map(|field| match field.strip_prefix(from) {
                Some(rest) => format!("{to}{rest}"),
                None => field,
            }),
            message: self.message,
        }
    }

    /// The same failure, its field named inside `parent`
    /// (`light.text` within `theme` is `theme.light.text`).
    pub fn within(self, parent: &str) -> Self {
        ValidationError {
            field: Some(match self.field {
                Some(field) => format!("{parent}.{field}"),
                None => parent.to_owned(),
            }),
            message: self.message,
        }
    }
}
