/*
 * op.c - a session's cryptographic operations: starting one (mechanism,
 * key, policy), finding the active one, ending them (v3.0 base 5.2 and the
 * sections of each function family).
 *
 * Locks: an init takes the token lock (the key object, its attributes and
 * its cached OpenSSL key are the token's), then the session lock. Every
 * later call takes only the session lock, so the cryptography of one
 * session never waits for another's.
 */
#include "token/core.h"

#include <string.h>

#include "token/policy.h"

static const CK_FLAGS kind_flag[CF_OP_KINDS] = {
    [CF_OP_ENCRYPT] = CKF_ENCRYPT,
    [CF_OP_DECRYPT] = CKF_DECRYPT,
    [CF_OP_DIGEST] = CKF_DIGEST,
    [CF_OP_SIGN] = CKF_SIGN,
    [CF_OP_VERIFY] = CKF_VERIFY,
    [CF_OP_SIGN_RECOVER] = CKF_SIGN_RECOVER,
    [CF_OP_VERIFY_RECOVER] = CKF_VERIFY_RECOVER,
    [CF_OP_MSG_ENCRYPT] = CKF_MESSAGE_ENCRYPT,
    [CF_OP_MSG_DECRYPT] = CKF_MESSAGE_DECRYPT,
};

CK_FLAGS cf_op_flag(enum cf_op_kind kind)
{
	return kind_flag[kind];
}

void cf_op_end(struct cf_op *op)
{
	if (op->mech != NULL && op->mech->ops->free != NULL)
		op->mech->ops->free(op);
	memset(op, 0, sizeof(*op));
}

void cf_op_end_all(struct cf_session *s)
{
	for (size_t i = 0; i < CF_OP_KINDS; i++)
		cf_op_end(&s->ops[i]);
}

bool cf_op_context_login_due(struct cf_session *s)
{
	bool due = false;

	cf_mutex_lock(s->lock);
	for (size_t i = 0; i < CF_OP_KINDS; i++)
		if (s->ops[i].mech != NULL && s->ops[i].need_login)
			due = true;
	cf_mutex_unlock(s->lock);
	return due;
}

void cf_op_context_login_done(struct cf_session *s)
{
	cf_mutex_lock(s->lock);
	for (size_t i = 0; i < CF_OP_KINDS; i++)
		s->ops[i].need_login = false;
	cf_mutex_unlock(s->lock);
}

CK_RV cf_op_mech(const CK_MECHANISM *m, CK_FLAGS need,
		 const struct cf_mech **out)
{
	const struct cf_mech *mech;

	*out = NULL;
	if (m == NULL)
		return CKR_ARGUMENTS_BAD;
	if (m->pParameter == NULL && m->ulParameterLen > 0)
		return CKR_MECHANISM_PARAM_INVALID;
	mech = cf_mech_find(m->mechanism, cf_lib->conf.legacy_mechanisms);
	if (mech == NULL || (mech->info.flags & need) != need)
		return CKR_MECHANISM_INVALID;
	*out = mech;
	return CKR_OK;
}

CK_RV cf_op_key_locked(struct cf_token *t, CK_OBJECT_HANDLE h,
		       const struct cf_mech *mech, enum cf_use use,
		       struct cf_object **obj, struct cf_key *key)
{
	CK_RV rv;

	*obj = NULL;
	rv = cf_objects_get_locked(t, h, obj);
	if (rv == CKR_OBJECT_HANDLE_INVALID)
		return CKR_KEY_HANDLE_INVALID;
	if (rv != CKR_OK)
		return rv;
	rv = cf_policy_key_use(t, &cf_lib->conf, *obj, mech, use);
	if (rv == CKR_OK)
		rv = cf_key_from_object(*obj, key);
	if (rv != CKR_OK) {
		cf_object_unref(*obj);
		*obj = NULL;
	}
	return rv;
}

static bool op_active(struct cf_session *s, enum cf_op_kind kind)
{
	bool active;

	cf_mutex_lock(s->lock);
	active = s->ops[kind].mech != NULL;
	cf_mutex_unlock(s->lock);
	return active;
}

/* The family's init, under the session lock. key may be NULL (digests). */
static CK_RV op_start(struct cf_session *s, enum cf_op_kind kind,
		      const struct cf_mech *mech, const CK_MECHANISM *m,
		      CK_OBJECT_HANDLE key_h, const struct cf_key *key,
		      bool need_login)
{
	struct cf_op *op = &s->ops[kind];
	CK_RV rv;

	/* Checked again: another thread may have started one meanwhile. */
	if (op->mech != NULL)
		return CKR_OPERATION_ACTIVE;
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->key = key != NULL ? key_h : CK_INVALID_HANDLE;
	rv = mech->ops->init(op, m, key);
	if (rv != CKR_OK) {
		/* The family frees what it set up on failure. */
		memset(op, 0, sizeof(*op));
		return rv;
	}
	op->mech = mech;
	op->need_login = need_login;
	return CKR_OK;
}

