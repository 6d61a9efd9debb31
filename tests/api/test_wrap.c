/*
 * test_wrap.c - key wrapping and HKDF (PKCS#11 v3.0 base 5.18.3-5.18.5;
 * Current Mechanisms 2.14 AES key wrap, 2.43 HKDF): C_WrapKey and
 * C_UnwrapKey with CKM_AES_KEY_WRAP (RFC 3394 section 4 vectors),
 * CKM_AES_KEY_WRAP_KWP and _PAD (RFC 5649 section 6 vectors), their
 * single-part C_Encrypt/C_Decrypt form, and C_DeriveKey with
 * CKM_HKDF_DERIVE / CKM_HKDF_DATA (RFC 5869 appendix A).
 *
 * Keys whose values the tests read back are made non-sensitive and
 * extractable, and so are the wrapping keys: coffer's key-usage policy
 * (test_policy.c) lets a key unwrapped or derived from a protected key
 * only be sensitive.
 */
#include "harness.h"

#include <openssl/crypto.h>

static CK_OBJECT_CLASS cls_secret = CKO_SECRET_KEY, cls_data = CKO_DATA,
		       cls_priv = CKO_PRIVATE_KEY;
static CK_KEY_TYPE kt_aes = CKK_AES, kt_generic = CKK_GENERIC_SECRET;

/* ---- helpers ------------------------------------------------------------ */

static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = strlen(hex) / 2;

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned int b;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (unsigned char)b;
	}
	return n;
}

static CK_SESSION_HANDLE user_rw(void)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	api_login(s, CKU_USER);
	return s;
}

static bool have_mech(CK_MECHANISM_TYPE m)
{
	CK_MECHANISM_INFO info;

	return p11->C_GetMechanismInfo(api_slot, m, &info) == CKR_OK;
}

/* A secret key of value v: readable (non-sensitive, extractable). */
static CK_OBJECT_HANDLE secret(CK_SESSION_HANDLE s, CK_KEY_TYPE kt,
			       const unsigned char *v, size_t len,
			       CK_ATTRIBUTE *extra, CK_ULONG nextra)
{
	CK_ATTRIBUTE t[16] = {
	    ATTR(CKA_CLASS, &cls_secret),    ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_SENSITIVE, &api_false), ATTR(CKA_EXTRACTABLE, &api_true),
	    ATTR_BUF(CKA_VALUE, v, len),
	};
	CK_ULONG n = 5;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	for (CK_ULONG i = 0; i < nextra; i++)
		t[n++] = extra[i];
	assert_rv(CKR_OK, p11->C_CreateObject(s, t, n, &h));
	return h;
}

static CK_OBJECT_HANDLE secret_hex(CK_SESSION_HANDLE s, CK_KEY_TYPE kt,
				   const char *hex)
{
	unsigned char v[64];
	size_t len = unhex(hex, v, sizeof(v));

	return secret(s, kt, v, len, NULL, 0);
}

static void assert_value_hex(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
			     const char *hex)
{
	unsigned char want[128], got[128];
	size_t wl = unhex(hex, want, sizeof(want));
	CK_ULONG gl = sizeof(got);

	assert_rv(CKR_OK, api_get_bytes(s, o, CKA_VALUE, got, &gl));
	assert_int_equal(gl, wl);
	assert_memory_equal(got, want, wl);
}

static CK_ULONG count_objects(CK_SESSION_HANDLE s)
{
	return api_find(s, NULL, 0, NULL, 0);
}

/* Unwraps a secret key of type kt as non-sensitive and extractable. */
static CK_RV unwrap_secret(CK_SESSION_HANDLE s, CK_MECHANISM *m,
			   CK_OBJECT_HANDLE kek, const unsigned char *blob,
			   CK_ULONG len, CK_KEY_TYPE kt, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret),
	    ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_SENSITIVE, &api_false),
	    ATTR(CKA_EXTRACTABLE, &api_true),
	};

	return p11->C_UnwrapKey(s, m, kek, (CK_BYTE_PTR)blob, len, t, NELEM(t),
				out);
}

