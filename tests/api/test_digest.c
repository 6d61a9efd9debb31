/*
 * test_digest.c - the digest and MAC mechanisms (PKCS#11 v3.0 current
 * mechanisms: SHA-1 2.16, SHA-2 2.18-2.22, SHA-3 2.42, AES-CMAC 2.9.x,
 * generic secret key generation 2.8.3 and the CKM_SHA*_KEY_GEN ones):
 * known answers from FIPS 180-4 / FIPS 202 examples, RFC 4231, RFC 2202 and
 * NIST SP 800-38B, multi-part against single-part, truncated MACs, the
 * output-length convention, verification failures, bad parameters and the
 * attributes of generated keys.
 */
#include "harness.h"

#include <openssl/evp.h>
#include <openssl/rand.h>


#define MAX_OUT 64


static CK_OBJECT_CLASS cls_secret = CKO_SECRET_KEY;

/* ---- helpers ------------------------------------------------------------ */

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned int b;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
	return n;
}

static void assert_hex(const char *want, const uint8_t *got, CK_ULONG len)
{
	uint8_t buf[MAX_OUT];
	size_t n = unhex(want, buf, sizeof(buf));

	assert_int_equal(len, n);
	assert_memory_equal(got, buf, n);
}

static CK_SESSION_HANDLE user_session(void)
{
	CK_SESSION_HANDLE s = api_open(api_slot, true);

	api_login(s, CKU_USER);
	return s;
}

/* A session secret key of type kt with value v, usable to sign and
 * verify unless told otherwise. */
static CK_OBJECT_HANDLE secret_key(CK_SESSION_HANDLE s, CK_KEY_TYPE kt,
				   const uint8_t *v, CK_ULONG len,
				   CK_BBOOL sign, CK_BBOOL verify)
{
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_CLASS, &cls_secret), ATTR(CKA_KEY_TYPE, &kt),
	    ATTR(CKA_TOKEN, &api_false),  ATTR(CKA_SIGN, &sign),
	    ATTR(CKA_VERIFY, &verify),	  ATTR_BUF(CKA_VALUE, v, len),
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_rv(CKR_OK, p11->C_CreateObject(s, t, NELEM(t), &h));
	return h;
}

static CK_OBJECT_HANDLE hex_key(CK_SESSION_HANDLE s, CK_KEY_TYPE kt,
				const char *hex)
{
	uint8_t v[256];
	size_t n = unhex(hex, v, sizeof(v));

	return secret_key(s, kt, v, n, CK_TRUE, CK_TRUE);
}

static CK_OBJECT_HANDLE repeated_key(CK_SESSION_HANDLE s, uint8_t byte,
				     size_t n)
{
	uint8_t v[256];

	assert_true(n <= sizeof(v));
	memset(v, byte, n);
	return secret_key(s, CKK_GENERIC_SECRET, v, n, CK_TRUE, CK_TRUE);
}

static CK_RV digest(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mt,
		    const void *in, CK_ULONG inl, uint8_t *out, CK_ULONG *outl)
{
	CK_MECHANISM m = {mt, NULL, 0};
	CK_RV rv = p11->C_DigestInit(s, &m);

	if (rv != CKR_OK)
		return rv;
	return p11->C_Digest(s, (CK_BYTE_PTR)in, inl, out, outl);
}

static void sign(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE k,
		 const void *in, CK_ULONG inl, uint8_t *out, CK_ULONG *outl)
{
	assert_rv(CKR_OK, p11->C_SignInit(s, m, k));
	assert_rv(CKR_OK, p11->C_Sign(s, (CK_BYTE_PTR)in, inl, out, outl));
}

static CK_RV verify(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE k,
		    const void *in, CK_ULONG inl, const uint8_t *sig,
		    CK_ULONG sigl)
{
	assert_rv(CKR_OK, p11->C_VerifyInit(s, m, k));
	return p11->C_Verify(s, (CK_BYTE_PTR)in, inl, (CK_BYTE_PTR)sig, sigl);
}

/* ---- digests: FIPS 180-4 and FIPS 202 examples -------------------------- */

struct digest_kat {
	CK_MECHANISM_TYPE mech;
	const char *md;	   /* OpenSSL name, for the independent check */
	const char *abc;   /* "abc" */
	const char *two;   /* the 448-bit message */
	const char *mill;  /* a million 'a' */
};

static const struct digest_kat sha2[] = {
    {CKM_SHA_1, "SHA1", "a9993e364706816aba3e25717850c26c9cd0d89d",
     "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
     "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
    {CKM_SHA224, "SHA224",
     "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
     "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525",
     "20794655980c91d8bbb4c1ea97618a4bf03f42581948b2ee4ee7ad67"},
    {CKM_SHA256, "SHA256",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    {CKM_SHA384, "SHA384",
     "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
     "8086072ba1e7cc2358baeca134c825a7",
     "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6"
     "b0455a8520bc4e6f5fe95b1fe3c8452b",
     "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b"
     "07b8b3dc38ecc4ebae97ddd87f3d8985"},
    {CKM_SHA512, "SHA512",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
     "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445",
     "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
     "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"},
};

static const struct digest_kat sha512t[] = {
    {CKM_SHA512_224, "SHA512-224",
     "4634270f707b6a54daae7530460842e20e37ed265ceee9a43e8924aa",
     "e5302d6d54bb242275d1e7622d68df6eb02dedd13f564c13dbda2174",
     "37ab331d76f0d36de422bd0edeb22a28accd487b7a8453ae965dd287"},
    {CKM_SHA512_256, "SHA512-256",
     "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23",
     "bde8e1f9f19bb9fd3406c90ec6bc47bd36d8ada9f11880dbc8a22a7078b6a461",
     "9a59a052930187a97038cae692f30708aa6491923ef5194394dc68d56c74fb21"},
};

static const struct digest_kat sha3[] = {
    {CKM_SHA3_224, "SHA3-224",
     "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf",
     "8a24108b154ada21c9fd5574494479ba5c7e7ab76ef264ead0fcce33",
     "d69335b93325192e516a912e6d19a15cb51c6ed5c15243e7a7fd653c"},
    {CKM_SHA3_256, "SHA3-256",
     "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
     "41c0dba2a9d6240849100376a8235e2c82e1b9998a999e21db32dd97496d3376",
     "5c8875ae474a3634ba4fd55ec85bffd661f32aca75c6d699d0cdcb6c115891c1"},
    {CKM_SHA3_384, "SHA3-384",
     "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b2"
     "98d88cea927ac7f539f1edf228376d25",
     "991c665755eb3a4b6bbdfb75c78a492e8c56a22c5c4d7e429bfdbc32b9d4ad5a"
     "a04a1f076e62fea19eef51acd0657c22",
     "eee9e24d78c1855337983451df97c8ad9eedf256c6334f8e948d252d5e0e7684"
     "7aa0774ddb90a842190d2c558b4b8340"},
    {CKM_SHA3_512, "SHA3-512",
     "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e"
     "10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0",
     "04a371e84ecfb5b8b77cb48610fca8182dd457ce6f326a0fd3d7ec2f1e91636d"
     "ee691fbe0c985302ba1b0d8dc78c086346b533b49c030d99a27daf1139d6e75e",
     "3c3a876da14034ab60627c077bb98f7e120a2a5370212dffb3385a18d4f38859"
     "ed311d0a9d5141ce9cc5c66ee689b266a8aa18ace8282a0e0db596c90b0a7b87"},
};

static const char msg448[] =
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

#define MILLION 1000000

static void check_kats(const struct digest_kat *kat, size_t n)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	uint8_t *mill = malloc(MILLION);
	uint8_t out[MAX_OUT];
	CK_ULONG len;

	assert_non_null(mill);
	memset(mill, 'a', MILLION);
	for (size_t i = 0; i < n; i++) {
		len = sizeof(out);
		assert_rv(CKR_OK, digest(s, kat[i].mech, "abc", 3, out, &len));
		assert_hex(kat[i].abc, out, len);
		len = sizeof(out);
		assert_rv(CKR_OK, digest(s, kat[i].mech, msg448,
					 (CK_ULONG)strlen(msg448), out, &len));
		assert_hex(kat[i].two, out, len);
		len = sizeof(out);
		assert_rv(CKR_OK,
			  digest(s, kat[i].mech, mill, MILLION, out, &len));
		assert_hex(kat[i].mill, out, len);
	}
	free(mill);
}

static void test_digest__sha1_sha2_vectors(void **state)
{
	(void)state;
	check_kats(sha2, NELEM(sha2));
}

static void test_digest__sha512_t_vectors(void **state)
{
	(void)state;
	check_kats(sha512t, NELEM(sha512t));
}

static void test_digest__sha3_vectors(void **state)
{
	(void)state;
	check_kats(sha3, NELEM(sha3));
}

/* The million 'a' fed in 1000-byte updates (FIPS 180 presents it so). */
static void check_million_multipart(const struct digest_kat *kat, size_t n)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	uint8_t chunk[1000], out[MAX_OUT];
	CK_ULONG len;

	memset(chunk, 'a', sizeof(chunk));
	for (size_t i = 0; i < n; i++) {
		CK_MECHANISM m = {kat[i].mech, NULL, 0};
		assert_rv(CKR_OK, p11->C_DigestInit(s, &m));
		for (size_t j = 0; j < MILLION / sizeof(chunk); j++)
			assert_rv(CKR_OK, p11->C_DigestUpdate(s, chunk,
							      sizeof(chunk)));
		len = sizeof(out);
		assert_rv(CKR_OK, p11->C_DigestFinal(s, out, &len));
		assert_hex(kat[i].mill, out, len);
	}
}