/*
 * Under the token lock: the key, checked by the policy. An asymmetric key
 * leaves with its own reference to the cached OpenSSL key, so the family's
 * init (a provider fetch and context set-up in OpenSSL) runs after the
 * token lock is released and two sessions signing with one key do not
 * queue for it. A secret key's value lives in the object, so its init runs
 * here, under the token lock (a key schedule is quick).
 */
static CK_RV op_init_keyed(struct cf_session *s, enum cf_op_kind kind,
			   const struct cf_mech *mech, const CK_MECHANISM *m,
			   CK_OBJECT_HANDLE key_h)
{
	struct cf_token *t = s->token;
	struct cf_object *obj = NULL;
	struct cf_key key;
	EVP_PKEY *pkey = NULL;
	bool need_login = false;
	CK_RV rv = CKR_OK;

	cf_mutex_lock(t->lock);
	/* A session object lives in this process only: no other process's
	 * commit can change it, so the store's change check (file locks, a
	 * read transaction) is not needed to use it. */
	if (key_h < CF_SESSION_OBJECT_BASE)
		rv = cf_token_sync_locked(t);
	if (rv == CKR_OK)
		rv = cf_op_key_locked(t, key_h, mech, cf_policy_use_of(kind),
				      &obj, &key);
	if (rv != CKR_OK)
		goto out_token;
	/* v3.0 4.9: such a key needs the PIN again for every operation. */
	need_login = obj->cls == CKO_PRIVATE_KEY &&
		     cf_object_bool(obj, CKA_ALWAYS_AUTHENTICATE, false);
	if (key.pkey == NULL) {
		cf_mutex_lock(s->lock);
		rv = op_start(s, kind, mech, m, key_h, &key, need_login);
		cf_mutex_unlock(s->lock);
		goto out_token;
	}
	if (EVP_PKEY_up_ref(key.pkey) != 1) {
		rv = CKR_HOST_MEMORY;
		goto out_token;
	}
	pkey = key.pkey;
	key.obj = NULL; /* not to be touched without the token lock */
out_token:
	cf_object_unref(obj);
	cf_mutex_unlock(t->lock);
	if (pkey != NULL) {
		cf_mutex_lock(s->lock);
		rv = op_start(s, kind, mech, m, key_h, &key, need_login);
		cf_mutex_unlock(s->lock);
		EVP_PKEY_free(pkey); /* the family took its own reference */
	}
	return rv;
}

CK_RV cf_op_init(CK_SESSION_HANDLE h, enum cf_op_kind kind,
		 CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key_h)
{
	struct cf_session *s;
	const struct cf_mech *mech = NULL;
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	rv = cf_session_get(h, &s);
	if (rv != CKR_OK)
		return rv;
	if (op_active(s, kind)) {
		rv = CKR_OPERATION_ACTIVE;
		goto out_put;
	}
	rv = cf_op_mech(m, kind_flag[kind], &mech);
	if (rv != CKR_OK)
		goto out_put;
	if (kind == CF_OP_DIGEST) {
		cf_mutex_lock(s->lock);
		rv = op_start(s, kind, mech, m, CK_INVALID_HANDLE, NULL, false);
		cf_mutex_unlock(s->lock);
	} else {
		rv = op_init_keyed(s, kind, mech, m, key_h);
	}
out_put:
	cf_session_put(s);
	return rv;
}

CK_RV cf_op_enter(CK_SESSION_HANDLE h, enum cf_op_kind kind,
		  struct cf_session **s, struct cf_op **op)
{
	CK_RV rv = cf_library_ready();

	*s = NULL;
	*op = NULL;
	if (rv != CKR_OK)
		return rv;
	rv = cf_session_get(h, s);
	if (rv != CKR_OK)
		return rv;
	cf_mutex_lock((*s)->lock);
	*op = &(*s)->ops[kind];
	if ((*op)->mech == NULL) {
		cf_op_leave(*s);
		*s = NULL;
		*op = NULL;
		return CKR_OPERATION_NOT_INITIALIZED;
	}
	return CKR_OK;
}

void cf_op_leave(struct cf_session *s)
{
	cf_mutex_unlock(s->lock);
	cf_session_put(s);
}

void cf_op_settle(struct cf_op *op, CK_RV rv, bool length_query)
{
	if (rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && length_query))
		return;
	cf_op_end(op);
}
