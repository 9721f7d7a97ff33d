/*-------------------------------------------------------------------------
 *
 * gridflow.h
 *	  Declarations shared by gridflow's server-side modules: the types of a
 *	  build, then each module's functions, under the name of the file that
 *	  defines them, in the order of the pipeline (csv -> reader -> landing
 *	  -> standardized -> product and experience -> the SQL functions).
 *
 * Some modules have headers of their own: csv.h, parse.h and fsum.h (free
 * of PostgreSQL), keytable.h, localtime.h, conform.h (units.c, wide.c,
 * conform.c), aggregates.h, and load.h (the modules of a load only).
 *
 *-------------------------------------------------------------------------
 */
#ifndef GRIDFLOW_H
#define GRIDFLOW_H

#include "postgres.h"

#include <sys/types.h>

#include "access/skey.h"
#include "access/tupdesc.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "pgtime.h"
#include "storage/lockdefs.h"
#include "tcop/dest.h"
#include "utils/guc.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

#include "csv.h"

struct ReturnSetInfo;
struct GfKeyTable;

/* ---------------------------------------------------------------------
 * Types
 * ---------------------------------------------------------------------
 */

/* the running build's switch to the extension owner (access.c) */
typedef struct GfBuildSecurity
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	Oid			save_caller;
	Oid			save_owner;
} GfBuildSecurity;

/* a CSV file on the server (reader.c) */
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
	struct GfKeyTable *header_index;	/* header by name, on first look-up */
	uint64		header_seed;	/* of the index's hash */
	uint64		cur_line;		/* for the error context */
	const char *cur_column;
	ErrorContextCallback errcb;
	struct pg_cryptohash_ctx *sha256;	/* of the bytes read so far */
	uint8		sha256_digest[32];	/* set by gf_reader_close() */
	/*
	 * Where the tokenizer's bytes come from when they are not the file's
	 * own (a Green Button file's readings, espi.c): source(source_ctx, buf,
	 * size), which reads the file with gf_reader_read_raw()
	 */
	long		(*source) (void *ctx, char *buf, size_t size);
	void	   *source_ctx;
} GfReader;

/* bulk heap writes (bulk.c) */
typedef struct GfBulk GfBulk;

/*
 * Routing of a partitioned table's rows to its leaves: key() maps a row
 * (its values by attribute) to a leaf key, leaf() gives the leaf of a key
 * (creating it if create, else InvalidOid when it does not exist).
 */
typedef struct GfRoute
{
	int64		(*key) (void *arg, const Datum *values, const bool *isnull);
	Oid			(*leaf) (void *arg, int64 key, bool create);
	void	   *arg;
} GfRoute;

/* the configuration of a build and what a load keeps (config.c, load.c) */
typedef enum GfFileKind
{
	GF_KIND_SERVICE_POINT,
	GF_KIND_METER,
	GF_KIND_INTERVAL,
	GF_KIND_ASSIGNMENT			/* meter-to-service-point rows */
} GfFileKind;

/* gridflow.source_file.file_kind of a kind */
static inline const char *
gf_kind_name(GfFileKind kind)
{
	switch (kind)
	{
		case GF_KIND_SERVICE_POINT:
			return "service_point";
		case GF_KIND_METER:
			return "meter";
		case GF_KIND_INTERVAL:
			return "interval";
		case GF_KIND_ASSIGNMENT:
			return "assignment";
	}
	return "unknown";
}

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

/* wall-clock hour -> UTC offset, for local timestamps (localtime.c) */
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
	bool		existing;		/* incremental: the row of an earlier batch */
	bool		changed;		/* ... whose kept values this load changed */
	int64		batch_id;		/* lineage of the kept record */
	int64		line_no;
	int64		last_batch_id;	/* latest batch with a record of the key */
	double		first_value;
	double		value_sum;
	ItemPointerData tid;		/* of the existing row */
} GfDedupRow;

/* The standardized rows of one file, kept for look-ups by key. */
typedef struct GfKept
{
	struct GfKeyTable *keys;	/* payload: GfDedupRow */
	TupleDesc	desc;			/* of the standardized table */
} GfKept;

