/*-------------------------------------------------------------------------
 *
 * read_csv.c
 *	  SQL functions over the CSV reader: gridflow.read_csv(),
 *	  gridflow.read_csv_header() and gridflow.csv_fields().
 *
 * read_csv() uses materialize mode: the whole file is streamed into the
 * tuplestore within one call (which spills to disk past work_mem), so the
 * file is never left open by a caller that stops early.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "gridflow.h"

PG_FUNCTION_INFO_V1(gridflow_read_csv);
PG_FUNCTION_INFO_V1(gridflow_read_csv_header);
PG_FUNCTION_INFO_V1(gridflow_csv_fields);

/* Delimiter and quote arguments, with their defaults. */
static void
get_dialect(FunctionCallInfo fcinfo, int darg, int qarg, char *delimiter, char *quote)
{
	*delimiter = PG_ARGISNULL(darg) ? ',' :
		gf_single_char_arg(PG_GETARG_TEXT_PP(darg), "delimiter");
	*quote = PG_ARGISNULL(qarg) ? '"' :
		gf_single_char_arg(PG_GETARG_TEXT_PP(qarg), "quote");
	if (*delimiter == *quote)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("delimiter and quote must be different")));
}

/* A text[] of the given fields; unquoted empty fields are NULL. */
static ArrayType *
fields_array(const CsvField *fields, int n, const int *pick, int npick)
{
	Datum	   *elems;
	bool	   *nulls;
	int			dims[1];
	int			lbs[1] = {1};

	elems = palloc(sizeof(Datum) * Max(npick, 1));
	nulls = palloc(sizeof(bool) * Max(npick, 1));
	for (int i = 0; i < npick; i++)
	{
		const CsvField *f = &fields[pick ? pick[i] : i];

		CHECK_FOR_INTERRUPTS();
		nulls[i] = (f->len == 0 && !f->quoted);
		elems[i] = nulls[i] ? (Datum) 0 :
			PointerGetDatum(cstring_to_text_with_len(f->data, (int) f->len));
	}
	dims[0] = npick;
	(void) n;
	return construct_md_array(elems, nulls, 1, dims, lbs, TEXTOID, -1, false,
							  TYPALIGN_INT);
}

/* Human-readable reason of a reject, prefixed by its code. */
static char *
reject_reason(const CsvRecord *rec, size_t expected)
{
	if (rec->reason == CSV_REASON_FIELD_COUNT)
		return psprintf("%s: %zu fields where the header has %zu",
						gf_csv_reason_code(rec->reason), rec->nfields, expected);
	if (rec->reason == CSV_REASON_TOO_LONG)
		return psprintf("%s: " UINT64_FORMAT " bytes, more than gridflow.max_record_bytes (%d)",
						gf_csv_reason_code(rec->reason), rec->raw_total, gf_max_record_bytes);
	return psprintf("%s: %s at byte " UINT64_FORMAT " of the record",
					gf_csv_reason_code(rec->reason), gf_csv_reason_text(rec->reason),
					rec->reason_offset);
}

/*
 * SQL: gridflow.read_csv(path, columns, delimiter, quote)
 *		RETURNS SETOF (line_no, fields, reject_reason, record)
 */
Datum
gridflow_read_csv(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *path;
	char		delimiter,
				quote;
	GfReader   *r;
	int		   *pick = NULL;
	int			npick = 0;
	MemoryContext rowcxt;
	MemoryContext old;
	CsvRecord	rec;
	CsvStatus	st;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("path must not be NULL")));
	path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	get_dialect(fcinfo, 2, 3, &delimiter, &quote);
	gf_check_database_encoding();

	InitMaterializedSRF(fcinfo, 0);

	r = gf_reader_open(path, delimiter, quote);
	if (!gf_reader_read_header(r) && PG_ARGISNULL(1))
	{
		gf_reader_close(r);
		return (Datum) 0;
	}

	if (PG_ARGISNULL(1))
		npick = (int) r->header.nstored;
	else
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
		Datum	   *names;
		bool	   *nulls;

		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
						  &names, &nulls, &npick);
		pick = palloc(sizeof(int) * Max(npick, 1));
		for (int i = 0; i < npick; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("column names must not be NULL")));
			/* an ERROR for a file without header, too */
			pick[i] = gf_reader_column(r, TextDatumGetCString(names[i]));
		}
	}

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow read_csv row",
								   ALLOCSET_DEFAULT_SIZES);
	while ((st = gf_reader_next(r, &rec)) != CSV_EOF)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		old = MemoryContextSwitchTo(rowcxt);
		values[0] = Int64GetDatum((int64) rec.first_line);
		if (st == CSV_RECORD)
		{
			values[1] = PointerGetDatum(fields_array(rec.fields, (int) rec.nstored,
													 pick, npick));
			nulls[2] = true;
			values[3] = PointerGetDatum(cstring_to_text_with_len(rec.raw, (int) rec.raw_len));
		}
		else
		{
			nulls[1] = true;
			values[2] = CStringGetTextDatum(reject_reason(&rec, r->header.nfields));
			values[3] = CStringGetTextDatum(gf_reject_text(rec.raw, rec.raw_len,
														   (size_t) gf_reject_record_bytes));
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	MemoryContextDelete(rowcxt);
	gf_reader_close(r);
	return (Datum) 0;
}

