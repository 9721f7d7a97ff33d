/*-------------------------------------------------------------------------
 *
 * csv.c
 *	  Streaming RFC 4180 tokenizer (no PostgreSQL headers; see csv.h).
 *
 * The input is read into a window buf[0..len).  The record being scanned
 * starts at absolute offset rec_abs; buf[0] is at absolute offset
 * buf_offset.  When the scan reaches the end of the window, the bytes of the
 * current record are moved to the front and more input is read; the window
 * grows only while a single record does not fit, up to max_record_bytes.
 * A longer record is scanned to its end without being kept ("skipping"):
 * only its first reject_keep_bytes bytes survive, for the reject.
 *
 * Line terminators are LF, CRLF and a lone CR, inside quotes as well as
 * outside; a CRLF split across reads counts once.
 *
 *-------------------------------------------------------------------------
 */
#include "csv.h"

#include <string.h>

/* scanner states */
typedef enum
{
	ST_FIELD_START,				/* at the first byte of a field */
	ST_UNQUOTED,				/* inside an unquoted field */
	ST_QUOTED,					/* inside a quoted field */
	ST_QUOTE_SEEN,				/* saw a quote inside a quoted field */
	ST_AFTER_QUOTE				/* after the closing quote of a field */
} ScanState;

/* a field while its record is scanned: offsets relative to the record */
typedef struct FieldSlot
{
	size_t		start;
	size_t		len;
	bool		quoted;
	bool		escaped;		/* contains "" that must be unescaped */
} FieldSlot;

struct CsvParser
{
	CsvOptions	opt;
	CsvReadFn	read_fn;
	void	   *read_ctx;
	CsvAllocator a;

	char	   *buf;
	size_t		cap;
	size_t		len;
	size_t		pos;			/* next byte to scan */
	uint64_t	buf_offset;		/* absolute offset of buf[0] */
	bool		eof;
	bool		started;
	bool		saw_bom;
	bool		pending_lf;		/* last terminator was CR: eat a following LF */
	bool		prev_cr;		/* last byte inside quotes was CR */
	bool		quoted_eol;		/* last byte inside quotes was CR or LF */
	CsvError	error;
	uint64_t	line;			/* physical line of the byte at pos */
	uint64_t	rec_line;		/* line on which the record being scanned starts */
	size_t		expected;		/* expected field count, 0 = any */

	FieldSlot  *slots;
	size_t		slots_cap;
	CsvField   *fields;
	size_t		fields_cap;
	char	   *scratch;
	size_t		scratch_cap;
	char	   *keep;			/* first bytes of a too-long record */
	size_t		keep_cap;
	size_t		keep_len;

	/* state of the record being scanned */
	uint64_t	rec_abs;
	ScanState	state;
	FieldSlot	cur;
	size_t		nfields;
	size_t		nstored;
	bool		skipping;
	CsvReason	reason;
	uint64_t	reason_offset;
};

#define REC_INDEX(p)	((size_t) ((p)->rec_abs - (p)->buf_offset))
#define POS_REL(p)		((size_t) ((p)->buf_offset + (p)->pos - (p)->rec_abs))

void
gf_csv_options_init(CsvOptions *opts)
{
	opts->delimiter = ',';
	opts->quote = '"';
	opts->read_size = 1024 * 1024;
	opts->max_record_bytes = 64 * 1024 * 1024;
	opts->max_fields = 100000;
	opts->reject_keep_bytes = 4096;
	opts->validate_utf8 = true;
}

CsvParser *
gf_csv_parser_create(const CsvOptions *opts, CsvReadFn read_fn, void *read_ctx,
					 const CsvAllocator *alloc)
{
	CsvParser  *p;

	p = alloc->alloc(alloc->ctx, sizeof(CsvParser));
	if (p == NULL)
		return NULL;
	memset(p, 0, sizeof(CsvParser));
	p->opt = *opts;
	if (p->opt.read_size < 16)
		p->opt.read_size = 16;
	if (p->opt.max_record_bytes < 1)
		p->opt.max_record_bytes = 1;
	if (p->opt.max_fields < 1)
		p->opt.max_fields = 1;
	p->read_fn = read_fn;
	p->read_ctx = read_ctx;
	p->a = *alloc;
	p->line = 1;
	p->cap = p->opt.read_size;
	p->buf = alloc->alloc(alloc->ctx, p->cap);
	if (p->buf == NULL)
	{
		alloc->free(alloc->ctx, p);
		return NULL;
	}
	return p;
}

