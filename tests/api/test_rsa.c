/*
 * test_rsa.c - the RSA mechanisms (PKCS#11 v3.0 Current Mechanisms 2.1):
 * key pair generation, PKCS #1 v1.5, PSS, OAEP and raw X.509 signatures
 * and encryption, sign/verify recover, C_GetMechanismInfo. Results are
 * checked independently with OpenSSL: signatures against the public key
 * read from the token, ciphertexts with the private key material the
 * harness imported.
 */
#include "harness.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define K 256 /* modulus bytes of the harness's RSA-2048 key */

static const CK_OBJECT_CLASS cls_pub = CKO_PUBLIC_KEY,
			     cls_priv = CKO_PRIVATE_KEY;
static const CK_KEY_TYPE kt_rsa = CKK_RSA;
static const unsigned char msg[] = "coffer: a message to sign and encrypt";
#define MSG_LEN (sizeof(msg) - 1)

/* ---- helpers ------------------------------------------------------------ */

static CK_SESSION_HANDLE user_rw(void)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	api_login(s, CKU_USER);
	return s;
}

/* The harness's RSA-2048 material as a session pair that may do
 * everything; sign and decrypt can be switched off. */
static void import_pair_with(CK_SESSION_HANDLE s, CK_BBOOL sign,
			     CK_BBOOL decrypt, CK_OBJECT_HANDLE *pub,
			     CK_OBJECT_HANDLE *priv)
{
	const struct api_rsa *r = api_rsa_material();
	CK_ATTRIBUTE pt[] = {
	    ATTR(CKA_CLASS, &cls_pub),
	    ATTR(CKA_KEY_TYPE, &kt_rsa),
	    ATTR(CKA_VERIFY, &api_true),
	    ATTR(CKA_VERIFY_RECOVER, &api_true),
	    ATTR(CKA_ENCRYPT, &api_true),
	    ATTR(CKA_WRAP, &api_true),
	    ATTR_BUF(CKA_MODULUS, r->n, r->n_len),
	    ATTR_BUF(CKA_PUBLIC_EXPONENT, r->e, r->e_len),
	};
	CK_ATTRIBUTE vt[] = {
	    ATTR(CKA_CLASS, &cls_priv),
	    ATTR(CKA_KEY_TYPE, &kt_rsa),
	    ATTR(CKA_PRIVATE, &api_true),
	    ATTR(CKA_SENSITIVE, &api_true),
	    ATTR(CKA_SIGN, &sign),
	    ATTR(CKA_SIGN_RECOVER, &api_true),
	    ATTR(CKA_DECRYPT, &decrypt),
	    ATTR(CKA_UNWRAP, &api_true),
	    ATTR_BUF(CKA_MODULUS, r->n, r->n_len),
	    ATTR_BUF(CKA_PUBLIC_EXPONENT, r->e, r->e_len),
	    ATTR_BUF(CKA_PRIVATE_EXPONENT, r->d, r->d_len),
	    ATTR_BUF(CKA_PRIME_1, r->p, r->p_len),
	    ATTR_BUF(CKA_PRIME_2, r->q, r->q_len),
	    ATTR_BUF(CKA_EXPONENT_1, r->dp, r->dp_len),
	    ATTR_BUF(CKA_EXPONENT_2, r->dq, r->dq_len),
	    ATTR_BUF(CKA_COEFFICIENT, r->qi, r->qi_len),
	};

	assert_rv(CKR_OK, p11->C_CreateObject(s, pt, NELEM(pt), pub));
	assert_rv(CKR_OK, p11->C_CreateObject(s, vt, NELEM(vt), priv));
}

static void import_pair(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *pub,
			CK_OBJECT_HANDLE *priv)
{
	import_pair_with(s, CK_TRUE, CK_TRUE, pub, priv);
}

static CK_RV generate(CK_SESSION_HANDLE s, CK_ULONG bits, const void *e,
		      CK_ULONG e_len, CK_OBJECT_HANDLE *pub,
		      CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM m = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_ATTRIBUTE pt[] = {
	    ATTR(CKA_VERIFY, &api_true),
	    ATTR(CKA_ENCRYPT, &api_true),
	    ATTR(CKA_MODULUS_BITS, &bits),
	    ATTR_BUF(CKA_PUBLIC_EXPONENT, e, e_len),
	};
	CK_ATTRIBUTE vt[] = {
	    ATTR(CKA_PRIVATE, &api_true),
	    ATTR(CKA_SENSITIVE, &api_true),
	    ATTR(CKA_SIGN, &api_true),
	    ATTR(CKA_DECRYPT, &api_true),
	};

	/* Without an exponent the template leaves it to the token. */
	return p11->C_GenerateKeyPair(s, &m, pt, e != NULL ? 4 : 3, vt,
				      NELEM(vt), pub, priv);
}

static EVP_PKEY *pkey_from(const unsigned char *n, size_t n_len,
			   const unsigned char *e, size_t e_len,
			   const struct api_rsa *priv)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn[8] = {NULL};
	const unsigned char *v[8] = {n, e};
	size_t l[8] = {n_len, e_len};
	const char *names[8] = {
	    OSSL_PKEY_PARAM_RSA_N,	   OSSL_PKEY_PARAM_RSA_E,
	    OSSL_PKEY_PARAM_RSA_D,	   OSSL_PKEY_PARAM_RSA_FACTOR1,
	    OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
	    OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
	size_t count = priv != NULL ? 8 : 2;
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pk = NULL;

	if (priv != NULL) {
		v[2] = priv->d, l[2] = priv->d_len;
		v[3] = priv->p, l[3] = priv->p_len;
		v[4] = priv->q, l[4] = priv->q_len;
		v[5] = priv->dp, l[5] = priv->dp_len;
		v[6] = priv->dq, l[6] = priv->dq_len;
		v[7] = priv->qi, l[7] = priv->qi_len;
	}
	assert_non_null(bld);
	for (size_t i = 0; i < count; i++) {
		bn[i] = BN_bin2bn(v[i], (int)l[i], NULL);
		assert_non_null(bn[i]);
		assert_true(OSSL_PARAM_BLD_push_BN(bld, names[i], bn[i]));
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_non_null(params);
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pk,
					   priv != NULL ? EVP_PKEY_KEYPAIR
							: EVP_PKEY_PUBLIC_KEY,
					   params),
			 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	for (size_t i = 0; i < count; i++)
		BN_free(bn[i]);
	return pk;
}

/* The public key as the token reports it. */
static EVP_PKEY *token_pubkey(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub)
{
	unsigned char n[2048], e[64];
	CK_ULONG n_len = sizeof(n), e_len = sizeof(e);

	assert_rv(CKR_OK, api_get_bytes(s, pub, CKA_MODULUS, n, &n_len));
	assert_rv(CKR_OK,
		  api_get_bytes(s, pub, CKA_PUBLIC_EXPONENT, e, &e_len));
	return pkey_from(n, n_len, e, e_len, NULL);
}

/* The harness's private key, for OpenSSL-side decryption. */
static EVP_PKEY *material_privkey(void)
{
	const struct api_rsa *r = api_rsa_material();

	return pkey_from(r->n, r->n_len, r->e, r->e_len, r);
}

static bool module_has(CK_MECHANISM_TYPE t)
{
	CK_MECHANISM_INFO info;

	/* coffer must have every mechanism the tests name; SoftHSMv2's lack
	 * of some is checked by test_rsa_mechanisms__all_listed alone. */
	if (!api_is_softhsm())
		return true;
	return p11->C_GetMechanismInfo(api_slot, t, &info) == CKR_OK;
}

/* ---- the signature mechanisms ------------------------------------------ */

enum form { V_PKCS, V_X509, V_PSS, V_HASH, V_HASH_PSS };

struct sign_mech {
	CK_MECHANISM_TYPE type;
	const char *md;		/* OpenSSL digest (PSS: of the hash) */
	CK_MECHANISM_TYPE hash; /* PSS parameters */
	CK_RSA_PKCS_MGF_TYPE mgf;
	enum form form;
};

