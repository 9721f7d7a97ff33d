/*
 * libFuzzer target for the CSV tokenizer (src/csv.c), plain C, no server.
 *
 * Input: an 8-byte header of options, then the bytes of the "file".
 *
 *   byte 0  flags: 1 no UTF-8 check, 2 field count fixed by the first
 *           record (as after a header), 4 small max_record_bytes (byte 1),
 *           8 small max_fields (byte 2), 16 allocator that fails after
 *           byte 4 allocations, 32 read error after byte 4 * 8 bytes
 *   byte 1  max_record_bytes when small: 1 to 256
 *   byte 2  low 4 bits: max_fields when small (1 to 16); high 4 bits:
 *           reject_keep_bytes (0 to 45)
 *   byte 3  dialect: delimiter , ; TAB | and quote " '
 *   byte 4  allocation budget / read error position
 *   byte 5  read_size asked of the callback: 16 to 271
 *   byte 6-7  four read sizes (1-16, 1-16, 1-16, 1-556), cycled
 *
 * Every input is parsed three times: in one read, in the cycled read
 * sizes, and one byte at a time; all three must give the same records,
 * rejects and errors.  On each parse the harness checks the invariants
 * the loader relies on:
 *
 *  - every byte of the input lies in exactly one record or reject, except
 *    a leading UTF-8 byte-order mark and CR / LF bytes between records
 *    (blank lines, the LF of a CRLF), and the parser consumes the whole
 *    input;
 *  - offsets and line numbers only move forward, and the line numbers are
 *    the ones counted independently from the bytes (LF, CRLF, CR): a
 *    record starts on the line of its first byte and ends on the line of
 *    its last;
 *  - raw is the record's bytes without its terminator (a prefix of them
 *    for a record longer than the limit);
 *  - a record's fields are all stored, agree with the field count, and
 *    written back as CSV they parse to the same fields;
 *  - a reject's reason agrees with an independent UTF-8 check and the
 *    field count; a record passes that check;
 *  - gf_csv_header_find agrees with a plain search, and gf_csv_header_key()
 *    gives two names the same key exactly when that search matches them.
 *
 * Any difference aborts, so libFuzzer reports it with the input.
 */
#include "csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_csv: check failed at line %d: %s\n", __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

#define HEADER_BYTES 8

/* ---- sources and allocators ---- */

typedef struct Source
{
	const unsigned char *data;
	size_t		len;
	size_t		pos;
	const size_t *chunks;		/* read sizes, cycled; NULL: as asked */
	int			nchunks;
	int			next;
	long		fail_at;		/* -1, or return -1 once pos reaches it */
	CsvParser  *p;				/* for gf_csv_record_line() */
	uint64_t	record_line;	/* its last value */
	uint64_t	terminators;	/* line terminators in data[0..pos) */
} Source;

static long
src_read(void *ctx, char *buf, size_t size)
{
	Source	   *s = ctx;
	size_t		n = s->len - s->pos;

	CHECK(size > 0);
	/*
	 * The line of the record that needs these bytes never goes back, and
	 * is not past the line of the next byte.
	 */
	if (s->p != NULL)
	{
		uint64_t	line = gf_csv_record_line(s->p);

		CHECK(line >= s->record_line);
		CHECK(line <= 1 + s->terminators);
		s->record_line = line;
	}
	if (s->fail_at >= 0 && s->pos >= (size_t) s->fail_at)
		return -1;
	if (n > size)
		n = size;
	if (s->chunks)
	{
		size_t		c = s->chunks[s->next];

		s->next = (s->next + 1) % s->nchunks;
		if (n > c)
			n = c;
	}
	if (s->fail_at >= 0 && s->pos + n > (size_t) s->fail_at)
		n = (size_t) s->fail_at - s->pos;
	memcpy(buf, s->data + s->pos, n);
	for (size_t i = s->pos; i < s->pos + n; i++)
		if (s->data[i] == '\r' || (s->data[i] == '\n' && !(i > 0 && s->data[i - 1] == '\r')))
			s->terminators++;
	s->pos += n;
	return (long) n;
}

