/* Unit tests of wire/tls, and of wire/conn over TLS: mutual TLS 1.3 over a
 * socketpair, with a throwaway PKI made in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki.h"
#include "wire/conn.h"
#include "wire/tls.h"

#define T_MS 20000 /* generous: a loaded 2-core VM under ASan */

/* ----------------------------------------------------------- the PKI */

static char dir[64];
static char path_buf[16][128];
static int npaths;
static uint8_t client_fp[CF_TLS_FP_LEN];

static const char *path(const char *name)
{
	char *p = path_buf[npaths++];
	snprintf(p, sizeof(path_buf[0]), "%s/%s", dir, name);
	return p;
}

static const char *CA, *SRV_CERT, *SRV_KEY, *CLI_CERT, *CLI_KEY, *ROGUE_CERT,
    *ROGUE_KEY, *ROGUE_CA;

static int pki_setup(void **state)
{
	EVP_PKEY *ca_k = pki_keygen(), *srv_k = pki_keygen(),
		 *cli_k = pki_keygen(), *rca_k = pki_keygen(),
		 *rcli_k = pki_keygen();
	X509 *ca = NULL, *srv = NULL, *cli = NULL, *rca = NULL, *rcli = NULL;
	unsigned int n = 0;
	int rc = -1;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/coffer-tls-XXXXXX");
	if (mkdtemp(dir) == NULL)
		goto out;
	CA = path("ca.pem");
	SRV_CERT = path("server.pem");
	SRV_KEY = path("server.key");
	CLI_CERT = path("client.pem");
	CLI_KEY = path("client.key");
	ROGUE_CA = path("rogue-ca.pem");
	ROGUE_CERT = path("rogue-client.pem");
	ROGUE_KEY = path("rogue-client.key");
	if (ca_k == NULL || srv_k == NULL || cli_k == NULL || rca_k == NULL ||
	    rcli_k == NULL)
		goto out;
	ca = pki_make_cert(ca_k, "coffer test CA", NULL, NULL, NULL, 1);
	rca = pki_make_cert(rca_k, "coffer test CA", NULL, NULL, NULL, 1);
	if (ca == NULL || rca == NULL)
		goto out;
	srv = pki_make_cert(srv_k, "server", ca, ca_k,
			    "DNS:localhost,IP:127.0.0.1", 2);
	cli = pki_make_cert(cli_k, "client-1", ca, ca_k, NULL, 3);
	/* Same name as the good client, from a CA nobody trusts. */
	rcli = pki_make_cert(rcli_k, "client-1", rca, rca_k, NULL, 3);
	if (srv == NULL || cli == NULL || rcli == NULL)
		goto out;
	if (!pki_write_pem(CA, ca, NULL) || !pki_write_pem(ROGUE_CA, rca, NULL) ||
	    !pki_write_pem(SRV_CERT, srv, NULL) ||
	    !pki_write_pem(SRV_KEY, NULL, srv_k) ||
	    !pki_write_pem(CLI_CERT, cli, NULL) ||
	    !pki_write_pem(CLI_KEY, NULL, cli_k) ||
	    !pki_write_pem(ROGUE_CERT, rcli, NULL) ||
	    !pki_write_pem(ROGUE_KEY, NULL, rcli_k))
		goto out;
	if (!X509_digest(cli, EVP_sha256(), client_fp, &n) ||
	    n != CF_TLS_FP_LEN)
		goto out;
	rc = 0;
out:
	X509_free(ca);
	X509_free(srv);
	X509_free(cli);
	X509_free(rca);
	X509_free(rcli);
	EVP_PKEY_free(ca_k);
	EVP_PKEY_free(srv_k);
	EVP_PKEY_free(cli_k);
	EVP_PKEY_free(rca_k);
	EVP_PKEY_free(rcli_k);
	return rc;
}

static int pki_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < npaths; i++)
		unlink(path_buf[i]);
	rmdir(dir);
	return 0;
}

/* ------------------------------------------------------ handshaking */

struct side {
	SSL_CTX *ctx;
	int fd;
	const char *host;
	SSL *ssl;
	int rc;
	char err[256];
};

