/*-------------------------------------------------------------------------
 *
 * btbuild.c
 *	  A table's unique btree index written as the direct writer places its
 *	  rows, when the rows come in the index's order.
 *
 * The direct writer (bulk.c) forms the rows of a new or truncated table
 * straight into pages.  Where those rows come in the order of a unique
 * btree index of the table (the kept reads are sorted so), the index needs
 * no REINDEX: each row's index tuple is formed with the row's TID as the row
 * is placed, checked to come strictly after the previous one under the
 * index's own comparison (its operator classes and collations), and added
 * to the rightmost leaf page; a full page gets its high key (the separator
 * truncated to the attributes that tell it from the next page's first
 * tuple), its right-link, and a downlink in the level above, and is
 * written.  At the end the rightmost page of every level is written, the
 * top one as the root, and the metapage last, as btbuild does from its
 * sorted spool.
 *
 * The index gets new storage first, as REINDEX would; its block 0 is an
 * empty metapage until the end, so that the index reads as empty while the
 * pages are written behind it.  A tuple that is not after the previous one
 * (out of order, or equal: a unique violation, or NULLs that the index
 * holds distinct) abandons the stream: the caller rebuilds that index with
 * REINDEX, which sorts, and raises the error a duplicate deserves.
 *
 * Pages bypass shared buffers (only the final metapage goes through them),
 * are WAL-logged whole when the index needs WAL and then synced before the
 * end; otherwise the commit syncs the new file.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/multixact.h"
#include "access/nbtree.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/sortsupport.h"

#include "gridflow.h"

#if PG_VERSION_NUM >= 160000
#define GF_INDEX_FILE(rel) (&(rel)->rd_locator)
#define GF_SET_NEW_FILE(rel, p) RelationSetNewRelfilenumber((rel), (p))
#else
#define GF_INDEX_FILE(rel) (&(rel)->rd_node)
#define GF_SET_NEW_FILE(rel, p) RelationSetNewRelfilenode((rel), (p))
#endif

/* The page being filled on one level of the tree. */
typedef struct GfBtLevel
{
	Page		page;
	BlockNumber blkno;
	IndexTuple	lowkey;			/* the page's low key: its downlink's key */
	OffsetNumber lastoff;		/* last item on the page */
	Size		full;			/* free space left when the page counts full */
	uint32		level;
	struct GfBtLevel *up;
} GfBtLevel;

struct GfBtStream
{
	Relation	index;
	bool		use_wal;
	int			nkeyatts;
	int			natts;
	AttrNumber	heapatts[INDEX_MAX_KEYS];	/* table attribute (1-based) */
	SortSupportData ssup[INDEX_MAX_KEYS];
	BTScanInsert inskey;		/* for _bt_truncate() */
	GfBtLevel  *leaf;
	BlockNumber allocated;		/* blocks given to pages so far */
	BlockNumber written;		/* blocks in the file */
	Page		zeropage;
	bool		has_prev;
	Datum		prev_values[INDEX_MAX_KEYS];	/* deformed from the page */
	bool		prev_isnull[INDEX_MAX_KEYS];
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	double		tuples;
	MemoryContext cxt;			/* the stream's pages and state */
	MemoryContext tuple_cxt;	/* reset for each row */
};

/*
 * Can idx be written by a stream?  A valid unique btree of plain columns
 * (no expression, no predicate), permanent, of a heap that the stream's
 * writer fills from empty.
 */
static bool
stream_possible(Relation idx)
{
	Form_pg_index ind = idx->rd_index;

	if (idx->rd_rel->relam != BTREE_AM_OID ||
		!ind->indisunique || ind->indisexclusion ||
		!ind->indisvalid || !ind->indisready || !ind->indislive ||
		idx->rd_rel->relpersistence != RELPERSISTENCE_PERMANENT ||
		RelationIsMapped(idx))
		return false;
	if (!heap_attisnull(idx->rd_indextuple, Anum_pg_index_indexprs, NULL) ||
		!heap_attisnull(idx->rd_indextuple, Anum_pg_index_indpred, NULL))
		return false;
	for (int i = 0; i < IndexRelationGetNumberOfAttributes(idx); i++)
		if (ind->indkey.values[i] <= 0)
			return false;
	return true;
}

