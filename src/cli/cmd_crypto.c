/*
 * cmd_crypto.c - coffer sign, verify, encrypt, decrypt, digest, random,
 * wrap and unwrap on files or stdin/stdout.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>

#include "cli/cli.h"
#include "pkcs11/schema.h"

/* "CKM_SHA256_RSA_PKCS" or the short "sha256-rsa-pkcs". */
static int mech_parse(const char *s, CK_MECHANISM_TYPE *m)
{
	char name[96];
	size_t n = 0;

	if (s == NULL) {
		cli_err("--mechanism MECH is needed");
		return -1;
	}
	if (strncmp(s, "CKM_", 4) != 0 && strncmp(s, "ckm_", 4) != 0) {
		memcpy(name, "CKM_", 4);
		n = 4;
	}
	for (; *s && n + 1 < sizeof(name); s++)
		name[n++] = *s == '-' ? '_' : (char)toupper((unsigned char)*s);
	name[n] = '\0';
	if (!cf_p11_mech_by_name(name, m)) {
		cli_err("unknown mechanism '%s'", name);
		return -1;
	}
	return 0;
}

struct mech_buf {
	CK_MECHANISM m;
	union {
		CK_RSA_PKCS_PSS_PARAMS pss;
		CK_RSA_PKCS_OAEP_PARAMS oaep;
		CK_GCM_PARAMS gcm;
		CK_AES_CTR_PARAMS ctr;
	} u;
	uint8_t *iv, *aad;
	size_t ivlen, aadlen;
};

static void pss_for(CK_MECHANISM_TYPE m, CK_RSA_PKCS_PSS_PARAMS *p)
{
	switch (m) {
	case CKM_SHA384_RSA_PKCS_PSS:
		*p = (CK_RSA_PKCS_PSS_PARAMS){CKM_SHA384, CKG_MGF1_SHA384, 48};
		break;
	case CKM_SHA512_RSA_PKCS_PSS:
		*p = (CK_RSA_PKCS_PSS_PARAMS){CKM_SHA512, CKG_MGF1_SHA512, 64};
		break;
	default:
		*p = (CK_RSA_PKCS_PSS_PARAMS){CKM_SHA256, CKG_MGF1_SHA256, 32};
		break;
	}
}

/* The IV length a block-cipher mode needs (0: any, or no IV). Checked
 * here so that a wrong --iv gets a message naming the length, not the
 * token's CKR_MECHANISM_PARAM_INVALID. */
static size_t iv_len_for(CK_MECHANISM_TYPE m)
{
	switch (m) {
	case CKM_AES_CBC:
	case CKM_AES_CBC_PAD:
	case CKM_AES_CTR:
		return 16;
	case CKM_DES3_CBC:
	case CKM_DES3_CBC_PAD:
		return 8;
	default:
		return 0;
	}
}

static int iv_check(struct mech_buf *mb)
{
	size_t want = iv_len_for(mb->m.mechanism);
	char buf[64];
	const char *name = cf_p11_mech_name(mb->m.mechanism);

	if (name == NULL) {
		snprintf(buf, sizeof(buf), "0x%lx",
			 (unsigned long)mb->m.mechanism);
		name = buf;
	}
	if ((want != 0 || mb->m.mechanism == CKM_AES_GCM) && mb->iv == NULL) {
		cli_err("%s needs --iv HEX", name);
		return -1;
	}
	if (mb->m.mechanism == CKM_AES_GCM && mb->ivlen == 0) {
		cli_err("--iv: %s needs an IV of at least 1 byte", name);
		return -1;
	}
	if (want != 0 && mb->ivlen != want) {
		cli_err("--iv: %s needs a %zu-byte IV (%zu hex digits), not "
			"%zu bytes",
			name, want, 2 * want, mb->ivlen);
		return -1;
	}
	return 0;
}

