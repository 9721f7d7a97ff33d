-- Green Button (NAESB ESPI) export: gridflow.green_button() on hand-made
-- reads of utility GBX (America/New_York), read back with xpath(): the
-- feed's entries, the LocalTimeParameters of the utility's zone, a
-- ReadingType per meter and channel, one IntervalBlock per local day (92
-- quarter-hours on the spring-forward day, 100 on the fall-back day),
-- every IntervalReading equal to its read, quality codes (the utility's
-- own ESPI codes carried through), flow directions, row-level security;
-- the import of the export, to the same reads, qualities and directions.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS gridflow CASCADE;
CREATE EXTENSION gridflow;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- ESPI's time parameters of a few zones: standard offset, daylight-saving
-- offset, and the rules (New York: second Sunday of March at 02:00, first
-- Sunday of November at 02:00, as Green Button files write them; Paris:
-- last Sundays of March at 02:00 and of October at 03:00; Sydney: first
-- Sundays of October and April; UTC and Tokyo: none)
SELECT z.zone, p.*
  FROM (VALUES ('America/New_York'), ('America/Los_Angeles'), ('Europe/Paris'), ('Australia/Sydney'),
               ('UTC'), ('Asia/Tokyo')) z(zone)
 CROSS JOIN LATERAL gridflow.espi_time_parameters(z.zone, 2025) p;
-- the rule decoded: month, operator (2-5: first to fourth, 7: last), ISO
-- weekday, hour
SELECT r.rule, (('x' || r.rule)::bit(32)::bigint >> 28) & 15 AS month,
       (('x' || r.rule)::bit(32)::bigint >> 25) & 7 AS operator,
       (('x' || r.rule)::bit(32)::bigint >> 17) & 7 AS weekday,
       (('x' || r.rule)::bit(32)::bigint >> 12) & 31 AS hour,
       ('x' || r.rule)::bit(32)::bigint & 4095 AS seconds
  FROM (VALUES ('360E2000'), ('B40E2000'), ('3E0E2000'), ('AE0E3000')) r(rule);
-- the ESPI codes of the common units
SELECT u.unit, e.* FROM (VALUES ('kWh'), ('kvarh'), ('kW'), ('kvar'), ('therm'), (NULL)) u(unit)
 CROSS JOIN LATERAL gridflow.espi_unit(u.unit) e;

--
-- The reads: service point S1, meter M1, quarter-hours of kWh on four
-- local days (2025-03-08, the spring-forward 2025-03-09, 2025-11-01, the
-- fall-back 2025-11-02), values of up to four decimals (so that whole
-- tenths of Wh keep them: powerOfTenMultiplier -1), two of them negative;
-- the same quarter-hours received from the customer (KWH-R-15, a reverse
-- channel); and hours of kvarh on the same days, in whole varh.  The
-- utility sends ESPI quality codes (quality_scheme espi): 0 valid, 8 and
-- 9 estimated, 10 questionable, on both daylight-saving days (the hour
-- after the spring-forward gap, both 01:15 of the fall-back day); one
-- negative read is sent as valid (0) and another as an estimate (9).
--
CREATE TEMP TABLE gb_read AS
SELECT 'S1' AS sp, 'M1' AS meter, 'KWH-15' AS channel, t AS start, 900 AS seconds,
       CASE WHEN t = '2025-11-02 05:30+00' THEN -0.25
            WHEN t = '2025-03-09 07:00+00' THEN -0.5
            ELSE round((0.1 + (extract(epoch FROM t)::bigint / 900 % 97) * 0.0125)::numeric, 4) END AS value,
       CASE t WHEN '2025-03-08 12:00+00' THEN '0'
              WHEN '2025-03-09 06:45+00' THEN '8'
              WHEN '2025-03-09 07:00+00' THEN '9'
              WHEN '2025-11-02 05:15+00' THEN '10'
              WHEN '2025-11-02 06:15+00' THEN '8'
              WHEN '2025-11-02 05:30+00' THEN '0' END AS quality
  FROM (VALUES ('2025-03-08'::date), ('2025-03-09'), ('2025-11-01'), ('2025-11-02')) d(day)
 CROSS JOIN LATERAL generate_series(d.day::timestamp AT TIME ZONE 'America/New_York',
                                    (d.day + 1)::timestamp AT TIME ZONE 'America/New_York' - interval '15 minutes',
                                    interval '15 minutes') t
UNION ALL
SELECT 'S1', 'M1', 'KWH-R-15', t, 900, round((extract(epoch FROM t)::bigint / 900 % 13) * 0.01, 2),
       CASE t WHEN '2025-11-02 06:00+00' THEN '9' WHEN '2025-03-09 08:00+00' THEN '10' END
  FROM (VALUES ('2025-03-09'::date), ('2025-11-02')) d(day)
 CROSS JOIN LATERAL generate_series(d.day::timestamp AT TIME ZONE 'America/New_York',
                                    (d.day + 1)::timestamp AT TIME ZONE 'America/New_York' - interval '15 minutes',
                                    interval '15 minutes') t
