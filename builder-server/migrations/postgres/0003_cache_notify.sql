-- Replicas keep tenants and their texts in memory. A change to either
-- tells every replica: a notification on `tessera_cache` (sent when the
-- change commits) carrying "<generation> <tenant id>", and the sequence
-- `cache_generation`, which each replica polls as the safety net for a
-- notification it missed (a dropped connection, a replica starting). A
-- trigger, so that no write can forget to tell.
CREATE SEQUENCE cache_generation;

CREATE FUNCTION tessera_cache_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed_row RECORD;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed_row := OLD;
    ELSE
        changed_row := NEW;
    END IF;
    PERFORM pg_notify(
        'tessera_cache',
        nextval('cache_generation')::text || ' ' || (to_jsonb(changed_row) ->> TG_ARGV[0])
    );
    RETURN NULL;
END;
$$;

CREATE TRIGGER tenants_cache AFTER INSERT OR UPDATE OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION tessera_cache_changed('id');
CREATE TRIGGER texts_cache AFTER INSERT OR UPDATE OR DELETE ON texts
    FOR EACH ROW EXECUTE FUNCTION tessera_cache_changed('tenant_id');
