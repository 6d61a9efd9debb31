/*
 * module.c - loading the PKCS#11 module: --module, env COFFER_MODULE, or
 * the installed libcoffer.so (COFFER_DEFAULT_MODULE from meson).
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#ifndef COFFER_DEFAULT_MODULE
#define COFFER_DEFAULT_MODULE "/usr/local/lib/pkcs11/libcoffer.so"
#endif

int cli_module_open(struct cli *c)
{
	CK_C_INITIALIZE_ARGS args;
	CK_C_GetFunctionList get;
	const char *env = getenv("COFFER_MODULE");
	void *dl;
	CK_RV rv;

	if (c->f != NULL)
		return 0;
	c->module_path = c->o.module   ? c->o.module
			 : env && *env ? env
				       : COFFER_DEFAULT_MODULE;
	dl = dlopen(c->module_path, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		cli_err("cannot load module %s: %s", c->module_path, dlerror());
		return -1;
	}
	/* The module is never dlclose()d: a module may keep process-wide
	 * state (OpenSSL contexts) that must stay reachable until exit. */
	*(void **)&get = dlsym(dl, "C_GetFunctionList");
	if (get == NULL) {
		cli_err("%s is not a PKCS#11 module (no C_GetFunctionList)",
			c->module_path);
		return -1;
	}
	rv = get(&c->f);
	if (rv != CKR_OK || c->f == NULL) {
		cli_rv_err("C_GetFunctionList", rv);
		c->f = NULL;
		return -1;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = c->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		cli_rv_err("C_Initialize", rv);
		c->f = NULL;
		return -1;
	}
	c->initialized = true;
	return 0;
}

void cli_module_close(struct cli *c)
{
	if (c->f == NULL)
		return;
	if (c->have_session)
		c->f->C_CloseSession(c->sess);
	c->have_session = false;
	if (c->initialized)
		c->f->C_Finalize(NULL);
	c->initialized = false;
	c->f = NULL;
}
