//! The development issuer's state: its key, codes in flight, sessions
//! with their refresh token families, and rate limits, shared by every
//! replica.
//!
//! Every step that reads and then changes (taking a code, spending a
//! refresh token, counting a request) runs under the write lock, so two
//! replicas never both redeem one code or both spend one refresh token.
//! Expired rows are deleted by the writes that add new ones, so the
//! tables stay as small as what is live. Codes and refresh tokens are
//! kept as SHA-256 hashes.
//!
//! What it is not: the OAuth rules. The issuer (`issuer/token.rs`)
//! decides what a refusal answers; this module keeps the ledger.

use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

use super::{Store, StoreError};

/// How many authorization codes may wait for redemption at once; past that,
/// consent answers 503 until the oldest expires or is redeemed.
pub const PENDING_CODE_CAPACITY: i64 = 1024;

/// How long a code lives, in seconds.
pub const CODE_LIFETIME_SECONDS: i64 = 60;

/// How long a redeemed code is remembered, so that its replay revokes what
/// was issued from it (RFC 6749 section 4.1.2): as long as its access
/// token.
const REDEEMED_CODE_MEMORY_SECONDS: i64 = 600;

/// How long a refresh token may wait to be used, and a session lasts
/// after its last refresh, in seconds.
pub const REFRESH_LIFETIME_SECONDS: i64 = 8 * 3600;

/// The window of the per-address rate limits, in seconds.
const RATE_WINDOW_SECONDS: i64 = 60;

/// A consent's code, waiting to be exchanged.
#[derive(Debug, Clone)]
pub struct PendingCode {
    /// The client (tenant slug).
    pub tenant: String,
    /// The demo user who consented.
    pub user_id: String,
    /// Where the code was sent.
    pub redirect_uri: String,
    /// The PKCE challenge.
    pub code_challenge: String,
    /// The request's nonce.
    pub nonce: Option<String>,
    /// The granted scope.
    pub scope: String,
    /// When the user consented.
    pub auth_time: i64,
    /// When the code was issued.
    pub issued_at: i64,
}

/// A sign-in that asked for `offline_access`: the family of its refresh
/// tokens, named by the `sid` of its ID tokens. Ending it (logout, a reused
/// refresh token, a replayed code) revokes every refresh token of the
/// family.
#[derive(Debug, Clone)]
pub struct DevSession {
    /// The client (tenant slug).
    pub tenant: String,
    /// The demo user.
    pub user_id: String,
    /// The granted scope.
    pub scope: String,
    /// When the user consented, kept for every refreshed ID token (OpenID
    /// Connect Core 12.2).
    pub auth_time: i64,
}

/// The answer to a consent when [`PENDING_CODE_CAPACITY`] codes are
/// waiting.
#[derive(Debug, thiserror::Error)]
#[error("too many sign-ins are waiting for their code to be redeemed")]
pub struct CodesFull {
    /// Seconds until the oldest waiting code expires.
    pub retry_after_seconds: i64,
}

/// Why a refresh token is refused.
#[derive(Debug, thiserror::Error)]
pub enum RefreshRefused {
    /// Never issued, expired, or its session ended.
    #[error("the refresh token is unknown, expired or revoked")]
    Unknown,
    /// Issued to another client; not spent.
    #[error("the refresh token was issued to another client")]
    OtherClient,
    /// Spent before: the session is revoked.
    #[error("the refresh token was already used; the session is revoked")]
    Reused,
}

fn hashed(secret: &str) -> String {
    crate::http::hex(&Sha256::digest(secret.as_bytes()))
}

