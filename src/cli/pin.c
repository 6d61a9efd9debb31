/*
 * pin.c - PINs: --pin, --pin-source file:PATH|env:NAME, or a prompt
 * without echo on the terminal. PINs live in secret memory, are wiped when
 * freed and are never printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/secmem.h"

#define PIN_MAX 256

static int pin_from(const char *src, size_t srclen, char **out, size_t *len)
{
	char *p;

	/* A PIN is one line: the newline of a PIN file is not part of it. */
	while (srclen > 0 &&
	       (src[srclen - 1] == '\n' || src[srclen - 1] == '\r'))
		srclen--;
	if (srclen == 0 || srclen > PIN_MAX) {
		cli_err("PIN is empty or longer than %d bytes", PIN_MAX);
		return -1;
	}
	p = cf_secret_alloc(srclen + 1);
	if (p == NULL)
		return -1;
	memcpy(p, src, srclen);
	*out = p;
	*len = srclen;
	return 0;
}

static int pin_file(const char *path, char **out, size_t *len)
{
	char buf[PIN_MAX + 2];
	ssize_t n;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_err("PIN file %s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		cli_err("PIN file %s: %s", path, strerror(errno));
		return -1;
	}
	rc = pin_from(buf, (size_t)n, out, len);
	cf_wipe(buf, sizeof(buf));
	return rc;
}

static int pin_prompt(const char *prompt, char **out, size_t *len)
{
	char buf[PIN_MAX + 2];
	struct termios old, quiet;
	FILE *tty;
	int rc = -1;

	tty = fopen("/dev/tty", "r+");
	if (tty == NULL) {
		cli_err("%s needed: give --pin, a --pin-source or run on a "
			"terminal",
			prompt);
		return -1;
	}
	setvbuf(tty, NULL, _IONBF, 0);
	if (tcgetattr(fileno(tty), &old) != 0)
		goto out_close;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	fprintf(tty, "%s: ", prompt);
	if (tcsetattr(fileno(tty), TCSAFLUSH, &quiet) != 0)
		goto out_close;
	if (fgets(buf, sizeof(buf), tty) != NULL)
		rc = pin_from(buf, strlen(buf), out, len);
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fprintf(tty, "\n");
	cf_wipe(buf, sizeof(buf));
out_close:
	fclose(tty);
	return rc;
}

int cli_pin_get(const char *pin, const char *source, const char *prompt,
		char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (pin != NULL)
		return pin_from(pin, strlen(pin), out, len);
	if (source != NULL) {
		if (strncmp(source, "file:", 5) == 0)
			return pin_file(source + 5, out, len);
		if (strncmp(source, "env:", 4) == 0) {
			const char *v = getenv(source + 4);

			if (v == NULL) {
				cli_err("PIN source %s: variable not set",
					source);
				return -1;
			}
			return pin_from(v, strlen(v), out, len);
		}
		cli_err("PIN source '%s': use file:PATH or env:NAME", source);
		return -1;
	}
	return pin_prompt(prompt, out, len);
}

void cli_pin_free(char *pin, size_t len)
{
	if (pin != NULL)
		cf_secret_free(pin, len + 1);
}

void cli_pin_rv_err(struct cli *c, CK_USER_TYPE who, CK_RV rv)
{
	const char *name = who == CKU_SO ? "SO" : "user";
	CK_FLAGS low =
	    who == CKU_SO ? CKF_SO_PIN_COUNT_LOW : CKF_USER_PIN_COUNT_LOW;
	CK_FLAGS last =
	    who == CKU_SO ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY;
	CK_FLAGS locked =
	    who == CKU_SO ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED;
	CK_TOKEN_INFO ti;

	/* The token's flags after the failure say how many tries are left,
	 * as far as PKCS#11 lets a module say it. */
	if (c->f->C_GetTokenInfo(c->slot, &ti) != CKR_OK)
		ti.flags = 0;
	if (rv == CKR_PIN_LOCKED) {
		/* The PIN given may be right: the token no longer checks. */
		cli_err("the %s PIN is locked%s", name,
			who == CKU_USER ? " (the SO can reset it with coffer "
					  "unlock)"
					: "");
	} else if (ti.flags & locked) {
		cli_err("wrong %s PIN; the %s PIN is now locked%s", name, name,
			who == CKU_USER ? " (the SO can reset it with coffer "
					  "unlock)"
					: "");
	} else if (rv == CKR_PIN_INCORRECT) {
		if (ti.flags & last)
			cli_err("wrong %s PIN, 1 try left", name);
		else if (ti.flags & low)
			cli_err("wrong %s PIN, few tries left", name);
		else
			cli_err("wrong %s PIN", name);
	} else if (rv == CKR_PIN_LEN_RANGE) {
		cli_err("%s PIN: length out of the token's range (%lu to %lu)",
			name, (unsigned long)ti.ulMinPinLen,
			(unsigned long)ti.ulMaxPinLen);
	} else if (rv == CKR_USER_PIN_NOT_INITIALIZED) {
		cli_err("the user PIN is not set (run coffer init-pin)");
	} else {
		cli_rv_err(who == CKU_SO ? "SO login" : "login", rv);
	}
}

int cli_login(struct cli *c, CK_USER_TYPE who)
{
	const char *pin = who == CKU_SO ? c->o.so_pin : c->o.pin;
	const char *src = who == CKU_SO ? c->o.so_pin_source : c->o.pin_source;
	char *p = NULL;
	size_t len = 0;
	CK_RV rv;

	if (cli_session_open(c) != 0)
		return -1;
	if (who == CKU_USER && !(c->tinfo.flags & CKF_USER_PIN_INITIALIZED)) {
		cli_err("the user PIN is not set (run coffer init-pin)");
		return -1;
	}
	if (cli_pin_get(pin, src, who == CKU_SO ? "SO PIN" : "User PIN", &p,
			&len) != 0)
		return -1;
	rv = c->f->C_Login(c->sess, who, (CK_UTF8CHAR *)p, (CK_ULONG)len);
	cli_pin_free(p, len);
	if (rv == CKR_USER_ALREADY_LOGGED_IN)
		rv = CKR_OK;
	if (rv != CKR_OK) {
		cli_pin_rv_err(c, who, rv);
		return -1;
	}
	return 0;
}

int cli_context_login(struct cli *c, CK_OBJECT_HANDLE key)
{
	char *p = NULL;
	size_t len = 0;
	bool always = false;
	CK_RV rv;

	if (!cli_attr_bool(c, key, CKA_ALWAYS_AUTHENTICATE, &always) ||
	    !always)
		return 0;
	if (cli_pin_get(c->o.pin, c->o.pin_source,
			"User PIN (this key asks for it on every use)", &p,
			&len) != 0)
		return -1;
	rv = c->f->C_Login(c->sess, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR *)p,
			   (CK_ULONG)len);
	cli_pin_free(p, len);
	if (rv != CKR_OK) {
		cli_pin_rv_err(c, CKU_USER, rv);
		return -1;
	}
	return 0;
}
