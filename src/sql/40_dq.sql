--
-- Data quality.  The figures are computed once per run, not each time they
-- are read: at the end of a build (before its new partitions are swapped
-- in) and of an ingest, gridflow.dq_refresh() computes the figures of each
-- utility the run loaded and stores them in the *_history tables of this
-- schema, one set per run (gridflow.build.build_id) and utility, so that
-- DQ over time is kept.  dq.current_run names, for each utility, the run
-- whose figures are current; the dq views read those rows (a handful per
-- utility), add totals over the utilities the reader may see, and format
-- them.  Exact quantiles need every value: dq.value_distribution keeps, per
-- utility and unit, how many reads have each value, and the quantiles of
-- several utilities are computed from it.
--
-- Every view but dq.rejects runs with the privileges of the role reading
-- it (security_invoker), and the stored tables have the row-level security
-- of the layers (65_layer_privileges.sql), so a reader sees the figures of
-- its utilities only, and totals over those.  Landing is for the pipeline
-- only: the landing row counts come from the batch figures, and dq.rejects,
-- the one window onto landing.reject for other readers, shows counts only
-- and filters rows by utility itself.  Rows that are totals over several
-- utilities (or several batches, or channels) have is_total true: leave
-- them out before adding rows up.
--

CREATE TABLE dq.current_run (
    utility_id text PRIMARY KEY,
    build_id bigint NOT NULL,
    refreshed_at timestamptz NOT NULL
);
COMMENT ON TABLE dq.current_run IS 'Which run''s stored DQ figures are current, per utility (grain: one row per utility_id): the last build, rebuild or ingest that loaded the utility';
COMMENT ON COLUMN dq.current_run.utility_id IS 'Utility';
COMMENT ON COLUMN dq.current_run.build_id IS 'The run (gridflow.build) whose figures the dq views show';
COMMENT ON COLUMN dq.current_run.refreshed_at IS 'When they were computed';

CREATE TABLE dq.row_counts_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    table_name text NOT NULL,
    row_count bigint NOT NULL,
    PRIMARY KEY (build_id, utility_id, table_name)
);
COMMENT ON TABLE dq.row_counts_history IS 'Rows of each layer table, and of the lists dq.conflicting_service_points and dq.multi_premise_meters, per run and utility (grain: one row per build_id, utility_id, table_name); dq.row_counts shows the current run''s layer tables';

CREATE TABLE dq.source_duplicates_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    file_kind text NOT NULL,
    source_rows bigint NOT NULL,
    kept_rows bigint NOT NULL,
    keys_with_duplicates bigint NOT NULL,
    conflicting_keys bigint NOT NULL,
    conflicting_rows bigint NOT NULL,
    PRIMARY KEY (build_id, utility_id, file_kind)
);
COMMENT ON TABLE dq.source_duplicates_history IS 'Duplicate source records per run, utility and file kind (grain: one row per build_id, utility_id, file_kind); dq.source_duplicates shows the current run''s';

CREATE TABLE dq.dedup_value_share_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    channel text,
    unit text,
    policy text NOT NULL,
    kept_rows bigint NOT NULL,
    source_rows bigint NOT NULL,
    kept_value_partials double precision[],
    source_value_partials double precision[],
    UNIQUE NULLS NOT DISTINCT (build_id, utility_id, channel)
);
COMMENT ON TABLE dq.dedup_value_share_history IS 'Value kept by de-duplication per run, utility and channel (grain: one row per build_id, utility_id, channel), the sums as exact partials; dq.dedup_value_share shows the current run''s';

CREATE TABLE dq.referential_integrity_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    relationship text NOT NULL,
    orphan_ids bigint NOT NULL,
    orphan_rows bigint NOT NULL,
    checked_rows bigint NOT NULL,
    PRIMARY KEY (build_id, utility_id, relationship)
);
COMMENT ON TABLE dq.referential_integrity_history IS 'Orphans per run, utility and relationship (grain: one row per build_id, utility_id, relationship); dq.referential_integrity shows the current run''s';

CREATE TABLE dq.completeness_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    table_name text NOT NULL,
    column_name text NOT NULL,
    total_rows bigint NOT NULL,
    non_null bigint NOT NULL,
    PRIMARY KEY (build_id, utility_id, table_name, column_name)
);
COMMENT ON TABLE dq.completeness_history IS 'Non-null values of the critical columns per run and utility (grain: one row per build_id, utility_id, table_name, column_name); dq.completeness shows the current run''s';

CREATE TABLE dq.value_profile_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    unit text,
    reads bigint NOT NULL,
    null_values bigint NOT NULL,
    min_value double precision,
    max_value double precision,
    value_partials double precision[],
    median_value double precision,
    q1 double precision,
    q3 double precision,
    zeros bigint NOT NULL,
    negatives bigint NOT NULL,
    iqr_outliers bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (build_id, utility_id, unit)
);
COMMENT ON TABLE dq.value_profile_history IS 'Profile of the standardized values per run, utility and unit (grain: one row per build_id, utility_id, unit), the sum as exact partials; dq.value_profile shows the current run''s';

CREATE TABLE dq.value_distribution (
    utility_id text NOT NULL,
    unit text,
    value_list double precision[] NOT NULL,
    read_counts bigint[] NOT NULL,
    UNIQUE NULLS NOT DISTINCT (utility_id, unit)
);
-- written once per run and read whole: stored out of line, not compressed
ALTER TABLE dq.value_distribution ALTER COLUMN value_list SET STORAGE EXTERNAL,
    ALTER COLUMN read_counts SET STORAGE EXTERNAL;
COMMENT ON TABLE dq.value_distribution IS 'How many standardized reads have each value, per utility and unit (grain: one row per utility_id, unit), as of the current run: the exact quantiles of several utilities are computed from it (gridflow.value_quantiles())';
COMMENT ON COLUMN dq.value_distribution.utility_id IS 'Utility';
COMMENT ON COLUMN dq.value_distribution.unit IS 'Unit of the values (NULL: unknown)';
COMMENT ON COLUMN dq.value_distribution.value_list IS 'The distinct values (reads without a value left out), in ascending order';
COMMENT ON COLUMN dq.value_distribution.read_counts IS 'How many reads have each value of value_list, element by element';

CREATE TABLE dq.value_total (
    runs text[] PRIMARY KEY,
    utilities text[] NOT NULL,
    q1 double precision,
    median double precision,
    q3 double precision,
    iqr_outliers bigint NOT NULL
);
COMMENT ON TABLE dq.value_total IS 'The exact quartiles of the values of every utility together (grain: one row per set of runs that made the utilities'' figures): dq.value_profile''s total row reads the row of the current runs when its reader sees all of those utilities, and computes them from dq.value_distribution otherwise (ingests of different utilities at once each add a row, neither of which may be current)';
COMMENT ON COLUMN dq.value_total.runs IS 'The run of each utility, as utility_id=build_id, in order (dq.current_run when they were computed)';
COMMENT ON COLUMN dq.value_total.utilities IS 'The utilities whose values they cover, in order';
COMMENT ON COLUMN dq.value_total.q1 IS 'First quartile';
COMMENT ON COLUMN dq.value_total.median IS 'Median';
COMMENT ON COLUMN dq.value_total.q3 IS 'Third quartile';
COMMENT ON COLUMN dq.value_total.iqr_outliers IS 'Reads outside the IQR fences';

CREATE TABLE dq.experience_summary_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    daily_rows bigint NOT NULL,
    service_point_days bigint NOT NULL,
    service_points bigint NOT NULL,
    channel_list text[] NOT NULL,
    total_usage_partials double precision[],
    total_usage_count bigint NOT NULL,
    max_peak_value double precision,
    PRIMARY KEY (build_id, utility_id)
);
COMMENT ON TABLE dq.experience_summary_history IS 'The experience layer per run and utility (grain: one row per build_id, utility_id); dq.experience_summary shows the current run''s';

CREATE TABLE dq.experience_unit_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    unit text,
    daily_rows bigint NOT NULL,
    total_usage_partials double precision[],
    total_usage_count bigint NOT NULL,
    day_resolution_rows bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (build_id, utility_id, unit)
);
COMMENT ON TABLE dq.experience_unit_history IS 'The days of the experience layer per run, utility and unit (grain: one row per build_id, utility_id, unit): dq.snapshot averages daily usage per unit from them, never across units';
COMMENT ON COLUMN dq.experience_unit_history.day_resolution_rows IS 'Daily rows of reads given as dates without a time of day (time_resolution day): their peak and pit times are unknown';

CREATE TABLE dq.meter_link_ambiguity_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    policy text NOT NULL,
    reads bigint NOT NULL,
    reads_on_multi_premise_meters bigint NOT NULL,
    reads_with_several_effective_assignments bigint NOT NULL,
    reads_without_effective_assignment bigint NOT NULL,
    reads_where_policies_differ bigint NOT NULL,
    PRIMARY KEY (build_id, utility_id)
);
COMMENT ON TABLE dq.meter_link_ambiguity_history IS 'Ambiguity of the meter to service point link per run and utility whose reads reach service points through meters (grain: one row per build_id, utility_id); dq.meter_link_ambiguity shows the current run''s';

CREATE TABLE dq.multi_premise_meters_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    meter_id text,
    service_points bigint NOT NULL,
    assignment_rows bigint NOT NULL,
    first_installed_at timestamptz,
    last_installed_at timestamptz,
    first_row_service_point text,
    UNIQUE NULLS NOT DISTINCT (build_id, utility_id, meter_id)
);
COMMENT ON TABLE dq.multi_premise_meters_history IS 'Meters that the meter or assignment files put under more than one service point, per run and utility (grain: one row per build_id, utility_id, meter_id); dq.multi_premise_meters shows the current run''s';

CREATE TABLE dq.batch_quality_history (
    build_id bigint NOT NULL,
    batch_id bigint NOT NULL,
    utility_id text NOT NULL,
    reads bigint NOT NULL,
    orphan_reads bigint NOT NULL,
    unknown_meter_reads bigint NOT NULL,
    ready_reads bigint NOT NULL,
    reads_without_service_point bigint NOT NULL,
    with_value bigint NOT NULL,
    value_partials double precision[],
    min_value double precision,
    max_value double precision,
    zero_values bigint NOT NULL,
    negative_values bigint NOT NULL,
    first_day date,
    last_day date,
    first_start_ts timestamptz,
    last_start_ts timestamptz,
    null_timestamps bigint NOT NULL,
    before_2020 bigint NOT NULL,
    conflicting_keys bigint NOT NULL,
    conflicting_records bigint NOT NULL,
    resent_keys bigint NOT NULL,
    PRIMARY KEY (build_id, batch_id)
);
COMMENT ON TABLE dq.batch_quality_history IS 'The quality of the reads whose kept record came from each batch, per run (grain: one row per build_id, batch_id): dq.batch_quality, dq.readiness and dq.timestamp_range show the current run''s';

-- validation (VEE): the reads by quality, the rules they failed, the days
-- by their reads against the day's intervals, the gaps
CREATE TABLE dq.vee_quality_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    channel text NOT NULL,
    reads bigint NOT NULL,
    valid_reads bigint NOT NULL,
    questionable_reads bigint NOT NULL,
    estimated_reads bigint NOT NULL,
    PRIMARY KEY (build_id, utility_id, channel)
);
COMMENT ON TABLE dq.vee_quality_history IS 'Product reads by quality code per run, utility and channel (grain: one row per build_id, utility_id, channel); dq.vee_quality shows the current run''s';

CREATE TABLE dq.vee_rule_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    channel text NOT NULL,
    rule text NOT NULL,
    reads_flagged bigint NOT NULL,
    days_flagged bigint NOT NULL,
    PRIMARY KEY (build_id, utility_id, channel, rule)
);
COMMENT ON TABLE dq.vee_rule_history IS 'Reads and service-point days that failed each enabled validation rule (gridflow.vee_rule, interval_count aside) per run, utility and channel (grain: one row per build_id, utility_id, channel, rule); dq.vee_rules shows the current run''s';

CREATE TABLE dq.vee_interval_count_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    channel text NOT NULL,
    duration_seconds integer NOT NULL,
    day_hours integer NOT NULL,
    expected_intervals integer NOT NULL,
    days bigint NOT NULL,
    days_complete bigint NOT NULL,
    days_short bigint NOT NULL,
    days_over bigint NOT NULL,
    PRIMARY KEY (build_id, utility_id, channel, duration_seconds, day_hours)
);
COMMENT ON TABLE dq.vee_interval_count_history IS 'The interval_count rule of gridflow.vee_rule: the local days of each series (service point, meter, channel) by their reads against the intervals the day''s length and the reads'' duration imply, per run, utility, channel, duration and day length (grain: one row per build_id, utility_id, channel, duration_seconds, day_hours); dq.vee_interval_counts shows the current run''s';

CREATE TABLE dq.vee_gap_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    channel text NOT NULL,
    gaps bigint NOT NULL,
    missing_intervals bigint NOT NULL,
    missing_seconds double precision NOT NULL,
    longest_gap_seconds double precision,
    unestimated_gaps bigint NOT NULL,
    unestimated_intervals bigint NOT NULL,
    PRIMARY KEY (build_id, utility_id, channel)
);
COMMENT ON TABLE dq.vee_gap_history IS 'The gaps of the gap rule of gridflow.vee_rule (the reads it flagged, and the time since the end of the series'' read before each) per run, utility and channel, and those of them left unestimated (grain: one row per build_id, utility_id, channel); dq.vee_gaps shows the current run''s';

