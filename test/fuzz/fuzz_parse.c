/*
 * libFuzzer target for the value parsers (src/parse.c), plain C, no server.
 *
 * The input is one field value, parsed by every parser the pipeline uses:
 * ISO 8601 timestamps with offsets, integer dates (YYYYMMDD), epoch
 * seconds, two patterns, int32, int64 and decimals.  When the input holds
 * a zero byte, the part before it is also compiled as a timestamp pattern
 * and the part after it parsed with that pattern.
 *
 * No input may crash a parser, and every accepted value must round-trip:
 *
 *  - a timestamp, written back as full ISO 8601 (with its offset, if any),
 *    parses to the same fields; its date exists; its microseconds since
 *    the epoch agree with the calendar functions; an integer date written
 *    back is the input itself; an epoch value written back as epoch
 *    seconds gives the same instant;
 *  - an integer written back in decimal parses to the same value, and
 *    strtoll agrees on what is an integer and on its value;
 *  - a decimal written back with 17 significant digits parses to the same
 *    double, bit for bit, and strtod gives that double for the input.
 */
#include "parse.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_parse: check failed at line %d: %s\n", __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* The input without surrounding blanks, NUL-terminated, in out. */
static size_t
trimmed(const char *s, size_t len, char *out, size_t cap)
{
	while (len > 0 && blank(s[0]))
		s++, len--;
	while (len > 0 && blank(s[len - 1]))
		len--;
	if (len >= cap)
		len = cap - 1;
	memcpy(out, s, len);
	out[len] = '\0';
	return len;
}

static bool
same_ts(const ParsedTimestamp *a, const ParsedTimestamp *b)
{
	return a->year == b->year && a->month == b->month && a->day == b->day &&
		a->hour == b->hour && a->minute == b->minute && a->second == b->second &&
		a->usec == b->usec && a->has_offset == b->has_offset &&
		(!a->has_offset || a->offset_seconds == b->offset_seconds);
}

/* Checks every accepted timestamp must pass. */
static void
check_timestamp(const ParsedTimestamp *t, bool have_epoch, int64_t epoch_usec)
{
	TsFormat	iso;
	ParsedTimestamp back;
	int64_t		back_epoch = 0;
	char		buf[64];
	int			n;
	int			y,
				m,
				d;
	int64_t		days;

	CHECK(t->year >= 1 && t->year <= 9999);
	CHECK(t->month >= 1 && t->month <= 12);
	CHECK(t->day >= 1 && t->day <= gf_days_in_month(t->year, t->month));
	CHECK(t->hour >= 0 && t->hour <= 23);
	CHECK(t->minute >= 0 && t->minute <= 59);
	CHECK(t->second >= 0 && t->second <= 59);
	CHECK(t->usec >= 0 && t->usec <= 999999);
	CHECK(!t->has_offset || (t->offset_seconds > -16 * 3600 && t->offset_seconds < 16 * 3600));

	/* the calendar functions agree with each other and with gf_ts_wall_usec */
	days = gf_days_from_civil(t->year, t->month, t->day);
	gf_civil_from_days(days, &y, &m, &d);
	CHECK(y == t->year && m == t->month && d == t->day);
	CHECK(gf_ts_wall_usec(t) == ((days * 86400 + t->hour * 3600 + t->minute * 60 + t->second) *
							  INT64_C(1000000) + t->usec));
	CHECK(have_epoch == t->has_offset);
	if (have_epoch)
		CHECK(epoch_usec == gf_ts_wall_usec(t) - (int64_t) t->offset_seconds * 1000000);

	/* written back as full ISO 8601, it parses to the same fields */
	n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06d",
				 t->year, t->month, t->day, t->hour, t->minute, t->second, t->usec);
	if (t->has_offset)
	{
		int			off = t->offset_seconds < 0 ? -t->offset_seconds : t->offset_seconds;

		CHECK(off % 60 == 0);
		n += snprintf(buf + n, sizeof(buf) - n, "%c%02d:%02d",
					  t->offset_seconds < 0 ? '-' : '+', off / 3600, off / 60 % 60);
	}
	CHECK(gf_ts_format_compile("iso8601", &iso) == PARSE_OK);
	CHECK(gf_ts_parse(&iso, buf, (size_t) n, &back, &back_epoch) == PARSE_OK);
	CHECK(same_ts(t, &back));
	if (have_epoch)
		CHECK(back_epoch == epoch_usec);
}

static void
check_epoch_round_trip(int64_t epoch_usec)
{
	TsFormat	f;
	ParsedTimestamp t;
	int64_t		back = 0;
	char		buf[64];
	uint64_t	a = epoch_usec < 0 ? (uint64_t) 0 - (uint64_t) epoch_usec : (uint64_t) epoch_usec;
	int			n;

	n = snprintf(buf, sizeof(buf), "%s%" PRIu64 ".%06u", epoch_usec < 0 ? "-" : "",
				 a / 1000000, (unsigned) (a % 1000000));
	CHECK(gf_ts_format_compile("epoch", &f) == PARSE_OK);
	CHECK(gf_ts_parse(&f, buf, (size_t) n, &t, &back) == PARSE_OK);
	CHECK(back == epoch_usec);
}

