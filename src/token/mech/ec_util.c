/* ec_util.c - see ec_util.h. */
#include "token/mech/ec_util.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "common/crypto.h"
#include "common/secmem.h"

/* The largest point: P-521 uncompressed, 1 + 2 * 66 bytes; DER adds 3. */
#define POINT_MAX 133
#define POINT_DER_MAX (POINT_MAX + 3)
#define VALUE_MAX 66

static const struct cf_ec_curve curves[] = {
    {NID_X9_62_prime256v1, CKK_EC, "prime256v1",
     {"prime256v1", "secp256r1", "P-256"}, 32, 256},
    {NID_secp384r1, CKK_EC, "secp384r1", {"secp384r1", "P-384", NULL}, 48,
     384},
    {NID_secp521r1, CKK_EC, "secp521r1", {"secp521r1", "P-521", NULL}, 66,
     521},
    {NID_secp256k1, CKK_EC, "secp256k1", {"secp256k1", NULL, NULL}, 32, 256},
    {NID_ED25519, CKK_EC_EDWARDS, "ED25519", {"edwards25519", "Ed25519", NULL},
     32, 255},
    {NID_ED448, CKK_EC_EDWARDS, "ED448", {"edwards448", "Ed448", NULL}, 57,
     448},
    {NID_X25519, CKK_EC_MONTGOMERY, "X25519", {"curve25519", "X25519", NULL},
     32, 255},
    {NID_X448, CKK_EC_MONTGOMERY, "X448", {"curve448", "X448", NULL}, 56, 448},
};
#define NCURVES (sizeof(curves) / sizeof(curves[0]))

static const struct cf_ec_curve *by_nid(CK_KEY_TYPE kt, int nid)
{
	for (size_t i = 0; i < NCURVES; i++)
		if (curves[i].nid == nid && curves[i].kt == kt)
			return &curves[i];
	return NULL;
}

static const struct cf_ec_curve *by_name(CK_KEY_TYPE kt, const uint8_t *s,
					 size_t n)
{
	for (size_t i = 0; i < NCURVES; i++) {
		if (curves[i].kt != kt)
			continue;
		for (size_t j = 0; j < 3 && curves[i].alias[j] != NULL; j++) {
			const char *a = curves[i].alias[j];
			if (strlen(a) == n &&
			    strncasecmp(a, (const char *)s, n) == 0)
				return &curves[i];
		}
	}
	return NULL;
}

static CK_RV parse_oid(CK_KEY_TYPE kt, const uint8_t *der, long len,
		       const struct cf_ec_curve **out)
{
	const unsigned char *p = der;
	ASN1_OBJECT *obj = d2i_ASN1_OBJECT(NULL, &p, len);
	CK_RV rv = CKR_ATTRIBUTE_VALUE_INVALID;

	if (obj == NULL || p != der + len)
		goto out;
	*out = by_nid(kt, OBJ_obj2nid(obj));
	rv = *out != NULL ? CKR_OK : CKR_CURVE_NOT_SUPPORTED;
out:
	ASN1_OBJECT_free(obj);
	return rv;
}

static CK_RV parse_name(CK_KEY_TYPE kt, const uint8_t *der, long len,
			const struct cf_ec_curve **out)
{
	const unsigned char *p = der;
	ASN1_PRINTABLESTRING *s = d2i_ASN1_PRINTABLESTRING(NULL, &p, len);
	CK_RV rv = CKR_ATTRIBUTE_VALUE_INVALID;

	if (s == NULL || p != der + len)
		goto out;
	*out = by_name(kt, ASN1_STRING_get0_data(s),
		       (size_t)ASN1_STRING_length(s));
	rv = *out != NULL ? CKR_OK : CKR_CURVE_NOT_SUPPORTED;
out:
	ASN1_PRINTABLESTRING_free(s);
	return rv;
}

