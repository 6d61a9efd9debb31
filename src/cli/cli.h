/*
 * cli.h - the coffer command: shared core (options, module loading, token
 * and object selection by PKCS#11 URI, PINs, messages) and the commands.
 *
 * Every command is `int cmd_NAME(struct cli *c)`, returning the process
 * exit status (0 or 1). Messages go to stderr through cli_err(); output
 * meant for the user or for pipes goes to stdout. The CLI is a single
 * thread and a short-lived process: state lives in struct cli.
 */
#ifndef CF_CLI_H
#define CF_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "coffer/pkcs11.h"

/* Options of all commands; each command accepts a subset (struct
 * cli_command.opts). Strings point into argv. */
struct cli_opts {
	const char *module, *token, *slot;
	const char *pin, *pin_source, *so_pin, *so_pin_source;
	const char *new_pin, *new_pin_source;
	const char *label, *id, *usage, *type, *key_pass_source;
	const char *key, *ca_key, *ca_cert, *subject, *san, *hash, *csr;
	const char *serial, *key_usage, *ext_key_usage, *target;
	const char *in, *out, *sig, *iv, *aad, *mechanism, *form;
	long days, pathlen, bytes;
	bool pss, extractable, always_auth, json, all, self_signed, ca;
	bool write, login, der, help;
	int argc; /* positional arguments left */
	char **argv;
};

struct cli {
	struct cli_opts o;
	const char *module_path;
	CK_FUNCTION_LIST *f;
	bool initialized;
	bool have_token;
	CK_SLOT_ID slot;
	CK_TOKEN_INFO tinfo;
	CK_SESSION_HANDLE sess;
	bool have_session;
};

struct cli_command {
	const char *name;
	const char *alias;
	const char *summary; /* one line for coffer --help */
	int (*run)(struct cli *c);
	const char *opts;  /* long options accepted, comma-separated */
	const char *usage; /* the line after "usage: coffer " */
	const char *help;  /* what it does and its options */
};

extern const struct cli_command cli_commands[];

/* ---- messages (util.c) ---- */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "what: CKR_NAME" */
void cli_rv_err(const char *what, CK_RV rv);
/* The first queued OpenSSL error as text, or "unknown error". */
const char *cli_ossl_err(void);
/* Token labels etc. are blank-padded: copies without the padding. */
void cli_unpad(char *out, size_t outlen, const CK_UTF8CHAR *in, size_t inlen);
void cli_pad(CK_UTF8CHAR *out, size_t outlen, const char *in);
/* Hex: "0a1b" <-> bytes. cli_hex_decode returns false on malformed input;
 * *out is malloc'd. */
bool cli_hex_decode(const char *hex, uint8_t **out, size_t *len);
/* The CKA_ID of a new key: --id's bytes (malloc'd into *id), or else 16
 * random bytes from the token in rid (*id = rid). Needs an open session;
 * says what is wrong. 0 or -1; the caller frees *id unless it is rid. */
int cli_new_key_id(struct cli *c, uint8_t rid[16], uint8_t **id,
		   size_t *idlen);
void cli_hex_print(FILE *fp, const uint8_t *p, size_t len);
/* Whole file (or stdin for NULL / "-"), capped at 64 MiB. 0 or -errno,
 * message printed. */
int cli_read_file(const char *path, uint8_t **data, size_t *len);
int cli_write_file(const char *path, const uint8_t *data, size_t len);
bool cli_list_has(const char *list, const char *word, size_t wordlen);

/* ---- module (module.c) ---- */
int cli_module_open(struct cli *c);
void cli_module_close(struct cli *c);

/* ---- selection (select.c) ---- */
/* Selects c->slot from sel (a pkcs11: URI or a token label; NULL: the only
 * initialized token, or for uninit the only uninitialized one). */
int cli_token_select(struct cli *c, const char *sel, bool uninit);
/* --token if given, else the token part of the object URI. */
int cli_token_for_object(struct cli *c, const char *uri);
int cli_session_open(struct cli *c);
/* All objects matching uri (NULL: all) with class cls added when the URI
 * names none (cls == (CK_ULONG)-1: any). *h malloc'd. */
int cli_find(struct cli *c, const char *uri, CK_OBJECT_CLASS cls,
	     CK_OBJECT_HANDLE **h, size_t *n);
/* Exactly one: a clear message for none or several. */
int cli_find_one(struct cli *c, const char *uri, CK_OBJECT_CLASS cls,
		 CK_OBJECT_HANDLE *h);
/* The URI naming object h on the selected token; malloc'd, or NULL. */
char *cli_object_uri(struct cli *c, CK_OBJECT_HANDLE h);
char *cli_token_uri(const CK_TOKEN_INFO *ti);

/* ---- attributes (attr.c) ---- */
/* One attribute's value, malloc'd (NUL-terminated for convenience);
 * false when absent or unreadable (sensitive). */
