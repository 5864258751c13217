//! Refresh-token rotation, serialized across tabs.
//!
//! With rotation every refresh token is single use, and an IdP that sees one
//! used twice revokes the whole session (oidc-client-ts#430 is what happens
//! without care). Two tabs can hold the same refresh token: a duplicated tab
//! copies sessionStorage. So a refresh runs under a Web Lock named after the
//! token's fingerprint, and the tab that rotated a token tells the others on
//! a `BroadcastChannel`: a tab that gets the lock next asks first whether
//! someone already rotated its token, and adopts the answer instead of
//! spending the token again.
//!
//! What it is not: storage. Rotations are remembered in memory only, for as
//! long as the page lives; nothing goes to localStorage.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;

use crate::{Refusal, Renewal, Session, token_endpoint};

/// How long a tab waits for another tab to say it already rotated a token.
const ANSWER_WAIT_MILLISECONDS: i32 = 150;

/// A message between tabs: without `session`, "has anyone rotated the token
/// with this fingerprint?"; with it, "I rotated it, here is what replaced
/// it".
#[derive(Debug, Serialize, Deserialize)]
struct Message {
    old: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session: Option<Session>,
}

thread_local! {
    /// Rotations this page made or heard of: old fingerprint to new session.
    static ROTATIONS: RefCell<HashMap<String, Session>> = RefCell::new(HashMap::new());
    static CHANNELS: RefCell<HashMap<String, web_sys::BroadcastChannel>> = RefCell::new(HashMap::new());
}

/// A hex SHA-256 prefix of `token`: names a refresh token in lock names and
/// messages between tabs without revealing it.
fn fingerprint(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// What another tab may receive of a session: everything but the ID token,
/// which may carry the user's personal data and stays in its own tab.
fn shareable(session: Session) -> Session {
    Session {
        id_token: None,
        ..session
    }
}

fn post(channel: &web_sys::BroadcastChannel, message: &Message) {
    if let Ok(text) = serde_json::to_string(message) {
        let _ = channel.post_message(&JsValue::from_str(&text));
    }
}

/// One message between tabs, read strictly: an announcement is recorded; a
/// question is answered on `replies`, when there is somewhere to answer and
/// the rotation is known. Anything else is not a message and is skipped.
fn hear(text: &str, replies: Option<&web_sys::BroadcastChannel>) {
    match serde_json::from_str::<Message>(text) {
        Ok(Message { old, session: None }) => {
            let known = ROTATIONS.with_borrow(|rotations| rotations.get(&old).cloned());
            if let (Some(session), Some(replies)) = (known, replies) {
                post(
                    replies,
                    &Message {
                        old,
                        session: Some(shareable(session)),
                    },
                );
            }
        }
        Ok(Message {
            old,
            session: Some(session),
        }) => {
            ROTATIONS.with_borrow_mut(|rotations| rotations.insert(old, session));
        }
        Err(_) => {}
    }
}

/// The channel this page's widgets of `tenant` share with other tabs,
/// opened (and listened to) on first use.
fn channel(tenant: &str) -> Option<web_sys::BroadcastChannel> {
    if let Some(channel) = CHANNELS.with_borrow(|channels| channels.get(tenant).cloned()) {
        return Some(channel);
    }
    let channel = web_sys::BroadcastChannel::new(&format!("tessera-refresh:{tenant}")).ok()?;
    let replies = channel.clone();
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            if let Some(text) = event.data().as_string() {
                hear(&text, Some(&replies));
            }
        });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The listener lives as long as the page.
    on_message.forget();
    CHANNELS.with_borrow_mut(|channels| channels.insert(tenant.to_owned(), channel.clone()));
    Some(channel)
}

async fn sleep(milliseconds: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, milliseconds);
        }
    });
    let _ = JsFuture::from(promise).await;
}

type Work = Pin<Box<dyn Future<Output = Result<Session, Refusal>>>>;

