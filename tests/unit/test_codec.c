/*
 * test_codec.c - the wire codec: every argument kind and every parameter
 * type of the schema round-trips, and malformed input of every kind is
 * refused without reading, writing or allocating beyond what it may.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pkcs11/params.h"
#include "wire/codec.h"
#include "wire/codec_int.h"

bool cf_p11_param_row(bool msg, size_t i, CK_MECHANISM_TYPE *mech,
		      const struct cf_param_type **type);

#define MAX (1u << 20)

typedef bool (*decode_fn)(struct cf_win *r, void *ctx);

/* Decodes msg whole; true only if every byte was used without error. */
static bool decodes(const struct cf_wout *w, size_t len, decode_fn fn,
		    void *ctx)
{
	struct cf_win r;
	bool ok;

	cf_win_init(&r, w->data, len);
	ok = fn(&r, ctx) && cf_win_done(&r);
	cf_win_clear(&r);
	return ok;
}

/* Every strict prefix of a valid message is refused. */
static void assert_truncations_refused(const struct cf_wout *w, decode_fn fn,
				       void *ctx)
{
	assert_false(w->bad);
	assert_true(decodes(w, w->len, fn, ctx));
	for (size_t n = 0; n < w->len; n++)
		if (decodes(w, n, fn, ctx))
			fail_msg("prefix of %zu/%zu bytes decoded", n, w->len);
}

/* ---- scalars ------------------------------------------------------------ */

static void test_codec__integers_round_trip_big_endian(void **state)
{
	struct cf_wout w;
	struct cf_win r;
	uint8_t a = 0;
	uint32_t b = 0;
	uint64_t c = 0;
	CK_ULONG d = 0, e = 0;

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_u8(&w, 0xab);
	cf_w_u32(&w, 0x01020304);
	cf_w_u64(&w, 0x0102030405060708ull);
	cf_w_ulong(&w, 42);
	cf_w_ulong(&w, CK_UNAVAILABLE_INFORMATION);
	assert_false(w.bad);
	assert_int_equal(w.len, 1 + 4 + 8 + 8 + 8);
	assert_int_equal(w.data[1], 1);
	assert_int_equal(w.data[4], 4);
	assert_int_equal(w.data[5], 1);
	assert_int_equal(w.data[w.len - 1], 0xff);
	cf_win_init(&r, w.data, w.len);
	assert_true(cf_r_u8(&r, &a) && cf_r_u32(&r, &b) && cf_r_u64(&r, &c) &&
		    cf_r_ulong(&r, &d) && cf_r_ulong(&r, &e));
	assert_true(cf_win_done(&r));
	assert_int_equal(a, 0xab);
	assert_int_equal(b, 0x01020304);
	assert_true(c == 0x0102030405060708ull);
	assert_int_equal(d, 42);
	assert_true(e == CK_UNAVAILABLE_INFORMATION);
	cf_win_clear(&r);
	cf_wout_clear(&w);
}

static void test_codec__bytes_keep_null_empty_and_data_apart(void **state)
{
	struct cf_wout w;
	struct cf_win r;
	const uint8_t *p1 = NULL, *p2 = NULL, *p3 = NULL;
	CK_ULONG l1 = 0, l2 = 0, l3 = 0;

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_bytes(&w, NULL, 7);
	cf_w_bytes(&w, "", 0);
	cf_w_bytes(&w, "pin", 3);
	cf_win_init(&r, w.data, w.len);
	assert_true(cf_r_bytes(&r, &p1, &l1) && cf_r_bytes(&r, &p2, &l2) &&
		    cf_r_bytes(&r, &p3, &l3));
	assert_true(cf_win_done(&r));
	assert_null(p1);
	assert_int_equal(l1, 7);
	assert_non_null(p2);
	assert_int_equal(l2, 0);
	assert_int_equal(l3, 3);
	assert_memory_equal(p3, "pin", 3);
	cf_win_clear(&r);
	cf_wout_clear(&w);
}

static void test_codec__bad_present_flag_is_refused(void **state)
{
	static const uint8_t msg[] = {2, 0, 0, 0, 0};
	struct cf_win r;
	const uint8_t *p;
	CK_ULONG l;

	(void)state;
	cf_win_init(&r, msg, sizeof(msg));
	assert_false(cf_r_bytes(&r, &p, &l));
	assert_true(r.bad);
	cf_win_clear(&r);
}

static void test_codec__length_beyond_payload_is_refused(void **state)
{
	static const uint8_t msg[] = {1, 0, 0, 0, 5, 'a', 'b'};
	struct cf_win r;
	const uint8_t *p;
	CK_ULONG l;
	uint8_t b;

	(void)state;
	cf_win_init(&r, msg, sizeof(msg));
	assert_false(cf_r_bytes(&r, &p, &l));
	/* a failed reader stays failed */
	assert_false(cf_r_u8(&r, &b));
	assert_false(cf_win_done(&r));
	cf_win_clear(&r);
}

static void test_codec__trailing_garbage_is_not_done(void **state)
{
	static const uint8_t msg[] = {0, 0, 0, 0, 0, 0, 0, 1, 0xee};
	struct cf_win r;
	uint64_t v;

	(void)state;
	cf_win_init(&r, msg, sizeof(msg));
	assert_true(cf_r_u64(&r, &v));
	assert_false(cf_win_done(&r));
	cf_win_clear(&r);
}

static void test_codec__output_over_its_cap_turns_bad(void **state)
{
	struct cf_wout w;
	uint8_t big[64] = {0};

	(void)state;
	cf_wout_init(&w, 32);
	cf_w_raw(&w, big, sizeof(big));
	assert_true(w.bad);
	cf_wout_reset(&w);
	assert_false(w.bad);
	cf_w_raw(&w, big, 32);
	assert_false(w.bad);
	assert_int_equal(w.len, 32);
	cf_wout_clear(&w);
}

static void
test_codec__arena_refuses_what_the_payload_cannot_justify(void **state)
{
	uint8_t small[16] = {0};
	struct cf_win r;

	(void)state;
	cf_win_init(&r, small, sizeof(small));
	assert_null(cf_win_alloc(&r, (size_t)1 << 30));
	assert_true(r.bad);
	cf_win_clear(&r);
	cf_win_init(&r, small, sizeof(small));
	assert_non_null(cf_win_alloc(&r, 64));
	cf_win_clear(&r);
}

