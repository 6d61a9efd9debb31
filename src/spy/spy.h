/*
 * spy.h - the inside of libcoffer-spy.so (docs/spy.md): a PKCS#11 module
 * that loads the real module, logs every call with its arguments decoded
 * through the schema (src/pkcs11/), and forwards it unchanged.
 *
 * Three layers: the decoder (decode.c) turns PKCS#11 values into text in a
 * caller-owned entry buffer; the call frame (call.c) times one call, keeps
 * the per-function counters and writes a finished entry with one write();
 * the wrappers (generated wrappers.c, hand-written module.c) glue both to
 * the real module. Everything is thread-safe: entry buffers belong to one
 * call, counters are atomics, and no lock is held across the real call.
 */
#ifndef CF_SPY_H
#define CF_SPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "coffer/pkcs11.h"

/* ---- the entry buffer ---------------------------------------------------- */

/* One log entry being built. Grows up to CF_SPY_ENTRY_MAX, then drops
 * further text and says so once; a failed allocation does the same. */
#define CF_SPY_ENTRY_MAX (1024 * 1024)

struct cf_spy_out {
	char *p;
	size_t len, cap;
	bool truncated;
	bool show_secrets; /* COFFER_SPY_SHOW_SECRETS=1 */
};

void cf_spy_out_init(struct cf_spy_out *o, bool show_secrets);
/* Wipes (the entry may hold secrets when they are shown) and frees. */
void cf_spy_out_clear(struct cf_spy_out *o);
void cf_spy_printf(struct cf_spy_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- the decoder (decode.c) ---------------------------------------------- */

/* What a CK_ULONG argument stands for (functions.py's ulong ROLE). */
enum cf_spy_role {
	CF_SPY_NUMBER,	  /* handles, slots, counts: the number */
	CF_SPY_USER,	  /* CKU_ */
	CF_SPY_MECH_TYPE, /* CKM_ */
	CF_SPY_STATE,	  /* CKS_ */
	CF_SPY_LENGTH,	  /* a length; CK_UNAVAILABLE_INFORMATION by name */
};

/* Which CKF_ names a flags word is read with. */
enum cf_spy_flagset {
	CF_SPY_F_INIT,	    /* CK_C_INITIALIZE_ARGS.flags */
	CF_SPY_F_SESSION,   /* C_OpenSession, CK_SESSION_INFO */
	CF_SPY_F_SLOT,	    /* CK_SLOT_INFO */
	CF_SPY_F_TOKEN,	    /* CK_TOKEN_INFO */
	CF_SPY_F_MECH,	    /* CK_MECHANISM_INFO, C_SessionCancel */
	CF_SPY_F_MSG,	    /* C_*MessageNext: CKF_END_OF_MESSAGE */
	CF_SPY_F_WAIT,	    /* C_WaitForSlotEvent: CKF_DONT_BLOCK */
	CF_SPY_F_INTERFACE, /* CK_INTERFACE, C_GetInterface */
	CF_SPY_F_INFO,	    /* CK_INFO: none defined */
};

/* Every line is "  NAME = VALUE"; values the schema does not know print as
 * hex followed by "(unknown)". */
void cf_spy_ulong(struct cf_spy_out *o, const char *name, CK_ULONG v,
		  enum cf_spy_role role);
void cf_spy_flags(struct cf_spy_out *o, const char *name, CK_FLAGS v,
		  enum cf_spy_flagset set);
void cf_spy_bool(struct cf_spy_out *o, const char *name, CK_BBOOL v);
/* An input buffer: hex, cut after CF_SPY_HEX_MAX bytes with the total
 * length; "<N bytes hidden>" when secret and secrets are not shown. */
#define CF_SPY_HEX_MAX 64
void cf_spy_bytes(struct cf_spy_out *o, const char *name, const void *p,
		  CK_ULONG len, bool secret);
/* A fixed-width blank-padded string (labels, info strings), quoted. */
void cf_spy_fixed_string(struct cf_spy_out *o, const char *name,
			 const CK_UTF8CHAR *p, size_t len);
void cf_spy_template(struct cf_spy_out *o, const char *name,
		     const CK_ATTRIBUTE *t, CK_ULONG n);
/* C_GetAttributeValue: before the call, the types and buffer sizes; after
 * it, each length and value. */
void cf_spy_getattrs_in(struct cf_spy_out *o, const char *name,
			const CK_ATTRIBUTE *t, CK_ULONG n);
void cf_spy_getattrs_out(struct cf_spy_out *o, const char *name,
			 const CK_ATTRIBUTE *t, CK_ULONG n);
void cf_spy_mechanism(struct cf_spy_out *o, const char *name,
		      const CK_MECHANISM *m);
/* A message-based call's parameter laid out for mech (known: a message
 * operation is active); after: only the fields the callee writes. */
void cf_spy_msgparam(struct cf_spy_out *o, const char *name, bool known,
		     CK_MECHANISM_TYPE mech, const void *p, CK_ULONG len,
		     bool after);
void cf_spy_info(struct cf_spy_out *o, const char *name, const CK_INFO *i);
void cf_spy_slot_info(struct cf_spy_out *o, const char *name,
		      const CK_SLOT_INFO *i);
void cf_spy_token_info(struct cf_spy_out *o, const char *name,
		       const CK_TOKEN_INFO *i);
void cf_spy_session_info(struct cf_spy_out *o, const char *name,
			 const CK_SESSION_INFO *i);
void cf_spy_mech_info(struct cf_spy_out *o, const char *name,
		      const CK_MECHANISM_INFO *i);
/* A list of CK_ULONGs (slots, mechanisms, handles) with its count. */
void cf_spy_ulongs(struct cf_spy_out *o, const char *name, const CK_ULONG *v,
		   CK_ULONG n, enum cf_spy_role role);
void cf_spy_init_args(struct cf_spy_out *o, const char *name,
		      const CK_C_INITIALIZE_ARGS *a);
void cf_spy_pointer(struct cf_spy_out *o, const char *name, const void *p);

/* The output-length convention after the call: the length, and the bytes
 * when the callee wrote them (rv CKR_OK and a buffer given). */
void cf_spy_outbuf(struct cf_spy_out *o, const char *name, const void *p,
		   const CK_ULONG *len, CK_RV rv, bool secret);

/* ---- the call frame (call.c) ----------------------------------------------
 */

/* Function ids are functions.py's wire ids, 1..CF_SPY_NFUNC. */
#define CF_SPY_NFUNC 92

struct cf_spy_call {
	struct cf_spy_out o;
	unsigned fn;
	struct timespec t0;
	uint64_t ns;
};

/* Starts an entry: the name and the thread. */
void cf_spy_begin(struct cf_spy_call *c, unsigned fn, const char *name);
/* Marks the start of the real call. */
void cf_spy_start(struct cf_spy_call *c);
/* The real call returned rv: the time, the counters, the rv line. */
void cf_spy_returned(struct cf_spy_call *c, CK_RV rv);
/* Writes the entry with one write() and frees it. */
void cf_spy_end(struct cf_spy_call *c);

/* The summary table since the last reset, as one entry; then resets. */
void cf_spy_summary(void);
void cf_spy_stats_reset(void);
/* The name of function id fn ("C_Sign"), for the summary. */
const char *cf_spy_fn_name(unsigned fn);

/* ---- the log and the real module (module.c) ---------------------------- */

/* Appends text to the log with one write(); never fails loudly. */
void cf_spy_log_write(const char *p, size_t len);
bool cf_spy_show_secrets(void);

/* The real module's lists: the 2.40 one always (once loaded), the 3.0 one
 * when the module offers it, else NULL. */
extern CK_FUNCTION_LIST *cf_spy_real;
extern CK_FUNCTION_LIST_3_0 *cf_spy_real3;

/* Message operations a session may have running, for decoding the
 * message-based calls' parameters (their layout follows the mechanism of
 * the session's C_Message*Init). Thread-safe; the lock is never held
 * across a real call. */
enum cf_spy_msg_op {
	CF_SPY_MSG_ENCRYPT,
	CF_SPY_MSG_DECRYPT,
	CF_SPY_MSG_SIGN,
	CF_SPY_MSG_VERIFY,
};
void cf_spy_msg_set(CK_SESSION_HANDLE s, enum cf_spy_msg_op op,
		    CK_MECHANISM_TYPE mech);
void cf_spy_msg_clear(CK_SESSION_HANDLE s, enum cf_spy_msg_op op);
bool cf_spy_msg_get(CK_SESSION_HANDLE s, enum cf_spy_msg_op op,
		    CK_MECHANISM_TYPE *mech);
void cf_spy_msg_reset(void);

#endif