UNION ALL
SELECT 'S1', 'M1', 'KVARH-60', t, 3600, (extract(hour FROM t) + 2)::numeric, NULL
  FROM (VALUES ('2025-03-08'::date), ('2025-03-09'), ('2025-11-01'), ('2025-11-02')) d(day)
 CROSS JOIN LATERAL generate_series(d.day::timestamp AT TIME ZONE 'America/New_York',
                                    (d.day + 1)::timestamp AT TIME ZONE 'America/New_York' - interval '1 hour',
                                    interval '1 hour') t;
SELECT channel, (start AT TIME ZONE 'America/New_York')::date AS local_day, count(*) AS reads
  FROM gb_read GROUP BY 1, 2 ORDER BY 1, 2;

\getenv testdir GRIDFLOW_TEST_DIR
\set read_file :testdir '/scratch/green_button_reads.csv'
COPY (SELECT sp, meter, channel, to_char(start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS start, seconds,
             value, CASE WHEN channel LIKE 'KWH%' THEN 'kWh' ELSE 'kvarh' END AS unit, quality
        FROM gb_read ORDER BY channel, start)
  TO :'read_file' WITH (FORMAT csv, HEADER);
UPDATE gridflow.utility SET enabled = false WHERE utility_id IN ('UTILITY1', 'UTILITY2');
INSERT INTO gridflow.utility (utility_id, quality_scheme) VALUES ('GBX', 'espi');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES ('GBX', 'interval', 'green_button_reads.csv');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format) VALUES
    ('GBX', 'interval', 'service_point_id', 'sp', NULL),
    ('GBX', 'interval', 'meter_id', 'meter', NULL),
    ('GBX', 'interval', 'channel', 'channel', NULL),
    ('GBX', 'interval', 'interval_start_ts', 'start', 'iso8601'),
    ('GBX', 'interval', 'duration_seconds', 'seconds', NULL),
    ('GBX', 'interval', 'value', 'value', NULL),
    ('GBX', 'interval', 'unit', 'unit', NULL),
    ('GBX', 'interval', 'quality', 'quality', NULL);
INSERT INTO gridflow.vee_rule (utility_id, rule) VALUES ('GBX', 'negative');
-- the received channel flows in reverse (ESPI FlowDirectionKind 19)
INSERT INTO gridflow.channel (utility_id, channel, flow_direction) VALUES ('GBX', 'KWH-R-15', 19);
SELECT count(*) > 0 AS built FROM gridflow_build(:'testdir' || '/scratch');
SELECT channel, unit, count(*) AS reads, count(*) FILTER (WHERE quality_code = 10) AS questionable
  FROM product.usage_interval WHERE utility_id = 'GBX' GROUP BY 1, 2 ORDER BY 1;
-- the sender's codes: kept, but for the valid (0) read that fails a rule;
-- the negative estimate stays an estimate, its failed rule listed
SELECT channel, interval_start_ts AT TIME ZONE 'America/New_York' AS local_start, value, quality, quality_code, vee_flags
  FROM product.usage_interval WHERE utility_id = 'GBX' AND (quality IS NOT NULL OR quality_code <> 0)
 ORDER BY interval_start_ts, channel;
-- the days count the estimates and the questionable reads
SELECT local_date, channel, estimated_count, estimated_usage, questionable_count
  FROM experience.daily_usage WHERE utility_id = 'GBX' AND (estimated_count > 0 OR questionable_count > 0)
 ORDER BY 1, 2;
-- the build wrote what gridflow.product_source says
SELECT (SELECT count(*) FROM (SELECT * FROM product.usage_interval WHERE utility_id = 'GBX'
                              EXCEPT ALL SELECT * FROM gridflow.product_source WHERE utility_id = 'GBX') a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.product_source WHERE utility_id = 'GBX'
                              EXCEPT ALL SELECT * FROM product.usage_interval WHERE utility_id = 'GBX') b) AS product_source_differences;

-- The export of the whole year, kept for the checks below
CREATE TEMP TABLE feed AS SELECT gridflow.green_button('S1', '2025-01-01', '2025-12-31') AS x;
CREATE TEMP VIEW ns AS SELECT ARRAY[ARRAY['a', 'http://www.w3.org/2005/Atom'], ARRAY['e', 'http://naesb.org/espi']] AS n;
-- a well-formed document whose root is an Atom feed
SELECT xml_is_well_formed_document(x::text) AS well_formed,
       (xpath('name(/*)', x))[1]::text AS root,
       (xpath('namespace-uri(/*)', x))[1]::text AS namespace,
       (xpath('/a:feed/a:title/text()', x, n))[1]::text AS title
  FROM feed, ns;
-- its entries, by the ESPI resource they hold; every entry has an id, a
-- title, a self link and an up link
SELECT (xpath('local-name(/a:entry/a:content/*)', e, n))[1]::text AS resource, count(*) AS entries,
       bool_and((xpath('count(/a:entry/a:id) = 1 and count(/a:entry/a:title) = 1 and count(/a:entry/a:published) = 1 and count(/a:entry/a:updated) = 1', e, n))[1]::text::boolean) AS complete,
       bool_and((xpath('count(/a:entry/a:link[@rel="self"]) = 1 and count(/a:entry/a:link[@rel="up"]) = 1', e, n))[1]::text::boolean) AS linked
  FROM feed, ns, unnest(xpath('/a:feed/a:entry', x, n)) WITH ORDINALITY f(e, ord)
 GROUP BY 1 ORDER BY min(ord);
