/*
 * test_crypto.c - the generic rules of cryptographic operations (PKCS#11
 * v3.0 base 5.2 and 5.8-5.19: operation state, when an operation ends,
 * key checks, C_SessionCancel, CKA_ALWAYS_AUTHENTICATE with
 * CKU_CONTEXT_SPECIFIC, dual-function updates, random numbers and the
 * mechanism list), exercised with digest and MAC mechanisms.
 */
#include "harness.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#define MAX_OUT 512

static CK_OBJECT_CLASS cls_secret = CKO_SECRET_KEY,
		       cls_priv = CKO_PRIVATE_KEY;

static const char sha256_abc[] =
    "\xba\x78\x16\xbf\x8f\x01\xcf\xea\x41\x41\x40\xde\x5d\xae\x22\x23"
    "\xb0\x03\x61\xa3\x96\x17\x7a\x9c\xb4\x10\xff\x61\xf2\x00\x15\xad";

/* ---- helpers ------------------------------------------------------------ */

static CK_SESSION_HANDLE user_session(void)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	api_login(s, CKU_USER);
	return s;
}

static CK_MECHANISM sha256 = {CKM_SHA256, NULL, 0};
static CK_MECHANISM hmac256 = {CKM_SHA256_HMAC, NULL, 0};

/* A session generic secret of 32 bytes usable for HMAC, readable. */
static CK_OBJECT_HANDLE hmac_key_with(CK_SESSION_HANDLE s, CK_BBOOL token,
				      CK_BBOOL sign, CK_BBOOL verify,
				      const CK_MECHANISM_TYPE *allowed,
				      CK_ULONG nallowed)
{
	static const uint8_t v[32] = "0123456789abcdef0123456789abcdef";
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret),
	    ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_TOKEN, &token),
	    ATTR(CKA_PRIVATE, &api_true),
	    ATTR(CKA_SENSITIVE, &api_false),
	    ATTR(CKA_EXTRACTABLE, &api_true),
	    ATTR(CKA_SIGN, &sign),
	    ATTR(CKA_VERIFY, &verify),
	    ATTR_BUF(CKA_VALUE, v, sizeof(v)),
	    ATTR_BUF(CKA_ALLOWED_MECHANISMS, allowed,
		     nallowed * sizeof(CK_MECHANISM_TYPE)),
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_rv(CKR_OK, p11->C_CreateObject(s, t,
					      allowed ? NELEM(t) : NELEM(t) - 1,
					      &h));
	return h;
}

static CK_OBJECT_HANDLE hmac_key(CK_SESSION_HANDLE s)
{
	return hmac_key_with(s, CK_FALSE, CK_TRUE, CK_TRUE, NULL, 0);
}

static CK_OBJECT_HANDLE aes_key(CK_SESSION_HANDLE s)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_rv(CKR_OK, api_create_aes(s, CK_FALSE, CK_FALSE, CK_TRUE,
					 "aes", &h));
	return h;
}

static bool has_mechanism(CK_MECHANISM_TYPE t)
{
	CK_MECHANISM_INFO info;

	return p11->C_GetMechanismInfo(api_slot, t, &info) == CKR_OK;
}

static CK_FUNCTION_LIST_3_0 *list_3_0(void)
{
	CK_C_GetInterface get;
	CK_INTERFACE_PTR iface = NULL;
	CK_VERSION want = {3, 0};
	static char name[] = "PKCS 11";

	*(void **)&get = api_module_symbol("C_GetInterface");
	if (get == NULL)
		fail_msg("module does not export C_GetInterface");
	assert_rv(CKR_OK, get((CK_UTF8CHAR_PTR)name, &want, &iface, 0));
	return iface->pFunctionList;
}

static void assert_digest_abc(CK_SESSION_HANDLE s)
{
	uint8_t out[MAX_OUT];
	CK_ULONG len = sizeof(out);

	assert_rv(CKR_OK, p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len));
	assert_int_equal(len, 32);
	assert_memory_equal(out, sha256_abc, 32);
}

static void assert_digest_ended(CK_SESSION_HANDLE s)
{
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_DigestUpdate(s, (CK_BYTE_PTR) "x", 1));
}

/* ---- operation state ---------------------------------------------------- */

static void test_crypto__init_twice_fails_and_first_continues(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	CK_MECHANISM sha1 = {CKM_SHA_1, NULL, 0};

	(void)state;
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_rv(CKR_OPERATION_ACTIVE, p11->C_DigestInit(s, &sha1));
	assert_rv(CKR_OPERATION_ACTIVE, p11->C_DigestInit(s, &sha256));
	assert_digest_abc(s); /* still the first operation: SHA-256 */
}

