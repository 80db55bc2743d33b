-- Top pages: the pages viewed most from first_day to last_day (by default
-- the last 30 days, today included), with how many distinct users viewed
-- each. A page view is an event named page_event ("page_view" by default)
-- whose data.path (or, without one, data.url) names the page; users as in
-- daily_active_users.sql. The top_n pages are listed.
WITH params AS (
    SELECT (now() AT TIME ZONE 'UTC')::date - 29 AS first_day,
           (now() AT TIME ZONE 'UTC')::date AS last_day,
           'page_view'::text AS page_event,
           20 AS top_n
),
views AS (
    SELECT coalesce(data->>'path', data->>'url') AS page,
           coalesce(data->>'user_id',
                    host(ip) || ' ' || coalesce(user_agent, '')) AS who
    FROM events, params
    WHERE event = page_event
      AND "timestamp" >= (first_day::timestamp AT TIME ZONE 'UTC')
      AND "timestamp" < ((last_day + 1)::timestamp AT TIME ZONE 'UTC')
)
SELECT page,
       count(*) AS views,
       count(DISTINCT who) AS users
FROM views
WHERE page IS NOT NULL
GROUP BY page
ORDER BY views DESC, page
LIMIT (SELECT top_n FROM params);
