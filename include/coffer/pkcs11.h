/*
 * coffer/pkcs11.h - the PKCS#11 header coffer builds against.
 *
 * p11-kit's pkcs11.h (libp11-kit-dev) is the base. Debian 12 ships the 2.40
 * edition, so the PKCS#11 3.0 additions coffer uses (interfaces, the 3.0
 * function list, message-based functions, new key types, mechanisms and
 * parameter structures) are declared here, each guarded so that a newer
 * system header that already has them wins. Values are those of the OASIS
 * PKCS#11 v3.0 headers.
 */
#ifndef COFFER_PKCS11_H
#define COFFER_PKCS11_H

#include <p11-kit/pkcs11.h>

/* ---- object classes, key types, attributes ---------------------------- */
#ifndef CKO_PROFILE
#define CKO_PROFILE 0x9UL
#endif
#ifndef CKK_CHACHA20
#define CKK_CHACHA20 0x33UL
#endif
#ifndef CKK_POLY1305
#define CKK_POLY1305 0x34UL
#endif
#ifndef CKK_SHA3_224_HMAC
#define CKK_SHA3_224_HMAC 0x36UL
#define CKK_SHA3_256_HMAC 0x37UL
#define CKK_SHA3_384_HMAC 0x38UL
#define CKK_SHA3_512_HMAC 0x39UL
#endif
#ifndef CKK_EC_MONTGOMERY
#define CKK_EC_MONTGOMERY 0x41UL
#endif
#ifndef CKK_HKDF
#define CKK_HKDF 0x42UL
#endif
#ifndef CKK_SHA512_224_HMAC
#define CKK_SHA512_224_HMAC 0x43UL
#define CKK_SHA512_256_HMAC 0x44UL
#define CKK_SHA512_T_HMAC 0x45UL
#endif
#ifndef CKA_UNIQUE_ID
#define CKA_UNIQUE_ID 0x4UL
#endif
#ifndef CKA_PROFILE_ID
#define CKA_PROFILE_ID 0x601UL
#endif

/* ---- mechanisms ------------------------------------------------------- */
#ifndef CKM_SHA3_256_RSA_PKCS
#define CKM_SHA3_256_RSA_PKCS 0x60UL
#define CKM_SHA3_384_RSA_PKCS 0x61UL
#define CKM_SHA3_512_RSA_PKCS 0x62UL
#define CKM_SHA3_256_RSA_PKCS_PSS 0x63UL
#define CKM_SHA3_384_RSA_PKCS_PSS 0x64UL
#define CKM_SHA3_512_RSA_PKCS_PSS 0x65UL
#define CKM_SHA3_224_RSA_PKCS 0x66UL
#define CKM_SHA3_224_RSA_PKCS_PSS 0x67UL
#endif
#ifndef CKM_SHA3_256
#define CKM_SHA3_256 0x2b0UL
#define CKM_SHA3_256_HMAC 0x2b1UL
#define CKM_SHA3_256_HMAC_GENERAL 0x2b2UL
#define CKM_SHA3_256_KEY_GEN 0x2b3UL
#define CKM_SHA3_224 0x2b5UL
#define CKM_SHA3_224_HMAC 0x2b6UL
#define CKM_SHA3_224_HMAC_GENERAL 0x2b7UL
#define CKM_SHA3_224_KEY_GEN 0x2b8UL
#define CKM_SHA3_384 0x2c0UL
#define CKM_SHA3_384_HMAC 0x2c1UL
#define CKM_SHA3_384_HMAC_GENERAL 0x2c2UL
#define CKM_SHA3_384_KEY_GEN 0x2c3UL
#define CKM_SHA3_512 0x2d0UL
#define CKM_SHA3_512_HMAC 0x2d1UL
#define CKM_SHA3_512_HMAC_GENERAL 0x2d2UL
#define CKM_SHA3_512_KEY_GEN 0x2d3UL
#endif
#ifndef CKM_ECDSA_SHA3_224
#define CKM_ECDSA_SHA3_224 0x1047UL
#define CKM_ECDSA_SHA3_256 0x1048UL
#define CKM_ECDSA_SHA3_384 0x1049UL
#define CKM_ECDSA_SHA3_512 0x104aUL
#endif
#ifndef CKM_EC_MONTGOMERY_KEY_PAIR_GEN
#define CKM_EC_MONTGOMERY_KEY_PAIR_GEN 0x1056UL
#endif
#ifndef CKM_CHACHA20_KEY_GEN
#define CKM_CHACHA20_KEY_GEN 0x1225UL
#define CKM_CHACHA20 0x1226UL
#define CKM_POLY1305_KEY_GEN 0x1227UL
#define CKM_POLY1305 0x1228UL
#endif
#ifndef CKM_CHACHA20_POLY1305
#define CKM_CHACHA20_POLY1305 0x4021UL
#endif
#ifndef CKM_HKDF_DERIVE
#define CKM_HKDF_DERIVE 0x402aUL
#define CKM_HKDF_DATA 0x402bUL
#define CKM_HKDF_KEY_GEN 0x402cUL
#endif

