/* test_vault.c - unit tests of the vault (src/token/vault.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/log.h"
#include "common/secmem.h"
#include "token/vault.h"

/* Scrypt cost for tests: N = 1024 keeps the suite fast. */
#define COST 10

/* The wrapped blob's layout, as the storage format defines it. */
#define OFF_MAGIC 0
#define OFF_KDF 4
#define OFF_COST 5
#define OFF_R 6
#define OFF_P 10
#define OFF_SALT 14
#define OFF_NONCE 30
#define OFF_CT 42
#define OFF_TAG 74
#define BLOB_LEN 90

#define NONCE_LEN 12
#define TAG_LEN 16

static const uint8_t pin[] = "1234-user-pin";
#define PIN_LEN (sizeof(pin) - 1)

struct fx {
	struct cf_secret token_key;
	uint8_t *blob;
	size_t blob_len;
	struct cf_vault vault;
};

static int setup_group(void **state)
{
	(void)state;
	/* error lines are expected from the failure tests; keep them quiet
	 * except where a test looks at them */
	cf_log_set_level(CF_LOG_NONE);
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (cf_vault_token_key_new(&f->token_key) != CKR_OK)
		return -1;
	if (cf_vault_wrap(&f->token_key, pin, PIN_LEN, COST, &f->blob,
			  &f->blob_len) != CKR_OK)
		return -1;
	if (cf_vault_init(&f->vault, &f->token_key) != CKR_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cf_vault_clear(&f->vault);
	free(f->blob);
	cf_secret_clear(&f->token_key);
	free(f);
	return 0;
}

static void flip(uint8_t *b, size_t off)
{
	b[off] ^= 0x01;
}

/* Unwraps a copy of the fixture's blob with byte off set to v; a failure
 * must leave the output empty. */
static CK_RV unwrap_edited(const struct fx *f, size_t off, uint8_t v)
{
	uint8_t b[BLOB_LEN];
	struct cf_secret k = {NULL, 0};
	CK_RV rv;

	assert_int_equal(f->blob_len, BLOB_LEN);
	memcpy(b, f->blob, BLOB_LEN);
	b[off] = v;
	rv = cf_vault_unwrap(b, BLOB_LEN, pin, PIN_LEN, &k);
	if (rv != CKR_OK) {
		assert_null(k.data);
		assert_int_equal(k.len, 0);
	}
	cf_secret_clear(&k);
	return rv;
}

static CK_RV unwrap_u32_edited(const struct fx *f, size_t off, uint32_t v)
{
	uint8_t b[BLOB_LEN];
	struct cf_secret k = {NULL, 0};
	CK_RV rv;

	memcpy(b, f->blob, BLOB_LEN);
	b[off] = (uint8_t)(v >> 24);
	b[off + 1] = (uint8_t)(v >> 16);
	b[off + 2] = (uint8_t)(v >> 8);
	b[off + 3] = (uint8_t)v;
	rv = cf_vault_unwrap(b, BLOB_LEN, pin, PIN_LEN, &k);
	cf_secret_clear(&k);
	return rv;
}

/* --- threads ---------------------------------------------------------- */

#define NTHREADS 8
#define NROUNDS 200

struct thread_arg {
	const struct cf_vault *vault;
	struct cf_store_key want;
	uint64_t id;
	int ok;
};

static void *hash_and_seal(void *p)
{
	struct thread_arg *a = p;
	struct cf_secret pt = {NULL, 0};
	struct cf_store_key k;
	uint8_t *ct = NULL;
	size_t len = 0;

	a->ok = 1;
	for (int i = 0; i < NROUNDS && a->ok; i++) {
		cf_vault_index_hash(a->vault->index_key.data, CKA_ID, "id-1", 4,
				    &k);
		if (memcmp(k.b, a->want.b, sizeof(k.b)) != 0)
			a->ok = 0;
		if (cf_vault_seal(a->vault, a->id, NULL, 0,
				  (const uint8_t *)"v", 1, &ct,
				  &len) != CKR_OK ||
		    cf_vault_open(a->vault, a->id, NULL, 0, ct, len, &pt) !=
			CKR_OK ||
		    pt.len != 1 || pt.data[0] != 'v')
			a->ok = 0;
		cf_secret_clear(&pt);
		free(ct);
		ct = NULL;
	}
	return NULL;
}

/* Runs first, so that the threads also race to fetch the cached
 * algorithms. */
static void test_vault__hash_seal_open_from_many_threads(void **state)
{
	struct fx *f = *state;
	struct thread_arg args[NTHREADS];
	pthread_t th[NTHREADS];
	/* be64(CKA_ID = 0x102) || "id-1" */
	uint8_t msg[8 + 4] = {0, 0, 0, 0, 0, 0, 1, 2, 'i', 'd', '-', '1'};
	uint8_t mac[32];
	unsigned int mac_len = 0;
	size_t started;

	assert_non_null(HMAC(EVP_sha256(), f->vault.index_key.data, 32, msg,
			     sizeof(msg), mac, &mac_len));
	for (started = 0; started < NTHREADS; started++) {
		struct thread_arg *a = &args[started];

		a->vault = &f->vault;
		memcpy(a->want.b, mac, CF_STORE_KEY_LEN);
		a->id = started + 1;
		a->ok = 0;
		if (pthread_create(&th[started], NULL, hash_and_seal, a) != 0)
			break;
	}
	/* join every thread before any assert can leave this frame */
	for (size_t i = 0; i < started; i++)
		(void)pthread_join(th[i], NULL);
	assert_int_equal(started, NTHREADS);
	for (size_t i = 0; i < NTHREADS; i++)
		assert_int_equal(args[i].ok, 1);
}

/* --- scrypt --------------------------------------------------------- */

/* RFC 7914 section 12, third vector: P = "password", S = "NaCl",
 * N = 1024, r = 8, p = 16, dkLen = 64. */
static void test_vault__scrypt_matches_rfc7914_vector(void **state)
{
	static const uint8_t want[64] = {
	    0xfd, 0xba, 0xbe, 0x1c, 0x9d, 0x34, 0x72, 0x00, 0x78, 0x56, 0xe7,
	    0x19, 0x0d, 0x01, 0xe9, 0xfe, 0x7c, 0x6a, 0xd7, 0xcb, 0xc8, 0x23,
	    0x78, 0x30, 0xe7, 0x73, 0x76, 0x63, 0x4b, 0x37, 0x31, 0x62, 0x2e,
	    0xaf, 0x30, 0xd9, 0x2e, 0x22, 0xa3, 0x88, 0x6f, 0xf1, 0x09, 0x27,
	    0x9d, 0x98, 0x30, 0xda, 0xc7, 0x27, 0xaf, 0xb9, 0x4a, 0x83, 0xee,
	    0x6d, 0x83, 0x60, 0xcb, 0xdf, 0xa2, 0xcc, 0x06, 0x40,
	};
	uint8_t out[64];

	(void)state;
	assert_int_equal(cf_vault_scrypt((const uint8_t *)"password", 8,
					 (const uint8_t *)"NaCl", 4, 10, 8, 16,
					 out, sizeof(out)),
			 CKR_OK);
	assert_memory_equal(out, want, sizeof(out));
}

static void test_vault__scrypt_rejects_cost_zero(void **state)
{
	uint8_t out[32];

	(void)state;
	assert_int_equal(cf_vault_scrypt(pin, PIN_LEN, (const uint8_t *)"salt",
					 4, 0, 8, 1, out, sizeof(out)),
			 CKR_ARGUMENTS_BAD);
}

static void test_vault__scrypt_rejects_cost_above_20(void **state)
{
	uint8_t out[32];

	(void)state;
	assert_int_equal(cf_vault_scrypt(pin, PIN_LEN, (const uint8_t *)"salt",
					 4, 21, 8, 1, out, sizeof(out)),
			 CKR_ARGUMENTS_BAD);
}

static void test_vault__scrypt_rejects_memory_above_cap(void **state)
{
	uint8_t out[32];

	(void)state;
	/* N = 2^20 with r = 16 would need 2 GiB */
	assert_int_equal(cf_vault_scrypt(pin, PIN_LEN, (const uint8_t *)"salt",
					 4, 20, 16, 1, out, sizeof(out)),
			 CKR_ARGUMENTS_BAD);
}

/* --- token key -------------------------------------------------------- */

static void test_vault__token_key_new_is_32_fresh_bytes(void **state)
{
	struct cf_secret a = {NULL, 0}, b = {NULL, 0};

	(void)state;
	assert_int_equal(cf_vault_token_key_new(&a), CKR_OK);
	assert_int_equal(cf_vault_token_key_new(&b), CKR_OK);
	assert_int_equal(a.len, CF_VAULT_KEY_LEN);
	assert_int_equal(b.len, CF_VAULT_KEY_LEN);
	assert_memory_not_equal(a.data, b.data, CF_VAULT_KEY_LEN);
	cf_secret_clear(&a);
	cf_secret_clear(&b);
}

/* --- wrap and unwrap ---------------------------------------------------- */

static void test_vault__wrap_unwrap_round_trip(void **state)
{
	struct fx *f = *state;
	struct cf_secret k = {NULL, 0};

	assert_int_equal(
	    cf_vault_unwrap(f->blob, f->blob_len, pin, PIN_LEN, &k), CKR_OK);
	assert_int_equal(k.len, CF_VAULT_KEY_LEN);
	assert_memory_equal(k.data, f->token_key.data, CF_VAULT_KEY_LEN);
	cf_secret_clear(&k);
}

static void test_vault__wrap_unwrap_empty_pin_round_trip(void **state)
{
	struct fx *f = *state;
	struct cf_secret k = {NULL, 0};
	uint8_t *blob = NULL;
	size_t len = 0;

	assert_int_equal(
	    cf_vault_wrap(&f->token_key, NULL, 0, COST, &blob, &len), CKR_OK);
	assert_int_equal(cf_vault_unwrap(blob, len, NULL, 0, &k), CKR_OK);
	assert_memory_equal(k.data, f->token_key.data, CF_VAULT_KEY_LEN);
	cf_secret_clear(&k);
	free(blob);
}

static void test_vault__wrap_writes_the_documented_header(void **state)
{
	struct fx *f = *state;
	static const uint8_t want[] = {'C', 'F', 'W', '1', 1, COST, 0,
				       0,   0,	 8,   0,   0, 0,    1};

	assert_int_equal(f->blob_len, BLOB_LEN);
	assert_memory_equal(f->blob, want, sizeof(want));
}

static void test_vault__wrap_rejects_cost_zero(void **state)
{
	struct fx *f = *state;
	uint8_t *blob = (uint8_t *)f;
	size_t len = 1;

	assert_int_equal(
	    cf_vault_wrap(&f->token_key, pin, PIN_LEN, 0, &blob, &len),
	    CKR_ARGUMENTS_BAD);
	assert_null(blob);
	assert_int_equal(len, 0);
}

static void test_vault__wrap_rejects_cost_above_20(void **state)
{
	struct fx *f = *state;
	uint8_t *blob = NULL;
	size_t len = 0;

	assert_int_equal(
	    cf_vault_wrap(&f->token_key, pin, PIN_LEN, 21, &blob, &len),
	    CKR_ARGUMENTS_BAD);
	assert_null(blob);
}

static void test_vault__wrap_rejects_short_token_key(void **state)
{
	struct fx *f = *state;
	struct cf_secret shortkey = {f->token_key.data, CF_VAULT_KEY_LEN - 1};
	uint8_t *blob = NULL;
	size_t len = 0;

	assert_int_equal(
	    cf_vault_wrap(&shortkey, pin, PIN_LEN, COST, &blob, &len),
	    CKR_ARGUMENTS_BAD);
	assert_null(blob);
}

static void test_vault__wrap_twice_differs(void **state)
{
	struct fx *f = *state;
	uint8_t *b2 = NULL;
	size_t len = 0;

	assert_int_equal(
	    cf_vault_wrap(&f->token_key, pin, PIN_LEN, COST, &b2, &len),
	    CKR_OK);
	assert_int_equal(len, f->blob_len);
	assert_memory_not_equal(f->blob + OFF_SALT, b2 + OFF_SALT, 16);
	assert_memory_not_equal(f->blob + OFF_NONCE, b2 + OFF_NONCE, NONCE_LEN);
	assert_memory_not_equal(f->blob + OFF_CT, b2 + OFF_CT,
				CF_VAULT_KEY_LEN);
	free(b2);
}

static void test_vault__unwrap_wrong_pin_fails(void **state)
{
	struct fx *f = *state;
	struct cf_secret k = {NULL, 0};

	assert_int_equal(cf_vault_unwrap(f->blob, f->blob_len,
					 (const uint8_t *)"1234-user-pio",
					 PIN_LEN, &k),
			 CKR_PIN_INCORRECT);
	assert_null(k.data);
	assert_int_equal(k.len, 0);
}

static void test_vault__unwrap_pin_prefix_fails(void **state)
{
	struct fx *f = *state;
	struct cf_secret k = {NULL, 0};

	assert_int_equal(
	    cf_vault_unwrap(f->blob, f->blob_len, pin, PIN_LEN - 1, &k),
	    CKR_PIN_INCORRECT);
	assert_null(k.data);
}

static void test_vault__unwrap_bad_magic_fails(void **state)
{
	assert_int_equal(unwrap_edited(*state, OFF_MAGIC + 3, '2'),
			 CKR_DEVICE_ERROR);
}

static void test_vault__unwrap_unknown_kdf_fails(void **state)
{
	assert_int_equal(unwrap_edited(*state, OFF_KDF, 2), CKR_DEVICE_ERROR);
}

static void test_vault__unwrap_kdf_zero_fails(void **state)
{
	assert_int_equal(unwrap_edited(*state, OFF_KDF, 0), CKR_DEVICE_ERROR);
}

static void test_vault__unwrap_cost_zero_fails(void **state)
{
	assert_int_equal(unwrap_edited(*state, OFF_COST, 0), CKR_DEVICE_ERROR);
}

static void test_vault__unwrap_cost_21_fails(void **state)
{
	assert_int_equal(unwrap_edited(*state, OFF_COST, 21), CKR_DEVICE_ERROR);
}

static void test_vault__unwrap_cost_255_fails(void **state)
{
	assert_int_equal(unwrap_edited(*state, OFF_COST, 255),
			 CKR_DEVICE_ERROR);
}

static void test_vault__unwrap_r_zero_fails(void **state)
{
	assert_int_equal(unwrap_u32_edited(*state, OFF_R, 0), CKR_DEVICE_ERROR);
}

static void test_vault__unwrap_r_huge_fails(void **state)
{
	assert_int_equal(unwrap_u32_edited(*state, OFF_R, 0x01000008),
			 CKR_DEVICE_ERROR);
}

static void test_vault__unwrap_p_zero_fails(void **state)
{
	assert_int_equal(unwrap_u32_edited(*state, OFF_P, 0), CKR_DEVICE_ERROR);
}

static void test_vault__unwrap_p_huge_fails(void **state)
{
	assert_int_equal(unwrap_u32_edited(*state, OFF_P, 0x80000001u),
			 CKR_DEVICE_ERROR);
}

/* Valid but different parameters are authenticated: the tag fails. */
static void test_vault__unwrap_changed_cost_fails_tag(void **state)
{
	assert_int_equal(unwrap_edited(*state, OFF_COST, COST - 1),
			 CKR_PIN_INCORRECT);
}

static void test_vault__unwrap_changed_r_fails_tag(void **state)
{
	assert_int_equal(unwrap_u32_edited(*state, OFF_R, 4),
			 CKR_PIN_INCORRECT);
}

static void test_vault__unwrap_truncated_blob_fails(void **state)
{
	struct fx *f = *state;
	struct cf_secret k = {NULL, 0};

	for (size_t len = 0; len < f->blob_len; len++) {
		assert_int_equal(
		    cf_vault_unwrap(f->blob, len, pin, PIN_LEN, &k),
		    CKR_DEVICE_ERROR);
		assert_null(k.data);
	}
}

static void test_vault__unwrap_extended_blob_fails(void **state)
{
	struct fx *f = *state;
	struct cf_secret k = {NULL, 0};
	uint8_t b[BLOB_LEN + 1];

	memcpy(b, f->blob, BLOB_LEN);
	b[BLOB_LEN] = 0;
	assert_int_equal(cf_vault_unwrap(b, sizeof(b), pin, PIN_LEN, &k),
			 CKR_DEVICE_ERROR);
	assert_null(k.data);
}

static void test_vault__unwrap_null_blob_fails(void **state)
{
	struct cf_secret k = {NULL, 0};

	(void)state;
	assert_int_equal(cf_vault_unwrap(NULL, BLOB_LEN, pin, PIN_LEN, &k),
			 CKR_DEVICE_ERROR);
}

static void test_vault__unwrap_null_pin_with_length_fails(void **state)
{
	struct fx *f = *state;
	struct cf_secret k = {NULL, 0};

	assert_int_equal(cf_vault_unwrap(f->blob, f->blob_len, NULL, 4, &k),
			 CKR_ARGUMENTS_BAD);
}

static void test_vault__unwrap_flipped_salt_fails(void **state)
{
	struct fx *f = *state;

	assert_int_equal(unwrap_edited(f, OFF_SALT + 5,
				       (uint8_t)(f->blob[OFF_SALT + 5] ^ 1)),
			 CKR_PIN_INCORRECT);
}

static void test_vault__unwrap_flipped_nonce_fails(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
	    unwrap_edited(f, OFF_NONCE, (uint8_t)(f->blob[OFF_NONCE] ^ 1)),
	    CKR_PIN_INCORRECT);
}

