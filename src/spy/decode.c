/*
 * decode.c - PKCS#11 values as text for the spy's log (see spy.h).
 *
 * Names come from the schema (src/pkcs11/schema.h), attribute values are
 * read by the schema's kind of their type, and mechanism parameters field by
 * field from src/pkcs11/params.h, so a value the schema learns is decoded
 * here without a change. The few name sets the schema has no table for
 * (flag words, CKS_, CKG_, CKD_, CKZ_) are listed below. Whatever is not
 * known prints as hex with "(unknown)", never guessed.
 *
 * Secrets: PINs, the sensitive attribute values listed in is_sensitive()
 * and every byte-valued attribute of a private or secret key template
 * print as "<N bytes hidden>" unless the entry shows secrets.
 */
#include "spy/spy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pkcs11/params.h"
#include "pkcs11/schema.h"

/* ---- the entry buffer ---------------------------------------------------- */

void cf_spy_out_init(struct cf_spy_out *o, bool show_secrets)
{
	memset(o, 0, sizeof(*o));
	o->show_secrets = show_secrets;
}

void cf_spy_out_clear(struct cf_spy_out *o)
{
	if (o->p != NULL) {
		OPENSSL_cleanse(o->p, o->cap);
		free(o->p);
	}
	o->p = NULL;
	o->len = o->cap = 0;
}

static bool reserve(struct cf_spy_out *o, size_t need)
{
	size_t cap;
	char *p;

	if (need <= o->cap - o->len && o->p != NULL)
		return true;
	if (need > CF_SPY_ENTRY_MAX - o->len)
		return false;
	cap = o->cap != 0 ? o->cap : 1024;
	while (cap - o->len < need)
		cap *= 2;
	if (cap > CF_SPY_ENTRY_MAX + 1)
		cap = CF_SPY_ENTRY_MAX + 1;
	/* Not realloc: the old block may hold a shown secret and must be
	 * wiped before it goes back to the allocator. */
	p = malloc(cap);
	if (p == NULL)
		return false;
	if (o->p != NULL) {
		memcpy(p, o->p, o->len);
		OPENSSL_cleanse(o->p, o->cap);
		free(o->p);
	}
	o->p = p;
	o->cap = cap;
	return true;
}

void cf_spy_printf(struct cf_spy_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->truncated)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (!reserve(o, (size_t)n + 1)) {
		static const char cut[] = "  ... (entry truncated)\n";

		o->truncated = true;
		/* The note always fits: the buffer is never full to the
		 * last bytes without a reserve that succeeded. */
		if (o->p != NULL && o->cap - o->len > sizeof(cut)) {
			memcpy(o->p + o->len, cut, sizeof(cut));
			o->len += sizeof(cut) - 1;
		}
		return;
	}
	va_start(ap, fmt);
	vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

/* ---- name sets the schema has no table for ----------------------------- */

struct name {
	CK_ULONG v;
	const char *name;
};

#define N(x)                                                                   \
	{                                                                      \
		x, #x                                                          \
	}
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct name f_init[] = {
    N(CKF_LIBRARY_CANT_CREATE_OS_THREADS),
    N(CKF_OS_LOCKING_OK),
};
static const struct name f_session[] = {
    N(CKF_RW_SESSION),
    N(CKF_SERIAL_SESSION),
};
static const struct name f_slot[] = {
    N(CKF_TOKEN_PRESENT),
    N(CKF_REMOVABLE_DEVICE),
    N(CKF_HW_SLOT),
};
static const struct name f_token[] = {
    N(CKF_RNG),
    N(CKF_WRITE_PROTECTED),
    N(CKF_LOGIN_REQUIRED),
    N(CKF_USER_PIN_INITIALIZED),
    N(CKF_RESTORE_KEY_NOT_NEEDED),
    N(CKF_CLOCK_ON_TOKEN),
    N(CKF_PROTECTED_AUTHENTICATION_PATH),
    N(CKF_DUAL_CRYPTO_OPERATIONS),
    N(CKF_TOKEN_INITIALIZED),
    N(CKF_SECONDARY_AUTHENTICATION),
    N(CKF_USER_PIN_COUNT_LOW),
    N(CKF_USER_PIN_FINAL_TRY),
    N(CKF_USER_PIN_LOCKED),
    N(CKF_USER_PIN_TO_BE_CHANGED),
    N(CKF_SO_PIN_COUNT_LOW),
    N(CKF_SO_PIN_FINAL_TRY),
    N(CKF_SO_PIN_LOCKED),
    N(CKF_SO_PIN_TO_BE_CHANGED),
    N(CKF_ERROR_STATE),
};
static const struct name f_mech[] = {
    N(CKF_HW),
    N(CKF_MESSAGE_ENCRYPT),
    N(CKF_MESSAGE_DECRYPT),
    N(CKF_MESSAGE_SIGN),
    N(CKF_MESSAGE_VERIFY),
    N(CKF_MULTI_MESSAGE),
    N(CKF_FIND_OBJECTS),
    N(CKF_ENCRYPT),
    N(CKF_DECRYPT),
    N(CKF_DIGEST),
    N(CKF_SIGN),
    N(CKF_SIGN_RECOVER),
    N(CKF_VERIFY),
    N(CKF_VERIFY_RECOVER),
    N(CKF_GENERATE),
    N(CKF_GENERATE_KEY_PAIR),
    N(CKF_WRAP),
    N(CKF_UNWRAP),
    N(CKF_DERIVE),
    N(CKF_EC_F_P),
    N(CKF_EC_F_2M),
    N(CKF_EC_ECPARAMETERS),
    N(CKF_EC_OID),
    N(CKF_EC_UNCOMPRESS),
    N(CKF_EC_COMPRESS),
    N(CKF_EC_CURVENAME),
    N(CKF_EXTENSION),
};
static const struct name f_msg[] = {
    N(CKF_END_OF_MESSAGE),
};
static const struct name f_wait[] = {
    N(CKF_DONT_BLOCK),
};
static const struct name f_interface[] = {
    N(CKF_INTERFACE_FORK_SAFE),
};

