/*
 * session.c - the application's session handles. The server's handles are
 * only meaningful on the connection that opened them, so the application
 * gets local handles instead: the low bits index the table, the high bits
 * count every session ever opened, so a handle is never reused (within the
 * counter's range) and a session from a dropped connection cannot alias a
 * new one. Each entry remembers its connection's generation and its message
 * operations' mechanisms (their per-message parameters are laid out by
 * mechanism).
 *
 * Each entry also keeps the last few C_*Init requests that succeeded on
 * the session and at most one deferred init (docs/client.md, "Deferred
 * initialisation"): an init whose request equals a remembered one, while
 * nothing that could change its outcome happened since (the epoch), is
 * sent in front of the session's next request instead of on its own.
 */
#include "client/client.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define IDX_BITS 20
#define IDX_MASK ((1UL << IDX_BITS) - 1)
#define TABLE_MAX (IDX_MASK - 1)

/* The kinds of operation a deferred init may start. */
#define NKINDS 5

static int kind_of(uint16_t init_fn)
{
	switch (init_fn) {
	case CF_FN_ENCRYPT_INIT:
		return 0;
	case CF_FN_DECRYPT_INIT:
		return 1;
	case CF_FN_DIGEST_INIT:
		return 2;
	case CF_FN_SIGN_INIT:
		return 3;
	case CF_FN_VERIFY_INIT:
		return 4;
	default:
		return -1;
	}
}

/* A request payload kept by the client: wiped when freed. */
struct kept {
	uint8_t *data; /* NULL: unused */
	size_t len;
	uint16_t fn;
	uint64_t epoch; /* cf_client_epoch() when recorded */
	uint64_t used;	/* LRU clock */
};

struct entry {
	CK_SESSION_HANDLE local; /* 0: free */
	CK_ULONG remote;
	uint64_t gen;
	CK_SLOT_ID slot;
	CK_MECHANISM_TYPE msg_mech[CF_MSG_NOPS];
	bool msg_active[CF_MSG_NOPS];
	struct kept cache[CF_CLIENT_INIT_CACHE];
	struct kept deferred;
	bool idle[NKINDS]; /* operation known to have ended, by kind */
};

/* Bumped by every call that may change what an init would answer (the
 * list is in client.h); an entry recorded under an older epoch is stale. */
static uint64_t epoch = 1;

static struct {
	pthread_mutex_t lock;
	struct entry *v;
	size_t cap;
	size_t hint; /* where to start looking for a free entry */
	CK_ULONG serial;
	uint64_t lru; /* clock of the init caches */
} tab = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

uint64_t cf_client_epoch(void)
{
	return __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);
}

void cf_client_epoch_bump(void)
{
	__atomic_add_fetch(&epoch, 1, __ATOMIC_ACQ_REL);
}

static void kept_free(struct kept *k)
{
	if (k->data != NULL) {
		OPENSSL_cleanse(k->data, k->len);
		free(k->data);
	}
	memset(k, 0, sizeof(*k));
}

static void entry_free(struct entry *e)
{
	for (size_t i = 0; i < CF_CLIENT_INIT_CACHE; i++)
		kept_free(&e->cache[i]);
	kept_free(&e->deferred);
	memset(e, 0, sizeof(*e));
}

static struct entry *find_locked(CK_SESSION_HANDLE s)
{
	CK_ULONG idx = (s & IDX_MASK);

	if (idx == 0 || idx > tab.cap)
		return NULL;
	if (tab.v[idx - 1].local != s)
		return NULL;
	return &tab.v[idx - 1];
}

static struct entry *alloc_locked(size_t *idx_out)
{
	size_t i, ncap;
	struct entry *grown;

	for (i = 0; i < tab.cap; i++) {
		size_t j = (tab.hint + i) % tab.cap;

		if (tab.v[j].local == 0) {
			*idx_out = j;
			tab.hint = j + 1;
			return &tab.v[j];
		}
	}
	if (tab.cap >= TABLE_MAX)
		return NULL;
	ncap = tab.cap == 0 ? 64 : tab.cap * 2;
	if (ncap > TABLE_MAX)
		ncap = TABLE_MAX;
	grown = realloc(tab.v, ncap * sizeof(*grown));
	if (grown == NULL)
		return NULL;
	memset(grown + tab.cap, 0, (ncap - tab.cap) * sizeof(*grown));
	tab.v = grown;
	*idx_out = tab.cap;
	tab.hint = tab.cap + 1;
	tab.cap = ncap;
	return &tab.v[*idx_out];
}

