/*
 * fuzz_kinds.h - the decoder fuzz_codec runs, chosen by an input's first
 * byte (modulo FUZZ_KINDS); shared with gen_corpus, which writes one valid
 * seed per kind.
 */
#ifndef CF_FUZZ_KINDS_H
#define CF_FUZZ_KINDS_H

#define FUZZ_NMSG 3 /* CKM_AES_GCM, CKM_AES_CCM, CKM_CHACHA20_POLY1305 */

enum fuzz_kind {
	FUZZ_TEMPLATE = 0,
	FUZZ_GETATTRS_REQ = 1,
	FUZZ_GETATTRS_REP = 2,
	FUZZ_MECH = 3,
	FUZZ_MSG_REQ = 4, /* + index of the message mechanism */
	FUZZ_MSG_REP = FUZZ_MSG_REQ + FUZZ_NMSG,
	FUZZ_OUTBUF_REQ = FUZZ_MSG_REP + FUZZ_NMSG,
	FUZZ_OUTBUF_REP,
	FUZZ_ULONGS_REQ,
	FUZZ_ULONGS_REP,
	FUZZ_INFOS,
	FUZZ_SCALARS,
	FUZZ_KINDS
};

#endif
