/*
 * module.c - what libcoffer-client.so exports: C_GetFunctionList (the 2.40
 * list), C_GetInterfaceList and C_GetInterface ("PKCS 11" 3.0 and 2.40),
 * and the few functions answered without the server. Everything else is a
 * generated stub (stubs.c) that forwards the call to cofferd.
 */
#include "client/client.h"
#include "client/stubs.h"
#include "pkcs11/interface.h"

#include <string.h>

#define CF_EXPORT __attribute__((visibility("default")))

/* 5.4.3: the server's module describes itself; the version is the one of
 * the list the application took, as in libcoffer.so. */
static CK_RV get_info(CK_INFO_PTR info, CK_BYTE major, CK_BYTE minor)
{
	CK_RV rv = cf_client_C_GetInfo(info);

	if (rv == CKR_OK) {
		info->cryptokiVersion.major = major;
		info->cryptokiVersion.minor = minor;
	}
	return rv;
}

static CK_RV get_info_2_40(CK_INFO_PTR info)
{
	return get_info(info, 2, 40);
}

static CK_RV get_info_3_0(CK_INFO_PTR info)
{
	return get_info(info, 3, 0);
}

/* 5.5.7: events would need a connection of their own per waiter. */
static CK_RV wait_for_slot_event(CK_FLAGS flags, CK_SLOT_ID_PTR slot,
				 CK_VOID_PTR reserved)
{
	CK_RV rv = cf_client_ready();

	if (rv != CKR_OK)
		return rv;
	if (slot == NULL || reserved != NULL)
		return CKR_ARGUMENTS_BAD;
	return (flags & CKF_DONT_BLOCK) ? CKR_NO_EVENT
					: CKR_FUNCTION_NOT_SUPPORTED;
}

/* 5.20: legacy parallel functions. */
static CK_RV get_function_status(CK_SESSION_HANDLE s)
{
	CK_RV rv = cf_client_ready();

	(void)s;
	return rv != CKR_OK ? rv : CKR_FUNCTION_NOT_PARALLEL;
}

static CK_RV cancel_function(CK_SESSION_HANDLE s)
{
	CK_RV rv = cf_client_ready();

	(void)s;
	return rv != CKR_OK ? rv : CKR_FUNCTION_NOT_PARALLEL;
}

CF_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out);
CF_EXPORT CK_RV C_GetInterfaceList(CK_INTERFACE_PTR list, CK_ULONG_PTR count);
CF_EXPORT CK_RV C_GetInterface(CK_UTF8CHAR_PTR name, CK_VERSION_PTR version,
			       CK_INTERFACE_PTR_PTR out, CK_FLAGS flags);

#define S(f) cf_client_##f
#define FUNCTIONS_2_40(get_info_fn)                                            \
	cf_client_initialize, cf_client_finalize, get_info_fn,                 \
	    C_GetFunctionList, S(C_GetSlotList), S(C_GetSlotInfo),             \
	    S(C_GetTokenInfo), S(C_GetMechanismList), S(C_GetMechanismInfo),   \
	    S(C_InitToken), S(C_InitPIN), S(C_SetPIN), S(C_OpenSession),       \
	    S(C_CloseSession), S(C_CloseAllSessions), S(C_GetSessionInfo),     \
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
	    S(C_GenerateRandom), get_function_status, cancel_function,         \
	    wait_for_slot_event

static CK_FUNCTION_LIST functions_2_40 = {
    {2, 40},
    FUNCTIONS_2_40(get_info_2_40),
};

static CK_FUNCTION_LIST_3_0 functions_3_0 = {
    {3, 0},
    FUNCTIONS_2_40(get_info_3_0),
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
