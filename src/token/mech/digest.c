/*
 * digest.c - SHA-1, SHA-2 and SHA-3 digests (v3.0 current mechanisms 2.16,
 * 2.18-2.22, 2.28, 2.42): single- and multi-part, and C_DigestKey, which
 * the core turns into an update with the key's value.
 *
 * The operation's state is the EVP_MD_CTX itself: the digest is fetched
 * once per process (cf_md) and every call is one EVP call, so a token
 * digest costs what an OpenSSL one does plus the session lookup.
 */
#include "token/mech/mech.h"

#include <openssl/crypto.h>

static const struct cf_mech_ops digest_ops;

#define DIGEST_ROW(t, name)                                                    \
	{                                                                      \
		.type = (t), .info = {0, 0, CKF_DIGEST},                       \
		.key_types = {CF_MECH_KEY_TYPES_END, CF_MECH_KEY_TYPES_END,    \
			      CF_MECH_KEY_TYPES_END, CF_MECH_KEY_TYPES_END},   \
		.ops = &digest_ops, .arg = (name)                              \
	}

/* The names are cf_md_name_of_mech's, so each digest is fetched once for
 * the whole token; SHA-512/t, which that map leaves out, is named here. */
static const struct cf_mech rows[] = {
    DIGEST_ROW(CKM_SHA_1, "SHA1"),
    DIGEST_ROW(CKM_SHA256, "SHA2-256"),
    DIGEST_ROW(CKM_SHA224, "SHA2-224"),
    DIGEST_ROW(CKM_SHA384, "SHA2-384"),
    DIGEST_ROW(CKM_SHA512, "SHA2-512"),
    DIGEST_ROW(CKM_SHA512_224, "SHA2-512/224"),
    DIGEST_ROW(CKM_SHA512_256, "SHA2-512/256"),
    DIGEST_ROW(CKM_SHA3_256, "SHA3-256"),
    DIGEST_ROW(CKM_SHA3_224, "SHA3-224"),
    DIGEST_ROW(CKM_SHA3_384, "SHA3-384"),
    DIGEST_ROW(CKM_SHA3_512, "SHA3-512"),
};

const struct cf_mech_family cf_mechs_digest = {rows,
					       sizeof(rows) / sizeof(rows[0])};

/* The row of t (op->mech is only set once init has succeeded). */
static const struct cf_mech *row_of(CK_MECHANISM_TYPE t)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i].type == t)
			return &rows[i];
	return NULL;
}

static CK_RV digest_init(struct cf_op *op, const CK_MECHANISM *m,
			 const struct cf_key *key)
{
	const struct cf_mech *row = row_of(m->mechanism);
	const EVP_MD *md;
	EVP_MD_CTX *ctx;

	(void)key;
	if (row == NULL)
		return CKR_MECHANISM_INVALID;
	/* The digest mechanisms have no parameter. */
	if (m->ulParameterLen != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	md = cf_md(row->arg);
	if (md == NULL)
		return CKR_MECHANISM_INVALID; /* provider lacks it */
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return CKR_HOST_MEMORY;
	if (EVP_DigestInit_ex2(ctx, md, NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return CKR_FUNCTION_FAILED;
	}
	op->ctx = ctx;
	return CKR_OK;
}

static CK_RV digest_update(struct cf_op *op, const uint8_t *in, size_t inl,
			   uint8_t *out, CK_ULONG *outl)
{
	(void)out;
	(void)outl;
	if (inl > 0 && EVP_DigestUpdate(op->ctx, in, inl) != 1)
		return CKR_FUNCTION_FAILED;
	return CKR_OK;
}

static CK_RV digest_final(struct cf_op *op, uint8_t *out, CK_ULONG *outl)
{
	int size = EVP_MD_CTX_get_size((EVP_MD_CTX *)op->ctx);
	unsigned int n = 0;
	bool go;
	CK_RV rv;

	if (size <= 0)
		return CKR_GENERAL_ERROR;
	rv = cf_out_check(out, outl, (size_t)size, &go);
	if (!go)
		return rv;
	if (EVP_DigestFinal_ex(op->ctx, out, &n) != 1)
		return CKR_FUNCTION_FAILED;
	*outl = n;
	return CKR_OK;
}

/* Checks the output buffer before consuming the input, so that a length
 * query or CKR_BUFFER_TOO_SMALL leaves the operation as it was. */
static CK_RV digest_oneshot(struct cf_op *op, const uint8_t *in, size_t inl,
			    uint8_t *out, CK_ULONG *outl)
{
	int size = EVP_MD_CTX_get_size((EVP_MD_CTX *)op->ctx);
	bool go;
	CK_RV rv;

	if (size <= 0)
		return CKR_GENERAL_ERROR;
	rv = cf_out_check(out, outl, (size_t)size, &go);
	if (!go)
		return rv;
	rv = digest_update(op, in, inl, NULL, NULL);
	if (rv == CKR_OK)
		rv = digest_final(op, out, outl);
	return rv;
}

static void digest_free(struct cf_op *op)
{
	/* EVP_MD_CTX_free cleanses the digest state (it may hold a key fed
	 * in by C_DigestKey). */
	EVP_MD_CTX_free(op->ctx);
	op->ctx = NULL;
}

static const struct cf_mech_ops digest_ops = {
    .init = digest_init,
    .oneshot = digest_oneshot,
    .update = digest_update,
    .final = digest_final,
    .free = digest_free,
};
