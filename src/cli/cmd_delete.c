/*
 * cmd_delete.c - coffer delete URI: one object, or with --all every match.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

int cmd_delete(struct cli *c)
{
	CK_OBJECT_HANDLE *h = NULL;
	size_t n = 0;
	int rc = 1;

	if (c->o.argc != 1) {
		cli_err("delete URI: one URI");
		return 1;
	}
	if (cli_token_for_object(c, c->o.argv[0]) != 0 ||
	    cli_login(c, CKU_USER) != 0 ||
	    cli_find(c, c->o.argv[0], (CK_OBJECT_CLASS)-1, &h, &n) != 0)
		return 1;
	if (n == 0) {
		cli_err("no object matches %s", c->o.argv[0]);
		goto out_free;
	}
	if (n > 1 && !c->o.all) {
		cli_err("%zu objects match %s; add id= or type=, or give --all",
			n, c->o.argv[0]);
		goto out_free;
	}
	for (size_t i = 0; i < n; i++) {
		CK_RV rv = c->f->C_DestroyObject(c->sess, h[i]);

		if (rv != CKR_OK) {
			cli_rv_err("C_DestroyObject", rv);
			goto out_free;
		}
	}
	printf("deleted %zu object%s\n", n, n == 1 ? "" : "s");
	rc = 0;
out_free:
	free(h);
	return rc;
}