/* Write page (a finished one) as block blkno, zero blocks before it. */
static void
stream_write_page(GfBtStream *s, Page page, BlockNumber blkno)
{
	if (s->use_wal)
		log_newpage(GF_INDEX_FILE(s->index), MAIN_FORKNUM, blkno, page, true);
	while (blkno > s->written)
	{
		if (s->zeropage == NULL)
			s->zeropage = MemoryContextAllocZero(s->cxt, BLCKSZ);
		/* no checksum on an all-zero page */
		smgrextend(RelationGetSmgr(s->index), MAIN_FORKNUM, s->written++,
				   (char *) s->zeropage, true);
	}
	PageSetChecksumInplace(page, blkno);
	if (blkno == s->written)
	{
		smgrextend(RelationGetSmgr(s->index), MAIN_FORKNUM, blkno, (char *) page, true);
		s->written++;
	}
	else
		smgrwrite(RelationGetSmgr(s->index), MAIN_FORKNUM, blkno, (char *) page, true);
}

/* A new empty page on level, its high key's line pointer reserved. */
static Page
stream_new_page(GfBtStream *s, uint32 level)
{
	Page		page = MemoryContextAlloc(s->cxt, BLCKSZ);
	BTPageOpaque opaque;

	_bt_pageinit(page, BLCKSZ);
	opaque = BTPageGetOpaque(page);
	opaque->btpo_prev = P_NONE;
	opaque->btpo_next = P_NONE;
	opaque->btpo_level = level;
	opaque->btpo_flags = (level == 0) ? BTP_LEAF : 0;
	opaque->btpo_cycleid = 0;
	((PageHeader) page)->pd_lower += sizeof(ItemIdData);
	return page;
}

static GfBtLevel *
stream_new_level(GfBtStream *s, uint32 level)
{
	GfBtLevel  *l = MemoryContextAllocZero(s->cxt, sizeof(GfBtLevel));

	l->page = stream_new_page(s, level);
	l->blkno = s->allocated++;
	l->lastoff = P_HIKEY;
	l->level = level;
	if (level == 0)
		l->full = BTGetTargetPageFreeSpace(s->index);
	else
		l->full = BLCKSZ * (100 - BTREE_NONLEAF_FILLFACTOR) / 100;
	return l;
}

/*
 * Put itup at off on page; the first data item of an inner page becomes a
 * "minus infinity" pivot (its key dropped, its downlink kept).
 */
static void
stream_put(GfBtStream *s, Page page, IndexTuple itup, Size size, OffsetNumber off,
		   bool inner)
{
	IndexTupleData minus;

	if (inner && off == P_FIRSTKEY)
	{
		minus = *itup;
		minus.t_info = sizeof(IndexTupleData);
		BTreeTupleSetNAtts(&minus, 0, false);
		itup = &minus;
		size = sizeof(IndexTupleData);
	}
	if (PageAddItem(page, (Item) itup, size, off, false, false) == InvalidOffsetNumber)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not add a tuple to a page of index \"%s\"",
						RelationGetRelationName(s->index))));
}

/*
 * Add itup to level l: when the page is full, its last tuple moves to a
 * new page, becomes (truncated, on leaves) the old page's high key and the
 * new page's low key, and the old page's low key goes up as its downlink.
 */
