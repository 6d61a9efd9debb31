/*
 * cmd_csr.c - coffer csr: a PKCS#10 request built with X509_REQ and signed
 * in the token: the to-be-signed DER (i2d_re_X509_REQ_tbs) goes through
 * C_Sign, the result is set as the request's signature.
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/pem.h>

#include "cli/cli.h"

static int write_req(struct cli *c, X509_REQ *req)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -1;

	if (bio == NULL)
		return -1;
	if (c->o.der ? i2d_X509_REQ_bio(bio, req)
		     : PEM_write_bio_X509_REQ(bio, req)) {
		n = BIO_get_mem_data(bio, &data);
		rc = cli_write_file(c->o.out, (uint8_t *)data, (size_t)n);
	}
	BIO_free(bio);
	return rc;
}

int cmd_csr(struct cli *c)
{
	CK_OBJECT_HANDLE priv;
	EVP_PKEY *pub = NULL;
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *bits = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	const EVP_MD *md;
	unsigned char *tbs = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int tbslen, rc = 1;

	if (c->o.key == NULL || c->o.subject == NULL) {
		cli_err("csr: --key URI and --subject /CN=... are needed");
		return 1;
	}
	md = cli_md_by_name(c->o.hash);
	if (md == NULL)
		return 1;
	name = cli_name_parse(c->o.subject);
	if (name == NULL)
		return 1;
	if (cli_token_for_object(c, c->o.key) != 0 ||
	    cli_login(c, CKU_USER) != 0 ||
	    cli_signing_key(c, c->o.key, &priv, &pub) != 0)
		goto out_free;
	alg = cli_sigalg_new(pub, md, c->o.pss);
	if (alg == NULL)
		goto out_free;
	req = X509_REQ_new();
	if (req == NULL || !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(req, name) ||
	    !X509_REQ_set_pubkey(req, pub))
		goto out_ossl;
	if (c->o.san != NULL) {
		X509V3_CTX ctx;

		X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
		if (cli_ext_add(&exts, &ctx, NID_subject_alt_name, c->o.san) !=
		    0)
			goto out_free;
		if (!X509_REQ_add_extensions(req, exts))
			goto out_ossl;
	}
	if (!X509_REQ_set1_signature_algo(req, alg))
		goto out_ossl;
	tbslen = i2d_re_X509_REQ_tbs(req, &tbs);
	if (tbslen <= 0)
		goto out_ossl;
	if (cli_sign_x509(c, priv, pub, md, c->o.pss, tbs, (size_t)tbslen, &sig,
			  &siglen) != 0)
		goto out_free;
	bits = ASN1_BIT_STRING_new();
	if (bits == NULL || !ASN1_BIT_STRING_set(bits, sig, (int)siglen))
		goto out_ossl;
	/* A signature is a whole number of bytes: no unused bits. */
	bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	X509_REQ_set0_signature(req, bits);
	bits = NULL; /* transferred */
	if (X509_REQ_verify(req, pub) != 1) {
		cli_err("the token's signature does not verify: %s",
			cli_ossl_err());
		goto out_free;
	}
	if (write_req(c, req) != 0)
		goto out_free;
	rc = 0;
	goto out_free;
out_ossl:
	cli_err("cannot build the request: %s", cli_ossl_err());
out_free:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ASN1_BIT_STRING_free(bits);
	free(sig);
	OPENSSL_free(tbs);
	X509_ALGOR_free(alg);
	X509_REQ_free(req);
	X509_NAME_free(name);
	EVP_PKEY_free(pub);
	return rc;
}
