/*
 * unsupported.c - the entry points coffer does not implement (yet): each
 * answers CKR_FUNCTION_NOT_SUPPORTED once the library is initialized and
 * the session handle is checked, so nothing pretends to succeed;
 * docs/status.md lists them.
 */
#include "token/core.h"
#include "token/api.h"

/* The parameters are the spec's; none is used. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

/* A bad session handle is reported as such before anything else, as a
 * client probing the function would see from a full implementation. */
static CK_RV not_supported(CK_SESSION_HANDLE h)
{
	struct cf_session *s;
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	rv = cf_session_get(h, &s);
	if (rv != CKR_OK)
		return rv;
	cf_session_put(s);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

/* Every function here takes the session handle first, named h. */
#define NOT_SUPPORTED(name, ...)                                              \
	CF_EXPORT CK_RV name(__VA_ARGS__)                                     \
	{                                                                     \
		return not_supported(h);                                      \
	}

typedef CK_SESSION_HANDLE SH;
typedef CK_MECHANISM_PTR MP;
typedef CK_OBJECT_HANDLE OH;
typedef CK_BYTE_PTR BP;
typedef CK_ULONG UL;
typedef CK_ULONG_PTR ULP;

/* 5.6.7, 5.6.8: never supported, by policy: an exported operation state
 * would carry key material out of the token (docs/security.md). */
NOT_SUPPORTED(C_GetOperationState, SH h, BP state, ULP len)
NOT_SUPPORTED(C_SetOperationState, SH h, BP state, UL len, OH enc_key,
	      OH auth_key)
/* 5.14 message-based signing (3.0) */
NOT_SUPPORTED(C_MessageSignInit, SH h, MP m, OH k)
NOT_SUPPORTED(C_SignMessage, SH h, CK_VOID_PTR p, UL pl, BP in, UL inl,
	      BP out, ULP outl)
NOT_SUPPORTED(C_SignMessageBegin, SH h, CK_VOID_PTR p, UL pl)
NOT_SUPPORTED(C_SignMessageNext, SH h, CK_VOID_PTR p, UL pl, BP in, UL inl,
	      BP out, ULP outl)
NOT_SUPPORTED(C_MessageSignFinal, SH h)
/* 5.16 message-based verification (3.0) */
NOT_SUPPORTED(C_MessageVerifyInit, SH h, MP m, OH k)
NOT_SUPPORTED(C_VerifyMessage, SH h, CK_VOID_PTR p, UL pl, BP in, UL inl,
	      BP sig, UL sigl)
NOT_SUPPORTED(C_VerifyMessageBegin, SH h, CK_VOID_PTR p, UL pl)
NOT_SUPPORTED(C_VerifyMessageNext, SH h, CK_VOID_PTR p, UL pl, BP in, UL inl,
	      BP sig, UL sigl)
NOT_SUPPORTED(C_MessageVerifyFinal, SH h)

/* 5.20 parallel function management: legacy functions whose only answer
 * the spec allows is CKR_FUNCTION_NOT_PARALLEL. */
CF_EXPORT CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE h)
{
	CK_RV rv = cf_library_ready();
	return rv != CKR_OK ? rv : CKR_FUNCTION_NOT_PARALLEL;
}

CF_EXPORT CK_RV C_CancelFunction(CK_SESSION_HANDLE h)
{
	CK_RV rv = cf_library_ready();
	return rv != CKR_OK ? rv : CKR_FUNCTION_NOT_PARALLEL;
}
