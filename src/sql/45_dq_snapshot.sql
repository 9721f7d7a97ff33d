--
-- dq.snapshot: the whole report as text, one row per line.
--
CREATE VIEW dq.snapshot WITH (security_invoker = true) AS
WITH
u AS (
    SELECT u.utility_id, pg_catalog.row_number() OVER (ORDER BY u.build_order, u.utility_id) AS pos
      FROM gridflow.utility u
     WHERE u.utility_id IN (SELECT b.utility_id FROM gridflow.batch b)
),
-- ROW COUNTS: one line per metric, one column per utility, then the total
-- (the CTEs name their columns in their first SELECT, not in a column
-- list, which Citus loses when it inlines a CTE of a query it sends)
metric AS (
    SELECT CASE r.table_name
                WHEN 'landing.source_record' THEN 1 WHEN 'landing.reject' THEN 2
                WHEN 'standardized.service_point' THEN 3 WHEN 'standardized.meter' THEN 4
                WHEN 'standardized.interval_read' THEN 5 WHEN 'product.usage_interval' THEN 6
                WHEN 'experience.daily_usage' THEN 7 END AS ord,
           CASE r.table_name
                WHEN 'landing.source_record' THEN 'Landing Records' WHEN 'landing.reject' THEN 'Rejected Records'
                WHEN 'standardized.service_point' THEN 'Service Points' WHEN 'standardized.meter' THEN 'Meters'
                WHEN 'standardized.interval_read' THEN 'Interval Reads' WHEN 'product.usage_interval' THEN 'Product Rows'
                WHEN 'experience.daily_usage' THEN 'Daily Usage Rows' END AS label,
           r.utility_id, r.row_count AS n
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
-- the days per unit, as the runs counted them
eu AS (
    SELECT h.unit, pg_catalog.sum(h.daily_rows)::bigint AS daily_rows,
           (SELECT gridflow.exact_sum(x) FROM dq.experience_unit_history h2
              JOIN dq.current_run r2
                ON r2.utility_id OPERATOR(pg_catalog.=) h2.utility_id AND r2.build_id OPERATOR(pg_catalog.=) h2.build_id
             CROSS JOIN LATERAL pg_catalog.unnest(h2.total_usage_partials) x
             WHERE h2.unit IS NOT DISTINCT FROM h.unit)
               / nullif(pg_catalog.sum(h.total_usage_count), 0) AS avg_usage,
           pg_catalog.sum(h.day_resolution_rows)::bigint AS day_rows
      FROM dq.experience_unit_history h
      JOIN dq.current_run r
        ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
     GROUP BY h.unit
),
-- the rows of the dq lists, as the runs counted them
listed AS (
    SELECT h.table_name, h.row_count
      FROM dq.row_counts_history h
      JOIN dq.current_run r
        ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
     WHERE h.table_name IN ('dq.multi_premise_meters', 'dq.conflicting_service_points')
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
-- validation: the reads by quality per utility, the rules over all
-- utilities, the series days against their intervals, the gaps, the
-- estimates per method
vq AS (
    SELECT q.utility_id, u.pos, pg_catalog.sum(q.reads)::bigint AS reads,
           pg_catalog.sum(q.questionable_reads)::bigint AS questionable,
           pg_catalog.sum(q.estimated_reads)::bigint AS estimated
      FROM dq.vee_quality q JOIN u USING (utility_id)
     GROUP BY q.utility_id, u.pos
),
vr AS (
    SELECT r.rule, pg_catalog.sum(r.reads_flagged)::bigint AS reads, pg_catalog.sum(r.days_flagged)::bigint AS days
      FROM dq.vee_rules r
     GROUP BY r.rule
),
vic AS (
    SELECT pg_catalog.sum(c.days)::bigint AS days, pg_catalog.sum(c.days_short)::bigint AS short,
           pg_catalog.sum(c.days_over)::bigint AS over
      FROM dq.vee_interval_counts c
),
vg AS (
    SELECT pg_catalog.sum(g.gaps)::bigint AS gaps, pg_catalog.sum(g.missing_intervals)::bigint AS missing,
           pg_catalog.sum(g.unestimated_gaps)::bigint AS unestimated
      FROM dq.vee_gaps g
),
ve AS (
    SELECT e.method, e.quality_code, pg_catalog.sum(e.gaps_estimated)::bigint AS gaps,
           pg_catalog.sum(e.intervals_estimated)::bigint AS intervals
      FROM dq.vee_estimates e
     GROUP BY e.method, e.quality_code
),
lines AS (
    SELECT 0 AS section, 1 AS ord, 'IEDR Data Quality Snapshot' AS line
    UNION ALL
    SELECT 0, 2, coalesce((SELECT 'Build ' OPERATOR(pg_catalog.||) b.build_id::text
                                             OPERATOR(pg_catalog.||) ' of ' OPERATOR(pg_catalog.||) b.drop_dir
                                        FROM gridflow.build b
                                       WHERE b.build_id OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(x.build_id) FROM gridflow.batch x)),
                                     'No build yet: run SELECT * FROM gridflow_build();')
    UNION ALL
    -- batches recorded, but no partition of the layers: a restored dump, or
    -- an update that stored the layers anew (on Citus the layers are the
    -- distributed tables, and Citus may ask this of a worker, whose storage
    -- has no partitions)
    SELECT 0, 3, 'The layers are not built in this database (restored from a dump, or updated): run SELECT * FROM gridflow_rebuild();'
     WHERE EXISTS (SELECT FROM gridflow.batch)
       AND pg_catalog.to_regclass('gridflow_citus.interval_read') IS NULL
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits i
                        WHERE i.inhparent OPERATOR(pg_catalog.=) 'gridflow_store.service_point'::pg_catalog.regclass)
    UNION ALL
    SELECT 0, 4, pg_catalog.repeat('-', 72)
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
    SELECT 2, 900, pg_catalog.format('  Meters under several service points: %s',
                                     gridflow.fmt_count((SELECT coalesce(pg_catalog.sum(l.row_count), 0)::bigint
                                                           FROM listed l
                                                          WHERE l.table_name OPERATOR(pg_catalog.=) 'dq.multi_premise_meters')))
    UNION ALL
    SELECT 2, 901, pg_catalog.format('  Service points listed with conflicting attributes: %s',
                                     gridflow.fmt_count((SELECT coalesce(pg_catalog.sum(l.row_count), 0)::bigint
                                                           FROM listed l
                                                          WHERE l.table_name OPERATOR(pg_catalog.=) 'dq.conflicting_service_points')))
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
    UNION ALL
    SELECT 8, 10 + 10 * u.pos + pg_catalog.row_number() OVER (PARTITION BY u.pos ORDER BY l.file_kind),
           pg_catalog.format('  %s %s file: %s local times in an hour repeated by a daylight-saving change, %s in a skipped hour',
                             l.utility_id, l.file_kind, gridflow.fmt_count(l.ambiguous), gridflow.fmt_count(l.nonexistent))
      FROM (SELECT b.utility_id, b.file_kind,
                   pg_catalog.sum(b.ambiguous_local_times)::bigint AS ambiguous,
                   pg_catalog.sum(b.nonexistent_local_times)::bigint AS nonexistent
              FROM gridflow.batch b
             GROUP BY b.utility_id, b.file_kind) l
      JOIN u ON u.utility_id OPERATOR(pg_catalog.=) l.utility_id
     WHERE l.ambiguous OPERATOR(pg_catalog.>) 0 OR l.nonexistent OPERATOR(pg_catalog.>) 0
    -- EXPERIENCE
    UNION ALL
    SELECT 9, 0, 'EXPERIENCE LAYER'
    UNION ALL
    SELECT 9, 1, pg_catalog.format('  %s daily summaries (%s service-point days) for %s service points',
                                   gridflow.fmt_count(ex.daily_rows), gridflow.fmt_count(ex.service_point_days),
                                   gridflow.fmt_count(ex.service_points)) FROM ex
    UNION ALL
    -- averages per unit, never across units
    SELECT 9, 2 + (pg_catalog.row_number() OVER (ORDER BY eu.unit NULLS LAST))::integer,
           pg_catalog.format('  Avg daily usage, %s: %s (%s daily rows)',
                             coalesce(eu.unit, 'unit unknown'),
                             CASE WHEN eu.avg_usage OPERATOR(pg_catalog.>=) 100
                                  THEN gridflow.fmt_count(pg_catalog.round(eu.avg_usage)::bigint)
                                  ELSE pg_catalog.round(eu.avg_usage::numeric, 3)::text END,
                             gridflow.fmt_count(eu.daily_rows))
      FROM eu
    UNION ALL
    SELECT 9, 50, pg_catalog.format('  %s daily rows of reads given as dates without a time of day: their peak and pit times are unknown (NULL)',
                                    gridflow.fmt_count(pg_catalog.sum(eu.day_rows)::bigint))
      FROM eu
    HAVING pg_catalog.sum(eu.day_rows) OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 9, 40, pg_catalog.format('  Peak value seen: %s', gridflow.fmt_count(pg_catalog.round(ex.max_peak_value)::bigint)) FROM ex
    -- VALIDATION AND ESTIMATION
    UNION ALL
    SELECT 10, 0, 'VALIDATION AND ESTIMATION'
    UNION ALL
    SELECT 10, 10 * vq.pos,
           pg_catalog.format('  %s: %s of %s reads questionable (%s), %s estimated',
                             vq.utility_id, gridflow.fmt_count(vq.questionable), gridflow.fmt_count(vq.reads),
                             gridflow.fmt_pct(vq.questionable, vq.reads, 1), gridflow.fmt_count(vq.estimated))
      FROM vq
    UNION ALL
    SELECT 10, 1000, '  Reads (service-point days) that failed each rule: ' OPERATOR(pg_catalog.||)
           coalesce(pg_catalog.string_agg(pg_catalog.format('%s %s (%s)', vr.rule, gridflow.fmt_count(vr.reads),
                                                            gridflow.fmt_count(vr.days)), ', ' ORDER BY vr.rule)
                        FILTER (WHERE vr.reads OPERATOR(pg_catalog.>) 0), 'none')
      FROM vr
    HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 10, 1001, pg_catalog.format('  Series days with fewer reads than the day has intervals: %s of %s (%s with more)',
                                       gridflow.fmt_count(vic.short), gridflow.fmt_count(vic.days),
                                       gridflow.fmt_count(vic.over))
      FROM vic WHERE vic.days IS NOT NULL
    UNION ALL
    SELECT 10, 1002, pg_catalog.format('  Gaps: %s (%s whole intervals missing), %s left unestimated',
                                       gridflow.fmt_count(vg.gaps), gridflow.fmt_count(vg.missing),
                                       gridflow.fmt_count(vg.unestimated))
      FROM vg WHERE vg.gaps IS NOT NULL
    UNION ALL
    SELECT 10, 1003, '  Estimation: off (no utility estimates; quality codes 8 and 9 are not used)'
     WHERE NOT EXISTS (SELECT 1 FROM ve)
    UNION ALL
    SELECT 10, 1003, '  Estimated intervals (gaps filled): ' OPERATOR(pg_catalog.||)
           pg_catalog.string_agg(pg_catalog.format('%s %s (%s)', ve.method, gridflow.fmt_count(ve.intervals),
                                                   gridflow.fmt_count(ve.gaps)), ', ' ORDER BY ve.quality_code DESC)
      FROM ve HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 10, 1, '  none' WHERE NOT EXISTS (SELECT 1 FROM vq)
    -- REJECTED RECORDS
    UNION ALL
    SELECT 11, 0, 'REJECTED RECORDS'
    UNION ALL
    SELECT 11, pg_catalog.row_number() OVER (ORDER BY j.utility_id, j.file_kind, j.stage, j.reason),
           pg_catalog.format('  %s %s, %s: %s %s (lines %s to %s)', j.utility_id, j.file_kind, j.stage,
                             gridflow.fmt_count(j.records), j.reason, j.first_line, j.last_line)
      FROM (SELECT utility_id, file_kind, stage, reason, pg_catalog.sum(records)::bigint AS records,
                   pg_catalog.min(first_line) AS first_line, pg_catalog.max(last_line) AS last_line
              FROM dq.rejects
             GROUP BY utility_id, file_kind, stage, reason) j
    UNION ALL
    SELECT 11, 1, '  none' WHERE NOT EXISTS (SELECT 1 FROM dq.rejects)
    -- SUMMARY
    UNION ALL
    SELECT 12, 0, pg_catalog.repeat('-', 72)
    UNION ALL
    SELECT 12, 1, 'SUMMARY'
    UNION ALL
    SELECT 12, 2, pg_catalog.format('  Records ready for analysis: %s (%s / %s)',
                                    gridflow.fmt_pct(rd.ready_reads, rd.reads), gridflow.fmt_count(rd.ready_reads),
                                    gridflow.fmt_count(rd.reads)) FROM rd
    UNION ALL
    SELECT 12, 3, '  Issues to address:'
     WHERE EXISTS (SELECT 1 FROM ri WHERE orphan_rows OPERATOR(pg_catalog.>) 0
                                      AND relationship OPERATOR(pg_catalog.<>) 'meter.service_point_id -> service_point')
        OR EXISTS (SELECT 1 FROM dup WHERE file_kind OPERATOR(pg_catalog.=) 'interval' AND duplicate_pct OPERATOR(pg_catalog.>) 50)
        OR EXISTS (SELECT 1 FROM share WHERE channel IS NULL AND warning IS NOT NULL)
        OR EXISTS (SELECT 1 FROM vp WHERE negatives OPERATOR(pg_catalog.>) 0)
        OR EXISTS (SELECT 1 FROM dq.rejects)
        OR EXISTS (SELECT 1 FROM vq WHERE vq.questionable OPERATOR(pg_catalog.>) 0)
    UNION ALL
    SELECT 12, 10 + ri.pos,
           pg_catalog.format('    - %s service point ids missing from %s (%s reads; source issue)',
                             gridflow.fmt_count(ri.orphan_ids), ri.utility_id, gridflow.fmt_count(ri.orphan_rows))
      FROM ri WHERE ri.relationship OPERATOR(pg_catalog.=) 'interval_read.service_point_id -> service_point'
                AND ri.orphan_rows OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 12, 30 + ri.pos,
           pg_catalog.format('    - %s meter ids missing from %s (%s reads)',
                             gridflow.fmt_count(ri.orphan_ids), ri.utility_id, gridflow.fmt_count(ri.orphan_rows))
      FROM ri WHERE ri.relationship OPERATOR(pg_catalog.=) 'interval_read.meter_id -> meter'
                AND ri.orphan_rows OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 12, 50 + d.pos,
           pg_catalog.format('    - %s has %s%% duplicate interval readings (clarify with utility)',
                             d.utility_id, pg_catalog.round(d.duplicate_pct))
      FROM dup d WHERE d.file_kind OPERATOR(pg_catalog.=) 'interval' AND d.duplicate_pct OPERATOR(pg_catalog.>) 50
    UNION ALL
    SELECT 12, 70 + s.pos,
           pg_catalog.format('    - %s de-duplication (%s) keeps only %s%% of the raw interval value',
                             s.utility_id, s.policy, s.kept_share_pct)
      FROM share s WHERE s.channel IS NULL AND s.warning IS NOT NULL
    UNION ALL
    SELECT 12, 90, '    - Negative usage values found' FROM vp WHERE vp.negatives OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 12, 91, pg_catalog.format('    - %s source records rejected (see dq.rejects)',
                                     gridflow.fmt_count(pg_catalog.sum(records)::bigint))
      FROM dq.rejects HAVING pg_catalog.sum(records) OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 12, 92, pg_catalog.format('    - %s reads failed a validation rule (see dq.vee_rules)',
                                     gridflow.fmt_count(pg_catalog.sum(vq.questionable)::bigint))
      FROM vq HAVING pg_catalog.sum(vq.questionable) OPERATOR(pg_catalog.>) 0
    UNION ALL
    SELECT 12, 99, pg_catalog.repeat('-', 72)
)
SELECT pg_catalog.row_number() OVER (ORDER BY section, ord)::integer AS line_no,
       line
  FROM (SELECT section, ord, line FROM lines
        UNION ALL
        SELECT s, -1, '' FROM pg_catalog.generate_series(1, 12) s) l
 ORDER BY line_no;
COMMENT ON VIEW dq.snapshot IS 'The data-quality report as text, one row per line, in order of line_no: row counts, duplicates, value kept by de-duplication, referential integrity, meter links, completeness, values, timestamps, experience, validation and estimation, rejects and a summary';
COMMENT ON COLUMN dq.snapshot.line_no IS 'Line number';
COMMENT ON COLUMN dq.snapshot.line IS 'Text of the line';
