/*
 * schema.h - the PKCS#11 schema: names of CKR/CKA/CKM/CKO/CKK/CKC values and
 * the value kind of every attribute type. The token, the wire codec, the spy
 * and the CLI all read this one table, so a new attribute or mechanism is
 * described once. Everything here is constant data: thread-safe.
 */
#ifndef CF_PKCS11_SCHEMA_H
#define CF_PKCS11_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "coffer/pkcs11.h"

/* How an attribute's value is laid out at the API edge. */
enum cf_attr_kind {
	CF_ATTR_UNKNOWN = 0, /* not an attribute coffer knows */
	CF_ATTR_BOOL,	     /* CK_BBOOL, 1 byte */
	CF_ATTR_ULONG,	     /* CK_ULONG (CKA_CLASS, CKA_KEY_TYPE, lengths) */
	CF_ATTR_BYTES,	     /* opaque byte string (CKA_ID, DER values) */
	CF_ATTR_STRING,	     /* RFC 2279 (UTF-8) string, not terminated */
	CF_ATTR_BIGINT,	     /* big-endian unsigned integer */
	CF_ATTR_DATE,	     /* CK_DATE, 8 bytes or empty */
	CF_ATTR_ATTRS,	     /* array of CK_ATTRIBUTE (wrap/unwrap/derive
				template) */
	CF_ATTR_MECHS,	     /* array of CK_MECHANISM_TYPE */
};

enum cf_attr_kind cf_p11_attr_kind(CK_ATTRIBUTE_TYPE type);

/* Names: the symbolic name ("CKR_PIN_INCORRECT"), or NULL when unknown. */
const char *cf_p11_rv_name(CK_RV rv);
const char *cf_p11_attr_name(CK_ATTRIBUTE_TYPE type);
const char *cf_p11_mech_name(CK_MECHANISM_TYPE mech);
const char *cf_p11_class_name(CK_OBJECT_CLASS cls);
const char *cf_p11_key_type_name(CK_KEY_TYPE kt);
const char *cf_p11_cert_type_name(CK_CERTIFICATE_TYPE ct);
const char *cf_p11_user_type_name(CK_USER_TYPE ut);

/* Reverse lookups by name, for the CLI and config files. Return false when
 * the name is unknown. */
bool cf_p11_attr_by_name(const char *name, CK_ATTRIBUTE_TYPE *out);
bool cf_p11_mech_by_name(const char *name, CK_MECHANISM_TYPE *out);

/* Never NULL: the name, or "0x..." formatted into the caller's buffer. */
const char *cf_p11_rv_str(CK_RV rv, char *buf, size_t len);

#endif