static void
stream_add(GfBtStream *s, GfBtLevel *l, IndexTuple itup)
{
	Page		page = l->page;
	bool		leaf = (l->level == 0);
	Size		size = MAXALIGN(IndexTupleSize(itup));
	Size		space = PageGetFreeSpace(page);

	if (space < size + (leaf ? MAXALIGN(sizeof(ItemPointerData)) : 0) ||
		(space < l->full && l->lastoff > P_HIKEY))
	{
		Page		opage = page;
		BlockNumber oblkno = l->blkno;
		ItemId		ii = PageGetItemId(opage, l->lastoff);
		ItemId		hii = PageGetItemId(opage, P_HIKEY);
		IndexTuple	last = (IndexTuple) PageGetItem(opage, ii);
		IndexTuple	hikey;

		page = stream_new_page(s, l->level);
		l->blkno = s->allocated++;
		/* the old page's last tuple starts the new page */
		stream_put(s, page, last, ItemIdGetLength(ii), P_FIRSTKEY, !leaf);
		/* and is the old page's high key: its line pointer moves there */
		*hii = *ii;
		ItemIdSetUnused(ii);
		((PageHeader) opage)->pd_lower -= sizeof(ItemIdData);
		if (leaf)
		{
			ItemId		lii = PageGetItemId(opage, OffsetNumberPrev(l->lastoff));
			IndexTuple	left = (IndexTuple) PageGetItem(opage, lii);
			IndexTuple	trunc = _bt_truncate(s->index, left, last, s->inskey);

			if (!PageIndexTupleOverwrite(opage, P_HIKEY, (Item) trunc,
										 IndexTupleSize(trunc)))
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("could not set the high key of a page of index \"%s\"",
								RelationGetRelationName(s->index))));
			pfree(trunc);
		}
		hikey = (IndexTuple) PageGetItem(opage, PageGetItemId(opage, P_HIKEY));

		/* the old page's downlink, keyed by its low key */
		if (l->up == NULL)
			l->up = stream_new_level(s, l->level + 1);
		BTreeTupleSetDownLink(l->lowkey, oblkno);
		stream_add(s, l->up, l->lowkey);
		pfree(l->lowkey);
		l->lowkey = CopyIndexTuple(hikey);

		BTPageGetOpaque(opage)->btpo_next = l->blkno;
		BTPageGetOpaque(page)->btpo_prev = oblkno;
		stream_write_page(s, opage, oblkno);
		pfree(opage);
		l->page = page;
		l->lastoff = P_FIRSTKEY;
	}
	if (l->lastoff == P_HIKEY)
	{
		/* the leftmost page of its level: its low key is minus infinity */
		l->lowkey = MemoryContextAllocZero(s->cxt, sizeof(IndexTupleData));
		l->lowkey->t_info = sizeof(IndexTupleData);
		BTreeTupleSetNAtts(l->lowkey, 0, false);
	}
	l->lastoff = OffsetNumberNext(l->lastoff);
	stream_put(s, page, itup, size, l->lastoff, !leaf);
}

/*
 * Start writing index idx of heap (opened by the caller, which keeps it
 * open and locked): NULL where a stream cannot write it.
 */
GfBtStream *
gf_btstream_begin(Relation heap, Relation idx)
{
	GfBtStream *s;
	MemoryContext old;
	Page		meta;

	if (!stream_possible(idx))
		return NULL;

	s = palloc0(sizeof(GfBtStream));
	s->cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow index stream",
								   ALLOCSET_DEFAULT_SIZES);
	s->tuple_cxt = AllocSetContextCreate(s->cxt, "gridflow index tuple",
										 ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(s->cxt);
	s->index = idx;
	s->natts = IndexRelationGetNumberOfAttributes(idx);
	s->nkeyatts = IndexRelationGetNumberOfKeyAttributes(idx);
	for (int i = 0; i < s->natts; i++)
		s->heapatts[i] = idx->rd_index->indkey.values[i];
	/* the comparisons a btree build sorts by */
	for (int i = 0; i < s->nkeyatts; i++)
	{
		SortSupport ssup = &s->ssup[i];
		int16		option = idx->rd_indoption[i];

		ssup->ssup_cxt = s->cxt;
		ssup->ssup_collation = idx->rd_indcollation[i];
		ssup->ssup_nulls_first = (option & INDOPTION_NULLS_FIRST) != 0;
		ssup->ssup_attno = i + 1;
		ssup->abbreviate = false;
		PrepareSortSupportFromIndexRel(idx, (option & INDOPTION_DESC) ?
									   BTGreaterStrategyNumber : BTLessStrategyNumber,
									   ssup);
	}
	s->inskey = _bt_mkscankey(idx, NULL);
	s->inskey->allequalimage = _bt_allequalimage(idx, false);

	/* new storage, as REINDEX gives the index, empty until the end */
	GF_SET_NEW_FILE(idx, idx->rd_rel->relpersistence);
	s->use_wal = RelationNeedsWAL(idx);
	meta = MemoryContextAlloc(s->cxt, BLCKSZ);
	_bt_initmetapage(meta, P_NONE, 0, s->inskey->allequalimage);
	stream_write_page(s, meta, BTREE_METAPAGE);
	pfree(meta);
	s->allocated = BTREE_METAPAGE + 1;
	s->leaf = stream_new_level(s, 0);
	MemoryContextSwitchTo(old);
	return s;
}

/*
 * Add the row of values/isnull (the table's columns) placed at tid; false
 * (the stream is then of no more use) if it does not come strictly after
 * the previous row in the index's order, or its tuple is too big.
 */
