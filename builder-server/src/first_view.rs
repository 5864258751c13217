//! The widget's signed-out first view, rendered by the server, so that the
//! loader can show a tenant's sign-in the moment it runs, before the
//! WebAssembly arrives (`GET /t/{tenant}/start/{locale}.json`, in
//! [`crate::public`]).
//!
//! The view is the same tree the Leptos view in `widget/src/view.rs` makes
//! for a signed-out visitor who has not clicked yet: the same elements,
//! classes, `part` names, text and accessible names. It is sent as data, not
//! HTML (`[tag, {attribute: value}, child...]`, a child being such a node or
//! a text), and the loader builds it with `createElement` and `textContent`:
//! no markup is parsed, so nothing in a tenant's texts can become markup, and
//! pages that enforce Trusted Types accept it. `tests/first-view.test.mjs`
//! renders both views for every locale and theme preset in Chromium and
//! compares their DOM and layout.
//!
//! What it is not: the signed-in view, errors or a busy button. A page that
//! returns from a sign-in or restores a session waits for the WebAssembly.

use serde_json::{Value, json};

use crate::i18n::Messages;
use crate::model::TenantConfig;

/// The view's texts, by message id, as the widget reads them: a missing id
/// reads as the id itself.
fn text<'a>(messages: &'a Messages, id: &'a str) -> &'a str {
    messages.get(id).map_or(id, String::as_str)
}

/// The signed-out view of a tenant in one locale. `logo`: whether the theme
/// has a logo (drawn by the stylesheet, named by `display_name`).
pub fn signed_out(
    config: &TenantConfig,
    logo: bool,
    locale: &str,
    dir: &str,
    messages: &Messages,
) -> Value {
    let mut section = vec![
        json!("section"),
        json!({
            "class": "tessera",
            "part": "root",
            "lang": locale,
            "dir": dir,
            "aria-labelledby": "tessera-title",
        }),
    ];
    if logo {
        section.push(json!(["div", {
            "class": "logo",
            "part": "logo",
            "role": "img",
            "aria-label": config.display_name,
        }]));
    }
    section.push(
        json!(["h2", {"id": "tessera-title", "part": "title"}, text(messages, "widget-title")]),
    );
    section.push(json!(["button", {
        "type": "button",
        "part": "button sign-in",
        "class": "primary",
        "aria-busy": "false",
    }, text(messages, "sign-in")]));
    let template = text(messages, "sign-in-with");
    for provider in &config.providers {
        // The widget fills the template with the browser's String.replace:
        // the first `{provider}` only.
        let label = template.replacen("{provider}", &provider.label, 1);
        section.push(json!(["button", {
            "type": "button",
            "part": "button provider",
            "class": "secondary",
        }, label]));
    }
    section.push(json!(["p", {"part": "note", "class": "note"}, text(messages, "privacy-note")]));
    Value::Array(section)
}
