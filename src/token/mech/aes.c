/*
 * aes.c - AES (PKCS#11 v3.0 mechanisms 2.9-2.13): key generation, ECB,
 * CBC, CBC_PAD, CTR and GCM (also in its message form), and the engine
 * behind them that des3.c and chacha.c share (sym.h).
 *
 * Output lengths are exact, computed before OpenSSL is called, so that a
 * length query or CKR_BUFFER_TOO_SMALL never consumes input: the engine
 * counts the bytes OpenSSL holds back (a partial block, or the last block
 * of a padded decryption) itself. AEAD decryption releases no plaintext
 * before the tag has been checked: multi-part input is buffered and
 * decrypted at the final call, and a failed check wipes the output.
 */
#include "token/mech/sym.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>

#include "common/crypto.h"

/* Bytes handed to one EVP call: a multiple of every block size, below
 * INT_MAX. */
#define EVP_CHUNK ((size_t)1 << 30)
/* Multi-part AEAD decryption holds the ciphertext until the tag is known;
 * this bounds it. */
#define AEAD_HOLD_MAX ((size_t)1 << 30)
/* OpenSSL's GCM takes IVs of 1 to 128 bytes. */
#define GCM_IV_MAX 128

static const char *cipher_name(const struct cf_sym_alg *alg, size_t keylen)
{
	switch (keylen) {
	case 16:
		return alg->by_len[0];
	case 24:
		return alg->by_len[1];
	case 32:
		return alg->by_len[2];
	default:
		return NULL;
	}
}

/* The row's algorithm for wrap and unwrap, which get no row. */
static const struct cf_sym_alg *alg_of(CK_MECHANISM_TYPE t)
{
	const struct cf_mech *mech = cf_mech_find(t, true);

	return mech != NULL ? mech->arg : NULL;
}

static bool is_enc(enum cf_op_kind kind)
{
	return kind == CF_OP_ENCRYPT || kind == CF_OP_MSG_ENCRYPT;
}

/* EVP_CipherUpdate over any length; *n gets the bytes written. */
static bool evp_update(EVP_CIPHER_CTX *ctx, uint8_t *out, size_t *n,
		       const uint8_t *in, size_t inl)
{
	size_t done = 0;

	*n = 0;
	while (done < inl) {
		size_t part = inl - done < EVP_CHUNK ? inl - done : EVP_CHUNK;
		int got = 0;

		if (EVP_CipherUpdate(ctx, out != NULL ? out + *n : NULL, &got,
				     in + done, (int)part) != 1 ||
		    got < 0)
			return false;
		*n += (size_t)got;
		done += part;
	}
	return true;
}

static bool evp_final(EVP_CIPHER_CTX *ctx, uint8_t *out, size_t *n)
{
	int got = 0;

	*n = 0;
	if (EVP_CipherFinal_ex(ctx, out, &got) != 1 || got < 0)
		return false;
	*n = (size_t)got;
	return true;
}

/* ---- block modes ------------------------------------------------------- */

struct blk {
	EVP_CIPHER_CTX *ctx;
	bool enc, pad, nopad; /* nopad: ECB, CBC (whole blocks only) */
	size_t bs;	      /* 1 for CTR */
	size_t pending;	      /* input bytes OpenSSL holds */
	/* CTR with fewer than 128 counter bits: blocks left before the
	 * counter would carry into the nonce. */
	bool ctr_limited;
	unsigned __int128 ctr_left;
	unsigned __int128 ctr_used; /* bytes consumed so far */
};

static void blk_free(struct blk *b)
{
	if (b == NULL)
		return;
	EVP_CIPHER_CTX_free(b->ctx); /* cleanses the key schedule */
	cf_free_wiped(b, sizeof(*b));
}

/* The IV of CBC modes, the counter block of CTR. */
static CK_RV blk_params(const struct cf_sym_alg *alg, const CK_MECHANISM *m,
			size_t bs, struct blk *b, const uint8_t **iv)
{
	const CK_AES_CTR_PARAMS *ctr;
	unsigned __int128 c = 0;

	*iv = NULL;
	switch (alg->mode) {
	case CF_SYM_ECB:
		return CKR_OK;
	case CF_SYM_CBC:
	case CF_SYM_CBC_PAD:
		if (m->pParameter == NULL || m->ulParameterLen != bs)
			return CKR_MECHANISM_PARAM_INVALID;
		*iv = m->pParameter;
		return CKR_OK;
	case CF_SYM_CTR:
		if (m->pParameter == NULL ||
		    m->ulParameterLen != sizeof(CK_AES_CTR_PARAMS))
			return CKR_MECHANISM_PARAM_INVALID;
		ctr = m->pParameter;
		if (ctr->ulCounterBits < 1 || ctr->ulCounterBits > 128)
			return CKR_MECHANISM_PARAM_INVALID;
		*iv = ctr->cb;
		if (ctr->ulCounterBits == 128)
			return CKR_OK; /* OpenSSL wraps all 128 bits too */
		for (size_t i = 0; i < 16; i++)
			c = (c << 8) | ctr->cb[i];
		c &= ((unsigned __int128)1 << ctr->ulCounterBits) - 1;
		b->ctr_limited = true;
		b->ctr_left = ((unsigned __int128)1 << ctr->ulCounterBits) - c;
		return CKR_OK;
	default:
		return CKR_GENERAL_ERROR;
	}
}

