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
//! A message reaches another tab in that tab's own time, and on a loaded
//! machine the next tab can get the lock before the announcement arrives.
//! So the tab that rotated also holds, before it lets go of the refresh
//! lock, a second Web Lock whose *name* is the announcement
//! (`tessera-rotated:<tenant>:<old fingerprint>:<sealed>`), for as long as
//! the page lives: the lock manager shows held locks to every tab at once,
//! so the next holder of the refresh lock reads it with
//! `navigator.locks.query()` before it asks anyone. The channel stays for a
//! tab that rotated and closed.
//!
//! Any script of the page's origin can listen and post on that channel, so
//! what goes over it is sealed (module `seal`) for the holders of the old
//! refresh token, and a tab adopts an announcement only when it opens with
//! its own refresh token and names the same sign-in (subject, issuer and
//! audience of the session it holds). Sessions kept in memory only (the
//! tenant did not opt in to sessionStorage) cannot be in two tabs, so they
//! use no channel at all.
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

use crate::{Refusal, Renewal, Session, seal, token_endpoint};

/// How long a tab waits for another tab to say it already rotated a token.
const ANSWER_WAIT_MILLISECONDS: i32 = 150;

/// How many announcements are kept per fingerprint (the newest): a script
/// of the page can post any number, and only the one that opens counts.
const KEPT_PER_FINGERPRINT: usize = 4;

/// How many of its own rotations a page keeps announcing in held lock
/// names (the newest): a tab far behind catches up one rotation at a time.
const HELD_ANNOUNCEMENTS: usize = 4;

/// A message between tabs: without `sealed`, "has anyone rotated the token
/// with this fingerprint?"; with it, "I rotated it, here is what replaced
/// it, sealed for whoever holds the old token".
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Message {
    old: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<String>,
}

