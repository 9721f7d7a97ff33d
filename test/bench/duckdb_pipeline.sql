-- The same pipeline in DuckDB (read_csv + SQL), for the benchmark's
-- side-by-side figures: what a DuckDB user would write.  Semantics as the
-- plain-PostgreSQL competitor: keep-first by file order (rowid of the table
-- a file is read into, DuckDB preserving insertion order), left joins,
-- daily buckets in UTC without channel, and the DQ figures.  :drop is
-- replaced by the drop directory.
CREATE TABLE u1_sp AS SELECT * FROM read_csv(':drop/utility1/utility1_service_points.csv', header = true, all_varchar = true);
CREATE TABLE u1_mt AS SELECT * FROM read_csv(':drop/utility1/utility1_meters.csv', header = true, all_varchar = true);
CREATE TABLE u1_iv AS SELECT * FROM read_csv(':drop/utility1/utility1_intervals.csv', header = true,
    types = {'value': 'DOUBLE', 'duration': 'INTEGER', 'timestamp': 'TIMESTAMPTZ'});
CREATE TABLE u2_sp AS SELECT * FROM read_csv(':drop/utility2/utility2_service_points.csv', header = true, all_varchar = true);
CREATE TABLE u2_mt AS SELECT * FROM read_csv(':drop/utility2/utility2_meters.csv', header = true, all_varchar = true);
CREATE TABLE u2_iv AS SELECT * FROM read_csv(':drop/utility2/utility2_intervals.csv', header = true,
    types = {'channel': 'VARCHAR', 'duration': 'INTEGER', 'meter_id': 'VARCHAR', 'quality': 'VARCHAR',
             'timestamp': 'INTEGER', 'value': 'DOUBLE'});

CREATE TABLE service_points AS
SELECT * EXCLUDE (ord) FROM (
    SELECT 'UTILITY1' AS utility_id, SERVICE_POINT_ID AS service_point_id, NULL AS house_num,
           SERVICE_POINT_STREET AS street, NULL AS house_supp, SERVICE_POINT_CITY AS city,
           SERVICE_POINT_ZIP AS zip, SERVICE_POINT_STATE AS state, rowid AS ord FROM u1_sp
    UNION ALL
    SELECT 'UTILITY2', premise_id, premise_house_num, premise_street, premise_house_supp,
           premise_city, premise_zip, premise_region, rowid FROM u2_sp)
QUALIFY row_number() OVER (PARTITION BY utility_id, service_point_id ORDER BY ord) = 1;

CREATE TABLE meters AS
SELECT * EXCLUDE (ord) FROM (
    SELECT 'UTILITY1' AS utility_id, meter_id, meter_id AS serial_number, meter_type,
           meter_category, NULL AS service_point_id, rowid AS ord FROM u1_mt
    UNION ALL
    SELECT 'UTILITY2', meter_id, meter_number, meter_type, meter_channel, premise_id, rowid FROM u2_mt)
QUALIFY row_number() OVER (PARTITION BY utility_id, meter_id ORDER BY ord) = 1;

CREATE TABLE u1_kept AS
SELECT * FROM (SELECT service_delivery_point_id, meter_id, "timestamp", channel, value, rowid AS ord FROM u1_iv)
QUALIFY row_number() OVER (PARTITION BY service_delivery_point_id, meter_id, "timestamp", channel ORDER BY ord) = 1;

CREATE TABLE u2_kept AS
SELECT * FROM (SELECT meter_id, "timestamp", channel, value, rowid AS ord FROM u2_iv)
QUALIFY row_number() OVER (PARTITION BY meter_id, "timestamp", channel ORDER BY ord) = 1;

CREATE TABLE intervals AS
SELECT 'UTILITY1' AS utility_id, service_delivery_point_id AS service_point_id, meter_id,
       "timestamp" AS interval_start_ts, channel, value, CAST(1 AS BIGINT) AS src, ord
  FROM u1_kept
UNION ALL
SELECT 'UTILITY2', m.service_point_id, i.meter_id,
       timezone('UTC', CAST(make_date(i."timestamp" // 10000, i."timestamp" // 100 % 100, i."timestamp" % 100) AS TIMESTAMP)),
       i.channel, i.value, CAST(2 AS BIGINT), i.ord
  FROM u2_kept i
  LEFT JOIN meters m ON m.utility_id = 'UTILITY2' AND m.meter_id = i.meter_id;

CREATE TABLE product AS
SELECT iv.*, sp.city, left(sp.zip, 3) AS zip3, sp.state, mt.serial_number, mt.meter_type, mt.meter_category
  FROM intervals iv
  LEFT JOIN meters mt ON mt.utility_id = iv.utility_id AND mt.meter_id = iv.meter_id
  LEFT JOIN service_points sp ON sp.utility_id = iv.utility_id AND sp.service_point_id = iv.service_point_id;

CREATE TABLE experience AS
SELECT utility_id, coalesce(service_point_id, 'UNKNOWN_SERVICE_POINT') AS service_point_id,
       CAST(timezone('UTC', interval_start_ts) AS DATE) AS bucket_start,
       sum(value) AS total_usage, count(value) AS interval_count,
       arg_max(value, ([value, -src::DOUBLE, -ord::DOUBLE])) AS peak_usage_value,
       arg_max(interval_start_ts, ([value, -src::DOUBLE, -ord::DOUBLE])) AS peak_usage_ts,
       arg_min(value, ([value, src::DOUBLE, ord::DOUBLE])) AS pit_usage_value,
       arg_min(interval_start_ts, ([value, src::DOUBLE, ord::DOUBLE])) AS pit_usage_ts
  FROM product
 GROUP BY ALL;

-- DQ figures, and the lines the harness compares with gridflow's on the
-- check drop: kept reads and their total per utility, UTC service-point days.
SELECT 'reads', utility_id, count(*), round(fsum(value), 3) FROM intervals GROUP BY ALL ORDER BY ALL;
SELECT 'days', count(*) FROM experience;
SELECT 'utility2 duplicates', (SELECT count(*) FROM u2_iv) - (SELECT count(*) FROM intervals WHERE src = 2);
SELECT 'orphans', count(DISTINCT iv.service_point_id), count(*)
  FROM intervals iv LEFT JOIN service_points sp
    ON sp.utility_id = iv.utility_id AND sp.service_point_id = iv.service_point_id
 WHERE sp.service_point_id IS NULL;
SELECT 'values', min(value), max(value), avg(value), median(value), count(*) FILTER (WHERE value = 0)
  FROM intervals;
