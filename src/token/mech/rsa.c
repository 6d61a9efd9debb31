/*
 * rsa.c - RSA (Current Mechanisms v3.0 2.1): the CKK_RSA key type, key pair
 * generation, PKCS #1 v1.5, PSS, OAEP and raw X.509 signatures and
 * encryption, and the byte operations behind C_WrapKey / C_UnwrapKey.
 *
 * init only takes a reference to the object's cached EVP_PKEY and prepares
 * the OpenSSL contexts; the RSA arithmetic happens in oneshot/update/final.
 * All of it runs under the session lock only (op.c).
 *
 * PKCS #1 v1.5 decryption (and unwrapping) reports a bad padding as
 * CKR_ENCRYPTED_DATA_INVALID (CKR_WRAPPED_KEY_INVALID): PKCS #11 has no
 * other way to say it, and OpenSSL 3.0 has no implicit rejection, so an
 * application that exposes these codes to an attacker is a Bleichenbacher
 * oracle. Every failure of the private-key operation gives the one code
 * and the OpenSSL error queue is cleared, so nothing finer leaks from here
 * (docs/security.md). OAEP is the mechanism to use.
 */
#include "token/mech/mech.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/crypto.h"

#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 16384
#define RSA_MAX_BYTES (RSA_MAX_BITS / 8)
/* PKCS #1 v1.5 padding takes at least 11 bytes of the block. */
#define PKCS1_OVERHEAD 11

/* ---- the key type ---------------------------------------------------- */

/* Adds attribute t of o as BIGNUM parameter name; private values go into
 * secure BIGNUMs, which the builder keeps in OpenSSL's secure heap and
 * wipes when the parameters are freed. */
static CK_RV push_bn(OSSL_PARAM_BLD *bld, const struct cf_object *o,
		     CK_ATTRIBUTE_TYPE t, const char *name, bool secret,
		     BIGNUM **bn)
{
	const struct cf_attr *a = cf_object_attr(o, t);

	if (a == NULL || a->len == 0 || a->len > INT32_MAX)
		return CKR_GENERAL_ERROR;
	*bn = secret ? BN_secure_new() : BN_new();
	if (*bn == NULL)
		return CKR_HOST_MEMORY;
	if (BN_bin2bn(a->value, (int)a->len, *bn) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, name, *bn))
		return CKR_HOST_MEMORY;
	return CKR_OK;
}

static bool has_value(const struct cf_object *o, CK_ATTRIBUTE_TYPE t)
{
	const struct cf_attr *a = cf_object_attr(o, t);

	return a != NULL && a->len > 0;
}

static const struct {
	CK_ATTRIBUTE_TYPE type;
	const char *name;
} crt_params[] = {
    {CKA_PRIME_1, OSSL_PKEY_PARAM_RSA_FACTOR1},
    {CKA_PRIME_2, OSSL_PKEY_PARAM_RSA_FACTOR2},
    {CKA_EXPONENT_1, OSSL_PKEY_PARAM_RSA_EXPONENT1},
    {CKA_EXPONENT_2, OSSL_PKEY_PARAM_RSA_EXPONENT2},
    {CKA_COEFFICIENT, OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
};
#define NCRT (sizeof(crt_params) / sizeof(crt_params[0]))

static CK_RV rsa_load(const struct cf_object *o, EVP_PKEY **out)
{
	bool priv = o->cls == CKO_PRIVATE_KEY, crt = priv;
	BIGNUM *bn[3 + NCRT] = {NULL};
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	CK_RV rv = CKR_HOST_MEMORY;

	*out = NULL;
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL)
		return CKR_HOST_MEMORY;
	rv = push_bn(bld, o, CKA_MODULUS, OSSL_PKEY_PARAM_RSA_N, false, &bn[0]);
	if (rv == CKR_OK)
		rv = push_bn(bld, o, CKA_PUBLIC_EXPONENT, OSSL_PKEY_PARAM_RSA_E,
			     false, &bn[1]);
	if (rv == CKR_OK && priv)
		rv = push_bn(bld, o, CKA_PRIVATE_EXPONENT,
			     OSSL_PKEY_PARAM_RSA_D, true, &bn[2]);
	/* The CRT values are optional; OpenSSL uses them only all together. */
	for (size_t i = 0; i < NCRT && crt; i++)
		crt = has_value(o, crt_params[i].type);
	for (size_t i = 0; i < NCRT && crt && rv == CKR_OK; i++)
		rv = push_bn(bld, o, crt_params[i].type, crt_params[i].name,
			     true, &bn[3 + i]);
	if (rv != CKR_OK)
		goto out;
	rv = CKR_HOST_MEMORY;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = cf_pkey_ctx("RSA");
	if (params == NULL || ctx == NULL)
		goto out;
	rv = CKR_GENERAL_ERROR;
	if (EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, out,
			      priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
			      params) <= 0)
		goto out;
	rv = CKR_OK;
out:
	if (rv != CKR_OK)
		ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	for (size_t i = 0; i < sizeof(bn) / sizeof(bn[0]); i++)
		BN_clear_free(bn[i]);
	return rv;
}

/* Sets attribute t of o to parameter name of pk, big-endian without
 * leading zeros. absent_ok: a missing parameter is no error. */
