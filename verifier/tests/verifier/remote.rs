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
        cooldown_seconds: 30,
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
    fetches_reach(&issuer, 2, "refetched in the background after max-age").await;
}

/// Waits (up to 5 s) until the issuer has served `count` key sets: a stale
/// set is refreshed by a task nobody awaits.
async fn fetches_reach(issuer: &Issuer, count: usize, why: &str) {
    for _ in 0..500 {
        if issuer.jwks_fetches.load(Ordering::SeqCst) >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), count, "{why}");
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
    fetches_reach(&issuer, 2, "a refresh was attempted").await;
    // Past the stale window: the failure surfaces.
    clock.store(NOW + 120 + 3600, Ordering::SeqCst);
    assert_eq!(
        verifier.verify(&jwt).await.unwrap_err().code(),
        "ERR_JWKS_UNAVAILABLE"
    );
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 3);
    // Within the cooldown the failure is answered at once, without a fetch.
    assert_eq!(
        verifier.verify(&jwt).await.unwrap_err().code(),
        "ERR_JWKS_UNAVAILABLE"
    );
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 3);
    // After it, the issuer is asked again, and its recovery is picked up.
    issuer.fail.store(false, Ordering::SeqCst);
    clock.store(NOW + 120 + 3600 + 30, Ordering::SeqCst);
    assert!(verifier.verify(&jwt).await.is_ok());
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 4);
}

/// How the issuer misbehaves in an outage drill.
#[derive(Debug, Clone, Copy)]
enum Outage {
    /// It answers 503.
    Down,
    /// It answers after the fetch timeout.
    Slow,
    /// It answers, with `Cache-Control: no-cache`.
    NoCache,
    /// It alternates between down and up, request by request.
    Flapping,
}

/// Outage drills (issue 11): 100 concurrent verifications of a valid token,
/// in five waves a few seconds of verifier time apart, while the issuer is
/// down, slow (beyond the timeout), flapping, or answering `no-cache`. A
/// stale set exists, so no verification may fail, none may wait for the
/// issuer (each answers well under the timeout), and the issuer sees at most
/// one fetch per cooldown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_drills() {
    for outage in [
        Outage::Down,
        Outage::Slow,
        Outage::NoCache,
        Outage::Flapping,
    ] {
        let issuer = start_issuer().await;
        let clock = Arc::new(AtomicI64::new(NOW));
        let verifier = remote(&issuer, &clock);
        let jwt = passport_for(&issuer, "ES256");
        verifier.verify(&jwt).await.unwrap();
        match outage {
            Outage::Down | Outage::Flapping => issuer.fail.store(true, Ordering::SeqCst),
            Outage::Slow => issuer.delay_ms.store(1500, Ordering::SeqCst),
            Outage::NoCache => *issuer.cache_control.lock().unwrap() = Some("no-cache"),
        }
        // Stale: past max-age (120), inside the stale window.
        let start = NOW + 200;
        let mut latencies = Vec::new();
        for wave in 0..5i64 {
            if matches!(outage, Outage::Flapping) {
                issuer.fail.store(wave % 2 == 0, Ordering::SeqCst);
            }
            // Each wave 10 s after the last: at most one fetch per 30 s.
            clock.store(start + wave * 10, Ordering::SeqCst);
            let tasks: Vec<_> = (0..100)
                .map(|_| {
                    let (verifier, jwt) = (verifier.clone(), jwt.clone());
                    tokio::spawn(async move {
                        let began = std::time::Instant::now();
                        let outcome = verifier.verify(&jwt).await.map(|_| ());
                        (outcome, began.elapsed())
                    })
                })
                .collect();
            for task in tasks {
                let (outcome, latency) = task.await.unwrap();
                assert!(outcome.is_ok(), "{outage:?}: {outcome:?}");
                latencies.push(latency);
            }
        }
        latencies.sort();
        let p99 = latencies[latencies.len() * 99 / 100];
        let fetches = issuer.jwks_fetches.load(Ordering::SeqCst);
        println!(
            "outage drill {outage:?}: 500 verifications, {} key-set fetches after the first, p99 {p99:?}, max {:?}",
            fetches - 1,
            latencies.last().unwrap()
        );
        // Waves at +0 and +10 and +20 share one cooldown, +30 and +40 the next.
        assert!(
            fetches - 1 <= 2,
            "{outage:?}: {} fetches in 40 s with a 30 s cooldown",
            fetches - 1
        );
        assert!(
            p99 < Duration::from_millis(250),
            "{outage:?}: p99 {p99:?} (the fetch timeout is 1000 ms)"
        );
    }
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
    assert_eq!(
        snapshot.jwks,
        online.snapshot().unwrap().jwks,
        "the key set read back from the file is the one served"
    );
    assert_eq!(snapshot.key_set().unwrap().to_document(), snapshot.jwks);
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

    // A snapshot's jwks_uri is a key location like any other: checked
    // before it could ever be requested.
    let mut elsewhere = JwksSnapshot::from_json(&saved).unwrap();
    elsewhere.jwks_uri = Some("http://10.0.0.5/keys".into());
    let error = RemoteVerifier::builder(
        rules(&issuer, &clock),
        KeyLocation::Discovery {
            issuer: issuer.base.clone(),
        },
    )
    .snapshot(elsewhere)
    .build()
    .err()
    .unwrap();
    assert_eq!(error.code(), "ERR_CONFIGURATION_INVALID");
    assert!(
        error
            .to_string()
            .contains("snapshot's jwks_uri is refused: plain http"),
        "{error}"
    );
}

