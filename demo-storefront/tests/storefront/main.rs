//! The storefront's public API, driven through `tower::ServiceExt::oneshot`:
//! pages and their policy, the orders API behind a real verifier, the export,
//! and the Standard Webhooks erasure.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::BodyExt as _;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};
use tessera_storefront::{
    Authentication, OrderLine, Storefront, StorefrontConfig, WebhookError, WebhookSecret,
    WidgetSnippets, api_verifier_rules,
};
use tessera_verifier::KeySet;
use tower::ServiceExt as _;

const ISSUER: &str = "https://id.example";
const AUDIENCE: &str = "demo-shop-api";
const CLIENT_ID: &str = "demo";
const POLICY: &str = "connect-src http://127.0.0.1:1; img-src http://127.0.0.1:1; script-src http://127.0.0.1:1 'wasm-unsafe-eval'; style-src http://127.0.0.1:1";
const SNIPPET: &str = "<script type=\"module\" src=\"http://127.0.0.1:1/widget/v1/tessera.js\" integrity=\"sha384-x\" crossorigin=\"anonymous\"></script>\n<tessera-login tenant=\"demo\" server=\"http://127.0.0.1:1\"></tessera-login>";

struct Shop {
    router: axum::Router,
    key: EcdsaKeyPair,
    secret: WebhookSecret,
    secret_text: String,
    database: std::path::PathBuf,
}

fn temp_dir() -> std::path::PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tessera-storefront-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shop_with(widget: Option<WidgetSnippets>) -> Shop {
    tessera_verifier::install_ring_provider();
    let random = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random).unwrap();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &random)
        .unwrap();
    let point = key.public_key().as_ref();
    let jwks = json!({"keys": [{
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "k1",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    }]});
    let verifier = api_verifier_rules(ISSUER, AUDIENCE)
        .verified_token_cache(100)
        .key_set(KeySet::from_value(jwks).unwrap())
        .build()
        .unwrap();
    let (secret, text) = WebhookSecret::generate().unwrap();
    let database = temp_dir().join("shop.sqlite3");
    let storefront = Storefront::open(StorefrontConfig {
        database: tessera_storefront::Database::File(database.clone()),
        authentication: Authentication::Passport {
            verifier: Arc::new(verifier),
            client_id: CLIENT_ID.into(),
        },
        webhook_secret: WebhookSecret::parse(&text).unwrap(),
        widget,
    })
    .await
    .unwrap();
    Shop {
        router: storefront.router(),
        key,
        secret,
        secret_text: text,
        database,
    }
}

async fn shop() -> Shop {
    shop_with(Some(WidgetSnippets {
        redirect_html: SNIPPET.into(),
        popup_html: SNIPPET.replace("></tessera-login>", " mode=\"popup\"></tessera-login>"),
        content_security_policy: POLICY.into(),
    }))
    .await
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map_or("", |value| value.to_str().unwrap())
    }
}

impl Shop {
    fn token(&self, claims: Value) -> String {
        self.typed_token(Some("at+jwt"), claims)
    }