/* ---- template ------------------------------------------------------------ */

struct tmpl_ctx {
	const CK_ATTRIBUTE *want;
	CK_ULONG n;
};

static void assert_attrs_equal(const CK_ATTRIBUTE *a, const CK_ATTRIBUTE *b,
			       CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++) {
		assert_int_equal(a[i].type, b[i].type);
		assert_int_equal(a[i].ulValueLen, b[i].ulValueLen);
		if (a[i].pValue == NULL) {
			assert_null(b[i].pValue);
			continue;
		}
		assert_non_null(b[i].pValue);
		if (a[i].type == CKA_WRAP_TEMPLATE ||
		    a[i].type == CKA_UNWRAP_TEMPLATE ||
		    a[i].type == CKA_DERIVE_TEMPLATE)
			assert_attrs_equal(a[i].pValue, b[i].pValue,
					   a[i].ulValueLen /
					       sizeof(CK_ATTRIBUTE));
		else
			assert_memory_equal(a[i].pValue, b[i].pValue,
					    a[i].ulValueLen);
	}
}

static bool decode_template(struct cf_win *r, void *vctx)
{
	struct tmpl_ctx *ctx = vctx;
	CK_ATTRIBUTE *t;
	CK_ULONG n;

	if (!cf_r_template(r, &t, &n))
		return false;
	if (ctx->want != NULL && cf_win_done(r)) {
		assert_int_equal(n, ctx->n);
		assert_attrs_equal(ctx->want, t, n);
	}
	return true;
}

static CK_BBOOL yes = CK_TRUE;
static CK_ULONG cls = CKO_SECRET_KEY, kt = CKK_AES, vlen = 32;
static CK_MECHANISM_TYPE allowed[] = {CKM_AES_GCM, CKM_AES_CBC_PAD};
static CK_ULONG short_ulong = 7; /* given with a wrong length below */
static CK_ATTRIBUTE deep[] = {
    {CKA_CLASS, &cls, sizeof(cls)},
};
static CK_ATTRIBUTE inner[] = {
    {CKA_KEY_TYPE, &kt, sizeof(kt)},
    {CKA_EXTRACTABLE, &yes, sizeof(yes)},
    {CKA_LABEL, "in", 2},
    {CKA_DERIVE_TEMPLATE, deep, sizeof(deep)},
};
static CK_ATTRIBUTE rich[] = {
    {CKA_CLASS, &cls, sizeof(cls)},
    {CKA_TOKEN, &yes, sizeof(yes)},
    {CKA_LABEL, "label", 5},
    {CKA_ID, "", 0},
    {CKA_VALUE_LEN, &vlen, sizeof(vlen)},
    {CKA_VALUE, NULL, 16},
    {CKA_ALLOWED_MECHANISMS, allowed, sizeof(allowed)},
    {CKA_WRAP_TEMPLATE, inner, sizeof(inner)},
    {CKA_VENDOR_DEFINED | 0x77, "vendor", 6},
    {CKA_MODULUS_BITS, &short_ulong, 3},
};
#define NRICH (sizeof(rich) / sizeof(rich[0]))

static void test_codec__template_round_trips_every_value_kind(void **state)
{
	struct cf_wout w;
	struct tmpl_ctx ctx = {rich, NRICH};

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_template(&w, rich, NRICH);
	assert_false(w.bad);
	assert_true(decodes(&w, w.len, decode_template, &ctx));
	cf_wout_clear(&w);
}

static void test_codec__template_truncated_anywhere_is_refused(void **state)
{
	struct cf_wout w;
	struct tmpl_ctx ctx = {NULL, 0};

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_template(&w, rich, NRICH);
	assert_truncations_refused(&w, decode_template, &ctx);
	cf_wout_clear(&w);
}

static void test_codec__template_count_over_cap_is_refused(void **state)
{
	struct cf_wout w;
	struct tmpl_ctx ctx = {NULL, 0};

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_u32(&w, CF_WIRE_MAX_TEMPLATE + 1);
	for (unsigned i = 0; i <= CF_WIRE_MAX_TEMPLATE; i++) {
		cf_w_u64(&w, CKA_LABEL);
		cf_w_u8(&w, 1);
		cf_w_u32(&w, 0);
	}
	assert_false(decodes(&w, w.len, decode_template, &ctx));
	cf_wout_clear(&w);
}

static void test_codec__template_count_beyond_payload_is_refused(void **state)
{
	/* 1000 attributes announced, none sent: refused before allocating */
	static const uint8_t msg[] = {0, 0, 0x03, 0xe8};
	struct cf_win r;
	CK_ATTRIBUTE *t;
	CK_ULONG n;

	(void)state;
	cf_win_init(&r, msg, sizeof(msg));
	assert_false(cf_r_template(&r, &t, &n));
	assert_null(r.arena);
	cf_win_clear(&r);
}

/* Nesting one level deeper than CF_WIRE_MAX_DEPTH allows. */
static void put_nested(struct cf_wout *w, int levels)
{
	cf_w_u32(w, 1);
	cf_w_u64(w, CKA_WRAP_TEMPLATE);
	if (levels == 0) {
		cf_w_u8(w, 1);
		cf_w_u32(w, 0);
		return;
	}
	cf_w_u8(w, 3);
	put_nested(w, levels - 1);
}

static void test_codec__nesting_deeper_than_the_limit_is_refused(void **state)
{
	struct cf_wout w;
	struct tmpl_ctx ctx = {NULL, 0};

	(void)state;
	cf_wout_init(&w, MAX);
	put_nested(&w, CF_WIRE_MAX_DEPTH + 1);
	assert_false(decodes(&w, w.len, decode_template, &ctx));
	cf_wout_clear(&w);
}

static void
test_codec__nesting_deeper_than_the_limit_is_not_encoded(void **state)
{
	CK_ATTRIBUTE l3[] = {{CKA_WRAP_TEMPLATE, deep, sizeof(deep)}};
	CK_ATTRIBUTE l2[] = {{CKA_WRAP_TEMPLATE, l3, sizeof(l3)}};
	CK_ATTRIBUTE l1[] = {{CKA_WRAP_TEMPLATE, l2, sizeof(l2)}};
	struct cf_wout w;

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_template(&w, l1, 1);
	assert_true(w.bad);
	cf_wout_clear(&w);
}

