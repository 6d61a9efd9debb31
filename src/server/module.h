/*
 * module.h - loading the exported PKCS#11 module in a worker: dlopen, the
 * 3.0 interface when the module has one (else its 2.40 list), and
 * C_Initialize with OS locking, since the worker calls it from several
 * threads. Only workers load it: a module must not be used across fork.
 */
#ifndef CF_SERVER_MODULE_H
#define CF_SERVER_MODULE_H

#include <stdbool.h>
#include <stddef.h>

#include "coffer/pkcs11.h"

struct cf_module {
	void *dl;
	CK_FUNCTION_LIST_3_0 *fl; /* really a CK_FUNCTION_LIST when !v3 */
	bool v3;
	bool initialized;
};

/* Loads and initializes. Returns CKR_OK or the failure, with a one-line
 * reason in err. */
CK_RV cf_module_open(const char *path, struct cf_module *m, char *err,
		     size_t errlen);
/* C_Finalize when initialized. The library stays mapped: the worker exits
 * next, and unmapping a module with threads of its own is not safe. */
void cf_module_close(struct cf_module *m);

#endif
