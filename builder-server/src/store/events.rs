//! Identity-provider events: a tenant's event sources (where its IdP's
//! events arrive), the receipts that recognise a redelivery, its shop
//! endpoints, and the outbox of deliveries to them.
//!
//! Receiving is one transaction: the receipt (refused as a duplicate if
//! its key was seen), one delivery per endpoint, the source's counters and
//! an audit row; the IdP is answered only after it commits, so an
//! acknowledged event survives a crash. The relay (`events/relay.rs`) takes
//! due deliveries oldest first, never one whose endpoint still owes an
//! earlier delivery for the same subject, so each shop sees a subject's
//! events in order.
//!
//! What it is not: verification or HTTP. Secrets are stored as given and
//! only ever read back by the receiver and the relay.

use serde::Serialize;
use sqlx::Row as _;
use tessera_events::{Event, Format};

use super::{Audit, Store, StoreError, TenantId, now, to_json};

/// How a source's user ids become the shop's `sub`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectMapping {
    /// The IdP's user id is the shop's `sub`.
    Public,
    /// The shop's `sub` is the pairwise one: base64url of the first 20
    /// bytes of HMAC-SHA256(pairwise secret, `<sector>` NUL `<user id>`).
    Pairwise,
}

impl SubjectMapping {
    fn name(self) -> &'static str {
        match self {
            SubjectMapping::Public => "public",
            SubjectMapping::Pairwise => "pairwise",
        }
    }
}

/// An event source as the API shows it (never its secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EventSource {
    /// `src_` and 12 hex digits: the last segment of its receiving URL.
    pub id: String,
    /// A name for admins.
    pub label: String,
    /// The format its IdP sends (`logto`, `zitadel`, `keycloak`,
    /// `back-channel-logout`, `shared-signals`, `standard-webhooks`).
    pub format: String,
    /// The issuer whose keys sign its tokens (JWT formats).
    pub issuer: Option<String>,
    /// The audience its tokens must name (JWT formats).
    pub audience: Option<String>,
    /// How its user ids become the shop's `sub`.
    pub subjects: SubjectMapping,
    /// The pairwise sector (with `pairwise` subjects).
    pub sector: Option<String>,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// Events accepted, redeliveries recognised, and requests refused.
    pub received: i64,
    /// Redeliveries recognised (answered 2xx, acted on once).
    pub duplicates: i64,
    /// Requests refused.
    pub refused: i64,
    /// When an event was last accepted.
    pub last_received_at: Option<i64>,
    /// The code of the last refusal (`event_signature_invalid`...).
    pub last_refusal: Option<String>,
}

/// What creating a source needs.
#[derive(Debug, Clone)]
pub struct NewEventSource {
    /// A name for admins.
    pub label: String,
    /// Its format.
    pub format: Format,
    /// The IdP's signing key (HMAC formats).
    pub secret: Option<String>,
    /// The issuer and audience (JWT formats).
    pub issuer: Option<String>,
    /// The audience.
    pub audience: Option<String>,
    /// The subject mapping.
    pub subjects: SubjectMapping,
    /// With `pairwise`: the secret (base64url) and the sector.
    pub pairwise_secret: Option<String>,
    /// The sector.
    pub sector: Option<String>,
}

/// A source with what verifying and mapping its events needs.
#[derive(Debug, Clone)]
pub struct ReceivingSource {
    /// The source as shown.
    pub source: EventSource,
    /// Its format.
    pub format: Format,
    /// Its tenant's id and slug.
    pub tenant: (TenantId, String),
    /// The IdP's signing key.
    pub secret: Option<String>,
    /// The pairwise secret.
    pub pairwise_secret: Option<String>,
}

