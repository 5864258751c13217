-- Tenants get an id of their own that is never reused (AUTOINCREMENT), so a
-- tenant deleted and created again under the same slug shares nothing with
-- its predecessor: not its texts, tokens, cached theme or audit log. The
-- issuer and audience are copied out of the configuration so that an
-- audience is unique per issuer: no tenant can claim tokens meant for
-- another. (A database where two tenants already share an audience on one
-- issuer stops here; change one of them first.)
CREATE TABLE tenants_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    issuer TEXT NOT NULL,
    audience TEXT NOT NULL,
    config TEXT NOT NULL,
    config_version INTEGER NOT NULL,
    theme TEXT NOT NULL,
    theme_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (issuer, audience)
) STRICT;

INSERT INTO tenants_new (slug, issuer, audience, config, config_version, theme, theme_version, created_at, updated_at)
SELECT slug, json_extract(config, '$.issuer'), json_extract(config, '$.audience'),
       config, config_version, theme, theme_version, created_at, updated_at
FROM tenants ORDER BY created_at, slug;

CREATE TABLE texts_new (
    tenant_id INTEGER NOT NULL REFERENCES tenants_new (id) ON DELETE CASCADE,
    locale TEXT NOT NULL,
    messages TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, locale)
) STRICT;

INSERT INTO texts_new (tenant_id, locale, messages, version)
SELECT tenants_new.id, texts.locale, texts.messages, texts.version
FROM texts JOIN tenants_new ON tenants_new.slug = texts.tenant;

-- Admin tokens expire, and record when they were last used (to the minute).
-- Tokens from before this migration expire 30 days after it. A revoked
-- token's row is deleted; the audit log keeps the record.
CREATE TABLE admin_tokens_new (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    tenant_id INTEGER REFERENCES tenants_new (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_used_at INTEGER
) STRICT;

INSERT INTO admin_tokens_new (id, token_hash, tenant_id, label, created_at, expires_at)
SELECT admin_tokens.id, admin_tokens.token_hash, tenants_new.id, admin_tokens.label,
       admin_tokens.created_at, CAST(strftime('%s', 'now') AS INTEGER) + 30 * 86400
FROM admin_tokens LEFT JOIN tenants_new ON tenants_new.slug = admin_tokens.tenant;

DROP TABLE texts;
DROP TABLE admin_tokens;
DROP TABLE tenants;
ALTER TABLE tenants_new RENAME TO tenants;
ALTER TABLE texts_new RENAME TO texts;
ALTER TABLE admin_tokens_new RENAME TO admin_tokens;

-- Audit rows name the tenant's id beside its slug; a tenant's log is the rows
-- of its id. Rows written before this migration belong to the current tenant
-- of their slug only from that tenant's creation on.
ALTER TABLE audit_log ADD COLUMN tenant_id INTEGER;

UPDATE audit_log SET tenant_id = (SELECT tenants.id FROM tenants WHERE tenants.slug = audit_log.tenant)
WHERE tenant IS NOT NULL
  AND id >= (SELECT COALESCE(MAX(created.id), 0) FROM audit_log AS created
             WHERE created.tenant = audit_log.tenant
               AND created.action = 'create' AND created.resource = 'tenant');

DROP INDEX audit_log_tenant;
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