static int mech_setup(struct cli *c, struct mech_buf *mb)
{
	memset(mb, 0, sizeof(*mb));
	if (mech_parse(c->o.mechanism, &mb->m.mechanism) != 0)
		return -1;
	if (c->o.iv != NULL && !cli_hex_decode(c->o.iv, &mb->iv, &mb->ivlen)) {
		cli_err("--iv '%s' is not hex", c->o.iv);
		return -1;
	}
	if (c->o.aad != NULL &&
	    !cli_hex_decode(c->o.aad, &mb->aad, &mb->aadlen)) {
		cli_err("--aad '%s' is not hex", c->o.aad);
		return -1;
	}
	if (iv_check(mb) != 0)
		return -1;
	switch (mb->m.mechanism) {
	case CKM_RSA_PKCS_PSS:
	case CKM_SHA256_RSA_PKCS_PSS:
	case CKM_SHA384_RSA_PKCS_PSS:
	case CKM_SHA512_RSA_PKCS_PSS:
		pss_for(mb->m.mechanism, &mb->u.pss);
		mb->m.pParameter = &mb->u.pss;
		mb->m.ulParameterLen = sizeof(mb->u.pss);
		break;
	case CKM_RSA_PKCS_OAEP: {
		bool sha256 = c->o.hash && strcmp(c->o.hash, "sha256") == 0;

		mb->u.oaep.hashAlg = sha256 ? CKM_SHA256 : CKM_SHA_1;
		mb->u.oaep.mgf = sha256 ? CKG_MGF1_SHA256 : CKG_MGF1_SHA1;
		mb->u.oaep.source = CKZ_DATA_SPECIFIED;
		mb->m.pParameter = &mb->u.oaep;
		mb->m.ulParameterLen = sizeof(mb->u.oaep);
		break;
	}
	case CKM_AES_GCM:
		mb->u.gcm.pIv = mb->iv;
		mb->u.gcm.ulIvLen = (CK_ULONG)mb->ivlen;
		mb->u.gcm.ulIvBits = (CK_ULONG)mb->ivlen * 8;
		mb->u.gcm.pAAD = mb->aad;
		mb->u.gcm.ulAADLen = (CK_ULONG)mb->aadlen;
		mb->u.gcm.ulTagBits = 128;
		mb->m.pParameter = &mb->u.gcm;
		mb->m.ulParameterLen = sizeof(mb->u.gcm);
		break;
	case CKM_AES_CTR:
		/* The whole IV is the counter block, incremented as one
		 * 128-bit big-endian number, as OpenSSL's AES-CTR does. */
		mb->u.ctr.ulCounterBits = 128;
		memcpy(mb->u.ctr.cb, mb->iv, sizeof(mb->u.ctr.cb));
		mb->m.pParameter = &mb->u.ctr;
		mb->m.ulParameterLen = sizeof(mb->u.ctr);
		break;
	default:
		if (mb->iv != NULL) {
			mb->m.pParameter = mb->iv;
			mb->m.ulParameterLen = (CK_ULONG)mb->ivlen;
		}
		break;
	}
	return 0;
}

static void mech_clear(struct mech_buf *mb)
{
	free(mb->iv);
	free(mb->aad);
}

enum op { OP_SIGN, OP_ENCRYPT, OP_DECRYPT, OP_DIGEST };

/* One-shot operation with the length query first. */
static CK_RV run_op(struct cli *c, enum op op, const uint8_t *in, size_t len,
		    uint8_t **out, CK_ULONG *outlen)
{
	CK_RV (*fn)
	(CK_SESSION_HANDLE, CK_BYTE *, CK_ULONG, CK_BYTE *, CK_ULONG *) =
	    op == OP_SIGN      ? c->f->C_Sign
	    : op == OP_ENCRYPT ? c->f->C_Encrypt
	    : op == OP_DECRYPT ? c->f->C_Decrypt
			       : c->f->C_Digest;
	size_t alloc;
	CK_RV rv;

	*out = NULL;
	*outlen = 0;
	rv = fn(c->sess, (CK_BYTE *)in, (CK_ULONG)len, NULL, outlen);
	if (rv != CKR_OK)
		return rv;
	alloc = *outlen + 1;
	*out = malloc(alloc);
	if (*out == NULL)
		return CKR_HOST_MEMORY;
	rv = fn(c->sess, (CK_BYTE *)in, (CK_ULONG)len, *out, outlen);
	if (rv != CKR_OK) {
		/* May hold part of a plaintext. */
		OPENSSL_clear_free(*out, alloc);
		*out = NULL;
	}
	return rv;
}

