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

/// A compact token's header and claims, unchecked.
fn parts(token: &str) -> (Value, Value) {
    let mut segments = token.split('.');
    let mut decode = || {
        let segment = segments.next().unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
    };
    (decode(), decode())
}

fn consent_form<'a>(client: &'a str, challenge: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "xyz"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("decision", "allow"),
        ("user", "ada"),
    ]
}

#[tokio::test]
async fn consent_is_rate_limited_per_address() {
    let server = Server::start().await;
    let challenge = challenge(VERIFIER);
    let consent = |peer: &'static str| {
        request(Method::POST, "/dev/oidc/authorize")
            .peer(peer)
            .form(&consent_form("acme", &challenge))
    };
    // The test server allows 30 requests a minute per address.
    for _ in 0..30 {
        let response = server.call(consent("10.0.0.1:5000")).await;
        assert_eq!(
            response.status,
            StatusCode::SEE_OTHER,
            "{}",
            response.text()
        );
    }
    let limited = server.call(consent("10.0.0.1:5001")).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.text()
    );
    assert_eq!(limited.json()["error"], "slow_down");
    assert_eq!(limited.header("retry-after"), Some("60"));
    assert!(limited.header("location").is_none());
    assert_eq!(
        server.call(consent("10.0.0.2:5000")).await.status,
        StatusCode::SEE_OTHER,
        "another address is not affected"
    );
}

#[tokio::test]
async fn pending_codes_are_bounded() {
    let server = Server::start().await;
    let challenge = challenge(VERIFIER);
    let form = consent_form("acme", &challenge);
    let mut first = None;
    for _ in 0..tessera_server::issuer::PENDING_CODE_CAPACITY {
        let response = server
            .call(request(Method::POST, "/dev/oidc/authorize").form(&form))
            .await;
        assert_eq!(
            response.status,
            StatusCode::SEE_OTHER,
            "{}",
            response.text()
        );
        first.get_or_insert_with(|| response.header("location").unwrap().to_owned());
    }
    let full = server
        .call(request(Method::POST, "/dev/oidc/authorize").form(&form))
        .await;
    assert_eq!(
        full.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        full.text()
    );
    assert_eq!(full.json()["error"], "temporarily_unavailable");
    let retry: u64 = full.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Redeeming a code frees its place.
    let first = first.unwrap();
    let code = first
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert_eq!(
        exchange(&server, "acme", code, VERIFIER, REDIRECT).await.0,
        StatusCode::OK
    );
    let again = server
        .call(request(Method::POST, "/dev/oidc/authorize").form(&form))
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.text());
}

