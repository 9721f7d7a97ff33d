/*-------------------------------------------------------------------------
 *
 * reader.c
 *	  CSV files on the server: opening (once access.c has checked the
 *	  caller), streaming through the tokenizer, header matching and the
 *	  error context.
 *
 * Files are opened with OpenTransientFile(), so they are closed if the
 * transaction aborts, and all memory lives in one context per reader.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cryptohash.h"
#include "common/pg_prng.h"
#include "common/sha2.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/wait_event.h"

#include "gridflow.h"
#include "keytable.h"

#define GF_READ_SIZE (1024 * 1024)

static void *
gf_csv_alloc(void *ctx, size_t size)
{
	return MemoryContextAllocHuge((MemoryContext) ctx, size);
}

static void *
gf_csv_realloc(void *ctx, void *ptr, size_t size)
{
	return repalloc_huge(ptr, size);
}

static void
gf_csv_free(void *ctx, void *ptr)
{
	pfree(ptr);
}

/*
 * Up to size bytes of the file, counted and added to its SHA-256: the
 * number read, 0 at its end, or -1 (errno set) when it cannot be read.
 * Raises no ERROR, so that a parser of another library may call it (a
 * Green Button file's XML parser, espi.c).
 */
long
gf_reader_read_raw(GfReader *r, char *buf, size_t size)
{
	ssize_t		n;

	if (size > GF_READ_SIZE)
		size = GF_READ_SIZE;
	do
	{
		pgstat_report_wait_start(WAIT_EVENT_COPY_FILE_READ);
		n = read(r->fd, buf, size);
		pgstat_report_wait_end();
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	r->bytes_read += n;
	if (n > 0 && pg_cryptohash_update(r->sha256, (const uint8 *) buf, (size_t) n) < 0)
	{
		errno = EIO;
		return -1;
	}
	return (long) n;
}

/* Read callback of the tokenizer: the file, a chunk at a time. */
static long
gf_csv_read(void *ctx, char *buf, size_t size)
{
	GfReader   *r = (GfReader *) ctx;
	long		n;

	/* errors from here on are about the record being scanned */
	if (r->parser != NULL)
		r->cur_line = gf_csv_record_line(r->parser);
	CHECK_FOR_INTERRUPTS();
	if (r->source != NULL)
		return r->source(r->source_ctx, buf, size);
	n = gf_reader_read_raw(r, buf, size);
	if (n < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", r->path)));
	return n;
}

/* Error context: which file and line was being read. */
static void
gf_reader_error_callback(void *arg)
{
	GfReader   *r = (GfReader *) arg;

	if (r->cur_column)
		errcontext("gridflow file \"%s\", line " UINT64_FORMAT ", column \"%s\"",
				   r->path, r->cur_line, r->cur_column);
	else if (r->cur_line > 0)
		errcontext("gridflow file \"%s\", line " UINT64_FORMAT,
				   r->path, r->cur_line);
	else
		errcontext("gridflow file \"%s\"", r->path);
}

/*
 * Open a file on the server for reading, once the calling role's rights are
 * checked (access.c).  Only regular files are opened: a FIFO, a socket or a
 * device is refused before it is opened, and the file is opened
 * non-blocking, without following a final symbolic link, and checked
 * again, in case something else was swapped in between.
 */
static int
open_regular_file(const char *path, struct stat *fst)
{
	struct stat st;
	char	   *resolved;
	int			fd;

	resolved = gf_check_file_access(path);

	if (stat(resolved, &st) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));
	if (!S_ISREG(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a regular file", path),
				 errdetail("It is %s.", gf_file_type_name(st.st_mode)),
				 errhint("gridflow reads only regular files.")));

	fd = OpenTransientFile(resolved, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));
	if (fstat(fd, fst) < 0 || !S_ISREG(fst->st_mode))
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a regular file", path),
				 errhint("gridflow reads only regular files.")));
	}
	gf_check_opened_file(fd, path);
	return fd;
}

