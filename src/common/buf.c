/* buf.c - see buf.h. */
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

#include "common/secmem.h"

void cf_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void cf_put_be64(uint8_t *p, uint64_t v)
{
	cf_put_be32(p, (uint32_t)(v >> 32));
	cf_put_be32(p + 4, (uint32_t)v);
}

uint32_t cf_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

uint64_t cf_get_be64(const uint8_t *p)
{
	return (uint64_t)cf_get_be32(p) << 32 | cf_get_be32(p + 4);
}

void cf_wbuf_init(struct cf_wbuf *b, size_t limit, bool secret)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
	b->secret = secret;
}

void cf_wbuf_clear(struct cf_wbuf *b)
{
	if (b->secret)
		cf_free_wiped(b->data, b->cap);
	else
		free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

uint8_t *cf_wbuf_reserve(struct cf_wbuf *b, size_t len)
{
	uint8_t *p;

	if (b->failed)
		return NULL;
	if (len > b->limit - b->len) {
		b->failed = true;
		return NULL;
	}
	if (len > b->cap - b->len) {
		size_t ncap = b->cap ? b->cap : 64;
		uint8_t *n;
		while (ncap - b->len < len)
			ncap = ncap > b->limit / 2 ? b->limit : ncap * 2;
		n = malloc(ncap);
		if (n == NULL) {
			b->failed = true;
			return NULL;
		}
		if (b->len)
			memcpy(n, b->data, b->len);
		if (b->secret)
			cf_free_wiped(b->data, b->cap);
		else
			free(b->data);
		b->data = n;
		b->cap = ncap;
	}
	p = b->data + b->len;
	b->len += len;
	return p;
}

void cf_wbuf_put(struct cf_wbuf *b, const void *p, size_t len)
{
	uint8_t *d = cf_wbuf_reserve(b, len);
	if (d != NULL && len > 0)
		memcpy(d, p, len);
}

void cf_wbuf_put_u8(struct cf_wbuf *b, uint8_t v)
{
	cf_wbuf_put(b, &v, 1);
}

void cf_wbuf_put_u32(struct cf_wbuf *b, uint32_t v)
{
	uint8_t *d = cf_wbuf_reserve(b, 4);
	if (d != NULL)
		cf_put_be32(d, v);
}

void cf_wbuf_put_u64(struct cf_wbuf *b, uint64_t v)
{
	uint8_t *d = cf_wbuf_reserve(b, 8);
	if (d != NULL)
		cf_put_be64(d, v);
}

void cf_wbuf_put_lv(struct cf_wbuf *b, const void *p, size_t len)
{
	if (len > UINT32_MAX) {
		b->failed = true;
		return;
	}
	cf_wbuf_put_u32(b, (uint32_t)len);
	cf_wbuf_put(b, p, len);
}

uint8_t *cf_wbuf_steal(struct cf_wbuf *b, size_t *len)
{
	uint8_t *d;

	if (b->failed) {
		cf_wbuf_clear(b);
		*len = 0;
		return NULL;
	}
	if (b->data == NULL) {
		/* an empty result is still a valid allocation */
		b->data = malloc(1);
		if (b->data == NULL) {
			*len = 0;
			return NULL;
		}
		b->cap = 1;
	}
	d = b->data;
	*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

void cf_rbuf_init(struct cf_rbuf *r, const void *data, size_t len)
{
	r->data = data;
	r->len = len;
	r->off = 0;
	r->failed = false;
}

size_t cf_rbuf_left(const struct cf_rbuf *r)
{
	return r->failed ? 0 : r->len - r->off;
}

bool cf_rbuf_ref(struct cf_rbuf *r, const uint8_t **p, size_t len)
{
	if (r->failed || len > r->len - r->off) {
		r->failed = true;
		return false;
	}
	*p = r->data + r->off;
	r->off += len;
	return true;
}

bool cf_rbuf_get(struct cf_rbuf *r, void *out, size_t len)
{
	const uint8_t *p;
	if (!cf_rbuf_ref(r, &p, len))
		return false;
	if (len > 0)
		memcpy(out, p, len);
	return true;
}

bool cf_rbuf_get_u8(struct cf_rbuf *r, uint8_t *v)
{
	return cf_rbuf_get(r, v, 1);
}

bool cf_rbuf_get_u32(struct cf_rbuf *r, uint32_t *v)
{
	const uint8_t *p;
	if (!cf_rbuf_ref(r, &p, 4))
		return false;
	*v = cf_get_be32(p);
	return true;
}

bool cf_rbuf_get_u64(struct cf_rbuf *r, uint64_t *v)
{
	const uint8_t *p;
	if (!cf_rbuf_ref(r, &p, 8))
		return false;
	*v = cf_get_be64(p);
	return true;
}

bool cf_rbuf_ref_lv(struct cf_rbuf *r, const uint8_t **p, size_t *len,
		    size_t max)
{
	uint32_t n;
	if (!cf_rbuf_get_u32(r, &n))
		return false;
	if (n > max) {
		r->failed = true;
		return false;
	}
	if (!cf_rbuf_ref(r, p, n))
		return false;
	*len = n;
	return true;
}
