/*
 * test_ec.c - the elliptic-curve mechanisms (PKCS#11 v3.0 Current
 * Mechanisms 2.3): EC, Edwards and Montgomery key pair generation, ECDSA
 * with and without hashing, EdDSA (RFC 8032 known answers), ECDH with the
 * X9.63 KDFs and X25519 (RFC 7748 known answer). Signatures and derived
 * secrets are checked independently with OpenSSL in this program.
 */
#include "harness.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

static CK_OBJECT_CLASS cls_secret = CKO_SECRET_KEY;

/* ---- curves ----------------------------------------------------------- */

static const uint8_t oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
				   0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t oid_p521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
static const uint8_t oid_k256[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
static const uint8_t oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const uint8_t oid_ed448[] = {0x06, 0x03, 0x2b, 0x65, 0x71};
static const uint8_t oid_x25519[] = {0x06, 0x03, 0x2b, 0x65, 0x6e};
static const uint8_t oid_x448[] = {0x06, 0x03, 0x2b, 0x65, 0x6f};
/* v3.0 2.3.5: a PrintableString curve name. */
static const uint8_t name_ed25519[] = {0x13, 0x0c, 'e', 'd', 'w', 'a', 'r',
				       'd', 's', '2', '5', '5', '1', '9'};
static const uint8_t name_p256[] = {0x13, 0x0a, 'p', 'r', 'i', 'm', 'e',
				    '2', '5', '6', 'v', '1'};

struct curve {
	const char *name; /* OpenSSL group or key type */
	CK_MECHANISM_TYPE gen;
	CK_KEY_TYPE kt;
	const uint8_t *params;
	size_t params_len;
	size_t point_len; /* raw point / public key bytes */
};

#define CURVE(n, g, k, o, pl) {n, g, k, o, sizeof(o), pl}
static const struct curve ec_curves[] = {
    CURVE("prime256v1", CKM_EC_KEY_PAIR_GEN, CKK_EC, oid_p256, 65),
    CURVE("secp384r1", CKM_EC_KEY_PAIR_GEN, CKK_EC, oid_p384, 97),
    CURVE("secp521r1", CKM_EC_KEY_PAIR_GEN, CKK_EC, oid_p521, 133),
    CURVE("secp256k1", CKM_EC_KEY_PAIR_GEN, CKK_EC, oid_k256, 65),
};
static const struct curve ed25519 = CURVE(
    "ED25519", CKM_EC_EDWARDS_KEY_PAIR_GEN, CKK_EC_EDWARDS, oid_ed25519, 32);
static const struct curve ed448 = CURVE("ED448", CKM_EC_EDWARDS_KEY_PAIR_GEN,
					CKK_EC_EDWARDS, oid_ed448, 57);
static const struct curve x25519 = CURVE(
    "X25519", CKM_EC_MONTGOMERY_KEY_PAIR_GEN, CKK_EC_MONTGOMERY, oid_x25519, 32);
static const struct curve x448 = CURVE(
    "X448", CKM_EC_MONTGOMERY_KEY_PAIR_GEN, CKK_EC_MONTGOMERY, oid_x448, 56);

/* ---- helpers ---------------------------------------------------------- */

static void hex(const char *h, uint8_t *out, size_t *n)
{
	*n = 0;
	while (h[0] != '\0' && h[1] != '\0') {
		unsigned v;
		assert_int_equal(sscanf(h, "%2x", &v), 1);
		out[(*n)++] = (uint8_t)v;
		h += 2;
	}
}

static CK_SESSION_HANDLE user_rw(void)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	api_login(s, CKU_USER);
	return s;
}

static CK_RV gen_pair_rv(CK_SESSION_HANDLE s, const struct curve *c,
			 const uint8_t *params, size_t plen, CK_BBOOL sign,
			 CK_BBOOL derive, CK_OBJECT_HANDLE *pub,
			 CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM m = {c->gen, NULL, 0};
	CK_BBOOL verify = sign;
	/* The ECDH tests read what they derive, and coffer's policy lets a
	 * readable key come only from a readable base (docs/security.md,
	 * "Key roles and wrapping", rule 3): derive-only keys are readable. */
	CK_BBOOL readable = derive && !sign;
	CK_BBOOL sensitive = !readable;
	CK_BBOOL extractable = readable;
	CK_ATTRIBUTE pt[] = {
	    ATTR(CKA_TOKEN, &api_false),
	    ATTR(CKA_VERIFY, &verify),
	    ATTR(CKA_DERIVE, &derive),
	    ATTR_BUF(CKA_EC_PARAMS, params, plen),
	};
	CK_ATTRIBUTE kt[] = {
	    ATTR(CKA_TOKEN, &api_false),
	    ATTR(CKA_PRIVATE, &api_true),
	    ATTR(CKA_SENSITIVE, &sensitive),
	    ATTR(CKA_EXTRACTABLE, &extractable),
	    ATTR(CKA_SIGN, &sign),
	    ATTR(CKA_DERIVE, &derive),
	};

	return p11->C_GenerateKeyPair(s, &m, pt, params != NULL ? 4 : 3, kt,
				      NELEM(kt), pub, priv);
}

static void gen_pair(CK_SESSION_HANDLE s, const struct curve *c,
		     CK_BBOOL sign, CK_BBOOL derive, CK_OBJECT_HANDLE *pub,
		     CK_OBJECT_HANDLE *priv)
{
	assert_rv(CKR_OK, gen_pair_rv(s, c, c->params, c->params_len, sign,
				      derive, pub, priv));
}

/* The raw point inside the DER OCTET STRING of CKA_EC_POINT. */
static size_t read_point(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub,
			 uint8_t *pt, size_t cap)
{
	uint8_t der[256];
	CK_ULONG len = sizeof(der);
	const unsigned char *p = der;
	ASN1_OCTET_STRING *os;
	size_t n;

	assert_rv(CKR_OK, api_get_bytes(s, pub, CKA_EC_POINT, der, &len));
	os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)len);
	assert_non_null(os);
	assert_ptr_equal(p, der + len);
	n = (size_t)ASN1_STRING_length(os);
	assert_true(n <= cap);
	memcpy(pt, ASN1_STRING_get0_data(os), n);
	ASN1_OCTET_STRING_free(os);
	return n;
}

/* An OpenSSL public key built from the raw point alone. */
static EVP_PKEY *openssl_pub(const struct curve *c, const uint8_t *pt,
			     size_t n)
{
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx;
	OSSL_PARAM params[3];

	if (c->kt != CKK_EC) {
		pk = EVP_PKEY_new_raw_public_key_ex(NULL, c->name, NULL, pt, n);
		assert_non_null(pk);
		return pk;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)c->name, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
						      (void *)pt, n);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params), 1);
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

/* r || s to the DER ECDSA-Sig-Value OpenSSL verifies. */
static int rs_to_der(const uint8_t *rs, size_t n, unsigned char **der)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, (int)(n / 2), NULL);
	BIGNUM *s = BN_bin2bn(rs + n / 2, (int)(n / 2), NULL);
	int len;

	assert_non_null(sig);
	assert_int_equal(ECDSA_SIG_set0(sig, r, s), 1);
	*der = NULL;
	len = i2d_ECDSA_SIG(sig, der);
	assert_true(len > 0);
	ECDSA_SIG_free(sig);
	return len;
}

