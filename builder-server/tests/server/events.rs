//! IdP events end to end inside one process: a source receives its IdP's
//! signed requests (recorded as Logto, ZITADEL and Keycloak build them;
//! `events/tests/formats.rs` covers each format's rules), a redelivery is
//! recognised, a forged or stale one changes nothing, and the relay
//! delivers Standard Webhooks to a shop endpoint on loopback: in order per
//! subject, retried while the shop is down, dead-lettered and redelivered,
//! signed with both secrets during a rotation, with public and pairwise
//! subjects.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use tessera_events::standard_webhooks::{Delivery, WebhookSecret};
use tessera_server::events::relay;

use super::support::*;

pub(crate) const LOGTO_KEY: &str = "logto-hook-signing-key";

/// A shop's event endpoint on loopback: records every delivery and
/// answers `status`.
pub(crate) struct Shop {
    pub(crate) url: String,
    status: Arc<AtomicU16>,
    pub(crate) received: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

impl Shop {
    pub(crate) async fn start() -> Shop {
        let status = Arc::new(AtomicU16::new(200));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (answer, log) = (status.clone(), received.clone());
        let router = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let (answer, log) = (answer.clone(), log.clone());
                async move {
                    let status = StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap();
                    if status.is_success() {
                        let body: Value = serde_json::from_slice(&body).unwrap();
                        log.lock().unwrap().push((headers, body));
                    }
                    status
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Shop {
            url,
            status,
            received,
        }
    }

    fn bodies(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, body)| body.clone())
            .collect()
    }
}

async fn api(server: &Server, method: Method, path: &str, body: Option<Value>) -> Resp {
    let request = request(method, path).token(&server.root);
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    server.call(request).await
}

async fn logto_source(server: &Server, extra: Value) -> String {
    let mut body = json!({"label": "Logto", "format": "logto", "secret": LOGTO_KEY});
    for (name, value) in extra.as_object().unwrap() {
        body[name] = value.clone();
    }
    let created = api(
        server,
        Method::POST,
        "/api/tenants/acme/event-sources",
        Some(body),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let url = created.json()["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{PUBLIC_URL}/events/src_")),
        "{url}"
    );
    url.strip_prefix(PUBLIC_URL).unwrap().to_owned()
}

