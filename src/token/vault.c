/*
 * vault.c - see vault.h.
 *
 * Wrapped token key (all integers big-endian, 90 bytes):
 *
 *   "CFW1" | kdf id u8 (1 = scrypt) | log2(N) u8 | r u32 | p u32 | salt[16]
 *   | nonce[12] | AES-256-GCM(token key)[32] | tag[16]
 *
 * The first 30 bytes (the header) are the AAD, so a blob whose KDF
 * parameters were edited fails the tag check just as a wrong PIN does.
 *
 * Sealed record: nonce[12] | AES-256-GCM(plaintext) | tag[16], with AAD
 * "coffer-record-v1" | be64(object id) | caller's ad.
 */
#include "token/vault.h"

#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/log.h"

#define WRAP_MAGIC "CFW1"
#define WRAP_MAGIC_LEN 4
#define WRAP_KDF_SCRYPT 1
#define WRAP_SALT_LEN 16
#define WRAP_HDR_LEN (WRAP_MAGIC_LEN + 1 + 1 + 4 + 4 + WRAP_SALT_LEN)
#define WRAP_BLOB_LEN                                                          \
	(WRAP_HDR_LEN + GCM_NONCE_LEN + CF_VAULT_KEY_LEN + GCM_TAG_LEN)
#define WRAP_SCRYPT_R 8
#define WRAP_SCRYPT_P 1

#define GCM_NONCE_LEN 12
#define GCM_TAG_LEN 16

#define SCRYPT_COST_MIN 1
#define SCRYPT_COST_MAX 20
#define SCRYPT_R_MAX 16
#define SCRYPT_P_MAX 16
/* Enough for N = 2^20 with r = 8 (1 GiB plus a few KiB); it also caps what
 * a tampered blob can make us allocate. */
#define SCRYPT_MAXMEM ((uint64_t)1025 << 20)

#define RECORD_AAD_LABEL "coffer-record-v1"
#define RECORD_AAD_LABEL_LEN (sizeof(RECORD_AAD_LABEL) - 1)
#define RECORD_OVERHEAD (GCM_NONCE_LEN + GCM_TAG_LEN)

#define HKDF_INFO_RECORD "coffer record key v1"
#define HKDF_INFO_INDEX "coffer index key v1"

#define INDEX_MAC_LEN 32

/* A GCM tag mismatch, kept apart from other failures so that each caller
 * can name it its own way (wrong PIN, tampered record). Never returned. */
#define GCM_AUTH_FAILED CKR_ENCRYPTED_DATA_INVALID

struct aad_part {
	const uint8_t *p;
	size_t len;
};

struct wrap_fields {
	unsigned int cost;
	uint32_t r;
	uint32_t p;
	const uint8_t *hdr;
	const uint8_t *salt;
	const uint8_t *nonce;
	const uint8_t *ct;
	const uint8_t *tag;
};

/*
 * Algorithms fetched once and kept for the life of the process (never
 * freed: the module must not tear OpenSSL down at exit). A failed fetch
 * (out of memory) is not remembered, so a later call tries again; when two
 * threads race, the loser frees its copy.
 */
static _Atomic(EVP_CIPHER *) gcm_cache;
static _Atomic(EVP_MAC_CTX *) hmac_cache;

static const EVP_CIPHER *vault_gcm(void)
{
	EVP_CIPHER *c = atomic_load(&gcm_cache);
	EVP_CIPHER *prev = NULL;
	OSSL_LIB_CTX *lib;

	if (c != NULL)
		return c;
	lib = cf_libctx();
	if (lib == NULL)
		return NULL;
	c = EVP_CIPHER_fetch(lib, "AES-256-GCM", NULL);
	if (c == NULL)
		return NULL;
	if (!atomic_compare_exchange_strong(&gcm_cache, &prev, c)) {
		EVP_CIPHER_free(c);
		c = prev;
	}
	return c;
}

