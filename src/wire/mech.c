/*
 * mech.c - mechanisms and message parameters on the wire, laid out by the
 * parameter table (src/pkcs11/params.h; codec.h, docs/protocol.md "mech"
 * and "msgparam").
 *
 * A parameter crosses in one of two forms: absent (pParameter NULL, or a
 * zero-length parameter of a type that is not a byte string), carried as
 * its length alone; or present, its body laid out by its type. A body is
 * built only from the table, never from bytes the peer chose, so no
 * pointer crosses: a mechanism the table does not know may only be absent.
 *
 * The server's copy of a message parameter (cf_r_msgparam_req) is followed,
 * in the same arena block, by the byte length of each field as received;
 * cf_w_msgparam_rep sends back no more than that, whatever the module did
 * to the length members. cf_w_msgparam_rep must be given that copy.
 */
#include "wire/codec_int.h"

#include <string.h>

#include "pkcs11/params.h"

static CK_ULONG get_ulong_at(const void *st, size_t off)
{
	CK_ULONG v;

	memcpy(&v, (const uint8_t *)st + off, sizeof(v));
	return v;
}

static void *get_ptr_at(const void *st, size_t off)
{
	void *p;

	memcpy(&p, (const uint8_t *)st + off, sizeof(p));
	return p;
}

/* The bytes a CF_PF_BYTES field points at, given its length member. */
static uint64_t field_bytes(const struct cf_pfield *f, CK_ULONG lenval)
{
	if (f->len_off == CF_PF_NO_LEN)
		return f->fixed_len;
	if (f->len_in_bits)
		return (uint64_t)lenval / 8 + (lenval % 8 != 0);
	return lenval;
}

static uint64_t field_bytes_of(const struct cf_pfield *f, const void *st)
{
	return field_bytes(f, f->len_off == CF_PF_NO_LEN
				  ? 0
				  : get_ulong_at(st, f->len_off));
}

/* Whether p (len bytes) can be carried as a body of type. */
static bool body_encodable(const struct cf_param_type *type, const void *p,
			   CK_ULONG len)
{
	if (type == NULL)
		return false;
	switch (type->shape) {
	case CF_PARAM_BYTES:
		return (uint64_t)len <= UINT32_MAX;
	case CF_PARAM_ULONG:
		return len == sizeof(CK_ULONG);
	case CF_PARAM_STRUCT:
		if (len != type->size)
			return false;
		for (size_t i = 0; i < type->nfields; i++) {
			const struct cf_pfield *f = &type->fields[i];
			if (f->kind == CF_PF_BYTES &&
			    get_ptr_at(p, f->off) != NULL &&
			    field_bytes_of(f, p) > UINT32_MAX)
				return false;
		}
		return true;
	default:
		return false;
	}
}

/* The absent form: nothing that a pointer could be made of. */
static bool absent(const struct cf_param_type *type, const void *p,
		   CK_ULONG len)
{
	return p == NULL ||
	       (len == 0 && (type == NULL || type->shape != CF_PARAM_BYTES));
}

static bool param_encodable(const struct cf_param_type *type, const void *p,
			    CK_ULONG len)
{
	return absent(type, p, len) || body_encodable(type, p, len);
}

static void w_struct(struct cf_wout *w, const struct cf_param_type *type,
		     const void *st)
{
	for (size_t i = 0; i < type->nfields; i++) {
		const struct cf_pfield *f = &type->fields[i];
		const uint8_t *ptr;

		switch (f->kind) {
		case CF_PF_ULONG:
		case CF_PF_HANDLE:
			cf_w_ulong(w, get_ulong_at(st, f->off));
			break;
		case CF_PF_BOOL:
			cf_w_u8(w, ((const uint8_t *)st)[f->off]);
			break;
		case CF_PF_ARRAY:
			cf_w_raw(w, (const uint8_t *)st + f->off, f->fixed_len);
			break;
		case CF_PF_BYTES:
			ptr = get_ptr_at(st, f->off);
			if (f->len_off != CF_PF_NO_LEN)
				cf_w_ulong(w, get_ulong_at(st, f->len_off));
			cf_w_u8(w, ptr != NULL);
			if (ptr != NULL)
				cf_w_raw(w, ptr, (size_t)field_bytes_of(f, st));
			break;
		}
	}
}