SELECT (xpath('/a:feed/a:entry[a:content/e:UsagePoint]/a:title/text()', x, n))[1]::text AS usage_point,
       (xpath('/a:feed/a:entry/a:content/e:UsagePoint/e:ServiceCategory/e:kind/text()', x, n))[1]::text AS service_kind
  FROM feed, ns;
-- the utility's local time
SELECT (xpath('local-name(/*)', p, n))[1]::text AS element, (xpath('/*/text()', p, n))[1]::text AS value
  FROM feed, ns, unnest(xpath('/a:feed/a:entry/a:content/e:LocalTimeParameters/*', x, n)) p;
-- the reading types: the channel as title, each in its ESPI unit and the
-- multiplier that keeps its values exact (kWh to a tenth of a Wh: -1;
-- whole kvarh: 0), and the flow direction of the channel's configuration
-- (19 reverse for KWH-R-15, 1 forward for channels without one)
SELECT (xpath('/a:entry/a:title/text()', e, n))[1]::text AS channel,
       (xpath('/a:entry/a:content/e:ReadingType/e:uom/text()', e, n))[1]::text AS uom,
       (xpath('/a:entry/a:content/e:ReadingType/e:powerOfTenMultiplier/text()', e, n))[1]::text AS multiplier,
       (xpath('/a:entry/a:content/e:ReadingType/e:accumulationBehaviour/text()', e, n))[1]::text AS accumulation,
       (xpath('/a:entry/a:content/e:ReadingType/e:kind/text()', e, n))[1]::text AS kind,
       (xpath('/a:entry/a:content/e:ReadingType/e:intervalLength/text()', e, n))[1]::text AS interval_length,
       (xpath('/a:entry/a:content/e:ReadingType/e:flowDirection/text()', e, n))[1]::text AS flow,
       (xpath('/a:entry/a:content/e:ReadingType/e:commodity/text()', e, n))[1]::text AS commodity
  FROM feed, ns, unnest(xpath('/a:feed/a:entry[a:content/e:ReadingType]', x, n)) e
 ORDER BY 1;
-- each meter reading names its meter and links to its reading type and
-- its blocks; each block's up link is its meter reading's blocks
SELECT (xpath('/a:entry/a:title/text()', m, n))[1]::text AS meter,
       (SELECT (xpath('/a:entry/a:title/text()', t, n))[1]::text
          FROM unnest(xpath('/a:feed/a:entry[a:content/e:ReadingType]', x, n)) t
         WHERE (xpath('/a:entry/a:link[@rel="self"]/@href', t, n))[1]::text
               = ANY (xpath('/a:entry/a:link[@rel="related"]/@href', m, n)::text[])) AS reading_type,
       (SELECT count(*)
          FROM unnest(xpath('/a:feed/a:entry[a:content/e:IntervalBlock]', x, n)) b
         WHERE (xpath('/a:entry/a:link[@rel="up"]/@href', b, n))[1]::text
               = ANY (xpath('/a:entry/a:link[@rel="related"]/@href', m, n)::text[])) AS blocks
  FROM feed, ns, unnest(xpath('/a:feed/a:entry[a:content/e:MeterReading]', x, n)) m
 ORDER BY 2;

-- The blocks: one per meter reading and local day, the day's local
-- midnight to the next (23 and 25 hours on the daylight-saving days)
CREATE TEMP TABLE block AS
SELECT (SELECT (xpath('/a:entry/a:title/text()', t, n))[1]::text
          FROM unnest(xpath('/a:feed/a:entry[a:content/e:ReadingType]', x, n)) t
          JOIN unnest(xpath('/a:feed/a:entry[a:content/e:MeterReading]', x, n)) m
            ON (xpath('/a:entry/a:link[@rel="self"]/@href', t, n))[1]::text = ANY (xpath('/a:entry/a:link[@rel="related"]/@href', m, n)::text[])
         WHERE (xpath('/a:entry/a:link[@rel="up"]/@href', b, n))[1]::text = ANY (xpath('/a:entry/a:link[@rel="related"]/@href', m, n)::text[]))
           AS channel,
       (xpath('/a:entry/a:title/text()', b, n))[1]::text AS title,
       (xpath('/a:entry/a:content/e:IntervalBlock/e:interval/e:start/text()', b, n))[1]::text::bigint AS start,
       (xpath('/a:entry/a:content/e:IntervalBlock/e:interval/e:duration/text()', b, n))[1]::text::bigint AS duration,
       xpath('/a:entry/a:content/e:IntervalBlock/e:IntervalReading', b, n) AS readings
  FROM feed, ns, unnest(xpath('/a:feed/a:entry[a:content/e:IntervalBlock]', x, n)) b;
