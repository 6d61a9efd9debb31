/*
 * harness.h - what the multi-process tests share: a scratch directory with
 * a config that points the module under test at it, loading a module by
 * path, a freshly initialised token, and TAP results that child processes
 * send to the parent over a pipe so that one process numbers and prints
 * them. Works against libcoffer.so and SoftHSMv2 alike; nothing here links
 * coffer internals.
 *
 * Not thread-safe. Each process loads the module at most once and never
 * after fork() in the parent: the parent only forks, children load.
 */
#ifndef CF_TEST_HARNESS_H
#define CF_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "coffer/pkcs11.h"

#define H_TOKEN_LABEL "crash"
#define H_SO_PIN "12345678"
#define H_USER_PIN "1234"
#define H_PIN_LOCKOUT 5

struct h_scratch {
	char dir[512];
	char token_dir[600];
	bool softhsm; /* module path names SoftHSMv2 */
};

struct h_module {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
};

/* Makes a fresh directory under $TMPDIR (or /tmp), writes the module's
 * config there and exports COFFER_CONF or SOFTHSM2_CONF, so that children
 * forked afterwards inherit it. Returns 0 or -errno. */
int h_scratch_new(struct h_scratch *s, const char *module_path)
    __attribute__((warn_unused_result));

/* Removes the scratch directory and everything under it. */
void h_scratch_remove(const struct h_scratch *s);

/* dlopen()s path and calls C_Initialize with CKF_OS_LOCKING_OK. On failure
 * prints why to stderr and returns the failing CK_RV (CKR_GENERAL_ERROR
 * when the library or its entry point is missing). */
CK_RV h_module_load(struct h_module *m, const char *path)
    __attribute__((warn_unused_result));

/* C_Finalize, then dlclose. Safe on a module that failed to load. */
void h_module_unload(struct h_module *m);

/* Finds the slot whose initialised token carries label (unpadded).
 * CKR_TOKEN_NOT_PRESENT when no token has it. */
CK_RV h_find_token(const struct h_module *m, const char *label,
		   CK_SLOT_ID *slot) __attribute__((warn_unused_result));

/* In a fresh token directory: C_InitToken on the free slot with
 * H_TOKEN_LABEL and H_SO_PIN, then C_InitPIN with H_USER_PIN. */
CK_RV h_token_setup(const struct h_module *m)
    __attribute__((warn_unused_result));

/* Runs fn(arg) in a child process that loads module_path first and
 * unloads it afterwards; the child's exit status is fn's result (0 ok).
 * Returns the child's pid, or -1. */
pid_t h_spawn(const char *module_path, int (*fn)(struct h_module *, void *),
	      void *arg);

/* h_spawn-able: h_token_setup, exit status 0 when it worked. */
int h_token_setup_main(struct h_module *m, void *arg);
/* Sleeps ms milliseconds (through EINTR). */
void h_sleep_ms(unsigned int ms);
/* Runs fn(arg) in a child (h_spawn) and SIGKILLs it delay_ms after it
 * wrote a byte to *ready_fd (set here, before the fork, to the write end
 * of a pipe fn can write to), or after the fork when wait_ready is false.
 * 0 when the kill ended it, -1 when it never became ready, else its exit
 * status as h_wait gives it. */
int h_kill_when_ready(const char *module_path,
		      int (*fn)(struct h_module *, void *), void *arg,
		      int *ready_fd, bool wait_ready, unsigned int delay_ms,
		      unsigned int timeout_ms);
/* Waits for pid for at most timeout_ms, killing it with SIGKILL when the
 * time runs out. Returns its exit code, 128+signal when it was killed, or
 * -1 when waiting failed. */
int h_wait(pid_t pid, unsigned int timeout_ms);

/* Name of a CK_RV for messages ("CKR_PIN_INCORRECT" or "0x000000a0"). */
const char *h_rv_name(CK_RV rv);

/* Copies a blank-padded PKCS#11 string into a C string without the
 * padding. */
void h_unpad(char *out, size_t outlen, const unsigned char *in, size_t len);

/* ---- TAP through a pipe ----------------------------------------------
 * Children call h_report(); the parent calls h_results_drain() which
 * prints "ok N - ..." / "not ok N - ..." and counts. Each report is one
 * write() smaller than PIPE_BUF, so reports from several children never
 * interleave. */
struct h_results {
	int rfd;
	int wfd;
	unsigned int count;
	unsigned int failed;
};

int h_results_init(struct h_results *r) __attribute__((warn_unused_result));
void h_results_close(struct h_results *r);

/* Sets the descriptor h_report() writes to (in the child). */
void h_report_fd(int fd);

/* Sends one result; returns ok so callers can chain it. */
bool h_report(bool ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reads what is available (the parent must have closed its copy of wfd
 * first if it wants EOF) and prints it. */
void h_results_drain(struct h_results *r);

/* A diagnostic line ("# ...") sent through the same pipe, so that it
 * appears in order with the results. */
void h_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