static void test_digest__million_a_multipart(void **state)
{
	(void)state;
	check_million_multipart(sha2, NELEM(sha2));
}

static void test_digest__sha3_million_a_multipart(void **state)
{
	(void)state;
	check_million_multipart(sha3, NELEM(sha3));
}

/* Chunks of 0, 1, 2, 3, 5, 8 ... bytes across block boundaries, and an
 * independent digest of the same data with OpenSSL. */
static void check_odd_chunks(const struct digest_kat *kat, size_t n)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	uint8_t data[3000], one[MAX_OUT], multi[MAX_OUT], ref[MAX_OUT];
	CK_ULONG one_len, multi_len;
	unsigned int ref_len;

	assert_int_equal(RAND_bytes(data, sizeof(data)), 1);
	for (size_t i = 0; i < n; i++) {
		CK_MECHANISM m = {kat[i].mech, NULL, 0};
		size_t off = 0, a = 0, b = 1;

		one_len = sizeof(one);
		assert_rv(CKR_OK, digest(s, kat[i].mech, data, sizeof(data),
					 one, &one_len));
		assert_rv(CKR_OK, p11->C_DigestInit(s, &m));
		while (off < sizeof(data)) {
			size_t c = a < sizeof(data) - off ? a
							  : sizeof(data) - off;
			assert_rv(CKR_OK, p11->C_DigestUpdate(s, data + off,
							      (CK_ULONG)c));
			off += c;
			c = a + b;
			a = b;
			b = c;
		}
		multi_len = sizeof(multi);
		assert_rv(CKR_OK, p11->C_DigestFinal(s, multi, &multi_len));
		assert_int_equal(one_len, multi_len);
		assert_memory_equal(one, multi, one_len);
		assert_int_equal(EVP_Digest(data, sizeof(data), ref, &ref_len,
					    EVP_get_digestbyname(kat[i].md),
					    NULL),
				 1);
		assert_int_equal(ref_len, one_len);
		assert_memory_equal(ref, one, one_len);
	}
}

static void test_digest__multipart_equals_single_part(void **state)
{
	(void)state;
	check_odd_chunks(sha2, NELEM(sha2));
}

static void test_digest__sha3_multipart_equals_single_part(void **state)
{
	(void)state;
	check_odd_chunks(sha3, NELEM(sha3));
}

static void test_digest__length_query_then_digest(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	uint8_t out[MAX_OUT];
	CK_ULONG len;

	(void)state;
	for (size_t i = 0; i < NELEM(sha2); i++) {
		CK_MECHANISM m = {sha2[i].mech, NULL, 0};
		size_t want = strlen(sha2[i].abc) / 2;
		assert_rv(CKR_OK, p11->C_DigestInit(s, &m));
		len = 0;
		assert_rv(CKR_OK, p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3,
						NULL, &len));
		assert_int_equal(len, want);
		assert_rv(CKR_OK, p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3,
						out, &len));
		assert_hex(sha2[i].abc, out, len);
	}
}

static void test_digest__too_small_then_retry(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	uint8_t out[MAX_OUT];
	CK_ULONG len;

	(void)state;
	for (size_t i = 0; i < NELEM(sha2); i++) {
		CK_MECHANISM m = {sha2[i].mech, NULL, 0};
		size_t want = strlen(sha2[i].abc) / 2;
		assert_rv(CKR_OK, p11->C_DigestInit(s, &m));
		len = (CK_ULONG)want - 1;
		assert_rv(CKR_BUFFER_TOO_SMALL,
			  p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len));
		assert_int_equal(len, want);
		len = sizeof(out);
		assert_rv(CKR_OK, p11->C_Digest(s, (CK_BYTE_PTR) "abc", 3,
						out, &len));
		assert_hex(sha2[i].abc, out, len);
	}
}

static void test_digest__final_too_small_then_retry(void **state)
{
	CK_SESSION_HANDLE s = api_open(api_slot, false);
	CK_MECHANISM m = {CKM_SHA384, NULL, 0};
	uint8_t out[MAX_OUT];
	CK_ULONG len = 0;

	(void)state;
	assert_rv(CKR_OK, p11->C_DigestInit(s, &m));
	assert_rv(CKR_OK, p11->C_DigestUpdate(s, (CK_BYTE_PTR) "ab", 2));
	assert_rv(CKR_OK, p11->C_DigestFinal(s, NULL, &len));
	assert_int_equal(len, 48);
	len = 47;
	assert_rv(CKR_BUFFER_TOO_SMALL, p11->C_DigestFinal(s, out, &len));
	assert_int_equal(len, 48);
	assert_rv(CKR_OK, p11->C_DigestUpdate(s, (CK_BYTE_PTR) "c", 1));
	len = sizeof(out);
	assert_rv(CKR_OK, p11->C_DigestFinal(s, out, &len));
	assert_hex(sha2[3].abc, out, len);
}

