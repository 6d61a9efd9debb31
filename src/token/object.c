/*
 * object.c - the in-memory object and its portable record (see object.h).
 *
 * Record encoding (cf_object_encode, cf_object_decode), every integer
 * fixed-width big-endian:
 *
 *   record = count:u32  entry[count]
 *   entry  = type:u64  len:u32  value[len]
 *
 * value, by the kind of type (cf_p11_attr_kind):
 *   CF_ATTR_ULONG  len 0 or 8: the CK_ULONG as a u64
 *   CF_ATTR_BOOL   len 0 or 1: 0x00 or 0x01
 *   CF_ATTR_DATE   len 0 or 8: the CK_DATE characters
 *   CF_ATTR_MECHS  len a multiple of 8: each CK_MECHANISM_TYPE as a u64
 *   CF_ATTR_ATTRS  a nested record; its entries are of any kind but
 *                  CF_ATTR_ATTRS and appear in strictly ascending type
 *                  order, so that equal templates encode to equal bytes
 *   other kinds    the bytes as they are
 *
 * Every value carries its length, fixed-width ones included, so that an
 * attribute that is present but empty (valid for the class, never set) has
 * an encoding, and a reader can bound every value before looking at it.
 * encode writes top-level entries in ascending type order; decode accepts
 * any order but rejects a type the object already holds (which catches
 * duplicates within a record and between the public and secret records of
 * one object), an unknown type, a value of the wrong shape and a value that
 * does not fit this platform's CK_ULONG: all CKR_DEVICE_ERROR.
 *
 * In memory, a CF_ATTR_ATTRS value is kept as its nested record (so match
 * and copy are byte operations) and rebuilt into CK_ATTRIBUTE arrays by
 * cf_attr_export; every other kind is kept in its API layout.
 */
#include "token/object.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/secmem.h"
#include "pkcs11/schema.h"
#include "token/rules.h"

/* The largest value a caller may set: far above any key or certificate,
 * low enough that a hostile length cannot make the token allocate without
 * bound. Larger values are CKR_ATTRIBUTE_VALUE_INVALID. */
#define ATTR_VALUE_MAX ((CK_ULONG)1 << 20)
/* Cap of an encoded attribute array (its nested values are pointers, so the
 * outer length does not bound them). */
#define TEMPLATE_ENC_MAX ((size_t)1 << 22)
/* Smallest encoded entry: type u64 and len u32. */
#define ENTRY_MIN 12u

/* Class not yet known (an object being decoded or built): anything that
 * would be key material in some class is treated as such. */
static bool secret_for(CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE t)
{
	if (cls == CK_UNAVAILABLE_INFORMATION)
		return cf_rules_attr_is_secret(CKO_PRIVATE_KEY, t) ||
		       cf_rules_attr_is_secret(CKO_SECRET_KEY, t);
	return cf_rules_attr_is_secret(cls, t);
}

static CK_RV value_dup(const void *src, CK_ULONG len, bool secret,
		       uint8_t **out)
{
	uint8_t *p;

	*out = NULL;
	if (len == 0)
		return CKR_OK;
	p = secret ? cf_secret_dup(src, len) : malloc(len);
	if (p == NULL)
		return CKR_HOST_MEMORY;
	if (!secret)
		memcpy(p, src, len);
	*out = p;
	return CKR_OK;
}

static void value_free(uint8_t *p, CK_ULONG len, bool secret)
{
	if (secret)
		cf_secret_free(p, len);
	else
		free(p);
}

/* Index of t in o->attrs, or where it would be inserted. */
static size_t find_pos(const struct cf_object *o, CK_ATTRIBUTE_TYPE t,
		       bool *found)
{
	size_t lo = 0, hi = o->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->attrs[mid].type < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < o->n && o->attrs[lo].type == t;
	return lo;
}

