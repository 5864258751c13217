//! The verified-token cache behind [`VerifierBuilder::verified_token_cache`]
//! (feature `token-cache`, on by default): verified passports by the SHA-256
//! of the whole token, each stamped with the generation of the key set that
//! verified it.
//!
//! Without the feature [`TokenCache`] has no values, so a verifier's
//! `Option<TokenCache>` is always `None` and neither SHA-256 nor the LRU is
//! compiled in. The npm package builds so: its JavaScript wrapper keeps its
//! own cache of parsed passports and asks [`Verifier::still_valid`] on a hit.
//!
//! [`VerifierBuilder::verified_token_cache`]: crate::VerifierBuilder
//! [`Verifier::still_valid`]: crate::Verifier::still_valid

use std::sync::atomic::AtomicU64;

use crate::verifier::Passport;

/// The SHA-256 of a token's text: where it goes in the cache.
pub(crate) type Digest = [u8; 32];

#[cfg(feature = "token-cache")]
pub(crate) struct TokenCache(std::sync::Mutex<lru::LruCache<Digest, (u64, Passport)>>);

/// No cache can be built without the feature.
#[cfg(not(feature = "token-cache"))]
pub(crate) enum TokenCache {}

#[cfg(feature = "token-cache")]
impl TokenCache {
    pub(crate) fn new(capacity: std::num::NonZeroUsize) -> Self {
        TokenCache(std::sync::Mutex::new(lru::LruCache::new(capacity)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, lru::LruCache<Digest, (u64, Passport)>> {
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// The token's digest and, when it was verified by the key set of
    /// generation `current`, its passport (time claims not yet re-checked).
    pub(crate) fn lookup(&self, token: &str, current: u64) -> (Digest, Option<Passport>) {
        use sha2::Digest as _;
        let digest: Digest = sha2::Sha256::digest(token.as_bytes()).into();
        let mut cache = self.lock();
        let hit = match cache.get(&digest) {
            Some((generation, passport)) if *generation == current => Some(passport.clone()),
            Some(_) => {
                // Verified by a key set that has been replaced since.
                cache.pop(&digest);
                None
            }
            None => None,
        };
        (digest, hit)
    }

    /// Keeps `passport` unless the key set was replaced after `generation`
    /// verified it: checked under the cache's lock, which `clear` takes
    /// after the generation moved on.
    pub(crate) fn insert(
        &self,
        digest: Digest,
        generation: u64,
        current: &AtomicU64,
        passport: Passport,
    ) {
        let mut cache = self.lock();
        if generation == current.load(std::sync::atomic::Ordering::SeqCst) {
            cache.put(digest, (generation, passport));
        }
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(not(feature = "token-cache"))]
impl TokenCache {
    pub(crate) fn lookup(&self, _token: &str, _current: u64) -> (Digest, Option<Passport>) {
        match *self {}
    }

    pub(crate) fn insert(&self, _: Digest, _: u64, _: &AtomicU64, _: Passport) {
        match *self {}
    }

    pub(crate) fn clear(&self) {
        match *self {}
    }
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("TokenCache")
    }
}