thread_local! {
    /// Rotations this page made itself: old fingerprint to new session. Two
    /// renewals of one session in this page (a timer and a refused request)
    /// spend its token once.
    static MADE_HERE: RefCell<HashMap<String, Session>> = RefCell::new(HashMap::new());
    /// Announcements this page made or heard of: old fingerprint to sealed
    /// sessions, newest last.
    static ROTATIONS: RefCell<HashMap<String, Vec<String>>> = RefCell::new(HashMap::new());
    static CHANNELS: RefCell<HashMap<String, web_sys::BroadcastChannel>> = RefCell::new(HashMap::new());
    /// The release functions of the announcement locks this page holds,
    /// oldest first.
    static ANNOUNCING: RefCell<Vec<js_sys::Function>> = const { RefCell::new(Vec::new()) };
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

fn record(old: String, sealed: String) {
    ROTATIONS.with_borrow_mut(|rotations| {
        let kept = rotations.entry(old).or_default();
        if !kept.contains(&sealed) {
            kept.push(sealed);
        }
        if kept.len() > KEPT_PER_FINGERPRINT {
            kept.remove(0);
        }
    });
}

fn recorded(old: &str) -> Vec<String> {
    ROTATIONS.with_borrow(|rotations| rotations.get(old).cloned().unwrap_or_default())
}

/// One message between tabs, read strictly: an announcement is recorded as
/// it came (this tab may not hold the token to open it); a question is
/// answered on `replies`, when there is somewhere to answer, with what was
/// recorded. Anything else is not a message and is skipped.
fn hear(text: &str, replies: Option<&web_sys::BroadcastChannel>) {
    match serde_json::from_str::<Message>(text) {
        Ok(Message { old, sealed: None }) => {
            if let Some(replies) = replies {
                for sealed in recorded(&old) {
                    post(
                        replies,
                        &Message {
                            old: old.clone(),
                            sealed: Some(sealed),
                        },
                    );
                }
            }
        }
        Ok(Message {
            old,
            sealed: Some(sealed),
        }) => record(old, sealed),
        Err(_) => {}
    }
}

/// Whether `announced` continues the sign-in `current` belongs to: the same
/// subject, issuer and audience.
fn same_sign_in(current: &Session, announced: &Session) -> bool {
    announced.subject == current.subject
        && ["iss", "aud"]
            .iter()
            .all(|claim| announced.claims.get(*claim) == current.claims.get(*claim))
}

/// A rotation of `current`'s refresh token (fingerprint `old`) that this
/// page heard of and can trust: it opens with that token and continues the
/// same sign-in. The subject and claims stay the verified ones this tab
/// holds; the tokens and their expiry are the announced ones.
async fn adoptable(tenant: &str, old: &str, current: &Session) -> Option<Session> {
    let token = current.refresh_token.as_deref()?;
    for sealed in recorded(old).iter().rev() {
        if let Some(announced) = seal::open(tenant, token, old, sealed).await
            && same_sign_in(current, &announced)
        {
            return Some(Session {
                id_token: current.id_token.clone(),
                subject: current.subject.clone(),
                claims: current.claims.clone(),
                withheld: current.withheld.clone(),
                ..announced
            });
        }
    }
    None
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

/// The page's `navigator.locks` and its method `name`, when the browser
/// has the Web Locks API.
fn lock_method(name: &str) -> Option<(JsValue, js_sys::Function)> {
    let locks = web_sys::window()
        .and_then(|window| js_sys::Reflect::get(&window.navigator(), &"locks".into()).ok())
        .filter(|locks| locks.is_object())?;
    let method = js_sys::Reflect::get(&locks, &name.into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    Some((locks, method))
}

/// The lock name announcing the rotation of the token with fingerprint
/// `old`, without the sealed session that ends it.
fn announcement_prefix(tenant: &str, old: &str) -> String {
    format!("tessera-rotated:{tenant}:{old}:")
}

/// Holds the Web Lock `name` until the page closes (or this page has made
/// [`HELD_ANNOUNCEMENTS`] newer ones), and returns once it is granted.
async fn hold_announcement(name: &str) {
    let Some((locks, request)) = lock_method("request") else {
        return;
    };
    let (mut grant, mut release) = (None, None);
    let granted = js_sys::Promise::new(&mut |resolve, _reject| grant = Some(resolve));
    let released = js_sys::Promise::new(&mut |resolve, _reject| release = Some(resolve));
    let (Some(grant), Some(release)) = (grant, release) else {
        return;
    };
    let callback = Closure::once(move |_lock: JsValue| -> js_sys::Promise {
        let _ = grant.call0(&JsValue::UNDEFINED);
        released
    });
    let Some(requested) = request
        .call2(&locks, &name.into(), callback.as_ref().unchecked_ref())
        .ok()
        .and_then(|promise| promise.dyn_into::<js_sys::Promise>().ok())
    else {
        return;
    };
    // Granted, or refused: the request's own promise settles only when the
    // lock is released, or at once when the name is refused.
    let settled = js_sys::Promise::race(&js_sys::Array::of2(&granted, &requested));
    if JsFuture::from(settled).await.is_err() {
        return;
    }
    drop(callback);
    let oldest = ANNOUNCING.with_borrow_mut(|held| {
        held.push(release);
        (held.len() > HELD_ANNOUNCEMENTS).then(|| held.remove(0))
    });
    if let Some(oldest) = oldest {
        let _ = oldest.call0(&JsValue::UNDEFINED);
    }
}

/// Records the announcements of `old`'s rotation that any tab of the
/// origin holds as a lock name right now.
async fn read_held_announcements(tenant: &str, old: &str) {
    let Some((locks, query)) = lock_method("query") else {
        return;
    };
    let Some(snapshot) = query
        .call0(&locks)
        .ok()
        .and_then(|promise| promise.dyn_into::<js_sys::Promise>().ok())
    else {
        return;
    };
    let Ok(snapshot) = JsFuture::from(snapshot).await else {
        return;
    };
    let Ok(held) = js_sys::Reflect::get(&snapshot, &"held".into()) else {
        return;
    };
    let prefix = announcement_prefix(tenant, old);
    for lock in js_sys::Array::from(&held).iter() {
        let name = js_sys::Reflect::get(&lock, &"name".into())
            .ok()
            .and_then(|name| name.as_string());
        if let Some(sealed) = name.as_deref().and_then(|name| name.strip_prefix(&prefix)) {
            record(old.to_owned(), sealed.to_owned());
        }
    }
}

/// Runs `work` while holding the Web Lock `name`; without the Web Locks API
/// (an old browser) it runs unguarded.
async fn with_web_lock(name: &str, work: Work) -> Result<Session, Refusal> {
    let Some((locks, request)) = lock_method("request") else {
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
/// to (when the session may be in other tabs), or a rotation made here,
/// under the token's lock.
pub async fn refresh(renewal: &Renewal) -> Result<Session, Refusal> {
    let token = renewal
        .session
        .refresh_token
        .clone()
        .ok_or_else(|| Refusal::new("session_expired", "the session has no refresh token"))?;
    let old = fingerprint(&token);
    let channel = if renewal.shared {
        // What the first module heard before this module was loaded; from
        // now on this module's own channel hears the rest.
        for text in &renewal.heard {
            hear(text, None);
        }
        channel(&renewal.tenant)
    } else {
        None
    };
    let lock = format!("tessera-refresh:{}:{old}", renewal.tenant);
    let (tenant, token_endpoint, client_id, parameters, current) = (
        renewal.tenant.clone(),
        renewal.token_endpoint.clone(),
        renewal.client_id.clone(),
        renewal.token_parameters.clone(),
        renewal.session.clone(),
    );
    let work: Work = Box::pin(async move {
        if let Some(session) = MADE_HERE.with_borrow(|made| made.get(&old).cloned()) {
            return Ok(session);
        }
        let Some(channel) = channel else {
            let session =
                token_endpoint::rotate(&token_endpoint, &client_id, &parameters, &current).await?;
            MADE_HERE.with_borrow_mut(|made| made.insert(old, session.clone()));
            return Ok(session);
        };
        read_held_announcements(&tenant, &old).await;
        if let Some(session) = adoptable(&tenant, &old, &current).await {
            return Ok(session);
        }
        post(
            &channel,
            &Message {
                old: old.clone(),
                sealed: None,
            },
        );
        sleep(ANSWER_WAIT_MILLISECONDS).await;
        if let Some(session) = adoptable(&tenant, &old, &current).await {
            return Ok(session);
        }
        let session =
            token_endpoint::rotate(&token_endpoint, &client_id, &parameters, &current).await?;
        MADE_HERE.with_borrow_mut(|made| made.insert(old.clone(), session.clone()));
        if let Some(sealed) = seal::seal(&tenant, &token, &old, &shareable(session.clone())).await {
            // Held before the refresh lock is released: the next holder
            // sees it.
            hold_announcement(&format!("{}{sealed}", announcement_prefix(&tenant, &old))).await;
            record(old.clone(), sealed.clone());
            post(
                &channel,
                &Message {
                    old,
                    sealed: Some(sealed),
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
            withheld: Vec::new(),
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
            shared: true,
            heard: Vec::new(),
            token_parameters: Default::default(),
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

    /// The other tab: answers every question about `old` with `answers`,
    /// in order.
    fn other_tab_answering(
        tenant: &str,
        old: &str,
        answers: Vec<String>,
    ) -> (
        web_sys::BroadcastChannel,
        Closure<dyn FnMut(web_sys::MessageEvent)>,
    ) {
        let other_tab = web_sys::BroadcastChannel::new(&format!("tessera-refresh:{tenant}"))
            .expect("a BroadcastChannel");
        let replies = other_tab.clone();
        let old = old.to_owned();
        let on_question = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let asked = event
                    .data()
                    .as_string()
                    .and_then(|text| serde_json::from_str::<Message>(&text).ok());
                if asked.is_some_and(|message| message.sealed.is_none() && message.old == old) {
                    for answer in &answers {
                        let _ = replies.post_message(&JsValue::from_str(answer));
                    }
                }
            },
        );
        other_tab.set_onmessage(Some(on_question.as_ref().unchecked_ref()));
        (other_tab, on_question)
    }

    async fn announcement(tenant: &str, sealed_with: &str, old: &str, session: &Session) -> String {
        let sealed = seal::seal(tenant, sealed_with, old, session)
            .await
            .expect("WebCrypto seals");
        serde_json::to_string(&Message {
            old: old.into(),
            sealed: Some(sealed),
        })
        .expect("JSON")
    }

    #[wasm_bindgen_test]
    async fn a_sealed_rotation_opens_only_with_the_old_token_and_its_fingerprint() {
        let rotated = session("access-2", Some("refresh-2"), 600.0);
        let old = fingerprint("refresh-1");
        let sealed = seal::seal("unit", "refresh-1", &old, &rotated)
            .await
            .expect("sealed");
        // Nothing of the session is readable in the announcement.
        assert!(!sealed.contains("refresh-2") && !sealed.contains("access-2"));
        let opened = seal::open("unit", "refresh-1", &old, &sealed).await;
        assert_eq!(opened, Some(rotated));
        assert_eq!(seal::open("unit", "refresh-9", &old, &sealed).await, None);
        assert_eq!(seal::open("other", "refresh-1", &old, &sealed).await, None);
        let other_fingerprint = fingerprint("refresh-9");
        assert_eq!(
            seal::open("unit", "refresh-1", &other_fingerprint, &sealed).await,
            None
        );
        // One byte changed anywhere is refused by the tag.
        let mut bytes = URL_SAFE_NO_PAD_FOR_TESTS
            .decode(&sealed)
            .expect("base64url");
        if let Some(last) = bytes.last_mut() {
            *last ^= 1;
        }
        let altered = URL_SAFE_NO_PAD_FOR_TESTS.encode(bytes);
        assert_eq!(seal::open("unit", "refresh-1", &old, &altered).await, None);
        assert_eq!(seal::open("unit", "refresh-1", &old, "AA").await, None);
    }

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as URL_SAFE_NO_PAD_FOR_TESTS;

    #[wasm_bindgen_test]
    async fn rotation_announced_by_another_tab_is_adopted_without_spending_the_token() {
        let tenant = "unit-rotation";
        let current = session("access-1", Some("refresh-1"), 30.0);
        let rotated = session("access-2", Some("refresh-2"), 600.0);
        let old = fingerprint("refresh-1");
        // Answers a listener could make up: the session in the clear (what
        // the channel carried before), sealed with another token, and
        // another account's session sealed with the right one. Only the
        // last answer is the other tab's own rotation.
        let in_the_clear = format!(
            r#"{{"old":"{old}","session":{}}}"#,
            serde_json::to_string(&session("access-evil", Some("refresh-evil"), 600.0))
                .expect("JSON")
        );
        let forged = announcement(tenant, "refresh-guessed", &old, &rotated).await;
        let someone_else = Session {
            subject: "another-account".into(),
            ..session("access-other", Some("refresh-other"), 600.0)
        };
        let swapped = announcement(tenant, "refresh-1", &old, &someone_else).await;
        let genuine = announcement(tenant, "refresh-1", &old, &rotated).await;
        let (other_tab, on_question) =
            other_tab_answering(tenant, &old, vec![genuine, in_the_clear, forged, swapped]);
        // The token endpoint is unreachable: only the adopted rotation can
        // make this succeed.
        let renewed = refresh(&renewal(tenant, current.clone()))
            .await
            .expect("the other tab's rotation");
        assert_eq!(renewed.access_token, "access-2");
        assert_eq!(renewed.refresh_token.as_deref(), Some("refresh-2"));
        // The verified ID token and claims stay this tab's own.
        assert_eq!(renewed.id_token, current.id_token);
        other_tab.close();
        drop(on_question);

        // Only made-up answers: none is adopted, and the refresh goes to
        // the token endpoint, which here fails.
        let lonely = session("access-3", Some("refresh-3"), 30.0);
        let old = fingerprint("refresh-3");
        let made_up = vec![
            announcement("unit-made-up", "refresh-guessed", &old, &rotated).await,
            announcement(
                "unit-made-up",
                "refresh-3",
                &old,
                &Session {
                    subject: "another-account".into(),
                    ..rotated.clone()
                },
            )
            .await,
        ];
        let (other_tab, on_question) = other_tab_answering("unit-made-up", &old, made_up);
        let outcome = refresh(&renewal("unit-made-up", lonely)).await;
        assert_eq!(
            outcome.map_err(|refusal| refusal.kind),
            Err("idp_unavailable")
        );
        other_tab.close();
        drop(on_question);
    }

    #[wasm_bindgen_test]
    async fn a_session_in_memory_only_says_nothing_on_the_channel() {
        let tenant = "unit-memory";
        let listener = web_sys::BroadcastChannel::new(&format!("tessera-refresh:{tenant}"))
            .expect("a BroadcastChannel");
        let heard: Rc<RefCell<Vec<String>>> = Rc::default();
        let record = heard.clone();
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                record.borrow_mut().extend(event.data().as_string());
            },
        );
        listener.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let renewal = Renewal {
            shared: false,
            ..renewal(tenant, session("access-4", Some("refresh-4"), 30.0))
        };
        let outcome = refresh(&renewal).await;
        assert_eq!(
            outcome.map_err(|refusal| refusal.kind),
            Err("idp_unavailable")
        );
        sleep(50).await;
        assert!(heard.borrow().is_empty(), "{:?}", heard.borrow());
        // With `shared` the same call asks on the channel: the check above
        // can fail.
        let renewal = Renewal {
            shared: true,
            ..renewal
        };
        let _ = refresh(&renewal).await;
        assert!(!heard.borrow().is_empty());
        listener.close();
    }
}
