/*
 * cmd_import.c - coffer import: certificates (chains), public keys, PKCS#8
 * private keys, PKCS#12 bundles and raw secret keys.
 *
 * The whole input is parsed first; only then are objects created, and a
 * failure destroys the ones already made, so an import is all or nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "cli/cli.h"
#include "common/secmem.h"

struct parsed {
	EVP_PKEY *key;	  /* private key, at most one */
	EVP_PKEY *pub[8]; /* bare public keys */
	size_t npub;
	STACK_OF(X509) * certs; /* leaf first when from PKCS#12 */
};

static void parsed_clear(struct parsed *p)
{
	EVP_PKEY_free(p->key);
	for (size_t i = 0; i < p->npub; i++)
		EVP_PKEY_free(p->pub[i]);
	sk_X509_pop_free(p->certs, X509_free);
	memset(p, 0, sizeof(*p));
}

static int get_pass(struct cli *c, char **pass, size_t *len)
{
	if (c->o.key_pass_source == NULL) {
		*pass = NULL;
		*len = 0;
		return 0;
	}
	return cli_pin_get(NULL, c->o.key_pass_source, "Passphrase", pass, len);
}

static int add_cert(struct parsed *p, X509 *x)
{
	if (p->certs == NULL && (p->certs = sk_X509_new_null()) == NULL)
		return -1;
	return sk_X509_push(p->certs, x) > 0 ? 0 : -1;
}

static int add_pub(struct parsed *p, EVP_PKEY *pk)
{
	if (p->npub == sizeof(p->pub) / sizeof(p->pub[0]))
		return -1;
	p->pub[p->npub++] = pk;
	return 0;
}

static EVP_PKEY *decrypt_p8(struct cli *c, const unsigned char *der, long len)
{
	const unsigned char *q = der;
	X509_SIG *enc = d2i_X509_SIG(NULL, &q, len);
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	EVP_PKEY *pk = NULL;
	char *pass = NULL;
	size_t plen = 0;

	if (enc == NULL)
		return NULL;
	if (c->o.key_pass_source == NULL) {
		cli_err("the private key is encrypted: give --key-pass-source");
		goto out_free;
	}
	if (get_pass(c, &pass, &plen) != 0)
		goto out_free;
	p8 = PKCS8_decrypt(enc, pass, (int)plen);
	if (p8 == NULL) {
		cli_err("cannot decrypt the private key (wrong passphrase?)");
		goto out_free;
	}
	pk = EVP_PKCS82PKEY(p8);
out_free:
	PKCS8_PRIV_KEY_INFO_free(p8);
	X509_SIG_free(enc);
	cli_pin_free(pass, plen);
	return pk;
}

/* PEM: every block, by its type. */
static int parse_pem(struct cli *c, const char *file, const uint8_t *data,
		     size_t len, struct parsed *p)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	int blocks = 0, rc = -1;

	if (bio == NULL)
		return -1;
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *der = NULL;
		const unsigned char *q;
		long dl = 0;
		int ok = 0;

		if (!PEM_read_bio(bio, &name, &header, &der, &dl)) {
			unsigned long e = ERR_peek_last_error();

			if (blocks > 0 &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
				ERR_clear_error();
				rc = 0;
			} else {
				cli_err("%s: malformed PEM: %s", file,
					cli_ossl_err());
			}
			break;
		}
		blocks++;
		q = der;
		if (strcmp(name, "CERTIFICATE") == 0 ||
		    strcmp(name, "TRUSTED CERTIFICATE") == 0) {
			X509 *x = d2i_X509(NULL, &q, dl);

			ok = x != NULL && add_cert(p, x) == 0;
			if (!ok)
				X509_free(x);
		} else if (strcmp(name, "PUBLIC KEY") == 0) {
			EVP_PKEY *pk = d2i_PUBKEY(NULL, &q, dl);

			ok = pk != NULL && add_pub(p, pk) == 0;
			if (!ok)
				EVP_PKEY_free(pk);
		} else if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0 ||
			   strcmp(name, "PRIVATE KEY") == 0 ||
			   strcmp(name, "RSA PRIVATE KEY") == 0 ||
			   strcmp(name, "EC PRIVATE KEY") == 0) {
			EVP_PKEY *pk = name[0] == 'E' && name[1] == 'N'
					   ? decrypt_p8(c, der, dl)
					   : d2i_AutoPrivateKey(NULL, &q, dl);

			if (header != NULL && strstr(header, "ENCRYPTED")) {
				cli_err("%s: legacy encrypted PEM keys are not "
					"supported; convert to PKCS#8",
					file);
				EVP_PKEY_free(pk);
				pk = NULL;
			}
			ok = pk != NULL && p->key == NULL;
			if (ok)
				p->key = pk;
			else
				EVP_PKEY_free(pk);
			if (pk != NULL && !ok)
				cli_err("%s: more than one private key", file);
		} else {
			cli_err("%s: PEM block '%s' is not something coffer "
				"imports",
				file, name);
		}
		if (!ok && strcmp(name, "ENCRYPTED PRIVATE KEY") != 0)
			cli_err("%s: malformed PEM block '%s': %s", file, name,
				cli_ossl_err());
		OPENSSL_free(name);
		OPENSSL_free(header);
		if (der != NULL)
			OPENSSL_clear_free(der, (size_t)dl);
		if (!ok)
			break;
	}
	BIO_free(bio);
	return rc;
}

