/*
 * attr.c - reading single attributes of an object.
 */
#include <stdlib.h>

#include "cli/cli.h"

bool cli_attr_get(struct cli *c, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t,
		  uint8_t **val, size_t *len)
{
	CK_ATTRIBUTE a = {t, NULL, 0};
	uint8_t *p;

	*val = NULL;
	*len = 0;
	if (c->f->C_GetAttributeValue(c->sess, h, &a, 1) != CKR_OK ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
	    a.ulValueLen > (1u << 24))
		return false;
	p = malloc(a.ulValueLen + 1);
	if (p == NULL)
		return false;
	a.pValue = p;
	if (c->f->C_GetAttributeValue(c->sess, h, &a, 1) != CKR_OK) {
		free(p);
		return false;
	}
	p[a.ulValueLen] = '\0';
	*val = p;
	*len = a.ulValueLen;
	return true;
}

bool cli_attr_ulong(struct cli *c, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t,
		    CK_ULONG *v)
{
	CK_ATTRIBUTE a = {t, v, sizeof(*v)};

	return c->f->C_GetAttributeValue(c->sess, h, &a, 1) == CKR_OK &&
	       a.ulValueLen == sizeof(*v);
}

bool cli_attr_bool(struct cli *c, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t,
		   bool *v)
{
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE a = {t, &b, sizeof(b)};

	*v = false;
	if (c->f->C_GetAttributeValue(c->sess, h, &a, 1) != CKR_OK ||
	    a.ulValueLen != 1)
		return false;
	*v = b == CK_TRUE;
	return true;
}
