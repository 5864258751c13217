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

use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use crate::error::VerifyError;
use crate::jwks_cache::{
    Freshness, JwksCachePolicy, JwksCacheState, JwksSnapshot, max_age_from_cache_control,
};
use crate::keys::KeySet;
use crate::verifier::{Passport, Verifier, VerifierBuilder};

/// The largest discovery or JWKS document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// Where the key set is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLocation {
    /// Discover `jwks_uri` from `{issuer}/.well-known/openid-configuration`.
    Discovery {
        /// The issuer URL; the discovery document must name exactly this issuer.
        issuer: String,
    },
    /// Fetch the JWKS from this URL directly.
    JwksUri(String),
}

/// Builds a [`RemoteVerifier`].
#[must_use]
pub struct RemoteVerifierBuilder {
    verifier: VerifierBuilder,
    location: KeyLocation,
    policy: JwksCachePolicy,
    ca_bundle_pem: Option<Vec<u8>>,
    allow_http: bool,
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
        self.allow_http = true;
        self
    }
    /// Starts from a saved snapshot, so the verifier works before (or without)
    /// reaching the issuer.
    pub fn snapshot(mut self, snapshot: JwksSnapshot) -> Self {
        self.snapshot = Some(snapshot);
        self
    }

    /// Builds the verifier. Nothing is fetched until the first token arrives
    /// (or [`RemoteVerifier::refresh`] is called).
    pub fn build(self) -> Result<RemoteVerifier, VerifyError> {
        let invalid = |reason: String| VerifyError::InvalidConfiguration { reason };
        let url = match &self.location {
            KeyLocation::Discovery { issuer } => issuer,
            KeyLocation::JwksUri(uri) => uri,
        };
        check_url(url, self.allow_http)?;
        let mut client = reqwest::Client::builder()
            .timeout(Duration::from_millis(self.policy.timeout_milliseconds))
            .redirect(reqwest::redirect::Policy::limited(3))
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
            if jwks_uri.is_none() {
                jwks_uri = snapshot.jwks_uri.clone();
            }
        }
        Ok(RemoteVerifier {
            verifier,
            location: self.location,
            policy: self.policy,
            allow_http: self.allow_http,
            client,
            shared: Mutex::new(Shared { state, jwks_uri }),
            fetch_lock: tokio::sync::Mutex::new(()),
        })
    }
}

#[derive(Debug)]
struct Shared {
    state: JwksCacheState,
    jwks_uri: Option<String>,
}