static void test_crypto__without_init_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	uint8_t out[MAX_OUT];
	CK_ULONG len = sizeof(out);

	(void)state;
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len));
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_DigestUpdate(s, (CK_BYTE_PTR) "abc", 3));
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_DigestFinal(s, out, &len));
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_Sign(s, (CK_BYTE_PTR) "abc", 3, out, &len));
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_SignUpdate(s, (CK_BYTE_PTR) "abc", 3));
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_Verify(s, (CK_BYTE_PTR) "abc", 3, out, 32));
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_VerifyFinal(s, out, 32));
}

static void test_crypto__length_query_keeps_operation(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	CK_ULONG len = 0;

	(void)state;
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_rv(CKR_OK, p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3, NULL, &len));
	assert_int_equal(len, 32);
	assert_rv(CKR_OK, p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3, NULL, &len));
	assert_digest_abc(s);
}

static void test_crypto__too_small_then_retry_then_ended(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	uint8_t out[MAX_OUT];
	CK_ULONG len = 31;

	(void)state;
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_rv(CKR_BUFFER_TOO_SMALL,
		  p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len));
	assert_int_equal(len, 32);
	assert_digest_abc(s);
	assert_digest_ended(s);
}

static void test_crypto__single_part_success_ends_operation(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = hmac_key(s);
	uint8_t out[MAX_OUT];
	CK_ULONG len = sizeof(out);

	(void)state;
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_digest_abc(s);
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len));
	assert_rv(CKR_OK, p11->C_SignInit(s, &hmac256, k));
	assert_rv(CKR_OK, p11->C_Sign(s, (CK_BYTE_PTR) "abc", 3, out, &len));
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_SignUpdate(s, (CK_BYTE_PTR) "abc", 3));
	/* C_Verify ends the operation whatever the verdict. */
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &hmac256, k));
	out[0] ^= 1;
	assert_rv(CKR_SIGNATURE_INVALID,
		  p11->C_Verify(s, (CK_BYTE_PTR) "abc", 3, out, len));
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_VerifyUpdate(s, (CK_BYTE_PTR) "abc", 3));
}

static void test_crypto__final_ends_operation(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	uint8_t out[MAX_OUT];
	CK_ULONG len = sizeof(out);

	(void)state;
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_rv(CKR_OK, p11->C_DigestUpdate(s, (CK_BYTE_PTR) "abc", 3));
	assert_rv(CKR_OK, p11->C_DigestFinal(s, out, &len));
	assert_memory_equal(out, sha256_abc, 32);
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_DigestFinal(s, out, &len));
}

static void test_crypto__single_part_after_update_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	uint8_t out[MAX_OUT];
	CK_ULONG len = sizeof(out);

	(void)state;
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_rv(CKR_OK, p11->C_DigestUpdate(s, (CK_BYTE_PTR) "ab", 2));
	assert_rv(CKR_OPERATION_ACTIVE,
		  p11->C_Digest(s, (CK_BYTE_PTR) "c", 1, out, &len));
	/* The multi-part operation is untouched and still finishes. */
	assert_rv(CKR_OK, p11->C_DigestUpdate(s, (CK_BYTE_PTR) "c", 1));
	len = sizeof(out);
	assert_rv(CKR_OK, p11->C_DigestFinal(s, out, &len));
	assert_memory_equal(out, sha256_abc, 32);
}

static void test_crypto__update_error_ends_operation(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);

	(void)state;
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_rv(CKR_ARGUMENTS_BAD, p11->C_DigestUpdate(s, NULL, 5));
	assert_digest_ended(s);
}

/* ---- C_DigestKey -------------------------------------------------------- */

static void test_crypto__digest_key_equals_digest_of_value(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = hmac_key(s);
	uint8_t value[64], want[MAX_OUT], got[MAX_OUT];
	CK_ULONG vlen = sizeof(value), wlen = sizeof(want),
		 glen = sizeof(got);

	(void)state;
	assert_rv(CKR_OK, api_get_bytes(s, k, CKA_VALUE, value, &vlen));
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_rv(CKR_OK, p11->C_Digest(s, value, vlen, want, &wlen));
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_rv(CKR_OK, p11->C_DigestKey(s, k));
	assert_rv(CKR_OK, p11->C_DigestFinal(s, got, &glen));
	assert_int_equal(glen, wlen);
	assert_memory_equal(got, want, glen);
}

static void test_crypto__digest_key_of_public_key_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE pub, priv;

	(void)state;
	assert_rv(CKR_OK, api_create_rsa_pair(s, CK_FALSE, "rsa", &pub, &priv));
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_rv(CKR_KEY_INDIGESTIBLE, p11->C_DigestKey(s, pub));
}

static void test_crypto__digest_key_bad_handle_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();

	(void)state;
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_rv(CKR_KEY_HANDLE_INVALID, p11->C_DigestKey(s, 0x7ffffff0));
}

