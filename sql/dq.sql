-- The data-quality views on the sample shipped with the extension.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gridflow;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET extra_float_digits = 0;
SELECT count(*) AS tables_built FROM gridflow_build() WHERE table_name IS NOT NULL;

SELECT * FROM dq.source_duplicates;
SELECT * FROM dq.dedup_value_share;
SELECT * FROM dq.referential_integrity ORDER BY utility_id, relationship;
SELECT * FROM dq.completeness ORDER BY table_name, column_name, utility_id NULLS LAST;
SELECT * FROM dq.value_profile;
SELECT * FROM dq.timestamp_range;
SELECT * FROM dq.experience_summary;
SELECT utility_id, count(*) AS service_points, sum(conflicting_rows) AS conflicting_rows
  FROM dq.conflicting_service_points GROUP BY 1 ORDER BY 1;
SELECT utility_id, service_points, count(*) AS meters
  FROM dq.multi_premise_meters GROUP BY 1, 2 ORDER BY 1, 2;
SELECT * FROM dq.meter_link_ambiguity;
SELECT * FROM dq.rejects;
SELECT batch_id, utility_id, file_kind, records, records_read, records_rejected, rows_invalid,
       rows_duplicate, rows_kept, duplicate_pct, status
  FROM dq.batches;
SELECT * FROM dq.readiness;

-- The report (line 2 names the drop directory, which depends on the installation)
SELECT line FROM dq.snapshot WHERE line_no <> 2 ORDER BY line_no;

-- Every figure also for a build with rejects
\getenv testdir GRIDFLOW_TEST_DIR
SELECT count(*) AS tables_built FROM gridflow_build(:'testdir' || '/drops/messy') WHERE table_name IS NOT NULL;
SELECT * FROM dq.rejects;
SELECT line FROM dq.snapshot WHERE line_no <> 2 ORDER BY line_no;
