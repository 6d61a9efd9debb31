/*
 * test_server.c - cofferd as a client sees it: a real cofferd process
 * exporting libcoffer.so, driven by a raw wire client. Each test starts
 * its own cofferd and stops it by PID.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "harness.h"
#include "pkcs11/functions_table.h"

static int g_argc;
static char **g_argv;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* A second client does a full call: the server still serves. */
static void assert_serving(void)
{
	struct h_cli cli;
	h_connect(&cli);
	assert_int_equal(h_get_info(&cli), CKR_OK);
	h_close(&cli);
}

/* Sends a raw header (and optional bytes) on a fresh, handshaken conn. */
static void send_raw(struct h_cli *cli, const void *p, size_t n)
{
	assert_int_equal(send(cf_conn_fd(cli->c), p, n, MSG_NOSIGNAL),
			 (ssize_t)n);
}

static void put_hdr(uint8_t h[12], uint32_t len, uint32_t id, uint16_t type,
		    uint16_t fn)
{
	h[0] = (uint8_t)(len >> 24);
	h[1] = (uint8_t)(len >> 16);
	h[2] = (uint8_t)(len >> 8);
	h[3] = (uint8_t)len;
	h[4] = (uint8_t)(id >> 24);
	h[5] = (uint8_t)(id >> 16);
	h[6] = (uint8_t)(id >> 8);
	h[7] = (uint8_t)id;
	h[8] = (uint8_t)(type >> 8);
	h[9] = (uint8_t)type;
	h[10] = (uint8_t)(fn >> 8);
	h[11] = (uint8_t)fn;
}

/* ---- basics ------------------------------------------------------------ */

