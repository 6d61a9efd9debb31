/*
 * client.h - the inside of libcoffer-client.so: its configuration, the one
 * connection to cofferd that every thread shares, and the table that maps
 * the application's session handles to the server's.
 *
 * Threads: everything here is thread-safe unless it says otherwise. Lock
 * order: the library lock (rpc.c) and the session-table lock (session.c)
 * are never held together; neither is held across a network wait.
 */
#ifndef CF_CLIENT_H
#define CF_CLIENT_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coffer/pkcs11.h"
#include "wire/codec.h"
#include "wire/conn.h"

/* ---- configuration (config.c) ----------------------------------------- */

#define CF_CLIENT_PATH_MAX 4096
#define CF_CLIENT_TIMEOUT_DEFAULT 30000
#define CF_CLIENT_CONNECT_TIMEOUT_DEFAULT 5000
#define CF_CLIENT_CPU_AUTO (-2)

struct cf_client_conf {
	char source[CF_CLIENT_PATH_MAX]; /* config file read, "" if none */
	char server[CF_CLIENT_PATH_MAX]; /* "unix:PATH" or "tls://HOST:PORT" */
	char cert[CF_CLIENT_PATH_MAX];
	char key[CF_CLIENT_PATH_MAX];
	char ca[CF_CLIENT_PATH_MAX];
	int timeout_ms;		/* one call's round trip */
	int connect_timeout_ms; /* connect, TLS handshake and hello */
	unsigned spin_usec;	/* opt-in busy-poll before sleeping, 0 off */
	/* Opt-in: a call that is the only one in flight runs on this CPU,
	 * and cofferd serves the connection there (colocate.c); -1 off,
	 * CF_CLIENT_CPU_AUTO: the CPU the connecting thread is on. */
	int cpu;
};

/* Reads the config file (COFFER_CLIENT_CONF, which must then exist, else
 * ~/.config/coffer/client.conf, else /etc/coffer/client.conf; none is
 * fine), then lets the environment override it (COFFER_SERVER,
 * COFFER_CLIENT_CERT, COFFER_CLIENT_KEY, COFFER_CLIENT_CA,
 * COFFER_TIMEOUT_MS, COFFER_CONNECT_TIMEOUT_MS, COFFER_SPIN_USEC,
 * COFFER_CPU). Returns 0,
 * or -1 with a one-line reason in err (unreadable file, unknown key, bad value,
 * no server configured). Not thread-safe. */
