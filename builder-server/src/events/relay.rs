//! Delivers the outbox to the shops' endpoints as Standard Webhooks.
//!
//! One task per replica takes due deliveries oldest first, leased to it
//! for a while so that no other replica sends them at the same time, and
//! sends a batch side by side (the
//! store skips any whose endpoint still owes an earlier delivery for the
//! same subject, so a shop sees a subject's events in order), POSTs each signed with the
//! endpoint's secret (and, while a rotation's overlap lasts, the previous
//! one too: `webhook-signature` lists both), and records the outcome: a
//! 2xx is delivered; anything else is tried again after a growing delay
//! (10 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, then every 12 h)
//! until [`GIVE_UP_AFTER_SECONDS`], when it becomes a dead letter that an
//! admin can redeliver. A delivery is marked delivered only after the shop
//! answered, so a crash at any point sends it again rather than losing it
//! (shops recognise the repeat by its `webhook-id`).

use std::time::Duration;

use tessera_events::standard_webhooks::WebhookSecret;
use tokio::sync::Notify;

use crate::AppState;
use crate::store::{Attempt, DueDelivery, now};

/// How long a delivery is retried before it becomes a dead letter.
pub const GIVE_UP_AFTER_SECONDS: i64 = 3 * 24 * 60 * 60;

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The delays before each retry, in seconds; the last repeats.
const BACKOFF_SECONDS: [i64; 9] = [10, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600];

/// The relay's handle: wakes the task when an event was queued.
#[derive(Default)]
pub struct Relay {
    wake: Notify,
    client: std::sync::OnceLock<Option<reqwest::Client>>,
}

impl Relay {
    /// Tells the task there is something to deliver.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn client(&self) -> Option<&reqwest::Client> {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .timeout(ATTEMPT_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent("Tessera-Events/1")
                    .build()
                    .ok()
            })
            .as_ref()
    }
}

/// When to try a delivery received at `created_at` again after its
/// attempt number `attempts` failed at `now`; `None` once that would be
/// past [`GIVE_UP_AFTER_SECONDS`] (a dead letter).
pub fn retry_at(attempts: i64, created_at: i64, now: i64) -> Option<i64> {
    let next = now.saturating_add(backoff(attempts));
    (next.saturating_sub(created_at) <= GIVE_UP_AFTER_SECONDS).then_some(next)
}

/// The delay before the retry that follows attempt number `attempts`.
pub fn backoff(attempts: i64) -> i64 {
    let index = usize::try_from(attempts.saturating_sub(1)).unwrap_or(0);
    BACKOFF_SECONDS[index.min(BACKOFF_SECONDS.len() - 1)]
}

/// Runs the relay until the process ends.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let sent = deliver_due(&state).await;
            if sent > 0 {
                continue;
            }
            // Asleep until an event is queued or the next retry is due
            // (looked at again within a second, for retries queued by
            // another process or an admin's redelivery).
            let _ =
                tokio::time::timeout(Duration::from_secs(1), state.relay().wake.notified()).await;
        }
    })
}

/// How many deliveries the relay takes at once.
const BATCH: i64 = 16;

/// How long the relay holds what it took: a batch's attempts run side by
/// side, so one attempt's timeout, and a margin for recording the outcome
/// (a write may wait up to the busy timeout). A replica that dies holding
/// a batch delays it by at most this long; the deliveries are then taken by
/// another (or by itself, restarted).
const LEASE_SECONDS: i64 = ATTEMPT_TIMEOUT.as_secs() as i64 + 10;

/// Sends the deliveries due now that no other relay holds, at most
/// [`BATCH`]; answers how many it tried.
pub async fn deliver_due(state: &AppState) -> usize {
    let due = match state
        .store()
        .claim_due_deliveries(now(), BATCH, LEASE_SECONDS)
        .await
    {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!(%error, "the event outbox could not be read");
            return 0;
        }
    };
    let count = due.len();
    // Side by side: a batch holds at most one delivery per endpoint and
    // subject (the store holds back a subject's later events while an
    // earlier one is pending), so no subject's order depends on this.
    let mut attempts = tokio::task::JoinSet::new();
    for delivery in due {
        let state = state.clone();
        attempts.spawn(async move { deliver(&state, &delivery).await });
    }
    while attempts.join_next().await.is_some() {}
    count
}

/// One attempt at `delivery`, and its outcome recorded.
async fn deliver(state: &AppState, delivery: &DueDelivery) {
    let attempt = send(state, delivery).await;
    let outcome = match &attempt {
        Attempt::Delivered { .. } => "delivered",
        Attempt::Failed {
            retry_at: Some(_), ..
        } => "retrying",
        Attempt::Failed { retry_at: None, .. } => "dead",
    };
    state.metrics().record_delivery(outcome);
    if let Err(error) = state.store().record_attempt(delivery.seq, attempt).await {
        // Not recorded: it stays due and is sent again.
        tracing::warn!(%error, delivery = %delivery.id, "a delivery's outcome was not recorded");
    }
}

async fn send(state: &AppState, delivery: &DueDelivery) -> Attempt {
    let at = now();
    let failed = |status: Option<u16>, error: String| Attempt::Failed {
        status,
        error,
        retry_at: retry_at(delivery.attempts.saturating_add(1), delivery.created_at, at),
    };
    let Some(client) = state.relay().client() else {
        return failed(None, "no HTTP client could be built".into());
    };
    let mut signatures = Vec::new();
    for secret in &delivery.secrets {
        match WebhookSecret::parse(secret) {
            Ok(secret) => {
                signatures.push(secret.sign(&delivery.id, at, delivery.payload.as_bytes()))
            }
            Err(error) => {
                return failed(None, format!("the endpoint's secret is unusable: {error}"));
            }
        }
    }
    let response = client
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.id)
        .header("webhook-timestamp", at.to_string())
        .header("webhook-signature", signatures.join(" "))
        .body(delivery.payload.clone())
        .send()
        .await;
    match response {
        Ok(response) if response.status().is_success() => Attempt::Delivered {
            status: response.status().as_u16(),
        },
        Ok(response) => failed(
            Some(response.status().as_u16()),
            format!("the endpoint answered {}", response.status()),
        ),
        Err(error) => failed(None, describe(&error)),
    }
}

/// A transport failure in a few words (never a body or a secret).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "the endpoint did not answer in time".into()
    } else if error.is_connect() {
        "the endpoint could not be reached".into()
    } else {
        "the request failed".into()
    }
}