/// A [`Verifier`] whose keys come from the issuer and stay current.
#[derive(Debug)]
pub struct RemoteVerifier {
    verifier: Verifier,
    location: KeyLocation,
    policy: JwksCachePolicy,
    allow_http: bool,
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
            allow_http: false,
            snapshot: None,
            proxy: None,
        }
    }

    /// The inner verifier (its key set is the cached one).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    fn state(&self) -> JwksCacheState {
        self.shared
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .state
    }

    /// Verifies a token, fetching keys first when the cache requires it.
    pub async fn verify(&self, token: &str) -> Result<Passport, VerifyError> {
        let now = self.verifier.now();
        match self.state().freshness(now, &self.policy) {
            Freshness::Fresh => {}
            Freshness::Stale => {
                // Stale-if-error: a failed refresh still leaves usable keys.
                let _ = self.refresh_unless_fresh().await;
            }
            Freshness::Missing | Freshness::Expired => self.refresh_unless_fresh().await?,
        }
        match self.verifier.verify(token) {
            Err(VerifyError::NoMatchingKey { .. })
                if self.state().may_fetch_for_unknown_key(now, &self.policy) =>
            {
                self.refresh_for_unknown_key().await?;
                self.verifier.verify(token)
            }
            outcome => outcome,
        }
    }

    async fn refresh_unless_fresh(&self) -> Result<(), VerifyError> {
        let _guard = self.fetch_lock.lock().await;
        // Another task may have fetched while this one waited.
        if self.state().freshness(self.verifier.now(), &self.policy) == Freshness::Fresh {
            return Ok(());
        }
        self.fetch_and_install().await
    }

    async fn refresh_for_unknown_key(&self) -> Result<(), VerifyError> {
        let _guard = self.fetch_lock.lock().await;
        if !self
            .state()
            .may_fetch_for_unknown_key(self.verifier.now(), &self.policy)
        {
            return Ok(());
        }
        self.fetch_and_install().await
    }

    /// Fetches the key set now, regardless of the cache.
    pub async fn refresh(&self) -> Result<(), VerifyError> {
        let _guard = self.fetch_lock.lock().await;
        self.fetch_and_install().await
    }

    async fn fetch_and_install(&self) -> Result<(), VerifyError> {
        let outcome = self.fetch().await;
        let now = self.verifier.now();
        let mut shared = self
            .shared
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match outcome {
            Ok((key_set, max_age, jwks_uri)) => {
                self.verifier.replace_key_set(key_set);
                shared.state.record_success(now, max_age);
                shared.jwks_uri = Some(jwks_uri);
                Ok(())
            }
            Err(error) => {
                shared.state.record_failure(now);
                Err(error)
            }
        }
    }

    async fn fetch(&self) -> Result<(KeySet, u64, String), VerifyError> {
        let known_uri = self
            .shared
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .jwks_uri
            .clone();
        let jwks_uri = match (&self.location, known_uri) {
            (_, Some(uri)) => uri,
            (KeyLocation::JwksUri(uri), None) => uri.clone(),
            (KeyLocation::Discovery { issuer }, None) => self.discover(issuer).await?,
        };
        let (body, cache_control) = self.get(&jwks_uri).await?;
        let key_set = KeySet::from_value(body)?;
        let max_age = max_age_from_cache_control(cache_control.as_deref(), &self.policy);
        Ok((key_set, max_age, jwks_uri))
    }

    async fn discover(&self, issuer: &str) -> Result<String, VerifyError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let (document, _) = self.get(&url).await?;
        let unavailable = |reason: &str| VerifyError::KeySetUnavailable {
            reason: reason.to_owned(),
        };
        if document.get("issuer").and_then(Value::as_str) != Some(issuer) {
            return Err(unavailable(
                "the discovery document names a different issuer",
            ));
        }
        let jwks_uri = document
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| unavailable("the discovery document has no jwks_uri"))?;
        check_url(jwks_uri, self.allow_http)
            .map_err(|_| unavailable("the discovery document's jwks_uri is not an allowed URL"))?;
        Ok(jwks_uri.to_owned())
    }

    async fn get(&self, url: &str) -> Result<(Value, Option<String>), VerifyError> {
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
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(failed(format!(
                    "the document is larger than {MAX_DOCUMENT_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let value = serde_json::from_slice(&body)
            .map_err(|_| failed("the issuer's document is not JSON".into()))?;
        Ok((value, cache_control))
    }

    /// The cached key set as a snapshot, for offline and air-gapped use.
    /// `None` until keys have been fetched or imported.
    pub fn snapshot(&self) -> Option<JwksSnapshot> {
        let shared = self
            .shared
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let fetched_at = shared.state.fetched_at()?;
        let issuer = match &self.location {
            KeyLocation::Discovery { issuer } => Some(issuer.clone()),
            KeyLocation::JwksUri(_) => None,
        };
        Some(JwksSnapshot::of(
            &self.verifier.key_set(),
            issuer,
            shared.jwks_uri.clone(),
            fetched_at,
        ))
    }
}

fn check_url(url: &str, allow_http: bool) -> Result<(), VerifyError> {
    let invalid = |reason: &str| VerifyError::InvalidConfiguration {
        reason: reason.to_owned(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|_| invalid("the key location is not a URL"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if allow_http || is_loopback(&parsed) => Ok(()),
        "http" => Err(invalid(
            "plain http is only allowed for loopback hosts (see dangerous_allow_http)",
        )),
        _ => Err(invalid("the key location must be an https URL")),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}