static void
test_codec__template_raw_bytes_for_a_template_are_refused(void **state)
{
	/* A nested template sent as raw bytes would hand the module the
	 * peer's pointers. */
	struct cf_wout w;
	struct tmpl_ctx ctx = {NULL, 0};
	uint8_t fake[sizeof(CK_ATTRIBUTE)];

	(void)state;
	memset(fake, 0x41, sizeof(fake));
	cf_wout_init(&w, MAX);
	cf_w_u32(&w, 1);
	cf_w_u64(&w, CKA_UNWRAP_TEMPLATE);
	cf_w_u8(&w, 1);
	cf_w_u32(&w, sizeof(fake));
	cf_w_raw(&w, fake, sizeof(fake));
	assert_false(decodes(&w, w.len, decode_template, &ctx));
	cf_wout_clear(&w);
}

static void
test_codec__template_ulong_form_for_bytes_kind_is_refused(void **state)
{
	struct cf_wout w;
	struct tmpl_ctx ctx = {NULL, 0};

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_u32(&w, 1);
	cf_w_u64(&w, CKA_LABEL);
	cf_w_u8(&w, 2);
	cf_w_u64(&w, 5);
	assert_false(decodes(&w, w.len, decode_template, &ctx));
	cf_wout_reset(&w);
	cf_w_u32(&w, 1);
	cf_w_u64(&w, CKA_LABEL);
	cf_w_u8(&w, 9); /* no such form */
	cf_w_u64(&w, 5);
	assert_false(decodes(&w, w.len, decode_template, &ctx));
	cf_wout_clear(&w);
}

/* ---- getattrs ------------------------------------------------------------ */

/* What a module does with a template cf_r_getattrs_req built. */
static void fake_module_fill(CK_ATTRIBUTE *t, CK_ULONG n)
{
	static CK_ULONG kval = CKK_EC;

	for (CK_ULONG i = 0; i < n; i++) {
		switch (t[i].type) {
		case CKA_KEY_TYPE:
			if (t[i].pValue != NULL)
				memcpy(t[i].pValue, &kval, sizeof(kval));
			t[i].ulValueLen = sizeof(kval);
			break;
		case CKA_LABEL:
			if (t[i].pValue != NULL && t[i].ulValueLen < 6)
				t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			else {
				if (t[i].pValue != NULL)
					memcpy(t[i].pValue, "remote", 6);
				t[i].ulValueLen = 6;
			}
			break;
		case CKA_ALLOWED_MECHANISMS:
			if (t[i].pValue != NULL)
				memcpy(t[i].pValue, allowed, sizeof(allowed));
			t[i].ulValueLen = sizeof(allowed);
			break;
		case CKA_WRAP_TEMPLATE:
			if (t[i].pValue == NULL) {
				t[i].ulValueLen = 2 * sizeof(CK_ATTRIBUTE);
				break;
			}
			{
				CK_ATTRIBUTE *in = t[i].pValue;
				in[0].type = CKA_KEY_TYPE;
				in[1].type = CKA_LABEL;
				fake_module_fill(in, 2);
			}
			break;
		case CKA_VALUE:
			t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			break;
		default:
			t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			break;
		}
	}
}

/* One C_GetAttributeValue through the codec, both ends. */
static bool getattrs_trip(CK_ATTRIBUTE *t, CK_ULONG n)
{
	struct cf_wout req, rep;
	struct cf_win sr, cr;
	CK_ATTRIBUTE *st;
	CK_ULONG sn;
	bool ok = false;

	cf_wout_init(&req, MAX);
	cf_wout_init(&rep, MAX);
	cf_w_getattrs_req(&req, t, n);
	if (req.bad)
		goto out;
	cf_win_init(&sr, req.data, req.len);
	if (cf_r_getattrs_req(&sr, &st, &sn) && cf_win_done(&sr)) {
		fake_module_fill(st, sn);
		cf_w_getattrs_rep(&rep, st, sn);
	} else {
		rep.bad = true;
	}
	cf_win_clear(&sr);
	if (rep.bad)
		goto out;
	cf_win_init(&cr, rep.data, rep.len);
	ok = cf_r_getattrs_rep(&cr, t, n) && cf_win_done(&cr);
	cf_win_clear(&cr);
out:
	cf_wout_clear(&req);
	cf_wout_clear(&rep);
	return ok;
}

static void test_codec__getattrs_lengths_then_values(void **state)
{
	CK_ATTRIBUTE t[] = {
	    {CKA_KEY_TYPE, NULL, 0},
	    {CKA_LABEL, NULL, 0},
	    {CKA_ALLOWED_MECHANISMS, NULL, 0},
	    {CKA_VALUE, NULL, 0},
	};
	CK_ULONG k = 0;
	char label[16] = {0};
	CK_MECHANISM_TYPE mechs[2] = {0};

	(void)state;
	assert_true(getattrs_trip(t, 4));
	assert_int_equal(t[0].ulValueLen, sizeof(CK_ULONG));
	assert_int_equal(t[1].ulValueLen, 6);
	assert_int_equal(t[2].ulValueLen, sizeof(allowed));
	assert_true(t[3].ulValueLen == CK_UNAVAILABLE_INFORMATION);
	t[0].pValue = &k;
	t[1].pValue = label;
	t[1].ulValueLen = sizeof(label);
	t[2].pValue = mechs;
	assert_true(getattrs_trip(t, 4));
	assert_int_equal(k, CKK_EC);
	assert_int_equal(t[1].ulValueLen, 6);
	assert_memory_equal(label, "remote", 6);
	assert_memory_equal(mechs, allowed, sizeof(allowed));
}

static void test_codec__getattrs_short_buffer_gets_no_value(void **state)
{
	char label[3] = {'x', 'y', 'z'};
	CK_ATTRIBUTE t[] = {{CKA_LABEL, label, sizeof(label)}};

	(void)state;
	assert_true(getattrs_trip(t, 1));
	assert_true(t[0].ulValueLen == CK_UNAVAILABLE_INFORMATION);
	assert_memory_equal(label, "xyz", 3);
}