/// A shop endpoint as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EventEndpoint {
    /// `ep_` and 12 hex digits.
    pub id: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// When it was created.
    pub created_at: i64,
    /// Until when deliveries are also signed with the previous secret.
    pub previous_secret_until: Option<i64>,
    /// Deliveries waiting (including retries), delivered, and given up.
    pub pending: i64,
    /// Delivered.
    pub delivered: i64,
    /// Given up after retrying (dead letters): redeliver them by hand.
    pub dead: i64,
    /// The last attempt's HTTP status, if any.
    pub last_status: Option<i64>,
    /// The last attempt's failure, if it failed.
    pub last_error: Option<String>,
}

/// One delivery in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EventDelivery {
    /// `msg_` and 24 hex digits: the `webhook-id` the shop receives.
    pub id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The shop's `sub` it concerns.
    pub subject: String,
    /// `user.deleted`, `user.disabled`, `user.enabled`,
    /// `session.revoked`, `user.updated`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (pending).
    pub next_attempt_at: i64,
    /// The last attempt's HTTP status.
    pub last_status: Option<i64>,
    /// The last attempt's failure.
    pub last_error: Option<String>,
    /// When the event was received.
    pub created_at: i64,
    /// When the shop acknowledged it.
    pub delivered_at: Option<i64>,
}

/// A delivery the relay sends now.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    /// Its row.
    pub seq: i64,
    /// `webhook-id`.
    pub id: String,
    /// The endpoint's URL.
    pub url: String,
    /// The `whsec_` secrets to sign with (the current, and the previous
    /// while its overlap lasts).
    pub secrets: Vec<String>,
    /// The body.
    pub payload: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When the event was received.
    pub created_at: i64,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// The shop answered 2xx.
    Delivered {
        /// The status.
        status: u16,
    },
    /// It did not: try again at `retry_at`, or give up (`None`).
    Failed {
        /// The status, if the shop answered.
        status: Option<u16>,
        /// What went wrong, without the body.
        error: String,
        /// When to try again.
        retry_at: Option<i64>,
    },
}

/// What receiving an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// New: `deliveries` were queued.
    Accepted {
        /// How many.
        deliveries: usize,
    },
    /// Its key was seen before: nothing was done again.
    Duplicate,
}

fn source_of(row: &sqlx::any::AnyRow) -> EventSource {
    EventSource {
        id: row.get("id"),
        label: row.get("label"),
        format: row.get("format"),
        issuer: row.get("issuer"),
        audience: row.get("audience"),
        subjects: if row.get::<&str, _>("subjects") == "pairwise" {
            SubjectMapping::Pairwise
        } else {
            SubjectMapping::Public
        },
        sector: row.get("sector"),
        created_at: row.get("created_at"),
        received: row.get("received"),
        duplicates: row.get("duplicates"),
        refused: row.get("refused"),
        last_received_at: row.get("last_received_at"),
        last_refusal: row.get("last_refusal"),
    }
}

fn delivery_of(row: &sqlx::any::AnyRow) -> EventDelivery {
    EventDelivery {
        id: row.get("id"),
        endpoint_id: row.get("endpoint_id"),
        subject: row.get("subject"),
        kind: row.get("type"),
        state: row.get("state"),
        attempts: row.get("attempts"),
        next_attempt_at: row.get("next_attempt_at"),
        last_status: row.get("last_status"),
        last_error: row.get("last_error"),
        created_at: row.get("created_at"),
        delivered_at: row.get("delivered_at"),
    }
}

const SOURCE_COLUMNS: &str = "event_sources.id, event_sources.label, event_sources.format, \
     event_sources.issuer, event_sources.audience, event_sources.subjects, event_sources.sector, \
     event_sources.created_at, event_sources.received, event_sources.duplicates, \
     event_sources.refused, event_sources.last_received_at, event_sources.last_refusal";

