/*
 * codec.c - the message buffers of the wire codec and its scalar kinds:
 * integers, byte strings, output buffers and CK_ULONG lists (codec.h,
 * docs/protocol.md "Argument encodings").
 *
 * Memory: an output message grows by doubling up to its hard cap and wipes
 * every buffer it lets go of. A reader owns an arena of what its decoders
 * built; each allocation is its own block (a header then the bytes), the
 * whole list wiped and freed with the reader. Two budgets bound the arena:
 * decoded structures may take at most a fixed multiple of the payload (the
 * densest encoding, an attribute of 13 bytes, becomes 24 native bytes plus
 * the block header), and output buffers that a server prepares for a
 * call's results are bounded by the caller's own caps.
 */
#include "wire/codec_int.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define WOUT_MIN_CAP 256

/* Decoded structures may use this many bytes per payload byte, plus a
 * constant for the fixed structures of a short message. */
#define ARENA_PER_BYTE 8
#define ARENA_SLACK 4096

struct block {
	struct block *next;
	size_t n;
	max_align_t data[]; /* aligned for any native structure */
};

struct cf_arena {
	struct block *head;
	size_t used;	 /* payload-justified bytes */
	size_t budget;	 /* their limit */
	size_t out_used; /* output buffers (cf_win_alloc_out), for tests */
};

/* ---- allocation, with the unit tests' failure hook ---------------------- */

static atomic_ulong fail_countdown;

void cf_wire_fail_alloc_at(unsigned long nth)
{
	atomic_store(&fail_countdown, nth);
}

void *cf_wire_malloc(size_t n)
{
	unsigned long c = atomic_load_explicit(&fail_countdown,
					       memory_order_relaxed);

	if (c != 0) {
		c = atomic_fetch_sub(&fail_countdown, 1);
		if (c == 1)
			return NULL;
	}
	return malloc(n);
}

/* ---- output messages ---------------------------------------------------- */

void cf_wout_init(struct cf_wout *w, size_t max)
{
	*w = (struct cf_wout){.max = max};
}

void cf_wout_clear(struct cf_wout *w)
{
	if (w->data != NULL) {
		OPENSSL_cleanse(w->data, w->cap);
		free(w->data);
	}
	*w = (struct cf_wout){.max = w->max};
}

void cf_wout_reset(struct cf_wout *w)
{
	if (w->data != NULL)
		OPENSSL_cleanse(w->data, w->len);
	w->len = 0;
	w->bad = false;
}

/* Room for n more bytes, or the message turns bad. */
static bool wout_room(struct cf_wout *w, size_t n)
{
	size_t want, cap;
	uint8_t *p;

	if (w->bad)
		return false;
	if (n > w->max - w->len) {
		w->bad = true;
		return false;
	}
	want = w->len + n;
	if (want <= w->cap)
		return true;
	cap = w->cap ? w->cap : WOUT_MIN_CAP;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	if (cap > w->max)
		cap = w->max;
	/* Not realloc: the old block holds secrets and must be wiped. */
	p = cf_wire_malloc(cap);
	if (p == NULL) {
		w->bad = true;
		return false;
	}
	if (w->data != NULL) {
		memcpy(p, w->data, w->len);
		OPENSSL_cleanse(w->data, w->cap);
		free(w->data);
	}
	w->data = p;
	w->cap = cap;
	return true;
}

void cf_w_raw(struct cf_wout *w, const void *p, size_t len)
{
	if (len == 0 || !wout_room(w, len))
		return;
	memcpy(w->data + w->len, p, len);
	w->len += len;
}

void cf_w_u8(struct cf_wout *w, uint8_t v)
{
	cf_w_raw(w, &v, 1);
}

void cf_w_u32(struct cf_wout *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};

	cf_w_raw(w, b, sizeof(b));
}

void cf_w_u64(struct cf_wout *w, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	cf_w_raw(w, b, sizeof(b));
}

void cf_w_ulong(struct cf_wout *w, CK_ULONG v)
{
	/* The all-ones value (CK_UNAVAILABLE_INFORMATION) keeps its meaning
	 * across widths. */
	cf_w_u64(w, v == (CK_ULONG)-1 ? CF_WIRE_ULONG_ALL_ONES : (uint64_t)v);
}

void cf_w_bytes(struct cf_wout *w, const void *p, CK_ULONG len)
{
	if ((uint64_t)len > UINT32_MAX) {
		w->bad = true;
		return;
	}
	cf_w_u8(w, p != NULL);
	cf_w_u32(w, (uint32_t)len);
	if (p != NULL)
		cf_w_raw(w, p, len);
}