/// Runs `work` while holding the Web Lock `name`; without the Web Locks API
/// (an old browser) it runs unguarded.
async fn with_web_lock(name: &str, work: Work) -> Result<Session, Refusal> {
    let locks = web_sys::window()
        .and_then(|window| js_sys::Reflect::get(&window.navigator(), &"locks".into()).ok())
        .filter(|locks| locks.is_object());
    let request = locks
        .as_ref()
        .and_then(|locks| js_sys::Reflect::get(locks, &"request".into()).ok())
        .and_then(|request| request.dyn_into::<js_sys::Function>().ok());
    let (Some(locks), Some(request)) = (locks, request) else {
        return work.await;
    };
    let outcome: Rc<RefCell<Option<Result<Session, Refusal>>>> = Rc::default();
    let slot = outcome.clone();
    let work = RefCell::new(Some(work));
    let callback = Closure::once(move |_lock: JsValue| -> js_sys::Promise {
        let work = work.borrow_mut().take();
        wasm_bindgen_futures::future_to_promise(async move {
            if let Some(work) = work {
                *slot.borrow_mut() = Some(work.await);
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    let held = request
        .call2(
            &locks,
            &JsValue::from_str(name),
            callback.as_ref().unchecked_ref(),
        )
        .ok()
        .and_then(|promise| promise.dyn_into::<js_sys::Promise>().ok());
    if let Some(held) = held {
        let _ = JsFuture::from(held).await;
    }
    drop(callback);
    outcome
        .take()
        .unwrap_or_else(|| Err(Refusal::new("idp_unavailable", "the refresh lock failed")))
}

/// A fresh session for `renewal.session`: one another tab already rotated
/// to, or a rotation made here, under the token's lock.
pub async fn refresh(renewal: &Renewal) -> Result<Session, Refusal> {
    let token = renewal
        .session
        .refresh_token
        .as_deref()
        .ok_or_else(|| Refusal::new("session_expired", "the session has no refresh token"))?;
    let old = fingerprint(token);
    // What the first module heard before this module was loaded; from now
    // on this module's own channel hears the rest.
    for text in &renewal.heard {
        hear(text, None);
    }
    let channel = channel(&renewal.tenant);
    let lock = format!("tessera-refresh:{}:{old}", renewal.tenant);
    let (token_endpoint, client_id, current) = (
        renewal.token_endpoint.clone(),
        renewal.client_id.clone(),
        renewal.session.clone(),
    );
    let work: Work = Box::pin(async move {
        let known = || ROTATIONS.with_borrow(|rotations| rotations.get(&old).cloned());
        if let Some(session) = known() {
            return Ok(session);
        }
        if let Some(channel) = &channel {
            post(
                channel,
                &Message {
                    old: old.clone(),
                    session: None,
                },
            );
            sleep(ANSWER_WAIT_MILLISECONDS).await;
            if let Some(session) = known() {
                return Ok(session);
            }
        }
        let session = token_endpoint::rotate(&token_endpoint, &client_id, &current).await?;
        ROTATIONS.with_borrow_mut(|rotations| rotations.insert(old.clone(), session.clone()));
        if let Some(channel) = &channel {
            post(
                channel,
                &Message {
                    old,
                    session: Some(shareable(session.clone())),
                },
            );
        }
        Ok(session)
    });
    with_web_lock(&lock, work).await
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    // Web Locks, BroadcastChannel and timers need a page, not Node.
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    use serde_json::Map;

    use super::*;

    fn session(access_token: &str, refresh_token: Option<&str>, lifetime_seconds: f64) -> Session {
        Session {
            id_token: Some("header.payload.signature".into()),
            access_token: access_token.into(),
            subject: "pseudonymous-subject".into(),
            claims: Map::new(),
            expires_at: crate::id_token::now_seconds() as f64 + lifetime_seconds,
            refresh_token: refresh_token.map(Into::into),
        }
    }

    /// A renewal whose token endpoint is a closed loopback port: a test
    /// that reaches it fails with `idp_unavailable` instead of passing by
    /// accident.
    fn renewal(tenant: &str, session: Session) -> Renewal {
        Renewal {
            tenant: tenant.into(),
            token_endpoint: "http://127.0.0.1:9/token".into(),
            client_id: "shop-widget".into(),
            session,
            heard: Vec::new(),
        }
    }

    type Log = Rc<RefCell<Vec<String>>>;

    /// Work that records when it starts and ends, with a pause between.
    fn recorded(log: &Log, label: &'static str) -> Work {
        let log = log.clone();
        Box::pin(async move {
            log.borrow_mut().push(format!("{label} start"));
            sleep(40).await;
            log.borrow_mut().push(format!("{label} end"));
            Err(Refusal::new("session_expired", label))
        })
    }

    async fn order_of(first_lock: &str, second_lock: &str) -> Vec<String> {
        let log = Log::default();
        let (first, second) = futures::join!(
            with_web_lock(first_lock, recorded(&log, "a")),
            with_web_lock(second_lock, recorded(&log, "b")),
        );
        // Each work's own outcome comes back to its caller.
        assert_eq!(first, Err(Refusal::new("session_expired", "a")));
        assert_eq!(second, Err(Refusal::new("session_expired", "b")));
        log.take()
    }

    #[wasm_bindgen_test]
    fn fingerprint_is_a_hex_sha256_prefix() {
        // FIPS 180-2's "abc" example, first 16 bytes.
        assert_eq!(fingerprint("abc"), "ba7816bf8f01cfea414140de5dae2223");
    }

    #[wasm_bindgen_test]
    async fn one_lock_name_runs_one_refresh_at_a_time() {
        assert_eq!(
            order_of("unit-lock", "unit-lock").await,
            ["a start", "a end", "b start", "b end"]
        );
        // Under different names the two overlap: the check above can fail.
        assert_eq!(
            order_of("unit-lock-1", "unit-lock-2").await,
            ["a start", "b start", "a end", "b end"]
        );
    }

    #[wasm_bindgen_test]
    async fn rotation_announced_by_another_tab_is_adopted_without_spending_the_token() {
        let tenant = "unit-rotation";
        let current = session("access-1", Some("refresh-1"), 30.0);
        let rotated = session("access-2", Some("refresh-2"), 600.0);
        let old = fingerprint("refresh-1");
        // The other tab: answers the question about refresh-1 with its rotation.
        let other_tab = web_sys::BroadcastChannel::new(&format!("tessera-refresh:{tenant}"))
            .expect("a BroadcastChannel");
        let answer = serde_json::to_string(&Message {
            old: old.clone(),
            session: Some(rotated.clone()),
        })
        .expect("JSON");
        let replies = other_tab.clone();
        let on_question = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let asked = event
                    .data()
                    .as_string()
                    .and_then(|text| serde_json::from_str::<Message>(&text).ok());
                if asked.is_some_and(|message| message.session.is_none() && message.old == old) {
                    let _ = replies.post_message(&JsValue::from_str(&answer));
                }
            },
        );
        other_tab.set_onmessage(Some(on_question.as_ref().unchecked_ref()));
        // The token endpoint is unreachable: only the adopted rotation can
        // make this succeed.
        let renewed = refresh(&renewal(tenant, current))
            .await
            .expect("the other tab's rotation");
        assert_eq!(renewed.access_token, "access-2");
        assert_eq!(renewed.refresh_token.as_deref(), Some("refresh-2"));
        other_tab.close();
        drop(on_question);

        // Without an answer the refresh goes to the token endpoint, which
        // here fails: the same call is not passing by accident.
        let lonely = session("access-3", Some("refresh-3"), 30.0);
        let outcome = refresh(&renewal("unit-lonely", lonely)).await;
        assert_eq!(
            outcome.map_err(|refusal| refusal.kind),
            Err("idp_unavailable")
        );
    }
}
