-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION gridflow UPDATE TO '0.2.0'" to load this file. \quit

-- Upgrade from 0.1.0 to 0.2.0.  Every change to the install script sources
-- (src/sql/[0-9]*.sql) made after 0.1.0 is repeated here; the upgrade
-- regression test checks that an updated installation equals a fresh one.
SET LOCAL search_path TO pg_catalog, pg_temp;

--
-- Security: roles, row-level security per utility, masked views for
-- external readers, configured files kept inside the drop directory.
--
-- The roles first: the policies and grants below name them.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT v.name, v.comment
          FROM (VALUES
                ('gridflow_pipeline', 'gridflow: runs builds (together with pg_read_server_files), maintains the configuration, reads every layer of every utility'),
                ('gridflow_internal', 'gridflow: reads the standardized, product, experience and dq schemas, all columns, rows of the utilities mapped in gridflow.role_utility'),
                ('gridflow_external', 'gridflow: reads the external schema only (addresses masked, ZIP cut to three digits), rows of the utilities mapped in gridflow.role_utility'))
               AS v(name, comment)
    LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles a WHERE a.rolname OPERATOR(pg_catalog.=) r.name) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r.name);
            EXECUTE pg_catalog.format('COMMENT ON ROLE %I IS %L', r.name, r.comment);
        ELSIF EXISTS (SELECT FROM pg_catalog.pg_roles a
                       WHERE a.rolname OPERATOR(pg_catalog.=) r.name
                         AND (a.rolsuper OR a.rolcanlogin OR a.rolcreaterole OR a.rolcreatedb
                              OR a.rolreplication OR a.rolbypassrls)) THEN
            RAISE EXCEPTION 'role "%" exists and is not a plain group role', r.name
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'gridflow grants privileges to this role, so it must be NOLOGIN, without SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS.',
                      HINT = 'Change the role with ALTER ROLE, or drop it, before creating the extension.';
        END IF;
    END LOOP;
END
$$;

CREATE SCHEMA external;
COMMENT ON SCHEMA external IS 'gridflow views for external readers (gridflow_external): street, house number and house supplement masked, ZIP codes cut to three digits, rows of the reader''s utilities only';

ALTER TABLE gridflow.source_file ADD CONSTRAINT source_file_path_in_drop
    CHECK (file_path OPERATOR(pg_catalog.!~) '^/|(^|/)[.][.](/|$)');
COMMENT ON CONSTRAINT source_file_path_in_drop ON gridflow.source_file IS 'A configured file stays inside the drop directory: whoever may edit the configuration cannot point a build at other server files';
COMMENT ON COLUMN gridflow.source_file.file_path IS 'Path of the file relative to the drop directory (e.g. utility1/utility1_intervals.csv); it may not start with / or contain a .. component';

CREATE TABLE gridflow.role_utility (
    role_name name NOT NULL,
    utility_id text NOT NULL REFERENCES gridflow.utility ON UPDATE CASCADE ON DELETE CASCADE,
    PRIMARY KEY (role_name, utility_id)
);
COMMENT ON TABLE gridflow.role_utility IS 'Row-level security: a role sees the rows of the utilities mapped here to any role whose privileges it has (gridflow_pipeline sees every utility); a role mapped to none sees no rows.  Each role sees only its own mappings';
COMMENT ON COLUMN gridflow.role_utility.role_name IS 'Role, or group role whose members get the mapping';
COMMENT ON COLUMN gridflow.role_utility.utility_id IS 'Utility whose rows the role may read';
SELECT pg_catalog.pg_extension_config_dump('gridflow.role_utility', '');

ALTER VIEW gridflow.product_source SET (security_invoker = true);
ALTER VIEW gridflow.experience_source SET (security_invoker = true);
COMMENT ON FUNCTION gridflow.read_csv(text, text[], text, text) IS 'Stream a CSV file on the server (RFC 4180, UTF-8, optional BOM, LF/CRLF/CR): one row per record after the header, with its line number; columns picks header names (case-insensitive, any order, missing ones are an error), NULL returns every column; records that are not rows of the file come back with reject_reason set and fields NULL. Empty unquoted fields are NULL. Needs superuser or pg_read_server_files, and a path in gridflow.allowed_directories when that is set.';
COMMENT ON FUNCTION gridflow.read_csv_header(text, text, text) IS 'The header fields of a CSV file on the server (NULL for an empty file). Needs superuser or pg_read_server_files, and a path in gridflow.allowed_directories when that is set.';
COMMENT ON FUNCTION @extschema@.gridflow_build(text) IS 'Rebuild every layer from a drop directory (DIR/utility1/utility1_intervals.csv and so on, as gridflow.source_file says; NULL: the sample installed with the extension), in the caller''s transaction: on error nothing changes. Returns one row per table written with its row count and time. The caller needs EXECUTE (granted to gridflow_pipeline) and superuser or pg_read_server_files; every file is checked against the caller and gridflow.allowed_directories. The build then runs as the owner of the extension (search_path pg_catalog, pg_temp), so the caller needs no privileges on the layers.';

-- Landing is for the pipeline only: the data-quality views that read it
-- are made anew (dq.snapshot depends on the others, so it goes first).
DROP VIEW dq.snapshot;
DROP VIEW dq.timestamp_range;
DROP VIEW dq.rejects;
DROP VIEW dq.row_counts;

