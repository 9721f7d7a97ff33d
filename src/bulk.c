/*-------------------------------------------------------------------------
 *
 * bulk.c
 *	  Bulk loading of gridflow's tables, the way COPY does it.
 *
 * Rows are buffered in slots and written with table_multi_insert() through
 * a BulkInsertState.  Index entries are not written row by row: when the
 * writer ends, the table's indexes are rebuilt (REINDEX), which sorts once
 * instead of descending the btree for every row.  A direct writer (below)
 * writes the unique btrees of its table as it places the rows, when they
 * come in the index's order (btbuild.c, gridflow.stream_index_builds); only
 * the other indexes, and one whose rows turn out not to be in order, are
 * rebuilt then.  The build truncates every
 * table it writes first, in the same transaction, so under wal_level =
 * minimal none of this is WAL-logged and a failure rolls all of it back.
 *
 * COPY writes through a small ring of shared buffers, so that a load does
 * not evict what others use; the pages then go to the kernel as the ring
 * turns and the index builds read them back.  A build writes its first
 * pages, up to a quarter of shared_buffers (all tables of the transaction
 * together), without the ring, so that tables that fit stay in shared
 * buffers for their index builds; past that, the ring as in COPY.
 *
 * A table that the transaction created or truncated and that is still
 * empty is written without shared buffers at all, as index builds and
 * CLUSTER write theirs: rows are formed straight into a private page, and
 * each full page is appended to the file (and WAL-logged whole when the
 * table needs WAL).  No other session can see such a table, and an abort
 * drops its file; the commit syncs it.  Rows too big for a page go through
 * the toaster first, as heap_insert() would send them.
 *
 * Because the writes go to the heap directly, the caller's INSERT privilege
 * is checked here, and tables with row-level security or insert triggers
 * (which this path would bypass) are refused.
 *
 * The layers of reads are partitioned by utility and by month: a routed
 * writer takes rows for a partitioned table and hands each to the writer
 * of its leaf (found, or created, by the caller's callbacks), without
 * copying it: the slot itself moves to the leaf's writer, and all leaves
 * are flushed together.
 *
 * Incremental loads (gridflow_ingest) add rows to tables that already hold
 * some: their writer maintains the indexes row by row after each
 * multi-insert, as COPY does, so that unique indexes still refuse a
 * duplicate; it also finds existing rows by their natural key through the
 * table's unique index and deletes rows that a new version replaces.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/heaptoast.h"
#include "access/hio.h"
#include "access/multixact.h"
#include "access/nbtree.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "commands/trigger.h"
#include "commands/vacuum.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "storage/proc.h"
#include "storage/smgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "gridflow.h"

/* PostgreSQL 16 renamed relfilenode to relfilelocator */
#if PG_VERSION_NUM >= 160000
#define GF_FIRST_RELFILE_SUBID(rel) ((rel)->rd_firstRelfilelocatorSubid)
#define GF_REL_FILE(rel) (&(rel)->rd_locator)
#else
#define GF_FIRST_RELFILE_SUBID(rel) ((rel)->rd_firstRelfilenodeSubid)
#define GF_REL_FILE(rel) (&(rel)->rd_node)
#endif

/* PostgreSQL 17 moved the local transaction id into the virtual one */
#if PG_VERSION_NUM >= 170000
#define GF_MY_LXID (MyProc->vxid.lxid)
#else
#define GF_MY_LXID (MyProc->lxid)
#endif

#define GF_BULK_MAX_SLOTS	128
#define GF_BULK_MAX_BYTES	(1024 * 1024)

struct GfBulk
{
	Relation	rel;
	TupleTableSlot *slots[GF_BULK_MAX_SLOTS];
	int			nused;
	Size		bytes;
	CommandId	cid;
	int			options;
	BulkInsertState bistate;
	bool		ring;			/* writing through a ring of buffers */
	/* direct writers: pages formed here and appended to the file */
	bool		direct;
	bool		use_wal;
	char	   *page;
	BlockNumber blkno;			/* of the page being filled */
	Size		save_free;		/* fillfactor's free space per page */
	TransactionId xid;
	bool		simple;			/* every column by value or varlena */
	struct GfAttr
	{
		int16		len;
		uint8		align;		/* bytes */
		bool		byval;
		bool		packable;	/* varlena that may get a short header */
	}		   *attrs;
	BlockNumber blocks;			/* blocks of the table seen so far */
	/* direct writers: unique indexes written as the rows come in their order */
	int			nstreams;
	GfBtStream **streams;		/* NULL once abandoned */
	Relation   *stream_index;	/* the index of each stream */
	MemoryContext cxt;			/* owns the writer and its slots */
	MemoryContext batch_cxt;
	uint64		rows;
	/* incremental writers: indexes maintained row by row, look-ups by key */
	bool		indexed;
	EState	   *estate;
	ResultRelInfo *rri;
	Snapshot	snapshot;
	Relation	key_index;		/* unique index on the natural key */
	IndexScanDesc key_scan;
	TupleTableSlot *key_slot;
	int			key_natts;
	int			key_atts[INDEX_MAX_KEYS];	/* table attribute (0-based) per
											 * index column */
	FmgrInfo	key_eq[INDEX_MAX_KEYS];
	ScanKeyData key_sk[INDEX_MAX_KEYS];
	/* routed writers: one writer per leaf, chosen by the caller's callbacks */
	bool		routed;
	Oid			relid;			/* the partitioned table (not kept open: its
								 * partitions are created as rows come) */
	TupleDesc	desc;
	GfRoute    *route;
	TupleTableSlot *staging;	/* the slot being filled */
	int			nsubs;
	int			maxsubs;
	int64	   *sub_keys;
	GfBulk	  **subs;
};

