/*
 * hmac.c - HMAC (v3.0 current mechanisms 2.16-2.22, 2.28, 2.42: the
 * CKM_SHA*_HMAC and _HMAC_GENERAL mechanisms) and AES-CMAC (2.9.x,
 * CKM_AES_CMAC and _GENERAL) through EVP_MAC; generic secret key
 * generation (2.8.3) and the HMAC key generations (CKM_SHA*_KEY_GEN).
 *
 * An HMAC init runs under the token lock, so it must be cheap: each
 * digest has one unkeyed EVP_MAC_CTX with the digest already set, made on
 * first use and kept for the life of the process, and an init duplicates
 * it and keys the copy. That saves the digest lookup by name that setting
 * the parameter costs on every new context. CMAC contexts cannot be
 * duplicated before they are keyed, so CMAC sets its cipher per init.
 */
#include "token/mech/mech.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include "common/crypto.h"


/* HMAC keys and generated secrets, in bytes (mech.h: the unit of
 * generic secrets). Far above any digest's block size, where HMAC hashes
 * the key anyway; the cap only bounds what a caller can make us hold. */
#define SECRET_MIN 1
#define SECRET_MAX 512

#define CMAC_LEN 16

/* One cached HMAC template per digest. */
enum md_slot {
	MD_SHA1,
	MD_SHA224,
	MD_SHA256,
	MD_SHA384,
	MD_SHA512,
	MD_SHA512_224,
	MD_SHA512_256,
	MD_SHA3_224,
	MD_SHA3_256,
	MD_SHA3_384,
	MD_SHA3_512,
	MD_SLOTS,
	MD_NONE = MD_SLOTS, /* CMAC */
};

static const char *const md_names[MD_SLOTS] = {
    [MD_SHA1] = "SHA1",		    [MD_SHA224] = "SHA2-224",
    [MD_SHA256] = "SHA2-256",	    [MD_SHA384] = "SHA2-384",
    [MD_SHA512] = "SHA2-512",	    [MD_SHA512_224] = "SHA2-512/224",
    [MD_SHA512_256] = "SHA2-512/256", [MD_SHA3_224] = "SHA3-224",
    [MD_SHA3_256] = "SHA3-256",	    [MD_SHA3_384] = "SHA3-384",
    [MD_SHA3_512] = "SHA3-512",
};

static _Atomic(EVP_MAC_CTX *) templates[MD_SLOTS];

/* What a MAC row means (cf_mech.arg). */
struct mac_kind {
	enum md_slot md;
	size_t len; /* full output length */
	bool general; /* takes CK_MAC_GENERAL_PARAMS */
};

/* An active MAC operation. */
struct mac_op {
	EVP_MAC_CTX *ctx;
	size_t len; /* what the caller gets: the full MAC or a prefix */
};

static const struct cf_mech_ops mac_ops, gen_ops;

#define MAC_FLAGS (CKF_SIGN | CKF_VERIFY)

#define HMAC_ROWS(t, tg, kt, slot, n)                                          \
	{.type = (t),                                                          \
	 .info = {SECRET_MIN, SECRET_MAX, MAC_FLAGS},                          \
	 .key_types = {CKK_GENERIC_SECRET, (kt), CF_MECH_KEY_TYPES_END,        \
		       CF_MECH_KEY_TYPES_END},                                 \
	 .ops = &mac_ops,                                                      \
	 .arg = &(const struct mac_kind){(slot), (n), false}},                 \
	{                                                                      \
		.type = (tg), .info = {SECRET_MIN, SECRET_MAX, MAC_FLAGS},     \
		.key_types = {CKK_GENERIC_SECRET, (kt), CF_MECH_KEY_TYPES_END, \
			      CF_MECH_KEY_TYPES_END},                          \
		.ops = &mac_ops,                                               \
		.arg = &(const struct mac_kind){(slot), (n), true}             \
	}

#define GEN_ROW(t, kt)                                                         \
	{                                                                      \
		.type = (t), .info = {SECRET_MIN, SECRET_MAX, CKF_GENERATE},   \
		.key_types = {(kt), CF_MECH_KEY_TYPES_END,                     \
			      CF_MECH_KEY_TYPES_END, CF_MECH_KEY_TYPES_END},   \
		.ops = &gen_ops                                                \
	}

