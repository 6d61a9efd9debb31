/*
 * wrap_api.c - C_WrapKey and C_UnwrapKey (PKCS#11 v3.0 base 5.18.3,
 * 5.18.4). The mechanism family encrypts and decrypts bytes (mech.h); this
 * file decides what may be wrapped with what, what the bytes are (a secret
 * key's CKA_VALUE, a private key's PKCS#8 PrivateKeyInfo DER) and builds
 * the unwrapped object, stored whole or not at all. The key-usage policy
 * (policy.h, docs/security.md) adds its checks to the spec's.
 */
#include "token/core.h"

#include <stdlib.h>

#include <openssl/x509.h>

#include "common/crypto.h"
#include "token/rules.h"

/* The wrapping or unwrapping key: the generic codes renamed as 5.18.3/4
 * name them. */
static CK_RV kek_rv(CK_RV rv, bool wrap)
{
	if (rv == CKR_KEY_HANDLE_INVALID)
		return wrap ? CKR_WRAPPING_KEY_HANDLE_INVALID
			    : CKR_UNWRAPPING_KEY_HANDLE_INVALID;
	if (rv == CKR_KEY_TYPE_INCONSISTENT)
		return wrap ? CKR_WRAPPING_KEY_TYPE_INCONSISTENT
			    : CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT;
	return rv;
}

/* A private key as PKCS#8 PrivateKeyInfo DER, in secret memory. */
static CK_RV pkcs8_of(EVP_PKEY *pk, struct cf_secret *out)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pk);
	unsigned char *der = NULL;
	int len;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (p8 == NULL)
		return CKR_GENERAL_ERROR;
	len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
	if (len > 0) {
		rv = cf_secret_set(out, der, (size_t)len) == 0
			 ? CKR_OK
			 : CKR_HOST_MEMORY;
		OPENSSL_clear_free(der, (size_t)len);
	}
	PKCS8_PRIV_KEY_INFO_free(p8);
	return rv;
}

/* What C_WrapKey encrypts: the key material of target. */
static CK_RV wrap_plaintext(const struct cf_object *target,
			    struct cf_secret *out)
{
	struct cf_key k;
	CK_RV rv = cf_key_from_object(target, &k);

	if (rv != CKR_OK)
		return rv;
	if (target->cls == CKO_SECRET_KEY)
		return cf_secret_set(out, k.value, k.value_len) == 0
			   ? CKR_OK
			   : CKR_HOST_MEMORY;
	return pkcs8_of(k.pkey, out);
}

/* The spec's conditions between the two keys (4.9, 4.10). */
static CK_RV wrappable(const struct cf_object *wrapping,
		       const struct cf_object *target)
{
	if (cf_object_bool(target, CKA_WRAP_WITH_TRUSTED, false) &&
	    !cf_object_bool(wrapping, CKA_TRUSTED, false))
		return CKR_KEY_NOT_WRAPPABLE;
	if (!cf_policy_template_matches(wrapping, target))
		return CKR_KEY_NOT_WRAPPABLE;
	return CKR_OK;
}

/* 5.18.3; the output follows 5.2 (length query, CKR_BUFFER_TOO_SMALL). */
CF_EXPORT CK_RV C_WrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
			  CK_OBJECT_HANDLE wrapping_h, CK_OBJECT_HANDLE key_h,
			  CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
	struct cf_session *s;
	const struct cf_mech *mech;
	struct cf_object *wobj = NULL, *target = NULL;
	struct cf_key wkey;
	struct cf_secret plain = {0};
	CK_RV rv;

	rv = cf_session_enter(h, &s);
	if (rv != CKR_OK)
		return rv;
	if (m == NULL || outl == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_leave;
	}
	rv = cf_op_mech(m, CKF_WRAP, &mech);
	if (rv != CKR_OK)
		goto out_leave;
	rv = cf_objects_get_locked(s->token, key_h, &target);
	if (rv == CKR_OBJECT_HANDLE_INVALID)
		rv = CKR_KEY_HANDLE_INVALID;
	if (rv != CKR_OK)
		goto out_leave;
	if (target->cls != CKO_SECRET_KEY && target->cls != CKO_PRIVATE_KEY) {
		rv = CKR_KEY_NOT_WRAPPABLE;
		goto out_leave;
	}
	if (!cf_object_bool(target, CKA_EXTRACTABLE, false)) {
		rv = CKR_KEY_UNEXTRACTABLE;
		goto out_leave;
	}
	rv = kek_rv(cf_op_key_locked(s->token, wrapping_h, mech, CF_USE_WRAP,
				     &wobj, &wkey),
		    true);
	if (rv == CKR_OK)
		rv = wrappable(wobj, target);
	if (rv == CKR_OK)
		rv = cf_policy_wrap(&cf_lib->conf, wobj, target);
	if (rv == CKR_OK)
		rv = wrap_plaintext(target, &plain);
	if (rv == CKR_OK)
		rv =
		    mech->ops->wrap(m, &wkey, plain.data, plain.len, out, outl);
	cf_secret_clear(&plain);
out_leave:
	cf_object_unref(target);
	cf_object_unref(wobj);
	cf_session_leave(s);
	return rv;
}