static void test_crypto__digest_key_without_init_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = hmac_key(s);

	(void)state;
	assert_rv(CKR_OPERATION_NOT_INITIALIZED, p11->C_DigestKey(s, k));
}

/* ---- mechanism and key checks at init ----------------------------------- */

static void test_crypto__unknown_mechanism_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = hmac_key(s);
	CK_MECHANISM m = {CKM_VENDOR_DEFINED | 0x5eed, NULL, 0};

	(void)state;
	assert_rv(CKR_MECHANISM_INVALID, p11->C_DigestInit(s, &m));
	assert_rv(CKR_MECHANISM_INVALID, p11->C_SignInit(s, &m, k));
	assert_rv(CKR_MECHANISM_INVALID, p11->C_VerifyInit(s, &m, k));
}

static void test_crypto__mechanism_of_other_function_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = hmac_key(s);

	(void)state;
	assert_rv(CKR_MECHANISM_INVALID, p11->C_SignInit(s, &sha256, k));
	assert_rv(CKR_MECHANISM_INVALID, p11->C_VerifyInit(s, &sha256, k));
	assert_rv(CKR_MECHANISM_INVALID, p11->C_DigestInit(s, &hmac256));
	assert_rv(CKR_MECHANISM_INVALID, p11->C_EncryptInit(s, &hmac256, k));
	/* nothing was started */
	assert_rv(CKR_OK, p11->C_SignInit(s, &hmac256, k));
}

static void test_crypto__bad_key_handle_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();

	(void)state;
	assert_rv(CKR_KEY_HANDLE_INVALID,
		  p11->C_SignInit(s, &hmac256, 0x7ffffff0));
	assert_rv(CKR_KEY_HANDLE_INVALID,
		  p11->C_VerifyInit(s, &hmac256, CK_INVALID_HANDLE));
}

static void test_crypto__key_type_not_taken_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE aes = aes_key(s);

	(void)state;
	assert_rv(CKR_KEY_TYPE_INCONSISTENT,
		  p11->C_SignInit(s, &hmac256, aes));
	assert_rv(CKR_KEY_TYPE_INCONSISTENT,
		  p11->C_VerifyInit(s, &hmac256, aes));
}

static void test_crypto__usage_not_permitted_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE no_sign =
	    hmac_key_with(s, CK_FALSE, CK_FALSE, CK_TRUE, NULL, 0);
	CK_OBJECT_HANDLE no_verify =
	    hmac_key_with(s, CK_FALSE, CK_TRUE, CK_FALSE, NULL, 0);

	(void)state;
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED,
		  p11->C_SignInit(s, &hmac256, no_sign));
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED,
		  p11->C_VerifyInit(s, &hmac256, no_verify));
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &hmac256, no_sign));
}

static void test_crypto__allowed_mechanisms_exclude_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	const CK_MECHANISM_TYPE only[] = {CKM_SHA_1_HMAC};
	CK_OBJECT_HANDLE k =
	    hmac_key_with(s, CK_FALSE, CK_TRUE, CK_TRUE, only, NELEM(only));
	CK_MECHANISM hmac1 = {CKM_SHA_1_HMAC, NULL, 0};

	(void)state;
	assert_rv(CKR_MECHANISM_INVALID, p11->C_SignInit(s, &hmac256, k));
	assert_rv(CKR_OK, p11->C_SignInit(s, &hmac1, k));
}

/* A private object is invisible once the user logs out. */
static void test_crypto__private_key_without_login_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k =
	    hmac_key_with(s, CK_TRUE, CK_TRUE, CK_TRUE, NULL, 0);

	(void)state;
	assert_rv(CKR_OK, p11->C_Logout(s));
	assert_rv(CKR_KEY_HANDLE_INVALID, p11->C_SignInit(s, &hmac256, k));
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_rv(CKR_KEY_HANDLE_INVALID, p11->C_DigestKey(s, k));
}

/* ---- session-wide rules ------------------------------------------------- */

static void test_crypto__session_cancel_ends_chosen_only(void **state)
{
	CK_FUNCTION_LIST_3_0 *f = list_3_0();
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = hmac_key(s);
	uint8_t out[MAX_OUT];
	CK_ULONG len = sizeof(out);

	(void)state;
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_rv(CKR_OK, p11->C_SignInit(s, &hmac256, k));
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &hmac256, k));
	assert_rv(CKR_OK, f->C_SessionCancel(s, CKF_DIGEST | CKF_VERIFY));
	assert_digest_ended(s);
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_VerifyUpdate(s, (CK_BYTE_PTR) "abc", 3));
	assert_rv(CKR_OK, p11->C_Sign(s, (CK_BYTE_PTR) "abc", 3, out, &len));
	/* the cancelled kinds can start again */
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_digest_abc(s);
}

/* A key in use must not outlive the login that allowed it: C_Logout ends
 * the operations of every session of the token. */
