/*
 * test_tls.c - cofferd over mutual TLS: a throwaway PKI made with OpenSSL
 * (a trusted CA with a server and two clients, and a rogue CA whose client
 * carries the same name as the allowed one).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "harness.h"
#include "pki.h"

int tls_setup(void);
void tls_teardown(void);
void test_server__tls_allowed_certificate_is_served(void **state);
void test_server__tls_untrusted_ca_is_refused(void **state);
void test_server__tls_certificate_not_allowed_is_denied(void **state);
void test_server__tls_map_by_fingerprint(void **state);
void test_server__plain_tcp_on_loopback_when_allowed(void **state);

static char app1_subject[256];
static char app2_fp[96];

static bool leaf(const char *name, const char *cn, X509 *ca, EVP_PKEY *ca_k,
		 const char *san, long serial, X509 **out)
{
	char file[64];
	EVP_PKEY *k = pki_keygen();
	X509 *x = k ? pki_make_cert(k, cn, ca, ca_k, san, serial) : NULL;
	bool ok = x != NULL;

	snprintf(file, sizeof(file), "%s.pem", name);
	ok = ok && pki_write_pem(h_path(file), x, NULL);
	snprintf(file, sizeof(file), "%s.key", name);
	ok = ok && pki_write_pem(h_path(file), NULL, k);
	EVP_PKEY_free(k);
	if (ok && out != NULL)
		*out = x;
	else
		X509_free(x);
	return ok;
}

int tls_setup(void)
{
	EVP_PKEY *ca_k = pki_keygen();
	EVP_PKEY *rca_k = pki_keygen();
	X509 *ca = NULL, *rca = NULL, *app1 = NULL, *app2 = NULL;
	BIO *mem = NULL;
	uint8_t fp[CF_TLS_FP_LEN];
	unsigned int n = 0;
	int rc = -1;

	if (ca_k == NULL || rca_k == NULL)
		goto out;
	ca = pki_make_cert(ca_k, "coffer test CA", NULL, NULL, NULL, 1);
	rca = pki_make_cert(rca_k, "coffer test CA", NULL, NULL, NULL, 1);
	if (ca == NULL || rca == NULL ||
	    !pki_write_pem(h_path("ca.pem"), ca, NULL) ||
	    !pki_write_pem(h_path("rogue-ca.pem"), rca, NULL))
		goto out;
	if (!leaf("server", "server", ca, ca_k, "DNS:localhost,IP:127.0.0.1", 2,
		  NULL) ||
	    !leaf("app1", "app1", ca, ca_k, NULL, 3, &app1) ||
	    !leaf("app2", "app2", ca, ca_k, NULL, 4, &app2) ||
	    /* the allowed name, from a CA nobody trusts */
	    !leaf("rogue", "app1", rca, rca_k, NULL, 3, NULL))
		goto out;
	/* The subject as cofferd prints it (RFC 2253). */
	mem = BIO_new(BIO_s_mem());
	if (mem == NULL || X509_NAME_print_ex(mem, X509_get_subject_name(app1),
					      0, XN_FLAG_RFC2253) < 0)
		goto out;
	{
		char *p = NULL;
		long len = BIO_get_mem_data(mem, &p);
		snprintf(app1_subject, sizeof(app1_subject), "%.*s", (int)len,
			 p);
	}
	if (!X509_digest(app2, EVP_sha256(), fp, &n) || n != CF_TLS_FP_LEN)
		goto out;
	cf_tls_fp_hex(fp, app2_fp);
	rc = 0;
out:
	BIO_free(mem);
	X509_free(ca);
	X509_free(rca);
	X509_free(app1);
	X509_free(app2);
	EVP_PKEY_free(ca_k);
	EVP_PKEY_free(rca_k);
	return rc;
}

void tls_teardown(void)
{
}