bool cli_attr_get(struct cli *c, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t,
		  uint8_t **val, size_t *len);
bool cli_attr_ulong(struct cli *c, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t,
		    CK_ULONG *v);
bool cli_attr_bool(struct cli *c, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t,
		   bool *v);

/* ---- PINs (pin.c) ---- */
/* A PIN from pin (literal), source ("file:PATH", "env:NAME") or a prompt
 * without echo on the terminal. *out is secret memory: free it with
 * cli_pin_free. */
int cli_pin_get(const char *pin, const char *source, const char *prompt,
		char **out, size_t *len);
void cli_pin_free(char *pin, size_t len);
/* Logs in the selected session as user (CKU_USER) or SO. */
int cli_login(struct cli *c, CK_USER_TYPE who);
/* For a key with CKA_ALWAYS_AUTHENTICATE, after its C_*Init: the user
 * PIN again, as C_Login(CKU_CONTEXT_SPECIFIC). 0 when done or not
 * needed. */
int cli_context_login(struct cli *c, CK_OBJECT_HANDLE key);
/* The message for a failed C_Login/C_SetPIN with the PIN of who. */
void cli_pin_rv_err(struct cli *c, CK_USER_TYPE who, CK_RV rv);

/* ---- keys and signing with OpenSSL (keys.c, sign.c) ---- */
/* The public key of key object h (public or private; for a private key
 * the public key object with the same CKA_ID is used when needed). */
EVP_PKEY *cli_pubkey_of(struct cli *c, CK_OBJECT_HANDLE h);
/* A private key chosen by uri, and its public key. */
int cli_signing_key(struct cli *c, const char *uri, CK_OBJECT_HANDLE *priv,
		    EVP_PKEY **pub);
/* The AlgorithmIdentifier for signing with pub's key type and md. */
X509_ALGOR *cli_sigalg_new(EVP_PKEY *pub, const EVP_MD *md, bool pss);
/* Signs tbs in the token, the signature in X.509 form (DER
 * ECDSA-Sig-Value for EC), malloc'd. */
int cli_sign_x509(struct cli *c, CK_OBJECT_HANDLE priv, EVP_PKEY *pub,
		  const EVP_MD *md, bool pss, const uint8_t *tbs, size_t len,
		  uint8_t **sig, size_t *siglen);
const EVP_MD *cli_md_by_name(const char *name);
/* SHA-1 of the DER SubjectPublicKeyInfo: the CKA_ID import uses. */
int cli_key_id(EVP_PKEY *pub, uint8_t id[20]);
/* DER of curve OID and EC_POINT octet string for the token. */
int cli_ec_params_der(EVP_PKEY *pk, uint8_t **der, size_t *len);
/* X.509 name from "/CN=a/O=b". */
X509_NAME *cli_name_parse(const char *s);
/* Adds extensions "conf" (OpenSSL config syntax) of nid to a stack. */
int cli_ext_add(STACK_OF(X509_EXTENSION) * *sk, X509V3_CTX *ctx, int nid,
		const char *value);

/* ---- objects (create.c) ---- */
/* Creates objects and remembers them, so that a failure later destroys
 * every one made (nothing half-made stays on the token). */
struct cli_created {
	CK_OBJECT_HANDLE h[16];
	size_t n;
};
int cli_create(struct cli *c, struct cli_created *cr, CK_ATTRIBUTE *t,
	       CK_ULONG n, CK_OBJECT_HANDLE *out);
void cli_created_undo(struct cli *c, struct cli_created *cr);
/* Certificate object template for x, with id and label. */
int cli_store_cert(struct cli *c, struct cli_created *cr, X509 *x,
		   const uint8_t *id, size_t idlen, const char *label);
/* Finds the token key whose public key is pub; its CKA_ID and label. */
bool cli_find_key_for(struct cli *c, EVP_PKEY *pub, uint8_t **id, size_t *idlen,
		      char **label);

/* ---- commands ---- */
int cmd_tokens(struct cli *c);
int cmd_info(struct cli *c);
int cmd_mechanisms(struct cli *c);
int cmd_init_token(struct cli *c);
int cmd_init_pin(struct cli *c);
int cmd_set_pin(struct cli *c);
int cmd_unlock(struct cli *c);
int cmd_keygen(struct cli *c);
int cmd_objects(struct cli *c);
int cmd_import(struct cli *c);
int cmd_export(struct cli *c);
int cmd_csr(struct cli *c);
int cmd_cert(struct cli *c);
int cmd_sign(struct cli *c);
int cmd_verify(struct cli *c);
int cmd_encrypt(struct cli *c);
int cmd_decrypt(struct cli *c);
int cmd_digest(struct cli *c);
int cmd_random(struct cli *c);
int cmd_wrap(struct cli *c);
int cmd_unwrap(struct cli *c);
int cmd_delete(struct cli *c);

#endif
