/*
 * params.c - the layout of every mechanism parameter coffer carries (see
 * params.h).
 *
 * Two tables, each sorted by mechanism value so that a lookup is a
 * bsearch; test_params checks the order, that no mechanism appears twice,
 * and that every field lies inside its structure. Offsets come from
 * offsetof on the real structures, so the table cannot drift from the
 * header the code is compiled against.
 *
 * A length member is not listed as a field of its own: the CF_PF_BYTES
 * field that it measures carries it (len_off), so the codec writes each
 * length once and the receiver cannot be handed a length that disagrees
 * with the bytes that follow.
 */
#include "pkcs11/params.h"

#include <stdlib.h>

#define F_ULONG(S, m)                                                          \
	{                                                                      \
		.name = #m, .kind = CF_PF_ULONG, .off = offsetof(S, m),        \
		.len_off = CF_PF_NO_LEN                                        \
	}
#define F_HANDLE(S, m)                                                         \
	{                                                                      \
		.name = #m, .kind = CF_PF_HANDLE, .off = offsetof(S, m),       \
		.len_off = CF_PF_NO_LEN                                        \
	}
#define F_BOOL(S, m)                                                           \
	{                                                                      \
		.name = #m, .kind = CF_PF_BOOL, .off = offsetof(S, m),         \
		.len_off = CF_PF_NO_LEN                                        \
	}
#define F_BYTES(S, m, l)                                                       \
	{                                                                      \
		.name = #m, .kind = CF_PF_BYTES, .off = offsetof(S, m),        \
		.len_off = offsetof(S, l)                                      \
	}
#define F_INOUT(S, m, l)                                                       \
	{                                                                      \
		.name = #m, .kind = CF_PF_BYTES, .off = offsetof(S, m),        \
		.len_off = offsetof(S, l), .inout = true                       \
	}
#define F_INOUT_BITS(S, m, l)                                                  \
	{                                                                      \
		.name = #m, .kind = CF_PF_BYTES, .off = offsetof(S, m),        \
		.len_off = offsetof(S, l), .len_in_bits = true, .inout = true  \
	}
#define F_INOUT_FIXED(S, m, n)                                                 \
	{                                                                      \
		.name = #m, .kind = CF_PF_BYTES, .off = offsetof(S, m),        \
		.len_off = CF_PF_NO_LEN, .fixed_len = (n), .inout = true       \
	}
#define F_ARRAY(S, m)                                                          \
	{                                                                      \
		.name = #m, .kind = CF_PF_ARRAY, .off = offsetof(S, m),        \
		.len_off = CF_PF_NO_LEN, .fixed_len = sizeof(((S *)0)->m)      \
	}

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))
#define STRUCT_TYPE(var, S, fs)                                                \
	static const struct cf_param_type var = {                              \
	    .name = #S,                                                        \
	    .shape = CF_PARAM_STRUCT,                                          \
	    .size = sizeof(S),                                                 \
	    .fields = fs,                                                      \
	    .nfields = NFIELDS(fs),                                            \
	}

/* ---- the parameter types ---------------------------------------------- */

static const struct cf_param_type t_bytes = {
    .name = "CK_BYTE[]", /* IVs, nonces, optional key wrap IVs */
    .shape = CF_PARAM_BYTES,
};

static const struct cf_param_type t_mac_general = {
    .name = "CK_MAC_GENERAL_PARAMS",
    .shape = CF_PARAM_ULONG,
    .size = sizeof(CK_ULONG),
};

static const struct cf_param_type t_extract = {
    .name = "CK_EXTRACT_PARAMS",
    .shape = CF_PARAM_ULONG,
    .size = sizeof(CK_ULONG),
};

static const struct cf_param_type t_key_handle = {
    .name = "CK_OBJECT_HANDLE", /* CKM_CONCATENATE_BASE_AND_KEY */
    .shape = CF_PARAM_ULONG,
    .size = sizeof(CK_OBJECT_HANDLE),
};

