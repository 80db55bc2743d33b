-- Events per day by name: how many events of each name happened on each
-- day (UTC days, by the event's "timestamp"), from first_day to last_day:
-- by default the last 30 days, today included. Edit params for another
-- period.
WITH params AS (
    SELECT (now() AT TIME ZONE 'UTC')::date - 29 AS first_day,
           (now() AT TIME ZONE 'UTC')::date AS last_day
)
SELECT ("timestamp" AT TIME ZONE 'UTC')::date AS day,
       event,
       count(*) AS events
FROM events, params
WHERE "timestamp" >= (first_day::timestamp AT TIME ZONE 'UTC')
  AND "timestamp" < ((last_day + 1)::timestamp AT TIME ZONE 'UTC')
GROUP BY day, event
ORDER BY day, events DESC, event;
