//! The authorization request (RFC 6749 section 4.1.1, OpenID Connect Core
//! 3.1.2.1): a fresh `state`, `nonce` and PKCE verifier (RFC 7636, S256),
//! kept as this tab's pending sign-in, the redirect URI registered for
//! this page, and the URL that takes the customer to the IdP with them.
//!
//! What it is not: going there (the view assigns the URL to the page or the
//! popup), and nothing here reads the IdP's answer (`callback`).

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::callback::{Pending, pending_key};
use super::popup::POPUP_STATE_PREFIX;
use super::{Discovery, Failure, Mode, TenantConfig, encode, storage, window};

fn random_text() -> Result<String, Failure> {
    let mut bytes = [0u8; 32];
    window()?
        .crypto()
        .and_then(|crypto| crypto.get_random_values_with_u8_array(&mut bytes))
        .map_err(|_| Failure::Configuration("crypto.getRandomValues is not available".into()))?;
    base64url(&bytes)
}

async fn sha256(text: &str) -> Result<Vec<u8>, Failure> {
    let subtle = window()?
        .crypto()
        .map_err(|_| {
            Failure::Configuration("WebCrypto is not available (https or localhost only)".into())
        })?
        .subtle();
    let digest = JsFuture::from(
        subtle
            .digest_with_str_and_u8_array("SHA-256", text.as_bytes())
            .map_err(|_| Failure::Configuration("SHA-256 is not available".into()))?,
    )
    .await
    .map_err(|_| Failure::Configuration("SHA-256 failed".into()))?;
    Ok(js_sys::Uint8Array::new(&digest).to_vec())
}