CREATE TABLE dq.vee_estimate_history (
    build_id bigint NOT NULL,
    utility_id text NOT NULL,
    channel text NOT NULL,
    quality_code smallint NOT NULL,
    method text NOT NULL,
    gaps_estimated bigint NOT NULL,
    intervals_estimated bigint NOT NULL,
    PRIMARY KEY (build_id, utility_id, channel, quality_code)
);
COMMENT ON TABLE dq.vee_estimate_history IS 'The estimated product rows (gridflow.vee_estimation) per run, utility, channel and method, with the gaps they fill (grain: one row per build_id, utility_id, channel, quality_code; rows only for utilities with estimation); dq.vee_estimates shows the current run''s';

-- DQ over time is history: pg_dump keeps it (the layers it describes are
-- made again by gridflow_rebuild() after a restore, which stores the
-- figures of that run beside the older ones)
SELECT pg_catalog.pg_extension_config_dump('dq.current_run', '');
SELECT pg_catalog.pg_extension_config_dump('dq.row_counts_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.source_duplicates_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.dedup_value_share_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.referential_integrity_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.completeness_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.value_profile_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.value_distribution', '');
SELECT pg_catalog.pg_extension_config_dump('dq.value_total', '');
SELECT pg_catalog.pg_extension_config_dump('dq.experience_summary_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.meter_link_ambiguity_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.batch_quality_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.multi_premise_meters_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.experience_unit_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.vee_quality_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.vee_rule_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.vee_interval_count_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.vee_gap_history', '');
SELECT pg_catalog.pg_extension_config_dump('dq.vee_estimate_history', '');

DO $$
DECLARE
    c record;
BEGIN
    -- the history tables' columns say what the views' say, and more
    FOR c IN
        SELECT a.attrelid::regclass AS rel, a.attname
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid IN ('dq.row_counts_history'::regclass, 'dq.source_duplicates_history'::regclass,
                              'dq.dedup_value_share_history'::regclass, 'dq.referential_integrity_history'::regclass,
                              'dq.completeness_history'::regclass, 'dq.value_profile_history'::regclass,
                              'dq.experience_summary_history'::regclass, 'dq.meter_link_ambiguity_history'::regclass,
                              'dq.experience_unit_history'::regclass, 'dq.multi_premise_meters_history'::regclass,
                              'dq.batch_quality_history'::regclass, 'dq.vee_quality_history'::regclass,
                              'dq.vee_rule_history'::regclass, 'dq.vee_interval_count_history'::regclass,
                              'dq.vee_gap_history'::regclass, 'dq.vee_estimate_history'::regclass)
           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN %s.%I IS %L', c.rel, c.attname,
            CASE c.attname
                WHEN 'build_id' THEN 'The run (gridflow.build) that computed the figures'
                WHEN 'utility_id' THEN 'Utility'
                WHEN 'batch_id' THEN 'Batch'
                WHEN 'table_name' THEN 'Table'
                WHEN 'column_name' THEN 'Critical column'
                WHEN 'file_kind' THEN 'service_point, meter or interval'
                WHEN 'channel' THEN 'Channel'
                WHEN 'unit' THEN 'Unit of the values (NULL: unknown, or several)'
                WHEN 'policy' THEN 'The utility''s policy the run used'
                WHEN 'relationship' THEN 'Which reference is checked'
                WHEN 'kept_value_partials' THEN 'Sum of the kept values, as exact partials (gridflow.exact_sum() of the elements)'
                WHEN 'source_value_partials' THEN 'Sum of the values of all source records, as exact partials'
                WHEN 'value_partials' THEN 'Sum of the values, as exact partials (gridflow.exact_sum() of the elements)'
                WHEN 'total_usage_partials' THEN 'Sum of total_usage, as exact partials'
                WHEN 'total_usage_count' THEN 'Daily rows with a total_usage'
                WHEN 'channel_list' THEN 'The distinct channels'
                WHEN 'with_value' THEN 'Reads with a value'
                WHEN 'daily_rows' THEN 'Rows of experience.daily_usage'
                WHEN 'unestimated_intervals' THEN 'Whole intervals missing in the gaps left unestimated'
                WHEN 'day_resolution_rows' THEN 'Daily rows of reads given as dates without a time of day (time_resolution day): their peak and pit times are unknown'
                ELSE 'As the column of the same name of the dq view'
            END);
    END LOOP;
END
$$;

--
-- Exact quantiles of a distribution of values (as dq.value_distribution
-- keeps them), as percentile_cont() computes them over the values
-- themselves (the same interpolation, in the same floating-point steps).
--
CREATE FUNCTION gridflow.value_quantiles(value_list double precision[], read_counts bigint[],
                                         OUT q1 double precision, OUT median double precision,
                                         OUT q3 double precision, OUT iqr_outliers bigint)
AS 'MODULE_PATHNAME', 'gridflow_value_quantiles'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION gridflow.value_quantiles(double precision[], bigint[]) IS 'Exact first quartile, median and third quartile of a distribution of values (read_counts[i] reads of value value_list[i], in any order), the same figures as percentile_cont() over the values; iqr_outliers counts the reads outside Q1 - 1.5 IQR .. Q3 + 1.5 IQR';

--
-- How the reads of a utility linked to service points through meters
-- would be linked under each meter_link_policy (dq.meter_link_ambiguity).
--
CREATE FUNCTION gridflow.meter_link_figures(utility_id text, reads regclass, meters regclass, assignments regclass,
                                            OUT reads bigint, OUT reads_on_multi_premise_meters bigint,
                                            OUT reads_with_several_effective_assignments bigint,
                                            OUT reads_without_effective_assignment bigint,
                                            OUT reads_where_policies_differ bigint)
AS 'MODULE_PATHNAME', 'gridflow_meter_link_figures'
LANGUAGE C STABLE;
COMMENT ON FUNCTION gridflow.meter_link_figures(text, regclass, regclass, regclass) IS 'How the reads of a utility (reads: its relation of standardized reads) would be linked to service points under each meter_link_policy, from its meters and assignments: the figures of dq.meter_link_ambiguity, in one pass over the reads and the assignments in meter order (the owner of gridflow only)';
REVOKE ALL ON FUNCTION gridflow.meter_link_figures(text, regclass, regclass, regclass) FROM PUBLIC;

