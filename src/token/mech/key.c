/* key.c - a key object as mechanism code sees it (see mech.h). */
#include "token/mech/mech.h"

CK_RV cf_key_from_object(const struct cf_object *o, struct cf_key *k)
{
	const struct cf_keytype *kt;
	const struct cf_attr *v;
	struct cf_object *mut = (struct cf_object *)o; /* the pkey cache */
	CK_RV rv;

	*k = (struct cf_key){.obj = o, .cls = o->cls, .type = o->key_type};
	switch (o->cls) {
	case CKO_SECRET_KEY:
		v = cf_object_attr(o, CKA_VALUE);
		/* Key material is absent from an object read while no user
		 * was logged in: it is still sealed. */
		if (v == NULL || v->len == 0)
			return CKR_USER_NOT_LOGGED_IN;
		k->value = v->value;
		k->value_len = v->len;
		return CKR_OK;
	case CKO_PUBLIC_KEY:
	case CKO_PRIVATE_KEY:
		break;
	default:
		return CKR_KEY_HANDLE_INVALID;
	}
	kt = cf_keytype_find(o->key_type);
	if (kt == NULL)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (o->pkey == NULL) {
		if (o->cls == CKO_PRIVATE_KEY &&
		    cf_object_attr(o, o->key_type == CKK_RSA
					      ? CKA_PRIVATE_EXPONENT
					      : CKA_VALUE) == NULL)
			return CKR_USER_NOT_LOGGED_IN;
		rv = kt->load(o, &mut->pkey);
		if (rv != CKR_OK)
			return rv;
	}
	k->pkey = o->pkey;
	return CKR_OK;
}
