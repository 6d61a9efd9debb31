/*
 * test_policy.c - the key-usage policy of docs/security.md ("Key roles and
 * wrapping"): each known PKCS#11 API attack (Clulow, "On the Security of
 * PKCS#11", CHES 2003; Bortolozzo, Centenaro, Focardi, Steel, "Attacking
 * and Fixing PKCS#11 Security Tokens", CCS 2010) has a test named for it
 * that runs the attack and expects the specific refusal, and normal use
 * has tests that show it still works. SoftHSMv2 lets several of the
 * attacks through (softhsm-deviations-policy.txt).
 */
#include "harness.h"

#include <openssl/crypto.h>

static CK_OBJECT_CLASS cls_secret = CKO_SECRET_KEY, cls_data = CKO_DATA;
static CK_KEY_TYPE kt_aes = CKK_AES, kt_generic = CKK_GENERIC_SECRET;
static const unsigned char known[16] = "attacker's key!";

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

/* An AES-128 key of value v with extra attributes (usage flags default to
 * true on both tokens). */
static CK_OBJECT_HANDLE aes(CK_SESSION_HANDLE s, const unsigned char v[16],
			    CK_BBOOL sensitive, CK_BBOOL extractable,
			    CK_ATTRIBUTE *extra, CK_ULONG nextra)
{
	CK_ATTRIBUTE t[16] = {
	    ATTR(CKA_CLASS, &cls_secret),
	    ATTR(CKA_KEY_TYPE, &kt_aes),
	    ATTR(CKA_SENSITIVE, &sensitive),
	    ATTR(CKA_EXTRACTABLE, &extractable),
	    ATTR(CKA_ENCRYPT, &api_true),
	    ATTR(CKA_DECRYPT, &api_true),
	    ATTR(CKA_WRAP, &api_true),
	    ATTR(CKA_UNWRAP, &api_true),
	    ATTR(CKA_DERIVE, &api_true),
	    ATTR_BUF(CKA_VALUE, v, 16),
	};
	CK_ULONG n = 10;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	for (CK_ULONG i = 0; i < nextra; i++)
		t[n++] = extra[i];
	assert_rv(CKR_OK, p11->C_CreateObject(s, t, n, &h));
	return h;
}

/* A sensitive, extractable key: the secret the attacks are after. */
static CK_OBJECT_HANDLE victim(CK_SESSION_HANDLE s)
{
	static const unsigned char v[16] = "the victim key!";

	return aes(s, v, CK_TRUE, CK_TRUE, NULL, 0);
}

/* A sensitive generic secret for HKDF. */
static CK_OBJECT_HANDLE secret_base(CK_SESSION_HANDLE s)
{
	static const unsigned char v[32] = "the victim's derivation base!!";
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret), ATTR(CKA_KEY_TYPE, &kt_generic),
	    ATTR(CKA_SENSITIVE, &api_true), ATTR(CKA_DERIVE, &api_true),
	    ATTR_BUF(CKA_VALUE, v, sizeof(v))};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_rv(CKR_OK, p11->C_CreateObject(s, t, NELEM(t), &h));
	return h;
}

/* A wrapping key whose value nobody knows: made by the SO with
 * CKA_TRUSTED (a session object left to the user in the same session),
 * the kind of key coffer lets wrap sensitive keys. */
static CK_OBJECT_HANDLE trusted_kek(CK_SESSION_HANDLE s)
{
	static const unsigned char v[16] = "SO's secret kek";
	CK_ATTRIBUTE t[] = {ATTR(CKA_PRIVATE, &api_false),
			    ATTR(CKA_TRUSTED, &api_true)};
	CK_OBJECT_HANDLE h;

	api_login(s, CKU_SO);
	h = aes(s, v, CK_TRUE, CK_FALSE, t, NELEM(t));
	assert_rv(CKR_OK, p11->C_Logout(s));
	api_login(s, CKU_USER);
	return h;
}

static CK_RV wrap(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE kek,
		  CK_OBJECT_HANDLE key, unsigned char *out, CK_ULONG *len)
{
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};

	return p11->C_WrapKey(s, &m, kek, key, out, len);
}

