/*
 * lockout_restart.c - the user PIN's failure count lives in the token, not
 * in the process: restarting the application must not reset it.
 *
 * usage: lockout_restart MODULE
 *
 * With pin_lockout = 5 (the harness config; SoftHSMv2 has no such setting,
 * so it is expected to fail here):
 *   process 1: four wrong user logins, each CKR_PIN_INCORRECT, then it
 *              exits without C_Finalize, as a crashed application would;
 *   process 2: C_GetTokenInfo shows CKF_USER_PIN_FINAL_TRY; one more wrong
 *              login gives CKR_PIN_INCORRECT; then the right PIN gives
 *              CKR_PIN_LOCKED and CKF_USER_PIN_LOCKED is set;
 *   process 3: still locked, the right PIN still refused; the SO logs in
 *              and C_InitPIN sets a new user PIN, which then logs in, and
 *              the count is reset (no COUNT_LOW, FINAL_TRY or LOCKED);
 *   process 4: after a restart the new PIN logs in and the flags stay
 *              clear.
 * Prints TAP.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define WRONG_PIN "9999"
#define NEW_PIN "424242"
#define TIMEOUT_MS 60000

#define PIN_FLAGS                                                              \
	(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED)

static CK_RV open_session(struct h_module *m, CK_FLAGS rw,
			  CK_SESSION_HANDLE *sh, CK_SLOT_ID *slot)
{
	CK_RV rv = h_find_token(m, H_TOKEN_LABEL, slot);

	if (rv != CKR_OK)
		return rv;
	return m->f->C_OpenSession(*slot, CKF_SERIAL_SESSION | rw, NULL, NULL,
				   sh);
}

static CK_RV login(struct h_module *m, CK_SESSION_HANDLE sh, CK_USER_TYPE who,
		   const char *pin)
{
	return m->f->C_Login(sh, who, (CK_UTF8CHAR_PTR)pin, strlen(pin));
}

static CK_FLAGS token_flags(struct h_module *m, CK_SLOT_ID slot)
{
	CK_TOKEN_INFO ti;

	if (m->f->C_GetTokenInfo(slot, &ti) != CKR_OK)
		return 0;
	return ti.flags;
}

static int process1(struct h_module *m, void *arg)
{
	CK_SESSION_HANDLE sh;
	CK_SLOT_ID slot;
	CK_RV rv;
	int i;

	(void)arg;
	rv = open_session(m, 0, &sh, &slot);
	if (!h_report(rv == CKR_OK, "process 1 opens a session: %s",
		      h_rv_name(rv)))
		return 1;
	for (i = 1; i < H_PIN_LOCKOUT; i++) {
		rv = login(m, sh, CKU_USER, WRONG_PIN);
		h_report(rv == CKR_PIN_INCORRECT,
			 "process 1: wrong user PIN %d of %d gives "
			 "CKR_PIN_INCORRECT: %s",
			 i, H_PIN_LOCKOUT - 1, h_rv_name(rv));
	}
	/* No C_Finalize: the count must already be on disk. */
	_exit(0);
}

static int process2(struct h_module *m, void *arg)
{
	CK_SESSION_HANDLE sh;
	CK_SLOT_ID slot;
	CK_FLAGS fl;
	CK_RV rv;

	(void)arg;
	rv = open_session(m, 0, &sh, &slot);
	if (!h_report(rv == CKR_OK, "process 2 opens a session: %s",
		      h_rv_name(rv)))
		return 1;
	fl = token_flags(m, slot);
	h_report(fl & CKF_USER_PIN_FINAL_TRY,
		 "process 2 sees CKF_USER_PIN_FINAL_TRY (flags 0x%lx)",
		 (unsigned long)fl);
	rv = login(m, sh, CKU_USER, WRONG_PIN);
	h_report(rv == CKR_PIN_INCORRECT,
		 "process 2: last wrong PIN gives CKR_PIN_INCORRECT: %s",
		 h_rv_name(rv));
	rv = login(m, sh, CKU_USER, H_USER_PIN);
	h_report(rv == CKR_PIN_LOCKED,
		 "process 2: right PIN now gives CKR_PIN_LOCKED: %s",
		 h_rv_name(rv));
	fl = token_flags(m, slot);
	h_report(fl & CKF_USER_PIN_LOCKED,
		 "process 2 sees CKF_USER_PIN_LOCKED (flags 0x%lx)",
		 (unsigned long)fl);
	if (rv == CKR_OK)
		m->f->C_Logout(sh);
	m->f->C_CloseSession(sh);
	return 0;
}

