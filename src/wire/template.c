/*
 * template.c - attribute templates on the wire: the input templates of
 * C_CreateObject and friends, and C_GetAttributeValue's in/out template
 * (codec.h, docs/protocol.md "template" and "getattrs").
 *
 * Each value is encoded by its schema kind (src/pkcs11/schema.h), so that
 * CK_ULONG values and the CK_ATTRIBUTE arrays of CKA_*_TEMPLATE, which are
 * native structures full of pointers, cross as data. A value whose native
 * form holds pointers is never carried as raw bytes: a peer could otherwise
 * hand the module pointers of its choosing.
 *
 * C_GetAttributeValue lengths of CK_ULONG-valued and array-valued kinds
 * travel as element counts, so peers of different CK_ULONG widths agree.
 *
 * The native template cf_r_getattrs_req builds is followed, in the same
 * arena block, by the capacity of every buffer it gave the module;
 * cf_w_getattrs_rep reads them back so that a module claiming a value
 * longer than its buffer cannot make the server send memory beyond it.
 * cf_w_getattrs_rep must therefore be given that template.
 */
#include "wire/codec_int.h"

#include <string.h>

#include "pkcs11/schema.h"

enum {
	FORM_NULL = 0,	/* pValue NULL: u64 ulValueLen */
	FORM_BYTES = 1, /* u32 length, the bytes */
	FORM_ULONG = 2, /* u64 */
	FORM_ATTRS = 3, /* u32 count, the attributes */
	FORM_MECHS = 4, /* u32 count, u64 each */
};

/* The smallest encoded attribute: u64 type, u8 form, u32 length. */
#define MIN_ATTR 13
/* The smallest getattrs request entry: u64 type, u8 flag, u64 length. */
#define MIN_GET_REQ 17
/* The smallest getattrs reply entry: u64 type, u64 length, u8 flag. */
#define MIN_GET_REP 17

/* True for values whose native form holds pointers and that the schema
 * does not describe: a vendor's CKF_ARRAY_ATTRIBUTE type. */
static bool opaque_array(CK_ATTRIBUTE_TYPE type, enum cf_attr_kind kind)
{
	return kind == CF_ATTR_UNKNOWN && (type & CKF_ARRAY_ATTRIBUTE) != 0;
}

/* The element size lengths are counted in on the getattrs wire. */
static size_t unit_of(enum cf_attr_kind kind)
{
	switch (kind) {
	case CF_ATTR_ULONG:
	case CF_ATTR_MECHS:
		return sizeof(CK_ULONG);
	case CF_ATTR_ATTRS:
		return sizeof(CK_ATTRIBUTE);
	default:
		return 1;
	}
}

static CK_ULONG get_ulong(const void *p, size_t i)
{
	CK_ULONG v;

	/* memcpy: an application's value buffer need not be aligned */
	memcpy(&v, (const uint8_t *)p + i * sizeof(v), sizeof(v));
	return v;
}

static void put_ulong(void *p, size_t i, CK_ULONG v)
{
	memcpy((uint8_t *)p + i * sizeof(v), &v, sizeof(v));
}

/* ---- template ------------------------------------------------------------ */

static void w_attrs(struct cf_wout *w, const CK_ATTRIBUTE *t, CK_ULONG n,
		    int depth);

static void w_value(struct cf_wout *w, const CK_ATTRIBUTE *a, int depth)
{
	enum cf_attr_kind kind = cf_p11_attr_kind(a->type);
	CK_ULONG len = a->ulValueLen, count;

	if (a->pValue == NULL || opaque_array(a->type, kind)) {
		cf_w_u8(w, FORM_NULL);
		cf_w_ulong(w, len);
		return;
	}
	switch (kind) {
	case CF_ATTR_ATTRS:
		if (len % sizeof(CK_ATTRIBUTE) != 0) {
			/* Not an array: the module refuses the length, and
			 * the bytes (pointers) must not cross. */
			cf_w_u8(w, FORM_NULL);
			cf_w_ulong(w, len);
			return;
		}
		if (depth >= CF_WIRE_MAX_DEPTH) {
			w->bad = true;
			return;
		}
		cf_w_u8(w, FORM_ATTRS);
		w_attrs(w, a->pValue, len / sizeof(CK_ATTRIBUTE), depth + 1);
		return;
	case CF_ATTR_ULONG:
		if (len != sizeof(CK_ULONG))
			break; /* the module judges a wrong size */
		cf_w_u8(w, FORM_ULONG);
		cf_w_ulong(w, get_ulong(a->pValue, 0));
		return;
	case CF_ATTR_MECHS:
		count = len / sizeof(CK_ULONG);
		if (len % sizeof(CK_ULONG) != 0 || count > CF_WIRE_MAX_LIST)
			break;
		cf_w_u8(w, FORM_MECHS);
		cf_w_u32(w, (uint32_t)count);
		for (CK_ULONG i = 0; i < count; i++)
			cf_w_ulong(w, get_ulong(a->pValue, i));
		return;
	default:
		break;
	}
	if ((uint64_t)len > UINT32_MAX) {
		w->bad = true;
		return;
	}
	cf_w_u8(w, FORM_BYTES);
	cf_w_u32(w, (uint32_t)len);
	cf_w_raw(w, a->pValue, len);
}