/// Base64url without padding (RFC 4648 section 5), through the browser's
/// `btoa`: it takes a "binary string" of one character per byte.
fn base64url(bytes: &[u8]) -> Result<String, Failure> {
    let binary: String = bytes.iter().map(|&byte| char::from(byte)).collect();
    let encoded = window()?
        .btoa(&binary)
        .map_err(|_| Failure::Configuration("btoa refused the bytes".into()))?;
    Ok(encoded
        .chars()
        .filter(|&character| character != '=')
        .map(|character| match character {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect())
}

/// The registered redirect URI for this page: the one equal to the page's
/// origin and path, else the first.
pub fn redirect_uri(config: &TenantConfig) -> Result<String, Failure> {
    let location = window()?.location();
    let here = format!(
        "{}{}",
        location.origin().unwrap_or_default(),
        location.pathname().unwrap_or_default()
    );
    config
        .redirect_uris
        .iter()
        .find(|uri| **uri == here)
        .or_else(|| config.redirect_uris.first())
        .cloned()
        .ok_or_else(|| Failure::Configuration("the tenant has no redirect URI".into()))
}

/// Starts a sign-in: remembers state, nonce and verifier, and returns the
/// authorization URL to go to.
pub async fn authorization_url(
    tenant: &str,
    config: &TenantConfig,
    discovery: &Discovery,
    ui_locale: &str,
    hint: Option<(&str, &str)>,
    mode: Mode,
) -> Result<String, Failure> {
    let state_prefix = match mode {
        Mode::Redirect => "",
        Mode::Popup => POPUP_STATE_PREFIX,
    };
    let pending = Pending {
        state: format!("{state_prefix}{}", random_text()?),
        nonce: random_text()?,
        verifier: random_text()? + &random_text()?,
        redirect_uri: redirect_uri(config)?,
    };
    let challenge = base64url(&sha256(&pending.verifier).await?)?;
    let mut url = format!(
        "{}?response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&nonce={}&code_challenge={}&code_challenge_method=S256&ui_locales={}",
        discovery.authorization_endpoint,
        encode(&config.client_id),
        encode(&pending.redirect_uri),
        encode(
            &js_sys::Array::from_iter(config.scopes.iter().map(|scope| JsValue::from_str(scope)))
                .join(" ")
                .as_string()
                .unwrap_or_default()
        ),
        encode(&pending.state),
        encode(&pending.nonce),
        challenge,
        encode(ui_locale),
    );
    let tenant_parameters = config
        .authorization_parameters
        .iter()
        .map(|(parameter, value)| (parameter.as_str(), value.as_str()));
    for (parameter, value) in tenant_parameters.chain(hint) {
        url.push_str(&format!("&{}={}", encode(parameter), encode(value)));
    }
    storage()?
        .set_item(&pending_key(tenant), &pending.to_json().text())
        .map_err(|_| Failure::Configuration("sessionStorage is full or blocked".into()))?;
    Ok(url)
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::json::Object;
    use crate::oidc::forget_pending;
    use crate::test_support::{
        local_storage_length, page_address, parameters, tenant_config, unreachable_discovery,
    };

    fn pending(tenant: &str) -> Pending {
        let text = storage()
            .expect("sessionStorage")
            .get_item(&pending_key(tenant))
            .expect("readable")
            .expect("the pending sign-in is stored");
        Pending::from_json(&Object::parse(&text).expect("stored as JSON"))
            .expect("a pending sign-in")
    }

    #[wasm_bindgen_test]
    fn base64url_is_rfc_4648_section_5_without_padding() {
        for (bytes, expected) in [
            (&b""[..], ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (&[0xfb, 0xff], "-_8"),
            (&[0x00, 0x80, 0xfe], "AID-"),
        ] {
            assert_eq!(base64url(bytes).expect("btoa"), expected, "{bytes:?}");
        }
    }

    #[wasm_bindgen_test]
    async fn pkce_challenge_matches_rfc_7636_appendix_b() {
        let digest = sha256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
            .await
            .expect("WebCrypto digests");
        assert_eq!(
            base64url(&digest).expect("btoa"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[wasm_bindgen_test]
    async fn authorization_request_carries_pkce_s256_state_nonce_and_only_openid() {
        let tenant = "unit-authorize";
        let local_before = local_storage_length();
        let config = tenant_config("memory", &[]);
        let discovery = unreachable_discovery();
        let url = authorization_url(tenant, &config, &discovery, "ar", None, Mode::Redirect)
            .await
            .expect("an authorization URL");
        assert!(url.starts_with("https://idp.example.test/authorize?"));
        let query = parameters(&url);
        let first = pending(tenant);
        let expected = [
            ("response_type", "code".to_owned()),
            ("client_id", "shop-widget".to_owned()),
            ("redirect_uri", page_address()),
            ("scope", "openid".to_owned()),
            ("code_challenge_method", "S256".to_owned()),
            ("ui_locales", "ar".to_owned()),
            ("state", first.state.clone()),
            ("nonce", first.nonce.clone()),
            (
                "code_challenge",
                base64url(&sha256(&first.verifier).await.expect("a digest")).expect("btoa"),
            ),
        ];
        for (name, value) in expected {
            assert_eq!(query.get(name), Some(value), "parameter {name}");
        }
        // RFC 7636 section 4.1: 43 to 128 characters; state and nonce carry
        // 256 random bits each.
        assert!((43..=128).contains(&first.verifier.len()));
        assert_eq!(first.state.len(), 43);
        assert_eq!(first.nonce.len(), 43);
        assert_eq!(first.redirect_uri, page_address());

        let hint = Some(("kc_idp_hint", "google"));
        let url = authorization_url(tenant, &config, &discovery, "en", hint, Mode::Popup)
            .await
            .expect("an authorization URL");
        let second = pending(tenant);
        assert_eq!(
            parameters(&url).get("kc_idp_hint").as_deref(),
            Some("google")
        );
        assert!(second.state.starts_with(POPUP_STATE_PREFIX));
        assert_ne!(second.state, first.state);
        assert_ne!(second.nonce, first.nonce);
        assert_ne!(second.verifier, first.verifier);

        forget_pending(tenant);
        assert_eq!(
            storage()
                .expect("sessionStorage")
                .get_item(&pending_key(tenant)),
            Ok(None)
        );
        assert_eq!(
            local_storage_length(),
            local_before,
            "nothing goes to localStorage"
        );
    }

    #[wasm_bindgen_test]
    async fn the_tenant_s_parameters_ask_the_idp_for_the_shop_s_audience() {
        let tenant = "unit-resource";
        let config = TenantConfig {
            authorization_parameters: vec![(
                "resource".into(),
                "https://api.shop.example/v1?x=1".into(),
            )],
            ..tenant_config("memory", &[])
        };
        let url = authorization_url(
            tenant,
            &config,
            &unreachable_discovery(),
            "en",
            Some(("login_hint", "google")),
            Mode::Redirect,
        )
        .await
        .expect("an authorization URL");
        let query = parameters(&url);
        assert_eq!(
            query.get("resource").as_deref(),
            Some("https://api.shop.example/v1?x=1")
        );
        assert_eq!(query.get("login_hint").as_deref(), Some("google"));
        forget_pending(tenant);
    }
}