/* Open a CSV file on the server for streaming (see open_regular_file()). */
GfReader *
gf_reader_open(const char *path, char delimiter, char quote)
{
	GfReader   *r;
	struct stat fst;
	CsvOptions	opts;
	CsvAllocator alloc;
	int			fd;

	fd = open_regular_file(path, &fst);

	r = palloc0(sizeof(GfReader));
	r->path = pstrdup(path);
	r->fd = fd;
	r->size_at_open = fst.st_size;
	r->cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow reader",
								   ALLOCSET_DEFAULT_SIZES);
	r->sha256 = pg_cryptohash_create(PG_SHA256);
	if (r->sha256 == NULL || pg_cryptohash_init(r->sha256) < 0)
		elog(ERROR, "gridflow: could not start a SHA-256 computation");

	gf_csv_options_init(&opts);
	opts.delimiter = delimiter;
	opts.quote = quote;
	opts.read_size = GF_READ_SIZE;
	opts.max_record_bytes = (size_t) gf_max_record_bytes;
	opts.reject_keep_bytes = (size_t) gf_reject_record_bytes + 16;
	opts.validate_utf8 = true;
	alloc.alloc = gf_csv_alloc;
	alloc.realloc = gf_csv_realloc;
	alloc.free = gf_csv_free;
	alloc.ctx = r->cxt;
	r->parser = gf_csv_parser_create(&opts, gf_csv_read, r, &alloc);

	r->errcb.callback = gf_reader_error_callback;
	r->errcb.arg = r;
	r->errcb.previous = error_context_stack;
	error_context_stack = &r->errcb;
	return r;
}

/* Turn a tokenizer error into an ERROR. */
static void
gf_reader_fail(GfReader *r)
{
	switch (gf_csv_error(r->parser))
	{
		case CSV_ERROR_UTF16:
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("file \"%s\" is encoded in UTF-16", r->path),
					 errdetail("It starts with a UTF-16 byte-order mark."),
					 errhint("Convert the file to UTF-8, for example with iconv -f UTF-16 -t UTF-8.")));
			break;
		case CSV_ERROR_NOMEM:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory while reading file \"%s\"", r->path)));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_IO_ERROR),
					 errmsg("could not read file \"%s\"", r->path)));
	}
}

/*
 * Read the header record.  Returns false for a file with no record at all.
 * From here on, records with another field count are rejected.
 */
bool
gf_reader_read_header(GfReader *r)
{
	CsvRecord	rec;
	CsvStatus	st;
	MemoryContext old;
	CsvField   *fields;

	st = gf_csv_next(r->parser, &rec);
	if (st == CSV_ERROR)
		gf_reader_fail(r);
	if (st == CSV_EOF)
	{
		r->cur_line = 0;		/* no line to point at */
		return false;
	}
	r->cur_line = rec.first_line;
	if (st == CSV_REJECT && rec.reason == CSV_REASON_TOO_MANY_FIELDS)
	{
		CsvOptions	defaults;

		gf_csv_options_init(&defaults);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("header of file \"%s\" is not a valid CSV record", r->path),
				 errdetail("It has %zu fields, more than the %zu a record may have.",
						   rec.nfields, defaults.max_fields)));
	}
	if (st == CSV_REJECT)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("header of file \"%s\" is not a valid CSV record", r->path),
				 errdetail("Line " UINT64_FORMAT ", byte " UINT64_FORMAT " of the record: %s.",
						   rec.first_line, rec.reason_offset,
						   gf_csv_reason_text(rec.reason))));

	old = MemoryContextSwitchTo(r->cxt);
	r->header = rec;
	fields = palloc(sizeof(CsvField) * Max(rec.nstored, 1));
	for (size_t i = 0; i < rec.nstored; i++)
	{
		CHECK_FOR_INTERRUPTS();
		fields[i].data = pnstrdup(rec.fields[i].data, rec.fields[i].len);
		fields[i].len = rec.fields[i].len;
		fields[i].quoted = rec.fields[i].quoted;
	}
	r->header.fields = fields;
	r->header.raw = NULL;
	r->header.raw_len = 0;
	MemoryContextSwitchTo(old);
	r->have_header = true;
	gf_csv_set_expected_fields(r->parser, rec.nfields);
	return true;
}

/* The header as a comma-separated list, for messages. */
static char *
header_list(GfReader *r)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (size_t i = 0; i < r->header.nstored && buf.len < 1000; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", r->header.fields[i].data);
	return buf.data;
}