void
gf_csv_parser_free(CsvParser *p)
{
	if (p == NULL)
		return;
	if (p->buf)
		p->a.free(p->a.ctx, p->buf);
	if (p->slots)
		p->a.free(p->a.ctx, p->slots);
	if (p->fields)
		p->a.free(p->a.ctx, p->fields);
	if (p->scratch)
		p->a.free(p->a.ctx, p->scratch);
	if (p->keep)
		p->a.free(p->a.ctx, p->keep);
	p->a.free(p->a.ctx, p);
}

void
gf_csv_set_expected_fields(CsvParser *p, size_t n)
{
	p->expected = n;
}

CsvError
gf_csv_error(const CsvParser *p)
{
	return p->error;
}

bool
gf_csv_saw_bom(const CsvParser *p)
{
	return p->saw_bom;
}

uint64_t
gf_csv_bytes_consumed(const CsvParser *p)
{
	return p->buf_offset + p->pos;
}

uint64_t
gf_csv_record_line(const CsvParser *p)
{
	return p->rec_line;
}

const char *
gf_csv_reason_text(CsvReason reason)
{
	switch (reason)
	{
		case CSV_REASON_NONE:
			return "no error";
		case CSV_REASON_UNTERMINATED_QUOTE:
			return "unterminated quoted field";
		case CSV_REASON_TEXT_AFTER_QUOTE:
			return "characters after the closing quote of a field";
		case CSV_REASON_NUL_BYTE:
			return "zero byte in record";
		case CSV_REASON_INVALID_UTF8:
			return "invalid UTF-8 byte sequence";
		case CSV_REASON_TOO_LONG:
			return "record longer than the maximum record size";
		case CSV_REASON_TOO_MANY_FIELDS:
			return "more fields than the maximum field count";
		case CSV_REASON_FIELD_COUNT:
			return "wrong number of fields";
	}
	return "unknown reason";
}

/* Short stable identifiers, stored in reject tables. */
const char *
gf_csv_reason_code(CsvReason reason)
{
	switch (reason)
	{
		case CSV_REASON_NONE:
			return "none";
		case CSV_REASON_UNTERMINATED_QUOTE:
			return "unterminated_quote";
		case CSV_REASON_TEXT_AFTER_QUOTE:
			return "text_after_quote";
		case CSV_REASON_NUL_BYTE:
			return "nul_byte";
		case CSV_REASON_INVALID_UTF8:
			return "invalid_utf8";
		case CSV_REASON_TOO_LONG:
			return "record_too_long";
		case CSV_REASON_TOO_MANY_FIELDS:
			return "too_many_fields";
		case CSV_REASON_FIELD_COUNT:
			return "field_count";
	}
	return "unknown";
}

/* Grow *ptr to hold at least need elements of size elem. */
static bool
ensure_capacity(CsvParser *p, void **ptr, size_t *cap, size_t need, size_t elem)
{
	size_t		newcap;
	void	   *np;

	if (need <= *cap)
		return true;
	newcap = *cap ? *cap : 16;
	while (newcap < need)
		newcap *= 2;
	if (*ptr == NULL)
		np = p->a.alloc(p->a.ctx, newcap * elem);
	else
		np = p->a.realloc(p->a.ctx, *ptr, newcap * elem);
	if (np == NULL)
		return false;
	*ptr = np;
	*cap = newcap;
	return true;
}

/*
 * Add the next n bytes of a too-long record to the kept prefix, up to
 * reject_keep_bytes.  The prefix is the same whatever the read sizes.
 */