static const struct cf_pfield f_pss[] = {
    F_ULONG(CK_RSA_PKCS_PSS_PARAMS, hashAlg),
    F_ULONG(CK_RSA_PKCS_PSS_PARAMS, mgf),
    F_ULONG(CK_RSA_PKCS_PSS_PARAMS, sLen),
};
STRUCT_TYPE(t_pss, CK_RSA_PKCS_PSS_PARAMS, f_pss);

static const struct cf_pfield f_oaep[] = {
    F_ULONG(CK_RSA_PKCS_OAEP_PARAMS, hashAlg),
    F_ULONG(CK_RSA_PKCS_OAEP_PARAMS, mgf),
    F_ULONG(CK_RSA_PKCS_OAEP_PARAMS, source),
    F_BYTES(CK_RSA_PKCS_OAEP_PARAMS, pSourceData, ulSourceDataLen),
};
STRUCT_TYPE(t_oaep, CK_RSA_PKCS_OAEP_PARAMS, f_oaep);

static const struct cf_pfield f_ctr[] = {
    F_ULONG(CK_AES_CTR_PARAMS, ulCounterBits),
    F_ARRAY(CK_AES_CTR_PARAMS, cb),
};
STRUCT_TYPE(t_ctr, CK_AES_CTR_PARAMS, f_ctr);

static const struct cf_pfield f_gcm[] = {
    F_BYTES(CK_GCM_PARAMS, pIv, ulIvLen),
    F_ULONG(CK_GCM_PARAMS, ulIvBits),
    F_BYTES(CK_GCM_PARAMS, pAAD, ulAADLen),
    F_ULONG(CK_GCM_PARAMS, ulTagBits),
};
STRUCT_TYPE(t_gcm, CK_GCM_PARAMS, f_gcm);

/* libcoffer.so has no CCM: the rows let a vendor HSM's CCM cross cofferd
 * and the spy show its parameters. */
static const struct cf_pfield f_ccm[] = {
    F_ULONG(CK_CCM_PARAMS, ulDataLen),
    F_BYTES(CK_CCM_PARAMS, pNonce, ulNonceLen),
    F_BYTES(CK_CCM_PARAMS, pAAD, ulAADLen),
    F_ULONG(CK_CCM_PARAMS, ulMACLen),
};
STRUCT_TYPE(t_ccm, CK_CCM_PARAMS, f_ccm);

static const struct cf_pfield f_chachapoly[] = {
    F_BYTES(CK_SALSA20_CHACHA20_POLY1305_PARAMS, pNonce, ulNonceLen),
    F_BYTES(CK_SALSA20_CHACHA20_POLY1305_PARAMS, pAAD, ulAADLen),
};
STRUCT_TYPE(t_chachapoly, CK_SALSA20_CHACHA20_POLY1305_PARAMS, f_chachapoly);

static const struct cf_pfield f_ecdh[] = {
    F_ULONG(CK_ECDH1_DERIVE_PARAMS, kdf),
    F_BYTES(CK_ECDH1_DERIVE_PARAMS, pSharedData, ulSharedDataLen),
    F_BYTES(CK_ECDH1_DERIVE_PARAMS, pPublicData, ulPublicDataLen),
};
STRUCT_TYPE(t_ecdh, CK_ECDH1_DERIVE_PARAMS, f_ecdh);

static const struct cf_pfield f_eddsa[] = {
    F_BOOL(CK_EDDSA_PARAMS, phFlag),
    F_BYTES(CK_EDDSA_PARAMS, pContextData, ulContextDataLen),
};
STRUCT_TYPE(t_eddsa, CK_EDDSA_PARAMS, f_eddsa);

static const struct cf_pfield f_hkdf[] = {
    F_BOOL(CK_HKDF_PARAMS, bExtract),
    F_BOOL(CK_HKDF_PARAMS, bExpand),
    F_ULONG(CK_HKDF_PARAMS, prfHashMechanism),
    F_ULONG(CK_HKDF_PARAMS, ulSaltType),
    F_BYTES(CK_HKDF_PARAMS, pSalt, ulSaltLen),
    F_HANDLE(CK_HKDF_PARAMS, hSaltKey),
    F_BYTES(CK_HKDF_PARAMS, pInfo, ulInfoLen),
};
STRUCT_TYPE(t_hkdf, CK_HKDF_PARAMS, f_hkdf);

