/*
 * message_api.c - message-based encryption and decryption (PKCS#11 v3.0
 * base 5.9 and 5.11): one operation carries any number of messages, each
 * with its own parameters (IV, tag), given whole (C_EncryptMessage) or in
 * parts (C_EncryptMessageBegin, then C_EncryptMessageNext until one with
 * CKF_END_OF_MESSAGE). The cryptography is the family's (mech.h message,
 * message_begin, message_next).
 *
 * When things end: only C_MessageEncryptFinal / C_MessageDecryptFinal (or
 * C_SessionCancel, or the session closing) end the operation. A message
 * ends with its single call or its last part; an error other than
 * CKR_BUFFER_TOO_SMALL ends the message in progress but not the operation,
 * so a forged message does not cost the caller its key setup. op->multi
 * marks a message begun and not yet ended.
 */
#include "token/core.h"

#include "token/api.h"

static bool in_ok(const void *p, CK_ULONG len)
{
	return p != NULL || len == 0;
}

static CK_RV message(CK_SESSION_HANDLE h, enum cf_op_kind kind, void *param,
		     CK_ULONG plen, const uint8_t *ad, CK_ULONG adl,
		     const uint8_t *in, CK_ULONG inl, uint8_t *out,
		     CK_ULONG *outl)
{
	struct cf_session *s;
	struct cf_op *op;
	CK_RV rv = cf_op_enter(h, kind, &s, &op);

	if (rv != CKR_OK)
		return rv;
	if (op->need_login)
		rv = CKR_USER_NOT_LOGGED_IN;
	else if (outl == NULL || !in_ok(ad, adl) || !in_ok(in, inl))
		rv = CKR_ARGUMENTS_BAD;
	else if (op->multi)
		rv = CKR_OPERATION_ACTIVE; /* a message in parts is open */
	else if (op->mech->ops->message == NULL)
		rv = CKR_FUNCTION_NOT_SUPPORTED;
	else
		rv = op->mech->ops->message(op, param, plen, ad, adl, in, inl,
					    out, outl);
	cf_op_leave(s);
	return rv;
}

static CK_RV begin(CK_SESSION_HANDLE h, enum cf_op_kind kind, void *param,
		   CK_ULONG plen, const uint8_t *ad, CK_ULONG adl)
{
	struct cf_session *s;
	struct cf_op *op;
	CK_RV rv = cf_op_enter(h, kind, &s, &op);

	if (rv != CKR_OK)
		return rv;
	if (op->need_login)
		rv = CKR_USER_NOT_LOGGED_IN;
	else if (!in_ok(ad, adl))
		rv = CKR_ARGUMENTS_BAD;
	else if (op->multi)
		rv = CKR_OPERATION_ACTIVE;
	else if (op->mech->ops->message_begin == NULL)
		rv = CKR_FUNCTION_NOT_SUPPORTED;
	else
		rv = op->mech->ops->message_begin(op, param, plen, ad, adl);
	if (rv == CKR_OK)
		op->multi = true;
	cf_op_leave(s);
	return rv;
}

static CK_RV next(CK_SESSION_HANDLE h, enum cf_op_kind kind, void *param,
		  CK_ULONG plen, const uint8_t *in, CK_ULONG inl, uint8_t *out,
		  CK_ULONG *outl, CK_FLAGS flags)
{
	struct cf_session *s;
	struct cf_op *op;
	CK_RV rv = cf_op_enter(h, kind, &s, &op);

	if (rv != CKR_OK)
		return rv;
	if (op->need_login) {
		rv = CKR_USER_NOT_LOGGED_IN;
		goto out;
	}
	if (outl == NULL || !in_ok(in, inl))
		rv = CKR_ARGUMENTS_BAD;
	else if (!op->multi)
		rv = CKR_OPERATION_NOT_INITIALIZED; /* no Begin */
	else
		rv = op->mech->ops->message_next(op, param, plen, in, inl, out,
						 outl, flags);
	/* The message is over after its last part (a length query is not
	 * the last part) or a failure. */
	if ((rv == CKR_OK && (flags & CKF_END_OF_MESSAGE) && out != NULL) ||
	    (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL))
		op->multi = false;
out:
	cf_op_leave(s);
	return rv;
}