CREATE VIEW dq.row_counts WITH (security_invoker = true) AS
WITH u AS (
    SELECT DISTINCT b.utility_id FROM gridflow.batch b
), c(ord, layer, table_name, utility_id, row_count) AS (
    SELECT 1, 'landing', 'landing.source_record', b.utility_id, pg_catalog.sum(b.records_read)::bigint
      FROM gridflow.batch b
     GROUP BY b.utility_id
    UNION ALL
    SELECT 2, 'landing', 'landing.reject', b.utility_id,
           pg_catalog.sum(b.records_rejected OPERATOR(pg_catalog.+) b.rows_invalid)::bigint
      FROM gridflow.batch b
     GROUP BY b.utility_id
    UNION ALL
    SELECT 3, 'standardized', 'standardized.service_point', utility_id, pg_catalog.count(*)
      FROM standardized.service_point GROUP BY utility_id
    UNION ALL
    SELECT 4, 'standardized', 'standardized.meter', utility_id, pg_catalog.count(*)
      FROM standardized.meter GROUP BY utility_id
    UNION ALL
    SELECT 5, 'standardized', 'standardized.meter_assignment', utility_id, pg_catalog.count(*)
      FROM standardized.meter_assignment GROUP BY utility_id
    UNION ALL
    SELECT 6, 'standardized', 'standardized.interval_read', utility_id, pg_catalog.count(*)
      FROM standardized.interval_read GROUP BY utility_id
    UNION ALL
    SELECT 7, 'product', 'product.usage_interval', utility_id, pg_catalog.count(*)
      FROM product.usage_interval GROUP BY utility_id
    UNION ALL
    SELECT 8, 'experience', 'experience.daily_usage', utility_id, pg_catalog.count(*)
      FROM experience.daily_usage GROUP BY utility_id
), t(ord, layer, table_name) AS (
    SELECT DISTINCT ord, layer, table_name FROM c
    UNION
    VALUES (1, 'landing', 'landing.source_record'), (2, 'landing', 'landing.reject'),
           (3, 'standardized', 'standardized.service_point'), (4, 'standardized', 'standardized.meter'),
           (5, 'standardized', 'standardized.meter_assignment'), (6, 'standardized', 'standardized.interval_read'),
           (7, 'product', 'product.usage_interval'), (8, 'experience', 'experience.daily_usage')
)
SELECT t.layer, t.table_name, u.utility_id, coalesce(c.row_count, 0) AS row_count
  FROM t CROSS JOIN u
  LEFT JOIN c ON c.ord OPERATOR(pg_catalog.=) t.ord AND c.utility_id OPERATOR(pg_catalog.=) u.utility_id
 ORDER BY t.ord, u.utility_id;
COMMENT ON VIEW dq.row_counts IS 'Rows per layer table and utility (utilities of the current build); the landing tables are counted from the batch figures, which roles that may not read landing can see';
COMMENT ON COLUMN dq.row_counts.layer IS 'Medallion layer';
COMMENT ON COLUMN dq.row_counts.table_name IS 'Table';
COMMENT ON COLUMN dq.row_counts.utility_id IS 'Utility';
COMMENT ON COLUMN dq.row_counts.row_count IS 'Rows';

