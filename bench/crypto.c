/*
 * crypto.c - the cryptographic workloads (issue 3): signatures, AES-GCM,
 * HMAC, SHA-256 and key generation, each with an in-process OpenSSL
 * reference doing the same work the way a careful application would
 * (algorithms fetched once, a fresh operation context per message, like a
 * PKCS#11 Init + single-part call).
 *
 * Every row here is a rate (operations per second, all threads together)
 * measured by bench_run_rate; rows named @2t run two threads, each with
 * its own session on the same key, so @2t / @1t shows whether the module
 * lets two sessions compute at once.
 *
 * Keys are session objects (CKA_TOKEN false) made once per row by setup,
 * so nothing is written to disk and every module is measured on the same
 * footing.
 */
#include "bench.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#define SIG_MSG_LEN 64
#define SMALL_LEN 1024
#define LARGE_LEN 65536
#define GCM_TAG_LEN 16

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

/* ---- PKCS#11 side -------------------------------------------------------- */

static CK_RV gen_rsa(struct bench_tok *t, struct bench_arg *a)
{
	CK_ULONG bits = 2048;
	CK_BYTE e[] = {1, 0, 1};
	CK_MECHANISM m = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_ATTRIBUTE pub[] = {{CKA_TOKEN, (void *)&no, 1},
			      {CKA_VERIFY, (void *)&yes, 1},
			      {CKA_MODULUS_BITS, &bits, sizeof(bits)},
			      {CKA_PUBLIC_EXPONENT, e, sizeof(e)}};
	CK_ATTRIBUTE priv[] = {{CKA_TOKEN, (void *)&no, 1},
			       {CKA_PRIVATE, (void *)&yes, 1},
			       {CKA_SENSITIVE, (void *)&yes, 1},
			       {CKA_SIGN, (void *)&yes, 1}};

	return t->f->C_GenerateKeyPair(t->sess, &m, pub, 4, priv, 4, &a->pub,
				       &a->key);
}

/* DER OIDs: prime256v1 and Ed25519. */
static const CK_BYTE oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
				   0x3d, 0x03, 0x01, 0x07};
static const CK_BYTE oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

static CK_RV gen_ec(struct bench_tok *t, struct bench_arg *a,
		    CK_MECHANISM_TYPE mech, const CK_BYTE *oid, CK_ULONG len)
{
	CK_MECHANISM m = {mech, NULL, 0};
	CK_ATTRIBUTE pub[] = {{CKA_TOKEN, (void *)&no, 1},
			      {CKA_VERIFY, (void *)&yes, 1},
			      {CKA_EC_PARAMS, (void *)oid, len}};
	CK_ATTRIBUTE priv[] = {{CKA_TOKEN, (void *)&no, 1},
			       {CKA_PRIVATE, (void *)&yes, 1},
			       {CKA_SENSITIVE, (void *)&yes, 1},
			       {CKA_SIGN, (void *)&yes, 1}};

	return t->f->C_GenerateKeyPair(t->sess, &m, pub, 3, priv, 4, &a->pub,
				       &a->key);
}

static CK_RV gen_secret(struct bench_tok *t, struct bench_arg *a,
			CK_MECHANISM_TYPE mech, CK_KEY_TYPE kt, CK_ULONG len)
{
	CK_MECHANISM m = {mech, NULL, 0};
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
			       {CKA_KEY_TYPE, &kt, sizeof(kt)},
			       {CKA_TOKEN, (void *)&no, 1},
			       {CKA_SENSITIVE, (void *)&yes, 1},
			       {CKA_VALUE_LEN, &len, sizeof(len)}};

	return t->f->C_GenerateKey(t->sess, &m, tmpl, 5, &a->key);
}

static CK_RV setup_rsa(struct bench_tok *t, struct bench_arg *a)
{
	return gen_rsa(t, a);
}

static CK_RV setup_p256(struct bench_tok *t, struct bench_arg *a)
{
	return gen_ec(t, a, CKM_EC_KEY_PAIR_GEN, oid_p256, sizeof(oid_p256));
}

static CK_RV setup_ed25519(struct bench_tok *t, struct bench_arg *a)
{
	return gen_ec(t, a, CKM_EC_EDWARDS_KEY_PAIR_GEN, oid_ed25519,
		      sizeof(oid_ed25519));
}

static CK_RV setup_aes(struct bench_tok *t, struct bench_arg *a)
{
	return gen_secret(t, a, CKM_AES_KEY_GEN, CKK_AES, 32);
}

static CK_RV setup_hmac(struct bench_tok *t, struct bench_arg *a)
{
	return gen_secret(t, a, CKM_GENERIC_SECRET_KEY_GEN,
			  CKK_GENERIC_SECRET, 32);
}

