/*
 * kdf.c - HKDF (RFC 5869; Current Mechanisms 2.43): CKM_HKDF_DERIVE makes
 * a secret key, CKM_HKDF_DATA a data object holding the output in
 * CKA_VALUE. OpenSSL's "HKDF" EVP_KDF does the work.
 *
 * CKF_HKDF_SALT_KEY needs a second key looked up by handle, which a family
 * cannot do: C_DeriveKey (keygen_api.c) resolves it under the token lock
 * and passes the salt key's value as CKF_HKDF_SALT_DATA, so a
 * CKF_HKDF_SALT_KEY that reaches this file is refused.
 *
 * The output length: CKA_VALUE_LEN of the new key, or the fixed length of
 * its type (DES3, ChaCha20). A data object has no CKA_VALUE_LEN (4.5):
 * C_DeriveKey takes it out of the caller's template and leaves it on the
 * new object for this file, which removes it again; without one the
 * output is one hash long. Extract alone gives the pseudorandom key, one
 * hash long.
 */
#include "token/mech/mech.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include "common/crypto.h"

/* An HKDF-Expand output is at most 255 hashes (RFC 5869 2.3). */
#define HKDF_MAX_BLOCKS 255

static EVP_KDF *hkdf;
static pthread_once_t hkdf_once = PTHREAD_ONCE_INIT;

static void fetch_hkdf(void)
{
	OSSL_LIB_CTX *ctx = cf_libctx();

	if (ctx != NULL)
		hkdf = EVP_KDF_fetch(ctx, "HKDF", NULL);
}

static CK_RV check_params(const CK_MECHANISM *m, const CK_HKDF_PARAMS **out,
			  const char **md)
{
	const CK_HKDF_PARAMS *p = m->pParameter;

	*out = NULL;
	if (p == NULL || m->ulParameterLen != sizeof(*p))
		return CKR_MECHANISM_PARAM_INVALID;
	if (!p->bExtract && !p->bExpand)
		return CKR_MECHANISM_PARAM_INVALID;
	*md = cf_md_name_of_mech(p->prfHashMechanism);
	if (*md == NULL || cf_md(*md) == NULL)
		return CKR_MECHANISM_PARAM_INVALID;
	if (p->bExtract) {
		switch (p->ulSaltType) {
		case CKF_HKDF_SALT_NULL:
			break;
		case CKF_HKDF_SALT_DATA:
			if (p->pSalt == NULL || p->ulSaltLen == 0)
				return CKR_MECHANISM_PARAM_INVALID;
			break;
		default: /* CKF_HKDF_SALT_KEY is resolved by the core */
			return CKR_MECHANISM_PARAM_INVALID;
		}
	}
	if (p->pInfo == NULL && p->ulInfoLen > 0)
		return CKR_MECHANISM_PARAM_INVALID;
	*out = p;
	return CKR_OK;
}

/* How many bytes to make for key (see the file comment). */
static CK_RV out_len(const CK_HKDF_PARAMS *p, size_t hlen,
		     struct cf_object *key, size_t *len)
{
	const struct cf_attr *a = cf_object_attr(key, CKA_VALUE_LEN);
	bool given = a != NULL && a->len == sizeof(CK_ULONG);
	CK_ULONG v = cf_object_ulong(key, CKA_VALUE_LEN, 0);

	*len = 0;
	if (key->cls == CKO_DATA) {
		cf_object_remove(key, CKA_VALUE_LEN);
	} else if (key->cls != CKO_SECRET_KEY) {
		return CKR_TEMPLATE_INCONSISTENT;
	} else if (key->key_type == CKK_DES3) {
		given = true;
		v = 24;
	} else if (key->key_type == CKK_CHACHA20) {
		given = true;
		v = 32;
	} else if (key->key_type == CKK_AES) {
		if (!given)
			return CKR_TEMPLATE_INCOMPLETE;
		if (v != 16 && v != 24 && v != 32)
			return CKR_TEMPLATE_INCONSISTENT;
	}
	if (!p->bExpand) {
		if (given && v != hlen)
			return CKR_TEMPLATE_INCONSISTENT;
		*len = hlen;
		return CKR_OK;
	}
	if (!given) {
		if (key->cls != CKO_DATA)
			return CKR_TEMPLATE_INCOMPLETE;
		v = hlen;
	}
	if (v == 0 || v > HKDF_MAX_BLOCKS * hlen)
		return CKR_KEY_SIZE_RANGE;
	*len = v;
	return CKR_OK;
}