static const struct sign_mech sign_mechs[] = {
    {CKM_RSA_PKCS, NULL, 0, 0, V_PKCS},
    {CKM_RSA_X_509, NULL, 0, 0, V_X509},
    {CKM_RSA_PKCS_PSS, "SHA256", CKM_SHA256, CKG_MGF1_SHA256, V_PSS},
    {CKM_SHA1_RSA_PKCS, "SHA1", 0, 0, V_HASH},
    {CKM_SHA224_RSA_PKCS, "SHA224", 0, 0, V_HASH},
    {CKM_SHA256_RSA_PKCS, "SHA256", 0, 0, V_HASH},
    {CKM_SHA384_RSA_PKCS, "SHA384", 0, 0, V_HASH},
    {CKM_SHA512_RSA_PKCS, "SHA512", 0, 0, V_HASH},
    {CKM_SHA3_224_RSA_PKCS, "SHA3-224", 0, 0, V_HASH},
    {CKM_SHA3_256_RSA_PKCS, "SHA3-256", 0, 0, V_HASH},
    {CKM_SHA3_384_RSA_PKCS, "SHA3-384", 0, 0, V_HASH},
    {CKM_SHA3_512_RSA_PKCS, "SHA3-512", 0, 0, V_HASH},
    {CKM_SHA1_RSA_PKCS_PSS, "SHA1", CKM_SHA_1, CKG_MGF1_SHA1, V_HASH_PSS},
    {CKM_SHA224_RSA_PKCS_PSS, "SHA224", CKM_SHA224, CKG_MGF1_SHA224,
     V_HASH_PSS},
    {CKM_SHA256_RSA_PKCS_PSS, "SHA256", CKM_SHA256, CKG_MGF1_SHA256,
     V_HASH_PSS},
    {CKM_SHA384_RSA_PKCS_PSS, "SHA384", CKM_SHA384, CKG_MGF1_SHA384,
     V_HASH_PSS},
    {CKM_SHA512_RSA_PKCS_PSS, "SHA512", CKM_SHA512, CKG_MGF1_SHA512,
     V_HASH_PSS},
    {CKM_SHA3_224_RSA_PKCS_PSS, "SHA3-224", CKM_SHA3_224, CKG_MGF1_SHA3_224,
     V_HASH_PSS},
    {CKM_SHA3_256_RSA_PKCS_PSS, "SHA3-256", CKM_SHA3_256, CKG_MGF1_SHA3_256,
     V_HASH_PSS},
    {CKM_SHA3_384_RSA_PKCS_PSS, "SHA3-384", CKM_SHA3_384, CKG_MGF1_SHA3_384,
     V_HASH_PSS},
    {CKM_SHA3_512_RSA_PKCS_PSS, "SHA3-512", CKM_SHA3_512, CKG_MGF1_SHA3_512,
     V_HASH_PSS},
};

static const struct sign_mech *sign_mech(CK_MECHANISM_TYPE t)
{
	for (size_t i = 0; i < NELEM(sign_mechs); i++)
		if (sign_mechs[i].type == t)
			return &sign_mechs[i];
	fail_msg("no mechanism 0x%lx in the table", t);
	return NULL;
}

static bool is_pss(const struct sign_mech *sm)
{
	return sm->form == V_PSS || sm->form == V_HASH_PSS;
}

static bool is_multi(const struct sign_mech *sm)
{
	return sm->form == V_HASH || sm->form == V_HASH_PSS;
}

/* sm as a CK_MECHANISM; PSS parameters in *pss (salt = hash length). */
static CK_MECHANISM mech_of(const struct sign_mech *sm,
			    CK_RSA_PKCS_PSS_PARAMS *pss)
{
	CK_MECHANISM m = {sm->type, NULL, 0};

	if (is_pss(sm)) {
		const EVP_MD *md = EVP_get_digestbyname(sm->md);
		assert_non_null(md);
		pss->hash_alg = sm->hash;
		pss->mgf = sm->mgf;
		pss->s_len = (CK_ULONG)EVP_MD_get_size(md);
		m.pParameter = pss;
		m.ulParameterLen = sizeof(*pss);
	}
	return m;
}

static void sha256(const unsigned char *in, size_t inl, unsigned char *out)
{
	unsigned int len = 0;

	assert_int_equal(EVP_Digest(in, inl, out, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(len, 32);
}

/* What the token signs for sm: the message, its SHA-256 DigestInfo (raw
 * PKCS #1) or its SHA-256 hash (raw PSS). */
static CK_ULONG sign_input(const struct sign_mech *sm, unsigned char *buf)
{
	static const unsigned char sha256_prefix[] = {
	    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	    0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

	switch (sm->form) {
	case V_PKCS:
		memcpy(buf, sha256_prefix, sizeof(sha256_prefix));
		sha256(msg, MSG_LEN, buf + sizeof(sha256_prefix));
		return sizeof(sha256_prefix) + 32;
	case V_PSS:
		sha256(msg, MSG_LEN, buf);
		return 32;
	default:
		memcpy(buf, msg, MSG_LEN);
		return MSG_LEN;
	}
}

static CK_ULONG sign(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv,
		     const struct sign_mech *sm, const unsigned char *in,
		     CK_ULONG inl, unsigned char *sig)
{
	CK_RSA_PKCS_PSS_PARAMS pss;
	CK_MECHANISM m = mech_of(sm, &pss);
	CK_ULONG len = K;

	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK, p11->C_Sign(s, (CK_BYTE_PTR)in, inl, sig, &len));
	assert_int_equal(len, K);
	return len;
}

static CK_RV verify(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub,
		    const struct sign_mech *sm, const unsigned char *in,
		    CK_ULONG inl, const unsigned char *sig, CK_ULONG sigl)
{
	CK_RSA_PKCS_PSS_PARAMS pss;
	CK_MECHANISM m = mech_of(sm, &pss);

	assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
	return p11->C_Verify(s, (CK_BYTE_PTR)in, inl, (CK_BYTE_PTR)sig, sigl);
}

static bool pss_setup(EVP_PKEY_CTX *pctx, const struct sign_mech *sm)
{
	return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
	       EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, sm->md, NULL) > 0 &&
	       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) >
		   0;
}

/* OpenSSL's opinion of a token signature over in (sign_input). */
static bool openssl_verifies(EVP_PKEY *pk, const struct sign_mech *sm,
			     const unsigned char *in, size_t inl,
			     const unsigned char *sig, size_t sigl)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char rec[K], block[K];
	size_t recl = sizeof(rec);
	bool ok = false;

	switch (sm->form) {
	case V_HASH:
	case V_HASH_PSS:
		mctx = EVP_MD_CTX_new();
		ok = EVP_DigestVerifyInit_ex(mctx, &pctx, sm->md, NULL, NULL,
					     pk, NULL) == 1 &&
		     (sm->form == V_HASH || pss_setup(pctx, sm)) &&
		     EVP_DigestVerify(mctx, sig, sigl, in, inl) == 1;
		EVP_MD_CTX_free(mctx);
		break;
	case V_PKCS:
	case V_PSS:
		pctx = EVP_PKEY_CTX_new(pk, NULL);
		ok = EVP_PKEY_verify_init(pctx) == 1 &&
		     (sm->form == V_PKCS
			  ? EVP_PKEY_CTX_set_rsa_padding(pctx,
							 RSA_PKCS1_PADDING) > 0
			  : EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) >
				    0 &&
				pss_setup(pctx, sm)) &&
		     EVP_PKEY_verify(pctx, sig, sigl, in, inl) == 1;
		EVP_PKEY_CTX_free(pctx);
		break;
	case V_X509:
		pctx = EVP_PKEY_CTX_new(pk, NULL);
		memset(block, 0, sizeof(block));
		memcpy(block + K - inl, in, inl);
		ok =
		    EVP_PKEY_verify_recover_init(pctx) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_NO_PADDING) > 0 &&
		    EVP_PKEY_verify_recover(pctx, rec, &recl, sig, sigl) == 1 &&
		    recl == K && memcmp(rec, block, K) == 0;
		EVP_PKEY_CTX_free(pctx);
		break;
	}
	ERR_clear_error();
	return ok;
}

/* ---- key pair generation ------------------------------------------------ */

