/*
 * ec.c - ECDSA and ECDH on the NIST curves and secp256k1; key pair
 * generation (PKCS#11 v3.0 Current Mechanisms 2.3). ECDH also takes
 * Montgomery keys (X25519, X448), as 2.3.7 allows.
 *
 * ECDSA signs a hash: the hash-and-sign mechanisms hash with a pre-fetched
 * digest and sign the result as CKM_ECDSA does, so an init only takes a
 * key reference and a digest context. The PKCS#11 signature is r || s,
 * each as long as the group order; OpenSSL's is the DER ECDSA-Sig-Value.
 */
#include "token/mech/mech.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/kdf.h>

#include "common/crypto.h"
#include "common/secmem.h"
#include "token/mech/ec_util.h"

/* r || s of P-521: 2 * 66 bytes; the DER form adds at most 9. */
#define SIG_MAX 132
#define SIG_DER_MAX (SIG_MAX + 16)
/* A derived secret key longer than this is surely a mistake. */
#define DERIVE_MAX 4096

/* ---- the key type ----------------------------------------------------- */

static CK_RV ec_load(const struct cf_object *o, EVP_PKEY **out)
{
	return cf_ec_load(CKK_EC, o, out);
}

static CK_RV ec_store(EVP_PKEY *pk, struct cf_object *pub,
		      struct cf_object *priv)
{
	return cf_ec_store(CKK_EC, pk, pub, priv);
}

static CK_ULONG ec_bits(const EVP_PKEY *pk)
{
	return cf_ec_bits(CKK_EC, pk);
}

const struct cf_keytype cf_keytype_ec = {CKK_EC, ec_load, ec_store, ec_bits};

static CK_RV ec_generate_pair(const CK_MECHANISM *m, struct cf_object *pub,
			      struct cf_object *priv)
{
	if (m->ulParameterLen != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	return cf_ec_generate_pair(CKK_EC, pub, priv);
}

/* ---- ECDSA ------------------------------------------------------------ */

struct ecdsa {
	EVP_PKEY *pk;	 /* our reference */
	EVP_MD_CTX *md;	 /* NULL for CKM_ECDSA */
	size_t half;	 /* bytes of r and of s */
};

static void ecdsa_free(struct cf_op *op)
{
	struct ecdsa *e = op->ctx;

	if (e == NULL)
		return;
	EVP_MD_CTX_free(e->md);
	EVP_PKEY_free(e->pk);
	OPENSSL_free(e);
	op->ctx = NULL;
}

static CK_RV ecdsa_init(struct cf_op *op, const CK_MECHANISM *m,
			const struct cf_key *key)
{
	struct ecdsa *e;
	int bits;

	if (m->ulParameterLen != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	if (op->kind != CF_OP_SIGN && op->kind != CF_OP_VERIFY)
		return CKR_FUNCTION_NOT_SUPPORTED;
	if (key->pkey == NULL || !EVP_PKEY_is_a(key->pkey, "EC"))
		return CKR_KEY_TYPE_INCONSISTENT;
	bits = EVP_PKEY_get_bits(key->pkey);
	if (bits <= 0 || (size_t)(bits + 7) / 8 > SIG_MAX / 2)
		return CKR_KEY_SIZE_RANGE;
	e = OPENSSL_zalloc(sizeof(*e));
	if (e == NULL)
		return CKR_HOST_MEMORY;
	e->half = (size_t)(bits + 7) / 8;
	op->ctx = e;
	if (!EVP_PKEY_up_ref(key->pkey))
		goto fail;
	e->pk = key->pkey;
	return CKR_OK;
fail:
	ecdsa_free(op);
	return CKR_GENERAL_ERROR;
}

/* Init of the hash-and-sign mechanisms: arg is the digest's name. */
static CK_RV ecdsa_hash_init(struct cf_op *op, const CK_MECHANISM *m,
			     const struct cf_key *key, const char *mdname)
{
	const EVP_MD *md = cf_md(mdname);
	struct ecdsa *e;
	CK_RV rv;

	if (md == NULL)
		return CKR_MECHANISM_INVALID;
	rv = ecdsa_init(op, m, key);
	if (rv != CKR_OK)
		return rv;
	e = op->ctx;
	e->md = EVP_MD_CTX_new();
	if (e->md == NULL || !EVP_DigestInit_ex2(e->md, md, NULL)) {
		ecdsa_free(op);
		return CKR_HOST_MEMORY;
	}
	return CKR_OK;
}

/* Signs hash h: r || s into out (2 * half bytes, checked by the caller). */
static CK_RV sign_hash(struct ecdsa *e, const uint8_t *h, size_t hl,
		       uint8_t *out)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(cf_libctx(), e->pk,
							NULL);
	uint8_t der[SIG_DER_MAX];
	size_t derl = sizeof(der);
	const unsigned char *p = der;
	ECDSA_SIG *sig = NULL;
	const BIGNUM *r, *s;
	CK_RV rv = CKR_GENERAL_ERROR;

	/* OpenSSL takes a hash of any length and truncates it to the
	 * order's bit length as X9.62 says. */
	if (pctx == NULL || EVP_PKEY_sign_init(pctx) != 1 ||
	    EVP_PKEY_sign(pctx, der, &derl, h, hl) != 1)
		goto out;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)derl);
	if (sig == NULL)
		goto out;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, out, (int)e->half) != (int)e->half ||
	    BN_bn2binpad(s, out + e->half, (int)e->half) != (int)e->half)
		goto out;
	rv = CKR_OK;
