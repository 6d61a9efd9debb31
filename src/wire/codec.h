/*
 * codec.h - the encoding of PKCS#11 arguments in a frame's payload
 * (docs/protocol.md). Integers are big-endian; CK_ULONG values travel as 64
 * bits whatever the native width, and a value that does not fit the
 * receiver's CK_ULONG is refused. Every decoder treats its input as hostile:
 * lengths are checked as `len > remaining`, nesting is bounded, nothing is
 * allocated beyond the message's own size, and a failed decode leaves the
 * reader marked bad (every later read fails too), so a caller may decode a
 * whole argument list and check once.
 *
 * The generated client stubs (src/client) and server dispatchers
 * (src/server) call one encoder and one decoder per argument kind of
 * src/pkcs11/functions.py; the kinds' wire forms are defined here.
 *
 * Not thread-safe per object; distinct objects are independent.
 */
#ifndef CF_WIRE_CODEC_H
#define CF_WIRE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coffer/pkcs11.h"

/* The largest value any single length on the wire may carry; frames are
 * bounded separately (frame.h). */
#define CF_WIRE_MAX_TEMPLATE 1024 /* attributes in one template */
#define CF_WIRE_MAX_DEPTH 2	  /* nested templates (CKA_WRAP_TEMPLATE) */
#define CF_WIRE_MAX_LIST 65536	  /* slots, mechanisms, handles in a list */

/*
 * A growable output message. Payload memory is wiped when freed: requests
 * carry PINs and key values, replies carry plaintexts.
 */
struct cf_wout {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max; /* hard cap; exceeding it makes the message bad */
	bool bad;   /* out of memory or over max: the message must not be sent */
};

void cf_wout_init(struct cf_wout *w, size_t max);
void cf_wout_clear(struct cf_wout *w); /* wipes and frees */
/* Keeps the capacity, wipes the content: reuse for the next message. */
void cf_wout_reset(struct cf_wout *w);

void cf_w_u8(struct cf_wout *w, uint8_t v);
void cf_w_u32(struct cf_wout *w, uint32_t v);
void cf_w_u64(struct cf_wout *w, uint64_t v);
void cf_w_ulong(struct cf_wout *w, CK_ULONG v); /* as u64 */
/* Present flag (u8 0/1), then u32 length and the bytes; NULL is "absent". */
void cf_w_bytes(struct cf_wout *w, const void *p, CK_ULONG len);
void cf_w_raw(struct cf_wout *w, const void *p, size_t len);

/*
 * A reader over one received payload. Values it hands out point into the
 * payload or into the arena, so they live until cf_win_clear.
 */
struct cf_arena;
struct cf_win {
	const uint8_t *data;
	size_t len;
	size_t pos;
	bool bad;
	struct cf_arena *arena; /* decoded structures; wiped when cleared */
};

void cf_win_init(struct cf_win *r, const void *data, size_t len);
/* Wipes and frees what the decoders allocated. */
void cf_win_clear(struct cf_win *r);
/* True when every byte was consumed and nothing failed: trailing garbage
 * after the last argument is a protocol error. */
bool cf_win_done(const struct cf_win *r);
/* Memory that lives (and is wiped) with the reader; NULL and marks the
 * reader bad when n exceeds what the payload could justify. */
void *cf_win_alloc(struct cf_win *r, size_t n);

bool cf_r_u8(struct cf_win *r, uint8_t *v);
bool cf_r_u32(struct cf_win *r, uint32_t *v);
bool cf_r_u64(struct cf_win *r, uint64_t *v);
bool cf_r_ulong(struct cf_win *r, CK_ULONG *v); /* fails if > CK_ULONG */
/* *p is NULL for "absent", else points at *len bytes (maybe 0). */
bool cf_r_bytes(struct cf_win *r, const uint8_t **p, CK_ULONG *len);

/*
 * Argument kinds of src/pkcs11/functions.py. For each: what the request
 * carries (cf_w_X_req / cf_r_X_req) and what the reply carries
 * (cf_w_X_rep / cf_r_X_rep). An encoder never fails by itself (the message
 * turns bad); a decoder returns false on malformed input.
 */

/* template: count, then per attribute its type and value, the value
 * encoded by its schema kind (src/pkcs11/schema.h): CK_ULONG values as
 * u64, nested templates recursively, unknown types as bytes. A decoded
 * template is native (pValue/ulValueLen as the module expects). */
void cf_w_template(struct cf_wout *w, const CK_ATTRIBUTE *t, CK_ULONG n);
bool cf_r_template(struct cf_win *r, CK_ATTRIBUTE **t, CK_ULONG *n);

/* getattrs: the request carries, per attribute, the type, whether pValue is
 * NULL and ulValueLen; the server builds a native template with buffers of
 * those sizes (for nested templates, the inner request too). The reply
 * carries each attribute's resulting ulValueLen and, where a buffer was
 * given and filled, the value. cf_r_getattrs_rep writes into the caller's
 * original template, converting CK_ULONG widths; a value longer than the
 * caller's buffer is a protocol error. */