/* Parse s with format fmt; check what is accepted. */
static void
fuzz_timestamp(const char *fmt, const char *s, size_t len)
{
	TsFormat	f;
	ParsedTimestamp t;
	int64_t		epoch = INT64_MIN;
	ParseResult r;

	if (gf_ts_format_compile(fmt, &f) != PARSE_OK)
		return;
	r = gf_ts_parse(&f, s, len, &t, &epoch);
	CHECK(r == PARSE_OK || r == PARSE_EMPTY || r == PARSE_SYNTAX || r == PARSE_RANGE);
	CHECK(gf_parse_result_text(r) != NULL);
	if (r == PARSE_EMPTY)
	{
		char		tb[8];

		CHECK(trimmed(s, len, tb, sizeof(tb)) == 0);
		return;
	}
	if (r != PARSE_OK)
		return;
	check_timestamp(&t, epoch != INT64_MIN, epoch);
	if (f.kind == TSF_EPOCH)
		check_epoch_round_trip(epoch);
	if (strcmp(fmt, "YYYYMMDD") == 0)
	{
		char		tb[16];
		char		canon[16];

		/* an integer date is exactly eight digits */
		CHECK(trimmed(s, len, tb, sizeof(tb)) == 8);
		snprintf(canon, sizeof(canon), "%04d%02d%02d", t.year, t.month, t.day);
		CHECK(strcmp(tb, canon) == 0);
		CHECK(t.hour == 0 && t.minute == 0 && t.second == 0 && t.usec == 0 && !t.has_offset);
	}
}

static bool
all_digits(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void
fuzz_integers(const char *s, size_t len)
{
	char		tb[64];
	size_t		tl;
	int64_t		v;
	int32_t		v32;
	ParseResult r = gf_parse_int64(s, len, &v);
	ParseResult r32 = gf_parse_int32(s, len, &v32);
	bool		syntax_ok;
	bool		oracle_ok = false;
	long long	ov = 0;

	CHECK(r == PARSE_OK || r == PARSE_EMPTY || r == PARSE_SYNTAX || r == PARSE_RANGE);

	/* strtoll on the trimmed text is the oracle (long inputs: syntax only) */
	tl = trimmed(s, len, tb, sizeof(tb));
	if (len > 0 && memchr(s, '\0', len) != NULL)
		syntax_ok = false;
	else
	{
		syntax_ok = all_digits(tb);
		if (syntax_ok && tl < sizeof(tb) - 1)
		{
			char	   *end;

			errno = 0;
			ov = strtoll(tb, &end, 10);
			oracle_ok = (errno == 0 && *end == '\0');
		}
	}
	if (r == PARSE_OK)
	{
		char		buf[32];
		int64_t		back;
		int			n = snprintf(buf, sizeof(buf), "%" PRId64, v);

		CHECK(syntax_ok);
		CHECK(gf_parse_int64(buf, (size_t) n, &back) == PARSE_OK && back == v);
		if (tl < sizeof(tb) - 1)
			CHECK(oracle_ok && ov == v);
		/* int32 accepts exactly the int64 values in its range */
		if (v >= INT32_MIN && v <= INT32_MAX)
			CHECK(r32 == PARSE_OK && v32 == (int32_t) v);
		else
			CHECK(r32 == PARSE_RANGE);
	}
	else
	{
		CHECK(r32 == r);
		if (tl < sizeof(tb) - 1 && memchr(s, '\0', len) == NULL)
		{
			if (r == PARSE_SYNTAX)
				CHECK(!syntax_ok);
			if (r == PARSE_RANGE)
				CHECK(syntax_ok && !oracle_ok);
		}
	}
}

static void
fuzz_double(const char *s, size_t len)
{
	double		v;
	ParseResult r = gf_parse_double(s, len, &v);

	CHECK(r == PARSE_OK || r == PARSE_EMPTY || r == PARSE_SYNTAX || r == PARSE_RANGE);
	if (r == PARSE_OK)
	{
		char		buf[64];
		char		tb[300];
		double		back;
		double		oracle;
		char	   *end;
		int			n;

		CHECK(isfinite(v));
		n = snprintf(buf, sizeof(buf), "%.17g", v);
		CHECK(gf_parse_double(buf, (size_t) n, &back) == PARSE_OK);
		CHECK(memcmp(&back, &v, sizeof(double)) == 0);
		/* strtod reads the same number from the input */
		CHECK(memchr(s, '\0', len) == NULL);
		trimmed(s, len, tb, sizeof(tb));
		oracle = strtod(tb, &end);
		CHECK(*end == '\0');
		CHECK(memcmp(&oracle, &v, sizeof(double)) == 0);
	}
}

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *s = (const char *) data;
	const unsigned char *zero;

	fuzz_timestamp("iso8601", s, size);
	fuzz_timestamp("YYYYMMDD", s, size);
	fuzz_timestamp("epoch", s, size);
	fuzz_timestamp("MM/DD/YYYY HH24:MI", s, size);
	fuzz_timestamp("YYYY-MM-DD HH24:MI:SS.USTZ", s, size);
	fuzz_integers(s, size);
	fuzz_double(s, size);

	/* a pattern, then a value for it */
	zero = memchr(data, 0, size);
	if (zero != NULL && zero - data < 200)
	{
		char		fmt[200];
		size_t		flen = (size_t) (zero - data);

		memcpy(fmt, data, flen);
		fmt[flen] = '\0';
		fuzz_timestamp(fmt, (const char *) zero + 1, size - flen - 1);
	}
	return 0;
}
