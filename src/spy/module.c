/*
 * module.c - what libcoffer-spy.so exports (C_GetFunctionList,
 * C_GetInterfaceList, C_GetInterface: the spy's own 3.0 and 2.40 lists),
 * the hand-written wrappers of the LOCAL functions, the loading of the real
 * module, the log file and the message-operation table. Every other
 * function's wrapper is generated (wrappers.c).
 *
 * The real module is named by COFFER_SPY_MODULE, or by "module = PATH" in
 * the file COFFER_SPY_CONF names; it is loaded once, on the first call of
 * any entry point, and stays loaded (unloading a module that may have
 * started threads is never safe).
 */
#include "spy/spy.h"
#include "spy/wrappers.h"
#include "pkcs11/interface.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CF_EXPORT __attribute__((visibility("default")))

CK_FUNCTION_LIST *cf_spy_real;
CK_FUNCTION_LIST_3_0 *cf_spy_real3;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int log_fd = STDERR_FILENO;
static bool show_secrets;
/* Why loading failed, logged by C_Initialize. */
static char load_error[8192];

/* ---- the log --------------------------------------------------------------
 */

void cf_spy_log_write(const char *p, size_t len)
{
	/* One write() per entry: with O_APPEND the kernel places each
	 * whole, so threads and processes sharing the log never
	 * interleave inside an entry. A short write (a full disk, a pipe)
	 * finishes with more writes rather than losing the tail. */
	while (len > 0) {
		ssize_t n = write(log_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

bool cf_spy_show_secrets(void)
{
	return show_secrets;
}

/* ---- configuration and loading ---------------------------------------------
 */

/* "module = PATH" from the config file into out; other keys: "log = PATH",
 * "show_secrets = 1". The environment wins over the file. False, with the
 * reason in load_error, for an unreadable file or an unknown key: a typo
 * must not quietly trace the wrong module or log to the wrong place. */
static bool read_conf(const char *path, char *module, size_t mlen, char *log,
		      size_t llen)
{
	char line[4096];
	FILE *f = fopen(path, "re");
	unsigned lineno = 0;
	bool good = true;

	if (f == NULL) {
		snprintf(load_error, sizeof(load_error),
			 "COFFER_SPY_CONF %s: %s", path, strerror(errno));
		return false;
	}
	while (good && fgets(line, sizeof(line), f) != NULL) {
		char *k = line, *v, *end;

		lineno++;
		while (isspace((unsigned char)*k))
			k++;
		if (*k == '#' || *k == '\0')
			continue;
		v = strchr(k, '=');
		if (v == NULL) {
			snprintf(load_error, sizeof(load_error),
				 "%s:%u: expected key = value", path, lineno);
			good = false;
			break;
		}
		*v++ = '\0';
		for (end = v - 2; end >= k && isspace((unsigned char)*end);
		     end--)
			*end = '\0';
		while (isspace((unsigned char)*v))
			v++;
		end = v + strlen(v);
		while (end > v && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (strcmp(k, "module") == 0)
			snprintf(module, mlen, "%s", v);
		else if (strcmp(k, "log") == 0)
			snprintf(log, llen, "%s", v);
		else if (strcmp(k, "show_secrets") == 0)
			show_secrets = strcmp(v, "1") == 0 ||
				       strcmp(v, "yes") == 0 ||
				       strcmp(v, "true") == 0;
		else {
			snprintf(load_error, sizeof(load_error),
				 "%s:%u: unknown key \"%s\"", path, lineno, k);
			good = false;
		}
	}
	fclose(f);
	return good;
}

static void msg_forget_in_child(void);

/* A forked child starts its own story (it must call C_Initialize again):
 * its summary counts its own calls, and the parent's message operations
 * are not its. */
static void at_fork_child(void)
{
	cf_spy_stats_reset();
	msg_forget_in_child();
}

static void load(void)
{
	char module[4096] = "", log[4096] = "";
	const char *env;
	CK_C_GetFunctionList get_list;
	CK_C_GetInterface get_iface;
	CK_INTERFACE_PTR iface = NULL;
	CK_VERSION v3 = {3, 0};
	bool conf_bad = false;
	void *dl;

	pthread_atfork(NULL, NULL, at_fork_child);
	env = getenv("COFFER_SPY_CONF");
	if (env != NULL && *env != '\0' &&
	    !read_conf(env, module, sizeof(module), log, sizeof(log)))
		conf_bad = true;
	env = getenv("COFFER_SPY_MODULE");
	if (env != NULL && *env != '\0')
		snprintf(module, sizeof(module), "%s", env);
	env = getenv("COFFER_SPY_LOG");
	if (env != NULL && *env != '\0')
		snprintf(log, sizeof(log), "%s", env);
	env = getenv("COFFER_SPY_SHOW_SECRETS");
	if (env != NULL)
		show_secrets = strcmp(env, "1") == 0;

	if (log[0] != '\0' && strcmp(log, "stderr") != 0) {
		int fd =
		    open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

		/* A log that cannot be opened falls back to stderr: the
		 * spy's job is to be seen, not to break the application. */
		if (fd >= 0)
			log_fd = fd;
	}
	if (conf_bad)
		return;
	if (module[0] == '\0') {
		if (load_error[0] == '\0')
			snprintf(load_error, sizeof(load_error),
				 "no real module: set COFFER_SPY_MODULE or "
				 "\"module = PATH\" in COFFER_SPY_CONF");
		return;
	}
	dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		snprintf(load_error, sizeof(load_error), "dlopen %s: %s",
			 module, dlerror());
		return;
	}
	*(void **)&get_list = dlsym(dl, "C_GetFunctionList");
	*(void **)&get_iface = dlsym(dl, "C_GetInterface");
	if (get_list == NULL || get_list(&cf_spy_real) != CKR_OK ||
	    cf_spy_real == NULL) {
		cf_spy_real = NULL;
		snprintf(load_error, sizeof(load_error),
			 "%s: no usable C_GetFunctionList", module);
		return;
	}
	if (get_iface != NULL &&
	    get_iface((CK_UTF8CHAR_PTR) "PKCS 11", &v3, &iface, 0) == CKR_OK &&
	    iface != NULL && iface->pFunctionList != NULL)
		cf_spy_real3 = iface->pFunctionList;
}

static void ensure_loaded(void)
{
	pthread_once(&load_once, load);
}

/* ---- message operations ----------------------------------------------------
 */

struct msg_entry {
	CK_SESSION_HANDLE s;
	CK_MECHANISM_TYPE mech;
	int op;
};

static pthread_mutex_t msg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct msg_entry *msgs;
static size_t nmsgs, capmsgs;

void cf_spy_msg_set(CK_SESSION_HANDLE s, enum cf_spy_msg_op op,
		    CK_MECHANISM_TYPE mech)
{
	pthread_mutex_lock(&msg_lock);
	for (size_t i = 0; i < nmsgs; i++) {
		if (msgs[i].s == s && msgs[i].op == (int)op) {
			msgs[i].mech = mech;
			goto out_unlock;
		}
	}
	if (nmsgs == capmsgs) {
		size_t cap = capmsgs ? capmsgs * 2 : 16;
		struct msg_entry *n = realloc(msgs, cap * sizeof(*n));

		/* Without room the parameters of this operation print as
		 * bytes; the call itself is unaffected. */
		if (n == NULL)
			goto out_unlock;
		msgs = n;
		capmsgs = cap;
	}
	msgs[nmsgs++] = (struct msg_entry){.s = s, .mech = mech, .op = (int)op};
out_unlock:
	pthread_mutex_unlock(&msg_lock);
}

void cf_spy_msg_clear(CK_SESSION_HANDLE s, enum cf_spy_msg_op op)
{
	pthread_mutex_lock(&msg_lock);
	for (size_t i = 0; i < nmsgs; i++) {
		if (msgs[i].s == s && msgs[i].op == (int)op) {
			msgs[i] = msgs[--nmsgs];
			break;
		}
	}
	pthread_mutex_unlock(&msg_lock);
}

bool cf_spy_msg_get(CK_SESSION_HANDLE s, enum cf_spy_msg_op op,
		    CK_MECHANISM_TYPE *mech)
{
	bool found = false;

	pthread_mutex_lock(&msg_lock);
	for (size_t i = 0; i < nmsgs; i++) {
		if (msgs[i].s == s && msgs[i].op == (int)op) {
			*mech = msgs[i].mech;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&msg_lock);
	return found;
}

/* Only the forking thread lives on in the child, and another thread may
 * have held the lock at the fork: the lock is made anew, the table kept
 * (its memory is the child's copy) and emptied. */
static void msg_forget_in_child(void)
{
	pthread_mutex_init(&msg_lock, NULL);
	nmsgs = 0;
}

void cf_spy_msg_reset(void)
{
	pthread_mutex_lock(&msg_lock);
	free(msgs);
	msgs = NULL;
	nmsgs = capmsgs = 0;
	pthread_mutex_unlock(&msg_lock);
}

/* ---- the LOCAL functions ----------------------------------------------- */

/* 5.4.1 */
static CK_RV spy_initialize(CK_VOID_PTR args)
{
	struct cf_spy_call c;
	CK_RV rv;

	ensure_loaded();
	cf_spy_begin(&c, 1, "C_Initialize");
	cf_spy_init_args(&c.o, "pInitArgs", args);
	if (cf_spy_real == NULL)
		cf_spy_printf(&c.o, "  spy: %s\n", load_error);
	cf_spy_start(&c);
	rv = cf_spy_real != NULL ? cf_spy_real->C_Initialize(args)
				 : CKR_GENERAL_ERROR;
	cf_spy_returned(&c, rv);
	cf_spy_end(&c);
	return rv;
}

/* 5.4.2: the summary covers the calls since the previous one. */
static CK_RV spy_finalize(CK_VOID_PTR reserved)
{
	struct cf_spy_call c;
	CK_RV rv;

	cf_spy_begin(&c, 2, "C_Finalize");
	cf_spy_pointer(&c.o, "pReserved", reserved);
	cf_spy_start(&c);
	rv = cf_spy_real != NULL ? cf_spy_real->C_Finalize(reserved)
				 : CKR_CRYPTOKI_NOT_INITIALIZED;
	cf_spy_returned(&c, rv);
	cf_spy_end(&c);
	if (rv == CKR_OK) {
		cf_spy_msg_reset();
		cf_spy_summary();
	}
	return rv;
}

/* 5.5.7 */
static CK_RV spy_wait_for_slot_event(CK_FLAGS flags, CK_SLOT_ID_PTR slot,
				     CK_VOID_PTR reserved)
{
	struct cf_spy_call c;
	CK_RV rv;

	cf_spy_begin(&c, 10, "C_WaitForSlotEvent");
	cf_spy_flags(&c.o, "flags", flags, CF_SPY_F_WAIT);
	cf_spy_pointer(&c.o, "pReserved", reserved);
	cf_spy_start(&c);
	rv = cf_spy_real != NULL
		 ? cf_spy_real->C_WaitForSlotEvent(flags, slot, reserved)
		 : CKR_CRYPTOKI_NOT_INITIALIZED;
	cf_spy_returned(&c, rv);
	if (rv == CKR_OK && slot != NULL)
		cf_spy_ulong(&c.o, "*pSlot", *slot, CF_SPY_NUMBER);
	cf_spy_end(&c);
	return rv;
}

/* 5.20: legacy parallel functions. */
static CK_RV spy_get_function_status(CK_SESSION_HANDLE s)
{
	struct cf_spy_call c;
	CK_RV rv;

	cf_spy_begin(&c, 91, "C_GetFunctionStatus");
	cf_spy_ulong(&c.o, "hSession", s, CF_SPY_NUMBER);
	cf_spy_start(&c);
	rv = cf_spy_real != NULL ? cf_spy_real->C_GetFunctionStatus(s)
				 : CKR_CRYPTOKI_NOT_INITIALIZED;
	cf_spy_returned(&c, rv);
	cf_spy_end(&c);
	return rv;
}

static CK_RV spy_cancel_function(CK_SESSION_HANDLE s)
{
	struct cf_spy_call c;
	CK_RV rv;

	cf_spy_begin(&c, 92, "C_CancelFunction");
	cf_spy_ulong(&c.o, "hSession", s, CF_SPY_NUMBER);
	cf_spy_start(&c);
	rv = cf_spy_real != NULL ? cf_spy_real->C_CancelFunction(s)
				 : CKR_CRYPTOKI_NOT_INITIALIZED;
	cf_spy_returned(&c, rv);
	cf_spy_end(&c);
	return rv;
}

/* ---- the function lists and the exported entry points -----------------------
 */

CF_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out);
CF_EXPORT CK_RV C_GetInterfaceList(CK_INTERFACE_PTR list, CK_ULONG_PTR count);
CF_EXPORT CK_RV C_GetInterface(CK_UTF8CHAR_PTR name, CK_VERSION_PTR version,
			       CK_INTERFACE_PTR_PTR out, CK_FLAGS flags);

#define S(f) cf_spy_##f
#define FUNCTIONS_2_40(get_info_fn)                                            \
	spy_initialize, spy_finalize, get_info_fn, C_GetFunctionList,          \
	    S(C_GetSlotList), S(C_GetSlotInfo), S(C_GetTokenInfo),             \
	    S(C_GetMechanismList), S(C_GetMechanismInfo), S(C_InitToken),      \
	    S(C_InitPIN), S(C_SetPIN), S(C_OpenSession), S(C_CloseSession),    \
	    S(C_CloseAllSessions), S(C_GetSessionInfo),                        \
	    S(C_GetOperationState), S(C_SetOperationState), S(C_Login),        \
	    S(C_Logout), S(C_CreateObject), S(C_CopyObject),                   \
	    S(C_DestroyObject), S(C_GetObjectSize), S(C_GetAttributeValue),    \
	    S(C_SetAttributeValue), S(C_FindObjectsInit), S(C_FindObjects),    \
	    S(C_FindObjectsFinal), S(C_EncryptInit), S(C_Encrypt),             \
	    S(C_EncryptUpdate), S(C_EncryptFinal), S(C_DecryptInit),           \
	    S(C_Decrypt), S(C_DecryptUpdate), S(C_DecryptFinal),               \
	    S(C_DigestInit), S(C_Digest), S(C_DigestUpdate), S(C_DigestKey),   \
	    S(C_DigestFinal), S(C_SignInit), S(C_Sign), S(C_SignUpdate),       \
	    S(C_SignFinal), S(C_SignRecoverInit), S(C_SignRecover),            \
	    S(C_VerifyInit), S(C_Verify), S(C_VerifyUpdate), S(C_VerifyFinal), \
	    S(C_VerifyRecoverInit), S(C_VerifyRecover),                        \
	    S(C_DigestEncryptUpdate), S(C_DecryptDigestUpdate),                \
	    S(C_SignEncryptUpdate), S(C_DecryptVerifyUpdate),                  \
	    S(C_GenerateKey), S(C_GenerateKeyPair), S(C_WrapKey),              \
	    S(C_UnwrapKey), S(C_DeriveKey), S(C_SeedRandom),                   \
	    S(C_GenerateRandom), spy_get_function_status, spy_cancel_function, \
	    spy_wait_for_slot_event

static CK_FUNCTION_LIST functions_2_40 = {
    {2, 40},
    FUNCTIONS_2_40(S(C_GetInfo)),
};

static CK_FUNCTION_LIST_3_0 functions_3_0 = {
    {3, 0},
    FUNCTIONS_2_40(S(C_GetInfo_3_0)),
    C_GetInterfaceList,
    C_GetInterface,
    S(C_LoginUser),
    S(C_SessionCancel),
    S(C_MessageEncryptInit),
    S(C_EncryptMessage),
    S(C_EncryptMessageBegin),
    S(C_EncryptMessageNext),
    S(C_MessageEncryptFinal),
    S(C_MessageDecryptInit),
    S(C_DecryptMessage),
    S(C_DecryptMessageBegin),
    S(C_DecryptMessageNext),
    S(C_MessageDecryptFinal),
    S(C_MessageSignInit),
    S(C_SignMessage),
    S(C_SignMessageBegin),
    S(C_SignMessageNext),
    S(C_MessageSignFinal),
    S(C_MessageVerifyInit),
    S(C_VerifyMessage),
    S(C_VerifyMessageBegin),
    S(C_VerifyMessageNext),
    S(C_MessageVerifyFinal),
};

/* The default (first) interface is 3.0. Neither claims
 * CKF_INTERFACE_FORK_SAFE: the spy cannot promise more than the module it
 * wraps. */
static CK_INTERFACE interfaces[] =
    CF_P11_INTERFACES(&functions_3_0, &functions_2_40);

/* 5.4.4 */
CF_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	struct cf_spy_call c;
	CK_RV rv = CKR_OK;

	ensure_loaded();
	cf_spy_begin(&c, 4, "C_GetFunctionList");
	cf_spy_start(&c);
	if (out == NULL)
		rv = CKR_ARGUMENTS_BAD;
	else
		*out = &functions_2_40;
	cf_spy_returned(&c, rv);
	if (rv == CKR_OK)
		cf_spy_printf(&c.o,
			      "  *ppFunctionList = the spy's 2.40 list\n");
	cf_spy_end(&c);
	return rv;
}

/* 5.4.5 */
CF_EXPORT CK_RV C_GetInterfaceList(CK_INTERFACE_PTR list, CK_ULONG_PTR count)
{
	struct cf_spy_call c;
	CK_RV rv = CKR_OK;

	ensure_loaded();
	cf_spy_begin(&c, 5, "C_GetInterfaceList");
	if (count != NULL)
		cf_spy_printf(&c.o, "  pInterfacesList = %s, *pulCount = %lu\n",
			      list != NULL ? "buffer" : "NULL",
			      (unsigned long)*count);
	cf_spy_start(&c);
	rv = cf_p11_interface_list(interfaces, CF_P11_NINTERFACES, list, count);
	cf_spy_returned(&c, rv);
	if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
		cf_spy_ulong(&c.o, "*pulCount", *count, CF_SPY_NUMBER);
	for (size_t i = 0;
	     rv == CKR_OK && list != NULL && i < CF_P11_NINTERFACES; i++) {
		const CK_VERSION *v = list[i].pFunctionList;

		cf_spy_printf(&c.o, "  interface %zu = \"%s\" %u.%u\n", i,
			      (const char *)list[i].pInterfaceName, v->major,
			      v->minor);
		cf_spy_flags(&c.o, "  flags", list[i].flags,
			     CF_SPY_F_INTERFACE);
	}
	cf_spy_end(&c);
	return rv;
}

/* 5.4.6 */
CF_EXPORT CK_RV C_GetInterface(CK_UTF8CHAR_PTR name, CK_VERSION_PTR version,
			       CK_INTERFACE_PTR_PTR out, CK_FLAGS flags)
{
	struct cf_spy_call c;
	CK_RV rv = CKR_ARGUMENTS_BAD;

	ensure_loaded();
	cf_spy_begin(&c, 6, "C_GetInterface");
	if (name != NULL)
		cf_spy_printf(&c.o, "  pInterfaceName = \"%.32s\"\n",
			      (const char *)name);
	else
		cf_spy_pointer(&c.o, "pInterfaceName", NULL);
	if (version != NULL)
		cf_spy_printf(&c.o, "  pVersion = %u.%u\n", version->major,
			      version->minor);
	else
		cf_spy_pointer(&c.o, "pVersion", NULL);
	cf_spy_flags(&c.o, "flags", flags, CF_SPY_F_INTERFACE);
	cf_spy_start(&c);
	rv = cf_p11_interface_get(interfaces, CF_P11_NINTERFACES, name, version,
				  out, flags);
	cf_spy_returned(&c, rv);
	if (rv == CKR_OK) {
		const CK_VERSION *v = (*out)->pFunctionList;

		cf_spy_printf(&c.o, "  *ppInterface = \"PKCS 11\" %u.%u\n",
			      v->major, v->minor);
	}
	cf_spy_end(&c);
	return rv;
}
