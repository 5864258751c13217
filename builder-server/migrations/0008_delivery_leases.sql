-- A delivery taken by a relay is leased to it until `leased_until` (Unix
-- seconds): another relay (another replica) skips it until then, so two
-- never send one delivery at the same time, and a relay that died holding
-- it lets it go when the lease runs out. Recording the attempt ends it.
ALTER TABLE event_deliveries ADD COLUMN leased_until INTEGER;
