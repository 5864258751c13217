//! The widget's view: the Leptos component a mounted element renders (the
//! tenant's logo, the title, a failure, the sign-in and provider buttons
//! or the signed-in status and sign-out), and the [`Context`] its handlers
//! share, with the one fetch of the IdP's discovery document they all
//! await ([`LazyDiscovery`]).
//!
//! What it is not: the protocol or what the page sees. A click starts a
//! sign-in through `oidc`, which also reads the discovery document; the
//! events, `element.passport` and the fetch grant are `events`'s; renewing
//! is `renewal`'s.

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::Texts;
use crate::bearer::park;
use crate::events::{Announcement, announce_session, announce_sign_out, dispatch, report};
use crate::json::Object;
use crate::oidc::{self, Discovery, Failure, Mode, Session, TenantConfig};
use crate::renewal::{is_mounted, register_keeper};

/// What a mounted widget works with, shared by its handlers (cloning it
/// clones a pointer).
#[derive(Clone)]
pub(crate) struct Context(pub(crate) std::sync::Arc<Mounted>);

impl std::ops::Deref for Context {
    type Target = Mounted;

    fn deref(&self) -> &Mounted {
        &self.0
    }
}

pub(crate) struct Mounted {
    pub(crate) host: web_sys::HtmlElement,
    pub(crate) tenant: String,
    pub(crate) texts: Texts,
    pub(crate) config: TenantConfig,
    pub(crate) discovery: LazyDiscovery,
    pub(crate) mode: Mode,
}

#[component]
pub(crate) fn Widget(
    context: Context,
    initial: Result<Option<Session>, Failure>,
    /// Shown busy from the start (a preview of the loading state).
    #[prop(optional)]
    loading: bool,
    /// A preview: the IdP is not asked whether it can be reached.
    #[prop(optional)]
    previewing: bool,
) -> impl IntoView {
    let (initial_session, initial_failure) = match initial {
        Ok(session) => (session, None),
        Err(failure) => (None, Some(failure)),
    };
    let session = RwSignal::new(initial_session);
    let failure = RwSignal::new(initial_failure);
    let busy = RwSignal::new(loading);
    let texts = &context.texts;

    register_keeper(&context, session, failure);
    if !previewing {
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
pub(crate) struct LazyDiscovery {
    fetched: js_sys::Promise,
    result: std::sync::Arc<std::sync::Mutex<Option<Result<Discovery, Failure>>>>,
}

impl LazyDiscovery {
    pub(crate) fn start(issuer: &str) -> LazyDiscovery {
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
    pub(crate) async fn get(&self) -> Result<Discovery, Failure> {
        let _ = wasm_bindgen_futures::JsFuture::from(self.fetched.clone()).await;
        self.result
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| Err(Failure::IdpUnavailable("discovery did not finish".into())))
    }

    /// The document if it has arrived.
    pub(crate) fn ready(&self) -> Option<Discovery> {
        self.result
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|r| r.as_ref().ok().cloned())
    }
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

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::provider_label;

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
