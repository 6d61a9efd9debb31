/*
 * test_aes.c - the symmetric ciphers (PKCS#11 v3.0 mechanisms 2.9-2.13
 * AES, 2.20 DES3, 2.53/2.56 ChaCha20-Poly1305) through C_Encrypt* and
 * C_Decrypt*, key generation, and the message-based AEAD functions of base
 * 5.9 and 5.11.
 *
 * Known answers: FIPS 197 C.3, SP 800-38A F.1-F.5, SP 800-67 B.1, the GCM
 * specification's test cases 13-16 (McGrew and Viega), RFC 8439 2.8.2.
 * Table-driven tests loop over every mode (struct mode); SoftHSMv2 2.6 has
 * no ChaCha20, so its rows are skipped there, said so in the output.
 */
#include "harness.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

/* ---- helpers ------------------------------------------------------------ */

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (; s[0] != '\0' && s[1] != '\0'; s += 2) {
		unsigned v;

		assert_true(n < cap);
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static CK_SESSION_HANDLE user_rw(void)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	api_login(s, CKU_USER);
	return s;
}

/* A session secret key with the given value; enc/dec set its usage. */
static CK_OBJECT_HANDLE import_key_use(CK_SESSION_HANDLE s, CK_KEY_TYPE kt,
				       const uint8_t *v, size_t len,
				       CK_BBOOL enc, CK_BBOOL dec)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls),	  ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_TOKEN, &api_false),  ATTR(CKA_ENCRYPT, &enc),
	    ATTR(CKA_DECRYPT, &dec),	  ATTR_BUF(CKA_VALUE, v, len),
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_rv(CKR_OK, p11->C_CreateObject(s, t, NELEM(t), &h));
	return h;
}

static CK_OBJECT_HANDLE import_key(CK_SESSION_HANDLE s, CK_KEY_TYPE kt,
				   const uint8_t *v, size_t len)
{
	return import_key_use(s, kt, v, len, CK_TRUE, CK_TRUE);
}

static CK_OBJECT_HANDLE import_hex(CK_SESSION_HANDLE s, CK_KEY_TYPE kt,
				   const char *hex)
{
	uint8_t v[32];
	size_t n = unhex(hex, v, sizeof(v));

	return import_key(s, kt, v, n);
}

/* Single-part with a length query first; asserts every step. */
static size_t crypt1(CK_SESSION_HANDLE s, bool enc, CK_MECHANISM *m,
		     CK_OBJECT_HANDLE k, const uint8_t *in, size_t inl,
		     uint8_t *out, size_t cap)
{
	CK_ULONG n = 0;

	if (enc) {
		assert_rv(CKR_OK, p11->C_EncryptInit(s, m, k));
		assert_rv(CKR_OK, p11->C_Encrypt(s, (CK_BYTE_PTR)in, inl, NULL,
						 &n));
		assert_true(n <= cap);
		assert_rv(CKR_OK,
			  p11->C_Encrypt(s, (CK_BYTE_PTR)in, inl, out, &n));
	} else {
		assert_rv(CKR_OK, p11->C_DecryptInit(s, m, k));
		assert_rv(CKR_OK, p11->C_Decrypt(s, (CK_BYTE_PTR)in, inl, NULL,
						 &n));
		assert_true(n <= cap);
		assert_rv(CKR_OK,
			  p11->C_Decrypt(s, (CK_BYTE_PTR)in, inl, out, &n));
	}
	return n;
}

static CK_RV update(CK_SESSION_HANDLE s, bool enc, const uint8_t *in,
		    size_t inl, uint8_t *out, CK_ULONG *n)
{
	return enc ? p11->C_EncryptUpdate(s, (CK_BYTE_PTR)in, inl, out, n)
		   : p11->C_DecryptUpdate(s, (CK_BYTE_PTR)in, inl, out, n);
}

static CK_RV final(CK_SESSION_HANDLE s, bool enc, uint8_t *out, CK_ULONG *n)
{
	return enc ? p11->C_EncryptFinal(s, out, n)
		   : p11->C_DecryptFinal(s, out, n);
}

/* Multi-part in chunks of chunk bytes; asserts every step. */
static size_t crypt_multi(CK_SESSION_HANDLE s, bool enc, CK_MECHANISM *m,
			  CK_OBJECT_HANDLE k, const uint8_t *in, size_t inl,
			  size_t chunk, uint8_t *out, size_t cap)
{
	size_t done = 0;
	CK_ULONG n;

	if (enc)
		assert_rv(CKR_OK, p11->C_EncryptInit(s, m, k));
	else
		assert_rv(CKR_OK, p11->C_DecryptInit(s, m, k));
	for (size_t off = 0; off < inl; off += chunk) {
		size_t part = inl - off < chunk ? inl - off : chunk;

		n = (CK_ULONG)(cap - done);
		assert_rv(CKR_OK, update(s, enc, in + off, part, out + done,
					 &n));
		done += n;
	}
	n = (CK_ULONG)(cap - done);
	assert_rv(CKR_OK, final(s, enc, out + done, &n));
	return done + n;
}

/* ---- the modes -------------------------------------------------------------- */

static uint8_t iv16[16] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
			   0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static uint8_t iv12[12] = {0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce,
			   0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88};
static uint8_t aad[20] = {0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe,
			  0xef, 0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad,
			  0xbe, 0xef, 0xab, 0xad, 0xda, 0xd2};
static CK_AES_CTR_PARAMS ctr_params = {
    32, {0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
	 0xfb, 0xfc, 0xfd, 0xfe, 0xff}};
static CK_GCM_PARAMS gcm_params = {iv12, 12, 96, aad, 20, 128};
static CK_GCM_PARAMS gcm96_params = {iv16, 16, 128, aad, 7, 96};
static CK_SALSA20_CHACHA20_POLY1305_PARAMS chacha_params = {iv12, 12, aad,
							    20};

struct mode {
	const char *name;
	CK_MECHANISM_TYPE type;
	void *param;
	CK_ULONG plen;
	CK_KEY_TYPE kt;
	size_t keylen;
	size_t block; /* block size of the cipher */
	bool whole;   /* input must be whole blocks */
	bool pad;
	size_t tag; /* AEAD tag bytes, 0 otherwise */
	bool softhsm_lacks;
};

