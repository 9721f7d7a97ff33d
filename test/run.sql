-- What "make run" runs in its throwaway cluster (psql -v drop=DIR, empty
-- for the sample shipped with the extension).
\set ON_ERROR_STOP on
CREATE EXTENSION gridflow;
\pset footer off
SELECT step, table_name, row_count, round(elapsed_ms::numeric, 1) AS elapsed_ms
  FROM gridflow_build(coalesce(nullif(:'drop', ''), gridflow.sample_dir()));
\pset tuples_only on
\pset format unaligned
SELECT line FROM dq.snapshot ORDER BY line_no;