static void w_attrs(struct cf_wout *w, const CK_ATTRIBUTE *t, CK_ULONG n,
		    int depth)
{
	if (n > CF_WIRE_MAX_TEMPLATE || (n > 0 && t == NULL)) {
		w->bad = true;
		return;
	}
	cf_w_u32(w, (uint32_t)n);
	for (CK_ULONG i = 0; i < n && !w->bad; i++) {
		cf_w_ulong(w, t[i].type);
		w_value(w, &t[i], depth);
	}
}

void cf_w_template(struct cf_wout *w, const CK_ATTRIBUTE *t, CK_ULONG n)
{
	w_attrs(w, t, n, 0);
}

static bool r_attrs(struct cf_win *r, int depth, CK_ATTRIBUTE **out,
		    CK_ULONG *nout);

static bool r_value(struct cf_win *r, CK_ATTRIBUTE *a, int depth)
{
	enum cf_attr_kind kind = cf_p11_attr_kind(a->type);
	uint8_t form;
	uint32_t n;
	const uint8_t *p;
	CK_ULONG v, *arr, count;
	CK_ATTRIBUTE *inner;

	if (!cf_r_u8(r, &form))
		return false;
	switch (form) {
	case FORM_NULL:
		a->pValue = NULL;
		return cf_r_ulong(r, &a->ulValueLen);
	case FORM_BYTES:
		if (kind == CF_ATTR_ATTRS || opaque_array(a->type, kind))
			return cf_win_fail(r); /* pointers never cross */
		if (!cf_r_u32(r, &n) || !cf_r_raw(r, &p, n))
			return false;
		a->pValue = (void *)p; /* read only for the module */
		a->ulValueLen = n;
		return true;
	case FORM_ULONG:
		if (kind != CF_ATTR_ULONG || !cf_r_ulong(r, &v))
			return cf_win_fail(r);
		arr = cf_win_alloc(r, sizeof(*arr));
		if (arr == NULL)
			return false;
		arr[0] = v;
		a->pValue = arr;
		a->ulValueLen = sizeof(*arr);
		return true;
	case FORM_ATTRS:
		if (kind != CF_ATTR_ATTRS || depth >= CF_WIRE_MAX_DEPTH)
			return cf_win_fail(r);
		if (!r_attrs(r, depth + 1, &inner, &count))
			return false;
		a->pValue = inner;
		a->ulValueLen = count * sizeof(CK_ATTRIBUTE);
		return true;
	case FORM_MECHS:
		if (kind != CF_ATTR_MECHS || !cf_r_u32(r, &n))
			return cf_win_fail(r);
		if (n > CF_WIRE_MAX_LIST || n > cf_win_left(r) / 8)
			return cf_win_fail(r);
		arr = cf_win_alloc(r, (size_t)n * sizeof(*arr));
		if (arr == NULL)
			return false;
		for (uint32_t i = 0; i < n; i++)
			if (!cf_r_ulong(r, &arr[i]))
				return false;
		a->pValue = arr;
		a->ulValueLen = (CK_ULONG)n * sizeof(*arr);
		return true;
	default:
		return cf_win_fail(r);
	}
}

static bool r_attrs(struct cf_win *r, int depth, CK_ATTRIBUTE **out,
		    CK_ULONG *nout)
{
	uint32_t n;
	CK_ATTRIBUTE *t;

	if (!cf_r_u32(r, &n))
		return false;
	/* Both bounds before allocating: a count the payload cannot hold
	 * is refused, not allocated. */
	if (n > CF_WIRE_MAX_TEMPLATE || n > cf_win_left(r) / MIN_ATTR)
		return cf_win_fail(r);
	t = cf_win_alloc(r, (size_t)n * sizeof(*t));
	if (t == NULL)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (!cf_r_ulong(r, &t[i].type) || !r_value(r, &t[i], depth))
			return false;
	*out = t;
	*nout = n;
	return true;
}

