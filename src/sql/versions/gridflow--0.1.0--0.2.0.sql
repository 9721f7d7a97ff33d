-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION gridflow UPDATE TO '0.2.0'" to load this file. \quit

-- Upgrade from 0.1.0 to 0.2.0.  Every change to the install script sources
-- (src/sql/[0-9]*.sql) made after 0.1.0 is repeated here; the upgrade
-- regression test checks that an updated installation equals a fresh one.
SET LOCAL search_path TO pg_catalog, pg_temp;
