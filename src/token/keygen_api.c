/*
 * keygen_api.c - keys made inside the token (PKCS#11 v3.0 base 5.18):
 * C_GenerateKey, C_GenerateKeyPair and C_DeriveKey. The attribute rules
 * (rules.h) build each new object from the caller's template, the
 * mechanism family fills in the key material, and the object is stored
 * whole or not at all.
 */
#include "token/core.h"

#include <stdlib.h>
#include <string.h>

#include "token/rules.h"

/* Checks and stores a key the mechanism has completed. */
static CK_RV finish(struct cf_session *s, struct cf_object *o)
{
	CK_RV rv = cf_rules_update_derived(o);

	if (rv == CKR_OK)
		rv = cf_session_may_write(s, o);
	if (rv == CKR_OK)
		rv = cf_objects_add_locked(s->token, o, s->handle);
	return rv;
}

/* 5.18.1 */
CF_EXPORT CK_RV C_GenerateKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
			      CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
			      CK_OBJECT_HANDLE_PTR out)
{
	struct cf_session *s;
	const struct cf_mech *mech;
	struct cf_object *o = NULL;
	CK_RV rv;

	if (out != NULL)
		*out = CK_INVALID_HANDLE;
	rv = cf_session_enter(h, &s);
	if (rv != CKR_OK)
		return rv;
	if (m == NULL || out == NULL || !cf_tmpl_ok(tmpl, n)) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_leave;
	}
	rv = cf_op_mech(m, CKF_GENERATE, &mech);
	if (rv != CKR_OK)
		goto out_leave;
	rv = cf_rules_new_object(CF_ORIGIN_GENERATE, CKO_SECRET_KEY,
				 mech->key_types[0], tmpl, n,
				 s->token->login == CKU_SO, &o);
	if (rv != CKR_OK)
		goto out_leave;
	/* Refuse before the work, not after it. */
	rv = cf_session_may_write(s, o);
	if (rv == CKR_OK)
		rv = mech->ops->generate(m, o);
	if (rv == CKR_OK)
		rv = cf_object_set_ulong(o, CKA_KEY_GEN_MECHANISM,
					 m->mechanism);
	if (rv == CKR_OK)
		rv = finish(s, o);
	if (rv == CKR_OK)
		*out = o->handle;
out_leave:
	cf_object_unref(o);
	cf_session_leave(s);
	return rv;
}

/* 5.18.2. The two halves are stored in one commit: a crash or a failure
 * never leaves half a pair. */
CF_EXPORT CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
				  CK_ATTRIBUTE_PTR pub_tmpl, CK_ULONG pub_n,
				  CK_ATTRIBUTE_PTR priv_tmpl, CK_ULONG priv_n,
				  CK_OBJECT_HANDLE_PTR pub_out,
				  CK_OBJECT_HANDLE_PTR priv_out)
{
	struct cf_session *s;
	const struct cf_mech *mech;
	struct cf_object *pub = NULL, *priv = NULL;
	bool so;
	CK_RV rv;

	if (pub_out != NULL)
		*pub_out = CK_INVALID_HANDLE;
	if (priv_out != NULL)
		*priv_out = CK_INVALID_HANDLE;
	rv = cf_session_enter(h, &s);
	if (rv != CKR_OK)
		return rv;
	so = s->token->login == CKU_SO;
	if (m == NULL || pub_out == NULL || priv_out == NULL ||
	    !cf_tmpl_ok(pub_tmpl, pub_n) || !cf_tmpl_ok(priv_tmpl, priv_n)) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_leave;
	}
	rv = cf_op_mech(m, CKF_GENERATE_KEY_PAIR, &mech);
	if (rv != CKR_OK)
		goto out_leave;
	rv = cf_rules_new_object(CF_ORIGIN_GENERATE, CKO_PUBLIC_KEY,
				 mech->key_types[0], pub_tmpl, pub_n, so,
				 &pub);
	if (rv == CKR_OK)
		rv = cf_rules_new_object(CF_ORIGIN_GENERATE, CKO_PRIVATE_KEY,
					 mech->key_types[0], priv_tmpl,
					 priv_n, so, &priv);
	if (rv == CKR_OK)
		rv = cf_session_may_write(s, pub);
	if (rv == CKR_OK)
		rv = cf_session_may_write(s, priv);
	if (rv == CKR_OK)
		rv = mech->ops->generate_pair(m, pub, priv);
	if (rv == CKR_OK)
		rv = cf_object_set_ulong(pub, CKA_KEY_GEN_MECHANISM,
					 m->mechanism);
	if (rv == CKR_OK)
		rv = cf_object_set_ulong(priv, CKA_KEY_GEN_MECHANISM,
					 m->mechanism);
	if (rv == CKR_OK)
		rv = cf_rules_update_derived(priv);
	if (rv == CKR_OK)
		rv = cf_rules_update_derived(pub);
	if (rv == CKR_OK)
		rv = cf_session_may_write(s, pub);
	if (rv == CKR_OK)
		rv = cf_session_may_write(s, priv);
	if (rv == CKR_OK)
		rv = cf_objects_add_pair_locked(s->token, pub, priv, s->handle);
	if (rv != CKR_OK)
		goto out_leave;
	*pub_out = pub->handle;
	*priv_out = priv->handle;
