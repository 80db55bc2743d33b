-- Daily active users: how many distinct users sent at least one event on
-- each day (UTC days, by the event's "timestamp"), from first_day to
-- last_day (by default the last 30 days, today included).
--
-- A user is the event's data.user_id when it has one (identified users);
-- an event without it counts as an anonymous visitor, told apart by its ip
-- and user agent. Events with neither count no one.
WITH params AS (
    SELECT (now() AT TIME ZONE 'UTC')::date - 29 AS first_day,
           (now() AT TIME ZONE 'UTC')::date AS last_day
),
active AS (
    SELECT ("timestamp" AT TIME ZONE 'UTC')::date AS day,
           data->>'user_id' AS user_id,
           CASE WHEN data->>'user_id' IS NULL AND ip IS NOT NULL
                THEN host(ip) || ' ' || coalesce(user_agent, '')
           END AS visitor
    FROM events, params
    WHERE "timestamp" >= (first_day::timestamp AT TIME ZONE 'UTC')
      AND "timestamp" < ((last_day + 1)::timestamp AT TIME ZONE 'UTC')
)
SELECT day,
       count(DISTINCT user_id) + count(DISTINCT visitor) AS active_users,
       count(DISTINCT user_id) AS identified_users,
       count(DISTINCT visitor) AS anonymous_visitors
FROM active
GROUP BY day
ORDER BY day;
