-- Orders are keyed by the passport's pseudonymous `sub` and nothing else:
-- there is deliberately no column for a name, an email or an address.
CREATE TABLE orders (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    subject     TEXT    NOT NULL,
    placed_at   INTEGER NOT NULL,
    items       TEXT    NOT NULL,
    total_cents INTEGER NOT NULL
);
CREATE INDEX orders_by_subject ON orders (subject, id);

-- Webhook message ids seen within the replay window (Standard Webhooks
-- `webhook-id`), so that a captured delivery cannot be replayed.
CREATE TABLE webhook_deliveries (
    id          TEXT    PRIMARY KEY,
    received_at INTEGER NOT NULL
);