/* ---- readers ------------------------------------------------------------ */

void cf_win_init(struct cf_win *r, const void *data, size_t len)
{
	*r = (struct cf_win){.data = data, .len = data != NULL ? len : 0};
}

void cf_win_clear(struct cf_win *r)
{
	if (r->arena != NULL) {
		struct block *b = r->arena->head;
		while (b != NULL) {
			struct block *next = b->next;
			OPENSSL_cleanse(b->data, b->n);
			free(b);
			b = next;
		}
		OPENSSL_cleanse(r->arena, sizeof(*r->arena));
		free(r->arena);
	}
	*r = (struct cf_win){.bad = true};
}

bool cf_win_done(const struct cf_win *r)
{
	return !r->bad && r->pos == r->len;
}

bool cf_win_fail(struct cf_win *r)
{
	r->bad = true;
	return false;
}

size_t cf_win_left(const struct cf_win *r)
{
	return r->len - r->pos;
}

/* One arena block of n bytes, zeroed; counts against *used up to limit. */
static void *arena_alloc(struct cf_win *r, size_t n, bool out)
{
	struct cf_arena *a = r->arena;
	struct block *b;

	if (r->bad)
		return NULL;
	if (a == NULL) {
		a = cf_wire_malloc(sizeof(*a));
		if (a == NULL) {
			cf_win_fail(r);
			return NULL;
		}
		*a = (struct cf_arena){0};
		a->budget = r->len > (SIZE_MAX - ARENA_SLACK) / ARENA_PER_BYTE
				? SIZE_MAX
				: r->len * ARENA_PER_BYTE + ARENA_SLACK;
		r->arena = a;
	}
	if (n == 0)
		n = 1; /* a distinct non-NULL pointer for an empty buffer */
	/* Output buffers are bounded by their callers (cap, the list and
	 * attribute limits); structures by the payload. */
	if (n > SIZE_MAX - sizeof(*b) ||
	    (!out && n > a->budget - a->used)) {
		cf_win_fail(r);
		return NULL;
	}
	b = cf_wire_malloc(sizeof(*b) + n);
	if (b == NULL) {
		cf_win_fail(r);
		return NULL;
	}
	memset(b->data, 0, n);
	b->n = n;
	b->next = a->head;
	a->head = b;
	if (out)
		a->out_used += n;
	else
		a->used += n;
	return b->data;
}

void *cf_win_alloc(struct cf_win *r, size_t n)
{
	return arena_alloc(r, n, false);
}

void *cf_win_alloc_out(struct cf_win *r, size_t n)
{
	return arena_alloc(r, n, true);
}

bool cf_r_raw(struct cf_win *r, const uint8_t **p, size_t n)
{
	if (r->bad || n > r->len - r->pos)
		return cf_win_fail(r);
	*p = r->data + r->pos;
	r->pos += n;
	return true;
}

bool cf_r_u8(struct cf_win *r, uint8_t *v)
{
	const uint8_t *p;

	if (!cf_r_raw(r, &p, 1))
		return false;
	*v = p[0];
	return true;
}

bool cf_r_u32(struct cf_win *r, uint32_t *v)
{
	const uint8_t *p;

	if (!cf_r_raw(r, &p, 4))
		return false;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	     (uint32_t)p[2] << 8 | p[3];
	return true;
}

bool cf_r_u64(struct cf_win *r, uint64_t *v)
{
	const uint8_t *p;
	uint64_t x = 0;

	if (!cf_r_raw(r, &p, 8))
		return false;
	for (int i = 0; i < 8; i++)
		x = x << 8 | p[i];
	*v = x;
	return true;
}

bool cf_r_ulong(struct cf_win *r, CK_ULONG *v)
{
	uint64_t x;

	if (!cf_r_u64(r, &x))
		return false;
	if (x == CF_WIRE_ULONG_ALL_ONES) {
		*v = (CK_ULONG)-1;
		return true;
	}
#if ULONG_MAX < UINT64_MAX
	if (x > ULONG_MAX)
		return cf_win_fail(r);
#endif
	*v = (CK_ULONG)x;
	return true;
}

/* A present flag: exactly 0 or 1. */
bool cf_r_flag(struct cf_win *r, bool *present)
{
	uint8_t f;

	if (!cf_r_u8(r, &f))
		return false;
	if (f > 1)
		return cf_win_fail(r);
	*present = f == 1;
	return true;
}