static const struct {
	const struct name *tab;
	size_t n;
} flagsets[] = {
    [CF_SPY_F_INIT] = {f_init, NELEM(f_init)},
    [CF_SPY_F_SESSION] = {f_session, NELEM(f_session)},
    [CF_SPY_F_SLOT] = {f_slot, NELEM(f_slot)},
    [CF_SPY_F_TOKEN] = {f_token, NELEM(f_token)},
    [CF_SPY_F_MECH] = {f_mech, NELEM(f_mech)},
    [CF_SPY_F_MSG] = {f_msg, NELEM(f_msg)},
    [CF_SPY_F_WAIT] = {f_wait, NELEM(f_wait)},
    [CF_SPY_F_INTERFACE] = {f_interface, NELEM(f_interface)},
    [CF_SPY_F_INFO] = {NULL, 0},
};

static const struct name cks[] = {
    N(CKS_RO_PUBLIC_SESSION), N(CKS_RO_USER_FUNCTIONS),
    N(CKS_RW_PUBLIC_SESSION), N(CKS_RW_USER_FUNCTIONS),
    N(CKS_RW_SO_FUNCTIONS),
};
static const struct name ckg_mgf[] = {
    N(CKG_MGF1_SHA1),	  N(CKG_MGF1_SHA256),	N(CKG_MGF1_SHA384),
    N(CKG_MGF1_SHA512),	  N(CKG_MGF1_SHA224),	N(CKG_MGF1_SHA3_224),
    N(CKG_MGF1_SHA3_256), N(CKG_MGF1_SHA3_384), N(CKG_MGF1_SHA3_512),
};
static const struct name ckg_gen[] = {
    N(CKG_NO_GENERATE),
    N(CKG_GENERATE),
    N(CKG_GENERATE_COUNTER),
    N(CKG_GENERATE_RANDOM),
};
static const struct name ckd[] = {
    N(CKD_NULL),	  N(CKD_SHA1_KDF),
    N(CKD_SHA1_KDF_ASN1), N(CKD_SHA1_KDF_CONCATENATE),
    N(CKD_SHA224_KDF),	  N(CKD_SHA256_KDF),
    N(CKD_SHA384_KDF),	  N(CKD_SHA512_KDF),
    N(CKD_SHA3_224_KDF),  N(CKD_SHA3_256_KDF),
    N(CKD_SHA3_384_KDF),  N(CKD_SHA3_512_KDF),
};
static const struct name ckz[] = {
    N(CKZ_DATA_SPECIFIED),
};
static const struct name hkdf_salt[] = {
    N(CKF_HKDF_SALT_NULL),
    N(CKF_HKDF_SALT_DATA),
    N(CKF_HKDF_SALT_KEY),
};

static const char *lookup(const struct name *tab, size_t n, CK_ULONG v)
{
	for (size_t i = 0; i < n; i++)
		if (tab[i].v == v)
			return tab[i].name;
	return NULL;
}


/* "NAME" or "0x... (unknown)". */
static void named(struct cf_spy_out *o, const char *name, CK_ULONG v)
{
	if (name != NULL)
		cf_spy_printf(o, "%s", name);
	else
		cf_spy_printf(o, "0x%lx (unknown)", (unsigned long)v);
}