out:
	ECDSA_SIG_free(sig);
	EVP_PKEY_CTX_free(pctx);
	return rv;
}

static CK_RV verify_hash(struct ecdsa *e, const uint8_t *h, size_t hl,
			 const uint8_t *rs, size_t rsl)
{
	EVP_PKEY_CTX *pctx = NULL;
	ECDSA_SIG *sig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	int derl;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (rsl != 2 * e->half)
		return CKR_SIGNATURE_LEN_RANGE;
	sig = ECDSA_SIG_new();
	r = BN_bin2bn(rs, (int)e->half, NULL);
	s = BN_bin2bn(rs + e->half, (int)e->half, NULL);
	if (sig == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(sig, r, s))
		goto out;
	r = s = NULL; /* transferred */
	derl = i2d_ECDSA_SIG(sig, &der);
	if (derl <= 0)
		goto out;
	pctx = EVP_PKEY_CTX_new_from_pkey(cf_libctx(), e->pk, NULL);
	if (pctx == NULL || EVP_PKEY_verify_init(pctx) != 1)
		goto out;
	/* 0 and the error values alike: not a signature of h by this key
	 * (r or s out of range is refused the same way). */
	rv = EVP_PKEY_verify(pctx, der, (size_t)derl, h, hl) == 1
		 ? CKR_OK
		 : CKR_SIGNATURE_INVALID;
out:
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	EVP_PKEY_CTX_free(pctx);
	return rv;
}

static CK_RV ecdsa_oneshot(struct cf_op *op, const uint8_t *in, size_t inl,
			   uint8_t *out, CK_ULONG *outl)
{
	struct ecdsa *e = op->ctx;
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	bool go;
	CK_RV rv = cf_out_check(out, outl, 2 * e->half, &go);

	if (!go)
		return rv;
	if (e->md == NULL) {
		rv = sign_hash(e, in, inl, out);
	} else if (!EVP_DigestUpdate(e->md, in, inl) ||
		   !EVP_DigestFinal_ex(e->md, h, &hl)) {
		rv = CKR_GENERAL_ERROR;
	} else {
		rv = sign_hash(e, h, hl, out);
	}
	if (rv == CKR_OK)
		*outl = (CK_ULONG)(2 * e->half);
	return rv;
}

static CK_RV ecdsa_update(struct cf_op *op, const uint8_t *in, size_t inl,
			  uint8_t *out, CK_ULONG *outl)
{
	struct ecdsa *e = op->ctx;

	(void)out;
	(void)outl;
	return EVP_DigestUpdate(e->md, in, inl) ? CKR_OK : CKR_GENERAL_ERROR;
}

static CK_RV ecdsa_final(struct cf_op *op, uint8_t *out, CK_ULONG *outl)
{
	struct ecdsa *e = op->ctx;
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	bool go;
	CK_RV rv = cf_out_check(out, outl, 2 * e->half, &go);

	if (!go)
		return rv;
	if (!EVP_DigestFinal_ex(e->md, h, &hl))
		return CKR_GENERAL_ERROR;
	rv = sign_hash(e, h, hl, out);
	if (rv == CKR_OK)
		*outl = (CK_ULONG)(2 * e->half);
	return rv;
}

