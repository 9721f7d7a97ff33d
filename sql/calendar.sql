-- The date dimension (experience.calendar, external.calendar), and the
-- configuration tables analyzed when a build starts.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS gridflow CASCADE;
CREATE EXTENSION gridflow;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

--
-- The configuration tables, never analyzed since CREATE EXTENSION made them
-- (reltuples -1: the planner guesses their size) ...
--
-- (analyses counts autovacuum's too: column_map, which CREATE EXTENSION
-- writes more than 50 times, may meet autovacuum's threshold any time)
CREATE TEMP VIEW config_stats AS
SELECT c.relname, c.reltuples, s.n_mod_since_analyze,
       s.analyze_count + s.autoanalyze_count AS analyses
  FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
 WHERE c.relnamespace = 'gridflow'::regnamespace
   AND c.relname IN ('utility', 'source_file', 'column_map', 'channel', 'unit', 'role_utility', 'shard')
 ORDER BY c.relname;
-- (the statistics of this session's writes are sent now, not when it idles:
-- the counts below do not depend on timing)
SELECT pg_stat_force_next_flush();
SELECT relname, reltuples, n_mod_since_analyze > 0 AS changed, analyses FROM config_stats
 WHERE relname = 'utility';
-- ... are analyzed when the first build starts; a pipeline role runs it, so
-- ANALYZE runs as the owner of the extension in a security-restricted
-- operation
CREATE ROLE regress_cal_builder IN ROLE gridflow_pipeline, pg_read_server_files;
SET ROLE regress_cal_builder;
SELECT count(*) AS tables_built FROM gridflow_build() WHERE table_name IS NOT NULL;
RESET ROLE;
SELECT pg_stat_force_next_flush();
SELECT relname, reltuples, n_mod_since_analyze > 0 AS changed, analyses FROM config_stats;
-- a table changed since its last ANALYZE is analyzed again by the next
-- build, the others are not
UPDATE gridflow.utility SET description = description WHERE utility_id = 'UTILITY1';
SELECT pg_stat_force_next_flush();
SELECT relname, n_mod_since_analyze > 0 AS changed, analyses FROM config_stats WHERE relname = 'utility';
SELECT count(*) AS tables_built FROM gridflow_build() WHERE table_name IS NOT NULL;
SELECT pg_stat_force_next_flush();
SELECT relname, reltuples, n_mod_since_analyze > 0 AS changed, analyses FROM config_stats;
DROP ROLE regress_cal_builder;

--
-- The calendar: one row per time zone of the utilities and date.  Both
-- shipped utilities are in America/New_York: one zone.
--
SELECT time_zone, count(*) AS days, min(local_date), max(local_date),
       count(DISTINCT local_date) AS dates
  FROM experience.calendar GROUP BY time_zone;
-- days per year: 365, 366 in leap years
SELECT year, count(*) AS days, count(*) FILTER (WHERE is_weekend) AS weekend_days,
       count(*) FILTER (WHERE is_dst) AS dst_days,
       count(*) FILTER (WHERE us_federal_holiday IS NOT NULL) AS federal_days,
       count(*) FILTER (WHERE ny_state_holiday IS NOT NULL) AS new_york_days
  FROM experience.calendar GROUP BY year ORDER BY year;

-- The 2025 daylight-saving days in New York: the day starting daylight
-- saving time lasts 23 hours, the one ending it 25; is_dst at local noon
SELECT local_date, weekday_name, day_hours, is_dst, dst_change
  FROM experience.calendar
 WHERE local_date BETWEEN '2025-03-08' AND '2025-03-10'
    OR local_date BETWEEN '2025-11-01' AND '2025-11-03'
 ORDER BY local_date;
SELECT local_date, day_hours, dst_change FROM experience.calendar
 WHERE day_hours <> 24 AND year IN (2025, 2026) ORDER BY local_date;
-- A week: ISO weekday 1 = Monday, the weekend, Juneteenth
SELECT local_date, iso_year, iso_week, iso_dow, weekday_name, is_weekend, is_holiday
  FROM experience.calendar WHERE local_date BETWEEN '2025-06-16' AND '2025-06-22' ORDER BY 1;
-- ISO weeks across a new year: 2027-01-01 is in week 53 of 2026
SELECT local_date, year, quarter, month, month_name, day_of_month, iso_year, iso_week, weekday_name
  FROM experience.calendar WHERE local_date BETWEEN '2026-12-28' AND '2027-01-04' ORDER BY 1;

-- Every holiday from 2025 to the end of 2027, federal and New York State,
-- with the days they are observed on: federal ones on a Saturday are
-- observed on the Friday before (2026-07-03, 2027-06-18, 2027-12-24, and
-- 2027-12-31 for New Year's Day 2028), on a Sunday on the Monday after
-- (2027-07-05); New York moves Sunday holidays to Monday only
SELECT local_date, weekday_name, us_federal_holiday, ny_state_holiday, is_holiday
  FROM experience.calendar
 WHERE is_holiday AND local_date BETWEEN '2025-01-01' AND '2028-01-01'
 ORDER BY local_date;
-- every year has each holiday on its own date once: 11 federal and 13 New
-- York State ones (10 and 12 before Juneteenth, 2021); no date has two
SELECT first_year, last_year, federal, new_york, count(*) AS years
  FROM (SELECT year, min(year) OVER (PARTITION BY federal, new_york) AS first_year,
               max(year) OVER (PARTITION BY federal, new_york) AS last_year, federal, new_york
          FROM (SELECT year,
                       count(*) FILTER (WHERE us_federal_holiday NOT LIKE '%(observed)') AS federal,
                       count(*) FILTER (WHERE ny_state_holiday NOT LIKE '%(observed)') AS new_york
                  FROM experience.calendar GROUP BY year) y) z
 GROUP BY first_year, last_year, federal, new_york ORDER BY first_year;
SELECT count(*) AS dates_with_two_holidays FROM experience.calendar
 WHERE us_federal_holiday LIKE '%,%' OR ny_state_holiday LIKE '%,%';
-- is_holiday is exactly "a federal or a New York State holiday"
SELECT count(*) AS wrong FROM experience.calendar
 WHERE is_holiday IS DISTINCT FROM (us_federal_holiday IS NOT NULL OR ny_state_holiday IS NOT NULL);

--
-- Other time zones: the southern hemisphere (Sydney: daylight time ends in
-- April and starts in October), a zone without daylight time (Tokyo), one
-- whose daylight time tzdata writes as a negative offset in winter (Dublin)
-- and one that changes at midnight (Havana; the day starts at 01:00).
--
BEGIN;
INSERT INTO gridflow.utility (utility_id, time_zone, enabled) VALUES
    ('REGRESS_SYD', 'Australia/Sydney', false), ('REGRESS_TYO', 'Asia/Tokyo', false),
    ('REGRESS_DUB', 'Europe/Dublin', false), ('REGRESS_HAV', 'America/Havana', false);
SELECT time_zone, local_date, day_hours, dst_change
  FROM experience.calendar WHERE day_hours <> 24 AND year = 2025 ORDER BY time_zone, local_date;
SELECT time_zone, count(*) FILTER (WHERE is_dst) AS dst_days_2025,
       bool_or(is_dst) FILTER (WHERE local_date = '2025-01-15') AS dst_in_january,
       bool_or(is_dst) FILTER (WHERE local_date = '2025-07-15') AS dst_in_july
  FROM experience.calendar WHERE year = 2025 GROUP BY time_zone ORDER BY time_zone;
-- external.calendar computes the same rows (for the pipeline: every zone)
SELECT count(*) AS only_experience FROM (TABLE experience.calendar EXCEPT ALL TABLE external.calendar) x;
SELECT count(*) AS only_external FROM (TABLE external.calendar EXCEPT ALL TABLE experience.calendar) x;
ROLLBACK;

--
-- Readers: an internal reader sees the time zones of its utilities (row
-- security of gridflow.utility), an external one reads external.calendar
-- and nothing else.
--
BEGIN;
INSERT INTO gridflow.utility (utility_id, time_zone, enabled) VALUES ('REGRESS_TYO', 'Asia/Tokyo', false);
CREATE ROLE regress_cal_internal IN ROLE gridflow_internal;
CREATE ROLE regress_cal_tokyo IN ROLE gridflow_internal;
CREATE ROLE regress_cal_unmapped IN ROLE gridflow_internal;
CREATE ROLE regress_cal_external IN ROLE gridflow_external;
INSERT INTO gridflow.role_utility VALUES ('regress_cal_internal', 'UTILITY1'),
    ('regress_cal_tokyo', 'REGRESS_TYO'), ('regress_cal_external', 'REGRESS_TYO');
SET ROLE regress_cal_internal;
SELECT time_zone, count(*) FROM experience.calendar GROUP BY 1;
SET ROLE regress_cal_tokyo;
SELECT time_zone, count(*) FROM experience.calendar GROUP BY 1;
SET ROLE regress_cal_unmapped;
SELECT count(*) FROM experience.calendar;
SET ROLE regress_cal_external;
SELECT time_zone, count(*), count(*) FILTER (WHERE is_holiday) AS holidays FROM external.calendar GROUP BY 1;
SELECT * FROM external.calendar WHERE local_date = '2025-07-04';
SAVEPOINT denied;
SELECT count(*) FROM experience.calendar;
ROLLBACK TO denied;
SELECT count(*) FROM gridflow_store.calendar;
ROLLBACK;

--
-- What a BI tool does: daily usage joined to the calendar (through the
-- utility's time zone) for one service point and channel over a month,
-- every day of the month whether it has usage or not.
--
SELECT c.local_date, c.weekday_name, c.is_weekend, c.is_holiday, d.total_usage, d.interval_count
  FROM gridflow.utility u
  JOIN experience.calendar c ON c.time_zone = u.time_zone
  LEFT JOIN experience.daily_usage d
         ON d.utility_id = u.utility_id AND d.local_date = c.local_date
        AND d.service_point_id = 'PREM-16248064' AND d.channel = '1'
 WHERE u.utility_id = 'UTILITY2' AND c.local_date BETWEEN '2025-01-01' AND '2025-01-31'
 ORDER BY c.local_date;
-- every day of usage has its calendar row, whose day_hours is the length
-- of the day's bucket
SELECT count(*) AS days_of_usage, count(c.local_date) AS with_calendar_row,
       count(*) FILTER (WHERE c.day_hours * interval '1 hour' = d.bucket_end - d.bucket_start) AS same_length
  FROM experience.daily_usage d
  JOIN gridflow.utility u USING (utility_id)
  LEFT JOIN experience.calendar c ON c.time_zone = u.time_zone AND c.local_date = d.local_date;
-- a month of one time zone reads that month of the stored dates
EXPLAIN (COSTS OFF)
SELECT * FROM experience.calendar
 WHERE time_zone = 'America/New_York' AND local_date >= '2025-02-01' AND local_date < '2025-03-01';