/* ---- return values ---------------------------------------------------- */
#ifndef CKR_TOKEN_RESOURCE_EXCEEDED
#define CKR_TOKEN_RESOURCE_EXCEEDED 0x201UL
#endif
#ifndef CKR_OPERATION_CANCEL_FAILED
#define CKR_OPERATION_CANCEL_FAILED 0x202UL
#endif

/* ---- flags ------------------------------------------------------------ */
#ifndef CKF_INTERFACE_FORK_SAFE
#define CKF_INTERFACE_FORK_SAFE 0x1UL
#endif
#ifndef CKF_MESSAGE_ENCRYPT
#define CKF_MESSAGE_ENCRYPT 0x2UL
#define CKF_MESSAGE_DECRYPT 0x4UL
#define CKF_MESSAGE_SIGN 0x8UL
#define CKF_MESSAGE_VERIFY 0x10UL
#define CKF_MULTI_MESSAGE 0x20UL
#define CKF_FIND_OBJECTS 0x40UL
#endif
#ifndef CKF_END_OF_MESSAGE
#define CKF_END_OF_MESSAGE 0x1UL
#endif
/* Token information (v3.0 base 5.5): the token is in an error state. */
#ifndef CKF_ERROR_STATE
#define CKF_ERROR_STATE 0x01000000UL
#endif
/* Mechanism information for EC (v3.0 base 5.6): 2.40 had CKF_EC_F_P,
 * CKF_EC_NAMEDCURVE (3.0 calls it CKF_EC_OID), CKF_EC_UNCOMPRESS and
 * CKF_EC_COMPRESS; these complete the set. */
#ifndef CKF_EC_F_2M
#define CKF_EC_F_2M 0x00200000UL
#endif
#ifndef CKF_EC_ECPARAMETERS
#define CKF_EC_ECPARAMETERS 0x00400000UL
#endif
#ifndef CKF_EC_OID
#define CKF_EC_OID 0x00800000UL
#endif
#ifndef CKF_EC_CURVENAME
#define CKF_EC_CURVENAME 0x04000000UL
#endif

/* ---- 3.0 interfaces and function list --------------------------------- */
#ifndef COFFER_HAVE_SYSTEM_PKCS11_3
typedef struct CK_INTERFACE {
	CK_UTF8CHAR *pInterfaceName;
	CK_VOID_PTR pFunctionList;
	CK_FLAGS flags;
} CK_INTERFACE;
typedef CK_INTERFACE *CK_INTERFACE_PTR;
typedef CK_INTERFACE **CK_INTERFACE_PTR_PTR;

typedef CK_RV (*CK_C_GetInterfaceList)(CK_INTERFACE_PTR pInterfacesList,
				       CK_ULONG *pulCount);
typedef CK_RV (*CK_C_GetInterface)(CK_UTF8CHAR *pInterfaceName,
				   CK_VERSION *pVersion,
				   CK_INTERFACE_PTR_PTR ppInterface,
				   CK_FLAGS flags);
typedef CK_RV (*CK_C_LoginUser)(CK_SESSION_HANDLE hSession,
				CK_USER_TYPE userType, CK_UTF8CHAR *pPin,
				CK_ULONG ulPinLen, CK_UTF8CHAR *pUsername,
				CK_ULONG ulUsernameLen);
