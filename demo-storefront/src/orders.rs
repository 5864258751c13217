//! The storefront's database: orders keyed by a pseudonymous subject, and the
//! webhook ids seen within the replay window. The only module here that
//! knows SQL.
//!
//! SQLite (a file, WAL journaling) or PostgreSQL (its own database),
//! through sqlx's `Any` driver with one SQL text for both, each with its
//! migrations embedded. Nothing here can hold personal data: the schema has
//! no column for it, and the only identifier is the passport's `sub`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row as _};

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The product's SKU.
    pub sku: String,
    /// The product's name when ordered.
    pub name: String,
    /// How many.
    pub quantity: u32,
    /// The unit price when ordered, in cents.
    pub unit_price_cents: i64,
}

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    /// The order number.
    pub id: i64,
    /// When it was placed, Unix seconds.
    pub placed_at: i64,
    /// What was ordered.
    pub items: Vec<OrderLine>,
    /// The total, in cents.
    pub total_cents: i64,
}

/// The storefront's database.
#[derive(Debug, Clone)]
pub struct Orders {
    pool: AnyPool,
}

impl Orders {
    /// Opens (creating when absent) the SQLite file at `path` and migrates
    /// it.
    pub async fn open(path: &Path) -> Result<Orders, sqlx::Error> {
        let path = std::path::absolute(path)?;
        let url = url::Url::from_file_path(&path).map_err(|()| {
            sqlx::Error::Configuration(format!("{} is not a usable path", path.display()).into())
        })?;
        // The path as the URL spells it: percent-encoded, which sqlx decodes.
        Self::connect(&format!("sqlite://{}?mode=rwc", url.path())).await
    }

    /// Connects to `url` (`sqlite://...` or `postgres://...`) and migrates
    /// the database.
    pub async fn connect(url: &str) -> Result<Orders, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let postgres = url::Url::parse(url)
            .map_err(|error| sqlx::Error::Configuration(error.into()))
            .map(|parsed| matches!(parsed.scheme(), "postgres" | "postgresql"))?;
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if !postgres {
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = NORMAL",
                            "PRAGMA busy_timeout = 5000",
                        ] {
                            sqlx::query(pragma).execute(&mut *connection).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        if postgres {
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        } else {
            sqlx::migrate!("./migrations").run(&pool).await?;
        }
        Ok(Orders { pool })
    }

    /// Closes the pool, flushing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Stores an order for `subject` and returns it.
    /// Places an order for `subject`; `None` when the subject was erased
    /// (its tombstone refuses new data, in the same statement).
    pub async fn place(
        &self,
        subject: &str,
        items: Vec<OrderLine>,
        now: i64,
    ) -> Result<Option<Order>, sqlx::Error> {
        let total_cents = order_total(&items).ok_or_else(|| {
            sqlx::Error::Encode("the order's total does not fit in 64 bits".into())
        })?;
        let text =
            serde_json::to_string(&items).map_err(|error| sqlx::Error::Encode(error.into()))?;
        let Some(row) = sqlx::query(
            "INSERT INTO orders (subject, placed_at, items, total_cents) SELECT $1, $2, $3, $4 \
             WHERE NOT EXISTS (SELECT 1 FROM subject_standing WHERE subject = $5 AND standing = 'erased') \
             RETURNING id",
        )
        .bind(subject)
        .bind(now)
        .bind(text)
        .bind(total_cents)
        .bind(subject)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        Ok(Some(Order {
            id: row.get::<i64, _>(0),
            placed_at: now,
            items,
            total_cents,
        }))
    }

    /// How the identity provider left `subject`, for a token of session
    /// `session` issued at `issued_at`.
    pub async fn standing(
        &self,
        subject: &str,
        session: Option<&str>,
        issued_at: Option<i64>,
    ) -> Result<Standing, sqlx::Error> {
        let row = sqlx::query(
            "SELECT (SELECT standing FROM subject_standing WHERE subject = $1) AS standing, \
             (SELECT ended_at FROM ended_sessions WHERE kind = 'sub' AND value = $2) AS subject_ended, \
             (SELECT 1 FROM ended_sessions WHERE kind = 'sid' AND value = $3) AS session_ended",
        )
        .bind(subject)
        .bind(subject)
        .bind(session)
        .fetch_one(&self.pool)
        .await?;
        match row.get::<Option<String>, _>("standing").as_deref() {
            Some("erased") => return Ok(Standing::Erased),
            Some("disabled") => return Ok(Standing::Disabled),
            _ => {}
        }
        let ended_for_subject = row
            .get::<Option<i64>, _>("subject_ended")
            // A token without `iat` cannot show it came after.
            .is_some_and(|ended| issued_at.is_none_or(|issued| issued <= ended));
        if ended_for_subject || row.get::<Option<i64>, _>("session_ended").is_some() {
            return Ok(Standing::SessionEnded);
        }
        Ok(Standing::Good)
    }