void cf_w_getattrs_req(struct cf_wout *w, const CK_ATTRIBUTE *t, CK_ULONG n);
bool cf_r_getattrs_req(struct cf_win *r, CK_ATTRIBUTE **t, CK_ULONG *n);
void cf_w_getattrs_rep(struct cf_wout *w, const CK_ATTRIBUTE *t, CK_ULONG n);
bool cf_r_getattrs_rep(struct cf_win *r, CK_ATTRIBUTE *t, CK_ULONG n);

/* mech: present flag, type, then the parameter as src/pkcs11/params.h
 * lays it out for that type: nothing, bytes, one u64, or the fields of the
 * structure in table order. A mechanism the table does not know is carried
 * only with a NULL parameter; with one, the encoder marks the message bad
 * and cf_mech_encodable() tells the caller beforehand (the client then
 * returns CKR_MECHANISM_PARAM_INVALID without a round trip). */
bool cf_mech_encodable(const CK_MECHANISM *m);
void cf_w_mech(struct cf_wout *w, const CK_MECHANISM *m);
bool cf_r_mech(struct cf_win *r, CK_MECHANISM **m);

/* msgparam: like a mechanism parameter, laid out by cf_p11_msg_param(mech)
 * for the mechanism of the session's message operation. In/out fields
 * (generated IVs, tags) travel in the request and back in the reply. */
bool cf_msgparam_encodable(CK_MECHANISM_TYPE mech, const void *p,
			   CK_ULONG len);
void cf_w_msgparam_req(struct cf_wout *w, CK_MECHANISM_TYPE mech,
		       const void *p, CK_ULONG len);
bool cf_r_msgparam_req(struct cf_win *r, CK_MECHANISM_TYPE mech, void **p,
		       CK_ULONG *len);
void cf_w_msgparam_rep(struct cf_wout *w, CK_MECHANISM_TYPE mech,
		       const void *p, CK_ULONG len);
bool cf_r_msgparam_rep(struct cf_win *r, CK_MECHANISM_TYPE mech, void *p,
		       CK_ULONG len);

/* outbuf: the request carries whether the buffer is NULL and the length
 * offered; the reply carries the resulting length and, when the buffer was
 * given and the call succeeded, the bytes. cf_r_outbuf_req gives the server
 * a wiped buffer of min(offered, cap) bytes, or NULL. cf_r_outbuf_rep
 * copies into the caller's buffer; more bytes than it offered is a
 * protocol error. */
void cf_w_outbuf_req(struct cf_wout *w, const void *buf, const CK_ULONG *len);
bool cf_r_outbuf_req(struct cf_win *r, size_t cap, uint8_t **buf,
		     CK_ULONG *len);
void cf_w_outbuf_rep(struct cf_wout *w, CK_RV rv, const uint8_t *buf,
		     CK_ULONG len);
bool cf_r_outbuf_rep(struct cf_win *r, CK_RV rv, void *buf, CK_ULONG *len);

/* ulongs_out and handles_out: the same convention for CK_ULONG arrays (a
 * count; the elements when the array was given and the call succeeded).
 * handles_out's request carries the maximum, its reply the count found. */
void cf_w_ulongs_req(struct cf_wout *w, const CK_ULONG *arr,
		     const CK_ULONG *count);
bool cf_r_ulongs_req(struct cf_win *r, CK_ULONG **arr, CK_ULONG *count);
void cf_w_ulongs_rep(struct cf_wout *w, CK_RV rv, const CK_ULONG *arr,
		     CK_ULONG count);
bool cf_r_ulongs_rep(struct cf_win *r, CK_RV rv, CK_ULONG *arr,
		     CK_ULONG *count);

/* info_out: the fixed structures, field by field (strings as their fixed
 * blank-padded arrays, versions as two bytes, CK_ULONG as u64). */
void cf_w_info(struct cf_wout *w, const CK_INFO *i);
bool cf_r_info(struct cf_win *r, CK_INFO *i);
void cf_w_slot_info(struct cf_wout *w, const CK_SLOT_INFO *i);
bool cf_r_slot_info(struct cf_win *r, CK_SLOT_INFO *i);
void cf_w_token_info(struct cf_wout *w, const CK_TOKEN_INFO *i);
bool cf_r_token_info(struct cf_win *r, CK_TOKEN_INFO *i);
void cf_w_session_info(struct cf_wout *w, const CK_SESSION_INFO *i);
bool cf_r_session_info(struct cf_win *r, CK_SESSION_INFO *i);
void cf_w_mech_info(struct cf_wout *w, const CK_MECHANISM_INFO *i);
bool cf_r_mech_info(struct cf_win *r, CK_MECHANISM_INFO *i);

#endif