static int free_port(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port;

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* cofferd on a TLS port plus the harness's socket (for readiness). */
static pid_t start_tls(const char *rules, int *port)
{
	char conf[2048], listen[64];
	const char *args[3] = {"--listen", listen, NULL};

	*port = free_port();
	snprintf(listen, sizeof(listen), "tls://127.0.0.1:%d", *port);
	snprintf(conf, sizeof(conf),
		 "tls_cert = %s\ntls_key = %s\ntls_ca = %s\n%s",
		 h_path("server.pem"), h_path("server.key"), h_path("ca.pem"),
		 rules);
	return h_start(conf, true, args, NULL);
}

/* Connects with the client certificate NAME; returns 0 when both the TLS
 * and the protocol handshake succeeded, and the connection in cli. */
static int tls_connect(int port, const char *name, struct h_cli *cli)
{
	char cert[64], key[64], err[256] = "";
	struct sockaddr_in sa;
	SSL_CTX *ctx;
	SSL *ssl = NULL;
	int fd, rc;

	memset(cli, 0, sizeof(*cli));
	snprintf(cert, sizeof(cert), "%s.pem", name);
	snprintf(key, sizeof(key), "%s.key", name);
	ctx = cf_tls_client_ctx(h_path(cert), h_path(key), h_path("ca.pem"),
				err, sizeof(err));
	assert_non_null(ctx);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	rc = cf_tls_connect(ctx, fd, "127.0.0.1", T_MS, &ssl, err, sizeof(err));
	SSL_CTX_free(ctx);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	assert_int_equal(cf_conn_new(fd, ssl, CF_FRAME_MAX_DEFAULT, &cli->c),
			 0);
	rc = cf_hello_client(cli->c, T_MS, &cli->hello);
	if (rc != 0)
		h_close(cli);
	return rc;
}

void test_server__tls_allowed_certificate_is_served(void **state)
{
	char rules[512];
	struct h_cli cli;
	int port;
	pid_t pid;

	(void)state;
	snprintf(rules, sizeof(rules), "allow_subject = %s\n", app1_subject);
	pid = start_tls(rules, &port);
	assert_int_equal(tls_connect(port, "app1", &cli), 0);
	assert_int_equal(h_get_info(&cli), CKR_OK);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}

void test_server__tls_untrusted_ca_is_refused(void **state)
{
	char rules[512];
	struct h_cli cli;
	int port;
	pid_t pid;

	(void)state;
	snprintf(rules, sizeof(rules), "allow_subject = %s\n", app1_subject);
	pid = start_tls(rules, &port);
	assert_int_not_equal(tls_connect(port, "rogue", &cli), 0);
	assert_true(h_wait_log("TLS handshake failed"));
	assert_int_equal(h_stop(pid), 0);
}

void test_server__tls_certificate_not_allowed_is_denied(void **state)
{
	char rules[512];
	struct h_cli cli;
	int port;
	pid_t pid;

	(void)state;
	snprintf(rules, sizeof(rules), "allow_subject = %s\n", app1_subject);
	pid = start_tls(rules, &port);
	assert_int_not_equal(tls_connect(port, "app2", &cli), 0);
	assert_true(h_wait_log("not in allow_subject/allow_fingerprint"));
	assert_int_equal(h_stop(pid), 0);
}

void test_server__tls_map_by_fingerprint(void **state)
{
	char rules[512], label[33];
	struct h_cli cli;
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	int port;
	pid_t pid;

	(void)state;
	snprintf(rules, sizeof(rules),
		 "allow_fingerprint = %s\n"
		 "map = fingerprint=%s -> pkcs11:token=beta\n",
		 app2_fp, app2_fp);
	pid = start_tls(rules, &port);
	assert_int_equal(tls_connect(port, "app2", &cli), 0);
	assert_int_equal(h_slot_list(&cli, slots, &n), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(h_token_label(&cli, slots[0], label), CKR_OK);
	assert_string_equal(label, "beta");
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}

void test_server__plain_tcp_on_loopback_when_allowed(void **state)
{
	char listen[64];
	const char *args[3] = {"--listen", listen, NULL};
	struct sockaddr_in sa;
	struct h_cli cli;
	int port = free_port(), fd;
	pid_t pid;

	(void)state;
	snprintf(listen, sizeof(listen), "tcp://127.0.0.1:%d", port);
	pid = h_start("allow_plain_tcp = yes\n", true, args, NULL);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	memset(&cli, 0, sizeof(cli));
	assert_int_equal(cf_conn_new(fd, NULL, CF_FRAME_MAX_DEFAULT, &cli.c),
			 0);
	assert_int_equal(cf_hello_client(cli.c, T_MS, &cli.hello), 0);
	assert_int_equal(h_get_info(&cli), CKR_OK);
	h_close(&cli);
	assert_int_equal(h_stop(pid), 0);
}