/* The value of a derived secret (made extractable and not sensitive). */
static size_t read_value(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k, uint8_t *v,
			 size_t cap)
{
	CK_ULONG len = (CK_ULONG)cap;

	assert_rv(CKR_OK, api_get_bytes(s, k, CKA_VALUE, v, &len));
	return len;
}

static CK_RV derive_rv(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech,
		       CK_OBJECT_HANDLE base, CK_ULONG kdf,
		       const uint8_t *shared, size_t sl, const uint8_t *peer,
		       size_t pl, CK_KEY_TYPE kt, CK_ULONG value_len,
		       CK_OBJECT_HANDLE *out)
{
	CK_ECDH1_DERIVE_PARAMS p = {kdf, (CK_ULONG)sl, (CK_BYTE_PTR)shared,
				    (CK_ULONG)pl, (CK_BYTE_PTR)peer};
	CK_MECHANISM m = {mech, &p, sizeof(p)};
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret), ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_TOKEN, &api_false),  ATTR(CKA_SENSITIVE, &api_false),
	    ATTR(CKA_EXTRACTABLE, &api_true), ATTR(CKA_VALUE_LEN, &value_len),
	};

	return p11->C_DeriveKey(s, &m, base, t, value_len ? 6 : 5, out);
}

static CK_OBJECT_HANDLE create_ec_key(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
				      CK_KEY_TYPE kt, const uint8_t *params,
				      size_t plen, CK_ATTRIBUTE_TYPE vt,
				      const uint8_t *v, size_t vl)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	/* Known test keys are readable, so what they derive may be too (the
	 * policy's rule 3); a public key has neither attribute. */
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls),	  ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_TOKEN, &api_false),  ATTR(CKA_DERIVE, &api_true),
	    ATTR_BUF(CKA_EC_PARAMS, params, plen), ATTR_BUF(vt, v, vl),
	    ATTR(CKA_SENSITIVE, &api_false), ATTR(CKA_EXTRACTABLE, &api_true),
	};
	CK_ULONG n = cls == CKO_PRIVATE_KEY ? NELEM(t) : NELEM(t) - 2;

	assert_rv(CKR_OK, p11->C_CreateObject(s, t, n, &h));
	return h;
}

/* An OCTET STRING around a point of up to 125 bytes. */
static size_t der_wrap(const uint8_t *pt, size_t n, uint8_t *out)
{
	assert_true(n < 128);
	out[0] = 0x04;
	out[1] = (uint8_t)n;
	memcpy(out + 2, pt, n);
	return n + 2;
}

/* ---- key pair generation ---------------------------------------------- */

/* CKA_PUBLIC_KEY_INFO of key h holds the public key pt. */
static void check_spki(CK_SESSION_HANDLE s, const struct curve *c,
		       CK_OBJECT_HANDLE h, const uint8_t *pt, size_t n)
{
	uint8_t buf[512], raw[160];
	size_t rawl = sizeof(raw);
	CK_ULONG len = sizeof(buf);
	const unsigned char *p = buf;
	EVP_PKEY *pk;

	assert_rv(CKR_OK, api_get_bytes(s, h, CKA_PUBLIC_KEY_INFO, buf, &len));
	pk = d2i_PUBKEY(NULL, &p, (long)len);
	assert_non_null(pk);
	if (c->kt == CKK_EC)
		assert_int_equal(
		    EVP_PKEY_get_octet_string_param(
			pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, raw,
			sizeof(raw), &rawl),
		    1);
	else
		assert_int_equal(EVP_PKEY_get_raw_public_key(pk, raw, &rawl),
				 1);
	assert_int_equal(rawl, n);
	assert_memory_equal(raw, pt, n);
	/* Byte for byte what OpenSSL itself writes for the key (RFC 5480,
	 * RFC 8410): other software compares these DER blobs. */
	{
		unsigned char *der = NULL;
		int dl = i2d_PUBKEY(pk, &der);

		assert_true(dl > 0);
		assert_int_equal((CK_ULONG)dl, len);
		assert_memory_equal(der, buf, len);
		OPENSSL_free(der);
	}
	EVP_PKEY_free(pk);
}

static void check_generated(CK_SESSION_HANDLE s, const struct curve *c,
			    CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv,
			    const uint8_t *params, size_t plen)
{
	uint8_t pt[256], buf[512];
	size_t n = read_point(s, pub, pt, sizeof(pt));
	CK_ULONG len;
	CK_BBOOL local = CK_FALSE;
	CK_ATTRIBUTE val = {CKA_VALUE, buf, sizeof(buf)};

	assert_int_equal(n, c->point_len);
	assert_rv(CKR_OK, api_get_bool(s, pub, CKA_LOCAL, &local));
	assert_true(local);
	local = CK_FALSE;
	assert_rv(CKR_OK, api_get_bool(s, priv, CKA_LOCAL, &local));
	assert_true(local);
	/* The private half keeps the curve as the caller gave it. */
	len = sizeof(buf);
	assert_rv(CKR_OK, api_get_bytes(s, priv, CKA_EC_PARAMS, buf, &len));
	assert_int_equal(len, plen);
	assert_memory_equal(buf, params, plen);
	assert_rv(CKR_ATTRIBUTE_SENSITIVE,
		  p11->C_GetAttributeValue(s, priv, &val, 1));
}

static void keygen_each(const struct curve *cs, size_t n)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;

	for (size_t i = 0; i < n; i++) {
		gen_pair(s, &cs[i], CK_TRUE, CK_TRUE, &pub, &priv);
		check_generated(s, &cs[i], pub, priv, cs[i].params,
				cs[i].params_len);
	}
}

static void test_keygen__ec_every_curve(void **state)
{
	(void)state;
	keygen_each(ec_curves, NELEM(ec_curves));
}

static void test_keygen__ed25519(void **state)
{
	(void)state;
	keygen_each(&ed25519, 1);
}

static void test_keygen__ed448(void **state)
{
	(void)state;
	keygen_each(&ed448, 1);
}

static void test_keygen__x25519(void **state)
{
	(void)state;
	keygen_each(&x25519, 1);
}

static void test_keygen__x448(void **state)
{
	(void)state;
	keygen_each(&x448, 1);
}

/* Both halves carry the DER SubjectPublicKeyInfo of the public key. */
static void test_keygen__public_key_info(void **state)
{
	const struct curve *cs[] = {&ec_curves[0], &ec_curves[2], &ed25519,
				    &ed448};
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	uint8_t pt[256];
	size_t n;

	(void)state;
	for (size_t i = 0; i < NELEM(cs); i++) {
		gen_pair(s, cs[i], CK_TRUE, CK_FALSE, &pub, &priv);
		n = read_point(s, pub, pt, sizeof(pt));
		check_spki(s, cs[i], pub, pt, n);
		check_spki(s, cs[i], priv, pt, n);
	}
}

static void test_keygen__montgomery_public_key_info(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	uint8_t pt[256];
	size_t n;

	(void)state;
	gen_pair(s, &x25519, CK_FALSE, CK_TRUE, &pub, &priv);
	n = read_point(s, pub, pt, sizeof(pt));
	check_spki(s, &x25519, pub, pt, n);
	check_spki(s, &x25519, priv, pt, n);
}

