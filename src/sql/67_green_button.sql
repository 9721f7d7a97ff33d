--
-- Green Button (NAESB ESPI) export: one service point's reads as an ESPI
-- Atom feed.  The functions run with their caller's rights and read the
-- layer views, so row-level security decides what a caller may export.
--

-- The daylight-saving rules of a time zone in a year, as ESPI's
-- LocalTimeParameters (TimeConfiguration) give them: the standard offset,
-- the daylight-saving offset, and each transition as a DstRuleType (a
-- 32-bit rule: seconds 0-11, hour 12-16, ISO day of the week 17-19, day of
-- the month 20-24, operator 25-27, month 28-31), here always "the n-th (2
-- to 5: first to fourth) or last (7) occurrence of the weekday in the
-- month" at the local wall-clock time before the change.  The transitions
-- are found by stepping through the year's half hours.
CREATE FUNCTION gridflow.espi_time_parameters(time_zone text, year integer,
                                              OUT tz_offset integer, OUT dst_offset integer,
                                              OUT dst_start_rule text, OUT dst_end_rule text)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
WITH steps AS (
    SELECT t,
           pg_catalog.date_part('epoch', pg_catalog.timezone(espi_time_parameters.time_zone, t)
                                         - pg_catalog.timezone('UTC', t))::integer AS offset_s
      FROM pg_catalog.generate_series(pg_catalog.make_timestamptz(espi_time_parameters.year, 1, 1, 0, 0, 0, 'UTC'),
                                      pg_catalog.make_timestamptz(espi_time_parameters.year + 1, 1, 1, 0, 0, 0, 'UTC'),
                                      interval '30 minutes') t
), changes AS (
    SELECT s.t, s.offset_s, pg_catalog.lag(s.offset_s) OVER (ORDER BY s.t) AS before_s
      FROM steps s
), bounds AS (
    SELECT pg_catalog.min(offset_s) AS standard_s, pg_catalog.max(offset_s) AS daylight_s FROM steps
), rules AS (
    SELECT c.offset_s OPERATOR(pg_catalog.>) c.before_s AS starts,
           -- the wall-clock time before the change
           pg_catalog.timezone('UTC', c.t) OPERATOR(pg_catalog.+) pg_catalog.make_interval(secs => c.before_s) AS wall
      FROM changes c
     WHERE c.offset_s OPERATOR(pg_catalog.<>) c.before_s
), encoded AS (
    SELECT r.starts,
           pg_catalog.upper(pg_catalog.lpad(pg_catalog.to_hex(
               (pg_catalog.date_part('month', r.wall)::bigint OPERATOR(pg_catalog.<<) 28)
               OPERATOR(pg_catalog.|)
               ((CASE WHEN pg_catalog.date_part('day', r.wall) OPERATOR(pg_catalog.+) 7
                           OPERATOR(pg_catalog.>) pg_catalog.date_part('day', pg_catalog.date_trunc('month', r.wall)
                                                  OPERATOR(pg_catalog.+) interval '1 month - 1 day')
                           AND pg_catalog.date_part('day', r.wall) OPERATOR(pg_catalog.>) 21
                      THEN 7
                      ELSE 1 OPERATOR(pg_catalog.+) ((pg_catalog.date_part('day', r.wall)::integer OPERATOR(pg_catalog.+) 6)
                                                     OPERATOR(pg_catalog./) 7)
                 END)::bigint OPERATOR(pg_catalog.<<) 25)
               OPERATOR(pg_catalog.|)
               (pg_catalog.date_part('isodow', r.wall)::bigint OPERATOR(pg_catalog.<<) 17)
               OPERATOR(pg_catalog.|)
               (pg_catalog.date_part('hour', r.wall)::bigint OPERATOR(pg_catalog.<<) 12)
               OPERATOR(pg_catalog.|)
               (pg_catalog.date_part('minute', r.wall)::bigint OPERATOR(pg_catalog.*) 60
                OPERATOR(pg_catalog.+) pg_catalog.floor(pg_catalog.date_part('second', r.wall))::bigint)), 8, '0')) AS rule
      FROM rules r
)
SELECT b.standard_s,
       b.daylight_s OPERATOR(pg_catalog.-) b.standard_s,
       COALESCE((SELECT pg_catalog.min(e.rule) FROM encoded e WHERE e.starts), 'FFFFFFFF'),
       COALESCE((SELECT pg_catalog.min(e.rule) FROM encoded e WHERE NOT e.starts), 'FFFFFFFF')
  FROM bounds b