static void test_crypto__logout_ends_operations(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_SESSION_HANDLE other = api_open(api_slot, false);
	CK_OBJECT_HANDLE k = hmac_key(s);
	uint8_t out[MAX_OUT];
	CK_ULONG len = sizeof(out);

	(void)state;
	assert_rv(CKR_OK, p11->C_SignInit(s, &hmac256, k));
	assert_rv(CKR_OK, p11->C_SignInit(other, &hmac256, k));
	assert_rv(CKR_OK, p11->C_Logout(s));
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_Sign(s, (CK_BYTE_PTR) "abc", 3, out, &len));
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_Sign(other, (CK_BYTE_PTR) "abc", 3, out, &len));
	p11->C_CloseSession(other);
}

/* ASan/valgrind runs check that the operations' state is freed. (A token
 * may refuse operations of different kinds at once, CKR_OPERATION_ACTIVE:
 * each session here has one.) */
static void test_crypto__close_session_with_active_operations(void **state)
{
	CK_SESSION_HANDLE s = user_session(), s2, s3;
	CK_OBJECT_HANDLE k = hmac_key(s);

	(void)state;
	s2 = api_open(api_slot, false);
	s3 = api_open(api_slot, false);
	assert_rv(CKR_OK, p11->C_DigestInit(s2, &sha256));
	assert_rv(CKR_OK, p11->C_DigestUpdate(s2, (CK_BYTE_PTR) "abc", 3));
	assert_rv(CKR_OK, p11->C_SignInit(s3, &hmac256, k));
	assert_rv(CKR_OK, p11->C_SignUpdate(s3, (CK_BYTE_PTR) "abc", 3));
	assert_rv(CKR_OK, p11->C_CloseSession(s2));
	assert_rv(CKR_SESSION_HANDLE_INVALID,
		  p11->C_DigestUpdate(s2, (CK_BYTE_PTR) "abc", 3));
	assert_rv(CKR_OK, p11->C_CloseSession(s3));
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &hmac256, k));
	assert_rv(CKR_OK, p11->C_CloseAllSessions(api_slot));
}

static void test_crypto__two_sessions_are_independent(void **state)
{
	CK_SESSION_HANDLE a = user_session(), b = api_open(api_slot, false);
	CK_OBJECT_HANDLE k = hmac_key(a);
	CK_MECHANISM sha1 = {CKM_SHA_1, NULL, 0};
	uint8_t out_a[MAX_OUT], out_b[MAX_OUT], ref[MAX_OUT], mac[MAX_OUT];
	CK_ULONG la = sizeof(out_a), lb = sizeof(out_b), lr = sizeof(ref),
		 lm = sizeof(mac);
	unsigned int n;

	(void)state;
	assert_rv(CKR_OK, p11->C_DigestInit(a, &sha256));
	assert_rv(CKR_OK, p11->C_DigestInit(b, &sha1));
	assert_rv(CKR_OK, p11->C_DigestUpdate(a, (CK_BYTE_PTR) "a", 1));
	assert_rv(CKR_OK, p11->C_DigestUpdate(b, (CK_BYTE_PTR) "xyz", 3));
	assert_rv(CKR_OK, p11->C_DigestUpdate(a, (CK_BYTE_PTR) "bc", 2));
	assert_rv(CKR_OK, p11->C_DigestFinal(a, out_a, &la));
	assert_memory_equal(out_a, sha256_abc, 32);
	assert_rv(CKR_OK, p11->C_DigestFinal(b, out_b, &lb));
	assert_int_equal(EVP_Digest("xyz", 3, ref, &n, EVP_sha1(), NULL), 1);
	assert_int_equal(lb, n);
	assert_memory_equal(out_b, ref, n);

	assert_rv(CKR_OK, p11->C_SignInit(a, &hmac256, k));
	assert_rv(CKR_OK, p11->C_SignInit(b, &hmac256, k));
	assert_rv(CKR_OK, p11->C_SignUpdate(b, (CK_BYTE_PTR) "abc", 3));
	assert_rv(CKR_OK, p11->C_SignUpdate(a, (CK_BYTE_PTR) "abd", 3));
	/* different data, different MACs, each right for its own data */
	assert_rv(CKR_OK, p11->C_SignFinal(a, mac, &lm));
	assert_rv(CKR_OK, p11->C_SignFinal(b, ref, &lr));
	assert_memory_not_equal(mac, ref, lm);
	assert_rv(CKR_OK, p11->C_VerifyInit(b, &hmac256, k));
	assert_rv(CKR_OK, p11->C_Verify(b, (CK_BYTE_PTR) "abd", 3, mac, lm));
}

/* Operations of different kinds in one session do not disturb each
 * other (coffer allows one of each kind at once). */