static void test_rsa_keygen__attributes(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char n[256], e[8], buf[256];
	CK_ULONG n_len = sizeof(n), e_len = sizeof(e);
	CK_ULONG bits = 0, mech = 0, len;
	CK_BBOOL local = CK_FALSE;
	CK_ATTRIBUTE a = {CKA_PRIVATE_EXPONENT, buf, sizeof(buf)};

	(void)state;
	assert_rv(CKR_OK, generate(s, 1024, NULL, 0, &pub, &priv));
	assert_rv(CKR_OK, api_get_bytes(s, pub, CKA_MODULUS, n, &n_len));
	assert_int_equal(n_len, 128);
	assert_true(n[0] & 0x80);
	assert_rv(CKR_OK, api_get_ulong(s, pub, CKA_MODULUS_BITS, &bits));
	assert_int_equal(bits, 1024);
	assert_rv(CKR_OK,
		  api_get_bytes(s, pub, CKA_PUBLIC_EXPONENT, e, &e_len));
	assert_int_equal(e_len, 3);
	assert_memory_equal(e, "\x01\x00\x01", 3);
	for (int i = 0; i < 2; i++) {
		CK_OBJECT_HANDLE o = i == 0 ? pub : priv;
		assert_rv(CKR_OK, api_get_bool(s, o, CKA_LOCAL, &local));
		assert_int_equal(local, CK_TRUE);
		assert_rv(CKR_OK,
			  api_get_ulong(s, o, CKA_KEY_GEN_MECHANISM, &mech));
		assert_int_equal(mech, CKM_RSA_PKCS_KEY_PAIR_GEN);
	}
	/* The private key carries the public components too. */
	len = sizeof(buf);
	assert_rv(CKR_OK, api_get_bytes(s, priv, CKA_MODULUS, buf, &len));
	assert_int_equal(len, n_len);
	assert_memory_equal(buf, n, n_len);
	assert_rv(CKR_ATTRIBUTE_SENSITIVE,
		  p11->C_GetAttributeValue(s, priv, &a, 1));
	assert_int_equal(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
}

/* CKA_PUBLIC_KEY_INFO is the SubjectPublicKeyInfo of the same key. */
static void test_rsa_keygen__public_key_info(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char n[256], spki[512], buf[256];
	CK_ULONG n_len = sizeof(n), spki_len, len;
	const unsigned char *p = spki;
	EVP_PKEY *pk;
	BIGNUM *bn = NULL;

	(void)state;
	assert_rv(CKR_OK, generate(s, 1024, NULL, 0, &pub, &priv));
	assert_rv(CKR_OK, api_get_bytes(s, pub, CKA_MODULUS, n, &n_len));
	for (int i = 0; i < 2; i++) {
		spki_len = sizeof(spki);
		assert_rv(CKR_OK,
			  api_get_bytes(s, i == 0 ? pub : priv,
					CKA_PUBLIC_KEY_INFO, spki, &spki_len));
		p = spki;
		pk = d2i_PUBKEY(NULL, &p, (long)spki_len);
		assert_non_null(pk);
		assert_ptr_equal(p, spki + spki_len);
		assert_int_equal(EVP_PKEY_get_bits(pk), 1024);
		assert_int_equal(
		    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
		len = (CK_ULONG)BN_bn2bin(bn, buf);
		assert_int_equal(len, n_len);
		assert_memory_equal(buf, n, n_len);
		BN_free(bn);
		bn = NULL;
		EVP_PKEY_free(pk);
	}
}

static void test_rsa_keygen__pair_signs_and_verifies(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	const struct sign_mech *sm = sign_mech(CKM_SHA256_RSA_PKCS);
	unsigned char sig[512];
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_ULONG len = sizeof(sig);
	EVP_PKEY *pk;

	(void)state;
	assert_rv(CKR_OK, generate(s, 2048, NULL, 0, &pub, &priv));
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK, p11->C_Sign(s, (CK_BYTE_PTR)msg, MSG_LEN, sig, &len));
	assert_int_equal(len, K);
	assert_rv(CKR_OK, verify(s, pub, sm, msg, MSG_LEN, sig, len));
	pk = token_pubkey(s, pub);
	assert_true(openssl_verifies(pk, sm, msg, MSG_LEN, sig, len));
	EVP_PKEY_free(pk);
}

static void test_rsa_keygen__exponent_from_template(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	static const unsigned char three[] = {0x03};
	unsigned char e[8];
	CK_ULONG e_len = sizeof(e);

	(void)state;
	assert_rv(CKR_OK, generate(s, 1024, three, 1, &pub, &priv));
	assert_rv(CKR_OK,
		  api_get_bytes(s, pub, CKA_PUBLIC_EXPONENT, e, &e_len));
	assert_int_equal(e_len, 1);
	assert_int_equal(e[0], 3);
}

static void test_rsa_keygen__bad_size_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM_INFO info;

	(void)state;
	/* just outside what the module says it makes */
	assert_rv(CKR_OK, p11->C_GetMechanismInfo(
			      api_slot, CKM_RSA_PKCS_KEY_PAIR_GEN, &info));
	assert_rv(CKR_KEY_SIZE_RANGE,
		  generate(s, info.ulMinKeySize - 1, NULL, 0, &pub, &priv));
	assert_rv(CKR_KEY_SIZE_RANGE,
		  generate(s, info.ulMaxKeySize + 1, NULL, 0, &pub, &priv));
	assert_rv(CKR_KEY_SIZE_RANGE,
		  generate(s, 1 << 20, NULL, 0, &pub, &priv));
}

static void test_rsa_keygen__bad_exponent_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	static const unsigned char even[] = {0x01, 0x00, 0x00};
	static const unsigned char one[] = {0x01};
	static const unsigned char huge[] = {0x01, 0, 0, 0, 0,	 0,
					     0,	   0, 0, 0, 0x01};

	(void)state;
	assert_rv(CKR_ATTRIBUTE_VALUE_INVALID,
		  generate(s, 1024, even, sizeof(even), &pub, &priv));
	assert_rv(CKR_ATTRIBUTE_VALUE_INVALID,
		  generate(s, 1024, one, sizeof(one), &pub, &priv));
	assert_rv(CKR_ATTRIBUTE_VALUE_INVALID,
		  generate(s, 1024, huge, sizeof(huge), &pub, &priv));
}

static void test_rsa_keygen__missing_bits_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_ATTRIBUTE pt[] = {ATTR(CKA_VERIFY, &api_true)};
	CK_ATTRIBUTE vt[] = {ATTR(CKA_SIGN, &api_true)};

	(void)state;
	assert_rv(CKR_TEMPLATE_INCOMPLETE,
		  p11->C_GenerateKeyPair(s, &m, pt, NELEM(pt), vt, NELEM(vt),
					 &pub, &priv));
}

/* ---- signatures ------------------------------------------------------------
 */

static void test_rsa_sign__round_trip_every_mechanism(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char in[128], sig[K];
	EVP_PKEY *pk;

	(void)state;
	import_pair(s, &pub, &priv);
	pk = token_pubkey(s, pub);
	for (size_t i = 0; i < NELEM(sign_mechs); i++) {
		const struct sign_mech *sm = &sign_mechs[i];
		CK_ULONG inl, sigl;
		if (!module_has(sm->type))
			continue;
		inl = sign_input(sm, in);
		sigl = sign(s, priv, sm, in, inl, sig);
		assert_rv(CKR_OK, verify(s, pub, sm, in, inl, sig, sigl));
		if (!openssl_verifies(pk, sm, in, inl, sig, sigl))
			fail_msg("OpenSSL rejects the signature of mechanism "
				 "0x%lx",
				 sm->type);
		sig[sigl / 2] ^= 0x01;
		assert_rv(CKR_SIGNATURE_INVALID,
			  verify(s, pub, sm, in, inl, sig, sigl));
		assert_false(openssl_verifies(pk, sm, in, inl, sig, sigl));
	}
	EVP_PKEY_free(pk);
}

static void test_rsa_sign__changed_data_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char in[128], sig[K];

	(void)state;
	import_pair(s, &pub, &priv);
	for (size_t i = 0; i < NELEM(sign_mechs); i++) {
		const struct sign_mech *sm = &sign_mechs[i];
		CK_ULONG inl, sigl;
		if (!module_has(sm->type))
			continue;
		inl = sign_input(sm, in);
		sigl = sign(s, priv, sm, in, inl, sig);
		in[inl - 1] ^= 0x01;
		assert_rv(CKR_SIGNATURE_INVALID,
			  verify(s, pub, sm, in, inl, sig, sigl));
	}
}

static void test_rsa_sign__multipart_equals_single_part(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char one[K], multi[K];
	CK_ULONG len;

	(void)state;
	import_pair(s, &pub, &priv);
	for (size_t i = 0; i < NELEM(sign_mechs); i++) {
		const struct sign_mech *sm = &sign_mechs[i];
		CK_RSA_PKCS_PSS_PARAMS pss;
		CK_MECHANISM m = mech_of(sm, &pss);
		if (!is_multi(sm) || !module_has(sm->type))
			continue;
		sign(s, priv, sm, msg, MSG_LEN, one);
		assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
		assert_rv(CKR_OK, p11->C_SignUpdate(s, (CK_BYTE_PTR)msg, 10));
		assert_rv(CKR_OK, p11->C_SignUpdate(s, (CK_BYTE_PTR)msg + 10,
						    MSG_LEN - 10));
		len = sizeof(multi);
		assert_rv(CKR_OK, p11->C_SignFinal(s, multi, &len));
		assert_int_equal(len, K);
		/* PKCS #1 v1.5 is deterministic; PSS is salted, so each
		 * form must verify the other's signature instead. */
		if (sm->form == V_HASH)
			assert_memory_equal(one, multi, K);
		assert_rv(CKR_OK, verify(s, pub, sm, msg, MSG_LEN, multi, len));
		assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
		assert_rv(CKR_OK, p11->C_VerifyUpdate(s, (CK_BYTE_PTR)msg, 3));
		assert_rv(CKR_OK, p11->C_VerifyUpdate(s, (CK_BYTE_PTR)msg + 3,
						      MSG_LEN - 3));
		assert_rv(CKR_OK, p11->C_VerifyFinal(s, one, K));
		one[0] ^= 0x80;
		assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
		assert_rv(CKR_OK,
			  p11->C_VerifyUpdate(s, (CK_BYTE_PTR)msg, MSG_LEN));
		assert_rv(CKR_SIGNATURE_INVALID, p11->C_VerifyFinal(s, one, K));
	}
}

