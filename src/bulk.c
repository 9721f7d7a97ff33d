/*-------------------------------------------------------------------------
 *
 * bulk.c
 *	  Bulk loading of gridflow's tables, the way COPY does it.
 *
 * Rows are buffered in slots and written with table_multi_insert() through
 * a BulkInsertState.  Index entries are not written row by row: when the
 * writer ends, the table's indexes are rebuilt (REINDEX), which sorts once
 * instead of descending the btree for every row.  The build truncates every
 * table it writes first, in the same transaction, so under wal_level =
 * minimal none of this is WAL-logged and a failure rolls all of it back.
 *
 * Because the writes go to the heap directly, the caller's INSERT privilege
 * is checked here, and tables with row-level security or insert triggers
 * (which this path would bypass) are refused.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"

#include "gridflow.h"

/* PostgreSQL 16 renamed relfilenode to relfilelocator */
#if PG_VERSION_NUM >= 160000
#define GF_FIRST_RELFILE_SUBID(rel) ((rel)->rd_firstRelfilelocatorSubid)
#else
#define GF_FIRST_RELFILE_SUBID(rel) ((rel)->rd_firstRelfilenodeSubid)
#endif

#define GF_BULK_MAX_SLOTS	1000
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
	MemoryContext cxt;			/* owns the writer and its slots */
	MemoryContext batch_cxt;
	uint64		rows;
};

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

/* Open relid for bulk loading. */
GfBulk *
gf_bulk_begin(Oid relid)
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
	b->cxt = CurrentMemoryContext;
	b->batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "gridflow bulk batch",
										 ALLOCSET_DEFAULT_SIZES);
	return b;
}

TupleDesc
gf_bulk_tupdesc(GfBulk *b)
{
	return RelationGetDescr(b->rel);
}

/* Context for by-reference datums of rows not yet flushed. */
MemoryContext
gf_bulk_memory(GfBulk *b)
{
	return b->batch_cxt;
}

/* Write the buffered rows now (before memory they point to goes away). */
void
gf_bulk_flush(GfBulk *b)
{
	MemoryContext old;

	if (b->nused == 0)
		return;
	old = MemoryContextSwitchTo(b->batch_cxt);
	table_multi_insert(b->rel, b->slots, b->nused, b->cid, b->options, b->bistate);
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
	TupleTableSlot *slot = b->slots[b->nused];

	if (slot == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(b->cxt);

		slot = table_slot_create(b->rel, NULL);
		b->slots[b->nused] = slot;
		MemoryContextSwitchTo(old);
	}
	ExecClearTuple(slot);
	return slot;
}

/* Store the filled slot; bytes is its approximate size. */
void
gf_bulk_store(GfBulk *b, Size bytes)
{
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

/* Flush, close, rebuild the indexes; returns the rows written. */
uint64
gf_bulk_end(GfBulk *b)
{
	Oid			relid = RelationGetRelid(b->rel);
	bool		hasindex = b->rel->rd_rel->relhasindex;
	uint64		rows;

	gf_bulk_flush(b);
	FreeBulkInsertState(b->bistate);
	table_finish_bulk_insert(b->rel, b->options);
	for (int i = 0; i < GF_BULK_MAX_SLOTS && b->slots[i] != NULL; i++)
		ExecDropSingleTupleTableSlot(b->slots[i]);
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
