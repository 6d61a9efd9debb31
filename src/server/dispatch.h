/*
 * dispatch.h - one client connection's view of the module: decoding a
 * request payload, the policy around the call (slot filtering, session
 * tracking and limits, audit) and encoding the reply. Shared by the worker
 * (worker.c) and the fuzzer, which drives it with a stub module and no
 * socket. Thread-safe: calls of one connection run on several threads.
 */
#ifndef CF_SERVER_DISPATCH_H
#define CF_SERVER_DISPATCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coffer/pkcs11.h"
#include "common/map.h"
#include "server/dispatch_gen.h"
#include "wire/codec.h"

struct cf_srv {
	CK_FUNCTION_LIST_3_0 *fl; /* a 2.40 list when !v3 (its prefix) */
	bool v3;
	size_t out_cap; /* largest output buffer a reply may carry */
	unsigned long max_sessions; /* 0: no limit */
	unsigned long conn_id;
	char peer[700]; /* "uid=1000 gid=1000 pid=42" or "subject=..." */
	bool audit;	/* write audit lines (off in the fuzzer) */

	/* Slot filter: when filtered, only these slots exist for the peer. */
	bool filtered;
	CK_SLOT_ID *slots;
	size_t nslots;

	pthread_mutex_t lock;	/* guards what follows */
	struct cf_map sessions; /* handle -> struct cf_srv_session */
	size_t nsessions;
	size_t opening;	      /* C_OpenSession calls under way */
	struct cf_map keyids; /* key handle -> char * "class id=hex" */
};

/* What the hooks see of one call; filled by the generated dispatchers. */
struct cf_srv_call {
	uint16_t fn;
	const char *name;
	bool has_slot, has_session, has_key, has_user, has_mech;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE key; /* the first key or object argument */
	CK_USER_TYPE user;
	CK_MECHANISM_TYPE mech;
	CK_FLAGS flags;
	CK_ULONG out[2]; /* handles the call created (sessions, objects) */
	size_t nout;
	bool reserved; /* pre counted a C_OpenSession under way */
};

/* Returns 0 with the reply in w, or -EBADMSG for a malformed payload. */
typedef int (*cf_srv_handler)(struct cf_srv *s, struct cf_win *r,
			      struct cf_wout *w);

struct cf_srv_fn {
	const char *name;
	cf_srv_handler handler; /* NULL: not a wire function */
};

extern const struct cf_srv_fn cf_srv_fns[CF_SRV_FN_MAX + 1];

int cf_srv_init(struct cf_srv *s, CK_FUNCTION_LIST_3_0 *fl, bool v3,
		size_t max_frame);
void cf_srv_clear(struct cf_srv *s);

/* Restricts the slots the peer sees to those whose token matches one of
 * the PKCS#11 URIs (none: no change); a second call narrows the first.
 * Call after C_Initialize.
 * Returns 0, -EINVAL (a URI did not parse; err says which) or -ENOMEM. */
int cf_srv_filter_slots(struct cf_srv *s, char *const *uris, size_t nuris,
			char *err, size_t errlen);

/*
 * Decodes one request payload for function fn, runs it and writes the reply
 * payload into w. Returns 0, -ENOSYS (fn is no wire function), -EBADMSG
 * (malformed payload: the connection must close) or -ENOMEM (w is bad).
 */
int cf_srv_dispatch(struct cf_srv *s, uint16_t fn, const uint8_t *payload,
		    size_t len, struct cf_wout *w);

/*
 * A CF_FRAME_CHAIN payload (docs/protocol.md, "Deferred initialisation"):
 * u16 init fn, u32 init length, the init's request payload, then the
 * request payload of fn. Runs the init through cf_srv_dispatch; if its rv
 * is not CKR_OK, the reply is that u64 rv alone and fn does not run, else
 * u64 0 and fn's reply. *init_fn gets the init's id once the header
 * decoded (0 before). Returns as cf_srv_dispatch; -EBADMSG also when the
 * first call is not C_EncryptInit, C_DecryptInit, C_DigestInit, C_SignInit
 * or C_VerifyInit, or a length runs past the payload.
 */
int cf_srv_dispatch_chain(struct cf_srv *s, uint16_t fn,
			  const uint8_t *payload, size_t len, struct cf_wout *w,
			  uint16_t *init_fn);

/* Hooks (policy.c) around every module call. pre may refuse the call with
 * an rv; post sees the result of every call that pre let through or not. */
CK_RV cf_srv_pre(struct cf_srv *s, struct cf_srv_call *c);
void cf_srv_post(struct cf_srv *s, struct cf_srv_call *c, CK_RV rv);
/* The mechanism of the session's message operation, 0 when none. */
CK_MECHANISM_TYPE cf_srv_msg_mech(struct cf_srv *s, CK_SESSION_HANDLE h);
bool cf_srv_slot_allowed(const struct cf_srv *s, CK_SLOT_ID slot);

/* The hand-written dispatcher of C_GetSlotList (slot filtering). */
int cf_srv_C_GetSlotList(struct cf_srv *s, struct cf_win *r, struct cf_wout *w);

/* A module whose every function returns CKR_OK: the fuzzer's. */
CK_FUNCTION_LIST_3_0 *cf_srv_stub_list(void);

#endif
