/*
 * crypto_api.c - the single- and multi-part cryptographic entry points
 * (PKCS#11 v3.0 base 5.8, 5.10, 5.12, 5.13, 5.15, 5.17 and C_SessionCancel
 * of 5.6): argument checks, the operation state, and when an operation
 * ends. The cryptography is the mechanism family's (mech/mech.h).
 *
 * When an operation ends (5.2 and each function's text): a single-part call
 * or a final always ends it, except when it returns CKR_BUFFER_TOO_SMALL or
 * answers a length query; an update ends it on any error except
 * CKR_BUFFER_TOO_SMALL; C_Verify and C_VerifyFinal always end it.
 */
#include "token/core.h"

#include "token/api.h"

enum step { STEP_ONESHOT, STEP_UPDATE, STEP_FINAL };

static bool in_ok(const void *p, CK_ULONG len)
{
	return p != NULL || len == 0;
}

/* A call that returns output (or, for updates of digest/sign/verify,
 * none: out and outl NULL). */
static CK_RV run(CK_SESSION_HANDLE h, enum cf_op_kind kind, enum step step,
		 const uint8_t *in, CK_ULONG inl, uint8_t *out, CK_ULONG *outl,
		 bool has_output)
{
	struct cf_session *s;
	struct cf_op *op;
	const struct cf_mech_ops *ops;
	CK_RV rv = cf_op_enter(h, kind, &s, &op);

	if (rv != CKR_OK)
		return rv;
	ops = op->mech->ops;
	if (op->need_login) {
		rv = CKR_USER_NOT_LOGGED_IN; /* still active: log in, retry */
		goto out;
	}
	if ((has_output && outl == NULL) || !in_ok(in, inl)) {
		cf_op_end(op);
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	switch (step) {
	case STEP_ONESHOT:
		if (op->multi) {
			/* A multi-part operation is finished by its final. */
			rv = CKR_OPERATION_ACTIVE;
			goto out;
		}
		rv = ops->oneshot(op, in, inl, out, outl);
		break;
	case STEP_UPDATE:
		if (ops->update == NULL) {
			/* single-part only (CKM_RSA_PKCS sign, CKM_EDDSA ...) */
			cf_op_end(op);
			rv = CKR_FUNCTION_NOT_SUPPORTED;
			goto out;
		}
		op->multi = true;
		rv = ops->update(op, in, inl, out, outl);
		if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL)
			cf_op_end(op);
		goto out;
	case STEP_FINAL:
		if (ops->final == NULL) {
			cf_op_end(op);
			rv = CKR_FUNCTION_NOT_SUPPORTED;
			goto out;
		}
		rv = ops->final(op, out, outl);
		break;
	}
	cf_op_settle(op, rv, has_output && out == NULL);
out:
	cf_op_leave(s);
	return rv;
}

static CK_RV verify(CK_SESSION_HANDLE h, enum step step, const uint8_t *in,
		    CK_ULONG inl, const uint8_t *sig, CK_ULONG sigl)
{
	struct cf_session *s;
	struct cf_op *op;
	const struct cf_mech_ops *ops;
	CK_RV rv = cf_op_enter(h, CF_OP_VERIFY, &s, &op);

	if (rv != CKR_OK)
		return rv;
	ops = op->mech->ops;
	if (!in_ok(in, inl) || !in_ok(sig, sigl)) {
		rv = CKR_ARGUMENTS_BAD;
	} else if (step == STEP_ONESHOT) {
		if (op->multi) {
			rv = CKR_OPERATION_ACTIVE;
			goto out_leave;
		}
		rv = ops->verify(op, in, inl, sig, sigl);
	} else if (ops->verify_final == NULL) {
		rv = CKR_FUNCTION_NOT_SUPPORTED;
	} else {
		rv = ops->verify_final(op, sig, sigl);
	}
	cf_op_end(op);
out_leave:
	cf_op_leave(s);
	return rv;
}

/* ---- 5.8 encryption ---------------------------------------------------- */

CF_EXPORT CK_RV C_EncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
			      CK_OBJECT_HANDLE k)
{
	return cf_op_init(h, CF_OP_ENCRYPT, m, k);
}

CF_EXPORT CK_RV C_Encrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inl,
			  CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
	return run(h, CF_OP_ENCRYPT, STEP_ONESHOT, in, inl, out, outl, true);
}

CF_EXPORT CK_RV C_EncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in,
				CK_ULONG inl, CK_BYTE_PTR out,
				CK_ULONG_PTR outl)
{
	return run(h, CF_OP_ENCRYPT, STEP_UPDATE, in, inl, out, outl, true);
}

CF_EXPORT CK_RV C_EncryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out,
			       CK_ULONG_PTR outl)
{
	return run(h, CF_OP_ENCRYPT, STEP_FINAL, NULL, 0, out, outl, true);
}