static CK_RV unwrap(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE kek,
		    const unsigned char *blob, CK_ULONG len, CK_BBOOL sensitive,
		    CK_OBJECT_HANDLE *out)
{
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret),    ATTR(CKA_KEY_TYPE, &kt_aes),
	    ATTR(CKA_SENSITIVE, &sensitive), ATTR(CKA_EXTRACTABLE, &api_true),
	    ATTR(CKA_WRAP, &api_true),
	};

	return p11->C_UnwrapKey(s, &m, kek, (CK_BYTE_PTR)blob, len, t, NELEM(t),
				out);
}

static CK_RV decrypt_init(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k)
{
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};

	return p11->C_DecryptInit(s, &m, k);
}

static CK_RV encrypt(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k,
		     const unsigned char *in, CK_ULONG inl, unsigned char *out,
		     CK_ULONG *outl)
{
	CK_MECHANISM m = {CKM_AES_KEY_WRAP, NULL, 0};
	CK_RV rv = p11->C_EncryptInit(s, &m, k);

	return rv != CKR_OK
		   ? rv
		   : p11->C_Encrypt(s, (CK_BYTE_PTR)in, inl, out, outl);
}

/* ---- (a) wrap/decrypt --------------------------------------------------- */

/* Clulow 2003 / CCS 2010: wrap the sensitive key under W, then decrypt
 * the blob with W and read the key. */
static void test_policy__clulow_wrap_decrypt_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE w = trusted_kek(s), k = victim(s);
	unsigned char blob[64];
	CK_ULONG len = sizeof(blob);

	(void)state;
	assert_rv(CKR_OK, wrap(s, w, k, blob, &len));
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED, decrypt_init(s, w));
	p11->C_CloseSession(s);
}

/* The same in the other order: a key that decrypted never wraps. */
static void test_policy__decrypt_then_wrap_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE w = trusted_kek(s), k = victim(s);
	unsigned char blob[64];
	CK_ULONG len = sizeof(blob);

	(void)state;
	assert_rv(CKR_OK, decrypt_init(s, w));
	memset(blob, 0, sizeof(blob));
	/* ends the operation: not a ciphertext */
	assert_rv(CKR_ENCRYPTED_DATA_INVALID,
		  p11->C_Decrypt(s, blob, 24, blob + 24, &len));
	len = sizeof(blob);
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED, wrap(s, w, k, blob, &len));
	p11->C_CloseSession(s);
}

/* The pair form: wrap with the public key, decrypt with the private one.
 * The target is readable here so that no other rule interferes; the lock
 * is on the pair either way. Needs an RSA generator and CKM_RSA_PKCS. */
static void test_policy__pair_wrap_decrypt_fails(void **state)
{
	CK_SESSION_HANDLE s;
	CK_MECHANISM gen = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0};
	CK_ULONG bits = 2048;
	CK_BYTE e[] = {1, 0, 1};
	CK_ATTRIBUTE pub_t[] = {ATTR(CKA_MODULUS_BITS, &bits),
				ATTR_BUF(CKA_PUBLIC_EXPONENT, e, sizeof(e))};
	CK_OBJECT_HANDLE pub, priv, k;
	unsigned char blob[512];
	CK_ULONG len = sizeof(blob);

	(void)state;
	assert_true(have_mech(CKM_RSA_PKCS_KEY_PAIR_GEN) &&
		    have_mech(CKM_RSA_PKCS));
	s = user_rw();
	k = aes(s, known, CK_FALSE, CK_TRUE, NULL, 0);
	assert_rv(CKR_OK, p11->C_GenerateKeyPair(s, &gen, pub_t, NELEM(pub_t),
						 NULL, 0, &pub, &priv));
	assert_rv(CKR_OK, p11->C_WrapKey(s, &m, pub, k, blob, &len));
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED,
		  p11->C_DecryptInit(s, &m, priv));
	p11->C_CloseSession(s);
}

/* ---- (b) encrypt/unwrap ------------------------------------------------- */

/* CCS 2010: encrypt a value of one's choice under W, unwrap it as a key:
 * the token then holds a key whose value the attacker knows. */
static void test_policy__encrypt_unwrap_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE w = trusted_kek(s), planted = CK_INVALID_HANDLE;
	unsigned char blob[64];
	CK_ULONG len = sizeof(blob);

	(void)state;
	assert_rv(CKR_OK, encrypt(s, w, known, sizeof(known), blob, &len));
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED,
		  unwrap(s, w, blob, len, CK_TRUE, &planted));
	p11->C_CloseSession(s);
}

