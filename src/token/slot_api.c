/*
 * slot_api.c - slot and token management entry points (PKCS#11 v3.0 base,
 * section 5.5): slots, token info, mechanisms, C_InitToken, C_InitPIN and
 * C_SetPIN.
 */
#include "token/core.h"

#include <string.h>

/* The shim's first step for slot functions: an initialized library and a
 * slot that exists. */
static CK_RV slot_token(CK_SLOT_ID slot, struct cf_token **t)
{
	CK_RV rv = cf_library_ready();

	*t = NULL;
	if (rv != CKR_OK)
		return rv;
	return cf_library_token(slot, t);
}

/* 5.5.2 */
CF_EXPORT CK_RV C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list,
			      CK_ULONG_PTR count)
{
	CK_RV rv = cf_library_ready();
	CK_ULONG n;

	(void)present; /* every slot always holds a token */
	if (rv != CKR_OK)
		return rv;
	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	cf_mutex_lock(cf_lib->lock);
	n = cf_lib->ntokens;
	if (list != NULL) {
		if (*count < n) {
			rv = CKR_BUFFER_TOO_SMALL;
		} else {
			for (size_t i = 0; i < cf_lib->ntokens; i++)
				list[i] = cf_lib->tokens[i]->slot_id;
		}
	}
	*count = n;
	cf_mutex_unlock(cf_lib->lock);
	return rv;
}

/* 5.5.3 */
CF_EXPORT CK_RV C_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
	struct cf_token *t;
	CK_RV rv = slot_token(slot, &t);

	if (rv != CKR_OK)
		return rv;
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof(*info));
	cf_pad(info->slotDescription, sizeof(info->slotDescription),
	       "coffer software slot");
	cf_pad(info->manufacturerID, sizeof(info->manufacturerID),
	       CF_MANUFACTURER);
	info->flags = CKF_TOKEN_PRESENT;
	info->hardwareVersion.major = CF_VERSION_MAJOR;
	info->hardwareVersion.minor = CF_VERSION_MINOR;
	info->firmwareVersion.major = CF_VERSION_MAJOR;
	info->firmwareVersion.minor = CF_VERSION_MINOR;
	return CKR_OK;
}

/* 5.5.4 */
CF_EXPORT CK_RV C_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	struct cf_token *t;
	CK_RV rv = slot_token(slot, &t);

	if (rv != CKR_OK)
		return rv;
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	cf_mutex_lock(t->lock);
	rv = cf_token_sync_locked(t);
	if (rv == CKR_OK)
		cf_token_info_locked(t, &cf_lib->conf, info);
	cf_mutex_unlock(t->lock);
	return rv;
}

/* 5.5.5: slots never change while the library runs. */
CF_EXPORT CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR slot,
				   CK_VOID_PTR reserved)
{
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	if (slot == NULL || reserved != NULL)
		return CKR_ARGUMENTS_BAD;
	if (flags & CKF_DONT_BLOCK)
		return CKR_NO_EVENT;
	/* Blocking would never return: say so instead of hanging. */
	return CKR_FUNCTION_NOT_SUPPORTED;
}

/* 5.5.6: what the registry offers (mech/registry.c), legacy ones only when
 * the config allows them. The same for every slot. */
CF_EXPORT CK_RV C_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
				   CK_ULONG_PTR count)
{
	struct cf_token *t;
	CK_RV rv = slot_token(slot, &t);

	if (rv != CKR_OK)
		return rv;
	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	return cf_mech_list(cf_lib->conf.legacy_mechanisms, list, count)
		       ? CKR_OK
		       : CKR_BUFFER_TOO_SMALL;
}

/* 5.5.7 */
CF_EXPORT CK_RV C_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
				   CK_MECHANISM_INFO_PTR info)
{
	struct cf_token *t;
	const struct cf_mech *mech;
	CK_RV rv = slot_token(slot, &t);

	if (rv != CKR_OK)
		return rv;
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	mech = cf_mech_find(type, cf_lib->conf.legacy_mechanisms);
	if (mech == NULL)
		return CKR_MECHANISM_INVALID;
	*info = mech->info;
	return CKR_OK;
}