static void test_codec__getattrs_nested_template(void **state)
{
	CK_ATTRIBUTE in[2] = {{0, NULL, 0}, {0, NULL, 0}};
	CK_ATTRIBUTE t[] = {{CKA_WRAP_TEMPLATE, NULL, 0}};
	CK_ULONG k = 0;
	char label[8];

	(void)state;
	assert_true(getattrs_trip(t, 1));
	assert_int_equal(t[0].ulValueLen, 2 * sizeof(CK_ATTRIBUTE));
	t[0].pValue = in;
	assert_true(getattrs_trip(t, 1));
	assert_int_equal(in[0].type, CKA_KEY_TYPE);
	assert_int_equal(in[0].ulValueLen, sizeof(CK_ULONG));
	assert_int_equal(in[1].type, CKA_LABEL);
	assert_int_equal(in[1].ulValueLen, 6);
	in[0].pValue = &k;
	in[1].pValue = label;
	in[1].ulValueLen = sizeof(label);
	assert_true(getattrs_trip(t, 1));
	assert_int_equal(k, CKK_EC);
	assert_memory_equal(label, "remote", 6);
}

static void
test_codec__getattrs_value_longer_than_buffer_is_refused(void **state)
{
	char label[4] = {0};
	CK_ATTRIBUTE t[] = {{CKA_LABEL, label, sizeof(label)}};
	struct cf_wout w;
	struct cf_win r;

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_u32(&w, 1);
	cf_w_u64(&w, CKA_LABEL);
	cf_w_u64(&w, 10);
	cf_w_u8(&w, 1);
	cf_w_raw(&w, "0123456789", 10);
	cf_win_init(&r, w.data, w.len);
	assert_false(cf_r_getattrs_rep(&r, t, 1));
	assert_memory_equal(label, "\0\0\0\0", 4);
	cf_win_clear(&r);
	cf_wout_clear(&w);
}

static void test_codec__getattrs_reply_for_another_type_is_refused(void **state)
{
	char label[8];
	CK_ATTRIBUTE t[] = {{CKA_LABEL, label, sizeof(label)}};
	struct cf_wout w;
	struct cf_win r;

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_u32(&w, 1);
	cf_w_u64(&w, CKA_ID);
	cf_w_u64(&w, 2);
	cf_w_u8(&w, 1);
	cf_w_raw(&w, "id", 2);
	cf_win_init(&r, w.data, w.len);
	assert_false(cf_r_getattrs_rep(&r, t, 1));
	cf_win_clear(&r);
	cf_wout_clear(&w);
}

/* A module that claims a longer value than its buffer held: the server
 * sends the length but no bytes from beyond the buffer. */
static void test_codec__getattrs_module_overclaim_sends_no_value(void **state)
{
	char label[4];
	CK_ATTRIBUTE t[] = {{CKA_LABEL, label, sizeof(label)}};
	struct cf_wout req, rep;
	struct cf_win sr, cr;
	CK_ATTRIBUTE *st;
	CK_ULONG sn;

	(void)state;
	cf_wout_init(&req, MAX);
	cf_wout_init(&rep, MAX);
	cf_w_getattrs_req(&req, t, 1);
	cf_win_init(&sr, req.data, req.len);
	assert_true(cf_r_getattrs_req(&sr, &st, &sn));
	st[0].ulValueLen = 4096;
	cf_w_getattrs_rep(&rep, st, sn);
	assert_false(rep.bad);
	assert_true(rep.len < 64);
	cf_win_init(&cr, rep.data, rep.len);
	assert_true(cf_r_getattrs_rep(&cr, t, 1));
	assert_int_equal(t[0].ulValueLen, 4096);
	cf_win_clear(&cr);
	cf_win_clear(&sr);
	cf_wout_clear(&req);
	cf_wout_clear(&rep);
}

static void test_codec__getattrs_huge_buffer_request_is_bounded(void **state)
{
	struct cf_wout w;
	struct cf_win r;
	CK_ATTRIBUTE *t;
	CK_ULONG n;

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_u32(&w, 2);
	for (int i = 0; i < 2; i++) {
		cf_w_u64(&w, CKA_VALUE);
		cf_w_u8(&w, 1);
		cf_w_u64(&w, UINT64_MAX - 1);
	}
	cf_win_init(&r, w.data, w.len);
	assert_true(cf_r_getattrs_req(&r, &t, &n));
	assert_int_equal(n, 2);
	assert_true(t[0].ulValueLen + t[1].ulValueLen <= CF_WIRE_MAX_OUTPUT);
	cf_win_clear(&r);
	cf_wout_clear(&w);
}

static bool decode_getattrs_req(struct cf_win *r, void *ctx)
{
	CK_ATTRIBUTE *t;
	CK_ULONG n;

	(void)ctx;
	return cf_r_getattrs_req(r, &t, &n);
}

static void
test_codec__getattrs_request_truncated_anywhere_is_refused(void **state)
{
	CK_ATTRIBUTE in[2] = {{CKA_KEY_TYPE, NULL, 0}, {CKA_LABEL, NULL, 4}};
	char buf[4];
	CK_ATTRIBUTE t[] = {
	    {CKA_LABEL, buf, sizeof(buf)},
	    {CKA_WRAP_TEMPLATE, in, sizeof(in)},
	};
	struct cf_wout w;

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_getattrs_req(&w, t, 2);
	assert_truncations_refused(&w, decode_getattrs_req, NULL);
	cf_wout_clear(&w);
}

/* ---- mechanism parameters --------------------------------------------------
 */

/* A parameter of any table type, filled from the table alone. */
struct pbuf {
	max_align_t st[16];
	uint8_t data[8][64];
};

