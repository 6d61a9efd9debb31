/*
 * buf.h - bounded big-endian encoding and decoding.
 *
 * cf_wbuf grows up to a cap and remembers the first failure, so a run of puts
 * is checked once at the end. cf_rbuf reads from a caller's buffer and never
 * reads past its end; a failed get leaves the reader in the error state.
 * Neither is thread-safe; both are caller-owned.
 */
#ifndef CF_BUF_H
#define CF_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cf_wbuf {
	uint8_t *data;
	size_t len;
	size_t cap;   /* allocated */
	size_t limit; /* hard maximum of len */
	bool failed;
	bool secret; /* wipe on growth and on clear */
};

/* limit: the largest len the buffer may reach. */
void cf_wbuf_init(struct cf_wbuf *b, size_t limit, bool secret);
void cf_wbuf_clear(struct cf_wbuf *b);
void cf_wbuf_put(struct cf_wbuf *b, const void *p, size_t len);
void cf_wbuf_put_u8(struct cf_wbuf *b, uint8_t v);
void cf_wbuf_put_u32(struct cf_wbuf *b, uint32_t v);
void cf_wbuf_put_u64(struct cf_wbuf *b, uint64_t v);
/* u32 length then bytes. */
void cf_wbuf_put_lv(struct cf_wbuf *b, const void *p, size_t len);
/* Reserve len bytes and return where to write them, or NULL. */
uint8_t *cf_wbuf_reserve(struct cf_wbuf *b, size_t len);
/* Hands the data to the caller (free with free, or cf_free_wiped when
 * secret); the buffer is left empty. NULL when failed. */
uint8_t *cf_wbuf_steal(struct cf_wbuf *b, size_t *len);

struct cf_rbuf {
	const uint8_t *data;
	size_t len;
	size_t off;
	bool failed;
};

void cf_rbuf_init(struct cf_rbuf *r, const void *data, size_t len);
bool cf_rbuf_get(struct cf_rbuf *r, void *out, size_t len);
bool cf_rbuf_get_u8(struct cf_rbuf *r, uint8_t *v);
bool cf_rbuf_get_u32(struct cf_rbuf *r, uint32_t *v);
bool cf_rbuf_get_u64(struct cf_rbuf *r, uint64_t *v);
/* Points *p into the buffer (no copy) at the next len bytes. */
bool cf_rbuf_ref(struct cf_rbuf *r, const uint8_t **p, size_t len);
/* u32 length then bytes, referenced in place; max bounds the length. */
bool cf_rbuf_ref_lv(struct cf_rbuf *r, const uint8_t **p, size_t *len,
		    size_t max);
size_t cf_rbuf_left(const struct cf_rbuf *r);

void cf_put_be32(uint8_t *p, uint32_t v);
void cf_put_be64(uint8_t *p, uint64_t v);
uint32_t cf_get_be32(const uint8_t *p);
uint64_t cf_get_be64(const uint8_t *p);

#endif