typedef struct Budget
{
	long		left;			/* allocations allowed; -1: unlimited */
} Budget;

static void *
b_alloc(void *ctx, size_t size)
{
	Budget	   *b = ctx;

	if (b->left == 0)
		return NULL;
	if (b->left > 0)
		b->left--;
	return malloc(size);
}

static void *
b_realloc(void *ctx, void *ptr, size_t size)
{
	Budget	   *b = ctx;

	if (b->left == 0)
		return NULL;
	if (b->left > 0)
		b->left--;
	return realloc(ptr, size);
}

static void
b_free(void *ctx, void *ptr)
{
	(void) ctx;
	free(ptr);
}

/* ---- what a parse produced, copied ---- */

typedef struct Item
{
	CsvStatus	status;
	CsvError	error;
	CsvRecord	rec;			/* pointers replaced by the copies below */
	char	   *raw;
	char	  **fdata;
	size_t	   *flen;
	bool	   *fquoted;
} Item;

/* copies live in blocks freed with the result (few mallocs: ASan is slow) */
typedef struct Block
{
	struct Block *next;
	size_t		used;
	size_t		cap;
	char		data[];
} Block;

typedef struct Result
{
	Item	   *items;
	size_t		n;
	size_t		cap;
	bool		saw_bom;
	uint64_t	consumed;
	Block	   *blocks;
} Result;

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	CHECK(p != NULL);
	return p;
}

static void *
res_alloc(Result *res, size_t n)
{
	Block	   *b = res->blocks;

	n = (n + 15) & ~(size_t) 15;
	if (b == NULL || b->cap - b->used < n)
	{
		size_t		cap = n > 65536 ? n : 65536;

		b = xmalloc(sizeof(Block) + cap);
		b->next = res->blocks;
		b->used = 0;
		b->cap = cap;
		res->blocks = b;
	}
	b->used += n;
	return b->data + b->used - n;
}

static void
add_item(Result *res, CsvStatus st, CsvError err, const CsvRecord *rec)
{
	Item	   *it;

	if (res->n == res->cap)
	{
		res->cap = res->cap ? res->cap * 2 : 16;
		res->items = realloc(res->items, res->cap * sizeof(Item));
		CHECK(res->items != NULL);
	}
	it = &res->items[res->n++];
	memset(it, 0, sizeof(Item));
	it->status = st;
	it->error = err;
	if (st != CSV_RECORD && st != CSV_REJECT)
		return;
	it->rec = *rec;
	it->raw = res_alloc(res, rec->raw_len);
	if (rec->raw_len)
		memcpy(it->raw, rec->raw, rec->raw_len);
	it->fdata = res_alloc(res, rec->nstored * sizeof(char *));
	it->flen = res_alloc(res, rec->nstored * sizeof(size_t));
	it->fquoted = res_alloc(res, rec->nstored * sizeof(bool));
	for (size_t i = 0; i < rec->nstored; i++)
	{
		it->fdata[i] = res_alloc(res, rec->fields[i].len);
		if (rec->fields[i].len)
			memcpy(it->fdata[i], rec->fields[i].data, rec->fields[i].len);
		it->flen[i] = rec->fields[i].len;
		it->fquoted[i] = rec->fields[i].quoted;
	}
	it->rec.raw = NULL;
	it->rec.fields = NULL;
}

static void
free_result(Result *res)
{
	while (res->blocks)
	{
		Block	   *next = res->blocks->next;

		free(res->blocks);
		res->blocks = next;
	}
	free(res->items);
	memset(res, 0, sizeof(Result));
}

/* ---- independent references ---- */

/*
 * Line terminators before each offset (LF, CR, and CRLF counted once):
 * terms[i] counts them in d[0..i).
 */
