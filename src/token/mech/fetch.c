/*
 * fetch.c - OpenSSL algorithms fetched once (see mech.h, cf_md).
 *
 * A small table per kind: readers scan the published entries without a
 * lock (an entry is complete before the count that covers it is
 * released); a miss fetches under a mutex. Fetched objects are never
 * freed, like the library context they come from.
 */
#include "token/mech/mech.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "common/crypto.h"

#define FETCH_MAX 48

struct fetched {
	const char *name;
	void *obj;
};

struct fetch_table {
	struct fetched rows[FETCH_MAX];
	_Atomic size_t n;
	pthread_mutex_t lock;
};

enum kind { KIND_MD, KIND_CIPHER, KIND_MAC };

static struct fetch_table tables[3] = {
    {.lock = PTHREAD_MUTEX_INITIALIZER},
    {.lock = PTHREAD_MUTEX_INITIALIZER},
    {.lock = PTHREAD_MUTEX_INITIALIZER},
};

static void *scan(struct fetch_table *t, const char *name, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t->rows[i].name, name) == 0)
			return t->rows[i].obj;
	return NULL;
}

static void *fetch_new(enum kind k, const char *name)
{
	OSSL_LIB_CTX *ctx = cf_libctx();

	if (ctx == NULL)
		return NULL;
	switch (k) {
	case KIND_MD:
		return EVP_MD_fetch(ctx, name, NULL);
	case KIND_CIPHER:
		return EVP_CIPHER_fetch(ctx, name, NULL);
	case KIND_MAC:
		return EVP_MAC_fetch(ctx, name, NULL);
	}
	return NULL;
}

static void *get(enum kind k, const char *name)
{
	struct fetch_table *t = &tables[k];
	size_t n = atomic_load_explicit(&t->n, memory_order_acquire);
	void *obj = scan(t, name, n);

	if (obj != NULL)
		return obj;
	pthread_mutex_lock(&t->lock);
	n = atomic_load_explicit(&t->n, memory_order_relaxed);
	obj = scan(t, name, n);
	if (obj == NULL && n < FETCH_MAX) {
		obj = fetch_new(k, name);
		if (obj != NULL) {
			t->rows[n].name = name;
			t->rows[n].obj = obj;
			atomic_store_explicit(&t->n, n + 1,
					      memory_order_release);
		}
	} else if (obj == NULL) {
		/* Table full (a programming error: FETCH_MAX is above the
		 * number of algorithms coffer names): fetch uncached and
		 * leak rather than fail. */
		obj = fetch_new(k, name);
	}
	pthread_mutex_unlock(&t->lock);
	return obj;
}

const EVP_MD *cf_md(const char *name)
{
	return get(KIND_MD, name);
}

const EVP_CIPHER *cf_cipher(const char *name)
{
	return get(KIND_CIPHER, name);
}

EVP_MAC *cf_mac(const char *name)
{
	return get(KIND_MAC, name);
}

const char *cf_md_name_of_mech(CK_MECHANISM_TYPE t)
{
	switch (t) {
	case CKM_SHA_1:
		return "SHA1";
	case CKM_SHA224:
		return "SHA2-224";
	case CKM_SHA256:
		return "SHA2-256";
	case CKM_SHA384:
		return "SHA2-384";
	case CKM_SHA512:
		return "SHA2-512";
	case CKM_SHA3_224:
		return "SHA3-224";
	case CKM_SHA3_256:
		return "SHA3-256";
	case CKM_SHA3_384:
		return "SHA3-384";
	case CKM_SHA3_512:
		return "SHA3-512";
	default:
		return NULL;
	}
}

const char *cf_md_name_of_mgf(CK_RSA_PKCS_MGF_TYPE mgf)
{
	switch (mgf) {
	case CKG_MGF1_SHA1:
		return "SHA1";
	case CKG_MGF1_SHA224:
		return "SHA2-224";
	case CKG_MGF1_SHA256:
		return "SHA2-256";
	case CKG_MGF1_SHA384:
		return "SHA2-384";
	case CKG_MGF1_SHA512:
		return "SHA2-512";
	case CKG_MGF1_SHA3_224:
		return "SHA3-224";
	case CKG_MGF1_SHA3_256:
		return "SHA3-256";
	case CKG_MGF1_SHA3_384:
		return "SHA3-384";
	case CKG_MGF1_SHA3_512:
		return "SHA3-512";
	default:
		return NULL;
	}
}

EVP_PKEY_CTX *cf_pkey_ctx(const char *name)
{
	/* The OID aliases of the default provider's key managers. */
	static const struct {
		const char *name, *oid;
	} oids[] = {
	    {"RSA", "1.2.840.113549.1.1.1"}, {"RSA-PSS", "1.2.840.113549.1.1.10"},
	    {"EC", "1.2.840.10045.2.1"},     {"X25519", "1.3.101.110"},
	    {"X448", "1.3.101.111"},         {"ED25519", "1.3.101.112"},
	    {"ED448", "1.3.101.113"},
	};
	OSSL_LIB_CTX *lib = cf_libctx();

	if (lib == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(oids) / sizeof(oids[0]); i++)
		if (strcmp(oids[i].name, name) == 0)
			return EVP_PKEY_CTX_new_from_name(lib, oids[i].oid,
							  NULL);
	return EVP_PKEY_CTX_new_from_name(lib, name, NULL);
}
