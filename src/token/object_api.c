/*
 * object_api.c - object management entry points (PKCS#11 v3.0 base,
 * section 5.7): create, copy, destroy, size, attributes and find.
 */
#include "token/core.h"

#include <stdlib.h>
#include <string.h>

#include "token/rules.h"

/* An imported public or private key must make a key: one that does not
 * is refused now rather than failing at its first use. Building it also
 * fills the object's OpenSSL key cache. */
static CK_RV key_material_ok(const struct cf_object *o)
{
	struct cf_key k;
	CK_RV rv;

	if ((o->cls != CKO_PUBLIC_KEY && o->cls != CKO_PRIVATE_KEY) ||
	    cf_keytype_find(o->key_type) == NULL)
		return CKR_OK;
	rv = cf_key_from_object(o, &k);
	if (rv == CKR_GENERAL_ERROR || rv == CKR_KEY_TYPE_INCONSISTENT)
		rv = CKR_ATTRIBUTE_VALUE_INVALID;
	return rv;
}

/* 5.7.1 */
CF_EXPORT CK_RV C_CreateObject(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl,
			       CK_ULONG n, CK_OBJECT_HANDLE_PTR out)
{
	struct cf_session *s;
	struct cf_object *o = NULL;
	CK_RV rv;

	if (out != NULL)
		*out = CK_INVALID_HANDLE;
	rv = cf_session_enter(h, &s);
	if (rv != CKR_OK)
		return rv;
	if (out == NULL || !cf_tmpl_ok(tmpl, n)) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_leave;
	}
	rv = cf_rules_new_object(CF_ORIGIN_CREATE, CK_UNAVAILABLE_INFORMATION,
				 CK_UNAVAILABLE_INFORMATION, tmpl, n,
				 s->token->login == CKU_SO, &o);
	if (rv != CKR_OK)
		goto out_leave;
	rv = cf_session_may_write(s, o);
	if (rv == CKR_OK)
		rv = key_material_ok(o);
	if (rv == CKR_OK)
		rv = cf_objects_add_locked(s->token, o, s->handle);
	if (rv == CKR_OK)
		*out = o->handle;
	cf_object_unref(o);
out_leave:
	cf_session_leave(s);
	return rv;
}

/* 5.7.2 */
CF_EXPORT CK_RV C_CopyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE src,
			     CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
			     CK_OBJECT_HANDLE_PTR out)
{
	struct cf_session *s;
	struct cf_object *o = NULL, *copy = NULL;
	CK_RV rv;

	if (out != NULL)
		*out = CK_INVALID_HANDLE;
	rv = cf_session_enter(h, &s);
	if (rv != CKR_OK)
		return rv;
	if (out == NULL || !cf_tmpl_ok(tmpl, n)) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_leave;
	}
	rv = cf_objects_get_locked(s->token, src, &o);
	if (rv != CKR_OK)
		goto out_leave;
	rv = cf_rules_copy_object(o, tmpl, n, s->token->login == CKU_SO,
				  &copy);
	if (rv == CKR_OK)
		rv = cf_session_may_write(s, copy);
	if (rv == CKR_OK)
		rv = cf_objects_add_locked(s->token, copy, s->handle);
	if (rv == CKR_OK)
		*out = copy->handle;
	cf_object_unref(copy);
	cf_object_unref(o);
out_leave:
	cf_session_leave(s);
	return rv;
}

/* 5.7.3 */
CF_EXPORT CK_RV C_DestroyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE oh)
{
	struct cf_session *s;
	struct cf_object *o = NULL;
	CK_RV rv;

	rv = cf_session_enter(h, &s);
	if (rv != CKR_OK)
		return rv;
	rv = cf_objects_get_locked(s->token, oh, &o);
	if (rv != CKR_OK)
		goto out_leave;
	if (o->token && !cf_session_rw(s))
		rv = CKR_SESSION_READ_ONLY;
	else if (!cf_object_bool(o, CKA_DESTROYABLE, true))
		rv = CKR_ACTION_PROHIBITED;
	else
		rv = cf_objects_destroy_locked(s->token, o);
	cf_object_unref(o);
out_leave:
	cf_session_leave(s);
	return rv;
}

/* 5.7.4 */
CF_EXPORT CK_RV C_GetObjectSize(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE oh,
				CK_ULONG_PTR size)
{
	struct cf_session *s;
	struct cf_object *o = NULL;
	CK_RV rv;

	rv = cf_session_enter(h, &s);
	if (rv != CKR_OK)
		return rv;
	if (size == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_leave;
	}
	rv = cf_objects_get_locked(s->token, oh, &o);
	if (rv == CKR_OK)
		*size = cf_object_size(o);
	cf_object_unref(o);
out_leave:
	cf_session_leave(s);
	return rv;
}

