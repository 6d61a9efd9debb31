/*
 * select.c - choosing a token and objects by PKCS#11 URI (RFC 7512),
 * parsed, matched and formatted by p11-kit's URI API.
 */
#include <stdlib.h>
#include <string.h>

#include <p11-kit/uri.h>

#include "cli/cli.h"

struct slot_tok {
	CK_SLOT_ID id;
	CK_TOKEN_INFO ti;
};

static int list_tokens(struct cli *c, struct slot_tok **out, size_t *n)
{
	CK_SLOT_ID *ids = NULL;
	CK_ULONG count = 0;
	struct slot_tok *st = NULL;
	size_t k = 0;
	CK_RV rv;

	*out = NULL;
	*n = 0;
	rv = c->f->C_GetSlotList(CK_TRUE, NULL, &count);
	if (rv != CKR_OK) {
		cli_rv_err("C_GetSlotList", rv);
		return -1;
	}
	ids = calloc(count + 1, sizeof(*ids));
	st = calloc(count + 1, sizeof(*st));
	if (ids == NULL || st == NULL)
		goto out_free;
	rv = c->f->C_GetSlotList(CK_TRUE, ids, &count);
	if (rv != CKR_OK) {
		cli_rv_err("C_GetSlotList", rv);
		goto out_free;
	}
	for (CK_ULONG i = 0; i < count; i++) {
		st[k].id = ids[i];
		if (c->f->C_GetTokenInfo(ids[i], &st[k].ti) == CKR_OK)
			k++;
	}
	free(ids);
	*out = st;
	*n = k;
	return 0;
out_free:
	free(ids);
	free(st);
	return -1;
}

static void token_names(const struct slot_tok *st, size_t n, char *buf,
			size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off + 1 < len; i++) {
		char label[33];

		if (!(st[i].ti.flags & CKF_TOKEN_INITIALIZED))
			continue;
		cli_unpad(label, sizeof(label), st[i].ti.label, 32);
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					off ? ", " : "", label);
	}
	if (off >= len)
		buf[len - 1] = '\0';
	if (buf[0] == '\0')
		snprintf(buf, len, "none initialized");
}

int cli_token_select(struct cli *c, const char *sel, bool uninit)
{
	P11KitUri *uri = NULL;
	struct slot_tok *st = NULL;
	size_t n = 0, hits = 0, pick = 0;
	CK_SLOT_ID want_slot = (CK_SLOT_ID)-1;
	char names[512];
	int rc = -1;

	if (cli_module_open(c) != 0)
		return -1;
	if (sel != NULL && strncmp(sel, "pkcs11:", 7) == 0) {
		int r;

		uri = p11_kit_uri_new();
		if (uri == NULL)
			return -1;
		r = p11_kit_uri_parse(sel, P11_KIT_URI_FOR_ANY, uri);
		if (r != P11_KIT_URI_OK) {
			cli_err("bad PKCS#11 URI '%s': %s", sel,
				p11_kit_uri_message(r));
			goto out_free;
		}
		want_slot = p11_kit_uri_get_slot_id(uri);
	}
	if (list_tokens(c, &st, &n) != 0)
		goto out_free;
	for (size_t i = 0; i < n; i++) {
		bool init = st[i].ti.flags & CKF_TOKEN_INITIALIZED;
		bool match;

		if (uri != NULL) {
			match = p11_kit_uri_match_token_info(uri, &st[i].ti);
			if (want_slot != (CK_SLOT_ID)-1)
				match = match && st[i].id == want_slot;
			/* A URI naming no token part matches every token:
			 * only initialized ones are meant then. */
			match = match && (init || uninit);
		} else if (sel != NULL) {
			char label[33];

			cli_unpad(label, sizeof(label), st[i].ti.label, 32);
			match = init && strcmp(label, sel) == 0;
		} else {
			match = init != uninit;
		}
		if (match) {
			if (hits == 0)
				pick = i;
			hits++;
		}
	}
	token_names(st, n, names, sizeof(names));
	if (hits == 0) {
		if (sel != NULL)
			cli_err("token '%s' not found (tokens: %s)", sel,
				names);
		else if (uninit)
			cli_err("no uninitialized token left; choose one "
				"with --token or --slot (tokens: %s)",
				names);
		else
			cli_err("no initialized token (run coffer "
				"init-token first)");
		goto out_free;
	}
	if (hits > 1 && !uninit) {
		cli_err("%zu tokens match%s%s; choose one with --token "
			"(tokens: %s)",
			hits, sel ? " " : "", sel ? sel : "", names);
		goto out_free;
	}
	c->slot = st[pick].id;
	c->tinfo = st[pick].ti;
	c->have_token = true;
	rc = 0;
out_free:
	free(st);
	if (uri != NULL)
		p11_kit_uri_free(uri);
	return rc;
}

int cli_token_for_object(struct cli *c, const char *uri)
{
	if (c->o.token != NULL)
		return cli_token_select(c, c->o.token, false);
	return cli_token_select(c, uri, false);
}

int cli_session_open(struct cli *c)
{
	CK_RV rv;

	if (c->have_session)
		return 0;
	rv = c->f->C_OpenSession(c->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
				 NULL, NULL, &c->sess);
	if (rv != CKR_OK) {
		cli_rv_err("C_OpenSession", rv);
		return -1;
	}
	c->have_session = true;
	return 0;
}

