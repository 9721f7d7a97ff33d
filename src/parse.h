/*-------------------------------------------------------------------------
 *
 * parse.h
 *	  Value parsers for utility files: timestamps, integers, decimals.
 *
 * Free of PostgreSQL headers (fuzzed and unit-tested as plain C).  The
 * parsers are strict: the whole field must be consumed (surrounding blanks
 * aside), calendar fields must exist (no 2025-02-30), and numbers must be
 * finite and representable.  Turning a local wall-clock time into an
 * instant needs the time-zone database and is done by the caller.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GRIDFLOW_PARSE_H
#define GRIDFLOW_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ParseResult
{
	PARSE_OK = 0,
	PARSE_EMPTY,				/* nothing but blanks */
	PARSE_SYNTAX,				/* not of the expected form */
	PARSE_RANGE,				/* well-formed but out of range */
	PARSE_BAD_FORMAT			/* the format string itself is invalid */
} ParseResult;

/* A broken-down timestamp as written in the file. */
typedef struct ParsedTimestamp
{
	int			year;
	int			month;			/* 1-12 */
	int			day;			/* 1-31 */
	int			hour;
	int			minute;
	int			second;
	int			usec;
	bool		has_time;		/* a time of day was written (not a date alone) */
	bool		has_offset;		/* an offset or Z was written */
	int			offset_seconds; /* east of UTC, when has_offset */
} ParsedTimestamp;

/*
 * A compiled timestamp format:
 *	 "iso8601"  YYYY-MM-DD, optionally followed by T or a blank, HH:MI,
 *				optional :SS and fraction, optional Z / +HH / +HHMM / +HH:MM
 *	 "epoch"	seconds since 1970-01-01 00:00:00 UTC, optionally fractional
 *	 pattern	made of YYYY MM DD HH24 HH MI SS US TZ and literal characters,
 *				e.g. "YYYYMMDD", "MM/DD/YYYY HH24:MI", "YYYY-MM-DD HH24:MI:SS".
 *				Numeric fields take 1 up to their width in digits, or exactly
 *				their width when next to another numeric field (YYYYMMDD);
 *				US takes 1 to 6 fraction digits, TZ takes Z or an offset.
 */
#define TS_MAX_TOKENS 32

typedef enum TsTokenKind
{
	TST_LITERAL,
	TST_YEAR,
	TST_MONTH,
	TST_DAY,
	TST_HOUR,
	TST_MINUTE,
	TST_SECOND,
	TST_USEC,
	TST_TZ
} TsTokenKind;

typedef struct TsFormat
{
	enum
	{
		TSF_ISO8601,
		TSF_EPOCH,
		TSF_PATTERN
	}			kind;
	int			ntokens;
	struct
	{
		TsTokenKind kind;
		char		literal;
		bool		fixed;		/* next to another number: full width only */
	}			tokens[TS_MAX_TOKENS];
	bool		has_date;		/* pattern sets year, month and day */
} TsFormat;

extern ParseResult gf_ts_format_compile(const char *fmt, TsFormat *out);
extern ParseResult gf_ts_parse(const TsFormat *fmt, const char *s, size_t len,
							   ParsedTimestamp *out, int64_t *epoch_usec);

/* Days from 1970-01-01 to the given civil date (proleptic Gregorian). */
extern int64_t gf_days_from_civil(int year, int month, int day);
extern void gf_civil_from_days(int64_t days, int *year, int *month, int *day);
extern int	gf_days_in_month(int year, int month);

/*
 * Microseconds since 1970-01-01 00:00:00 of the wall-clock time in ts,
 * ignoring any offset (the caller applies the offset or a time zone).
 */
extern int64_t gf_ts_wall_usec(const ParsedTimestamp *ts);

extern ParseResult gf_parse_int64(const char *s, size_t len, int64_t *out);
extern ParseResult gf_parse_int32(const char *s, size_t len, int32_t *out);
extern ParseResult gf_parse_double(const char *s, size_t len, double *out);

extern const char *gf_parse_result_text(ParseResult r);

#endif							/* GRIDFLOW_PARSE_H */