static int parse_p12(struct cli *c, const char *file, PKCS12 *p12,
		     struct parsed *p)
{
	char *pass = NULL;
	size_t plen = 0;
	X509 *leaf = NULL;
	STACK_OF(X509) *ca = NULL;
	int rc = -1;

	if (get_pass(c, &pass, &plen) != 0)
		return -1;
	if (!PKCS12_parse(p12, pass ? pass : "", &p->key, &leaf, &ca)) {
		cli_err("%s: cannot open the PKCS#12 bundle (wrong "
			"passphrase? give --key-pass-source): %s",
			file, cli_ossl_err());
		goto out_free;
	}
	if (leaf != NULL) {
		if (add_cert(p, leaf) != 0)
			goto out_free;
		leaf = NULL;
	}
	while (ca != NULL && sk_X509_num(ca) > 0) {
		X509 *x = sk_X509_shift(ca);

		if (add_cert(p, x) != 0) {
			X509_free(x);
			goto out_free;
		}
	}
	rc = 0;
out_free:
	X509_free(leaf);
	sk_X509_pop_free(ca, X509_free);
	cli_pin_free(pass, plen);
	return rc;
}

static int parse_der(struct cli *c, const char *file, const uint8_t *data,
		     size_t len, struct parsed *p)
{
	const char *t = c->o.type;
	const unsigned char *q;
	long l = (long)len;

#define WHOLE (q == data + len)
	if (t == NULL || strcmp(t, "cert") == 0) {
		X509 *x;

		q = data;
		x = d2i_X509(NULL, &q, l);
		if (x != NULL && WHOLE)
			return add_cert(p, x);
		X509_free(x);
	}
	if (t == NULL || strcmp(t, "p12") == 0) {
		PKCS12 *p12;

		q = data;
		p12 = d2i_PKCS12(NULL, &q, l);
		if (p12 != NULL && WHOLE) {
			int rc = parse_p12(c, file, p12, p);

			PKCS12_free(p12);
			return rc;
		}
		PKCS12_free(p12);
	}
	if (t == NULL || strcmp(t, "pubkey") == 0) {
		EVP_PKEY *pk;

		q = data;
		pk = d2i_PUBKEY(NULL, &q, l);
		if (pk != NULL && WHOLE)
			return add_pub(p, pk);
		EVP_PKEY_free(pk);
	}
	if (t == NULL || strcmp(t, "privkey") == 0) {
		EVP_PKEY *pk;

		q = data;
		pk = d2i_AutoPrivateKey(NULL, &q, l);
		if (pk == NULL || !WHOLE) {
			EVP_PKEY_free(pk);
			ERR_clear_error();
			pk = decrypt_p8(c, data, l);
		}
		if (pk != NULL) {
			p->key = pk;
			return 0;
		}
	}
#undef WHOLE
	ERR_clear_error();
	cli_err("%s: malformed DER: not a certificate, public key, private "
		"key or PKCS#12 bundle",
		file);
	return -1;
}

static int bn_attr(EVP_PKEY *pk, const char *name, struct cf_secret *s)
{
	BIGNUM *bn = NULL;
	int rc = -1;

	if (EVP_PKEY_get_bn_param(pk, name, &bn) && bn != NULL &&
	    cf_secret_init(s, (size_t)BN_num_bytes(bn)) == 0) {
		BN_bn2bin(bn, s->data);
		rc = 0;
	}
	BN_clear_free(bn);
	return rc;
}

