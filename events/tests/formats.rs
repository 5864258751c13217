//! Each IdP's requests, built as its sender builds them (each test names
//! the upstream file it follows), signed per its algorithm: accepted and
//! read; forged, stale and malformed ones refused; the key the same for a
//! redelivery; no personal data in what is read.

use serde_json::{Value, json};
use tessera_events::formats::{self, Action, EventError};
use tessera_events::standard_webhooks::WebhookSecret;

const NOW: i64 = 1_768_472_493; // 2026-01-15T10:21:33Z
const KEY: &[u8] = b"hook-signing-key-from-the-idp";

fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    hex::encode(ring::hmac::sign(&key, message).as_ref())
}

fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in pairs {
        map.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

/// `packages/core/src/libraries/hook/index.ts` (`buildWebhooks`) and
/// `context-manager.ts`: the fields in Logto's order, `JSON.stringify`'d.
fn logto_body(event: &str, created_at: &str, suspended: bool) -> Vec<u8> {
    json!({
        "event": event, "createdAt": created_at, "userAgent": "acme-admin/1.0", "ip": "203.0.113.7",
        "data": {"id": "u1a2b3c4d5e6", "username": "jdoe", "primaryEmail": "jdoe@example.com",
            "primaryPhone": "+15555550100", "name": "Jane Doe", "avatar": null, "customData": {},
            "identities": {}, "lastSignInAt": 1736900000000_i64, "createdAt": 1730000000000_i64,
            "updatedAt": 1736900000000_i64, "profile": {}, "applicationId": null, "isSuspended": suspended},
        "path": "/users/u1a2b3c4d5e6", "method": "DELETE", "status": 204,
        "params": {"userId": "u1a2b3c4d5e6"}, "matchedRoute": "/users/:userId", "hookId": "hk9f8e7d6c"
    })
    .to_string()
    .into_bytes()
}

/// `packages/core/src/utils/sign.ts`: hex HMAC-SHA256 of the body.
fn logto_headers(key: &[u8], body: &[u8]) -> http::HeaderMap {
    headers(&[
        ("content-type", "application/json"),
        ("user-agent", "Logto (https://logto.io/)"),
        ("logto-signature-sha-256", &hmac_hex(key, body)),
    ])
}

#[test]
fn logto_user_deleted_erases_and_keeps_no_personal_data() {
    let body = logto_body("User.Deleted", "2026-01-15T10:21:30.412Z", false);
    let received = formats::logto(KEY, &logto_headers(KEY, &body), &body, NOW).unwrap();
    assert_eq!(received.event.action, Action::Erase);
    assert_eq!(received.event.subject.as_deref(), Some("u1a2b3c4d5e6"));
    assert_eq!(received.event.source_type, "User.Deleted");
    assert!(received.key.starts_with("logto:") && received.key.len() == "logto:".len() + 64);
    let kept = format!("{received:?}");
    for personal in ["jdoe", "example.com", "5555550100", "Jane", "203.0.113.7"] {
        assert!(!kept.contains(personal), "{personal} kept: {kept}");
    }
    // The same body again has the same key; another body another.
    let again = formats::logto(KEY, &logto_headers(KEY, &body), &body, NOW + 5).unwrap();
    assert_eq!(again.key, received.key);
}

#[test]
fn logto_suspension_disables_and_enables() {
    for (suspended, action) in [(true, Action::Disable), (false, Action::Enable)] {
        let body = logto_body(
            "User.SuspensionStatus.Updated",
            "2026-01-15T10:21:33Z",
            suspended,
        );
        let received = formats::logto(KEY, &logto_headers(KEY, &body), &body, NOW).unwrap();
        assert_eq!(received.event.action, action);
    }
    let body = logto_body("PostSignIn", "2026-01-15T10:21:33Z", false);
    let ignored = formats::logto(KEY, &logto_headers(KEY, &body), &body, NOW).unwrap();
    assert_eq!(
        (ignored.event.action, ignored.event.subject),
        (Action::Ignore, None)
    );
}

#[test]
fn logto_forged_stale_and_malformed_requests_are_refused() {
    let body = logto_body("User.Deleted", "2026-01-15T10:21:30Z", false);
    let forged = formats::logto(KEY, &logto_headers(b"another key", &body), &body, NOW);
    assert_eq!(forged.unwrap_err(), EventError::BadSignature);
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert_eq!(
        formats::logto(KEY, &logto_headers(KEY, &body), &tampered, NOW).unwrap_err(),
        EventError::BadSignature
    );
    let stale = logto_body("User.Deleted", "2026-01-15T10:10:00Z", false);
    assert!(matches!(
        formats::logto(KEY, &logto_headers(KEY, &stale), &stale, NOW),
        Err(EventError::Stale(_))
    ));
    let future = logto_body("User.Deleted", "2026-01-15T10:40:00Z", false);
    assert!(matches!(
        formats::logto(KEY, &logto_headers(KEY, &future), &future, NOW),
        Err(EventError::Stale(_))
    ));
    assert_eq!(
        formats::logto(KEY, &headers(&[]), &body, NOW).unwrap_err(),
        EventError::MissingHeader("logto-signature-sha-256")
    );
    let not_hex = headers(&[("logto-signature-sha-256", "zz")]);
    assert!(matches!(
        formats::logto(KEY, &not_hex, &body, NOW),
        Err(EventError::MalformedSignature(_))
    ));
    let signed_junk = b"{\"event\": 3}".to_vec();
    assert!(matches!(
        formats::logto(KEY, &logto_headers(KEY, &signed_junk), &signed_junk, NOW),
        Err(EventError::Malformed(_))
    ));
    // A deletion without a user id is refused, not applied to nobody.
    let nobody = json!({"event": "User.Deleted", "createdAt": "2026-01-15T10:21:33Z", "data": {}})
        .to_string()
        .into_bytes();
    assert!(matches!(
        formats::logto(KEY, &logto_headers(KEY, &nobody), &nobody, NOW),
        Err(EventError::Malformed(_))
    ));
}

/// `internal/repository/execution/queue.go` (`ContextInfoEvent`), Go's
/// `encoding/json` order.
fn zitadel_body(event_type: &str, sequence: u64, payload: Option<Value>) -> Vec<u8> {
    let mut body = json!({
        "aggregateID": "336494809936035843", "aggregateType": "user",
        "resourceOwner": "336392597046099971", "instanceID": "336392597046034435",
        "version": "v2", "sequence": sequence, "event_type": event_type,
        "created_at": "2026-01-15T10:21:33.412345Z", "userID": "336392597046755331"
    });
    if let Some(payload) = payload {
        body["event_payload"] = payload;
    }
    body.to_string().into_bytes()
}

/// `pkg/actions/signing.go` (`ComputeSignatureHeader`): `t=<unix>,v1=<hex>`
/// over `"<t>." + body`.
fn zitadel_headers(key: &[u8], at: i64, body: &[u8]) -> http::HeaderMap {
    let mut message = format!("{at}.").into_bytes();
    message.extend_from_slice(body);
    headers(&[(
        "zitadel-signature",
        &format!("t={at},v1={}", hmac_hex(key, &message)),
    )])
}

#[test]
fn zitadel_user_events_name_the_aggregate_not_the_actor() {
    for (event_type, action) in [
        ("user.removed", Action::Erase),
        ("user.deactivated", Action::Disable),
        ("user.locked", Action::Disable),
        ("user.reactivated", Action::Enable),
        ("user.unlocked", Action::Enable),
        ("user.human.email.changed", Action::IdentifierChanged),
        ("user.human.profile.changed", Action::Ignore),
    ] {
        let body = zitadel_body(event_type, 9, None);
        let received =
            formats::zitadel(KEY, &zitadel_headers(KEY, NOW, &body), &body, NOW).unwrap();
        assert_eq!(received.event.action, action, "{event_type}");
        if action != Action::Ignore {
            assert_eq!(
                received.event.subject.as_deref(),
                Some("336494809936035843")
            );
        }
        assert_eq!(
            received.key,
            "zitadel:336392597046034435:336494809936035843:9"
        );
    }
    // Signed out: the session, from an object or (older ZITADEL) base64.
    use base64::Engine as _;
    let payload = json!({"userAgentID": "336500000000000001", "sessionID": "336500000000000777"});
    let encoded = base64::engine::general_purpose::STANDARD.encode(payload.to_string());
    for payload in [payload, Value::String(encoded)] {
        let body = zitadel_body("user.human.signed.out", 12, Some(payload));
        let received =
            formats::zitadel(KEY, &zitadel_headers(KEY, NOW, &body), &body, NOW).unwrap();
        assert_eq!(received.event.action, Action::EndSessions);
        assert_eq!(
            received.event.session.as_deref(),
            Some("336500000000000777")
        );
    }
}

#[test]
fn zitadel_forged_stale_and_malformed_signatures_are_refused() {
    let body = zitadel_body("user.removed", 9, None);
    assert_eq!(
        formats::zitadel(KEY, &zitadel_headers(b"other", NOW, &body), &body, NOW).unwrap_err(),
        EventError::BadSignature
    );
    // One of several v1 entries may match (a key being rotated).
    let mut message = format!("{NOW}.").into_bytes();
    message.extend_from_slice(&body);
    let rotated = headers(&[(
        "zitadel-signature",
        &format!(
            "t={NOW},v1={},v1=nothex,v1={}",
            hmac_hex(b"old", &message),
            hmac_hex(KEY, &message)
        ),
    )]);
    assert!(formats::zitadel(KEY, &rotated, &body, NOW).is_ok());
    // The timestamp is signed: changing it breaks the signature.
    let moved = headers(&[(
        "zitadel-signature",
        &format!("t={},v1={}", NOW + 1, hmac_hex(KEY, &message)),
    )]);
    assert_eq!(
        formats::zitadel(KEY, &moved, &body, NOW).unwrap_err(),
        EventError::BadSignature
    );
    for at in [NOW - 301, NOW + 301] {
        assert!(matches!(
            formats::zitadel(KEY, &zitadel_headers(KEY, at, &body), &body, NOW),
            Err(EventError::Stale(_))
        ));
    }
    for header in ["v1=00", "t=-5,v1=00", "t=1e9,v1=00", &format!("t={NOW}")] {
        assert!(
            matches!(
                formats::zitadel(KEY, &headers(&[("zitadel-signature", header)]), &body, NOW),
                Err(EventError::MalformedSignature(_))
            ),
            "{header}"
        );
    }
}

/// `ExtendedAdminEvent.java`, serialized by Keycloak's `JsonSerialization`
/// (nulls omitted).
fn keycloak_body(
    kind: &str,
    path: Option<&str>,
    representation: Option<&str>,
    time_ms: i64,
) -> Vec<u8> {
    let mut body = json!({
        "id": "6f0c3f0e-2b51-4c3e-9f1e-1c2d3e4f5a6b", "time": time_ms,
        "realmId": "7a1d9a56-0c55-4a3e-8d1b-2f9e5c1b0a11", "realmName": "acme",
        "authDetails": {"realmId": "acme", "clientId": "web-app", "userId": "0f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f",
            "ipAddress": "198.51.100.4", "username": "jdoe", "sessionId": "5d6e7f80-aaaa-4bbb-8ccc-0123456789ab"},
        "uid": "b2c4e6a8-1357-4b9d-8f0e-2468ace13579", "type": kind
    });
    if let Some(path) = path {
        body["resourcePath"] = json!(path);
        body["resourceType"] = json!("USER");
    }
    if let Some(representation) = representation {
        body["representation"] = json!(representation);
    }
    body.to_string().into_bytes()
}

/// `HttpSenderEventListenerProvider.java` (`hmacFor`): hex HMAC of the body.
fn keycloak_headers(key: &[u8], body: &[u8]) -> http::HeaderMap {
    headers(&[("x-keycloak-signature", &hmac_hex(key, body))])
}

#[test]
fn keycloak_events_name_the_user_of_the_resource_path() {
    let user = "9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4";
    let path = format!("users/{user}");
    // (type, resource path, representation, action, subject)
    type Case<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Action, &'a str);
    let cases: [Case; 6] = [
        ("admin.USER-DELETE", Some(&path), None, Action::Erase, user),
        (
            "access.DELETE_ACCOUNT",
            None,
            None,
            Action::Erase,
            "0f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f",
        ),
        (
            "admin.USER-UPDATE",
            Some(&path),
            Some("{\"username\":\"jdoe\",\"email\":\"jdoe@example.com\",\"enabled\":false}"),
            Action::Disable,
            user,
        ),
        (
            "admin.USER-UPDATE",
            Some(&path),
            Some("{\"enabled\":true}"),
            Action::Enable,
            user,
        ),
        (
            "admin.USER-UPDATE",
            Some(&path),
            None,
            Action::IdentifierChanged,
            user,
        ),
        (
            "access.USER_DISABLED_BY_PERMANENT_LOCKOUT",
            None,
            None,
            Action::Disable,
            "0f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f",
        ),
    ];
    for (kind, path, representation, action, subject) in cases {
        let body = keycloak_body(kind, path, representation, NOW * 1000);
        let received = formats::keycloak(KEY, &keycloak_headers(KEY, &body), &body, NOW).unwrap();
        assert_eq!(
            (received.event.action, received.event.subject.as_deref()),
            (action, Some(subject)),
            "{kind}"
        );
        assert_eq!(
            received.key,
            "keycloak:b2c4e6a8-1357-4b9d-8f0e-2468ace13579"
        );
        assert!(!format!("{received:?}").contains("jdoe"));
    }
    let body = keycloak_body("access.LOGOUT", None, None, NOW * 1000);
    let logout = formats::keycloak(KEY, &keycloak_headers(KEY, &body), &body, NOW).unwrap();
    assert_eq!(logout.event.action, Action::EndSessions);
    assert_eq!(
        logout.event.session.as_deref(),
        Some("5d6e7f80-aaaa-4bbb-8ccc-0123456789ab")
    );
    let all = format!("users/{user}/logout");
    let body = keycloak_body("admin.USER-ACTION", Some(&all), None, NOW * 1000);
    let action = formats::keycloak(KEY, &keycloak_headers(KEY, &body), &body, NOW).unwrap();
    assert_eq!(
        (action.event.action, action.event.subject.as_deref()),
        (Action::EndSessions, Some(user))
    );
    // A path that is not `users/<id>` names nobody: refused.
    let body = keycloak_body("admin.USER-DELETE", Some("groups/x"), None, NOW * 1000);
    assert!(matches!(
        formats::keycloak(KEY, &keycloak_headers(KEY, &body), &body, NOW),
        Err(EventError::Malformed(_))
    ));
}

#[test]
fn keycloak_retries_within_fifteen_minutes_pass_and_older_ones_do_not() {
    let body = keycloak_body("access.DELETE_ACCOUNT", None, None, (NOW - 16 * 60) * 1000);
    assert!(formats::keycloak(KEY, &keycloak_headers(KEY, &body), &body, NOW).is_ok());
    let body = keycloak_body("access.DELETE_ACCOUNT", None, None, (NOW - 21 * 60) * 1000);
    assert!(matches!(
        formats::keycloak(KEY, &keycloak_headers(KEY, &body), &body, NOW),
        Err(EventError::Stale(_))
    ));
    assert_eq!(
        formats::keycloak(KEY, &headers(&[("x-keycloak-signature", "")]), &body, NOW).unwrap_err(),
        EventError::MissingHeader("x-keycloak-signature")
    );
    let extreme = keycloak_body("access.DELETE_ACCOUNT", None, None, i64::MIN);
    assert!(formats::keycloak(KEY, &keycloak_headers(KEY, &extreme), &extreme, NOW).is_err());
}

#[test]
fn standard_webhooks_carry_tessera_types() {
    let (secret, _) = WebhookSecret::generate().unwrap();
    let body = json!({"type": "session.revoked", "timestamp": "2026-01-15T10:21:33Z",
        "data": {"sub": "pairwise-sub", "sid": "s-1"}})
    .to_string();
    let signature = secret.sign("msg_1", NOW, body.as_bytes());
    let signed = headers(&[
        ("webhook-id", "msg_1"),
        ("webhook-timestamp", &NOW.to_string()),
        ("webhook-signature", &signature),
    ]);
    let received = formats::standard_webhooks(&secret, &signed, body.as_bytes(), NOW).unwrap();
    assert_eq!(received.key, "standard-webhooks:msg_1");
    assert_eq!(received.event.action, Action::EndSessions);
    assert_eq!(received.event.session.as_deref(), Some("s-1"));
    assert!(matches!(
        formats::standard_webhooks(&secret, &signed, body.as_bytes(), NOW + 400),
        Err(EventError::Stale(_))
    ));
    let (other, _) = WebhookSecret::generate().unwrap();
    assert_eq!(
        formats::standard_webhooks(&other, &signed, body.as_bytes(), NOW).unwrap_err(),
        EventError::BadSignature
    );
}

fn claims(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().unwrap().clone()
}

/// `lib/models/client.js` (`backchannelLogout`) of node-oidc-provider.
#[test]
fn logout_tokens_follow_back_channel_logout_2_6() {
    let token = claims(
        json!({"sub": "u1", "sid": "Zq2Lr9sT0k", "jti": "V1StGXR8_Z5jdHi6B-myT",
        "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        "aud": "client", "iat": NOW, "exp": NOW + 120, "iss": "https://auth.example.com/oidc"}),
    );
    let received = formats::logout_token(&token).unwrap();
    assert_eq!(
        received.key,
        "jwt:https://auth.example.com/oidc:V1StGXR8_Z5jdHi6B-myT"
    );
    assert_eq!(
        (
            received.event.action,
            received.event.subject.as_deref(),
            received.event.session.as_deref()
        ),
        (Action::EndSessions, Some("u1"), Some("Zq2Lr9sT0k"))
    );
    let mut with_nonce = token.clone();
    with_nonce.insert("nonce".into(), json!("n"));
    let mut without_event = token.clone();
    without_event.insert("events".into(), json!({"other": {}}));
    let mut nobody = token.clone();
    nobody.remove("sub");
    nobody.remove("sid");
    let mut no_jti = token.clone();
    no_jti.remove("jti");
    for bad in [with_nonce, without_event, nobody, no_jti] {
        assert!(matches!(
            formats::logout_token(&bad),
            Err(EventError::Malformed(_))
        ));
    }
    let mut session_only = token;
    session_only.remove("sub");
    assert!(formats::logout_token(&session_only).is_ok());
}

#[test]
fn security_events_read_the_subject_identifier() {
    let issuer = "https://idp.example.com/";
    let purged = claims(
        json!({"iss": issuer, "jti": "756E", "iat": NOW, "aud": "https://rp.example.com/ssf",
        "sub_id": {"format": "iss_sub", "iss": issuer, "sub": "7375626A656374"},
        "events": {"https://schemas.openid.net/secevent/risc/event-type/account-purged": {}}}),
    );
    let received = formats::security_event(&purged).unwrap();
    assert_eq!(
        (received.event.action, received.event.subject.as_deref()),
        (Action::Erase, Some("7375626A656374"))
    );
    assert_eq!(received.event.source_type, "account-purged");
    let revoked = claims(json!({"iss": issuer, "jti": "24c6", "iat": NOW, "aud": "x",
        "sub_id": {"format": "complex", "user": {"format": "iss_sub", "iss": issuer, "sub": "u1"},
            "session": {"format": "opaque", "id": "dMTlD|1600802906337.16"}},
        "events": {"https://schemas.openid.net/secevent/caep/event-type/session-revoked": {"event_timestamp": NOW - 2}}}));
    let received = formats::security_event(&revoked).unwrap();
    assert_eq!(
        received.event.session.as_deref(),
        Some("dMTlD|1600802906337.16")
    );
    assert_eq!(received.event.occurred_at, Some(NOW - 2));
    // An e-mail subject is refused; so is another issuer's subject, a
    // `sub` or `exp`; a verification event is acknowledged and ignored.
    let mut by_email = purged.clone();
    by_email.insert(
        "sub_id".into(),
        json!({"format": "email", "email": "jdoe@example.com"}),
    );
    let refused = formats::security_event(&by_email).unwrap_err();
    assert!(refused.to_string().contains("never maps personal data"));
    assert!(!refused.to_string().contains("jdoe"));
    let mut foreign = purged.clone();
    foreign.insert(
        "sub_id".into(),
        json!({"format": "iss_sub", "iss": "https://other.example/", "sub": "u"}),
    );
    let mut with_exp = purged.clone();
    with_exp.insert("exp".into(), json!(NOW + 60));
    for bad in [foreign, with_exp] {
        assert!(formats::security_event(&bad).is_err());
    }
    let verification = claims(json!({"iss": issuer, "jti": "v1", "aud": "x", "iat": NOW,
        "events": {"https://schemas.openid.net/secevent/ssf/event-type/verification": {"state": "abc"}}}));
    assert_eq!(
        formats::security_event(&verification).unwrap().event.action,
        Action::Ignore
    );
}
