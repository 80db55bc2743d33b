-- Ingestion lag: how long events took from happening on the client to
-- reaching the gateway (received_at minus the client's timestamp), as
-- percentiles in seconds for each day (UTC, by received_at) and for the
-- whole period (the row whose day is empty), from first_day to last_day
-- (by default the last 30 days, today included). Only events that carry a
-- client timestamp count. The event's "timestamp" is used: the client's
-- timestamp, corrected for the client clock's skew when the client also
-- sent sent_at (then the lag is how long the client held the event before
-- sending it); without sent_at the lag includes the client clock's skew.
-- Percentiles are continuous (interpolated, as percentile_cont).
WITH params AS (
    SELECT (now() AT TIME ZONE 'UTC')::date - 29 AS first_day,
           (now() AT TIME ZONE 'UTC')::date AS last_day
),
lag AS (
    SELECT (received_at AT TIME ZONE 'UTC')::date AS day,
           extract(epoch FROM received_at - "timestamp") AS seconds
    FROM events, params
    WHERE client_timestamp IS NOT NULL
      AND received_at >= (first_day::timestamp AT TIME ZONE 'UTC')
      AND received_at < ((last_day + 1)::timestamp AT TIME ZONE 'UTC')
)
SELECT day,
       count(*) AS events,
       round(percentile_cont(0.50) WITHIN GROUP (ORDER BY seconds)::numeric,
             3) AS p50,
       round(percentile_cont(0.90) WITHIN GROUP (ORDER BY seconds)::numeric,
             3) AS p90,
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY seconds)::numeric,
             3) AS p99,
       round(max(seconds)::numeric, 3) AS max
FROM lag
GROUP BY GROUPING SETS ((day), ())
ORDER BY day NULLS LAST;