/* C_DigestKey feeds the key's value into the digest, between updates. */
static void test_digest__digest_key_between_updates(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_MECHANISM m = {CKM_SHA256, NULL, 0};
	uint8_t value[32], out[MAX_OUT], ref[MAX_OUT], all[3 + 32 + 3];
	CK_ULONG len = sizeof(out);
	unsigned int ref_len;
	CK_OBJECT_HANDLE k;

	(void)state;
	assert_int_equal(RAND_bytes(value, sizeof(value)), 1);
	k = secret_key(s, CKK_GENERIC_SECRET, value, sizeof(value), CK_TRUE,
		       CK_TRUE);
	assert_rv(CKR_OK, p11->C_DigestInit(s, &m));
	assert_rv(CKR_OK, p11->C_DigestUpdate(s, (CK_BYTE_PTR) "abc", 3));
	assert_rv(CKR_OK, p11->C_DigestKey(s, k));
	assert_rv(CKR_OK, p11->C_DigestUpdate(s, (CK_BYTE_PTR) "xyz", 3));
	assert_rv(CKR_OK, p11->C_DigestFinal(s, out, &len));
	memcpy(all, "abc", 3);
	memcpy(all + 3, value, sizeof(value));
	memcpy(all + 3 + sizeof(value), "xyz", 3);
	assert_int_equal(EVP_Digest(all, sizeof(all), ref, &ref_len,
				    EVP_sha256(), NULL),
			 1);
	assert_int_equal(len, ref_len);
	assert_memory_equal(out, ref, len);
}

static void check_digest_info(const struct digest_kat *kat, size_t n)
{
	CK_MECHANISM_INFO info;

	for (size_t i = 0; i < n; i++) {
		assert_rv(CKR_OK,
			  p11->C_GetMechanismInfo(api_slot, kat[i].mech, &info));
		assert_true(info.flags & CKF_DIGEST);
		assert_false(info.flags & (CKF_SIGN | CKF_VERIFY | CKF_ENCRYPT |
					   CKF_DECRYPT | CKF_GENERATE | CKF_HW));
	}
}

static void test_digest__mechanism_info(void **state)
{
	(void)state;
	check_digest_info(sha2, NELEM(sha2));
}

static void test_digest__sha3_mechanism_info(void **state)
{
	(void)state;
	check_digest_info(sha3, NELEM(sha3));
}

/* ---- HMAC: RFC 4231 and RFC 2202 ---------------------------------------- */

/* RFC 4231 test cases 1-4, 6 and 7: key, data, and HMAC-SHA-224, -256,
 * -384 and -512. Keys and data are given as they are in the RFC. */
struct hmac_case {
	uint8_t key_byte; /* key: key_len bytes of key_byte, or ... */
	size_t key_len;
	const char *key_str;	 /* ... this string, or ... */
	bool key_counting;	 /* ... 0x01, 0x02, ... key_len */
	uint8_t data_byte;	 /* data: data_len bytes of data_byte, or */
	size_t data_len;
	const char *data_str;	 /* this string */
	const char *mac[4];
};

static const struct hmac_case rfc4231[] = {
    {0x0b, 20, NULL, false, 0, 0, "Hi There",
     {"896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
      "faea9ea9076ede7f4af152e8b2fa9cb6",
      "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
      "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"}},
    {0, 0, "Jefe", false, 0, 0, "what do ya want for nothing?",
     {"a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
      "8e2240ca5e69e2c78b3239ecfab21649",
      "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
      "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"}},
    {0xaa, 20, NULL, false, 0xdd, 50, NULL,
     {"7fb3cb3588c6c1f6ffa9694d7d6ad2649365b0c1f65d69d1ec8333ea",
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
      "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
      "2a5ab39dc13814b94e3ab6e101a34f27",
      "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
      "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"}},
    {0, 25, NULL, true, 0xcd, 50, NULL,
     {"6c11506874013cac6a2abc1bb382627cec6a90d86efc012de7afec5a",
      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
      "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
      "6801dd23c4a7d679ccf8a386c674cffb",
      "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
      "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"}},
    {0xaa, 131, NULL, false, 0, 0,
     "Test Using Larger Than Block-Size Key - Hash Key First",
     {"95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
      "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
      "0c2ef6ab4030fe8296248df163f44952",
      "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
      "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"}},
    {0xaa, 131, NULL, false, 0, 0,
     "This is a test using a larger than block-size key and a larger "
     "than block-size data. The key needs to be hashed before being used "
     "by the HMAC algorithm.",
     {"3a854166ac5d9f023f54d517d0b39dbd946770db9c2b95c9f6f565d1",
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
      "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
      "a678cc31e799176d3860e6110c46523e",
      "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
      "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"}},
};

static const CK_MECHANISM_TYPE rfc4231_mechs[4] = {
    CKM_SHA224_HMAC, CKM_SHA256_HMAC, CKM_SHA384_HMAC, CKM_SHA512_HMAC};

static CK_OBJECT_HANDLE case_key(CK_SESSION_HANDLE s,
				 const struct hmac_case *c)
{
	uint8_t v[256];
	size_t n = c->key_len;

	if (c->key_str != NULL) {
		n = strlen(c->key_str);
		memcpy(v, c->key_str, n);
	} else if (c->key_counting) {
		for (size_t i = 0; i < n; i++)
			v[i] = (uint8_t)(i + 1);
	} else {
		memset(v, c->key_byte, n);
	}
	return secret_key(s, CKK_GENERIC_SECRET, v, n, CK_TRUE, CK_TRUE);
}

static size_t case_data(const struct hmac_case *c, uint8_t *buf, size_t cap)
{
	size_t n = c->data_str != NULL ? strlen(c->data_str) : c->data_len;

	assert_true(n <= cap);
	if (c->data_str != NULL)
		memcpy(buf, c->data_str, n);
	else
		memset(buf, c->data_byte, n);
	return n;
}

static void test_hmac__rfc4231_vectors(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	uint8_t data[256], out[MAX_OUT];
	CK_ULONG len;

	(void)state;
	for (size_t i = 0; i < NELEM(rfc4231); i++) {
		CK_OBJECT_HANDLE k = case_key(s, &rfc4231[i]);
		size_t n = case_data(&rfc4231[i], data, sizeof(data));
		for (size_t j = 0; j < 4; j++) {
			CK_MECHANISM m = {rfc4231_mechs[j], NULL, 0};
			len = sizeof(out);
			sign(s, &m, k, data, (CK_ULONG)n, out, &len);
			assert_hex(rfc4231[i].mac[j], out, len);
			assert_rv(CKR_OK, verify(s, &m, k, data, (CK_ULONG)n,
						 out, len));
		}
	}
}

