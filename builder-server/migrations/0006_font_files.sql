-- A tenant's own font files (WOFF2), named by the SHA-256 of their bytes.
-- Themes name them by digest, so a revision stays small and a file never
-- changes under its name; files are never deleted while the tenant lives
-- (an older revision, published again, still finds its fonts).
CREATE TABLE font_files (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    bytes BLOB NOT NULL,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, digest)
) STRICT;
