/*-------------------------------------------------------------------------
 *
 * load.h
 *	  The state of a load, shared by the modules that make it: mapping.c
 *	  (a record parsed into the standardized table's types), meter_map.c,
 *	  dedup.c and spill.c (one row per natural key, within gridflow.build_memory),
 *	  standardized.c (the kept rows written) and load.c (the files read).
 *
 * Nothing outside them includes this header: the rest of gridflow sees a
 * load through gf_load_*() (gridflow.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef GRIDFLOW_LOAD_H
#define GRIDFLOW_LOAD_H

#include "storage/buffile.h"

#include "gridflow.h"
#include "keytable.h"
#include "localtime.h"
#include "parse.h"

typedef enum ValueType
{
	VT_TEXT,
	VT_INT4,
	VT_INT8,
	VT_FLOAT8,
	VT_TIMESTAMPTZ
} ValueType;

/* one mapped column: where it comes from and how it is parsed */
typedef struct ColumnOp
{
	int			att;			/* 0-based attribute of the target table */
	int			src;			/* field index in the file */
	ValueType	type;
	TsFormat	fmt;
	const char *source;			/* header name */
	const char *target;
	/*
	 * column_map.null_values: a short list is compared in turn, a longer one
	 * is looked up in a set, so that a field costs its length and not the
	 * list's
	 */
	int			nnulls;
	char	  **nulls;
	uint32	   *null_lens;
	GfKeyTable *null_set;		/* of the strings, when there are many */
	uint64		null_seed;		/* of its hash */
	GfZone	   *zone;			/* timestamps: local times (conform.h) */
} ColumnOp;

/* null_values up to this many are compared in turn */
#define NULL_LIST_MAX 8

/* how one file kind is standardized */
typedef struct LoadPlan
{
	GfFileKind	kind;
	TupleDesc	desc;
	int			natts;
	int			nops;
	ColumnOp   *ops;
	int			nkeys;
	int			keys[4];
	int			nrequired;
	int			required[4];
	/* columns the code gives meaning to (-1: not in this kind) */
	int			att_utility;
	int			att_batch;
	int			att_line;
	int			att_last_batch;
	int			att_source_rows;
	int			att_conflicting;
	int			att_first_value;
	int			att_value_sum;
	int			att_sp;
	int			att_meter;
	int			att_start;
	int			att_channel;
	int			att_end;
	int			att_duration;
	int			att_resolution;	/* time_resolution */
	int			att_value;
	int			att_installed;
	int			att_removed;
	bool	   *is_text;		/* per column: text, its bytes at tptr/tlen */
} LoadPlan;

/* one record, parsed */
typedef struct ParsedRow
{
	Datum	   *values;
	bool	   *isnull;
	const char **tptr;			/* text columns point into the record */
	uint32	   *tlen;
	int			local_flags;	/* GF_LOCAL_*: repeated or skipped local times */
	bool		start_has_time; /* interval_start_ts gave a time of day */
} ParsedRow;

/*
 * What one record (or an entry moved to a partition) brings to its key:
 * the same fields as GfDedupRow, without the kept tuple.
 */
typedef struct DedupIn
{
	int64		batch_id;
	int64		line_no;
	int64		last_batch_id;
	int32		source_rows;
	int32		conflicting_rows;
	bool		first_value_null;
	bool		value_sum_any;
	bool		moved;			/* an entry moved to a partition, not a record */
	bool		existing;
	bool		changed;
	double		first_value;
	double		value_sum;
	ItemPointerData tid;
} DedupIn;

typedef struct Spill Spill;

/*
 * Partitions are ranges of service points (NULL last), bounded by a sample
 * of the keys in memory when the reads are partitioned: written one after
 * the other, they give the rows in the order of the index, as in memory.
 */
struct Spill
{
	int			nparts;
	int			nbounds;		/* partition i < nbounds ends before bound i */
	const char **bounds;
	uint32	   *bound_lens;
	BufFile   **files;
};

/* how deep a partition is partitioned again */
#define SPILL_MAX_DEPTH 4

/* a batch of a load and its figures */
typedef struct LoadBatch
{
	int64		batch_id;
	GfLoadStats *stats;
} LoadBatch;

/*
 * A load: the files of one kind of one utility, de-duplicated together in
 * the order they are added (their batches' order), written at the end.
 */