/* where a utility's reads are built (gridflow.shard; distribute.c) */
typedef enum GfPlacement
{
	GF_PLACE_LOCAL,				/* here: reads, products and days */
	GF_PLACE_STAGED,			/* reads read here, staged for the shards that
								 * build them (hash of the service point) */
	GF_PLACE_REMOTE				/* read and built by its shard */
} GfPlacement;

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
	struct GfUtilityConform *conform;	/* conform.h */
	GfPlacement placement;		/* GF_PLACE_LOCAL but on a coordinator */
	/* the enabled read-level validation rules (gridflow.vee_rule) */
	bool		vee_off_grid;
	bool		vee_negative;
	bool		vee_ceiling;
	double		vee_ceiling_max;	/* ceiling: flagged at or above */
	/* the enabled series rules (0 or false: disabled) */
	bool		vee_gap;
	int32		vee_zero_run;	/* zero_run: min_intervals */
	int32		vee_flat_line;	/* flat_line: min_intervals */
	bool		vee_spike;
	double		vee_spike_ratio;
	double		vee_spike_floor;
	bool		vee_high_low;
	double		vee_high_low_low;
	double		vee_high_low_high;
	int32		vee_high_low_days;
	int32		vee_high_low_min_days;
	/* estimation (gridflow.vee_estimation; est_enabled false: none) */
	bool		est_enabled;
	int32		est_max_interpolation_seconds;	/* linear (code 9) up to this gap */
	int32		est_max_reference_seconds;	/* reference days (code 8) up to this */
	int32		est_reference_days;
	int32		est_reference_weeks;
	int64		est_longest_gap_seconds;	/* the longest gap estimated (0: off) */
	/*
	 * the reads' quality holds ESPI QualityOfReading codes (quality_scheme
	 * espi): the codes of gridflow.quality_code that product rows carry
	 * (gf_quality_code)
	 */
	bool		quality_espi;
	int			nquality_codes;
	int16	   *quality_codes;
} GfUtility;

typedef struct GfSourceFile
{
	GfFileKind	kind;
	char	   *rel_path;		/* as configured, below a drop directory */
	char	   *path;
	char		delimiter;
	char		quote;
	bool		espi;			/* layout espi: a Green Button file (espi.c) */
	int			nmaps;
	GfColumnMap *maps;
	struct GfFileConform *conform;	/* conform.h */
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
	int64		rows_matched;	/* rows of earlier batches its records matched */
	int64		rows_replaced;	/* ... whose kept values they changed */
	uint8		sha256[32];		/* of the file's bytes */
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
	bool		incremental;	/* tables hold earlier batches (gridflow_ingest) */
	struct GfDqAcc *dq;			/* a build's DQ figures of them (dqacc.c) */
	GfBulk	   *month;			/* experience.monthly_usage, written by a build */
	struct GfMonthWriter *months;	/* its rollup of the days (monthly.c) */
} GfLoadTargets;

/* the packing of landed records (landing.c) */
typedef struct GfChunkWriter
{
	GfBulk	   *bulk;
	int64		batch_id;
	Datum		utility;		/* utility_id of the batch */
	StringInfoData buf;
	int32		records;
	int64		first_line;
	int64		last_line;
} GfChunkWriter;

/* a build's files and steps (config.c, history.c, build.c) */
typedef struct GfConfigFile
{
	GfUtility  *utility;
	GfSourceFile file;			/* path: below the drop directory, or NULL */
	List	   *batches;		/* the files to load, in batch order */
} GfConfigFile;

/* one file to load: a batch */
typedef struct GfBuildBatch
{
	char	   *path;
	int64		batch_id;		/* 0: to be recorded */
	bytea	   *sha256;			/* rebuild: the checksum recorded */
	GfLoadStats stats;
} GfBuildBatch;

/* one row of a build's result: a table written, or a phase */
typedef struct GfBuildStep
{
	const char *step;
	const char *table;
	int64		rows;			/* -1: none */
	double		ms;
} GfBuildStep;

/* what a build empties and writes */
typedef enum GfBuildScope
{
	GF_SCOPE_ALL,				/* every layer, this database alone */
	GF_SCOPE_COORDINATOR,		/* the shared tables and the partitions that
								 * are tables here (distribute.c) */
	GF_SCOPE_UTILITY			/* one utility's rows (a shard, shard.c) */
} GfBuildScope;