/* SQL: gridflow.read_csv_header(path, delimiter, quote) RETURNS text[] */
Datum
gridflow_read_csv_header(PG_FUNCTION_ARGS)
{
	char	   *path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char		delimiter,
				quote;
	GfReader   *r;
	ArrayType  *result = NULL;

	get_dialect(fcinfo, 1, 2, &delimiter, &quote);
	gf_check_database_encoding();
	r = gf_reader_open(path, delimiter, quote);
	if (gf_reader_read_header(r))
	{
		Datum	   *elems = palloc(sizeof(Datum) * Max(r->header.nstored, 1));

		for (size_t i = 0; i < r->header.nstored; i++)
		{
			CHECK_FOR_INTERRUPTS();
			elems[i] = PointerGetDatum(cstring_to_text_with_len(r->header.fields[i].data,
																(int) r->header.fields[i].len));
		}
		result = construct_array(elems, (int) r->header.nstored, TEXTOID, -1,
								 false, TYPALIGN_INT);
	}
	gf_reader_close(r);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(result);
}

typedef struct MemSource
{
	const char *data;
	size_t		len;
	size_t		pos;
} MemSource;

/* Read callback over a text, a chunk at a time (interrupts are served between chunks). */
#define MEM_READ_SIZE (1024 * 1024)

static long
mem_read(void *ctx, char *buf, size_t size)
{
	MemSource  *m = ctx;
	size_t		n = Min(size, m->len - m->pos);

	CHECK_FOR_INTERRUPTS();

	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return (long) n;
}

static void *
mem_alloc(void *ctx, size_t size)
{
	return MemoryContextAllocHuge(CurrentMemoryContext, size);
}

static void *
mem_realloc(void *ctx, void *ptr, size_t size)
{
	return repalloc_huge(ptr, size);
}

static void
mem_free(void *ctx, void *ptr)
{
	pfree(ptr);
}

/* SQL: gridflow.csv_fields(record, delimiter, quote) RETURNS text[] */
Datum
gridflow_csv_fields(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	char		delimiter,
				quote;
	MemSource	src;
	CsvOptions	opts;
	CsvAllocator alloc = {mem_alloc, mem_realloc, mem_free, NULL};
	CsvParser  *p;
	CsvRecord	rec;
	CsvRecord	extra;
	CsvStatus	st;
	ArrayType  *result;

	get_dialect(fcinfo, 1, 2, &delimiter, &quote);
	src.data = VARDATA_ANY(t);
	src.len = VARSIZE_ANY_EXHDR(t);
	src.pos = 0;
	gf_csv_options_init(&opts);
	opts.delimiter = delimiter;
	opts.quote = quote;
	opts.read_size = Min(src.len + 16, MEM_READ_SIZE);
	opts.max_record_bytes = src.len + 1;

	/*
	 * The fields are cut from the text at ASCII bytes, so they are as valid
	 * in the database's encoding as the text is; in a SQL_ASCII database,
	 * which takes any bytes, the text must be UTF-8, as gridflow's text is.
	 */
	opts.validate_utf8 = (GetDatabaseEncoding() == PG_UTF8 ||
						  GetDatabaseEncoding() == PG_SQL_ASCII);
	p = gf_csv_parser_create(&opts, mem_read, &src, &alloc);

	st = gf_csv_next(p, &rec);
	if (st == CSV_EOF)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(TEXTOID));
	if (st == CSV_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("could not split CSV record")));
	if (st == CSV_REJECT)
		ereport(ERROR,
				(errcode(rec.reason == CSV_REASON_INVALID_UTF8 ?
						 ERRCODE_CHARACTER_NOT_IN_REPERTOIRE :
						 ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid CSV record: %s", gf_csv_reason_text(rec.reason)),
				 errdetail("At byte " UINT64_FORMAT " of the record.", rec.reason_offset + 1)));
	result = fields_array(rec.fields, (int) rec.nstored, NULL, (int) rec.nstored);
	if (gf_csv_next(p, &extra) != CSV_EOF)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("text holds more than one CSV record"),
				 errhint("Quote fields that contain line breaks.")));
	gf_csv_parser_free(p);
	PG_RETURN_ARRAYTYPE_P(result);
}
