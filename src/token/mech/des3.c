/*
 * des3.c - triple DES (PKCS#11 v3.0 mechanisms 2.20; legacy: every row is
 * off when the configuration says legacy = no): key generation, ECB, CBC,
 * CBC_PAD, and wrapping with them, through the block engine of aes.c
 * (sym.h).
 */
#include "token/mech/sym.h"

/* 24 bytes with odd parity. Weak or repeated DES keys are not screened:
 * with 168 random bits the chance of one is negligible. */
static CK_RV des3_generate(const CK_MECHANISM *m, struct cf_object *key)
{
	(void)m;
	return cf_sym_generate_value(key, 24, true);
}

static const struct cf_mech_ops des3_keygen_ops = {.generate = des3_generate};

static const struct cf_sym_alg des3_ecb = {CF_SYM_ECB,
					   {NULL, "DES-EDE3-ECB", NULL}};
static const struct cf_sym_alg des3_cbc = {CF_SYM_CBC,
					   {NULL, "DES-EDE3-CBC", NULL}};
static const struct cf_sym_alg des3_cbc_pad = {CF_SYM_CBC_PAD,
					       {NULL, "DES-EDE3-CBC", NULL}};

#define DES3_KEYS                                                              \
	{                                                                      \
		CKK_DES3, CF_MECH_KEY_TYPES_END                                \
	}
#define USES (CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP)

static const struct cf_mech rows[] = {
    {CKM_DES3_KEY_GEN, {24, 24, CKF_GENERATE}, DES3_KEYS, &des3_keygen_ops,
     NULL, true},
    {CKM_DES3_ECB, {24, 24, USES}, DES3_KEYS, &cf_sym_block_ops, &des3_ecb,
     true},
    {CKM_DES3_CBC, {24, 24, USES}, DES3_KEYS, &cf_sym_block_ops, &des3_cbc,
     true},
    {CKM_DES3_CBC_PAD, {24, 24, USES}, DES3_KEYS, &cf_sym_block_ops,
     &des3_cbc_pad, true},
};

const struct cf_mech_family cf_mechs_des3 = {rows,
					     sizeof(rows) / sizeof(rows[0])};