static void test_rsa_sign__single_part_mechanisms_refuse_update(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char in[128], sig[K];
	CK_ULONG inl, len = sizeof(sig);

	(void)state;
	import_pair(s, &pub, &priv);
	for (size_t i = 0; i < 3; i++) {
		const struct sign_mech *sm = &sign_mechs[i];
		CK_RSA_PKCS_PSS_PARAMS pss;
		CK_MECHANISM m = mech_of(sm, &pss);
		assert_false(is_multi(sm));
		assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
		assert_rv(CKR_FUNCTION_NOT_SUPPORTED,
			  p11->C_SignUpdate(s, (CK_BYTE_PTR)msg, MSG_LEN));
		/* ... which ended the operation: a new one starts. */
		inl = sign_input(sm, in);
		assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
		assert_rv(CKR_OK, p11->C_Sign(s, in, inl, sig, &len));
	}
}

static void test_rsa_sign__length_query_and_retry(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char in[128], sig[K];

	(void)state;
	import_pair(s, &pub, &priv);
	for (size_t i = 0; i < NELEM(sign_mechs); i++) {
		const struct sign_mech *sm = &sign_mechs[i];
		CK_RSA_PKCS_PSS_PARAMS pss;
		CK_MECHANISM m = mech_of(sm, &pss);
		CK_ULONG inl, len = 0;
		if (!module_has(sm->type))
			continue;
		inl = sign_input(sm, in);
		assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
		assert_rv(CKR_OK, p11->C_Sign(s, in, inl, NULL, &len));
		assert_int_equal(len, K);
		len = K - 1;
		assert_rv(CKR_BUFFER_TOO_SMALL,
			  p11->C_Sign(s, in, inl, sig, &len));
		assert_int_equal(len, K);
		assert_rv(CKR_OK, p11->C_Sign(s, in, inl, sig, &len));
		assert_int_equal(len, K);
		assert_rv(CKR_OK, verify(s, pub, sm, in, inl, sig, len));
		/* The successful call ended the operation. */
		assert_rv(CKR_OPERATION_NOT_INITIALIZED,
			  p11->C_Sign(s, in, inl, sig, &len));
	}
}

static void test_rsa_sign__final_length_query_and_retry(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	const struct sign_mech *sm = sign_mech(CKM_SHA256_RSA_PKCS_PSS);
	CK_RSA_PKCS_PSS_PARAMS pss;
	CK_MECHANISM m = mech_of(sm, &pss);
	unsigned char sig[K];
	CK_ULONG len = 0;

	(void)state;
	import_pair(s, &pub, &priv);
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK, p11->C_SignUpdate(s, (CK_BYTE_PTR)msg, MSG_LEN));
	assert_rv(CKR_OK, p11->C_SignFinal(s, NULL, &len));
	assert_int_equal(len, K);
	len = 10;
	assert_rv(CKR_BUFFER_TOO_SMALL, p11->C_SignFinal(s, sig, &len));
	assert_int_equal(len, K);
	assert_rv(CKR_OK, p11->C_SignFinal(s, sig, &len));
	assert_rv(CKR_OK, verify(s, pub, sm, msg, MSG_LEN, sig, len));
}

static void test_rsa_sign__input_too_long_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char in[K + 1], sig[K];
	CK_ULONG len = sizeof(sig);
	CK_MECHANISM pkcs = {CKM_RSA_PKCS, NULL, 0};
	CK_MECHANISM x509 = {CKM_RSA_X_509, NULL, 0};
	CK_RSA_PKCS_PSS_PARAMS pss;
	CK_MECHANISM raw_pss = mech_of(sign_mech(CKM_RSA_PKCS_PSS), &pss);

	(void)state;
	memset(in, 0x01, sizeof(in));
	import_pair(s, &pub, &priv);
	/* PKCS #1 v1.5 needs 11 bytes of padding. */
	assert_rv(CKR_OK, p11->C_SignInit(s, &pkcs, priv));
	assert_rv(CKR_DATA_LEN_RANGE, p11->C_Sign(s, in, K - 10, sig, &len));
	assert_rv(CKR_OK, p11->C_SignInit(s, &x509, priv));
	assert_rv(CKR_DATA_LEN_RANGE, p11->C_Sign(s, in, K + 1, sig, &len));
	/* Raw PSS signs a hash of the length its parameters name. */
	assert_rv(CKR_OK, p11->C_SignInit(s, &raw_pss, priv));
	assert_rv(CKR_DATA_LEN_RANGE, p11->C_Sign(s, in, 31, sig, &len));
}

static void test_rsa_verify__wrong_signature_length_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char in[128], sig[K + 1];

	(void)state;
	import_pair(s, &pub, &priv);
	for (size_t i = 0; i < NELEM(sign_mechs); i++) {
		const struct sign_mech *sm = &sign_mechs[i];
		CK_ULONG inl;
		if (!module_has(sm->type))
			continue;
		inl = sign_input(sm, in);
		sign(s, priv, sm, in, inl, sig);
		sig[K] = 0;
		assert_rv(CKR_SIGNATURE_LEN_RANGE,
			  verify(s, pub, sm, in, inl, sig, K - 1));
		assert_rv(CKR_SIGNATURE_LEN_RANGE,
			  verify(s, pub, sm, in, inl, sig, K + 1));
	}
}

static void test_rsa_pss__bad_parameters_fail(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_RSA_PKCS_PSS_PARAMS good = {CKM_SHA256, CKG_MGF1_SHA256, 32};
	CK_RSA_PKCS_PSS_PARAMS bad[] = {
	    {CKM_MD5, CKG_MGF1_SHA256, 32},	/* unknown hash */
	    {CKM_SHA256, 0x7777, 32},		/* unknown MGF */
	    {CKM_SHA256, CKG_MGF1_SHA256, 223}, /* salt too long for 2048 */
	};
	CK_MECHANISM m;
	const CK_MECHANISM_TYPE mechs[] = {CKM_RSA_PKCS_PSS,
					   CKM_SHA256_RSA_PKCS_PSS};
	unsigned char in[32], sig[K];
	CK_ULONG len;

	(void)state;
	import_pair(s, &pub, &priv);
	for (size_t j = 0; j < NELEM(mechs); j++) {
		m.mechanism = mechs[j];
		/* no parameters, short parameters */
		m.pParameter = NULL;
		m.ulParameterLen = 0;
		assert_rv(CKR_MECHANISM_PARAM_INVALID,
			  p11->C_SignInit(s, &m, priv));
		m.pParameter = &good;
		m.ulParameterLen = sizeof(good) - 1;
		assert_rv(CKR_MECHANISM_PARAM_INVALID,
			  p11->C_SignInit(s, &m, priv));
		m.ulParameterLen = sizeof(good);
		for (size_t i = 0; i < NELEM(bad); i++) {
			m.pParameter = &bad[i];
			assert_rv(CKR_MECHANISM_PARAM_INVALID,
				  p11->C_SignInit(s, &m, priv));
			assert_rv(CKR_MECHANISM_PARAM_INVALID,
				  p11->C_VerifyInit(s, &m, pub));
		}
		/* the largest salt the key allows */
		good.s_len = 222;
		m.pParameter = &good;
		len = sizeof(sig);
		assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
		if (mechs[j] == CKM_RSA_PKCS_PSS) {
			sha256(msg, MSG_LEN, in);
			assert_rv(CKR_OK, p11->C_Sign(s, in, 32, sig, &len));
		} else {
			assert_rv(CKR_OK, p11->C_Sign(s, (CK_BYTE_PTR)msg,
						      MSG_LEN, sig, &len));
		}
		good.s_len = 32;
	}
	/* The hash-and-sign forms take only their own hash. */
	m.mechanism = CKM_SHA256_RSA_PKCS_PSS;
	good.hash_alg = CKM_SHA384;
	m.pParameter = &good;
	assert_rv(CKR_MECHANISM_PARAM_INVALID, p11->C_SignInit(s, &m, priv));
}

static void test_rsa_pkcs__parameters_refused(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_ULONG junk = 0;
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, &junk, sizeof(junk)};

	(void)state;
	import_pair(s, &pub, &priv);
	assert_rv(CKR_MECHANISM_PARAM_INVALID, p11->C_SignInit(s, &m, priv));
	m.mechanism = CKM_RSA_PKCS;
	assert_rv(CKR_MECHANISM_PARAM_INVALID, p11->C_EncryptInit(s, &m, pub));
}

/* ---- sign and verify recover ------------------------------------------- */

