/*
 * cmd_pin.c - coffer init-token, init-pin, set-pin and unlock.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cmd_init_token(struct cli *c)
{
	CK_UTF8CHAR label[32];
	char *so = NULL;
	size_t solen = 0;
	CK_RV rv;

	if (c->o.label == NULL || strlen(c->o.label) > 32) {
		cli_err("init-token: --label LABEL (up to 32 bytes) is needed");
		return 1;
	}
	if (c->o.slot != NULL) {
		char *end;
		unsigned long id = strtoul(c->o.slot, &end, 0);

		if (*c->o.slot == '\0' || *end != '\0') {
			cli_err("--slot '%s' is not a number", c->o.slot);
			return 1;
		}
		if (cli_module_open(c) != 0)
			return 1;
		c->slot = id;
	} else if (cli_token_select(c, c->o.token, c->o.token == NULL) != 0) {
		return 1;
	}
	if (cli_pin_get(c->o.so_pin, c->o.so_pin_source, "New SO PIN", &so,
			&solen) != 0)
		return 1;
	cli_pad(label, sizeof(label), c->o.label);
	rv = c->f->C_InitToken(c->slot, (CK_UTF8CHAR *)so, (CK_ULONG)solen,
			       label);
	cli_pin_free(so, solen);
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED) {
		cli_pin_rv_err(c, CKU_SO, rv);
		return 1;
	}
	if (rv != CKR_OK) {
		cli_rv_err("C_InitToken", rv);
		return 1;
	}
	printf("token '%s' initialized in slot %lu\n", c->o.label,
	       (unsigned long)c->slot);
	return 0;
}

/* The SO sets the user PIN from new (or, for init-pin, the user PIN
 * options). */
static int init_pin(struct cli *c, const char *pin, const char *src)
{
	char *p = NULL;
	size_t len = 0;
	CK_RV rv;

	if (cli_token_select(c, c->o.token, false) != 0 ||
	    cli_login(c, CKU_SO) != 0)
		return 1;
	if (cli_pin_get(pin, src, "New user PIN", &p, &len) != 0)
		return 1;
	rv = c->f->C_InitPIN(c->sess, (CK_UTF8CHAR *)p, (CK_ULONG)len);
	cli_pin_free(p, len);
	c->f->C_Logout(c->sess);
	if (rv != CKR_OK) {
		if (rv == CKR_PIN_LEN_RANGE)
			cli_pin_rv_err(c, CKU_USER, rv);
		else
			cli_rv_err("C_InitPIN", rv);
		return 1;
	}
	return 0;
}

int cmd_init_pin(struct cli *c)
{
	if (init_pin(c, c->o.pin, c->o.pin_source) != 0)
		return 1;
	printf("user PIN set\n");
	return 0;
}

int cmd_unlock(struct cli *c)
{
	if (init_pin(c, c->o.new_pin, c->o.new_pin_source) != 0)
		return 1;
	printf("user PIN reset; the token is unlocked\n");
	return 0;
}

int cmd_set_pin(struct cli *c)
{
	bool so = c->o.so_pin != NULL || c->o.so_pin_source != NULL;
	CK_USER_TYPE who = so ? CKU_SO : CKU_USER;
	char *old = NULL, *new = NULL;
	size_t oldlen = 0, newlen = 0;
	int rc = 1;
	CK_RV rv;

	if (cli_token_select(c, c->o.token, false) != 0 ||
	    cli_session_open(c) != 0)
		return 1;
	if (cli_pin_get(so ? c->o.so_pin : c->o.pin,
			so ? c->o.so_pin_source : c->o.pin_source,
			so ? "SO PIN" : "User PIN", &old, &oldlen) != 0)
		goto out_free;
	if (cli_pin_get(c->o.new_pin, c->o.new_pin_source,
			so ? "New SO PIN" : "New user PIN", &new, &newlen) != 0)
		goto out_free;
	/* C_SetPIN changes the PIN of the logged-in user, or of the user
	 * when nobody is logged in; the SO must log in first. */
	if (so) {
		rv = c->f->C_Login(c->sess, CKU_SO, (CK_UTF8CHAR *)old,
				   (CK_ULONG)oldlen);
		if (rv != CKR_OK) {
			cli_pin_rv_err(c, CKU_SO, rv);
			goto out_free;
		}
	}
	rv = c->f->C_SetPIN(c->sess, (CK_UTF8CHAR *)old, (CK_ULONG)oldlen,
			    (CK_UTF8CHAR *)new, (CK_ULONG)newlen);
	if (so)
		c->f->C_Logout(c->sess);
	if (rv != CKR_OK) {
		cli_pin_rv_err(c, who, rv);
		goto out_free;
	}
	printf("%s PIN changed\n", so ? "SO" : "user");
	rc = 0;
out_free:
	cli_pin_free(old, oldlen);
	cli_pin_free(new, newlen);
	return rc;
}
