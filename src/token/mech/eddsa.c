/*
 * eddsa.c - EdDSA (Ed25519, Ed448; PKCS#11 v3.0 Current Mechanisms 2.3.14
 * CKM_EDDSA) and key pair generation (2.3.12).
 *
 * EdDSA hashes the message twice, so OpenSSL cannot stream it: CKM_EDDSA is
 * single-part. CK_EDDSA_PARAMS selects the RFC 8032 variants: phFlag the
 * prehashed one (Ed25519ph, Ed448ph), pContextData the context (Ed25519ctx,
 * Ed448's context). OpenSSL offers those from 3.2 on; with an older one a
 * request for them is refused (CKR_MECHANISM_PARAM_INVALID) rather than
 * silently answered with a plain signature.
 */
#include "token/mech/mech.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include "common/crypto.h"
#include "token/mech/ec_util.h"

/* OpenSSL 3.2's parameter names (absent from older headers). */
#define PARAM_INSTANCE "instance"
#define PARAM_CONTEXT "context-string"
#define CONTEXT_MAX 255 /* RFC 8032 */

static CK_RV ed_load(const struct cf_object *o, EVP_PKEY **out)
{
	return cf_ec_load(CKK_EC_EDWARDS, o, out);
}

static CK_RV ed_store(EVP_PKEY *pk, struct cf_object *pub,
		      struct cf_object *priv)
{
	return cf_ec_store(CKK_EC_EDWARDS, pk, pub, priv);
}

static CK_ULONG ed_bits(const EVP_PKEY *pk)
{
	return cf_ec_bits(CKK_EC_EDWARDS, pk);
}

const struct cf_keytype cf_keytype_edwards = {CKK_EC_EDWARDS, ed_load,
					      ed_store, ed_bits};

static CK_RV ed_generate_pair(const CK_MECHANISM *m, struct cf_object *pub,
			      struct cf_object *priv)
{
	if (m->ulParameterLen != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	return cf_ec_generate_pair(CKK_EC_EDWARDS, pub, priv);
}

/* Whether the OpenSSL in use signs the RFC 8032 variants. */
static bool variants_supported(void)
{
	return OpenSSL_version_num() >= 0x30200000L;
}

struct eddsa {
	EVP_PKEY *pk; /* our reference */
	EVP_MD_CTX *md;
	const char *instance; /* NULL: plain Ed25519 / Ed448 */
	uint8_t context[CONTEXT_MAX];
	size_t context_len;
	size_t sig_len;
};

static void eddsa_free(struct cf_op *op)
{
	struct eddsa *e = op->ctx;

	if (e == NULL)
		return;
	EVP_MD_CTX_free(e->md);
	EVP_PKEY_free(e->pk);
	OPENSSL_free(e);
	op->ctx = NULL;
}

/* The RFC 8032 instance params ask for, or NULL for the plain one. */
static CK_RV pick_instance(const struct cf_ec_curve *c, const CK_MECHANISM *m,
			   struct eddsa *e)
{
	const CK_EDDSA_PARAMS *p = m->pParameter;
	bool ed448 = c->nid == NID_ED448;

