/*
 * secmem.h - memory for secrets: PINs, keys, plaintext attribute values.
 *
 * Secret memory is locked in RAM (best effort: mlock may fail under
 * RLIMIT_MEMLOCK, which is logged once at debug level) and excluded from
 * core dumps. Secrets of up to 4 KiB share pooled blocks that are locked
 * once (no system call per secret); larger ones get their own page-aligned
 * allocation. Freeing always wipes with OPENSSL_cleanse first. Thread-safe,
 * and safe across fork() (the pool's lock is held across it; a child's
 * first allocation locks the pool's pages again).
 */
#ifndef CF_SECMEM_H
#define CF_SECMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wipes len bytes at p so that the compiler cannot drop it. */
void cf_wipe(void *p, size_t len);

/* Returns zeroed secret memory of len bytes (len may be 0), or NULL. */
void *cf_secret_alloc(size_t len) __attribute__((warn_unused_result));
/* Wipes and frees what cf_secret_alloc returned; NULL is fine. len must be
 * the length given to cf_secret_alloc. */
void cf_secret_free(void *p, size_t len);
/* cf_secret_alloc + memcpy. */
void *cf_secret_dup(const void *src, size_t len)
	__attribute__((warn_unused_result));

/* A secret byte string that carries its length. */
struct cf_secret {
	uint8_t *data;
	size_t len;
};

/* 0 or -ENOMEM. On failure *s is left empty. */
int cf_secret_init(struct cf_secret *s, size_t len)
	__attribute__((warn_unused_result));
int cf_secret_set(struct cf_secret *s, const void *src, size_t len)
	__attribute__((warn_unused_result));
/* Wipes and frees; leaves s empty. */
void cf_secret_clear(struct cf_secret *s);

/* Wipes and frees a heap buffer from malloc; NULL is fine. */
void cf_free_wiped(void *p, size_t len);

/* For tests and debugging: what the pool holds now. */
struct cf_secmem_stats {
	size_t slots_in_use; /* pooled secrets allocated and not freed */
	size_t blocks;	     /* pool blocks mapped */
	size_t slot_max;     /* largest secret served from the pool */
	size_t block_size;   /* bytes per block */
};
void cf_secmem_stats(struct cf_secmem_stats *st);

#endif
