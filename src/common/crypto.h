/*
 * crypto.h - coffer's private OpenSSL library context.
 *
 * All of coffer's OpenSSL calls pass cf_libctx(), so a host application's
 * provider configuration (openssl.cnf, FIPS settings, its own providers)
 * never changes what the token does, and coffer never touches the default
 * context. Created once, on first use; never freed (a module inside someone
 * else's process must not tear OpenSSL down at exit). Thread-safe.
 */
#ifndef CF_CRYPTO_H
#define CF_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/types.h>

/* NULL only when OpenSSL cannot create a context or load its default
 * provider (out of memory). */
OSSL_LIB_CTX *cf_libctx(void);

/* Fills buf with len random bytes from the private context's DRBG. */
bool cf_random(void *buf, size_t len) __attribute__((warn_unused_result));

#endif