SELECT channel, title, to_timestamp(start) AT TIME ZONE 'America/New_York' AS local_start, duration / 3600.0 AS hours,
       cardinality(readings) AS readings
  FROM block ORDER BY channel, title;
-- every reading: its start (UTC epoch seconds), duration, value and
-- quality; the readings of a block are in order, unique by start, within
-- the block's interval
CREATE TEMP TABLE reading AS
SELECT b.channel, b.title, b.start AS block_start, b.duration AS block_duration, r.ord,
       (xpath('/e:IntervalReading/e:timePeriod/e:start/text()', r.reading, n))[1]::text::bigint AS start,
       (xpath('/e:IntervalReading/e:timePeriod/e:duration/text()', r.reading, n))[1]::text::bigint AS duration,
       (xpath('/e:IntervalReading/e:value/text()', r.reading, n))[1]::text::bigint AS value,
       (xpath('/e:IntervalReading/e:ReadingQuality/e:quality/text()', r.reading, n))[1]::text::int AS quality
  FROM block b, ns, unnest(b.readings) WITH ORDINALITY r(reading, ord);
SELECT channel, count(*) AS readings, count(DISTINCT start) AS distinct_starts,
       bool_and(start >= block_start AND start + duration <= block_start + block_duration) AS inside_block,
       count(*) FILTER (WHERE quality IS NOT NULL) AS with_quality
  FROM reading GROUP BY channel ORDER BY channel;
SELECT count(*) AS out_of_order
  FROM (SELECT start, lag(start) OVER (PARTITION BY channel, title ORDER BY ord) AS previous FROM reading) r
 WHERE start <= previous;
-- the fall-back day: 100 quarter-hours, the repeated hour's four twice in
-- wall-clock time, once each in UTC
SELECT to_char(to_timestamp(start) AT TIME ZONE 'America/New_York', 'HH24:MI') AS wall_clock, count(*) AS readings,
       string_agg(to_char(to_timestamp(start) AT TIME ZONE 'UTC', 'HH24:MI'), ' ' ORDER BY start) AS utc
  FROM reading WHERE channel = 'KWH-15' AND title = '2025-11-02'
 GROUP BY 1 HAVING count(*) > 1 ORDER BY 1;
-- every reading is its read: value x 10^multiplier Wh (varh) is the
-- value in kWh (kvarh) x 1000, exactly; quality code 10 where VEE found
-- the read questionable, no ReadingQuality where it is valid (0, the
-- reading type's defaultQuality)
SELECT count(*) AS reads,
       count(*) FILTER (WHERE r.start IS NULL) AS missing,
       count(*) FILTER (WHERE r.value * 10::numeric ^ (CASE p.channel WHEN 'KWH-15' THEN -1 ELSE 0 END)
                              IS DISTINCT FROM p.value::numeric * 1000) AS wrong_value,
       count(*) FILTER (WHERE r.duration IS DISTINCT FROM p.duration_seconds) AS wrong_duration,
       count(*) FILTER (WHERE coalesce(r.quality, 0) IS DISTINCT FROM p.quality_code::int) AS wrong_quality,
       count(*) FILTER (WHERE r.quality = 10) AS questionable,
       count(*) FILTER (WHERE r.quality IN (8, 9)) AS estimated
  FROM product.usage_interval p
  LEFT JOIN reading r ON r.channel = p.channel AND r.start = extract(epoch FROM p.interval_start_ts)
 WHERE p.utility_id = 'GBX';
SELECT (SELECT count(*) FROM reading) AS readings_in_feed;

-- the days asked for, no more: the export of the two November days only
SELECT (xpath('count(/a:feed/a:entry[a:content/e:IntervalBlock])', x, n))[1]::text AS blocks,
       (xpath('count(//e:IntervalReading)', x, n))[1]::text AS readings
  FROM (SELECT gridflow.green_button('S1', '2025-11-01', '2025-11-02') AS x) f, ns;
-- a service point without reads in the days: a feed with no blocks
SELECT (xpath('count(/a:feed/a:entry)', x, n))[1]::text AS entries
  FROM (SELECT gridflow.green_button('S1', '2025-06-01', '2025-06-30') AS x) f, ns;

-- what may not be exported
SELECT gridflow.green_button('S1', '2025-11-02', '2025-11-01');
SELECT gridflow.green_button('NOSUCH', '2025-01-01', '2025-12-31');
SELECT gridflow.green_button(NULL, '2025-01-01', '2025-12-31');
SELECT gridflow.green_button('S1', '2025-01-01', '2025-12-31', 'NOSUCH');
-- the same service point in two utilities: name the utility
INSERT INTO gridflow.utility (utility_id, time_zone) VALUES ('GBY', 'Europe/Paris');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES ('GBY', 'interval', 'green_button_reads.csv');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format)
SELECT 'GBY', file_kind, target_column, source_column, format FROM gridflow.column_map WHERE utility_id = 'GBX';
SELECT count(*) > 0 AS built FROM gridflow_build(:'testdir' || '/scratch');
SELECT gridflow.green_button('S1', '2025-01-01', '2025-12-31');
SELECT (xpath('/a:feed/a:entry/a:content/e:LocalTimeParameters/e:tzOffset/text()', x, n))[1]::text AS tz_offset,
       (xpath('count(//e:IntervalReading)', x, n))[1]::text AS readings
  FROM (SELECT gridflow.green_button('S1', '2025-01-01', '2025-12-31', 'GBY') AS x) f, ns;

