//! The console's sign-in state: one-time login links and admin sessions.
//!
//! Secrets never reach the database: a link or a session is stored as the
//! SHA-256 of the secret its holder presents. Redeeming a link deletes it
//! and creates the session in one transaction, so a link signs in once.
//!
//! What it is not: the cookie or the timeouts' policy (`console::session`
//! decides those and passes the times in).

use sqlx::Row as _;

use super::{Audit, Store, StoreError, now};

/// A signed-in admin's console session, as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// The token the session's forms must carry.
    pub csrf: String,
    /// Who signed in: a subject at the admins' IdP, or `login-link`.
    pub subject: String,
    /// Their name, for the page and the audit log.
    pub display_name: String,
    /// `owner` (every tenant).
    pub role: String,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// When it was last used (Unix seconds, to the minute).
    pub last_seen_at: i64,
}

/// Who a new session belongs to.
#[derive(Debug, Clone)]
pub struct NewConsoleSession<'a> {
    /// The SHA-256 of the cookie's secret.
    pub id_hash: &'a [u8],
    /// The token the session's forms must carry.
    pub csrf: &'a str,
    /// Who signs in.
    pub subject: &'a str,
    /// Their name.
    pub display_name: &'a str,
    /// Their role.
    pub role: &'a str,
}

impl Store {
    /// Stores a login link's hash, valid until `expires_at`; audited for the
    /// instance, as `actor`.
    pub async fn create_console_link(
        &self,
        actor: &str,
        token_hash: &[u8],
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        sqlx::query("DELETE FROM console_links WHERE expires_at <= $1")
            .bind(now())
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "INSERT INTO console_links (token_hash, created_at, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(now())
        .bind(expires_at)
        .execute(&mut *transaction)
        .await?;
        Audit {
            actor,
            action: "create",
            tenant: None,
            resource: "console-login-link",
            before: None,
            after: Some(serde_json::json!({ "expires_at": expires_at }).to_string()),
        }
        .write(&mut transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Spends the unexpired login link with this hash and opens `session`
    /// in its place, in one transaction; `false` (and no session) when
    /// there is no such link.
    pub async fn redeem_console_link(
        &self,
        token_hash: &[u8],
        session: &NewConsoleSession<'_>,
    ) -> Result<bool, StoreError> {
        let mut transaction = self.begin_write().await?;
        let spent =
            sqlx::query("DELETE FROM console_links WHERE token_hash = $1 AND expires_at > $2")
                .bind(token_hash)
                .bind(now())
                .execute(&mut *transaction)
                .await?
                .rows_affected();
        if spent != 1 {
            return Ok(false);
        }
        Self::insert_console_session(&mut transaction, session).await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Opens a console session (after a sign-in at the admins' IdP).
    pub async fn create_console_session(
        &self,
        session: &NewConsoleSession<'_>,
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        Self::insert_console_session(&mut transaction, session).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn insert_console_session(
        transaction: &mut sqlx::AnyConnection,
        session: &NewConsoleSession<'_>,
    ) -> Result<(), StoreError> {
        let at = now();
        sqlx::query(
            "INSERT INTO console_sessions \
             (id_hash, csrf, subject, display_name, role, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(session.id_hash)
        .bind(session.csrf)
        .bind(session.subject)
        .bind(session.display_name)
        .bind(session.role)
        .bind(at)
        .bind(at)
        .execute(transaction)
        .await?;
        Ok(())
    }

    /// The session with this hash, if it was created after `created_after`
    /// and used after `seen_after` (the absolute and idle timeouts); one
    /// that is too old is deleted. Its use is recorded, at most once a
    /// minute.
    pub async fn console_session(
        &self,
        id_hash: &[u8],
        created_after: i64,
        seen_after: i64,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let row = sqlx::query(
            "SELECT csrf, subject, display_name, role, created_at, last_seen_at \
             FROM console_sessions WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let session = ConsoleSession {
            csrf: row.get("csrf"),
            subject: row.get("subject"),
            display_name: row.get("display_name"),
            role: row.get("role"),
            created_at: row.get("created_at"),
            last_seen_at: row.get("last_seen_at"),
        };
        if session.created_at <= created_after || session.last_seen_at <= seen_after {
            self.end_console_session(id_hash).await?;
            return Ok(None);
        }
        let at = now();
        if session.last_seen_at <= at.saturating_sub(60) {
            sqlx::query("UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(at)
                .bind(id_hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(session))
    }

    /// Ends the session with this hash (signing out).
    pub async fn end_console_session(&self, id_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Keeps a console sign-in in flight until `expires_at`.
    pub async fn start_console_flow(&self, flow: &ConsoleFlow) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        sqlx::query("DELETE FROM console_flows WHERE expires_at <= $1")
            .bind(now())
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "INSERT INTO console_flows (state_hash, browser_hash, verifier, nonce, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&flow.state_hash)
        .bind(&flow.browser_hash)
        .bind(&flow.verifier)
        .bind(&flow.nonce)
        .bind(flow.expires_at)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Spends the unexpired sign-in in flight whose `state` has this hash.
    pub async fn take_console_flow(
        &self,
        state_hash: &[u8],
    ) -> Result<Option<ConsoleFlow>, StoreError> {
        let mut transaction = self.begin_write().await?;
        let row = sqlx::query(
            "DELETE FROM console_flows WHERE state_hash = $1 AND expires_at > $2 \
             RETURNING state_hash, browser_hash, verifier, nonce, expires_at",
        )
        .bind(state_hash)
        .bind(now())
        .fetch_optional(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(row.map(|row| ConsoleFlow {
            state_hash: row.get("state_hash"),
            browser_hash: row.get("browser_hash"),
            verifier: row.get("verifier"),
            nonce: row.get("nonce"),
            expires_at: row.get("expires_at"),
        }))
    }
}

/// A console sign-in at the admins' IdP in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleFlow {
    /// The SHA-256 of the `state` sent to the IdP.
    pub state_hash: Vec<u8>,
    /// The SHA-256 of the cookie that binds the flow to its browser.
    pub browser_hash: Vec<u8>,
    /// The PKCE verifier.
    pub verifier: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
}
