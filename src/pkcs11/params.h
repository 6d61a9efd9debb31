/*
 * params.h - the layout of every mechanism parameter coffer carries: which
 * structure a mechanism takes and, field by field, where its integers and
 * buffers sit. The wire codec encodes and decodes a CK_MECHANISM from this
 * table alone and the spy prints it, so a new mechanism parameter is one
 * row here. Constant data: thread-safe.
 */
#ifndef CF_PKCS11_PARAMS_H
#define CF_PKCS11_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "coffer/pkcs11.h"

enum cf_pfield_kind {
	CF_PF_ULONG,  /* CK_ULONG at off */
	CF_PF_HANDLE, /* CK_OBJECT_HANDLE at off (a key on the same token) */
	CF_PF_BOOL,   /* CK_BBOOL at off */
	CF_PF_BYTES,  /* pointer at off; its length is the CK_ULONG at len_off,
			 or fixed_len when len_off is CF_PF_NO_LEN; with
			 len_in_bits the length field counts bits */
	CF_PF_ARRAY,  /* fixed_len bytes inline at off (CK_AES_CTR_PARAMS.cb) */
};

#define CF_PF_NO_LEN ((size_t)-1)

struct cf_pfield {
	const char *name; /* the specification's member name, for the spy */
	enum cf_pfield_kind kind;
	size_t off;
	size_t len_off;	  /* CF_PF_BYTES: offset of the length member */
	size_t fixed_len; /* CF_PF_ARRAY, or CF_PF_BYTES without length */
	bool len_in_bits; /* CF_PF_BYTES: length member counts bits */
	bool inout;	  /* CF_PF_BYTES: the callee writes it back (message
			     IVs and tags); its content crosses both ways */
};

enum cf_param_shape {
	CF_PARAM_NONE,	 /* pParameter NULL, ulParameterLen 0 */
	CF_PARAM_BYTES,	 /* opaque bytes (IVs, nonces), may be empty */
	CF_PARAM_ULONG,	 /* one CK_ULONG (CK_MAC_GENERAL_PARAMS) */
	CF_PARAM_STRUCT, /* a structure described by fields */
};

struct cf_param_type {
	const char *name; /* "CK_GCM_PARAMS" */
	enum cf_param_shape shape;
	size_t size; /* sizeof the structure (CF_PARAM_STRUCT) */
	const struct cf_pfield *fields;
	size_t nfields;
};

/*
 * The parameter a mechanism takes in C_*Init, C_GenerateKey*, C_WrapKey,
 * C_UnwrapKey and C_DeriveKey. A mechanism that accepts either nothing or a
 * structure (CKM_EDDSA) reports the structure; a NULL parameter is always
 * carried as NULL. Returns NULL for a mechanism the table does not know:
 * callers then carry only a NULL parameter, because a foreign structure may
 * hold pointers that would be meaningless, or dangerous, on the other side.
 */
const struct cf_param_type *cf_p11_mech_param(CK_MECHANISM_TYPE mech);

/*
 * The per-message parameter of the message-based functions (C_EncryptMessage
 * and friends) under a message operation started with mech; NULL when the
 * table does not know it.
 */
const struct cf_param_type *cf_p11_msg_param(CK_MECHANISM_TYPE mech);

#endif
