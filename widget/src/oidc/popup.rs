//! Popup mode, both ends. The page opens the sign-in popup inside the click
//! and waits for its callback; the page loaded in the popup hands the
//! callback to its opener by `postMessage` (to this origin only) and
//! closes. A popup sign-in's `state` starts with [`POPUP_STATE_PREFIX`], so
//! that the page in the popup knows to relay the callback.
//!
//! What it is not: a second way to complete a sign-in. The opener
//! completes a relayed callback exactly as a redirect's, against its own
//! pending sign-in (`session::complete`); the popup checks and keeps
//! nothing.

use wasm_bindgen::JsCast as _;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::callback::Callback;
use super::{Failure, window};
use crate::json::Object;

/// Marks the `state` of a popup sign-in, so that the page loaded in the
/// popup knows to hand the callback to its opener instead of completing it.
pub(super) const POPUP_STATE_PREFIX: &str = "popup.";

/// How often the page looks whether the popup is still open, in ms.
const TICK_MS: i32 = 400;

/// How many ticks the popup must be seen closed before the sign-in
/// counts as cancelled: 4 ticks, at least 1.2 s after it closed, leave its
/// last message time to arrive.
const CLOSED_TICKS_BEFORE_CANCEL: u32 = 4;

/// The message type a popup relays its callback with.
const POPUP_MESSAGE: &str = "tessera:callback";

/// In the popup: hands a popup sign-in's callback to the page that opened it
/// (same origin only, by `postMessage`'s target origin) and closes the popup.
/// Returns `false`, touching nothing, when this is not such a popup.
pub fn relay_to_opener(callback: &Callback) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let popup_state = callback
        .state
        .as_deref()
        .is_some_and(|state| state.starts_with(POPUP_STATE_PREFIX));
    let opener = window.opener().unwrap_or(JsValue::NULL);
    if !popup_state || opener.is_null() || opener.is_undefined() {
        return false;
    }
    let Ok(origin) = window.location().origin() else {
        return false;
    };
    let message = Object::new()
        .with("type", POPUP_MESSAGE)
        .with("callback", callback.to_json());
    let opener: web_sys::Window = opener.unchecked_into();
    // The target origin is this page's own: a foreign opener receives nothing.
    if opener.post_message(message.value(), &origin).is_err() {
        return false;
    }
    let _ = window.close();
    true
}

/// In the page: opens the sign-in popup. It must run inside the click
/// handler, while the browser still counts the click as user activation.
pub fn open_popup() -> Result<web_sys::Window, Failure> {
    window()?
        .open_with_url_and_target_and_features(
            "about:blank",
            "tessera-login",
            "popup,width=520,height=680",
        )
        .ok()
        .flatten()
        .ok_or(Failure::PopupBlocked)
}

/// In the page: waits for the popup's relayed callback. Only a message from
/// this page's origin and from this very popup counts; a popup closed
/// without one (seen closed for [`CLOSED_TICKS_BEFORE_CANCEL`] ticks) is a
/// cancellation.
pub async fn popup_callback(popup: &web_sys::Window) -> Result<Callback, Failure> {
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::closure::Closure;

    let window = window()?;
    let origin = window.location().origin().unwrap_or_default();
    let resolver: Rc<RefCell<Option<js_sys::Function>>> = Rc::default();
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        *resolver.borrow_mut() = Some(resolve);
    });
    let finish = {
        let resolver = resolver.clone();
        move || {
            if let Some(resolve) = resolver.borrow().as_ref() {
                let _ = resolve.call0(&JsValue::NULL);
            }
        }
    };
    let received: Rc<RefCell<Option<Callback>>> = Rc::default();
    let on_message = {
        let received = received.clone();
        let popup = JsValue::from(popup.clone());
        let finish = finish.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let from_popup = event
                .source()
                .is_some_and(|source| JsValue::from(source) == popup);
            if event.origin() != origin || !from_popup {
                return;
            }
            let Some(message) = Object::from_value(event.data()) else {
                return;
            };
            if message.string("type").as_deref() == Some(POPUP_MESSAGE)
                && let Some(callback) = message.object("callback")
            {
                *received.borrow_mut() = Some(Callback::from_json(&callback));
                finish();
            }
        })
    };
    // The popup posts its message and then closes itself, and the two reach
    // this page by different paths: the popup can be seen closed before its
    // message arrives. So a popup is a cancellation only once it has been
    // seen closed at several ticks.
    let on_tick = {
        let popup = popup.clone();
        let mut closed_ticks = 0_u32;
        Closure::<dyn FnMut()>::new(move || {
            // A closed window never opens again, so the ticks only add up.
            if popup.closed().unwrap_or(true) {
                closed_ticks = closed_ticks.saturating_add(1);
                if closed_ticks >= CLOSED_TICKS_BEFORE_CANCEL {
                    finish();
                }
            }
        })
    };
    let _ = window.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    let interval = window
        .set_interval_with_callback_and_timeout_and_arguments_0(
            on_tick.as_ref().unchecked_ref(),
            TICK_MS,
        )
        .unwrap_or_default();
    let _ = JsFuture::from(promise).await;
    window.clear_interval_with_handle(interval);
    let _ =
        window.remove_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    drop((on_message, on_tick));
    let _ = popup.close();
    let callback = received.take();
    callback.ok_or(Failure::Cancelled)
}
