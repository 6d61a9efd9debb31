/*
 * session.c - the session table: handles, reference counts, the per-token
 * session counters and the session state of section 5.6 (PKCS#11 v3.0
 * base, "Session states").
 */
#include "token/core.h"

#include <stdlib.h>

void cf_find_clear(struct cf_find *f)
{
	free(f->handles);
	f->handles = NULL;
	f->n = f->pos = 0;
	f->active = false;
}

static void session_free(struct cf_session *s)
{
	cf_find_clear(&s->find);
	cf_op_end_all(s);
	cf_mutex_free(s->lock);
	free(s);
}

CK_RV cf_session_open(struct cf_token *t, CK_FLAGS flags,
		      CK_SESSION_HANDLE *out)
{
	struct cf_session *s;
	CK_RV rv;

	*out = CK_INVALID_HANDLE;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return CKR_HOST_MEMORY;
	rv = cf_mutex_new(&s->lock);
	if (rv != CKR_OK) {
		free(s);
		return rv;
	}
	s->token = t;
	s->flags = flags;
	s->refs = 1; /* the table's */

	cf_mutex_lock(cf_lib->lock);
	cf_mutex_lock(t->lock);
	if (t->sessions >= cf_lib->conf.max_sessions) {
		rv = CKR_SESSION_COUNT;
	} else if (!(flags & CKF_RW_SESSION) && t->login == CKU_SO) {
		rv = CKR_SESSION_READ_WRITE_SO_EXISTS;
	} else {
		s->handle = cf_lib->next_session++;
		if (cf_map_put(&cf_lib->sessions, s->handle, s) != 0) {
			rv = CKR_HOST_MEMORY;
		} else {
			t->sessions++;
			if (flags & CKF_RW_SESSION)
				t->rw_sessions++;
			*out = s->handle;
		}
	}
	cf_mutex_unlock(t->lock);
	cf_mutex_unlock(cf_lib->lock);
	if (rv != CKR_OK)
		session_free(s);
	return rv;
}

CK_RV cf_session_get(CK_SESSION_HANDLE h, struct cf_session **out)
{
	struct cf_session *s;

	*out = NULL;
	cf_mutex_lock(cf_lib->lock);
	s = cf_map_get(&cf_lib->sessions, h);
	if (s != NULL)
		s->refs++;
	cf_mutex_unlock(cf_lib->lock);
	if (s == NULL)
		return CKR_SESSION_HANDLE_INVALID;
	*out = s;
	return CKR_OK;
}

void cf_session_put(struct cf_session *s)
{
	bool last;

	if (s == NULL)
		return;
	cf_mutex_lock(cf_lib->lock);
	last = --s->refs == 0;
	cf_mutex_unlock(cf_lib->lock);
	if (last)
		session_free(s);
}

/* Under the library lock: unlinks s, updates its token (dropping its
 * session objects, and the login with the last session) and drops the
 * table's reference. Returns true when s must be freed. */
static bool unlink_locked(struct cf_session *s)
{
	struct cf_token *t = s->token;

	cf_map_remove(&cf_lib->sessions, s->handle);
	s->closed = true;
	cf_mutex_lock(t->lock);
	t->sessions--;
	if (s->flags & CKF_RW_SESSION)
		t->rw_sessions--;
	cf_objects_drop_session_locked(t, s->handle);
	/* The login belongs to the application's sessions: it ends with the
	 * last of them (section 5.6). */
	if (t->sessions == 0)
		cf_token_logout_locked(t);
	cf_mutex_unlock(t->lock);
	return --s->refs == 0;
}

CK_RV cf_session_close(CK_SESSION_HANDLE h)
{
	struct cf_session *s;
	bool dead = false;

	cf_mutex_lock(cf_lib->lock);
	s = cf_map_get(&cf_lib->sessions, h);
	if (s != NULL)
		dead = unlink_locked(s);
	cf_mutex_unlock(cf_lib->lock);
	if (s == NULL)
		return CKR_SESSION_HANDLE_INVALID;
	if (dead)
		session_free(s);
	return CKR_OK;
}

CK_RV cf_session_close_all(struct cf_token *t)
{
	struct cf_map *m = &cf_lib->sessions;
	bool again = true;

	cf_mutex_lock(cf_lib->lock);
	while (again) {
		again = false;
		for (size_t i = 0; i < m->cap; i++) {
			struct cf_session *s = m->slots[i].val;
			if (m->slots[i].key == 0 || s->token != t)
				continue;
			if (unlink_locked(s))
				session_free(s);
			again = true;
			break;
		}
	}
	cf_mutex_unlock(cf_lib->lock);
	return CKR_OK;
}

bool cf_session_rw(const struct cf_session *s)
{
	return (s->flags & CKF_RW_SESSION) != 0;
}

CK_STATE cf_session_state(struct cf_session *s)
{
	CK_USER_TYPE login;
	bool rw = cf_session_rw(s);

	cf_mutex_lock(s->token->lock);
	login = s->token->login;
	cf_mutex_unlock(s->token->lock);
	if (login == CKU_SO)
		return CKS_RW_SO_FUNCTIONS;
	if (login == CKU_USER)
		return rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
	return rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
}

CK_RV cf_session_may_write(const struct cf_session *s,
			   const struct cf_object *o)
{
	if (o->token && !cf_session_rw(s))
		return CKR_SESSION_READ_ONLY;
	if (o->priv && s->token->login != CKU_USER)
		return CKR_USER_NOT_LOGGED_IN;
	return CKR_OK;
}

CK_RV cf_session_enter(CK_SESSION_HANDLE h, struct cf_session **s)
{
	CK_RV rv = cf_library_ready();

	*s = NULL;
	if (rv != CKR_OK)
		return rv;
	rv = cf_session_get(h, s);
	if (rv != CKR_OK)
		return rv;
	cf_mutex_lock((*s)->token->lock);
	rv = cf_token_sync_locked((*s)->token);
	if (rv != CKR_OK) {
		cf_mutex_unlock((*s)->token->lock);
		cf_session_put(*s);
		*s = NULL;
	}
	return rv;
}

void cf_session_leave(struct cf_session *s)
{
	cf_mutex_unlock(s->token->lock);
	cf_session_put(s);
}

bool cf_tmpl_ok(const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	return tmpl != NULL || n == 0;
}