async fn endpoint(server: &Server, shop: &Shop) -> (String, WebhookSecret) {
    let created = api(
        server,
        Method::POST,
        "/api/tenants/acme/event-endpoints",
        Some(json!({"url": shop.url})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let body = created.json();
    (
        body["endpoint"]["id"].as_str().unwrap().to_owned(),
        WebhookSecret::parse(body["secret"].as_str().unwrap()).unwrap(),
    )
}

/// A Logto webhook as `packages/core/src/libraries/hook/utils.ts` sends
/// it, signed per `packages/core/src/utils/sign.ts`.
pub(crate) fn logto(event: &str, user: &str, key: &str) -> (Vec<u8>, String) {
    let created_at = tessera_server::http::rfc3339(tessera_server::store::now());
    let body = json!({
        "event": event, "createdAt": created_at, "userAgent": "admin-console", "ip": "203.0.113.7",
        "data": {"id": user, "username": "jdoe", "primaryEmail": "jdoe.secret@example.com",
            "primaryPhone": "+15555550100", "name": "Jane Doe", "isSuspended": event.contains("Suspension")},
        "path": format!("/users/{user}"), "method": "DELETE", "status": 204,
        "params": {"userId": user}, "matchedRoute": "/users/:userId", "hookId": "hk1"
    })
    .to_string()
    .into_bytes();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    let signature = tessera_server::http::hex(ring::hmac::sign(&key, &body).as_ref());
    (body, signature)
}

async fn send_logto(server: &Server, path: &str, body: &[u8], signature: &str) -> Resp {
    server
        .call(
            request(Method::POST, path)
                .header("content-type", "application/json")
                .header("logto-signature-sha-256", signature)
                .raw(body.to_vec()),
        )
        .await
}

fn verify(secret: &WebhookSecret, headers: &HeaderMap, body: &Value) -> bool {
    let text = |name: &str| headers[name].to_str().unwrap().to_owned();
    let (id, timestamp, signature) = (
        text("webhook-id"),
        text("webhook-timestamp"),
        text("webhook-signature"),
    );
    secret
        .verify(
            Delivery {
                id: &id,
                timestamp: &timestamp,
                signature: &signature,
            },
            body.to_string().as_bytes(),
            tessera_server::store::now(),
        )
        .is_ok()
}

#[tokio::test]
async fn a_logto_deletion_reaches_the_shop_once_and_forgeries_change_nothing() {
    let server = Server::start().await;
    let shop = Shop::start().await;
    let (_, secret) = endpoint(&server, &shop).await;
    let path = logto_source(&server, json!({})).await;
    let (body, signature) = logto("User.Deleted", "u-1", LOGTO_KEY);
    let accepted = send_logto(&server, &path, &body, &signature).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text());
    assert_eq!(accepted.json()["status"], "accepted");
    // The IdP sends it again: recognised, answered 2xx, queued once.
    let again = send_logto(&server, &path, &body, &signature).await;
    assert_eq!(
        (again.status, again.json()["status"].clone()),
        (StatusCode::OK, json!("duplicate"))
    );
    // Forged and tampered requests are refused and queue nothing.
    let (_, forged) = logto("User.Deleted", "u-1", "not the key");
    assert_eq!(
        send_logto(&server, &path, &body, &forged).await.status,
        StatusCode::UNAUTHORIZED
    );
    let mut tampered = body.clone();
    tampered[20] ^= 1;
    let refused = send_logto(&server, &path, &tampered, &signature).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json()["error"]["code"], "event_signature_invalid");
    assert_eq!(relay::deliver_due(&server.state).await, 1);
    let delivered = shop.received.lock().unwrap().clone();
    assert_eq!(delivered.len(), 1);
    let (headers, event) = &delivered[0];
    assert!(
        verify(&secret, headers, event),
        "signed with the endpoint's secret"
    );
    assert_eq!(event["type"], "user.deleted");
    assert_eq!(event["data"]["sub"], "u-1");
    assert_eq!(event["data"]["source"], "logto");
    assert!(!event.to_string().contains("example.com"), "{event}");
    // Nothing more is due; the source counts what happened.
    assert_eq!(relay::deliver_due(&server.state).await, 0);
    let sources = api(
        &server,
        Method::GET,
        "/api/tenants/acme/event-sources",
        None,
    )
    .await
    .json();
    assert_eq!(
        (
            sources[0]["received"].as_i64(),
            sources[0]["duplicates"].as_i64(),
            sources[0]["refused"].as_i64()
        ),
        (Some(1), Some(1), Some(2))
    );
    assert_eq!(sources[0]["last_refusal"], "event_signature_invalid");
    assert!(
        sources[0].get("secret").is_none(),
        "the secret is never shown"
    );
    let deliveries = api(
        &server,
        Method::GET,
        "/api/tenants/acme/event-deliveries",
        None,
    )
    .await
    .json();
    assert_eq!(deliveries[0]["state"], "delivered");
    assert_eq!(deliveries[0]["id"], headers["webhook-id"].to_str().unwrap());
}

