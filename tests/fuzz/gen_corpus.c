/*
 * gen_corpus.c - writes the seed corpus of fuzz_codec: one valid message
 * per decoder, each prefixed with its kind byte (fuzz_kinds.h).
 *
 * Usage: gen_corpus DIR   (run by hand; the output is committed in
 * tests/fuzz/corpus/fuzz_codec/)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_kinds.h"
#include "pkcs11/params.h"
#include "wire/codec.h"

static const char *dir;
static int failed;

static void save(const char *name, unsigned kind, const struct cf_wout *w)
{
	char path[4096];
	FILE *f;
	unsigned char k = (unsigned char)kind;

	if (w->bad) {
		fprintf(stderr, "gen_corpus: %s did not encode\n", name);
		failed = 1;
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(&k, 1, 1, f) != 1 ||
	    (w->len > 0 && fwrite(w->data, 1, w->len, f) != w->len) ||
	    fclose(f) != 0) {
		perror(path);
		failed = 1;
	}
}

static CK_BBOOL yes = CK_TRUE;
static CK_ULONG cls = CKO_SECRET_KEY, kt = CKK_AES, vlen = 32;
static CK_MECHANISM_TYPE allowed[] = {CKM_AES_GCM, CKM_AES_CBC_PAD};
static CK_ATTRIBUTE inner[] = {
    {CKA_KEY_TYPE, &kt, sizeof(kt)},
    {CKA_EXTRACTABLE, &yes, sizeof(yes)},
};
static CK_ATTRIBUTE tmpl[] = {
    {CKA_CLASS, &cls, sizeof(cls)},
    {CKA_TOKEN, &yes, sizeof(yes)},
    {CKA_LABEL, "seed", 4},
    {CKA_VALUE_LEN, &vlen, sizeof(vlen)},
    {CKA_ALLOWED_MECHANISMS, allowed, sizeof(allowed)},
    {CKA_WRAP_TEMPLATE, inner, sizeof(inner)},
};

/* The template fuzz_codec's getattrs reply decoder writes into. */
static void client_template(CK_ATTRIBUTE *t, CK_ATTRIBUTE *in, void *bufs)
{
	uint8_t *b = bufs;
	CK_ATTRIBUTE init[] = {
	    {CKA_LABEL, b, 32},
	    {CKA_ID, b + 32, 4},
	    {CKA_KEY_TYPE, b + 64, sizeof(CK_ULONG)},
	    {CKA_ALLOWED_MECHANISMS, b + 128, 4 * sizeof(CK_ULONG)},
	    {CKA_WRAP_TEMPLATE, in, 2 * sizeof(CK_ATTRIBUTE)},
	    {CKA_VALUE, NULL, 0},
	};
	in[0] = (CK_ATTRIBUTE){CKA_LABEL, b + 256, 16};
	in[1] = (CK_ATTRIBUTE){CKA_KEY_TYPE, NULL, 0};
	memcpy(t, init, sizeof(init));
}