static void test_rsa_recover__round_trip(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	const CK_MECHANISM_TYPE mechs[] = {CKM_RSA_PKCS, CKM_RSA_X_509};
	unsigned char sig[K], out[K];
	EVP_PKEY *pk;

	(void)state;
	import_pair(s, &pub, &priv);
	pk = token_pubkey(s, pub);
	for (size_t i = 0; i < NELEM(mechs); i++) {
		CK_MECHANISM m = {mechs[i], NULL, 0};
		CK_ULONG len = 0;
		assert_rv(CKR_OK, p11->C_SignRecoverInit(s, &m, priv));
		assert_rv(CKR_OK, p11->C_SignRecover(s, (CK_BYTE_PTR)msg,
						     MSG_LEN, NULL, &len));
		assert_int_equal(len, K);
		len = K - 1;
		assert_rv(CKR_BUFFER_TOO_SMALL,
			  p11->C_SignRecover(s, (CK_BYTE_PTR)msg, MSG_LEN, sig,
					     &len));
		assert_int_equal(len, K);
		assert_rv(CKR_OK, p11->C_SignRecover(s, (CK_BYTE_PTR)msg,
						     MSG_LEN, sig, &len));
		assert_int_equal(len, K);
		/* the same signature as C_Sign gives, which OpenSSL checks */
		assert_true(openssl_verifies(pk, sign_mech(mechs[i]), msg,
					     MSG_LEN, sig, K));
		assert_rv(CKR_OK, p11->C_VerifyRecoverInit(s, &m, pub));
		len = 0;
		assert_rv(CKR_OK, p11->C_VerifyRecover(s, sig, K, NULL, &len));
		assert_true(len >= (mechs[i] == CKM_RSA_PKCS ? MSG_LEN : K));
		len = 4;
		assert_rv(CKR_BUFFER_TOO_SMALL,
			  p11->C_VerifyRecover(s, sig, K, out, &len));
		assert_int_equal(len, mechs[i] == CKM_RSA_PKCS ? MSG_LEN : K);
		len = sizeof(out);
		assert_rv(CKR_OK, p11->C_VerifyRecover(s, sig, K, out, &len));
		if (mechs[i] == CKM_RSA_PKCS) {
			assert_int_equal(len, MSG_LEN);
			assert_memory_equal(out, msg, MSG_LEN);
		} else {
			/* raw: the data with its leading zeros */
			assert_int_equal(len, K);
			assert_memory_equal(out + K - MSG_LEN, msg, MSG_LEN);
		}
		/* A raw signature recovers to something whatever it is;
		 * a PKCS #1 one must have its padding. */
		if (mechs[i] != CKM_RSA_PKCS)
			continue;
		sig[7] ^= 0x10;
		assert_rv(CKR_OK, p11->C_VerifyRecoverInit(s, &m, pub));
		len = sizeof(out);
		assert_rv(CKR_SIGNATURE_INVALID,
			  p11->C_VerifyRecover(s, sig, K, out, &len));
	}
	EVP_PKEY_free(pk);
}

/* ---- encryption ------------------------------------------------------------
 */

struct oaep_hash {
	CK_MECHANISM_TYPE hash;
	CK_RSA_PKCS_MGF_TYPE mgf;
	const char *md;
};

static const struct oaep_hash oaep_hashes[] = {
    {CKM_SHA_1, CKG_MGF1_SHA1, "SHA1"},
    {CKM_SHA224, CKG_MGF1_SHA224, "SHA224"},
    {CKM_SHA256, CKG_MGF1_SHA256, "SHA256"},
    {CKM_SHA384, CKG_MGF1_SHA384, "SHA384"},
    {CKM_SHA512, CKG_MGF1_SHA512, "SHA512"},
};

static CK_MECHANISM oaep_mech(CK_RSA_PKCS_OAEP_PARAMS *p,
			      const struct oaep_hash *h, const char *label)
{
	CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, p, sizeof(*p)};

	p->hash_alg = h->hash;
	p->mgf = h->mgf;
	p->source = CKZ_DATA_SPECIFIED;
	p->source_data = (void *)label;
	p->source_data_len = label != NULL ? (CK_ULONG)strlen(label) : 0;
	return m;
}

static CK_ULONG encrypt(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub,
			CK_MECHANISM *m, const unsigned char *in, CK_ULONG inl,
			unsigned char *out)
{
	CK_ULONG len = K;

	assert_rv(CKR_OK, p11->C_EncryptInit(s, m, pub));
	assert_rv(CKR_OK, p11->C_Encrypt(s, (CK_BYTE_PTR)in, inl, out, &len));
	assert_int_equal(len, K);
	return len;
}

static CK_RV decrypt(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv,
		     CK_MECHANISM *m, const unsigned char *in, CK_ULONG inl,
		     unsigned char *out, CK_ULONG *outl)
{
	assert_rv(CKR_OK, p11->C_DecryptInit(s, m, priv));
	return p11->C_Decrypt(s, (CK_BYTE_PTR)in, inl, out, outl);
}

/* OpenSSL decrypts a token ciphertext (label NULL: none). */
static size_t openssl_decrypt(EVP_PKEY *pk, int pad, const char *md,
			      const char *label, const unsigned char *in,
			      unsigned char *out)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(pk, NULL);
	size_t len = K;

	assert_int_equal(EVP_PKEY_decrypt_init(pctx), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, pad) > 0);
	if (md != NULL) {
		assert_true(EVP_PKEY_CTX_set_rsa_oaep_md_name(pctx, md, NULL) >
			    0);
		assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) >
			    0);
	}
	if (label != NULL)
		assert_true(
		    EVP_PKEY_CTX_set0_rsa_oaep_label(
			pctx, OPENSSL_strdup(label), (int)strlen(label)) > 0);
	assert_int_equal(EVP_PKEY_decrypt(pctx, out, &len, in, K), 1);
	EVP_PKEY_CTX_free(pctx);
	return len;
}

static size_t openssl_encrypt(EVP_PKEY *pk, int pad, const char *md,
			      const char *label, const unsigned char *in,
			      size_t inl, unsigned char *out)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(pk, NULL);
	size_t len = K;

	assert_int_equal(EVP_PKEY_encrypt_init(pctx), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, pad) > 0);
	if (md != NULL) {
		assert_true(EVP_PKEY_CTX_set_rsa_oaep_md_name(pctx, md, NULL) >
			    0);
		assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) >
			    0);
	}
	if (label != NULL)
		assert_true(
		    EVP_PKEY_CTX_set0_rsa_oaep_label(
			pctx, OPENSSL_strdup(label), (int)strlen(label)) > 0);
	assert_int_equal(EVP_PKEY_encrypt(pctx, out, &len, in, inl), 1);
	assert_int_equal(len, K);
	EVP_PKEY_CTX_free(pctx);
	return len;
}

static void test_rsa_oaep__round_trip_each_hash(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char ct[K], pt[K];
	EVP_PKEY *sk = material_privkey();

	(void)state;
	import_pair(s, &pub, &priv);
	for (size_t i = 0; i < NELEM(oaep_hashes); i++) {
		CK_RSA_PKCS_OAEP_PARAMS p;
		CK_MECHANISM m = oaep_mech(&p, &oaep_hashes[i], NULL);
		CK_ULONG len = sizeof(pt);
		if (api_is_softhsm() && oaep_hashes[i].hash != CKM_SHA_1)
			continue; /* see test_rsa_oaep__sha2_round_trip */
		encrypt(s, pub, &m, msg, MSG_LEN, ct);
		assert_rv(CKR_OK, decrypt(s, priv, &m, ct, K, pt, &len));
		assert_int_equal(len, MSG_LEN);
		assert_memory_equal(pt, msg, MSG_LEN);
		/* and OpenSSL reads what the token wrote */
		memset(pt, 0, sizeof(pt));
		assert_int_equal(openssl_decrypt(sk, RSA_PKCS1_OAEP_PADDING,
						 oaep_hashes[i].md, NULL, ct,
						 pt),
				 MSG_LEN);
		assert_memory_equal(pt, msg, MSG_LEN);
	}
	EVP_PKEY_free(sk);
}

static void test_rsa_oaep__sha2_round_trip(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char ct[K], pt[K];
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM m = oaep_mech(&p, &oaep_hashes[2], NULL);
	CK_ULONG len = sizeof(pt);

	(void)state;
	import_pair(s, &pub, &priv);
	encrypt(s, pub, &m, msg, MSG_LEN, ct);
	assert_rv(CKR_OK, decrypt(s, priv, &m, ct, K, pt, &len));
	assert_int_equal(len, MSG_LEN);
	assert_memory_equal(pt, msg, MSG_LEN);
}

