/*
 * session_api.c - session management entry points (PKCS#11 v3.0 base,
 * section 5.6): open, close, info, login and logout.
 */
#include "token/core.h"
#include "token/api.h"

#include <string.h>

#define PIN_MAX_INPUT 4096 /* longer inputs are refused before any KDF */

/* 5.6.1 */
CF_EXPORT CK_RV C_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags,
			      CK_VOID_PTR app, CK_NOTIFY notify,
			      CK_SESSION_HANDLE_PTR ph)
{
	struct cf_token *t;
	CK_RV rv = cf_library_ready();

	(void)app;
	(void)notify; /* coffer never calls back: no surrender events */
	if (rv != CKR_OK)
		return rv;
	if (ph == NULL)
		return CKR_ARGUMENTS_BAD;
	rv = cf_library_token(slot, &t);
	if (rv != CKR_OK)
		return rv;
	if (!(flags & CKF_SERIAL_SESSION))
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	if (!t->initialized)
		return CKR_TOKEN_NOT_RECOGNIZED;
	return cf_session_open(t, flags & (CKF_RW_SESSION | CKF_SERIAL_SESSION),
			       ph);
}

/* 5.6.2 */
CF_EXPORT CK_RV C_CloseSession(CK_SESSION_HANDLE h)
{
	CK_RV rv = cf_library_ready();
	if (rv != CKR_OK)
		return rv;
	return cf_session_close(h);
}

/* 5.6.3 */
CF_EXPORT CK_RV C_CloseAllSessions(CK_SLOT_ID slot)
{
	struct cf_token *t;
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	rv = cf_library_token(slot, &t);
	if (rv != CKR_OK)
		return rv;
	return cf_session_close_all(t);
}

/* 5.6.4 */
CF_EXPORT CK_RV C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info)
{
	struct cf_session *s;
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	rv = cf_session_get(h, &s);
	if (rv != CKR_OK)
		return rv;
	if (info == NULL) {
		rv = CKR_ARGUMENTS_BAD;
	} else {
		memset(info, 0, sizeof(*info));
		info->slotID = s->token->slot_id;
		info->flags = s->flags;
		info->state = cf_session_state(s);
		info->ulDeviceError = 0;
	}
	cf_session_put(s);
	return rv;
}

/* True when the token has an R/O session open (token lock inside). */
static bool has_ro_session(struct cf_token *t)
{
	bool ro;
	cf_mutex_lock(t->lock);
	ro = t->sessions > t->rw_sessions;
	cf_mutex_unlock(t->lock);
	return ro;
}

static CK_RV login(CK_SESSION_HANDLE h, CK_USER_TYPE who, CK_UTF8CHAR_PTR pin,
		   CK_ULONG len)
{
	struct cf_session *s;
	struct cf_token *t;
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	rv = cf_session_get(h, &s);
	if (rv != CKR_OK)
		return rv;
	t = s->token;
	if (who != CKU_SO && who != CKU_USER && who != CKU_CONTEXT_SPECIFIC) {
		rv = CKR_USER_TYPE_INVALID;
		goto out_put;
	}
	if ((pin == NULL && len > 0) || len > PIN_MAX_INPUT) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_put;
	}
	if (who == CKU_SO && has_ro_session(t)) {
		rv = CKR_SESSION_READ_ONLY_EXISTS;
		goto out_put;
	}
	cf_mutex_lock(t->lock);
	rv = cf_token_sync_locked(t);
	if (rv != CKR_OK)
		goto out_unlock;
	if (who == CKU_CONTEXT_SPECIFIC) {
		/* Only an operation on a CKA_ALWAYS_AUTHENTICATE key asks for
		 * this (v3.0 5.6.9). */
		if (t->login != CKU_USER)
			rv = CKR_USER_NOT_LOGGED_IN;
		else if (!cf_op_context_login_due(s))
			rv = CKR_OPERATION_NOT_INITIALIZED;
		else
			rv = cf_login_context_locked(t, &cf_lib->conf, pin,
						     len);
		if (rv == CKR_OK)
			cf_op_context_login_done(s);
		goto out_unlock;
	}
	if (t->login == who) {
		rv = CKR_USER_ALREADY_LOGGED_IN;
		goto out_unlock;
	}
	if (t->login != CF_NOT_LOGGED_IN) {
		rv = CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
		goto out_unlock;
	}
	if (who == CKU_USER && !t->user_pin_set) {
		rv = CKR_USER_PIN_NOT_INITIALIZED;
		goto out_unlock;
	}
	rv = cf_login_locked(t, &cf_lib->conf, who, pin, len);
out_unlock:
	cf_mutex_unlock(t->lock);
out_put:
	cf_session_put(s);
	return rv;
}

/* 5.6.9 */
CF_EXPORT CK_RV C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE who,
			CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	return login(h, who, pin, len);
}

/* 5.6.10: coffer has no named users; a username, when given, is refused
 * as the spec allows for tokens without them. */
CF_EXPORT CK_RV C_LoginUser(CK_SESSION_HANDLE h, CK_USER_TYPE who,
			    CK_UTF8CHAR_PTR pin, CK_ULONG len,
			    CK_UTF8CHAR_PTR user, CK_ULONG user_len)
{
	if (user != NULL && user_len > 0) {
		CK_RV rv = cf_library_ready();
		return rv != CKR_OK ? rv : CKR_ARGUMENTS_BAD;
	}
	return login(h, who, pin, len);
}

/* Operations hold keys (OpenSSL key objects, key schedules): none may
 * outlive the login that allowed them (v3.0 5.6.11 lets a token end them).
 * Library and token locks held. */
static void end_operations_locked(struct cf_token *t)
{
	struct cf_map *m = &cf_lib->sessions;

	for (size_t i = 0; i < m->cap; i++) {
		struct cf_session *s = m->slots[i].val;

		if (m->slots[i].key == 0 || s->token != t)
			continue;
		cf_mutex_lock(s->lock);
		cf_op_end_all(s);
		cf_mutex_unlock(s->lock);
	}
}

/* 5.6.11 */
CF_EXPORT CK_RV C_Logout(CK_SESSION_HANDLE h)
{
	struct cf_session *s;
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	rv = cf_session_get(h, &s);
	if (rv != CKR_OK)
		return rv;
	cf_mutex_lock(cf_lib->lock);
	cf_mutex_lock(s->token->lock);
	if (s->token->login == CF_NOT_LOGGED_IN) {
		rv = CKR_USER_NOT_LOGGED_IN;
	} else {
		cf_token_logout_locked(s->token);
		end_operations_locked(s->token);
	}
	cf_mutex_unlock(s->token->lock);
	cf_mutex_unlock(cf_lib->lock);
	cf_session_put(s);
	return rv;
}