static const struct mode modes[] = {
    {"AES-ECB", CKM_AES_ECB, NULL, 0, CKK_AES, 16, 16, true, false, 0, false},
    {"AES-CBC", CKM_AES_CBC, iv16, 16, CKK_AES, 24, 16, true, false, 0, false},
    {"AES-CBC-PAD", CKM_AES_CBC_PAD, iv16, 16, CKK_AES, 32, 16, false, true, 0,
     false},
    {"AES-CTR", CKM_AES_CTR, &ctr_params, sizeof(ctr_params), CKK_AES, 16, 16,
     false, false, 0, false},
    {"AES-GCM", CKM_AES_GCM, &gcm_params, sizeof(gcm_params), CKK_AES, 32, 16,
     false, false, 16, false},
    {"AES-GCM-96", CKM_AES_GCM, &gcm96_params, sizeof(gcm96_params), CKK_AES,
     16, 16, false, false, 12, false},
    {"ChaCha20-Poly1305", CKM_CHACHA20_POLY1305, &chacha_params,
     sizeof(chacha_params), CKK_CHACHA20, 32, 1, false, false, 16, true},
    {"DES3-ECB", CKM_DES3_ECB, NULL, 0, CKK_DES3, 24, 8, true, false, 0, false},
    {"DES3-CBC", CKM_DES3_CBC, iv16, 8, CKK_DES3, 24, 8, true, false, 0, false},
    {"DES3-CBC-PAD", CKM_DES3_CBC_PAD, iv16, 8, CKK_DES3, 24, 8, false, true,
     0, false},
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static CK_MECHANISM mech_of(const struct mode *md)
{
	CK_MECHANISM m = {md->type, md->param, md->plen};

	return m;
}

/* Whether the module under test runs md; says so when it is skipped. */
static bool runs(const struct mode *md)
{
	if (md->softhsm_lacks && api_is_softhsm()) {
		printf("# skipped on SoftHSMv2 (lacks it): %s\n", md->name);
		return false;
	}
	return true;
}

static CK_OBJECT_HANDLE mode_key(CK_SESSION_HANDLE s, const struct mode *md)
{
	uint8_t v[32];

	assert_int_equal(RAND_bytes(v, (int)md->keylen), 1);
	return import_key(s, md->kt, v, md->keylen);
}

/* Ciphertext length of n plaintext bytes. */
static size_t enc_len(const struct mode *md, size_t n)
{
	if (md->pad)
		return n - n % md->block + md->block;
	return n + md->tag;
}

/* A message length the mode takes (whole blocks where it must). */
static size_t msg_len(const struct mode *md)
{
	return md->whole ? 48 : 45;
}

/* ---- known answers ------------------------------------------------------ */

static const char sp800_38a_pt[] = "6bc1bee22e409f96e93d7e117393172a"
				   "ae2d8a571e03ac9c9eb76fac45af8e51"
				   "30c81c46a35ce411e5fbc1191a0a52ef"
				   "f69f2445df4f9b17ad2b417be66c3710";
static const char sp800_38a_key[] = "2b7e151628aed2a6abf7158809cf4f3c";

/* Encrypts and decrypts one vector, single-part and in 7-byte parts. */
static void kat(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE k,
		const char *pt_hex, const char *ct_hex)
{
	uint8_t pt[160], ct[176], out[176];
	size_t ptl = unhex(pt_hex, pt, sizeof(pt));
	size_t ctl = unhex(ct_hex, ct, sizeof(ct));
	size_t n;

	n = crypt1(s, true, m, k, pt, ptl, out, sizeof(out));
	assert_int_equal(n, ctl);
	assert_memory_equal(out, ct, ctl);
	n = crypt1(s, false, m, k, ct, ctl, out, sizeof(out));
	assert_int_equal(n, ptl);
	if (ptl > 0)
		assert_memory_equal(out, pt, ptl);
	n = crypt_multi(s, true, m, k, pt, ptl, 7, out, sizeof(out));
	assert_int_equal(n, ctl);
	assert_memory_equal(out, ct, ctl);
	n = crypt_multi(s, false, m, k, ct, ctl, 7, out, sizeof(out));
	assert_int_equal(n, ptl);
	if (ptl > 0)
		assert_memory_equal(out, pt, ptl);
}

/* SP 800-38A F.1.1 ECB-AES128.Encrypt */
static void test_aes__ecb_sp800_38a_vector(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = {CKM_AES_ECB, NULL, 0};

	(void)state;
	kat(s, &m, import_hex(s, CKK_AES, sp800_38a_key), sp800_38a_pt,
	    "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf"
	    "43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4");
}

/* SP 800-38A F.2.1 CBC-AES128.Encrypt */
static void test_aes__cbc_sp800_38a_vector(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	uint8_t iv[16];
	CK_MECHANISM m = {CKM_AES_CBC, iv, sizeof(iv)};

	(void)state;
	unhex("000102030405060708090a0b0c0d0e0f", iv, sizeof(iv));
	kat(s, &m, import_hex(s, CKK_AES, sp800_38a_key), sp800_38a_pt,
	    "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
	    "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7");
}

/* SP 800-38A F.5.1 CTR-AES128.Encrypt */
static void test_aes__ctr_sp800_38a_vector(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_AES_CTR_PARAMS p = {128, {0}};
	CK_MECHANISM m = {CKM_AES_CTR, &p, sizeof(p)};

	(void)state;
	unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", p.cb, sizeof(p.cb));
	kat(s, &m, import_hex(s, CKK_AES, sp800_38a_key), sp800_38a_pt,
	    "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
	    "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee");
}

/* FIPS 197 C.3 (AES-256) */
static void test_aes__fips197_aes256_vector(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = {CKM_AES_ECB, NULL, 0};

	(void)state;
	kat(s, &m,
	    import_hex(s, CKK_AES, "000102030405060708090a0b0c0d0e0f"
				   "101112131415161718191a1b1c1d1e1f"),
	    "00112233445566778899aabbccddeeff",
	    "8ea2b7ca516745bfeafc49904b496089");
}

/* The GCM specification's test cases 13-16 (AES-256). */
static void test_aes__gcm_vectors_13_to_16(void **state)
{
	static const char k15[] = "feffe9928665731c6d6a8f9467308308"
				  "feffe9928665731c6d6a8f9467308308";
	static const char p15[] =
	    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
	static const char c16[] =
	    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662";
	static const struct {
		const char *key, *iv, *aad, *pt, *ct_tag;
	} v[] = {
	    {"00", "000000000000000000000000", "", "",
	     "530f8afbc74536b9a963b4f1c4cb738b"},
	    {"00", "000000000000000000000000", "",
	     "00000000000000000000000000000000",
	     "cea7403d4d606b6e074ec5d3baf39d18"
	     "d0d1c8a799996bf0265b98b5d48ab919"},
	    {k15, "cafebabefacedbaddecaf888", "", p15,
	     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
	     "b094dac5d93471bdec1a502270e3cc6c"},
	    {k15, "cafebabefacedbaddecaf888",
	     "feedfacedeadbeeffeedfacedeadbeefabaddad2", NULL, NULL},
	};
	CK_SESSION_HANDLE s = user_rw();
	uint8_t key[32] = {0}, iv[12], a[20];
	char p16[121], ct16[200];

	(void)state;
	/* case 16: the first 60 bytes of case 15's plaintext, with AAD */
	memcpy(p16, p15, 120);
	p16[120] = '\0';
	snprintf(ct16, sizeof(ct16), "%s%s", c16,
		 "76fc6ece0f4e1768cddf8853bb2d551b");
	for (size_t i = 0; i < NELEM(v); i++) {
		size_t al = unhex(v[i].aad, a, sizeof(a));
		CK_GCM_PARAMS p = {iv, 12, 96, al ? a : NULL, al, 128};
		CK_MECHANISM m = {CKM_AES_GCM, &p, sizeof(p)};

		memset(key, 0, sizeof(key));
		if (strlen(v[i].key) > 2)
			unhex(v[i].key, key, sizeof(key));
		unhex(v[i].iv, iv, sizeof(iv));
		kat(s, &m, import_key(s, CKK_AES, key, 32),
		    v[i].pt != NULL ? v[i].pt : p16,
		    v[i].ct_tag != NULL ? v[i].ct_tag : ct16);
	}
}

static const char rfc8439_pt[] =
    "Ladies and Gentlemen of the class of '99: If I could offer you only "
    "one tip for the future, sunscreen would be it.";
static const char rfc8439_ct_tag[] =
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
    "3ff4def08e4b7a9de576d26586cec64b6116"
    "1ae10b594f09e26a7e902ecbd0600691";

static CK_OBJECT_HANDLE rfc8439_key(CK_SESSION_HANDLE s)
{
	uint8_t k[32];

	for (size_t i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)(0x80 + i);
	return import_key(s, CKK_CHACHA20, k, sizeof(k));
}

/* RFC 8439 2.8.2 */
static void test_chacha__rfc8439_aead_vector(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	uint8_t nonce[12], a[12];
	CK_SALSA20_CHACHA20_POLY1305_PARAMS p = {nonce, 12, a, 12};
	CK_MECHANISM m = {CKM_CHACHA20_POLY1305, &p, sizeof(p)};
	char pt_hex[2 * sizeof(rfc8439_pt)];

	(void)state;
	unhex("070000004041424344454647", nonce, sizeof(nonce));
	unhex("50515253c0c1c2c3c4c5c6c7", a, sizeof(a));
	for (size_t i = 0; i < strlen(rfc8439_pt); i++)
		snprintf(pt_hex + 2 * i, 3, "%02x",
			 (unsigned char)rfc8439_pt[i]);
	kat(s, &m, rfc8439_key(s), pt_hex, rfc8439_ct_tag);
}

/* SP 800-67 B.1 (three distinct keys, ECB) */
static void test_des3__sp800_67_vector(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = {CKM_DES3_ECB, NULL, 0};

	(void)state;
	kat(s, &m,
	    import_hex(s, CKK_DES3,
		       "0123456789abcdef23456789abcdef01456789abcdef0123"),
	    "5468652071756663" "6b2062726f776e20" "666f78206a756d70",
	    "a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900");
}

/* ---- round trips -------------------------------------------------------- */

/* Every length 0..33, checked against OpenSSL in this program. */
static void cbc_pad_lengths(CK_SESSION_HANDLE s, CK_KEY_TYPE kt,
			    const EVP_CIPHER *c, size_t keylen, size_t bs)
{
	uint8_t key[32], pt[33], ct[64], want[64], back[64];
	CK_MECHANISM m = {kt == CKK_AES ? CKM_AES_CBC_PAD : CKM_DES3_CBC_PAD,
			  iv16, (CK_ULONG)bs};
	CK_OBJECT_HANDLE k;
	int l1, l2;

	assert_int_equal(RAND_bytes(key, (int)keylen), 1);
	assert_int_equal(RAND_bytes(pt, sizeof(pt)), 1);
	k = import_key(s, kt, key, keylen);
	for (size_t len = 0; len <= 33; len++) {
		EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
		size_t n;

		assert_non_null(x);
		assert_int_equal(EVP_EncryptInit_ex(x, c, NULL, key, iv16), 1);
		assert_int_equal(EVP_EncryptUpdate(x, want, &l1, pt, (int)len),
				 1);
		assert_int_equal(EVP_EncryptFinal_ex(x, want + l1, &l2), 1);
		EVP_CIPHER_CTX_free(x);
		n = crypt1(s, true, &m, k, pt, len, ct, sizeof(ct));
		assert_int_equal(n, (size_t)(l1 + l2));
		assert_int_equal(n, len - len % bs + bs);
		assert_memory_equal(ct, want, n);
		assert_int_equal(crypt1(s, false, &m, k, ct, n, back,
					sizeof(back)),
				 len);
		if (len > 0)
			assert_memory_equal(back, pt, len);
	}
}

static void test_aes__cbc_pad_round_trip_every_length(void **state)
{
	(void)state;
	cbc_pad_lengths(user_rw(), CKK_AES, EVP_aes_256_cbc(), 32, 16);
}

static void test_des3__cbc_pad_round_trip_every_length(void **state)
{
	(void)state;
	cbc_pad_lengths(user_rw(), CKK_DES3, EVP_des_ede3_cbc(), 24, 8);
}

/* Multi-part in odd chunks gives what single-part gives, both ways. */
static void test_sym__multi_part_equals_single_part(void **state)
{
	static const size_t chunks[] = {1, 3, 7, 13, 17, 31, 100};
	CK_SESSION_HANDLE s = user_rw();
	uint8_t pt[100], ct[128], out[128];

	(void)state;
	assert_int_equal(RAND_bytes(pt, sizeof(pt)), 1);
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *md = &modes[i];
		CK_MECHANISM m = mech_of(md);
		CK_OBJECT_HANDLE k;
		size_t len = md->whole ? 96 : 77, n;

		if (!runs(md))
			continue;
		k = mode_key(s, md);
		n = crypt1(s, true, &m, k, pt, len, ct, sizeof(ct));
		assert_int_equal(n, enc_len(md, len));
		for (size_t c = 0; c < NELEM(chunks); c++) {
			assert_int_equal(crypt_multi(s, true, &m, k, pt, len,
						     chunks[c], out,
						     sizeof(out)),
					 n);
			assert_memory_equal(out, ct, n);
			assert_int_equal(crypt_multi(s, false, &m, k, ct, n,
						     chunks[c], out,
						     sizeof(out)),
					 len);
			assert_memory_equal(out, pt, len);
		}
	}
}