bool
gf_btstream_add(GfBtStream *s, const Datum *values, const bool *isnull, ItemPointer tid)
{
	MemoryContext old = MemoryContextSwitchTo(s->tuple_cxt);
	IndexTuple	itup;
	GfBtLevel  *l = s->leaf;
	Page		page;

	for (int i = 0; i < s->natts; i++)
	{
		s->values[i] = values[s->heapatts[i] - 1];
		s->isnull[i] = isnull[s->heapatts[i] - 1];
	}
	if (s->has_prev)
	{
		int			c = 0;

		for (int i = 0; i < s->nkeyatts && c == 0; i++)
			c = ApplySortComparator(s->values[i], s->isnull[i],
									s->prev_values[i], s->prev_isnull[i],
									&s->ssup[i]);
		if (c <= 0)
		{
			MemoryContextSwitchTo(old);
			return false;
		}
	}
	itup = index_form_tuple(RelationGetDescr(s->index), s->values, s->isnull);
	itup->t_tid = *tid;
	if (MAXALIGN(IndexTupleSize(itup)) > BTMaxItemSize(l->page))
	{
		/* REINDEX reports it */
		MemoryContextSwitchTo(old);
		return false;
	}
	MemoryContextSwitchTo(s->cxt);
	stream_add(s, l, itup);
	MemoryContextSwitchTo(old);
	MemoryContextReset(s->tuple_cxt);

	/* the row just added is the next one's previous: read it from its page */
	page = l->page;
	index_deform_tuple((IndexTuple) PageGetItem(page, PageGetItemId(page, l->lastoff)),
					   RelationGetDescr(s->index), s->prev_values, s->prev_isnull);
	s->has_prev = true;
	s->tuples++;
	return true;
}

/*
 * Write the rightmost page of each level (the top one is the root), the
 * metapage, and the statistics REINDEX would set; the stream is freed.
 */
void
gf_btstream_finish(GfBtStream *s)
{
	BlockNumber root = P_NONE;
	uint32		rootlevel = 0;
	Buffer		metabuf;
	BlockNumber pages;
	MemoryContext old = MemoryContextSwitchTo(s->cxt);

	if (s->has_prev)
	{
		for (GfBtLevel *l = s->leaf; l != NULL; l = l->up)
		{
			Page		page = l->page;
			OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
			ItemId		prev = PageGetItemId(page, P_HIKEY);

			CHECK_FOR_INTERRUPTS();
			if (l->up == NULL)
			{
				BTPageGetOpaque(page)->btpo_flags |= BTP_ROOT;
				root = l->blkno;
				rootlevel = l->level;
			}
			else
			{
				BTreeTupleSetDownLink(l->lowkey, l->blkno);
				stream_add(s, l->up, l->lowkey);
			}
			/* rightmost: no high key; the items move down one line pointer */
			for (OffsetNumber off = P_FIRSTKEY; off <= maxoff; off = OffsetNumberNext(off))
			{
				ItemId		this = PageGetItemId(page, off);

				*prev = *this;
				prev = this;
			}
			((PageHeader) page)->pd_lower -= sizeof(ItemIdData);
			stream_write_page(s, page, l->blkno);
		}
	}
	pages = s->written;

	/* the pages are in place: now the metapage, through shared buffers */
	metabuf = ReadBuffer(s->index, BTREE_METAPAGE);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	START_CRIT_SECTION();
	_bt_initmetapage(BufferGetPage(metabuf), root, rootlevel, s->inskey->allequalimage);
	MarkBufferDirty(metabuf);
	if (s->use_wal)
		log_newpage_buffer(metabuf, true);
	END_CRIT_SECTION();
	UnlockReleaseBuffer(metabuf);

	/* pages that bypassed shared buffers: no checkpoint has them */
	if (s->use_wal)
		smgrimmedsync(RelationGetSmgr(s->index), MAIN_FORKNUM);

	/* as REINDEX: an empty index of a table never counted stays uncounted */
	vac_update_relstats(s->index, pages,
						(s->tuples == 0 && s->index->rd_rel->reltuples < 0) ? -1 : s->tuples,
						0, false,
						InvalidTransactionId, InvalidMultiXactId, NULL, NULL, true);
	MemoryContextSwitchTo(old);
	gf_btstream_abandon(s);
}

/* Free a stream (one that is finished, or abandoned for REINDEX). */
void
gf_btstream_abandon(GfBtStream *s)
{
	MemoryContextDelete(s->cxt);
	pfree(s);
}