static bool pin_len_ok(CK_ULONG len)
{
	return len >= cf_lib->conf.pin_min_len &&
	       len <= cf_lib->conf.pin_max_len;
}

/* 5.5.8 */
CF_EXPORT CK_RV C_InitToken(CK_SLOT_ID slot, CK_UTF8CHAR_PTR pin, CK_ULONG len,
			    CK_UTF8CHAR_PTR label)
{
	struct cf_token *t;
	bool was_free;
	CK_RV rv = slot_token(slot, &t);

	if (rv != CKR_OK)
		return rv;
	/* No protected authentication path: the PIN must be given. */
	if (pin == NULL || label == NULL)
		return CKR_ARGUMENTS_BAD;
	if (!pin_len_ok(len))
		return CKR_PIN_LEN_RANGE;
	cf_mutex_lock(t->lock);
	if (t->sessions > 0) {
		rv = CKR_SESSION_EXISTS;
		goto out_unlock;
	}
	was_free = !t->initialized;
	rv = cf_token_sync_locked(t);
	if (rv == CKR_OK)
		rv = cf_token_init_locked(t, &cf_lib->conf, pin, len, label);
out_unlock:
	cf_mutex_unlock(t->lock);
	if (rv == CKR_OK && was_free)
		rv = cf_library_add_free_slot();
	return rv;
}

/* 5.5.9 */
CF_EXPORT CK_RV C_InitPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR pin,
			  CK_ULONG len)
{
	struct cf_session *s;
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	rv = cf_session_get(h, &s);
	if (rv != CKR_OK)
		return rv;
	/* Only the "R/W SO Functions" state may (section 5.5.9); an R/O
	 * session is never in it. */
	if (cf_session_state(s) != CKS_RW_SO_FUNCTIONS) {
		rv = CKR_USER_NOT_LOGGED_IN;
		goto out_put;
	}
	if (pin == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_put;
	}
	if (!pin_len_ok(len)) {
		rv = CKR_PIN_LEN_RANGE;
		goto out_put;
	}
	cf_mutex_lock(s->token->lock);
	rv = cf_login_init_pin_locked(s->token, &cf_lib->conf, pin, len);
	cf_mutex_unlock(s->token->lock);
out_put:
	cf_session_put(s);
	return rv;
}

/* 5.5.10 */
CF_EXPORT CK_RV C_SetPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR old_pin,
			 CK_ULONG old_len, CK_UTF8CHAR_PTR new_pin,
			 CK_ULONG new_len)
{
	struct cf_session *s;
	struct cf_token *t;
	CK_USER_TYPE who;
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	rv = cf_session_get(h, &s);
	if (rv != CKR_OK)
		return rv;
	t = s->token;
	if (!cf_session_rw(s)) {
		rv = CKR_SESSION_READ_ONLY;
		goto out_put;
	}
	if (old_pin == NULL || new_pin == NULL) {
		rv = CKR_ARGUMENTS_BAD;
		goto out_put;
	}
	if (!pin_len_ok(new_len)) {
		rv = CKR_PIN_LEN_RANGE;
		goto out_put;
	}
	cf_mutex_lock(t->lock);
	/* The SO changes the SO PIN; anyone else changes the user PIN. */
	who = t->login == CKU_SO ? CKU_SO : CKU_USER;
	if (who == CKU_USER && !t->user_pin_set)
		rv = CKR_USER_PIN_NOT_INITIALIZED;
	else
		rv = cf_login_set_pin_locked(t, &cf_lib->conf, who, old_pin,
					     old_len, new_pin, new_len);
	cf_mutex_unlock(t->lock);
out_put:
	cf_session_put(s);
	return rv;
}