/* Clulow's trojan key: a key of known value brought in by C_UnwrapKey
 * (here under a key the attacker imported) and then used to wrap the
 * sensitive key out. */
static void test_policy__trojan_unwrapped_key_cannot_wrap(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	static const unsigned char kek_v[16] = "imported kek!!!";
	CK_OBJECT_HANDLE w = aes(s, kek_v, CK_FALSE, CK_TRUE, NULL, 0);
	CK_OBJECT_HANDLE trojan_src = aes(s, known, CK_FALSE, CK_TRUE, NULL, 0);
	CK_OBJECT_HANDLE trojan = CK_INVALID_HANDLE, k = victim(s);
	unsigned char blob[64], out[64];
	CK_ULONG len = sizeof(blob), outl = sizeof(out);

	(void)state;
	assert_rv(CKR_OK, wrap(s, w, trojan_src, blob, &len));
	assert_rv(CKR_OK, unwrap(s, w, blob, len, CK_TRUE, &trojan));
	assert_rv(CKR_KEY_NOT_WRAPPABLE, wrap(s, trojan, k, out, &outl));
	p11->C_CloseSession(s);
}

/* ---- (c) attribute games ------------------------------------------------ */

static void test_policy__set_sensitive_false_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE k = victim(s);
	CK_ATTRIBUTE a = ATTR(CKA_SENSITIVE, &api_false);

	(void)state;
	assert_rv(CKR_ATTRIBUTE_READ_ONLY,
		  p11->C_SetAttributeValue(s, k, &a, 1));
	p11->C_CloseSession(s);
}

static void test_policy__set_extractable_true_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	static const unsigned char v[16] = "unextractable!!";
	CK_OBJECT_HANDLE k = aes(s, v, CK_TRUE, CK_FALSE, NULL, 0);
	CK_ATTRIBUTE a = ATTR(CKA_EXTRACTABLE, &api_true);

	(void)state;
	assert_rv(CKR_ATTRIBUTE_READ_ONLY,
		  p11->C_SetAttributeValue(s, k, &a, 1));
	p11->C_CloseSession(s);
}

/* CCS 2010: copy the key with weaker attributes. */
static void test_policy__copy_as_non_sensitive_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE k = victim(s), c = CK_INVALID_HANDLE;
	CK_ATTRIBUTE a = ATTR(CKA_SENSITIVE, &api_false);

	(void)state;
	assert_rv(CKR_ATTRIBUTE_READ_ONLY, p11->C_CopyObject(s, k, &a, 1, &c));
	p11->C_CloseSession(s);
}

/* A copy does not start a fresh role: otherwise wrap with the key and
 * decrypt with its copy. */
static void test_policy__copy_keeps_the_role(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE w = trusted_kek(s), k = victim(s), c;
	CK_ATTRIBUTE label = ATTR_STR(CKA_LABEL, "copy");
	unsigned char blob[64];
	CK_ULONG len = sizeof(blob);

	(void)state;
	assert_rv(CKR_OK, wrap(s, w, k, blob, &len));
	assert_rv(CKR_OK, p11->C_CopyObject(s, w, &label, 1, &c));
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED, decrypt_init(s, c));
	p11->C_CloseSession(s);
}

/* The re-import attack of CCS 2010: wrap the sensitive key, unwrap the
 * blob as a non-sensitive key, read it. */
static void test_policy__reimport_as_non_sensitive_fails(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE w = trusted_kek(s), k = victim(s), back;
	unsigned char blob[64];
	CK_ULONG len = sizeof(blob), before;

	(void)state;
	assert_rv(CKR_OK, wrap(s, w, k, blob, &len));
	before = api_find(s, NULL, 0, NULL, 0);
	assert_rv(CKR_TEMPLATE_INCONSISTENT,
		  unwrap(s, w, blob, len, CK_FALSE, &back));
	assert_int_equal(api_find(s, NULL, 0, NULL, 0), before);
	/* as a sensitive key it is fine */
	assert_rv(CKR_OK, unwrap(s, w, blob, len, CK_TRUE, &back));
	p11->C_CloseSession(s);
}

