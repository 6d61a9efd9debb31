/*
 * rules.c - the attribute rules of PKCS#11 v3.0 (see rules.h).
 *
 * The rules are constant tables transcribed from PKCS#11 v3.0 base, section
 * 4 (one table per class: common object and storage attributes 4.2-4.4,
 * data 4.5, certificates 4.6.2 and X.509 4.6.3, keys 4.7, public keys 4.8,
 * private keys 4.9, secret keys 4.10) and from the v3.0 Current Mechanisms
 * specification (one table per key type). Each row carries the footnotes of
 * the spec's table as bits FN(1)..FN(12):
 *
 *   1 required on create       2 forbidden on create
 *   3 required on generate     4 forbidden on generate
 *   5 required on unwrap       6 forbidden on unwrap
 *   7 not revealed when sensitive or unextractable
 *   8 modifiable               9 token-specific default
 *  10 only the SO may set it true
 *  11 cannot change once true 12 cannot change once false
 *
 * and coffer's own marks: TOKEN_SET (the token sets it; a template that
 * gives it gets CKR_ATTRIBUTE_READ_ONLY) and COPY_SET (may be given in
 * C_CopyObject even though not modifiable: CKA_TOKEN, CKA_PRIVATE,
 * CKA_MODIFIABLE). The spec gives no footnotes for C_DeriveKey: coffer
 * forbids there what generating forbids (footnote 4: key material and the
 * token-kept attributes) and requires nothing, since the derive mechanisms
 * take the key length from CKA_VALUE_LEN (footnote 6 would forbid it) and
 * check what they need themselves.
 *
 * Every row also has a default. The choices where footnote 9 leaves them to
 * the token are recorded at the row. An attribute of the class that has no
 * default and was not given (CKA_LABEL, CKA_ID, dates, CKA_SUBJECT ...) is
 * present with an empty value, so that C_GetAttributeValue on it returns
 * an empty value rather than CKR_ATTRIBUTE_TYPE_INVALID: the spec allows
 * either, and empty is what applications such as pkcs11-tool expect.
 */
#include "token/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/crypto.h"
#include "common/secmem.h"
#include "pkcs11/schema.h"

#define FN(x) (1u << (x))
#define TOKEN_SET (1u << 13)
#define COPY_SET (1u << 14)

/* How the origin of an object reads the footnotes. */
struct origin_fn {
	unsigned required;
	unsigned forbidden;
};

static const struct origin_fn origin_fns[] = {
    [CF_ORIGIN_CREATE] = {FN(1), FN(2)},
    [CF_ORIGIN_GENERATE] = {FN(3), FN(4)},
    [CF_ORIGIN_UNWRAP] = {FN(5), FN(6)},
    [CF_ORIGIN_DERIVE] = {0, FN(4)},
};

enum dflt {
	D_EMPTY = 0, /* present, empty value */
	D_FALSE,
	D_TRUE,
	D_ULONG, /* the row's ulong */
};

struct attr_rule {
	CK_ATTRIBUTE_TYPE type;
	unsigned fn;
	enum dflt dflt;
	CK_ULONG ulong;
};

struct rule_table {
	const struct attr_rule *rows;
	size_t n;
};

#define TABLE(a)                                                               \
	{                                                                      \
		a, sizeof(a) / sizeof(a[0])                                    \
	}

/* 4.2 Common object attributes. */
static const struct attr_rule object_rows[] = {
    {CKA_CLASS, FN(1), D_EMPTY, 0},
};

/* 4.4 Common storage object attributes. CKA_PRIVATE is in the class tables
 * since its default depends on the class. */
static const struct attr_rule storage_rows[] = {
    {CKA_TOKEN, COPY_SET, D_FALSE, 0},
    {CKA_MODIFIABLE, COPY_SET, D_TRUE, 0},
    {CKA_LABEL, FN(8), D_EMPTY, 0},
    /* may go from true to false, never back */
    {CKA_COPYABLE, FN(8) | FN(12), D_TRUE, 0},
    {CKA_DESTROYABLE, 0, D_TRUE, 0},
    {CKA_UNIQUE_ID, FN(2) | FN(4) | FN(6) | TOKEN_SET, D_EMPTY, 0},
};

/* 4.5 Data objects. Private by default: a data object is whatever the
 * application keeps on the token, often secret. */
static const struct attr_rule data_rows[] = {
    {CKA_PRIVATE, COPY_SET, D_TRUE, 0},
    {CKA_APPLICATION, FN(8), D_EMPTY, 0},
    {CKA_OBJECT_ID, FN(8), D_EMPTY, 0},
    {CKA_VALUE, FN(8), D_EMPTY, 0},
};

/* 4.6.2 Common certificate attributes. Certificates are public. */
static const struct attr_rule cert_rows[] = {
    {CKA_PRIVATE, COPY_SET, D_FALSE, 0},
    {CKA_CERTIFICATE_TYPE, FN(1), D_EMPTY, 0},
    {CKA_TRUSTED, FN(8) | FN(10), D_FALSE, 0},
    {CKA_CERTIFICATE_CATEGORY, FN(8), D_ULONG,
     0 /* CK_CERTIFICATE_CATEGORY_UNSPECIFIED */},
    {CKA_CHECK_VALUE, 0, D_EMPTY, 0}, /* computed */
    {CKA_START_DATE, FN(8), D_EMPTY, 0},
    {CKA_END_DATE, FN(8), D_EMPTY, 0},
    {CKA_PUBLIC_KEY_INFO, 0, D_EMPTY, 0},
};

/* 4.6.3 X.509 public key certificates. The spec lets CKA_VALUE be empty
 * when CKA_URL is given; coffer stores certificates, not references to
 * them, so it requires CKA_VALUE. */
