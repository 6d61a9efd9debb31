/*
 * keys.c - token key objects as OpenSSL public keys, and the DER pieces
 * (curve OIDs, key ids, names, extensions) the other commands need.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include "cli/cli.h"

/* An EC_POINT is a DER OCTET STRING (v3.0 2.3.3); some modules store the
 * raw point. Returns the raw point inside v. */
static const uint8_t *unwrap_point(const uint8_t *v, size_t len, size_t *outlen)
{
	ASN1_OCTET_STRING *os = NULL;
	const unsigned char *p = v;

	*outlen = len;
	if (len > 2 && v[0] == 0x04 &&
	    (os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)len)) != NULL &&
	    p == v + len) {
		/* The content of the string starts where its header ends. */
		size_t n = (size_t)ASN1_STRING_length(os);

		ASN1_OCTET_STRING_free(os);
		*outlen = n;
		return v + len - n;
	}
	ASN1_OCTET_STRING_free(os);
	ERR_clear_error();
	return v;
}

/* The curve named by CKA_EC_PARAMS (an OID or a PrintableString). */
static int curve_nid(const uint8_t *v, size_t len)
{
	const unsigned char *p = v;
	ASN1_OBJECT *obj;
	int nid = NID_undef;

	if (len > 2 && v[0] == 0x06) {
		obj = d2i_ASN1_OBJECT(NULL, &p, (long)len);
		if (obj != NULL)
			nid = OBJ_obj2nid(obj);
		ASN1_OBJECT_free(obj);
	} else if (len > 2 && v[0] == 0x13) {
		ASN1_PRINTABLESTRING *s =
		    d2i_ASN1_PRINTABLESTRING(NULL, &p, (long)len);
		if (s != NULL) {
			const char *t = (const char *)ASN1_STRING_get0_data(s);
			int n = ASN1_STRING_length(s);

			if (n == 12 && memcmp(t, "edwards25519", 12) == 0)
				nid = NID_ED25519;
			else if (n == 10 && memcmp(t, "edwards448", 10) == 0)
				nid = NID_ED448;
			else if (n == 10 && memcmp(t, "curve25519", 10) == 0)
				nid = NID_X25519;
			else if (n == 8 && memcmp(t, "curve448", 8) == 0)
				nid = NID_X448;
		}
		ASN1_PRINTABLESTRING_free(s);
	}
	ERR_clear_error();
	return nid;
}

static EVP_PKEY *rsa_pub(struct cli *c, CK_OBJECT_HANDLE h)
{
	uint8_t *n = NULL, *e = NULL;
	size_t nl, el;
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	EVP_PKEY *pk = NULL;

	if (!cli_attr_get(c, h, CKA_MODULUS, &n, &nl) ||
	    !cli_attr_get(c, h, CKA_PUBLIC_EXPONENT, &e, &el))
		goto out_free;
	bn = BN_bin2bn(n, (int)nl, NULL);
	be = BN_bin2bn(e, (int)el, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn == NULL || be == NULL || bld == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out_free;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
out_free:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return pk;
}

static EVP_PKEY *ec_pub(const uint8_t *params, size_t plen,
			const uint8_t *point, size_t ptlen)
{
	int nid = curve_nid(params, plen);
	size_t rawlen;
	const uint8_t *raw = unwrap_point(point, ptlen, &rawlen);
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM p[3];
	EVP_PKEY *pk = NULL;
	const char *group;

	switch (nid) {
	case NID_ED25519:
	case NID_ED448:
	case NID_X25519:
	case NID_X448:
		return EVP_PKEY_new_raw_public_key(nid, NULL, raw, rawlen);
	case NID_undef:
		return NULL;
	default:
		break;
	}
	group = OBJ_nid2sn(nid);
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						(char *)group, 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
						 (void *)raw, rawlen);
	p[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, p) <= 0)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

/* The public key object beside private key h (same CKA_ID). */
static bool public_twin(struct cli *c, CK_OBJECT_HANDLE h,
			CK_OBJECT_HANDLE *pub)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE t[2] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_ID, NULL, 0}};
	CK_ULONG got = 0;
	uint8_t *id;
	size_t idlen;
	bool found = false;

	if (!cli_attr_get(c, h, CKA_ID, &id, &idlen))
		return false;
	t[1].pValue = id;
	t[1].ulValueLen = (CK_ULONG)idlen;
	if (c->f->C_FindObjectsInit(c->sess, t, 2) == CKR_OK) {
		found = c->f->C_FindObjects(c->sess, pub, 1, &got) == CKR_OK &&
			got == 1;
		c->f->C_FindObjectsFinal(c->sess);
	}
	free(id);
	return found;
}

