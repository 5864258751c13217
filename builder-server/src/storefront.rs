//! Wiring the demo storefront into `tessera dev`: its database and webhook
//! secret in the data folder, the widget snippets as the snippet endpoint
//! prints them, and a verifier for the demo tenant's issuer, audience and
//! client.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use tessera_server::AppState;
use tessera_server::admin::{SignInMode, snippet_for};
use tessera_server::issuer::DevIssuer;
use tessera_server::store::TenantRecord;
use tessera_storefront::{
    Authentication, Database, Storefront, StorefrontConfig, WebhookSecret, WidgetSnippets,
    api_verifier_rules,
};
use tessera_verifier::axum::TokenVerifier;
use tessera_verifier::remote::{KeyLocation, RemoteVerifier};
use tessera_verifier::{KeySet, VerifierBuilder};

/// The webhook secret's file in the data folder (`whsec_...`, mode 0600).
pub const WEBHOOK_SECRET_FILE: &str = "demo-webhook.secret";

/// How many verified passports the shop's API keeps (the verified-token cache).
const VERIFIED_TOKEN_CACHE: usize = 10_000;

/// The shop's webhook secret and its `whsec_` text, created on first use.
fn webhook_secret(data_dir: &Path) -> anyhow::Result<(WebhookSecret, String)> {
    let path = data_dir.join(WEBHOOK_SECRET_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let text = text.trim().to_owned();
        return WebhookSecret::parse(&text)
            .map(|secret| (secret, text))
            .map_err(|reason| anyhow::anyhow!("{}: {reason}", path.display()));
    }
    let (secret, text) = WebhookSecret::generate().map_err(|reason| anyhow::anyhow!(reason))?;
    std::fs::write(&path, format!("{text}\n"))
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok((secret, text))
}

/// The demo shop's API verifier: the shop's rules (`at+jwt` access tokens of
/// the demo tenant's issuer and audience, a required `sub`, the
/// zero-knowledge guard on) and the verified-token cache.
fn verifier(demo: &TenantRecord, built_in: &DevIssuer) -> anyhow::Result<Arc<dyn TokenVerifier>> {
    let config = &demo.config.value;
    let rules = || -> VerifierBuilder {
        api_verifier_rules(&config.issuer, &config.audience)
            .verified_token_cache(VERIFIED_TOKEN_CACHE)
    };
    if config.issuer == built_in.issuer() {
        // The built-in issuer's keys are at hand: no fetch, no cache to expire.
        let keys = KeySet::from_value(built_in.jwks())?;
        return Ok(Arc::new(rules().key_set(keys).build()?));
    }
    let remote = RemoteVerifier::builder(
        rules(),
        KeyLocation::Discovery {
            issuer: config.issuer.clone(),
        },
    )
    .build()?;
    Ok(Arc::new(remote))
}

/// Opens the storefront for `tessera dev`: its orders in `database_url`
/// when given (a PostgreSQL database of its own), else in a SQLite file in
/// `data_dir`.
pub async fn open(
    state: &AppState,
    data_dir: &Path,
    database_url: Option<String>,
    demo: &TenantRecord,
    built_in: &DevIssuer,
) -> anyhow::Result<Storefront> {
    let issuer = &demo.config.value.issuer;
    let redirect = snippet_for(state, &demo.slug, issuer, SignInMode::Redirect).await;
    let popup = snippet_for(state, &demo.slug, issuer, SignInMode::Popup).await;
    let widget = match (redirect, popup) {
        (Ok(redirect), Ok(popup)) => Some({
            for warning in &redirect.warnings {
                tracing::warn!("demo shop snippet: {warning}");
            }
            WidgetSnippets {
                redirect_html: redirect.html,
                popup_html: popup.html,
                content_security_policy: redirect.content_security_policy_header,
            }
        }),
        // The pages explain how to build the widget.
        _ => None,
    };
    // The demo shop hears the demo tenant's IdP events through the relay.
    let (webhook_secret, webhook_text) = webhook_secret(data_dir)?;
    let endpoints = state.store().event_endpoints(&demo.slug).await?;
    if endpoints.is_empty() {
        let id = format!(
            "ep_{}",
            tessera_server::http::hex(&tessera_server::admin::random_bytes::<6>()?)
        );
        state
            .store()
            .create_event_endpoint(
                "tessera-dev",
                &demo.slug,
                &id,
                &format!("{}/demo/webhooks/idp", state.public_url()),
                &webhook_text,
            )
            .await?;
    }
    Storefront::open(StorefrontConfig {
        database: match database_url {
            Some(url) => Database::Url(url),
            None => Database::File(data_dir.join("demo-storefront.sqlite3")),
        },
        // The widget asks the issuer for tokens as the tenant's client, so
        // the shop takes only access tokens issued to that client.
        authentication: Authentication::Passport {
            verifier: verifier(demo, built_in)?,
            client_id: demo.config.value.client_id.clone(),
        },
        webhook_secret,
        widget,
    })
    .await
}