typedef CK_RV (*CK_C_SessionCancel)(CK_SESSION_HANDLE hSession,
				    CK_FLAGS flags);
typedef CK_RV (*CK_C_MessageEncryptInit)(CK_SESSION_HANDLE hSession,
					 CK_MECHANISM *pMechanism,
					 CK_OBJECT_HANDLE hKey);
typedef CK_RV (*CK_C_EncryptMessage)(
	CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
	CK_ULONG ulParameterLen, CK_BYTE *pAssociatedData,
	CK_ULONG ulAssociatedDataLen, CK_BYTE *pPlaintext,
	CK_ULONG ulPlaintextLen, CK_BYTE *pCiphertext,
	CK_ULONG *pulCiphertextLen);
typedef CK_RV (*CK_C_EncryptMessageBegin)(CK_SESSION_HANDLE hSession,
					  CK_VOID_PTR pParameter,
					  CK_ULONG ulParameterLen,
					  CK_BYTE *pAssociatedData,
					  CK_ULONG ulAssociatedDataLen);
typedef CK_RV (*CK_C_EncryptMessageNext)(
	CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
	CK_ULONG ulParameterLen, CK_BYTE *pPlaintextPart,
	CK_ULONG ulPlaintextPartLen, CK_BYTE *pCiphertextPart,
	CK_ULONG *pulCiphertextPartLen, CK_FLAGS flags);
typedef CK_RV (*CK_C_MessageEncryptFinal)(CK_SESSION_HANDLE hSession);
typedef CK_RV (*CK_C_MessageDecryptInit)(CK_SESSION_HANDLE hSession,
					 CK_MECHANISM *pMechanism,
					 CK_OBJECT_HANDLE hKey);
typedef CK_RV (*CK_C_DecryptMessage)(
	CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
	CK_ULONG ulParameterLen, CK_BYTE *pAssociatedData,
	CK_ULONG ulAssociatedDataLen, CK_BYTE *pCiphertext,
	CK_ULONG ulCiphertextLen, CK_BYTE *pPlaintext,
	CK_ULONG *pulPlaintextLen);
typedef CK_RV (*CK_C_DecryptMessageBegin)(CK_SESSION_HANDLE hSession,
					  CK_VOID_PTR pParameter,
					  CK_ULONG ulParameterLen,
					  CK_BYTE *pAssociatedData,
					  CK_ULONG ulAssociatedDataLen);
typedef CK_RV (*CK_C_DecryptMessageNext)(
	CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
	CK_ULONG ulParameterLen, CK_BYTE *pCiphertextPart,
	CK_ULONG ulCiphertextPartLen, CK_BYTE *pPlaintextPart,
	CK_ULONG *pulPlaintextPartLen, CK_FLAGS flags);
typedef CK_RV (*CK_C_MessageDecryptFinal)(CK_SESSION_HANDLE hSession);
typedef CK_RV (*CK_C_MessageSignInit)(CK_SESSION_HANDLE hSession,
				      CK_MECHANISM *pMechanism,
				      CK_OBJECT_HANDLE hKey);
typedef CK_RV (*CK_C_SignMessage)(CK_SESSION_HANDLE hSession,
				  CK_VOID_PTR pParameter,
				  CK_ULONG ulParameterLen, CK_BYTE *pData,
				  CK_ULONG ulDataLen, CK_BYTE *pSignature,
				  CK_ULONG *pulSignatureLen);
typedef CK_RV (*CK_C_SignMessageBegin)(CK_SESSION_HANDLE hSession,
				       CK_VOID_PTR pParameter,
				       CK_ULONG ulParameterLen);
typedef CK_RV (*CK_C_SignMessageNext)(CK_SESSION_HANDLE hSession,
				      CK_VOID_PTR pParameter,
				      CK_ULONG ulParameterLen, CK_BYTE *pData,
				      CK_ULONG ulDataLen, CK_BYTE *pSignature,
				      CK_ULONG *pulSignatureLen);
typedef CK_RV (*CK_C_MessageSignFinal)(CK_SESSION_HANDLE hSession);
typedef CK_RV (*CK_C_MessageVerifyInit)(CK_SESSION_HANDLE hSession,
					CK_MECHANISM *pMechanism,
					CK_OBJECT_HANDLE hKey);