static void test_keygen__printable_string_params(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;

	(void)state;
	assert_rv(CKR_OK, gen_pair_rv(s, &ed25519, name_ed25519,
				      sizeof(name_ed25519), CK_TRUE, CK_FALSE,
				      &pub, &priv));
	check_generated(s, &ed25519, pub, priv, name_ed25519,
			sizeof(name_ed25519));
	assert_rv(CKR_OK, gen_pair_rv(s, &ec_curves[0], name_p256,
				      sizeof(name_p256), CK_TRUE, CK_FALSE,
				      &pub, &priv));
	check_generated(s, &ec_curves[0], pub, priv, name_p256,
			sizeof(name_p256));
}

static void test_keygen__unknown_curve_not_supported(void **state)
{
	static const uint8_t oid_bogus[] = {0x06, 0x03, 0x2a, 0x03, 0x04};
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;

	(void)state;
	assert_rv(CKR_CURVE_NOT_SUPPORTED,
		  gen_pair_rv(s, &ec_curves[0], oid_bogus, sizeof(oid_bogus),
			      CK_TRUE, CK_FALSE, &pub, &priv));
	/* An Edwards curve is no curve of an EC key pair. */
	assert_rv(CKR_CURVE_NOT_SUPPORTED,
		  gen_pair_rv(s, &ec_curves[0], oid_ed25519,
			      sizeof(oid_ed25519), CK_TRUE, CK_FALSE, &pub,
			      &priv));
}

static void test_keygen__missing_params_incomplete(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;

	(void)state;
	assert_rv(CKR_TEMPLATE_INCOMPLETE,
		  gen_pair_rv(s, &ec_curves[0], NULL, 0, CK_TRUE, CK_FALSE,
			      &pub, &priv));
}

/* ---- ECDSA ------------------------------------------------------------ */

struct ecdsa_mech {
	CK_MECHANISM_TYPE mech;
	const char *md; /* NULL: CKM_ECDSA, the test hashes with SHA-256 */
};

static const struct ecdsa_mech sha2_mechs[] = {
    {CKM_ECDSA, NULL},		 {CKM_ECDSA_SHA1, "SHA1"},
    {CKM_ECDSA_SHA224, "SHA224"}, {CKM_ECDSA_SHA256, "SHA256"},
    {CKM_ECDSA_SHA384, "SHA384"}, {CKM_ECDSA_SHA512, "SHA512"},
};

static const struct ecdsa_mech sha3_mechs[] = {
    {CKM_ECDSA_SHA3_224, "SHA3-224"},
    {CKM_ECDSA_SHA3_256, "SHA3-256"},
    {CKM_ECDSA_SHA3_384, "SHA3-384"},
    {CKM_ECDSA_SHA3_512, "SHA3-512"},
};

static const uint8_t msg[] = "the quick brown fox jumps over the lazy dog";

/* OpenSSL's verdict on the token's r || s over msg. */
static void openssl_verify(const struct curve *c, const uint8_t *pt,
			   size_t ptl, const struct ecdsa_mech *em,
			   const uint8_t *data, size_t dl, const uint8_t *rs,
			   size_t rsl, int want)
{
	EVP_PKEY *pk = openssl_pub(c, pt, ptl);
	unsigned char *der;
	int derl = rs_to_der(rs, rsl, &der);

	if (em->md != NULL) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		assert_int_equal(EVP_DigestVerifyInit_ex(md, NULL, em->md,
							 NULL, NULL, pk, NULL),
				 1);
		assert_int_equal(
		    EVP_DigestVerify(md, der, (size_t)derl, data, dl), want);
		EVP_MD_CTX_free(md);
	} else {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
		assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
		assert_int_equal(
		    EVP_PKEY_verify(ctx, der, (size_t)derl, data, dl), want);
		EVP_PKEY_CTX_free(ctx);
	}
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
}

static void ecdsa_round_trips(const struct ecdsa_mech *ms, size_t nm)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	uint8_t pt[160], sig[160], hash[32];
	size_t ptl;

	SHA256(msg, sizeof(msg), hash);
	for (size_t ci = 0; ci < NELEM(ec_curves); ci++) {
		const struct curve *c = &ec_curves[ci];
		gen_pair(s, c, CK_TRUE, CK_FALSE, &pub, &priv);
		ptl = read_point(s, pub, pt, sizeof(pt));
		for (size_t i = 0; i < nm; i++) {
			CK_MECHANISM m = {ms[i].mech, NULL, 0};
			const uint8_t *in = ms[i].md ? msg : hash;
			size_t inl = ms[i].md ? sizeof(msg) : sizeof(hash);
			CK_ULONG sl = sizeof(sig);

			assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
			assert_rv(CKR_OK, p11->C_Sign(s, (CK_BYTE_PTR)in, inl,
						      sig, &sl));
			assert_int_equal(sl, ptl - 1);
			openssl_verify(c, pt, ptl, &ms[i], in, inl, sig, sl, 1);
			assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
			assert_rv(CKR_OK, p11->C_Verify(s, (CK_BYTE_PTR)in, inl,
							sig, sl));
			if (ms[i].md == NULL)
				continue;
			/* multi-part, in two pieces */
			sl = sizeof(sig);
			assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
			assert_rv(CKR_OK,
				  p11->C_SignUpdate(s, (CK_BYTE_PTR)msg, 10));
			assert_rv(CKR_OK,
				  p11->C_SignUpdate(s, (CK_BYTE_PTR)msg + 10,
						    sizeof(msg) - 10));
			assert_rv(CKR_OK, p11->C_SignFinal(s, sig, &sl));
			openssl_verify(c, pt, ptl, &ms[i], msg, sizeof(msg),
				       sig, sl, 1);
			assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
			assert_rv(CKR_OK,
				  p11->C_VerifyUpdate(s, (CK_BYTE_PTR)msg,
						      sizeof(msg)));
			assert_rv(CKR_OK, p11->C_VerifyFinal(s, sig, sl));
		}
	}
}

static void test_ecdsa__round_trip_sha2(void **state)
{
	(void)state;
	ecdsa_round_trips(sha2_mechs, NELEM(sha2_mechs));
}

static void test_ecdsa__round_trip_sha3(void **state)
{
	(void)state;
	ecdsa_round_trips(sha3_mechs, NELEM(sha3_mechs));
}

/* A hash longer than the order is truncated as X9.62 says. */
static void test_ecdsa__long_hash_truncated(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	const struct ecdsa_mech raw = {CKM_ECDSA, NULL};
	uint8_t pt[160], sig[160], h[64];
	CK_ULONG sl = sizeof(sig);
	size_t ptl;

	(void)state;
	SHA512(msg, sizeof(msg), h);
	gen_pair(s, &ec_curves[0], CK_TRUE, CK_FALSE, &pub, &priv);
	ptl = read_point(s, pub, pt, sizeof(pt));
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK, p11->C_Sign(s, h, sizeof(h), sig, &sl));
	openssl_verify(&ec_curves[0], pt, ptl, &raw, h, sizeof(h), sig, sl, 1);
	/* the first 32 bytes are what counts */
	openssl_verify(&ec_curves[0], pt, ptl, &raw, h, 32, sig, sl, 1);
}

static void test_ecdsa__imported_keys(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	uint8_t sig[64], h[32];
	CK_ULONG sl = sizeof(sig);

	(void)state;
	SHA256(msg, sizeof(msg), h);
	assert_rv(CKR_OK, api_create_ec_pair(s, CK_FALSE, "ec", &pub, &priv));
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK, p11->C_Sign(s, h, sizeof(h), sig, &sl));
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
	assert_rv(CKR_OK, p11->C_Verify(s, h, sizeof(h), sig, sl));
}