static CK_RV put_bn(EVP_PKEY *pk, const char *name, struct cf_object *o,
		    CK_ATTRIBUTE_TYPE t, bool absent_ok)
{
	uint8_t buf[RSA_MAX_BYTES];
	BIGNUM *bn = NULL;
	int len;
	CK_RV rv;

	if (EVP_PKEY_get_bn_param(pk, name, &bn) <= 0) {
		ERR_clear_error();
		return absent_ok ? CKR_OK : CKR_GENERAL_ERROR;
	}
	len = BN_num_bytes(bn);
	if (len <= 0 || (size_t)len > sizeof(buf)) {
		BN_clear_free(bn);
		return CKR_GENERAL_ERROR;
	}
	if (BN_bn2binpad(bn, buf, len) != len)
		rv = CKR_GENERAL_ERROR;
	else
		rv = cf_object_set(o, t, buf, (CK_ULONG)len);
	cf_wipe(buf, (size_t)len);
	BN_clear_free(bn);
	return rv;
}

static CK_RV put_spki(EVP_PKEY *pk, struct cf_object *o)
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(pk, &der);
	CK_RV rv;

	if (len <= 0) {
		ERR_clear_error();
		return CKR_GENERAL_ERROR;
	}
	rv = cf_object_set(o, CKA_PUBLIC_KEY_INFO, der, (CK_ULONG)len);
	OPENSSL_free(der);
	return rv;
}

static CK_RV put_public(EVP_PKEY *pk, struct cf_object *o)
{
	CK_RV rv = put_bn(pk, OSSL_PKEY_PARAM_RSA_N, o, CKA_MODULUS, false);

	if (rv == CKR_OK)
		rv = put_bn(pk, OSSL_PKEY_PARAM_RSA_E, o, CKA_PUBLIC_EXPONENT,
			    false);
	if (rv == CKR_OK && cf_object_attr(o, CKA_MODULUS_BITS) != NULL)
		rv = cf_object_set_ulong(o, CKA_MODULUS_BITS,
					 (CK_ULONG)EVP_PKEY_get_bits(pk));
	if (rv == CKR_OK)
		rv = put_spki(pk, o);
	return rv;
}

static CK_RV rsa_store(EVP_PKEY *pk, struct cf_object *pub,
		       struct cf_object *priv)
{
	CK_RV rv = CKR_OK;

	if (!EVP_PKEY_is_a(pk, "RSA"))
		return CKR_KEY_TYPE_INCONSISTENT;
	if (pub != NULL)
		rv = put_public(pk, pub);
	if (rv != CKR_OK || priv == NULL)
		return rv;
	rv = put_public(pk, priv);
	if (rv == CKR_OK)
		rv = put_bn(pk, OSSL_PKEY_PARAM_RSA_D, priv,
			    CKA_PRIVATE_EXPONENT, false);
	for (size_t i = 0; i < NCRT && rv == CKR_OK; i++)
		rv = put_bn(pk, crt_params[i].name, priv, crt_params[i].type,
			    true);
	return rv;
}

static CK_ULONG rsa_bits(const EVP_PKEY *pk)
{
	int bits = EVP_PKEY_get_bits(pk);

	return bits > 0 ? (CK_ULONG)bits : 0;
}

const struct cf_keytype cf_keytype_rsa = {
    .type = CKK_RSA,
    .load = rsa_load,
    .store = rsa_store,
    .bits = rsa_bits,
};

/* ---- key pair generation (2.1.5) -------------------------------------- */

/* The public exponent of the template: empty means 65537. Even, below 3
 * or wider than 64 bits is refused (no sane key has one). */
static CK_RV pub_exponent(const struct cf_object *pub, BIGNUM **e)
{
	const struct cf_attr *a = cf_object_attr(pub, CKA_PUBLIC_EXPONENT);
	size_t i = 0;

	*e = BN_new();
	if (*e == NULL)
		return CKR_HOST_MEMORY;
	if (a == NULL || a->len == 0)
		return BN_set_word(*e, RSA_F4) ? CKR_OK : CKR_HOST_MEMORY;
	while (i < a->len && a->value[i] == 0)
		i++;
	if (a->len - i > 8)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (BN_bin2bn(a->value + i, (int)(a->len - i), *e) == NULL)
		return CKR_HOST_MEMORY;
	if (!BN_is_odd(*e) || BN_is_one(*e))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	return CKR_OK;
}

static CK_RV rsa_generate_pair(const CK_MECHANISM *m, struct cf_object *pub,
			       struct cf_object *priv)
{
	const struct cf_attr *mb = cf_object_attr(pub, CKA_MODULUS_BITS);
	CK_ULONG bits;
	BIGNUM *e = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	CK_RV rv;

	if (m->ulParameterLen != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	if (mb == NULL || mb->len != sizeof(CK_ULONG))
		return CKR_TEMPLATE_INCOMPLETE;
	bits = cf_object_ulong(pub, CKA_MODULUS_BITS, 0);
	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
		return CKR_KEY_SIZE_RANGE;
	rv = pub_exponent(pub, &e);
	if (rv != CKR_OK)
		goto out;
	rv = CKR_HOST_MEMORY;
	ctx = cf_pkey_ctx("RSA");
	if (ctx == NULL)
		goto out;
	rv = CKR_FUNCTION_FAILED;
	if (EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) <= 0 ||
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) <= 0 ||
	    EVP_PKEY_generate(ctx, &pk) <= 0)
		goto out;
	rv = rsa_store(pk, pub, priv);
	/* The core sets CKA_LOCAL; the mechanism is known only here. */
	if (rv == CKR_OK)
		rv = cf_object_set_ulong(pub, CKA_KEY_GEN_MECHANISM,
					 CKM_RSA_PKCS_KEY_PAIR_GEN);
	if (rv == CKR_OK)
		rv = cf_object_set_ulong(priv, CKA_KEY_GEN_MECHANISM,
					 CKM_RSA_PKCS_KEY_PAIR_GEN);
