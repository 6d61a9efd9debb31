/*
 * secmem.c - see secmem.h.
 *
 * Small secrets (up to POOL_MAX bytes) come from a pool: blocks of
 * POOL_BLOCK bytes, each mapped, locked and excluded from core dumps once,
 * and cut into slots of one power-of-two size class. Locking a page per
 * secret made every object load two mlock calls and every free a munlock,
 * and the kernel split the heap into one VMA per locked range, so each call
 * grew slower as more secrets were held.
 *
 * A block is aligned to its size and starts with its header (which slots
 * are in use), so a free finds the block with a mask. Within a class, the
 * blocks with a free slot come before the full ones, so an allocation looks
 * only at the first block. A free slot is all zero: a fresh mapping is, and
 * a free wipes the whole slot, so an allocation needs no clearing. At most
 * one empty block per class is kept; others go back to the system.
 *
 * One mutex guards the pool. It is a leaf lock (docs/locking.md): nothing is
 * called under it that takes another lock (logging happens after it is
 * released). A fork while another thread holds it would leave the child's
 * copy locked forever, so pthread_atfork handlers hold it across fork() and
 * hand the child a fresh one. A child does not inherit memory locks either:
 * its first pool allocation locks the blocks again.
 *
 * Larger secrets get their own page-rounded allocation, locked on its own.
 */
#include "common/secmem.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/log.h"

#if defined(__SANITIZE_ADDRESS__)
#define CF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CF_ASAN 1
#endif
#endif
#ifdef CF_ASAN
/* Free slots and the unused tail of a slot are poisoned, so that ASan
 * reports overflows and uses after free inside the pool as it does on the
 * heap. */
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define POOL_BLOCK ((size_t)64 << 10)
#define POOL_MIN_SHIFT 5 /* 32-byte slots */
#define POOL_MAX_SHIFT 12
#define POOL_MAX ((size_t)1 << POOL_MAX_SHIFT)
#define POOL_CLASSES (POOL_MAX_SHIFT - POOL_MIN_SHIFT + 1)
#define POOL_MAX_SLOTS (POOL_BLOCK >> POOL_MIN_SHIFT)
#define POOL_WORDS (POOL_MAX_SLOTS / 64)

struct pool_block {
	struct pool_block *prev, *next;
	unsigned int cls;
	unsigned int first; /* slots below hold this header */
	unsigned int nslots;
	unsigned int nfree;
	uint64_t used[POOL_WORDS]; /* bit set: handed out (or header) */
};

struct pool_class {
	struct pool_block *head; /* non-full blocks first */
	struct pool_block *tail;
	unsigned int empty; /* blocks with every slot free */
};

static struct {
	pthread_mutex_t lock;
	struct pool_class cls[POOL_CLASSES];
	size_t blocks;
	size_t in_use;
	bool relock; /* a forked child: the blocks are no longer locked */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

void cf_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

static void pool_prepare(void)
{
	pthread_mutex_lock(&pool.lock);
}

static void pool_parent(void)
{
	pthread_mutex_unlock(&pool.lock);
}

static void pool_child(void)
{
	/* The forking thread holds it (pool_prepare); a fresh mutex is the
	 * portable way to hand the child an unlocked one. */
	pthread_mutex_init(&pool.lock, NULL);
	pool.relock = pool.blocks > 0;
}

static void pool_register(void)
{
	pthread_atfork(pool_prepare, pool_parent, pool_child);
}

/* Locks a range in RAM and keeps it out of core dumps; true if the lock
 * held. Failure is not fatal: only the protection is lost. */
static bool protect(void *p, size_t len)
{
	(void)madvise(p, len, MADV_DONTDUMP);
	return mlock(p, len) == 0;
}

static void mlock_failed(void)
{
	static atomic_bool told;

	if (!atomic_exchange(&told, true)) {
		cf_debug("secmem: mlock failed (%s); secrets may be swapped",
			 strerror(errno));
	}
}

static size_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (size_t)ps : 4096;
}

static unsigned int class_of(size_t len)
{
	unsigned int c = 0;

	while (((size_t)1 << (c + POOL_MIN_SHIFT)) < len)
		c++;
	return c;
}

static size_t slot_size(unsigned int cls)
{
	return (size_t)1 << (cls + POOL_MIN_SHIFT);
}