/* The private key object and its public key object. */
static int store_key(struct cli *c, struct cli_created *cr, EVP_PKEY *pk,
		     const uint8_t *id, size_t idlen, const char *label)
{
	static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_CLASS privc = CKO_PRIVATE_KEY, pubc = CKO_PUBLIC_KEY;
	CK_KEY_TYPE kt;
	int kid = EVP_PKEY_get_base_id(pk);
	struct cf_secret v[8];
	uint8_t *params = NULL, *point = NULL;
	size_t plen = 0;
	int ptl = 0, rc = -1;
	CK_ATTRIBUTE priv[24], pub[16];
	CK_ULONG np = 0, nq = 0;
	bool sign = true, decrypt = kid == EVP_PKEY_RSA,
	     derive = kid == EVP_PKEY_X25519 || kid == EVP_PKEY_X448;

	memset(v, 0, sizeof(v));
#define P(t, p, l)                                                             \
	(priv[np++] = (CK_ATTRIBUTE){(t), (void *)(p), (CK_ULONG)(l)})
#define Q(t, p, l) (pub[nq++] = (CK_ATTRIBUTE){(t), (void *)(p), (CK_ULONG)(l)})
	switch (kid) {
	case EVP_PKEY_RSA: {
		static const char *const names[] = {
		    OSSL_PKEY_PARAM_RSA_N,
		    OSSL_PKEY_PARAM_RSA_E,
		    OSSL_PKEY_PARAM_RSA_D,
		    OSSL_PKEY_PARAM_RSA_FACTOR1,
		    OSSL_PKEY_PARAM_RSA_FACTOR2,
		    OSSL_PKEY_PARAM_RSA_EXPONENT1,
		    OSSL_PKEY_PARAM_RSA_EXPONENT2,
		    OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
		};
		static const CK_ATTRIBUTE_TYPE types[] = {
		    CKA_MODULUS,    CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT,
		    CKA_PRIME_1,    CKA_PRIME_2,	 CKA_EXPONENT_1,
		    CKA_EXPONENT_2, CKA_COEFFICIENT,
		};
		kt = CKK_RSA;
		for (size_t i = 0; i < 8; i++) {
			if (bn_attr(pk, names[i], &v[i]) != 0) {
				cli_err("cannot read the RSA key's parts");
				goto out_free;
			}
			P(types[i], v[i].data, v[i].len);
		}
		Q(CKA_MODULUS, v[0].data, v[0].len);
		Q(CKA_PUBLIC_EXPONENT, v[1].data, v[1].len);
		break;
	}
	case EVP_PKEY_EC: {
		size_t n = 0;
		unsigned char *enc = NULL;
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();

		kt = CKK_EC;
		if (bn_attr(pk, OSSL_PKEY_PARAM_PRIV_KEY, &v[0]) != 0 ||
		    cli_ec_params_der(pk, &params, &plen) != 0 ||
		    (n = EVP_PKEY_get1_encoded_public_key(pk, &enc)) == 0 ||
		    os == NULL || !ASN1_OCTET_STRING_set(os, enc, (int)n) ||
		    (ptl = i2d_ASN1_OCTET_STRING(os, &point)) <= 0) {
			OPENSSL_free(enc);
			ASN1_OCTET_STRING_free(os);
			cli_err("cannot read the EC key");
			goto out_free;
		}
		OPENSSL_free(enc);
		ASN1_OCTET_STRING_free(os);
		P(CKA_EC_PARAMS, params, plen);
		P(CKA_VALUE, v[0].data, v[0].len);
		Q(CKA_EC_PARAMS, params, plen);
		Q(CKA_EC_POINT, point, ptl);
		break;
	}
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
	case EVP_PKEY_X25519:
	case EVP_PKEY_X448: {
		size_t n = 0, m = 0;
		unsigned char raw[64];
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();

		kt = kid == EVP_PKEY_ED25519 || kid == EVP_PKEY_ED448
			 ? CKK_EC_EDWARDS
			 : CKK_EC_MONTGOMERY;
		sign = kt == CKK_EC_EDWARDS;
		if (!EVP_PKEY_get_raw_private_key(pk, NULL, &n) ||
		    cf_secret_init(&v[0], n) != 0 ||
		    !EVP_PKEY_get_raw_private_key(pk, v[0].data, &n) ||
		    (m = sizeof(raw),
		     !EVP_PKEY_get_raw_public_key(pk, raw, &m)) ||
		    cli_ec_params_der(pk, &params, &plen) != 0 || os == NULL ||
		    !ASN1_OCTET_STRING_set(os, raw, (int)m) ||
		    (ptl = i2d_ASN1_OCTET_STRING(os, &point)) <= 0) {
			ASN1_OCTET_STRING_free(os);
			cli_err("cannot read the key");
			goto out_free;
		}
		ASN1_OCTET_STRING_free(os);
		P(CKA_EC_PARAMS, params, plen);
		P(CKA_VALUE, v[0].data, v[0].len);
		Q(CKA_EC_PARAMS, params, plen);
		Q(CKA_EC_POINT, point, ptl);
		break;
	}
	default:
		cli_err("private keys of type %s are not supported",
			EVP_PKEY_get0_type_name(pk));
		goto out_free;
	}
	P(CKA_CLASS, &privc, sizeof(privc));
	P(CKA_KEY_TYPE, &kt, sizeof(kt));
	P(CKA_TOKEN, &yes, 1);
	P(CKA_PRIVATE, &yes, 1);
	P(CKA_SENSITIVE, &yes, 1);
	P(CKA_EXTRACTABLE, c->o.extractable ? &yes : &no, 1);
	P(CKA_ID, id, idlen);
	if (kt != CKK_EC_MONTGOMERY)
		P(CKA_SIGN, sign ? &yes : &no, 1);
	if (kt == CKK_RSA)
		P(CKA_DECRYPT, decrypt ? &yes : &no, 1);
	if (kt != CKK_RSA)
		P(CKA_DERIVE, derive ? &yes : &no, 1);
	if (label != NULL)
		P(CKA_LABEL, label, strlen(label));
	Q(CKA_CLASS, &pubc, sizeof(pubc));
	Q(CKA_KEY_TYPE, &kt, sizeof(kt));
	Q(CKA_TOKEN, &yes, 1);
	Q(CKA_PRIVATE, &no, 1);
	Q(CKA_ID, id, idlen);
	if (kt != CKK_EC_MONTGOMERY)
		Q(CKA_VERIFY, sign ? &yes : &no, 1);
	if (kt == CKK_RSA)
		Q(CKA_ENCRYPT, &yes, 1);
	if (label != NULL)
		Q(CKA_LABEL, label, strlen(label));
#undef P
#undef Q
	if (cli_create(c, cr, priv, np, NULL) != 0 ||
	    cli_create(c, cr, pub, nq, NULL) != 0)
		goto out_free;
	rc = 0;
out_free:
	for (size_t i = 0; i < 8; i++)
		cf_secret_clear(&v[i]);
	OPENSSL_free(params);
	OPENSSL_free(point);
	return rc;
}