static CK_RV blk_new(const struct cf_sym_alg *alg, const CK_MECHANISM *m,
		     const struct cf_key *key, bool enc, struct blk **out)
{
	const char *name;
	const EVP_CIPHER *cipher;
	const uint8_t *iv;
	struct blk *b;
	int bs;
	CK_RV rv;

	*out = NULL;
	if (alg == NULL || key == NULL || key->value == NULL)
		return CKR_GENERAL_ERROR;
	name = cipher_name(alg, key->value_len);
	if (name == NULL)
		return CKR_KEY_SIZE_RANGE;
	cipher = cf_cipher(name);
	if (cipher == NULL)
		return CKR_GENERAL_ERROR;
	bs = EVP_CIPHER_get_block_size(cipher);
	if (bs <= 0)
		return CKR_GENERAL_ERROR;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return CKR_HOST_MEMORY;
	b->enc = enc;
	b->pad = alg->mode == CF_SYM_CBC_PAD;
	b->nopad = alg->mode == CF_SYM_ECB || alg->mode == CF_SYM_CBC;
	b->bs = (size_t)bs;
	rv = blk_params(alg, m, alg->mode == CF_SYM_CTR ? 16 : b->bs, b, &iv);
	if (rv != CKR_OK)
		goto out_free;
	rv = CKR_HOST_MEMORY;
	b->ctx = EVP_CIPHER_CTX_new();
	if (b->ctx == NULL)
		goto out_free;
	rv = CKR_GENERAL_ERROR;
	if (EVP_CipherInit_ex2(b->ctx, cipher, key->value, iv, enc, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(b->ctx, b->pad) != 1)
		goto out_free;
	*out = b;
	return CKR_OK;

out_free:
	blk_free(b);
	return rv;
}

/* The core sets op->mech only once init succeeds: the row is looked up. */
static CK_RV blk_init(struct cf_op *op, const CK_MECHANISM *m,
		      const struct cf_key *key)
{
	struct blk *b;
	CK_RV rv = blk_new(alg_of(m->mechanism), m, key, is_enc(op->kind), &b);

	if (rv == CKR_OK)
		op->ctx = b;
	return rv;
}

static CK_RV len_error(const struct blk *b)
{
	return b->enc ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
}

/* CTR: refuses input that would run the counter past its bits. */
static CK_RV ctr_check(const struct blk *b, size_t inl)
{
	unsigned __int128 bytes = b->ctr_used + inl;

	if (b->ctr_limited && (bytes + 15) / 16 > b->ctr_left)
		return len_error(b);
	return CKR_OK;
}

/* What an update of inl bytes outputs. */
static size_t update_len(const struct blk *b, size_t inl)
{
	size_t t = b->pending + inl;

	/* A padded decryption keeps the last whole block for the final. */
	if (!b->enc && b->pad)
		return t == 0 ? 0 : (t % b->bs ? t - t % b->bs : t - b->bs);
	return t - t % b->bs;
}

/* A padded decryption whose exact output is known only after the padding
 * is read: runs it on a copy of the context into secret scratch memory,
 * so a too-small buffer changes nothing. */
static CK_RV blk_dec_scratch(struct blk *b, const uint8_t *in, size_t inl,
			     uint8_t *out, CK_ULONG *outl)
{
	EVP_CIPHER_CTX *dup = EVP_CIPHER_CTX_new();
	size_t cap = b->pending + inl, n1 = 0, n2 = 0;
	uint8_t *scratch = NULL;
	CK_RV rv = CKR_HOST_MEMORY;

	if (dup == NULL)
		return CKR_HOST_MEMORY;
	scratch = cf_secret_alloc(cap);
	if (scratch == NULL)
		goto out_free;
	rv = CKR_GENERAL_ERROR;
	if (EVP_CIPHER_CTX_copy(dup, b->ctx) != 1 ||
	    !evp_update(dup, scratch, &n1, in, inl))
		goto out_free;
	if (!evp_final(dup, scratch + n1, &n2)) {
		rv = CKR_ENCRYPTED_DATA_INVALID;
		goto out_free;
	}
	if (*outl < n1 + n2) {
		*outl = (CK_ULONG)(n1 + n2);
		rv = CKR_BUFFER_TOO_SMALL;
		goto out_free;
	}
	memcpy(out, scratch, n1 + n2);
	*outl = (CK_ULONG)(n1 + n2);
	b->pending = 0;
	rv = CKR_OK;

out_free:
	cf_secret_free(scratch, cap);
	EVP_CIPHER_CTX_free(dup);
	return rv;
}

/* Update and final in one go into out, which has room for it all. */
static CK_RV blk_run(struct blk *b, const uint8_t *in, size_t inl,
		     uint8_t *out, CK_ULONG *outl)
{
	size_t n1 = 0, n2 = 0;

	if (!evp_update(b->ctx, out, &n1, in, inl))
		return CKR_GENERAL_ERROR;
	if (!evp_final(b->ctx, out + n1, &n2)) {
		cf_wipe(out, n1);
		return b->enc ? CKR_GENERAL_ERROR : CKR_ENCRYPTED_DATA_INVALID;
	}
	b->pending = 0;
	*outl = (CK_ULONG)(n1 + n2);
	return CKR_OK;
}

/* Length rules of a whole message of inl bytes (single-part, wrap). */
static CK_RV whole_len_check(const struct blk *b, size_t inl)
{
	if (b->nopad && inl % b->bs != 0)
		return len_error(b);
	if (b->pad && !b->enc && (inl == 0 || inl % b->bs != 0))
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	return ctr_check(b, inl);
}

static CK_RV blk_oneshot(struct cf_op *op, const uint8_t *in, size_t inl,
			 uint8_t *out, CK_ULONG *outl)
{
	struct blk *b = op->ctx;
	size_t need = inl;
	bool go;
	CK_RV rv = whole_len_check(b, inl);

	if (rv != CKR_OK)
		return rv;
	if (b->pad && !b->enc) {
		if (out == NULL || *outl >= inl) {
			rv = cf_out_check(out, outl, inl, &go);
			return go ? blk_run(b, in, inl, out, outl) : rv;
		}
		return blk_dec_scratch(b, in, inl, out, outl);
	}
	if (b->pad)
		need = inl - inl % b->bs + b->bs;
	rv = cf_out_check(out, outl, need, &go);
	if (!go)
		return rv;
	return blk_run(b, in, inl, out, outl);
}

static CK_RV blk_update(struct cf_op *op, const uint8_t *in, size_t inl,
			uint8_t *out, CK_ULONG *outl)
{
	struct blk *b = op->ctx;
	size_t need = update_len(b, inl), n = 0;
	bool go;
	CK_RV rv = ctr_check(b, inl);

	if (rv != CKR_OK)
		return rv;
	rv = cf_out_check(out, outl, need, &go);
	if (!go)
		return rv;
	if (!evp_update(b->ctx, out, &n, in, inl) || n != need)
		return CKR_GENERAL_ERROR;
	b->pending = b->pending + inl - n;
	b->ctr_used += inl;
	*outl = (CK_ULONG)n;
	return CKR_OK;
}

static CK_RV blk_final(struct cf_op *op, uint8_t *out, CK_ULONG *outl)
{
	struct blk *b = op->ctx;
	size_t need = 0;
	bool go;
	CK_RV rv;

	if (b->nopad && b->pending != 0)
		return len_error(b);
	if (b->pad && !b->enc) {
		if (b->pending != b->bs)
			return CKR_ENCRYPTED_DATA_LEN_RANGE;
		if (out == NULL || *outl >= b->bs) {
			rv = cf_out_check(out, outl, b->bs, &go);
			return go ? blk_run(b, NULL, 0, out, outl) : rv;
		}
		return blk_dec_scratch(b, NULL, 0, out, outl);
	}
	if (b->pad)
		need = b->bs;
	rv = cf_out_check(out, outl, need, &go);
	if (!go)
		return rv;
	return blk_run(b, NULL, 0, out, outl);
}

static void blk_op_free(struct cf_op *op)
{
	blk_free(op->ctx);
	op->ctx = NULL;
}

/* Wrapping encrypts the key material as one message. ECB and CBC take
 * whole blocks only (coffer does not zero-pad key material). */
static CK_RV blk_wrap(const CK_MECHANISM *m, const struct cf_key *wrapping,
		      const uint8_t *plain, size_t plain_len, uint8_t *out,
		      CK_ULONG *outl)
{
	struct blk *b;
	size_t need;
	bool go;
	CK_RV rv = blk_new(alg_of(m->mechanism), m, wrapping, true, &b);

	if (rv != CKR_OK)
		return rv;
	if (b->nopad && (plain_len == 0 || plain_len % b->bs != 0)) {
		rv = CKR_KEY_SIZE_RANGE;
		goto out_free;
	}
	need = b->pad ? plain_len - plain_len % b->bs + b->bs : plain_len;
	rv = cf_out_check(out, outl, need, &go);
	if (go)
		rv = blk_run(b, plain, plain_len, out, outl);
out_free:
	blk_free(b);
	return rv;
}

static CK_RV blk_unwrap(const CK_MECHANISM *m,
			const struct cf_key *unwrapping, const uint8_t *in,
			size_t inl, struct cf_secret *plain)
{
	struct blk *b;
	uint8_t *scratch = NULL;
	CK_ULONG n = (CK_ULONG)inl;
	CK_RV rv = blk_new(alg_of(m->mechanism), m, unwrapping, false, &b);

	plain->data = NULL;
	plain->len = 0;
	if (rv != CKR_OK)
		return rv;
	if (inl == 0 || inl % b->bs != 0) {
		rv = CKR_WRAPPED_KEY_LEN_RANGE;
		goto out_free;
	}
	rv = CKR_HOST_MEMORY;
	scratch = cf_secret_alloc(inl);
	if (scratch == NULL)
		goto out_free;
	rv = blk_run(b, in, inl, scratch, &n);
	if (rv == CKR_ENCRYPTED_DATA_INVALID)
		rv = CKR_WRAPPED_KEY_INVALID;
	if (rv == CKR_OK && cf_secret_set(plain, scratch, n) != 0)
		rv = CKR_HOST_MEMORY;
	cf_secret_free(scratch, inl);
out_free:
	blk_free(b);
	return rv;
}

const struct cf_mech_ops cf_sym_block_ops = {
    .init = blk_init,
    .oneshot = blk_oneshot,
    .update = blk_update,
    .final = blk_final,
    .free = blk_op_free,
    .wrap = blk_wrap,
    .unwrap = blk_unwrap,
};

/* ---- AEAD: GCM and ChaCha20-Poly1305 ------------------------------------ */

struct aead {
	EVP_CIPHER_CTX *ctx;
	bool enc, gcm;
	size_t taglen; /* of the current operation or message */
	size_t ivlen;  /* what the context is set for */
	/* Decryption: the ciphertext, held until the tag is checked. */
	uint8_t *held;
	size_t nheld, cap;
	/* Message form, CKG_GENERATE_COUNTER: the counter starts at a random
	 * point (so two operations on one key are unlikely to meet) and
	 * never repeats within the operation; IV bits above it are fixed
	 * random ones. */
	bool seeded;
	uint64_t ctr_start, ctr_count;
	uint8_t filler[GCM_IV_MAX];
};

static void aead_free(struct aead *a)
{
	if (a == NULL)
		return;
	EVP_CIPHER_CTX_free(a->ctx);
	free(a->held); /* ciphertext only */
	cf_free_wiped(a, sizeof(*a));
}

static bool tag_bits_ok(CK_ULONG bits)
{
	switch (bits) {
	case 32:
	case 64:
	case 96:
	case 104:
	case 112:
	case 120:
	case 128:
		return true;
	default:
		return false;
	}
}

static bool nonce_len_ok(bool gcm, CK_ULONG len)
{
	if (gcm)
		return len >= 1 && len <= GCM_IV_MAX;
	/* 8: the original 64-bit nonce; OpenSSL zero-extends it to 96 bits,
	 * which is the same cipher up to 2^32 blocks. */
	return len == 12 || len == 8;
}

/* Sets a new IV (and its length) on a keyed context, or key and IV. */
static CK_RV aead_set_iv(struct aead *a, const EVP_CIPHER *cipher,
			 const uint8_t *key, const uint8_t *iv, size_t ivlen)
{
	if (ivlen != a->ivlen) {
		if (cipher != NULL &&
		    EVP_CipherInit_ex2(a->ctx, cipher, NULL, NULL, a->enc,
				       NULL) != 1)
			return CKR_GENERAL_ERROR;
		cipher = NULL;
		if (EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_IVLEN,
					(int)ivlen, NULL) != 1)
			return CKR_GENERAL_ERROR;
		a->ivlen = ivlen;
	}
	if (EVP_CipherInit_ex2(a->ctx, cipher, key, iv, a->enc, NULL) != 1)
		return CKR_GENERAL_ERROR;
	return CKR_OK;
}