static void fill_param(const struct cf_param_type *t, struct pbuf *b, void **p,
		       CK_ULONG *len)
{
	uint8_t *st = (uint8_t *)b->st;

	memset(b, 0, sizeof(*b));
	for (size_t k = 0; k < sizeof(b->data); k++)
		b->data[k / 64][k % 64] = (uint8_t)(k * 7 + 1);
	*p = st;
	switch (t->shape) {
	case CF_PARAM_BYTES:
		*p = b->data[0];
		*len = 16;
		return;
	case CF_PARAM_ULONG:
		*(CK_ULONG *)(void *)st = 96;
		*len = sizeof(CK_ULONG);
		return;
	default:
		break;
	}
	assert_true(t->size <= sizeof(b->st));
	*len = (CK_ULONG)t->size;
	for (size_t i = 0; i < t->nfields; i++) {
		const struct cf_pfield *f = &t->fields[i];
		CK_ULONG v = 0x1000 + i;
		uint8_t *ptr = b->data[i];

		switch (f->kind) {
		case CF_PF_ULONG:
		case CF_PF_HANDLE:
			memcpy(st + f->off, &v, sizeof(v));
			break;
		case CF_PF_BOOL:
			st[f->off] = CK_TRUE;
			break;
		case CF_PF_ARRAY:
			memset(st + f->off, (int)(0x30 + i), f->fixed_len);
			break;
		case CF_PF_BYTES:
			memcpy(st + f->off, &ptr, sizeof(ptr));
			if (f->len_off != CF_PF_NO_LEN) {
				v = f->len_in_bits ? 96 : 5 + i;
				memcpy(st + f->len_off, &v, sizeof(v));
			}
			break;
		}
	}
}

static size_t nbytes(const struct cf_pfield *f, const uint8_t *st)
{
	CK_ULONG v;

	if (f->len_off == CF_PF_NO_LEN)
		return f->fixed_len;
	memcpy(&v, st + f->len_off, sizeof(v));
	return f->len_in_bits ? (v + 7) / 8 : v;
}

static void assert_param_equal(const struct cf_param_type *t, const void *a,
			       CK_ULONG alen, const void *b, CK_ULONG blen)
{
	assert_int_equal(alen, blen);
	if (t->shape != CF_PARAM_STRUCT) {
		assert_memory_equal(a, b, alen);
		return;
	}
	for (size_t i = 0; i < t->nfields; i++) {
		const struct cf_pfield *f = &t->fields[i];
		const uint8_t *x = a, *y = b;
		void *px, *py;

		switch (f->kind) {
		case CF_PF_BYTES:
			memcpy(&px, x + f->off, sizeof(px));
			memcpy(&py, y + f->off, sizeof(py));
			assert_int_equal(nbytes(f, x), nbytes(f, y));
			if (f->len_off != CF_PF_NO_LEN)
				assert_memory_equal(x + f->len_off,
						    y + f->len_off,
						    sizeof(CK_ULONG));
			assert_memory_equal(px, py, nbytes(f, x));
			break;
		case CF_PF_BOOL:
			assert_int_equal(x[f->off], y[f->off]);
			break;
		case CF_PF_ARRAY:
			assert_memory_equal(x + f->off, y + f->off,
					    f->fixed_len);
			break;
		default:
			assert_memory_equal(x + f->off, y + f->off,
					    sizeof(CK_ULONG));
			break;
		}
	}
}

static void test_codec__every_mechanism_parameter_round_trips(void **state)
{
	CK_MECHANISM_TYPE mech;
	const struct cf_param_type *type;

	(void)state;
	for (size_t i = 0; cf_p11_param_row(false, i, &mech, &type); i++) {
		struct pbuf b;
		CK_MECHANISM m = {mech, NULL, 0}, *got;
		struct cf_wout w;
		struct cf_win r;

		fill_param(type, &b, &m.pParameter, &m.ulParameterLen);
		assert_true(cf_mech_encodable(&m));
		cf_wout_init(&w, MAX);
		cf_w_mech(&w, &m);
		assert_false(w.bad);
		cf_win_init(&r, w.data, w.len);
		if (!cf_r_mech(&r, &got) || !cf_win_done(&r))
			fail_msg("%s for 0x%lx did not decode", type->name,
				 mech);
		assert_int_equal(got->mechanism, mech);
		assert_param_equal(type, m.pParameter, m.ulParameterLen,
				   got->pParameter, got->ulParameterLen);
		cf_win_clear(&r);
		cf_wout_clear(&w);
	}
}

static bool decode_mech(struct cf_win *r, void *ctx)
{
	CK_MECHANISM *m;

	(void)ctx;
	return cf_r_mech(r, &m);
}

static void test_codec__mechanisms_truncated_anywhere_are_refused(void **state)
{
	CK_MECHANISM_TYPE mech;
	const struct cf_param_type *type;

	(void)state;
	for (size_t i = 0; cf_p11_param_row(false, i, &mech, &type); i++) {
		struct pbuf b;
		CK_MECHANISM m = {mech, NULL, 0};
		struct cf_wout w;

		fill_param(type, &b, &m.pParameter, &m.ulParameterLen);
		cf_wout_init(&w, MAX);
		cf_w_mech(&w, &m);
		assert_truncations_refused(&w, decode_mech, NULL);
		cf_wout_clear(&w);
	}
}

static void test_codec__null_mechanism_and_null_parameter(void **state)
{
	CK_MECHANISM m = {CKM_SHA256, NULL, 0}, *got = &m;
	CK_MECHANISM e = {CKM_EDDSA, NULL, 0};
	struct cf_wout w;
	struct cf_win r;

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_mech(&w, NULL);
	cf_w_mech(&w, &m);
	cf_w_mech(&w, &e);
	cf_win_init(&r, w.data, w.len);
	assert_true(cf_r_mech(&r, &got));
	assert_null(got);
	assert_true(cf_r_mech(&r, &got));
	assert_int_equal(got->mechanism, CKM_SHA256);
	assert_null(got->pParameter);
	assert_true(cf_r_mech(&r, &got));
	assert_int_equal(got->mechanism, CKM_EDDSA);
	assert_null(got->pParameter);
	assert_true(cf_win_done(&r));
	cf_win_clear(&r);
	cf_wout_clear(&w);
}

static void
test_codec__unknown_mechanism_parameter_is_not_encodable(void **state)
{
	uint8_t foreign[24] = {1};
	CK_MECHANISM m = {CKM_VENDOR_DEFINED | 5, foreign, sizeof(foreign)};
	CK_MECHANISM gcm_short = {CKM_AES_GCM, foreign, 8};
	struct cf_wout w;

	(void)state;
	assert_false(cf_mech_encodable(&m));
	assert_false(cf_mech_encodable(&gcm_short));
	cf_wout_init(&w, MAX);
	cf_w_mech(&w, &m);
	assert_true(w.bad);
	cf_wout_clear(&w);
	/* a zero-length parameter holds no pointer: it crosses as NULL */
	m.ulParameterLen = 0;
	assert_true(cf_mech_encodable(&m));
}