CK_RV cf_ec_curve_parse(CK_KEY_TYPE kt, const uint8_t *der, size_t len,
			const struct cf_ec_curve **out)
{
	*out = NULL;
	if (der == NULL || len < 2 || len > 1024)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	switch (der[0]) {
	case V_ASN1_OBJECT:
		return parse_oid(kt, der, (long)len, out);
	case V_ASN1_PRINTABLESTRING:
		return parse_name(kt, der, (long)len, out);
	case V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED: /* explicit parameters */
	case V_ASN1_NULL:			   /* implicitlyCA */
		return CKR_CURVE_NOT_SUPPORTED;
	default:
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
}

const struct cf_ec_curve *cf_ec_curve_of(const struct cf_object *o)
{
	const struct cf_attr *a = cf_object_attr(o, CKA_EC_PARAMS);
	const struct cf_ec_curve *c = NULL;

	if (a == NULL ||
	    cf_ec_curve_parse(o->key_type, a->value, a->len, &c) != CKR_OK)
		return NULL;
	return c;
}

const struct cf_ec_curve *cf_ec_curve_of_pkey(CK_KEY_TYPE kt,
					      const EVP_PKEY *pk)
{
	char group[64];
	int nid;

	if (kt != CKK_EC) {
		for (size_t i = 0; i < NCURVES; i++)
			if (curves[i].kt == kt &&
			    EVP_PKEY_is_a(pk, curves[i].name))
				return &curves[i];
		return NULL;
	}
	if (!EVP_PKEY_is_a(pk, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
					    group, sizeof(group), NULL))
		return NULL;
	nid = OBJ_txt2nid(group);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(group);
	return by_nid(kt, nid);
}

/* Whether n bytes at pt have the shape of a point of curve c. */
static bool point_shape_ok(const struct cf_ec_curve *c, const uint8_t *pt,
			   size_t n)
{
	if (c->kt != CKK_EC)
		return n == c->len;
	if (n == 1 + 2 * c->len)
		return pt[0] == POINT_CONVERSION_UNCOMPRESSED;
	if (n == 1 + c->len)
		return pt[0] == 0x02 || pt[0] == 0x03;
	return false;
}

bool cf_ec_point_unwrap(const struct cf_ec_curve *c, const uint8_t *in,
			size_t inl, const uint8_t **pt, size_t *ptl)
{
	const unsigned char *p = in;
	long clen;
	int tag, xclass, ret;

	*pt = NULL;
	*ptl = 0;
	if (in == NULL || inl == 0 || inl > POINT_DER_MAX)
		return false;
	/* DER first: an OCTET STRING whose content is all the rest and has
	 * the shape of a point. A raw point that happens to look like an
	 * OCTET STRING header cannot also have a point's length inside. */
	if (in[0] == V_ASN1_OCTET_STRING) {
		ret = ASN1_get_object(&p, &clen, &tag, &xclass, (long)inl);
		if (!(ret & 0x80) && !(ret & V_ASN1_CONSTRUCTED) &&
		    tag == V_ASN1_OCTET_STRING &&
		    xclass == V_ASN1_UNIVERSAL && clen >= 0 &&
		    (size_t)(p - in) + (size_t)clen == inl &&
		    point_shape_ok(c, p, (size_t)clen)) {
			*pt = p;
			*ptl = (size_t)clen;
			return true;
		}
	}
	if (!point_shape_ok(c, in, inl))
		return false;
	*pt = in;
	*ptl = inl;
	return true;
}

EVP_PKEY *cf_ec_pkey_public(const struct cf_ec_curve *c, const uint8_t *pt,
			    size_t ptl)
{
	OSSL_LIB_CTX *lib = cf_libctx();
	EVP_PKEY_CTX *pctx;
	EVP_PKEY *pk = NULL;
	OSSL_PARAM params[3];

	if (lib == NULL || !point_shape_ok(c, pt, ptl))
		return NULL;
	if (c->kt != CKK_EC)
		return EVP_PKEY_new_raw_public_key_ex(lib, c->name, NULL, pt,
						      ptl);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)c->name, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
						      (void *)pt, ptl);
	params[2] = OSSL_PARAM_construct_end();
	pctx = cf_pkey_ctx("EC");
	/* OpenSSL refuses a point that is not on the curve here. */
	if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	EVP_PKEY_CTX_free(pctx);
	return pk;
}

