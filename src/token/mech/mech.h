/*
 * mech.h - the mechanism registry and the interface every mechanism family
 * implements (one file per family in this folder: rsa, ec, eddsa,
 * montgomery, aes, chacha, des3, digest, hmac, kdf, wrap).
 *
 * The token core (crypto_api.c, keygen_api.c, wrap_api.c, message_api.c)
 * owns everything generic: argument checks, session and login state, the
 * object lookup, the key's class, type and usage attributes, the security
 * policy (policy.h), CKA_ALLOWED_MECHANISMS, CKA_ALWAYS_AUTHENTICATE, and
 * when an operation ends. A family owns the cryptography, its parameter
 * checks (CKR_MECHANISM_PARAM_INVALID), its key-size checks
 * (CKR_KEY_SIZE_RANGE) and its output lengths. All cryptography is OpenSSL 3
 * EVP in the private library context (common/crypto.h).
 *
 * Output convention of every function below that writes out / *outl
 * (PKCS#11 v3.0 base 5.2): with out NULL, set *outl to a length that
 * suffices (it may exceed the exact one by a little) and return CKR_OK,
 * changing nothing; when *outl is smaller than what is needed, set *outl to
 * the needed length and return CKR_BUFFER_TOO_SMALL, changing nothing (the
 * operation continues and a retry must give the same result); otherwise do
 * the work and set *outl to the bytes written. A family never decides
 * whether an operation ends: the core does, by the spec's rules.
 */
#ifndef CF_MECH_H
#define CF_MECH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "coffer/pkcs11.h"
#include "common/secmem.h"
#include "token/object.h"

/* The operations a session can have active, one of each kind at a time. */
enum cf_op_kind {
	CF_OP_ENCRYPT,
	CF_OP_DECRYPT,
	CF_OP_DIGEST,
	CF_OP_SIGN,
	CF_OP_VERIFY,
	CF_OP_SIGN_RECOVER,
	CF_OP_VERIFY_RECOVER,
	CF_OP_MSG_ENCRYPT,
	CF_OP_MSG_DECRYPT,
	CF_OP_KINDS
};

/*
 * A key as mechanism code sees it during init, generate, derive, wrap and
 * unwrap. Everything is borrowed for the duration of the call: a family
 * that needs the key afterwards takes its own reference (EVP_PKEY_up_ref)
 * or builds its OpenSSL context from it then.
 */
struct cf_key {
	/* The key object, for derive, wrap and unwrap (under the token lock)
	 * and for an init with a secret key. NULL in an init with an
	 * asymmetric key, which runs without the token lock (op.c). */
	const struct cf_object *obj;
	CK_OBJECT_CLASS cls;
	CK_KEY_TYPE type;
	/* Public and private keys: the OpenSSL key (cf_key_pkey), built once
	 * per object and cached. NULL for secret keys. */
	EVP_PKEY *pkey;
	/* Secret keys: CKA_VALUE, in secret memory. NULL/0 otherwise. */
	const uint8_t *value;
	size_t value_len;
};

struct cf_mech;

/* An active operation in a session (guarded by the session lock). */
struct cf_op {
	const struct cf_mech *mech; /* NULL: none active */
	enum cf_op_kind kind;
	void *ctx;	  /* the family's state, freed by ops->free */
	bool multi;	  /* an update was made: single-part calls refused */
	bool need_login;  /* CKA_ALWAYS_AUTHENTICATE: a CKU_CONTEXT_SPECIFIC
			     login is due before the next use */
	CK_OBJECT_HANDLE key; /* for the audit trail and C_SessionCancel */
};