static CK_RV sign_with(struct bench_tok *t, struct bench_arg *a,
		       CK_MECHANISM *m, CK_ULONG in_len, CK_BYTE *sig,
		       CK_ULONG *sig_len)
{
	static const CK_BYTE msg[LARGE_LEN];
	CK_RV rv = t->f->C_SignInit(t->sess, m, a->key);

	if (rv == CKR_OK)
		rv = t->f->C_Sign(t->sess, (CK_BYTE_PTR)msg, in_len, sig,
				  sig_len);
	return rv;
}

static CK_RV op_sign(struct bench_tok *t, struct bench_arg *a,
		     CK_MECHANISM *m)
{
	CK_BYTE sig[512];
	CK_ULONG len = sizeof(sig);

	return sign_with(t, a, m, SIG_MSG_LEN, sig, &len);
}

static CK_RV op_rsa_pkcs(struct bench_tok *t, struct bench_arg *a)
{
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	return op_sign(t, a, &m);
}

static CK_RV op_rsa_pss(struct bench_tok *t, struct bench_arg *a)
{
	CK_RSA_PKCS_PSS_PARAMS p = {CKM_SHA256, CKG_MGF1_SHA256, 32};
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS_PSS, &p, sizeof(p)};
	return op_sign(t, a, &m);
}

/* ECDSA over a SHA-256 hash made by the caller, as TLS stacks and
 * libp11 use it (and as SoftHSMv2, which lacks CKM_ECDSA_SHA256, can). */
#define HASH_LEN 32

static CK_RV op_ecdsa(struct bench_tok *t, struct bench_arg *a)
{
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	CK_BYTE sig[512];
	CK_ULONG len = sizeof(sig);

	return sign_with(t, a, &m, HASH_LEN, sig, &len);
}

static CK_RV op_eddsa(struct bench_tok *t, struct bench_arg *a)
{
	CK_MECHANISM m = {CKM_EDDSA, NULL, 0};
	return op_sign(t, a, &m);
}

/* Verify rows sign once in setup, then verify that signature. */
static CK_RV setup_verify(struct bench_tok *t, struct bench_arg *a,
			  CK_RV (*setup)(struct bench_tok *, struct bench_arg *),
			  CK_MECHANISM *m, CK_ULONG in_len)
{
	CK_ULONG len = sizeof(a->sig);
	CK_RV rv = setup(t, a);

	if (rv == CKR_OK)
		rv = sign_with(t, a, m, in_len, a->sig, &len);
	a->sig_len = len;
	return rv;
}

static CK_RV op_verify(struct bench_tok *t, struct bench_arg *a,
		       CK_MECHANISM *m, CK_ULONG in_len)
{
	static const CK_BYTE msg[SIG_MSG_LEN];
	CK_RV rv = t->f->C_VerifyInit(t->sess, m, a->pub);

	if (rv == CKR_OK)
		rv = t->f->C_Verify(t->sess, (CK_BYTE_PTR)msg, in_len, a->sig,
				    a->sig_len);
	return rv;
}

static CK_RV setup_verify_rsa(struct bench_tok *t, struct bench_arg *a)
{
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	return setup_verify(t, a, setup_rsa, &m, SIG_MSG_LEN);
}

static CK_RV op_verify_rsa(struct bench_tok *t, struct bench_arg *a)
{
	CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
	return op_verify(t, a, &m, SIG_MSG_LEN);
}

static CK_RV setup_verify_ecdsa(struct bench_tok *t, struct bench_arg *a)
{
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	return setup_verify(t, a, setup_p256, &m, HASH_LEN);
}

static CK_RV op_verify_ecdsa(struct bench_tok *t, struct bench_arg *a)
{
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	return op_verify(t, a, &m, HASH_LEN);
}

static CK_RV gcm(struct bench_tok *t, struct bench_arg *a, CK_ULONG len)
{
	static const CK_BYTE in[LARGE_LEN];
	static _Thread_local CK_BYTE out[LARGE_LEN + GCM_TAG_LEN];
	CK_BYTE iv[12] = {0};
	CK_GCM_PARAMS p = {iv, sizeof(iv), 96, NULL, 0, 128};
	CK_MECHANISM m = {CKM_AES_GCM, &p, sizeof(p)};
	CK_ULONG out_len = sizeof(out);
	CK_RV rv;

	/* A fresh IV per message, as GCM demands. */
	a->counter++;
	memcpy(iv, &a->counter, sizeof(a->counter));
	rv = t->f->C_EncryptInit(t->sess, &m, a->key);
	if (rv == CKR_OK)
		rv = t->f->C_Encrypt(t->sess, (CK_BYTE_PTR)in, len, out,
				     &out_len);
	return rv;
}