static const struct cf_pfield f_string_data[] = {
    F_BYTES(CK_KEY_DERIVATION_STRING_DATA, pData, ulLen),
};
STRUCT_TYPE(t_string_data, CK_KEY_DERIVATION_STRING_DATA, f_string_data);

static const struct cf_pfield f_aes_cbc_data[] = {
    F_ARRAY(CK_AES_CBC_ENCRYPT_DATA_PARAMS, iv),
    F_BYTES(CK_AES_CBC_ENCRYPT_DATA_PARAMS, pData, length),
};
STRUCT_TYPE(t_aes_cbc_data, CK_AES_CBC_ENCRYPT_DATA_PARAMS, f_aes_cbc_data);

static const struct cf_pfield f_des_cbc_data[] = {
    F_ARRAY(CK_DES_CBC_ENCRYPT_DATA_PARAMS, iv),
    F_BYTES(CK_DES_CBC_ENCRYPT_DATA_PARAMS, pData, length),
};
STRUCT_TYPE(t_des_cbc_data, CK_DES_CBC_ENCRYPT_DATA_PARAMS, f_des_cbc_data);

/* ---- message parameters (C_EncryptMessage and friends) ----------------- */

static const struct cf_pfield f_gcm_msg[] = {
    F_INOUT(CK_GCM_MESSAGE_PARAMS, pIv, ulIvLen),
    F_ULONG(CK_GCM_MESSAGE_PARAMS, ulIvFixedBits),
    F_ULONG(CK_GCM_MESSAGE_PARAMS, ivGenerator),
    F_INOUT_BITS(CK_GCM_MESSAGE_PARAMS, pTag, ulTagBits),
};
STRUCT_TYPE(t_gcm_msg, CK_GCM_MESSAGE_PARAMS, f_gcm_msg);

static const struct cf_pfield f_ccm_msg[] = {
    F_ULONG(CK_CCM_MESSAGE_PARAMS, ulDataLen),
    F_INOUT(CK_CCM_MESSAGE_PARAMS, pNonce, ulNonceLen),
    F_ULONG(CK_CCM_MESSAGE_PARAMS, ulNonceFixedBits),
    F_ULONG(CK_CCM_MESSAGE_PARAMS, nonceGenerator),
    F_INOUT(CK_CCM_MESSAGE_PARAMS, pMAC, ulMACLen),
};
STRUCT_TYPE(t_ccm_msg, CK_CCM_MESSAGE_PARAMS, f_ccm_msg);

/* The tag of ChaCha20-Poly1305 is always 16 bytes (RFC 8439 2.5). */
static const struct cf_pfield f_chachapoly_msg[] = {
    F_INOUT(CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS, pNonce, ulNonceLen),
    F_INOUT_FIXED(CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS, pTag, 16),
};
STRUCT_TYPE(t_chachapoly_msg, CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS,
	    f_chachapoly_msg);

/* ---- the mechanisms, sorted by value ------------------------------------ */

struct row {
	CK_MECHANISM_TYPE mech;
	const struct cf_param_type *type;
};

