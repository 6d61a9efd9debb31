/*
 * core.h - the token core's shared state: the library (one per process
 * between C_Initialize and C_Finalize), its tokens (one per slot) and its
 * sessions. Entry-point files (slot_api.c, session_api.c, object_api.c,
 * unsupported.c) validate arguments and call the functions declared here.
 *
 * Lock order (docs/locking.md): library lock -> token lock -> session lock.
 * The library lock guards the slot list and the session table; a token's
 * lock guards its login state, its store, its object cache and its session
 * objects; a session's lock guards its operation state.
 */
#ifndef CF_CORE_H
#define CF_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "coffer/pkcs11.h"
#include "common/conf.h"
#include "common/map.h"
#include "common/secmem.h"
#include "token/lock.h"
#include "token/mech/mech.h"
#include "token/policy.h"
#include "token/object.h"
#include "token/store/store.h"
#include "token/vault.h"

#define CF_EXPORT __attribute__((visibility("default")))

#define CF_MANUFACTURER "coffer project"
#define CF_MODEL "coffer soft HSM"
#define CF_LIBRARY_DESC "coffer PKCS#11 token"
#define CF_VERSION_MAJOR 0
#define CF_VERSION_MINOR 1

/* Session object handles sit above every store id (ids stay below 2^31),
 * so one handle space serves both kinds of object. */
#define CF_SESSION_OBJECT_BASE 0x80000000UL

#define CF_NOT_LOGGED_IN ((CK_USER_TYPE)-1)

struct cf_token {
	struct cf_mutex *lock;
	CK_SLOT_ID slot_id;
	bool initialized;	   /* false: the free slot */
	char path[CF_CONF_PATH_MAX]; /* database file; "" for the free slot */
	struct cf_store *store;	   /* NULL for the free slot */

	/* From the store's metadata, refreshed when the store changes. */
	unsigned char label[32];
	char serial[16];
	bool user_pin_set;
	uint32_t so_fail, user_fail;
	uint8_t public_index_key[32];
	uint8_t generation[16]; /* changes when the token is re-initialized */

	/* Login state of this application (shared by all its sessions). */
	CK_USER_TYPE login;
	bool have_key; /* vault holds keys derived from the token key */
	struct cf_secret token_key;
	struct cf_vault vault;

	/* Token objects loaded from the store, by id (= handle). Entries hold
	 * one reference. Cleared when another connection commits. */
	struct cf_map cache;
	/* Moves whenever an object may have gone or become invisible (a
	 * destroy, another process's commit, a logout, a cache reset), so a
	 * search's handles need no re-check while it stays put. */
	uint64_t objects_gen;
	/* Session objects by handle; each holds one reference. */
	struct cf_map session_objects;
	CK_OBJECT_HANDLE next_session_object;

	unsigned long sessions, rw_sessions;
};

struct cf_find {
	bool active;
	CK_OBJECT_HANDLE *handles;
	size_t n, pos;
	uint64_t gen; /* the token's objects_gen when the search was made */
};

struct cf_session {
	CK_SESSION_HANDLE handle;
	struct cf_token *token;
	CK_FLAGS flags;
	struct cf_mutex *lock;
	unsigned int refs; /* guarded by the library lock */
	bool closed;
	struct cf_find find;
	/* Active cryptographic operations, one per kind (op.c). */
	struct cf_op ops[CF_OP_KINDS];
};

struct cf_library {
	struct cf_mutex *lock;
	struct cf_conf conf;
	struct cf_token **tokens; /* sorted by slot id; the free slot last */
	size_t ntokens;
	struct cf_map sessions;
	CK_SESSION_HANDLE next_session;
};

/* library.c: the process-wide state. */
extern struct cf_library *cf_lib;
CK_RV cf_library_initialize(const CK_C_INITIALIZE_ARGS *args)
	__attribute__((warn_unused_result));
CK_RV cf_library_finalize(void) __attribute__((warn_unused_result));
/* CKR_CRYPTOKI_NOT_INITIALIZED unless initialized in this process (a forked
 * child must call C_Initialize again). */
CK_RV cf_library_ready(void) __attribute__((warn_unused_result));
/* Finds a slot's token (library lock taken inside). */
CK_RV cf_library_token(CK_SLOT_ID slot, struct cf_token **out)
	__attribute__((warn_unused_result));
/* After C_InitToken turned the free slot into a token: adds a new free
 * slot. Library lock taken inside. */
CK_RV cf_library_add_free_slot(void) __attribute__((warn_unused_result));

/* token.c: tokens and their store. */
CK_RV cf_token_open(const char *path, struct cf_token **out)
	__attribute__((warn_unused_result));