static bool
keep_more(CsvParser *p, const char *src, size_t n)
{
	size_t		room = p->opt.reject_keep_bytes - p->keep_len;

	if (n > room)
		n = room;
	if (!ensure_capacity(p, (void **) &p->keep, &p->keep_cap,
						 p->opt.reject_keep_bytes ? p->opt.reject_keep_bytes : 1, 1))
	{
		p->error = CSV_ERROR_NOMEM;
		return false;
	}
	if (n > 0)
		memcpy(p->keep + p->keep_len, src, n);
	p->keep_len += n;
	return true;
}

/*
 * Make more input available after pos == len.  Returns 1 when bytes were
 * added, 0 at end of input, -1 on error.
 */
static int
fill(CsvParser *p)
{
	size_t		keep_from;
	long		n;

	if (p->eof)
		return 0;

	/*
	 * Drop what is no longer needed: everything before the record, or, for
	 * a record being skipped, what was scanned (after keeping its prefix).
	 */
	if (p->skipping)
	{
		if (!keep_more(p, p->buf, p->pos))
			return -1;
		keep_from = p->pos;
	}
	else
		keep_from = REC_INDEX(p);
	if (keep_from > 0)
	{
		memmove(p->buf, p->buf + keep_from, p->len - keep_from);
		p->len -= keep_from;
		p->pos -= keep_from;
		p->buf_offset += keep_from;
	}

	/* A record longer than the limit is scanned on without being kept. */
	if (!p->skipping && p->len > p->opt.max_record_bytes)
	{
		p->keep_len = 0;
		if (!keep_more(p, p->buf, p->len))
			return -1;
		p->skipping = true;
		p->buf_offset += p->len;
		p->len = p->pos = 0;
	}

	if (p->cap - p->len < p->opt.read_size / 2)
	{
		size_t		newcap = p->cap * 2;
		size_t		limit = p->opt.max_record_bytes + p->opt.read_size + 1;
		char	   *nb;

		/* len <= max_record_bytes here, so the limit leaves room to read */
		if (newcap > limit)
			newcap = limit;
		if (newcap < p->len + p->opt.read_size)
			newcap = p->len + p->opt.read_size;
		nb = p->a.realloc(p->a.ctx, p->buf, newcap);
		if (nb == NULL)
		{
			p->error = CSV_ERROR_NOMEM;
			return -1;
		}
		p->buf = nb;
		p->cap = newcap;
	}

	n = p->read_fn(p->read_ctx, p->buf + p->len, p->cap - p->len);
	if (n < 0)
	{
		p->error = CSV_ERROR_READ;
		return -1;
	}
	if (n == 0)
	{
		p->eof = true;
		return 0;
	}
	p->len += (size_t) n;
	return 1;
}

/* Read the first bytes: skip a UTF-8 BOM, refuse UTF-16. */
static bool
start(CsvParser *p)
{
	p->started = true;
	p->rec_abs = 0;
	while (p->len < 3 && !p->eof)
	{
		long		n = p->read_fn(p->read_ctx, p->buf + p->len, p->cap - p->len);

		if (n < 0)
		{
			p->error = CSV_ERROR_READ;
			return false;
		}
		if (n == 0)
			p->eof = true;
		p->len += (size_t) n;
	}
	p->pos = 0;
	if (p->len >= 2 &&
		(((unsigned char) p->buf[0] == 0xFF && (unsigned char) p->buf[1] == 0xFE) ||
		 ((unsigned char) p->buf[0] == 0xFE && (unsigned char) p->buf[1] == 0xFF)))
	{
		p->error = CSV_ERROR_UTF16;
		return false;
	}
	if (p->len >= 3 &&
		(unsigned char) p->buf[0] == 0xEF &&
		(unsigned char) p->buf[1] == 0xBB &&
		(unsigned char) p->buf[2] == 0xBF)
	{
		p->pos = 3;
		p->saw_bom = true;
	}
	return true;
}

