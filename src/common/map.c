/* map.c - see map.h. */
#include "common/map.h"

#include <errno.h>
#include <stdlib.h>

static size_t slot_of(uint64_t key, size_t cap)
{
	/* Fibonacci hashing spreads sequential handles over the table. */
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

void cf_map_init(struct cf_map *m)
{
	m->slots = NULL;
	m->cap = 0;
	m->n = 0;
}

void cf_map_clear(struct cf_map *m)
{
	free(m->slots);
	cf_map_init(m);
}

void *cf_map_get(const struct cf_map *m, uint64_t key)
{
	if (m->cap == 0 || key == 0)
		return NULL;
	for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].key == key)
			return m->slots[i].val;
		if (m->slots[i].key == 0)
			return NULL;
	}
}

static int grow(struct cf_map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 16;
	struct cf_map_slot *ns = calloc(ncap, sizeof(*ns));

	if (ns == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].key == 0)
			continue;
		size_t j = slot_of(m->slots[i].key, ncap);
		while (ns[j].key != 0)
			j = (j + 1) & (ncap - 1);
		ns[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return 0;
}

int cf_map_put(struct cf_map *m, uint64_t key, void *val)
{
	size_t i;

	if (key == 0)
		return -EINVAL;
	if ((m->n + 1) * 4 > m->cap * 3) {
		int rc = grow(m);
		if (rc != 0)
			return rc;
	}
	for (i = slot_of(key, m->cap); m->slots[i].key != 0;
	     i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].key == key) {
			m->slots[i].val = val;
			return 0;
		}
	}
	m->slots[i].key = key;
	m->slots[i].val = val;
	m->n++;
	return 0;
}

void *cf_map_remove(struct cf_map *m, uint64_t key)
{
	size_t i, j;
	void *val;

	if (m->cap == 0 || key == 0)
		return NULL;
	for (i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].key == 0)
			return NULL;
		if (m->slots[i].key == key)
			break;
	}
	val = m->slots[i].val;
	/* Backward-shift: move later entries of the probe run into the hole
	 * so lookups never stop early at it. */
	j = i;
	for (;;) {
		j = (j + 1) & (m->cap - 1);
		if (m->slots[j].key == 0)
			break;
		size_t home = slot_of(m->slots[j].key, m->cap);
		/* j's entry may move to i only if its home is not in (i, j]. */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = 0;
	m->slots[i].val = NULL;
	m->n--;
	return val;
}
