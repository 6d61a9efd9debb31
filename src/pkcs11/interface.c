/*
 * interface.c - C_GetInterfaceList and C_GetInterface for every coffer
 * module (see interface.h).
 */
#include "pkcs11/interface.h"

#include <string.h>

/* 5.4.5 */
CK_RV cf_p11_interface_list(const CK_INTERFACE *ifs, size_t n,
			    CK_INTERFACE_PTR list, CK_ULONG_PTR count)
{
	if (count == NULL)
		return CKR_ARGUMENTS_BAD;
	if (list == NULL) {
		*count = n;
		return CKR_OK;
	}
	if (*count < n) {
		*count = n;
		return CKR_BUFFER_TOO_SMALL;
	}
	memcpy(list, ifs, n * sizeof(*ifs));
	*count = n;
	return CKR_OK;
}

/* 5.4.6 */
CK_RV cf_p11_interface_get(CK_INTERFACE *ifs, size_t n, CK_UTF8CHAR_PTR name,
			   CK_VERSION_PTR version, CK_INTERFACE_PTR_PTR out,
			   CK_FLAGS flags)
{
	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	*out = NULL;
	if (name != NULL && strcmp((const char *)name, "PKCS 11") != 0)
		return CKR_ARGUMENTS_BAD;
	for (size_t i = 0; i < n; i++) {
		/* Every function list starts with its version. */
		const CK_VERSION *v = ifs[i].pFunctionList;

		if (version != NULL &&
		    (v->major != version->major || v->minor != version->minor))
			continue;
		if ((ifs[i].flags & flags) != flags)
			continue;
		*out = &ifs[i];
		return CKR_OK;
	}
	return CKR_ARGUMENTS_BAD;
}
