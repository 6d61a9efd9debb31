/* secmem.c - see secmem.h. */
#include "common/secmem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

void cf_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

static size_t page_round(size_t len)
{
	static size_t page;
	if (page == 0) {
		long ps = sysconf(_SC_PAGESIZE);
		page = ps > 0 ? (size_t)ps : 4096;
	}
	if (len == 0)
		len = 1;
	if (len > SIZE_MAX - page)
		return 0;
	return (len + page - 1) / page * page;
}

void *cf_secret_alloc(size_t len)
{
	size_t size = page_round(len);
	void *p = NULL;

	if (size == 0)
		return NULL;
	if (posix_memalign(&p, (size_t)sysconf(_SC_PAGESIZE), size) != 0)
		return NULL;
	memset(p, 0, size);
	/* Best effort: a locked page never reaches swap, and a dump-excluded
	 * one never reaches a core file. Failure is not fatal. */
	(void)mlock(p, size);
	(void)madvise(p, size, MADV_DONTDUMP);
	return p;
}

void cf_secret_free(void *p, size_t len)
{
	size_t size;

	if (p == NULL)
		return;
	size = page_round(len);
	OPENSSL_cleanse(p, size);
	(void)madvise(p, size, MADV_DODUMP);
	(void)munlock(p, size);
	free(p);
}

void *cf_secret_dup(const void *src, size_t len)
{
	void *p = cf_secret_alloc(len);
	if (p != NULL && len > 0)
		memcpy(p, src, len);
	return p;
}

int cf_secret_init(struct cf_secret *s, size_t len)
{
	s->data = cf_secret_alloc(len);
	s->len = s->data != NULL ? len : 0;
	return s->data != NULL ? 0 : -ENOMEM;
}

int cf_secret_set(struct cf_secret *s, const void *src, size_t len)
{
	int rc = cf_secret_init(s, len);
	if (rc == 0 && len > 0)
		memcpy(s->data, src, len);
	return rc;
}

void cf_secret_clear(struct cf_secret *s)
{
	cf_secret_free(s->data, s->len);
	s->data = NULL;
	s->len = 0;
}

void cf_free_wiped(void *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}