static void flag_words(struct cf_spy_out *o, CK_FLAGS v,
		       enum cf_spy_flagset set)
{
	const struct name *tab = flagsets[set].tab;
	size_t n = flagsets[set].n;
	CK_FLAGS rest = v;
	bool first = true;

	cf_spy_printf(o, "0x%lx", (unsigned long)v);
	if (v == 0)
		return;
	cf_spy_printf(o, " (");
	for (size_t i = 0; i < n; i++) {
		if ((v & tab[i].v) != tab[i].v || tab[i].v == 0)
			continue;
		cf_spy_printf(o, "%s%s", first ? "" : "|", tab[i].name);
		rest &= ~tab[i].v;
		first = false;
	}
	if (rest != 0)
		cf_spy_printf(o, "%s0x%lx unknown", first ? "" : "|",
			      (unsigned long)rest);
	cf_spy_printf(o, ")");
}

/* ---- scalars --------------------------------------------------------------
 */

static void ulong_value(struct cf_spy_out *o, CK_ULONG v, enum cf_spy_role r)
{
	switch (r) {
	case CF_SPY_USER:
		named(o, cf_p11_user_type_name(v), v);
		break;
	case CF_SPY_MECH_TYPE:
		named(o, cf_p11_mech_name(v), v);
		break;
	case CF_SPY_STATE:
		named(o, lookup(cks, NELEM(cks), v), v);
		break;
	case CF_SPY_LENGTH:
		if (v == CK_UNAVAILABLE_INFORMATION)
			cf_spy_printf(o, "CK_UNAVAILABLE_INFORMATION");
		else
			cf_spy_printf(o, "%lu", (unsigned long)v);
		break;
	case CF_SPY_NUMBER:
	default:
		cf_spy_printf(o, "%lu", (unsigned long)v);
		break;
	}
}

void cf_spy_ulong(struct cf_spy_out *o, const char *name, CK_ULONG v,
		  enum cf_spy_role role)
{
	cf_spy_printf(o, "  %s = ", name);
	ulong_value(o, v, role);
	cf_spy_printf(o, "\n");
}

void cf_spy_flags(struct cf_spy_out *o, const char *name, CK_FLAGS v,
		  enum cf_spy_flagset set)
{
	cf_spy_printf(o, "  %s = ", name);
	flag_words(o, v, set);
	cf_spy_printf(o, "\n");
}

static void bool_value(struct cf_spy_out *o, CK_BBOOL v)
{
	if (v == CK_TRUE || v == CK_FALSE)
		cf_spy_printf(o, "%s", v ? "CK_TRUE" : "CK_FALSE");
	else
		cf_spy_printf(o, "0x%x (unknown)", (unsigned)v);
}

void cf_spy_bool(struct cf_spy_out *o, const char *name, CK_BBOOL v)
{
	cf_spy_printf(o, "  %s = ", name);
	bool_value(o, v);
	cf_spy_printf(o, "\n");
}

void cf_spy_pointer(struct cf_spy_out *o, const char *name, const void *p)
{
	if (p == NULL)
		cf_spy_printf(o, "  %s = NULL\n", name);
	else
		cf_spy_printf(o, "  %s = %p\n", name, p);
}

/* ---- bytes and strings ------------------------------------------------------
 */

/* Hex of p[0..len), cut after CF_SPY_HEX_MAX bytes. No line break. */
static void hex_value(struct cf_spy_out *o, const void *p, CK_ULONG len,
		      bool secret)
{
	const unsigned char *b = p;
	CK_ULONG shown;

	if (p == NULL) {
		cf_spy_printf(o, "NULL (%lu bytes)", (unsigned long)len);
		return;
	}
	if (secret && !o->show_secrets) {
		cf_spy_printf(o, "<%lu bytes hidden>", (unsigned long)len);
		return;
	}
	shown = len > CF_SPY_HEX_MAX ? CF_SPY_HEX_MAX : len;
	if (len == 0) {
		cf_spy_printf(o, "\"\" (0 bytes)");
		return;
	}
	for (CK_ULONG i = 0; i < shown; i++)
		cf_spy_printf(o, "%02x", b[i]);
	if (shown < len)
		cf_spy_printf(o, "... (%lu bytes)", (unsigned long)len);
	else
		cf_spy_printf(o, " (%lu bytes)", (unsigned long)len);
}

void cf_spy_bytes(struct cf_spy_out *o, const char *name, const void *p,
		  CK_ULONG len, bool secret)
{
	cf_spy_printf(o, "  %s = ", name);
	hex_value(o, p, len, secret);
	cf_spy_printf(o, "\n");
}

/* A quoted UTF-8 string: printable ASCII as is, quote and backslash
 * escaped, every other byte as \xNN (multi-byte UTF-8 included, so the log
 * stays one line per value whatever the bytes). */
