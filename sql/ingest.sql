--
-- Monthly drops: batches with checksums, idempotent ingests, corrections
-- under each dedup policy, late service points and meters, and the proof
-- that any sequence of ingests ends where gridflow_rebuild() of the same
-- files ends, row for row.
--
-- Drops (staged by test/stage.sh): data/drops/monthly/{empty,jan,feb,fix},
-- small and hand-made; split/{a,b,c}, the shipped sample cut in three.
--
\set drops '/tmp/gridflow-regress/drops/monthly'
\set split '/tmp/gridflow-regress/split'
SET client_min_messages = notice;

-- Every row of every layer and DQ view, as one digest per table (lineage
-- included).
CREATE FUNCTION pg_temp.layer_digests()
RETURNS TABLE (table_name text, row_count bigint, digest text)
LANGUAGE plpgsql AS $$
BEGIN
    FOREACH table_name IN ARRAY ARRAY[
                       'landing.source_record',
                       'landing.reject',
                       'standardized.service_point',
                       'standardized.meter',
                       'standardized.meter_assignment',
                       'standardized.interval_read',
                       'product.usage_interval',
                       'experience.daily_usage',
                       'experience.monthly_usage',
                       'experience.utility_daily_usage', 'experience.utility_monthly_usage',
                       -- the DQ figures the runs stored (dq.batch_quality's
                       -- loaded_at is the batch's, which a rebuild keeps)
                       'dq.row_counts', 'dq.source_duplicates', 'dq.dedup_value_share',
                       'dq.referential_integrity', 'dq.completeness', 'dq.value_profile',
                       'dq.timestamp_range', 'dq.experience_summary', 'dq.meter_link_ambiguity',
                       'dq.batch_quality', 'dq.readiness', 'dq.vee_quality', 'dq.vee_rules',
                       'dq.vee_interval_counts', 'dq.vee_gaps', 'dq.snapshot']
    LOOP
        EXECUTE format('SELECT count(*), md5(coalesce(string_agg(t::text, ''|'' ORDER BY t::text), '''')) FROM %s t',
                       table_name) INTO row_count, digest;
        RETURN NEXT;
    END LOOP;
END
$$;

-- The tables now, then after gridflow_rebuild(): the rows that differ.
CREATE FUNCTION pg_temp.rebuild_differences()
RETURNS TABLE (table_name text, row_count bigint, same boolean)
LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE before_rebuild ON COMMIT DROP AS SELECT * FROM pg_temp.layer_digests();
    PERFORM * FROM gridflow_rebuild();
    RETURN QUERY
        SELECT a.table_name, a.row_count, a.digest = b.digest AND a.row_count = b.row_count
          FROM pg_temp.layer_digests() a JOIN before_rebuild b USING (table_name);
    DROP TABLE before_rebuild;
END
$$;

-- Start from nothing: a drop whose files have only their headers.
SELECT step, row_count FROM gridflow_build(:'drops' || '/empty') WHERE row_count IS NOT NULL;
SELECT count(*) AS batches FROM gridflow.batch;

--
-- January: everything is new.
--
SELECT batch_id, utility, kind, outcome, same_as_batch, records_read, rows_kept,
       rows_matched, rows_replaced, days_refreshed
  FROM gridflow_ingest(:'drops' || '/jan');
SELECT utility_id, service_point_id, meter_id, interval_start_ts, value, batch_id, line_no,
       last_batch_id, source_rows, conflicting_rows, first_value
  FROM standardized.interval_read ORDER BY utility_id, meter_id, interval_start_ts;
SELECT utility_id, service_point_id, local_date, total_usage, interval_count, peak_usage_value
  FROM experience.daily_usage ORDER BY 1, 2, 3;

-- The same drop again changes nothing, and says so.
CREATE TEMP TABLE jan_state AS SELECT * FROM pg_temp.layer_digests();
SELECT batch_id, utility, kind, outcome, same_as_batch, records_read
  FROM gridflow_ingest(:'drops' || '/jan');
SELECT count(*) FILTER (WHERE d.digest = j.digest) AS tables_unchanged, count(*) AS tables
  FROM pg_temp.layer_digests() d JOIN jan_state j USING (table_name);
SELECT count(*) AS batches, count(DISTINCT content_sha256) AS contents,
       bool_and(pg_catalog.length(content_sha256) = 32) AS sha256_kept
  FROM gridflow.batch;
SELECT operation, drop_dir LIKE '%/monthly/jan' AS jan
  FROM gridflow.build
 WHERE build_id >= (SELECT max(build_id) FROM gridflow.build WHERE operation = 'build')
 ORDER BY build_id;

--
-- February: new days, a service point sent again with another address
-- (the first listing stays), the service point of an orphan read, and the
-- meter of reads that had none (they now reach PREM-3).
--
SELECT batch_id, utility, kind, outcome, records_read, rows_kept, rows_matched,
       rows_replaced, days_refreshed
  FROM gridflow_ingest(:'drops' || '/feb');
SELECT utility_id, service_point_id, street, batch_id, last_batch_id, source_rows, conflicting_rows
  FROM standardized.service_point ORDER BY 1, 2;
SELECT utility_id, service_point_id, meter_id, interval_start_ts, value, service_point_known,
       meter_known, city, batch_id
  FROM product.usage_interval ORDER BY utility_id, meter_id, interval_start_ts;
SELECT utility_id, service_point_id, local_date, total_usage, interval_count
  FROM experience.daily_usage ORDER BY 1, 2, 3;

--
-- Corrections under keep_first: the original reads stay; the corrections
-- are counted (source_rows, conflicting_rows, last_batch_id).
--
SELECT batch_id, utility, kind, outcome, records_read, rows_kept, rows_matched,
       rows_replaced, days_refreshed
  FROM gridflow_ingest(:'drops' || '/fix');
SELECT utility_id, meter_id, interval_start_ts, value, batch_id, last_batch_id, source_rows,
       conflicting_rows, first_value, source_value_sum
  FROM standardized.interval_read WHERE last_batch_id > batch_id ORDER BY 1, 2, 3;

-- DQ over time: each batch's figures, and the quality of its reads, per
-- batch or for all of them (batch_id NULL)
SELECT batch_id, operation, utility_id, file_kind, pg_catalog.length(sha256) AS sha256_hex_length,
       records, rows_kept, rows_duplicate, rows_matched, rows_replaced
  FROM dq.batches WHERE batch_id > 6;
SELECT batch_id, utility_id, file_kind, records, rejected, duplicates, new_rows, matched_rows,
       replaced_rows, reads, orphan_reads, unknown_meter_reads, conflicting_keys,
       conflicting_records, resent_keys, min_value, max_value, round(mean_value::numeric, 4) AS mean_value,
       first_day, last_day
  FROM dq.batch_quality WHERE file_kind = 'interval' OR batch_id IS NULL;
SELECT * FROM pg_temp.rebuild_differences();

--
-- The same history under keep_last: the corrections win, and the product
-- rows and days of 2025-01-31 follow.
--
UPDATE gridflow.utility SET interval_dedup_policy = 'keep_last';
SELECT count(*) FROM gridflow_build(:'drops' || '/empty');
SELECT count(*) FROM gridflow_ingest(:'drops' || '/jan');
SELECT count(*) FROM gridflow_ingest(:'drops' || '/feb');
SELECT batch_id, utility, kind, outcome, records_read, rows_kept, rows_matched,
       rows_replaced, days_refreshed
  FROM gridflow_ingest(:'drops' || '/fix');
SELECT utility_id, meter_id, interval_start_ts, value, batch_id, line_no, last_batch_id,
       source_rows, conflicting_rows, first_value
  FROM standardized.interval_read WHERE source_rows > 1 ORDER BY 1, 2, 3;
SELECT utility_id, service_point_id, local_date, total_usage, interval_count,
       peak_usage_value, pit_usage_value
  FROM experience.daily_usage WHERE local_date = '2025-01-31' ORDER BY 1, 2, 3;
SELECT * FROM pg_temp.rebuild_differences();

-- ... and under sum: the corrections add up.
UPDATE gridflow.utility SET interval_dedup_policy = 'sum';
SELECT count(*) FROM gridflow_build(:'drops' || '/empty');
SELECT count(*) FROM gridflow_ingest(:'drops' || '/jan');
SELECT count(*) FROM gridflow_ingest(:'drops' || '/feb');
SELECT batch_id, utility, kind, outcome, records_read, rows_kept, rows_matched,
       rows_replaced, days_refreshed
  FROM gridflow_ingest(:'drops' || '/fix');
SELECT utility_id, meter_id, interval_start_ts, value, source_value_sum, source_rows,
       conflicting_rows, first_value
  FROM standardized.interval_read WHERE source_rows > 1 ORDER BY 1, 2, 3;
SELECT * FROM pg_temp.rebuild_differences();
-- a rebuild follows today's configuration: back to keep_first, the originals return
UPDATE gridflow.utility SET interval_dedup_policy = 'keep_first';
SELECT count(*) FROM gridflow_rebuild();
SELECT utility_id, meter_id, interval_start_ts, value, source_value_sum, source_rows
  FROM standardized.interval_read WHERE source_rows > 1 ORDER BY 1, 2, 3;

--
-- One file at a time: its kind comes from its name, or is given.
--
SELECT count(*) FROM gridflow_build(:'drops' || '/empty');
SELECT batch_id, utility, kind, outcome, rows_kept
  FROM gridflow_ingest(:'drops' || '/jan/utility2/utility2_intervals.csv', 'UTILITY2');
SELECT batch_id, utility, kind, outcome, rows_kept, days_refreshed
  FROM gridflow_ingest(:'drops' || '/jan/utility2/utility2_meters.csv', 'UTILITY2', 'meter');
SELECT service_point_id, meter_id, interval_start_ts FROM standardized.interval_read ORDER BY 2, 3;
SELECT * FROM pg_temp.rebuild_differences();

--
-- The sample cut in three drops, sent in a messy order (a, b, a again, the
-- corrections c, b again), under each policy and each meter link, with and
-- without partitioning to temporary files: always what a rebuild gives.
--
SELECT count(*) FROM gridflow_build(:'drops' || '/empty');
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.messy_history(policy text, link text)
RETURNS TABLE (outcome text, files bigint)
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE gridflow.utility SET interval_dedup_policy = policy;
    UPDATE gridflow.utility SET meter_link_policy = link WHERE utility_id = 'UTILITY2';
    PERFORM * FROM gridflow_build('/tmp/gridflow-regress/drops/monthly/empty');
    RETURN QUERY
        SELECT i.outcome, count(*)
          FROM (SELECT * FROM gridflow_ingest('/tmp/gridflow-regress/split/a')
                UNION ALL SELECT * FROM gridflow_ingest('/tmp/gridflow-regress/split/b')
                UNION ALL SELECT * FROM gridflow_ingest('/tmp/gridflow-regress/split/a')
                UNION ALL SELECT * FROM gridflow_ingest('/tmp/gridflow-regress/split/c')
                UNION ALL SELECT * FROM gridflow_ingest('/tmp/gridflow-regress/split/b')) i
         GROUP BY i.outcome ORDER BY i.outcome;
END
$$;
SELECT * FROM pg_temp.messy_history('keep_first', 'first_row');
SELECT sum(rows_matched) AS matched, sum(rows_replaced) AS replaced FROM gridflow.batch;
SELECT * FROM pg_temp.rebuild_differences();
SELECT * FROM pg_temp.messy_history('keep_last', 'effective_dated');
SELECT sum(rows_matched) AS matched, sum(rows_replaced) AS replaced FROM gridflow.batch;
SELECT * FROM pg_temp.rebuild_differences();
SELECT * FROM pg_temp.messy_history('sum', 'first_row');
SELECT * FROM pg_temp.rebuild_differences();
SET gridflow.build_memory = '64kB';
SELECT * FROM pg_temp.messy_history('keep_last', 'first_row');
SELECT max(spill_partitions) > 0 AS partitioned FROM gridflow.batch;
SELECT * FROM pg_temp.rebuild_differences();
RESET gridflow.build_memory;
-- the three drops ingested give the sample's reads, products and days, as
-- building the whole sample in one go does (lineage aside)
UPDATE gridflow.utility SET interval_dedup_policy = 'keep_first', meter_link_policy = 'first_row';
SELECT * FROM pg_temp.messy_history('keep_first', 'first_row');
CREATE TEMP TABLE three_drops_products AS
SELECT utility_id, service_point_id, meter_id, channel, interval_start_ts, interval_end_ts,
       local_date, value, quality, service_point_known, meter_known, city, zip, state
  FROM product.usage_interval;
CREATE TEMP TABLE three_drops_days AS SELECT * FROM experience.daily_usage;
SELECT count(*) FROM gridflow_build(:'split' || '/../sample');
SELECT (SELECT count(*) FROM three_drops_products) AS products,
       (SELECT count(*) FROM (SELECT utility_id, service_point_id, meter_id, channel, interval_start_ts,
                                     interval_end_ts, local_date, value, quality, service_point_known,
                                     meter_known, city, zip, state
                                FROM product.usage_interval
                              EXCEPT ALL SELECT * FROM three_drops_products) x) AS only_in_sample,
       (SELECT count(*) FROM three_drops_days) AS days,
       (SELECT count(*) FROM (SELECT * FROM experience.daily_usage
                              EXCEPT ALL SELECT * FROM three_drops_days) x) AS days_only_in_sample;
SET client_min_messages = notice;

--
-- Errors.
--
SELECT * FROM gridflow_ingest(NULL);
SELECT * FROM gridflow_ingest(:'drops' || '/jan/utility2/utility2_intervals.csv');
SELECT * FROM gridflow_ingest(:'drops' || '/jan', 'UTILITY9');
SELECT * FROM gridflow_ingest(:'drops' || '/jan', 'UTILITY2', 'interval');
SELECT * FROM gridflow_ingest(:'drops' || '/jan/utility2/utility2_intervals.csv', 'UTILITY2', 'reading');
SELECT * FROM gridflow_ingest(:'drops' || '/nowhere');
-- a directory holding none of the configured files (the files a drop lacks
-- are named: NOTICEs and "missing" rows above)
SELECT * FROM gridflow_ingest('/tmp/gridflow-regress/csv');
SELECT * FROM gridflow_ingest(:'drops' || '/feb/utility2/utility2_meters.csv', 'UTILITY1');
SELECT * FROM gridflow_ingest('relative/path');
-- a file that is not one of the utility's configured names needs its kind
COPY (SELECT * FROM (VALUES ('1', '0', '111', '1', '20250202', '500')) v(channel, duration, meter_id, quality, "timestamp", value))
  TO '/tmp/gridflow-regress/scratch/extra_reads.csv' WITH (FORMAT csv, HEADER);
SELECT * FROM gridflow_ingest('/tmp/gridflow-regress/scratch/extra_reads.csv', 'UTILITY2');
SELECT batch_id, kind, outcome, rows_kept
  FROM gridflow_ingest('/tmp/gridflow-regress/scratch/extra_reads.csv', 'UTILITY2', 'interval');
-- a file that changes after it was loaded cannot be replayed
COPY (SELECT * FROM (VALUES ('1', '0', '111', '1', '20250202', '999')) v(channel, duration, meter_id, quality, "timestamp", value))
  TO '/tmp/gridflow-regress/scratch/extra_reads.csv' WITH (FORMAT csv, HEADER);
SELECT count(*) FROM gridflow_rebuild();
-- put back as it was, the history replays
COPY (SELECT * FROM (VALUES ('1', '0', '111', '1', '20250202', '500')) v(channel, duration, meter_id, quality, "timestamp", value))
  TO '/tmp/gridflow-regress/scratch/extra_reads.csv' WITH (FORMAT csv, HEADER);
SELECT * FROM pg_temp.rebuild_differences();
-- the pipeline role may ingest only with the right to read server files
SET ROLE gridflow_pipeline;
SELECT * FROM gridflow_ingest(:'drops' || '/fix');
RESET ROLE;
-- and whoever has no EXECUTE may not at all
CREATE ROLE regress_ingest_nobody;
SET ROLE regress_ingest_nobody;
SELECT * FROM gridflow_ingest(:'drops' || '/fix');
SELECT * FROM gridflow_rebuild();
RESET ROLE;
DROP ROLE regress_ingest_nobody;

-- leave the sample built, as the other tests expect
SELECT count(*) FROM gridflow_build();