static void test_crypto__operations_of_different_kinds_coexist(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = hmac_key(s);
	uint8_t mac[MAX_OUT];
	CK_ULONG lm = sizeof(mac);

	(void)state;
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	assert_rv(CKR_OK, p11->C_SignInit(s, &hmac256, k));
	assert_rv(CKR_OK, p11->C_SignUpdate(s, (CK_BYTE_PTR) "abc", 3));
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &hmac256, k));
	assert_rv(CKR_OK, p11->C_SignFinal(s, mac, &lm));
	assert_digest_abc(s);
	assert_rv(CKR_OK, p11->C_Verify(s, (CK_BYTE_PTR) "abc", 3, mac, lm));
}

/* ---- dual-function updates (5.17) --------------------------------------- */

static void aes_ecb_ref(const uint8_t *key, const uint8_t *in, int inl,
			uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0;

	assert_non_null(c);
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_ecb(), NULL, key,
					    NULL),
			 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_EncryptUpdate(c, out, &n, in, inl), 1);
	assert_int_equal(n, inl);
	EVP_CIPHER_CTX_free(c);
}

static void test_crypto__dual_function_updates(void **state)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE aes, k;
	CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
	uint8_t key[32], data[64], ct[MAX_OUT], pt[MAX_OUT], ref[MAX_OUT],
	    dg[MAX_OUT], mac[MAX_OUT];
	CK_ULONG len, klen = sizeof(key), dlen, mlen;

	(void)state;
	assert_true(has_mechanism(CKM_AES_ECB));
	s = user_session();
	aes = aes_key(s);
	k = hmac_key(s);
	assert_rv(CKR_OK, api_get_bytes(s, aes, CKA_VALUE, key, &klen));
	assert_int_equal(klen, 32);
	assert_int_equal(RAND_bytes(data, sizeof(data)), 1);
	aes_ecb_ref(key, data, sizeof(data), ref);

	/* digest + encrypt: the digest is of the plaintext */
	assert_rv(CKR_OK, p11->C_EncryptInit(s, &ecb, aes));
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	len = sizeof(ct);
	assert_rv(CKR_OK,
		  p11->C_DigestEncryptUpdate(s, data, sizeof(data), ct, &len));
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(ct, ref, len);
	len = sizeof(pt);
	assert_rv(CKR_OK, p11->C_EncryptFinal(s, pt, &len));
	assert_int_equal(len, 0);
	dlen = sizeof(dg);
	assert_rv(CKR_OK, p11->C_DigestFinal(s, dg, &dlen));
	assert_int_equal(EVP_Digest(data, sizeof(data), ref, NULL,
				    EVP_sha256(), NULL),
			 1);
	assert_memory_equal(dg, ref, 32);

	/* decrypt + digest: the digest is of the recovered plaintext */
	assert_rv(CKR_OK, p11->C_DecryptInit(s, &ecb, aes));
	assert_rv(CKR_OK, p11->C_DigestInit(s, &sha256));
	len = sizeof(pt);
	assert_rv(CKR_OK,
		  p11->C_DecryptDigestUpdate(s, ct, sizeof(data), pt, &len));
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(pt, data, len);
	len = sizeof(pt);
	assert_rv(CKR_OK, p11->C_DecryptFinal(s, pt, &len));
	dlen = sizeof(dg);
	assert_rv(CKR_OK, p11->C_DigestFinal(s, dg, &dlen));
	assert_memory_equal(dg, ref, 32);

	/* sign + encrypt, then decrypt + verify of the same */
	assert_rv(CKR_OK, p11->C_EncryptInit(s, &ecb, aes));
	assert_rv(CKR_OK, p11->C_SignInit(s, &hmac256, k));
	len = sizeof(ct);
	assert_rv(CKR_OK,
		  p11->C_SignEncryptUpdate(s, data, sizeof(data), ct, &len));
	len = sizeof(pt);
	assert_rv(CKR_OK, p11->C_EncryptFinal(s, pt, &len));
	mlen = sizeof(mac);
	assert_rv(CKR_OK, p11->C_SignFinal(s, mac, &mlen));
	assert_rv(CKR_OK, p11->C_DecryptInit(s, &ecb, aes));
	assert_rv(CKR_OK, p11->C_VerifyInit(s, &hmac256, k));
	len = sizeof(pt);
	assert_rv(CKR_OK,
		  p11->C_DecryptVerifyUpdate(s, ct, sizeof(data), pt, &len));
	assert_memory_equal(pt, data, sizeof(data));
	len = sizeof(pt);
	assert_rv(CKR_OK, p11->C_DecryptFinal(s, pt, &len));
	assert_rv(CKR_OK, p11->C_VerifyFinal(s, mac, mlen));
}