-- row-level security: a reader mapped to GBY exports GBY's service
-- point, not GBX's; a reader mapped to none exports nothing
CREATE ROLE regress_gb_reader;
CREATE ROLE regress_gb_none;
GRANT gridflow_internal TO regress_gb_reader, regress_gb_none;
INSERT INTO gridflow.role_utility VALUES ('regress_gb_reader', 'GBY');
SET ROLE regress_gb_reader;
SELECT (xpath('count(//e:IntervalReading)', gridflow.green_button('S1', '2025-01-01', '2025-12-31'),
              ARRAY[ARRAY['e', 'http://naesb.org/espi']]))[1]::text AS readings_without_naming_the_utility;
SELECT gridflow.green_button('S1', '2025-01-01', '2025-12-31', 'GBX');
RESET ROLE;
SET ROLE regress_gb_none;
SELECT gridflow.green_button('S1', '2025-01-01', '2025-12-31');
RESET ROLE;
-- external readers have no access to the function's schema
SET ROLE gridflow_external;
SELECT gridflow.green_button('S1', '2025-01-01', '2025-12-31');
RESET ROLE;
DELETE FROM gridflow.role_utility WHERE role_name = 'regress_gb_reader';
DROP ROLE regress_gb_reader;
DROP ROLE regress_gb_none;

--
-- Green Button import: a source file of layout espi.  The export of GBX's
-- service point, ingested as utility GBI (the same time zone and
-- validation rules), gives the same reads and the same days, the
-- daylight-saving days included; a rebuild reads the file again.
--
\set feed_file :testdir '/scratch/green_button_feed.xml'
COPY (SELECT gridflow.green_button('S1', '2025-01-01', '2025-12-31', 'GBX')) TO :'feed_file';
-- espi is a layout of interval files only
INSERT INTO gridflow.utility (utility_id, quality_scheme) VALUES ('GBI', 'espi');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, layout) VALUES ('GBI', 'meter', 'm.xml', 'espi');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, layout) VALUES ('GBI', 'interval', 'green_button_feed.xml', 'espi');
-- the records' header, mapped like any file's
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format) VALUES
    ('GBI', 'interval', 'service_point_id', 'usage_point', NULL),
    ('GBI', 'interval', 'meter_id', 'meter_reading', NULL),
    ('GBI', 'interval', 'channel', 'reading_type', NULL),
    ('GBI', 'interval', 'interval_start_ts', 'start', 'epoch'),
    ('GBI', 'interval', 'duration_seconds', 'duration', NULL),
    ('GBI', 'interval', 'value', 'value', NULL),
    ('GBI', 'interval', 'unit', 'unit', NULL),
    ('GBI', 'interval', 'quality', 'quality', NULL);
INSERT INTO gridflow.vee_rule (utility_id, rule) VALUES ('GBI', 'negative');
SELECT utility, kind, outcome, records_read, rows_kept FROM gridflow_ingest(:'feed_file', 'GBI', 'interval');
SELECT header, records_read, records_rejected, rows_invalid, file_bytes > 0 AS bytes_counted,
       content_sha256 = sha256(pg_read_binary_file(:'feed_file')) AS checksum_of_the_xml
  FROM gridflow.batch WHERE utility_id = 'GBI';
SELECT line_no, record FROM landing.source_record WHERE utility_id = 'GBI' ORDER BY line_no LIMIT 2;
-- the reads: equal, key, time, value, unit and quality code
CREATE TEMP VIEW gb_reads AS
SELECT utility_id, service_point_id, meter_id, channel, interval_start_ts, interval_end_ts, duration_seconds,
       local_date, time_resolution, value, unit, quality_code
  FROM product.usage_interval;
SELECT (SELECT count(*) FROM (SELECT service_point_id, meter_id, channel, interval_start_ts, interval_end_ts, duration_seconds,
                                     local_date, time_resolution, value, unit, quality_code
                                FROM gb_reads WHERE utility_id = 'GBX'
                              EXCEPT ALL
                              SELECT service_point_id, meter_id, channel, interval_start_ts, interval_end_ts, duration_seconds,
                                     local_date, time_resolution, value, unit, quality_code
                                FROM gb_reads WHERE utility_id = 'GBI') a) AS missing_reads,
       (SELECT count(*) FROM (SELECT service_point_id, meter_id, channel, interval_start_ts, interval_end_ts, duration_seconds,
                                     local_date, time_resolution, value, unit, quality_code
                                FROM gb_reads WHERE utility_id = 'GBI'
                              EXCEPT ALL
                              SELECT service_point_id, meter_id, channel, interval_start_ts, interval_end_ts, duration_seconds,
                                     local_date, time_resolution, value, unit, quality_code
                                FROM gb_reads WHERE utility_id = 'GBX') b) AS extra_reads,
       (SELECT count(*) FROM gb_reads WHERE utility_id = 'GBI') AS reads;
