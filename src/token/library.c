/*
 * library.c - the process-wide state between C_Initialize and C_Finalize:
 * configuration, the slot list (one slot per token database in token_dir,
 * plus one free slot for C_InitToken) and the session table.
 */
#include "token/core.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

struct cf_library *cf_lib;

/* A forked child inherits cf_lib, but the parent's database connections
 * and locks are not its to use: forget them (leaking is the only safe
 * choice) so that the child sees CKR_CRYPTOKI_NOT_INITIALIZED until it
 * calls C_Initialize. */
static void forget_in_child(void)
{
	cf_lib = NULL;
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, forget_in_child);
}

/* Every entry point asks this first, so it must cost nothing: the fork
 * handler above is what keeps a child out (glibc no longer caches getpid,
 * so comparing pids here would be a system call per PKCS#11 call). */
CK_RV cf_library_ready(void)
{
	if (cf_lib == NULL)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	return CKR_OK;
}

/* mkdir -p with 0700 for each component we create. */
static int make_dirs(const char *path)
{
	char buf[CF_CONF_PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int cmp_slot(const void *a, const void *b)
{
	const struct cf_token *x = *(struct cf_token *const *)a;
	const struct cf_token *y = *(struct cf_token *const *)b;
	return x->slot_id < y->slot_id ? -1 : x->slot_id > y->slot_id;
}

static CK_RV push_token(struct cf_library *lib, struct cf_token *t)
{
	struct cf_token **n = realloc(lib->tokens,
				      (lib->ntokens + 1) * sizeof(*n));
	if (n == NULL)
		return CKR_HOST_MEMORY;
	lib->tokens = n;
	lib->tokens[lib->ntokens++] = t;
	return CKR_OK;
}

static CK_SLOT_ID next_free_slot_id(const struct cf_library *lib)
{
	CK_SLOT_ID id = 0;
	for (size_t i = 0; i < lib->ntokens; i++)
		if (lib->tokens[i]->initialized &&
		    lib->tokens[i]->slot_id >= id)
			id = lib->tokens[i]->slot_id + 1;
	return id;
}

static CK_RV scan_tokens(struct cf_library *lib)
{
	DIR *d;
	struct dirent *e;
	CK_RV rv = CKR_OK;
	struct stat st;

	if (make_dirs(lib->conf.token_dir) != 0) {
		cf_error("cannot create token directory %s: %s",
			 lib->conf.token_dir, strerror(errno));
		return CKR_DEVICE_ERROR;
	}
	if (stat(lib->conf.token_dir, &st) == 0 && (st.st_mode & 077))
		cf_warn("token directory %s is accessible to group or others",
			lib->conf.token_dir);
	d = opendir(lib->conf.token_dir);
	if (d == NULL) {
		cf_error("cannot read token directory %s: %s",
			 lib->conf.token_dir, strerror(errno));
		return CKR_DEVICE_ERROR;
	}
	while ((e = readdir(d)) != NULL) {
		char path[CF_CONF_PATH_MAX];
		size_t nl = strlen(e->d_name);
		struct cf_token *t;

		if (nl < 4 || strcmp(e->d_name + nl - 3, ".db") != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s",
				     lib->conf.token_dir,
				     e->d_name) >= sizeof(path))
			continue;
		/* A database that will not open is logged and left out, so
		 * one damaged token does not take the others down. */
		if (cf_token_open(path, &t) != CKR_OK)
			continue;
		rv = push_token(lib, t);
		if (rv != CKR_OK) {
			cf_token_free(t);
			break;
		}
	}
	closedir(d);
	if (rv == CKR_OK && lib->ntokens > 1)
		qsort(lib->tokens, lib->ntokens, sizeof(*lib->tokens),
		      cmp_slot);
	return rv;
}

static void library_free(struct cf_library *lib)
{
	if (lib == NULL)
		return;
	for (size_t i = 0; i < lib->sessions.cap; i++) {
		struct cf_session *s = lib->sessions.slots[i].val;
		if (lib->sessions.slots[i].key == 0)
			continue;
		cf_find_clear(&s->find);
		/* An operation's state holds key material (an HMAC or
		 * cipher context): freeing it wipes it. */
		cf_op_end_all(s);
		cf_mutex_free(s->lock);
		free(s);
	}
	cf_map_clear(&lib->sessions);
	for (size_t i = 0; i < lib->ntokens; i++)
		cf_token_free(lib->tokens[i]);
	free(lib->tokens);
	cf_mutex_free(lib->lock);
	free(lib);
}

CK_RV cf_library_initialize(const CK_C_INITIALIZE_ARGS *args)
{
	struct cf_library *lib = NULL;
	char err[CF_CONF_PATH_MAX + 256];
	const char *dbg;
	struct cf_token *free_slot;
	CK_RV rv;

	if (cf_library_ready() == CKR_OK)
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	if (args != NULL && args->pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	rv = cf_lock_setup(args);
	if (rv != CKR_OK)
		return rv;
	pthread_once(&atfork_once, register_atfork);

	lib = calloc(1, sizeof(*lib));
	if (lib == NULL)
		return CKR_HOST_MEMORY;
	cf_map_init(&lib->sessions);
	lib->next_session = 1;
	if (cf_conf_load(&lib->conf, err, sizeof(err)) != 0) {
		/* The log is not configured yet: errors go to stderr. */
		cf_log_open(CF_LOG_ERROR, "stderr");
		cf_error("configuration: %s", err);
		rv = CKR_FUNCTION_FAILED;
		goto out_free;
	}
	dbg = getenv("COFFER_DEBUG");
	if (dbg != NULL && dbg[0] != '\0' &&
	    !cf_log_level_parse(dbg, &lib->conf.log_level))
		lib->conf.log_level = CF_LOG_DEBUG;
	if (cf_log_open(lib->conf.log_level, lib->conf.log_dest) != 0) {
		cf_log_open(CF_LOG_ERROR, "stderr");
		cf_error("cannot open log destination %s", lib->conf.log_dest);
	}
	if (lib->conf.kdf_cost < CF_KDF_COST_DEFAULT)
		cf_warn("kdf_cost %u is below the default %u: for tests only",
			lib->conf.kdf_cost, CF_KDF_COST_DEFAULT);
	rv = cf_mutex_new(&lib->lock);
	if (rv != CKR_OK)
		goto out_free;
	rv = scan_tokens(lib);
	if (rv != CKR_OK)
		goto out_free;
	rv = cf_token_new_free(next_free_slot_id(lib), &free_slot);
	if (rv != CKR_OK)
		goto out_free;
	rv = push_token(lib, free_slot);
	if (rv != CKR_OK) {
		cf_token_free(free_slot);
		goto out_free;
	}
	cf_debug("initialized: %zu slot(s), token_dir %s", lib->ntokens,
		 lib->conf.token_dir);
	cf_lib = lib;
	return CKR_OK;
out_free:
	library_free(lib);
	return rv;
}

CK_RV cf_library_finalize(void)
{
	struct cf_library *lib;
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	lib = cf_lib;
	cf_lib = NULL;
	library_free(lib);
	return CKR_OK;
}

CK_RV cf_library_token(CK_SLOT_ID slot, struct cf_token **out)
{
	CK_RV rv = CKR_SLOT_ID_INVALID;

	*out = NULL;
	cf_mutex_lock(cf_lib->lock);
	for (size_t i = 0; i < cf_lib->ntokens; i++) {
		if (cf_lib->tokens[i]->slot_id == slot) {
			*out = cf_lib->tokens[i];
			rv = CKR_OK;
			break;
		}
	}
	cf_mutex_unlock(cf_lib->lock);
	return rv;
}

CK_RV cf_library_add_free_slot(void)
{
	struct cf_token *t;
	CK_RV rv;

	cf_mutex_lock(cf_lib->lock);
	rv = cf_token_new_free(next_free_slot_id(cf_lib), &t);
	if (rv == CKR_OK) {
		rv = push_token(cf_lib, t);
		if (rv != CKR_OK)
			cf_token_free(t);
	}
	cf_mutex_unlock(cf_lib->lock);
	return rv;
}

void cf_pad(unsigned char *dst, size_t width, const char *src)
{
	size_t n = strlen(src);
	memset(dst, ' ', width);
	memcpy(dst, src, n < width ? n : width);
}