/// A snapshot with a member missing, of the wrong type or unknown is refused,
/// and the error names the member.
#[test]
fn malformed_snapshots_are_refused_by_member() {
    let format = r#""format":"tessera-jwks-snapshot/1""#;
    let cases = [
        (r#"[]"#.to_owned(), "not a JSON object"),
        (
            r#"{"fetched_at":1,"jwks":{}}"#.to_owned(),
            "`format` is missing",
        ),
        (format!(r#"{{{format},"jwks":{{}}}}"#), "`fetched_at`"),
        (
            format!(r#"{{{format},"fetched_at":1.5,"jwks":{{}}}}"#),
            "`fetched_at`",
        ),
        (
            format!(r#"{{{format},"fetched_at":"1","jwks":{{}}}}"#),
            "`fetched_at`",
        ),
        (
            format!(r#"{{{format},"fetched_at":1}}"#),
            "`jwks` is missing",
        ),
        (
            format!(r#"{{{format},"fetched_at":1,"jwks":{{}},"issuer":7}}"#),
            "`issuer` must be a string",
        ),
        (
            format!(r#"{{{format},"fetched_at":1,"jwks":{{}},"jwks_uri":[]}}"#),
            "`jwks_uri` must be a string",
        ),
        (
            format!(r#"{{{format},"fetched_at":1,"jwks":{{}},"extra":true}}"#),
            "unknown member `extra`",
        ),
    ];
    for (text, expected) in cases {
        let error = JwksSnapshot::from_json(&text).unwrap_err();
        assert_eq!(error.code(), "ERR_JWKS_INVALID", "{text}");
        assert!(error.to_string().contains(expected), "{text}: {error}");
    }
    let snapshot = JwksSnapshot::from_json(&format!(
        r#"{{{format},"fetched_at":1700000000,"jwks":{{"keys":[]}},"issuer":null}}"#
    ))
    .unwrap();
    assert_eq!(
        (snapshot.fetched_at, snapshot.issuer),
        (1_700_000_000, None)
    );
}

/// The key-location cases shared with the npm package's Node tests
/// (`key_locations` in `verifier/tests/cases.json`): the one rule in the
/// core, called the way `RemoteVerifier` calls it.
#[test]
fn shared_key_location_cases() {
    use tessera_verifier::location::{Transport, discovery_url, key_url};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases.json");
    let suite: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = suite["key_locations"].as_array().unwrap();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let transport = if case["dangerously_allow_http"] == json!(true) {
            Transport::DangerousAllowHttp
        } else {
            Transport::HttpsOrLoopback
        };
        let (location, outcome) = match (case["issuer"].as_str(), case["jwks_uri"].as_str()) {
            (Some(issuer), None) => (
                KeyLocation::Discovery {
                    issuer: issuer.to_owned(),
                },
                discovery_url::<url::Url>(issuer, transport).map(|url| url.to_string()),
            ),
            (None, Some(uri)) => (
                KeyLocation::JwksUri(uri.to_owned()),
                key_url::<url::Url>(uri, transport).map(|url| url.to_string()),
            ),
            _ => panic!("{name}: give issuer or jwks_uri"),
        };
        let mut builder = RemoteVerifier::builder(
            Verifier::builder()
                .issuer("https://id.example")
                .audience("shop-api"),
            location,
        );
        if transport == Transport::DangerousAllowHttp {
            builder = builder.dangerous_allow_http();
        }
        let built = builder.build();
        let expect = &case["expect"];
        if expect["ok"] == json!(true) {
            let url = outcome.unwrap_or_else(|error| panic!("{name}: refused: {error}"));
            assert!(built.is_ok(), "{name}: the builder refused it");
            if let Some(discovery) = expect["discovery"].as_str() {
                assert_eq!(url, discovery, "{name}");
            }
        } else {
            let code = expect["code"].as_str().unwrap();
            let error = outcome.err().unwrap_or_else(|| panic!("{name}: accepted"));
            assert_eq!(error.code(), code, "{name}: {error}");
            assert_eq!(
                built.err().map(|error| error.code()),
                Some(code),
                "{name}: the builder"
            );
        }
    }
    assert!(cases.len() >= 20, "only {} key-location cases", cases.len());
}

#[test]
fn a_bad_ca_bundle_is_a_configuration_error() {
    let bad_ca = RemoteVerifier::builder(
        Verifier::builder().issuer("x").audience("y"),
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

/// Serves every request over TLS on a loopback port with `response` (raw
/// HTTP/1.1), under a certificate for `localhost` from a fresh private CA.
/// Returns the port and the CA's PEM.
async fn tls_server(response: String) -> (u16, String) {
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
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, response) = (acceptor.clone(), response.clone());
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
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, ca.pem())
}

fn jwks_uri_verifier(jwks_uri: String, ca: Option<String>) -> RemoteVerifier {
    let builder = RemoteVerifier::builder(
        Verifier::builder()
            .issuer(crate::support::ISSUER)
            .audience(AUDIENCE)
            .clock(Clock::Fixed(NOW)),
        KeyLocation::JwksUri(jwks_uri),
    )
    .policy(policy());
    match ca {
        Some(pem) => builder.ca_bundle_pem(pem),
        None => builder,
    }
    .build()
    .unwrap()
}

/// An issuer behind a private CA: trusted with the CA bundle, refused without.
#[tokio::test]
async fn custom_ca_bundle_is_trusted() {
    let body = keys().jwks().to_string();
    let (port, ca) = tls_server(format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ))
    .await;
    let jwks_uri = format!("https://localhost:{port}/jwks");
    let jwt = token("ES256", &good_claims());
    let untrusted = jwks_uri_verifier(jwks_uri.clone(), None)
        .verify(&jwt)
        .await
        .unwrap_err();
    assert_eq!(untrusted.code(), "ERR_JWKS_UNAVAILABLE", "{untrusted}");
    let trusted = jwks_uri_verifier(jwks_uri, Some(ca)).verify(&jwt).await;
    assert_eq!(trusted.unwrap().subject(), Some("pairwise-7f3a"));
}

/// An https key location that redirects to plain http is refused, even to a
/// loopback address that plain http may be used for directly: the redirect
/// would drop TLS from a location configured with it.
#[tokio::test]
async fn no_redirect_from_https_down_to_http() {
    let plain = start_issuer().await;
    let (port, ca) = tls_server(format!(
        "HTTP/1.1 302 Found\r\nlocation: {}/jwks\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        plain.base
    ))
    .await;
    let verifier = jwks_uri_verifier(format!("https://localhost:{port}/jwks"), Some(ca));
    let error = verifier
        .verify(&token("ES256", &good_claims()))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "ERR_JWKS_UNAVAILABLE", "{error}");
    assert!(error.to_string().contains("redirected"), "{error}");
    assert_eq!(
        plain.jwks_fetches.load(Ordering::SeqCst),
        0,
        "the plain-http key set was never fetched"
    );
}

/// A refetch that brings the same key set keeps it, and with it the
/// verified-token cache: only a real change empties the cache.
#[tokio::test]
async fn an_unchanged_key_set_keeps_the_token_cache() {
    let issuer = start_issuer().await;
    let clock = Arc::new(AtomicI64::new(NOW));
    let verifier = RemoteVerifier::builder(
        rules(&issuer, &clock).verified_token_cache(16),
        KeyLocation::Discovery {
            issuer: issuer.base.clone(),
        },
    )
    .policy(policy())
    .build()
    .unwrap();
    let jwt = passport_for(&issuer, "ES256");
    verifier.verify(&jwt).await.unwrap();
    verifier.refresh().await.unwrap();
    assert_eq!(issuer.jwks_fetches.load(Ordering::SeqCst), 2);
    assert!(
        verifier.verifier().cached(&jwt).is_some(),
        "same keys, cache kept"
    );
    let mut rotated = keys().jwks();
    rotated["keys"].as_array_mut().unwrap().remove(1);
    *issuer.jwks.lock().unwrap() = rotated;
    verifier.refresh().await.unwrap();
    assert!(
        verifier.verifier().cached(&jwt).is_none(),
        "new keys, cache emptied"
    );
}

/// The npm package hands out a snapshot as the value `to_value` builds by
/// hand; it must be what `to_json` writes, with and without the optional
/// members.
#[test]
fn a_snapshot_value_is_what_its_json_says() {
    let jwks = serde_json::json!({"keys": [], "extra": {"n": 1.5, "list": [true, null, "x"]}});
    for (issuer, jwks_uri) in [
        (None, None),
        (Some("https://id.example"), Some("https://id.example/jwks")),
    ] {
        let snapshot = JwksSnapshot {
            format: tessera_verifier::jwks_cache::SNAPSHOT_FORMAT.to_owned(),
            issuer: issuer.map(str::to_owned),
            jwks_uri: jwks_uri.map(str::to_owned),
            fetched_at: 1_700_000_000,
            jwks: jwks.clone(),
        };
        let written: serde_json::Value = serde_json::from_str(&snapshot.to_json()).unwrap();
        assert_eq!(snapshot.to_value(), written, "{issuer:?}");
    }
}