/* The role is the token's: a caller cannot set or clear it. */
static void test_policy__role_attribute_cannot_be_set(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE k = victim(s), h = CK_INVALID_HANDLE;
	CK_ULONG none = 0;
	CK_ATTRIBUTE a = ATTR(CKA_COFFER_KEY_ROLE, &none);
	CK_ATTRIBUTE t[] = {ATTR(CKA_CLASS, &cls_secret),
			    ATTR(CKA_KEY_TYPE, &kt_aes),
			    ATTR_BUF(CKA_VALUE, known, sizeof(known)),
			    ATTR(CKA_COFFER_KEY_ROLE, &none)};

	(void)state;
	assert_int_not_equal(p11->C_SetAttributeValue(s, k, &a, 1), CKR_OK);
	assert_int_not_equal(p11->C_CreateObject(s, t, NELEM(t), &h), CKR_OK);
	assert_int_not_equal(p11->C_CopyObject(s, k, &a, 1, &h), CKR_OK);
	p11->C_CloseSession(s);
}

/* ---- (d) key derivation ------------------------------------------------- */

static CK_RV hkdf(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mt,
		  CK_OBJECT_HANDLE base, CK_ATTRIBUTE *t, CK_ULONG n,
		  CK_OBJECT_HANDLE *out)
{
	static unsigned char info[] = "session key";
	CK_HKDF_PARAMS p = {
	    CK_TRUE, CK_TRUE,		CKM_SHA256, CKF_HKDF_SALT_NULL, NULL,
	    0,	     CK_INVALID_HANDLE, info,	    sizeof(info)};
	CK_MECHANISM m = {mt, &p, sizeof(p)};

	return p11->C_DeriveKey(s, &m, base, t, n, out);
}

/* CCS 2010 / issue 3: derive from the sensitive base a key the
 * application also derives (same parameters), as non-sensitive, and read
 * it. */
static void test_policy__derive_non_sensitive_from_sensitive_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE base = secret_base(s), out = CK_INVALID_HANDLE;
	CK_ULONG len = 16;
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret), ATTR(CKA_KEY_TYPE, &kt_generic),
	    ATTR(CKA_VALUE_LEN, &len), ATTR(CKA_SENSITIVE, &api_false)};

	(void)state;
	assert_rv(CKR_TEMPLATE_INCONSISTENT,
		  hkdf(s, CKM_HKDF_DERIVE, base, t, NELEM(t), &out));
	assert_rv(CKR_OK,
		  hkdf(s, CKM_HKDF_DERIVE, base, t, NELEM(t) - 1, &out));
	p11->C_CloseSession(s);
}

/* The same through CKM_HKDF_DATA, whose output is always readable: a base
 * that made data never makes keys, and the other way round. */
static void test_policy__derive_data_then_key_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE base = secret_base(s), out = CK_INVALID_HANDLE;
	CK_ULONG len = 16;
	CK_ATTRIBUTE data_t[] = {ATTR(CKA_CLASS, &cls_data),
				 ATTR(CKA_VALUE_LEN, &len)};
	CK_ATTRIBUTE key_t[] = {ATTR(CKA_CLASS, &cls_secret),
				ATTR(CKA_KEY_TYPE, &kt_generic),
				ATTR(CKA_VALUE_LEN, &len)};

	(void)state;
	assert_rv(CKR_OK,
		  hkdf(s, CKM_HKDF_DATA, base, data_t, NELEM(data_t), &out));
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED,
		  hkdf(s, CKM_HKDF_DERIVE, base, key_t, NELEM(key_t), &out));
	p11->C_CloseSession(s);
}

static void test_policy__derive_template_is_enforced(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_ATTRIBUTE stay_in[] = {ATTR(CKA_EXTRACTABLE, &api_false)};
	CK_ATTRIBUTE dt[] = {{CKA_DERIVE_TEMPLATE, stay_in, sizeof(stay_in)}};
	static const unsigned char v[16] = "derivation base";
	CK_ATTRIBUTE g[] = {ATTR(CKA_CLASS, &cls_secret),
			    ATTR(CKA_KEY_TYPE, &kt_generic),
			    ATTR(CKA_DERIVE, &api_true), dt[0],
			    ATTR_BUF(CKA_VALUE, v, sizeof(v))};
	CK_OBJECT_HANDLE base = CK_INVALID_HANDLE, out = CK_INVALID_HANDLE;
	CK_ULONG len = 16;
	CK_BBOOL x = CK_TRUE;
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret), ATTR(CKA_KEY_TYPE, &kt_generic),
	    ATTR(CKA_VALUE_LEN, &len), ATTR(CKA_EXTRACTABLE, &api_true)};

	(void)state;
	assert_rv(CKR_OK, p11->C_CreateObject(s, g, NELEM(g), &base));
	assert_rv(CKR_TEMPLATE_INCONSISTENT,
		  hkdf(s, CKM_HKDF_DERIVE, base, t, NELEM(t), &out));
	assert_rv(CKR_OK,
		  hkdf(s, CKM_HKDF_DERIVE, base, t, NELEM(t) - 1, &out));
	assert_rv(CKR_OK, api_get_bool(s, out, CKA_EXTRACTABLE, &x));
	assert_int_equal(x, CK_FALSE);
	p11->C_CloseSession(s);
}

