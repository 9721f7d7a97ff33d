/*-------------------------------------------------------------------------
 *
 * csv.h
 *	  Streaming RFC 4180 tokenizer.
 *
 * This file and csv.c use no PostgreSQL header on purpose: the tokenizer is
 * unit-tested and fuzzed as plain C (test/unit, test/fuzz).  The server side
 * (reader.c) supplies the read callback and an allocator built on palloc.
 *
 * The tokenizer pulls bytes through a read callback into a sliding window,
 * so memory is bounded by the longest record (capped by max_record_bytes)
 * whatever the size of the file.  Each call of gf_csv_next() returns one
 * record, one reject (a record that cannot be a row of the file, with the
 * reason and its raw text), or the end of the input.  Blank lines are
 * skipped; every other byte of the input belongs to exactly one record or
 * reject, and every record carries its physical line numbers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GRIDFLOW_CSV_H
#define GRIDFLOW_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum CsvStatus
{
	CSV_RECORD,					/* a well-formed record */
	CSV_REJECT,					/* a record that is not a row of the file */
	CSV_EOF,					/* no more input */
	CSV_ERROR					/* the input cannot be read at all */
} CsvStatus;

/* Why a record was rejected.  Keep gf_csv_reason_text() in step. */
typedef enum CsvReason
{
	CSV_REASON_NONE = 0,
	CSV_REASON_UNTERMINATED_QUOTE,	/* quoted field still open at end of input */
	CSV_REASON_TEXT_AFTER_QUOTE,	/* characters after a closing quote */
	CSV_REASON_NUL_BYTE,			/* a zero byte */
	CSV_REASON_INVALID_UTF8,		/* not valid UTF-8 */
	CSV_REASON_TOO_LONG,			/* record longer than max_record_bytes */
	CSV_REASON_TOO_MANY_FIELDS,		/* more fields than max_fields */
	CSV_REASON_FIELD_COUNT			/* field count differs from expected */
} CsvReason;

/* Why the input could not be read (CSV_ERROR). */
typedef enum CsvError
{
	CSV_ERROR_NONE = 0,
	CSV_ERROR_READ,				/* the read callback failed (see errno) */
	CSV_ERROR_NOMEM,			/* the allocator returned NULL */
	CSV_ERROR_UTF16				/* input starts with a UTF-16 byte-order mark */
} CsvError;

/* One field of a record; data is not NUL-terminated. */
typedef struct CsvField
{
	const char *data;
	size_t		len;
	bool		quoted;			/* was written in quotes ("" is an empty string) */
} CsvField;

/*
 * One record or reject.  Pointers stay valid until the next gf_csv_next() or
 * gf_csv_parser_free() call.
 */
typedef struct CsvRecord
{
	uint64_t	first_line;		/* physical line the record starts on (1-based) */
	uint64_t	last_line;		/* physical line it ends on */
	uint64_t	start_offset;	/* byte offset of its first byte in the input */
	uint64_t	end_offset;		/* byte offset just past its line terminator */
	const char *raw;			/* its bytes without the line terminator */
	size_t		raw_len;		/* bytes at raw (a prefix if raw_truncated) */
	uint64_t	raw_total;		/* full length of the record's bytes */
	bool		raw_truncated;	/* raw holds only the first raw_len bytes */
	size_t		nfields;		/* fields in the record (counted, even when not
								 * stored) */
	size_t		nstored;		/* fields available in fields[] */
	const CsvField *fields;
	CsvReason	reason;			/* for CSV_REJECT */
	uint64_t	reason_offset;	/* byte offset within the record of the fault */
} CsvRecord;

/*
 * Read callback: fill buf with up to size bytes; return the number of bytes
 * read, 0 at end of input, or -1 on error (errno set).
 */
typedef long (*CsvReadFn) (void *ctx, char *buf, size_t size);

/*
 * Allocator: alloc and realloc never return NULL in the server (they throw);
 * in plain C a NULL return makes gf_csv_next() return CSV_ERROR.
 */
typedef struct CsvAllocator
{
	void	   *(*alloc) (void *ctx, size_t size);
	void	   *(*realloc) (void *ctx, void *ptr, size_t size);
	void		(*free) (void *ctx, void *ptr);
	void	   *ctx;
} CsvAllocator;

typedef struct CsvOptions
{
	char		delimiter;		/* default ',' */
	char		quote;			/* default '"' */
	size_t		read_size;		/* bytes asked of the callback at a time */
	size_t		max_record_bytes;	/* longer records are rejected */
	size_t		max_fields;		/* records with more fields are rejected */
	size_t		reject_keep_bytes;	/* raw bytes kept of a too-long record */
	bool		validate_utf8;	/* reject records that are not UTF-8 */
} CsvOptions;

typedef struct CsvParser CsvParser;

extern void gf_csv_options_init(CsvOptions *opts);
extern CsvParser *gf_csv_parser_create(const CsvOptions *opts, CsvReadFn read_fn,
									   void *read_ctx, const CsvAllocator *alloc);
extern void gf_csv_parser_free(CsvParser *p);

/*
 * From now on, records whose field count is not n are rejected with
 * CSV_REASON_FIELD_COUNT (n = 0: any count).  Used after the header.
 */
extern void gf_csv_set_expected_fields(CsvParser *p, size_t n);

extern CsvStatus gf_csv_next(CsvParser *p, CsvRecord *rec);
extern CsvError gf_csv_error(const CsvParser *p);
extern bool gf_csv_saw_bom(const CsvParser *p);

/* Bytes consumed so far (file offset of the next unread byte). */
extern uint64_t gf_csv_bytes_consumed(const CsvParser *p);

/*
 * Line of the record being scanned: from the read callback, the line on
 * which the record that needs the bytes starts (for error messages); 0
 * while the first bytes (byte-order mark) are read.
 */
extern uint64_t gf_csv_record_line(const CsvParser *p);

extern const char *gf_csv_reason_text(CsvReason reason);
extern const char *gf_csv_reason_code(CsvReason reason);

/*
 * Header matching: for each wanted name, the index of the header field with
 * that name, compared ASCII-case-insensitively and ignoring surrounding
 * blanks.  Returns -1 for a name not in the header and -2 for a name that
 * appears more than once.  Fields of the header that are not wanted are
 * ignored.  One call costs a pass over the header: a caller that looks up
 * many names indexes the header by gf_csv_header_key() instead (reader.c).
 */
extern long gf_csv_header_find(const CsvRecord *header, const char *name,
							   size_t name_len);

/*
 * The form in which header matching compares a name: without surrounding
 * blanks, ASCII letters in lower case.  Writes it to out (room for len
 * bytes) and returns its length.  Two names match exactly when their keys
 * are equal.
 */
extern size_t gf_csv_header_key(const char *name, size_t len, char *out);

/* UTF-8 check: returns the offset of the first bad byte, or len if valid. */
extern size_t gf_csv_utf8_check(const char *s, size_t len, bool *nul_byte);

#endif							/* GRIDFLOW_CSV_H */
