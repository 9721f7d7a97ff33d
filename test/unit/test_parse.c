/*
 * Unit tests of the value parsers (src/parse.c), plain C, no server.
 */
#include "parse.h"

#include <stdio.h>
#include <string.h>

static int	failures = 0;
static int	checks = 0;

#define EXPECT(cond, ...) \
	do { \
		checks++; \
		if (!(cond)) \
		{ \
			failures++; \
			fprintf(stderr, "FAIL line %d: ", __LINE__); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
		} \
	} while (0)

/* Parse with fmt; render as "Y-M-D h:m:s.us[+off]" or the error. */
static const char *
ts(const char *fmt, const char *input)
{
	static char out[128];
	TsFormat	f;
	ParsedTimestamp t;
	ParseResult r;

	if (gf_ts_format_compile(fmt, &f) != PARSE_OK)
		return "BAD_FORMAT";
	r = gf_ts_parse(&f, input, strlen(input), &t, NULL);
	if (r != PARSE_OK)
		return gf_parse_result_text(r);
	if (t.has_offset)
		snprintf(out, sizeof(out), "%04d-%02d-%02d %02d:%02d:%02d.%06d%+d",
				 t.year, t.month, t.day, t.hour, t.minute, t.second, t.usec,
				 t.offset_seconds);
	else
		snprintf(out, sizeof(out), "%04d-%02d-%02d %02d:%02d:%02d.%06d",
				 t.year, t.month, t.day, t.hour, t.minute, t.second, t.usec);
	return out;
}

#define TS(fmt, in, want) \
	do { const char *got_ = ts(fmt, in); \
		EXPECT(strcmp(got_, want) == 0, "ts(%s, \"%s\") = %s, want %s", fmt, in, got_, want); } while (0)

static void
test_timestamps(void)
{
	TS("iso8601", "2025-01-30T06:20:00-05:00", "2025-01-30 06:20:00.000000-18000");
	TS("iso8601", "2024-11-25T20:40:00Z", "2024-11-25 20:40:00.000000+0");
	TS("iso8601", " 2025-01-30 06:20 ", "2025-01-30 06:20:00.000000");
	TS("iso8601", "2025-01-30", "2025-01-30 00:00:00.000000");
	TS("iso8601", "2024-02-29T23:59:59.123456+0530", "2024-02-29 23:59:59.123456+19800");
	TS("iso8601", "2025-01-30T06:20:00.5-05", "2025-01-30 06:20:00.500000-18000");
	TS("iso8601", "2025-02-30T06:20:00-05:00", "value out of range");
	TS("iso8601", "2025-02-29", "value out of range");
	TS("iso8601", "2025-13-01", "value out of range");
	TS("iso8601", "2025-01-30T24:00:00", "value out of range");
	TS("iso8601", "2025-01-30T06:20:00-05:00x", "invalid syntax");
	TS("iso8601", "2025-01-30T06:20:00.1234567", "invalid syntax");
	TS("iso8601", "20250130", "invalid syntax");
	TS("iso8601", "N/A", "invalid syntax");
	TS("iso8601", "  ", "empty value");
	TS("iso8601", "2025-01-30T06:20:00+16:00", "invalid syntax");

	TS("YYYYMMDD", "20250123", "2025-01-23 00:00:00.000000");
	TS("YYYYMMDD", "20251345", "value out of range");
	TS("YYYYMMDD", "2025012", "invalid syntax");
	TS("YYYYMMDD", "20250230", "value out of range");
	TS("YYYYMMDD", "202501234", "invalid syntax");
	TS("MM/DD/YYYY HH24:MI", "3/9/2025 14:05", "2025-03-09 14:05:00.000000");
	TS("MM/DD/YYYY HH24:MI", "11/02/2025 01:30", "2025-11-02 01:30:00.000000");
	TS("YYYY-MM-DD HH24:MI:SS", "2025-03-09 07:00:00", "2025-03-09 07:00:00.000000");
	TS("YYYY-MM-DD HH24:MI:SSTZ", "2025-03-09 07:00:00Z", "2025-03-09 07:00:00.000000+0");
	TS("YYYY-MM-DD HH24:MI:SS.US", "2025-03-09 07:00:00.25", "2025-03-09 07:00:00.250000");

	TS("epoch", "0", "1970-01-01 00:00:00.000000+0");
	TS("epoch", "1741503600", "2025-03-09 07:00:00.000000+0");
	TS("epoch", "-1.5", "1969-12-31 23:59:58.500000+0");
	TS("epoch", "99999999999999999999", "value out of range");
	TS("epoch", "1e9", "invalid syntax");

	EXPECT(strcmp(ts("YYYY-XX", "x"), "BAD_FORMAT") == 0, "bad format");
	EXPECT(strcmp(ts("HH24:MI", "x"), "BAD_FORMAT") == 0, "format without date");

	/* civil conversions agree with each other over a wide range */
	for (long d = -800000; d <= 3000000; d += 97)
	{
		int			y,
					m,
					dd;

		gf_civil_from_days(d, &y, &m, &dd);
		if (gf_days_from_civil(y, m, dd) != d)
		{
			EXPECT(0, "civil round trip at day %ld", d);
			break;
		}
	}
	EXPECT(gf_days_from_civil(2025, 1, 30) == 20118, "gf_days_from_civil(2025-01-30)");
}