/* the writers of product rows and daily summaries (product.c, experience.c) */
typedef struct GfProductWriter GfProductWriter;
typedef struct GfDayWriter GfDayWriter;

/* service-point days whose products an incremental load changed (dayset.c) */
typedef struct GfDays GfDays;

/* one utility's files of one kind being loaded (load.c) */
typedef struct GfLoad GfLoad;

/* ---------------------------------------------------------------------
 * Functions, by file
 * ---------------------------------------------------------------------
 */

/* gridflow.c: settings, the shipped sample, helpers of every module */
extern int	gf_max_record_bytes;
extern int	gf_reject_record_bytes;
extern bool gf_progress;
extern bool gf_stream_index_builds;
extern int	gf_statistics_target;
extern int	gf_build_memory_kb;

extern void gf_sample_dir(char *buf, size_t size);
extern void gf_check_database_encoding(void);
extern void gf_spi_exec(const char *sql, int expected);
extern int	gf_statistics_begin(void);
extern void gf_progress_notice(const char *what, int64 rows, double ms);

/*
 * access.c: who may read which server files; gridflow_build() running as
 * the owner of the extension once its caller is checked
 */
extern char *gf_allowed_directories;	/* the setting */

extern void gf_access_init(void);
extern Oid	gf_calling_role(void);
extern bool gf_check_allowed_directories(char **newval, void **extra, GucSource source);
extern const char *gf_file_type_name(mode_t mode);
extern char *gf_check_file_access(const char *path);
extern char *gf_check_directory_access(const char *path);
extern void gf_check_opened_file(int fd, const char *path);
extern void gf_build_enter(const char *drop_dir, GfBuildSecurity *s);
extern void gf_build_leave(GfBuildSecurity *s);

/* config.c: utilities and their files, as configured */
extern void gf_utility_init(GfUtility *u, MemoryContext cxt);
extern void gf_utility_done(GfUtility *u);
extern List *gf_read_config(const char *drop_dir, bool all_utilities, MemoryContext cxt);
/* the quality code of a product row (the sender's ESPI code, or the rules') */
extern int16 gf_quality_code(const GfUtility *u, const text *quality, bool failed);
extern void gf_require_config_files(List *files);
extern void gf_drop_dir_arg(FunctionCallInfo fcinfo, char *drop_dir, const char *function);
extern void gf_refuse_distributed(const char *utility_id, const char *what);

/*
 * reader.c: a CSV file on the server, opened with the caller's rights
 * checked, streamed through the tokenizer
 */
extern GfReader *gf_reader_open(const char *path, char delimiter, char quote);
extern bool gf_reader_read_header(GfReader *r);
extern int	gf_reader_column(GfReader *r, const char *name);
extern CsvStatus gf_reader_next(GfReader *r, CsvRecord *rec);
extern void gf_reader_close(GfReader *r);
extern long gf_reader_read_raw(GfReader *r, char *buf, size_t size);
extern char *gf_reject_text(const char *raw, size_t len, size_t cap);

extern char gf_single_char_arg(text *t, const char *what);
extern char gf_file_dialect_byte(const char *s, const char *what, const char *kind,
								 const char *utility_id);
extern void gf_file_sha256(const char *path, uint8 *digest);

/*
 * espi.c: a Green Button (ESPI) file's IntervalReadings as the records of
 * the reader's file
 */
extern void gf_espi_attach(GfReader *r);

/* landing.c: landed records, packed; rejects */
extern void gf_chunk_begin(GfChunkWriter *w, GfBulk *bulk, int64 batch_id, Datum utility);
extern void gf_chunk_add(GfChunkWriter *w, int64 line, const char *raw, size_t len);
extern void gf_chunk_end(GfChunkWriter *w);
extern void gf_reject_write(GfBulk *rej, Datum utility, int64 batch_id, const CsvRecord *rec,
							const char *stage, const char *reason, const char *detail,
							const char *source, const char *target);
extern void gf_reject_landing(GfBulk *rej, Datum utility, int64 batch_id, const CsvRecord *rec,
							  size_t expected);
extern void gf_check_landing_layout(GfBulk *landing);