static void w_param(struct cf_wout *w, const struct cf_param_type *type,
		    const void *p, CK_ULONG len)
{
	if (absent(type, p, len)) {
		cf_w_u8(w, 0);
		cf_w_ulong(w, len);
		return;
	}
	if (!body_encodable(type, p, len)) {
		w->bad = true;
		return;
	}
	cf_w_u8(w, 1);
	switch (type->shape) {
	case CF_PARAM_BYTES:
		cf_w_u32(w, (uint32_t)len);
		cf_w_raw(w, p, len);
		break;
	case CF_PARAM_ULONG:
		cf_w_ulong(w, get_ulong_at(p, 0));
		break;
	case CF_PARAM_STRUCT:
		w_struct(w, type, p);
		break;
	default:
		w->bad = true;
		break;
	}
}

/*
 * A structure body into the arena. With sizes, the block also holds the
 * byte length of every field after the structure, and in/out bytes are
 * copied so that the module may write them.
 */
static void *r_struct(struct cf_win *r, const struct cf_param_type *type,
		      bool sizes)
{
	uint8_t *st;
	size_t *lens = NULL;

	st = cf_win_alloc(r, type->size +
				 (sizes ? type->nfields * sizeof(size_t) : 0));
	if (st == NULL)
		return NULL;
	if (sizes)
		lens = (size_t *)(uintptr_t)(st + type->size);
	for (size_t i = 0; i < type->nfields; i++) {
		const struct cf_pfield *f = &type->fields[i];
		CK_ULONG v = 0;
		uint8_t b;
		const uint8_t *p;
		void *ptr = NULL;
		bool present;
		uint64_t n;

		switch (f->kind) {
		case CF_PF_ULONG:
		case CF_PF_HANDLE:
			if (!cf_r_ulong(r, &v))
				return NULL;
			memcpy(st + f->off, &v, sizeof(v));
			break;
		case CF_PF_BOOL:
			if (!cf_r_u8(r, &b))
				return NULL;
			st[f->off] = b; /* the module judges the value */
			break;
		case CF_PF_ARRAY:
			if (!cf_r_raw(r, &p, f->fixed_len))
				return NULL;
			memcpy(st + f->off, p, f->fixed_len);
			break;
		case CF_PF_BYTES:
			if (f->len_off != CF_PF_NO_LEN) {
				if (!cf_r_ulong(r, &v))
					return NULL;
				memcpy(st + f->len_off, &v, sizeof(v));
			}
			if (!cf_r_flag(r, &present))
				return NULL;
			n = field_bytes(f, v);
			if (present) {
				if (n > cf_win_left(r) ||
				    !cf_r_raw(r, &p, (size_t)n)) {
					cf_win_fail(r);
					return NULL;
				}
				ptr = (void *)p; /* read only for the module */
				if (f->inout && sizes) {
					ptr = cf_win_alloc(r, (size_t)n);
					if (ptr == NULL)
						return NULL;
					memcpy(ptr, p, (size_t)n);
				}
			}
			memcpy(st + f->off, &ptr, sizeof(ptr));
			if (lens != NULL)
				lens[i] = present ? (size_t)n : 0;
			break;
		}
	}
	return st;
}

static bool r_param(struct cf_win *r, const struct cf_param_type *type,
		    bool sizes, void **out, CK_ULONG *len)
{
	bool present;
	uint32_t n;
	const uint8_t *p;
	CK_ULONG v, *u;

	*out = NULL;
	*len = 0;
	if (!cf_r_flag(r, &present))
		return false;
	if (!present)
		return cf_r_ulong(r, len);
	if (type == NULL)
		return cf_win_fail(r); /* unknown: only ever absent */
	switch (type->shape) {
	case CF_PARAM_BYTES:
		if (!cf_r_u32(r, &n) || !cf_r_raw(r, &p, n))
			return false;
		*out = (void *)p;
		*len = n;
		return true;
	case CF_PARAM_ULONG:
		if (!cf_r_ulong(r, &v))
			return false;
		u = cf_win_alloc(r, sizeof(*u));
		if (u == NULL)
			return false;
		*u = v;
		*out = u;
		*len = sizeof(*u);
		return true;
	case CF_PARAM_STRUCT:
		*out = r_struct(r, type, sizes);
		if (*out == NULL)
			return cf_win_fail(r);
		*len = (CK_ULONG)type->size;
		return true;
	default:
		return cf_win_fail(r);
	}
}

