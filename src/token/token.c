/*
 * token.c - a token: its database, its metadata (label, serial, slot id,
 * wrapped token keys, PIN failure counters) and its login state.
 */
#include "token/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/log.h"

#define META_LABEL "label"
#define META_SERIAL "serial"
#define META_SLOT "slot_id"
#define META_SO_PIN CF_META_SO_PIN
#define META_USER_PIN CF_META_USER_PIN
#define META_SO_FAIL "so_fail"
#define META_USER_FAIL "user_fail"
#define META_INDEX_KEY "index_key"
#define META_GENERATION "generation"

CK_RV cf_store_rv(int rc)
{
	switch (rc) {
	case 0:
		return CKR_OK;
	case -ENOMEM:
		return CKR_HOST_MEMORY;
	default:
		return CKR_DEVICE_ERROR;
	}
}

static CK_RV meta_fixed(struct cf_store *s, const char *name, void *out,
			size_t len, bool *present)
{
	uint8_t *v = NULL;
	size_t n = 0;
	int rc = cf_store_meta_get(s, name, &v, &n);

	if (present != NULL)
		*present = false;
	if (rc == -ENOENT && present != NULL)
		return CKR_OK;
	if (rc != 0)
		return cf_store_rv(rc);
	if (n != len) {
		free(v);
		cf_error("token metadata '%s' has a bad length", name);
		return CKR_DEVICE_ERROR;
	}
	memcpy(out, v, len);
	free(v);
	if (present != NULL)
		*present = true;
	return CKR_OK;
}

static CK_RV meta_u32(struct cf_store *s, const char *name, uint32_t *v)
{
	uint8_t b[4];
	bool present;
	CK_RV rv = meta_fixed(s, name, b, sizeof(b), &present);

	*v = 0;
	if (rv == CKR_OK && present)
		*v = cf_get_be32(b);
	return rv;
}

static CK_RV meta_put_u32(struct cf_store *s, const char *name, uint32_t v)
{
	uint8_t b[4];
	cf_put_be32(b, v);
	return cf_store_rv(cf_store_meta_put(s, name, b, sizeof(b)));
}

/* Reads everything the token keeps in metadata into t. */
static CK_RV load_meta(struct cf_token *t)
{
	uint32_t slot;
	bool present;
	CK_RV rv;
	uint8_t *blob = NULL;
	size_t len;
	int rc;

	rv = meta_fixed(t->store, META_LABEL, t->label, sizeof(t->label),
			NULL);
	if (rv == CKR_OK)
		rv = meta_fixed(t->store, META_SERIAL, t->serial,
				sizeof(t->serial), NULL);
	if (rv == CKR_OK)
		rv = meta_u32(t->store, META_SLOT, &slot);
	if (rv == CKR_OK)
		rv = meta_u32(t->store, META_SO_FAIL, &t->so_fail);
	if (rv == CKR_OK)
		rv = meta_u32(t->store, META_USER_FAIL, &t->user_fail);
	if (rv == CKR_OK)
		rv = meta_fixed(t->store, META_INDEX_KEY, t->public_index_key,
				sizeof(t->public_index_key), NULL);
	if (rv == CKR_OK)
		rv = meta_fixed(t->store, META_GENERATION, t->generation,
				sizeof(t->generation), &present);
	if (rv != CKR_OK)
		return rv;
	rc = cf_store_meta_get(t->store, META_USER_PIN, &blob, &len);
	if (rc != 0 && rc != -ENOENT)
		return cf_store_rv(rc);
	free(blob);
	t->user_pin_set = rc == 0;
	t->slot_id = slot;
	return CKR_OK;
}

static CK_RV token_alloc(struct cf_token **out)
{
	struct cf_token *t = calloc(1, sizeof(*t));
	CK_RV rv;

	*out = NULL;
	if (t == NULL)
		return CKR_HOST_MEMORY;
	rv = cf_mutex_new(&t->lock);
	if (rv != CKR_OK) {
		free(t);
		return rv;
	}
	t->login = CF_NOT_LOGGED_IN;
	t->next_session_object = CF_SESSION_OBJECT_BASE;
	cf_map_init(&t->cache);
	cf_map_init(&t->session_objects);
	*out = t;
	return CKR_OK;
}