static const struct attr_rule x509_rows[] = {
    {CKA_SUBJECT, FN(1), D_EMPTY, 0},
    {CKA_ID, FN(8), D_EMPTY, 0},
    {CKA_ISSUER, FN(8), D_EMPTY, 0},
    {CKA_SERIAL_NUMBER, FN(8), D_EMPTY, 0},
    {CKA_VALUE, FN(1), D_EMPTY, 0},
    {CKA_URL, 0, D_EMPTY, 0},
    {CKA_HASH_OF_SUBJECT_PUBLIC_KEY, 0, D_EMPTY, 0},
    {CKA_HASH_OF_ISSUER_PUBLIC_KEY, 0, D_EMPTY, 0},
    {CKA_JAVA_MIDP_SECURITY_DOMAIN, 0, D_ULONG,
     0 /* CK_SECURITY_DOMAIN_UNSPECIFIED */},
    {CKA_NAME_HASH_ALGORITHM, 0, D_ULONG, CKM_SHA_1},
};

/* 4.7 Common key attributes. */
static const struct attr_rule key_rows[] = {
    {CKA_KEY_TYPE, FN(1) | FN(5), D_EMPTY, 0},
    {CKA_ID, FN(8), D_EMPTY, 0},
    {CKA_START_DATE, FN(8), D_EMPTY, 0},
    {CKA_END_DATE, FN(8), D_EMPTY, 0},
    {CKA_DERIVE, FN(8), D_FALSE, 0}, /* spec default */
    {CKA_LOCAL, FN(2) | FN(4) | FN(6) | TOKEN_SET, D_FALSE, 0},
    {CKA_KEY_GEN_MECHANISM, FN(2) | FN(4) | FN(6) | TOKEN_SET, D_ULONG,
     CK_UNAVAILABLE_INFORMATION},
    {CKA_ALLOWED_MECHANISMS, 0, D_EMPTY, 0}, /* empty: any */
};

/*
 * 4.8 Public keys. Usage flags (footnote 9) default to true, as SoftHSMv2
 * does (P11Attributes.cpp), so keys imported from it behave the same; a
 * public key's operations reveal nothing. Public keys are public by
 * default.
 */
static const struct attr_rule pub_rows[] = {
    {CKA_PRIVATE, COPY_SET, D_FALSE, 0},
    {CKA_SUBJECT, FN(8), D_EMPTY, 0},
    {CKA_ENCRYPT, FN(8) | FN(9), D_TRUE, 0},
    {CKA_VERIFY, FN(8) | FN(9), D_TRUE, 0},
    {CKA_VERIFY_RECOVER, FN(8) | FN(9), D_TRUE, 0},
    {CKA_WRAP, FN(8) | FN(9), D_TRUE, 0},
    {CKA_TRUSTED, FN(8) | FN(10), D_FALSE, 0},
    {CKA_WRAP_TEMPLATE, 0, D_EMPTY, 0},
    {CKA_PUBLIC_KEY_INFO, 0, D_EMPTY, 0},
};

/*
 * 4.9 Private keys. Defaults where the spec leaves them to the token:
 * - usage flags (CKA_DECRYPT, CKA_SIGN, CKA_SIGN_RECOVER, CKA_UNWRAP) true,
 *   as SoftHSMv2 does;
 * - CKA_SENSITIVE true. SoftHSMv2 defaults to false, which leaves an
 *   imported key readable unless the application remembers to ask; a
 *   serious HSM (and coffer) keeps key material in unless told otherwise;
 * - CKA_EXTRACTABLE false, as SoftHSMv2 does: a key is not wrapped out
 *   unless the application asks for that.
 */
static const struct attr_rule priv_rows[] = {
    {CKA_PRIVATE, COPY_SET, D_TRUE, 0},
    {CKA_SUBJECT, FN(8), D_EMPTY, 0},
    {CKA_SENSITIVE, FN(8) | FN(9) | FN(11), D_TRUE, 0},
    {CKA_DECRYPT, FN(8) | FN(9), D_TRUE, 0},
    {CKA_SIGN, FN(8) | FN(9), D_TRUE, 0},
    {CKA_SIGN_RECOVER, FN(8) | FN(9), D_TRUE, 0},
    {CKA_UNWRAP, FN(8) | FN(9), D_TRUE, 0},
    {CKA_EXTRACTABLE, FN(8) | FN(9) | FN(12), D_FALSE, 0},
    {CKA_ALWAYS_SENSITIVE, FN(2) | FN(4) | FN(6) | TOKEN_SET, D_FALSE, 0},
    {CKA_NEVER_EXTRACTABLE, FN(2) | FN(4) | FN(6) | TOKEN_SET, D_FALSE, 0},
    {CKA_WRAP_WITH_TRUSTED, FN(8) | FN(11), D_FALSE, 0},
    {CKA_UNWRAP_TEMPLATE, 0, D_EMPTY, 0},
    {CKA_DERIVE_TEMPLATE, 0, D_EMPTY, 0},
    {CKA_ALWAYS_AUTHENTICATE, 0, D_FALSE, 0},
    {CKA_PUBLIC_KEY_INFO, FN(8), D_EMPTY, 0},
};

