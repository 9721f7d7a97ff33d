--
-- The calendar: a date dimension for BI tools.  experience.calendar has one
-- row per (time_zone, local_date) for each distinct time zone of
-- gridflow.utility and every date from 2000-01-01 to 2050-12-31; a tool
-- joins experience.daily_usage to it on the utility's time zone and
-- local_date.  What a date is (its year, week, weekday, holidays) is the
-- same in every zone and stored once, in gridflow_store.calendar, filled
-- here; what depends on the zone (the length of the local day, daylight
-- saving time) is computed by the view from PostgreSQL's time zone
-- database, so it is right for any zone a utility is given.  This file
-- comes after 60_privileges.sql, which creates the roles it grants to.
--
-- Holidays, as the law names them (no day off given by a proclamation or
-- an executive order for one year only, such as 2024-12-24, is listed):
--
--   US federal (5 U.S.C. 6103(a)): New Year's Day (1 January), Martin
--   Luther King Jr. Day (third Monday of January), Washington's Birthday
--   (third Monday of February), Memorial Day (last Monday of May),
--   Juneteenth (19 June, from 2021), Independence Day (4 July), Labor Day
--   (first Monday of September), Columbus Day (second Monday of October),
--   Veterans Day (11 November), Thanksgiving Day (fourth Thursday of
--   November), Christmas Day (25 December).  Inauguration Day is a holiday
--   in the Washington, DC area only and is left out.  Observed dates
--   (5 U.S.C. 6103(b), Executive Order 11582): a holiday on a Saturday is
--   observed on the Friday before, one on a Sunday on the Monday after; so
--   New Year's Day of a year that starts on a Saturday is observed on
--   31 December of the year before (2027-12-31 for 2028).
--
--   New York State (General Construction Law section 24 and the Civil
--   Service attendance rules, 4 NYCRR 21.1): the federal list, plus
--   Lincoln's Birthday (12 February) and Election Day (the general
--   election: the Tuesday after the first Monday of November); Juneteenth
--   from 2021, when the law made it a holiday.  Observed dates: a holiday
--   on a Sunday is observed on the Monday after; one on a Saturday is not
--   moved (state employees are credited a day of holiday leave instead).
--   Flag Day (second Sunday of June), a public holiday of section 24 that
--   is never a day off, is left out.
--
-- A holiday is named on its own date, and, when it is observed on another
-- day, on that day too with " (observed)" after its name; is_holiday is
-- true on both.
--
CREATE TABLE gridflow_store.calendar (
    local_date date PRIMARY KEY,
    year integer NOT NULL,
    quarter integer NOT NULL,
    month integer NOT NULL,
    month_name text NOT NULL,
    day_of_month integer NOT NULL,
    iso_year integer NOT NULL,
    iso_week integer NOT NULL,
    iso_dow integer NOT NULL,
    weekday_name text NOT NULL,
    is_weekend boolean NOT NULL,
    us_federal_holiday text,
    ny_state_holiday text,
    is_holiday boolean NOT NULL
);
COMMENT ON TABLE gridflow_store.calendar IS 'Storage of experience.calendar: one row per date from 2000-01-01 to 2050-12-31 with what the date is in any time zone (year, week, weekday, US federal and New York State holidays); filled when the extension is installed';
COMMENT ON COLUMN gridflow_store.calendar.local_date IS 'The date';
COMMENT ON COLUMN gridflow_store.calendar.year IS 'Calendar year';
COMMENT ON COLUMN gridflow_store.calendar.quarter IS 'Quarter of the year, 1 to 4';
COMMENT ON COLUMN gridflow_store.calendar.month IS 'Month, 1 to 12';
COMMENT ON COLUMN gridflow_store.calendar.month_name IS 'Name of the month in English (January ... December)';
COMMENT ON COLUMN gridflow_store.calendar.day_of_month IS 'Day of the month, 1 to 31';
COMMENT ON COLUMN gridflow_store.calendar.iso_year IS 'ISO 8601 week-numbering year: the year iso_week belongs to (2026 for 2027-01-01)';
COMMENT ON COLUMN gridflow_store.calendar.iso_week IS 'ISO 8601 week of iso_year, 1 to 53 (weeks start on Monday; week 1 holds the year''s first Thursday)';
COMMENT ON COLUMN gridflow_store.calendar.iso_dow IS 'ISO 8601 day of the week: 1 = Monday ... 7 = Sunday';
COMMENT ON COLUMN gridflow_store.calendar.weekday_name IS 'Name of the day of the week in English (Monday ... Sunday)';
COMMENT ON COLUMN gridflow_store.calendar.is_weekend IS 'Saturday or Sunday';
COMMENT ON COLUMN gridflow_store.calendar.us_federal_holiday IS 'US federal holiday on this date (5 U.S.C. 6103): its name, with " (observed)" on the Friday before a Saturday holiday and the Monday after a Sunday one; NULL on other days';
COMMENT ON COLUMN gridflow_store.calendar.ny_state_holiday IS 'New York State holiday on this date (General Construction Law section 24 as the state observes it: the federal ones, Lincoln''s Birthday and Election Day; Flag Day left out): its name, with " (observed)" on the Monday after a Sunday holiday (Saturday holidays are not moved); NULL on other days';
COMMENT ON COLUMN gridflow_store.calendar.is_holiday IS 'A US federal or New York State holiday, on its own date or observed';