--
-- The DQ figures of a utility that the build under way gathered while it
-- wrote the utility's reads, products and days (dqacc.c), one part at a
-- time, each with its own columns: read by gridflow.dq_refresh() only.
CREATE FUNCTION gridflow.dq_build_figures(utility_id text, part text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_dq_build_figures'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION gridflow.dq_build_figures(text, text) IS 'The DQ figures of a utility gathered by the build under way while it wrote the layers, one part (reads, values, products, orphans, days, day_groups, month_groups, day_units) at a time, for gridflow.dq_refresh() (the owner of gridflow only)';
REVOKE ALL ON FUNCTION gridflow.dq_build_figures(text, text) FROM PUBLIC;

-- Compute and store the DQ figures of one utility for run build: called by
-- builds (on the new partitions, before they are swapped in) and ingests
-- (on the utility's partitions), as the owner of gridflow.  Each relation
-- argument is the utility's partition of the layer, or its partitioned
-- table (filtered on the utility).  Every read, product and day is scanned
-- once or twice; the rest reads the dimensions.
--
CREATE FUNCTION gridflow.dq_refresh(build bigint, utility text, reads regclass, products regclass,
                                    days regclass, service_points regclass, meters regclass,
                                    assignments regclass, gathered boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    link text;
    link_policy text;
    read_policy text;
    history regclass;
    -- a relation the utility has no rows in: an empty one of the same shape
    r_reads text := coalesce(reads::text, '(SELECT * FROM gridflow_store.interval_read WHERE false)');
    r_products text := coalesce(products::text, '(SELECT * FROM gridflow_store.usage_interval WHERE false)');
    r_days text := coalesce(days::text, '(SELECT * FROM gridflow_store.daily_usage WHERE false)');
    r_service_points text := coalesce(service_points::text, '(SELECT * FROM gridflow_store.service_point WHERE false)');
    r_meters text := coalesce(meters::text, '(SELECT * FROM gridflow_store.meter WHERE false)');
    r_assignments text := coalesce(assignments::text, '(SELECT * FROM gridflow_store.meter_assignment WHERE false)');
    -- the figures of the reads and products, per group (gathered: by the build's writers)
    g_reads text;
    g_products text;
    g_orphans text;
    g_service_points text;
    g_meters text;
    g_assignments text;
BEGIN
    SELECT u.service_point_link, u.meter_link_policy, u.interval_dedup_policy
      INTO link, link_policy, read_policy
      FROM gridflow.utility u WHERE u.utility_id = utility;
    DELETE FROM dq.current_run c WHERE c.utility_id = utility;
    INSERT INTO dq.current_run VALUES (utility, build, clock_timestamp());
    -- this run's figures of the utility, if it stores them again
    FOR history IN
        SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'dq' AND c.relkind = 'r' AND c.relname LIKE '%\_history'
    LOOP
        EXECUTE format('DELETE FROM %s WHERE build_id = $1 AND utility_id = $2', history) USING build, utility;
    END LOOP;
    DELETE FROM dq.value_distribution v WHERE v.utility_id = utility;
    DELETE FROM gridflow_store.utility_daily_usage d WHERE d.utility_id = utility;
    DELETE FROM gridflow_store.utility_monthly_usage m WHERE m.utility_id = utility;

    -- the reads, one pass: per batch, channel and unit
    IF gathered THEN
        g_reads := $g$
    SELECT * FROM gridflow.dq_build_figures($2, 'reads')
        AS f(batch_id bigint, channel text, unit text, n bigint, src bigint, dup_keys bigint, conf_keys bigint,
             conf_rows bigint, resent bigint, kept_p double precision[], src_p double precision[], c_sp bigint,
             c_m bigint, c_ts bigint, c_v bigint, min_v double precision, max_v double precision, zeros bigint,
             negatives bigint)$g$;
    ELSE
        g_reads := format($g$
    SELECT r.batch_id, r.channel, r.unit,
           count(*) AS n, sum(r.source_rows) AS src,
           count(*) FILTER (WHERE r.source_rows > 1) AS dup_keys,
           count(*) FILTER (WHERE r.conflicting_rows > 0) AS conf_keys,
           coalesce(sum(r.conflicting_rows), 0) AS conf_rows,
           count(*) FILTER (WHERE r.last_batch_id <> r.batch_id) AS resent,
           gridflow.exact_sum_partials(r.value) AS kept_p,
           gridflow.exact_sum_partials(r.source_value_sum) AS src_p,
           count(r.service_point_id) AS c_sp, count(r.meter_id) AS c_m,
           count(r.interval_start_ts) AS c_ts, count(r.value) AS c_v,
           min(r.value) AS min_v, max(r.value) AS max_v,
           count(*) FILTER (WHERE r.value = 0) AS zeros,
           count(*) FILTER (WHERE r.value < 0) AS negatives
      FROM %1$s r
     WHERE r.utility_id = $2
     GROUP BY r.batch_id, r.channel, r.unit$g$, r_reads);
    END IF;
    EXECUTE format($q$
WITH g AS MATERIALIZED (%1$s
), dup AS (
    INSERT INTO dq.source_duplicates_history
    SELECT $1, $2, 'interval', coalesce(sum(g.src), 0), coalesce(sum(g.n), 0), coalesce(sum(g.dup_keys), 0),
           coalesce(sum(g.conf_keys), 0), coalesce(sum(g.conf_rows), 0)
      FROM g
), share AS (
    INSERT INTO dq.dedup_value_share_history
    SELECT $1, $2, g.channel,
           CASE WHEN bool_and(g.unit IS NOT NULL) AND min(g.unit) = max(g.unit) THEN min(g.unit) END,
           $3, sum(g.n), sum(g.src),
           (SELECT gridflow.exact_sum_partials(x) FROM g g2, unnest(g2.kept_p) x
             WHERE g2.channel IS NOT DISTINCT FROM g.channel),
           (SELECT gridflow.exact_sum_partials(x) FROM g g2, unnest(g2.src_p) x
             WHERE g2.channel IS NOT DISTINCT FROM g.channel)
      FROM g
     GROUP BY g.channel
), comp AS (
    INSERT INTO dq.completeness_history
    SELECT $1, $2, 'standardized.interval_read', c.column_name, s.n, c.non_null
      FROM (SELECT coalesce(sum(g.n), 0) AS n, coalesce(sum(g.c_sp), 0) AS sp, coalesce(sum(g.c_m), 0) AS m,
                   coalesce(sum(g.c_ts), 0) AS ts, coalesce(sum(g.c_v), 0) AS v FROM g) s
     CROSS JOIN LATERAL (VALUES ('service_point_id', s.sp), ('meter_id', s.m),
                                ('interval_start_ts', s.ts), ('value', s.v)) c(column_name, non_null)
), profile AS (
    INSERT INTO dq.value_profile_history
    SELECT $1, $2, g.unit, sum(g.n), sum(g.n) - sum(g.c_v), min(g.min_v), max(g.max_v),
           (SELECT gridflow.exact_sum_partials(x) FROM g g2, unnest(g2.kept_p) x
             WHERE g2.unit IS NOT DISTINCT FROM g.unit),
           NULL, NULL, NULL, sum(g.zeros), sum(g.negatives), 0
      FROM g
     GROUP BY g.unit
), rows_ AS (
    INSERT INTO dq.row_counts_history SELECT $1, $2, 'standardized.interval_read', coalesce(sum(g.n), 0) FROM g
)
INSERT INTO dq.batch_quality_history
       (build_id, batch_id, utility_id, reads, orphan_reads, unknown_meter_reads, ready_reads,
        reads_without_service_point, with_value, zero_values, negative_values, null_timestamps, before_2020,
        conflicting_keys, conflicting_records, resent_keys)
SELECT $1, g.batch_id, $2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
       sum(g.conf_keys), sum(g.conf_rows), sum(g.resent)
  FROM g
 GROUP BY g.batch_id
$q$, g_reads) USING build, utility, read_policy;

    -- the values: their distribution, and from it the exact quantiles
    IF gathered THEN
        INSERT INTO dq.value_distribution
        SELECT utility, f.unit, f.value_list, f.read_counts
          FROM gridflow.dq_build_figures(utility, 'values')
            AS f(unit text, value_list double precision[], read_counts bigint[]);
    ELSE
        EXECUTE format($q$
INSERT INTO dq.value_distribution
SELECT $1, v.unit, array_agg(v.value ORDER BY v.value), array_agg(v.n ORDER BY v.value)
  FROM (SELECT r.unit, r.value, count(*) AS n
          FROM %1$s r
         WHERE r.utility_id = $1 AND r.value IS NOT NULL
         GROUP BY r.unit, r.value) v
 GROUP BY v.unit
$q$, r_reads) USING utility;
    END IF;
    UPDATE dq.value_profile_history h
       SET q1 = q.q1, median_value = q.median, q3 = q.q3, iqr_outliers = coalesce(q.iqr_outliers, 0)
      FROM dq.value_distribution d
     CROSS JOIN LATERAL gridflow.value_quantiles(d.value_list, d.read_counts) q
     WHERE d.utility_id = utility AND d.unit IS NOT DISTINCT FROM h.unit
       AND h.build_id = build AND h.utility_id = utility;

    -- the products, one pass: per batch
    IF gathered THEN
        g_products := $g$
    SELECT * FROM gridflow.dq_build_figures($2, 'products')
        AS f(batch_id bigint, n bigint, orphan bigint, unknown_meter bigint, ready bigint, without_sp bigint,
             with_value bigint, value_p double precision[], min_v double precision, max_v double precision,
             zeros bigint, negatives bigint, first_day date, last_day date, first_ts timestamptz,
             last_ts timestamptz, null_ts bigint, before_2020 bigint)$g$;
        g_orphans := $g$
    SELECT * FROM gridflow.dq_build_figures($2, 'orphans') AS f(meters bigint, service_points bigint)$g$;
    ELSE
        g_products := format($g$
    SELECT p.batch_id,
           count(*) AS n,
           count(*) FILTER (WHERE NOT p.service_point_known) AS orphan,
           count(*) FILTER (WHERE NOT p.meter_known) AS unknown_meter,
           count(*) FILTER (WHERE p.service_point_known AND p.meter_known) AS ready,
           count(*) FILTER (WHERE p.service_point_id IS NULL) AS without_sp,
           count(p.value) AS with_value,
           gridflow.exact_sum_partials(p.value) AS value_p,
           min(p.value) AS min_v, max(p.value) AS max_v,
           count(*) FILTER (WHERE p.value = 0) AS zeros,
           count(*) FILTER (WHERE p.value < 0) AS negatives,
           min(p.local_date) AS first_day, max(p.local_date) AS last_day,
           min(p.interval_start_ts) AS first_ts, max(p.interval_start_ts) AS last_ts,
           count(*) - count(p.interval_start_ts) AS null_ts,
           count(*) FILTER (WHERE p.interval_start_ts < '2020-01-01 00:00:00+00'::timestamptz) AS before_2020,
           array_agg(DISTINCT p.meter_id) FILTER (WHERE NOT p.meter_known) AS orphan_meters,
           array_agg(DISTINCT p.service_point_id) FILTER (WHERE NOT p.service_point_known) AS orphan_sps
      FROM %1$s p
     WHERE p.utility_id = $2 AND p.batch_id IS NOT NULL
     GROUP BY p.batch_id$g$, r_products);
        g_orphans := $g$
    SELECT (SELECT count(DISTINCT x) FROM g, unnest(g.orphan_meters) x) AS meters,
           (SELECT count(DISTINCT x) FROM g, unnest(g.orphan_sps) x) AS service_points$g$;
    END IF;
    EXECUTE format($q$
WITH g AS MATERIALIZED (%1$s
), o AS MATERIALIZED (%2$s
), ri AS (
    INSERT INTO dq.referential_integrity_history
    SELECT $1, $2, 'interval_read.meter_id -> meter', (SELECT o.meters FROM o),
           coalesce(sum(g.unknown_meter), 0), coalesce(sum(g.n), 0)
      FROM g
    UNION ALL
    SELECT $1, $2, 'interval_read.service_point_id -> service_point', (SELECT o.service_points FROM o),
           coalesce(sum(g.orphan), 0), coalesce(sum(g.n), 0)
      FROM g
), rows_ AS (
    INSERT INTO dq.row_counts_history SELECT $1, $2, 'product.usage_interval', coalesce(sum(g.n), 0) FROM g
), new_batches AS (
    INSERT INTO dq.batch_quality_history
           (build_id, batch_id, utility_id, reads, orphan_reads, unknown_meter_reads, ready_reads,
            reads_without_service_point, with_value, zero_values, negative_values, null_timestamps, before_2020,
            conflicting_keys, conflicting_records, resent_keys)
    SELECT $1, g.batch_id, $2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
      FROM g
     WHERE NOT EXISTS (SELECT FROM dq.batch_quality_history h
                        WHERE h.build_id = $1 AND h.batch_id = g.batch_id)
)
UPDATE dq.batch_quality_history h
   SET reads = g.n, orphan_reads = g.orphan, unknown_meter_reads = g.unknown_meter, ready_reads = g.ready,
       reads_without_service_point = g.without_sp, with_value = g.with_value, value_partials = g.value_p,
       min_value = g.min_v, max_value = g.max_v, zero_values = g.zeros, negative_values = g.negatives,
       first_day = g.first_day, last_day = g.last_day, first_start_ts = g.first_ts, last_start_ts = g.last_ts,
       null_timestamps = g.null_ts, before_2020 = g.before_2020
  FROM g
 WHERE h.build_id = $1 AND h.batch_id = g.batch_id
$q$, g_products, g_orphans) USING build, utility;

    -- the days: totals, distinct service point days and service points, the rollups
    IF gathered THEN
        EXECUTE $q$
WITH t AS MATERIALIZED (
    SELECT * FROM gridflow.dq_build_figures($2, 'days')
        AS f(n bigint, p double precision[], c bigint, mx double precision, sp_days bigint, sps bigint,
             channels text[])
), rows_ AS (
    INSERT INTO dq.row_counts_history SELECT $1, $2, 'experience.daily_usage', t.n FROM t
), utility_days AS (
    INSERT INTO gridflow_store.utility_daily_usage
    SELECT $2, f.local_date, f.channel, f.unit, f.days, f.reads, f.total, f.peak, f.estimated,
           f.questionable, f.estimated_usage
      FROM gridflow.dq_build_figures($2, 'day_groups')
        AS f(local_date date, channel text, unit text, days bigint, reads bigint, total double precision,
             peak double precision, estimated bigint, questionable bigint, estimated_usage double precision)
), utility_months AS (
    INSERT INTO gridflow_store.utility_monthly_usage
    SELECT $2, f.month_start, f.channel, f.unit, f.service_points, f.days, f.reads, f.total, f.peak,
           f.estimated, f.questionable, f.estimated_usage
      FROM gridflow.dq_build_figures($2, 'month_groups')
        AS f(month_start date, channel text, unit text, service_points bigint, days bigint, reads bigint,
             total double precision, peak double precision, estimated bigint, questionable bigint,
             estimated_usage double precision)
), units AS (
    INSERT INTO dq.experience_unit_history
    SELECT $1, $2, f.unit, f.n, f.p, f.c, f.day_days
      FROM gridflow.dq_build_figures($2, 'day_units')
        AS f(unit text, n bigint, p double precision[], c bigint, day_days bigint)
)
INSERT INTO dq.experience_summary_history
SELECT $1, $2, t.n, t.sp_days, t.sps,
       coalesce((SELECT array_agg(x ORDER BY x) FROM unnest(t.channels) x), '{}'),
       t.p, t.c, t.mx
  FROM t
$q$ USING build, utility;
    ELSE
    EXECUTE format($q$
WITH t AS MATERIALIZED (
    SELECT count(*) AS n, gridflow.exact_sum_partials(d.total_usage) AS p, count(d.total_usage) AS c,
           max(d.peak_usage_value) AS mx
      FROM %1$s d
     WHERE d.utility_id = $2
), spd AS MATERIALIZED (
    SELECT d.service_point_id, count(*) AS n
      FROM %1$s d
     WHERE d.utility_id = $2
     GROUP BY d.service_point_id, d.local_date
), ch AS (
    SELECT d.channel FROM %1$s d WHERE d.utility_id = $2 AND d.channel IS NOT NULL GROUP BY d.channel
), rows_ AS (
    INSERT INTO dq.row_counts_history SELECT $1, $2, 'experience.daily_usage', t.n FROM t
), utility_days AS (
    -- experience.utility_daily_usage: the days added up over service points
    INSERT INTO gridflow_store.utility_daily_usage
    SELECT $2, d.local_date, d.channel,
           CASE WHEN bool_and(d.unit IS NOT NULL) AND min(d.unit) = max(d.unit) THEN min(d.unit) END,
           count(*), coalesce(sum(d.interval_count), 0), gridflow.exact_sum(d.total_usage), max(d.peak_usage_value),
           sum(d.estimated_count), sum(d.questionable_count), gridflow.exact_sum(d.estimated_usage)
      FROM %1$s d
     WHERE d.utility_id = $2 AND d.channel IS NOT NULL
     GROUP BY d.local_date, d.channel
), utility_months AS (
    -- experience.utility_monthly_usage: the days of each month added up
    -- over service points (hash aggregates, no count(DISTINCT))
    INSERT INTO gridflow_store.utility_monthly_usage
    SELECT $2, t.month_start, t.channel, t.unit, c.service_points, t.days, t.reads, t.total, t.peak,
           t.estimated, t.questionable, t.estimated_usage
      FROM (SELECT pg_catalog.date_trunc('month', d.local_date)::date AS month_start, d.channel,
                   CASE WHEN bool_and(d.unit IS NOT NULL) AND min(d.unit) = max(d.unit) THEN min(d.unit) END AS unit,
                   count(*) AS days, coalesce(sum(d.interval_count), 0) AS reads,
                   gridflow.exact_sum(d.total_usage) AS total, max(d.peak_usage_value) AS peak,
                   sum(d.estimated_count) AS estimated, sum(d.questionable_count) AS questionable,
                   gridflow.exact_sum(d.estimated_usage) AS estimated_usage
              FROM %1$s d
             WHERE d.utility_id = $2 AND d.channel IS NOT NULL
             GROUP BY 1, 2) t
      JOIN (SELECT x.month_start, x.channel, count(*) AS service_points
              FROM (SELECT pg_catalog.date_trunc('month', d.local_date)::date AS month_start, d.channel,
                           d.service_point_id
                      FROM %1$s d
                     WHERE d.utility_id = $2 AND d.channel IS NOT NULL
                     GROUP BY 1, 2, 3) x
             GROUP BY x.month_start, x.channel) c
        ON c.month_start = t.month_start AND c.channel = t.channel
), units AS (
    INSERT INTO dq.experience_unit_history
    SELECT $1, $2, d.unit, count(*), gridflow.exact_sum_partials(d.total_usage), count(d.total_usage),
           count(*) FILTER (WHERE d.time_resolution = 'day')
      FROM %1$s d
     WHERE d.utility_id = $2
     GROUP BY d.unit
)
INSERT INTO dq.experience_summary_history
SELECT $1, $2, t.n,
       (SELECT count(*) FROM spd),
       (SELECT count(*) FROM (SELECT spd.service_point_id FROM spd GROUP BY spd.service_point_id) x),
       coalesce((SELECT array_agg(ch.channel ORDER BY ch.channel) FROM ch), '{}'),
       t.p, t.c, t.mx
  FROM t
$q$, r_days) USING build, utility;
    END IF;

    -- validation (VEE), from the product rows, in two passes: the days of
    -- each series by quality (per channel, the reads by quality; the days
    -- of each series by their reads against the day's intervals, for
    -- interval_count when enabled), and the flagged reads (per channel and
    -- enabled rule, the reads and service-point days it flagged; the gaps,
    -- when gap is enabled: the time since the end of the series' read
    -- before each flagged read, found through the meter's index)
    IF gathered THEN
        -- gathered by the build as it wrote the products (dqacc.c)
        EXECUTE $q$
WITH q AS (
    INSERT INTO dq.vee_quality_history
    SELECT $1, $2, f.channel, f.reads, f.valid, f.questionable, f.estimated
      FROM gridflow.dq_build_figures($2, 'vee_quality')
        AS f(channel text, reads bigint, valid bigint, questionable bigint, estimated bigint)
    RETURNING channel
), enabled AS (
    SELECT vr.rule FROM gridflow.vee_rule vr WHERE vr.utility_id = $2 AND vr.enabled
), flagged AS (
    SELECT * FROM gridflow.dq_build_figures($2, 'vee_flags')
        AS f(channel text, rule text, reads bigint, days bigint)
), rules AS (
    INSERT INTO dq.vee_rule_history
    SELECT $1, $2, q.channel, e.rule, coalesce(f.reads, 0), coalesce(f.days, 0)
      FROM q CROSS JOIN enabled e
      LEFT JOIN flagged f ON f.channel = q.channel AND f.rule = e.rule
     WHERE e.rule <> 'interval_count'
), counts AS (
    INSERT INTO dq.vee_interval_count_history
    SELECT $1, $2, f.channel, f.duration_seconds, f.day_seconds / 3600, f.day_seconds / f.duration_seconds,
           f.days, f.complete, f.short_days, f.over_days
      FROM gridflow.dq_build_figures($2, 'vee_interval_counts')
        AS f(channel text, duration_seconds integer, day_seconds integer, days bigint, complete bigint,
             short_days bigint, over_days bigint)
     WHERE EXISTS (SELECT FROM enabled e WHERE e.rule = 'interval_count')
), gaps AS (
    INSERT INTO dq.vee_gap_history
    SELECT $1, $2, q.channel, coalesce(g.gaps, 0), coalesce(g.missing_intervals, 0), coalesce(g.missing_seconds, 0),
           g.longest, coalesce(g.unestimated, 0), coalesce(g.unestimated_intervals, 0)
      FROM q
      LEFT JOIN gridflow.dq_build_figures($2, 'vee_gaps')
             AS g(channel text, gaps bigint, missing_intervals bigint, missing_seconds double precision,
                  longest double precision, unestimated bigint, unestimated_intervals bigint) ON g.channel = q.channel
     WHERE EXISTS (SELECT FROM enabled e WHERE e.rule = 'gap')
)
INSERT INTO dq.vee_estimate_history
SELECT $1, $2, q.channel, m.code, m.method, coalesce(f.gaps, 0), coalesce(f.intervals, 0)
  FROM q
 CROSS JOIN (VALUES (9::smallint, 'linear'), (8::smallint, 'reference')) m(code, method)
  LEFT JOIN gridflow.dq_build_figures($2, 'vee_estimates')
         AS f(channel text, code integer, gaps bigint, intervals bigint)
    ON f.channel = q.channel AND f.code = m.code
 WHERE EXISTS (SELECT 1 FROM gridflow.vee_estimation ve WHERE ve.utility_id = $2)
$q$ USING build, utility;
    ELSE
    EXECUTE format($q$
WITH series_days AS MATERIALIZED (
    SELECT p.channel, p.duration_seconds, p.local_date,
           p.time_resolution IS DISTINCT FROM 'day' AS intervals,
           count(*) AS n, count(*) FILTER (WHERE p.quality_code = 0) AS valid,
           count(*) FILTER (WHERE p.quality_code = 10) AS questionable,
           count(*) FILTER (WHERE p.quality_code IN (8, 9)) AS estimated,
           count(*) FILTER (WHERE p.quality_code NOT IN (8, 9)) AS actual
      FROM %1$s p
     WHERE p.utility_id = $2 AND p.channel IS NOT NULL
     GROUP BY p.service_point_id, p.meter_id, p.channel, p.local_date, p.duration_seconds,
              p.time_resolution IS DISTINCT FROM 'day'
), flagged_reads AS MATERIALIZED (
    SELECT p.service_point_id, p.meter_id, p.channel, p.interval_start_ts, p.local_date, p.vee_flags
      FROM %1$s p
     WHERE p.utility_id = $2 AND p.vee_flags IS NOT NULL
), q AS (
    INSERT INTO dq.vee_quality_history
    SELECT $1, $2, d.channel, sum(d.n), sum(d.valid), sum(d.questionable), sum(d.estimated)
      FROM series_days d
     GROUP BY d.channel
    RETURNING channel
), enabled AS (
    SELECT vr.rule FROM gridflow.vee_rule vr WHERE vr.utility_id = $2 AND vr.enabled
), flagged AS (
    SELECT f.channel, r.rule, count(*) AS n
      FROM flagged_reads f CROSS JOIN LATERAL unnest(f.vee_flags) r(rule)
     GROUP BY f.channel, r.rule, f.service_point_id, f.local_date
), rules AS (
    INSERT INTO dq.vee_rule_history
    SELECT $1, $2, q.channel, e.rule, coalesce(sum(f.n), 0), count(f.n)
      FROM q CROSS JOIN enabled e
      LEFT JOIN flagged f ON f.channel = q.channel AND f.rule = e.rule
     WHERE e.rule <> 'interval_count'
     GROUP BY q.channel, e.rule
), counted AS (
    SELECT d.channel, d.duration_seconds, d.actual AS n,
           EXTRACT(epoch FROM timezone(u.time_zone, (d.local_date + 1)::timestamp)
                              - timezone(u.time_zone, d.local_date::timestamp))::integer AS day_seconds
      FROM series_days d
      JOIN gridflow.utility u ON u.utility_id = $2
     WHERE d.intervals AND d.duration_seconds > 0 AND d.actual > 0
       AND EXISTS (SELECT FROM enabled e WHERE e.rule = 'interval_count')
), counts AS (
    INSERT INTO dq.vee_interval_count_history
    SELECT $1, $2, c.channel, c.duration_seconds, c.day_seconds / 3600, c.day_seconds / c.duration_seconds,
           count(*), count(*) FILTER (WHERE c.n = c.day_seconds / c.duration_seconds),
           count(*) FILTER (WHERE c.n < c.day_seconds / c.duration_seconds),
           count(*) FILTER (WHERE c.n > c.day_seconds / c.duration_seconds)
      FROM counted c
     GROUP BY c.channel, c.duration_seconds, c.day_seconds
), gap AS (
    -- measured from the read before; estimated when the row before is an estimate
    SELECT f.channel, EXTRACT(epoch FROM f.interval_start_ts - b.interval_end_ts)::double precision AS seconds,
           b.duration_seconds, e.quality_code IN (8, 9) AS estimated
      FROM flagged_reads f
      CROSS JOIN LATERAL (SELECT x.interval_end_ts, x.duration_seconds
                            FROM %1$s x
                           WHERE x.utility_id = $2 AND x.meter_id = f.meter_id
                             AND x.interval_start_ts < f.interval_start_ts
                             AND x.channel = f.channel
                             AND x.service_point_id IS NOT DISTINCT FROM f.service_point_id
                             AND x.quality_code NOT IN (8, 9)
                           ORDER BY x.interval_start_ts DESC
                           LIMIT 1) b
      CROSS JOIN LATERAL (SELECT x.quality_code
                            FROM %1$s x
                           WHERE x.utility_id = $2 AND x.meter_id = f.meter_id
                             AND x.interval_start_ts < f.interval_start_ts
                             AND x.channel = f.channel
                             AND x.service_point_id IS NOT DISTINCT FROM f.service_point_id
                           ORDER BY x.interval_start_ts DESC
                           LIMIT 1) e
     WHERE 'gap' = ANY (f.vee_flags)
), gaps AS (
    INSERT INTO dq.vee_gap_history
    SELECT $1, $2, q.channel, count(g.seconds),
           coalesce(sum(floor(g.seconds / g.duration_seconds)), 0)::bigint,
           coalesce(sum(g.seconds), 0), max(g.seconds),
           count(g.seconds) FILTER (WHERE NOT g.estimated),
           coalesce(sum(floor(g.seconds / g.duration_seconds)) FILTER (WHERE NOT g.estimated), 0)::bigint
      FROM q
      LEFT JOIN gap g ON g.channel = q.channel
     WHERE EXISTS (SELECT FROM enabled e WHERE e.rule = 'gap')
     GROUP BY q.channel
), estimates AS (
    -- the estimated rows of each series in time order: a gap's first one
    -- does not start where the one before ends
    SELECT x.channel, x.quality_code,
           x.interval_start_ts IS DISTINCT FROM
               lag(x.interval_end_ts) OVER (PARTITION BY x.service_point_id, x.meter_id, x.channel
                                            ORDER BY x.interval_start_ts) AS first_of_gap
      FROM %1$s x
     WHERE x.utility_id = $2 AND x.quality_code IN (8, 9)
)
INSERT INTO dq.vee_estimate_history
SELECT $1, $2, q.channel, m.code, m.method,
       count(*) FILTER (WHERE e.first_of_gap), count(e.quality_code)
  FROM q
 CROSS JOIN (VALUES (9::smallint, 'linear'), (8::smallint, 'reference')) m(code, method)
  LEFT JOIN estimates e ON e.channel = q.channel AND e.quality_code = m.code
 WHERE EXISTS (SELECT 1 FROM gridflow.vee_estimation ve WHERE ve.utility_id = $2)
 GROUP BY q.channel, m.code, m.method
$q$, r_products) USING build, utility;
    END IF;

    -- the dimensions
    IF gathered THEN
        g_service_points := $g$
    SELECT * FROM gridflow.dq_build_figures($2, 'service_points')
        AS f(n bigint, src bigint, dup_keys bigint, conf_keys bigint, conf_rows bigint, c_sp bigint,
             c_city bigint, c_zip bigint)$g$;
        g_meters := $g$
    SELECT * FROM gridflow.dq_build_figures($2, 'meters')
        AS f(n bigint, src bigint, dup_keys bigint, conf_keys bigint, conf_rows bigint, c_m bigint, c_sp bigint,
             orphan_ids bigint, orphan_rows bigint)$g$;
        g_assignments := $g$
    SELECT * FROM gridflow.dq_build_figures($2, 'assignments') AS f(n bigint, multi_premise bigint)$g$;
    ELSE
        g_service_points := format($g$
    SELECT count(*) AS n, coalesce(sum(s.source_rows), 0) AS src,
           count(*) FILTER (WHERE s.source_rows > 1) AS dup_keys,
           count(*) FILTER (WHERE s.conflicting_rows > 0) AS conf_keys,
           coalesce(sum(s.conflicting_rows), 0) AS conf_rows,
           count(s.service_point_id) AS c_sp, count(s.city) AS c_city, count(s.zip) AS c_zip
      FROM %1$s s WHERE s.utility_id = $2$g$, r_service_points);
        g_meters := format($g$
    SELECT count(*) AS n, coalesce(sum(x.source_rows), 0) AS src,
           count(*) FILTER (WHERE x.source_rows > 1) AS dup_keys,
           count(*) FILTER (WHERE x.conflicting_rows > 0) AS conf_keys,
           coalesce(sum(x.conflicting_rows), 0) AS conf_rows,
           count(x.meter_id) AS c_m, count(x.service_point_id) AS c_sp,
           count(DISTINCT x.service_point_id) FILTER (WHERE x.service_point_id IS NOT NULL AND s.service_point_id IS NULL)
               AS orphan_ids,
           count(*) FILTER (WHERE x.service_point_id IS NOT NULL AND s.service_point_id IS NULL) AS orphan_rows
      FROM %2$s x
      LEFT JOIN %1$s s ON s.utility_id = x.utility_id AND s.service_point_id = x.service_point_id
     WHERE x.utility_id = $2$g$, r_service_points, r_meters);
        g_assignments := format($g$
    SELECT (SELECT count(*) FROM %1$s a WHERE a.utility_id = $2) AS n,
           (SELECT count(*)
              FROM (SELECT d.meter_id
                      FROM (SELECT x.meter_id, x.service_point_id FROM %1$s x
                             WHERE x.utility_id = $2 AND x.service_point_id IS NOT NULL
                             GROUP BY x.meter_id, x.service_point_id) d
                     GROUP BY d.meter_id HAVING count(*) > 1) mp) AS multi_premise$g$, r_assignments);
    END IF;
    EXECUTE format($q$
WITH sp AS MATERIALIZED (%1$s
), m AS MATERIALIZED (%2$s
), a AS MATERIALIZED (%3$s
), dup AS (
    INSERT INTO dq.source_duplicates_history
    SELECT $1, $2, 'service_point', sp.src, sp.n, sp.dup_keys, sp.conf_keys, sp.conf_rows FROM sp
    UNION ALL
    SELECT $1, $2, 'meter', m.src, m.n, m.dup_keys, m.conf_keys, m.conf_rows FROM m
), ri AS (
    INSERT INTO dq.referential_integrity_history
    SELECT $1, $2, 'meter.service_point_id -> service_point', m.orphan_ids, m.orphan_rows, m.n FROM m
), comp AS (
    INSERT INTO dq.completeness_history
    SELECT $1, $2, 'standardized.meter', 'meter_id', m.n, m.c_m FROM m
    UNION ALL SELECT $1, $2, 'standardized.meter', 'service_point_id', m.n, m.c_sp FROM m
    UNION ALL SELECT $1, $2, 'standardized.service_point', 'service_point_id', sp.n, sp.c_sp FROM sp
    UNION ALL SELECT $1, $2, 'standardized.service_point', 'city', sp.n, sp.c_city FROM sp
    UNION ALL SELECT $1, $2, 'standardized.service_point', 'zip', sp.n, sp.c_zip FROM sp
)
INSERT INTO dq.row_counts_history
SELECT $1, $2, 'standardized.service_point', sp.n FROM sp
UNION ALL SELECT $1, $2, 'standardized.meter', m.n FROM m
UNION ALL SELECT $1, $2, 'standardized.meter_assignment', a.n FROM a
-- the rows of the dq lists (dq.snapshot counts them)
UNION ALL SELECT $1, $2, 'dq.conflicting_service_points', sp.conf_keys FROM sp
UNION ALL SELECT $1, $2, 'dq.multi_premise_meters', a.multi_premise FROM a
$q$, g_service_points, g_meters, g_assignments) USING build, utility;

    -- the meters under several service points (dq.multi_premise_meters)
    IF gathered THEN
        INSERT INTO dq.multi_premise_meters_history
        SELECT build, utility, f.*
          FROM gridflow.dq_build_figures(utility, 'multi_premise_meters')
            AS f(meter_id text, service_points bigint, assignment_rows bigint, first_installed_at timestamptz,
                 last_installed_at timestamptz, first_row_service_point text);
    ELSE
        EXECUTE format($q$
INSERT INTO dq.multi_premise_meters_history
WITH first_assigned AS (
    -- a meter's first row in an assignment file (its meter file names no service point)
    SELECT DISTINCT ON (a.meter_id) a.meter_id, a.service_point_id
      FROM %1$s a
      JOIN gridflow.batch b ON b.batch_id = a.batch_id
     WHERE a.utility_id = $2 AND b.file_kind = 'assignment'
     ORDER BY a.meter_id, a.batch_id, a.line_no
)
SELECT $1, $2, a.meter_id, count(DISTINCT a.service_point_id), count(*), min(a.installed_at), max(a.installed_at),
       coalesce(m.service_point_id, f.service_point_id)
  FROM %1$s a
  LEFT JOIN %2$s m ON m.utility_id = a.utility_id AND m.meter_id = a.meter_id
  LEFT JOIN first_assigned f ON f.meter_id = a.meter_id
 WHERE a.utility_id = $2
 GROUP BY a.meter_id, m.service_point_id, f.service_point_id
HAVING count(DISTINCT a.service_point_id) > 1
$q$, r_assignments, r_meters) USING build, utility;
    END IF;

    -- how ambiguous the link of reads to service points through meters is
    -- (gridflow.meter_link_figures(): one pass over reads and assignments)
    IF link = 'meter' AND gathered THEN
        INSERT INTO dq.meter_link_ambiguity_history
        SELECT build, utility, link_policy, f.*
          FROM gridflow.dq_build_figures(utility, 'meter_link')
            AS f(reads bigint, multi bigint, several bigint, without_assignment bigint, differ bigint);
    ELSIF link = 'meter' THEN
        INSERT INTO dq.meter_link_ambiguity_history
        SELECT build, utility, link_policy, f.*
          FROM gridflow.meter_link_figures(utility, reads, meters, assignments) f;
    END IF;
END
$fn$;
COMMENT ON FUNCTION gridflow.dq_refresh(bigint, text, regclass, regclass, regclass, regclass, regclass, regclass, boolean) IS 'Compute and store the DQ figures of one utility for a run, from the given relations of its layers, or (gathered) from what the build gathered while writing them (builds and ingests call it; the owner of gridflow only)';
REVOKE ALL ON FUNCTION gridflow.dq_refresh(bigint, text, regclass, regclass, regclass, regclass, regclass, regclass, boolean) FROM PUBLIC;

--
-- After the utilities of a run are stored: the quartiles of all their
-- values together, so that readers of every utility need not compute them.
--
CREATE FUNCTION gridflow.dq_refresh_total(clear boolean)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $fn$
DELETE FROM dq.value_total WHERE clear;
INSERT INTO dq.value_total
SELECT u.runs, u.utilities, q.q1, q.median, q.q3, coalesce(q.iqr_outliers, 0)
  FROM (SELECT coalesce(array_agg(r.utility_id OPERATOR(pg_catalog.||) '=' OPERATOR(pg_catalog.||) r.build_id
                                  ORDER BY r.utility_id OPERATOR(pg_catalog.||) '=' OPERATOR(pg_catalog.||) r.build_id), '{}') AS runs,
               coalesce(array_agg(r.utility_id ORDER BY r.utility_id), '{}') AS utilities
          FROM dq.current_run r) u,
       (SELECT array_agg(x.v) AS v, array_agg(x.n) AS n
          FROM dq.value_distribution d,
               ROWS FROM (unnest(d.value_list), unnest(d.read_counts)) AS x(v, n)) a
 CROSS JOIN LATERAL gridflow.value_quantiles(a.v, a.n) q
ON CONFLICT (runs) DO NOTHING;
$fn$;
COMMENT ON FUNCTION gridflow.dq_refresh_total(boolean) IS 'Store the quartiles of the values of every utility together, after a run stored its utilities'' figures; clear: first forget those of earlier runs (a build of every utility) (the owner of gridflow only)';
REVOKE ALL ON FUNCTION gridflow.dq_refresh_total(boolean) FROM PUBLIC;

--
-- The views: the current run's rows of each utility the reader may see.
--
CREATE VIEW dq.row_counts WITH (security_invoker = true) AS
WITH u AS (
    SELECT DISTINCT b.utility_id FROM gridflow.batch b
), c AS (
    -- (the columns named here, not in a column list, which Citus loses when
    -- it inlines a CTE of a query it sends)
    SELECT 'landing.source_record' AS table_name, b.utility_id, pg_catalog.sum(b.records_read)::bigint AS row_count
      FROM gridflow.batch b
     GROUP BY b.utility_id
    UNION ALL
    SELECT 'landing.reject', b.utility_id,
           pg_catalog.sum(b.records_rejected OPERATOR(pg_catalog.+) b.rows_invalid)::bigint
      FROM gridflow.batch b
     GROUP BY b.utility_id
    UNION ALL
    SELECT h.table_name, h.utility_id, h.row_count
      FROM dq.row_counts_history h
      JOIN dq.current_run r
        ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
), t(ord, layer, table_name) AS (
    VALUES (1, 'landing', 'landing.source_record'), (2, 'landing', 'landing.reject'),
           (3, 'standardized', 'standardized.service_point'), (4, 'standardized', 'standardized.meter'),
           (5, 'standardized', 'standardized.meter_assignment'), (6, 'standardized', 'standardized.interval_read'),
           (7, 'product', 'product.usage_interval'), (8, 'experience', 'experience.daily_usage')
)
SELECT t.layer, t.table_name, u.utility_id, coalesce(c.row_count, 0) AS row_count
  FROM t CROSS JOIN u
  LEFT JOIN c ON c.table_name OPERATOR(pg_catalog.=) t.table_name AND c.utility_id OPERATOR(pg_catalog.=) u.utility_id
 ORDER BY t.ord, u.utility_id;
COMMENT ON VIEW dq.row_counts IS 'Rows per layer table and utility (grain: one row per table_name, utility_id; utilities of the current build): the landing tables counted from the batch figures, which roles that may not read landing can see, the others as the last run that loaded the utility stored them';
COMMENT ON COLUMN dq.row_counts.layer IS 'Medallion layer';
COMMENT ON COLUMN dq.row_counts.table_name IS 'Table';
COMMENT ON COLUMN dq.row_counts.utility_id IS 'Utility';
COMMENT ON COLUMN dq.row_counts.row_count IS 'Rows';

CREATE VIEW dq.source_duplicates WITH (security_invoker = true) AS
SELECT h.utility_id,
       h.file_kind,
       h.source_rows,
       h.kept_rows,
       h.source_rows - h.kept_rows AS duplicate_rows,
       pg_catalog.round(100 * (h.source_rows - h.kept_rows)
                        / nullif(h.source_rows, 0)::numeric, 1)::numeric(5,1) AS duplicate_pct,
       h.keys_with_duplicates,
       h.conflicting_keys,
       h.conflicting_rows
  FROM dq.source_duplicates_history h
  JOIN dq.current_run r
    ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
 ORDER BY h.utility_id, h.file_kind;
COMMENT ON VIEW dq.source_duplicates IS 'Duplicate source records per utility and file kind (grain: one row per utility_id, file_kind): records sharing a natural key, and among them those whose values conflict';
COMMENT ON COLUMN dq.source_duplicates.utility_id IS 'Utility';
COMMENT ON COLUMN dq.source_duplicates.file_kind IS 'service_point, meter or interval';
COMMENT ON COLUMN dq.source_duplicates.source_rows IS 'Valid source records';
COMMENT ON COLUMN dq.source_duplicates.kept_rows IS 'Distinct keys, i.e. standardized rows';
COMMENT ON COLUMN dq.source_duplicates.duplicate_rows IS 'source_rows - kept_rows: records dropped (or summed) by de-duplication';
COMMENT ON COLUMN dq.source_duplicates.duplicate_pct IS 'duplicate_rows as a percentage of source_rows';
COMMENT ON COLUMN dq.source_duplicates.keys_with_duplicates IS 'Keys with more than one record';
COMMENT ON COLUMN dq.source_duplicates.conflicting_keys IS 'Keys whose records disagree (intervals: on the value; service points and meters: on any mapped attribute)';
COMMENT ON COLUMN dq.source_duplicates.conflicting_rows IS 'Records that disagree with the first record of their key (under keep_first: dropped records that disagree with the kept one)';

CREATE VIEW dq.dedup_value_share WITH (security_invoker = true) AS
WITH c AS (
    SELECT h.*
      FROM dq.dedup_value_share_history h
      JOIN dq.current_run r
        ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
), s AS (
    SELECT c.utility_id, c.channel, c.unit, c.policy, c.kept_rows, c.source_rows,
           (SELECT gridflow.exact_sum(x) FROM pg_catalog.unnest(c.kept_value_partials) x) AS kept_value,
           (SELECT gridflow.exact_sum(x) FROM pg_catalog.unnest(c.source_value_partials) x) AS source_value,
           false AS is_total
      FROM c
    UNION ALL
    SELECT c.utility_id, NULL, NULL, pg_catalog.min(c.policy),
           pg_catalog.sum(c.kept_rows)::bigint, pg_catalog.sum(c.source_rows)::bigint,
           (SELECT gridflow.exact_sum(x) FROM c c2, pg_catalog.unnest(c2.kept_value_partials) x
             WHERE c2.utility_id OPERATOR(pg_catalog.=) c.utility_id),
           (SELECT gridflow.exact_sum(x) FROM c c2, pg_catalog.unnest(c2.source_value_partials) x
             WHERE c2.utility_id OPERATOR(pg_catalog.=) c.utility_id),
           true
      FROM c
     GROUP BY c.utility_id
)
SELECT s.utility_id,
       s.channel,
       s.policy,
       s.kept_rows,
       s.source_rows,
       s.kept_value,
       s.source_value,
       pg_catalog.round((100 * s.kept_value / nullif(s.source_value, 0))::numeric, 1)::numeric(5,1) AS kept_share_pct,
       CASE WHEN s.source_value OPERATOR(pg_catalog.<>) 0
             AND s.kept_value / s.source_value OPERATOR(pg_catalog.<) 0.99
            THEN 'LOW: de-duplication keeps ' OPERATOR(pg_catalog.||)
                 pg_catalog.round((100 * s.kept_value / s.source_value)::numeric, 1)
                 OPERATOR(pg_catalog.||) '% of the raw value'
       END AS warning,
       s.unit,
       s.is_total
  FROM s
 ORDER BY s.utility_id, s.is_total DESC, s.channel;
COMMENT ON VIEW dq.dedup_value_share IS 'How much of the raw interval value the de-duplication keeps (grain: one row per utility_id, channel, and one total row per utility with channel NULL and is_total true, which adds channels of different units: compare shares, not values); warning is set below 99%';
COMMENT ON COLUMN dq.dedup_value_share.utility_id IS 'Utility';
COMMENT ON COLUMN dq.dedup_value_share.channel IS 'Channel; NULL on the utility''s total row';
COMMENT ON COLUMN dq.dedup_value_share.policy IS 'The utility''s interval_dedup_policy (as the run that computed the figures used it)';
COMMENT ON COLUMN dq.dedup_value_share.kept_rows IS 'Standardized reads';
COMMENT ON COLUMN dq.dedup_value_share.source_rows IS 'Source records behind them';
COMMENT ON COLUMN dq.dedup_value_share.kept_value IS 'Sum of the standardized values';
COMMENT ON COLUMN dq.dedup_value_share.source_value IS 'Sum of the values of all source records';
COMMENT ON COLUMN dq.dedup_value_share.kept_share_pct IS 'kept_value as a percentage of source_value';
COMMENT ON COLUMN dq.dedup_value_share.warning IS 'Set when less than 99% of the raw value is kept';
COMMENT ON COLUMN dq.dedup_value_share.unit IS 'Unit of the channel''s values (NULL: unknown, or several; NULL on total rows)';
COMMENT ON COLUMN dq.dedup_value_share.is_total IS 'true on the row of all the utility''s channels: leave it out before adding rows up';

CREATE VIEW dq.referential_integrity WITH (security_invoker = true) AS
SELECT h.utility_id, h.relationship, h.orphan_ids, h.orphan_rows, h.checked_rows
  FROM dq.referential_integrity_history h
  JOIN dq.current_run r
    ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
 ORDER BY h.utility_id,
          CASE h.relationship WHEN 'interval_read.meter_id -> meter' THEN 1
                              WHEN 'interval_read.service_point_id -> service_point' THEN 2 ELSE 3 END;
COMMENT ON VIEW dq.referential_integrity IS 'Orphans per utility (grain: one row per utility_id, relationship): reads whose meter or service point is not in the standardized tables (a read with no service point at all counts as an orphan row), meters whose service point is unknown';
COMMENT ON COLUMN dq.referential_integrity.utility_id IS 'Utility';
COMMENT ON COLUMN dq.referential_integrity.relationship IS 'Which reference is checked';
COMMENT ON COLUMN dq.referential_integrity.orphan_ids IS 'Distinct referenced ids that do not exist';
COMMENT ON COLUMN dq.referential_integrity.orphan_rows IS 'Rows whose reference does not resolve';
COMMENT ON COLUMN dq.referential_integrity.checked_rows IS 'Rows checked';

CREATE VIEW dq.completeness WITH (security_invoker = true) AS
WITH c AS (
    SELECT h.table_name, h.column_name, h.utility_id, h.total_rows, h.non_null, false AS is_total
      FROM dq.completeness_history h
      JOIN dq.current_run r
        ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
), a AS (
    SELECT * FROM c
    UNION ALL
    SELECT c.table_name, c.column_name, NULL, pg_catalog.sum(c.total_rows)::bigint,
           pg_catalog.sum(c.non_null)::bigint, true
      FROM c
     GROUP BY c.table_name, c.column_name
)
SELECT a.table_name, a.column_name, a.utility_id, a.total_rows, a.non_null,
       pg_catalog.round(100 * a.non_null / nullif(a.total_rows, 0)::numeric, 1)::numeric(5,1) AS pct_complete,
       a.is_total
  FROM a;
COMMENT ON VIEW dq.completeness IS 'Share of non-null values in the critical columns of the standardized tables (grain: one row per table_name, column_name, utility_id; and per table_name, column_name over the reader''s utilities, with utility_id NULL and is_total true)';
COMMENT ON COLUMN dq.completeness.table_name IS 'Table';
COMMENT ON COLUMN dq.completeness.column_name IS 'Critical column';
COMMENT ON COLUMN dq.completeness.utility_id IS 'Utility; NULL for all utilities';
COMMENT ON COLUMN dq.completeness.total_rows IS 'Rows';
COMMENT ON COLUMN dq.completeness.non_null IS 'Rows with a value in the column';
COMMENT ON COLUMN dq.completeness.pct_complete IS 'non_null as a percentage of total_rows';
COMMENT ON COLUMN dq.completeness.is_total IS 'true on the rows of all the reader''s utilities: leave them out before adding rows up';

CREATE VIEW dq.value_profile WITH (security_invoker = true) AS
WITH c AS (
    SELECT h.*
      FROM dq.value_profile_history h
      JOIN dq.current_run r
        ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
), q AS MATERIALIZED (
    -- the quartiles of every value the reader may see: stored, when it sees
    -- every utility, else from their distribution
    (SELECT t.q1, t.median, t.q3, t.iqr_outliers
       FROM dq.value_total t
      WHERE t.runs OPERATOR(pg_catalog.=)
            ARRAY(SELECT r.utility_id OPERATOR(pg_catalog.||) '=' OPERATOR(pg_catalog.||) r.build_id
                    FROM dq.current_run r
                   ORDER BY r.utility_id OPERATOR(pg_catalog.||) '=' OPERATOR(pg_catalog.||) r.build_id))
    UNION ALL
    (SELECT q.q1, q.median, q.q3, q.iqr_outliers
       FROM (SELECT pg_catalog.array_agg(x.v) AS v, pg_catalog.array_agg(x.n) AS n
               FROM dq.value_distribution d,
                    ROWS FROM (pg_catalog.unnest(d.value_list), pg_catalog.unnest(d.read_counts)) AS x(v, n)) a
      CROSS JOIN LATERAL gridflow.value_quantiles(a.v, a.n) q)
    LIMIT 1
), s AS (
    SELECT c.utility_id, c.unit, c.reads, c.null_values, c.min_value, c.max_value,
           (SELECT gridflow.exact_sum(x) FROM pg_catalog.unnest(c.value_partials) x)
               / nullif(c.reads OPERATOR(pg_catalog.-) c.null_values, 0) AS mean_value,
           c.median_value, c.q1, c.q3, c.zeros, c.negatives, c.iqr_outliers, false AS is_total
      FROM c
    UNION ALL
    SELECT NULL, NULL, coalesce(pg_catalog.sum(c.reads), 0)::bigint, coalesce(pg_catalog.sum(c.null_values), 0)::bigint,
           pg_catalog.min(c.min_value), pg_catalog.max(c.max_value),
           (SELECT gridflow.exact_sum(x) FROM c c2, pg_catalog.unnest(c2.value_partials) x)
               / nullif(pg_catalog.sum(c.reads OPERATOR(pg_catalog.-) c.null_values), 0),
           (SELECT q.median FROM q), (SELECT q.q1 FROM q), (SELECT q.q3 FROM q),
           coalesce(pg_catalog.sum(c.zeros), 0)::bigint, coalesce(pg_catalog.sum(c.negatives), 0)::bigint,
           coalesce((SELECT q.iqr_outliers FROM q), 0), true
      FROM c
)
SELECT s.utility_id, s.reads, s.null_values, s.min_value, s.max_value, s.mean_value,
       s.median_value, s.q1, s.q3, s.zeros,
       pg_catalog.round(100 * s.zeros / nullif(s.reads, 0)::numeric, 1)::numeric(5,1) AS zero_pct,
       s.negatives,
       s.iqr_outliers,
       pg_catalog.round(100 * s.iqr_outliers / nullif(s.reads, 0)::numeric, 1)::numeric(5,1) AS outlier_pct,
       s.unit,
       s.is_total
  FROM s
 ORDER BY s.is_total, s.utility_id, s.unit;
COMMENT ON VIEW dq.value_profile IS 'Profile of standardized interval values (grain: one row per utility_id, unit; and one row over all the reader''s utilities and units, utility_id NULL and is_total true, the figure of the product brief): range, mean, quartiles, zeros, negatives and IQR outliers (outside Q1 - 1.5 IQR .. Q3 + 1.5 IQR); the quartiles are exact';
COMMENT ON COLUMN dq.value_profile.utility_id IS 'Utility; NULL for all utilities';
COMMENT ON COLUMN dq.value_profile.reads IS 'Standardized reads';
COMMENT ON COLUMN dq.value_profile.null_values IS 'Reads without a value';
COMMENT ON COLUMN dq.value_profile.min_value IS 'Smallest value';
COMMENT ON COLUMN dq.value_profile.max_value IS 'Largest value';
COMMENT ON COLUMN dq.value_profile.mean_value IS 'Mean value';
COMMENT ON COLUMN dq.value_profile.median_value IS 'Median value';
COMMENT ON COLUMN dq.value_profile.q1 IS 'First quartile';
COMMENT ON COLUMN dq.value_profile.q3 IS 'Third quartile';
COMMENT ON COLUMN dq.value_profile.zeros IS 'Reads with value 0';
COMMENT ON COLUMN dq.value_profile.zero_pct IS 'zeros as a percentage of reads';
COMMENT ON COLUMN dq.value_profile.negatives IS 'Reads with a negative value';
COMMENT ON COLUMN dq.value_profile.iqr_outliers IS 'Reads outside the IQR fences';
COMMENT ON COLUMN dq.value_profile.outlier_pct IS 'iqr_outliers as a percentage of reads';
COMMENT ON COLUMN dq.value_profile.unit IS 'Unit of the values (NULL: unknown; and on the total row, which mixes units)';
COMMENT ON COLUMN dq.value_profile.is_total IS 'true on the row of all the reader''s utilities and units: leave it out before adding rows up';

CREATE VIEW dq.rejects WITH (security_barrier = true) AS
SELECT b.utility_id,
       b.file_kind,
       j.stage,
       j.reason,
       pg_catalog.count(*) AS records,
       pg_catalog.min(j.line_no) AS first_line,
       pg_catalog.max(j.line_no) AS last_line,
       j.target_column
  FROM gridflow_store.reject j
  JOIN gridflow.batch b ON b.batch_id OPERATOR(pg_catalog.=) j.batch_id
 WHERE (SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
    OR b.utility_id OPERATOR(pg_catalog.=) ANY (
           SELECT m.utility_id
             FROM gridflow.role_utility m
             JOIN pg_catalog.pg_roles r ON r.rolname OPERATOR(pg_catalog.=) m.role_name
            WHERE pg_catalog.pg_has_role(r.oid, 'USAGE'))
 GROUP BY b.utility_id, b.file_kind, j.stage, j.reason, j.target_column
 ORDER BY b.utility_id, b.file_kind, j.stage, j.reason, j.target_column;
COMMENT ON VIEW dq.rejects IS 'Rejected source records (grain: one row per utility_id, file_kind, stage, reason, target_column; details in landing.reject, for the pipeline).  It runs with the rights of its owner, so that readers without access to landing see these counts, and shows the utilities of the reader (gridflow.role_utility; all of them for gridflow_pipeline)';
COMMENT ON COLUMN dq.rejects.utility_id IS 'Utility';
COMMENT ON COLUMN dq.rejects.file_kind IS 'File kind';
COMMENT ON COLUMN dq.rejects.stage IS 'landing or standardized';
COMMENT ON COLUMN dq.rejects.reason IS 'Reason code';
COMMENT ON COLUMN dq.rejects.records IS 'Rejected records';
COMMENT ON COLUMN dq.rejects.first_line IS 'First line concerned';
COMMENT ON COLUMN dq.rejects.last_line IS 'Last line concerned';
COMMENT ON COLUMN dq.rejects.target_column IS 'Standardized column whose value was rejected (NULL for landing rejects)';

CREATE VIEW dq.timestamp_range WITH (security_invoker = true) AS
WITH c AS (
    SELECT h.*
      FROM dq.batch_quality_history h
      JOIN dq.current_run r
        ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
     WHERE h.reads OPERATOR(pg_catalog.>) 0
), s AS (
    SELECT c.utility_id, pg_catalog.min(c.first_day) AS first_local_date, pg_catalog.max(c.last_day) AS last_local_date,
           pg_catalog.min(c.first_start_ts) AS first_start_ts, pg_catalog.max(c.last_start_ts) AS last_start_ts,
           pg_catalog.sum(c.null_timestamps)::bigint AS null_timestamps, pg_catalog.sum(c.before_2020)::bigint AS before_2020,
           false AS is_total
      FROM c
     GROUP BY c.utility_id
    UNION ALL
    SELECT NULL, pg_catalog.min(c.first_day), pg_catalog.max(c.last_day),
           pg_catalog.min(c.first_start_ts), pg_catalog.max(c.last_start_ts),
           coalesce(pg_catalog.sum(c.null_timestamps), 0)::bigint, coalesce(pg_catalog.sum(c.before_2020), 0)::bigint,
           true
      FROM c
)
SELECT s.utility_id,
       s.first_local_date,
       s.last_local_date,
       s.last_local_date - s.first_local_date AS days,
       s.first_start_ts,
       s.last_start_ts,
       s.null_timestamps,
       s.before_2020,
       (SELECT coalesce(pg_catalog.sum(j.records), 0)::bigint
          FROM dq.rejects j
         WHERE j.target_column OPERATOR(pg_catalog.=) 'interval_start_ts'
           AND (s.utility_id IS NULL OR j.utility_id OPERATOR(pg_catalog.=) s.utility_id)) AS rejected_timestamps,
       (SELECT coalesce(pg_catalog.sum(b.ambiguous_local_times), 0)::bigint
          FROM gridflow.batch b
         WHERE s.utility_id IS NULL OR b.utility_id OPERATOR(pg_catalog.=) s.utility_id) AS ambiguous_local_times,
       (SELECT coalesce(pg_catalog.sum(b.nonexistent_local_times), 0)::bigint
          FROM gridflow.batch b
         WHERE s.utility_id IS NULL OR b.utility_id OPERATOR(pg_catalog.=) s.utility_id) AS nonexistent_local_times,
       s.is_total
  FROM s
 ORDER BY s.is_total, s.utility_id;
COMMENT ON VIEW dq.timestamp_range IS 'Range of read start times (grain: one row per utility_id; and one over the reader''s utilities, utility_id NULL and is_total true), in each utility''s local days; rejected_timestamps counts records rejected for an unreadable or missing start time';
COMMENT ON COLUMN dq.timestamp_range.utility_id IS 'Utility; NULL for all utilities';
COMMENT ON COLUMN dq.timestamp_range.first_local_date IS 'First local day with a read';
COMMENT ON COLUMN dq.timestamp_range.last_local_date IS 'Last local day with a read';
COMMENT ON COLUMN dq.timestamp_range.days IS 'last_local_date - first_local_date';
COMMENT ON COLUMN dq.timestamp_range.first_start_ts IS 'Earliest interval start';
COMMENT ON COLUMN dq.timestamp_range.last_start_ts IS 'Latest interval start';
COMMENT ON COLUMN dq.timestamp_range.null_timestamps IS 'Reads without a start time (always 0: such records are rejected)';
COMMENT ON COLUMN dq.timestamp_range.before_2020 IS 'Reads starting before 2020';
COMMENT ON COLUMN dq.timestamp_range.rejected_timestamps IS 'Source records rejected because of their start time (dq.rejects)';
COMMENT ON COLUMN dq.timestamp_range.ambiguous_local_times IS 'Source records with a local time without offset in an hour repeated when daylight saving time ends (gridflow.batch; resolved by the utility''s ambiguous_local_time, or by the wide_dst of a wide layout)';
COMMENT ON COLUMN dq.timestamp_range.nonexistent_local_times IS 'Source records with a local time without offset in an hour skipped when daylight saving time starts (gridflow.batch)';
COMMENT ON COLUMN dq.timestamp_range.is_total IS 'true on the row of all the reader''s utilities: leave it out before adding rows up';

CREATE VIEW dq.experience_summary WITH (security_invoker = true) AS
WITH c AS (
    SELECT h.*
      FROM dq.experience_summary_history h
      JOIN dq.current_run r
        ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
     WHERE h.daily_rows OPERATOR(pg_catalog.>) 0
), s AS (
    SELECT c.utility_id, c.daily_rows, c.service_point_days, c.service_points,
           pg_catalog.cardinality(c.channel_list)::bigint AS channels,
           (SELECT gridflow.exact_sum(x) FROM pg_catalog.unnest(c.total_usage_partials) x)
               / nullif(c.total_usage_count, 0) AS avg_daily_usage,
           c.max_peak_value, false AS is_total
      FROM c
    UNION ALL
    SELECT NULL, coalesce(pg_catalog.sum(c.daily_rows), 0)::bigint, coalesce(pg_catalog.sum(c.service_point_days), 0)::bigint,
           coalesce(pg_catalog.sum(c.service_points), 0)::bigint,
           (SELECT pg_catalog.count(DISTINCT x) FROM c c2, pg_catalog.unnest(c2.channel_list) x),
           (SELECT gridflow.exact_sum(x) FROM c c2, pg_catalog.unnest(c2.total_usage_partials) x)
               / nullif(pg_catalog.sum(c.total_usage_count), 0),
           pg_catalog.max(c.max_peak_value), true
      FROM c
)
SELECT s.utility_id, s.daily_rows, s.service_point_days, s.service_points, s.channels, s.avg_daily_usage,
       s.max_peak_value, s.is_total
  FROM s
 ORDER BY s.is_total, s.utility_id;
COMMENT ON VIEW dq.experience_summary IS 'Experience layer (grain: one row per utility_id; and one over the reader''s utilities, utility_id NULL and is_total true); avg_daily_usage averages days of every channel, whatever their unit: see dq.dedup_value_share and experience.daily_usage for figures per channel and unit';
COMMENT ON COLUMN dq.experience_summary.utility_id IS 'Utility; NULL for all utilities';
COMMENT ON COLUMN dq.experience_summary.daily_rows IS 'Rows of experience.daily_usage (service point, day, channel)';
COMMENT ON COLUMN dq.experience_summary.service_point_days IS 'Distinct (service point, local day) with data';
COMMENT ON COLUMN dq.experience_summary.service_points IS 'Distinct service points';
COMMENT ON COLUMN dq.experience_summary.channels IS 'Distinct channels';
COMMENT ON COLUMN dq.experience_summary.avg_daily_usage IS 'Mean of total_usage over the rows';
COMMENT ON COLUMN dq.experience_summary.max_peak_value IS 'Largest peak';
COMMENT ON COLUMN dq.experience_summary.is_total IS 'true on the row of all the reader''s utilities: leave it out before adding rows up';

CREATE VIEW dq.meter_link_ambiguity WITH (security_invoker = true) AS
SELECT h.utility_id, h.policy, h.reads, h.reads_on_multi_premise_meters, h.reads_with_several_effective_assignments,
       h.reads_without_effective_assignment, h.reads_where_policies_differ
  FROM dq.meter_link_ambiguity_history h
  JOIN dq.current_run r
    ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
 WHERE h.reads OPERATOR(pg_catalog.>) 0
 ORDER BY h.utility_id;
COMMENT ON VIEW dq.meter_link_ambiguity IS 'For utilities whose reads reach service points through meters (grain: one row per utility_id): how ambiguous the link is, and how many reads the first_row and effective_dated policies would assign differently';
COMMENT ON COLUMN dq.meter_link_ambiguity.utility_id IS 'Utility';
COMMENT ON COLUMN dq.meter_link_ambiguity.policy IS 'The utility''s meter_link_policy (what the run used)';
COMMENT ON COLUMN dq.meter_link_ambiguity.reads IS 'Standardized reads';
COMMENT ON COLUMN dq.meter_link_ambiguity.reads_on_multi_premise_meters IS 'Reads whose meter is under several service points in the meter or assignment file';
COMMENT ON COLUMN dq.meter_link_ambiguity.reads_with_several_effective_assignments IS 'Reads for which more than one service point is installed and not removed at the read''s time';
COMMENT ON COLUMN dq.meter_link_ambiguity.reads_without_effective_assignment IS 'Reads for which no assignment is in effect at the read''s time';
COMMENT ON COLUMN dq.meter_link_ambiguity.reads_where_policies_differ IS 'Reads that first_row and effective_dated would give different service points';

CREATE VIEW dq.conflicting_service_points WITH (security_invoker = true) AS
SELECT utility_id, service_point_id, source_rows, conflicting_rows, batch_id, line_no
  FROM standardized.service_point
 WHERE conflicting_rows OPERATOR(pg_catalog.>) 0
 ORDER BY utility_id, service_point_id;
COMMENT ON VIEW dq.conflicting_service_points IS 'Service points listed more than once with different attributes (grain: one row per utility_id, service_point_id) (such as other addresses); the first listing was kept';
COMMENT ON COLUMN dq.conflicting_service_points.utility_id IS 'Utility';
COMMENT ON COLUMN dq.conflicting_service_points.service_point_id IS 'Service point';
COMMENT ON COLUMN dq.conflicting_service_points.source_rows IS 'Source records with this id';
COMMENT ON COLUMN dq.conflicting_service_points.conflicting_rows IS 'Records that differ from the kept one';
COMMENT ON COLUMN dq.conflicting_service_points.batch_id IS 'Lineage of the kept record: batch';
COMMENT ON COLUMN dq.conflicting_service_points.line_no IS 'Lineage of the kept record: line';

CREATE VIEW dq.multi_premise_meters WITH (security_invoker = true) AS
SELECT h.utility_id, h.meter_id, h.service_points, h.assignment_rows, h.first_installed_at, h.last_installed_at,
       h.first_row_service_point
  FROM dq.multi_premise_meters_history h
  JOIN dq.current_run c
    ON c.utility_id OPERATOR(pg_catalog.=) h.utility_id AND c.build_id OPERATOR(pg_catalog.=) h.build_id
 ORDER BY h.utility_id, h.meter_id;
COMMENT ON VIEW dq.multi_premise_meters IS 'Meters that the meter or assignment files put under more than one service point (grain: one row per utility_id, meter_id)';
COMMENT ON COLUMN dq.multi_premise_meters.utility_id IS 'Utility';
COMMENT ON COLUMN dq.multi_premise_meters.meter_id IS 'Meter';
COMMENT ON COLUMN dq.multi_premise_meters.service_points IS 'Distinct service points';
COMMENT ON COLUMN dq.multi_premise_meters.assignment_rows IS 'Meter-file or assignment-file rows naming a service point';
COMMENT ON COLUMN dq.multi_premise_meters.first_installed_at IS 'Earliest installation';
COMMENT ON COLUMN dq.multi_premise_meters.last_installed_at IS 'Latest installation';
COMMENT ON COLUMN dq.multi_premise_meters.first_row_service_point IS 'Service point of the meter''s first row in the meter file, or in the assignment file when there is one (what the first_row policy uses)';

CREATE VIEW dq.batches WITH (security_invoker = true) AS
SELECT b.batch_id, b.build_id, r.operation, b.utility_id, b.file_kind, b.file_path, b.file_bytes,
       pg_catalog.encode(b.content_sha256, 'hex') AS sha256,
       b.started_at, b.finished_at,
       b.records_read + b.records_rejected AS records,
       b.records_read, b.records_rejected, b.rows_invalid, b.rows_duplicate, b.rows_kept,
       b.rows_matched, b.rows_replaced,
       pg_catalog.round(100 * b.rows_duplicate
                        / nullif(coalesce(b.unpivoted_reads, b.records_read), 0)::numeric, 1)::numeric(5,1) AS duplicate_pct,
       b.status,
       b.unpivoted_reads,
       b.ambiguous_local_times,
       b.nonexistent_local_times
  FROM gridflow.batch b
  LEFT JOIN gridflow.build r ON r.build_id OPERATOR(pg_catalog.=) b.build_id
 ORDER BY b.batch_id;
COMMENT ON VIEW dq.batches IS 'Figures of every file loaded (grain: one row per batch_id), in arrival order, from records to kept rows (see dq.batch_quality for the quality of each batch''s reads)';
COMMENT ON COLUMN dq.batches.batch_id IS 'Batch';
COMMENT ON COLUMN dq.batches.build_id IS 'Run that loaded it';
COMMENT ON COLUMN dq.batches.operation IS 'build or ingest';
COMMENT ON COLUMN dq.batches.utility_id IS 'Utility';
COMMENT ON COLUMN dq.batches.file_kind IS 'File kind';
COMMENT ON COLUMN dq.batches.file_path IS 'File read';
COMMENT ON COLUMN dq.batches.file_bytes IS 'Bytes read';
COMMENT ON COLUMN dq.batches.sha256 IS 'SHA-256 of the file, in hex';
COMMENT ON COLUMN dq.batches.started_at IS 'Start of reading';
COMMENT ON COLUMN dq.batches.finished_at IS 'End of standardization';
COMMENT ON COLUMN dq.batches.records IS 'Records in the file (blank lines and the header aside)';
COMMENT ON COLUMN dq.batches.records_read IS 'Records landed';
COMMENT ON COLUMN dq.batches.records_rejected IS 'Records rejected at landing';
COMMENT ON COLUMN dq.batches.rows_invalid IS 'Landed records rejected at standardization';
COMMENT ON COLUMN dq.batches.rows_duplicate IS 'Landed records (wide layouts: reads) whose key was already there (earlier in the file or from an earlier batch)';
COMMENT ON COLUMN dq.batches.rows_kept IS 'New standardized rows (keys the batch brought first)';
COMMENT ON COLUMN dq.batches.rows_matched IS 'Standardized rows of earlier batches the batch''s records matched';
COMMENT ON COLUMN dq.batches.rows_replaced IS 'Of those, rows whose kept values the batch changed (keep_last corrections, sum)';
COMMENT ON COLUMN dq.batches.duplicate_pct IS 'rows_duplicate as a percentage of records_read (wide layouts: of unpivoted_reads)';
COMMENT ON COLUMN dq.batches.status IS 'loading or loaded';
COMMENT ON COLUMN dq.batches.unpivoted_reads IS 'Wide layouts: reads the valid records were unpivoted into; NULL for long layouts';
COMMENT ON COLUMN dq.batches.ambiguous_local_times IS 'Records with a local time in an hour repeated when daylight saving time ends';
COMMENT ON COLUMN dq.batches.nonexistent_local_times IS 'Records with a local time in an hour skipped when daylight saving time starts';

--
-- DQ over time: the quality of the reads of each batch (the reads whose
-- kept record came from it), and of all batches together (batch_id NULL).
--
CREATE VIEW dq.batch_quality WITH (security_invoker = true) AS
WITH r AS (
    SELECT h.*
      FROM dq.batch_quality_history h
      JOIN dq.current_run c
        ON c.utility_id OPERATOR(pg_catalog.=) h.utility_id AND c.build_id OPERATOR(pg_catalog.=) h.build_id
), s AS (
    SELECT b.batch_id, b.utility_id, b.file_kind, b.finished_at,
           b.records_read + b.records_rejected AS records, b.records_rejected + b.rows_invalid AS rejected,
           b.rows_duplicate, b.rows_kept, b.rows_matched, b.rows_replaced,
           r.reads, r.orphan_reads, r.unknown_meter_reads, r.with_value, r.value_partials,
           r.min_value, r.max_value, r.zero_values, r.negative_values, r.first_day, r.last_day,
           r.conflicting_keys, r.conflicting_records, r.resent_keys
      FROM gridflow.batch b
      LEFT JOIN r ON r.batch_id OPERATOR(pg_catalog.=) b.batch_id
)
SELECT s.batch_id,
       s.utility_id,
       s.file_kind,
       s.finished_at AS loaded_at,
       s.records::bigint AS records,
       s.rejected::bigint AS rejected,
       pg_catalog.round(100 * s.rejected / nullif(s.records, 0)::numeric, 1)::numeric(5,1) AS rejected_pct,
       s.rows_duplicate::bigint AS duplicates,
       s.rows_kept::bigint AS new_rows,
       s.rows_matched::bigint AS matched_rows,
       s.rows_replaced::bigint AS replaced_rows,
       coalesce(s.reads, 0) AS reads,
       coalesce(s.orphan_reads, 0) AS orphan_reads,
       pg_catalog.round(100 * s.orphan_reads / nullif(s.reads, 0)::numeric, 1)::numeric(5,1) AS orphan_pct,
       coalesce(s.unknown_meter_reads, 0) AS unknown_meter_reads,
       coalesce(s.conflicting_keys, 0) AS conflicting_keys,
       coalesce(s.conflicting_records, 0) AS conflicting_records,
       coalesce(s.resent_keys, 0) AS resent_keys,
       s.min_value,
       s.max_value,
       (SELECT gridflow.exact_sum(x) FROM pg_catalog.unnest(s.value_partials) x) / nullif(s.with_value, 0) AS mean_value,
       coalesce(s.zero_values, 0) AS zero_values,
       coalesce(s.negative_values, 0) AS negative_values,
       s.first_day,
       s.last_day,
       false AS is_total
  FROM s
UNION ALL
SELECT NULL, NULL, NULL, NULL,
       pg_catalog.sum(s.records)::bigint,
       pg_catalog.sum(s.rejected)::bigint,
       pg_catalog.round(100 * pg_catalog.sum(s.rejected) / nullif(pg_catalog.sum(s.records), 0), 1)::numeric(5,1),
       pg_catalog.sum(s.rows_duplicate)::bigint,
       pg_catalog.sum(s.rows_kept)::bigint,
       pg_catalog.sum(s.rows_matched)::bigint,
       pg_catalog.sum(s.rows_replaced)::bigint,
       coalesce(pg_catalog.sum(s.reads), 0)::bigint,
       coalesce(pg_catalog.sum(s.orphan_reads), 0)::bigint,
       pg_catalog.round(100 * pg_catalog.sum(s.orphan_reads) / nullif(pg_catalog.sum(s.reads), 0), 1)::numeric(5,1),
       coalesce(pg_catalog.sum(s.unknown_meter_reads), 0)::bigint,
       coalesce(pg_catalog.sum(s.conflicting_keys), 0)::bigint,
       coalesce(pg_catalog.sum(s.conflicting_records), 0)::bigint,
       coalesce(pg_catalog.sum(s.resent_keys), 0)::bigint,
       pg_catalog.min(s.min_value),
       pg_catalog.max(s.max_value),
       (SELECT gridflow.exact_sum(x) FROM s s2, pg_catalog.unnest(s2.value_partials) x)
           / nullif(pg_catalog.sum(s.with_value), 0),
       coalesce(pg_catalog.sum(s.zero_values), 0)::bigint,
       coalesce(pg_catalog.sum(s.negative_values), 0)::bigint,
       pg_catalog.min(s.first_day),
       pg_catalog.max(s.last_day),
       true
  FROM s
 ORDER BY 1 NULLS LAST;
COMMENT ON VIEW dq.batch_quality IS 'DQ over time (grain: one row per batch_id; and one over all the reader''s batches, batch_id NULL and is_total true): per batch, the quality of the reads whose kept record came from it (rejects, duplicates, orphans, conflicts, values, days). Filter on batch_id for one batch; dq.batch_quality_history keeps the figures of earlier runs';
COMMENT ON COLUMN dq.batch_quality.batch_id IS 'Batch (NULL: all batches)';
COMMENT ON COLUMN dq.batch_quality.utility_id IS 'Utility of the batch';
COMMENT ON COLUMN dq.batch_quality.file_kind IS 'File kind';
COMMENT ON COLUMN dq.batch_quality.loaded_at IS 'When the batch was standardized';
COMMENT ON COLUMN dq.batch_quality.records IS 'Records in the file(s)';
COMMENT ON COLUMN dq.batch_quality.rejected IS 'Records rejected, at landing or at standardization';
COMMENT ON COLUMN dq.batch_quality.rejected_pct IS 'rejected as a percentage of records';
COMMENT ON COLUMN dq.batch_quality.duplicates IS 'Records whose key was already there';
COMMENT ON COLUMN dq.batch_quality.new_rows IS 'New standardized rows';
COMMENT ON COLUMN dq.batch_quality.matched_rows IS 'Rows of earlier batches matched';
COMMENT ON COLUMN dq.batch_quality.replaced_rows IS 'Rows of earlier batches whose kept values changed';
COMMENT ON COLUMN dq.batch_quality.reads IS 'Reads whose kept record came from the batch (under keep_last a correction takes the read over)';
COMMENT ON COLUMN dq.batch_quality.orphan_reads IS 'Of those, reads whose service point is unknown or missing';
COMMENT ON COLUMN dq.batch_quality.orphan_pct IS 'orphan_reads as a percentage of reads';
COMMENT ON COLUMN dq.batch_quality.unknown_meter_reads IS 'Reads whose meter is not in standardized.meter';
COMMENT ON COLUMN dq.batch_quality.conflicting_keys IS 'Reads whose records disagree on the value';
COMMENT ON COLUMN dq.batch_quality.conflicting_records IS 'Records that disagree with the first one of their key';
COMMENT ON COLUMN dq.batch_quality.resent_keys IS 'Reads that a later batch sent again';
COMMENT ON COLUMN dq.batch_quality.min_value IS 'Smallest value';
COMMENT ON COLUMN dq.batch_quality.max_value IS 'Largest value';
COMMENT ON COLUMN dq.batch_quality.mean_value IS 'Mean value';
COMMENT ON COLUMN dq.batch_quality.zero_values IS 'Reads of value 0';
COMMENT ON COLUMN dq.batch_quality.negative_values IS 'Reads of negative value';
COMMENT ON COLUMN dq.batch_quality.first_day IS 'First local day of the reads';
COMMENT ON COLUMN dq.batch_quality.last_day IS 'Last local day of the reads';
COMMENT ON COLUMN dq.batch_quality.is_total IS 'true on the row of all the reader''s batches: leave it out before adding rows up';

CREATE VIEW dq.readiness WITH (security_invoker = true) AS
WITH c AS (
    SELECT h.*
      FROM dq.batch_quality_history h
      JOIN dq.current_run r
        ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
     WHERE h.reads OPERATOR(pg_catalog.>) 0
), s AS (
    SELECT c.utility_id, pg_catalog.sum(c.reads)::bigint AS reads, pg_catalog.sum(c.ready_reads)::bigint AS ready_reads,
           pg_catalog.sum(c.orphan_reads)::bigint AS unknown_service_point_reads,
           pg_catalog.sum(c.reads_without_service_point)::bigint AS reads_without_service_point,
           pg_catalog.sum(c.unknown_meter_reads)::bigint AS unknown_meter_reads, false AS is_total
      FROM c
     GROUP BY c.utility_id
    UNION ALL
    SELECT NULL, coalesce(pg_catalog.sum(c.reads), 0)::bigint, coalesce(pg_catalog.sum(c.ready_reads), 0)::bigint,
           coalesce(pg_catalog.sum(c.orphan_reads), 0)::bigint,
           coalesce(pg_catalog.sum(c.reads_without_service_point), 0)::bigint,
           coalesce(pg_catalog.sum(c.unknown_meter_reads), 0)::bigint, true
      FROM c
)
SELECT s.utility_id,
       s.reads,
       s.ready_reads,
       pg_catalog.round(100 * s.ready_reads / nullif(s.reads, 0)::numeric, 1)::numeric(5,1) AS ready_pct,
       s.unknown_service_point_reads,
       s.reads_without_service_point,
       s.unknown_meter_reads,
       s.is_total
  FROM s
 ORDER BY s.is_total, s.utility_id;
COMMENT ON VIEW dq.readiness IS 'Reads ready for analysis, service point and meter both known (grain: one row per utility_id; and one over the reader''s utilities, utility_id NULL and is_total true)';
COMMENT ON COLUMN dq.readiness.utility_id IS 'Utility; NULL for all utilities';
COMMENT ON COLUMN dq.readiness.reads IS 'Product rows';
COMMENT ON COLUMN dq.readiness.ready_reads IS 'Rows whose service point and meter are known';
COMMENT ON COLUMN dq.readiness.ready_pct IS 'ready_reads as a percentage of reads';
COMMENT ON COLUMN dq.readiness.unknown_service_point_reads IS 'Rows whose service point is not in standardized.service_point (or missing)';
COMMENT ON COLUMN dq.readiness.reads_without_service_point IS 'Rows with no service point at all (left out of experience)';
COMMENT ON COLUMN dq.readiness.unknown_meter_reads IS 'Rows whose meter is not in standardized.meter';
COMMENT ON COLUMN dq.readiness.is_total IS 'true on the row of all the reader''s utilities: leave it out before adding rows up';

--
-- Validation (VEE): the current run's figures of each utility the reader
-- may see.
--
CREATE VIEW dq.vee_quality WITH (security_invoker = true) AS
SELECT h.utility_id,
       h.channel,
       h.reads,
       h.valid_reads,
       h.questionable_reads,
       h.estimated_reads,
       pg_catalog.round(100 * h.questionable_reads / nullif(h.reads, 0)::numeric, 1)::numeric(5,1) AS questionable_pct
  FROM dq.vee_quality_history h
  JOIN dq.current_run r
    ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
 ORDER BY h.utility_id, h.channel;
COMMENT ON VIEW dq.vee_quality IS 'Product reads by quality code (gridflow.quality_code) per utility and channel (grain: one row per utility_id, channel)';
COMMENT ON COLUMN dq.vee_quality.utility_id IS 'Utility';
COMMENT ON COLUMN dq.vee_quality.channel IS 'Channel';
COMMENT ON COLUMN dq.vee_quality.reads IS 'Rows of product.usage_interval';
COMMENT ON COLUMN dq.vee_quality.valid_reads IS 'Reads of quality code 0: passed every enabled rule';
COMMENT ON COLUMN dq.vee_quality.questionable_reads IS 'Reads of quality code 10: failed a rule (dq.vee_rules says which)';
COMMENT ON COLUMN dq.vee_quality.estimated_reads IS 'Estimated rows (quality codes 8 and 9; gridflow.vee_estimation, dq.vee_estimates)';
COMMENT ON COLUMN dq.vee_quality.questionable_pct IS 'questionable_reads as a percentage of reads';

CREATE VIEW dq.vee_rules WITH (security_invoker = true) AS
SELECT h.utility_id,
       h.channel,
       h.rule,
       h.reads_flagged,
       h.days_flagged
  FROM dq.vee_rule_history h
  JOIN dq.current_run r
    ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
 ORDER BY h.utility_id, h.channel, h.rule;
COMMENT ON VIEW dq.vee_rules IS 'What each enabled validation rule of gridflow.vee_rule flagged, per utility, channel and rule (grain: one row per utility_id, channel, rule; interval_count, which flags no read, is in dq.vee_interval_counts)';
COMMENT ON COLUMN dq.vee_rules.utility_id IS 'Utility';
COMMENT ON COLUMN dq.vee_rules.channel IS 'Channel';
COMMENT ON COLUMN dq.vee_rules.rule IS 'Validation rule';
COMMENT ON COLUMN dq.vee_rules.reads_flagged IS 'Product reads that failed the rule (vee_flags holds it)';
COMMENT ON COLUMN dq.vee_rules.days_flagged IS 'Service-point days (service point or none, local day) with such a read';

CREATE VIEW dq.vee_interval_counts WITH (security_invoker = true) AS
SELECT h.utility_id,
       h.channel,
       h.duration_seconds,
       h.day_hours,
       h.expected_intervals,
       h.days,
       h.days_complete,
       h.days_short,
       h.days_over,
       pg_catalog.round(100 * h.days_complete / nullif(h.days, 0)::numeric, 1)::numeric(5,1) AS complete_pct
  FROM dq.vee_interval_count_history h
  JOIN dq.current_run r
    ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
 ORDER BY h.utility_id, h.channel, h.duration_seconds, h.day_hours;
COMMENT ON VIEW dq.vee_interval_counts IS 'The interval_count rule of gridflow.vee_rule: the local days of each series (service point, meter and channel) by their reads against the intervals the day implies, per utility, channel, interval length and day length (grain: one row per utility_id, channel, duration_seconds, day_hours); reads of a day''s resolution or without a duration are not counted';
COMMENT ON COLUMN dq.vee_interval_counts.utility_id IS 'Utility';
COMMENT ON COLUMN dq.vee_interval_counts.channel IS 'Channel';
COMMENT ON COLUMN dq.vee_interval_counts.duration_seconds IS 'Interval length of the reads';
COMMENT ON COLUMN dq.vee_interval_counts.day_hours IS 'Length of the local day: 24, 23 on the spring-forward day, 25 on the fall-back day';
COMMENT ON COLUMN dq.vee_interval_counts.expected_intervals IS 'Intervals of such a day: its seconds over duration_seconds, rounded down (96, 92 and 100 at 15 minutes; 24, 23 and 25 hourly)';
COMMENT ON COLUMN dq.vee_interval_counts.days IS 'Series days with reads';
COMMENT ON COLUMN dq.vee_interval_counts.days_complete IS 'Days with as many reads as expected_intervals';
COMMENT ON COLUMN dq.vee_interval_counts.days_short IS 'Days with fewer reads';
COMMENT ON COLUMN dq.vee_interval_counts.days_over IS 'Days with more reads (reads off the grid)';
COMMENT ON COLUMN dq.vee_interval_counts.complete_pct IS 'days_complete as a percentage of days';

CREATE VIEW dq.vee_gaps WITH (security_invoker = true) AS
SELECT h.utility_id,
       h.channel,
       h.gaps,
       h.missing_intervals,
       h.missing_seconds,
       h.longest_gap_seconds,
       h.unestimated_gaps,
       h.unestimated_intervals
  FROM dq.vee_gap_history h
  JOIN dq.current_run r
    ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
 ORDER BY h.utility_id, h.channel;
COMMENT ON VIEW dq.vee_gaps IS 'Gaps in the series (service point, meter and channel) per utility and channel (grain: one row per utility_id, channel), when the gap rule of gridflow.vee_rule is enabled: a gap is the time between the end of a read and the start of the series'' next read, which the rule flags';
COMMENT ON COLUMN dq.vee_gaps.utility_id IS 'Utility';
COMMENT ON COLUMN dq.vee_gaps.channel IS 'Channel';
COMMENT ON COLUMN dq.vee_gaps.gaps IS 'Gaps (reads flagged gap)';
COMMENT ON COLUMN dq.vee_gaps.missing_intervals IS 'Whole intervals missing in them (each gap''s seconds over the duration of the read before it, rounded down: a gap shorter than an interval, after a read off the grid, counts none)';
COMMENT ON COLUMN dq.vee_gaps.missing_seconds IS 'Seconds missing in them';
COMMENT ON COLUMN dq.vee_gaps.longest_gap_seconds IS 'Seconds of the longest gap (NULL: none)';
COMMENT ON COLUMN dq.vee_gaps.unestimated_gaps IS 'Gaps left unestimated (all of them for a utility without estimation, gridflow.vee_estimation): too long for its limits, a neighbour questionable or without a value, no reference day for one of its intervals, or not a whole number of intervals; dq.vee_estimates counts the others';
COMMENT ON COLUMN dq.vee_gaps.unestimated_intervals IS 'Whole intervals missing in the gaps left unestimated (as missing_intervals counts them)';

CREATE VIEW dq.vee_estimates WITH (security_invoker = true) AS
SELECT h.utility_id,
       h.channel,
       h.method,
       h.quality_code,
       h.gaps_estimated,
       h.intervals_estimated
  FROM dq.vee_estimate_history h
  JOIN dq.current_run r
    ON r.utility_id OPERATOR(pg_catalog.=) h.utility_id AND r.build_id OPERATOR(pg_catalog.=) h.build_id
 ORDER BY h.utility_id, h.channel, h.quality_code DESC;
COMMENT ON VIEW dq.vee_estimates IS 'Estimation (gridflow.vee_estimation) per utility, channel and method: the gaps filled and the intervals estimated (grain: one row per utility_id, channel, method; only utilities with estimation). The gaps left unestimated are in dq.vee_gaps (with the gap rule enabled)';
COMMENT ON COLUMN dq.vee_estimates.utility_id IS 'Utility';
COMMENT ON COLUMN dq.vee_estimates.channel IS 'Channel';
COMMENT ON COLUMN dq.vee_estimates.method IS 'linear (interpolation between the reads around a gap) or reference (the mean of reference days)';
COMMENT ON COLUMN dq.vee_estimates.quality_code IS 'The estimated rows'' quality code: 9 linear, 8 reference';
COMMENT ON COLUMN dq.vee_estimates.gaps_estimated IS 'Gaps filled by the method (each gap whole)';
COMMENT ON COLUMN dq.vee_estimates.intervals_estimated IS 'Estimated product rows of the method';
