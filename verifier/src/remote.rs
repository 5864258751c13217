//! Keys from the issuer over HTTPS: OpenID discovery, JWKS fetching and caching.
//!
//! [`RemoteVerifier`] wraps a [`Verifier`] and keeps its key set current. It
//! follows `/.well-known/openid-configuration` to `jwks_uri` (checking that the
//! document names the configured issuer, as OpenID Connect Discovery 1.0
//! section 4.3 requires), honours `Cache-Control: max-age`, refetches on an
//! unknown `kid` at most once per cooldown, lets one fetch run at a time, gives
//! up after a timeout, and keeps using a stale set while the issuer is down,
//! within the stale-if-error window. The decisions come from
//! [`crate::jwks_cache`]; this module only performs the HTTP.
//!
//! It honours `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` (through reqwest) and
//! accepts an extra CA bundle for private PKI. Plain `http://` is refused except
//! on loopback addresses, unless [`RemoteVerifierBuilder::dangerous_allow_http`]
//! is used.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::VerifyError;
use crate::jwks_cache::{
    JwksCachePolicy, JwksCacheState, JwksSnapshot, Plan, max_age_from_cache_control,
};
use crate::keys::KeySet;
pub use crate::location::KeyLocation;
use crate::location::{Transport, jwks_uri_from_discovery, may_redirect};
use crate::verifier::{Passport, Verifier, VerifierBuilder};

/// The largest discovery or JWKS document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// How many redirects a fetch follows.
const MAX_REDIRECTS: usize = 3;

/// Builds a [`RemoteVerifier`].
#[must_use]
pub struct RemoteVerifierBuilder {
    verifier: VerifierBuilder,
    location: KeyLocation,
    policy: JwksCachePolicy,
    ca_bundle_pem: Option<Vec<u8>>,
    transport: Transport,
    snapshot: Option<JwksSnapshot>,
    proxy: Option<String>,
}

