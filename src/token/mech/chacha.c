/*
 * chacha.c - ChaCha20-Poly1305 (PKCS#11 v3.0 mechanisms 2.53, 2.56): key
 * generation and the AEAD, single-, multi-part and message-based, through
 * the engine of aes.c (sym.h). Nonces of 12 bytes (RFC 8439) or 8.
 */
#include "token/mech/sym.h"

/* The key is 32 bytes; CKA_VALUE_LEN, when given, must say so. */
static CK_RV chacha_generate(const CK_MECHANISM *m, struct cf_object *key)
{
	CK_ULONG len = cf_object_ulong(key, CKA_VALUE_LEN, 32);

	(void)m;
	if (len != 32)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	return cf_sym_generate_value(key, 32, false);
}

static const struct cf_mech_ops chacha_keygen_ops = {
    .generate = chacha_generate,
};

static const struct cf_sym_alg chacha20_poly1305 = {
    CF_SYM_CHACHA20_POLY1305, {NULL, NULL, "ChaCha20-Poly1305"}};

#define CHACHA_KEYS                                                            \
	{                                                                      \
		CKK_CHACHA20, CF_MECH_KEY_TYPES_END                            \
	}

static const struct cf_mech rows[] = {
    {CKM_CHACHA20_KEY_GEN, {32, 32, CKF_GENERATE}, CHACHA_KEYS,
     &chacha_keygen_ops, NULL, false},
    {CKM_CHACHA20_POLY1305,
     {32, 32,
      CKF_ENCRYPT | CKF_DECRYPT | CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT |
	  CKF_MULTI_MESSAGE},
     CHACHA_KEYS, &cf_sym_aead_ops, &chacha20_poly1305, false},
};

const struct cf_mech_family cf_mechs_chacha = {rows,
					       sizeof(rows) / sizeof(rows[0])};
