/*-------------------------------------------------------------------------
 *
 * gridflow.h
 *	  Declarations shared by gridflow's server-side modules.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GRIDFLOW_H
#define GRIDFLOW_H

#include "postgres.h"

#include <sys/types.h>

#include "access/tupdesc.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "pgtime.h"
#include "tcop/dest.h"
#include "utils/guc.h"

#include "csv.h"

/* settings (gridflow.c) */
extern int	gf_max_record_bytes;
extern int	gf_reject_record_bytes;
extern bool gf_progress;
extern int	gf_statistics_target;
extern int	gf_build_memory_kb;
extern char *gf_allowed_directories;

/* gridflow.c */
extern void gf_sample_dir(char *buf, size_t size);
extern void gf_check_database_encoding(void);

/*
 * access.c: who may read which server files; gridflow_build() running as
 * the owner of the extension once its caller is checked.
 */
typedef struct GfBuildSecurity
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	Oid			save_caller;
	Oid			save_owner;
} GfBuildSecurity;

extern void gf_access_init(void);
extern Oid	gf_calling_role(void);
extern bool gf_check_allowed_directories(char **newval, void **extra, GucSource source);
extern const char *gf_file_type_name(mode_t mode);
extern char *gf_check_file_access(const char *path);
extern char *gf_check_directory_access(const char *path);
extern void gf_check_opened_file(int fd, const char *path);
extern void gf_build_enter(const char *drop_dir, GfBuildSecurity *s);
extern void gf_build_leave(GfBuildSecurity *s);

/*
 * reader.c: a CSV file on the server, opened with the caller's rights
 * checked, streamed through the tokenizer.
 */
typedef struct GfReader
{
	char	   *path;
	int			fd;
	CsvParser  *parser;
	MemoryContext cxt;
	off_t		size_at_open;
	uint64		bytes_read;
	CsvRecord	header;			/* copy of the header record */
	bool		have_header;
	uint64		cur_line;		/* for the error context */
	const char *cur_column;
	ErrorContextCallback errcb;
} GfReader;

extern GfReader *gf_reader_open(const char *path, char delimiter, char quote);
extern bool gf_reader_read_header(GfReader *r);
extern int	gf_reader_column(GfReader *r, const char *name);
extern CsvStatus gf_reader_next(GfReader *r, CsvRecord *rec);
extern void gf_reader_close(GfReader *r);
extern char *gf_reject_text(const char *raw, size_t len, size_t cap);
extern char gf_single_char_arg(text *t, const char *what);

/*
 * bulk.c: bulk heap writes (as COPY does), index maintenance deferred to
 * gf_reindex().
 */
typedef struct GfBulk GfBulk;

extern Oid	gf_relation_oid(const char *schema, const char *relname);
extern GfBulk *gf_bulk_begin(Oid relid);
extern TupleDesc gf_bulk_tupdesc(GfBulk *b);
extern MemoryContext gf_bulk_memory(GfBulk *b);
extern TupleTableSlot *gf_bulk_slot(GfBulk *b);
extern void gf_bulk_store(GfBulk *b, Size bytes);
extern void gf_bulk_flush(GfBulk *b);
extern uint64 gf_bulk_end(GfBulk *b);
extern void gf_reindex(Oid relid);
extern int	gf_attnum(TupleDesc desc, const char *name, bool missing_ok);

/* load.c: one source file into landing and standardized */
typedef enum GfFileKind
{
	GF_KIND_SERVICE_POINT,
	GF_KIND_METER,
	GF_KIND_INTERVAL,
	GF_KIND_ASSIGNMENT			/* meter-to-service-point rows */
} GfFileKind;

typedef enum GfDedupPolicy
{
	GF_KEEP_FIRST,
	GF_KEEP_LAST,
	GF_SUM
} GfDedupPolicy;

typedef struct GfColumnMap
{
	char	   *target;
	char	   *source;
	char	   *format;
	int			nnulls;
	char	  **nulls;
} GfColumnMap;

/* wall-clock hour -> UTC offset, for local timestamps */
#define GF_TZ_CACHE 512

typedef struct GfTzCache
{
	int64		hour[GF_TZ_CACHE];
	int32		offset[GF_TZ_CACHE];
} GfTzCache;

typedef struct GfMeterMap GfMeterMap;
struct GfKeyTable;

/*
 * What the dedup keeps of each key: the kept row as a minimal tuple of the
 * standardized table, its lineage and the statistics of its duplicates.
 */