/* ---- known answers ------------------------------------------------------ */

struct kw_vector {
	const char *name, *kek, *key, *wrapped;
	CK_KEY_TYPE kt;
};

/* RFC 3394 section 4. */
static const struct kw_vector rfc3394[] = {
    {"4.1", "000102030405060708090A0B0C0D0E0F",
     "00112233445566778899AABBCCDDEEFF",
     "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5", CKK_AES},
    {"4.2", "000102030405060708090A0B0C0D0E0F1011121314151617",
     "00112233445566778899AABBCCDDEEFF",
     "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D", CKK_AES},
    {"4.3", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
     "00112233445566778899AABBCCDDEEFF",
     "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7", CKK_AES},
    {"4.4", "000102030405060708090A0B0C0D0E0F1011121314151617",
     "00112233445566778899AABBCCDDEEFF0001020304050607",
     "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2",
     CKK_AES},
    {"4.5", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
     "00112233445566778899AABBCCDDEEFF0001020304050607",
     "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1",
     CKK_AES},
    {"4.6", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
     "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
     "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB98"
     "8B9B7A02DD21",
     CKK_AES},
};

/* RFC 5649 section 6. */
static const struct kw_vector rfc5649[] = {
    {"20 octets", "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
     "c37b7e6492584340bed12207808941155068f738",
     "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
     CKK_GENERIC_SECRET},
    {"7 octets", "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
     "466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f", CKK_GENERIC_SECRET},
};

static void run_vectors(CK_MECHANISM_TYPE mt, const struct kw_vector *v,
			size_t n)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = {mt, NULL, 0};

	for (size_t i = 0; i < n; i++) {
		unsigned char want[64], got[64];
		size_t wl = unhex(v[i].wrapped, want, sizeof(want));
		CK_ULONG gl = sizeof(got);
		CK_OBJECT_HANDLE kek = secret_hex(s, CKK_AES, v[i].kek);
		CK_OBJECT_HANDLE key = secret_hex(s, v[i].kt, v[i].key);
		CK_OBJECT_HANDLE back = CK_INVALID_HANDLE;

		print_message("# vector %s\n", v[i].name);
		assert_rv(CKR_OK, p11->C_WrapKey(s, &m, kek, key, got, &gl));
		assert_int_equal(gl, wl);
		assert_memory_equal(got, want, wl);
		assert_rv(CKR_OK, unwrap_secret(s, &m, kek, want, (CK_ULONG)wl,
						v[i].kt, &back));
		assert_value_hex(s, back, v[i].key);
	}
	p11->C_CloseSession(s);
}

static void test_wrap__rfc3394_vectors(void **state)
{
	(void)state;
	run_vectors(CKM_AES_KEY_WRAP, rfc3394, NELEM(rfc3394));
}

static void test_wrap__rfc5649_vectors_kwp(void **state)
{
	(void)state;
	run_vectors(CKM_AES_KEY_WRAP_KWP, rfc5649, NELEM(rfc5649));
}

static void test_wrap__rfc5649_vectors_pad(void **state)
{
	(void)state;
	run_vectors(CKM_AES_KEY_WRAP_PAD, rfc5649, NELEM(rfc5649));
}