static void test_vault__unwrap_flipped_ciphertext_fails(void **state)
{
	struct fx *f = *state;

	for (size_t off = OFF_CT; off < OFF_TAG; off++)
		assert_int_equal(
		    unwrap_edited(f, off, (uint8_t)(f->blob[off] ^ 0x80)),
		    CKR_PIN_INCORRECT);
}

static void test_vault__unwrap_flipped_tag_fails(void **state)
{
	struct fx *f = *state;

	for (size_t off = OFF_TAG; off < BLOB_LEN; off++)
		assert_int_equal(
		    unwrap_edited(f, off, (uint8_t)(f->blob[off] ^ 0x01)),
		    CKR_PIN_INCORRECT);
}

static void test_vault__blob_cost_reads_cost(void **state)
{
	struct fx *f = *state;
	uint8_t *blob = NULL;
	size_t len = 0;
	unsigned int cost = 0;

	assert_int_equal(cf_vault_blob_cost(f->blob, f->blob_len, &cost),
			 CKR_OK);
	assert_int_equal(cost, COST);
	assert_int_equal(
	    cf_vault_wrap(&f->token_key, pin, PIN_LEN, 3, &blob, &len), CKR_OK);
	assert_int_equal(cf_vault_blob_cost(blob, len, &cost), CKR_OK);
	assert_int_equal(cost, 3);
	free(blob);
}

