/*
 * wrap.c - AES key wrap: CKM_AES_KEY_WRAP (RFC 3394, OpenSSL
 * "AES-*-WRAP"), CKM_AES_KEY_WRAP_KWP (RFC 5649, "AES-*-WRAP-PAD") and
 * CKM_AES_KEY_WRAP_PAD, the older name of the same thing: coffer gives it
 * the RFC 5649 semantics too (PKCS#11 2.40 left _PAD loosely defined; 3.0
 * added _KWP for RFC 5649, which is what every implementation of _PAD that
 * interoperates does).
 *
 * Both as C_WrapKey / C_UnwrapKey byte operations and as single-part
 * C_Encrypt / C_Decrypt, which the spec lists for them. Which of the two
 * roles one key may serve is the policy's (policy.h), not this file's.
 */
#include "token/mech/mech.h"

#include <stdlib.h>
#include <string.h>

#define SEMIBLOCK 8
/* Largest input accepted: keeps every length well inside an int. */
#define WRAP_MAX (1u << 24)

struct wrap_ctx {
	const struct cf_mech *mech;
	uint8_t key[32];
	size_t key_len;
	uint8_t iv[SEMIBLOCK];
	size_t iv_len; /* 0: the RFC's default IV */
};

static bool padded(const struct cf_mech *mech)
{
	return mech->type != CKM_AES_KEY_WRAP;
}

static const EVP_CIPHER *cipher_for(bool pad, size_t key_len)
{
	switch (key_len) {
	case 16:
		return pad ? cf_cipher("AES-128-WRAP-PAD")
			   : cf_cipher("AES-128-WRAP");
	case 24:
		return pad ? cf_cipher("AES-192-WRAP-PAD")
			   : cf_cipher("AES-192-WRAP");
	case 32:
		return pad ? cf_cipher("AES-256-WRAP-PAD")
			   : cf_cipher("AES-256-WRAP");
	default:
		return NULL;
	}
}

/* The optional parameter: an 8-byte IV (RFC 3394 2.2.3) or a 4-byte
 * alternative IV prefix (RFC 5649 3). */
static CK_RV params(const struct cf_mech *mech, const CK_MECHANISM *m,
		    uint8_t iv[SEMIBLOCK], size_t *iv_len)
{
	size_t want = padded(mech) ? 4 : SEMIBLOCK;

	*iv_len = 0;
	if (m->ulParameterLen == 0)
		return CKR_OK;
	if (m->pParameter == NULL || m->ulParameterLen != want)
		return CKR_MECHANISM_PARAM_INVALID;
	memcpy(iv, m->pParameter, want);
	*iv_len = want;
	return CKR_OK;
}

/* Output bytes of a wrap of inl bytes, or 0 when inl is not allowed. */
static size_t wrapped_len(bool pad, size_t inl)
{
	if (inl > WRAP_MAX)
		return 0;
	if (pad)
		return inl == 0 ? 0 : (inl + 7) / 8 * 8 + SEMIBLOCK;
	if (inl < 2 * SEMIBLOCK || inl % SEMIBLOCK != 0)
		return 0;
	return inl + SEMIBLOCK;
}

/* Whether inl bytes can be a wrapped key at all. */
static bool unwrap_len_ok(bool pad, size_t inl)
{
	if (inl > WRAP_MAX + 2 * SEMIBLOCK || inl % SEMIBLOCK != 0)
		return false;
	return inl >= (pad ? 2u : 3u) * SEMIBLOCK;
}

/* Runs the cipher once over in. *ok false on an integrity failure (or any
 * OpenSSL failure: the two cannot be told apart). */