CK_RV cf_client_session_add(struct cf_client_call *c, CK_SLOT_ID slot,
			    CK_ULONG remote, CK_SESSION_HANDLE *out)
{
	struct entry *e;
	size_t idx = 0;

	pthread_mutex_lock(&tab.lock);
	e = alloc_locked(&idx);
	if (e == NULL) {
		pthread_mutex_unlock(&tab.lock);
		/* The server keeps the session until the connection closes;
		 * the application cannot name it, which is harmless. */
		return CKR_HOST_MEMORY;
	}
	tab.serial++;
	memset(e, 0, sizeof(*e));
	e->local =
	    (CK_SESSION_HANDLE)((tab.serial << IDX_BITS) | (CK_ULONG)(idx + 1));
	e->remote = remote;
	e->gen = c->used_gen;
	e->slot = slot;
	*out = e->local;
	pthread_mutex_unlock(&tab.lock);
	return CKR_OK;
}

CK_RV cf_client_session_get(CK_SESSION_HANDLE s, int msg, CK_ULONG *remote,
			    uint64_t *gen, CK_MECHANISM_TYPE *mech,
			    bool *active)
{
	struct entry *e;
	CK_RV rv = CKR_SESSION_HANDLE_INVALID;

	pthread_mutex_lock(&tab.lock);
	e = find_locked(s);
	if (e != NULL) {
		*remote = e->remote;
		*gen = e->gen;
		if (msg >= 0 && msg < CF_MSG_NOPS) {
			*mech = e->msg_mech[msg];
			*active = e->msg_active[msg];
		}
		rv = CKR_OK;
	}
	pthread_mutex_unlock(&tab.lock);
	return rv;
}

void cf_client_session_remove(CK_SESSION_HANDLE s)
{
	struct entry *e;

	pthread_mutex_lock(&tab.lock);
	e = find_locked(s);
	if (e != NULL)
		entry_free(e);
	pthread_mutex_unlock(&tab.lock);
}

void cf_client_session_remove_slot(CK_SLOT_ID slot)
{
	pthread_mutex_lock(&tab.lock);
	for (size_t i = 0; i < tab.cap; i++)
		if (tab.v[i].local != 0 && tab.v[i].slot == slot)
			entry_free(&tab.v[i]);
	pthread_mutex_unlock(&tab.lock);
}

void cf_client_session_msg(CK_SESSION_HANDLE s, int msg, CK_MECHANISM_TYPE mech,
			   bool active)
{
	struct entry *e;

	if (msg < 0 || msg >= CF_MSG_NOPS)
		return;
	pthread_mutex_lock(&tab.lock);
	e = find_locked(s);
	if (e != NULL) {
		e->msg_mech[msg] = mech;
		e->msg_active[msg] = active;
	}
	pthread_mutex_unlock(&tab.lock);
}

void cf_client_session_cancel(CK_SESSION_HANDLE s, CK_FLAGS flags)
{
	static const CK_FLAGS op_flag[CF_MSG_NOPS] = {
	    [CF_MSG_ENCRYPT] = CKF_MESSAGE_ENCRYPT,
	    [CF_MSG_DECRYPT] = CKF_MESSAGE_DECRYPT,
	    [CF_MSG_SIGN] = CKF_MESSAGE_SIGN,
	    [CF_MSG_VERIFY] = CKF_MESSAGE_VERIFY,
	};

	for (int i = 0; i < CF_MSG_NOPS; i++)
		if (flags & op_flag[i])
			cf_client_session_msg(s, i, 0, false);
}

/* ---- deferred initialisation ------------------------------------------ */

static bool kept_set(struct kept *k, uint16_t fn, const uint8_t *p, size_t len)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);

	if (copy == NULL)
		return false;
	memcpy(copy, p, len);
	kept_free(k);
	k->data = copy;
	k->len = len;
	k->fn = fn;
	return true;
}