static CK_RV op_gcm_small(struct bench_tok *t, struct bench_arg *a)
{
	return gcm(t, a, SMALL_LEN);
}

static CK_RV op_gcm_large(struct bench_tok *t, struct bench_arg *a)
{
	return gcm(t, a, LARGE_LEN);
}

static CK_RV op_hmac(struct bench_tok *t, struct bench_arg *a)
{
	CK_MECHANISM m = {CKM_SHA256_HMAC, NULL, 0};
	CK_BYTE mac[32];
	CK_ULONG len = sizeof(mac);

	return sign_with(t, a, &m, SMALL_LEN, mac, &len);
}

static CK_RV setup_none(struct bench_tok *t, struct bench_arg *a)
{
	(void)t;
	(void)a;
	return CKR_OK;
}

static CK_RV op_sha256(struct bench_tok *t, struct bench_arg *a)
{
	static const CK_BYTE in[LARGE_LEN];
	CK_MECHANISM m = {CKM_SHA256, NULL, 0};
	CK_BYTE md[32];
	CK_ULONG len = sizeof(md);
	CK_RV rv = t->f->C_DigestInit(t->sess, &m);

	(void)a;
	if (rv == CKR_OK)
		rv = t->f->C_Digest(t->sess, (CK_BYTE_PTR)in, LARGE_LEN, md,
				    &len);
	return rv;
}

/* Key generation rows destroy what they made, so the session's object
 * table stays small; the destroy is part of the measured call pair for
 * every module alike. */
static CK_RV destroy_pair(struct bench_tok *t, struct bench_arg *a)
{
	CK_RV rv = t->f->C_DestroyObject(t->sess, a->key);

	if (rv == CKR_OK && a->pub != CK_INVALID_HANDLE)
		rv = t->f->C_DestroyObject(t->sess, a->pub);
	a->key = a->pub = CK_INVALID_HANDLE;
	return rv;
}

static CK_RV op_gen_rsa(struct bench_tok *t, struct bench_arg *a)
{
	CK_RV rv = gen_rsa(t, a);
	return rv == CKR_OK ? destroy_pair(t, a) : rv;
}

static CK_RV op_gen_p256(struct bench_tok *t, struct bench_arg *a)
{
	CK_RV rv = setup_p256(t, a);
	return rv == CKR_OK ? destroy_pair(t, a) : rv;
}

static CK_RV op_gen_aes(struct bench_tok *t, struct bench_arg *a)
{
	CK_RV rv = setup_aes(t, a);
	return rv == CKR_OK ? destroy_pair(t, a) : rv;
}

/* ---- OpenSSL reference ----------------------------------------------------- */

static EVP_PKEY *ref_rsa, *ref_p256, *ref_ed25519;
static EVP_MD *ref_sha256;
static EVP_CIPHER *ref_gcm;
static EVP_MAC *ref_hmac;
static unsigned char ref_key[32];
static unsigned char ref_sig_rsa[256], ref_sig_ec[80];
static size_t ref_sig_rsa_len, ref_sig_ec_len;
static pthread_once_t ref_once = PTHREAD_ONCE_INIT;

static int ref_sign(EVP_PKEY *k, const EVP_MD *md, int pad,
		    unsigned char *sig, size_t *sig_len)
{
	static const unsigned char msg[SIG_MSG_LEN];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = ctx != NULL &&
		 EVP_DigestSignInit_ex(ctx, &pctx, md ? EVP_MD_get0_name(md)
						      : NULL,
				       NULL, NULL, k, NULL) == 1;

	if (ok && pad == RSA_PKCS1_PSS_PADDING)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, pad) == 1 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1;
	ok = ok && EVP_DigestSign(ctx, sig, sig_len, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static void ref_sign_hash(EVP_PKEY *k, unsigned char *sig, size_t *len)
{
	static const unsigned char hash[HASH_LEN];
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);

	if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1 ||
	    EVP_PKEY_sign(ctx, sig, len, hash, sizeof(hash)) != 1)
		*len = 0;
	EVP_PKEY_CTX_free(ctx);
}

static void ref_make(void)
{
	ref_rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ref_p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ref_ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ref_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	ref_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	ref_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (RAND_bytes(ref_key, sizeof(ref_key)) != 1)
		memset(ref_key, 0x5a, sizeof(ref_key));
	ref_sig_rsa_len = sizeof(ref_sig_rsa);
	ref_sig_ec_len = sizeof(ref_sig_ec);
	if (ref_rsa != NULL)
		(void)ref_sign(ref_rsa, ref_sha256, RSA_PKCS1_PADDING,
			       ref_sig_rsa, &ref_sig_rsa_len);
	if (ref_p256 != NULL)
		ref_sign_hash(ref_p256, ref_sig_ec, &ref_sig_ec_len);
}

