//! Keeping sessions alive: per mounted widget a [`Keeper`] that renews its
//! session (a rotation of the refresh token, through the session module)
//! or ends it, when its timer fires a minute before the access token
//! expires or when the shop's API answered 401 (the loader's
//! `renewRejected` and `endRejected`). A renewal the IdP cannot answer
//! keeps the session while its access token is valid and is scheduled
//! again with backoff; a refusal ends it.
//!
//! What it is not: the rotation itself (the session module, under a Web
//! Lock) or what other tabs rotated (`rotations`).

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::bearer::{GRANTS, park, tenant_holding};
use crate::events::{Announcement, announce_session, announce_sign_out, report};
use crate::oidc::{self, Failure, Session};
use crate::view::Context;

pub(crate) type Renewal = std::pin::Pin<Box<dyn std::future::Future<Output = Option<String>>>>;

/// What a mounted widget does when its passport must be renewed (it is
/// about to expire, or the shop's API refused it): `renew` rotates the
/// refresh token when there is one, `expire` signs out here and says so.
#[derive(Clone)]
pub(crate) struct Keeper {
    pub(crate) host: web_sys::HtmlElement,
    pub(crate) tenant: String,
    pub(crate) renew: std::rc::Rc<dyn Fn() -> Renewal>,
    pub(crate) expire: std::rc::Rc<dyn Fn()>,
    /// The mounted view: dropping the last handle unmounts it.
    pub(crate) view: Option<std::rc::Rc<dyn std::any::Any>>,
}

thread_local! {
    /// The mounted widgets.
    pub(crate) static KEEPERS: std::cell::RefCell<Vec<Keeper>> = const { std::cell::RefCell::new(Vec::new()) };
}

pub(crate) fn keeper_of(tenant: &str) -> Option<Keeper> {
    KEEPERS.with_borrow(|keepers| {
        keepers
            .iter()
            .find(|keeper| keeper.tenant == tenant)
            .cloned()
    })
}

pub(crate) fn is_mounted(host: &web_sys::HtmlElement) -> bool {
    KEEPERS.with_borrow(|keepers| keepers.iter().any(|keeper| &keeper.host == host))
}

/// Called by `window.Tessera.fetch` when a request that carried `token` was
/// answered 401: the widget holding it rotates its refresh token and returns
/// the new access token for one retry. Without a refresh token, or when the
/// IdP refuses, it signs out here, says that the session ended, and
/// returns nothing; when the IdP cannot be reached it keeps the session,
/// tries again later, and returns nothing.
#[wasm_bindgen(js_name = renewRejected)]
pub async fn renew_rejected(token: String) -> Option<String> {
    let keeper = keeper_of(&tenant_holding(&token)?)?;
    (keeper.renew)().await
}

/// Called by `window.Tessera.fetch` when even the renewed token was refused:
/// the widget signs out here and says that the session ended.
#[wasm_bindgen(js_name = endRejected)]
pub fn end_rejected(token: &str) {
    if let Some(keeper) = tenant_holding(token).as_deref().and_then(keeper_of) {
        (keeper.expire)();
    }
}