/* What is encrypted with a generated key decrypts. */
static void test_sym__generated_key_round_trip(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	uint8_t pt[48], ct[80], out[80];

	(void)state;
	assert_int_equal(RAND_bytes(pt, sizeof(pt)), 1);
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *md = &modes[i];
		CK_MECHANISM m = mech_of(md);
		CK_ULONG vlen = md->keylen;
		CK_MECHANISM gen = {md->kt == CKK_AES	  ? CKM_AES_KEY_GEN
				    : md->kt == CKK_DES3 ? CKM_DES3_KEY_GEN
							 : CKM_CHACHA20_KEY_GEN,
				    NULL, 0};
		CK_ATTRIBUTE t[] = {ATTR(CKA_ENCRYPT, &api_true),
				    ATTR(CKA_DECRYPT, &api_true),
				    ATTR(CKA_VALUE_LEN, &vlen)};
		CK_OBJECT_HANDLE k;
		size_t n;

		if (!runs(md))
			continue;
		assert_rv(CKR_OK,
			  p11->C_GenerateKey(s, &gen, t,
					     md->kt == CKK_AES ? 3 : 2, &k));
		n = crypt1(s, true, &m, k, pt, sizeof(pt), ct, sizeof(ct));
		assert_int_equal(n, enc_len(md, sizeof(pt)));
		assert_memory_not_equal(ct, pt, 16);
		assert_int_equal(crypt1(s, false, &m, k, ct, n, out,
					sizeof(out)),
				 sizeof(pt));
		assert_memory_equal(out, pt, sizeof(pt));
	}
}

/* ---- AEAD tags ---------------------------------------------------------- */

/* A flipped bit anywhere fails, single- and multi-part, and no plaintext
 * reaches the caller. */
static void tag_failure(CK_SESSION_HANDLE s, const struct mode *md)
{
	CK_MECHANISM m = mech_of(md);
	CK_OBJECT_HANDLE k = mode_key(s, md);
	uint8_t pt[40], ct[64], out[64];
	size_t n;
	CK_ULONG l;

	memset(pt, 'P', sizeof(pt));
	n = crypt1(s, true, &m, k, pt, sizeof(pt), ct, sizeof(ct));
	for (size_t flip = 0; flip < n; flip += n - 1) {
		ct[flip] ^= 0x01;
		memset(out, 0, sizeof(out));
		l = sizeof(out);
		assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, k));
		assert_rv(CKR_ENCRYPTED_DATA_INVALID,
			  p11->C_Decrypt(s, ct, n, out, &l));
		assert_memory_not_equal(out, pt, 8);
		assert_memory_not_equal(out + 16, pt + 16, 8);
		/* multi-part: nothing before the tag is checked */
		assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, k));
		l = sizeof(out);
		assert_rv(CKR_OK, p11->C_DecryptUpdate(s, ct, n - 5, out, &l));
		assert_int_equal(l, 0);
		l = sizeof(out);
		assert_rv(CKR_ENCRYPTED_DATA_INVALID,
			  p11->C_DecryptFinal(s, out, &l));
		assert_memory_not_equal(out, pt, 8);
		/* the operation is over */
		l = sizeof(out);
		assert_rv(CKR_OPERATION_NOT_INITIALIZED,
			  p11->C_DecryptFinal(s, out, &l));
		ct[flip] ^= 0x01;
	}
}

static void test_aes__gcm_bad_tag_fails_without_plaintext(void **state)
{
	CK_SESSION_HANDLE s = user_rw();

	(void)state;
	tag_failure(s, &modes[4]);
	tag_failure(s, &modes[5]);
}

static void test_chacha__bad_tag_fails_without_plaintext(void **state)
{
	(void)state;
	tag_failure(user_rw(), &modes[6]);
}

/* ---- parameters --------------------------------------------------------- */

static void test_sym__bad_params_fail(void **state)
{
	static uint8_t big[300];
	static CK_AES_CTR_PARAMS ctr0 = {0, {0}}, ctr129 = {129, {0}};
	static CK_GCM_PARAMS gcm_iv0 = {iv12, 0, 0, NULL, 0, 128},
			     gcm_ivnull = {NULL, 12, 96, NULL, 0, 128},
			     gcm_iv_huge = {big, 300, 2400, NULL, 0, 128},
			     gcm_tag0 = {iv12, 12, 96, NULL, 0, 0},
			     gcm_tag8 = {iv12, 12, 96, NULL, 0, 8},
			     gcm_tag100 = {iv12, 12, 96, NULL, 0, 100},
			     gcm_tag136 = {iv12, 12, 96, NULL, 0, 136},
			     gcm_aadnull = {iv12, 12, 96, NULL, 5, 128};
	static CK_SALSA20_CHACHA20_POLY1305_PARAMS ch11 = {iv12, 11, NULL, 0},
						   chnull = {NULL, 12, NULL,
							     0};
	static const struct {
		const char *what;
		CK_MECHANISM m;
		CK_KEY_TYPE kt;
		size_t keylen;
	} bad[] = {
	    {"CBC no IV", {CKM_AES_CBC, NULL, 0}, CKK_AES, 16},
	    {"CBC short IV", {CKM_AES_CBC, iv16, 15}, CKK_AES, 16},
	    {"CBC_PAD long IV", {CKM_AES_CBC_PAD, big, 17}, CKK_AES, 16},
	    {"CTR no params", {CKM_AES_CTR, NULL, 0}, CKK_AES, 16},
	    {"CTR short params", {CKM_AES_CTR, &ctr_params, 8}, CKK_AES, 16},
	    {"CTR 0 bits", {CKM_AES_CTR, &ctr0, sizeof(ctr0)}, CKK_AES, 16},
	    {"CTR 129 bits", {CKM_AES_CTR, &ctr129, sizeof(ctr129)}, CKK_AES,
	     16},
	    {"GCM no params", {CKM_AES_GCM, NULL, 0}, CKK_AES, 16},
	    {"GCM short params", {CKM_AES_GCM, &gcm_params, 16}, CKK_AES, 16},
	    {"GCM IV 0", {CKM_AES_GCM, &gcm_iv0, sizeof(gcm_iv0)}, CKK_AES, 16},
	    {"GCM IV NULL",
	     {CKM_AES_GCM, &gcm_ivnull, sizeof(gcm_ivnull)},
	     CKK_AES,
	     16},
	    {"GCM IV 300",
	     {CKM_AES_GCM, &gcm_iv_huge, sizeof(gcm_iv_huge)},
	     CKK_AES,
	     16},
	    {"GCM tag 0", {CKM_AES_GCM, &gcm_tag0, sizeof(gcm_tag0)}, CKK_AES,
	     16},
	    {"GCM tag 8", {CKM_AES_GCM, &gcm_tag8, sizeof(gcm_tag8)}, CKK_AES,
	     16},
	    {"GCM tag 100",
	     {CKM_AES_GCM, &gcm_tag100, sizeof(gcm_tag100)},
	     CKK_AES,
	     16},
	    {"GCM tag 136",
	     {CKM_AES_GCM, &gcm_tag136, sizeof(gcm_tag136)},
	     CKK_AES,
	     16},
	    {"GCM AAD NULL",
	     {CKM_AES_GCM, &gcm_aadnull, sizeof(gcm_aadnull)},
	     CKK_AES,
	     16},
	    {"DES3 CBC IV 16", {CKM_DES3_CBC, iv16, 16}, CKK_DES3, 24},
	    {"DES3 CBC_PAD no IV", {CKM_DES3_CBC_PAD, NULL, 0}, CKK_DES3, 24},
	    {"ChaCha nonce 11",
	     {CKM_CHACHA20_POLY1305, &ch11, sizeof(ch11)},
	     CKK_CHACHA20,
	     32},
	    {"ChaCha nonce NULL",
	     {CKM_CHACHA20_POLY1305, &chnull, sizeof(chnull)},
	     CKK_CHACHA20,
	     32},
	    {"ChaCha no params",
	     {CKM_CHACHA20_POLY1305, NULL, 0},
	     CKK_CHACHA20,
	     32},
	};
	CK_SESSION_HANDLE s = user_rw();
	uint8_t key[32] = {1};

	(void)state;
	for (size_t i = 0; i < NELEM(bad); i++) {
		CK_MECHANISM m = bad[i].m;
		CK_OBJECT_HANDLE k;

		if (bad[i].kt == CKK_CHACHA20 && api_is_softhsm()) {
			printf("# skipped on SoftHSMv2 (lacks it): %s\n",
			       bad[i].what);
			continue;
		}
		k = import_key(s, bad[i].kt, key, bad[i].keylen);
		printf("# %s\n", bad[i].what);
		assert_rv(CKR_MECHANISM_PARAM_INVALID,
			  p11->C_EncryptInit(s, &m, k));
		assert_rv(CKR_MECHANISM_PARAM_INVALID,
			  p11->C_DecryptInit(s, &m, k));
	}
}

/* GCM takes IVs other than 96 bits (GHASH of the IV). */
static void test_aes__gcm_long_iv_round_trip(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	uint8_t iv[64], key[16], pt[33], ct[64], want[64], out[64];
	CK_GCM_PARAMS p = {iv, sizeof(iv), 512, NULL, 0, 128};
	CK_MECHANISM m = {CKM_AES_GCM, &p, sizeof(p)};
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	CK_OBJECT_HANDLE k;
	int l1, l2;
	size_t n;

	(void)state;
	assert_int_equal(RAND_bytes(iv, sizeof(iv)), 1);
	assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
	assert_int_equal(RAND_bytes(pt, sizeof(pt)), 1);
	k = import_key(s, CKK_AES, key, sizeof(key));
	n = crypt1(s, true, &m, k, pt, sizeof(pt), ct, sizeof(ct));
	assert_int_equal(n, sizeof(pt) + 16);
	/* independently, with OpenSSL */
	assert_non_null(x);
	assert_int_equal(EVP_EncryptInit_ex(x, EVP_aes_128_gcm(), NULL, NULL,
					    NULL),
			 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN,
					     sizeof(iv), NULL),
			 1);
	assert_int_equal(EVP_EncryptInit_ex(x, NULL, NULL, key, iv), 1);
	assert_int_equal(EVP_EncryptUpdate(x, want, &l1, pt, sizeof(pt)), 1);
	assert_int_equal(EVP_EncryptFinal_ex(x, want + l1, &l2), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16,
					     want + sizeof(pt)),
			 1);
	EVP_CIPHER_CTX_free(x);
	assert_memory_equal(ct, want, n);
	assert_int_equal(crypt1(s, false, &m, k, ct, n, out, sizeof(out)),
			 sizeof(pt));
	assert_memory_equal(out, pt, sizeof(pt));
}

