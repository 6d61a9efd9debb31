/*
 * cmd_tokens.c - coffer tokens (slots), info and mechanisms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "pkcs11/schema.h"

struct flag_name {
	CK_FLAGS flag;
	const char *name;
};

static const struct flag_name token_flags[] = {
    {CKF_TOKEN_INITIALIZED, "initialized"},
    {CKF_LOGIN_REQUIRED, "login-required"},
    {CKF_USER_PIN_INITIALIZED, "user-pin-set"},
    {CKF_WRITE_PROTECTED, "write-protected"},
    {CKF_RNG, "rng"},
    {CKF_USER_PIN_COUNT_LOW, "user-pin-count-low"},
    {CKF_USER_PIN_FINAL_TRY, "user-pin-final-try"},
    {CKF_USER_PIN_LOCKED, "user-pin-locked"},
    {CKF_SO_PIN_COUNT_LOW, "so-pin-count-low"},
    {CKF_SO_PIN_FINAL_TRY, "so-pin-final-try"},
    {CKF_SO_PIN_LOCKED, "so-pin-locked"},
    {0, NULL},
};

static const struct flag_name mech_flags[] = {
    {CKF_HW, "hw"},
    {CKF_ENCRYPT, "encrypt"},
    {CKF_DECRYPT, "decrypt"},
    {CKF_DIGEST, "digest"},
    {CKF_SIGN, "sign"},
    {CKF_VERIFY, "verify"},
    {CKF_GENERATE, "generate"},
    {CKF_GENERATE_KEY_PAIR, "generate-key-pair"},
    {CKF_WRAP, "wrap"},
    {CKF_UNWRAP, "unwrap"},
    {CKF_DERIVE, "derive"},
    {0, NULL},
};

static void print_flags(const struct flag_name *t, CK_FLAGS f)
{
	bool first = true;

	for (; t->name != NULL; t++)
		if (f & t->flag) {
			printf("%s%s", first ? "" : ",", t->name);
			first = false;
		}
	printf("\n");
}

int cmd_tokens(struct cli *c)
{
	CK_SLOT_ID *ids = NULL;
	CK_ULONG n = 0;
	int rc = 1;
	CK_RV rv;

	if (cli_module_open(c) != 0)
		return 1;
	rv = c->f->C_GetSlotList(CK_FALSE, NULL, &n);
	if (rv == CKR_OK) {
		ids = calloc(n + 1, sizeof(*ids));
		if (ids == NULL)
			return 1;
		rv = c->f->C_GetSlotList(CK_FALSE, ids, &n);
	}
	if (rv != CKR_OK) {
		cli_rv_err("C_GetSlotList", rv);
		goto out_free;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		CK_SLOT_INFO si;
		CK_TOKEN_INFO ti;
		char buf[65];
		char *uri;

		if (c->f->C_GetSlotInfo(ids[i], &si) != CKR_OK)
			continue;
		cli_unpad(buf, sizeof(buf), si.slotDescription, 64);
		printf("Slot %lu: %s\n", (unsigned long)ids[i], buf);
		if (!(si.flags & CKF_TOKEN_PRESENT) ||
		    c->f->C_GetTokenInfo(ids[i], &ti) != CKR_OK) {
			printf("  (no token)\n");
			continue;
		}
		cli_unpad(buf, sizeof(buf), ti.label, 32);
		printf("  token:  %s\n", buf);
		cli_unpad(buf, sizeof(buf), ti.manufacturerID, 32);
		printf("  maker:  %s\n", buf);
		cli_unpad(buf, sizeof(buf), ti.model, 16);
		printf("  model:  %s\n", buf);
		cli_unpad(buf, sizeof(buf), ti.serialNumber, 16);
		printf("  serial: %s\n", buf);
		printf("  flags:  ");
		print_flags(token_flags, ti.flags);
		uri = cli_token_uri(&ti);
		if (uri != NULL)
			printf("  uri:    %s\n", uri);
		free(uri);
	}
	rc = 0;
out_free:
	free(ids);
	return rc;
}

int cmd_info(struct cli *c)
{
	CK_INFO info;
	char buf[65];
	CK_RV rv;

	if (cli_module_open(c) != 0)
		return 1;
	rv = c->f->C_GetInfo(&info);
	if (rv != CKR_OK) {
		cli_rv_err("C_GetInfo", rv);
		return 1;
	}
	printf("module:          %s\n", c->module_path);
	cli_unpad(buf, sizeof(buf), info.libraryDescription, 32);
	printf("library:         %s\n", buf);
	cli_unpad(buf, sizeof(buf), info.manufacturerID, 32);
	printf("manufacturer:    %s\n", buf);
	printf("library version: %u.%u\n", info.libraryVersion.major,
	       info.libraryVersion.minor);
	printf("cryptoki:        %u.%u\n", info.cryptokiVersion.major,
	       info.cryptokiVersion.minor);
	printf("coffer:          %s\n", COFFER_VERSION);
	printf("openssl:         %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("p11-kit:         %s\n", CF_P11KIT_VERSION);
	return 0;
}

int cmd_mechanisms(struct cli *c)
{
	CK_MECHANISM_TYPE *m = NULL;
	CK_ULONG n = 0;
	int rc = 1;
	CK_RV rv;

	if (cli_token_select(c, c->o.token, false) != 0)
		return 1;
	rv = c->f->C_GetMechanismList(c->slot, NULL, &n);
	if (rv == CKR_OK) {
		m = calloc(n + 1, sizeof(*m));
		if (m == NULL)
			return 1;
		rv = c->f->C_GetMechanismList(c->slot, m, &n);
	}
	if (rv != CKR_OK) {
		cli_rv_err("C_GetMechanismList", rv);
		goto out_free;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		CK_MECHANISM_INFO mi;
		const char *name = cf_p11_mech_name(m[i]);

		if (name != NULL)
			printf("%-32s", name);
		else
			printf("0x%08lx%22s", (unsigned long)m[i], "");
		if (c->f->C_GetMechanismInfo(c->slot, m[i], &mi) != CKR_OK) {
			printf("\n");
			continue;
		}
		printf(" %5lu-%-5lu ", (unsigned long)mi.ulMinKeySize,
		       (unsigned long)mi.ulMaxKeySize);
		print_flags(mech_flags, mi.flags);
	}
	rc = 0;
out_free:
	free(m);
	return rc;
}