typedef CK_RV (*CK_C_VerifyMessage)(CK_SESSION_HANDLE hSession,
				    CK_VOID_PTR pParameter,
				    CK_ULONG ulParameterLen, CK_BYTE *pData,
				    CK_ULONG ulDataLen, CK_BYTE *pSignature,
				    CK_ULONG ulSignatureLen);
typedef CK_RV (*CK_C_VerifyMessageBegin)(CK_SESSION_HANDLE hSession,
					 CK_VOID_PTR pParameter,
					 CK_ULONG ulParameterLen);
typedef CK_RV (*CK_C_VerifyMessageNext)(CK_SESSION_HANDLE hSession,
					CK_VOID_PTR pParameter,
					CK_ULONG ulParameterLen, CK_BYTE *pData,
					CK_ULONG ulDataLen, CK_BYTE *pSignature,
					CK_ULONG ulSignatureLen);
typedef CK_RV (*CK_C_MessageVerifyFinal)(CK_SESSION_HANDLE hSession);

/* The 3.0 list is the 2.40 list followed by the new functions, in the order
 * of the OASIS header, so a 3.0 list can be handed out as a 2.40 one. */
typedef struct CK_FUNCTION_LIST_3_0 {
	CK_VERSION version;
	CK_C_Initialize C_Initialize;
	CK_C_Finalize C_Finalize;
	CK_C_GetInfo C_GetInfo;
	CK_C_GetFunctionList C_GetFunctionList;
	CK_C_GetSlotList C_GetSlotList;
	CK_C_GetSlotInfo C_GetSlotInfo;
	CK_C_GetTokenInfo C_GetTokenInfo;
	CK_C_GetMechanismList C_GetMechanismList;
	CK_C_GetMechanismInfo C_GetMechanismInfo;
	CK_C_InitToken C_InitToken;
	CK_C_InitPIN C_InitPIN;
	CK_C_SetPIN C_SetPIN;
	CK_C_OpenSession C_OpenSession;
	CK_C_CloseSession C_CloseSession;
	CK_C_CloseAllSessions C_CloseAllSessions;
	CK_C_GetSessionInfo C_GetSessionInfo;
	CK_C_GetOperationState C_GetOperationState;
	CK_C_SetOperationState C_SetOperationState;
	CK_C_Login C_Login;
	CK_C_Logout C_Logout;
	CK_C_CreateObject C_CreateObject;
	CK_C_CopyObject C_CopyObject;
	CK_C_DestroyObject C_DestroyObject;
	CK_C_GetObjectSize C_GetObjectSize;
	CK_C_GetAttributeValue C_GetAttributeValue;
	CK_C_SetAttributeValue C_SetAttributeValue;
	CK_C_FindObjectsInit C_FindObjectsInit;
	CK_C_FindObjects C_FindObjects;
	CK_C_FindObjectsFinal C_FindObjectsFinal;
	CK_C_EncryptInit C_EncryptInit;
	CK_C_Encrypt C_Encrypt;
	CK_C_EncryptUpdate C_EncryptUpdate;
	CK_C_EncryptFinal C_EncryptFinal;
	CK_C_DecryptInit C_DecryptInit;
	CK_C_Decrypt C_Decrypt;
	CK_C_DecryptUpdate C_DecryptUpdate;
	CK_C_DecryptFinal C_DecryptFinal;
	CK_C_DigestInit C_DigestInit;
	CK_C_Digest C_Digest;
	CK_C_DigestUpdate C_DigestUpdate;
	CK_C_DigestKey C_DigestKey;
	CK_C_DigestFinal C_DigestFinal;
	CK_C_SignInit C_SignInit;
	CK_C_Sign C_Sign;
	CK_C_SignUpdate C_SignUpdate;
	CK_C_SignFinal C_SignFinal;
	CK_C_SignRecoverInit C_SignRecoverInit;
	CK_C_SignRecover C_SignRecover;
	CK_C_VerifyInit C_VerifyInit;
	CK_C_Verify C_Verify;
	CK_C_VerifyUpdate C_VerifyUpdate;
	CK_C_VerifyFinal C_VerifyFinal;
	CK_C_VerifyRecoverInit C_VerifyRecoverInit;
	CK_C_VerifyRecover C_VerifyRecover;
	CK_C_DigestEncryptUpdate C_DigestEncryptUpdate;
	CK_C_DecryptDigestUpdate C_DecryptDigestUpdate;
	CK_C_SignEncryptUpdate C_SignEncryptUpdate;
	CK_C_DecryptVerifyUpdate C_DecryptVerifyUpdate;
	CK_C_GenerateKey C_GenerateKey;
	CK_C_GenerateKeyPair C_GenerateKeyPair;
	CK_C_WrapKey C_WrapKey;
	CK_C_UnwrapKey C_UnwrapKey;
	CK_C_DeriveKey C_DeriveKey;
	CK_C_SeedRandom C_SeedRandom;
	CK_C_GenerateRandom C_GenerateRandom;
	CK_C_GetFunctionStatus C_GetFunctionStatus;
	CK_C_CancelFunction C_CancelFunction;
	CK_C_WaitForSlotEvent C_WaitForSlotEvent;
	CK_C_GetInterfaceList C_GetInterfaceList;
	CK_C_GetInterface C_GetInterface;
	CK_C_LoginUser C_LoginUser;
	CK_C_SessionCancel C_SessionCancel;
	CK_C_MessageEncryptInit C_MessageEncryptInit;
	CK_C_EncryptMessage C_EncryptMessage;
	CK_C_EncryptMessageBegin C_EncryptMessageBegin;
	CK_C_EncryptMessageNext C_EncryptMessageNext;
	CK_C_MessageEncryptFinal C_MessageEncryptFinal;
	CK_C_MessageDecryptInit C_MessageDecryptInit;
	CK_C_DecryptMessage C_DecryptMessage;
	CK_C_DecryptMessageBegin C_DecryptMessageBegin;
	CK_C_DecryptMessageNext C_DecryptMessageNext;
	CK_C_MessageDecryptFinal C_MessageDecryptFinal;
	CK_C_MessageSignInit C_MessageSignInit;
	CK_C_SignMessage C_SignMessage;
	CK_C_SignMessageBegin C_SignMessageBegin;
	CK_C_SignMessageNext C_SignMessageNext;
	CK_C_MessageSignFinal C_MessageSignFinal;
	CK_C_MessageVerifyInit C_MessageVerifyInit;
	CK_C_VerifyMessage C_VerifyMessage;
	CK_C_VerifyMessageBegin C_VerifyMessageBegin;
	CK_C_VerifyMessageNext C_VerifyMessageNext;
	CK_C_MessageVerifyFinal C_MessageVerifyFinal;
} CK_FUNCTION_LIST_3_0;
typedef CK_FUNCTION_LIST_3_0 *CK_FUNCTION_LIST_3_0_PTR;