/* An HMAC-SHA256 context keyed with zeros, duplicated and re-keyed per
 * hash: duplicating copies the digest already fetched, where setting the
 * digest by name would fetch it again on every find. It is keyed because
 * OpenSSL 3.0.0 cannot copy a digest context that was never initialised
 * (allowed from 3.0.1), and we accept any 3.x. */
static EVP_MAC_CTX *hmac_template_make(void)
{
	static const uint8_t zero_key[CF_VAULT_KEY_LEN];
	OSSL_LIB_CTX *lib = cf_libctx();
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];

	if (lib == NULL)
		return NULL;
	mac = EVP_MAC_fetch(lib, "HMAC", NULL);
	if (mac == NULL)
		return NULL;
	ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac); /* the context holds its own reference */
	if (ctx == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, zero_key, sizeof(zero_key), params) != 1) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static const EVP_MAC_CTX *vault_hmac_template(void)
{
	EVP_MAC_CTX *c = atomic_load(&hmac_cache);
	EVP_MAC_CTX *prev = NULL;

	if (c != NULL)
		return c;
	c = hmac_template_make();
	if (c == NULL)
		return NULL;
	if (!atomic_compare_exchange_strong(&hmac_cache, &prev, c)) {
		EVP_MAC_CTX_free(c);
		c = prev;
	}
	return c;
}

static bool scrypt_params_ok(unsigned int cost, uint32_t r, uint32_t p)
{
	uint64_t mem;

	if (cost < SCRYPT_COST_MIN || cost > SCRYPT_COST_MAX)
		return false;
	if (r == 0 || r > SCRYPT_R_MAX || p == 0 || p > SCRYPT_P_MAX)
		return false;
	/* What OpenSSL's scrypt allocates: 128 r (N + 2) + 128 r p. */
	mem = 128 * (uint64_t)r * (((uint64_t)1 << cost) + 2) +
	      128 * (uint64_t)r * p;
	return mem <= SCRYPT_MAXMEM;
}

CK_RV cf_vault_scrypt(const uint8_t *pin, size_t pin_len, const uint8_t *salt,
		      size_t salt_len, unsigned int cost, uint32_t r,
		      uint32_t p, uint8_t *out, size_t out_len)
{
	static const uint8_t empty;
	CK_RV rv = CKR_HOST_MEMORY;
	OSSL_LIB_CTX *lib;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[7];
	uint64_t n, maxmem = SCRYPT_MAXMEM;

	if ((pin == NULL && pin_len > 0) || salt == NULL || salt_len == 0 ||
	    out == NULL || out_len == 0 || !scrypt_params_ok(cost, r, p))
		return CKR_ARGUMENTS_BAD;
	n = (uint64_t)1 << cost;
	lib = cf_libctx();
	if (lib == NULL)
		goto out;
	kdf = EVP_KDF_fetch(lib, "SCRYPT", NULL);
	if (kdf == NULL)
		goto out;
	kctx = EVP_KDF_CTX_new(kdf);
	if (kctx == NULL)
		goto out_free_kdf;
	/* An empty PIN still needs a non-NULL pointer for the parameter. */
	params[0] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_PASSWORD, (void *)(pin_len > 0 ? pin : &empty),
	    pin_len);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
						      (void *)salt, salt_len);
	params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	params[5] =
	    OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	params[6] = OSSL_PARAM_construct_end();
	/* The parameters were checked above, so a failure here is the large
	 * allocation scrypt makes. */
	if (EVP_KDF_derive(kctx, out, out_len, params) != 1) {
		cf_wipe(out, out_len);
		cf_error("vault: scrypt (N=2^%u, r=%" PRIu32 ", p=%" PRIu32
			 ") failed",
			 cost, r, p);
		goto out_free_kctx;
	}
	rv = CKR_OK;
out_free_kctx:
	/* frees wipe the copy of the PIN that the context holds */
	EVP_KDF_CTX_free(kctx);
out_free_kdf:
	EVP_KDF_free(kdf);