static CK_RV aead_aad(struct aead *a, const uint8_t *ad, size_t adl)
{
	size_t n;

	if (adl == 0)
		return CKR_OK;
	return evp_update(a->ctx, NULL, &n, ad, adl) ? CKR_OK
						      : CKR_GENERAL_ERROR;
}

/* The single- and multi-part parameters: nonce, AAD, tag length. */
static CK_RV aead_params(bool gcm, const CK_MECHANISM *m, const uint8_t **iv,
			 size_t *ivlen, const uint8_t **ad, size_t *adl,
			 size_t *taglen)
{
	const CK_GCM_PARAMS *g;
	const CK_SALSA20_CHACHA20_POLY1305_PARAMS *c;

	if (m->pParameter == NULL)
		return CKR_MECHANISM_PARAM_INVALID;
	if (gcm) {
		if (m->ulParameterLen != sizeof(*g))
			return CKR_MECHANISM_PARAM_INVALID;
		g = m->pParameter;
		/* ulIvBits is ignored: clients set it inconsistently. */
		if (g->pIv == NULL || !nonce_len_ok(true, g->ulIvLen) ||
		    !tag_bits_ok(g->ulTagBits) ||
		    (g->pAAD == NULL && g->ulAADLen > 0))
			return CKR_MECHANISM_PARAM_INVALID;
		*iv = g->pIv;
		*ivlen = g->ulIvLen;
		*ad = g->pAAD;
		*adl = g->ulAADLen;
		*taglen = g->ulTagBits / 8;
		return CKR_OK;
	}
	if (m->ulParameterLen != sizeof(*c))
		return CKR_MECHANISM_PARAM_INVALID;
	c = m->pParameter;
	if (c->pNonce == NULL || !nonce_len_ok(false, c->ulNonceLen) ||
	    (c->pAAD == NULL && c->ulAADLen > 0))
		return CKR_MECHANISM_PARAM_INVALID;
	*iv = c->pNonce;
	*ivlen = c->ulNonceLen;
	*ad = c->pAAD;
	*adl = c->ulAADLen;
	*taglen = 16;
	return CKR_OK;
}

