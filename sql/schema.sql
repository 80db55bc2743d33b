-- sql/schema.sql: the PostgreSQL schema of Sluice's event archive, the
-- table sluice-loader fills from RabbitMQ and sql/reports/ reads.
-- For PostgreSQL 13 or newer.
--
--     psql -v ON_ERROR_STOP=1 -d DB -f sql/schema.sql
--
-- It creates the latest schema and records every migration it contains
-- in sluice_schema_migrations. Every statement is idempotent: applying it
-- to a database that has it already changes nothing. A database made by
-- an older schema.sql is brought up to date with the files of
-- sql/migrations/ numbered above its highest recorded version, in order
-- (each of them is idempotent too, and records itself).

BEGIN;

CREATE TABLE IF NOT EXISTS sluice_schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per event, every field of the envelope in a typed column.
-- (app, id) is the key: an event id is unique within its app (the client
-- may choose it; Sluice makes a UUIDv7 otherwise), and a message delivered
-- again, or an event posted twice, is skipped by the loader's
-- INSERT ... ON CONFLICT DO NOTHING.
CREATE TABLE IF NOT EXISTS events (
    app              text        NOT NULL,
    id               text        NOT NULL,
    channel          text        NOT NULL,
    event            text        NOT NULL,
    -- The client's data; SQL NULL when the event carried none (JSON null).
    data             jsonb,
    -- When it happened: the client's timestamp corrected for the client
    -- clock's skew when it also sent sent_at, the client's timestamp when
    -- only that, else received_at.
    "timestamp"      timestamptz NOT NULL,
    -- When the gateway received it, by the gateway's clock.
    received_at      timestamptz NOT NULL,
    -- The client's own timestamp and sent_at, as sent (NULL if not sent).
    client_timestamp timestamptz,
    client_sent_at   timestamptz,
    ip               inet,
    user_agent       text,
    origin           text,
    -- How the event came in: "http" or "ws".
    source           text,
    -- When the loader committed it.
    loaded_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app, id)
);

-- The reports pick events by name over a time range (funnel, top pages)
-- or scan a time range (events per day, active users, ingestion lag).
-- Events arrive roughly in time order, so BRIN indexes on the times are
-- tiny and cheap to keep up to date.
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