/* Clients send CKA_EC_POINT raw too; coffer takes both forms. */
static void test_ecdsa__raw_point_accepted(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv, raw;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	uint8_t pt[160], sig[64], h[32];
	CK_ULONG sl = sizeof(sig);
	size_t ptl;

	(void)state;
	SHA256(msg, sizeof(msg), h);
	gen_pair(s, &ec_curves[0], CK_TRUE, CK_FALSE, &pub, &priv);
	ptl = read_point(s, pub, pt, sizeof(pt));
	raw = create_ec_key(s, CKO_PUBLIC_KEY, CKK_EC, oid_p256,
			    sizeof(oid_p256), CKA_EC_POINT, pt, ptl);
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK, p11->C_Sign(s, h, sizeof(h), sig, &sl));
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, raw));
	assert_rv(CKR_OK, p11->C_Verify(s, h, sizeof(h), sig, sl));
}

static const struct ecdsa_mech raw_mech = {CKM_ECDSA, NULL};

/* Signs the SHA-256 of msg with CKM_ECDSA and a fresh P-256 pair. */
static CK_ULONG sign_p256(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *pub,
			  uint8_t *h, uint8_t *sig)
{
	CK_OBJECT_HANDLE priv;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	CK_ULONG sl = 64;

	SHA256(msg, sizeof(msg), h);
	gen_pair(s, &ec_curves[0], CK_TRUE, CK_FALSE, pub, &priv);
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK, p11->C_Sign(s, h, 32, sig, &sl));
	return sl;
}

static void test_ecdsa__flipped_bit_invalid(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	uint8_t sig[64], h[32];
	CK_ULONG sl = sign_p256(s, &pub, h, sig);

	(void)state;
	sig[5] ^= 0x01;
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
	assert_rv(CKR_SIGNATURE_INVALID, p11->C_Verify(s, h, 32, sig, sl));
	sig[5] ^= 0x01;
	h[0] ^= 0x80;
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
	assert_rv(CKR_SIGNATURE_INVALID, p11->C_Verify(s, h, 32, sig, sl));
}

static void test_ecdsa__multipart_flipped_bit_invalid(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
	uint8_t sig[64], data[sizeof(msg)];
	CK_ULONG sl = sizeof(sig);

	(void)state;
	gen_pair(s, &ec_curves[0], CK_TRUE, CK_FALSE, &pub, &priv);
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK,
		  p11->C_Sign(s, (CK_BYTE_PTR)msg, sizeof(msg), sig, &sl));
	memcpy(data, msg, sizeof(msg));
	data[0] ^= 0x80;
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
	assert_rv(CKR_OK, p11->C_VerifyUpdate(s, data, sizeof(data)));
	assert_rv(CKR_SIGNATURE_INVALID, p11->C_VerifyFinal(s, sig, sl));
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
	assert_rv(CKR_OK,
		  p11->C_VerifyUpdate(s, (CK_BYTE_PTR)msg, sizeof(msg)));
	assert_rv(CKR_SIGNATURE_LEN_RANGE, p11->C_VerifyFinal(s, sig, 1));
}

static void test_ecdsa__wrong_length_len_range(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	uint8_t sig[64], h[32];
	CK_ULONG sl = sign_p256(s, &pub, h, sig);

	(void)state;
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
	assert_rv(CKR_SIGNATURE_LEN_RANGE,
		  p11->C_Verify(s, h, 32, sig, sl - 1));
}

static void test_ecdsa__length_query_then_too_small(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	uint8_t pt[160], sig[96], h[48];
	CK_ULONG sl = 0;
	size_t ptl;

	(void)state;
	SHA384(msg, sizeof(msg), h);
	gen_pair(s, &ec_curves[1], CK_TRUE, CK_FALSE, &pub, &priv);
	ptl = read_point(s, pub, pt, sizeof(pt));
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK, p11->C_Sign(s, h, sizeof(h), NULL, &sl));
	assert_int_equal(sl, 96);
	sl = 10;
	assert_rv(CKR_BUFFER_TOO_SMALL, p11->C_Sign(s, h, sizeof(h), sig, &sl));
	assert_int_equal(sl, 96);
	assert_rv(CKR_OK, p11->C_Sign(s, h, sizeof(h), sig, &sl));
	openssl_verify(&ec_curves[1], pt, ptl, &raw_mech, h, sizeof(h), sig,
		       sl, 1);
}

static void test_ecdsa__final_length_query_then_too_small(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = {CKM_ECDSA_SHA384, NULL, 0};
	const struct ecdsa_mech em = {CKM_ECDSA_SHA384, "SHA384"};
	uint8_t pt[160], sig[96];
	CK_ULONG sl = 0;
	size_t ptl;

	(void)state;
	gen_pair(s, &ec_curves[1], CK_TRUE, CK_FALSE, &pub, &priv);
	ptl = read_point(s, pub, pt, sizeof(pt));
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK, p11->C_SignUpdate(s, (CK_BYTE_PTR)msg, sizeof(msg)));
	assert_rv(CKR_OK, p11->C_SignFinal(s, NULL, &sl));
	assert_int_equal(sl, 96);
	sl = 95;
	assert_rv(CKR_BUFFER_TOO_SMALL, p11->C_SignFinal(s, sig, &sl));
	assert_int_equal(sl, 96);
	assert_rv(CKR_OK, p11->C_SignFinal(s, sig, &sl));
	openssl_verify(&ec_curves[1], pt, ptl, &em, msg, sizeof(msg), sig, sl,
		       1);
}

static void test_ecdsa__wrong_key_type_inconsistent(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE aes, rpub, rpriv, epub, epriv;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	CK_MECHANISM ed = {CKM_EDDSA, NULL, 0};

	(void)state;
	assert_rv(CKR_OK,
		  api_create_aes(s, CK_FALSE, CK_TRUE, CK_FALSE, "aes", &aes));
	assert_rv(CKR_OK, api_create_rsa_pair(s, CK_FALSE, "rsa", &rpub,
					      &rpriv));
	assert_rv(CKR_KEY_TYPE_INCONSISTENT, p11->C_SignInit(s, &m, aes));
	assert_rv(CKR_KEY_TYPE_INCONSISTENT, p11->C_SignInit(s, &m, rpriv));
	assert_rv(CKR_KEY_TYPE_INCONSISTENT, p11->C_VerifyInit(s, &m, rpub));
	assert_rv(CKR_OK, api_create_ec_pair(s, CK_FALSE, "ec", &epub, &epriv));
	assert_rv(CKR_KEY_TYPE_INCONSISTENT, p11->C_SignInit(s, &ed, epriv));
}

static void test_ecdsa__sign_false_not_permitted(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};

	(void)state;
	gen_pair(s, &ec_curves[0], CK_FALSE, CK_FALSE, &pub, &priv);
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED,
		  p11->C_VerifyInit(s, &m, pub));
}

static void test_ecdsa__init_while_active(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};

	(void)state;
	gen_pair(s, &ec_curves[0], CK_TRUE, CK_FALSE, &pub, &priv);
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OPERATION_ACTIVE, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
	assert_rv(CKR_OPERATION_ACTIVE, p11->C_VerifyInit(s, &m, pub));
	/* closing the session ends both */
	assert_rv(CKR_OK, p11->C_CloseSession(s));
}

