//! Themes: presets, typed validation (no CSS injection), contrast, logos and
//! the rendered theme.css.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::theme::{PRESETS, preset};

use crate::support::{Server, get, request};

#[test]
fn every_preset_is_valid() {
    assert!(PRESETS.len() >= 5);
    for (name, _) in PRESETS {
        let theme = preset(name).unwrap_or_else(|| panic!("preset {name} does not parse"));
        theme
            .validate()
            .unwrap_or_else(|error| panic!("preset {name}: {error}"));
    }
}

async fn put_theme(server: &Server, theme: &Value) -> (StatusCode, Value) {
    let current = server
        .call(get("/api/tenants/acme/theme").token(&server.acme))
        .await;
    let etag = current.header("etag").unwrap().to_owned();
    let response = server
        .call(
            request(Method::PUT, "/api/tenants/acme/theme")
                .token(&server.acme)
                .header("if-match", &etag)
                .json(theme),
        )
        .await;
    let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    (response.status, body)
}

#[tokio::test]
async fn css_injection_is_impossible() {
    let server = Server::start().await;
    let base = serde_json::to_value(preset("light").unwrap()).unwrap();
    let attacks = [
        "red; } body { display: none",
        "#fff;}",
        "url(https://evil.example/x.png)",
        "expression(alert(1))",
        "</style><script>alert(1)</script>",
        "#ffffff /* */",
        "var(--x)",
        "\\66\\66\\66",
        "#fff\n",
        "rgb(0,0,0)",
        "@import 'x'",
    ];
    for attack in attacks {
        for (field, path) in [("primary", "/light/primary"), ("text", "/dark/text")] {
            let mut theme = base.clone();
            *theme.pointer_mut(path).unwrap() = json!(attack);
            let (status, body) = put_theme(&server, &theme).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{field} = {attack:?} was accepted"
            );
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("colour"),
                "{attack:?}: unclear message {message}"
            );
        }
        let mut theme = base.clone();
        theme["radius"] = json!(attack);
        assert_eq!(
            put_theme(&server, &theme).await.0,
            StatusCode::BAD_REQUEST,
            "radius {attack:?}"
        );
        let mut theme = base.clone();
        theme["font_family"] = json!(attack);
        assert_eq!(
            put_theme(&server, &theme).await.0,
            StatusCode::BAD_REQUEST,
            "font {attack:?}"
        );
    }
    // Nothing of the attempts reached the rendered CSS.
    let css = server.call(get("/t/acme/theme.css")).await.text();
    for needle in ["url(", "expression", "</style", "@import", "display: none"] {
        assert!(!css.contains(needle), "{needle} in {css}");
    }
}

#[tokio::test]
async fn ranges_and_contrast_are_checked() {
    let server = Server::start().await;
    let base = serde_json::to_value(preset("light").unwrap()).unwrap();
    let cases: [(&str, Value, &str); 5] = [
        ("/type_scale", json!(3.0), "type_scale"),
        ("/radius", json!("480px"), ""),
        ("/light/text", json!("#eeeeee"), "light.text"),
        ("/dark/on_primary", json!("#93c5fd"), "dark.on_primary"),
        ("/density", json!("cozy"), ""),
    ];
    for (path, value, field) in cases {
        let mut theme = base.clone();
        *theme.pointer_mut(path).unwrap() = value.clone();
        let (status, body) = put_theme(&server, &theme).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} = {value}");
        if !field.is_empty() {
            assert_eq!(body["error"]["field"], field, "{body}");
        }
    }
    // The refusal offers the nearest colour that passes, and it does.
    let mut pale = base.clone();
    pale["light"]["text"] = json!("#eeeeee");
    let (_, body) = put_theme(&server, &pale).await;
    let message = body["error"]["message"].as_str().unwrap();
    let suggested = message
        .split("; ")
        .nth(1)
        .and_then(|rest| rest.strip_suffix(" would pass"))
        .unwrap_or_else(|| panic!("no suggestion in {message}"));
    assert_ne!(suggested, "#000000", "the nearest, not simply black");
    pale["light"]["text"] = json!(suggested);
    let (status, body) = put_theme(&server, &pale).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut fine = base.clone();
    fine["radius"] = json!("0.5rem");
    fine["light"]["primary"] = json!("#075");
    assert_eq!(put_theme(&server, &fine).await.0, StatusCode::OK);
}