static const struct cf_mech rows[] = {
    HMAC_ROWS(CKM_SHA_1_HMAC, CKM_SHA_1_HMAC_GENERAL, CKK_SHA_1_HMAC, MD_SHA1,
	      20),
    HMAC_ROWS(CKM_SHA224_HMAC, CKM_SHA224_HMAC_GENERAL, CKK_SHA224_HMAC,
	      MD_SHA224, 28),
    HMAC_ROWS(CKM_SHA256_HMAC, CKM_SHA256_HMAC_GENERAL, CKK_SHA256_HMAC,
	      MD_SHA256, 32),
    HMAC_ROWS(CKM_SHA384_HMAC, CKM_SHA384_HMAC_GENERAL, CKK_SHA384_HMAC,
	      MD_SHA384, 48),
    HMAC_ROWS(CKM_SHA512_HMAC, CKM_SHA512_HMAC_GENERAL, CKK_SHA512_HMAC,
	      MD_SHA512, 64),
    HMAC_ROWS(CKM_SHA512_224_HMAC, CKM_SHA512_224_HMAC_GENERAL,
	      CKK_SHA512_224_HMAC, MD_SHA512_224, 28),
    HMAC_ROWS(CKM_SHA512_256_HMAC, CKM_SHA512_256_HMAC_GENERAL,
	      CKK_SHA512_256_HMAC, MD_SHA512_256, 32),
    HMAC_ROWS(CKM_SHA3_224_HMAC, CKM_SHA3_224_HMAC_GENERAL, CKK_SHA3_224_HMAC,
	      MD_SHA3_224, 28),
    HMAC_ROWS(CKM_SHA3_256_HMAC, CKM_SHA3_256_HMAC_GENERAL, CKK_SHA3_256_HMAC,
	      MD_SHA3_256, 32),
    HMAC_ROWS(CKM_SHA3_384_HMAC, CKM_SHA3_384_HMAC_GENERAL, CKK_SHA3_384_HMAC,
	      MD_SHA3_384, 48),
    HMAC_ROWS(CKM_SHA3_512_HMAC, CKM_SHA3_512_HMAC_GENERAL, CKK_SHA3_512_HMAC,
	      MD_SHA3_512, 64),
    {.type = CKM_AES_CMAC,
     .info = {16, 32, MAC_FLAGS},
     .key_types = {CKK_AES, CF_MECH_KEY_TYPES_END, CF_MECH_KEY_TYPES_END,
		   CF_MECH_KEY_TYPES_END},
     .ops = &mac_ops,
     .arg = &(const struct mac_kind){MD_NONE, CMAC_LEN, false}},
    {.type = CKM_AES_CMAC_GENERAL,
     .info = {16, 32, MAC_FLAGS},
     .key_types = {CKK_AES, CF_MECH_KEY_TYPES_END, CF_MECH_KEY_TYPES_END,
		   CF_MECH_KEY_TYPES_END},
     .ops = &mac_ops,
     .arg = &(const struct mac_kind){MD_NONE, CMAC_LEN, true}},
    GEN_ROW(CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET),
    GEN_ROW(CKM_SHA_1_KEY_GEN, CKK_SHA_1_HMAC),
    GEN_ROW(CKM_SHA224_KEY_GEN, CKK_SHA224_HMAC),
    GEN_ROW(CKM_SHA256_KEY_GEN, CKK_SHA256_HMAC),
    GEN_ROW(CKM_SHA384_KEY_GEN, CKK_SHA384_HMAC),
    GEN_ROW(CKM_SHA512_KEY_GEN, CKK_SHA512_HMAC),
    GEN_ROW(CKM_SHA3_224_KEY_GEN, CKK_SHA3_224_HMAC),
    GEN_ROW(CKM_SHA3_256_KEY_GEN, CKK_SHA3_256_HMAC),
    GEN_ROW(CKM_SHA3_384_KEY_GEN, CKK_SHA3_384_HMAC),
    GEN_ROW(CKM_SHA3_512_KEY_GEN, CKK_SHA3_512_HMAC),
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

const struct cf_mech_family cf_mechs_hmac = {rows, NROWS};

/* The row of t (op->mech is only set once init has succeeded). */
static const struct cf_mech *row_of(CK_MECHANISM_TYPE t)
{
	for (size_t i = 0; i < NROWS; i++)
		if (rows[i].type == t)
			return &rows[i];
	return NULL;
}

/* ---- contexts ----------------------------------------------------------- */

/* The unkeyed HMAC context of a digest, made once. Two threads may both
 * make one; the loser frees its own. */
static EVP_MAC_CTX *hmac_template(enum md_slot md)
{
	EVP_MAC_CTX *t = atomic_load_explicit(&templates[md],
					      memory_order_acquire);
	EVP_MAC_CTX *expected = NULL;
	EVP_MAC *mac;
	OSSL_PARAM p[2];

	if (t != NULL)
		return t;
	mac = cf_mac("HMAC");
	if (mac == NULL)
		return NULL;
	t = EVP_MAC_CTX_new(mac);
	if (t == NULL)
		return NULL;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						(char *)md_names[md], 0);
	p[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(t, p) != 1) {
		EVP_MAC_CTX_free(t);
		return NULL;
	}
	if (!atomic_compare_exchange_strong_explicit(
		&templates[md], &expected, t, memory_order_acq_rel,
		memory_order_acquire)) {
		EVP_MAC_CTX_free(t);
		t = expected;
	}
	return t;
}

