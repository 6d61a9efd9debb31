/*
 * library.c - libcoffer-client.so's life: C_Initialize reads the
 * configuration and connects, C_Finalize closes, and a forked child is
 * told to initialize again (PKCS#11 v3.0 base 5.4, 6.7.8).
 *
 * An unreachable server does not fail C_Initialize: p11-kit and others
 * initialize every registered module at start-up, and one remote token
 * being down must not break them. The calls that need the server retry
 * the connection and answer CKR_DEVICE_ERROR while it stays down.
 */
#include "client/client.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "wire/tls.h"

static struct {
	pthread_mutex_t lock; /* C_Initialize and C_Finalize */
	bool initialized;     /* read by every call: atomically */
	struct cf_client_conf conf;
	SSL_CTX *tls;
} lib = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* In the child after fork: nothing of the parent's connection may be used
 * (its replies would be read by two processes), so the library is
 * uninitialized until the child calls C_Initialize. The child has only
 * this thread, so the locks are simply made anew. */
static void atfork_child(void)
{
	pthread_mutex_init(&lib.lock, NULL);
	if (!__atomic_load_n(&lib.initialized, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&lib.initialized, false, __ATOMIC_RELEASE);
	cf_rpc_forget();
	cf_client_sessions_reset();
	/* OpenSSL may hold locks of the parent's threads: the context is
	 * left alone (a small leak per fork that re-initializes). */
	lib.tls = NULL;
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

CK_RV cf_client_ready(void)
{
	if (!__atomic_load_n(&lib.initialized, __ATOMIC_ACQUIRE))
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	return CKR_OK;
}

/* The four locking cases of 5.4.1: without callbacks, or with them and
 * CKF_OS_LOCKING_OK, the platform's threads serve. With the callbacks alone
 * the library must lock through them or answer CKR_CANT_LOCK, and the
 * client cannot: its waits for replies need condition variables, which
 * application mutexes cannot serve. (libcoffer.so can, and does.) No thread
 * is created, so CKF_LIBRARY_CANT_CREATE_OS_THREADS is fine. */
static CK_RV check_args(const CK_C_INITIALIZE_ARGS *a)
{
	int given;

	if (a == NULL)
		return CKR_OK;
	if (a->pReserved != NULL)
		return CKR_ARGUMENTS_BAD;
	given = (a->CreateMutex != NULL) + (a->DestroyMutex != NULL) +
		(a->LockMutex != NULL) + (a->UnlockMutex != NULL);
	if (given != 0 && given != 4)
		return CKR_ARGUMENTS_BAD;
	if (given == 4 && !(a->flags & CKF_OS_LOCKING_OK))
		return CKR_CANT_LOCK;
	return CKR_OK;
}

/* 5.4.1: an initialized library says so before it looks at the arguments,
 * as libcoffer.so does. */
CK_RV cf_client_initialize(CK_VOID_PTR args)
{
	char err[512];
	CK_RV rv;

	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&lib.lock);
	if (lib.initialized) {
		rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
		goto out_unlock;
	}
	rv = check_args(args);
	if (rv != CKR_OK)
		goto out_unlock;
	if (cf_client_conf_load(&lib.conf, err, sizeof(err)) != 0) {
		cf_error("coffer-client: %s", err);
		rv = CKR_GENERAL_ERROR;
		goto out_unlock;
	}
	if (strncmp(lib.conf.server, "tls://", 6) == 0) {
		lib.tls = cf_tls_client_ctx(lib.conf.cert, lib.conf.key,
					    lib.conf.ca, err, sizeof(err));
		if (lib.tls == NULL) {
			cf_error("coffer-client: %s", err);
			rv = CKR_GENERAL_ERROR;
			goto out_unlock;
		}
	}
	cf_rpc_init(&lib.conf, lib.tls);
	cf_rpc_connect_now();
	__atomic_store_n(&lib.initialized, true, __ATOMIC_RELEASE);
	rv = CKR_OK;
out_unlock:
	pthread_mutex_unlock(&lib.lock);
	return rv;
}

/* 5.4.2 */
CK_RV cf_client_finalize(CK_VOID_PTR reserved)
{
	CK_RV rv;

	pthread_mutex_lock(&lib.lock);
	rv = cf_client_ready();
	if (rv != CKR_OK)
		goto out_unlock;
	if (reserved != NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_unlock;
	}
	__atomic_store_n(&lib.initialized, false, __ATOMIC_RELEASE);
	cf_rpc_shutdown();
	cf_client_sessions_clear();
	SSL_CTX_free(lib.tls);
	lib.tls = NULL;
	rv = CKR_OK;
out_unlock:
	pthread_mutex_unlock(&lib.lock);
	return rv;
}

/* ---- the frame of every generated stub -------------------------------- */

CK_RV cf_client_begin(struct cf_client_call *c, uint16_t fn)
{
	CK_RV rv = cf_client_ready();

	if (rv != CKR_OK)
		return rv;
	memset(c, 0, sizeof(*c));
	c->fn = fn;
	cf_wout_init(&c->req, CF_FRAME_MAX_DEFAULT);
	return CKR_OK;
}

CK_RV cf_client_begin_session(struct cf_client_call *c, uint16_t fn,
			      CK_SESSION_HANDLE s, int msg)
{
	CK_RV rv = cf_client_ready();

	if (rv != CKR_OK)
		return rv;
	memset(c, 0, sizeof(*c));
	c->fn = fn;
	c->local = s;
	rv = cf_client_session_get(s, msg, &c->remote, &c->gen, &c->msg_mech,
				   &c->msg_active);
	if (rv != CKR_OK)
		return rv;
	cf_wout_init(&c->req, CF_FRAME_MAX_DEFAULT);
	return CKR_OK;
}

void cf_client_end_op(const struct cf_client_call *c, CK_FLAGS flags)
{
	struct cf_client_call k;
	CK_RV rv;

	if (cf_client_begin_session(&k, CF_FN_SESSION_CANCEL, c->local,
				    CF_MSG_NONE) != CKR_OK)
		return;
	cf_w_ulong(&k.req, k.remote);
	cf_w_ulong(&k.req, flags);
	/* A module without C_SessionCancel (2.40) keeps its operation, as
	 * it would have had it seen the bad arguments itself, probably. */
	rv = cf_client_roundtrip(&k);
	(void)rv;
	cf_client_end(&k);
}

void cf_client_end(struct cf_client_call *c)
{
	if (c->have_rd)
		cf_win_clear(&c->rd);
	cf_frame_clear(&c->rep);
	cf_wout_clear(&c->req);
}

bool cf_client_read_rv(struct cf_win *r, CK_RV *rv)
{
	uint64_t v;

	if (!cf_r_u64(r, &v))
		return false;
	if (v > (uint64_t)(CK_RV)-1)
		return false;
	*rv = (CK_RV)v;
	return true;
}

bool cf_client_r_fillbuf(struct cf_win *r, CK_RV rv, CK_BYTE_PTR buf,
			 CK_ULONG len)
{
	const uint8_t *p = NULL;
	CK_ULONG n = 0;

	(void)rv;
	if (!cf_r_bytes(r, &p, &n))
		return false;
	/* The server fills exactly the buffer it was asked for. */
	if (p == NULL ? len != 0 : n != len) {
		r->bad = true;
		return false;
	}
	if (n != 0)
		memcpy(buf, p, n);
	return true;
}

bool cf_client_r_handles(struct cf_win *r, CK_RV rv, CK_ULONG *arr,
			 CK_ULONG max, CK_ULONG *n)
{
	CK_ULONG count = max;

	if (!cf_r_ulongs_rep(r, rv, arr, &count))
		return false;
	if (count > max) {
		r->bad = true;
		return false;
	}
	*n = count;
	return true;
}