INSERT INTO gridflow_store.calendar
WITH rule (name, month, day_of_month, iso_dow, nth, federal, new_york, since) AS (
    -- nth > 0: the nth iso_dow of the month; nth = -1: the last one;
    -- day_of_month: a fixed date
    VALUES ('New Year''s Day', 1, 1, NULL, NULL, true, true, NULL),
           ('Martin Luther King Jr. Day', 1, NULL, 1, 3, true, true, NULL),
           ('Lincoln''s Birthday', 2, 12, NULL, NULL, false, true, NULL),
           ('Washington''s Birthday', 2, NULL, 1, 3, true, true, NULL),
           ('Memorial Day', 5, NULL, 1, -1, true, true, NULL),
           ('Juneteenth', 6, 19, NULL, NULL, true, true, 2021),
           ('Independence Day', 7, 4, NULL, NULL, true, true, NULL),
           ('Labor Day', 9, NULL, 1, 1, true, true, NULL),
           ('Columbus Day', 10, NULL, 1, 2, true, true, NULL),
           -- the Tuesday after the first Monday: the first Monday, plus one
           ('Election Day', 11, NULL, 1, 1, false, true, NULL),
           ('Veterans Day', 11, 11, NULL, NULL, true, true, NULL),
           ('Thanksgiving Day', 11, NULL, 4, 4, true, true, NULL),
           ('Christmas Day', 12, 25, NULL, NULL, true, true, NULL)
), holiday AS (
    SELECT r.name, r.federal, r.new_york,
           r.day_of_month IS NOT NULL AS fixed,
           -- (OPERATOR() constructs all bind alike, left to right: hence
           -- the parentheses)
           CASE
               WHEN r.day_of_month IS NOT NULL THEN
                   pg_catalog.make_date(y.y, r.month, r.day_of_month)
               WHEN r.nth OPERATOR(pg_catalog.>) 0 THEN
                   f.first OPERATOR(pg_catalog.+)
                   ((((r.iso_dow OPERATOR(pg_catalog.-) pg_catalog.date_part('isodow', f.first)::integer)
                      OPERATOR(pg_catalog.+) 7) OPERATOR(pg_catalog.%) 7)
                    OPERATOR(pg_catalog.+) (7 OPERATOR(pg_catalog.*) (r.nth OPERATOR(pg_catalog.-) 1)))
               ELSE
                   f.last OPERATOR(pg_catalog.-)
                   (((pg_catalog.date_part('isodow', f.last)::integer OPERATOR(pg_catalog.-) r.iso_dow)
                     OPERATOR(pg_catalog.+) 7) OPERATOR(pg_catalog.%) 7)
           END OPERATOR(pg_catalog.+)
           (CASE WHEN r.name OPERATOR(pg_catalog.=) 'Election Day' THEN 1 ELSE 0 END) AS day
      FROM rule r
     -- a year's New Year's Day can be observed in the year before
     CROSS JOIN pg_catalog.generate_series(2000, 2051) AS y(y)
     -- the first and the last day of the month
     CROSS JOIN LATERAL (
           SELECT pg_catalog.make_date(y.y, r.month, 1) AS first,
                  (pg_catalog.make_date(y.y, r.month, 1) OPERATOR(pg_catalog.+) interval '1 month')::date
                      OPERATOR(pg_catalog.-) 1 AS last) f
     WHERE r.since IS NULL OR y.y OPERATOR(pg_catalog.>=) r.since
), dated AS (
    -- each holiday on its own date, and on the day it is observed if that
    -- is another one
    SELECT h.day AS local_date, h.name,
           h.federal, h.new_york
      FROM holiday h
    UNION ALL
    SELECT CASE pg_catalog.date_part('isodow', h.day)::integer
               WHEN 6 THEN h.day OPERATOR(pg_catalog.-) 1
               ELSE h.day OPERATOR(pg_catalog.+) 1 END,
           h.name OPERATOR(pg_catalog.||) ' (observed)',
           h.federal,
           h.new_york AND pg_catalog.date_part('isodow', h.day)::integer OPERATOR(pg_catalog.=) 7
      FROM holiday h
     WHERE h.fixed AND pg_catalog.date_part('isodow', h.day)::integer OPERATOR(pg_catalog.>=) 6
), named AS (
    SELECT d.local_date,
           pg_catalog.string_agg(d.name, ', ' ORDER BY d.name) FILTER (WHERE d.federal) AS federal,
           pg_catalog.string_agg(d.name, ', ' ORDER BY d.name) FILTER (WHERE d.new_york) AS new_york
      FROM dated d
     GROUP BY d.local_date
)
SELECT g.d::date,
       pg_catalog.date_part('year', g.d)::integer,
       pg_catalog.date_part('quarter', g.d)::integer,
       pg_catalog.date_part('month', g.d)::integer,
       pg_catalog.to_char(g.d, 'FMMonth'),
       pg_catalog.date_part('day', g.d)::integer,
       pg_catalog.date_part('isoyear', g.d)::integer,
       pg_catalog.date_part('week', g.d)::integer,
       pg_catalog.date_part('isodow', g.d)::integer,
       pg_catalog.to_char(g.d, 'FMDay'),
       pg_catalog.date_part('isodow', g.d)::integer OPERATOR(pg_catalog.>=) 6,
       n.federal,
       n.new_york,
       n.federal IS NOT NULL OR n.new_york IS NOT NULL
  FROM pg_catalog.generate_series('2000-01-01'::timestamp, '2050-12-31'::timestamp, interval '1 day') AS g(d)
  LEFT JOIN named n ON n.local_date OPERATOR(pg_catalog.=) g.d::date
 ORDER BY 1;