/* blocks written without a ring by the writers of a transaction */
static LocalTransactionId unringed_lxid = InvalidLocalTransactionId;
static uint64 unringed_blocks = 0;

/*
 * Count the blocks the writer added; once the writers of the transaction
 * have added a quarter of shared_buffers, write through a ring.
 */
static void
account_blocks(GfBulk *b)
{
	BlockNumber blocks;

	if (b->ring || !BufferIsValid(b->bistate->current_buf))
		return;
	blocks = BufferGetBlockNumber(b->bistate->current_buf) + 1;
	if (blocks <= b->blocks)
		return;
	if (unringed_lxid != GF_MY_LXID)
	{
		unringed_lxid = GF_MY_LXID;
		unringed_blocks = 0;
	}
	unringed_blocks += blocks - b->blocks;
	b->blocks = blocks;
	if (unringed_blocks > (uint64) NBuffers / 4)
	{
		MemoryContext old = MemoryContextSwitchTo(b->cxt);

		b->bistate->strategy = GetAccessStrategy(BAS_BULKWRITE);
		b->ring = true;
		MemoryContextSwitchTo(old);
	}
}

static GfBulk *routed_sub(GfBulk *b, int64 key, bool create);
static void routed_store(GfBulk *b, Size bytes);

/* OID of schema.relname, or an ERROR. */
Oid
gf_relation_oid(const char *schema, const char *relname)
{
	Oid			nsp = get_namespace_oid(schema, false);
	Oid			relid = get_relname_relid(relname, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.%s\" does not exist", schema, relname),
				 errhint("Is the gridflow extension installed completely?")));
	return relid;
}

/* A copy of the row type of schema.relname. */
TupleDesc
gf_relation_desc(const char *schema, const char *relname)
{
	Relation	rel = table_open(gf_relation_oid(schema, relname), AccessShareLock);
	TupleDesc	desc = CreateTupleDescCopy(RelationGetDescr(rel));

	table_close(rel, AccessShareLock);
	return desc;
}

/* The schema-qualified, quoted name of a relation. */
char *
gf_qualified_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/* The columns of a relation of any kind, quoted, comma-separated. */
char *
gf_column_list(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (a->attisdropped)
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, quote_identifier(NameStr(a->attname)));
	}
	relation_close(rel, AccessShareLock);
	return buf.data;
}

/* Attribute index (0-based) of a column by name. */
int
gf_attnum(TupleDesc desc, const char *name, bool missing_ok)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	if (!missing_ok)
		elog(ERROR, "gridflow: column \"%s\" not found", name);
	return -1;
}

/*
 * Start the streams of a direct writer: one for each unique btree of the
 * table that can be written as the rows come (gridflow.stream_index_builds).
 */
static void
begin_streams(GfBulk *b)
{
	List	   *indexes;
	ListCell   *lc;
	int			n = 0;

	if (!gf_stream_index_builds || !b->rel->rd_rel->relhasindex)
		return;
	indexes = RelationGetIndexList(b->rel);
	b->streams = palloc0(sizeof(GfBtStream *) * Max(list_length(indexes), 1));
	b->stream_index = palloc0(sizeof(Relation) * Max(list_length(indexes), 1));
	foreach(lc, indexes)
	{
		/* REINDEX would lock the index so */
		Relation	idx = index_open(lfirst_oid(lc), AccessExclusiveLock);
		GfBtStream *s = gf_btstream_begin(b->rel, idx);

		if (s == NULL)
		{
			index_close(idx, NoLock);
			continue;
		}
		b->streams[n] = s;
		b->stream_index[n] = idx;
		n++;
	}
	b->nstreams = n;
	list_free(indexes);
}

/* Open relid for bulk loading (with index streams if streams). */
static GfBulk *
bulk_begin(Oid relid, bool streams)
{
	GfBulk	   *b = palloc0(sizeof(GfBulk));
	Relation	rel;
	AclResult	aclresult;

	rel = table_open(relid, RowExclusiveLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("gridflow can only load plain tables, and \"%s\" is not one",
						RelationGetRelationName(rel))));
	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_INSERT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, get_relkind_objtype(rel->rd_rel->relkind),
					   RelationGetRelationName(rel));
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("row-level security applies to \"%s\" for the role loading it",
						RelationGetRelationName(rel)),
				 errhint("Run gridflow builds as a role that owns the table or has BYPASSRLS.")));
	if (rel->trigdesc != NULL &&
		(rel->trigdesc->trig_insert_before_row ||
		 rel->trigdesc->trig_insert_after_row ||
		 rel->trigdesc->trig_insert_instead_row ||
		 rel->trigdesc->trig_insert_before_statement ||
		 rel->trigdesc->trig_insert_after_statement))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has insert triggers, which gridflow's bulk load would not fire",
						RelationGetRelationName(rel)),
				 errhint("Drop the triggers; read the layer tables from views or logical replication instead.")));

	b->rel = rel;
	b->cid = GetCurrentCommandId(true);
	if (rel->rd_createSubid != InvalidSubTransactionId ||
		GF_FIRST_RELFILE_SUBID(rel) != InvalidSubTransactionId)
		b->options |= TABLE_INSERT_SKIP_FSM;
	b->bistate = GetBulkInsertState();
	if (unringed_lxid != GF_MY_LXID || unringed_blocks <= (uint64) NBuffers / 4)
	{
		FreeAccessStrategy(b->bistate->strategy);
		b->bistate->strategy = NULL;
		b->ring = false;
	}
	else
		b->ring = true;
	b->blocks = RelationGetNumberOfBlocks(rel);
	b->cxt = CurrentMemoryContext;
	if ((b->options & TABLE_INSERT_SKIP_FSM) && b->blocks == 0 &&
		rel->rd_rel->relpersistence == RELPERSISTENCE_PERMANENT)
	{
		b->direct = true;
		b->use_wal = RelationNeedsWAL(rel);
		b->page = palloc(BLCKSZ);
		PageInit((Page) b->page, BLCKSZ, 0);
		b->blkno = 0;
		b->save_free = RelationGetTargetPageFreeSpace(rel, HEAP_DEFAULT_FILLFACTOR);
		b->xid = GetCurrentTransactionId();
		CheckForSerializableConflictIn(rel, NULL, InvalidBlockNumber);
		b->attrs = palloc(sizeof(struct GfAttr) * Max(RelationGetDescr(rel)->natts, 1));
		b->simple = true;
		for (int i = 0; i < RelationGetDescr(rel)->natts; i++)
		{
			Form_pg_attribute a = TupleDescAttr(RelationGetDescr(rel), i);
			struct GfAttr *g = &b->attrs[i];

			g->len = a->attlen;
			g->byval = a->attbyval;
			g->align = a->attalign == TYPALIGN_DOUBLE ? ALIGNOF_DOUBLE :
				a->attalign == TYPALIGN_INT ? ALIGNOF_INT :
				a->attalign == TYPALIGN_SHORT ? ALIGNOF_SHORT : 1;
			g->packable = (a->attlen == -1 && a->attstorage != TYPSTORAGE_PLAIN);
			if (!a->attbyval && a->attlen != -1)
				b->simple = false;
		}
	}
	if (b->direct && streams)
		begin_streams(b);
	b->batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow bulk batch",
										 ALLOCSET_DEFAULT_SIZES);
	return b;
}

