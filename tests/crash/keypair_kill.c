/*
 * keypair_kill.c - can kill -9 during C_GenerateKeyPair leave half a pair?
 *
 * usage: keypair_kill MODULE [-r ROUNDS] [-s SEED]
 *
 * Each round forks a worker that loads MODULE, logs in and generates token
 * P-256 key pairs, each pair with a CKA_ID of its own, as fast as it can;
 * once it is logged in the parent sleeps a random 1-150 ms and SIGKILLs
 * it. A fresh verifier process then lists the token's public and private
 * keys: every CKA_ID must name both halves or neither. A pair is one
 * object to its user, so the kill may take the pair away or leave it
 * whole, never leave a lone public key (that a signature can never be
 * checked against) or a lone private key. Prints TAP, one line per round.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define ROUNDS_DEFAULT 12
#define WORKER_TIMEOUT_MS 30000
#define VERIFY_TIMEOUT_MS 60000
#define KEYS_MAX 4096

struct run {
	const char *module;
	struct h_scratch scratch;
	unsigned int round;
	uint64_t rng;
	int ready_fd; /* the worker writes a byte once logged in */
};

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: the kill moments only need to differ. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static CK_RV open_user_session(struct h_module *m, CK_SESSION_HANDLE *sh)
{
	CK_SLOT_ID slot;
	CK_RV rv = h_find_token(m, H_TOKEN_LABEL, &slot);

	if (rv == CKR_OK)
		rv = m->f->C_OpenSession(slot,
					 CKF_SERIAL_SESSION | CKF_RW_SESSION,
					 NULL, NULL, sh);
	if (rv == CKR_OK)
		rv = m->f->C_Login(*sh, CKU_USER, (CK_UTF8CHAR_PTR)H_USER_PIN,
				   (CK_ULONG)strlen(H_USER_PIN));
	return rv;
}

/* ---- worker ----------------------------------------------------------- */

static int worker_main(struct h_module *m, void *arg)
{
	static const CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
				       0xce, 0x3d, 0x03, 0x01, 0x07};
	struct run *r = arg;
	CK_BBOOL yes = CK_TRUE;
	CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
	CK_SESSION_HANDLE sh;
	uint8_t id[8];
	CK_ATTRIBUTE pub[] = {
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_VERIFY, &yes, sizeof(yes)},
	    {CKA_EC_PARAMS, (void *)p256, sizeof(p256)},
	    {CKA_ID, id, sizeof(id)},
	};
	CK_ATTRIBUTE priv[] = {
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &yes, sizeof(yes)},
	    {CKA_SENSITIVE, &yes, sizeof(yes)},
	    {CKA_SIGN, &yes, sizeof(yes)},
	    {CKA_ID, id, sizeof(id)},
	};
	CK_OBJECT_HANDLE hpub, hpriv;
	CK_RV rv = open_user_session(m, &sh);

	if (rv != CKR_OK) {
		h_note("worker: login: %s", h_rv_name(rv));
		return 1;
	}
	if (write(r->ready_fd, "r", 1) != 1)
		return 1;
	for (uint32_t i = 0;; i++) {
		uint64_t v = (uint64_t)r->round << 32 | i;

		for (int b = 0; b < 8; b++)
			id[b] = (uint8_t)(v >> (56 - 8 * b));
		rv = m->f->C_GenerateKeyPair(sh, &mech, pub, 4, priv, 5, &hpub,
					     &hpriv);
		if (rv != CKR_OK) {
			h_note("worker: C_GenerateKeyPair: %s", h_rv_name(rv));
			return 1;
		}
	}
}

/* ---- verifier --------------------------------------------------------- */