$$;
COMMENT ON FUNCTION gridflow.espi_time_parameters(text, integer) IS 'ESPI LocalTimeParameters of a time zone in a year: tz_offset (standard offset from UTC, seconds), dst_offset (seconds added in daylight saving time), dst_start_rule and dst_end_rule (DstRuleType, 8 hex digits: the n-th or last weekday of the month at the local time before the change; FFFFFFFF when the zone has no daylight saving time that year)';

-- ESPI's codes for the common units: UnitSymbolKind, the factor from the
-- common unit to it, MeasurementKind and AccumulationKind.
CREATE FUNCTION gridflow.espi_unit(unit text,
                                   OUT uom integer, OUT factor numeric, OUT kind integer,
                                   OUT accumulation integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT v.uom, v.factor, v.kind, v.accumulation
  FROM (VALUES ('kWh', 72, 1000::numeric, 12, 4),
               ('kvarh', 73, 1000::numeric, 12, 4),
               ('kW', 38, 1000::numeric, 8, 12),
               ('kvar', 63, 1000::numeric, 8, 12)) v(unit, uom, factor, kind, accumulation)
 WHERE v.unit OPERATOR(pg_catalog.=) espi_unit.unit
UNION ALL
SELECT 0, 1, 0, 4
 WHERE espi_unit.unit IS NULL
    OR espi_unit.unit OPERATOR(pg_catalog.<>) ALL (ARRAY['kWh', 'kvarh', 'kW', 'kvar'])
$$;
COMMENT ON FUNCTION gridflow.espi_unit(text) IS 'ESPI codes of a common unit of gridflow: uom (UnitSymbolKind: 72 Wh, 73 VArh, 38 W, 63 VAr; 0 none for a unit it has no code for, or none), factor (a value in the common unit times factor is in uom: 1000 from kWh to Wh), kind (MeasurementKind: 12 energy, 8 demand, 0 none) and accumulation (AccumulationKind: 4 deltaData for energy, 12 instantaneous for demand)';

-- The reads a Green Button export of one service point holds: every read
-- of the service point whose start is in [lo, hi), through
-- product.usage_interval (row-level security applies).  An SQL function
-- (its body parsed when it is created, so no search_path applies) that
-- the planner inlines, so that its plan is the plan of its query: the
-- months of lo to hi, each by its index on (service_point_id,
-- interval_start_ts).
-- (a body in a string, not RETURN: Citus 13.2 fails to run an SQL function
-- whose body is parsed at creation and reads one of its tables, and
-- gridflow.channel is a reference table on Citus)
CREATE FUNCTION gridflow.espi_flow_direction(utility_id text, channel text) RETURNS smallint
LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT COALESCE((SELECT c.flow_direction
                   FROM gridflow.channel c
                  WHERE c.utility_id OPERATOR(pg_catalog.=) espi_flow_direction.utility_id
                    AND c.channel OPERATOR(pg_catalog.=) espi_flow_direction.channel), 1::smallint)
$$;
COMMENT ON FUNCTION gridflow.espi_flow_direction(text, text) IS 'ESPI FlowDirectionKind of a utility''s channel, as gridflow.green_button() writes it in the ReadingType''s flowDirection: gridflow.channel.flow_direction, 1 (forward) when the channel has no row or no direction. Runs with its owner''s rights, so that readers who may not read gridflow.channel may export';

CREATE FUNCTION gridflow.green_button_reads(utility_id text, service_point_id text, lo timestamptz, hi timestamptz)
RETURNS TABLE (meter_id text, channel text, unit text, interval_start_ts timestamptz, duration_seconds integer,
               local_date date, value double precision, quality_code smallint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
SELECT p.meter_id, p.channel, p.unit, p.interval_start_ts, p.duration_seconds, p.local_date, p.value, p.quality_code
  FROM product.usage_interval p
 WHERE p.service_point_id OPERATOR(pg_catalog.=) green_button_reads.service_point_id
   AND p.utility_id OPERATOR(pg_catalog.=) green_button_reads.utility_id
   AND p.interval_start_ts OPERATOR(pg_catalog.>=) green_button_reads.lo
   AND p.interval_start_ts OPERATOR(pg_catalog.<) green_button_reads.hi;
END;
COMMENT ON FUNCTION gridflow.green_button_reads(text, text, timestamptz, timestamptz) IS 'The reads of a service point of a utility starting in [lo, hi), as gridflow.green_button() exports them (product.usage_interval, under the caller''s row-level security)';

CREATE FUNCTION gridflow.green_button(service_point_id text, "from" date, "to" date, utility_id text DEFAULT NULL)
RETURNS xml
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sp text := green_button.service_point_id;
    utility text := green_button.utility_id;
    zone text;
    lo timestamptz;
    hi timestamptz;
    tp record;
    base text;
    stamp text := pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
    utilities text[];
    feed xml;
BEGIN
    IF sp IS NULL OR $2 IS NULL OR $3 IS NULL THEN
        RAISE EXCEPTION 'service point, from and to must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF $3 OPERATOR(pg_catalog.<) $2 THEN
        RAISE EXCEPTION 'the export ends before it starts'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('"from" is %s, "to" is %s.', $2, $3),
                  HINT = 'Both days are included: from and to may be the same day.';
    END IF;
    -- the utility of the service point, among those the caller may read
    IF utility IS NULL THEN
        SELECT pg_catalog.array_agg(DISTINCT m.utility_id ORDER BY m.utility_id) INTO utilities
          FROM (SELECT s.utility_id FROM standardized.service_point s
                 WHERE s.service_point_id OPERATOR(pg_catalog.=) sp
                UNION
                SELECT d.utility_id FROM experience.monthly_usage d
                 WHERE d.service_point_id OPERATOR(pg_catalog.=) sp) m;
        IF pg_catalog.cardinality(utilities) OPERATOR(pg_catalog.>) 1 THEN
            RAISE EXCEPTION 'service point "%" exists in several utilities', sp
                USING ERRCODE = 'ambiguous_parameter',
                      DETAIL = pg_catalog.format('Utilities: %s.', pg_catalog.array_to_string(utilities, ', ')),
                      HINT = 'Name the utility: gridflow.green_button(service_point_id, "from", "to", utility_id).';
        END IF;
        utility := utilities[1];
    END IF;
    SELECT u.time_zone INTO zone FROM gridflow.utility u WHERE u.utility_id OPERATOR(pg_catalog.=) utility;
    IF zone IS NULL THEN
        RAISE EXCEPTION 'no service point "%" that you may read', sp
            USING ERRCODE = 'no_data_found',
                  DETAIL = CASE WHEN utility IS NULL THEN 'No utility you may read has this service point.'
                                ELSE pg_catalog.format('Utility "%s" is not one you may read.', utility) END;
    END IF;
    lo := pg_catalog.timezone(zone, $2::timestamp);
    hi := pg_catalog.timezone(zone, ($3 OPERATOR(pg_catalog.+) 1)::timestamp);
    tp := gridflow.espi_time_parameters(zone, pg_catalog.date_part('year', $2)::integer);
    base := 'https://gridflow.invalid/espi/1_1/resource/RetailCustomer/1/UsagePoint/1';

    WITH r AS MATERIALIZED (
        SELECT g.*, pg_catalog.dense_rank() OVER (ORDER BY g.meter_id, g.channel, g.unit) AS k
          FROM gridflow.green_button_reads(utility, sp, lo, hi) g
    ), series AS (
        SELECT r.k, r.meter_id, r.channel, r.unit, e.uom, e.factor, e.kind, e.accumulation,
               gridflow.espi_flow_direction(utility, r.channel) AS flow,
               pg_catalog.mode() WITHIN GROUP (ORDER BY r.duration_seconds) AS interval_length,
               -- decimals of the values in uom, and the largest
               pg_catalog.max(pg_catalog.scale(pg_catalog.trim_scale(
                   pg_catalog.abs(r.value::numeric OPERATOR(pg_catalog.*) e.factor)))) AS decimals,
               pg_catalog.max(pg_catalog.abs(r.value::numeric OPERATOR(pg_catalog.*) e.factor)) AS largest
          FROM r CROSS JOIN LATERAL gridflow.espi_unit(r.unit) e
         GROUP BY r.k, r.meter_id, r.channel, r.unit, e.uom, e.factor, e.kind, e.accumulation
    ), scaled AS (
        -- powerOfTenMultiplier: the largest that keeps every value exact
        -- within Int48, else the smallest that fits
        SELECT s.*,
               COALESCE((SELECT pg_catalog.max(x) FROM pg_catalog.unnest(ARRAY[-6, -3, -2, -1, 0]) x
                          WHERE x OPERATOR(pg_catalog.<=) -LEAST(COALESCE(s.decimals, 0), 6)
                            AND COALESCE(s.largest, 0) OPERATOR(pg_catalog.<)
                                (140737488355327::numeric OPERATOR(pg_catalog.*) (10::numeric OPERATOR(pg_catalog.^) x))),
                        (SELECT pg_catalog.min(x) FROM pg_catalog.unnest(ARRAY[-6, -3, -2, -1, 0, 3, 6, 9, 12]) x
                          WHERE COALESCE(s.largest, 0) OPERATOR(pg_catalog.<)
                                (140737488355327::numeric OPERATOR(pg_catalog.*) (10::numeric OPERATOR(pg_catalog.^) x))))
                   AS multiplier
          FROM series s
    ), blocks AS (
        SELECT r.k, r.local_date,
               pg_catalog.xmlagg(
                   xmlelement(name "IntervalReading",
                       CASE WHEN r.quality_code OPERATOR(pg_catalog.<>) 0 THEN
                           xmlelement(name "ReadingQuality", xmlelement(name quality, r.quality_code))
                       END,
                       xmlelement(name "timePeriod",
                           xmlelement(name duration, COALESCE(r.duration_seconds, 0)),
                           xmlelement(name start, pg_catalog.date_part('epoch', r.interval_start_ts)::bigint)),
                       CASE WHEN r.value IS NOT NULL THEN
                           xmlelement(name value,
                               pg_catalog.round(r.value::numeric OPERATOR(pg_catalog.*) s.factor
                                                OPERATOR(pg_catalog./) (10::numeric OPERATOR(pg_catalog.^) s.multiplier))::bigint)
                       END)
                   ORDER BY r.interval_start_ts) AS readings
          FROM r JOIN scaled s ON s.k OPERATOR(pg_catalog.=) r.k
         GROUP BY r.k, r.local_date
    )
    SELECT xmlelement(name feed, xmlattributes('http://www.w3.org/2005/Atom' AS xmlns),
        xmlelement(name id, 'urn:uuid:' OPERATOR(pg_catalog.||)
            pg_catalog.md5(pg_catalog.concat_ws('/', 'feed', utility, sp, $2, $3))::uuid),
        xmlelement(name title, 'Green Button usage of service point ' OPERATOR(pg_catalog.||) sp),
        xmlelement(name updated, stamp),
        xmlelement(name link, xmlattributes('self' AS rel, base AS href, 'espi-feed/UsagePoint' AS type)),
        -- the usage point
        xmlelement(name entry,
            xmlelement(name id, 'urn:uuid:' OPERATOR(pg_catalog.||)
                pg_catalog.md5(pg_catalog.concat_ws('/', 'UsagePoint', utility, sp))::uuid),
            xmlelement(name link, xmlattributes('self' AS rel, base AS href, 'espi-entry/UsagePoint' AS type)),
            xmlelement(name link, xmlattributes('up' AS rel,
                'https://gridflow.invalid/espi/1_1/resource/RetailCustomer/1/UsagePoint' AS href, 'espi-feed/UsagePoint' AS type)),
            xmlelement(name link, xmlattributes('related' AS rel, base OPERATOR(pg_catalog.||) '/MeterReading' AS href, 'espi-feed/MeterReading' AS type)),
            xmlelement(name link, xmlattributes('related' AS rel,
                'https://gridflow.invalid/espi/1_1/resource/LocalTimeParameters/1' AS href, 'espi-entry/LocalTimeParameters' AS type)),
            xmlelement(name title, sp),
            xmlelement(name content,
                xmlelement(name "UsagePoint", xmlattributes('http://naesb.org/espi' AS xmlns),
                    xmlelement(name "ServiceCategory", xmlelement(name kind, 0)))),
            xmlelement(name published, stamp),
            xmlelement(name updated, stamp)),
        -- the utility's local time
        xmlelement(name entry,
            xmlelement(name id, 'urn:uuid:' OPERATOR(pg_catalog.||)
                pg_catalog.md5(pg_catalog.concat_ws('/', 'LocalTimeParameters', utility, zone))::uuid),
            xmlelement(name link, xmlattributes('self' AS rel,
                'https://gridflow.invalid/espi/1_1/resource/LocalTimeParameters/1' AS href, 'espi-entry/LocalTimeParameters' AS type)),
            xmlelement(name link, xmlattributes('up' AS rel,
                'https://gridflow.invalid/espi/1_1/resource/LocalTimeParameters' AS href, 'espi-feed/LocalTimeParameters' AS type)),
            xmlelement(name title, zone),
            xmlelement(name content,
                xmlelement(name "LocalTimeParameters", xmlattributes('http://naesb.org/espi' AS xmlns),
                    xmlelement(name "dstEndRule", tp.dst_end_rule),
                    xmlelement(name "dstOffset", tp.dst_offset),
                    xmlelement(name "dstStartRule", tp.dst_start_rule),
                    xmlelement(name "tzOffset", tp.tz_offset))),
            xmlelement(name published, stamp),
            xmlelement(name updated, stamp)),
        -- per meter and channel: a meter reading and its reading type
        (SELECT pg_catalog.xmlagg(xmlconcat(
             xmlelement(name entry,
                 xmlelement(name id, 'urn:uuid:' OPERATOR(pg_catalog.||)
                     pg_catalog.md5(pg_catalog.concat_ws('/', 'MeterReading', utility, sp, s.meter_id, s.channel, s.unit))::uuid),
                 xmlelement(name link, xmlattributes('self' AS rel,
                     base OPERATOR(pg_catalog.||) '/MeterReading/' OPERATOR(pg_catalog.||) s.k AS href, 'espi-entry/MeterReading' AS type)),
                 xmlelement(name link, xmlattributes('up' AS rel,
                     base OPERATOR(pg_catalog.||) '/MeterReading' AS href, 'espi-feed/MeterReading' AS type)),
                 xmlelement(name link, xmlattributes('related' AS rel,
                     base OPERATOR(pg_catalog.||) '/MeterReading/' OPERATOR(pg_catalog.||) s.k
                     OPERATOR(pg_catalog.||) '/IntervalBlock' AS href, 'espi-feed/IntervalBlock' AS type)),
                 xmlelement(name link, xmlattributes('related' AS rel,
                     'https://gridflow.invalid/espi/1_1/resource/ReadingType/' OPERATOR(pg_catalog.||) s.k AS href, 'espi-entry/ReadingType' AS type)),
                 xmlelement(name title, s.meter_id),
                 xmlelement(name content,
                     xmlelement(name "MeterReading", xmlattributes('http://naesb.org/espi' AS xmlns))),
                 xmlelement(name published, stamp),
                 xmlelement(name updated, stamp)),
             xmlelement(name entry,
                 xmlelement(name id, 'urn:uuid:' OPERATOR(pg_catalog.||)
                     pg_catalog.md5(pg_catalog.concat_ws('/', 'ReadingType', utility, sp, s.meter_id, s.channel, s.unit))::uuid),
                 xmlelement(name link, xmlattributes('self' AS rel,
                     'https://gridflow.invalid/espi/1_1/resource/ReadingType/' OPERATOR(pg_catalog.||) s.k AS href, 'espi-entry/ReadingType' AS type)),
                 xmlelement(name link, xmlattributes('up' AS rel,
                     'https://gridflow.invalid/espi/1_1/resource/ReadingType' AS href, 'espi-feed/ReadingType' AS type)),
                 xmlelement(name title, s.channel),
                 xmlelement(name content,
                     xmlelement(name "ReadingType", xmlattributes('http://naesb.org/espi' AS xmlns),
                         xmlelement(name "accumulationBehaviour", s.accumulation),
                         xmlelement(name commodity, 1),
                         xmlelement(name "dataQualifier", 12),
                         xmlelement(name "defaultQuality", 0),
                         xmlelement(name "flowDirection", s.flow),
                         CASE WHEN s.interval_length IS NOT NULL THEN
                             xmlelement(name "intervalLength", s.interval_length)
                         END,
                         xmlelement(name kind, s.kind),
                         xmlelement(name "powerOfTenMultiplier", s.multiplier),
                         xmlelement(name "timeAttribute", 0),
                         xmlelement(name uom, s.uom))),
                 xmlelement(name published, stamp),
                 xmlelement(name updated, stamp)))
             ORDER BY s.k)
           FROM scaled s),
        -- one interval block per meter reading and local day
        (SELECT pg_catalog.xmlagg(
             xmlelement(name entry,
                 xmlelement(name id, 'urn:uuid:' OPERATOR(pg_catalog.||)
                     pg_catalog.md5(pg_catalog.concat_ws('/', 'IntervalBlock', utility, sp, s.meter_id, s.channel, s.unit,
                                                         b.local_date))::uuid),
                 xmlelement(name link, xmlattributes('self' AS rel,
                     base OPERATOR(pg_catalog.||) '/MeterReading/' OPERATOR(pg_catalog.||) b.k
                     OPERATOR(pg_catalog.||) '/IntervalBlock/' OPERATOR(pg_catalog.||) pg_catalog.to_char(b.local_date, 'YYYYMMDD') AS href, 'espi-entry/IntervalBlock' AS type)),
                 xmlelement(name link, xmlattributes('up' AS rel,
                     base OPERATOR(pg_catalog.||) '/MeterReading/' OPERATOR(pg_catalog.||) b.k
                     OPERATOR(pg_catalog.||) '/IntervalBlock' AS href, 'espi-feed/IntervalBlock' AS type)),
                 xmlelement(name title, pg_catalog.to_char(b.local_date, 'YYYY-MM-DD')),
                 xmlelement(name content,
                     xmlelement(name "IntervalBlock", xmlattributes('http://naesb.org/espi' AS xmlns),
                         xmlelement(name interval,
                             xmlelement(name duration,
                                 pg_catalog.date_part('epoch',
                                     pg_catalog.timezone(zone, (b.local_date OPERATOR(pg_catalog.+) 1)::timestamp)
                                     OPERATOR(pg_catalog.-) pg_catalog.timezone(zone, b.local_date::timestamp))::bigint),
                             xmlelement(name start,
                                 pg_catalog.date_part('epoch', pg_catalog.timezone(zone, b.local_date::timestamp))::bigint)),
                         b.readings)),
                 xmlelement(name published, stamp),
                 xmlelement(name updated, stamp))
             ORDER BY b.k, b.local_date)
           FROM blocks b JOIN scaled s ON s.k OPERATOR(pg_catalog.=) b.k))
      INTO feed;
    RETURN feed;
END
$$;
COMMENT ON FUNCTION gridflow.green_button(text, date, date, text) IS 'A service point''s reads of the local days "from" to "to" (both included) as a Green Button (NAESB ESPI) Atom feed: a UsagePoint (title: the service point), LocalTimeParameters of the utility''s time zone (its rules in the year of "from"), per meter, channel and unit a MeterReading (title: the meter) and its ReadingType (title: the channel; uom, powerOfTenMultiplier, accumulationBehaviour, intervalLength, flowDirection: gridflow.channel.flow_direction, 1 forward when not configured), and one IntervalBlock per local day of IntervalReadings (timePeriod start in UTC epoch seconds and duration, 0 when unknown; value an integer in uom times 10^powerOfTenMultiplier, exact; ReadingQuality with the quality code when it is not 0). Reads through product.usage_interval with the caller''s rights: row-level security applies. utility_id is needed only when the service point id exists in several utilities the caller may read';