/* meter_map.c: meters to service points */
extern void gf_meter_map_load(GfUtility *u);
extern bool gf_meter_resolve(GfUtility *u, const char *meter, uint32 len,
							 TimestampTz ts, Datum *sp);

/* load.c: one utility's files of one kind into landing and standardized */
extern GfLoad *gf_load_begin(GfLoadTargets *t, GfUtility *u, GfSourceFile *f);
extern void gf_load_file(GfLoad *l, const char *path, int64 batch_id, GfLoadStats *stats);
extern double gf_load_end(GfLoad *l);
extern GfDays *gf_load_days(GfLoad *l);
extern List *gf_load_new_ids(GfLoad *l);
extern List *gf_load_seen_ids(GfLoad *l);

/* product.c: the product rows of the kept reads of a utility */
extern GfProductWriter *gf_product_begin(GfLoadTargets *t, GfUtility *u, TupleDesc interval_desc);
extern void gf_product_read(GfProductWriter *em, TupleTableSlot *read);
extern void gf_product_flush(GfProductWriter *em);
/* a read before the window (local_date: a DateADT), its quality decided */
typedef void (*GfProductBeforeFn) (void *arg, Datum *rv, bool *rn, int32 local_date,
								   int quality_code, Datum vee_flags, bool vee_flags_null);
extern void gf_product_set_window(GfProductWriter *em, int32 from_day,
								  GfProductBeforeFn before, void *arg);
extern void gf_product_finish_group(GfProductWriter *em);
extern void gf_product_end(GfProductWriter *em);

/* refresh.c: an ingest's product rows and days, computed again */
extern void gf_refresh_products(GfUtility *u, Oid reads, Oid products, Oid days,
								GfRoute *products_route, GfRoute *days_route, GfDays *changed,
								GfDays *written);

/* experience.c: their daily summaries (local_date: a DateADT) */
extern GfDayWriter *gf_day_writer_begin(GfLoadTargets *t, GfUtility *u, MemoryContext cxt);
/* ESPI QualityOfReading (gridflow.quality_code) */
#define GF_QUALITY_VALID 0
#define GF_QUALITY_ESTIMATED_REFERENCE 8
#define GF_QUALITY_ESTIMATED_LINEAR 9
#define GF_QUALITY_QUESTIONABLE 10

extern void gf_day_add(GfDayWriter *dw, text *sp, text *ch, text *unit, bool day_resolution,
					   int32 local_date, TimestampTz start, bool value_null, double v, int quality,
					   int32 seconds);
extern void gf_day_writer_end(GfDayWriter *dw);
extern const char *gf_month_rollup_sql(const char *days);
extern uint64 gf_month_rollup(Oid days, Oid months, Datum sps, Datum months_start);

/* monthly.c: a build's months, rolled up from the days as they are written */
typedef struct GfMonthWriter GfMonthWriter;
extern GfMonthWriter *gf_month_writer_begin(GfBulk *out, GfUtility *u, MemoryContext parent);
extern void gf_month_add_day(GfMonthWriter *mw, TupleTableSlot *day);
extern void gf_month_flush(GfMonthWriter *mw);
extern uint64 gf_month_refresh(GfUtility *u, GfRoute *days_route, Oid months, GfDays *written);
extern void gf_month_writer_end(GfMonthWriter *mw);
extern int32 gf_month_start(int32 d);	/* a DateADT */

/* dayset.c: the service-point days an incremental load refreshes */
extern GfDays *gf_days_create(MemoryContext cxt);
extern void gf_days_add(GfDays *days, const char *sp, uint32 len, bool sp_null, int32 date);
extern uint32 gf_days_count(GfDays *days);
extern int32 gf_days_entry(GfDays *days, uint32 i, Datum *sp, bool *sp_null);

/*
 * bulk.c: bulk heap writes (as COPY does), index maintenance deferred to
 * gf_reindex(); look-ups and replacements for incremental loads
 */
