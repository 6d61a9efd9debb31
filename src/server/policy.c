/*
 * policy.c - what cofferd does around each module call: hide the slots the
 * peer may not see, track its sessions (their slot, and the mechanism of a
 * message operation, which the codec needs to decode message parameters),
 * enforce the session limit, and write the audit log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "pkcs11/schema.h"
#include "server/dispatch.h"

struct cf_srv_session {
	CK_SLOT_ID slot;
	CK_MECHANISM_TYPE msg_mech;
};

static bool is_msg_init(uint16_t fn)
{
	return fn == CF_SRV_FN_C_MessageEncryptInit ||
	       fn == CF_SRV_FN_C_MessageDecryptInit ||
	       fn == CF_SRV_FN_C_MessageSignInit ||
	       fn == CF_SRV_FN_C_MessageVerifyInit;
}

/* Calls that use a key the way only its owner should: their audit line
 * names the key by CKA_ID. */
static bool is_key_use(uint16_t fn)
{
	switch (fn) {
	case CF_SRV_FN_C_SignInit:
	case CF_SRV_FN_C_SignRecoverInit:
	case CF_SRV_FN_C_DecryptInit:
	case CF_SRV_FN_C_MessageSignInit:
	case CF_SRV_FN_C_MessageDecryptInit:
	case CF_SRV_FN_C_UnwrapKey:
	case CF_SRV_FN_C_DeriveKey:
	case CF_SRV_FN_C_WrapKey:
		return true;
	default:
		return false;
	}
}

/* Security-relevant calls logged whatever their result. */
static bool is_audited(uint16_t fn)
{
	switch (fn) {
	case CF_SRV_FN_C_Login:
	case CF_SRV_FN_C_LoginUser:
	case CF_SRV_FN_C_Logout:
	case CF_SRV_FN_C_InitToken:
	case CF_SRV_FN_C_InitPIN:
	case CF_SRV_FN_C_SetPIN:
	case CF_SRV_FN_C_GenerateKey:
	case CF_SRV_FN_C_GenerateKeyPair:
	case CF_SRV_FN_C_CreateObject:
	case CF_SRV_FN_C_CopyObject:
	case CF_SRV_FN_C_DestroyObject:
		return true;
	default:
		return is_key_use(fn);
	}
}

/* Results that are part of normal use, not failures worth a line. */
static bool is_benign(uint16_t fn, CK_RV rv)
{
	if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
		return true;
	if (fn == CF_SRV_FN_C_GetAttributeValue &&
	    (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID))
		return true;
	return false;
}

CK_MECHANISM_TYPE cf_srv_msg_mech(struct cf_srv *s, CK_SESSION_HANDLE h)
{
	CK_MECHANISM_TYPE m = 0;
	struct cf_srv_session *ss;

	if (h == 0)
		return 0;
	pthread_mutex_lock(&s->lock);
	ss = cf_map_get(&s->sessions, h);
	if (ss != NULL)
		m = ss->msg_mech;
	pthread_mutex_unlock(&s->lock);
	return m;
}

CK_RV cf_srv_pre(struct cf_srv *s, struct cf_srv_call *c)
{
	CK_RV rv = CKR_OK;

	if (c->has_slot && !cf_srv_slot_allowed(s, c->slot))
		return CKR_SLOT_ID_INVALID;
	if (c->fn == CF_SRV_FN_C_OpenSession) {
		pthread_mutex_lock(&s->lock);
		if (s->max_sessions != 0 &&
		    s->nsessions + s->opening >= s->max_sessions)
			rv = CKR_SESSION_COUNT;
		else
			s->opening++;
		c->reserved = rv == CKR_OK;
		pthread_mutex_unlock(&s->lock);
	}
	return rv;
}

/* Removes every tracked session of slot (C_CloseAllSessions). Caller
 * holds s->lock. */
static void forget_slot_locked(struct cf_srv *s, CK_SLOT_ID slot)
{
	bool again = true;

	/* The map forbids removal while iterating: restart after each. */
	while (again) {
		again = false;
		for (size_t i = 0; i < s->sessions.cap; i++) {
			uint64_t k = s->sessions.slots[i].key;
			struct cf_srv_session *ss = s->sessions.slots[i].val;
			if (k == 0 || ss->slot != slot)
				continue;
			free(cf_map_remove(&s->sessions, k));
			s->nsessions--;
			again = true;
			break;
		}
	}
}

static void track(struct cf_srv *s, const struct cf_srv_call *c, CK_RV rv)
{
	struct cf_srv_session *ss;

	pthread_mutex_lock(&s->lock);
	switch (c->fn) {
	case CF_SRV_FN_C_OpenSession:
		if (c->reserved)
			s->opening--;
		if (rv != CKR_OK || c->nout == 0 || c->out[0] == 0)
			break;
		ss = calloc(1, sizeof(*ss));
		if (ss == NULL)
			break; /* untracked: only its message calls suffer */
		ss->slot = c->slot;
		free(cf_map_get(&s->sessions, c->out[0]));
		if (cf_map_get(&s->sessions, c->out[0]) == NULL)
			s->nsessions++;
		if (cf_map_put(&s->sessions, c->out[0], ss) != 0) {
			free(ss);
			s->nsessions--;
		}
		break;
	case CF_SRV_FN_C_CloseSession:
		if (rv == CKR_OK || rv == CKR_SESSION_HANDLE_INVALID) {
			ss = cf_map_remove(&s->sessions, c->session);
			if (ss != NULL) {
				free(ss);
				s->nsessions--;
			}
		}
		break;
	case CF_SRV_FN_C_CloseAllSessions:
		if (rv == CKR_OK)
			forget_slot_locked(s, c->slot);
		break;
	case CF_SRV_FN_C_DestroyObject:
		if (rv == CKR_OK && c->has_key)
			free(cf_map_remove(&s->keyids, c->key));
		break;
	default:
		if (is_msg_init(c->fn) && rv == CKR_OK && c->has_mech) {
			ss = cf_map_get(&s->sessions, c->session);
			if (ss != NULL)
				ss->msg_mech = c->mech;
		}
		break;
	}
	pthread_mutex_unlock(&s->lock);
}