static void test_ecdsa__params_invalid(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_ULONG junk = 1;
	CK_MECHANISM m = {CKM_ECDSA, &junk, sizeof(junk)};

	(void)state;
	gen_pair(s, &ec_curves[0], CK_TRUE, CK_FALSE, &pub, &priv);
	assert_rv(CKR_MECHANISM_PARAM_INVALID, p11->C_SignInit(s, &m, priv));
	m.mechanism = CKM_ECDSA_SHA256;
	assert_rv(CKR_MECHANISM_PARAM_INVALID, p11->C_SignInit(s, &m, priv));
}
/* CKM_ECDSA is single-part. */
static void test_ecdsa__raw_has_no_update(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	uint8_t h[32] = {0};

	(void)state;
	gen_pair(s, &ec_curves[0], CK_TRUE, CK_FALSE, &pub, &priv);
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_FUNCTION_NOT_SUPPORTED,
		  p11->C_SignUpdate(s, h, sizeof(h)));
}

/* ---- EdDSA (RFC 8032) ------------------------------------------------- */

struct ed_kat {
	const struct curve *c;
	const char *secret, *public, *message, *context, *sig;
	bool ph;
};

/* RFC 8032 7.1 TEST 1 and TEST 2. */
static const struct ed_kat ed25519_test1 = {
    &ed25519,
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
    NULL,
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821"
    "590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    false};
static const struct ed_kat ed25519_test2 = {
    &ed25519,
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
    NULL,
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e"
    "43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    false};
/* RFC 8032 7.2 (Ed25519ctx, context "foo") and 7.3 (Ed25519ph, "abc"). */
static const struct ed_kat ed25519ctx_foo = {
    &ed25519,
    "0305334e381af78f141cb666f6199f57bc3495335a256a95bd2a55bf546663f6",
    "dfc9425e4f968f7f0c29f0259cf5f9aed6851c2bb4ad8bfb860cfee0ab248292",
    "f726936d19c800494e3fdaff20b276a8", "666f6f",
    "55a4cc2f70a54e04288c5f4cd1e45a7bb520b36292911876cada7323198dd87a8b36950"
    "b95130022907a7fb7c4e9b2d5f6cca685a587b4b21f4b888e4e7edb0d",
    false};
static const struct ed_kat ed25519ph_abc = {
    &ed25519,
    "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
    "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
    "616263", NULL,
    "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f8504"
    "2463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
    true};
/* RFC 8032 7.4, "1 octet". */
static const struct ed_kat ed448_1octet = {
    &ed448,
    "c4eab05d357007c632f3dbb48489924d552b08fe0c353a0d4a1f00acda2c463afbea67c5"
    "e8d2877c5e3bc397a659949ef8021e954e0a12274e",
    "43ba28f430cdff456ae531545f7ecd0ac834a55d9358c0372bfa0c6c6798c0866aea01eb"
    "00742802b8438ea4cb82169c235160627b4c3a9480",
    "03", NULL,
    "26b8f91727bd62897af15e41eb43c377efb9c610d48f2335cb0bd0087810f4352541b143"
    "c4b981b7e18f62de8ccdf633fc1bf037ab7cd779805e0dbcc0aae1cbcee1afb2e027df36"
    "bc04dcecbf154336c19f0af7e0a6472905e799f1953d2a0ff3348ab21aa4adafd1d23444"
    "1cf807c03a00",
    false};

/* Imports the KAT's keys, signs, compares, verifies. expect_init is what
 * C_SignInit must return (a variant the module cannot do). */
static void run_ed_kat(const struct ed_kat *k, CK_RV expect_init)
{
	CK_SESSION_HANDLE s = user_rw();
	uint8_t sk[64], pk[64], m[64], ctx[16], want[128], sig[128],
	    wrapped[80];
	size_t skl, pkl, ml, ctxl = 0, wl;
	CK_EDDSA_PARAMS p = {CK_FALSE, 0, NULL};
	CK_MECHANISM mech = {CKM_EDDSA, NULL, 0};
	CK_OBJECT_HANDLE priv, pub;
	CK_ULONG sl = sizeof(sig);

	hex(k->secret, sk, &skl);
	hex(k->public, pk, &pkl);
	hex(k->message, m, &ml);
	hex(k->sig, want, &wl);
	if (k->context != NULL)
		hex(k->context, ctx, &ctxl);
	if (k->ph || k->context != NULL || k->c == &ed448) {
		p.phFlag = k->ph ? CK_TRUE : CK_FALSE;
		p.ulContextDataLen = (CK_ULONG)ctxl;
		p.pContextData = ctxl ? ctx : NULL;
		mech.pParameter = &p;
		mech.ulParameterLen = sizeof(p);
	}
	priv = create_ec_key(s, CKO_PRIVATE_KEY, CKK_EC_EDWARDS, k->c->params,
			     k->c->params_len, CKA_VALUE, sk, skl);
	pub = create_ec_key(s, CKO_PUBLIC_KEY, CKK_EC_EDWARDS, k->c->params,
			    k->c->params_len, CKA_EC_POINT, wrapped,
			    der_wrap(pk, pkl, wrapped));
	assert_rv(expect_init, p11->C_SignInit(s, &mech, priv));
	if (expect_init != CKR_OK)
		return;
	assert_rv(CKR_OK, p11->C_Sign(s, m, ml, sig, &sl));
	assert_int_equal(sl, wl);
	assert_memory_equal(sig, want, wl);
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &mech, pub));
	assert_rv(CKR_OK, p11->C_Verify(s, m, ml, sig, sl));
}

/* OpenSSL signs Ed25519ctx and Ed25519ph from 3.2 on; before, coffer must
 * refuse the parameters rather than sign plain Ed25519. */
static CK_RV variant_expect(void)
{
	return OpenSSL_version_num() >= 0x30200000L
		   ? CKR_OK
		   : CKR_MECHANISM_PARAM_INVALID;
}

static void test_eddsa__rfc8032_ed25519_test1(void **state)
{
	(void)state;
	run_ed_kat(&ed25519_test1, CKR_OK);
}

static void test_eddsa__rfc8032_ed25519_test2(void **state)
{
	(void)state;
	run_ed_kat(&ed25519_test2, CKR_OK);
}

static void test_eddsa__rfc8032_ed25519ctx(void **state)
{
	(void)state;
	run_ed_kat(&ed25519ctx_foo, variant_expect());
}

static void test_eddsa__rfc8032_ed25519ph(void **state)
{
	(void)state;
	run_ed_kat(&ed25519ph_abc, variant_expect());
}

static void test_eddsa__rfc8032_ed448(void **state)
{
	(void)state;
	run_ed_kat(&ed448_1octet, CKR_OK);
}

/* Generated keys on both curves: round trip, flipped bit, wrong length,
 * length query and too small a buffer, no multi-part. */