CREATE VIEW dq.rejects WITH (security_barrier = true) AS
SELECT b.utility_id,
       b.file_kind,
       j.stage,
       j.reason,
       pg_catalog.count(*) AS records,
       pg_catalog.min(j.line_no) AS first_line,
       pg_catalog.max(j.line_no) AS last_line,
       j.target_column
  FROM landing.reject j
  JOIN gridflow.batch b ON b.batch_id OPERATOR(pg_catalog.=) j.batch_id
 WHERE (SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
    OR b.utility_id OPERATOR(pg_catalog.=) ANY (
           SELECT m.utility_id
             FROM gridflow.role_utility m
             JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
            WHERE pg_catalog.pg_has_role(r.oid, 'USAGE'))
 GROUP BY b.utility_id, b.file_kind, j.stage, j.reason, j.target_column
 ORDER BY b.utility_id, b.file_kind, j.stage, j.reason, j.target_column;
COMMENT ON VIEW dq.rejects IS 'Rejected source records per utility, file kind, stage, reason and column (details in landing.reject, for the pipeline).  It runs with the rights of its owner, so that readers without access to landing see these counts, and shows the utilities of the reader (gridflow.role_utility; all of them for gridflow_pipeline)';
COMMENT ON COLUMN dq.rejects.utility_id IS 'Utility';
COMMENT ON COLUMN dq.rejects.file_kind IS 'File kind';
COMMENT ON COLUMN dq.rejects.stage IS 'landing or standardized';
COMMENT ON COLUMN dq.rejects.reason IS 'Reason code';
COMMENT ON COLUMN dq.rejects.records IS 'Rejected records';
COMMENT ON COLUMN dq.rejects.first_line IS 'First line concerned';
COMMENT ON COLUMN dq.rejects.last_line IS 'Last line concerned';
COMMENT ON COLUMN dq.rejects.target_column IS 'Standardized column whose value was rejected (NULL for landing rejects)';

CREATE VIEW dq.timestamp_range WITH (security_invoker = true) AS
SELECT p.utility_id,
       pg_catalog.min(p.local_date) AS first_local_date,
       pg_catalog.max(p.local_date) AS last_local_date,
       pg_catalog.max(p.local_date) - pg_catalog.min(p.local_date) AS days,
       pg_catalog.min(p.interval_start_ts) AS first_start_ts,
       pg_catalog.max(p.interval_start_ts) AS last_start_ts,
       pg_catalog.count(*) - pg_catalog.count(p.interval_start_ts) AS null_timestamps,
       pg_catalog.count(*) FILTER (WHERE p.interval_start_ts OPERATOR(pg_catalog.<) '2020-01-01 00:00:00+00'::timestamptz) AS before_2020,
       (SELECT coalesce(pg_catalog.sum(j.records), 0)::bigint
          FROM dq.rejects j
         WHERE j.target_column OPERATOR(pg_catalog.=) 'interval_start_ts'
           AND (p.utility_id IS NULL OR j.utility_id OPERATOR(pg_catalog.=) p.utility_id)) AS rejected_timestamps
  FROM product.usage_interval p
 GROUP BY GROUPING SETS ((p.utility_id), ())
 ORDER BY p.utility_id NULLS LAST;
COMMENT ON VIEW dq.timestamp_range IS 'Range of read start times per utility and for all (utility_id NULL), in each utility''s local days; rejected_timestamps counts records rejected for an unreadable or missing start time';
COMMENT ON COLUMN dq.timestamp_range.utility_id IS 'Utility; NULL for all utilities';
COMMENT ON COLUMN dq.timestamp_range.first_local_date IS 'First local day with a read';
COMMENT ON COLUMN dq.timestamp_range.last_local_date IS 'Last local day with a read';
COMMENT ON COLUMN dq.timestamp_range.days IS 'last_local_date - first_local_date';
COMMENT ON COLUMN dq.timestamp_range.first_start_ts IS 'Earliest interval start';
COMMENT ON COLUMN dq.timestamp_range.last_start_ts IS 'Latest interval start';
COMMENT ON COLUMN dq.timestamp_range.null_timestamps IS 'Reads without a start time (always 0: such records are rejected)';
COMMENT ON COLUMN dq.timestamp_range.before_2020 IS 'Reads starting before 2020';
COMMENT ON COLUMN dq.timestamp_range.rejected_timestamps IS 'Source records rejected because of their start time (dq.rejects)';

CREATE VIEW dq.snapshot WITH (security_invoker = true) AS
WITH
u AS (
    SELECT u.utility_id, pg_catalog.row_number() OVER (ORDER BY u.build_order, u.utility_id) AS pos
      FROM gridflow.utility u
     WHERE u.utility_id IN (SELECT b.utility_id FROM gridflow.batch b)
),
-- ROW COUNTS: one line per metric, one column per utility, then the total
metric(ord, label, utility_id, n) AS (
    SELECT CASE r.table_name
                WHEN 'landing.source_record' THEN 1 WHEN 'landing.reject' THEN 2
                WHEN 'standardized.service_point' THEN 3 WHEN 'standardized.meter' THEN 4
                WHEN 'standardized.interval_read' THEN 5 WHEN 'product.usage_interval' THEN 6
                WHEN 'experience.daily_usage' THEN 7 END,
           CASE r.table_name
                WHEN 'landing.source_record' THEN 'Landing Records' WHEN 'landing.reject' THEN 'Rejected Records'
                WHEN 'standardized.service_point' THEN 'Service Points' WHEN 'standardized.meter' THEN 'Meters'
                WHEN 'standardized.interval_read' THEN 'Interval Reads' WHEN 'product.usage_interval' THEN 'Product Rows'
                WHEN 'experience.daily_usage' THEN 'Daily Usage Rows' END,
           r.utility_id, r.row_count
      FROM dq.row_counts r
     WHERE r.table_name OPERATOR(pg_catalog.<>) 'standardized.meter_assignment'
    UNION ALL
    SELECT 8, 'Service-Point Days', s.utility_id, s.service_point_days
      FROM dq.experience_summary s
    UNION ALL
    SELECT 9, 'Service Points in Experience', s.utility_id, s.service_points
      FROM dq.experience_summary s
),
metric_line AS (
    SELECT m.ord,
           '  ' OPERATOR(pg_catalog.||) pg_catalog.rpad(m.label, 28)
           OPERATOR(pg_catalog.||) pg_catalog.string_agg(pg_catalog.lpad(gridflow.fmt_count(m.n), 11), '' ORDER BY u.pos)
           OPERATOR(pg_catalog.||) pg_catalog.lpad(gridflow.fmt_count(coalesce(
                   pg_catalog.max(t.n), pg_catalog.sum(m.n)::bigint)), 11) AS line
      FROM metric m
      JOIN u ON u.utility_id OPERATOR(pg_catalog.=) m.utility_id
      LEFT JOIN metric t ON t.ord OPERATOR(pg_catalog.=) m.ord AND t.utility_id IS NULL
     GROUP BY m.ord, m.label
),
dup AS (
    SELECT d.*, u.pos FROM dq.source_duplicates d JOIN u USING (utility_id)
     WHERE d.duplicate_rows OPERATOR(pg_catalog.>) 0
),
share AS (
    SELECT s.*, u.pos FROM dq.dedup_value_share s JOIN u USING (utility_id)
),
ri AS (
    SELECT r.*, u.pos FROM dq.referential_integrity r JOIN u USING (utility_id)
),
ri_total AS (
    SELECT relationship, pg_catalog.sum(orphan_ids)::bigint AS ids, pg_catalog.sum(orphan_rows)::bigint AS rows_
      FROM ri GROUP BY relationship
),
vp AS (SELECT * FROM dq.value_profile WHERE utility_id IS NULL),
tr AS (SELECT * FROM dq.timestamp_range WHERE utility_id IS NULL),
ex AS (SELECT * FROM dq.experience_summary WHERE utility_id IS NULL),
rd AS (SELECT * FROM dq.readiness WHERE utility_id IS NULL),
comp AS (
    SELECT c.table_name,
           pg_catalog.string_agg(c.column_name OPERATOR(pg_catalog.||) ' '
                                 OPERATOR(pg_catalog.||) pg_catalog.round(c.pct_complete)::text
                                 OPERATOR(pg_catalog.||) '% (' OPERATOR(pg_catalog.||) gridflow.fmt_count(c.non_null)
                                 OPERATOR(pg_catalog.||) ' of ' OPERATOR(pg_catalog.||) gridflow.fmt_count(c.total_rows)
                                 OPERATOR(pg_catalog.||) ')', ', ' ORDER BY c.column_name)
               FILTER (WHERE c.pct_complete OPERATOR(pg_catalog.<) 100) AS incomplete
      FROM dq.completeness c
     WHERE c.utility_id IS NULL
     GROUP BY c.table_name
),
lines(section, ord, line) AS (
    SELECT 0, 1, 'IEDR Data Quality Snapshot'
    UNION ALL
    SELECT 0, 2, coalesce((SELECT 'Build ' OPERATOR(pg_catalog.||) b.build_id::text
                                             OPERATOR(pg_catalog.||) ' of ' OPERATOR(pg_catalog.||) b.drop_dir
                                        FROM gridflow.build b
                                       WHERE b.build_id OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(x.build_id) FROM gridflow.batch x)),
                                     'No build yet: run SELECT * FROM gridflow_build();')
    UNION ALL
    SELECT 0, 3, pg_catalog.repeat('-', 72)
    -- ROW COUNTS
    UNION ALL
    SELECT 1, 0, pg_catalog.rpad('ROW COUNTS', 30)
                 OPERATOR(pg_catalog.||) coalesce((SELECT pg_catalog.string_agg(pg_catalog.lpad(u.utility_id, 11), '' ORDER BY u.pos) FROM u), '')
                 OPERATOR(pg_catalog.||) pg_catalog.lpad('Total', 11)
    UNION ALL
    SELECT 1, ord, line FROM metric_line
    -- SOURCE DUPLICATES
    UNION ALL
    SELECT 2, 0, 'SOURCE DUPLICATES'
    UNION ALL
    SELECT 2, 1 + 10 * pg_catalog.row_number() OVER (ORDER BY d.pos, d.file_kind),
           pg_catalog.format('  %s %s: %s duplicate rows (%s%% of %s); %s keys conflict, %s rows disagree with the first of their key',
                             d.utility_id, d.file_kind, gridflow.fmt_count(d.duplicate_rows),
                             pg_catalog.round(d.duplicate_pct), gridflow.fmt_count(d.source_rows),
                             gridflow.fmt_count(d.conflicting_keys), gridflow.fmt_count(d.conflicting_rows))
      FROM dup d
    UNION ALL
    SELECT 2, 1, '  none' WHERE NOT EXISTS (SELECT 1 FROM dup)
    UNION ALL
    SELECT 2, 900, pg_catalog.format('  Meters under several service points: %s', gridflow.fmt_count(pg_catalog.count(*)))
      FROM dq.multi_premise_meters
    UNION ALL
    SELECT 2, 901, pg_catalog.format('  Service points listed with conflicting attributes: %s', gridflow.fmt_count(pg_catalog.count(*)))
      FROM dq.conflicting_service_points
    -- VALUE KEPT BY DEDUP
    UNION ALL
    SELECT 3, 0, 'INTERVAL VALUE KEPT BY DE-DUPLICATION'
    UNION ALL
    SELECT 3, 10 * pg_catalog.row_number() OVER (ORDER BY s.pos, s.channel NULLS FIRST),
           CASE WHEN s.channel IS NULL
                THEN pg_catalog.format('  %s %s (%s): %s of the raw value kept%s', CASE WHEN s.warning IS NOT NULL THEN '!!' ELSE 'OK' END,
                                       s.utility_id, s.policy,
                                       coalesce(s.kept_share_pct::text OPERATOR(pg_catalog.||) '%', 'n/a'),
                                       CASE WHEN s.warning IS NOT NULL THEN ' <-- the dropped duplicates carry most of the usage' ELSE '' END)
                ELSE pg_catalog.format('       channel %s: %s kept (%s of %s source rows kept)', s.channel,
                                       coalesce(s.kept_share_pct::text OPERATOR(pg_catalog.||) '%', 'n/a'),
                                       gridflow.fmt_count(s.kept_rows), gridflow.fmt_count(s.source_rows)) END
      FROM share s
     WHERE s.channel IS NULL OR s.kept_share_pct OPERATOR(pg_catalog.<) 99
    -- REFERENTIAL INTEGRITY
    UNION ALL
    SELECT 4, 0, 'REFERENTIAL INTEGRITY'
    UNION ALL
    SELECT 4, 10, pg_catalog.format('  Intervals -> Meters:         %s orphan meter ids (%s rows) %s',
                                    gridflow.fmt_count(ids), gridflow.fmt_count(rows_),
                                    CASE WHEN ids OPERATOR(pg_catalog.=) 0 THEN 'OK' ELSE 'WARN' END)
      FROM ri_total WHERE relationship OPERATOR(pg_catalog.=) 'interval_read.meter_id -> meter'
    UNION ALL
    SELECT 4, 20, pg_catalog.format('  Intervals -> Service Points: %s orphan SP IDs (%s rows) %s',
                                    gridflow.fmt_count(ids), gridflow.fmt_count(rows_),
                                    CASE WHEN rows_ OPERATOR(pg_catalog.=) 0 THEN 'OK' ELSE 'WARN' END)
      FROM ri_total WHERE relationship OPERATOR(pg_catalog.=) 'interval_read.service_point_id -> service_point'
    UNION ALL
    SELECT 4, 20 + ri.pos,
           pg_catalog.format('    %s: %s missing service points (%s rows)', ri.utility_id,
                             gridflow.fmt_count(ri.orphan_ids), gridflow.fmt_count(ri.orphan_rows))
      FROM ri WHERE ri.relationship OPERATOR(pg_catalog.=) 'interval_read.service_point_id -> service_point'
                AND ri.orphan_rows OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 4, 200, pg_catalog.format('  Meters -> Service Points:    %s unknown SP IDs (%s meters) %s',
                                     gridflow.fmt_count(ids), gridflow.fmt_count(rows_),
                                     CASE WHEN ids OPERATOR(pg_catalog.=) 0 THEN 'OK' ELSE 'WARN' END)
      FROM ri_total WHERE relationship OPERATOR(pg_catalog.=) 'meter.service_point_id -> service_point'
    -- METER LINKS
    UNION ALL
    SELECT 5, 0, 'METER LINKS (reads that reach service points through meters)'
    UNION ALL
    SELECT 5, 10 * pg_catalog.row_number() OVER (ORDER BY a.utility_id),
           pg_catalog.format('  %s (%s): %s of %s reads on meters under several service points; effective_dated and first_row differ on %s; %s without an effective assignment',
                             a.utility_id, a.policy, gridflow.fmt_count(a.reads_on_multi_premise_meters),
                             gridflow.fmt_count(a.reads), gridflow.fmt_count(a.reads_where_policies_differ),
                             gridflow.fmt_count(a.reads_without_effective_assignment))
      FROM dq.meter_link_ambiguity a
    UNION ALL
    SELECT 5, 1, '  none' WHERE NOT EXISTS (SELECT 1 FROM dq.meter_link_ambiguity)
    -- COMPLETENESS
    UNION ALL
    SELECT 6, 0, 'COMPLETENESS (% non-null)'
    UNION ALL
    SELECT 6, CASE c.table_name WHEN 'standardized.interval_read' THEN 1 WHEN 'standardized.meter' THEN 2 ELSE 3 END,
           '  ' OPERATOR(pg_catalog.||)
           CASE c.table_name WHEN 'standardized.interval_read' THEN 'Intervals' WHEN 'standardized.meter' THEN 'Meters'
                ELSE 'Service Points' END
           OPERATOR(pg_catalog.||) ': ' OPERATOR(pg_catalog.||) coalesce(c.incomplete, 'all critical fields complete')
      FROM comp c
    -- INTERVAL VALUES
    UNION ALL
    SELECT 7, 0, 'INTERVAL VALUES'
    UNION ALL
    SELECT 7, 1, pg_catalog.format('  Range: %s to %s', gridflow.fmt_count(pg_catalog.round(vp.min_value)::bigint),
                                   gridflow.fmt_count(pg_catalog.round(vp.max_value)::bigint)) FROM vp
    UNION ALL
    SELECT 7, 2, pg_catalog.format('  Mean: %s, Median: %s', gridflow.fmt_count(pg_catalog.round(vp.mean_value)::bigint),
                                   gridflow.fmt_count(pg_catalog.round(vp.median_value)::bigint)) FROM vp
    UNION ALL
    SELECT 7, 3, pg_catalog.format('  Zeros: %s (%s%%)', gridflow.fmt_count(vp.zeros), vp.zero_pct) FROM vp
    UNION ALL
    SELECT 7, 4, pg_catalog.format('  Negatives: %s', gridflow.fmt_count(vp.negatives)) FROM vp
    UNION ALL
    SELECT 7, 5, pg_catalog.format('  Outliers (IQR): %s (%s%%)', gridflow.fmt_count(vp.iqr_outliers), vp.outlier_pct) FROM vp
    -- TIMESTAMP RANGE
    UNION ALL
    SELECT 8, 0, 'TIMESTAMP RANGE (local days)'
    UNION ALL
    SELECT 8, 1, pg_catalog.format('  %s to %s (%s days)', tr.first_local_date, tr.last_local_date, tr.days) FROM tr
    UNION ALL
    SELECT 8, 2, pg_catalog.format('  Nulls: %s, Pre-2020: %s, Rejected timestamps: %s',
                                   tr.null_timestamps, tr.before_2020, tr.rejected_timestamps) FROM tr
    -- EXPERIENCE
    UNION ALL
    SELECT 9, 0, 'EXPERIENCE LAYER'
    UNION ALL
    SELECT 9, 1, pg_catalog.format('  %s daily summaries (%s service-point days) for %s service points',
                                   gridflow.fmt_count(ex.daily_rows), gridflow.fmt_count(ex.service_point_days),
                                   gridflow.fmt_count(ex.service_points)) FROM ex
    UNION ALL
    SELECT 9, 2, pg_catalog.format('  Avg daily usage per channel: %s', gridflow.fmt_count(pg_catalog.round(ex.avg_daily_usage)::bigint)) FROM ex
    UNION ALL
    SELECT 9, 3, pg_catalog.format('  Peak value seen: %s', gridflow.fmt_count(pg_catalog.round(ex.max_peak_value)::bigint)) FROM ex
    -- REJECTED RECORDS
    UNION ALL
    SELECT 10, 0, 'REJECTED RECORDS'
    UNION ALL
    SELECT 10, pg_catalog.row_number() OVER (ORDER BY j.utility_id, j.file_kind, j.stage, j.reason),
           pg_catalog.format('  %s %s, %s: %s %s (lines %s to %s)', j.utility_id, j.file_kind, j.stage,
                             gridflow.fmt_count(j.records), j.reason, j.first_line, j.last_line)
      FROM (SELECT utility_id, file_kind, stage, reason, pg_catalog.sum(records)::bigint AS records,
                   pg_catalog.min(first_line) AS first_line, pg_catalog.max(last_line) AS last_line
              FROM dq.rejects
             GROUP BY utility_id, file_kind, stage, reason) j
    UNION ALL
    SELECT 10, 1, '  none' WHERE NOT EXISTS (SELECT 1 FROM dq.rejects)
    -- SUMMARY
    UNION ALL
    SELECT 11, 0, pg_catalog.repeat('-', 72)
    UNION ALL
    SELECT 11, 1, 'SUMMARY'
    UNION ALL
    SELECT 11, 2, pg_catalog.format('  Records ready for analysis: %s (%s / %s)',
                                    gridflow.fmt_pct(rd.ready_reads, rd.reads), gridflow.fmt_count(rd.ready_reads),
                                    gridflow.fmt_count(rd.reads)) FROM rd
    UNION ALL
    SELECT 11, 3, '  Issues to address:'
     WHERE EXISTS (SELECT 1 FROM ri WHERE orphan_rows OPERATOR(pg_catalog.>) 0
                                      AND relationship OPERATOR(pg_catalog.<>) 'meter.service_point_id -> service_point')
        OR EXISTS (SELECT 1 FROM dup WHERE file_kind OPERATOR(pg_catalog.=) 'interval' AND duplicate_pct OPERATOR(pg_catalog.>) 50)
        OR EXISTS (SELECT 1 FROM share WHERE channel IS NULL AND warning IS NOT NULL)
        OR EXISTS (SELECT 1 FROM vp WHERE negatives OPERATOR(pg_catalog.>) 0)
        OR EXISTS (SELECT 1 FROM dq.rejects)
    UNION ALL
    SELECT 11, 10 + ri.pos,
           pg_catalog.format('    - %s service point ids missing from %s (%s reads; source issue)',
                             gridflow.fmt_count(ri.orphan_ids), ri.utility_id, gridflow.fmt_count(ri.orphan_rows))
      FROM ri WHERE ri.relationship OPERATOR(pg_catalog.=) 'interval_read.service_point_id -> service_point'
                AND ri.orphan_rows OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 11, 30 + ri.pos,
           pg_catalog.format('    - %s meter ids missing from %s (%s reads)',
                             gridflow.fmt_count(ri.orphan_ids), ri.utility_id, gridflow.fmt_count(ri.orphan_rows))
      FROM ri WHERE ri.relationship OPERATOR(pg_catalog.=) 'interval_read.meter_id -> meter'
                AND ri.orphan_rows OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 11, 50 + d.pos,
           pg_catalog.format('    - %s has %s%% duplicate interval readings (clarify with utility)',
                             d.utility_id, pg_catalog.round(d.duplicate_pct))
      FROM dup d WHERE d.file_kind OPERATOR(pg_catalog.=) 'interval' AND d.duplicate_pct OPERATOR(pg_catalog.>) 50
    UNION ALL
    SELECT 11, 70 + s.pos,
           pg_catalog.format('    - %s de-duplication (%s) keeps only %s%% of the raw interval value',
                             s.utility_id, s.policy, s.kept_share_pct)
      FROM share s WHERE s.channel IS NULL AND s.warning IS NOT NULL
    UNION ALL
    SELECT 11, 90, '    - Negative usage values found' FROM vp WHERE vp.negatives OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 11, 91, pg_catalog.format('    - %s source records rejected (see dq.rejects)',
                                     gridflow.fmt_count(pg_catalog.sum(records)::bigint))
      FROM dq.rejects HAVING pg_catalog.sum(records) OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 11, 99, pg_catalog.repeat('-', 72)
)
SELECT pg_catalog.row_number() OVER (ORDER BY section, ord)::integer AS line_no,
       line
  FROM (SELECT section, ord, line FROM lines
        UNION ALL
        SELECT s, -1, '' FROM pg_catalog.generate_series(1, 11) s) l
 ORDER BY line_no;
