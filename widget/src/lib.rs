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
//!
//! Here are [`mount`] and [`unmount`]; `view` renders, `events` tells the
//! page, `bearer` holds the sessions `window.Tessera.fetch` may use,
//! `renewal` keeps them alive, `oidc` signs in, and `rotations` hears
//! other tabs' rotations.

mod bearer;
mod events;
mod json;
mod oidc;
mod renewal;
mod rotations;
#[cfg(all(test, target_arch = "wasm32"))]
mod test_support;
mod view;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

pub use crate::bearer::bearer_for;
use crate::bearer::{park, take_grant, take_parked};
use crate::events::{Announcement, announce_session, dispatch, error_detail, report};
use crate::json::Object;
use crate::oidc::{Failure, Mode, TenantConfig};
use crate::renewal::{KEEPERS, keeper_of};
pub use crate::renewal::{end_rejected, renew_rejected};
use crate::view::{Context, LazyDiscovery, Mounted, Widget};

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
    /// A state to show instead of the real one, for the builder's previews:
    /// `signed-out`, `loading`, `error`, `session-ended` or `signed-in`.
    /// Nothing is asked of the IdP, no session is granted to requests and
    /// no event is fired.
    preview: Option<String>,
}

impl Options {
    fn from_value(options: JsValue) -> Option<Options> {
        let options = Object::from_value(options)?;
        Some(Options {
            tenant: options.string("tenant")?,
            mode: options.string("mode"),
            preview: options.string("preview"),
        })
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
/// not two. `settled` is called right before the view replaces what the
/// container holds (the server's first view), and the promise it returns
/// awaited: the loader holds the takeover while a press on the first view
/// is in progress.
#[wasm_bindgen]
pub fn mount(
    host: web_sys::HtmlElement,
    container: web_sys::HtmlElement,
    options: JsValue,
    texts: js_sys::Promise,
    config: js_sys::Promise,
    settled: js_sys::Function,
) {
    let options = Options::from_value(options);
    // Only a callback this tab is waiting for is taken from the URL; the
    // page in a sign-in popup only hands it to its opener.
    let callback = options
        .as_ref()
        .filter(|options| options.preview.is_none())
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
        let preview = options.preview.as_deref();
        let initial = if let Some(state) = preview {
            preview_state(state)
        } else {
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
            }
        };
        let loading = preview == Some("loading");
        let previewing = preview.is_some();
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
        // A loader that answers anything but a promise holds nothing up.
        if let Ok(promise) = settled
            .call0(&JsValue::NULL)
            .and_then(|value| value.dyn_into::<js_sys::Promise>())
        {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        }
        // The server's first view, when the loader showed one, is replaced
        // in this same task (the awaited promise settles in a microtask): no
        // frame shows the container empty.
        container.set_text_content(None);
        let view = leptos::mount::mount_to(container.clone(), {
            let context = context.clone();
            let initial = initial.clone();
            move || view! { <Widget context=context initial=initial loading=loading previewing=previewing/> }
        });
        let view: std::rc::Rc<dyn std::any::Any> = std::rc::Rc::new(view);
        KEEPERS.with_borrow_mut(|keepers| {
            if let Some(keeper) = keepers.iter_mut().find(|keeper| keeper.host == host) {
                keeper.view = Some(view);
            }
        });
        // The view is live: the loader hands it a click the first view kept.
        // A view whose element left the page meanwhile is not announced: the
        // element's next connection has a mount of its own.
        if container.is_connected() {
            dispatch(&host, "tessera:ready", &Object::new());
        }
        match &initial {
            _ if previewing => {}
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

/// What a preview `state` shows: a signed-in view holds a session with no
/// token in it, which is never granted to requests.
fn preview_state(state: &str) -> Result<Option<oidc::Session>, Failure> {
    match state {
        "signed-in" => Ok(Some(oidc::Session {
            id_token: None,
            access_token: String::new(),
            subject: "preview".into(),
            claims: "{}".into(),
            withheld: Vec::new(),
            expires_at: f64::MAX,
            refresh_token: None,
        })),
        "error" => Err(Failure::IdpUnavailable("a preview".into())),
        "session-ended" => Err(Failure::SessionExpired),
        _ => Ok(None),
    }
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
