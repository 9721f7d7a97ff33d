/*-------------------------------------------------------------------------
 *
 * parse.c
 *	  Value parsers for utility files (no PostgreSQL headers; see parse.h).
 *
 *-------------------------------------------------------------------------
 */
#include "parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define USECS_PER_SEC	INT64_C(1000000)
#define SECS_PER_DAY	INT64_C(86400)

/* Epoch values are limited to years 1..9999, like every other format. */
#define MIN_EPOCH_SEC	INT64_C(-62135596800)	/* 0001-01-01 00:00:00 */
#define MAX_EPOCH_SEC	INT64_C(253402300799)	/* 9999-12-31 23:59:59 */

const char *
gf_parse_result_text(ParseResult r)
{
	switch (r)
	{
		case PARSE_OK:
			return "ok";
		case PARSE_EMPTY:
			return "empty value";
		case PARSE_SYNTAX:
			return "invalid syntax";
		case PARSE_RANGE:
			return "value out of range";
		case PARSE_BAD_FORMAT:
			return "invalid format";
	}
	return "unknown";
}

static inline bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Trim blanks; returns false when nothing is left. */
static bool
trim(const char **s, size_t *len)
{
	while (*len > 0 && is_blank((*s)[0]))
		(*s)++, (*len)--;
	while (*len > 0 && is_blank((*s)[*len - 1]))
		(*len)--;
	return *len > 0;
}

int
gf_days_in_month(int year, int month)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return 29;
	return mdays[month - 1];
}