/* ---- data lengths --------------------------------------------------------- */

static void test_sym__partial_block_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	uint8_t buf[64] = {0};
	CK_ULONG l;

	(void)state;
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *md = &modes[i];
		CK_MECHANISM m = mech_of(md);
		CK_OBJECT_HANDLE k;
		size_t odd = md->block + 1;

		if (!md->whole && !md->pad)
			continue;
		k = mode_key(s, md);
		printf("# %s\n", md->name);
		if (md->whole) {
			/* single-part encrypt */
			assert_rv(CKR_OK, p11->C_EncryptInit(s, &m, k));
			l = sizeof(buf);
			assert_rv(CKR_DATA_LEN_RANGE,
				  p11->C_Encrypt(s, buf, odd, buf, &l));
			/* multi-part: found at the final */
			assert_rv(CKR_OK, p11->C_EncryptInit(s, &m, k));
			l = sizeof(buf);
			assert_rv(CKR_OK,
				  p11->C_EncryptUpdate(s, buf, odd, buf, &l));
			assert_int_equal(l, md->block);
			l = sizeof(buf);
			assert_rv(CKR_DATA_LEN_RANGE,
				  p11->C_EncryptFinal(s, buf, &l));
		}
		/* decryption of a partial block, padded or not */
		assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, k));
		l = sizeof(buf);
		assert_rv(CKR_ENCRYPTED_DATA_LEN_RANGE,
			  p11->C_Decrypt(s, buf, odd, buf, &l));
		assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, k));
		l = sizeof(buf);
		assert_rv(CKR_OK, p11->C_DecryptUpdate(s, buf, odd, buf, &l));
		l = sizeof(buf);
		assert_rv(CKR_ENCRYPTED_DATA_LEN_RANGE,
			  p11->C_DecryptFinal(s, buf, &l));
	}
}

/* CBC_PAD decryption of nothing: not even the padding block. */
static void test_aes__cbc_pad_empty_ciphertext_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = mech_of(&modes[2]);
	CK_OBJECT_HANDLE k = mode_key(s, &modes[2]);
	uint8_t buf[16];
	CK_ULONG l = sizeof(buf);

	(void)state;
	assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, k));
	assert_rv(CKR_ENCRYPTED_DATA_LEN_RANGE,
		  p11->C_Decrypt(s, buf, 0, buf, &l));
}

/* A wrong key gives bad padding (most of the time: retried on the
 * 1-in-256 chance of a valid-looking last byte). */
static void test_aes__cbc_pad_bad_padding_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = mech_of(&modes[2]);
	uint8_t pt[20] = {0}, ct[32], out[32];
	bool failed = false;

	(void)state;
	for (int tries = 0; tries < 8 && !failed; tries++) {
		CK_OBJECT_HANDLE k1 = mode_key(s, &modes[2]);
		CK_OBJECT_HANDLE k2 = mode_key(s, &modes[2]);
		size_t n = crypt1(s, true, &m, k1, pt, sizeof(pt), ct,
				  sizeof(ct));
		CK_ULONG l = sizeof(out);
		CK_RV rv;

		assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, k2));
		rv = p11->C_Decrypt(s, ct, n, out, &l);
		if (rv != CKR_OK) {
			assert_rv(CKR_ENCRYPTED_DATA_INVALID, rv);
			failed = true;
		}
	}
	assert_true(failed);
}

/* CKA_AES_CTR with few counter bits: no wrap into the nonce. */
static void test_aes__ctr_counter_exhaustion_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_AES_CTR_PARAMS p = {2, {0}};
	CK_MECHANISM m = {CKM_AES_CTR, &p, sizeof(p)};
	CK_OBJECT_HANDLE k = mode_key(s, &modes[3]);
	uint8_t buf[80] = {0};
	CK_ULONG l;

	(void)state;
	/* counter 0 of 2 bits: 4 blocks */
	assert_rv(CKR_OK, p11->C_EncryptInit(s, &m, k));
	l = sizeof(buf);
	assert_rv(CKR_OK, p11->C_Encrypt(s, buf, 64, buf, &l));
	assert_rv(CKR_OK, p11->C_EncryptInit(s, &m, k));
	l = sizeof(buf);
	assert_rv(CKR_DATA_LEN_RANGE, p11->C_Encrypt(s, buf, 65, buf, &l));
	/* counter 3 of 2 bits: one block, also across updates */
	p.cb[15] = 3;
	assert_rv(CKR_OK, p11->C_EncryptInit(s, &m, k));
	l = sizeof(buf);
	assert_rv(CKR_OK, p11->C_EncryptUpdate(s, buf, 10, buf, &l));
	l = sizeof(buf);
	assert_rv(CKR_OK, p11->C_EncryptUpdate(s, buf, 6, buf, &l));
	l = sizeof(buf);
	assert_rv(CKR_DATA_LEN_RANGE,
		  p11->C_EncryptUpdate(s, buf, 1, buf, &l));
}

static void test_aes__gcm_short_ciphertext_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_MECHANISM m = mech_of(&modes[4]);
	CK_OBJECT_HANDLE k = mode_key(s, &modes[4]);
	uint8_t buf[16] = {0};
	CK_ULONG l = sizeof(buf);

	(void)state;
	assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, k));
	assert_rv_either(CKR_ENCRYPTED_DATA_LEN_RANGE,
			 CKR_ENCRYPTED_DATA_INVALID,
			 p11->C_Decrypt(s, buf, 15, buf, &l));
}

/* ---- output lengths ----------------------------------------------------- */

/* A NULL buffer asks for the length and changes nothing. */
static void test_sym__length_query(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	uint8_t pt[48], ct[80], out[80];

	(void)state;
	assert_int_equal(RAND_bytes(pt, sizeof(pt)), 1);
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *md = &modes[i];
		CK_MECHANISM m = mech_of(md);
		CK_OBJECT_HANDLE k;
		size_t len = msg_len(md), n;
		CK_ULONG l = 0, l2;

		if (!runs(md))
			continue;
		k = mode_key(s, md);
		printf("# %s\n", md->name);
		assert_rv(CKR_OK, p11->C_EncryptInit(s, &m, k));
		assert_rv(CKR_OK, p11->C_Encrypt(s, pt, len, NULL, &l));
		assert_int_equal(l, enc_len(md, len));
		assert_rv(CKR_OK, p11->C_Encrypt(s, pt, len, ct, &l));
		n = l;
		/* decrypt: at least what comes out, a little more at most */
		assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, k));
		l = 0;
		assert_rv(CKR_OK, p11->C_Decrypt(s, ct, n, NULL, &l));
		assert_true(l >= len && l <= len + md->block);
		assert_rv(CKR_OK, p11->C_Decrypt(s, ct, n, out, &l));
		assert_int_equal(l, len);
		assert_memory_equal(out, pt, len);
		/* multi-part: an update's length query consumes nothing */
		assert_rv(CKR_OK, p11->C_EncryptInit(s, &m, k));
		l = 0;
		assert_rv(CKR_OK, p11->C_EncryptUpdate(s, pt, len, NULL, &l));
		l2 = sizeof(out);
		assert_rv(CKR_OK, p11->C_EncryptUpdate(s, pt, len, out, &l2));
		assert_int_equal(l, l2);
		l = 0;
		assert_rv(CKR_OK, p11->C_EncryptFinal(s, NULL, &l));
		l = sizeof(out) - l2;
		assert_rv(CKR_OK, p11->C_EncryptFinal(s, out + l2, &l));
		assert_int_equal(l2 + l, n);
		assert_memory_equal(out, ct, n);
	}
}

/* CKR_BUFFER_TOO_SMALL says the length, keeps the operation, and the
 * retry gives the same result: single-part. */
static void test_sym__buffer_too_small_single_part(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	uint8_t pt[48], ct[80], out[80];

	(void)state;
	assert_int_equal(RAND_bytes(pt, sizeof(pt)), 1);
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *md = &modes[i];
		CK_MECHANISM m = mech_of(md);
		CK_OBJECT_HANDLE k;
		size_t len = msg_len(md), n = 0;
		CK_ULONG l;

		if (!runs(md))
			continue;
		k = mode_key(s, md);
		printf("# %s\n", md->name);
		assert_rv(CKR_OK, p11->C_EncryptInit(s, &m, k));
		l = 3;
		assert_rv(CKR_BUFFER_TOO_SMALL,
			  p11->C_Encrypt(s, pt, len, ct, &l));
		assert_int_equal(l, enc_len(md, len));
		assert_rv(CKR_OK, p11->C_Encrypt(s, pt, len, ct, &l));
		n = l;
		assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, k));
		l = 3;
		assert_rv(CKR_BUFFER_TOO_SMALL,
			  p11->C_Decrypt(s, ct, n, out, &l));
		assert_true(l >= len && l <= len + md->block);
		assert_rv(CKR_OK, p11->C_Decrypt(s, ct, n, out, &l));
		assert_int_equal(l, len);
		assert_memory_equal(out, pt, len);
	}
}

/* A buffer of the exact plaintext length suffices even where a length
 * query answers more (CBC_PAD: the padding is known only once read). */
static void test_sym__cbc_pad_decrypt_into_exact_buffer(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	uint8_t pt[45], ct[64], out[64];

	(void)state;
	assert_int_equal(RAND_bytes(pt, sizeof(pt)), 1);
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *md = &modes[i];
		CK_MECHANISM m = mech_of(md);
		CK_OBJECT_HANDLE k;
		size_t n, done;
		CK_ULONG l;

		if (!md->pad)
			continue;
		k = mode_key(s, md);
		n = crypt1(s, true, &m, k, pt, sizeof(pt), ct, sizeof(ct));
		/* single-part */
		assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, k));
		l = sizeof(pt) - 1;
		assert_rv(CKR_BUFFER_TOO_SMALL,
			  p11->C_Decrypt(s, ct, n, out, &l));
		l = sizeof(pt);
		assert_rv(CKR_OK, p11->C_Decrypt(s, ct, n, out, &l));
		assert_int_equal(l, sizeof(pt));
		assert_memory_equal(out, pt, sizeof(pt));
		/* the final of a multi-part one */
		assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, k));
		l = sizeof(out);
		assert_rv(CKR_OK, p11->C_DecryptUpdate(s, ct, n, out, &l));
		done = l;
		l = (CK_ULONG)(sizeof(pt) - done - 1);
		assert_rv(CKR_BUFFER_TOO_SMALL,
			  p11->C_DecryptFinal(s, out + done, &l));
		assert_int_equal(l, sizeof(pt) - done);
		assert_rv(CKR_OK, p11->C_DecryptFinal(s, out + done, &l));
		assert_int_equal(done + l, sizeof(pt));
		assert_memory_equal(out, pt, sizeof(pt));
	}
}