out_leave:
	cf_object_unref(pub);
	cf_object_unref(priv);
	cf_session_leave(s);
	return rv;
}

static bool tmpl_has(const CK_ATTRIBUTE *tmpl, CK_ULONG n,
		     CK_ATTRIBUTE_TYPE t)
{
	for (CK_ULONG i = 0; i < n; i++)
		if (tmpl[i].type == t)
			return true;
	return false;
}

/* v3.0 4.9/4.10: a derived key inherits the history of its base. */
static CK_RV inherit_history(const struct cf_object *base,
			     struct cf_object *o)
{
	CK_RV rv;

	if (o->cls != CKO_SECRET_KEY && o->cls != CKO_PRIVATE_KEY)
		return CKR_OK;
	rv = cf_object_set_bool(
	    o, CKA_ALWAYS_SENSITIVE,
	    cf_object_bool(base, CKA_ALWAYS_SENSITIVE, false) &&
		cf_object_bool(o, CKA_SENSITIVE, false));
	if (rv != CKR_OK)
		return rv;
	return cf_object_set_bool(
	    o, CKA_NEVER_EXTRACTABLE,
	    cf_object_bool(base, CKA_NEVER_EXTRACTABLE, false) &&
		!cf_object_bool(o, CKA_EXTRACTABLE, true));
}

/* CKF_HKDF_SALT_KEY: the salt key's value handed to the family as
 * CKF_HKDF_SALT_DATA (a family cannot look keys up), in *p and *m2. The
 * salt key is checked and role-locked as a second base; *salt holds it
 * (NULL when the salt is not a key). */
static CK_RV hkdf_salt_key(struct cf_token *t, const struct cf_mech *mech,
			   const CK_MECHANISM *m, CK_HKDF_PARAMS *p,
			   CK_MECHANISM *m2, struct cf_object **salt)
{
	struct cf_key sk;
	CK_RV rv;

	*salt = NULL;
	*m2 = *m;
	if ((m->mechanism != CKM_HKDF_DERIVE && m->mechanism != CKM_HKDF_DATA) ||
	    m->pParameter == NULL || m->ulParameterLen != sizeof(*p))
		return CKR_OK;
	memcpy(p, m->pParameter, sizeof(*p));
	if (!p->bExtract || p->ulSaltType != CKF_HKDF_SALT_KEY)
		return CKR_OK;
	rv = cf_op_key_locked(t, p->hSaltKey, mech, CF_USE_DERIVE, salt, &sk);
	if (rv != CKR_OK)
		return rv;
	p->ulSaltType = CKF_HKDF_SALT_DATA;
	p->pSalt = (CK_BYTE *)sk.value;
	p->ulSaltLen = (CK_ULONG)sk.value_len;
	p->hSaltKey = CK_INVALID_HANDLE;
	m2->pParameter = p;
	return CKR_OK;
}

/* A data object has no CKA_VALUE_LEN (4.5), yet CKM_HKDF_DATA needs a
 * length: it is taken out of the template here and put on the new object
 * for the family, which removes it (mech/kdf.c). *len 0: none given. */