static void test_codec__unknown_mechanism_with_a_body_is_refused(void **state)
{
	struct cf_wout w;
	struct cf_win r;
	CK_MECHANISM *got;

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_u8(&w, 1);
	cf_w_u64(&w, CKM_VENDOR_DEFINED | 5);
	cf_w_u8(&w, 1);
	cf_w_u32(&w, 4);
	cf_w_raw(&w, "abcd", 4);
	cf_win_init(&r, w.data, w.len);
	assert_false(cf_r_mech(&r, &got));
	cf_win_clear(&r);
	cf_wout_clear(&w);
}

static void test_codec__parameter_bytes_beyond_payload_are_refused(void **state)
{
	/* CK_GCM_PARAMS whose pIv claims 2^40 bytes */
	struct cf_wout w;
	struct cf_win r;
	CK_MECHANISM *got;

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_u8(&w, 1);
	cf_w_u64(&w, CKM_AES_GCM);
	cf_w_u8(&w, 1);
	cf_w_u64(&w, (uint64_t)1 << 40);
	cf_w_u8(&w, 1);
	cf_w_raw(&w, "0123456789ab", 12);
	cf_win_init(&r, w.data, w.len);
	assert_false(cf_r_mech(&r, &got));
	cf_win_clear(&r);
	cf_wout_clear(&w);
}

/* ---- message parameters
 * ------------------------------------------------------ */

static void test_codec__message_parameters_travel_both_ways(void **state)
{
	CK_MECHANISM_TYPE mech;
	const struct cf_param_type *type;

	(void)state;
	for (size_t i = 0; cf_p11_param_row(true, i, &mech, &type); i++) {
		struct pbuf b;
		void *p, *sp;
		CK_ULONG len, slen;
		struct cf_wout req, rep;
		struct cf_win sr, cr;

		fill_param(type, &b, &p, &len);
		assert_true(cf_msgparam_encodable(mech, p, len));
		cf_wout_init(&req, MAX);
		cf_wout_init(&rep, MAX);
		cf_w_msgparam_req(&req, mech, p, len);
		assert_false(req.bad);
		cf_win_init(&sr, req.data, req.len);
		assert_true(cf_r_msgparam_req(&sr, mech, &sp, &slen));
		assert_true(cf_win_done(&sr));
		assert_param_equal(type, p, len, sp, slen);
		/* the module writes the in/out fields (IV, tag) */
		for (size_t k = 0; k < type->nfields; k++) {
			const struct cf_pfield *f = &type->fields[k];
			void *q;
			if (f->kind != CF_PF_BYTES || !f->inout)
				continue;
			memcpy(&q, (uint8_t *)sp + f->off, sizeof(q));
			memset(q, 0xa5, nbytes(f, sp));
		}
		cf_w_msgparam_rep(&rep, mech, sp, slen);
		assert_false(rep.bad);
		cf_win_init(&cr, rep.data, rep.len);
		assert_true(cf_r_msgparam_rep(&cr, mech, p, len));
		assert_true(cf_win_done(&cr));
		for (size_t k = 0; k < type->nfields; k++) {
			const struct cf_pfield *f = &type->fields[k];
			uint8_t *q;
			if (f->kind != CF_PF_BYTES)
				continue;
			memcpy(&q, (uint8_t *)p + f->off, sizeof(q));
			for (size_t j = 0; j < nbytes(f, p); j++)
				assert_int_equal(q[j], f->inout ? 0xa5
								: b.data[k][j]);
		}
		cf_win_clear(&cr);
		cf_win_clear(&sr);
		cf_wout_clear(&req);
		cf_wout_clear(&rep);
	}
}

static void test_codec__message_reply_of_another_length_is_refused(void **state)
{
	struct pbuf b;
	void *p;
	CK_ULONG len;
	struct cf_wout w;
	struct cf_win r;

	(void)state;
	fill_param(cf_p11_msg_param(CKM_AES_GCM), &b, &p, &len);
	cf_wout_init(&w, MAX);
	cf_w_u8(&w, 1);
	cf_w_u8(&w, 1);
	cf_w_u32(&w, 64); /* the IV is 5 bytes here */
	for (int i = 0; i < 64; i++)
		cf_w_u8(&w, 0xee);
	cf_w_u8(&w, 1);
	cf_w_u32(&w, 12);
	for (int i = 0; i < 12; i++)
		cf_w_u8(&w, 0xee);
	cf_win_init(&r, w.data, w.len);
	assert_false(cf_r_msgparam_rep(&r, CKM_AES_GCM, p, len));
	assert_int_equal(b.data[0][0], 1); /* the caller's IV untouched */
	cf_win_clear(&r);
	cf_wout_clear(&w);
}

static void test_codec__message_parameter_of_unknown_mechanism(void **state)
{
	uint8_t foreign[16] = {0};

	(void)state;
	assert_false(cf_msgparam_encodable(CKM_AES_CBC, foreign, 16));
	assert_true(cf_msgparam_encodable(CKM_AES_CBC, NULL, 0));
}

/* ---- outbuf, ulongs, infos ------------------------------------------------
 */

static void test_codec__outbuf_round_trip(void **state)
{
	uint8_t out[8] = {0};
	CK_ULONG len = sizeof(out), slen;
	uint8_t *sbuf;
	struct cf_wout req, rep;
	struct cf_win sr, cr;

	(void)state;
	cf_wout_init(&req, MAX);
	cf_wout_init(&rep, MAX);
	cf_w_outbuf_req(&req, out, &len);
	cf_win_init(&sr, req.data, req.len);
	assert_true(cf_r_outbuf_req(&sr, 4096, &sbuf, &slen));
	assert_true(cf_win_done(&sr));
	assert_non_null(sbuf);
	assert_int_equal(slen, 8);
	memcpy(sbuf, "cipher", 6);
	cf_w_outbuf_rep(&rep, CKR_OK, sbuf, 6);
	cf_win_init(&cr, rep.data, rep.len);
	assert_true(cf_r_outbuf_rep(&cr, CKR_OK, out, &len));
	assert_true(cf_win_done(&cr));
	assert_int_equal(len, 6);
	assert_memory_equal(out, "cipher", 6);
	cf_win_clear(&cr);
	cf_win_clear(&sr);
	cf_wout_clear(&req);
	cf_wout_clear(&rep);
}

