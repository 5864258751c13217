//! The `<tessera-login>` widget, rendered with Leptos (client-side) inside the
//! element's open shadow root.
//!
//! The loader (`js/loader.js`, built into `dist/widget/tessera.js`) defines the
//! custom element, opens the shadow root, links the tenant's `theme.css` and
//! the widget's own stylesheet from the server, and calls [`mount`] with a
//! container inside the shadow root. This crate renders in the tenant's
//! language (texts resolved by the server, so no Fluent runtime here) and
//! direction, and never sets inline styles, so a page whose only policy is the
//! snippet's CSP runs it without violations.
//!
//! What it is not yet: the OpenID Connect sign-in. This first increment
//! renders the widget and proves that events work inside the shadow root; the
//! Authorization Code + PKCE flow is the next step of issue 4.

use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The texts the server resolved for the negotiated locale.
#[derive(Debug, Clone, Deserialize)]
struct Texts {
    locale: String,
    dir: String,
    messages: std::collections::BTreeMap<String, String>,
}

impl Texts {
    fn get(&self, id: &str) -> String {
        self.messages
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }
}

/// What the element's attributes say.
#[derive(Debug, Clone, Deserialize)]
struct Options {
    server: String,
    tenant: String,
    locale: Option<String>,
}

async fn fetch_json<T: for<'de> Deserialize<'de>>(url: &str) -> Result<T, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| format!("cannot reach {url}"))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("{url} answered {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(|_| "unreadable response")?)
        .await
        .map_err(|_| "unreadable response")?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&text).map_err(|_| format!("{url} is not the expected JSON"))
}

/// The locale to ask for: the element's `locale` attribute, else the
/// browser's preferences (the server negotiates against the tenant's list).
fn texts_url(options: &Options) -> String {
    let base = format!(
        "{}/t/{}/i18n",
        options.server.trim_end_matches('/'),
        options.tenant
    );
    if let Some(locale) = &options.locale {
        return format!("{base}/{locale}.json");
    }
    let preferred: Vec<String> = web_sys::window()
        .map(|window| window.navigator().languages())
        .map(|languages| languages.iter().filter_map(|l| l.as_string()).collect())
        .unwrap_or_default();
    let query: String = preferred
        .iter()
        .filter(|tag| tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .cloned()
        .collect::<Vec<_>>()
        .join("%20");
    format!("{base}/auto.json?ui_locales={query}")
}

fn dispatch(host: &web_sys::HtmlElement, name: &str, detail: &serde_json::Value) {
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(&js_sys::JSON::parse(&detail.to_string()).unwrap_or(JsValue::NULL));
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = host.dispatch_event(&event);
    }
}

#[component]
fn Widget(texts: Texts, host: web_sys::HtmlElement) -> impl IntoView {
    let (pressed, set_pressed) = signal(0u32);
    let title = texts.get("widget-title");
    let sign_in = texts.get("sign-in");
    let signing_in = texts.get("signing-in");
    let note = texts.get("privacy-note");
    let on_click = move |_| {
        set_pressed.update(|count| *count += 1);
        dispatch(
            &host,
            "tessera:interaction",
            &serde_json::json!({"control": "sign-in"}),
        );
    };
    view! {
        <section class="tessera" part="root" lang=texts.locale.clone() dir=texts.dir.clone() aria-labelledby="tessera-title">
            <h2 id="tessera-title" part="title">{title}</h2>
            <button type="button" part="button" class="primary" on:click=on_click aria-busy=move || (pressed.get() > 0).to_string()>
                {move || if pressed.get() > 0 { signing_in.clone() } else { sign_in.clone() }}
            </button>
            <p part="note" class="note">{note}</p>
        </section>
    }
}

/// Renders the widget into `container` (inside `host`'s shadow root).
/// `options` is `{server, tenant, locale?}`. Failures show a readable message
/// in the widget and fire `tessera:error`; nothing throws into the page.
#[wasm_bindgen]
pub fn mount(host: web_sys::HtmlElement, container: web_sys::HtmlElement, options: JsValue) {
    let options: Result<Options, _> = js_sys::JSON::stringify(&options)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or(())
        .and_then(|text| serde_json::from_str(&text).map_err(|_| ()));
    wasm_bindgen_futures::spawn_local(async move {
        let outcome = match options {
            Err(()) => Err("the element needs `server` and `tenant` attributes".to_owned()),
            Ok(options) => fetch_json::<Texts>(&texts_url(&options)).await,
        };
        match outcome {
            Ok(texts) => {
                let widget_host = host.clone();
                leptos::mount::mount_to(
                    container,
                    move || view! { <Widget texts=texts host=widget_host/> },
                )
                .forget();
            }
            Err(message) => {
                container.set_text_content(Some("Sign-in is unavailable right now."));
                dispatch(
                    &host,
                    "tessera:error",
                    &serde_json::json!({"code": "configuration", "message": message}),
                );
            }
        }
    });
}