/* The same vectors one byte at a time through SignUpdate/VerifyUpdate. */
static void test_hmac__rfc4231_multipart(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	uint8_t data[256], out[MAX_OUT];
	CK_ULONG len;

	(void)state;
	for (size_t i = 0; i < NELEM(rfc4231); i++) {
		CK_OBJECT_HANDLE k = case_key(s, &rfc4231[i]);
		size_t n = case_data(&rfc4231[i], data, sizeof(data));
		for (size_t j = 0; j < 4; j++) {
			CK_MECHANISM m = {rfc4231_mechs[j], NULL, 0};
			assert_rv(CKR_OK, p11->C_SignInit(s, &m, k));
			for (size_t b = 0; b < n; b++)
				assert_rv(CKR_OK,
					  p11->C_SignUpdate(s, data + b, 1));
			len = sizeof(out);
			assert_rv(CKR_OK, p11->C_SignFinal(s, out, &len));
			assert_hex(rfc4231[i].mac[j], out, len);
			assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, k));
			assert_rv(CKR_OK, p11->C_VerifyUpdate(s, data, 7));
			assert_rv(CKR_OK, p11->C_VerifyUpdate(
					      s, data + 7, (CK_ULONG)n - 7));
			assert_rv(CKR_OK, p11->C_VerifyFinal(s, out, len));
		}
	}
}

/* A key of the HMAC key type of the mechanism works like a generic one. */
static void test_hmac__sha256_hmac_key_type(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_MECHANISM m = {CKM_SHA256_HMAC, NULL, 0};
	uint8_t v[32], out[MAX_OUT], ref[MAX_OUT];
	CK_ULONG len = sizeof(out), ref_len = sizeof(ref);
	CK_OBJECT_HANDLE typed, generic;

	(void)state;
	assert_int_equal(RAND_bytes(v, sizeof(v)), 1);
	typed = secret_key(s, CKK_SHA256_HMAC, v, sizeof(v), CK_TRUE, CK_TRUE);
	generic = secret_key(s, CKK_GENERIC_SECRET, v, sizeof(v), CK_TRUE,
			     CK_TRUE);
	sign(s, &m, typed, "Hi There", 8, out, &len);
	sign(s, &m, generic, "Hi There", 8, ref, &ref_len);
	assert_int_equal(len, 32);
	assert_int_equal(ref_len, len);
	assert_memory_equal(out, ref, len);
}

/* RFC 2202 test cases 1 and 2 for HMAC-SHA-1. */
static void test_hmac__rfc2202_sha1(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_MECHANISM m = {CKM_SHA_1_HMAC, NULL, 0};
	CK_OBJECT_HANDLE k1 = repeated_key(s, 0x0b, 20);
	CK_OBJECT_HANDLE k2 = secret_key(s, CKK_GENERIC_SECRET,
					 (const uint8_t *)"Jefe", 4, CK_TRUE,
					 CK_TRUE);
	const char *msg2 = "what do ya want for nothing?";
	uint8_t out[MAX_OUT];
	CK_ULONG len = sizeof(out);

	(void)state;
	sign(s, &m, k1, "Hi There", 8, out, &len);
	assert_hex("b617318655057264e28bc0b6fb378c8ef146be00", out, len);
	len = sizeof(out);
	sign(s, &m, k2, msg2, (CK_ULONG)strlen(msg2), out, &len);
	assert_hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", out, len);
	assert_rv(CKR_OK,
		  verify(s, &m, k2, msg2, (CK_ULONG)strlen(msg2), out, len));
}

/* Every HMAC against OpenSSL's HMAC of the same key and data (the SHA-3
 * HMACs have no RFC vectors). */
struct hmac_mech {
	CK_MECHANISM_TYPE mech, general;
	CK_KEY_TYPE kt;
	const char *md;
	CK_ULONG len;
};

static const struct hmac_mech hmacs[] = {
    {CKM_SHA_1_HMAC, CKM_SHA_1_HMAC_GENERAL, CKK_SHA_1_HMAC, "SHA1", 20},
    {CKM_SHA224_HMAC, CKM_SHA224_HMAC_GENERAL, CKK_SHA224_HMAC, "SHA224", 28},
    {CKM_SHA256_HMAC, CKM_SHA256_HMAC_GENERAL, CKK_SHA256_HMAC, "SHA256", 32},
    {CKM_SHA384_HMAC, CKM_SHA384_HMAC_GENERAL, CKK_SHA384_HMAC, "SHA384", 48},
    {CKM_SHA512_HMAC, CKM_SHA512_HMAC_GENERAL, CKK_SHA512_HMAC, "SHA512", 64},
};

static const struct hmac_mech sha3_hmacs[] = {
    {CKM_SHA3_224_HMAC, CKM_SHA3_224_HMAC_GENERAL, CKK_SHA3_224_HMAC,
     "SHA3-224", 28},
    {CKM_SHA3_256_HMAC, CKM_SHA3_256_HMAC_GENERAL, CKK_SHA3_256_HMAC,
     "SHA3-256", 32},
    {CKM_SHA3_384_HMAC, CKM_SHA3_384_HMAC_GENERAL, CKK_SHA3_384_HMAC,
     "SHA3-384", 48},
    {CKM_SHA3_512_HMAC, CKM_SHA3_512_HMAC_GENERAL, CKK_SHA3_512_HMAC,
     "SHA3-512", 64},
};

static void check_against_openssl(const struct hmac_mech *t, size_t n)
{
	CK_SESSION_HANDLE s = user_session();
	uint8_t key[64], data[300], out[MAX_OUT], ref[MAX_OUT];
	CK_ULONG len;
	size_t ref_len;

	assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
	assert_int_equal(RAND_bytes(data, sizeof(data)), 1);
	for (size_t i = 0; i < n; i++) {
		CK_OBJECT_HANDLE k = secret_key(s, t[i].kt, key, sizeof(key),
						CK_TRUE, CK_TRUE);
		CK_MECHANISM m = {t[i].mech, NULL, 0};
		len = sizeof(out);
		sign(s, &m, k, data, sizeof(data), out, &len);
		assert_int_equal(len, t[i].len);
		assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, t[i].md, NULL,
					  key, sizeof(key), data, sizeof(data),
					  ref, sizeof(ref), &ref_len));
		assert_int_equal(ref_len, len);
		assert_memory_equal(out, ref, len);
		assert_rv(CKR_OK,
			  verify(s, &m, k, data, sizeof(data), out, len));
		out[len - 1] ^= 1;
		assert_rv(CKR_SIGNATURE_INVALID,
			  verify(s, &m, k, data, sizeof(data), out, len));
	}
}

static void test_hmac__sha1_sha2_match_openssl(void **state)
{
	(void)state;
	check_against_openssl(hmacs, NELEM(hmacs));
}

static void test_hmac__sha3_match_openssl(void **state)
{
	(void)state;
	check_against_openssl(sha3_hmacs, NELEM(sha3_hmacs));
}

/* RFC 4231 test case 5: HMAC-SHA-256 truncated to 128 bits. */
static void test_hmac__general_truncates(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_MAC_GENERAL_PARAMS p = 16;
	CK_MECHANISM m = {CKM_SHA256_HMAC_GENERAL, &p, sizeof(p)};
	CK_OBJECT_HANDLE k = repeated_key(s, 0x0c, 20);
	const char *msg = "Test With Truncation";
	uint8_t out[MAX_OUT];
	CK_ULONG len = sizeof(out);

	(void)state;
	sign(s, &m, k, msg, (CK_ULONG)strlen(msg), out, &len);
	assert_hex("a3b6167473100ee06e0c796c2955552b", out, len);
	assert_rv(CKR_OK,
		  verify(s, &m, k, msg, (CK_ULONG)strlen(msg), out, len));
	/* A longer MAC is not a valid 16-byte one. */
	assert_rv(CKR_SIGNATURE_LEN_RANGE,
		  verify(s, &m, k, msg, (CK_ULONG)strlen(msg), out, 17));
}