static int mode_of(const CK_HKDF_PARAMS *p)
{
	if (p->bExtract && p->bExpand)
		return EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND;
	return p->bExtract ? EVP_KDF_HKDF_MODE_EXTRACT_ONLY
			   : EVP_KDF_HKDF_MODE_EXPAND_ONLY;
}

static CK_RV run_hkdf(const CK_HKDF_PARAMS *p, const char *md,
		      const struct cf_key *base, uint8_t *out, size_t len)
{
	OSSL_PARAM params[6], *q = params;
	EVP_KDF_CTX *ctx;
	int mode = mode_of(p);
	CK_RV rv = CKR_GENERAL_ERROR;

	pthread_once(&hkdf_once, fetch_hkdf);
	if (hkdf == NULL)
		return CKR_GENERAL_ERROR;
	*q++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)md, 0);
	*q++ = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_KEY, (void *)base->value, base->value_len);
	if (p->bExtract && p->ulSaltType == CKF_HKDF_SALT_DATA)
		*q++ = OSSL_PARAM_construct_octet_string(
		    OSSL_KDF_PARAM_SALT, p->pSalt, p->ulSaltLen);
	if (p->bExpand && p->ulInfoLen > 0)
		*q++ = OSSL_PARAM_construct_octet_string(
		    OSSL_KDF_PARAM_INFO, p->pInfo, p->ulInfoLen);
	*q = OSSL_PARAM_construct_end();
	ctx = EVP_KDF_CTX_new(hkdf);
	if (ctx == NULL)
		return CKR_HOST_MEMORY;
	if (EVP_KDF_derive(ctx, out, len, params) == 1)
		rv = CKR_OK;
	EVP_KDF_CTX_free(ctx);
	return rv;
}

static CK_RV derive(const CK_MECHANISM *m, const struct cf_key *base,
		    struct cf_object *key)
{
	const CK_HKDF_PARAMS *p;
	const char *md = NULL;
	struct cf_secret out = {0};
	size_t len;
	int hlen;
	CK_RV rv;

	rv = check_params(m, &p, &md);
	if (rv != CKR_OK)
		return rv;
	if (base->cls != CKO_SECRET_KEY || base->value == NULL)
		return CKR_KEY_TYPE_INCONSISTENT;
	if ((m->mechanism == CKM_HKDF_DATA) != (key->cls == CKO_DATA))
		return CKR_TEMPLATE_INCONSISTENT;
	hlen = EVP_MD_get_size(cf_md(md));
	if (hlen <= 0)
		return CKR_GENERAL_ERROR;
	rv = out_len(p, (size_t)hlen, key, &len);
	if (rv != CKR_OK)
		return rv;
	if (cf_secret_init(&out, len) != 0)
		return CKR_HOST_MEMORY;
	rv = run_hkdf(p, md, base, out.data, out.len);
	if (rv == CKR_OK)
		rv = cf_object_set(key, CKA_VALUE, out.data, (CK_ULONG)out.len);
	cf_secret_clear(&out);
	return rv;
}

static const struct cf_mech_ops ops = {
    .derive = derive,
};

#define ROW(t)                                                                 \
	{                                                                      \
		(t), {1, 255 * 64, CKF_DERIVE},                                \
		    {CKK_GENERIC_SECRET, CKK_HKDF, CF_MECH_KEY_TYPES_END,      \
		     CF_MECH_KEY_TYPES_END},                                   \
		    &ops, NULL, false                                          \
	}

static const struct cf_mech rows[] = {
    ROW(CKM_HKDF_DERIVE),
    ROW(CKM_HKDF_DATA),
};

const struct cf_mech_family cf_mechs_kdf = {rows,
					    sizeof(rows) / sizeof(rows[0])};