impl Store {
    /// Adds an event source to the tenant; `id` is its new id.
    pub async fn create_event_source(
        &self,
        actor: &str,
        slug: &str,
        id: &str,
        source: NewEventSource,
    ) -> Result<EventSource, StoreError> {
        let (store, actor, slug, id) = (
            self.clone(),
            actor.to_owned(),
            slug.to_owned(),
            id.to_owned(),
        );
        self.detached(None, async move {
            let mut transaction = store.begin_write().await?;
            let tenant = Self::tenant_id(&mut transaction, &slug).await?;
            sqlx::query(
                "INSERT INTO event_sources (id, tenant_id, label, format, secret, issuer, audience, \
                 subjects, pairwise_secret, sector, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&id)
            .bind(tenant.0)
            .bind(&source.label)
            .bind(source.format.name())
            .bind(&source.secret)
            .bind(&source.issuer)
            .bind(&source.audience)
            .bind(source.subjects.name())
            .bind(&source.pairwise_secret)
            .bind(&source.sector)
            .bind(now())
            .execute(&mut *transaction)
            .await?;
            Audit {
                actor: &actor,
                action: "create",
                tenant: Some((tenant, &slug)),
                resource: "event_source",
                before: None,
                after: Some(to_json(&serde_json::json!({
                    "id": id, "format": source.format.name(), "label": source.label,
                }))?),
            }
            .write(&mut transaction)
            .await?;
            let row = sqlx::query(&format!(
                "SELECT {SOURCE_COLUMNS} FROM event_sources WHERE id = $1"
            ))
            .bind(&id)
            .fetch_one(&mut *transaction)
            .await?;
            transaction.commit().await?;
            Ok(source_of(&row))
        })
        .await
    }

    /// The tenant's event sources.
    pub async fn event_sources(&self, slug: &str) -> Result<Vec<EventSource>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        let tenant = Self::tenant_id(&mut connection, slug).await?;
        let rows = sqlx::query(&format!(
            "SELECT {SOURCE_COLUMNS} FROM event_sources WHERE tenant_id = $1 ORDER BY created_at, id"
        ))
        .bind(tenant.0)
        .fetch_all(&mut *connection)
        .await?;
        Ok(rows.iter().map(source_of).collect())
    }

    /// The source `id`, with its secrets, for receiving.
    pub async fn receiving_source(&self, id: &str) -> Result<Option<ReceivingSource>, StoreError> {
        let Some(row) = sqlx::query(&format!(
            "SELECT {SOURCE_COLUMNS}, event_sources.secret, pairwise_secret, tenants.id AS tenant_id, \
             tenants.slug FROM event_sources JOIN tenants ON tenants.id = event_sources.tenant_id \
             WHERE event_sources.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let source = source_of(&row);
        let Some(format) = Format::from_name(&source.format) else {
            return Ok(None);
        };
        Ok(Some(ReceivingSource {
            format,
            tenant: (TenantId(row.get("tenant_id")), row.get("slug")),
            secret: row.get("secret"),
            pairwise_secret: row.get("pairwise_secret"),
            source,
        }))
    }

    /// Removes an event source; its receipts go with it.
    pub async fn delete_event_source(
        &self,
        actor: &str,
        slug: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        self.delete_event_row(actor, slug, id, "event_sources", "event_source")
            .await
    }

    async fn delete_event_row(
        &self,
        actor: &str,
        slug: &str,
        id: &str,
        table: &'static str,
        resource: &'static str,
    ) -> Result<(), StoreError> {
        let (store, actor, slug, id) = (
            self.clone(),
            actor.to_owned(),
            slug.to_owned(),
            id.to_owned(),
        );
        self.detached(None, async move {
            let mut transaction = store.begin_write().await?;
            let tenant = Self::tenant_id(&mut transaction, &slug).await?;
            // `table` is one of two literals, never input.
            let deleted = sqlx::query(&format!(
                "DELETE FROM {table} WHERE id = $1 AND tenant_id = $2"
            ))
            .bind(&id)
            .bind(tenant.0)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound(format!(
                    "tenant `{slug}` has no {} `{id}`",
                    resource.replace('_', " ")
                )));
            }
            Audit {
                actor: &actor,
                action: "delete",
                tenant: Some((tenant, &slug)),
                resource,
                before: Some(to_json(&serde_json::json!({ "id": id }))?),
                after: None,
            }
            .write(&mut transaction)
            .await?;
            transaction.commit().await?;
            Ok(())
        })
        .await
    }

