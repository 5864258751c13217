//! Texts: completeness of every base locale, negotiation, right-to-left,
//! the pseudo-locale and the resolved JSON.

use axum::http::StatusCode;
use tessera_server::i18n::{BASE_LOCALES, PSEUDO_LOCALE, catalog, negotiate, resolve_source};

use crate::support::{Server, get};

#[test]
fn every_locale_has_every_message_of_english() {
    let catalog = catalog().expect("the shipped .ftl files parse and resolve");
    let english = &catalog["en"];
    assert!(english.len() >= 14);
    for locale in BASE_LOCALES {
        let messages = catalog
            .get(locale)
            .unwrap_or_else(|| panic!("{locale} missing"));
        for (id, text) in english {
            let translated = messages
                .get(id)
                .unwrap_or_else(|| panic!("{locale} lacks `{id}`"));
            assert!(!translated.trim().is_empty(), "{locale}: `{id}` is empty");
            // The same placeholders survive translation.
            assert_eq!(
                text.contains("{provider}"),
                translated.contains("{provider}"),
                "{locale}: `{id}`"
            );
        }
        assert_eq!(
            messages.len(),
            english.len(),
            "{locale} has messages English lacks"
        );
    }
}

#[test]
fn variables_become_markers_without_isolation_marks() {
    let messages = resolve_source("en", "hello = Hello { $name }!\n").unwrap();
    assert_eq!(messages["hello"], "Hello {name}!");
    assert!(resolve_source("en", "broken = { $\n").is_err());
    assert!(
        resolve_source("en", "a = x\na = y\n").is_err(),
        "duplicate ids are an error"
    );
}