/* Open relid for bulk loading. */
GfBulk *
gf_bulk_begin(Oid relid)
{
	return bulk_begin(relid, true);
}

TupleDesc
gf_bulk_tupdesc(GfBulk *b)
{
	if (b->routed)
		return b->desc;
	return RelationGetDescr(b->rel);
}

/* Context for by-reference datums of rows not yet flushed. */
MemoryContext
gf_bulk_memory(GfBulk *b)
{
	return b->batch_cxt;
}

/* Append the page being filled to the table's file; start the next one. */
static void
direct_write_page(GfBulk *b)
{
	Page		page = (Page) b->page;

	if (PageGetMaxOffsetNumber(page) == 0)
		return;
	if (b->use_wal)
		log_newpage(GF_REL_FILE(b->rel), MAIN_FORKNUM, b->blkno, page, true);
	PageSetChecksumInplace(page, b->blkno);
	smgrextend(RelationGetSmgr(b->rel), MAIN_FORKNUM, b->blkno, b->page, true);
	b->blkno++;
	PageInit(page, BLCKSZ, 0);
}

/*
 * Room for a tuple of len bytes on the page (starting a new page when it
 * does not fit), as RelationGetBufferForTuple() and PageAddItem() make it;
 * the tuple's line pointer is set, its bytes are zero.
 */
static HeapTupleHeader
direct_reserve(GfBulk *b, Size len, OffsetNumber *off)
{
	PageHeader	phdr = (PageHeader) b->page;
	ItemId		itemid;

	if (len > MaxHeapTupleSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("row is too big: size %zu, maximum size %zu",
						len, MaxHeapTupleSize)));
	if (PageGetHeapFreeSpace(b->page) < MAXALIGN(len) + b->save_free &&
		PageGetMaxOffsetNumber(b->page) > 0)
		direct_write_page(b);
	*off = OffsetNumberNext(PageGetMaxOffsetNumber(b->page));
	itemid = PageGetItemId(phdr, *off);
	phdr->pd_lower += sizeof(ItemIdData);
	phdr->pd_upper -= MAXALIGN(len);
	ItemIdSetNormal(itemid, phdr->pd_upper, len);
	/* free space is zero: PageInit() clears the page, a row taken back too */
	return (HeapTupleHeader) (b->page + phdr->pd_upper);
}

/* The header fields heap_insert() sets on a new tuple at (blkno, off). */
static void
direct_set_header(GfBulk *b, HeapTupleHeader td, OffsetNumber off)
{
	td->t_infomask &= ~(HEAP_XACT_MASK);
	td->t_infomask2 &= ~(HEAP2_XACT_MASK);
	td->t_infomask |= HEAP_XMAX_INVALID;
	HeapTupleHeaderSetXmin(td, b->xid);
	HeapTupleHeaderSetCmin(td, b->cid);
	HeapTupleHeaderSetXmax(td, 0);
	ItemPointerSet(&td->t_ctid, b->blkno, off);
}

/*
 * heap_compute_data_size() for a writer whose columns are all by value or
 * varlena, without the checks the others need; false for a row with an
 * external value (heap_compute_data_size() and heap_fill_tuple() take
 * those).
 */
static inline bool
simple_data_size(GfBulk *b, int natts, Datum *values, bool *isnull, Size *size,
				 bool *hasnull)
{
	Size		off = 0;

	for (int i = 0; i < natts; i++)
	{
		struct GfAttr *a = &b->attrs[i];
		Pointer		val;

		if (isnull[i])
		{
			*hasnull = true;
			continue;
		}
		if (a->byval)
		{
			off = TYPEALIGN(a->align, off) + a->len;
			continue;
		}
		val = DatumGetPointer(values[i]);
		if (VARATT_IS_EXTERNAL(val))
			return false;
		if (VARATT_IS_SHORT(val))
			off += VARSIZE_SHORT(val);
		else if (a->packable && VARATT_CAN_MAKE_SHORT(val))
			off += VARATT_CONVERTED_SHORT_SIZE(val);
		else
			off = TYPEALIGN(a->align, off) + VARSIZE(val);
	}
	*size = off;
	return true;
}