    /// Counts a refused request at the source, keeping only its code.
    pub async fn note_event_refusal(&self, id: &str, code: &str) -> Result<(), StoreError> {
        let (store, id, code) = (self.clone(), id.to_owned(), code.to_owned());
        self.detached(None, async move {
            sqlx::query(
                "UPDATE event_sources SET refused = refused + 1, last_refusal = $1 WHERE id = $2",
            )
            .bind(&code)
            .bind(&id)
            .execute(&store.pool)
            .await?;
            Ok(())
        })
        .await
    }

    /// Receives a verified event of `source` under `key`: unless the key
    /// was seen, records it and queues one delivery of `shop_event` (its
    /// type and body) per endpoint of the tenant, in one transaction.
    pub async fn receive_event(
        &self,
        source: &ReceivingSource,
        key: &str,
        event: &Event,
        delivery: Option<(&str, &str, String)>,
    ) -> Result<Receipt, StoreError> {
        let (store, source_id, tenant, key) = (
            self.clone(),
            source.source.id.clone(),
            source.tenant.clone(),
            key.to_owned(),
        );
        let (event, delivery) = (
            event.clone(),
            delivery.map(|(kind, subject, body)| (kind.to_owned(), subject.to_owned(), body)),
        );
        self.detached(None, async move {
            let at = now();
            let mut transaction = store.begin_write().await?;
            let fresh = sqlx::query(
                "INSERT INTO event_receipts (source_id, key, received_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&source_id)
            .bind(&key)
            .bind(at)
            .execute(&mut *transaction)
            .await?
            .rows_affected()
                > 0;
            if !fresh {
                sqlx::query("UPDATE event_sources SET duplicates = duplicates + 1 WHERE id = $1")
                    .bind(&source_id)
                    .execute(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                return Ok(Receipt::Duplicate);
            }
            let mut queued = 0;
            if let Some((kind, subject, body)) = &delivery {
                let endpoints: Vec<String> =
                    sqlx::query("SELECT id FROM event_endpoints WHERE tenant_id = $1 ORDER BY id")
                        .bind(tenant.0.0)
                        .fetch_all(&mut *transaction)
                        .await?
                        .iter()
                        .map(|row| row.get("id"))
                        .collect();
                for endpoint in &endpoints {
                    // One id per receipt and endpoint: the `webhook-id`
                    // every attempt of this delivery carries.
                    let digest = ring::digest::digest(
                        &ring::digest::SHA256,
                        format!("{source_id}\0{key}\0{endpoint}").as_bytes(),
                    );
                    let id = format!("msg_{}", crate::http::hex(&digest.as_ref()[..12]));
                    sqlx::query(
                        "INSERT INTO event_deliveries (id, endpoint_id, tenant_id, subject, type, payload, \
                         state, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)",
                    )
                    .bind(&id)
                    .bind(endpoint)
                    .bind(tenant.0.0)
                    .bind(subject)
                    .bind(kind)
                    .bind(body)
                    .bind(at)
                    .bind(at)
                    .execute(&mut *transaction)
                    .await?;
                }
                queued = endpoints.len();
            }
            sqlx::query(
                "UPDATE event_sources SET received = received + 1, last_received_at = $1 WHERE id = $2",
            )
            .bind(at)
            .bind(&source_id)
            .execute(&mut *transaction)
            .await?;
            Audit {
                actor: &format!("event-source:{source_id}"),
                action: "receive",
                tenant: Some((tenant.0, &tenant.1)),
                resource: "event",
                before: None,
                after: Some(to_json(&serde_json::json!({
                    "action": event.action,
                    "source_type": event.source_type,
                    "type": delivery.as_ref().map(|(kind, _, _)| kind),
                    "deliveries": queued,
                }))?),
            }
            .write(&mut transaction)
            .await?;
            transaction.commit().await?;
            Ok(Receipt::Accepted { deliveries: queued })
        })
        .await
    }

    /// Adds a shop endpoint with the `whsec_` `secret`.
    pub async fn create_event_endpoint(
        &self,
        actor: &str,
        slug: &str,
        id: &str,
        url: &str,
        secret: &str,
    ) -> Result<EventEndpoint, StoreError> {
        let (store, actor, url, secret) = (
            self.clone(),
            actor.to_owned(),
            url.to_owned(),
            secret.to_owned(),
        );
        let (slug_owned, id_owned) = (slug.to_owned(), id.to_owned());
        self.detached(None, async move {
            let (slug, id) = (slug_owned, id_owned);
            let mut transaction = store.begin_write().await?;
            let tenant = Self::tenant_id(&mut transaction, &slug).await?;
            sqlx::query(
                "INSERT INTO event_endpoints (id, tenant_id, url, secret, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&id)
            .bind(tenant.0)
            .bind(&url)
            .bind(&secret)
            .bind(now())
            .execute(&mut *transaction)
            .await?;
            Audit {
                actor: &actor,
                action: "create",
                tenant: Some((tenant, &slug)),
                resource: "event_endpoint",
                before: None,
                after: Some(to_json(&serde_json::json!({ "id": id, "url": url }))?),
            }
            .write(&mut transaction)
            .await?;
            transaction.commit().await?;
            Ok(())
        })
        .await?;
        self.event_endpoints(slug)
            .await?
            .into_iter()
            .find(|endpoint| endpoint.id == id)
            .ok_or_else(|| StoreError::NotFound(format!("no event endpoint `{id}`")))
    }

    /// The tenant's shop endpoints, with their deliveries' counts.
    pub async fn event_endpoints(&self, slug: &str) -> Result<Vec<EventEndpoint>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        let tenant = Self::tenant_id(&mut connection, slug).await?;
        let rows = sqlx::query(
            "SELECT e.id, e.url, e.created_at, e.previous_until, \
             (SELECT COUNT(*) FROM event_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'pending') AS pending, \
             (SELECT COUNT(*) FROM event_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'delivered') AS delivered, \
             (SELECT COUNT(*) FROM event_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'dead') AS dead, \
             (SELECT d.last_status FROM event_deliveries d WHERE d.endpoint_id = e.id AND d.attempts > 0 \
              ORDER BY COALESCE(d.delivered_at, d.next_attempt_at) DESC LIMIT 1) AS last_status, \
             (SELECT d.last_error FROM event_deliveries d WHERE d.endpoint_id = e.id AND d.attempts > 0 \
              ORDER BY COALESCE(d.delivered_at, d.next_attempt_at) DESC LIMIT 1) AS last_error \
             FROM event_endpoints e WHERE e.tenant_id = $1 ORDER BY e.created_at, e.id",
        )
        .bind(tenant.0)
        .fetch_all(&mut *connection)
        .await?;
        let at = now();
        Ok(rows
            .iter()
            .map(|row| EventEndpoint {
                id: row.get("id"),
                url: row.get("url"),
                created_at: row.get("created_at"),
                previous_secret_until: row
                    .get::<Option<i64>, _>("previous_until")
                    .filter(|until| *until > at),
                pending: row.get("pending"),
                delivered: row.get("delivered"),
                dead: row.get("dead"),
                last_status: row.get("last_status"),
                last_error: row.get("last_error"),
            })
            .collect())
    }

    /// Replaces an endpoint's secret with `secret`; deliveries are signed
    /// with the old one too until `overlap_until`.
    pub async fn rotate_event_endpoint_secret(
        &self,
        actor: &str,
        slug: &str,
        id: &str,
        secret: &str,
        overlap_until: i64,
    ) -> Result<(), StoreError> {
        let (store, actor, slug, id, secret) = (
            self.clone(),
            actor.to_owned(),
            slug.to_owned(),
            id.to_owned(),
            secret.to_owned(),
        );
        self.detached(None, async move {
            let mut transaction = store.begin_write().await?;
            let tenant = Self::tenant_id(&mut transaction, &slug).await?;
            let changed = sqlx::query(
                "UPDATE event_endpoints SET previous_secret = secret, previous_until = $1, secret = $2 \
                 WHERE id = $3 AND tenant_id = $4",
            )
            .bind(overlap_until)
            .bind(&secret)
            .bind(&id)
            .bind(tenant.0)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound(format!(
                    "tenant `{slug}` has no event endpoint `{id}`"
                )));
            }
            Audit {
                actor: &actor,
                action: "rotate",
                tenant: Some((tenant, &slug)),
                resource: "event_endpoint",
                before: None,
                after: Some(to_json(
                    &serde_json::json!({ "id": id, "previous_until": overlap_until }),
                )?),
            }
            .write(&mut transaction)
            .await?;
            transaction.commit().await?;
            Ok(())
        })
        .await
    }