static void string_value(struct cf_spy_out *o, const void *p, CK_ULONG len)
{
	const unsigned char *s = p;
	CK_ULONG shown = len > 4 * CF_SPY_HEX_MAX ? 4 * CF_SPY_HEX_MAX : len;

	if (p == NULL) {
		cf_spy_printf(o, "NULL (%lu bytes)", (unsigned long)len);
		return;
	}
	cf_spy_printf(o, "\"");
	for (CK_ULONG i = 0; i < shown; i++) {
		if (s[i] == '"' || s[i] == '\\')
			cf_spy_printf(o, "\\%c", s[i]);
		else if (s[i] >= 0x20 && s[i] < 0x7f)
			cf_spy_printf(o, "%c", s[i]);
		else
			cf_spy_printf(o, "\\x%02x", s[i]);
	}
	cf_spy_printf(o, "\"%s", shown < len ? "..." : "");
	if (shown < len)
		cf_spy_printf(o, " (%lu bytes)", (unsigned long)len);
}

void cf_spy_fixed_string(struct cf_spy_out *o, const char *name,
			 const CK_UTF8CHAR *p, size_t len)
{
	/* Trailing blanks are padding (the specification's fixed fields). */
	while (len > 0 && p[len - 1] == ' ')
		len--;
	cf_spy_printf(o, "  %s = ", name);
	string_value(o, p, (CK_ULONG)len);
	cf_spy_printf(o, "\n");
}

/* ---- attributes --------------------------------------------------------- */

/* Values that are secret whatever the object: the specification's
 * sensitive attributes of secret and private keys. */
static bool is_sensitive(CK_ATTRIBUTE_TYPE t)
{
	switch (t) {
	case CKA_VALUE:
	case CKA_PRIVATE_EXPONENT:
	case CKA_PRIME_1:
	case CKA_PRIME_2:
	case CKA_EXPONENT_1:
	case CKA_EXPONENT_2:
	case CKA_COEFFICIENT:
		return true;
	default:
		return false;
	}
}

/* Byte values of a private or secret key that are public all the same:
 * identifiers, public halves and domain parameters. */
static bool is_public_part(CK_ATTRIBUTE_TYPE t)
{
	switch (t) {
	case CKA_ID:
	case CKA_SUBJECT:
	case CKA_MODULUS:
	case CKA_PUBLIC_EXPONENT:
	case CKA_PUBLIC_KEY_INFO:
	case CKA_EC_PARAMS:
	case CKA_EC_POINT:
	case CKA_CHECK_VALUE:
	case CKA_PRIME:
	case CKA_SUBPRIME:
	case CKA_BASE:
		return true;
	default:
		return false;
	}
}

/* Whether the template describes a private or secret key (its CKA_CLASS). */
static bool template_is_key(const CK_ATTRIBUTE *t, CK_ULONG n)
{
	for (CK_ULONG i = 0; t != NULL && i < n; i++) {
		CK_ULONG cls;

		if (t[i].type != CKA_CLASS || t[i].pValue == NULL ||
		    t[i].ulValueLen != sizeof(CK_ULONG))
			continue;
		memcpy(&cls, t[i].pValue, sizeof(cls));
		return cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY;
	}
	return false;
}

static void template_lines(struct cf_spy_out *o, const CK_ATTRIBUTE *t,
			   CK_ULONG n, int depth, bool values);

/* The names of the CK_ULONG values a few attributes hold. */
static const char *ulong_attr_name(CK_ATTRIBUTE_TYPE type, CK_ULONG v,
				   bool *has_names)
{
	*has_names = true;
	switch (type) {
	case CKA_CLASS:
		return cf_p11_class_name(v);
	case CKA_KEY_TYPE:
		return cf_p11_key_type_name(v);
	case CKA_CERTIFICATE_TYPE:
		return cf_p11_cert_type_name(v);
	case CKA_KEY_GEN_MECHANISM:
		/* CK_UNAVAILABLE_INFORMATION: not made by a mechanism */
		if (v == CK_UNAVAILABLE_INFORMATION)
			return "CK_UNAVAILABLE_INFORMATION";
		return cf_p11_mech_name(v);
	case CKA_MECHANISM_TYPE:
	case CKA_NAME_HASH_ALGORITHM:
		return cf_p11_mech_name(v);
	default:
		*has_names = false;
		return NULL;
	}
}

