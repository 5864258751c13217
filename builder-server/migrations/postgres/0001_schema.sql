-- The builder's schema on PostgreSQL: the same tables, columns and rules as
-- the SQLite migrations 0001 to 0007 leave (`migrations/*.sql`), written
-- once for a fresh database. Unix seconds and counters are BIGINT, ids that
-- are never reused are identity columns, secrets' hashes and font files
-- are BYTEA, JSON documents stay TEXT (the store reads and writes them
-- whole). sqlx applies it under an advisory lock, so replicas starting
-- together apply it once.

CREATE TABLE tenants (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    issuer TEXT NOT NULL,
    audience TEXT NOT NULL,
    config TEXT NOT NULL,
    config_version BIGINT NOT NULL,
    theme TEXT NOT NULL,
    theme_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    published_revision BIGINT NOT NULL DEFAULT 1,
    UNIQUE (issuer, audience)
);

CREATE TABLE texts (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    locale TEXT NOT NULL,
    messages TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, locale)
);

CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY,
    token_hash BYTEA NOT NULL UNIQUE,
    tenant_id BIGINT REFERENCES tenants (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    tenant TEXT,
    resource TEXT NOT NULL,
    before TEXT,
    after TEXT,
    tenant_id BIGINT
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);

CREATE TABLE console_links (
    token_hash BYTEA PRIMARY KEY,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE console_sessions (
    id_hash BYTEA PRIMARY KEY,
    csrf TEXT NOT NULL,
    subject TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

CREATE TABLE console_flows (
    state_hash BYTEA PRIMARY KEY,
    browser_hash BYTEA NOT NULL,
    verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE design_revisions (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    theme TEXT NOT NULL,
    texts TEXT NOT NULL,
    author TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, number)
);

CREATE TABLE font_files (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    author TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, digest)
);

CREATE TABLE event_sources (
    id TEXT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    format TEXT NOT NULL,
    secret TEXT,
    issuer TEXT,
    audience TEXT,
    subjects TEXT NOT NULL,
    pairwise_secret TEXT,
    sector TEXT,
    created_at BIGINT NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    duplicates BIGINT NOT NULL DEFAULT 0,
    refused BIGINT NOT NULL DEFAULT 0,
    last_received_at BIGINT,
    last_refusal TEXT
);

CREATE TABLE event_receipts (
    source_id TEXT NOT NULL REFERENCES event_sources (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (source_id, key)
);

CREATE TABLE event_endpoints (
    id TEXT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE event_deliveries (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    endpoint_id TEXT NOT NULL REFERENCES event_endpoints (id) ON DELETE CASCADE,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX event_deliveries_due ON event_deliveries (state, next_attempt_at);
CREATE INDEX event_deliveries_order ON event_deliveries (endpoint_id, subject, state, seq);