static CK_RV run(const struct cf_mech *mech, const uint8_t *key, size_t keyl,
		 const uint8_t *iv, size_t ivl, bool enc, const uint8_t *in,
		 size_t inl, uint8_t *out, size_t *outl, bool *ok)
{
	const EVP_CIPHER *c = cipher_for(padded(mech), keyl);
	EVP_CIPHER_CTX *ctx;
	int n = 0, fin = 0;

	*ok = false;
	*outl = 0;
	if (c == NULL)
		return CKR_KEY_SIZE_RANGE;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return CKR_HOST_MEMORY;
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_CipherInit_ex2(ctx, c, key, ivl > 0 ? iv : NULL, enc ? 1 : 0,
			       NULL) == 1 &&
	    EVP_CipherUpdate(ctx, out, &n, in, (int)inl) == 1 && n >= 0 &&
	    EVP_CipherFinal_ex(ctx, out + n, &fin) == 1) {
		*ok = true;
		*outl = (size_t)n + (size_t)fin;
	}
	EVP_CIPHER_CTX_free(ctx);
	return CKR_OK;
}

/* The wrap direction, under the output convention. bad_len: the code for
 * a plaintext of a length the mechanism cannot take. */
static CK_RV do_wrap(const struct cf_mech *mech, const uint8_t *key,
		     size_t keyl, const uint8_t *iv, size_t ivl,
		     const uint8_t *in, size_t inl, uint8_t *out,
		     CK_ULONG *outl, CK_RV bad_len)
{
	size_t need = wrapped_len(padded(mech), inl), done;
	bool go, ok;
	CK_RV rv;

	if (need == 0)
		return bad_len;
	rv = cf_out_check(out, outl, need, &go);
	if (!go)
		return rv;
	rv = run(mech, key, keyl, iv, ivl, true, in, inl, out, &done, &ok);
	if (rv != CKR_OK)
		return rv;
	if (!ok || done != need)
		return CKR_GENERAL_ERROR;
	*outl = (CK_ULONG)done;
	return CKR_OK;
}

/* The unwrap direction into secret memory. */
static CK_RV do_unwrap(const struct cf_mech *mech, const uint8_t *key,
		       size_t keyl, const uint8_t *iv, size_t ivl,
		       const uint8_t *in, size_t inl, struct cf_secret *plain,
		       CK_RV bad_len, CK_RV bad_data)
{
	struct cf_secret tmp = {0};
	size_t done;
	bool ok;
	CK_RV rv;

	if (!unwrap_len_ok(padded(mech), inl))
		return bad_len;
	/* OpenSSL writes up to a block more than the result. */
	if (cf_secret_init(&tmp, inl + 16) != 0)
		return CKR_HOST_MEMORY;
	rv =
	    run(mech, key, keyl, iv, ivl, false, in, inl, tmp.data, &done, &ok);
	if (rv == CKR_OK && (!ok || done == 0))
		rv = bad_data;
	if (rv == CKR_OK && cf_secret_set(plain, tmp.data, done) != 0)
		rv = CKR_HOST_MEMORY;
	cf_secret_clear(&tmp);
	return rv;
}

/* ---- C_WrapKey / C_UnwrapKey ------------------------------------------- */

static CK_RV key_ok(const struct cf_key *k)
{
	if (k->cls != CKO_SECRET_KEY || k->value == NULL)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (cipher_for(false, k->value_len) == NULL)
		return CKR_KEY_SIZE_RANGE;
	return CKR_OK;
}

static CK_RV wrap(const CK_MECHANISM *m, const struct cf_key *wrapping,
		  const uint8_t *plain, size_t plain_len, uint8_t *out,
		  CK_ULONG *outl)
{
	const struct cf_mech *mech = cf_mech_find(m->mechanism, true);
	uint8_t iv[SEMIBLOCK];
	size_t ivl;
	CK_RV rv;

	if (mech == NULL)
		return CKR_MECHANISM_INVALID;
	rv = params(mech, m, iv, &ivl);
	if (rv == CKR_OK)
		rv = key_ok(wrapping);
	if (rv != CKR_OK)
		return rv;
	return do_wrap(mech, wrapping->value, wrapping->value_len, iv, ivl,
		       plain, plain_len, out, outl, CKR_KEY_SIZE_RANGE);
}