/* The same for updates and finals. */
static void test_sym__buffer_too_small_multi_part(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	uint8_t pt[48], ct[80], out[80];

	(void)state;
	assert_int_equal(RAND_bytes(pt, sizeof(pt)), 1);
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *md = &modes[i];
		CK_MECHANISM m = mech_of(md);
		CK_OBJECT_HANDLE k;
		size_t len = msg_len(md), n, done = 0;
		CK_ULONG l;

		if (!runs(md))
			continue;
		k = mode_key(s, md);
		printf("# %s\n", md->name);
		n = crypt1(s, true, &m, k, pt, len, ct, sizeof(ct));
		/* encrypt */
		assert_rv(CKR_OK, p11->C_EncryptInit(s, &m, k));
		l = 1;
		assert_rv(CKR_BUFFER_TOO_SMALL,
			  p11->C_EncryptUpdate(s, pt, len, out, &l));
		assert_true(l > 1);
		assert_rv(CKR_OK, p11->C_EncryptUpdate(s, pt, len, out, &l));
		done = l;
		l = 0;
		if (n > done) {
			assert_rv(CKR_BUFFER_TOO_SMALL,
				  p11->C_EncryptFinal(s, out + done, &l));
			assert_int_equal(l, n - done);
		}
		assert_rv(CKR_OK, p11->C_EncryptFinal(s, out + done, &l));
		assert_int_equal(done + l, n);
		assert_memory_equal(out, ct, n);
		/* decrypt (AEAD updates output nothing: any buffer fits) */
		assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, k));
		l = md->tag ? sizeof(out) : 0;
		done = 0;
		if (md->tag == 0) {
			assert_rv(CKR_BUFFER_TOO_SMALL,
				  p11->C_DecryptUpdate(s, ct, n, out, &l));
			assert_true(l > 0);
		}
		assert_rv(CKR_OK, p11->C_DecryptUpdate(s, ct, n, out, &l));
		done = l;
		l = 0;
		if (len > done) {
			assert_rv(CKR_BUFFER_TOO_SMALL,
				  p11->C_DecryptFinal(s, out + done, &l));
			/* "at least" what is needed (base 5.2) */
			assert_true(l >= len - done &&
				    l <= len - done + md->block);
		}
		assert_rv(CKR_OK, p11->C_DecryptFinal(s, out + done, &l));
		assert_int_equal(done + l, len);
		assert_memory_equal(out, pt, len);
	}
}

/* ---- keys and operations ------------------------------------------------ */

static void test_sym__wrong_key_type_fails(void **state)
{
	static const struct {
		CK_MECHANISM_TYPE mech;
		CK_KEY_TYPE kt;
		size_t keylen;
	} wrong[] = {
	    {CKM_AES_ECB, CKK_DES3, 24},
	    {CKM_AES_CBC_PAD, CKK_GENERIC_SECRET, 16},
	    {CKM_AES_CTR, CKK_DES3, 24},
	    {CKM_AES_GCM, CKK_GENERIC_SECRET, 32},
	    {CKM_DES3_CBC_PAD, CKK_AES, 24},
	    {CKM_DES3_ECB, CKK_GENERIC_SECRET, 24},
	    {CKM_CHACHA20_POLY1305, CKK_AES, 32},
	};
	CK_SESSION_HANDLE s = user_rw();
	uint8_t key[32] = {0};

	(void)state;
	for (size_t i = 0; i < NELEM(wrong); i++) {
		const struct mode *md = NULL;
		CK_MECHANISM m;
		CK_OBJECT_HANDLE k;

		for (size_t j = 0; j < NMODES && md == NULL; j++)
			if (modes[j].type == wrong[i].mech)
				md = &modes[j];
		assert_non_null(md);
		if (!runs(md))
			continue;
		m = mech_of(md);
		k = import_key(s, wrong[i].kt, key, wrong[i].keylen);
		assert_rv(CKR_KEY_TYPE_INCONSISTENT,
			  p11->C_EncryptInit(s, &m, k));
		assert_rv(CKR_KEY_TYPE_INCONSISTENT,
			  p11->C_DecryptInit(s, &m, k));
	}
}

static void test_sym__usage_not_permitted_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	uint8_t key[32] = {0};

	(void)state;
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *md = &modes[i];
		CK_MECHANISM m = mech_of(md);
		CK_OBJECT_HANDLE no_enc, no_dec;

		if (!runs(md))
			continue;
		no_enc = import_key_use(s, md->kt, key, md->keylen, CK_FALSE,
					CK_TRUE);
		no_dec = import_key_use(s, md->kt, key, md->keylen, CK_TRUE,
					CK_FALSE);
		assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED,
			  p11->C_EncryptInit(s, &m, no_enc));
		assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED,
			  p11->C_DecryptInit(s, &m, no_dec));
	}
}

/* A second init is refused and the first operation goes on. */
static void test_sym__init_while_active_fails(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	uint8_t pt[48] = {0}, ct[80], out[80];

	(void)state;
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *md = &modes[i];
		CK_MECHANISM m = mech_of(md);
		CK_OBJECT_HANDLE k;
		CK_ULONG l = sizeof(ct), n;

		if (!runs(md))
			continue;
		k = mode_key(s, md);
		assert_rv(CKR_OK, p11->C_EncryptInit(s, &m, k));
		assert_rv(CKR_OPERATION_ACTIVE, p11->C_EncryptInit(s, &m, k));
		assert_rv(CKR_OK, p11->C_Encrypt(s, pt, msg_len(md), ct, &l));
		assert_rv(CKR_OK, p11->C_DecryptInit(s, &m, k));
		assert_rv(CKR_OPERATION_ACTIVE, p11->C_DecryptInit(s, &m, k));
		n = l;
		l = sizeof(out);
		assert_rv(CKR_OK, p11->C_Decrypt(s, ct, n, out, &l));
		assert_int_equal(l, msg_len(md));
		assert_memory_equal(out, pt, l);
	}
}

/* Operations left active are ended (and their key state freed) by
 * C_Finalize: the sanitizer build sees a leak otherwise. */
static void test_sym__finalize_with_active_operations(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	uint8_t buf[32] = {0};
	CK_ULONG l;

	(void)state;
	for (size_t i = 0; i < NMODES; i++) {
		const struct mode *md = &modes[i];
		CK_MECHANISM m = mech_of(md);
		CK_OBJECT_HANDLE k;

		if (!runs(md))
			continue;
		k = mode_key(s, md);
		/* a second session: a token may refuse encryption and
		 * decryption at once in one session */
		assert_rv(CKR_OK, p11->C_DecryptInit(api_open(api_slot, false),
						     &m, k));
		assert_rv(CKR_OK, p11->C_EncryptInit(s, &m, k));
		l = sizeof(buf);
		assert_rv(CKR_OK, p11->C_EncryptUpdate(s, buf, 8, buf, &l));
		api_reinitialize();
		s = user_rw();
	}
}

static void test_sym__mechanism_info(void **state)
{
	static const struct {
		CK_MECHANISM_TYPE t;
		CK_ULONG min, max;
		CK_FLAGS flags;
		bool softhsm_lacks;
	} want[] = {
	    /* min 0: sizes unchecked (DES3 key sizes are "not used", 2.20) */
	    {CKM_AES_KEY_GEN, 16, 32, CKF_GENERATE, false},
	    {CKM_AES_ECB, 16, 32, CKF_ENCRYPT | CKF_DECRYPT, false},
	    {CKM_AES_CBC, 16, 32, CKF_ENCRYPT | CKF_DECRYPT, false},
	    {CKM_AES_CBC_PAD, 16, 32, CKF_ENCRYPT | CKF_DECRYPT, false},
	    {CKM_AES_CTR, 16, 32, CKF_ENCRYPT | CKF_DECRYPT, false},
	    {CKM_AES_GCM, 16, 32, CKF_ENCRYPT | CKF_DECRYPT, false},
	    {CKM_DES3_KEY_GEN, 0, 0, CKF_GENERATE, false},
	    {CKM_DES3_CBC_PAD, 0, 0, CKF_ENCRYPT | CKF_DECRYPT, false},
	    {CKM_CHACHA20_KEY_GEN, 32, 32, CKF_GENERATE, true},
	    {CKM_CHACHA20_POLY1305, 32, 32, CKF_ENCRYPT | CKF_DECRYPT, true},
	};

	(void)state;
	for (size_t i = 0; i < NELEM(want); i++) {
		CK_MECHANISM_INFO info;

		if (want[i].softhsm_lacks && api_is_softhsm())
			continue;
		assert_rv(CKR_OK,
			  p11->C_GetMechanismInfo(api_slot, want[i].t, &info));
		printf("# mechanism 0x%lx: key sizes %lu..%lu\n", want[i].t,
		       info.ulMinKeySize, info.ulMaxKeySize);
		if (want[i].min != 0) {
			assert_int_equal(info.ulMinKeySize, want[i].min);
			assert_int_equal(info.ulMaxKeySize, want[i].max);
		}
		assert_int_equal(info.flags & want[i].flags, want[i].flags);
		assert_int_equal(info.flags & CKF_HW, 0);
	}
}

/* ---- wrapping with the block modes ------------------------------------ */

/* A wrapping key: CKA_WRAP and CKA_UNWRAP only (the key-role policy keeps
 * wrapping keys apart from data keys). */
