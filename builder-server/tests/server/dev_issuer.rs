//! The development issuer: a complete login over HTTP (authorize, consent,
//! token) whose tokens verify with `tessera-verifier`, and every refusal.

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::Digest as _;
use tessera_verifier::{KeySet, PersonalData, Verifier};

use crate::support::{Server, get, request, urlencode};

const REDIRECT: &str = "https://shop.example/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-extra-entropy";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn authorize_query(client: &str, redirect: &str, method: &str) -> String {
    authorize_query_with_scope(client, redirect, method, "openid")
}

fn authorize_query_with_scope(client: &str, redirect: &str, method: &str, scope: &str) -> String {
    format!(
        "response_type=code&client_id={client}&redirect_uri={}&scope={}&state=xyz&nonce=n-0S6&code_challenge={}&code_challenge_method={method}",
        urlencode(redirect),
        urlencode(scope),
        challenge(VERIFIER)
    )
}

/// Consents as `user` and returns the code from the redirect.
async fn consent(server: &Server, client: &str, user: &str) -> String {
    consent_with_scope(server, client, user, "openid").await
}

async fn consent_with_scope(server: &Server, client: &str, user: &str, scope: &str) -> String {
    let page = server
        .call(get(&format!(
            "/dev/oidc/authorize?{}",
            authorize_query_with_scope(client, REDIRECT, "S256", scope)
        )))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("style-src 'nonce-")
            && csp.contains("form-action 'self' https://shop.example"),
        "{csp}"
    );
    let html = page.text();
    assert!(html.contains("Ada Lovelace"), "the IdP shows its users");
    let decision = server
        .call(request(Method::POST, "/dev/oidc/authorize").form(&[
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "xyz"),
            ("nonce", "n-0S6"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
            ("decision", "allow"),
            ("user", user),
        ]))
        .await;
    assert_eq!(
        decision.status,
        StatusCode::SEE_OTHER,
        "{}",
        decision.text()
    );
    let location = decision.header("location").unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{REDIRECT}?code=")),
        "{location}"
    );
    assert!(
        location.contains("&state=xyz") && location.contains("&iss="),
        "{location}"
    );
    location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned()
}

async fn exchange(
    server: &Server,
    client: &str,
    code: &str,
    verifier: &str,
    redirect: &str,
) -> (StatusCode, Value) {
    let response = server
        .call(
            request(Method::POST, "/dev/oidc/token")
                .header("origin", "https://shop.example")
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", redirect),
                    ("client_id", client),
                    ("code_verifier", verifier),
                ]),
        )
        .await;
    if response.status == StatusCode::OK {
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some("https://shop.example")
        );
        assert_eq!(response.header("cache-control"), Some("no-store"));
    }
    (response.status, response.json())
}