out:
	return rv;
}

/* AES-256-GCM with a 12-byte nonce and a 16-byte tag; ct may alias pt. */
static CK_RV gcm_encrypt(const uint8_t *key, const uint8_t *nonce,
			 const struct aad_part *aad, size_t naad,
			 const uint8_t *pt, size_t len, uint8_t *ct,
			 uint8_t *tag)
{
	CK_RV rv = CKR_HOST_MEMORY;
	const EVP_CIPHER *gcm = vault_gcm();
	EVP_CIPHER_CTX *ctx = NULL;
	int outl = 0;

	if (gcm == NULL)
		goto out;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		goto out;
	rv = CKR_GENERAL_ERROR;
	if (len > INT_MAX)
		goto out_free_ctx;
	if (EVP_EncryptInit_ex2(ctx, gcm, key, nonce, NULL) != 1)
		goto out_free_ctx;
	for (size_t i = 0; i < naad; i++) {
		if (aad[i].len == 0)
			continue;
		if (aad[i].len > INT_MAX ||
		    EVP_EncryptUpdate(ctx, NULL, &outl, aad[i].p,
				      (int)aad[i].len) != 1)
			goto out_free_ctx;
	}
	outl = 0;
	if (len > 0 && EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)len) != 1)
		goto out_free_ctx;
	if (EVP_EncryptFinal_ex(ctx, ct + outl, &outl) != 1)
		goto out_free_ctx;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, GCM_TAG_LEN, tag) !=
	    1)
		goto out_free_ctx;
	rv = CKR_OK;
out_free_ctx:
	if (rv == CKR_GENERAL_ERROR)
		cf_error("vault: AES-GCM encryption failed");
	/* the free wipes the key schedule */
	EVP_CIPHER_CTX_free(ctx);
out:
	return rv;
}

/* The reverse of gcm_encrypt; GCM_AUTH_FAILED when the tag does not match
 * (pt then holds unauthenticated bytes the caller must wipe). */
static CK_RV gcm_decrypt(const uint8_t *key, const uint8_t *nonce,
			 const struct aad_part *aad, size_t naad,
			 const uint8_t *ct, size_t len, const uint8_t *tag,
			 uint8_t *pt)
{
	CK_RV rv = CKR_HOST_MEMORY;
	const EVP_CIPHER *gcm = vault_gcm();
	EVP_CIPHER_CTX *ctx = NULL;
	int outl = 0;

	if (gcm == NULL)
		goto out;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		goto out;
	rv = CKR_GENERAL_ERROR;
	if (len > INT_MAX)
		goto out_free_ctx;
	if (EVP_DecryptInit_ex2(ctx, gcm, key, nonce, NULL) != 1)
		goto out_free_ctx;
	for (size_t i = 0; i < naad; i++) {
		if (aad[i].len == 0)
			continue;
		if (aad[i].len > INT_MAX ||
		    EVP_DecryptUpdate(ctx, NULL, &outl, aad[i].p,
				      (int)aad[i].len) != 1)
			goto out_free_ctx;
	}
	outl = 0;
	if (len > 0 && EVP_DecryptUpdate(ctx, pt, &outl, ct, (int)len) != 1)
		goto out_free_ctx;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, GCM_TAG_LEN,
				(void *)tag) != 1)
		goto out_free_ctx;
	/* OpenSSL compares the tag in constant time. */
	if (EVP_DecryptFinal_ex(ctx, pt + outl, &outl) != 1) {
		rv = GCM_AUTH_FAILED;
		goto out_free_ctx;
	}
	rv = CKR_OK;
out_free_ctx:
	if (rv == CKR_GENERAL_ERROR)
		cf_error("vault: AES-GCM decryption failed");
	EVP_CIPHER_CTX_free(ctx);
out:
	return rv;
}