static void ed_round_trip(const struct curve *c, size_t sig_len)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = {CKM_EDDSA, NULL, 0};
	uint8_t sig[128], pt[64];
	CK_ULONG sl = 0;
	size_t ptl;
	EVP_PKEY *pk;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	gen_pair(s, c, CK_TRUE, CK_FALSE, &pub, &priv);
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK,
		  p11->C_Sign(s, (CK_BYTE_PTR)msg, sizeof(msg), NULL, &sl));
	assert_int_equal(sl, sig_len);
	sl = 3;
	assert_rv(CKR_BUFFER_TOO_SMALL,
		  p11->C_Sign(s, (CK_BYTE_PTR)msg, sizeof(msg), sig, &sl));
	assert_int_equal(sl, sig_len);
	assert_rv(CKR_OK,
		  p11->C_Sign(s, (CK_BYTE_PTR)msg, sizeof(msg), sig, &sl));
	/* OpenSSL agrees */
	ptl = read_point(s, pub, pt, sizeof(pt));
	pk = openssl_pub(c, pt, ptl);
	assert_int_equal(
	    EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL, pk, NULL), 1);
	assert_int_equal(EVP_DigestVerify(md, sig, sl, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
	assert_rv(CKR_OK,
		  p11->C_Verify(s, (CK_BYTE_PTR)msg, sizeof(msg), sig, sl));
	sig[0] ^= 0x04;
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
	assert_rv(CKR_SIGNATURE_INVALID,
		  p11->C_Verify(s, (CK_BYTE_PTR)msg, sizeof(msg), sig, sl));
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, pub));
	assert_rv(CKR_SIGNATURE_LEN_RANGE,
		  p11->C_Verify(s, (CK_BYTE_PTR)msg, sizeof(msg), sig, sl - 1));
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OPERATION_ACTIVE, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK, p11->C_CloseSession(s));
}

/* EdDSA cannot stream: C_SignUpdate is refused and ends the operation. */
static void test_eddsa__single_part_only(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = {CKM_EDDSA, NULL, 0};

	(void)state;
	gen_pair(s, &ed25519, CK_TRUE, CK_FALSE, &pub, &priv);
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_FUNCTION_NOT_SUPPORTED,
		  p11->C_SignUpdate(s, (CK_BYTE_PTR)msg, sizeof(msg)));
	assert_rv(CKR_OK, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK, p11->C_CloseSession(s));
}

static void test_eddsa__ed25519_round_trip(void **state)
{
	(void)state;
	ed_round_trip(&ed25519, 64);
}

static void test_eddsa__ed448_round_trip(void **state)
{
	(void)state;
	ed_round_trip(&ed448, 114);
}

static void test_eddsa__bad_params_invalid(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv;
	CK_EDDSA_PARAMS p = {CK_FALSE, 4, NULL}; /* length without data */
	CK_MECHANISM m = {CKM_EDDSA, &p, sizeof(p)};
	CK_MECHANISM shrt = {CKM_EDDSA, &p, sizeof(p) - 1};

	(void)state;
	gen_pair(s, &ed25519, CK_TRUE, CK_FALSE, &pub, &priv);
	assert_rv(CKR_MECHANISM_PARAM_INVALID, p11->C_SignInit(s, &m, priv));
	p.ulContextDataLen = 0;
	assert_rv(CKR_MECHANISM_PARAM_INVALID,
		  p11->C_SignInit(s, &shrt, priv));
}

static void test_eddsa__wrong_key_and_usage(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv, aes;
	CK_MECHANISM m = {CKM_EDDSA, NULL, 0};

	(void)state;
	gen_pair(s, &ed25519, CK_FALSE, CK_FALSE, &pub, &priv);
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED, p11->C_SignInit(s, &m, priv));
	assert_rv(CKR_OK,
		  api_create_aes(s, CK_FALSE, CK_TRUE, CK_FALSE, "aes", &aes));
	assert_rv(CKR_KEY_TYPE_INCONSISTENT, p11->C_SignInit(s, &m, aes));
}

/* ---- ECDH ------------------------------------------------------------- */

/* RFC 7748 6.1: Alice's private key with Bob's public key. */
static void test_ecdh__rfc7748_x25519(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	uint8_t a[32], bpub[32], want[32], got[64], wrapped[40];
	size_t al, bl, wl;
	CK_OBJECT_HANDLE priv, k;

	(void)state;
	hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	    a, &al);
	hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	    bpub, &bl);
	hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
	    want, &wl);
	priv = create_ec_key(s, CKO_PRIVATE_KEY, CKK_EC_MONTGOMERY, oid_x25519,
			     sizeof(oid_x25519), CKA_VALUE, a, al);
	assert_rv(CKR_OK, derive_rv(s, CKM_ECDH1_DERIVE, priv, CKD_NULL, NULL,
				    0, bpub, bl, CKK_GENERIC_SECRET, 32, &k));
	assert_int_equal(read_value(s, k, got, sizeof(got)), 32);
	assert_memory_equal(got, want, 32);
	/* the DER-wrapped peer key gives the same */
	assert_rv(CKR_OK,
		  derive_rv(s, CKM_ECDH1_DERIVE, priv, CKD_NULL, NULL, 0,
			    wrapped, der_wrap(bpub, bl, wrapped),
			    CKK_GENERIC_SECRET, 32, &k));
	assert_int_equal(read_value(s, k, got, sizeof(got)), 32);
	assert_memory_equal(got, want, 32);
}

/* coffer's policy (docs/security.md rule 3): a sensitive private key
 * derives only sensitive keys, so its shared secrets cannot be read out. */
static void test_ecdh__sensitive_base_gives_only_sensitive_keys(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv, k = CK_INVALID_HANDLE;
	CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, 0, NULL};
	CK_MECHANISM m = {CKM_ECDH1_DERIVE, &p, sizeof(p)};
	CK_ULONG len = 32;
	CK_KEY_TYPE kt_generic = CKK_GENERIC_SECRET;
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret), ATTR(CKA_KEY_TYPE, &kt_generic),
	    ATTR(CKA_TOKEN, &api_false),  ATTR(CKA_VALUE_LEN, &len),
	    ATTR(CKA_SENSITIVE, &api_true),
	};
	uint8_t pt[160];
	size_t n;

	(void)state;
	gen_pair(s, &ec_curves[0], CK_TRUE, CK_TRUE, &pub, &priv);
	n = read_point(s, pub, pt, sizeof(pt));
	assert_rv(CKR_TEMPLATE_INCONSISTENT,
		  derive_rv(s, CKM_ECDH1_DERIVE, priv, CKD_NULL, NULL, 0, pt, n,
			    CKK_GENERIC_SECRET, 32, &k));
	assert_int_equal(k, CK_INVALID_HANDLE);
	p.ulPublicDataLen = (CK_ULONG)n;
	p.pPublicData = pt;
	assert_rv(CKR_OK, p11->C_DeriveKey(s, &m, priv, t, NELEM(t), &k));
	assert_true(k != CK_INVALID_HANDLE);
}