static void test_vault__blob_cost_malformed_fails(void **state)
{
	struct fx *f = *state;
	unsigned int cost = 99;

	assert_int_equal(cf_vault_blob_cost(f->blob, f->blob_len - 1, &cost),
			 CKR_DEVICE_ERROR);
	assert_int_equal(cost, 0);
	flip(f->blob, OFF_MAGIC);
	cost = 99;
	assert_int_equal(cf_vault_blob_cost(f->blob, f->blob_len, &cost),
			 CKR_DEVICE_ERROR);
	assert_int_equal(cost, 0);
}

/* --- derived keys ------------------------------------------------------- */

/* HKDF-SHA256 without salt, written out with HMAC (RFC 5869) so that the
 * vault's wiring of EVP_KDF is checked against an independent path. */
static void hkdf_ref(const uint8_t *ikm, size_t ikm_len, const char *info,
		     uint8_t out[32])
{
	static const uint8_t zeros[32];
	uint8_t prk[32], msg[64];
	unsigned int len = 0;
	size_t info_len = strlen(info);

	assert_non_null(
	    HMAC(EVP_sha256(), zeros, sizeof(zeros), ikm, ikm_len, prk, &len));
	assert_true(info_len + 1 <= sizeof(msg));
	memcpy(msg, info, info_len);
	msg[info_len] = 1;
	assert_non_null(
	    HMAC(EVP_sha256(), prk, sizeof(prk), msg, info_len + 1, out, &len));
}