/* The public point d*G of scalar d (0 < d < order), uncompressed. */
static bool ec_public_of(OSSL_LIB_CTX *lib, const struct cf_ec_curve *c,
			 const BIGNUM *d, uint8_t *pt, size_t *ptl)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name_ex(lib, NULL, c->nid);
	BN_CTX *bn = BN_CTX_secure_new_ex(lib);
	EC_POINT *p = NULL;
	bool ok = false;

	if (g == NULL || bn == NULL)
		goto out;
	if (BN_is_zero(d) || BN_is_negative(d) ||
	    BN_cmp(d, EC_GROUP_get0_order(g)) >= 0)
		goto out;
	p = EC_POINT_new(g);
	if (p == NULL || !EC_POINT_mul(g, p, d, NULL, NULL, bn))
		goto out;
	*ptl = EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, pt,
				  POINT_MAX, bn);
	ok = *ptl != 0;
out:
	EC_POINT_free(p);
	BN_CTX_free(bn);
	EC_GROUP_free(g);
	return ok;
}

static EVP_PKEY *ec_private(OSSL_LIB_CTX *lib, const struct cf_ec_curve *c,
			    const uint8_t *v, size_t vl)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *d = BN_secure_new();
	uint8_t pt[POINT_MAX];
	size_t ptl = 0;

	if (d == NULL || vl > 2 * VALUE_MAX || vl > INT_MAX ||
	    BN_bin2bn(v, (int)vl, d) == NULL)
		goto out;
	if (!ec_public_of(lib, c, d, pt, &ptl))
		goto out;
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
					     c->name, 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
					      ptl))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = cf_pkey_ctx("EC");
	if (params == NULL || pctx == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pk, EVP_PKEY_KEYPAIR, params) != 1) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
out:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params); /* secure memory for the BN: cleansed */
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	return pk;
}

EVP_PKEY *cf_ec_pkey_private(const struct cf_ec_curve *c, const uint8_t *v,
			     size_t vl)
{
	OSSL_LIB_CTX *lib = cf_libctx();

	if (lib == NULL || v == NULL || vl == 0)
		return NULL;
	if (c->kt == CKK_EC)
		return ec_private(lib, c, v, vl);
	if (vl != c->len)
		return NULL;
	return EVP_PKEY_new_raw_private_key_ex(lib, c->name, NULL, v, vl);
}

CK_RV cf_ec_load(CK_KEY_TYPE kt, const struct cf_object *o, EVP_PKEY **out)
{
	const struct cf_ec_curve *c = cf_ec_curve_of(o);
	const struct cf_attr *a;
	const uint8_t *pt;
	size_t ptl;

	*out = NULL;
	if (c == NULL || c->kt != kt)
		return CKR_GENERAL_ERROR;
	if (o->cls == CKO_PUBLIC_KEY) {
		a = cf_object_attr(o, CKA_EC_POINT);
		if (a == NULL || !cf_ec_point_unwrap(c, a->value, a->len, &pt,
						     &ptl))
			return CKR_GENERAL_ERROR;
		*out = cf_ec_pkey_public(c, pt, ptl);
	} else {
		a = cf_object_attr(o, CKA_VALUE);
		if (a == NULL)
			return CKR_GENERAL_ERROR;
		*out = cf_ec_pkey_private(c, a->value, a->len);
	}
	return *out != NULL ? CKR_OK : CKR_GENERAL_ERROR;
}

/* Sets CKA_EC_PARAMS to the curve's OID unless o has a value already. */
static CK_RV keep_params(struct cf_object *o, const struct cf_ec_curve *c)
{
	const struct cf_attr *a = cf_object_attr(o, CKA_EC_PARAMS);
	unsigned char *der = NULL;
	int n;
	CK_RV rv;

	if (a != NULL && a->len > 0)
		return CKR_OK;
	n = i2d_ASN1_OBJECT(OBJ_nid2obj(c->nid), &der);
	if (n <= 0)
		return CKR_GENERAL_ERROR;
	rv = cf_object_set(o, CKA_EC_PARAMS, der, (CK_ULONG)n);
	OPENSSL_free(der);
	return rv;
}