/* push_field() when the field does not simply go into an allocated slot */
static bool
push_field_slow(CsvParser *p)
{
	size_t		limit = p->expected ? p->expected + 1 : p->opt.max_fields;

	if (limit > p->opt.max_fields)
		limit = p->opt.max_fields;
	if (p->skipping || p->nstored >= limit)
		return true;
	if (!ensure_capacity(p, (void **) &p->slots, &p->slots_cap,
						 p->nstored + 1, sizeof(FieldSlot)))
	{
		p->error = CSV_ERROR_NOMEM;
		return false;
	}
	p->slots[p->nstored++] = p->cur;
	return true;
}

/* Record the field in p->cur (its length already set). */
static inline bool
push_field(CsvParser *p)
{
	p->nfields++;
	/* a slot is there and within the limit (the expected count is one) */
	if (!p->skipping && p->nstored < p->slots_cap &&
		(p->expected ? p->nstored <= p->expected : p->nstored < p->opt.max_fields) &&
		p->nstored < p->opt.max_fields)
	{
		FieldSlot  *f = &p->slots[p->nstored++];

		/* member by member (see gf_csv_next()) */
		f->start = p->cur.start;
		f->len = p->cur.len;
		f->quoted = p->cur.quoted;
		f->escaped = p->cur.escaped;
		return true;
	}
	return push_field_slow(p);
}

static void
set_reason(CsvParser *p, CsvReason reason)
{
	if (p->reason == CSV_REASON_NONE)
	{
		p->reason = reason;
		p->reason_offset = POS_REL(p);
	}
}

static inline bool
has_zero_byte(uint64_t w)
{
	return ((w - UINT64_C(0x0101010101010101)) & ~w &
			UINT64_C(0x8080808080808080)) != 0;
}

/*
 * Strict UTF-8 check with the same rules as PostgreSQL's verifier (no
 * overlong forms, no surrogates, nothing above U+10FFFF); a zero byte is
 * invalid too.
 */
size_t
gf_csv_utf8_check(const char *s, size_t len, bool *nul_byte)
{
	const unsigned char *u = (const unsigned char *) s;
	size_t		i = 0;

	*nul_byte = false;
	while (i < len)
	{
		unsigned char c;
		size_t		n;
		unsigned char lo = 0x80,
					hi = 0xBF;

		if (i + 8 <= len)
		{
			uint64_t	w;

			memcpy(&w, u + i, 8);
			if ((w & UINT64_C(0x8080808080808080)) == 0 && !has_zero_byte(w))
			{
				i += 8;
				continue;
			}
		}
		c = u[i];
		if (c == 0)
		{
			*nul_byte = true;
			return i;
		}
		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			n = 2;
		else if (c >= 0xE0 && c <= 0xEF)
		{
			n = 3;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		}
		else if (c >= 0xF0 && c <= 0xF4)
		{
			n = 4;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		}
		else
			return i;
		if (len - i < n)
			return i;
		if (u[i + 1] < lo || u[i + 1] > hi)
			return i;
		for (size_t k = 2; k < n; k++)
			if ((u[i + k] & 0xC0) != 0x80)
				return i;
		i += n;
	}
	return len;
}

