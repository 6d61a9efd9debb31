/*
 * fuzz_client_reply.c - what libcoffer-client.so does with a reply from a
 * hostile or broken server: arbitrary bytes as the reply payload of each
 * wire function, through the generated decoders, into scratch outputs of
 * realistic shapes (src/client/fuzz.c). The first byte picks the
 * function, the second the message mechanism that lays out a msgparam,
 * the rest is the payload. Nothing may crash, leak or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "client/stubs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const CK_MECHANISM_TYPE mechs[] = {CKM_AES_GCM, CKM_AES_CCM,
						  CKM_CHACHA20_POLY1305,
						  CKM_VENDOR_DEFINED};
	uint16_t fn;
	CK_MECHANISM_TYPE mech;

	if (size < 2)
		return 0;
	fn = cf_client_wire_ids[data[0] % CF_CLIENT_NWIRE];
	mech = mechs[data[1] % (sizeof(mechs) / sizeof(mechs[0]))];
	(void)cf_client_fuzz_reply(fn, mech, data + 2, size - 2);
	return 0;
}
