/*
 * fuzz.c - the entry of tests/fuzz/fuzz_client_reply.c into the generated
 * reply decoders: scratch outputs of realistic shapes (a template with a
 * nested one, message parameters laid out from the schema with their
 * buffers in place), so the decoders run their full paths on hostile
 * bytes.
 */
#include "client/client.h"
#include "client/stubs.h"

#include <string.h>

#include "pkcs11/params.h"

#define PARAM_BUF 64

struct msg_scratch {
	CK_ULONG param[32]; /* aligned storage for the parameter struct */
	uint8_t bufs[8][PARAM_BUF];
};

/* Lays out the message parameter of mech: every pointer field gets a
 * buffer of PARAM_BUF bytes (bits when the length counts bits). */
static CK_ULONG build_param(struct msg_scratch *m, CK_MECHANISM_TYPE mech)
{
	const struct cf_param_type *t = cf_p11_msg_param(mech);
	uint8_t *base = (uint8_t *)m->param;
	size_t nbuf = 0;

	memset(m, 0, sizeof(*m));
	if (t == NULL)
		return 0;
	if (t->shape == CF_PARAM_BYTES)
		return PARAM_BUF; /* caller passes m->bufs[0] */
	if (t->shape == CF_PARAM_ULONG)
		return sizeof(CK_ULONG);
	if (t->shape != CF_PARAM_STRUCT || t->size > sizeof(m->param))
		return 0;
	for (size_t i = 0; i < t->nfields; i++) {
		const struct cf_pfield *f = &t->fields[i];

		if (f->kind != CF_PF_BYTES || nbuf >= 8)
			continue;
		memcpy(base + f->off, &(void *){m->bufs[nbuf++]},
		       sizeof(void *));
		if (f->len_off != CF_PF_NO_LEN) {
			CK_ULONG len = f->len_in_bits ? PARAM_BUF * 8
						      : PARAM_BUF;

			memcpy(base + f->len_off, &len, sizeof(len));
		}
	}
	return (CK_ULONG)t->size;
}

CK_RV cf_client_fuzz_reply(uint16_t fn, CK_MECHANISM_TYPE mech,
			   const uint8_t *data, size_t len)
{
	static const CK_ATTRIBUTE_TYPE types[CF_FUZZ_NATTR] = {
	    CKA_LABEL, CKA_CLASS, CKA_TOKEN, CKA_WRAP_TEMPLATE};
	static CK_ATTRIBUTE inner[2];
	static uint8_t inner_vals[2][32];
	const struct cf_param_type *t = cf_p11_msg_param(mech);
	struct cf_fuzz_scratch f;
	struct msg_scratch m;
	struct cf_win r;
	void *param;
	CK_ULONG param_len;
	CK_RV rv;

	memset(&f, 0, sizeof(f));
	for (size_t i = 0; i < CF_FUZZ_NATTR; i++) {
		f.attrs[i].type = types[i];
		f.attrs[i].pValue = f.vals[i];
		f.attrs[i].ulValueLen = sizeof(f.vals[i]);
	}
	/* The nested template of CKA_WRAP_TEMPLATE, with its own buffers. */
	inner[0] = (CK_ATTRIBUTE){CKA_CLASS, inner_vals[0], sizeof(CK_ULONG)};
	inner[1] = (CK_ATTRIBUTE){CKA_LABEL, inner_vals[1], 32};
	f.attrs[3].pValue = inner;
	f.attrs[3].ulValueLen = sizeof(inner);
	param_len = build_param(&m, mech);
	param = t != NULL && t->shape == CF_PARAM_BYTES ? (void *)m.bufs[0]
							: (void *)m.param;
	cf_win_init(&r, data, len);
	rv = cf_client_fuzz_one(&f, &r, fn, mech, param_len ? param : NULL,
				param_len);
	cf_win_clear(&r);
	return rv;
}