    /// A token whose header's `typ` is `typ`, or has none.
    fn typed_token(&self, typ: Option<&str>, claims: Value) -> String {
        let mut header = json!({"alg": "ES256", "kid": "k1"});
        if let Some(typ) = typ {
            header["typ"] = json!(typ);
        }
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{payload}");
        let signature = self
            .key
            .sign(&ring::rand::SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    fn passport(&self, subject: &str) -> String {
        self.token(json!({"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "client_id": CLIENT_ID, "exp": now() + 600, "iat": now()}))
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(body.into()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: body.to_vec(),
        }
    }

    async fn as_customer(&self, token: &str, method: Method, uri: &str, body: &str) -> Answer {
        let bearer = format!("Bearer {token}");
        self.call(
            method,
            uri,
            &[
                ("authorization", &bearer),
                ("content-type", "application/json"),
            ],
            body.to_owned(),
        )
        .await
    }

    async fn deliver(&self, id: &str, timestamp: i64, body: &Value, signature: &str) -> Answer {
        self.deliver_text(id, &timestamp.to_string(), body, signature)
            .await
    }

    /// A delivery whose `webhook-timestamp` is any text.
    async fn deliver_text(
        &self,
        id: &str,
        timestamp: &str,
        body: &Value,
        signature: &str,
    ) -> Answer {
        self.call(
            Method::POST,
            "/webhooks/idp",
            &[
                ("webhook-id", id),
                ("webhook-timestamp", timestamp),
                ("webhook-signature", signature),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await
    }

    async fn signed_delivery(&self, id: &str, body: &Value) -> Answer {
        let at = now();
        let signature = self.secret.sign(id, at, body.to_string().as_bytes());
        self.deliver(id, at, body, &signature).await
    }
}

#[tokio::test]
async fn pages_carry_the_snippet_exactly_under_its_policy() {
    let shop = shop().await;
    for (path, snippet) in [
        ("/", SNIPPET.to_owned()),
        (
            "/orders",
            SNIPPET.replace("></tessera-login>", " mode=\"popup\"></tessera-login>"),
        ),
    ] {
        let page = shop.call(Method::GET, path, &[], Body::empty()).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.text().contains(&snippet), "{path} lacks the snippet");
        assert_eq!(
            page.header("content-security-policy"),
            format!(
                "default-src 'none'; {POLICY}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            )
        );
        assert!(
            !page.text().contains("style="),
            "{path} has an inline style"
        );
    }
    let script = shop
        .call(Method::GET, "/assets/shop.js", &[], Body::empty())
        .await;
    assert!(script.header("content-type").starts_with("text/javascript"));
    assert!(script.text().contains("window.Tessera.fetch"));

    let unbuilt = shop_with(None).await;
    let page = unbuilt.call(Method::GET, "/", &[], Body::empty()).await;
    assert!(page.text().contains("cargo xtask dist"));
    assert!(!page.text().contains("<tessera-login"));
}

#[tokio::test]
async fn the_orders_api_wants_a_valid_passport() {
    let shop = shop().await;
    let missing = shop
        .call(Method::GET, "/api/orders", &[], Body::empty())
        .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.header("www-authenticate"), "Bearer");

    let mut tampered = shop.passport("customer-1");
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    let expired = shop.token(
        json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "customer-1", "client_id": CLIENT_ID, "exp": now() - 5}),
    );
    let other_audience = shop.token(
        json!({"iss": ISSUER, "aud": "another-api", "sub": "c", "client_id": CLIENT_ID, "exp": now() + 60}),
    );
    let personal = shop.token(json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "c", "client_id": CLIENT_ID, "exp": now() + 60, "email": "ada@example.test"}));
    let no_subject = shop
        .token(json!({"iss": ISSUER, "aud": AUDIENCE, "client_id": CLIENT_ID, "exp": now() + 60}));
    for (name, token) in [
        ("tampered", tampered),
        ("expired", expired),
        ("another audience", other_audience),
        ("carrying an email", personal),
        ("without sub", no_subject),
    ] {
        for path in ["/api/orders", "/api/me/export"] {
            let answer = shop.as_customer(&token, Method::GET, path, "").await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{name} {path}");
            assert_eq!(
                answer.header("www-authenticate"),
                "Bearer error=\"invalid_token\"",
                "{name}"
            );
        }
    }
    let valid = shop
        .as_customer(&shop.passport("customer-1"), Method::GET, "/api/orders", "")
        .await;
    assert_eq!(valid.status, StatusCode::OK);
    assert_eq!(valid.json(), json!({"orders": []}));
    assert_eq!(valid.header("cache-control"), "no-store");
}

/// RFC 9068: the API takes JWT access tokens (header `typ` `at+jwt`, which
/// the verifier also accepts as `application/at+jwt`, in any case) issued
/// to the demo tenant's client (`client_id`), and nothing else: not an ID
/// token, not another client's access token for the same audience.
#[tokio::test]
async fn the_api_takes_only_access_tokens_of_the_shops_client() {
    let shop = shop().await;
    let claims = |client_id: Option<Value>| {
        let mut claims = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "customer-9",
            "exp": now() + 60, "iat": now()});
        if let Some(client_id) = client_id {
            claims["client_id"] = client_id;
        }
        claims
    };
    let ours = || claims(Some(json!(CLIENT_ID)));
    let check = |name: &str, typ: Option<&str>, claims: Value, accepted: bool| {
        let token = shop.typed_token(typ, claims);
        let name = name.to_owned();
        let shop = &shop;
        async move {
            for path in ["/api/orders", "/api/me/export"] {
                let answer = shop.as_customer(&token, Method::GET, path, "").await;
                if accepted {
                    assert_eq!(answer.status, StatusCode::OK, "{name} {path}");
                } else {
                    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{name} {path}");
                    assert_eq!(
                        answer.header("www-authenticate"),
                        "Bearer error=\"invalid_token\"",
                        "{name} {path}"
                    );
                }
            }
        }
    };
    check("at+jwt", Some("at+jwt"), ours(), true).await;
    check(
        "application/at+jwt",
        Some("application/at+jwt"),
        ours(),
        true,
    )
    .await;
    check("AT+JWT", Some("AT+JWT"), ours(), true).await;
    check("no typ", None, ours(), false).await;
    check("typ JWT", Some("JWT"), ours(), false).await;
    check(
        "typ application/jwt",
        Some("application/jwt"),
        ours(),
        false,
    )
    .await;
    check("typ at+jwt+x", Some("at+jwt+x"), ours(), false).await;
    check("typ empty", Some(""), ours(), false).await;
    let mut typ_in_claims = ours();
    typ_in_claims["typ"] = json!("at+jwt");
    check("typ in the claims only", None, typ_in_claims, false).await;
    check(
        "another client",
        Some("at+jwt"),
        claims(Some(json!("other-shop"))),
        false,
    )
    .await;
    check("no client_id", Some("at+jwt"), claims(None), false).await;
    check(
        "client_id Demo",
        Some("at+jwt"),
        claims(Some(json!("Demo"))),
        false,
    )
    .await;
    check(
        "client_id empty",
        Some("at+jwt"),
        claims(Some(json!(""))),
        false,
    )
    .await;
    check(
        "client_id list",
        Some("at+jwt"),
        claims(Some(json!([CLIENT_ID]))),
        false,
    )
    .await;
    check(
        "client_id null",
        Some("at+jwt"),
        claims(Some(Value::Null)),
        false,
    )
    .await;
    let mut azp_only = claims(None);
    azp_only["azp"] = json!(CLIENT_ID);
    check("azp without client_id", Some("at+jwt"), azp_only, false).await;
}

