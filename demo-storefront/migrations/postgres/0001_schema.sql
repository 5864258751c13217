-- The storefront's schema on PostgreSQL: the same tables and columns as
-- migrations/0001_orders.sql and 0002_subject_standing.sql leave on
-- SQLite (see those for what each holds). No column for personal data.
CREATE TABLE orders (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject     TEXT   NOT NULL,
    placed_at   BIGINT NOT NULL,
    items       TEXT   NOT NULL,
    total_cents BIGINT NOT NULL
);
CREATE INDEX orders_by_subject ON orders (subject, id);

CREATE TABLE webhook_deliveries (
    id          TEXT   PRIMARY KEY,
    received_at BIGINT NOT NULL
);

CREATE TABLE subject_standing (
    subject  TEXT   PRIMARY KEY,
    standing TEXT   NOT NULL CHECK (standing IN ('erased', 'disabled')),
    since    BIGINT NOT NULL
);

CREATE TABLE ended_sessions (
    kind     TEXT   NOT NULL CHECK (kind IN ('sid', 'sub')),
    value    TEXT   NOT NULL,
    ended_at BIGINT NOT NULL,
    PRIMARY KEY (kind, value)
);