/* Fills one entry; returns the entry's own result. */
static CK_RV get_one(const struct cf_object *o, CK_ATTRIBUTE *a)
{
	const struct cf_attr *v = cf_object_attr(o, a->type);

	if (v == NULL) {
		a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		/* Key material not unsealed (no login yet) is there, just
		 * not revealable now. */
		return cf_rules_attr_is_secret(o->cls, a->type)
			       ? CKR_ATTRIBUTE_SENSITIVE
			       : CKR_ATTRIBUTE_TYPE_INVALID;
	}
	if (cf_rules_attr_hidden(o, a->type)) {
		a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_ATTRIBUTE_SENSITIVE;
	}
	return cf_attr_export(v, a);
}

/* 5.7.5: every entry is processed; the first problem is reported. */
CF_EXPORT CK_RV C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE oh,
				    CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	struct cf_session *s;
	struct cf_object *o = NULL;
	CK_RV rv;

	rv = cf_session_enter(h, &s);
	if (rv != CKR_OK)
		return rv;
	if (tmpl == NULL && n > 0) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_leave;
	}
	rv = cf_objects_get_locked(s->token, oh, &o);
	if (rv != CKR_OK)
		goto out_leave;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_RV one = get_one(o, &tmpl[i]);
		if (one != CKR_OK && rv == CKR_OK)
			rv = one;
	}
	cf_object_unref(o);
out_leave:
	cf_session_leave(s);
	return rv;
}

/* 5.7.6 */
CF_EXPORT CK_RV C_SetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE oh,
				    CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	struct cf_session *s;
	struct cf_object *o = NULL, *changed = NULL;
	CK_RV rv;

	rv = cf_session_enter(h, &s);
	if (rv != CKR_OK)
		return rv;
	if (!cf_tmpl_ok(tmpl, n)) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_leave;
	}
	rv = cf_objects_get_locked(s->token, oh, &o);
	if (rv != CKR_OK)
		goto out_leave;
	rv = cf_session_may_write(s, o);
	if (rv == CKR_OK)
		rv = cf_rules_check_change(o, tmpl, n, false,
					   s->token->login == CKU_SO);
	/* Change a copy, so a failed write leaves the object as it was. */
	if (rv == CKR_OK)
		rv = cf_object_dup(o, &changed);
	if (rv == CKR_OK)
		rv = cf_rules_apply_change(changed, tmpl, n);
	if (rv == CKR_OK) {
		changed->id = o->id;
		changed->handle = o->handle;
		changed->owner = o->owner;
		rv = cf_objects_replace_locked(s->token, changed);
	}
	cf_object_unref(changed);
	cf_object_unref(o);
out_leave:
	cf_session_leave(s);
	return rv;
}

/* 5.7.7: the matching handles are collected at once, so objects created
 * or destroyed during the search do not disturb it. */
CF_EXPORT CK_RV C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl,
				  CK_ULONG n)
{
	struct cf_session *s;
	CK_OBJECT_HANDLE *found = NULL;
	size_t count = 0;
	CK_RV rv;

	rv = cf_session_enter(h, &s);
	if (rv != CKR_OK)
		return rv;
	if (!cf_tmpl_ok(tmpl, n)) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_leave;
	}
	cf_mutex_lock(s->lock);
	if (s->find.active) {
		rv = CKR_OPERATION_ACTIVE;
	} else {
		rv = cf_objects_find_locked(s->token, tmpl, n, &found, &count);
		if (rv == CKR_OK) {
			s->find.handles = found;
			s->find.n = count;
			s->find.gen = s->token->objects_gen;
			s->find.pos = 0;
			s->find.active = true;
		}
	}
	cf_mutex_unlock(s->lock);
out_leave:
	cf_session_leave(s);
	return rv;
}

/* 5.7.8: objects destroyed since C_FindObjectsInit are skipped. */
CF_EXPORT CK_RV C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR out,
			      CK_ULONG max, CK_ULONG_PTR count)
{
	struct cf_session *s;
	CK_RV rv;

	rv = cf_session_enter(h, &s);
	if (rv != CKR_OK)
		return rv;
	if (count == NULL || (out == NULL && max > 0)) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_leave;
	}
	cf_mutex_lock(s->lock);
	if (!s->find.active) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
	} else {
		CK_ULONG k = 0;
		while (k < max && s->find.pos < s->find.n) {
			CK_OBJECT_HANDLE oh = s->find.handles[s->find.pos++];
			/* Nothing went away since the search: no re-check. */
			if (s->find.gen == s->token->objects_gen ||
			    cf_objects_present_locked(s->token, oh))
				out[k++] = oh;
		}
		*count = k;
	}
	cf_mutex_unlock(s->lock);
out_leave:
	cf_session_leave(s);
	return rv;
}

/* 5.7.9 */
CF_EXPORT CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE h)
{
	struct cf_session *s;
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	rv = cf_session_get(h, &s);
	if (rv != CKR_OK)
		return rv;
	cf_mutex_lock(s->lock);
	if (!s->find.active)
		rv = CKR_OPERATION_NOT_INITIALIZED;
	else
		cf_find_clear(&s->find);
	cf_mutex_unlock(s->lock);
	cf_session_put(s);
	return rv;
}