static void *server_side(void *p)
{
	struct side *s = p;

	s->rc =
	    cf_tls_accept(s->ctx, s->fd, T_MS, &s->ssl, s->err, sizeof(s->err));
	return NULL;
}

static SSL_CTX *server_ctx(void)
{
	char err[256];
	SSL_CTX *ctx =
	    cf_tls_server_ctx(SRV_CERT, SRV_KEY, CA, err, sizeof(err));
	if (ctx == NULL)
		fail_msg("server ctx: %s", err);
	return ctx;
}

static SSL_CTX *client_ctx(const char *cert, const char *key)
{
	char err[256];
	SSL_CTX *ctx = cf_tls_client_ctx(cert, key, CA, err, sizeof(err));
	if (ctx == NULL)
		fail_msg("client ctx: %s", err);
	return ctx;
}

/* Handshakes over a socketpair: sv accepts in a thread, cl connects here.
 * Both contexts are freed; the fds stay open (the caller owns them). */
static void handshake(SSL_CTX *sctx, SSL_CTX *cctx, const char *host,
		      struct side *sv, struct side *cl)
{
	int fds[2];
	pthread_t th;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	*sv = (struct side){.ctx = sctx, .fd = fds[0]};
	*cl = (struct side){.ctx = cctx, .fd = fds[1], .host = host};
	assert_int_equal(pthread_create(&th, NULL, server_side, sv), 0);
	cl->rc = cf_tls_connect(cctx, cl->fd, host, T_MS, &cl->ssl, cl->err,
				sizeof(cl->err));
	if (cl->rc < 0)
		close(cl->fd); /* so that the server sees the end */
	pthread_join(th, NULL);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

/* Both ends as connections; fails the test unless the handshake worked. */
static void tls_pair(struct cf_conn **s, struct cf_conn **c)
{
	struct side sv, cl;

	handshake(server_ctx(), client_ctx(CLI_CERT, CLI_KEY), "localhost", &sv,
		  &cl);
	if (sv.rc != 0 || cl.rc != 0)
		fail_msg("handshake: server %d %s, client %d %s", sv.rc, sv.err,
			 cl.rc, cl.err);
	assert_int_equal(cf_conn_new(sv.fd, sv.ssl, CF_FRAME_MAX_DEFAULT, s),
			 0);
	assert_int_equal(cf_conn_new(cl.fd, cl.ssl, CF_FRAME_MAX_DEFAULT, c),
			 0);
}

/* After a handshake the server refused: the client either failed too or
 * learns it at its first read (TLS 1.3 clients finish first). */
static void assert_client_refused(struct side *cl)
{
	struct cf_conn *c;
	struct cf_frame f;

	if (cl->rc < 0)
		return;
	assert_int_equal(cf_conn_new(cl->fd, cl->ssl, CF_FRAME_MAX_DEFAULT, &c),
			 0);
	assert_int_not_equal(cf_conn_recv(c, &f, T_MS), 0);
	cf_conn_free(c);
}

static void test_tls__handshake_reports_peer_identities(void **state)
{
	struct side sv, cl;
	struct cf_tls_peer peer;

	(void)state;
	handshake(server_ctx(), client_ctx(CLI_CERT, CLI_KEY), "localhost", &sv,
		  &cl);
	assert_int_equal(sv.rc, 0);
	assert_int_equal(cl.rc, 0);
	assert_string_equal(SSL_get_version(sv.ssl), "TLSv1.3");
	assert_int_equal(cf_tls_peer(sv.ssl, &peer), 0);
	assert_string_equal(peer.subject, "CN=client-1,O=coffer test");
	assert_memory_equal(peer.fp, client_fp, CF_TLS_FP_LEN);
	assert_int_equal(cf_tls_peer(cl.ssl, &peer), 0);
	assert_string_equal(peer.subject, "CN=server,O=coffer test");
	SSL_free(sv.ssl);
	SSL_free(cl.ssl);
	close(sv.fd);
	close(cl.fd);
}

static void test_tls__ip_address_host_matches_san(void **state)
{
	struct side sv, cl;

	(void)state;
	handshake(server_ctx(), client_ctx(CLI_CERT, CLI_KEY), "127.0.0.1", &sv,
		  &cl);
	assert_int_equal(cl.rc, 0);
	assert_int_equal(sv.rc, 0);
	SSL_free(sv.ssl);
	SSL_free(cl.ssl);
	close(sv.fd);
	close(cl.fd);
}

static void test_tls__client_from_untrusted_ca_is_refused(void **state)
{
	struct side sv, cl;

	(void)state;
	handshake(server_ctx(), client_ctx(ROGUE_CERT, ROGUE_KEY), "localhost",
		  &sv, &cl);
	assert_int_equal(sv.rc, -EACCES);
	assert_null(sv.ssl);
	assert_true(strlen(sv.err) > 0);
	assert_client_refused(&cl);
	close(sv.fd);
}

static void test_tls__client_without_certificate_is_refused(void **state)
{
	struct side sv, cl;
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());

