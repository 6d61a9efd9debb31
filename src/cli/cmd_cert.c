/*
 * cmd_cert.c - coffer cert: X.509 certificates signed in the token, self-
 * signed by --key or issued by --ca-key under --ca-cert. The TBS
 * certificate (i2d_re_X509_tbs) is signed through C_Sign.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rand.h>

#include "cli/cli.h"

/* The CA certificate: a file (PEM or DER) or a token object URI. */
static X509 *load_ca_cert(struct cli *c, const char *src)
{
	uint8_t *data = NULL;
	size_t len = 0;
	X509 *x = NULL;
	const unsigned char *p;

	if (strncmp(src, "pkcs11:", 7) == 0) {
		CK_OBJECT_HANDLE h;

		if (cli_find_one(c, src, CKO_CERTIFICATE, &h) != 0)
			return NULL;
		if (!cli_attr_get(c, h, CKA_VALUE, &data, &len)) {
			cli_err("%s: cannot read the certificate", src);
			return NULL;
		}
	} else if (cli_read_file(src, &data, &len) != 0) {
		return NULL;
	}
	if (len > 10 && memcmp(data, "-----BEGIN", 10) == 0) {
		BIO *bio = BIO_new_mem_buf(data, (int)len);

		if (bio != NULL)
			x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	} else {
		p = data;
		x = d2i_X509(NULL, &p, (long)len);
	}
	if (x == NULL)
		cli_err("%s: not a certificate: %s", src, cli_ossl_err());
	free(data);
	return x;
}

static X509_REQ *load_csr(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	X509_REQ *req = NULL;
	BIO *bio;

	if (cli_read_file(path, &data, &len) != 0)
		return NULL;
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio != NULL) {
		if (len > 10 && memcmp(data, "-----BEGIN", 10) == 0)
			req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
		else
			req = d2i_X509_REQ_bio(bio, NULL);
	}
	BIO_free(bio);
	free(data);
	if (req == NULL)
		cli_err("%s: not a certificate request: %s", path,
			cli_ossl_err());
	return req;
}