/* Every _GENERAL mechanism gives the prefix of the full MAC, for 1 byte
 * and the full length. */
static void test_hmac__general_is_prefix(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = repeated_key(s, 0x42, 64);
	uint8_t full[MAX_OUT], part[MAX_OUT];
	CK_ULONG full_len, len;

	(void)state;
	for (size_t i = 0; i < NELEM(hmacs); i++) {
		CK_MECHANISM m = {hmacs[i].mech, NULL, 0};
		CK_ULONG want[] = {1, hmacs[i].len / 2, hmacs[i].len};
		full_len = sizeof(full);
		sign(s, &m, k, "data", 4, full, &full_len);
		for (size_t j = 0; j < NELEM(want); j++) {
			CK_MAC_GENERAL_PARAMS p = want[j];
			CK_MECHANISM g = {hmacs[i].general, &p, sizeof(p)};
			len = sizeof(part);
			sign(s, &g, k, "data", 4, part, &len);
			assert_int_equal(len, want[j]);
			assert_memory_equal(part, full, len);
		}
	}
}

static void test_hmac__general_bad_params_fail(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = repeated_key(s, 0x42, 64);

	(void)state;
	for (size_t i = 0; i < NELEM(hmacs); i++) {
		CK_MAC_GENERAL_PARAMS zero = 0, over = hmacs[i].len + 1;
		CK_BYTE small = 8;
		CK_MECHANISM bad[] = {
		    {hmacs[i].general, &zero, sizeof(zero)},
		    {hmacs[i].general, &over, sizeof(over)},
		    {hmacs[i].general, &small, sizeof(small)},
		    {hmacs[i].general, NULL, 0},
		};
		for (size_t j = 0; j < NELEM(bad); j++) {
			assert_rv(CKR_MECHANISM_PARAM_INVALID,
				  p11->C_SignInit(s, &bad[j], k));
			assert_rv(CKR_MECHANISM_PARAM_INVALID,
				  p11->C_VerifyInit(s, &bad[j], k));
		}
	}
}

/* ---- AES-CMAC: NIST SP 800-38B, appendix D.1 (AES-128) ------------------ */

static const char cmac_key[] = "2b7e151628aed2a6abf7158809cf4f3c";
static const char cmac_msg[] =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
static const struct {
	size_t len;
	const char *mac;
} cmac_kats[] = {
    {0, "bb1d6929e95937287fa37d129b756746"},
    {16, "070a16b46b4d4144f79bdd9dd04a287c"},
    {40, "dfa66747de9ae63030ca32611497c827"},
    {64, "51f0bebf7e3b9d92fc49741779363cfe"},
};

static void test_cmac__sp800_38b_vectors(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = hex_key(s, CKK_AES, cmac_key);
	CK_MECHANISM m = {CKM_AES_CMAC, NULL, 0};
	uint8_t msg[64], out[MAX_OUT];
	CK_ULONG len;

	(void)state;
	unhex(cmac_msg, msg, sizeof(msg));
	for (size_t i = 0; i < NELEM(cmac_kats); i++) {
		CK_ULONG n = (CK_ULONG)cmac_kats[i].len;
		len = sizeof(out);
		sign(s, &m, k, msg, n, out, &len);
		assert_hex(cmac_kats[i].mac, out, len);
		assert_rv(CKR_OK, verify(s, &m, k, msg, n, out, len));
		/* multi-part, split off the block boundary */
		assert_rv(CKR_OK, p11->C_SignInit(s, &m, k));
		assert_rv(CKR_OK, p11->C_SignUpdate(s, msg, n / 3));
		assert_rv(CKR_OK, p11->C_SignUpdate(s, msg + n / 3, n - n / 3));
		len = sizeof(out);
		assert_rv(CKR_OK, p11->C_SignFinal(s, out, &len));
		assert_hex(cmac_kats[i].mac, out, len);
	}
}

static void test_cmac__general_truncates(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = hex_key(s, CKK_AES, cmac_key);
	CK_MAC_GENERAL_PARAMS p = 8;
	CK_MECHANISM m = {CKM_AES_CMAC_GENERAL, &p, sizeof(p)};
	uint8_t msg[64], out[MAX_OUT];
	CK_ULONG len = sizeof(out);

	(void)state;
	unhex(cmac_msg, msg, sizeof(msg));
	sign(s, &m, k, msg, 16, out, &len);
	assert_hex("070a16b46b4d4144", out, len);
	assert_rv(CKR_OK, verify(s, &m, k, msg, 16, out, len));
	assert_rv(CKR_SIGNATURE_LEN_RANGE, verify(s, &m, k, msg, 16, out, 16));
}

static void test_cmac__general_bad_params_fail(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = hex_key(s, CKK_AES, cmac_key);
	CK_MAC_GENERAL_PARAMS zero = 0, over = 17;
	CK_MECHANISM bad[] = {
	    {CKM_AES_CMAC_GENERAL, &zero, sizeof(zero)},
	    {CKM_AES_CMAC_GENERAL, &over, sizeof(over)},
	    {CKM_AES_CMAC_GENERAL, NULL, 0},
	};

	(void)state;
	for (size_t j = 0; j < NELEM(bad); j++)
		assert_rv(CKR_MECHANISM_PARAM_INVALID,
			  p11->C_SignInit(s, &bad[j], k));
}

/* CMAC with AES-192 and AES-256 keys, against OpenSSL. */
static void test_cmac__aes192_aes256_match_openssl(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_MECHANISM m = {CKM_AES_CMAC, NULL, 0};
	uint8_t key[32], data[100], out[MAX_OUT], ref[MAX_OUT];
	const char *cipher[] = {"AES-192-CBC", "AES-256-CBC"};
	const size_t klen[] = {24, 32};
	CK_ULONG len;
	size_t ref_len;

	(void)state;
	assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
	assert_int_equal(RAND_bytes(data, sizeof(data)), 1);
	for (size_t i = 0; i < 2; i++) {
		CK_OBJECT_HANDLE k = secret_key(s, CKK_AES, key, klen[i],
						CK_TRUE, CK_TRUE);
		len = sizeof(out);
		sign(s, &m, k, data, sizeof(data), out, &len);
		assert_non_null(EVP_Q_mac(NULL, "CMAC", NULL, cipher[i], NULL,
					  key, klen[i], data, sizeof(data),
					  ref, sizeof(ref), &ref_len));
		assert_int_equal(len, ref_len);
		assert_memory_equal(out, ref, len);
	}
}

/* ---- behaviours common to every MAC ------------------------------------- */

/* Each MAC mechanism with a key it takes. */
struct mac_case {
	CK_MECHANISM_TYPE mech;
	CK_KEY_TYPE kt;
	CK_ULONG len;
};