/* "class=CKO_PRIVATE_KEY id=0a1b", looked up once per handle and cached:
 * the lookup is a module call, and the same key signs many times. */
static void key_desc(struct cf_srv *s, const struct cf_srv_call *c,
		     char *out, size_t outlen)
{
	CK_OBJECT_CLASS cls = (CK_OBJECT_CLASS)-1;
	uint8_t id[64];
	CK_ATTRIBUTE t[2] = {{CKA_CLASS, &cls, sizeof(cls)},
			     {CKA_ID, id, sizeof(id)}};
	char *cached, *d;
	size_t off;
	const char *cn;

	snprintf(out, outlen, "key=%lu", (unsigned long)c->key);
	if (!c->has_key || c->key == 0 || !c->has_session ||
	    s->fl->C_GetAttributeValue == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	cached = cf_map_get(&s->keyids, c->key);
	if (cached != NULL)
		snprintf(out, outlen, "%s", cached);
	pthread_mutex_unlock(&s->lock);
	if (cached != NULL)
		return;

	if (s->fl->C_GetAttributeValue(c->session, c->key, t, 2) != CKR_OK &&
	    t[0].ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return;
	cn = cf_p11_class_name(cls);
	off = (size_t)snprintf(out, outlen, "key=%lu class=%s id=",
			       (unsigned long)c->key, cn ? cn : "?");
	if (t[1].ulValueLen == CK_UNAVAILABLE_INFORMATION ||
	    t[1].ulValueLen > sizeof(id)) {
		snprintf(out + off, outlen - off, "?");
	} else {
		for (CK_ULONG i = 0; i < t[1].ulValueLen && off + 3 < outlen;
		     i++)
			off += (size_t)snprintf(out + off, outlen - off,
						"%02x", id[i]);
		if (t[1].ulValueLen == 0)
			snprintf(out + off, outlen - off, "-");
	}
	d = strdup(out);
	if (d == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	free(cf_map_get(&s->keyids, c->key));
	if (cf_map_put(&s->keyids, c->key, d) != 0)
		free(d);
	pthread_mutex_unlock(&s->lock);
}

static void audit(struct cf_srv *s, const struct cf_srv_call *c, CK_RV rv)
{
	char rvb[32], what[256] = "", key[200] = "", slot[32] = "";
	const char *rvn = cf_p11_rv_str(rv, rvb, sizeof(rvb));
	bool audited = is_audited(c->fn);

	if (!audited && is_benign(c->fn, rv))
		return;
	if (!cf_log_enabled(CF_LOG_INFO))
		return;
	if (c->has_user) {
		const char *un = cf_p11_user_type_name(c->user);
		if (un != NULL)
			snprintf(what, sizeof(what), " user=%s", un);
		else
			snprintf(what, sizeof(what), " user=%lu",
				 (unsigned long)c->user);
	} else if (c->has_mech) {
		const char *mn = cf_p11_mech_name(c->mech);
		if (mn != NULL)
			snprintf(what, sizeof(what), " mech=%s", mn);
		else
			snprintf(what, sizeof(what), " mech=0x%lx",
				 (unsigned long)c->mech);
	}
	if (is_key_use(c->fn) || c->fn == CF_SRV_FN_C_DestroyObject ||
	    c->fn == CF_SRV_FN_C_CopyObject) {
		key[0] = ' ';
		if (is_key_use(c->fn))
			key_desc(s, c, key + 1, sizeof(key) - 1);
		else
			snprintf(key + 1, sizeof(key) - 1, "object=%lu",
				 (unsigned long)c->key);
	}
	if (c->nout == 1)
		snprintf(key + strlen(key), sizeof(key) - strlen(key),
			 " new=%lu", (unsigned long)c->out[0]);
	else if (c->nout == 2)
		snprintf(key + strlen(key), sizeof(key) - strlen(key),
			 " new=%lu,%lu", (unsigned long)c->out[0],
			 (unsigned long)c->out[1]);
	if (c->has_slot)
		snprintf(slot, sizeof(slot), " slot=%lu", (unsigned long)c->slot);
	if (c->has_session)
		snprintf(slot, sizeof(slot), " session=%lu",
			 (unsigned long)c->session);
	cf_log(CF_LOG_INFO, "audit conn=%lu %s %s%s%s%s rv=%s", s->conn_id,
	       s->peer, c->name, slot, what, key, rvn);
}

void cf_srv_post(struct cf_srv *s, struct cf_srv_call *c, CK_RV rv)
{
	track(s, c, rv);
	if (s->audit)
		audit(s, c, rv);
}