static bool all_digits(const void *p, size_t len)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static void attr_value(struct cf_spy_out *o, const CK_ATTRIBUTE *a, bool secret,
		       int depth)
{
	enum cf_attr_kind kind = cf_p11_attr_kind(a->type);
	CK_ULONG v;
	bool has_names;
	const char *nm;

	if (a->pValue == NULL) {
		cf_spy_printf(o, "NULL, ulValueLen = ");
		ulong_value(o, a->ulValueLen, CF_SPY_LENGTH);
		return;
	}
	if (secret && !o->show_secrets) {
		cf_spy_printf(o, "<%lu bytes hidden>",
			      (unsigned long)a->ulValueLen);
		return;
	}
	switch (kind) {
	case CF_ATTR_BOOL:
		if (a->ulValueLen != sizeof(CK_BBOOL))
			break;
		bool_value(o, *(const CK_BBOOL *)a->pValue);
		return;
	case CF_ATTR_ULONG:
		if (a->ulValueLen != sizeof(CK_ULONG))
			break;
		memcpy(&v, a->pValue, sizeof(v));
		nm = ulong_attr_name(a->type, v, &has_names);
		if (has_names)
			named(o, nm, v);
		else
			cf_spy_printf(o, "%lu", (unsigned long)v);
		return;
	case CF_ATTR_STRING:
		string_value(o, a->pValue, a->ulValueLen);
		return;
	case CF_ATTR_BYTES:
	case CF_ATTR_BIGINT:
		hex_value(o, a->pValue, a->ulValueLen, false);
		return;
	case CF_ATTR_DATE:
		if (a->ulValueLen == 0) {
			cf_spy_printf(o, "(empty date)");
			return;
		}
		if (a->ulValueLen != sizeof(CK_DATE))
			break;
		if (!all_digits(a->pValue, sizeof(CK_DATE)))
			break;
		{
			const CK_DATE *d = a->pValue;

			cf_spy_printf(
			    o, "%.4s-%.2s-%.2s", (const char *)d->year,
			    (const char *)d->month, (const char *)d->day);
		}
		return;
	case CF_ATTR_ATTRS:
		if (a->ulValueLen % sizeof(CK_ATTRIBUTE) != 0 || depth > 4)
			break;
		cf_spy_printf(
		    o, "[%lu attributes]",
		    (unsigned long)(a->ulValueLen / sizeof(CK_ATTRIBUTE)));
		template_lines(o, a->pValue,
			       a->ulValueLen / sizeof(CK_ATTRIBUTE), depth + 1,
			       true);
		return;
	case CF_ATTR_MECHS:
		if (a->ulValueLen % sizeof(CK_MECHANISM_TYPE) != 0)
			break;
		cf_spy_printf(o, "[");
		for (CK_ULONG i = 0; i < a->ulValueLen / sizeof(CK_ULONG);
		     i++) {
			memcpy(&v, (const CK_ULONG *)a->pValue + i, sizeof(v));
			cf_spy_printf(o, "%s", i ? ", " : "");
			named(o, cf_p11_mech_name(v), v);
		}
		cf_spy_printf(o, "]");
		return;
	case CF_ATTR_UNKNOWN:
	default:
		hex_value(o, a->pValue, a->ulValueLen, false);
		cf_spy_printf(o, " (unknown)");
		return;
	}
	/* A value that does not fit the kind (a length, a date that is not
	 * digits): the bytes as they are. The module will reject it; the
	 * log shows what it was given. */
	hex_value(o, a->pValue, a->ulValueLen, false);
	cf_spy_printf(o, " (not a valid value of its type)");
}

static void attr_line(struct cf_spy_out *o, const CK_ATTRIBUTE *a, int depth,
		      bool key, bool values)
{
	enum cf_attr_kind kind = cf_p11_attr_kind(a->type);
	bool secret;

	cf_spy_printf(o, "\n%*s", 4 + 2 * depth, "");
	named(o, cf_p11_attr_name(a->type), a->type);
	cf_spy_printf(o, " = ");
	if (!values) {
		/* Before C_GetAttributeValue: what the caller asks for. */
		if (a->pValue == NULL)
			cf_spy_printf(o, "NULL (size query)");
		else
			cf_spy_printf(o, "buffer of %lu bytes",
				      (unsigned long)a->ulValueLen);
		return;
	}
	if (a->ulValueLen == CK_UNAVAILABLE_INFORMATION) {
		cf_spy_printf(o, "CK_UNAVAILABLE_INFORMATION");
		return;
	}
	secret = is_sensitive(a->type) ||
		 (key &&
		  (kind == CF_ATTR_BYTES || kind == CF_ATTR_BIGINT ||
		   kind == CF_ATTR_UNKNOWN) &&
		  !is_public_part(a->type));
	attr_value(o, a, secret, depth);
}