/* C_Encrypt / C_Decrypt: the same transformation as data. */
static void test_wrap__encrypt_decrypt_single_part(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_OBJECT_HANDLE kek = secret_hex(s, CKK_AES, rfc3394[0].kek);
	unsigned char in[16], want[24], out[32], back[32];
	CK_ULONG outl = sizeof(out), backl = sizeof(back);

	(void)state;
	unhex(rfc3394[0].key, in, sizeof(in));
	unhex(rfc3394[0].wrapped, want, sizeof(want));
	assert_rv(CKR_OK, p11->C_EncryptInit(s, &m, kek));
	assert_rv(CKR_OK, p11->C_Encrypt(s, in, sizeof(in), out, &outl));
	assert_int_equal(outl, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, kek));
	assert_rv(CKR_OK, p11->C_Decrypt(s, out, outl, back, &backl));
	assert_int_equal(backl, sizeof(in));
	assert_memory_equal(back, in, sizeof(in));
	out[5] ^= 1;
	backl = sizeof(back);
	assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, kek));
	assert_rv(CKR_ENCRYPTED_DATA_INVALID,
		  p11->C_Decrypt(s, out, outl, back, &backl));
	p11->C_CloseSession(s);
}

/* ---- C_WrapKey ---------------------------------------------------------- */

static void test_wrap__length_query_and_buffer_too_small(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_OBJECT_HANDLE kek = secret_hex(s, CKK_AES, rfc3394[0].kek);
	CK_OBJECT_HANDLE key = secret_hex(s, CKK_AES, rfc3394[0].key);
	unsigned char out[64], want[24];
	CK_ULONG len = 0;

	(void)state;
	unhex(rfc3394[0].wrapped, want, sizeof(want));
	assert_rv(CKR_OK, p11->C_WrapKey(s, &m, kek, key, NULL, &len));
	assert_true(len >= 24);
	len = 10;
	assert_rv(CKR_BUFFER_TOO_SMALL,
		  p11->C_WrapKey(s, &m, kek, key, out, &len));
	assert_int_equal(len, 24);
	assert_rv(CKR_OK, p11->C_WrapKey(s, &m, kek, key, out, &len));
	assert_int_equal(len, 24);
	assert_memory_equal(out, want, 24);
	p11->C_CloseSession(s);
}

static void test_wrap__unextractable_key_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_OBJECT_HANDLE kek = secret_hex(s, CKK_AES, rfc3394[0].kek);
	CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
	unsigned char out[64];
	CK_ULONG len = sizeof(out);

	(void)state;
	assert_rv(CKR_OK,
		  api_create_aes(s, CK_FALSE, CK_FALSE, CK_FALSE, "k", &key));
	assert_rv(CKR_KEY_UNEXTRACTABLE,
		  p11->C_WrapKey(s, &m, kek, key, out, &len));
	p11->C_CloseSession(s);
}

static void test_wrap__without_cka_wrap_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	unsigned char v[16];
	CK_ATTRIBUTE no_wrap[] = {ATTR(CKA_WRAP, &api_false)};
	CK_OBJECT_HANDLE kek, key = secret_hex(s, CKK_AES, rfc3394[0].key);
	unsigned char out[64];
	CK_ULONG len = sizeof(out);

	(void)state;
	unhex(rfc3394[0].kek, v, sizeof(v));
	kek = secret(s, CKK_AES, v, sizeof(v), no_wrap, NELEM(no_wrap));
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED,
		  p11->C_WrapKey(s, &m, kek, key, out, &len));
	p11->C_CloseSession(s);
}

/* A session object the SO marks CKA_TRUSTED (only the SO may), left for
 * the user in the same session. */
static CK_OBJECT_HANDLE trusted_kek(CK_SESSION_HANDLE s)
{
	unsigned char v[16];
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret),      ATTR(CKA_KEY_TYPE, &kt_aes),
	    ATTR(CKA_PRIVATE, &api_false),     ATTR(CKA_TRUSTED, &api_true),
	    ATTR_BUF(CKA_VALUE, v, sizeof(v)),
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	unhex(rfc3394[0].kek, v, sizeof(v));
	api_login(s, CKU_SO);
	assert_rv(CKR_OK, p11->C_CreateObject(s, t, NELEM(t), &h));
	assert_rv(CKR_OK, p11->C_Logout(s));
	api_login(s, CKU_USER);
	return h;
}

