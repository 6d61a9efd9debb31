/*
 * cmd_objects.c - coffer objects: each object's class, type, label, id,
 * size, usage flags and URI, as text or JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

#include "cli/cli.h"
#include "pkcs11/schema.h"

static const struct {
	CK_ATTRIBUTE_TYPE t;
	const char *name;
} usages[] = {
    {CKA_SIGN, "sign"},
    {CKA_VERIFY, "verify"},
    {CKA_ENCRYPT, "encrypt"},
    {CKA_DECRYPT, "decrypt"},
    {CKA_WRAP, "wrap"},
    {CKA_UNWRAP, "unwrap"},
    {CKA_DERIVE, "derive"},
    {CKA_PRIVATE, "private"},
    {CKA_SENSITIVE, "sensitive"},
    {CKA_EXTRACTABLE, "extractable"},
    {CKA_ALWAYS_AUTHENTICATE, "always-auth"},
};

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static const char *class_str(CK_ULONG cls)
{
	switch (cls) {
	case CKO_PRIVATE_KEY:
		return "private-key";
	case CKO_PUBLIC_KEY:
		return "public-key";
	case CKO_SECRET_KEY:
		return "secret-key";
	case CKO_CERTIFICATE:
		return "certificate";
	case CKO_DATA:
		return "data";
	default:
		return "other";
	}
}

/* Size: RSA bits, the curve, secret key bits or the certificate subject. */
static void size_str(struct cli *c, CK_OBJECT_HANDLE h, CK_ULONG cls,
		     CK_ULONG kt, char *buf, size_t len)
{
	uint8_t *v = NULL;
	size_t vl;
	CK_ULONG ul;

	buf[0] = '\0';
	if (cls == CKO_CERTIFICATE) {
		if (cli_attr_get(c, h, CKA_SUBJECT, &v, &vl)) {
			const unsigned char *p = v;
			X509_NAME *nm = d2i_X509_NAME(NULL, &p, (long)vl);

			if (nm != NULL)
				X509_NAME_oneline(nm, buf, (int)len);
			X509_NAME_free(nm);
		}
	} else if (kt == CKK_RSA) {
		if (cli_attr_ulong(c, h, CKA_MODULUS_BITS, &ul))
			snprintf(buf, len, "%lu bits", (unsigned long)ul);
		else if (cli_attr_get(c, h, CKA_MODULUS, &v, &vl))
			snprintf(buf, len, "%zu bits", vl * 8);
	} else if (kt == CKK_EC || kt == CKK_EC_EDWARDS ||
		   kt == CKK_EC_MONTGOMERY) {
		if (cli_attr_get(c, h, CKA_EC_PARAMS, &v, &vl)) {
			const unsigned char *p = v;
			ASN1_OBJECT *o = d2i_ASN1_OBJECT(NULL, &p, (long)vl);

			if (o != NULL)
				snprintf(buf, len, "%s",
					 OBJ_nid2sn(OBJ_obj2nid(o)));
			ASN1_OBJECT_free(o);
		}
	} else if (cls == CKO_SECRET_KEY) {
		if (cli_attr_ulong(c, h, CKA_VALUE_LEN, &ul))
			snprintf(buf, len, "%lu bits", (unsigned long)ul * 8);
	}
	free(v);
}

int cmd_objects(struct cli *c)
{
	const char *uri = c->o.argc > 0 ? c->o.argv[0] : NULL;
	CK_OBJECT_HANDLE *h = NULL;
	size_t n = 0;
	bool login = c->o.login || c->o.pin || c->o.pin_source;

	if (c->o.argc > 1) {
		cli_err("objects [URI]: one URI at most");
		return 1;
	}
	if (cli_token_for_object(c, uri) != 0 || cli_session_open(c) != 0)
		return 1;
	if (login && cli_login(c, CKU_USER) != 0)
		return 1;
	if (cli_find(c, uri, (CK_OBJECT_CLASS)-1, &h, &n) != 0)
		return 1;
	if (c->o.json)
		printf("[");
	for (size_t i = 0; i < n; i++) {
		CK_ULONG cls = (CK_ULONG)-1, kt = (CK_ULONG)-1;
		uint8_t *label = NULL, *id = NULL;
		size_t ll = 0, il = 0;
		char size[256], *ouri;
		const char *type = "";
		bool first = true;

		cli_attr_ulong(c, h[i], CKA_CLASS, &cls);
		if (cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY ||
		    cls == CKO_SECRET_KEY) {
			cli_attr_ulong(c, h[i], CKA_KEY_TYPE, &kt);
			type = cf_p11_key_type_name(kt);
		} else if (cls == CKO_CERTIFICATE) {
			CK_ULONG ct;

			if (cli_attr_ulong(c, h[i], CKA_CERTIFICATE_TYPE, &ct))
				type = cf_p11_cert_type_name(ct);
		}
		if (type == NULL)
			type = "";
		if (strncmp(type, "CKK_", 4) == 0 ||
		    strncmp(type, "CKC_", 4) == 0)
			type += 4;
		cli_attr_get(c, h[i], CKA_LABEL, &label, &ll);
		cli_attr_get(c, h[i], CKA_ID, &id, &il);
		size_str(c, h[i], cls, kt, size, sizeof(size));
		ouri = cli_object_uri(c, h[i]);
		if (c->o.json) {
			printf("%s\n  {\"class\": \"%s\", \"type\": ",
			       i ? "," : "", class_str(cls));
			json_str(type);
			printf(", \"label\": ");
			json_str(label ? (char *)label : "");
			printf(", \"id\": \"");
			cli_hex_print(stdout, id, il);
			printf("\", \"size\": ");
			json_str(size);
			printf(", \"flags\": [");
		} else {
			printf("%s %s\n  label: %s\n  id:    ", class_str(cls),
			       type, label ? (char *)label : "");
			cli_hex_print(stdout, id, il);
			printf("\n");
			if (size[0] != '\0')
				printf("  %s %s\n",
				       cls == CKO_CERTIFICATE ? "subject:"
							      : "size: ",
				       size);
			printf("  flags: ");
		}
		for (size_t u = 0; u < sizeof(usages) / sizeof(usages[0]);
		     u++) {
			bool v;

			if (cli_attr_bool(c, h[i], usages[u].t, &v) && v) {
				printf(c->o.json ? "%s\"%s\"" : "%s%s",
				       first ? "" : ",", usages[u].name);
				first = false;
			}
		}
		if (c->o.json) {
			printf("], \"uri\": ");
			json_str(ouri ? ouri : "");
			printf("}");
		} else {
			printf("\n  uri:   %s\n", ouri ? ouri : "");
		}
		free(ouri);
		free(label);
		free(id);
	}
	if (c->o.json)
		printf("%s]\n", n ? "\n" : "");
	free(h);
	return 0;
}