static CK_RV unwrap(const CK_MECHANISM *m, const struct cf_key *unwrapping,
		    const uint8_t *in, size_t inl, struct cf_secret *plain)
{
	const struct cf_mech *mech = cf_mech_find(m->mechanism, true);
	uint8_t iv[SEMIBLOCK];
	size_t ivl;
	CK_RV rv;

	if (mech == NULL)
		return CKR_MECHANISM_INVALID;
	rv = params(mech, m, iv, &ivl);
	if (rv == CKR_OK)
		rv = key_ok(unwrapping);
	if (rv != CKR_OK)
		return rv;
	return do_unwrap(mech, unwrapping->value, unwrapping->value_len, iv,
			 ivl, in, inl, plain, CKR_WRAPPED_KEY_LEN_RANGE,
			 CKR_WRAPPED_KEY_INVALID);
}

/* ---- C_Encrypt / C_Decrypt --------------------------------------------- */

static void ctx_free(struct cf_op *op)
{
	cf_secret_free(op->ctx, sizeof(struct wrap_ctx));
	op->ctx = NULL;
}

static CK_RV init(struct cf_op *op, const CK_MECHANISM *m,
		  const struct cf_key *key)
{
	const struct cf_mech *mech = cf_mech_find(m->mechanism, true);
	struct wrap_ctx *c;
	CK_RV rv;

	if (mech == NULL)
		return CKR_MECHANISM_INVALID;
	rv = key_ok(key);
	if (rv != CKR_OK)
		return rv;
	c = cf_secret_alloc(sizeof(*c));
	if (c == NULL)
		return CKR_HOST_MEMORY;
	c->mech = mech;
	rv = params(mech, m, c->iv, &c->iv_len);
	if (rv != CKR_OK) {
		cf_secret_free(c, sizeof(*c));
		return rv;
	}
	memcpy(c->key, key->value, key->value_len);
	c->key_len = key->value_len;
	op->ctx = c;
	return CKR_OK;
}

static CK_RV oneshot(struct cf_op *op, const uint8_t *in, size_t inl,
		     uint8_t *out, CK_ULONG *outl)
{
	const struct wrap_ctx *c = op->ctx;
	struct cf_secret plain = {0};
	bool go;
	CK_RV rv;

	if (op->kind == CF_OP_ENCRYPT)
		return do_wrap(c->mech, c->key, c->key_len, c->iv, c->iv_len,
			       in, inl, out, outl, CKR_DATA_LEN_RANGE);
	if (!unwrap_len_ok(padded(c->mech), inl))
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	/* The exact length of an RFC 5649 result is known only after the
	 * integrity check; a query answers with the bound. */
	if (out == NULL) {
		*outl = (CK_ULONG)(inl - SEMIBLOCK);
		return CKR_OK;
	}
	rv = do_unwrap(c->mech, c->key, c->key_len, c->iv, c->iv_len, in, inl,
		       &plain, CKR_ENCRYPTED_DATA_LEN_RANGE,
		       CKR_ENCRYPTED_DATA_INVALID);
	if (rv != CKR_OK)
		return rv;
	rv = cf_out_check(out, outl, plain.len, &go);
	if (go) {
		memcpy(out, plain.data, plain.len);
		*outl = (CK_ULONG)plain.len;
	}
	cf_secret_clear(&plain);
	return rv;
}

static const struct cf_mech_ops ops = {
    .init = init,
    .oneshot = oneshot,
    .free = ctx_free,
    .wrap = wrap,
    .unwrap = unwrap,
};

#define WRAP_FLAGS (CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP)
#define ROW(t)                                                                 \
	{                                                                      \
		(t), {16, 32, WRAP_FLAGS},                                     \
		    {CKK_AES, CF_MECH_KEY_TYPES_END, CF_MECH_KEY_TYPES_END,    \
		     CF_MECH_KEY_TYPES_END},                                   \
		    &ops, NULL, false                                          \
	}

static const struct cf_mech rows[] = {
    ROW(CKM_AES_KEY_WRAP),
    ROW(CKM_AES_KEY_WRAP_PAD),
    ROW(CKM_AES_KEY_WRAP_KWP),
};

const struct cf_mech_family cf_mechs_wrap = {rows,
					     sizeof(rows) / sizeof(rows[0])};