	(void)state;
	assert_non_null(cctx);
	assert_int_equal(SSL_CTX_load_verify_file(cctx, CA), 1);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	handshake(server_ctx(), cctx, "localhost", &sv, &cl);
	assert_int_equal(sv.rc, -EACCES);
	assert_client_refused(&cl);
	close(sv.fd);
}

static void test_tls__tls12_only_client_is_refused(void **state)
{
	struct side sv, cl;
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());

	(void)state;
	assert_non_null(cctx);
	assert_int_equal(SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION),
			 1);
	assert_int_equal(
	    SSL_CTX_use_certificate_file(cctx, CLI_CERT, SSL_FILETYPE_PEM), 1);
	assert_int_equal(
	    SSL_CTX_use_PrivateKey_file(cctx, CLI_KEY, SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_load_verify_file(cctx, CA), 1);
	handshake(server_ctx(), cctx, "localhost", &sv, &cl);
	assert_true(sv.rc < 0);
	assert_true(cl.rc < 0);
	close(sv.fd);
}

static void test_tls__server_name_mismatch_is_refused(void **state)
{
	struct side sv, cl;

	(void)state;
	handshake(server_ctx(), client_ctx(CLI_CERT, CLI_KEY), "wrong.example",
		  &sv, &cl);
	assert_int_equal(cl.rc, -EACCES);
	assert_null(cl.ssl);
	assert_non_null(strstr(cl.err, "mismatch"));
	assert_true(sv.rc < 0);
	close(sv.fd);
}

static void test_tls__server_from_untrusted_ca_is_refused(void **state)
{
	struct side sv, cl;
	char err[256];
	SSL_CTX *cctx =
	    cf_tls_client_ctx(CLI_CERT, CLI_KEY, ROGUE_CA, err, sizeof(err));

	(void)state;
	assert_non_null(cctx);
	handshake(server_ctx(), cctx, "localhost", &sv, &cl);
	assert_int_equal(cl.rc, -EACCES);
	assert_true(sv.rc < 0);
	close(sv.fd);
}