static void test_crypto__dual_function_needs_both_operations(void **state)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE aes;
	CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
	uint8_t data[16] = {0}, ct[MAX_OUT];
	CK_ULONG len = sizeof(ct);

	(void)state;
	assert_true(has_mechanism(CKM_AES_ECB));
	s = user_session();
	aes = aes_key(s);
	assert_rv(CKR_OK, p11->C_EncryptInit(s, &ecb, aes));
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  p11->C_DigestEncryptUpdate(s, data, sizeof(data), ct, &len));
}

/* ---- random numbers (5.19) ---------------------------------------------- */

static void test_crypto__generate_random_lengths(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	const CK_ULONG lens[] = {0, 1, 32, 1024 * 1024};
	uint8_t *buf = malloc(1024 * 1024);

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < NELEM(lens); i++) {
		size_t zeros = 0;
		memset(buf, 0, 1024 * 1024);
		assert_rv(CKR_OK, p11->C_GenerateRandom(s, buf, lens[i]));
		if (lens[i] < 32)
			continue;
		for (size_t j = 0; j < lens[i]; j++)
			zeros += buf[j] == 0;
		/* about 1/256 of the bytes; all zero would be a failure */
		assert_true(zeros < lens[i] / 32 + 4);
	}
	free(buf);
}

static void test_crypto__generate_random_null_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);

	(void)state;
	assert_rv(CKR_ARGUMENTS_BAD, p11->C_GenerateRandom(s, NULL, 16));
}

static void test_crypto__generate_random_differs(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	uint8_t a[32], b[32];

	(void)state;
	assert_rv(CKR_OK, p11->C_GenerateRandom(s, a, sizeof(a)));
	assert_rv(CKR_OK, p11->C_GenerateRandom(s, b, sizeof(b)));
	assert_memory_not_equal(a, b, sizeof(a));
}

static void test_crypto__seed_random_accepted(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	uint8_t seed[32] = {1, 2, 3}, a[32], b[32];

	(void)state;
	assert_rv(CKR_OK, p11->C_SeedRandom(s, seed, sizeof(seed)));
	assert_rv(CKR_OK, p11->C_GenerateRandom(s, a, sizeof(a)));
	/* the same seed again does not replay the output */
	assert_rv(CKR_OK, p11->C_SeedRandom(s, seed, sizeof(seed)));
	assert_rv(CKR_OK, p11->C_GenerateRandom(s, b, sizeof(b)));
	assert_memory_not_equal(a, b, sizeof(a));
}

static void test_crypto__random_bad_session_fails(void **state)
{
	uint8_t a[8];

	(void)state;
	assert_rv(CKR_SESSION_HANDLE_INVALID,
		  p11->C_GenerateRandom(0x7ffffff0, a, sizeof(a)));
	assert_rv(CKR_SESSION_HANDLE_INVALID,
		  p11->C_SeedRandom(0x7ffffff0, a, sizeof(a)));
}

/* ---- the mechanism list ------------------------------------------------- */

static CK_MECHANISM_TYPE *mech_list(CK_ULONG *n)
{
	CK_MECHANISM_TYPE *list;

	assert_rv(CKR_OK, p11->C_GetMechanismList(api_slot, NULL, n));
	assert_true(*n > 0);
	list = calloc(*n, sizeof(*list));
	assert_non_null(list);
	assert_rv(CKR_OK, p11->C_GetMechanismList(api_slot, list, n));
	return list;
}

static void test_crypto__mechanism_list_length_query_and_too_small(void **state)
{
	CK_ULONG n = 0, small;
	CK_MECHANISM_TYPE *list = mech_list(&n);

	(void)state;
	small = n - 1;
	assert_rv(CKR_BUFFER_TOO_SMALL,
		  p11->C_GetMechanismList(api_slot, list, &small));
	assert_int_equal(small, n);
	free(list);
}

static void test_crypto__listed_mechanisms_have_info(void **state)
{
	const CK_FLAGS functions =
	    CKF_ENCRYPT | CKF_DECRYPT | CKF_DIGEST | CKF_SIGN |
	    CKF_SIGN_RECOVER | CKF_VERIFY | CKF_VERIFY_RECOVER | CKF_GENERATE |
	    CKF_GENERATE_KEY_PAIR | CKF_WRAP | CKF_UNWRAP | CKF_DERIVE |
	    CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT | CKF_MESSAGE_SIGN |
	    CKF_MESSAGE_VERIFY;
	CK_ULONG n = 0;
	CK_MECHANISM_TYPE *list = mech_list(&n);
	CK_MECHANISM_INFO info;

	(void)state;
	for (CK_ULONG i = 0; i < n; i++) {
		assert_rv(CKR_OK,
			  p11->C_GetMechanismInfo(api_slot, list[i], &info));
		if (info.ulMinKeySize > info.ulMaxKeySize)
			fail_msg("mechanism 0x%lx: min %lu > max %lu", list[i],
				 info.ulMinKeySize, info.ulMaxKeySize);
		if ((info.flags & functions) == 0)
			fail_msg("mechanism 0x%lx has no function flag",
				 list[i]);
		if (i > 0 && list[i] == list[i - 1])
			fail_msg("mechanism 0x%lx listed twice", list[i]);
	}
	free(list);
}