/* ---- (e) wrapping with a known key -------------------------------------- */

/* Import a key of known value and wrap the sensitive key under it. */
static void test_policy__known_key_wrap_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE w = aes(s, known, CK_TRUE, CK_FALSE, NULL, 0);
	CK_OBJECT_HANDLE k = victim(s);
	unsigned char blob[64];
	CK_ULONG len = sizeof(blob);

	(void)state;
	assert_rv(CKR_KEY_NOT_WRAPPABLE, wrap(s, w, k, blob, &len));
	p11->C_CloseSession(s);
}

static void test_policy__wrap_with_trusted_untrusted_key_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE w = aes(s, known, CK_FALSE, CK_TRUE, NULL, 0);
	CK_ATTRIBUTE wwt[] = {ATTR(CKA_WRAP_WITH_TRUSTED, &api_true)};
	static const unsigned char v[16] = "wrap w/ trusted";
	CK_OBJECT_HANDLE k = aes(s, v, CK_TRUE, CK_TRUE, wwt, NELEM(wwt));
	unsigned char blob[64];
	CK_ULONG len = sizeof(blob);

	(void)state;
	assert_rv(CKR_KEY_NOT_WRAPPABLE, wrap(s, w, k, blob, &len));
	p11->C_CloseSession(s);
}

/* ---- normal use --------------------------------------------------------- */

static void test_policy__wrapping_key_keeps_wrapping(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	CK_OBJECT_HANDLE w = trusted_kek(s), k = victim(s), back;
	unsigned char blob[64];
	CK_ULONG len;

	(void)state;
	for (int i = 0; i < 3; i++) {
		len = sizeof(blob);
		assert_rv(CKR_OK, wrap(s, w, k, blob, &len));
		assert_rv(CKR_OK, unwrap(s, w, blob, len, CK_TRUE, &back));
	}
	p11->C_CloseSession(s);
}

static void test_policy__encryption_key_keeps_encrypting(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	static const unsigned char v[16] = "data key 123456";
	CK_OBJECT_HANDLE k = aes(s, v, CK_TRUE, CK_FALSE, NULL, 0);
	unsigned char ct[64], pt[64];
	CK_ULONG ctl, ptl;

	(void)state;
	for (int i = 0; i < 3; i++) {
		ctl = sizeof(ct);
		ptl = sizeof(pt);
		assert_rv(CKR_OK,
			  encrypt(s, k, known, sizeof(known), ct, &ctl));
		assert_rv(CKR_OK, decrypt_init(s, k));
		assert_rv(CKR_OK, p11->C_Decrypt(s, ct, ctl, pt, &ptl));
		assert_int_equal(ptl, sizeof(known));
		assert_memory_equal(pt, known, ptl);
	}
	p11->C_CloseSession(s);
}

/* The role is stored with a token key and survives a restart. */
static void test_policy__role_survives_restart(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);
	static const unsigned char v[16] = "persistent kek!";
	CK_ATTRIBUTE tok[] = {ATTR(CKA_TOKEN, &api_true),
			      ATTR_STR(CKA_LABEL, "persistent kek")};
	CK_OBJECT_HANDLE w, k;
	unsigned char blob[64];
	CK_ULONG len = sizeof(blob);

	(void)state;
	api_login(s, CKU_USER);
	w = aes(s, v, CK_FALSE, CK_TRUE, tok, NELEM(tok));
	k = aes(s, known, CK_FALSE, CK_TRUE, NULL, 0);
	assert_rv(CKR_OK, wrap(s, w, k, blob, &len));
	api_reinitialize();
	s = user_rw();
	/* SoftHSMv2 renumbers handles across C_Initialize */
	assert_int_equal(api_find(s, tok, NELEM(tok), &w, 1), 1);
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED, decrypt_init(s, w));
	p11->C_CloseSession(s);
}