static const struct mac_case macs[] = {
    {CKM_SHA_1_HMAC, CKK_GENERIC_SECRET, 20},
    {CKM_SHA224_HMAC, CKK_GENERIC_SECRET, 28},
    {CKM_SHA256_HMAC, CKK_GENERIC_SECRET, 32},
    {CKM_SHA384_HMAC, CKK_GENERIC_SECRET, 48},
    {CKM_SHA512_HMAC, CKK_GENERIC_SECRET, 64},
    {CKM_AES_CMAC, CKK_AES, 16},
};

static CK_OBJECT_HANDLE mac_key(CK_SESSION_HANDLE s, CK_KEY_TYPE kt,
				CK_BBOOL sign_ok, CK_BBOOL verify_ok)
{
	uint8_t v[64];

	/* AES: 256 bits; HMAC: as long as the longest digest. */
	memset(v, 0x5a, sizeof(v));
	return secret_key(s, kt, v, kt == CKK_AES ? 32 : sizeof(v), sign_ok,
			  verify_ok);
}

static void test_mac__length_query_then_sign(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	uint8_t out[MAX_OUT], again[MAX_OUT];
	CK_ULONG len;

	(void)state;
	for (size_t i = 0; i < NELEM(macs); i++) {
		CK_OBJECT_HANDLE k = mac_key(s, macs[i].kt, CK_TRUE, CK_TRUE);
		CK_MECHANISM m = {macs[i].mech, NULL, 0};
		assert_rv(CKR_OK, p11->C_SignInit(s, &m, k));
		len = 0;
		assert_rv(CKR_OK, p11->C_Sign(s, (CK_BYTE_PTR) "x", 1, NULL,
					      &len));
		assert_int_equal(len, macs[i].len);
		assert_rv(CKR_OK,
			  p11->C_Sign(s, (CK_BYTE_PTR) "x", 1, out, &len));
		assert_int_equal(len, macs[i].len);
		len = sizeof(again);
		sign(s, &m, k, "x", 1, again, &len);
		assert_memory_equal(out, again, len);
	}
}

static void test_mac__too_small_then_retry(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	uint8_t out[MAX_OUT], ref[MAX_OUT];
	CK_ULONG len, ref_len;

	(void)state;
	for (size_t i = 0; i < NELEM(macs); i++) {
		CK_OBJECT_HANDLE k = mac_key(s, macs[i].kt, CK_TRUE, CK_TRUE);
		CK_MECHANISM m = {macs[i].mech, NULL, 0};
		ref_len = sizeof(ref);
		sign(s, &m, k, "abc", 3, ref, &ref_len);
		/* single-part */
		assert_rv(CKR_OK, p11->C_SignInit(s, &m, k));
		len = macs[i].len - 1;
		assert_rv(CKR_BUFFER_TOO_SMALL,
			  p11->C_Sign(s, (CK_BYTE_PTR) "abc", 3, out, &len));
		assert_int_equal(len, macs[i].len);
		assert_rv(CKR_OK,
			  p11->C_Sign(s, (CK_BYTE_PTR) "abc", 3, out, &len));
		assert_int_equal(len, ref_len);
		assert_memory_equal(out, ref, len);
		/* multi-part */
		assert_rv(CKR_OK, p11->C_SignInit(s, &m, k));
		assert_rv(CKR_OK, p11->C_SignUpdate(s, (CK_BYTE_PTR) "abc", 3));
		len = 1;
		assert_rv(CKR_BUFFER_TOO_SMALL, p11->C_SignFinal(s, out, &len));
		assert_int_equal(len, macs[i].len);
		assert_rv(CKR_OK, p11->C_SignFinal(s, out, &len));
		assert_memory_equal(out, ref, len);
	}
}

static void test_mac__verify_wrong_mac_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	uint8_t out[MAX_OUT];
	CK_ULONG len;

	(void)state;
	for (size_t i = 0; i < NELEM(macs); i++) {
		CK_OBJECT_HANDLE k = mac_key(s, macs[i].kt, CK_TRUE, CK_TRUE);
		CK_MECHANISM m = {macs[i].mech, NULL, 0};
		len = sizeof(out);
		sign(s, &m, k, "abc", 3, out, &len);
		out[0] ^= 0x80;
		assert_rv(CKR_SIGNATURE_INVALID,
			  verify(s, &m, k, "abc", 3, out, len));
		out[0] ^= 0x80;
		assert_rv(CKR_SIGNATURE_INVALID,
			  verify(s, &m, k, "abd", 3, out, len));
		/* multi-part */
		out[len - 1] ^= 1;
		assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, k));
		assert_rv(CKR_OK,
			  p11->C_VerifyUpdate(s, (CK_BYTE_PTR) "abc", 3));
		assert_rv(CKR_SIGNATURE_INVALID,
			  p11->C_VerifyFinal(s, out, len));
	}
}

static void test_mac__verify_wrong_length_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	uint8_t out[MAX_OUT + 1];
	CK_ULONG len;

	(void)state;
	for (size_t i = 0; i < NELEM(macs); i++) {
		CK_OBJECT_HANDLE k = mac_key(s, macs[i].kt, CK_TRUE, CK_TRUE);
		CK_MECHANISM m = {macs[i].mech, NULL, 0};
		len = sizeof(out);
		sign(s, &m, k, "abc", 3, out, &len);
		assert_rv(CKR_SIGNATURE_LEN_RANGE,
			  verify(s, &m, k, "abc", 3, out, len - 1));
		assert_rv(CKR_SIGNATURE_LEN_RANGE,
			  verify(s, &m, k, "abc", 3, out, len + 1));
		assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, k));
		assert_rv(CKR_OK,
			  p11->C_VerifyUpdate(s, (CK_BYTE_PTR) "abc", 3));
		assert_rv(CKR_SIGNATURE_LEN_RANGE,
			  p11->C_VerifyFinal(s, out, len - 1));
	}
}

static void test_mac__wrong_key_type_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE aes = mac_key(s, CKK_AES, CK_TRUE, CK_TRUE);
	CK_OBJECT_HANDLE gen = mac_key(s, CKK_GENERIC_SECRET, CK_TRUE, CK_TRUE);

	(void)state;
	for (size_t i = 0; i < NELEM(macs); i++) {
		CK_MECHANISM m = {macs[i].mech, NULL, 0};
		CK_OBJECT_HANDLE other = macs[i].kt == CKK_AES ? gen : aes;
		assert_rv(CKR_KEY_TYPE_INCONSISTENT,
			  p11->C_SignInit(s, &m, other));
		assert_rv(CKR_KEY_TYPE_INCONSISTENT,
			  p11->C_VerifyInit(s, &m, other));
	}
}

/* An HMAC key type names its digest: CKK_SHA256_HMAC is not a key for
 * HMAC-SHA-384. */
static void test_hmac__other_hmac_key_type_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k = mac_key(s, CKK_SHA256_HMAC, CK_TRUE, CK_TRUE);
	CK_MECHANISM m = {CKM_SHA384_HMAC, NULL, 0};

	(void)state;
	assert_rv(CKR_KEY_TYPE_INCONSISTENT, p11->C_SignInit(s, &m, k));
}

