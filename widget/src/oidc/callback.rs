//! The IdP's answer in the page's URL (`code`, `state`, `error`: RFC 6749
//! section 4.1.2), and the pending sign-in it must match: the `state`,
//! `nonce`, PKCE verifier and redirect URI this tab keeps in
//! sessionStorage while the customer is at the IdP.
//!
//! What it is not: completing the sign-in. [`take_callback`] only takes a
//! callback this tab is waiting for and cleans it from the URL;
//! `session::complete` checks it against the pending sign-in and has the
//! code exchanged, and `popup` carries a popup's callback to its opener.

use wasm_bindgen::JsValue;

use super::popup::POPUP_STATE_PREFIX;
use super::storage;
use crate::json::Object;

/// What must survive the redirect to the IdP and back.
#[derive(Debug, Clone)]
pub(super) struct Pending {
    pub(super) state: String,
    pub(super) nonce: String,
    pub(super) verifier: String,
    pub(super) redirect_uri: String,
}

impl Pending {
    pub(super) fn to_json(&self) -> Object {
        Object::new()
            .with("state", self.state.as_str())
            .with("nonce", self.nonce.as_str())
            .with("verifier", self.verifier.as_str())
            .with("redirect_uri", self.redirect_uri.as_str())
    }

    pub(super) fn from_json(document: &Object) -> Option<Pending> {
        Some(Pending {
            state: document.string("state")?,
            nonce: document.string("nonce")?,
            verifier: document.string("verifier")?,
            redirect_uri: document.string("redirect_uri")?,
        })
    }
}

pub(super) fn pending_key(tenant: &str) -> String {
    format!("tessera.pending.{tenant}")
}

/// The callback parameters in the page's URL, if this is a callback.
#[derive(Debug, Clone)]
pub struct Callback {
    pub(super) code: Option<String>,
    pub(super) state: Option<String>,
    pub(super) error: Option<String>,
}

impl Callback {
    pub(super) fn to_json(&self) -> Object {
        Object::new()
            .with_optional("code", self.code.as_deref())
            .with_optional("state", self.state.as_deref())
            .with_optional("error", self.error.as_deref())
    }

    pub(super) fn from_json(document: &Object) -> Callback {
        Callback {
            code: document.string("code"),
            state: document.string("state"),
            error: document.string("error"),
        }
    }
}

/// Takes this widget's sign-in callback from the URL: `code`/`state`/`error`,
/// removed (with `iss`, `error_description`, `session_state`) by
/// `history.replaceState`. Only a callback this tab is waiting for is taken:
/// one whose `state` is the pending sign-in's of `tenant`, or, in a sign-in
/// popup (a page with an opener), one whose `state` marks a popup sign-in,
/// which the opener checks against its own pending sign-in. Any other
/// `code` or `error` in the URL (a shop's coupon `?code=SUMMER10`, a payment
/// provider's `?error=...`) belongs to someone else and is left untouched.
pub fn take_callback(tenant: &str) -> Option<Callback> {
    let window = web_sys::window()?;
    let href = window.location().href().ok()?;
    let url = web_sys::Url::new(&href).ok()?;
    let parameters = url.search_params();
    let callback = Callback {
        code: parameters.get("code"),
        state: parameters.get("state"),
        error: parameters.get("error"),
    };
    if callback.code.is_none() && callback.error.is_none() {
        return None;
    }
    let state = callback.state.as_deref()?;
    let opener = window.opener().unwrap_or(JsValue::NULL);
    let in_popup =
        state.starts_with(POPUP_STATE_PREFIX) && !opener.is_null() && !opener.is_undefined();
    if !in_popup && pending_state(tenant).as_deref() != Some(state) {
        return None;
    }
    for name in [
        "code",
        "state",
        "iss",
        "error",
        "error_description",
        "session_state",
    ] {
        parameters.delete(name);
    }
    let _ = window
        .history()
        .ok()?
        .replace_state_with_url(&JsValue::NULL, "", Some(&url.href()));
    Some(callback)
}

/// The `state` of the sign-in this tab started for `tenant`, if any.
fn pending_state(tenant: &str) -> Option<String> {
    let text = storage().ok()?.get_item(&pending_key(tenant)).ok()??;
    Object::parse(&text)?.string("state")
}

/// Forgets a sign-in that will not complete (the popup was closed).
pub fn forget_pending(tenant: &str) {
    if let Ok(storage) = storage() {
        let _ = storage.remove_item(&pending_key(tenant));
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::test_support::window;

    /// Makes this tab wait for a sign-in of `tenant` with `state`.
    fn wait_for(tenant: &str, state: &str) {
        let pending = Pending {
            state: state.to_owned(),
            nonce: "n".to_owned(),
            verifier: "v".to_owned(),
            redirect_uri: "https://shop.example/".to_owned(),
        };
        storage()
            .expect("sessionStorage")
            .set_item(&pending_key(tenant), &pending.to_json().text())
            .expect("stored");
    }

    #[wasm_bindgen_test]
    fn other_peoples_code_and_error_parameters_are_left_alone() {
        let history = window().history().expect("history");
        let original = window().location().href().expect("an address");
        for (pending, query) in [
            (None, "?code=SUMMER10"),
            (None, "?code=SUMMER10&state=the-state"),
            (None, "?error=payment_declined&state=psp-123"),
            (Some("the-state"), "?code=SUMMER10"),
            (Some("the-state"), "?code=c&state=another-state"),
            (Some("the-state"), "?error=payment_declined&state=psp-123"),
            // A popup's state, but this page has no opener: not a popup.
            (None, "?code=c&state=popup.x"),
        ] {
            forget_pending("callbacks");
            if let Some(state) = pending {
                wait_for("callbacks", state);
            }
            history
                .replace_state_with_url(&JsValue::NULL, "", Some(query))
                .expect("replaceState");
            assert!(take_callback("callbacks").is_none(), "{pending:?} {query}");
            assert_eq!(
                window().location().search().as_deref(),
                Ok(query),
                "the URL is untouched: {pending:?} {query}"
            );
        }
        forget_pending("callbacks");
        history
            .replace_state_with_url(&JsValue::NULL, "", Some(&original))
            .expect("replaceState");
    }

    #[wasm_bindgen_test]
    fn callback_is_taken_from_the_url_and_the_url_cleaned() {
        let history = window().history().expect("history");
        let original = window().location().href().expect("an address");
        wait_for("callbacks", "the-state");
        history
            .replace_state_with_url(
                &JsValue::NULL,
                "",
                Some("?keep=1&code=the-code&state=the-state&iss=https%3A%2F%2Fidp&session_state=s#part"),
            )
            .expect("replaceState");
        let callback = take_callback("callbacks").expect("a callback");
        assert_eq!(callback.code.as_deref(), Some("the-code"));
        assert_eq!(callback.state.as_deref(), Some("the-state"));
        assert_eq!(callback.error, None);
        assert_eq!(window().location().search().as_deref(), Ok("?keep=1"));
        assert_eq!(window().location().hash().as_deref(), Ok("#part"));
        assert!(
            take_callback("callbacks").is_none(),
            "a callback is taken once"
        );

        wait_for("callbacks", "s");
        history
            .replace_state_with_url(&JsValue::NULL, "", Some("?error=access_denied&state=s"))
            .expect("replaceState");
        let callback = take_callback("callbacks").expect("an error callback");
        assert_eq!(callback.error.as_deref(), Some("access_denied"));
        assert_eq!(window().location().search().as_deref(), Ok(""));
        forget_pending("callbacks");
        history
            .replace_state_with_url(&JsValue::NULL, "", Some(&original))
            .expect("replaceState");
    }
}