/* Both sides of a generated pair agree; returns the secret's length. */
static size_t agree_both(CK_SESSION_HANDLE s, const struct curve *c,
			 CK_MECHANISM_TYPE mech, uint8_t *z, CK_ULONG zlen,
			 CK_OBJECT_HANDLE *a_priv, uint8_t *b_pt,
			 size_t *b_ptl)
{
	CK_OBJECT_HANDLE apub, bpub, bpriv, ka, kb;
	uint8_t apt[160], za[160], zb[160];
	size_t aptl, na, nb;

	gen_pair(s, c, CK_FALSE, CK_TRUE, &apub, a_priv);
	gen_pair(s, c, CK_FALSE, CK_TRUE, &bpub, &bpriv);
	aptl = read_point(s, apub, apt, sizeof(apt));
	*b_ptl = read_point(s, bpub, b_pt, 160);
	assert_rv(CKR_OK, derive_rv(s, mech, *a_priv, CKD_NULL, NULL, 0, b_pt,
				    *b_ptl, CKK_GENERIC_SECRET, zlen, &ka));
	assert_rv(CKR_OK, derive_rv(s, mech, bpriv, CKD_NULL, NULL, 0, apt,
				    aptl, CKK_GENERIC_SECRET, zlen, &kb));
	na = read_value(s, ka, za, sizeof(za));
	nb = read_value(s, kb, zb, sizeof(zb));
	assert_int_equal(na, zlen);
	assert_int_equal(na, nb);
	assert_memory_equal(za, zb, na);
	memcpy(z, za, na);
	return na;
}

static void test_ecdh__p256_both_sides_agree(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE priv;
	uint8_t z[160], pt[160];
	size_t ptl;

	(void)state;
	agree_both(s, &ec_curves[0], CKM_ECDH1_DERIVE, z, 32, &priv, pt, &ptl);
	agree_both(s, &ec_curves[2], CKM_ECDH1_DERIVE, z, 66, &priv, pt, &ptl);
}

static void test_ecdh__cofactor_both_sides_agree(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE priv;
	uint8_t z[160], pt[160];
	size_t ptl;

	(void)state;
	agree_both(s, &ec_curves[1], CKM_ECDH1_COFACTOR_DERIVE, z, 48, &priv,
		   pt, &ptl);
}

static void test_ecdh__x448_both_sides_agree(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE priv;
	uint8_t z[160], pt[160];
	size_t ptl;

	(void)state;
	agree_both(s, &x448, CKM_ECDH1_DERIVE, z, 56, &priv, pt, &ptl);
}

/* The X9.63 KDFs over the shared secret, computed again with OpenSSL. */
static void test_ecdh__kdf_matches_x963(void **state)
{
	static const struct {
		CK_ULONG kdf;
		const char *md;
	} kdfs[] = {
	    {CKD_SHA1_KDF, "SHA1"},	{CKD_SHA224_KDF, "SHA224"},
	    {CKD_SHA256_KDF, "SHA256"}, {CKD_SHA384_KDF, "SHA384"},
	    {CKD_SHA512_KDF, "SHA512"},
	};
	static const uint8_t shared[] = "coffer shared info";
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE priv, k;
	uint8_t z[160], pt[160], got[80], want[80];
	size_t zl, ptl;

	(void)state;
	zl = agree_both(s, &ec_curves[0], CKM_ECDH1_DERIVE, z, 32, &priv, pt,
			&ptl);
	for (size_t i = 0; i < NELEM(kdfs); i++) {
		for (int with_shared = 0; with_shared < 2; with_shared++) {
			EVP_KDF *kdf = EVP_KDF_fetch(NULL, "X963KDF", NULL);
			EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
			OSSL_PARAM params[4], *q = params;

			*q++ = OSSL_PARAM_construct_utf8_string(
			    OSSL_KDF_PARAM_DIGEST, (char *)kdfs[i].md, 0);
			*q++ = OSSL_PARAM_construct_octet_string(
			    OSSL_KDF_PARAM_KEY, z, zl);
			if (with_shared)
				*q++ = OSSL_PARAM_construct_octet_string(
				    OSSL_KDF_PARAM_INFO, (void *)shared,
				    sizeof(shared));
			*q = OSSL_PARAM_construct_end();
			assert_int_equal(
			    EVP_KDF_derive(kctx, want, 80, params), 1);
			EVP_KDF_CTX_free(kctx);
			EVP_KDF_free(kdf);
			assert_rv(CKR_OK,
				  derive_rv(s, CKM_ECDH1_DERIVE, priv,
					    kdfs[i].kdf,
					    with_shared ? shared : NULL,
					    with_shared ? sizeof(shared) : 0,
					    pt, ptl, CKK_GENERIC_SECRET, 80,
					    &k));
			assert_int_equal(read_value(s, k, got, sizeof(got)),
					 80);
			assert_memory_equal(got, want, 80);
		}
	}
}

/* CKD_NULL makes a key of the shared secret truncated to its length (the
 * trailing bytes, as SoftHSMv2 does) and no longer than it; AES needs
 * CKA_VALUE_LEN. */
static void test_ecdh__null_kdf_lengths(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE priv, k;
	uint8_t z[160], pt[160], got[64];
	size_t ptl;

	(void)state;
	agree_both(s, &ec_curves[0], CKM_ECDH1_DERIVE, z, 32, &priv, pt, &ptl);
	assert_rv(CKR_OK, derive_rv(s, CKM_ECDH1_DERIVE, priv, CKD_NULL, NULL,
				    0, pt, ptl, CKK_AES, 16, &k));
	assert_int_equal(read_value(s, k, got, sizeof(got)), 16);
	assert_memory_equal(got, z + 16, 16);
	/* no length: the whole secret for a generic secret */
	assert_rv(CKR_OK, derive_rv(s, CKM_ECDH1_DERIVE, priv, CKD_NULL, NULL,
				    0, pt, ptl, CKK_GENERIC_SECRET, 0, &k));
	assert_int_equal(read_value(s, k, got, sizeof(got)), 32);
	assert_memory_equal(got, z, 32);
	assert_rv(CKR_TEMPLATE_INCOMPLETE,
		  derive_rv(s, CKM_ECDH1_DERIVE, priv, CKD_NULL, NULL, 0, pt,
			    ptl, CKK_AES, 0, &k));
	assert_rv_either(CKR_TEMPLATE_INCONSISTENT, CKR_KEY_SIZE_RANGE,
			 derive_rv(s, CKM_ECDH1_DERIVE, priv, CKD_NULL, NULL,
				   0, pt, ptl, CKK_GENERIC_SECRET, 33, &k));
}

static void test_ecdh__bad_params_invalid(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv, k;
	uint8_t pt[160];
	size_t ptl;
	CK_ECDH1_DERIVE_PARAMS p;
	CK_MECHANISM m = {CKM_ECDH1_DERIVE, &p, sizeof(p) - 1};
	CK_ULONG len = 32;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret),
	    ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_TOKEN, &api_false),
	    ATTR(CKA_VALUE_LEN, &len),
	};

	(void)state;
	gen_pair(s, &ec_curves[0], CK_FALSE, CK_TRUE, &pub, &priv);
	ptl = read_point(s, pub, pt, sizeof(pt));
	p = (CK_ECDH1_DERIVE_PARAMS){CKD_NULL, 0, NULL, (CK_ULONG)ptl, pt};
	assert_rv(CKR_MECHANISM_PARAM_INVALID,
		  p11->C_DeriveKey(s, &m, priv, t, NELEM(t), &k));
	/* unknown KDF */
	assert_rv(CKR_MECHANISM_PARAM_INVALID,
		  derive_rv(s, CKM_ECDH1_DERIVE, priv, 0x7777, NULL, 0, pt,
			    ptl, CKK_GENERIC_SECRET, 32, &k));
	/* no public data */
	assert_rv(CKR_MECHANISM_PARAM_INVALID,
		  derive_rv(s, CKM_ECDH1_DERIVE, priv, CKD_NULL, NULL, 0, NULL,
			    0, CKK_GENERIC_SECRET, 32, &k));
	/* a point off the curve */
	pt[ptl - 1] ^= 0x01;
	assert_rv(CKR_MECHANISM_PARAM_INVALID,
		  derive_rv(s, CKM_ECDH1_DERIVE, priv, CKD_NULL, NULL, 0, pt,
			    ptl, CKK_GENERIC_SECRET, 32, &k));
	/* a point of another length */
	assert_rv(CKR_MECHANISM_PARAM_INVALID,
		  derive_rv(s, CKM_ECDH1_DERIVE, priv, CKD_NULL, NULL, 0, pt,
			    ptl - 3, CKK_GENERIC_SECRET, 32, &k));
}

