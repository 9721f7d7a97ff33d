--
-- Operations: relation files that a crash left behind.
--
CREATE FUNCTION gridflow.orphan_relation_files(
    OUT tablespace text,
    OUT path text,
    OUT filenode oid,
    OUT bytes bigint,
    OUT modified timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_orphan_relation_files'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION gridflow.orphan_relation_files() IS 'Files of this database''s directories (every tablespace) that no relation owns: what a backend or server crash leaves of the relations its transaction was creating (a build''s new tables). A file counts when it is a relation file by name, not empty, named by no live or in-progress version of a pg_class row, and older than every transaction running now. Superusers only';

CREATE FUNCTION gridflow.remove_orphan_relation_files(
    OUT tablespace text,
    OUT path text,
    OUT filenode oid,
    OUT bytes bigint,
    OUT modified timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'gridflow_remove_orphan_relation_files'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION gridflow.remove_orphan_relation_files() IS 'Remove the files gridflow.orphan_relation_files() lists, and return them. Superusers only; run it after a crash, once the server has recovered';

REVOKE EXECUTE ON FUNCTION gridflow.orphan_relation_files(), gridflow.remove_orphan_relation_files() FROM PUBLIC;