/* 4.10 Secret keys. Defaults as for private keys (see above). */
static const struct attr_rule secret_rows[] = {
    {CKA_PRIVATE, COPY_SET, D_TRUE, 0},
    {CKA_SENSITIVE, FN(8) | FN(11), D_TRUE, 0},
    {CKA_ENCRYPT, FN(8) | FN(9), D_TRUE, 0},
    {CKA_DECRYPT, FN(8) | FN(9), D_TRUE, 0},
    {CKA_SIGN, FN(8) | FN(9), D_TRUE, 0},
    {CKA_VERIFY, FN(8) | FN(9), D_TRUE, 0},
    {CKA_WRAP, FN(8) | FN(9), D_TRUE, 0},
    {CKA_UNWRAP, FN(8) | FN(9), D_TRUE, 0},
    {CKA_EXTRACTABLE, FN(8) | FN(9) | FN(12), D_FALSE, 0},
    {CKA_ALWAYS_SENSITIVE, FN(2) | FN(4) | FN(6) | TOKEN_SET, D_FALSE, 0},
    {CKA_NEVER_EXTRACTABLE, FN(2) | FN(4) | FN(6) | TOKEN_SET, D_FALSE, 0},
    {CKA_CHECK_VALUE, 0, D_EMPTY, 0}, /* computed */
    {CKA_WRAP_WITH_TRUSTED, FN(8) | FN(11), D_FALSE, 0},
    {CKA_TRUSTED, FN(8) | FN(10), D_FALSE, 0},
    {CKA_WRAP_TEMPLATE, 0, D_EMPTY, 0},
    {CKA_UNWRAP_TEMPLATE, 0, D_EMPTY, 0},
    {CKA_DERIVE_TEMPLATE, 0, D_EMPTY, 0},
};

/* Current Mechanisms 2.1.2 RSA public keys. CKA_MODULUS_BITS is computed
 * from CKA_MODULUS on create. */
static const struct attr_rule rsa_pub_rows[] = {
    {CKA_MODULUS, FN(1) | FN(4), D_EMPTY, 0},
    {CKA_MODULUS_BITS, FN(2) | FN(3), D_EMPTY, 0},
    {CKA_PUBLIC_EXPONENT, FN(1), D_EMPTY, 0},
};

/* Current Mechanisms 2.1.3 RSA private keys. The spec makes only
 * CKA_MODULUS and CKA_PRIVATE_EXPONENT required; coffer also requires
 * CKA_PUBLIC_EXPONENT on create (the FN(1) below), because OpenSSL needs it
 * to build a usable key (blinding, and checking the key pair). */
static const struct attr_rule rsa_priv_rows[] = {
    {CKA_MODULUS, FN(1) | FN(4) | FN(6), D_EMPTY, 0},
    {CKA_PUBLIC_EXPONENT, FN(1) | FN(4) | FN(6), D_EMPTY, 0},
    {CKA_PRIVATE_EXPONENT, FN(1) | FN(4) | FN(6) | FN(7), D_EMPTY, 0},
    {CKA_PRIME_1, FN(4) | FN(6) | FN(7), D_EMPTY, 0},
    {CKA_PRIME_2, FN(4) | FN(6) | FN(7), D_EMPTY, 0},
    {CKA_EXPONENT_1, FN(4) | FN(6) | FN(7), D_EMPTY, 0},
    {CKA_EXPONENT_2, FN(4) | FN(6) | FN(7), D_EMPTY, 0},
    {CKA_COEFFICIENT, FN(4) | FN(6) | FN(7), D_EMPTY, 0},
};

/* Current Mechanisms 2.3.3/2.3.4 EC keys; Edwards (2.3.5/2.3.6) and
 * Montgomery (2.3.7/2.3.8) keys have the same attributes. */
static const struct attr_rule ec_pub_rows[] = {
    {CKA_EC_PARAMS, FN(1) | FN(3), D_EMPTY, 0},
    {CKA_EC_POINT, FN(1) | FN(4), D_EMPTY, 0},
};

static const struct attr_rule ec_priv_rows[] = {
    {CKA_EC_PARAMS, FN(1) | FN(4) | FN(6), D_EMPTY, 0},
    {CKA_VALUE, FN(1) | FN(4) | FN(6) | FN(7), D_EMPTY, 0},
};

/* AES (2.9.2), generic secret (2.8.1) and the HMAC key types, which the
 * spec describes as generic secrets. CKA_VALUE_LEN is computed on create. */
static const struct attr_rule value_len_rows[] = {
    {CKA_VALUE, FN(1) | FN(4) | FN(6) | FN(7), D_EMPTY, 0},
    {CKA_VALUE_LEN, FN(2) | FN(3) | FN(6), D_EMPTY, 0},
};

/* DES3 (2.20.x): fixed length, no CKA_VALUE_LEN. */
static const struct attr_rule value_rows[] = {
    {CKA_VALUE, FN(1) | FN(4) | FN(6) | FN(7), D_EMPTY, 0},
};

/* ChaCha20 (2.53): the spec adds CKA_VALUE_LEN with footnotes 2 and 3.
 * The key length is fixed, so coffer does not insist on it when generating
 * (applications commonly leave it out); it is still computed. */
static const struct attr_rule chacha_rows[] = {
    {CKA_VALUE, FN(1) | FN(4) | FN(6) | FN(7), D_EMPTY, 0},
    {CKA_VALUE_LEN, FN(2) | FN(6), D_EMPTY, 0},
};

enum check_kind {
	CHECK_NONE, /* the spec defines none for the type */
	CHECK_SHA1, /* first 3 bytes of SHA-1 of CKA_VALUE */
	CHECK_ECB,  /* first 3 bytes of an ECB-encrypted zero block */
};

struct key_type_rules {
	CK_OBJECT_CLASS cls;
	CK_KEY_TYPE kt;
	struct rule_table table;
	/* allowed CKA_VALUE lengths, 0-terminated; none listed: any >= 1 */
	CK_ULONG lens[4];
	enum check_kind check;
};