static const struct row mech_rows[] = {
    {CKM_RSA_PKCS_OAEP, &t_oaep},		     /* 0x9 */
    {CKM_RSA_PKCS_PSS, &t_pss},			     /* 0xd */
    {CKM_SHA1_RSA_PKCS_PSS, &t_pss},		     /* 0xe */
    {CKM_SHA256_RSA_PKCS_PSS, &t_pss},		     /* 0x43 */
    {CKM_SHA384_RSA_PKCS_PSS, &t_pss},		     /* 0x44 */
    {CKM_SHA512_RSA_PKCS_PSS, &t_pss},		     /* 0x45 */
    {CKM_SHA224_RSA_PKCS_PSS, &t_pss},		     /* 0x47 */
    {CKM_SHA512_224_HMAC_GENERAL, &t_mac_general},   /* 0x4a */
    {CKM_SHA512_256_HMAC_GENERAL, &t_mac_general},   /* 0x4e */
    {CKM_SHA512_T, &t_mac_general},		     /* 0x50: t in bits */
    {CKM_SHA512_T_HMAC_GENERAL, &t_mac_general},     /* 0x52 */
    {CKM_SHA3_256_RSA_PKCS_PSS, &t_pss},	     /* 0x63 */
    {CKM_SHA3_384_RSA_PKCS_PSS, &t_pss},	     /* 0x64 */
    {CKM_SHA3_512_RSA_PKCS_PSS, &t_pss},	     /* 0x65 */
    {CKM_SHA3_224_RSA_PKCS_PSS, &t_pss},	     /* 0x67 */
    {CKM_DES_CBC, &t_bytes},			     /* 0x122 */
    {CKM_DES_MAC_GENERAL, &t_mac_general},	     /* 0x124 */
    {CKM_DES_CBC_PAD, &t_bytes},		     /* 0x125 */
    {CKM_DES3_CBC, &t_bytes},			     /* 0x133 */
    {CKM_DES3_MAC_GENERAL, &t_mac_general},	     /* 0x135 */
    {CKM_DES3_CBC_PAD, &t_bytes},		     /* 0x136 */
    {CKM_DES3_CMAC_GENERAL, &t_mac_general},	     /* 0x137 */
    {CKM_MD5_HMAC_GENERAL, &t_mac_general},	     /* 0x212 */
    {CKM_SHA_1_HMAC_GENERAL, &t_mac_general},	     /* 0x222 */
    {CKM_RIPEMD128_HMAC_GENERAL, &t_mac_general},    /* 0x232 */
    {CKM_RIPEMD160_HMAC_GENERAL, &t_mac_general},    /* 0x242 */
    {CKM_SHA256_HMAC_GENERAL, &t_mac_general},	     /* 0x252 */
    {CKM_SHA224_HMAC_GENERAL, &t_mac_general},	     /* 0x257 */
    {CKM_SHA384_HMAC_GENERAL, &t_mac_general},	     /* 0x262 */
    {CKM_SHA512_HMAC_GENERAL, &t_mac_general},	     /* 0x272 */
    {CKM_SHA3_256_HMAC_GENERAL, &t_mac_general},     /* 0x2b2 */
    {CKM_SHA3_224_HMAC_GENERAL, &t_mac_general},     /* 0x2b7 */
    {CKM_SHA3_384_HMAC_GENERAL, &t_mac_general},     /* 0x2c2 */
    {CKM_SHA3_512_HMAC_GENERAL, &t_mac_general},     /* 0x2d2 */
    {CKM_CONCATENATE_BASE_AND_KEY, &t_key_handle},   /* 0x360 */
    {CKM_CONCATENATE_BASE_AND_DATA, &t_string_data}, /* 0x362 */
    {CKM_CONCATENATE_DATA_AND_BASE, &t_string_data}, /* 0x363 */
    {CKM_XOR_BASE_AND_DATA, &t_string_data},	     /* 0x364 */
    {CKM_EXTRACT_KEY_FROM_KEY, &t_extract},	     /* 0x365 */
    {CKM_ECDH1_DERIVE, &t_ecdh},		     /* 0x1050 */
    {CKM_ECDH1_COFACTOR_DERIVE, &t_ecdh},	     /* 0x1051 */
    {CKM_EDDSA, &t_eddsa},			     /* 0x1057 */
    {CKM_AES_CBC, &t_bytes},			     /* 0x1082 */
    {CKM_AES_MAC_GENERAL, &t_mac_general},	     /* 0x1084 */
    {CKM_AES_CBC_PAD, &t_bytes},		     /* 0x1085 */
    {CKM_AES_CTR, &t_ctr},			     /* 0x1086 */
    {CKM_AES_GCM, &t_gcm},			     /* 0x1087 */
    {CKM_AES_CCM, &t_ccm},			     /* 0x1088 */
    {CKM_AES_CTS, &t_bytes},			     /* 0x1089 */
    {CKM_AES_CMAC_GENERAL, &t_mac_general},	     /* 0x108b */
    {CKM_AES_GMAC, &t_bytes},			     /* 0x108e */
    {CKM_DES_ECB_ENCRYPT_DATA, &t_string_data},	     /* 0x1100 */
    {CKM_DES_CBC_ENCRYPT_DATA, &t_des_cbc_data},     /* 0x1101 */
    {CKM_DES3_ECB_ENCRYPT_DATA, &t_string_data},     /* 0x1102 */
    {CKM_DES3_CBC_ENCRYPT_DATA, &t_des_cbc_data},    /* 0x1103 */
    {CKM_AES_ECB_ENCRYPT_DATA, &t_string_data},	     /* 0x1104 */
    {CKM_AES_CBC_ENCRYPT_DATA, &t_aes_cbc_data},     /* 0x1105 */
    {CKM_AES_OFB, &t_bytes},			     /* 0x2104 */
    {CKM_AES_CFB64, &t_bytes},			     /* 0x2105 */
    {CKM_AES_CFB8, &t_bytes},			     /* 0x2106 */
    {CKM_AES_CFB128, &t_bytes},			     /* 0x2107 */
    {CKM_AES_CFB1, &t_bytes},			     /* 0x2108 */
    {CKM_AES_KEY_WRAP, &t_bytes},		     /* 0x2109 */
    {CKM_AES_KEY_WRAP_PAD, &t_bytes},		     /* 0x210a */
    {CKM_AES_KEY_WRAP_KWP, &t_bytes},		     /* 0x210b */
    {CKM_CHACHA20_POLY1305, &t_chachapoly},	     /* 0x4021 */
    {CKM_HKDF_DERIVE, &t_hkdf},			     /* 0x402a */
    {CKM_HKDF_DATA, &t_hkdf},			     /* 0x402b */
};

