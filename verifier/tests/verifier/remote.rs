//! The remote key source against a local issuer on a loopback port: discovery,
//! Cache-Control, unknown-kid cooldown, one fetch at a time, timeout,
//! stale-if-error and snapshots.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};
use tessera_verifier::jwks_cache::{JwksCachePolicy, JwksSnapshot};
use tessera_verifier::remote::{KeyLocation, RemoteVerifier};
use tessera_verifier::{Clock, Verifier, VerifierBuilder};

use crate::support::{AUDIENCE, NOW, good_claims, keys, token};

/// What the fake issuer serves, changeable while it runs.
struct Issuer {
    base: String,
    jwks: std::sync::Mutex<Value>,
    cache_control: std::sync::Mutex<Option<&'static str>>,
    fail: std::sync::atomic::AtomicBool,
    delay_ms: AtomicU64,
    jwks_fetches: AtomicUsize,
    claimed_issuer: std::sync::Mutex<Option<String>>,
}

async fn discovery(State(issuer): State<Arc<Issuer>>) -> impl IntoResponse {
    let claimed = issuer
        .claimed_issuer
        .lock()
        .unwrap()
        .clone()
        .unwrap_or(issuer.base.clone());
    axum::Json(json!({"issuer": claimed, "jwks_uri": format!("{}/jwks", issuer.base)}))
}

async fn jwks(State(issuer): State<Arc<Issuer>>) -> axum::response::Response {
    issuer.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let delay = issuer.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if issuer.fail.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let mut headers = HeaderMap::new();
    if let Some(value) = *issuer.cache_control.lock().unwrap() {
        headers.insert(header::CACHE_CONTROL, value.parse().unwrap());
    }
    (headers, axum::Json(issuer.jwks.lock().unwrap().clone())).into_response()
}

async fn start_issuer() -> Arc<Issuer> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = Arc::new(Issuer {
        base,
        jwks: std::sync::Mutex::new(keys().jwks()),
        cache_control: std::sync::Mutex::new(Some("public, max-age=120")),
        fail: Default::default(),
        delay_ms: AtomicU64::new(0),
        jwks_fetches: AtomicUsize::new(0),
        claimed_issuer: std::sync::Mutex::new(None),
    });
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .with_state(Arc::clone(&issuer));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    issuer
}

fn rules(issuer: &Issuer, clock: &Arc<AtomicI64>) -> VerifierBuilder {
    Verifier::builder()
        .issuer(&issuer.base)
        .audience(AUDIENCE)
        .clock(Clock::Manual(Arc::clone(clock)))
}

fn policy() -> JwksCachePolicy {
    JwksCachePolicy {
        default_max_age_seconds: 600,
        unknown_key_cooldown_seconds: 30,
        timeout_milliseconds: 1000,
        stale_if_error_seconds: 3600,
    }
}

fn passport_for(issuer: &Issuer, alg: &str) -> String {
    let mut claims = good_claims();
    claims["iss"] = json!(issuer.base);
    claims["exp"] = json!(NOW + 100_000);
    token(alg, &claims)
}

fn remote(issuer: &Issuer, clock: &Arc<AtomicI64>) -> RemoteVerifier {
    RemoteVerifier::builder(
        rules(issuer, clock),
        KeyLocation::Discovery {
            issuer: issuer.base.clone(),
        },
    )
    .policy(policy())
    .build()
    .unwrap()
}

#[tokio::test]
async fn discovery_then_cache_control_max_age() {
    let issuer = start_issuer().await;
    let clock = Arc::new(AtomicI64::new(NOW));
    let verifier = remote(&issuer, &clock);
    let jwt = passport_for(&issuer, "ES256");
    assert_eq!(
        verifier.verify(&jwt).await.unwrap().subject(),
        Some("pairwise-7f3a")
    );
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 1);
    clock.store(NOW + 119, Ordering::SeqCst);
    verifier.verify(&jwt).await.unwrap();
    assert_eq!(
        issuer.jwks_fetches.load(Ordering::SeqCst),
        1,
        "fresh for max-age=120"
    );
    clock.store(NOW + 120, Ordering::SeqCst);
    verifier.verify(&jwt).await.unwrap();
    assert_eq!(
        issuer.jwks_fetches.load(Ordering::SeqCst),
        2,
        "refetched after max-age"
    );
}