static CK_RV aead_init(struct cf_op *op, const CK_MECHANISM *m,
		       const struct cf_key *key)
{
	const struct cf_sym_alg *alg = alg_of(m->mechanism);
	bool msg = op->kind == CF_OP_MSG_ENCRYPT ||
		   op->kind == CF_OP_MSG_DECRYPT;
	const uint8_t *iv = NULL, *ad = NULL;
	size_t ivlen = 0, adl = 0, taglen = 0;
	const EVP_CIPHER *cipher;
	const char *name;
	struct aead *a;
	CK_RV rv;

	if (alg == NULL || key == NULL || key->value == NULL)
		return CKR_GENERAL_ERROR;
	name = cipher_name(alg, key->value_len);
	if (name == NULL)
		return CKR_KEY_SIZE_RANGE;
	/* The message form takes its parameters per message. */
	if (!msg) {
		rv = aead_params(alg->mode == CF_SYM_GCM, m, &iv, &ivlen, &ad,
				 &adl, &taglen);
		if (rv != CKR_OK)
			return rv;
		if (adl > INT_MAX)
			return CKR_MECHANISM_PARAM_INVALID;
	}
	cipher = cf_cipher(name);
	if (cipher == NULL)
		return CKR_GENERAL_ERROR;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return CKR_HOST_MEMORY;
	a->enc = is_enc(op->kind);
	a->gcm = alg->mode == CF_SYM_GCM;
	a->taglen = taglen;
	a->ivlen = (size_t)EVP_CIPHER_get_iv_length(cipher);
	rv = CKR_HOST_MEMORY;
	a->ctx = EVP_CIPHER_CTX_new();
	if (a->ctx == NULL)
		goto out_free;
	if (msg) {
		rv = EVP_CipherInit_ex2(a->ctx, cipher, key->value, NULL,
					a->enc, NULL) == 1
			 ? CKR_OK
			 : CKR_GENERAL_ERROR;
	} else {
		rv = aead_set_iv(a, cipher, key->value, iv, ivlen);
		if (rv == CKR_OK)
			rv = aead_aad(a, ad, adl);
	}
	if (rv != CKR_OK)
		goto out_free;
	op->ctx = a;
	return CKR_OK;

out_free:
	aead_free(a);
	return rv;
}