out:
	ERR_clear_error();
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	BN_free(e);
	return rv;
}

/* ---- mechanisms ------------------------------------------------------- */

enum form {
	F_PKCS,	     /* CKM_RSA_PKCS: caller's DigestInfo / data */
	F_X509,	     /* CKM_RSA_X_509: raw */
	F_HASH_PKCS, /* CKM_<hash>_RSA_PKCS */
	F_PSS,	     /* CKM_RSA_PKCS_PSS: caller's hash */
	F_HASH_PSS,  /* CKM_<hash>_RSA_PKCS_PSS */
	F_OAEP,	     /* CKM_RSA_PKCS_OAEP */
};

struct alg {
	enum form form;
	CK_MECHANISM_TYPE hash; /* hash-and-sign forms: the digest */
};

/* What the caller's parameters select. */
struct params {
	const EVP_MD *md;  /* PSS / OAEP hash, hash-and-sign digest */
	const EVP_MD *mgf; /* PSS / OAEP MGF1 hash */
	const char *md_name;
	int salt_len;	      /* PSS */
	const uint8_t *label; /* OAEP */
	size_t label_len;
};

struct rsa_ctx {
	EVP_PKEY *pkey;	    /* our reference */
	EVP_PKEY_CTX *pctx; /* raw and PSS forms; owned by mdctx otherwise */
	EVP_MD_CTX *mdctx;  /* hash-and-sign forms */
	const struct alg *alg;
	enum cf_op_kind kind;
	size_t k;    /* modulus bytes */
	size_t hlen; /* PSS and OAEP: the hash length */
	/* Decrypt: a result the caller's buffer was too small for, and the
	 * ciphertext it came from, handed out on the retry. */
	struct cf_secret held;
	uint8_t *held_in;
};

static bool key_size_ok(const EVP_PKEY *pk)
{
	int bits = EVP_PKEY_get_bits(pk);

	return bits >= RSA_MIN_BITS && bits <= RSA_MAX_BITS;
}

static const EVP_MD *md_of_mech(CK_MECHANISM_TYPE t, const char **name)
{
	*name = cf_md_name_of_mech(t);
	return *name != NULL ? cf_md(*name) : NULL;
}

static CK_RV pss_params(const struct alg *alg, const CK_MECHANISM *m,
			const EVP_PKEY *pk, struct params *p)
{
	const CK_RSA_PKCS_PSS_PARAMS *pp = m->pParameter;
	const char *mgf_name;
	int em_len;

	if (pp == NULL || m->ulParameterLen != sizeof(*pp))
		return CKR_MECHANISM_PARAM_INVALID;
	if (alg->form == F_HASH_PSS && pp->hash_alg != alg->hash)
		return CKR_MECHANISM_PARAM_INVALID;
	p->md = md_of_mech(pp->hash_alg, &p->md_name);
	mgf_name = cf_md_name_of_mgf(pp->mgf);
	p->mgf = mgf_name != NULL ? cf_md(mgf_name) : NULL;
	if (p->md == NULL || p->mgf == NULL)
		return CKR_MECHANISM_PARAM_INVALID;
	/* RFC 8017 9.1.1: emLen >= hLen + sLen + 2, emLen = ceil(emBits/8). */
	em_len = (EVP_PKEY_get_bits(pk) - 1 + 7) / 8;
	if (pp->s_len > (CK_ULONG)em_len ||
	    (CK_ULONG)EVP_MD_get_size(p->md) + pp->s_len + 2 > (CK_ULONG)em_len)
		return CKR_MECHANISM_PARAM_INVALID;
	p->salt_len = (int)pp->s_len;
	return CKR_OK;
}

