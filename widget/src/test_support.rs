//! Fixtures for the unit tests that run in headless Chromium
//! (`wasm-bindgen-test`): a tenant configuration, a discovery document and a
//! session, built from the test page's own address.

use crate::oidc::{Discovery, Session, TenantConfig};

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

pub fn window() -> web_sys::Window {
    web_sys::window().expect("the tests run in a page")
}

/// The test page's origin followed by its path: the redirect URI the tenant
/// registers in these tests.
pub fn page_address() -> String {
    let location = window().location();
    format!(
        "{}{}",
        location.origin().expect("an origin"),
        location.pathname().expect("a path")
    )
}

/// The query parameters of `url`.
pub fn parameters(url: &str) -> web_sys::UrlSearchParams {
    web_sys::Url::new(url).expect("a URL").search_params()
}

pub fn local_storage_length() -> u32 {
    window()
        .local_storage()
        .expect("localStorage is reachable")
        .expect("localStorage exists")
        .length()
        .expect("a length")
}

pub fn tenant_config(token_storage: &str, allowed_origins: &[&str]) -> TenantConfig {
    TenantConfig {
        issuer: "https://idp.example.test".into(),
        client_id: "shop-widget".into(),
        scopes: vec!["openid".into()],
        redirect_uris: vec![
            "https://elsewhere.example.test/callback".into(),
            page_address(),
        ],
        allowed_origins: allowed_origins
            .iter()
            .map(|&origin| origin.into())
            .collect(),
        token_storage: token_storage.into(),
        providers: Vec::new(),
        display_name: "Unit shop".into(),
        logo: false,
        authorization_parameters: Vec::new(),
        token_parameters: Vec::new(),
    }
}

/// Endpoints on a closed loopback port: a test that reaches the network
/// fails with `idp_unavailable` instead of passing by accident.
pub fn unreachable_discovery() -> Discovery {
    Discovery {
        issuer: "https://idp.example.test".into(),
        authorization_endpoint: "https://idp.example.test/authorize".into(),
        token_endpoint: "http://127.0.0.1:9/token".into(),
        jwks_uri: "http://127.0.0.1:9/jwks".into(),
        end_session_endpoint: None,
    }
}

pub fn session(access_token: &str, refresh_token: Option<&str>, lifetime_seconds: f64) -> Session {
    Session {
        id_token: Some("header.payload.signature".into()),
        access_token: access_token.into(),
        subject: "pseudonymous-subject".into(),
        claims: "{}".into(),
        withheld: Vec::new(),
        expires_at: crate::oidc::now_seconds() as f64 + lifetime_seconds,
        refresh_token: refresh_token.map(Into::into),
    }
}
