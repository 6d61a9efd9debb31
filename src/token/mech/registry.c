/* registry.c - the mechanism table (see mech.h). */
#include "token/mech/mech.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const struct cf_mech_family *const families[] = {
    &cf_mechs_rsa,    &cf_mechs_ec,	 &cf_mechs_eddsa, &cf_mechs_montgomery,
    &cf_mechs_aes,    &cf_mechs_chacha,	 &cf_mechs_des3,  &cf_mechs_digest,
    &cf_mechs_hmac,   &cf_mechs_kdf,	 &cf_mechs_wrap,
};
#define NFAMILIES (sizeof(families) / sizeof(families[0]))

/* Every row, sorted by type once, so a lookup is a binary search. */
static const struct cf_mech **sorted;
static size_t nsorted;
static pthread_once_t sorted_once = PTHREAD_ONCE_INIT;

static int by_type(const void *a, const void *b)
{
	const struct cf_mech *x = *(const struct cf_mech *const *)a;
	const struct cf_mech *y = *(const struct cf_mech *const *)b;
	return x->type < y->type ? -1 : x->type > y->type;
}

static void sort_rows(void)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < NFAMILIES; i++)
		n += families[i]->n;
	sorted = calloc(n ? n : 1, sizeof(*sorted));
	if (sorted == NULL)
		return; /* lookups then find nothing: CKR_MECHANISM_INVALID */
	for (size_t i = 0; i < NFAMILIES; i++)
		for (size_t j = 0; j < families[i]->n; j++)
			sorted[k++] = &families[i]->rows[j];
	qsort(sorted, n, sizeof(*sorted), by_type);
	nsorted = n;
}

static void ready(void)
{
	pthread_once(&sorted_once, sort_rows);
}

const struct cf_mech *cf_mech_find(CK_MECHANISM_TYPE t, bool legacy_ok)
{
	size_t lo = 0, hi;

	ready();
	hi = nsorted;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sorted[mid]->type < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == nsorted || sorted[lo]->type != t)
		return NULL;
	if (sorted[lo]->legacy && !legacy_ok)
		return NULL;
	return sorted[lo];
}

bool cf_mech_list(bool legacy_ok, CK_MECHANISM_TYPE *list, CK_ULONG *n)
{
	CK_ULONG cap = *n, k = 0;

	ready();
	for (size_t i = 0; i < nsorted; i++) {
		if (sorted[i]->legacy && !legacy_ok)
			continue;
		if (list != NULL && k < cap)
			list[k] = sorted[i]->type;
		k++;
	}
	*n = k;
	return list == NULL || k <= cap;
}

bool cf_mech_accepts(const struct cf_mech *mech, CK_KEY_TYPE kt)
{
	for (size_t i = 0; i < sizeof(mech->key_types) / sizeof(mech->key_types[0]);
	     i++) {
		if (mech->key_types[i] == CF_MECH_KEY_TYPES_END)
			return false;
		if (mech->key_types[i] == kt)
			return true;
	}
	return false;
}

const struct cf_keytype *cf_keytype_find(CK_KEY_TYPE kt)
{
	static const struct cf_keytype *const all[] = {
	    &cf_keytype_rsa, &cf_keytype_ec, &cf_keytype_edwards,
	    &cf_keytype_montgomery};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i]->type == kt && all[i]->load != NULL)
			return all[i];
	return NULL;
}

CK_RV cf_out_check(const uint8_t *out, CK_ULONG *outl, size_t needed,
		   bool *go)
{
	*go = false;
	if (out == NULL) {
		*outl = (CK_ULONG)needed;
		return CKR_OK;
	}
	if (*outl < needed) {
		*outl = (CK_ULONG)needed;
		return CKR_BUFFER_TOO_SMALL;
	}
	*go = true;
	return CKR_OK;
}