static void test_rsa_oaep__label(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char ct[K], pt[K];
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM m = oaep_mech(&p, &oaep_hashes[2], "a label");
	CK_ULONG len = sizeof(pt);
	EVP_PKEY *sk = material_privkey();

	(void)state;
	import_pair(s, &pub, &priv);
	encrypt(s, pub, &m, msg, MSG_LEN, ct);
	assert_rv(CKR_OK, decrypt(s, priv, &m, ct, K, pt, &len));
	assert_int_equal(len, MSG_LEN);
	assert_memory_equal(pt, msg, MSG_LEN);
	assert_int_equal(openssl_decrypt(sk, RSA_PKCS1_OAEP_PADDING, "SHA256",
					 "a label", ct, pt),
			 MSG_LEN);
	/* another label, or none, does not decrypt it */
	m = oaep_mech(&p, &oaep_hashes[2], "another");
	len = sizeof(pt);
	assert_rv(CKR_ENCRYPTED_DATA_INVALID,
		  decrypt(s, priv, &m, ct, K, pt, &len));
	m = oaep_mech(&p, &oaep_hashes[2], NULL);
	len = sizeof(pt);
	assert_rv(CKR_ENCRYPTED_DATA_INVALID,
		  decrypt(s, priv, &m, ct, K, pt, &len));
	EVP_PKEY_free(sk);
}

static void test_rsa_oaep__bad_parameters_fail(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM m;

	(void)state;
	import_pair(s, &pub, &priv);
	m = oaep_mech(&p, &oaep_hashes[2], NULL);
	m.ulParameterLen = sizeof(p) - 1;
	assert_rv(CKR_MECHANISM_PARAM_INVALID, p11->C_EncryptInit(s, &m, pub));
	m.pParameter = NULL;
	m.ulParameterLen = 0;
	assert_rv(CKR_MECHANISM_PARAM_INVALID, p11->C_EncryptInit(s, &m, pub));
	m = oaep_mech(&p, &oaep_hashes[2], NULL);
	p.hash_alg = CKM_MD5;
	assert_rv(CKR_MECHANISM_PARAM_INVALID, p11->C_EncryptInit(s, &m, pub));
	assert_rv(CKR_MECHANISM_PARAM_INVALID, p11->C_DecryptInit(s, &m, priv));
	m = oaep_mech(&p, &oaep_hashes[2], NULL);
	p.mgf = 0x7777;
	assert_rv(CKR_MECHANISM_PARAM_INVALID, p11->C_EncryptInit(s, &m, pub));
	m = oaep_mech(&p, &oaep_hashes[2], "label");
	p.source = 0x7777;
	assert_rv(CKR_MECHANISM_PARAM_INVALID, p11->C_EncryptInit(s, &m, pub));
	m = oaep_mech(&p, &oaep_hashes[2], NULL);
	p.source_data_len = 5; /* with a NULL label */
	assert_rv(CKR_MECHANISM_PARAM_INVALID, p11->C_EncryptInit(s, &m, pub));
}

static void test_rsa_decrypt__openssl_ciphertext(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char ct[K], pt[K];
	CK_ULONG len;
	EVP_PKEY *pk;
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM oaep = oaep_mech(&p, &oaep_hashes[0], NULL);
	CK_MECHANISM pkcs = {CKM_RSA_PKCS, NULL, 0};

	(void)state;
	import_pair(s, &pub, &priv);
	pk = token_pubkey(s, pub);
	openssl_encrypt(pk, RSA_PKCS1_PADDING, NULL, NULL, msg, MSG_LEN, ct);
	len = sizeof(pt);
	assert_rv(CKR_OK, decrypt(s, priv, &pkcs, ct, K, pt, &len));
	assert_int_equal(len, MSG_LEN);
	assert_memory_equal(pt, msg, MSG_LEN);
	openssl_encrypt(pk, RSA_PKCS1_OAEP_PADDING, "SHA1", NULL, msg, MSG_LEN,
			ct);
	len = sizeof(pt);
	assert_rv(CKR_OK, decrypt(s, priv, &oaep, ct, K, pt, &len));
	assert_int_equal(len, MSG_LEN);
	assert_memory_equal(pt, msg, MSG_LEN);
	EVP_PKEY_free(pk);
}

static void test_rsa_encrypt__pkcs_and_raw_round_trip(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char ct[K], pt[K];
	CK_ULONG len;
	CK_MECHANISM pkcs = {CKM_RSA_PKCS, NULL, 0};
	CK_MECHANISM x509 = {CKM_RSA_X_509, NULL, 0};
	EVP_PKEY *sk = material_privkey();

	(void)state;
	import_pair(s, &pub, &priv);
	encrypt(s, pub, &pkcs, msg, MSG_LEN, ct);
	len = sizeof(pt);
	assert_rv(CKR_OK, decrypt(s, priv, &pkcs, ct, K, pt, &len));
	assert_int_equal(len, MSG_LEN);
	assert_memory_equal(pt, msg, MSG_LEN);
	assert_int_equal(
	    openssl_decrypt(sk, RSA_PKCS1_PADDING, NULL, NULL, ct, pt),
	    MSG_LEN);
	assert_memory_equal(pt, msg, MSG_LEN);
	/* raw: k bytes out, the input with leading zeros */
	encrypt(s, pub, &x509, msg, MSG_LEN, ct);
	len = sizeof(pt);
	assert_rv(CKR_OK, decrypt(s, priv, &x509, ct, K, pt, &len));
	assert_int_equal(len, K);
	assert_memory_equal(pt + K - MSG_LEN, msg, MSG_LEN);
	EVP_PKEY_free(sk);
}

static void test_rsa_encrypt__length_query_and_retry(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char ct[K], pt[K];
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM oaep = oaep_mech(&p, &oaep_hashes[0], NULL);
	CK_MECHANISM pkcs = {CKM_RSA_PKCS, NULL, 0};
	CK_MECHANISM x509 = {CKM_RSA_X_509, NULL, 0};
	CK_MECHANISM *mechs[] = {&oaep, &pkcs, &x509};

	(void)state;
	import_pair(s, &pub, &priv);
	for (size_t i = 0; i < NELEM(mechs); i++) {
		CK_ULONG len = 0;
		assert_rv(CKR_OK, p11->C_EncryptInit(s, mechs[i], pub));
		assert_rv(CKR_OK, p11->C_Encrypt(s, (CK_BYTE_PTR)msg, MSG_LEN,
						 NULL, &len));
		assert_int_equal(len, K);
		len = K - 1;
		assert_rv(
		    CKR_BUFFER_TOO_SMALL,
		    p11->C_Encrypt(s, (CK_BYTE_PTR)msg, MSG_LEN, ct, &len));
		assert_int_equal(len, K);
		assert_rv(CKR_OK, p11->C_Encrypt(s, (CK_BYTE_PTR)msg, MSG_LEN,
						 ct, &len));
		assert_int_equal(len, K);
		len = sizeof(pt);
		assert_rv(CKR_OK, decrypt(s, priv, mechs[i], ct, K, pt, &len));
		assert_memory_equal(pt + len - MSG_LEN, msg, MSG_LEN);
	}
}

static void test_rsa_decrypt__length_query_and_retry(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char ct[K], pt[K];
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM oaep = oaep_mech(&p, &oaep_hashes[0], NULL);
	CK_MECHANISM pkcs = {CKM_RSA_PKCS, NULL, 0};
	CK_MECHANISM *mechs[] = {&oaep, &pkcs};

	(void)state;
	import_pair(s, &pub, &priv);
	for (size_t i = 0; i < NELEM(mechs); i++) {
		CK_ULONG len = 0;
		encrypt(s, pub, mechs[i], msg, MSG_LEN, ct);
		assert_rv(CKR_OK, p11->C_DecryptInit(s, mechs[i], priv));
		assert_rv(CKR_OK, p11->C_Decrypt(s, ct, K, NULL, &len));
		assert_true(len >= MSG_LEN);
		len = 3;
		assert_rv(CKR_BUFFER_TOO_SMALL,
			  p11->C_Decrypt(s, ct, K, pt, &len));
		assert_int_equal(len, MSG_LEN);
		assert_rv(CKR_OK, p11->C_Decrypt(s, ct, K, pt, &len));
		assert_int_equal(len, MSG_LEN);
		assert_memory_equal(pt, msg, MSG_LEN);
		assert_rv(CKR_OPERATION_NOT_INITIALIZED,
			  p11->C_Decrypt(s, ct, K, pt, &len));
	}
}

static void test_rsa_decrypt__bad_ciphertext_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char ct[K + 1], pt[K];
	CK_ULONG len = sizeof(pt);
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM oaep = oaep_mech(&p, &oaep_hashes[0], NULL);
	CK_MECHANISM x509 = {CKM_RSA_X_509, NULL, 0};

	(void)state;
	import_pair(s, &pub, &priv);
	encrypt(s, pub, &oaep, msg, MSG_LEN, ct);
	ct[K] = 0;
	assert_rv(CKR_ENCRYPTED_DATA_LEN_RANGE,
		  decrypt(s, priv, &oaep, ct, K - 1, pt, &len));
	len = sizeof(pt);
	assert_rv(CKR_ENCRYPTED_DATA_LEN_RANGE,
		  decrypt(s, priv, &oaep, ct, K + 1, pt, &len));
	ct[K / 2] ^= 0x04;
	len = sizeof(pt);
	assert_rv(CKR_ENCRYPTED_DATA_INVALID,
		  decrypt(s, priv, &oaep, ct, K, pt, &len));
	/* raw: a value not below the modulus */
	memset(ct, 0xff, K);
	len = sizeof(pt);
	assert_rv(CKR_ENCRYPTED_DATA_INVALID,
		  decrypt(s, priv, &x509, ct, K, pt, &len));
}

