-- sql/migrations/0001_events.sql: version 1, the events table and its
-- indexes (the first schema: a database with no sluice_schema_migrations
-- table starts here). Idempotent, like every migration.
--
-- A migration file is named NNNN_what.sql, its number one above the
-- previous one's; it runs in one transaction, uses IF NOT EXISTS (or
-- checks the catalogs) so that running it twice does nothing, and ends by
-- recording its version in sluice_schema_migrations. sql/schema.sql always
-- holds the result of every migration, for new databases.

BEGIN;

CREATE TABLE IF NOT EXISTS sluice_schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS events (
    app              text        NOT NULL,
    id               text        NOT NULL,
    channel          text        NOT NULL,
    event            text        NOT NULL,
    data             jsonb,
    "timestamp"      timestamptz NOT NULL,
    received_at      timestamptz NOT NULL,
    client_timestamp timestamptz,
    client_sent_at   timestamptz,
    ip               inet,
    user_agent       text,
    origin           text,
    source           text,
    loaded_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app, id)
);

CREATE INDEX IF NOT EXISTS events_event_timestamp_idx
    ON events (event, "timestamp");
CREATE INDEX IF NOT EXISTS events_timestamp_brin
    ON events USING brin ("timestamp");
CREATE INDEX IF NOT EXISTS events_received_at_brin
    ON events USING brin (received_at);

INSERT INTO sluice_schema_migrations (version, name)
    VALUES (1, 'events')
    ON CONFLICT (version) DO NOTHING;

COMMIT;