CK_RV cf_token_new_free(CK_SLOT_ID slot, struct cf_token **out)
{
	CK_RV rv = token_alloc(out);
	if (rv == CKR_OK)
		(*out)->slot_id = slot;
	return rv;
}

CK_RV cf_token_open(const char *path, struct cf_token **out)
{
	struct cf_token *t;
	CK_RV rv;
	int rc;

	*out = NULL;
	rv = token_alloc(&t);
	if (rv != CKR_OK)
		return rv;
	snprintf(t->path, sizeof(t->path), "%s", path);
	rc = cf_store_open(path, false, &t->store);
	if (rc != 0) {
		cf_error("token %s cannot be opened (%s); left out", path,
			 strerror(-rc));
		rv = cf_store_rv(rc);
		goto out_free;
	}
	rv = load_meta(t);
	if (rv != CKR_OK) {
		cf_error("token %s has unreadable metadata; left out", path);
		goto out_free;
	}
	t->initialized = true;
	/* The first call only arms change detection. */
	cf_token_mark_seen_locked(t);
	*out = t;
	return CKR_OK;
out_free:
	cf_token_free(t);
	return rv;
}

void cf_token_free(struct cf_token *t)
{
	if (t == NULL)
		return;
	cf_token_logout_locked(t);
	cf_objects_drop_session_locked(t, 0);
	cf_map_clear(&t->session_objects);
	cf_objects_cache_clear_locked(t);
	cf_map_clear(&t->cache);
	if (t->store != NULL)
		cf_store_close(t->store);
	cf_mutex_free(t->lock);
	free(t);
}

void cf_token_logout_locked(struct cf_token *t)
{
	bool had_key = t->have_key;

	t->login = CF_NOT_LOGGED_IN;
	if (t->have_key) {
		cf_vault_clear(&t->vault);
		cf_secret_clear(&t->token_key);
		t->have_key = false;
	}
	/* Cached objects may hold decrypted key material or private
	 * attributes: none may outlive the login. */
	if (had_key)
		cf_objects_cache_clear_locked(t);
}

CK_RV cf_token_sync_locked(struct cf_token *t)
{
	bool changed = false;
	uint8_t gen[16];
	CK_RV rv;
	int rc;

	if (!t->initialized)
		return CKR_OK;
	rc = cf_store_changed(t->store, &changed);
	if (rc != 0)
		return cf_store_rv(rc);
	if (!changed)
		return CKR_OK;
	cf_objects_cache_clear_locked(t);
	memcpy(gen, t->generation, sizeof(gen));
	rv = load_meta(t);
	if (rv != CKR_OK)
		return rv;
	/* Another process re-initialized the token: our token key and login
	 * belong to a token that no longer exists. */
	if (memcmp(gen, t->generation, sizeof(gen)) != 0)
		cf_token_logout_locked(t);
	return CKR_OK;
}

bool cf_token_user_visible_locked(const struct cf_token *t,
				  const struct cf_object *o)
{
	return !o->priv || t->login == CKU_USER;
}