    /// Removes a shop endpoint and its deliveries.
    pub async fn delete_event_endpoint(
        &self,
        actor: &str,
        slug: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        self.delete_event_row(actor, slug, id, "event_endpoints", "event_endpoint")
            .await
    }

    /// The tenant's deliveries, newest first; `state` filters.
    pub async fn event_deliveries(
        &self,
        slug: &str,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<EventDelivery>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        let tenant = Self::tenant_id(&mut connection, slug).await?;
        let rows = sqlx::query(
            "SELECT id, endpoint_id, subject, type, state, attempts, next_attempt_at, last_status, \
             last_error, created_at, delivered_at FROM event_deliveries \
             WHERE tenant_id = $1 AND ($2 IS NULL OR state = $3) ORDER BY seq DESC LIMIT $4",
        )
        .bind(tenant.0)
        .bind(state)
        .bind(state)
        .bind(limit)
        .fetch_all(&mut *connection)
        .await?;
        Ok(rows.iter().map(delivery_of).collect())
    }

    /// Takes up to `limit` deliveries due at `at`, oldest first, for
    /// `lease_seconds`: another relay (another replica) skips them until
    /// the attempt is recorded or the lease runs out (its holder died), so
    /// no delivery is sent twice at the same time. The taking runs under
    /// the write lock, which makes it one step on every replica. A delivery
    /// waits while its endpoint owes an earlier one for the same subject,
    /// leased or not, so a shop sees a subject's events in order.
    pub async fn claim_due_deliveries(
        &self,
        at: i64,
        limit: i64,
        lease_seconds: i64,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let store = self.clone();
        self.detached(None, async move {
            let mut transaction = store.begin_write().await?;
            let rows = sqlx::query(
                "SELECT d.seq, d.id, d.payload, d.attempts, d.created_at, e.url, e.secret, \
                 e.previous_secret, e.previous_until \
                 FROM event_deliveries d JOIN event_endpoints e ON e.id = d.endpoint_id \
                 WHERE d.state = 'pending' AND d.next_attempt_at <= $1 \
                 AND (d.leased_until IS NULL OR d.leased_until <= $1) \
                 AND NOT EXISTS (SELECT 1 FROM event_deliveries earlier \
                     WHERE earlier.endpoint_id = d.endpoint_id AND earlier.subject = d.subject \
                     AND earlier.state = 'pending' AND earlier.seq < d.seq) \
                 ORDER BY d.seq LIMIT $2",
            )
            .bind(at)
            .bind(limit)
            .fetch_all(&mut *transaction)
            .await?;
            let mut due = Vec::with_capacity(rows.len());
            for row in rows {
                let seq: i64 = row.get("seq");
                sqlx::query("UPDATE event_deliveries SET leased_until = $1 WHERE seq = $2")
                    .bind(at.saturating_add(lease_seconds))
                    .bind(seq)
                    .execute(&mut *transaction)
                    .await?;
                let mut secrets = vec![row.get::<String, _>("secret")];
                if let (Some(previous), Some(until)) = (
                    row.get::<Option<String>, _>("previous_secret"),
                    row.get::<Option<i64>, _>("previous_until"),
                ) && until > at
                {
                    secrets.push(previous);
                }
                due.push(DueDelivery {
                    seq,
                    id: row.get("id"),
                    url: row.get("url"),
                    secrets,
                    payload: row.get("payload"),
                    attempts: row.get("attempts"),
                    created_at: row.get("created_at"),
                });
            }
            transaction.commit().await?;
            Ok(due)
        })
        .await
    }