static int store_pub(struct cli *c, struct cli_created *cr, EVP_PKEY *pk,
		     const uint8_t *id, size_t idlen, const char *label)
{
	CK_OBJECT_CLASS pubc = CKO_PUBLIC_KEY;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_KEY_TYPE kt;
	CK_ATTRIBUTE t[10];
	CK_ULONG n = 0;
	BIGNUM *bn = NULL, *be = NULL;
	uint8_t *mod = NULL, *exp = NULL, *params = NULL, *point = NULL;
	size_t plen = 0;
	int kid = EVP_PKEY_get_base_id(pk), ptl, rc = -1;
	unsigned char *spki = NULL, *q;
	int sl = i2d_PUBKEY(pk, &spki);

#define A(ty, p, l) (t[n++] = (CK_ATTRIBUTE){(ty), (void *)(p), (CK_ULONG)(l)})
	if (kid == EVP_PKEY_RSA) {
		kt = CKK_RSA;
		if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &bn) ||
		    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &be))
			goto out_free;
		mod = malloc((size_t)BN_num_bytes(bn) + 1);
		exp = malloc((size_t)BN_num_bytes(be) + 1);
		if (mod == NULL || exp == NULL)
			goto out_free;
		A(CKA_MODULUS, mod, BN_bn2bin(bn, mod));
		A(CKA_PUBLIC_EXPONENT, exp, BN_bn2bin(be, exp));
		A(CKA_ENCRYPT, &yes, 1);
	} else {
		/* The point is what follows the SubjectPublicKeyInfo's
		 * algorithm: X509_PUBKEY_get0_param gives it raw. */
		const unsigned char *raw;
		int rl;
		X509_PUBKEY *xp = NULL;
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();

		q = spki;
		kt = kid == EVP_PKEY_EC ? CKK_EC
		     : kid == EVP_PKEY_ED25519 || kid == EVP_PKEY_ED448
			 ? CKK_EC_EDWARDS
			 : CKK_EC_MONTGOMERY;
		xp = d2i_X509_PUBKEY(NULL, (const unsigned char **)&q, sl);
		if (xp == NULL || os == NULL ||
		    !X509_PUBKEY_get0_param(NULL, &raw, &rl, NULL, xp) ||
		    !ASN1_OCTET_STRING_set(os, raw, rl) ||
		    (ptl = i2d_ASN1_OCTET_STRING(os, &point)) <= 0 ||
		    cli_ec_params_der(pk, &params, &plen) != 0) {
			X509_PUBKEY_free(xp);
			ASN1_OCTET_STRING_free(os);
			cli_err("unsupported public key");
			goto out_free;
		}
		X509_PUBKEY_free(xp);
		ASN1_OCTET_STRING_free(os);
		A(CKA_EC_PARAMS, params, plen);
		A(CKA_EC_POINT, point, ptl);
	}
	A(CKA_CLASS, &pubc, sizeof(pubc));
	A(CKA_KEY_TYPE, &kt, sizeof(kt));
	A(CKA_TOKEN, &yes, 1);
	A(CKA_PRIVATE, &no, 1);
	A(CKA_ID, id, idlen);
	if (kt != CKK_EC_MONTGOMERY)
		A(CKA_VERIFY, &yes, 1);
	if (label != NULL)
		A(CKA_LABEL, label, strlen(label));