static CK_RV ecdsa_verify(struct cf_op *op, const uint8_t *in, size_t inl,
			  const uint8_t *sig, size_t sigl)
{
	struct ecdsa *e = op->ctx;
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;

	if (e->md == NULL)
		return verify_hash(e, in, inl, sig, sigl);
	if (sigl != 2 * e->half)
		return CKR_SIGNATURE_LEN_RANGE;
	if (!EVP_DigestUpdate(e->md, in, inl) ||
	    !EVP_DigestFinal_ex(e->md, h, &hl))
		return CKR_GENERAL_ERROR;
	return verify_hash(e, h, hl, sig, sigl);
}

static CK_RV ecdsa_verify_final(struct cf_op *op, const uint8_t *sig,
				size_t sigl)
{
	struct ecdsa *e = op->ctx;
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;

	if (sigl != 2 * e->half)
		return CKR_SIGNATURE_LEN_RANGE;
	if (!EVP_DigestFinal_ex(e->md, h, &hl))
		return CKR_GENERAL_ERROR;
	return verify_hash(e, h, hl, sig, sigl);
}

/* ---- ECDH ------------------------------------------------------------- */

/* The X9.63 KDF digest of kdf; *ok false for an unknown kdf. */
static const char *kdf_md(CK_ULONG kdf, bool *ok)
{
	*ok = true;
	switch (kdf) {
	case CKD_NULL:
		return NULL;
	case CKD_SHA1_KDF:
		return "SHA1";
	case CKD_SHA224_KDF:
		return "SHA2-224";
	case CKD_SHA256_KDF:
		return "SHA2-256";
	case CKD_SHA384_KDF:
		return "SHA2-384";
	case CKD_SHA512_KDF:
		return "SHA2-512";
	case CKD_SHA3_224_KDF:
		return "SHA3-224";
	case CKD_SHA3_256_KDF:
		return "SHA3-256";
	case CKD_SHA3_384_KDF:
		return "SHA3-384";
	case CKD_SHA3_512_KDF:
		return "SHA3-512";
	default:
		*ok = false;
		return NULL;
	}
}

/*
 * The length of the key to make: CKA_VALUE_LEN when the template gave it,
 * else the fixed length of the key type, else (a generic secret from
 * CKD_NULL) all of the shared secret, zlen.
 */
static CK_RV derive_len(const struct cf_object *key, bool raw, size_t zlen,
			size_t *len)
{
	const struct cf_attr *a = cf_object_attr(key, CKA_VALUE_LEN);
	CK_ULONG v;

	*len = 0;
	if (a != NULL && a->len == sizeof(CK_ULONG)) {
		memcpy(&v, a->value, sizeof(v));
		if (v == 0 || v > DERIVE_MAX)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		if (key->key_type == CKK_AES && v != 16 && v != 24 && v != 32)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		*len = v;
		return CKR_OK;
	}
	switch (key->key_type) {
	case CKK_DES3:
		*len = 24;
		return CKR_OK;
	case CKK_CHACHA20:
	case CKK_POLY1305:
		*len = 32;
		return CKR_OK;
	case CKK_GENERIC_SECRET:
		if (raw) {
			*len = zlen;
			return CKR_OK;
		}
		return CKR_TEMPLATE_INCOMPLETE;
	default:
		return CKR_TEMPLATE_INCOMPLETE;
	}
}