/*
 * heap_fill_tuple() for such a row (the same bytes): data is MAXALIGNed
 * and zeroed, bit is the null bitmap or NULL when no value is null.
 */
static inline void
simple_fill(GfBulk *b, int natts, Datum *values, bool *isnull, char *data,
			uint16 *infomask, bits8 *bit)
{
	bits8	   *bitp = bit ? &bit[-1] : NULL;
	int			bitmask = HIGHBIT;

	*infomask &= ~(HEAP_HASNULL | HEAP_HASVARWIDTH | HEAP_HASEXTERNAL);
	for (int i = 0; i < natts; i++)
	{
		struct GfAttr *a = &b->attrs[i];
		Pointer		val;
		Size		n;

		if (bit != NULL)
		{
			if (bitmask != HIGHBIT)
				bitmask <<= 1;
			else
			{
				bitp += 1;
				*bitp = 0x0;
				bitmask = 1;
			}
			if (isnull[i])
			{
				*infomask |= HEAP_HASNULL;
				continue;
			}
			*bitp |= bitmask;
		}
		if (a->byval)
		{
			data = (char *) TYPEALIGN(a->align, (uintptr_t) data);
			store_att_byval(data, values[i], a->len);
			data += a->len;
			continue;
		}
		val = DatumGetPointer(values[i]);
		*infomask |= HEAP_HASVARWIDTH;
		if (VARATT_IS_SHORT(val))
		{
			n = VARSIZE_SHORT(val);
			memcpy(data, val, n);
		}
		else if (a->packable && VARATT_CAN_MAKE_SHORT(val))
		{
			n = VARATT_CONVERTED_SHORT_SIZE(val);
			SET_VARSIZE_SHORT(data, n);
			memcpy(data + 1, VARDATA(val), n - 1);
		}
		else
		{
			data = (char *) TYPEALIGN(a->align, (uintptr_t) data);
			n = VARSIZE(val);
			memcpy(data, val, n);
		}
		data += n;
	}
}

/*
 * Form the slot's row on the page (through the toaster if it needs it);
 * returns its offset on the page.
 */
static OffsetNumber
direct_place(GfBulk *b, TupleTableSlot *slot)
{
	TupleDesc	desc = slot->tts_tupleDescriptor;
	Datum	   *values = slot->tts_values;
	bool	   *isnull = slot->tts_isnull;
	int			natts = desc->natts;
	bool		hasnull = false;
	Size		hoff;
	Size		data_len;
	Size		len;
	HeapTupleHeader td;
	OffsetNumber off;
	HeapTuple	tup;
	HeapTuple	toasted;

	/* the usual row: nothing toasted, formed by the loops above */
	if (b->simple && simple_data_size(b, natts, values, isnull, &data_len, &hasnull))
	{
		hoff = offsetof(HeapTupleHeaderData, t_bits);
		if (hasnull)
			hoff += BITMAPLEN(natts);
		hoff = MAXALIGN(hoff);
		len = hoff + data_len;
		if (len <= TOAST_TUPLE_THRESHOLD)
		{
			td = direct_reserve(b, len, &off);
			HeapTupleHeaderSetNatts(td, natts);
			td->t_hoff = (uint8) hoff;
			simple_fill(b, natts, values, isnull, (char *) td + hoff, &td->t_infomask,
						hasnull ? td->t_bits : NULL);
			direct_set_header(b, td, off);
			return off;
		}
		hasnull = false;
	}

	for (int i = 0; i < natts; i++)
		if (isnull[i])
		{
			hasnull = true;
			break;
		}
	hoff = offsetof(HeapTupleHeaderData, t_bits);
	if (hasnull)
		hoff += BITMAPLEN(natts);
	hoff = MAXALIGN(hoff);
	data_len = heap_compute_data_size(desc, values, isnull);
	len = hoff + data_len;

	if (len <= TOAST_TUPLE_THRESHOLD)
	{
		PageHeader	phdr = (PageHeader) b->page;

		td = direct_reserve(b, len, &off);
		HeapTupleHeaderSetNatts(td, natts);
		td->t_hoff = (uint8) hoff;
		heap_fill_tuple(desc, values, isnull, (char *) td + hoff, data_len,
						&td->t_infomask, hasnull ? td->t_bits : NULL);
		if (!(td->t_infomask & HEAP_HASEXTERNAL))
		{
			direct_set_header(b, td, off);
			return off;
		}
		/* a toasted value: take the row back, toast it as heap_insert() would */
		memset((char *) td, 0, MAXALIGN(len));
		memset(PageGetItemId(phdr, off), 0, sizeof(ItemIdData));
		phdr->pd_lower -= sizeof(ItemIdData);
		phdr->pd_upper += MAXALIGN(len);
	}

	tup = heap_form_tuple(desc, values, isnull);
	tup->t_tableOid = RelationGetRelid(b->rel);
	direct_set_header(b, tup->t_data, InvalidOffsetNumber);
	toasted = heap_toast_insert_or_update(b->rel, tup, NULL, b->options);
	td = direct_reserve(b, toasted->t_len, &off);
	memcpy(td, toasted->t_data, toasted->t_len);
	direct_set_header(b, td, off);
	if (toasted != tup)
		heap_freetuple(toasted);
	heap_freetuple(tup);
	return off;
}

/*
 * Place the slot's row; add its tuple to the index streams (a stream that
 * the row does not come in order for is abandoned: REINDEX builds it).
 */
