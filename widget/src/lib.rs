//! The `<tessera-login>` widget, rendered with Leptos (client-side) inside the
//! element's open shadow root.
//!
//! The loader (`js/loader.js`, built into `dist/widget/tessera.js`) defines the
//! custom element, opens the shadow root, links the tenant's `theme.css` and
//! the widget's own stylesheet from the server, and calls [`mount`] with a
//! container inside the shadow root. This crate starts the sign-in
//! (`oidc`: Authorization Code + PKCE against the tenant's IdP) and takes
//! the callback; the code exchange, the ID-token check with
//! `tessera-verifier` and refresh-token rotation run in the session module
//! (`tessera-widget-session`), a second wasm module the loader fetches only
//! when they are needed. It renders in the tenant's language and
//! direction without inline styles, and hands the page a passport of
//! non-personal claims through events and `element.passport`, never the
//! tokens' personal data. Nothing throws into the host page: every failure
//! becomes a localized message and a `tessera:error` event.

mod json;
mod oidc;
mod rotations;
#[cfg(all(test, target_arch = "wasm32"))]
mod test_support;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::json::Object;
use crate::oidc::{Discovery, Failure, Mode, Session, TenantConfig};

/// The texts the server resolved for the negotiated locale.
#[derive(Debug, Clone)]
struct Texts {
    locale: String,
    dir: String,
    /// Message id and text, in the bundle's order (a few dozen: a list is
    /// smaller in wasm than a map and as quick).
    messages: Vec<(String, String)>,
}

impl Texts {
    fn from_json(document: &Object) -> Option<Texts> {
        Some(Texts {
            locale: document.string("locale")?,
            dir: document.string("dir")?,
            messages: document.object("messages")?.string_members(),
        })
    }

    fn get(&self, id: &str) -> String {
        self.messages
            .iter()
            .find(|(known, _)| known == id)
            .map_or_else(|| id.to_owned(), |(_, text)| text.clone())
    }
}

/// What the element's attributes say.
#[derive(Debug, Clone)]
struct Options {
    tenant: String,
    /// `redirect` (default) or `popup`.
    mode: Option<String>,
}

impl Options {
    fn from_value(options: JsValue) -> Option<Options> {
        let options = Object::from_value(options)?;
        Some(Options {
            tenant: options.string("tenant")?,
            mode: options.string("mode"),
        })
    }
}

fn dispatch(host: &web_sys::HtmlElement, name: &str, detail: &Object) {
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
        .with("expiresAt", session.expires_at)
}

/// The detail of `tessera:error`.
fn error_detail(failure: &Failure, message: String) -> Object {
    Object::new()
        .with("code", failure.code())
        .with("message", message)
        .with("detail", failure.detail())
}

fn report(host: &web_sys::HtmlElement, texts: &Texts, failure: &Failure) {
    dispatch(
        host,
        "tessera:error",
        &error_detail(failure, texts.get(failure.message_id())),
    );
}

/// A provider button's text: the `sign-in-with` template with its
/// `{provider}` replaced by the label. The browser's `String.replace` does
/// it: Rust's substring search would add kilobytes to the first module.
fn provider_label(template: &str, label: &str) -> String {
    // In a replacement string `$` starts a pattern (`$&` is the match):
    // doubled, it is a plain `$`.
    let literal = label.replace('$', "$$");
    js_sys::JsString::from(template)
        .replace("{provider}", &literal)
        .into()
}

/// The sessions of this page's widgets, one per tenant: where their access
/// tokens may go (for `window.Tessera.fetch`) and their renewal timer. A
/// session whose element left the page is *parked*: it attaches to no
/// request and is not renewed until an element of its tenant is added
/// again and picks it up.
struct Grant {
    tenant: String,
    origins: Vec<String>,
    session: Session,
    /// The pending renewal timer.
    timer: Option<i32>,
    parked: bool,
}

impl Grant {
    fn cancel_renewal(&mut self) {
        if let (Some(timer), Some(window)) = (self.timer.take(), web_sys::window()) {
            window.clear_timeout_with_handle(timer);
        }
    }
}

type Renewal = std::pin::Pin<Box<dyn std::future::Future<Output = Option<String>>>>;