-- the days: equal, the 23- and 25-hour days included
CREATE TEMP VIEW gb_days AS
SELECT utility_id, service_point_id, local_date, channel, unit, time_resolution, bucket_start, bucket_end, total_usage,
       interval_count, peak_usage_value, peak_usage_ts, pit_usage_value, pit_usage_ts
  FROM experience.daily_usage;
SELECT d.local_date, d.channel, d.interval_count, (d.bucket_end - d.bucket_start) AS length, d.total_usage,
       EXISTS (SELECT FROM gb_days x
                WHERE x.utility_id = 'GBX' AND (x.service_point_id, x.local_date, x.channel, x.unit, x.time_resolution,
                                                x.bucket_start, x.bucket_end, x.total_usage, x.interval_count,
                                                x.peak_usage_value, x.peak_usage_ts, x.pit_usage_value, x.pit_usage_ts)
                    IS NOT DISTINCT FROM (d.service_point_id, d.local_date, d.channel, d.unit, d.time_resolution,
                                          d.bucket_start, d.bucket_end, d.total_usage, d.interval_count,
                                          d.peak_usage_value, d.peak_usage_ts, d.pit_usage_value, d.pit_usage_ts))
           AS same_as_exported
  FROM gb_days d WHERE d.utility_id = 'GBI' ORDER BY d.channel, d.local_date;
SELECT (SELECT count(*) FROM gb_days WHERE utility_id = 'GBX') AS exported_days,
       (SELECT count(*) FROM gb_days WHERE utility_id = 'GBI') AS imported_days;
-- the ESPI quality is kept as the utility's quality flag, and carried
-- into the quality code: the estimates stay estimates, the days count
-- them as the exported days do
SELECT channel, interval_start_ts AT TIME ZONE 'America/New_York' AS local_start, quality, quality_code, vee_flags, value
  FROM product.usage_interval WHERE utility_id = 'GBI' AND quality <> '' ORDER BY interval_start_ts, channel;
SELECT count(*) AS days,
       count(*) FILTER (WHERE (i.estimated_count, i.estimated_usage, i.questionable_count, i.coverage)
                              IS NOT DISTINCT FROM (x.estimated_count, x.estimated_usage, x.questionable_count, x.coverage))
           AS same_counts
  FROM experience.daily_usage i
  JOIN experience.daily_usage x ON x.utility_id = 'GBX' AND (x.service_point_id, x.local_date, x.channel)
                                                          = (i.service_point_id, i.local_date, i.channel)
 WHERE i.utility_id = 'GBI';
-- the flow direction: each record lands its ReadingType's flowDirection;
-- configured as the importing utility's channels, a new export of the
-- imported reads writes the directions the first export wrote
SELECT f[3] AS reading_type, f[9] AS flow_direction, count(*) AS records
  FROM landing.source_record r CROSS JOIN LATERAL gridflow.csv_fields(r.record) f
 WHERE r.utility_id = 'GBI' GROUP BY 1, 2 ORDER BY 1;
INSERT INTO gridflow.channel (utility_id, channel, flow_direction)
SELECT DISTINCT 'GBI', f[3], f[9]::smallint
  FROM landing.source_record r CROSS JOIN LATERAL gridflow.csv_fields(r.record) f
 WHERE r.utility_id = 'GBI' AND f[9] <> '1';
SELECT (xpath('/a:entry/a:title/text()', e, n))[1]::text AS channel,
       (xpath('/a:entry/a:content/e:ReadingType/e:flowDirection/text()', e, n))[1]::text AS flow
  FROM (SELECT gridflow.green_button('S1', '2025-01-01', '2025-12-31', 'GBI') AS x) f, ns,
       unnest(xpath('/a:feed/a:entry[a:content/e:ReadingType]', x, n)) e
EXCEPT
SELECT (xpath('/a:entry/a:title/text()', e, n))[1]::text,
       (xpath('/a:entry/a:content/e:ReadingType/e:flowDirection/text()', e, n))[1]::text
  FROM feed, ns, unnest(xpath('/a:feed/a:entry[a:content/e:ReadingType]', x, n)) e;
-- the second export is the first, reading for reading, quality included
SELECT (xpath('count(//e:IntervalReading)', y, n))[1]::text AS readings,
       (SELECT count(*) FROM unnest(xpath('//e:IntervalReading', x, n)) a(r)) AS first_readings,
       (SELECT count(*) FROM (SELECT r::text FROM unnest(xpath('//e:IntervalReading', y, n)) a(r)
                              EXCEPT ALL SELECT r::text FROM unnest(xpath('//e:IntervalReading', x, n)) b(r)) d) AS different
  FROM feed, ns, (SELECT gridflow.green_button('S1', '2025-01-01', '2025-12-31', 'GBI') AS y) g;
