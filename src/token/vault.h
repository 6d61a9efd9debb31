/*
 * vault.h - the token's secrets at rest.
 *
 * Each token has a random 256-bit token key. It is stored only wrapped:
 * once under a key derived from the SO PIN and once under a key derived from
 * the user PIN, with scrypt (OpenSSL EVP_KDF) whose parameters and salt are
 * recorded in the wrapped blob, so the cost can be raised later. The wrap is
 * AES-256-GCM; a wrong PIN shows as a failed tag check (constant time).
 *
 * From the token key the vault derives (HKDF-SHA256) a record key, which
 * seals object records with AES-256-GCM under a fresh random 96-bit nonce,
 * binding the object id and caller-given associated data, and an index key
 * for keyed hashes of searchable attribute values of private objects.
 *
 * All functions are thread-safe on distinct or read-only arguments. Inputs
 * named pin and every plaintext are secret; outputs that hold secrets are
 * struct cf_secret (wiped on clear).
 */
#ifndef CF_VAULT_H
#define CF_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "coffer/pkcs11.h"
#include "common/secmem.h"
#include "token/store/store.h"

#define CF_VAULT_KEY_LEN 32

struct cf_vault {
	struct cf_secret record_key; /* seals object records */
	struct cf_secret index_key;  /* keyed hashes for private objects */
};

/* Fresh random token key. */
CK_RV cf_vault_token_key_new(struct cf_secret *token_key)
	__attribute__((warn_unused_result));

/* Wraps token_key under a key derived from pin with scrypt N = 2^kdf_cost,
 * r = 8, p = 1 and a fresh salt. *blob is malloc'd (free with free()). */
CK_RV cf_vault_wrap(const struct cf_secret *token_key, const uint8_t *pin,
		    size_t pin_len, unsigned int kdf_cost, uint8_t **blob,
		    size_t *blob_len) __attribute__((warn_unused_result));

/* Unwraps: CKR_OK and the token key in *token_key; CKR_PIN_INCORRECT when
 * the PIN is wrong; CKR_DEVICE_ERROR when the blob is malformed;
 * CKR_HOST_MEMORY. */
CK_RV cf_vault_unwrap(const uint8_t *blob, size_t blob_len,
		      const uint8_t *pin, size_t pin_len,
		      struct cf_secret *token_key)
	__attribute__((warn_unused_result));

/* The scrypt cost recorded in a wrapped blob (for tests and for raising the
 * cost on the next PIN change). CKR_DEVICE_ERROR if malformed. */
CK_RV cf_vault_blob_cost(const uint8_t *blob, size_t blob_len,
			 unsigned int *kdf_cost);

/* Derives the record and index keys from the token key. */
CK_RV cf_vault_init(struct cf_vault *v, const struct cf_secret *token_key)
	__attribute__((warn_unused_result));
void cf_vault_clear(struct cf_vault *v);

/* Seals plaintext for object id. ad is authenticated, not encrypted (the
 * record's clear part). *ct is malloc'd: nonce || ciphertext || tag. */
CK_RV cf_vault_seal(const struct cf_vault *v, uint64_t id, const uint8_t *ad,
		    size_t ad_len, const uint8_t *pt, size_t pt_len,
		    uint8_t **ct, size_t *ct_len)
	__attribute__((warn_unused_result));

/* Opens what cf_vault_seal made for the same id and ad. CKR_DEVICE_ERROR
 * (and a log line) when it was tampered with or moved to another id. */
CK_RV cf_vault_open(const struct cf_vault *v, uint64_t id, const uint8_t *ad,
		    size_t ad_len, const uint8_t *ct, size_t ct_len,
		    struct cf_secret *pt) __attribute__((warn_unused_result));

/* Keyed hash of (type, value) under key (32 bytes): the index key the store
 * files an object under. */
void cf_vault_index_hash(const uint8_t *key, CK_ATTRIBUTE_TYPE type,
			 const void *value, size_t len,
			 struct cf_store_key *out);

/* Internal, exposed for the known-answer test: scrypt of pin (secret) and
 * salt with N = 2^cost and the given r and p into out (out_len bytes,
 * secret: the caller wipes it). CKR_ARGUMENTS_BAD when cost is not in 1..20,
 * r or p is 0 or above 16, or the memory scrypt needs exceeds the vault's
 * cap (about 1 GiB: N = 2^20 with r = 8); CKR_HOST_MEMORY. Thread-safe. */
CK_RV cf_vault_scrypt(const uint8_t *pin, size_t pin_len, const uint8_t *salt,
		      size_t salt_len, unsigned int cost, uint32_t r,
		      uint32_t p, uint8_t *out, size_t out_len)
	__attribute__((warn_unused_result));

#endif
