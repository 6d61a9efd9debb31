/*
 * random_api.c - random numbers (PKCS#11 v3.0 base 5.19) from OpenSSL's
 * DRBG in coffer's private library context. OpenSSL reseeds its DRBGs
 * after fork() by itself, and a forked child must call C_Initialize again
 * anyway, so no two processes ever share a DRBG state.
 */
#include "token/core.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/crypto.h"

static CK_RV session_ok(CK_SESSION_HANDLE h)
{
	struct cf_session *s;
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	rv = cf_session_get(h, &s);
	if (rv == CKR_OK)
		cf_session_put(s);
	return rv;
}

/* 5.19.1. A seed can only add to the DRBG's state: it goes in as
 * additional input to a reseed of the primary DRBG, which still draws
 * fresh entropy from the operating system, so a caller's seed (known,
 * repeated or hostile) never replaces real entropy. */
CF_EXPORT CK_RV C_SeedRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR seed,
			     CK_ULONG len)
{
	EVP_RAND_CTX *primary;
	CK_RV rv = session_ok(h);

	if (rv != CKR_OK)
		return rv;
	if (seed == NULL && len > 0)
		return CKR_ARGUMENTS_BAD;
	if (len == 0)
		return CKR_OK;
	primary = cf_libctx() ? RAND_get0_primary(cf_libctx()) : NULL;
	if (primary == NULL)
		return CKR_FUNCTION_FAILED;
	if (EVP_RAND_reseed(primary, 0, NULL, 0, seed, len) != 1)
		return CKR_FUNCTION_FAILED;
	return CKR_OK;
}

/* 5.19.2 */
CF_EXPORT CK_RV C_GenerateRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR out,
				 CK_ULONG len)
{
	CK_RV rv = session_ok(h);

	if (rv != CKR_OK)
		return rv;
	if (out == NULL && len > 0)
		return CKR_ARGUMENTS_BAD;
	if (len == 0)
		return CKR_OK;
	return cf_random(out, len) ? CKR_OK : CKR_FUNCTION_FAILED;
}