static void test_vault__init_derives_record_key_by_hkdf(void **state)
{
	struct fx *f = *state;
	uint8_t want[32];

	hkdf_ref(f->token_key.data, f->token_key.len, "coffer record key v1",
		 want);
	assert_int_equal(f->vault.record_key.len, CF_VAULT_KEY_LEN);
	assert_memory_equal(f->vault.record_key.data, want, sizeof(want));
}

static void test_vault__init_derives_index_key_by_hkdf(void **state)
{
	struct fx *f = *state;
	uint8_t want[32];

	hkdf_ref(f->token_key.data, f->token_key.len, "coffer index key v1",
		 want);
	assert_int_equal(f->vault.index_key.len, CF_VAULT_KEY_LEN);
	assert_memory_equal(f->vault.index_key.data, want, sizeof(want));
}

static void test_vault__init_rejects_short_token_key(void **state)
{
	struct fx *f = *state;
	struct cf_secret shortkey = {f->token_key.data, 16};
	struct cf_vault v;

	memset(&v, 0xa5, sizeof(v));
	assert_int_equal(cf_vault_init(&v, &shortkey), CKR_ARGUMENTS_BAD);
	assert_null(v.record_key.data);
	assert_null(v.index_key.data);
}

static void test_vault__clear_wipes(void **state)
{
	struct fx *f = *state;

	cf_vault_clear(&f->vault);
	assert_null(f->vault.record_key.data);
	assert_int_equal(f->vault.record_key.len, 0);
	assert_null(f->vault.index_key.data);
	assert_int_equal(f->vault.index_key.len, 0);
	/* a second clear is harmless */
	cf_vault_clear(&f->vault);
	assert_null(f->vault.record_key.data);
}