static void test_crypto__unlisted_mechanism_has_no_info(void **state)
{
	CK_ULONG n = 0;
	CK_MECHANISM_TYPE *list = mech_list(&n);
	CK_MECHANISM_INFO info;
	CK_MECHANISM_TYPE t;
	bool listed;

	(void)state;
	/* the first type below 0x2000 that is not listed */
	for (t = 0; t < 0x2000; t++) {
		listed = false;
		for (CK_ULONG i = 0; i < n; i++)
			listed = listed || list[i] == t;
		if (!listed)
			break;
	}
	assert_true(t < 0x2000);
	assert_rv(CKR_MECHANISM_INVALID,
		  p11->C_GetMechanismInfo(api_slot, t, &info));
	assert_rv(CKR_MECHANISM_INVALID,
		  p11->C_GetMechanismInfo(api_slot, CKM_VENDOR_DEFINED | 0x5eed,
					  &info));
	free(list);
}

/* ---- CKA_ALWAYS_AUTHENTICATE (4.9, 5.6.9 CKU_CONTEXT_SPECIFIC) ---------- */

static bool mechanism_listed(CK_MECHANISM_TYPE t)
{
	CK_ULONG n = 0;
	CK_MECHANISM_TYPE *list = mech_list(&n);
	bool found = false;

	for (CK_ULONG i = 0; i < n; i++)
		found = found || list[i] == t;
	free(list);
	return found;
}

/* The harness's RSA key, imported with CKA_ALWAYS_AUTHENTICATE. */
static CK_OBJECT_HANDLE always_auth_key(CK_SESSION_HANDLE s)
{
	const struct api_rsa *r = api_rsa_material();
	CK_KEY_TYPE kt = CKK_RSA;
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_priv),
	    ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_TOKEN, &api_false),
	    ATTR(CKA_PRIVATE, &api_true),
	    ATTR(CKA_SENSITIVE, &api_true),
	    ATTR(CKA_SIGN, &api_true),
	    ATTR(CKA_ALWAYS_AUTHENTICATE, &api_true),
	    ATTR_BUF(CKA_MODULUS, r->n, r->n_len),
	    ATTR_BUF(CKA_PUBLIC_EXPONENT, r->e, r->e_len),
	    ATTR_BUF(CKA_PRIVATE_EXPONENT, r->d, r->d_len),
	    ATTR_BUF(CKA_PRIME_1, r->p, r->p_len),
	    ATTR_BUF(CKA_PRIME_2, r->q, r->q_len),
	    ATTR_BUF(CKA_EXPONENT_1, r->dp, r->dp_len),
	    ATTR_BUF(CKA_EXPONENT_2, r->dq, r->dq_len),
	    ATTR_BUF(CKA_COEFFICIENT, r->qi, r->qi_len),
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_rv(CKR_OK, p11->C_CreateObject(s, t, NELEM(t), &h));
	return h;
}

static CK_RV context_login(CK_SESSION_HANDLE s, const char *pin)
{
	return p11->C_Login(s, CKU_CONTEXT_SPECIFIC, API_PIN(pin));
}

static CK_RV rsa_sign(CK_SESSION_HANDLE s, uint8_t *out, CK_ULONG *len)
{
	*len = MAX_OUT;
	return p11->C_Sign(s, (CK_BYTE_PTR) "abc", 3, out, len);
}

static CK_MECHANISM rsa_pkcs = {CKM_RSA_PKCS, NULL, 0};

static void test_crypto__always_authenticate_needs_context_login(void **state)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	uint8_t sig[MAX_OUT];
	CK_ULONG len;

	(void)state;
	assert_true(mechanism_listed(CKM_RSA_PKCS));
	s = user_session();
	k = always_auth_key(s);
	assert_rv(CKR_OK, p11->C_SignInit(s, &rsa_pkcs, k));
	assert_rv(CKR_USER_NOT_LOGGED_IN, rsa_sign(s, sig, &len));
}

/* The operation survives CKR_USER_NOT_LOGGED_IN: the application logs in
 * (CKU_CONTEXT_SPECIFIC) and carries on, as v3.0 4.9 and 5.6.9 describe. */
