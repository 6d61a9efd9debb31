/*
 * fuzz_server_request.c - cofferd's request decoder and dispatch: the
 * input is taken as the request payload of every function id in turn and
 * run against a stub module whose functions all return CKR_OK, so the
 * decoders, the policy hooks and the reply encoders all see hostile bytes.
 * A malformed payload must be refused (-EBADMSG), never crash or leak.
 * The same bytes are also taken as a CF_FRAME_CHAIN payload (a deferred
 * init, then the request) of every function id.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "server/dispatch.h"
#include "wire/conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cf_srv srv;
	static int ready;

	if (!ready) {
		/* The smallest frame a peer may negotiate keeps the output
		 * buffers, and so each run, small. */
		if (cf_srv_init(&srv, cf_srv_stub_list(), 1,
				CF_FRAME_MAX_FLOOR) != 0)
			abort();
		srv.audit = 0;
		srv.max_sessions = 8;
		ready = 1;
	}
	for (unsigned fn = 0; fn <= CF_SRV_FN_MAX + 1; fn++) {
		struct cf_wout w;
		uint16_t ifn = 0;
		int rc;

		cf_wout_init(&w, CF_FRAME_MAX_FLOOR);
		rc = cf_srv_dispatch(&srv, (uint16_t)fn, data, size, &w);
		if (rc != 0 && rc != -EBADMSG && rc != -ENOSYS && rc != -ENOMEM)
			abort();
		if (rc == 0 && w.len < 8)
			abort(); /* every reply starts with its rv */
		cf_wout_clear(&w);

		cf_wout_init(&w, CF_FRAME_MAX_FLOOR);
		rc = cf_srv_dispatch_chain(&srv, (uint16_t)fn, data, size, &w,
					   &ifn);
		if (rc != 0 && rc != -EBADMSG && rc != -ENOSYS && rc != -ENOMEM)
			abort();
		if (rc == 0 && w.len < 8)
			abort(); /* the init's rv comes first */
		cf_wout_clear(&w);
	}
	return 0;
}