/// What a mounted widget does when its passport must be renewed (it is
/// about to expire, or the shop's API refused it): `renew` rotates the
/// refresh token when there is one, `expire` signs out here and says so.
#[derive(Clone)]
struct Keeper {
    host: web_sys::HtmlElement,
    tenant: String,
    renew: std::rc::Rc<dyn Fn() -> Renewal>,
    expire: std::rc::Rc<dyn Fn()>,
    /// The mounted view: dropping the last handle unmounts it.
    view: Option<std::rc::Rc<dyn std::any::Any>>,
}

thread_local! {
    static GRANTS: std::cell::RefCell<Vec<Grant>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The mounted widgets.
    static KEEPERS: std::cell::RefCell<Vec<Keeper>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The tenant whose live (not parked) session holds `token`.
fn tenant_holding(token: &str) -> Option<String> {
    GRANTS.with_borrow(|grants| {
        grants
            .iter()
            .find(|grant| !grant.parked && grant.session.access_token == token)
            .map(|grant| grant.tenant.clone())
    })
}

fn keeper_of(tenant: &str) -> Option<Keeper> {
    KEEPERS.with_borrow(|keepers| {
        keepers
            .iter()
            .find(|keeper| keeper.tenant == tenant)
            .cloned()
    })
}

fn is_mounted(host: &web_sys::HtmlElement) -> bool {
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

/// Takes `tenant`'s session away (live or parked), with its pending renewal.
fn take_grant(tenant: &str) -> Option<Grant> {
    GRANTS.with_borrow_mut(|grants| {
        let index = grants.iter().position(|grant| grant.tenant == tenant)?;
        let mut grant = grants.swap_remove(index);
        grant.cancel_renewal();
        Some(grant)
    })
}

/// Gives `tenant`'s session (or, with `parked`, keeps it for later), in
/// place of the one before.
fn grant(tenant: &str, origins: &[String], session: Option<&Session>, parked: bool) {
    let _ = take_grant(tenant);
    if let Some(session) = session {
        GRANTS.with_borrow_mut(|grants| {
            grants.push(Grant {
                tenant: tenant.to_owned(),
                origins: origins.to_vec(),
                session: session.clone(),
                timer: None,
                parked,
            });
        });
    }
}

/// The bearer token `window.Tessera.fetch` may attach to a request for
/// `url`: only for the page's own origin or an origin the tenant allowlists,
/// and only while the token is valid.
#[wasm_bindgen(js_name = bearerFor)]
pub fn bearer_for(url: &str) -> Option<String> {
    let window = web_sys::window()?;
    let page_origin = window.location().origin().ok()?;
    let target = web_sys::Url::new_with_base(url, &window.location().href().ok()?).ok()?;
    let target_origin = target.origin();
    let now = oidc::now_seconds() as f64;
    GRANTS.with_borrow(|grants| {
        grants
            .iter()
            .find(|grant| {
                !grant.parked
                    && grant.session.expires_at > now
                    && (target_origin == page_origin || grant.origins.contains(&target_origin))
            })
            .map(|grant| grant.session.access_token.clone())
    })
}

/// Renews `tenant`'s session in `delay_seconds`, instead of any renewal
/// scheduled before; a timer whose session was replaced meanwhile does
/// nothing.
fn schedule_renewal(tenant: &str, delay_seconds: f64) {
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

/// The parked session of `tenant`, when it can still be used (its access
/// token is valid, or it can be renewed).
fn take_parked(tenant: &str) -> Option<Session> {
    let grant = take_grant(tenant)?;
    (grant.parked
        && (grant.session.expires_at > oidc::now_seconds() as f64
            || grant.session.refresh_token.is_some()))
    .then_some(grant.session)
}

/// Called by the loader when an element leaves the page (a single-page
/// app's route change): its view is unmounted, its renewal timer stopped,
/// and its session no longer attached to requests. A live session is
/// parked, so an element of the same tenant added again picks it up.
#[wasm_bindgen]
pub fn unmount(host: &web_sys::HtmlElement) {
    let keeper = KEEPERS.with_borrow_mut(|keepers| {
        let index = keepers.iter().position(|keeper| &keeper.host == host)?;
        Some(keepers.swap_remove(index))
    });
    if let Some(keeper) = keeper
        && keeper_of(&keeper.tenant).is_none()
        && let Some(grant) = take_grant(&keeper.tenant)
    {
        park(&keeper.tenant, grant.session);
    }
}

/// Keeps `session` for the element of `tenant` that will be added again.
fn park(tenant: &str, session: Session) {
    grant(tenant, &[], Some(&session), true);
}

/// What a mounted widget works with, shared by its handlers (cloning it
/// clones a pointer).
#[derive(Clone)]
struct Context(std::sync::Arc<Mounted>);

impl std::ops::Deref for Context {
    type Target = Mounted;

    fn deref(&self) -> &Mounted {
        &self.0
    }
}

struct Mounted {
    host: web_sys::HtmlElement,
    tenant: String,
    texts: Texts,
    config: TenantConfig,
    discovery: LazyDiscovery,
    mode: Mode,
}

/// Which event announces a session to the page.
#[derive(Debug, Clone, Copy)]
enum Announcement {
    /// `tessera:login`: a new sign-in.
    SignIn,
    /// `tessera:refresh`: the same session, renewed (a new `expiresAt`).
    Renewal,
}

/// Hands the page a session: the fetch grant, the opt-in storage,
/// `element.passport` and the event, and schedules the next renewal.
fn announce_session(context: &Context, session: &Session, announcement: Announcement) {
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
fn announce_sign_out(context: &Context, session: &Session) {
    grant(&context.tenant, &[], None, false);
    oidc::remember(&context.tenant, &context.config, None);
    let _ = js_sys::Reflect::delete_property(&context.host, &JsValue::from_str("passport"));
    dispatch(
        &context.host,
        "tessera:logout",
        &Object::new().with("sub", session.subject.as_str()),
    );
}

#[component]
fn Widget(context: Context, initial: Result<Option<Session>, Failure>) -> impl IntoView {
    let (initial_session, initial_failure) = match initial {
        Ok(session) => (session, None),
        Err(failure) => (None, Some(failure)),
    };
    let session = RwSignal::new(initial_session);
    let failure = RwSignal::new(initial_failure);
    let busy = RwSignal::new(false);
    let texts = &context.texts;

    {
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
                            oidc::refresh(&context.tenant, &context.config, &discovery, &current)
                                .await
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
    {
        // The IdP being unreachable is said at once, not on the first click.
        let context = context.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(error) = context.discovery.get().await
                && failure.try_with_untracked(Option::is_none) == Some(true)
            {
                report(&context.host, &context.texts, &error);
                failure.try_set(Some(error));
            }
        });
    }
    let fail = {
        let context = context.clone();
        move |error: Failure| {
            busy.try_set(false);
            report(&context.host, &context.texts, &error);
            failure.try_set(Some(error));
        }
    };
    let start = {
        let context = context.clone();
        move |hint: Option<(String, String)>| {
            let context = context.clone();
            let fail = fail.clone();
            busy.try_set(true);
            failure.try_set(None);
            dispatch(
                &context.host,
                "tessera:interaction",
                &Object::new().with("control", "sign-in"),
            );
            // A popup must open now, inside the click, or browsers block it.
            let popup = match context.mode {
                Mode::Redirect => None,
                Mode::Popup => match oidc::open_popup() {
                    Ok(popup) => Some(popup),
                    Err(error) => return fail(error),
                },
            };
            wasm_bindgen_futures::spawn_local(async move {
                let hint_ref = hint.as_ref().map(|(p, v)| (p.as_str(), v.as_str()));
                let discovery = context.discovery.get().await;
                let url = match &discovery {
                    Ok(discovery) => {
                        oidc::authorization_url(
                            &context.tenant,
                            &context.config,
                            discovery,
                            &context.texts.locale,
                            hint_ref,
                            context.mode,
                        )
                        .await
                    }
                    Err(failure) => Err(failure.clone()),
                };
                let (url, popup) = match (url, popup) {
                    (Ok(url), popup) => (url, popup),
                    (Err(error), popup) => {
                        if let Some(popup) = popup {
                            let _ = popup.close();
                        }
                        return fail(error);
                    }
                };
                let Some(popup) = popup else {
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().assign(&url);
                    }
                    return;
                };
                let _ = popup.location().set_href(&url);
                let outcome = match (oidc::popup_callback(&popup).await, discovery) {
                    (Ok(callback), Ok(discovery)) => {
                        oidc::complete(&context.tenant, &context.config, &discovery, callback).await
                    }
                    (_, Err(error)) => Err(error),
                    (Err(error), _) => {
                        oidc::forget_pending(&context.tenant);
                        Err(error)
                    }
                };
                match outcome {
                    Ok(new_session) if !is_mounted(&context.host) => {
                        // The element left the page during the sign-in.
                        park(&context.tenant, new_session);
                    }
                    Ok(new_session) => {
                        busy.try_set(false);
                        announce_session(&context, &new_session, Announcement::SignIn);
                        session.try_set(Some(new_session));
                    }
                    Err(error) => fail(error),
                }
            });
        }
    };
    let sign_in = {
        let start = start.clone();
        move |_| start(None)
    };
    let sign_out = {
        let context = context.clone();
        move |_| {
            let Some(current) = session.get_untracked() else {
                return;
            };
            session.try_set(None);
            announce_sign_out(&context, &current);
            // Without the discovery document (the IdP is down) the session
            // still ends here; only the IdP's own session stays.
            let discovery = context.discovery.ready();
            if let (Some(url), Some(window)) = (
                discovery.and_then(|d| oidc::end_session_url(&context.config, &d, &current)),
                web_sys::window(),
            ) {
                let _ = window.location().assign(&url);
            }
        }
    };
    let providers = context.clone();
    let signed_in_text = texts.get("signed-in");
    let sign_out_text = texts.get("sign-out");
    let sign_in_text = texts.get("sign-in");
    let signing_in_text = texts.get("signing-in");
    let with_template = texts.get("sign-in-with");
    let dismiss_text = texts.get("dismiss");
    let error_texts = context.clone();
    // The tenant's logo (`--tessera-logo`, a background drawn by the
    // stylesheet, so no inline style), named by the shop's name (which the
    // server requires).
    let logo = context.config.logo.then(|| {
        let name = context.config.display_name.clone();
        view! { <div class="logo" part="logo" role="img" aria-label=name></div> }
    });
    view! {
        <section class="tessera" part="root" lang=texts.locale.clone() dir=texts.dir.clone() aria-labelledby="tessera-title">
            {logo}
            <h2 id="tessera-title" part="title">{texts.get("widget-title")}</h2>
            <Show when=move || failure.with(Option::is_some)>
                <div class="error" part="error" role="alert">
                    <p>{
                        let error_texts = error_texts.clone();
                        move || failure.with(|f| f.as_ref().map(|f| error_texts.texts.get(f.message_id())).unwrap_or_default())
                    }</p>
                    <button type="button" class="secondary" part="dismiss" on:click=move |_| failure.set(None)>{dismiss_text.clone()}</button>
                </div>
            </Show>
            <Show
                when=move || session.with(Option::is_some)
                fallback={
                    let sign_in = sign_in.clone();
                    let start = start.clone();
                    let providers = providers.clone();
                    let with_template = with_template.clone();
                    let sign_in_text = sign_in_text.clone();
                    let signing_in_text = signing_in_text.clone();
                    move || view! {
                        <button type="button" part="button sign-in" class="primary" on:click=sign_in.clone() aria-busy=move || busy.get().to_string()>
                            {
                                let (a, b) = (sign_in_text.clone(), signing_in_text.clone());
                                move || if busy.get() { b.clone() } else { a.clone() }
                            }
                        </button>
                        {providers.config.providers.iter().map(|provider| {
                            let start = start.clone();
                            let hint = (provider.hint_parameter.clone(), provider.hint_value.clone());
                            let label = provider_label(&with_template, &provider.label);
                            view! {
                                <button type="button" part="button provider" class="secondary" on:click=move |_| start(Some(hint.clone()))>{label}</button>
                            }
                        }).collect_view()}
                    }
                }
            >
                <p part="status" class="status">{signed_in_text.clone()}</p>
                <button type="button" part="button sign-out" class="secondary" on:click=sign_out.clone()>{sign_out_text.clone()}</button>
            </Show>
            <p part="note" class="note">{texts.get("privacy-note")}</p>
        </section>
    }
}

/// The IdP's discovery document, fetched in the background: the widget
/// renders without waiting for it, and whoever needs it (a click, a
/// callback) awaits the same fetch.
#[derive(Clone)]
struct LazyDiscovery {
    fetched: js_sys::Promise,
    result: std::sync::Arc<std::sync::Mutex<Option<Result<Discovery, Failure>>>>,
}

impl LazyDiscovery {
    fn start(issuer: &str) -> LazyDiscovery {
        // Arc and Mutex only because Leptos views require Send; the widget
        // runs on one thread.
        let result: std::sync::Arc<std::sync::Mutex<Option<Result<Discovery, Failure>>>> =
            std::sync::Arc::default();
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let issuer = issuer.to_owned();
        let slot = result.clone();
        let fetched = wasm_bindgen_futures::future_to_promise(async move {
            let outcome = oidc::fetch_json(&url)
                .await
                .and_then(|document| {
                    Discovery::from_json(&document).ok_or_else(|| oidc::unexpected(&url))
                })
                .and_then(|discovery| {
                    if discovery.issuer == issuer {
                        Ok(discovery)
                    } else {
                        Err(Failure::Configuration(
                            "the discovery document names another issuer".into(),
                        ))
                    }
                });
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
            Ok(JsValue::UNDEFINED)
        });
        LazyDiscovery { fetched, result }
    }

    /// The document, waiting for the fetch if it is still running.
    async fn get(&self) -> Result<Discovery, Failure> {
        let _ = wasm_bindgen_futures::JsFuture::from(self.fetched.clone()).await;
        self.result
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| Err(Failure::IdpUnavailable("discovery did not finish".into())))
    }

    /// The document if it has arrived.
    fn ready(&self) -> Option<Discovery> {
        self.result
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|r| r.as_ref().ok().cloned())
    }
}

