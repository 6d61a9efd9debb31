/*
 * create.c - objects made on the token by a command, undone together when
 * a later step fails so that nothing half-made is left behind.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cli_create(struct cli *c, struct cli_created *cr, CK_ATTRIBUTE *t,
	       CK_ULONG n, CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_HANDLE h;
	CK_RV rv;

	if (cr->n == sizeof(cr->h) / sizeof(cr->h[0])) {
		cli_err("too many objects in one import");
		return -1;
	}
	rv = c->f->C_CreateObject(c->sess, t, n, &h);
	if (rv != CKR_OK) {
		cli_rv_err("C_CreateObject", rv);
		return -1;
	}
	cr->h[cr->n++] = h;
	if (out != NULL)
		*out = h;
	return 0;
}

void cli_created_undo(struct cli *c, struct cli_created *cr)
{
	while (cr->n > 0) {
		CK_RV rv = c->f->C_DestroyObject(c->sess, cr->h[--cr->n]);

		if (rv != CKR_OK)
			cli_rv_err("removing a half-made object", rv);
	}
}

int cli_store_cert(struct cli *c, struct cli_created *cr, X509 *x,
		   const uint8_t *id, size_t idlen, const char *label)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	unsigned char *der = NULL, *subj = NULL, *iss = NULL, *ser = NULL;
	int dl, sl, il, nl;
	int rc = -1;

	dl = i2d_X509(x, &der);
	sl = i2d_X509_NAME(X509_get_subject_name(x), &subj);
	il = i2d_X509_NAME(X509_get_issuer_name(x), &iss);
	nl = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &ser);
	if (dl <= 0 || sl <= 0 || il <= 0 || nl <= 0) {
		cli_err("cannot encode the certificate: %s", cli_ossl_err());
		goto out_free;
	}
	{
		CK_ATTRIBUTE t[] = {
		    {CKA_CLASS, &cls, sizeof(cls)},
		    {CKA_CERTIFICATE_TYPE, &ct, sizeof(ct)},
		    {CKA_TOKEN, &yes, 1},
		    {CKA_PRIVATE, &no, 1},
		    {CKA_VALUE, der, (CK_ULONG)dl},
		    {CKA_SUBJECT, subj, (CK_ULONG)sl},
		    {CKA_ISSUER, iss, (CK_ULONG)il},
		    {CKA_SERIAL_NUMBER, ser, (CK_ULONG)nl},
		    {CKA_ID, (void *)id, (CK_ULONG)idlen},
		    {CKA_LABEL, (void *)label,
		     label ? (CK_ULONG)strlen(label) : 0},
		};
		CK_ULONG n = sizeof(t) / sizeof(t[0]);

		if (label == NULL)
			n--;
		rc = cli_create(c, cr, t, n, NULL);
	}
out_free:
	OPENSSL_free(der);
	OPENSSL_free(subj);
	OPENSSL_free(iss);
	OPENSSL_free(ser);
	return rc;
}

bool cli_find_key_for(struct cli *c, EVP_PKEY *pub, uint8_t **id, size_t *idlen,
		      char **label)
{
	static const CK_OBJECT_CLASS classes[] = {CKO_PRIVATE_KEY,
						  CKO_PUBLIC_KEY};
	bool found = false;

	*id = NULL;
	*idlen = 0;
	*label = NULL;
	for (size_t k = 0; k < 2 && !found; k++) {
		CK_OBJECT_HANDLE *h = NULL;
		size_t n = 0;

		if (cli_find(c, NULL, classes[k], &h, &n) != 0)
			continue;
		for (size_t i = 0; i < n && !found; i++) {
			EVP_PKEY *pk = cli_pubkey_of(c, h[i]);
			size_t ll;

			if (pk != NULL && EVP_PKEY_eq(pk, pub) == 1 &&
			    cli_attr_get(c, h[i], CKA_ID, id, idlen)) {
				found = true;
				if (!cli_attr_get(c, h[i], CKA_LABEL,
						  (uint8_t **)label, &ll))
					*label = NULL;
			}
			EVP_PKEY_free(pk);
		}
		free(h);
	}
	return found;
}