/// Registers the [`Keeper`] of a mounted widget, whose view holds `session`
/// and shows `failure`.
pub(crate) fn register_keeper(
    context: &Context,
    session: RwSignal<Option<Session>>,
    failure: RwSignal<Option<Failure>>,
) {
    // When the passport must be renewed: rotate the refresh token (under
    // the cross-tab lock), or sign out here and say so. The signals are
    // read with `try_`: a renewal can finish after the element left the
    // page and its view was disposed.
    let expire: std::rc::Rc<dyn Fn()> = {
        let context = context.clone();
        std::rc::Rc::new(move || {
            let Some(current) = session.try_get_untracked().flatten() else {
                return;
            };
            session.try_set(None);
            announce_sign_out(&context, &current);
            let expired = Failure::SessionExpired;
            report(&context.host, &context.texts, &expired);
            failure.try_set(Some(expired));
        })
    };
    // Renewals in a row the IdP could not answer.
    let attempts = std::rc::Rc::new(std::cell::Cell::new(0_u32));
    let renew: std::rc::Rc<dyn Fn() -> Renewal> = {
        let context = context.clone();
        let expire = expire.clone();
        std::rc::Rc::new(move || -> Renewal {
            let context = context.clone();
            let expire = expire.clone();
            let attempts = attempts.clone();
            Box::pin(async move {
                let current = session.try_get_untracked().flatten()?;
                let outcome = match context.discovery.get().await {
                    Ok(discovery) if current.refresh_token.is_some() => {
                        oidc::refresh(&context.tenant, &context.config, &discovery, &current).await
                    }
                    Ok(_) => Err(Failure::SessionExpired),
                    Err(failure) => Err(failure),
                };
                match outcome {
                    Ok(fresh) => {
                        attempts.set(0);
                        // A rotation adopted from another tab comes
                        // without the ID token, which stays in each tab.
                        let fresh = oidc::Session {
                            id_token: fresh.id_token.or(current.id_token),
                            ..fresh
                        };
                        if !is_mounted(&context.host) {
                            // The element left the page meanwhile: the
                            // session waits for it to come back.
                            park(&context.tenant, fresh);
                            return None;
                        }
                        announce_session(&context, &fresh, Announcement::Renewal);
                        session.try_set(Some(fresh.clone()));
                        Some(fresh.access_token)
                    }
                    // The IdP (or the server with the session module)
                    // cannot be reached: the session stays while its
                    // access token is valid, and is renewed again after
                    // a pause. Only a refusal, or the token running
                    // out, ends it.
                    Err(Failure::IdpUnavailable(_))
                        if current.expires_at > oidc::now_seconds() as f64 =>
                    {
                        let attempt = attempts.get();
                        attempts.set(attempt.saturating_add(1));
                        let left = current.expires_at - oidc::now_seconds() as f64;
                        if is_mounted(&context.host) {
                            schedule_renewal(
                                &context.tenant,
                                retry_delay_seconds(attempt).min(left),
                            );
                        }
                        None
                    }
                    Err(_) => {
                        expire();
                        None
                    }
                }
            })
        })
    };
    KEEPERS.with_borrow_mut(|keepers| {
        keepers.push(Keeper {
            host: context.host.clone(),
            tenant: context.tenant.clone(),
            renew,
            expire,
            view: None,
        });
    });
}

/// Renews `tenant`'s session in `delay_seconds`, instead of any renewal
/// scheduled before; a timer whose session was replaced meanwhile does
/// nothing.
pub(crate) fn schedule_renewal(tenant: &str, delay_seconds: f64) {
    let delay = (delay_seconds.max(0.0) * 1000.0).min(f64::from(i32::MAX)) as i32;
    GRANTS.with_borrow_mut(|grants| {
        let Some(grant) = grants
            .iter_mut()
            .find(|grant| !grant.parked && grant.tenant == tenant)
        else {
            return;
        };
        grant.cancel_renewal();
        let (owner, token) = (grant.tenant.clone(), grant.session.access_token.clone());
        let fire = wasm_bindgen::closure::Closure::once_into_js(move || {
            if tenant_holding(&token).as_deref() != Some(owner.as_str()) {
                return;
            }
            if let Some(keeper) = keeper_of(&owner) {
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = (keeper.renew)().await;
                });
            }
        });
        grant.timer = web_sys::window().and_then(|window| {
            window
                .set_timeout_with_callback_and_timeout_and_arguments_0(fire.unchecked_ref(), delay)
                .ok()
        });
    });
}

/// How long to wait before the `attempt`-th retry (from 0) of a renewal the
/// IdP could not answer: 2 s doubling to 32 s, each spread by a random
/// quarter either way so that tabs and shops do not retry in step.
fn retry_delay_seconds(attempt: u32) -> f64 {
    let base = f64::from(2_u32 << attempt.min(4));
    base * (0.75 + js_sys::Math::random() / 2.0)
}
