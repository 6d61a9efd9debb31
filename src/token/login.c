/*
 * login.c - PIN checks, login and PIN changes.
 *
 * A PIN is checked by unwrapping the token key with it (vault.h), so the
 * check is as slow as the KDF makes it and the comparison is the AEAD tag
 * check, in constant time. Failures are counted in the token itself: the
 * counter is raised durably BEFORE the PIN is tried and reset after a
 * success, so killing the process mid-check never earns a free guess.
 */
#include "token/core.h"

#include <stdlib.h>

#include "common/log.h"

static const char *pin_meta(CK_USER_TYPE who)
{
	return who == CKU_SO ? CF_META_SO_PIN : CF_META_USER_PIN;
}

/* Checks pin for who and hands back the token key it unwraps. */
static CK_RV verify_pin(struct cf_token *t, const struct cf_conf *conf,
			CK_USER_TYPE who, const uint8_t *pin, size_t pin_len,
			struct cf_secret *key)
{
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	uint32_t fails = 0;
	CK_RV rv;

	rv = cf_token_meta_blob(t, pin_meta(who), &blob, &blob_len);
	if (rv != CKR_OK)
		return rv;
	if (blob == NULL) {
		rv = who == CKU_SO ? CKR_DEVICE_ERROR
				   : CKR_USER_PIN_NOT_INITIALIZED;
		goto out_blob;
	}
	rv = cf_token_fail_get(t, who, &fails);
	if (rv != CKR_OK)
		goto out_blob;
	if (conf->pin_lockout > 0 && fails >= conf->pin_lockout) {
		rv = CKR_PIN_LOCKED;
		goto out_blob;
	}
	rv = cf_token_fail_put(t, who, fails + 1);
	if (rv != CKR_OK)
		goto out_blob;
	rv = cf_vault_unwrap(blob, blob_len, pin, pin_len, key);
	if (rv == CKR_PIN_INCORRECT) {
		cf_info("wrong %s PIN for token %.16s (%u failure(s))",
			who == CKU_SO ? "SO" : "user", t->serial, fails + 1);
		goto out_blob;
	}
	if (rv != CKR_OK)
		goto out_blob;
	rv = cf_token_fail_put(t, who, 0);
	if (rv != CKR_OK)
		cf_secret_clear(key);
out_blob:
	free(blob);
	return rv;
}

CK_RV cf_login_locked(struct cf_token *t, const struct cf_conf *conf,
		      CK_USER_TYPE who, const uint8_t *pin, size_t pin_len)
{
	struct cf_secret key = {0};
	CK_RV rv;

	rv = verify_pin(t, conf, who, pin, pin_len, &key);
	if (rv != CKR_OK)
		return rv;
	cf_token_logout_locked(t);
	rv = cf_vault_init(&t->vault, &key);
	if (rv != CKR_OK) {
		cf_secret_clear(&key);
		return rv;
	}
	t->token_key = key; /* transferred */
	t->have_key = true;
	t->login = who;
	/* Objects cached before the login lack their sealed parts. */
	cf_objects_cache_clear_locked(t);
	return CKR_OK;
}

CK_RV cf_login_context_locked(struct cf_token *t, const struct cf_conf *conf,
			      const uint8_t *pin, size_t pin_len)
{
	struct cf_secret key = {0};
	CK_RV rv;

	if (t->login != CKU_USER)
		return CKR_USER_NOT_LOGGED_IN;
	/* The full check, counted like any other: a key that asks for its
	 * PIN on every use gets no cheaper guesses than a login. */
	rv = verify_pin(t, conf, CKU_USER, pin, pin_len, &key);
	cf_secret_clear(&key);
	return rv;
}

/* Stores the token key wrapped under pin for who, and zeroes its counter,
 * in one commit. */
static CK_RV store_pin(struct cf_token *t, const struct cf_conf *conf,
		       CK_USER_TYPE who, const struct cf_secret *key,
		       const uint8_t *pin, size_t pin_len)
{
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	CK_RV rv;

	rv = cf_vault_wrap(key, pin, pin_len, conf->kdf_cost, &blob,
			   &blob_len);
	if (rv != CKR_OK)
		return rv;
	rv = cf_store_rv(cf_store_begin(t->store));
	if (rv != CKR_OK)
		goto out_blob;
	rv = cf_token_meta_put(t, pin_meta(who), blob, blob_len);
	if (rv == CKR_OK)
		rv = cf_token_fail_put(t, who, 0);
	if (rv == CKR_OK)
		rv = cf_store_rv(cf_store_commit(t->store));
	if (rv != CKR_OK)
		cf_store_rollback(t->store);
	else if (who == CKU_USER)
		t->user_pin_set = true;
out_blob:
	free(blob);
	return rv;
}

CK_RV cf_login_init_pin_locked(struct cf_token *t, const struct cf_conf *conf,
			       const uint8_t *pin, size_t pin_len)
{
	if (t->login != CKU_SO || !t->have_key)
		return CKR_USER_NOT_LOGGED_IN;
	return store_pin(t, conf, CKU_USER, &t->token_key, pin, pin_len);
}

CK_RV cf_login_set_pin_locked(struct cf_token *t, const struct cf_conf *conf,
			      CK_USER_TYPE who, const uint8_t *old_pin,
			      size_t old_len, const uint8_t *new_pin,
			      size_t new_len)
{
	struct cf_secret key = {0};
	CK_RV rv;

	rv = verify_pin(t, conf, who, old_pin, old_len, &key);
	if (rv != CKR_OK)
		return rv;
	rv = store_pin(t, conf, who, &key, new_pin, new_len);
	cf_secret_clear(&key);
	return rv;
}