static void test_codec__outbuf_length_query_and_cap(void **state)
{
	CK_ULONG len = 0, slen;
	uint8_t *sbuf;
	uint8_t big[1];
	CK_ULONG biglen = 1u << 30;
	struct cf_wout w;
	struct cf_win r;

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_outbuf_req(&w, NULL, &len);
	cf_w_outbuf_req(&w, big, &biglen);
	cf_win_init(&r, w.data, w.len);
	assert_true(cf_r_outbuf_req(&r, 4096, &sbuf, &slen));
	assert_null(sbuf);
	assert_true(cf_r_outbuf_req(&r, 4096, &sbuf, &slen));
	assert_non_null(sbuf);
	assert_int_equal(slen, 4096);
	cf_win_clear(&r);
	cf_wout_reset(&w);
	/* the length of a query's answer, no bytes */
	cf_w_outbuf_rep(&w, CKR_OK, NULL, 256);
	cf_win_init(&r, w.data, w.len);
	assert_true(cf_r_outbuf_rep(&r, CKR_OK, NULL, &len));
	assert_int_equal(len, 256);
	assert_true(cf_win_done(&r));
	cf_win_clear(&r);
	cf_wout_clear(&w);
}

static void test_codec__outbuf_reply_beyond_offer_is_refused(void **state)
{
	uint8_t out[4] = {0};
	CK_ULONG len = sizeof(out);
	uint8_t src[16] = {1};
	struct cf_wout w;
	struct cf_win r;

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_outbuf_rep(&w, CKR_OK, src, sizeof(src));
	cf_win_init(&r, w.data, w.len);
	assert_false(cf_r_outbuf_rep(&r, CKR_OK, out, &len));
	assert_int_equal(len, 4);
	assert_int_equal(out[0], 0);
	cf_win_clear(&r);
	cf_wout_clear(&w);
}

static void test_codec__outbuf_bytes_on_failure_are_refused(void **state)
{
	uint8_t out[4];
	CK_ULONG len = sizeof(out);
	struct cf_wout w;
	struct cf_win r;

	(void)state;
	cf_wout_init(&w, MAX);
	cf_w_outbuf_rep(&w, CKR_OK, (const uint8_t *)"ab", 2);
	cf_win_init(&r, w.data, w.len);
	/* the client's call failed, yet bytes came: protocol error */
	assert_false(cf_r_outbuf_rep(&r, CKR_BUFFER_TOO_SMALL, out, &len));
	cf_win_clear(&r);
	cf_wout_clear(&w);
}

static void test_codec__ulongs_round_trip_and_bounds(void **state)
{
	CK_ULONG slots[4] = {0}, count = 4, *sarr, scount;
	CK_ULONG found[] = {1, 2, CK_UNAVAILABLE_INFORMATION};
	struct cf_wout req, rep;
	struct cf_win sr, cr;

	(void)state;
	cf_wout_init(&req, MAX);
	cf_wout_init(&rep, MAX);
	cf_w_ulongs_req(&req, slots, &count);
	cf_win_init(&sr, req.data, req.len);
	assert_true(cf_r_ulongs_req(&sr, &sarr, &scount));
	assert_int_equal(scount, 4);
	memcpy(sarr, found, sizeof(found));
	cf_w_ulongs_rep(&rep, CKR_OK, sarr, 3);
	cf_win_init(&cr, rep.data, rep.len);
	assert_true(cf_r_ulongs_rep(&cr, CKR_OK, slots, &count));
	assert_true(cf_win_done(&cr));
	assert_int_equal(count, 3);
	assert_memory_equal(slots, found, sizeof(found));
	cf_win_clear(&cr);
	/* more than the caller offered */
	count = 2;
	cf_win_init(&cr, rep.data, rep.len);
	assert_false(cf_r_ulongs_rep(&cr, CKR_OK, slots, &count));
	cf_win_clear(&cr);
	cf_win_clear(&sr);
	/* a huge offer is clamped, not allocated */
	cf_wout_reset(&req);
	count = (CK_ULONG)1 << 40;
	cf_w_ulongs_req(&req, slots, &count);
	cf_win_init(&sr, req.data, req.len);
	assert_true(cf_r_ulongs_req(&sr, &sarr, &scount));
	assert_int_equal(scount, CF_WIRE_MAX_LIST);
	cf_win_clear(&sr);
	cf_wout_clear(&req);
	cf_wout_clear(&rep);
}

static bool decode_infos(struct cf_win *r, void *ctx)
{
	CK_INFO i;
	CK_SLOT_INFO s;
	CK_TOKEN_INFO t;
	CK_SESSION_INFO ss;
	CK_MECHANISM_INFO m;

	(void)ctx;
	return cf_r_info(r, &i) && cf_r_slot_info(r, &s) &&
	       cf_r_token_info(r, &t) && cf_r_session_info(r, &ss) &&
	       cf_r_mech_info(r, &m);
}