static void test_server__handshake_and_token_info(void **state)
{
	struct h_cli cli;
	CK_SLOT_ID slots[16];
	CK_ULONG n = 0;
	CK_SLOT_ID slot;
	char label[33];
	pid_t pid = h_start(NULL, true, NULL, NULL);

	(void)state;
	h_connect(&cli);
	assert_int_equal(cli.hello.version, CF_PROTO_VERSION);
	assert_int_equal(h_get_info(&cli), CKR_OK);
	/* Length first, then the list. */
	assert_int_equal(h_slot_list(&cli, NULL, &n), CKR_OK);
	assert_true(n >= 3); /* alpha, beta, a free slot */
	n = 1;
	assert_int_equal(h_slot_list(&cli, slots, &n), CKR_BUFFER_TOO_SMALL);
	n = 16;
	assert_int_equal(h_slot_list(&cli, slots, &n), CKR_OK);
	assert_int_equal(h_slot_of(&cli, "alpha", &slot), CKR_OK);
	assert_int_equal(h_token_label(&cli, slot, label), CKR_OK);
	assert_string_equal(label, "alpha");
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__session_and_random(void **state)
{
	struct h_cli cli;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s = 0;
	uint8_t a[32], b[32];
	pid_t pid = h_start(NULL, true, NULL, NULL);

	(void)state;
	h_connect(&cli);
	assert_int_equal(h_slot_of(&cli, "alpha", &slot), CKR_OK);
	assert_int_equal(h_open_session(&cli, slot, &s), CKR_OK);
	assert_true(s != 0);
	assert_int_equal(h_random(&cli, s, a, sizeof(a)), CKR_OK);
	assert_int_equal(h_random(&cli, s, b, sizeof(b)), CKR_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(h_close_session(&cli, s), CKR_OK);
	assert_int_equal(h_random(&cli, s, a, sizeof(a)),
			 CKR_SESSION_HANDLE_INVALID);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}

/* ---- hostile frames ---------------------------------------------------- */

static void test_server__oversized_frame_is_refused(void **state)
{
	struct h_cli cli;
	uint8_t h[12];
	pid_t pid = h_start(NULL, true, NULL, NULL);

	(void)state;
	h_connect(&cli);
	put_hdr(h, cli.hello.max_frame + 1, 1, CF_FRAME_REQUEST, 3);
	send_raw(&cli, h, sizeof(h));
	h_expect_error(&cli, CF_PERR_TOO_LARGE);
	h_expect_closed(&cli);
	h_close(&cli);
	assert_serving();
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__truncated_frame_then_close(void **state)
{
	struct h_cli cli;
	uint8_t h[12 + 10];
	pid_t pid = h_start(NULL, true, NULL, NULL);
	pid_t kids[8];
	long deadline;

	(void)state;
	h_connect(&cli);
	memset(h, 0, sizeof(h));
	put_hdr(h, 100, 1, CF_FRAME_REQUEST, 3); /* announces 100, sends 10 */
	send_raw(&cli, h, sizeof(h));
	assert_int_equal(shutdown(cf_conn_fd(cli.c), SHUT_WR), 0);
	h_expect_closed(&cli);
	h_close(&cli);
	/* Its worker is gone. */
	deadline = now_ms() + T_MS;
	while (h_children(pid, kids, 8) > 0 && now_ms() < deadline)
		nap_ms(20);
	assert_int_equal(h_children(pid, kids, 8), 0);
	assert_serving();
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__garbage_after_handshake_closes(void **state)
{
	struct h_cli cli;
	uint8_t junk[64];
	pid_t pid = h_start(NULL, true, NULL, NULL);

	(void)state;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(0xa5 ^ (i * 37));
	h_connect(&cli);
	send_raw(&cli, junk, sizeof(junk));
	h_expect_closed(&cli);
	h_close(&cli);
	assert_serving();
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__malformed_payload_is_refused(void **state)
{
	struct h_cli cli;
	const char junk[] = "not a slot id";
	pid_t pid = h_start(NULL, true, NULL, NULL);

	(void)state;
	h_connect(&cli);
	/* C_GetTokenInfo takes one u64: 13 bytes do not decode. */
	assert_int_equal(cf_conn_send(cli.c, CF_FRAME_REQUEST, 9, 7, junk,
				      strlen(junk), T_MS),
			 0);
	h_expect_error(&cli, CF_PERR_MALFORMED);
	h_expect_closed(&cli);
	h_close(&cli);
	assert_serving();
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__unknown_function_keeps_connection(void **state)
{
	struct h_cli cli;
	struct cf_frame f;
	uint32_t code = 0;
	pid_t pid = h_start(NULL, true, NULL, NULL);

	(void)state;
	h_connect(&cli);
	assert_int_equal(
	    cf_conn_send(cli.c, CF_FRAME_REQUEST, 999, 42, NULL, 0, T_MS), 0);
	assert_int_equal(h_recv(&cli, &f), 0);
	assert_int_equal(f.type, CF_FRAME_ERROR);
	assert_int_equal(f.id, 42);
	assert_int_equal(cf_conn_parse_error(&f, &code, NULL, 0), 0);
	assert_int_equal(code, CF_PERR_UNKNOWN_FN);
	cf_frame_clear(&f);
	/* C_Initialize (1) is answered by the client, never carried. */
	assert_int_equal(
	    cf_conn_send(cli.c, CF_FRAME_REQUEST, 1, 43, NULL, 0, T_MS), 0);
	h_expect_error(&cli, CF_PERR_UNKNOWN_FN);
	assert_int_equal(h_get_info(&cli), CKR_OK);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__wrong_protocol_version_is_refused(void **state)
{
	struct cf_conn *c = NULL;
	struct h_cli cli;
	uint8_t hello[16] = {'C', 'O', 'F', 'F', 'E', 'R', 0, 0, 0,
			     99,  0,   99,  0,	 1,   0,   0}; /* v99 .. v99 */
	pid_t pid = h_start(NULL, true, NULL, NULL);

	(void)state;
	assert_int_equal(
	    cf_conn_new(h_unix_fd(), NULL, CF_FRAME_MAX_DEFAULT, &c), 0);
	cli.c = c;
	assert_int_equal(
	    cf_conn_send(c, CF_FRAME_HELLO, 0, 0, hello, sizeof(hello), T_MS),
	    0);
	h_expect_error(&cli, CF_PERR_VERSION);
	h_expect_closed(&cli);
	cf_conn_free(c);
	assert_serving();
	assert_int_equal(h_stop(pid), 0);
}

/* ---- access control ---------------------------------------------------- */

static void test_server__uid_not_allowed_is_denied(void **state)
{
	char conf[128];
	struct cf_conn *c = NULL;
	struct cf_hello hello;
	pid_t pid;

	(void)state;
	snprintf(conf, sizeof(conf), "allow_uid = %lu\n",
		 (unsigned long)getuid() + 4242);
	pid = h_start(conf, true, NULL, NULL);
	assert_int_equal(
	    cf_conn_new(h_unix_fd(), NULL, CF_FRAME_MAX_DEFAULT, &c), 0);
	/* The refusal arrives in place of the hello reply. */
	assert_int_equal(cf_hello_client(c, T_MS, &hello), -EPROTO);
	assert_int_equal(hello.refused, CF_PERR_DENIED);
	cf_conn_free(c);
	assert_true(h_wait_log("not in allow_uid"));
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__uid_not_allowed_gets_denied_frame(void **state)
{
	char conf[128];
	struct cf_conn *c = NULL;
	struct h_cli cli;
	uint8_t hello[16] = {'C', 'O', 'F', 'F', 'E', 'R', 0, 0,
			     0,	  1,   0,   1,	 0,   1,   0, 0};
	pid_t pid;

	(void)state;
	snprintf(conf, sizeof(conf), "allow_uid = %lu\n",
		 (unsigned long)getuid() + 4242);
	pid = h_start(conf, true, NULL, NULL);
	assert_int_equal(
	    cf_conn_new(h_unix_fd(), NULL, CF_FRAME_MAX_DEFAULT, &c), 0);
	cli.c = c;
	assert_int_equal(
	    cf_conn_send(c, CF_FRAME_HELLO, 0, 0, hello, sizeof(hello), T_MS),
	    0);
	h_expect_error(&cli, CF_PERR_DENIED);
	h_expect_closed(&cli);
	cf_conn_free(c);
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__allowed_uid_is_served(void **state)
{
	char conf[128];
	pid_t pid;

	(void)state;
	snprintf(conf, sizeof(conf), "allow_uid = %lu\nallow_uid = %lu\n",
		 (unsigned long)getuid() + 4242, (unsigned long)getuid());
	pid = h_start(conf, true, NULL, NULL);
	assert_serving();
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__sighup_reloads_access_rules(void **state)
{
	char conf[128];
	struct cf_conn *c = NULL;
	struct cf_hello hello;
	const char *file;
	pid_t pid;
	long deadline;

	(void)state;
	pid = h_start("max_sessions = 64\n", true, NULL, NULL);
	assert_serving();
	file = h_conf; /* the config file cofferd was started with */
	snprintf(conf, sizeof(conf), "max_sessions = 64\nallow_uid = %lu\n",
		 (unsigned long)getuid() + 4242);
	h_write(file, conf);
	assert_int_equal(kill(pid, SIGHUP), 0);
	deadline = now_ms() + T_MS;
	while (!h_log_has("reloaded access rules") && now_ms() < deadline)
		nap_ms(20);
	assert_true(h_log_has("reloaded access rules"));
	assert_int_equal(
	    cf_conn_new(h_unix_fd(), NULL, CF_FRAME_MAX_DEFAULT, &c), 0);
	assert_int_not_equal(cf_hello_client(c, T_MS, &hello), 0);
	cf_conn_free(c);
	assert_int_equal(h_stop(pid), 0);
}

/* ---- tokens and limits ------------------------------------------------- */

static void test_server__token_filter_hides_other_tokens(void **state)
{
	const char *const args[] = {"--token", "pkcs11:token=alpha", NULL};
	struct h_cli cli;
	CK_SLOT_ID slots[16], slot;
	CK_ULONG n = 16;
	char label[33];
	pid_t pid;

	(void)state;
	/* Where beta lives, seen without a filter. */
	pid = h_start(NULL, true, NULL, NULL);
	h_connect(&cli);
	assert_int_equal(h_slot_of(&cli, "beta", &slot), CKR_OK);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);

	pid = h_start(NULL, true, args, NULL);
	h_connect(&cli);
	assert_int_equal(h_slot_list(&cli, slots, &n), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(h_token_label(&cli, slots[0], label), CKR_OK);
	assert_string_equal(label, "alpha");
	assert_int_equal(h_token_label(&cli, slot, label), CKR_SLOT_ID_INVALID);
	{
		CK_SESSION_HANDLE s;
		assert_int_equal(h_open_session(&cli, slot, &s),
				 CKR_SLOT_ID_INVALID);
	}
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__map_narrows_tokens_per_peer(void **state)
{
	char conf[256];
	struct h_cli cli;
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	char label[33];
	pid_t pid;

	(void)state;
	snprintf(conf, sizeof(conf), "map = uid=%lu -> pkcs11:token=beta\n",
		 (unsigned long)getuid());
	pid = h_start(conf, true, NULL, NULL);
	h_connect(&cli);
	assert_int_equal(h_slot_list(&cli, slots, &n), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(h_token_label(&cli, slots[0], label), CKR_OK);
	assert_string_equal(label, "beta");
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__session_limit_gives_session_count(void **state)
{
	struct h_cli cli;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s1, s2, s3;
	pid_t pid = h_start("max_sessions = 2\n", true, NULL, NULL);

	(void)state;
	h_connect(&cli);
	assert_int_equal(h_slot_of(&cli, "alpha", &slot), CKR_OK);
	assert_int_equal(h_open_session(&cli, slot, &s1), CKR_OK);
	assert_int_equal(h_open_session(&cli, slot, &s2), CKR_OK);
	assert_int_equal(h_open_session(&cli, slot, &s3), CKR_SESSION_COUNT);
	assert_int_equal(h_close_session(&cli, s1), CKR_OK);
	assert_int_equal(h_open_session(&cli, slot, &s3), CKR_OK);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}

/* Sends, as request id, a session-object RSA key pair generation: a call
 * slow enough to be still running when the next request arrives, short
 * enough for cofferd's 5 s drain even under ASan on a loaded machine. */
static void send_slow_keygen(struct h_cli *cli, CK_SESSION_HANDLE s,
			     uint32_t id)
{
	CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
	CK_ULONG bits = 2048;
	CK_ATTRIBUTE pub[] = {
	    {CKA_TOKEN, &no, sizeof(no)},
	    {CKA_VERIFY, &yes, sizeof(yes)},
	    {CKA_MODULUS_BITS, &bits, sizeof(bits)},
	};
	CK_ATTRIBUTE priv[] = {
	    {CKA_TOKEN, &no, sizeof(no)},
	    {CKA_PRIVATE, &no, sizeof(no)},
	    {CKA_SIGN, &yes, sizeof(yes)},
	};
	CK_MECHANISM gen = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	struct cf_wout w;

	cf_wout_init(&w, 4096);
	cf_w_ulong(&w, s);
	cf_w_mech(&w, &gen);
	cf_w_template(&w, pub, 3);
	cf_w_template(&w, priv, 3);
	assert_int_equal(cf_conn_send(cli->c, CF_FRAME_REQUEST,
				      CF_FN_C_GenerateKeyPair, id, w.data,
				      w.len, T_MS),
			 0);
	cf_wout_clear(&w);
}

static void test_server__calls_over_inflight_limit_get_limit_error(void **state)
{
	struct h_cli cli;
	struct cf_frame f;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s;
	bool got_limit = false, got_reply = false;
	uint32_t code = 0;
	pid_t pid = h_start("max_inflight = 1\n", true, NULL, NULL);

	(void)state;
	h_connect(&cli);
	assert_int_equal(cli.hello.max_inflight, 1);
	assert_int_equal(h_slot_of(&cli, "alpha", &slot), CKR_OK);
	assert_int_equal(h_open_session(&cli, slot, &s), CKR_OK);
	/* A slow call, and right behind it a second one. */
	send_slow_keygen(&cli, s, 100);
	assert_int_equal(
	    cf_conn_send(cli.c, CF_FRAME_REQUEST, 3, 101, NULL, 0, T_MS), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(h_recv(&cli, &f), 0);
		if (f.id == 101) {
			assert_int_equal(f.type, CF_FRAME_ERROR);
			assert_int_equal(
			    cf_conn_parse_error(&f, &code, NULL, 0), 0);
			assert_int_equal(code, CF_PERR_LIMIT);
			got_limit = true;
		} else {
			assert_int_equal(f.id, 100);
			assert_int_equal(f.type, CF_FRAME_REPLY);
			got_reply = true;
		}
		cf_frame_clear(&f);
	}
	assert_true(got_limit && got_reply);
	/* The connection goes on. */
	assert_int_equal(h_get_info(&cli), CKR_OK);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__idle_client_is_closed(void **state)
{
	struct h_cli cli;
	pid_t pid = h_start("idle_timeout = 1\n", true, NULL, NULL);

	(void)state;
	h_connect(&cli);
	assert_int_equal(h_get_info(&cli), CKR_OK);
	h_expect_error(&cli, CF_PERR_IDLE);
	h_expect_closed(&cli);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}

/* ---- audit ------------------------------------------------------------- */

static CK_RV call_simple(struct h_cli *cli, uint16_t fn, struct cf_wout *w)
{
	struct cf_frame f;
	struct cf_win r;
	CK_RV rv = h_call(cli, fn, w, &f, &r);
	cf_win_clear(&r);
	cf_frame_clear(&f);
	return rv;
}

static CK_RV login(struct h_cli *cli, CK_SESSION_HANDLE s, CK_USER_TYPE u,
		   const char *pin)
{
	struct cf_wout w;
	cf_wout_init(&w, 1024);
	cf_w_ulong(&w, s);
	cf_w_ulong(&w, u);
	cf_w_bytes(&w, pin, (CK_ULONG)strlen(pin));
	return call_simple(cli, 23, &w);
}

static void test_server__audit_logs_login_without_pin(void **state)
{
	struct h_cli cli;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s;
	pid_t pid = h_start(NULL, true, NULL, NULL);

	(void)state;
	h_connect(&cli);
	assert_int_equal(h_slot_of(&cli, "alpha", &slot), CKR_OK);
	assert_int_equal(h_open_session(&cli, slot, &s), CKR_OK);
	assert_int_equal(login(&cli, s, CKU_SO, "wrong-pin-777"),
			 CKR_PIN_INCORRECT);
	assert_int_equal(login(&cli, s, CKU_SO, "12345678"), CKR_OK);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
	assert_true(h_wait_log("C_Login session="));
	assert_true(h_wait_log("user=CKU_SO rv=CKR_PIN_INCORRECT"));
	assert_true(h_wait_log("user=CKU_SO rv=CKR_OK"));
	assert_true(h_wait_log("audit conn=1 uid="));
	assert_false(h_log_has("wrong-pin-777"));
	assert_false(h_log_has("12345678"));
}

static void test_server__audit_names_used_key_by_id(void **state)
{
	struct h_cli cli;
	struct cf_wout w;
	struct cf_frame f;
	struct cf_win r;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key = 0;
	CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
	CK_ULONG len = 16;
	uint8_t id[3] = {0xc0, 0xff, 0xee};
	CK_ATTRIBUTE t[] = {
	    {CKA_TOKEN, &no, sizeof(no)},
	    {CKA_PRIVATE, &no, sizeof(no)},
	    {CKA_DECRYPT, &yes, sizeof(yes)},
	    {CKA_VALUE_LEN, &len, sizeof(len)},
	    {CKA_ID, id, sizeof(id)},
	};
	CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
	CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
	pid_t pid = h_start(NULL, true, NULL, NULL);

	(void)state;
	h_connect(&cli);
	assert_int_equal(h_slot_of(&cli, "alpha", &slot), CKR_OK);
	assert_int_equal(h_open_session(&cli, slot, &s), CKR_OK);
	cf_wout_init(&w, 4096);
	cf_w_ulong(&w, s);
	cf_w_mech(&w, &gen);
	cf_w_template(&w, t, 5);
	assert_int_equal(h_call(&cli, 84, &w, &f, &r), CKR_OK);
	assert_true(cf_r_ulong(&r, &key));
	cf_win_clear(&r);
	cf_frame_clear(&f);
	cf_wout_init(&w, 4096);
	cf_w_ulong(&w, s);
	cf_w_mech(&w, &ecb);
	cf_w_ulong(&w, key);
	assert_int_equal(call_simple(&cli, 39, &w), CKR_OK);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
	assert_true(h_wait_log("C_GenerateKey session="));
	assert_true(h_wait_log("mech=CKM_AES_KEY_GEN"));
	assert_true(h_wait_log("class=CKO_SECRET_KEY id=c0ffee rv=CKR_OK"));
}

/* ---- processes --------------------------------------------------------- */

static void test_server__killed_client_frees_its_worker(void **state)
{
	struct h_cli other;
	pid_t pid = h_start(NULL, true, NULL, NULL);
	pid_t child, kids[8];
	int pfd[2];
	char c = 0;
	long deadline;

	(void)state;
	h_connect(&other);
	assert_int_equal(pipe(pfd), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		/* A client with a session that never stops calling. */
		struct h_cli cli;
		CK_SLOT_ID slot;
		CK_SESSION_HANDLE s;
		uint8_t buf[4096];
		close(pfd[0]);
		h_connect(&cli);
		if (h_slot_of(&cli, "alpha", &slot) != CKR_OK ||
		    h_open_session(&cli, slot, &s) != CKR_OK)
			_exit(1);
		if (write(pfd[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			h_random(&cli, s, buf, sizeof(buf));
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	close(pfd[0]);
	assert_int_equal(h_children(pid, kids, 8), 2);
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	/* Its worker finalizes the module (its sessions close) and exits;
	 * the other client's worker stays. */
	deadline = now_ms() + T_MS;
	while (h_children(pid, kids, 8) > 1 && now_ms() < deadline)
		nap_ms(20);
	assert_int_equal(h_children(pid, kids, 8), 1);
	assert_int_equal(h_get_info(&other), CKR_OK);
	h_close(&other);
	assert_serving();
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__sigterm_exits_zero_and_removes_socket(void **state)
{
	struct h_cli cli;
	struct stat st;
	pid_t pid = h_start(NULL, true, NULL, NULL);
	int status;

	(void)state;
	h_connect(&cli);
	assert_int_equal(h_get_info(&cli), CKR_OK);
	status = h_stop(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_not_equal(stat(h_sock, &st), 0);
	/* The connected client was told, then closed. */
	h_expect_closed(&cli);
	h_close(&cli);
}

static void test_server__bad_token_uri_is_refused_at_start(void **state)
{
	const char *const args[] = {"--token", "pkcs11:token=%zz", NULL};
	int status = 0;

	(void)state;
	assert_int_equal(h_start(NULL, true, args, &status), -1);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
	assert_true(h_log_has("not a valid pkcs11: token URI"));
}

static void test_server__sigterm_answers_calls_in_flight(void **state)
{
	struct h_cli cli;
	struct cf_frame f;
	struct cf_win r;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s;
	bool got_keys = false, got_info = false;
	uint64_t rv = 1;
	pid_t pid = h_start(NULL, true, NULL, NULL);
	int status;

	(void)state;
	h_connect(&cli);
	assert_int_equal(h_slot_of(&cli, "alpha", &slot), CKR_OK);
	assert_int_equal(h_open_session(&cli, slot, &s), CKR_OK);
	send_slow_keygen(&cli, s, 100);
	/* A quick call behind the slow one: once it is answered, the slow
	 * one has been read and is running (or done). */
	assert_int_equal(
	    cf_conn_send(cli.c, CF_FRAME_REQUEST, 3, 101, NULL, 0, T_MS), 0);
	while (!got_info) {
		assert_int_equal(h_recv(&cli, &f), 0);
		assert_int_equal(f.type, CF_FRAME_REPLY);
		if (f.id == 100) {
			cf_win_init(&r, f.payload, f.len);
			assert_true(cf_r_u64(&r, &rv));
			cf_win_clear(&r);
			got_keys = true;
		} else {
			got_info = true;
		}
		cf_frame_clear(&f);
	}
	assert_int_equal(kill(pid, SIGTERM), 0);
	if (!got_keys) {
		assert_int_equal(h_recv(&cli, &f), 0);
		assert_int_equal(f.type, CF_FRAME_REPLY);
		assert_int_equal(f.id, 100);
		cf_win_init(&r, f.payload, f.len);
		assert_true(cf_r_u64(&r, &rv));
		cf_win_clear(&r);
		cf_frame_clear(&f);
	}
	assert_int_equal(rv, CKR_OK);
	h_expect_error(&cli, CF_PERR_SHUTDOWN);
	h_expect_closed(&cli);
	h_close(&cli);
	status = h_stop(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_server__max_clients_refuses_one_more(void **state)
{
	struct h_cli a;
	struct cf_conn *c = NULL;
	struct cf_hello hello;
	pid_t pid = h_start("max_clients = 1\n", true, NULL, NULL);

	(void)state;
	h_connect(&a);
	assert_int_equal(
	    cf_conn_new(h_unix_fd(), NULL, CF_FRAME_MAX_DEFAULT, &c), 0);
	/* Told why, not just dropped. */
	assert_int_equal(cf_hello_client(c, T_MS, &hello), -EPROTO);
	assert_int_equal(hello.refused, CF_PERR_LIMIT);
	assert_string_equal(hello.refused_reason, "too many clients");
	cf_conn_free(c);
	assert_int_equal(h_get_info(&a), CKR_OK);
	h_close(&a);
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__socket_gets_configured_mode(void **state)
{
	struct stat st;
	pid_t pid = h_start("socket_mode = 0660\n", true, NULL, NULL);

	(void)state;
	assert_int_equal(stat(h_sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(h_stop(pid), 0);
}

/* ---- configuration ----------------------------------------------------- */

static void test_server__plain_tcp_refused_by_default(void **state)
{
	const char *const args[] = {"--listen", "tcp://127.0.0.1:0", NULL};
	int status = 0;

	(void)state;
	assert_int_equal(h_start(NULL, false, args, &status), -1);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 0);
	assert_true(h_log_has("allow_plain_tcp"));
}

static void test_server__plain_tcp_only_on_loopback(void **state)
{
	const char *const args[] = {"--listen", "tcp://0.0.0.0:0", NULL};
	int status = 0;

	(void)state;
	assert_int_equal(
	    h_start("allow_plain_tcp = yes\n", false, args, &status), -1);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 0);
	assert_true(h_log_has("only on loopback"));
}

static void test_server__bad_config_names_file_and_line(void **state)
{
	int status = 0;

	(void)state;
	assert_int_equal(h_start("max_sessions = 4\n\nno_such_key = 1\n", true,
				 NULL, &status),
			 -1);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
	assert_true(h_log_has(".conf:3: unknown key"));
}

/* ---- chains (deferred initialisation) ---------------------------------- */

#define FN_DIGEST_INIT 53
#define FN_DIGEST 54

/* A chain payload: u16 init fn, u32 init length, init request, request. */
static void chain_payload(struct cf_wout *w, uint16_t ifn,
			  const struct cf_wout *init, uint32_t ilen,
			  const struct cf_wout *call)
{
	cf_w_u8(w, (uint8_t)(ifn >> 8));
	cf_w_u8(w, (uint8_t)ifn);
	cf_w_u32(w, ilen);
	cf_w_raw(w, init->data, init->len);
	cf_w_raw(w, call->data, call->len);
	assert_false(w->bad);
}

static void digest_requests(CK_SESSION_HANDLE h, CK_MECHANISM_TYPE mech,
			    struct cf_wout *init, struct cf_wout *call)
{
	CK_MECHANISM m = {mech, NULL, 0};
	CK_ULONG len = 32;
	uint8_t buf[32];

	cf_wout_init(init, T_MS);
	cf_w_ulong(init, h);
	cf_w_mech(init, &m);
	cf_wout_init(call, T_MS);
	cf_w_ulong(call, h);
	cf_w_bytes(call, "abc", 3);
	cf_w_outbuf_req(call, buf, &len);
}

/* Opens a session on "alpha" and sends one chain built by the caller. */
static void send_chain(struct h_cli *cli, CK_SESSION_HANDLE *h,
		       CK_MECHANISM_TYPE mech, uint16_t ifn, int len_delta,
		       uint16_t fn)
{
	struct cf_wout init, call, w;
	CK_SLOT_ID slot;

	h_connect(cli);
	assert_int_equal(h_slot_of(cli, "alpha", &slot), CKR_OK);
	assert_int_equal(h_open_session(cli, slot, h), CKR_OK);
	digest_requests(*h, mech, &init, &call);
	cf_wout_init(&w, T_MS);
	chain_payload(&w, ifn, &init, (uint32_t)((int)init.len + len_delta),
		      &call);
	assert_int_equal(
	    cf_conn_send(cli->c, CF_FRAME_CHAIN, fn, ++cli->id, w.data, w.len,
			 T_MS),
	    0);
	cf_wout_clear(&w);
	cf_wout_clear(&init);
	cf_wout_clear(&call);
}

static void test_server__chain_runs_init_then_call(void **state)
{
	struct h_cli cli;
	struct cf_frame f;
	struct cf_win r;
	CK_SESSION_HANDLE h;
	uint64_t init_rv = 1, rv = 1;
	uint8_t out[32], want[32];
	CK_ULONG len = sizeof(out);
	pid_t pid = h_start(NULL, true, NULL, NULL);

	(void)state;
	send_chain(&cli, &h, CKM_SHA256, FN_DIGEST_INIT, 0, FN_DIGEST);
	assert_int_equal(h_recv(&cli, &f), 0);
	assert_int_equal(f.type, CF_FRAME_REPLY);
	assert_int_equal(f.fn, FN_DIGEST);
	assert_int_equal(f.id, cli.id);
	cf_win_init(&r, f.payload, f.len);
	assert_true(cf_r_u64(&r, &init_rv));
	assert_true(cf_r_u64(&r, &rv));
	assert_int_equal(init_rv, CKR_OK);
	assert_int_equal(rv, CKR_OK);
	assert_true(cf_r_outbuf_rep(&r, CKR_OK, out, &len));
	assert_true(cf_win_done(&r));
	assert_int_equal(len, 32);
	assert_int_equal(EVP_Digest("abc", 3, want, NULL, EVP_sha256(), NULL),
			 1);
	assert_memory_equal(out, want, 32);
	cf_win_clear(&r);
	cf_frame_clear(&f);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__chain_with_failed_init_skips_call(void **state)
{
	struct h_cli cli;
	struct cf_frame f;
	struct cf_win r;
	CK_SESSION_HANDLE h;
	uint64_t init_rv = 0;
	pid_t pid = h_start(NULL, true, NULL, NULL);

	(void)state;
	send_chain(&cli, &h, CKM_VENDOR_DEFINED | 0x1234, FN_DIGEST_INIT, 0,
		   FN_DIGEST);
	assert_int_equal(h_recv(&cli, &f), 0);
	assert_int_equal(f.type, CF_FRAME_REPLY);
	cf_win_init(&r, f.payload, f.len);
	assert_true(cf_r_u64(&r, &init_rv));
	assert_int_equal(init_rv, CKR_MECHANISM_INVALID);
	assert_true(cf_win_done(&r)); /* the init's rv alone */
	cf_win_clear(&r);
	cf_frame_clear(&f);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__chain_not_starting_with_init_is_malformed(
    void **state)
{
	struct h_cli cli;
	CK_SESSION_HANDLE h;
	pid_t pid = h_start(NULL, true, NULL, NULL);

	(void)state;
	send_chain(&cli, &h, CKM_SHA256, FN_DIGEST, 0, FN_DIGEST);
	h_expect_error(&cli, CF_PERR_MALFORMED);
	h_expect_closed(&cli);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}

static void test_server__chain_with_bad_inner_length_is_malformed(
    void **state)
{
	struct h_cli cli;
	CK_SESSION_HANDLE h;
	pid_t pid = h_start(NULL, true, NULL, NULL);

	(void)state;
	send_chain(&cli, &h, CKM_SHA256, FN_DIGEST_INIT, 1000, FN_DIGEST);
	h_expect_error(&cli, CF_PERR_MALFORMED);
	h_expect_closed(&cli);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}

/* ---- TLS --------------------------------------------------------------- */

int tls_setup(void);
void tls_teardown(void);
void test_server__tls_allowed_certificate_is_served(void **state);
void test_server__tls_untrusted_ca_is_refused(void **state);
void test_server__tls_certificate_not_allowed_is_denied(void **state);
void test_server__tls_map_by_fingerprint(void **state);
void test_server__plain_tcp_on_loopback_when_allowed(void **state);

static int group_setup(void **state)
{
	(void)state;
	if (h_setup(g_argc, g_argv) != 0)
		return -1;
	return tls_setup();
}

static int group_teardown(void **state)
{
	(void)state;
	tls_teardown();
	h_teardown();
	return 0;
}

static int each_teardown(void **state)
{
	(void)state;
	h_kill_all(); /* a failed test's cofferd */
	return 0;
}

#define T(f) cmocka_unit_test_teardown(f, each_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    T(test_server__handshake_and_token_info),
	    T(test_server__session_and_random),
	    T(test_server__oversized_frame_is_refused),
	    T(test_server__truncated_frame_then_close),
	    T(test_server__garbage_after_handshake_closes),
	    T(test_server__malformed_payload_is_refused),
	    T(test_server__unknown_function_keeps_connection),
	    T(test_server__chain_runs_init_then_call),
	    T(test_server__chain_with_failed_init_skips_call),
	    T(test_server__chain_not_starting_with_init_is_malformed),
	    T(test_server__chain_with_bad_inner_length_is_malformed),
	    T(test_server__wrong_protocol_version_is_refused),
	    T(test_server__uid_not_allowed_is_denied),
	    T(test_server__uid_not_allowed_gets_denied_frame),
	    T(test_server__allowed_uid_is_served),
	    T(test_server__sighup_reloads_access_rules),
	    T(test_server__token_filter_hides_other_tokens),
	    T(test_server__map_narrows_tokens_per_peer),
	    T(test_server__session_limit_gives_session_count),
	    T(test_server__calls_over_inflight_limit_get_limit_error),
	    T(test_server__idle_client_is_closed),
	    T(test_server__audit_logs_login_without_pin),
	    T(test_server__audit_names_used_key_by_id),
	    T(test_server__killed_client_frees_its_worker),
	    T(test_server__sigterm_exits_zero_and_removes_socket),
	    T(test_server__sigterm_answers_calls_in_flight),
	    T(test_server__bad_token_uri_is_refused_at_start),
	    T(test_server__max_clients_refuses_one_more),
	    T(test_server__socket_gets_configured_mode),
	    T(test_server__plain_tcp_refused_by_default),
	    T(test_server__plain_tcp_on_loopback_when_allowed),
	    T(test_server__plain_tcp_only_on_loopback),
	    T(test_server__bad_config_names_file_and_line),
	    T(test_server__tls_allowed_certificate_is_served),
	    T(test_server__tls_untrusted_ca_is_refused),
	    T(test_server__tls_certificate_not_allowed_is_denied),
	    T(test_server__tls_map_by_fingerprint),
	};

	g_argc = argc;
	g_argv = argv;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