/* --- seal and open ------------------------------------------------------ */

static const uint8_t secret_pt[] = "top secret CKA_VALUE bytes";
static const uint8_t clear_ad[] = "class=secret-key;label=k1";
#define PT_LEN (sizeof(secret_pt) - 1)
#define AD_LEN (sizeof(clear_ad) - 1)

static void seal(const struct fx *f, uint64_t id, uint8_t **ct, size_t *len)
{
	assert_int_equal(cf_vault_seal(&f->vault, id, clear_ad, AD_LEN,
				       secret_pt, PT_LEN, ct, len),
			 CKR_OK);
}

static void test_vault__seal_open_round_trip(void **state)
{
	struct fx *f = *state;
	struct cf_secret pt = {NULL, 0};
	uint8_t *ct = NULL;
	size_t len = 0;

	seal(f, 42, &ct, &len);
	assert_int_equal(len, NONCE_LEN + PT_LEN + TAG_LEN);
	assert_int_equal(
	    cf_vault_open(&f->vault, 42, clear_ad, AD_LEN, ct, len, &pt),
	    CKR_OK);
	assert_int_equal(pt.len, PT_LEN);
	assert_memory_equal(pt.data, secret_pt, PT_LEN);
	cf_secret_clear(&pt);
	free(ct);
}

static void test_vault__seal_does_not_leak_plaintext(void **state)
{
	struct fx *f = *state;
	uint8_t *ct = NULL;
	size_t len = 0;

	seal(f, 42, &ct, &len);
	assert_memory_not_equal(ct + NONCE_LEN, secret_pt, PT_LEN);
	free(ct);
}

static void test_vault__seal_open_empty_plaintext(void **state)
{
	struct fx *f = *state;
	struct cf_secret pt = {NULL, 0};
	uint8_t *ct = NULL;
	size_t len = 0;

	assert_int_equal(
	    cf_vault_seal(&f->vault, 7, NULL, 0, NULL, 0, &ct, &len), CKR_OK);
	assert_int_equal(len, NONCE_LEN + TAG_LEN);
	assert_int_equal(cf_vault_open(&f->vault, 7, NULL, 0, ct, len, &pt),
			 CKR_OK);
	assert_int_equal(pt.len, 0);
	assert_non_null(pt.data);
	cf_secret_clear(&pt);
	free(ct);
}

static void test_vault__seal_twice_differs(void **state)
{
	struct fx *f = *state;
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;

	seal(f, 42, &a, &alen);
	seal(f, 42, &b, &blen);
	assert_int_equal(alen, blen);
	assert_memory_not_equal(a, b, NONCE_LEN);
	assert_memory_not_equal(a + NONCE_LEN, b + NONCE_LEN, PT_LEN);
	free(a);
	free(b);
}