#[tokio::test]
async fn full_login_verifies_with_the_verifier() {
    let server = Server::start().await;
    let discovery = server
        .call(get("/dev/oidc/.well-known/openid-configuration"))
        .await
        .json();
    assert_eq!(discovery["issuer"], server.issuer);
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let jwks = server.call(get("/dev/oidc/jwks")).await.json();
    let keys = KeySet::from_value(jwks).unwrap();

    let code = consent(&server, "acme", "ada").await;
    let (status, tokens) = exchange(&server, "acme", &code, VERIFIER, REDIRECT).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");

    let rules = |audience: &str| {
        Verifier::builder()
            .issuer(&server.issuer)
            .audience(audience)
            .personal_data(PersonalData::Reject)
            .key_set(keys.clone())
    };
    let id = rules("acme")
        .required_claim("nonce")
        .build()
        .unwrap()
        .verify(tokens["id_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(id.claim("nonce").and_then(Value::as_str), Some("n-0S6"));
    let access = rules("acme-api")
        .expected_type("at+jwt")
        .build()
        .unwrap()
        .verify(tokens["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(access.subject(), id.subject());
    // No personal data in either token: the reject-PII guard passed, and
    // the user's name and email appear nowhere.
    for token in [&tokens["id_token"], &tokens["access_token"]] {
        let payload = token.as_str().unwrap().split('.').nth(1).unwrap();
        let claims = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert!(
            !claims.contains("Ada") && !claims.contains("@example.test") && !claims.contains("ada"),
            "{claims}"
        );
    }

    // Pairwise: the same person gets another sub at another shop.
    let code = consent(&server, "globex", "ada").await;
    let mut exchange_globex = exchange(&server, "globex", &code, VERIFIER, REDIRECT)
        .await
        .1;
    let globex = rules("globex")
        .build()
        .unwrap()
        .verify(exchange_globex["id_token"].take().as_str().unwrap())
        .unwrap();
    assert_ne!(globex.subject(), id.subject());
}

#[tokio::test]
async fn codes_are_single_use_and_bound() {
    let server = Server::start().await;
    let code = consent(&server, "acme", "grace").await;
    let (status, error) = exchange(
        &server,
        "acme",
        &code,
        "wrong-verifier-wrong-verifier-wrong-verifier-1",
        REDIRECT,
    )
    .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    // The failed attempt consumed the code.
    let (status, _) = exchange(&server, "acme", &code, VERIFIER, REDIRECT).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let code = consent(&server, "acme", "grace").await;
    assert_eq!(
        exchange(
            &server,
            "acme",
            &code,
            VERIFIER,
            "https://shop.example/other"
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let code = consent(&server, "acme", "grace").await;
    assert_eq!(
        exchange(&server, "globex", &code, VERIFIER, REDIRECT)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let code = consent(&server, "acme", "grace").await;
    assert_eq!(
        exchange(&server, "acme", &code, VERIFIER, REDIRECT).await.0,
        StatusCode::OK
    );
    assert_eq!(
        exchange(&server, "acme", &code, VERIFIER, REDIRECT).await.0,
        StatusCode::BAD_REQUEST,
        "replayed code"
    );
}

#[tokio::test]
async fn authorize_refusals() {
    let server = Server::start().await;
    // Unregistered redirect: an error page, never a redirect there.
    let page = server
        .call(get(&format!(
            "/dev/oidc/authorize?{}",
            authorize_query("acme", "https://evil.example/cb", "S256")
        )))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.header("location").is_none());
    // Plain PKCE: refused back to the client.
    let plain = server
        .call(get(&format!(
            "/dev/oidc/authorize?{}",
            authorize_query("acme", REDIRECT, "plain")
        )))
        .await;
    let location = plain.header("location").unwrap();
    assert!(
        location.contains("error=invalid_request") && location.contains("state=xyz"),
        "{location}"
    );
    let unknown = server
        .call(get(&format!(
            "/dev/oidc/authorize?{}",
            authorize_query("nobody", REDIRECT, "S256")
        )))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    // Deny.
    let denied = server
        .call(request(Method::POST, "/dev/oidc/authorize").form(&[
            ("response_type", "code"),
            ("client_id", "acme"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("state", "xyz"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
            ("decision", "deny"),
        ]))
        .await;
    assert!(
        denied
            .header("location")
            .unwrap()
            .contains("error=access_denied")
    );
}

#[tokio::test]
async fn token_endpoint_cors_and_end_session() {
    let server = Server::start().await;
    let preflight = server
        .call(request(Method::OPTIONS, "/dev/oidc/token").header("origin", "https://shop.example"))
        .await;
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    let stranger = server
        .call(request(Method::OPTIONS, "/dev/oidc/token").header("origin", "https://evil.example"))
        .await;
    assert!(stranger.header("access-control-allow-origin").is_none());
    let back = server
        .call(get(&format!(
            "/dev/oidc/end_session?client_id=acme&post_logout_redirect_uri={}&state=q",
            urlencode(REDIRECT)
        )))
        .await;
    assert_eq!(
        back.header("location"),
        Some("https://shop.example/callback?state=q")
    );
    let elsewhere = server
        .call(get(&format!(
            "/dev/oidc/end_session?client_id=acme&post_logout_redirect_uri={}",
            urlencode("https://evil.example/")
        )))
        .await;
    assert!(elsewhere.header("location").is_none());
    assert_eq!(elsewhere.status, StatusCode::OK);
}

#[tokio::test]
async fn token_endpoint_is_rate_limited_per_address() {
    let server = Server::start().await;
    let attempt = |peer: &'static str| {
        request(Method::POST, "/dev/oidc/token")
            .peer(peer)
            .form(&[("grant_type", "authorization_code"), ("code", "nope")])
    };
    // The test server allows 30 requests a minute per address.
    for _ in 0..30 {
        assert_eq!(
            server.call(attempt("10.0.0.1:5000")).await.status,
            StatusCode::BAD_REQUEST
        );
    }
    let limited = server.call(attempt("10.0.0.1:5001")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.json()["error"], "slow_down");
    assert_eq!(limited.header("retry-after"), Some("60"));
    // Another address is not affected.
    assert_eq!(
        server.call(attempt("10.0.0.2:5000")).await.status,
        StatusCode::BAD_REQUEST
    );
    let metrics = server.call(get("/metrics")).await.text();
    assert!(
        metrics.contains("tessera_rate_limited_total 1"),
        "{metrics}"
    );
}

async fn refresh(server: &Server, client: &str, refresh_token: &str) -> (StatusCode, Value) {
    let response = server
        .call(request(Method::POST, "/dev/oidc/token").form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client),
        ]))
        .await;
    (response.status, response.json())
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_the_family() {
    let server = Server::start().await;
    // Without offline_access there is no refresh token.
    let code = consent(&server, "acme", "ada").await;
    let (_, plain) = exchange(&server, "acme", &code, VERIFIER, REDIRECT).await;
    assert!(plain.get("refresh_token").is_none(), "{plain}");

    let code = consent_with_scope(&server, "acme", "ada", "openid offline_access").await;
    let (status, first) = exchange(&server, "acme", &code, VERIFIER, REDIRECT).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let first_refresh = first["refresh_token"].as_str().unwrap().to_owned();

    let (status, second) = refresh(&server, "acme", &first_refresh).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first_refresh, "rotated");
    assert_ne!(second["access_token"], first["access_token"]);

    let (status, wrong_client) = refresh(&server, "globex", &second_refresh).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_client["error"], "invalid_grant");
    // ...without spending it: the right client can still use it once.
    let (status, third) = refresh(&server, "acme", &second_refresh).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    let third_refresh = third["refresh_token"].as_str().unwrap().to_owned();

    // The spent first token again: refused, and the family with it.
    let (status, reused) = refresh(&server, "acme", &first_refresh).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        reused["error_description"]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{reused}"
    );
    let (status, revoked) = refresh(&server, "acme", &third_refresh).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{revoked}");
    let (status, unknown) = refresh(&server, "acme", "made-up").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{unknown}");
}