/* Called after every change: a cached OpenSSL key may no longer match. */
static void refresh(struct cf_object *o)
{
	EVP_PKEY_free(o->pkey);
	o->pkey = NULL;
	o->cls = cf_object_ulong(o, CKA_CLASS, CK_UNAVAILABLE_INFORMATION);
	o->key_type =
	    cf_object_ulong(o, CKA_KEY_TYPE, CK_UNAVAILABLE_INFORMATION);
	o->token = cf_object_bool(o, CKA_TOKEN, false);
	/* An object that does not say is treated as private: the safe
	 * side when deciding who may see it. */
	o->priv = cf_object_bool(o, CKA_PRIVATE, true);
}

struct cf_object *cf_object_new(void)
{
	struct cf_object *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->refs = 1;
	refresh(o);
	return o;
}

static void object_free(struct cf_object *o)
{
	for (size_t i = 0; i < o->n; i++)
		value_free(o->attrs[i].value, o->attrs[i].len,
			   o->attrs[i].secret);
	free(o->attrs);
	EVP_PKEY_free(o->pkey);
	free(o);
}

void cf_object_unref(struct cf_object *o)
{
	if (o == NULL)
		return;
	if (--o->refs == 0)
		object_free(o);
}

struct cf_object *cf_object_ref(struct cf_object *o)
{
	o->refs++;
	return o;
}

CK_RV cf_object_dup(const struct cf_object *o, struct cf_object **out)
{
	CK_RV rv = CKR_HOST_MEMORY;
	struct cf_object *c;

	*out = NULL;
	c = cf_object_new();
	if (c == NULL)
		return CKR_HOST_MEMORY;
	if (o->n > 0) {
		c->attrs = calloc(o->n, sizeof(*c->attrs));
		if (c->attrs == NULL)
			goto out_free_copy;
		c->cap = o->n;
	}
	for (size_t i = 0; i < o->n; i++) {
		const struct cf_attr *a = &o->attrs[i];
		uint8_t *v;
		rv = value_dup(a->value, a->len, a->secret, &v);
		if (rv != CKR_OK)
			goto out_free_copy;
		c->attrs[i] = *a;
		c->attrs[i].value = v;
		c->n++;
	}
	refresh(c);
	*out = c;
	return CKR_OK;

out_free_copy:
	cf_object_unref(c);
	return rv;
}

const struct cf_attr *cf_object_attr(const struct cf_object *o,
				     CK_ATTRIBUTE_TYPE t)
{
	bool found;
	size_t pos = find_pos(o, t, &found);

	return found ? &o->attrs[pos] : NULL;
}

bool cf_object_bool(const struct cf_object *o, CK_ATTRIBUTE_TYPE t, bool dflt)
{
	const struct cf_attr *a = cf_object_attr(o, t);

	if (a == NULL || a->len != sizeof(CK_BBOOL))
		return dflt;
	return a->value[0] != CK_FALSE;
}

CK_ULONG cf_object_ulong(const struct cf_object *o, CK_ATTRIBUTE_TYPE t,
			 CK_ULONG dflt)
{
	const struct cf_attr *a = cf_object_attr(o, t);
	CK_ULONG v;

	if (a == NULL || a->len != sizeof(CK_ULONG))
		return dflt;
	memcpy(&v, a->value, sizeof(v));
	return v;
}

static CK_RV grow(struct cf_object *o)
{
	size_t ncap;
	struct cf_attr *n;

	if (o->n < o->cap)
		return CKR_OK;
	ncap = o->cap ? o->cap * 2 : 16;
	n = realloc(o->attrs, ncap * sizeof(*n));
	if (n == NULL)
		return CKR_HOST_MEMORY;
	o->attrs = n;
	o->cap = ncap;
	return CKR_OK;
}

/* A change of class can change which attributes are key material. The new
 * buffers are all made before anything changes, so that a failure leaves
 * the object as it was. moved[i] is the new value of attribute i, or NULL
 * when it stays where it is. */