    /// When the earliest pending delivery is due, if any.
    pub async fn next_delivery_due(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query(
            "SELECT MIN(next_attempt_at) AS due FROM event_deliveries WHERE state = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?
        .get("due"))
    }

    /// Records how an attempt at delivery `seq` ended.
    pub async fn record_attempt(&self, seq: i64, attempt: Attempt) -> Result<(), StoreError> {
        let store = self.clone();
        self.detached(None, async move {
            let at = now();
            match attempt {
                Attempt::Delivered { status } => {
                    sqlx::query(
                        "UPDATE event_deliveries SET state = 'delivered', attempts = attempts + 1, \
                         last_status = $1, last_error = NULL, delivered_at = $2, leased_until = NULL \
                         WHERE seq = $3",
                    )
                    .bind(i64::from(status))
                    .bind(at)
                    .bind(seq)
                    .execute(&store.pool)
                    .await?;
                }
                Attempt::Failed {
                    status,
                    error,
                    retry_at,
                } => {
                    sqlx::query(
                        "UPDATE event_deliveries SET state = $1, attempts = attempts + 1, \
                         last_status = $2, last_error = $3, next_attempt_at = $4, leased_until = NULL \
                         WHERE seq = $5",
                    )
                    .bind(if retry_at.is_some() {
                        "pending"
                    } else {
                        "dead"
                    })
                    .bind(status.map(i64::from))
                    .bind(&error)
                    .bind(retry_at.unwrap_or(at))
                    .bind(seq)
                    .execute(&store.pool)
                    .await?;
                }
            }
            Ok(())
        })
        .await
    }