/* Fill rec from the finished record; terminator bytes already consumed. */
static CsvStatus
finish_record(CsvParser *p, CsvRecord *rec, size_t raw_len, uint64_t end_abs,
			  uint64_t last_line)
{
	const char *base;

	rec->start_offset = p->rec_abs;
	rec->end_offset = end_abs;
	rec->last_line = last_line;
	rec->nfields = p->nfields;
	rec->reason = CSV_REASON_NONE;
	rec->reason_offset = 0;
	rec->raw_total = raw_len;

	/*
	 * A record longer than the limit is rejected as such, whatever else is
	 * wrong with it, with its first reject_keep_bytes bytes: whether it was
	 * skipped or fitted in the window depends on the read sizes, the
	 * reject must not.
	 */
	if (raw_len > p->opt.max_record_bytes)
	{
		if (p->skipping)
		{
			/* the rest of its bytes in the window */
			if (!keep_more(p, p->buf, (size_t) (p->rec_abs + raw_len - p->buf_offset)))
				return CSV_ERROR;
			rec->raw = p->keep;
			rec->raw_len = p->keep_len;
		}
		else
		{
			rec->raw = p->buf + REC_INDEX(p);
			rec->raw_len = raw_len < p->opt.reject_keep_bytes ?
				raw_len : p->opt.reject_keep_bytes;
		}
		rec->raw_truncated = rec->raw_len < raw_len;
		rec->nstored = 0;
		rec->fields = NULL;
		rec->reason = CSV_REASON_TOO_LONG;
		rec->reason_offset = p->opt.max_record_bytes;
		return CSV_REJECT;
	}

	base = p->buf + REC_INDEX(p);
	rec->raw = base;
	rec->raw_len = raw_len;
	rec->raw_truncated = false;

	if (p->reason != CSV_REASON_NONE)
	{
		rec->reason = p->reason;
		rec->reason_offset = p->reason_offset;
	}
	else
	{
		bool		nul;
		size_t		bad;

		if (p->opt.validate_utf8)
			bad = gf_csv_utf8_check(base, raw_len, &nul);
		else
		{
			const char *z = memchr(base, 0, raw_len);

			nul = (z != NULL);
			bad = z ? (size_t) (z - base) : raw_len;
		}
		if (bad < raw_len)
		{
			rec->reason = nul ? CSV_REASON_NUL_BYTE : CSV_REASON_INVALID_UTF8;
			rec->reason_offset = bad;
		}
		else if (p->expected && p->nfields != p->expected)
		{
			rec->reason = CSV_REASON_FIELD_COUNT;
			rec->reason_offset = raw_len;
		}
		else if (p->nfields > p->opt.max_fields)
		{
			rec->reason = CSV_REASON_TOO_MANY_FIELDS;
			rec->reason_offset = raw_len;
		}
	}

	if (rec->reason != CSV_REASON_NONE)
	{
		rec->nstored = 0;
		rec->fields = NULL;
		return CSV_REJECT;
	}

	/* Materialize the fields; unescape "" where needed. */
	if (!ensure_capacity(p, (void **) &p->fields, &p->fields_cap,
						 p->nstored ? p->nstored : 1, sizeof(CsvField)))
	{
		p->error = CSV_ERROR_NOMEM;
		return CSV_ERROR;
	}
	{
		size_t		scratch_used = 0;

		for (size_t i = 0; i < p->nstored; i++)
		{
			FieldSlot  *s = &p->slots[i];
			CsvField   *f = &p->fields[i];

			f->quoted = s->quoted;
			if (!s->escaped)
			{
				f->data = base + s->start;
				f->len = s->len;
				continue;
			}
			if (!ensure_capacity(p, (void **) &p->scratch, &p->scratch_cap,
								 raw_len + 1, 1))
			{
				p->error = CSV_ERROR_NOMEM;
				return CSV_ERROR;
			}
			{
				char	   *dst = p->scratch + scratch_used;
				const char *src = base + s->start;
				size_t		n = 0;

				for (size_t k = 0; k < s->len; k++)
				{
					dst[n++] = src[k];
					if (src[k] == p->opt.quote)
						k++;	/* skip the second quote of "" */
				}
				f->data = dst;
				f->len = n;
				scratch_used += n;
			}
		}
	}
	rec->nstored = p->nstored;
	rec->fields = p->fields;
	return CSV_RECORD;
}

/*
 * The scanner stores the members of p->cur one by one and push_field()
 * reads them back right away: GCC's straight-line vectorizer would read
 * them as one wide load, which waits for those stores to reach the cache
 * (a store-forwarding stall on every field).
 */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-slp-vectorize", "no-store-merging")))