/* 2.1.8: SHA-1 and SHA-2 hashes, MGF1 of any hash, an optional label. */
static CK_RV oaep_params(const CK_MECHANISM *m, struct params *p)
{
	const CK_RSA_PKCS_OAEP_PARAMS *op = m->pParameter;
	const char *mgf_name;

	if (op == NULL || m->ulParameterLen != sizeof(*op))
		return CKR_MECHANISM_PARAM_INVALID;
	switch (op->hash_alg) {
	case CKM_SHA_1:
	case CKM_SHA224:
	case CKM_SHA256:
	case CKM_SHA384:
	case CKM_SHA512:
		break;
	default:
		return CKR_MECHANISM_PARAM_INVALID;
	}
	p->md = md_of_mech(op->hash_alg, &p->md_name);
	mgf_name = cf_md_name_of_mgf(op->mgf);
	p->mgf = mgf_name != NULL ? cf_md(mgf_name) : NULL;
	if (p->md == NULL || p->mgf == NULL)
		return CKR_MECHANISM_PARAM_INVALID;
	/* CKZ_DATA_SPECIFIED is the only source; some applications leave
	 * it 0 when they give no label, which means the same. */
	if (op->source != CKZ_DATA_SPECIFIED &&
	    (op->source != 0 || op->source_data_len != 0))
		return CKR_MECHANISM_PARAM_INVALID;
	if (op->source_data == NULL && op->source_data_len != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	if (op->source_data_len > INT32_MAX)
		return CKR_MECHANISM_PARAM_INVALID;
	p->label = op->source_data;
	p->label_len = op->source_data_len;
	return CKR_OK;
}

static CK_RV mech_params(const struct alg *alg, const CK_MECHANISM *m,
			 const EVP_PKEY *pk, struct params *p)
{
	memset(p, 0, sizeof(*p));
	switch (alg->form) {
	case F_PKCS:
	case F_X509:
		return m->ulParameterLen == 0 ? CKR_OK
					      : CKR_MECHANISM_PARAM_INVALID;
	case F_HASH_PKCS:
		if (m->ulParameterLen != 0)
			return CKR_MECHANISM_PARAM_INVALID;
		p->md = md_of_mech(alg->hash, &p->md_name);
		return p->md != NULL ? CKR_OK : CKR_GENERAL_ERROR;
	case F_PSS:
	case F_HASH_PSS:
		return pss_params(alg, m, pk, p);
	case F_OAEP:
		return oaep_params(m, p);
	}
	return CKR_GENERAL_ERROR;
}

static int padding_of(enum form f)
{
	switch (f) {
	case F_X509:
		return RSA_NO_PADDING;
	case F_PSS:
	case F_HASH_PSS:
		return RSA_PKCS1_PSS_PADDING;
	case F_OAEP:
		return RSA_PKCS1_OAEP_PADDING;
	default:
		return RSA_PKCS1_PADDING;
	}
}

/* Padding and its parameters on a context already initialised for its
 * operation. */
static bool pctx_setup(EVP_PKEY_CTX *pctx, const struct alg *alg,
		       const struct params *p)
{
	uint8_t *label;

	if (EVP_PKEY_CTX_set_rsa_padding(pctx, padding_of(alg->form)) <= 0)
		return false;
	switch (alg->form) {
	case F_PSS:
		if (EVP_PKEY_CTX_set_signature_md(pctx, p->md) <= 0)
			return false;
		/* fall through */
	case F_HASH_PSS:
		return EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, p->mgf) > 0 &&
		       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, p->salt_len) > 0;
	case F_OAEP:
		if (EVP_PKEY_CTX_set_rsa_oaep_md(pctx, p->md) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, p->mgf) <= 0)
			return false;
		if (p->label_len == 0)
			return true;
		label = OPENSSL_memdup(p->label, p->label_len);
		if (label == NULL)
			return false;
		if (EVP_PKEY_CTX_set0_rsa_oaep_label(pctx, label,
						     (int)p->label_len) <= 0) {
			OPENSSL_free(label);
			return false;
		}
		return true; /* label transferred */
	default:
		return true;
	}
}

/* A context for one raw operation of kind on pk. */
static CK_RV pctx_new(EVP_PKEY *pk, enum cf_op_kind kind, const struct alg *alg,
		      const struct params *p, EVP_PKEY_CTX **out)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(cf_libctx(), pk, NULL);
	int ok;

	*out = NULL;
	if (pctx == NULL)
		return CKR_HOST_MEMORY;
	switch (kind) {
	case CF_OP_SIGN:
	case CF_OP_SIGN_RECOVER:
		ok = EVP_PKEY_sign_init(pctx);
		break;
	case CF_OP_VERIFY:
		/* PSS verifies itself; the PKCS #1 and raw forms recover the
		 * signed data and compare it. */
		ok = alg->form == F_PSS ? EVP_PKEY_verify_init(pctx)
					: EVP_PKEY_verify_recover_init(pctx);
		break;
	case CF_OP_VERIFY_RECOVER:
		ok = EVP_PKEY_verify_recover_init(pctx);
		break;
	case CF_OP_ENCRYPT:
		ok = EVP_PKEY_encrypt_init(pctx);
		break;
	case CF_OP_DECRYPT:
		ok = EVP_PKEY_decrypt_init(pctx);
		break;
	default:
		ok = 0;
	}
	if (ok <= 0 || !pctx_setup(pctx, alg, p)) {
		EVP_PKEY_CTX_free(pctx);
		ERR_clear_error();
		return CKR_GENERAL_ERROR;
	}
	*out = pctx;
	return CKR_OK;
}

static CK_RV mdctx_new(struct rsa_ctx *c, const struct params *p)
{
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	c->mdctx = EVP_MD_CTX_new();
	if (c->mdctx == NULL)
		return CKR_HOST_MEMORY;
	/* Finals need not keep the context usable: spares a copy. */
	EVP_MD_CTX_set_flags(c->mdctx, EVP_MD_CTX_FLAG_FINALISE);
	if (c->kind == CF_OP_SIGN)
		ok = EVP_DigestSignInit_ex(c->mdctx, &pctx, p->md_name,
					   cf_libctx(), NULL, c->pkey, NULL);
	else
		ok = EVP_DigestVerifyInit_ex(c->mdctx, &pctx, p->md_name,
					     cf_libctx(), NULL, c->pkey, NULL);
	if (ok <= 0 || !pctx_setup(pctx, c->alg, p)) {
		ERR_clear_error();
		return CKR_GENERAL_ERROR;
	}
	return CKR_OK;
}