#undef A
	rc = cli_create(c, cr, t, n, NULL);
out_free:
	BN_free(bn);
	BN_free(be);
	free(mod);
	free(exp);
	OPENSSL_free(params);
	OPENSSL_free(point);
	OPENSSL_free(spki);
	return rc;
}

static int import_secret(struct cli *c, struct cli_created *cr,
			 const uint8_t *data, size_t len)
{
	static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	bool aes = strcmp(c->o.type, "aes") == 0;
	CK_KEY_TYPE kt = aes ? CKK_AES : CKK_GENERIC_SECRET;
	uint8_t rid[16], *id = rid;
	size_t idlen = sizeof(rid);
	int rc = -1;

	if (aes && len != 16 && len != 24 && len != 32) {
		cli_err("an AES key file holds 16, 24 or 32 raw bytes, not "
			"%zu",
			len);
		return -1;
	}
	if (len == 0) {
		cli_err("the key file is empty");
		return -1;
	}
	if (cli_new_key_id(c, rid, &id, &idlen) != 0)
		goto out_free_id;
	{
		CK_ATTRIBUTE t[] = {
		    {CKA_CLASS, &cls, sizeof(cls)},
		    {CKA_KEY_TYPE, &kt, sizeof(kt)},
		    {CKA_TOKEN, (void *)&yes, 1},
		    {CKA_PRIVATE, (void *)&yes, 1},
		    {CKA_SENSITIVE, (void *)&yes, 1},
		    {CKA_EXTRACTABLE, (void *)(c->o.extractable ? &yes : &no),
		     1},
		    {CKA_VALUE, (void *)data, (CK_ULONG)len},
		    {CKA_ID, id, (CK_ULONG)idlen},
		    {CKA_ENCRYPT, (void *)(aes ? &yes : &no), 1},
		    {CKA_DECRYPT, (void *)(aes ? &yes : &no), 1},
		    {CKA_SIGN, (void *)(aes ? &no : &yes), 1},
		    {CKA_VERIFY, (void *)(aes ? &no : &yes), 1},
		    {CKA_LABEL, (void *)c->o.label,
		     c->o.label ? (CK_ULONG)strlen(c->o.label) : 0},
		};
		rc = cli_create(c, cr, t, c->o.label ? 13 : 12, NULL);
	}
out_free_id:
	if (id != rid)
		free(id);
	return rc;
}

/* A certificate's CKA_ID and label: its key's on the token, else the
 * SHA-1 of its public key and its subject's CN. */