/* ---- mech --------------------------------------------------------------- */

bool cf_mech_encodable(const CK_MECHANISM *m)
{
	if (m == NULL)
		return true;
	return param_encodable(cf_p11_mech_param(m->mechanism), m->pParameter,
			       m->ulParameterLen);
}

void cf_w_mech(struct cf_wout *w, const CK_MECHANISM *m)
{
	cf_w_u8(w, m != NULL);
	if (m == NULL)
		return;
	cf_w_ulong(w, m->mechanism);
	w_param(w, cf_p11_mech_param(m->mechanism), m->pParameter,
		m->ulParameterLen);
}

bool cf_r_mech(struct cf_win *r, CK_MECHANISM **m)
{
	bool present;
	CK_MECHANISM *mech;

	*m = NULL;
	if (!cf_r_flag(r, &present))
		return false;
	if (!present)
		return true;
	mech = cf_win_alloc(r, sizeof(*mech));
	if (mech == NULL || !cf_r_ulong(r, &mech->mechanism))
		return false;
	if (!r_param(r, cf_p11_mech_param(mech->mechanism), false,
		     &mech->pParameter, &mech->ulParameterLen))
		return false;
	*m = mech;
	return true;
}

/* ---- msgparam ------------------------------------------------------------ */

bool cf_msgparam_encodable(CK_MECHANISM_TYPE mech, const void *p,
			   CK_ULONG len)
{
	return param_encodable(cf_p11_msg_param(mech), p, len);
}

void cf_w_msgparam_req(struct cf_wout *w, CK_MECHANISM_TYPE mech,
		       const void *p, CK_ULONG len)
{
	w_param(w, cf_p11_msg_param(mech), p, len);
}

bool cf_r_msgparam_req(struct cf_win *r, CK_MECHANISM_TYPE mech, void **p,
		       CK_ULONG *len)
{
	return r_param(r, cf_p11_msg_param(mech), true, p, len);
}

/* Whether the parameter is a structure with in/out fields to send back. */
static bool has_body(const struct cf_param_type *type, const void *p,
		     CK_ULONG len)
{
	return p != NULL && type != NULL && type->shape == CF_PARAM_STRUCT &&
	       len == type->size;
}

void cf_w_msgparam_rep(struct cf_wout *w, CK_MECHANISM_TYPE mech,
		       const void *p, CK_ULONG len)
{
	const struct cf_param_type *type = cf_p11_msg_param(mech);
	const size_t *lens;
	bool with = has_body(type, p, len);

	cf_w_u8(w, with);
	if (!with)
		return;
	lens = (const size_t *)(uintptr_t)((const uint8_t *)p + type->size);
	for (size_t i = 0; i < type->nfields; i++) {
		const struct cf_pfield *f = &type->fields[i];
		const uint8_t *ptr;

		if (f->kind != CF_PF_BYTES || !f->inout)
			continue;
		ptr = get_ptr_at(p, f->off);
		cf_w_u8(w, ptr != NULL);
		if (ptr == NULL)
			continue;
		cf_w_u32(w, (uint32_t)lens[i]);
		cf_w_raw(w, ptr, lens[i]);
	}
}

bool cf_r_msgparam_rep(struct cf_win *r, CK_MECHANISM_TYPE mech, void *p,
		       CK_ULONG len)
{
	const struct cf_param_type *type = cf_p11_msg_param(mech);
	bool with;

	if (!cf_r_flag(r, &with))
		return false;
	if (with != has_body(type, p, len))
		return cf_win_fail(r);
	if (!with)
		return true;
	for (size_t i = 0; i < type->nfields; i++) {
		const struct cf_pfield *f = &type->fields[i];
		uint8_t *ptr;
		bool present;
		uint32_t n;
		const uint8_t *q;

		if (f->kind != CF_PF_BYTES || !f->inout)
			continue;
		ptr = get_ptr_at(p, f->off);
		if (!cf_r_flag(r, &present))
			return false;
		if (present != (ptr != NULL))
			return cf_win_fail(r);
		if (!present)
			continue;
		/* Exactly the caller's own length, into the caller's own
		 * buffer: the reply cannot write past it. */
		if (!cf_r_u32(r, &n) || n != field_bytes_of(f, p) ||
		    !cf_r_raw(r, &q, n))
			return cf_win_fail(r);
		if (n > 0)
			memcpy(ptr, q, n);
	}
	return true;
}