static uint64_t *
count_terminators(const unsigned char *d, size_t len)
{
	uint64_t   *terms = xmalloc((len + 1) * sizeof(uint64_t));

	terms[0] = 0;
	for (size_t i = 0; i < len; i++)
		terms[i + 1] = terms[i] +
			(d[i] == '\r' || (d[i] == '\n' && !(i > 0 && d[i - 1] == '\r')));
	return terms;
}

/* Line of byte i: the LF of a CRLF is on the line of its CR. */
static uint64_t
line_of(const unsigned char *d, const uint64_t *terms, size_t i)
{
	return 1 + terms[i] - (d[i] == '\n' && i > 0 && d[i - 1] == '\r');
}

/*
 * Offset of the first byte that is not valid UTF-8 (or is zero), or len;
 * written from the Unicode table of well-formed sequences, not from csv.c.
 */
static size_t
ref_utf8_check(const unsigned char *s, size_t len, bool *nul)
{
	size_t		i = 0;

	*nul = false;
	while (i < len)
	{
		unsigned char c = s[i];
		unsigned int cp;
		size_t		n;

		if (c == 0)
		{
			*nul = true;
			return i;
		}
		if (c < 0x80)
		{
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
			n = 2, cp = c & 0x1F;
		else if ((c & 0xF0) == 0xE0)
			n = 3, cp = c & 0x0F;
		else if ((c & 0xF8) == 0xF0)
			n = 4, cp = c & 0x07;
		else
			return i;
		if (len - i < n)
			return i;
		for (size_t k = 1; k < n; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
			(cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return i;
		i += n;
	}
	return len;
}

/* ---- one parse ---- */

typedef struct Setup
{
	CsvOptions	opts;
	bool		fix_count;		/* expected fields after the first record */
	long		alloc_budget;	/* -1 unlimited */
	long		fail_at;		/* -1 no read error */
} Setup;

static void
parse(const Setup *su, const unsigned char *data, size_t len,
	  const size_t *chunks, int nchunks, Result *res)
{
	Source		src = {data, len, 0, chunks, nchunks, 0, su->fail_at, NULL, 0, 0};
	Budget		budget = {su->alloc_budget};
	CsvAllocator alloc = {b_alloc, b_realloc, b_free, &budget};
	CsvParser  *p;
	CsvRecord	rec;
	CsvStatus	st;
	bool		first = true;

	memset(res, 0, sizeof(Result));
	p = gf_csv_parser_create(&su->opts, src_read, &src, &alloc);
	if (p == NULL)
	{
		CHECK(su->alloc_budget >= 0);
		add_item(res, CSV_ERROR, CSV_ERROR_NOMEM, NULL);
		return;
	}
	src.p = p;
	for (;;)
	{
		memset(&rec, 0xA5, sizeof(rec));
		st = gf_csv_next(p, &rec);
		if (st == CSV_ERROR)
		{
			CsvError	e = gf_csv_error(p);

			CHECK(e != CSV_ERROR_NONE);
			add_item(res, st, e, NULL);
			/* the error sticks */
			CHECK(gf_csv_next(p, &rec) == CSV_ERROR && gf_csv_error(p) == e);
			break;
		}
		if (st == CSV_EOF)
		{
			add_item(res, st, CSV_ERROR_NONE, NULL);
			/* end of input sticks too */
			CHECK(gf_csv_next(p, &rec) == CSV_EOF);
			break;
		}
		CHECK(st == CSV_RECORD || st == CSV_REJECT);
		add_item(res, st, CSV_ERROR_NONE, &rec);
		if (first && su->fix_count)
			gf_csv_set_expected_fields(p, rec.nfields);
		first = false;
	}
	res->saw_bom = gf_csv_saw_bom(p);
	res->consumed = gf_csv_bytes_consumed(p);
	gf_csv_parser_free(p);
}

/* Write the fields of a record back as CSV and parse that: same fields? */
static void
check_round_trip(const Setup *su, const Item *it)
{
	const CsvOptions *o = &su->opts;
	size_t		cap = 3 + 1;
	unsigned char *buf;
	size_t		n = 0;
	Setup		rt;
	Result		res;

	for (size_t i = 0; i < it->rec.nstored; i++)
		cap += 2 * it->flen[i] + 3;
	buf = xmalloc(cap);
	memcpy(buf, "\xEF\xBB\xBF", 3);	/* a BOM, so the data cannot be taken for one */
	n = 3;
	for (size_t i = 0; i < it->rec.nstored; i++)
	{
		if (i > 0)
			buf[n++] = (unsigned char) o->delimiter;
		if (it->fquoted[i])
		{
			buf[n++] = (unsigned char) o->quote;
			for (size_t k = 0; k < it->flen[i]; k++)
			{
				buf[n++] = (unsigned char) it->fdata[i][k];
				if (it->fdata[i][k] == o->quote)
					buf[n++] = (unsigned char) o->quote;
			}
			buf[n++] = (unsigned char) o->quote;
		}
		else
		{
			memcpy(buf + n, it->fdata[i], it->flen[i]);
			n += it->flen[i];
		}
	}
	memset(&rt, 0, sizeof(rt));
	rt.opts = *o;
	rt.opts.max_record_bytes = n + 1;
	rt.opts.max_fields = it->rec.nstored + 1;
	rt.alloc_budget = -1;
	rt.fail_at = -1;
	parse(&rt, buf, n, NULL, 0, &res);
	CHECK(res.n == 2);
	CHECK(res.items[0].status == CSV_RECORD);
	CHECK(res.items[1].status == CSV_EOF);
	CHECK(res.items[0].rec.nstored == it->rec.nstored);
	for (size_t i = 0; i < it->rec.nstored; i++)
	{
		CHECK(res.items[0].flen[i] == it->flen[i]);
		CHECK(res.items[0].fquoted[i] == it->fquoted[i]);
		CHECK(memcmp(res.items[0].fdata[i], it->fdata[i], it->flen[i]) == 0);
	}
	free_result(&res);
	free(buf);
}

/* gf_csv_header_find against a plain search, for a few names. */
static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && blank((*s)[0]))
		(*s)++, (*len)--;
	while (*len > 0 && blank((*s)[*len - 1]))
		(*len)--;
}

static bool
same_name(const char *a, size_t al, const char *b, size_t bl)
{
	trim(&a, &al);
	trim(&b, &bl);
	if (al != bl)
		return false;
	for (size_t i = 0; i < al; i++)
	{
		char		x = a[i],
					y = b[i];

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

static void
check_header_find(const Item *it)
{
	CsvField   *fields = xmalloc(it->rec.nstored * sizeof(CsvField));
	CsvRecord	h = it->rec;
	const char *names[3];
	size_t		lens[3];
	int			nnames = 0;

	for (size_t i = 0; i < it->rec.nstored; i++)
	{
		fields[i].data = it->fdata[i];
		fields[i].len = it->flen[i];
		fields[i].quoted = it->fquoted[i];
	}
	h.fields = fields;
	names[nnames] = "meter_id", lens[nnames++] = 8;
	if (it->rec.nstored > 0)
		names[nnames] = it->fdata[0], lens[nnames++] = it->flen[0];
	if (it->rec.nstored > 1)
		names[nnames] = it->fdata[it->rec.nstored - 1], lens[nnames++] = it->flen[it->rec.nstored - 1];
	for (int k = 0; k < nnames; k++)
	{
		long		want = -1;
		long		got = gf_csv_header_find(&h, names[k], lens[k]);

		for (size_t i = 0; i < it->rec.nstored; i++)
			if (same_name(it->fdata[i], it->flen[i], names[k], lens[k]))
			{
				if (want >= 0)
				{
					want = -2;
					break;
				}
				want = (long) i;
			}
		CHECK(got == want);
	}

	/*
	 * gf_csv_header_key(), by which the server indexes a header: two names
	 * have equal keys exactly when header matching takes them for the same
	 */
	{
		size_t		n = it->rec.nstored < 16 ? it->rec.nstored : 16;
		char	  **keys = xmalloc((n ? n : 1) * sizeof(char *));
		size_t	   *klens = xmalloc((n ? n : 1) * sizeof(size_t));

		for (size_t i = 0; i < n; i++)
		{
			keys[i] = xmalloc(it->flen[i] ? it->flen[i] : 1);
			klens[i] = gf_csv_header_key(it->fdata[i], it->flen[i], keys[i]);
			CHECK(klens[i] <= it->flen[i]);
		}
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < n; j++)
				CHECK((klens[i] == klens[j] && memcmp(keys[i], keys[j], klens[i]) == 0) ==
					  same_name(it->fdata[i], it->flen[i], it->fdata[j], it->flen[j]));
		for (size_t i = 0; i < n; i++)
			free(keys[i]);
		free(keys);
		free(klens);
	}
	free(fields);
}

/* The invariants of one complete parse (no allocation or read failure). */
static void
check_invariants(const Setup *su, const unsigned char *d, size_t len, const Result *res)
{
	uint64_t	prev_end = 0;
	uint64_t	prev_last_line = 0;
	size_t		expected = 0;
	bool		first = true;
	const Item *last = &res->items[res->n - 1];
	uint64_t   *terms;

	if (last->status == CSV_ERROR)
	{
		/* only UTF-16 input is refused as a whole, before any record */
		CHECK(last->error == CSV_ERROR_UTF16);
		CHECK(res->n == 1);
		CHECK(len >= 2 && ((d[0] == 0xFF && d[1] == 0xFE) || (d[0] == 0xFE && d[1] == 0xFF)));
		return;
	}
	CHECK(last->status == CSV_EOF);
	CHECK(!(len >= 2 && ((d[0] == 0xFF && d[1] == 0xFE) || (d[0] == 0xFE && d[1] == 0xFF))));
	CHECK(res->saw_bom == (len >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF));
	CHECK(res->consumed == len);
	if (res->saw_bom)
		prev_end = 3;
	terms = count_terminators(d, len);

	for (size_t k = 0; k + 1 < res->n; k++)
	{
		const Item *it = &res->items[k];
		const CsvRecord *r = &it->rec;
		uint64_t	term;

		/* bytes between records: blank lines and the LF of a CRLF only */
		CHECK(r->start_offset >= prev_end);
		for (uint64_t i = prev_end; i < r->start_offset; i++)
			CHECK(d[i] == '\r' || d[i] == '\n');
		/* a record never starts with a line break */
		CHECK(r->start_offset < len);
		CHECK(d[r->start_offset] != '\r' && d[r->start_offset] != '\n');

		/* extent: raw bytes, then one terminator or the end of input */
		CHECK(r->end_offset <= len);
		CHECK(r->end_offset >= r->start_offset + r->raw_total);
		term = r->end_offset - r->start_offset - r->raw_total;
		CHECK(term <= 1);
		if (term == 1)
			CHECK(d[r->start_offset + r->raw_total] == '\r' ||
				  d[r->start_offset + r->raw_total] == '\n');
		else
			CHECK(r->end_offset == len);
		CHECK(r->raw_len <= r->raw_total);
		CHECK(r->raw_truncated == (r->raw_len < r->raw_total));
		CHECK(r->raw_len == 0 || memcmp(it->raw, d + r->start_offset, r->raw_len) == 0);

		/* line numbers, counted independently, strictly increasing */
		CHECK(r->first_line == 1 + terms[r->start_offset]);
		/* the line of its last byte (a quoted field may end with a line break) */
		CHECK(r->raw_total > 0);
		CHECK(r->last_line == line_of(d, terms, r->start_offset + r->raw_total - 1));
		CHECK(r->first_line > prev_last_line);
		CHECK(r->last_line >= r->first_line);

		CHECK(r->nfields >= 1);
		CHECK(r->nstored <= r->nfields);
		if (it->status == CSV_RECORD)
		{
			bool		nul;
			size_t		bad = ref_utf8_check(d + r->start_offset, r->raw_total, &nul);

			CHECK(r->reason == CSV_REASON_NONE);
			CHECK(!r->raw_truncated);
			CHECK(r->raw_total <= su->opts.max_record_bytes);
			CHECK(r->nstored == r->nfields);
			CHECK(r->nfields <= su->opts.max_fields);
			CHECK(expected == 0 || r->nfields == expected);
			if (su->opts.validate_utf8)
				CHECK(bad == r->raw_total);
			else
				CHECK(memchr(d + r->start_offset, 0, r->raw_total) == NULL);
			check_round_trip(su, it);
			check_header_find(it);
		}
		else
		{
			CHECK(r->reason != CSV_REASON_NONE);
			CHECK(r->nstored == 0);
			switch (r->reason)
			{
				case CSV_REASON_TOO_LONG:
					CHECK(r->raw_total > su->opts.max_record_bytes);
					CHECK(r->raw_len == (r->raw_total < su->opts.reject_keep_bytes ?
										 r->raw_total : su->opts.reject_keep_bytes));
					break;
				case CSV_REASON_INVALID_UTF8:
				case CSV_REASON_NUL_BYTE:
					{
						bool		nul;
						size_t		bad = ref_utf8_check(d + r->start_offset, r->raw_total, &nul);

						CHECK(r->raw_total <= su->opts.max_record_bytes);
						if (su->opts.validate_utf8)
						{
							CHECK(bad == r->reason_offset);
							CHECK(nul == (r->reason == CSV_REASON_NUL_BYTE));
						}
						else
						{
							CHECK(r->reason == CSV_REASON_NUL_BYTE);
							CHECK(d[r->start_offset + r->reason_offset] == 0);
						}
						CHECK(r->reason_offset < r->raw_total);
						break;
					}
				case CSV_REASON_FIELD_COUNT:
					CHECK(expected != 0 && r->nfields != expected);
					break;
				case CSV_REASON_TOO_MANY_FIELDS:
					CHECK(r->nfields > su->opts.max_fields);
					break;
				case CSV_REASON_UNTERMINATED_QUOTE:
					/* runs to the end of the input */
					CHECK(r->end_offset == len);
					CHECK(d[r->start_offset + r->reason_offset] == (unsigned char) su->opts.quote);
					break;
				case CSV_REASON_TEXT_AFTER_QUOTE:
					CHECK(r->reason_offset < r->raw_total);
					break;
				default:
					CHECK(!"unknown reason");
			}
			CHECK(gf_csv_reason_code(r->reason) != NULL && gf_csv_reason_text(r->reason) != NULL);
		}
		if (first && su->fix_count)
			expected = r->nfields;
		first = false;
		prev_end = r->end_offset;
		prev_last_line = r->last_line;
	}
	/* after the last record: blank lines only */
	for (uint64_t i = prev_end; i < len; i++)
		CHECK(d[i] == '\r' || d[i] == '\n');
	free(terms);
}

/* Two parses of the same input must agree, item by item. */
static void
check_same(const Result *a, const Result *b)
{
	CHECK(a->n == b->n);
	CHECK(a->saw_bom == b->saw_bom);
	CHECK(a->consumed == b->consumed);
	for (size_t k = 0; k < a->n; k++)
	{
		const Item *x = &a->items[k];
		const Item *y = &b->items[k];

		CHECK(x->status == y->status);
		CHECK(x->error == y->error);
		if (x->status != CSV_RECORD && x->status != CSV_REJECT)
			continue;
		CHECK(x->rec.first_line == y->rec.first_line);
		CHECK(x->rec.last_line == y->rec.last_line);
		CHECK(x->rec.start_offset == y->rec.start_offset);
		CHECK(x->rec.end_offset == y->rec.end_offset);
		CHECK(x->rec.raw_len == y->rec.raw_len);
		CHECK(x->rec.raw_total == y->rec.raw_total);
		CHECK(x->rec.raw_truncated == y->rec.raw_truncated);
		CHECK(memcmp(x->raw, y->raw, x->rec.raw_len) == 0);
		CHECK(x->rec.nfields == y->rec.nfields);
		CHECK(x->rec.nstored == y->rec.nstored);
		CHECK(x->rec.reason == y->rec.reason);
		CHECK(x->rec.reason_offset == y->rec.reason_offset);
		for (size_t i = 0; i < x->rec.nstored; i++)
		{
			CHECK(x->flen[i] == y->flen[i]);
			CHECK(x->fquoted[i] == y->fquoted[i]);
			CHECK(memcmp(x->fdata[i], y->fdata[i], x->flen[i]) == 0);
		}
	}
}

int			LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char delims[] = {',', ';', '\t', '|'};
	static const char quotes[] = {'"', '\''};
	const unsigned char *d;
	size_t		len;
	unsigned char flags;
	Setup		su;
	size_t		chunks[4];
	size_t		one = 1;
	Result		whole,
				cycled,
				bytewise;

	if (size < HEADER_BYTES)
		return 0;
	flags = data[0];
	d = data + HEADER_BYTES;
	len = size - HEADER_BYTES;

	memset(&su, 0, sizeof(su));
	gf_csv_options_init(&su.opts);
	su.opts.validate_utf8 = !(flags & 1);
	su.fix_count = (flags & 2) != 0;
	if (flags & 4)
		su.opts.max_record_bytes = 1 + data[1];
	if (flags & 8)
		su.opts.max_fields = 1 + (data[2] & 15);
	su.opts.reject_keep_bytes = (size_t) (data[2] >> 4) * 3;
	su.opts.delimiter = delims[data[3] & 3];
	su.opts.quote = quotes[(data[3] >> 2) & 1];
	su.alloc_budget = (flags & 16) ? data[4] : -1;
	su.fail_at = (flags & 32) ? (long) data[4] * 8 : -1;
	su.opts.read_size = 16 + data[5];
	chunks[0] = 1 + (data[6] & 15);
	chunks[1] = 1 + (data[6] >> 4);
	chunks[2] = 1 + (data[7] & 15);
	chunks[3] = 1 + (size_t) (data[7] >> 4) * 37;

	/* the UTF-8 check on its own, against the reference */
	{
		bool		nul1,
					nul2;
		size_t		a = gf_csv_utf8_check((const char *) d, len, &nul1);
		size_t		b = ref_utf8_check(d, len, &nul2);

		CHECK(a == b);
		CHECK(nul1 == nul2);
	}

	parse(&su, d, len, NULL, 0, &whole);
	parse(&su, d, len, chunks, 4, &cycled);
	parse(&su, d, len, &one, 1, &bytewise);
	if (su.alloc_budget < 0 && su.fail_at < 0)
	{
		check_invariants(&su, d, len, &whole);
		check_same(&whole, &cycled);
		check_same(&whole, &bytewise);
	}
	else if (su.alloc_budget < 0)
	{
		/* a read error ends the parse with CSV_ERROR_READ, unless input ended first */
		const Item *last = &whole.items[whole.n - 1];

		CHECK(last->status == CSV_EOF || last->error == CSV_ERROR_READ ||
			  last->error == CSV_ERROR_UTF16);
		if (last->status == CSV_EOF)
			check_invariants(&su, d, len, &whole);
	}
	else
	{
		const Item *last = &whole.items[whole.n - 1];

		CHECK(last->status == CSV_EOF || last->error == CSV_ERROR_NOMEM ||
			  last->error == CSV_ERROR_UTF16 ||
			  (su.fail_at >= 0 && last->error == CSV_ERROR_READ));
	}
	free_result(&whole);
	free_result(&cycled);
	free_result(&bytewise);
	return 0;
}
