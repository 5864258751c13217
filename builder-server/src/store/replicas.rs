//! Keeping one replica's caches in step with the others' writes, on
//! PostgreSQL.
//!
//! Every change to `tenants` or `texts` fires a trigger (migration
//! `postgres/0003_cache_notify.sql`) that advances the sequence
//! `cache_generation` and notifies `tessera_cache` with the new generation
//! and the tenant's id when the change commits. Each replica listens and
//! forgets that tenant at once (within milliseconds), and polls the
//! sequence twice a second as the safety net: a generation it has not
//! heard of (a notification lost with a dropped connection, or one in
//! flight) makes it forget everything. So a write on one replica is served
//! by every other within a second, whatever happens to the listening
//! connection. Forgetting goes through the same generation counter as a
//! local write, so a cache fill that raced the remote write is not kept.
//!
//! What it is not: the writes' own invalidation. A replica forgets what it
//! wrote itself right after the commit, as on SQLite.

use std::time::Duration;

use sqlx::postgres::PgListener;

use super::{Store, TenantId};

/// The channel the trigger notifies.
const CHANNEL: &str = "tessera_cache";

/// How often the sequence is polled.
const POLL: Duration = Duration::from_millis(500);

/// How long to wait before listening again after the connection failed.
const RECONNECT: Duration = Duration::from_secs(1);

/// Follows the other replicas' writes until the store is closed.
pub(super) fn follow(store: Store, url: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut heard: i64 = 0;
        let mut listener: Option<PgListener> = None;
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !store.pool.is_closed() {
            if listener.is_none() {
                listener = listen(&url).await;
                // Whatever changed while nobody listened is unknown.
                store.forget_everything();
            }
            let notification = async {
                match listener.as_mut() {
                    Some(listener) => listener.try_recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                received = notification => match received {
                    Ok(Some(notification)) => {
                        match parse(notification.payload()) {
                            Some((generation, tenant)) => {
                                heard = heard.max(generation);
                                store.forget_tenant(tenant);
                            }
                            None => store.forget_everything(),
                        }
                    }
                    // The connection dropped (it reconnects on the next
                    // call): notifications may have been missed.
                    Ok(None) => store.forget_everything(),
                    Err(error) => {
                        tracing::warn!(%error, "lost the database's cache notifications; listening again");
                        listener = None;
                        store.forget_everything();
                        tokio::time::sleep(RECONNECT).await;
                    }
                },
                _ = poll.tick() => {
                    if store.pool.is_closed() {
                        break;
                    }
                    match store.cache_generation().await {
                        Ok(generation) if generation > heard => {
                            heard = generation;
                            store.forget_everything();
                        }
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "cannot read the cache generation"),
                    }
                }
            }
        }
    })
}

async fn listen(url: &str) -> Option<PgListener> {
    let connected = async {
        let mut listener = PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        Ok::<_, sqlx::Error>(listener)
    };
    match connected.await {
        Ok(listener) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "cannot listen for the database's cache notifications");
            tokio::time::sleep(RECONNECT).await;
            None
        }
    }
}

/// `"<generation> <tenant id>"`, as the trigger sends it.
fn parse(payload: &str) -> Option<(i64, TenantId)> {
    let (generation, tenant) = payload.split_once(' ')?;
    Some((generation.parse().ok()?, TenantId(tenant.parse().ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_read_strictly() {
        assert_eq!(parse("12 7"), Some((12, TenantId(7))));
        for bad in ["", "12", "12 ", "x 7", "12 seven", "12 7 8"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