static bool ref_ready(void)
{
	pthread_once(&ref_once, ref_make);
	return ref_rsa && ref_p256 && ref_ed25519 && ref_sha256 && ref_gcm &&
	       ref_hmac;
}

static int ssl_sign(EVP_PKEY *k, const EVP_MD *md, int pad)
{
	unsigned char sig[512];
	size_t len = sizeof(sig);

	if (!ref_ready())
		return -1;
	return ref_sign(k, md, pad, sig, &len);
}

static int ssl_rsa_pkcs(void)
{
	return ref_ready() ? ssl_sign(ref_rsa, ref_sha256, RSA_PKCS1_PADDING)
			   : -1;
}

static int ssl_rsa_pss(void)
{
	return ref_ready()
		   ? ssl_sign(ref_rsa, ref_sha256, RSA_PKCS1_PSS_PADDING)
		   : -1;
}

/* Like CKM_ECDSA: the hash is the caller's, no digest inside. */
static int ssl_ecdsa(void)
{
	static const unsigned char hash[HASH_LEN];
	unsigned char sig[128];
	size_t len = sizeof(sig);
	EVP_PKEY_CTX *ctx;
	int ok;

	if (!ref_ready() ||
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ref_p256, NULL)) == NULL)
		return -1;
	ok = EVP_PKEY_sign_init(ctx) == 1 &&
	     EVP_PKEY_sign(ctx, sig, &len, hash, sizeof(hash)) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int ssl_eddsa(void)
{
	return ref_ready() ? ssl_sign(ref_ed25519, NULL, 0) : -1;
}

static int ssl_verify(EVP_PKEY *k, const unsigned char *sig, size_t len)
{
	static const unsigned char msg[SIG_MSG_LEN];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL &&
		 EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, k,
					 NULL) == 1 &&
		 EVP_DigestVerify(ctx, sig, len, msg, sizeof(msg)) == 1;

	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int ssl_verify_rsa(void)
{
	return ref_ready() ? ssl_verify(ref_rsa, ref_sig_rsa, ref_sig_rsa_len)
			   : -1;
}