#[tokio::test]
async fn a_replayed_code_revokes_the_refresh_family_issued_from_it() {
    let server = Server::start().await;
    let code = consent_with_scope(&server, "acme", "ada", "openid offline_access").await;
    let (status, tokens) = exchange(&server, "acme", &code, VERIFIER, REDIRECT).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, rotated) =
        refresh(&server, "acme", tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let (status, replay) = exchange(&server, "acme", &code, VERIFIER, REDIRECT).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{replay}");
    assert_eq!(replay["error"], "invalid_grant");
    // RFC 6749 4.1.2: the tokens issued from the code are revoked, the
    // rotated refresh token included.
    let (status, revoked) =
        refresh(&server, "acme", rotated["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{revoked}");
    assert_eq!(revoked["error"], "invalid_grant");
}

#[tokio::test]
async fn a_refreshed_id_token_keeps_auth_time_and_sid() {
    let server = Server::start().await;
    let code = consent_with_scope(&server, "acme", "ada", "openid offline_access").await;
    let (_, first) = exchange(&server, "acme", &code, VERIFIER, REDIRECT).await;
    // auth_time counts seconds: let one pass.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, second) = refresh(&server, "acme", first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let (_, original) = parts(first["id_token"].as_str().unwrap());
    let (_, refreshed) = parts(second["id_token"].as_str().unwrap());
    assert!(original["sid"].is_string(), "{original}");
    assert!(refreshed["iat"].as_i64() > original["iat"].as_i64());
    // OpenID Connect Core 12.2: the original authentication's auth_time.
    for claim in ["auth_time", "sid", "sub", "aud", "azp", "iss"] {
        assert_eq!(refreshed[claim], original[claim], "{claim}");
    }
    assert!(refreshed.get("nonce").is_none(), "{refreshed}");
}

#[tokio::test]
async fn access_tokens_follow_rfc_9068() {
    let server = Server::start().await;
    let code = consent(&server, "acme", "ada").await;
    let (_, tokens) = exchange(&server, "acme", &code, VERIFIER, REDIRECT).await;
    let (header, claims) = parts(tokens["access_token"].as_str().unwrap());
    // RFC 9068 section 2.1: the media type; 2.2: the required claims.
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(claims["iss"], server.issuer);
    assert_eq!(claims["aud"], "acme-api");
    assert_eq!(claims["client_id"], "acme");
    for claim in ["exp", "iat"] {
        assert!(claims[claim].is_i64(), "{claim}: {claims}");
    }
    for claim in ["sub", "jti"] {
        assert!(
            claims[claim].as_str().is_some_and(|s| !s.is_empty()),
            "{claim}: {claims}"
        );
    }
    // A fresh jti for every token.
    let code = consent(&server, "acme", "ada").await;
    let (_, again) = exchange(&server, "acme", &code, VERIFIER, REDIRECT).await;
    assert_ne!(
        parts(again["access_token"].as_str().unwrap()).1["jti"],
        claims["jti"]
    );
}

#[tokio::test]
async fn cors_allows_only_the_origins_of_the_clients_tenant() {
    let server = Server::start().await;
    let mut config = crate::support::demo_config("initech", &server.issuer);
    config.allowed_origins = vec!["https://initech.example".into()];
    tessera_server::admin::create_tenant_record(
        &server.state,
        "test",
        tessera_server::admin::NewTenant {
            slug: "initech".into(),
            config,
            theme_preset: None,
            theme: None,
        },
    )
    .await
    .unwrap();
    // (origin, client_id, grant, allowed)
    let check = async |origin: &str, client: &str, grant: &str, allowed: bool| {
        let response = server
            .call(
                request(Method::POST, "/dev/oidc/token")
                    .header("origin", origin)
                    .form(&[
                        ("grant_type", grant),
                        ("code", "nope"),
                        ("refresh_token", "nope"),
                        ("client_id", client),
                    ]),
            )
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        let echoed = response.header("access-control-allow-origin");
        assert_eq!(
            echoed,
            allowed.then_some(origin),
            "{origin} calling as {client} with {grant}"
        );
    };
    for grant in ["authorization_code", "refresh_token"] {
        check("https://shop.example", "acme", grant, true).await;
        check("https://initech.example", "initech", grant, true).await;
        check("https://initech.example", "acme", grant, false).await;
        check("https://shop.example", "initech", grant, false).await;
        check("https://initech.example", "nobody", grant, false).await;
        check("https://evil.example", "acme", grant, false).await;
    }
    // The server's own origin may call as any client.
    check(
        crate::support::PUBLIC_URL,
        "initech",
        "authorization_code",
        true,
    )
    .await;
}

/// Signs `claims` with the development issuer's own key, read from the
/// data folder it was adopted from (see [`issuer_key_files`]), to make
/// hints the issuer would never mint itself, expired ones.
fn sign_as_issuer(data_dir: &std::path::Path, typ: &str, claims: &Value) -> String {
    let pkcs8 = std::fs::read(data_dir.join("dev-issuer-es256.p8")).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.typ = Some(typ.into());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_ec_der(&pkcs8),
    )
    .unwrap()
}