static int set_serial(struct cli *c, X509 *x)
{
	unsigned char rnd[16];
	BIGNUM *bn = NULL;
	int rc = -1;

	if (c->o.serial != NULL) {
		if (!BN_hex2bn(&bn, c->o.serial)) {
			cli_err("--serial '%s' is not hex", c->o.serial);
			return -1;
		}
	} else {
		/* 127 random bits: positive and unique (RFC 5280 4.1.2.2). */
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return -1;
		rnd[0] &= 0x7f;
		bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	}
	if (bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		rc = 0;
	BN_free(bn);
	return rc;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (ext == NULL) {
		cli_err("%s '%s': %s", OBJ_nid2ln(nid), value, cli_ossl_err());
		return -1;
	}
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int add_exts(struct cli *c, X509 *x, X509 *issuer, X509_REQ *req)
{
	X509V3_CTX ctx;
	char bc[64];

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	if (c->o.ca) {
		if (c->o.pathlen >= 0)
			snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%ld",
				 c->o.pathlen);
		else
			snprintf(bc, sizeof(bc), "critical,CA:TRUE");
		if (add_ext(x, &ctx, NID_basic_constraints, bc) != 0)
			return -1;
	}
	if (add_ext(x, &ctx, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") != 0)
		return -1;
	if (c->o.key_usage != NULL &&
	    add_ext(x, &ctx, NID_key_usage, c->o.key_usage) != 0)
		return -1;
	else if (c->o.key_usage == NULL && c->o.ca &&
		 add_ext(x, &ctx, NID_key_usage,
			 "critical,keyCertSign,cRLSign,digitalSignature") != 0)
		return -1;
	if (c->o.ext_key_usage != NULL &&
	    add_ext(x, &ctx, NID_ext_key_usage, c->o.ext_key_usage) != 0)
		return -1;
	if (c->o.san != NULL) {
		if (add_ext(x, &ctx, NID_subject_alt_name, c->o.san) != 0)
			return -1;
	} else if (req != NULL) {
		/* The request's subjectAltName carries over. */
		STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
		int i = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);

		if (i >= 0)
			X509_add_ext(x, sk_X509_EXTENSION_value(exts, i), -1);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	return 0;
}

int cmd_cert(struct cli *c)
{
	CK_OBJECT_HANDLE priv = 0, subj_key = 0;
	EVP_PKEY *signer = NULL, *pub = NULL;
	X509 *x = NULL, *issuer = NULL;
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	X509_ALGOR *alg = NULL;
	const EVP_MD *md;
	unsigned char *tbs = NULL;
	uint8_t *sig = NULL, *id = NULL;
	size_t siglen = 0, idlen = 0;
	int tbslen, rc = 1;

	if (c->o.self_signed == (c->o.ca_key != NULL)) {
		cli_err("cert: give --self-signed or --ca-key URI with "
			"--ca-cert");
		return 1;
	}
	if (c->o.ca_key != NULL && c->o.ca_cert == NULL) {
		cli_err("cert: --ca-key needs --ca-cert URI|FILE");
		return 1;
	}
	if (c->o.key == NULL && c->o.csr == NULL) {
		cli_err("cert: --key URI (or --csr FILE with --ca-key) is "
			"needed");
		return 1;
	}
	if (c->o.self_signed && c->o.key == NULL) {
		cli_err("cert: --self-signed needs --key URI");
		return 1;
	}
	if (c->o.write && c->o.key == NULL) {
		cli_err("cert: --write stores beside --key; give --key URI");
		return 1;
	}
	md = cli_md_by_name(c->o.hash);
	if (md == NULL)
		return 1;
	if (c->o.csr != NULL) {
		req = load_csr(c->o.csr);
		if (req == NULL)
			return 1;
		pub = X509_REQ_get_pubkey(req);
		if (pub == NULL || X509_REQ_verify(req, pub) != 1) {
			cli_err("%s: the request's signature does not verify",
				c->o.csr);
			goto out_free;
		}
	}
	if (c->o.subject != NULL) {
		name = cli_name_parse(c->o.subject);
		if (name == NULL)
			goto out_free;
	} else if (req != NULL) {
		name = X509_NAME_dup(X509_REQ_get_subject_name(req));
	} else {
		cli_err("cert: --subject /CN=... is needed");
		goto out_free;
	}
	if (cli_token_for_object(c, c->o.self_signed ? c->o.key
						     : c->o.ca_key) != 0 ||
	    cli_login(c, CKU_USER) != 0)
		goto out_free;
	if (c->o.key != NULL) {
		EVP_PKEY *kp;

		if (cli_find_one(c, c->o.key, CKO_PRIVATE_KEY, &subj_key) != 0)
			goto out_free;
		kp = cli_pubkey_of(c, subj_key);
		if (kp == NULL) {
			cli_err("%s: cannot read the key's public half",
				c->o.key);
			goto out_free;
		}
		EVP_PKEY_free(pub);
		pub = kp;
	}
	if (cli_signing_key(c, c->o.self_signed ? c->o.key : c->o.ca_key, &priv,
			    &signer) != 0)
		goto out_free;
	if (c->o.ca_cert != NULL) {
		issuer = load_ca_cert(c, c->o.ca_cert);
		if (issuer == NULL)
			goto out_free;
		if (X509_check_private_key(issuer, signer) != 1 &&
		    EVP_PKEY_eq(X509_get0_pubkey(issuer), signer) != 1) {
			cli_err("--ca-key does not belong to --ca-cert");
			goto out_free;
		}
	}
	alg = cli_sigalg_new(signer, md, c->o.pss);
	x = X509_new();
	if (alg == NULL || x == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    set_serial(c, x) != 0 || !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
					    : name) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)c->o.days, 0, NULL) ||
	    !X509_set_pubkey(x, pub))
		goto out_ossl;
	if (add_exts(c, x, issuer, req) != 0)
		goto out_free;
	/* OpenSSL 3.0 has no setter for the TBS signature algorithm: the
	 * getters return the certificate's own fields, set in place here
	 * (both copies must agree, RFC 5280 4.1.1.2). */
	{
		const ASN1_BIT_STRING *cs;
		const X509_ALGOR *outer;

		X509_get0_signature(&cs, &outer, x);
		if (!X509_ALGOR_copy((X509_ALGOR *)X509_get0_tbs_sigalg(x),
				     alg) ||
		    !X509_ALGOR_copy((X509_ALGOR *)outer, alg))
			goto out_ossl;
		tbslen = i2d_re_X509_tbs(x, &tbs);
		if (tbslen <= 0)
			goto out_ossl;
		if (cli_sign_x509(c, priv, signer, md, c->o.pss, tbs,
				  (size_t)tbslen, &sig, &siglen) != 0)
			goto out_free;
		if (!ASN1_BIT_STRING_set((ASN1_BIT_STRING *)cs, sig,
					 (int)siglen))
			goto out_ossl;
		((ASN1_BIT_STRING *)cs)->flags &=
		    ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
		((ASN1_BIT_STRING *)cs)->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	}
	if (X509_verify(x, signer) != 1) {
		cli_err("the token's signature does not verify: %s",
			cli_ossl_err());
		goto out_free;
	}
	if (c->o.write) {
		struct cli_created cr = {.n = 0};
		char *label = NULL;
		size_t ll;

		if (!cli_attr_get(c, subj_key, CKA_ID, &id, &idlen)) {
			cli_err("%s has no CKA_ID", c->o.key);
			goto out_free;
		}
		if (!cli_attr_get(c, subj_key, CKA_LABEL, (uint8_t **)&label,
				  &ll))
			label = NULL;
		rc = cli_store_cert(c, &cr, x, id, idlen,
				    c->o.label ? c->o.label : label)
			 ? 1
			 : 0;
		free(label);
		if (rc != 0)
			goto out_free;
		rc = 1;
	}
	{
		BIO *bio = BIO_new(BIO_s_mem());
		char *data;
		long n;

		if (bio == NULL || !(c->o.der ? i2d_X509_bio(bio, x)
					      : PEM_write_bio_X509(bio, x))) {
			BIO_free(bio);
			goto out_ossl;
		}
		n = BIO_get_mem_data(bio, &data);
		if (c->o.out != NULL || !c->o.write)
			rc = cli_write_file(c->o.out, (uint8_t *)data,
					    (size_t)n) == 0
				 ? 0
				 : 1;
		else
			rc = 0;
		BIO_free(bio);
	}
	goto out_free;
out_ossl:
	cli_err("cannot build the certificate: %s", cli_ossl_err());
out_free:
	free(id);
	free(sig);
	OPENSSL_free(tbs);
	X509_ALGOR_free(alg);
	X509_free(x);
	X509_free(issuer);
	X509_REQ_free(req);
	X509_NAME_free(name);
	EVP_PKEY_free(signer);
	EVP_PKEY_free(pub);
	return rc;
}