static void list_unlink(struct pool_class *c, struct pool_block *b)
{
	if (b->prev != NULL)
		b->prev->next = b->next;
	else
		c->head = b->next;
	if (b->next != NULL)
		b->next->prev = b->prev;
	else
		c->tail = b->prev;
	b->prev = b->next = NULL;
}

static void list_push_head(struct pool_class *c, struct pool_block *b)
{
	b->prev = NULL;
	b->next = c->head;
	if (c->head != NULL)
		c->head->prev = b;
	else
		c->tail = b;
	c->head = b;
}

static void list_push_tail(struct pool_class *c, struct pool_block *b)
{
	b->next = NULL;
	b->prev = c->tail;
	if (c->tail != NULL)
		c->tail->next = b;
	else
		c->head = b;
	c->tail = b;
}

/* A new block of class cls, aligned to POOL_BLOCK so that a slot's block
 * is its address rounded down. Sets *locked to whether mlock held. */
static struct pool_block *block_new(unsigned int cls, bool *locked)
{
	size_t size = slot_size(cls);
	uint8_t *raw, *p;
	uintptr_t off;
	struct pool_block *b;
	size_t hdr;

	raw = mmap(NULL, 2 * POOL_BLOCK, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	off = (uintptr_t)raw & (POOL_BLOCK - 1);
	p = off == 0 ? raw : raw + (POOL_BLOCK - off);
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	if (p + POOL_BLOCK < raw + 2 * POOL_BLOCK)
		munmap(p + POOL_BLOCK,
		       (size_t)(raw + 2 * POOL_BLOCK - (p + POOL_BLOCK)));
	*locked = protect(p, POOL_BLOCK);
	b = (struct pool_block *)p;
	b->cls = cls;
	b->nslots = (unsigned int)(POOL_BLOCK / size);
	hdr = (sizeof(*b) + size - 1) / size;
	b->first = (unsigned int)hdr;
	b->nfree = b->nslots - b->first;
	for (unsigned int i = 0; i < b->first; i++)
		b->used[i / 64] |= (uint64_t)1 << (i % 64);
	POISON(p + hdr * size, POOL_BLOCK - hdr * size);
	return b;
}

static void block_unmap(struct pool_block *b)
{
	UNPOISON(b, POOL_BLOCK);
	/* every slot was wiped when it was freed; munmap unlocks */
	munmap(b, POOL_BLOCK);
}

static unsigned int block_take(struct pool_block *b)
{
	unsigned int words = (b->nslots + 63) / 64;

	for (unsigned int w = 0; w < words; w++) {
		uint64_t freebits = ~b->used[w];
		unsigned int i;

		if (w == words - 1 && b->nslots % 64 != 0)
			freebits &= ((uint64_t)1 << (b->nslots % 64)) - 1;
		if (freebits == 0)
			continue;
		i = (unsigned int)__builtin_ctzll(freebits);
		b->used[w] |= (uint64_t)1 << i;
		return w * 64 + i;
	}
	return 0; /* not reached: the caller checked nfree */
}

/* After fork: the child's copies of the blocks are not locked. */
static bool relock_all(void)
{
	bool ok = true;

	for (unsigned int c = 0; c < POOL_CLASSES; c++)
		for (struct pool_block *b = pool.cls[c].head; b != NULL;
		     b = b->next)
			ok = mlock(b, POOL_BLOCK) == 0 && ok;
	pool.relock = false;
	return ok;
}

static void *pool_alloc(size_t len)
{
	unsigned int cls = class_of(len);
	struct pool_class *c = &pool.cls[cls];
	struct pool_block *b;
	bool locked = true;
	unsigned int i;
	uint8_t *p = NULL;

	pthread_once(&pool_once, pool_register);
	pthread_mutex_lock(&pool.lock);
	if (pool.relock)
		locked = relock_all();
	b = c->head;
	if (b == NULL || b->nfree == 0) {
		b = block_new(cls, &locked);
		if (b == NULL)
			goto out_unlock;
		pool.blocks++;
		c->empty++;
		list_push_head(c, b);
	}
	if (b->nfree == b->nslots - b->first)
		c->empty--;
	i = block_take(b);
	b->nfree--;
	if (b->nfree == 0) {
		list_unlink(c, b);
		list_push_tail(c, b);
	}
	pool.in_use++;
	p = (uint8_t *)b + (size_t)i * slot_size(cls);
	UNPOISON(p, len);
out_unlock:
	pthread_mutex_unlock(&pool.lock);
	if (!locked)
		mlock_failed();
	return p;
}

static void pool_free(void *p, size_t len)
{
	unsigned int cls = class_of(len);
	size_t size = slot_size(cls);
	struct pool_class *c = &pool.cls[cls];
	struct pool_block *b =
	    (struct pool_block *)((uintptr_t)p & ~(uintptr_t)(POOL_BLOCK - 1));
	size_t off = (size_t)((uint8_t *)p - (uint8_t *)b);
	struct pool_block *drop = NULL;
	unsigned int i = (unsigned int)(off / size);
	uint64_t bit = (uint64_t)1 << (i % 64);

	bool twice;

	/* A block's class and layout never change while it is mapped. */
	if (b->cls != cls || off % size != 0 || i < b->first ||
	    i >= b->nslots) {
		/* a len other than the allocation's: leak, do not corrupt */
		cf_error("secmem: free of %zu bytes at an address the pool "
			 "did not hand out for that size",
			 len);
		return;
	}
	/* The slot is still the caller's alone: wipe it before taking the
	 * lock. */
	UNPOISON(p, size);
	OPENSSL_cleanse(p, size);
	POISON(p, size);
	pthread_mutex_lock(&pool.lock);
	twice = (b->used[i / 64] & bit) == 0;
	if (twice)
		goto out_unlock;
	b->used[i / 64] &= ~bit;
	if (b->nfree++ == 0) {
		list_unlink(c, b);
		list_push_head(c, b);
	}
	if (b->nfree == b->nslots - b->first) {
		if (c->empty > 0) {
			list_unlink(c, b);
			pool.blocks--;
			drop = b;
		} else {
			c->empty++;
		}
	}
	pool.in_use--;
out_unlock:
	pthread_mutex_unlock(&pool.lock);
	if (twice)
		cf_error("secmem: secret freed twice");
	if (drop != NULL)
		block_unmap(drop);
}

/* A secret too large for the pool: its own page-rounded allocation. */
static size_t page_round(size_t len)
{
	size_t page = page_size();

	if (len > SIZE_MAX - page)
		return 0;
	return (len + page - 1) / page * page;
}

static void *large_alloc(size_t len)
{
	size_t size = page_round(len);
	void *p = NULL;

	if (size == 0)
		return NULL;
	if (posix_memalign(&p, page_size(), size) != 0)
		return NULL;
	memset(p, 0, size);
	if (!protect(p, size))
		mlock_failed();
	return p;
}

static void large_free(void *p, size_t len)
{
	size_t size = page_round(len);

	OPENSSL_cleanse(p, size);
	(void)madvise(p, size, MADV_DODUMP);
	(void)munlock(p, size);
	free(p);
}

void *cf_secret_alloc(size_t len)
{
	if (len <= POOL_MAX)
		return pool_alloc(len);
	return large_alloc(len);
}

void cf_secret_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	if (len <= POOL_MAX)
		pool_free(p, len);
	else
		large_free(p, len);
}

void *cf_secret_dup(const void *src, size_t len)
{
	void *p = cf_secret_alloc(len);
	if (p != NULL && len > 0)
		memcpy(p, src, len);
	return p;
}

int cf_secret_init(struct cf_secret *s, size_t len)
{
	s->data = cf_secret_alloc(len);
	s->len = s->data != NULL ? len : 0;
	return s->data != NULL ? 0 : -ENOMEM;
}

int cf_secret_set(struct cf_secret *s, const void *src, size_t len)
{
	int rc = cf_secret_init(s, len);
	if (rc == 0 && len > 0)
		memcpy(s->data, src, len);
	return rc;
}

void cf_secret_clear(struct cf_secret *s)
{
	cf_secret_free(s->data, s->len);
	s->data = NULL;
	s->len = 0;
}

void cf_free_wiped(void *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

void cf_secmem_stats(struct cf_secmem_stats *st)
{
	pthread_mutex_lock(&pool.lock);
	st->slots_in_use = pool.in_use;
	st->blocks = pool.blocks;
	pthread_mutex_unlock(&pool.lock);
	st->slot_max = POOL_MAX;
	st->block_size = POOL_BLOCK;
}