static void test_wrap__with_trusted_needs_trusted_wrapping_key(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_OBJECT_HANDLE trusted = trusted_kek(s), plain, key;
	CK_ATTRIBUTE wwt[] = {ATTR(CKA_WRAP_WITH_TRUSTED, &api_true)};
	unsigned char v[16], out[64];
	CK_ULONG len = sizeof(out);

	(void)state;
	plain = secret_hex(s, CKK_AES, rfc3394[0].kek);
	unhex(rfc3394[0].key, v, sizeof(v));
	key = secret(s, CKK_AES, v, sizeof(v), wwt, NELEM(wwt));
	assert_rv(CKR_KEY_NOT_WRAPPABLE,
		  p11->C_WrapKey(s, &m, plain, key, out, &len));
	len = sizeof(out);
	assert_rv(CKR_OK, p11->C_WrapKey(s, &m, trusted, key, out, &len));
	assert_int_equal(len, 24);
	p11->C_CloseSession(s);
}

static void test_wrap__wrap_template_must_match(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_ATTRIBUTE only_generic[] = {ATTR(CKA_KEY_TYPE, &kt_generic)};
	CK_ATTRIBUTE wt[] = {
	    {CKA_WRAP_TEMPLATE, only_generic, sizeof(only_generic)}};
	unsigned char v[16], out[64];
	CK_ULONG len = sizeof(out);
	CK_OBJECT_HANDLE kek, aes, gen;

	(void)state;
	unhex(rfc3394[0].kek, v, sizeof(v));
	kek = secret(s, CKK_AES, v, sizeof(v), wt, NELEM(wt));
	aes = secret_hex(s, CKK_AES, rfc3394[0].key);
	gen = secret_hex(s, CKK_GENERIC_SECRET, rfc3394[0].key);
	assert_rv(CKR_KEY_NOT_WRAPPABLE,
		  p11->C_WrapKey(s, &m, kek, aes, out, &len));
	len = sizeof(out);
	assert_rv(CKR_OK, p11->C_WrapKey(s, &m, kek, gen, out, &len));
	p11->C_CloseSession(s);
}

static void test_wrap__bad_iv_parameter_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	unsigned char iv[5] = {0}, out[64];
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, iv, sizeof(iv)};
	CK_OBJECT_HANDLE kek = secret_hex(s, CKK_AES, rfc3394[0].kek);
	CK_OBJECT_HANDLE key = secret_hex(s, CKK_AES, rfc3394[0].key);
	CK_ULONG len = sizeof(out);

	(void)state;
	assert_rv(CKR_MECHANISM_PARAM_INVALID,
		  p11->C_WrapKey(s, &m, kek, key, out, &len));
	p11->C_CloseSession(s);
}

/* ---- C_UnwrapKey -------------------------------------------------------- */

static void test_unwrap__tampered_blob_creates_nothing(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_OBJECT_HANDLE kek = secret_hex(s, CKK_AES, rfc3394[0].kek);
	CK_OBJECT_HANDLE back = CK_INVALID_HANDLE;
	unsigned char blob[24];
	CK_ULONG before;

	(void)state;
	unhex(rfc3394[0].wrapped, blob, sizeof(blob));
	blob[10] ^= 0x40;
	before = count_objects(s);
	assert_rv(
	    CKR_WRAPPED_KEY_INVALID,
	    unwrap_secret(s, &m, kek, blob, sizeof(blob), CKK_AES, &back));
	assert_int_equal(back, CK_INVALID_HANDLE);
	assert_int_equal(count_objects(s), before);
	p11->C_CloseSession(s);
}

static void test_unwrap__bad_length_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_OBJECT_HANDLE kek = secret_hex(s, CKK_AES, rfc3394[0].kek);
	CK_OBJECT_HANDLE back = CK_INVALID_HANDLE;
	unsigned char blob[20] = {0};
	CK_ULONG before;

	(void)state;
	before = count_objects(s);
	assert_rv(
	    CKR_WRAPPED_KEY_LEN_RANGE,
	    unwrap_secret(s, &m, kek, blob, sizeof(blob), CKK_AES, &back));
	assert_int_equal(count_objects(s), before);
	p11->C_CloseSession(s);
}