static void
direct_store(GfBulk *b, TupleTableSlot *slot)
{
	OffsetNumber off = direct_place(b, slot);
	ItemPointerData tid;

	if (b->nstreams == 0)
		return;
	ItemPointerSet(&tid, b->blkno, off);
	for (int i = 0; i < b->nstreams; i++)
	{
		if (b->streams[i] == NULL)
			continue;
		if (!gf_btstream_add(b->streams[i], slot->tts_values, slot->tts_isnull, &tid))
		{
			elog(DEBUG1, "gridflow: row " UINT64_FORMAT " of \"%s\" is not after the previous one in index \"%s\", which is rebuilt",
				 b->rows + 1, RelationGetRelationName(b->rel),
				 RelationGetRelationName(b->stream_index[i]));
			gf_btstream_abandon(b->streams[i]);
			b->streams[i] = NULL;
		}
	}
}

/* Write the buffered rows now (before memory they point to goes away). */
void
gf_bulk_flush(GfBulk *b)
{
	MemoryContext old;

	if (b->routed)
	{
		for (int i = 0; i < b->nsubs; i++)
			gf_bulk_flush(b->subs[i]);
		MemoryContextReset(b->batch_cxt);
		b->nused = 0;			/* rows written straight to direct leaves */
		b->bytes = 0;
		return;
	}
	if (b->nused == 0 || b->direct)
		return;
	old = MemoryContextSwitchTo(b->batch_cxt);
	table_multi_insert(b->rel, b->slots, b->nused, b->cid, b->options, b->bistate);
	account_blocks(b);
	if (b->indexed && b->rri->ri_NumIndices > 0)
	{
		for (int i = 0; i < b->nused; i++)
		{
			List	   *recheck;

			ResetPerTupleExprContext(b->estate);
#if PG_VERSION_NUM >= 160000
			recheck = ExecInsertIndexTuples(b->rri, b->slots[i], b->estate,
											false, false, NULL, NIL, false);
#else
			recheck = ExecInsertIndexTuples(b->rri, b->slots[i], b->estate,
											false, false, NULL, NIL);
#endif
			list_free(recheck);
		}
	}
	MemoryContextSwitchTo(old);
	for (int i = 0; i < b->nused; i++)
		ExecClearTuple(b->slots[i]);
	MemoryContextReset(b->batch_cxt);
	b->rows += b->nused;
	b->nused = 0;
	b->bytes = 0;
}

/*
 * The next empty slot: the caller sets every tts_values / tts_isnull entry
 * (by-reference datums in gf_bulk_memory()) and calls gf_bulk_store().
 */
TupleTableSlot *
gf_bulk_slot(GfBulk *b)
{
	TupleTableSlot *slot;

	if (b->routed)
	{
		ExecClearTuple(b->staging);
		return b->staging;
	}
	slot = b->slots[b->direct ? 0 : b->nused];

	if (slot == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(b->cxt);

		slot = table_slot_create(b->rel, NULL);
		b->slots[b->direct ? 0 : b->nused] = slot;
		MemoryContextSwitchTo(old);
	}
	ExecClearTuple(slot);
	return slot;
}

/* Store the filled slot; bytes is its approximate size. */
void
gf_bulk_store(GfBulk *b, Size bytes)
{
	if (b->routed)
	{
		routed_store(b, bytes);
		return;
	}
	if (b->direct)
	{
		TupleTableSlot *slot = b->slots[0];

		ExecStoreVirtualTuple(slot);
		direct_store(b, slot);
		ExecClearTuple(slot);
		b->rows++;
		/* the datums of the rows written so far are no longer needed */
		if (++b->nused == GF_BULK_MAX_SLOTS)
		{
			MemoryContextReset(b->batch_cxt);
			b->nused = 0;
		}
		return;
	}
	ExecStoreVirtualTuple(b->slots[b->nused]);
	b->nused++;
	b->bytes += bytes;
	if (b->nused == GF_BULK_MAX_SLOTS || b->bytes >= GF_BULK_MAX_BYTES)
		gf_bulk_flush(b);
}

/* Rebuild the indexes of relid. */
void
gf_reindex(Oid relid)
{
	char	   *sql;

	sql = psprintf("REINDEX TABLE %s",
				   quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											  get_rel_name(relid)));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not run %s", sql);
	SPI_finish();
}

/* Rebuild index indexid (one the writer did not stream). */
static void
gf_reindex_index(Oid indexid)
{
	char	   *sql;

	sql = psprintf("REINDEX INDEX %s", gf_qualified_name(indexid));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not run %s", sql);
	SPI_finish();
	CommandCounterIncrement();
}