struct cf_mech_ops {
	/*
	 * Starts an operation of op->kind with mechanism m (whose parameters
	 * are the caller's and must be validated: CKR_MECHANISM_PARAM_INVALID)
	 * on key (NULL for digests). Sets op->ctx, and frees whatever it set
	 * up when it fails. Under the session lock; also under the token lock
	 * for a secret key, whose value is borrowed from the object.
	 */
	CK_RV (*init)(struct cf_op *op, const CK_MECHANISM *m,
		      const struct cf_key *key);
	/* Single-part: C_Encrypt, C_Decrypt, C_Digest, C_Sign, C_SignRecover,
	 * C_VerifyRecover (in is the signature there). */
	CK_RV (*oneshot)(struct cf_op *op, const uint8_t *in, size_t inl,
			 uint8_t *out, CK_ULONG *outl);
	/* Multi-part; NULL when the mechanism is single-part only. For
	 * digest, sign and verify out and outl are NULL. */
	CK_RV (*update)(struct cf_op *op, const uint8_t *in, size_t inl,
			uint8_t *out, CK_ULONG *outl);
	CK_RV (*final)(struct cf_op *op, uint8_t *out, CK_ULONG *outl);
	/* C_Verify and C_VerifyFinal: CKR_OK, CKR_SIGNATURE_INVALID or
	 * CKR_SIGNATURE_LEN_RANGE. */
	CK_RV (*verify)(struct cf_op *op, const uint8_t *in, size_t inl,
			const uint8_t *sig, size_t sigl);
	CK_RV (*verify_final)(struct cf_op *op, const uint8_t *sig,
			      size_t sigl);
	/*
	 * Message-based AEAD (3.0 C_EncryptMessage / C_DecryptMessage and the
	 * Begin/Next form): param is the caller's CK_GCM_MESSAGE_PARAMS or
	 * CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS, validated here; the IV
	 * and tag are written back into it as the spec says.
	 */
	CK_RV (*message)(struct cf_op *op, void *param, CK_ULONG plen,
			 const uint8_t *ad, size_t adl, const uint8_t *in,
			 size_t inl, uint8_t *out, CK_ULONG *outl);
	CK_RV (*message_begin)(struct cf_op *op, void *param, CK_ULONG plen,
			       const uint8_t *ad, size_t adl);
	CK_RV (*message_next)(struct cf_op *op, void *param, CK_ULONG plen,
			      const uint8_t *in, size_t inl, uint8_t *out,
			      CK_ULONG *outl, CK_FLAGS flags);
	/* Frees op->ctx (wiping what it holds); op->ctx may be NULL. */
	void (*free)(struct cf_op *op);

	/*
	 * C_GenerateKey: key was built by cf_rules_new_object(GENERATE) from
	 * the caller's template; read what the mechanism needs from it
	 * (CKA_VALUE_LEN ...), set CKA_VALUE (secret memory, via
	 * cf_object_set). The core then calls cf_rules_update_derived and
	 * stores the key. CKR_TEMPLATE_INCOMPLETE / _INCONSISTENT,
	 * CKR_KEY_SIZE_RANGE, CKR_ATTRIBUTE_VALUE_INVALID as the spec says.
	 */
	CK_RV (*generate)(const CK_MECHANISM *m, struct cf_object *key);
	/* C_GenerateKeyPair: likewise for both halves (parameters such as
	 * CKA_MODULUS_BITS, CKA_PUBLIC_EXPONENT or CKA_EC_PARAMS are on
	 * pub); sets the public components on both and CKA_PUBLIC_KEY_INFO,
	 * usually through the key type's store(). */
	CK_RV (*generate_pair)(const CK_MECHANISM *m, struct cf_object *pub,
			       struct cf_object *priv);
	/* C_DeriveKey: sets CKA_VALUE of key (a new secret key, or a data
	 * object for CKM_HKDF_DATA) from base. The core sets CKA_LOCAL,
	 * CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE afterwards. */
	CK_RV (*derive)(const CK_MECHANISM *m, const struct cf_key *base,
			struct cf_object *key);
	/* C_WrapKey / C_UnwrapKey as byte operations: the core supplies the
	 * plaintext (a secret key's CKA_VALUE, a private key's PKCS#8
	 * PrivateKeyInfo DER) and builds the unwrapped object itself. unwrap
	 * returns the plaintext in secret memory (*plain empty on error);
	 * CKR_WRAPPED_KEY_INVALID or CKR_WRAPPED_KEY_LEN_RANGE for bad input. */
	CK_RV (*wrap)(const CK_MECHANISM *m, const struct cf_key *wrapping,
		      const uint8_t *plain, size_t plain_len, uint8_t *out,
		      CK_ULONG *outl);
	CK_RV (*unwrap)(const CK_MECHANISM *m, const struct cf_key *unwrapping,
			const uint8_t *in, size_t inl,
			struct cf_secret *plain);
};

/* One row of the registry. */
struct cf_mech {
	CK_MECHANISM_TYPE type;
	/* What C_GetMechanismInfo reports: key sizes in the spec's unit for
	 * the key type (bits for RSA, EC, Edwards, Montgomery; bytes for AES,
	 * DES3, generic secrets and HMAC keys), CKF_* flags including
	 * CKF_HW = 0 and, for EC, CKF_EC_F_P | CKF_EC_OID | ... as true. */
	CK_MECHANISM_INFO info;
	/* Key types the mechanism accepts; CK_UNAVAILABLE_INFORMATION ends
	 * the list early. All CK_UNAVAILABLE_INFORMATION for digests. For a
	 * key or key-pair generation mechanism, key_types[0] is the type it
	 * makes. */
	CK_KEY_TYPE key_types[4];
	const struct cf_mech_ops *ops;
	/* Family data (an OpenSSL algorithm name, a digest ...). */
	const void *arg;
	bool legacy; /* DES3: off when the config says legacy = no */
};

#define CF_MECH_KEY_TYPES_END CK_UNAVAILABLE_INFORMATION

