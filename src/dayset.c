/*-------------------------------------------------------------------------
 *
 * dayset.c
 *	  The service-point days whose product rows and daily summaries an
 *	  incremental load must refresh: a set of (local day, service point or
 *	  none), filled as the load writes its reads and as the ingest finds
 *	  the reads that new service points and meters touch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "gridflow.h"
#include "keytable.h"

/* service-point days to refresh, keyed by (date, has service point, id) */
struct GfDays
{
	GfKeyTable *keys;
	StringInfoData buf;
};

GfDays *
gf_days_create(MemoryContext cxt)
{
	GfDays	   *d = MemoryContextAllocZero(cxt, sizeof(GfDays));
	MemoryContext old = MemoryContextSwitchTo(cxt);

	d->keys = gf_keytable_create(cxt, 1024, 0);
	initStringInfo(&d->buf);
	MemoryContextSwitchTo(old);
	return d;
}

void
gf_days_add(GfDays *days, const char *sp, uint32 len, bool sp_null, int32 date)
{
	bool		found;

	resetStringInfo(&days->buf);
	appendBinaryStringInfo(&days->buf, (char *) &date, sizeof(date));
	appendStringInfoChar(&days->buf, sp_null ? '\0' : '\1');
	if (!sp_null)
		appendBinaryStringInfo(&days->buf, sp, (int) len);
	(void) gf_keytable_find(days->keys, days->buf.data, (uint32) days->buf.len,
							gf_key_hash(days->buf.data, (uint32) days->buf.len), true, &found);
}

uint32
gf_days_count(GfDays *days)
{
	return days->keys->nentries;
}

/* Entry i of days: its date, and its service point (NULL: none). */
int32
gf_days_entry(GfDays *days, uint32 i, Datum *sp, bool *sp_null)
{
	uint32		len;
	const char *k = gf_keytable_key(days->keys, i, &len);
	int32		date;

	memcpy(&date, k, sizeof(date));
	*sp_null = (k[sizeof(date)] == '\0');
	if (!*sp_null)
		*sp = PointerGetDatum(cstring_to_text_with_len(k + sizeof(date) + 1,
													   (int) (len - sizeof(date) - 1)));
	return date;
}