static CK_OBJECT_HANDLE wrapping_key(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE gen)
{
	CK_MECHANISM m = {gen, NULL, 0};
	CK_ULONG len = 32;
	CK_ATTRIBUTE t[] = {ATTR(CKA_WRAP, &api_true),
			    ATTR(CKA_UNWRAP, &api_true),
			    ATTR(CKA_VALUE_LEN, &len)};
	CK_OBJECT_HANDLE k;

	assert_rv(CKR_OK, p11->C_GenerateKey(s, &m, t,
					     gen == CKM_AES_KEY_GEN ? 3 : 2,
					     &k));
	return k;
}

/* An AES-256 key wrapped with CBC_PAD (AES, DES3), ECB and CBC unwraps to
 * the same key (same check value, same ciphertext). */
static void test_sym__wrap_unwrap_round_trip(void **state)
{
	static const struct {
		CK_MECHANISM_TYPE wrap, gen;
		CK_ULONG ivlen;
	} w[] = {
	    {CKM_AES_CBC_PAD, CKM_AES_KEY_GEN, 16},
	    {CKM_AES_CBC, CKM_AES_KEY_GEN, 16},
	    {CKM_AES_ECB, CKM_AES_KEY_GEN, 0},
	    {CKM_DES3_CBC_PAD, CKM_DES3_KEY_GEN, 8},
	    {CKM_DES3_ECB, CKM_DES3_KEY_GEN, 0},
	};
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ATTRIBUTE ut[] = {ATTR(CKA_CLASS, &cls), ATTR(CKA_KEY_TYPE, &kt),
			     ATTR(CKA_ENCRYPT, &api_true),
			     ATTR(CKA_TOKEN, &api_false)};
	CK_ATTRIBUTE gt[] = {ATTR(CKA_ENCRYPT, &api_true),
			     ATTR(CKA_EXTRACTABLE, &api_true),
			     ATTR(CKA_VALUE_LEN, &(CK_ULONG){32})};
	CK_MECHANISM aesgen = {CKM_AES_KEY_GEN, NULL, 0};
	uint8_t wrapped[64], cv1[3], cv2[3];

	(void)state;
	for (size_t i = 0; i < NELEM(w); i++) {
		CK_MECHANISM m = {w[i].wrap, w[i].ivlen ? iv16 : NULL,
				  w[i].ivlen};
		CK_OBJECT_HANDLE wk = wrapping_key(s, w[i].gen), k, back;
		CK_ULONG l = 0, c1 = 3, c2 = 3;

		assert_rv(CKR_OK, p11->C_GenerateKey(s, &aesgen, gt, NELEM(gt),
						     &k));
		assert_rv(CKR_OK, p11->C_WrapKey(s, &m, wk, k, NULL, &l));
		assert_true(l >= 32 && l <= sizeof(wrapped));
		assert_rv(CKR_OK, p11->C_WrapKey(s, &m, wk, k, wrapped, &l));
		assert_int_equal(l, w[i].wrap == CKM_AES_CBC_PAD    ? 48
				    : w[i].wrap == CKM_DES3_CBC_PAD ? 40
								    : 32);
		assert_rv(CKR_OK, p11->C_UnwrapKey(s, &m, wk, wrapped, l, ut,
						   NELEM(ut), &back));
		assert_rv(CKR_OK,
			  api_get_bytes(s, k, CKA_CHECK_VALUE, cv1, &c1));
		assert_rv(CKR_OK,
			  api_get_bytes(s, back, CKA_CHECK_VALUE, cv2, &c2));
		assert_memory_equal(cv1, cv2, 3);
		/* a damaged wrapping does not unwrap (padding, length) */
		if (w[i].wrap == CKM_AES_CBC_PAD)
			assert_rv_either(
			    CKR_WRAPPED_KEY_LEN_RANGE, CKR_WRAPPED_KEY_INVALID,
			    p11->C_UnwrapKey(s, &m, wk, wrapped, l - 1, ut,
					     NELEM(ut), &back));
	}
}

/* ---- key generation ----------------------------------------------------- */

static CK_RV gen_key(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE t, CK_ULONG len,
		     bool with_len, CK_BBOOL sensitive, CK_OBJECT_HANDLE *k)
{
	CK_MECHANISM m = {t, NULL, 0};
	CK_ATTRIBUTE tmpl[] = {
	    ATTR(CKA_SENSITIVE, &sensitive),
	    ATTR(CKA_EXTRACTABLE, &api_true),
	    ATTR(CKA_ENCRYPT, &api_true),
	    ATTR(CKA_VALUE_LEN, &len),
	};

	return p11->C_GenerateKey(s, &m, tmpl, with_len ? 4 : 3, k);
}

/* The first three bytes of ECB-encrypting a zero block (2.9.2). */
static void assert_check_value(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k,
			       const EVP_CIPHER *c)
{
	uint8_t v[32], cv[3], zero[16] = {0}, blk[32];
	CK_ULONG vl = sizeof(v), cl = sizeof(cv);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n;

	assert_rv(CKR_OK, api_get_bytes(s, k, CKA_VALUE, v, &vl));
	assert_rv(CKR_OK, api_get_bytes(s, k, CKA_CHECK_VALUE, cv, &cl));
	assert_int_equal(cl, 3);
	assert_non_null(x);
	assert_int_equal(EVP_EncryptInit_ex(x, c, NULL, v, NULL), 1);
	assert_int_equal(EVP_EncryptUpdate(x, blk, &n, zero,
					   EVP_CIPHER_block_size(c)),
			 1);
	EVP_CIPHER_CTX_free(x);
	assert_memory_equal(cv, blk, 3);
}

static void test_aes__generate_key_attributes(void **state)
{
	static const CK_ULONG lens[] = {16, 24, 32};
	const EVP_CIPHER *ciphers[] = {EVP_aes_128_ecb(), EVP_aes_192_ecb(),
				       EVP_aes_256_ecb()};
	CK_SESSION_HANDLE s = user_rw();

	(void)state;
	for (size_t i = 0; i < NELEM(lens); i++) {
		CK_OBJECT_HANDLE k;
		CK_ULONG vl = 0, kt = 0;
		CK_BBOOL local = CK_FALSE;

		assert_rv(CKR_OK, gen_key(s, CKM_AES_KEY_GEN, lens[i], true,
					  CK_FALSE, &k));
		assert_rv(CKR_OK, api_get_ulong(s, k, CKA_VALUE_LEN, &vl));
		assert_int_equal(vl, lens[i]);
		assert_rv(CKR_OK, api_get_ulong(s, k, CKA_KEY_TYPE, &kt));
		assert_int_equal(kt, CKK_AES);
		assert_rv(CKR_OK, api_get_bool(s, k, CKA_LOCAL, &local));
		assert_true(local);
		assert_check_value(s, k, ciphers[i]);
	}
}

static void test_aes__generate_sensitive_value_unreadable(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE k;
	uint8_t v[32], cv[3];
	CK_ULONG vl = sizeof(v), cl = sizeof(cv);
	CK_BBOOL b = CK_FALSE;

	(void)state;
	assert_rv(CKR_OK,
		  gen_key(s, CKM_AES_KEY_GEN, 32, true, CK_TRUE, &k));
	assert_rv(CKR_ATTRIBUTE_SENSITIVE,
		  api_get_bytes(s, k, CKA_VALUE, v, &vl));
	assert_rv(CKR_OK, api_get_bytes(s, k, CKA_CHECK_VALUE, cv, &cl));
	assert_int_equal(cl, 3);
	assert_rv(CKR_OK, api_get_bool(s, k, CKA_ALWAYS_SENSITIVE, &b));
	assert_true(b);
}

static void test_aes__generate_bad_length_fails(void **state)
{
	static const CK_ULONG bad[] = {8, 17, 31, 33, 64};
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE k;

	(void)state;
	for (size_t i = 0; i < NELEM(bad); i++)
		assert_rv_either(CKR_KEY_SIZE_RANGE,
				 CKR_ATTRIBUTE_VALUE_INVALID,
				 gen_key(s, CKM_AES_KEY_GEN, bad[i], true,
					 CK_TRUE, &k));
	assert_rv(CKR_TEMPLATE_INCOMPLETE,
		  gen_key(s, CKM_AES_KEY_GEN, 0, false, CK_TRUE, &k));
}

static void test_des3__generate_key_has_odd_parity(void **state)
{
	CK_SESSION_HANDLE s = user_rw();

	(void)state;
	for (int i = 0; i < 4; i++) {
		CK_OBJECT_HANDLE k;
		uint8_t v[24];
		CK_ULONG vl = sizeof(v);
		CK_BBOOL local = CK_FALSE;

		assert_rv(CKR_OK, gen_key(s, CKM_DES3_KEY_GEN, 0, false,
					  CK_FALSE, &k));
		assert_rv(CKR_OK, api_get_bytes(s, k, CKA_VALUE, v, &vl));
		assert_int_equal(vl, 24);
		for (size_t j = 0; j < vl; j++)
			assert_int_equal(__builtin_popcount(v[j]) % 2, 1);
		assert_rv(CKR_OK, api_get_bool(s, k, CKA_LOCAL, &local));
		assert_true(local);
		assert_check_value(s, k, EVP_des_ede3_ecb());
	}
}

static void test_chacha__generate_key(void **state)
{
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE k;
	CK_ULONG vl = 0, kt = 0;

	(void)state;
	assert_rv(CKR_OK,
		  gen_key(s, CKM_CHACHA20_KEY_GEN, 0, false, CK_TRUE, &k));
	assert_rv(CKR_OK, api_get_ulong(s, k, CKA_KEY_TYPE, &kt));
	assert_int_equal(kt, CKK_CHACHA20);
	assert_rv(CKR_OK, api_get_ulong(s, k, CKA_VALUE_LEN, &vl));
	assert_int_equal(vl, 32);
	assert_rv(CKR_OK,
		  gen_key(s, CKM_CHACHA20_KEY_GEN, 32, true, CK_TRUE, &k));
	assert_rv_either(CKR_ATTRIBUTE_VALUE_INVALID, CKR_KEY_SIZE_RANGE,
			 gen_key(s, CKM_CHACHA20_KEY_GEN, 16, true, CK_TRUE,
				 &k));
}

/* ---- message-based encryption (3.0) ------------------------------------- */