-- a rebuild reads the Green Button file again, to the same reads
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT count(*) AS reads, count(*) FILTER (WHERE g.interval_start_ts IS NULL) AS unmatched
  FROM gb_reads i
  LEFT JOIN gb_reads g ON g.utility_id = 'GBX' AND (g.service_point_id, g.meter_id, g.channel, g.interval_start_ts, g.value,
                                                    g.unit, g.duration_seconds, g.quality_code)
                                                 = (i.service_point_id, i.meter_id, i.channel, i.interval_start_ts, i.value,
                                                    i.unit, i.duration_seconds, i.quality_code)
 WHERE i.utility_id = 'GBI';

--
-- Malformed blocks are rejects, as a CSV file's bad records are: a
-- reading whose value is not an integer, one without a start, a block
-- whose MeterReading is not in the file, a block whose ReadingType has a
-- multiplier that is not a number; the good readings of the file are
-- kept (one of them with no value, one with a ReadingQuality).
--
\set bad_file :testdir '/scratch/green_button_bad.xml'
-- (written one line per row: COPY writes each as it is)
COPY (SELECT l FROM regexp_split_to_table($x$<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<entry><title>P1</title><link rel="self" href="http://x/UsagePoint/1"/>
 <content><UsagePoint xmlns="http://naesb.org/espi"/></content></entry>
<entry><title>MR1</title><link rel="self" href="http://x/UsagePoint/1/MeterReading/1"/>
 <link rel="up" href="http://x/UsagePoint/1/MeterReading"/>
 <link rel="related" href="http://x/UsagePoint/1/MeterReading/1/IntervalBlock"/>
 <link rel="related" href="http://x/ReadingType/1"/>
 <content><MeterReading xmlns="http://naesb.org/espi"/></content></entry>
<entry><title>KWH</title><link rel="self" href="http://x/ReadingType/1"/>
 <content><ReadingType xmlns="http://naesb.org/espi"><powerOfTenMultiplier>-1</powerOfTenMultiplier><uom>72</uom></ReadingType></content></entry>
<entry><title>MR2</title><link rel="self" href="http://x/UsagePoint/1/MeterReading/2"/>
 <link rel="up" href="http://x/UsagePoint/1/MeterReading"/>
 <link rel="related" href="http://x/ReadingType/2"/>
 <content><MeterReading xmlns="http://naesb.org/espi"/></content></entry>
<entry><title>BAD</title><link rel="self" href="http://x/ReadingType/2"/>
 <content><ReadingType xmlns="http://naesb.org/espi"><powerOfTenMultiplier>abc</powerOfTenMultiplier><uom>72</uom></ReadingType></content></entry>
<entry><link rel="up" href="http://x/UsagePoint/1/MeterReading/1/IntervalBlock"/>
 <content><IntervalBlock xmlns="http://naesb.org/espi">
  <IntervalReading><ReadingQuality><quality>8</quality></ReadingQuality><timePeriod><duration>900</duration><start>1735707600</start></timePeriod><value>2505</value></IntervalReading>
  <IntervalReading><timePeriod><duration>900</duration><start>1735708500</start></timePeriod><value>12x</value></IntervalReading>
  <IntervalReading><timePeriod><duration>900</duration></timePeriod><value>7</value></IntervalReading>
  <IntervalReading><timePeriod><duration>900</duration><start>1735709400</start></timePeriod></IntervalReading>
 </IntervalBlock></content></entry>
<entry><link rel="up" href="http://x/UsagePoint/1/MeterReading/9/IntervalBlock"/>
 <content><IntervalBlock xmlns="http://naesb.org/espi">
  <IntervalReading><timePeriod><duration>900</duration><start>1735707600</start></timePeriod><value>1</value></IntervalReading>
 </IntervalBlock></content></entry>
<entry><link rel="up" href="http://x/UsagePoint/1/MeterReading/2/IntervalBlock"/>
 <content><IntervalBlock xmlns="http://naesb.org/espi">
  <IntervalReading><timePeriod><duration>900</duration><start>1735707600</start></timePeriod><value>1</value></IntervalReading>
 </IntervalBlock></content></entry>
</feed>$x$, E'\n') WITH ORDINALITY f(l, n) ORDER BY n) TO :'bad_file';
INSERT INTO gridflow.utility (utility_id) VALUES ('GBR');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path, layout) VALUES ('GBR', 'interval', 'green_button_bad.xml', 'espi');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format)
SELECT 'GBR', file_kind, target_column, source_column, format FROM gridflow.column_map WHERE utility_id = 'GBI';
SELECT utility, outcome, records_read, rows_kept FROM gridflow_ingest(:'bad_file', 'GBR', 'interval');
SELECT records_read, records_rejected, rows_invalid, rows_kept FROM gridflow.batch WHERE utility_id = 'GBR';
SELECT line_no, stage, reason, target_column, detail, record FROM landing.reject WHERE utility_id = 'GBR' ORDER BY line_no;
SELECT service_point_id, meter_id, channel, interval_start_ts, value, unit, quality
  FROM standardized.interval_read WHERE utility_id = 'GBR' ORDER BY interval_start_ts;