static void test_tls__silent_peer_times_out_handshake(void **state)
{
	SSL_CTX *cctx = client_ctx(CLI_CERT, CLI_KEY);
	char err[256];
	SSL *ssl = NULL;
	int fds[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	assert_int_equal(cf_tls_connect(cctx, fds[1], "localhost", 200, &ssl,
					err, sizeof(err)),
			 -ETIMEDOUT);
	assert_null(ssl);
	SSL_CTX_free(cctx);
	close(fds[0]);
	close(fds[1]);
}

static void test_tls__context_errors_name_the_file(void **state)
{
	char err[512];
	const char *missing = "/nonexistent/coffer-key.pem";

	(void)state;
	assert_null(cf_tls_server_ctx(SRV_CERT, missing, CA, err, sizeof(err)));
	assert_non_null(strstr(err, missing));
	assert_null(cf_tls_server_ctx(missing, SRV_KEY, CA, err, sizeof(err)));
	assert_non_null(strstr(err, missing));
	assert_null(
	    cf_tls_client_ctx(CLI_CERT, CLI_KEY, missing, err, sizeof(err)));
	assert_non_null(strstr(err, missing));
	/* A key that is not the certificate's: both named. */
	assert_null(cf_tls_client_ctx(CLI_CERT, SRV_KEY, CA, err, sizeof(err)));
	assert_non_null(strstr(err, CLI_CERT));
	assert_non_null(strstr(err, SRV_KEY));
}

static void test_tls__fingerprint_hex_form(void **state)
{
	uint8_t fp[CF_TLS_FP_LEN];
	char hex[96];

	(void)state;
	for (unsigned i = 0; i < CF_TLS_FP_LEN; i++)
		fp[i] = (uint8_t)(i * 8 + 0x0a);
	cf_tls_fp_hex(fp, hex);
	assert_int_equal(strlen(hex), 95);
	assert_memory_equal(hex, "0A:12:1A:", 9);
	assert_string_equal(hex + 93, "02");
}

/* --------------------------------------------------- frames over TLS */

static void test_tls__frames_round_trip(void **state)
{
	struct cf_conn *s, *c;
	struct cf_frame f;

	(void)state;
	tls_pair(&s, &c);
	assert_int_equal(
	    cf_conn_send(c, CF_FRAME_REQUEST, 5, 1, "ping", 4, T_MS), 0);
	assert_int_equal(cf_conn_recv(s, &f, T_MS), 0);
	assert_int_equal(f.fn, 5);
	assert_int_equal(f.len, 4);
	assert_memory_equal(f.payload, "ping", 4);
	cf_frame_clear(&f);
	assert_int_equal(cf_conn_send(s, CF_FRAME_REPLY, 5, 1, NULL, 0, T_MS),
			 0);
	assert_int_equal(cf_conn_recv(c, &f, T_MS), 0);
	assert_int_equal(f.type, CF_FRAME_REPLY);
	assert_int_equal(f.len, 0);
	cf_frame_clear(&f);
	cf_conn_free(s);
	cf_conn_free(c);
}

/* The receiving side reads ahead: one recv() may take in several records,
 * which then sit inside the SSL, not in the socket. They must still count
 * as input waiting (cofferd decides from it whether to call a helper
 * thread), and must be delivered without any more bytes arriving. */
static void test_tls__frames_read_ahead_count_as_pending(void **state)
{
	struct cf_conn *s, *c;
	struct cf_frame f;

	(void)state;
	tls_pair(&s, &c);
	for (uint32_t id = 1; id <= 3; id++)
		assert_int_equal(cf_conn_send(c, CF_FRAME_REQUEST, 5, id,
					      "ping", 4, T_MS),
				 0);
	for (uint32_t id = 1; id <= 3; id++) {
		assert_int_equal(cf_conn_recv(s, &f, T_MS), 0);
		assert_int_equal(f.id, id);
		cf_frame_clear(&f);
		assert_int_equal(cf_conn_input_pending(s), id < 3);
	}
	cf_conn_free(s);
	cf_conn_free(c);
}

/* A reader that found nothing waits in poll() first: a silent peer
 * must still end the wait at the deadline, and the stream stays usable
 * for the frames that come after. */
static void test_tls__recv_from_silent_peer_times_out_and_recovers(
    void **state)
{
	struct cf_conn *s, *c;
	struct cf_frame f;

	(void)state;
	tls_pair(&s, &c);
	assert_int_equal(cf_conn_recv(s, &f, 50), -ETIMEDOUT);
	assert_int_equal(cf_conn_recv(s, &f, 0), -ETIMEDOUT);
	for (uint32_t id = 1; id <= 2; id++) {
		assert_int_equal(cf_conn_send(c, CF_FRAME_REQUEST, 5, id,
					      "ping", 4, T_MS),
				 0);
		assert_int_equal(cf_conn_recv(s, &f, T_MS), 0);
		assert_int_equal(f.id, id);
		assert_int_equal(f.len, 4);
		cf_frame_clear(&f);
	}
	cf_conn_free(s);
	cf_conn_free(c);
}

static void test_tls__hello_over_tls(void **state)
{
	struct cf_conn *s, *c;
	struct cf_hello h;
	struct cf_frame f;

	(void)state;
	tls_pair(&s, &c);
	/* The client's hello fits the socket buffer: no thread needed. */
	assert_int_equal(cf_conn_send(c, CF_FRAME_HELLO, 0, 0,
				      "COFFER\0\0\0\1\0\1\0\1\0\0", 16, T_MS),
			 0);
	assert_int_equal(cf_hello_server(s, T_MS, 1u << 20, 8, &h), 0);
	assert_int_equal(h.max_frame, 1u << 16);
	assert_int_equal(cf_conn_recv(c, &f, T_MS), 0);
	assert_int_equal(f.type, CF_FRAME_HELLO_REPLY);
	cf_frame_clear(&f);
	cf_conn_free(s);
	cf_conn_free(c);
}

static size_t pattern_len(uint32_t id)
{
	return id % 4 == 0 ? 100000 + id % 977 : id % 900;
}

static uint8_t pattern_byte(uint32_t id, size_t i)
{
	return (uint8_t)(id * 131u + i * 7u + (i >> 8));
}

#define SENDERS 4
#define PER_SENDER 40

struct sender_arg {
	struct cf_conn *c;
	unsigned base;
	int rc;
};

static void *sender(void *p)
{
	struct sender_arg *a = p;
	uint8_t *buf = malloc(200000);

	a->rc = buf == NULL ? -ENOMEM : 0;
	for (unsigned k = 0; k < PER_SENDER && a->rc == 0; k++) {
		uint32_t id = a->base + k;
		size_t len = pattern_len(id);
		for (size_t i = 0; i < len; i++)
			buf[i] = pattern_byte(id, i);
		a->rc = cf_conn_send(a->c, CF_FRAME_REQUEST, (uint16_t)id, id,
				     buf, len, 60000);
	}
	free(buf);
	return NULL;
}

struct echo_arg {
	struct cf_conn *c;
	int frames;
	int rc;
};

/* Sends back every frame it reads, until the peer closes. */
static void *echo(void *p)
{
	struct echo_arg *a = p;
	struct cf_frame f;

	for (;;) {
		a->rc = cf_conn_recv(a->c, &f, 60000);
		if (a->rc < 0)
			break;
		a->rc = cf_conn_send(a->c, CF_FRAME_REPLY, f.fn, f.id,
				     f.payload, f.len, 60000);
		cf_frame_clear(&f);
		if (a->rc < 0)
			break;
		a->frames++;
	}
	return NULL;
}

static void test_tls__concurrent_sends_and_reads_stay_intact(void **state)
{
	struct cf_conn *s, *c;
	pthread_t th[SENDERS], eth;
	struct sender_arg args[SENDERS];
	struct echo_arg e;
	bool seen[SENDERS * PER_SENDER] = {false};
	int bad = 0;

	(void)state;
	tls_pair(&s, &c);
	e = (struct echo_arg){.c = s};
	assert_int_equal(pthread_create(&eth, NULL, echo, &e), 0);
	for (unsigned i = 0; i < SENDERS; i++) {
		args[i] = (struct sender_arg){.c = c, .base = i * PER_SENDER};
		assert_int_equal(pthread_create(&th[i], NULL, sender, &args[i]),
				 0);
	}
	/* This thread reads the echoes while the senders still send. */
	for (int k = 0; k < SENDERS * PER_SENDER; k++) {
		struct cf_frame f;
		assert_int_equal(cf_conn_recv(c, &f, 60000), 0);
		if (f.id >= SENDERS * PER_SENDER || seen[f.id] ||
		    f.type != CF_FRAME_REPLY || f.fn != (uint16_t)f.id ||
		    f.len != pattern_len(f.id)) {
			bad++;
		} else {
			seen[f.id] = true;
			for (size_t i = 0; i < f.len; i++)
				if (f.payload[i] != pattern_byte(f.id, i)) {
					bad++;
					break;
				}
		}
		cf_frame_clear(&f);
	}
	assert_int_equal(bad, 0);
	for (unsigned i = 0; i < SENDERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].rc, 0);
	}
	assert_int_equal(cf_conn_close_write(c, T_MS), 0);
	pthread_join(eth, NULL);
	assert_int_equal(e.rc, -ECONNRESET);
	assert_int_equal(e.frames, SENDERS * PER_SENDER);
	cf_conn_free(s);
	cf_conn_free(c);
}