/* An AES key of 20 bytes is no AES key: the blob is refused. */
static void test_unwrap__wrong_length_for_key_type_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
	CK_OBJECT_HANDLE kek = secret_hex(s, CKK_AES, rfc5649[0].kek);
	CK_OBJECT_HANDLE back = CK_INVALID_HANDLE;
	unsigned char blob[32];

	(void)state;
	unhex(rfc5649[0].wrapped, blob, sizeof(blob));
	assert_rv(
	    CKR_WRAPPED_KEY_INVALID,
	    unwrap_secret(s, &m, kek, blob, sizeof(blob), CKK_AES, &back));
	p11->C_CloseSession(s);
}

static void test_unwrap__unwrap_template_applies(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_ATTRIBUTE no_encrypt[] = {ATTR(CKA_ENCRYPT, &api_false)};
	CK_ATTRIBUTE ut[] = {
	    {CKA_UNWRAP_TEMPLATE, no_encrypt, sizeof(no_encrypt)}};
	CK_ATTRIBUTE conflict[] = {
	    ATTR(CKA_CLASS, &cls_secret), ATTR(CKA_KEY_TYPE, &kt_aes),
	    ATTR(CKA_SENSITIVE, &api_false), ATTR(CKA_ENCRYPT, &api_true)};
	unsigned char v[16], blob[24];
	CK_OBJECT_HANDLE kek, back = CK_INVALID_HANDLE;
	CK_BBOOL enc = CK_TRUE;

	(void)state;
	unhex(rfc3394[0].kek, v, sizeof(v));
	unhex(rfc3394[0].wrapped, blob, sizeof(blob));
	kek = secret(s, CKK_AES, v, sizeof(v), ut, NELEM(ut));
	assert_rv(CKR_TEMPLATE_INCONSISTENT,
		  p11->C_UnwrapKey(s, &m, kek, blob, sizeof(blob), conflict,
				   NELEM(conflict), &back));
	assert_rv(CKR_OK, unwrap_secret(s, &m, kek, blob, sizeof(blob), CKK_AES,
					&back));
	assert_rv(CKR_OK, api_get_bool(s, back, CKA_ENCRYPT, &enc));
	assert_int_equal(enc, CK_FALSE);
	p11->C_CloseSession(s);
}

static void test_unwrap__key_is_not_local(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_OBJECT_HANDLE kek = secret_hex(s, CKK_AES, rfc3394[0].kek);
	CK_OBJECT_HANDLE back = CK_INVALID_HANDLE;
	unsigned char blob[24];
	CK_BBOOL b = CK_TRUE;

	(void)state;
	unhex(rfc3394[0].wrapped, blob, sizeof(blob));
	assert_rv(CKR_OK, unwrap_secret(s, &m, kek, blob, sizeof(blob), CKK_AES,
					&back));
	assert_rv(CKR_OK, api_get_bool(s, back, CKA_LOCAL, &b));
	assert_int_equal(b, CK_FALSE);
	assert_rv(CKR_OK, api_get_bool(s, back, CKA_ALWAYS_SENSITIVE, &b));
	assert_int_equal(b, CK_FALSE);
	assert_rv(CKR_OK, api_get_bool(s, back, CKA_NEVER_EXTRACTABLE, &b));
	assert_int_equal(b, CK_FALSE);
	p11->C_CloseSession(s);
}

