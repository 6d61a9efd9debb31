/* module.c - see module.h. */
#include "server/module.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "pkcs11/schema.h"

CK_RV cf_module_open(const char *path, struct cf_module *m, char *err,
		     size_t errlen)
{
	CK_C_GetInterface get_iface;
	CK_C_GetFunctionList get_list;
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;
	char rvb[32];

	memset(m, 0, sizeof(*m));
	m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (m->dl == NULL) {
		snprintf(err, errlen, "cannot load module %s: %s", path,
			 dlerror());
		return CKR_GENERAL_ERROR;
	}
	get_iface = (CK_C_GetInterface)dlsym(m->dl, "C_GetInterface");
	if (get_iface != NULL) {
		CK_INTERFACE *iface = NULL;
		CK_VERSION v = {3, 0};
		rv = get_iface((CK_UTF8CHAR *)"PKCS 11", &v, &iface, 0);
		if (rv == CKR_OK && iface != NULL &&
		    iface->pFunctionList != NULL) {
			m->fl = iface->pFunctionList;
			m->v3 = true;
		}
	}
	if (m->fl == NULL) {
		CK_FUNCTION_LIST *l = NULL;
		get_list = (CK_C_GetFunctionList)dlsym(m->dl,
						       "C_GetFunctionList");
		if (get_list == NULL || get_list(&l) != CKR_OK || l == NULL) {
			snprintf(err, errlen,
				 "%s: no C_GetInterface or C_GetFunctionList",
				 path);
			return CKR_GENERAL_ERROR;
		}
		/* The 2.40 list is the 3.0 list's prefix; the dispatchers
		 * read the 3.0 members only when v3. */
		m->fl = (CK_FUNCTION_LIST_3_0 *)(void *)l;
		m->v3 = false;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = m->fl->C_Initialize(&args);
	if (rv != CKR_OK) {
		snprintf(err, errlen, "%s: C_Initialize: %s", path,
			 cf_p11_rv_str(rv, rvb, sizeof(rvb)));
		return rv;
	}
	m->initialized = true;
	return CKR_OK;
}

void cf_module_close(struct cf_module *m)
{
	if (m->initialized)
		m->fl->C_Finalize(NULL);
	m->initialized = false;
}
