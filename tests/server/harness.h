/*
 * harness.h - cofferd under test: a scratch token directory, cofferd
 * processes started and stopped by PID, and a raw wire client built from
 * src/wire (conn, hello, codec, TLS) that sends exactly the bytes a test
 * wants.
 */
#ifndef CF_TESTS_SERVER_HARNESS_H
#define CF_TESTS_SERVER_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "coffer/pkcs11.h"
#include "wire/codec.h"
#include "wire/conn.h"
#include "wire/tls.h"

#define T_MS 20000 /* generous: a loaded 2-core VM under ASan */

extern const char *h_cofferd, *h_module;
extern char h_dir[64];	 /* scratch directory */
extern char h_sock[100]; /* the Unix socket tests listen on */
extern char h_conf[512]; /* the config file of the last h_start */

/* Scratch dir, COFFER_CONF for the module (fast KDF), two tokens "alpha"
 * and "beta" initialized through a cofferd. */
int h_setup(int argc, char **argv);
void h_teardown(void);

/* A file in the scratch dir; returns a static buffer (two in rotation). */
const char *h_path(const char *name);
void h_write(const char *file, const char *text);

/*
 * Starts cofferd with --module, --listen unix:h_sock (unless listen is
 * false), the extra arguments (NULL-terminated) and, when conf is not
 * NULL, a config file with that text. Waits until the socket exists (or a
 * given ready_path, for TCP-only). Returns the PID, or -1 when cofferd
 * exited first (then *status has its wait status).
 */
pid_t h_start(const char *conf, bool listen, const char *const *extra,
	      int *status);
/* SIGTERM, then waits (bounded; SIGKILL past it). Returns wait status. */
int h_stop(pid_t pid);
/* SIGKILL every cofferd still running (suite teardown). */
void h_kill_all(void);
/* Lines cofferd wrote so far contain s. */
bool h_log_has(const char *s);
/* Waits (bounded) until the log has s: workers log after the client saw
 * the outcome. */
bool h_wait_log(const char *s);
/* PIDs of pid's children (cofferd's workers), how many. */
size_t h_children(pid_t pid, pid_t *out, size_t max);

struct h_cli {
	struct cf_conn *c;
	uint32_t id;
	struct cf_hello hello;
};

int h_unix_fd(void);
/* Connects to h_sock and handshakes; asserts success. */
void h_connect(struct h_cli *cli);
void h_close(struct h_cli *cli);

/* Sends fn with the request payload, receives the reply (asserting it is
 * a reply to that id) and starts r on it, rv read. Clear f after. */
CK_RV h_call(struct h_cli *cli, uint16_t fn, struct cf_wout *req,
	     struct cf_frame *f, struct cf_win *r);
/* Receives one frame; returns cf_conn_recv's result. */
int h_recv(struct h_cli *cli, struct cf_frame *f);
/* Expects a CF_FRAME_ERROR with code. */
void h_expect_error(struct h_cli *cli, uint32_t code);
/* The connection ends within T_MS (-ECONNRESET). */
void h_expect_closed(struct h_cli *cli);

/* Convenience calls. */
CK_RV h_slot_list(struct h_cli *cli, CK_SLOT_ID *slots, CK_ULONG *n);
CK_RV h_token_label(struct h_cli *cli, CK_SLOT_ID slot, char label[33]);
CK_RV h_slot_of(struct h_cli *cli, const char *label, CK_SLOT_ID *slot);
CK_RV h_open_session(struct h_cli *cli, CK_SLOT_ID slot, CK_SESSION_HANDLE *h);
CK_RV h_close_session(struct h_cli *cli, CK_SESSION_HANDLE h);
CK_RV h_random(struct h_cli *cli, CK_SESSION_HANDLE h, uint8_t *buf,
	       CK_ULONG len);
CK_RV h_get_info(struct h_cli *cli);

#endif