/* A private key goes out as PKCS#8 and comes back the same key. */
static void test_wrap__private_key_round_trip(void **state)
{
	CK_SESSION_HANDLE s;
	CK_MECHANISM m = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
	CK_MECHANISM gen = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_ULONG bits = 2048;
	CK_BYTE e[] = {1, 0, 1};
	CK_KEY_TYPE kt = CKK_RSA;
	CK_ATTRIBUTE pub_t[] = {ATTR(CKA_MODULUS_BITS, &bits),
				ATTR_BUF(CKA_PUBLIC_EXPONENT, e, sizeof(e))};
	CK_ATTRIBUTE priv_t[] = {ATTR(CKA_SENSITIVE, &api_false),
				 ATTR(CKA_EXTRACTABLE, &api_true)};
	CK_ATTRIBUTE un_t[] = {ATTR(CKA_CLASS, &cls_priv),
			       ATTR(CKA_KEY_TYPE, &kt),
			       ATTR(CKA_SENSITIVE, &api_false),
			       ATTR(CKA_EXTRACTABLE, &api_true)};
	CK_OBJECT_HANDLE kek, pub, priv, back = CK_INVALID_HANDLE;
	unsigned char *blob, d1[1024], d2[1024];
	CK_ULONG len = 0, l1 = sizeof(d1), l2 = sizeof(d2);
	CK_ATTRIBUTE_TYPE secret_part = CKA_PRIVATE_EXPONENT;

	(void)state;
	assert_true(have_mech(CKM_RSA_PKCS_KEY_PAIR_GEN));
	s = user_rw();
	kek = secret_hex(s, CKK_AES, rfc3394[2].kek);
	assert_rv(CKR_OK,
		  p11->C_GenerateKeyPair(s, &gen, pub_t, kt == CKK_RSA ? 2 : 1,
					 priv_t, NELEM(priv_t), &pub, &priv));
	assert_rv(CKR_OK, p11->C_WrapKey(s, &m, kek, priv, NULL, &len));
	blob = malloc(len);
	assert_non_null(blob);
	assert_rv(CKR_OK, p11->C_WrapKey(s, &m, kek, priv, blob, &len));
	assert_rv(CKR_OK, p11->C_UnwrapKey(s, &m, kek, blob, len, un_t,
					   NELEM(un_t), &back));
	assert_rv(CKR_OK, api_get_bytes(s, priv, secret_part, d1, &l1));
	assert_rv(CKR_OK, api_get_bytes(s, back, secret_part, d2, &l2));
	assert_int_equal(l1, l2);
	assert_memory_equal(d1, d2, l1);
	free(blob);
	p11->C_CloseSession(s);
}

/* ---- HKDF (RFC 5869 appendix A) ----------------------------------------- */

struct hkdf_vector {
	const char *name;
	CK_MECHANISM_TYPE prf;
	const char *ikm, *salt, *info, *okm;
};

static const struct hkdf_vector rfc5869[] = {
    {"A.1", CKM_SHA256, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
     "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9",
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf3400"
     "7208d5b887185865"},
    {"A.2", CKM_SHA256,
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021"
     "22232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434"
     "445464748494a4b4c4d4e4f",
     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f8081"
     "82838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a"
     "4a5a6a7a8a9aaabacadaeaf",
     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1"
     "d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f"
     "4f5f6f7f8f9fafbfcfdfeff",
     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c5904"
     "5a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c581"
     "79ec3e87c14c01d5c1f3434f1d87"},
    {"A.3", CKM_SHA256, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d20"
     "1395faa4b61a96c8"},
    {"A.4", CKM_SHA_1, "0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
     "f0f1f2f3f4f5f6f7f8f9",
     "085a01ea1b10f36933068b56efa5ad81a4f14b822f5b091568a9cdd4f155fda2c22e"
     "422478d305f3f896"},
};

static CK_OBJECT_HANDLE hkdf_base(CK_SESSION_HANDLE s, const char *ikm_hex)
{
	unsigned char ikm[128];
	size_t n = unhex(ikm_hex, ikm, sizeof(ikm));
	CK_ATTRIBUTE d[] = {ATTR(CKA_DERIVE, &api_true)};

	return secret(s, CKK_GENERIC_SECRET, ikm, n, d, NELEM(d));
}

