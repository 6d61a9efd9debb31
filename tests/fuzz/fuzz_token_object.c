/*
 * fuzz_token_object.c - the token's decoder of stored object records
 * (token/object.c, cf_object_decode). The token's store is a file on disk
 * and a record's checksum is a plain SHA-256 (token_objects.c), so a
 * tampered record with a fixed-up checksum reaches this decoder: it must
 * refuse a malformed one (CKR_DEVICE_ERROR), never crash or leak. The
 * input is one attribute block of a record, as record_parse hands it on.
 *
 * Whatever the decoder accepted (on failure too: the object keeps what
 * was read before the bad entry, and is then freed) then goes where a
 * loaded object goes: C_GetAttributeValue's export of every attribute
 * (attribute arrays in the spec's three steps), C_FindObjects matching
 * against its own values, re-encoding for the store (and decoding that
 * again), a copy, and the size. Secrets live in a pool that LeakSanitizer
 * cannot see into, so the pool's slot count must be back where it was.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/secmem.h"
#include "pkcs11/schema.h"
#include "token/object.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Frees an export made by export_attr. */
static void export_free(CK_ATTRIBUTE *e, bool array)
{
	if (array && e->pValue != NULL) {
		CK_ATTRIBUTE *arr = e->pValue;
		size_t n = e->ulValueLen / sizeof(CK_ATTRIBUTE);

		for (size_t i = 0; i < n; i++)
			free(arr[i].pValue);
	}
	free(e->pValue);
	memset(e, 0, sizeof(*e));
}

/* C_GetAttributeValue of one attribute as an application does it: the
 * length, then the value; for an array, each entry's length, then each
 * entry. On a failure e is left with what was filled, freeable. */
static void export_attr(const struct cf_attr *a, CK_ATTRIBUTE *e)
{
	bool array = cf_p11_attr_kind(a->type) == CF_ATTR_ATTRS;
	CK_ATTRIBUTE *arr;
	size_t n;

	memset(e, 0, sizeof(*e));
	e->type = a->type;
	if (cf_attr_export(a, e) != CKR_OK ||
	    e->ulValueLen == CK_UNAVAILABLE_INFORMATION)
		goto out_empty;
	/* calloc: an array's entries start with pValue NULL */
	e->pValue = calloc(1, e->ulValueLen + 1);
	if (e->pValue == NULL)
		goto out_empty;
	if (cf_attr_export(a, e) != CKR_OK || !array)
		return;
	arr = e->pValue;
	n = e->ulValueLen / sizeof(CK_ATTRIBUTE);
	for (size_t i = 0; i < n; i++) {
		if (arr[i].ulValueLen == CK_UNAVAILABLE_INFORMATION) {
			arr[i].ulValueLen = 0;
			continue;
		}
		arr[i].pValue = malloc(arr[i].ulValueLen + 1);
		if (arr[i].pValue == NULL)
			arr[i].ulValueLen = 0;
	}
	(void)cf_attr_export(a, e);
	return;
out_empty:
	free(e->pValue);
	e->pValue = NULL;
	e->ulValueLen = 0;
}

static void reencode(const struct cf_object *o, bool want_secret)
{
	struct cf_wbuf w;
	struct cf_object *again;

	cf_wbuf_init(&w, SIZE_MAX, want_secret);
	if (cf_object_encode(o, want_secret, &w) == CKR_OK) {
		again = cf_object_new();
		if (again != NULL)
			(void)cf_object_decode(again, w.data, w.len);
		cf_object_unref(again);
	}
	cf_wbuf_clear(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cf_secmem_stats before, after;
	struct cf_object *o, *copy = NULL;
	CK_ATTRIBUTE *tmpl = NULL;
	size_t n = 0;

	cf_secmem_stats(&before);
	o = cf_object_new();
	if (o == NULL)
		return 0;
	(void)cf_object_decode(o, data, size);

	tmpl = calloc(o->n + 1, sizeof(*tmpl));
	if (tmpl != NULL) {
		n = o->n;
		for (size_t i = 0; i < n; i++)
			export_attr(&o->attrs[i], &tmpl[i]);
		(void)cf_object_match(o, tmpl, (CK_ULONG)n);
		for (size_t i = 0; i < n; i++)
			export_free(&tmpl[i], cf_p11_attr_kind(o->attrs[i].type) ==
						      CF_ATTR_ATTRS);
		free(tmpl);
	}
	reencode(o, false);
	reencode(o, true);
	if (cf_object_dup(o, &copy) == CKR_OK)
		cf_object_unref(copy);
	(void)cf_object_size(o);
	cf_object_unref(o);

	cf_secmem_stats(&after);
	if (after.slots_in_use != before.slots_in_use)
		abort(); /* a secret neither freed nor visible to LSan */
	return 0;
}