static void test_rsa_encrypt__input_too_long_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	unsigned char in[K + 1], ct[K];
	CK_ULONG len = sizeof(ct);
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM oaep = oaep_mech(&p, &oaep_hashes[0], NULL);
	CK_MECHANISM pkcs = {CKM_RSA_PKCS, NULL, 0};
	CK_MECHANISM x509 = {CKM_RSA_X_509, NULL, 0};

	(void)state;
	memset(in, 0x01, sizeof(in));
	import_pair(s, &pub, &priv);
	assert_rv(CKR_OK, p11->C_EncryptInit(s, &pkcs, pub));
	assert_rv(CKR_DATA_LEN_RANGE, p11->C_Encrypt(s, in, K - 10, ct, &len));
	/* OAEP SHA-1 takes k - 2 * 20 - 2 bytes at most */
	assert_rv(CKR_OK, p11->C_EncryptInit(s, &oaep, pub));
	assert_rv(CKR_DATA_LEN_RANGE, p11->C_Encrypt(s, in, K - 41, ct, &len));
	assert_rv(CKR_OK, p11->C_EncryptInit(s, &oaep, pub));
	len = sizeof(ct);
	assert_rv(CKR_OK, p11->C_Encrypt(s, in, K - 42, ct, &len));
	assert_rv(CKR_OK, p11->C_EncryptInit(s, &x509, pub));
	assert_rv(CKR_DATA_LEN_RANGE, p11->C_Encrypt(s, in, K + 1, ct, &len));
}

/* ---- wrapping --------------------------------------------------------------
 */

/* The harness's material as a pair that only wraps and unwraps, the
 * private half readable (so that what it unwraps may be readable too). */
static void import_wrap_pair(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *pub,
			     CK_OBJECT_HANDLE *priv)
{
	const struct api_rsa *r = api_rsa_material();
	CK_ATTRIBUTE pt[] = {
	    ATTR(CKA_CLASS, &cls_pub),
	    ATTR(CKA_KEY_TYPE, &kt_rsa),
	    ATTR(CKA_WRAP, &api_true),
	    ATTR(CKA_ENCRYPT, &api_false),
	    ATTR_BUF(CKA_MODULUS, r->n, r->n_len),
	    ATTR_BUF(CKA_PUBLIC_EXPONENT, r->e, r->e_len),
	};
	CK_ATTRIBUTE vt[] = {
	    ATTR(CKA_CLASS, &cls_priv),
	    ATTR(CKA_KEY_TYPE, &kt_rsa),
	    ATTR(CKA_PRIVATE, &api_true),
	    ATTR(CKA_SENSITIVE, &api_false),
	    ATTR(CKA_EXTRACTABLE, &api_true),
	    ATTR(CKA_UNWRAP, &api_true),
	    ATTR(CKA_DECRYPT, &api_false),
	    ATTR_BUF(CKA_MODULUS, r->n, r->n_len),
	    ATTR_BUF(CKA_PUBLIC_EXPONENT, r->e, r->e_len),
	    ATTR_BUF(CKA_PRIVATE_EXPONENT, r->d, r->d_len),
	    ATTR_BUF(CKA_PRIME_1, r->p, r->p_len),
	    ATTR_BUF(CKA_PRIME_2, r->q, r->q_len),
	    ATTR_BUF(CKA_EXPONENT_1, r->dp, r->dp_len),
	    ATTR_BUF(CKA_EXPONENT_2, r->dq, r->dq_len),
	    ATTR_BUF(CKA_COEFFICIENT, r->qi, r->qi_len),
	};

	assert_rv(CKR_OK, p11->C_CreateObject(s, pt, NELEM(pt), pub));
	assert_rv(CKR_OK, p11->C_CreateObject(s, vt, NELEM(vt), priv));
}

static const CK_OBJECT_CLASS cls_secret = CKO_SECRET_KEY;
static const CK_KEY_TYPE kt_generic = CKK_GENERIC_SECRET;
static const unsigned char secret_value[32] = {
    0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae,
    0xf0, 0x85, 0x7d, 0x77, 0x81, 0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61,
    0x08, 0xd7, 0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4};

/* A readable generic secret to wrap. */
static CK_OBJECT_HANDLE readable_secret(CK_SESSION_HANDLE s)
{
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret),
	    ATTR(CKA_KEY_TYPE, &kt_generic),
	    ATTR(CKA_SENSITIVE, &api_false),
	    ATTR(CKA_EXTRACTABLE, &api_true),
	    ATTR_BUF(CKA_VALUE, secret_value, sizeof(secret_value)),
	};
	CK_OBJECT_HANDLE h;

	assert_rv(CKR_OK, p11->C_CreateObject(s, t, NELEM(t), &h));
	return h;
}

static CK_RV unwrap_readable(CK_SESSION_HANDLE s, CK_MECHANISM *m,
			     CK_OBJECT_HANDLE priv, unsigned char *blob,
			     CK_ULONG len, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret),
	    ATTR(CKA_KEY_TYPE, &kt_generic),
	    ATTR(CKA_SENSITIVE, &api_false),
	    ATTR(CKA_EXTRACTABLE, &api_true),
	};

	return p11->C_UnwrapKey(s, m, priv, blob, len, t, NELEM(t), out);
}

static void test_rsa_wrap__round_trip(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv, key, back;
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM oaep = oaep_mech(&p, &oaep_hashes[0], NULL);
	CK_MECHANISM pkcs = {CKM_RSA_PKCS, NULL, 0};
	CK_MECHANISM *mechs[] = {&oaep, &pkcs};
	int pads[] = {RSA_PKCS1_OAEP_PADDING, RSA_PKCS1_PADDING};
	unsigned char blob[K], value[64];
	EVP_PKEY *sk = material_privkey();

	(void)state;
	import_wrap_pair(s, &pub, &priv);
	key = readable_secret(s);
	for (size_t i = 0; i < NELEM(mechs); i++) {
		CK_ULONG len = 0, vlen = sizeof(value);
		assert_rv(CKR_OK,
			  p11->C_WrapKey(s, mechs[i], pub, key, NULL, &len));
		assert_int_equal(len, K);
		len = K - 1;
		assert_rv(CKR_BUFFER_TOO_SMALL,
			  p11->C_WrapKey(s, mechs[i], pub, key, blob, &len));
		assert_int_equal(len, K);
		assert_rv(CKR_OK,
			  p11->C_WrapKey(s, mechs[i], pub, key, blob, &len));
		assert_int_equal(len, K);
		/* OpenSSL finds the key's value in the blob */
		assert_int_equal(openssl_decrypt(sk, pads[i],
						 i == 0 ? "SHA1" : NULL, NULL,
						 blob, value),
				 sizeof(secret_value));
		assert_memory_equal(value, secret_value, sizeof(secret_value));
		assert_rv(CKR_OK,
			  unwrap_readable(s, mechs[i], priv, blob, len, &back));
		assert_rv(CKR_OK,
			  api_get_bytes(s, back, CKA_VALUE, value, &vlen));
		assert_int_equal(vlen, sizeof(secret_value));
		assert_memory_equal(value, secret_value, sizeof(secret_value));
	}
	EVP_PKEY_free(sk);
}

static void test_rsa_unwrap__bad_blob_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv, key, back;
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM oaep = oaep_mech(&p, &oaep_hashes[0], NULL);
	unsigned char blob[K + 1];
	CK_ULONG len = K;

	(void)state;
	import_wrap_pair(s, &pub, &priv);
	key = readable_secret(s);
	assert_rv(CKR_OK, p11->C_WrapKey(s, &oaep, pub, key, blob, &len));
	blob[K] = 0;
	assert_rv(CKR_WRAPPED_KEY_LEN_RANGE,
		  unwrap_readable(s, &oaep, priv, blob, K - 1, &back));
	assert_rv(CKR_WRAPPED_KEY_LEN_RANGE,
		  unwrap_readable(s, &oaep, priv, blob, K + 1, &back));
	blob[K / 2] ^= 0x01;
	assert_rv(CKR_WRAPPED_KEY_INVALID,
		  unwrap_readable(s, &oaep, priv, blob, K, &back));
}

/* ---- key checks and operation state ------------------------------------ */