/* A readable generic secret of len bytes derived from base. */
static CK_RV derive_generic(CK_SESSION_HANDLE s, CK_MECHANISM *m,
			    CK_OBJECT_HANDLE base, CK_ULONG len,
			    CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret),    ATTR(CKA_KEY_TYPE, &kt_generic),
	    ATTR(CKA_SENSITIVE, &api_false), ATTR(CKA_EXTRACTABLE, &api_true),
	    ATTR(CKA_VALUE_LEN, &len),
	};

	return p11->C_DeriveKey(s, m, base, t, NELEM(t), out);
}

static void test_hkdf__rfc5869_vectors(void **state)
{
	CK_SESSION_HANDLE s = user_rw();

	(void)state;
	for (size_t i = 0; i < NELEM(rfc5869); i++) {
		const struct hkdf_vector *v = &rfc5869[i];
		unsigned char salt[128], info[128];
		size_t sl = unhex(v->salt, salt, sizeof(salt));
		size_t il = unhex(v->info, info, sizeof(info));
		CK_HKDF_PARAMS p = {CK_TRUE,
				    CK_TRUE,
				    v->prf,
				    sl ? CKF_HKDF_SALT_DATA
				       : CKF_HKDF_SALT_NULL,
				    sl ? salt : NULL,
				    (CK_ULONG)sl,
				    CK_INVALID_HANDLE,
				    il ? info : NULL,
				    (CK_ULONG)il};
		CK_MECHANISM m = {CKM_HKDF_DERIVE, &p, sizeof(p)};
		CK_OBJECT_HANDLE base = hkdf_base(s, v->ikm), out;

		print_message("# vector %s\n", v->name);
		assert_rv(CKR_OK,
			  derive_generic(s, &m, base,
					 (CK_ULONG)strlen(v->okm) / 2, &out));
		assert_value_hex(s, out, v->okm);
	}
	p11->C_CloseSession(s);
}

/* Extract alone gives the PRK of A.1. */
static void test_hkdf__extract_only(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	unsigned char salt[13];
	CK_HKDF_PARAMS p = {
	    CK_TRUE, CK_FALSE,	   CKM_SHA256,	      CKF_HKDF_SALT_DATA,
	    salt,    sizeof(salt), CK_INVALID_HANDLE, NULL,
	    0};
	CK_MECHANISM m = {CKM_HKDF_DERIVE, &p, sizeof(p)};
	CK_OBJECT_HANDLE base = hkdf_base(s, rfc5869[0].ikm), out;

	(void)state;
	unhex(rfc5869[0].salt, salt, sizeof(salt));
	assert_rv(CKR_OK, derive_generic(s, &m, base, 32, &out));
	assert_value_hex(s, out,
			 "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec8"
			 "44ad7c2b3e5");
	p11->C_CloseSession(s);
}

/* The salt from a key: A.1 again. */
static void test_hkdf__salt_key(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE base = hkdf_base(s, rfc5869[0].ikm);
	CK_OBJECT_HANDLE salt = hkdf_base(s, rfc5869[0].salt), out;
	unsigned char info[10];
	CK_HKDF_PARAMS p = {CK_TRUE,	 CK_TRUE, CKM_SHA256, CKF_HKDF_SALT_KEY,
			    NULL,	 0,	  salt,	      info,
			    sizeof(info)};
	CK_MECHANISM m = {CKM_HKDF_DERIVE, &p, sizeof(p)};

	(void)state;
	unhex(rfc5869[0].info, info, sizeof(info));
	assert_rv(CKR_OK, derive_generic(s, &m, base, 42, &out));
	assert_value_hex(s, out, rfc5869[0].okm);
	p11->C_CloseSession(s);
}