/* Each family's rows (registry.c lists them). */
struct cf_mech_family {
	const struct cf_mech *rows;
	size_t n;
};
extern const struct cf_mech_family cf_mechs_rsa, cf_mechs_ec, cf_mechs_eddsa,
	cf_mechs_montgomery, cf_mechs_aes, cf_mechs_chacha, cf_mechs_des3,
	cf_mechs_digest, cf_mechs_hmac, cf_mechs_kdf, cf_mechs_wrap;

/* The mechanism of type t, or NULL when coffer has none or it is switched
 * off (legacy ones when legacy_ok is false). Thread-safe. */
const struct cf_mech *cf_mech_find(CK_MECHANISM_TYPE t, bool legacy_ok);
/* Fills list (when not NULL, up to *n) with every available type in
 * ascending order; *n becomes the count. false when list was too short. */
bool cf_mech_list(bool legacy_ok, CK_MECHANISM_TYPE *list, CK_ULONG *n);
/* Whether mech accepts key type kt. */
bool cf_mech_accepts(const struct cf_mech *mech, CK_KEY_TYPE kt);

/*
 * Asymmetric key types: conversion between an object's attributes and an
 * OpenSSL key. rsa.c, ec.c, eddsa.c and montgomery.c each define one.
 */
struct cf_keytype {
	CK_KEY_TYPE type;
	/* Builds the OpenSSL key of a public or private key object:
	 * CKR_GENERAL_ERROR when the stored attributes do not make a key
	 * (they were checked on create), CKR_HOST_MEMORY. */
	CK_RV (*load)(const struct cf_object *o, EVP_PKEY **out);
	/* Sets the attributes of pk: on pub (may be NULL) the public
	 * components and CKA_PUBLIC_KEY_INFO; on priv (may be NULL) the
	 * private components (secret memory), the public ones the spec lists
	 * for the private key type, and CKA_PUBLIC_KEY_INFO. Keeps
	 * CKA_EC_PARAMS as the object already has it when present.
	 * CKR_KEY_TYPE_INCONSISTENT when pk is not of this type. */
	CK_RV (*store)(EVP_PKEY *pk, struct cf_object *pub,
		       struct cf_object *priv);
	/* Key size in the unit of CK_MECHANISM_INFO (bits). */
	CK_ULONG (*bits)(const EVP_PKEY *pk);
};
extern const struct cf_keytype cf_keytype_rsa, cf_keytype_ec,
	cf_keytype_edwards, cf_keytype_montgomery;

/* The converter of key type kt, or NULL for a type without one. */
const struct cf_keytype *cf_keytype_find(CK_KEY_TYPE kt);

/*
 * key.c: fills *k for object o (a public, private or secret key). The
 * OpenSSL key of an asymmetric key is built on first use and cached in the
 * object (freed with it). Under the token lock. CKR_KEY_HANDLE_INVALID
 * when o is not a key, CKR_USER_NOT_LOGGED_IN when its material is still
 * sealed (no login), CKR_GENERAL_ERROR / CKR_HOST_MEMORY.
 */
CK_RV cf_key_from_object(const struct cf_object *o, struct cf_key *k)
	__attribute__((warn_unused_result));

/*
 * OpenSSL algorithms fetched once from the private context and kept for
 * the life of the process (a fetch per operation costs a locked lookup).
 * name must be a string literal. NULL when the algorithm is unavailable.
 * Thread-safe.
 */
const EVP_MD *cf_md(const char *name);
const EVP_CIPHER *cf_cipher(const char *name);
EVP_MAC *cf_mac(const char *name);

/*
 * A key context of the private library context for key type name ("EC",
 * "RSA", "ED25519" ...), for key generation and EVP_PKEY_fromdata. The
 * context is fetched by the type's OID alias, which OpenSSL 3.0 does not
 * map to a legacy key type, so an ENGINE that the host application set as
 * default for that type (openssl -engine pkcs11 does, for RSA and EC)
 * cannot take it over: an engine's legacy method has no fromdata and the
 * module's keys would be unusable in such a process. NULL on failure.
 */
EVP_PKEY_CTX *cf_pkey_ctx(const char *name);

/* Maps a CKM_SHA* / CKM_SHA3_* digest mechanism or CKG_MGF1_* to its
 * OpenSSL name ("SHA256", "SHA3-256" ...), or NULL. */
const char *cf_md_name_of_mech(CK_MECHANISM_TYPE t);
const char *cf_md_name_of_mgf(CK_RSA_PKCS_MGF_TYPE mgf);

/* Writes the common case of the output convention: needed bytes must fit
 * in *outl. Returns CKR_OK when the caller should go on and write, or the
 * code to return (length query answered / CKR_BUFFER_TOO_SMALL). *go is
 * set to true only in the first case. */
CK_RV cf_out_check(const uint8_t *out, CK_ULONG *outl, size_t needed,
		   bool *go);

#endif