static const struct key_type_rules key_types[] = {
    {CKO_PUBLIC_KEY, CKK_RSA, TABLE(rsa_pub_rows), {0}, CHECK_NONE},
    {CKO_PUBLIC_KEY, CKK_EC, TABLE(ec_pub_rows), {0}, CHECK_NONE},
    {CKO_PUBLIC_KEY, CKK_EC_EDWARDS, TABLE(ec_pub_rows), {0}, CHECK_NONE},
    {CKO_PUBLIC_KEY, CKK_EC_MONTGOMERY, TABLE(ec_pub_rows), {0}, CHECK_NONE},
    {CKO_PRIVATE_KEY, CKK_RSA, TABLE(rsa_priv_rows), {0}, CHECK_NONE},
    {CKO_PRIVATE_KEY, CKK_EC, TABLE(ec_priv_rows), {0}, CHECK_NONE},
    {CKO_PRIVATE_KEY, CKK_EC_EDWARDS, TABLE(ec_priv_rows), {0}, CHECK_NONE},
    {CKO_PRIVATE_KEY, CKK_EC_MONTGOMERY, TABLE(ec_priv_rows), {0}, CHECK_NONE},
    {CKO_SECRET_KEY,
     CKK_AES,
     TABLE(value_len_rows),
     {16, 24, 32, 0},
     CHECK_ECB},
    {CKO_SECRET_KEY,
     CKK_GENERIC_SECRET,
     TABLE(value_len_rows),
     {0},
     CHECK_SHA1},
    {CKO_SECRET_KEY, CKK_SHA_1_HMAC, TABLE(value_len_rows), {0}, CHECK_SHA1},
    {CKO_SECRET_KEY, CKK_SHA224_HMAC, TABLE(value_len_rows), {0}, CHECK_SHA1},
    {CKO_SECRET_KEY, CKK_SHA256_HMAC, TABLE(value_len_rows), {0}, CHECK_SHA1},
    {CKO_SECRET_KEY, CKK_SHA384_HMAC, TABLE(value_len_rows), {0}, CHECK_SHA1},
    {CKO_SECRET_KEY, CKK_SHA512_HMAC, TABLE(value_len_rows), {0}, CHECK_SHA1},
    {CKO_SECRET_KEY, CKK_SHA3_224_HMAC, TABLE(value_len_rows), {0}, CHECK_SHA1},
    {CKO_SECRET_KEY, CKK_SHA3_256_HMAC, TABLE(value_len_rows), {0}, CHECK_SHA1},
    {CKO_SECRET_KEY, CKK_SHA3_384_HMAC, TABLE(value_len_rows), {0}, CHECK_SHA1},
    {CKO_SECRET_KEY, CKK_SHA3_512_HMAC, TABLE(value_len_rows), {0}, CHECK_SHA1},
    {CKO_SECRET_KEY, CKK_DES3, TABLE(value_rows), {24, 0}, CHECK_ECB},
    {CKO_SECRET_KEY, CKK_CHACHA20, TABLE(chacha_rows), {32, 0}, CHECK_NONE},
};

#define N_KEY_TYPES (sizeof(key_types) / sizeof(key_types[0]))

/* The tables that apply to one object, most general first. */
struct ruleset {
	struct rule_table tabs[5];
	size_t n;
	const struct key_type_rules *kt;
	CK_OBJECT_CLASS cls;
};

static const struct key_type_rules *find_key_type(CK_OBJECT_CLASS cls,
						  CK_KEY_TYPE kt)
{
	for (size_t i = 0; i < N_KEY_TYPES; i++)
		if (key_types[i].cls == cls && key_types[i].kt == kt)
			return &key_types[i];
	return NULL;
}

static bool is_key_class(CK_OBJECT_CLASS cls)
{
	return cls == CKO_PUBLIC_KEY || cls == CKO_PRIVATE_KEY ||
	       cls == CKO_SECRET_KEY;
}

/* kt: the key type (keys) or certificate type (certificates). Returns
 * CKR_ATTRIBUTE_VALUE_INVALID for what coffer does not store. */