static const struct row msg_rows[] = {
    {CKM_AES_GCM, &t_gcm_msg},			/* 0x1087 */
    {CKM_AES_CCM, &t_ccm_msg},			/* 0x1088 */
    {CKM_CHACHA20_POLY1305, &t_chachapoly_msg}, /* 0x4021 */
};

static int by_mech(const void *key, const void *elem)
{
	CK_MECHANISM_TYPE k = *(const CK_MECHANISM_TYPE *)key;
	const struct row *r = elem;

	return k < r->mech ? -1 : k > r->mech;
}

static const struct cf_param_type *find(const struct row *rows, size_t n,
					CK_MECHANISM_TYPE mech)
{
	const struct row *r = bsearch(&mech, rows, n, sizeof(*rows), by_mech);

	return r != NULL ? r->type : NULL;
}

const struct cf_param_type *cf_p11_mech_param(CK_MECHANISM_TYPE mech)
{
	return find(mech_rows, NFIELDS(mech_rows), mech);
}

const struct cf_param_type *cf_p11_msg_param(CK_MECHANISM_TYPE mech)
{
	return find(msg_rows, NFIELDS(msg_rows), mech);
}

/* For test_params (declared there): row i of either table, to check the
 * order and the layout of every row. False past the end. */
bool cf_p11_param_row(bool msg, size_t i, CK_MECHANISM_TYPE *mech,
		      const struct cf_param_type **type);
bool cf_p11_param_row(bool msg, size_t i, CK_MECHANISM_TYPE *mech,
		      const struct cf_param_type **type)
{
	const struct row *rows = msg ? msg_rows : mech_rows;
	size_t n = msg ? NFIELDS(msg_rows) : NFIELDS(mech_rows);

	if (i >= n)
		return false;
	*mech = rows[i].mech;
	*type = rows[i].type;
	return true;
}
