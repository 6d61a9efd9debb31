/*
 * policy.c - see policy.h and docs/security.md, "Key roles and wrapping".
 *
 * The role lock: a key serves data (encrypt/decrypt) or keys
 * (wrap/unwrap), whichever it is first used for, and a derivation base
 * makes data (CKM_HKDF_DATA) or keys, never both. The two halves of a key
 * pair share one lock: the halves are matched by CKA_PUBLIC_KEY_INFO, and
 * a use of either records the role on both.
 */
#include "token/policy.h"

#include <stdlib.h>
#include <string.h>

#include "token/core.h"

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

static bool mechanism_allowed(const struct cf_object *key, CK_MECHANISM_TYPE t)
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

/* The role bit a use claims, 0 for uses without one (signatures). */
static CK_ULONG role_of(enum cf_use use, const struct cf_mech *mech)
{
	switch (use) {
	case CF_USE_ENCRYPT:
	case CF_USE_DECRYPT:
		return CF_ROLE_DATA;
	case CF_USE_WRAP:
	case CF_USE_UNWRAP:
		return CF_ROLE_KEYS;
	case CF_USE_DERIVE:
		return mech->type == CKM_HKDF_DATA ? CF_ROLE_DERIVE_DATA
						   : CF_ROLE_DERIVE_KEYS;
	default:
		return 0;
	}
}

static CK_ULONG role_conflicts(CK_ULONG role)
{
	switch (role) {
	case CF_ROLE_DATA:
		return CF_ROLE_KEYS;
	case CF_ROLE_KEYS:
		return CF_ROLE_DATA;
	case CF_ROLE_DERIVE_DATA:
		return CF_ROLE_DERIVE_KEYS;
	case CF_ROLE_DERIVE_KEYS:
		return CF_ROLE_DERIVE_DATA;
	default:
		return 0;
	}
}

static CK_ULONG roles(const struct cf_object *o)
{
	return cf_object_ulong(o, CKA_COFFER_KEY_ROLE, 0);
}

/* The other half of key's pair on the token (handles, malloc'd), found by
 * an equal, non-empty CKA_PUBLIC_KEY_INFO. */
static CK_RV pair_halves(struct cf_token *t, const struct cf_object *key,
			 CK_OBJECT_HANDLE **found, size_t *count)
{
	const struct cf_attr *spki = cf_object_attr(key, CKA_PUBLIC_KEY_INFO);
	CK_OBJECT_CLASS other =
	    key->cls == CKO_PUBLIC_KEY ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
	CK_ATTRIBUTE tmpl[2] = {
	    {CKA_CLASS, &other, sizeof(other)},
	    {CKA_PUBLIC_KEY_INFO, NULL, 0},
	};

	*found = NULL;
	*count = 0;
	if (key->cls == CKO_SECRET_KEY || spki == NULL || spki->len == 0)
		return CKR_OK;
	tmpl[1].pValue = spki->value;
	tmpl[1].ulValueLen = spki->len;
	return cf_objects_find_locked(t, tmpl, 2, found, count);
}

/* Records role on the stored object h (a copy replaces it). */
static CK_RV record_role(struct cf_token *t, const struct cf_object *o,
			 CK_ULONG role)
{
	struct cf_object *c = NULL;
	CK_RV rv;

	if ((roles(o) & role) == role)
		return CKR_OK;
	rv = cf_object_dup(o, &c);
	if (rv == CKR_OK)
		rv = cf_object_set_ulong(c, CKA_COFFER_KEY_ROLE,
					 roles(o) | role);
	if (rv == CKR_OK) {
		c->id = o->id;
		c->handle = o->handle;
		c->owner = o->owner;
		rv = cf_objects_replace_locked(t, c);
	}
	cf_object_unref(c);
	return rv;
}

/* Checks role against key and the other half of its pair, then locks
 * them all to it. */
static CK_RV role_lock(struct cf_token *t, const struct cf_object *key,
		       CK_ULONG role)
{
	CK_OBJECT_HANDLE *halves = NULL;
	struct cf_object **objs = NULL;
	size_t n = 0, got = 0;
	CK_RV rv;

	if (roles(key) & role_conflicts(role))
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	rv = pair_halves(t, key, &halves, &n);
	if (rv != CKR_OK)
		return rv;
	if (n > 0) {
		objs = calloc(n, sizeof(*objs));
		if (objs == NULL) {
			rv = CKR_HOST_MEMORY;
			goto out_free;
		}
	}
	/* Every half is checked before any is changed. */
	for (size_t i = 0; i < n; i++) {
		if (cf_objects_get_locked(t, halves[i], &objs[got]) != CKR_OK)
			continue; /* gone meanwhile: nothing to lock */
		if (roles(objs[got++]) & role_conflicts(role)) {
			rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
			goto out_free;
		}
	}
	rv = record_role(t, key, role);
	for (size_t i = 0; i < got && rv == CKR_OK; i++)
		rv = record_role(t, objs[i], role);
out_free:
	for (size_t i = 0; i < got; i++)
		cf_object_unref(objs[i]);
	free(objs);
	free(halves);
	return rv;
}

CK_RV cf_policy_key_use(struct cf_token *t, const struct cf_conf *conf,
			const struct cf_object *key, const struct cf_mech *mech,
			enum cf_use use)
{
	CK_ULONG role;

