/*
 * sign.c - signing X.509 structures with a token key: the
 * AlgorithmIdentifier OpenSSL would write, and the signature made by
 * C_Sign in the form X.509 wants (ECDSA r||s becomes an ECDSA-Sig-Value).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "cli/cli.h"

/* RSASSA-PSS parameters: hash md, MGF1 with md, salt as long as the hash
 * (RFC 4055), built from OpenSSL's own ASN.1 types. */
static X509_ALGOR *pss_algor(const EVP_MD *md)
{
	RSA_PSS_PARAMS *pss = RSA_PSS_PARAMS_new();
	X509_ALGOR *mgfmd = X509_ALGOR_new(), *alg = NULL;
	ASN1_STRING *mgfp = NULL, *pssp = NULL;

	if (pss == NULL || mgfmd == NULL)
		goto out_free;
	pss->hashAlgorithm = X509_ALGOR_new();
	pss->maskGenAlgorithm = X509_ALGOR_new();
	pss->saltLength = ASN1_INTEGER_new();
	if (pss->hashAlgorithm == NULL || pss->maskGenAlgorithm == NULL ||
	    pss->saltLength == NULL)
		goto out_free;
	X509_ALGOR_set_md(pss->hashAlgorithm, md);
	X509_ALGOR_set_md(mgfmd, md);
	mgfp = ASN1_item_pack(mgfmd, ASN1_ITEM_rptr(X509_ALGOR), NULL);
	if (mgfp == NULL ||
	    !X509_ALGOR_set0(pss->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1),
			     V_ASN1_SEQUENCE, mgfp))
		goto out_free;
	mgfp = NULL; /* transferred */
	if (!ASN1_INTEGER_set(pss->saltLength, EVP_MD_get_size(md)))
		goto out_free;
	pssp = ASN1_item_pack(pss, ASN1_ITEM_rptr(RSA_PSS_PARAMS), NULL);
	alg = X509_ALGOR_new();
	if (pssp == NULL || alg == NULL ||
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE,
			     pssp)) {
		X509_ALGOR_free(alg);
		alg = NULL;
		goto out_free;
	}
	pssp = NULL; /* transferred */
out_free:
	ASN1_STRING_free(pssp);
	ASN1_STRING_free(mgfp);
	X509_ALGOR_free(mgfmd);
	RSA_PSS_PARAMS_free(pss);
	return alg;
}

X509_ALGOR *cli_sigalg_new(EVP_PKEY *pub, const EVP_MD *md, bool pss)
{
	int kid = EVP_PKEY_get_base_id(pub);
	int signid = NID_undef, ptype = V_ASN1_UNDEF;
	X509_ALGOR *alg;

	if (kid == EVP_PKEY_RSA && pss)
		return pss_algor(md);
	if (pss) {
		cli_err("--pss needs an RSA key");
		return NULL;
	}
	switch (kid) {
	case EVP_PKEY_RSA:
		ptype = V_ASN1_NULL; /* RFC 4055: NULL parameters */
				     /* fallthrough */
	case EVP_PKEY_EC:
		if (!OBJ_find_sigid_by_algs(&signid, EVP_MD_get_type(md), kid))
			signid = NID_undef;
		break;
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		signid = kid; /* RFC 8410: the hash is part of the scheme */
		break;
	default:
		break;
	}
	if (signid == NID_undef) {
		cli_err("this key type cannot sign certificates or requests");
		return NULL;
	}
	alg = X509_ALGOR_new();
	if (alg != NULL &&
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(signid), ptype, NULL)) {
		X509_ALGOR_free(alg);
		alg = NULL;
	}
	return alg;
}

static CK_MECHANISM_TYPE rsa_mech(const EVP_MD *md, bool pss,
				  CK_MECHANISM_TYPE *hash, CK_ULONG *mgf)
{
	switch (EVP_MD_get_type(md)) {
	case NID_sha384:
		*hash = CKM_SHA384;
		*mgf = CKG_MGF1_SHA384;
		return pss ? CKM_SHA384_RSA_PKCS_PSS : CKM_SHA384_RSA_PKCS;
	case NID_sha512:
		*hash = CKM_SHA512;
		*mgf = CKG_MGF1_SHA512;
		return pss ? CKM_SHA512_RSA_PKCS_PSS : CKM_SHA512_RSA_PKCS;
	default:
		*hash = CKM_SHA256;
		*mgf = CKG_MGF1_SHA256;
		return pss ? CKM_SHA256_RSA_PKCS_PSS : CKM_SHA256_RSA_PKCS;
	}
}