static void test_tls__truncated_frame_then_close_is_econnreset(void **state)
{
	struct cf_conn *s, *c;
	struct cf_frame f;
	uint8_t part[12 + 10] = {0, 0, 0, 100, 0, 0, 0, 1, 0, 3, 0, 1};
	size_t w;

	(void)state;
	tls_pair(&s, &c);
	/* Half a frame in a TLS record, then the socket closes without a
	 * close_notify, as when a process is killed. */
	assert_int_equal(SSL_write_ex(cf_conn_ssl(s), part, sizeof(part), &w),
			 1);
	shutdown(cf_conn_fd(s), SHUT_RDWR);
	assert_int_equal(cf_conn_recv(c, &f, T_MS), -ECONNRESET);
	cf_conn_free(s);
	cf_conn_free(c);
}

struct recv_arg {
	struct cf_conn *c;
	int rc;
};

static void *blocked_recv(void *p)
{
	struct recv_arg *a = p;
	struct cf_frame f;

	a->rc = cf_conn_recv(a->c, &f, -1);
	cf_frame_clear(&f);
	return NULL;
}

static void test_tls__shutdown_wakes_blocked_recv(void **state)
{
	struct cf_conn *s, *c;
	struct recv_arg arg;
	struct timespec ts = {0, 50 * 1000000};
	pthread_t th;

	(void)state;
	tls_pair(&s, &c);
	arg = (struct recv_arg){.c = c, .rc = 1};
	assert_int_equal(pthread_create(&th, NULL, blocked_recv, &arg), 0);
	/* Not synchronisation: the outcome is the same either way. */
	nanosleep(&ts, NULL);
	cf_conn_shutdown(c);
	pthread_join(th, NULL);
	assert_int_equal(arg.rc, -ECONNRESET);
	cf_conn_free(s);
	cf_conn_free(c);
}

