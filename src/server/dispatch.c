/*
 * dispatch.c - the connection's module context, the slot filter and the
 * entry from a request payload to its generated dispatcher. See dispatch.h.
 */
#include "server/dispatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/uri.h>

#include "wire/conn.h"

/* Room a reply needs besides its output buffers: rv and length fields. */
#define REPLY_OVERHEAD 256

int cf_srv_init(struct cf_srv *s, CK_FUNCTION_LIST_3_0 *fl, bool v3,
		size_t max_frame)
{
	memset(s, 0, sizeof(*s));
	s->fl = fl;
	s->v3 = v3;
	s->out_cap = max_frame > 2 * REPLY_OVERHEAD ? max_frame - REPLY_OVERHEAD
						    : REPLY_OVERHEAD;
	cf_map_init(&s->sessions);
	cf_map_init(&s->keyids);
	if (pthread_mutex_init(&s->lock, NULL) != 0)
		return -ENOMEM;
	return 0;
}

void cf_srv_clear(struct cf_srv *s)
{
	for (size_t i = 0; i < s->sessions.cap; i++)
		if (s->sessions.slots[i].key)
			free(s->sessions.slots[i].val);
	for (size_t i = 0; i < s->keyids.cap; i++)
		if (s->keyids.slots[i].key)
			free(s->keyids.slots[i].val);
	cf_map_clear(&s->sessions);
	cf_map_clear(&s->keyids);
	free(s->slots);
	s->slots = NULL;
	pthread_mutex_destroy(&s->lock);
}

bool cf_srv_slot_allowed(const struct cf_srv *s, CK_SLOT_ID slot)
{
	if (!s->filtered)
		return true;
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i] == slot)
			return true;
	return false;
}

/* The module's whole slot list (tokens present or not), malloc'ed. */
static CK_RV module_slots(struct cf_srv *s, CK_SLOT_ID **out, CK_ULONG *n)
{
	CK_SLOT_ID *list = NULL;
	CK_RV rv;

	*out = NULL;
	*n = 0;
	/* The list may grow between the two calls (C_InitToken adds a slot
	 * in libcoffer): retry a few times. */
	for (int tries = 0; tries < 4; tries++) {
		CK_ULONG count = 0;
		rv = s->fl->C_GetSlotList(CK_FALSE, NULL, &count);
		if (rv != CKR_OK)
			return rv;
		free(list);
		list = calloc(count + 1, sizeof(*list));
		if (list == NULL)
			return CKR_HOST_MEMORY;
		rv = s->fl->C_GetSlotList(CK_FALSE, list, &count);
		if (rv == CKR_BUFFER_TOO_SMALL)
			continue;
		if (rv != CKR_OK) {
			free(list);
			return rv;
		}
		*out = list;
		*n = count;
		return CKR_OK;
	}
	free(list);
	return CKR_GENERAL_ERROR;
}

int cf_srv_filter_slots(struct cf_srv *s, char *const *uris, size_t nuris,
			char *err, size_t errlen)
{
	P11KitUri **parsed = NULL;
	CK_SLOT_ID *all = NULL, *kept = NULL;
	CK_ULONG nall = 0;
	size_t nkept = 0;
	int ret = -ENOMEM;

	if (nuris == 0)
		return 0;
	parsed = calloc(nuris, sizeof(*parsed));
	if (parsed == NULL)
		goto out;
	for (size_t i = 0; i < nuris; i++) {
		parsed[i] = p11_kit_uri_new();
		if (parsed[i] == NULL)
			goto out_free_uris;
		int rc = p11_kit_uri_parse(uris[i], P11_KIT_URI_FOR_TOKEN,
					   parsed[i]);
		if (rc != P11_KIT_URI_OK) {
			snprintf(err, errlen, "token URI %s: %s", uris[i],
				 p11_kit_uri_message(rc));
			ret = -EINVAL;
			goto out_free_uris;
		}
	}
	if (module_slots(s, &all, &nall) != CKR_OK) {
		snprintf(err, errlen, "C_GetSlotList of the module failed");
		ret = -EIO;
		goto out_free_uris;
	}
	kept = calloc(nall + 1, sizeof(*kept));
	if (kept == NULL)
		goto out_free_all;
	for (CK_ULONG i = 0; i < nall; i++) {
		CK_TOKEN_INFO ti;
		/* A second filter narrows the first (--token, then map). */
		if (!cf_srv_slot_allowed(s, all[i]))
			continue;
		memset(&ti, 0, sizeof(ti));
		if (s->fl->C_GetTokenInfo(all[i], &ti) != CKR_OK)
			continue; /* no token: nothing a token URI can match */
		for (size_t u = 0; u < nuris; u++) {
			if (p11_kit_uri_match_token_info(parsed[u], &ti)) {
				kept[nkept++] = all[i];
				break;
			}
		}
	}
	free(s->slots);
	s->slots = kept;
	s->nslots = nkept;
	s->filtered = true;
	ret = 0;
out_free_all:
	free(all);
out_free_uris:
	for (size_t i = 0; i < nuris; i++)
		if (parsed[i] != NULL)
			p11_kit_uri_free(parsed[i]);
	free(parsed);
out:
	return ret;
}