static void rsa_free(struct cf_op *op)
{
	struct rsa_ctx *c = op->ctx;

	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->mdctx);
	EVP_PKEY_CTX_free(c->pctx);
	EVP_PKEY_free(c->pkey);
	cf_secret_clear(&c->held);
	free(c->held_in);
	free(c);
	op->ctx = NULL;
}

static const struct alg *alg_of(CK_MECHANISM_TYPE t);

static bool is_hash_form(const struct alg *alg)
{
	return alg->form == F_HASH_PKCS || alg->form == F_HASH_PSS;
}

static CK_RV key_check(const struct cf_key *key)
{
	if (key == NULL || key->pkey == NULL ||
	    !EVP_PKEY_is_a(key->pkey, "RSA"))
		return CKR_KEY_TYPE_INCONSISTENT;
	if (!key_size_ok(key->pkey))
		return CKR_KEY_SIZE_RANGE;
	return CKR_OK;
}

static CK_RV rsa_init(struct cf_op *op, const CK_MECHANISM *m,
		      const struct cf_key *key)
{
	const struct alg *alg = alg_of(m->mechanism);
	struct params p;
	struct rsa_ctx *c;
	CK_RV rv;

	if (alg == NULL)
		return CKR_MECHANISM_INVALID;
	rv = key_check(key);
	if (rv != CKR_OK)
		return rv;
	rv = mech_params(alg, m, key->pkey, &p);
	if (rv != CKR_OK)
		return rv;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return CKR_HOST_MEMORY;
	if (EVP_PKEY_up_ref(key->pkey) <= 0) {
		free(c);
		return CKR_GENERAL_ERROR;
	}
	c->pkey = key->pkey;
	c->alg = alg;
	c->kind = op->kind;
	c->k = (size_t)EVP_PKEY_get_size(key->pkey);
	c->hlen = p.md != NULL ? (size_t)EVP_MD_get_size(p.md) : 0;
	op->ctx = c;
	if (is_hash_form(alg) &&
	    (op->kind == CF_OP_SIGN || op->kind == CF_OP_VERIFY))
		rv = mdctx_new(c, &p);
	else
		rv = pctx_new(c->pkey, op->kind, alg, &p, &c->pctx);
	if (rv != CKR_OK)
		rsa_free(op);
	return rv;
}

/* The most input bytes a sign or encrypt of the form takes. */
static size_t max_input(const struct rsa_ctx *c)
{
	size_t need;

	switch (c->alg->form) {
	case F_X509:
		return c->k;
	case F_PKCS:
		return c->k - PKCS1_OVERHEAD; /* k >= 128: no underflow */
	case F_OAEP:
		need = 2 * c->hlen + 2;
		return c->k >= need ? c->k - need : 0;
	default:
		return c->hlen;
	}
}

/* Checks the input length of a sign or encrypt. */
static CK_RV input_ok(const struct rsa_ctx *c, size_t inl)
{
	if (c->alg->form == F_PSS)
		return inl == c->hlen ? CKR_OK : CKR_DATA_LEN_RANGE;
	/* OAEP with a hash too large for the key takes no input at all. */
	if (c->alg->form == F_OAEP && c->k < 2 * c->hlen + 2)
		return CKR_DATA_LEN_RANGE;
	return inl <= max_input(c) ? CKR_OK : CKR_DATA_LEN_RANGE;
}

/* X.509 raw: the input as a big-endian number of k bytes. */
static void left_pad(uint8_t *block, size_t k, const uint8_t *in, size_t inl)
{
	memset(block, 0, k - inl);
	if (inl > 0)
		memcpy(block + (k - inl), in, inl);
}

/* Sign and encrypt with a raw context: the output is k bytes. */
static CK_RV raw_out(struct rsa_ctx *c, const uint8_t *in, size_t inl,
		     uint8_t *out, CK_ULONG *outl)
{
	uint8_t block[RSA_MAX_BYTES];
	const uint8_t *src = in;
	size_t srcl = inl, len = c->k;
	bool go;
	int ok;
	CK_RV rv = input_ok(c, inl);

	if (rv != CKR_OK)
		return rv;
	rv = cf_out_check(out, outl, c->k, &go);
	if (!go)
		return rv;
	if (c->alg->form == F_X509) {
		left_pad(block, c->k, in, inl);
		src = block;
		srcl = c->k;
	}
	if (c->kind == CF_OP_ENCRYPT)
		ok = EVP_PKEY_encrypt(c->pctx, out, &len, src, srcl);
	else
		ok = EVP_PKEY_sign(c->pctx, out, &len, src, srcl);
	if (ok <= 0) {
		ERR_clear_error();
		/* With the lengths checked, a raw input fails only when it
		 * is not below the modulus. */
		rv = c->alg->form == F_X509 ? CKR_DATA_INVALID
					    : CKR_FUNCTION_FAILED;
	} else {
		*outl = (CK_ULONG)len;
	}
	if (src == block)
		cf_wipe(block, c->k);
	return rv;
}

