/*
 * policy.h - what a key may be used for: its class and type against the
 * mechanism, its usage attributes, CKA_ALLOWED_MECHANISMS, and the
 * key-role policy of docs/security.md that defeats the known PKCS#11 API
 * attacks. Under the token lock.
 */
#ifndef CF_POLICY_H
#define CF_POLICY_H

#include <stdbool.h>

#include "coffer/pkcs11.h"
#include "common/conf.h"
#include "token/mech/mech.h"
#include "token/object.h"

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
 * usage attribute is false, or the key-role policy refuses),
 * CKR_MECHANISM_INVALID (not in CKA_ALLOWED_MECHANISMS).
 */
CK_RV cf_policy_key_use(const struct cf_conf *conf,
			const struct cf_object *key, const struct cf_mech *mech,
			enum cf_use use) __attribute__((warn_unused_result));

#endif