static CK_RV hmac_ctx_new(enum md_slot md, const struct cf_key *key,
			  EVP_MAC_CTX **out)
{
	EVP_MAC_CTX *t = hmac_template(md);
	EVP_MAC_CTX *ctx;

	if (t == NULL)
		return CKR_MECHANISM_INVALID; /* provider lacks the digest */
	if (key->value_len < SECRET_MIN || key->value_len > SECRET_MAX)
		return CKR_KEY_SIZE_RANGE;
	ctx = EVP_MAC_CTX_dup(t);
	if (ctx == NULL)
		return CKR_HOST_MEMORY;
	if (EVP_MAC_init(ctx, key->value, key->value_len, NULL) != 1) {
		EVP_MAC_CTX_free(ctx);
		return CKR_FUNCTION_FAILED;
	}
	*out = ctx;
	return CKR_OK;
}

static CK_RV cmac_ctx_new(const struct cf_key *key, EVP_MAC_CTX **out)
{
	EVP_MAC *mac = cf_mac("CMAC");
	EVP_MAC_CTX *ctx;
	const char *cipher;
	OSSL_PARAM p[2];

	switch (key->value_len) {
	case 16:
		cipher = "AES-128-CBC";
		break;
	case 24:
		cipher = "AES-192-CBC";
		break;
	case 32:
		cipher = "AES-256-CBC";
		break;
	default:
		return CKR_KEY_SIZE_RANGE;
	}
	if (mac == NULL)
		return CKR_MECHANISM_INVALID;
	ctx = EVP_MAC_CTX_new(mac);
	if (ctx == NULL)
		return CKR_HOST_MEMORY;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
						(char *)cipher, 0);
	p[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key->value, key->value_len, p) != 1) {
		EVP_MAC_CTX_free(ctx);
		return CKR_FUNCTION_FAILED;
	}
	*out = ctx;
	return CKR_OK;
}

/* ---- sign and verify ---------------------------------------------------- */

/* The output length the caller asked for: the full MAC, or 1..full bytes
 * of it from CK_MAC_GENERAL_PARAMS. */
static CK_RV mac_len(const CK_MECHANISM *m, const struct mac_kind *k,
		     size_t *len)
{
	CK_MAC_GENERAL_PARAMS want;

	if (!k->general) {
		if (m->ulParameterLen != 0)
			return CKR_MECHANISM_PARAM_INVALID;
		*len = k->len;
		return CKR_OK;
	}
	if (m->pParameter == NULL || m->ulParameterLen != sizeof(want))
		return CKR_MECHANISM_PARAM_INVALID;
	memcpy(&want, m->pParameter, sizeof(want));
	if (want < 1 || want > k->len)
		return CKR_MECHANISM_PARAM_INVALID;
	*len = want;
	return CKR_OK;
}

static CK_RV mac_init(struct cf_op *op, const CK_MECHANISM *m,
		      const struct cf_key *key)
{
	const struct cf_mech *row = row_of(m->mechanism);
	const struct mac_kind *k;
	struct mac_op *mo;
	size_t len;
	CK_RV rv;

	if (row == NULL || row->arg == NULL)
		return CKR_MECHANISM_INVALID;
	k = row->arg;
	if (key == NULL || key->value == NULL)
		return CKR_KEY_TYPE_INCONSISTENT;
	rv = mac_len(m, k, &len);
	if (rv != CKR_OK)
		return rv;
	mo = malloc(sizeof(*mo));
	if (mo == NULL)
		return CKR_HOST_MEMORY;
	mo->len = len;
	if (k->md == MD_NONE)
		rv = cmac_ctx_new(key, &mo->ctx);
	else
		rv = hmac_ctx_new(k->md, key, &mo->ctx);
	if (rv != CKR_OK) {
		free(mo);
		return rv;
	}
	op->ctx = mo;
	return CKR_OK;
}

static CK_RV mac_update(struct cf_op *op, const uint8_t *in, size_t inl,
			uint8_t *out, CK_ULONG *outl)
{
	struct mac_op *mo = op->ctx;

	(void)out;
	(void)outl;
	if (inl > 0 && EVP_MAC_update(mo->ctx, in, inl) != 1)
		return CKR_FUNCTION_FAILED;
	return CKR_OK;
}