/* Flush, close, rebuild the indexes; returns the rows written. */
uint64
gf_bulk_end(GfBulk *b)
{
	Oid			relid;
	bool		hasindex;
	uint64		rows;

	if (b->routed)
	{
		rows = 0;
		gf_bulk_flush(b);
		for (int i = 0; i < b->nsubs; i++)
			rows += gf_bulk_end(b->subs[i]);
		MemoryContextDelete(b->batch_cxt);
		pfree(b);
		return rows;
	}
	relid = RelationGetRelid(b->rel);
	hasindex = b->rel->rd_rel->relhasindex;

	gf_bulk_flush(b);
	if (b->direct)
	{
		direct_write_page(b);
		pfree(b->page);
		pgstat_count_heap_insert(b->rel, (PgStat_Counter) b->rows);
		/* pages that bypassed shared buffers: no checkpoint has them */
		if (b->use_wal)
			smgrimmedsync(RelationGetSmgr(b->rel), MAIN_FORKNUM);
	}
	FreeBulkInsertState(b->bistate);
	table_finish_bulk_insert(b->rel, b->options);
	for (int i = 0; i < GF_BULK_MAX_SLOTS && b->slots[i] != NULL; i++)
		ExecDropSingleTupleTableSlot(b->slots[i]);
	if (b->indexed)
	{
		hasindex = false;		/* maintained all along */
		if (b->key_scan != NULL)
			index_endscan(b->key_scan);
		if (b->key_slot != NULL)
			ExecDropSingleTupleTableSlot(b->key_slot);
		if (b->key_index != NULL)
			index_close(b->key_index, NoLock);
		ExecCloseIndices(b->rri);
		FreeExecutorState(b->estate);
		UnregisterSnapshot(b->snapshot);
	}
	if (b->nstreams > 0)
	{
		List	   *rebuild = NIL;
		BlockNumber heap_pages = b->blkno;
		List	   *indexes = RelationGetIndexList(b->rel);
		ListCell   *lc;
		bool	   *finished = palloc0(sizeof(bool) * b->nstreams);

		/* the streamed indexes are complete; the others are rebuilt */
		for (int i = 0; i < b->nstreams; i++)
			if (b->streams[i] != NULL)
			{
				gf_btstream_finish(b->streams[i]);
				b->streams[i] = NULL;
				finished[i] = true;
				elog(DEBUG1, "gridflow: index \"%s\" written as its rows came",
					 RelationGetRelationName(b->stream_index[i]));
			}
		foreach(lc, indexes)
		{
			bool		streamed = false;

			for (int i = 0; i < b->nstreams; i++)
				if (finished[i] && RelationGetRelid(b->stream_index[i]) == lfirst_oid(lc))
					streamed = true;
			if (!streamed)
				rebuild = lappend_oid(rebuild, lfirst_oid(lc));
		}
		if (rebuild == NIL)
		{
			/* the statistics REINDEX would have set on the table */
			vac_update_relstats(b->rel, heap_pages,
								(b->rows == 0 && b->rel->rd_rel->reltuples < 0) ? -1 : (double) b->rows,
								0, true,
								InvalidTransactionId, InvalidMultiXactId,
								NULL, NULL, true);
		}
		for (int i = 0; i < b->nstreams; i++)
			index_close(b->stream_index[i], NoLock);
		table_close(b->rel, NoLock);
		MemoryContextDelete(b->batch_cxt);
		rows = b->rows;
		pfree(b);
		CommandCounterIncrement();
		foreach(lc, rebuild)
			gf_reindex_index(lfirst_oid(lc));
		list_free(rebuild);
		list_free(indexes);
		pfree(finished);
		return rows;
	}
	table_close(b->rel, NoLock);
	MemoryContextDelete(b->batch_cxt);
	rows = b->rows;
	pfree(b);
	if (hasindex)
	{
		CommandCounterIncrement();
		gf_reindex(relid);
	}
	return rows;
}

/*
 * Open relid for an incremental load: as gf_bulk_begin(), but indexes are
 * maintained as rows are written (nothing is rebuilt at the end), and
 * gf_bulk_lookup() and gf_bulk_delete() work.  Existing rows are seen
 * through a snapshot taken now: the caller holds the locks that keep other
 * writers of those rows out, and has made its own earlier writes visible.
 */
GfBulk *
gf_bulk_begin_indexed(Oid relid)
{
	GfBulk	   *b = bulk_begin(relid, false);
	MemoryContext old;

	if (b->rel->trigdesc != NULL &&
		(b->rel->trigdesc->trig_delete_before_row ||
		 b->rel->trigdesc->trig_delete_after_row ||
		 b->rel->trigdesc->trig_delete_instead_row ||
		 b->rel->trigdesc->trig_delete_before_statement ||
		 b->rel->trigdesc->trig_delete_after_statement))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has delete triggers, which gridflow's incremental load would not fire",
						RelationGetRelationName(b->rel)),
				 errhint("Drop the triggers; read the layer tables from views or logical replication instead.")));
	old = MemoryContextSwitchTo(b->cxt);

	b->indexed = true;
	if (b->direct)
	{
		pfree(b->page);
		b->direct = false;
	}
	b->options = 0;				/* the table is not new: use its free space */
	b->estate = CreateExecutorState();
	b->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(b->rri, b->rel, 1, NULL, 0);
	ExecOpenIndices(b->rri, false);
	b->snapshot = RegisterSnapshot(GetLatestSnapshot());
	MemoryContextSwitchTo(old);
	return b;
}

/* The unique index whose key columns are exactly atts (0-based), opened. */
static void
open_key_index(GfBulk *b, const int *atts, int natts)
{
	List	   *indexes = RelationGetIndexList(b->rel);
	ListCell   *lc;

	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), RowExclusiveLock);
		Form_pg_index form = idx->rd_index;
		bool		match = form->indisunique && form->indisvalid &&
			form->indnkeyatts == natts && idx->rd_rel->relam == BTREE_AM_OID &&
			RelationGetIndexExpressions(idx) == NIL &&
			RelationGetIndexPredicate(idx) == NIL;

		for (int i = 0; match && i < natts; i++)
		{
			bool		found = false;

			for (int k = 0; k < natts; k++)
				if (form->indkey.values[i] == atts[k] + 1)
					found = true;
			match = found;
		}
		if (!match)
		{
			index_close(idx, RowExclusiveLock);
			continue;
		}
		b->key_index = idx;
		b->key_natts = natts;
		for (int i = 0; i < natts; i++)
		{
			Oid			type = idx->rd_opcintype[i];
			Oid			op = get_opfamily_member(idx->rd_opfamily[i], type, type,
												 BTEqualStrategyNumber);

			if (!OidIsValid(op))
				elog(ERROR, "gridflow: no equality operator for column %d of index \"%s\"",
					 i + 1, RelationGetRelationName(idx));
			b->key_atts[i] = form->indkey.values[i] - 1;
			fmgr_info_cxt(get_opcode(op), &b->key_eq[i], b->cxt);
		}
		break;
	}
	list_free(indexes);
	if (b->key_index == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no unique index on its natural key",
						RelationGetRelationName(b->rel)),
				 errhint("Reinstall the gridflow extension's tables.")));
}