static void test_crypto__always_authenticate_login_then_retry(void **state)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	uint8_t sig[MAX_OUT];
	CK_ULONG len;

	(void)state;
	assert_true(mechanism_listed(CKM_RSA_PKCS));
	s = user_session();
	k = always_auth_key(s);
	assert_rv(CKR_OK, p11->C_SignInit(s, &rsa_pkcs, k));
	assert_rv(CKR_USER_NOT_LOGGED_IN, rsa_sign(s, sig, &len));
	assert_rv(CKR_OPERATION_ACTIVE, p11->C_SignInit(s, &rsa_pkcs, k));
	assert_rv(CKR_OK, context_login(s, API_USER_PIN));
	assert_rv(CKR_OK, rsa_sign(s, sig, &len));
	assert_int_equal(len, api_rsa_material()->n_len);
}

static void test_crypto__always_authenticate_wrong_pin_fails(void **state)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	uint8_t sig[MAX_OUT];
	CK_ULONG len;

	(void)state;
	assert_true(mechanism_listed(CKM_RSA_PKCS));
	s = user_session();
	k = always_auth_key(s);
	assert_rv(CKR_OK, p11->C_SignInit(s, &rsa_pkcs, k));
	assert_rv(CKR_PIN_INCORRECT, context_login(s, "99999999"));
	assert_rv(CKR_OK, context_login(s, API_USER_PIN));
	assert_rv(CKR_OK, rsa_sign(s, sig, &len));
	assert_int_equal(len, api_rsa_material()->n_len);
}

static void test_crypto__always_authenticate_every_operation(void **state)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE k;
	uint8_t sig[MAX_OUT];
	CK_ULONG len;

	(void)state;
	assert_true(mechanism_listed(CKM_RSA_PKCS));
	s = user_session();
	k = always_auth_key(s);
	assert_rv(CKR_OK, p11->C_SignInit(s, &rsa_pkcs, k));
	assert_rv(CKR_OK, context_login(s, API_USER_PIN));
	assert_rv(CKR_OK, rsa_sign(s, sig, &len));
	assert_rv(CKR_OK, p11->C_SignInit(s, &rsa_pkcs, k));
	assert_rv(CKR_USER_NOT_LOGGED_IN, rsa_sign(s, sig, &len));
}

/* Needs no RSA: there is no operation at all. */
static void test_crypto__context_login_without_operation_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = hmac_key(s);

	(void)state;
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  context_login(s, API_USER_PIN));
	/* nor for an operation on a key without CKA_ALWAYS_AUTHENTICATE */
	assert_rv(CKR_OK, p11->C_SignInit(s, &hmac256, k));
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  context_login(s, API_USER_PIN));
}

#define T(f) cmocka_unit_test_setup_teardown(f, api_setup_token, api_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_crypto__init_twice_fails_and_first_continues),
	    T(test_crypto__without_init_fails),
	    T(test_crypto__length_query_keeps_operation),
	    T(test_crypto__too_small_then_retry_then_ended),
	    T(test_crypto__single_part_success_ends_operation),
	    T(test_crypto__final_ends_operation),
	    T(test_crypto__single_part_after_update_fails),
	    T(test_crypto__update_error_ends_operation),
	    T(test_crypto__digest_key_equals_digest_of_value),
	    T(test_crypto__digest_key_of_public_key_fails),
	    T(test_crypto__digest_key_bad_handle_fails),
	    T(test_crypto__digest_key_without_init_fails),
	    T(test_crypto__unknown_mechanism_fails),
	    T(test_crypto__mechanism_of_other_function_fails),
	    T(test_crypto__bad_key_handle_fails),
	    T(test_crypto__key_type_not_taken_fails),
	    T(test_crypto__usage_not_permitted_fails),
	    T(test_crypto__allowed_mechanisms_exclude_fails),
	    T(test_crypto__private_key_without_login_fails),
	    T(test_crypto__session_cancel_ends_chosen_only),
	    T(test_crypto__logout_ends_operations),
	    T(test_crypto__close_session_with_active_operations),
	    T(test_crypto__two_sessions_are_independent),
	    T(test_crypto__operations_of_different_kinds_coexist),
	    T(test_crypto__dual_function_updates),
	    T(test_crypto__dual_function_needs_both_operations),
	    T(test_crypto__generate_random_lengths),
	    T(test_crypto__generate_random_null_fails),
	    T(test_crypto__generate_random_differs),
	    T(test_crypto__seed_random_accepted),
	    T(test_crypto__random_bad_session_fails),
	    T(test_crypto__mechanism_list_length_query_and_too_small),
	    T(test_crypto__listed_mechanisms_have_info),
	    T(test_crypto__unlisted_mechanism_has_no_info),
	    T(test_crypto__always_authenticate_needs_context_login),
	    T(test_crypto__always_authenticate_login_then_retry),
	    T(test_crypto__always_authenticate_wrong_pin_fails),
	    T(test_crypto__always_authenticate_every_operation),
	    T(test_crypto__context_login_without_operation_fails),
	};

	return api_run(argc, argv, "crypto", tests, NELEM(tests));
}
