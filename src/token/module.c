/*
 * module.c - what libcoffer.so hands to applications: the general-purpose
 * functions (PKCS#11 v3.0 base, section 5.4) and the function lists, as a
 * 2.40 list (C_GetFunctionList) and through the 3.0 interfaces
 * (C_GetInterfaceList, C_GetInterface) as both "PKCS 11" 3.0 and 2.40.
 */
#include "token/core.h"
#include "token/api.h"
#include "pkcs11/interface.h"

#include <string.h>

/* 5.4.1 */
CF_EXPORT CK_RV C_Initialize(CK_VOID_PTR args)
{
	return cf_library_initialize(args);
}

/* 5.4.2 */
CF_EXPORT CK_RV C_Finalize(CK_VOID_PTR reserved)
{
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	if (reserved != NULL)
		return CKR_ARGUMENTS_BAD;
	return cf_library_finalize();
}

static CK_RV get_info(CK_INFO_PTR info, CK_BYTE major, CK_BYTE minor)
{
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	if (info == NULL)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof(*info));
	info->cryptokiVersion.major = major;
	info->cryptokiVersion.minor = minor;
	cf_pad(info->manufacturerID, sizeof(info->manufacturerID),
	       CF_MANUFACTURER);
	cf_pad(info->libraryDescription, sizeof(info->libraryDescription),
	       CF_LIBRARY_DESC);
	info->libraryVersion.major = CF_VERSION_MAJOR;
	info->libraryVersion.minor = CF_VERSION_MINOR;
	return CKR_OK;
}

/* 5.4.3: an application that took the 2.40 list is told 2.40, one that
 * asked for the 3.0 interface is told 3.0. */
CF_EXPORT CK_RV C_GetInfo(CK_INFO_PTR info)
{
	return get_info(info, 2, 40);
}

static CK_RV get_info_3_0(CK_INFO_PTR info)
{
	return get_info(info, 3, 0);
}

#define FUNCTIONS_2_40(get_info_fn)                                           \
	C_Initialize, C_Finalize, get_info_fn, C_GetFunctionList,             \
		C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo,                 \
		C_GetMechanismList, C_GetMechanismInfo, C_InitToken,          \
		C_InitPIN, C_SetPIN, C_OpenSession, C_CloseSession,           \
		C_CloseAllSessions, C_GetSessionInfo, C_GetOperationState,    \
		C_SetOperationState, C_Login, C_Logout, C_CreateObject,       \
		C_CopyObject, C_DestroyObject, C_GetObjectSize,               \
		C_GetAttributeValue, C_SetAttributeValue, C_FindObjectsInit,  \
		C_FindObjects, C_FindObjectsFinal, C_EncryptInit, C_Encrypt,  \
		C_EncryptUpdate, C_EncryptFinal, C_DecryptInit, C_Decrypt,    \
		C_DecryptUpdate, C_DecryptFinal, C_DigestInit, C_Digest,      \
		C_DigestUpdate, C_DigestKey, C_DigestFinal, C_SignInit,       \
		C_Sign, C_SignUpdate, C_SignFinal, C_SignRecoverInit,         \
		C_SignRecover, C_VerifyInit, C_Verify, C_VerifyUpdate,        \
		C_VerifyFinal, C_VerifyRecoverInit, C_VerifyRecover,          \
		C_DigestEncryptUpdate, C_DecryptDigestUpdate,                 \
		C_SignEncryptUpdate, C_DecryptVerifyUpdate, C_GenerateKey,    \
		C_GenerateKeyPair, C_WrapKey, C_UnwrapKey, C_DeriveKey,       \
		C_SeedRandom, C_GenerateRandom, C_GetFunctionStatus,          \
		C_CancelFunction, C_WaitForSlotEvent

static CK_FUNCTION_LIST functions_2_40 = {
	{2, 40},
	FUNCTIONS_2_40(C_GetInfo),
};

static CK_FUNCTION_LIST_3_0 functions_3_0 = {
	{3, 0},
	FUNCTIONS_2_40(get_info_3_0),
	C_GetInterfaceList,
	C_GetInterface,
	C_LoginUser,
	C_SessionCancel,
	C_MessageEncryptInit,
	C_EncryptMessage,
	C_EncryptMessageBegin,
	C_EncryptMessageNext,
	C_MessageEncryptFinal,
	C_MessageDecryptInit,
	C_DecryptMessage,
	C_DecryptMessageBegin,
	C_DecryptMessageNext,
	C_MessageDecryptFinal,
	C_MessageSignInit,
	C_SignMessage,
	C_SignMessageBegin,
	C_SignMessageNext,
	C_MessageSignFinal,
	C_MessageVerifyInit,
	C_VerifyMessage,
	C_VerifyMessageBegin,
	C_VerifyMessageNext,
	C_MessageVerifyFinal,
};

/* The default (first) interface is 3.0. */
static CK_INTERFACE interfaces[] =
    CF_P11_INTERFACES(&functions_3_0, &functions_2_40);

/* 5.4.4 */
CF_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	*out = &functions_2_40;
	return CKR_OK;
}

/* 5.4.5 */
CF_EXPORT CK_RV C_GetInterfaceList(CK_INTERFACE_PTR list, CK_ULONG_PTR count)
{
	return cf_p11_interface_list(interfaces, CF_P11_NINTERFACES, list,
				     count);
}

/* 5.4.6 */
CF_EXPORT CK_RV C_GetInterface(CK_UTF8CHAR_PTR name, CK_VERSION_PTR version,
			       CK_INTERFACE_PTR_PTR out, CK_FLAGS flags)
{
	return cf_p11_interface_get(interfaces, CF_P11_NINTERFACES, name,
				    version, out, flags);
}
