-- As migrations/0008_delivery_leases.sql: a delivery taken by one
-- replica's relay is skipped by the others until `leased_until`.
ALTER TABLE event_deliveries ADD COLUMN leased_until BIGINT;