bool cf_client_session_defer(CK_SESSION_HANDLE s, uint16_t fn,
			     const uint8_t *p, size_t len)
{
	struct entry *e;
	bool deferred = false;
	uint64_t now = cf_client_epoch();
	int kind = kind_of(fn);

	if (kind < 0)
		return false;
	pthread_mutex_lock(&tab.lock);
	e = find_locked(s);
	if (e == NULL)
		goto out_unlock;
	if (e->deferred.data != NULL || !e->idle[kind])
		goto out_busy;
	for (size_t i = 0; i < CF_CLIENT_INIT_CACHE; i++) {
		struct kept *k = &e->cache[i];

		if (k->data == NULL || k->fn != fn || k->len != len ||
		    k->epoch != now || memcmp(k->data, p, len) != 0)
			continue;
		if (!kept_set(&e->deferred, fn, p, len))
			break;
		k->used = ++tab.lru;
		deferred = true;
		break;
	}
out_busy:
	/* Sent or deferred, the init may leave an operation running. */
	e->idle[kind] = false;
out_unlock:
	pthread_mutex_unlock(&tab.lock);
	return deferred;
}

void cf_client_session_op_idle(CK_SESSION_HANDLE s, uint16_t init_fn,
			       bool idle)
{
	struct entry *e;
	int kind = kind_of(init_fn);

	if (kind < 0)
		return;
	pthread_mutex_lock(&tab.lock);
	e = find_locked(s);
	if (e != NULL)
		e->idle[kind] = idle;
	pthread_mutex_unlock(&tab.lock);
}

void cf_client_session_record(CK_SESSION_HANDLE s, uint16_t fn,
			      const uint8_t *p, size_t len, uint64_t at)
{
	struct entry *e;
	struct kept *victim = NULL;

	pthread_mutex_lock(&tab.lock);
	e = find_locked(s);
	if (e == NULL)
		goto out_unlock;
	for (size_t i = 0; i < CF_CLIENT_INIT_CACHE; i++) {
		struct kept *k = &e->cache[i];

		if (k->data != NULL && k->fn == fn && k->len == len &&
		    memcmp(k->data, p, len) == 0) {
			victim = k; /* the same request: refresh it */
			break;
		}
		if (victim == NULL || k->data == NULL ||
		    (victim->data != NULL && k->used < victim->used))
			victim = k;
	}
	if (!kept_set(victim, fn, p, len))
		goto out_unlock;
	victim->epoch = at;
	victim->used = ++tab.lru;
out_unlock:
	pthread_mutex_unlock(&tab.lock);
}

bool cf_client_session_take_deferred(CK_SESSION_HANDLE s, uint16_t *fn,
				     uint8_t **p, size_t *len)
{
	struct entry *e;
	bool taken = false;

	pthread_mutex_lock(&tab.lock);
	e = find_locked(s);
	if (e != NULL && e->deferred.data != NULL) {
		*fn = e->deferred.fn;
		*p = e->deferred.data;
		*len = e->deferred.len;
		memset(&e->deferred, 0, sizeof(e->deferred)); /* transferred */
		taken = true;
	}
	pthread_mutex_unlock(&tab.lock);
	return taken;
}

void cf_client_session_put_deferred(CK_SESSION_HANDLE s, uint16_t fn,
				    uint8_t *p, size_t len)
{
	struct entry *e;

	pthread_mutex_lock(&tab.lock);
	e = find_locked(s);
	if (e != NULL && e->deferred.data == NULL) {
		e->deferred.data = p;
		e->deferred.len = len;
		e->deferred.fn = fn;
		p = NULL;
	}
	pthread_mutex_unlock(&tab.lock);
	if (p != NULL) {
		OPENSSL_cleanse(p, len);
		free(p);
	}
}

void cf_client_sessions_clear(void)
{
	pthread_mutex_lock(&tab.lock);
	for (size_t i = 0; i < tab.cap; i++)
		entry_free(&tab.v[i]);
	free(tab.v);
	tab.v = NULL;
	tab.cap = 0;
	tab.hint = 0;
	/* serial keeps counting: handles from before C_Finalize must not
	 * name sessions opened after the next C_Initialize. */
	pthread_mutex_unlock(&tab.lock);
}

void cf_client_sessions_reset(void)
{
	pthread_mutex_init(&tab.lock, NULL);
	cf_client_sessions_clear();
}
