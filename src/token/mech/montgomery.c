/*
 * montgomery.c - X25519 and X448 key pairs (PKCS#11 v3.0 Current Mechanisms
 * 2.3.7, 2.3.8, CKM_EC_MONTGOMERY_KEY_PAIR_GEN). Key agreement with them is
 * CKM_ECDH1_DERIVE, in ec.c.
 */
#include "token/mech/mech.h"

#include "token/mech/ec_util.h"

static CK_RV x_load(const struct cf_object *o, EVP_PKEY **out)
{
	return cf_ec_load(CKK_EC_MONTGOMERY, o, out);
}

static CK_RV x_store(EVP_PKEY *pk, struct cf_object *pub,
		     struct cf_object *priv)
{
	return cf_ec_store(CKK_EC_MONTGOMERY, pk, pub, priv);
}

static CK_ULONG x_bits(const EVP_PKEY *pk)
{
	return cf_ec_bits(CKK_EC_MONTGOMERY, pk);
}

const struct cf_keytype cf_keytype_montgomery = {CKK_EC_MONTGOMERY, x_load,
						 x_store, x_bits};

static CK_RV x_generate_pair(const CK_MECHANISM *m, struct cf_object *pub,
			     struct cf_object *priv)
{
	if (m->ulParameterLen != 0)
		return CKR_MECHANISM_PARAM_INVALID;
	return cf_ec_generate_pair(CKK_EC_MONTGOMERY, pub, priv);
}

static const struct cf_mech_ops keygen_ops = {
    .generate_pair = x_generate_pair,
};

/* Field sizes in bits: 255 for X25519, 448 for X448. */
static const struct cf_mech rows[] = {
    {CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
     {255, 448, CKF_GENERATE_KEY_PAIR | CKF_EC_OID | CKF_EC_CURVENAME},
     {CKK_EC_MONTGOMERY, CF_MECH_KEY_TYPES_END},
     &keygen_ops,
     NULL,
     false},
};

const struct cf_mech_family cf_mechs_montgomery = {
    rows, sizeof(rows) / sizeof(rows[0])};