CK_RV cf_vault_token_key_new(struct cf_secret *token_key)
{
	CK_RV rv = CKR_HOST_MEMORY;
	struct cf_secret k = {NULL, 0};

	token_key->data = NULL;
	token_key->len = 0;
	if (cf_secret_init(&k, CF_VAULT_KEY_LEN) != 0)
		goto out;
	if (!cf_random(k.data, k.len)) {
		cf_error("vault: no random bytes for a token key");
		rv = CKR_GENERAL_ERROR;
		goto out_clear_key;
	}
	*token_key = k;
	return CKR_OK;
out_clear_key:
	cf_secret_clear(&k);
out:
	return rv;
}

/* Splits a blob into its fields, checking each; false when malformed. */
static bool wrap_parse(const uint8_t *blob, size_t blob_len,
		       struct wrap_fields *f)
{
	struct cf_rbuf r;
	const uint8_t *magic;
	uint8_t kdf, cost;

	if (blob == NULL || blob_len != WRAP_BLOB_LEN)
		return false;
	cf_rbuf_init(&r, blob, blob_len);
	f->hdr = blob;
	if (!cf_rbuf_ref(&r, &magic, WRAP_MAGIC_LEN) ||
	    !cf_rbuf_get_u8(&r, &kdf) || !cf_rbuf_get_u8(&r, &cost) ||
	    !cf_rbuf_get_u32(&r, &f->r) || !cf_rbuf_get_u32(&r, &f->p) ||
	    !cf_rbuf_ref(&r, &f->salt, WRAP_SALT_LEN) ||
	    !cf_rbuf_ref(&r, &f->nonce, GCM_NONCE_LEN) ||
	    !cf_rbuf_ref(&r, &f->ct, CF_VAULT_KEY_LEN) ||
	    !cf_rbuf_ref(&r, &f->tag, GCM_TAG_LEN) || cf_rbuf_left(&r) != 0)
		return false;
	if (memcmp(magic, WRAP_MAGIC, WRAP_MAGIC_LEN) != 0 ||
	    kdf != WRAP_KDF_SCRYPT)
		return false;
	f->cost = cost;
	return scrypt_params_ok(f->cost, f->r, f->p);
}

CK_RV cf_vault_wrap(const struct cf_secret *token_key, const uint8_t *pin,
		    size_t pin_len, unsigned int kdf_cost, uint8_t **blob,
		    size_t *blob_len)
{
	CK_RV rv = CKR_ARGUMENTS_BAD;
	struct cf_secret kek = {NULL, 0};
	struct aad_part aad;
	uint8_t *b = NULL;
	uint8_t *salt, *nonce;

	*blob = NULL;
	*blob_len = 0;
	if (token_key == NULL || token_key->data == NULL ||
	    token_key->len != CF_VAULT_KEY_LEN ||
	    (pin == NULL && pin_len > 0) ||
	    !scrypt_params_ok(kdf_cost, WRAP_SCRYPT_R, WRAP_SCRYPT_P))
		goto out;
	rv = CKR_HOST_MEMORY;
	b = malloc(WRAP_BLOB_LEN);
	if (b == NULL)
		goto out;
	memcpy(b, WRAP_MAGIC, WRAP_MAGIC_LEN);
	b[4] = WRAP_KDF_SCRYPT;
	b[5] = (uint8_t)kdf_cost;
	cf_put_be32(b + 6, WRAP_SCRYPT_R);
	cf_put_be32(b + 10, WRAP_SCRYPT_P);
	salt = b + 14;
	nonce = b + WRAP_HDR_LEN;
	if (!cf_random(salt, WRAP_SALT_LEN) ||
	    !cf_random(nonce, GCM_NONCE_LEN)) {
		cf_error("vault: no random bytes for a wrap");
		rv = CKR_GENERAL_ERROR;
		goto out_free_blob;
	}
	if (cf_secret_init(&kek, CF_VAULT_KEY_LEN) != 0)
		goto out_free_blob;
	rv = cf_vault_scrypt(pin, pin_len, salt, WRAP_SALT_LEN, kdf_cost,
			     WRAP_SCRYPT_R, WRAP_SCRYPT_P, kek.data, kek.len);
	if (rv != CKR_OK)
		goto out_clear_kek;
	aad.p = b;
	aad.len = WRAP_HDR_LEN;
	rv = gcm_encrypt(kek.data, nonce, &aad, 1, token_key->data,
			 CF_VAULT_KEY_LEN, nonce + GCM_NONCE_LEN,
			 nonce + GCM_NONCE_LEN + CF_VAULT_KEY_LEN);
	if (rv != CKR_OK)
		goto out_clear_kek;
	cf_secret_clear(&kek);
	*blob = b;
	*blob_len = WRAP_BLOB_LEN;
	return CKR_OK;
out_clear_kek:
	cf_secret_clear(&kek);
out_free_blob:
	free(b);
out:
	return rv;
}

