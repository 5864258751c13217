//! The axum layer and extractor, driven with `tower::ServiceExt::oneshot`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use tessera_verifier::Passport;
use tessera_verifier::axum::PassportLayer;
use tower::ServiceExt as _;

use crate::support::{builder, good_claims, token};

async fn whoami(passport: Passport) -> String {
    passport.subject().unwrap_or_default().to_owned()
}

fn app() -> Router {
    let verifier = Arc::new(builder().build().unwrap());
    Router::new()
        .route("/orders", get(whoami))
        .layer(PassportLayer::new(verifier))
}

async fn call(authorization: Option<&str>) -> (StatusCode, Option<String>, String) {
    let mut request = Request::builder().uri("/orders");
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    let response = app()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|value| value.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap();
    (status, challenge, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn valid_passport_reaches_the_handler() {
    let jwt = token("ES256", &good_claims());
    let (status, _, body) = call(Some(&format!("Bearer {jwt}"))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "pairwise-7f3a"));
    let (status, _, _) = call(Some(&format!("bearer {jwt}"))).await;
    assert_eq!(status, StatusCode::OK, "the scheme is case-insensitive");
}

#[tokio::test]
async fn failures_are_401_without_detail() {
    let mut expired = good_claims();
    expired["exp"] = serde_json::json!(crate::support::NOW - 1);
    let expired = token("ES256", &expired);
    for (name, header, challenge) in [
        ("missing", None, "Bearer"),
        (
            "expired",
            Some(format!("Bearer {expired}")),
            "Bearer error=\"invalid_token\"",
        ),
        (
            "garbage",
            Some("Bearer abc".to_owned()),
            "Bearer error=\"invalid_token\"",
        ),
        (
            "basic scheme",
            Some("Basic dXNlcjpwYXNz".to_owned()),
            "Bearer error=\"invalid_token\"",
        ),
        (
            "empty bearer",
            Some("Bearer ".to_owned()),
            "Bearer error=\"invalid_token\"",
        ),
    ] {
        let (status, got, body) = call(header.as_deref()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(got.as_deref(), Some(challenge), "{name}");
        assert!(
            body.is_empty(),
            "{name}: no internal detail in the body, got {body}"
        );
    }
}

#[tokio::test]
async fn extractor_without_layer_is_401() {
    let app = Router::new().route("/orders", get(whoami));
    let response = app
        .oneshot(
            Request::builder()
                .uri("/orders")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// When the keys cannot be had (the issuer is down and nothing is cached),
/// nothing is known about the token: 503 with `Retry-After`, never 401, so
/// that a client keeps its session and retries.
#[tokio::test]
async fn an_unreachable_issuer_is_503_not_401() {
    use tessera_verifier::remote::{KeyLocation, RemoteVerifier};
    // A loopback port with nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let jwks_uri = format!("http://{}/jwks", closed.local_addr().unwrap());
    drop(closed);
    let verifier = RemoteVerifier::builder(builder(), KeyLocation::JwksUri(jwks_uri))
        .build()
        .unwrap();
    let app = Router::new()
        .route("/orders", get(whoami))
        .layer(PassportLayer::new(Arc::new(verifier)).retry_after_seconds(12));
    let jwt = token("ES256", &good_claims());
    for attempt in ["first, fetching", "second, within the cooldown"] {
        let response = app
            .clone()
            .oneshot(
                Request::builder()
                    .uri("/orders")
                    .header(header::AUTHORIZATION, format!("Bearer {jwt}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "{attempt}"
        );
        assert_eq!(response.headers()[header::RETRY_AFTER], "12", "{attempt}");
        assert!(
            response.headers().get(header::WWW_AUTHENTICATE).is_none(),
            "{attempt}"
        );
    }
}
