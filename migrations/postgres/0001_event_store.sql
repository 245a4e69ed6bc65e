-- The event store, in the exact shape eventsourcing 9.5's PostgreSQL recorders expect
-- for an application named "RenewalLedger" (started with CREATE_TABLE=no). Objects
-- are created in the schema on the search path (the URL's ?schema=, default public).
DO $$
BEGIN
    CREATE TYPE stored_event_uuid AS (
        originator_id uuid,
        originator_version bigint,
        topic text,
        state bytea
    );
EXCEPTION WHEN duplicate_object THEN NULL;
END
$$;

CREATE TABLE IF NOT EXISTS renewalledger_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
) WITH (
    autovacuum_enabled = true,
    autovacuum_vacuum_threshold = 100000000,
    autovacuum_vacuum_scale_factor = 0.5,
    autovacuum_analyze_threshold = 1000,
    autovacuum_analyze_scale_factor = 0.01
);

CREATE UNIQUE INDEX IF NOT EXISTS renewalledger_events_notification_id_idx
    ON renewalledger_events (notification_id ASC);

CREATE TABLE IF NOT EXISTS renewalledger_snapshots (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    PRIMARY KEY (originator_id, originator_version)
);
