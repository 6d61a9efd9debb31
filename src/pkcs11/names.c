/*
 * names.c - symbolic names of PKCS#11 values (see schema.h).
 *
 * The tables come from gen_names.py, generated at build time from the very
 * headers coffer compiles against, sorted by value (canonical names only:
 * where two names share a value the v3.0 one is reported) and by name
 * (aliases included, so old names still parse). Lookups are bsearch over
 * constant data: thread-safe, no allocation.
 */
#include "pkcs11/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkcs11/names_table.h"

static int cmp_value(const void *key, const void *elem)
{
	CK_ULONG v = *(const CK_ULONG *)key;
	const struct cf_p11_name *e = elem;

	if (v < e->value)
		return -1;
	return v > e->value ? 1 : 0;
}

static int cmp_name(const void *key, const void *elem)
{
	const struct cf_p11_name *e = elem;

	return strcmp(key, e->name);
}

static const char *by_value(const struct cf_p11_name *tab, size_t n, CK_ULONG v)
{
	const struct cf_p11_name *e;

	e = bsearch(&v, tab, n, sizeof(*tab), cmp_value);
	return e != NULL ? e->name : NULL;
}

static bool by_name(const struct cf_p11_name *tab, size_t n, const char *name,
		    CK_ULONG *out)
{
	const struct cf_p11_name *e;

	*out = CK_UNAVAILABLE_INFORMATION;
	if (name == NULL)
		return false;
	e = bsearch(name, tab, n, sizeof(*tab), cmp_name);
	if (e == NULL)
		return false;
	*out = e->value;
	return true;
}

const char *cf_p11_rv_name(CK_RV rv)
{
	return by_value(cf_p11_ckr_by_value, cf_p11_ckr_by_value_len, rv);
}

const char *cf_p11_attr_name(CK_ATTRIBUTE_TYPE type)
{
	return by_value(cf_p11_cka_by_value, cf_p11_cka_by_value_len, type);
}

const char *cf_p11_mech_name(CK_MECHANISM_TYPE mech)
{
	return by_value(cf_p11_ckm_by_value, cf_p11_ckm_by_value_len, mech);
}

const char *cf_p11_class_name(CK_OBJECT_CLASS cls)
{
	return by_value(cf_p11_cko_by_value, cf_p11_cko_by_value_len, cls);
}

const char *cf_p11_key_type_name(CK_KEY_TYPE kt)
{
	return by_value(cf_p11_ckk_by_value, cf_p11_ckk_by_value_len, kt);
}

const char *cf_p11_cert_type_name(CK_CERTIFICATE_TYPE ct)
{
	return by_value(cf_p11_ckc_by_value, cf_p11_ckc_by_value_len, ct);
}

const char *cf_p11_user_type_name(CK_USER_TYPE ut)
{
	return by_value(cf_p11_cku_by_value, cf_p11_cku_by_value_len, ut);
}

bool cf_p11_attr_by_name(const char *name, CK_ATTRIBUTE_TYPE *out)
{
	return by_name(cf_p11_cka_by_name, cf_p11_cka_by_name_len, name, out);
}

bool cf_p11_mech_by_name(const char *name, CK_MECHANISM_TYPE *out)
{
	return by_name(cf_p11_ckm_by_name, cf_p11_ckm_by_name_len, name, out);
}

const char *cf_p11_rv_str(CK_RV rv, char *buf, size_t len)
{
	const char *name = cf_p11_rv_name(rv);

	if (name != NULL)
		return name;
	/* Never NULL, even when the caller gave no room to format into. */
	if (buf == NULL || len == 0)
		return "?";
	snprintf(buf, len, "0x%lx", (unsigned long)rv);
	return buf;
}
