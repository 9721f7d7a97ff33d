/*-------------------------------------------------------------------------
 *
 * keytable.c
 *	  Insertion-ordered hash table of byte-string keys (see keytable.h).
 *
 * Open addressing with linear probing; a bucket holds the hash and a
 * pointer to the entry, so a probe that meets another key rarely leaves the
 * bucket array.  The table doubles at 50% load.  Entries live in a bump
 * arena and never move.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/memutils.h"

#include "keytable.h"

#define ARENA_BLOCK (1024 * 1024)

/* entry layout: header, payload, key bytes */
typedef struct EntryHeader
{
	uint32		keylen;
	uint32		hash;
} EntryHeader;

#define ENTRY_HEADER	MAXALIGN(sizeof(EntryHeader))
#define ENTRY_PAYLOAD(e)	((void *) ((e) + ENTRY_HEADER))
#define ENTRY_KEY(t, e)	((e) + ENTRY_HEADER + (t)->payload_size)

void
gf_arena_init(GfArena *a, MemoryContext cxt)
{
	a->cxt = cxt;
	a->cur = NULL;
	a->left = 0;
	a->allocated = 0;
}

/* MAXALIGNed memory that is freed only with the arena's context. */
void *
gf_arena_alloc(GfArena *a, Size size)
{
	void	   *p;

	size = MAXALIGN(size);
	if (size > a->left)
	{
		Size		block = Max(ARENA_BLOCK, size);

		a->cur = MemoryContextAllocHuge(a->cxt, block);
		a->left = block;
		a->allocated += block;
	}
	p = a->cur;
	a->cur += size;
	a->left -= size;
	return p;
}

uint32
gf_key_hash(const char *key, uint32 len)
{
	return hash_bytes((const unsigned char *) key, (int) len);
}

/*
 * The hash of key under seed: with a seed drawn at random, keys cannot be
 * chosen (by whoever writes a file) to collide.
 */
uint32
gf_key_hash_seeded(const char *key, uint32 len, uint64 seed)
{
	return (uint32) hash_bytes_extended((const unsigned char *) key, (int) len, seed);
}

GfKeyTable *
gf_keytable_create(MemoryContext cxt, uint32 initial, Size payload_size)
{
	GfKeyTable *t = MemoryContextAllocZero(cxt, sizeof(GfKeyTable));
	uint32		nb = 64;

	while (nb < initial * 2)
		nb <<= 1;
	t->cxt = cxt;
	gf_arena_init(&t->arena, cxt);
	t->payload_size = MAXALIGN(payload_size);
	t->nbuckets = nb;
	t->buckets = MemoryContextAllocHuge(cxt, sizeof(GfKeyBucket) * nb);
	memset(t->buckets, 0, sizeof(GfKeyBucket) * nb);
	t->capacity = nb / 2;
	t->entries = MemoryContextAllocHuge(cxt, sizeof(char *) * t->capacity);
	return t;
}

/* Double the buckets. */
static void
grow(GfKeyTable *t)
{
	uint32		nb = t->nbuckets * 2;
	uint32		mask = nb - 1;
	GfKeyBucket *buckets;

	if (t->capacity >= PG_UINT32_MAX / 4)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many distinct keys")));
	buckets = MemoryContextAllocHuge(t->cxt, sizeof(GfKeyBucket) * nb);
	memset(buckets, 0, sizeof(GfKeyBucket) * nb);
	for (uint32 e = 0; e < t->nentries; e++)
	{
		EntryHeader *h = (EntryHeader *) t->entries[e];
		uint32		i = h->hash & mask;

		while (buckets[i].entry != NULL)
			i = (i + 1) & mask;
		buckets[i].hash = h->hash;
		buckets[i].entry = t->entries[e];
	}
	pfree(t->buckets);
	t->buckets = buckets;
	t->nbuckets = nb;
	t->capacity = nb / 2;
	t->entries = repalloc_huge(t->entries, sizeof(char *) * t->capacity);
}

void *
gf_keytable_find(GfKeyTable *t, const char *key, uint32 len, uint32 hash,
				 bool insert, bool *found)
{
	uint32		mask = t->nbuckets - 1;
	uint32		i = hash & mask;
	char	   *e;
	EntryHeader *h;

	for (;;)
	{
		GfKeyBucket *b = &t->buckets[i];

		if (b->entry == NULL)
			break;
		if (b->hash == hash)
		{
			h = (EntryHeader *) b->entry;
			if (h->keylen == len && memcmp(ENTRY_KEY(t, b->entry), key, len) == 0)
			{
				if (found)
					*found = true;
				return ENTRY_PAYLOAD(b->entry);
			}
		}
		i = (i + 1) & mask;
	}
	if (found)
		*found = false;
	if (!insert)
		return NULL;

	if (t->nentries == t->capacity)
	{
		grow(t);
		return gf_keytable_find(t, key, len, hash, insert, found);
	}
	e = gf_arena_alloc(&t->arena, ENTRY_HEADER + t->payload_size + Max(len, 1));
	h = (EntryHeader *) e;
	h->keylen = len;
	h->hash = hash;
	memset(ENTRY_PAYLOAD(e), 0, t->payload_size);
	memcpy(ENTRY_KEY(t, e), key, len);
	t->entries[t->nentries++] = e;
	t->buckets[i].hash = hash;
	t->buckets[i].entry = e;
	return ENTRY_PAYLOAD(e);
}

void *
gf_keytable_payload(GfKeyTable *t, uint32 i)
{
	return ENTRY_PAYLOAD(t->entries[i]);
}

const char *
gf_keytable_key(GfKeyTable *t, uint32 i, uint32 *len)
{
	*len = ((EntryHeader *) t->entries[i])->keylen;
	return ENTRY_KEY(t, t->entries[i]);
}
