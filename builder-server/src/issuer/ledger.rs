//! What the development issuer has in flight: authorization codes waiting
//! for redemption, codes already redeemed (so that a replay revokes what
//! was issued from them), and the sessions of `offline_access` sign-ins
//! with their refresh token families.
//!
//! Everything is bounded. Each cache is kept in the order its entries
//! expire, so expired entries leave from the old end and nothing is
//! scanned; past `PENDING_CODE_CAPACITY` waiting codes a consent is refused
//! ([`CodesFull`]). No I/O and no HTTP: the token endpoint (`token.rs`)
//! decides what a refusal answers.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use lru::LruCache;

use super::{CODE_LIFETIME, REFRESH_TOKEN_LIFETIME, TOKEN_LIFETIME_SECONDS};

/// How many authorization codes may wait for redemption at once; past that,
/// consent answers 503 until the oldest expires or is redeemed.
pub const PENDING_CODE_CAPACITY: usize = 1024;
/// How long a redeemed code is remembered, so that its replay revokes what
/// was issued from it (RFC 6749 section 4.1.2): as long as its access token.
const REDEEMED_CODE_MEMORY: Duration = Duration::from_secs(TOKEN_LIFETIME_SECONDS as u64);
/// How many redeemed codes, refresh tokens and sessions are kept at most; past
/// that the oldest are forgotten first.
const REDEEMED_CODE_CAPACITY: usize = 4096;
const REFRESH_TOKEN_CAPACITY: usize = 65_536;
const SESSION_CAPACITY: usize = 16_384;

/// A sign-in that asked for `offline_access`: the family of its refresh
/// tokens, named by the `sid` of its ID tokens. Ending it (logout, a reused
/// refresh token, a replayed code) revokes every refresh token of the family.
#[derive(Debug, Clone)]
pub(super) struct Session {
    pub(super) tenant: String,
    pub(super) user_id: String,
    pub(super) scope: String,
    /// When the user consented, kept for every refreshed ID token (OpenID
    /// Connect Core 12.2).
    pub(super) auth_time: i64,
    /// The last issue of a refresh token: the session expires
    /// `REFRESH_TOKEN_LIFETIME` after it.
    pub(super) refreshed: Instant,
}

/// A refresh token (issued only with `offline_access`). Each is single use:
/// using it rotates it, and using it a second time revokes its whole family,
/// as the OAuth 2.0 Security BCP asks of public clients.
#[derive(Debug, Clone)]
struct RefreshGrant {
    session: String,
    issued: Instant,
    used: bool,
}

#[derive(Debug, Clone)]
pub(super) struct PendingCode {
    pub(super) tenant: String,
    pub(super) user_id: String,
    pub(super) redirect_uri: String,
    pub(super) code_challenge: String,
    pub(super) nonce: Option<String>,
    pub(super) scope: String,
    pub(super) auth_time: i64,
    pub(super) issued: Instant,
}

/// A code already exchanged, and the session issued from it.
#[derive(Debug, Clone)]
struct RedeemedCode {
    session: String,
    redeemed: Instant,
}

/// Codes, refresh tokens and sessions in flight. Each cache is kept in the
/// order its entries expire (insertion order, or the last refresh for
/// sessions), so expired entries leave from the old end in amortized O(1)
/// and nothing is scanned.
pub(super) struct Ledger {
    pending: LruCache<String, PendingCode>,
    redeemed: LruCache<String, RedeemedCode>,
    refresh_tokens: LruCache<String, RefreshGrant>,
    sessions: LruCache<String, Session>,
}

/// The answer to a consent when `PENDING_CODE_CAPACITY` codes are waiting.
#[derive(Debug, thiserror::Error)]
#[error("too many sign-ins are waiting for their code to be redeemed")]
pub struct CodesFull {
    /// Until the oldest waiting code expires.
    pub(super) retry_after: Duration,
}

/// Drops the entries older than `lifetime` from the old end of `cache`, whose
/// entries are in the order they expire.
fn drop_expired<V>(
    cache: &mut LruCache<String, V>,
    now: Instant,
    lifetime: Duration,
    since: impl Fn(&V) -> Instant,
) {
    while let Some((_, oldest)) = cache.peek_lru() {
        if now.saturating_duration_since(since(oldest)) < lifetime {
            break;
        }
        cache.pop_lru();
    }
}

fn capacity(entries: usize) -> NonZeroUsize {
    NonZeroUsize::new(entries).unwrap_or(NonZeroUsize::MIN)
}

impl Ledger {
    pub(super) fn new() -> Self {
        Ledger {
            pending: LruCache::new(capacity(PENDING_CODE_CAPACITY)),
            redeemed: LruCache::new(capacity(REDEEMED_CODE_CAPACITY)),
            refresh_tokens: LruCache::new(capacity(REFRESH_TOKEN_CAPACITY)),
            sessions: LruCache::new(capacity(SESSION_CAPACITY)),
        }
    }

