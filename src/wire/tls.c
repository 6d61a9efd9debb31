/*
 * tls.c - see tls.h. TLS 1.3 only, mutual authentication, in coffer's
 * private OpenSSL library context.
 *
 * SSL_CTX_new_ex(cf_libctx()) works for libssl in OpenSSL 3.0: the context's
 * ciphers, key exchange groups, signatures and the X509_STORE's
 * verification are all fetched from the library context given, and the
 * file loaders below (SSL_CTX_use_*_file, SSL_CTX_load_verify_file) read
 * keys and certificates with it too. So the host application's openssl.cnf
 * and providers never change who we trust.
 *
 * Handshakes run over the socket BIO of conn.h (non-blocking per call, no
 * SIGPIPE) with a poll() loop against a deadline, so a silent peer cannot
 * hold a worker or a client thread.
 */
#include "wire/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/crypto.h"
#include "wire/conn.h"

/* A reason into err, then OpenSSL's own when its queue holds one. */
static void __attribute__((format(printf, 4, 5)))
say(char *err, size_t errlen, bool ossl, const char *fmt, ...)
{
	unsigned long e = ossl ? ERR_peek_last_error() : 0;
	char what[384];
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (e != 0) {
		char why[256];
		ERR_error_string_n(e, why, sizeof(why));
		snprintf(err, errlen, "%s: %s", what, why);
	} else {
		snprintf(err, errlen, "%s", what);
	}
}

static void clear_err(char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
}

