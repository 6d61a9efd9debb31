/* crypto.c - see crypto.h. */
#include "common/crypto.h"

#include <pthread.h>

#include <openssl/crypto.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

static pthread_once_t libctx_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *libctx;

static void libctx_make(void)
{
	OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();
	if (ctx == NULL)
		return;
	if (OSSL_PROVIDER_load(ctx, "default") == NULL) {
		OSSL_LIB_CTX_free(ctx);
		return;
	}
	libctx = ctx;
}

OSSL_LIB_CTX *cf_libctx(void)
{
	pthread_once(&libctx_once, libctx_make);
	return libctx;
}

bool cf_random(void *buf, size_t len)
{
	OSSL_LIB_CTX *ctx = cf_libctx();
	if (ctx == NULL)
		return false;
	return RAND_bytes_ex(ctx, buf, len, 0) == 1;
}