static void test_vault__seal_uninitialised_vault_fails(void **state)
{
	struct cf_vault v = {{NULL, 0}, {NULL, 0}};
	uint8_t *ct = (uint8_t *)&v;
	size_t len = 1;

	(void)state;
	assert_int_equal(
	    cf_vault_seal(&v, 1, NULL, 0, secret_pt, PT_LEN, &ct, &len),
	    CKR_ARGUMENTS_BAD);
	assert_null(ct);
	assert_int_equal(len, 0);
}

static void test_vault__seal_oversized_plaintext_fails(void **state)
{
	struct fx *f = *state;
	size_t big = CF_STORE_RECORD_MAX;
	uint8_t *pt = calloc(1, big);
	uint8_t *ct = NULL;
	size_t len = 0;

	assert_non_null(pt);
	assert_int_equal(
	    cf_vault_seal(&f->vault, 1, NULL, 0, pt, big, &ct, &len),
	    CKR_DEVICE_MEMORY);
	assert_null(ct);
	free(pt);
}

static void test_vault__seal_open_largest_plaintext(void **state)
{
	struct fx *f = *state;
	size_t big = CF_STORE_RECORD_MAX - NONCE_LEN - TAG_LEN;
	struct cf_secret pt = {NULL, 0};
	uint8_t *in = malloc(big);
	uint8_t *ct = NULL;
	size_t len = 0;

	assert_non_null(in);
	for (size_t i = 0; i < big; i++)
		in[i] = (uint8_t)(i * 31);
	assert_int_equal(
	    cf_vault_seal(&f->vault, 9, NULL, 0, in, big, &ct, &len), CKR_OK);
	assert_int_equal(len, CF_STORE_RECORD_MAX);
	assert_int_equal(cf_vault_open(&f->vault, 9, NULL, 0, ct, len, &pt),
			 CKR_OK);
	assert_int_equal(pt.len, big);
	assert_memory_equal(pt.data, in, big);
	cf_secret_clear(&pt);
	free(ct);
	free(in);
}

static void test_vault__open_with_other_id_fails(void **state)
{
	struct fx *f = *state;
	struct cf_secret pt = {NULL, 0};
	uint8_t *ct = NULL;
	size_t len = 0;

	seal(f, 42, &ct, &len);
	assert_int_equal(
	    cf_vault_open(&f->vault, 43, clear_ad, AD_LEN, ct, len, &pt),
	    CKR_DEVICE_ERROR);
	assert_null(pt.data);
	assert_int_equal(pt.len, 0);
	/* the id is bound in all 64 bits */
	assert_int_equal(cf_vault_open(&f->vault, 42 | (UINT64_C(1) << 63),
				       clear_ad, AD_LEN, ct, len, &pt),
			 CKR_DEVICE_ERROR);
	free(ct);
}

static void test_vault__open_with_other_ad_fails(void **state)
{
	struct fx *f = *state;
	struct cf_secret pt = {NULL, 0};
	uint8_t ad[AD_LEN];
	uint8_t *ct = NULL;
	size_t len = 0;

	seal(f, 42, &ct, &len);
	memcpy(ad, clear_ad, AD_LEN);
	ad[AD_LEN - 1] ^= 1;
	assert_int_equal(cf_vault_open(&f->vault, 42, ad, AD_LEN, ct, len, &pt),
			 CKR_DEVICE_ERROR);
	assert_null(pt.data);
	free(ct);
}

static void test_vault__open_with_shorter_ad_fails(void **state)
{
	struct fx *f = *state;
	struct cf_secret pt = {NULL, 0};
	uint8_t *ct = NULL;
	size_t len = 0;

	seal(f, 42, &ct, &len);
	assert_int_equal(
	    cf_vault_open(&f->vault, 42, clear_ad, AD_LEN - 1, ct, len, &pt),
	    CKR_DEVICE_ERROR);
	assert_int_equal(cf_vault_open(&f->vault, 42, NULL, 0, ct, len, &pt),
			 CKR_DEVICE_ERROR);
	free(ct);
}

static void test_vault__open_any_flipped_byte_fails(void **state)
{
	struct fx *f = *state;
	struct cf_secret pt = {NULL, 0};
	uint8_t *ct = NULL;
	size_t len = 0;

	seal(f, 42, &ct, &len);
	for (size_t off = 0; off < len; off++) {
		flip(ct, off);
		assert_int_equal(cf_vault_open(&f->vault, 42, clear_ad, AD_LEN,
					       ct, len, &pt),
				 CKR_DEVICE_ERROR);
		assert_null(pt.data);
		flip(ct, off);
	}
	free(ct);
}

static void test_vault__open_truncated_fails(void **state)
{
	struct fx *f = *state;
	struct cf_secret pt = {NULL, 0};
	uint8_t *ct = NULL;
	size_t len = 0;

	seal(f, 42, &ct, &len);
	for (size_t n = 0; n < len; n++) {
		assert_int_equal(
		    cf_vault_open(&f->vault, 42, clear_ad, AD_LEN, ct, n, &pt),
		    CKR_DEVICE_ERROR);
		assert_null(pt.data);
	}
	free(ct);
}