static CK_RV prepare_moves(const struct cf_object *o, CK_OBJECT_CLASS ncls,
			   uint8_t ***moved)
{
	uint8_t **m;

	*moved = NULL;
	if (o->n == 0)
		return CKR_OK;
	m = calloc(o->n, sizeof(*m));
	if (m == NULL)
		return CKR_HOST_MEMORY;
	for (size_t i = 0; i < o->n; i++) {
		const struct cf_attr *a = &o->attrs[i];
		bool s = secret_for(ncls, a->type);
		if (s == a->secret || a->len == 0 || a->type == CKA_CLASS)
			continue;
		if (value_dup(a->value, a->len, s, &m[i]) != CKR_OK) {
			for (size_t j = 0; j < i; j++)
				if (m[j] != NULL)
					value_free(m[j], o->attrs[j].len,
						   !o->attrs[j].secret);
			free(m);
			return CKR_HOST_MEMORY;
		}
	}
	*moved = m;
	return CKR_OK;
}

static void commit_moves(struct cf_object *o, CK_OBJECT_CLASS ncls,
			 uint8_t **moved)
{
	for (size_t i = 0; i < o->n; i++) {
		struct cf_attr *a = &o->attrs[i];
		bool s = secret_for(ncls, a->type);
		if (moved != NULL && moved[i] != NULL) {
			value_free(a->value, a->len, a->secret);
			a->value = moved[i];
			a->secret = s;
		} else if (a->len == 0) {
			a->secret = s;
		}
	}
	free(moved);
}

CK_RV cf_object_set(struct cf_object *o, CK_ATTRIBUTE_TYPE t, const void *value,
		    CK_ULONG len)
{
	CK_RV rv;
	CK_OBJECT_CLASS ncls = o->cls;
	uint8_t **moved = NULL;
	uint8_t *nv;
	bool secret, found;
	size_t pos;

	if (len > 0 && value == NULL)
		return CKR_GENERAL_ERROR;
	if (t == CKA_CLASS) {
		ncls = CK_UNAVAILABLE_INFORMATION;
		if (len == sizeof(CK_ULONG))
			memcpy(&ncls, value, sizeof(ncls));
	}
	secret = secret_for(ncls, t);
	rv = value_dup(value, len, secret, &nv);
	if (rv != CKR_OK)
		return rv;
	pos = find_pos(o, t, &found);
	if (!found) {
		rv = grow(o);
		if (rv != CKR_OK)
			goto out_free_value;
	}
	if (ncls != o->cls) {
		rv = prepare_moves(o, ncls, &moved);
		if (rv != CKR_OK)
			goto out_free_value;
		/* nothing below fails */
		commit_moves(o, ncls, moved);
	}
	if (found) {
		struct cf_attr *a = &o->attrs[pos];
		value_free(a->value, a->len, a->secret);
	} else {
		memmove(&o->attrs[pos + 1], &o->attrs[pos],
			(o->n - pos) * sizeof(*o->attrs));
		o->n++;
	}
	o->attrs[pos].type = t;
	o->attrs[pos].value = nv; /* transferred */
	o->attrs[pos].len = len;
	o->attrs[pos].secret = secret;
	refresh(o);
	return CKR_OK;

out_free_value:
	value_free(nv, len, secret);
	return rv;
}

CK_RV cf_object_set_bool(struct cf_object *o, CK_ATTRIBUTE_TYPE t, bool v)
{
	CK_BBOOL b = v ? CK_TRUE : CK_FALSE;

	return cf_object_set(o, t, &b, sizeof(b));
}

CK_RV cf_object_set_ulong(struct cf_object *o, CK_ATTRIBUTE_TYPE t, CK_ULONG v)
{
	return cf_object_set(o, t, &v, sizeof(v));
}

void cf_object_remove(struct cf_object *o, CK_ATTRIBUTE_TYPE t)
{
	bool found;
	size_t pos = find_pos(o, t, &found);

	if (!found)
		return;
	value_free(o->attrs[pos].value, o->attrs[pos].len,
		   o->attrs[pos].secret);
	memmove(&o->attrs[pos], &o->attrs[pos + 1],
		(o->n - pos - 1) * sizeof(*o->attrs));
	o->n--;
	refresh(o);
}