/* Seals in into out (inl bytes) and the tag into tag. */
static CK_RV aead_seal(struct aead *a, const uint8_t *in, size_t inl,
		       uint8_t *out, uint8_t *tag)
{
	size_t n1, n2;

	if (!evp_update(a->ctx, out, &n1, in, inl) ||
	    !evp_final(a->ctx, out + n1, &n2) || n1 + n2 != inl ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, (int)a->taglen,
				tag) != 1)
		return CKR_GENERAL_ERROR;
	return CKR_OK;
}

/* Opens in1 || in2 into out (as long as both), checking tag; on failure
 * wipes out. */
static CK_RV aead_open(struct aead *a, const uint8_t *in1, size_t l1,
		       const uint8_t *in2, size_t l2, const uint8_t *tag,
		       uint8_t *out)
{
	size_t n1 = 0, n2 = 0, n3 = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	/* OpenSSL copies the tag. */
	if (EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, (int)a->taglen,
				(void *)tag) != 1 ||
	    !evp_update(a->ctx, out, &n1, in1, l1) ||
	    !evp_update(a->ctx, out + n1, &n2, in2, l2))
		goto out_wipe;
	if (!evp_final(a->ctx, out + n1 + n2, &n3)) {
		rv = CKR_ENCRYPTED_DATA_INVALID;
		goto out_wipe;
	}
	if (n1 + n2 + n3 == l1 + l2)
		return CKR_OK;
out_wipe:
	cf_wipe(out, l1 + l2);
	return rv;
}

