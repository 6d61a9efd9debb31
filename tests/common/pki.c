/*
 * pki.c - a throwaway test PKI made with OpenSSL (see pki.h).
 */
#include "pki.h"

#include <stdio.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

static bool add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;
	bool ok;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (e == NULL)
		return false;
	ok = X509_add_ext(x, e, -1) == 1;
	X509_EXTENSION_free(e);
	return ok;
}

/* A certificate for key, signed by issuer (itself when NULL). */
X509 *pki_make_cert(EVP_PKEY *key, const char *cn, X509 *issuer,
		    EVP_PKEY *issuer_key, const char *san, long serial)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	bool ca = issuer == NULL;

	if (x == NULL || name == NULL)
		goto fail;
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
	    !X509_set_pubkey(x, key) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
					(const unsigned char *)"coffer test",
					-1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, ca ? name : X509_get_subject_name(issuer)))
		goto fail;
	if (ca) {
		if (!add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
		    !add_ext(x, x, NID_key_usage,
			     "critical,keyCertSign,cRLSign"))
			goto fail;
	} else {
		if (!add_ext(x, issuer, NID_basic_constraints,
			     "critical,CA:FALSE") ||
		    !add_ext(x, issuer, NID_key_usage,
			     "critical,digitalSignature") ||
		    !add_ext(x, issuer, NID_ext_key_usage,
			     "serverAuth,clientAuth") ||
		    (san != NULL &&
		     !add_ext(x, issuer, NID_subject_alt_name, san)))
			goto fail;
	}
	if (X509_sign(x, ca ? key : issuer_key, EVP_sha256()) <= 0)
		goto fail;
	X509_NAME_free(name);
	return x;
fail:
	X509_NAME_free(name);
	X509_free(x);
	return NULL;
}

bool pki_write_pem(const char *file, X509 *x, EVP_PKEY *k)
{
	FILE *f = fopen(file, "w");
	bool ok;

	if (f == NULL)
		return false;
	ok = x != NULL
		 ? PEM_write_X509(f, x) == 1
		 : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
	return fclose(f) == 0 && ok;
}

EVP_PKEY *pki_keygen(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}