bool cf_r_bytes(struct cf_win *r, const uint8_t **p, CK_ULONG *len)
{
	bool present;
	uint32_t n;
	const uint8_t *q = NULL;

	if (!cf_r_flag(r, &present) || !cf_r_u32(r, &n))
		return false;
	if (present && !cf_r_raw(r, &q, n))
		return false;
	*p = q;
	*len = n;
	return true;
}

/* ---- outbuf --------------------------------------------------------------- */

void cf_w_outbuf_req(struct cf_wout *w, const void *buf, const CK_ULONG *len)
{
	cf_w_u8(w, buf != NULL);
	cf_w_ulong(w, len != NULL ? *len : 0);
}

bool cf_r_outbuf_req(struct cf_win *r, size_t cap, uint8_t **buf,
		     CK_ULONG *len)
{
	bool present;
	CK_ULONG offered;
	size_t n;

	*buf = NULL;
	*len = 0;
	if (!cf_r_flag(r, &present) || !cf_r_ulong(r, &offered))
		return false;
	if (!present) {
		*len = offered;
		return true;
	}
	/* The module sees a buffer no larger than the reply could carry; a
	 * result that needs more gets CKR_BUFFER_TOO_SMALL from it. */
	n = (uint64_t)offered < cap ? (size_t)offered : cap;
	*buf = cf_win_alloc_out(r, n);
	if (*buf == NULL)
		return false;
	*len = (CK_ULONG)n;
	return true;
}

void cf_w_outbuf_rep(struct cf_wout *w, CK_RV rv, const uint8_t *buf,
		     CK_ULONG len)
{
	bool with = rv == CKR_OK && buf != NULL;

	cf_w_ulong(w, len);
	cf_w_u8(w, with);
	if (with)
		cf_w_raw(w, buf, len);
}

bool cf_r_outbuf_rep(struct cf_win *r, CK_RV rv, void *buf, CK_ULONG *len)
{
	CK_ULONG n;
	bool with;
	const uint8_t *p;

	if (!cf_r_ulong(r, &n) || !cf_r_flag(r, &with))
		return false;
	/* The bytes come exactly when the caller gave a buffer and the call
	 * succeeded, and never more than the caller offered. */
	if (with != (rv == CKR_OK && buf != NULL))
		return cf_win_fail(r);
	if (with) {
		if (n > *len || !cf_r_raw(r, &p, n))
			return cf_win_fail(r);
		if (n > 0)
			memcpy(buf, p, n);
	}
	*len = n;
	return true;
}

/* ---- ulongs_out and handles_out ------------------------------------------ */

void cf_w_ulongs_req(struct cf_wout *w, const CK_ULONG *arr,
		     const CK_ULONG *count)
{
	cf_w_u8(w, arr != NULL);
	cf_w_ulong(w, count != NULL ? *count : 0);
}

bool cf_r_ulongs_req(struct cf_win *r, CK_ULONG **arr, CK_ULONG *count)
{
	bool present;
	CK_ULONG n;

	*arr = NULL;
	*count = 0;
	if (!cf_r_flag(r, &present) || !cf_r_ulong(r, &n))
		return false;
	if (!present) {
		*count = n;
		return true;
	}
	/* No list is longer than CF_WIRE_MAX_LIST: a larger offer gets a
	 * smaller array, which still holds every possible answer. */
	if (n > CF_WIRE_MAX_LIST)
		n = CF_WIRE_MAX_LIST;
	*arr = cf_win_alloc_out(r, (size_t)n * sizeof(CK_ULONG));
	if (*arr == NULL)
		return false;
	*count = n;
	return true;
}

void cf_w_ulongs_rep(struct cf_wout *w, CK_RV rv, const CK_ULONG *arr,
		     CK_ULONG count)
{
	bool with = rv == CKR_OK && arr != NULL;

	cf_w_ulong(w, count);
	cf_w_u8(w, with);
	if (!with)
		return;
	if (count > CF_WIRE_MAX_LIST) {
		w->bad = true;
		return;
	}
	for (CK_ULONG i = 0; i < count; i++)
		cf_w_ulong(w, arr[i]);
}

bool cf_r_ulongs_rep(struct cf_win *r, CK_RV rv, CK_ULONG *arr,
		     CK_ULONG *count)
{
	CK_ULONG n;
	bool with;

	if (!cf_r_ulong(r, &n) || !cf_r_flag(r, &with))
		return false;
	if (with != (rv == CKR_OK && arr != NULL))
		return cf_win_fail(r);
	if (with) {
		if (n > *count || n > cf_win_left(r) / 8)
			return cf_win_fail(r);
		for (CK_ULONG i = 0; i < n; i++)
			if (!cf_r_ulong(r, &arr[i]))
				return false;
	}
	*count = n;
	return true;
}
