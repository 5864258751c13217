//! The storefront as `cargo xtask bench storefront` measures it: the same
//! router three times on three loopback ports, differing only in how the
//! orders API authenticates:
//!
//! - `cached`: the verifier's `PassportLayer` with the verified-token cache;
//! - `uncached`: the same layer with no cache (every request checks the
//!   signature);
//! - `unverified`: the layer removed, the subject taken from a header (the
//!   baseline; `Authentication::DangerousUnverifiedSubjectHeader`).
//!
//! It seeds five orders for one subject in each database, prints one JSON
//! line `{"cached": port, "uncached": port, "unverified": port, "token",
//! "subject"}` and serves until killed. Not a test and not for production.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::json;
use tessera_storefront::{
    Authentication, OrderLine, Storefront, StorefrontConfig, WebhookSecret, api_verifier_rules,
};
use tessera_verifier::KeySet;

const ISSUER: &str = "https://id.bench.example";
const AUDIENCE: &str = "demo-shop-api";
const CLIENT_ID: &str = "demo";
const SUBJECT: &str = "pairwise-bench-subject-0123456789";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tessera_verifier::install_ring_provider();
    let directory = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("tessera-bench-storefront"));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory)?;

    let random = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random)
        .map_err(|_| anyhow::anyhow!("key generation failed"))?;
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &random)
        .map_err(|_| anyhow::anyhow!("key parsing failed"))?;
    let point = key.public_key().as_ref();
    let jwks = json!({"keys": [{
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "bench",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
    }]});
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","typ":"at+jwt","kid":"bench"}"#),
        URL_SAFE_NO_PAD.encode(
            json!({"iss": ISSUER, "aud": AUDIENCE, "sub": SUBJECT, "client_id": CLIENT_ID, "iat": now, "exp": now + 3600, "scope": "openid"})
                .to_string()
        )
    );
    let signature = key
        .sign(&random, input.as_bytes())
        .map_err(|_| anyhow::anyhow!("signing failed"))?;
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()));

    let verifier = |cache: Option<usize>| -> anyhow::Result<Authentication> {
        let mut rules =
            api_verifier_rules(ISSUER, AUDIENCE).key_set(KeySet::from_value(jwks.clone())?);
        if let Some(capacity) = cache {
            rules = rules.verified_token_cache(capacity);
        }
        Ok(Authentication::Passport {
            verifier: Arc::new(rules.build()?),
            client_id: CLIENT_ID.into(),
        })
    };
    let variants = [
        ("cached", verifier(Some(10_000))?),
        ("uncached", verifier(None)?),
        (
            "unverified",
            Authentication::DangerousUnverifiedSubjectHeader,
        ),
    ];
    let mut ports = serde_json::Map::new();
    let mut servers = Vec::new();
    for (name, authentication) in variants {
        let storefront = Storefront::open(StorefrontConfig {
            database: tessera_storefront::Database::File(directory.join(format!("{name}.sqlite3"))),
            authentication,
            webhook_secret: WebhookSecret::generate()
                .map_err(|reason| anyhow::anyhow!(reason))?
                .0,
            widget: None,
        })
        .await?;
        for sku in [
            "tile-cobalt",
            "mosaic-kit",
            "nippers",
            "tile-saffron",
            "nippers",
        ] {
            let product = tessera_storefront::catalog::product(sku).expect("in the catalog");
            let line = OrderLine {
                sku: product.sku.into(),
                name: product.name.into(),
                quantity: 2,
                unit_price_cents: product.price_cents,
            };
            storefront
                .orders()
                .place(SUBJECT, vec![line], now as i64)
                .await?;
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        ports.insert(name.into(), json!(listener.local_addr()?.port()));
        let router = axum::Router::new().nest_service("/demo", storefront.router());
        servers.push(tokio::spawn(
            async move { axum::serve(listener, router).await },
        ));
    }
    ports.insert("token".into(), json!(token));
    ports.insert("subject".into(), json!(SUBJECT));
    println!("{}", serde_json::Value::Object(ports));
    for server in servers {
        server.await??;
    }
    Ok(())
}
