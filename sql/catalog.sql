-- The extension's objects: everything a user can see is commented, and
-- CREATE EXTENSION leaves the session's search_path alone.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS gridflow CASCADE;
RESET client_min_messages;
SHOW search_path;
CREATE EXTENSION gridflow;
SHOW search_path;

-- schemas, tables, views, columns and functions without a comment
SELECT n.nspname FROM pg_namespace n
 WHERE n.nspname IN ('gridflow', 'landing', 'standardized', 'product', 'experience', 'dq', 'external')
   AND obj_description(n.oid, 'pg_namespace') IS NULL;
SELECT c.oid::regclass AS relation
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('gridflow', 'landing', 'standardized', 'product', 'experience', 'dq', 'external')
   AND c.relkind IN ('r', 'v', 'm', 'p')
   AND obj_description(c.oid, 'pg_class') IS NULL;
SELECT c.oid::regclass AS relation, a.attname AS column_name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE n.nspname IN ('gridflow', 'landing', 'standardized', 'product', 'experience', 'dq', 'external')
   AND c.relkind IN ('r', 'v', 'm', 'p', 'c')
   AND col_description(c.oid, a.attnum) IS NULL;
SELECT p.oid::regprocedure AS function
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                  AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'gridflow'
 WHERE obj_description(p.oid, 'pg_proc') IS NULL;

-- what the extension consists of
SELECT count(*) FILTER (WHERE classid = 'pg_class'::regclass) AS relations,
       count(*) FILTER (WHERE classid = 'pg_proc'::regclass) AS functions,
       count(*) FILTER (WHERE classid = 'pg_namespace'::regclass) AS schemas,
       count(*) FILTER (WHERE classid = 'pg_type'::regclass) AS types
  FROM pg_depend WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'gridflow') AND deptype = 'e';
SELECT extversion, extrelocatable FROM pg_extension WHERE extname = 'gridflow';
SELECT pg_describe_object(classid, objid, objsubid) AS config_table, x.cond
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) x(rel, cond)
  JOIN pg_depend d ON d.objid = x.rel AND d.classid = 'pg_class'::regclass AND d.objsubid = 0 AND d.deptype = 'e'
 WHERE e.extname = 'gridflow'
 ORDER BY 1;

-- No view or SQL function of the extension runs GROUPING SETS, ROLLUP or
-- CUBE (Citus cannot run them over distributed tables): totals are a
-- UNION ALL of plain GROUP BYs, or read from the stored DQ figures.
WITH members AS (
    SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
     WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'gridflow' AND d.deptype = 'e'
), defs AS (
    SELECT 'view ' || c.oid::regclass AS object, pg_get_viewdef(c.oid) AS def
      FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
     WHERE c.relkind IN ('v', 'm')
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure, pg_get_functiondef(p.oid)
      FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
     WHERE p.prokind IN ('f', 'p') AND p.prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql'))
)
SELECT count(*) FILTER (WHERE object LIKE 'view dq.%') > 20 AS dq_views_checked,
       count(*) FILTER (WHERE def ~* '\mgrouping\s+sets\M|\mrollup\s*\(|\mcube\s*\(') AS with_grouping_sets
  FROM defs;