extern Oid	gf_relation_oid(const char *schema, const char *relname);
extern TupleDesc gf_relation_desc(const char *schema, const char *relname);
extern char *gf_qualified_name(Oid relid);
extern char *gf_column_list(Oid relid);
extern int	gf_attnum(TupleDesc desc, const char *name, bool missing_ok);
extern GfBulk *gf_bulk_begin(Oid relid);
extern TupleDesc gf_bulk_tupdesc(GfBulk *b);
extern MemoryContext gf_bulk_memory(GfBulk *b);
extern TupleTableSlot *gf_bulk_slot(GfBulk *b);
extern void gf_bulk_store(GfBulk *b, Size bytes);
extern void gf_bulk_flush(GfBulk *b);
extern uint64 gf_bulk_end(GfBulk *b);
extern void gf_reindex(Oid relid);
extern GfBulk *gf_bulk_begin_indexed(Oid relid);
extern GfBulk *gf_bulk_begin_routed(Oid relid, bool indexed, GfRoute *route);
extern TupleTableSlot *gf_bulk_lookup(GfBulk *b, const int *atts, int natts,
									  const Datum *values, const bool *isnull,
									  ItemPointer tid);
extern void gf_bulk_delete(GfBulk *b, ItemPointer tid);
extern bool gf_bulk_table_empty(GfBulk *b);
extern Relation gf_leading_index(Relation rel, const char *first, const char *second,
								 LOCKMODE lock);
extern void gf_index_key(ScanKey key, Relation idx, int attno, StrategyNumber strategy,
						 Datum value);

/* a table read through its btree led by two columns, rescanned per key */
typedef struct GfIndexCursor
{
	Relation	rel;			/* NULL: not open */
	Relation	idx;
	struct IndexScanDescData *scan;
	TupleTableSlot *slot;
} GfIndexCursor;
extern void gf_index_cursor_open(GfIndexCursor *c, Oid relid, const char *first,
								 const char *second, Snapshot snapshot, int nkeys);
extern void gf_index_cursor_close(GfIndexCursor *c);

/* btbuild.c: unique btrees written as a direct writer places its rows */
typedef struct GfBtStream GfBtStream;
extern GfBtStream *gf_btstream_begin(Relation heap, Relation idx);
extern bool gf_btstream_add(GfBtStream *s, const Datum *values, const bool *isnull,
							ItemPointer tid);
extern void gf_btstream_finish(GfBtStream *s);
extern void gf_btstream_abandon(GfBtStream *s);

/*
 * partition.c: the storage of the layers (gridflow_store), partitioned by
 * utility and, for reads, products and days, by month; the partitions a
 * build makes apart (gridflow_next); the routing of rows to their months;
 * which partitions are tables here and which are a shard's
 */
typedef enum GfStore
{
	GF_STORE_CHUNK,				/* landing.source_record's packed records */
	GF_STORE_REJECT,
	GF_STORE_SERVICE_POINT,
	GF_STORE_METER,
	GF_STORE_ASSIGNMENT,
	GF_STORE_READ,
	GF_STORE_PRODUCT,
	GF_STORE_DAY,
	GF_STORE_MONTH,				/* experience.monthly_usage */
	GF_STORE_TABLES
} GfStore;

/*
 * The layers of reads, from here to the end: reads, products and days
 * (partitioned by month too) and months; what shards hold (distribute.c)
 */
#define GF_STORE_FIRST_MONTHLY GF_STORE_READ

typedef struct GfStoreTable
{
	const char *table;			/* in gridflow_store */
	const char *view;			/* what readers read */
	const char *months;			/* range column of the months, or NULL */
	const char *key;			/* the natural key, as constraint DDL */
	const char *lookup;			/* columns of an index for readers, or NULL */
} GfStoreTable;

extern const GfStoreTable gf_store[GF_STORE_TABLES];

extern Oid	gf_store_oid(GfStore t);
extern char *gf_partition_name(const char *table, const char *utility_id, const char *suffix);
extern char *gf_partition_utility(Oid relid);
extern bool gf_leaf_range(Oid leaf, Datum *lo, Datum *hi, Oid *type);
extern Oid	gf_store_partition(GfStore t, const char *utility_id, bool staged, bool create);
extern List *gf_store_partitions(GfStore t, bool local_only);
extern GfBulk *gf_store_writer(GfUtility *u, GfStore t, bool staged);
extern GfRoute *gf_month_route(GfUtility *u, GfStore t, Oid parent);
extern Oid	gf_month_leaf_of_date(GfRoute *route, int32 day);
extern int32 gf_month_of_date(int32 day);
extern bool gf_partition_is_distributed(Oid relid);
extern void gf_add_to_extension(const char *qname);
extern void gf_partition_release(Oid relid);
extern void gf_partition_drop(Oid relid);

