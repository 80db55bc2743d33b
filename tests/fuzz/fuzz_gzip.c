/*
 * fuzz_gzip.c: libFuzzer harness for gzip bodies (ingest/gzip.c): any
 * bytes as a Content-Encoding: gzip body, inflated under a 64 KB bound,
 * which the output must never pass.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/sluice.h"
#include "ingest/gzip.h"

#define FUZZ_LIMIT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t len = 0;

	if (gzip_inflate(data, size, FUZZ_LIMIT, &out, &len) == SLUICE_OK &&
	    (len > FUZZ_LIMIT || out == NULL || out[len] != '\0'))
		__builtin_trap();
	free(out);
	return 0;
}
