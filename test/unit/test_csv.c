/*
 * Unit tests of the CSV tokenizer (src/csv.c), plain C, no server.
 *
 * Each case parses an input and renders what came out as one string:
 *   R<first>-<last>[f1|f2|...]   a record (quoted fields as "f", NULL-less)
 *   J<first>-<last>:<reason>      a reject
 *   E:<error>                     an input error
 * and compares it with the expected rendering.  Every case is parsed with
 * every read size from 1 to 9 bytes and with one big read: chunk
 * boundaries must never change the result.
 */
#include "csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	failures = 0;
static int	checks = 0;
static bool show_raw_len = false;	/* render rejects as J...:reason/raw_len */

typedef struct StrSource
{
	const char *data;
	size_t		len;
	size_t		pos;
	size_t		chunk;
} StrSource;

static long
str_read(void *ctx, char *buf, size_t size)
{
	StrSource  *s = ctx;
	size_t		n = s->len - s->pos;

	if (n > size)
		n = size;
	if (n > s->chunk)
		n = s->chunk;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (long) n;
}

static void *
m_alloc(void *ctx, size_t size)
{
	(void) ctx;
	return malloc(size);
}

static void *
m_realloc(void *ctx, void *ptr, size_t size)
{
	(void) ctx;
	return realloc(ptr, size);
}

static void
m_free(void *ctx, void *ptr)
{
	(void) ctx;
	free(ptr);
}

static const CsvAllocator malloc_allocator = {m_alloc, m_realloc, m_free, NULL};

typedef struct Buf
{
	char	   *s;
	size_t		len;
	size_t		cap;
} Buf;