static CK_RV aead_oneshot(struct cf_op *op, const uint8_t *in, size_t inl,
			  uint8_t *out, CK_ULONG *outl)
{
	struct aead *a = op->ctx;
	bool go;
	CK_RV rv;

	if (a->enc) {
		rv = cf_out_check(out, outl, inl + a->taglen, &go);
		if (!go)
			return rv;
		rv = aead_seal(a, in, inl, out, out + inl);
		if (rv == CKR_OK)
			*outl = (CK_ULONG)(inl + a->taglen);
		return rv;
	}
	if (inl < a->taglen)
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	rv = cf_out_check(out, outl, inl - a->taglen, &go);
	if (!go)
		return rv;
	rv = aead_open(a, in, inl - a->taglen, NULL, 0, in + inl - a->taglen,
		       out);
	if (rv == CKR_OK)
		*outl = (CK_ULONG)(inl - a->taglen);
	return rv;
}

/* Decryption: keeps the ciphertext until the tag can be checked. */
static CK_RV aead_hold(struct aead *a, const uint8_t *in, size_t inl)
{
	size_t ncap;
	uint8_t *grown;

	if (inl > AEAD_HOLD_MAX - a->nheld)
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	if (inl > a->cap - a->nheld) {
		ncap = a->cap ? a->cap : 256;
		while (ncap - a->nheld < inl)
			ncap *= 2;
		grown = realloc(a->held, ncap);
		if (grown == NULL)
			return CKR_HOST_MEMORY;
		a->held = grown;
		a->cap = ncap;
	}
	if (inl > 0)
		memcpy(a->held + a->nheld, in, inl);
	a->nheld += inl;
	return CKR_OK;
}

static CK_RV aead_update(struct cf_op *op, const uint8_t *in, size_t inl,
			 uint8_t *out, CK_ULONG *outl)
{
	struct aead *a = op->ctx;
	size_t n;
	bool go;
	CK_RV rv = cf_out_check(out, outl, a->enc ? inl : 0, &go);

	if (!go)
		return rv;
	if (!a->enc) {
		rv = aead_hold(a, in, inl);
		if (rv == CKR_OK)
			*outl = 0;
		return rv;
	}
	if (!evp_update(a->ctx, out, &n, in, inl) || n != inl)
		return CKR_GENERAL_ERROR;
	*outl = (CK_ULONG)n;
	return CKR_OK;
}

static CK_RV aead_final(struct cf_op *op, uint8_t *out, CK_ULONG *outl)
{
	struct aead *a = op->ctx;
	size_t n;
	bool go;
	CK_RV rv;

	if (a->enc) {
		rv = cf_out_check(out, outl, a->taglen, &go);
		if (!go)
			return rv;
		if (!evp_final(a->ctx, out, &n) || n != 0 ||
		    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG,
					(int)a->taglen, out) != 1)
			return CKR_GENERAL_ERROR;
		*outl = (CK_ULONG)a->taglen;
		return CKR_OK;
	}
	return aead_oneshot(op, a->held, a->nheld, out, outl);
}

static void aead_op_free(struct cf_op *op)
{
	aead_free(op->ctx);
	op->ctx = NULL;
}

/* ---- the message form (v3.0 base 5.9, 5.11) ------------------------------ */

/* One message's parameters, checked. */
struct msg {
	uint8_t *iv; /* the caller's: generated IVs are written back */
	size_t ivlen;
	size_t fixed_bits;
	CK_GENERATOR_FUNCTION gen;
	uint8_t *tag;
	size_t taglen;
};

static CK_RV msg_params(const struct aead *a, void *param, CK_ULONG plen,
			struct msg *p)
{
	CK_GCM_MESSAGE_PARAMS *g = param;
	CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS *c = param;

	memset(p, 0, sizeof(*p));
	if (param == NULL)
		return CKR_MECHANISM_PARAM_INVALID;
	if (!a->gcm) {
		if (plen != sizeof(*c) || c->pNonce == NULL ||
		    c->pTag == NULL || !nonce_len_ok(false, c->ulNonceLen))
			return CKR_MECHANISM_PARAM_INVALID;
		*p = (struct msg){.iv = c->pNonce,
				  .ivlen = c->ulNonceLen,
				  .gen = CKG_NO_GENERATE,
				  .tag = c->pTag,
				  .taglen = 16};
		return CKR_OK;
	}
	if (plen != sizeof(*g) || g->pIv == NULL || g->pTag == NULL ||
	    !nonce_len_ok(true, g->ulIvLen) || !tag_bits_ok(g->ulTagBits))
		return CKR_MECHANISM_PARAM_INVALID;
	*p = (struct msg){.iv = g->pIv,
			  .ivlen = g->ulIvLen,
			  .fixed_bits = g->ulIvFixedBits,
			  .gen = a->enc ? g->ivGenerator : CKG_NO_GENERATE,
			  .tag = g->pTag,
			  .taglen = g->ulTagBits / 8};
	switch (p->gen) {
	case CKG_NO_GENERATE:
		return CKR_OK;
	case CKG_GENERATE:
	case CKG_GENERATE_COUNTER:
	case CKG_GENERATE_RANDOM:
		/* at least one bit for the token to choose */
		return p->fixed_bits < p->ivlen * 8
			   ? CKR_OK
			   : CKR_MECHANISM_PARAM_INVALID;
	default:
		return CKR_MECHANISM_PARAM_INVALID;
	}
}