struct ids {
	uint64_t v[KEYS_MAX];
	size_t n;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The CKA_IDs of every key of class cls, sorted. */
static CK_RV list_ids(struct h_module *m, CK_SESSION_HANDLE sh,
		      CK_OBJECT_CLASS cls, struct ids *out)
{
	CK_ATTRIBUTE find = {CKA_CLASS, &cls, sizeof(cls)};
	CK_OBJECT_HANDLE h[64];
	CK_ULONG got = 0;
	CK_RV rv;

	out->n = 0;
	rv = m->f->C_FindObjectsInit(sh, &find, 1);
	if (rv != CKR_OK)
		return rv;
	do {
		rv = m->f->C_FindObjects(sh, h, 64, &got);
		for (CK_ULONG i = 0; rv == CKR_OK && i < got; i++) {
			uint8_t id[8];
			CK_ATTRIBUTE a = {CKA_ID, id, sizeof(id)};
			uint64_t v = 0;

			rv = m->f->C_GetAttributeValue(sh, h[i], &a, 1);
			if (rv == CKR_OK && a.ulValueLen != sizeof(id))
				rv = CKR_GENERAL_ERROR;
			if (rv == CKR_OK && out->n == KEYS_MAX)
				rv = CKR_HOST_MEMORY;
			for (int b = 0; rv == CKR_OK && b < 8; b++)
				v = v << 8 | id[b];
			if (rv == CKR_OK)
				out->v[out->n++] = v;
		}
	} while (rv == CKR_OK && got > 0);
	if (m->f->C_FindObjectsFinal(sh) != CKR_OK && rv == CKR_OK)
		rv = CKR_GENERAL_ERROR;
	qsort(out->v, out->n, sizeof(out->v[0]), cmp_u64);
	return rv;
}

static int verify_main(struct h_module *m, void *arg)
{
	static struct ids pubs, privs;
	struct run *r = arg;
	CK_SESSION_HANDLE sh;
	size_t i = 0, j = 0, lone = 0;
	CK_RV rv = open_user_session(m, &sh);

	(void)r;
	if (rv == CKR_OK)
		rv = list_ids(m, sh, CKO_PUBLIC_KEY, &pubs);
	if (rv == CKR_OK)
		rv = list_ids(m, sh, CKO_PRIVATE_KEY, &privs);
	if (rv != CKR_OK) {
		h_note("verifier: %s", h_rv_name(rv));
		return 1;
	}
	while (i < pubs.n || j < privs.n) {
		if (j == privs.n || (i < pubs.n && pubs.v[i] < privs.v[j])) {
			h_note("lone public key, CKA_ID %016" PRIx64, pubs.v[i]);
			i++, lone++;
		} else if (i == pubs.n || privs.v[j] < pubs.v[i]) {
			h_note("lone private key, CKA_ID %016" PRIx64,
			       privs.v[j]);
			j++, lone++;
		} else {
			i++, j++;
		}
	}
	h_note("%zu public and %zu private keys on the token", pubs.n,
	       privs.n);
	return lone == 0 ? 0 : 1;
}

/* ---- parent ----------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct run r = {0};
	struct h_results res;
	unsigned int rounds = ROUNDS_DEFAULT, passed = 0, delay = 0;
	uint64_t seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	int opt, st, rc = 1;
	bool ok;

	while ((opt = getopt(argc, argv, "r:s:")) != -1) {
		if (opt == 'r')
			rounds = (unsigned int)strtoul(optarg, NULL, 10);
		else if (opt == 's')
			seed = strtoull(optarg, NULL, 0);
		else
			goto out_usage;
	}
	if (optind != argc - 1 || rounds == 0)
		goto out_usage;
	r.module = argv[optind];
	r.rng = seed ? seed : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (h_scratch_new(&r.scratch, r.module) != 0) {
		printf("Bail out! cannot make a scratch directory\n");
		return 1;
	}
	if (h_results_init(&res) != 0) {
		printf("Bail out! pipe\n");
		goto out_scratch;
	}
	printf("TAP version 13\n1..%u\n", rounds);
	printf("# module %s, scratch %s, seed 0x%016" PRIx64 "\n", r.module,
	       r.scratch.dir, seed);
	st = h_wait(h_spawn(r.module, h_token_setup_main, NULL), VERIFY_TIMEOUT_MS);
	if (st != 0) {
		printf("Bail out! token setup failed (%d)\n", st);
		goto out_results;
	}
	for (r.round = 1; r.round <= rounds; r.round++) {
		ok = true;
		delay = 1 + (unsigned int)(rng_next(&r.rng) % 150);
		st = h_kill_when_ready(r.module, worker_main, &r, &r.ready_fd,
				       true, delay, WORKER_TIMEOUT_MS);
		if (st != 0) {
			printf("# worker ended by itself (status %d)\n", st);
			ok = false;
		}
		st = h_wait(h_spawn(r.module, verify_main, &r),
			    VERIFY_TIMEOUT_MS);
		if (st != 0)
			ok = false;
		if (ok)
			passed++;
		printf("%s %u - round %u: killed %u ms after login; every "
		       "key pair whole or gone\n",
		       ok ? "ok" : "not ok", r.round, r.round, delay);
	}
	printf("# %u of %u rounds passed\n", passed, rounds);
	rc = passed == rounds ? 0 : 1;
out_results:
	h_results_close(&res);
out_scratch:
	h_scratch_remove(&r.scratch);
	return rc;
out_usage:
	fprintf(stderr, "usage: %s MODULE [-r ROUNDS] [-s SEED]\n", argv[0]);
	return 2;
}