static void template_lines(struct cf_spy_out *o, const CK_ATTRIBUTE *t,
			   CK_ULONG n, int depth, bool values)
{
	bool key = template_is_key(t, n);

	for (CK_ULONG i = 0; i < n; i++)
		attr_line(o, &t[i], depth, key, values);
}

static void template_any(struct cf_spy_out *o, const char *name,
			 const CK_ATTRIBUTE *t, CK_ULONG n, bool values)
{
	if (t == NULL) {
		cf_spy_printf(o, "  %s = NULL, ulCount = %lu\n", name,
			      (unsigned long)n);
		return;
	}
	cf_spy_printf(o, "  %s = [%lu attributes]", name, (unsigned long)n);
	template_lines(o, t, n, 0, values);
	cf_spy_printf(o, "\n");
}

void cf_spy_template(struct cf_spy_out *o, const char *name,
		     const CK_ATTRIBUTE *t, CK_ULONG n)
{
	template_any(o, name, t, n, true);
}

void cf_spy_getattrs_in(struct cf_spy_out *o, const char *name,
			const CK_ATTRIBUTE *t, CK_ULONG n)
{
	template_any(o, name, t, n, false);
}

void cf_spy_getattrs_out(struct cf_spy_out *o, const char *name,
			 const CK_ATTRIBUTE *t, CK_ULONG n)
{
	template_any(o, name, t, n, true);
}

/* ---- mechanisms and their parameters ----------------------------------------
 */

/* The names a parameter's CK_ULONG field holds, by the specification's
 * member name (params.h keeps those names for the spy). */
static void field_ulong(struct cf_spy_out *o, const char *field, CK_ULONG v)
{
	const char *nm;

	if (strcmp(field, "hashAlg") == 0 ||
	    strcmp(field, "prfHashMechanism") == 0) {
		named(o, cf_p11_mech_name(v), v);
		return;
	}
	if (strcmp(field, "mgf") == 0)
		nm = lookup(ckg_mgf, NELEM(ckg_mgf), v);
	else if (strcmp(field, "source") == 0)
		nm = v == 0 ? "0" : lookup(ckz, NELEM(ckz), v);
	else if (strcmp(field, "kdf") == 0)
		nm = lookup(ckd, NELEM(ckd), v);
	else if (strcmp(field, "ulSaltType") == 0)
		nm = lookup(hkdf_salt, NELEM(hkdf_salt), v);
	else if (strcmp(field, "ivGenerator") == 0 ||
		 strcmp(field, "nonceGenerator") == 0)
		nm = lookup(ckg_gen, NELEM(ckg_gen), v);
	else {
		cf_spy_printf(o, "%lu", (unsigned long)v);
		return;
	}
	named(o, nm, v);
}

static void struct_fields(struct cf_spy_out *o, const struct cf_param_type *pt,
			  const unsigned char *base, bool after)
{
	for (size_t i = 0; i < pt->nfields; i++) {
		const struct cf_pfield *f = &pt->fields[i];
		const unsigned char *at = base + f->off;
		CK_ULONG v, len;
		const void *ptr;

		if (after && !f->inout)
			continue;
		cf_spy_printf(o, "\n      %s = ", f->name);
		switch (f->kind) {
		case CF_PF_ULONG:
			memcpy(&v, at, sizeof(v));
			field_ulong(o, f->name, v);
			break;
		case CF_PF_HANDLE:
			memcpy(&v, at, sizeof(v));
			cf_spy_printf(o, "%lu", (unsigned long)v);
			break;
		case CF_PF_BOOL:
			bool_value(o, *(const CK_BBOOL *)at);
			break;
		case CF_PF_BYTES:
			memcpy(&ptr, at, sizeof(ptr));
			if (f->len_off == CF_PF_NO_LEN) {
				len = (CK_ULONG)f->fixed_len;
			} else {
				memcpy(&len, base + f->len_off, sizeof(len));
				if (f->len_in_bits)
					len = (len + 7) / 8;
			}
			hex_value(o, ptr, len, false);
			break;
		case CF_PF_ARRAY:
			hex_value(o, at, (CK_ULONG)f->fixed_len, false);
			break;
		default:
			cf_spy_printf(o, "(unknown field kind)");
			break;
		}
	}
}

/* pt's layout for p[0..len); the parameter's own line is already out. */
static void param_value(struct cf_spy_out *o, const struct cf_param_type *pt,
			const void *p, CK_ULONG len, bool after)
{
	CK_ULONG v;

	switch (pt->shape) {
	case CF_PARAM_NONE:
		hex_value(o, p, len, false);
		return;
	case CF_PARAM_BYTES:
		cf_spy_printf(o, "%s ", pt->name);
		hex_value(o, p, len, false);
		return;
	case CF_PARAM_ULONG:
		if (len != sizeof(CK_ULONG))
			break;
		memcpy(&v, p, sizeof(v));
		cf_spy_printf(o, "%s %lu", pt->name, (unsigned long)v);
		return;
	case CF_PARAM_STRUCT:
		if (len != pt->size)
			break;
		cf_spy_printf(o, "%s {", pt->name);
		struct_fields(o, pt, p, after);
		cf_spy_printf(o, "\n    }");
		return;
	}
	cf_spy_printf(o, "%s with a bad length: ", pt->name);
	hex_value(o, p, len, false);
}

