/*
 * gen.h - a cross-process write generation beside a store file, so that
 * "has anyone committed since I last looked?" costs one atomic load
 * instead of a SQLite read transaction (file locks) on every call.
 *
 * The counter is 8 bytes in "<db>-gen", mapped shared by every process
 * that has the token open. Writers change it only while they hold the
 * store's write lock and again after their commit or rollback; the rules
 * (gen.c) make an even value mean "no writer inside, and nothing
 * committed since this value was first seen", so a reader may trust an
 * even value it has already checked, and must check the store itself for
 * anything else. A writer that dies inside leaves the value odd: readers
 * then check every time until the next clean write. The counter is only a
 * hint for skipping work; a missing or unmappable file makes every call
 * check the store, as before.
 */
#ifndef CF_STORE_GEN_H
#define CF_STORE_GEN_H

#include <stdbool.h>
#include <stdint.h>

struct cf_gen {
	void *map;	 /* the shared counter; NULL: none, always check */
	uint64_t entered; /* the value this writer set on entering */
	uint64_t seen;	 /* an even value already checked; 1: none */
};

/* Maps "<path>-gen" (created 0600 when missing). Never fails: without the
 * file g simply never lets a check be skipped. */
void cf_gen_open(struct cf_gen *g, const char *path);
void cf_gen_close(struct cf_gen *g);

/* Writers: after taking the write lock, and after commit or rollback. */
void cf_gen_enter(struct cf_gen *g);
void cf_gen_leave(struct cf_gen *g);

/* Readers: true when the store must be checked; *token is the value to
 * hand to cf_gen_checked once that check is done. */
bool cf_gen_must_check(const struct cf_gen *g, uint64_t *token);
void cf_gen_checked(struct cf_gen *g, uint64_t token);

#endif