CK_RV cf_token_new_free(CK_SLOT_ID slot, struct cf_token **out)
	__attribute__((warn_unused_result));
void cf_token_free(struct cf_token *t);
/* Under the token lock: reloads metadata and drops cached objects when
 * another connection has committed since the last call. */
CK_RV cf_token_sync_locked(struct cf_token *t)
	__attribute__((warn_unused_result));
void cf_token_info_locked(struct cf_token *t, const struct cf_conf *conf,
			  CK_TOKEN_INFO *info);
CK_RV cf_token_init_locked(struct cf_token *t, const struct cf_conf *conf,
			   const uint8_t *so_pin, size_t so_pin_len,
			   const unsigned char label[32])
	__attribute__((warn_unused_result));
/* Our own commit is no news: re-arms change detection after it. */
void cf_token_mark_seen_locked(struct cf_token *t);
/* Drops login state and every cached secret. */
void cf_token_logout_locked(struct cf_token *t);
/* Metadata access for login.c: a missing blob gives CKR_OK and *v NULL. */
CK_RV cf_token_meta_blob(struct cf_token *t, const char *name, uint8_t **v,
			 size_t *len) __attribute__((warn_unused_result));
CK_RV cf_token_meta_put(struct cf_token *t, const char *name, const void *v,
			size_t len) __attribute__((warn_unused_result));
/* Re-reads (from the store, so other processes count too) and writes the
 * failed-login counter of who. */
CK_RV cf_token_fail_get(struct cf_token *t, CK_USER_TYPE who, uint32_t *n)
	__attribute__((warn_unused_result));
CK_RV cf_token_fail_put(struct cf_token *t, CK_USER_TYPE who, uint32_t n)
	__attribute__((warn_unused_result));
CK_RV cf_store_rv(int rc);
#define CF_META_SO_PIN "so_pin"
#define CF_META_USER_PIN "user_pin"
bool cf_token_user_visible_locked(const struct cf_token *t,
				  const struct cf_object *o);

/* login.c: PINs and login. */
CK_RV cf_login_locked(struct cf_token *t, const struct cf_conf *conf,
		      CK_USER_TYPE who, const uint8_t *pin, size_t pin_len)
	__attribute__((warn_unused_result));
/* CKU_CONTEXT_SPECIFIC: checks the user PIN (counted) without changing
 * the login state. */
CK_RV cf_login_context_locked(struct cf_token *t, const struct cf_conf *conf,
			      const uint8_t *pin, size_t pin_len)
	__attribute__((warn_unused_result));
CK_RV cf_login_init_pin_locked(struct cf_token *t, const struct cf_conf *conf,
			       const uint8_t *pin, size_t pin_len)
	__attribute__((warn_unused_result));
CK_RV cf_login_set_pin_locked(struct cf_token *t, const struct cf_conf *conf,
			      CK_USER_TYPE who, const uint8_t *old_pin,
			      size_t old_len, const uint8_t *new_pin,
			      size_t new_len) __attribute__((warn_unused_result));

/* token_objects.c: token objects in the store, session objects in memory.
 * All under the token lock; *out carries a new reference. */
CK_RV cf_objects_get_locked(struct cf_token *t, CK_OBJECT_HANDLE h,
			    struct cf_object **out)
	__attribute__((warn_unused_result));
/* Whether handle h still names an object the caller may see (without
 * decoding it when that is not needed). */
bool cf_objects_present_locked(struct cf_token *t, CK_OBJECT_HANDLE h);
/* Stores a new object (token or session per o->token) and sets its
 * handle. Takes a reference of its own. */
CK_RV cf_objects_add_locked(struct cf_token *t, struct cf_object *o,
			    CK_SESSION_HANDLE owner)
	__attribute__((warn_unused_result));
/* Stores the two halves of a new key pair: both or neither, whatever
 * happens (two token objects go in one commit). Takes references. */
CK_RV cf_objects_add_pair_locked(struct cf_token *t, struct cf_object *a,
				 struct cf_object *b, CK_SESSION_HANDLE owner)
	__attribute__((warn_unused_result));
/* Replaces the stored object o->handle with o (same handle). */
CK_RV cf_objects_replace_locked(struct cf_token *t, struct cf_object *o)
	__attribute__((warn_unused_result));
CK_RV cf_objects_destroy_locked(struct cf_token *t, struct cf_object *o)
	__attribute__((warn_unused_result));
/* Handles of the visible objects that match tmpl (malloc'd). */
CK_RV cf_objects_find_locked(struct cf_token *t, const CK_ATTRIBUTE *tmpl,
			     CK_ULONG n, CK_OBJECT_HANDLE **out, size_t *count)
	__attribute__((warn_unused_result));
