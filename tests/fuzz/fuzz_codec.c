/*
 * fuzz_codec.c - libFuzzer target for every decoder of the wire codec.
 *
 * The first input byte chooses the decoder (enum kind below), the rest is
 * the payload. Where a decode succeeds the target also runs what the real
 * peer would do next (a server encodes the reply of what it decoded, the
 * decoded template is encoded again), so the encoders see hostile-shaped
 * native data too. The seed corpus in corpus/fuzz_codec/ holds one valid
 * message per kind (gen_corpus.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pkcs11/params.h"
#include "wire/codec.h"
#include "fuzz_kinds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const CK_MECHANISM_TYPE msg_mechs[FUZZ_NMSG] = {CKM_AES_GCM, CKM_AES_CCM,
						       CKM_CHACHA20_POLY1305};

/* A caller's message parameter of the mechanism's type: every pointer
 * field points at its own buffer of the length its member says. */
struct caller_param {
	max_align_t st[16];
	uint8_t bufs[8][64];
};

static void caller_param(const struct cf_param_type *t, struct caller_param *c)
{
	uint8_t *st = (uint8_t *)c->st;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < t->nfields && i < 8; i++) {
		const struct cf_pfield *f = &t->fields[i];
		uint8_t *p = c->bufs[i];
		CK_ULONG v = f->len_in_bits ? 128 : 12;

		if (f->kind != CF_PF_BYTES)
			continue;
		memcpy(st + f->off, &p, sizeof(p));
		if (f->len_off != CF_PF_NO_LEN)
			memcpy(st + f->len_off, &v, sizeof(v));
	}
}

/* The client's side of C_GetAttributeValue: a fixed template. */
static void getattrs_reply(struct cf_win *r)
{
	uint8_t label[32], id[4];
	CK_ULONG kt, mechs[4];
	uint8_t inner_label[16];
	CK_ATTRIBUTE inner[2] = {{CKA_LABEL, inner_label, sizeof(inner_label)},
				 {CKA_KEY_TYPE, NULL, 0}};
	CK_ATTRIBUTE t[] = {
	    {CKA_LABEL, label, sizeof(label)},
	    {CKA_ID, id, sizeof(id)},
	    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	    {CKA_ALLOWED_MECHANISMS, mechs, sizeof(mechs)},
	    {CKA_WRAP_TEMPLATE, inner, sizeof(inner)},
	    {CKA_VALUE, NULL, 0},
	};
	(void)cf_r_getattrs_rep(r, t, sizeof(t) / sizeof(t[0]));
}

/* What a module might do: fill every buffer it was given, claim lengths
 * both within and beyond them. */
static void module_fill(CK_ATTRIBUTE *t, CK_ULONG n, unsigned salt)
{
	for (CK_ULONG i = 0; i < n; i++) {
		if (t[i].pValue != NULL && t[i].type != CKA_WRAP_TEMPLATE &&
		    t[i].type != CKA_UNWRAP_TEMPLATE &&
		    t[i].type != CKA_DERIVE_TEMPLATE)
			/* the head only: buffers may be 16 MiB */
			memset(t[i].pValue, 0x5a,
			       t[i].ulValueLen < 256 ? t[i].ulValueLen : 256);
		else if (t[i].pValue != NULL)
			module_fill(t[i].pValue,
				    t[i].ulValueLen / sizeof(CK_ATTRIBUTE),
				    salt + 1);
		if ((salt + i) % 3 == 1)
			t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
		else if ((salt + i) % 3 == 2)
			t[i].ulValueLen += 8; /* a module overclaiming */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_win r;
	struct cf_wout w;
	CK_ATTRIBUTE *t;
	CK_ULONG n, len;
	CK_MECHANISM *m;
	void *p;
	uint8_t *buf, out[64];
	CK_ULONG ulongs[16];
	const uint8_t *bp;
	struct caller_param cp;
	unsigned kind;

	if (size < 1)
		return 0;
	kind = data[0] % FUZZ_KINDS;
	cf_win_init(&r, data + 1, size - 1);
	cf_wout_init(&w, 1u << 22);
	switch (kind) {
	case FUZZ_TEMPLATE:
		if (cf_r_template(&r, &t, &n)) {
			/* what decodes must encode again */
			cf_w_template(&w, t, n);
			if (w.bad)
				__builtin_trap();
		}
		break;
	case FUZZ_GETATTRS_REQ:
		if (cf_r_getattrs_req(&r, &t, &n)) {
			module_fill(t, n, (unsigned)size);
			cf_w_getattrs_rep(&w, t, n);
		}
		break;
	case FUZZ_GETATTRS_REP:
		getattrs_reply(&r);
		break;
	case FUZZ_MECH:
		if (cf_r_mech(&r, &m) && m != NULL) {
			if (!cf_mech_encodable(m))
				__builtin_trap();
			cf_w_mech(&w, m);
		}
		break;
	case FUZZ_MSG_REQ:
	case FUZZ_MSG_REQ + 1:
	case FUZZ_MSG_REQ + 2:
		if (cf_r_msgparam_req(&r, msg_mechs[kind - FUZZ_MSG_REQ], &p,
				      &len))
			cf_w_msgparam_rep(&w, msg_mechs[kind - FUZZ_MSG_REQ], p,
					  len);
		break;
	case FUZZ_MSG_REP:
	case FUZZ_MSG_REP + 1:
	case FUZZ_MSG_REP + 2: {
		CK_MECHANISM_TYPE mt = msg_mechs[kind - FUZZ_MSG_REP];
		const struct cf_param_type *type = cf_p11_msg_param(mt);
		caller_param(type, &cp);
		(void)cf_r_msgparam_rep(&r, mt, cp.st, (CK_ULONG)type->size);
		break;
	}
	case FUZZ_OUTBUF_REQ:
		(void)cf_r_outbuf_req(&r, 1u << 16, &buf, &len);
		break;
	case FUZZ_OUTBUF_REP:
		len = sizeof(out);
		(void)cf_r_outbuf_rep(&r, CKR_OK, out, &len);
		break;
	case FUZZ_ULONGS_REQ:
		(void)cf_r_ulongs_req(&r, (CK_ULONG **)&p, &len);
		break;
	case FUZZ_ULONGS_REP:
		len = 16;
		(void)cf_r_ulongs_rep(&r, CKR_OK, ulongs, &len);
		break;
	case FUZZ_INFOS: {
		CK_INFO i;
		CK_SLOT_INFO s;
		CK_TOKEN_INFO tk;
		CK_SESSION_INFO ss;
		CK_MECHANISM_INFO mi;
		(void)(cf_r_info(&r, &i) && cf_r_slot_info(&r, &s) &&
		       cf_r_token_info(&r, &tk) && cf_r_session_info(&r, &ss) &&
		       cf_r_mech_info(&r, &mi));
		break;
	}
	case FUZZ_SCALARS:
		while (cf_r_bytes(&r, &bp, &len))
			;
		break;
	}
	(void)cf_win_done(&r);
	cf_win_clear(&r);
	cf_wout_clear(&w);
	return 0;
}