/* Howard Hinnant's gf_days_from_civil. */
int64_t
gf_days_from_civil(int year, int month, int day)
{
	int64_t		y = (int64_t) year - (month <= 2);
	int64_t		era = (y >= 0 ? y : y - 399) / 400;
	int64_t		yoe = y - era * 400;
	int64_t		doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int64_t		doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void
gf_civil_from_days(int64_t z, int *year, int *month, int *day)
{
	int64_t		era,
				doe,
				yoe,
				doy,
				mp,
				d,
				m,
				y;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	*year = (int) (y + (m <= 2));
	*month = (int) m;
	*day = (int) d;
}

int64_t
gf_ts_wall_usec(const ParsedTimestamp *ts)
{
	int64_t		days = gf_days_from_civil(ts->year, ts->month, ts->day);

	return ((days * SECS_PER_DAY) + ts->hour * INT64_C(3600) +
			ts->minute * INT64_C(60) + ts->second) * USECS_PER_SEC + ts->usec;
}

/* Read between min and max digits at *s; advance. */
static bool
read_digits(const char **s, const char *end, int min, int max, int *out)
{
	int			n = 0;
	int			v = 0;

	while (*s < end && n < max && is_digit(**s))
	{
		v = v * 10 + (**s - '0');
		(*s)++;
		n++;
	}
	if (n < min)
		return false;
	*out = v;
	return true;
}

/* 1 to 6 fraction digits into microseconds. */
static bool
read_fraction(const char **s, const char *end, int *usec)
{
	int			n = 0;
	int			v = 0;

	while (*s < end && is_digit(**s))
	{
		if (n == 6)
			return false;
		v = v * 10 + (**s - '0');
		(*s)++;
		n++;
	}
	if (n == 0)
		return false;
	while (n++ < 6)
		v *= 10;
	*usec = v;
	return true;
}

/* Z, +HH, +HHMM or +HH:MM (also -). */
static bool
read_offset(const char **s, const char *end, ParsedTimestamp *ts)
{
	int			sign;
	int			h = 0,
				m = 0;

	if (*s < end && (**s == 'Z' || **s == 'z'))
	{
		(*s)++;
		ts->has_offset = true;
		ts->offset_seconds = 0;
		return true;
	}
	if (*s >= end || (**s != '+' && **s != '-'))
		return false;
	sign = (**s == '-') ? -1 : 1;
	(*s)++;
	if (!read_digits(s, end, 2, 2, &h))
		return false;
	if (*s < end && **s == ':')
	{
		(*s)++;
		if (!read_digits(s, end, 2, 2, &m))
			return false;
	}
	else if (*s < end && is_digit(**s))
	{
		if (!read_digits(s, end, 2, 2, &m))
			return false;
	}
	if (h > 15 || m > 59)
		return false;
	ts->has_offset = true;
	ts->offset_seconds = sign * (h * 3600 + m * 60);
	return true;
}

static ParseResult
check_fields(const ParsedTimestamp *ts)
{
	if (ts->year < 1 || ts->year > 9999 ||
		ts->month < 1 || ts->month > 12 ||
		ts->day < 1 || ts->day > gf_days_in_month(ts->year, ts->month) ||
		ts->hour > 23 || ts->minute > 59 || ts->second > 59)
		return PARSE_RANGE;
	return PARSE_OK;
}

ParseResult
gf_ts_format_compile(const char *fmt, TsFormat *out)
{
	memset(out, 0, sizeof(TsFormat));
	if (fmt == NULL || strcmp(fmt, "iso8601") == 0)
	{
		out->kind = TSF_ISO8601;
		out->has_date = true;
		return PARSE_OK;
	}
	if (strcmp(fmt, "epoch") == 0)
	{
		out->kind = TSF_EPOCH;
		out->has_date = true;
		return PARSE_OK;
	}
	out->kind = TSF_PATTERN;
	{
		bool		y = false,
					mo = false,
					d = false;
		const char *p = fmt;

		while (*p)
		{
			TsTokenKind k;
			size_t		adv;

			if (out->ntokens == TS_MAX_TOKENS)
				return PARSE_BAD_FORMAT;
			if (strncmp(p, "YYYY", 4) == 0)
				k = TST_YEAR, adv = 4, y = true;
			else if (strncmp(p, "HH24", 4) == 0)
				k = TST_HOUR, adv = 4;
			else if (strncmp(p, "MM", 2) == 0)
				k = TST_MONTH, adv = 2, mo = true;
			else if (strncmp(p, "DD", 2) == 0)
				k = TST_DAY, adv = 2, d = true;
			else if (strncmp(p, "HH", 2) == 0)
				k = TST_HOUR, adv = 2;
			else if (strncmp(p, "MI", 2) == 0)
				k = TST_MINUTE, adv = 2;
			else if (strncmp(p, "SS", 2) == 0)
				k = TST_SECOND, adv = 2;
			else if (strncmp(p, "US", 2) == 0)
				k = TST_USEC, adv = 2;
			else if (strncmp(p, "TZ", 2) == 0)
				k = TST_TZ, adv = 2;
			else if ((*p >= 'A' && *p <= 'Z') || is_digit(*p))
				return PARSE_BAD_FORMAT;	/* reserved for future fields */
			else
				k = TST_LITERAL, adv = 1;
			out->tokens[out->ntokens].kind = k;
			out->tokens[out->ntokens].literal = (k == TST_LITERAL) ? *p : 0;
			out->ntokens++;
			p += adv;
		}
		if (!(y && mo && d))
			return PARSE_BAD_FORMAT;
		out->has_date = true;
		for (int i = 0; i < out->ntokens; i++)
		{
			TsTokenKind k = out->tokens[i].kind;
			bool		num = (k != TST_LITERAL && k != TST_TZ && k != TST_USEC);
			bool		prev = i > 0 && out->tokens[i - 1].kind != TST_LITERAL &&
				out->tokens[i - 1].kind != TST_TZ;
			bool		next = i + 1 < out->ntokens &&
				out->tokens[i + 1].kind != TST_LITERAL &&
				out->tokens[i + 1].kind != TST_TZ;

			out->tokens[i].fixed = num && (prev || next);
		}
	}
	return PARSE_OK;
}

static ParseResult
parse_iso(const char *s, const char *end, ParsedTimestamp *ts)
{
	if (!read_digits(&s, end, 4, 4, &ts->year) || s >= end || *s++ != '-' ||
		!read_digits(&s, end, 2, 2, &ts->month) || s >= end || *s++ != '-' ||
		!read_digits(&s, end, 2, 2, &ts->day))
		return PARSE_SYNTAX;
	if (s < end && (*s == 'T' || *s == 't' || *s == ' '))
	{
		s++;
		if (!read_digits(&s, end, 2, 2, &ts->hour) || s >= end || *s++ != ':' ||
			!read_digits(&s, end, 2, 2, &ts->minute))
			return PARSE_SYNTAX;
		ts->has_time = true;
		if (s < end && *s == ':')
		{
			s++;
			if (!read_digits(&s, end, 2, 2, &ts->second))
				return PARSE_SYNTAX;
			if (s < end && (*s == '.' || *s == ','))
			{
				s++;
				if (!read_fraction(&s, end, &ts->usec))
					return PARSE_SYNTAX;
			}
		}
		if (s < end && !read_offset(&s, end, ts))
			return PARSE_SYNTAX;
	}
	if (s != end)
		return PARSE_SYNTAX;
	return check_fields(ts);
}

static ParseResult
parse_epoch(const char *s, const char *end, ParsedTimestamp *ts)
{
	bool		neg = false;
	int64_t		secs = 0;
	int			usec = 0;
	int			ndig = 0;
	int64_t		days,
				rem;

	if (s < end && (*s == '-' || *s == '+'))
		neg = (*s++ == '-');
	while (s < end && is_digit(*s))
	{
		if (secs > MAX_EPOCH_SEC)
			return PARSE_RANGE;
		secs = secs * 10 + (*s++ - '0');
		ndig++;
	}
	if (ndig == 0)
		return PARSE_SYNTAX;
	if (s < end && *s == '.')
	{
		s++;
		if (!read_fraction(&s, end, &usec))
			return PARSE_SYNTAX;
	}
	if (s != end)
		return PARSE_SYNTAX;
	if (neg)
	{
		secs = -secs;
		if (usec)
		{
			secs -= 1;
			usec = 1000000 - usec;
		}
	}
	if (secs < MIN_EPOCH_SEC || secs > MAX_EPOCH_SEC)
		return PARSE_RANGE;
	days = secs >= 0 ? secs / SECS_PER_DAY : -((-secs + SECS_PER_DAY - 1) / SECS_PER_DAY);
	rem = secs - days * SECS_PER_DAY;
	gf_civil_from_days(days, &ts->year, &ts->month, &ts->day);
	ts->hour = (int) (rem / 3600);
	ts->minute = (int) (rem / 60 % 60);
	ts->second = (int) (rem % 60);
	ts->usec = usec;
	ts->has_time = true;
	ts->has_offset = true;
	ts->offset_seconds = 0;
	return PARSE_OK;
}

static ParseResult
parse_pattern(const TsFormat *fmt, const char *s, const char *end,
			  ParsedTimestamp *ts)
{
	for (int i = 0; i < fmt->ntokens; i++)
	{
		bool		ok = true;
		int			w2 = fmt->tokens[i].fixed ? 2 : 1;

		switch (fmt->tokens[i].kind)
		{
			case TST_LITERAL:
				ok = (s < end && *s == fmt->tokens[i].literal);
				if (ok)
					s++;
				break;
			case TST_YEAR:
				ok = read_digits(&s, end, fmt->tokens[i].fixed ? 4 : 1, 4, &ts->year);
				break;
			case TST_MONTH:
				ok = read_digits(&s, end, w2, 2, &ts->month);
				break;
			case TST_DAY:
				ok = read_digits(&s, end, w2, 2, &ts->day);
				break;
			case TST_HOUR:
				ok = read_digits(&s, end, w2, 2, &ts->hour);
				ts->has_time = true;
				break;
			case TST_MINUTE:
				ok = read_digits(&s, end, w2, 2, &ts->minute);
				break;
			case TST_SECOND:
				ok = read_digits(&s, end, w2, 2, &ts->second);
				break;
			case TST_USEC:
				ok = read_fraction(&s, end, &ts->usec);
				break;
			case TST_TZ:
				ok = read_offset(&s, end, ts);
				break;
		}
		if (!ok)
			return PARSE_SYNTAX;
	}
	if (s != end)
		return PARSE_SYNTAX;
	return check_fields(ts);
}

ParseResult
gf_ts_parse(const TsFormat *fmt, const char *s, size_t len, ParsedTimestamp *out,
			int64_t *epoch_usec)
{
	ParseResult r;

	memset(out, 0, sizeof(ParsedTimestamp));
	if (!trim(&s, &len))
		return PARSE_EMPTY;
	switch (fmt->kind)
	{
		case TSF_ISO8601:
			r = parse_iso(s, s + len, out);
			break;
		case TSF_EPOCH:
			r = parse_epoch(s, s + len, out);
			break;
		default:
			r = parse_pattern(fmt, s, s + len, out);
			break;
	}
	if (r == PARSE_OK && epoch_usec != NULL && out->has_offset)
		*epoch_usec = gf_ts_wall_usec(out) - (int64_t) out->offset_seconds * USECS_PER_SEC;
	return r;
}

ParseResult
gf_parse_int64(const char *s, size_t len, int64_t *out)
{
	bool		neg = false;
	uint64_t	v = 0;
	const char *end;

	if (!trim(&s, &len))
		return PARSE_EMPTY;
	end = s + len;
	if (*s == '-' || *s == '+')
		neg = (*s++ == '-');
	if (s >= end)
		return PARSE_SYNTAX;
	/* syntax first: 99999999999999999999x is not a number at all */
	for (const char *q = s; q < end; q++)
		if (!is_digit(*q))
			return PARSE_SYNTAX;
	while (s < end)
	{
		if (v > (UINT64_C(9223372036854775808) - (uint64_t) (*s - '0')) / 10)
			return PARSE_RANGE;
		v = v * 10 + (uint64_t) (*s++ - '0');
	}
	if (!neg && v > (uint64_t) INT64_MAX)
		return PARSE_RANGE;
	*out = neg ? (int64_t) (0 - v) : (int64_t) v;
	return PARSE_OK;
}

ParseResult
gf_parse_int32(const char *s, size_t len, int32_t *out)
{
	int64_t		v;
	ParseResult r = gf_parse_int64(s, len, &v);

	if (r != PARSE_OK)
		return r;
	if (v < INT32_MIN || v > INT32_MAX)
		return PARSE_RANGE;
	*out = (int32_t) v;
	return PARSE_OK;
}

/*
 * A decimal number: [+-] digits [. digits] [e [+-] digits], or with the
 * digits only after the point.  No inf, nan or hexadecimal; results that
 * overflow or underflow double precision are out of range (as in
 * PostgreSQL's float8in).
 */
ParseResult
gf_parse_double(const char *s, size_t len, double *out)
{
	char		buf[256];
	const char *p,
			   *end;
	int			mant = 0;
	char	   *stop;
	double		v;
	bool		nonzero = false;

	if (!trim(&s, &len))
		return PARSE_EMPTY;
	if (len >= sizeof(buf))
		return PARSE_RANGE;
	p = s;
	end = s + len;
	if (*p == '+' || *p == '-')
		p++;
	while (p < end && is_digit(*p))
		nonzero |= (*p++ != '0'), mant++;
	if (p < end && *p == '.')
	{
		p++;
		while (p < end && is_digit(*p))
			nonzero |= (*p++ != '0'), mant++;
	}
	if (mant == 0)
		return PARSE_SYNTAX;
	if (p < end && (*p == 'e' || *p == 'E'))
	{
		int			edig = 0;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		while (p < end && is_digit(*p))
			p++, edig++;
		if (edig == 0)
			return PARSE_SYNTAX;
	}
	if (p != end)
		return PARSE_SYNTAX;

	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtod(buf, &stop);
	if (stop != buf + len)
		return PARSE_SYNTAX;
	if (isinf(v) || (v == 0.0 && nonzero))
		return PARSE_RANGE;
	*out = v;
	return PARSE_OK;
}
