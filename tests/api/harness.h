/*
 * harness.h - shared fixtures of the PKCS#11 API suite.
 *
 * Every program loads a module by path (argv[1] or COFFER_TEST_MODULE) with
 * dlopen, never linking coffer internals, so the same binaries run against
 * libcoffer.so and SoftHSMv2, and through libcoffer-client.so + cofferd
 * (remote mode: COFFER_TEST_REMOTE names the module cofferd exports and
 * COFFER_TEST_COFFERD the daemon). The harness owns a scratch directory (the
 * module's token store and config), the function list and the fixtures that
 * bring a token into a known state. Nothing here is thread-safe except the
 * object helpers, which only call into the module.
 */
#ifndef API_HARNESS_H
#define API_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "coffer/pkcs11.h"

#define API_SO_PIN "12345678"
#define API_USER_PIN "1234"
#define API_LABEL "test"
/* pin_lockout in the coffer test config. */
#define API_PIN_LOCKOUT 5

/* Template entries: a fixed-size value, a C string, a buffer. */
#define ATTR(t, v)                                                             \
	{                                                                      \
		(t), (void *)(v), (CK_ULONG)sizeof(*(v))                       \
	}
#define ATTR_STR(t, s)                                                         \
	{                                                                      \
		(t), (void *)(s), (CK_ULONG)strlen(s)                          \
	}
#define ATTR_BUF(t, p, n)                                                      \
	{                                                                      \
		(t), (void *)(p), (CK_ULONG)(n)                                \
	}
#define NELEM(a) ((CK_ULONG)(sizeof(a) / sizeof((a)[0])))

extern const CK_BBOOL api_true, api_false;

#define API_PIN(s) (CK_UTF8CHAR_PTR)(s), (CK_ULONG)strlen(s)

/* The module's 2.40 function list, valid between api_run() and its end. */
extern CK_FUNCTION_LIST *p11;
/* Slot of the token made by api_setup_token(). */
extern CK_SLOT_ID api_slot;

/* Runs tests against the module named by argv[1] / COFFER_TEST_MODULE. When
 * the module is SoftHSMv2, tests named in softhsm-deviations.txt run in a
 * child process and their failure is reported as expected. Returns the
 * number of failed tests (cmocka's convention). */
int api_run(int argc, char **argv, const char *group,
	    const struct CMUnitTest *tests, size_t count);

/* True when the token's module is SoftHSMv2 (in remote mode: the module
 * cofferd exports). */
bool api_is_softhsm(void);
/* Remote mode: argv[1] is libcoffer-client.so, and the harness runs cofferd
 * (COFFER_TEST_COFFERD) exporting COFFER_TEST_REMOTE on a socket in the
 * scratch directory for the whole program. */
bool api_is_remote(void);
const char *api_module_path(void);
const char *api_scratch_dir(void);
/* dlsym() in the loaded module; NULL if it lacks the symbol. */
void *api_module_symbol(const char *name);
/* Expected ulMaxPinLen: the coffer test config, or SoftHSMv2's fixed 255. */
CK_ULONG api_max_pin_len(void);
CK_ULONG api_min_pin_len(void);

/* Fixtures. Each empties the token directory first, so every test starts
 * from a store with no token. */
int api_setup_loaded(void **state);	   /* module loaded, not initialized */
int api_setup_initialized(void **state);   /* + C_Initialize(NULL) */
int api_setup_token(void **state);	   /* + token "test", user PIN set */
int api_setup_token_no_user(void **state); /* token, user PIN not set */
int api_teardown(void **state);		   /* C_Finalize if initialized */

/* Assertions that name return codes. */
const char *api_rv_name(CK_RV rv);
void api_assert_rv(CK_RV expected, CK_RV actual, const char *expr,
		   const char *file, int line);
void api_assert_rv2(CK_RV exp1, CK_RV exp2, CK_RV actual, const char *expr,
		    const char *file, int line);
#define assert_rv(expected, expr)                                              \
	api_assert_rv((CK_RV)(expected), (CK_RV)(expr), #expr, __FILE__,       \
		      __LINE__)
#define assert_rv_either(exp1, exp2, expr)                                     \
	api_assert_rv2((CK_RV)(exp1), (CK_RV)(exp2), (CK_RV)(expr), #expr,     \
		       __FILE__, __LINE__)