#endif
CsvStatus
gf_csv_next(CsvParser *p, CsvRecord *rec)
{
	const char	delim = p->opt.delimiter;
	const char	quote = p->opt.quote;

	if (p->error != CSV_ERROR_NONE)
		return CSV_ERROR;
	if (!p->started && !start(p))
		return CSV_ERROR;

next_record:
	p->rec_line = p->line;
	/* a CR ended the previous line: a following LF belongs to it */
	if (p->pending_lf)
	{
		p->rec_abs = p->buf_offset + p->pos;
		if (p->pos >= p->len)
		{
			int			r = fill(p);

			if (r < 0)
				return CSV_ERROR;
		}
		if (p->pos < p->len && p->buf[p->pos] == '\n')
			p->pos++;
		p->pending_lf = false;
	}

	p->rec_abs = p->buf_offset + p->pos;
	p->state = ST_FIELD_START;
	p->nfields = 0;
	p->nstored = 0;
	p->skipping = false;
	p->keep_len = 0;
	p->reason = CSV_REASON_NONE;
	p->reason_offset = 0;
	p->prev_cr = false;
	p->quoted_eol = false;
	memset(&p->cur, 0, sizeof(p->cur));
	rec->first_line = p->line;

	for (;;)
	{
		char		c;

		if (p->pos >= p->len)
		{
			int			r = fill(p);

			if (r < 0)
				return CSV_ERROR;
			if (r > 0)
				continue;

			/* end of input */
			{
				uint64_t	end_abs = p->buf_offset + p->pos;
				size_t		raw_len = (size_t) (end_abs - p->rec_abs);

				if (raw_len == 0 && p->nfields == 0 && p->state == ST_FIELD_START)
					return CSV_EOF;
				switch (p->state)
				{
					case ST_QUOTED:
						if (p->reason == CSV_REASON_NONE ||
							p->reason == CSV_REASON_TEXT_AFTER_QUOTE)
						{
							p->reason = CSV_REASON_UNTERMINATED_QUOTE;
							p->reason_offset = p->cur.start ? p->cur.start - 1 : 0;
						}
						p->cur.len = POS_REL(p) - p->cur.start;
						break;
					case ST_QUOTE_SEEN:
						p->cur.len = POS_REL(p) - 1 - p->cur.start;
						break;
					case ST_UNQUOTED:
						p->cur.len = POS_REL(p) - p->cur.start;
						break;
					case ST_AFTER_QUOTE:
						break;
					case ST_FIELD_START:
						p->cur.start = POS_REL(p);
						p->cur.len = 0;
						p->cur.quoted = false;
						break;
				}
				if (!push_field(p))
					return CSV_ERROR;
				/*
				 * A quoted field left open may end with the line break of
				 * the file's last line: the record ends on that line.
				 */
				return finish_record(p, rec, raw_len, end_abs,
									 p->state == ST_QUOTED && p->quoted_eol ?
									 p->line - 1 : p->line);
			}
		}

		c = p->buf[p->pos];
		switch (p->state)
		{
			case ST_FIELD_START:
				if (c == quote)
				{
					p->pos++;
					p->cur.start = POS_REL(p);
					p->cur.quoted = true;
					p->cur.escaped = false;
					p->state = ST_QUOTED;
				}
				else if (c == delim)
				{
					p->cur.start = POS_REL(p);
					p->cur.len = 0;
					p->cur.quoted = false;
					p->cur.escaped = false;
					if (!push_field(p))
						return CSV_ERROR;
					p->pos++;
				}
				else if (c == '\n' || c == '\r')
				{
					if (p->nfields == 0 && p->buf_offset + p->pos == p->rec_abs)
					{
						/* a blank line: not a record */
						p->pos++;
						p->line++;
						if (c == '\r')
							p->pending_lf = true;
						goto next_record;
					}
					p->cur.start = POS_REL(p);
					p->cur.len = 0;
					p->cur.quoted = false;
					p->cur.escaped = false;
					if (!push_field(p))
						return CSV_ERROR;
					goto end_of_record;
				}
				else
				{
					p->cur.start = POS_REL(p);
					p->cur.quoted = false;
					p->cur.escaped = false;
					p->state = ST_UNQUOTED;
					p->pos++;
				}
				break;

			case ST_UNQUOTED:
				{
					const char *b = p->buf;
					size_t		pos = p->pos;
					size_t		len = p->len;

					while (pos < len)
					{
						c = b[pos];
						if (c == delim || c == '\n' || c == '\r')
							break;
						pos++;
					}
					p->pos = pos;
					if (pos >= len)
						break;	/* need more input */
					p->cur.len = POS_REL(p) - p->cur.start;
					if (!push_field(p))
						return CSV_ERROR;
					if (c == delim)
					{
						p->pos++;
						p->state = ST_FIELD_START;
						break;
					}
					goto end_of_record;
				}

			case ST_QUOTED:
				{
					const char *b = p->buf;
					size_t		pos = p->pos;
					size_t		len = p->len;

					while (pos < len)
					{
						c = b[pos];
						if (c == quote)
							break;
						if (c == '\n')
						{
							if (!p->prev_cr)
								p->line++;
							p->prev_cr = false;
							p->quoted_eol = true;
						}
						else if (c == '\r')
						{
							p->line++;
							p->prev_cr = true;
							p->quoted_eol = true;
						}
						else
						{
							p->prev_cr = false;
							p->quoted_eol = false;
						}
						pos++;
					}
					p->pos = pos;
					if (pos >= len)
						break;	/* need more input */
					p->prev_cr = false;
					p->quoted_eol = false;
					p->pos++;
					p->state = ST_QUOTE_SEEN;
					break;
				}

			case ST_QUOTE_SEEN:
				if (c == quote)
				{
					/* "" inside quotes: one literal quote */
					p->cur.escaped = true;
					p->pos++;
					p->state = ST_QUOTED;
				}
				else
				{
					p->cur.len = POS_REL(p) - 1 - p->cur.start;
					p->state = ST_AFTER_QUOTE;
				}
				break;

			case ST_AFTER_QUOTE:
				if (c == delim)
				{
					if (!push_field(p))
						return CSV_ERROR;
					p->pos++;
					p->state = ST_FIELD_START;
				}
				else if (c == '\n' || c == '\r')
				{
					if (!push_field(p))
						return CSV_ERROR;
					goto end_of_record;
				}
				else if (c == ' ' || c == '\t')
					p->pos++;
				else
				{
					/* "abc"x: not CSV; read on to the end of the record */
					set_reason(p, CSV_REASON_TEXT_AFTER_QUOTE);
					p->cur.quoted = false;
					p->state = ST_UNQUOTED;
				}
				break;
		}
	}

end_of_record:
	{
		/* p->pos is at the CR or LF that ends the record */
		uint64_t	term_abs = p->buf_offset + p->pos;
		size_t		raw_len = (size_t) (term_abs - p->rec_abs);
		uint64_t	last_line = p->line;

		if (p->buf[p->pos] == '\r')
			p->pending_lf = true;
		p->pos++;
		p->line++;
		return finish_record(p, rec, raw_len, term_abs + 1, last_line);
	}
}