/*
 * The header's fields by the key header matching compares
 * (gf_csv_header_key()), built on the first look-up, so that each look-up
 * costs the length of its name: matching a layout of n columns costs the
 * header's size plus the names' size, not their product.  The payload is
 * the field's index, or -2 when more than one field has the key.  The hash
 * is seeded at random per reader, so that no header can be written whose
 * names all fall into one chain of the table.
 */
static void
index_header(GfReader *r)
{
	MemoryContext old = MemoryContextSwitchTo(r->cxt);
	size_t		longest = 1;
	char	   *key;

	for (size_t i = 0; i < r->header.nstored; i++)
		longest = Max(longest, r->header.fields[i].len);
	key = palloc(longest);
	r->header_seed = pg_prng_uint64(&pg_global_prng_state);
	r->header_index = gf_keytable_create(r->cxt, (uint32) r->header.nstored, sizeof(int32));
	for (size_t i = 0; i < r->header.nstored; i++)
	{
		size_t		len;
		int32	   *slot;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		len = gf_csv_header_key(r->header.fields[i].data, r->header.fields[i].len, key);
		slot = gf_keytable_find(r->header_index, key, (uint32) len,
								gf_key_hash_seeded(key, (uint32) len, r->header_seed),
								true, &found);
		*slot = found ? -2 : (int32) i;
	}
	pfree(key);
	MemoryContextSwitchTo(old);
}

/*
 * Index of the named column in the header; an ERROR if absent or ambiguous.
 * Names are matched ASCII-case-insensitively, ignoring surrounding blanks.
 */
int
gf_reader_column(GfReader *r, const char *name)
{
	long		idx;
	size_t		len = strlen(name);
	char	   *key;
	int32	   *slot;

	CHECK_FOR_INTERRUPTS();
	if (!r->have_header)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("file \"%s\" is empty", r->path),
				 errdetail("The file has no header line, so column \"%s\" cannot be found.", name)));
	if (r->header_index == NULL)
		index_header(r);
	key = palloc(Max(len, 1));
	len = gf_csv_header_key(name, len, key);
	slot = gf_keytable_find(r->header_index, key, (uint32) len,
							gf_key_hash_seeded(key, (uint32) len, r->header_seed),
							false, NULL);
	pfree(key);
	idx = slot ? *slot : -1;
	if (idx == -1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" not found in header of file \"%s\"", name, r->path),
				 errdetail("The header has: %s.", header_list(r)),
				 errhint("Header names are matched case-insensitively, ignoring surrounding blanks.")));
	if (idx == -2)
		ereport(ERROR,
				(errcode(ERRCODE_AMBIGUOUS_COLUMN),
				 errmsg("column \"%s\" appears more than once in header of file \"%s\"", name, r->path),
				 errdetail("The header has: %s.", header_list(r))));
	return (int) idx;
}

/* Next record or reject; CSV_EOF at the end. */
CsvStatus
gf_reader_next(GfReader *r, CsvRecord *rec)
{
	CsvStatus	st;

	CHECK_FOR_INTERRUPTS();
	st = gf_csv_next(r->parser, rec);
	if (st == CSV_ERROR)
		gf_reader_fail(r);
	if (st != CSV_EOF)
		r->cur_line = rec->first_line;
	return st;
}

/* Close the file; warn if it changed size while it was read. */
void
gf_reader_close(GfReader *r)
{
	struct stat st;

	if (fstat(r->fd, &st) == 0 &&
		(st.st_size != r->size_at_open || (off_t) r->bytes_read != st.st_size))
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("file \"%s\" changed size while it was read", r->path),
				 errdetail("It had %lld bytes when opened, %lld bytes now; %llu bytes were read.",
						   (long long) r->size_at_open, (long long) st.st_size,
						   (unsigned long long) r->bytes_read)));
	if (error_context_stack == &r->errcb)
		error_context_stack = r->errcb.previous;
	if (pg_cryptohash_final(r->sha256, r->sha256_digest, sizeof(r->sha256_digest)) < 0)
		elog(ERROR, "gridflow: could not compute the SHA-256 of \"%s\"", r->path);
	pg_cryptohash_free(r->sha256);
	r->sha256 = NULL;
	CloseTransientFile(r->fd);
	r->fd = -1;
	MemoryContextDelete(r->cxt);
}

/*
 * Text of a rejected record for storage: at most cap bytes, cut at a
 * character boundary; bytes that are not UTF-8 (and zero bytes) are shown
 * as \xNN.
 */