static int prepare(struct cli *c, const char *uri, CK_OBJECT_CLASS cls,
		   CK_OBJECT_HANDLE *h)
{
	if (uri == NULL) {
		cli_err("--key URI is needed");
		return -1;
	}
	if (cli_token_for_object(c, uri) != 0 || cli_session_open(c) != 0)
		return -1;
	/* Public keys are public objects: verify and encrypt with one need
	 * no PIN unless a PIN option is given. */
	if (cls == CKO_PUBLIC_KEY && c->o.pin == NULL &&
	    c->o.pin_source == NULL) {
		CK_OBJECT_HANDLE *pub = NULL;
		size_t m = 0;

		if (cli_find(c, uri, cls, &pub, &m) == 0 && m >= 1) {
			free(pub);
			return cli_find_one(c, uri, cls, h);
		}
		free(pub);
	}
	if (cli_login(c, CKU_USER) != 0)
		return -1;
	/* Secret keys serve every class: try the class asked for, then a
	 * secret key, so "pkcs11:object=k" works for both kinds. */
	if (cls != CKO_SECRET_KEY) {
		CK_OBJECT_HANDLE *all = NULL;
		size_t n = 0;

		if (cli_find(c, uri, cls, &all, &n) == 0 && n >= 1) {
			free(all);
			return cli_find_one(c, uri, cls, h);
		}
		free(all);
	}
	return cli_find_one(c, uri, CKO_SECRET_KEY, h);
}

/* ECDSA r||s <-> DER, for --der. */
static int rs_to_der(uint8_t **sig, CK_ULONG *len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(*sig, (int)(*len / 2), NULL);
	BIGNUM *s = BN_bin2bn(*sig + *len / 2, (int)(*len / 2), NULL);
	unsigned char *der = NULL;
	int n = -1;

	if (es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s)) {
		r = s = NULL;
		n = i2d_ECDSA_SIG(es, &der);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return -1;
	free(*sig);
	*sig = malloc((size_t)n);
	if (*sig == NULL) {
		OPENSSL_free(der);
		return -1;
	}
	memcpy(*sig, der, (size_t)n);
	*len = (CK_ULONG)n;
	OPENSSL_free(der);
	return 0;
}

static int der_to_rs(struct cli *c, CK_OBJECT_HANDLE h, uint8_t **sig,
		     size_t *len)
{
	const unsigned char *p = *sig;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)*len);
	EVP_PKEY *pk = cli_pubkey_of(c, h);
	int bits = pk ? EVP_PKEY_get_bits(pk) : 0;
	size_t half = ((size_t)bits + 7) / 8;
	uint8_t *rs = NULL;
	int rc = -1;

	if (es != NULL && half > 0 && (rs = calloc(2, half)) != NULL &&
	    BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, (int)half) > 0 &&
	    BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + half, (int)half) > 0) {
		free(*sig);
		*sig = rs;
		*len = 2 * half;
		rs = NULL;
		rc = 0;
	}
	free(rs);
	ECDSA_SIG_free(es);
	EVP_PKEY_free(pk);
	return rc;
}

static bool is_ecdsa(CK_MECHANISM_TYPE m)
{
	return m == CKM_ECDSA || m == CKM_ECDSA_SHA1 || m == CKM_ECDSA_SHA256 ||
	       m == CKM_ECDSA_SHA384 || m == CKM_ECDSA_SHA512;
}

int cmd_sign(struct cli *c)
{
	struct mech_buf mb;
	CK_OBJECT_HANDLE h;
	uint8_t *in = NULL, *out = NULL;
	size_t len = 0;
	CK_ULONG outlen = 0;
	int rc = 1;
	CK_RV rv;

	if (mech_setup(c, &mb) != 0)
		goto out_free;
	if (prepare(c, c->o.key, CKO_PRIVATE_KEY, &h) != 0 ||
	    cli_read_file(c->o.in, &in, &len) != 0)
		goto out_free;
	rv = c->f->C_SignInit(c->sess, &mb.m, h);
	if (rv == CKR_OK && cli_context_login(c, h) != 0)
		goto out_free;
	if (rv == CKR_OK)
		rv = run_op(c, OP_SIGN, in, len, &out, &outlen);
	if (rv != CKR_OK) {
		cli_rv_err("sign", rv);
		goto out_free;
	}
	if (c->o.der && is_ecdsa(mb.m.mechanism) && rs_to_der(&out, &outlen))
		goto out_free;
	rc = cli_write_file(c->o.out, out, outlen) == 0 ? 0 : 1;
out_free:
	mech_clear(&mb);
	free(in);
	free(out);
	return rc;
}

