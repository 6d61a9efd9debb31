/*
 * p11.c - loading a module by path and setting up the scratch token, using
 * nothing but the module's own function list.
 */
#include "bench.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static const struct {
	CK_RV rv;
	const char *name;
} rv_names[] = {
    {CKR_OK, "CKR_OK"},
    {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
    {CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"},
    {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
    {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
    {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
    {CKR_CANT_LOCK, "CKR_CANT_LOCK"},
    {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
    {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
    {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID"},
    {CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE"},
    {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
    {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
    {CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED"},
    {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
    {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
    {CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE"},
    {CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED"},
    {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
    {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
    {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
    {CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
    {CKR_SESSION_COUNT, "CKR_SESSION_COUNT"},
    {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
    {CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY"},
    {CKR_SESSION_EXISTS, "CKR_SESSION_EXISTS"},
    {CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE"},
    {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
    {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
    {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
    {CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED"},
    {CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN"},
    {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
    {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
    {CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID"},
    {CKR_RANDOM_NO_RNG, "CKR_RANDOM_NO_RNG"},
    {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL"},
    {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
    {CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED"},
};

const char *bench_rv_name(CK_RV rv)
{
	static char unknown[32];

	for (size_t i = 0; i < sizeof(rv_names) / sizeof(rv_names[0]); i++)
		if (rv_names[i].rv == rv)
			return rv_names[i].name;
	snprintf(unknown, sizeof(unknown), "CKR_0x%lx", (unsigned long)rv);
	return unknown;
}

CK_RV bench_p11_load(const char *path, CK_FUNCTION_LIST_PTR *f, char *err,
		     size_t errlen)
{
	CK_RV rv = CKR_GENERAL_ERROR;
	CK_C_GetFunctionList get;
	void *dl;

	*f = NULL;
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		snprintf(err, errlen, "dlopen: %s", dlerror());
		return rv;
	}
	/* The module stays loaded until the process exits: unloading a
	 * module with live threads or atexit handlers is a known crasher
	 * and tells the bench nothing. */
	*(void **)&get = dlsym(dl, "C_GetFunctionList");
	if (get == NULL) {
		snprintf(err, errlen, "no C_GetFunctionList in %s", path);
		return rv;
	}
	rv = get(f);
	if (rv != CKR_OK || *f == NULL) {
		snprintf(err, errlen, "C_GetFunctionList: %s",
			 bench_rv_name(rv));
		*f = NULL;
		return rv != CKR_OK ? rv : CKR_GENERAL_ERROR;
	}
	return CKR_OK;
}

CK_RV bench_p11_initialize(CK_FUNCTION_LIST_PTR f)
{
	/* What a threaded application would pass. */
	CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};

	return f->C_Initialize(&args);
}

static void pad_label(CK_UTF8CHAR out[32], const char *label)
{
	size_t len = strlen(label);

	memset(out, ' ', 32);
	memcpy(out, label, len < 32 ? len : 32);
}

/* Walks the slots with a token present; stops at the first whose token
 * matches. want_free picks the uninitialised token, else the one labelled
 * "bench". */
static CK_RV pick_slot(CK_FUNCTION_LIST_PTR f, bool want_free, CK_SLOT_ID *slot)
{
	CK_SLOT_ID ids[64];
	CK_ULONG n = sizeof(ids) / sizeof(ids[0]);
	CK_UTF8CHAR want[32];
	CK_RV rv;

	*slot = 0;
	pad_label(want, BENCH_TOKEN_LABEL);
	rv = f->C_GetSlotList(CK_TRUE, ids, &n);
	if (rv != CKR_OK)
		return rv;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		bool inited;

		if (f->C_GetTokenInfo(ids[i], &ti) != CKR_OK)
			continue;
		inited = (ti.flags & CKF_TOKEN_INITIALIZED) != 0;
		if (want_free ? !inited
			      : inited && memcmp(ti.label, want, 32) == 0) {
			*slot = ids[i];
			return CKR_OK;
		}
	}
	return CKR_TOKEN_NOT_PRESENT;
}

CK_RV bench_p11_find_slot(CK_FUNCTION_LIST_PTR f, CK_SLOT_ID *slot)
{
	return pick_slot(f, false, slot);
}

#define STEP(call, what)                                                       \
	do {                                                                   \
		rv = (call);                                                   \
		if (rv != CKR_OK) {                                            \
			snprintf(err, errlen, "%s: %s", what,                  \
				 bench_rv_name(rv));                           \
			goto out_close;                                        \
		}                                                              \
	} while (0)

CK_RV bench_p11_init_token(CK_FUNCTION_LIST_PTR f, char *err, size_t errlen)
{
	CK_UTF8CHAR label[32];
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_SLOT_ID slot;
	CK_RV rv;

	pad_label(label, BENCH_TOKEN_LABEL);
	rv = pick_slot(f, true, &slot);
	if (rv != CKR_OK) {
		snprintf(err, errlen, "no free slot: %s", bench_rv_name(rv));
		return rv;
	}
	STEP(f->C_InitToken(slot, (CK_UTF8CHAR_PTR)BENCH_SO_PIN,
			    sizeof(BENCH_SO_PIN) - 1, label),
	     "C_InitToken");
	/* Some modules (SoftHSMv2) renumber slots after C_InitToken. */
	STEP(bench_p11_find_slot(f, &slot), "find token after C_InitToken");
	STEP(f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
			      NULL, &s),
	     "C_OpenSession");
	STEP(f->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)BENCH_SO_PIN,
			sizeof(BENCH_SO_PIN) - 1),
	     "C_Login(SO)");
	STEP(f->C_InitPIN(s, (CK_UTF8CHAR_PTR)BENCH_USER_PIN,
			  sizeof(BENCH_USER_PIN) - 1),
	     "C_InitPIN");
	STEP(f->C_Logout(s), "C_Logout");
out_close:
	if (s != CK_INVALID_HANDLE)
		f->C_CloseSession(s);
	return rv;
}

void bench_object_name(size_t i, struct bench_arg *a)
{
	int n = snprintf(a->label, sizeof(a->label), "bench-obj-%07zu", i);

	a->label_len = n > 0 ? (CK_ULONG)n : 0;
	/* A fixed prefix plus the index big-endian: unique and not a
	 * printable string, as real key ids are. */
	a->id[0] = 0xbe;
	a->id[1] = 0x0c;
	for (size_t k = 0; k < 8; k++)
		a->id[2 + k] = (unsigned char)(i >> (56 - 8 * k));
	a->id_len = 10;
}

/*
 * The object every find looks for. The natural choice, a CKO_DATA object,
 * has no CKA_ID in PKCS#11 (data objects carry CKA_APPLICATION and
 * CKA_OBJECT_ID; SoftHSMv2 rightly refuses CKA_ID with
 * CKR_ATTRIBUTE_TYPE_INVALID), and finding a key by CKA_ID is the lookup
 * applications make. So it is the plainest object that has a label, an id
 * and a 64-byte value: a public, non-sensitive, extractable generic secret.
 */
CK_RV bench_create_object(struct bench_tok *t, size_t i)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	struct bench_arg a;
	CK_OBJECT_HANDLE h;

	bench_object_name(i, &a);
	for (size_t k = 0; k < sizeof(a.buf); k++)
		a.buf[k] = (unsigned char)bench_rng_next(&t->rng);
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &no, sizeof(no)},
	    {CKA_SENSITIVE, &no, sizeof(no)},
	    {CKA_EXTRACTABLE, &yes, sizeof(yes)},
	    {CKA_LABEL, a.label, a.label_len},
	    {CKA_ID, a.id, a.id_len},
	    {CKA_VALUE, a.buf, sizeof(a.buf)},
	};
	return t->f->C_CreateObject(t->sess, tmpl,
				    sizeof(tmpl) / sizeof(tmpl[0]), &h);
}

CK_RV bench_find(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s,
		 CK_ATTRIBUTE_TYPE type, const void *val, CK_ULONG len,
		 CK_OBJECT_HANDLE *obj, CK_ULONG *count)
{
	CK_ATTRIBUTE tmpl = {type, (void *)val, len};
	CK_OBJECT_HANDLE found[2];
	CK_RV rv, rv2;

	*obj = CK_INVALID_HANDLE;
	*count = 0;
	rv = f->C_FindObjectsInit(s, &tmpl, 1);
	if (rv != CKR_OK)
		return rv;
	/* Ask for two so that a duplicate shows up as a count of 2. */
	rv = f->C_FindObjects(s, found, 2, count);
	rv2 = f->C_FindObjectsFinal(s);
	if (rv == CKR_OK)
		rv = rv2;
	if (rv != CKR_OK)
		*count = 0;
	else if (*count > 0)
		*obj = found[0];
	return rv;
}