CK_RV cf_vault_unwrap(const uint8_t *blob, size_t blob_len, const uint8_t *pin,
		      size_t pin_len, struct cf_secret *token_key)
{
	CK_RV rv = CKR_ARGUMENTS_BAD;
	struct cf_secret kek = {NULL, 0};
	struct cf_secret k = {NULL, 0};
	struct wrap_fields f;
	struct aad_part aad;

	token_key->data = NULL;
	token_key->len = 0;
	if (pin == NULL && pin_len > 0)
		goto out;
	rv = CKR_DEVICE_ERROR;
	if (!wrap_parse(blob, blob_len, &f)) {
		cf_error("vault: wrapped token key is malformed");
		goto out;
	}
	rv = CKR_HOST_MEMORY;
	if (cf_secret_init(&kek, CF_VAULT_KEY_LEN) != 0)
		goto out;
	if (cf_secret_init(&k, CF_VAULT_KEY_LEN) != 0)
		goto out_clear_kek;
	rv = cf_vault_scrypt(pin, pin_len, f.salt, WRAP_SALT_LEN, f.cost, f.r,
			     f.p, kek.data, kek.len);
	if (rv != CKR_OK)
		goto out_clear_key;
	aad.p = f.hdr;
	aad.len = WRAP_HDR_LEN;
	rv = gcm_decrypt(kek.data, f.nonce, &aad, 1, f.ct, CF_VAULT_KEY_LEN,
			 f.tag, k.data);
	/* A wrong PIN and a tampered blob look the same to GCM; the PIN is
	 * by far the likelier cause, and the caller counts it as a try. */
	if (rv == GCM_AUTH_FAILED)
		rv = CKR_PIN_INCORRECT;
	if (rv != CKR_OK)
		goto out_clear_key;
	cf_secret_clear(&kek);
	*token_key = k;
	return CKR_OK;
out_clear_key:
	cf_secret_clear(&k);
out_clear_kek:
	cf_secret_clear(&kek);
out:
	return rv;
}

CK_RV cf_vault_blob_cost(const uint8_t *blob, size_t blob_len,
			 unsigned int *kdf_cost)
{
	struct wrap_fields f;

	*kdf_cost = 0;
	if (!wrap_parse(blob, blob_len, &f))
		return CKR_DEVICE_ERROR;
	*kdf_cost = f.cost;
	return CKR_OK;
}

static CK_RV hkdf_sha256(EVP_KDF *kdf, const struct cf_secret *ikm,
			 const char *info, struct cf_secret *out)
{
	CK_RV rv = CKR_HOST_MEMORY;
	EVP_KDF_CTX *kctx = NULL;
	struct cf_secret k = {NULL, 0};
	OSSL_PARAM params[4];

	kctx = EVP_KDF_CTX_new(kdf);
	if (kctx == NULL)
		goto out;
	if (cf_secret_init(&k, CF_VAULT_KEY_LEN) != 0)
		goto out_free_kctx;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						      ikm->data, ikm->len);
	params[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, k.data, k.len, params) != 1) {
		cf_error("vault: HKDF failed");
		rv = CKR_GENERAL_ERROR;
		goto out_clear_key;
	}
	*out = k;
	k.data = NULL; /* transferred */
	rv = CKR_OK;