static void test_mac__key_without_usage_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();

	(void)state;
	for (size_t i = 0; i < NELEM(macs); i++) {
		CK_MECHANISM m = {macs[i].mech, NULL, 0};
		CK_OBJECT_HANDLE no_sign =
		    mac_key(s, macs[i].kt, CK_FALSE, CK_TRUE);
		CK_OBJECT_HANDLE no_verify =
		    mac_key(s, macs[i].kt, CK_TRUE, CK_FALSE);
		assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED,
			  p11->C_SignInit(s, &m, no_sign));
		assert_rv(CKR_KEY_FUNCTION_NOT_PERMITTED,
			  p11->C_VerifyInit(s, &m, no_verify));
	}
}

static void test_mac__init_while_active_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	uint8_t out[MAX_OUT], ref[MAX_OUT];
	CK_ULONG len, ref_len;

	(void)state;
	for (size_t i = 0; i < NELEM(macs); i++) {
		CK_OBJECT_HANDLE k = mac_key(s, macs[i].kt, CK_TRUE, CK_TRUE);
		CK_MECHANISM m = {macs[i].mech, NULL, 0};
		ref_len = sizeof(ref);
		sign(s, &m, k, "abc", 3, ref, &ref_len);
		assert_rv(CKR_OK, p11->C_SignInit(s, &m, k));
		assert_rv(CKR_OPERATION_ACTIVE, p11->C_SignInit(s, &m, k));
		len = sizeof(out);
		assert_rv(CKR_OK,
			  p11->C_Sign(s, (CK_BYTE_PTR) "abc", 3, out, &len));
		assert_memory_equal(out, ref, ref_len);
		assert_rv(CKR_OK, p11->C_VerifyInit(s, &m, k));
		assert_rv(CKR_OPERATION_ACTIVE, p11->C_VerifyInit(s, &m, k));
		assert_rv(CKR_OK, p11->C_Verify(s, (CK_BYTE_PTR) "abc", 3, ref,
						ref_len));
	}
}

/* ---- key generation ----------------------------------------------------- */

static CK_RV generate(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mt,
		      const CK_ULONG *value_len, CK_OBJECT_HANDLE *k)
{
	CK_MECHANISM m = {mt, NULL, 0};
	CK_ATTRIBUTE t[] = {
	    ATTR(CKA_TOKEN, &api_false),
	    ATTR(CKA_SENSITIVE, &api_false),
	    ATTR(CKA_EXTRACTABLE, &api_true),
	    ATTR(CKA_SIGN, &api_true),
	    ATTR(CKA_VERIFY, &api_true),
	    ATTR(CKA_VALUE_LEN, value_len),
	};

	return p11->C_GenerateKey(s, &m, t, value_len ? NELEM(t) : NELEM(t) - 1,
				  k);
}

static void test_keygen__generic_secret_attributes(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_ULONG want = 40, len, kt, mech;
	CK_OBJECT_HANDLE k;
	uint8_t value[64], check[8], sha1[20];
	CK_BBOOL local = CK_FALSE;

	(void)state;
	assert_rv(CKR_OK, generate(s, CKM_GENERIC_SECRET_KEY_GEN, &want, &k));
	assert_rv(CKR_OK, api_get_ulong(s, k, CKA_VALUE_LEN, &len));
	assert_int_equal(len, want);
	assert_rv(CKR_OK, api_get_ulong(s, k, CKA_KEY_TYPE, &kt));
	assert_int_equal(kt, CKK_GENERIC_SECRET);
	assert_rv(CKR_OK, api_get_bool(s, k, CKA_LOCAL, &local));
	assert_int_equal(local, CK_TRUE);
	assert_rv(CKR_OK, api_get_ulong(s, k, CKA_KEY_GEN_MECHANISM, &mech));
	assert_int_equal(mech, CKM_GENERIC_SECRET_KEY_GEN);
	len = sizeof(value);
	assert_rv(CKR_OK, api_get_bytes(s, k, CKA_VALUE, value, &len));
	assert_int_equal(len, want);
	/* v3.0 4.10: the first three bytes of the value's SHA-1. */
	len = sizeof(check);
	assert_rv(CKR_OK, api_get_bytes(s, k, CKA_CHECK_VALUE, check, &len));
	assert_int_equal(len, 3);
	assert_int_equal(EVP_Digest(value, want, sha1, NULL, EVP_sha1(), NULL),
			 1);
	assert_memory_equal(check, sha1, 3);
}

static void test_keygen__generated_keys_differ(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_ULONG want = 32, len;
	CK_OBJECT_HANDLE k1, k2;
	uint8_t v1[32], v2[32];

	(void)state;
	assert_rv(CKR_OK, generate(s, CKM_GENERIC_SECRET_KEY_GEN, &want, &k1));
	assert_rv(CKR_OK, generate(s, CKM_GENERIC_SECRET_KEY_GEN, &want, &k2));
	len = sizeof(v1);
	assert_rv(CKR_OK, api_get_bytes(s, k1, CKA_VALUE, v1, &len));
	len = sizeof(v2);
	assert_rv(CKR_OK, api_get_bytes(s, k2, CKA_VALUE, v2, &len));
	assert_memory_not_equal(v1, v2, sizeof(v1));
}

static void test_keygen__value_len_missing_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_OBJECT_HANDLE k;

	(void)state;
	assert_rv(CKR_TEMPLATE_INCOMPLETE,
		  generate(s, CKM_GENERIC_SECRET_KEY_GEN, NULL, &k));
}

static void test_keygen__value_len_zero_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_ULONG zero = 0;
	CK_OBJECT_HANDLE k;

	(void)state;
	/* The spec names no code for this; both say what is wrong. */
	assert_rv_either(CKR_KEY_SIZE_RANGE, CKR_ATTRIBUTE_VALUE_INVALID,
			 generate(s, CKM_GENERIC_SECRET_KEY_GEN, &zero, &k));
}

static void test_keygen__value_len_too_long_fails(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_ULONG huge = (CK_ULONG)1 << 30;
	CK_OBJECT_HANDLE k;

	(void)state;
	assert_rv_either(CKR_KEY_SIZE_RANGE, CKR_ATTRIBUTE_VALUE_INVALID,
			 generate(s, CKM_GENERIC_SECRET_KEY_GEN, &huge, &k));
}

static void test_keygen__mechanism_takes_no_parameter(void **state)
{
	CK_SESSION_HANDLE s = user_session();
	CK_ULONG want = 16, junk = 1;
	CK_MECHANISM m = {CKM_GENERIC_SECRET_KEY_GEN, &junk, sizeof(junk)};
	CK_ATTRIBUTE t[] = {ATTR(CKA_TOKEN, &api_false),
			    ATTR(CKA_VALUE_LEN, &want)};
	CK_OBJECT_HANDLE k;

	(void)state;
	assert_rv(CKR_MECHANISM_PARAM_INVALID,
		  p11->C_GenerateKey(s, &m, t, NELEM(t), &k));
}

/* CKM_SHA*_KEY_GEN make keys of the matching HMAC key type, usable with
 * (only) that HMAC. */
