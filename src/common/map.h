/*
 * map.h - a map from non-zero 64-bit keys to pointers (open addressing,
 * linear probing, backward-shift deletion). Caller-owned and not locked:
 * the owner's lock guards it. Grows without bound only as far as the caller
 * inserts; every operation is O(1) on average.
 */
#ifndef CF_MAP_H
#define CF_MAP_H

#include <stddef.h>
#include <stdint.h>

struct cf_map_slot {
	uint64_t key; /* 0: empty */
	void *val;
};

struct cf_map {
	struct cf_map_slot *slots;
	size_t cap; /* power of two, or 0 */
	size_t n;
};

void cf_map_init(struct cf_map *m);
/* Frees the table, not the values. */
void cf_map_clear(struct cf_map *m);
void *cf_map_get(const struct cf_map *m, uint64_t key);
/* Inserts or replaces; 0 or -ENOMEM (map unchanged). key must not be 0. */
int cf_map_put(struct cf_map *m, uint64_t key, void *val)
	__attribute__((warn_unused_result));
/* Removes key and returns its value, or NULL. */
void *cf_map_remove(struct cf_map *m, uint64_t key);

/* Iteration: for (size_t i = 0; i < m->cap; i++) if (m->slots[i].key) ...
 * Removing during iteration is not allowed. */

#endif