EVP_PKEY *cli_pubkey_of(struct cli *c, CK_OBJECT_HANDLE h)
{
	CK_ULONG kt, cls;
	uint8_t *params = NULL, *point = NULL;
	size_t plen, ptlen;
	EVP_PKEY *pk = NULL;
	CK_OBJECT_HANDLE pub;

	if (!cli_attr_ulong(c, h, CKA_CLASS, &cls) ||
	    !cli_attr_ulong(c, h, CKA_KEY_TYPE, &kt))
		return NULL;
	if (kt == CKK_RSA) {
		pk = rsa_pub(c, h);
		if (pk == NULL && cls == CKO_PRIVATE_KEY &&
		    public_twin(c, h, &pub))
			pk = rsa_pub(c, pub);
		return pk;
	}
	if (kt != CKK_EC && kt != CKK_EC_EDWARDS && kt != CKK_EC_MONTGOMERY)
		return NULL;
	if (!cli_attr_get(c, h, CKA_EC_PARAMS, &params, &plen))
		goto out_free;
	if (!cli_attr_get(c, h, CKA_EC_POINT, &point, &ptlen)) {
		/* Private EC keys have no CKA_EC_POINT: the public key
		 * object beside it has. */
		if (cls != CKO_PRIVATE_KEY || !public_twin(c, h, &pub) ||
		    !cli_attr_get(c, pub, CKA_EC_POINT, &point, &ptlen))
			goto out_free;
	}
	pk = ec_pub(params, plen, point, ptlen);
out_free:
	free(params);
	free(point);
	return pk;
}

int cli_signing_key(struct cli *c, const char *uri, CK_OBJECT_HANDLE *priv,
		    EVP_PKEY **pub)
{
	bool can_sign = false;

	*pub = NULL;
	if (cli_find_one(c, uri, CKO_PRIVATE_KEY, priv) != 0)
		return -1;
	*pub = cli_pubkey_of(c, *priv);
	if (*pub == NULL) {
		cli_err("%s: cannot read the key's public half (no public "
			"key object with its CKA_ID?)",
			uri);
		return -1;
	}
	cli_attr_bool(c, *priv, CKA_SIGN, &can_sign);
	if (EVP_PKEY_get_base_id(*pub) == EVP_PKEY_X25519 ||
	    EVP_PKEY_get_base_id(*pub) == EVP_PKEY_X448) {
		cli_err("%s is an %s key: it agrees keys, it cannot sign", uri,
			EVP_PKEY_get0_type_name(*pub));
	} else if (!can_sign) {
		cli_err("%s cannot sign (its CKA_SIGN is false)", uri);
	} else {
		return 0;
	}
	EVP_PKEY_free(*pub);
	*pub = NULL;
	return -1;
}

const EVP_MD *cli_md_by_name(const char *name)
{
	if (name == NULL || strcmp(name, "sha256") == 0)
		return EVP_sha256();
	if (strcmp(name, "sha384") == 0)
		return EVP_sha384();
	if (strcmp(name, "sha512") == 0)
		return EVP_sha512();
	cli_err("hash '%s': use sha256, sha384 or sha512", name);
	return NULL;
}

int cli_key_id(EVP_PKEY *pub, uint8_t id[20])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(pub, &der);
	int rc = -1;

	if (n > 0 && EVP_Digest(der, (size_t)n, id, NULL, EVP_sha1(), NULL))
		rc = 0;
	OPENSSL_free(der);
	return rc;
}

int cli_ec_params_der(EVP_PKEY *pk, uint8_t **der, size_t *len)
{
	int nid = EVP_PKEY_get_base_id(pk);
	unsigned char *p = NULL;
	int n;

	*der = NULL;
	*len = 0;
	if (nid == EVP_PKEY_EC) {
		char group[64];

		if (!EVP_PKEY_get_utf8_string_param(pk,
						    OSSL_PKEY_PARAM_GROUP_NAME,
						    group, sizeof(group), NULL))
			return -1;
		nid = OBJ_sn2nid(group);
		if (nid == NID_undef)
			nid = OBJ_txt2nid(group);
	}
	n = i2d_ASN1_OBJECT(OBJ_nid2obj(nid), &p);
	if (n <= 0)
		return -1;
	*der = p;
	*len = (size_t)n;
	return 0;
}

X509_NAME *cli_name_parse(const char *s)
{
	X509_NAME *name = X509_NAME_new();
	char *buf = strdup(s), *p = buf;

	if (name == NULL || buf == NULL)
		goto out_fail;
	if (*p != '/') {
		cli_err("subject '%s': write it as /CN=name/O=org", s);
		goto out_fail;
	}
	p++;
	while (*p != '\0') {
		char *field = p, *value, *w;

		/* A field runs to the next unescaped '/'; "\/" is a slash. */
		for (w = p; *p != '\0' && *p != '/'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			*w++ = *p;
		}
		if (*p == '/')
			p++;
		*w = '\0';
		value = strchr(field, '=');
		if (value == NULL) {
			cli_err("subject '%s': '%s' has no '='", s, field);
			goto out_fail;
		}
		*value++ = '\0';
		if (!X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
						(const unsigned char *)value,
						-1, -1, 0)) {
			cli_err("subject '%s': bad field '%s'", s, field);
			goto out_fail;
		}
	}
	free(buf);
	return name;
out_fail:
	ERR_clear_error();
	free(buf);
	X509_NAME_free(name);
	return NULL;
}

int cli_ext_add(STACK_OF(X509_EXTENSION) * *sk, X509V3_CTX *ctx, int nid,
		const char *value)
{
	X509_EXTENSION *ext;

	ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (ext == NULL) {
		cli_err("%s '%s': %s", OBJ_nid2ln(nid), value, cli_ossl_err());
		return -1;
	}
	if (X509v3_add_ext(sk, ext, -1) == NULL) {
		X509_EXTENSION_free(ext);
		return -1;
	}
	X509_EXTENSION_free(ext);
	return 0;
}
