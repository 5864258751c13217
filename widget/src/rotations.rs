//! Listening for other tabs' refresh-token rotations, in the first module.
//!
//! A duplicated tab holds the same single-use refresh token as the tab it
//! was copied from. When one of them rotates the token, the session module
//! there announces the result on the tenant's `BroadcastChannel`
//! (`tessera-refresh:<tenant>`, see `tessera_widget_session`'s `rotation`),
//! and the other must adopt it instead of spending the token again, even if
//! the tab that rotated has closed by the time it renews. So a tab must hear
//! the announcement when it is made. Listening here, and not in the session
//! module, means a signed-in page view does not download the session module
//! just to listen: it is fetched when the session is actually renewed, and
//! gets what this tab heard with the renewal request.
//!
//! What it is not: the rotation protocol. This module records announcements
//! and repeats one to a tab that asks about it (the tab that made it may be
//! gone); asking, the Web Lock and the token endpoint stay in the session
//! module. Nothing here is stored: what was heard lives as long as the page.

use std::cell::RefCell;

use wasm_bindgen::JsCast as _;
use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;

use crate::json::Object;

thread_local! {
    /// Per tenant: the rotations heard so far, as one object from the old
    /// refresh token's fingerprint to the announcement's text. A page
    /// has a tenant or two, so a list, not a map (a map's hashing costs the
    /// first module bytes every page view downloads).
    static HEARD: RefCell<Vec<(String, Object)>> = const { RefCell::new(Vec::new()) };
}

fn heard_for(tenant: &str) -> Option<Object> {
    HEARD.with_borrow(|heard| {
        heard
            .iter()
            .find(|(listening, _)| listening == tenant)
            .map(|(_, rotations)| rotations.clone())
    })
}

/// Starts listening on `tenant`'s rotation channel, once per page.
pub fn listen(tenant: &str) {
    if heard_for(tenant).is_some() {
        return;
    }
    let Ok(channel) = web_sys::BroadcastChannel::new(&format!("tessera-refresh:{tenant}")) else {
        // No BroadcastChannel (an old browser): the session module's lock
        // still keeps this tab from spending a token twice at the same time.
        return;
    };
    let heard = Object::new();
    let (record, replies) = (heard.clone(), channel.clone());
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            if let Some(text) = event.data().as_string() {
                hear(&record, &replies, &text);
            }
        });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The listener lives as long as the page.
    on_message.forget();
    HEARD.with_borrow_mut(|listening| listening.push((tenant.to_owned(), heard)));
}

/// One message on the channel: `{old, sealed}` announces a rotation and is
/// recorded as it came; `{old}` asks about one, and is answered with the
/// announcement when it was heard. The sealed session is not opened here:
/// the session module opens announcements, with the refresh token they
/// replaced, whether they reach it from this record or from its own
/// channel. Any script of the origin can post here; what it makes up does
/// not open, and is at worst repeated to a tab that ignores it.
fn hear(heard: &Object, channel: &web_sys::BroadcastChannel, text: &str) {
    let Some(message) = Object::parse(text) else {
        return;
    };
    let Some(old) = message.string("old") else {
        return;
    };
    if message.string("sealed").is_some() {
        heard.set(&old, text);
    } else if let Some(announcement) = heard.string(&old) {
        let _ = channel.post_message(&JsValue::from_str(&announcement));
    }
}

/// What this page heard for `tenant`: the announcements' texts, for the
/// session module's renewal request.
pub fn heard(tenant: &str) -> js_sys::Array {
    heard_for(tenant)
        .map(|heard| js_sys::Object::values(heard.value().unchecked_ref()))
        .unwrap_or_default()
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    async fn pause(milliseconds: i32) {
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            if let Some(window) = web_sys::window() {
                let _ = window
                    .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, milliseconds);
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }

    /// The other tab, as a channel of the same name in this page (a
    /// channel does not hear its own messages, but hears every other one).
    fn other_tab(tenant: &str) -> web_sys::BroadcastChannel {
        web_sys::BroadcastChannel::new(&format!("tessera-refresh:{tenant}")).expect("a channel")
    }

    #[wasm_bindgen_test]
    async fn an_announced_rotation_is_recorded_and_repeated_to_a_tab_that_asks() {
        let tenant = "unit-heard";
        listen(tenant);
        let announcing = other_tab(tenant);
        let announcement = r#"{"old":"ab12","sealed":"c2VhbGVkLTI"}"#;
        // Sent last: a channel delivers one sender's messages in order, so
        // once it is heard, so is everything before it.
        let last = r#"{"old":"ef56","sealed":"c2VhbGVkLTM"}"#;
        let _ = announcing.post_message(&JsValue::from_str(announcement));
        let _ = announcing.post_message(&JsValue::from_str(r#"{"old":"cd34"}"#));
        // A session in the clear is not an announcement.
        let _ = announcing.post_message(&JsValue::from_str(
            r#"{"old":"cd34","session":{"access_token":"access-9"}}"#,
        ));
        let _ = announcing.post_message(&JsValue::from_str("not json"));
        let _ = announcing.post_message(&JsValue::from_str(last));
        let texts = |heard: js_sys::Array| -> Vec<String> {
            heard.iter().filter_map(|text| text.as_string()).collect()
        };
        // Waits for delivery instead of guessing its time (a loaded machine
        // takes longer than 50 ms).
        for _ in 0..500 {
            if texts(heard(tenant)).iter().any(|text| text == last) {
                break;
            }
            pause(10).await;
        }
        // Only the announcements: a question is not a rotation, a session in
        // the clear is not an announcement, and what is not JSON is not
        // heard.
        assert_eq!(texts(heard(tenant)), [announcement, last]);
        assert!(texts(heard("unit-not-listening")).is_empty());

        // A third tab asks about the rotation after the announcer is gone.
        announcing.close();
        let asking = other_tab(tenant);
        let answers: std::rc::Rc<RefCell<Vec<String>>> = Default::default();
        let record = answers.clone();
        let on_answer = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                record.borrow_mut().extend(event.data().as_string());
            },
        );
        asking.set_onmessage(Some(on_answer.as_ref().unchecked_ref()));
        let _ = asking.post_message(&JsValue::from_str(r#"{"old":"unknown"}"#));
        let _ = asking.post_message(&JsValue::from_str(r#"{"old":"ab12"}"#));
        // The unknown question came first: once the known one is answered,
        // the unknown one would have been too.
        for _ in 0..500 {
            if !answers.borrow().is_empty() {
                break;
            }
            pause(10).await;
        }
        assert_eq!(
            answers.borrow().as_slice(),
            [r#"{"old":"ab12","sealed":"c2VhbGVkLTI"}"#]
        );
        asking.close();
    }
}
