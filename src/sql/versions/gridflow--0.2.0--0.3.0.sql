-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION gridflow UPDATE TO '0.3.0'" to load this file. \quit

-- gridflow 0.2.0 -> 0.3.0: only what changed (see CHANGELOG.md).
SET LOCAL search_path TO pg_catalog, pg_temp;