/* Destroys the session objects owned by session h (all when h is 0). */
void cf_objects_drop_session_locked(struct cf_token *t, CK_SESSION_HANDLE h);
void cf_objects_cache_clear_locked(struct cf_token *t);

/* session.c: the session table. */
CK_RV cf_session_open(struct cf_token *t, CK_FLAGS flags,
		      CK_SESSION_HANDLE *out) __attribute__((warn_unused_result));
/* Looks a session up and takes a reference: release with cf_session_put. */
CK_RV cf_session_get(CK_SESSION_HANDLE h, struct cf_session **out)
	__attribute__((warn_unused_result));
void cf_session_put(struct cf_session *s);
/* For the entry points that work on the token's objects: looks the
 * session up, takes its token's lock and brings the token in line with the
 * store. Release with cf_session_leave. */
CK_RV cf_session_enter(CK_SESSION_HANDLE h, struct cf_session **s)
	__attribute__((warn_unused_result));
void cf_session_leave(struct cf_session *s);
/* A template pointer may be NULL only with a count of 0. */
bool cf_tmpl_ok(const CK_ATTRIBUTE *tmpl, CK_ULONG n);
CK_RV cf_session_close(CK_SESSION_HANDLE h)
	__attribute__((warn_unused_result));
CK_RV cf_session_close_all(struct cf_token *t)
	__attribute__((warn_unused_result));
/* CKS_* state of s (takes the token lock). */
CK_STATE cf_session_state(struct cf_session *s);
bool cf_session_rw(const struct cf_session *s);
/* What the session may do with an object it is about to write (token lock
 * held): CKR_SESSION_READ_ONLY, CKR_USER_NOT_LOGGED_IN. */
CK_RV cf_session_may_write(const struct cf_session *s,
			   const struct cf_object *o)
	__attribute__((warn_unused_result));
void cf_find_clear(struct cf_find *f);

/* op.c: operation state. */
/* Starts an operation of kind with mechanism m on key key_h (ignored for
 * digests): the session, the mechanism (CKR_MECHANISM_INVALID, also when
 * it does not do kind), the key (CKR_KEY_HANDLE_INVALID, policy.h) and the
 * family's init. CKR_OPERATION_ACTIVE when one of kind is active. */
CK_RV cf_op_init(CK_SESSION_HANDLE h, enum cf_op_kind kind,
		 CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key_h)
	__attribute__((warn_unused_result));
/* Finds the active operation of kind and holds the session lock (release
 * with cf_op_leave). CKR_OPERATION_NOT_INITIALIZED when none. */
CK_RV cf_op_enter(CK_SESSION_HANDLE h, enum cf_op_kind kind,
		  struct cf_session **s, struct cf_op **op)
	__attribute__((warn_unused_result));
void cf_op_leave(struct cf_session *s);
/* Ends op after a call that returned rv, unless the spec keeps it going:
 * CKR_BUFFER_TOO_SMALL, or a successful length query. */
void cf_op_settle(struct cf_op *op, CK_RV rv, bool length_query);
/* The CKF_ flag a mechanism needs for kind. */
CK_FLAGS cf_op_flag(enum cf_op_kind kind);
/* Looks the mechanism up for a use needing flags need. */
CK_RV cf_op_mech(const CK_MECHANISM *m, CK_FLAGS need,
		 const struct cf_mech **out) __attribute__((warn_unused_result));
/* Under the token lock: the key object h for use with mech (new
 * reference in *obj, release under the token lock) and its cf_key. */
CK_RV cf_op_key_locked(struct cf_token *t, CK_OBJECT_HANDLE h,
		       const struct cf_mech *mech, enum cf_use use,
		       struct cf_object **obj, struct cf_key *key)
	__attribute__((warn_unused_result));
/* Under the session lock: */
/* Ends op (frees the family state); a no-op when none is active. */
void cf_op_end(struct cf_op *op);
/* Ends every operation of the session. */
void cf_op_end_all(struct cf_session *s);
/* C_Login(CKU_CONTEXT_SPECIFIC): true when an operation of s waits for
 * it (CKA_ALWAYS_AUTHENTICATE); satisfy clears the wait. Under the token
 * lock (the session lock is taken inside). */
bool cf_op_context_login_due(struct cf_session *s);
void cf_op_context_login_done(struct cf_session *s);

/* Copies a blank-padded fixed-width PKCS#11 string. */
void cf_pad(unsigned char *dst, size_t width, const char *src);

#endif
