/*
 * sym.h - the symmetric cipher engine that aes.c implements and chacha.c
 * and des3.c share: block modes (ECB, CBC, CBC with PKCS#7 padding, CTR),
 * AEAD (GCM, ChaCha20-Poly1305, single-, multi-part and message-based) and
 * random secret-key generation. Private to the mechanism families.
 */
#ifndef CF_SYM_H
#define CF_SYM_H

#include <stdbool.h>
#include <stddef.h>

#include "token/mech/mech.h"

enum cf_sym_mode {
	CF_SYM_ECB,
	CF_SYM_CBC,
	CF_SYM_CBC_PAD,
	CF_SYM_CTR,
	CF_SYM_GCM,
	CF_SYM_CHACHA20_POLY1305,
};

/* A row's arg: the mode and the OpenSSL cipher for each key length (16,
 * 24, 32 bytes; NULL where the key type has no such length). The names
 * are string literals (cf_cipher keeps the pointer). */
struct cf_sym_alg {
	enum cf_sym_mode mode;
	const char *by_len[3];
};

/* Block modes: init, single- and multi-part, wrap and unwrap. */
extern const struct cf_mech_ops cf_sym_block_ops;
/* AEAD modes: init, single- and multi-part, and the message form. */
extern const struct cf_mech_ops cf_sym_aead_ops;

/* Fills CKA_VALUE of key with len random bytes (odd parity in each byte
 * when des_parity). CKR_FUNCTION_FAILED when the DRBG fails,
 * CKR_HOST_MEMORY. */
CK_RV cf_sym_generate_value(struct cf_object *key, size_t len,
			    bool des_parity) __attribute__((warn_unused_result));

#endif