void cf_token_info_locked(struct cf_token *t, const struct cf_conf *conf,
			  CK_TOKEN_INFO *info)
{
	char serial[17];

	memset(info, 0, sizeof(*info));
	cf_pad(info->manufacturerID, sizeof(info->manufacturerID),
	       CF_MANUFACTURER);
	cf_pad(info->model, sizeof(info->model), CF_MODEL);
	cf_pad(info->label, sizeof(info->label), "");
	cf_pad(info->serialNumber, sizeof(info->serialNumber), "");
	cf_pad(info->utcTime, sizeof(info->utcTime), "");
	info->flags = CKF_RNG | CKF_LOGIN_REQUIRED | CKF_RESTORE_KEY_NOT_NEEDED;
	info->ulMaxSessionCount = conf->max_sessions;
	info->ulSessionCount = t->sessions;
	info->ulMaxRwSessionCount = conf->max_sessions;
	info->ulRwSessionCount = t->rw_sessions;
	info->ulMaxPinLen = conf->pin_max_len;
	info->ulMinPinLen = conf->pin_min_len;
	info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->hardwareVersion.major = CF_VERSION_MAJOR;
	info->hardwareVersion.minor = CF_VERSION_MINOR;
	info->firmwareVersion.major = CF_VERSION_MAJOR;
	info->firmwareVersion.minor = CF_VERSION_MINOR;
	if (!t->initialized)
		return;
	memcpy(info->label, t->label, sizeof(info->label));
	memcpy(serial, t->serial, 16);
	serial[16] = '\0';
	cf_pad(info->serialNumber, sizeof(info->serialNumber), serial);
	info->flags |= CKF_TOKEN_INITIALIZED;
	if (t->user_pin_set)
		info->flags |= CKF_USER_PIN_INITIALIZED;
	if (conf->pin_lockout > 0) {
		unsigned long left;

		if (t->user_fail >= conf->pin_lockout) {
			info->flags |= CKF_USER_PIN_LOCKED;
		} else if (t->user_fail > 0) {
			left = conf->pin_lockout - t->user_fail;
			info->flags |= CKF_USER_PIN_COUNT_LOW;
			if (left == 1)
				info->flags |= CKF_USER_PIN_FINAL_TRY;
		}
		if (t->so_fail >= conf->pin_lockout) {
			info->flags |= CKF_SO_PIN_LOCKED;
		} else if (t->so_fail > 0) {
			left = conf->pin_lockout - t->so_fail;
			info->flags |= CKF_SO_PIN_COUNT_LOW;
			if (left == 1)
				info->flags |= CKF_SO_PIN_FINAL_TRY;
		}
	}
}

static void hex16(char out[16], const uint8_t in[8])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 8; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
}

/* Writes the metadata of a freshly (re)initialized token. */
static CK_RV write_meta(struct cf_token *t, const struct cf_conf *conf,
			const uint8_t *so_pin, size_t so_pin_len,
			const unsigned char label[32])
{
	struct cf_secret key = {0};
	uint8_t *blob = NULL, gen[16], index_key[32];
	size_t blob_len = 0;
	uint8_t slot[4];
	CK_RV rv;

	rv = cf_vault_token_key_new(&key);
	if (rv != CKR_OK)
		return rv;
	rv = cf_vault_wrap(&key, so_pin, so_pin_len, conf->kdf_cost, &blob,
			   &blob_len);
	if (rv != CKR_OK)
		goto out_key;
	if (!cf_random(gen, sizeof(gen)) ||
	    !cf_random(index_key, sizeof(index_key))) {
		rv = CKR_FUNCTION_FAILED;
		goto out_blob;
	}
	cf_put_be32(slot, (uint32_t)t->slot_id);
	rv = cf_store_rv(cf_store_meta_put(t->store, META_LABEL, label, 32));
	if (rv == CKR_OK)
		rv = cf_store_rv(cf_store_meta_put(t->store, META_SERIAL,
						t->serial, sizeof(t->serial)));
	if (rv == CKR_OK)
		rv = cf_store_rv(cf_store_meta_put(t->store, META_SLOT, slot,
						sizeof(slot)));
	if (rv == CKR_OK)
		rv = cf_store_rv(cf_store_meta_put(t->store, META_SO_PIN, blob,
						blob_len));
	if (rv == CKR_OK)
		rv = meta_put_u32(t->store, META_SO_FAIL, 0);
	if (rv == CKR_OK)
		rv = meta_put_u32(t->store, META_USER_FAIL, 0);
	if (rv == CKR_OK)
		rv = cf_store_rv(cf_store_meta_put(t->store, META_INDEX_KEY,
						index_key, sizeof(index_key)));
	if (rv == CKR_OK)
		rv = cf_store_rv(cf_store_meta_put(t->store, META_GENERATION, gen,
						sizeof(gen)));
out_blob:
	free(blob);
out_key:
	cf_secret_clear(&key);
	return rv;
}

/* Removes a half-made token database and the WAL files SQLite made with
 * it, so no unopenable file is left in the token directory. */
