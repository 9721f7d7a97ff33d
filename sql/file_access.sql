-- Reading server files: attempts to read what the role may not, to escape
-- gridflow.allowed_directories, and to make gridflow wait on a FIFO or read
-- a device.  Every attempt must end in an ERROR (or read nothing outside).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gridflow;
RESET client_min_messages;
\getenv testdir GRIDFLOW_TEST_DIR
\set attack :testdir '/attack'
\set allowed :attack '/allowed'
\set drops :testdir '/drops'
-- whatever would block on a FIFO fails the test instead of hanging it
SET statement_timeout = '20s';

--
-- A plain role reads /etc/passwd through each gridflow function.
--
CREATE ROLE regress_plain;
SET ROLE regress_plain;
SELECT * FROM gridflow.read_csv('/etc/passwd');
SELECT gridflow.read_csv_header('/etc/passwd');
SELECT * FROM gridflow_build('/etc');
SELECT * FROM gridflow_ingest('/etc/passwd', 'UTILITY1', 'interval');
SELECT * FROM gridflow_rebuild();
RESET ROLE;
-- USAGE and EXECUTE granted: gridflow still asks for pg_read_server_files,
-- before it looks at the path at all (a missing file gives the same error)
GRANT USAGE ON SCHEMA gridflow TO regress_plain;
GRANT EXECUTE ON FUNCTION gridflow.read_csv(text, text[], text, text),
                          gridflow.read_csv_header(text, text, text),
                          gridflow_build(text), gridflow_build(), gridflow_ingest(text, text, text),
                          gridflow_rebuild() TO regress_plain;
SET ROLE regress_plain;
SELECT * FROM gridflow.read_csv('/etc/passwd');
SELECT gridflow.read_csv_header('/etc/passwd');
SELECT gridflow.read_csv_header('/no/such/file');
SELECT * FROM gridflow_build('/etc');
SELECT * FROM gridflow_build('etc');
SELECT * FROM gridflow_ingest('/etc/passwd', 'UTILITY1', 'interval');
SELECT * FROM gridflow_ingest('/etc');
SELECT * FROM gridflow_rebuild();
-- the sample installed with the extension (its path depends on the installation)
DO $$
DECLARE
    detail text;
BEGIN
    PERFORM gridflow_build();
EXCEPTION WHEN insufficient_privilege THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RAISE NOTICE 'sample refused: %', detail;
END
$$;
RESET ROLE;
-- through its own SECURITY DEFINER function: it runs with its own rights
CREATE SCHEMA regress_plain_s AUTHORIZATION regress_plain;
SET ROLE regress_plain;
CREATE FUNCTION regress_plain_s.passwd() RETURNS SETOF text
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT record FROM gridflow.read_csv('/etc/passwd') $$;
SELECT * FROM regress_plain_s.passwd();
RESET ROLE;
-- through a view a superuser made: functions in a view run as the reader
CREATE VIEW regress_plain_s.passwd_view AS SELECT record FROM gridflow.read_csv('/etc/passwd');
GRANT SELECT ON regress_plain_s.passwd_view TO regress_plain;
SET ROLE regress_plain;
SELECT * FROM regress_plain_s.passwd_view;
RESET ROLE;
DROP SCHEMA regress_plain_s CASCADE;

--
-- The pipeline role without pg_read_server_files: it may run builds and
-- edit the configuration, and neither reads a file for it.
--
CREATE ROLE regress_operator IN ROLE gridflow_pipeline;
SET ROLE regress_operator;
SELECT * FROM gridflow_build(:'drops' || '/messy');
SELECT * FROM gridflow.read_csv('/etc/passwd');
-- pointing the configuration at a file outside the drop directory, for a
-- privileged role's next build to land it where the pipeline can read it
UPDATE gridflow.source_file SET file_path = '/etc/passwd'
 WHERE utility_id = 'UTILITY1' AND file_kind = 'service_point';
UPDATE gridflow.source_file SET file_path = '../../../../../../etc/passwd'
 WHERE utility_id = 'UTILITY1' AND file_kind = 'service_point';
UPDATE gridflow.source_file SET file_path = 'utility1/../../secret.csv'
 WHERE utility_id = 'UTILITY1' AND file_kind = 'service_point';