/* Token helpers; all assert success. */
void api_reinitialize(void); /* C_Finalize + C_Initialize(NULL) */
void api_pad(CK_UTF8CHAR *dst, size_t len, const char *s);
CK_SLOT_ID api_free_slot(void);
CK_SLOT_ID api_init_token(const char *label);
/* Tests of several tokens need the free slot C_InitToken leaves behind.
 * coffer shows it at once (test_slot__init_token_adds_free_slot checks
 * that); SoftHSMv2 only after the next C_Initialize, which also renumbers
 * its slots, so tests about something else call this (a library restart on
 * SoftHSMv2, nothing on coffer) and then find slots by label. */
void api_next_free_slot(void);
CK_SLOT_ID api_slot_by_label(const char *label);
void api_init_user_pin(CK_SLOT_ID slot, const char *pin);
CK_FLAGS api_token_flags(CK_SLOT_ID slot);
CK_SESSION_HANDLE api_open(CK_SLOT_ID slot, bool rw);
void api_login(CK_SESSION_HANDLE s, CK_USER_TYPE user);
CK_STATE api_session_state(CK_SESSION_HANDLE s);

/* Object helpers; return the module's code, *h set on CKR_OK. */
CK_RV api_create_data(CK_SESSION_HANDLE s, CK_BBOOL token, CK_BBOOL priv,
		      const char *label, CK_OBJECT_HANDLE *h);
/* Private AES-256 key with a random value. */
CK_RV api_create_aes(CK_SESSION_HANDLE s, CK_BBOOL token, CK_BBOOL sensitive,
		     CK_BBOOL extractable, const char *label,
		     CK_OBJECT_HANDLE *h);
/* RSA-2048 and P-256 pairs by value (key material made once per process
 * with OpenSSL); the private halves are sensitive and private. */
CK_RV api_create_rsa_pair(CK_SESSION_HANDLE s, CK_BBOOL token,
			  const char *label, CK_OBJECT_HANDLE *pub,
			  CK_OBJECT_HANDLE *priv);
CK_RV api_create_ec_pair(CK_SESSION_HANDLE s, CK_BBOOL token, const char *label,
			 CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv);

/* A self-signed X.509 certificate made with OpenSSL, with the DER of its
 * subject, issuer and serial number (the INTEGER) as PKCS#11 wants them. */
struct api_cert {
	unsigned char *der, *subject, *issuer, *serial;
	CK_ULONG der_len, subject_len, issuer_len, serial_len;
};
void api_cert_make(struct api_cert *c, const char *cn, long serial);
void api_cert_clear(struct api_cert *c);
/* Public X.509 certificate object, CKA_ID "id-" + label. */
CK_RV api_create_cert(CK_SESSION_HANDLE s, CK_BBOOL token,
		      const struct api_cert *c, const char *label,
		      CK_OBJECT_HANDLE *h);

/* The RSA components, for tests that build their own templates. */
struct api_rsa {
	unsigned char *n, *e, *d, *p, *q, *dp, *dq, *qi;
	CK_ULONG n_len, e_len, d_len, p_len, q_len, dp_len, dq_len, qi_len;
};
const struct api_rsa *api_rsa_material(void);

/* Searches: runs a whole find (init, chunks of 16, final) and asserts every
 * step succeeds. Returns the number found; stores up to max handles. */
CK_ULONG api_find(CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
		  CK_OBJECT_HANDLE *out, CK_ULONG max);
bool api_contains(const CK_OBJECT_HANDLE *v, CK_ULONG n, CK_OBJECT_HANDLE h);

/* Attribute readers; return the module's code. */
CK_RV api_get_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
		   CK_ATTRIBUTE_TYPE type, CK_BBOOL *out);
CK_RV api_get_ulong(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
		    CK_ATTRIBUTE_TYPE type, CK_ULONG *out);
/* Reads a variable-length attribute into buf; *len in: capacity, out:
 * length. */
CK_RV api_get_bytes(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
		    CK_ATTRIBUTE_TYPE type, void *buf, CK_ULONG *len);

/* Asserts a fixed-width PKCS#11 string is printable and blank padded. */
void api_assert_padded(const CK_UTF8CHAR *s, size_t len);

#endif /* API_HARNESS_H */