-- Quality values gridflow.quality_code does not have, in a utility that
-- sends ESPI codes (here in a CSV file): other ESPI codes (7 manually
-- edited, 19 revenue-quality), a code outside ESPI, numbers too long or
-- signed, text; each read is kept with its quality as sent and is
-- questionable (10).  No quality, or 0, leaves the code to the rules (the
-- negative read); 08 is the code 8.  An ingest (gridflow.product_source)
-- and a rebuild (the build in C) agree.
\set quality_file :testdir '/scratch/green_button_quality.csv'
COPY (SELECT 'Q1' AS sp, 'MQ' AS meter, 'KWH-15' AS channel,
             to_char(timestamptz '2025-06-01 04:00+00' + (n - 1) * interval '15 minutes', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS start,
             900 AS seconds, CASE WHEN n = 12 THEN -1 ELSE n END AS value, 'kWh' AS unit, q AS quality
        FROM unnest(ARRAY['0', '8', '9', '10', '7', '19', '20', '99999', '123456', '-1', 'abc', '08', ' 8', NULL, '0'])
             WITH ORDINALITY u(q, n))
  TO :'quality_file' WITH (FORMAT csv, HEADER);
INSERT INTO gridflow.utility (utility_id, quality_scheme) VALUES ('GBQ', 'espi');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES ('GBQ', 'interval', 'green_button_quality.csv');
INSERT INTO gridflow.column_map (utility_id, file_kind, target_column, source_column, format)
SELECT 'GBQ', file_kind, target_column, source_column, format FROM gridflow.column_map WHERE utility_id = 'GBX';
INSERT INTO gridflow.vee_rule (utility_id, rule) VALUES ('GBQ', 'negative');
SELECT utility, outcome, records_read, rows_kept FROM gridflow_ingest(:'quality_file', 'GBQ', 'interval');
CREATE TEMP TABLE gbq_ingested AS
SELECT interval_start_ts, value, quality, quality_code, vee_flags FROM product.usage_interval WHERE utility_id = 'GBQ';
SELECT value, quote_nullable(quality) AS quality, quality_code, vee_flags FROM gbq_ingested ORDER BY interval_start_ts;
SELECT count(*) > 0 AS rebuilt FROM gridflow_rebuild();
SELECT (SELECT count(*) FROM (SELECT interval_start_ts, value, quality, quality_code, vee_flags
                                FROM product.usage_interval WHERE utility_id = 'GBQ'
                              EXCEPT ALL SELECT * FROM gbq_ingested) a) AS rebuild_differs,
       (SELECT count(*) FROM (SELECT * FROM product.usage_interval EXCEPT ALL SELECT * FROM gridflow.product_source) a)
     + (SELECT count(*) FROM (SELECT * FROM gridflow.product_source EXCEPT ALL SELECT * FROM product.usage_interval) b)
           AS product_source_differences,
       (SELECT count(*) FROM product.usage_interval WHERE utility_id LIKE 'GB%') AS reads;
-- without quality_scheme, the same file's qualities are flags gridflow
-- does not read: the rules alone decide
UPDATE gridflow.utility SET quality_scheme = NULL WHERE utility_id = 'GBQ';
SELECT quality_code, count(*) AS reads, string_agg(quote_nullable(quality), ' ' ORDER BY interval_start_ts) AS qualities
  FROM gridflow.product_source WHERE utility_id = 'GBQ' GROUP BY 1 ORDER BY 1;
UPDATE gridflow.utility SET quality_scheme = 'espi' WHERE utility_id = 'GBQ';
-- a scheme gridflow does not know is refused
UPDATE gridflow.utility SET quality_scheme = 'other' WHERE utility_id = 'GBQ';


-- that is not well-formed, a document type declaration (entities, an
-- external entity), nesting past libxml2's limit, a root that is not a
-- feed, an empty file
\set hostile_file :testdir '/scratch/green_button_hostile.xml'
UPDATE gridflow.source_file SET file_path = 'green_button_hostile.xml' WHERE utility_id = 'GBR';
COPY (SELECT '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>P1</entry></feed>') TO :'hostile_file';
SELECT outcome FROM gridflow_ingest(:'hostile_file', 'GBR', 'interval');
COPY (SELECT '<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><feed>&c;</feed>') TO :'hostile_file';
SELECT outcome FROM gridflow_ingest(:'hostile_file', 'GBR', 'interval');
COPY (SELECT '<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]><feed>&x;</feed>') TO :'hostile_file';
SELECT outcome FROM gridflow_ingest(:'hostile_file', 'GBR', 'interval');
COPY (SELECT '<feed>' || repeat('<a>', 5000) || repeat('</a>', 5000) || '</feed>') TO :'hostile_file';
SELECT outcome FROM gridflow_ingest(:'hostile_file', 'GBR', 'interval');
COPY (SELECT '<html><body>not a feed</body></html>') TO :'hostile_file';
SELECT outcome FROM gridflow_ingest(:'hostile_file', 'GBR', 'interval');
COPY (SELECT 1 WHERE false) TO :'hostile_file';
SELECT outcome FROM gridflow_ingest(:'hostile_file', 'GBR', 'interval');
-- none of them was kept (the batch is the file of malformed blocks)
SELECT count(*) AS batches FROM gridflow.batch WHERE utility_id = 'GBR';