/* The raw shared secret Z of base and the peer point, in secret memory. */
static CK_RV agree(const struct cf_key *base, bool cofactor,
		   const CK_ECDH1_DERIVE_PARAMS *p, struct cf_secret *z)
{
	const struct cf_ec_curve *c = cf_ec_curve_of(base->obj);
	EVP_PKEY *peer = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const uint8_t *pt;
	size_t ptl, zl = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (c == NULL || base->pkey == NULL)
		return CKR_GENERAL_ERROR;
	if (!cf_ec_point_unwrap(c, p->pPublicData, p->ulPublicDataLen, &pt,
				&ptl))
		return CKR_MECHANISM_PARAM_INVALID;
	peer = cf_ec_pkey_public(c, pt, ptl);
	if (peer == NULL)
		return CKR_MECHANISM_PARAM_INVALID;
	pctx = EVP_PKEY_CTX_new_from_pkey(cf_libctx(), base->pkey, NULL);
	if (pctx == NULL || EVP_PKEY_derive_init(pctx) != 1)
		goto out;
	/* The cofactor of every supported prime curve is 1; the mode is set
	 * anyway so that the mechanism means what it says. */
	if (cofactor && c->kt == CKK_EC &&
	    EVP_PKEY_CTX_set_ecdh_cofactor_mode(pctx, 1) != 1)
		goto out;
	if (EVP_PKEY_derive_set_peer_ex(pctx, peer, 1) != 1) {
		rv = CKR_MECHANISM_PARAM_INVALID;
		goto out;
	}
	if (EVP_PKEY_derive(pctx, NULL, &zl) != 1 || zl == 0)
		goto out;
	if (cf_secret_init(z, zl) != 0) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	/* X25519/X448 fail here for a small-order peer point (an all-zero
	 * result): the peer's data is at fault. */
	if (EVP_PKEY_derive(pctx, z->data, &zl) != 1) {
		cf_secret_clear(z);
		rv = CKR_MECHANISM_PARAM_INVALID;
		goto out;
	}
	z->len = zl;
	rv = CKR_OK;
out:
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(peer);
	return rv;
}

static CK_RV x963(const char *mdname, const struct cf_secret *z,
		  const CK_ECDH1_DERIVE_PARAMS *p, uint8_t *out, size_t len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(cf_libctx(), "X963KDF", NULL);
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[4], *q = params;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (kdf == NULL)
		return CKR_MECHANISM_INVALID;
	kctx = EVP_KDF_CTX_new(kdf);
	if (kctx == NULL)
		goto out;
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)mdname, 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z->data,
						 z->len);
	if (p->ulSharedDataLen > 0)
		*q++ = OSSL_PARAM_construct_octet_string(
		    OSSL_KDF_PARAM_INFO, p->pSharedData, p->ulSharedDataLen);
	*q = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, len, params) == 1)
		rv = CKR_OK;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rv;
}

static CK_RV ecdh_derive(const CK_MECHANISM *m, const struct cf_key *base,
			 struct cf_object *key)
{
	const CK_ECDH1_DERIVE_PARAMS *p = m->pParameter;
	struct cf_secret z = {0}, out = {0};
	const char *mdname;
	size_t len;
	bool known;
	CK_RV rv;

	if (p == NULL || m->ulParameterLen != sizeof(*p))
		return CKR_MECHANISM_PARAM_INVALID;
	mdname = kdf_md(p->kdf, &known);
	if (!known || p->pPublicData == NULL || p->ulPublicDataLen == 0 ||
	    (p->pSharedData == NULL && p->ulSharedDataLen > 0))
		return CKR_MECHANISM_PARAM_INVALID;
	/* v3.0 2.3.14: with CKD_NULL there is no shared data. */
	if (mdname == NULL && p->ulSharedDataLen > 0)
		return CKR_MECHANISM_PARAM_INVALID;
	if (mdname != NULL && cf_md(mdname) == NULL)
		return CKR_MECHANISM_PARAM_INVALID;
	if (key->cls != CKO_SECRET_KEY)
		return CKR_TEMPLATE_INCONSISTENT;
	rv = agree(base, m->mechanism == CKM_ECDH1_COFACTOR_DERIVE, p, &z);
	if (rv != CKR_OK)
		return rv;
	rv = derive_len(key, mdname == NULL, z.len, &len);
	if (rv != CKR_OK)
		goto out;
	if (mdname == NULL) {
		/* The key is the shared secret truncated to its length;
		 * coffer keeps the trailing bytes, as SoftHSMv2 does. */
		if (len > z.len) {
			rv = CKR_TEMPLATE_INCONSISTENT;
			goto out;
		}
		rv = cf_object_set(key, CKA_VALUE, z.data + (z.len - len),
				   (CK_ULONG)len);
		goto out;
	}
	if (cf_secret_init(&out, len) != 0) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	rv = x963(mdname, &z, p, out.data, len);
	if (rv == CKR_OK)
		rv = cf_object_set(key, CKA_VALUE, out.data, (CK_ULONG)len);
out:
	cf_secret_clear(&out);
	cf_secret_clear(&z);
	return rv;
}

/* ---- the rows --------------------------------------------------------- */