static void
test_numbers(void)
{
	double		d;
	int64_t		i;
	int32_t		i32;

	EXPECT(gf_parse_double("0.336", 5, &d) == PARSE_OK && d == 0.336, "0.336");
	EXPECT(gf_parse_double(" -12 ", 5, &d) == PARSE_OK && d == -12, "-12");
	EXPECT(gf_parse_double(".5", 2, &d) == PARSE_OK && d == 0.5, ".5");
	EXPECT(gf_parse_double("5.", 2, &d) == PARSE_OK && d == 5, "5.");
	EXPECT(gf_parse_double("1e3", 3, &d) == PARSE_OK && d == 1000, "1e3");
	EXPECT(gf_parse_double("1e400", 5, &d) == PARSE_RANGE, "1e400");
	EXPECT(gf_parse_double("1e-400", 6, &d) == PARSE_RANGE, "1e-400");
	EXPECT(gf_parse_double("0e-400", 6, &d) == PARSE_OK && d == 0, "0e-400");
	EXPECT(gf_parse_double("N/A", 3, &d) == PARSE_SYNTAX, "N/A");
	EXPECT(gf_parse_double("inf", 3, &d) == PARSE_SYNTAX, "inf");
	EXPECT(gf_parse_double("nan", 3, &d) == PARSE_SYNTAX, "nan");
	EXPECT(gf_parse_double("0x10", 4, &d) == PARSE_SYNTAX, "hex");
	EXPECT(gf_parse_double("1,5", 3, &d) == PARSE_SYNTAX, "comma");
	EXPECT(gf_parse_double("", 0, &d) == PARSE_EMPTY, "empty");
	EXPECT(gf_parse_double("-", 1, &d) == PARSE_SYNTAX, "sign only");
	EXPECT(gf_parse_double("1e", 2, &d) == PARSE_SYNTAX, "no exponent digits");

	EXPECT(gf_parse_int64("900", 3, &i) == PARSE_OK && i == 900, "900");
	EXPECT(gf_parse_int64("-9223372036854775808", 20, &i) == PARSE_OK && i == INT64_MIN, "min");
	EXPECT(gf_parse_int64("9223372036854775807", 19, &i) == PARSE_OK && i == INT64_MAX, "max");
	EXPECT(gf_parse_int64("9223372036854775808", 19, &i) == PARSE_RANGE, "max+1");
	EXPECT(gf_parse_int64("12a", 3, &i) == PARSE_SYNTAX, "12a");
	EXPECT(gf_parse_int64("99999999999999999999a", 21, &i) == PARSE_SYNTAX, "long digits then a letter");
	EXPECT(gf_parse_int32("99999999999,5", 13, &i32) == PARSE_SYNTAX, "int32: long digits then a comma");
	EXPECT(gf_parse_int64("+", 1, &i) == PARSE_SYNTAX, "+");
	EXPECT(gf_parse_int32("2147483648", 10, &i32) == PARSE_RANGE, "int32 overflow");
	EXPECT(gf_parse_int32("-2147483648", 11, &i32) == PARSE_OK && i32 == INT32_MIN, "int32 min");
}

int
main(void)
{
	test_timestamps();
	test_numbers();
	if (failures)
	{
		fprintf(stderr, "%d of %d checks failed\n", failures, checks);
		return 1;
	}
	printf("parse unit tests: %d checks passed\n", checks);
	return 0;
}