/* ---- 5.10 decryption --------------------------------------------------- */

CF_EXPORT CK_RV C_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
			      CK_OBJECT_HANDLE k)
{
	return cf_op_init(h, CF_OP_DECRYPT, m, k);
}

CF_EXPORT CK_RV C_Decrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inl,
			  CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
	return run(h, CF_OP_DECRYPT, STEP_ONESHOT, in, inl, out, outl, true);
}

CF_EXPORT CK_RV C_DecryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in,
				CK_ULONG inl, CK_BYTE_PTR out,
				CK_ULONG_PTR outl)
{
	return run(h, CF_OP_DECRYPT, STEP_UPDATE, in, inl, out, outl, true);
}

CF_EXPORT CK_RV C_DecryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out,
			       CK_ULONG_PTR outl)
{
	return run(h, CF_OP_DECRYPT, STEP_FINAL, NULL, 0, out, outl, true);
}

/* ---- 5.12 message digesting -------------------------------------------- */

CF_EXPORT CK_RV C_DigestInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m)
{
	return cf_op_init(h, CF_OP_DIGEST, m, CK_INVALID_HANDLE);
}

CF_EXPORT CK_RV C_Digest(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inl,
			 CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
	return run(h, CF_OP_DIGEST, STEP_ONESHOT, in, inl, out, outl, true);
}

CF_EXPORT CK_RV C_DigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in,
			       CK_ULONG inl)
{
	return run(h, CF_OP_DIGEST, STEP_UPDATE, in, inl, NULL, NULL, false);
}

/* Digests a secret key's value: the token lock (the key is the token's)
 * before the session lock, as everywhere. */
CF_EXPORT CK_RV C_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k)
{
	struct cf_session *s;
	struct cf_token *t;
	struct cf_object *o = NULL;
	struct cf_op *op;
	const struct cf_attr *v;
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	rv = cf_session_get(h, &s);
	if (rv != CKR_OK)
		return rv;
	t = s->token;
	cf_mutex_lock(t->lock);
	rv = cf_token_sync_locked(t);
	if (rv != CKR_OK)
		goto out_token;
	cf_mutex_lock(s->lock);
	op = &s->ops[CF_OP_DIGEST];
	if (op->mech == NULL) {
		rv = CKR_OPERATION_NOT_INITIALIZED;
		goto out_session;
	}
	rv = cf_objects_get_locked(t, k, &o);
	if (rv == CKR_OBJECT_HANDLE_INVALID)
		rv = CKR_KEY_HANDLE_INVALID;
	else if (rv == CKR_OK && o->cls != CKO_SECRET_KEY)
		rv = CKR_KEY_INDIGESTIBLE;
	if (rv == CKR_OK) {
		v = cf_object_attr(o, CKA_VALUE);
		if (v == NULL || v->len == 0)
			rv = CKR_USER_NOT_LOGGED_IN; /* still sealed */
		else if (op->mech->ops->update == NULL)
			rv = CKR_FUNCTION_NOT_SUPPORTED;
		else {
			op->multi = true;
			rv = op->mech->ops->update(op, v->value, v->len, NULL,
						   NULL);
		}
	}
	if (rv != CKR_OK)
		cf_op_end(op);
out_session:
	cf_mutex_unlock(s->lock);
	cf_object_unref(o);
out_token:
	cf_mutex_unlock(t->lock);
	cf_session_put(s);
	return rv;
}

CF_EXPORT CK_RV C_DigestFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out,
			      CK_ULONG_PTR outl)
{
	return run(h, CF_OP_DIGEST, STEP_FINAL, NULL, 0, out, outl, true);
}

/* ---- 5.13 signing and MACing ------------------------------------------- */

CF_EXPORT CK_RV C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
			   CK_OBJECT_HANDLE k)
{
	return cf_op_init(h, CF_OP_SIGN, m, k);
}

CF_EXPORT CK_RV C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inl,
		       CK_BYTE_PTR out, CK_ULONG_PTR outl)
{
	return run(h, CF_OP_SIGN, STEP_ONESHOT, in, inl, out, outl, true);
}

CF_EXPORT CK_RV C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in,
			     CK_ULONG inl)
{
	return run(h, CF_OP_SIGN, STEP_UPDATE, in, inl, NULL, NULL, false);
}

CF_EXPORT CK_RV C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out,
			    CK_ULONG_PTR outl)
{
	return run(h, CF_OP_SIGN, STEP_FINAL, NULL, 0, out, outl, true);
}

CF_EXPORT CK_RV C_SignRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
				  CK_OBJECT_HANDLE k)
{
	return cf_op_init(h, CF_OP_SIGN_RECOVER, m, k);
}