/* The public key as it goes into CKA_EC_POINT and the SubjectPublicKeyInfo:
 * the encoded point (CKK_EC) or the raw key. */
static CK_RV public_bytes(const struct cf_ec_curve *c, EVP_PKEY *pk,
			  uint8_t pt[POINT_MAX], size_t *ptl)
{
	*ptl = POINT_MAX;
	if (c->kt == CKK_EC)
		return EVP_PKEY_get_octet_string_param(
			   pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt,
			   POINT_MAX, ptl)
			   ? CKR_OK
			   : CKR_GENERAL_ERROR;
	return EVP_PKEY_get_raw_public_key(pk, pt, ptl) ? CKR_OK
							: CKR_GENERAL_ERROR;
}

/* The DER SubjectPublicKeyInfo, made with OpenSSL's X509_PUBKEY from the
 * curve's OIDs and the public bytes: i2d_PUBKEY gives the same bytes but
 * searches every provider's encoders on each call, which was a third of a
 * P-256 key pair's generation. RFC 5480: id-ecPublicKey with the named
 * curve; RFC 8410: the curve's own OID, no parameters. */
static CK_RV spki_der(const struct cf_ec_curve *c, const uint8_t *pt,
		      size_t ptl, unsigned char **der, int *n)
{
	X509_PUBKEY *xp = X509_PUBKEY_new();
	unsigned char *bits = OPENSSL_memdup(pt, ptl);
	int ok;

	*der = NULL;
	if (xp == NULL || bits == NULL) {
		OPENSSL_free(bits);
		X509_PUBKEY_free(xp);
		return CKR_HOST_MEMORY;
	}
	if (c->kt == CKK_EC)
		ok = X509_PUBKEY_set0_param(
		    xp, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
		    OBJ_nid2obj(c->nid), bits, (int)ptl);
	else
		ok = X509_PUBKEY_set0_param(xp, OBJ_nid2obj(c->nid),
					    V_ASN1_UNDEF, NULL, bits,
					    (int)ptl);
	if (!ok)
		OPENSSL_free(bits); /* not taken */
	*n = ok ? i2d_X509_PUBKEY(xp, der) : 0;
	X509_PUBKEY_free(xp);
	return *n > 0 ? CKR_OK : CKR_GENERAL_ERROR;
}

/* CKA_EC_POINT: the point in a DER OCTET STRING (v3.0 2.3.3). */
static CK_RV set_point(struct cf_object *o, const uint8_t *pt, size_t ptl)
{
	ASN1_OCTET_STRING *os = NULL;
	unsigned char *der = NULL;
	int n;
	CK_RV rv = CKR_GENERAL_ERROR;

	os = ASN1_OCTET_STRING_new();
	if (os == NULL || !ASN1_OCTET_STRING_set(os, pt, (int)ptl))
		goto out;
	n = i2d_ASN1_OCTET_STRING(os, &der);
	if (n <= 0)
		goto out;
	rv = cf_object_set(o, CKA_EC_POINT, der, (CK_ULONG)n);
out:
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(os);
	return rv;
}

/* CKA_VALUE of a private key: the scalar padded to the order's length, or
 * the raw private key. */
static CK_RV set_value(struct cf_object *o, const struct cf_ec_curve *c,
		       EVP_PKEY *pk)
{
	uint8_t v[VALUE_MAX];
	size_t vl = sizeof(v);
	BIGNUM *d = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (c->kt == CKK_EC) {
		if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d) ||
		    BN_bn2binpad(d, v, (int)c->len) != (int)c->len)
			goto out;
		vl = c->len;
	} else if (!EVP_PKEY_get_raw_private_key(pk, v, &vl)) {
		goto out;
	}
	rv = cf_object_set(o, CKA_VALUE, v, (CK_ULONG)vl);
