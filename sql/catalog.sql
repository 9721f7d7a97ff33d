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
