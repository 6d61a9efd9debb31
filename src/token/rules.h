/*
 * rules.h - the attribute rules of the PKCS#11 specification: which
 * attributes each object class and key type has, which are required or
 * forbidden when an object is created, generated, unwrapped, derived or
 * copied, their defaults, which may change afterwards and how, and which
 * may never be revealed. Pure functions over constant tables: thread-safe.
 *
 * Footnotes refer to the "Common footnotes for object attribute tables" of
 * PKCS#11 v3.0 base, section 4.
 */
#ifndef CF_RULES_H
#define CF_RULES_H

#include <stdbool.h>

#include "coffer/pkcs11.h"
#include "token/object.h"

enum cf_origin {
	CF_ORIGIN_CREATE,   /* C_CreateObject */
	CF_ORIGIN_GENERATE, /* C_GenerateKey, C_GenerateKeyPair */
	CF_ORIGIN_UNWRAP,   /* C_UnwrapKey */
	CF_ORIGIN_DERIVE,   /* C_DeriveKey */
};

/*
 * Builds a complete new object from a caller's template.
 * cls and key_type: what the mechanism makes (GENERATE/UNWRAP/DERIVE), or
 * CK_UNAVAILABLE_INFORMATION for CREATE (then taken from the template). A
 * template that repeats them must agree (CKR_TEMPLATE_INCONSISTENT).
 * so: the SO is logged in (only the SO may set CKA_TRUSTED to true).
 * Returns CKR_TEMPLATE_INCOMPLETE (a required attribute is missing),
 * CKR_TEMPLATE_INCONSISTENT (attributes conflict, or one is not valid for
 * this class), CKR_ATTRIBUTE_READ_ONLY (one the token sets itself, such as
 * CKA_LOCAL, or footnotes 2/4/6), CKR_ATTRIBUTE_TYPE_INVALID (unknown type),
 * CKR_ATTRIBUTE_VALUE_INVALID (bad value or length, such as an AES key of
 * 17 bytes or a class coffer does not store), CKR_HOST_MEMORY.
 * On success every attribute of the class has a value (defaults filled,
 * CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE, CKA_UNIQUE_ID and
 * CKA_CHECK_VALUE computed) and *out has one reference.
 */
CK_RV cf_rules_new_object(enum cf_origin origin, CK_OBJECT_CLASS cls,
			  CK_KEY_TYPE key_type, const CK_ATTRIBUTE *tmpl,
			  CK_ULONG n, bool so, struct cf_object **out)
	__attribute__((warn_unused_result));

/*
 * Checks a template that would change o: C_SetAttributeValue (copy false)
 * or C_CopyObject (copy true, which may also set CKA_TOKEN, CKA_PRIVATE and
 * CKA_MODIFIABLE). Returns CKR_ACTION_PROHIBITED (copy of a non-copyable
 * object), CKR_ATTRIBUTE_READ_ONLY (object not modifiable, attribute not
 * modifiable, CKA_SENSITIVE true->false, CKA_EXTRACTABLE false->true,
 * CKA_WRAP_WITH_TRUSTED true->false, CKA_TRUSTED true by a non-SO),
 * CKR_ATTRIBUTE_TYPE_INVALID, CKR_ATTRIBUTE_VALUE_INVALID,
 * CKR_TEMPLATE_INCONSISTENT. Changes nothing.
 */
CK_RV cf_rules_check_change(const struct cf_object *o,
			    const CK_ATTRIBUTE *tmpl, CK_ULONG n, bool copy,
			    bool so) __attribute__((warn_unused_result));

/* Applies a template that cf_rules_check_change accepted (to o, or to the
 * copy being made), keeping derived attributes (CKA_CHECK_VALUE) true. */
CK_RV cf_rules_apply_change(struct cf_object *o, const CK_ATTRIBUTE *tmpl,
			    CK_ULONG n) __attribute__((warn_unused_result));

/*
 * C_CopyObject: checks tmpl as cf_rules_check_change(copy true) does, then
 * makes a deep copy of o with tmpl applied and a fresh CKA_UNIQUE_ID. The
 * copy has no handle, store id or owner; *out has one reference. Returns
 * what cf_rules_check_change returns, or CKR_HOST_MEMORY. o is unchanged.
 */
CK_RV cf_rules_copy_object(const struct cf_object *o, const CK_ATTRIBUTE *tmpl,
			   CK_ULONG n, bool so, struct cf_object **out)
	__attribute__((warn_unused_result));

/*
 * Recomputes the attributes derived from key material: CKA_CHECK_VALUE
 * (certificates, secret keys), CKA_VALUE_LEN (secret keys) and
 * CKA_MODULUS_BITS (RSA public keys). Mechanism code calls it after
 * storing the material of an object that cf_rules_new_object made for
 * GENERATE, UNWRAP or DERIVE (the material is not known before). An
 * attribute whose source is empty is left as it is. CKR_HOST_MEMORY, or
 * CKR_GENERAL_ERROR when OpenSSL fails; o may then be partly updated.
 */
CK_RV cf_rules_update_derived(struct cf_object *o)
	__attribute__((warn_unused_result));

/* Footnote 7: t may not be revealed when o is sensitive or unextractable. */
bool cf_rules_attr_is_sensitive(CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE t);

/* Key material: kept in secret memory and always encrypted at rest
 * (the footnote-7 attributes of private and secret keys). */
bool cf_rules_attr_is_secret(CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE t);

/* True when reading t from o must give CKR_ATTRIBUTE_SENSITIVE. */
bool cf_rules_attr_hidden(const struct cf_object *o, CK_ATTRIBUTE_TYPE t);

#endif