#[tokio::test]
async fn a_down_shop_gets_everything_in_order_and_dead_letters_are_redelivered() {
    let server = Server::start().await;
    let shop = Shop::start().await;
    let (endpoint_id, _) = endpoint(&server, &shop).await;
    let path = logto_source(&server, json!({})).await;
    shop.status.store(503, Ordering::SeqCst);
    for event in ["User.SuspensionStatus.Updated", "User.Deleted"] {
        let (body, signature) = logto(event, "u-2", LOGTO_KEY);
        assert_eq!(
            send_logto(&server, &path, &body, &signature).await.status,
            StatusCode::OK
        );
    }
    // Only the first is due: the second waits behind it (same subject).
    assert_eq!(relay::deliver_due(&server.state).await, 1);
    let pending = api(
        &server,
        Method::GET,
        "/api/tenants/acme/event-deliveries?state=pending",
        None,
    )
    .await
    .json();
    let pending = pending.as_array().unwrap();
    assert_eq!(pending.len(), 2);
    let first = pending.iter().find(|d| d["attempts"] == 1).unwrap();
    assert_eq!(first["last_status"], 503);
    assert!(first["next_attempt_at"].as_i64().unwrap() >= tessera_server::store::now() + 9);
    // Until the retry is due nothing is sent.
    assert_eq!(relay::deliver_due(&server.state).await, 0);
    // The shop is back; the admin hurries the retry: both arrive, in order.
    shop.status.store(204, Ordering::SeqCst);
    let id = first["id"].as_str().unwrap();
    let hurried = api(
        &server,
        Method::POST,
        &format!("/api/tenants/acme/event-deliveries/{id}/redeliver"),
        None,
    )
    .await;
    assert_eq!(hurried.status, StatusCode::ACCEPTED);
    assert_eq!(relay::deliver_due(&server.state).await, 1);
    assert_eq!(relay::deliver_due(&server.state).await, 1);
    let types: Vec<Value> = shop
        .bodies()
        .iter()
        .map(|body| body["type"].clone())
        .collect();
    assert_eq!(types, [json!("user.disabled"), json!("user.deleted")]);
    let endpoints = api(
        &server,
        Method::GET,
        "/api/tenants/acme/event-endpoints",
        None,
    )
    .await
    .json();
    assert_eq!(endpoints[0]["id"], endpoint_id.as_str());
    assert_eq!(
        (
            endpoints[0]["delivered"].as_i64(),
            endpoints[0]["pending"].as_i64()
        ),
        (Some(2), Some(0))
    );
    // The backoff grows and a delivery older than the limit is given up.
    assert_eq!(relay::backoff(1), 10);
    assert!(relay::backoff(5) > relay::backoff(4));
    assert_eq!(relay::backoff(50), 12 * 3600);
    assert_eq!(relay::backoff(i64::MIN), 10);
    // Retries stop three days after the event arrived: a dead letter.
    let day = 24 * 3600;
    assert_eq!(relay::retry_at(1, 1000, 1000), Some(1010));
    assert_eq!(relay::retry_at(9, 0, 2 * day), Some(2 * day + 12 * 3600));
    assert_eq!(relay::retry_at(12, 0, 3 * day - 3600), None);
    assert_eq!(relay::retry_at(1, i64::MIN, i64::MAX), None);
}