/* key_roles = relaxed: a key may again serve both roles (the config is
 * coffer's; SoftHSMv2 has no lock to relax). */
static void test_policy__relaxed_mode_allows_both_roles(void **state)
{
	char path[4096], *old = NULL;
	FILE *f;
	long size = 0;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE w, k;
	unsigned char blob[64];
	CK_ULONG len = sizeof(blob);

	(void)state;
	if (!api_is_softhsm()) {
		snprintf(path, sizeof(path), "%s/coffer.conf",
			 api_scratch_dir());
		f = fopen(path, "r+");
		assert_non_null(f);
		assert_int_equal(fseek(f, 0, SEEK_END), 0);
		size = ftell(f);
		old = calloc(1, (size_t)size + 1);
		assert_non_null(old);
		rewind(f);
		assert_int_equal(fread(old, 1, (size_t)size, f), (size_t)size);
		assert_true(fputs("key_roles = relaxed\n", f) >= 0);
		assert_int_equal(fclose(f), 0);
		api_reinitialize();
	}
	s = user_rw();
	w = aes(s, known, CK_FALSE, CK_TRUE, NULL, 0);
	k = aes(s, known, CK_FALSE, CK_TRUE, NULL, 0);
	assert_rv(CKR_OK, wrap(s, w, k, blob, &len));
	assert_rv(CKR_OK, decrypt_init(s, w));
	p11->C_CloseSession(s);
	if (old != NULL) {
		f = fopen(path, "w");
		assert_non_null(f);
		assert_true(fputs(old, f) >= 0);
		assert_int_equal(fclose(f), 0);
		free(old);
	}
}

/* A key generated on the token, always sensitive and never extractable,
 * may wrap sensitive keys without the SO. Needs CKM_AES_KEY_GEN. */
static void test_policy__generated_kek_wraps_sensitive_keys(void **state)
{
	CK_SESSION_HANDLE s;
	CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
	CK_ULONG len16 = 16;
	CK_ATTRIBUTE t[] = {ATTR(CKA_VALUE_LEN, &len16),
			    ATTR(CKA_WRAP, &api_true),
			    ATTR(CKA_UNWRAP, &api_true)};
	CK_OBJECT_HANDLE w, k, back;
	unsigned char blob[64];
	CK_ULONG len = sizeof(blob);

	(void)state;
	assert_true(have_mech(CKM_AES_KEY_GEN));
	s = user_rw();
	assert_rv(CKR_OK, p11->C_GenerateKey(s, &gen, t, NELEM(t), &w));
	k = victim(s);
	assert_rv(CKR_OK, wrap(s, w, k, blob, &len));
	assert_rv(CKR_OK, unwrap(s, w, blob, len, CK_TRUE, &back));
	assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED, decrypt_init(s, w));
	p11->C_CloseSession(s);
}

int main(int argc, char **argv)
{
#define T(f) cmocka_unit_test_setup_teardown(f, api_setup_token, api_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_policy__clulow_wrap_decrypt_fails),
	    T(test_policy__decrypt_then_wrap_fails),
	    T(test_policy__pair_wrap_decrypt_fails),
	    T(test_policy__encrypt_unwrap_fails),
	    T(test_policy__trojan_unwrapped_key_cannot_wrap),
	    T(test_policy__set_sensitive_false_fails),
	    T(test_policy__set_extractable_true_fails),
	    T(test_policy__copy_as_non_sensitive_fails),
	    T(test_policy__copy_keeps_the_role),
	    T(test_policy__reimport_as_non_sensitive_fails),
	    T(test_policy__role_attribute_cannot_be_set),
	    T(test_policy__derive_non_sensitive_from_sensitive_fails),
	    T(test_policy__derive_data_then_key_fails),
	    T(test_policy__derive_template_is_enforced),
	    T(test_policy__known_key_wrap_fails),
	    T(test_policy__wrap_with_trusted_untrusted_key_fails),
	    T(test_policy__wrapping_key_keeps_wrapping),
	    T(test_policy__encryption_key_keeps_encrypting),
	    T(test_policy__role_survives_restart),
	    T(test_policy__relaxed_mode_allows_both_roles),
	    T(test_policy__generated_kek_wraps_sensitive_keys),
	};

	return api_run(argc, argv, "policy", tests, NELEM(tests));
}