/* What both sides share: TLS 1.3, our certificate and key, the CA. */
static SSL_CTX *ctx_common(const SSL_METHOD *method, const char *cert,
			   const char *key, const char *ca, char *err,
			   size_t errlen)
{
	OSSL_LIB_CTX *lib = cf_libctx();
	SSL_CTX *ctx;

	ERR_clear_error();
	if (lib == NULL) {
		say(err, errlen, true, "cannot create the OpenSSL context");
		return NULL;
	}
	if (cert == NULL || key == NULL || ca == NULL) {
		say(err, errlen, false, "TLS needs a certificate, a key and a CA "
				      "file");
		return NULL;
	}
	ctx = SSL_CTX_new_ex(lib, NULL, method);
	if (ctx == NULL) {
		say(err, errlen, true, "cannot create a TLS context");
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
		say(err, errlen, true, "cannot require TLS 1.3");
		goto out_free_ctx;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		say(err, errlen, true, "cannot load certificate %s", cert);
		goto out_free_ctx;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		unsigned long e = ERR_peek_last_error();
		if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
		    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
			say(err, errlen, false,
			    "private key %s does not match certificate %s",
			    key, cert);
		else
			say(err, errlen, true, "cannot load private key %s",
			    key);
		goto out_free_ctx;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		say(err, errlen, true, "private key %s does not match certificate %s", key, cert);
		goto out_free_ctx;
	}
	if (SSL_CTX_load_verify_file(ctx, ca) != 1) {
		say(err, errlen, true, "cannot load CA certificates %s", ca);
		goto out_free_ctx;
	}
	/* Nothing resumes sessions; tickets would be wasted bytes, and
	 * post-handshake messages that SSL_read must digest. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	ERR_clear_error();
	clear_err(err, errlen);
	return ctx;

out_free_ctx:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

SSL_CTX *cf_tls_server_ctx(const char *cert, const char *key, const char *ca,
			   char *err, size_t errlen)
{
	SSL_CTX *ctx = ctx_common(TLS_server_method(), cert, key, ca, err,
				  errlen);
	STACK_OF(X509_NAME) *names;

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_verify(ctx,
			   SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   NULL);
	SSL_CTX_set_num_tickets(ctx, 0);
	/* Tell clients which CA we accept, so one holding several
	 * certificates can pick. */
	names = SSL_load_client_CA_file_ex(ca, cf_libctx(), NULL);
	if (names == NULL) {
		say(err, errlen, true, "cannot read CA names from %s", ca);
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	SSL_CTX_set_client_CA_list(ctx, names); /* transferred */
	return ctx;
}

SSL_CTX *cf_tls_client_ctx(const char *cert, const char *key, const char *ca,
			   char *err, size_t errlen)
{
	SSL_CTX *ctx = ctx_common(TLS_client_method(), cert, key, ca, err,
				  errlen);

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Why a handshake failed, as -errno and a reason: -EACCES when a
 * certificate was refused (either side's), -ECONNRESET when the peer went
 * away, -EPROTO for anything else. */
static int handshake_failed(SSL *ssl, int e, char *err, size_t errlen)
{
	long vr = SSL_get_verify_result(ssl);
	unsigned long le = ERR_peek_last_error();
	int lib = ERR_GET_LIB(le), reason = ERR_GET_REASON(le);
	int rc = -EPROTO;

	if (vr != X509_V_OK) {
		say(err, errlen, false,
		    "TLS handshake failed: peer certificate: %s",
		    X509_verify_cert_error_string(vr));
		rc = -EACCES;
	} else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN ||
		   (lib == ERR_LIB_SSL &&
		    reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
		say(err, errlen, false,
		    "TLS handshake failed: the peer closed the connection");
		rc = -ECONNRESET;
	} else {
		say(err, errlen, true, "TLS handshake failed");
		/* The peer's alert says our certificate was not good. */
		if (lib == ERR_LIB_SSL &&
		    (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE ||
		     reason == SSL_R_CERTIFICATE_VERIFY_FAILED ||
		     reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
		     reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
		     reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED))
			rc = -EACCES;
	}
	ERR_clear_error();
	return rc;
}

/* Drives the handshake of ssl to its end or the deadline. */
static int handshake(SSL *ssl, int fd, int timeout_ms, char *err,
		     size_t errlen)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = fd };
		int r, e, wait;

		ERR_clear_error();
		r = SSL_do_handshake(ssl);
		if (r == 1)
			return 0;
		e = SSL_get_error(ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			p.events = POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			p.events = POLLOUT;
		else
			return handshake_failed(ssl, e, err, errlen);
		for (;;) {
			if (deadline < 0) {
				wait = -1;
			} else {
				int64_t left = deadline - now_ms();
				wait = left <= 0 ? 0
				       : left > 0x7fffffff ? 0x7fffffff
							   : (int)left;
			}
			r = poll(&p, 1, wait);
			if (r > 0)
				break;
			if (r == 0) {
				say(err, errlen, false,
					 "TLS handshake timed out after %d ms",
					 timeout_ms);
				return -ETIMEDOUT;
			}
			if (errno != EINTR) {
				say(err, errlen, false, "TLS handshake: poll: %s",
					 strerror(errno));
				return -errno;
			}
		}
	}
}

static int start(SSL_CTX *ctx, int fd, SSL **out, char *err, size_t errlen)
{
	SSL *ssl;
	BIO *b;

	*out = NULL;
	ERR_clear_error();
	ssl = SSL_new(ctx);
	if (ssl == NULL) {
		say(err, errlen, true, "cannot create a TLS connection");
		return -ENOMEM;
	}
	b = cf_conn_bio_new(fd);
	if (b == NULL) {
		SSL_free(ssl);
		say(err, errlen, false, "out of memory");
		return -ENOMEM;
	}
	SSL_set_bio(ssl, b, b); /* transferred */
	*out = ssl;
	return 0;
}

int cf_tls_accept(SSL_CTX *ctx, int fd, int timeout_ms, SSL **out, char *err,
		  size_t errlen)
{
	SSL *ssl;
	int rc;

	clear_err(err, errlen);
	rc = start(ctx, fd, &ssl, err, errlen);
	if (rc < 0)
		return rc;
	SSL_set_accept_state(ssl);
	rc = handshake(ssl, fd, timeout_ms, err, errlen);
	if (rc < 0) {
		SSL_free(ssl); /* the fd stays the caller's */
		return rc;
	}
	*out = ssl;
	return 0;
}

int cf_tls_connect(SSL_CTX *ctx, int fd, const char *host, int timeout_ms,
		   SSL **out, char *err, size_t errlen)
{
	unsigned char addr[16];
	SSL *ssl;
	int rc;

	clear_err(err, errlen);
	rc = start(ctx, fd, &ssl, err, errlen);
	if (rc < 0)
		return rc;
	SSL_set_connect_state(ssl);
	if (host != NULL) {
		bool is_ip = inet_pton(AF_INET, host, addr) == 1 ||
			     inet_pton(AF_INET6, host, addr) == 1;
		int ok;

		if (is_ip) {
			ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
							   host);
		} else {
			SSL_set_hostflags(ssl,
					  X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			ok = SSL_set1_host(ssl, host) == 1 &&
			     SSL_set_tlsext_host_name(ssl, host) == 1;
		}
		if (ok != 1) {
			say(err, errlen, true, "bad server name %s", host);
			SSL_free(ssl);
			ERR_clear_error();
			return -EINVAL;
		}
	}
	rc = handshake(ssl, fd, timeout_ms, err, errlen);
	if (rc < 0) {
		SSL_free(ssl);
		return rc;
	}
	*out = ssl;
	return 0;
}

int cf_tls_peer(SSL *ssl, struct cf_tls_peer *out)
{
	unsigned char *der = NULL;
	size_t fpl = 0;
	X509 *cert;
	BIO *mem;
	char *text;
	long tlen;
	int derlen;
	int rc = -ENOENT;

	memset(out, 0, sizeof(*out));
	cert = SSL_get1_peer_certificate(ssl);
	if (cert == NULL)
		return -ENOENT;
	if (SSL_get_verify_result(ssl) != X509_V_OK) {
		rc = -EACCES;
		goto out_free_cert;
	}
	rc = -ENOMEM;
	mem = BIO_new(BIO_s_mem());
	if (mem == NULL)
		goto out_free_cert;
	if (X509_NAME_print_ex(mem, X509_get_subject_name(cert), 0,
			       XN_FLAG_RFC2253) < 0)
		goto out_free_mem;
	tlen = BIO_get_mem_data(mem, &text);
	if (tlen < 0)
		goto out_free_mem;
	/* A cut subject could match another's allow-list entry. */
	if ((size_t)tlen >= sizeof(out->subject)) {
		rc = -ENAMETOOLONG;
		goto out_free_mem;
	}
	memcpy(out->subject, text, (size_t)tlen);
	out->subject[tlen] = '\0';
	derlen = i2d_X509(cert, &der);
	if (derlen <= 0)
		goto out_free_mem;
	if (!EVP_Q_digest(cf_libctx(), "SHA256", NULL, der, (size_t)derlen,
			  out->fp, &fpl) ||
	    fpl != CF_TLS_FP_LEN)
		goto out_free_der;
	rc = 0;
out_free_der:
	OPENSSL_free(der);
out_free_mem:
	BIO_free(mem);
out_free_cert:
	X509_free(cert);
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	ERR_clear_error();
	return rc;
}

void cf_tls_fp_hex(const uint8_t fp[CF_TLS_FP_LEN], char out[96])
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < CF_TLS_FP_LEN; i++) {
		out[i * 3] = hex[fp[i] >> 4];
		out[i * 3 + 1] = hex[fp[i] & 15];
		out[i * 3 + 2] = i + 1 < CF_TLS_FP_LEN ? ':' : '\0';
	}
}
