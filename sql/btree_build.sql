-- The unique btree indexes of the layer partitions, written by the build as
-- their rows come in index order (gridflow.stream_index_builds), else built
-- by REINDEX: every index passes amcheck's checks (with heapallindexed and
-- rootdescend), a streamed index's pages are the ones REINDEX writes, and
-- index scans return what sequential scans return.  The shipped sample, a
-- drop whose reads have no service point (their meter is unknown), a drop
-- of scale 5 (indexes of three levels), the setting on and off, and a
-- database whose collation orders the keys otherwise (numbers by value: the
-- streams give up and REINDEX builds those indexes).
--
-- Each in a database of its own, with gridflow's configuration as installed
-- (the other tests leave theirs): first one whose text sorts by its bytes.
\getenv testdir GRIDFLOW_TEST_DIR
\set unknown_meters :testdir '/drops/unknown_meters'
\set scale5 :testdir '/drops/scale5'
SELECT current_database() AS regress_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS gridflow_btree_bytes;
DROP DATABASE IF EXISTS gridflow_btree_numeric;
RESET client_min_messages;
CREATE DATABASE gridflow_btree_bytes TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C';
\c gridflow_btree_bytes
SET client_min_messages = warning;
CREATE EXTENSION gridflow;
CREATE EXTENSION amcheck;
CREATE EXTENSION pageinspect;
RESET client_min_messages;
SET timezone = 'America/New_York';
SET datestyle = 'ISO, YMD';

SHOW gridflow.stream_index_builds;

\set helpers 'CREATE FUNCTION pg_temp.layer_indexes() RETURNS TABLE (idx regclass, tbl regclass, isunique bool) LANGUAGE sql AS $f$ SELECT c.oid::regclass, i.indrelid::regclass, i.indisunique FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $$gridflow_store$$ AND c.relkind = $$i$$ AND c.relam = (SELECT oid FROM pg_am WHERE amname = $$btree$$) ORDER BY c.oid::regclass::text $f$; CREATE FUNCTION pg_temp.check_indexes() RETURNS bigint LANGUAGE sql AS $f$ SELECT count(bt_index_parent_check(idx, heapallindexed => true, rootdescend => true)) FROM pg_temp.layer_indexes() $f$; CREATE FUNCTION pg_temp.index_pages(idx regclass) RETURNS text LANGUAGE sql AS $f$ SELECT coalesce(md5(string_agg(b::text || $$:$$ || (SELECT concat_ws($$,$$, s.type, s.live_items, s.dead_items, s.free_size, s.btpo_prev, s.btpo_next, s.btpo_level, s.btpo_flags) FROM bt_page_stats(idx::text, b) s) || $$:$$ || coalesce((SELECT string_agg(i.itemoffset || i.ctid::text || i.data, $$,$$ ORDER BY i.itemoffset) FROM bt_page_items(idx::text, b) i), $$$$), $$/$$ ORDER BY b)), $$empty$$) || (SELECT m::text FROM bt_metap(idx::text) m) FROM generate_series(1, (pg_relation_size(idx) / 8192)::int - 1) b $f$;'

-- Index scans and sequential scans of every index's table: all rows in the
-- index's order (ties, in the lookup indexes, by the row's text), the rows of the first key column's middle value, the rows
-- whose first key column is NULL.
\set scans 'CREATE FUNCTION pg_temp.scan(idx regclass) RETURNS text LANGUAGE plpgsql AS $f$ DECLARE ord text; col text; tbl regclass; h text; eq bigint; nulls bigint; BEGIN SELECT i.indrelid::regclass, string_agg(quote_ident(a.attname) || CASE WHEN i.indoption[k.n - 1] & 1 = 1 THEN $$ DESC$$ ELSE $$ ASC$$ END || CASE WHEN i.indoption[k.n - 1] & 2 = 2 THEN $$ NULLS FIRST$$ ELSE $$ NULLS LAST$$ END, $$, $$ ORDER BY k.n), (array_agg(quote_ident(a.attname) ORDER BY k.n))[1] INTO tbl, ord, col FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE i.indexrelid = idx AND k.n <= i.indnkeyatts GROUP BY i.indrelid; EXECUTE format($$SELECT md5(coalesce(string_agg(t::text, $x$|$x$), $x$empty$x$)) FROM (SELECT * FROM %s x ORDER BY %s, x::text) t$$, tbl, ord) INTO h; EXECUTE format($$SELECT count(*) FROM %s WHERE %s = (SELECT %s FROM %s ORDER BY %s OFFSET (SELECT count(*) / 2 FROM %s) LIMIT 1)$$, tbl, col, col, tbl, ord, tbl) INTO eq; EXECUTE format($$SELECT count(*) FROM %s WHERE %s IS NULL$$, tbl, col) INTO nulls; RETURN concat_ws($$ $$, h, eq, nulls); END $f$;'