static void test_vault__open_extended_fails(void **state)
{
	struct fx *f = *state;
	struct cf_secret pt = {NULL, 0};
	uint8_t *ct = NULL, *longer;
	size_t len = 0;

	seal(f, 42, &ct, &len);
	longer = calloc(1, len + 1);
	assert_non_null(longer);
	memcpy(longer, ct, len);
	assert_int_equal(cf_vault_open(&f->vault, 42, clear_ad, AD_LEN, longer,
				       len + 1, &pt),
			 CKR_DEVICE_ERROR);
	free(longer);
	free(ct);
}

static void test_vault__open_under_other_token_key_fails(void **state)
{
	struct fx *f = *state;
	struct cf_secret other = {NULL, 0}, pt = {NULL, 0};
	struct cf_vault v2;
	uint8_t *ct = NULL;
	size_t len = 0;

	seal(f, 42, &ct, &len);
	assert_int_equal(cf_vault_token_key_new(&other), CKR_OK);
	assert_int_equal(cf_vault_init(&v2, &other), CKR_OK);
	assert_int_equal(cf_vault_open(&v2, 42, clear_ad, AD_LEN, ct, len, &pt),
			 CKR_DEVICE_ERROR);
	cf_vault_clear(&v2);
	cf_secret_clear(&other);
	free(ct);
}

static void test_vault__open_uninitialised_vault_fails(void **state)
{
	struct fx *f = *state;
	struct cf_vault v = {{NULL, 0}, {NULL, 0}};
	struct cf_secret pt = {NULL, 0};
	uint8_t *ct = NULL;
	size_t len = 0;

	seal(f, 42, &ct, &len);
	assert_int_equal(cf_vault_open(&v, 42, clear_ad, AD_LEN, ct, len, &pt),
			 CKR_ARGUMENTS_BAD);
	free(ct);
}

static void test_vault__open_failure_logs_id_not_contents(void **state)
{
	struct fx *f = *state;
	struct cf_secret pt = {NULL, 0};
	char path[] = "/tmp/test_vault_log_XXXXXX";
	char text[4096];
	uint8_t *ct = NULL;
	size_t len = 0, n, lines = 0;
	FILE *in;
	int fd;

	seal(f, 1234567, &ct, &len);
	flip(ct, NONCE_LEN);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cf_log_open(CF_LOG_ERROR, path), 0);
	assert_int_equal(
	    cf_vault_open(&f->vault, 1234567, clear_ad, AD_LEN, ct, len, &pt),
	    CKR_DEVICE_ERROR);
	cf_log_close();
	cf_log_set_level(CF_LOG_NONE);

	in = fopen(path, "r");
	assert_non_null(in);
	n = fread(text, 1, sizeof(text) - 1, in);
	fclose(in);
	unlink(path);
	text[n] = '\0';
	/* exactly one line */
	for (size_t i = 0; i < n; i++)
		lines += text[i] == '\n';
	assert_int_equal(lines, 1);
	assert_non_null(strstr(text, "1234567"));
	assert_null(strstr(text, "top secret"));
	assert_null(strstr(text, "label=k1"));
	free(ct);
}

/* --- index hash --------------------------------------------------------- */

static const uint8_t key_a[32] = {1, 2, 3};
static const uint8_t key_b[32] = {1, 2, 4};

static void test_vault__index_hash_matches_hmac_sha256(void **state)
{
	uint8_t msg[8 + 5], mac[32];
	unsigned int mac_len = 0;
	struct cf_store_key k;

	(void)state;
	/* be64(CKA_LABEL = 3) || "hello" */
	memset(msg, 0, 8);
	msg[7] = 3;
	memcpy(msg + 8, "hello", 5);
	assert_non_null(HMAC(EVP_sha256(), key_a, sizeof(key_a), msg,
			     sizeof(msg), mac, &mac_len));
	cf_vault_index_hash(key_a, CKA_LABEL, "hello", 5, &k);
	assert_memory_equal(k.b, mac, CF_STORE_KEY_LEN);
}

static void test_vault__index_hash_is_deterministic(void **state)
{
	struct cf_store_key a, b;

	(void)state;
	cf_vault_index_hash(key_a, CKA_ID, "id-1", 4, &a);
	cf_vault_index_hash(key_a, CKA_ID, "id-1", 4, &b);
	assert_memory_equal(a.b, b.b, CF_STORE_KEY_LEN);
}

static void test_vault__index_hash_differs_by_type(void **state)
{
	struct cf_store_key a, b;

	(void)state;
	cf_vault_index_hash(key_a, CKA_ID, "x", 1, &a);
	cf_vault_index_hash(key_a, CKA_LABEL, "x", 1, &b);
	assert_memory_not_equal(a.b, b.b, CF_STORE_KEY_LEN);
}