/* 3.0 mechanism parameters */
typedef CK_ULONG CK_GENERATOR_FUNCTION;
#define CKG_NO_GENERATE 0x0UL
#define CKG_GENERATE 0x1UL
#define CKG_GENERATE_COUNTER 0x2UL
#define CKG_GENERATE_RANDOM 0x3UL

typedef struct CK_GCM_MESSAGE_PARAMS {
	CK_BYTE *pIv;
	CK_ULONG ulIvLen;
	CK_ULONG ulIvFixedBits;
	CK_GENERATOR_FUNCTION ivGenerator;
	CK_BYTE *pTag;
	CK_ULONG ulTagBits;
} CK_GCM_MESSAGE_PARAMS;

typedef struct CK_SALSA20_CHACHA20_POLY1305_PARAMS {
	CK_BYTE *pNonce;
	CK_ULONG ulNonceLen;
	CK_BYTE *pAAD;
	CK_ULONG ulAADLen;
} CK_SALSA20_CHACHA20_POLY1305_PARAMS;

typedef struct CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS {
	CK_BYTE *pNonce;
	CK_ULONG ulNonceLen;
	CK_BYTE *pTag;
} CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS;

typedef struct CK_EDDSA_PARAMS {
	CK_BBOOL phFlag;
	CK_ULONG ulContextDataLen;
	CK_BYTE *pContextData;
} CK_EDDSA_PARAMS;

#define CKF_HKDF_SALT_NULL 0x1UL
#define CKF_HKDF_SALT_DATA 0x2UL
#define CKF_HKDF_SALT_KEY 0x4UL