/* Is c an ASCII blank that header matching ignores? */
static inline bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static inline char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char) (c + ('a' - 'A')) : c;
}

/* Drop the blanks around *s (of *len bytes). */
static inline void
trim_blanks(const char **s, size_t *len)
{
	while (*len > 0 && is_blank((*s)[0]))
		(*s)++, (*len)--;
	while (*len > 0 && is_blank((*s)[*len - 1]))
		(*len)--;
}

size_t
gf_csv_header_key(const char *name, size_t len, char *out)
{
	trim_blanks(&name, &len);
	for (size_t k = 0; k < len; k++)
		out[k] = ascii_lower(name[k]);
	return len;
}

long
gf_csv_header_find(const CsvRecord *header, const char *name, size_t name_len)
{
	long		found = -1;

	trim_blanks(&name, &name_len);

	for (size_t i = 0; i < header->nstored; i++)
	{
		const char *h = header->fields[i].data;
		size_t		hl = header->fields[i].len;
		size_t		k;

		trim_blanks(&h, &hl);
		if (hl != name_len)
			continue;
		for (k = 0; k < hl; k++)
			if (ascii_lower(h[k]) != ascii_lower(name[k]))
				break;
		if (k < hl)
			continue;
		if (found >= 0)
			return -2;
		found = (long) i;
	}
	return found;
}