char *
gf_reject_text(const char *raw, size_t len, size_t cap)
{
	StringInfoData buf;
	size_t		i = 0;

	initStringInfo(&buf);
	while (i < len && (size_t) buf.len < cap)
	{
		bool		nul;
		size_t		ok = gf_csv_utf8_check(raw + i, len - i, &nul);

		if (ok > 0)
		{
			size_t		n = Min(ok, cap - (size_t) buf.len);

			/* do not cut a multi-byte character */
			while (n > 0 && n < ok && ((unsigned char) raw[i + n] & 0xC0) == 0x80)
				n--;
			if (n == 0)
				break;
			appendBinaryStringInfo(&buf, raw + i, (int) n);
			i += n;
			if (n < ok)
				break;
			continue;
		}
		appendStringInfo(&buf, "\\x%02X", (unsigned char) raw[i]);
		i++;
	}
	return buf.data;
}

/*
 * Is s (of len bytes) a delimiter or quote the tokenizer can split on: one
 * ASCII character other than a line break?  The tokenizer compares bytes,
 * and a byte of 0x80 or above is never a whole UTF-8 character (the first
 * byte of 'é' is 0xC3): records split on it would be cut inside
 * characters.
 */
static bool
dialect_byte_ok(const char *s, size_t len)
{
	return len == 1 && s[0] != '\0' && s[0] != '\n' && s[0] != '\r' &&
		(unsigned char) s[0] < 0x80;
}

/* What is wrong with a delimiter or quote that dialect_byte_ok() refuses. */
static int
dialect_errdetail(const char *s, size_t len)
{
	if (len != 1)
		return errdetail_plural("It has %zu byte.", "It has %zu bytes.", len, len);
	if (s[0] == '\n' || s[0] == '\r')
		return errdetail("It is a line break.");
	return errdetail("It is the byte 0x%02X, which is not an ASCII character.",
					 (unsigned char) s[0]);
}

#define GF_DIALECT_HINT "A delimiter or quote is one ASCII character other than a line break, such as , ; | or a tab."

/* A delimiter or quote argument of a function. */
char
gf_single_char_arg(text *t, const char *what)
{
	const char *s = VARDATA_ANY(t);
	size_t		len = VARSIZE_ANY_EXHDR(t);

	if (!dialect_byte_ok(s, len))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a single ASCII character other than a line break", what),
				 dialect_errdetail(s, len),
				 errhint(GF_DIALECT_HINT)));
	return s[0];
}

/*
 * The delimiter or quote of a configured file (gridflow.source_file).  Its
 * CHECK constraint holds it to one ASCII byte already; the build checks
 * again rather than trust a constraint that the table's owner can drop.
 */
char
gf_file_dialect_byte(const char *s, const char *what, const char *kind,
					 const char *utility_id)
{
	size_t		len = strlen(s);

	if (!dialect_byte_ok(s, len))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of the %s file of utility \"%s\" is not a single ASCII character",
						what, kind, utility_id),
				 dialect_errdetail(s, len),
				 errhint(GF_DIALECT_HINT)));
	return s[0];
}

/*
 * SHA-256 of a server file's bytes (checked and opened as gf_reader_open()
 * does), into digest[32].
 */
void
gf_file_sha256(const char *path, uint8 *digest)
{
	struct stat fst;
	int			fd = open_regular_file(path, &fst);
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	char	   *buf = palloc(GF_READ_SIZE);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "gridflow: could not start a SHA-256 computation");
	for (;;)
	{
		ssize_t		n;

		CHECK_FOR_INTERRUPTS();
		pgstat_report_wait_start(WAIT_EVENT_COPY_FILE_READ);
		n = read(fd, buf, GF_READ_SIZE);
		pgstat_report_wait_end();
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", path)));
		if (n == 0)
			break;
		if (pg_cryptohash_update(ctx, (const uint8 *) buf, (size_t) n) < 0)
			elog(ERROR, "gridflow: could not compute the SHA-256 of \"%s\"", path);
	}
	if (pg_cryptohash_final(ctx, digest, 32) < 0)
		elog(ERROR, "gridflow: could not compute the SHA-256 of \"%s\"", path);
	pg_cryptohash_free(ctx);
	CloseTransientFile(fd);
	pfree(buf);
}
