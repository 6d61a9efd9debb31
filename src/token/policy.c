/* policy.c - see policy.h and docs/security.md. */
#include "token/policy.h"

#include <string.h>

enum cf_use cf_policy_use_of(enum cf_op_kind kind)
{
	switch (kind) {
	case CF_OP_ENCRYPT:
	case CF_OP_MSG_ENCRYPT:
		return CF_USE_ENCRYPT;
	case CF_OP_DECRYPT:
	case CF_OP_MSG_DECRYPT:
		return CF_USE_DECRYPT;
	case CF_OP_SIGN:
		return CF_USE_SIGN;
	case CF_OP_VERIFY:
		return CF_USE_VERIFY;
	case CF_OP_SIGN_RECOVER:
		return CF_USE_SIGN_RECOVER;
	case CF_OP_VERIFY_RECOVER:
		return CF_USE_VERIFY_RECOVER;
	case CF_OP_DIGEST:
	case CF_OP_KINDS:
		break;
	}
	return CF_USE_DERIVE; /* not reached: digests take no key */
}

static const CK_ATTRIBUTE_TYPE use_attr[] = {
    [CF_USE_ENCRYPT] = CKA_ENCRYPT,
    [CF_USE_DECRYPT] = CKA_DECRYPT,
    [CF_USE_SIGN] = CKA_SIGN,
    [CF_USE_VERIFY] = CKA_VERIFY,
    [CF_USE_SIGN_RECOVER] = CKA_SIGN_RECOVER,
    [CF_USE_VERIFY_RECOVER] = CKA_VERIFY_RECOVER,
    [CF_USE_WRAP] = CKA_WRAP,
    [CF_USE_UNWRAP] = CKA_UNWRAP,
    [CF_USE_DERIVE] = CKA_DERIVE,
};

/* Which classes can serve a use: the private half of a pair does what
 * needs the secret, the public half the rest; secret keys do both. */
static bool class_serves(CK_OBJECT_CLASS cls, enum cf_use use)
{
	if (cls == CKO_SECRET_KEY)
		return true;
	switch (use) {
	case CF_USE_DECRYPT:
	case CF_USE_SIGN:
	case CF_USE_SIGN_RECOVER:
	case CF_USE_UNWRAP:
	case CF_USE_DERIVE:
		return cls == CKO_PRIVATE_KEY;
	default:
		return cls == CKO_PUBLIC_KEY;
	}
}

static bool mechanism_allowed(const struct cf_object *key,
			      CK_MECHANISM_TYPE t)
{
	const struct cf_attr *a = cf_object_attr(key, CKA_ALLOWED_MECHANISMS);
	size_t n;

	if (a == NULL || a->len == 0)
		return true; /* empty: any mechanism */
	n = a->len / sizeof(CK_MECHANISM_TYPE);
	for (size_t i = 0; i < n; i++) {
		CK_MECHANISM_TYPE m;
		memcpy(&m, a->value + i * sizeof(m), sizeof(m));
		if (m == t)
			return true;
	}
	return false;
}

CK_RV cf_policy_key_use(const struct cf_conf *conf,
			const struct cf_object *key, const struct cf_mech *mech,
			enum cf_use use)
{
	(void)conf;
	if (!cf_mech_accepts(mech, key->key_type) ||
	    !class_serves(key->cls, use))
		return CKR_KEY_TYPE_INCONSISTENT;
	if (!cf_object_bool(key, use_attr[use], false))
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (!mechanism_allowed(key, mech->type))
		return CKR_MECHANISM_INVALID;
	return CKR_OK;
}