static CK_RV finish(CK_SESSION_HANDLE h, enum cf_op_kind kind)
{
	struct cf_session *s;
	struct cf_op *op;
	CK_RV rv = cf_op_enter(h, kind, &s, &op);

	if (rv != CKR_OK)
		return rv;
	cf_op_end(op);
	cf_op_leave(s);
	return CKR_OK;
}

/* ---- 5.9 message-based encryption ---------------------------------------- */

CF_EXPORT CK_RV C_MessageEncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
				     CK_OBJECT_HANDLE k)
{
	return cf_op_init(h, CF_OP_MSG_ENCRYPT, m, k);
}

CF_EXPORT CK_RV C_EncryptMessage(CK_SESSION_HANDLE h, CK_VOID_PTR param,
				 CK_ULONG plen, CK_BYTE_PTR ad, CK_ULONG adl,
				 CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out,
				 CK_ULONG_PTR outl)
{
	return message(h, CF_OP_MSG_ENCRYPT, param, plen, ad, adl, in, inl,
		       out, outl);
}

CF_EXPORT CK_RV C_EncryptMessageBegin(CK_SESSION_HANDLE h, CK_VOID_PTR param,
				      CK_ULONG plen, CK_BYTE_PTR ad,
				      CK_ULONG adl)
{
	return begin(h, CF_OP_MSG_ENCRYPT, param, plen, ad, adl);
}

CF_EXPORT CK_RV C_EncryptMessageNext(CK_SESSION_HANDLE h, CK_VOID_PTR param,
				     CK_ULONG plen, CK_BYTE_PTR in,
				     CK_ULONG inl, CK_BYTE_PTR out,
				     CK_ULONG_PTR outl, CK_FLAGS flags)
{
	return next(h, CF_OP_MSG_ENCRYPT, param, plen, in, inl, out, outl,
		    flags);
}

CF_EXPORT CK_RV C_MessageEncryptFinal(CK_SESSION_HANDLE h)
{
	return finish(h, CF_OP_MSG_ENCRYPT);
}

/* ---- 5.11 message-based decryption ----------------------------------------- */

CF_EXPORT CK_RV C_MessageDecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
				     CK_OBJECT_HANDLE k)
{
	return cf_op_init(h, CF_OP_MSG_DECRYPT, m, k);
}

CF_EXPORT CK_RV C_DecryptMessage(CK_SESSION_HANDLE h, CK_VOID_PTR param,
				 CK_ULONG plen, CK_BYTE_PTR ad, CK_ULONG adl,
				 CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out,
				 CK_ULONG_PTR outl)
{
	return message(h, CF_OP_MSG_DECRYPT, param, plen, ad, adl, in, inl,
		       out, outl);
}

CF_EXPORT CK_RV C_DecryptMessageBegin(CK_SESSION_HANDLE h, CK_VOID_PTR param,
				      CK_ULONG plen, CK_BYTE_PTR ad,
				      CK_ULONG adl)
{
	return begin(h, CF_OP_MSG_DECRYPT, param, plen, ad, adl);
}

CF_EXPORT CK_RV C_DecryptMessageNext(CK_SESSION_HANDLE h, CK_VOID_PTR param,
				     CK_ULONG plen, CK_BYTE_PTR in,
				     CK_ULONG inl, CK_BYTE_PTR out,
				     CK_ULONG_PTR outl, CK_FLAGS flags)
{
	return next(h, CF_OP_MSG_DECRYPT, param, plen, in, inl, out, outl,
		    flags);
}

CF_EXPORT CK_RV C_MessageDecryptFinal(CK_SESSION_HANDLE h)
{
	return finish(h, CF_OP_MSG_DECRYPT);
}