static void getattrs_seeds(void)
{
	CK_ATTRIBUTE t[6], in[2], *st;
	CK_ULONG sn;
	_Alignas(CK_ULONG) uint8_t bufs[512];
	struct cf_wout req, rep;
	struct cf_win r;

	client_template(t, in, bufs);
	cf_wout_init(&req, 1u << 20);
	cf_wout_init(&rep, 1u << 20);
	cf_w_getattrs_req(&req, t, 6);
	save("getattrs_req", FUZZ_GETATTRS_REQ, &req);
	cf_win_init(&r, req.data, req.len);
	if (!cf_r_getattrs_req(&r, &st, &sn))
		failed = 1;
	for (CK_ULONG i = 0; i < sn; i++) {
		if (st[i].pValue != NULL && st[i].type != CKA_WRAP_TEMPLATE)
			memset(st[i].pValue, 'v', st[i].ulValueLen);
		if (st[i].type == CKA_VALUE)
			st[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
	}
	cf_w_getattrs_rep(&rep, st, sn);
	save("getattrs_rep", FUZZ_GETATTRS_REP, &rep);
	cf_win_clear(&r);
	cf_wout_clear(&req);
	cf_wout_clear(&rep);
}

static void msg_seeds(void)
{
	static const CK_MECHANISM_TYPE mechs[FUZZ_NMSG] = {
	    CKM_AES_GCM, CKM_AES_CCM, CKM_CHACHA20_POLY1305};

	for (unsigned k = 0; k < FUZZ_NMSG; k++) {
		const struct cf_param_type *t = cf_p11_msg_param(mechs[k]);
		max_align_t st[16];
		uint8_t bufs[8][64];
		struct cf_wout req, rep;
		struct cf_win r;
		void *sp;
		CK_ULONG slen;
		char name[64];

		memset(st, 0, sizeof(st));
		memset(bufs, 0x11, sizeof(bufs));
		for (size_t i = 0; i < t->nfields; i++) {
			const struct cf_pfield *f = &t->fields[i];
			uint8_t *p = bufs[i];
			CK_ULONG v = f->len_in_bits ? 128 : 12;
			if (f->kind != CF_PF_BYTES)
				continue;
			memcpy((uint8_t *)st + f->off, &p, sizeof(p));
			if (f->len_off != CF_PF_NO_LEN)
				memcpy((uint8_t *)st + f->len_off, &v,
				       sizeof(v));
		}
		cf_wout_init(&req, 1u << 20);
		cf_wout_init(&rep, 1u << 20);
		cf_w_msgparam_req(&req, mechs[k], st, (CK_ULONG)t->size);
		snprintf(name, sizeof(name), "msg_req_%u", k);
		save(name, FUZZ_MSG_REQ + k, &req);
		cf_win_init(&r, req.data, req.len);
		if (!cf_r_msgparam_req(&r, mechs[k], &sp, &slen))
			failed = 1;
		cf_w_msgparam_rep(&rep, mechs[k], sp, slen);
		snprintf(name, sizeof(name), "msg_rep_%u", k);
		save(name, FUZZ_MSG_REP + k, &rep);
		cf_win_clear(&r);
		cf_wout_clear(&req);
		cf_wout_clear(&rep);
	}
}

static void mech_seeds(void)
{
	uint8_t iv[16] = {1, 2, 3};
	CK_GCM_PARAMS gcm = {iv, 12, 96, (CK_BYTE *)"aad", 3, 128};
	CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256,
					CKZ_DATA_SPECIFIED, NULL, 0};
	CK_HKDF_PARAMS hkdf = {CK_TRUE, CK_TRUE, CKM_SHA256, CKF_HKDF_SALT_DATA,
			       iv,	16,	 0,	     (CK_BYTE *)"info",
			       4};
	CK_AES_CTR_PARAMS ctr = {32, {0}};
	CK_ULONG maclen = 16;
	CK_MECHANISM ms[] = {
	    {CKM_AES_GCM, &gcm, sizeof(gcm)},
	    {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)},
	    {CKM_HKDF_DERIVE, &hkdf, sizeof(hkdf)},
	    {CKM_AES_CTR, &ctr, sizeof(ctr)},
	    {CKM_AES_CBC_PAD, iv, sizeof(iv)},
	    {CKM_SHA256_HMAC_GENERAL, &maclen, sizeof(maclen)},
	    {CKM_ECDSA, NULL, 0},
	};
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		struct cf_wout w;
		char name[32];

		cf_wout_init(&w, 1u << 20);
		cf_w_mech(&w, &ms[i]);
		snprintf(name, sizeof(name), "mech_%zu", i);
		save(name, FUZZ_MECH, &w);
		cf_wout_clear(&w);
	}
}

static void simple_seeds(void)
{
	struct cf_wout w;
	uint8_t buf[32];
	CK_ULONG len = sizeof(buf), list[3] = {1, 2, 3}, cnt = 3;
	CK_INFO info;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_SESSION_INFO ss = {1, CKS_RW_USER_FUNCTIONS, CKF_RW_SESSION, 0};
	CK_MECHANISM_INFO mi = {256, 4096, CKF_SIGN | CKF_VERIFY};

	cf_wout_init(&w, 1u << 20);
	cf_w_template(&w, tmpl, sizeof(tmpl) / sizeof(tmpl[0]));
	save("template", FUZZ_TEMPLATE, &w);
	cf_wout_reset(&w);
	cf_w_outbuf_req(&w, buf, &len);
	save("outbuf_req", FUZZ_OUTBUF_REQ, &w);
	cf_wout_reset(&w);
	memset(buf, 'c', sizeof(buf));
	cf_w_outbuf_rep(&w, CKR_OK, buf, 20);
	save("outbuf_rep", FUZZ_OUTBUF_REP, &w);
	cf_wout_reset(&w);
	cf_w_ulongs_req(&w, list, &cnt);
	save("ulongs_req", FUZZ_ULONGS_REQ, &w);
	cf_wout_reset(&w);
	cf_w_ulongs_rep(&w, CKR_OK, list, cnt);
	save("ulongs_rep", FUZZ_ULONGS_REP, &w);
	cf_wout_reset(&w);
	memset(&info, ' ', sizeof(info));
	memset(&si, ' ', sizeof(si));
	memset(&ti, ' ', sizeof(ti));
	cf_w_info(&w, &info);
	cf_w_slot_info(&w, &si);
	cf_w_token_info(&w, &ti);
	cf_w_session_info(&w, &ss);
	cf_w_mech_info(&w, &mi);
	save("infos", FUZZ_INFOS, &w);
	cf_wout_reset(&w);
	cf_w_bytes(&w, "1234", 4);
	cf_w_bytes(&w, NULL, 0);
	save("scalars", FUZZ_SCALARS, &w);
	cf_wout_clear(&w);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	dir = argv[1];
	simple_seeds();
	mech_seeds();
	msg_seeds();
	getattrs_seeds();
	return failed;
}