static int process3(struct h_module *m, void *arg)
{
	CK_SESSION_HANDLE sh;
	CK_SLOT_ID slot;
	CK_FLAGS fl;
	CK_RV rv;

	(void)arg;
	rv = open_session(m, CKF_RW_SESSION, &sh, &slot);
	if (!h_report(rv == CKR_OK, "process 3 opens a session: %s",
		      h_rv_name(rv)))
		return 1;
	fl = token_flags(m, slot);
	h_report(fl & CKF_USER_PIN_LOCKED,
		 "process 3 still sees CKF_USER_PIN_LOCKED (flags 0x%lx)",
		 (unsigned long)fl);
	rv = login(m, sh, CKU_USER, H_USER_PIN);
	h_report(rv == CKR_PIN_LOCKED,
		 "process 3: right PIN still gives CKR_PIN_LOCKED: %s",
		 h_rv_name(rv));
	if (rv == CKR_OK)
		m->f->C_Logout(sh);
	rv = login(m, sh, CKU_SO, H_SO_PIN);
	if (!h_report(rv == CKR_OK, "process 3: SO logs in: %s", h_rv_name(rv)))
		return 1;
	rv = m->f->C_InitPIN(sh, (CK_UTF8CHAR_PTR)NEW_PIN, strlen(NEW_PIN));
	h_report(rv == CKR_OK, "process 3: SO sets a new user PIN: %s",
		 h_rv_name(rv));
	m->f->C_Logout(sh);
	rv = login(m, sh, CKU_USER, NEW_PIN);
	h_report(rv == CKR_OK, "process 3: new user PIN logs in: %s",
		 h_rv_name(rv));
	if (rv == CKR_OK)
		m->f->C_Logout(sh);
	fl = token_flags(m, slot);
	h_report((fl & PIN_FLAGS) == 0,
		 "process 3: failure count reset, no COUNT_LOW, FINAL_TRY "
		 "or LOCKED (flags 0x%lx)",
		 (unsigned long)fl);
	m->f->C_CloseSession(sh);
	return 0;
}

static int process4(struct h_module *m, void *arg)
{
	CK_SESSION_HANDLE sh;
	CK_SLOT_ID slot;
	CK_FLAGS fl;
	CK_RV rv;

	(void)arg;
	rv = open_session(m, 0, &sh, &slot);
	if (!h_report(rv == CKR_OK, "process 4 opens a session: %s",
		      h_rv_name(rv)))
		return 1;
	fl = token_flags(m, slot);
	h_report((fl & PIN_FLAGS) == 0,
		 "process 4 sees no PIN failure flags (flags 0x%lx)",
		 (unsigned long)fl);
	rv = login(m, sh, CKU_USER, H_USER_PIN);
	h_report(rv == CKR_PIN_INCORRECT,
		 "process 4: the old user PIN is refused: %s", h_rv_name(rv));
	rv = login(m, sh, CKU_USER, NEW_PIN);
	h_report(rv == CKR_OK, "process 4: the new user PIN logs in: %s",
		 h_rv_name(rv));
	if (rv == CKR_OK)
		m->f->C_Logout(sh);
	m->f->C_CloseSession(sh);
	return 0;
}

int main(int argc, char **argv)
{
	static int (*const procs[])(struct h_module *, void *) = {
	    process1,
	    process2,
	    process3,
	    process4,
	};
	struct h_scratch scratch;
	struct h_results res;
	size_t i;
	int st, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MODULE\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A reader that goes away (| head) must not stop the cleanup. */
	signal(SIGPIPE, SIG_IGN);
	printf("TAP version 13\n");
	if (h_scratch_new(&scratch, argv[1]) != 0) {
		printf("Bail out! cannot make a scratch directory\n");
		return 1;
	}
	if (h_results_init(&res) != 0) {
		printf("Bail out! pipe\n");
		goto out_scratch;
	}
	if (h_wait(h_spawn(argv[1], h_token_setup_main, NULL), TIMEOUT_MS) != 0) {
		printf("Bail out! token setup failed\n");
		goto out_results;
	}
	for (i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		st = h_wait(h_spawn(argv[1], procs[i], NULL), TIMEOUT_MS);
		h_report(st == 0, "process %zu exits cleanly (%d)", i + 1, st);
	}
	h_results_drain(&res);
	printf("1..%u\n", res.count);
	rc = res.failed == 0 && res.count > 0 ? 0 : 1;
out_results:
	h_results_close(&res);
out_scratch:
	h_scratch_remove(&scratch);
	return rc;
}