static void put_bit(uint8_t *v, size_t pos, unsigned bit)
{
	uint8_t mask = (uint8_t)(0x80u >> (pos % 8));

	v[pos / 8] = (uint8_t)(bit ? v[pos / 8] | mask : v[pos / 8] & ~mask);
}

/* Fills the IV bits after the fixed ones, as p->gen says, in place. */
static CK_RV msg_make_iv(struct aead *a, const struct msg *p)
{
	uint8_t gen[GCM_IV_MAX];
	size_t bits = p->ivlen * 8, free_bits = bits - p->fixed_bits, cbits;
	uint64_t v;

	if (p->gen == CKG_NO_GENERATE)
		return CKR_OK;
	if (p->gen == CKG_GENERATE_RANDOM) {
		if (!cf_random(gen, p->ivlen))
			return CKR_FUNCTION_FAILED;
	} else {
		if (!a->seeded) {
			if (!cf_random(a->filler, sizeof(a->filler)) ||
			    !cf_random(&a->ctr_start, sizeof(a->ctr_start)))
				return CKR_FUNCTION_FAILED;
			a->seeded = true;
		}
		cbits = free_bits < 64 ? free_bits : 64;
		/* Every counter value used: refuse rather than repeat. */
		if (cbits < 64 && a->ctr_count >= (uint64_t)1 << cbits)
			return CKR_FUNCTION_FAILED;
		v = a->ctr_start + a->ctr_count;
		a->ctr_count++;
		memcpy(gen, a->filler, p->ivlen);
		for (size_t i = 0; i < cbits; i++)
			put_bit(gen, bits - 1 - i, (unsigned)(v >> i) & 1);
	}
	for (size_t pos = p->fixed_bits; pos < bits; pos++)
		put_bit(p->iv, pos,
			(gen[pos / 8] >> (7 - pos % 8)) & 1u);
	return CKR_OK;
}

/* Starts a message: IV (generated and written back when asked), AAD. */
static CK_RV msg_start(struct aead *a, const struct msg *p, const uint8_t *ad,
		       size_t adl)
{
	CK_RV rv = msg_make_iv(a, p);

	if (rv == CKR_OK)
		rv = aead_set_iv(a, NULL, NULL, p->iv, p->ivlen);
	if (rv == CKR_OK)
		rv = aead_aad(a, ad, adl);
	a->taglen = p->taglen;
	a->nheld = 0;
	return rv;
}

static CK_RV aead_message(struct cf_op *op, void *param, CK_ULONG plen,
			  const uint8_t *ad, size_t adl, const uint8_t *in,
			  size_t inl, uint8_t *out, CK_ULONG *outl)
{
	struct aead *a = op->ctx;
	struct msg p;
	bool go;
	CK_RV rv = msg_params(a, param, plen, &p);

	if (rv != CKR_OK)
		return rv;
	rv = cf_out_check(out, outl, inl, &go);
	if (!go)
		return rv;
	rv = msg_start(a, &p, ad, adl);
	if (rv != CKR_OK)
		return rv;
	if (a->enc)
		rv = aead_seal(a, in, inl, out, p.tag);
	else
		rv = aead_open(a, in, inl, NULL, 0, p.tag, out);
	if (rv == CKR_OK)
		*outl = (CK_ULONG)inl;
	return rv;
}

static CK_RV aead_message_begin(struct cf_op *op, void *param, CK_ULONG plen,
				const uint8_t *ad, size_t adl)
{
	struct aead *a = op->ctx;
	struct msg p;
	CK_RV rv = msg_params(a, param, plen, &p);

	if (rv != CKR_OK)
		return rv;
	return msg_start(a, &p, ad, adl);
}

