/*-------------------------------------------------------------------------
 *
 * keytable.c
 *	  Insertion-ordered hash table of byte-string keys (see keytable.h).
 *
 * Open addressing with linear probing over a power-of-two bucket array
 * that holds entry numbers; the table doubles at 50% load.  Per-entry data
 * (hash, key) lives in parallel arrays, key bytes in a bump arena, so an
 * entry costs about 16 bytes plus its key.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/memutils.h"

#include "keytable.h"

#define ARENA_BLOCK (1024 * 1024)

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

GfKeyTable *
gf_keytable_create(MemoryContext cxt, uint32 initial)
{
	GfKeyTable *t = MemoryContextAllocZero(cxt, sizeof(GfKeyTable));
	uint32		nb = 64;

	while (nb < initial * 2)
		nb <<= 1;
	t->cxt = cxt;
	gf_arena_init(&t->arena, cxt);
	t->nbuckets = nb;
	t->buckets = MemoryContextAllocHuge(cxt, sizeof(uint32) * nb);
	memset(t->buckets, 0, sizeof(uint32) * nb);
	t->capacity = nb / 2;
	t->hashes = MemoryContextAllocHuge(cxt, sizeof(uint32) * t->capacity);
	t->keylens = MemoryContextAllocHuge(cxt, sizeof(uint32) * t->capacity);
	t->keys = MemoryContextAllocHuge(cxt, sizeof(char *) * t->capacity);
	return t;
}

/* Double the buckets and the entry arrays. */
static void
grow(GfKeyTable *t)
{
	uint32		nb = t->nbuckets * 2;
	uint32		mask = nb - 1;
	uint32	   *buckets;

	if (nb == 0 || t->capacity >= PG_UINT32_MAX / 4)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many distinct keys in one file")));
	buckets = MemoryContextAllocHuge(t->cxt, sizeof(uint32) * nb);
	memset(buckets, 0, sizeof(uint32) * nb);
	for (uint32 e = 0; e < t->nentries; e++)
	{
		uint32		i = t->hashes[e] & mask;

		while (buckets[i] != 0)
			i = (i + 1) & mask;
		buckets[i] = e + 1;
	}
	pfree(t->buckets);
	t->buckets = buckets;
	t->nbuckets = nb;
	t->capacity = nb / 2;
	t->hashes = repalloc_huge(t->hashes, sizeof(uint32) * t->capacity);
	t->keylens = repalloc_huge(t->keylens, sizeof(uint32) * t->capacity);
	t->keys = repalloc_huge(t->keys, sizeof(char *) * t->capacity);
}

int64
gf_keytable_find(GfKeyTable *t, const char *key, uint32 len, uint32 hash,
				 bool insert, bool *found)
{
	uint32		mask = t->nbuckets - 1;
	uint32		i = hash & mask;
	uint32		e;
	char	   *copy;

	for (;;)
	{
		uint32		b = t->buckets[i];

		if (b == 0)
			break;
		e = b - 1;
		if (t->hashes[e] == hash && t->keylens[e] == len &&
			memcmp(t->keys[e], key, len) == 0)
		{
			if (found)
				*found = true;
			return e;
		}
		i = (i + 1) & mask;
	}
	if (found)
		*found = false;
	if (!insert)
		return -1;

	if (t->nentries == t->capacity)
	{
		grow(t);
		return gf_keytable_find(t, key, len, hash, insert, found);
	}
	e = t->nentries++;
	copy = gf_arena_alloc(&t->arena, Max(len, 1));
	memcpy(copy, key, len);
	t->hashes[e] = hash;
	t->keylens[e] = len;
	t->keys[e] = copy;
	t->buckets[i] = e + 1;
	return e;
}