/// The texts and the tenant's configuration, from the fetches the loader
/// started side by side with the wasm's.
async fn prepare(
    texts: js_sys::Promise,
    config: js_sys::Promise,
) -> Result<(Texts, TenantConfig), (Option<Texts>, Failure)> {
    const TEXTS: &str = "the tenant's texts";
    const CONFIGURATION: &str = "the tenant's configuration";
    // Both fetches are already running (the loader started them): awaiting
    // one after the other waits no longer than awaiting both at once.
    let texts = oidc::fetched_json(TEXTS, texts).await;
    let config = oidc::fetched_json(CONFIGURATION, config).await;
    let texts = texts
        .and_then(|document| Texts::from_json(&document).ok_or_else(|| oidc::unexpected(TEXTS)));
    let config = config.and_then(|document| {
        TenantConfig::from_json(&document).ok_or_else(|| oidc::unexpected(CONFIGURATION))
    });
    let texts = texts.map_err(|f| (None, f))?;
    let config = config.map_err(|f| (Some(texts.clone()), f))?;
    Ok((texts, config))
}

/// Renders the widget into `container` (inside `host`'s shadow root).
/// `options` is `{tenant, mode?}`; `texts` and `config` are the
/// loader's fetches of the tenant's texts and configuration, started before
/// the wasm was ready so that the first render waits for one round trip,
/// not two.
#[wasm_bindgen]
pub fn mount(
    host: web_sys::HtmlElement,
    container: web_sys::HtmlElement,
    options: JsValue,
    texts: js_sys::Promise,
    config: js_sys::Promise,
) {
    let options = Options::from_value(options);
    // Only a callback this tab is waiting for is taken from the URL; the
    // page in a sign-in popup only hands it to its opener.
    let callback = options
        .as_ref()
        .and_then(|options| oidc::take_callback(&options.tenant));
    if callback.as_ref().is_some_and(oidc::relay_to_opener) {
        container.set_text_content(Some("…"));
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        let Some(options) = options else {
            container.set_text_content(Some(
                "Sign-in is not set up: the element needs `server` and `tenant`.",
            ));
            dispatch(
                &host,
                "tessera:error",
                &Object::new()
                    .with("code", "configuration")
                    .with("message", "the element needs server and tenant attributes"),
            );
            return;
        };
        let (texts, config) = match prepare(texts, config).await {
            Ok(prepared) => prepared,
            Err((texts, failure)) => {
                let message = texts.as_ref().map_or_else(
                    || "Sign-in is unavailable right now.".to_owned(),
                    |t| t.get(failure.message_id()),
                );
                container.set_text_content(Some(&message));
                container.set_attribute("role", "alert").ok();
                dispatch(&host, "tessera:error", &error_detail(&failure, message));
                return;
            }
        };
        let discovery = LazyDiscovery::start(&config.issuer);
        let initial =
            match callback {
                // A session this page already holds (its element was removed
                // and added again), else the tab's remembered one.
                None => Ok(take_parked(&options.tenant)
                    .or_else(|| oidc::remembered(&options.tenant, &config))),
                Some(callback) => match discovery.get().await {
                    Ok(document) => oidc::complete(&options.tenant, &config, &document, callback)
                        .await
                        .map(Some),
                    Err(failure) => Err(failure),
                },
            };
        let mode = match options.mode.as_deref() {
            Some("popup") => Mode::Popup,
            _ => Mode::Redirect,
        };
        let context = Context(std::sync::Arc::new(Mounted {
            host,
            tenant: options.tenant,
            texts,
            config,
            discovery,
            mode,
        }));
        let host = context.host.clone();
        let view = leptos::mount::mount_to(container.clone(), {
            let context = context.clone();
            let initial = initial.clone();
            move || view! { <Widget context=context initial=initial/> }
        });
        let view: std::rc::Rc<dyn std::any::Any> = std::rc::Rc::new(view);
        KEEPERS.with_borrow_mut(|keepers| {
            if let Some(keeper) = keepers.iter_mut().find(|keeper| keeper.host == host) {
                keeper.view = Some(view);
            }
        });
        match &initial {
            Ok(Some(session)) => announce_session(&context, session, Announcement::SignIn),
            Err(failure) => report(&context.host, &context.texts, failure),
            Ok(None) => {}
        }
        if !container.is_connected() {
            // The element left the page while it was getting ready: what it
            // got is parked like any removed widget's.
            unmount(&host);
        }
    });
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::{bearer_for, grant, provider_label};
    use crate::test_support::{session, tenant_config, window};

    const TENANT: &str = "unit-bearer";

    /// `Tessera.fetch` asks `bearer_for` whether a URL may carry the token.
    fn check(url: &str, expected: Option<&str>) {
        assert_eq!(bearer_for(url).as_deref(), expected, "bearer for {url}");
    }

    #[wasm_bindgen_test]
    fn bearer_token_goes_only_to_the_page_and_allowlisted_origins() {
        let config = tenant_config("memory", &["https://api.shop.example"]);
        grant(
            TENANT,
            &config.allowed_origins,
            Some(&session("token-1", None, 600.0)),
            false,
        );
        let page = window().location().origin().expect("an origin");
        check("/api/orders", Some("token-1"));
        check("api/orders?x=1", Some("token-1"));
        check(&format!("{page}/api/orders"), Some("token-1"));
        check("https://api.shop.example/orders", Some("token-1"));
        // Look-alike and downgraded origins, and URLs that merely mention an
        // allowed origin, get nothing.
        check("http://api.shop.example/orders", None);
        check("https://api.shop.example.evil.test/orders", None);
        check("https://api.shop.example:8443/orders", None);
        check("https://evil.test/?next=https://api.shop.example", None);
        check("//evil.test/orders", None);
        check("https://shop.example@evil.test/", None);
        grant(TENANT, &[], None, false);
        check("/api/orders", None);
    }

    #[wasm_bindgen_test]
    fn expired_token_is_never_attached() {
        let config = tenant_config("memory", &[]);
        grant(
            TENANT,
            &config.allowed_origins,
            Some(&session("token-old", None, -1.0)),
            false,
        );
        check("/api/orders", None);
        grant(TENANT, &[], None, false);
    }

    #[wasm_bindgen_test]
    fn a_provider_button_names_its_provider_in_the_locales_words() {
        assert_eq!(
            provider_label("Sign in with {provider}", "Bank"),
            "Sign in with Bank"
        );
        assert_eq!(
            provider_label("{provider} で続ける", "Bank"),
            "Bank で続ける"
        );
        // A label is text, never a pattern: `$&` stays as written.
        assert_eq!(provider_label("Use {provider}", "A$&B"), "Use A$&B");
        assert_eq!(provider_label("No placeholder", "Bank"), "No placeholder");
    }
}