impl RemoteVerifierBuilder {
    /// Sends every fetch through this HTTP(S) proxy. Without it the
    /// `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` variables apply.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }
    /// The cache policy (max-age default, cooldown, timeout, stale-if-error).
    pub fn policy(mut self, policy: JwksCachePolicy) -> Self {
        self.policy = policy;
        self
    }
    /// Extra trusted CA certificates, as a PEM bundle, for issuers behind a
    /// private PKI.
    pub fn ca_bundle_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_bundle_pem = Some(pem.into());
        self
    }
    /// Allows plain `http://` to hosts other than loopback. Keys fetched
    /// without TLS can be replaced by anyone on the path.
    pub fn dangerous_allow_http(mut self) -> Self {
        self.transport = Transport::DangerousAllowHttp;
        self
    }
    /// Starts from a saved snapshot, so the verifier works before (or without)
    /// reaching the issuer. Without a `jwks_uri` of the location's own, the
    /// snapshot's is used, and [`Self::build`] refuses one that keys may not
    /// be fetched from (as any key location).
    pub fn snapshot(mut self, snapshot: JwksSnapshot) -> Self {
        self.snapshot = Some(snapshot);
        self
    }

    /// Builds the verifier. Nothing is fetched until the first token arrives
    /// (or [`RemoteVerifier::refresh`] is called).
    pub fn build(self) -> Result<RemoteVerifier, VerifyError> {
        let invalid = |reason: String| VerifyError::InvalidConfiguration { reason };
        self.location.first_url::<url::Url>(self.transport)?;
        let transport = self.transport;
        // Never from https to http, and only to URLs a key location may have.
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            let allowed = attempt
                .previous()
                .last()
                .is_some_and(|from| may_redirect(from, attempt.url(), transport));
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if !allowed {
                attempt.error("a redirect to a URL keys may not be fetched from")
            } else {
                attempt.follow()
            }
        });
        let mut client = reqwest::Client::builder()
            .timeout(Duration::from_millis(self.policy.timeout_milliseconds))
            .redirect(redirects)
            .user_agent(concat!("tessera-verifier/", env!("CARGO_PKG_VERSION")));
        if let Some(proxy) = &self.proxy {
            let proxy = reqwest::Proxy::all(proxy)
                .map_err(|error| invalid(format!("the proxy URL is not valid: {error}")))?;
            client = client.proxy(proxy);
        }
        if let Some(pem) = &self.ca_bundle_pem {
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|error| invalid(format!("the CA bundle is not valid PEM: {error}")))?;
            if certificates.is_empty() {
                return Err(invalid("the CA bundle holds no certificate".into()));
            }
            for certificate in certificates {
                client = client.add_root_certificate(certificate);
            }
        }
        let client = client
            .build()
            .map_err(|error| invalid(format!("cannot build the HTTP client: {error}")))?;
        let verifier = self.verifier.build()?;
        let mut state = JwksCacheState::default();
        let mut jwks_uri = match &self.location {
            KeyLocation::JwksUri(uri) => Some(uri.clone()),
            KeyLocation::Discovery { .. } => None,
        };
        if let Some(snapshot) = &self.snapshot {
            verifier.replace_key_set(snapshot.key_set()?);
            state =
                JwksCacheState::fetched(snapshot.fetched_at, self.policy.default_max_age_seconds);
            if jwks_uri.is_none()
                && let Some(uri) = &snapshot.jwks_uri
            {
                // Checked like any key location before it is ever requested.
                crate::location::snapshot_jwks_uri::<url::Url>(uri, self.transport)?;
                jwks_uri = Some(uri.clone());
            }
        }
        Ok(RemoteVerifier {
            inner: Arc::new(Inner {
                verifier,
                location: self.location,
                policy: self.policy,
                transport: self.transport,
                client,
                shared: Mutex::new(Shared {
                    state,
                    jwks_uri,
                    last_error: None,
                }),
                fetch_lock: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

#[derive(Debug)]
struct Shared {
    state: JwksCacheState,
    jwks_uri: Option<String>,
    /// Why the last fetch failed, handed to callers while a cooldown passes.
    last_error: Option<VerifyError>,
}

/// A [`Verifier`] whose keys come from the issuer and stay current.
///
/// Cloning it is cheap and the clones share the cache.
#[derive(Debug, Clone)]
pub struct RemoteVerifier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    verifier: Verifier,
    location: KeyLocation,
    policy: JwksCachePolicy,
    transport: Transport,
    client: reqwest::Client,
    shared: Mutex<Shared>,
    // Held across a fetch so that concurrent requests wait for one fetch
    // instead of each starting their own.
    fetch_lock: tokio::sync::Mutex<()>,
}

impl RemoteVerifier {
    /// Starts building a remote verifier with the given rules and key location.
    pub fn builder(verifier: VerifierBuilder, location: KeyLocation) -> RemoteVerifierBuilder {
        RemoteVerifierBuilder {
            verifier,
            location,
            policy: JwksCachePolicy::default(),
            ca_bundle_pem: None,
            transport: Transport::default(),
            snapshot: None,
            proxy: None,
        }
    }

    /// The inner verifier (its key set is the cached one).
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// Verifies a token, fetching keys first when the cache requires it.
    ///
    /// While the cached set is stale, the token is verified with it at once
    /// and one fetch per cooldown refreshes it in the background, so an
    /// issuer that is down or slow delays no verification. Without a usable
    /// set, the first caller fetches and the others wait for that one fetch;
    /// after a failure they fail at once (with that failure) until a cooldown
    /// has passed.
    pub async fn verify(&self, token: &str) -> Result<Passport, VerifyError> {
        let inner = &self.inner;
        let now = inner.verifier.now();
        let plan = inner.lock().state.plan(now, &inner.policy);
        match plan {
            Plan::Use => {}
            Plan::UseAndRefresh => self.refresh_in_background().await,
            Plan::Fetch | Plan::Wait | Plan::Unavailable => {
                inner.fetch_when_due(Due::NoUsableSet).await?
            }
        }
        match inner.verifier.verify(token) {
            Err(VerifyError::NoMatchingKey { .. })
                if inner.lock().state.plan_for_unknown_key(now, &inner.policy) != Plan::Use =>
            {
                inner.fetch_when_due(Due::UnknownKey).await?;
                inner.verifier.verify(token)
            }
            outcome => outcome,
        }
    }

    /// Starts one fetch that nobody waits for, on the current tokio runtime
    /// (or waits for it where there is none).
    async fn refresh_in_background(&self) {
        let now = self.inner.verifier.now();
        {
            let mut shared = self.inner.lock();
            // Checked again under the lock: only one caller starts it.
            if shared.state.plan(now, &self.inner.policy) != Plan::UseAndRefresh {
                return;
            }
            shared.state.begin_attempt(now);
        }
        let inner = Arc::clone(&self.inner);
        let fetch = async move {
            let _guard = inner.fetch_lock.lock().await;
            // A caller that found no usable set may have fetched meanwhile.
            if inner.lock().state.attempting() {
                let _ = inner.fetch_and_install().await;
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(fetch)),
            Err(_) => fetch.await,
        }
    }

    /// Fetches the key set now, regardless of the cache.
    pub async fn refresh(&self) -> Result<(), VerifyError> {
        let inner = &self.inner;
        let _guard = inner.fetch_lock.lock().await;
        inner.lock().state.begin_attempt(inner.verifier.now());
        inner.fetch_and_install().await
    }

    /// The cached key set as a snapshot, for offline and air-gapped use.
    /// `None` until keys have been fetched or imported.
    pub fn snapshot(&self) -> Option<JwksSnapshot> {
        let inner = &self.inner;
        let shared = inner.lock();
        let fetched_at = shared.state.fetched_at()?;
        let issuer = match &inner.location {
            KeyLocation::Discovery { issuer } => Some(issuer.clone()),
            KeyLocation::JwksUri(_) => None,
        };
        Some(JwksSnapshot::of(
            &inner.verifier.key_set(),
            issuer,
            shared.jwks_uri.clone(),
            fetched_at,
        ))
    }
}

/// Why a caller wants a fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    /// The cached set is missing or expired.
    NoUsableSet,
    /// The token names a key the set does not have.
    UnknownKey,
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Fetches when the cache says a fetch is due, else returns at once;
    /// callers queue behind one fetch and then plan again.
    async fn fetch_when_due(&self, due: Due) -> Result<(), VerifyError> {
        let _guard = self.fetch_lock.lock().await;
        let now = self.verifier.now();
        {
            let mut shared = self.lock();
            let plan = match due {
                Due::NoUsableSet => shared.state.plan(now, &self.policy),
                Due::UnknownKey => shared.state.plan_for_unknown_key(now, &self.policy),
            };
            match plan {
                Plan::Use | Plan::UseAndRefresh => return Ok(()),
                Plan::Unavailable => {
                    return Err(shared.last_error.clone().unwrap_or_else(|| {
                        VerifyError::KeySetUnavailable {
                            reason: "the issuer could not be reached".into(),
                        }
                    }));
                }
                // Holding the fetch lock, nobody else is fetching.
                Plan::Fetch | Plan::Wait => shared.state.begin_attempt(now),
            }
        }
        self.fetch_and_install().await
    }

    /// Fetches and installs the key set; the caller holds the fetch lock and
    /// has called `begin_attempt`. An unchanged set is kept as it is, with
    /// its verified-token cache.
    async fn fetch_and_install(&self) -> Result<(), VerifyError> {
        let outcome = self.fetch().await;
        let now = self.verifier.now();
        let mut shared = self.lock();
        match outcome {
            Ok((key_set, max_age, jwks_uri)) => {
                if !key_set.same_keys(&self.verifier.key_set()) {
                    self.verifier.replace_key_set(key_set);
                }
                shared.state.record_success(now, max_age, &self.policy);
                shared.jwks_uri = Some(jwks_uri);
                shared.last_error = None;
                Ok(())
            }
            Err(error) => {
                shared.state.record_failure(now);
                shared.last_error = Some(error.clone());
                Err(error)
            }
        }
    }

    async fn fetch(&self) -> Result<(KeySet, u64, String), VerifyError> {
        let known_uri = self.lock().jwks_uri.clone();
        let jwks_uri = match (&self.location, known_uri) {
            (_, Some(uri)) => uri,
            (KeyLocation::JwksUri(uri), None) => uri.clone(),
            (KeyLocation::Discovery { issuer }, None) => self.discover(issuer).await?,
        };
        let (body, cache_control) = self.get(&jwks_uri).await?;
        let key_set = KeySet::from_slice(&body)?;
        let max_age = max_age_from_cache_control(cache_control.as_deref(), &self.policy);
        Ok((key_set, max_age, jwks_uri))
    }

    async fn discover(&self, issuer: &str) -> Result<String, VerifyError> {
        let url: url::Url = KeyLocation::Discovery {
            issuer: issuer.to_owned(),
        }
        .first_url(self.transport)?;
        let (document, _) = self.get(url.as_str()).await?;
        Ok(jwks_uri_from_discovery::<url::Url>(&document, issuer, self.transport)?.into())
    }

    /// GETs a document, reading at most [`MAX_DOCUMENT_BYTES`].
    async fn get(&self, url: &str) -> Result<(Vec<u8>, Option<String>), VerifyError> {
        let failed = |reason: String| VerifyError::KeySetUnavailable { reason };
        let mut response = self
            .client
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|error| {
                if error.is_timeout() {
                    VerifyError::KeySetTimeout
                } else if error.is_redirect() {
                    failed("the issuer redirected to a URL keys may not be fetched from".into())
                } else {
                    failed(format!("cannot reach the issuer: {}", error.without_url()))
                }
            })?;
        if !response.status().is_success() {
            return Err(failed(format!("the issuer answered {}", response.status())));
        }
        let cache_control = response
            .headers()
            .get("cache-control")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| {
            if error.is_timeout() {
                VerifyError::KeySetTimeout
            } else {
                failed("the response was cut off".into())
            }
        })? {
            if body.len().saturating_add(chunk.len()) > MAX_DOCUMENT_BYTES {
                return Err(failed(format!(
                    "the document is larger than {MAX_DOCUMENT_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, cache_control))
    }
}