out:
	BN_clear_free(d);
	cf_wipe(v, sizeof(v));
	return rv;
}

CK_RV cf_ec_store(CK_KEY_TYPE kt, EVP_PKEY *pk, struct cf_object *pub,
		  struct cf_object *priv)
{
	const struct cf_ec_curve *c = cf_ec_curve_of_pkey(kt, pk);
	uint8_t pt[POINT_MAX];
	size_t ptl = 0;
	unsigned char *spki = NULL;
	int spki_len = 0;
	CK_RV rv;

	if (c == NULL)
		return CKR_KEY_TYPE_INCONSISTENT;
	rv = public_bytes(c, pk, pt, &ptl);
	if (rv == CKR_OK)
		rv = spki_der(c, pt, ptl, &spki, &spki_len);
	if (rv == CKR_OK && pub != NULL) {
		rv = keep_params(pub, c);
		if (rv == CKR_OK)
			rv = set_point(pub, pt, ptl);
		if (rv == CKR_OK)
			rv = cf_object_set(pub, CKA_PUBLIC_KEY_INFO, spki,
					   (CK_ULONG)spki_len);
	}
	if (rv == CKR_OK && priv != NULL) {
		rv = keep_params(priv, c);
		if (rv == CKR_OK)
			rv = set_value(priv, c, pk);
		if (rv == CKR_OK)
			rv = cf_object_set(priv, CKA_PUBLIC_KEY_INFO, spki,
					   (CK_ULONG)spki_len);
	}
	OPENSSL_free(spki);
	return rv;
}

CK_ULONG cf_ec_bits(CK_KEY_TYPE kt, const EVP_PKEY *pk)
{
	const struct cf_ec_curve *c = cf_ec_curve_of_pkey(kt, pk);

	return c != NULL ? c->bits : 0;
}

static EVP_PKEY *generate(const struct cf_ec_curve *c)
{
	OSSL_LIB_CTX *lib = cf_libctx();
	EVP_PKEY_CTX *pctx;
	EVP_PKEY *pk = NULL;

	if (lib == NULL)
		return NULL;
	pctx = cf_pkey_ctx(c->kt == CKK_EC ? "EC" : c->name);
	if (pctx == NULL || EVP_PKEY_keygen_init(pctx) != 1 ||
	    (c->kt == CKK_EC &&
	     EVP_PKEY_CTX_set_group_name(pctx, c->name) != 1) ||
	    EVP_PKEY_generate(pctx, &pk) != 1) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	EVP_PKEY_CTX_free(pctx);
	return pk;
}

CK_RV cf_ec_generate_pair(CK_KEY_TYPE kt, struct cf_object *pub,
			  struct cf_object *priv)
{
	const struct cf_attr *a = cf_object_attr(pub, CKA_EC_PARAMS);
	const struct cf_attr *b = cf_object_attr(priv, CKA_EC_PARAMS);
	const struct cf_ec_curve *c;
	EVP_PKEY *pk;
	CK_RV rv;

	if (a == NULL || a->len == 0)
		return CKR_TEMPLATE_INCOMPLETE;
	rv = cf_ec_curve_parse(kt, a->value, a->len, &c);
	if (rv != CKR_OK)
		return rv;
	/* The private half carries the curve exactly as the caller gave it
	 * for the public one. */
	if (b != NULL && b->len > 0 &&
	    (b->len != a->len || memcmp(b->value, a->value, a->len) != 0))
		return CKR_TEMPLATE_INCONSISTENT;
	rv = cf_object_set(priv, CKA_EC_PARAMS, a->value, a->len);
	if (rv != CKR_OK)
		return rv;
	pk = generate(c);
	if (pk == NULL)
		return CKR_GENERAL_ERROR;
	rv = cf_ec_store(kt, pk, pub, priv);
	EVP_PKEY_free(pk);
	return rv;
}