static CK_RV hash_sign(struct rsa_ctx *c, const uint8_t *in, size_t inl,
		       uint8_t *out, CK_ULONG *outl, bool final)
{
	size_t len = c->k;
	bool go;
	int ok;
	CK_RV rv = cf_out_check(out, outl, c->k, &go);

	if (!go)
		return rv;
	if (final)
		ok = EVP_DigestSignFinal(c->mdctx, out, &len);
	else
		ok = EVP_DigestSign(c->mdctx, out, &len, in, inl);
	if (ok <= 0) {
		ERR_clear_error();
		return CKR_FUNCTION_FAILED;
	}
	*outl = (CK_ULONG)len;
	return CKR_OK;
}

/* The public-key operation of a PKCS #1 v1.5 or raw signature: what was
 * signed, into rec (k bytes). */
static bool recover(struct rsa_ctx *c, const uint8_t *sig, size_t sigl,
		    uint8_t *rec, size_t *recl)
{
	*recl = c->k;
	if (EVP_PKEY_verify_recover(c->pctx, rec, recl, sig, sigl) <= 0) {
		ERR_clear_error();
		return false;
	}
	return true;
}

static CK_RV verify_recover(struct rsa_ctx *c, const uint8_t *sig, size_t sigl,
			    uint8_t *out, CK_ULONG *outl)
{
	uint8_t rec[RSA_MAX_BYTES];
	size_t recl;
	bool go;
	CK_RV rv;

	if (sigl != c->k)
		return CKR_SIGNATURE_LEN_RANGE;
	if (out == NULL) {
		*outl = (CK_ULONG)c->k;
		return CKR_OK;
	}
	if (!recover(c, sig, sigl, rec, &recl))
		return CKR_SIGNATURE_INVALID;
	rv = cf_out_check(out, outl, recl, &go);
	if (go) {
		memcpy(out, rec, recl);
		*outl = (CK_ULONG)recl;
	}
	cf_wipe(rec, recl);
	return rv;
}

/* Hands out a decryption result kept by an earlier call whose buffer was
 * too small, when the retry is for the same ciphertext. */
static bool held_for(const struct rsa_ctx *c, const uint8_t *in)
{
	return c->held_in != NULL && memcmp(c->held_in, in, c->k) == 0;
}

static CK_RV keep(struct rsa_ctx *c, const uint8_t *in, const uint8_t *plain,
		  size_t len)
{
	cf_secret_clear(&c->held);
	free(c->held_in);
	c->held_in = malloc(c->k);
	if (c->held_in == NULL)
		return CKR_HOST_MEMORY;
	memcpy(c->held_in, in, c->k);
	if (cf_secret_set(&c->held, plain, len) != 0) {
		free(c->held_in);
		c->held_in = NULL;
		return CKR_HOST_MEMORY;
	}
	return CKR_OK;
}

static CK_RV decrypt(struct rsa_ctx *c, const uint8_t *in, size_t inl,
		     uint8_t *out, CK_ULONG *outl)
{
	uint8_t plain[RSA_MAX_BYTES];
	size_t len = c->k;
	bool go;
	CK_RV rv;

	if (inl != c->k)
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	if (held_for(c, in)) {
		rv = cf_out_check(out, outl, c->held.len, &go);
		if (go) {
			memcpy(out, c->held.data, c->held.len);
			*outl = (CK_ULONG)c->held.len;
		}
		return rv;
	}
	/* The exact length is known only after the private-key operation. */
	if (out == NULL) {
		*outl = (CK_ULONG)c->k;
		return CKR_OK;
	}
	if (EVP_PKEY_decrypt(c->pctx, plain, &len, in, inl) <= 0) {
		ERR_clear_error();
		rv = CKR_ENCRYPTED_DATA_INVALID;
		goto out_wipe;
	}
	if (*outl >= len) {
		memcpy(out, plain, len);
		*outl = (CK_ULONG)len;
		rv = CKR_OK;
		goto out_wipe;
	}
	/* Kept for the retry, so the work is done once. */
	rv = keep(c, in, plain, len);
	if (rv == CKR_OK) {
		*outl = (CK_ULONG)len;
		rv = CKR_BUFFER_TOO_SMALL;
	}
out_wipe:
	cf_wipe(plain, c->k);
	return rv;
}

static CK_RV rsa_oneshot(struct cf_op *op, const uint8_t *in, size_t inl,
			 uint8_t *out, CK_ULONG *outl)
{
	struct rsa_ctx *c = op->ctx;

	switch (c->kind) {
	case CF_OP_SIGN:
	case CF_OP_SIGN_RECOVER:
		if (c->mdctx != NULL)
			return hash_sign(c, in, inl, out, outl, false);
		return raw_out(c, in, inl, out, outl);
	case CF_OP_ENCRYPT:
		return raw_out(c, in, inl, out, outl);
	case CF_OP_VERIFY_RECOVER:
		return verify_recover(c, in, inl, out, outl);
	case CF_OP_DECRYPT:
		return decrypt(c, in, inl, out, outl);
	default:
		return CKR_GENERAL_ERROR;
	}
}

static CK_RV rsa_update(struct cf_op *op, const uint8_t *in, size_t inl,
			uint8_t *out, CK_ULONG *outl)
{
	struct rsa_ctx *c = op->ctx;
	int ok;

	(void)out;
	(void)outl;
	if (c->mdctx == NULL)
		return CKR_GENERAL_ERROR;
	if (c->kind == CF_OP_SIGN)
		ok = EVP_DigestSignUpdate(c->mdctx, in, inl);
	else
		ok = EVP_DigestVerifyUpdate(c->mdctx, in, inl);
	if (ok <= 0) {
		ERR_clear_error();
		return CKR_FUNCTION_FAILED;
	}
	return CKR_OK;
}