static void test_vault__index_hash_differs_by_value(void **state)
{
	struct cf_store_key a, b;

	(void)state;
	cf_vault_index_hash(key_a, CKA_ID, "id-1", 4, &a);
	cf_vault_index_hash(key_a, CKA_ID, "id-2", 4, &b);
	assert_memory_not_equal(a.b, b.b, CF_STORE_KEY_LEN);
}

static void test_vault__index_hash_differs_by_key(void **state)
{
	struct cf_store_key a, b;

	(void)state;
	cf_vault_index_hash(key_a, CKA_ID, "id-1", 4, &a);
	cf_vault_index_hash(key_b, CKA_ID, "id-1", 4, &b);
	assert_memory_not_equal(a.b, b.b, CF_STORE_KEY_LEN);
}

static void test_vault__index_hash_of_empty_value(void **state)
{
	struct cf_store_key a, b;

	(void)state;
	cf_vault_index_hash(key_a, CKA_ID, NULL, 0, &a);
	cf_vault_index_hash(key_a, CKA_ID, "", 0, &b);
	assert_memory_equal(a.b, b.b, CF_STORE_KEY_LEN);
	cf_vault_index_hash(key_a, CKA_LABEL, NULL, 0, &b);
	assert_memory_not_equal(a.b, b.b, CF_STORE_KEY_LEN);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_vault__hash_seal_open_from_many_threads),
	    T(test_vault__scrypt_matches_rfc7914_vector),
	    T(test_vault__scrypt_rejects_cost_zero),
	    T(test_vault__scrypt_rejects_cost_above_20),
	    T(test_vault__scrypt_rejects_memory_above_cap),
	    T(test_vault__token_key_new_is_32_fresh_bytes),
	    T(test_vault__wrap_unwrap_round_trip),
	    T(test_vault__wrap_unwrap_empty_pin_round_trip),
	    T(test_vault__wrap_writes_the_documented_header),
	    T(test_vault__wrap_rejects_cost_zero),
	    T(test_vault__wrap_rejects_cost_above_20),
	    T(test_vault__wrap_rejects_short_token_key),
	    T(test_vault__wrap_twice_differs),
	    T(test_vault__unwrap_wrong_pin_fails),
	    T(test_vault__unwrap_pin_prefix_fails),
	    T(test_vault__unwrap_bad_magic_fails),
	    T(test_vault__unwrap_unknown_kdf_fails),
	    T(test_vault__unwrap_kdf_zero_fails),
	    T(test_vault__unwrap_cost_zero_fails),
	    T(test_vault__unwrap_cost_21_fails),
	    T(test_vault__unwrap_cost_255_fails),
	    T(test_vault__unwrap_r_zero_fails),
	    T(test_vault__unwrap_r_huge_fails),
	    T(test_vault__unwrap_p_zero_fails),
	    T(test_vault__unwrap_p_huge_fails),
	    T(test_vault__unwrap_changed_cost_fails_tag),
	    T(test_vault__unwrap_changed_r_fails_tag),
	    T(test_vault__unwrap_truncated_blob_fails),
	    T(test_vault__unwrap_extended_blob_fails),
	    T(test_vault__unwrap_null_blob_fails),
	    T(test_vault__unwrap_null_pin_with_length_fails),
	    T(test_vault__unwrap_flipped_salt_fails),
	    T(test_vault__unwrap_flipped_nonce_fails),
	    T(test_vault__unwrap_flipped_ciphertext_fails),
	    T(test_vault__unwrap_flipped_tag_fails),
	    T(test_vault__blob_cost_reads_cost),
	    T(test_vault__blob_cost_malformed_fails),
	    T(test_vault__init_derives_record_key_by_hkdf),
	    T(test_vault__init_derives_index_key_by_hkdf),
	    T(test_vault__init_rejects_short_token_key),
	    T(test_vault__clear_wipes),
	    T(test_vault__seal_open_round_trip),
	    T(test_vault__seal_does_not_leak_plaintext),
	    T(test_vault__seal_open_empty_plaintext),
	    T(test_vault__seal_twice_differs),
	    T(test_vault__seal_uninitialised_vault_fails),
	    T(test_vault__seal_oversized_plaintext_fails),
	    T(test_vault__seal_open_largest_plaintext),
	    T(test_vault__open_with_other_id_fails),
	    T(test_vault__open_with_other_ad_fails),
	    T(test_vault__open_with_shorter_ad_fails),
	    T(test_vault__open_any_flipped_byte_fails),
	    T(test_vault__open_truncated_fails),
	    T(test_vault__open_extended_fails),
	    T(test_vault__open_under_other_token_key_fails),
	    T(test_vault__open_uninitialised_vault_fails),
	    T(test_vault__open_failure_logs_id_not_contents),
	    T(test_vault__index_hash_matches_hmac_sha256),
	    T(test_vault__index_hash_is_deterministic),
	    T(test_vault__index_hash_differs_by_type),
	    T(test_vault__index_hash_differs_by_value),
	    T(test_vault__index_hash_differs_by_key),
	    T(test_vault__index_hash_of_empty_value),
	};

	return cmocka_run_group_tests(tests, setup_group, NULL);
}