static void remove_files(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-gen"};
	char p[CF_CONF_PATH_MAX + 8];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		remove(p);
	}
}

CK_RV cf_token_init_locked(struct cf_token *t, const struct cf_conf *conf,
			   const uint8_t *so_pin, size_t so_pin_len,
			   const unsigned char label[32])
{
	CK_RV rv;
	bool created = false;
	int rc;

	if (t->initialized) {
		/* Re-initialisation needs the current SO PIN, counted like a
		 * login so it cannot be guessed without limit. */
		rv = cf_login_locked(t, conf, CKU_SO, so_pin, so_pin_len);
		cf_token_logout_locked(t);
		if (rv != CKR_OK)
			return rv;
	} else {
		uint8_t rnd[8];
		if (!cf_random(rnd, sizeof(rnd)))
			return CKR_FUNCTION_FAILED;
		hex16(t->serial, rnd);
		if ((size_t)snprintf(t->path, sizeof(t->path), "%s/%.16s.db",
				     conf->token_dir,
				     t->serial) >= sizeof(t->path))
			return CKR_DEVICE_ERROR;
		rc = cf_store_open(t->path, true, &t->store);
		if (rc != 0) {
			cf_error("cannot create token %s: %s", t->path,
				 strerror(-rc));
			t->path[0] = '\0';
			return cf_store_rv(rc);
		}
		created = true;
	}
	rc = cf_store_begin(t->store);
	if (rc != 0) {
		rv = cf_store_rv(rc);
		goto out_undo;
	}
	rc = cf_store_wipe(t->store);
	rv = cf_store_rv(rc);
	if (rv == CKR_OK)
		rv = write_meta(t, conf, so_pin, so_pin_len, label);
	if (rv == CKR_OK)
		rv = cf_store_rv(cf_store_commit(t->store));
	if (rv != CKR_OK) {
		cf_store_rollback(t->store);
		goto out_undo;
	}
	cf_objects_cache_clear_locked(t);
	rv = load_meta(t);
	if (rv != CKR_OK)
		goto out_undo;
	t->initialized = true;
	cf_token_mark_seen_locked(t);
	cf_info("token %.16s initialized in slot %lu", t->serial,
		(unsigned long)t->slot_id);
	return CKR_OK;
out_undo:
	if (created) {
		cf_store_close(t->store);
		t->store = NULL;
		remove_files(t->path);
		t->path[0] = '\0';
	}
	return rv;
}

CK_RV cf_token_meta_blob(struct cf_token *t, const char *name, uint8_t **v,
			 size_t *len)
{
	int rc = cf_store_meta_get(t->store, name, v, len);

	if (rc == -ENOENT) {
		*v = NULL;
		*len = 0;
		return CKR_OK;
	}
	return cf_store_rv(rc);
}

CK_RV cf_token_meta_put(struct cf_token *t, const char *name, const void *v,
			size_t len)
{
	return cf_store_rv(cf_store_meta_put(t->store, name, v, len));
}

CK_RV cf_token_fail_get(struct cf_token *t, CK_USER_TYPE who, uint32_t *n)
{
	CK_RV rv = meta_u32(t->store, who == CKU_SO ? META_SO_FAIL
						    : META_USER_FAIL, n);
	if (rv == CKR_OK) {
		if (who == CKU_SO)
			t->so_fail = *n;
		else
			t->user_fail = *n;
	}
	return rv;
}

CK_RV cf_token_fail_put(struct cf_token *t, CK_USER_TYPE who, uint32_t n)
{
	CK_RV rv = meta_put_u32(t->store,
				who == CKU_SO ? META_SO_FAIL : META_USER_FAIL,
				n);
	if (rv == CKR_OK) {
		if (who == CKU_SO)
			t->so_fail = n;
		else
			t->user_fail = n;
	}
	return rv;
}

void cf_token_mark_seen_locked(struct cf_token *t)
{
	bool changed;

	/* A failure here only costs a needless cache reload later. */
	if (cf_store_changed(t->store, &changed) != 0)
		cf_debug("change detection failed for token %.16s", t->serial);
}