static CK_RV aead_message_next(struct cf_op *op, void *param, CK_ULONG plen,
			       const uint8_t *in, size_t inl, uint8_t *out,
			       CK_ULONG *outl, CK_FLAGS flags)
{
	struct aead *a = op->ctx;
	bool end = (flags & CKF_END_OF_MESSAGE) != 0;
	size_t need, n;
	struct msg p;
	bool go;
	CK_RV rv = msg_params(a, param, plen, &p);

	if (rv != CKR_OK)
		return rv;
	if (a->enc)
		need = inl;
	else
		need = end ? a->nheld + inl : 0;
	rv = cf_out_check(out, outl, need, &go);
	if (!go)
		return rv;
	if (!a->enc && !end) {
		rv = aead_hold(a, in, inl);
		if (rv == CKR_OK)
			*outl = 0;
		return rv;
	}
	if (!a->enc) {
		/* the tag length of the message's Begin */
		rv = aead_open(a, a->held, a->nheld, in, inl, p.tag, out);
		a->nheld = 0;
	} else if (end) {
		rv = aead_seal(a, in, inl, out, p.tag);
	} else {
		rv = evp_update(a->ctx, out, &n, in, inl) && n == inl
			 ? CKR_OK
			 : CKR_GENERAL_ERROR;
	}
	if (rv == CKR_OK)
		*outl = (CK_ULONG)need;
	return rv;
}

const struct cf_mech_ops cf_sym_aead_ops = {
    .init = aead_init,
    .oneshot = aead_oneshot,
    .update = aead_update,
    .final = aead_final,
    .message = aead_message,
    .message_begin = aead_message_begin,
    .message_next = aead_message_next,
    .free = aead_op_free,
};

/* ---- key generation ----------------------------------------------------- */

static bool odd_parity(uint8_t b)
{
	b ^= (uint8_t)(b >> 4);
	b ^= (uint8_t)(b >> 2);
	b ^= (uint8_t)(b >> 1);
	return b & 1;
}

CK_RV cf_sym_generate_value(struct cf_object *key, size_t len,
			    bool des_parity)
{
	uint8_t v[32];
	CK_RV rv = CKR_FUNCTION_FAILED;

	if (len > sizeof(v))
		return CKR_GENERAL_ERROR;
	if (!cf_random(v, len))
		goto out_wipe;
	/* DES keys carry odd parity in the low bit of each byte. */
	for (size_t i = 0; des_parity && i < len; i++)
		if (!odd_parity(v[i]))
			v[i] ^= 1;
	rv = cf_object_set(key, CKA_VALUE, v, (CK_ULONG)len);
out_wipe:
	cf_wipe(v, sizeof(v));
	return rv;
}

/* 2.9.3: CKA_VALUE_LEN (required by the rules) says 16, 24 or 32. */
static CK_RV aes_generate(const CK_MECHANISM *m, struct cf_object *key)
{
	CK_ULONG len = cf_object_ulong(key, CKA_VALUE_LEN, 0);

	(void)m;
	if (len != 16 && len != 24 && len != 32)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	return cf_sym_generate_value(key, len, false);
}

static const struct cf_mech_ops aes_keygen_ops = {.generate = aes_generate};

/* ---- the rows ----------------------------------------------------------- */

#define AES_NAMES(mode)                                                        \
	{                                                                      \
		"AES-128-" mode, "AES-192-" mode, "AES-256-" mode              \
	}

static const struct cf_sym_alg aes_ecb = {CF_SYM_ECB, AES_NAMES("ECB")};
static const struct cf_sym_alg aes_cbc = {CF_SYM_CBC, AES_NAMES("CBC")};
static const struct cf_sym_alg aes_cbc_pad = {CF_SYM_CBC_PAD,
					      AES_NAMES("CBC")};
static const struct cf_sym_alg aes_ctr = {CF_SYM_CTR, AES_NAMES("CTR")};
static const struct cf_sym_alg aes_gcm = {CF_SYM_GCM, AES_NAMES("GCM")};

#define AES_KEYS                                                               \
	{                                                                      \
		CKK_AES, CF_MECH_KEY_TYPES_END                                 \
	}
#define CRYPT (CKF_ENCRYPT | CKF_DECRYPT)
#define WRAP (CKF_WRAP | CKF_UNWRAP)
#define MESSAGE (CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT | CKF_MULTI_MESSAGE)

static const struct cf_mech rows[] = {
    {CKM_AES_KEY_GEN, {16, 32, CKF_GENERATE}, AES_KEYS, &aes_keygen_ops, NULL,
     false},
    {CKM_AES_ECB, {16, 32, CRYPT | WRAP}, AES_KEYS, &cf_sym_block_ops,
     &aes_ecb, false},
    {CKM_AES_CBC, {16, 32, CRYPT | WRAP}, AES_KEYS, &cf_sym_block_ops,
     &aes_cbc, false},
    {CKM_AES_CBC_PAD, {16, 32, CRYPT | WRAP}, AES_KEYS, &cf_sym_block_ops,
     &aes_cbc_pad, false},
    {CKM_AES_CTR, {16, 32, CRYPT}, AES_KEYS, &cf_sym_block_ops, &aes_ctr,
     false},
    {CKM_AES_GCM, {16, 32, CRYPT | MESSAGE}, AES_KEYS, &cf_sym_aead_ops,
     &aes_gcm, false},
};

const struct cf_mech_family cf_mechs_aes = {rows, sizeof(rows) / sizeof(rows[0])};