int cmd_verify(struct cli *c)
{
	struct mech_buf mb;
	CK_OBJECT_HANDLE h;
	uint8_t *in = NULL, *sig = NULL;
	size_t len = 0, siglen = 0;
	int rc = 1;
	CK_RV rv;

	if (c->o.sig == NULL) {
		cli_err("verify: --sig FILE is needed");
		return 1;
	}
	if (mech_setup(c, &mb) != 0)
		goto out_free;
	if (prepare(c, c->o.key, CKO_PUBLIC_KEY, &h) != 0 ||
	    cli_read_file(c->o.in, &in, &len) != 0 ||
	    cli_read_file(c->o.sig, &sig, &siglen) != 0)
		goto out_free;
	if (c->o.der && is_ecdsa(mb.m.mechanism) &&
	    der_to_rs(c, h, &sig, &siglen) != 0) {
		cli_err("%s: not a DER ECDSA signature", c->o.sig);
		goto out_free;
	}
	rv = c->f->C_VerifyInit(c->sess, &mb.m, h);
	if (rv == CKR_OK)
		rv = c->f->C_Verify(c->sess, in, (CK_ULONG)len, sig,
				    (CK_ULONG)siglen);
	if (rv == CKR_SIGNATURE_INVALID || rv == CKR_SIGNATURE_LEN_RANGE) {
		cli_err("signature is invalid");
		goto out_free;
	}
	if (rv != CKR_OK) {
		cli_rv_err("verify", rv);
		goto out_free;
	}
	printf("signature is valid\n");
	rc = 0;
out_free:
	mech_clear(&mb);
	free(in);
	free(sig);
	return rc;
}

static int crypt(struct cli *c, bool enc)
{
	struct mech_buf mb;
	CK_OBJECT_HANDLE h;
	uint8_t *in = NULL, *out = NULL;
	size_t len = 0;
	CK_ULONG outlen = 0;
	int rc = 1;
	CK_RV rv;

	if (mech_setup(c, &mb) != 0)
		goto out_free;
	if (prepare(c, c->o.key, enc ? CKO_PUBLIC_KEY : CKO_PRIVATE_KEY, &h) !=
		0 ||
	    cli_read_file(c->o.in, &in, &len) != 0)
		goto out_free;
	rv = enc ? c->f->C_EncryptInit(c->sess, &mb.m, h)
		 : c->f->C_DecryptInit(c->sess, &mb.m, h);
	if (rv == CKR_OK && !enc && cli_context_login(c, h) != 0)
		goto out_free;
	if (rv == CKR_OK)
		rv = run_op(c, enc ? OP_ENCRYPT : OP_DECRYPT, in, len, &out,
			    &outlen);
	if (rv != CKR_OK) {
		cli_rv_err(enc ? "encrypt" : "decrypt", rv);
		goto out_free;
	}
	rc = cli_write_file(c->o.out, out, outlen) == 0 ? 0 : 1;
out_free:
	mech_clear(&mb);
	free(in);
	if (out != NULL)
		OPENSSL_clear_free(out, outlen);
	return rc;
}

int cmd_encrypt(struct cli *c)
{
	return crypt(c, true);
}

int cmd_decrypt(struct cli *c)
{
	return crypt(c, false);
}

int cmd_digest(struct cli *c)
{
	struct mech_buf mb;
	uint8_t *in = NULL, *out = NULL;
	size_t len = 0;
	CK_ULONG outlen = 0;
	int rc = 1;
	CK_RV rv;

	if (mech_setup(c, &mb) != 0)
		goto out_free;
	if (cli_token_select(c, c->o.token, false) != 0 ||
	    cli_session_open(c) != 0 || cli_read_file(c->o.in, &in, &len) != 0)
		goto out_free;
	rv = c->f->C_DigestInit(c->sess, &mb.m);
	if (rv == CKR_OK)
		rv = run_op(c, OP_DIGEST, in, len, &out, &outlen);
	if (rv != CKR_OK) {
		cli_rv_err("digest", rv);
		goto out_free;
	}
	if (c->o.out != NULL) {
		rc = cli_write_file(c->o.out, out, outlen) == 0 ? 0 : 1;
	} else {
		cli_hex_print(stdout, out, outlen);
		printf("\n");
		rc = 0;
	}
out_free:
	mech_clear(&mb);
	free(in);
	free(out);
	return rc;
}

int cmd_random(struct cli *c)
{
	uint8_t *buf;
	int rc = 1;
	CK_RV rv;

	if (c->o.bytes <= 0 || c->o.bytes > (1 << 20)) {
		cli_err("random: --bytes N with N from 1 to 1048576");
		return 1;
	}
	if (cli_token_select(c, c->o.token, false) != 0 ||
	    cli_session_open(c) != 0)
		return 1;
	buf = malloc((size_t)c->o.bytes);
	if (buf == NULL)
		return 1;
	rv = c->f->C_GenerateRandom(c->sess, buf, (CK_ULONG)c->o.bytes);
	if (rv != CKR_OK)
		cli_rv_err("C_GenerateRandom", rv);
	else
		rc = cli_write_file(c->o.out, buf, (size_t)c->o.bytes) == 0 ? 0
									    : 1;
	free(buf);
	return rc;
}