/* 5.5.2, filtered: the module's list less the slots the peer may not see,
 * with the output-length convention applied to what remains. */
int cf_srv_C_GetSlotList(struct cf_srv *s, struct cf_win *r, struct cf_wout *w)
{
	uint8_t present = 0;
	CK_ULONG *arr = NULL, n = 0, *all = NULL, nall = 0, kept = 0;
	CK_RV rv;

	cf_r_u8(r, &present);
	cf_r_ulongs_req(r, &arr, &n);
	if (!cf_win_done(r))
		return -EBADMSG;

	if (s->fl->C_GetSlotList == NULL) {
		rv = CKR_FUNCTION_NOT_SUPPORTED;
		goto reply;
	}
	for (int tries = 0; tries < 4; tries++) {
		CK_ULONG count = 0;
		rv = s->fl->C_GetSlotList(present ? CK_TRUE : CK_FALSE, NULL,
					  &count);
		if (rv != CKR_OK)
			goto reply;
		free(all);
		all = calloc(count + 1, sizeof(*all));
		if (all == NULL) {
			rv = CKR_HOST_MEMORY;
			goto reply;
		}
		nall = count;
		rv = s->fl->C_GetSlotList(present ? CK_TRUE : CK_FALSE, all,
					  &nall);
		if (rv != CKR_BUFFER_TOO_SMALL)
			break;
	}
	if (rv != CKR_OK)
		goto reply;
	for (CK_ULONG i = 0; i < nall; i++)
		if (cf_srv_slot_allowed(s, all[i]))
			all[kept++] = all[i];
	if (arr == NULL) {
		n = kept;
	} else if (n < kept) {
		n = kept;
		rv = CKR_BUFFER_TOO_SMALL;
	} else {
		memcpy(arr, all, kept * sizeof(*all));
		n = kept;
	}
reply:
	free(all);
	{
		struct cf_srv_call c = {.fn = CF_SRV_FN_C_GetSlotList,
					.name = "C_GetSlotList"};
		cf_srv_post(s, &c, rv);
	}
	cf_w_u64(w, rv);
	if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
		cf_w_ulongs_rep(w, rv, arr, n);
	return 0;
}

int cf_srv_dispatch(struct cf_srv *s, uint16_t fn, const uint8_t *payload,
		    size_t len, struct cf_wout *w)
{
	struct cf_win r;
	int ret;

	if (fn > CF_SRV_FN_MAX || cf_srv_fns[fn].handler == NULL)
		return -ENOSYS;
	cf_win_init(&r, payload, len);
	ret = cf_srv_fns[fn].handler(s, &r, w);
	cf_win_clear(&r);
	if (ret == 0 && w->bad)
		ret = -ENOMEM;
	return ret;
}

/* The inits a client may defer: their outcome depends only on the session,
 * the mechanism and the key, which the client's epoch guards. */
static bool chain_init(uint16_t fn)
{
	switch (fn) {
	case CF_SRV_FN_C_EncryptInit:
	case CF_SRV_FN_C_DecryptInit:
	case CF_SRV_FN_C_DigestInit:
	case CF_SRV_FN_C_SignInit:
	case CF_SRV_FN_C_VerifyInit:
		return true;
	default:
		return false;
	}
}

int cf_srv_dispatch_chain(struct cf_srv *s, uint16_t fn,
			  const uint8_t *payload, size_t len, struct cf_wout *w,
			  uint16_t *init_fn)
{
	struct cf_wout iw;
	uint16_t ifn;
	uint32_t ilen;
	uint64_t irv = 0;
	int ret;

	*init_fn = 0;
	if (len < 6)
		return -EBADMSG;
	ifn = (uint16_t)((unsigned)payload[0] << 8 | payload[1]);
	ilen = (uint32_t)payload[2] << 24 | (uint32_t)payload[3] << 16 |
	       (uint32_t)payload[4] << 8 | payload[5];
	if (ilen > len - 6 || !chain_init(ifn))
		return -EBADMSG;
	*init_fn = ifn;
	/* An unknown second call must not leave the init's operation
	 * running behind the client's back. */
	if (fn > CF_SRV_FN_MAX || cf_srv_fns[fn].handler == NULL)
		return -ENOSYS;
	cf_wout_init(&iw, REPLY_OVERHEAD);
	ret = cf_srv_dispatch(s, ifn, payload + 6, ilen, &iw);
	if (ret == 0) {
		if (iw.len < 8) {
			ret = -ENOMEM;
		} else {
			for (int i = 0; i < 8; i++)
				irv = irv << 8 | iw.data[i];
		}
	}
	cf_wout_clear(&iw);
	if (ret != 0)
		return ret;
	cf_w_u64(w, irv);
	if (irv != CKR_OK)
		return w->bad ? -ENOMEM : 0;
	return cf_srv_dispatch(s, fn, payload + 6 + ilen, len - 6 - ilen, w);
}