static CK_RV data_len_out(const CK_ATTRIBUTE *tmpl, CK_ULONG n,
			  CK_ATTRIBUTE *kept, CK_ULONG *kept_n, CK_ULONG *len)
{
	*kept_n = 0;
	*len = 0;
	for (CK_ULONG i = 0; i < n; i++) {
		if (tmpl[i].type != CKA_VALUE_LEN) {
			kept[(*kept_n)++] = tmpl[i];
			continue;
		}
		if (tmpl[i].pValue == NULL ||
		    tmpl[i].ulValueLen != sizeof(CK_ULONG))
			return CKR_ATTRIBUTE_VALUE_INVALID;
		memcpy(len, tmpl[i].pValue, sizeof(*len));
		if (*len == 0)
			return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	return CKR_OK;
}

static bool tmpl_class(const CK_ATTRIBUTE *tmpl, CK_ULONG n,
		       CK_OBJECT_CLASS *cls)
{
	for (CK_ULONG i = 0; i < n; i++)
		if (tmpl[i].type == CKA_CLASS && tmpl[i].pValue != NULL &&
		    tmpl[i].ulValueLen == sizeof(*cls)) {
			memcpy(cls, tmpl[i].pValue, sizeof(*cls));
			return true;
		}
	return false;
}

/* The new object of C_DeriveKey from the caller's template with the base
 * key's CKA_DERIVE_TEMPLATE applied. Without CKA_CLASS it is a secret key
 * (a data object for CKM_HKDF_DATA), and without CKA_KEY_TYPE a generic
 * secret (what a KDF output is). */
static CK_RV derive_object(struct cf_session *s, const struct cf_mech *mech,
			   const struct cf_object *base,
			   const CK_ATTRIBUTE *tmpl, CK_ULONG n,
			   struct cf_object **o)
{
	CK_ATTRIBUTE *all = NULL, *kept = NULL;
	CK_ULONG all_n = 0, kept_n = 0, data_len = 0;
	struct cf_object *hold = NULL;
	CK_OBJECT_CLASS cls = mech->type == CKM_HKDF_DATA ? CKO_DATA
							  : CKO_SECRET_KEY;
	CK_KEY_TYPE kt;
	CK_RV rv;

	*o = NULL;
	rv = cf_policy_template_apply(base, CKA_DERIVE_TEMPLATE, tmpl, n, &all,
				      &all_n, &hold);
	if (rv != CKR_OK)
		return rv;
	if (tmpl_class(all, all_n, &cls))
		cls = CK_UNAVAILABLE_INFORMATION;
	kt = tmpl_has(all, all_n, CKA_KEY_TYPE) ? CK_UNAVAILABLE_INFORMATION
						: CKK_GENERIC_SECRET;
	kept = calloc(all_n + 1, sizeof(*kept));
	if (kept == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out_free;
	}
	if (mech->type == CKM_HKDF_DATA) {
		rv = data_len_out(all, all_n, kept, &kept_n, &data_len);
	} else {
		memcpy(kept, all, all_n * sizeof(*kept));
		kept_n = all_n;
	}
	if (rv == CKR_OK)
		rv = cf_rules_new_object(CF_ORIGIN_DERIVE, cls, kt, kept,
					 kept_n, s->token->login == CKU_SO, o);
	if (rv == CKR_OK && data_len > 0)
		rv = cf_object_set_ulong(*o, CKA_VALUE_LEN, data_len);
out_free:
	free(kept);
	free(all);
	cf_object_unref(hold);
	return rv;
}

/* 5.18.5 */
CF_EXPORT CK_RV C_DeriveKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
			    CK_OBJECT_HANDLE base_h, CK_ATTRIBUTE_PTR tmpl,
			    CK_ULONG n, CK_OBJECT_HANDLE_PTR out)
{
	struct cf_session *s;
	const struct cf_mech *mech;
	struct cf_object *base = NULL, *salt = NULL, *o = NULL;
	struct cf_key key;
	CK_HKDF_PARAMS hkdf;
	CK_MECHANISM m2;
	CK_RV rv;

	if (out != NULL)
		*out = CK_INVALID_HANDLE;
	rv = cf_session_enter(h, &s);
	if (rv != CKR_OK)
		return rv;
	if (m == NULL || !cf_tmpl_ok(tmpl, n)) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_leave;
	}
	rv = cf_op_mech(m, CKF_DERIVE, &mech);
	if (rv != CKR_OK)
		goto out_leave;
	rv = cf_op_key_locked(s->token, base_h, mech, CF_USE_DERIVE, &base,
			      &key);
	if (rv != CKR_OK)
		goto out_leave;
	/* Some derive mechanisms make no object (and then out may be NULL);
	 * none of coffer's does. */
	if (out == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_leave;
	}
	rv = hkdf_salt_key(s->token, mech, m, &hkdf, &m2, &salt);
	if (rv == CKR_OK)
		rv = derive_object(s, mech, base, tmpl, n, &o);
	/* docs/security.md: what a protected key makes stays protected. */
	if (rv == CKR_OK)
		rv = cf_policy_new_key(&cf_lib->conf, base, o);
	if (rv == CKR_OK && salt != NULL)
		rv = cf_policy_new_key(&cf_lib->conf, salt, o);
	if (rv == CKR_OK)
		rv = cf_session_may_write(s, o);
	if (rv == CKR_OK)
		rv = mech->ops->derive(&m2, &key, o);
	if (rv == CKR_OK)
		rv = inherit_history(base, o);
	if (rv == CKR_OK)
		rv = finish(s, o);
	if (rv == CKR_OK)
		*out = o->handle;
out_leave:
	cf_object_unref(o);
	cf_object_unref(salt);
	cf_object_unref(base);
	cf_session_leave(s);
	return rv;
}