#[tokio::test]
async fn unknown_kid_refetches_once_per_cooldown() {
    let issuer = start_issuer().await;
    let clock = Arc::new(AtomicI64::new(NOW));
    let verifier = remote(&issuer, &clock);
    let mut stranger = good_claims();
    stranger["iss"] = json!(issuer.base);
    let (key, _) = keys().for_algorithm("ES256");
    let unknown = crate::support::sign_raw(
        key,
        "ES256",
        r#"{"alg":"ES256","kid":"rotated"}"#,
        &stranger.to_string(),
    );
    assert_eq!(
        verifier.verify(&unknown).await.unwrap_err().code(),
        "ERR_JWKS_NO_MATCHING_KEY"
    );
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 1);
    for _ in 0..5 {
        assert!(verifier.verify(&unknown).await.is_err());
    }
    assert_eq!(
        issuer.jwks_fetches.load(Ordering::SeqCst),
        1,
        "cooldown holds"
    );
    // The issuer rotates in the new kid; after the cooldown it is picked up.
    let mut rotated = keys().jwks();
    rotated["keys"][1]["kid"] = json!("rotated");
    *issuer.jwks.lock().unwrap() = rotated;
    clock.store(NOW + 30, Ordering::SeqCst);
    assert!(verifier.verify(&unknown).await.is_ok());
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_fetch_at_a_time() {
    let issuer = start_issuer().await;
    issuer.delay_ms.store(200, Ordering::SeqCst);
    let clock = Arc::new(AtomicI64::new(NOW));
    let verifier = Arc::new(remote(&issuer, &clock));
    let jwt = passport_for(&issuer, "EdDSA");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let verifier = Arc::clone(&verifier);
            let jwt = jwt.clone();
            tokio::spawn(async move { verifier.verify(&jwt).await.map(|_| ()) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn timeout_gives_a_clear_error() {
    let issuer = start_issuer().await;
    issuer.delay_ms.store(3000, Ordering::SeqCst);
    let clock = Arc::new(AtomicI64::new(NOW));
    let verifier = RemoteVerifier::builder(
        rules(&issuer, &clock),
        KeyLocation::JwksUri(format!("{}/jwks", issuer.base)),
    )
    .policy(JwksCachePolicy {
        timeout_milliseconds: 200,
        ..policy()
    })
    .build()
    .unwrap();
    let started = std::time::Instant::now();
    let error = verifier
        .verify(&passport_for(&issuer, "ES256"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "ERR_JWKS_TIMEOUT");
    assert!(started.elapsed() < Duration::from_millis(2500));
}

#[tokio::test]
async fn stale_if_error_then_unavailable() {
    let issuer = start_issuer().await;
    let clock = Arc::new(AtomicI64::new(NOW));
    let verifier = remote(&issuer, &clock);
    let jwt = passport_for(&issuer, "RS256");
    verifier.verify(&jwt).await.unwrap();
    issuer.fail.store(true, Ordering::SeqCst);
    // Past max-age (120) but inside the stale window (3600): still verifies.
    clock.store(NOW + 1000, Ordering::SeqCst);
    assert!(verifier.verify(&jwt).await.is_ok());
    assert_eq!(
        issuer.jwks_fetches.load(Ordering::SeqCst),
        2,
        "a refresh was attempted"
    );
    // Past the stale window: the failure surfaces.
    clock.store(NOW + 120 + 3600, Ordering::SeqCst);
    assert_eq!(
        verifier.verify(&jwt).await.unwrap_err().code(),
        "ERR_JWKS_UNAVAILABLE"
    );
}

#[tokio::test]
async fn discovery_must_name_the_issuer() {
    let issuer = start_issuer().await;
    *issuer.claimed_issuer.lock().unwrap() = Some("https://evil.example".into());
    let clock = Arc::new(AtomicI64::new(NOW));
    let error = remote(&issuer, &clock)
        .verify(&passport_for(&issuer, "ES256"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "ERR_JWKS_UNAVAILABLE");
    assert!(error.to_string().contains("different issuer"), "{error}");
}

#[tokio::test]
async fn snapshot_round_trip_works_offline() {
    let issuer = start_issuer().await;
    let clock = Arc::new(AtomicI64::new(NOW));
    let online = remote(&issuer, &clock);
    assert!(online.snapshot().is_none());
    let jwt = passport_for(&issuer, "PS256");
    online.verify(&jwt).await.unwrap();
    let saved = online.snapshot().unwrap().to_json();

    // The air-gapped site: the issuer is unreachable, only the file is there.
    issuer.fail.store(true, Ordering::SeqCst);
    let snapshot = JwksSnapshot::from_json(&saved).unwrap();
    assert_eq!(snapshot.fetched_at, NOW);
    let offline = RemoteVerifier::builder(
        rules(&issuer, &clock),
        KeyLocation::Discovery {
            issuer: issuer.base.clone(),
        },
    )
    .policy(policy())
    .snapshot(snapshot)
    .build()
    .unwrap();
    let fetches = issuer.jwks_fetches.load(Ordering::SeqCst);
    assert!(offline.verify(&jwt).await.is_ok());
    assert_eq!(
        issuer.jwks_fetches.load(Ordering::SeqCst),
        fetches,
        "no fetch while fresh"
    );
    assert_eq!(
        JwksSnapshot::from_json(r#"{"format":"other","fetched_at":1,"jwks":{}}"#)
            .unwrap_err()
            .code(),
        "ERR_JWKS_INVALID"
    );
}

#[test]
fn plain_http_only_on_loopback() {
    let builder = || Verifier::builder().issuer("x").audience("y");
    let refused = RemoteVerifier::builder(
        builder(),
        KeyLocation::JwksUri("http://id.example/jwks".into()),
    )
    .build()
    .unwrap_err();
    assert_eq!(refused.code(), "ERR_CONFIGURATION_INVALID");
    assert!(
        RemoteVerifier::builder(
            builder(),
            KeyLocation::JwksUri("http://id.example/jwks".into())
        )
        .dangerous_allow_http()
        .build()
        .is_ok()
    );
    assert!(
        RemoteVerifier::builder(
            builder(),
            KeyLocation::JwksUri("https://id.example/jwks".into())
        )
        .build()
        .is_ok()
    );
    let bad_ca = RemoteVerifier::builder(
        builder(),
        KeyLocation::JwksUri("https://id.example/jwks".into()),
    )
    .ca_bundle_pem("not pem")
    .build()
    .unwrap_err();
    assert_eq!(bad_ca.code(), "ERR_CONFIGURATION_INVALID");
}

#[test]
fn cache_control_parsing() {
    use tessera_verifier::jwks_cache::max_age_from_cache_control as max_age;
    let policy = policy();
    assert_eq!(max_age(None, &policy), 600);
    assert_eq!(max_age(Some("public, max-age=60"), &policy), 60);
    assert_eq!(max_age(Some("no-store"), &policy), 0);
    assert_eq!(max_age(Some("max-age=99999999"), &policy), 86_400);
    assert_eq!(max_age(Some("max-age=abc"), &policy), 600);
}

/// A forward proxy on loopback that answers for `http://issuer.test` itself
/// and records the absolute-form targets it was asked for.
#[tokio::test]
async fn fetches_go_through_the_configured_proxy() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let recorded = Arc::clone(&seen);
    let proxy = Router::new().fallback(move |uri: axum::http::Uri| {
        let recorded = Arc::clone(&recorded);
        async move {
            recorded.lock().unwrap().push(uri.to_string());
            match uri.path() {
                "/.well-known/openid-configuration" => axum::Json(
                    json!({"issuer": "http://issuer.test", "jwks_uri": "http://issuer.test/jwks"}),
                ),
                _ => axum::Json(keys().jwks()),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, proxy).await.unwrap() });

    let clock = Arc::new(AtomicI64::new(NOW));
    let verifier = RemoteVerifier::builder(
        Verifier::builder()
            .issuer("http://issuer.test")
            .audience(AUDIENCE)
            .clock(Clock::Manual(clock)),
        KeyLocation::Discovery {
            issuer: "http://issuer.test".into(),
        },
    )
    .dangerous_allow_http()
    .proxy(&proxy_url)
    .build()
    .unwrap();
    let mut claims = good_claims();
    claims["iss"] = json!("http://issuer.test");
    assert!(verifier.verify(&token("ES256", &claims)).await.is_ok());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "http://issuer.test/.well-known/openid-configuration",
            "http://issuer.test/jwks"
        ],
        "both fetches went through the proxy in absolute form"
    );
    let bad = RemoteVerifier::builder(
        Verifier::builder().issuer("x").audience("y"),
        KeyLocation::JwksUri("https://id.example/jwks".into()),
    )
    .proxy("not a url")
    .build()
    .unwrap_err();
    assert_eq!(bad.code(), "ERR_CONFIGURATION_INVALID");
}

/// An issuer behind a private CA: trusted with the CA bundle, refused without.
#[tokio::test]
async fn custom_ca_bundle_is_trusted() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio_rustls::rustls;

    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Tessera test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = keys().jwks().to_string();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, body) = (acceptor.clone(), body.clone());
            tokio::spawn(async move {
                // A failed handshake (the untrusted client) just ends here.
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });

    let jwks_uri = format!("https://localhost:{port}/jwks");
    let build = |ca: Option<String>| {
        let builder = RemoteVerifier::builder(
            Verifier::builder()
                .issuer(crate::support::ISSUER)
                .audience(AUDIENCE)
                .clock(Clock::Fixed(NOW)),
            KeyLocation::JwksUri(jwks_uri.clone()),
        )
        .policy(policy());
        match ca {
            Some(pem) => builder.ca_bundle_pem(pem),
            None => builder,
        }
        .build()
        .unwrap()
    };
    let jwt = token("ES256", &good_claims());
    let untrusted = build(None).verify(&jwt).await.unwrap_err();
    assert_eq!(untrusted.code(), "ERR_JWKS_UNAVAILABLE", "{untrusted}");
    let trusted = build(Some(ca.pem())).verify(&jwt).await;
    assert_eq!(trusted.unwrap().subject(), Some("pairwise-7f3a"));
}
