/*
 * codec_int.h - what the codec's files (codec.c, template.c, mech.c,
 * info.c) share and nobody else uses: the arena's two allocation budgets,
 * raw bounded reads and the allocation-failure hook of the unit tests.
 */
#ifndef CF_WIRE_CODEC_INT_H
#define CF_WIRE_CODEC_INT_H

#include "wire/codec.h"

/* CK_UNAVAILABLE_INFORMATION (and CK_EFFECTIVELY_INFINITE's neighbour, the
 * all-ones CK_ULONG) travels as the all-ones u64 whatever the width. */
#define CF_WIRE_ULONG_ALL_ONES UINT64_MAX

/*
 * The output buffers a server builds for what a call returns (attribute
 * values of C_GetAttributeValue) are justified by what the reply could
 * carry, not by the request's size: this bounds their sum per request.
 */
#define CF_WIRE_MAX_OUTPUT (16u << 20)

/* Marks the reader bad; returns false so that callers can `return`. */
bool cf_win_fail(struct cf_win *r);
size_t cf_win_left(const struct cf_win *r);
/* A present flag: exactly 0 or 1, anything else is malformed. */
bool cf_r_flag(struct cf_win *r, bool *present);
/* *p points at the next n payload bytes. */
bool cf_r_raw(struct cf_win *r, const uint8_t **p, size_t n);

/*
 * Zeroed memory that lives with the reader, for outputs the caller has
 * bounded itself (cap, CF_WIRE_MAX_LIST, CF_WIRE_MAX_OUTPUT) rather than
 * the payload. n == 0 still returns a distinct non-NULL pointer.
 */
void *cf_win_alloc_out(struct cf_win *r, size_t n);

/* malloc, or NULL when the test hook says this allocation fails. */
void *cf_wire_malloc(size_t n);
/*
 * Test hook: the nth allocation from now fails (1: the next one); 0 turns
 * failures off. Process-wide, for single-threaded unit tests only.
 */
void cf_wire_fail_alloc_at(unsigned long nth);

#endif
