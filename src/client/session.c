/*
 * session.c - the application's session handles. The server's handles are
 * only meaningful on the connection that opened them, so the application
 * gets local handles instead: the low bits index the table, the high bits
 * count every session ever opened, so a handle is never reused (within the
 * counter's range) and a session from a dropped connection cannot alias a
 * new one. Each entry remembers its connection's generation and its message
 * operations' mechanisms (their per-message parameters are laid out by
 * mechanism).
 */
#include "client/client.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define IDX_BITS 20
#define IDX_MASK ((1UL << IDX_BITS) - 1)
#define TABLE_MAX (IDX_MASK - 1)

struct entry {
	CK_SESSION_HANDLE local; /* 0: free */
	CK_ULONG remote;
	uint64_t gen;
	CK_SLOT_ID slot;
	CK_MECHANISM_TYPE msg_mech[CF_MSG_NOPS];
	bool msg_active[CF_MSG_NOPS];
};

static struct {
	pthread_mutex_t lock;
	struct entry *v;
	size_t cap;
	size_t hint; /* where to start looking for a free entry */
	CK_ULONG serial;
} tab = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

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
	e->local = (CK_SESSION_HANDLE)((tab.serial << IDX_BITS) |
				       (CK_ULONG)(idx + 1));
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
		memset(e, 0, sizeof(*e));
	pthread_mutex_unlock(&tab.lock);
}

void cf_client_session_remove_slot(CK_SLOT_ID slot)
{
	pthread_mutex_lock(&tab.lock);
	for (size_t i = 0; i < tab.cap; i++)
		if (tab.v[i].local != 0 && tab.v[i].slot == slot)
			memset(&tab.v[i], 0, sizeof(tab.v[i]));
	pthread_mutex_unlock(&tab.lock);
}

void cf_client_session_msg(CK_SESSION_HANDLE s, int msg,
			   CK_MECHANISM_TYPE mech, bool active)
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

void cf_client_sessions_clear(void)
{
	pthread_mutex_lock(&tab.lock);
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