#[tokio::test]
async fn theme_css_renders_light_dark_and_auto() {
    let server = Server::start().await;
    let mut theme = serde_json::to_value(preset("auto").unwrap()).unwrap();
    theme["light"]["primary"] = json!("#075");
    assert_eq!(put_theme(&server, &theme).await.0, StatusCode::OK);
    let response = server.call(get("/t/acme/theme.css")).await;
    assert_eq!(
        response.header("content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    assert!(
        response
            .header("cache-control")
            .unwrap()
            .contains("max-age")
    );
    let css = response.text();
    assert!(css.starts_with("/* Tessera theme"));
    assert!(
        css.contains(":host {") && css.contains("--tessera-primary: #007755;"),
        "{css}"
    );
    assert!(css.contains("@media (prefers-color-scheme: dark)"));
    assert!(css.contains(":host([theme=\"dark\"])") && css.contains(":host([theme=\"light\"])"));
    let etag = response.header("etag").unwrap().to_owned();
    let again = server
        .call(get("/t/acme/theme.css").header("if-none-match", &etag))
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    let light = preset("light").unwrap().to_css(Default::default());
    assert!(
        !light.contains("@media"),
        "a fixed scheme ignores the system setting"
    );
}

#[tokio::test]
async fn logos_are_sanitised_and_served_safely() {
    let server = Server::start().await;
    // The widget's configuration says whether there is a logo to draw, and
    // the shop's name that is its text alternative.
    let config = || async { server.call(get("/t/acme/config.json")).await.json() };
    assert_eq!(config().await["logo"], false);
    assert!(
        config().await["display_name"]
            .as_str()
            .is_some_and(|name| !name.is_empty())
    );
    let base = serde_json::to_value(preset("light").unwrap()).unwrap();
    let svg = |markup: &str| {
        let mut theme = base.clone();
        theme["logo"] = json!({"type": "svg", "markup": markup});
        theme
    };
    let hostile = [
        r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#,
        r#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#,
        r#"<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/a.png"/></svg>"#,
        r#"<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://evil.example/#a)"/></svg>"#,
        r#"<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>"#,
        r#"<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:red"/></svg>"#,
        "<html/>",
        "<svg",
    ];
    for markup in hostile {
        assert_eq!(
            put_theme(&server, &svg(markup)).await.0,
            StatusCode::BAD_REQUEST,
            "{markup}"
        );
    }
    let mut huge = base.clone();
    huge["logo"] = json!({"type": "png", "base64": "iVBORw0KGgo="});
    assert_eq!(
        put_theme(&server, &huge).await.0,
        StatusCode::BAD_REQUEST,
        "a PNG signature alone"
    );
    let mut png = base.clone();
    png["logo"] = json!({"type": "png", "base64": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="});
    assert_eq!(put_theme(&server, &png).await.0, StatusCode::OK);
    assert_eq!(
        server
            .call(get("/t/acme/logo"))
            .await
            .header("content-type"),
        Some("image/png")
    );
    let good = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>Acme</title><circle cx="5" cy="5" r="4" fill="#1d4ed8"/></svg>"##;
    assert_eq!(put_theme(&server, &svg(good)).await.0, StatusCode::OK);
    let logo = server.call(get("/t/acme/logo")).await;
    assert_eq!(logo.header("content-type"), Some("image/svg+xml"));
    assert!(
        logo.header("content-security-policy")
            .unwrap()
            .contains("sandbox")
    );
    let css = server.call(get("/t/acme/theme.css")).await.text();
    // Absolute, and new for each theme version: a custom property's url()
    // resolves against the stylesheet that uses it.
    assert!(
        css.contains("--tessera-logo: url(\"http://") && css.contains("/t/acme/logo?v="),
        "{css}"
    );
    assert_eq!(config().await["logo"], true);
    assert!(!css.contains("scheme=dark"), "no dark logo yet: {css}");
    // A logo of its own for the dark palette: the same sanitiser, named.
    let mut dark = svg(good);
    dark["logo_dark"] = json!({"type": "svg", "markup": hostile[0]});
    let (status, body) = put_theme(&server, &dark).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "logo_dark.markup", "{body}");
    let light_mark = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="#f8fafc"/></svg>"##;
    dark["logo_dark"] = json!({"type": "svg", "markup": light_mark});
    assert_eq!(put_theme(&server, &dark).await.0, StatusCode::OK);
    let css = server.call(get("/t/acme/theme.css")).await.text();
    let dark_block = css.split(":host([theme=\"dark\"])").nth(1).unwrap();
    assert!(
        dark_block.contains("/t/acme/logo?v=") && dark_block.contains("&scheme=dark"),
        "{css}"
    );
    let light_block = css.split(":host([theme=\"light\"])").nth(1).unwrap();
    let light_block = light_block.split('}').next().unwrap();
    assert!(
        light_block.contains("--tessera-logo") && !light_block.contains("scheme=dark"),
        "{css}"
    );
    let served = server
        .call(get("/t/acme/logo?v=9&scheme=dark"))
        .await
        .text();
    assert!(served.contains("#f8fafc"), "{served}");
    assert!(
        server
            .call(get("/t/acme/logo"))
            .await
            .text()
            .contains("#1d4ed8")
    );
}