static CK_RV ecdsa_any_init(struct cf_op *op, const CK_MECHANISM *m,
			    const struct cf_key *key)
{
	const char *mdname;

	switch (m->mechanism) {
	case CKM_ECDSA:
		return ecdsa_init(op, m, key);
	case CKM_ECDSA_SHA1:
		mdname = "SHA1";
		break;
	case CKM_ECDSA_SHA224:
		mdname = "SHA2-224";
		break;
	case CKM_ECDSA_SHA256:
		mdname = "SHA2-256";
		break;
	case CKM_ECDSA_SHA384:
		mdname = "SHA2-384";
		break;
	case CKM_ECDSA_SHA512:
		mdname = "SHA2-512";
		break;
	case CKM_ECDSA_SHA3_224:
		mdname = "SHA3-224";
		break;
	case CKM_ECDSA_SHA3_256:
		mdname = "SHA3-256";
		break;
	case CKM_ECDSA_SHA3_384:
		mdname = "SHA3-384";
		break;
	case CKM_ECDSA_SHA3_512:
		mdname = "SHA3-512";
		break;
	default:
		return CKR_MECHANISM_INVALID;
	}
	return ecdsa_hash_init(op, m, key, mdname);
}

static const struct cf_mech_ops keygen_ops = {
    .generate_pair = ec_generate_pair,
};

/* CKM_ECDSA is single-part (v3.0 2.3.11): no update. */
static const struct cf_mech_ops ecdsa_raw_ops = {
    .init = ecdsa_any_init,
    .oneshot = ecdsa_oneshot,
    .verify = ecdsa_verify,
    .free = ecdsa_free,
};

static const struct cf_mech_ops ecdsa_hash_ops = {
    .init = ecdsa_any_init,
    .oneshot = ecdsa_oneshot,
    .update = ecdsa_update,
    .final = ecdsa_final,
    .verify = ecdsa_verify,
    .verify_final = ecdsa_verify_final,
    .free = ecdsa_free,
};

static const struct cf_mech_ops ecdh_ops = {
    .derive = ecdh_derive,
};

#define EC_FLAGS (CKF_EC_F_P | CKF_EC_OID | CKF_EC_CURVENAME | CKF_EC_UNCOMPRESS)
#define SIGN_FLAGS (CKF_SIGN | CKF_VERIFY | EC_FLAGS)
#define ECDSA_ROW(t)                                                           \
	{                                                                      \
		(t), {256, 521, SIGN_FLAGS}, {CKK_EC, CF_MECH_KEY_TYPES_END},  \
		    &ecdsa_hash_ops, NULL, false                               \
	}

static const struct cf_mech rows[] = {
    {CKM_EC_KEY_PAIR_GEN,
     {256, 521, CKF_GENERATE_KEY_PAIR | EC_FLAGS},
     {CKK_EC, CF_MECH_KEY_TYPES_END},
     &keygen_ops,
     NULL,
     false},
    {CKM_ECDSA,
     {256, 521, SIGN_FLAGS},
     {CKK_EC, CF_MECH_KEY_TYPES_END},
     &ecdsa_raw_ops,
     NULL,
     false},
    ECDSA_ROW(CKM_ECDSA_SHA1),
    ECDSA_ROW(CKM_ECDSA_SHA224),
    ECDSA_ROW(CKM_ECDSA_SHA256),
    ECDSA_ROW(CKM_ECDSA_SHA384),
    ECDSA_ROW(CKM_ECDSA_SHA512),
    ECDSA_ROW(CKM_ECDSA_SHA3_224),
    ECDSA_ROW(CKM_ECDSA_SHA3_256),
    ECDSA_ROW(CKM_ECDSA_SHA3_384),
    ECDSA_ROW(CKM_ECDSA_SHA3_512),
    /* Montgomery keys too: 255 bits is X25519. */
    {CKM_ECDH1_DERIVE,
     {255, 521, CKF_DERIVE | EC_FLAGS},
     {CKK_EC, CKK_EC_MONTGOMERY, CF_MECH_KEY_TYPES_END},
     &ecdh_ops,
     NULL,
     false},
    {CKM_ECDH1_COFACTOR_DERIVE,
     {255, 521, CKF_DERIVE | EC_FLAGS},
     {CKK_EC, CKK_EC_MONTGOMERY, CF_MECH_KEY_TYPES_END},
     &ecdh_ops,
     NULL,
     false},
};

const struct cf_mech_family cf_mechs_ec = {rows, sizeof(rows) / sizeof(rows[0])};