void cf_spy_mechanism(struct cf_spy_out *o, const char *name,
		      const CK_MECHANISM *m)
{
	const struct cf_param_type *pt;

	if (m == NULL) {
		cf_spy_printf(o, "  %s = NULL\n", name);
		return;
	}
	cf_spy_printf(o, "  %s = ", name);
	named(o, cf_p11_mech_name(m->mechanism), m->mechanism);
	cf_spy_printf(o, "\n    pParameter = ");
	if (m->pParameter == NULL && m->ulParameterLen == 0) {
		cf_spy_printf(o, "NULL\n");
		return;
	}
	if (m->pParameter == NULL) {
		hex_value(o, NULL, m->ulParameterLen, false);
		cf_spy_printf(o, "\n");
		return;
	}
	pt = cf_p11_mech_param(m->mechanism);
	if (pt != NULL) {
		param_value(o, pt, m->pParameter, m->ulParameterLen, false);
	} else if (cf_p11_mech_name(m->mechanism) != NULL) {
		/* A known mechanism that takes no parameter was given one:
		 * shown as bytes for the module to reject. */
		hex_value(o, m->pParameter, m->ulParameterLen, false);
		cf_spy_printf(o, " (this mechanism takes no parameter)");
	} else {
		hex_value(o, m->pParameter, m->ulParameterLen, false);
		cf_spy_printf(o, " (unknown)");
	}
	cf_spy_printf(o, "\n");
}

void cf_spy_msgparam(struct cf_spy_out *o, const char *name, bool known,
		     CK_MECHANISM_TYPE mech, const void *p, CK_ULONG len,
		     bool after)
{
	const struct cf_param_type *pt = known ? cf_p11_msg_param(mech) : NULL;

	cf_spy_printf(o, "  %s = ", name);
	if (p == NULL) {
		cf_spy_printf(o, "NULL, ulParameterLen = %lu\n",
			      (unsigned long)len);
		return;
	}
	if (pt != NULL) {
		param_value(o, pt, p, len, after);
	} else if (!known) {
		/* No message operation the spy saw start: the module will
		 * say CKR_OPERATION_NOT_INITIALIZED. */
		hex_value(o, p, len, false);
		cf_spy_printf(o, " (no message operation)");
	} else {
		hex_value(o, p, len, false);
		cf_spy_printf(o, " (unknown)");
	}
	cf_spy_printf(o, "\n");
}

/* ---- structures -------------------------------------------------------------
 */

static void version(struct cf_spy_out *o, const char *name, CK_VERSION v)
{
	cf_spy_printf(o, "    %s = %u.%u\n", name, v.major, v.minor);
}

#define FIXED(o, s, m) cf_spy_fixed_string(o, "  " #m, (s)->m, sizeof((s)->m))

void cf_spy_info(struct cf_spy_out *o, const char *name, const CK_INFO *i)
{
	cf_spy_printf(o, "  %s:\n", name);
	version(o, "cryptokiVersion", i->cryptokiVersion);
	FIXED(o, i, manufacturerID);
	cf_spy_flags(o, "  flags", i->flags, CF_SPY_F_INFO);
	FIXED(o, i, libraryDescription);
	version(o, "libraryVersion", i->libraryVersion);
}

void cf_spy_slot_info(struct cf_spy_out *o, const char *name,
		      const CK_SLOT_INFO *i)
{
	cf_spy_printf(o, "  %s:\n", name);
	FIXED(o, i, slotDescription);
	FIXED(o, i, manufacturerID);
	cf_spy_flags(o, "  flags", i->flags, CF_SPY_F_SLOT);
	version(o, "hardwareVersion", i->hardwareVersion);
	version(o, "firmwareVersion", i->firmwareVersion);
}