/*
 * Find the row whose natural key (the columns atts of a unique index, their
 * values in values/isnull by table attribute) is given.  On success the row
 * is in the returned slot (valid until the next look-up) and its TID in
 * *tid; NULL when there is none.
 */
TupleTableSlot *
gf_bulk_lookup(GfBulk *b, const int *atts, int natts, const Datum *values,
			   const bool *isnull, ItemPointer tid)
{
	Relation	idx;

	if (b->routed)
	{
		GfBulk	   *sub = routed_sub(b, b->route->key(b->route->arg, values, isnull), false);

		return sub ? gf_bulk_lookup(sub, atts, natts, values, isnull, tid) : NULL;
	}

	Assert(b->indexed);
	if (b->key_index == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(b->cxt);

		open_key_index(b, atts, natts);
		b->key_slot = table_slot_create(b->rel, NULL);
		b->key_scan = index_beginscan(b->rel, b->key_index, b->snapshot, natts, 0);
		MemoryContextSwitchTo(old);
	}
	idx = b->key_index;
	for (int i = 0; i < b->key_natts; i++)
	{
		int			att = b->key_atts[i];

		if (isnull[att])
			ScanKeyEntryInitialize(&b->key_sk[i], SK_ISNULL | SK_SEARCHNULL, i + 1,
								   InvalidStrategy, InvalidOid, InvalidOid,
								   InvalidOid, (Datum) 0);
		else
			ScanKeyEntryInitializeWithInfo(&b->key_sk[i], 0, i + 1, BTEqualStrategyNumber,
										   idx->rd_opcintype[i], idx->rd_indcollation[i],
										   &b->key_eq[i], values[att]);
	}
	index_rescan(b->key_scan, b->key_sk, b->key_natts, NULL, 0);
	if (!index_getnext_slot(b->key_scan, ForwardScanDirection, b->key_slot))
		return NULL;
	*tid = b->key_slot->tts_tid;
	return b->key_slot;
}

/* Delete a row found by gf_bulk_lookup() (its new version is written next). */
void
gf_bulk_delete(GfBulk *b, ItemPointer tid)
{
	if (b->routed)
	{
		/* the row's new version is in the slot being filled: same leaf */
		GfBulk	   *sub = routed_sub(b, b->route->key(b->route->arg, b->staging->tts_values,
													  b->staging->tts_isnull), false);

		if (sub == NULL)
			elog(ERROR, "gridflow: the partition of a row to replace does not exist");
		gf_bulk_delete(sub, tid);
		return;
	}
	Assert(b->indexed);
	simple_table_tuple_delete(b->rel, tid, b->snapshot);
}

/*
 * A valid btree index of rel whose first two key columns are the columns
 * named first and second, opened with lock; error if there is none.
 */
Relation
gf_leading_index(Relation rel, const char *first, const char *second, LOCKMODE lock)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			a1 = gf_attnum(desc, first, false) + 1;
	int			a2 = gf_attnum(desc, second, false) + 1;
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	Relation	found = NULL;

	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), lock);
		Form_pg_index form = idx->rd_index;

		if (form->indisvalid && form->indnkeyatts >= 2 && idx->rd_rel->relam == BTREE_AM_OID &&
			form->indkey.values[0] == a1 && form->indkey.values[1] == a2 &&
			RelationGetIndexExpressions(idx) == NIL && RelationGetIndexPredicate(idx) == NIL)
		{
			found = idx;
			break;
		}
		index_close(idx, lock);
	}
	list_free(indexes);
	if (found == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no index on (%s, %s)",
						RelationGetRelationName(rel), first, second),
				 errhint("Reinstall the gridflow extension's tables.")));
	return found;
}

/* Scan key attno (1-based) of index idx: the column op (strategy) value. */
void
gf_index_key(ScanKey key, Relation idx, int attno, StrategyNumber strategy, Datum value)
{
	Oid			type = idx->rd_opcintype[attno - 1];
	Oid			op = get_opfamily_member(idx->rd_opfamily[attno - 1], type, type, strategy);

	if (!OidIsValid(op))
		elog(ERROR, "gridflow: no operator of strategy %d for column %d of index \"%s\"",
			 strategy, attno, RelationGetRelationName(idx));
	ScanKeyEntryInitialize(key, 0, attno, strategy, type, idx->rd_indcollation[attno - 1],
						   get_opcode(op), value);
}

/*
 * Open table relid and an index scan of nkeys keys on its btree led by
 * first and second (gf_leading_index()), under snapshot; rescan it with
 * index_rescan() per key.
 */
void
gf_index_cursor_open(GfIndexCursor *c, Oid relid, const char *first, const char *second,
					 Snapshot snapshot, int nkeys)
{
	c->rel = table_open(relid, AccessShareLock);
	c->idx = gf_leading_index(c->rel, first, second, AccessShareLock);
	c->slot = table_slot_create(c->rel, NULL);
	c->scan = index_beginscan(c->rel, c->idx, snapshot, nkeys, 0);
}

/* Close what gf_index_cursor_open() opened (the locks stay). */
void
gf_index_cursor_close(GfIndexCursor *c)
{
	if (c->rel == NULL)
		return;
	index_endscan(c->scan);
	ExecDropSingleTupleTableSlot(c->slot);
	index_close(c->idx, AccessShareLock);
	table_close(c->rel, NoLock);
	c->rel = NULL;
}

