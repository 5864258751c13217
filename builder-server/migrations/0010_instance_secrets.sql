-- Secrets every replica of one site must share, by name: `preview` signs
-- the studio's preview addresses (a console page rendered by one replica
-- names frames another may serve). Created on first use.
CREATE TABLE instance_secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
