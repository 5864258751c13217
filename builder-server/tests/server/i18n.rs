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