static CK_RV rsa_final(struct cf_op *op, uint8_t *out, CK_ULONG *outl)
{
	struct rsa_ctx *c = op->ctx;

	if (c->mdctx == NULL || c->kind != CF_OP_SIGN)
		return CKR_GENERAL_ERROR;
	return hash_sign(c, NULL, 0, out, outl, true);
}

static CK_RV verdict(int ok)
{
	if (ok == 1)
		return CKR_OK;
	ERR_clear_error();
	return CKR_SIGNATURE_INVALID;
}

/* PKCS #1 v1.5 and raw: recover what was signed and compare. */
static CK_RV verify_by_recovery(struct rsa_ctx *c, const uint8_t *in,
				size_t inl, const uint8_t *sig, size_t sigl)
{
	uint8_t rec[RSA_MAX_BYTES], block[RSA_MAX_BYTES];
	size_t recl = 0;
	CK_RV rv = input_ok(c, inl);

	if (rv != CKR_OK)
		return rv;
	if (!recover(c, sig, sigl, rec, &recl))
		return CKR_SIGNATURE_INVALID;
	if (c->alg->form == F_X509) {
		left_pad(block, c->k, in, inl);
		in = block;
		inl = c->k;
	}
	rv = recl == inl && CRYPTO_memcmp(rec, in, inl) == 0
		 ? CKR_OK
		 : CKR_SIGNATURE_INVALID;
	cf_wipe(rec, recl);
	return rv;
}

static CK_RV rsa_verify(struct cf_op *op, const uint8_t *in, size_t inl,
			const uint8_t *sig, size_t sigl)
{
	struct rsa_ctx *c = op->ctx;
	CK_RV rv;

	if (sigl != c->k)
		return CKR_SIGNATURE_LEN_RANGE;
	if (c->mdctx != NULL)
		return verdict(EVP_DigestVerify(c->mdctx, sig, sigl, in, inl));
	if (c->alg->form != F_PSS)
		return verify_by_recovery(c, in, inl, sig, sigl);
	rv = input_ok(c, inl);
	if (rv != CKR_OK)
		return rv;
	return verdict(EVP_PKEY_verify(c->pctx, sig, sigl, in, inl));
}

static CK_RV rsa_verify_final(struct cf_op *op, const uint8_t *sig, size_t sigl)
{
	struct rsa_ctx *c = op->ctx;

	if (c->mdctx == NULL)
		return CKR_GENERAL_ERROR;
	if (sigl != c->k)
		return CKR_SIGNATURE_LEN_RANGE;
	return verdict(EVP_DigestVerifyFinal(c->mdctx, sig, sigl));
}

/* ---- wrapping (byte operations for C_WrapKey / C_UnwrapKey) ------------ */

/* A context for a one-off encrypt or decrypt with the wrapping key. */
static CK_RV wrap_ctx(const CK_MECHANISM *m, const struct cf_key *key,
		      enum cf_op_kind kind, struct rsa_ctx *c)
{
	const struct alg *alg = alg_of(m->mechanism);
	struct params p;
	CK_RV rv;

	memset(c, 0, sizeof(*c));
	if (alg == NULL || (alg->form != F_PKCS && alg->form != F_OAEP))
		return CKR_MECHANISM_INVALID;
	rv = key_check(key);
	if (rv == CKR_OK)
		rv = mech_params(alg, m, key->pkey, &p);
	if (rv != CKR_OK)
		return rv;
	c->alg = alg;
	c->kind = kind;
	c->k = (size_t)EVP_PKEY_get_size(key->pkey);
	c->hlen = p.md != NULL ? (size_t)EVP_MD_get_size(p.md) : 0;
	/* No reference taken: the key outlives this call. */
	return pctx_new(key->pkey, kind, alg, &p, &c->pctx);
}

static CK_RV rsa_wrap(const CK_MECHANISM *m, const struct cf_key *wrapping,
		      const uint8_t *plain, size_t plain_len, uint8_t *out,
		      CK_ULONG *outl)
{
	struct rsa_ctx c;
	CK_RV rv = wrap_ctx(m, wrapping, CF_OP_ENCRYPT, &c);

	if (rv == CKR_OK) {
		rv = raw_out(&c, plain, plain_len, out, outl);
		/* The key to wrap does not fit in one RSA block. */
		if (rv == CKR_DATA_LEN_RANGE)
			rv = CKR_KEY_SIZE_RANGE;
	}
	EVP_PKEY_CTX_free(c.pctx);
	return rv;
}

static CK_RV rsa_unwrap(const CK_MECHANISM *m, const struct cf_key *unwrapping,
			const uint8_t *in, size_t inl, struct cf_secret *plain)
{
	uint8_t buf[RSA_MAX_BYTES];
	size_t len;
	struct rsa_ctx c;
	CK_RV rv = wrap_ctx(m, unwrapping, CF_OP_DECRYPT, &c);

	plain->data = NULL;
	plain->len = 0;
	if (rv != CKR_OK)
		goto out;
	len = c.k;
	if (inl != c.k) {
		rv = CKR_WRAPPED_KEY_LEN_RANGE;
	} else if (EVP_PKEY_decrypt(c.pctx, buf, &len, in, inl) <= 0) {
		ERR_clear_error();
		rv = CKR_WRAPPED_KEY_INVALID;
	} else {
		rv = cf_secret_set(plain, buf, len) == 0 ? CKR_OK
							 : CKR_HOST_MEMORY;
		cf_wipe(buf, c.k);
	}
out:
	EVP_PKEY_CTX_free(c.pctx);
	return rv;
}