typedef struct GfDedupRow
{
	MinimalTuple tuple;
	uint32		tuple_cap;
	int32		source_rows;
	int32		conflicting_rows;
	bool		first_value_null;
	bool		value_sum_any;
	int64		line_no;
	double		first_value;
	double		value_sum;
} GfDedupRow;

/* The standardized rows of one file, kept for look-ups by key. */
typedef struct GfKept
{
	struct GfKeyTable *keys;	/* payload: GfDedupRow */
	TupleDesc	desc;			/* of the standardized table */
} GfKept;

typedef struct GfUtility
{
	char	   *utility_id;
	char	   *time_zone;
	pg_tz	   *tz;
	bool		sp_via_meter;
	bool		effective_dated;
	GfDedupPolicy policy;
	Datum		utility_datum;	/* utility_id as text, for every row */
	GfTzCache  *tzcache;		/* local wall hour -> offset */
	GfTzCache  *utccache;		/* UTC hour -> offset */
	GfMeterMap *meters;			/* from its meter file, when sp_via_meter */
	GfKept	   *kept_service_points;	/* for product rows */
	GfKept	   *kept_meters;
	MemoryContext cxt;			/* lives while the utility is built */
	struct GfUtilityAdapt *adapt;	/* adapt.h */
} GfUtility;

typedef struct GfSourceFile
{
	GfFileKind	kind;
	char	   *path;
	char		delimiter;
	char		quote;
	int			nmaps;
	GfColumnMap *maps;
	struct GfFileAdapt *adapt;	/* adapt.h */
} GfSourceFile;

typedef struct GfLoadStats
{
	int64		records_read;
	int64		records_rejected;
	int64		rows_invalid;
	int64		rows_duplicate;
	int64		rows_kept;
	int64		assignments;
	int64		file_bytes;
	List	   *header;			/* of char * */
	int			spilled_partitions;	/* reads partitioned to temporary files */
	double		read_ms;		/* reading, parsing, dedup, landing */
	double		write_ms;		/* writing the kept rows (reads: and their
								 * product rows and days) */
	int64		local_ambiguous;	/* records with a repeated local time */
	int64		local_nonexistent;	/* records with a skipped local time */
	bool		unpivoted;		/* a wide layout: */
	int64		unpivoted_reads;	/* the reads its records gave */
} GfLoadStats;

/* the writers a build keeps open across files */
typedef struct GfLoadTargets
{
	GfBulk	   *landing;		/* landing.source_chunk */
	GfBulk	   *reject;
	GfBulk	   *service_point;
	GfBulk	   *meter;
	GfBulk	   *assignment;
	GfBulk	   *interval;
	GfBulk	   *product;
	GfBulk	   *experience;
	uint64		experience_rows;
} GfLoadTargets;

/* landing.c: packing landed records into landing.source_chunk */
typedef struct GfChunkWriter
{
	GfBulk	   *bulk;
	int64		batch_id;
	StringInfoData buf;
	int32		records;
	int64		first_line;
	int64		last_line;
} GfChunkWriter;

extern void gf_chunk_begin(GfChunkWriter *w, GfBulk *bulk, int64 batch_id);
extern void gf_chunk_add(GfChunkWriter *w, int64 line, const char *raw, size_t len);
extern void gf_chunk_end(GfChunkWriter *w);

/* emit.c: product rows and daily usage from the kept reads of a utility */
typedef struct GfEmitter GfEmitter;

extern GfEmitter *gf_emit_begin(GfLoadTargets *t, GfUtility *u, TupleDesc interval_desc);
extern void gf_emit_read(GfEmitter *em, TupleTableSlot *read);
extern void gf_emit_flush(GfEmitter *em);
extern void gf_emit_end(GfEmitter *em);
extern void gf_encode_text_key(StringInfo buf, const char *s, uint32 len);
extern int	gf_bytes_cmp(const char *a, uint32 la, const char *b, uint32 lb);

extern const char *gf_kind_name(GfFileKind kind);
extern void gf_load_file(GfLoadTargets *t, GfUtility *u, GfSourceFile *f,
						 int64 batch_id, GfLoadStats *stats);

extern void gf_utility_init(GfUtility *u, MemoryContext cxt);
extern void gf_utility_done(GfUtility *u);

/* timestamps (load.c) */
extern TimestampTz gf_local_to_timestamptz(GfUtility *u, int64 wall_usec);
extern int32 gf_local_date(GfUtility *u, TimestampTz ts);	/* a DateADT */

#endif							/* GRIDFLOW_H */
