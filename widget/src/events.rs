//! What the page is told: the `tessera:` events on the element and
//! `element.passport`, and, when a session is announced, what comes with
//! it (the fetch grant, the opt-in storage, the next renewal) or goes with
//! it at sign-out.
//!
//! What it is not: a way to the tokens or to personal data. A passport
//! carries the pseudonymous subject and the non-personal claims; the tokens
//! stay in `bearer`'s grants.

use wasm_bindgen::prelude::*;

use crate::Texts;
use crate::bearer::grant;
use crate::json::Object;
use crate::oidc::{self, Failure, Session};
use crate::renewal::schedule_renewal;
use crate::rotations;
use crate::view::Context;

pub(crate) fn dispatch(host: &web_sys::HtmlElement, name: &str, detail: &Object) {
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(detail.value());
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = host.dispatch_event(&event);
    }
}

/// The passport the page sees: the pseudonymous subject and non-personal
/// claims, never the tokens themselves.
fn passport_detail(session: &Session) -> Object {
    Object::new()
        .with("sub", session.subject.as_str())
        .with("claims", session.claims_object())
        .with("withheld", session.withheld_array())
        .with("expiresAt", session.expires_at)
}

/// The detail of `tessera:error`.
pub(crate) fn error_detail(failure: &Failure, message: String) -> Object {
    Object::new()
        .with("code", failure.code())
        .with("message", message)
        .with("detail", failure.detail())
}

pub(crate) fn report(host: &web_sys::HtmlElement, texts: &Texts, failure: &Failure) {
    dispatch(
        host,
        "tessera:error",
        &error_detail(failure, texts.get(failure.message_id())),
    );
}

/// Which event announces a session to the page.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Announcement {
    /// `tessera:login`: a new sign-in.
    SignIn,
    /// `tessera:refresh`: the same session, renewed (a new `expiresAt`).
    Renewal,
}

/// Hands the page a session: the fetch grant, the opt-in storage,
/// `element.passport` and the event, and schedules the next renewal.
pub(crate) fn announce_session(context: &Context, session: &Session, announcement: Announcement) {
    grant(
        &context.tenant,
        &context.config.allowed_origins,
        Some(session),
        false,
    );
    oidc::remember(&context.tenant, &context.config, Some(session));
    // The property and the event get separate objects: a page that edits
    // one does not change the other.
    let _ = js_sys::Reflect::set(
        &context.host,
        &JsValue::from_str("passport"),
        passport_detail(session).value(),
    );
    let detail = passport_detail(session);
    let event = match announcement {
        Announcement::SignIn => "tessera:login",
        Announcement::Renewal => "tessera:refresh",
    };
    dispatch(&context.host, event, &detail);
    if session.refresh_token.is_some() {
        // A minute before the access token expires.
        let lead = session.expires_at - oidc::now_seconds() as f64 - 60.0;
        schedule_renewal(&context.tenant, lead);
        if context.config.shares_sessions() {
            rotations::listen(&context.tenant);
        }
    }
}

/// Forgets the session locally: the grant, the storage, `element.passport`,
/// then `tessera:logout`.
pub(crate) fn announce_sign_out(context: &Context, session: &Session) {
    grant(&context.tenant, &[], None, false);
    oidc::remember(&context.tenant, &context.config, None);
    let _ = js_sys::Reflect::delete_property(&context.host, &JsValue::from_str("passport"));
    dispatch(
        &context.host,
        "tessera:logout",
        &Object::new().with("sub", session.subject.as_str()),
    );
}