	e->instance = NULL;
	if (m->ulParameterLen == 0)
		return CKR_OK;
	if (p == NULL || m->ulParameterLen != sizeof(*p) ||
	    p->ulContextDataLen > CONTEXT_MAX ||
	    (p->pContextData == NULL && p->ulContextDataLen > 0) ||
	    p->phFlag > 1)
		return CKR_MECHANISM_PARAM_INVALID;
	/* Ed25519 without prehash or context is plain Ed25519 (RFC 8032
	 * 5.1 advises against Ed25519ctx with an empty context); Ed448
	 * always has a context, empty by default. */
	if (p->phFlag)
		e->instance = ed448 ? "Ed448ph" : "Ed25519ph";
	else if (p->ulContextDataLen > 0)
		e->instance = ed448 ? "Ed448" : "Ed25519ctx";
	if (e->instance == NULL)
		return CKR_OK;
	if (!variants_supported())
		return CKR_MECHANISM_PARAM_INVALID;
	if (p->ulContextDataLen > 0)
		memcpy(e->context, p->pContextData, p->ulContextDataLen);
	e->context_len = p->ulContextDataLen;
	return CKR_OK;
}

static CK_RV eddsa_init(struct cf_op *op, const CK_MECHANISM *m,
			const struct cf_key *key)
{
	const struct cf_ec_curve *c;
	struct eddsa *e;
	CK_RV rv;

	if (op->kind != CF_OP_SIGN && op->kind != CF_OP_VERIFY)
		return CKR_FUNCTION_NOT_SUPPORTED;
	c = key->pkey != NULL ? cf_ec_curve_of_pkey(CKK_EC_EDWARDS, key->pkey)
			      : NULL;
	if (c == NULL)
		return CKR_KEY_TYPE_INCONSISTENT;
	e = OPENSSL_zalloc(sizeof(*e));
	if (e == NULL)
		return CKR_HOST_MEMORY;
	op->ctx = e;
	rv = pick_instance(c, m, e);
	if (rv != CKR_OK)
		goto fail;
	e->sig_len = 2 * c->len;
	e->md = EVP_MD_CTX_new();
	if (e->md == NULL) {
		rv = CKR_HOST_MEMORY;
		goto fail;
	}
	if (!EVP_PKEY_up_ref(key->pkey)) {
		rv = CKR_GENERAL_ERROR;
		goto fail;
	}
	e->pk = key->pkey;
	return CKR_OK;
fail:
	eddsa_free(op);
	return rv;
}

/* Starts the one-shot sign or verify with the instance parameters. */
static CK_RV start(struct eddsa *e, bool sign)
{
	OSSL_LIB_CTX *lib = cf_libctx();
	OSSL_PARAM params[3], *q = params;
	int ok;

	if (e->instance != NULL) {
		*q++ = OSSL_PARAM_construct_utf8_string(
		    PARAM_INSTANCE, (char *)e->instance, 0);
		if (e->context_len > 0)
			*q++ = OSSL_PARAM_construct_octet_string(
			    PARAM_CONTEXT, e->context, e->context_len);
	}
	*q = OSSL_PARAM_construct_end();
	ok = sign ? EVP_DigestSignInit_ex(e->md, NULL, NULL, lib, NULL, e->pk,
					  params)
		  : EVP_DigestVerifyInit_ex(e->md, NULL, NULL, lib, NULL,
					    e->pk, params);
	return ok == 1 ? CKR_OK : CKR_GENERAL_ERROR;
}

static CK_RV eddsa_oneshot(struct cf_op *op, const uint8_t *in, size_t inl,
			   uint8_t *out, CK_ULONG *outl)
{
	struct eddsa *e = op->ctx;
	size_t n = e->sig_len;
	bool go;
	CK_RV rv = cf_out_check(out, outl, e->sig_len, &go);

	if (!go)
		return rv;
	rv = start(e, true);
	if (rv != CKR_OK)
		return rv;
	if (EVP_DigestSign(e->md, out, &n, in, inl) != 1 || n != e->sig_len)
		return CKR_GENERAL_ERROR;
	*outl = (CK_ULONG)n;
	return CKR_OK;
}

static CK_RV eddsa_verify(struct cf_op *op, const uint8_t *in, size_t inl,
			  const uint8_t *sig, size_t sigl)
{
	struct eddsa *e = op->ctx;
	CK_RV rv;

	if (sigl != e->sig_len)
		return CKR_SIGNATURE_LEN_RANGE;
	rv = start(e, false);
	if (rv != CKR_OK)
		return rv;
	return EVP_DigestVerify(e->md, sig, sigl, in, inl) == 1
		   ? CKR_OK
		   : CKR_SIGNATURE_INVALID;
}

static const struct cf_mech_ops keygen_ops = {
    .generate_pair = ed_generate_pair,
};

static const struct cf_mech_ops eddsa_ops = {
    .init = eddsa_init,
    .oneshot = eddsa_oneshot,
    .verify = eddsa_verify,
    .free = eddsa_free,
};

#define ED_FLAGS (CKF_EC_OID | CKF_EC_CURVENAME)

/* Sizes are field sizes in bits: 255 for Ed25519, 448 for Ed448. */
static const struct cf_mech rows[] = {
    {CKM_EC_EDWARDS_KEY_PAIR_GEN,
     {255, 448, CKF_GENERATE_KEY_PAIR | ED_FLAGS},
     {CKK_EC_EDWARDS, CF_MECH_KEY_TYPES_END},
     &keygen_ops,
     NULL,
     false},
    {CKM_EDDSA,
     {255, 448, CKF_SIGN | CKF_VERIFY | ED_FLAGS},
     {CKK_EC_EDWARDS, CF_MECH_KEY_TYPES_END},
     &eddsa_ops,
     NULL,
     false},
};

const struct cf_mech_family cf_mechs_eddsa = {rows,
					      sizeof(rows) / sizeof(rows[0])};