COMMENT ON VIEW dq.snapshot IS 'The data-quality report as text, one row per line, in order of line_no: row counts, duplicates, value kept by de-duplication, referential integrity, meter links, completeness, values, timestamps, experience, rejects and a summary';
COMMENT ON COLUMN dq.snapshot.line_no IS 'Line number';
COMMENT ON COLUMN dq.snapshot.line IS 'Text of the line';

--
-- Views for external readers (gridflow_external).  The external role has
-- no privilege on any layer table: these views run with the rights of their
-- owner, so they apply the utility filter of row-level security themselves
-- (rows of the utilities mapped to the reader in gridflow.role_utility; all
-- of them for gridflow_pipeline), and they are security barriers, so that
-- no function of the reader's query sees a row before that filter.  Street,
-- house number and house supplement are masked (always NULL); the ZIP code
-- is cut to its first three digits (zip3).
--
CREATE VIEW external.usage_interval WITH (security_barrier = true) AS
SELECT p.utility_id,
       p.service_point_id,
       p.meter_id,
       p.channel,
       p.interval_start_ts,
       p.interval_end_ts,
       p.local_date,
       p.duration_seconds,
       p.value,
       p.quality,
       p.service_point_known,
       p.meter_known,
       p.serial_number,
       p.meter_type,
       p.meter_category,
       p.service_point_number,
       NULL::pg_catalog.text AS house_num,
       NULL::pg_catalog.text AS street,
       NULL::pg_catalog.text AS house_supp,
       p.city,
       pg_catalog.left(p.zip, 3) AS zip3,
       p.state,
       p.last_update_time,
       p.exported_at
  FROM product.usage_interval p
 WHERE (SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
    OR p.utility_id OPERATOR(pg_catalog.=) ANY (
           SELECT m.utility_id
             FROM gridflow.role_utility m
             JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
            WHERE pg_catalog.pg_has_role(r.oid, 'USAGE'));
COMMENT ON VIEW external.usage_interval IS 'product.usage_interval for external readers: address masked, ZIP cut to three digits, lineage left out, rows of the reader''s utilities';
COMMENT ON COLUMN external.usage_interval.utility_id IS 'Utility';
COMMENT ON COLUMN external.usage_interval.service_point_id IS 'Service point (NULL when unknown)';
COMMENT ON COLUMN external.usage_interval.meter_id IS 'Meter';
COMMENT ON COLUMN external.usage_interval.channel IS 'Channel';
COMMENT ON COLUMN external.usage_interval.interval_start_ts IS 'Start of the interval';
COMMENT ON COLUMN external.usage_interval.interval_end_ts IS 'End of the interval';
COMMENT ON COLUMN external.usage_interval.local_date IS 'Day of interval_start_ts in the utility''s time zone';
COMMENT ON COLUMN external.usage_interval.duration_seconds IS 'Interval length in seconds';
COMMENT ON COLUMN external.usage_interval.value IS 'Usage value';
COMMENT ON COLUMN external.usage_interval.quality IS 'Quality flag';
COMMENT ON COLUMN external.usage_interval.service_point_known IS 'The service point exists in the standardized layer';
COMMENT ON COLUMN external.usage_interval.meter_known IS 'The meter exists in the standardized layer';
COMMENT ON COLUMN external.usage_interval.serial_number IS 'Meter serial number';
COMMENT ON COLUMN external.usage_interval.meter_type IS 'Meter type';
COMMENT ON COLUMN external.usage_interval.meter_category IS 'Meter category';
COMMENT ON COLUMN external.usage_interval.service_point_number IS 'Service point number';
COMMENT ON COLUMN external.usage_interval.house_num IS 'House number: masked, always NULL';
COMMENT ON COLUMN external.usage_interval.street IS 'Street: masked, always NULL';
COMMENT ON COLUMN external.usage_interval.house_supp IS 'House supplement: masked, always NULL';
COMMENT ON COLUMN external.usage_interval.city IS 'City';
COMMENT ON COLUMN external.usage_interval.zip3 IS 'First three digits of the ZIP code (ZIP3)';
COMMENT ON COLUMN external.usage_interval.state IS 'State';
COMMENT ON COLUMN external.usage_interval.last_update_time IS 'When the utility last updated the read';
COMMENT ON COLUMN external.usage_interval.exported_at IS 'When the utility exported the read';

CREATE VIEW external.service_point WITH (security_barrier = true) AS
SELECT s.utility_id,
       s.service_point_id,
       s.service_point_number,
       NULL::pg_catalog.text AS house_num,
       NULL::pg_catalog.text AS street,
       NULL::pg_catalog.text AS house_supp,
       s.city,
       pg_catalog.left(s.zip, 3) AS zip3,
       s.state,
       s.installed_at,
       s.removed_at,
       s.created_at,
       s.updated_at
  FROM standardized.service_point s
 WHERE (SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
    OR s.utility_id OPERATOR(pg_catalog.=) ANY (
           SELECT m.utility_id
             FROM gridflow.role_utility m
             JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
            WHERE pg_catalog.pg_has_role(r.oid, 'USAGE'));
COMMENT ON VIEW external.service_point IS 'standardized.service_point for external readers: address masked, ZIP cut to three digits, lineage left out, rows of the reader''s utilities';
COMMENT ON COLUMN external.service_point.utility_id IS 'Utility';
COMMENT ON COLUMN external.service_point.service_point_id IS 'Service point identifier (utility2: the premise)';
COMMENT ON COLUMN external.service_point.service_point_number IS 'Service point number, where the utility gives one';
COMMENT ON COLUMN external.service_point.house_num IS 'House number: masked, always NULL';
COMMENT ON COLUMN external.service_point.street IS 'Street: masked, always NULL';
COMMENT ON COLUMN external.service_point.house_supp IS 'House supplement: masked, always NULL';
COMMENT ON COLUMN external.service_point.city IS 'City';
COMMENT ON COLUMN external.service_point.zip3 IS 'First three digits of the ZIP code (ZIP3)';
COMMENT ON COLUMN external.service_point.state IS 'State or region';
COMMENT ON COLUMN external.service_point.installed_at IS 'When the service point was installed';
COMMENT ON COLUMN external.service_point.removed_at IS 'When it was removed';
COMMENT ON COLUMN external.service_point.created_at IS 'Record creation time at the utility';
COMMENT ON COLUMN external.service_point.updated_at IS 'Record update time at the utility';

CREATE VIEW external.daily_usage WITH (security_barrier = true) AS
SELECT e.utility_id,
       e.service_point_id,
       e.local_date,
       e.channel,
       e.bucket_start,
       e.bucket_end,
       e.total_usage,
       e.interval_count,
       e.peak_usage_value,
       e.peak_usage_ts,
       e.pit_usage_value,
       e.pit_usage_ts
  FROM experience.daily_usage e
 WHERE (SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
    OR e.utility_id OPERATOR(pg_catalog.=) ANY (
           SELECT m.utility_id
             FROM gridflow.role_utility m
             JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
            WHERE pg_catalog.pg_has_role(r.oid, 'USAGE'));
COMMENT ON VIEW external.daily_usage IS 'experience.daily_usage for external readers: rows of the reader''s utilities';
COMMENT ON COLUMN external.daily_usage.utility_id IS 'Utility';
COMMENT ON COLUMN external.daily_usage.service_point_id IS 'Service point';
COMMENT ON COLUMN external.daily_usage.local_date IS 'Local day in the utility''s time zone';
COMMENT ON COLUMN external.daily_usage.channel IS 'Channel (kWh and kVARh are never added together)';
COMMENT ON COLUMN external.daily_usage.bucket_start IS 'Local midnight starting the day';
COMMENT ON COLUMN external.daily_usage.bucket_end IS 'Next local midnight (exclusive)';
COMMENT ON COLUMN external.daily_usage.total_usage IS 'Sum of the day''s values';
COMMENT ON COLUMN external.daily_usage.interval_count IS 'Reads with a value in the day';
COMMENT ON COLUMN external.daily_usage.peak_usage_value IS 'Largest value of the day';
COMMENT ON COLUMN external.daily_usage.peak_usage_ts IS 'Start of the read holding the peak (earliest on ties)';
COMMENT ON COLUMN external.daily_usage.pit_usage_value IS 'Smallest value of the day';
COMMENT ON COLUMN external.daily_usage.pit_usage_ts IS 'Start of the read holding the pit (earliest on ties)';

--
-- Functions that open server files are not for PUBLIC; on top of EXECUTE
-- they check that the calling role may read server files (superuser or
-- pg_read_server_files) and gridflow.allowed_directories.
--
REVOKE EXECUTE ON FUNCTION gridflow.read_csv(text, text[], text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION gridflow.read_csv_header(text, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.gridflow_build(text) FROM PUBLIC;

--
-- The pipeline: builds (gridflow_build runs as the owner of the extension,
-- so no write privilege on the layers is needed), configuration, and
-- reading everything.  The schemas are not open to PUBLIC.
--
GRANT USAGE ON SCHEMA gridflow, landing, standardized, product, experience, dq TO gridflow_pipeline;
GRANT EXECUTE ON FUNCTION gridflow.read_csv(text, text[], text, text),
                          gridflow.read_csv_header(text, text, text),
                          @extschema@.gridflow_build(text)
    TO gridflow_pipeline;
GRANT SELECT, INSERT, UPDATE, DELETE ON gridflow.utility, gridflow.source_file, gridflow.column_map
    TO gridflow_pipeline;
GRANT SELECT ON gridflow.batch, gridflow.build, gridflow.role_utility,
                gridflow.product_source, gridflow.experience_source,
                landing.source_record, landing.reject,
                standardized.service_point, standardized.meter,
                standardized.meter_assignment, standardized.interval_read,
                product.usage_interval, experience.daily_usage
    TO gridflow_pipeline;
GRANT SELECT ON ALL TABLES IN SCHEMA dq TO gridflow_pipeline;

--
-- Internal readers: every column of the layers after landing, and data
-- quality; no configuration beyond the utilities, nothing in landing.
--
GRANT USAGE ON SCHEMA gridflow, standardized, product, experience, dq TO gridflow_internal;
GRANT SELECT ON gridflow.utility, gridflow.batch, gridflow.build, gridflow.role_utility,
                standardized.service_point, standardized.meter,
                standardized.meter_assignment, standardized.interval_read,
                product.usage_interval, experience.daily_usage
    TO gridflow_internal;
GRANT SELECT ON ALL TABLES IN SCHEMA dq TO gridflow_internal;

--
-- External readers: the masked views, nothing else.
--
GRANT USAGE ON SCHEMA external TO gridflow_external;
GRANT SELECT ON ALL TABLES IN SCHEMA external TO gridflow_external;

--
-- Row-level security.  Every table with rows of a utility shows a role the
-- rows of the utilities mapped to it in gridflow.role_utility (through any
-- role whose privileges it has); gridflow_pipeline sees every row.  The
-- policies are for SELECT only: nobody but the owner writes the layers, and
-- the owner (the build) is not subject to them; the pipeline also edits
-- gridflow.utility.  The landing tables are filtered through their batch.
--
ALTER TABLE gridflow.role_utility ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_mappings ON gridflow.role_utility FOR SELECT TO PUBLIC
    USING (EXISTS (SELECT FROM pg_catalog.pg_roles r
                    WHERE r.rolname OPERATOR(pg_catalog.=) role_utility.role_name
                      AND pg_catalog.pg_has_role(r.oid, 'USAGE')));
COMMENT ON POLICY own_mappings ON gridflow.role_utility IS 'A role sees the mappings of the roles whose privileges it has';

DO $$
DECLARE
    t regclass;
    mapped text := 'SELECT m.utility_id FROM gridflow.role_utility m '
                   'JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name '
                   'WHERE pg_catalog.pg_has_role(r.oid, ''USAGE'')';
BEGIN
    FOR t IN
        SELECT x.t::regclass
          FROM pg_catalog.unnest(ARRAY['gridflow.utility', 'gridflow.batch',
                                       'landing.source_record', 'landing.reject',
                                       'standardized.service_point', 'standardized.meter',
                                       'standardized.meter_assignment', 'standardized.interval_read',
                                       'product.usage_interval', 'experience.daily_usage']) AS x(t)
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        IF t OPERATOR(pg_catalog.=) 'gridflow.utility'::regclass THEN
            EXECUTE pg_catalog.format('CREATE POLICY pipeline_all_rows ON %s TO gridflow_pipeline '
                                      'USING (true) WITH CHECK (true)', t);
            EXECUTE pg_catalog.format('COMMENT ON POLICY pipeline_all_rows ON %s IS %L', t,
                                      'gridflow_pipeline sees and edits the configuration of every utility');
        ELSE
            EXECUTE pg_catalog.format('CREATE POLICY pipeline_all_rows ON %s FOR SELECT TO gridflow_pipeline USING (true)', t);
            EXECUTE pg_catalog.format('COMMENT ON POLICY pipeline_all_rows ON %s IS %L', t,
                                      'gridflow_pipeline sees the rows of every utility');
        END IF;
        IF pg_catalog.starts_with(t::text, 'landing.') THEN
            EXECUTE pg_catalog.format('CREATE POLICY mapped_utility_rows ON %s FOR SELECT TO PUBLIC USING ('
                                      'batch_id OPERATOR(pg_catalog.=) ANY (SELECT b.batch_id FROM gridflow.batch b '
                                      'WHERE b.utility_id OPERATOR(pg_catalog.=) ANY (%s)))', t, mapped);
        ELSE
            EXECUTE pg_catalog.format('CREATE POLICY mapped_utility_rows ON %s FOR SELECT TO PUBLIC USING ('
                                      'utility_id OPERATOR(pg_catalog.=) ANY (%s))', t, mapped);
        END IF;
        EXECUTE pg_catalog.format('COMMENT ON POLICY mapped_utility_rows ON %s IS %L', t,
                                  'A role sees the rows of the utilities mapped to it in gridflow.role_utility');
    END LOOP;
END
$$;