static void test_ecdh__wrong_key_and_usage(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE pub, priv, epub, epriv, aes, k;
	uint8_t pt[160];
	size_t ptl;

	(void)state;
	gen_pair(s, &ec_curves[0], CK_TRUE, CK_FALSE, &pub, &priv);
	ptl = read_point(s, pub, pt, sizeof(pt));
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED,
		  derive_rv(s, CKM_ECDH1_DERIVE, priv, CKD_NULL, NULL, 0, pt,
			    ptl, CKK_GENERIC_SECRET, 32, &k));
	gen_pair(s, &ed25519, CK_TRUE, CK_TRUE, &epub, &epriv);
	assert_rv(CKR_KEY_TYPE_INCONSISTENT,
		  derive_rv(s, CKM_ECDH1_DERIVE, epriv, CKD_NULL, NULL, 0, pt,
			    ptl, CKK_GENERIC_SECRET, 32, &k));
	assert_rv(CKR_OK,
		  api_create_aes(s, CK_FALSE, CK_TRUE, CK_FALSE, "aes", &aes));
	assert_rv(CKR_KEY_TYPE_INCONSISTENT,
		  derive_rv(s, CKM_ECDH1_DERIVE, aes, CKD_NULL, NULL, 0, pt,
			    ptl, CKK_GENERIC_SECRET, 32, &k));
}

/* ---- C_GetMechanismInfo ----------------------------------------------- */

static void test_mechinfo__ec_values(void **state)
{
	static const struct {
		CK_MECHANISM_TYPE t;
		CK_ULONG min, max;
		CK_FLAGS need;
	} want[] = {
	    {CKM_EC_KEY_PAIR_GEN, 256, 521, CKF_GENERATE_KEY_PAIR},
	    {CKM_ECDSA, 256, 521, CKF_SIGN | CKF_VERIFY},
	    {CKM_ECDSA_SHA1, 256, 521, CKF_SIGN | CKF_VERIFY},
	    {CKM_ECDSA_SHA256, 256, 521, CKF_SIGN | CKF_VERIFY},
	    {CKM_ECDSA_SHA512, 256, 521, CKF_SIGN | CKF_VERIFY},
	    {CKM_ECDH1_DERIVE, 256, 521, CKF_DERIVE},
	    {CKM_ECDH1_COFACTOR_DERIVE, 256, 521, CKF_DERIVE},
	};
	CK_MECHANISM_INFO info;

	(void)state;
	for (size_t i = 0; i < NELEM(want); i++) {
		assert_rv(CKR_OK,
			  p11->C_GetMechanismInfo(api_slot, want[i].t, &info));
		assert_true(info.ulMinKeySize <= want[i].min);
		assert_true(info.ulMaxKeySize >= want[i].max);
		assert_int_equal(info.flags & want[i].need, want[i].need);
		assert_int_equal(info.flags & CKF_HW, 0);
		assert_int_equal(info.flags & (CKF_EC_F_P | CKF_EC_UNCOMPRESS),
				 CKF_EC_F_P | CKF_EC_UNCOMPRESS);
	}
}

static void test_mechinfo__edwards_montgomery_values(void **state)
{
	static const struct {
		CK_MECHANISM_TYPE t;
		CK_FLAGS need;
	} want[] = {
	    {CKM_EC_EDWARDS_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR},
	    {CKM_EDDSA, CKF_SIGN | CKF_VERIFY},
	    {CKM_EC_MONTGOMERY_KEY_PAIR_GEN, CKF_GENERATE_KEY_PAIR},
	};
	CK_MECHANISM_INFO info;

	(void)state;
	for (size_t i = 0; i < NELEM(want); i++) {
		assert_rv(CKR_OK,
			  p11->C_GetMechanismInfo(api_slot, want[i].t, &info));
		/* field sizes in bits: 255 (25519) to 448 (448) */
		assert_int_equal(info.ulMinKeySize, 255);
		assert_int_equal(info.ulMaxKeySize, 448);
		assert_int_equal(info.flags & want[i].need, want[i].need);
		assert_int_equal(info.flags & CKF_HW, 0);
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, api_setup_token, api_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_keygen__ec_every_curve),
	    T(test_keygen__ed25519),
	    T(test_keygen__ed448),
	    T(test_keygen__x25519),
	    T(test_keygen__x448),
	    T(test_keygen__public_key_info),
	    T(test_keygen__montgomery_public_key_info),
	    T(test_keygen__printable_string_params),
	    T(test_keygen__unknown_curve_not_supported),
	    T(test_keygen__missing_params_incomplete),
	    T(test_ecdsa__round_trip_sha2),
	    T(test_ecdsa__round_trip_sha3),
	    T(test_ecdsa__long_hash_truncated),
	    T(test_ecdsa__imported_keys),
	    T(test_ecdsa__raw_point_accepted),
	    T(test_ecdsa__flipped_bit_invalid),
	    T(test_ecdsa__multipart_flipped_bit_invalid),
	    T(test_ecdsa__wrong_length_len_range),
	    T(test_ecdsa__length_query_then_too_small),
	    T(test_ecdsa__final_length_query_then_too_small),
	    T(test_ecdsa__wrong_key_type_inconsistent),
	    T(test_ecdsa__sign_false_not_permitted),
	    T(test_ecdsa__init_while_active),
	    T(test_ecdsa__params_invalid),
	    T(test_ecdsa__raw_has_no_update),
	    T(test_eddsa__rfc8032_ed25519_test1),
	    T(test_eddsa__rfc8032_ed25519_test2),
	    T(test_eddsa__rfc8032_ed25519ctx),
	    T(test_eddsa__rfc8032_ed25519ph),
	    T(test_eddsa__rfc8032_ed448),
	    T(test_eddsa__ed25519_round_trip),
	    T(test_eddsa__ed448_round_trip),
	    T(test_eddsa__single_part_only),
	    T(test_eddsa__bad_params_invalid),
	    T(test_eddsa__wrong_key_and_usage),
	    T(test_ecdh__rfc7748_x25519),
	    T(test_ecdh__sensitive_base_gives_only_sensitive_keys),
	    T(test_ecdh__p256_both_sides_agree),
	    T(test_ecdh__cofactor_both_sides_agree),
	    T(test_ecdh__x448_both_sides_agree),
	    T(test_ecdh__kdf_matches_x963),
	    T(test_ecdh__null_kdf_lengths),
	    T(test_ecdh__bad_params_invalid),
	    T(test_ecdh__wrong_key_and_usage),
	    T(test_mechinfo__ec_values),
	    T(test_mechinfo__edwards_montgomery_values),
	};

	return api_run(argc, argv, "ec", tests, NELEM(tests));
}