/* The full MAC into mac (EVP_MAX_MD_SIZE bytes); the caller wipes it. */
static CK_RV mac_compute(struct mac_op *mo, uint8_t *mac)
{
	size_t n = 0;

	if (EVP_MAC_final(mo->ctx, mac, &n, EVP_MAX_MD_SIZE) != 1 ||
	    n < mo->len)
		return CKR_FUNCTION_FAILED;
	return CKR_OK;
}

static CK_RV mac_final(struct cf_op *op, uint8_t *out, CK_ULONG *outl)
{
	struct mac_op *mo = op->ctx;
	uint8_t mac[EVP_MAX_MD_SIZE];
	bool go;
	CK_RV rv = cf_out_check(out, outl, mo->len, &go);

	if (!go)
		return rv;
	rv = mac_compute(mo, mac);
	if (rv == CKR_OK) {
		memcpy(out, mac, mo->len);
		*outl = (CK_ULONG)mo->len;
	}
	cf_wipe(mac, sizeof(mac));
	return rv;
}

/* Checks the output buffer before consuming the input, so that a length
 * query or CKR_BUFFER_TOO_SMALL leaves the operation as it was. */
static CK_RV mac_oneshot(struct cf_op *op, const uint8_t *in, size_t inl,
			 uint8_t *out, CK_ULONG *outl)
{
	struct mac_op *mo = op->ctx;
	bool go;
	CK_RV rv = cf_out_check(out, outl, mo->len, &go);

	if (!go)
		return rv;
	rv = mac_update(op, in, inl, NULL, NULL);
	if (rv == CKR_OK)
		rv = mac_final(op, out, outl);
	return rv;
}

static CK_RV mac_verify_final(struct cf_op *op, const uint8_t *sig,
			      size_t sigl)
{
	struct mac_op *mo = op->ctx;
	uint8_t mac[EVP_MAX_MD_SIZE];
	CK_RV rv;

	if (sigl != mo->len)
		return CKR_SIGNATURE_LEN_RANGE;
	rv = mac_compute(mo, mac);
	if (rv == CKR_OK && CRYPTO_memcmp(mac, sig, mo->len) != 0)
		rv = CKR_SIGNATURE_INVALID;
	cf_wipe(mac, sizeof(mac));
	return rv;
}

static CK_RV mac_verify(struct cf_op *op, const uint8_t *in, size_t inl,
			const uint8_t *sig, size_t sigl)
{
	struct mac_op *mo = op->ctx;
	CK_RV rv;

	if (sigl != mo->len)
		return CKR_SIGNATURE_LEN_RANGE;
	rv = mac_update(op, in, inl, NULL, NULL);
	if (rv == CKR_OK)
		rv = mac_verify_final(op, sig, sigl);
	return rv;
}

static void mac_free(struct cf_op *op)
{
	struct mac_op *mo = op->ctx;

	if (mo == NULL)
		return;
	/* The providers wipe the key and the chaining state on free. */
	EVP_MAC_CTX_free(mo->ctx);
	free(mo);
	op->ctx = NULL;
}

static const struct cf_mech_ops mac_ops = {
    .init = mac_init,
    .oneshot = mac_oneshot,
    .update = mac_update,
    .final = mac_final,
    .verify = mac_verify,
    .verify_final = mac_verify_final,
    .free = mac_free,
};

/* ---- key generation ----------------------------------------------------- */

/* CKM_GENERIC_SECRET_KEY_GEN and CKM_SHA*_KEY_GEN: CKA_VALUE_LEN random
 * bytes. The attribute rules have already required CKA_VALUE_LEN. */
static CK_RV secret_generate(const CK_MECHANISM *m, struct cf_object *key)
{
	const struct cf_attr *a = cf_object_attr(key, CKA_VALUE_LEN);
	uint8_t buf[SECRET_MAX];
	CK_ULONG len;
	CK_RV rv;

	if (m->ulParameterLen != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	if (a == NULL || a->len != sizeof(CK_ULONG))
		return CKR_TEMPLATE_INCOMPLETE;
	len = cf_object_ulong(key, CKA_VALUE_LEN, 0);
	if (len < SECRET_MIN || len > SECRET_MAX)
		return CKR_KEY_SIZE_RANGE;
	if (!cf_random(buf, len)) {
		rv = CKR_FUNCTION_FAILED;
		goto out_wipe;
	}
	rv = cf_object_set(key, CKA_VALUE, buf, len);
	if (rv == CKR_OK)
		rv = cf_object_set_ulong(key, CKA_KEY_GEN_MECHANISM,
					 m->mechanism);
out_wipe:
	cf_wipe(buf, len);
	return rv;
}

static const struct cf_mech_ops gen_ops = {
    .generate = secret_generate,
};