/* The CKA_VALUE lengths a secret key type allows (rules.c checks the same
 * for templates; an unwrapped value is checked here). */
static bool secret_len_ok(CK_KEY_TYPE kt, size_t len)
{
	switch (kt) {
	case CKK_AES:
		return len == 16 || len == 24 || len == 32;
	case CKK_DES3:
		return len == 24;
	case CKK_CHACHA20:
		return len == 32;
	default:
		return len >= 1;
	}
}

/* A private key from PKCS#8 PrivateKeyInfo DER, stored into o by its key
 * type. */
static CK_RV set_private(struct cf_object *o, const struct cf_secret *der)
{
	const struct cf_keytype *kt = cf_keytype_find(o->key_type);
	const unsigned char *p = der->data;
	PKCS8_PRIV_KEY_INFO *p8;
	EVP_PKEY *pk = NULL;
	CK_RV rv;

	if (kt == NULL)
		return CKR_TEMPLATE_INCONSISTENT;
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)der->len);
	if (p8 == NULL || p != der->data + der->len) {
		PKCS8_PRIV_KEY_INFO_free(p8);
		return CKR_WRAPPED_KEY_INVALID;
	}
	pk = EVP_PKCS82PKEY_ex(p8, cf_libctx(), NULL);
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (pk == NULL)
		return CKR_WRAPPED_KEY_INVALID;
	rv = kt->store(pk, NULL, o);
	if (rv == CKR_KEY_TYPE_INCONSISTENT)
		rv = CKR_TEMPLATE_INCONSISTENT; /* the blob is another type */
	EVP_PKEY_free(pk);
	return rv;
}

/* Puts the unwrapped key material into o. */
static CK_RV set_material(struct cf_object *o, const struct cf_secret *plain)
{
	if (o->cls == CKO_PRIVATE_KEY)
		return set_private(o, plain);
	if (o->cls != CKO_SECRET_KEY)
		return CKR_TEMPLATE_INCONSISTENT;
	if (!secret_len_ok(o->key_type, plain->len))
		return CKR_WRAPPED_KEY_INVALID;
	return cf_object_set(o, CKA_VALUE, plain->data, (CK_ULONG)plain->len);
}

/* Builds the new key from the caller's template and the unwrapping key's
 * CKA_UNWRAP_TEMPLATE (class and key type come from them). */
static CK_RV new_key(struct cf_session *s, const struct cf_object *uobj,
		     const CK_ATTRIBUTE *tmpl, CK_ULONG n, struct cf_object **o)
{
	CK_ATTRIBUTE *all = NULL;
	CK_ULONG all_n = 0;
	struct cf_object *hold = NULL;
	CK_RV rv;

	rv = cf_policy_template_apply(uobj, CKA_UNWRAP_TEMPLATE, tmpl, n, &all,
				      &all_n, &hold);
	if (rv != CKR_OK)
		return rv;
	rv = cf_rules_new_object(CF_ORIGIN_UNWRAP, CK_UNAVAILABLE_INFORMATION,
				 CK_UNAVAILABLE_INFORMATION, all, all_n,
				 s->token->login == CKU_SO, o);
	free(all);
	cf_object_unref(hold);
	return rv;
}

/* 5.18.4 */
CF_EXPORT CK_RV C_UnwrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
			    CK_OBJECT_HANDLE unwrapping_h, CK_BYTE_PTR in,
			    CK_ULONG inl, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
			    CK_OBJECT_HANDLE_PTR out)
{
	struct cf_session *s;
	const struct cf_mech *mech;
	struct cf_object *uobj = NULL, *o = NULL;
	struct cf_key ukey;
	struct cf_secret plain = {0};
	CK_RV rv;

	if (out != NULL)
		*out = CK_INVALID_HANDLE;
	rv = cf_session_enter(h, &s);
	if (rv != CKR_OK)
		return rv;
	if (m == NULL || out == NULL || (in == NULL && inl > 0) ||
	    (tmpl == NULL && n > 0)) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_leave;
	}
	rv = cf_op_mech(m, CKF_UNWRAP, &mech);
	if (rv != CKR_OK)
		goto out_leave;
	rv = kek_rv(cf_op_key_locked(s->token, unwrapping_h, mech,
				     CF_USE_UNWRAP, &uobj, &ukey),
		    false);
	if (rv == CKR_OK)
		rv = new_key(s, uobj, tmpl, n, &o);
	if (rv == CKR_OK)
		rv = cf_policy_new_key(&cf_lib->conf, uobj, o);
	/* Refuse before the work, not after it. */
	if (rv == CKR_OK)
		rv = cf_session_may_write(s, o);
	if (rv == CKR_OK)
		rv = mech->ops->unwrap(m, &ukey, in, inl, &plain);
	if (rv == CKR_OK)
		rv = set_material(o, &plain);
	if (rv == CKR_OK)
		rv = cf_rules_update_derived(o);
	if (rv == CKR_OK)
		rv = cf_objects_add_locked(s->token, o, s->handle);
	if (rv == CKR_OK)
		*out = o->handle;
	cf_secret_clear(&plain);
out_leave:
	cf_object_unref(o);
	cf_object_unref(uobj);
	cf_session_leave(s);
	return rv;
}
