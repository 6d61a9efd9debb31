/*
 * tls.h - TLS for cofferd and libcoffer-client.so: TLS 1.3 only, mutual
 * authentication always (the server demands a client certificate chained
 * to its CA), OpenSSL 3 in coffer's library context. Peer identities are
 * reported as the certificate's subject (RFC 2253 one-line form) and the
 * SHA-256 fingerprint of its DER, which access control matches against.
 */
#ifndef CF_WIRE_TLS_H
#define CF_WIRE_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define CF_TLS_FP_LEN 32

/* Contexts. On failure return NULL and write a one-line reason naming the
 * file at fault into err. */
SSL_CTX *cf_tls_server_ctx(const char *cert, const char *key, const char *ca,
			   char *err, size_t errlen);
SSL_CTX *cf_tls_client_ctx(const char *cert, const char *key, const char *ca,
			   char *err, size_t errlen);

/* Handshakes on a connected blocking socket, bounded by timeout_ms. The
 * client checks the server certificate against the CA and host (a DNS name
 * or IP address; NULL skips the name check only when the CA is private to
 * the deployment, as docs/security.md says). Return 0 or -errno, with a
 * reason in err. */
int cf_tls_accept(SSL_CTX *ctx, int fd, int timeout_ms, SSL **out, char *err,
		  size_t errlen);
int cf_tls_connect(SSL_CTX *ctx, int fd, const char *host, int timeout_ms,
		   SSL **out, char *err, size_t errlen);

struct cf_tls_peer {
	char subject[512];
	uint8_t fp[CF_TLS_FP_LEN];
};

/* The verified peer certificate's identity; -ENOENT when there is none. */
int cf_tls_peer(SSL *ssl, struct cf_tls_peer *out);
/* "AB:CD:..." (95 characters and NUL). */
void cf_tls_fp_hex(const uint8_t fp[CF_TLS_FP_LEN], char out[96]);

#endif