#[tokio::test]
async fn orders_belong_to_their_subject_only() {
    let shop = shop().await;
    let ada = shop.passport("pairwise-ada");
    let placed = shop
        .as_customer(
            &ada,
            Method::POST,
            "/api/orders",
            r#"{"items":[{"sku":"tile-cobalt","quantity":3},{"sku":"nippers","quantity":1}]}"#,
        )
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.text());
    let order = placed.json();
    assert_eq!(order["total_cents"], json!(3 * 450 + 1850));
    assert_eq!(order["items"][0]["name"], json!("Cobalt tile"));

    let listed = shop.as_customer(&ada, Method::GET, "/api/orders", "").await;
    assert_eq!(listed.json()["orders"], json!([order]));
    let grace = shop.passport("pairwise-grace");
    let theirs = shop
        .as_customer(&grace, Method::GET, "/api/orders", "")
        .await;
    assert_eq!(theirs.json(), json!({"orders": []}));

    let export = shop
        .as_customer(&ada, Method::GET, "/api/me/export", "")
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert_eq!(export.json()["subject"], json!("pairwise-ada"));
    assert_eq!(export.json()["orders"], json!([order]));
}

#[tokio::test]
async fn bad_orders_are_explained_and_store_nothing() {
    let shop = shop().await;
    let token = shop.passport("customer-2");
    let check = |body: &'static str, field: Option<&'static str>, words: &'static str| {
        let shop = &shop;
        let token = token.clone();
        async move {
            let answer = shop
                .as_customer(&token, Method::POST, "/api/orders", body)
                .await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
            let error = &answer.json()["error"];
            assert_eq!(error["code"], json!("invalid_request"), "{body}");
            assert_eq!(error["field"].as_str(), field, "{body}");
            assert!(
                error["message"].as_str().unwrap().contains(words),
                "{body}: {error}"
            );
        }
    };
    check(r#"{"items":[]}"#, Some("items"), "at least one").await;
    check(
        r#"{"items":[{"sku":"gold-bar","quantity":1}]}"#,
        Some("items[0].sku"),
        "no such product",
    )
    .await;
    check(
        r#"{"items":[{"sku":"nippers","quantity":0}]}"#,
        Some("items[0].quantity"),
        "1 to 99",
    )
    .await;
    check(
        r#"{"items":[{"sku":"nippers","quantity":100}]}"#,
        Some("items[0].quantity"),
        "1 to 99",
    )
    .await;
    check(
        r#"{"items":[{"sku":"nippers","quantity":1}],"email":"ada@example.test"}"#,
        None,
        "unknown field",
    )
    .await;
    check(
        r#"{"items":[{"sku":"nippers","quantity":-1}]}"#,
        None,
        "items",
    )
    .await;
    check("not json", None, "send JSON").await;
    let many: Vec<Value> = (0..21)
        .map(|_| json!({"sku": "nippers", "quantity": 1}))
        .collect();
    let body = json!({ "items": many }).to_string();
    let answer = shop
        .as_customer(&token, Method::POST, "/api/orders", &body)
        .await;
    assert_eq!(answer.json()["error"]["field"], json!("items"));
    let listed = shop
        .as_customer(&token, Method::GET, "/api/orders", "")
        .await;
    assert_eq!(listed.json(), json!({"orders": []}));
}