/// A data folder holding an issuer key and pairwise secret as an older
/// release kept them: the issuer adopts them, and the test knows the key.
fn issuer_key_files() -> std::path::PathBuf {
    let data_dir = crate::support::temp_dir("data");
    let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &ring::rand::SystemRandom::new(),
    )
    .unwrap();
    std::fs::write(data_dir.join("dev-issuer-es256.p8"), pkcs8.as_ref()).unwrap();
    std::fs::write(data_dir.join("dev-issuer-pairwise.secret"), [9u8; 32]).unwrap();
    data_dir
}

#[tokio::test]
async fn end_session_follows_rp_initiated_logout() {
    let data_dir = issuer_key_files();
    let server = Server::with_store(crate::support::test_store().await, &data_dir).await;
    let code = consent(&server, "acme", "ada").await;
    let (_, tokens) = exchange(&server, "acme", &code, VERIFIER, REDIRECT).await;
    let hint = tokens["id_token"].as_str().unwrap().to_owned();
    let (_, claims) = parts(&hint);
    let mut expired_claims = claims.clone();
    expired_claims["iat"] = serde_json::json!(1_000_000_000);
    expired_claims["exp"] = serde_json::json!(1_000_000_600);
    let expired = sign_as_issuer(&data_dir, "JWT", &expired_claims);
    let mut other_issuer = claims.clone();
    other_issuer["iss"] = serde_json::json!("https://elsewhere.example");
    let other_issuer = sign_as_issuer(&data_dir, "JWT", &other_issuer);
    let forged = {
        let mut segments: Vec<String> = hint.split('.').map(str::to_owned).collect();
        let mut tampered = claims.clone();
        tampered["aud"] = serde_json::json!("globex");
        segments[1] = URL_SAFE_NO_PAD.encode(tampered.to_string());
        segments.join(".")
    };
    let access_token = tokens["access_token"].as_str().unwrap();
    let back = "https://shop.example/callback?state=q";

    enum Expect<'a> {
        Redirect(&'a str),
        Page(StatusCode),
    }
    let check = async |name: &str, query: &str, expect: Expect<'_>| {
        let response = server
            .call(get(&format!("/dev/oidc/end_session?{query}")))
            .await;
        match expect {
            Expect::Redirect(location) => {
                assert_eq!(response.header("location"), Some(location), "{name}");
            }
            Expect::Page(status) => {
                assert_eq!(response.status, status, "{name}: {}", response.text());
                assert!(response.header("location").is_none(), "{name}");
            }
        }
    };
    let uri = format!("post_logout_redirect_uri={}", urlencode(REDIRECT));
    let evil = format!(
        "post_logout_redirect_uri={}",
        urlencode("https://evil.example/")
    );
    let cases = [
        (
            "id_token_hint alone names the client",
            format!("id_token_hint={hint}&{uri}&state=q"),
            Expect::Redirect(back),
        ),
        (
            "an expired hint is still a hint",
            format!("id_token_hint={expired}&{uri}&state=q"),
            Expect::Redirect(back),
        ),
        (
            "hint and the same client_id",
            format!("id_token_hint={hint}&client_id=acme&{uri}&state=q"),
            Expect::Redirect(back),
        ),
        (
            "no state, no parameter",
            format!("id_token_hint={hint}&{uri}"),
            Expect::Redirect(REDIRECT),
        ),
        (
            "client_id alone",
            format!("client_id=acme&{uri}&state=q"),
            Expect::Redirect(back),
        ),
        (
            "hint and no redirect",
            format!("id_token_hint={hint}"),
            Expect::Page(StatusCode::OK),
        ),
        (
            "a URI not registered for the hint's client",
            format!("id_token_hint={hint}&{evil}"),
            Expect::Page(StatusCode::OK),
        ),
        (
            "a URI and no client at all",
            uri.clone(),
            Expect::Page(StatusCode::OK),
        ),
        (
            "hint for another client than client_id",
            format!("id_token_hint={hint}&client_id=globex&{uri}"),
            Expect::Page(StatusCode::BAD_REQUEST),
        ),
        (
            "a hint whose signature does not match",
            format!("id_token_hint={forged}&{uri}"),
            Expect::Page(StatusCode::BAD_REQUEST),
        ),
        (
            "a hint of another issuer",
            format!("id_token_hint={other_issuer}&{uri}"),
            Expect::Page(StatusCode::BAD_REQUEST),
        ),
        (
            "an access token is not an ID token",
            format!("id_token_hint={access_token}&{uri}"),
            Expect::Page(StatusCode::BAD_REQUEST),
        ),
        (
            "not a token",
            format!("id_token_hint=nonsense&{uri}"),
            Expect::Page(StatusCode::BAD_REQUEST),
        ),
    ];
    for (name, query, expect) in cases {
        check(name, &query, expect).await;
    }
}

