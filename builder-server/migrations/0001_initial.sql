-- Tenants with their configuration and theme, each versioned on its own so
-- that editing one never conflicts with editing the other.
CREATE TABLE tenants (
    slug TEXT PRIMARY KEY NOT NULL,
    config TEXT NOT NULL,
    config_version INTEGER NOT NULL,
    theme TEXT NOT NULL,
    theme_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Per-locale text overrides of a tenant.
CREATE TABLE texts (
    tenant TEXT NOT NULL REFERENCES tenants (slug) ON DELETE CASCADE,
    locale TEXT NOT NULL,
    messages TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (tenant, locale)
) STRICT;

-- Admin API tokens, stored as SHA-256 hashes; tenant NULL means all tenants.
CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    tenant TEXT REFERENCES tenants (slug) ON DELETE CASCADE,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- One row for every change: who, what, before and after, when.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    tenant TEXT,
    resource TEXT NOT NULL,
    before TEXT,
    after TEXT
) STRICT;

CREATE INDEX audit_log_tenant ON audit_log (tenant, id);