static CK_RV ruleset_build(CK_OBJECT_CLASS cls, CK_ULONG kt, struct ruleset *rs)
{
	static const struct rule_table object = TABLE(object_rows);
	static const struct rule_table storage = TABLE(storage_rows);
	static const struct rule_table data = TABLE(data_rows);
	static const struct rule_table cert = TABLE(cert_rows);
	static const struct rule_table x509 = TABLE(x509_rows);
	static const struct rule_table key = TABLE(key_rows);
	static const struct rule_table pub = TABLE(pub_rows);
	static const struct rule_table priv = TABLE(priv_rows);
	static const struct rule_table secret = TABLE(secret_rows);

	memset(rs, 0, sizeof(*rs));
	rs->cls = cls;
	rs->tabs[rs->n++] = object;
	rs->tabs[rs->n++] = storage;
	switch (cls) {
	case CKO_DATA:
		rs->tabs[rs->n++] = data;
		return CKR_OK;
	case CKO_CERTIFICATE:
		if (kt != CKC_X_509)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		rs->tabs[rs->n++] = cert;
		rs->tabs[rs->n++] = x509;
		return CKR_OK;
	case CKO_PUBLIC_KEY:
	case CKO_PRIVATE_KEY:
	case CKO_SECRET_KEY:
		rs->kt = find_key_type(cls, kt);
		if (rs->kt == NULL)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		rs->tabs[rs->n++] = key;
		rs->tabs[rs->n++] = cls == CKO_PUBLIC_KEY    ? pub
				    : cls == CKO_PRIVATE_KEY ? priv
							     : secret;
		rs->tabs[rs->n++] = rs->kt->table;
		return CKR_OK;
	default:
		/* hardware features, mechanisms, domain parameters, OTP keys,
		 * profiles and vendor classes are not stored by coffer */
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
}

/* The row for t. Tables are searched from the most specific (key type)
 * back, so that a key type's row wins over a general one of the same
 * type. */
static const struct attr_rule *ruleset_find(const struct ruleset *rs,
					    CK_ATTRIBUTE_TYPE t)
{
	for (size_t i = rs->n; i-- > 0;)
		for (size_t j = 0; j < rs->tabs[i].n; j++)
			if (rs->tabs[i].rows[j].type == t)
				return &rs->tabs[i].rows[j];
	return NULL;
}

static CK_RV ruleset_of(const struct cf_object *o, struct ruleset *rs)
{
	CK_ULONG kt = o->key_type;

	if (o->cls == CKO_CERTIFICATE)
		kt = cf_object_ulong(o, CKA_CERTIFICATE_TYPE,
				     CK_UNAVAILABLE_INFORMATION);
	return ruleset_build(o->cls, kt, rs) == CKR_OK ? CKR_OK
						       : CKR_GENERAL_ERROR;
}

/* ---- sensitivity -------------------------------------------------------- */

bool cf_rules_attr_is_sensitive(CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE t)
{
	for (size_t i = 0; i < N_KEY_TYPES; i++) {
		const struct rule_table *tab = &key_types[i].table;
		if (key_types[i].cls != cls)
			continue;
		for (size_t j = 0; j < tab->n; j++)
			if (tab->rows[j].type == t && (tab->rows[j].fn & FN(7)))
				return true;
	}
	return false;
}

bool cf_rules_attr_is_secret(CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE t)
{
	return cf_rules_attr_is_sensitive(cls, t);
}

bool cf_rules_attr_hidden(const struct cf_object *o, CK_ATTRIBUTE_TYPE t)
{
	if (!cf_rules_attr_is_sensitive(o->cls, t))
		return false;
	/* missing flags count as the safe values */
	return cf_object_bool(o, CKA_SENSITIVE, true) ||
	       !cf_object_bool(o, CKA_EXTRACTABLE, false);
}

/* ---- derived attributes ------------------------------------------------- */

static CK_RV check_sha1(const struct cf_attr *v, uint8_t out[3])
{
	CK_RV rv = CKR_GENERAL_ERROR;
	EVP_MD *md;
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;

	md = EVP_MD_fetch(cf_libctx(), "SHA1", NULL);
	if (md == NULL)
		return CKR_GENERAL_ERROR;
	if (EVP_Digest(v->value, v->len, h, &hlen, md, NULL) == 1 &&
	    hlen >= 3) {
		memcpy(out, h, 3);
		rv = CKR_OK;
	}
	cf_wipe(h, sizeof(h));
	EVP_MD_free(md);
	return rv;
}

static CK_RV check_ecb(CK_KEY_TYPE kt, const struct cf_attr *v, uint8_t out[3])
{
	CK_RV rv = CKR_GENERAL_ERROR;
	const char *name;
	EVP_CIPHER *c;
	EVP_CIPHER_CTX *ctx;
	uint8_t zero[16] = {0}, block[32];
	int outl = 0;
	int bs;

	if (kt == CKK_DES3)
		name = "DES-EDE3-ECB";
	else if (v->len == 16)
		name = "AES-128-ECB";
	else if (v->len == 24)
		name = "AES-192-ECB";
	else
		name = "AES-256-ECB";
	c = EVP_CIPHER_fetch(cf_libctx(), name, NULL);
	if (c == NULL)
		return CKR_GENERAL_ERROR;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		goto out_free_cipher;
	bs = EVP_CIPHER_get_block_size(c);
	if (bs <= 0 || bs > (int)sizeof(zero) ||
	    (size_t)EVP_CIPHER_get_key_length(c) != v->len)
		goto out_free_ctx;
	if (EVP_EncryptInit_ex2(ctx, c, v->value, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_EncryptUpdate(ctx, block, &outl, zero, bs) != 1 || outl < 3)
		goto out_free_ctx;
	memcpy(out, block, 3);
	rv = CKR_OK;

out_free_ctx:
	EVP_CIPHER_CTX_free(ctx);
out_free_cipher:
	EVP_CIPHER_free(c);
	cf_wipe(block, sizeof(block));
	return rv;
}

/* The check value the spec defines for o, into out; *has false when it
 * defines none or there is nothing to compute it from. */
static CK_RV compute_check(const struct cf_object *o, uint8_t out[3], bool *has)
{
	const struct cf_attr *v = cf_object_attr(o, CKA_VALUE);
	const struct key_type_rules *kt;

	*has = false;
	if (v == NULL || v->len == 0)
		return CKR_OK;
	if (o->cls == CKO_CERTIFICATE) {
		*has = true;
		return check_sha1(v, out);
	}
	if (o->cls != CKO_SECRET_KEY)
		return CKR_OK;
	kt = find_key_type(o->cls, o->key_type);
	if (kt == NULL || kt->check == CHECK_NONE)
		return CKR_OK;
	*has = true;
	return kt->check == CHECK_SHA1 ? check_sha1(v, out)
				       : check_ecb(o->key_type, v, out);
}

static CK_ULONG bit_length(const struct cf_attr *a)
{
	size_t i = 0;
	CK_ULONG bits;
	uint8_t top;

	while (i < a->len && a->value[i] == 0)
		i++;
	if (i == a->len)
		return 0;
	bits = (CK_ULONG)(a->len - i) * 8;
	for (top = a->value[i]; !(top & 0x80); top = (uint8_t)(top << 1))
		bits--;
	return bits;
}

/* skip_check: leave CKA_CHECK_VALUE alone (a create template asked for an
 * empty one, meaning none). */
static CK_RV update_derived(struct cf_object *o, bool skip_check)
{
	CK_RV rv;
	const struct cf_attr *a;
	uint8_t cv[3];
	bool has;

	if (o->cls == CKO_PUBLIC_KEY && o->key_type == CKK_RSA) {
		a = cf_object_attr(o, CKA_MODULUS);
		if (a != NULL && a->len > 0) {
			rv = cf_object_set_ulong(o, CKA_MODULUS_BITS,
						 bit_length(a));
			if (rv != CKR_OK)
				return rv;
		}
	}
	if (o->cls == CKO_SECRET_KEY &&
	    cf_object_attr(o, CKA_VALUE_LEN) != NULL) {
		a = cf_object_attr(o, CKA_VALUE);
		if (a != NULL && a->len > 0) {
			rv = cf_object_set_ulong(o, CKA_VALUE_LEN, a->len);
			if (rv != CKR_OK)
				return rv;
		}
	}
	if (skip_check || cf_object_attr(o, CKA_CHECK_VALUE) == NULL)
		return CKR_OK;
	rv = compute_check(o, cv, &has);
	if (rv != CKR_OK || !has)
		return rv;
	return cf_object_set(o, CKA_CHECK_VALUE, cv, sizeof(cv));
}

CK_RV cf_rules_update_derived(struct cf_object *o)
{
	return update_derived(o, false);
}

/* ---- new objects -------------------------------------------------------- */

/* A caller's template as an object: shapes checked, values normalised, a
 * type given twice with different values refused. */
static CK_RV template_load(const CK_ATTRIBUTE *tmpl, CK_ULONG n,
			   struct cf_object **out)
{
	CK_RV rv;
	struct cf_object *t;

	*out = NULL;
	if (n > 0 && tmpl == NULL)
		return CKR_ARGUMENTS_BAD;
	t = cf_object_new();
	if (t == NULL)
		return CKR_HOST_MEMORY;
	for (CK_ULONG i = 0; i < n; i++) {
		if (cf_p11_attr_kind(tmpl[i].type) == CF_ATTR_UNKNOWN) {
			rv = CKR_ATTRIBUTE_TYPE_INVALID;
			goto out_free_template;
		}
		if (cf_object_attr(t, tmpl[i].type) != NULL) {
			if (!cf_object_match(t, &tmpl[i], 1)) {
				rv = CKR_TEMPLATE_INCONSISTENT;
				goto out_free_template;
			}
			continue;
		}
		rv = cf_object_set_api(t, &tmpl[i]);
		if (rv != CKR_OK)
			goto out_free_template;
	}
	*out = t;
	return CKR_OK;

out_free_template:
	cf_object_unref(t);
	return rv;
}

/* The class-defining value (class, key type, certificate type): what the
 * mechanism says, or the template; both must agree. */
static CK_RV defining_ulong(const struct cf_object *t, CK_ATTRIBUTE_TYPE type,
			    CK_ULONG given, CK_ULONG *out)
{
	const struct cf_attr *a = cf_object_attr(t, type);
	CK_ULONG v;

	*out = CK_UNAVAILABLE_INFORMATION;
	if (a == NULL) {
		if (given == CK_UNAVAILABLE_INFORMATION)
			return CKR_TEMPLATE_INCOMPLETE;
		*out = given;
		return CKR_OK;
	}
	v = cf_object_ulong(t, type, CK_UNAVAILABLE_INFORMATION);
	if (given != CK_UNAVAILABLE_INFORMATION && v != given)
		return CKR_TEMPLATE_INCONSISTENT;
	*out = v;
	return CKR_OK;
}

static bool value_len_allowed(const struct key_type_rules *kt, CK_ULONG len)
{
	if (kt->lens[0] == 0)
		return len >= 1;
	for (size_t i = 0; i < 4 && kt->lens[i] != 0; i++)
		if (kt->lens[i] == len)
			return true;
	return false;
}

/* Each template attribute against the class's rules. */
static CK_RV template_check(const struct ruleset *rs, enum cf_origin origin,
			    const struct cf_object *t, bool so)
{
	const struct origin_fn *ofn = &origin_fns[origin];

	for (size_t i = 0; i < t->n; i++) {
		const struct cf_attr *a = &t->attrs[i];
		const struct attr_rule *r = ruleset_find(rs, a->type);
		if (r == NULL)
			return CKR_TEMPLATE_INCONSISTENT;
		if (r->fn & ofn->forbidden)
			return (r->fn & TOKEN_SET) ? CKR_ATTRIBUTE_READ_ONLY
						   : CKR_TEMPLATE_INCONSISTENT;
		if ((r->fn & FN(10)) && !so &&
		    cf_object_bool(t, a->type, false))
			return CKR_ATTRIBUTE_READ_ONLY;
		/* a check value can only be verified against material the
		 * template carries, which only C_CreateObject does */
		if (a->type == CKA_CHECK_VALUE && a->len > 0 &&
		    origin != CF_ORIGIN_CREATE)
			return CKR_TEMPLATE_INCONSISTENT;
	}
	for (size_t i = 0; i < rs->n; i++) {
		for (size_t j = 0; j < rs->tabs[i].n; j++) {
			const struct attr_rule *r = &rs->tabs[i].rows[j];
			const struct cf_attr *a = cf_object_attr(t, r->type);
			enum cf_attr_kind k;
			/* the class and key type were settled before */
			if (r->type == CKA_CLASS || r->type == CKA_KEY_TYPE)
				continue;
			if (!(r->fn & ofn->required))
				continue;
			if (a == NULL)
				return CKR_TEMPLATE_INCOMPLETE;
			k = cf_p11_attr_kind(r->type);
			if (a->len == 0 &&
			    (k == CF_ATTR_BYTES || k == CF_ATTR_BIGINT))
				return CKR_ATTRIBUTE_VALUE_INVALID;
		}
	}
	if (rs->kt != NULL && rs->cls == CKO_SECRET_KEY) {
		const struct cf_attr *v = cf_object_attr(t, CKA_VALUE);
		if (v != NULL && !value_len_allowed(rs->kt, v->len))
			return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	return CKR_OK;
}

static CK_RV set_default(struct cf_object *o, const struct attr_rule *r)
{
	switch (r->dflt) {
	case D_FALSE:
		return cf_object_set_bool(o, r->type, false);
	case D_TRUE:
		return cf_object_set_bool(o, r->type, true);
	case D_ULONG:
		return cf_object_set_ulong(o, r->type, r->ulong);
	case D_EMPTY:
		break;
	}
	return cf_object_set(o, r->type, NULL, 0);
}

static CK_RV set_unique_id(struct cf_object *o)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t rnd[8];
	char id[16];

	if (!cf_random(rnd, sizeof(rnd)))
		return CKR_GENERAL_ERROR;
	for (size_t i = 0; i < sizeof(rnd); i++) {
		id[2 * i] = hex[rnd[i] >> 4];
		id[2 * i + 1] = hex[rnd[i] & 0xf];
	}
	return cf_object_set(o, CKA_UNIQUE_ID, id, sizeof(id));
}

/* CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE by origin (v3.0
 * 4.9/4.10: only a key generated on the token is local, and only such a
 * key can vouch for its whole history). */
static CK_RV set_token_kept(struct cf_object *o, enum cf_origin origin)
{
	CK_RV rv;
	bool gen = origin == CF_ORIGIN_GENERATE;

	if (!is_key_class(o->cls))
		return CKR_OK;
	rv = cf_object_set_bool(o, CKA_LOCAL, gen);
	if (rv != CKR_OK || o->cls == CKO_PUBLIC_KEY)
		return rv;
	rv = cf_object_set_bool(o, CKA_ALWAYS_SENSITIVE,
				gen && cf_object_bool(o, CKA_SENSITIVE, true));
	if (rv != CKR_OK)
		return rv;
	return cf_object_set_bool(
	    o, CKA_NEVER_EXTRACTABLE,
	    gen && !cf_object_bool(o, CKA_EXTRACTABLE, false));
}

/* Fills o: every attribute of the ruleset with its default, then the
 * template's values over them. */
static CK_RV object_fill(struct cf_object *o, const struct ruleset *rs,
			 const struct cf_object *t, CK_ULONG cls, CK_ULONG kt)
{
	CK_RV rv;

	rv = cf_object_set_ulong(o, CKA_CLASS, cls);
	if (rv != CKR_OK)
		return rv;
	if (is_key_class(cls))
		rv = cf_object_set_ulong(o, CKA_KEY_TYPE, kt);
	else if (cls == CKO_CERTIFICATE)
		rv = cf_object_set_ulong(o, CKA_CERTIFICATE_TYPE, kt);
	if (rv != CKR_OK)
		return rv;
	for (size_t i = 0; i < rs->n; i++) {
		for (size_t j = 0; j < rs->tabs[i].n; j++) {
			const struct attr_rule *r = &rs->tabs[i].rows[j];
			if (cf_object_attr(o, r->type) != NULL)
				continue;
			rv = set_default(o, r);
			if (rv != CKR_OK)
				return rv;
		}
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct cf_attr *a = &t->attrs[i];
		rv = cf_object_set(o, a->type, a->value, a->len);
		if (rv != CKR_OK)
			return rv;
	}
	return CKR_OK;
}

/* C_CreateObject with a check value: it must be the one the spec defines
 * (an empty one means "none" and is kept). */
static CK_RV derive_and_verify(struct cf_object *o, const struct cf_object *t)
{
	CK_RV rv;
	const struct cf_attr *given = cf_object_attr(t, CKA_CHECK_VALUE);
	uint8_t cv[3];
	bool has;

	if (given == NULL)
		return update_derived(o, false);
	rv = update_derived(o, true);
	if (rv != CKR_OK || given->len == 0)
		return rv;
	rv = compute_check(o, cv, &has);
	if (rv != CKR_OK)
		return rv;
	if (!has || given->len != sizeof(cv) ||
	    memcmp(given->value, cv, sizeof(cv)) != 0)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	return CKR_OK;
}

CK_RV cf_rules_new_object(enum cf_origin origin, CK_OBJECT_CLASS cls,
			  CK_KEY_TYPE key_type, const CK_ATTRIBUTE *tmpl,
			  CK_ULONG n, bool so, struct cf_object **out)
{
	CK_RV rv;
	struct cf_object *t = NULL, *o = NULL;
	struct ruleset rs;
	CK_ULONG c, kt = CK_UNAVAILABLE_INFORMATION;

	*out = NULL;
	if ((unsigned)origin > CF_ORIGIN_DERIVE)
		return CKR_GENERAL_ERROR;
	rv = template_load(tmpl, n, &t);
	if (rv != CKR_OK)
		return rv;
	rv = defining_ulong(t, CKA_CLASS, cls, &c);
	if (rv != CKR_OK)
		goto out_free_template;
	if (is_key_class(c))
		rv = defining_ulong(t, CKA_KEY_TYPE, key_type, &kt);
	else if (c == CKO_CERTIFICATE)
		rv = defining_ulong(t, CKA_CERTIFICATE_TYPE,
				    CK_UNAVAILABLE_INFORMATION, &kt);
	if (rv != CKR_OK)
		goto out_free_template;
	rv = ruleset_build(c, kt, &rs);
	if (rv != CKR_OK)
		goto out_free_template;
	rv = template_check(&rs, origin, t, so);
	if (rv != CKR_OK)
		goto out_free_template;
	o = cf_object_new();
	if (o == NULL) {
		rv = CKR_HOST_MEMORY;
		goto out_free_template;
	}
	rv = object_fill(o, &rs, t, c, kt);
	if (rv == CKR_OK)
		rv = set_token_kept(o, origin);
	if (rv == CKR_OK)
		rv = set_unique_id(o);
	if (rv == CKR_OK)
		rv = derive_and_verify(o, t);
	if (rv != CKR_OK)
		goto out_free_object;
	*out = o;
	o = NULL; /* transferred */

out_free_object:
	cf_object_unref(o);
out_free_template:
	cf_object_unref(t);
	return rv;
}

/* ---- changes ------------------------------------------------------------ */

static bool same_value(const struct cf_attr *x, const struct cf_attr *y)
{
	if (x == NULL || y == NULL || x->len != y->len)
		return false;
	return x->len == 0 || memcmp(x->value, y->value, x->len) == 0;
}

/* Whether changing o's attribute to the (different) value a is allowed. */
static CK_RV change_allowed(const struct cf_object *o,
			    const struct attr_rule *r, const struct cf_attr *a,
			    bool copy, bool so)
{
	bool now = cf_object_bool(o, r->type, false);
	bool to = a->len == 1 && a->value[0] != CK_FALSE;

	if (!copy && !cf_object_bool(o, CKA_MODIFIABLE, true))
		return CKR_ACTION_PROHIBITED;
	if (r->fn & COPY_SET) {
		if (!copy)
			return CKR_ATTRIBUTE_READ_ONLY;
		/* a copy may give up modifiability, not gain it */
		if (r->type == CKA_MODIFIABLE && to)
			return CKR_ATTRIBUTE_READ_ONLY;
		return CKR_OK;
	}
	/* the copy of an object that cannot change cannot differ from it
	 * but in where it lives and who may see it */
	if (copy && !cf_object_bool(o, CKA_MODIFIABLE, true))
		return CKR_ATTRIBUTE_READ_ONLY;
	if ((r->fn & FN(10)) && to && !so)
		return CKR_ATTRIBUTE_READ_ONLY;
	if (!(r->fn & FN(8)))
		return CKR_ATTRIBUTE_READ_ONLY;
	if ((r->fn & FN(11)) && now)
		return CKR_ATTRIBUTE_READ_ONLY;
	if ((r->fn & FN(12)) && !now)
		return CKR_ATTRIBUTE_READ_ONLY;
	return CKR_OK;
}

CK_RV cf_rules_check_change(const struct cf_object *o, const CK_ATTRIBUTE *tmpl,
			    CK_ULONG n, bool copy, bool so)
{
	CK_RV rv;
	struct ruleset rs;
	struct cf_object *t;

	if (n > 0 && tmpl == NULL)
		return CKR_ARGUMENTS_BAD;
	if (copy && !cf_object_bool(o, CKA_COPYABLE, true))
		return CKR_ACTION_PROHIBITED;
	rv = ruleset_of(o, &rs);
	if (rv != CKR_OK)
		return rv;
	for (CK_ULONG i = 0; i < n; i++) {
		if (cf_p11_attr_kind(tmpl[i].type) == CF_ATTR_UNKNOWN ||
		    ruleset_find(&rs, tmpl[i].type) == NULL)
			return CKR_ATTRIBUTE_TYPE_INVALID;
	}
	rv = template_load(tmpl, n, &t);
	if (rv != CKR_OK)
		return rv;
	for (size_t i = 0; i < t->n; i++) {
		const struct cf_attr *a = &t->attrs[i];
		if (same_value(cf_object_attr(o, a->type), a))
			continue;
		rv = change_allowed(o, ruleset_find(&rs, a->type), a, copy, so);
		if (rv != CKR_OK)
			break;
	}
	cf_object_unref(t);
	return rv;
}

static bool touches_material(const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++)
		if (tmpl[i].type == CKA_VALUE || tmpl[i].type == CKA_MODULUS)
			return true;
	return false;
}

CK_RV cf_rules_apply_change(struct cf_object *o, const CK_ATTRIBUTE *tmpl,
			    CK_ULONG n)
{
	CK_RV rv;
	struct cf_object *c;
	struct cf_attr *attrs;
	size_t cnt, cap;

	if (n > 0 && tmpl == NULL)
		return CKR_ARGUMENTS_BAD;
	/* on a copy first, so that a failure leaves o as it was */
	rv = cf_object_dup(o, &c);
	if (rv != CKR_OK)
		return rv;
	for (CK_ULONG i = 0; i < n && rv == CKR_OK; i++)
		rv = cf_object_set_api(c, &tmpl[i]);
	if (rv == CKR_OK && touches_material(tmpl, n))
		rv = update_derived(c, false);
	if (rv != CKR_OK)
		goto out_free_copy;
	attrs = o->attrs;
	cnt = o->n;
	cap = o->cap;
	o->attrs = c->attrs;
	o->n = c->n;
	o->cap = c->cap;
	o->cls = c->cls;
	o->key_type = c->key_type;
	o->token = c->token;
	o->priv = c->priv;
	c->attrs = attrs; /* the old values, freed with c */
	c->n = cnt;
	c->cap = cap;

out_free_copy:
	cf_object_unref(c);
	return rv;
}

CK_RV cf_rules_copy_object(const struct cf_object *o, const CK_ATTRIBUTE *tmpl,
			   CK_ULONG n, bool so, struct cf_object **out)
{
	CK_RV rv;
	struct cf_object *c;

	*out = NULL;
	rv = cf_rules_check_change(o, tmpl, n, true, so);
	if (rv != CKR_OK)
		return rv;
	rv = cf_object_dup(o, &c);
	if (rv != CKR_OK)
		return rv;
	rv = cf_rules_apply_change(c, tmpl, n);
	if (rv == CKR_OK && cf_object_attr(c, CKA_UNIQUE_ID) != NULL)
		rv = set_unique_id(c);
	if (rv != CKR_OK) {
		cf_object_unref(c);
		return rv;
	}
	*out = c;
	return CKR_OK;
}