struct GfLoad
{
	GfLoadTargets *t;
	GfUtility  *u;
	GfSourceFile *f;			/* configuration of the kind */
	GfBulk	   *std;
	LoadPlan	plan;
	bool		interval;
	bool		incremental;
	bool		probe;			/* look up rows of earlier batches */
	int			nprobe;
	int			probe_atts[8];	/* the natural key, with the utility */
	Datum	   *pvalues;
	bool	   *pisnull;
	MemoryContext dedup_cxt;
	MemoryContext row_cxt;		/* a record's allocations, rejects' included */
	MemoryContext apply_cxt;	/* rows formed while a batch is applied */
	MemoryContext file_cxt;		/* the context gf_load_file() was called in */
	Datum	   *form_values;	/* store_row()'s datums */
	char	   *form_text;		/* ... and their short text values */
	GfKeyTable *keys;
	GfArena		tuples;
	ParsedRow	row;
	StringInfoData keybuf;
	TupleTableSlot *kept_slot;
	Spill	   *spill;
	struct ReadBatch *batch;	/* records waiting for the dedup */
	int			since_check;
	int			nbatches;
	int			maxbatches;
	LoadBatch  *batches;
	GfProductWriter  *em;
	/* what an incremental load changed */
	GfDays	   *days;			/* reads: service-point days to refresh */
	List	   *new_ids;		/* service points, meters: ids first seen */
	List	   *seen_ids;		/* ... every id the load had */
};


/* The figures of one of the load's batches. */
static inline GfLoadStats *
gf_load_batch_stats(GfLoad *l, int64 batch_id)
{
	for (int i = l->nbatches - 1; i >= 0; i--)
		if (l->batches[i].batch_id == batch_id)
			return l->batches[i].stats;
	elog(ERROR, "gridflow: batch " INT64_FORMAT " is not part of this load", batch_id);
	return NULL;
}

/* gridflow.build_memory, in bytes */
static inline Size
gf_build_memory_budget(void)
{
	return (Size) gf_build_memory_kb * 1024;
}

/* mapping.c: a record into the standardized table's types */
extern void gf_map_plan(LoadPlan *p, GfUtility *u, GfSourceFile *f, TupleDesc desc);
extern int	gf_map_op_index(const LoadPlan *p, int att);
extern const char *gf_map_type_name(ValueType t);
extern ColumnOp *gf_map_parse(LoadPlan *p, GfUtility *u, const CsvRecord *rec, ParsedRow *row,
							  ParseResult *result);
extern void gf_map_key(LoadPlan *p, ParsedRow *row, StringInfo buf);
extern void gf_map_key_slot(LoadPlan *p, TupleTableSlot *slot, StringInfo buf);
extern MinimalTuple gf_map_form_tuple(LoadPlan *p, ParsedRow *row, MemoryContext tmp);
extern bool gf_map_row_differs(LoadPlan *p, ParsedRow *row, TupleTableSlot *kept);
extern bool gf_map_datum(LoadPlan *p, ParsedRow *row, int att, Datum *v);

/* meter_map.c: a meter file's rows into the utility's meter map */
extern void gf_meter_map_add(GfUtility *u, LoadPlan *p, ParsedRow *row);

/* dedup.c: the records of a load, one row per natural key */
extern void gf_dedup_begin(GfLoad *l);
extern void gf_dedup_add(GfLoad *l, GfReader *r, GfLoadStats *stats, ParsedRow *row,
						 const DedupIn *in, uint64 line);
extern void gf_dedup_flush(GfLoad *l, GfReader *r, GfLoadStats *stats);
extern void gf_dedup_spill_keys(GfLoad *l);
extern uint64 gf_dedup_partition(GfLoad *l, BufFile *f, int depth);

/* spill.c: reads past gridflow.build_memory, in partition files */
extern Spill *gf_spill_create(int nparts, LoadPlan *p, GfUtility *u, GfKeyTable *keys,
							  TupleTableSlot *slot);
extern int	gf_spill_part(Spill *s, const char *sp, uint32 len, bool sp_null);
extern int	gf_spill_part_tuple(Spill *s, LoadPlan *p, GfUtility *u, TupleTableSlot *slot);
extern void gf_spill_write(Spill *s, int part, const DedupIn *in, MinimalTuple tup);
extern bool gf_spill_read(BufFile *f, DedupIn *in, StringInfo buf);
extern void gf_spill_entries(Spill *s, LoadPlan *p, GfUtility *u, GfKeyTable *keys,
							 TupleTableSlot *slot);
extern int	gf_spill_partitions(Size used, double fraction_read);

/* standardized.c: the kept rows written */
extern uint32 gf_std_write_kept(GfLoad *l, GfKeyTable *keys);
extern void gf_std_write_assignment(GfBulk *b, GfUtility *u, LoadPlan *p, ParsedRow *row,
									int64 batch_id, int64 line_no, struct GfDqAcc *dq);
extern Size gf_std_sort_bytes(void);

#endif							/* GRIDFLOW_LOAD_H */