static int cert_id(struct cli *c, X509 *x, uint8_t **id, size_t *idlen,
		   char **label)
{
	uint8_t h[20];

	if (cli_find_key_for(c, X509_get0_pubkey(x), id, idlen, label))
		return 0;
	if (cli_key_id(X509_get0_pubkey(x), h) != 0)
		return -1;
	*id = malloc(sizeof(h));
	if (*id == NULL)
		return -1;
	memcpy(*id, h, sizeof(h));
	*idlen = sizeof(h);
	*label = NULL;
	{
		X509_NAME *nm = X509_get_subject_name(x);
		int i = X509_NAME_get_index_by_NID(nm, NID_commonName, -1);
		unsigned char *u = NULL;

		if (i >= 0 && ASN1_STRING_to_UTF8(
				  &u, X509_NAME_ENTRY_get_data(
					  X509_NAME_get_entry(nm, i))) >= 0) {
			*label = strdup((char *)u);
			OPENSSL_free(u);
		}
	}
	return 0;
}

int cmd_import(struct cli *c)
{
	const char *file = c->o.argc == 1 ? c->o.argv[0] : c->o.in;
	struct parsed p;
	struct cli_created cr = {.n = 0};
	uint8_t *data = NULL, *kid = NULL;
	size_t len = 0, kidlen = 0;
	int rc = 1;

	memset(&p, 0, sizeof(p));
	if (file == NULL || c->o.argc > 1) {
		cli_err("import FILE: one file (- for stdin)");
		return 1;
	}
	if (c->o.type != NULL &&
	    !cli_list_has("cert,pubkey,privkey,p12,aes,generic,hmac", c->o.type,
			  strlen(c->o.type))) {
		cli_err("--type '%s': cert, pubkey, privkey, p12, aes, "
			"generic or hmac",
			c->o.type);
		return 1;
	}
	if (cli_read_file(file, &data, &len) != 0)
		return 1;
	if (cli_token_select(c, c->o.token, false) != 0 ||
	    cli_login(c, CKU_USER) != 0)
		goto out_free;
	if (c->o.type != NULL && (strcmp(c->o.type, "aes") == 0 ||
				  strcmp(c->o.type, "generic") == 0 ||
				  strcmp(c->o.type, "hmac") == 0)) {
		if (import_secret(c, &cr, data, len) != 0)
			goto out_undo;
		printf("imported a secret key\n");
		rc = 0;
		goto out_free;
	}
	if (len >= 10 && memmem(data, len, "-----BEGIN ", 11) != NULL) {
		if (parse_pem(c, file, data, len, &p) != 0)
			goto out_free;
	} else if (parse_der(c, file, data, len, &p) != 0) {
		goto out_free;
	}
	/* The private key's CKA_ID names the key and its certificate. */
	if (p.key != NULL) {
		uint8_t h[20];

		if (c->o.id != NULL) {
			if (!cli_hex_decode(c->o.id, &kid, &kidlen) ||
			    kidlen == 0) {
				cli_err("--id '%s' is not hex", c->o.id);
				goto out_free;
			}
		} else {
			if (cli_key_id(p.key, h) != 0)
				goto out_free;
			kid = malloc(sizeof(h));
			if (kid == NULL)
				goto out_free;
			memcpy(kid, h, sizeof(h));
			kidlen = sizeof(h);
		}
		if (store_key(c, &cr, p.key, kid, kidlen, c->o.label) != 0)
			goto out_undo;
	}
	for (size_t i = 0; i < p.npub; i++) {
		uint8_t h[20];

		if (cli_key_id(p.pub[i], h) != 0 ||
		    store_pub(c, &cr, p.pub[i], h, sizeof(h), c->o.label) != 0)
			goto out_undo;
	}
	for (int i = 0; i < sk_X509_num(p.certs); i++) {
		X509 *x = sk_X509_value(p.certs, i);
		uint8_t *id = NULL;
		size_t idlen = 0;
		char *label = NULL;
		int r;

		if (p.key != NULL &&
		    EVP_PKEY_eq(X509_get0_pubkey(x), p.key) == 1) {
			r = cli_store_cert(c, &cr, x, kid, kidlen, c->o.label);
		} else {
			if (cert_id(c, x, &id, &idlen, &label) != 0)
				goto out_undo;
			/* --label names the first certificate (the leaf). */
			r = cli_store_cert(c, &cr, x, id, idlen,
					   i == 0 && c->o.label ? c->o.label
								: label);
			free(id);
			free(label);
		}
		if (r != 0)
			goto out_undo;
	}
	printf("imported %zu object%s\n", cr.n, cr.n == 1 ? "" : "s");
	rc = 0;
	goto out_free;
out_undo:
	cli_created_undo(c, &cr);
out_free:
	parsed_clear(&p);
	free(kid);
	cf_free_wiped(data, len);
	return rc;
}