static int ssl_verify_ecdsa(void)
{
	static const unsigned char hash[HASH_LEN];
	EVP_PKEY_CTX *ctx;
	int ok;

	if (!ref_ready() ||
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ref_p256, NULL)) == NULL)
		return -1;
	ok = EVP_PKEY_verify_init(ctx) == 1 &&
	     EVP_PKEY_verify(ctx, ref_sig_ec, ref_sig_ec_len, hash,
			     sizeof(hash)) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int ssl_gcm(size_t len)
{
	static const unsigned char in[LARGE_LEN];
	static _Thread_local unsigned char out[LARGE_LEN];
	static _Thread_local uint64_t counter;
	unsigned char iv[12] = {0}, tag[GCM_TAG_LEN];
	EVP_CIPHER_CTX *ctx;
	int outl = 0, finl = 0, ok;

	if (!ref_ready() || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	counter++;
	memcpy(iv, &counter, sizeof(counter));
	ok = EVP_EncryptInit_ex2(ctx, ref_gcm, ref_key, iv, NULL) == 1 &&
	     EVP_EncryptUpdate(ctx, out, &outl, in, (int)len) == 1 &&
	     EVP_EncryptFinal_ex(ctx, out + outl, &finl) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, sizeof(tag),
				 tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int ssl_gcm_small(void)
{
	return ssl_gcm(SMALL_LEN);
}

static int ssl_gcm_large(void)
{
	return ssl_gcm(LARGE_LEN);
}

static int ssl_hmac(void)
{
	static const unsigned char in[SMALL_LEN];
	unsigned char mac[32];
	size_t len = 0;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
					     (char *)"SHA256", 0),
	    OSSL_PARAM_construct_end()};
	EVP_MAC_CTX *ctx;
	int ok;

	if (!ref_ready() || (ctx = EVP_MAC_CTX_new(ref_hmac)) == NULL)
		return -1;
	ok = EVP_MAC_init(ctx, ref_key, sizeof(ref_key), params) == 1 &&
	     EVP_MAC_update(ctx, in, sizeof(in)) == 1 &&
	     EVP_MAC_final(ctx, mac, &len, sizeof(mac)) == 1;
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int ssl_sha256(void)
{
	static const unsigned char in[LARGE_LEN];
	unsigned char md[32];

	if (!ref_ready())
		return -1;
	return EVP_Digest(in, sizeof(in), md, NULL, ref_sha256, NULL) == 1
		   ? 0
		   : -1;
}

static int ssl_gen(EVP_PKEY *k)
{
	int ok = k != NULL;

	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

static int ssl_gen_rsa(void)
{
	return ssl_gen(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
}

static int ssl_gen_p256(void)
{
	return ssl_gen(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
}

static int ssl_gen_aes(void)
{
	unsigned char k[32];
	int ok = RAND_bytes(k, sizeof(k)) == 1;

	OPENSSL_cleanse(k, sizeof(k));
	return ok ? 0 : -1;
}

/* ---- the rows -------------------------------------------------------------- */

#define RATE(name, what, setup, op, ssl, threads)                             \
	{                                                                     \
		name, what, BENCH_RATE, BENCH_OPS_PER_SECOND, false, NULL,   \
		    op, ssl, setup, threads                                   \
	}

const struct bench_workload bench_crypto_workloads[] = {
    RATE("sign-rsa-pkcs@1t", "SignInit+Sign CKM_SHA256_RSA_PKCS, RSA-2048",
	 setup_rsa, op_rsa_pkcs, ssl_rsa_pkcs, 1),
    RATE("sign-rsa-pkcs@2t", "the same in 2 threads, a session each",
	 setup_rsa, op_rsa_pkcs, ssl_rsa_pkcs, 2),
    RATE("sign-rsa-pss@1t", "SignInit+Sign CKM_SHA256_RSA_PKCS_PSS, RSA-2048",
	 setup_rsa, op_rsa_pss, ssl_rsa_pss, 1),
    RATE("sign-rsa-pss@2t", "the same in 2 threads, a session each",
	 setup_rsa, op_rsa_pss, ssl_rsa_pss, 2),
    RATE("verify-rsa-pkcs", "VerifyInit+Verify CKM_SHA256_RSA_PKCS, RSA-2048",
	 setup_verify_rsa, op_verify_rsa, ssl_verify_rsa, 1),
    RATE("sign-ecdsa-p256@1t", "SignInit+Sign CKM_ECDSA of a SHA-256, P-256",
	 setup_p256, op_ecdsa, ssl_ecdsa, 1),
    RATE("sign-ecdsa-p256@2t", "the same in 2 threads, a session each",
	 setup_p256, op_ecdsa, ssl_ecdsa, 2),
    RATE("sign-ecdsa-p256@8t", "the same in 8 threads, a session each",
	 setup_p256, op_ecdsa, ssl_ecdsa, 8),
    RATE("verify-ecdsa-p256", "VerifyInit+Verify CKM_ECDSA, P-256",
	 setup_verify_ecdsa, op_verify_ecdsa, ssl_verify_ecdsa, 1),
    RATE("sign-ed25519@1t", "SignInit+Sign CKM_EDDSA, Ed25519", setup_ed25519,
	 op_eddsa, ssl_eddsa, 1),
    RATE("sign-ed25519@2t", "the same in 2 threads, a session each",
	 setup_ed25519, op_eddsa, ssl_eddsa, 2),
    RATE("aes-gcm-1k", "EncryptInit+Encrypt CKM_AES_GCM, AES-256, 1 KiB",
	 setup_aes, op_gcm_small, ssl_gcm_small, 1),
    RATE("aes-gcm-64k", "EncryptInit+Encrypt CKM_AES_GCM, AES-256, 64 KiB",
	 setup_aes, op_gcm_large, ssl_gcm_large, 1),
    RATE("hmac-sha256-1k", "SignInit+Sign CKM_SHA256_HMAC, 1 KiB", setup_hmac,
	 op_hmac, ssl_hmac, 1),
    RATE("sha256-64k", "DigestInit+Digest CKM_SHA256, 64 KiB", setup_none,
	 op_sha256, ssl_sha256, 1),
    RATE("keygen-rsa2048", "GenerateKeyPair RSA-2048 (+ destroy)", setup_none,
	 op_gen_rsa, ssl_gen_rsa, 1),
    RATE("keygen-p256", "GenerateKeyPair EC P-256 (+ destroy)", setup_none,
	 op_gen_p256, ssl_gen_p256, 1),
    RATE("keygen-aes256", "GenerateKey AES-256 (+ destroy)", setup_none,
	 op_gen_aes, ssl_gen_aes, 1),
};
const size_t bench_ncrypto_workloads =
    sizeof(bench_crypto_workloads) / sizeof(bench_crypto_workloads[0]);