void cf_spy_token_info(struct cf_spy_out *o, const char *name,
		       const CK_TOKEN_INFO *i)
{
	cf_spy_printf(o, "  %s:\n", name);
	FIXED(o, i, label);
	FIXED(o, i, manufacturerID);
	FIXED(o, i, model);
	FIXED(o, i, serialNumber);
	cf_spy_flags(o, "  flags", i->flags, CF_SPY_F_TOKEN);
	cf_spy_ulong(o, "  ulMaxSessionCount", i->ulMaxSessionCount,
		     CF_SPY_LENGTH);
	cf_spy_ulong(o, "  ulSessionCount", i->ulSessionCount, CF_SPY_LENGTH);
	cf_spy_ulong(o, "  ulMaxRwSessionCount", i->ulMaxRwSessionCount,
		     CF_SPY_LENGTH);
	cf_spy_ulong(o, "  ulRwSessionCount", i->ulRwSessionCount,
		     CF_SPY_LENGTH);
	cf_spy_ulong(o, "  ulMaxPinLen", i->ulMaxPinLen, CF_SPY_LENGTH);
	cf_spy_ulong(o, "  ulMinPinLen", i->ulMinPinLen, CF_SPY_LENGTH);
	cf_spy_ulong(o, "  ulTotalPublicMemory", i->ulTotalPublicMemory,
		     CF_SPY_LENGTH);
	cf_spy_ulong(o, "  ulFreePublicMemory", i->ulFreePublicMemory,
		     CF_SPY_LENGTH);
	cf_spy_ulong(o, "  ulTotalPrivateMemory", i->ulTotalPrivateMemory,
		     CF_SPY_LENGTH);
	cf_spy_ulong(o, "  ulFreePrivateMemory", i->ulFreePrivateMemory,
		     CF_SPY_LENGTH);
	version(o, "hardwareVersion", i->hardwareVersion);
	version(o, "firmwareVersion", i->firmwareVersion);
	FIXED(o, i, utcTime);
}

void cf_spy_session_info(struct cf_spy_out *o, const char *name,
			 const CK_SESSION_INFO *i)
{
	cf_spy_printf(o, "  %s:\n", name);
	cf_spy_ulong(o, "  slotID", i->slotID, CF_SPY_NUMBER);
	cf_spy_ulong(o, "  state", i->state, CF_SPY_STATE);
	cf_spy_flags(o, "  flags", i->flags, CF_SPY_F_SESSION);
	cf_spy_ulong(o, "  ulDeviceError", i->ulDeviceError, CF_SPY_NUMBER);
}

void cf_spy_mech_info(struct cf_spy_out *o, const char *name,
		      const CK_MECHANISM_INFO *i)
{
	cf_spy_printf(o, "  %s:\n", name);
	cf_spy_ulong(o, "  ulMinKeySize", i->ulMinKeySize, CF_SPY_NUMBER);
	cf_spy_ulong(o, "  ulMaxKeySize", i->ulMaxKeySize, CF_SPY_NUMBER);
	cf_spy_flags(o, "  flags", i->flags, CF_SPY_F_MECH);
}

void cf_spy_ulongs(struct cf_spy_out *o, const char *name, const CK_ULONG *v,
		   CK_ULONG n, enum cf_spy_role role)
{
	cf_spy_printf(o, "  %s = [", name);
	for (CK_ULONG i = 0; v != NULL && i < n; i++) {
		cf_spy_printf(o, "%s", i ? ", " : "");
		ulong_value(o, v[i], role);
	}
	cf_spy_printf(o, "] (%lu)\n", (unsigned long)n);
}

void cf_spy_init_args(struct cf_spy_out *o, const char *name,
		      const CK_C_INITIALIZE_ARGS *a)
{
	if (a == NULL) {
		cf_spy_printf(o, "  %s = NULL\n", name);
		return;
	}
	cf_spy_printf(o, "  %s:\n", name);
	cf_spy_printf(o, "    CreateMutex = %s\n",
		      a->CreateMutex ? "set" : "NULL");
	cf_spy_printf(o, "    DestroyMutex = %s\n",
		      a->DestroyMutex ? "set" : "NULL");
	cf_spy_printf(o, "    LockMutex = %s\n", a->LockMutex ? "set" : "NULL");
	cf_spy_printf(o, "    UnlockMutex = %s\n",
		      a->UnlockMutex ? "set" : "NULL");
	cf_spy_flags(o, "  flags", a->flags, CF_SPY_F_INIT);
	cf_spy_pointer(o, "  pReserved", a->pReserved);
}

void cf_spy_outbuf(struct cf_spy_out *o, const char *name, const void *p,
		   const CK_ULONG *len, CK_RV rv, bool secret)
{
	if (len == NULL) {
		cf_spy_printf(o, "  %s = (no length pointer)\n", name);
		return;
	}
	if (rv == CKR_OK && p != NULL) {
		cf_spy_bytes(o, name, p, *len, secret);
		return;
	}
	cf_spy_printf(o, "  %s = %s, length %lu\n", name,
		      p == NULL ? "NULL (length query)" : "too small",
		      (unsigned long)*len);
}
