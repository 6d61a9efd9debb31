/*
 * cmd_export.c - coffer export: certificates and public keys, PEM or DER.
 * Private and secret keys are refused: their values never leave the token
 * through this tool.
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/pem.h>

#include "cli/cli.h"

/* The one exportable object the URI names. Keys that never leave the
 * token are left out of the choice, so the label of a key pair names its
 * public key; a certificate and a public key under one label need type=.
 * Names a private or secret key alone: refused, saying why. */
static int find_exportable(struct cli *c, const char *uri,
			   CK_OBJECT_HANDLE *h, CK_ULONG *cls)
{
	CK_OBJECT_HANDLE *all = NULL, keep = CK_INVALID_HANDLE;
	CK_ULONG oc = 0, keep_cls = 0, secret_cls = 0;
	size_t n = 0, nkeep = 0;
	int rc = -1;

	if (cli_find(c, uri, (CK_OBJECT_CLASS)-1, &all, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!cli_attr_ulong(c, all[i], CKA_CLASS, &oc))
			goto out_free;
		if (oc == CKO_PRIVATE_KEY || oc == CKO_SECRET_KEY) {
			secret_cls = oc;
			continue;
		}
		keep = all[i];
		keep_cls = oc;
		nkeep++;
	}
	if (nkeep == 1) {
		*h = keep;
		*cls = keep_cls;
		rc = 0;
	} else if (nkeep > 1) {
		cli_err("%zu objects match %s; add type=cert or type=public "
			"(or id=)",
			nkeep, uri);
	} else if (secret_cls != 0) {
		cli_err("%s is a %s key: coffer exports only certificates and "
			"public keys",
			uri,
			secret_cls == CKO_PRIVATE_KEY ? "private" : "secret");
	} else {
		cli_err("no object matches %s", uri);
	}
out_free:
	free(all);
	return rc;
}

int cmd_export(struct cli *c)
{
	CK_OBJECT_HANDLE h;
	CK_ULONG cls;
	uint8_t *val = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	int rc = 1;

	if (c->o.argc != 1) {
		cli_err("export URI: one URI");
		return 1;
	}
	if (cli_token_for_object(c, c->o.argv[0]) != 0 ||
	    cli_session_open(c) != 0)
		return 1;
	if ((c->o.login || c->o.pin || c->o.pin_source) &&
	    cli_login(c, CKU_USER) != 0)
		return 1;
	if (find_exportable(c, c->o.argv[0], &h, &cls) != 0)
		return 1;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return 1;
	if (cls == CKO_CERTIFICATE) {
		const unsigned char *p;

		if (!cli_attr_get(c, h, CKA_VALUE, &val, &len)) {
			cli_err("cannot read the certificate");
			goto out_free;
		}
		p = val;
		x = d2i_X509(NULL, &p, (long)len);
		if (x == NULL) {
			cli_err("the token's certificate does not parse: %s",
				cli_ossl_err());
			goto out_free;
		}
		if (!(c->o.der ? i2d_X509_bio(bio, x)
			       : PEM_write_bio_X509(bio, x)))
			goto out_free;
	} else if (cls == CKO_PUBLIC_KEY) {
		pk = cli_pubkey_of(c, h);
		if (pk == NULL) {
			cli_err("cannot read this public key");
			goto out_free;
		}
		if (!(c->o.der ? i2d_PUBKEY_bio(bio, pk)
			       : PEM_write_bio_PUBKEY(bio, pk)))
			goto out_free;
	} else {
		cli_err("%s is neither a certificate nor a public key",
			c->o.argv[0]);
		goto out_free;
	}
	{
		char *data;
		long n = BIO_get_mem_data(bio, &data);

		if (cli_write_file(c->o.out, (uint8_t *)data, (size_t)n) != 0)
			goto out_free;
	}
	rc = 0;
out_free:
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(pk);
	free(val);
	return rc;
}