out_clear_key:
	cf_secret_clear(&k);
out_free_kctx:
	EVP_KDF_CTX_free(kctx);
out:
	return rv;
}

CK_RV cf_vault_init(struct cf_vault *v, const struct cf_secret *token_key)
{
	CK_RV rv = CKR_ARGUMENTS_BAD;
	struct cf_vault nv = {{NULL, 0}, {NULL, 0}};
	OSSL_LIB_CTX *lib;
	EVP_KDF *kdf = NULL;

	*v = nv;
	if (token_key == NULL || token_key->data == NULL ||
	    token_key->len != CF_VAULT_KEY_LEN)
		goto out;
	rv = CKR_HOST_MEMORY;
	lib = cf_libctx();
	if (lib == NULL)
		goto out;
	kdf = EVP_KDF_fetch(lib, "HKDF", NULL);
	if (kdf == NULL)
		goto out;
	rv = hkdf_sha256(kdf, token_key, HKDF_INFO_RECORD, &nv.record_key);
	if (rv != CKR_OK)
		goto out_clear_vault;
	rv = hkdf_sha256(kdf, token_key, HKDF_INFO_INDEX, &nv.index_key);
	if (rv != CKR_OK)
		goto out_clear_vault;
	*v = nv;
	EVP_KDF_free(kdf);
	return CKR_OK;
out_clear_vault:
	cf_vault_clear(&nv);
	EVP_KDF_free(kdf);
out:
	return rv;
}

void cf_vault_clear(struct cf_vault *v)
{
	if (v == NULL)
		return;
	cf_secret_clear(&v->record_key);
	cf_secret_clear(&v->index_key);
}

static bool vault_ready(const struct cf_vault *v)
{
	return v != NULL && v->record_key.data != NULL &&
	       v->record_key.len == CF_VAULT_KEY_LEN;
}

static void record_aad(uint8_t *be_id, uint64_t id, const uint8_t *ad,
		       size_t ad_len, struct aad_part aad[3])
{
	cf_put_be64(be_id, id);
	aad[0].p = (const uint8_t *)RECORD_AAD_LABEL;
	aad[0].len = RECORD_AAD_LABEL_LEN;
	aad[1].p = be_id;
	aad[1].len = 8;
	aad[2].p = ad;
	aad[2].len = ad_len;
}

CK_RV cf_vault_seal(const struct cf_vault *v, uint64_t id, const uint8_t *ad,
		    size_t ad_len, const uint8_t *pt, size_t pt_len,
		    uint8_t **ct, size_t *ct_len)
{
	CK_RV rv = CKR_ARGUMENTS_BAD;
	struct aad_part aad[3];
	uint8_t be_id[8];
	uint8_t *out = NULL;
	size_t out_len;

	*ct = NULL;
	*ct_len = 0;
	if (!vault_ready(v) || (ad == NULL && ad_len > 0) ||
	    (pt == NULL && pt_len > 0))
		goto out;
	/* Nothing bigger could be stored, and GCM lengths are ints. */
	rv = CKR_DEVICE_MEMORY;
	if (ad_len > CF_STORE_RECORD_MAX ||
	    pt_len > CF_STORE_RECORD_MAX - RECORD_OVERHEAD)
		goto out;
	rv = CKR_HOST_MEMORY;
	out_len = GCM_NONCE_LEN + pt_len + GCM_TAG_LEN;
	out = malloc(out_len);
	if (out == NULL)
		goto out;
	if (!cf_random(out, GCM_NONCE_LEN)) {
		cf_error("vault: no random bytes for a record nonce");
		rv = CKR_GENERAL_ERROR;
		goto out_free_ct;
	}
	record_aad(be_id, id, ad, ad_len, aad);
	rv = gcm_encrypt(v->record_key.data, out, aad, 3, pt, pt_len,
			 out + GCM_NONCE_LEN, out + GCM_NONCE_LEN + pt_len);
	if (rv != CKR_OK)
		goto out_free_ct;
	*ct = out;
	*ct_len = out_len;
	return CKR_OK;
out_free_ct:
	/* may hold part of the ciphertext only, but wiping costs nothing */
	cf_free_wiped(out, out_len);
out:
	return rv;
}