#[tokio::test]
async fn a_dead_letter_is_kept_and_delivered_when_an_admin_asks() {
    let server = Server::start().await;
    let shop = Shop::start().await;
    endpoint(&server, &shop).await;
    let path = logto_source(&server, json!({})).await;
    let (body, signature) = logto("User.Deleted", "u-dead", LOGTO_KEY);
    send_logto(&server, &path, &body, &signature).await;
    // The relay gave up on it (as after three days of failures).
    let due = server
        .state
        .store()
        .claim_due_deliveries(tessera_server::store::now(), 10, 60)
        .await
        .unwrap();
    server
        .state
        .store()
        .record_attempt(
            due[0].seq,
            tessera_server::store::Attempt::Failed {
                status: Some(500),
                error: "the endpoint answered 500".into(),
                retry_at: None,
            },
        )
        .await
        .unwrap();
    let dead = api(
        &server,
        Method::GET,
        "/api/tenants/acme/event-deliveries?state=dead",
        None,
    )
    .await
    .json();
    assert_eq!(dead.as_array().unwrap().len(), 1);
    assert_eq!(dead[0]["last_error"], "the endpoint answered 500");
    assert_eq!(
        relay::deliver_due(&server.state).await,
        0,
        "a dead letter is not retried"
    );
    let endpoints = api(
        &server,
        Method::GET,
        "/api/tenants/acme/event-endpoints",
        None,
    )
    .await
    .json();
    assert_eq!(endpoints[0]["dead"], 1);
    let id = dead[0]["id"].as_str().unwrap();
    let redeliver = api(
        &server,
        Method::POST,
        &format!("/api/tenants/acme/event-deliveries/{id}/redeliver"),
        None,
    )
    .await;
    assert_eq!(redeliver.status, StatusCode::ACCEPTED);
    assert_eq!(relay::deliver_due(&server.state).await, 1);
    assert_eq!(shop.bodies().len(), 1);
    let bad = api(
        &server,
        Method::GET,
        "/api/tenants/acme/event-deliveries?state=lost",
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_during_the_overlap() {
    let server = Server::start().await;
    let shop = Shop::start().await;
    let (endpoint_id, old) = endpoint(&server, &shop).await;
    let rotated = api(
        &server,
        Method::POST,
        &format!("/api/tenants/acme/event-endpoints/{endpoint_id}/rotate"),
        Some(json!({"overlap_hours": 2})),
    )
    .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
    let new = WebhookSecret::parse(rotated.json()["secret"].as_str().unwrap()).unwrap();
    assert!(
        rotated.json()["endpoint"]["previous_secret_until"]
            .as_i64()
            .is_some()
    );
    let path = logto_source(&server, json!({})).await;
    let (body, signature) = logto("User.Deleted", "u-3", LOGTO_KEY);
    send_logto(&server, &path, &body, &signature).await;
    relay::deliver_due(&server.state).await;
    let (headers, event) = shop.received.lock().unwrap()[0].clone();
    assert_eq!(
        headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count(),
        2
    );
    assert!(verify(&new, &headers, &event) && verify(&old, &headers, &event));
    let bad = api(
        &server,
        Method::POST,
        &format!("/api/tenants/acme/event-endpoints/{endpoint_id}/rotate"),
        Some(json!({"overlap_hours": 1000})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pairwise_sources_map_the_idp_user_to_the_shop_subject() {
    use base64::Engine as _;
    let server = Server::start().await;
    let shop = Shop::start().await;
    endpoint(&server, &shop).await;
    let secret = [7u8; 32];
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let pairwise = logto_source(
        &server,
        json!({"subjects": "pairwise", "pairwise_secret": encoded, "sector": "shop.example"}),
    )
    .await;
    // A tenant of the development issuer maps with the issuer's own.
    let built_in = logto_source(&server, json!({"subjects": "pairwise"})).await;
    for path in [&pairwise, &built_in] {
        let (body, signature) = logto("User.Deleted", "alice", LOGTO_KEY);
        let sent = send_logto(&server, path, &body, &signature).await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.text());
    }
    relay::deliver_due(&server.state).await;
    let subjects: Vec<Value> = shop
        .bodies()
        .iter()
        .map(|body| body["data"]["sub"].clone())
        .collect();
    let expected = tessera_server::issuer::pairwise_subject(&secret, "shop.example", "alice");
    let dev = server
        .state
        .dev_issuer()
        .unwrap()
        .pairwise_subject("acme", "alice");
    assert_eq!(subjects, [json!(expected), json!(dev)]);
    assert_ne!(expected, "alice");
    // Bad settings are refused beside their field.
    for (body, field) in [
        (json!({"label": "x", "format": "logto"}), "secret"),
        (
            json!({"label": "x", "format": "nope", "secret": "k"}),
            "format",
        ),
        (
            json!({"label": "x", "format": "back-channel-logout", "secret": "k"}),
            "secret",
        ),
        (
            json!({"label": "x", "format": "back-channel-logout", "subjects": "pairwise"}),
            "subjects",
        ),
        (
            json!({"label": "x", "format": "standard-webhooks", "secret": "not-whsec"}),
            "secret",
        ),
        (
            json!({"label": "x", "format": "logto", "secret": "k", "subjects": "pairwise", "pairwise_secret": "c2hvcnQ", "sector": "s"}),
            "pairwise_secret",
        ),
    ] {
        let refused = api(
            &server,
            Method::POST,
            "/api/tenants/acme/event-sources",
            Some(body),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{}",
            refused.text()
        );
        assert_eq!(
            refused.json()["error"]["field"],
            field,
            "{}",
            refused.text()
        );
    }
    let plain_http = api(
        &server,
        Method::POST,
        "/api/tenants/acme/event-endpoints",
        Some(json!({"url": "http://shop.example/hooks"})),
    )
    .await;
    assert_eq!(plain_http.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn zitadel_and_keycloak_requests_are_received_by_their_formats() {
    let server = Server::start().await;
    let shop = Shop::start().await;
    endpoint(&server, &shop).await;
    let create = |format: &str| json!({"label": format, "format": format, "secret": "shared-key"});
    let mut paths = Vec::new();
    for format in ["zitadel", "keycloak"] {
        let created = api(
            &server,
            Method::POST,
            "/api/tenants/acme/event-sources",
            Some(create(format)),
        )
        .await;
        paths.push(
            created.json()["url"]
                .as_str()
                .unwrap()
                .strip_prefix(PUBLIC_URL)
                .unwrap()
                .to_owned(),
        );
    }
    let now = tessera_server::store::now();
    let hmac = |message: &[u8]| {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"shared-key");
        tessera_server::http::hex(ring::hmac::sign(&key, message).as_ref())
    };
    // `pkg/actions/signing.go`: t=<unix>,v1=<hex of "<t>.<body>">.
    let zitadel =
        json!({"aggregateID": "3364948", "aggregateType": "user", "resourceOwner": "3363925",
        "instanceID": "3363920", "version": "v2", "sequence": 9, "event_type": "user.deactivated",
        "created_at": "2026-01-15T10:21:33.412345Z", "userID": "actor-1"})
        .to_string();
    let signature = format!("t={now},v1={}", hmac(format!("{now}.{zitadel}").as_bytes()));
    let sent = server
        .call(
            request(Method::POST, &paths[0])
                .header("zitadel-signature", &signature)
                .raw(zitadel.clone()),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text());
    let stale = format!(
        "t={},v1={}",
        now - 900,
        hmac(format!("{}.{zitadel}", now - 900).as_bytes())
    );
    let refused = server
        .call(
            request(Method::POST, &paths[0])
                .header("zitadel-signature", &stale)
                .raw(zitadel),
        )
        .await;
    assert_eq!(
        (refused.status, refused.json()["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("event_stale"))
    );
    // `HttpSenderEventListenerProvider.java`: hex HMAC of the body.
    let keycloak = json!({"id": "e1", "time": now * 1000, "realmId": "r", "realmName": "acme",
        "authDetails": {"realmId": "master", "userId": "admin-1", "username": "admin"},
        "resourceType": "USER", "operationType": "DELETE", "resourcePath": "users/9e8d7c6b",
        "uid": "b2c4e6a8", "type": "admin.USER-DELETE"})
    .to_string();
    let sent = server
        .call(
            request(Method::POST, &paths[1])
                .header("x-keycloak-signature", &hmac(keycloak.as_bytes()))
                .raw(keycloak),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text());
    relay::deliver_due(&server.state).await;
    let events: Vec<(Value, Value)> = shop
        .bodies()
        .iter()
        .map(|body| (body["type"].clone(), body["data"]["sub"].clone()))
        .collect();
    assert_eq!(
        events,
        [
            (json!("user.disabled"), json!("3364948")),
            (json!("user.deleted"), json!("9e8d7c6b"))
        ]
    );
    // An unknown source is not found; the metrics count the outcomes.
    assert_eq!(
        server
            .call(request(Method::POST, "/events/src_000000000000").raw("{}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let metrics = server.call(get("/metrics")).await.text();
    assert!(
        metrics.contains("tessera_idp_events_total{outcome=\"accepted\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tessera_event_deliveries_total{outcome=\"delivered\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_erased_users_email_leaves_no_trace_in_the_database() {
    let dir = temp_dir("events-trace");
    let store = tessera_server::store::Store::open(&dir.join("tessera.sqlite3"))
        .await
        .unwrap();
    let server = Server::with_store(store, &dir).await;
    let shop = Shop::start().await;
    endpoint(&server, &shop).await;
    let path = logto_source(&server, json!({})).await;
    let (body, signature) = logto("User.Deleted", "u-9", LOGTO_KEY);
    assert_eq!(
        send_logto(&server, &path, &body, &signature).await.status,
        StatusCode::OK
    );
    relay::deliver_due(&server.state).await;
    server.state.store().close().await;
    let mut subject_found = false;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        // The search sees what is stored: the pseudonymous subject is.
        subject_found |= bytes.windows(3).any(|window| window == b"u-9");
        for personal in [
            &b"jdoe.secret@example.com"[..],
            b"Jane Doe",
            b"5555550100",
            b"203.0.113.7",
        ] {
            assert!(
                !bytes
                    .windows(personal.len())
                    .any(|window| window == personal),
                "{} found in the data folder",
                String::from_utf8_lossy(personal)
            );
        }
    }
    assert!(subject_found, "the search reads the database");
}

#[tokio::test]
async fn a_reconciliation_erases_users_the_idp_no_longer_has_once() {
    let server = Server::start().await;
    let shop = Shop::start().await;
    endpoint(&server, &shop).await;
    let path = logto_source(&server, json!({})).await;
    let id = path.rsplit('/').next().unwrap().to_owned();
    let url = format!("/api/tenants/acme/event-sources/{id}/reconcile");
    let reconcile = |missing: Value| {
        api(
            &server,
            Method::POST,
            &url,
            Some(json!({ "missing": missing })),
        )
    };
    let first = reconcile(json!(["gone-1", "gone-2"])).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(first.json(), json!({"erased": 2, "already": 0}));
    let second = reconcile(json!(["gone-2", "gone-3"])).await;
    assert_eq!(second.json(), json!({"erased": 1, "already": 1}));
    relay::deliver_due(&server.state).await;
    let erased: Vec<(Value, Value, Value)> = shop
        .bodies()
        .iter()
        .map(|body| {
            (
                body["type"].clone(),
                body["data"]["sub"].clone(),
                body["data"]["source_type"].clone(),
            )
        })
        .collect();
    assert_eq!(
        erased,
        ["gone-1", "gone-2", "gone-3"].map(|user| (
            json!("user.deleted"),
            json!(user),
            json!("reconciliation")
        ))
    );
    let bad = reconcile(json!(["ok", "with space"])).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["field"], "missing[1]");
    let unknown = api(
        &server,
        Method::POST,
        "/api/tenants/globex/event-sources/src_000000000000/reconcile",
        Some(json!({"missing": []})),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // Another tenant's source is not found under this tenant.
    let foreign = api(
        &server,
        Method::POST,
        &format!("/api/tenants/globex/event-sources/{id}/reconcile"),
        Some(json!({"missing": ["x"]})),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

/// A loopback issuer: discovery and a P-256 key set, and tokens signed
/// with its key.
struct Issuer {
    url: String,
    pkcs8: Vec<u8>,
}

impl Issuer {
    async fn start() -> Issuer {
        use base64::Engine as _;
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
        let random = ring::rand::SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random).unwrap();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &random)
                .unwrap();
        let point = key.public_key().as_ref().to_vec();
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "k1",
            "x": b64(&point[1..33]), "y": b64(&point[33..65])}]});
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let discovery = json!({"issuer": url, "jwks_uri": format!("{url}/jwks")});
        let router = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || async move { axum::Json(discovery) }),
            )
            .route(
                "/jwks",
                axum::routing::get(move || async move { axum::Json(jwks) }),
            );
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Issuer {
            url,
            pkcs8: pkcs8.as_ref().to_vec(),
        }
    }

    fn sign(&self, typ: &str, claims: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.typ = Some(typ.into());
        header.kid = Some("k1".into());
        jsonwebtoken::encode(
            &header,
            claims,
            &jsonwebtoken::EncodingKey::from_ec_der(&self.pkcs8),
        )
        .unwrap()
    }
}

#[tokio::test]
async fn shared_signals_events_are_verified_with_the_issuers_keys() {
    let server = Server::start().await;
    let shop = Shop::start().await;
    endpoint(&server, &shop).await;
    let issuer = Issuer::start().await;
    let created = api(
        &server,
        Method::POST,
        "/api/tenants/acme/event-sources",
        Some(json!({"label": "SSF", "format": "shared-signals", "issuer": issuer.url})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let url = created.json()["url"].as_str().unwrap().to_owned();
    assert_eq!(
        created.json()["audience"],
        url.as_str(),
        "the audience defaults to the receiving URL"
    );
    let path = url.strip_prefix(PUBLIC_URL).unwrap().to_owned();
    let now = tessera_server::store::now();
    let set = |jti: &str, extra: Value| {
        let mut claims = json!({"iss": issuer.url, "aud": url, "jti": jti, "iat": now,
            "sub_id": {"format": "iss_sub", "iss": issuer.url, "sub": "user-42"},
            "events": {"https://schemas.openid.net/secevent/risc/event-type/account-disabled": {"reason": "hijacking"}}});
        for (name, value) in extra.as_object().unwrap() {
            claims[name] = value.clone();
        }
        claims
    };
    let push = |token: String, content_type: &'static str| {
        server.call(
            request(Method::POST, &path)
                .header("content-type", content_type)
                .raw(token),
        )
    };
    let token = issuer.sign("secevent+jwt", &set("set-1", json!({})));
    let accepted = push(token.clone(), "application/secevent+jwt").await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.text());
    assert!(accepted.body.is_empty(), "RFC 8935: 202 with no body");
    // Sent again (a transmitter may): answered as the first time, done once.
    assert_eq!(
        push(token.clone(), "application/secevent+jwt").await.status,
        StatusCode::ACCEPTED
    );
    // Refusals: RFC 8935's 400 with `err` and `description`.
    let with_exp = issuer.sign("secevent+jwt", &set("set-2", json!({"exp": now + 60})));
    let id_token_typed = issuer.sign("JWT", &set("set-3", json!({})));
    let other_audience = issuer.sign(
        "secevent+jwt",
        &set("set-4", json!({"aud": "https://other.example/ssf"})),
    );
    let by_email = issuer.sign(
        "secevent+jwt",
        &set(
            "set-5",
            json!({"sub_id": {"format": "email", "email": "jo@example.com"}}),
        ),
    );
    for (name, token, content_type) in [
        ("exp", with_exp, "application/secevent+jwt"),
        ("typ", id_token_typed, "application/secevent+jwt"),
        ("aud", other_audience, "application/secevent+jwt"),
        ("email subject", by_email, "application/secevent+jwt"),
        ("content type", token.clone(), "application/jwt"),
    ] {
        let refused = push(token, content_type).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{name}");
        assert!(
            refused.json()["err"].is_string() && refused.json()["description"].is_string(),
            "{name}"
        );
        assert_eq!(refused.header("content-language"), Some("en"), "{name}");
        assert!(!refused.text().contains("jo@example.com"), "{name}");
    }
    relay::deliver_due(&server.state).await;
    let bodies = shop.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(
        (bodies[0]["type"].clone(), bodies[0]["data"]["sub"].clone()),
        (json!("user.disabled"), json!("user-42"))
    );
    assert_eq!(bodies[0]["data"]["source_type"], "account-disabled");
}

/// Runs `server`'s relay until nothing is left for it; answers how many it
/// sent.
async fn drain(server: &Server) -> usize {
    let mut sent = 0;
    loop {
        match relay::deliver_due(&server.state).await {
            0 => return sent,
            count => sent += count,
        }
    }
}

#[tokio::test]
async fn two_replicas_deliver_each_event_once() {
    let url = postgres_database().await;
    let a = Server::with_store(replica(&url).await, &temp_dir("relay-a")).await;
    let b = Server::with_store(replica(&url).await, &temp_dir("relay-b")).await;
    let shop = Shop::start().await;
    endpoint(&a, &shop).await;
    let path = logto_source(&a, json!({})).await;
    // Events arrive at either replica.
    for user in 0..6 {
        let (body, signature) = logto("User.Deleted", &format!("u-{user}"), LOGTO_KEY);
        let replica = if user % 2 == 0 { &a } else { &b };
        assert_eq!(
            send_logto(replica, &path, &body, &signature).await.status,
            StatusCode::OK
        );
    }
    // Both relays run at once: what one took, the other leaves.
    let (by_a, by_b) = tokio::join!(drain(&a), drain(&b));
    assert_eq!(by_a + by_b, 6);
    let mut subjects: Vec<String> = shop
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, event)| event["data"]["sub"].as_str().unwrap().to_owned())
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["u-0", "u-1", "u-2", "u-3", "u-4", "u-5"]);
}

#[tokio::test]
async fn a_delivery_held_by_a_relay_that_died_is_taken_when_its_lease_runs_out() {
    let server = Server::start().await;
    let shop = Shop::start().await;
    endpoint(&server, &shop).await;
    let path = logto_source(&server, json!({})).await;
    let (body, signature) = logto("User.Deleted", "u-held", LOGTO_KEY);
    send_logto(&server, &path, &body, &signature).await;
    let store = server.state.store();
    let now = tessera_server::store::now();
    let taken = store.claim_due_deliveries(now, 10, 60).await.unwrap();
    assert_eq!(taken.len(), 1);
    // Its relay died without recording anything: the delivery stays held
    // for the lease, then another relay takes it.
    assert!(
        store
            .claim_due_deliveries(now + 59, 10, 60)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_due_deliveries(now + 60, 10, 60).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, taken[0].id);
}
