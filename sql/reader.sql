-- The CSV reader on its own: gridflow.read_csv(), read_csv_header(), csv_fields().
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gridflow;
RESET client_min_messages;
\getenv testdir GRIDFLOW_TEST_DIR
\set csv :testdir '/csv/'

-- RFC 4180 quoting: BOM, CRLF, delimiter, escaped quote and line break
-- inside quotes, a blank line, an empty quoted field (empty string) and an
-- empty unquoted one (NULL), no final newline
SELECT line_no, fields, fields[3] IS NULL AS third_is_null, reject_reason
  FROM gridflow.read_csv(:'csv' || 'quoting.csv');
-- the BOM is not part of the first header name: the header is id, name,
-- note, and the first column is found by its name
SELECT h AS header, octet_length(h[1]) AS first_name_bytes, h[1] = 'id' AS first_is_id
  FROM gridflow.read_csv_header(:'csv' || 'quoting.csv') h;
SELECT line_no, fields FROM gridflow.read_csv(:'csv' || 'quoting.csv', ARRAY['note', 'id'])
 WHERE line_no IN (2, 7);
-- the landed text of a record spanning lines is its exact bytes
SELECT line_no, record = E'2,"multi\r\nline",x' AS exact
  FROM gridflow.read_csv(:'csv' || 'quoting.csv') WHERE line_no = 3;

-- CR-only line endings, blank lines
SELECT line_no, fields FROM gridflow.read_csv(:'csv' || 'cr_only.csv');
SELECT line_no, fields FROM gridflow.read_csv(:'csv' || 'blank_lines.csv');

-- header matching: by name, case-insensitive, blanks ignored, any order, extras ignored
SELECT line_no, fields FROM gridflow.read_csv(:'csv' || 'header_match.csv', ARRAY['meter_id', 'VALUE']);
SELECT gridflow.read_csv_header(:'csv' || 'header_match.csv');
-- a missing required column is an error naming the column and the file
SELECT * FROM gridflow.read_csv(:'csv' || 'header_match.csv', ARRAY['meter_id', 'quality']);
-- a duplicated header name is ambiguous when asked for, harmless otherwise
SELECT * FROM gridflow.read_csv(:'csv' || 'dup_header.csv', ARRAY['id']);
SELECT fields FROM gridflow.read_csv(:'csv' || 'dup_header.csv', ARRAY['v']);

-- empty file, BOM only, header only: no rows; asking for columns of an empty file is an error
SELECT count(*) FROM gridflow.read_csv(:'csv' || 'empty.csv');
SELECT count(*) FROM gridflow.read_csv(:'csv' || 'bom_only.csv');
SELECT count(*) FROM gridflow.read_csv(:'csv' || 'header_only.csv');
SELECT gridflow.read_csv_header(:'csv' || 'empty.csv') IS NULL AS no_header;
SELECT * FROM gridflow.read_csv(:'csv' || 'empty.csv', ARRAY['a']);

-- records that are not rows of the file are rejects, with line and reason
SELECT line_no, fields, reject_reason, record FROM gridflow.read_csv(:'csv' || 'ragged.csv');
SELECT line_no, fields, reject_reason, record FROM gridflow.read_csv(:'csv' || 'unterminated.csv');
SELECT line_no, fields, reject_reason, record FROM gridflow.read_csv(:'csv' || 'bad_utf8.csv');
SELECT line_no, fields, reject_reason, record FROM gridflow.read_csv(:'csv' || 'nul.csv');
SELECT line_no, fields, reject_reason, record FROM gridflow.read_csv(:'csv' || 'text_after_quote.csv');
-- a record longer than gridflow.max_record_bytes is one reject; reading goes on
SET gridflow.max_record_bytes = 1024;
\set longfile :testdir '/scratch/long_record.csv'
COPY (SELECT 'a,b' UNION ALL SELECT repeat('x', 5000) || ',1' UNION ALL SELECT 'c,d')
  TO :'longfile' WITH (FORMAT text);
SELECT line_no, fields, reject_reason, length(record) AS kept_bytes
  FROM gridflow.read_csv(:'longfile');
RESET gridflow.max_record_bytes;
-- every record is accounted for: rows + rejects = records in the file
SELECT count(*) FILTER (WHERE reject_reason IS NULL) AS rows_read,
       count(*) FILTER (WHERE reject_reason IS NOT NULL) AS rejected
  FROM gridflow.read_csv(:'csv' || 'ragged.csv');

-- UTF-16 is refused with a clear error
SELECT * FROM gridflow.read_csv(:'csv' || 'utf16.csv');

-- another delimiter
SELECT fields FROM gridflow.read_csv(:'csv' || 'semicolon.csv', delimiter => ';');
SELECT * FROM gridflow.read_csv(:'csv' || 'semicolon.csv', delimiter => ';;');
SELECT * FROM gridflow.read_csv(:'csv' || 'semicolon.csv', delimiter => '"');

-- paths: relative, missing, not a regular file
SELECT * FROM gridflow.read_csv('data/csv/quoting.csv');
SELECT * FROM gridflow.read_csv(:'csv' || 'no_such_file.csv');
SELECT * FROM gridflow.read_csv(:'csv');
SELECT * FROM gridflow.read_csv('/dev/null');

-- splitting one landed record
SELECT gridflow.csv_fields('1,"Smith, J.","said ""hi""",,""');
SELECT gridflow.csv_fields('');
SELECT gridflow.csv_fields(E'a\nb');
SELECT gridflow.csv_fields('"open');
SELECT gridflow.csv_fields('a;b', ';');

-- reading server files is not for PUBLIC, and even with EXECUTE granted it
-- needs pg_read_server_files
CREATE ROLE regress_gridflow_reader;
SET ROLE regress_gridflow_reader;
SELECT * FROM gridflow.read_csv(:'csv' || 'quoting.csv');
RESET ROLE;
GRANT USAGE ON SCHEMA gridflow TO regress_gridflow_reader;
SET ROLE regress_gridflow_reader;
SELECT * FROM gridflow.read_csv(:'csv' || 'quoting.csv');
RESET ROLE;
GRANT EXECUTE ON FUNCTION gridflow.read_csv(text, text[], text, text) TO regress_gridflow_reader;
SET ROLE regress_gridflow_reader;
SELECT * FROM gridflow.read_csv(:'csv' || 'quoting.csv');
RESET ROLE;
GRANT pg_read_server_files TO regress_gridflow_reader;
SET ROLE regress_gridflow_reader;
SELECT count(*) FROM gridflow.read_csv(:'csv' || 'quoting.csv');
RESET ROLE;
REVOKE ALL ON SCHEMA gridflow FROM regress_gridflow_reader;
REVOKE ALL ON FUNCTION gridflow.read_csv(text, text[], text, text) FROM regress_gridflow_reader;
DROP ROLE regress_gridflow_reader;
