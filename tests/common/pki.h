/*
 * pki.h - a throwaway test PKI made with OpenSSL: EC P-256 keys and
 * certificates for a CA and its leaves, written out as PEM files. Shared by
 * the unit and server TLS tests so both trust the same kind of chain.
 */
#ifndef COFFER_TESTS_PKI_H
#define COFFER_TESTS_PKI_H

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* A fresh EC P-256 key, or NULL. */
EVP_PKEY *pki_keygen(void);

/*
 * A certificate for key named O=coffer test, CN=cn: a self-signed CA when
 * issuer is NULL, otherwise a leaf for TLS server and client use signed by
 * issuer/issuer_key, with subjectAltName san when not NULL.
 */
X509 *pki_make_cert(EVP_PKEY *key, const char *cn, X509 *issuer,
		    EVP_PKEY *issuer_key, const char *san, long serial);

/* Writes the certificate x as PEM to file, or the private key k when x is
 * NULL. */
bool pki_write_pem(const char *file, X509 *x, EVP_PKEY *k);

#endif