bool cf_r_template(struct cf_win *r, CK_ATTRIBUTE **t, CK_ULONG *n)
{
	*t = NULL;
	*n = 0;
	return r_attrs(r, 0, t, n);
}

/* ---- getattrs: request -------------------------------------------------- */

static void w_get_req(struct cf_wout *w, const CK_ATTRIBUTE *t, CK_ULONG n,
		      int depth)
{
	if (n > CF_WIRE_MAX_TEMPLATE || (n > 0 && t == NULL)) {
		w->bad = true;
		return;
	}
	cf_w_u32(w, (uint32_t)n);
	for (CK_ULONG i = 0; i < n && !w->bad; i++) {
		enum cf_attr_kind kind = cf_p11_attr_kind(t[i].type);
		size_t unit = unit_of(kind);
		bool given = t[i].pValue != NULL &&
			     !opaque_array(t[i].type, kind);

		cf_w_ulong(w, t[i].type);
		cf_w_u8(w, given);
		cf_w_u64(w, (uint64_t)(t[i].ulValueLen / unit));
		if (given && kind == CF_ATTR_ATTRS) {
			if (depth >= CF_WIRE_MAX_DEPTH) {
				w->bad = true;
				return;
			}
			w_get_req(w, t[i].pValue, t[i].ulValueLen / unit,
				  depth + 1);
		}
	}
}

void cf_w_getattrs_req(struct cf_wout *w, const CK_ATTRIBUTE *t, CK_ULONG n)
{
	w_get_req(w, t, n, 0);
}

/* The capacities that follow a decoded getattrs template of n entries. */
static CK_ULONG *caps_of(const CK_ATTRIBUTE *t, CK_ULONG n)
{
	return (CK_ULONG *)(uintptr_t)(t + n);
}

static bool r_get_req(struct cf_win *r, int depth, size_t *out_used,
		      CK_ATTRIBUTE **out, CK_ULONG *nout)
{
	uint32_t n;
	CK_ATTRIBUTE *t;
	CK_ULONG *caps;

	if (!cf_r_u32(r, &n))
		return false;
	if (n > CF_WIRE_MAX_TEMPLATE || n > cf_win_left(r) / MIN_GET_REQ)
		return cf_win_fail(r);
	t = cf_win_alloc(r, (size_t)n * (sizeof(*t) + sizeof(*caps)));
	if (t == NULL)
		return false;
	caps = caps_of(t, n);
	for (uint32_t i = 0; i < n; i++) {
		enum cf_attr_kind kind;
		size_t unit, bytes;
		bool given;
		uint64_t units;
		CK_ATTRIBUTE *inner;
		CK_ULONG in_n;

		if (!cf_r_ulong(r, &t[i].type) || !cf_r_flag(r, &given) ||
		    !cf_r_u64(r, &units))
			return false;
		kind = cf_p11_attr_kind(t[i].type);
		unit = unit_of(kind);
		if (!given) {
			t[i].pValue = NULL;
			t[i].ulValueLen = 0;
			continue;
		}
		if (opaque_array(t[i].type, kind))
			return cf_win_fail(r);
		if (kind == CF_ATTR_ATTRS) {
			if (depth >= CF_WIRE_MAX_DEPTH ||
			    !r_get_req(r, depth + 1, out_used, &inner, &in_n))
				return cf_win_fail(r);
			if (in_n != units)
				return cf_win_fail(r);
			t[i].pValue = inner;
			t[i].ulValueLen = in_n * sizeof(CK_ATTRIBUTE);
			caps[i] = t[i].ulValueLen;
			continue;
		}
		/* What a reply could never carry is not allocated: past the
		 * request's output budget the module gets a shorter buffer
		 * (and answers CKR_BUFFER_TOO_SMALL for that value). */
		bytes = CF_WIRE_MAX_OUTPUT - *out_used;
		if (units < bytes / unit)
			bytes = (size_t)units * unit;
		else
			bytes = bytes / unit * unit;
		t[i].pValue = cf_win_alloc_out(r, bytes);
		if (t[i].pValue == NULL)
			return false;
		*out_used += bytes;
		t[i].ulValueLen = (CK_ULONG)bytes;
		caps[i] = (CK_ULONG)bytes;
	}
	*out = t;
	*nout = n;
	return true;
}

bool cf_r_getattrs_req(struct cf_win *r, CK_ATTRIBUTE **t, CK_ULONG *n)
{
	size_t used = 0;

	*t = NULL;
	*n = 0;
	return r_get_req(r, 0, &used, t, n);
}

/* ---- getattrs: reply ---------------------------------------------------- */

