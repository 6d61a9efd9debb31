/*
 * interface.h - the "PKCS 11" interfaces every coffer module offers
 * (libcoffer.so, libcoffer-client.so, libcoffer-spy.so): 3.0 first (the
 * default) and 2.40, and the answers to C_GetInterfaceList and
 * C_GetInterface (PKCS#11 v3.0, 5.4.5 and 5.4.6) over them.
 *
 * Each module keeps its own table, built with CF_P11_INTERFACES from its
 * two function lists, because C_GetInterface hands out a pointer into it
 * that must stay valid for the life of the module.
 */
#ifndef CF_PKCS11_INTERFACE_H
#define CF_PKCS11_INTERFACE_H

#include <stddef.h>

#include "coffer/pkcs11.h"

/* Neither claims CKF_INTERFACE_FORK_SAFE: a forked child must call
 * C_Initialize again. */
#define CF_P11_INTERFACES(list_3_0, list_2_40)                              \
	{                                                                   \
		{(CK_UTF8CHAR_PTR) "PKCS 11", (list_3_0), 0},               \
		{(CK_UTF8CHAR_PTR) "PKCS 11", (list_2_40), 0},              \
	}
#define CF_P11_NINTERFACES 2

/* C_GetInterfaceList over the n interfaces in ifs. */
CK_RV cf_p11_interface_list(const CK_INTERFACE *ifs, size_t n,
			    CK_INTERFACE_PTR list, CK_ULONG_PTR count);

/* C_GetInterface over the n interfaces in ifs: the first one that matches
 * name, version and flags (each ignored when NULL or 0). */
CK_RV cf_p11_interface_get(CK_INTERFACE *ifs, size_t n, CK_UTF8CHAR_PTR name,
			   CK_VERSION_PTR version, CK_INTERFACE_PTR_PTR out,
			   CK_FLAGS flags);

#endif