static void test_keygen__hmac_key_types(void **state)
{
	static const struct {
		CK_MECHANISM_TYPE gen, mac;
		CK_KEY_TYPE kt;
	} gens[] = {
	    {CKM_SHA_1_KEY_GEN, CKM_SHA_1_HMAC, CKK_SHA_1_HMAC},
	    {CKM_SHA224_KEY_GEN, CKM_SHA224_HMAC, CKK_SHA224_HMAC},
	    {CKM_SHA256_KEY_GEN, CKM_SHA256_HMAC, CKK_SHA256_HMAC},
	    {CKM_SHA384_KEY_GEN, CKM_SHA384_HMAC, CKK_SHA384_HMAC},
	    {CKM_SHA512_KEY_GEN, CKM_SHA512_HMAC, CKK_SHA512_HMAC},
	    {CKM_SHA3_224_KEY_GEN, CKM_SHA3_224_HMAC, CKK_SHA3_224_HMAC},
	    {CKM_SHA3_256_KEY_GEN, CKM_SHA3_256_HMAC, CKK_SHA3_256_HMAC},
	    {CKM_SHA3_384_KEY_GEN, CKM_SHA3_384_HMAC, CKK_SHA3_384_HMAC},
	    {CKM_SHA3_512_KEY_GEN, CKM_SHA3_512_HMAC, CKK_SHA3_512_HMAC},
	};
	CK_SESSION_HANDLE s = user_session();
	CK_ULONG want = 64, kt, mech;
	uint8_t out[MAX_OUT];
	CK_ULONG len;

	(void)state;
	for (size_t i = 0; i < NELEM(gens); i++) {
		CK_MECHANISM m = {gens[i].mac, NULL, 0};
		CK_OBJECT_HANDLE k;
		assert_rv(CKR_OK, generate(s, gens[i].gen, &want, &k));
		assert_rv(CKR_OK, api_get_ulong(s, k, CKA_KEY_TYPE, &kt));
		assert_int_equal(kt, gens[i].kt);
		assert_rv(CKR_OK,
			  api_get_ulong(s, k, CKA_KEY_GEN_MECHANISM, &mech));
		assert_int_equal(mech, gens[i].gen);
		len = sizeof(out);
		sign(s, &m, k, "abc", 3, out, &len);
		assert_rv(CKR_OK, verify(s, &m, k, "abc", 3, out, len));
		m.mechanism = gens[i].mac == CKM_SHA_1_HMAC ? CKM_SHA256_HMAC
							    : CKM_SHA_1_HMAC;
		assert_rv(CKR_KEY_TYPE_INCONSISTENT,
			  p11->C_SignInit(s, &m, k));
	}
}

/* ---- C_GetMechanismInfo ------------------------------------------------- */

struct info_want {
	CK_MECHANISM_TYPE mech;
	CK_FLAGS flags;
	CK_ULONG min, max; /* 0: not checked */
};

static void check_info(const struct info_want *want, size_t n)
{
	CK_MECHANISM_INFO info;

	for (size_t i = 0; i < n; i++) {
		assert_rv(CKR_OK, p11->C_GetMechanismInfo(api_slot, want[i].mech,
							  &info));
		assert_int_equal(info.flags, want[i].flags);
		assert_true(info.ulMinKeySize >= 1);
		assert_true(info.ulMinKeySize <= info.ulMaxKeySize);
		if (want[i].min != 0) {
			assert_int_equal(info.ulMinKeySize, want[i].min);
			assert_int_equal(info.ulMaxKeySize, want[i].max);
		}
	}
}

static void test_mech_info__mac_and_keygen_values(void **state)
{
	static const struct info_want want[] = {
	    {CKM_SHA_1_HMAC, CKF_SIGN | CKF_VERIFY, 0, 0},
	    {CKM_SHA256_HMAC, CKF_SIGN | CKF_VERIFY, 0, 0},
	    {CKM_SHA512_HMAC, CKF_SIGN | CKF_VERIFY, 0, 0},
	    {CKM_AES_CMAC, CKF_SIGN | CKF_VERIFY, 16, 32},
	    {CKM_GENERIC_SECRET_KEY_GEN, CKF_GENERATE, 0, 0},
	};

	(void)state;
	check_info(want, NELEM(want));
}

/* The mechanisms PKCS#11 v3.0 added or SoftHSMv2 2.6 lacks. */
static void test_mech_info__general_sha3_and_hmac_keygen_values(void **state)
{
	static const struct info_want want[] = {
	    {CKM_SHA256_HMAC_GENERAL, CKF_SIGN | CKF_VERIFY, 0, 0},
	    {CKM_SHA3_256_HMAC, CKF_SIGN | CKF_VERIFY, 0, 0},
	    {CKM_SHA3_512_HMAC_GENERAL, CKF_SIGN | CKF_VERIFY, 0, 0},
	    {CKM_AES_CMAC_GENERAL, CKF_SIGN | CKF_VERIFY, 16, 32},
	    {CKM_SHA256_KEY_GEN, CKF_GENERATE, 0, 0},
	    {CKM_SHA3_256_KEY_GEN, CKF_GENERATE, 0, 0},
	};

	(void)state;
	check_info(want, NELEM(want));
}

#define T(f) cmocka_unit_test_setup_teardown(f, api_setup_token, api_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_digest__sha1_sha2_vectors),
	    T(test_digest__sha512_t_vectors),
	    T(test_digest__sha3_vectors),
	    T(test_digest__million_a_multipart),
	    T(test_digest__sha3_million_a_multipart),
	    T(test_digest__multipart_equals_single_part),
	    T(test_digest__sha3_multipart_equals_single_part),
	    T(test_digest__length_query_then_digest),
	    T(test_digest__too_small_then_retry),
	    T(test_digest__final_too_small_then_retry),
	    T(test_digest__digest_key_between_updates),
	    T(test_digest__mechanism_info),
	    T(test_digest__sha3_mechanism_info),
	    T(test_hmac__rfc4231_vectors),
	    T(test_hmac__rfc4231_multipart),
	    T(test_hmac__sha256_hmac_key_type),
	    T(test_hmac__rfc2202_sha1),
	    T(test_hmac__sha1_sha2_match_openssl),
	    T(test_hmac__sha3_match_openssl),
	    T(test_hmac__general_truncates),
	    T(test_hmac__general_is_prefix),
	    T(test_hmac__general_bad_params_fail),
	    T(test_hmac__other_hmac_key_type_fails),
	    T(test_cmac__sp800_38b_vectors),
	    T(test_cmac__general_truncates),
	    T(test_cmac__general_bad_params_fail),
	    T(test_cmac__aes192_aes256_match_openssl),
	    T(test_mac__length_query_then_sign),
	    T(test_mac__too_small_then_retry),
	    T(test_mac__verify_wrong_mac_fails),
	    T(test_mac__verify_wrong_length_fails),
	    T(test_mac__wrong_key_type_fails),
	    T(test_mac__key_without_usage_fails),
	    T(test_mac__init_while_active_fails),
	    T(test_keygen__generic_secret_attributes),
	    T(test_keygen__generated_keys_differ),
	    T(test_keygen__value_len_missing_fails),
	    T(test_keygen__value_len_zero_fails),
	    T(test_keygen__value_len_too_long_fails),
	    T(test_keygen__mechanism_takes_no_parameter),
	    T(test_keygen__hmac_key_types),
	    T(test_mech_info__mac_and_keygen_values),
	    T(test_mech_info__general_sha3_and_hmac_keygen_values),
	};

	return api_run(argc, argv, "digest", tests, NELEM(tests));
}