#[tokio::test]
async fn end_session_revokes_the_sessions_refresh_family() {
    let server = Server::start().await;
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let code = consent_with_scope(&server, "acme", "ada", "openid offline_access").await;
        let (status, tokens) = exchange(&server, "acme", &code, VERIFIER, REDIRECT).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        sessions.push(tokens);
    }
    let (signed_out, other) = (&sessions[0], &sessions[1]);
    let (status, rotated) = refresh(
        &server,
        "acme",
        signed_out["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let logout = server
        .call(get(&format!(
            "/dev/oidc/end_session?id_token_hint={}",
            rotated["id_token"].as_str().unwrap()
        )))
        .await;
    assert_eq!(logout.status, StatusCode::OK, "{}", logout.text());
    let (status, revoked) =
        refresh(&server, "acme", rotated["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{revoked}");
    assert_eq!(revoked["error"], "invalid_grant");
    // Another sign-in of the same user is another session.
    let (status, kept) = refresh(&server, "acme", other["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{kept}");
}

#[tokio::test]
async fn two_replicas_act_as_one_issuer() {
    let url = crate::support::postgres_database().await;
    let a = Server::with_store(
        crate::support::replica(&url).await,
        &crate::support::temp_dir("issuer-a"),
    )
    .await;
    let b = Server::with_store(
        crate::support::replica(&url).await,
        &crate::support::temp_dir("issuer-b"),
    )
    .await;
    // One key for both.
    assert_eq!(
        a.state.dev_issuer().unwrap().jwks(),
        b.state.dev_issuer().unwrap().jwks()
    );
    // A code issued by A is redeemed at B, once.
    let code = consent_with_scope(&a, "acme", "ada", "openid offline_access").await;
    let (status, tokens) = exchange(&b, "acme", &code, VERIFIER, REDIRECT).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, _) = exchange(&a, "acme", &code, VERIFIER, REDIRECT).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a code is single use across replicas"
    );
    // A fresh sign-in: a refresh at A, then the spent token again at B is a
    // reuse that revokes the family everywhere.
    let code = consent_with_scope(&a, "acme", "ada", "openid offline_access").await;
    let (_, first) = exchange(&a, "acme", &code, VERIFIER, REDIRECT).await;
    let first_refresh = first["refresh_token"].as_str().unwrap().to_owned();
    let (status, second) = refresh(&a, "acme", &first_refresh).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let (status, reused) = refresh(&b, "acme", &first_refresh).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        reused["error_description"]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{reused}"
    );
    let (status, _) = refresh(&a, "acme", second["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the family is revoked at A too"
    );
    // The rate limit counts both replicas' requests from one address.
    let attempt = || {
        request(Method::POST, "/dev/oidc/token")
            .peer("10.9.9.9:5000")
            .form(&[("grant_type", "authorization_code"), ("code", "nope")])
    };
    for round in 0..30 {
        let replica = if round % 2 == 0 { &a } else { &b };
        assert_eq!(
            replica.call(attempt()).await.status,
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(
        b.call(attempt()).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}
