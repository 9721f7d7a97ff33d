/*-------------------------------------------------------------------------
 *
 * keytable.h
 *	  A hash table of byte-string keys that numbers its entries in insertion
 *	  order, and a bump allocator for data that lives as long as the table.
 *
 * The dedup of every source file and the meter-to-service-point map use
 * it: entry numbers are dense, so callers keep their payload in arrays
 * indexed by entry, and iterating 0..n-1 replays the file order in which
 * keys were first seen.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GRIDFLOW_KEYTABLE_H
#define GRIDFLOW_KEYTABLE_H

#include "postgres.h"

typedef struct GfArena
{
	MemoryContext cxt;
	char	   *cur;
	Size		left;
	Size		allocated;		/* bytes of blocks taken from cxt */
} GfArena;

extern void gf_arena_init(GfArena *a, MemoryContext cxt);
extern void *gf_arena_alloc(GfArena *a, Size size);

typedef struct GfKeyTable
{
	MemoryContext cxt;
	GfArena		arena;			/* key bytes */
	uint32	   *buckets;		/* entry number + 1, 0 = empty */
	uint32		nbuckets;		/* power of two */
	uint32		nentries;
	uint32		capacity;
	uint32	   *hashes;			/* per entry */
	uint32	   *keylens;
	const char **keys;
} GfKeyTable;

extern GfKeyTable *gf_keytable_create(MemoryContext cxt, uint32 initial);
extern uint32 gf_key_hash(const char *key, uint32 len);

/*
 * Entry number of key, inserting it if absent (*found says which).  Only
 * lookup when insert is false: returns -1 for an absent key.
 */
extern int64 gf_keytable_find(GfKeyTable *t, const char *key, uint32 len,
							  uint32 hash, bool insert, bool *found);

#endif							/* GRIDFLOW_KEYTABLE_H */