    /// Queues delivery `id` again now (a dead letter, or one to hurry).
    pub async fn redeliver(&self, actor: &str, slug: &str, id: &str) -> Result<(), StoreError> {
        let (store, actor, slug, id) = (
            self.clone(),
            actor.to_owned(),
            slug.to_owned(),
            id.to_owned(),
        );
        self.detached(None, async move {
            let mut transaction = store.begin_write().await?;
            let tenant = Self::tenant_id(&mut transaction, &slug).await?;
            let changed = sqlx::query(
                // A lease still held (an attempt in flight) is left to run
                // out, so the delivery is never sent twice at once.
                "UPDATE event_deliveries SET state = 'pending', next_attempt_at = $1 \
                 WHERE id = $2 AND tenant_id = $3",
            )
            .bind(now())
            .bind(&id)
            .bind(tenant.0)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound(format!(
                    "tenant `{slug}` has no delivery `{id}`"
                )));
            }
            Audit {
                actor: &actor,
                action: "redeliver",
                tenant: Some((tenant, &slug)),
                resource: "event_delivery",
                before: None,
                after: Some(to_json(&serde_json::json!({ "id": id }))?),
            }
            .write(&mut transaction)
            .await?;
            transaction.commit().await?;
            Ok(())
        })
        .await
    }
}