static void
buf_add(Buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		b->cap = (b->len + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
buf_str(Buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Parse input and render the outcome; expected_fields applies after the first record. */
static char *
render(const char *input, size_t len, size_t chunk, const CsvOptions *opts,
	   size_t expected_fields)
{
	StrSource	src = {input, len, 0, chunk};
	CsvParser  *p = gf_csv_parser_create(opts, str_read, &src, &malloc_allocator);
	Buf			out = {NULL, 0, 0};
	CsvRecord	rec;
	CsvStatus	st;
	int			n = 0;
	uint64_t	prev_end = 0;

	buf_str(&out, "");
	while ((st = gf_csv_next(p, &rec)) != CSV_EOF)
	{
		char		tmp[128];

		if (st == CSV_ERROR)
		{
			snprintf(tmp, sizeof(tmp), "E:%d", (int) gf_csv_error(p));
			buf_str(&out, tmp);
			break;
		}
		/* invariants: offsets move forward, lines too */
		if (rec.start_offset < prev_end || rec.end_offset < rec.start_offset ||
			rec.last_line < rec.first_line)
		{
			buf_str(&out, "!ORDER");
		}
		prev_end = rec.end_offset;
		if (st == CSV_RECORD)
		{
			snprintf(tmp, sizeof(tmp), "R%llu-%llu[",
					 (unsigned long long) rec.first_line,
					 (unsigned long long) rec.last_line);
			buf_str(&out, tmp);
			for (size_t i = 0; i < rec.nstored; i++)
			{
				if (i > 0)
					buf_str(&out, "|");
				if (rec.fields[i].quoted)
					buf_str(&out, "\"");
				buf_add(&out, rec.fields[i].data, rec.fields[i].len);
				if (rec.fields[i].quoted)
					buf_str(&out, "\"");
			}
			buf_str(&out, "]");
		}
		else
		{
			snprintf(tmp, sizeof(tmp), "J%llu-%llu:%s",
					 (unsigned long long) rec.first_line,
					 (unsigned long long) rec.last_line,
					 gf_csv_reason_code(rec.reason));
			buf_str(&out, tmp);
			if (show_raw_len)
			{
				snprintf(tmp, sizeof(tmp), "/%zu", rec.raw_len);
				buf_str(&out, tmp);
			}
		}
		if (++n == 1 && expected_fields)
			gf_csv_set_expected_fields(p, expected_fields);
	}
	gf_csv_parser_free(p);
	return out.s;
}

static void
check_opts(const char *name, const char *input, size_t len, const char *expected,
		   const CsvOptions *opts, size_t expected_fields)
{
	size_t		chunks[] = {1, 2, 3, 4, 5, 7, 9, 1 << 20};

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
	{
		char	   *got = render(input, len, chunks[i], opts, expected_fields);

		checks++;
		if (strcmp(got, expected) != 0)
		{
			failures++;
			fprintf(stderr, "FAIL %s (read size %zu)\n  expected: %s\n  got:      %s\n",
					name, chunks[i], expected, got);
			free(got);
			return;
		}
		free(got);
	}
}

static void
check(const char *name, const char *input, const char *expected)
{
	CsvOptions	opts;

	gf_csv_options_init(&opts);
	check_opts(name, input, strlen(input), expected, &opts, 0);
}

static void
check_n(const char *name, const char *input, size_t len, const char *expected)
{
	CsvOptions	opts;

	gf_csv_options_init(&opts);
	check_opts(name, input, len, expected, &opts, 0);
}

static void
check_expect(const char *name, const char *input, size_t nfields, const char *expected)
{
	CsvOptions	opts;

	gf_csv_options_init(&opts);
	check_opts(name, input, strlen(input), expected, &opts, nfields);
}

static void
test_header_find(void)
{
	const char *input = "\xEF\xBB\xBF Meter_ID ,value,VALUE,channel\n";
	StrSource	src = {input, strlen(input), 0, 1 << 20};
	CsvOptions	opts;
	CsvParser  *p;
	CsvRecord	rec;

	gf_csv_options_init(&opts);
	p = gf_csv_parser_create(&opts, str_read, &src, &malloc_allocator);
	checks++;
	if (gf_csv_next(p, &rec) != CSV_RECORD ||
		gf_csv_header_find(&rec, "meter_id", 8) != 0 ||
		gf_csv_header_find(&rec, "  CHANNEL ", 10) != 3 ||
		gf_csv_header_find(&rec, "value", 5) != -2 ||
		gf_csv_header_find(&rec, "quality", 7) != -1 ||
		!gf_csv_saw_bom(p))
	{
		failures++;
		fprintf(stderr, "FAIL header matching\n");
	}
	gf_csv_parser_free(p);

	/* the key of a name: blanks around it dropped, ASCII lower case */
	{
		char		key[32];
		size_t		n = gf_csv_header_key(" \t Meter_ID\xC3\x89 \r\n", 16, key);

		checks++;
		if (n != 10 || memcmp(key, "meter_id\xC3\x89", 10) != 0 ||
			gf_csv_header_key("   ", 3, key) != 0)
		{
			failures++;
			fprintf(stderr, "FAIL header key\n");
		}
	}
}

/* The read callback sees the line of the record that needs the bytes. */
typedef struct LineSource
{
	StrSource	src;
	CsvParser  *p;
	uint64_t	line_at[64];	/* gf_csv_record_line() when byte i is asked for */
} LineSource;

static long
line_read(void *ctx, char *buf, size_t size)
{
	LineSource *ls = ctx;

	if (ls->src.pos < 64)
		ls->line_at[ls->src.pos] = gf_csv_record_line(ls->p);
	return str_read(&ls->src, buf, size);
}

static void
test_record_line(void)
{
	/*
	 * lines 1-2, a blank line 3, a quoted record on lines 4-5, line 6; the
	 * first three bytes are read before any record (for a byte-order mark)
	 */
	const char *input = "h\r\na\r\n\r\n\"b\nb\"\nc";
	LineSource	ls = {{input, strlen(input), 0, 1}, NULL, {0}};
	CsvOptions	opts;
	CsvRecord	rec;
	/*
	 * line of the record being scanned when byte i is read (the LF of a
	 * CRLF is read when the next record starts)
	 */
	static const uint64_t want[] = {0, 0, 0, 2, 2, 3, 3, 4, 4, 4, 4, 4, 4, 4, 6};

	gf_csv_options_init(&opts);
	ls.p = gf_csv_parser_create(&opts, line_read, &ls, &malloc_allocator);
	while (gf_csv_next(ls.p, &rec) != CSV_EOF)
		;
	checks++;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (ls.line_at[i] != want[i])
		{
			failures++;
			fprintf(stderr, "FAIL record line when byte %zu is read: %llu, want %llu\n",
					i, (unsigned long long) ls.line_at[i], (unsigned long long) want[i]);
			break;
		}
	gf_csv_parser_free(ls.p);
}

static void
test_limits(void)
{
	CsvOptions	opts;
	char	   *big;
	size_t		n = 5000;

	/* a record longer than the limit is one reject, the next one is read */
	gf_csv_options_init(&opts);
	opts.max_record_bytes = 100;
	opts.reject_keep_bytes = 10;
	big = malloc(n + 32);
	memset(big, 'x', n);
	memcpy(big + n, "\na,b\n", 6);
	check_opts("too long", big, strlen(big), "J1-1:record_too_longR2-2[a|b]", &opts, 0);

	/* the same inside quotes spanning lines */
	big[0] = '"';
	for (size_t i = 1; i < n; i += 50)
		big[i] = '\n';
	big[n - 1] = '"';
	check_opts("too long quoted", big, strlen(big),
			   "J1-101:record_too_longR102-102[a|b]", &opts, 0);
	free(big);

	/*
	 * Whether a long record fits in the window or is skipped depends on the
	 * read sizes; the reject must not: same reason (too long wins over
	 * anything else wrong with it), same kept prefix, also when more is
	 * kept than the limit.
	 */
	big = malloc(n + 32);
	memset(big, 'x', n);
	memcpy(big, "\"a\"b", 4);
	memcpy(big + n, "\na,b\n", 6);
	gf_csv_options_init(&opts);
	opts.max_record_bytes = 100;
	opts.reject_keep_bytes = 300;
	show_raw_len = true;
	check_opts("too long keeps the same prefix", big, strlen(big),
			   "J1-1:record_too_long/300R2-2[a|b]", &opts, 0);
	opts.reject_keep_bytes = 10;
	check_opts("too long wins over text after quote", big, strlen(big),
			   "J1-1:record_too_long/10R2-2[a|b]", &opts, 0);
	opts.reject_keep_bytes = 100000;
	check_opts("too long kept whole", big, strlen(big),
			   "J1-1:record_too_long/5000R2-2[a|b]", &opts, 0);
	show_raw_len = false;
	free(big);

	/* field limit */
	gf_csv_options_init(&opts);
	opts.max_fields = 3;
	check_opts("too many fields", "a,b,c,d\na,b\n", 12,
			   "J1-1:too_many_fieldsR2-2[a|b]", &opts, 0);

	/* no UTF-8 check: only NUL is refused */
	gf_csv_options_init(&opts);
	opts.validate_utf8 = false;
	check_opts("latin1 passes", "caf\xe9\n", 5, "R1-1[caf\xe9]", &opts, 0);
}

int
main(void)
{
	/* basics */
	check("empty input", "", "");
	check("one field", "a", "R1-1[a]");
	check("no final newline", "a,b\nc,d", "R1-1[a|b]R2-2[c|d]");
	check("final newline", "a,b\nc,d\n", "R1-1[a|b]R2-2[c|d]");
	check("CRLF", "a,b\r\nc,d\r\n", "R1-1[a|b]R2-2[c|d]");
	check("CR only", "a,b\rc,d\r", "R1-1[a|b]R2-2[c|d]");
	check("mixed endings", "a\rb\r\nc\nd", "R1-1[a]R2-2[b]R3-3[c]R4-4[d]");
	check("empty fields", ",a,,\n", "R1-1[|a||]");
	check("single empty field line", ",\n", "R1-1[|]");
	check("blank lines skipped", "\n\na\n\r\n\rb\n\n", "R3-3[a]R6-6[b]");
	check("whitespace is data", " a , b \n", "R1-1[ a | b ]");

	/* BOM and UTF-16 */
	check("BOM", "\xEF\xBB\xBFh1,h2\n1,2", "R1-1[h1|h2]R2-2[1|2]");
	check("BOM only", "\xEF\xBB\xBF", "");
	check("BOM then blank", "\xEF\xBB\xBF\n\nx", "R3-3[x]");
	check_n("UTF-16 LE", "\xFF\xFEh\0", 4, "E:3");
	check_n("UTF-16 BE", "\xFE\xFF\0h", 4, "E:3");

	/* quoting */
	check("quoted", "\"a\",\"b,c\"\n", "R1-1[\"a\"|\"b,c\"]");
	check("escaped quote", "\"a\"\"b\",x\n", "R1-1[\"a\"b\"|x]");
	check("only escaped quotes", "\"\"\"\"\"\"\n", "R1-1[\"\"\"\"]");
	check("empty quoted", "\"\",x\n", "R1-1[\"\"|x]");
	check("newline in quotes", "\"a\nb\",c\nd,e\n", "R1-2[\"a\nb\"|c]R3-3[d|e]");
	check("CRLF in quotes", "\"a\r\nb\r\nc\",d\r\ne,f", "R1-3[\"a\r\nb\r\nc\"|d]R4-4[e|f]");
	check("CR in quotes", "\"a\rb\",c\rd", "R1-2[\"a\rb\"|c]R3-3[d]");
	check("quote in unquoted field is literal", "5\" pipe,x\n", "R1-1[5\" pipe|x]");
	check("blank after closing quote", "\"a\"  ,b\n", "R1-1[\"a\"|b]");
	check("text after closing quote", "\"a\"b,c\nd,e\n", "J1-1:text_after_quoteR2-2[d|e]");
	/* a quote left open ends on the last line, whether or not it has a line break */
	check("unterminated quote at EOF", "a,b\n\"c,d\ne,f\n", "R1-1[a|b]J2-3:unterminated_quote");
	check("unterminated quote, no final newline", "a,b\n\"c,d\ne,f", "R1-1[a|b]J2-3:unterminated_quote");
	check("unterminated quote, final CRLF", "a\r\n\"x\r\ny\r\n", "R1-1[a]J2-3:unterminated_quote");
	check("unterminated quote, final CR", "\"x\r", "J1-1:unterminated_quote");
	check("unterminated quote, blank lines at the end", "\"x\n\n\n", "J1-3:unterminated_quote");
	check("unterminated quote no newline", "\"abc", "J1-1:unterminated_quote");
	check("quote closes at EOF", "a,\"b\"", "R1-1[a|\"b\"]");
	check("delimiter at EOF", "a,", "R1-1[a|]");

	/* encoding */
	check("valid UTF-8", "h\xC3\xA9,\xE2\x82\xAC,\xF0\x9F\x98\x80\n", "R1-1[h\xC3\xA9|\xE2\x82\xAC|\xF0\x9F\x98\x80]");
	check("invalid UTF-8", "a\xFF,b\nc,d\n", "J1-1:invalid_utf8R2-2[c|d]");
	check("truncated UTF-8", "a,\xE2\x82", "J1-1:invalid_utf8");
	check("overlong UTF-8", "\xC0\xAF\n", "J1-1:invalid_utf8");
	check("surrogate", "\xED\xA0\x80\n", "J1-1:invalid_utf8");
	check("above U+10FFFF", "\xF4\x90\x80\x80\n", "J1-1:invalid_utf8");
	check_n("NUL byte", "a\0b,c\nd,e\n", 10, "J1-1:nul_byteR2-2[d|e]");
	check_n("NUL in quotes", "\"a\0\",c\nd,e\n", 11, "J1-1:nul_byteR2-2[d|e]");

	/* field counts */
	check_expect("ragged rows", "h1,h2,h3\n1,2,3\n1,2\n1,2,3,4\n\"x\ny\",2,3\n",
				 3, "R1-1[h1|h2|h3]R2-2[1|2|3]J3-3:field_countJ4-4:field_countR5-6[\"x\ny\"|2|3]");
	check_expect("blank line is no record", "h1,h2\n\n1,2\n", 2, "R1-1[h1|h2]R3-3[1|2]");

	test_header_find();
	test_record_line();
	test_limits();

	if (failures)
	{
		fprintf(stderr, "%d of %d checks failed\n", failures, checks);
		return 1;
	}
	printf("csv unit tests: %d checks passed\n", checks);
	return 0;
}
