-- Objects planted where gridflow could pick them up instead of the
-- built-ins it means: in public before CREATE EXTENSION, in a schema that a
-- builder puts first on its search_path before a build (which runs as the
-- owner of the extension), and overloads of gridflow_build itself.  No
-- planted object may ever run on gridflow's behalf.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS gridflow CASCADE;
RESET client_min_messages;
\getenv testdir GRIDFLOW_TEST_DIR

-- The trap: every planted function records who ran it.
CREATE ROLE regress_attacker;
GRANT CREATE ON SCHEMA public TO regress_attacker;
SET ROLE regress_attacker;
CREATE TABLE public.regress_trap (fn text, as_superuser boolean, as_attacker boolean);
GRANT INSERT ON public.regress_trap TO PUBLIC;
CREATE FUNCTION public.regress_sprung(fn text) RETURNS void
LANGUAGE sql AS $$
INSERT INTO public.regress_trap
SELECT fn, rolsuper, rolname LIKE 'regress\_%' FROM pg_catalog.pg_roles WHERE rolname = current_user
$$;

--
-- In public, better matches than pg_catalog's for calls an extension script
-- or its views could make unqualified (public is on the installing
-- superuser's search_path).
--
CREATE FUNCTION public.format(text, regclass) RETURNS text
LANGUAGE sql AS $$ SELECT public.regress_sprung('format'); SELECT pg_catalog.format($1, $2) $$;
CREATE FUNCTION public.format(text, text, text) RETURNS text
LANGUAGE sql AS $$ SELECT public.regress_sprung('format'); SELECT pg_catalog.format($1, $2, $3) $$;
CREATE FUNCTION public.unnest(text[]) RETURNS SETOF text
LANGUAGE sql AS $$ SELECT public.regress_sprung('unnest'); SELECT pg_catalog.unnest($1) $$;
CREATE FUNCTION public.pg_has_role(name, text) RETURNS boolean
LANGUAGE sql AS $$ SELECT public.regress_sprung('pg_has_role'); SELECT true $$;
CREATE FUNCTION public.left(varchar, integer) RETURNS text
LANGUAGE sql AS $$ SELECT public.regress_sprung('left'); SELECT 'hijacked'::text $$;
CREATE FUNCTION public.texteq_trap(name, text) RETURNS boolean
LANGUAGE sql AS $$ SELECT public.regress_sprung('='); SELECT true $$;
CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = text, FUNCTION = public.texteq_trap);
RESET ROLE;

SHOW search_path;
CREATE EXTENSION gridflow;
SELECT count(*) AS tables_built FROM gridflow_build(:'testdir' || '/drops/messy') WHERE table_name IS NOT NULL;

-- readers go through the policies and the external views
CREATE ROLE regress_u1 IN ROLE gridflow_internal;
CREATE ROLE regress_ext1 IN ROLE gridflow_external;
INSERT INTO gridflow.role_utility VALUES ('regress_u1', 'UTILITY1'), ('regress_ext1', 'UTILITY1');
SET ROLE regress_u1;
SELECT utility_id, count(*) FROM product.usage_interval GROUP BY 1 ORDER BY 1;
SELECT count(*) > 0 AS report FROM dq.snapshot;
RESET ROLE;
SET ROLE regress_ext1;
SELECT utility_id, count(*), max(zip3) IS NOT NULL AS zip3 FROM external.service_point GROUP BY 1 ORDER BY 1;
RESET ROLE;

-- Nothing the extension defines refers to a function or operator outside
-- its own schemas (views, policies, defaults, constraints); the built-ins
-- of pg_catalog are pinned, so their uses are not recorded at all.
CREATE TEMP VIEW extension_uses AS
WITH members AS (
    SELECT d.objid AS relid
      FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
     WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'gridflow'
       AND d.classid = 'pg_class'::regclass AND d.deptype = 'e'
)
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS object,
       pg_describe_object(d.refclassid, d.refobjid, 0) AS uses,
       coalesce(p.pronamespace, o.oprnamespace)::regnamespace::text AS schema
  FROM pg_depend d
  LEFT JOIN pg_rewrite rw ON d.classid = 'pg_rewrite'::regclass AND rw.oid = d.objid
  LEFT JOIN pg_policy pol ON d.classid = 'pg_policy'::regclass AND pol.oid = d.objid
  LEFT JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
  LEFT JOIN pg_constraint con ON d.classid = 'pg_constraint'::regclass AND con.oid = d.objid
  LEFT JOIN pg_proc p ON d.refclassid = 'pg_proc'::regclass AND p.oid = d.refobjid
  LEFT JOIN pg_operator o ON d.refclassid = 'pg_operator'::regclass AND o.oid = d.refobjid
 WHERE d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass)
   AND coalesce(rw.ev_class, pol.polrelid, ad.adrelid, con.conrelid) IN (SELECT relid FROM members);