static CK_FUNCTION_LIST_3_0 *p11_3(void)
{
	CK_C_GetInterface get;
	CK_INTERFACE *it = NULL;
	CK_VERSION v = {3, 0};

	*(void **)&get = api_module_symbol("C_GetInterface");
	if (get == NULL)
		fail_msg("module has no C_GetInterface (not a 3.0 module)");
	assert_rv(CKR_OK, get((CK_UTF8CHAR_PTR) "PKCS 11", &v, &it, 0));
	return it->pFunctionList;
}

static const uint8_t msg_key[32] = {0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73,
				    0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30,
				    0x83, 0x08, 0xfe, 0xff, 0xe9, 0x92, 0x86,
				    0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94,
				    0x67, 0x30, 0x83, 0x08};

/* Independent check of a GCM message with OpenSSL. */
static void assert_gcm(const uint8_t *iv, size_t ivl, const uint8_t *ad,
		       size_t adl, const uint8_t *pt, size_t n,
		       const uint8_t *ct, const uint8_t *tag, size_t tagl)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	uint8_t want[128], wtag[16];
	int l;

	assert_true(n <= sizeof(want));
	assert_non_null(x);
	assert_int_equal(EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, NULL,
					    NULL),
			 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN,
					     (int)ivl, NULL),
			 1);
	assert_int_equal(EVP_EncryptInit_ex(x, NULL, NULL, msg_key, iv), 1);
	if (adl > 0)
		assert_int_equal(EVP_EncryptUpdate(x, NULL, &l, ad, (int)adl),
				 1);
	assert_int_equal(EVP_EncryptUpdate(x, want, &l, pt, (int)n), 1);
	assert_int_equal(EVP_EncryptFinal_ex(x, want + l, &l), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, wtag),
			 1);
	EVP_CIPHER_CTX_free(x);
	if (n > 0)
		assert_memory_equal(ct, want, n);
	assert_memory_equal(tag, wtag, tagl);
}

/* Test case 16 through C_EncryptMessage with the caller's IV. */
static void test_msg__gcm_single_message_vector(void **state)
{
	CK_FUNCTION_LIST_3_0 *f = p11_3();
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE k = import_key(s, CKK_AES, msg_key, 32);
	CK_MECHANISM m = {CKM_AES_GCM, NULL, 0};
	uint8_t iv[12], tag[16], pt[60], ct[60], want[76], out[60];
	CK_GCM_MESSAGE_PARAMS p = {iv, 12, 0, CKG_NO_GENERATE, tag, 128};
	CK_ULONG l;

	(void)state;
	memcpy(iv, iv12, 12);
	unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	      pt, sizeof(pt));
	unhex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
	      "76fc6ece0f4e1768cddf8853bb2d551b",
	      want, sizeof(want));
	assert_rv(CKR_OK, f->C_MessageEncryptInit(s, &m, k));
	l = 0;
	assert_rv(CKR_OK, f->C_EncryptMessage(s, &p, sizeof(p), aad, 20, pt,
					      60, NULL, &l));
	assert_int_equal(l, 60);
	l = 10;
	assert_rv(CKR_BUFFER_TOO_SMALL,
		  f->C_EncryptMessage(s, &p, sizeof(p), aad, 20, pt, 60, ct,
				      &l));
	assert_int_equal(l, 60);
	assert_rv(CKR_OK, f->C_EncryptMessage(s, &p, sizeof(p), aad, 20, pt,
					      60, ct, &l));
	assert_int_equal(l, 60);
	assert_memory_equal(ct, want, 60);
	assert_memory_equal(tag, want + 60, 16);
	assert_memory_equal(iv, iv12, 12); /* not generated */
	assert_rv(CKR_OK, f->C_MessageEncryptFinal(s));
	/* and back */
	assert_rv(CKR_OK, f->C_MessageDecryptInit(s, &m, k));
	l = sizeof(out);
	assert_rv(CKR_OK, f->C_DecryptMessage(s, &p, sizeof(p), aad, 20, ct,
					      60, out, &l));
	assert_int_equal(l, 60);
	assert_memory_equal(out, pt, 60);
	assert_rv(CKR_OK, f->C_MessageDecryptFinal(s));
}

/* Begin/Next in parts gives the single message's result, both ways. */
static void test_msg__gcm_begin_next(void **state)
{
	CK_FUNCTION_LIST_3_0 *f = p11_3();
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE k = import_key(s, CKK_AES, msg_key, 32);
	CK_MECHANISM m = {CKM_AES_GCM, NULL, 0};
	uint8_t iv[12], tag[16], pt[100], ct[100], out[100];
	CK_GCM_MESSAGE_PARAMS p = {iv, 12, 0, CKG_NO_GENERATE, tag, 128};
	size_t done = 0;
	CK_ULONG l;

	(void)state;
	memcpy(iv, iv12, 12);
	assert_int_equal(RAND_bytes(pt, sizeof(pt)), 1);
	assert_rv(CKR_OK, f->C_MessageEncryptInit(s, &m, k));
	assert_rv(CKR_OK, f->C_EncryptMessageBegin(s, &p, sizeof(p), aad, 20));
	/* a whole message while one in parts is open */
	l = sizeof(ct);
	assert_rv(CKR_OPERATION_ACTIVE,
		  f->C_EncryptMessage(s, &p, sizeof(p), aad, 20, pt, 10, ct,
				      &l));
	for (size_t off = 0; off < sizeof(pt); off += 33) {
		size_t part = sizeof(pt) - off < 33 ? sizeof(pt) - off : 33;
		CK_FLAGS fl = off + part == sizeof(pt) ? CKF_END_OF_MESSAGE : 0;

		l = sizeof(ct) - done;
		assert_rv(CKR_OK, f->C_EncryptMessageNext(s, &p, sizeof(p),
							  pt + off, part,
							  ct + done, &l, fl));
		done += l;
	}
	assert_int_equal(done, sizeof(pt));
	assert_gcm(iv, 12, aad, 20, pt, sizeof(pt), ct, tag, 16);
	assert_rv(CKR_OK, f->C_MessageEncryptFinal(s));

	assert_rv(CKR_OK, f->C_MessageDecryptInit(s, &m, k));
	assert_rv(CKR_OK, f->C_DecryptMessageBegin(s, &p, sizeof(p), aad, 20));
	l = sizeof(out);
	assert_rv(CKR_OK, f->C_DecryptMessageNext(s, &p, sizeof(p), ct, 50,
						  out, &l, 0));
	assert_int_equal(l, 0); /* nothing before the tag is checked */
	l = 0;
	assert_rv(CKR_BUFFER_TOO_SMALL,
		  f->C_DecryptMessageNext(s, &p, sizeof(p), ct + 50, 50, out,
					  &l, CKF_END_OF_MESSAGE));
	assert_int_equal(l, 100);
	assert_rv(CKR_OK,
		  f->C_DecryptMessageNext(s, &p, sizeof(p), ct + 50, 50, out,
					  &l, CKF_END_OF_MESSAGE));
	assert_int_equal(l, 100);
	assert_memory_equal(out, pt, 100);
	assert_rv(CKR_OK, f->C_MessageDecryptFinal(s));
}

/* Token-made IVs: counter and random, written back, never the same. */
static void gcm_generated_ivs(CK_GENERATOR_FUNCTION gen)
{
	CK_FUNCTION_LIST_3_0 *f = p11_3();
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE k = import_key(s, CKK_AES, msg_key, 32);
	CK_MECHANISM m = {CKM_AES_GCM, NULL, 0};
	uint8_t ivs[8][12], tags[8][16], pt[24], ct[8][24], out[24];
	CK_ULONG l;

	memset(pt, 'x', sizeof(pt));
	assert_rv(CKR_OK, f->C_MessageEncryptInit(s, &m, k));
	for (int i = 0; i < 8; i++) {
		CK_GCM_MESSAGE_PARAMS p = {ivs[i], 12, 32, gen, tags[i], 128};

		memset(ivs[i], 0, 12);
		memcpy(ivs[i], "\xa1\xb2\xc3\xd4", 4); /* fixed part */
		l = sizeof(ct[i]);
		if (i % 2) {
			assert_rv(CKR_OK,
				  f->C_EncryptMessage(s, &p, sizeof(p), NULL, 0,
						      pt, sizeof(pt), ct[i],
						      &l));
		} else {
			assert_rv(CKR_OK, f->C_EncryptMessageBegin(
					      s, &p, sizeof(p), NULL, 0));
			assert_rv(CKR_OK, f->C_EncryptMessageNext(
					      s, &p, sizeof(p), pt, sizeof(pt),
					      ct[i], &l, CKF_END_OF_MESSAGE));
		}
		assert_memory_equal(ivs[i], "\xa1\xb2\xc3\xd4", 4);
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(ivs[i], ivs[j], 12);
		assert_gcm(ivs[i], 12, NULL, 0, pt, sizeof(pt), ct[i],
			   tags[i], 16);
	}
	assert_rv(CKR_OK, f->C_MessageEncryptFinal(s));
	assert_rv(CKR_OK, f->C_MessageDecryptInit(s, &m, k));
	for (int i = 0; i < 8; i++) {
		CK_GCM_MESSAGE_PARAMS p = {ivs[i], 12, 32, gen, tags[i], 128};

		l = sizeof(out);
		assert_rv(CKR_OK, f->C_DecryptMessage(s, &p, sizeof(p), NULL, 0,
						      ct[i], sizeof(pt), out,
						      &l));
		assert_memory_equal(out, pt, sizeof(pt));
	}
	assert_rv(CKR_OK, f->C_MessageDecryptFinal(s));
}

static void test_msg__gcm_counter_iv_written_back(void **state)
{
	(void)state;
	gcm_generated_ivs(CKG_GENERATE_COUNTER);
}

static void test_msg__gcm_random_iv_written_back(void **state)
{
	(void)state;
	gcm_generated_ivs(CKG_GENERATE_RANDOM);
}

