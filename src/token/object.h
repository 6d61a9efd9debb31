/*
 * object.h - an object as the token holds it in memory: a sorted set of
 * attributes, plus the few values every call needs at hand.
 *
 * Values are kept in their API layout (CK_ULONG native, CK_BBOOL one byte)
 * except attribute arrays (CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE,
 * CKA_DERIVE_TEMPLATE), which are kept in the portable encoding of
 * cf_object_encode and rebuilt at the API edge by cf_attr_export.
 * Key material (cf_rules_attr_is_secret) lives in secret memory and is wiped
 * when replaced or freed.
 *
 * An object is not locked by itself: the token lock guards the token's
 * objects, and shared objects are reference counted (cf_object_ref/unref).
 */
#ifndef CF_OBJECT_H
#define CF_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "coffer/pkcs11.h"
#include "common/buf.h"

struct cf_attr {
	CK_ATTRIBUTE_TYPE type;
	uint8_t *value; /* NULL when len is 0 */
	CK_ULONG len;
	bool secret; /* value is in secret memory */
};

struct cf_object {
	CK_OBJECT_HANDLE handle;
	uint64_t id;	  /* store id of a token object; 0 for session ones */
	uint64_t version; /* store version the object was loaded at */
	CK_SESSION_HANDLE owner; /* session objects: the creating session */
	CK_OBJECT_CLASS cls;
	CK_KEY_TYPE key_type; /* CK_UNAVAILABLE_INFORMATION if not a key */
	bool token;
	bool priv;
	size_t n, cap;
	struct cf_attr *attrs; /* sorted by type, unique */
	unsigned int refs;     /* guarded by the token lock */
	/* A key's OpenSSL form, built on first use (mech/key.c) under the
	 * token lock and dropped whenever an attribute changes. Not copied
	 * by cf_object_dup. */
	EVP_PKEY *pkey;
};

/* A new empty object with one reference. NULL when out of memory. */
struct cf_object *cf_object_new(void) __attribute__((warn_unused_result));
/* Drops a reference; frees (wiping secrets) at zero. NULL is fine. */
void cf_object_unref(struct cf_object *o);
struct cf_object *cf_object_ref(struct cf_object *o);
/* Deep copy (secrets stay in secret memory), one reference, no handle/id. */
CK_RV cf_object_dup(const struct cf_object *o, struct cf_object **out)
	__attribute__((warn_unused_result));

/* The attribute of type t, or NULL. */
const struct cf_attr *cf_object_attr(const struct cf_object *o,
				     CK_ATTRIBUTE_TYPE t);
bool cf_object_bool(const struct cf_object *o, CK_ATTRIBUTE_TYPE t,
		    bool dflt);
CK_ULONG cf_object_ulong(const struct cf_object *o, CK_ATTRIBUTE_TYPE t,
			 CK_ULONG dflt);

/* Sets (adds or replaces) attribute t to a copy of value, in the internal
 * layout described above. Secret-ness follows cf_rules_attr_is_secret.
 * Refreshes cls/key_type/token/priv. CKR_HOST_MEMORY on failure (o
 * unchanged). */
CK_RV cf_object_set(struct cf_object *o, CK_ATTRIBUTE_TYPE t,
		    const void *value, CK_ULONG len)
	__attribute__((warn_unused_result));
CK_RV cf_object_set_bool(struct cf_object *o, CK_ATTRIBUTE_TYPE t, bool v)
	__attribute__((warn_unused_result));
CK_RV cf_object_set_ulong(struct cf_object *o, CK_ATTRIBUTE_TYPE t,
			  CK_ULONG v) __attribute__((warn_unused_result));
void cf_object_remove(struct cf_object *o, CK_ATTRIBUTE_TYPE t);

/* Sets attribute in->type from a caller's template entry, checking the
 * value's shape for its kind (CK_BBOOL is 1 byte and 0 or 1, CK_ULONG is
 * sizeof(CK_ULONG), CK_DATE is 8 digits or empty, attribute arrays are
 * well-formed): CKR_ATTRIBUTE_VALUE_INVALID otherwise, and
 * CKR_ATTRIBUTE_TYPE_INVALID for a type the schema does not know. */
CK_RV cf_object_set_api(struct cf_object *o, const CK_ATTRIBUTE *in)
	__attribute__((warn_unused_result));

/* Fills one C_GetAttributeValue entry from a: with out->pValue NULL sets
 * the length; too small a buffer gives CKR_BUFFER_TOO_SMALL and sets
 * ulValueLen to CK_UNAVAILABLE_INFORMATION; attribute arrays are filled
 * entry by entry as the spec describes. Does not check sensitivity. */
CK_RV cf_attr_export(const struct cf_attr *a, CK_ATTRIBUTE *out);

/* True when every entry of tmpl is present in o with an equal value
 * (C_FindObjects matching). An entry of unknown shape never matches. */
bool cf_object_match(const struct cf_object *o, const CK_ATTRIBUTE *tmpl,
		     CK_ULONG n);

/* Approximate size in bytes for C_GetObjectSize. */
CK_ULONG cf_object_size(const struct cf_object *o);

/* Portable record encoding: fixed-width big-endian, CK_ULONG as 8 bytes.
 * which selects the attributes to write: secret ones (want_secret true) or
 * the others. encode appends to out; decode adds every attribute it reads
 * to o and returns CKR_DEVICE_ERROR on a malformed buffer. */
CK_RV cf_object_encode(const struct cf_object *o, bool want_secret,
		       struct cf_wbuf *out) __attribute__((warn_unused_result));
CK_RV cf_object_decode(struct cf_object *o, const uint8_t *buf, size_t len)
	__attribute__((warn_unused_result));

#endif