impl Store {
    /// The development issuer's signing key (PKCS#8) and pairwise secret:
    /// the stored ones, or `candidate` stored now when there are none, so
    /// that every replica signs with one key.
    pub async fn dev_issuer_keys(
        &self,
        candidate: (Vec<u8>, Vec<u8>),
    ) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
        let store = self.clone();
        self.detached(None, async move {
            sqlx::query(
                "INSERT INTO dev_issuer_keys (id, signing_key, pairwise_secret, created_at) \
                 VALUES (1, $1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(candidate.0)
            .bind(candidate.1)
            .bind(super::now())
            .execute(&store.pool)
            .await?;
            let row = sqlx::query(
                "SELECT signing_key, pairwise_secret FROM dev_issuer_keys WHERE id = 1",
            )
            .fetch_one(&store.pool)
            .await?;
            Ok((row.get("signing_key"), row.get("pairwise_secret")))
        })
        .await
    }

    /// The instance secret `name`: the stored one, or `candidate` stored
    /// now when there is none, so that every replica holds the same.
    pub async fn instance_secret(
        &self,
        name: &str,
        candidate: Vec<u8>,
    ) -> Result<Vec<u8>, StoreError> {
        let (store, name) = (self.clone(), name.to_owned());
        self.detached(None, async move {
            sqlx::query(
                "INSERT INTO instance_secrets (name, value, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&name)
            .bind(candidate)
            .bind(super::now())
            .execute(&store.pool)
            .await?;
            Ok(
                sqlx::query_scalar("SELECT value FROM instance_secrets WHERE name = $1")
                    .bind(&name)
                    .fetch_one(&store.pool)
                    .await?,
            )
        })
        .await
    }

    /// Records a consent's `code`, unless [`PENDING_CODE_CAPACITY`]
    /// unexpired codes are waiting.
    pub async fn dev_add_code(
        &self,
        code: &str,
        pending: PendingCode,
    ) -> Result<Result<(), CodesFull>, StoreError> {
        let code_hash = hashed(code);
        self.write(move |transaction| {
            Box::pin(async move {
                let now = pending.issued_at;
                sqlx::query("DELETE FROM dev_codes WHERE issued_at <= $1")
                    .bind(now.saturating_sub(CODE_LIFETIME_SECONDS))
                    .execute(&mut *transaction)
                    .await?;
                let row = sqlx::query(
                    "SELECT COUNT(*) AS waiting, MIN(issued_at) AS oldest FROM dev_codes",
                )
                .fetch_one(&mut *transaction)
                .await?;
                let (waiting, oldest): (i64, Option<i64>) = (row.get("waiting"), row.get("oldest"));
                if waiting >= PENDING_CODE_CAPACITY {
                    let age = now.saturating_sub(oldest.unwrap_or(now));
                    return Ok(Err(CodesFull {
                        retry_after_seconds: CODE_LIFETIME_SECONDS.saturating_sub(age).max(1),
                    }));
                }
                sqlx::query(
                    "INSERT INTO dev_codes (code_hash, tenant, user_id, redirect_uri, \
                     code_challenge, nonce, scope, auth_time, issued_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&code_hash)
                .bind(&pending.tenant)
                .bind(&pending.user_id)
                .bind(&pending.redirect_uri)
                .bind(&pending.code_challenge)
                .bind(&pending.nonce)
                .bind(&pending.scope)
                .bind(pending.auth_time)
                .bind(pending.issued_at)
                .execute(&mut *transaction)
                .await?;
                Ok(Ok(()))
            })
        })
        .await
    }

    /// Takes `code` out (single use, whether or not the rest checks out,
    /// its expiry included): the pending code, when it was waiting. A code
    /// redeemed within the memory before `now` instead revokes the session
    /// issued from it, answered as `Err(true)`; `Err(false)` for a code
    /// never seen or long forgotten.
    pub async fn dev_take_code(
        &self,
        code: &str,
        now: i64,
    ) -> Result<Result<PendingCode, bool>, StoreError> {
        let code_hash = hashed(code);
        self.write(move |transaction| {
            Box::pin(async move {
                let row = sqlx::query(
                    "DELETE FROM dev_codes WHERE code_hash = $1 RETURNING tenant, user_id, \
                 redirect_uri, code_challenge, nonce, scope, auth_time, issued_at",
                )
                .bind(&code_hash)
                .fetch_optional(&mut *transaction)
                .await?;
                if let Some(row) = row {
                    let pending = PendingCode {
                        tenant: row.get("tenant"),
                        user_id: row.get("user_id"),
                        redirect_uri: row.get("redirect_uri"),
                        code_challenge: row.get("code_challenge"),
                        nonce: row.get("nonce"),
                        scope: row.get("scope"),
                        auth_time: row.get("auth_time"),
                        issued_at: row.get("issued_at"),
                    };
                    return Ok(Ok(pending));
                }
                // RFC 6749 4.1.2: a code used twice revokes the tokens issued
                // from it (its refresh tokens; its JWTs expire on their own).
                let redeemed: Option<String> = sqlx::query_scalar(
                    "DELETE FROM dev_redeemed_codes WHERE code_hash = $1 AND redeemed_at > $2 \
                 RETURNING session",
                )
                .bind(&code_hash)
                .bind(now.saturating_sub(REDEEMED_CODE_MEMORY_SECONDS))
                .fetch_optional(&mut *transaction)
                .await?;
                if let Some(session) = &redeemed {
                    Self::dev_end_session_in(&mut *transaction, session).await?;
                }
                Ok(Err(redeemed.is_some()))
            })
        })
        .await
    }

    /// Starts session `sid` for a redeemed `code`, remembering the code so
    /// that its replay ends the session.
    pub async fn dev_start_session(
        &self,
        sid: &str,
        code: &str,
        session: DevSession,
        now: i64,
    ) -> Result<(), StoreError> {
        let (sid, code_hash) = (sid.to_owned(), hashed(code));
        self.write(move |transaction| Box::pin(async move {
            sqlx::query("DELETE FROM dev_sessions WHERE refreshed_at <= $1")
                .bind(now.saturating_sub(REFRESH_LIFETIME_SECONDS))
                .execute(&mut *transaction)
                .await?;
            sqlx::query("DELETE FROM dev_redeemed_codes WHERE redeemed_at <= $1")
                .bind(now.saturating_sub(REDEEMED_CODE_MEMORY_SECONDS))
                .execute(&mut *transaction)
                .await?;
            sqlx::query(
                "INSERT INTO dev_sessions (sid, tenant, user_id, scope, auth_time, refreshed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&sid)
            .bind(&session.tenant)
            .bind(&session.user_id)
            .bind(&session.scope)
            .bind(session.auth_time)
            .bind(now)
            .execute(&mut *transaction)
            .await?;
            sqlx::query(
                "INSERT INTO dev_redeemed_codes (code_hash, session, redeemed_at) VALUES ($1, $2, $3)",
            )
            .bind(&code_hash)
            .bind(&sid)
            .bind(now)
            .execute(&mut *transaction)
            .await?;
            Ok(())
        }))
        .await
    }

    async fn dev_end_session_in(
        transaction: &mut sqlx::AnyConnection,
        sid: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM dev_sessions WHERE sid = $1")
            .bind(sid)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("DELETE FROM dev_refresh_tokens WHERE session = $1")
            .bind(sid)
            .execute(&mut *transaction)
            .await?;
        Ok(())
    }

    /// Ends session `sid`: its refresh tokens are refused from now on.
    pub async fn dev_end_session(&self, sid: &str) -> Result<(), StoreError> {
        let sid = sid.to_owned();
        self.write(move |transaction| {
            Box::pin(async move {
                Self::dev_end_session_in(&mut *transaction, &sid).await?;
                Ok(())
            })
        })
        .await
    }

    /// Adds a refresh token of session `sid`, which it keeps alive.
    pub async fn dev_add_refresh_token(
        &self,
        token: &str,
        sid: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let (token_hash, sid) = (hashed(token), sid.to_owned());
        self.write(move |transaction| {
            Box::pin(async move {
                sqlx::query("DELETE FROM dev_refresh_tokens WHERE issued_at <= $1")
                    .bind(now.saturating_sub(REFRESH_LIFETIME_SECONDS))
                    .execute(&mut *transaction)
                    .await?;
                sqlx::query("UPDATE dev_sessions SET refreshed_at = $1 WHERE sid = $2")
                    .bind(now)
                    .bind(&sid)
                    .execute(&mut *transaction)
                    .await?;
                sqlx::query(
                    "INSERT INTO dev_refresh_tokens (token_hash, session, issued_at, used) \
                 VALUES ($1, $2, $3, 0)",
                )
                .bind(&token_hash)
                .bind(&sid)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Spends a refresh token for `client_id`, answering its session's id
    /// and the session. A token spent before revokes its whole family.
    pub async fn dev_spend_refresh_token(
        &self,
        token: &str,
        client_id: Option<&str>,
        now: i64,
    ) -> Result<Result<(String, DevSession), RefreshRefused>, StoreError> {
        let token_hash = hashed(token);
        let client_id = client_id.map(str::to_owned);
        self.write(move |transaction| {
            Box::pin(async move {
                let live_since = now.saturating_sub(REFRESH_LIFETIME_SECONDS);
                let row = sqlx::query(
                    "SELECT t.used, s.sid, s.tenant, s.user_id, s.scope, s.auth_time \
                     FROM dev_refresh_tokens t JOIN dev_sessions s ON s.sid = t.session \
                     WHERE t.token_hash = $1 AND t.issued_at > $2 AND s.refreshed_at > $2",
                )
                .bind(&token_hash)
                .bind(live_since)
                .fetch_optional(&mut *transaction)
                .await?;
                let Some(row) = row else {
                    return Ok(Err(RefreshRefused::Unknown));
                };
                let sid: String = row.get("sid");
                let session = DevSession {
                    tenant: row.get("tenant"),
                    user_id: row.get("user_id"),
                    scope: row.get("scope"),
                    auth_time: row.get("auth_time"),
                };
                if client_id.as_deref() != Some(session.tenant.as_str()) {
                    // Another client's token: refused without spending it.
                    return Ok(Err(RefreshRefused::OtherClient));
                }
                if row.get::<i64, _>("used") != 0 {
                    Self::dev_end_session_in(&mut *transaction, &sid).await?;
                    tracing::warn!(
                        "a spent refresh token was presented again: its family is revoked"
                    );
                    return Ok(Err(RefreshRefused::Reused));
                }
                sqlx::query("UPDATE dev_refresh_tokens SET used = 1 WHERE token_hash = $1")
                    .bind(&token_hash)
                    .execute(&mut *transaction)
                    .await?;
                Ok(Ok((sid, session)))
            })
        })
        .await
    }

    /// Counts a request of kind `bucket` from `address` and says whether it
    /// is within `per_minute` (fixed one-minute windows, shared by every
    /// replica).
    pub async fn dev_rate_allow(
        &self,
        bucket: &str,
        address: &str,
        per_minute: u32,
        now: i64,
    ) -> Result<bool, StoreError> {
        let (bucket, address) = (bucket.to_owned(), address.to_owned());
        self.write(move |transaction| {
            Box::pin(async move {
                let expired = now.saturating_sub(RATE_WINDOW_SECONDS);
                sqlx::query("DELETE FROM dev_rate_limits WHERE bucket = $1 AND window_start <= $2")
                    .bind(&bucket)
                    .bind(expired)
                    .execute(&mut *transaction)
                    .await?;
                let count: i64 = sqlx::query_scalar(
                    "INSERT INTO dev_rate_limits (bucket, address, window_start, count) \
                 VALUES ($1, $2, $3, 1) ON CONFLICT (bucket, address) \
                 DO UPDATE SET count = dev_rate_limits.count + 1 RETURNING count",
                )
                .bind(&bucket)
                .bind(&address)
                .bind(now)
                .fetch_one(&mut *transaction)
                .await?;
                Ok(count <= i64::from(per_minute))
            })
        })
        .await
    }
}