static void test_codec__infos_round_trip(void **state)
{
	CK_INFO i, i2;
	CK_SLOT_INFO s, s2;
	CK_TOKEN_INFO t, t2;
	CK_SESSION_INFO ss = {1, CKS_RW_USER_FUNCTIONS, CKF_RW_SESSION, 0}, ss2;
	CK_MECHANISM_INFO m = {256, 4096, CKF_SIGN}, m2;
	struct cf_wout w;
	struct cf_win r;

	(void)state;
	memset(&i, 'i', sizeof(i));
	memset(&s, 's', sizeof(s));
	memset(&t, 't', sizeof(t));
	t.ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
	t.ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	cf_wout_init(&w, MAX);
	cf_w_info(&w, &i);
	cf_w_slot_info(&w, &s);
	cf_w_token_info(&w, &t);
	cf_w_session_info(&w, &ss);
	cf_w_mech_info(&w, &m);
	cf_win_init(&r, w.data, w.len);
	assert_true(cf_r_info(&r, &i2) && cf_r_slot_info(&r, &s2) &&
		    cf_r_token_info(&r, &t2) && cf_r_session_info(&r, &ss2) &&
		    cf_r_mech_info(&r, &m2));
	assert_true(cf_win_done(&r));
	assert_memory_equal(&i.cryptokiVersion, &i2.cryptokiVersion, 2);
	assert_memory_equal(i.manufacturerID, i2.manufacturerID, 32);
	assert_int_equal(i.flags, i2.flags);
	assert_memory_equal(i.libraryDescription, i2.libraryDescription, 32);
	assert_memory_equal(s.slotDescription, s2.slotDescription, 64);
	assert_int_equal(s.flags, s2.flags);
	assert_memory_equal(t.label, t2.label, 32);
	assert_memory_equal(t.utcTime, t2.utcTime, 16);
	assert_true(t2.ulTotalPublicMemory == CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(t.ulMaxPinLen, t2.ulMaxPinLen);
	assert_int_equal(t.firmwareVersion.minor, t2.firmwareVersion.minor);
	assert_memory_equal(&ss, &ss2, sizeof(ss));
	assert_memory_equal(&m, &m2, sizeof(m));
	cf_win_clear(&r);
	assert_truncations_refused(&w, decode_infos, NULL);
	cf_wout_clear(&w);
}

/* ---- allocation failures ----------------------------------------------------
 */

/* Encode and decode a rich message; every failure must surface. */
static bool rich_trip(void)
{
	struct cf_wout w;
	struct cf_win r;
	CK_ATTRIBUTE *t;
	CK_ULONG n;
	bool ok;
	struct tmpl_ctx ctx = {rich, NRICH};

	cf_wout_init(&w, MAX);
	cf_w_template(&w, rich, NRICH);
	if (w.bad) {
		cf_wout_clear(&w);
		return false;
	}
	cf_win_init(&r, w.data, w.len);
	ok = cf_r_template(&r, &t, &n) && cf_win_done(&r);
	if (ok) {
		assert_int_equal(n, NRICH);
		assert_attrs_equal(ctx.want, t, n);
	}
	cf_win_clear(&r);
	cf_wout_clear(&w);
	return ok;
}

static void test_codec__every_allocation_failure_is_reported(void **state)
{
	unsigned long nth;

	(void)state;
	for (nth = 1; nth < 200; nth++) {
		cf_wire_fail_alloc_at(nth);
		if (rich_trip())
			break; /* past the last allocation */
	}
	cf_wire_fail_alloc_at(0);
	assert_true(nth > 3 && nth < 200);
	for (nth = 1; nth < 200; nth++) {
		CK_ATTRIBUTE in[2] = {{0, NULL, 0}, {0, NULL, 0}};
		char label[8];
		CK_ATTRIBUTE t[] = {{CKA_WRAP_TEMPLATE, in, sizeof(in)},
				    {CKA_LABEL, label, sizeof(label)}};
		cf_wire_fail_alloc_at(nth);
		if (getattrs_trip(t, 2))
			break;
	}
	cf_wire_fail_alloc_at(0);
	assert_true(nth > 3 && nth < 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codec__integers_round_trip_big_endian),
	    cmocka_unit_test(test_codec__bytes_keep_null_empty_and_data_apart),
	    cmocka_unit_test(test_codec__bad_present_flag_is_refused),
	    cmocka_unit_test(test_codec__length_beyond_payload_is_refused),
	    cmocka_unit_test(test_codec__trailing_garbage_is_not_done),
	    cmocka_unit_test(test_codec__output_over_its_cap_turns_bad),
	    cmocka_unit_test(
		test_codec__arena_refuses_what_the_payload_cannot_justify),
	    cmocka_unit_test(test_codec__template_round_trips_every_value_kind),
	    cmocka_unit_test(
		test_codec__template_truncated_anywhere_is_refused),
	    cmocka_unit_test(test_codec__template_count_over_cap_is_refused),
	    cmocka_unit_test(
		test_codec__template_count_beyond_payload_is_refused),
	    cmocka_unit_test(
		test_codec__nesting_deeper_than_the_limit_is_refused),
	    cmocka_unit_test(
		test_codec__nesting_deeper_than_the_limit_is_not_encoded),
	    cmocka_unit_test(
		test_codec__template_raw_bytes_for_a_template_are_refused),
	    cmocka_unit_test(
		test_codec__template_ulong_form_for_bytes_kind_is_refused),
	    cmocka_unit_test(test_codec__getattrs_lengths_then_values),
	    cmocka_unit_test(test_codec__getattrs_short_buffer_gets_no_value),
	    cmocka_unit_test(test_codec__getattrs_nested_template),
	    cmocka_unit_test(
		test_codec__getattrs_value_longer_than_buffer_is_refused),
	    cmocka_unit_test(
		test_codec__getattrs_reply_for_another_type_is_refused),
	    cmocka_unit_test(
		test_codec__getattrs_module_overclaim_sends_no_value),
	    cmocka_unit_test(
		test_codec__getattrs_huge_buffer_request_is_bounded),
	    cmocka_unit_test(
		test_codec__getattrs_request_truncated_anywhere_is_refused),
	    cmocka_unit_test(test_codec__every_mechanism_parameter_round_trips),
	    cmocka_unit_test(
		test_codec__mechanisms_truncated_anywhere_are_refused),
	    cmocka_unit_test(test_codec__null_mechanism_and_null_parameter),
	    cmocka_unit_test(
		test_codec__unknown_mechanism_parameter_is_not_encodable),
	    cmocka_unit_test(
		test_codec__unknown_mechanism_with_a_body_is_refused),
	    cmocka_unit_test(
		test_codec__parameter_bytes_beyond_payload_are_refused),
	    cmocka_unit_test(test_codec__message_parameters_travel_both_ways),
	    cmocka_unit_test(
		test_codec__message_reply_of_another_length_is_refused),
	    cmocka_unit_test(
		test_codec__message_parameter_of_unknown_mechanism),
	    cmocka_unit_test(test_codec__outbuf_round_trip),
	    cmocka_unit_test(test_codec__outbuf_length_query_and_cap),
	    cmocka_unit_test(test_codec__outbuf_reply_beyond_offer_is_refused),
	    cmocka_unit_test(test_codec__outbuf_bytes_on_failure_are_refused),
	    cmocka_unit_test(test_codec__ulongs_round_trip_and_bounds),
	    cmocka_unit_test(test_codec__infos_round_trip),
	    cmocka_unit_test(test_codec__every_allocation_failure_is_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
