-- As migrations/0010_instance_secrets.sql: secrets every replica shares.
CREATE TABLE instance_secrets (
    name TEXT PRIMARY KEY,
    value BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
