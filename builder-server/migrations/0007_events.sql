-- Identity-provider events: where they arrive (sources), what was already
-- received (receipts, the replay keys), where they go (a tenant's shop
-- endpoints), and the outbox of deliveries to those endpoints. A received
-- event's receipt and its deliveries are written in one transaction before
-- the IdP is answered, so nothing acknowledged is lost.
CREATE TABLE event_sources (
    id TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    format TEXT NOT NULL,
    -- The IdP's signing key (HMAC formats); never shown again.
    secret TEXT,
    -- The issuer whose keys sign (JWT formats) and the audience expected.
    issuer TEXT,
    audience TEXT,
    -- `public` or `pairwise` (HMAC formats: the IdP's user id is mapped to
    -- the shop's pairwise `sub` with `pairwise_secret` and `sector`).
    subjects TEXT NOT NULL,
    pairwise_secret TEXT,
    sector TEXT,
    created_at INTEGER NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    refused INTEGER NOT NULL DEFAULT 0,
    last_received_at INTEGER,
    last_refusal TEXT
) STRICT;

CREATE TABLE event_receipts (
    source_id TEXT NOT NULL REFERENCES event_sources (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (source_id, key)
) STRICT;

CREATE TABLE event_endpoints (
    id TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    -- `whsec_` secrets: the current one, and the one before it while its
    -- overlap lasts (deliveries are signed with both).
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until INTEGER,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE event_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    endpoint_id TEXT NOT NULL REFERENCES event_endpoints (id) ON DELETE CASCADE,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
) STRICT;

CREATE INDEX event_deliveries_due ON event_deliveries (state, next_attempt_at);
CREATE INDEX event_deliveries_order ON event_deliveries (endpoint_id, subject, state, seq);
