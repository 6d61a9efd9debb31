/*
 * policy.h - what a key may be used for: its class and type against the
 * mechanism, its usage attributes, CKA_ALLOWED_MECHANISMS, and the
 * key-usage policy of docs/security.md ("Key roles and wrapping") that
 * defeats the known PKCS#11 API attacks. Under the token lock.
 */
#ifndef CF_POLICY_H
#define CF_POLICY_H

#include <stdbool.h>

#include "coffer/pkcs11.h"
#include "common/conf.h"
#include "token/mech/mech.h"
#include "token/object.h"

struct cf_token;

/*
 * The role a key was locked to on first use (docs/security.md), in
 * CKA_COFFER_KEY_ROLE (include/coffer/pkcs11.h): a CK_ULONG of CF_ROLE_*
 * bits, kept by the token (callers can read it but not set, change or copy
 * it away; the attribute rules know no row for it) and stored with the
 * object.
 */
#define CF_ROLE_DATA 0x1UL	  /* encrypt / decrypt */
#define CF_ROLE_KEYS 0x2UL	  /* wrap / unwrap */
#define CF_ROLE_DERIVE_DATA 0x4UL /* base of CKM_HKDF_DATA */
#define CF_ROLE_DERIVE_KEYS 0x8UL /* base of a key derivation */

enum cf_use {
	CF_USE_ENCRYPT,
	CF_USE_DECRYPT,
	CF_USE_SIGN,
	CF_USE_VERIFY,
	CF_USE_SIGN_RECOVER,
	CF_USE_VERIFY_RECOVER,
	CF_USE_WRAP,
	CF_USE_UNWRAP,
	CF_USE_DERIVE,
};

/* The use an operation kind makes of its key. */
enum cf_use cf_policy_use_of(enum cf_op_kind kind);

/*
 * May key be used for use with mech? CKR_KEY_TYPE_INCONSISTENT (the
 * mechanism does not take the key's type, or the key's class cannot serve
 * the use: a public key cannot sign), CKR_KEY_FUNCTION_NOT_PERMITTED (the
 * usage attribute is false, or the key is locked to the other role),
 * CKR_MECHANISM_INVALID (not in CKA_ALLOWED_MECHANISMS). With
 * conf->strict_key_roles, a use that has a role locks key (and the other
 * half of its pair, found by CKA_PUBLIC_KEY_INFO) to it, stored in t:
 * store errors are returned. key itself is not changed (the stored object
 * is replaced by a copy).
 */
CK_RV cf_policy_key_use(struct cf_token *t, const struct cf_conf *conf,
			const struct cf_object *key, const struct cf_mech *mech,
			enum cf_use use) __attribute__((warn_unused_result));

/*
 * C_WrapKey, beyond the spec's own checks: may wrapping wrap target?
 * Strict: a sensitive target only under a key whose value nobody can
 * know (CKA_TRUSTED, or a secret key generated here that was always
 * sensitive and never extractable). CKR_KEY_NOT_WRAPPABLE.
 */
CK_RV cf_policy_wrap(const struct cf_conf *conf,
		     const struct cf_object *wrapping,
		     const struct cf_object *target)
    __attribute__((warn_unused_result));

/*
 * A key made from parent (C_UnwrapKey's unwrapping key, C_DeriveKey's
 * base or salt key): strict, made must be sensitive unless parent's value
 * is readable anyway. CKR_TEMPLATE_INCONSISTENT.
 */
CK_RV cf_policy_new_key(const struct cf_conf *conf,
			const struct cf_object *parent,
			const struct cf_object *made)
    __attribute__((warn_unused_result));

/*
 * CKA_UNWRAP_TEMPLATE / CKA_DERIVE_TEMPLATE (which) of key applied to the
 * caller's template: *out (malloc'd array, free with free(); its values
 * point into the caller's template and into *hold, release with
 * cf_object_unref) is tmpl plus the key's template entries it lacks. A
 * caller's entry that differs from the key's: CKR_TEMPLATE_INCONSISTENT.
 */
CK_RV cf_policy_template_apply(const struct cf_object *key,
			       CK_ATTRIBUTE_TYPE which,
			       const CK_ATTRIBUTE *tmpl, CK_ULONG n,
			       CK_ATTRIBUTE **out, CK_ULONG *out_n,
			       struct cf_object **hold)
    __attribute__((warn_unused_result));

/* CKA_WRAP_TEMPLATE of wrapping against target: true when unset or every
 * entry is present in target with an equal value. */
bool cf_policy_template_matches(const struct cf_object *wrapping,
				const struct cf_object *target);

#endif