static void test_tls__send_to_closed_peer_fails_without_sigpipe(void **state)
{
	struct cf_conn *s, *c;
	uint8_t *buf = calloc(1, 1 << 20);
	int rc;

	(void)state;
	assert_non_null(buf);
	tls_pair(&s, &c);
	cf_conn_free(s);
	rc = cf_conn_send(c, CF_FRAME_REQUEST, 1, 1, buf, 1 << 20, T_MS);
	assert_true(rc == -EPIPE || rc == -ECONNRESET);
	free(buf);
	cf_conn_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls__handshake_reports_peer_identities),
	    cmocka_unit_test(test_tls__ip_address_host_matches_san),
	    cmocka_unit_test(test_tls__client_from_untrusted_ca_is_refused),
	    cmocka_unit_test(test_tls__client_without_certificate_is_refused),
	    cmocka_unit_test(test_tls__tls12_only_client_is_refused),
	    cmocka_unit_test(test_tls__server_name_mismatch_is_refused),
	    cmocka_unit_test(test_tls__server_from_untrusted_ca_is_refused),
	    cmocka_unit_test(test_tls__silent_peer_times_out_handshake),
	    cmocka_unit_test(test_tls__context_errors_name_the_file),
	    cmocka_unit_test(test_tls__fingerprint_hex_form),
	    cmocka_unit_test(test_tls__frames_round_trip),
	    cmocka_unit_test(test_tls__frames_read_ahead_count_as_pending),
	    cmocka_unit_test(
		test_tls__recv_from_silent_peer_times_out_and_recovers),
	    cmocka_unit_test(test_tls__hello_over_tls),
	    cmocka_unit_test(test_tls__concurrent_sends_and_reads_stay_intact),
	    cmocka_unit_test(
		test_tls__truncated_frame_then_close_is_econnreset),
	    cmocka_unit_test(test_tls__shutdown_wakes_blocked_recv),
	    cmocka_unit_test(
		test_tls__send_to_closed_peer_fails_without_sigpipe),
	};
	return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