static void test_rsa__wrong_key_type_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE aes, ec_pub, ec_priv;
	CK_MECHANISM sign_m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_MECHANISM pkcs = {CKM_RSA_PKCS, NULL, 0};
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM oaep = oaep_mech(&p, &oaep_hashes[0], NULL);

	(void)state;
	assert_rv(CKR_OK,
		  api_create_aes(s, CK_FALSE, CK_TRUE, CK_FALSE, "aes", &aes));
	assert_rv(CKR_OK,
		  api_create_ec_pair(s, CK_FALSE, "ec", &ec_pub, &ec_priv));
	assert_rv(CKR_KEY_TYPE_INCONSISTENT,
		  p11->C_SignInit(s, &sign_m, ec_priv));
	assert_rv(CKR_KEY_TYPE_INCONSISTENT,
		  p11->C_VerifyInit(s, &sign_m, ec_pub));
	assert_rv(CKR_KEY_TYPE_INCONSISTENT, p11->C_SignInit(s, &pkcs, aes));
	assert_rv(CKR_KEY_TYPE_INCONSISTENT, p11->C_EncryptInit(s, &oaep, aes));
	assert_rv(CKR_KEY_TYPE_INCONSISTENT, p11->C_DecryptInit(s, &pkcs, aes));
}

static void test_rsa__public_key_cannot_sign(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_MECHANISM pkcs = {CKM_RSA_PKCS, NULL, 0};

	(void)state;
	import_pair(s, &pub, &priv);
	/* Either code fits: a public key is the wrong kind of key, and it
	 * has no CKA_SIGN / CKA_DECRYPT. */
	assert_rv_either(CKR_KEY_TYPE_INCONSISTENT,
			 CKR_KEY_FUNCTION_NOT_PERMITTED,
			 p11->C_SignInit(s, &m, pub));
	assert_rv_either(CKR_KEY_TYPE_INCONSISTENT,
			 CKR_KEY_FUNCTION_NOT_PERMITTED,
			 p11->C_DecryptInit(s, &pkcs, pub));
}

static void test_rsa__usage_not_permitted_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM oaep = oaep_mech(&p, &oaep_hashes[0], NULL);

	(void)state;
	import_pair_with(s, CK_FALSE, CK_FALSE, &pub, &priv);
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED,
		  p11->C_DecryptInit(s, &oaep, priv));
}

static void test_rsa__init_while_active_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_RSA_PKCS_OAEP_PARAMS p;
	CK_MECHANISM oaep = oaep_mech(&p, &oaep_hashes[0], NULL);
	unsigned char sig[K], ct[K], pt[K];
	CK_ULONG len = sizeof(sig);

	(void)state;
	import_pair(s, &pub, &priv);
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OPERATION_ACTIVE, p11->C_SignInit(s, &m, priv));
	/* the first operation is untouched */
	assert_rv(CKR_OK, p11->C_Sign(s, (CK_BYTE_PTR)msg, MSG_LEN, sig, &len));
	assert_rv(CKR_OK, verify(s, pub, sign_mech(CKM_SHA256_RSA_PKCS), msg,
				 MSG_LEN, sig, len));
	assert_rv(CKR_OK, p11->C_EncryptInit(s, &oaep, pub));
	assert_rv(CKR_OPERATION_ACTIVE, p11->C_EncryptInit(s, &oaep, pub));
	len = sizeof(ct);
	assert_rv(CKR_OK,
		  p11->C_Encrypt(s, (CK_BYTE_PTR)msg, MSG_LEN, ct, &len));
	assert_rv(CKR_OK, p11->C_DecryptInit(s, &oaep, priv));
	assert_rv(CKR_OPERATION_ACTIVE, p11->C_DecryptInit(s, &oaep, priv));
	len = sizeof(pt);
	assert_rv(CKR_OK, p11->C_Decrypt(s, ct, K, pt, &len));
	assert_int_equal(len, MSG_LEN);
	assert_memory_equal(pt, msg, MSG_LEN);
}

/* ---- mechanism information --------------------------------------------- */

static const struct {
	CK_MECHANISM_TYPE type;
	CK_FLAGS flags;
} mech_flags[] = {
    {CKM_RSA_PKCS_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR},
    {CKM_RSA_PKCS, CKF_SIGN | CKF_VERIFY | CKF_SIGN_RECOVER |
		       CKF_VERIFY_RECOVER | CKF_ENCRYPT | CKF_DECRYPT |
		       CKF_WRAP | CKF_UNWRAP},
    {CKM_RSA_X_509, CKF_SIGN | CKF_VERIFY | CKF_SIGN_RECOVER |
			CKF_VERIFY_RECOVER | CKF_ENCRYPT | CKF_DECRYPT},
    {CKM_RSA_PKCS_OAEP, CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP},
    {CKM_RSA_PKCS_PSS, CKF_SIGN | CKF_VERIFY},
};

static void test_rsa_mechanisms__all_listed(void **state)
{
	CK_MECHANISM_INFO info;

	(void)state;
	for (size_t i = 0; i < NELEM(sign_mechs); i++)
		if (p11->C_GetMechanismInfo(api_slot, sign_mechs[i].type,
					    &info) != CKR_OK)
			fail_msg("mechanism 0x%lx missing", sign_mechs[i].type);
	for (size_t i = 0; i < NELEM(mech_flags); i++)
		assert_rv(CKR_OK, p11->C_GetMechanismInfo(
				      api_slot, mech_flags[i].type, &info));
}

/* coffer's values exactly; for another module, that it can do what the
 * rest of this suite uses (SoftHSMv2 makes keys from 512 bits and has no
 * sign/verify recover, which is its own truthful answer). */
static void assert_info(CK_MECHANISM_TYPE t, CK_FLAGS flags)
{
	CK_MECHANISM_INFO info;
	const CK_FLAGS recover = CKF_SIGN_RECOVER | CKF_VERIFY_RECOVER;

	assert_rv(CKR_OK, p11->C_GetMechanismInfo(api_slot, t, &info));
	if (api_is_softhsm()) {
		assert_true(info.ulMinKeySize <= 1024);
		assert_true(info.ulMaxKeySize >= 4096);
		assert_int_equal(info.flags & (flags & ~recover),
				 flags & ~recover);
		return;
	}
	assert_int_equal(info.ulMinKeySize, 1024);
	assert_int_equal(info.ulMaxKeySize, 16384);
	assert_int_equal(info.flags, flags);
}

static void test_rsa_mechanisms__info_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(mech_flags); i++)
		assert_info(mech_flags[i].type, mech_flags[i].flags);
	for (size_t i = 0; i < NELEM(sign_mechs); i++)
		if (is_multi(&sign_mechs[i]) && module_has(sign_mechs[i].type))
			assert_info(sign_mechs[i].type, CKF_SIGN | CKF_VERIFY);
}

int main(int argc, char **argv)
{
#define T(f) cmocka_unit_test_setup_teardown(f, api_setup_token, api_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_rsa_keygen__attributes),
	    T(test_rsa_keygen__public_key_info),
	    T(test_rsa_keygen__pair_signs_and_verifies),
	    T(test_rsa_keygen__exponent_from_template),
	    T(test_rsa_keygen__bad_size_fails),
	    T(test_rsa_keygen__bad_exponent_fails),
	    T(test_rsa_keygen__missing_bits_fails),
	    T(test_rsa_sign__round_trip_every_mechanism),
	    T(test_rsa_sign__changed_data_fails),
	    T(test_rsa_sign__multipart_equals_single_part),
	    T(test_rsa_sign__single_part_mechanisms_refuse_update),
	    T(test_rsa_sign__length_query_and_retry),
	    T(test_rsa_sign__final_length_query_and_retry),
	    T(test_rsa_sign__input_too_long_fails),
	    T(test_rsa_verify__wrong_signature_length_fails),
	    T(test_rsa_pss__bad_parameters_fail),
	    T(test_rsa_pkcs__parameters_refused),
	    T(test_rsa_recover__round_trip),
	    T(test_rsa_oaep__round_trip_each_hash),
	    T(test_rsa_oaep__sha2_round_trip),
	    T(test_rsa_oaep__label),
	    T(test_rsa_oaep__bad_parameters_fail),
	    T(test_rsa_decrypt__openssl_ciphertext),
	    T(test_rsa_encrypt__pkcs_and_raw_round_trip),
	    T(test_rsa_encrypt__length_query_and_retry),
	    T(test_rsa_decrypt__length_query_and_retry),
	    T(test_rsa_decrypt__bad_ciphertext_fails),
	    T(test_rsa_encrypt__input_too_long_fails),
	    T(test_rsa_wrap__round_trip),
	    T(test_rsa_unwrap__bad_blob_fails),
	    T(test_rsa__wrong_key_type_fails),
	    T(test_rsa__public_key_cannot_sign),
	    T(test_rsa__usage_not_permitted_fails),
	    T(test_rsa__init_while_active_fails),
	    T(test_rsa_mechanisms__all_listed),
	    T(test_rsa_mechanisms__info_values),
	};

	return api_run(argc, argv, "rsa", tests, NELEM(tests));
}