CK_RV cf_vault_open(const struct cf_vault *v, uint64_t id, const uint8_t *ad,
		    size_t ad_len, const uint8_t *ct, size_t ct_len,
		    struct cf_secret *pt)
{
	CK_RV rv = CKR_ARGUMENTS_BAD;
	struct cf_secret out = {NULL, 0};
	struct aad_part aad[3];
	uint8_t be_id[8];
	size_t body_len;

	pt->data = NULL;
	pt->len = 0;
	if (!vault_ready(v) || (ad == NULL && ad_len > 0) ||
	    (ct == NULL && ct_len > 0))
		goto out;
	rv = CKR_DEVICE_ERROR;
	if (ct_len < RECORD_OVERHEAD || ct_len > CF_STORE_RECORD_MAX ||
	    ad_len > CF_STORE_RECORD_MAX) {
		cf_error("vault: sealed record of object %" PRIu64
			 " has a bad length (%zu bytes)",
			 id, ct_len);
		goto out;
	}
	body_len = ct_len - RECORD_OVERHEAD;
	rv = CKR_HOST_MEMORY;
	if (cf_secret_init(&out, body_len) != 0)
		goto out;
	record_aad(be_id, id, ad, ad_len, aad);
	rv = gcm_decrypt(v->record_key.data, ct, aad, 3, ct + GCM_NONCE_LEN,
			 body_len, ct + GCM_NONCE_LEN + body_len, out.data);
	if (rv == GCM_AUTH_FAILED) {
		cf_error("vault: sealed record of object %" PRIu64
			 " failed authentication",
			 id);
		rv = CKR_DEVICE_ERROR;
	}
	if (rv != CKR_OK)
		goto out_clear_pt;
	*pt = out;
	return CKR_OK;
out_clear_pt:
	cf_secret_clear(&out);
out:
	return rv;
}

void cf_vault_index_hash(const uint8_t *key, CK_ATTRIBUTE_TYPE type,
			 const void *value, size_t len,
			 struct cf_store_key *out)
{
	const EVP_MAC_CTX *tmpl = vault_hmac_template();
	EVP_MAC_CTX *ctx = NULL;
	uint8_t be_type[8];
	uint8_t mac[INDEX_MAC_LEN];
	size_t mac_len = 0;
	bool ok = false;

	if (tmpl == NULL || key == NULL || (value == NULL && len > 0))
		goto out_fail;
	ctx = EVP_MAC_CTX_dup(tmpl);
	if (ctx == NULL)
		goto out_fail;
	cf_put_be64(be_type, (uint64_t)type);
	ok = EVP_MAC_init(ctx, key, CF_VAULT_KEY_LEN, NULL) == 1 &&
	     EVP_MAC_update(ctx, be_type, sizeof(be_type)) == 1 &&
	     (len == 0 || EVP_MAC_update(ctx, value, len) == 1) &&
	     EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) == 1 &&
	     mac_len == sizeof(mac);
	/* the free wipes the keyed state */
	EVP_MAC_CTX_free(ctx);
	if (ok) {
		memcpy(out->b, mac, CF_STORE_KEY_LEN);
		cf_wipe(mac, sizeof(mac));
		return;
	}
out_fail:
	cf_wipe(mac, sizeof(mac));
	/* There is no way to report the failure here (out of memory), so
	 * leave a key that matches nothing, rather than a constant that would
	 * make every failed hash find every other. */
	cf_error("vault: index hash failed");
	if (!cf_random(out->b, sizeof(out->b)))
		cf_wipe(out->b, sizeof(out->b));
}
