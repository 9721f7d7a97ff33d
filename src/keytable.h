/*-------------------------------------------------------------------------
 *
 * keytable.h
 *	  A hash table of byte-string keys, each with a fixed-size payload,
 *	  numbered in insertion order; and a bump allocator.
 *
 * The dedup of every source file, the meter and service point look-ups and
 * the daily aggregation use it.  An entry is one block holding the key's
 * hash and length, the payload and the key bytes, so a look-up touches the
 * bucket and the entry and nothing else; iterating entries 0..n-1 replays
 * the order in which keys were first seen, which keeps builds
 * deterministic.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GRIDFLOW_KEYTABLE_H
#define GRIDFLOW_KEYTABLE_H

#include "postgres.h"

#include "lib/stringinfo.h"

/* a hint to load memory into the cache */
#if defined(__GNUC__) || defined(__clang__)
#define gf_prefetch(p) __builtin_prefetch(p)
#else
#define gf_prefetch(p) ((void) (p))
#endif

typedef struct GfArena
{
	MemoryContext cxt;
	char	   *cur;
	Size		left;
	Size		allocated;		/* bytes of blocks taken from cxt */
} GfArena;

extern void gf_arena_init(GfArena *a, MemoryContext cxt);
extern void *gf_arena_alloc(GfArena *a, Size size);

typedef struct GfKeyBucket
{
	uint32		hash;
	char	   *entry;			/* NULL: empty */
} GfKeyBucket;

typedef struct GfKeyTable
{
	MemoryContext cxt;
	GfArena		arena;			/* entries */
	GfKeyBucket *buckets;
	uint32		nbuckets;		/* power of two */
	uint32		nentries;
	uint32		capacity;		/* entries before the buckets double */
	char	  **entries;		/* in insertion order */
	Size		payload_size;	/* MAXALIGNed */
} GfKeyTable;

extern GfKeyTable *gf_keytable_create(MemoryContext cxt, uint32 initial, Size payload_size);
extern uint32 gf_key_hash(const char *key, uint32 len);
extern uint32 gf_key_hash_seeded(const char *key, uint32 len, uint64 seed);

/*
 * Payload of key, inserting the key (with a zeroed payload) if absent and
 * insert is true; *found says which.  NULL for an absent key when insert
 * is false.
 */
extern void *gf_keytable_find(GfKeyTable *t, const char *key, uint32 len,
							  uint32 hash, bool insert, bool *found);
extern void *gf_keytable_payload(GfKeyTable *t, uint32 i);

/*
 * Look-ups of a batch of keys can overlap their cache misses: prefetch
 * the bucket of each hash first, then (once buckets are in cache) the
 * entry the probe will compare, then look each key up.  Both are hints;
 * the table may change in between.
 */
static inline void
gf_keytable_prefetch_bucket(GfKeyTable *t, uint32 hash)
{
	gf_prefetch(&t->buckets[hash & (t->nbuckets - 1)]);
}

static inline void
gf_keytable_prefetch_entry(GfKeyTable *t, uint32 hash)
{
	uint32		mask = t->nbuckets - 1;
	uint32		i = hash & mask;

	while (t->buckets[i].entry != NULL)
	{
		if (t->buckets[i].hash == hash)
		{
			const char *e = t->buckets[i].entry;

			gf_prefetch(e);
			gf_prefetch(e + 64);
			gf_prefetch(e + 128);
			return;
		}
		i = (i + 1) & mask;
	}
}
extern const char *gf_keytable_key(GfKeyTable *t, uint32 i, uint32 *len);

/*
 * Append a text key part to buf: the encoding of every single-text key
 * (service point and meter ids), and of the text parts of the others.
 */
static inline void
gf_encode_text_key(StringInfo buf, const char *s, uint32 len)
{
	appendStringInfoChar(buf, '\1');
	appendBinaryStringInfo(buf, (char *) &len, sizeof(len));
	appendBinaryStringInfo(buf, s, (int) len);
}

/* Byte strings in the order of memcmp(), a prefix first (keys, text ids). */
static inline int
gf_bytes_cmp(const char *a, uint32 la, const char *b, uint32 lb)
{
	int			c = memcmp(a, b, Min(la, lb));

	if (c != 0)
		return c;
	return (la > lb) - (la < lb);
}

#endif							/* GRIDFLOW_KEYTABLE_H */