/* ---- the registry rows ------------------------------------------------- */

static const struct cf_mech_ops single_ops = {
    .init = rsa_init,
    .oneshot = rsa_oneshot,
    .verify = rsa_verify,
    .free = rsa_free,
    .wrap = rsa_wrap,
    .unwrap = rsa_unwrap,
};

static const struct cf_mech_ops multi_ops = {
    .init = rsa_init,
    .oneshot = rsa_oneshot,
    .update = rsa_update,
    .final = rsa_final,
    .verify = rsa_verify,
    .verify_final = rsa_verify_final,
    .free = rsa_free,
};

static const struct cf_mech_ops keygen_ops = {
    .generate_pair = rsa_generate_pair,
};

#define SIGNF (CKF_SIGN | CKF_VERIFY)
#define RECOVERF (CKF_SIGN_RECOVER | CKF_VERIFY_RECOVER)
#define CRYPTF (CKF_ENCRYPT | CKF_DECRYPT)
#define WRAPF (CKF_WRAP | CKF_UNWRAP)
#define KT                                                                     \
	{                                                                      \
		CKK_RSA, CF_MECH_KEY_TYPES_END, CF_MECH_KEY_TYPES_END,         \
		    CF_MECH_KEY_TYPES_END                                      \
	}
#define ROW(t, flags, ops, arg)                                                \
	{                                                                      \
		(t), {RSA_MIN_BITS, RSA_MAX_BITS, (flags)}, KT, (ops), (arg),  \
		    false                                                      \
	}
#define HASHED(t, h, f)                                                        \
	ROW(t, SIGNF, &multi_ops, &((const struct alg){(f), (h)}))

static const struct alg a_pkcs = {F_PKCS, 0}, a_x509 = {F_X509, 0},
			a_pss = {F_PSS, 0}, a_oaep = {F_OAEP, 0};

static const struct cf_mech rows[] = {
    ROW(CKM_RSA_PKCS_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR, &keygen_ops, NULL),
    ROW(CKM_RSA_PKCS, SIGNF | RECOVERF | CRYPTF | WRAPF, &single_ops, &a_pkcs),
    ROW(CKM_RSA_X_509, SIGNF | RECOVERF | CRYPTF, &single_ops, &a_x509),
    ROW(CKM_RSA_PKCS_OAEP, CRYPTF | WRAPF, &single_ops, &a_oaep),
    ROW(CKM_RSA_PKCS_PSS, SIGNF, &single_ops, &a_pss),
    HASHED(CKM_SHA1_RSA_PKCS, CKM_SHA_1, F_HASH_PKCS),
    HASHED(CKM_SHA224_RSA_PKCS, CKM_SHA224, F_HASH_PKCS),
    HASHED(CKM_SHA256_RSA_PKCS, CKM_SHA256, F_HASH_PKCS),
    HASHED(CKM_SHA384_RSA_PKCS, CKM_SHA384, F_HASH_PKCS),
    HASHED(CKM_SHA512_RSA_PKCS, CKM_SHA512, F_HASH_PKCS),
    HASHED(CKM_SHA3_224_RSA_PKCS, CKM_SHA3_224, F_HASH_PKCS),
    HASHED(CKM_SHA3_256_RSA_PKCS, CKM_SHA3_256, F_HASH_PKCS),
    HASHED(CKM_SHA3_384_RSA_PKCS, CKM_SHA3_384, F_HASH_PKCS),
    HASHED(CKM_SHA3_512_RSA_PKCS, CKM_SHA3_512, F_HASH_PKCS),
    HASHED(CKM_SHA1_RSA_PKCS_PSS, CKM_SHA_1, F_HASH_PSS),
    HASHED(CKM_SHA224_RSA_PKCS_PSS, CKM_SHA224, F_HASH_PSS),
    HASHED(CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256, F_HASH_PSS),
    HASHED(CKM_SHA384_RSA_PKCS_PSS, CKM_SHA384, F_HASH_PSS),
    HASHED(CKM_SHA512_RSA_PKCS_PSS, CKM_SHA512, F_HASH_PSS),
    HASHED(CKM_SHA3_224_RSA_PKCS_PSS, CKM_SHA3_224, F_HASH_PSS),
    HASHED(CKM_SHA3_256_RSA_PKCS_PSS, CKM_SHA3_256, F_HASH_PSS),
    HASHED(CKM_SHA3_384_RSA_PKCS_PSS, CKM_SHA3_384, F_HASH_PSS),
    HASHED(CKM_SHA3_512_RSA_PKCS_PSS, CKM_SHA3_512, F_HASH_PSS),
};

const struct cf_mech_family cf_mechs_rsa = {rows,
					    sizeof(rows) / sizeof(rows[0])};

static const struct alg *alg_of(CK_MECHANISM_TYPE t)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i].type == t)
			return rows[i].arg;
	return NULL;
}
