/*
 * gen.c - see gen.h.
 *
 * Why the rules hold: values only ever grow, so a value a reader saw can
 * never come back. enter always changes the value and leaves it odd;
 * leave makes it even only when the value is still the one its own enter
 * set (so no writer entered after it, and every earlier writer committed
 * before this one could take the lock), and otherwise moves it on by two,
 * keeping its parity. An even value therefore appears only after the
 * commit of the last writer that entered, and a reader that sampled it
 * before a full check has seen every commit up to it. Anything written
 * later changes the value first.
 */
#include "token/store/gen.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
	       "the counter is shared between processes: it must be "
	       "lock-free");

#define GEN_SIZE sizeof(_Atomic uint64_t)
#define GEN_NONE 1 /* odd: never a value a reader may trust */

static _Atomic uint64_t *counter(const struct cf_gen *g)
{
	return g->map;
}

void cf_gen_open(struct cf_gen *g, const char *path)
{
	size_t n = strlen(path) + 5;
	char *p = malloc(n);
	struct stat st;
	void *map;
	int fd;

	*g = (struct cf_gen){.map = NULL, .seen = GEN_NONE};
	if (p == NULL)
		return;
	snprintf(p, n, "%s-gen", path);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(p);
	if (fd < 0)
		return;
	/* A file someone else owns, or one that is not a plain file, is not
	 * trusted with even a hint. ftruncate to the same size is harmless
	 * when two processes create it at once. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() ||
	    ((size_t)st.st_size < GEN_SIZE &&
	     ftruncate(fd, (off_t)GEN_SIZE) != 0)) {
		close(fd);
		return;
	}
	map = mmap(NULL, GEN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (map != MAP_FAILED)
		g->map = map;
}

void cf_gen_close(struct cf_gen *g)
{
	if (g->map != NULL)
		munmap(g->map, GEN_SIZE);
	g->map = NULL;
}

void cf_gen_enter(struct cf_gen *g)
{
	_Atomic uint64_t *c = counter(g);
	uint64_t v, nv;

	if (c == NULL)
		return;
	v = atomic_load(c);
	do
		nv = v + ((v & 1) ? 2 : 1);
	while (!atomic_compare_exchange_weak(c, &v, nv));
	g->entered = nv;
}

void cf_gen_leave(struct cf_gen *g)
{
	_Atomic uint64_t *c = counter(g);
	uint64_t v, nv;

	if (c == NULL)
		return;
	v = atomic_load(c);
	do
		nv = v == g->entered ? v + 1 : v + 2;
	while (!atomic_compare_exchange_weak(c, &v, nv));
}

bool cf_gen_must_check(const struct cf_gen *g, uint64_t *token)
{
	_Atomic uint64_t *c = counter(g);
	uint64_t v;

	*token = GEN_NONE;
	if (c == NULL)
		return true;
	v = atomic_load(c);
	*token = v;
	return (v & 1) || v != g->seen;
}

void cf_gen_checked(struct cf_gen *g, uint64_t token)
{
	if (!(token & 1))
		g->seen = token;
}