/* product.c: a dimension's rows in memory, as a build keeps them, from its table */
extern GfKept *gf_kept_from_table(GfUtility *u, GfStore t, const char *id_column, bool staged,
								  MemoryContext cxt);

/* dq.c: the stored data-quality figures of a run */
extern void gf_dq_refresh(const char *utility_id, int64 build_id, const Oid *rels, bool gathered);
extern void gf_dq_forget_others(List *utilities);
extern void gf_dq_refresh_total(bool clear);

/* dq.c: how ambiguous the link of reads to service points through meters is */
#define GF_LINK_FIGURES 5
typedef struct GfLinkFigures GfLinkFigures;
extern GfLinkFigures *gf_link_figures_create(MemoryContext parent);
extern void gf_link_figures_meter(GfLinkFigures *lf, text *meter, text *sp);
extern void gf_link_figures_assignment(GfLinkFigures *lf, text *meter, text *sp, bool has_installed,
									   TimestampTz installed, bool has_removed, TimestampTz removed,
									   int64 batch_id, int64 line_no, bool assignment_file);
extern void gf_link_figures_read(GfLinkFigures *lf, text *meter, TimestampTz ts);
extern void gf_link_figures_counts(GfLinkFigures *lf, int64 *counts);
extern void gf_link_figures_end(GfLinkFigures *lf);

/* dqacc.c: a build's DQ figures, gathered as its writers write */
typedef struct GfDqAcc GfDqAcc;
extern GfDqAcc *gf_dq_acc_begin(GfUtility *u);
extern GfDqAcc *gf_dq_acc_get(const char *utility_id);
extern void gf_dq_acc_reset(void);
extern void gf_dq_acc_read(GfDqAcc *a, TupleTableSlot *slot);
extern void gf_dq_acc_product(GfDqAcc *a, TupleTableSlot *slot);
extern void gf_dq_acc_day(GfDqAcc *a, TupleTableSlot *slot);
extern void gf_dq_acc_dimension(GfDqAcc *a, GfFileKind kind, TupleTableSlot *slot);
extern void gf_dq_acc_assignment(GfDqAcc *a, GfFileKind kind, TupleTableSlot *slot);
extern void gf_dq_acc_gather(GfUtility *u, const Oid *rels);

/* citus.c: the tables Citus manages, which runs that write refuse */
extern bool gf_citus_installed(void);
extern void gf_refuse_citus_tables(void);
extern bool gf_citus_layers(void);
extern bool gf_citus_store(GfStore t);
extern void gf_refuse_citus_layers(const char *what);
extern void gf_citus_clear_layers(List *utilities, bool every_utility);
extern int64 gf_citus_load_layer(GfStore t, Oid staged);

/* history.c: gridflow.build and gridflow.batch rows, steps, the build lock */
extern int64 gf_build_begin(const char *operation, const char *drop_dir);
extern void gf_build_end(int64 build_id);
extern int64 gf_batch_insert(int64 batch_id, int64 build_id, const char *utility_id,
							 GfFileKind kind, const char *path, const uint8 *sha256);
extern int64 gf_batch_begin(int64 build_id, const char *utility_id, GfFileKind kind,
							const char *path, const uint8 *sha256);
extern void gf_batch_end(int64 batch_id, GfLoadStats *s);
extern bytea *gf_sha256_bytea(const uint8 *digest);
extern void gf_build_add_step(List **steps, const char *step, const char *table, int64 rows,
							  double ms);
extern void gf_build_return_steps(struct ReturnSetInfo *rsinfo, List *steps);
extern void gf_lock_history(bool exclusive);

/* build.c: gridflow_build(), gridflow_rebuild(), and the layers of a build */
extern void gf_build_layers(List *files, int64 build_id, GfBuildScope scope, bool rebuild,
							List **steps);
extern List *gf_build_utilities(List *files);

/* swap.c: a build's new partitions swapped in */
extern void gf_swap_layers(List *utilities, bool drop_others, int64 build_id, List **steps);

#endif							/* GRIDFLOW_H */