CF_EXPORT CK_RV C_SignRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR in,
			      CK_ULONG inl, CK_BYTE_PTR out,
			      CK_ULONG_PTR outl)
{
	return run(h, CF_OP_SIGN_RECOVER, STEP_ONESHOT, in, inl, out, outl,
		   true);
}

/* ---- 5.15 verifying ---------------------------------------------------- */

CF_EXPORT CK_RV C_VerifyInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
			     CK_OBJECT_HANDLE k)
{
	return cf_op_init(h, CF_OP_VERIFY, m, k);
}

CF_EXPORT CK_RV C_Verify(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inl,
			 CK_BYTE_PTR sig, CK_ULONG sigl)
{
	return verify(h, STEP_ONESHOT, in, inl, sig, sigl);
}

CF_EXPORT CK_RV C_VerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in,
			       CK_ULONG inl)
{
	return run(h, CF_OP_VERIFY, STEP_UPDATE, in, inl, NULL, NULL, false);
}

CF_EXPORT CK_RV C_VerifyFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR sig,
			      CK_ULONG sigl)
{
	return verify(h, STEP_FINAL, NULL, 0, sig, sigl);
}

CF_EXPORT CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
				    CK_OBJECT_HANDLE k)
{
	return cf_op_init(h, CF_OP_VERIFY_RECOVER, m, k);
}

CF_EXPORT CK_RV C_VerifyRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR sig,
				CK_ULONG sigl, CK_BYTE_PTR out,
				CK_ULONG_PTR outl)
{
	return run(h, CF_OP_VERIFY_RECOVER, STEP_ONESHOT, sig, sigl, out,
		   outl, true);
}

/* ---- 5.17 dual-function operations ------------------------------------- */

/* The output-producing half runs first: it may answer a length query or
 * CKR_BUFFER_TOO_SMALL without consuming input, and only then is the same
 * data (plaintext) fed to the other half. */
static CK_RV dual(CK_SESSION_HANDLE h, enum cf_op_kind first,
		  enum cf_op_kind second, bool second_takes_output,
		  CK_BYTE_PTR in, CK_ULONG inl, CK_BYTE_PTR out,
		  CK_ULONG_PTR outl)
{
	struct cf_session *s;
	struct cf_op *op2;
	CK_RV rv = cf_op_enter(h, second, &s, &op2);

	if (rv != CKR_OK)
		return rv;
	cf_op_leave(s);
	rv = run(h, first, STEP_UPDATE, in, inl, out, outl, true);
	if (rv != CKR_OK || out == NULL)
		return rv;
	if (second_takes_output)
		return run(h, second, STEP_UPDATE, out, *outl, NULL, NULL,
			   false);
	return run(h, second, STEP_UPDATE, in, inl, NULL, NULL, false);
}

CF_EXPORT CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in,
				      CK_ULONG inl, CK_BYTE_PTR out,
				      CK_ULONG_PTR outl)
{
	return dual(h, CF_OP_ENCRYPT, CF_OP_DIGEST, false, in, inl, out, outl);
}

CF_EXPORT CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in,
				      CK_ULONG inl, CK_BYTE_PTR out,
				      CK_ULONG_PTR outl)
{
	return dual(h, CF_OP_DECRYPT, CF_OP_DIGEST, true, in, inl, out, outl);
}

CF_EXPORT CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in,
				    CK_ULONG inl, CK_BYTE_PTR out,
				    CK_ULONG_PTR outl)
{
	return dual(h, CF_OP_ENCRYPT, CF_OP_SIGN, false, in, inl, out, outl);
}

CF_EXPORT CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in,
				      CK_ULONG inl, CK_BYTE_PTR out,
				      CK_ULONG_PTR outl)
{
	return dual(h, CF_OP_DECRYPT, CF_OP_VERIFY, true, in, inl, out, outl);
}

/* ---- 5.6.5 (3.0) C_SessionCancel ----------------------------------------- */

CF_EXPORT CK_RV C_SessionCancel(CK_SESSION_HANDLE h, CK_FLAGS flags)
{
	struct cf_session *s;
	CK_RV rv = cf_library_ready();

	if (rv != CKR_OK)
		return rv;
	rv = cf_session_get(h, &s);
	if (rv != CKR_OK)
		return rv;
	if (flags & CKF_FIND_OBJECTS) {
		cf_mutex_lock(s->token->lock);
		cf_find_clear(&s->find);
		cf_mutex_unlock(s->token->lock);
	}
	cf_mutex_lock(s->lock);
	for (size_t i = 0; i < CF_OP_KINDS; i++)
		if (flags & cf_op_flag((enum cf_op_kind)i))
			cf_op_end(&s->ops[i]);
	cf_mutex_unlock(s->lock);
	cf_session_put(s);
	return CKR_OK;
}