    /// Records a consent's code, unless `PENDING_CODE_CAPACITY` unexpired
    /// codes are waiting.
    pub(super) fn add_code(&mut self, code: String, pending: PendingCode) -> Result<(), CodesFull> {
        drop_expired(&mut self.pending, pending.issued, CODE_LIFETIME, |p| {
            p.issued
        });
        if let Some((_, oldest)) = self.pending.peek_lru()
            && self.pending.len() >= PENDING_CODE_CAPACITY
        {
            let age = pending.issued.saturating_duration_since(oldest.issued);
            return Err(CodesFull {
                retry_after: CODE_LIFETIME.saturating_sub(age),
            });
        }
        self.pending.push(code, pending);
        Ok(())
    }

    /// Takes a code out (single use, whether or not the rest checks out).
    pub(super) fn take_code(&mut self, code: &str) -> Option<PendingCode> {
        self.pending.pop(code)
    }

    /// Remembers that `code` was exchanged for `session`'s tokens.
    pub(super) fn redeemed(&mut self, code: String, session: &str, now: Instant) {
        drop_expired(&mut self.redeemed, now, REDEEMED_CODE_MEMORY, |r| {
            r.redeemed
        });
        let session = session.to_owned();
        self.redeemed.push(
            code,
            RedeemedCode {
                session,
                redeemed: now,
            },
        );
    }

    /// A code presented again: revokes the session issued from it, if any.
    pub(super) fn replayed(&mut self, code: &str) -> bool {
        let Some(redeemed) = self.redeemed.pop(code) else {
            return false;
        };
        self.sessions.pop(&redeemed.session);
        true
    }

    pub(super) fn start_session(&mut self, id: String, session: Session) {
        drop_expired(
            &mut self.sessions,
            session.refreshed,
            REFRESH_TOKEN_LIFETIME,
            |s| s.refreshed,
        );
        self.sessions.push(id, session);
    }

    /// Ends a session: its refresh tokens are refused from now on.
    pub(super) fn end_session(&mut self, id: &str) {
        self.sessions.pop(id);
    }

    pub(super) fn add_refresh_token(&mut self, token: String, session: &str, now: Instant) {
        drop_expired(&mut self.refresh_tokens, now, REFRESH_TOKEN_LIFETIME, |g| {
            g.issued
        });
        if let Some(live) = self.sessions.get_mut(session) {
            live.refreshed = now;
        }
        let grant = RefreshGrant {
            session: session.to_owned(),
            issued: now,
            used: false,
        };
        self.refresh_tokens.push(token, grant);
    }

    /// Spends a refresh token for `client_id`, answering its session.
    pub(super) fn spend_refresh_token(
        &mut self,
        token: &str,
        client_id: Option<&str>,
        now: Instant,
    ) -> Result<(String, Session), RefreshRefused> {
        drop_expired(&mut self.refresh_tokens, now, REFRESH_TOKEN_LIFETIME, |g| {
            g.issued
        });
        drop_expired(&mut self.sessions, now, REFRESH_TOKEN_LIFETIME, |s| {
            s.refreshed
        });
        let grant = self
            .refresh_tokens
            .peek_mut(token)
            .ok_or(RefreshRefused::Unknown)?;
        let session = self
            .sessions
            .peek(&grant.session)
            .ok_or(RefreshRefused::Unknown)?;
        if client_id != Some(session.tenant.as_str()) {
            // Another client's token: refused without spending it.
            return Err(RefreshRefused::OtherClient);
        }
        if grant.used {
            let id = grant.session.clone();
            self.sessions.pop(&id);
            tracing::warn!("a spent refresh token was presented again: its family is revoked");
            return Err(RefreshRefused::Reused);
        }
        grant.used = true;
        Ok((grant.session.clone(), session.clone()))
    }
}

/// Why a refresh token is refused.
#[derive(Debug, thiserror::Error)]
pub(super) enum RefreshRefused {
    #[error("the refresh token is unknown, expired or revoked")]
    Unknown,
    #[error("the refresh token was issued to another client")]
    OtherClient,
    #[error("the refresh token was already used; the session is revoked")]
    Reused,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(issued: Instant) -> PendingCode {
        PendingCode {
            tenant: "acme".into(),
            user_id: "ada".into(),
            redirect_uri: "https://shop.example/callback".into(),
            code_challenge: String::new(),
            nonce: None,
            scope: "openid".into(),
            auth_time: 0,
            issued,
        }
    }

    #[test]
    fn expired_codes_make_room_and_a_full_ledger_refuses() {
        let start = Instant::now();
        let mut ledger = Ledger::new();
        for index in 0..PENDING_CODE_CAPACITY {
            ledger
                .add_code(format!("code-{index}"), pending(start))
                .unwrap();
        }
        // Full, and nothing expired yet: refused, with the time to wait.
        let half = start + CODE_LIFETIME / 2;
        let full = ledger
            .add_code("one-more".into(), pending(half))
            .unwrap_err();
        assert_eq!(full.retry_after, CODE_LIFETIME / 2);
        assert_eq!(ledger.pending.len(), PENDING_CODE_CAPACITY);
        // Once the codes expired, they leave and the new one fits.
        let later = start + CODE_LIFETIME;
        ledger.add_code("fresh".into(), pending(later)).unwrap();
        assert_eq!(ledger.pending.len(), 1);
        assert!(ledger.take_code("code-0").is_none());
        assert!(ledger.take_code("fresh").is_some());
    }
}
