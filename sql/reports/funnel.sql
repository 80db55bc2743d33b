-- A three-step funnel: of the users who did step1, how many then did
-- step2, and of those how many then did step3, from first_day to last_day
-- (by default the last 30 days, today included). "Then" means at or after
-- the time they first reached the previous step, by the events'
-- "timestamp". Users as in daily_active_users.sql. Edit params for other
-- steps (event names) or another period.
WITH params AS (
    SELECT (now() AT TIME ZONE 'UTC')::date - 29 AS first_day,
           (now() AT TIME ZONE 'UTC')::date AS last_day,
           'page_view'::text AS step1,
           'signup_started'::text AS step2,
           'signup_completed'::text AS step3
),
steps AS (
    SELECT coalesce(data->>'user_id',
                    host(ip) || ' ' || coalesce(user_agent, '')) AS who,
           event,
           "timestamp" AS at
    FROM events, params
    WHERE event IN (step1, step2, step3)
      AND "timestamp" >= (first_day::timestamp AT TIME ZONE 'UTC')
      AND "timestamp" < ((last_day + 1)::timestamp AT TIME ZONE 'UTC')
),
reached1 AS (
    SELECT s.who, min(s.at) AS at
    FROM steps s, params p
    WHERE s.event = p.step1 AND s.who IS NOT NULL
    GROUP BY s.who
),
reached2 AS (
    SELECT r.who, min(s.at) AS at
    FROM reached1 r
    JOIN steps s ON s.who = r.who AND s.at >= r.at
    JOIN params p ON s.event = p.step2
    GROUP BY r.who
),
reached3 AS (
    SELECT r.who, min(s.at) AS at
    FROM reached2 r
    JOIN steps s ON s.who = r.who AND s.at >= r.at
    JOIN params p ON s.event = p.step3
    GROUP BY r.who
),
funnel AS (
    SELECT 1 AS step, step1 AS event, (SELECT count(*) FROM reached1) AS users
    FROM params
    UNION ALL
    SELECT 2, step2, (SELECT count(*) FROM reached2) FROM params
    UNION ALL
    SELECT 3, step3, (SELECT count(*) FROM reached3) FROM params
)
SELECT step,
       event,
       users,
       round(100.0 * users /
             nullif(first_value(users) OVER (ORDER BY step), 0), 1)
           AS pct_of_step1,
       round(100.0 * users /
             nullif(lag(users) OVER (ORDER BY step), 0), 1)
           AS pct_of_previous
FROM funnel
ORDER BY step;
