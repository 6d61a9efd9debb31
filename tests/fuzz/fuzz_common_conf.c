/*
 * fuzz_common_conf.c - the coffer.conf parser (common/conf.c) that
 * libcoffer.so runs at C_Initialize: the input is the file, read on top
 * of the built-in defaults by cf_conf_load_file. An operator's typo must
 * give an error naming the line, never crash.
 */
#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_file file;
	static int ready;
	static struct cf_conf c; /* 12 KiB: off the stack */
	char err[512];

	if (!ready) {
		fuzz_file_open(&file, "fuzz-coffer.conf");
		ready = 1;
	}
	fuzz_file_put(&file, data, size);
	cf_conf_defaults(&c);
	(void)cf_conf_load_file(&c, file.path, err, sizeof(err));
	return 0;
}