int cf_client_conf_load(struct cf_client_conf *c, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Parses "key = value" text on top of c; name is used in messages. */
int cf_client_conf_parse(struct cf_client_conf *c, const char *name,
			 const char *text, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Splits "tls://HOST:PORT" ("[v6]:PORT" too) into host and port. */
int cf_client_parse_tls(const char *server, char *host, size_t hostlen,
			char *port, size_t portlen);

/* ---- running calls on cofferd's CPU (colocate.c) ---------------------- */

/* What cf_colocate_enter did to the calling thread. */
struct cf_colocate {
	bool counted; /* the setting is on: counted among the calls */
	bool pinned;
	cpu_set_t orig; /* the thread's affinity before the call */
};
/* Around every call: when cpu >= 0 and no calls overlapped since the
 * connection was made, the thread runs on cpu until cf_colocate_leave
 * puts its affinity back. */
void cf_colocate_enter(int cpu, struct cf_colocate *st);
void cf_colocate_leave(struct cf_colocate *st);
/* A new connection: its worker starts on the CPU again. */
void cf_colocate_reset(void);

/* ---- dialing (dial.c) ------------------------------------------------- */

/* Opens a stream to the configured server, does the TLS handshake when
 * tls:// (ctx must then be non-NULL) and the protocol hello. Returns 0 or
 * -errno; *out owns the socket. Blocks at most about connect_timeout_ms. */
int cf_client_dial(const struct cf_client_conf *conf, SSL_CTX *ctx,
		   struct cf_conn **out, struct cf_hello *hello);
/* Forgets earlier failures: the next one is an error line again. */
void cf_client_dial_reset(void);

/* ---- library state and calls (library.c, rpc.c) ---------------------- */

/* Message operations a session may have running, one of each. */
enum cf_msg_op {
	CF_MSG_NONE = -1,
	CF_MSG_ENCRYPT = 0,
	CF_MSG_DECRYPT,
	CF_MSG_SIGN,
	CF_MSG_VERIFY,
	CF_MSG_NOPS,
};

/* One call in progress: what a generated stub keeps on its stack. */
struct cf_client_call {
	uint16_t fn;
	uint64_t gen;		 /* connection the session lives on; 0: any */
	uint64_t used_gen;	 /* connection the round trip went over */
	CK_SESSION_HANDLE local; /* the application's handle, or 0 */
	CK_ULONG remote;	 /* the server's handle */
	CK_MECHANISM_TYPE msg_mech;
	bool msg_active;
	struct cf_wout req;
	struct cf_frame rep;
	struct cf_win rd; /* over rep's payload after a round trip */
	bool have_rd;
};

/* CKR_CRYPTOKI_NOT_INITIALIZED unless C_Initialize succeeded in this
 * process (a forked child must call it again). */
CK_RV cf_client_ready(void);

/* Start a call without session (c->gen 0: any connection, reconnecting
 * if needed) or on a session (its connection only; msg names the message
 * operation whose mechanism a msgparam follows). On error c needs no
 * cf_client_end. */
CK_RV cf_client_begin(struct cf_client_call *c, uint16_t fn);
CK_RV cf_client_begin_session(struct cf_client_call *c, uint16_t fn,
			      CK_SESSION_HANDLE s, int msg);
/* Sends c->req and waits for the reply; on CKR_OK c->rd reads its
 * payload. Connection failures map to CKR_DEVICE_ERROR (no reply within
 * the timeout, server unreachable), CKR_DEVICE_REMOVED (a session's
 * connection lost mid-call), CKR_SESSION_HANDLE_INVALID (the session's
 * connection is already gone), CKR_FUNCTION_NOT_SUPPORTED (the server does
 * not know the function). */
CK_RV cf_client_roundtrip(struct cf_client_call *c);
void cf_client_end(struct cf_client_call *c);
/* Ends the server's operations named by flags (CKF_ENCRYPT...) on c's
 * session with C_SessionCancel: the client found an argument error the
 * module would have answered by ending them. Best effort. */
void cf_client_end_op(const struct cf_client_call *c, CK_FLAGS flags);
/* Wire ids (src/pkcs11/functions.py). */
#define CF_FN_CLOSE_SESSION 17
#define CF_FN_SESSION_CANCEL 20
#define CF_FN_ENCRYPT_INIT 35
#define CF_FN_DECRYPT_INIT 39
#define CF_FN_DIGEST_INIT 53
#define CF_FN_SIGN_INIT 58
#define CF_FN_VERIFY_INIT 69

/* Reads a reply's leading u64 rv; false if absent or wider than CK_RV. */
bool cf_client_read_rv(struct cf_win *r, CK_RV *rv);
/* fillbuf's reply: exactly len bytes when rv is CKR_OK. */
bool cf_client_r_fillbuf(struct cf_win *r, CK_RV rv, CK_BYTE_PTR buf,
			 CK_ULONG len);
/* handles_out's reply: at most max handles, their count in *n. */
bool cf_client_r_handles(struct cf_win *r, CK_RV rv, CK_ULONG *arr,
			 CK_ULONG max, CK_ULONG *n);

/* The library's lifetime (library.c). */
CK_RV cf_client_initialize(CK_VOID_PTR args);
CK_RV cf_client_finalize(CK_VOID_PTR reserved);

/* rpc.c: the shared connection. Called by library.c with the library
 * set up; not thread-safe against calls in flight (C_Finalize's rule). */
void cf_rpc_init(const struct cf_client_conf *conf, SSL_CTX *tls);
/* Tries to connect now; failure is not an error (calls retry). */
void cf_rpc_connect_now(void);
/* Closes gracefully: shuts down the write side, waits (bounded) for the
 * server to close, frees. */
void cf_rpc_shutdown(void);
/* After fork in the child: forgets the parent's connection without
 * touching the stream the parent still uses. */
void cf_rpc_forget(void);
/* The generation of the current connection, 0 when there is none. */
uint64_t cf_rpc_current_gen(void);

/* ---- sessions (session.c) --------------------------------------------- */

/* Records a session the server opened on c's connection and gives the
 * application its local handle in *out. CKR_HOST_MEMORY if the table is
 * full (the remote session is then closed again). */
CK_RV cf_client_session_add(struct cf_client_call *c, CK_SLOT_ID slot,
			    CK_ULONG remote, CK_SESSION_HANDLE *out);
/* Looks a local handle up: its remote handle, connection and message
 * mechanism. CKR_SESSION_HANDLE_INVALID if unknown. */
CK_RV cf_client_session_get(CK_SESSION_HANDLE s, int msg, CK_ULONG *remote,
			    uint64_t *gen, CK_MECHANISM_TYPE *mech,
			    bool *active);
void cf_client_session_remove(CK_SESSION_HANDLE s);
void cf_client_session_remove_slot(CK_SLOT_ID slot);
void cf_client_session_msg(CK_SESSION_HANDLE s, int msg, CK_MECHANISM_TYPE mech,
			   bool active);
/* C_SessionCancel's flags end the message operations they name. */
void cf_client_session_cancel(CK_SESSION_HANDLE s, CK_FLAGS flags);
void cf_client_sessions_clear(void);

/*
 * Deferred initialisation (docs/client.md): per session, the last
 * CF_CLIENT_INIT_CACHE requests of C_EncryptInit, C_DecryptInit,
 * C_DigestInit, C_SignInit and C_VerifyInit that succeeded, each valid
 * while the epoch is the one it was recorded at, and at most one deferred
 * init that rides in front of the session's next request (CF_FRAME_CHAIN).
 * The epoch moves with every call that may change an init's outcome:
 * C_Logout, C_DestroyObject, C_SetAttributeValue, C_CloseSession,
 * C_CloseAllSessions, C_InitToken, C_InitPIN, C_SetPIN, C_SessionCancel
 * (before and after their round trip), and every new connection.
 */
#define CF_CLIENT_INIT_CACHE 4
uint64_t cf_client_epoch(void);
void cf_client_epoch_bump(void);
/* If the request p equals a valid cached one of session s, no init is
 * deferred yet and the operation of fn's kind is idle, keeps a copy as the deferred init and returns true: the
 * caller answers CKR_OK without a round trip. */
bool cf_client_session_defer(CK_SESSION_HANDLE s, uint16_t fn,
			     const uint8_t *p, size_t len);
/* Whether the session's operation of the kind of init_fn is known to
 * have ended (idle) or may be running. An init is deferred only when its
 * kind is idle: otherwise the module would answer CKR_OPERATION_ACTIVE. */
void cf_client_session_op_idle(CK_SESSION_HANDLE s, uint16_t init_fn,
			       bool idle);
/* Remembers an init request that succeeded; at is the epoch read before
 * it was sent. Least recently used entry goes. */
void cf_client_session_record(CK_SESSION_HANDLE s, uint16_t fn,
			      const uint8_t *p, size_t len, uint64_t at);
/* Takes the deferred init (the caller owns *p: wipe and free it). */
bool cf_client_session_take_deferred(CK_SESSION_HANDLE s, uint16_t *fn,
				     uint8_t **p, size_t *len);
/* Gives a taken deferred init back (it was not sent); frees p when the
 * session is gone or has another one. */
void cf_client_session_put_deferred(CK_SESSION_HANDLE s, uint16_t fn,
				    uint8_t *p, size_t len);
/* After fork in the child. */
void cf_client_sessions_reset(void);

/* ---- fuzzing (fuzz.c) ------------------------------------------------- */

#define CF_FUZZ_NUL 8
#define CF_FUZZ_NATTR 4

struct cf_fuzz_scratch {
	uint8_t buf[256];
	CK_ULONG ulongs[CF_FUZZ_NUL];
	CK_ATTRIBUTE attrs[CF_FUZZ_NATTR];
	uint8_t vals[CF_FUZZ_NATTR][64];
};

/* Feeds data as the reply payload of wire function fn (and, for the
 * message functions, of a message operation of mech) to its decoder with
 * scratch outputs. Never crashes, whatever data holds. */
CK_RV cf_client_fuzz_reply(uint16_t fn, CK_MECHANISM_TYPE mech,
			   const uint8_t *data, size_t len);

#endif