#[tokio::test]
async fn disabling_enabling_and_ended_sessions_are_enforced_at_once() {
    let shop = shop().await;
    let token = |sub: &str, sid: &str, iat: i64| {
        shop.token(
            json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "client_id": CLIENT_ID,
            "exp": now() + 600, "iat": iat, "sid": sid}),
        )
    };
    let status = |answer: &Answer| answer.status;
    let list = |token: String| {
        let shop = &shop;
        async move {
            shop.as_customer(&token, Method::GET, "/api/orders", "")
                .await
        }
    };
    let (earlier, other_session) = (
        token("lin", "s-1", now() - 5),
        token("lin", "s-2", now() - 5),
    );
    assert_eq!(status(&list(earlier.clone()).await), StatusCode::OK);
    // Disabled: refused as forbidden until enabled.
    shop.signed_delivery(
        "d-1",
        &json!({"type": "user.disabled", "data": {"sub": "lin"}}),
    )
    .await;
    let disabled = list(earlier.clone()).await;
    assert_eq!(disabled.status, StatusCode::FORBIDDEN);
    assert_eq!(disabled.json()["error"]["code"], "account_disabled");
    shop.signed_delivery(
        "d-2",
        &json!({"type": "user.enabled", "data": {"sub": "lin"}}),
    )
    .await;
    assert_eq!(status(&list(earlier.clone()).await), StatusCode::OK);
    // One session ended: its tokens are refused as invalid (the widget then
    // ends its session); the other session's are not.
    let ended = shop
        .signed_delivery(
            "d-3",
            &json!({"type": "session.revoked", "data": {"sid": "s-1"}}),
        )
        .await;
    assert_eq!(ended.json()["status"], "sessions_ended");
    let refused = list(earlier.clone()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.header("www-authenticate").contains("invalid_token"));
    assert_eq!(status(&list(other_session.clone()).await), StatusCode::OK);
    // Every session of the subject up to the event: a token issued before
    // is refused, one issued after (a new sign-in) is served.
    let at = now() - 1;
    shop.signed_delivery(
        "d-4",
        &json!({"type": "session.revoked", "data": {"sub": "lin", "occurred_at": at}}),
    )
    .await;
    assert_eq!(status(&list(other_session).await), StatusCode::UNAUTHORIZED);
    assert_eq!(
        status(&list(token("lin", "s-3", at + 1)).await),
        StatusCode::OK
    );
    // A time in the future is taken as now; a revocation names someone.
    let nobody = shop
        .signed_delivery("d-5", &json!({"type": "session.revoked", "data": {}}))
        .await;
    assert_eq!(nobody.status, StatusCode::BAD_REQUEST);
    // Erasure is final: enabling does not undo it.
    shop.signed_delivery(
        "d-6",
        &json!({"type": "user.deleted", "data": {"sub": "lin"}}),
    )
    .await;
    shop.signed_delivery(
        "d-7",
        &json!({"type": "user.enabled", "data": {"sub": "lin"}}),
    )
    .await;
    assert_eq!(
        status(&list(token("lin", "s-4", now() + 1)).await),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_signed_user_deleted_event_erases_the_subject_once() {
    let shop = shop().await;
    let ada = shop.passport("pairwise-ada");
    let grace = shop.passport("pairwise-grace");
    let order = r#"{"items":[{"sku":"mosaic-kit","quantity":1}]}"#;
    for token in [&ada, &ada, &grace] {
        let placed = shop
            .as_customer(token, Method::POST, "/api/orders", order)
            .await;
        assert_eq!(placed.status, StatusCode::CREATED);
    }
    let event = json!({"type": "user.deleted", "timestamp": "2026-11-24T12:00:00Z", "data": {"sub": "pairwise-ada"}});

    // Refused deliveries erase nothing.
    let at = now();
    let wrong_key =
        WebhookSecret::from_bytes(&[7u8; 32]).sign("msg_1", at, event.to_string().as_bytes());
    let refused = [
        (
            "a foreign key",
            shop.deliver("msg_1", at, &event, &wrong_key).await,
            "webhook_signature_invalid",
        ),
        (
            "no signature",
            shop.deliver("msg_1", at, &event, "").await,
            "webhook_signature_invalid",
        ),
        (
            "an old timestamp",
            shop.deliver(
                "msg_1",
                at - 3600,
                &event,
                &shop
                    .secret
                    .sign("msg_1", at - 3600, event.to_string().as_bytes()),
            )
            .await,
            "webhook_timestamp_out_of_tolerance",
        ),
        (
            "another body",
            shop.deliver(
                "msg_1",
                at,
                &json!({"type": "user.deleted", "data": {"sub": "pairwise-grace"}}),
                &shop.secret.sign("msg_1", at, event.to_string().as_bytes()),
            )
            .await,
            "webhook_signature_invalid",
        ),
    ];
    for (name, answer, code) in refused {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(answer.json()["error"]["code"], json!(code), "{name}");
    }
    let missing = shop
        .call(Method::POST, "/webhooks/idp", &[], event.to_string())
        .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        missing.json()["error"]["code"],
        json!("webhook_header_missing")
    );
    let orders = shop.as_customer(&ada, Method::GET, "/api/orders", "").await;
    assert_eq!(orders.json()["orders"].as_array().unwrap().len(), 2);

    // A good delivery erases Ada and nobody else.
    let erased = shop.signed_delivery("msg_1", &event).await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text());
    assert_eq!(
        erased.json(),
        json!({"status": "erased", "erased_orders": 2})
    );
    assert!(
        tessera_storefront::Orders::open(&shop.database)
            .await
            .unwrap()
            .of("pairwise-ada")
            .await
            .unwrap()
            .is_empty()
    );
    // Her token is still valid, yet the tombstone refuses it: nothing of
    // hers can be read or created again.
    for (method, path, body) in [
        (Method::GET, "/api/me/export", ""),
        (
            Method::POST,
            "/api/orders",
            r#"{"items":[{"sku":"tile-cobalt","quantity":1}]}"#,
        ),
    ] {
        let refused = shop.as_customer(&ada, method, path, body).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    assert!(
        tessera_storefront::Orders::open(&shop.database)
            .await
            .unwrap()
            .of("pairwise-ada")
            .await
            .unwrap()
            .is_empty()
    );
    let kept = shop
        .as_customer(&grace, Method::GET, "/api/orders", "")
        .await;
    assert_eq!(kept.json()["orders"].as_array().unwrap().len(), 1);

    // The same delivery again is recognised and changes nothing (answered
    // 2xx, so a sender that lost the first answer stops retrying); a new
    // delivery of the same event is idempotent.
    let replay = shop.signed_delivery("msg_1", &event).await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(
        replay.json(),
        json!({"status": "duplicate", "erased_orders": 0})
    );
    let again = shop.signed_delivery("msg_2", &event).await;
    assert_eq!(
        again.json(),
        json!({"status": "erased", "erased_orders": 0})
    );

    let other = shop
        .signed_delivery(
            "msg_3",
            &json!({"type": "user.created", "data": {"sub": "pairwise-grace"}}),
        )
        .await;
    assert_eq!(
        other.json(),
        json!({"status": "ignored", "erased_orders": 0})
    );
    let incomplete = shop
        .signed_delivery("msg_4", &json!({"type": "user.deleted", "data": {}}))
        .await;
    assert_eq!(incomplete.status, StatusCode::BAD_REQUEST);
    assert_eq!(incomplete.json()["error"]["field"], json!("data.sub"));
    let kept = shop
        .as_customer(&grace, Method::GET, "/api/orders", "")
        .await;
    assert_eq!(kept.json()["orders"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_database_holds_no_personal_data() {
    let shop = shop().await;
    let token = shop.passport("pairwise-ada");
    shop.as_customer(
        &token,
        Method::POST,
        "/api/orders",
        r#"{"items":[{"sku":"nippers","quantity":1}]}"#,
    )
    .await;
    // Personal data offered in a token or in the body is refused, not kept.
    let personal = shop.token(
        json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "pairwise-ada", "client_id": CLIENT_ID,
        "exp": now() + 60, "name": "Ada Lovelace"}),
    );
    for (token, body) in [
        (&personal, r#"{"items":[{"sku":"nippers","quantity":1}]}"#),
        (
            &token,
            r#"{"items":[{"sku":"nippers","quantity":1}],"email":"ada@example.test"}"#,
        ),
    ] {
        let refused = shop
            .as_customer(token, Method::POST, "/api/orders", body)
            .await;
        assert!(refused.status.is_client_error(), "{body}");
    }
    // The only identifier in the schema is the subject.
    let schema = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/0001_orders.sql"),
    )
    .unwrap();
    for word in ["email", "name ", "phone", "address"] {
        assert!(
            !schema
                .lines()
                .filter(|line| !line.trim_start().starts_with("--"))
                .any(|line| line.to_lowercase().contains(word)),
            "the schema has a column like `{word}`"
        );
    }
    // The order is in the database files (WAL included), under its subject
    // and nothing else that names a person.
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(shop.database.parent().unwrap()).unwrap() {
        stored.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let stored = String::from_utf8_lossy(&stored);
    assert!(stored.contains("pairwise-ada") && stored.contains("Wheeled nippers"));
    for personal in ["ada@example.test", "Ada Lovelace"] {
        assert!(!stored.contains(personal), "{personal}");
    }
}

#[test]
fn webhook_secrets_are_checked() {
    let check = |text: &str, words: &str| {
        let error = WebhookSecret::parse(text).unwrap_err();
        assert!(error.contains(words), "{text}: {error}");
    };
    check("c2VjcmV0", "starts with `whsec_`");
    check("whsec_!!!", "not valid base64");
    check("whsec_c2VjcmV0", "must be 24 to 64");
    let (_, text) = WebhookSecret::generate().unwrap();
    assert!(WebhookSecret::parse(&text).is_ok());
    assert_eq!(
        format!("{:?}", WebhookSecret::parse(&text).unwrap()),
        "WebhookSecret(..)"
    );
}

/// A Standard Webhooks signature over any timestamp text, computed here
/// rather than by the crate, so that a refusal can only be the timestamp's.
fn sign_text(secret_text: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret_text.trim().strip_prefix("whsec_").unwrap())
        .unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let mut content = format!("{id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    let tag = ring::hmac::sign(&key, &content);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    )
}

/// Timestamps that are not a moment within the tolerance, each correctly
/// signed: every one is a 401 with its code, and erases nothing.
#[tokio::test]
async fn extreme_webhook_timestamps_are_refused_without_erasing() {
    let shop = shop().await;
    let ada = shop.passport("pairwise-ada");
    let placed = shop
        .as_customer(
            &ada,
            Method::POST,
            "/api/orders",
            r#"{"items":[{"sku":"nippers","quantity":1}]}"#,
        )
        .await;
    assert_eq!(placed.status, StatusCode::CREATED);
    let event = json!({"type": "user.deleted", "data": {"sub": "pairwise-ada"}});
    let body = event.to_string();
    let at = now();
    let malformed = "webhook_timestamp_malformed";
    let out_of_tolerance = "webhook_timestamp_out_of_tolerance";
    let cases: Vec<(String, &str)> = vec![
        (i64::MIN.to_string(), malformed),
        ((i64::MIN + 1).to_string(), malformed),
        (i64::MAX.to_string(), out_of_tolerance),
        ("9223372036854775808".into(), malformed),
        ("18446744073709551616".into(), malformed),
        ("9".repeat(400), malformed),
        (format!("-{}", "9".repeat(400)), malformed),
        ("0".into(), out_of_tolerance),
        ("-0".into(), malformed),
        ("-1".into(), malformed),
        (format!("+{at}"), malformed),
        (format!("-{at}"), malformed),
        (format!(" {at}"), malformed),
        (format!("{at} "), malformed),
        (format!("{at}\t"), malformed),
        (
            format!("{} {}", &at.to_string()[..4], &at.to_string()[4..]),
            malformed,
        ),
        (format!("{at}.0"), malformed),
        (format!("{at}e0"), malformed),
        ("0x10".into(), malformed),
        ("".into(), malformed),
        // Ten seconds past the 300 s tolerance: a second may tick between
        // reading the clock here and the shop's check.
        ((at - 310).to_string(), out_of_tolerance),
        ((at + 310).to_string(), out_of_tolerance),
    ];
    for (index, (timestamp, code)) in cases.iter().enumerate() {
        let id = format!("msg_extreme_{index}");
        let signature = sign_text(&shop.secret_text, &id, timestamp, body.as_bytes());
        let answer = shop.deliver_text(&id, timestamp, &event, &signature).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{timestamp:?}");
        assert_eq!(answer.json()["error"]["code"], json!(code), "{timestamp:?}");
    }
    let orders = shop.as_customer(&ada, Method::GET, "/api/orders", "").await;
    assert_eq!(orders.json()["orders"].as_array().unwrap().len(), 1);
    // A refused delivery records nothing: its id still works when sent right.
    let id = "msg_extreme_0";
    let signature = sign_text(&shop.secret_text, id, &at.to_string(), body.as_bytes());
    let erased = shop.deliver(id, at, &event, &signature).await;
    assert_eq!(
        erased.json(),
        json!({"status": "erased", "erased_orders": 1})
    );
}

/// `WebhookSecret::verify` itself, at any `now` a caller may pass.
#[test]
fn webhook_timestamps_never_overflow() {
    use tessera_storefront::webhooks::Delivery;
    let secret = WebhookSecret::from_bytes(&[3u8; 32]);
    let check = |timestamp: &str, now: i64, expected: Result<(), WebhookError>| {
        let signature = sign_text(
            &format!(
                "whsec_{}",
                base64::engine::general_purpose::STANDARD.encode([3u8; 32])
            ),
            "msg",
            timestamp,
            b"{}",
        );
        let delivery = Delivery {
            id: "msg",
            timestamp,
            signature: &signature,
        };
        assert_eq!(
            secret.verify(delivery, b"{}", now),
            expected,
            "{timestamp:?} at {now}"
        );
    };
    let malformed = Err(WebhookError::MalformedTimestamp);
    let far = Err(WebhookError::TimestampOutOfTolerance);
    let min = i64::MIN.to_string();
    let max = i64::MAX.to_string();
    for now in [i64::MIN, -1, 0, 1_700_000_000, i64::MAX] {
        check(&min, now, malformed.clone());
        check("-1", now, malformed.clone());
        check("+1", now, malformed.clone());
        check("9223372036854775808", now, malformed.clone());
        check(&"1".repeat(100), now, malformed.clone());
        check("١٧٠٠٠٠٠٠٠٠", now, malformed.clone());
        check(" 1", now, malformed.clone());
    }
    check(&max, i64::MIN, far.clone());
    check(&max, 0, far.clone());
    check("0", i64::MAX, far.clone());
    check("0", i64::MIN, far.clone());
    check(&max, i64::MAX, Ok(()));
    check("0", 0, Ok(()));
    check("1700000000", 1_700_000_300, Ok(()));
    check("1700000000", 1_699_999_700, Ok(()));
    check("1700000000", 1_700_000_301, far.clone());
    check("1700000000", 1_699_999_699, far);
}

/// `Orders` is public: numbers its callers pass cannot make it panic.
#[tokio::test]
async fn the_orders_store_never_overflows() {
    let orders = tessera_storefront::Orders::open(&temp_dir().join("orders.sqlite3"))
        .await
        .unwrap();
    let line = |quantity: u32, unit_price_cents: i64| OrderLine {
        sku: "nippers".into(),
        name: "Wheeled nippers".into(),
        quantity,
        unit_price_cents,
    };
    for lines in [
        vec![line(u32::MAX, i64::MAX)],
        vec![line(2, i64::MIN)],
        vec![line(1, i64::MAX), line(1, 1)],
    ] {
        let error = orders.place("s", lines, 0).await.unwrap_err();
        assert!(error.to_string().contains("total"), "{error}");
    }
    assert_eq!(orders.of("s").await.unwrap(), vec![]);
    let placed = orders.place("s", vec![line(3, 450)], 0).await.unwrap();
    assert_eq!(placed.unwrap().total_cents, 1350);
    for (now, keep) in [(i64::MIN, i64::MAX), (i64::MAX, i64::MIN), (0, i64::MIN)] {
        let outcome = orders
            .apply_delivery(
                &format!("msg_{now}_{keep}"),
                &tessera_storefront::ShopAction::Ignore,
                now,
                keep,
            )
            .await
            .unwrap();
        assert_eq!(
            outcome,
            tessera_storefront::DeliveryOutcome::Applied { erased_orders: 0 }
        );
    }
}