BEGIN;
INSERT INTO gridflow.utility (utility_id) VALUES ('REGRESS');
INSERT INTO gridflow.source_file (utility_id, file_kind, file_path) VALUES ('REGRESS', 'meter', '..');
ROLLBACK;
-- rewriting the history, for a privileged role's next rebuild to read
-- another file (the batch rows are not the pipeline's to change)
UPDATE gridflow.batch SET file_path = '/etc/passwd';
INSERT INTO gridflow.batch (build_id, utility_id, file_kind, file_path, started_at)
VALUES (1, 'UTILITY1', 'service_point', '/etc/passwd', now());
-- names that merely contain two dots are files like any other
BEGIN;
UPDATE gridflow.source_file SET file_path = 'utility1/..hidden/a..b.csv'
 WHERE utility_id = 'UTILITY1' AND file_kind = 'service_point';
ROLLBACK;
RESET ROLE;

--
-- gridflow.allowed_directories: a role with pg_read_server_files tries to
-- leave the allowed directory.
--
CREATE ROLE regress_reader IN ROLE gridflow_pipeline, pg_read_server_files;
SET gridflow.allowed_directories = :'allowed';
SET ROLE regress_reader;
-- a role cannot lift or change it
SET gridflow.allowed_directories = '/';
RESET gridflow.allowed_directories;
SHOW gridflow.allowed_directories;
-- inside: a file, one below, a link that stays inside, an alias of the directory
SELECT fields FROM gridflow.read_csv(:'allowed' || '/ok.csv');
SELECT fields FROM gridflow.read_csv(:'allowed' || '/sub/ok.csv');
SELECT fields FROM gridflow.read_csv(:'allowed' || '/link_in.csv');
SELECT fields FROM gridflow.read_csv(:'allowed' || '//sub/../ok.csv');
SELECT fields FROM gridflow.read_csv(:'attack' || '/alias/ok.csv');
-- out with "..", doubled slashes, symbolic links to a file, to /etc/passwd
-- and to a directory, and a sibling whose name starts like the allowed one
SELECT * FROM gridflow.read_csv(:'allowed' || '/../outside/secret.csv');
SELECT * FROM gridflow.read_csv(:'allowed' || '/sub/../../outside/secret.csv');
SELECT * FROM gridflow.read_csv(:'allowed' || '//..//outside//secret.csv');
SELECT gridflow.read_csv_header(:'allowed' || '/../../../../../../etc/passwd');
SELECT * FROM gridflow.read_csv(:'allowed' || '/link_out.csv');
SELECT * FROM gridflow.read_csv(:'allowed' || '/link_passwd.csv');
SELECT * FROM gridflow.read_csv(:'allowed' || '/link_dir/secret.csv');
SELECT * FROM gridflow.read_csv(:'attack' || '/allowed2/secret.csv');
SELECT * FROM gridflow.read_csv('/etc/passwd');
-- a build: the drop directory must be inside, and so must every file of it
SELECT * FROM gridflow_build(:'allowed' || '/..');
SELECT * FROM gridflow_build(:'allowed' || '/link_dir');
SELECT * FROM gridflow_build('/etc');
SELECT * FROM gridflow_build(:'allowed' || '/drops/escape');
-- an ingest, of a drop or of one file
SELECT * FROM gridflow_ingest(:'allowed' || '/..');
SELECT * FROM gridflow_ingest(:'allowed' || '/drops/escape', 'UTILITY1');
SELECT * FROM gridflow_ingest(:'allowed' || '/link_out.csv', 'UTILITY1', 'service_point');
SELECT * FROM gridflow_ingest(:'allowed' || '/../outside/secret.csv', 'UTILITY1', 'service_point');
SELECT * FROM gridflow_ingest('/etc/passwd', 'UTILITY1', 'service_point');
RESET ROLE;
-- the setting binds superusers too
SELECT * FROM gridflow.read_csv(:'allowed' || '/link_out.csv');
-- several directories; a build inside them works, run by the pipeline role
SET gridflow.allowed_directories = :'allowed', :'drops';
SHOW gridflow.allowed_directories;
SET ROLE regress_reader;
SELECT step, table_name, row_count FROM gridflow_build(:'drops' || '/messy')
 WHERE table_name LIKE 'standardized.%';
SELECT built_by, drop_dir FROM gridflow.build ORDER BY build_id DESC LIMIT 1;
RESET ROLE;
RESET gridflow.allowed_directories;
-- only absolute directories can be listed
SET gridflow.allowed_directories = 'relative/dir';
SET gridflow.allowed_directories = '/srv/a, relative';
-- set for the database, it holds even when a role sets its own value
-- before the library is loaded (the placeholder is then discarded)
ALTER DATABASE :"DBNAME" SET gridflow.allowed_directories = :'allowed';
\c
SET ROLE regress_reader;
SET gridflow.allowed_directories = '';
SELECT * FROM gridflow.read_csv(:'allowed' || '/link_out.csv');
SHOW gridflow.allowed_directories;
RESET ROLE;
ALTER DATABASE :"DBNAME" RESET gridflow.allowed_directories;
\c
SET statement_timeout = '20s';

--
-- Not regular files: a FIFO would block a reader, /dev/zero never ends.
-- Each is refused at once, before anything is read.
--
SET ROLE regress_reader;
SELECT * FROM gridflow.read_csv(:'attack' || '/fifo');
SELECT gridflow.read_csv_header(:'attack' || '/fifo');
SELECT * FROM gridflow.read_csv('/dev/zero');
SELECT * FROM gridflow.read_csv(:'allowed' || '/drops/zero/utility1/utility1_service_points.csv');
SELECT * FROM gridflow.read_csv(:'attack');
SELECT * FROM gridflow_build(:'allowed' || '/drops/fifo');
SELECT * FROM gridflow_build(:'allowed' || '/drops/zero');
SELECT * FROM gridflow_build('/dev/zero');
SELECT * FROM gridflow_build(:'attack' || '/fifo');
SELECT * FROM gridflow_ingest(:'attack' || '/fifo', 'UTILITY1', 'service_point');
SELECT * FROM gridflow_ingest('/dev/zero', 'UTILITY1', 'service_point');
SELECT * FROM gridflow_ingest(:'allowed' || '/drops/fifo', 'UTILITY1');
SELECT * FROM gridflow_ingest(:'allowed' || '/drops/zero', 'UTILITY1');
-- the server's own socket (its path depends on the installation)
RESET ROLE;
SELECT set_config('regress.socket', pg_catalog.split_part(current_setting('unix_socket_directories'), ',', 1)
                  || '/.s.PGSQL.' || current_setting('port'), false) IS NOT NULL AS socket_known;
SET ROLE regress_reader;
DO $$
DECLARE
    detail text;
BEGIN
    PERFORM gridflow.read_csv_header(pg_catalog.current_setting('regress.socket'));
EXCEPTION WHEN wrong_object_type THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RAISE NOTICE 'socket refused: %', detail;
END
$$;
RESET ROLE;
-- none of the refused builds touched the last good one
SELECT count(*) AS reads FROM standardized.interval_read;

DROP OWNED BY regress_plain, regress_operator, regress_reader;
DROP ROLE regress_plain, regress_operator, regress_reader;