-- its statistics from the start (the table never changes)
ANALYZE gridflow_store.calendar;

--
-- The views: the stored dates in each time zone of the utilities the
-- reader may read.  Times of a zone are PostgreSQL's (pg_timezone_names):
-- the local day runs from its local midnight to the next, as timestamp AT
-- TIME ZONE reads them (as experience.daily_usage's buckets do).  Daylight
-- saving time is in effect when the UTC offset (the local wall clock minus
-- UTC's) is above the zone's standard offset, taken as the smaller of the
-- offsets at local noon on 1 January and on 1 July of the year: a zone's
-- summer time is its daylight time in both hemispheres, whatever sign
-- tzdata gives the change (Europe/Dublin); in a year in which a zone
-- changes its standard offset for good, days of that year may read as
-- daylight time.  Daylight saving time starts on a day shorter than 24
-- hours that ends in it, and ends on a day longer than 24 hours that
-- starts in it; a day whose length changes with the standard offset is
-- neither.
--
-- experience.calendar runs with its reader's rights (security_invoker, as
-- the layer views do): the row-level security of gridflow.utility gives
-- the zones of the reader's utilities, and a role mapped to no utility sees
-- no rows.
--
CREATE VIEW experience.calendar WITH (security_invoker = true) AS
SELECT z.time_zone,
       c.local_date,
       c.year,
       c.quarter,
       c.month,
       c.month_name,
       c.day_of_month,
       c.iso_year,
       c.iso_week,
       c.iso_dow,
       c.weekday_name,
       c.is_weekend,
       c.us_federal_holiday,
       c.ny_state_holiday,
       c.is_holiday,
       (pg_catalog.date_part('epoch', t.length) OPERATOR(pg_catalog./) 3600)::numeric(4,2) AS day_hours,
       o.noon OPERATOR(pg_catalog.>) o.standard AS is_dst,
       CASE WHEN t.length OPERATOR(pg_catalog.<) interval '24 hours'
                 AND o.day_end OPERATOR(pg_catalog.>) o.standard THEN 'start'
            WHEN t.length OPERATOR(pg_catalog.>) interval '24 hours'
                 AND o.day_start OPERATOR(pg_catalog.>) o.standard THEN 'end'
       END AS dst_change
  FROM (SELECT DISTINCT u.time_zone FROM gridflow.utility u) z
 CROSS JOIN gridflow_store.calendar c
 -- the instants that start and end the local day, its local noon, and
 -- local noon on 1 January and 1 July
 CROSS JOIN LATERAL (
       SELECT pg_catalog.timezone(z.time_zone, c.local_date::timestamp) AS day_start,
              pg_catalog.timezone(z.time_zone, (c.local_date OPERATOR(pg_catalog.+) 1)::timestamp) AS day_end,
              pg_catalog.timezone(z.time_zone, c.local_date OPERATOR(pg_catalog.+) time '12:00') AS noon,
              pg_catalog.timezone(z.time_zone, pg_catalog.make_date(c.year, 1, 1) OPERATOR(pg_catalog.+) time '12:00') AS january,
              pg_catalog.timezone(z.time_zone, pg_catalog.make_date(c.year, 7, 1) OPERATOR(pg_catalog.+) time '12:00') AS july) i
 CROSS JOIN LATERAL (SELECT i.day_end OPERATOR(pg_catalog.-) i.day_start AS length) t
 -- the UTC offsets at those instants
 CROSS JOIN LATERAL (
       SELECT pg_catalog.timezone(z.time_zone, i.day_start) OPERATOR(pg_catalog.-) pg_catalog.timezone('UTC', i.day_start) AS day_start,
              pg_catalog.timezone(z.time_zone, i.day_end) OPERATOR(pg_catalog.-) pg_catalog.timezone('UTC', i.day_end) AS day_end,
              pg_catalog.timezone(z.time_zone, i.noon) OPERATOR(pg_catalog.-) pg_catalog.timezone('UTC', i.noon) AS noon,
              LEAST(pg_catalog.timezone(z.time_zone, i.january) OPERATOR(pg_catalog.-) pg_catalog.timezone('UTC', i.january),
                    pg_catalog.timezone(z.time_zone, i.july) OPERATOR(pg_catalog.-) pg_catalog.timezone('UTC', i.july)) AS standard) o;
COMMENT ON VIEW experience.calendar IS 'Date dimension (grain: one row per time_zone, local_date): every date from 2000-01-01 to 2050-12-31 in each time zone of the reader''s utilities (gridflow.utility.time_zone, as configured), with its year, quarter, month, ISO week and weekday, US federal and New York State holidays with their observed days, the length of the local day and daylight saving time; join experience.daily_usage to it on the utility''s time zone and local_date';
COMMENT ON COLUMN experience.calendar.time_zone IS 'IANA time zone, as gridflow.utility.time_zone gives it';
COMMENT ON COLUMN experience.calendar.local_date IS 'The local date in time_zone';
COMMENT ON COLUMN experience.calendar.year IS 'Calendar year';
COMMENT ON COLUMN experience.calendar.quarter IS 'Quarter of the year, 1 to 4';
COMMENT ON COLUMN experience.calendar.month IS 'Month, 1 to 12';
COMMENT ON COLUMN experience.calendar.month_name IS 'Name of the month in English (January ... December)';
COMMENT ON COLUMN experience.calendar.day_of_month IS 'Day of the month, 1 to 31';
COMMENT ON COLUMN experience.calendar.iso_year IS 'ISO 8601 week-numbering year: the year iso_week belongs to (2026 for 2027-01-01)';
COMMENT ON COLUMN experience.calendar.iso_week IS 'ISO 8601 week of iso_year, 1 to 53 (weeks start on Monday; week 1 holds the year''s first Thursday)';
COMMENT ON COLUMN experience.calendar.iso_dow IS 'ISO 8601 day of the week: 1 = Monday ... 7 = Sunday';
COMMENT ON COLUMN experience.calendar.weekday_name IS 'Name of the day of the week in English (Monday ... Sunday)';
COMMENT ON COLUMN experience.calendar.is_weekend IS 'Saturday or Sunday';
COMMENT ON COLUMN experience.calendar.us_federal_holiday IS 'US federal holiday on this date (5 U.S.C. 6103): its name, with " (observed)" on the Friday before a Saturday holiday and the Monday after a Sunday one; NULL on other days';
COMMENT ON COLUMN experience.calendar.ny_state_holiday IS 'New York State holiday on this date (General Construction Law section 24 as the state observes it: the federal ones, Lincoln''s Birthday and Election Day; Flag Day left out): its name, with " (observed)" on the Monday after a Sunday holiday (Saturday holidays are not moved); NULL on other days';
COMMENT ON COLUMN experience.calendar.is_holiday IS 'A US federal or New York State holiday, on its own date or observed';
COMMENT ON COLUMN experience.calendar.day_hours IS 'Length of the local day in hours, from local midnight to the next: 24, or 23 and 25 on the days daylight saving time starts and ends (bucket_end - bucket_start of experience.daily_usage)';
COMMENT ON COLUMN experience.calendar.is_dst IS 'Daylight saving time is in effect at local noon (the UTC offset is above the smaller of the offsets at local noon on 1 January and 1 July of the year)';
COMMENT ON COLUMN experience.calendar.dst_change IS 'start: daylight saving time starts during the day (the clocks go forward, a short day); end: it ends (they go back, a long day); NULL on other days';

--
-- External readers, who cannot read gridflow.utility: the same columns,
-- computed alike (keep the two views the same: the calendar test compares
-- them), in the time zones of the utilities mapped to the reader.  Like
-- the other external views it runs with its owner's rights, filters the
-- utilities itself and is a security barrier.
--
CREATE VIEW external.calendar WITH (security_barrier = true) AS
SELECT z.time_zone,
       c.local_date,
       c.year,
       c.quarter,
       c.month,
       c.month_name,
       c.day_of_month,
       c.iso_year,
       c.iso_week,
       c.iso_dow,
       c.weekday_name,
       c.is_weekend,
       c.us_federal_holiday,
       c.ny_state_holiday,
       c.is_holiday,
       (pg_catalog.date_part('epoch', t.length) OPERATOR(pg_catalog./) 3600)::numeric(4,2) AS day_hours,
       o.noon OPERATOR(pg_catalog.>) o.standard AS is_dst,
       CASE WHEN t.length OPERATOR(pg_catalog.<) interval '24 hours'
                 AND o.day_end OPERATOR(pg_catalog.>) o.standard THEN 'start'
            WHEN t.length OPERATOR(pg_catalog.>) interval '24 hours'
                 AND o.day_start OPERATOR(pg_catalog.>) o.standard THEN 'end'
       END AS dst_change
  FROM (SELECT DISTINCT u.time_zone
          FROM gridflow.utility u
         WHERE (SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
            OR u.utility_id OPERATOR(pg_catalog.=) ANY (
                   SELECT m.utility_id
                     FROM gridflow.role_utility m
                     JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
                    WHERE pg_catalog.pg_has_role(r.oid, 'USAGE'))) z
 CROSS JOIN gridflow_store.calendar c
 CROSS JOIN LATERAL (
       SELECT pg_catalog.timezone(z.time_zone, c.local_date::timestamp) AS day_start,
              pg_catalog.timezone(z.time_zone, (c.local_date OPERATOR(pg_catalog.+) 1)::timestamp) AS day_end,
              pg_catalog.timezone(z.time_zone, c.local_date OPERATOR(pg_catalog.+) time '12:00') AS noon,
              pg_catalog.timezone(z.time_zone, pg_catalog.make_date(c.year, 1, 1) OPERATOR(pg_catalog.+) time '12:00') AS january,
              pg_catalog.timezone(z.time_zone, pg_catalog.make_date(c.year, 7, 1) OPERATOR(pg_catalog.+) time '12:00') AS july) i
 CROSS JOIN LATERAL (SELECT i.day_end OPERATOR(pg_catalog.-) i.day_start AS length) t
 CROSS JOIN LATERAL (
       SELECT pg_catalog.timezone(z.time_zone, i.day_start) OPERATOR(pg_catalog.-) pg_catalog.timezone('UTC', i.day_start) AS day_start,
              pg_catalog.timezone(z.time_zone, i.day_end) OPERATOR(pg_catalog.-) pg_catalog.timezone('UTC', i.day_end) AS day_end,
              pg_catalog.timezone(z.time_zone, i.noon) OPERATOR(pg_catalog.-) pg_catalog.timezone('UTC', i.noon) AS noon,
              LEAST(pg_catalog.timezone(z.time_zone, i.january) OPERATOR(pg_catalog.-) pg_catalog.timezone('UTC', i.january),
                    pg_catalog.timezone(z.time_zone, i.july) OPERATOR(pg_catalog.-) pg_catalog.timezone('UTC', i.july)) AS standard) o;
COMMENT ON VIEW external.calendar IS 'experience.calendar for external readers (grain: one row per time_zone, local_date): the dates in the time zones of the reader''s utilities';
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS comment
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) 'experience.calendar'::regclass
           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN external.calendar.%I IS %L', c.attname, c.comment);
    END LOOP;
END
$$;

--
-- Who reads it: internal readers and the pipeline read experience.calendar
-- (with their rights, hence also the table behind it), external readers
-- their view.
--
GRANT SELECT ON experience.calendar, gridflow_store.calendar TO gridflow_internal, gridflow_pipeline;
GRANT SELECT ON external.calendar TO gridflow_external;