static void w_get_rep(struct cf_wout *w, const CK_ATTRIBUTE *t, CK_ULONG n,
		      CK_ULONG ncap, int depth)
{
	const CK_ULONG *caps = caps_of(t, ncap);

	cf_w_u32(w, (uint32_t)n);
	for (CK_ULONG i = 0; i < n && !w->bad; i++) {
		enum cf_attr_kind kind = cf_p11_attr_kind(t[i].type);
		size_t unit = unit_of(kind);
		CK_ULONG len = t[i].ulValueLen, units = len / unit;
		bool avail = len != CK_UNAVAILABLE_INFORMATION;
		/* A value crosses only from a buffer the module was given
		 * and only as far as that buffer went. */
		bool with = avail && t[i].pValue != NULL && len <= caps[i] &&
			    len % unit == 0;

		cf_w_ulong(w, t[i].type);
		cf_w_ulong(w, avail ? units : CK_UNAVAILABLE_INFORMATION);
		cf_w_u8(w, with);
		if (!with)
			continue;
		switch (kind) {
		case CF_ATTR_ATTRS:
			if (depth >= CF_WIRE_MAX_DEPTH) {
				w->bad = true;
				return;
			}
			w_get_rep(w, t[i].pValue, units,
				  caps[i] / sizeof(CK_ATTRIBUTE), depth + 1);
			break;
		case CF_ATTR_ULONG:
		case CF_ATTR_MECHS:
			for (CK_ULONG k = 0; k < units; k++)
				cf_w_ulong(w, get_ulong(t[i].pValue, k));
			break;
		default:
			cf_w_raw(w, t[i].pValue, len);
			break;
		}
	}
}

void cf_w_getattrs_rep(struct cf_wout *w, const CK_ATTRIBUTE *t, CK_ULONG n)
{
	if (n > CF_WIRE_MAX_TEMPLATE || (n > 0 && t == NULL)) {
		w->bad = true;
		return;
	}
	w_get_rep(w, t, n, n, 0);
}

static bool r_get_rep(struct cf_win *r, CK_ATTRIBUTE *t, CK_ULONG n,
		      int depth)
{
	uint32_t count;

	if (!cf_r_u32(r, &count))
		return false;
	if (count != n || count > cf_win_left(r) / MIN_GET_REP)
		return cf_win_fail(r);
	for (CK_ULONG i = 0; i < n; i++) {
		CK_ATTRIBUTE_TYPE type;
		CK_ULONG units, len;
		enum cf_attr_kind kind;
		size_t unit;
		bool with;
		const uint8_t *p;

		if (!cf_r_ulong(r, &type) || !cf_r_ulong(r, &units) ||
		    !cf_r_flag(r, &with))
			return false;
		/* The module names the types of a nested template; at the
		 * top they are the caller's own and must come back. */
		if (depth == 0 && type != t[i].type)
			return cf_win_fail(r);
		t[i].type = type;
		kind = cf_p11_attr_kind(type);
		unit = unit_of(kind);
		if (units == CK_UNAVAILABLE_INFORMATION) {
			if (with)
				return cf_win_fail(r);
			t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			continue;
		}
		if (units > (CK_ULONG)-1 / unit)
			return cf_win_fail(r);
		len = units * unit;
		if (with) {
			/* Never more than the caller's buffer holds. */
			if (t[i].pValue == NULL || len > t[i].ulValueLen)
				return cf_win_fail(r);
			switch (kind) {
			case CF_ATTR_ATTRS:
				if (depth >= CF_WIRE_MAX_DEPTH ||
				    !r_get_rep(r, t[i].pValue, units,
					       depth + 1))
					return cf_win_fail(r);
				break;
			case CF_ATTR_ULONG:
			case CF_ATTR_MECHS:
				if (units > cf_win_left(r) / 8)
					return cf_win_fail(r);
				for (CK_ULONG k = 0; k < units; k++) {
					CK_ULONG v;
					if (!cf_r_ulong(r, &v))
						return false;
					put_ulong(t[i].pValue, k, v);
				}
				break;
			default:
				if (!cf_r_raw(r, &p, len))
					return false;
				if (len > 0)
					memcpy(t[i].pValue, p, len);
				break;
			}
		}
		t[i].ulValueLen = len;
	}
	return true;
}

bool cf_r_getattrs_rep(struct cf_win *r, CK_ATTRIBUTE *t, CK_ULONG n)
{
	if (n > CF_WIRE_MAX_TEMPLATE || (n > 0 && t == NULL))
		return cf_win_fail(r);
	return r_get_rep(r, t, n, 0);
}