typedef struct CK_HKDF_PARAMS {
	CK_BBOOL bExtract;
	CK_BBOOL bExpand;
	CK_MECHANISM_TYPE prfHashMechanism;
	CK_ULONG ulSaltType;
	CK_BYTE *pSalt;
	CK_ULONG ulSaltLen;
	CK_OBJECT_HANDLE hSaltKey;
	CK_BYTE *pInfo;
	CK_ULONG ulInfoLen;
} CK_HKDF_PARAMS;
#endif /* COFFER_HAVE_SYSTEM_PKCS11_3 */

/* 3.0 additions used by the mechanisms (Current Mechanisms 2.1.7, 2.14). */
#ifndef CKG_MGF1_SHA3_224
#define CKG_MGF1_SHA3_224 0x6UL
#define CKG_MGF1_SHA3_256 0x7UL
#define CKG_MGF1_SHA3_384 0x8UL
#define CKG_MGF1_SHA3_512 0x9UL
#endif
#ifndef CKM_SHA_1_KEY_GEN
#define CKM_SHA_1_KEY_GEN 0x4003UL
#define CKM_SHA224_KEY_GEN 0x4004UL
#define CKM_SHA256_KEY_GEN 0x4005UL
#define CKM_SHA384_KEY_GEN 0x4006UL
#define CKM_SHA512_KEY_GEN 0x4007UL
#endif
#ifndef CK_MAC_GENERAL_PARAMS_DEFINED
#define CK_MAC_GENERAL_PARAMS_DEFINED
/* The output length of a _GENERAL MAC mechanism. */
typedef CK_ULONG CK_MAC_GENERAL_PARAMS;
#endif
#ifndef CKM_AES_KEY_WRAP_KWP
#define CKM_AES_KEY_WRAP_KWP 0x210bUL
#endif
/* AES-CCM's parameters (Current Mechanisms 2.11.4, 2.11.5). p11-kit's 2.40
 * header has CKM_AES_CCM but not its structures. Like the other 3.0
 * structures they give way to a 3.0 system header
 * (COFFER_HAVE_SYSTEM_PKCS11_3), or to one that marks them defined. */
#if !defined(COFFER_HAVE_SYSTEM_PKCS11_3) && !defined(CK_CCM_PARAMS_DEFINED)
#define CK_CCM_PARAMS_DEFINED
typedef struct CK_CCM_PARAMS {
	CK_ULONG ulDataLen;
	CK_BYTE *pNonce;
	CK_ULONG ulNonceLen;
	CK_BYTE *pAAD;
	CK_ULONG ulAADLen;
	CK_ULONG ulMACLen;
} CK_CCM_PARAMS;
typedef CK_CCM_PARAMS *CK_CCM_PARAMS_PTR;

typedef struct CK_CCM_MESSAGE_PARAMS {
	CK_ULONG ulDataLen;
	CK_BYTE *pNonce;
	CK_ULONG ulNonceLen;
	CK_ULONG ulNonceFixedBits;
	CK_GENERATOR_FUNCTION nonceGenerator;
	CK_BYTE *pMAC;
	CK_ULONG ulMACLen;
} CK_CCM_MESSAGE_PARAMS;
typedef CK_CCM_MESSAGE_PARAMS *CK_CCM_MESSAGE_PARAMS_PTR;
#endif
/* ---- coffer's own ---------------------------------------------------- */
/* The role a key was locked to on first use (docs/security.md): a CK_ULONG
 * of bits, 1 data, 2 keys, 4 derives data, 8 derives keys; readable, never
 * settable. "CO" in the vendor range. Being a CKA_ define here, it is in the
 * schema's name tables (src/pkcs11/gen_names.py) like any other attribute. */
#define CKA_COFFER_KEY_ROLE (CKA_VENDOR_DEFINED | 0x434f0001UL)

#ifndef CKD_SHA3_224_KDF
#define CKD_SHA3_224_KDF 0xaUL
#define CKD_SHA3_256_KDF 0xbUL
#define CKD_SHA3_384_KDF 0xcUL
#define CKD_SHA3_512_KDF 0xdUL
#endif

#endif /* COFFER_PKCS11_H */