    /// Every order of `subject`, newest first.
    pub async fn of(&self, subject: &str) -> Result<Vec<Order>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, placed_at, items, total_cents FROM orders WHERE subject = $1 ORDER BY id DESC",
        )
        .bind(subject)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let items: String = row.get(2);
                Ok(Order {
                    id: row.get(0),
                    placed_at: row.get(1),
                    items: serde_json::from_str(&items)
                        .map_err(|error| sqlx::Error::Decode(error.into()))?,
                    total_cents: row.get(3),
                })
            })
            .collect()
    }

    /// Handles one verified webhook delivery in a single transaction:
    /// records its id (refusing a replay) and, for an erasure, deletes
    /// everything held about `erase_subject`. Ids older than `keep_seconds`
    /// are forgotten, since their timestamps are out of tolerance anyway.
    /// Because both happen in one transaction, a failed erasure leaves the id
    /// unrecorded and the sender's retry still works.
    pub async fn apply_delivery(
        &self,
        delivery_id: &str,
        action: &ShopAction,
        now: i64,
        keep_seconds: i64,
    ) -> Result<DeliveryOutcome, sqlx::Error> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE received_at < $1")
            .bind(now.saturating_sub(keep_seconds))
            .execute(&mut *transaction)
            .await?;
        let inserted =
            sqlx::query("INSERT INTO webhook_deliveries (id, received_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(delivery_id)
                .bind(now)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
        if inserted == 0 {
            return Ok(DeliveryOutcome::Replayed);
        }
        let mut erased_orders = 0;
        match action {
            ShopAction::Erase { subject } => {
                erased_orders = sqlx::query("DELETE FROM orders WHERE subject = $1")
                    .bind(subject)
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected();
                sqlx::query(
                    "INSERT INTO subject_standing (subject, standing, since) VALUES ($1, 'erased', $2) \
                     ON CONFLICT (subject) DO UPDATE SET standing = 'erased', since = excluded.since",
                )
                .bind(subject)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
            }
            // An erasure is final: disabling or enabling leaves it.
            ShopAction::Disable { subject } => {
                sqlx::query(
                    "INSERT INTO subject_standing (subject, standing, since) VALUES ($1, 'disabled', $2) \
                     ON CONFLICT (subject) DO NOTHING",
                )
                .bind(subject)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
            }
            ShopAction::Enable { subject } => {
                sqlx::query(
                    "DELETE FROM subject_standing WHERE subject = $1 AND standing = 'disabled'",
                )
                .bind(subject)
                .execute(&mut *transaction)
                .await?;
            }
            ShopAction::EndSessions {
                subject,
                session,
                at,
            } => {
                for (kind, value) in [("sub", subject), ("sid", session)] {
                    let Some(value) = value else { continue };
                    sqlx::query(
                        "INSERT INTO ended_sessions (kind, value, ended_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (kind, value) DO UPDATE SET ended_at = CASE \
                         WHEN excluded.ended_at > ended_sessions.ended_at THEN excluded.ended_at \
                         ELSE ended_sessions.ended_at END",
                    )
                    .bind(kind)
                    .bind(value)
                    .bind(at)
                    .execute(&mut *transaction)
                    .await?;
                }
            }
            ShopAction::Ignore => {}
        }
        transaction.commit().await?;
        Ok(DeliveryOutcome::Applied { erased_orders })
    }
}

/// The sum of the lines' prices, or `None` when it overflows (the handler
/// bounds quantities, but `place` is public and takes any lines).
fn order_total(items: &[OrderLine]) -> Option<i64> {
    items.iter().try_fold(0i64, |total, line| {
        line.unit_price_cents
            .checked_mul(i64::from(line.quantity))
            .and_then(|price| total.checked_add(price))
    })
}

/// What an identity-provider event asks of the shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShopAction {
    /// Delete everything held under the subject and keep a tombstone.
    Erase {
        /// The pseudonymous subject.
        subject: String,
    },
    /// Refuse the subject until enabled.
    Disable {
        /// The subject.
        subject: String,
    },
    /// Take a disabling back.
    Enable {
        /// The subject.
        subject: String,
    },
    /// Refuse the session's tokens, or the subject's issued at or before
    /// `at`.
    EndSessions {
        /// The subject, when every session of it ended.
        subject: Option<String>,
        /// The session, when one ended.
        session: Option<String>,
        /// When (Unix seconds).
        at: i64,
    },
    /// Nothing to do.
    Ignore,
}

/// How the identity provider left a subject and a token's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Nothing against it.
    Good,
    /// Erased: nothing more is kept for it.
    Erased,
    /// Disabled until enabled.
    Disabled,
    /// The token's session (or every session of the subject up to the
    /// token's issue) ended.
    SessionEnded,
}

/// What [`Orders::apply_delivery`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The id was new; `erased_orders` orders were deleted.
    Applied {
        /// How many orders were erased (0 when there were none, or the
        /// event was not an erasure).
        erased_orders: u64,
    },
    /// The id was delivered before; nothing changed.
    Replayed,
}