static void test_hkdf__data_object(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	const struct hkdf_vector *v = &rfc5869[0];
	unsigned char salt[13], info[10];
	CK_HKDF_PARAMS p = {
	    CK_TRUE,	 CK_TRUE,      CKM_SHA256,	  CKF_HKDF_SALT_DATA,
	    salt,	 sizeof(salt), CK_INVALID_HANDLE, info,
	    sizeof(info)};
	CK_MECHANISM m = {CKM_HKDF_DATA, &p, sizeof(p)};
	CK_ULONG len = 42, cls = 0;
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls_data),
			    ATTR(CKA_VALUE_LEN, &len)};
	CK_OBJECT_HANDLE base = hkdf_base(s, v->ikm), out;

	(void)state;
	unhex(v->salt, salt, sizeof(salt));
	unhex(v->info, info, sizeof(info));
	assert_rv(CKR_OK, p11->C_DeriveKey(s, &m, base, t, NELEM(t), &out));
	assert_rv(CKR_OK, api_get_ulong(s, out, CKA_CLASS, &cls));
	assert_int_equal(cls, CKO_DATA);
	assert_value_hex(s, out, v->okm);
	p11->C_CloseSession(s);
}

static void test_hkdf__bad_params_fail(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE base = hkdf_base(s, rfc5869[0].ikm), out;
	CK_HKDF_PARAMS good = {
	    CK_TRUE,	       CK_TRUE, CKM_SHA256, CKF_HKDF_SALT_NULL, NULL, 0,
	    CK_INVALID_HANDLE, NULL,	0};
	CK_HKDF_PARAMS bad[4];
	CK_MECHANISM m = {CKM_HKDF_DERIVE, &good, sizeof(good)};

	(void)state;
	for (size_t i = 0; i < NELEM(bad); i++)
		bad[i] = good;
	bad[0].bExtract = bad[0].bExpand = CK_FALSE;
	bad[1].prfHashMechanism = CKM_MD5;
	bad[2].ulSaltType = CKF_HKDF_SALT_DATA; /* but no salt */
	bad[3].ulInfoLen = 4;			/* but no info */
	for (size_t i = 0; i < NELEM(bad); i++) {
		m.pParameter = &bad[i];
		assert_rv(CKR_MECHANISM_PARAM_INVALID,
			  derive_generic(s, &m, base, 32, &out));
	}
	m.pParameter = &good;
	m.ulParameterLen = sizeof(good) - 1;
	assert_rv(CKR_MECHANISM_PARAM_INVALID,
		  derive_generic(s, &m, base, 32, &out));
	p11->C_CloseSession(s);
}

int main(int argc, char **argv)
{
#define T(f) cmocka_unit_test_setup_teardown(f, api_setup_token, api_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_wrap__rfc3394_vectors),
	    T(test_wrap__rfc5649_vectors_kwp),
	    T(test_wrap__rfc5649_vectors_pad),
	    T(test_wrap__encrypt_decrypt_single_part),
	    T(test_wrap__length_query_and_buffer_too_small),
	    T(test_wrap__unextractable_key_fails),
	    T(test_wrap__without_cka_wrap_fails),
	    T(test_wrap__with_trusted_needs_trusted_wrapping_key),
	    T(test_wrap__wrap_template_must_match),
	    T(test_wrap__bad_iv_parameter_fails),
	    T(test_unwrap__tampered_blob_creates_nothing),
	    T(test_unwrap__bad_length_fails),
	    T(test_unwrap__wrong_length_for_key_type_fails),
	    T(test_unwrap__unwrap_template_applies),
	    T(test_unwrap__key_is_not_local),
	    T(test_wrap__private_key_round_trip),
	    T(test_hkdf__rfc5869_vectors),
	    T(test_hkdf__extract_only),
	    T(test_hkdf__salt_key),
	    T(test_hkdf__data_object),
	    T(test_hkdf__bad_params_fail),
	};

	return api_run(argc, argv, "wrap", tests, NELEM(tests));
}