/* r||s from C_Sign as a DER ECDSA-Sig-Value. */
static int ecdsa_der(const uint8_t *rs, size_t len, uint8_t **out,
		     size_t *outlen)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, (int)(len / 2), NULL);
	BIGNUM *s = BN_bin2bn(rs + len / 2, (int)(len / 2), NULL);
	unsigned char *der = NULL;
	int n, rc = -1;

	if (es == NULL || r == NULL || s == NULL || len % 2 != 0 ||
	    !ECDSA_SIG_set0(es, r, s))
		goto out_free;
	r = s = NULL; /* transferred */
	n = i2d_ECDSA_SIG(es, &der);
	if (n <= 0)
		goto out_free;
	*out = malloc((size_t)n);
	if (*out == NULL)
		goto out_free;
	memcpy(*out, der, (size_t)n);
	*outlen = (size_t)n;
	rc = 0;
out_free:
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return rc;
}

int cli_sign_x509(struct cli *c, CK_OBJECT_HANDLE priv, EVP_PKEY *pub,
		  const EVP_MD *md, bool pss, const uint8_t *tbs, size_t len,
		  uint8_t **sig, size_t *siglen)
{
	CK_RSA_PKCS_PSS_PARAMS pp;
	CK_MECHANISM m = {0, NULL, 0};
	unsigned char dgst[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	const uint8_t *data = tbs;
	CK_ULONG dl = (CK_ULONG)len, sl = 0;
	uint8_t *s = NULL;
	int kid = EVP_PKEY_get_base_id(pub);
	int rc = -1;
	CK_RV rv;

	*sig = NULL;
	*siglen = 0;
	switch (kid) {
	case EVP_PKEY_RSA:
		m.mechanism = rsa_mech(md, pss, &pp.hashAlg, &pp.mgf);
		if (pss) {
			pp.sLen = (CK_ULONG)EVP_MD_get_size(md);
			m.pParameter = &pp;
			m.ulParameterLen = sizeof(pp);
		}
		break;
	case EVP_PKEY_EC:
		/* CKM_ECDSA signs a hash: every module has it, unlike the
		 * CKM_ECDSA_SHAxxx combinations. */
		m.mechanism = CKM_ECDSA;
		if (!EVP_Digest(tbs, len, dgst, &dlen, md, NULL))
			return -1;
		data = dgst;
		dl = dlen;
		break;
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		m.mechanism = CKM_EDDSA;
		break;
	default:
		cli_err("this key type cannot sign");
		return -1;
	}
	rv = c->f->C_SignInit(c->sess, &m, priv);
	if (rv == CKR_OK && cli_context_login(c, priv) != 0)
		goto out_free;
	if (rv == CKR_OK)
		rv = c->f->C_Sign(c->sess, (CK_BYTE *)data, dl, NULL, &sl);
	if (rv == CKR_OK) {
		s = malloc(sl ? sl : 1);
		if (s == NULL)
			goto out_free;
		rv = c->f->C_Sign(c->sess, (CK_BYTE *)data, dl, s, &sl);
	}
	if (rv != CKR_OK) {
		if (rv == CKR_USER_NOT_LOGGED_IN)
			cli_err("signing needs a login: give --pin or "
				"--pin-source");
		else
			cli_rv_err("signing in the token", rv);
		goto out_free;
	}
	if (kid == EVP_PKEY_EC) {
		rc = ecdsa_der(s, sl, sig, siglen);
		goto out_free;
	}
	*sig = s;
	*siglen = sl;
	s = NULL;
	rc = 0;
out_free:
	free(s);
	OPENSSL_cleanse(dgst, sizeof(dgst));
	return rc;
}