static const char *class_word(CK_OBJECT_CLASS cls)
{
	switch (cls) {
	case CKO_PRIVATE_KEY:
		return "private";
	case CKO_PUBLIC_KEY:
		return "public";
	case CKO_SECRET_KEY:
		return "secret-key";
	case CKO_CERTIFICATE:
		return "cert";
	case CKO_DATA:
		return "data";
	default:
		return "other";
	}
}

int cli_find(struct cli *c, const char *uristr, CK_OBJECT_CLASS cls,
	     CK_OBJECT_HANDLE **h, size_t *n)
{
	P11KitUri *uri = NULL;
	CK_ATTRIBUTE *tmpl = NULL, *all;
	CK_ULONG count = 0, got = 0;
	CK_OBJECT_HANDLE *out = NULL;
	size_t cap = 0, k = 0;
	int rc = -1;
	CK_RV rv;

	*h = NULL;
	*n = 0;
	uri = p11_kit_uri_new();
	if (uri == NULL)
		return -1;
	if (uristr != NULL) {
		int r = p11_kit_uri_parse(uristr, P11_KIT_URI_FOR_ANY, uri);

		if (r != P11_KIT_URI_OK) {
			cli_err("bad PKCS#11 URI '%s': %s", uristr,
				p11_kit_uri_message(r));
			goto out_free;
		}
	}
	if (cls != (CK_OBJECT_CLASS)-1 &&
	    p11_kit_uri_get_attribute(uri, CKA_CLASS) == NULL) {
		CK_ATTRIBUTE a = {CKA_CLASS, &cls, sizeof(cls)};

		p11_kit_uri_set_attribute(uri, &a);
	}
	all = p11_kit_uri_get_attributes(uri, &count);
	tmpl = count ? all : NULL;
	rv = c->f->C_FindObjectsInit(c->sess, tmpl, count);
	if (rv != CKR_OK) {
		cli_rv_err("C_FindObjectsInit", rv);
		goto out_free;
	}
	for (;;) {
		if (k == cap) {
			CK_OBJECT_HANDLE *nb;

			cap = cap ? cap * 2 : 64;
			nb = realloc(out, cap * sizeof(*out));
			if (nb == NULL)
				break;
			out = nb;
		}
		rv = c->f->C_FindObjects(c->sess, out + k, (CK_ULONG)(cap - k),
					 &got);
		if (rv != CKR_OK) {
			cli_rv_err("C_FindObjects", rv);
			break;
		}
		if (got == 0) {
			rc = 0;
			break;
		}
		k += got;
	}
	c->f->C_FindObjectsFinal(c->sess);
	if (rc == 0) {
		*h = out;
		*n = k;
		out = NULL;
	}
out_free:
	free(out);
	p11_kit_uri_free(uri);
	return rc;
}

int cli_find_one(struct cli *c, const char *uri, CK_OBJECT_CLASS cls,
		 CK_OBJECT_HANDLE *h)
{
	CK_OBJECT_HANDLE *all = NULL;
	size_t n = 0;

	if (cli_find(c, uri, cls, &all, &n) != 0)
		return -1;
	if (n == 1) {
		*h = all[0];
		free(all);
		return 0;
	}
	free(all);
	if (n == 0 && cls != (CK_OBJECT_CLASS)-1) {
		CK_OBJECT_HANDLE *other = NULL;
		size_t m = 0;
		CK_ULONG oc = 0;

		/* Say what the URI does name, when it names something. */
		if (cli_find(c, uri, (CK_OBJECT_CLASS)-1, &other, &m) == 0 &&
		    m > 0 && cli_attr_ulong(c, other[0], CKA_CLASS, &oc) &&
		    oc != cls)
			cli_err("%s names a %s object, not a %s one", uri,
				class_word(oc), class_word(cls));
		else
			cli_err("no %s object matches %s", class_word(cls),
				uri ? uri : "(all)");
		free(other);
	} else if (n == 0) {
		cli_err("no object matches %s", uri ? uri : "(all)");
	} else {
		cli_err("%zu objects match %s; add id= or type=", n,
			uri ? uri : "(all)");
	}
	return -1;
}

char *cli_token_uri(const CK_TOKEN_INFO *ti)
{
	P11KitUri *uri = p11_kit_uri_new();
	char *s = NULL;

	if (uri == NULL)
		return NULL;
	*p11_kit_uri_get_token_info(uri) = *ti;
	if (p11_kit_uri_format(uri, P11_KIT_URI_FOR_TOKEN, &s) !=
	    P11_KIT_URI_OK)
		s = NULL;
	p11_kit_uri_free(uri);
	return s;
}

char *cli_object_uri(struct cli *c, CK_OBJECT_HANDLE h)
{
	static const CK_ATTRIBUTE_TYPE types[] = {CKA_CLASS, CKA_ID, CKA_LABEL};
	P11KitUri *uri = p11_kit_uri_new();
	char *s = NULL;

	if (uri == NULL)
		return NULL;
	*p11_kit_uri_get_token_info(uri) = c->tinfo;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		uint8_t *v;
		size_t len;

		if (cli_attr_get(c, h, types[i], &v, &len)) {
			CK_ATTRIBUTE a = {types[i], v, (CK_ULONG)len};

			p11_kit_uri_set_attribute(uri, &a);
			free(v);
		}
	}
	if (p11_kit_uri_format(uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, &s) !=
	    P11_KIT_URI_OK)
		s = NULL;
	p11_kit_uri_free(uri);
	return s;
}
