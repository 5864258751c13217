//! The `tessera` builder server.
//!
//! One axum service that admins theme widgets through (the admin API), that
//! serves every widget asset, theme and text from its own origin (no CDN, so
//! it works air-gapped), and that in development issues passports itself
//! from a built-in OpenID issuer. [`app`] builds the whole `Router` from an
//! [`AppState`], so tests drive it with `tower::ServiceExt::oneshot` exactly
//! as `main` serves it.
//!
//! This file holds only the state and the composition: each surface has its
//! own module and router (`public`, `assets`, `admin`, `ops`, the
//! development issuer), and `app` mounts them.
//!
//! What it is not: an identity provider for production (the development
//! issuer runs only in `tessera dev` or with `--dangerous-dev-issuer`), and it
//! never stores customers' personal data.

pub mod admin;
pub mod assets;
pub mod config;
pub mod console;
pub mod discovery;
pub mod error;
pub mod events;
pub mod extract;
pub mod first_view;
pub mod http;
pub mod i18n;
pub mod issuer;
pub mod model;
pub mod ops;
pub mod public;
pub mod store;
pub mod theme;
pub mod urls;
pub mod validation;

use std::sync::Arc;

use axum::Router;

use crate::assets::Assets;
use crate::error::ApiError;
use crate::issuer::DevIssuer;
use crate::public::RenderedDocuments;
use crate::store::{Store, TenantRecord};

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    storefront: Option<Router>,
    rendered: RenderedDocuments,
    store: Store,
    public_url: String,
    assets: Assets,
    dev_issuer: Option<DevIssuer>,
    metrics: ops::Metrics,
    limits: config::Limits,
    discovery: discovery::DiscoveryClient,
    console_idp: Option<console::oidc::ConsoleIdp>,
    /// Signs the studio's preview addresses of draft revisions: the
    /// database's `preview` secret (see [`AppState::with_stored_preview_key`]),
    /// so every replica checks what another signed.
    preview_key: ring::hmac::Key,
    /// The outbox's relay, woken when an IdP event is queued.
    relay: events::relay::Relay,
    /// The key-caching verifiers of IdP event sources that send JWTs.
    event_verifiers: events::EventVerifiers,
}

impl AppState {
    /// Assembles the state. `dev_issuer` is `Some` only in development.
    pub fn new(
        store: Store,
        public_url: String,
        assets: Assets,
        dev_issuer: Option<DevIssuer>,
        limits: config::Limits,
    ) -> Self {
        AppState {
            inner: Arc::new(Inner {
                storefront: None,
                rendered: RenderedDocuments::default(),
                store,
                public_url: public_url.trim_end_matches('/').to_owned(),
                assets,
                dev_issuer,
                metrics: ops::Metrics::default(),
                limits,
                discovery: Default::default(),
                console_idp: None,
                preview_key: ring::hmac::Key::generate(
                    ring::hmac::HMAC_SHA256,
                    &ring::rand::SystemRandom::new(),
                )
                // The system's random source failing is not recoverable.
                .expect("the system random source works"),
                relay: Default::default(),
                event_verifiers: Default::default(),
            }),
        }
    }

    /// Mounts a storefront `Router` at `/demo` (the demo shop of
    /// `demo-storefront`); its routes pass the same layers as the rest.
    /// Call before the state is shared.
    #[must_use]
    pub fn with_storefront(mut self, storefront: Router) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.storefront = Some(storefront);
        }
        self
    }

    /// Signs preview addresses with the database's `preview` secret
    /// (created on first use) instead of this process's random key, so
    /// that replicas accept each other's. Call before the state is shared.
    pub async fn with_stored_preview_key(mut self) -> anyhow::Result<Self> {
        let candidate = admin::random_bytes::<32>()
            .map_err(|error| anyhow::anyhow!("{error}"))?
            .to_vec();
        let secret = self
            .store()
            .instance_secret("preview", candidate)
            .await
            .map_err(|error| anyhow::anyhow!("cannot read the preview key: {error}"))?;
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.preview_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret);
        }
        Ok(self)
    }

    /// Signs console admins in at `idp`. Call before the state is shared.
    #[must_use]
    pub fn with_console_idp(mut self, idp: console::oidc::ConsoleIdp) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.console_idp = Some(idp);
        }
        self
    }

    /// The admins' IdP, when one is set.
    pub fn console_idp(&self) -> Option<&console::oidc::ConsoleIdp> {
        self.inner.console_idp.as_ref()
    }

    /// The event outbox's relay.
    pub fn relay(&self) -> &events::relay::Relay {
        &self.inner.relay
    }

    pub(crate) fn event_verifiers(&self) -> &events::EventVerifiers {
        &self.inner.event_verifiers
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// This server's public origin, e.g. `https://auth.shop.example`.
    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// The widget assets.
    pub fn assets(&self) -> &Assets {
        &self.inner.assets
    }

    /// The development issuer, when enabled.
    pub fn dev_issuer(&self) -> Option<&DevIssuer> {
        self.inner.dev_issuer.as_ref()
    }

    /// The largest request body accepted, in bytes.
    pub fn body_limit(&self) -> usize {
        self.inner.limits.body_bytes
    }

    /// Reads IdPs' discovery documents for the snippet's CSP.
    pub fn discovery(&self) -> &discovery::DiscoveryClient {
        &self.inner.discovery
    }

    /// Request counters for `/metrics`.
    pub fn metrics(&self) -> &ops::Metrics {
        &self.inner.metrics
    }

    /// The key that signs preview addresses (`public::preview_base`).
    pub(crate) fn preview_key(&self) -> &ring::hmac::Key {
        &self.inner.preview_key
    }

    /// The public documents rendered so far.
    fn rendered_documents(&self) -> &RenderedDocuments {
        &self.inner.rendered
    }

    /// A tenant, or 404 (after checking the slug's form, so a path traversal
    /// attempt gets a 400 that says why).
    pub async fn tenant(&self, slug: &str) -> Result<Arc<TenantRecord>, ApiError> {
        model::validate_slug(slug)?;
        self.store()
            .tenant(slug)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no tenant `{slug}`")))
    }
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    let limits = state.inner.limits;
    // Routes that wait on the database or compute get a timeout; in-memory
    // public routes answer at once and skip the per-request timer.
    let mut working = admin::routes()
        .merge(console::routes())
        .merge(ops::routes());
    if let Some(issuer) = state.dev_issuer() {
        working = working.merge(issuer::routes(&state, issuer.clone()));
    }
    let mut router = Router::new()
        .merge(events::routes())
        .merge(public::routes())
        .merge(assets::routes())
        .merge(ops::with_timeout(working, limits));
    if let Some(storefront) = &state.inner.storefront {
        router = router.nest_service("/demo", storefront.clone());
    }
    let router = router
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .fallback(|| async {
            ApiError::NotFound(
                "no such endpoint (the admin API is described at /api/openapi.json)".into(),
            )
        });
    ops::layers(router.with_state(state.clone()), state, limits)
}