SELECT count(*) FILTER (WHERE schema = 'gridflow') > 0 AS sees_uses FROM extension_uses;
SELECT object, uses FROM extension_uses
 WHERE schema NOT IN ('pg_catalog', 'gridflow', 'landing', 'standardized', 'product', 'experience', 'dq', 'external');
-- No function of the extension is SECURITY DEFINER without a pinned
-- search_path, and none has a body parsed when it is called (which would
-- resolve names with the caller's search_path) unless it pins search_path.
SELECT p.oid::regprocedure AS function, p.prosecdef, p.proconfig, l.lanname
  FROM pg_proc p
  JOIN pg_language l ON l.oid = p.prolang
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                  AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'gridflow'
 WHERE (p.prosecdef AND NOT coalesce(p.proconfig @> '{"search_path=pg_catalog, pg_temp"}', false))
    OR (l.lanname <> 'c' AND l.lanname <> 'internal' AND p.prosqlbody IS NULL
        AND NOT coalesce(p.proconfig @> '{"search_path=pg_catalog, pg_temp"}', false));

--
-- A builder (pipeline, pg_read_server_files) plants its own operator and
-- clock_timestamp() first on its search_path, so that the build, running
-- as the owner of the extension, would run them and make it superuser.
--
CREATE ROLE regress_builder IN ROLE gridflow_pipeline, pg_read_server_files;
CREATE SCHEMA regress_evil AUTHORIZATION regress_builder;
SET ROLE regress_builder;
CREATE FUNCTION regress_evil.escalate(fn text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.regress_sprung(fn);
    IF current_user <> 'regress_builder' THEN
        EXECUTE 'ALTER ROLE regress_builder SUPERUSER';
    END IF;
END
$$;
CREATE FUNCTION regress_evil.clock_timestamp() RETURNS timestamptz
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM regress_evil.escalate('clock_timestamp');
    RETURN pg_catalog.clock_timestamp();
END
$$;
CREATE FUNCTION regress_evil.texteq(text, text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM regress_evil.escalate('=');
    RETURN pg_catalog.texteq($1, $2);
END
$$;
CREATE OPERATOR regress_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_evil.texteq);
SET search_path = regress_evil, pg_catalog, public;
-- the traps are live for the builder's own queries ...
SELECT 'a'::text = 'a'::text AS equal, clock_timestamp() IS NOT NULL AS clock;
-- ... and never run in the build
SELECT count(*) AS tables_built FROM gridflow_build(:'testdir' || '/drops/messy') WHERE table_name IS NOT NULL;
RESET search_path;
RESET ROLE;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_builder';

--
-- Overloads of gridflow_build planted in public (the extension's schema):
-- an unqualified call never reaches them (gridflow_build() itself is the
-- extension's, and cannot be planted).
--
SET ROLE regress_attacker;
CREATE FUNCTION public.gridflow_build() RETURNS SETOF record
LANGUAGE sql AS $$ SELECT public.regress_sprung('gridflow_build()'); SELECT 'hijacked'::text, NULL::text, NULL::bigint, NULL::float8 $$;
CREATE FUNCTION public.gridflow_build(varchar) RETURNS SETOF record
LANGUAGE sql AS $$ SELECT public.regress_sprung('gridflow_build(varchar)'); SELECT 'hijacked'::text, NULL::text, NULL::bigint, NULL::float8 $$;
RESET ROLE;
SELECT step FROM gridflow_build();
SELECT count(*) AS tables_built FROM gridflow_build('/tmp/gridflow-regress/drops/messy') WHERE table_name IS NOT NULL;
SELECT count(*) AS tables_built FROM gridflow_build(:'testdir' || '/drops/messy') WHERE table_name IS NOT NULL;

-- What ran: only the builder's own two queries, as itself.
SELECT fn, as_superuser, as_attacker, count(*) FROM public.regress_trap GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

DROP FUNCTION public.gridflow_build(varchar);
DROP SCHEMA regress_evil CASCADE;
DELETE FROM gridflow.role_utility WHERE role_name LIKE 'regress\_%';
DROP OPERATOR public.= (name, text);
DROP FUNCTION public.format(text, regclass), public.format(text, text, text), public.unnest(text[]),
              public.pg_has_role(name, text), public.left(varchar, integer), public.texteq_trap(name, text),
              public.regress_sprung(text);
DROP TABLE public.regress_trap;
REVOKE CREATE ON SCHEMA public FROM regress_attacker;
DROP OWNED BY regress_u1, regress_ext1, regress_builder;
DROP ROLE regress_attacker, regress_u1, regress_ext1, regress_builder;