-- One build's checks, in one row: how many indexes pass amcheck; how many
-- unique indexes of layer partitions there are, and how many of those have
-- other pages than REINDEX then writes; for how many indexes the index
-- scans return other rows than the sequential scans; amcheck after REINDEX.
\set check 'CREATE FUNCTION pg_temp.check_build(OUT indexes_checked bigint, OUT unique_indexes bigint, OUT pages_unlike_reindex bigint, OUT indexes_scanned bigint, OUT scans_differing bigint, OUT checked_after_reindex bigint) LANGUAGE plpgsql AS $f$ DECLARE r record; BEGIN indexes_checked := pg_temp.check_indexes(); CREATE TEMP TABLE written AS SELECT idx, pg_temp.index_pages(idx) AS pages FROM pg_temp.layer_indexes() WHERE isunique AND idx::text !~ $$^gridflow_store\\.(utility_|calendar)$$; SELECT count(*) INTO unique_indexes FROM written; PERFORM set_config(x, $$off$$, true) FROM unnest(ARRAY[$$enable_seqscan$$, $$enable_bitmapscan$$, $$enable_sort$$]) x; CREATE TEMP TABLE by_index AS SELECT idx, pg_temp.scan(idx) AS r FROM pg_temp.layer_indexes(); PERFORM set_config(x, $$on$$, true) FROM unnest(ARRAY[$$enable_seqscan$$, $$enable_sort$$]) x; PERFORM set_config(x, $$off$$, true) FROM unnest(ARRAY[$$enable_indexscan$$, $$enable_indexonlyscan$$]) x; SELECT count(*), count(*) FILTER (WHERE i.r IS DISTINCT FROM pg_temp.scan(i.idx)) INTO indexes_scanned, scans_differing FROM by_index i; PERFORM set_config(x, $$on$$, true) FROM unnest(ARRAY[$$enable_indexscan$$, $$enable_indexonlyscan$$, $$enable_bitmapscan$$]) x; FOR r IN SELECT idx FROM written LOOP EXECUTE format($$REINDEX INDEX %s$$, r.idx); END LOOP; SELECT count(*) FILTER (WHERE pages IS DISTINCT FROM pg_temp.index_pages(idx)) INTO pages_unlike_reindex FROM written; checked_after_reindex := pg_temp.check_indexes(); DROP TABLE written, by_index; END $f$;'

:helpers
:scans
:check

-- The shipped sample, streamed.
SELECT count(*) > 0 AS built FROM gridflow_build();
-- an index scan answers the scans with enable_seqscan off
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT * FROM gridflow_store.interval_read_utility2_202501
 ORDER BY service_point_id, interval_start_ts, utility_id, meter_id, channel;
EXPLAIN (COSTS OFF) SELECT count(*) FROM gridflow_store.interval_read_utility2_202501
 WHERE service_point_id IS NULL;
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_sort;
SELECT * FROM pg_temp.check_build();

-- The same with the setting off: every index by REINDEX.
SET gridflow.stream_index_builds = off;
SELECT count(*) > 0 AS built FROM gridflow_build();
SELECT * FROM pg_temp.check_build();
RESET gridflow.stream_index_builds;

-- Reads whose meter is unknown: no service point, last in the index.
SELECT count(*) > 0 AS built FROM gridflow_build(:'unknown_meters');
SELECT utility_id, count(*) FILTER (WHERE service_point_id IS NULL) AS without_service_point,
       count(*) AS reads
  FROM standardized.interval_read GROUP BY 1 ORDER BY 1;
SELECT * FROM pg_temp.check_build();
-- the rows without a service point through the index
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) AS without_service_point FROM gridflow_store.interval_read_utility2_202501
 WHERE service_point_id IS NULL;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- Scale 5: indexes of two and three levels.
SELECT count(*) > 0 AS built FROM gridflow_build(:'scale5');
SELECT max((SELECT level FROM bt_metap(idx::text))) AS deepest_root_level,
       count(*) FILTER (WHERE (SELECT level FROM bt_metap(idx::text)) >= 1) AS indexes_above_one_level
  FROM pg_temp.layer_indexes() WHERE isunique;
SELECT * FROM pg_temp.check_build();
SET gridflow.stream_index_builds = off;
SELECT count(*) > 0 AS built FROM gridflow_build(:'scale5');
SELECT * FROM pg_temp.check_build();
RESET gridflow.stream_index_builds;

-- A database that sorts digits by their numeric value ("3" before "10"):
-- the rows come in the bytes' order, so streams give up where that differs
-- and REINDEX builds those indexes.
\c :regress_db
DROP DATABASE gridflow_btree_bytes;
CREATE DATABASE gridflow_btree_numeric LOCALE_PROVIDER icu ICU_LOCALE 'en-US-u-kn-true' TEMPLATE template0;
\c gridflow_btree_numeric
SET client_min_messages = warning;
CREATE EXTENSION gridflow;
CREATE EXTENSION amcheck;
CREATE EXTENSION pageinspect;
RESET client_min_messages;
SELECT '3' < '10' AS numeric_order;
:helpers
:scans
:check
SELECT count(*) > 0 AS built FROM gridflow_build();
SELECT * FROM pg_temp.check_build();
SELECT count(*) > 0 AS built FROM gridflow_build(:'unknown_meters');
SELECT * FROM pg_temp.check_build();
\c :regress_db
DROP DATABASE gridflow_btree_numeric;