/* A forged message fails, leaks nothing, and the operation goes on. */
static void test_msg__gcm_wrong_tag_fails(void **state)
{
	CK_FUNCTION_LIST_3_0 *f = p11_3();
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE k = import_key(s, CKK_AES, msg_key, 32);
	CK_MECHANISM m = {CKM_AES_GCM, NULL, 0};
	uint8_t iv[12], tag[16], pt[32], ct[32], out[32];
	CK_GCM_MESSAGE_PARAMS p = {iv, 12, 0, CKG_NO_GENERATE, tag, 128};
	CK_ULONG l = sizeof(ct);

	(void)state;
	memcpy(iv, iv12, 12);
	memset(pt, 'P', sizeof(pt));
	assert_rv(CKR_OK, f->C_MessageEncryptInit(s, &m, k));
	assert_rv(CKR_OK, f->C_EncryptMessage(s, &p, sizeof(p), aad, 20, pt,
					      32, ct, &l));
	assert_rv(CKR_OK, f->C_MessageDecryptInit(s, &m, k));
	tag[3] ^= 0x40;
	memset(out, 0, sizeof(out));
	l = sizeof(out);
	assert_rv(CKR_ENCRYPTED_DATA_INVALID,
		  f->C_DecryptMessage(s, &p, sizeof(p), aad, 20, ct, 32, out,
				      &l));
	assert_memory_not_equal(out, pt, 8);
	/* in parts */
	assert_rv(CKR_OK, f->C_DecryptMessageBegin(s, &p, sizeof(p), aad, 20));
	l = sizeof(out);
	assert_rv(CKR_OK, f->C_DecryptMessageNext(s, &p, sizeof(p), ct, 16,
						  out, &l, 0));
	assert_int_equal(l, 0);
	l = sizeof(out);
	assert_rv(CKR_ENCRYPTED_DATA_INVALID,
		  f->C_DecryptMessageNext(s, &p, sizeof(p), ct + 16, 16, out,
					  &l, CKF_END_OF_MESSAGE));
	assert_memory_not_equal(out, pt, 8);
	/* the right tag still opens it: the operation is alive */
	tag[3] ^= 0x40;
	l = sizeof(out);
	assert_rv(CKR_OK, f->C_DecryptMessage(s, &p, sizeof(p), aad, 20, ct,
					      32, out, &l));
	assert_memory_equal(out, pt, 32);
	assert_rv(CKR_OK, f->C_MessageDecryptFinal(s));
}

static void test_msg__bad_params_fail(void **state)
{
	CK_FUNCTION_LIST_3_0 *f = p11_3();
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE k = import_key(s, CKK_AES, msg_key, 32);
	CK_MECHANISM m = {CKM_AES_GCM, NULL, 0};
	uint8_t iv[12] = {0}, tag[16], buf[16] = {0};
	CK_GCM_MESSAGE_PARAMS bad[] = {
	    {iv, 0, 0, CKG_NO_GENERATE, tag, 128},
	    {NULL, 12, 0, CKG_NO_GENERATE, tag, 128},
	    {iv, 12, 0, CKG_NO_GENERATE, NULL, 128},
	    {iv, 12, 0, CKG_NO_GENERATE, tag, 40},
	    {iv, 12, 96, CKG_GENERATE_COUNTER, tag, 128},
	    {iv, 12, 0, 77, tag, 128},
	};
	CK_ULONG l;

	(void)state;
	assert_rv(CKR_OK, f->C_MessageEncryptInit(s, &m, k));
	for (size_t i = 0; i < NELEM(bad); i++) {
		l = sizeof(buf);
		assert_rv(CKR_MECHANISM_PARAM_INVALID,
			  f->C_EncryptMessage(s, &bad[i], sizeof(bad[i]), NULL,
					      0, buf, 16, buf, &l));
	}
	l = sizeof(buf);
	assert_rv(CKR_MECHANISM_PARAM_INVALID,
		  f->C_EncryptMessage(s, &bad[0], 8, NULL, 0, buf, 16, buf, &l));
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  f->C_EncryptMessageNext(s, &bad[0], sizeof(bad[0]), buf, 16,
					  buf, &l, CKF_END_OF_MESSAGE));
	assert_rv(CKR_OPERATION_ACTIVE, f->C_MessageEncryptInit(s, &m, k));
	assert_rv(CKR_OK, f->C_MessageEncryptFinal(s));
	/* the final ended it */
	l = sizeof(buf);
	assert_rv(CKR_OPERATION_NOT_INITIALIZED,
		  f->C_EncryptMessage(s, &bad[0], sizeof(bad[0]), NULL, 0, buf,
				      16, buf, &l));
}

/* RFC 8439 2.8.2 as one message, then in parts. */
static void test_msg__chacha_vector(void **state)
{
	CK_FUNCTION_LIST_3_0 *f = p11_3();
	CK_SESSION_HANDLE s = user_rw();
	CK_OBJECT_HANDLE k = rfc8439_key(s);
	CK_MECHANISM m = {CKM_CHACHA20_POLY1305, NULL, 0};
	uint8_t nonce[12], a[12], tag[16], want[130], ct[114], out[114];
	CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS p = {nonce, 12, tag};
	size_t n = strlen(rfc8439_pt);
	CK_ULONG l = sizeof(ct);

	(void)state;
	assert_int_equal(n, 114);
	unhex("070000004041424344454647", nonce, sizeof(nonce));
	unhex("50515253c0c1c2c3c4c5c6c7", a, sizeof(a));
	unhex(rfc8439_ct_tag, want, sizeof(want));
	assert_rv(CKR_OK, f->C_MessageEncryptInit(s, &m, k));
	assert_rv(CKR_OK, f->C_EncryptMessage(s, &p, sizeof(p), a, 12,
					      (CK_BYTE_PTR)rfc8439_pt, n, ct,
					      &l));
	assert_int_equal(l, n);
	assert_memory_equal(ct, want, n);
	assert_memory_equal(tag, want + n, 16);
	memset(tag, 0, sizeof(tag));
	assert_rv(CKR_OK, f->C_EncryptMessageBegin(s, &p, sizeof(p), a, 12));
	l = sizeof(ct);
	assert_rv(CKR_OK, f->C_EncryptMessageNext(s, &p, sizeof(p),
						  (CK_BYTE_PTR)rfc8439_pt, 57,
						  ct, &l, 0));
	assert_int_equal(l, 57);
	l = sizeof(ct) - 57;
	assert_rv(CKR_OK,
		  f->C_EncryptMessageNext(s, &p, sizeof(p),
					  (CK_BYTE_PTR)rfc8439_pt + 57, n - 57,
					  ct + 57, &l, CKF_END_OF_MESSAGE));
	assert_memory_equal(ct, want, n);
	assert_memory_equal(tag, want + n, 16);
	assert_rv(CKR_OK, f->C_MessageEncryptFinal(s));
	assert_rv(CKR_OK, f->C_MessageDecryptInit(s, &m, k));
	l = sizeof(out);
	assert_rv(CKR_OK, f->C_DecryptMessage(s, &p, sizeof(p), a, 12, ct, n,
					      out, &l));
	assert_memory_equal(out, rfc8439_pt, n);
	tag[0] ^= 1;
	l = sizeof(out);
	assert_rv(CKR_ENCRYPTED_DATA_INVALID,
		  f->C_DecryptMessage(s, &p, sizeof(p), a, 12, ct, n, out, &l));
	assert_rv(CKR_OK, f->C_MessageDecryptFinal(s));
}

static void test_msg__mechanism_flags(void **state)
{
	static const CK_MECHANISM_TYPE t[] = {CKM_AES_GCM,
					      CKM_CHACHA20_POLY1305};

	(void)state;
	for (size_t i = 0; i < NELEM(t); i++) {
		CK_MECHANISM_INFO info;

		assert_rv(CKR_OK, p11->C_GetMechanismInfo(api_slot, t[i], &info));
		assert_int_equal(info.flags &
				     (CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT),
				 CKF_MESSAGE_ENCRYPT | CKF_MESSAGE_DECRYPT);
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, api_setup_token, api_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_aes__ecb_sp800_38a_vector),
	    T(test_aes__cbc_sp800_38a_vector),
	    T(test_aes__ctr_sp800_38a_vector),
	    T(test_aes__fips197_aes256_vector),
	    T(test_aes__gcm_vectors_13_to_16),
	    T(test_chacha__rfc8439_aead_vector),
	    T(test_des3__sp800_67_vector),
	    T(test_aes__cbc_pad_round_trip_every_length),
	    T(test_des3__cbc_pad_round_trip_every_length),
	    T(test_sym__multi_part_equals_single_part),
	    T(test_sym__generated_key_round_trip),
	    T(test_aes__gcm_bad_tag_fails_without_plaintext),
	    T(test_chacha__bad_tag_fails_without_plaintext),
	    T(test_sym__bad_params_fail),
	    T(test_aes__gcm_long_iv_round_trip),
	    T(test_sym__partial_block_fails),
	    T(test_aes__cbc_pad_empty_ciphertext_fails),
	    T(test_aes__cbc_pad_bad_padding_fails),
	    T(test_aes__ctr_counter_exhaustion_fails),
	    T(test_aes__gcm_short_ciphertext_fails),
	    T(test_sym__length_query),
	    T(test_sym__buffer_too_small_single_part),
	    T(test_sym__buffer_too_small_multi_part),
	    T(test_sym__cbc_pad_decrypt_into_exact_buffer),
	    T(test_sym__wrong_key_type_fails),
	    T(test_sym__usage_not_permitted_fails),
	    T(test_sym__init_while_active_fails),
	    T(test_sym__finalize_with_active_operations),
	    T(test_sym__mechanism_info),
	    T(test_sym__wrap_unwrap_round_trip),
	    T(test_aes__generate_key_attributes),
	    T(test_aes__generate_sensitive_value_unreadable),
	    T(test_aes__generate_bad_length_fails),
	    T(test_des3__generate_key_has_odd_parity),
	    T(test_chacha__generate_key),
	    T(test_msg__gcm_single_message_vector),
	    T(test_msg__gcm_begin_next),
	    T(test_msg__gcm_counter_iv_written_back),
	    T(test_msg__gcm_random_iv_written_back),
	    T(test_msg__gcm_wrong_tag_fails),
	    T(test_msg__bad_params_fail),
	    T(test_msg__chacha_vector),
	    T(test_msg__mechanism_flags),
	};

	return api_run(argc, argv, "aes", tests, NELEM(tests));
}