	if (!cf_mech_accepts(mech, key->key_type) ||
	    !class_serves(key->cls, use))
		return CKR_KEY_TYPE_INCONSISTENT;
	if (!cf_object_bool(key, use_attr[use], false))
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (!mechanism_allowed(key, mech->type))
		return CKR_MECHANISM_INVALID;
	role = role_of(use, mech);
	if (!conf->strict_key_roles || role == 0)
		return CKR_OK;
	return role_lock(t, key, role);
}

/* Whether the value of a secret or private key can be read. */
static bool readable(const struct cf_object *k)
{
	if (k->cls == CKO_PUBLIC_KEY)
		return true;
	return !cf_object_bool(k, CKA_SENSITIVE, true) &&
	       cf_object_bool(k, CKA_EXTRACTABLE, false);
}

/* A key whose value no caller can know: vouched for by the SO, or made
 * here and never revealed since. */
static bool value_unknown(const struct cf_object *k)
{
	if (cf_object_bool(k, CKA_TRUSTED, false))
		return k->cls == CKO_PUBLIC_KEY || !readable(k);
	return k->cls == CKO_SECRET_KEY &&
	       cf_object_bool(k, CKA_LOCAL, false) &&
	       cf_object_bool(k, CKA_ALWAYS_SENSITIVE, false) &&
	       cf_object_bool(k, CKA_NEVER_EXTRACTABLE, false);
}

CK_RV cf_policy_wrap(const struct cf_conf *conf,
		     const struct cf_object *wrapping,
		     const struct cf_object *target)
{
	if (!conf->strict_key_roles || readable(target))
		return CKR_OK;
	return value_unknown(wrapping) ? CKR_OK : CKR_KEY_NOT_WRAPPABLE;
}

CK_RV cf_policy_new_key(const struct cf_conf *conf,
			const struct cf_object *parent,
			const struct cf_object *made)
{
	if (!conf->strict_key_roles || readable(parent))
		return CKR_OK;
	if (made->cls != CKO_SECRET_KEY && made->cls != CKO_PRIVATE_KEY)
		return CKR_OK; /* CKM_HKDF_DATA: the derive role lock */
	return cf_object_bool(made, CKA_SENSITIVE, false)
		   ? CKR_OK
		   : CKR_TEMPLATE_INCONSISTENT;
}

/* The entries of key's attribute-array attribute which, decoded into a
 * temporary object (*hold; NULL when the template is empty). */
static CK_RV template_of(const struct cf_object *key, CK_ATTRIBUTE_TYPE which,
			 struct cf_object **hold)
{
	const struct cf_attr *a = cf_object_attr(key, which);
	struct cf_object *t;
	CK_RV rv;

	*hold = NULL;
	if (a == NULL || a->len == 0)
		return CKR_OK;
	t = cf_object_new();
	if (t == NULL)
		return CKR_HOST_MEMORY;
	rv = cf_object_decode(t, a->value, a->len);
	if (rv != CKR_OK) {
		cf_object_unref(t);
		return CKR_GENERAL_ERROR;
	}
	*hold = t;
	return CKR_OK;
}

static CK_ATTRIBUTE entry_of(const struct cf_attr *a)
{
	CK_ATTRIBUTE e = {a->type, a->value, a->len};
	return e;
}

CK_RV cf_policy_template_apply(const struct cf_object *key,
			       CK_ATTRIBUTE_TYPE which,
			       const CK_ATTRIBUTE *tmpl, CK_ULONG n,
			       CK_ATTRIBUTE **out, CK_ULONG *out_n,
			       struct cf_object **hold)
{
	struct cf_object *kt = NULL, *given = NULL;
	CK_ATTRIBUTE *arr;
	CK_ULONG k = 0;
	CK_RV rv;

	*out = NULL;
	*out_n = 0;
	*hold = NULL;
	rv = template_of(key, which, &kt);
	if (rv != CKR_OK)
		return rv;
	arr = calloc(n + (kt != NULL ? kt->n : 0) + 1, sizeof(*arr));
	if (arr == NULL) {
		cf_object_unref(kt);
		return CKR_HOST_MEMORY;
	}
	for (CK_ULONG i = 0; i < n; i++)
		arr[k++] = tmpl[i];
	if (kt != NULL) {
		/* the caller's template in the same layout, to compare */
		given = cf_object_new();
		rv = given == NULL ? CKR_HOST_MEMORY : CKR_OK;
		for (CK_ULONG i = 0; i < n && rv == CKR_OK; i++)
			if (cf_object_attr(given, tmpl[i].type) == NULL)
				rv = cf_object_set_api(given, &tmpl[i]);
		for (size_t i = 0; i < kt->n && rv == CKR_OK; i++) {
			CK_ATTRIBUTE e = entry_of(&kt->attrs[i]);
			if (cf_object_attr(given, e.type) == NULL)
				arr[k++] = e;
			else if (!cf_object_match(given, &e, 1))
				rv = CKR_TEMPLATE_INCONSISTENT;
		}
		cf_object_unref(given);
	}
	if (rv != CKR_OK) {
		free(arr);
		cf_object_unref(kt);
		return rv;
	}
	*out = arr;
	*out_n = k;
	*hold = kt;
	return CKR_OK;
}

bool cf_policy_template_matches(const struct cf_object *wrapping,
				const struct cf_object *target)
{
	struct cf_object *kt = NULL;
	bool ok = true;

	if (template_of(wrapping, CKA_WRAP_TEMPLATE, &kt) != CKR_OK)
		return false;
	for (size_t i = 0; kt != NULL && i < kt->n && ok; i++) {
		CK_ATTRIBUTE e = entry_of(&kt->attrs[i]);
		ok = cf_object_match(target, &e, 1);
	}
	cf_object_unref(kt);
	return ok;
}