int cmd_wrap(struct cli *c)
{
	struct mech_buf mb;
	CK_OBJECT_HANDLE wk, tk;
	uint8_t *out = NULL;
	CK_ULONG outlen = 0;
	int rc = 1;
	CK_RV rv;

	if (c->o.target == NULL) {
		cli_err("wrap: --target URI is needed");
		return 1;
	}
	if (mech_setup(c, &mb) != 0)
		goto out_free;
	if (prepare(c, c->o.key, CKO_SECRET_KEY, &wk) != 0 ||
	    cli_find_one(c, c->o.target, (CK_OBJECT_CLASS)-1, &tk) != 0)
		goto out_free;
	rv = c->f->C_WrapKey(c->sess, &mb.m, wk, tk, NULL, &outlen);
	if (rv == CKR_OK && (out = malloc(outlen + 1)) != NULL)
		rv = c->f->C_WrapKey(c->sess, &mb.m, wk, tk, out, &outlen);
	if (rv != CKR_OK || out == NULL) {
		cli_rv_err("wrap", rv);
		goto out_free;
	}
	rc = cli_write_file(c->o.out, out, outlen) == 0 ? 0 : 1;
out_free:
	mech_clear(&mb);
	free(out);
	return rc;
}

int cmd_unwrap(struct cli *c)
{
	static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt;
	struct mech_buf mb;
	CK_OBJECT_HANDLE wk, h;
	uint8_t *in = NULL, rid[16], *id = rid;
	size_t len = 0, idlen = sizeof(rid);
	int rc = 1;
	CK_RV rv;

	if (c->o.type == NULL || c->o.label == NULL ||
	    (strcmp(c->o.type, "aes") != 0 &&
	     strcmp(c->o.type, "generic") != 0)) {
		cli_err("unwrap: --type aes|generic and --label L are needed");
		return 1;
	}
	kt = strcmp(c->o.type, "aes") == 0 ? CKK_AES : CKK_GENERIC_SECRET;
	if (mech_setup(c, &mb) != 0)
		goto out_free;
	if (prepare(c, c->o.key, CKO_SECRET_KEY, &wk) != 0 ||
	    cli_new_key_id(c, rid, &id, &idlen) != 0 ||
	    cli_read_file(c->o.in, &in, &len) != 0)
		goto out_free;
	{
		bool aes = kt == CKK_AES;
		CK_ATTRIBUTE t[] = {
		    {CKA_CLASS, &cls, sizeof(cls)},
		    {CKA_KEY_TYPE, &kt, sizeof(kt)},
		    {CKA_TOKEN, (void *)&yes, 1},
		    {CKA_PRIVATE, (void *)&yes, 1},
		    {CKA_SENSITIVE, (void *)&yes, 1},
		    {CKA_EXTRACTABLE, (void *)(c->o.extractable ? &yes : &no),
		     1},
		    {CKA_ENCRYPT, (void *)(aes ? &yes : &no), 1},
		    {CKA_DECRYPT, (void *)(aes ? &yes : &no), 1},
		    {CKA_SIGN, (void *)(aes ? &no : &yes), 1},
		    {CKA_VERIFY, (void *)(aes ? &no : &yes), 1},
		    {CKA_LABEL, (void *)c->o.label,
		     (CK_ULONG)strlen(c->o.label)},
		    {CKA_ID, id, (CK_ULONG)idlen},
		};
		rv = c->f->C_UnwrapKey(c->sess, &mb.m, wk, in, (CK_ULONG)len, t,
				       sizeof(t) / sizeof(t[0]), &h);
	}
	if (rv != CKR_OK) {
		cli_rv_err("unwrap", rv);
		goto out_free;
	}
	{
		char *uri = cli_object_uri(c, h);

		printf("unwrapped key '%s' id ", c->o.label);
		cli_hex_print(stdout, id, idlen);
		printf("\n%s\n", uri ? uri : "");
		free(uri);
	}
	rc = 0;
out_free:
	mech_clear(&mb);
	free(in);
	if (id != rid)
		free(id);
	return rc;
}