#[test]
fn negotiation_order_and_fallbacks() {
    let enabled: Vec<String> = ["en", "de", "pt-BR", "zh-CN", "ar"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let check = |explicit, ui, accept, expected: &str| {
        assert_eq!(
            negotiate(explicit, ui, accept, &enabled, "en"),
            expected,
            "{explicit:?} {ui:?} {accept:?}"
        );
    };
    check(Some("de"), Some("ar"), Some("zh-CN"), "de");
    check(None, Some("fr ar"), Some("de"), "ar");
    check(None, None, Some("fr-CA,fr;q=0.9,de;q=0.8"), "de");
    check(None, None, Some("de;q=0.1, ar;q=0.9"), "ar");
    check(None, None, Some("de-AT"), "de");
    check(None, None, Some("pt"), "pt-BR");
    check(None, None, Some("zh"), "zh-CN");
    check(Some("xx"), None, None, "en");
    check(None, None, Some("*"), "en");
    check(None, None, None, "en");
}

#[tokio::test]
async fn served_texts() {
    let server = Server::start().await;
    let arabic = server.call(get("/t/acme/i18n/ar.json")).await.json();
    assert_eq!(
        (arabic["locale"].as_str(), arabic["dir"].as_str()),
        (Some("ar"), Some("rtl"))
    );
    let negotiated = server
        .call(get("/t/acme/i18n/auto.json?ui_locales=pt%20de").header("accept-language", "zh"))
        .await
        .json();
    assert_eq!(negotiated["locale"], "pt-BR");
    let by_header = server
        .call(get("/t/acme/i18n/auto.json").header("accept-language", "zh-Hans-CN,zh;q=0.9"))
        .await;
    assert_eq!(by_header.json()["locale"], "zh-CN");
    assert_eq!(by_header.header("vary"), Some("accept-language"));
    let pseudo = server
        .call(get(&format!("/t/acme/i18n/{PSEUDO_LOCALE}.json")))
        .await
        .json();
    let sign_in_with = pseudo["messages"]["sign-in-with"].as_str().unwrap();
    assert!(
        sign_in_with.starts_with('⟦')
            && sign_in_with.ends_with('⟧')
            && sign_in_with.contains("{provider}"),
        "{sign_in_with}"
    );
    assert!(sign_in_with.chars().count() > "Continue with {provider}".len() * 13 / 10);
    let not_enabled = server.call(get("/t/acme/i18n/ja.json")).await.json();
    assert_eq!(not_enabled["locale"], "en", "ja is not enabled for acme");
    for bad in [
        "/t/acme/i18n/..%2Fsecret.json",
        "/t/acme/i18n/de",
        "/t/acme/i18n/%3Cscript%3E.json",
    ] {
        let response = server.call(get(bad)).await;
        assert!(
            response.status == StatusCode::BAD_REQUEST || response.status == StatusCode::NOT_FOUND,
            "{bad}: {}",
            response.status
        );
    }
}

#[tokio::test]
async fn start_brings_texts_configuration_and_the_first_view() {
    let server = Server::start().await;
    // The texts and configuration are the documents the widget read before.
    let start = server
        .call(get("/t/acme/start/auto.json?ui_locales=ar").header("accept-language", "de"))
        .await;
    assert_eq!(start.status, StatusCode::OK);
    assert_eq!(start.header("vary"), Some("accept-language"));
    let start = start.json();
    let texts = server.call(get("/t/acme/i18n/ar.json")).await.json();
    let config = server.call(get("/t/acme/config.json")).await.json();
    assert_eq!(start["texts"], texts);
    assert_eq!(start["config"], config);

    // The view: [tag, attributes, children...], in the negotiated language.
    let view = &start["view"];
    assert_eq!(view[0], "section");
    assert_eq!(view[1]["part"], "root");
    assert_eq!(
        (view[1]["lang"].as_str(), view[1]["dir"].as_str()),
        (Some("ar"), Some("rtl"))
    );
    let children: Vec<&serde_json::Value> = view.as_array().unwrap()[2..].iter().collect();
    let tags: Vec<&str> = children
        .iter()
        .map(|child| child[0].as_str().unwrap())
        .collect();
    assert_eq!(tags.first(), Some(&"h2"));
    assert_eq!(tags.last(), Some(&"p"));
    assert_eq!(children[0][2], texts["messages"]["widget-title"]);
    let sign_in = children
        .iter()
        .find(|child| child[1]["part"] == "button sign-in")
        .expect("a sign-in button");
    assert_eq!(sign_in[2], texts["messages"]["sign-in"]);
    assert_eq!(sign_in[1]["aria-busy"], "false");
    // One button per provider, its label in the `sign-in-with` template.
    let providers: Vec<_> = children
        .iter()
        .filter(|child| child[1]["part"] == "button provider")
        .collect();
    assert_eq!(
        providers.len(),
        config["providers"].as_array().unwrap().len()
    );
    for (button, provider) in providers
        .iter()
        .zip(config["providers"].as_array().unwrap())
    {
        let template = texts["messages"]["sign-in-with"].as_str().unwrap();
        let label = template.replacen("{provider}", provider["label"].as_str().unwrap(), 1);
        assert_eq!(button[2], label.as_str());
    }

    // The same checks on the locale as the texts.
    for (bad, status) in [
        ("/t/acme/start/%3Cscript%3E.json", StatusCode::BAD_REQUEST),
        ("/t/acme/start/de", StatusCode::NOT_FOUND),
        ("/t/nobody/start/de.json", StatusCode::NOT_FOUND),
    ] {
        assert_eq!(server.call(get(bad)).await.status, status, "{bad}");
    }

    // A preview address serves its revision's, uncached; a forged one nothing.
    let tenant = server.state.tenant("acme").await.unwrap();
    let preview = tessera_server::public::preview_base(&server.state, &tenant, 1);
    let preview = preview.strip_prefix(server.state.public_url()).unwrap();
    let previewed = server
        .call(get(&format!("{preview}/t/acme/start/en-XA.json")))
        .await;
    assert_eq!(previewed.status, StatusCode::OK, "{}", previewed.text());
    assert_eq!(previewed.header("cache-control"), Some("no-store"));
    assert_eq!(
        previewed.json()["texts"]["locale"],
        "en-XA",
        "any base locale"
    );
    let forged = format!("{}x/t/acme/start/de.json", preview);
    assert_eq!(
        server.call(get(&forged)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn the_first_view_keeps_texts_as_text_and_fills_the_first_placeholder_only() {
    use tessera_server::first_view::signed_out;
    let mut config: tessera_server::model::TenantConfig =
        serde_json::from_value(serde_json::json!({
            "display_name": "Shop <b>", "issuer": "https://id.example", "client_id": "c",
            "audience": "a", "allowed_origins": [], "redirect_uris": [],
            "default_locale": "en", "enabled_locales": ["en"],
        }))
        .unwrap();
    config.providers = serde_json::from_value(serde_json::json!([
        {"label": "Acme $& {provider}", "icon": "none", "hint_parameter": "kc_idp_hint", "hint_value": "a"}
    ]))
    .unwrap();
    let messages: tessera_server::i18n::Messages = [
        ("sign-in-with", "{provider} or {provider}"),
        ("sign-in", "<img src=x onerror=alert(1)>"),
    ]
    .into_iter()
    .map(|(id, text)| (id.to_owned(), text.to_owned()))
    .collect();
    let view = signed_out(&config, true, "en", "ltr", &messages);
    let children = &view.as_array().unwrap()[2..];
    // The logo first, named by the shop's name as text.
    assert_eq!(children[0][1]["aria-label"], "Shop <b>");
    // A missing message reads as its id, as in the widget.
    assert_eq!(children[1][2], "widget-title");
    assert_eq!(children[2][2], "<img src=x onerror=alert(1)>");
    assert_eq!(children[3][2], "Acme $& {provider} or {provider}");
}