/* Is the table empty (no pages)?  Look-ups can be skipped then. */
bool
gf_bulk_table_empty(GfBulk *b)
{
	if (b->routed)
	{
		List	   *leaves = find_all_inheritors(b->relid, AccessShareLock, NULL);
		ListCell   *lc;
		bool		empty = true;

		foreach(lc, leaves)
		{
			Relation	r = table_open(lfirst_oid(lc), AccessShareLock);

			if (r->rd_rel->relkind == RELKIND_RELATION && RelationGetNumberOfBlocks(r) > 0)
				empty = false;
			table_close(r, AccessShareLock);
		}
		return empty;
	}
	return RelationGetNumberOfBlocks(b->rel) == 0;
}

/* Same columns, in the same places? */
static bool
same_columns(TupleDesc a, TupleDesc b)
{
	if (a->natts != b->natts)
		return false;
	for (int i = 0; i < a->natts; i++)
	{
		Form_pg_attribute x = TupleDescAttr(a, i);
		Form_pg_attribute y = TupleDescAttr(b, i);

		if (x->atttypid != y->atttypid || x->attisdropped != y->attisdropped ||
			strcmp(NameStr(x->attname), NameStr(y->attname)) != 0)
			return false;
	}
	return true;
}

/*
 * The writer of the leaf for key (created, with the leaf, if create and
 * missing; NULL if missing and not create).
 */
static GfBulk *
routed_sub(GfBulk *b, int64 key, bool create)
{
	Oid			leaf;
	GfBulk	   *sub;
	MemoryContext old;

	/* rows come in runs of one leaf: try the last one first */
	if (b->nsubs > 0 && b->sub_keys[b->nsubs - 1] == key)
		return b->subs[b->nsubs - 1];
	for (int i = 0; i < b->nsubs; i++)
		if (b->sub_keys[i] == key)
		{
			int64		k = b->sub_keys[i];
			GfBulk	   *s = b->subs[i];

			/* keep the most recent last */
			b->sub_keys[i] = b->sub_keys[b->nsubs - 1];
			b->subs[i] = b->subs[b->nsubs - 1];
			b->sub_keys[b->nsubs - 1] = k;
			b->subs[b->nsubs - 1] = s;
			return s;
		}
	leaf = b->route->leaf(b->route->arg, key, create);
	if (!OidIsValid(leaf))
		return NULL;
	old = MemoryContextSwitchTo(b->cxt);
	sub = b->indexed ? gf_bulk_begin_indexed(leaf) : gf_bulk_begin(leaf);
	if (!same_columns(gf_bulk_tupdesc(sub), b->desc))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("partition \"%s\" does not have the columns of \"%s\"",
						get_rel_name(leaf), get_rel_name(b->relid)),
				 errhint("Drop the partition; gridflow creates its partitions itself.")));
	if (b->nsubs == b->maxsubs)
	{
		b->maxsubs = b->maxsubs ? b->maxsubs * 2 : 8;
		b->sub_keys = b->sub_keys ? repalloc(b->sub_keys, sizeof(int64) * b->maxsubs) :
			palloc(sizeof(int64) * b->maxsubs);
		b->subs = b->subs ? repalloc(b->subs, sizeof(GfBulk *) * b->maxsubs) :
			palloc(sizeof(GfBulk *) * b->maxsubs);
	}
	b->sub_keys[b->nsubs] = key;
	b->subs[b->nsubs] = sub;
	b->nsubs++;
	MemoryContextSwitchTo(old);
	return routed_sub(b, key, false);
}

/* Hand the filled staging slot to its leaf's writer (no copy). */
static void
routed_store(GfBulk *b, Size bytes)
{
	TupleTableSlot *slot = b->staging;
	GfBulk	   *sub;
	TupleTableSlot *spare;

	ExecStoreVirtualTuple(slot);
	sub = routed_sub(b, b->route->key(b->route->arg, slot->tts_values, slot->tts_isnull), true);
	if (sub->direct)
	{
		/* the row goes onto the leaf's page now; its datums stay till the flush */
		direct_store(sub, slot);
		ExecClearTuple(slot);
		sub->rows++;
		b->bytes += bytes;
		if (++b->nused >= GF_BULK_MAX_SLOTS || b->bytes >= GF_BULK_MAX_BYTES)
			gf_bulk_flush(b);
		return;
	}
	if (sub->nused == GF_BULK_MAX_SLOTS)
		gf_bulk_flush(b);
	spare = sub->slots[sub->nused];
	if (spare == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(b->cxt);

		spare = MakeSingleTupleTableSlot(b->desc, &TTSOpsVirtual);
		MemoryContextSwitchTo(old);
	}
	sub->slots[sub->nused++] = slot;
	b->staging = spare;
	b->bytes += bytes;
	if (sub->nused == GF_BULK_MAX_SLOTS || b->bytes >= GF_BULK_MAX_BYTES)
		gf_bulk_flush(b);
}

/*
 * A writer for partitioned table relid whose rows go to the leaves that
 * route says (created on demand); indexed as gf_bulk_begin_indexed() if
 * indexed.  The by-reference values of the rows live in gf_bulk_memory()
 * of this writer until it flushes.
 */
GfBulk *
gf_bulk_begin_routed(Oid relid, bool indexed, GfRoute *route)
{
	GfBulk	   *b = palloc0(sizeof(GfBulk));
	Relation	rel = table_open(relid, RowExclusiveLock);

	if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a partitioned table", RelationGetRelationName(rel))));
	b->relid = relid;
	b->desc = CreateTupleDescCopy(RelationGetDescr(rel));
	/* the lock stays until the end of the transaction */
	table_close(rel, NoLock);
	b->routed = true;
	b->indexed = indexed;
	b->route = route;
	b->cxt = CurrentMemoryContext;
	b->batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow routed batch",
										 ALLOCSET_DEFAULT_SIZES);
	b->staging = MakeSingleTupleTableSlot(b->desc, &TTSOpsVirtual);
	return b;
}
