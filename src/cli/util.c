/*
 * util.c - messages, hex, files and padded PKCS#11 strings for the CLI.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "cli/cli.h"
#include "pkcs11/schema.h"

/* Inputs above this are refused: the CLI reads whole files into memory. */
#define CLI_FILE_MAX (64u << 20)

void cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("coffer: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* What a bare code does not say: the usual reasons behind the codes a
 * token's key policy gives (docs/security.md, "Key roles and wrapping"). */
static const char *rv_hint(CK_RV rv)
{
	switch (rv) {
	case CKR_KEY_FUNCTION_NOT_PERMITTED:
		return "the key does not allow this use: its CKA_SIGN, "
		       "CKA_ENCRYPT, CKA_WRAP, ... flag is off, or (coffer) "
		       "it is locked to its first role: a key used for data "
		       "never wraps keys, and the other way round";
	case CKR_KEY_NOT_WRAPPABLE:
		return "a sensitive key wraps only under a wrapping key the SO "
		       "marked CKA_TRUSTED, or one generated on the token that "
		       "was never extractable";
	case CKR_KEY_UNEXTRACTABLE:
		return "the key is not extractable: it can never leave the "
		       "token, not even wrapped";
	case CKR_USER_NOT_LOGGED_IN:
		return "give the user PIN (--login, --pin-source)";
	default:
		return NULL;
	}
}

void cli_rv_err(const char *what, CK_RV rv)
{
	const char *hint = rv_hint(rv);
	char buf[32];

	if (hint != NULL)
		cli_err("%s: %s (%s)", what, cf_p11_rv_str(rv, buf, sizeof(buf)),
			hint);
	else
		cli_err("%s: %s", what, cf_p11_rv_str(rv, buf, sizeof(buf)));
}

const char *cli_ossl_err(void)
{
	static char buf[256];
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		return "unknown error";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

void cli_unpad(char *out, size_t outlen, const CK_UTF8CHAR *in, size_t inlen)
{
	size_t n = inlen;

	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\0'))
		n--;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, in, n);
	out[n] = '\0';
}

void cli_pad(CK_UTF8CHAR *out, size_t outlen, const char *in)
{
	size_t n = strlen(in);

	if (n > outlen)
		n = outlen;
	memset(out, ' ', outlen);
	memcpy(out, in, n);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int cli_new_key_id(struct cli *c, uint8_t rid[16], uint8_t **id,
		   size_t *idlen)
{
	CK_RV rv;

	if (c->o.id != NULL) {
		if (!cli_hex_decode(c->o.id, id, idlen) || *idlen == 0) {
			cli_err("--id '%s' is not hex", c->o.id);
			return -1;
		}
		return 0;
	}
	/* Random, so that two keys with one label still differ by id. */
	rv = c->f->C_GenerateRandom(c->sess, rid, 16);
	if (rv != CKR_OK) {
		cli_rv_err("C_GenerateRandom", rv);
		return -1;
	}
	*id = rid;
	*idlen = 16;
	return 0;
}

bool cli_hex_decode(const char *hex, uint8_t **out, size_t *len)
{
	size_t n = strlen(hex);
	uint8_t *p;

	*out = NULL;
	*len = 0;
	if (n % 2 != 0)
		return false;
	p = malloc(n / 2 + 1);
	if (p == NULL)
		return false;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(p);
			return false;
		}
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = p;
	*len = n / 2;
	return true;
}

void cli_hex_print(FILE *fp, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(fp, "%02x", p[i]);
}

int cli_read_file(const char *path, uint8_t **data, size_t *len)
{
	bool is_stdin = path == NULL || strcmp(path, "-") == 0;
	FILE *fp = is_stdin ? stdin : fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	int rc = -EIO;

	*data = NULL;
	*len = 0;
	if (fp == NULL) {
		rc = -errno;
		cli_err("cannot open %s: %s", path, strerror(errno));
		return rc;
	}
	for (;;) {
		size_t got;

		if (n == cap) {
			uint8_t *nb;

			if (cap >= CLI_FILE_MAX) {
				cli_err("%s: larger than %u MiB",
					is_stdin ? "stdin" : path,
					CLI_FILE_MAX >> 20);
				rc = -EFBIG;
				goto out_free;
			}
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				rc = -ENOMEM;
				cli_err("out of memory");
				goto out_free;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		cli_err("cannot read %s", is_stdin ? "stdin" : path);
		goto out_free;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		goto out_free;
	buf[n] = '\0'; /* so that text parsers may treat it as a string */
	*data = buf;
	*len = n;
	buf = NULL;
	rc = 0;
out_free:
	free(buf);
	if (!is_stdin)
		fclose(fp);
	return rc;
}

int cli_write_file(const char *path, const uint8_t *data, size_t len)
{
	bool is_stdout = path == NULL || strcmp(path, "-") == 0;
	FILE *fp = is_stdout ? stdout : fopen(path, "wb");
	int rc = 0;

	if (fp == NULL) {
		cli_err("cannot create %s: %s", path, strerror(errno));
		return -errno;
	}
	if (len > 0 && fwrite(data, 1, len, fp) != len)
		rc = -EIO;
	if (is_stdout) {
		if (fflush(fp) != 0)
			rc = -EIO;
	} else if (fclose(fp) != 0) {
		rc = -EIO;
	}
	if (rc != 0)
		cli_err("cannot write %s", is_stdout ? "stdout" : path);
	return rc;
}

bool cli_list_has(const char *list, const char *word, size_t wordlen)
{
	const char *p = list;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, ",");

		if (n == wordlen && strncmp(p, word, n) == 0)
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}