/* ---- shapes of API values ---------------------------------------------- */

static bool date_valid(const uint8_t *p, CK_ULONG len)
{
	if (len == 0)
		return true;
	if (len != sizeof(CK_DATE))
		return false;
	for (CK_ULONG i = 0; i < len; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* The shape of a caller's value of a kind other than CF_ATTR_ATTRS. */
static CK_RV shape_check(enum cf_attr_kind kind, const void *p, CK_ULONG len)
{
	if (p == NULL && len != 0)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (len > ATTR_VALUE_MAX)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	switch (kind) {
	case CF_ATTR_BOOL:
		if (len != sizeof(CK_BBOOL))
			return CKR_ATTRIBUTE_VALUE_INVALID;
		if (*(const CK_BBOOL *)p != CK_FALSE &&
		    *(const CK_BBOOL *)p != CK_TRUE)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		return CKR_OK;
	case CF_ATTR_ULONG:
		return len == sizeof(CK_ULONG) ? CKR_OK
					       : CKR_ATTRIBUTE_VALUE_INVALID;
	case CF_ATTR_DATE:
		return date_valid(p, len) ? CKR_OK
					  : CKR_ATTRIBUTE_VALUE_INVALID;
	case CF_ATTR_MECHS:
		return len % sizeof(CK_MECHANISM_TYPE) == 0
			   ? CKR_OK
			   : CKR_ATTRIBUTE_VALUE_INVALID;
	case CF_ATTR_BYTES:
	case CF_ATTR_STRING:
	case CF_ATTR_BIGINT:
		return CKR_OK;
	case CF_ATTR_ATTRS:
	case CF_ATTR_UNKNOWN:
		break;
	}
	return CKR_ATTRIBUTE_VALUE_INVALID;
}

/* One API value (already shape-checked) in its portable form. */
static void put_portable(struct cf_wbuf *b, enum cf_attr_kind kind,
			 const void *p, CK_ULONG len)
{
	switch (kind) {
	case CF_ATTR_ULONG: {
		CK_ULONG v;
		memcpy(&v, p, sizeof(v));
		cf_wbuf_put_u32(b, 8);
		cf_wbuf_put_u64(b, v);
		return;
	}
	case CF_ATTR_MECHS: {
		CK_ULONG n = len / sizeof(CK_MECHANISM_TYPE);
		if (n > UINT32_MAX / 8) {
			b->failed = true;
			return;
		}
		cf_wbuf_put_u32(b, (uint32_t)(n * 8));
		for (CK_ULONG i = 0; i < n; i++) {
			CK_MECHANISM_TYPE m;
			memcpy(&m, (const uint8_t *)p + i * sizeof(m),
			       sizeof(m));
			cf_wbuf_put_u64(b, m);
		}
		return;
	}
	default:
		cf_wbuf_put_lv(b, p, len);
		return;
	}
}

static int cmp_attr_ptr(const void *x, const void *y)
{
	const CK_ATTRIBUTE *a = *(const CK_ATTRIBUTE *const *)x;
	const CK_ATTRIBUTE *b = *(const CK_ATTRIBUTE *const *)y;

	if (a->type < b->type)
		return -1;
	return a->type > b->type ? 1 : 0;
}

/* A caller's attribute array (CKA_WRAP_TEMPLATE and friends) in the nested
 * record encoding, sorted by type. Every problem with an entry makes the
 * outer value invalid: CKR_ATTRIBUTE_VALUE_INVALID. */
static CK_RV template_encode(const void *p, CK_ULONG len, struct cf_wbuf *b)
{
	CK_RV rv = CKR_ATTRIBUTE_VALUE_INVALID;
	const CK_ATTRIBUTE *arr = p;
	const CK_ATTRIBUTE **sorted = NULL;
	CK_ULONG n;

	if ((p == NULL && len != 0) || len % sizeof(CK_ATTRIBUTE) != 0 ||
	    len > ATTR_VALUE_MAX)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	n = len / sizeof(CK_ATTRIBUTE);
	/* An empty array is an empty value, as a never-set one is. */
	if (n == 0)
		return CKR_OK;
	cf_wbuf_put_u32(b, (uint32_t)n);
	sorted = calloc(n, sizeof(*sorted));
	if (sorted == NULL)
		return CKR_HOST_MEMORY;
	for (CK_ULONG i = 0; i < n; i++)
		sorted[i] = &arr[i];
	qsort(sorted, n, sizeof(*sorted), cmp_attr_ptr);
	for (CK_ULONG i = 0; i < n; i++) {
		const CK_ATTRIBUTE *e = sorted[i];
		enum cf_attr_kind kind = cf_p11_attr_kind(e->type);
		if (i > 0 && sorted[i - 1]->type == e->type)
			goto out_free_sorted;
		if (kind == CF_ATTR_UNKNOWN || kind == CF_ATTR_ATTRS)
			goto out_free_sorted;
		if (shape_check(kind, e->pValue, e->ulValueLen) != CKR_OK)
			goto out_free_sorted;
		cf_wbuf_put_u64(b, e->type);
		put_portable(b, kind, e->pValue, e->ulValueLen);
	}
	rv = b->failed ? CKR_HOST_MEMORY : CKR_OK;

out_free_sorted:
	free(sorted);
	return rv;
}

CK_RV cf_object_set_api(struct cf_object *o, const CK_ATTRIBUTE *in)
{
	CK_RV rv;
	enum cf_attr_kind kind = cf_p11_attr_kind(in->type);
	struct cf_wbuf b;

	if (kind == CF_ATTR_UNKNOWN)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	if (kind != CF_ATTR_ATTRS) {
		rv = shape_check(kind, in->pValue, in->ulValueLen);
		if (rv != CKR_OK)
			return rv;
		return cf_object_set(o, in->type, in->pValue, in->ulValueLen);
	}
	cf_wbuf_init(&b, TEMPLATE_ENC_MAX, false);
	rv = template_encode(in->pValue, in->ulValueLen, &b);
	if (rv == CKR_OK)
		rv = cf_object_set(o, in->type, b.data, (CK_ULONG)b.len);
	cf_wbuf_clear(&b);
	return rv;
}

/* ---- reading portable values ------------------------------------------- */

static bool u64_fits(uint64_t v)
{
	return (uint64_t)(CK_ULONG)v == v;
}

static bool record_valid(const uint8_t *p, size_t len, bool nested);

/* The shape of one portable value of the given kind. */
static bool portable_valid(enum cf_attr_kind kind, const uint8_t *v, size_t len,
			   bool nested)
{
	switch (kind) {
	case CF_ATTR_ULONG:
		return len == 0 || (len == 8 && u64_fits(cf_get_be64(v)));
	case CF_ATTR_BOOL:
		return len == 0 || (len == 1 && v[0] <= 1);
	case CF_ATTR_DATE:
		return len == 0 || len == 8;
	case CF_ATTR_MECHS:
		if (len % 8 != 0)
			return false;
		for (size_t i = 0; i < len; i += 8)
			if (!u64_fits(cf_get_be64(v + i)))
				return false;
		return true;
	case CF_ATTR_ATTRS:
		return !nested && record_valid(v, len, true);
	case CF_ATTR_BYTES:
	case CF_ATTR_STRING:
	case CF_ATTR_BIGINT:
		return true;
	case CF_ATTR_UNKNOWN:
		break;
	}
	return false;
}

/* A nested record: known kinds, strictly ascending types, nothing left.
 * Empty is an empty array. */
static bool record_valid(const uint8_t *p, size_t len, bool nested)
{
	struct cf_rbuf r;
	uint32_t count;
	uint64_t prev = 0;

	if (len == 0)
		return true;
	cf_rbuf_init(&r, p, len);
	if (!cf_rbuf_get_u32(&r, &count))
		return false;
	if (count > cf_rbuf_left(&r) / ENTRY_MIN)
		return false;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t t;
		const uint8_t *v;
		size_t vlen;
		if (!cf_rbuf_get_u64(&r, &t) ||
		    !cf_rbuf_ref_lv(&r, &v, &vlen, cf_rbuf_left(&r)))
			return false;
		if (!u64_fits(t) || (i > 0 && t <= prev))
			return false;
		if (!portable_valid(cf_p11_attr_kind((CK_ULONG)t), v, vlen,
				    nested))
			return false;
		prev = t;
	}
	return cf_rbuf_left(&r) == 0;
}

/* Length of a portable value once in its API layout. */
static CK_ULONG api_len(enum cf_attr_kind kind, size_t len)
{
	switch (kind) {
	case CF_ATTR_ULONG:
		return len == 8 ? sizeof(CK_ULONG) : 0;
	case CF_ATTR_MECHS:
		return (CK_ULONG)(len / 8 * sizeof(CK_MECHANISM_TYPE));
	default:
		return (CK_ULONG)len;
	}
}

/* Writes a (validated) portable value into dst in its API layout. */
static void to_api(enum cf_attr_kind kind, const uint8_t *v, size_t len,
		   uint8_t *dst)
{
	switch (kind) {
	case CF_ATTR_ULONG:
		if (len == 8) {
			CK_ULONG u = (CK_ULONG)cf_get_be64(v);
			memcpy(dst, &u, sizeof(u));
		}
		return;
	case CF_ATTR_MECHS:
		for (size_t i = 0; i < len / 8; i++) {
			CK_MECHANISM_TYPE m = (CK_ULONG)cf_get_be64(v + i * 8);
			memcpy(dst + i * sizeof(m), &m, sizeof(m));
		}
		return;
	default:
		if (len > 0)
			memcpy(dst, v, len);
		return;
	}
}

/* ---- C_GetAttributeValue ---------------------------------------------- */

static CK_RV export_flat(const void *value, CK_ULONG len, CK_ATTRIBUTE *out)
{
	if (out->pValue == NULL) {
		out->ulValueLen = len;
		return CKR_OK;
	}
	if (out->ulValueLen < len) {
		out->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (len > 0)
		memcpy(out->pValue, value, len);
	out->ulValueLen = len;
	return CKR_OK;
}

/* PKCS#11 v3.0 5.7 C_GetAttributeValue, for an attribute array: the array
 * length first, then each entry filled by the same rules as a plain one. */
static CK_RV export_array(const struct cf_attr *a, CK_ATTRIBUTE *out)
{
	CK_RV rv = CKR_OK;
	struct cf_rbuf r;
	uint32_t count = 0;
	CK_ATTRIBUTE *arr = out->pValue;

	cf_rbuf_init(&r, a->value, a->len);
	if (a->len > 0 && !cf_rbuf_get_u32(&r, &count))
		return CKR_GENERAL_ERROR;
	if (out->pValue == NULL) {
		out->ulValueLen = count * sizeof(CK_ATTRIBUTE);
		return CKR_OK;
	}
	if (out->ulValueLen < count * sizeof(CK_ATTRIBUTE)) {
		out->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_BUFFER_TOO_SMALL;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t t;
		const uint8_t *v;
		size_t vlen;
		enum cf_attr_kind kind;
		CK_ULONG need;

		if (!cf_rbuf_get_u64(&r, &t) ||
		    !cf_rbuf_ref_lv(&r, &v, &vlen, cf_rbuf_left(&r)))
			return CKR_GENERAL_ERROR;
		kind = cf_p11_attr_kind((CK_ULONG)t);
		need = api_len(kind, vlen);
		arr[i].type = (CK_ATTRIBUTE_TYPE)t;
		if (arr[i].pValue == NULL) {
			arr[i].ulValueLen = need;
		} else if (arr[i].ulValueLen < need) {
			arr[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_BUFFER_TOO_SMALL;
		} else {
			to_api(kind, v, vlen, arr[i].pValue);
			arr[i].ulValueLen = need;
		}
	}
	out->ulValueLen = count * sizeof(CK_ATTRIBUTE);
	return rv;
}

CK_RV cf_attr_export(const struct cf_attr *a, CK_ATTRIBUTE *out)
{
	if (cf_p11_attr_kind(a->type) == CF_ATTR_ATTRS)
		return export_array(a, out);
	return export_flat(a->value, a->len, out);
}

/* ---- C_FindObjects matching -------------------------------------------- */

static bool match_one(const struct cf_object *o, const CK_ATTRIBUTE *e)
{
	enum cf_attr_kind kind = cf_p11_attr_kind(e->type);
	const struct cf_attr *a = cf_object_attr(o, e->type);
	struct cf_wbuf b;
	bool eq;

	if (kind == CF_ATTR_UNKNOWN || a == NULL)
		return false;
	if (e->pValue == NULL && e->ulValueLen != 0)
		return false;
	switch (kind) {
	case CF_ATTR_BOOL:
		if (e->ulValueLen != sizeof(CK_BBOOL) || a->len != 1)
			return false;
		return (*(const CK_BBOOL *)e->pValue != CK_FALSE) ==
		       (a->value[0] != CK_FALSE);
	case CF_ATTR_ULONG:
		if (e->ulValueLen != sizeof(CK_ULONG) ||
		    a->len != e->ulValueLen)
			return false;
		return memcmp(e->pValue, a->value, sizeof(CK_ULONG)) == 0;
	case CF_ATTR_ATTRS:
		cf_wbuf_init(&b, TEMPLATE_ENC_MAX, false);
		eq = template_encode(e->pValue, e->ulValueLen, &b) == CKR_OK &&
		     b.len == a->len &&
		     (b.len == 0 || memcmp(b.data, a->value, b.len) == 0);
		cf_wbuf_clear(&b);
		return eq;
	default:
		if (e->ulValueLen != a->len)
			return false;
		if (a->len == 0)
			return true;
		/* key material is compared without a data-dependent exit */
		return CRYPTO_memcmp(e->pValue, a->value, a->len) == 0;
	}
}

bool cf_object_match(const struct cf_object *o, const CK_ATTRIBUTE *tmpl,
		     CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++)
		if (!match_one(o, &tmpl[i]))
			return false;
	return true;
}

CK_ULONG cf_object_size(const struct cf_object *o)
{
	CK_ULONG size = sizeof(*o);

	for (size_t i = 0; i < o->n; i++)
		size += (CK_ULONG)sizeof(CK_ATTRIBUTE) + o->attrs[i].len;
	return size;
}

/* ---- record encoding --------------------------------------------------- */

static CK_RV encode_attr(const struct cf_attr *a, struct cf_wbuf *out)
{
	enum cf_attr_kind kind = cf_p11_attr_kind(a->type);

	switch (kind) {
	case CF_ATTR_UNKNOWN:
		/* decode would refuse it: better not to write it at all */
		return CKR_GENERAL_ERROR;
	case CF_ATTR_ULONG:
		if (a->len != 0 && a->len != sizeof(CK_ULONG))
			return CKR_GENERAL_ERROR;
		break;
	case CF_ATTR_BOOL:
		if (a->len > 1)
			return CKR_GENERAL_ERROR;
		break;
	case CF_ATTR_MECHS:
		if (a->len % sizeof(CK_MECHANISM_TYPE) != 0)
			return CKR_GENERAL_ERROR;
		break;
	default:
		break;
	}
	cf_wbuf_put_u64(out, a->type);
	if (a->len == 0)
		cf_wbuf_put_u32(out, 0);
	else if (kind == CF_ATTR_BOOL)
		cf_wbuf_put_lv(out, a->value[0] ? "\1" : "\0", 1);
	else
		put_portable(out, kind, a->value, a->len);
	return CKR_OK;
}

CK_RV cf_object_encode(const struct cf_object *o, bool want_secret,
		       struct cf_wbuf *out)
{
	CK_RV rv;
	uint32_t count = 0;

	for (size_t i = 0; i < o->n; i++)
		if (secret_for(o->cls, o->attrs[i].type) == want_secret)
			count++;
	cf_wbuf_put_u32(out, count);
	for (size_t i = 0; i < o->n; i++) {
		if (secret_for(o->cls, o->attrs[i].type) != want_secret)
			continue;
		rv = encode_attr(&o->attrs[i], out);
		if (rv != CKR_OK)
			return rv;
	}
	return out->failed ? CKR_HOST_MEMORY : CKR_OK;
}

/* Sets one decoded (validated) value, converted to its memory layout. */
static CK_RV decode_set(struct cf_object *o, CK_ATTRIBUTE_TYPE t,
			enum cf_attr_kind kind, const uint8_t *v, size_t len)
{
	CK_RV rv;
	uint8_t *native;
	CK_ULONG nlen;
	uint8_t one[sizeof(CK_ULONG)];

	if (kind != CF_ATTR_ULONG && kind != CF_ATTR_MECHS)
		return cf_object_set(o, t, v, (CK_ULONG)len);
	nlen = api_len(kind, len);
	if (nlen == 0)
		return cf_object_set(o, t, NULL, 0);
	/* Most records hold several CK_ULONGs: convert those on the stack
	 * (cf_object_set copies the value) rather than through the heap. */
	if (kind == CF_ATTR_ULONG) {
		to_api(kind, v, len, one);
		return cf_object_set(o, t, one, nlen);
	}
	native = malloc(nlen);
	if (native == NULL)
		return CKR_HOST_MEMORY;
	to_api(kind, v, len, native);
	rv = cf_object_set(o, t, native, nlen);
	free(native);
	return rv;
}

CK_RV cf_object_decode(struct cf_object *o, const uint8_t *buf, size_t len)
{
	CK_RV rv;
	struct cf_rbuf r;
	uint32_t count;

	cf_rbuf_init(&r, buf, len);
	if (!cf_rbuf_get_u32(&r, &count))
		return CKR_DEVICE_ERROR;
	if (count > cf_rbuf_left(&r) / ENTRY_MIN)
		return CKR_DEVICE_ERROR;
	/* One allocation for the attribute array instead of a doubling per
	 * overflow; count is bounded by the record length just checked. */
	if (count > o->cap - o->n) {
		struct cf_attr *na =
			realloc(o->attrs, (o->n + count) * sizeof(*na));
		if (na == NULL)
			return CKR_HOST_MEMORY;
		o->attrs = na;
		o->cap = o->n + count;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t t;
		const uint8_t *v;
		size_t vlen;
		enum cf_attr_kind kind;

		if (!cf_rbuf_get_u64(&r, &t) ||
		    !cf_rbuf_ref_lv(&r, &v, &vlen, cf_rbuf_left(&r)))
			return CKR_DEVICE_ERROR;
		if (!u64_fits(t))
			return CKR_DEVICE_ERROR;
		kind = cf_p11_attr_kind((CK_ULONG)t);
		if (kind == CF_ATTR_UNKNOWN ||
		    !portable_valid(kind, v, vlen, false))
			return CKR_DEVICE_ERROR;
		if (cf_object_attr(o, (CK_ULONG)t) != NULL)
			return CKR_DEVICE_ERROR;
		rv = decode_set(o, (CK_ULONG)t, kind, v, vlen);
		if (rv != CKR_OK)
			return rv;
	}
	return cf_rbuf_left(&r) == 0 ? CKR_OK : CKR_DEVICE_ERROR;
}
